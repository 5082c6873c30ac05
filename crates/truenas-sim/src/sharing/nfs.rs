//! NFS exports (`sharing.nfs.*`) and the NFS service settings (`nfs.config`, `nfs.update`,
//! `nfs.client_count`).
//!
//! Checks follow the middleware: paths inside a pool; a host or network exported twice for the
//! same path; map groups needing a map user and maproot excluding mapall; Kerberos flavours
//! needing NFSv4; enterprise-only snapshot exposure; bind addresses of the NAS; at least one
//! protocol.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid};
use crate::sharing::{ADDRESSES, OUTSIDE_POOLS, Rows, check, flag, invalid, object, strings, text};
use truenas_api::schema::Release;

/// Stored fields of an export, in `sharing.nfs.query` order (after `id`).
const SHARE_FIELDS: [&str; 13] = [
    "path",
    "aliases",
    "comment",
    "networks",
    "hosts",
    "ro",
    "maproot_user",
    "maproot_group",
    "mapall_user",
    "mapall_group",
    "security",
    "enabled",
    "expose_snapshots",
];

/// nfsd threads when the count is left to the server: one per core (the demo host has 12).
const MANAGED_SERVERS: i64 = 12;

pub(crate) fn share_not_found(id: i64) -> Failure {
    Failure::not_found(format!("SharingNFS {id} does not exist"))
}

/// Every NFS export, the service settings and the clients connected now.
#[derive(Debug)]
pub(crate) struct NfsStore {
    release: Release,
    shares: Rows,
    config: Map<String, Value>,
    /// How many clients have mounts (`nfs.client_count`).
    pub(crate) clients: i64,
}

impl NfsStore {
    /// No exports; NFSv3 and v4 with a managed thread count.
    pub(crate) fn new(release: Release) -> NfsStore {
        let config = json!({
            "servers": null, "allow_nonroot": false, "protocols": ["NFSV3", "NFSV4"], "v4_krb": false,
            "v4_domain": "", "bindip": [], "mountd_port": null, "rpcstatd_port": null, "rpclockd_port": null,
            "mountd_log": true, "statd_lockd_log": false, "userd_manage_gids": false, "rdma": false,
        });
        NfsStore { release, shares: Rows::default(), config: object(config), clients: 0 }
    }

    /// The `sharing.nfs.query` entry of one export.
    pub(crate) fn entry(&self, id: i64) -> Result<Value, Failure> {
        let share = self.shares.get(id).ok_or_else(|| share_not_found(id))?;
        let mut out = Map::new();
        out.insert("id".into(), json!(id));
        for key in SHARE_FIELDS {
            if key == "expose_snapshots" {
                out.insert("locked".into(), json!(false));
            }
            out.insert(key.into(), share.get(key).cloned().unwrap_or(Value::Null));
            if key == "path" && self.release >= Release::V26_0 {
                let (dataset, relative) = crate::sharing::split(text(share, "path"));
                out.insert("dataset".into(), dataset);
                out.insert("relative_path".into(), relative);
            }
        }
        if self.release >= Release::V26_0 {
            out.insert("tier".into(), Value::Null);
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.shares.ids().into_iter().filter_map(|id| self.entry(id).ok()).collect()
    }

    /// `sharing.nfs.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let mut share = Map::new();
        for key in SHARE_FIELDS {
            share.insert(key.into(), data.get(key).cloned().unwrap_or(Value::Null));
        }
        // Aliases are accepted and ignored, as the middleware does for now.
        share.insert("aliases".into(), json!([]));
        check(self.problems("sharingnfs_create", &share, None))?;
        Ok(self.shares.insert(share))
    }

    /// `sharing.nfs.update`: merges `changes` into the export.
    pub(crate) fn update(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut share = self.shares.get(id).ok_or_else(|| share_not_found(id))?.clone();
        share.extend(changes.into_iter().filter(|(k, _)| SHARE_FIELDS.contains(&k.as_str()) && k != "aliases"));
        check(self.problems("sharingnfs_update", &share, Some(id)))?;
        if let Some(row) = self.shares.get_mut(id) {
            *row = share;
        }
        Ok(())
    }

