//! Approval through MCP elicitation, end to end through the real binary: an rmcp client that
//! declared form elicitation answers the server's question (an `elicitation/create` request on
//! 2025-11-25, the input-required round trip on 2026-07-28), and the held call goes through
//! once (approval used, audited) or is denied with the person's reason, nothing sent. A client
//! without elicitation, or a server started with `--no-elicitation`, answers
//! `[APPROVAL REQUIRED]`. The same answers arrive over streamable HTTP.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use rmcp::model::{
    ClientCapabilities, ClientConfig, ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
    FormElicitationCapability, Implementation, ProtocolVersion,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, RequestContext, RunningService};
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::{StreamableHttpClientTransport, TokioChildProcess};
use rmcp::{ClientHandler, ErrorData, RoleClient, ServiceExt};
use serde_json::{Value, json};
use truenas_sim::SimHandle;

use crate::util::*;

/// A client whose user answers every approval form the same way, and which keeps what it was
/// asked.
#[derive(Clone)]
struct Person {
    answer: ElicitResult,
    asked: Arc<Mutex<Vec<String>>>,
    schemas: Arc<Mutex<Vec<Value>>>,
}

impl Person {
    fn answering(action: ElicitationAction, content: Option<Value>) -> Person {
        let mut answer = ElicitResult::new(action);
        answer.content = content;
        Person { answer, asked: Arc::default(), schemas: Arc::default() }
    }

    fn approving() -> Person {
        Person::answering(ElicitationAction::Accept, Some(json!({"decision": "approve"})))
    }

    fn denying(reason: &str) -> Person {
        Person::answering(ElicitationAction::Accept, Some(json!({"decision": "deny", "reason": reason})))
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

impl ClientHandler for Person {
    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _context: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, ErrorData> {
        if let ElicitRequestParams::FormElicitationParams { message, requested_schema, .. } = request {
            self.asked.lock().unwrap().push(message);
            self.schemas.lock().unwrap().push(serde_json::to_value(&requested_schema).unwrap());
        }
        Ok(self.answer.clone())
    }

    fn get_info(&self) -> ClientConfig {
        let mut elicitation = ElicitationCapability::new();
        elicitation.form = Some(FormElicitationCapability::new());
        let mut capabilities = ClientCapabilities::default();
        capabilities.elicitation = Some(elicitation);
        ClientConfig::new(capabilities, Implementation::new("elicit-test", "1.0"))
    }
}

/// `vm_stop` needs approval; everything else is allowed.
const POLICY: &str = r#"{"version": "1", "default": "allow", "tools": {"vm_stop": {"x-approval": "always"}}}"#;

struct Setup {
    dir: tempdir::Dir,
    nas: SimHandle,
}

impl Setup {
    async fn new(tag: &str) -> Setup {
        let dir = tempdir::Dir::new(tag);
        std::fs::write(dir.path().join("policy.json"), POLICY).unwrap();
        Setup { dir, nas: start_sim().await }
    }

    fn audit(&self) -> std::path::PathBuf {
        self.dir.path().join("audit.jsonl")
    }

    fn command(&self, extra: &[&str]) -> tokio::process::Command {
        let mut cmd = command(&self.nas);
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        cmd.args(["--policy", &path(&self.dir.path().join("policy.json"))])
            .args(["--audit", &path(&self.audit())])
            .args(["--state-dir", &path(&self.dir.path().join("state"))])
            .env_remove("TRUENAS_MCP_ELICITATION")
            .args(extra);
        cmd
    }

    /// Connects `person` with the `initialize` handshake (2025-11-25: the server asks with an
    /// `elicitation/create` request).
    async fn connect<C: ClientHandler>(&self, person: C, extra: &[&str]) -> RunningService<RoleClient, C> {
        connect_with(person, self.command(extra)).await
    }

    /// Connects `person` on 2026-07-28 (no server-to-client requests: the input-required round
    /// trip, which rmcp's `call_tool` drives through the same handler).
    async fn connect_modern(&self, person: Person) -> RunningService<RoleClient, Person> {
        let (transport, _) = TokioChildProcess::builder(self.command(&[])).stderr(Stdio::inherit()).spawn().unwrap();
        let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] };
        person.serve_with_lifecycle(transport, lifecycle).await.unwrap()
    }

