//! End-to-end tests: the real `truenas-mcp` binary, real MCP clients over stdio and HTTP, and
//! the simulated TrueNAS over real sockets. One test binary (one link on 2 cores).

// Test code: a failed expectation is a panic with a message.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod util;

mod approvals;
mod approvals_page;
mod audit;
mod audit_chain;
mod browser;
mod cli;
mod compat;
mod conformance;
mod container;
mod elicitation;
mod every_action;
mod golden;
mod http;
mod hung_disk;
mod install;
mod limits;
mod logging;
mod mcp_surface;
mod overhead_bench;
mod policy_load;
mod policy_rules;
mod policy_tooling;
mod policy_windows;
mod python_client;
mod raw_api;
mod raw_guards;
mod redis_server;
mod redis_shared;
mod redis_store;
mod release27;
mod reliability;
mod rest;
mod rollout;
mod secrets;
mod standing;
mod stdio_pipes;
mod structured;
mod tls;
mod vm_actions;
mod wedge;
