//! The `/approvals` page over real HTTP (reqwest): its own admin token (never an agent's), a
//! session cookie with a CSRF token, Origin checks, and answers that reach the agent.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};
use serde_json::json;

use crate::http::{connect, serve_http};
use crate::util::*;

/// An agent's bearer token and the admin's.
const AGENT: &str = "agent-token-0123456789";
const ADMIN: &str = "admin-token-0123456789";

/// A server with the approving policy, an agent token and (if `admin`) the admin token.
/// Returns it with its MCP URL, its page URL and the state directory (kept alive).
async fn serve_page(
    nas: &truenas_sim::SimHandle,
    admin: bool,
) -> (tokio::process::Child, String, String, tempdir::Dir) {
    let state = tempdir::Dir::new("page");
    let policy = repo("policy/approve-destructive.json");
    let mut args = vec![
        "--policy",
        policy.to_str().unwrap(),
        "--state-dir",
        state.path().to_str().unwrap(),
        "--http-token",
        AGENT,
    ];
    if admin {
        args.extend(["--admin-token", ADMIN]);
    }
    let (child, url) = serve_http(nas, &args).await;
    let page = url.replace("/mcp", "/approvals");
    (child, url, page, state)
}

/// Form bodies (reqwest's `form` feature is off).
trait FormExt {
    fn form_of(self, pairs: &[(&str, &str)]) -> Self;
}

impl FormExt for reqwest::RequestBuilder {
    fn form_of(self, pairs: &[(&str, &str)]) -> Self {
        self.header(CONTENT_TYPE, "application/x-www-form-urlencoded").body(serde_urlencoded::to_string(pairs).unwrap())
    }
}

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The page's own origin, as a browser sends it.
fn origin_of(page: &str) -> String {
    page.trim_end_matches("/approvals").to_string()
}

/// Logs in with the form; returns the `name=value` cookie.
async fn log_in(page: &str) -> String {
    let r = browser()
        .post(format!("{page}/login"))
        .header(ORIGIN, origin_of(page))
        .form_of(&[("token", ADMIN)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()[LOCATION], "/approvals");
    let set = r.headers()[SET_COOKIE].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/approvals"] {
        assert!(set.contains(attribute), "{set}");
    }
    set.split(';').next().unwrap().to_string()
}

/// The page as a logged-in browser sees it, and its CSRF token.
async fn page_with_csrf(page: &str, cookie: &str) -> (String, String) {
    let r = browser().get(page).header(COOKIE, cookie).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let body = r.text().await.unwrap();
    let csrf = body.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
    (body, csrf)
}

