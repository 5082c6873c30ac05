use serde_json::{Value, json};

use super::*;

use crate::test_support::object as obj;

const SCHEMA: &str = "keychain_credential_create";

#[test]
fn a_key_pair_from_a_private_key_gets_its_public_half() {
    let t = Tasks::demo();
    let pair = generate_key_pair();
    let private = pair["private_key"].as_str().unwrap();
    let mut row = obj(json!({"name": "new", "type": "SSH_KEY_PAIR", "attributes": {"private_key": private}}));
    t.check_keychain(&mut row, SCHEMA, None).unwrap();
    assert_eq!(normalize_public_key(row["attributes"]["public_key"].as_str().unwrap()), derive_public_key(private));
    // The generated pair's own public key matches too.
    let mut both = obj(json!({"name": "new", "type": "SSH_KEY_PAIR", "attributes": pair}));
    t.check_keychain(&mut both, SCHEMA, None).unwrap();
}

#[test]
fn key_pairs_are_refused_without_a_key_or_with_halves_that_do_not_match() {
    let t = Tasks::demo();
    let reason = |attributes: Value| {
        let mut row = obj(json!({"name": "new", "type": "SSH_KEY_PAIR", "attributes": attributes}));
        t.check_keychain(&mut row, SCHEMA, None).unwrap_err().reason()
    };
    assert!(reason(json!({})).contains("You must specify a key"));
    assert!(reason(json!({"public_key": "not a key"})).contains("Invalid public key"));
    assert!(reason(json!({"private_key": "hello"})).contains("invalid format"));
    let other = generate_key_pair();
    let mismatched = json!({"private_key": generate_key_pair()["private_key"], "public_key": other["public_key"]});
    assert!(reason(mismatched).contains("Private key and public key do not match"));
}

#[test]
fn names_are_unique_except_for_the_row_itself() {
    let t = Tasks::demo();
    let mut row = obj(json!({"name": "backup-box", "type": "SSH_CREDENTIALS",
        "attributes": {"host": "h", "private_key": 1, "remote_host_key": "k"}}));
    let err = t.check_keychain(&mut row.clone(), SCHEMA, None).unwrap_err();
    assert!(err.reason().contains("Object with this name already exists"), "{}", err.reason());
    t.check_keychain(&mut row, SCHEMA, Some(2)).unwrap();
    assert_eq!(row["attributes"]["port"], 22, "defaults are filled");
    assert_eq!(row["attributes"]["username"], "root");
}

#[test]
fn used_by_follows_key_pairs_through_their_ssh_credentials_to_rsync_tasks() {
    let t = Tasks::demo();
    let used = t.keychain_used_by(1).unwrap();
    assert_eq!(
        used,
        json!([
            {"title": "SSH credentials backup-box", "unbind_method": "delete"},
            {"title": "Rsync task for '/mnt/tank/media/photos'", "unbind_method": "disable"},
        ])
        .as_array()
        .cloned()
        .unwrap()
    );
    assert!(t.keychain_used_by(3).unwrap().is_empty());
    assert!(t.keychain_used_by(9).is_err());
}

#[test]
fn deleting_a_used_credential_needs_cascade_which_unbinds_its_users() {
    let mut t = Tasks::demo();
    let err = t.delete_keychain(1, false).unwrap_err();
    assert!(err.reason().contains("This credential is used and no cascade option is specified"), "{}", err.reason());
    assert_eq!(t.keychain.entries().len(), 3, "nothing deleted");
    t.delete_keychain(1, true).unwrap();
    let names: Vec<Value> = t.keychain.entries().iter().map(|c| c["name"].clone()).collect();
    assert_eq!(names, [json!("old laptop key")]);
    let task = t.rsync.get(1).unwrap();
    assert_eq!((&task["enabled"], &task["ssh_credentials"]), (&json!(false), &Value::Null));
    t.delete_keychain(3, false).unwrap();
    assert!(t.delete_keychain(3, false).unwrap_err().reason().contains("KeychainCredential 3 does not exist"));
}

#[test]
fn host_key_scans_are_stable_per_host_and_list_key_lines_only() {
    let scan = host_key_scan("192.168.1.60", 22);
    assert_eq!(scan, host_key_scan("192.168.1.60", 22));
    assert_ne!(scan, host_key_scan("192.168.1.61", 22));
    assert_eq!(scan.lines().count(), 3);
    assert!(scan.lines().all(looks_like_public_key), "{scan}");
}
