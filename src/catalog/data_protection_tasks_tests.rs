//! The cron, rsync, init/shutdown and keychain actions of `data_protection` build exactly the
//! expected middleware calls, come in the reference's order, run their `run` methods as jobs,
//! and carry the risk classes argued for in `tools/data_protection_tasks.toml`.

use serde_json::{Value, json};

use super::test_support::*;
use super::*;
use crate::ids::Risk;
use crate::schema::{MethodTable, Release};

/// The name prefixes of the actions this file covers (the rest of the category is elsewhere).
const PREFIXES: [&str; 4] = ["cronjob_", "rsync_task_", "initshutdown_", "keychaincredential_"];

fn mine(catalog: &Catalog) -> Vec<String> {
    let category = catalog.category("data_protection").unwrap();
    let names = category.actions.iter().map(|a| a.as_str().to_string());
    names.filter(|n| PREFIXES.iter().any(|p| n.starts_with(p))).collect()
}

/// (action, arguments, expected method, expected positional params).
fn cases() -> Vec<(&'static str, Value, &'static str, Value)> {
    let schedule = json!({"minute": "0", "hour": "7", "dom": "*", "month": "*", "dow": "*"});
    vec![
        ("cronjob_list", json!({}), "cronjob.query", json!([])),
        (
            "cronjob_create",
            json!({"user": "root", "command": "zpool status -x", "schedule": schedule}),
            "cronjob.create",
            json!([{"user": "root", "command": "zpool status -x", "schedule": schedule}]),
        ),
        ("cronjob_update", json!({"id": 1, "enabled": false}), "cronjob.update", json!([1, {"enabled": false}])),
        ("cronjob_delete", json!({"id": 2}), "cronjob.delete", json!([2])),
        ("cronjob_run", json!({"id": 1}), "cronjob.run", json!([1])),
        ("rsync_task_list", json!({}), "rsynctask.query", json!([])),
        (
            "rsync_task_create",
            json!({"path": "/mnt/tank/a", "user": "root", "mode": "SSH", "direction": "PUSH", "ssh_credentials": 2,
                "remotepath": "/b"}),
            "rsynctask.create",
            json!([{"path": "/mnt/tank/a", "user": "root", "mode": "SSH", "remotepath": "/b", "direction": "PUSH",
                "ssh_credentials": 2}]),
        ),
        (
            "rsync_task_update",
            json!({"id": 1, "remoteport": 2222}),
            "rsynctask.update",
            json!([1, {"remoteport": 2222}]),
        ),
        ("rsync_task_delete", json!({"id": 2}), "rsynctask.delete", json!([2])),
        ("rsync_task_run", json!({"id": 1}), "rsynctask.run", json!([1])),
        ("initshutdown_list", json!({}), "initshutdownscript.query", json!([])),
        (
            "initshutdown_create",
            json!({"type": "SCRIPT", "script": "/mnt/tank/scripts/up.sh", "when": "POSTINIT", "timeout": 30}),
            "initshutdownscript.create",
            json!([{"type": "SCRIPT", "script": "/mnt/tank/scripts/up.sh", "when": "POSTINIT", "timeout": 30}]),
        ),
        (
            "initshutdown_update",
            json!({"id": 1, "enabled": false}),
            "initshutdownscript.update",
            json!([1, {"enabled": false}]),
        ),
        ("initshutdown_delete", json!({"id": 2}), "initshutdownscript.delete", json!([2])),
        ("keychaincredential_list", json!({}), "keychaincredential.query", json!([])),
        (
            "keychaincredential_create",
            json!({"name": "nas2", "type": "SSH_CREDENTIALS",
                "attributes": {"host": "nas2", "private_key": 1, "remote_host_key": "ssh-ed25519 AAAA"}}),
            "keychaincredential.create",
            json!([{"name": "nas2", "type": "SSH_CREDENTIALS",
                "attributes": {"host": "nas2", "private_key": 1, "remote_host_key": "ssh-ed25519 AAAA"}}]),
        ),
        // No `cascade`: a credential in use is refused, never unbound behind the agent's back.
        ("keychaincredential_delete", json!({"id": 3}), "keychaincredential.delete", json!([3])),
        ("keychaincredential_generate_ssh_key", json!({}), "keychaincredential.generate_ssh_key_pair", json!([])),
        (
            "keychaincredential_remote_ssh_scan",
            json!({"host": "nas2", "port": 2222}),
            "keychaincredential.remote_ssh_host_key_scan",
            json!([{"host": "nas2", "port": 2222}]),
        ),
    ]
}

#[test]
fn task_and_keychain_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    for (name, args, method, expected) in cases() {
        let params = assert_builds(&catalog, name, Some(method), &args, &expected);
        for release in Release::ALL {
            MethodTable::get(release).validate(method, &params).unwrap_or_else(|e| panic!("{release} {name}: {e}"));
        }
    }
    for action in mine(&catalog) {
        assert!(cases().iter().any(|(n, ..)| *n == action), "no case for {action}");
    }
}

#[test]
fn task_and_keychain_actions_come_in_reference_order() {
    assert_eq!(
        mine(&builtin()),
        [
            "cronjob_list",
            "cronjob_create",
            "cronjob_update",
            "cronjob_delete",
            "cronjob_run",
            "rsync_task_list",
            "rsync_task_create",
            "rsync_task_update",
            "rsync_task_delete",
            "rsync_task_run",
            "initshutdown_list",
            "initshutdown_create",
            "initshutdown_update",
            "initshutdown_delete",
            "keychaincredential_list",
            "keychaincredential_create",
            "keychaincredential_delete",
            "keychaincredential_generate_ssh_key",
            "keychaincredential_remote_ssh_scan",
        ]
    );
}

#[test]
fn runs_are_jobs_and_arbitrary_commands_are_destructive() {
    let catalog = builtin();
    let table = MethodTable::get(Release::V25_10);
    for name in mine(&catalog) {
        let action = catalog.action(&name).unwrap();
        let job = table.method(action.method.as_str()).unwrap().job;
        assert_eq!(job, name.ends_with("_run"), "{name}");
        assert!(action.confirm.is_none(), "the reference gates none of {name}");
    }
    let risk = |name: &str| catalog.action(name).unwrap().risk;
    for name in [
        "cronjob_create",
        "cronjob_update",
        "cronjob_run",
        "initshutdown_create",
        "initshutdown_update",
        "rsync_task_run",
        "keychaincredential_delete",
    ] {
        assert_eq!(risk(name), Risk::Destructive, "{name}");
    }
    for name in ["cronjob_delete", "rsync_task_create", "keychaincredential_create"] {
        assert_eq!(risk(name), Risk::Write, "{name}");
    }
    assert_eq!(risk("keychaincredential_remote_ssh_scan"), Risk::Read);
}
