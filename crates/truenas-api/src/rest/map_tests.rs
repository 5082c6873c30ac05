use serde_json::{Value, json};

use super::*;
use crate::schema::Release;

fn table() -> &'static MethodTable {
    MethodTable::get(Release::V25_10)
}

/// Maps a call to HTTP, checks the request, and maps it back to the same call.
fn http(method: &str, params: Value) -> HttpCall {
    let call = to_http(method, &params, table()).unwrap();
    let back = from_http(call.verb.as_str(), &call.path_and_query(), call.body.as_ref(), table());
    assert_eq!(back, Ok((method.to_string(), params)), "round trip of {call:?}");
    call
}

fn line(call: &HttpCall) -> String {
    format!("{} {}", call.verb.as_str(), call.path_and_query())
}

#[test]
fn crud_services_use_the_collection_and_id_routes() {
    assert_eq!(line(&http("vm.query", json!([]))), "GET /vm");
    let create = http("vm.create", json!([{"name": "a", "memory": 512}]));
    assert_eq!((line(&create), create.body), ("POST /vm".into(), Some(json!({"name": "a", "memory": 512}))));
    assert_eq!(line(&http("vm.get_instance", json!([3]))), "GET /vm/id/3");
    let update = http("vm.update", json!([3, {"memory": 1024}]));
    assert_eq!((line(&update), update.body), ("PUT /vm/id/3".into(), Some(json!({"memory": 1024}))));
    let delete = http("vm.delete", json!([3, {"zvols": true}]));
    assert_eq!((line(&delete), delete.body), ("DELETE /vm/id/3".into(), Some(json!({"zvols": true}))));
    assert_eq!(http("sharing.nfs.delete", json!([4])).body, None);
}

#[test]
fn ids_with_slashes_are_encoded_and_string_ids_stay_strings() {
    assert_eq!(line(&http("pool.dataset.get_instance", json!(["tank/media"]))), "GET /pool/dataset/id/tank%2Fmedia");
    // The schema says the interface id is text, so digits stay text on the way back.
    assert_eq!(line(&http("interface.delete", json!(["10"]))), "DELETE /interface/id/10");
    assert_eq!(line(&http("service.update", json!(["ssh", {"enable": true}]))), "PUT /service/id/ssh");
}

#[test]
fn config_services_read_with_get_and_write_with_put() {
    assert_eq!(line(&http("nfs.config", json!([]))), "GET /nfs");
    let update = http("nfs.update", json!([{"servers": 4}]));
    assert_eq!((line(&update), update.body), ("PUT /nfs".into(), Some(json!({"servers": 4}))));
}

#[test]
fn item_methods_hang_under_the_id_with_the_rest_as_body() {
    let start = http("vm.start", json!([1, {"overcommit": true}]));
    assert_eq!((line(&start), start.body), ("POST /vm/id/1/start".into(), Some(json!({"overcommit": true}))));
    assert_eq!(line(&http("vm.status", json!([1]))), "POST /vm/id/1/status");
    // One remaining param is the body even when it is a list.
    let quota =
        http("pool.dataset.set_quota", json!(["tank/a", [{"quota_type": "USER", "id": "0", "quota_value": 1}]]));
    assert_eq!(line(&quota), "POST /pool/dataset/id/tank%2Fa/set_quota");
    assert!(quota.body.as_ref().is_some_and(Value::is_array));
    assert_eq!(line(&http("pool.scrub", json!([1, "START"]))), "POST /pool/id/1/scrub");
}

#[test]
fn other_methods_post_their_param_or_an_object_keyed_by_title() {
    assert_eq!(line(&http("system.info", json!([]))), "GET /system/info");
    let shells = http("user.shell_choices", json!([[1000]]));
    assert_eq!((line(&shells), shells.body), ("POST /user/shell_choices".into(), Some(json!([1000]))));
    let reboot = http("system.reboot", json!(["maintenance", {"delay": 5}]));
    assert_eq!(reboot.body, Some(json!({"reason": "maintenance", "options": {"delay": 5}})));
    assert_eq!(http("app.redeploy", json!(["plex"])).body, Some(json!("plex")));
    assert_eq!(line(&http("vm.get_available_memory", json!([false]))), "POST /vm/get_available_memory");
}

