//! truenas-mcp: an MCP server for TrueNAS SCALE whose every tool call passes an in-process
//! policy layer before it reaches the NAS.
//!
//! # Layout
//!
//! A call flows through the modules in one direction:
//!
//! ```text
//! MCP request -> mcp (resolve action, validate args) -> policy (Decision) -> nas (JSON-RPC call, job wait) -> result
//!                                                        \-> audit record (always, allowed or not)
//! ```
//!
//! - [`app`]: assembles the pieces from a `Config` (and starts the simulated NAS for `--demo`).
//! - [`config`]: environment variables and flags, resolved into one `Config`.
//! - `errno`: TrueNAS's errno numbers and names, shared by the client and the simulated NAS.
//! - [`jcs`]: RFC 8785 canonical JSON, for argument digests and the audit chain.
//! - [`ids`]: newtypes for actions, middleware methods, grants, rule ids and job ids.
//! - [`schema`]: TrueNAS's own method tables per release (params schemas, job flags).
//! - [`catalog`]: the tool set as data (`tools/*.toml`): actions, their arguments and how each
//!   maps to a middleware call.
//! - [`policy`]: the guardrail engine: the policy document, decisions, rate limits, audit. The
//!   only maker of a [`policy::Permit`].
//! - [`nas`]: the TrueNAS client: websocket JSON-RPC 2.0 (REST `/api/v2.0` on releases without
//!   it), TLS per connection, authentication, jobs, reconnects. Its only call path consumes a
//!   `Permit`.
//! - [`gateway`]: the one path every call takes: validate, decide, call, audit.
//! - [`state`]: state that outlives the process (approvals; later counters): the state
//!   directory, atomic file writes behind a small `Backend` trait, and the control socket the
//!   `approvals` CLI talks to.
//! - [`redact`]: the one list of secret-bearing fields and the one scrubber: masks secret values
//!   in results, and the API key, bearer tokens and URL passwords in errors, audit and log lines.
//! - [`reload`]: reloading the policy files while serving (SIGHUP, file change), atomically,
//!   keeping the old policy when the new one is bad.
//! - [`mcp`]: the MCP surface (rmcp `ServerHandler`): the `truenas` tool, flat tools,
//!   resources, progress; stdio and streamable HTTP wiring.
//! - [`sim`]: a simulated TrueNAS on a real socket, for the demo and the tests.

pub mod app;
pub mod catalog;
pub mod config;
pub mod gateway;
pub mod ids;
pub mod jcs;
pub mod mcp;
pub mod nas;
pub mod policy;
pub mod redact;
pub mod reload;
pub use truenas_api::schema;
pub mod state;
