//! Privileges (`privilege.*`): roles granted to the members of local groups (by gid). The three
//! built-in privileges keep their names and roles, the local administrators keep their group
//! and a member who can log in, and none of them can be deleted.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use crate::account::basics::{EPERM, check, ids, invalid, kept_fields};
use crate::failure::{Failure, Invalid, errno};
use crate::table::Rows;

/// Attributes a privilege keeps, as `privilege.create` names them.
const PRIVILEGE_FIELDS: [&str; 6] = ["builtin_name", "name", "local_groups", "ds_groups", "roles", "web_shell"];

/// The gid of `builtin_administrators`, which the local administrator privilege must keep.
const BUILTIN_ADMINISTRATORS_GID: i64 = 544;

/// The roles TrueNAS 25.10 knows (`privilege.roles`).
const ROLES: &[&str] = &[
    "FULL_ADMIN",
    "READONLY_ADMIN",
    "SHARING_ADMIN",
    "ACCOUNT_READ",
    "ACCOUNT_WRITE",
    "ALERT_LIST_READ",
    "ALERT_LIST_WRITE",
    "ALERT_READ",
    "ALERT_WRITE",
    "API_KEY_READ",
    "API_KEY_WRITE",
    "APPS_READ",
    "APPS_WRITE",
    "AUTH_SESSIONS_READ",
    "AUTH_SESSIONS_WRITE",
    "BOOT_ENV_READ",
    "BOOT_ENV_WRITE",
    "CATALOG_READ",
    "CATALOG_WRITE",
    "CERTIFICATE_READ",
    "CERTIFICATE_WRITE",
    "CLOUD_BACKUP_READ",
    "CLOUD_BACKUP_WRITE",
    "CLOUD_SYNC_READ",
    "CLOUD_SYNC_WRITE",
    "DATASET_DELETE",
    "DATASET_READ",
    "DATASET_WRITE",
    "DIRECTORY_SERVICE_READ",
    "DIRECTORY_SERVICE_WRITE",
    "DISK_READ",
    "DISK_WRITE",
    "DOCKER_READ",
    "DOCKER_WRITE",
    "FILESYSTEM_ATTRS_READ",
    "FILESYSTEM_ATTRS_WRITE",
    "FILESYSTEM_DATA_WRITE",
    "IPMI_READ",
    "IPMI_WRITE",
    "KEYCHAIN_CREDENTIAL_READ",
    "KEYCHAIN_CREDENTIAL_WRITE",
    "MAIL_WRITE",
    "NETWORK_GENERAL_READ",
    "NETWORK_GENERAL_WRITE",
    "NETWORK_INTERFACE_READ",
    "NETWORK_INTERFACE_WRITE",
    "POOL_READ",
    "POOL_SCRUB_READ",
    "POOL_SCRUB_WRITE",
    "POOL_WRITE",
    "PRIVILEGE_READ",
    "PRIVILEGE_WRITE",
    "REPLICATION_TASK_READ",
    "REPLICATION_TASK_WRITE",
    "REPORTING_READ",
    "REPORTING_WRITE",
    "SERVICE_READ",
    "SERVICE_WRITE",
    "SHARING_FTP_READ",
    "SHARING_FTP_WRITE",
    "SHARING_ISCSI_WRITE",
    "SHARING_NFS_READ",
    "SHARING_NFS_WRITE",
    "SHARING_NVME_TARGET_READ",
    "SHARING_NVME_TARGET_WRITE",
    "SHARING_SMB_READ",
    "SHARING_SMB_WRITE",
    "SNAPSHOT_DELETE",
    "SNAPSHOT_READ",
    "SNAPSHOT_TASK_READ",
    "SNAPSHOT_TASK_WRITE",
    "SNAPSHOT_WRITE",
    "SSH_READ",
    "SSH_WRITE",
    "SUPPORT_READ",
    "SUPPORT_WRITE",
    "SYSTEM_ADVANCED_READ",
    "SYSTEM_ADVANCED_WRITE",
    "SYSTEM_AUDIT_READ",
    "SYSTEM_AUDIT_WRITE",
    "SYSTEM_CRON_READ",
    "SYSTEM_CRON_WRITE",
    "SYSTEM_GENERAL_READ",
    "SYSTEM_GENERAL_WRITE",
    "SYSTEM_SECURITY_READ",
    "SYSTEM_SECURITY_WRITE",
    "SYSTEM_UPDATE_READ",
    "SYSTEM_UPDATE_WRITE",
    "VM_DEVICE_READ",
    "VM_DEVICE_WRITE",
    "VM_READ",
    "VM_WRITE",
];

