//! The `truenas-mcp` binary (being written).
fn main() {}
