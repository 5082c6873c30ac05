//! The links between users, groups, privileges and keys, read together: a user's groups
//! (`gids_of`), the roles a user or group holds through privileges, the shells a user may have,
//! whether a change leaves the local administrators without a member who can log in, and the
//! query entries of all four (each shows the others: a user its group row, roles and keys, a
//! group its members and roles, a privilege its groups, a key its owner). [`AccountView`]
//! borrows the four collections, so it is built for one read (`AccountStore::view`).

use serde_json::{Map, Value, json};

use crate::account::account_checks;
use crate::account::account_groups::{Group, Groups};
use crate::account::account_privileges::{Privilege, Privileges};
use crate::account::account_users::{User, Users};
use crate::account::api_keys::{ApiKey, ApiKeyStore};
use crate::account::basics::{MS_PER_DAY, REDACTED, ids, now_ms, random_alphanumeric, wire_date};
use crate::failure::Failure;
use truenas_api::schema::Release;

/// The accounts of the NAS, read together.
#[derive(Clone, Copy)]
pub(crate) struct AccountView<'a> {
    pub(crate) release: Release,
    pub(crate) users: &'a Users,
    pub(crate) groups: &'a Groups,
    pub(crate) privileges: &'a Privileges,
    pub(crate) api_keys: &'a ApiKeyStore,
}

impl AccountView<'_> {
    /// `user.shell_choices`: the base shells, plus the TrueNAS CLI when one of the groups
    /// (database ids) holds a privilege.
    pub(crate) fn shell_choices(&self, group_ids: &[i64]) -> Value {
        let privileged = group_ids
            .iter()
            .filter_map(|id| self.groups.get(*id))
            .any(|g| self.privileges.iter().any(|p| p.grants(g.gid())));
        account_checks::shell_choices(privileged)
    }

    /// Refuses a change that leaves the built-in "Local Administrator" privilege without any
    /// member who can log in with a password; `what` starts the message.
    pub(crate) fn keeps_an_administrator(&self, leaving: i64, what: &str) -> Result<(), String> {
        let Some(admin) = self.privileges.iter().find(|p| p.builtin_name() == Some("LOCAL_ADMINISTRATOR")) else {
            return Ok(());
        };
        let remaining = self
            .users
            .iter()
            .filter(|u| u.id != leaving && u.password_enabled())
            .any(|u| self.gids_of(u).iter().any(|g| admin.grants(*g)));
        if remaining { Ok(()) } else { Err(format!("{what} will have built-in privilege '{}'.", admin.name())) }
    }

    pub(crate) fn user_entries(&self) -> Vec<Value> {
        self.users.iter().map(|u| self.user_entry(u)).collect()
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
        out.insert("group".into(), self.groups.get(user.group).map(Group::datastore_row).unwrap_or(json!({})));
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
        self.groups.gids(user.group_ids())
    }

    /// The roles a user holds through the privileges of its groups.
    pub(crate) fn roles_of(&self, user: &User) -> Vec<String> {
        self.privileges.roles_for(&self.gids_of(user))
    }

    pub(crate) fn group_entries(&self) -> Vec<Value> {
        self.groups.iter().map(|g| self.group_entry(g)).collect()
    }

    /// The `group.query` entry of one group.
    pub(crate) fn group_entry(&self, group: &Group) -> Value {
        let sid = match group.gid() {
            gid @ 544..=546 => Some(format!("S-1-5-32-{gid}")),
            _ => group.smb().then(|| format!("S-1-5-21-3287593384-1431582474-3401244384-{}", 200_000 + group.id)),
        };
        let roles = self.privileges.roles_for(&[group.gid()]);
        let entry = json!({
            "id": group.id,
            "gid": group.gid(),
            "name": group.name(),
            "builtin": group.builtin,
            "sudo_commands": group.list("sudo_commands"),
            "sudo_commands_nopasswd": group.list("sudo_commands_nopasswd"),
            "smb": group.smb(),
            "userns_idmap": group.fields.get("userns_idmap").cloned().unwrap_or(Value::Null),
            "group": group.name(),
            "local": true,
            "sid": sid,
            "roles": roles,
            "users": self.users.members_of(group.id),
            "immutable": group.builtin,
        });
        self.as_release_shows(entry)
    }

    pub(crate) fn privilege_entries(&self) -> Vec<Value> {
        self.privileges.iter().map(|p| self.privilege_entry(p)).collect()
    }

    /// The `privilege.query` entry: granted groups expanded to their entries.
    pub(crate) fn privilege_entry(&self, privilege: &Privilege) -> Value {
        let expand = |gid: &i64| match self.groups.by_gid(*gid) {
            Some(group) => self.group_entry(group),
            None => json!({"gid": gid, "sid": null, "group": null}),
        };
        let local: Vec<Value> = ids(&privilege.fields, "local_groups").iter().map(expand).collect();
        let f = |key: &str| privilege.fields.get(key).cloned().unwrap_or(Value::Null);
        json!({
            "id": privilege.id,
            "builtin_name": f("builtin_name"),
            "name": f("name"),
            "local_groups": local,
            "ds_groups": [],
            "roles": privilege.roles(),
            "web_shell": f("web_shell"),
        })
    }

    pub(crate) fn api_key_entries(&self) -> Vec<Value> {
        self.api_keys.iter().map(|k| self.api_key_entry(k)).collect()
    }

    /// The `api_key.query` entry of one key: never its secret.
    pub(crate) fn api_key_entry(&self, key: &ApiKey) -> Value {
        let username = self.users.get(key.user).map(|u| u.username().to_string());
        let (revoked, reason) = match &username {
            Some(_) => (key.revoked, key.revoked_reason.clone()),
            None => (true, Some("User does not exist".to_string())),
        };
        let mut out = Map::new();
        out.insert("id".into(), json!(key.id));
        out.insert("name".into(), json!(key.name));
        out.insert("username".into(), json!(username));
        out.insert("user_identifier".into(), json!(key.user));
        if self.release >= Release::V26_0 {
            out.insert("iterations".into(), json!(500_000));
            for secret in ["salt", "stored_key", "server_key"] {
                out.insert(secret.into(), json!(REDACTED));
            }
        } else {
            out.insert("keyhash".into(), json!(REDACTED));
        }
        out.insert("created_at".into(), wire_date(key.created_at));
        out.insert("expires_at".into(), key.expires_at.map(wire_date).unwrap_or(Value::Null));
        out.insert("local".into(), json!(true));
        out.insert("revoked".into(), json!(revoked));
        if self.release >= Release::V25_10 {
            out.insert("revoked_reason".into(), json!(reason));
        }
        Value::Object(out)
    }

    /// The entry with the secret, as `api_key.create` and a reset return it, once.
    pub(crate) fn api_key_entry_with_secret(&self, id: i64, key: &str) -> Result<Value, Failure> {
        let mut entry = self.api_key_entry(self.api_keys.key(id)?);
        entry["key"] = json!(key);
        if self.release >= Release::V26_0 {
            entry["client_key"] = json!(format!("{}==", random_alphanumeric(86)));
        }
        Ok(entry)
    }
}

#[cfg(test)]
#[path = "account_entries_tests.rs"]
mod tests;
