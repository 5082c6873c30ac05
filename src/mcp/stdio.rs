//! MCP over stdin/stdout: one JSON-RPC message per line. Unlike rmcp's own stdio transport,
//! which drops a line that is not JSON without a word, this one answers it with a JSON-RPC
//! parse error (`-32700`, `id: null`) and keeps serving, so a client that wrote a broken line
//! learns it instead of waiting for a reply that never comes.
//!
//! When stdin and stdout are pipes (as an MCP client spawns a server), they are read and
//! written by the runtime's own I/O driver, non-blocking: tokio's `stdin()`/`stdout()` hand
//! every read and write to a blocking thread, two thread hand-offs per message. A terminal or a
//! file (which cannot be polled) keeps tokio's blocking stdin/stdout.

use std::os::fd::{AsFd as _, OwnedFd};
use std::sync::Arc;

use nix::fcntl::{FcntlArg, OFlag, fcntl};
use rmcp::RoleServer;
use rmcp::model::{ClientJsonRpcMessage, ErrorCode, ServerJsonRpcMessage};
use rmcp::transport::Transport;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::unix::pipe;
use tokio::sync::Mutex;

/// Lines longer than this are refused (and skipped up to their end) instead of buffered, so a
/// client cannot make the server hold unbounded memory. The same bound as rmcp's transport.
pub(crate) const MAX_LINE: usize = 16 * 1024 * 1024;

/// Stdin's and stdout's file status flags as the server found them, put back when dropped. The
/// pipes are read and written non-blocking while the server serves, but O_NONBLOCK belongs to the
/// open pipe, shared with whoever else holds it (a wrapper script that reads on after the server
/// exits would otherwise find its stdin non-blocking).
pub(crate) struct PipeFlags(Vec<(OwnedFd, OFlag)>);

impl PipeFlags {
    /// Remembers the flags of stdin and stdout (whatever they are: a pipe, a file, a terminal).
    pub(crate) fn save() -> PipeFlags {
        let fds = [std::io::stdin().as_fd().try_clone_to_owned(), std::io::stdout().as_fd().try_clone_to_owned()];
        let saved = fds
            .into_iter()
            .flatten()
            .filter_map(|fd| {
                let flags = fcntl(&fd, FcntlArg::F_GETFL).ok()?;
                Some((fd, OFlag::from_bits_retain(flags)))
            })
            .collect();
        PipeFlags(saved)
    }
}

impl Drop for PipeFlags {
    fn drop(&mut self) {
        for (fd, flags) in &self.0 {
            if let Err(e) = fcntl(fd, FcntlArg::F_SETFL(*flags)) {
                tracing::debug!("cannot put back the flags of a standard stream: {e}");
            }
        }
    }
}

/// Stdin as an async reader: the pipe itself, polled by the runtime, when it is one.
pub(crate) fn input() -> Box<dyn AsyncRead + Unpin + Send> {
    let pipe = std::io::stdin().as_fd().try_clone_to_owned().and_then(pipe::Receiver::from_owned_fd);
    match pipe {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdin()),
    }
}

/// Stdout as an async writer: the pipe itself, polled by the runtime, when it is one.
pub(crate) fn output() -> Box<dyn AsyncWrite + Unpin + Send> {
    let pipe = std::io::stdout().as_fd().try_clone_to_owned().and_then(pipe::Sender::from_owned_fd);
    match pipe {
        Ok(pipe) => Box::new(pipe),
        Err(_) => Box::new(tokio::io::stdout()),
    }
}

/// JSON-RPC's code for input that is not JSON.
const PARSE_ERROR: ErrorCode = ErrorCode::PARSE_ERROR;
/// JSON-RPC's code for JSON that is not a valid request.
const INVALID_REQUEST: ErrorCode = ErrorCode::INVALID_REQUEST;

/// The server side of a line-delimited JSON-RPC stream.
pub(crate) struct LineTransport<R, W> {
    read: BufReader<R>,
    // The line being read; kept across cancelled `receive` calls so no bytes are lost.
    line: Vec<u8>,
    // Set while skipping the rest of an over-long line.
    discarding: bool,
    // Shared with in-flight sends and error replies, so whole lines never interleave.
    write: Arc<Mutex<W>>,
    // The error reply being written; the next line is read only once it is out, so a client
    // that writes garbage and never reads cannot pile up replies.
    replying: Option<tokio::task::JoinHandle<()>>,
}

/// What one read produced.
enum Read {
    Line,
    TooLong,
    Closed,
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin + Send + 'static> LineTransport<R, W> {
    /// A transport reading requests from `read` and writing replies to `write`.
    pub(crate) fn new(read: R, write: W) -> LineTransport<R, W> {
        LineTransport {
            read: BufReader::new(read),
            line: Vec::new(),
            discarding: false,
            write: Arc::new(Mutex::new(write)),
            replying: None,
        }
    }

