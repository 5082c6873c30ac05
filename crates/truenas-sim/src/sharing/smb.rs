//! SMB shares (`sharing.smb.*`) and the SMB service settings (`smb.config`, `smb.update`).
//!
//! A share has TrueNAS 25.10's shape: base fields, `audit`, and `options` whose members depend
//! on the share's `purpose` (filled with that purpose's defaults from the method's own schema;
//! given options replace the old ones as a whole, as the middleware's `old.update(new)` does).
//! Checks follow the middleware: case-insensitive unique names, paths inside a pool, one home
//! share, Apple extensions for Time Machine and Final Cut Pro shares, `key = value` auxiliary
//! parameters, auditing needing a group list.

use serde_json::{Map, Value, json};

use crate::defaults;
use crate::failure::{Failure, Invalid};
use crate::sharing::{ADDRESSES, OUTSIDE_POOLS, Rows, check, flag, invalid, object, text, with_id};
use truenas_api::schema::{MethodTable, Release};

/// Shown when a purpose needs the Apple extensions the SMB service has off.
const NEEDS_AAPL: &str = "Apple SMB2/3 protocol extension support is required by this parameter. This feature may be \
                          enabled in the general SMB server configuration.";

/// Service settings in `smb.config` order; `enable_smb1` is 25.10's, the next three 26.0's.
const CONFIG_FIELDS: [&str; 24] = [
    "netbiosname",
    "netbiosalias",
    "workgroup",
    "description",
    "enable_smb1",
    "minimum_protocol",
    "unixcharset",
    "localmaster",
    "syslog",
    "aapl_extensions",
    "search_protocols",
    "admin_group",
    "guest",
    "filemask",
    "dirmask",
    "ntlmv1_auth",
    "multichannel",
    "encryption",
    "bindip",
    "server_sid",
    "smb_options",
    "debug",
    "stateful_failover",
    "id",
];

pub(crate) fn share_not_found(id: i64) -> Failure {
    Failure::not_found(format!("SharingSMB {id} does not exist"))
}

/// Every SMB share and the SMB service settings.
#[derive(Debug)]
pub(crate) struct SmbStore {
    release: Release,
    shares: Rows,
    config: Map<String, Value>,
}

impl SmbStore {
    /// No shares; the settings of a fresh install with Apple extensions on.
    pub(crate) fn new(release: Release) -> SmbStore {
        let config = json!({
            "netbiosname": "TRUENAS", "netbiosalias": [], "workgroup": "WORKGROUP", "description": "TrueNAS Server",
            "enable_smb1": false, "minimum_protocol": "SMB2", "unixcharset": "UTF-8", "localmaster": false,
            "syslog": false, "aapl_extensions": true, "search_protocols": [], "admin_group": null, "guest": "nobody",
            "filemask": "DEFAULT", "dirmask": "DEFAULT", "ntlmv1_auth": false, "multichannel": false,
            "encryption": "DEFAULT", "bindip": [], "server_sid": "S-1-5-21-3016723598-1709227386-2450862197",
            "smb_options": "", "debug": false, "stateful_failover": false,
        });
        SmbStore { release, shares: Rows::default(), config: object(config) }
    }

