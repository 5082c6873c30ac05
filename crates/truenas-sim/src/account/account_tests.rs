//! Tests of `AccountStore` (mod.rs): the user, group, privilege and key changes that span them.

use serde_json::{Map, Value, json};

use super::*;
use crate::account::account_seed::seeded;
use crate::defaults;

fn demo() -> AccountStore {
    seeded(Release::V25_10)
}

fn with_defaults(method: &str, value: Value) -> Map<String, Value> {
    let mut value = value;
    defaults::apply(Release::V25_10, method, 0, &mut value);
    value.as_object().unwrap().clone()
}

fn map(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn id_of(s: &AccountStore, name: &str) -> i64 {
    s.users.named(name).unwrap().id
}

fn entry(s: &AccountStore, name: &str) -> Value {
    s.view().user_entry(s.users.named(name).unwrap())
}

#[test]
fn create_makes_the_group_picks_a_uid_and_joins_builtin_users() {
    let mut s = demo();
    let data = json!({"username": "carol", "full_name": "Carol", "group_create": true, "password": "pw"});
    let (id, random) = s.create_user(with_defaults("user.create", data)).unwrap();
    assert_eq!(random, None);
    let carol = s.view().user_entry(s.users.lookup(id).unwrap());
    assert_eq!(carol["uid"], 3002);
    assert_eq!(carol["group"]["bsdgrp_group"], "carol");
    assert_eq!(carol["group"]["bsdgrp_gid"], 3004);
    assert_eq!(carol["shell"], "/usr/bin/zsh");
    assert_eq!(carol["home"], DEFAULT_HOME);
    let builtin_users = s.groups.named(BUILTIN_USERS).unwrap().id;
    assert_eq!(carol["groups"], json!([builtin_users]), "SMB users join builtin_users");
    assert!(s.users.lookup(id).unwrap().password_matches("pw"));
}

#[test]
fn create_reports_every_problem_the_middleware_would() {
    let mut s = demo();
    let data = json!({
        "username": "alice", "full_name": "A:B", "uid": 3001, "home": "/home/x", "shell": "/bin/fish",
        "sudo_commands": ["ALL", "/usr/bin/ls"], "sudo_commands_nopasswd": ["zfs list"],
    });
    let err = s.create_user(with_defaults("user.create", data)).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EINVAL] user_create.group: Enter either a group name or create a new group to continue.\n\
         [EEXIST] user_create.uid: Uid 3001 is already used (user bob has it)\n\
         [EEXIST] user_create.username: The username \"alice\" already exists.\n\
         [EINVAL] user_create.password: Password is required\n\
         [EINVAL] user_create.home: \"Home Directory\" must begin with /mnt or set to /var/empty.\n\
         [EINVAL] user_create.full_name: The \":\" character is not allowed in a \"Full Name\".\n\
         [EINVAL] user_create.shell: Please select a valid shell.\n\
         [EINVAL] user_create.sudo_commands.0: ALL cannot be used with other commands\n\
         [EINVAL] user_create.sudo_commands_nopasswd.0: Executable must be an absolute path\n"
    );
    let smb_without_password =
        json!({"username": "svc", "full_name": "S", "group_create": true, "password_disabled": true});
    let err = s.create_user(with_defaults("user.create", smb_without_password)).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EINVAL] user_create.password_disabled: Password authentication may not be disabled for SMB users.\n"
    );
    let homes =
        json!({"username": "dave", "full_name": "D", "group": 1, "password": "x", "home": "/mnt/tank/home/bob"});
    let err = s.create_user(with_defaults("user.create", homes)).unwrap_err();
    assert_eq!(err.reason(), "[EEXIST] user_create.home: /mnt/tank/home/bob: homedir already used by bob.\n");
}

