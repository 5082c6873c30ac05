use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::broadcast;

use super::*;
use crate::events::Event;

fn engine() -> (JobEngine, broadcast::Receiver<Event>, Faults) {
    let events = EventBus::default();
    let rx = events.subscribe();
    let faults = Faults::default();
    faults.set_job_step(Duration::from_millis(10));
    (JobEngine::new(events, faults.clone(), CancellationToken::new()), rx, faults)
}

fn spec(abortable: bool, lock: Option<&str>) -> JobSpec {
    JobSpec {
        method: "vm.stop".into(),
        arguments: json!([1]),
        description: None,
        abortable,
        lock: lock.map(str::to_string),
        credentials: Value::Null,
        message_ids: vec![json!(7)],
    }
}

/// A job that reports three steps and returns 42.
fn stepping(ctx: JobCtx) -> JobFuture {
    Box::pin(async move {
        for percent in [25, 50, 75] {
            ctx.progress(percent, "working");
            ctx.step().await;
        }
        Ok(json!(42))
    })
}

/// Every event up to and including the one that finishes job `id`.
async fn events_until_done(rx: &mut broadcast::Receiver<Event>, id: u64) -> Vec<Value> {
    let mut seen = Vec::new();
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
        let fields = event.fields.clone().unwrap();
        if event.id != json!(id) {
            continue;
        }
        assert_eq!(event.collection, JOBS_COLLECTION);
        let finished = ["SUCCESS", "FAILED", "ABORTED"].contains(&fields["state"].as_str().unwrap());
        seen.push(json!({"change": format!("{:?}", event.change), "job": fields}));
        if finished {
            return seen;
        }
    }
}

#[tokio::test]
async fn a_job_goes_waiting_running_progress_success() {
    let (jobs, mut rx, _) = engine();
    let id = jobs.submit(spec(false, None), stepping);
    let seen = events_until_done(&mut rx, id).await;
    let states: Vec<&str> = seen.iter().map(|e| e["job"]["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["WAITING", "RUNNING", "RUNNING", "RUNNING", "RUNNING", "SUCCESS"]);
    assert_eq!(seen[0]["change"], "Added");
    assert!(seen[1..].iter().all(|e| e["change"] == "Changed"));
    let percents: Vec<i64> = seen.iter().map(|e| e["job"]["progress"]["percent"].as_i64().unwrap()).collect();
    assert_eq!(percents, [0, 0, 25, 50, 75, 100]);
    let last = &seen[5]["job"];
    assert_eq!(last["result"], 42);
    assert_eq!(last["message_ids"], json!([7]));
    assert!(last["time_started"]["$date"].is_u64());
    assert!(last["time_finished"]["$date"].is_u64());
    assert_eq!(seen[0]["job"]["time_finished"], Value::Null);
    assert_eq!(jobs.wait(id).await, Some(Outcome::Success(json!(42))));
}

#[tokio::test]
async fn failures_are_encoded_as_the_middleware_does() {
    let (jobs, mut rx, _) = engine();
    let id = jobs.submit(spec(false, None), |_| Box::pin(async { Err(Failure::fault("1_x domain is not active")) }));
    let seen = events_until_done(&mut rx, id).await;
    let job = &seen.last().unwrap()["job"];
    assert_eq!(job["state"], "FAILED");
    assert_eq!(job["error"], "[EFAULT] 1_x domain is not active");
    assert_eq!(job["exc_info"]["type"], "CallError");
    assert_eq!(job["exc_info"]["errno"], 14);
    assert_eq!(job["result"], Value::Null);
    assert!(job["exception"].as_str().unwrap().contains("CallError"));

    let id = jobs.submit(spec(false, None), |_| Box::pin(async { Err(Failure::not_found("VM 9 does not exist")) }));
    let job = events_until_done(&mut rx, id).await.pop().unwrap()["job"].clone();
    assert_eq!(job["exc_info"]["type"], "VALIDATION");
    assert_eq!(job["exc_info"]["extra"], json!([[null, "VM 9 does not exist", 2]]));
}

#[tokio::test]
async fn an_abortable_running_job_aborts() {
    let (jobs, mut rx, faults) = engine();
    faults.set_job_step(Duration::from_secs(30));
    let id = jobs.submit(spec(true, None), stepping);
    // Wait until it runs.
    loop {
        let e = rx.recv().await.unwrap();
        if e.fields.unwrap()["state"] == "RUNNING" {
            break;
        }
    }
    jobs.abort(id).unwrap();
    let job = events_until_done(&mut rx, id).await.pop().unwrap()["job"].clone();
    assert_eq!(job["state"], "ABORTED");
    assert_eq!(job["error"], Value::Null);
    assert_eq!(jobs.wait(id).await, Some(Outcome::Aborted));
}

#[tokio::test]
async fn a_running_job_that_is_not_abortable_ignores_abort() {
    let (jobs, mut rx, _) = engine();
    let id = jobs.submit(spec(false, None), stepping);
    loop {
        let e = rx.recv().await.unwrap();
        if e.fields.unwrap()["state"] == "RUNNING" {
            break;
        }
    }
    jobs.abort(id).unwrap();
    assert_eq!(jobs.wait(id).await, Some(Outcome::Success(json!(42))));
}

#[tokio::test]
async fn jobs_sharing_a_lock_wait_and_a_waiting_job_aborts() {
    let (jobs, _rx, faults) = engine();
    faults.set_job_step(Duration::from_millis(100));
    let first = jobs.submit(spec(false, Some("stop_vm_1")), stepping);
    let second = jobs.submit(spec(false, Some("stop_vm_1")), stepping);
    let state = |id: u64| jobs.dicts().into_iter().find(|j| j["id"] == id).unwrap()["state"].clone();
    while state(first) == "WAITING" {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(state(first), "RUNNING");
    assert_eq!(state(second), "WAITING");
    jobs.abort(second).unwrap();
    assert_eq!(jobs.wait(second).await, Some(Outcome::Aborted));
    assert_eq!(jobs.wait(first).await, Some(Outcome::Success(json!(42))));
    // The lock is free again for the next job.
    let third = jobs.submit(spec(false, Some("stop_vm_1")), stepping);
    assert_eq!(jobs.wait(third).await, Some(Outcome::Success(json!(42))));
}

#[tokio::test]
async fn aborting_an_unknown_job_is_enoent() {
    let (jobs, _rx, _) = engine();
    let err = jobs.abort(99).unwrap_err();
    assert_eq!(err.to_rpc_error()["data"]["errname"], "ENOENT");
}
