//! The `account` actions (`tools/account.toml`: users, groups, privileges) build exactly the
//! middleware calls they should, are gated with the reference's refusal texts, and carry the
//! risk classes chosen for them.

use serde_json::{Map, Value, json};

use super::test_support::*;

/// (action, method, arguments, expected positional params).
fn cases() -> Vec<(&'static str, &'static str, Value, Value)> {
    vec![
        ("user_list", "user.query", json!({}), json!([])),
        ("user_get", "user.get_instance", json!({"id": 6}), json!([6])),
        (
            "user_create",
            "user.create",
            json!({"username": "carol", "full_name": "Carol", "group_create": true, "password": "pw"}),
            json!([{"username": "carol", "group_create": true, "full_name": "Carol", "password": "pw"}]),
        ),
        ("user_update", "user.update", json!({"id": 6, "locked": true}), json!([6, {"locked": true}])),
        ("user_delete", "user.delete", json!({"id": 7, "confirm": true}), json!([7, {"delete_group": false}])),
        ("user_shell_choices", "user.shell_choices", json!({}), json!([])),
        ("user_set_password", "user.update", json!({"id": 6, "password": "pw2"}), json!([6, {"password": "pw2"}])),
        ("group_list", "group.query", json!({}), json!([])),
        ("group_get", "group.get_instance", json!({"id": 13}), json!([13])),
        ("group_create", "group.create", json!({"name": "g", "users": [6]}), json!([{"name": "g", "users": [6]}])),
        ("group_update", "group.update", json!({"id": 13, "smb": false}), json!([13, {"smb": false}])),
        (
            "group_delete",
            "group.delete",
            json!({"id": 13, "confirm": true, "delete_users": true}),
            json!([13, {"delete_users": true}]),
        ),
        ("privilege_list", "privilege.query", json!({}), json!([])),
        (
            "privilege_create",
            "privilege.create",
            json!({"name": "p", "roles": ["READONLY_ADMIN"]}),
            json!([{"name": "p", "local_groups": [], "ds_groups": [], "web_shell": false, "roles": ["READONLY_ADMIN"]}]),
        ),
        ("privilege_update", "privilege.update", json!({"id": 4, "web_shell": true}), json!([4, {"web_shell": true}])),
        ("privilege_delete", "privilege.delete", json!({"id": 4}), json!([4])),
    ]
}

#[test]
fn account_actions_build_the_expected_middleware_calls() {
    let catalog = builtin();
    assert_category_builds_on_every_release(&catalog, "account", &cases());
}

#[test]
fn gated_actions_refuse_with_the_reference_texts() {
    let catalog = builtin();
    let gated: Vec<(&str, &str)> = confirm_texts_of(&catalog, "account");
    assert_eq!(
        gated,
        [
            ("user_delete", "Delete aborted: 'confirm' must be set to true."),
            ("group_delete", "Delete aborted: 'confirm' must be set to true."),
        ]
    );
}

#[test]
fn no_account_action_is_a_job() {
    let catalog = builtin();
    let jobs = jobs_of(&catalog, "account");
    assert_eq!(jobs, [] as [&str; 0]);
}

#[test]
fn deleting_a_user_group_or_privilege_is_destructive() {
    let catalog = builtin();
    let destructive: Vec<&str> = destructive_of(&catalog, "account");
    assert_eq!(destructive, ["user_delete", "group_delete", "privilege_delete"]);
}

#[test]
fn arguments_truenas_dropped_are_refused_not_forwarded() {
    let catalog = builtin();
    for (action, gone) in [
        ("user_create", "microsoft_account"),
        ("user_update", "uid"),
        ("user_set_password", "old_password"),
        ("group_update", "gid"),
        ("privilege_create", "allowlist"),
    ] {
        let def = catalog.action(action).unwrap();
        assert!(def.arg(gone).is_none(), "{action} still declares {gone}");
        let mut args = Map::new();
        for arg in def.args.iter().filter(|a| a.required) {
            args.insert(arg.name.clone(), arg.example_value().unwrap_or(Value::Bool(true)));
        }
        args.insert(gone.to_string(), json!("x"));
        assert!(def.validate_args(&args).is_err(), "{action} accepted {gone}");
    }
}
