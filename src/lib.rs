//! truenas-mcp: an MCP server for TrueNAS SCALE whose every tool call passes an in-process
//! policy layer before it reaches the NAS.
//!
//! # Layout
//!
//! The server is the root package of a Cargo workspace of three crates:
//!
//! - this one, the server (`src/`, the tool set in `tools/`, example policies in `policy/`,
//!   end-to-end tests in `tests/`);
//! - `truenas_api` (`crates/truenas-api`): TrueNAS's API as data, shared with the simulator:
//!   the method tables per release (re-exported here as [`schema`]), `truenas_api::errno`
//!   (errno numbers and names, and the JSON-RPC codes TrueNAS answers with: the only home of
//!   such numbers) and `truenas_api::rest` (TrueNAS's REST rules, strict and lenient);
//! - `truenas_sim` (`crates/truenas-sim`): the simulated TrueNAS, a dependency only behind the
//!   default feature `sim` (`--demo`, the `sim` subcommand; `--no-default-features` builds a
//!   server without it) and a dev-dependency of the tests, with its feature `testing` (the
//!   in-process `truenas_sim::testing::Harness`).
//!
//! Tests: unit tests beside the code they test, as `x_tests.rs` (`#[path]` child modules;
//! `policy/decision_tests/` holds deciding's, one file per feature); end-to-end tests in
//! `tests/`, one binary (`tests/tests.rs`) that starts the simulated NAS on 127.0.0.1 and spawns
//! the real binary (helpers in `tests/util.rs`; the Python `mcp` clients in `tests/python/`,
//! run by `tests/python_client.rs`). Benches in `benches/` print figures (`policy`, `audit`,
//! `approvals`, `startup`, `overhead`).
//!
//! A call flows through the modules in one direction:
//!
//! ```text
//! MCP request -> mcp (resolve action) -> gateway: validate args (ValidArgs) -> policy (Decision)
//!             -> catalog mapping (ValidArgs -> method, params) -> nas (JSON-RPC call, job wait) -> result
//!                                          \-> audit record (always, allowed or not)
//! ```
//!
//! - [`app`]: assembles the pieces from a `Config` (and starts the simulated NAS for `--demo`).
//! - [`config`]: environment variables and flags, resolved into one `Config`.
//! - [`jcs`]: RFC 8785 canonical JSON, for argument digests and the audit chain.
//! - [`ids`]: newtypes for actions, middleware methods, grants, rule ids and job ids.
//! - [`catalog`]: the tool set as data (`tools/*.toml`): actions, their arguments, and how each
//!   maps to a middleware call (lexed into JSON at build time by `build.rs`, so that a start
//!   parses no TOML). Its validator is the only maker of a [`catalog::ValidArgs`],
//!   which the mapping takes: arguments are validated once. The tests of each tools file are
//!   beside it as `src/catalog/<file>_tests.rs`.
//! - [`policy`]: the guardrail engine: the policy document and its loader (`load`, limits in
//!   `load_limits`), decisions, rate limits, the audit log (records in `audit_record`, the writer
//!   in `audit`, the hash chain in `audit_chain`). The only maker of a [`policy::Permit`].
//! - [`nas`]: the TrueNAS client: websocket JSON-RPC 2.0 (REST `/api/v2.0` on releases without
//!   it), TLS per connection, authentication, jobs, reconnects. Its only call path consumes a
//!   `Permit`.
//! - [`gateway`]: the one path every call takes: validate, decide (`authorize`: the call and its
//!   raw twins, and the shadow policy beside it), call, audit.
//! - [`state`]: state that outlives the process (approvals, limit counters): the state
//!   directory or Redis, atomic file writes behind a small `Backend` trait, and the control
//!   socket the `approvals` CLI talks to.
//! - [`redact`]: the one list of secret-bearing fields and the one scrubber: masks secret values
//!   in results, and the API key, bearer tokens and URL passwords in errors, audit and log lines.
//! - [`reload`]: reloading the policy files while serving (SIGHUP, file change), atomically,
//!   keeping the old policy when the new one is bad.
//! - [`mcp`]: the MCP surface (rmcp `ServerHandler`): the `truenas` tool, flat tools,
//!   resources, progress, approval by elicitation; stdio and streamable HTTP wiring. Its
//!   `reply` module is the one translator of outcomes into MCP replies: tool results, and every
//!   JSON-RPC error, with rmcp's error codes only (a refusal by the policy is a denial on every
//!   surface, never an internal error).

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