    /// `sharing.nfs.delete`.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.shares.remove(id).map(|_| ()).ok_or_else(|| share_not_found(id))
    }

    fn problems(&self, schema: &str, share: &Map<String, Value>, id: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let path = text(share, "path");
        if !crate::sharing::in_pool(path) {
            problems.push(invalid(format!("{schema}.path"), OUTSIDE_POOLS));
            return problems;
        }
        let (hosts, networks) = (strings(share, "hosts"), strings(share, "networks"));
        let same_path = self.shares.iter().filter(|(other, s)| Some(*other) != id && text(s, "path") == path);
        for (_, other) in same_path {
            for network in networks.iter().filter(|n| strings(other, "networks").contains(n)) {
                let message = format!("ERROR - Another NFS share already exports {path} for network {network}");
                problems.push(invalid(format!("{schema}.networks"), message));
            }
            for host in hosts.iter().filter(|h| strings(other, "hosts").contains(h)) {
                let message = format!("ERROR - Another NFS share already exports {path} for host {host}");
                problems.push(invalid(format!("{schema}.hosts"), message));
            }
        }
        if !problems.is_empty() {
            return problems;
        }
        for kind in ["maproot", "mapall"] {
            if text(share, &format!("{kind}_user")).is_empty() && !text(share, &format!("{kind}_group")).is_empty() {
                let message = "This field is required when map group is specified";
                problems.push(invalid(format!("{schema}.{kind}_user"), message));
            }
        }
        if !text(share, "maproot_user").is_empty() && !text(share, "mapall_user").is_empty() {
            problems.push(invalid(format!("{schema}.mapall_user"), "maproot_user disqualifies mapall_user"));
        }
        let v4_only: Vec<String> = strings(share, "security").into_iter().filter(|s| s != "SYS").collect();
        if !v4_only.is_empty() && !strings(&self.config, "protocols").iter().any(|p| p == "NFSV4") {
            let message =
                format!("The following security flavor(s) require NFSv4 to be enabled: {}.", v4_only.join(","));
            problems.push(invalid(format!("{schema}.security"), message));
        }
        if flag(share, "expose_snapshots") {
            let message = "This is an enterprise feature and may not be enabled without a valid license.";
            problems.push(invalid(format!("{schema}.expose_snapshots"), message));
        }
        problems
    }

    /// The `nfs.config` result.
    pub(crate) fn config(&self) -> Value {
        let c = &self.config;
        let managed = c.get("servers").is_none_or(Value::is_null);
        json!({
            "id": 1,
            "servers": if managed { json!(MANAGED_SERVERS) } else { c["servers"].clone() },
            "allow_nonroot": c["allow_nonroot"],
            "protocols": c["protocols"],
            "v4_krb": c["v4_krb"],
            "v4_domain": c["v4_domain"],
            "bindip": c["bindip"],
            "mountd_port": c["mountd_port"],
            "rpcstatd_port": c["rpcstatd_port"],
            "rpclockd_port": c["rpclockd_port"],
            "mountd_log": c["mountd_log"],
            "statd_lockd_log": c["statd_lockd_log"],
            "v4_krb_enabled": c["v4_krb"],
            "userd_manage_gids": c["userd_manage_gids"],
            "keytab_has_nfs_spn": false,
            "managed_nfsd": managed,
            "rdma": c["rdma"],
        })
    }

    /// `nfs.update`: merges `changes` into the settings.
    pub(crate) fn update_config(&mut self, changes: Map<String, Value>) -> Result<(), Failure> {
        if changes.get("protocols").and_then(Value::as_array).is_some_and(Vec::is_empty) {
            let message = "Must specify at least one value (\"NFSV3\", \"NFSV4\") in the \"protocols\" list.";
            return Err(Failure::Validation(vec![invalid("nfs_update.protocols", message)]));
        }
        let mut new = self.config.clone();
        new.extend(changes.into_iter().filter(|(k, _)| self.config.contains_key(k)));
        let mut problems = Vec::new();
        for (i, ip) in strings(&new, "bindip").iter().enumerate() {
            if !ADDRESSES.contains(&ip.as_str()) {
                let message = format!("Cannot use {ip}. Please provide a valid ip address.");
                problems.push(invalid(format!("nfs_update.bindip.{i}"), message));
            }
        }
        if !strings(&new, "protocols").iter().any(|p| p == "NFSV4") && !text(&new, "v4_domain").is_empty() {
            problems.push(invalid("nfs_update.v4_domain", "This option does not apply to NFSv3"));
        }
        if flag(&new, "rdma") {
            let message = "This platform cannot support NFS over RDMA or is missing an RDMA capable NIC.";
            problems.push(invalid("nfs_update.rdma", message));
        }
        check(problems)?;
        self.config = new;
        Ok(())
    }
}

#[cfg(test)]
#[path = "nfs_tests.rs"]
mod tests;
