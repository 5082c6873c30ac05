//! Updates, boot environments, the boot pool, the filesystem, reporting and audit over the
//! wire: the 25.10 update flow ending in a pending reboot, boot pool mirroring, permission jobs
//! and their refusals, metrics windows, and audit records of the calls made.

use serde_json::{Value, json};

use super::{Client, sim};

#[tokio::test]
async fn an_update_is_downloaded_installed_and_then_needs_a_reboot() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    let status = c.call("update.status", json!([])).await;
    assert_eq!(status["status"]["new_version"]["version"], "25.10.6");
    let err = c.error("update.update", json!([{"profile": "stable"}])).await;
    assert_eq!(err["data"]["extra"], json!([["update.profile", "Invalid profile.", 22]]));
    assert_eq!(c.call("update.update", json!([{"profile": "EARLY_ADOPTER"}])).await["profile"], "EARLY_ADOPTER");

    assert_eq!(c.run_job("update.download", json!([])).await["result"], true);
    assert_eq!(c.call("update.status", json!([])).await["update_download_progress"]["percent"], 100);
    let installed = c.run_job("update.run", json!([{"reboot": false}])).await;
    assert_eq!(installed["result"], true);
    let envs = c.call("boot.environment.query", json!([[["activated", "=", true]]])).await;
    assert_eq!(envs[0]["id"], "25.10.6");
    let status = c.call("update.status", json!([])).await;
    assert_eq!(
        (status["code"].as_str(), status["error"]["errname"].as_str()),
        (Some("ERROR"), Some("EREBOOTREQUIRED"))
    );
    let again = c.run_job("update.run", json!([{}])).await;
    assert_eq!(again["exc_info"]["errno"], 209);
}

#[tokio::test]
async fn boot_environments_refuse_what_the_middleware_refuses() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    let err = c.error("boot.environment.destroy", json!([{"id": "25.10.5"}])).await;
    assert_eq!(err["code"], -32602);
    assert_eq!(
        err["data"]["extra"],
        json!([["boot.environment.destroy", "Deleting the active boot environment is not allowed", 14]])
    );
    let err = c.error("boot.environment.activate", json!([{"id": "25.10.5"}])).await;
    assert_eq!(err["data"]["reason"], "[EFAULT] boot.environment.activate: '25.10.5' is already activated\n");
    let copy = c.call("boot.environment.clone", json!([{"id": "25.10.5", "target": "pre-upgrade"}])).await;
    assert_eq!(copy["dataset"], "boot-pool/ROOT/pre-upgrade");
    assert_eq!(c.call("boot.environment.keep", json!([{"id": "pre-upgrade", "value": true}])).await["keep"], true);
    assert_eq!(c.call("boot.environment.destroy", json!([{"id": "25.04.2.6"}])).await, Value::Null);
    assert_eq!(c.call("boot.environment.query", json!([[], {"count": true}])).await, 3);
}

#[tokio::test]
async fn the_boot_pool_can_be_mirrored_scrubbed_and_split_again() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    assert_eq!(c.call("boot.get_disks", json!([])).await, json!(["nvme0n1"]));
    let err = c.error("boot.detach", json!(["nvme0n1"])).await;
    assert!(err["data"]["reason"].as_str().unwrap().contains("only applicable to mirror"));
    let attached = c.run_job("boot.attach", json!(["sde", {"expand": false}])).await;
    assert_eq!(attached["state"], "SUCCESS");
    let state = c.call("boot.get_state", json!([])).await;
    assert_eq!(state["topology"]["data"][0]["type"], "MIRROR");
    assert_eq!(state["scan"]["function"], "RESILVER");
    assert_eq!(c.run_job("boot.attach", json!(["sdf"])).await["error"], "[EFAULT] 3-way mirror not supported");
    c.run_job("boot.scrub", json!([])).await;
    assert_eq!(c.call("boot.get_state", json!([])).await["scan"]["function"], "SCRUB");
    assert_eq!(c.call("boot.detach", json!(["sde"])).await, Value::Null);
    assert_eq!(c.call("boot.get_disks", json!([])).await, json!(["nvme0n1"]));
}

