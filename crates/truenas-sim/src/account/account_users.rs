//! Local users (`user.*`): a user as the simulator keeps it (its attributes, primary and
//! auxiliary groups, a digest of its password) and [`Users`], every user by id with the checks
//! that read only users (unique uids, names and homes, the middleware's `common_validation`),
//! `user.set_password`, and the group memberships kept on the users. `user.create`, `update`
//! and `delete`, which read groups and privileges too, are `AccountStore`'s.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::account::account_checks::{check_name, check_sudo};
use crate::account::basics::{
    DEFAULT_HOME, FIRST_FREE_ID, check, digest, ids, invalid, kept_fields, now_ms, random_alphanumeric,
};
use crate::failure::{Failure, Invalid, errno};
use crate::table::Rows;

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
    pub(crate) password: Option<[u8; 32]>,
    /// When the password last changed, in ms since the epoch.
    pub(crate) password_changed: Option<u64>,
}

impl User {
    pub(crate) fn username(&self) -> &str {
        self.text("username").unwrap_or_default()
    }

    /// Database ids of the primary group, then the auxiliary ones.
    pub(crate) fn group_ids(&self) -> impl Iterator<Item = i64> + '_ {
        std::iter::once(self.group).chain(self.groups.iter().copied())
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

pub(crate) fn user_not_found(id: i64) -> Failure {
    Failure::not_found(format!("User {id} does not exist"))
}

/// A password `random_password` makes up (20 letters and digits).
pub(crate) fn random_password() -> String {
    random_alphanumeric(20)
}

/// Every local user, by database id.
#[derive(Debug, Default)]
pub(crate) struct Users {
    rows: Rows<User>,
}

impl Users {
    pub(crate) fn lookup(&self, id: i64) -> Result<&User, Failure> {
        self.rows.get(id).ok_or_else(|| user_not_found(id))
    }

    pub(crate) fn get(&self, id: i64) -> Option<&User> {
        self.rows.get(id)
    }

    pub(crate) fn get_mut(&mut self, id: i64) -> Option<&mut User> {
        self.rows.get_mut(id)
    }

    pub(crate) fn named(&self, name: &str) -> Option<&User> {
        self.rows.values().find(|u| u.username() == name)
    }

    /// Every user, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &User> {
        self.rows.values()
    }

    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut User> {
        self.rows.values_mut()
    }

    /// Keeps only the users `keep` passes.
    pub(crate) fn retain(&mut self, keep: impl Fn(&User) -> bool) {
        self.rows.retain(keep);
    }

    pub(crate) fn remove(&mut self, id: i64) {
        self.rows.remove(id);
    }

    /// `user.get_next_uid`: the first free uid from 3000 on.
    pub(crate) fn next_uid(&self) -> i64 {
        let used: BTreeSet<i64> = self.rows.values().map(User::uid).collect();
        (FIRST_FREE_ID..).find(|uid| !used.contains(uid)).unwrap_or(FIRST_FREE_ID)
    }

    /// Stores a user as given; seeds only.
    pub(crate) fn insert(&mut self, builtin: bool, fields: Value, group: i64, password: Option<&str>) -> i64 {
        let fields = kept_fields(fields, &USER_FIELDS);
        self.rows.insert_with(|id| {
            let mut user =
                User { id, builtin, fields, group, groups: BTreeSet::new(), password: None, password_changed: None };
            if let Some(p) = password {
                user.set_password(p);
            }
            user
        })
    }

    /// Users whose primary group this is, then auxiliary members, by id.
    pub(crate) fn members_of(&self, id: i64) -> Vec<i64> {
        let primary = self.rows.values().filter(|u| u.group == id).map(|u| u.id);
        let aux = self.rows.values().filter(|u| u.group != id && u.groups.contains(&id)).map(|u| u.id);
        let mut all: Vec<i64> = primary.chain(aux).collect();
        all.sort_unstable();
        all
    }

    /// Makes exactly `users` (apart from those whose primary group it is) auxiliary members.
    pub(crate) fn set_members(&mut self, id: i64, users: &[i64]) {
        for user in self.rows.values_mut().filter(|u| u.group != id) {
            if users.contains(&user.id) {
                user.groups.insert(id);
            } else {
                user.groups.remove(&id);
            }
        }
    }

    /// Problems with the `users` a group update or create names: users that do not exist, and
    /// users whose primary group (`existing`) it is that would leave it.
    pub(crate) fn check_members(&self, schema: &str, data: &Map<String, Value>, existing: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let attr = |key: &str| format!("{schema}.{key}");
        if data.contains_key("users") {
            let wanted = ids(data, "users");
            let missing: Vec<String> =
                wanted.iter().filter(|id| !self.rows.contains(**id)).map(i64::to_string).collect();
            if !missing.is_empty() {
                let message = format!("Following users do not exist: {}", missing.join(", "));
                problems.push(invalid(attr("users"), message, errno::EINVAL));
            }
            let dropped: Vec<&str> = existing
                .map(|id| {
                    self.rows
                        .values()
                        .filter(|u| u.group == id && !wanted.contains(&u.id))
                        .map(|u| u.username())
                        .collect()
                })
                .unwrap_or_default();
            if !dropped.is_empty() {
                let message = format!(
                    "This group is primary for the following users: {}. You can't remove them.",
                    dropped.join(", ")
                );
                problems.push(invalid(attr("users"), message, errno::EINVAL));
            }
        }
        problems
    }

