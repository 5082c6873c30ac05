//! One websocket carrying JSON-RPC 2.0: request ids, matching replies to callers, the cap on
//! calls in flight, the size limit on replies, a keepalive ping that closes a silent
//! connection, and server notifications handed to a channel. Knows nothing of TrueNAS methods
//! beyond `core.ping`; the typed calls live above it in `session`.
//!
//! One call costs one hand-off between tasks: the caller writes its request frame itself (the
//! socket's write half sits behind an async mutex, so whole frames never interleave), and the
//! one reader task hands the parsed reply to it. The request is serialised from the caller's
//! params without copying them, and the reply's `result` is moved out of the parsed frame.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Map, Value, json};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio_tungstenite::tungstenite::error::CapacityError;
use tokio_tungstenite::tungstenite::{Error, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::error::{NasError, RpcError};

/// A server-to-client notification (`{"method": .., "params": ..}` without an id).
#[derive(Debug, Clone)]
pub(crate) struct Notification {
    pub(crate) method: String,
    pub(crate) params: Value,
}

/// Why a reply is not a result.
#[derive(Debug)]
enum Fault {
    /// TrueNAS answered with an error.
    Rpc(RpcError),
    /// The reply has neither `result` nor `error`.
    NoResult,
    /// A message exceeded the size limit; the connection was closed.
    TooLarge(usize),
}

type Reply = Result<Value, Fault>;
type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>;
// The socket's write half. INVARIANT: a frame is written whole under the lock; a caller
// dropped mid-write leaves its frame in tungstenite's buffer, flushed by the next write.
type Writer = Arc<tokio::sync::Mutex<SplitSink<WebSocketStream<MaybeTlsStream<TcpStream>>, Message>>>;

/// The websocket's read buffer, in bytes.
const READ_BUFFER: usize = 16 * 1024;

/// How long closing the socket may take (the close frame and the TCP shutdown).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A request as sent: serialised straight from the caller's params, without copying them.
#[derive(serde::Serialize)]
struct Request<'a> {
    jsonrpc: &'static str,
    id: u64,
    method: &'a str,
    params: &'a Value,
}

/// Limits of one connection.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Calls in flight at once (TrueNAS refuses past 20); the keepalive ping is one more.
    pub(crate) max_in_flight: usize,
    /// Largest reply accepted, in bytes; a larger one closes the connection.
    pub(crate) max_reply_bytes: usize,
}

/// A live JSON-RPC connection. Cloning shares it.
#[derive(Clone)]
pub(crate) struct Connection {
    writer: Writer,
    pending: Pending,
    next_id: Arc<AtomicU64>,
    // Bounds calls in flight below TrueNAS's per-connection hard limit of 20.
    slots: Arc<Semaphore>,
    closed: CancellationToken,
    // Set once the socket is gone, so a write after close is reported as "not sent".
    dead: Arc<AtomicBool>,
    // Dropping the last handle closes the connection (a failed login leaves no socket behind).
    _last: Arc<CloseOnDrop>,
}

/// Closes the connection when dropped.
struct CloseOnDrop(CancellationToken);

impl Drop for CloseOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Connection {
    /// Opens the websocket and starts its reader task (and a task that closes the socket once
    /// the connection is closed).
    ///
    /// The caller bounds the whole open (TCP, TLS, upgrade) with its connect deadline.
    pub(crate) async fn open(
        url: &str,
        tls: Option<Arc<rustls::ClientConfig>>,
        limits: Limits,
    ) -> Result<(Connection, mpsc::UnboundedReceiver<Notification>), NasError> {
        let connector = tls.map(tokio_tungstenite::Connector::Rustls);
        // tungstenite zero-fills its whole read buffer before every read: 128 KiB by default,
        // more than most replies; a larger reply takes a few more reads.
        let ws_config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER)
            .max_message_size(Some(limits.max_reply_bytes))
            .max_frame_size(Some(limits.max_reply_bytes));
        let (socket, _response) =
            tokio_tungstenite::connect_async_tls_with_config(url, Some(ws_config), true, connector)
                .await
                .map_err(|e| NasError::Connect { url: url.to_string(), reason: connect_reason(&e) })?;
        let (sink, mut stream) = socket.split();
        let writer: Writer = Arc::new(tokio::sync::Mutex::new(sink));
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
        let closed = CancellationToken::new();
        let dead = Arc::new(AtomicBool::new(false));

