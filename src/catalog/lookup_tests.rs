use serde_json::{Map, Value, json};

use super::LookupRead;
use crate::catalog::{Catalog, MappingError};
use crate::schema::Release;

fn args(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap()
}

fn catalog() -> Catalog {
    Catalog::builtin().unwrap()
}

fn reads(action: &str, release: Release, given: Value) -> Vec<LookupRead> {
    let c = catalog();
    let a = c.action(action).unwrap();
    a.lookups_for(release, &a.effective_args(&args(given))).unwrap()
}

#[test]
fn a_partial_alertservice_update_reads_the_saved_service_and_a_whole_one_does_not() {
    let partial = reads("alertservice_update", Release::V25_10, json!({"id": 2, "level": "ERROR"}));
    assert_eq!(partial.len(), 1);
    assert_eq!(partial[0].method.as_str(), "alertservice.query");
    assert_eq!(partial[0].params, json!([[["id", "=", 2]]]));
    let whole = json!({"id": 2, "name": "n", "type": "Slack", "attributes": {}, "enabled": true, "level": "ERROR"});
    assert!(reads("alertservice_update", Release::V25_10, whole).is_empty());
}

#[test]
fn filled_fields_never_override_the_agents_own() {
    let c = catalog();
    let a = c.action("alertservice_update").unwrap();
    let mut given = args(json!({"id": 2, "level": "ERROR"}));
    let read = a.lookups_for(Release::V25_10, &given).unwrap().remove(0);
    let saved = json!([{"id": 2, "name": "Ops", "attributes": {"type": "Slack", "url": "u"}, "enabled": false, "level": "INFO"}]);
    a.apply_lookup(&read, &saved, &mut given).unwrap();
    assert_eq!(given["level"], "ERROR");
    assert_eq!((given["name"].as_str(), given["type"].as_str()), (Some("Ops"), Some("Slack")));
    let (_, params) = a.check_and_resolve_for(Release::V25_10, &given).unwrap();
    assert_eq!(
        params,
        json!([2, {"name": "Ops", "attributes": {"type": "Slack", "url": "u"}, "enabled": false, "level": "ERROR"}])
    );
}

#[test]
fn a_read_that_finds_nothing_refuses_the_call() {
    let c = catalog();
    let a = c.action("alertservice_test").unwrap();
    let mut given = args(json!({"id": 99}));
    let read = a.lookups_for(Release::V25_10, &given).unwrap().remove(0);
    let err = a.apply_lookup(&read, &json!([]), &mut given).unwrap_err();
    assert!(matches!(err, MappingError::LookupEmpty { .. }), "{err}");
    assert!(err.to_string().contains("nothing else was sent"), "{err}");
}

#[test]
fn a_dataset_name_is_read_for_its_mount_path_and_a_path_is_not() {
    assert!(reads("dataset_set_permissions", Release::V25_10, json!({"id": "/mnt/tank/data"})).is_empty());
    let r = reads("dataset_set_permissions", Release::V25_10, json!({"id": "tank/data"}));
    assert_eq!(r[0].method.as_str(), "pool.dataset.query");
    let c = catalog();
    let a = c.action("dataset_set_permissions").unwrap();
    // A mount path outside /mnt (or with `..`) read back from the NAS is refused before sending.
    for bad in ["/etc", "/mnt/../etc", "/mnt"] {
        let mut given = args(json!({"id": "tank/data"}));
        a.apply_lookup(&r[0], &json!([{"id": "tank/data", "mountpoint": bad}]), &mut given).unwrap();
        assert!(a.check_and_resolve_for(Release::V25_10, &given).is_err(), "{bad}");
    }
}

#[test]
fn a_profile_must_be_one_of_the_choices_truenas_lists() {
    let c = catalog();
    let a = c.action("update_config_set").unwrap();
    let mut given = args(json!({"train": "NIGHTLY"}));
    let read = a.lookups_for(Release::V26_0, &given).unwrap().remove(0);
    let choices = json!({"GENERAL": {"name": "General"}, "DEVELOPER": {"name": "Developer"}});
    let err = a.apply_lookup(&read, &choices, &mut given).unwrap_err();
    assert!(err.to_string().contains("`GENERAL`") && err.to_string().contains("NIGHTLY"), "{err}");
    let mut good = args(json!({"train": "GENERAL"}));
    a.apply_lookup(&read, &choices, &mut good).unwrap();
}

#[test]
fn lookups_follow_the_release() {
    assert!(reads("bootenv_create", Release::V24_10, json!({"name": "x"})).is_empty());
    assert_eq!(
        reads("bootenv_create", Release::V25_04, json!({"name": "x"}))[0].method.as_str(),
        "boot.environment.query"
    );
    assert!(reads("api_key_create", Release::V24_10, json!({"name": "x"})).is_empty());
    assert_eq!(reads("api_key_create", Release::V26_0, json!({"name": "x"}))[0].method.as_str(), "auth.me");
}
