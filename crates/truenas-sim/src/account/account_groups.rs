//! Local groups (`group.*`): a group and [`Groups`], every group by id with the middleware's
//! checks on a group's own attributes (unique names and gids, SMB builtin names, gids no
//! privilege holds, built-in groups and groups named by a privilege stay). Members are kept on
//! the users (`account_users.rs`); create, update and delete, which change both, are
//! `AccountStore`'s.

use serde_json::{Map, Value, json};

use crate::account::account_checks::check_name;
use crate::account::account_privileges::Privileges;
use crate::account::basics::{EACCES, FIRST_FREE_ID, invalid, kept_fields};
use crate::failure::{Failure, Invalid, errno};
use crate::table::Rows;

/// Attributes a group keeps, as `group.create` names them.
const GROUP_FIELDS: [&str; 6] = ["gid", "name", "sudo_commands", "sudo_commands_nopasswd", "smb", "userns_idmap"];

/// Names Samba keeps for its own builtin groups.
const SMB_BUILTINS: [&str; 3] = ["ADMINISTRATORS", "USERS", "GUESTS"];

/// The group users fall back to when their primary group is deleted.
pub(crate) const NOGROUP: &str = "nogroup";

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

    pub(crate) fn list(&self, key: &str) -> Value {
        self.fields.get(key).cloned().unwrap_or(json!([]))
    }

    pub(crate) fn smb(&self) -> bool {
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

/// Every local group, by database id.
#[derive(Debug, Default)]
pub(crate) struct Groups {
    rows: Rows<Group>,
}

impl Groups {
    pub(crate) fn lookup(&self, id: i64) -> Result<&Group, Failure> {
        self.rows.get(id).ok_or_else(|| group_not_found(id))
    }

    pub(crate) fn get(&self, id: i64) -> Option<&Group> {
        self.rows.get(id)
    }

    pub(crate) fn contains(&self, id: i64) -> bool {
        self.rows.contains(id)
    }

    pub(crate) fn named(&self, name: &str) -> Option<&Group> {
        self.rows.values().find(|g| g.name() == name)
    }

    pub(crate) fn by_gid(&self, gid: i64) -> Option<&Group> {
        self.rows.values().find(|g| g.gid() == gid)
    }

    /// The gids of the groups with database `ids` that exist.
    pub(crate) fn gids(&self, ids: impl Iterator<Item = i64>) -> Vec<i64> {
        ids.filter_map(|id| self.rows.get(id).map(Group::gid)).collect()
    }

    /// Every group, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Group> {
        self.rows.values()
    }

    /// `group.get_next_gid`: the first gid from 3000 on that no group or privilege uses.
    pub(crate) fn next_gid(&self, privileges: &Privileges) -> i64 {
        let taken = |gid: i64| self.by_gid(gid).is_some() || privileges.using(gid).is_some();
        (FIRST_FREE_ID..).find(|gid| !taken(*gid)).unwrap_or(FIRST_FREE_ID)
    }

    /// Stores a group as given, picking a gid when it has none; seeds and `group_create`.
    pub(crate) fn insert(&mut self, builtin: bool, fields: Value, privileges: &Privileges) -> i64 {
        let mut fields = kept_fields(fields, &GROUP_FIELDS);
        if fields.get("gid").is_none_or(Value::is_null) {
            fields.insert("gid".into(), json!(self.next_gid(privileges)));
        }
        for key in ["sudo_commands", "sudo_commands_nopasswd"] {
            fields.entry(key).or_insert(json!([]));
        }
        fields.entry("smb").or_insert(json!(true));
        fields.entry("userns_idmap").or_insert(Value::Null);
        self.rows.insert_with(|id| Group { id, builtin, fields })
    }

    /// Problems with a group's name and gid, named after `schema` (`group_create`,
    /// `group_update`); `existing` is the group being updated.
    pub(crate) fn check(
        &self,
        schema: &str,
        data: &Map<String, Value>,
        existing: Option<i64>,
        privileges: &Privileges,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let attr = |key: &str| format!("{schema}.{key}");
        let others = || self.rows.values().filter(|g| Some(g.id) != existing);
        if let Some(name) = data.get("name").and_then(Value::as_str) {
            let smb = data.get("smb").and_then(Value::as_bool).unwrap_or(false);
            if smb && SMB_BUILTINS.contains(&name.to_uppercase().as_str()) {
                let message = format!(
                    "Group name \"{name}\" conflicts with existing SMB Builtin entry. SMB group mapping is not \
                     permitted for this group."
                );
                problems.push(invalid(attr("name"), message, errno::EEXIST));
            }
            if others().any(|g| g.name() == name) {
                let message = format!("A Group with the name \"{name}\" already exists.");
                problems.push(invalid(attr("name"), message, errno::EEXIST));
            }
            problems.extend(check_name(&attr("name"), name));
        }
        if let Some(gid) = data.get("gid").and_then(Value::as_i64) {
            if let Some(holder) = others().find(|g| g.gid() == gid) {
                let message = format!("Gid {gid} is already used (group {} has it)", holder.name());
                problems.push(invalid(attr("gid"), message, errno::EEXIST));
            }
            if let Some(p) = privileges.using(gid) {
                let message = format!("A privilege '{}' already uses this group ID.", p.name());
                problems.push(invalid(attr("gid"), message, errno::EINVAL));
            }
        }
        problems
    }

    /// Merges the attributes `data` changes (all but the gid) into group `id`.
    pub(crate) fn update(&mut self, id: i64, data: Map<String, Value>) -> Result<(), Failure> {
        let group = self.rows.get_mut(id).ok_or_else(|| group_not_found(id))?;
        for (key, value) in data.into_iter().filter(|(k, _)| GROUP_FIELDS.contains(&k.as_str()) && k != "gid") {
            group.fields.insert(key, value);
        }
        Ok(())
    }

    /// Refuses to delete a built-in group or one a privilege is granted to.
    pub(crate) fn check_delete(&self, id: i64, privileges: &Privileges) -> Result<(), Failure> {
        let group = self.lookup(id)?;
        if group.builtin {
            return Err(Failure::call(EACCES, "A built-in group cannot be deleted."));
        }
        if let Some(p) = privileges.using(group.gid()) {
            let message = format!(
                "This group is used by privilege '{}'. Please remove it from that privilege first, then delete the group.",
                p.name()
            );
            return Err(Failure::call(EACCES, message));
        }
        Ok(())
    }

    pub(crate) fn remove(&mut self, id: i64) {
        self.rows.remove(id);
    }
}
