//! The account methods through the dispatcher: results in the shape of TrueNAS's own `returns`
//! schemas on every release, not-found errors, and the links between users, groups, privileges
//! and keys.

use serde_json::{Value, json};

use crate::reference_dumps::SHAPED;
use crate::testing::Harness;
use truenas_api::schema::Release;

#[tokio::test]
async fn account_methods_answer_in_the_shape_of_the_dumps() {
    for release in SHAPED {
        let h = Harness::new(release);
        h.ok("user.query", json!([])).await;
        h.ok("user.get_instance", json!([6])).await;
        let carol = h
            .ok(
                "user.create",
                json!([{"username": "carol", "full_name": "Carol", "group_create": true, "random_password": true}]),
            )
            .await;
        assert_eq!(
            carol["password"].as_str().map(str::len),
            Some(20),
            "{release}: the made-up password comes back once"
        );
        let id = carol["id"].clone();
        let updated = h.ok("user.update", json!([id, {"full_name": "Carol M.", "groups": [13]}])).await;
        assert_eq!((updated["full_name"].clone(), updated["password"].clone()), (json!("Carol M."), Value::Null));
        h.ok("user.shell_choices", json!([[4]])).await;
        h.ok("user.get_next_uid", json!([])).await;
        h.ok("user.set_password", json!([{"username": "carol", "new_password": "n3w"}])).await;
        h.ok("group.query", json!([])).await;
        h.ok("group.get_instance", json!([13])).await;
        let group = h.ok("group.create", json!([{"name": "gamers", "users": [6]}])).await;
        h.ok("group.update", json!([group, {"name": "players"}])).await;
        h.ok("group.get_next_gid", json!([])).await;
        h.ok("privilege.query", json!([])).await;
        h.ok("privilege.get_instance", json!([1])).await;
        h.ok("privilege.roles", json!([])).await;
        let gid = h.ok("group.get_instance", json!([group])).await["gid"].clone();
        let privilege =
            h.ok("privilege.create", json!([{"name": "Players", "local_groups": [gid], "web_shell": false}])).await;
        h.ok("privilege.update", json!([privilege["id"], {"roles": ["READONLY_ADMIN"]}])).await;
        h.ok("api_key.query", json!([])).await;
        h.ok("api_key.get_instance", json!([1])).await;
        let key = h.ok("api_key.create", json!([{"name": "ci", "username": "alice"}])).await;
        assert!(key["key"].as_str().unwrap().starts_with(&format!("{}-", key["id"])));
        h.ok("api_key.update", json!([key["id"], {"name": "ci-runner"}])).await;
        let reset = h.ok("api_key.update", json!([key["id"], {"reset": true}])).await;
        assert_ne!(reset["key"], key["key"]);
        h.ok("api_key.my_keys", json!([])).await;
        h.ok("api_key.delete", json!([key["id"]])).await;
        h.ok("privilege.delete", json!([privilege["id"]])).await;
        h.ok("group.delete", json!([group, {}])).await;
        h.ok("user.delete", json!([id, {"delete_group": true}])).await;
    }
}

#[tokio::test]
async fn unknown_ids_get_the_middleware_not_found_shape() {
    let h = Harness::new(Release::V25_10);
    for (method, params, what) in [
        ("user.get_instance", json!([99]), "User 99 does not exist"),
        ("user.update", json!([99, {}]), "User 99 does not exist"),
        ("user.delete", json!([99]), "User 99 does not exist"),
        ("group.get_instance", json!([99]), "Group 99 does not exist"),
        ("group.delete", json!([99]), "Group 99 does not exist"),
        ("privilege.delete", json!([99]), "Privilege 99 does not exist"),
        ("api_key.delete", json!([99]), "ApiKey 99 does not exist"),
    ] {
        let error = h.err(method, params).await.to_rpc_error();
        assert_eq!(error["code"], -32602, "{method}");
        assert_eq!(error["data"]["reason"], format!("[ENOENT] None: {what}\n"), "{method}");
    }
}

#[tokio::test]
async fn deleting_a_user_takes_its_group_by_default_and_revokes_its_keys() {
    let h = Harness::new(Release::V25_10);
    let alice = h.ok("user.get_instance", json!([6])).await;
    assert_eq!(alice["api_keys"], json!([3]));
    h.ok("user.delete", json!([6])).await;
    let groups = h.ok("group.query", json!([[["name", "=", "alice"]]])).await;
    assert_eq!(groups, json!([]), "TrueNAS deletes the primary group unless told not to");
    let key = h.ok("api_key.get_instance", json!([3])).await;
    assert_eq!((key["username"].clone(), key["revoked"].clone()), (Value::Null, json!(true)));
    let family = h.ok("group.get_instance", json!([13])).await;
    assert_eq!(family["users"], json!([7]), "memberships go with the user");
}

#[tokio::test]
async fn queries_filter_on_the_nas() {
    let h = Harness::new(Release::V25_10);
    let smb = h.ok("user.query", json!([[["smb", "=", true]], {"select": ["username"]}])).await;
    assert_eq!(smb, json!([{"username": "alice"}, {"username": "bob"}]));
    let admins = h.ok("group.query", json!([[["roles", "rin", "FULL_ADMIN"]], {"select": ["name"]}])).await;
    assert_eq!(admins, json!([{"name": "builtin_administrators"}]));
    let roles = h.ok("privilege.roles", json!([[["name", "^", "SHARING_SMB"]]])).await;
    assert_eq!(roles.as_array().unwrap().len(), 2);
    assert_eq!(roles[1]["includes"], json!(["SHARING_SMB_READ"]));
}
