//! iSCSI: the global settings (`iscsi.global.*`), portals, initiator groups, CHAP auth groups
//! and the sessions open now. Targets, extents and their LUN mappings are in
//! `iscsi_target.rs`; all share [`IscsiStore`].
//!
//! Portals listen on addresses of the NAS (each address in one portal only) and are re-tagged
//! 1..n when one goes; deleting a portal drops the target groups on it, deleting an initiator
//! group leaves its targets open to every initiator. Sessions are fixed demo data tied to a
//! target's full IQN (`<basename>:<name>`).

use std::collections::BTreeSet;
use std::net::IpAddr;

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid};
use crate::sharing::{ADDRESSES, Rows, check, invalid, object, strings, text, with_id};
use truenas_api::schema::Release;

pub(crate) fn portal_not_found(id: i64) -> Failure {
    Failure::not_found(format!("ISCSIPortal {id} does not exist"))
}

pub(crate) fn initiator_not_found(id: i64) -> Failure {
    Failure::not_found(format!("iSCSITargetAuthorizedInitiator {id} does not exist"))
}

pub(crate) fn auth_not_found(id: i64) -> Failure {
    Failure::not_found(format!("iSCSITargetAuthCredential {id} does not exist"))
}

/// Every iSCSI object of the simulated NAS.
#[derive(Debug)]
pub(crate) struct IscsiStore {
    pub(crate) release: Release,
    global: Map<String, Value>,
    /// Stored as `{listen: [{ip}], tag, comment}`; the port comes from the global settings.
    pub(crate) portals: Rows,
    pub(crate) initiators: Rows,
    pub(crate) auths: Rows,
    pub(crate) targets: Rows,
    pub(crate) extents: Rows,
    pub(crate) targetextents: Rows,
    /// Open sessions, as `iscsi.global.sessions` lists them.
    pub(crate) sessions: Vec<Value>,
    /// Files backing FILE extents; `filesize` 0 needs one to exist.
    pub(crate) files: BTreeSet<String>,
}

impl IscsiStore {
    /// Nothing configured; the default base name and port.
    pub(crate) fn new(release: Release) -> IscsiStore {
        let global = json!({
            "basename": "iqn.2005-10.org.freenas.ctl", "isns_servers": [], "listen_port": 3260,
            "pool_avail_threshold": null, "alua": false, "iser": false,
        });
        IscsiStore {
            release,
            global: object(global),
            portals: Rows::default(),
            initiators: Rows::default(),
            auths: Rows::default(),
            targets: Rows::default(),
            extents: Rows::default(),
            targetextents: Rows::default(),
            sessions: Vec::new(),
            files: BTreeSet::new(),
        }
    }

    /// The full IQN of a target name.
    pub(crate) fn iqn(&self, name: &str) -> String {
        format!("{}:{name}", text(&self.global, "basename"))
    }

    /// The `iscsi.global.config` result, shaped for the release.
    pub(crate) fn global_config(&self) -> Value {
        let mut out = with_id(1, &self.global);
        if self.release >= Release::V26_0 {
            out.insert("direct_config".into(), Value::Null);
            out.insert("mode".into(), json!(0));
        }
        Value::Object(out)
    }

    /// `iscsi.global.update`.
    pub(crate) fn update_global(&mut self, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut problems = Vec::new();
        for server in strings(&changes, "isns_servers") {
            if !valid_isns(&server) {
                let message = format!("Server \"{server}\" is not a valid IP(:PORT)? tuple.");
                problems.push(invalid("iscsiglobal_update.isns_servers", message));
            }
        }
        check(problems)?;
        self.global.extend(changes.into_iter().filter(|(k, _)| k != "direct_config" && k != "mode"));
        Ok(())
    }

    /// The `iscsi.global.sessions` rows.
    pub(crate) fn session_entries(&self) -> Vec<Value> {
        self.sessions.clone()
    }

    // --- portals ---