#[test]
fn simple_queries_go_in_the_query_string() {
    let q = http("vm.query", json!([[["name", "=", "web"], ["id", ">", 2]], {"limit": 10, "offset": 5}]));
    assert_eq!(line(&q), "GET /vm?name=web&id__gt=2&limit=10&offset=5");
    assert_eq!(q.body, None);
    let jobs = http("core.get_jobs", json!([[["id", "=", 7]], {}]));
    assert_eq!(line(&jobs), "GET /core/get_jobs?id=7");
    let extra = http("pool.dataset.query", json!([[], {"extra": {"flat": false}, "count": true}]));
    assert_eq!(line(&extra), "GET /pool/dataset?extra.flat=false&count=true");
}

#[test]
fn queries_the_query_string_cannot_say_go_in_a_get_body() {
    for params in [
        json!([[["name", "=", "123"]], {}]),
        json!([[["state", "in", ["RUNNING"]]], {}]),
        json!([[["OR", [["a", "=", 1], ["b", "=", 2]]]], {}]),
        json!([[], {"order_by": ["-name"]}]),
        json!([[], {"get": true}]),
        json!([[["id", "=", -1]], {}]),
        json!([[], {}]),
        json!([[["id", "=", 1]]]),
    ] {
        let call = http("vm.query", params.clone());
        assert_eq!(line(&call), "GET /vm", "{params}");
        let body = call.body.unwrap();
        assert_eq!(body.get("query-filters"), params.get(0), "{params}");
    }
    let listing = http("filesystem.listdir", json!(["/mnt/tank", [["type", "=", "DIRECTORY"]], {"limit": 5}]));
    assert_eq!(line(&listing), "GET /filesystem/listdir");
    assert_eq!(listing.body.unwrap()["path"], "/mnt/tank");
}

#[test]
fn requests_without_a_method_or_with_a_bad_body_are_refused() {
    let go = |verb: &str, path: &str, body: Option<Value>| from_http(verb, path, body.as_ref(), table());
    assert!(matches!(go("GET", "/vm/id/1/start", None), Err(MapError::NoRoute { .. })));
    assert!(matches!(go("POST", "/system/info", None), Err(MapError::NoRoute { .. })));
    assert!(matches!(go("GET", "/nosuch", None), Err(MapError::NoRoute { .. })));
    assert!(matches!(go("POST", "/vm/query", None), Err(MapError::NoRoute { .. })));
    assert!(matches!(go("POST", "/system/reboot", Some(json!({"why": 1}))), Err(MapError::BadRequest(_))));
    assert!(matches!(go("POST", "/system/reboot", Some(json!(["a"]))), Err(MapError::BadRequest(_))));
    assert!(matches!(go("GET", "/vm/id/..%2F..", None), Err(MapError::BadRequest(_))));
    // TrueNAS's query-string typing: digits are numbers, `null` is null, operators by name.
    let (_, p) = go("GET", "/vm?id__gte=3&name=null&autostart=true", None).unwrap();
    assert_eq!(p, json!([[["id", ">=", 3], ["name", "=", null], ["autostart", "=", true]], {}]));
    // The older body spelling of the filters is accepted.
    let (_, p) = go("GET", "/vm", Some(json!({"filters": [], "options": {"get": true}}))).unwrap();
    assert_eq!(p, json!([[], {"get": true}]));
}

#[test]
fn reading_an_item_with_select_becomes_the_query_rest_stands_for() {
    let call = to_http("pool.get_instance", &json!([1, {"select": ["name"]}]), table()).unwrap();
    assert_eq!(line(&call), "GET /pool");
    let back = from_http("GET", &call.path_and_query(), call.body.as_ref(), table()).unwrap();
    assert_eq!(back, ("pool.query".to_string(), json!([[["id", "=", 1]], {"select": ["name"], "get": true}])));
    assert_eq!(line(&http("pool.get_instance", json!([1, {"extra": {"x": 1}}]))), "GET /pool/id/1?extra.x=1");
}
