//! The `/approvals` page in HTTP mode: a person sees pending approvals (exactly what each call
//! would send) and recent answers, and approves or denies from a browser. It owns the page's
//! own authentication (the admin token, never an agent's; a server-side session behind an
//! `HttpOnly; SameSite=Strict` cookie), its CSRF token, its Host and Origin checks and its
//! security headers. Answers go through the gateway's control handler, the same calls the
//! `approvals` CLI makes, with the approver `web-admin@ADDRESS`. The HTML is in `html`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use serde::Deserialize;

use super::Tokens;
use crate::gateway::Gateway;
use crate::state::approvals::ApprovalRecord;
use crate::state::control::{ControlHandler as _, ControlRequest};

#[path = "approvals_html.rs"]
mod html;

/// The session cookie's name.
const COOKIE: &str = "truenas_mcp_admin";

/// A session ends this long after login, whatever happens (the server forgets it).
const SESSION_TTL: Duration = Duration::from_secs(30 * 60);

/// Most sessions kept at once; a new login past it ends the oldest.
const MAX_SESSIONS: usize = 16;

/// Largest form body read (a token, an id, a reason).
const MAX_BODY: usize = 16 * 1024;

/// Longest denial reason accepted, in characters.
const MAX_REASON: usize = 500;

/// Every page response carries these: nothing but our own stylesheet loads, forms post only
/// to us, no framing, no caching, no sniffing.
const CSP: &str =
    "default-src 'none'; style-src 'self'; img-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The approvals page: the admin token that opens it and the gateway whose approvals it shows.
#[derive(Clone)]
pub struct ApprovalsPage {
    token: String,
    gateway: Arc<Gateway>,
}

impl std::fmt::Debug for ApprovalsPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApprovalsPage").finish_non_exhaustive()
    }
}

impl ApprovalsPage {
    /// The page for `gateway`'s approvals, opened with `token` (checked by the configuration:
    /// long enough and none of the agents' tokens).
    pub fn new(token: String, gateway: Arc<Gateway>) -> ApprovalsPage {
        ApprovalsPage { token, gateway }
    }

    /// Whether `presented` is the admin token (compared in constant time).
    pub(super) fn is_admin_token(&self, presented: &str) -> bool {
        super::constant_time_eq(self.token.as_bytes(), presented.as_bytes())
    }

    /// The gateway whose approvals (and metrics) the admin sees.
    pub(super) fn gateway(&self) -> &Arc<Gateway> {
        &self.gateway
    }
}

/// One logged-in browser.
struct WebSession {
    /// Must come back in every form that changes something.
    csrf: String,
    /// When the server forgets it.
    expires: Instant,
    /// The outcome of the last answer, shown once.
    flash: Option<String>,
}

struct PageState {
    page: ApprovalsPage,
    // The agents' tokens: presented here they are refused (403), never taken for the admin's.
    agents: Tokens,
    // Host names a loopback listener answers to; `None` off loopback (bearer/admin tokens
    // then carry the whole check, as for `/mcp`).
    hosts: Option<Vec<String>>,
    sessions: Mutex<HashMap<String, WebSession>>,
}

/// Who is asking.
enum Who {
    /// A browser with a live session (its id).
    Session(String),
    /// A client presenting the admin token as bearer (no ambient credential: no CSRF).
    Bearer,
}

/// The page's routes. Without a page (no admin token) `/approvals` answers 404 to everyone.
pub(super) fn router(page: Option<ApprovalsPage>, agents: Tokens, addr: SocketAddr) -> Router {
    let Some(page) = page else {
        let gone = || async { (StatusCode::NOT_FOUND, "not found\n") };
        return Router::new().route("/approvals", any(gone)).route("/approvals/{*rest}", any(gone));
    };
    let hosts = addr.ip().is_loopback().then(|| super::allowed_hosts(addr));
    let state = Arc::new(PageState { page, agents, hosts, sessions: Mutex::default() });
    Router::new()
        .route("/approvals", get(index))
        .route("/approvals/style.css", get(style))
        .route("/approvals/login", post(login))
        .route("/approvals/logout", post(logout))
        .route("/approvals/answer", post(answer))
        .with_state(state)
}

