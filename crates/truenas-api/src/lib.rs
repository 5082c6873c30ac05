//! TrueNAS's API as data, shared by the truenas-mcp client and the simulated NAS: what both
//! sides of the wire must agree on and nothing else.
//!
//! - [`schema`]: TrueNAS's own method tables per release (params schemas, job flags, roles),
//!   embedded at build time, and the releases this crate knows.
//! - [`errno`]: the errno numbers and names TrueNAS's errors carry.
//! - [`rest`]: TrueNAS's REST rules (`/api/v2.0`), strict for the REST client and the simulator,
//!   lenient for the raw escape hatch.

pub mod errno;
pub mod rest;
pub mod schema;