    /// The `sharing.smb.query` entry of one share.
    pub(crate) fn entry(&self, id: i64) -> Result<Value, Failure> {
        let share = self.shares.get(id).ok_or_else(|| share_not_found(id))?;
        let mut out = with_id(id, share);
        out.insert("locked".into(), json!(false));
        let (audit, options) = (out.shift_remove("audit"), out.shift_remove("options"));
        out.insert("audit".into(), audit.unwrap_or(Value::Null));
        out.insert("options".into(), options.unwrap_or(Value::Null));
        if self.release >= Release::V26_0 {
            let (dataset, relative) = crate::sharing::split(text(share, "path"));
            let mut shaped = Map::new();
            for (key, value) in out {
                let after_path = key == "path";
                shaped.insert(key, value);
                if after_path {
                    shaped.insert("dataset".into(), dataset.clone());
                    shaped.insert("relative_path".into(), relative.clone());
                }
            }
            shaped.insert("tier".into(), Value::Null);
            return Ok(Value::Object(shaped));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.shares.ids().into_iter().filter_map(|id| self.entry(id).ok()).collect()
    }

    /// `sharing.smb.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let mut share = Map::new();
        for key in ["purpose", "name", "path", "enabled", "comment", "readonly", "browsable"] {
            share.insert(key.into(), data.get(key).cloned().unwrap_or(Value::Null));
        }
        let abe = data.get("access_based_share_enumeration").cloned().unwrap_or(json!(false));
        share.insert("access_based_share_enumeration".into(), abe);
        share.insert("audit".into(), audit(None, data.get("audit")));
        let purpose = text(&share, "purpose").to_string();
        share.insert("options".into(), Value::Object(self.options_for(&purpose, data.get("options"))));
        check(self.problems("sharingsmb_create", &share, None))?;
        Ok(self.shares.insert(share))
    }

    /// `sharing.smb.update`: merges `changes` into the share.
    pub(crate) fn update(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let old = self.shares.get(id).ok_or_else(|| share_not_found(id))?.clone();
        let mut share = old.clone();
        for (key, value) in &changes {
            if matches!(key.as_str(), "audit" | "options") || !share.contains_key(key) {
                continue;
            }
            share.insert(key.clone(), value.clone());
        }
        share.insert("audit".into(), audit(old.get("audit"), changes.get("audit")));
        let purpose = text(&share, "purpose").to_string();
        if changes.contains_key("options") || purpose != text(&old, "purpose") {
            share.insert("options".into(), Value::Object(self.options_for(&purpose, changes.get("options"))));
        }
        check(self.problems("sharingsmb_update", &share, Some(id)))?;
        if let Some(row) = self.shares.get_mut(id) {
            *row = share;
        }
        Ok(())
    }

