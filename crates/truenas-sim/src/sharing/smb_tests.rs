use serde_json::{Map, Value, json};

use super::*;
use crate::sharing::sharing_seed;
use crate::sharing::testing::shape_problems;
use crate::test_support::{created, reason};

fn demo() -> SmbStore {
    sharing_seed::smb(Release::V25_10)
}

fn data(value: Value) -> Map<String, Value> {
    created("sharing.smb.create", value)
}

#[test]
fn the_seed_has_four_shares_with_options_of_their_purpose() {
    let s = demo();
    let entries = s.entries();
    let names: Vec<&str> = entries.iter().map(|e| e["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["media", "documents", "timemachine", "homes"]);
    assert_eq!(entries[0]["options"], json!({"aapl_name_mangling": false, "hostsallow": [], "hostsdeny": []}));
    assert_eq!(entries[1]["options"]["hostsallow"], json!(["192.168.1.0/24"]));
    assert_eq!(entries[2]["purpose"], "TIMEMACHINE_SHARE");
    assert_eq!(entries[2]["options"]["timemachine_quota"], 1_099_511_627_776_u64);
    let legacy = &entries[3]["options"];
    assert_eq!(
        (legacy["home"].clone(), legacy["recyclebin"].clone(), legacy["streams"].clone()),
        (json!(true), json!(true), json!(true))
    );
    assert_eq!(legacy["vuid"].as_str().map(str::len), Some(36), "a volume UUID is generated");
    let keys: Vec<&str> = entries[0].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "id",
            "purpose",
            "name",
            "path",
            "enabled",
            "comment",
            "readonly",
            "browsable",
            "access_based_share_enumeration",
            "locked",
            "audit",
            "options"
        ]
    );
}

#[test]
fn created_shares_are_listed_and_deleted_ones_are_gone() {
    let mut s = demo();
    let id = s.create(data(json!({"name": "photos", "path": "/mnt/tank/media/photos", "readonly": true}))).unwrap();
    assert_eq!(id, 5);
    let entry = s.entry(id).unwrap();
    assert_eq!((entry["readonly"].clone(), entry["purpose"].clone()), (json!(true), json!("DEFAULT_SHARE")));
    assert_eq!(entry["audit"], json!({"enable": false, "watch_list": [], "ignore_list": []}));
    s.delete(id).unwrap();
    assert_eq!(reason(s.entry(id)), "[ENOENT] None: SharingSMB 5 does not exist\n");
    assert_eq!(reason(s.delete(id)), "[ENOENT] None: SharingSMB 5 does not exist\n");
}

#[test]
fn names_are_unique_without_regard_to_case() {
    let mut s = demo();
    let err = reason(s.create(data(json!({"name": "MEDIA", "path": "/mnt/tank/media"}))));
    assert_eq!(err, "[EINVAL] sharingsmb_create.name: Share names are case-insensitive and must be unique\n");
    // A share keeps its own name on update.
    s.update(1, object(json!({"name": "Media"}))).unwrap();
}

#[test]
fn paths_must_be_inside_a_pool() {
    let mut s = demo();
    let err = reason(s.create(data(json!({"name": "etc", "path": "/etc"}))));
    assert_eq!(err, "[EINVAL] sharingsmb_create.path: The path must reside within a pool mount point\n");
    let err = reason(s.update(1, object(json!({"path": "EXTERNAL"}))));
    assert!(err.contains("External paths may only be set for shares with an EXTERNAL_SHARE purpose"), "{err}");
}

#[test]
fn only_one_share_may_serve_home_directories() {
    let mut s = demo();
    let second = json!({"name": "h2", "path": "/mnt/tank/home", "purpose": "LEGACY_SHARE",
                        "options": {"purpose": "LEGACY_SHARE", "home": true}});
    let err = reason(s.create(data(second)));
    assert_eq!(err, "[EINVAL] sharingsmb_create.options.home: Only one share is allowed to be a home share.\n");
    let changes = object(json!({"options": {"purpose": "LEGACY_SHARE", "home": true, "guestok": true}}));
    s.update(4, changes).unwrap();
}