/// The agent's call that needs approval; returns the approval id from the refusal.
async fn ask(session: &Session) -> String {
    let r = truenas(session, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await;
    assert!(is_error(&r), "{}", text(&r));
    let t = text(&r);
    assert!(t.starts_with("[APPROVAL REQUIRED] vm_delete needs approval "), "{t}");
    t.split("needs approval ").nth(1).unwrap().split(' ').next().unwrap().to_string()
}

/// A refused post: what it shows, its CSRF token, cookie and Origin.
type Case<'a> = (&'a str, Option<&'a str>, Option<&'a str>, Option<&'a str>);

/// Posts an answer form.
async fn post_answer(
    page: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
    form: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = browser().post(format!("{page}/answer")).form_of(form);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    if let Some(origin) = origin {
        request = request.header(ORIGIN, origin);
    }
    request.send().await.unwrap()
}

#[tokio::test]
async fn without_an_admin_token_the_page_is_not_served() {
    let nas = start_sim().await;
    let (_server, _, page, _state) = serve_page(&nas, false).await;
    let http = browser();
    for token in [None, Some(AGENT)] {
        let mut request = http.get(&page);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    let r = http.post(format!("{page}/login")).bearer_auth(AGENT).form_of(&[("token", AGENT)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_admin_token_that_is_an_agent_token_or_short_stops_the_server() {
    let nas = start_sim().await;
    for (admin, expected) in [(AGENT, "the same as --http-token 1"), ("short-admin", "shorter than 16")] {
        let out = command(&nas)
            .args(["--http", "127.0.0.1:0", "--http-token", AGENT, "--admin-token", admin])
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains(expected), "{stderr}");
        assert!(!stderr.contains(admin), "the token is never shown: {stderr}");
    }
}

#[tokio::test]
async fn only_the_admin_token_opens_the_page_and_never_an_agents() {
    let nas = start_sim().await;
    let (_server, _, page, _state) = serve_page(&nas, true).await;
    let http = browser();

    // No credential: the login form, 401.
    let r = http.get(&page).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("action=\"/approvals/login\""));
    // An agent's token, as bearer or through the form: 403, and no cookie.
    assert_eq!(http.get(&page).bearer_auth(AGENT).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let r = http.post(format!("{page}/login")).form_of(&[("token", AGENT)]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get(SET_COOKIE).is_none());
    let r =
        http.post(format!("{page}/login")).form_of(&[("token", "not-the-admin-token-at-all")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.headers().get(SET_COOKIE).is_none());
    // A made-up session cookie is no session.
    let r = http.get(&page).header(COOKIE, "truenas_mcp_admin=00112233").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The admin token as bearer opens it, with the page's security headers.
    let r = http.get(&page).bearer_auth(ADMIN).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let csp = r.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(r.headers()["x-frame-options"], "DENY");
    assert_eq!(r.headers()["cache-control"], "no-store");
    // A foreign Host (DNS rebinding) is refused even with the admin token.
    let r = http.get(&page).bearer_auth(ADMIN).header("host", "evil.example").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // The admin token does not open MCP.
    let mcp = page.replace("/approvals", "/mcp");
    let r = http.post(&mcp).bearer_auth(ADMIN).json(&json!({})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // The login form gives a session cookie that opens the page.
    let cookie = log_in(&page).await;
    let (body, csrf) = page_with_csrf(&page, &cookie).await;
    assert!(body.contains("Nothing waits for an answer."), "{body}");
    assert_eq!(csrf.len(), 96);
}

#[tokio::test]
async fn a_post_without_the_right_csrf_token_or_origin_changes_nothing() {
    let nas = start_sim().await;
    let (_server, url, page, _state) = serve_page(&nas, true).await;
    let agent = connect(&url, AGENT).await;
    let id = ask(&agent).await;
    let cookie = log_in(&page).await;
    let (body, csrf) = page_with_csrf(&page, &cookie).await;
    assert!(body.contains(&format!("id=\"approval-{id}\"")), "{body}");
    let origin = origin_of(&page);

    let wrong = "0".repeat(96);
    // (what, csrf, cookie, origin): each is refused.
    let cases: [Case; 5] = [
        ("no csrf", None, Some(&cookie), Some(&origin)),
        ("wrong csrf", Some(&wrong), Some(&cookie), Some(&origin)),
        ("foreign origin", Some(&csrf), Some(&cookie), Some("http://evil.example")),
        ("no origin", Some(&csrf), Some(&cookie), None),
        ("no session", Some(&csrf), None, Some(&origin)),
    ];
    for (what, csrf, cookie, origin) in cases {
        let mut form = vec![("id", id.as_str()), ("decision", "approve")];
        if let Some(csrf) = csrf {
            form.push(("csrf", csrf));
        }
        let r = post_answer(&page, cookie, origin, &form).await;
        assert!(matches!(r.status(), StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED), "{what}: {}", r.status());
    }
    // An agent's token cannot answer either.
    let r = browser()
        .post(format!("{page}/answer"))
        .bearer_auth(AGENT)
        .form_of(&[("id", id.as_str()), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Nothing changed: still pending, the agent's retry is refused with the same id, nothing sent.
    let (body, _) = page_with_csrf(&page, &cookie).await;
    assert!(body.contains(&format!("id=\"approve-{id}\"")), "{body}");
    assert_eq!(ask(&agent).await, id);
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
}

#[tokio::test]
async fn approving_on_the_page_lets_the_agents_retry_through_once() {
    let nas = start_sim().await;
    let (_server, url, page, _state) = serve_page(&nas, true).await;
    let agent = connect(&url, AGENT).await;
    let id = ask(&agent).await;
    let cookie = log_in(&page).await;
    let (body, csrf) = page_with_csrf(&page, &cookie).await;
    // What exactly would be sent.
    assert!(body.contains("vm.delete") && body.contains("http-token-1") && body.contains("/x-risk-defaults"), "{body}");

    let form = [("csrf", csrf.as_str()), ("id", id.as_str()), ("decision", "approve")];
    let r = post_answer(&page, Some(&cookie), Some(&origin_of(&page)), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (body, _) = page_with_csrf(&page, &cookie).await;
    assert!(body.contains(&format!("Approved {id}")), "{body}");
    assert!(body.contains("web-admin@127.0.0.1"), "the approver and its address: {body}");

    let r = truenas(&agent, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await;
    assert!(!text(&r).contains("APPROVAL"), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "vm.delete").len(), 1);
    // Used once: the same call again needs a new approval.
    assert_ne!(ask(&agent).await, id);
    assert_eq!(nas_calls_of(&nas, "vm.delete").len(), 1);
    let (body, _) = page_with_csrf(&page, &cookie).await;
    assert!(body.contains("<td>used</td>"), "{body}");
    // Approving again is refused and says why.
    let r = post_answer(&page, Some(&cookie), Some(&origin_of(&page)), &form).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let (body, _) = page_with_csrf(&page, &cookie).await;
    assert!(body.contains("Not done: approval"), "{body}");
}

#[tokio::test]
async fn denying_with_a_reason_reaches_the_agent_and_the_page_escapes_it() {
    let nas = start_sim().await;
    let (_server, url, page, _state) = serve_page(&nas, true).await;
    let agent = connect(&url, AGENT).await;
    let id = ask(&agent).await;
    // The admin token as bearer (a script): no session, so no CSRF token to carry.
    let reason = "not <b>this</b> VM & not today";
    let r = browser()
        .post(format!("{page}/answer"))
        .bearer_auth(ADMIN)
        .form_of(&[("id", id.as_str()), ("decision", "deny"), ("reason", reason)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());

    // An id that is no approval id is refused before it goes anywhere.
    let r = browser()
        .post(format!("{page}/answer"))
        .bearer_auth(ADMIN)
        .form_of(&[("id", "<script>"), ("decision", "approve")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    let r = truenas(&agent, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await;
    assert!(is_error(&r));
    assert!(text(&r).contains(reason), "{}", text(&r));
    assert!(nas_calls_of(&nas, "vm.delete").is_empty());
    let body = browser().get(&page).bearer_auth(ADMIN).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("not &lt;b&gt;this&lt;/b&gt; VM &amp; not today"), "{body}");
    assert!(!body.contains("<b>this"), "{body}");
}