    /// `sharing.smb.delete`.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.shares.remove(id).map(|_| ()).ok_or_else(|| share_not_found(id))
    }

    /// The options of a `purpose`: the given ones (if any) over that purpose's defaults.
    fn options_for(&self, purpose: &str, given: Option<&Value>) -> Map<String, Value> {
        let mut options = given.and_then(Value::as_object).cloned().unwrap_or_default();
        options.insert("purpose".into(), json!(purpose));
        let mut value = Value::Object(options);
        let union = MethodTable::get(self.release)
            .method("sharing.smb.create")
            .and_then(|m| m.params.pointer("/prefixItems/0/properties/options/anyOf/0"));
        if let Some(union) = union {
            defaults::fill(union, &mut value);
        }
        let mut options = object(value);
        options.shift_remove("purpose");
        if options.get("vuid").is_some_and(Value::is_null) {
            options.insert("vuid".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
        options
    }

    /// Problems with a share, named after `schema` (`sharingsmb_create`, `sharingsmb_update`).
    fn problems(&self, schema: &str, share: &Map<String, Value>, id: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let name = text(share, "name");
        let clash =
            self.shares.iter().any(|(other, s)| Some(other) != id && text(s, "name").eq_ignore_ascii_case(name));
        if clash {
            problems.push(invalid(format!("{schema}.name"), "Share names are case-insensitive and must be unique"));
        }
        let (path, purpose) = (text(share, "path"), text(share, "purpose"));
        if path.starts_with("EXTERNAL") {
            if purpose != "EXTERNAL_SHARE" {
                let message = "External paths may only be set for shares with an EXTERNAL_SHARE purpose";
                problems.push(invalid(format!("{schema}.path"), message));
            }
        } else if !crate::sharing::in_pool(path) {
            problems.push(invalid(format!("{schema}.path"), OUTSIDE_POOLS));
        }
        let options = share.get("options").and_then(Value::as_object).cloned().unwrap_or_default();
        let time_machine =
            purpose == "TIMEMACHINE_SHARE" || (purpose == "LEGACY_SHARE" && flag(&options, "timemachine"));
        if (time_machine || purpose == "FCP_SHARE") && !flag(&self.config, "aapl_extensions") {
            problems.push(invalid(format!("{schema}.purpose"), NEEDS_AAPL));
        }
        if purpose == "VEEAM_REPOSITORY_SHARE" {
            let message = "Veeam repository shares require a TrueNAS enterprise license.";
            problems.push(invalid(format!("{schema}.purpose"), message));
        }
        let audit = share.get("audit").and_then(Value::as_object).cloned().unwrap_or_default();
        let lists = ["watch_list", "ignore_list"].iter().any(|k| !crate::sharing::strings(&audit, k).is_empty());
        if flag(&audit, "enable") && !lists {
            let message = "Watch list or ignore list is required to enable auditing for an SMB share.";
            problems.push(invalid(format!("{schema}.audit.enable"), message));
        }
        if purpose == "LEGACY_SHARE" {
            problems.extend(self.legacy_problems(schema, &options, id));
        }
        problems
    }

    fn legacy_problems(&self, schema: &str, options: &Map<String, Value>, id: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let other_home = self.shares.iter().any(|(other, s)| {
            Some(other) != id && s.get("options").and_then(Value::as_object).is_some_and(|o| flag(o, "home"))
        });
        if flag(options, "home") && other_home {
            problems.push(invalid(format!("{schema}.options.home"), "Only one share is allowed to be a home share."));
        }
        for line in text(options, "auxsmbconf").lines() {
            if line.is_empty() || line.starts_with(['#', ';']) || line.contains('=') {
                continue;
            }
            let message = format!("Auxiliary parameters must be in the format of \"key = value\": {line}");
            problems.push(invalid(format!("{schema}.options.auxsmbconf"), message));
        }
        problems
    }

    /// The `smb.config` result, shaped for the release.
    pub(crate) fn config(&self) -> Value {
        let skip: &[&str] = if self.release >= Release::V26_0 {
            &["enable_smb1"]
        } else {
            &["minimum_protocol", "search_protocols", "stateful_failover"]
        };
        let mut out = Map::new();
        out.insert("id".into(), json!(1));
        for key in CONFIG_FIELDS.iter().filter(|k| **k != "id" && !skip.contains(k)) {
            out.insert(key.to_string(), self.config.get(*key).cloned().unwrap_or(Value::Null));
        }
        Value::Object(out)
    }

    /// `smb.update`: merges `changes` into the settings.
    pub(crate) fn update_config(&mut self, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut new = self.config.clone();
        new.extend(changes.into_iter().filter(|(k, _)| CONFIG_FIELDS.contains(&k.as_str()) && k != "id"));
        let mut problems = Vec::new();
        for (idx, ip) in crate::sharing::strings(&new, "bindip").iter().enumerate() {
            if !ADDRESSES.contains(&ip.as_str()) {
                let message = format!("IP address [{ip}] is not a configured address for this server");
                problems.push(invalid(format!("smb_update.bindip.{idx}"), message));
            }
        }
        if text(&new, "guest") == "root" {
            problems.push(invalid("smb_update.guest", "\"root\" is not a permitted guest account"));
        }
        if text(&new, "workgroup").is_empty() {
            problems.push(invalid("smb_update.workgroup", "workgroup field is required."));
        }
        if text(&new, "netbiosname").is_empty() {
            problems.push(invalid("smb_update.netbiosname", "NetBIOS name is required."));
        }
        check(problems)?;
        self.config = new;
        Ok(())
    }
}

/// A share's `audit`: `old` (or the defaults) with `given` over it.
fn audit(old: Option<&Value>, given: Option<&Value>) -> Value {
    let mut audit = match old.and_then(Value::as_object) {
        Some(old) => old.clone(),
        None => object(json!({"enable": false, "watch_list": [], "ignore_list": []})),
    };
    if let Some(given) = given.and_then(Value::as_object) {
        audit.extend(given.clone());
    }
    Value::Object(audit)
}

#[cfg(test)]
#[path = "smb_tests.rs"]
mod tests;
