//! MCP logging through the real binary: nothing is sent before the client sets a level; then
//! connection events (lost, reconnected) and job progress arrive as `notifications/message`
//! at that level and above, naming neither the NAS's address, the user nor the key.
// MCP logging is deprecated by SEP-2577 in rmcp; clients of 2025-06-18 and 2025-11-25 use it.
#![allow(deprecated)]

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rmcp::model::{ClientConfig, LoggingLevel, LoggingMessageNotificationParam, SetLevelRequestParams};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceExt};
use serde_json::{Value, json};

use crate::util::*;

/// Records the log messages the server sends.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<LoggingMessageNotificationParam>>>);

impl ClientHandler for Logs {
    async fn on_logging_message(&self, params: LoggingMessageNotificationParam, _: NotificationContext<RoleClient>) {
        self.0.lock().unwrap().push(params);
    }

    fn get_info(&self) -> ClientConfig {
        ClientConfig::default()
    }
}

impl Logs {
    fn take(&self) -> Vec<LoggingMessageNotificationParam> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }

    /// Waits (bounded) until a message of `logger` whose data says `event` has arrived.
    async fn wait_for(&self, logger: &str, key: &str, value: &str) -> bool {
        for _ in 0..100 {
            let seen =
                self.0.lock().unwrap().iter().any(|m| m.logger.as_deref() == Some(logger) && m.data[key] == value);
            if seen {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }
}

type LogSession = RunningService<RoleClient, Logs>;

/// Calls a flat tool.
async fn call(session: &LogSession, action: &str, args: Value) -> rmcp::model::CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    let request = rmcp::model::CallToolRequestParams::new(action.to_string()).with_arguments(args);
    session.call_tool(request).await.unwrap()
}

async fn connect(nas: &truenas_sim::SimHandle, args: &[&str]) -> (LogSession, Logs) {
    let mut cmd = command(nas);
    cmd.args(args);
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::inherit()).spawn().unwrap();
    let logs = Logs::default();
    let session = logs.clone().serve(transport).await.unwrap();
    (session, logs)
}

#[tokio::test]
async fn the_server_declares_logging_and_sends_nothing_until_a_level_is_set() {
    let nas = start_sim().await;
    let (session, logs) = connect(&nas, &["--tool-mode", "flat"]).await;
    let info = session.peer_info().unwrap();
    assert!(info.capabilities.logging.is_some(), "{:?}", info.capabilities);
    // A job with progress, and a lost connection, with no level set.
    let stopped = call(&session, "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    nas.faults().drop_connection_on("vm.query");
    let listed = call(&session, "vm_list", json!({})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    session.peer().set_level(SetLevelRequestParams::new(LoggingLevel::Emergency)).await.unwrap();
    assert!(logs.take().is_empty());
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn connection_events_and_job_progress_arrive_at_the_level_set_and_name_no_secrets() {
    let nas = start_sim().await;
    let (session, logs) = connect(&nas, &["--tool-mode", "flat"]).await;
    // Connected before anything else happens.
    assert!(!is_error(&call(&session, "system_version", json!({})).await));
    session.peer().set_level(SetLevelRequestParams::new(LoggingLevel::Info)).await.unwrap();

    // A job's progress, as info messages of the call's action.
    let stopped = call(&session, "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    let jobs: Vec<Value> =
        logs.take().into_iter().filter(|m| m.logger.as_deref() == Some("truenas.jobs")).map(|m| m.data).collect();
    assert!(jobs.len() >= 2, "{jobs:?}");
    assert!(jobs.iter().all(|d| d["action"] == "vm_stop" && d["job"].is_u64()), "{jobs:?}");
    assert!(jobs.windows(2).all(|w| w[0]["percent"].as_f64() <= w[1]["percent"].as_f64()), "{jobs:?}");

    // The NAS drops the connection: lost (warning), then the read is retried and it is back.
    nas.faults().drop_connection_on("vm.query");
    let listed = call(&session, "vm_list", json!({})).await;
    assert!(!is_error(&listed), "{}", text(&listed));
    assert!(logs.wait_for("truenas.connection", "event", "lost").await, "no `lost` event");
    assert!(logs.wait_for("truenas.connection", "event", "reconnected").await, "no `reconnected` event");
    let events = logs.take();
    let lost = events.iter().find(|m| m.data["event"] == "lost").unwrap();
    assert_eq!(lost.level, LoggingLevel::Warning);
    let back = events.iter().find(|m| m.data["event"] == "reconnected").unwrap();
    assert_eq!((back.level, back.data["release"].clone()), (LoggingLevel::Notice, json!("25.10")));
    let all = serde_json::to_string(&events.iter().map(|m| &m.data).collect::<Vec<_>>()).unwrap();
    let port = nas.url().rsplit(':').next().unwrap_or_default().to_string();
    for secret in [truenas_sim::DEMO_API_KEY, truenas_sim::DEMO_USERNAME, "127.0.0.1", port.as_str()] {
        assert!(!all.contains(secret), "`{secret}` in {all}");
    }

    // At warning, the notice of the next reconnection is not sent, the loss is.
    session.peer().set_level(SetLevelRequestParams::new(LoggingLevel::Warning)).await.unwrap();
    nas.faults().drop_connection_on("vm.query");
    assert!(!is_error(&call(&session, "vm_list", json!({})).await));
    assert!(logs.wait_for("truenas.connection", "event", "lost").await, "no `lost` event at warning");
    // A job again: its info messages stay out.
    assert!(!is_error(&call(&session, "vm_start", json!({"id": 1})).await));
    let stopped = call(&session, "vm_stop", json!({"id": 1})).await;
    assert!(!is_error(&stopped), "{}", text(&stopped));
    let events = logs.take();
    assert!(events.iter().all(|m| m.level == LoggingLevel::Warning), "{events:?}");
    session.cancel().await.unwrap();
}
