//! One websocket connection speaking the middleware's JSON-RPC 2.0: text frames only, calls
//! run concurrently (10 at a time, 20 in flight at most), every call recorded before anything
//! else, faults applied, replies and subscribed events sent through one writer.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_util::sync::CancellationToken;

use super::dispatch;
use super::events::Event;
use super::failure::{Failure, code};
use super::faults::InjectedError;
use super::machine::Machine;
use super::session::Session;
use super::tls::Peer;
use super::wire;
use truenas_api::schema::MethodTable;

/// Calls one connection may have in flight; the next one is refused with `-32000`.
const MAX_IN_FLIGHT: usize = 20;
/// Calls of one connection that run at the same time; the others wait their turn.
const MAX_RUNNING: usize = 10;
/// Largest message before login; larger ones close the socket.
const UNAUTHENTICATED_LIMIT: usize = 8 * 1024;
/// Largest message after login.
const AUTHENTICATED_LIMIT: usize = 64 * 1024;
const CLOSE_UNSUPPORTED_DATA: u16 = 1003;
const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

enum Outgoing {
    Text(String),
    Close(u16, &'static str),
}

/// How the read side ended.
enum End {
    /// The peer closed, the socket failed, or the server is shutting down.
    Closed,
    /// We queued a close frame; let the writer send it.
    Graceful,
    /// Drop the socket without a word (fault injection).
    Abrupt,
}

struct Connection {
    machine: Arc<Machine>,
    session: Arc<Session>,
    out: mpsc::UnboundedSender<Outgoing>,
    in_flight: Arc<AtomicUsize>,
    running: Arc<Semaphore>,
}

/// Decrements the in-flight count when a call finishes, however it finishes.
struct InFlight(Arc<AtomicUsize>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Serves one upgraded websocket until it closes or the simulated NAS shuts down.
pub(crate) async fn serve(socket: WebSocket, machine: Arc<Machine>, peer: Peer) {
    let session = Arc::new(Session::new(machine.next_connection_id(), peer.secure()));
    tracing::debug!(connection = session.id, peer = %peer.addr, "simulated NAS: websocket connected");
    let (sink, stream) = socket.split();
    let (out, out_rx) = mpsc::unbounded_channel();
    let closing = machine.shutdown.child_token();
    let mut writer = tokio::spawn(write_loop(sink, out_rx, closing.clone()));
    let events = machine.events.subscribe();
    let faults = machine.faults.clone();
    let forwarder = tokio::spawn(forward_events(events, faults, Arc::clone(&session), out.clone(), closing.clone()));
    let id = session.id;
    let connection =
        Connection { machine, session, out, in_flight: Arc::default(), running: Arc::new(Semaphore::new(MAX_RUNNING)) };
    let end = connection.read_loop(stream, &closing).await;
    drop(connection);
    if matches!(end, End::Graceful) {
        let _ = tokio::time::timeout(Duration::from_secs(1), &mut writer).await;
    }
    closing.cancel();
    let _ = writer.await;
    let _ = forwarder.await;
    tracing::debug!(connection = id, "simulated NAS: websocket closed");
}

async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut outgoing: mpsc::UnboundedReceiver<Outgoing>,
    closing: CancellationToken,
) {
    loop {
        let next = tokio::select! {
            message = outgoing.recv() => message,
            () = closing.cancelled() => None,
        };
        match next {
            Some(Outgoing::Text(text)) => {
                if sink.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            Some(Outgoing::Close(code, reason)) => {
                let _ = sink.send(Message::Close(Some(CloseFrame { code, reason: reason.into() }))).await;
                break;
            }
            None => break,
        }
    }
}

async fn forward_events(
    mut events: broadcast::Receiver<Event>,
    faults: super::faults::Faults,
    session: Arc<Session>,
    out: mpsc::UnboundedSender<Outgoing>,
    closing: CancellationToken,
) {
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            () = closing.cancelled() => break,
        };
        match event {
            Ok(event) if session.wants(&event.collection) && !faults.events_muted() => {
                if out.send(Outgoing::Text(event.to_notification().to_string())).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(connection = session.id, missed, "simulated NAS: a slow client missed events");
            }
            Err(broadcast::error::RecvError::Closed) => break,
        }
    }
}