#[test]
fn given_options_replace_the_old_ones_and_a_new_purpose_resets_them() {
    let mut s = demo();
    s.update(4, object(json!({"options": {"purpose": "LEGACY_SHARE", "guestok": true}}))).unwrap();
    let options = s.entry(4).unwrap()["options"].clone();
    assert_eq!(
        (options["guestok"].clone(), options["home"].clone()),
        (json!(true), json!(false)),
        "home back to its default"
    );
    s.update(2, object(json!({"purpose": "MULTIPROTOCOL_SHARE"}))).unwrap();
    let options = s.entry(2).unwrap()["options"].clone();
    assert_eq!(options, json!({"aapl_name_mangling": false, "hostsallow": [], "hostsdeny": []}));
    s.update(1, object(json!({"comment": "x"}))).unwrap();
    assert_eq!(s.entry(1).unwrap()["options"]["hostsallow"], json!([]), "options untouched");
}

#[test]
fn time_machine_shares_need_the_apple_extensions() {
    let mut s = demo();
    s.update_config(object(json!({"aapl_extensions": false}))).unwrap();
    let share = json!({"name": "tm2", "path": "/mnt/tank/timemachine/b", "purpose": "TIMEMACHINE_SHARE"});
    let err = reason(s.create(data(share)));
    assert!(err.starts_with("[EINVAL] sharingsmb_create.purpose: Apple SMB2/3 protocol extension support"), "{err}");
}

#[test]
fn auxiliary_parameters_must_be_key_value_lines() {
    let mut s = demo();
    let changes =
        object(json!({"options": {"purpose": "LEGACY_SHARE", "auxsmbconf": "# note\nveto files = /x/\nbogus"}}));
    let err = reason(s.update(4, changes));
    assert!(
        err.contains("options.auxsmbconf: Auxiliary parameters must be in the format of \"key = value\": bogus"),
        "{err}"
    );
}

#[test]
fn auditing_needs_a_group_list() {
    let mut s = demo();
    let err = reason(s.update(1, object(json!({"audit": {"enable": true}}))));
    assert!(err.contains("sharingsmb_update.audit.enable: Watch list or ignore list is required"), "{err}");
    s.update(1, object(json!({"audit": {"enable": true, "watch_list": ["staff"]}}))).unwrap();
    assert_eq!(s.entry(1).unwrap()["audit"]["ignore_list"], json!([]));
}

#[test]
fn service_settings_change_and_refuse_unknown_bind_addresses() {
    let mut s = demo();
    s.update_config(object(json!({"workgroup": "HOME", "bindip": ["192.168.1.50"]}))).unwrap();
    assert_eq!(s.config()["workgroup"], "HOME");
    let err = reason(s.update_config(object(json!({"bindip": ["10.9.9.9"], "guest": "root"}))));
    assert_eq!(
        err,
        "[EINVAL] smb_update.bindip.0: IP address [10.9.9.9] is not a configured address for this server\n\
         [EINVAL] smb_update.guest: \"root\" is not a permitted guest account\n"
    );
    assert_eq!(s.config()["guest"], "nobody", "nothing changed");
}

#[test]
fn settings_follow_the_release() {
    let old = demo().config();
    assert!(old.get("enable_smb1").is_some() && old.get("minimum_protocol").is_none());
    let new = sharing_seed::smb(Release::V26_0).config();
    assert!(new.get("enable_smb1").is_none() && new["minimum_protocol"] == "SMB2");
    let entry = sharing_seed::smb(Release::V26_0).entry(1).unwrap();
    assert_eq!((entry["dataset"].clone(), entry["relative_path"].clone()), (json!("tank/media"), json!("")));
}

#[test]
fn results_match_the_returns_schemas_of_both_releases() {
    let mut problems = Vec::new();
    for release in [Release::V25_10, Release::V26_0] {
        let s = sharing_seed::smb(release);
        problems.extend(shape_problems(release, "sharing.smb.query", &Value::Array(s.entries())));
        for id in 1..=4 {
            problems.extend(shape_problems(release, "sharing.smb.get_instance", &s.entry(id).unwrap()));
        }
        problems.extend(shape_problems(release, "smb.config", &s.config()));
    }
    assert!(problems.is_empty(), "{problems:#?}");
}
