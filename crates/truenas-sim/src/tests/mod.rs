//! Tests that start the simulated NAS on `127.0.0.1:0` and talk raw JSON-RPC to it over a real
//! websocket, as any TrueNAS client would.

mod admin;
mod admin_shapes;
mod apps;
mod jobs;
mod protocol;
mod rest;
mod shapes;
mod sharing;
mod storage;
mod vm;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{DEMO_API_KEY, DEMO_USERNAME, SimConfig, SimHandle, start};

/// How long a test waits for any one frame.
const WAIT: Duration = Duration::from_secs(5);

/// A simulated NAS with fast jobs.
async fn sim() -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let handle = start(listener, SimConfig::default()).await.unwrap();
    handle.faults().set_job_step(Duration::from_millis(10));
    handle
}

/// A raw JSON-RPC client that keeps notifications aside while it waits for replies.
struct Client {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    notifications: Vec<Value>,
}

impl Client {
    async fn connect(sim: &SimHandle) -> Client {
        Client::connect_path(sim, "/api/current").await
    }

    async fn connect_path(sim: &SimHandle, path: &str) -> Client {
        let url = format!("ws://{}{path}", sim.local_addr());
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Client { ws, next_id: 1, notifications: Vec::new() }
    }

    async fn logged_in(sim: &SimHandle) -> Client {
        let mut client = Client::connect(sim).await;
        // `auth.login_ex` with the username: every JSON-RPC release has it (27 lacks the key-only login).
        let login = json!([{"mechanism": "API_KEY_PLAIN", "username": DEMO_USERNAME, "api_key": DEMO_API_KEY}]);
        assert_eq!(client.call("auth.login_ex", login).await["response_type"], "SUCCESS");
        client
    }

    /// A logged-in client subscribed to job events.
    async fn following_jobs(sim: &SimHandle) -> Client {
        let mut client = Client::logged_in(sim).await;
        client.call("core.subscribe", json!(["core.get_jobs"])).await;
        client
    }

    /// What a call of `method` on `release` comes to: its result, or for a job method the
    /// result of the job, which must succeed.
    async fn outcome(&mut self, release: truenas_api::schema::Release, method: &str, params: Value) -> Value {
        let result = self.call(method, params).await;
        if !truenas_api::schema::MethodTable::get(release).method(method).is_some_and(|m| m.job) {
            return result;
        }
        let end = self.job_end(&result).await;
        assert_eq!(end["state"], "SUCCESS", "{release} {method}: {end}");
        end["result"].clone()
    }

    /// Runs a job method to its end and returns the final job dict.
    async fn run_job(&mut self, method: &str, params: Value) -> Value {
        let id = self.call(method, params).await;
        assert!(id.is_u64(), "{method} is a job: {id}");
        self.job_end(&id).await
    }

    async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    async fn send(&mut self, value: Value) {
        self.send_text(&value.to_string()).await;
    }

    /// The next frame: `Some(json)` for text, `None` once the socket is closed or broken.
    async fn frame(&mut self) -> Option<Result<Value, Message>> {
        match tokio::time::timeout(WAIT, self.ws.next()).await.expect("no frame within 5 s") {
            Some(Ok(Message::Text(text))) => Some(Ok(serde_json::from_str(text.as_str()).unwrap())),
            Some(Ok(other)) => Some(Err(other)),
            Some(Err(_)) | None => None,
        }
    }

    /// The next JSON message, keeping nothing aside.
    async fn recv(&mut self) -> Value {
        match self.frame().await {
            Some(Ok(value)) => value,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Sends a request and returns its whole reply, stashing notifications on the way.
    async fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})).await;
        self.reply_to(json!(id)).await
    }

    async fn reply_to(&mut self, id: Value) -> Value {
        loop {
            let message = self.recv().await;
            if message.get("id") == Some(&id) {
                return message;
            }
            assert_eq!(message["method"], "collection_update", "unexpected message {message}");
            self.notifications.push(message);
        }
    }

    /// The result of a call that must succeed.
    async fn call(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params).await;
        assert!(reply.get("error").is_none(), "{method} failed: {reply}");
        reply["result"].clone()
    }

    /// The error object of a call that must fail.
    async fn error(&mut self, method: &str, params: Value) -> Value {
        let reply = self.request(method, params).await;
        assert!(reply.get("result").is_none(), "{method} succeeded: {reply}");
        reply["error"].clone()
    }

    /// Every `core.get_jobs` job dict of job `id`, in order, until it finishes.
    /// Other notifications stay stashed for later.
    async fn job_events(&mut self, id: &Value) -> Vec<(String, Value)> {
        let mut seen = Vec::new();
        let mut pending: Vec<Value> = std::mem::take(&mut self.notifications);
        pending.reverse();
        loop {
            let message = match pending.pop() {
                Some(m) => m,
                None => self.recv().await,
            };
            let params = &message["params"];
            if params["collection"] != "core.get_jobs" || &params["id"] != id {
                self.notifications.push(message);
                continue;
            }
            let fields = params["fields"].clone();
            seen.push((params["msg"].as_str().unwrap().to_string(), fields.clone()));
            if ["SUCCESS", "FAILED", "ABORTED"].contains(&fields["state"].as_str().unwrap()) {
                pending.reverse();
                self.notifications.extend(pending);
                return seen;
            }
        }
    }

    /// The final job dict of job `id`.
    async fn job_end(&mut self, id: &Value) -> Value {
        self.job_events(id).await.pop().unwrap().1
    }
}

#[tokio::test]
async fn demo_credentials_have_the_truenas_key_format() {
    let (id, key) = DEMO_API_KEY.split_once('-').unwrap();
    assert_eq!(id, "1");
    assert_eq!(key.len(), 64);
    assert!(key.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(DEMO_USERNAME, "truenas_admin");
    assert!(!format!("{:?}", SimConfig::default()).contains(DEMO_API_KEY), "the key stays out of Debug");
}