#[test]
fn update_merges_and_guards_the_administrator() {
    let mut s = demo();
    let alice = id_of(&s, "alice");
    s.update_user(alice, map(json!({"full_name": "Alice M.", "locked": true, "groups": []}))).unwrap();
    let e = entry(&s, "alice");
    assert_eq!(
        (e["full_name"].clone(), e["locked"].clone(), e["groups"].clone()),
        (json!("Alice M."), json!(true), json!([]))
    );
    assert_eq!(e["roles"], json!([]), "roles follow group membership");
    let admin = id_of(&s, "truenas_admin");
    let err = s.update_user(admin, map(json!({"username": "boss"}))).unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] user_update.username: This attribute cannot be changed\n");
    let err = s.update_user(admin, map(json!({"password_disabled": true}))).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EINVAL] user_update.password_disabled: After disabling password for this user no password-enabled local \
         user will have built-in privilege 'Local Administrator'.\n"
    );
    let err = s.update_user(99, Map::new()).unwrap_err();
    assert_eq!(err, user_not_found(99));
    s.update_user(alice, map(json!({"password": "new-secret"}))).unwrap();
    assert!(s.users.lookup(alice).unwrap().password_matches("new-secret"));
}

#[test]
fn delete_refuses_builtins_and_the_last_administrator_and_can_take_the_group() {
    let mut s = demo();
    let err = s.delete_user(id_of(&s, "root"), true).unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] Cannot delete a built-in user");
    let err = s.delete_user(id_of(&s, "truenas_admin"), false).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EACCES] After deleting this user no local user will have built-in privilege 'Local Administrator'."
    );
    let bob = id_of(&s, "bob");
    s.delete_user(bob, true).unwrap();
    assert!(s.groups.named("bob").is_none(), "bob's own group went with him");
    assert!(s.users.lookup(bob).is_err());
    let alice = id_of(&s, "alice");
    s.delete_user(alice, false).unwrap();
    assert!(s.groups.named("alice").is_some());
    let photo_sync = s.view().api_key_entries().into_iter().find(|k| k["name"] == "photo-sync").unwrap();
    assert_eq!(
        (photo_sync["revoked"].clone(), photo_sync["revoked_reason"].clone()),
        (json!(true), json!("User does not exist"))
    );
}

#[test]
fn groups_track_members_and_refuse_what_the_middleware_refuses() {
    let mut s = demo();
    let alice = id_of(&s, "alice");
    let bob = id_of(&s, "bob");
    let id = s.create_group(with_defaults("group.create", json!({"name": "gamers", "users": [alice]}))).unwrap();
    let gamers = s.view().group_entry(s.groups.lookup(id).unwrap());
    assert_eq!((gamers["gid"].clone(), gamers["users"].clone()), (json!(3004), json!([alice])));
    let err = s
        .create_group(with_defaults("group.create", json!({"name": "gamers", "gid": 3000, "users": [99]})))
        .unwrap_err();
    assert_eq!(
        err.reason(),
        "[EEXIST] group_create.name: A Group with the name \"gamers\" already exists.\n\
         [EEXIST] group_create.gid: Gid 3000 is already used (group alice has it)\n\
         [EINVAL] group_create.users: Following users do not exist: 99\n"
    );
    let own = s.groups.named("alice").unwrap().id;
    let err = s.update_group(own, map(json!({"users": []}))).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EINVAL] group_update.users: This group is primary for the following users: alice. You can't remove them.\n"
    );
    s.update_group(id, map(json!({"users": [bob], "name": "players"}))).unwrap();
    assert_eq!(s.view().group_entry(s.groups.lookup(id).unwrap())["users"], json!([bob]));
    assert_eq!(s.view().group_entry(s.groups.lookup(id).unwrap())["name"], "players");
    let media = s.groups.named("media").unwrap().id;
    let err = s.delete_group(media, false).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EACCES] This group is used by privilege 'Media managers'. Please remove it from that privilege first, then \
         delete the group."
    );
    let builtin = s.groups.named("builtin_users").unwrap().id;
    assert_eq!(s.delete_group(builtin, false).unwrap_err().reason(), "[EACCES] A built-in group cannot be deleted.");
    let own_bob = s.groups.named("bob").unwrap().id;
    s.delete_group(own_bob, false).unwrap();
    assert_eq!(entry(&s, "bob")["group"]["bsdgrp_group"], "nogroup", "primary users fall back to nogroup");
}

