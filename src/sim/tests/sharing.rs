//! SMB, NFS and iSCSI methods over the wire: the catalog's examples run in order against the
//! seed, not-found shapes, and collection events.

use serde_json::{Value, json};

use super::{Client, sim};
use crate::catalog::Catalog;

/// Actions whose every-argument example is refused by design: it sets both `maproot_user`
/// and `mapall_user`, which TrueNAS does not combine.
const REFUSED_BY_DESIGN: [&str; 2] = ["nfs_share_create", "nfs_share_update"];

#[tokio::test]
async fn the_sharing_examples_succeed_in_catalog_order_against_the_seed() {
    let catalog = Catalog::builtin().unwrap();
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    let mut failures = Vec::new();
    for action in catalog.actions().filter(|a| a.category == "sharing") {
        // Every example (but those of arguments only some releases have), confirmed.
        let args = action.example_args();
        let params = action.build_params(&args).unwrap();
        let reply = c.request(action.method.as_str(), params).await;
        let refused = reply.get("error").is_some();
        if refused != REFUSED_BY_DESIGN.contains(&action.name.as_str()) {
            failures.push(format!("{}: {reply}", action.name));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
    // What the walk did: SMB share 3 and target 2 (with its LUN) went, a target and an extent
    // came, and the LUN made of them was removed again.
    let smb: Vec<i64> = c
        .call("sharing.smb.query", json!([]))
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_i64().unwrap())
        .collect();
    assert_eq!(smb, [1, 2, 4, 5]);
    let targets = c.call("iscsi.target.query", json!([[], {"select": ["name"]}])).await;
    assert_eq!(targets, json!([{"name": "esxi-datastore"}, {"name": "k8s-volumes"}]));
    let luns = c.call("iscsi.targetextent.query", json!([])).await;
    assert_eq!(luns, json!([{"id": 1, "target": 1, "lunid": 0, "extent": 1}]));
    let extents = c.call("iscsi.extent.query", json!([[], {"select": ["name"]}])).await;
    assert_eq!(extents, json!([{"name": "esxi-datastore"}, {"name": "k8s-volumes"}]));
}

#[tokio::test]
async fn unknown_ids_get_the_middleware_not_found_shape() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    for (method, params, what) in [
        ("sharing.smb.get_instance", json!([99]), "SharingSMB 99 does not exist"),
        ("sharing.smb.delete", json!([99]), "SharingSMB 99 does not exist"),
        ("sharing.nfs.update", json!([99, {}]), "SharingNFS 99 does not exist"),
        ("iscsi.target.delete", json!([99, true]), "iSCSITarget 99 does not exist"),
        ("iscsi.extent.get_instance", json!([99]), "iSCSITargetExtent 99 does not exist"),
        ("iscsi.portal.delete", json!([99]), "ISCSIPortal 99 does not exist"),
        ("iscsi.initiator.get_instance", json!([99]), "iSCSITargetAuthorizedInitiator 99 does not exist"),
        ("iscsi.targetextent.delete", json!([99, false]), "iSCSITargetToExtent 99 does not exist"),
    ] {
        let err = c.error(method, params).await;
        assert_eq!(err["code"], -32602, "{method}");
        assert_eq!(err["data"]["reason"], format!("[ENOENT] None: {what}\n"), "{method}");
    }
}

#[tokio::test]
async fn a_forced_object_is_refused_by_schema_and_a_busy_target_by_the_nas() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    // What the reference sent: `{force}` as the whole second argument.
    let err = c.error("iscsi.targetextent.delete", json!([1, {"force": true}])).await;
    assert_eq!(err["code"], -32602);
    let err = c.error("iscsi.targetextent.delete", json!([1, false])).await;
    assert_eq!(err["data"]["reason"], "[EFAULT] Associated target esxi-datastore is in use.");
    assert_eq!(c.call("iscsi.targetextent.delete", json!([1, true])).await, json!(true));
}

#[tokio::test]
async fn share_changes_are_published_to_subscribers() {
    let sim = sim().await;
    let mut c = Client::logged_in(&sim).await;
    c.call("core.subscribe", json!(["sharing.smb.query"])).await;
    let created = c.call("sharing.smb.create", json!([{"name": "scans", "path": "/mnt/tank/documents/scans"}])).await;
    assert_eq!(created["id"], 5);
    c.call("sharing.smb.delete", json!([5])).await;
    let mut seen: Vec<(Value, Value)> = Vec::new();
    while seen.len() < 2 {
        let message = match c.notifications.pop() {
            Some(m) => m,
            None => c.recv().await,
        };
        if message["params"]["collection"] == "sharing.smb.query" {
            seen.push((message["params"]["msg"].clone(), message["params"]["id"].clone()));
        }
    }
    seen.sort_by_key(|(msg, _)| msg.to_string());
    assert_eq!(seen, [(json!("added"), json!(5)), (json!("removed"), json!(5))]);
}