/// One privilege.
#[derive(Debug, Clone)]
pub(crate) struct Privilege {
    pub(crate) id: i64,
    /// Stored attributes (see `PRIVILEGE_FIELDS`); `local_groups` holds gids.
    pub(crate) fields: Map<String, Value>,
}

impl Privilege {
    pub(crate) fn name(&self) -> &str {
        self.fields.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    pub(crate) fn builtin_name(&self) -> Option<&str> {
        self.fields.get("builtin_name").and_then(Value::as_str)
    }

    /// Whether members of group `gid` hold this privilege.
    pub(crate) fn grants(&self, gid: i64) -> bool {
        ids(&self.fields, "local_groups").contains(&gid)
    }

    pub(crate) fn roles(&self) -> Vec<String> {
        let roles = self.fields.get("roles").and_then(Value::as_array);
        roles.map(|r| r.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
    }
}

pub(crate) fn privilege_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Privilege {id} does not exist"))
}

/// `privilege.roles`: every role with a readable title; a `_WRITE` role includes its `_READ`.
pub(crate) fn role_entries() -> Vec<Value> {
    ROLES
        .iter()
        .map(|name| {
            let title: Vec<String> = name
                .split('_')
                .map(|w| w.chars().take(1).chain(w.chars().skip(1).flat_map(char::to_lowercase)).collect())
                .collect();
            let read = name.strip_suffix("_WRITE").map(|base| format!("{base}_READ"));
            let includes: Vec<String> = read.into_iter().filter(|r| ROLES.contains(&r.as_str())).collect();
            json!({"name": name, "title": title.join(" "), "includes": includes, "builtin": false, "stig": null})
        })
        .collect()
}

/// Every privilege, by id.
#[derive(Debug, Default)]
pub(crate) struct Privileges {
    rows: Rows<Privilege>,
}

impl Privileges {
    pub(crate) fn lookup(&self, id: i64) -> Result<&Privilege, Failure> {
        self.rows.get(id).ok_or_else(|| privilege_not_found(id))
    }

    /// Every privilege, by id.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &Privilege> {
        self.rows.values()
    }

    /// The first privilege granted to members of `gid`.
    pub(crate) fn using(&self, gid: i64) -> Option<&Privilege> {
        self.rows.values().find(|p| p.grants(gid))
    }

    /// The roles members of any of `gids` hold, sorted, each once.
    pub(crate) fn roles_for(&self, gids: &[i64]) -> Vec<String> {
        let roles: BTreeSet<String> =
            self.rows.values().filter(|p| gids.iter().any(|g| p.grants(*g))).flat_map(Privilege::roles).collect();
        roles.into_iter().collect()
    }

    /// Stores a privilege as given; seeds and creates.
    pub(crate) fn insert(&mut self, fields: Value) -> i64 {
        let mut fields = kept_fields(fields, &PRIVILEGE_FIELDS);
        for key in ["local_groups", "ds_groups", "roles"] {
            fields.entry(key).or_insert(json!([]));
        }
        fields.entry("builtin_name").or_insert(Value::Null);
        self.rows.insert_with(|id| Privilege { id, fields })
    }

