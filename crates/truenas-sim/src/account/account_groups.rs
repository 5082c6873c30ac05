//! Local groups (`group.*`): create, update and delete with the middleware's checks (unique
//! names and gids, members that exist, a group still primary for users or named by a privilege
//! cannot lose them), and the membership lists `group.query` computes from the users.

use serde_json::{Map, Value, json};

use crate::account::account_checks::{check_name, check_sudo};
use crate::account::account_privileges::Privilege;
use crate::account::{AccountStore, EACCES, FIRST_FREE_ID, check, ids, invalid};
use crate::failure::{Failure, Invalid, errno};

/// Attributes a group keeps, as `group.create` names them.
const GROUP_FIELDS: [&str; 6] = ["gid", "name", "sudo_commands", "sudo_commands_nopasswd", "smb", "userns_idmap"];

/// Names Samba keeps for its own builtin groups.
const SMB_BUILTINS: [&str; 3] = ["ADMINISTRATORS", "USERS", "GUESTS"];

/// The group users fall back to when their primary group is deleted.
const NOGROUP: &str = "nogroup";

/// One local group.
#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub(crate) id: i64,
    pub(crate) builtin: bool,
    /// Stored attributes (see `GROUP_FIELDS`).
    pub(crate) fields: Map<String, Value>,
}

impl Group {
    pub(crate) fn gid(&self) -> i64 {
        self.fields.get("gid").and_then(Value::as_i64).unwrap_or(-1)
    }

    pub(crate) fn name(&self) -> &str {
        self.fields.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    fn list(&self, key: &str) -> Value {
        self.fields.get(key).cloned().unwrap_or(json!([]))
    }

    fn smb(&self) -> bool {
        self.fields.get("smb").and_then(Value::as_bool).unwrap_or(false)
    }

    /// The group as its database row, which `user.query` embeds as the user's `group`.
    pub(crate) fn datastore_row(&self) -> Value {
        json!({
            "id": self.id,
            "bsdgrp_gid": self.gid(),
            "bsdgrp_group": self.name(),
            "bsdgrp_builtin": self.builtin,
            "bsdgrp_sudo_commands": self.list("sudo_commands"),
            "bsdgrp_sudo_commands_nopasswd": self.list("sudo_commands_nopasswd"),
            "bsdgrp_smb": self.smb(),
            "bsdgrp_userns_idmap": self.fields.get("userns_idmap").cloned().unwrap_or(Value::Null),
        })
    }
}

pub(crate) fn group_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Group {id} does not exist"))
}

impl AccountStore {
    pub(crate) fn group(&self, id: i64) -> Result<&Group, Failure> {
        self.groups.get(&id).ok_or_else(|| group_not_found(id))
    }

    pub(crate) fn group_named(&self, name: &str) -> Option<&Group> {
        self.groups.values().find(|g| g.name() == name)
    }

    pub(crate) fn group_by_gid(&self, gid: i64) -> Option<&Group> {
        self.groups.values().find(|g| g.gid() == gid)
    }

    pub(crate) fn group_entries(&self) -> Vec<Value> {
        self.groups.values().map(|g| self.group_entry(g)).collect()
    }

    /// Users whose primary group this is, then auxiliary members, by id.
    fn members(&self, id: i64) -> Vec<i64> {
        let primary = self.users.values().filter(|u| u.group == id).map(|u| u.id);
        let aux = self.users.values().filter(|u| u.group != id && u.groups.contains(&id)).map(|u| u.id);
        let mut all: Vec<i64> = primary.chain(aux).collect();
        all.sort_unstable();
        all
    }

