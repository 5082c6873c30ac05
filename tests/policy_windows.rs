//! Maintenance windows (`x-when`) and the new predicate ops as an agent meets them, through
//! the real binary on the real clock: windows that are certainly open or certainly closed.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::util::*;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Yesterday's weekday (UTC): a window on that day alone is closed now, and opens in 5 to 6
/// days (more than 4 even if midnight passes during the test).
fn yesterday() -> &'static str {
    let day = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() / 86_400;
    DAYS[((day + 3 + 6) % 7) as usize]
}

fn denied_by(result: &rmcp::model::CallToolResult, rule: &str) -> String {
    let t = text(result);
    assert!(is_error(result), "{t}");
    assert!(t.starts_with("[POLICY DENIED] "), "{t}");
    assert!(t.ends_with(&format!("(rule: {rule})")), "{t}");
    t
}

/// The seconds of `retry after N s` in a denial.
fn retry_after(t: &str) -> u64 {
    let rest = t.split("retry after ").nth(1).unwrap_or_else(|| panic!("no retry after in {t}"));
    rest.split(' ').next().unwrap().parse().unwrap()
}

#[tokio::test]
async fn calls_inside_an_open_window_pass_and_outside_are_denied_with_the_wait() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("windows");
    let policy = policy_file(
        &dir,
        "p.json",
        &json!({"version": "1", "default": "deny",
            "tools": {
                "vm_start": {"x-when": {"days": DAYS, "hours": "00:00-24:00"}},
                "vm_stop": {"x-when": [{"days": [yesterday()]}]}
            },
            "x-risk-defaults": {"destructive": {"effect": "allow", "x-when": {"days": [yesterday()], "hours": "00:00-24:00"}}}}),
    );
    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;

    let start = truenas(&session, "vm", "vm_start", json!({"id": 1})).await;
    assert!(!text(&start).contains("[POLICY DENIED]"), "{}", text(&start));
    assert_eq!(nas_calls_of(&nas, "vm.start").len(), 1);

    let stop = truenas(&session, "vm", "vm_stop", json!({"id": 1})).await;
    let t = denied_by(&stop, "/tools/vm_stop/x-when");
    assert!(
        t.contains(&format!("`vm_stop` is only allowed {} (all day, UTC) (maintenance window)", yesterday())),
        "{t}"
    );
    let wait = retry_after(&t);
    assert!((4 * 86_400..=6 * 86_400).contains(&wait), "{wait} s in {t}");

    let delete = truenas(&session, "vm", "vm_delete", json!({"id": 1, "confirm": true})).await;
    let t = denied_by(&delete, "/x-risk-defaults/destructive/x-when");
    assert!((4 * 86_400..=6 * 86_400).contains(&retry_after(&t)), "{t}");

    assert!(
        nas_calls_of(&nas, "vm.stop").is_empty() && nas_calls_of(&nas, "vm.delete").is_empty(),
        "nothing denied was sent"
    );
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn glob_cidr_and_between_decide_on_canonical_arguments_and_deny_what_they_cannot_read() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("ops");
    let policy = policy_file(
        &dir,
        "p.json",
        &json!({"version": "1", "default": "deny", "tools": {
            "snapshot_create": {"require": [{"path": "args.dataset", "op": "glob", "value": "tank/agents/**"}]},
            "vm_create": {"require": [{"path": "args.memory", "op": "between", "value": [512, 16384]}]},
            "rsync_task_create": {"require": [{"path": "args.remotehost", "op": "cidr", "value": "192.168.50.0/24"}]}
        }}),
    );
    let (session, _) = connect_stdio(&nas, &["--policy", policy.to_str().unwrap()]).await;
    let snap = |dataset: &str| json!({"dataset": dataset, "name": "s1"});

    let inside = truenas(&session, "storage", "snapshot_create", snap("tank/agents/a")).await;
    assert!(!text(&inside).contains("[POLICY DENIED]"), "{}", text(&inside));
    assert_eq!(nas_calls_of(&nas, "pool.snapshot.create").len(), 1, "the allowed call was sent");

    // `..` would walk out of the glob: the argument is refused before any rule reads it.
    let escape = truenas(&session, "storage", "snapshot_create", snap("tank/agents/../media")).await;
    assert!(is_error(&escape) && text(&escape).contains("not a canonical dataset name"), "{}", text(&escape));
    let outside = truenas(&session, "storage", "snapshot_create", snap("tank/media")).await;
    let t = denied_by(&outside, "/tools/snapshot_create/require/args.dataset-glob");
    assert!(t.contains("`args.dataset` must match the glob `tank/agents/**`"), "{t}");
    assert_eq!(nas_calls_of(&nas, "pool.snapshot.create").len(), 1, "neither refused call was sent");

    let big = truenas(&session, "vm", "vm_create", json!({"name": "agent-1", "memory": 32768})).await;
    let t = denied_by(&big, "/tools/vm_create/require/args.memory-between");
    assert!(t.contains("`args.memory` must be within `[512,16384]` (inclusive)"), "{t}");

    let rsync = |host: &str| json!({"path": "/mnt/tank/agents", "user": "root", "mode": "SSH", "direction": "PUSH", "remotehost": host});
    let name = truenas(&session, "data_protection", "rsync_task_create", rsync("backup.lan")).await;
    let t = denied_by(&name, "/tools/rsync_task_create/require/args.remotehost-cidr");
    assert!(t.contains("is a string that is not an IP address, but `cidr` needs an IP address string"), "{t}");
    let far = truenas(&session, "data_protection", "rsync_task_create", rsync("10.0.0.7")).await;
    denied_by(&far, "/tools/rsync_task_create/require/args.remotehost-cidr");
    assert!(nas_methods(&nas).iter().all(|m| m != "vm.create" && m != "rsynctask.create"), "{:?}", nas_methods(&nas));
    session.cancel().await.unwrap();
}
