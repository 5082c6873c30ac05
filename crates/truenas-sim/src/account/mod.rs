//! The account domain: users, groups, privileges, API keys, logins and directory services
//! (`user.*`, `group.*`, `privilege.*`, `api_key.*`, `auth.*`, `directoryservices.*`).
//!
//! Local accounts, from the bottom up (a file uses only the files above it in this list):
//! - `basics`: constants, dates, digests and validation shorthands; `account_checks`: the name,
//!   shell and sudo rules users and groups share.
//! - `account_privileges`: a privilege and [`Privileges`] (create, update, delete; what a
//!   privilege needs to know of groups and users is asked of the caller).
//! - `account_groups`: a group and [`Groups`] (its own checks, next gid, delete guards).
//! - `account_users`: a user and [`Users`] (`common_validation`, set_password, memberships).
//! - `api_keys`: a key and [`ApiKeyStore`] (update, delete, secrets).
//! - `account_entries`: [`AccountView`], the links between the four read together (a user's
//!   groups, roles through privileges, keys owned by a user) and every query entry.
//! - this file: [`AccountStore`], the four together, for the changes that span them:
//!   `user.create`/`update`/`delete` (a user's groups, its own group, the last administrator),
//!   `group.create`/`update`/`delete` (members are kept on the users), `privilege.create` and
//!   `update` (granted groups must exist, an administrator must be able to log in), and
//!   `api_key.create` (the owner needs a role).
//! - `account_seed`: the demo accounts.
//!
//! Beside them: `directory` (directory services (AD, LDAP, IPA)).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `user_methods` (`user.*`),
//! `group_methods` (`group.*`), `privilege_methods` (`privilege.*`), `api_key_methods`
//! (`api_key.*`), `auth_methods` (`auth.*`: logins and sessions), `directory_methods`
//! (`directoryservices.*`).
//!
//! All of it sits behind the machine's one state lock, so a change that spans collections
//! (a user deleted with its own group) is seen whole or not at all.

pub(crate) mod account_checks;
pub(crate) mod account_entries;
pub(crate) mod account_groups;
pub(crate) mod account_privileges;
pub(crate) mod account_seed;
pub(crate) mod account_users;
pub(crate) mod api_key_methods;
pub(crate) mod api_keys;
pub(crate) mod auth_methods;
pub(crate) mod basics;
pub(crate) mod directory;
pub(crate) mod directory_methods;
pub(crate) mod group_methods;
pub(crate) mod privilege_methods;
pub(crate) mod user_methods;

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::account::account_checks::check_sudo;
use crate::account::account_entries::AccountView;
use crate::account::account_groups::{Groups, NOGROUP};
use crate::account::account_privileges::Privileges;
use crate::account::account_users::{USER_FIELDS, Users, random_password, user_not_found};
use crate::account::api_keys::ApiKeyStore;
use crate::account::basics::{BUILTIN_USERS, DEFAULT_HOME, EACCES, check, ids, invalid};
use crate::failure::{Failure, Invalid, errno};
use truenas_api::schema::Release;

/// Every user, group, privilege and API key of the simulated NAS.
#[derive(Debug)]
pub(crate) struct AccountStore {
    /// The release whose entry shapes the store answers in.
    pub(crate) release: Release,
    pub(crate) users: Users,
    pub(crate) groups: Groups,
    pub(crate) privileges: Privileges,
    pub(crate) api_keys: ApiKeyStore,
}

impl AccountStore {
    pub(crate) fn empty(release: Release) -> AccountStore {
        AccountStore {
            release,
            users: Users::default(),
            groups: Groups::default(),
            privileges: Privileges::default(),
            api_keys: ApiKeyStore::default(),
        }
    }

