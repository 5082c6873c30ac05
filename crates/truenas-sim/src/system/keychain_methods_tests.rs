//! Keychain credentials through the dispatcher on every release: key pairs and SSH connections
//! created, host keys scanned, and deletes that need `cascade` while a credential is used.

use serde_json::{Value, json};

use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn keychain_credentials_are_created_scanned_and_deleted_with_cascade() {
    for release in Release::ALL {
        let h = Harness::new(release);
        h.ok("keychaincredential.query", json!([])).await;
        let pair = h.ok("keychaincredential.generate_ssh_key_pair", json!([])).await;
        let created = h
            .ok(
                "keychaincredential.create",
                json!([{"name": "nas2 key", "type": "SSH_KEY_PAIR", "attributes": {"private_key": pair["private_key"]}}]),
            )
            .await;
        assert!(created["attributes"]["public_key"].as_str().unwrap().starts_with("ssh-rsa "));
        let host_key = h.ok("keychaincredential.remote_ssh_host_key_scan", json!([{"host": "nas2.lan"}])).await;
        assert!(host_key.as_str().unwrap().starts_with("ssh-rsa "), "no host name in front: {host_key}");
        let connection = h
            .ok(
                "keychaincredential.create",
                json!([{"name": "nas2", "type": "SSH_CREDENTIALS",
                "attributes": {"host": "nas2.lan", "private_key": created["id"], "remote_host_key": host_key}}]),
            )
            .await;
        assert_eq!(
            (&connection["attributes"]["port"], &connection["attributes"]["username"]),
            (&json!(22), &json!("root"))
        );
        let renamed = h.ok("keychaincredential.update", json!([connection["id"], {"name": "nas2.lan"}])).await;
        assert_eq!((&renamed["name"], &renamed["attributes"]["host"]), (&json!("nas2.lan"), &json!("nas2.lan")));
        let used = h.ok("keychaincredential.used_by", json!([created["id"]])).await;
        assert_eq!(used, json!([{"title": "SSH credentials nas2.lan", "unbind_method": "delete"}]));
        let refused = h.err("keychaincredential.delete", json!([created["id"]])).await;
        assert!(refused.reason().contains("no cascade option"), "{}", refused.reason());
        assert_eq!(h.ok("keychaincredential.delete", json!([created["id"], {"cascade": true}])).await, Value::Null);
        let left = h.ok("keychaincredential.query", json!([[["name", "^", "nas2"]]])).await;
        assert_eq!(left, json!([]), "the SSH connection went with its key pair");
        assert_eq!(h.ok("keychaincredential.delete", json!([3])).await, Value::Null);
        let dup = h
            .err(
                "keychaincredential.create",
                json!([{"name": "backup-box", "type": "SSH_KEY_PAIR",
            "attributes": {"public_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIx"}}]),
            )
            .await;
        assert!(dup.reason().contains("Object with this name already exists"), "{}", dup.reason());
    }
}
