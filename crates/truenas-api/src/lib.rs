//! TrueNAS's API as data, shared by the truenas-mcp client and the simulated NAS: what both
//! sides of the wire must agree on and nothing else.
//!
//! - [`schema`]: TrueNAS's own method tables per release (params schemas, job flags, roles),
//!   embedded at build time, and the releases this crate knows. The tables are the JSON files
//!   in `schemas/` (made by `scripts/slim-schemas.py`); `build.rs` indexes them at build time
//!   so that nothing parses them at start, and a method is parsed on first use.
//! - [`errno`]: the errno numbers and names TrueNAS's errors carry, and the JSON-RPC codes
//!   TrueNAS answers with.
//! - [`rest`]: TrueNAS's REST rules (`/api/v2.0`), side by side: `rest::map`, the strict form
//!   for the REST client and the simulator, and `rest::lenient`, the form the raw escape hatch
//!   accepts.

pub mod errno;
pub mod rest;
pub mod schema;