/// An unguessable token: three v4 UUIDs (366 random bits) as 96 hex digits.
fn random_token() -> String {
    (0..3).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect()
}

impl PageState {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, WebSession>> {
        // Each change is one insert or remove: a poisoned table is still consistent.
        self.sessions.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Opens a session; returns its id and CSRF token.
    fn open_session(&self) -> String {
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.expires > now);
        while sessions.len() >= MAX_SESSIONS {
            let oldest = sessions.iter().min_by_key(|(_, s)| s.expires).map(|(id, _)| id.clone());
            match oldest {
                Some(id) => sessions.remove(&id),
                None => break,
            };
        }
        let id = random_token();
        sessions.insert(id.clone(), WebSession { csrf: random_token(), expires: now + SESSION_TTL, flash: None });
        id
    }

    /// The live session a cookie names.
    fn session_of(&self, headers: &HeaderMap) -> Option<String> {
        let presented = cookie(headers, COOKIE)?;
        let now = Instant::now();
        let mut sessions = self.lock();
        sessions.retain(|_, s| s.expires > now);
        // Compare against each in constant time, as for tokens.
        sessions.keys().find(|id| super::constant_time_eq(id.as_bytes(), presented.as_bytes())).cloned()
    }

    /// Checks the request's Host (loopback listeners: DNS rebinding) and, if it names one, its
    /// Origin (the page's own only). `origin_required`: a browser's state-changing request
    /// must say where it comes from.
    fn check_site(&self, headers: &HeaderMap, origin_required: bool) -> Result<(), Refusal> {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        if let Some(hosts) = &self.hosts {
            let name = host_name(host);
            if !hosts.iter().any(|h| h.eq_ignore_ascii_case(name)) {
                return Err(Refusal(StatusCode::FORBIDDEN, "Host header is not allowed"));
            }
        }
        match headers.get(header::ORIGIN).map(|o| o.to_str()) {
            // The page itself, served directly or behind a TLS proxy keeping the Host.
            Some(Ok(origin)) if origin == format!("http://{host}") || origin == format!("https://{host}") => {}
            Some(_) => return Err(Refusal(StatusCode::FORBIDDEN, "Origin header is not allowed")),
            None if origin_required => return Err(Refusal(StatusCode::FORBIDDEN, "Origin header is missing")),
            None => {}
        }
        let site = headers.get("sec-fetch-site").and_then(|s| s.to_str().ok());
        if site.is_some_and(|s| s != "same-origin" && s != "none") {
            return Err(Refusal(StatusCode::FORBIDDEN, "cross-site request refused"));
        }
        Ok(())
    }

    /// Who is asking: the admin token as bearer, or a live session. An agent's token is
    /// refused (403), any other bearer token too (401); no credential at all is `None`.
    fn who(&self, headers: &HeaderMap) -> Result<Option<Who>, Refusal> {
        if headers.contains_key(header::AUTHORIZATION) {
            let presented = super::bearer(headers).unwrap_or("");
            return self.judge_token(presented).map(|()| Some(Who::Bearer));
        }
        Ok(self.session_of(headers).map(Who::Session))
    }

    /// The admin token passes; an agent's is 403; anything else 401.
    fn judge_token(&self, presented: &str) -> Result<(), Refusal> {
        if super::constant_time_eq(self.page.token.as_bytes(), presented.as_bytes()) {
            Ok(())
        } else if self.agents.grant(presented).is_some() {
            Err(Refusal(StatusCode::FORBIDDEN, "an agent's token does not open the approvals page"))
        } else {
            Err(Refusal(StatusCode::UNAUTHORIZED, "missing or wrong admin token"))
        }
    }
}

/// `host[:port]` -> `host` (IPv6 literals keep their brackets off).
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    host.rsplit_once(':').map_or(host, |(name, _)| name)
}