    /// The middleware's `_validate`: unique name, groups that exist, known roles.
    fn check(
        &self,
        schema: &str,
        data: &Map<String, Value>,
        existing: Option<i64>,
        group_exists: &dyn Fn(i64) -> bool,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let name = data.get("name").and_then(Value::as_str).unwrap_or_default();
        if self.rows.values().any(|p| p.name() == name && Some(p.id) != existing) {
            problems.push(invalid(format!("{schema}.name"), "Object with this name already exists", errno::EINVAL));
        }
        for (i, gid) in ids(data, "local_groups").iter().enumerate() {
            if !group_exists(*gid) {
                let message = format!(
                    "{gid}: local group does not exist. This error may be addressed by either re-creating the \
                     missing group with the specified group id or removing this entry from the privilege."
                );
                problems.push(invalid(format!("{schema}.local_groups.{i}"), message, errno::EINVAL));
            }
        }
        let ds_groups = data.get("ds_groups").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, group) in ds_groups.iter().enumerate() {
            let shown = group.as_str().map(str::to_string).unwrap_or_else(|| group.to_string());
            let message = format!(
                "{shown}: directory Service group does not exist. If the directory service state is healthy, then \
                 this error may be addressed by removing this entry from the privilege."
            );
            problems.push(invalid(format!("{schema}.ds_groups.{i}"), message, errno::EINVAL));
        }
        let roles = data.get("roles").and_then(Value::as_array).cloned().unwrap_or_default();
        for (i, role) in roles.iter().enumerate() {
            if !role.as_str().is_some_and(|r| ROLES.contains(&r)) {
                problems.push(invalid(format!("{schema}.roles.{i}"), "Invalid role", errno::EINVAL));
            }
        }
        problems
    }

    /// `privilege.create`, with the schema's defaults already filled into `data`; `group_exists`
    /// says whether a local group has a gid.
    pub(crate) fn create(
        &mut self,
        data: Map<String, Value>,
        group_exists: &dyn Fn(i64) -> bool,
    ) -> Result<i64, Failure> {
        check(self.check("privilege_create", &data, None, group_exists))?;
        let mut fields = data;
        fields.insert("builtin_name".into(), Value::Null);
        Ok(self.insert(Value::Object(fields)))
    }

    /// `privilege.update`: built-in privileges keep their name and roles, and the local
    /// administrators a member of the groups who can log in (`can_log_in`).
    pub(crate) fn update(
        &mut self,
        id: i64,
        data: Map<String, Value>,
        group_exists: &dyn Fn(i64) -> bool,
        can_log_in: &dyn Fn(&[i64]) -> bool,
    ) -> Result<(), Failure> {
        let old = self.lookup(id)?;
        let mut new = old.fields.clone();
        new.extend(data.into_iter().filter(|(k, _)| PRIVILEGE_FIELDS.contains(&k.as_str()) && k != "builtin_name"));
        let problems = match old.builtin_name() {
            Some(builtin) => Self::check_builtin(builtin, &old.fields, &new, can_log_in),
            None => Vec::new(),
        };
        check(problems)?;
        check(self.check("privilege_update", &new, Some(id), group_exists))?;
        if let Some(p) = self.rows.get_mut(id) {
            p.fields = new;
        }
        Ok(())
    }

    /// What built-in privileges must keep through an update.
    fn check_builtin(
        builtin: &str,
        old: &Map<String, Value>,
        new: &Map<String, Value>,
        can_log_in: &dyn Fn(&[i64]) -> bool,
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        for key in ["name", "roles"] {
            if new.get(key) != old.get(key) {
                let message = "This field is read-only for built-in privileges";
                problems.push(invalid(format!("privilege_update.{key}"), message, errno::EINVAL));
            }
        }
        let gids = ids(new, "local_groups");
        if builtin == "LOCAL_ADMINISTRATOR" {
            if !gids.contains(&BUILTIN_ADMINISTRATORS_GID) {
                let message =
                    "The group builtin_administrators must be among grantees of the \"Local Administrator\" privilege.";
                problems.push(invalid("privilege_update.local_groups", message, errno::EINVAL));
            }
            if !can_log_in(&gids) {
                let message = "None of the members of these groups has password login enabled. At least one grantee \
                               of the \"Local Administrator\" privilege must have password login enabled.";
                problems.push(invalid("privilege_update.local_groups", message, errno::EINVAL));
            }
        }
        if builtin == "READONLY_ADMINISTRATOR" && new.get("web_shell").and_then(Value::as_bool) == Some(true) {
            let message = "Web shell access may not be enabled for the built-in group for read-only administrators.";
            problems.push(invalid("privilege_update.web_shell", message, errno::EINVAL));
        }
        problems
    }

    /// `privilege.delete`: built-in privileges stay.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        if self.lookup(id)?.builtin_name().is_some() {
            return Err(Failure::call(EPERM, "Unable to delete built-in privilege"));
        }
        self.rows.remove(id);
        Ok(())
    }
}
