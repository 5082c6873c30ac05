//! Calls made exactly as the reference server documents them (its parameter names, only its
//! required ones) through the real binary, on every release where they apply: what the
//! simulated NAS received (it checks every params array against TrueNAS's own schema) and what
//! the agent got back. Reads a call makes first are part of the one guarded call: a denied call
//! reads nothing, and the audit holds the action once.

use serde_json::{Value, json};
use truenas_mcp::schema::Release;
use truenas_sim::SimHandle;

use crate::util::*;

/// An allow-all flat session on a fresh NAS of `release`.
async fn open(release: Release, dir: &tempdir::Dir) -> (SimHandle, Session) {
    let nas = start_sim_release(release).await;
    let open = policy_file(dir, "open.json", &json!({"version": "1", "default": "allow"}));
    let (session, _) = connect_stdio(&nas, &["--tool-mode", "flat", "--policy", open.to_str().unwrap()]).await;
    (nas, session)
}

/// Calls `action` with `args`, first clearing the recorder.
async fn call(nas: &SimHandle, session: &Session, action: &str, args: Value) -> rmcp::model::CallToolResult {
    nas.recorder().clear();
    flat(session, action, args).await
}

const JSON_RPC: [Release; 3] = [Release::V25_04, Release::V25_10, Release::V26_0];