        // Idle until the connection closes (by `close`, the reader, or a failed write); then
        // sends the close frame, bounded: a caller stuck writing holds the lock until its own
        // deadline.
        let closer = Arc::clone(&writer);
        let closer_closed = closed.clone();
        tokio::spawn(async move {
            closer_closed.cancelled().await;
            let _ = tokio::time::timeout(CLOSE_TIMEOUT, async move { closer.lock().await.close().await }).await;
        });

        let reader_pending = Arc::clone(&pending);
        let reader_closed = closed.clone();
        let reader_dead = Arc::clone(&dead);
        tokio::spawn(async move {
            let mut too_large = None;
            loop {
                let frame = tokio::select! {
                    _ = reader_closed.cancelled() => break,
                    frame = stream.next() => frame,
                };
                match frame {
                    Some(Ok(Message::Text(text))) => dispatch(&text, &reader_pending, &events_tx),
                    Some(Err(Error::Capacity(CapacityError::MessageTooLong { max_size, .. }))) => {
                        tracing::warn!(
                            max_size,
                            "a message from TrueNAS exceeds the size limit; closing the connection"
                        );
                        too_large = Some(max_size);
                        break;
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                }
            }
            reader_dead.store(true, Ordering::SeqCst);
            reader_closed.cancel();
            let waiting: Vec<_> = reader_pending.lock().unwrap_or_else(|p| p.into_inner()).drain().collect();
            for (_, waiter) in waiting {
                // Which reply was too large cannot be known: every waiting caller hears it.
                // Otherwise dropping the sender wakes the caller with "connection lost".
                if let Some(limit) = too_large {
                    let _ = waiter.send(Err(Fault::TooLarge(limit)));
                }
            }
        });

        let connection = Connection {
            writer,
            pending,
            next_id: Arc::new(AtomicU64::new(1)),
            slots: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
            _last: Arc::new(CloseOnDrop(closed.clone())),
            closed,
            dead,
        };
        Ok((connection, events_rx))
    }

