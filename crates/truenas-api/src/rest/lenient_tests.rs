use serde_json::{Value, json};

use super::*;
use crate::schema::Release;

fn go(verb: &str, path: &str, body: Option<Value>) -> Result<(String, Value), RestError> {
    let table = MethodTable::get(Release::V25_10);
    resolve(RestRequest { verb, path, body: body.as_ref() }, table).map(|(m, p)| (m.to_string(), p))
}

#[test]
fn crud_paths_map_like_truenas_rest_layer() {
    assert_eq!(go("GET", "/vm", None).unwrap(), ("vm.query".into(), json!([[], {}])));
    assert_eq!(go("GET", "/api/v2.0/vm/id/3", None).unwrap(), ("vm.get_instance".into(), json!([3])));
    assert_eq!(
        go("PUT", "vm/id/3", Some(json!({"memory": 512}))).unwrap(),
        ("vm.update".into(), json!([3, {"memory": 512}]))
    );
    assert_eq!(go("DELETE", "/vm/id/3", None).unwrap(), ("vm.delete".into(), json!([3])));
    assert_eq!(
        go("POST", "/vm/id/3/start", Some(json!({"overcommit": true}))).unwrap(),
        ("vm.start".into(), json!([3, {"overcommit": true}]))
    );
    assert_eq!(go("POST", "/vm", Some(json!({"name": "x"}))).unwrap(), ("vm.create".into(), json!([{"name": "x"}])));
    assert_eq!(go("GET", "/vm/device", None).unwrap().0, "vm.device.query");
}

#[test]
fn dataset_ids_keep_their_slashes_as_a_value() {
    let (m, p) = go("GET", "/pool/dataset/id/tank%2Fmedia", None).unwrap();
    assert_eq!((m.as_str(), p), ("pool.dataset.get_instance", json!(["tank/media"])));
}

#[test]
fn config_services_and_plain_methods() {
    assert_eq!(go("GET", "/ssh", None).unwrap(), ("ssh.config".into(), json!([])));
    assert_eq!(
        go("PUT", "/ssh", Some(json!({"tcpport": 22}))).unwrap(),
        ("ssh.update".into(), json!([{"tcpport": 22}]))
    );
    assert_eq!(go("GET", "/system/info", None).unwrap(), ("system.info".into(), json!([])));
    // A multi-param method takes a body keyed by param name, as the REST layer did.
    let (m, p) = go("POST", "/mail/send", Some(json!({"message": {"subject": "s", "text": "t"}}))).unwrap();
    assert_eq!((m.as_str(), p), ("mail.send", json!([{"subject": "s", "text": "t"}])));
    assert!(matches!(go("POST", "/mail/send", Some(json!({"subjekt": "s"}))), Err(RestError::Body { .. })));
}

#[test]
fn queries_push_filters_and_paging_to_truenas() {
    let (_, p) = go("GET", "/pool/dataset?pool=tank&limit=10&offset=20&sort=-name", None).unwrap();
    assert_eq!(p, json!([[["pool", "=", "tank"]], {"limit": 10, "offset": 20, "order_by": ["-name"]}]));
}

#[test]
fn traversal_and_odd_paths_are_refused() {
    for path in [
        "/vm/id/1/../../pool",
        "/vm/../pool",
        "/vm/./id/1",
        "/vm//id/1",
        "/vm/id/%2e%2e",
        "/vm%2F..%2Fpool",
        "/vm/id/tank%2F..%2Fx",
        "/",
        "",
        "/vm;rm",
        "/vm/id/1/start/now",
    ] {
        assert!(go("POST", path, None).is_err(), "{path}");
    }
    assert!(matches!(go("GET", "/vm/id/1/../../pool", None), Err(RestError::BadPath { .. })));
    assert!(matches!(go("GET", "/nosuch/service", None), Err(RestError::NoMethod { .. })));
    assert!(matches!(go("PATCH", "/vm", None), Err(RestError::NoMethod { .. })));
}
