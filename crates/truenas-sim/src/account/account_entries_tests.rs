//! Tests of `account_entries.rs`: the query entries and the links they show.

use serde_json::{Value, json};

use crate::account::AccountStore;
use crate::account::account_seed::seeded;
use crate::account::basics::REDACTED;
use truenas_api::schema::Release;

fn demo() -> AccountStore {
    seeded(Release::V25_10)
}

fn entry(s: &AccountStore, name: &str) -> Value {
    s.view().user_entry(s.users.named(name).unwrap())
}

#[test]
fn the_seed_has_system_accounts_an_administrator_and_a_family() {
    let s = demo();
    let names: Vec<String> =
        s.view().user_entries().iter().map(|u| u["username"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["root", "daemon", "nobody", "apps", "truenas_admin", "alice", "bob"]);
    let admin = entry(&s, "truenas_admin");
    assert_eq!(admin["roles"], json!(["FULL_ADMIN"]));
    assert_eq!(admin["group"]["bsdgrp_group"], "truenas_admin");
    assert_eq!(admin["immutable"], true, "the install-time administrator cannot be renamed");
    assert_eq!(admin["api_keys"], json!([1, 2]));
    assert_eq!(admin["unixhash"], REDACTED);
    let alice = entry(&s, "alice");
    assert_eq!(alice["roles"], json!(["DATASET_READ", "SHARING_SMB_WRITE", "SNAPSHOT_READ"]));
    assert!(alice["sid"].as_str().unwrap().starts_with("S-1-5-21-"));
    assert_eq!(entry(&s, "root")["unixhash"], "*");
    assert!(s.api_keys.matches(crate::DEMO_API_KEY), "key 1 is the demo key");
}

#[test]
fn release_26_entries_carry_its_extra_fields() {
    let s = seeded(Release::V26_0);
    assert_eq!(entry(&s, "alice")["webshare"], false);
    let key = &s.view().api_key_entries()[0];
    assert!(key.get("keyhash").is_none() && key["iterations"] == 500_000 && key["stored_key"] == REDACTED);
    assert!(demo().view().api_key_entries()[0].get("keyhash").is_some());
}
