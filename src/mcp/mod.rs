//! The MCP surface: the rmcp `ServerHandler` (the `truenas` tool or one tool per action with
//! structured results, resources, progress, logging, approval by elicitation), and its wiring to
//! stdio and streamable HTTP. Policy and NAS access stay in the gateway; this module only speaks
//! MCP.
//!
//! Files: `handler` (the `ServerHandler`: tools, resources, job progress), `hierarchical` (the
//! single `truenas` tool and its listings), `output` (flat tools' `outputSchema` and
//! `structuredContent`), `reply` (every outcome's wire form, errors included, in one place),
//! `resources` (`truenas://` reads through catalog actions), `elicit` (approval by form
//! elicitation), `logging` (`logging/setLevel` and log notifications), `session` (what one MCP
//! session keeps apart), `stdio` (the line transport over stdin/stdout), `http` (streamable
//! HTTP: tokens, sessions bound to grants, the approvals page, `/metrics`).

mod elicit;
mod handler;
mod hierarchical;
pub mod http;
mod logging;
mod output;
mod reply;
mod resources;
mod session;
mod stdio;

pub use handler::TrueNasServer;

use rmcp::ServiceExt;

/// Serves MCP on stdin/stdout until the client goes away. A line that is not JSON gets a
/// JSON-RPC parse error and the next line is read.
pub async fn serve_stdio(server: TrueNasServer) -> std::io::Result<()> {
    // Dropped last, after the transport: the pipes are left as they were found.
    let _flags = stdio::PipeFlags::save();
    let transport = stdio::LineTransport::new(stdio::input(), stdio::output());
    let running = server.serve(transport).await.map_err(std::io::Error::other)?;
    running.waiting().await.map_err(std::io::Error::other)?;
    Ok(())
}
