//! Jobs over the wire: ids, `core.get_jobs` events, abort, new-style jobs, `core.get_jobs`.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Client, sim};

#[tokio::test]
async fn vm_stop_is_a_job_whose_events_end_in_success() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let sub = c.call("core.subscribe", json!(["core.get_jobs"])).await;
    assert_eq!(sub.as_str().map(str::len), Some(36), "a uuid");
    let id = c.call("vm.stop", json!([1])).await;
    assert!(id.is_u64(), "legacy jobs reply with the job id: {id}");
    let events = c.job_events(&id).await;
    assert_eq!(events[0].0, "added");
    assert_eq!(events[0].1["state"], "WAITING");
    assert!(events[1..].iter().all(|(msg, _)| msg == "changed"));
    let percents: Vec<i64> = events.iter().map(|(_, j)| j["progress"]["percent"].as_i64().unwrap()).collect();
    assert!(percents.windows(2).all(|w| w[0] <= w[1]), "progress never goes back: {percents:?}");
    assert!(percents.iter().filter(|p| **p > 0 && **p < 100).count() >= 3, "{percents:?}");
    let last = &events.last().unwrap().1;
    assert_eq!(last["state"], "SUCCESS");
    assert_eq!(last["progress"]["percent"], 100);
    assert_eq!(last["method"], "vm.stop");
    assert_eq!(last["arguments"], json!([1]));
    assert_eq!(last["abortable"], false);
    assert_eq!(last["error"], Value::Null);
    assert!(last["time_finished"]["$date"].is_u64());
    assert_eq!(c.call("vm.status", json!([1])).await["state"], "STOPPED");
}

#[tokio::test]
async fn stopping_a_stopped_vm_fails_the_job() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    let id = c.call("vm.stop", json!([2])).await;
    let end = c.job_end(&id).await;
    assert_eq!(end["state"], "FAILED");
    assert_eq!(end["error"], "[EFAULT] 2_windows11 domain is not active");
    assert_eq!(end["exc_info"]["type"], "CallError");
    let id = c.call("vm.stop", json!([99])).await;
    let end = c.job_end(&id).await;
    assert_eq!(end["error"], "[ENOENT] None: VM 99 does not exist\n");
    assert_eq!(end["exc_info"]["type"], "VALIDATION");
}

#[tokio::test]
async fn job_abort_stops_a_waiting_job_and_leaves_a_running_one() {
    let sim = sim().await;
    sim.faults().set_job_step(Duration::from_millis(60));
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    let first = c.call("vm.stop", json!([3])).await;
    let second = c.call("vm.stop", json!([3])).await;
    // The second waits for the first's lock, so it can still be aborted.
    let jobs = c.call("core.get_jobs", json!([[["id", "=", second.clone()]], {"get": true}])).await;
    assert_eq!(jobs["state"], "WAITING");
    assert_eq!(c.call("core.job_abort", json!([second.clone()])).await, Value::Null);
    // vm.stop is not abortable once it runs: the middleware ignores the request.
    assert_eq!(c.call("core.job_abort", json!([first.clone()])).await, Value::Null);
    assert_eq!(c.job_end(&second).await["state"], "ABORTED");
    assert_eq!(c.job_end(&first).await["state"], "SUCCESS");
    let err = c.error("core.job_abort", json!([4242])).await;
    assert_eq!(err["data"]["errname"], "ENOENT");
}

#[tokio::test]
async fn events_only_reach_subscribers() {
    let sim = sim().await;
    let mut quiet = Client::logged_in(&sim).await;
    let mut loud = Client::logged_in(&sim).await;
    let sub = loud.call("core.subscribe", json!(["core.get_jobs"])).await;
    let id = quiet.call("vm.restart", json!([1])).await;
    assert_eq!(loud.job_end(&id).await["state"], "SUCCESS");
    assert_eq!(quiet.call("core.ping", json!([])).await, "pong");
    assert!(quiet.notifications.is_empty(), "{:?}", quiet.notifications);
    loud.call("core.unsubscribe", json!([sub])).await;
    quiet.call("vm.restart", json!([1])).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(loud.call("core.ping", json!([])).await, "pong");
    assert!(loud.notifications.is_empty(), "{:?}", loud.notifications);
}

#[tokio::test]
async fn new_style_jobs_reply_with_the_outcome() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let options = c.call("core.set_options", json!([{"legacy_jobs": false}])).await;
    assert_eq!(options["legacy_jobs"], false);
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    let reply = c.request("vm.stop", json!([1, {"force": true}])).await;
    assert_eq!(reply["result"], Value::Null);
    let added = c.notifications.iter().find(|n| n["params"]["msg"] == "added").unwrap();
    assert_eq!(added["params"]["fields"]["message_ids"], json!([reply["id"]]));
    let err = c.error("vm.stop", json!([1])).await;
    assert_eq!(err["code"], -32001);
    assert_eq!(err["data"]["reason"], "[EFAULT] 1_ubuntu_server domain is not active");
}

#[tokio::test]
async fn core_get_jobs_is_a_query_and_job_wait_mirrors_a_job() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["core.get_jobs"])).await;
    let stop = c.call("vm.stop", json!([3])).await;
    let wait = c.call("core.job_wait", json!([stop.clone()])).await;
    assert_eq!(c.job_end(&wait).await["state"], "SUCCESS");
    let done = c.call("core.get_jobs", json!([[["method", "=", "vm.stop"], ["state", "=", "SUCCESS"]]])).await;
    assert_eq!(done.as_array().unwrap().len(), 1);
    assert_eq!(done[0]["id"], stop);
    let count = c.call("core.get_jobs", json!([[], {"count": true}])).await;
    assert_eq!(count, 2);
    let selected = c.call("core.get_jobs", json!([[["id", "=", stop]], {"select": ["state"], "get": true}])).await;
    assert_eq!(selected, json!({"state": "SUCCESS"}));
}