#[test]
fn privileges_validate_groups_and_roles_and_protect_builtins() {
    let mut s = demo();
    let data = json!({"name": "Backup", "local_groups": [3002, 4242], "roles": ["REPLICATION_TASK_WRITE", "NOPE"], "web_shell": false});
    let err = s.create_privilege(with_defaults("privilege.create", data)).unwrap_err();
    assert!(
        err.reason().contains("privilege_create.local_groups.1: 4242: local group does not exist."),
        "{}",
        err.reason()
    );
    assert!(err.reason().contains("[EINVAL] privilege_create.roles.1: Invalid role\n"));
    let data =
        json!({"name": "Backup", "local_groups": [3002], "roles": ["REPLICATION_TASK_WRITE"], "web_shell": false});
    let id = s.create_privilege(with_defaults("privilege.create", data)).unwrap();
    let entry = s.view().privilege_entry(s.privileges.lookup(id).unwrap());
    assert_eq!(entry["local_groups"][0]["name"], "family");
    assert_eq!(entry["builtin_name"], Value::Null);
    assert!(
        s.view().user_entry(s.users.named("bob").unwrap())["roles"]
            .as_array()
            .unwrap()
            .contains(&json!("REPLICATION_TASK_WRITE"))
    );
    let err = s.update_privilege(1, map(json!({"roles": ["READONLY_ADMIN"], "local_groups": [3002]}))).unwrap_err();
    assert_eq!(
        err.reason(),
        "[EINVAL] privilege_update.roles: This field is read-only for built-in privileges\n\
         [EINVAL] privilege_update.local_groups: The group builtin_administrators must be among grantees of the \"Local \
         Administrator\" privilege.\n"
    );
    assert_eq!(s.privileges.delete(1).unwrap_err().reason(), "[EPERM] Unable to delete built-in privilege");
    s.update_privilege(id, map(json!({"web_shell": true}))).unwrap();
    s.privileges.delete(id).unwrap();
    assert!(s.privileges.lookup(id).is_err());
}

#[test]
fn api_keys_need_a_privileged_owner_and_show_the_secret_once() {
    let mut s = demo();
    let (id, key) = s.create_api_key(&map(json!({"name": "backup-script", "username": "truenas_admin"}))).unwrap();
    assert_eq!(id, 4);
    assert!(key.starts_with("4-") && key.len() == 66, "{key}");
    assert!(s.api_keys.matches(&key));
    let with_secret = s.view().api_key_entry_with_secret(id, &key).unwrap();
    assert_eq!(with_secret["key"], json!(key));
    assert!(!s.view().api_key_entries().iter().any(|e| e.to_string().contains(&key)), "listings never carry the key");
    let err = s.create_api_key(&map(json!({"name": "backup-script", "username": "bob"}))).unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] api_key_create: name must be unique\n");
    let err = s.create_api_key(&map(json!({"name": "b2", "username": "bob"}))).unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] api_key_create: User lacks privilege role membership.\n");
    let err = s.create_api_key(&map(json!({"name": "b3", "username": "zed"}))).unwrap_err();
    assert_eq!(err.reason(), "[EINVAL] api_key_create: User does not exist.\n");
    let err = s.create_api_key(&map(json!({"name": "b4", "username": "alice", "expires_at": "2001-01-01T00:00:00Z"})));
    assert_eq!(err.unwrap_err().reason(), "[EINVAL] api_key_create: Expiration date is in the past\n");
    let reset = s.api_keys.update(id, &map(json!({"reset": true}))).unwrap().unwrap();
    assert!(!s.api_keys.matches(&key) && s.api_keys.matches(&reset));
    s.api_keys.delete(id).unwrap();
    assert_eq!(s.api_keys.delete(id).unwrap_err().reason(), "[ENOENT] None: ApiKey 4 does not exist\n");
}