    /// The `group.query` entry of one group.
    pub(crate) fn group_entry(&self, group: &Group) -> Value {
        let sid = match group.gid() {
            gid @ 544..=546 => Some(format!("S-1-5-32-{gid}")),
            _ => group.smb().then(|| format!("S-1-5-21-3287593384-1431582474-3401244384-{}", 200_000 + group.id)),
        };
        let mut roles: Vec<String> =
            self.privileges.values().filter(|p| p.grants(group.gid())).flat_map(Privilege::roles).collect();
        roles.sort();
        roles.dedup();
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
            "users": self.members(group.id),
            "immutable": group.builtin,
        });
        self.as_release_shows(entry)
    }

    /// `group.get_next_gid`: the first gid from 3000 on that no group or privilege uses.
    pub(crate) fn next_gid(&self) -> i64 {
        let taken = |gid: i64| self.group_by_gid(gid).is_some() || self.privilege_using(gid).is_some();
        (FIRST_FREE_ID..).find(|gid| !taken(*gid)).unwrap_or(FIRST_FREE_ID)
    }

    /// The first privilege granted to members of `gid`.
    pub(crate) fn privilege_using(&self, gid: i64) -> Option<&Privilege> {
        self.privileges.values().find(|p| p.grants(gid))
    }

    /// Stores a group as given, picking a gid when it has none; seeds and `group_create`.
    pub(crate) fn insert_group(&mut self, builtin: bool, fields: Value) -> i64 {
        let id = self.next_group;
        self.next_group += 1;
        let mut fields = match fields {
            Value::Object(map) => map,
            _ => Map::new(),
        };
        fields.retain(|k, _| GROUP_FIELDS.contains(&k.as_str()));
        if fields.get("gid").is_none_or(Value::is_null) {
            fields.insert("gid".into(), json!(self.next_gid()));
        }
        for key in ["sudo_commands", "sudo_commands_nopasswd"] {
            fields.entry(key).or_insert(json!([]));
        }
        fields.entry("smb").or_insert(json!(true));
        fields.entry("userns_idmap").or_insert(Value::Null);
        self.groups.insert(id, Group { id, builtin, fields });
        id
    }

    fn check_group(&self, schema: &str, data: &Map<String, Value>, existing: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let attr = |key: &str| format!("{schema}.{key}");
        let others = || self.groups.values().filter(|g| Some(g.id) != existing);
        if let Some(name) = data.get("name").and_then(Value::as_str) {
            let smb = data.get("smb").and_then(Value::as_bool).unwrap_or(false);
            if smb && SMB_BUILTINS.contains(&name.to_uppercase().as_str()) {
                let message = format!(
                    "Group name \"{name}\" conflicts with existing SMB Builtin entry. SMB group mapping is not \
                     permitted for this group."
                );
                problems.push(invalid(&attr("name"), message, errno::EEXIST));
            }
            if others().any(|g| g.name() == name) {
                let message = format!("A Group with the name \"{name}\" already exists.");
                problems.push(invalid(&attr("name"), message, errno::EEXIST));
            }
            problems.extend(check_name(&attr("name"), name));
        }
        if let Some(gid) = data.get("gid").and_then(Value::as_i64) {
            if let Some(holder) = others().find(|g| g.gid() == gid) {
                let message = format!("Gid {gid} is already used (group {} has it)", holder.name());
                problems.push(invalid(&attr("gid"), message, errno::EEXIST));
            }
            if let Some(p) = self.privilege_using(gid) {
                let message = format!("A privilege '{}' already uses this group ID.", p.name());
                problems.push(invalid(&attr("gid"), message, errno::EINVAL));
            }
        }
        if data.contains_key("users") {
            let wanted = ids(data, "users");
            let missing: Vec<String> =
                wanted.iter().filter(|id| !self.users.contains_key(id)).map(i64::to_string).collect();
            if !missing.is_empty() {
                let message = format!("Following users do not exist: {}", missing.join(", "));
                problems.push(invalid(&attr("users"), message, errno::EINVAL));
            }
            let dropped: Vec<&str> = existing
                .map(|id| {
                    self.users
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
                problems.push(invalid(&attr("users"), message, errno::EINVAL));
            }
        }
        problems.extend(check_sudo(schema, data));
        problems
    }

    /// Makes exactly `users` (apart from those whose primary group it is) auxiliary members.
    fn set_members(&mut self, id: i64, users: &[i64]) {
        for user in self.users.values_mut().filter(|u| u.group != id) {
            if users.contains(&user.id) {
                user.groups.insert(id);
            } else {
                user.groups.remove(&id);
            }
        }
    }

    /// `group.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_group(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        check(self.check_group("group_create", &data, None))?;
        let id = self.insert_group(false, Value::Object(data.clone()));
        self.set_members(id, &ids(&data, "users"));
        Ok(id)
    }

    /// `group.update`: merges `data` into the stored group.
    pub(crate) fn update_group(&mut self, id: i64, data: Map<String, Value>) -> Result<(), Failure> {
        self.group(id)?;
        check(self.check_group("group_update", &data, Some(id)))?;
        if data.contains_key("users") {
            self.set_members(id, &ids(&data, "users"));
        }
        let group = self.groups.get_mut(&id).ok_or_else(|| group_not_found(id))?;
        for (key, value) in data.into_iter().filter(|(k, _)| GROUP_FIELDS.contains(&k.as_str()) && k != "gid") {
            group.fields.insert(key, value);
        }
        Ok(())
    }

    /// `group.delete`: its primary users move to `nogroup`, or go with it (`delete_users`).
    pub(crate) fn delete_group(&mut self, id: i64, delete_users: bool) -> Result<(), Failure> {
        let group = self.group(id)?;
        if group.builtin {
            return Err(Failure::call(EACCES, "A built-in group cannot be deleted."));
        }
        if let Some(p) = self.privilege_using(group.gid()) {
            let message = format!(
                "This group is used by privilege '{}'. Please remove it from that privilege first, then delete the group.",
                p.name()
            );
            return Err(Failure::call(EACCES, message));
        }
        let fallback = self.group_named(NOGROUP).map(|g| g.id);
        if delete_users {
            self.users.retain(|_, u| u.group != id);
        }
        for user in self.users.values_mut() {
            if user.group == id
                && let Some(nogroup) = fallback
            {
                user.group = nogroup;
            }
            user.groups.remove(&id);
        }
        self.groups.remove(&id);
        Ok(())
    }
}
