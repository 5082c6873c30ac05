//! Which grant owns which MCP session over HTTP. rmcp's session manager knows sessions but not
//! who opened them: without this table any valid token could use, stream from or close another
//! token's session by its `Mcp-Session-Id`. This layer answers such requests exactly as for an
//! unknown session (404), and caps how many sessions one grant holds open, so a client cannot
//! make the server hold unbounded memory (sessions also expire when idle, see
//! [`super::SESSION_IDLE`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;

use crate::ids::GrantId;

/// The header naming the session of a request (and of an `initialize` response).
const SESSION_HEADER: &str = "mcp-session-id";

/// rmcp's answer to an unknown session, repeated word for word for a session of another grant.
const NOT_FOUND_BODY: &str = "Not Found: Session not found";

/// The owner of every live session, and the sessions being opened.
pub(super) struct Sessions {
    // rmcp's own table: a session missing there has ended (closed, idle, or failed).
    manager: Arc<LocalSessionManager>,
    // Most sessions (open or being opened) one grant may hold.
    cap: usize,
    table: Mutex<Table>,
}

#[derive(Default)]
struct Table {
    // Session id -> the grant whose `initialize` created it.
    owners: HashMap<String, GrantId>,
    // Grant -> `initialize` requests in flight, counted against the cap.
    opening: HashMap<GrantId, usize>,
}

impl Table {
    fn held_by(&self, grant: &GrantId) -> usize {
        self.owners.values().filter(|g| *g == grant).count() + self.opening.get(grant).copied().unwrap_or(0)
    }
}

/// A place taken for a session being opened; released on drop unless the session was created.
struct Slot {
    sessions: Arc<Sessions>,
    grant: GrantId,
}

impl Slot {
    /// Records the session the `initialize` created as the grant's.
    fn bind(&self, id: &str) {
        let mut table = self.sessions.lock();
        table.owners.insert(id.to_string(), self.grant.clone());
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut table = self.sessions.lock();
        if let Some(n) = table.opening.get_mut(&self.grant) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                table.opening.remove(&self.grant);
            }
        }
    }
}

impl Sessions {
    /// An empty table over rmcp's session manager; each grant may hold `cap` sessions.
    pub(super) fn new(manager: Arc<LocalSessionManager>, cap: usize) -> Sessions {
        Sessions { manager, cap, table: Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic while holding the lock leaves a consistent table (each change is one insert
        // or remove), so a poisoned lock is still usable.
        self.table.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn owner(&self, id: &str) -> Option<GrantId> {
        self.lock().owners.get(id).cloned()
    }

    fn forget(&self, id: &str) {
        self.lock().owners.remove(id);
    }

    /// Takes a place for a new session of `grant`, or `None` when it holds its cap. Sessions
    /// of the grant that rmcp has ended are dropped from the table first.
    async fn reserve(self: &Arc<Self>, grant: &GrantId) -> Option<Slot> {
        let mine: Vec<String> =
            self.lock().owners.iter().filter(|(_, g)| *g == grant).map(|(id, _)| id.clone()).collect();
        let ended: Vec<String> = {
            let live = self.manager.sessions.read().await;
            mine.into_iter().filter(|id| !live.contains_key(id.as_str())).collect()
        };
        let mut table = self.lock();
        for id in &ended {
            table.owners.remove(id);
        }
        if table.held_by(grant) >= self.cap {
            return None;
        }
        *table.opening.entry(grant.clone()).or_default() += 1;
        Some(Slot { sessions: Arc::clone(self), grant: grant.clone() })
    }
}

/// Axum middleware (after authentication): a request naming a session passes only if the
/// session is its grant's; a request opening one passes only under the grant's cap.
pub(super) async fn bind(State(sessions): State<Arc<Sessions>>, request: Request, next: Next) -> Response {
    // INVARIANT: `authenticate` runs first and always attaches a grant; without one, refuse.
    let Some(grant) = request.extensions().get::<GrantId>().cloned() else {
        return (StatusCode::UNAUTHORIZED, "missing or unknown bearer token\n").into_response();
    };
    let named = request.headers().get(SESSION_HEADER).map(|v| v.to_str().map(str::to_string));
    match named {
        Some(Ok(id)) => {
            if sessions.owner(&id).as_ref() != Some(&grant) {
                return (StatusCode::NOT_FOUND, NOT_FOUND_BODY).into_response();
            }
            let closing = request.method() == Method::DELETE;
            let response = next.run(request).await;
            if closing && response.status().is_success() {
                sessions.forget(&id);
            }
            response
        }
        Some(Err(_)) => (StatusCode::NOT_FOUND, NOT_FOUND_BODY).into_response(),
        // Only a POST without a session can open one (`initialize`); rmcp refuses the rest.
        None if request.method() != Method::POST => next.run(request).await,
        None => {
            let Some(slot) = sessions.reserve(&grant).await else {
                let text = format!(
                    "this token already has {} open sessions, the most allowed (--http-max-sessions): \
                     close one (HTTP DELETE with its Mcp-Session-Id) or wait for an idle one to expire\n",
                    sessions.cap
                );
                return (StatusCode::TOO_MANY_REQUESTS, text).into_response();
            };
            let response = next.run(request).await;
            if let Some(Ok(id)) = response.headers().get(SESSION_HEADER).map(|v| v.to_str()) {
                slot.bind(id);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_grant_holds_at_most_its_cap_and_a_released_slot_is_free_again() {
        let sessions = Arc::new(Sessions::new(Arc::default(), 2));
        let (a, b) = (GrantId::new("a"), GrantId::new("b"));
        let first = sessions.reserve(&a).await.unwrap();
        let second = sessions.reserve(&a).await.unwrap();
        assert!(sessions.reserve(&a).await.is_none(), "two in flight fill the cap");
        assert!(sessions.reserve(&b).await.is_some(), "each grant has its own cap");
        drop(first);
        let third = sessions.reserve(&a).await.unwrap();
        // Bound sessions that rmcp no longer knows (ended) are dropped when counting.
        second.bind("s-2");
        drop(second);
        third.bind("s-3");
        drop(third);
        assert_eq!(sessions.owner("s-2"), Some(a.clone()));
        assert!(sessions.reserve(&a).await.is_some(), "ended sessions do not count");
        assert_eq!(sessions.owner("s-2"), None);
    }
}