#[tokio::test]
async fn disk_wipe_takes_the_references_id_and_refuses_one_that_differs_from_dev_name() {
    let dir = tempdir::Dir::new("compat-wipe");
    for release in JSON_RPC {
        let (nas, session) = open(release, &dir).await;
        let both = json!({"id": "sde", "dev_name": "sde", "mode": "QUICK", "confirm": true});
        let r = call(&nas, &session, "disk_wipe", both).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        assert_eq!(nas_calls_of(&nas, "disk.wipe"), [json!(["sde", "QUICK", true])], "{release}");

        let alone = call(&nas, &session, "disk_wipe", json!({"id": "sde", "mode": "QUICK", "confirm": true})).await;
        assert!(!is_error(&alone), "{release}: {}", text(&alone));
        assert_eq!(nas_calls_of(&nas, "disk.wipe"), [json!(["sde", "QUICK", true])], "{release}");

        let differ = json!({"id": "sde", "dev_name": "sdf", "mode": "QUICK", "confirm": true});
        let r = call(&nas, &session, "disk_wipe", differ).await;
        assert!(is_error(&r) && text(&r).contains("`id` must equal `dev_name`"), "{release}: {}", text(&r));
        assert!(nas_methods(&nas).is_empty(), "{release}: nothing sent: {:?}", nas_methods(&nas));
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn alertservice_test_by_id_tests_the_saved_definition() {
    let dir = tempdir::Dir::new("compat-alert-test");
    for release in [Release::V24_10, Release::V25_04, Release::V25_10, Release::V26_0] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "alertservice_test", json!({"id": 2})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        let sent = nas_calls_of(&nas, "alertservice.test");
        assert_eq!(sent.len(), 1, "{release}: {:?}", nas_methods(&nas));
        let definition = &sent[0][0];
        assert_eq!(definition["name"], "Homelab Slack", "{release}: {definition}");
        assert_eq!(definition["level"], "ERROR", "{release}: {definition}");
        let kind = definition["attributes"]["type"].as_str().or(definition["type"].as_str());
        assert_eq!(kind, Some("Slack"), "{release}: {definition}");

        let r = call(&nas, &session, "alertservice_test", json!({"id": 99})).await;
        assert!(is_error(&r) && text(&r).contains("no alert service has this `id`"), "{release}: {}", text(&r));
        assert!(nas_calls_of(&nas, "alertservice.test").is_empty(), "{release}");

        let r = call(&nas, &session, "alertservice_test", json!({"name": "x"})).await;
        assert!(is_error(&r) && text(&r).contains("missing required argument `type`"), "{release}: {}", text(&r));
        assert!(nas_methods(&nas).is_empty(), "{release}: refused before anything is sent");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn alertservice_update_with_some_fields_reads_merges_and_sends_the_whole_definition() {
    let dir = tempdir::Dir::new("compat-alert-update");
    for release in [Release::V24_10, Release::V25_04, Release::V25_10, Release::V26_0] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "alertservice_update", json!({"id": 1, "level": "CRITICAL"})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        let sent = nas_calls_of(&nas, "alertservice.update");
        assert_eq!(sent.len(), 1, "{release}");
        assert_eq!(sent[0][0], 1, "{release}");
        let definition = &sent[0][1];
        assert_eq!(
            (definition["name"].as_str(), definition["level"].as_str()),
            (Some("Email admins"), Some("CRITICAL"))
        );
        assert_eq!(definition["attributes"]["email"], "admin@example.com", "{release}: {definition}");
        let saved = json_of(&call(&nas, &session, "alertservice_list", json!({})).await);
        let one = saved.as_array().unwrap().iter().find(|s| s["id"] == 1).cloned().unwrap();
        assert_eq!((one["name"].as_str(), one["level"].as_str()), (Some("Email admins"), Some("CRITICAL")), "{one}");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn api_key_create_without_username_belongs_to_the_logged_in_user() {
    let dir = tempdir::Dir::new("compat-api-key");
    for release in JSON_RPC {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "api_key_create", json!({"name": "backup-script"})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        let sent = nas_calls_of(&nas, "api_key.create");
        assert_eq!(sent, [json!([{"name": "backup-script", "username": "truenas_admin"}])], "{release}");
        assert!(!nas_calls_of(&nas, "auth.me").is_empty(), "{release}: the user is read from the session");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn smb_share_create_without_name_uses_the_last_path_component() {
    let dir = tempdir::Dir::new("compat-smb-share");
    for release in [Release::V24_10, Release::V25_04, Release::V25_10, Release::V26_0] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "smb_share_create", json!({"path": "/mnt/tank/isos"})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        let sent = nas_calls_of(&nas, "sharing.smb.create");
        assert_eq!(sent.len(), 1, "{release}");
        assert_eq!(sent[0][0]["name"], "isos", "{release}: {}", sent[0][0]);
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn bootenv_create_without_source_copies_the_active_environment() {
    let dir = tempdir::Dir::new("compat-bootenv");
    for release in JSON_RPC {
        let (nas, session) = open(release, &dir).await;
        let envs = json_of(&call(&nas, &session, "bootenv_list", json!({})).await);
        let active = envs.as_array().unwrap().iter().find(|e| e["active"] == true).unwrap()["id"].clone();
        let r = call(&nas, &session, "bootenv_create", json!({"name": "pre-upgrade"})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        assert_eq!(nas_calls_of(&nas, "boot.environment.clone"), [json!([{"id": active, "target": "pre-upgrade"}])]);
        session.cancel().await.unwrap();
    }
    // 24.10 copies the active one itself when no source is given.
    let (nas, session) = open(Release::V24_10, &dir).await;
    let r = call(&nas, &session, "bootenv_create", json!({"name": "pre-upgrade"})).await;
    assert!(!is_error(&r), "24.10: {}", text(&r));
    assert_eq!(nas_calls_of(&nas, "bootenv.create"), [json!([{"name": "pre-upgrade"}])]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn dataset_set_permissions_maps_a_dataset_name_to_its_mount_path_and_refuses_other_paths() {
    let dir = tempdir::Dir::new("compat-setperm");
    for release in [Release::V24_10, Release::V25_04, Release::V25_10, Release::V26_0] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "dataset_set_permissions", json!({"id": "tank/backups", "mode": "770"})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        let sent = nas_calls_of(&nas, "filesystem.setperm");
        assert_eq!(sent.len(), 1, "{release}: {:?}", nas_methods(&nas));
        assert_eq!(sent[0][0]["path"], "/mnt/tank/backups", "{release}");

        let r = call(&nas, &session, "dataset_set_permissions", json!({"id": "tank/nosuch", "mode": "770"})).await;
        assert!(is_error(&r) && text(&r).contains("no dataset has this name"), "{release}: {}", text(&r));
        assert!(nas_calls_of(&nas, "filesystem.setperm").is_empty(), "{release}");

        for bad in ["/etc/ssh", "/mnt/tank/../../etc", "/mnt", "tank/../etc", "relative/../x"] {
            let r = call(&nas, &session, "dataset_set_permissions", json!({"id": bad, "mode": "777"})).await;
            assert!(is_error(&r) && text(&r).contains("`id` is not a canonical"), "{release} {bad}: {}", text(&r));
            assert!(nas_methods(&nas).is_empty(), "{release} {bad}: nothing sent: {:?}", nas_methods(&nas));
        }
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn smb_config_update_enable_smb1_is_routed_per_release() {
    let dir = tempdir::Dir::new("compat-smb1");
    for release in [Release::V24_10, Release::V25_04, Release::V25_10] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "smb_config_update", json!({"enable_smb1": true})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        assert_eq!(nas_calls_of(&nas, "smb.update"), [json!([{"enable_smb1": true}])], "{release}");
        let r = call(&nas, &session, "smb_config_update", json!({"minimum_protocol": "SMB1"})).await;
        assert!(is_error(&r) && text(&r).contains("use `enable_smb1`"), "{release}: {}", text(&r));
        assert!(nas_methods(&nas).is_empty(), "{release}");
        session.cancel().await.unwrap();
    }
    let (nas, session) = open(Release::V26_0, &dir).await;
    let r = call(&nas, &session, "smb_config_update", json!({"enable_smb1": true})).await;
    let said = text(&r);
    assert!(
        is_error(&r) && said.contains("`enable_smb1` does not exist") && said.contains("minimum_protocol"),
        "{said}"
    );
    assert!(nas_methods(&nas).is_empty(), "nothing sent");
    let r = call(&nas, &session, "smb_config_update", json!({"minimum_protocol": "SMB1"})).await;
    assert!(!is_error(&r), "{}", text(&r));
    assert_eq!(nas_calls_of(&nas, "smb.update"), [json!([{"minimum_protocol": "SMB1"}])]);
    session.cancel().await.unwrap();
}

#[tokio::test]
async fn smart_tests_say_what_truenas_can_do() {
    let dir = tempdir::Dir::new("compat-smart");
    for release in [Release::V24_10, Release::V25_04, Release::V25_10, Release::V26_0] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "disk_smart_test_run", json!({"disks": ["sda"], "type": "SHORT"})).await;
        let said = text(&r);
        assert!(is_error(&r) && said.contains("SMART") && said.contains("no self-test can be started"), "{said}");
        assert!(nas_methods(&nas).is_empty(), "{release}: nothing sent, alert.list least of all");

        let listed = json_of(&call(&nas, &session, "disk_smart_test_list", json!({})).await);
        assert!(listed["note"].as_str().unwrap().contains("alert.list"), "{listed}");
        assert!(listed["result"].is_array(), "{listed}");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn update_config_set_checks_the_profile_against_truenas_choices() {
    let dir = tempdir::Dir::new("compat-profile");
    for release in [Release::V25_10, Release::V26_0] {
        let (nas, session) = open(release, &dir).await;
        let r = call(&nas, &session, "update_config_set", json!({"train": "NIGHTLY"})).await;
        let said = text(&r);
        assert!(is_error(&r) && said.contains("`GENERAL`") && said.contains("update.profile_choices"), "{said}");
        assert!(nas_calls_of(&nas, "update.update").is_empty(), "{release}");
        let r = call(&nas, &session, "update_config_set", json!({"train": "GENERAL"})).await;
        assert!(!is_error(&r), "{release}: {}", text(&r));
        assert_eq!(nas_calls_of(&nas, "update.update"), [json!([{"profile": "GENERAL"}])], "{release}");
        session.cancel().await.unwrap();
    }
}

#[tokio::test]
async fn a_read_merge_update_is_one_guarded_action_and_a_denied_one_reads_nothing() {
    let nas = start_sim().await;
    let dir = tempdir::Dir::new("compat-guarded");
    let audit = dir.path().join("audit.jsonl");
    let doc = json!({"version": "1", "default": "allow", "tools": {
        "alertservice_update": {"deny_if": [{"path": "args.id", "op": "eq", "value": 1}]}
    }});
    let policy = policy_file(&dir, "deny-one.json", &doc);
    let args = ["--tool-mode", "flat", "--policy", policy.to_str().unwrap(), "--audit", audit.to_str().unwrap()];
    let (session, _) = connect_stdio(&nas, &args).await;

    let denied = call(&nas, &session, "alertservice_update", json!({"id": 1, "level": "CRITICAL"})).await;
    assert!(is_error(&denied) && text(&denied).contains("deny_if"), "{}", text(&denied));
    assert!(nas_methods(&nas).is_empty(), "a denied call reads nothing: {:?}", nas_methods(&nas));

    let allowed = call(&nas, &session, "alertservice_update", json!({"id": 2, "level": "CRITICAL"})).await;
    assert!(!is_error(&allowed), "{}", text(&allowed));
    assert_eq!(nas_methods(&nas), ["alertservice.query", "alertservice.update"]);
    session.cancel().await.unwrap();

    let seen: Vec<(String, String, String)> = audit_records(&audit)
        .iter()
        .filter(|r| r["action"] == "alertservice_update")
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
            (s("phase"), s("method"), s("outcome"))
        })
        .collect();
    let at = |p: &str, o: &str| (p.to_string(), "alertservice.update".to_string(), o.to_string());
    assert_eq!(seen, [at("refused", "denied"), at("decided", "pending"), at("done", "ok")]);
    let all = audit_records(&audit);
    assert!(all.iter().all(|r| r["method"] != "alertservice.query"), "the read is part of the action: {all:#?}");
}