#[tokio::test]
async fn permission_jobs_validate_then_change_the_tree() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    let page =
        c.call("filesystem.listdir", json!(["/mnt/tank", [], {"limit": 2, "offset": 1, "order_by": ["name"]}])).await;
    let names: Vec<&str> = page.as_array().unwrap().iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["documents", "home"]);
    let err = c.error("filesystem.stat", json!(["/mnt/tank/none"])).await;
    assert_eq!(err["data"]["errname"], "ENOENT");

    let refused = c.run_job("filesystem.setperm", json!([{"path": "/mnt/tank/media", "mode": "755"}])).await;
    assert!(refused["error"].as_str().unwrap().contains("Option \"stripacl\" required"), "{refused}");
    let stripped = c
        .run_job(
            "filesystem.setperm",
            json!([{"path": "/mnt/tank/media", "mode": "755", "options": {"stripacl": true, "recursive": true}}]),
        )
        .await;
    assert_eq!(stripped["state"], "SUCCESS");
    assert_eq!(c.call("filesystem.getacl", json!(["/mnt/tank/media/movies", true])).await["trivial"], true);
    assert_eq!(
        c.call("filesystem.getacl", json!(["/mnt/tank/media/photos"])).await["trivial"],
        false,
        "child dataset untouched"
    );

    let dacl =
        json!([{"tag": "owner@", "type": "ALLOW", "perms": {"BASIC": "FULL_CONTROL"}, "flags": {"BASIC": "INHERIT"}}]);
    let set =
        c.run_job("filesystem.setacl", json!([{"path": "/mnt/tank/media", "dacl": dacl, "acltype": "NFS4"}])).await;
    assert_eq!(set["result"]["acl"][0]["perms"], json!({"BASIC": "FULL_CONTROL"}));
    let mismatch = c.run_job("filesystem.setacl", json!([{"path": "/mnt/tank/scratch", "dacl": dacl}])).await;
    assert!(mismatch["error"].as_str().unwrap().contains("does not match the POSIX1E ACL type"), "{mismatch}");

    c.run_job("filesystem.chown", json!([{"path": "/mnt/tank/scratch", "uid": 3001, "options": {"recursive": true}}]))
        .await;
    let iso = c.call("filesystem.stat", json!(["/mnt/tank/scratch/debian-13.1.0-amd64-netinst.iso"])).await;
    assert_eq!((iso["user"].as_str(), iso["group"].as_str()), (Some("bob"), Some("apps")));
    let pool_root = c.run_job("filesystem.chown", json!([{"path": "/mnt/tank", "uid": 0}])).await;
    assert!(pool_root["error"].as_str().unwrap().contains("ZFS pool mountpoint"));
}

#[tokio::test]
async fn metrics_and_audit_records() {
    let sim = sim().await;
    let mut c = Client::following_jobs(&sim).await;
    let data = c.call("reporting.get_data", json!([[{"name": "cpu"}, {"name": "interface", "identifier": "br0"}], {"start": 1_767_225_600, "end": 1_767_229_200}])).await;
    assert_eq!(data[1]["identifier"], "br0");
    assert_eq!(data[0]["data"].as_array().unwrap().len(), 60);
    let alias = c
        .call("reporting.netdata_get_data", json!([[{"name": "cpu"}], {"start": 1_767_225_600, "end": 1_767_229_200}]))
        .await;
    assert_eq!(alias[0]["data"], data[0]["data"]);
    let err = c.error("reporting.get_data", json!([[{"name": "nope"}], {}])).await;
    assert_eq!(err["code"], -32602, "the graph name is an enum");

    let failed = c.call("audit.query", json!([{"query-filters": [["success", "=", false]]}])).await;
    assert_eq!(failed.as_array().unwrap().len(), 2);
    let smb = c.call("audit.query", json!([{"services": ["SMB"], "query-options": {"count": true}}])).await;
    assert_eq!(smb, 2);
    c.run_job("filesystem.chown", json!([{"path": "/mnt/tank/scratch", "gid": 3002}])).await;
    let last =
        c.call("audit.query", json!([{"query-options": {"order_by": ["-message_timestamp"], "limit": 1}}])).await;
    assert_eq!(last[0]["event_data"]["description"], "Filesystem change owner /mnt/tank/scratch");
    assert_eq!(last[0]["username"], "truenas_admin");
}