    /// Pings the NAS with `core.ping` every `every`; a ping unanswered within `every` closes
    /// the connection, so calls waiting on it fail with "connection lost" and the next call
    /// connects anew. Ends when the connection closes. Started once set-up is done, so a slow
    /// login is reported as such.
    pub(crate) fn keep_alive(&self, every: Duration) {
        let conn = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = conn.closed.cancelled() => break,
                    _ = tokio::time::sleep(every) => {}
                }
                match conn.send_and_wait("core.ping", &json!([]), Instant::now() + every, every).await {
                    Ok(_) | Err(NasError::Rpc(_)) => {}
                    Err(NasError::Timeout { .. }) => {
                        tracing::warn!(
                            after_ms = every.as_millis() as u64,
                            "TrueNAS did not answer a keepalive ping; closing the connection"
                        );
                        conn.close();
                        break;
                    }
                    Err(_) => break,
                }
            }
        });
    }

    /// Whether the socket is gone.
    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Resolves once the socket is gone.
    pub(crate) async fn closed(&self) {
        self.closed.cancelled().await
    }

    /// A token cancelled once the socket is gone, for a watcher that must not keep it open.
    pub(crate) fn closed_signal(&self) -> CancellationToken {
        self.closed.clone()
    }

    /// Closes the socket; outstanding calls fail with "connection lost".
    pub(crate) fn close(&self) {
        self.closed.cancel();
    }

    /// Calls `method` and waits for its reply: at most `timeout` in all, waiting for a free
    /// slot included.
    pub(crate) async fn call(&self, method: &str, params: &Value, timeout: Duration) -> Result<Value, NasError> {
        let deadline = Instant::now() + timeout;
        let lost = |sent: bool| NasError::ConnectionLost { method: method.to_string(), sent };
        let _slot = tokio::select! {
            slot = self.slots.acquire() => slot.map_err(|_| lost(false))?,
            _ = self.closed.cancelled() => return Err(lost(false)),
            _ = tokio::time::sleep_until(deadline) => {
                return Err(NasError::Busy { method: method.to_string(), after: timeout });
            }
        };
        self.send_and_wait(method, params, deadline, timeout).await
    }

    /// Sends one request, without taking a slot, and waits for its reply until `deadline`
    /// (`timeout` is what a late reply's error reports).
    async fn send_and_wait(
        &self,
        method: &str,
        params: &Value,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<Value, NasError> {
        let lost = |sent: bool| NasError::ConnectionLost { method: method.to_string(), sent };
        if self.is_closed() || self.dead.load(Ordering::SeqCst) {
            return Err(lost(false));
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).insert(id, tx);
        let request = match serde_json::to_string(&Request { jsonrpc: "2.0", id, method, params }) {
            Ok(text) => text,
            Err(e) => {
                self.forget(id);
                return Err(NasError::Protocol(format!("cannot encode the request to `{method}`: {e}")));
            }
        };
        // Written by the caller itself: no hand-off to a writer task.
        let sent = tokio::time::timeout_at(deadline, async {
            let mut writer = self.writer.lock().await;
            if self.is_closed() {
                return Err(false);
            }
            // Unless the socket was already closed, part of the frame may have gone out: a
            // failed write counts as sent (so a write is never retried or refunded).
            writer.send(Message::text(request)).await.map_err(|e| !matches!(e, Error::AlreadyClosed))
        })
        .await;
        let reply = match sent {
            Ok(Err(sent)) => {
                self.forget(id);
                self.close();
                return Err(lost(sent));
            }
            Err(_elapsed) => {
                self.forget(id);
                return Err(NasError::Timeout { method: method.to_string(), after: timeout, write: false });
            }
            Ok(Ok(())) => tokio::time::timeout_at(deadline, rx).await,
        };
        self.forget(id);
        match reply {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(Fault::Rpc(rpc)))) => Err(NasError::Rpc(rpc)),
            Ok(Ok(Err(Fault::NoResult))) => {
                Err(NasError::Protocol(format!("the reply to `{method}` has neither `result` nor `error`")))
            }
            Ok(Ok(Err(Fault::TooLarge(limit)))) => Err(NasError::ReplyTooLarge { method: method.to_string(), limit }),
            Ok(Err(_closed)) => Err(lost(true)),
            Err(_elapsed) => Err(NasError::Timeout { method: method.to_string(), after: timeout, write: false }),
        }
    }

    fn forget(&self, id: u64) {
        self.pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
    }
}

/// Routes one incoming text frame: a reply to its caller, a notification to the channel.
fn dispatch(text: &str, pending: &Pending, events: &mpsc::UnboundedSender<Notification>) {
    let mut message = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(message)) => message,
        // JSON that is no object is neither a reply nor a notification.
        Ok(_) => return,
        Err(_) => {
            tracing::warn!("ignoring a frame from TrueNAS that is not JSON");
            return;
        }
    };
    match message.get("id").and_then(Value::as_u64) {
        Some(id) => {
            let waiter = pending.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
            let Some(waiter) = waiter else { return };
            let _ = waiter.send(reply_of(&mut message));
        }
        None => {
            if let Some(Value::String(method)) = message.remove("method") {
                let params = message.remove("params").unwrap_or(Value::Null);
                let _ = events.send(Notification { method, params });
            }
        }
    }
}

/// The outcome a reply carries, its `result` moved out rather than copied.
fn reply_of(message: &mut Map<String, Value>) -> Reply {
    match (message.remove("error"), message.remove("result")) {
        (Some(error), _) if !error.is_null() => Err(Fault::Rpc(RpcError::from_json(&error))),
        (_, Some(result)) => Ok(result),
        // Neither: never read as a successful `null`.
        (_, None) => Err(Fault::NoResult),
    }
}

/// Why a connection failed, with the remedy when it is the certificate.
fn connect_reason(e: &tokio_tungstenite::tungstenite::Error) -> String {
    let reason = e.to_string();
    if reason.contains("invalid peer certificate") {
        format!(
            "{reason} (trust the NAS's CA or self-signed certificate with TRUENAS_CA_FILE, \
             or turn checks off for this NAS with TRUENAS_VERIFY_SSL=false)"
        )
    } else {
        reason
    }
}

#[cfg(test)]
#[path = "rpc_tests.rs"]
mod tests;