    fn records(&self) -> Vec<Value> {
        let raw = std::fs::read_to_string(self.audit()).unwrap_or_default();
        raw.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// The approval events in the audit log, as (event, by).
    fn approval_events(&self) -> Vec<(String, Option<String>)> {
        self.records()
            .iter()
            .filter(|r| r["action_type"] == "approval")
            .map(|r| {
                let a = &r["approval"];
                (a["event"].as_str().unwrap().to_owned(), a["by"].as_str().map(str::to_owned))
            })
            .collect()
    }
}

impl Setup {
    /// Starts the server over streamable HTTP (loopback, no token) and connects `person` to it,
    /// on `version` (2025-11-25: the server asks with an `elicitation/create` request on the
    /// call's event stream; 2026-07-28: the input-required round trip).
    async fn connect_http(
        &self,
        person: Person,
        version: ProtocolVersion,
        lifecycle: ClientLifecycleMode,
    ) -> (tokio::process::Child, RunningService<RoleClient, Person>) {
        let (child, url) = crate::http::serve_http_command(self.command(&["--http", "127.0.0.1:0"])).await;
        let transport = StreamableHttpClientTransport::from_config(StreamableHttpClientTransportConfig::with_uri(url));
        let session = person.serve_with_lifecycle(transport, lifecycle).await.unwrap();
        assert_eq!(session.peer().peer_info().unwrap().protocol_version, version);
        (child, session)
    }
}

async fn connect_with<C: ClientHandler>(person: C, cmd: tokio::process::Command) -> RunningService<RoleClient, C> {
    let (transport, _) = TokioChildProcess::builder(cmd).stderr(Stdio::inherit()).spawn().unwrap();
    person.serve(transport).await.unwrap()
}

async fn stop_vm<C: ClientHandler>(session: &RunningService<RoleClient, C>) -> rmcp::model::CallToolResult {
    let mut args = serde_json::Map::new();
    args.insert("category".into(), json!("vm"));
    args.insert("action".into(), json!("vm_stop"));
    args.insert("params".into(), json!({"id": 1}));
    session.call_tool(rmcp::model::CallToolRequestParams::new("truenas").with_arguments(args)).await.unwrap()
}

fn approved_and_used(setup: &Setup) {
    let by = Some("mcp-client:elicit-test".to_owned());
    assert_eq!(
        setup.approval_events(),
        vec![("requested".to_owned(), None), ("approved".to_owned(), by), ("used".to_owned(), None)]
    );
}

#[tokio::test]
async fn an_elicitation_approval_lets_the_call_through_once() {
    let setup = Setup::new("elicit-approve").await;
    let person = Person::approving();
    let session = setup.connect(person.clone(), &[]).await;
    let result = stop_vm(&session).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(nas_calls_of(&setup.nas, "vm.stop").len(), 1);
    let asked = person.asked();
    assert_eq!(asked.len(), 1);
    for part in ["vm_stop", "vm.stop", "/tools/vm_stop/x-approval", "risk: write", "vm.stop [1,"] {
        assert!(asked[0].contains(part), "`{part}` missing from: {}", asked[0]);
    }
    let schema = person.schemas.lock().unwrap()[0].clone();
    assert_eq!(schema["properties"]["decision"]["enum"], json!(["approve", "deny"]), "{schema}");
    approved_and_used(&setup);
    // Single use: the next identical call asks again (and reaches the NAS, where the VM is
    // already stopped).
    stop_vm(&session).await;
    assert_eq!(person.asked().len(), 2);
    assert_eq!(nas_calls_of(&setup.nas, "vm.stop").len(), 2);
}

#[tokio::test]
async fn an_elicitation_denial_reaches_the_agent_with_its_reason_and_nothing_is_sent() {
    let setup = Setup::new("elicit-deny").await;
    let session = setup.connect(Person::denying("not during backups"), &[]).await;
    let result = stop_vm(&session).await;
    assert!(is_error(&result));
    let said = text(&result);
    assert!(said.starts_with("[APPROVAL DENIED] vm_stop was denied by mcp-client:elicit-test"), "{said}");
    assert!(said.ends_with(": not during backups"), "{said}");
    assert!(nas_calls_of(&setup.nas, "vm.stop").is_empty());
    let denied = Some("mcp-client:elicit-test".to_owned());
    assert_eq!(setup.approval_events(), vec![("requested".to_owned(), None), ("denied".to_owned(), denied)]);
}

#[tokio::test]
async fn a_declined_form_denies_and_a_dismissed_one_leaves_the_approval_pending() {
    let setup = Setup::new("elicit-decline").await;
    let session = setup.connect(Person::answering(ElicitationAction::Decline, None), &[]).await;
    let result = stop_vm(&session).await;
    assert!(text(&result).starts_with("[APPROVAL DENIED]"), "{}", text(&result));
    assert!(text(&result).ends_with(": declined in the MCP client"), "{}", text(&result));
    drop(session);

    let setup = Setup::new("elicit-cancel").await;
    let session = setup.connect(Person::answering(ElicitationAction::Cancel, None), &[]).await;
    let result = stop_vm(&session).await;
    assert!(is_error(&result));
    assert!(text(&result).starts_with("[APPROVAL REQUIRED] vm_stop needs approval "), "{}", text(&result));
    // An answer that does not fit the form is no answer either.
    let setup2 = Setup::new("elicit-garbled").await;
    let garbled = Person::answering(ElicitationAction::Accept, Some(json!({"decision": "yes please"})));
    let session2 = setup2.connect(garbled, &[]).await;
    let result = stop_vm(&session2).await;
    assert!(text(&result).starts_with("[APPROVAL REQUIRED]"), "{}", text(&result));
    for s in [&setup, &setup2] {
        assert!(nas_calls_of(&s.nas, "vm.stop").is_empty());
        assert_eq!(s.approval_events(), vec![("requested".to_owned(), None)]);
    }
}

#[tokio::test]
async fn on_2026_07_28_the_input_required_round_trip_approves_and_denies() {
    let setup = Setup::new("elicit-mrtr-approve").await;
    let person = Person::approving();
    let session = setup.connect_modern(person.clone()).await;
    assert_eq!(session.peer().peer_info().unwrap().protocol_version, ProtocolVersion::V_2026_07_28);
    let result = stop_vm(&session).await;
    assert!(!is_error(&result), "{}", text(&result));
    assert_eq!(person.asked().len(), 1);
    assert!(person.asked()[0].contains("vm.stop"), "{:?}", person.asked());
    assert_eq!(nas_calls_of(&setup.nas, "vm.stop").len(), 1);
    approved_and_used(&setup);

    let setup = Setup::new("elicit-mrtr-deny").await;
    let session = setup.connect_modern(Person::denying("wrong VM")).await;
    let result = stop_vm(&session).await;
    assert!(text(&result).starts_with("[APPROVAL DENIED]"), "{}", text(&result));
    assert!(text(&result).ends_with(": wrong VM"), "{}", text(&result));
    assert!(nas_calls_of(&setup.nas, "vm.stop").is_empty());
}

#[tokio::test]
async fn without_elicitation_the_call_answers_approval_required() {
    // A client that did not declare elicitation.
    let setup = Setup::new("elicit-none").await;
    let session = setup.connect(Client::default(), &[]).await;
    let result = stop_vm(&session).await;
    assert!(text(&result).starts_with("[APPROVAL REQUIRED] vm_stop needs approval "), "{}", text(&result));
    // A client that did, but the operator turned elicitation off: it is never asked.
    for by_env in [false, true] {
        let setup = Setup::new("elicit-off").await;
        let person = Person::approving();
        let mut cmd = setup.command(if by_env { &[] } else { &["--no-elicitation"] });
        if by_env {
            cmd.env("TRUENAS_MCP_ELICITATION", "off");
        }
        let session = connect_with(person.clone(), cmd).await;
        let result = stop_vm(&session).await;
        assert!(text(&result).starts_with("[APPROVAL REQUIRED]"), "{}", text(&result));
        assert!(person.asked().is_empty());
        assert!(nas_calls_of(&setup.nas, "vm.stop").is_empty());
    }
}

#[tokio::test]
async fn the_form_never_shows_a_secret_argument() {
    let setup = Setup::new("elicit-secret").await;
    let policy = r#"{"version": "1", "default": "allow", "tools": {"user_create": {"x-approval": "always"}}}"#;
    std::fs::write(setup.dir.path().join("policy.json"), policy).unwrap();
    let person = Person::denying("no");
    let session = setup.connect(person.clone(), &[]).await;
    const SECRET: &str = "Sup3r-Secret-Elicit-Pw-42";
    let mut args = serde_json::Map::new();
    args.insert("category".into(), json!("account"));
    args.insert("action".into(), json!("user_create"));
    args.insert(
        "params".into(),
        json!({"username": "carol", "group_create": true, "full_name": "Carol", "password": SECRET}),
    );
    let result =
        session.call_tool(rmcp::model::CallToolRequestParams::new("truenas").with_arguments(args)).await.unwrap();
    assert!(text(&result).starts_with("[APPROVAL DENIED]"), "{}", text(&result));
    let asked = person.asked();
    assert_eq!(asked.len(), 1);
    assert!(asked[0].contains("user.create") && asked[0].contains("carol"), "{}", asked[0]);
    assert!(!asked[0].contains(SECRET), "the form shows the password: {}", asked[0]);
    assert!(!std::fs::read_to_string(setup.audit()).unwrap().contains(SECRET));
    assert!(nas_calls_of(&setup.nas, "user.create").is_empty());
}

/// The ways a client reaches the server over HTTP that can carry an answer: a 2025-11-25
/// session (`initialize`, the answer is POSTed to the session) and a 2026-07-28 sessionless
/// client (the answer comes back in the retried call).
fn answerable_http() -> [(ProtocolVersion, ClientLifecycleMode); 2] {
    [
        (ProtocolVersion::V_2025_11_25, ClientLifecycleMode::Initialize),
        (
            ProtocolVersion::V_2026_07_28,
            ClientLifecycleMode::Discover { preferred_versions: vec![ProtocolVersion::V_2026_07_28] },
        ),
    ]
}

#[tokio::test]
async fn over_http_an_elicitation_approval_lets_the_call_through_once() {
    for (version, lifecycle) in answerable_http() {
        let setup = Setup::new("elicit-http-approve").await;
        let person = Person::approving();
        let (_server, session) = setup.connect_http(person.clone(), version.clone(), lifecycle).await;
        let result = stop_vm(&session).await;
        assert!(!is_error(&result), "{version:?}: {}", text(&result));
        let asked = person.asked();
        assert_eq!(asked.len(), 1, "{version:?}");
        for part in ["vm_stop", "vm.stop", "/tools/vm_stop/x-approval", "risk: write"] {
            assert!(asked[0].contains(part), "{version:?}: `{part}` missing from: {}", asked[0]);
        }
        assert_eq!(nas_calls_of(&setup.nas, "vm.stop").len(), 1, "{version:?}");
        approved_and_used(&setup);
        // Single use: the next identical call asks the person again.
        stop_vm(&session).await;
        assert_eq!(person.asked().len(), 2, "{version:?}");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn over_http_an_elicitation_denial_reaches_the_agent_with_its_reason_and_nothing_is_sent() {
    for (version, lifecycle) in answerable_http() {
        let setup = Setup::new("elicit-http-deny").await;
        let (_server, session) =
            setup.connect_http(Person::denying("not during backups"), version.clone(), lifecycle).await;
        let result = stop_vm(&session).await;
        assert!(is_error(&result), "{version:?}");
        let said = text(&result);
        assert!(
            said.starts_with("[APPROVAL DENIED] vm_stop was denied by mcp-client:elicit-test"),
            "{version:?}: {said}"
        );
        assert!(said.ends_with(": not during backups"), "{version:?}: {said}");
        assert!(nas_calls_of(&setup.nas, "vm.stop").is_empty(), "{version:?}");
        let denied = Some("mcp-client:elicit-test".to_owned());
        assert_eq!(setup.approval_events(), vec![("requested".to_owned(), None), ("denied".to_owned(), denied)]);
        session.cancel().await.unwrap();
    }
}

/// A 2025-11-25 client without a session (it used `server/discover`) cannot get a server
/// request's answer back to the held call (rmcp's sessionless path refuses JSON-RPC
/// responses): the server does not ask it, and the call answers `[APPROVAL REQUIRED]` at once
/// instead of hanging until the approval expires.
#[tokio::test]
async fn over_sessionless_http_a_2025_client_is_not_asked_and_gets_approval_required() {
    let setup = Setup::new("elicit-http-sessionless").await;
    let person = Person::approving();
    let version = ProtocolVersion::V_2025_11_25;
    let lifecycle = ClientLifecycleMode::Discover { preferred_versions: vec![version.clone()] };
    let (_server, session) = setup.connect_http(person.clone(), version, lifecycle).await;
    let result = stop_vm(&session).await;
    assert!(text(&result).starts_with("[APPROVAL REQUIRED] vm_stop needs approval "), "{}", text(&result));
    assert!(person.asked().is_empty(), "{:?}", person.asked());
    assert!(nas_calls_of(&setup.nas, "vm.stop").is_empty());
    session.cancel().await.unwrap();
}