impl Connection {
    async fn read_loop(&self, mut stream: SplitStream<WebSocket>, closing: &CancellationToken) -> End {
        loop {
            let frame = tokio::select! {
                frame = stream.next() => frame,
                () = closing.cancelled() => return End::Closed,
            };
            match frame {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return End::Closed,
                Some(Ok(Message::Text(text))) => {
                    if let Some(end) = self.on_text(text.as_str()) {
                        return end;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    self.send(Outgoing::Close(CLOSE_UNSUPPORTED_DATA, "Invalid websocket message type: BINARY"));
                    return End::Graceful;
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            }
        }
    }

    fn send(&self, message: Outgoing) {
        // A closed writer means the socket is gone; there is nobody left to tell.
        let _ = self.out.send(message);
    }

    fn reply(&self, message: Value) {
        self.send(Outgoing::Text(message.to_string()));
    }

    /// Handles one text frame; `Some` ends the connection.
    fn on_text(&self, text: &str) -> Option<End> {
        let limit = if self.session.is_authenticated() { AUTHENTICATED_LIMIT } else { UNAUTHENTICATED_LIMIT };
        if text.len() > limit {
            self.send(Outgoing::Close(CLOSE_MESSAGE_TOO_BIG, "Max message length exceeded"));
            return Some(End::Graceful);
        }
        let message: Value = match serde_json::from_str(text) {
            Ok(message) => message,
            Err(e) => {
                self.reply(wire::error(&Value::Null, code::INVALID_JSON, &e.to_string()));
                return None;
            }
        };
        let Some(message) = message.as_object() else {
            self.reply(wire::error(&Value::Null, code::INVALID_REQUEST, "Invalid request"));
            return None;
        };
        let id = message.get("id").cloned();
        let params = message.get("params").cloned().unwrap_or_else(|| Value::Array(Vec::new()));
        let method = message.get("method").and_then(Value::as_str).unwrap_or_default();
        if !method.is_empty() {
            self.machine.recorder.record(self.session.id, method, &params);
        }
        if let Err(reason) = wire::check_envelope(message) {
            if let Some(id) = &id {
                self.reply(wire::error(id, code::INVALID_REQUEST, reason));
            }
            return None;
        }
        tracing::debug!(connection = self.session.id, method, "simulated NAS: call");
        if self.machine.faults.take_drop(method) {
            tracing::debug!(connection = self.session.id, method, "simulated NAS: dropping the connection (fault)");
            return Some(End::Abrupt);
        }
        if MethodTable::get(self.machine.config.release).method(method).is_none() {
            if let Some(id) = &id {
                self.reply(wire::error(id, code::METHOD_NOT_FOUND, "Method does not exist"));
            }
            return None;
        }
        if self.in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if let Some(id) = &id {
                let text = format!("Maximum number of concurrent calls ({MAX_IN_FLIGHT}) has exceeded");
                self.reply(wire::error(id, code::TOO_MANY_CONCURRENT_CALLS, &text));
            }
            return None;
        }
        if self.machine.faults.is_silent() {
            tracing::debug!(connection = self.session.id, method, "simulated NAS: leaving the call unanswered (fault)");
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return None;
        }
        if self.machine.faults.take_no_result(method) {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            if let Some(id) = &id {
                self.reply(serde_json::json!({"jsonrpc": "2.0", "id": id}));
            }
            return None;
        }
        let injected = self.machine.faults.take_failure(method);
        self.spawn_call(id, method.to_string(), params, injected);
        None
    }

    fn spawn_call(&self, id: Option<Value>, method: String, params: Value, injected: Option<InjectedError>) {
        let in_flight = InFlight(Arc::clone(&self.in_flight));
        let machine = Arc::clone(&self.machine);
        let session = Arc::clone(&self.session);
        let running = Arc::clone(&self.running);
        let out = self.out.clone();
        tokio::spawn(async move {
            let _in_flight = in_flight;
            let Ok(_running) = running.acquire_owned().await else { return };
            let result = match injected {
                Some(e) => Err(Failure::injected(&e.errname, &e.reason)),
                None => dispatch::call(&machine, &session, id.as_ref(), &method, &params).await,
            };
            let latency = machine.faults.latency_of(&method);
            if !latency.is_zero() {
                tokio::time::sleep(latency).await;
            }
            let Some(id) = id else { return };
            let reply = match result {
                Ok(value) => wire::result(&id, value),
                Err(failure) => {
                    // The reason is left out: like TrueNAS's, it may echo argument values.
                    tracing::debug!(connection = session.id, %method, "simulated NAS: call failed");
                    wire::error_object(&id, failure.to_rpc_error())
                }
            };
            let _ = out.send(Outgoing::Text(reply.to_string()));
        });
    }
}
