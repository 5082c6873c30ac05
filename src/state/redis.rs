//! The link to a Redis server that several server processes share state through (counters in
//! [`super::counters_redis`], approvals through [`RedisDoc`]): where it is
//! (`redis://[:PASSWORD@]HOST:PORT/N`, shown without its password), the timeouts that keep a
//! hung server from hanging a call, and reconnection on the next use after any error.
//!
//! Every use runs off the async runtime's worker ([`off_runtime`]): a store's methods are sync
//! and are called from async code, so a slow Redis must not stall the other calls a worker runs.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use super::{SharedDoc, StateError};

/// Every key this server writes starts with it, so one Redis (database) can hold other data.
pub const KEY_PREFIX: &str = "truenas-mcp:";

/// The longest a connect, a write or a read may take before the use fails (and the call that
/// needed it is denied).
pub const TIMEOUT: Duration = Duration::from_millis(500);

/// Idle connections kept for reuse; more are opened when more calls are in flight at once.
const MAX_IDLE: usize = 8;

/// A `--state` value that is not a usable Redis URL.
#[derive(Debug, thiserror::Error)]
pub enum RedisUrlError {
    /// Not `redis://`.
    #[error("unsupported state url scheme `{0}`: use `redis://HOST:PORT/N` (TLS `rediss://` is not supported)")]
    Scheme(String),
    /// `redis://` but not parsable (the text is not repeated: it may hold a password).
    #[error("the redis url does not parse: use `redis://[:PASSWORD@]HOST:PORT/N`")]
    Parse,
}

/// A Redis server to keep state in: the client (which holds the password) and how to name it.
#[derive(Clone)]
pub struct RedisTarget {
    client: redis::Client,
    /// `redis://HOST:PORT/N`, never the password.
    shown: String,
    /// Scrubbed from every error message.
    password: Option<String>,
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTarget").field("url", &self.shown).finish_non_exhaustive()
    }
}

impl PartialEq for RedisTarget {
    fn eq(&self, other: &RedisTarget) -> bool {
        self.shown == other.shown && self.password == other.password
    }
}

impl Eq for RedisTarget {}

impl RedisTarget {
    /// Parses `redis://[[USER]:PASSWORD@]HOST[:PORT][/N]`. The password is remembered as a
    /// secret (see [`crate::redact::remember_secret`]) and never shown.
    pub fn parse(url: &str) -> Result<RedisTarget, RedisUrlError> {
        let scheme = url.split_once("://").map_or("", |(s, _)| s);
        if scheme != "redis" {
            return Err(RedisUrlError::Scheme(scheme.to_owned()));
        }
        let client = redis::Client::open(url).map_err(|_| RedisUrlError::Parse)?;
        let info = client.get_connection_info();
        let redis::ConnectionAddr::Tcp(host, port) = info.addr() else {
            return Err(RedisUrlError::Parse);
        };
        let host = if host.contains(':') { format!("[{host}]") } else { host.clone() };
        let shown = format!("redis://{host}:{port}/{}", info.redis_settings().db());
        let password = info.redis_settings().password().map(str::to_owned).filter(|p| !p.is_empty());
        if let Some(p) = &password {
            crate::redact::remember_secret(p);
        }
        Ok(RedisTarget { client, shown, password })
    }

    /// `redis://HOST:PORT/N`, for logs and messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// An error's text with the password masked.
    fn scrub(&self, error: &redis::RedisError) -> String {
        let extra: Vec<String> = self.password.iter().cloned().collect();
        crate::redact::scrub_text_with(&error.to_string(), &extra)
    }
}

/// Connections to one Redis, opened on demand, each with [`TIMEOUT`] on connect, read and
/// write; a connection that saw an error is dropped, so the next use connects afresh.
pub struct RedisLink {
    target: RedisTarget,
    idle: Mutex<Vec<redis::Connection>>,
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisLink").field("target", &self.target).finish_non_exhaustive()
    }
}

impl RedisLink {
    /// A link to `target`; nothing is opened until the first use.
    pub fn new(target: RedisTarget) -> RedisLink {
        RedisLink { target, idle: Mutex::new(Vec::new()) }
    }

    /// Where it leads.
    pub fn target(&self) -> &RedisTarget {
        &self.target
    }

