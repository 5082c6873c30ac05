//! The accounts of a fresh simulated NAS: the system users and groups TrueNAS installs, the
//! `truenas_admin` administrator (owner of the demo API key), a family of two SMB users with
//! their shared groups, the three built-in privileges plus one made by the administrator, and
//! three API keys.

use serde_json::{Value, json};

use crate::DEMO_API_KEY;
use crate::account::AccountStore;
use crate::account::basics::BUILTIN_USERS;
use truenas_api::schema::Release;

/// Groups as `(builtin, fields)`, in database order.
fn groups() -> Vec<(bool, Value)> {
    let system = |gid: i64, name: &str, smb: bool| (true, json!({"gid": gid, "name": name, "smb": smb}));
    vec![
        system(0, "root", false),
        system(1, "daemon", false),
        system(65534, "nogroup", false),
        (true, json!({"gid": 544, "name": "builtin_administrators", "smb": true, "sudo_commands": ["ALL"]})),
        system(545, BUILTIN_USERS, true),
        system(546, "builtin_guests", true),
        system(568, "apps", false),
        system(951, "truenas_readonly_administrators", false),
        system(952, "truenas_sharing_administrators", false),
        (false, json!({"gid": 950, "name": "truenas_admin", "smb": false})),
        (false, json!({"gid": 3000, "name": "alice", "smb": false})),
        (false, json!({"gid": 3001, "name": "bob", "smb": false})),
        (false, json!({"gid": 3002, "name": "family", "smb": true})),
        (false, json!({"gid": 3003, "name": "media", "smb": true})),
    ]
}

struct SeedUser {
    builtin: bool,
    fields: Value,
    group: &'static str,
    aux: &'static [&'static str],
    password: Option<&'static str>,
}

fn system_user(uid: i64, name: &str, full_name: &str, home: &str, group: &'static str) -> SeedUser {
    SeedUser {
        builtin: true,
        fields: json!({
            "uid": uid, "username": name, "full_name": full_name, "home": home, "shell": "/usr/sbin/nologin",
            "smb": false, "password_disabled": true,
        }),
        group,
        aux: &[],
        password: None,
    }
}

fn users() -> Vec<SeedUser> {
    vec![
        SeedUser {
            builtin: true,
            fields: json!({
                "uid": 0, "username": "root", "full_name": "root", "home": "/root", "shell": "/usr/bin/zsh",
                "smb": false, "password_disabled": true,
            }),
            group: "root",
            aux: &[],
            password: None,
        },
        system_user(1, "daemon", "Daemon", "/usr/sbin", "daemon"),
        system_user(65534, "nobody", "Unprivileged user", "/var/empty", "nogroup"),
        system_user(568, "apps", "Unprivileged Apps User", "/var/empty", "apps"),
        SeedUser {
            builtin: false,
            fields: json!({
                "uid": 950, "username": "truenas_admin", "full_name": "Local Administrator",
                "home": "/home/truenas_admin", "shell": "/usr/bin/zsh", "smb": false,
                "email": "admin@home.lan",
            }),
            group: "truenas_admin",
            aux: &["builtin_administrators"],
            password: Some("sim-admin-password"),
        },
        SeedUser {
            builtin: false,
            fields: json!({
                "uid": 3000, "username": "alice", "full_name": "Alice Martin", "home": "/mnt/tank/home/alice",
                "shell": "/usr/bin/bash", "smb": true, "email": "alice@home.lan",
                "sshpubkey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHf3mJ1c0aQ0WqkY2bVZQK8Qb3s2lYx9R0mS8a9XGd7K alice@laptop",
            }),
            group: "alice",
            aux: &[BUILTIN_USERS, "family", "media"],
            password: Some("sim-alice-password"),
        },
        SeedUser {
            builtin: false,
            fields: json!({
                "uid": 3001, "username": "bob", "full_name": "Bob Martin", "home": "/mnt/tank/home/bob",
                "shell": "/usr/bin/zsh", "smb": true, "email": null,
            }),
            group: "bob",
            aux: &[BUILTIN_USERS, "family"],
            password: Some("sim-bob-password"),
        },
    ]
}

fn privileges() -> Vec<Value> {
    vec![
        json!({
            "builtin_name": "LOCAL_ADMINISTRATOR", "name": "Local Administrator", "local_groups": [544],
            "roles": ["FULL_ADMIN"], "web_shell": true,
        }),
        json!({
            "builtin_name": "READONLY_ADMINISTRATOR", "name": "Read-Only Administrator", "local_groups": [951],
            "roles": ["READONLY_ADMIN"], "web_shell": false,
        }),
        json!({
            "builtin_name": "SHARING_ADMINISTRATOR", "name": "Sharing Administrator", "local_groups": [952],
            "roles": ["SHARING_ADMIN"], "web_shell": false,
        }),
        json!({
            "name": "Media managers", "local_groups": [3003],
            "roles": ["SHARING_SMB_WRITE", "DATASET_READ", "SNAPSHOT_READ"], "web_shell": false,
        }),
    ]
}

/// Defaults every user has unless its seed says otherwise.
fn user_defaults() -> Value {
    json!({
        "password_disabled": false, "ssh_password_enabled": false, "sshpubkey": null, "locked": false,
        "sudo_commands": [], "sudo_commands_nopasswd": [], "email": null, "userns_idmap": null, "webshare": false,
    })
}

/// A store holding the demo accounts.
pub(crate) fn seeded(release: Release) -> AccountStore {
    let mut store = AccountStore::empty(release);
    for (builtin, fields) in groups() {
        store.groups.insert(builtin, fields, &store.privileges);
    }
    for seed in users() {
        let mut fields = user_defaults();
        if let (Some(all), Some(given)) = (fields.as_object_mut(), seed.fields.as_object()) {
            all.extend(given.clone());
        }
        let group = store.groups.named(seed.group).map(|g| g.id).unwrap_or_default();
        let aux: Vec<i64> = seed.aux.iter().filter_map(|name| store.groups.named(name).map(|g| g.id)).collect();
        let id = store.users.insert(seed.builtin, fields, group, seed.password);
        if let Some(user) = store.users.get_mut(id) {
            user.groups.extend(aux);
        }
    }
    for privilege in privileges() {
        store.privileges.insert(privilege);
    }
    let owner = |store: &AccountStore, name: &str| store.users.named(name).map(|u| u.id).unwrap_or_default();
    let admin = owner(&store, "truenas_admin");
    let demo_secret = DEMO_API_KEY.split_once('-').map(|(_, s)| s);
    store.api_keys.insert("truenas-mcp demo", admin, demo_secret);
    store.api_keys.insert("home-assistant", admin, None);
    let alice = owner(&store, "alice");
    store.api_keys.insert("photo-sync", alice, None);
    store
}