    /// `user.set_password`: what a user (or a full administrator) may do without `user.update`.
    pub(crate) fn set_password(&mut self, username: &str, old: Option<&str>, new: &str) -> Result<(), Failure> {
        let attr = "user.set_password.username";
        let Some(user) = self.named(username) else {
            return Err(Failure::Validation(vec![invalid(
                attr,
                format!("{username}: user does not exist."),
                errno::EINVAL,
            )]));
        };
        if old.is_some_and(|p| !user.password_matches(p)) {
            let message = format!("{username}: failed to validate password.");
            return Err(Failure::Validation(vec![invalid("user.set_password.old_password", message, errno::EINVAL)]));
        }
        let mut problems = Vec::new();
        if user.flag("password_disabled") {
            problems.push(invalid(
                attr,
                format!("{username}: password authentication disabled for user"),
                errno::EINVAL,
            ));
        }
        if user.flag("locked") {
            problems.push(invalid(attr, format!("{username}: user account is locked."), errno::EINVAL));
        }
        check(problems)?;
        let id = user.id;
        if let Some(user) = self.rows.get_mut(id) {
            user.set_password(new);
        }
        Ok(())
    }

    /// Problems with a user's attributes (the middleware's `common_validation`), named after
    /// `schema` (`user_create`, `user_update`); `shells` are the shells the user may have.
    pub(crate) fn check(
        &self,
        schema: &str,
        data: &Map<String, Value>,
        old: Option<&User>,
        shells: &Value,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let attr = |key: &str| format!("{schema}.{key}");
        let others = || self.rows.values().filter(|u| old.is_none_or(|o| o.id != u.id));
        let text = |key: &str| data.get(key).and_then(Value::as_str);
        let flag = |key: &str| data.get(key).and_then(Value::as_bool);
        if let Some(uid) = data.get("uid").and_then(Value::as_i64)
            && let Some(holder) = others().find(|u| u.uid() == uid)
        {
            let message = format!("Uid {uid} is already used (user {} has it)", holder.username());
            problems.push(invalid(attr("uid"), message, errno::EEXIST));
        }
        if let Some(name) = text("username") {
            problems.extend(check_name(&attr("username"), name));
            if others().any(|u| u.username() == name) {
                problems.push(invalid(
                    attr("username"),
                    format!("The username \"{name}\" already exists."),
                    errno::EEXIST,
                ));
            }
        }
        let combined = |key: &str| flag(key).or_else(|| old.map(|u| u.flag(key))).unwrap_or(false);
        if combined("smb") && combined("password_disabled") {
            let message = "Password authentication may not be disabled for SMB users.";
            problems.push(invalid(attr("password_disabled"), message, errno::EINVAL));
        }
        let password = text("password").is_some_and(|p| !p.is_empty()) || flag("random_password") == Some(true);
        if old.is_none() && !password && flag("password_disabled") != Some(true) {
            problems.push(invalid(attr("password"), "Password is required", errno::EINVAL));
        } else if flag("password_disabled") == Some(true) && password {
            let message = "Leave \"Password\" blank when \"Disable password login\" is checked.";
            problems.push(invalid(attr("password_disabled"), message, errno::EINVAL));
        }
        if let Some(home) = text("home") {
            problems.extend(self.check_home(&attr("home"), home, old));
        }
        if data.get("groups").and_then(Value::as_array).is_some_and(|g| g.len() > 64) {
            problems.push(invalid(
                attr("groups"),
                "A user cannot belong to more than 64 auxiliary groups.",
                errno::EINVAL,
            ));
        }
        if let Some(name) = text("full_name") {
            if name.contains(':') {
                problems.push(invalid(
                    attr("full_name"),
                    "The \":\" character is not allowed in a \"Full Name\".",
                    errno::EINVAL,
                ));
            }
            if name.contains('\n') {
                let message = "The \"\\n\" character is not allowed in a \"Full Name\".";
                problems.push(invalid(attr("full_name"), message, errno::EINVAL));
            }
        }
        if let Some(shell) = text("shell")
            && shells.get(shell).is_none()
        {
            problems.push(invalid(attr("shell"), "Please select a valid shell.", errno::EINVAL));
        }
        problems.extend(check_sudo(schema, data));
        problems
    }

    fn check_home(&self, attribute: &str, home: &str, old: Option<&User>) -> Vec<Invalid> {
        let problem = |message: String, errno: i64| vec![invalid(attribute, message, errno)];
        if !home.starts_with('/') {
            return problem("\"Home Directory\" must be an absolute path.".into(), errno::EINVAL);
        }
        if home.contains(':') {
            return problem("\"Home Directory\" cannot contain colons (:).".into(), errno::EINVAL);
        }
        if home == DEFAULT_HOME || old.is_some_and(|u| u.text("home") == Some(home)) {
            return Vec::new();
        }
        if let Some(holder) =
            self.rows.values().find(|u| u.text("home") == Some(home) && old.is_none_or(|o| o.id != u.id))
        {
            return problem(format!("{home}: homedir already used by {}.", holder.username()), errno::EEXIST);
        }
        if !home.starts_with("/mnt") {
            return problem(
                format!("\"Home Directory\" must begin with /mnt or set to {DEFAULT_HOME}."),
                errno::EINVAL,
            );
        }
        if home == "/mnt" || home == "/mnt/" {
            return problem("\"Home Directory\" cannot be at root of \"/mnt\"".into(), errno::EINVAL);
        }
        Vec::new()
    }
}

#[cfg(test)]
#[path = "account_users_tests.rs"]
mod tests;