    /// Runs `op` on a connection, off the runtime's worker. An error (unreachable, timed out,
    /// refused by the server) drops every idle connection and comes back as text fit for a
    /// denial: the server's address, never its password.
    ///
    /// A kept connection that turns out dropped (Redis restarted since it was last used) is
    /// replaced and `op` tried once more on a fresh one. If the old server did run `op` before
    /// the connection dropped, it runs twice: a count taken twice refuses more, never less.
    pub fn with<T>(&self, mut op: impl FnMut(&mut redis::Connection) -> redis::RedisResult<T>) -> Result<T, String> {
        off_runtime(|| {
            let pooled = self.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let (mut conn, reused) = match pooled {
                Some(conn) => (conn, true),
                None => (self.connect().map_err(|e| self.failed(&e))?, false),
            };
            let mut result = op(&mut conn);
            if reused && result.as_ref().is_err_and(redis::RedisError::is_connection_dropped) {
                self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
                conn = self.connect().map_err(|e| self.failed(&e))?;
                result = op(&mut conn);
            }
            match result {
                Ok(value) => {
                    let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                    if idle.len() < MAX_IDLE {
                        idle.push(conn);
                    }
                    Ok(value)
                }
                // A timeout may leave a late reply in the connection, and the others were
                // opened to the same server: never reuse any after an error.
                Err(e) => {
                    self.idle.lock().unwrap_or_else(PoisonError::into_inner).clear();
                    Err(self.failed(&e))
                }
            }
        })
    }

    /// Whether Redis answers (`PING`), for a warning at start.
    pub fn ping(&self) -> Result<(), String> {
        self.with(|conn| redis::cmd("PING").query::<String>(conn)).map(drop)
    }

    fn connect(&self) -> redis::RedisResult<redis::Connection> {
        let conn = self.target.client.get_connection_with_timeout(TIMEOUT)?;
        conn.set_read_timeout(Some(TIMEOUT))?;
        conn.set_write_timeout(Some(TIMEOUT))?;
        Ok(conn)
    }

    fn failed(&self, error: &redis::RedisError) -> String {
        format!("redis at `{}` unavailable: {}", self.target.shown, self.target.scrub(error))
    }
}

/// Runs blocking `f` without stalling the async runtime: on a multi-thread runtime's worker
/// through [`tokio::task::block_in_place`] (the worker's other tasks move to another thread);
/// elsewhere (a blocking-pool thread, plain threads, a current-thread runtime, where
/// `block_in_place` is not allowed) it simply runs, bounded by [`TIMEOUT`].
pub fn off_runtime<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// One state document in Redis, a hash of its bytes and a version: every change is a
/// compare-and-set on the version (a Lua script), so processes sharing it never lose one
/// another's changes.
#[derive(Debug)]
pub struct RedisDoc {
    link: std::sync::Arc<RedisLink>,
    key: String,
}

/// Replaces the document only if its version is still the one read.
const REPLACE_SCRIPT: &str = r"
local v = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if v ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'v', v + 1, 'doc', ARGV[2])
return 1
";

impl RedisDoc {
    /// The document `name` (`truenas-mcp:doc:<name>`) over `link`.
    pub fn new(link: std::sync::Arc<RedisLink>, name: &str) -> RedisDoc {
        RedisDoc { link, key: format!("{KEY_PREFIX}doc:{name}") }
    }

    fn unavailable(&self, reason: String) -> StateError {
        StateError::Read { path: self.key.clone(), reason }
    }
}

impl SharedDoc for RedisDoc {
    fn load(&self) -> Result<(u64, Option<Vec<u8>>), StateError> {
        let (v, doc): (Option<u64>, Option<Vec<u8>>) = self
            .link
            .with(|conn| redis::cmd("HMGET").arg(&self.key).arg("v").arg("doc").query(conn))
            .map_err(|e| self.unavailable(e))?;
        Ok((v.unwrap_or(0), doc))
    }

    fn replace(&self, version: u64, bytes: &[u8]) -> Result<bool, StateError> {
        let script = redis::Script::new(REPLACE_SCRIPT);
        let done: i64 = self
            .link
            .with(|conn| script.key(&self.key).arg(version).arg(bytes).invoke(conn))
            .map_err(|e| StateError::Write { path: self.key.clone(), source: std::io::Error::other(e) })?;
        Ok(done == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_redis_url_is_shown_without_its_password() {
        let target = RedisTarget::parse("redis://:s3cret-pass-word@10.0.0.5:6380/2").unwrap();
        assert_eq!(target.shown(), "redis://10.0.0.5:6380/2");
        assert!(!format!("{target:?}").contains("s3cret"));
        let plain = RedisTarget::parse("redis://127.0.0.1").unwrap();
        assert_eq!(plain.shown(), "redis://127.0.0.1:6379/0");
    }

    #[test]
    fn other_schemes_and_garbage_are_refused_without_echoing_the_url() {
        for (url, word) in [("rediss://h:6379/0", "rediss"), ("unix:///tmp/redis.sock", "unix"), ("http://h/0", "http")]
        {
            let err = RedisTarget::parse(url).unwrap_err().to_string();
            assert!(err.contains(&format!("`{word}`")), "{err}");
        }
        let err = RedisTarget::parse("redis://:pw-in-bad-url@[::1/0").unwrap_err().to_string();
        assert!(!err.contains("pw-in-bad-url"), "{err}");
    }
}
