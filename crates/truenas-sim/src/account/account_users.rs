//! Changing users: `user.create`, `user.update`, `user.set_password` and `user.delete`, with
//! the middleware's checks (shared ones in `account_checks.rs`) and the rule that the built-in
//! "Local Administrator" privilege always keeps a member who can log in with a password.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::account::{
    AccountStore, BUILTIN_USERS, DEFAULT_HOME, EACCES, USER_FIELDS, check, ids, invalid, user_not_found,
};
use crate::failure::{Failure, errno};

impl AccountStore {
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
        problems.extend(self.check_user("user_create", &data, None, &group_ids));
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
            Some(id) if self.groups.contains_key(&id) => id,
            Some(id) => return Err(Failure::fault(format!("Group {id} not found"))),
            None => match self.group_named(&username) {
                Some(g) => g.id,
                None => self.insert_group(false, json!({"name": username, "smb": false})),
            },
        };
        let mut aux: BTreeSet<i64> = BTreeSet::new();
        for id in ids(&data, "groups") {
            if !self.groups.contains_key(&id) {
                return Err(Failure::call(errno::ENOENT, format!("Group {id} not found")));
            }
            aux.insert(id);
        }
        if data.get("smb").and_then(Value::as_bool).unwrap_or(true)
            && let Some(g) = self.group_named(BUILTIN_USERS)
        {
            aux.insert(g.id);
        }
        let mut fields = data.clone();
        if fields.get("uid").is_none_or(Value::is_null) {
            fields.insert("uid".into(), json!(self.next_uid()));
        }
        if data.get("home_create").and_then(Value::as_bool).unwrap_or(false) && home != DEFAULT_HOME {
            fields.insert("home".into(), json!(format!("{}/{username}", home.trim_end_matches('/'))));
        }
        let random = data.get("random_password").and_then(Value::as_bool).unwrap_or(false).then(random_password);
        let password = data.get("password").and_then(Value::as_str).map(str::to_string).or(random.clone());
        let id = self.insert_user(false, Value::Object(fields), primary, password.as_deref());
        if let Some(user) = self.users.get_mut(&id) {
            user.groups = aux;
        }
        Ok((id, random))
    }

    /// `user.update`: merges `data` into the stored user.
    pub(crate) fn update_user(&mut self, id: i64, data: Map<String, Value>) -> Result<Option<String>, Failure> {
        let user = self.user(id)?.clone();
        let mut problems = Vec::new();
        if data.get("password_disabled").and_then(Value::as_bool) == Some(true)
            && let Err(message) =
                self.keeps_an_administrator(id, "After disabling password for this user no password-enabled local user")
        {
            problems.push(invalid("user_update.password_disabled", message, errno::EINVAL));
        }
        let group = data.get("group").and_then(Value::as_i64).unwrap_or(user.group);
        if !self.groups.contains_key(&group) {
            problems.push(invalid("user_update.group", format!("Group {group} not found"), errno::ENOENT));
        }
        let mut group_ids = vec![group];
        match data.get("groups") {
            Some(_) => group_ids.extend(ids(&data, "groups")),
            None => group_ids.extend(user.groups.iter().copied()),
        }
        problems.extend(self.check_user("user_update", &data, Some(&user), &group_ids));
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
                        &format!("user_update.{key}"),
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
                if !self.groups.contains_key(&gid) {
                    return Err(Failure::call(errno::ENOENT, format!("Group {gid} not found")));
                }
                aux.insert(gid);
            }
        }
        let random = data.get("random_password").and_then(Value::as_bool).unwrap_or(false).then(random_password);
        let username = data.get("username").and_then(Value::as_str).unwrap_or(user.username()).to_string();
        let stored = self.users.get_mut(&id).ok_or_else(|| user_not_found(id))?;
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

    /// `user.set_password`: what a user (or a full administrator) may do without `user.update`.
    pub(crate) fn set_password(&mut self, username: &str, old: Option<&str>, new: &str) -> Result<(), Failure> {
        let attr = "user.set_password.username";
        let Some(user) = self.user_named(username) else {
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
        if let Some(user) = self.users.get_mut(&id) {
            user.set_password(new);
        }
        Ok(())
    }

    /// `user.delete`: with `delete_group`, the primary group goes too when nobody else uses it.
    pub(crate) fn delete_user(&mut self, id: i64, delete_group: bool) -> Result<(), Failure> {
        let user = self.user(id)?;
        if user.builtin {
            return Err(Failure::call(errno::EINVAL, "Cannot delete a built-in user"));
        }
        self.keeps_an_administrator(id, "After deleting this user no local user")
            .map_err(|m| Failure::call(EACCES, m))?;
        let primary = user.group;
        self.users.remove(&id);
        let group = self.groups.get(&primary);
        let in_use = self.users.values().any(|u| u.group == primary || u.groups.contains(&primary));
        let granted = group.is_some_and(|g| self.privilege_using(g.gid()).is_some());
        if delete_group && group.is_some_and(|g| !g.builtin) && !in_use && !granted {
            self.groups.remove(&primary);
        }
        Ok(())
    }

    /// Refuses a change that leaves the built-in "Local Administrator" privilege without any
    /// member who can log in with a password; `what` starts the message.
    fn keeps_an_administrator(&self, leaving: i64, what: &str) -> Result<(), String> {
        let Some(admin) = self.privileges.values().find(|p| p.builtin_name() == Some("LOCAL_ADMINISTRATOR")) else {
            return Ok(());
        };
        let remaining = self
            .users
            .values()
            .filter(|u| u.id != leaving && u.password_enabled())
            .any(|u| self.gids_of(u).iter().any(|g| admin.grants(*g)));
        if remaining { Ok(()) } else { Err(format!("{what} will have built-in privilege '{}'.", admin.name())) }
    }
}

/// A password `random_password` makes up (20 letters and digits).
fn random_password() -> String {
    crate::account::api_keys::random_alphanumeric(20)
}