    /// Reads one line into `self.line` without letting it grow past [`MAX_LINE`]. Cancel-safe:
    /// bytes are moved from the buffer to `self.line` without an await in between.
    async fn read_line(&mut self) -> Read {
        loop {
            let (consumed, done) = {
                let available = match self.read.fill_buf().await {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read stdin");
                        return Read::Closed;
                    }
                };
                if available.is_empty() {
                    return Read::Closed;
                }
                let newline = available.iter().position(|b| *b == b'\n');
                let take = newline.map_or(available.len(), |i| i + 1);
                if self.discarding {
                    if newline.is_some() {
                        self.discarding = false;
                    }
                    (take, None)
                } else if self.line.len().saturating_add(take) > MAX_LINE {
                    self.line.clear();
                    self.discarding = newline.is_none();
                    (take, Some(Read::TooLong))
                } else {
                    self.line.extend_from_slice(&available[..take]);
                    (take, newline.map(|_| Read::Line))
                }
            };
            self.read.consume(consumed);
            if let Some(done) = done {
                return done;
            }
        }
    }

    /// Writes an error reply in the background: a reply cut short by a cancelled `receive`
    /// would break the framing of every line after it.
    fn reply_error(&mut self, id: Value, code: ErrorCode, message: &str) {
        let reply = super::reply::jsonrpc_error(id, code, message);
        let write = Arc::clone(&self.write);
        self.replying = Some(tokio::spawn(async move {
            if let Err(e) = write_line(&write, &reply).await {
                tracing::warn!(error = %e, "cannot write to stdout");
            }
        }));
    }
}

async fn write_line<W: AsyncWrite + Unpin, T: serde::Serialize>(write: &Mutex<W>, message: &T) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(message).map_err(std::io::Error::other)?;
    line.push(b'\n');
    let mut write = write.lock().await;
    write.write_all(&line).await?;
    write.flush().await
}

/// How a line that is not a message is answered.
fn refusal(line: &[u8]) -> Option<(Value, ErrorCode, &'static str)> {
    match serde_json::from_slice::<Value>(line) {
        Err(_) => Some((Value::Null, PARSE_ERROR, "Parse error")),
        // A notification gets no reply, even an error (JSON-RPC 2.0, section 4.1).
        Ok(Value::Object(m)) if !m.contains_key("id") && m.contains_key("method") => None,
        Ok(Value::Object(m)) => {
            let id = m.get("id").filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or(Value::Null);
            Some((id, INVALID_REQUEST, "Invalid request"))
        }
        Ok(_) => Some((Value::Null, INVALID_REQUEST, "Invalid request")),
    }
}

impl<R, W> Transport<RoleServer> for LineTransport<R, W>
where
    R: AsyncRead + Unpin + Send,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Error = std::io::Error;

    fn send(&mut self, item: ServerJsonRpcMessage) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let write = Arc::clone(&self.write);
        async move { write_line(&write, &item).await }
    }

    async fn receive(&mut self) -> Option<ClientJsonRpcMessage> {
        loop {
            // Cancel-safe: a cancelled wait leaves the handle to wait on next time.
            if let Some(replying) = &mut self.replying {
                let _ = replying.await;
                self.replying = None;
            }
            match self.read_line().await {
                Read::Closed => return None,
                Read::TooLong => {
                    tracing::warn!(max = MAX_LINE, "a line on stdin is too long; skipped");
                    self.reply_error(Value::Null, INVALID_REQUEST, "Request too large");
                    continue;
                }
                Read::Line => {}
            }
            let line = std::mem::take(&mut self.line);
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            let text = text.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(text);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<ClientJsonRpcMessage>(text) {
                Ok(message) => return Some(message),
                Err(e) => {
                    tracing::debug!(error = %e, "a line on stdin is not a JSON-RPC message");
                    if let Some((id, code, message)) = refusal(text) {
                        self.reply_error(id, code, message);
                    }
                }
            }
        }
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.write.lock().await.flush().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refusals_follow_json_rpc() {
        assert_eq!(refusal(b"not json"), Some((Value::Null, PARSE_ERROR, "Parse error")));
        assert_eq!(refusal(br#"{"jsonrpc":"2.0","id":"#), Some((Value::Null, PARSE_ERROR, "Parse error")));
        assert_eq!(
            refusal(br#"{"jsonrpc":"2.0","id":7,"method":5}"#),
            Some((json!(7), INVALID_REQUEST, "Invalid request"))
        );
        assert_eq!(refusal(br#"[1,2]"#), Some((Value::Null, INVALID_REQUEST, "Invalid request")));
        assert_eq!(refusal(br#"{"jsonrpc":"2.0","method":"notifications/unheard_of","params":5}"#), None);
    }

    #[tokio::test]
    async fn a_broken_line_is_answered_and_the_next_one_is_read() {
        let input = b"{oops\n\n{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"ping\"}\n".to_vec();
        let (mut out_read, out_write) = tokio::io::duplex(4096);
        let mut transport = LineTransport::new(&input[..], out_write);
        let message = transport.receive().await.unwrap();
        assert!(matches!(message, rmcp::model::JsonRpcMessage::Request(_)));
        assert!(transport.receive().await.is_none(), "end of input");
        let mut reply = String::new();
        let mut lines = BufReader::new(&mut out_read).lines();
        if let Some(line) = lines.next_line().await.unwrap() {
            reply = line;
        }
        let reply: Value = serde_json::from_str(&reply).unwrap();
        assert_eq!(reply, json!({"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"Parse error"}}));
    }
}