    /// The four collections read together: links and query entries.
    pub(crate) fn view(&self) -> AccountView<'_> {
        AccountView {
            release: self.release,
            users: &self.users,
            groups: &self.groups,
            privileges: &self.privileges,
            api_keys: &self.api_keys,
        }
    }

    /// `user.create`, with the schema's defaults already filled into `data`. Returns the id and,
    /// with `random_password`, the password made up for the user.
    pub(crate) fn create_user(&mut self, data: Map<String, Value>) -> Result<(i64, Option<String>), Failure> {
        let group = data.get("group").and_then(Value::as_i64);
        let group_create = data.get("group_create").and_then(Value::as_bool).unwrap_or(false);
        let mut problems = Vec::new();
        if (group.is_none() && !group_create) || (group.is_some() && group_create) {
            problems.push(invalid(
                "user_create.group",
                "Enter either a group name or create a new group to continue.",
                errno::EINVAL,
            ));
        }
        let mut group_ids: Vec<i64> = group.into_iter().collect();
        group_ids.extend(ids(&data, "groups"));
        let shells = self.view().shell_choices(&group_ids);
        problems.extend(self.users.check("user_create", &data, None, &shells));
        let home = data.get("home").and_then(Value::as_str).unwrap_or(DEFAULT_HOME);
        if data.get("sshpubkey").and_then(Value::as_str).is_some_and(|k| !k.is_empty()) && !home.starts_with("/mnt") {
            problems.push(invalid(
                "user_create.sshpubkey",
                "The home directory is not writable. Leave this field blank.",
                errno::EINVAL,
            ));
        }
        check(problems)?;
        let username = data.get("username").and_then(Value::as_str).unwrap_or_default().to_string();
        let primary = match group {
            Some(id) if self.groups.contains(id) => id,
            Some(id) => return Err(Failure::fault(format!("Group {id} not found"))),
            None => match self.groups.named(&username) {
                Some(g) => g.id,
                None => self.groups.insert(false, json!({"name": username, "smb": false}), &self.privileges),
            },
        };
        let mut aux: BTreeSet<i64> = BTreeSet::new();
        for id in ids(&data, "groups") {
            if !self.groups.contains(id) {
                return Err(Failure::call(errno::ENOENT, format!("Group {id} not found")));
            }
            aux.insert(id);
        }
        if data.get("smb").and_then(Value::as_bool).unwrap_or(true)
            && let Some(g) = self.groups.named(BUILTIN_USERS)
        {
            aux.insert(g.id);
        }
        let mut fields = data.clone();
        if fields.get("uid").is_none_or(Value::is_null) {
            fields.insert("uid".into(), json!(self.users.next_uid()));
        }
        if data.get("home_create").and_then(Value::as_bool).unwrap_or(false) && home != DEFAULT_HOME {
            fields.insert("home".into(), json!(format!("{}/{username}", home.trim_end_matches('/'))));
        }
        let random = data.get("random_password").and_then(Value::as_bool).unwrap_or(false).then(random_password);
        let password = data.get("password").and_then(Value::as_str).map(str::to_string).or(random.clone());
        let id = self.users.insert(false, Value::Object(fields), primary, password.as_deref());
        if let Some(user) = self.users.get_mut(id) {
            user.groups = aux;
        }
        Ok((id, random))
    }

    /// `user.update`: merges `data` into the stored user.
    pub(crate) fn update_user(&mut self, id: i64, data: Map<String, Value>) -> Result<Option<String>, Failure> {
        let user = self.users.lookup(id)?.clone();
        let mut problems = Vec::new();
        if data.get("password_disabled").and_then(Value::as_bool) == Some(true)
            && let Err(message) = self
                .view()
                .keeps_an_administrator(id, "After disabling password for this user no password-enabled local user")
        {
            problems.push(invalid("user_update.password_disabled", message, errno::EINVAL));
        }
        let group = data.get("group").and_then(Value::as_i64).unwrap_or(user.group);
        if !self.groups.contains(group) {
            problems.push(invalid("user_update.group", format!("Group {group} not found"), errno::ENOENT));
        }
        let mut group_ids = vec![group];
        match data.get("groups") {
            Some(_) => group_ids.extend(ids(&data, "groups")),
            None => group_ids.extend(user.groups.iter().copied()),
        }
        let shells = self.view().shell_choices(&group_ids);
        problems.extend(self.users.check("user_update", &data, Some(&user), &shells));
        let home = data.get("home").and_then(Value::as_str).or(user.text("home")).unwrap_or(DEFAULT_HOME);
        let writable = home.starts_with("/mnt") || ["/root", "/home/admin", "/home/truenas_admin"].contains(&home);
        if data.get("sshpubkey").and_then(Value::as_str).is_some_and(|k| !k.is_empty()) && !writable {
            problems.push(invalid(
                "user_update.sshpubkey",
                "Home directory is not writable, leave this blank\"",
                errno::EINVAL,
            ));
        }
        if user.immutable() {
            for key in ["home", "uid", "username", "smb"] {
                if data.get(key).is_some_and(|v| Some(v) != user.fields.get(key)) {
                    problems.push(invalid(
                        format!("user_update.{key}"),
                        "This attribute cannot be changed",
                        errno::EINVAL,
                    ));
                }
            }
            if group != user.group {
                problems.push(invalid("user_update.group", "This attribute cannot be changed", errno::EINVAL));
            }
        }
        let password = data.get("password").and_then(Value::as_str);
        if !user.flag("smb") && data.get("smb").and_then(Value::as_bool) == Some(true) && password.is_none() {
            problems.push(invalid(
                "user_update.smb",
                "Password must be changed in order to enable SMB authentication",
                errno::EINVAL,
            ));
        }
        check(problems)?;
        let mut aux = user.groups.clone();
        if data.contains_key("groups") {
            aux.clear();
            for gid in ids(&data, "groups") {
                if !self.groups.contains(gid) {
                    return Err(Failure::call(errno::ENOENT, format!("Group {gid} not found")));
                }
                aux.insert(gid);
            }
        }
        let random = data.get("random_password").and_then(Value::as_bool).unwrap_or(false).then(random_password);
        let username = data.get("username").and_then(Value::as_str).unwrap_or(user.username()).to_string();
        let stored = self.users.get_mut(id).ok_or_else(|| user_not_found(id))?;
        for (key, value) in data.iter().filter(|(k, _)| USER_FIELDS.contains(&k.as_str())) {
            stored.fields.insert(key.clone(), value.clone());
        }
        if data.get("home_create").and_then(Value::as_bool) == Some(true) && home != DEFAULT_HOME {
            stored.fields.insert("home".into(), json!(format!("{}/{username}", home.trim_end_matches('/'))));
        }
        stored.group = group;
        stored.groups = aux;
        if let Some(p) = password.map(str::to_string).or(random.clone()) {
            stored.set_password(&p);
        }
        Ok(random)
    }

    /// `user.delete`: with `delete_group`, the primary group goes too when nobody else uses it.
    pub(crate) fn delete_user(&mut self, id: i64, delete_group: bool) -> Result<(), Failure> {
        let user = self.users.lookup(id)?;
        if user.builtin {
            return Err(Failure::call(errno::EINVAL, "Cannot delete a built-in user"));
        }
        self.view()
            .keeps_an_administrator(id, "After deleting this user no local user")
            .map_err(|m| Failure::call(EACCES, m))?;
        let primary = user.group;
        self.users.remove(id);
        let group = self.groups.get(primary);
        let in_use = self.users.iter().any(|u| u.group == primary || u.groups.contains(&primary));
        let granted = group.is_some_and(|g| self.privileges.using(g.gid()).is_some());
        if delete_group && group.is_some_and(|g| !g.builtin) && !in_use && !granted {
            self.groups.remove(primary);
        }
        Ok(())
    }

    /// The checks of `group.create` and `group.update`, in the middleware's order: name and gid,
    /// members, sudo commands.
    fn check_group(&self, schema: &str, data: &Map<String, Value>, existing: Option<i64>) -> Vec<Invalid> {
        let mut problems = self.groups.check(schema, data, existing, &self.privileges);
        problems.extend(self.users.check_members(schema, data, existing));
        problems.extend(check_sudo(schema, data));
        problems
    }

    /// `group.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_group(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        check(self.check_group("group_create", &data, None))?;
        let id = self.groups.insert(false, Value::Object(data.clone()), &self.privileges);
        self.users.set_members(id, &ids(&data, "users"));
        Ok(id)
    }

    /// `group.update`: merges `data` into the stored group.
    pub(crate) fn update_group(&mut self, id: i64, data: Map<String, Value>) -> Result<(), Failure> {
        self.groups.lookup(id)?;
        check(self.check_group("group_update", &data, Some(id)))?;
        if data.contains_key("users") {
            self.users.set_members(id, &ids(&data, "users"));
        }
        self.groups.update(id, data)
    }

    /// `group.delete`: its primary users move to `nogroup`, or go with it (`delete_users`).
    pub(crate) fn delete_group(&mut self, id: i64, delete_users: bool) -> Result<(), Failure> {
        self.groups.check_delete(id, &self.privileges)?;
        let fallback = self.groups.named(NOGROUP).map(|g| g.id);
        if delete_users {
            self.users.retain(|u| u.group != id);
        }
        for user in self.users.iter_mut() {
            if user.group == id
                && let Some(nogroup) = fallback
            {
                user.group = nogroup;
            }
            user.groups.remove(&id);
        }
        self.groups.remove(id);
        Ok(())
    }

    /// `privilege.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_privilege(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let groups = &self.groups;
        self.privileges.create(data, &|gid| groups.by_gid(gid).is_some())
    }

    /// `privilege.update`: the local administrators keep a member who can log in.
    pub(crate) fn update_privilege(&mut self, id: i64, data: Map<String, Value>) -> Result<(), Failure> {
        let (users, groups) = (&self.users, &self.groups);
        let can_log_in = |gids: &[i64]| {
            users.iter().any(|u| u.password_enabled() && groups.gids(u.group_ids()).iter().any(|g| gids.contains(g)))
        };
        self.privileges.update(id, data, &|gid| groups.by_gid(gid).is_some(), &can_log_in)
    }

    /// `api_key.create`: returns the id and the key, which is shown only this once.
    pub(crate) fn create_api_key(&mut self, data: &Map<String, Value>) -> Result<(i64, String), Failure> {
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
        let username = data.get("username").and_then(Value::as_str).unwrap_or_default();
        let expiry = self.api_keys.check("api_key_create", name, data.get("expires_at"), None)?;
        let Some(user) = self.users.named(username) else {
            return Err(Failure::Validation(vec![invalid("api_key_create", "User does not exist.", errno::EINVAL)]));
        };
        if self.view().roles_of(user).is_empty() {
            let message = "User lacks privilege role membership.";
            return Err(Failure::Validation(vec![invalid("api_key_create", message, errno::EINVAL)]));
        }
        let owner = user.id;
        let (id, key) = self.api_keys.insert(name, owner, None);
        self.api_keys.set_expiry(id, expiry);
        Ok((id, key))
    }
}

#[cfg(test)]
#[path = "account_tests.rs"]
mod tests;
