//! The account domain: users, groups, privileges, API keys, logins and directory services
//! (`user.*`, `group.*`, `privilege.*`, `api_key.*`, `auth.*`, `directoryservices.*`).
//!
//! State: this file's type and `account_users` (changing users), `account_checks` (the checks
//! `user.create`/`user.update` share), `account_groups` (groups), `account_privileges` (privileges
//! and roles), `api_keys` (API keys), `account_seed` (the demo accounts), `directory` (directory
//! services (AD, LDAP, IPA)).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `user_methods` (`user.*`),
//! `group_methods` (`group.*`), `privilege_methods` (`privilege.*`), `api_key_methods`
//! (`api_key.*`), `auth_methods` (`auth.*`: logins and sessions), `directory_methods`
//! (`directoryservices.*`).
//!
//! Local accounts (`user.*`, `group.*`, `privilege.*`, `api_key.*`): the users, groups,
//! privileges and API keys of the simulated NAS and the links TrueNAS keeps between them (a
//! user's primary and auxiliary groups, the roles a user gets through its groups' privileges,
//! the keys a user owns). Users and their entries live here; changing them in
//! `account_users.rs`, with the checks `user.create`/`user.update` share in `account_checks.rs`;
//! groups in `account_groups.rs`, privileges in `account_privileges.rs`, keys in `api_keys.rs`,
//! the demo data in `account_seed.rs`.

pub(crate) mod account_checks;
pub(crate) mod account_groups;
pub(crate) mod account_privileges;
pub(crate) mod account_seed;
pub(crate) mod account_users;
pub(crate) mod api_key_methods;
pub(crate) mod api_keys;
pub(crate) mod auth_methods;
pub(crate) mod directory;
pub(crate) mod directory_methods;
pub(crate) mod group_methods;
pub(crate) mod privilege_methods;
pub(crate) mod user_methods;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::account::account_groups::Group;
use crate::account::account_privileges::Privilege;
use crate::account::api_keys::ApiKeyStore;
use crate::failure::{Failure, Invalid};
use truenas_api::schema::Release;

/// The home of users without one.
pub(crate) const DEFAULT_HOME: &str = "/var/empty";
/// First uid and gid handed out automatically (TrueNAS keeps lower ones for the system).
pub(crate) const FIRST_FREE_ID: i64 = 3000;
/// The group every SMB user joins.
pub(crate) const BUILTIN_USERS: &str = "builtin_users";
/// How TrueNAS shows a secret to a caller.
pub(crate) const REDACTED: &str = "********";
const MS_PER_DAY: u64 = 86_400_000;
/// `EPERM`, for refusals the middleware raises with it (the name comes from the errno table).
pub(crate) const EPERM: i64 = 1;
/// `EACCES`, likewise.
pub(crate) const EACCES: i64 = 13;

/// Attributes a user keeps, as `user.create` and `user.update` name them.
pub(crate) const USER_FIELDS: [&str; 16] = [
    "uid",
    "username",
    "home",
    "shell",
    "full_name",
    "smb",
    "webshare",
    "userns_idmap",
    "password_disabled",
    "ssh_password_enabled",
    "sshpubkey",
    "locked",
    "sudo_commands",
    "sudo_commands_nopasswd",
    "email",
    "home_mode",
];

/// One local user.
#[derive(Debug, Clone)]
pub(crate) struct User {
    pub(crate) id: i64,
    pub(crate) builtin: bool,
    /// Stored attributes (see `USER_FIELDS`).
    pub(crate) fields: Map<String, Value>,
    /// Database id of the primary group.
    pub(crate) group: i64,
    /// Database ids of the auxiliary groups.
    pub(crate) groups: BTreeSet<i64>,
    /// Digest of the password, when one is set.
    password: Option<[u8; 32]>,
    /// When the password last changed, in ms since the epoch.
    password_changed: Option<u64>,
}

impl User {
    pub(crate) fn username(&self) -> &str {
        self.text("username").unwrap_or_default()
    }

