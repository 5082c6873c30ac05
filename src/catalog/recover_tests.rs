use serde_json::{Value, json};

use super::Recovered;
use crate::catalog::test_support::{builtin, object};
use crate::schema::Release;

const R: Release = Release::V25_10;

fn recover(action: &str, params: Value) -> Option<Recovered> {
    builtin().action(action).unwrap().recover_args(R, &params)
}

fn known(v: Value) -> Recovered {
    Recovered { known: object(v), unknown: Default::default() }
}

#[test]
fn positions_and_object_keys_give_back_their_arguments_with_defaults_for_the_absent() {
    assert_eq!(recover("vm_stop", json!([1, {"force": true}])), Some(known(json!({"id": 1, "force": true}))));
    assert_eq!(recover("vm_stop", json!([1])), Some(known(json!({"id": 1, "force": false}))));
    assert_eq!(recover("vm_stop", json!([1, {}])), Some(known(json!({"id": 1, "force": false}))));
}

#[test]
fn params_the_template_cannot_produce_do_not_match() {
    assert_eq!(recover("vm_stop", json!([1, {"force": true, "force_after_timeout": true}])), None);
    assert_eq!(recover("vm_stop", json!([1, {"force": true}, 3])), None);
    assert_eq!(recover("vm_stop", json!([1, "x"])), None);
    assert_eq!(recover("vm_stop", json!({"id": 1})), None);
    // Literals must be there with the same value.
    assert_eq!(recover("service_start", json!(["STOP", "ssh", {"silent": false}])), None);
    assert_eq!(recover("service_start", json!(["START", "ssh", {"silent": true}])), None);
    assert_eq!(
        recover("service_start", json!(["START", "ssh", {"silent": false}])),
        Some(known(json!({"service": "ssh"})))
    );
}

#[test]
fn rest_objects_give_back_their_keys_and_refuse_others() {
    let catalog = builtin();
    let user_update = catalog.action("user_update").unwrap();
    let got = user_update.recover_args(R, &json!([5, {"full_name": "Bob"}])).unwrap();
    assert_eq!(got.known.get("id"), Some(&json!(5)));
    assert_eq!(got.known.get("full_name"), Some(&json!("Bob")));
    assert!(got.unknown.is_empty());
    assert_eq!(user_update.recover_args(R, &json!([5, {"not_an_argument": 1}])), None);
}

#[test]
fn merged_objects_leave_their_arguments_unknown() {
    let catalog = builtin();
    let alert = catalog.action("alertservice_update").unwrap();
    let got = alert
        .recover_args(R, &json!([3, {"name": "n", "attributes": {"type": "Slack", "url": "u"}, "enabled": true}]))
        .unwrap();
    assert!(got.unknown.contains("type") && got.unknown.contains("attributes"), "{got:?}");
    assert!(!got.known.contains_key("type"));
    assert_eq!(got.known.get("name"), Some(&json!("n")));
}

#[test]
fn recovered_arguments_are_validated_like_an_agents() {
    let catalog = builtin();
    let stop = catalog.action("vm_stop").unwrap();
    let bad = stop.recover_args(R, &json!(["one", {"force": "yes"}])).unwrap();
    let err = stop.validate_recovered(&bad).unwrap_err().to_string();
    assert!(err.contains("`id` must be an integer") && err.contains("`force` must be a boolean"), "{err}");
    let missing = stop.recover_args(R, &json!([])).unwrap();
    assert!(stop.validate_recovered(&missing).unwrap_err().to_string().contains("missing required argument `id`"));
    // `confirm` is the raw call's own, never recovered.
    let delete = catalog.action("vm_delete").unwrap();
    assert_eq!(delete.validate_recovered(&delete.recover_args(R, &json!([1])).unwrap()), Ok(()));
    // Path kinds hold for recovered arguments too.
    let chown = catalog.action("filesystem_chown").unwrap();
    let up = chown.recover_args(R, &json!([{"path": "/mnt/tank/scratch/../documents", "uid": 0}])).unwrap();
    assert!(chown.validate_recovered(&up).unwrap_err().to_string().contains("`..`"));
}