    pub(crate) fn portal_entry(&self, id: i64) -> Result<Value, Failure> {
        let portal = self.portals.get(id).ok_or_else(|| portal_not_found(id))?;
        let port = self.global.get("listen_port").cloned().unwrap_or(json!(3260));
        let listen: Vec<Value> =
            strings_of(portal, "listen").iter().map(|ip| json!({"ip": ip, "port": port})).collect();
        Ok(json!({"id": id, "listen": listen, "tag": portal["tag"], "comment": portal["comment"]}))
    }

    pub(crate) fn portal_entries(&self) -> Vec<Value> {
        self.portals.ids().into_iter().filter_map(|id| self.portal_entry(id).ok()).collect()
    }

    /// `iscsi.portal.create`; the new portal's tag is one more than the number of portals.
    pub(crate) fn create_portal(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let ips = strings_of(&data, "listen");
        check(self.portal_problems("iscsiportal_create", &ips, None))?;
        let tag = self.portals.ids().len() + 1;
        let listen: Vec<Value> = ips.iter().map(|ip| json!({"ip": ip})).collect();
        let comment = data.get("comment").cloned().unwrap_or(json!(""));
        Ok(self.portals.insert(object(json!({"listen": listen, "tag": tag, "comment": comment}))))
    }

    /// `iscsi.portal.update`.
    pub(crate) fn update_portal(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let old = self.portals.get(id).ok_or_else(|| portal_not_found(id))?.clone();
        let ips =
            if changes.contains_key("listen") { strings_of(&changes, "listen") } else { strings_of(&old, "listen") };
        check(self.portal_problems("iscsiportal_update", &ips, Some((id, strings_of(&old, "listen")))))?;
        if let Some(row) = self.portals.get_mut(id) {
            row.insert("listen".into(), Value::Array(ips.iter().map(|ip| json!({"ip": ip})).collect()));
            if let Some(comment) = changes.get("comment") {
                row.insert("comment".into(), comment.clone());
            }
        }
        Ok(())
    }

    /// `iscsi.portal.delete`: target groups on the portal go, the others are re-tagged 1..n.
    pub(crate) fn delete_portal(&mut self, id: i64) -> Result<(), Failure> {
        self.portals.remove(id).ok_or_else(|| portal_not_found(id))?;
        for (_, target) in self.targets.iter_mut() {
            if let Some(Value::Array(groups)) = target.get_mut("groups") {
                groups.retain(|g| g.get("portal").and_then(Value::as_i64) != Some(id));
            }
        }
        for (tag, (_, portal)) in self.portals.iter_mut().enumerate() {
            portal.insert("tag".into(), json!(tag + 1));
        }
        Ok(())
    }

    fn portal_problems(&self, schema: &str, ips: &[String], old: Option<(i64, Vec<String>)>) -> Vec<Invalid> {
        if ips.is_empty() {
            return vec![invalid(format!("{schema}.listen"), "At least one listen entry is required.")];
        }
        let (id, old_ips) = old.unwrap_or_default();
        let new_ips: Vec<&String> = ips.iter().filter(|ip| !old_ips.contains(ip)).collect();
        let mut problems = Vec::new();
        for ip in ips {
            let taken = self.portals.iter().any(|(other, p)| other != id && strings_of(p, "listen").contains(ip));
            if taken {
                problems.push(invalid(format!("{schema}.listen"), format!("'{ip}' IP is already in use.")));
            }
            let configured = ["0.0.0.0", "::"].contains(&ip.as_str()) || ADDRESSES.contains(&ip.as_str());
            if (new_ips.is_empty() || new_ips.contains(&ip)) && !configured {
                problems.push(invalid(format!("{schema}.listen"), format!("IP {ip} not configured on this system.")));
            }
        }
        problems
    }

    // --- initiator groups ---

    pub(crate) fn initiator_entries(&self) -> Vec<Value> {
        self.initiators.iter().map(|(id, row)| Value::Object(with_id(id, row))).collect()
    }