/// A cookie's value from the `Cookie` headers.
fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Adds the page's security headers.
fn secure(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Same-origin keeps the Origin header on our own form posts (no-referrer would make it `null`).
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// A refusal with a fixed message (small, so checks can return it cheaply).
struct Refusal(StatusCode, &'static str);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        refuse(self.0, self.1)
    }
}

fn refuse(status: StatusCode, message: &str) -> Response {
    secure((status, format!("{message}\n")).into_response())
}

fn see_other(location: &'static str) -> Response {
    secure((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
}

fn html_page(status: StatusCode, body: String) -> Response {
    secure((status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response())
}

/// The form body, parsed; a body too big or not a form is refused.
async fn form<T: for<'de> Deserialize<'de>>(request: Request) -> Result<T, Refusal> {
    let bytes = axum::body::to_bytes(request.into_body(), MAX_BODY)
        .await
        .map_err(|_| Refusal(StatusCode::PAYLOAD_TOO_LARGE, "form too large"))?;
    serde_urlencoded::from_bytes(&bytes).map_err(|_| Refusal(StatusCode::BAD_REQUEST, "malformed form"))
}

/// The address the request came from, for the approver's name.
fn peer(request: &Request) -> String {
    request.extensions().get::<ConnectInfo<SocketAddr>>().map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

async fn style() -> Response {
    secure(([(header::CONTENT_TYPE, "text/css; charset=utf-8")], html::STYLE).into_response())
}

/// `GET /approvals`: the page for the admin, the login form for anyone else.
async fn index(State(state): State<Arc<PageState>>, request: Request) -> Response {
    if let Err(refused) = state.check_site(request.headers(), false) {
        return refused.into_response();
    }
    let who = match state.who(request.headers()) {
        Ok(who) => who,
        Err(refused) => return refused.into_response(),
    };
    let (csrf, flash) = match &who {
        None => return html_page(StatusCode::UNAUTHORIZED, html::login(None)),
        Some(Who::Bearer) => (None, None),
        Some(Who::Session(id)) => {
            let mut sessions = state.lock();
            match sessions.get_mut(id) {
                Some(s) => (Some(s.csrf.clone()), s.flash.take()),
                None => return html_page(StatusCode::UNAUTHORIZED, html::login(None)),
            }
        }
    };
    let listed = state.page.gateway.handle(ControlRequest::List, "web-admin").await;
    let records: Vec<ApprovalRecord> = match listed.map(serde_json::from_value) {
        Ok(Ok(records)) => records,
        Ok(Err(_)) | Err(_) => {
            return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the approvals cannot be read");
        }
    };
    let now = crate::state::approvals::unix(std::time::SystemTime::now());
    html_page(StatusCode::OK, html::page(&records, csrf.as_deref(), flash.as_deref(), now))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /approvals/login`: the admin token once, for a session cookie.
async fn login(State(state): State<Arc<PageState>>, request: Request) -> Response {
    if let Err(refused) = state.check_site(request.headers(), false) {
        return refused.into_response();
    }
    let form: LoginForm = match form(request).await {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    if let Err(refused) = state.judge_token(form.token.trim()) {
        let status = refused.0;
        let message = if status == StatusCode::FORBIDDEN {
            "That is an agent's token: the approvals page opens only with the admin token."
        } else {
            "Wrong token."
        };
        return html_page(status, html::login(Some(message)));
    }
    let id = state.open_session();
    let cookie =
        format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/approvals; Max-Age={}", SESSION_TTL.as_secs());
    let mut response = see_other("/approvals");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

/// Checks a browser's state-changing request: Origin present and ours, and the form's CSRF
/// token the session's (constant time). A bearer client has no ambient credential to abuse.
fn check_post(state: &PageState, who: &Who, headers: &HeaderMap, csrf: &str) -> Result<(), Refusal> {
    let Who::Session(id) = who else { return state.check_site(headers, false) };
    state.check_site(headers, true)?;
    let sessions = state.lock();
    let expected = sessions.get(id).map(|s| s.csrf.as_str()).unwrap_or("");
    if expected.is_empty() || !super::constant_time_eq(expected.as_bytes(), csrf.as_bytes()) {
        return Err(Refusal(StatusCode::FORBIDDEN, "missing or wrong CSRF token: reload the page and try again"));
    }
    Ok(())
}

/// `POST /approvals/logout`: the session is forgotten.
async fn logout(State(state): State<Arc<PageState>>, request: Request) -> Response {
    let headers = request.headers().clone();
    let Ok(Some(who)) = state.who(&headers) else { return see_other("/approvals") };
    let form: CsrfForm = match form(request).await {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    if let Err(refused) = check_post(&state, &who, &headers, &form.csrf) {
        return refused.into_response();
    }
    if let Who::Session(id) = who {
        state.lock().remove(&id);
    }
    let mut response = see_other("/approvals");
    let clear = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/approvals; Max-Age=0");
    if let Ok(value) = HeaderValue::from_str(&clear) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    csrf: String,
    id: String,
    decision: String,
    #[serde(default)]
    reason: String,
}

/// `POST /approvals/answer`: approve or deny one pending approval, as `web-admin@ADDRESS`.
async fn answer(State(state): State<Arc<PageState>>, request: Request) -> Response {
    if request.method() != Method::POST {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, "use POST");
    }
    let headers = request.headers().clone();
    let who = match state.who(&headers) {
        Ok(Some(who)) => who,
        Ok(None) => return refuse(StatusCode::UNAUTHORIZED, "log in first"),
        Err(refused) => return refused.into_response(),
    };
    let by = format!("web-admin@{}", peer(&request));
    let form: AnswerForm = match form(request).await {
        Ok(f) => f,
        Err(refused) => return refused.into_response(),
    };
    if let Err(refused) = check_post(&state, &who, &headers, &form.csrf) {
        return refused.into_response();
    }
    let reason: String = form.reason.trim().chars().filter(|c| !c.is_control()).collect();
    if reason.chars().count() > MAX_REASON {
        return refuse(StatusCode::BAD_REQUEST, &format!("the reason is longer than {MAX_REASON} characters"));
    }
    let id = form.id.trim().to_owned();
    // Approval ids are hex; anything else is no approval (and never reaches a log line).
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_hexdigit()) {
        return refuse(StatusCode::BAD_REQUEST, "no such approval");
    }
    let request = match form.decision.as_str() {
        "approve" => ControlRequest::Approve { id: id.clone() },
        "deny" => ControlRequest::Deny { id: id.clone(), reason: Some(reason).filter(|r| !r.is_empty()) },
        _ => return refuse(StatusCode::BAD_REQUEST, "decision must be `approve` or `deny`"),
    };
    let approving = matches!(request, ControlRequest::Approve { .. });
    let outcome = state.page.gateway.handle(request, &by).await;
    let message = match &outcome {
        Ok(_) if approving => format!("Approved {id}: the agent's next identical call goes through, once."),
        Ok(_) => format!("Denied {id}: the agent will read the reason."),
        Err(e) => format!("Not done: {e}"),
    };
    tracing::info!(approval = %id, by = %by, ok = outcome.is_ok(), "approvals page: answer");
    match who {
        Who::Session(session) => {
            if let Some(s) = state.lock().get_mut(&session) {
                s.flash = Some(message);
            }
            see_other("/approvals")
        }
        Who::Bearer => {
            let status = if outcome.is_ok() { StatusCode::OK } else { StatusCode::CONFLICT };
            secure((status, format!("{message}\n")).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_and_hosts_are_read_from_their_headers() {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=1; truenas_mcp_admin=abc ; b=2".parse().unwrap());
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        assert_eq!(host_name("127.0.0.1:8080"), "127.0.0.1");
        assert_eq!(host_name("[::1]:8080"), "::1");
        assert_eq!(host_name("localhost"), "localhost");
    }

    #[test]
    fn random_tokens_are_long_hex_and_differ() {
        let (a, b) = (random_token(), random_token());
        assert_eq!(a.len(), 96);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
