//! REST `/api/v2.0` of the simulated NAS, spoken raw: bearer auth and TrueNAS's refusals, the
//! REST-only switch, requests recorded as the calls they stand for, error shapes.

use serde_json::{Value, json};

use super::super::{DEMO_API_KEY, SimConfig, SimHandle, start};
use truenas_api::schema::Release;

async fn rest_sim(release: Release) -> SimHandle {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    start(listener, SimConfig { release, rest_only: true, ..SimConfig::default() }).await.unwrap()
}

async fn get(sim: &SimHandle, path: &str, key: Option<&str>) -> (u16, String) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", sim.url()));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn a_rest_only_nas_has_no_json_rpc_and_checks_the_bearer_key() {
    let sim = rest_sim(Release::V25_10).await;
    assert_eq!(get(&sim, "/api/versions", None).await.0, 404);
    assert_eq!(get(&sim, "/api/current", None).await.0, 404);
    assert_eq!(get(&sim, "/api/v2.0/system/version", None).await, (401, "401: Unauthorized".into()));
    assert_eq!(get(&sim, "/api/v2.0/system/version", Some("1-wrong")).await, (401, "Invalid API key".into()));
    let (status, body) = get(&sim, "/api/v2.0/system/version", Some(DEMO_API_KEY)).await;
    assert_eq!((status, body), (200, "\"TrueNAS-25.10.5\"".into()));
    let calls = sim.recorder().calls();
    assert_eq!(calls.len(), 1, "refused requests run nothing: {calls:?}");
    assert_eq!((calls[0].method.as_str(), &calls[0].params), ("system.version", &json!([])));
}

#[tokio::test]
async fn rest_requests_run_as_their_calls_with_rest_error_shapes() {
    let sim = rest_sim(Release::V25_10).await;
    let (status, body) = get(&sim, "/api/v2.0/vm?id=1", Some(DEMO_API_KEY)).await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()[0]["id"], 1);
    assert_eq!(sim.recorder().calls()[0].params, json!([[["id", "=", 1]], {}]));
    let (status, body) = get(&sim, "/api/v2.0/vm/id/4242", Some(DEMO_API_KEY)).await;
    assert_eq!(status, 404, "{body}");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["message"].as_str().unwrap().contains("4242"));
    assert_eq!(get(&sim, "/api/v2.0/no/such/thing", Some(DEMO_API_KEY)).await.0, 404);
    sim.faults().fail_next("vm.query", "EBUSY", "busy");
    let (status, body) = get(&sim, "/api/v2.0/vm", Some(DEMO_API_KEY)).await;
    assert_eq!((status, serde_json::from_str::<Value>(&body).unwrap()), (422, json!({"message": "busy", "errno": 16})));
}

#[tokio::test]
async fn truenas_26_serves_no_rest() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = start(listener, SimConfig { release: Release::V26_0, ..SimConfig::default() }).await.unwrap();
    assert_eq!(get(&sim, "/api/v2.0/system/version", Some(DEMO_API_KEY)).await.0, 404);
}