    /// `iscsi.initiator.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_initiator(&mut self, data: Map<String, Value>) -> i64 {
        let initiators = data.get("initiators").cloned().unwrap_or(json!([]));
        let comment = data.get("comment").cloned().unwrap_or(json!(""));
        self.initiators.insert(object(json!({"initiators": initiators, "comment": comment})))
    }

    /// `iscsi.initiator.update`.
    pub(crate) fn update_initiator(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let row = self.initiators.get_mut(id).ok_or_else(|| initiator_not_found(id))?;
        for key in ["initiators", "comment"] {
            if let Some(value) = changes.get(key) {
                row.insert(key.into(), value.clone());
            }
        }
        Ok(())
    }

    /// `iscsi.initiator.delete`: targets that used the group admit every initiator.
    pub(crate) fn delete_initiator(&mut self, id: i64) -> Result<(), Failure> {
        self.initiators.remove(id).ok_or_else(|| initiator_not_found(id))?;
        for (_, target) in self.targets.iter_mut() {
            if let Some(Value::Array(groups)) = target.get_mut("groups") {
                for group in groups.iter_mut().filter(|g| g.get("initiator").and_then(Value::as_i64) == Some(id)) {
                    group["initiator"] = Value::Null;
                }
            }
        }
        Ok(())
    }

    // --- CHAP auth groups ---

    pub(crate) fn auth_entries(&self) -> Vec<Value> {
        self.auths.iter().map(|(id, row)| Value::Object(with_id(id, row))).collect()
    }

    /// `iscsi.auth.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_auth(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let mut row = Map::new();
        for key in ["tag", "user", "secret", "peeruser", "peersecret", "discovery_auth"] {
            row.insert(key.into(), data.get(key).cloned().unwrap_or(json!("")));
        }
        check(auth_problems("iscsi_auth_create", &row))?;
        Ok(self.auths.insert(row))
    }

    /// `iscsi.auth.update`.
    pub(crate) fn update_auth(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut row = self.auths.get(id).ok_or_else(|| auth_not_found(id))?.clone();
        row.extend(changes.into_iter().filter(|(k, _)| k != "id"));
        check(auth_problems("iscsi_auth_update", &row))?;
        if let Some(stored) = self.auths.get_mut(id) {
            *stored = row;
        }
        Ok(())
    }

    /// `iscsi.auth.delete`.
    pub(crate) fn delete_auth(&mut self, id: i64) -> Result<(), Failure> {
        self.auths.remove(id).map(|_| ()).ok_or_else(|| auth_not_found(id))
    }
}

/// CHAP secrets must be 12 to 16 characters long.
fn auth_problems(schema: &str, row: &Map<String, Value>) -> Vec<Invalid> {
    let mut problems = Vec::new();
    for key in ["secret", "peersecret"] {
        let secret = text(row, key);
        if (key == "secret" || !secret.is_empty()) && !(12..=16).contains(&secret.chars().count()) {
            problems.push(invalid(format!("{schema}.{key}"), "Secret must be between 12 and 16 characters."));
        }
    }
    problems
}

/// An iSNS server: an IP address, optionally with `:port` (IPv6 in brackets then).
fn valid_isns(server: &str) -> bool {
    if server.parse::<IpAddr>().is_ok() {
        return true;
    }
    let Some((ip, port)) = server.rsplit_once(':') else { return false };
    let ip = ip.strip_prefix('[').and_then(|i| i.strip_suffix(']')).unwrap_or(ip);
    ip.parse::<IpAddr>().is_ok() && port.parse::<u16>().is_ok_and(|p| p > 0)
}

/// The `ip` of every `{ip}` entry of `row[key]`.
fn strings_of(row: &Map<String, Value>, key: &str) -> Vec<String> {
    row.get(key)
        .and_then(Value::as_array)
        .map(|items| items.iter().filter_map(|i| i.get("ip").and_then(Value::as_str)).map(str::to_string).collect())
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "iscsi_tests.rs"]
mod tests;
