//! SMB, NFS and iSCSI methods over the wire: not-found shapes and collection events.

use serde_json::{Value, json};

use super::{Client, sim};

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