    pub(crate) fn uid(&self) -> i64 {
        self.fields.get("uid").and_then(Value::as_i64).unwrap_or(-1)
    }

    pub(crate) fn text(&self, key: &str) -> Option<&str> {
        self.fields.get(key).and_then(Value::as_str)
    }

    pub(crate) fn flag(&self, key: &str) -> bool {
        self.fields.get(key).and_then(Value::as_bool).unwrap_or(false)
    }

    /// Whether password logins work for this user.
    pub(crate) fn password_enabled(&self) -> bool {
        !self.flag("password_disabled") && self.password.is_some()
    }

    /// The administrator accounts made at install time cannot be renamed or moved either.
    pub(crate) fn immutable(&self) -> bool {
        let name = self.username();
        self.builtin
            || (["admin", "truenas_admin"].contains(&name) && self.text("home") == Some(&format!("/home/{name}")))
    }

    pub(crate) fn set_password(&mut self, password: &str) {
        self.password = Some(digest(password));
        self.password_changed = Some(now_ms());
    }

    pub(crate) fn password_matches(&self, password: &str) -> bool {
        self.password == Some(digest(password))
    }
}

fn digest(password: &str) -> [u8; 32] {
    Sha256::digest(password.as_bytes()).into()
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A datetime as the middleware puts it on the wire.
pub(crate) fn wire_date(ms: u64) -> Value {
    json!({"$date": ms})
}

/// Every user, group, privilege and API key of the simulated NAS.
#[derive(Debug)]
pub(crate) struct AccountStore {
    pub(crate) release: Release,
    pub(crate) users: BTreeMap<i64, User>,
    pub(crate) groups: BTreeMap<i64, Group>,
    pub(crate) privileges: BTreeMap<i64, Privilege>,
    pub(crate) api_keys: ApiKeyStore,
    pub(crate) next_user: i64,
    pub(crate) next_group: i64,
    pub(crate) next_privilege: i64,
}

pub(crate) fn user_not_found(id: i64) -> Failure {
    Failure::not_found(format!("User {id} does not exist"))
}

pub(crate) fn invalid(attribute: &str, message: impl Into<String>, errno: i64) -> Invalid {
    Invalid { attribute: Some(attribute.to_string()), message: message.into(), errno }
}

pub(crate) fn check(problems: Vec<Invalid>) -> Result<(), Failure> {
    if problems.is_empty() { Ok(()) } else { Err(Failure::Validation(problems)) }
}

/// The integers of an array member, empty when absent.
pub(crate) fn ids(data: &Map<String, Value>, key: &str) -> Vec<i64> {
    data.get(key).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
}

impl AccountStore {
    pub(crate) fn empty(release: Release) -> AccountStore {
        AccountStore {
            release,
            users: BTreeMap::new(),
            groups: BTreeMap::new(),
            privileges: BTreeMap::new(),
            api_keys: ApiKeyStore::default(),
            next_user: 1,
            next_group: 1,
            next_privilege: 1,
        }
    }

    pub(crate) fn user(&self, id: i64) -> Result<&User, Failure> {
        self.users.get(&id).ok_or_else(|| user_not_found(id))
    }

    pub(crate) fn user_named(&self, name: &str) -> Option<&User> {
        self.users.values().find(|u| u.username() == name)
    }

    pub(crate) fn user_entries(&self) -> Vec<Value> {
        self.users.values().map(|u| self.user_entry(u)).collect()
    }

    /// The `user.query` entry of one user.
    pub(crate) fn user_entry(&self, user: &User) -> Value {
        let f = |key: &str| user.fields.get(key).cloned().unwrap_or(Value::Null);
        let smb = user.flag("smb");
        let hash = |set: bool| json!(if set { REDACTED } else { "*" });
        let mut out = Map::new();
        out.insert("id".into(), json!(user.id));
        out.insert("uid".into(), f("uid"));
        out.insert("username".into(), f("username"));
        out.insert("unixhash".into(), hash(user.password.is_some()));
        out.insert("smbhash".into(), hash(user.password.is_some() && smb));
        for key in ["home", "shell", "full_name"] {
            out.insert(key.into(), f(key));
        }
        out.insert("builtin".into(), json!(user.builtin));
        out.insert("smb".into(), json!(smb));
        if self.release >= Release::V26_0 {
            out.insert("webshare".into(), json!(user.flag("webshare")));
        }
        out.insert("userns_idmap".into(), f("userns_idmap"));
        out.insert("group".into(), self.groups.get(&user.group).map(Group::datastore_row).unwrap_or(json!({})));
        out.insert("groups".into(), json!(user.groups));
        for key in ["password_disabled", "ssh_password_enabled", "sshpubkey", "locked"] {
            out.insert(key.into(), f(key));
        }
        for key in ["sudo_commands", "sudo_commands_nopasswd"] {
            out.insert(key.into(), user.fields.get(key).cloned().unwrap_or(json!([])));
        }
        out.insert("email".into(), f("email"));
        out.insert("local".into(), json!(true));
        out.insert("immutable".into(), json!(user.immutable()));
        out.insert("twofactor_auth_configured".into(), json!(false));
        let sid = smb.then(|| format!("S-1-5-21-3287593384-1431582474-3401244384-{}", 20_000 + user.id));
        out.insert("sid".into(), json!(sid));
        out.insert("last_password_change".into(), user.password_changed.map(wire_date).unwrap_or(Value::Null));
        let age = user.password_changed.map(|t| now_ms().saturating_sub(t) / MS_PER_DAY);
        out.insert("password_age".into(), json!(age));
        out.insert("password_history".into(), Value::Null);
        out.insert("password_change_required".into(), json!(false));
        out.insert("roles".into(), json!(self.roles_of(user)));
        out.insert("api_keys".into(), json!(self.api_keys.owned_by(user.id)));
        self.as_release_shows(Value::Object(out))
    }

    /// A user or group entry as this release shows it: before 25.10 both carry `id_type_both`
    /// (false for local accounts, placed before `local`) and a group has no `immutable`.
    pub(crate) fn as_release_shows(&self, entry: Value) -> Value {
        let Value::Object(map) = entry else { return entry };
        if self.release >= Release::V25_10 {
            return Value::Object(map);
        }
        let is_group = map.contains_key("gid");
        let mut out = Map::new();
        for (key, value) in map {
            if key == "local" {
                out.insert("id_type_both".into(), json!(false));
            }
            if !(is_group && key == "immutable") {
                out.insert(key, value);
            }
        }
        Value::Object(out)
    }

    /// The gids of a user's primary and auxiliary groups.
    pub(crate) fn gids_of(&self, user: &User) -> Vec<i64> {
        std::iter::once(user.group)
            .chain(user.groups.iter().copied())
            .filter_map(|id| self.groups.get(&id).map(Group::gid))
            .collect()
    }

    /// The roles a user holds through the privileges of its groups.
    pub(crate) fn roles_of(&self, user: &User) -> Vec<String> {
        let gids = self.gids_of(user);
        let roles: BTreeSet<String> =
            self.privileges.values().filter(|p| gids.iter().any(|g| p.grants(*g))).flat_map(Privilege::roles).collect();
        roles.into_iter().collect()
    }

    /// `user.get_next_uid`: the first free uid from 3000 on.
    pub(crate) fn next_uid(&self) -> i64 {
        let used: BTreeSet<i64> = self.users.values().map(User::uid).collect();
        (FIRST_FREE_ID..).find(|uid| !used.contains(uid)).unwrap_or(FIRST_FREE_ID)
    }

    /// Stores a user as given; seeds only.
    pub(crate) fn insert_user(&mut self, builtin: bool, fields: Value, group: i64, password: Option<&str>) -> i64 {
        let id = self.next_user;
        self.next_user += 1;
        let mut fields = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        fields.retain(|k, _| USER_FIELDS.contains(&k.as_str()));
        let mut user =
            User { id, builtin, fields, group, groups: BTreeSet::new(), password: None, password_changed: None };
        if let Some(p) = password {
            user.set_password(p);
        }
        self.users.insert(id, user);
        id
    }
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
