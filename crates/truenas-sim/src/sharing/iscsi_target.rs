//! iSCSI targets, extents and target-to-extent mappings (LUNs), on [`IscsiStore`].
//!
//! As in the middleware: target names are lowercase IQN fragments and unique, as are aliases;
//! groups must name existing portals (once each) and initiator groups, and CHAP needs an auth
//! group. An extent is a zvol (`zvol/<pool>/...`) or a file under a pool whose size is a multiple
//! of the block size, and backs at most one LUN. Deleting a target or an extent that initiators
//! are logged in to is refused unless forced; LUN ids default to the lowest free one.

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::sharing::iscsi::IscsiStore;
use crate::sharing::{OUTSIDE_POOLS, ZVOLS, check, invalid, object, text, with_id};
use truenas_api::schema::Release;

/// Stored fields of a target, in `iscsi.target.query` order (after `id`).
const TARGET_FIELDS: [&str; 7] = ["name", "alias", "mode", "groups", "auth_networks", "rel_tgt_id", "iscsi_parameters"];

/// Stored fields of an extent, in `iscsi.extent.query` order (after `id`, before `locked`).
const EXTENT_FIELDS: [&str; 18] = [
    "name",
    "type",
    "disk",
    "serial",
    "path",
    "filesize",
    "blocksize",
    "pblocksize",
    "avail_threshold",
    "comment",
    "naa",
    "insecure_tpc",
    "xen",
    "rpm",
    "ro",
    "enabled",
    "vendor",
    "product_id",
];

/// Highest LUN id SCST maps, plus one.
const LUN_MAP_SIZE: i64 = 16383;

pub(crate) fn target_not_found(id: i64) -> Failure {
    Failure::not_found(format!("iSCSITarget {id} does not exist"))
}

pub(crate) fn extent_not_found(id: i64) -> Failure {
    Failure::not_found(format!("iSCSITargetExtent {id} does not exist"))
}

pub(crate) fn targetextent_not_found(id: i64) -> Failure {
    Failure::not_found(format!("iSCSITargetToExtent {id} does not exist"))
}

impl IscsiStore {
    // --- targets ---

    pub(crate) fn target_entries(&self) -> Vec<Value> {
        self.targets.iter().map(|(id, row)| Value::Object(with_id(id, row))).collect()
    }

    /// The name of the target if initiators are logged in to it.
    fn target_in_use(&self, id: i64) -> Option<String> {
        let name = text(self.targets.get(id)?, "name").to_string();
        let iqn = self.iqn(&name);
        self.sessions.iter().any(|s| s.get("target").and_then(Value::as_str) == Some(iqn.as_str())).then_some(name)
    }

    /// `iscsi.target.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_target(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let mut target = Map::new();
        for key in TARGET_FIELDS {
            target.insert(key.into(), data.get(key).cloned().unwrap_or(Value::Null));
        }
        target.insert("groups".into(), groups(target.get("groups")));
        let rel = self.targets.iter().filter_map(|(_, t)| t.get("rel_tgt_id")?.as_i64()).max().unwrap_or(0) + 1;
        target.insert("rel_tgt_id".into(), json!(rel));
        check(self.target_problems("iscsi_target_create", &target, None))?;
        Ok(self.targets.insert(target))
    }

    /// `iscsi.target.update`: merges `changes`; a new `groups` list replaces the old one.
    pub(crate) fn update_target(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut target = self.targets.get(id).ok_or_else(|| target_not_found(id))?.clone();
        target.extend(changes.into_iter().filter(|(k, _)| TARGET_FIELDS.contains(&k.as_str()) && k != "rel_tgt_id"));
        target.insert("groups".into(), groups(target.get("groups")));
        check(self.target_problems("iscsi_target_update", &target, Some(id)))?;
        if let Some(row) = self.targets.get_mut(id) {
            *row = target;
        }
        Ok(())
    }

    /// `iscsi.target.delete`: its LUN mappings go too, and its extents with `delete_extents`.
    pub(crate) fn delete_target(&mut self, id: i64, force: bool, delete_extents: bool) -> Result<(), Failure> {
        self.targets.get(id).ok_or_else(|| target_not_found(id))?;
        if let Some(name) = self.target_in_use(id) {
            if !force {
                return Err(Failure::fault(format!("Target {name} is in use.")));
            }
            let iqn = self.iqn(&name);
            self.sessions.retain(|s| s.get("target").and_then(Value::as_str) != Some(iqn.as_str()));
        }
        for mapping in self.targetextents.ids_where("target", &json!(id)) {
            let extent = self.targetextents.remove(mapping).and_then(|m| m.get("extent")?.as_i64());
            if let Some(extent) = extent.filter(|_| delete_extents) {
                self.extents.remove(extent);
            }
        }
        self.targets.remove(id);
        Ok(())
    }

    fn target_problems(&self, schema: &str, target: &Map<String, Value>, id: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let others = || self.targets.iter().filter(move |(other, _)| Some(*other) != id);
        let name = text(target, "name");
        if !Regex::new(r"^[-a-z0-9\.:]+$").is_ok_and(|re| re.is_match(name)) {
            let message = "Only lowercase alphanumeric characters plus dot (.), dash (-), and colon (:) are allowed.";
            problems.push(invalid(format!("{schema}.name"), message));
        } else if others().any(|(_, t)| text(t, "name") == name) {
            problems.push(invalid(format!("{schema}.name"), "Target with this name already exists"));
        }
        if let Some(alias) = target.get("alias").and_then(Value::as_str) {
            if alias.contains('"') {
                problems.push(invalid(format!("{schema}.alias"), "Double quotes are not allowed"));
            } else if alias == "target" {
                problems.push(invalid(format!("{schema}.alias"), "target is a reserved word"));
            } else if others().any(|(_, t)| t.get("alias").and_then(Value::as_str) == Some(alias)) {
                problems.push(invalid(format!("{schema}.alias"), "Alias already exists"));
            }
        }
        if text(target, "mode") != "ISCSI" {
            problems.push(invalid(format!("{schema}.mode"), "Fibre Channel not enabled"));
        }
        let groups = target.get("groups").and_then(Value::as_array).cloned().unwrap_or_default();
        let mut portals = Vec::new();
        for (i, group) in groups.iter().enumerate() {
            let at = |field: &str| format!("{schema}.groups.{i}.{field}");
            let portal = group.get("portal").and_then(Value::as_i64).unwrap_or_default();
            if portals.contains(&portal) {
                problems.push(invalid(at("portal"), format!("Portal {portal} cannot be duplicated on a target")));
            } else if self.portals.get(portal).is_none() {
                problems.push(invalid(at("portal"), format!("{portal} Portal not found in database")));
            } else {
                portals.push(portal);
            }
            if let Some(initiator) = group.get("initiator").and_then(Value::as_i64)
                && self.initiators.get(initiator).is_none()
            {
                problems.push(invalid(at("initiator"), format!("{initiator} Initiator not found in database")));
            }
            let method = group.get("authmethod").and_then(Value::as_str).unwrap_or("NONE");
            match group.get("auth").and_then(Value::as_i64) {
                None if method != "NONE" => {
                    let message = "Authentication group is required for CHAP and CHAP Mutual";
                    problems.push(invalid(at("auth"), message));
                }
                Some(tag) if method == "CHAP_MUTUAL" => {
                    let auth = self.auths.iter().find(|(_, a)| a.get("tag").and_then(Value::as_i64) == Some(tag));
                    match auth {
                        None => problems.push(Invalid {
                            attribute: Some(at("auth")),
                            message: "Authentication group not found".into(),
                            errno: errno::ENOENT,
                        }),
                        Some((_, a)) if text(a, "peeruser").is_empty() => {
                            let message = format!("Authentication group {tag} does not support CHAP Mutual");
                            problems.push(invalid(at("auth"), message));
                        }
                        Some(_) => {}
                    }
                }
                _ => {}
            }
        }
        problems
    }

    // --- extents ---

    pub(crate) fn extent_entry(&self, id: i64) -> Result<Value, Failure> {
        let extent = self.extents.get(id).ok_or_else(|| extent_not_found(id))?;
        let mut out = Map::new();
        out.insert("id".into(), json!(id));
        // 25.10 added `product_id`.
        let fields = EXTENT_FIELDS.iter().filter(|k| **k != "product_id" || self.release >= Release::V25_10);
        for &key in fields {
            out.insert(key.into(), extent.get(key).cloned().unwrap_or(Value::Null));
            if key == "path" && self.release >= Release::V26_0 {
                let path = text(extent, "path");
                let (dataset, relative) = match path.strip_prefix("zvol/") {
                    Some(zvol) => (json!(zvol), json!("")),
                    None => crate::sharing::split(path),
                };
                out.insert("dataset".into(), dataset);
                out.insert("relative_path".into(), relative);
            }
        }
        out.insert("locked".into(), json!(false));
        Ok(Value::Object(out))
    }

    pub(crate) fn extent_entries(&self) -> Vec<Value> {
        self.extents.ids().into_iter().filter_map(|id| self.extent_entry(id).ok()).collect()
    }

    /// `iscsi.extent.create`, with the schema's defaults already filled into `data`. A FILE
    /// extent with a size creates its file.
    pub(crate) fn create_extent(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let mut extent = Map::new();
        for key in EXTENT_FIELDS {
            extent.insert(key.into(), data.get(key).cloned().unwrap_or(Value::Null));
        }
        if text(&extent, "serial").is_empty() {
            extent.insert("serial".into(), json!(hex(15)));
        }
        extent.insert("naa".into(), json!(format!("0x6589cfc000000{}", hex(19))));
        extent.insert("vendor".into(), json!("TrueNAS"));
        self.clean_extent("iscsi_extent_create", &mut extent, None)?;
        if text(&extent, "type") == "FILE" && text(&extent, "filesize") != "0" {
            self.files.insert(text(&extent, "path").to_string());
        }
        Ok(self.extents.insert(extent))
    }

    /// `iscsi.extent.update`: merges `changes` into the extent.
    pub(crate) fn update_extent(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut extent = self.extents.get(id).ok_or_else(|| extent_not_found(id))?.clone();
        extent.extend(changes.into_iter().filter(|(k, _)| EXTENT_FIELDS.contains(&k.as_str()) && k != "vendor"));
        self.clean_extent("iscsi_extent_update", &mut extent, Some(id))?;
        if text(&extent, "type") == "FILE" && text(&extent, "filesize") != "0" {
            self.files.insert(text(&extent, "path").to_string());
        }
        if let Some(row) = self.extents.get_mut(id) {
            *row = extent;
        }
        Ok(())
    }

    /// `iscsi.extent.delete`: its LUN mappings go too; `remove` deletes a FILE extent's file.
    pub(crate) fn delete_extent(&mut self, id: i64, remove: bool, force: bool) -> Result<(), Failure> {
        let extent = self.extents.get(id).ok_or_else(|| extent_not_found(id))?.clone();
        let mappings = self.targetextents.ids_where("extent", &json!(id));
        let targets = mappings.iter().filter_map(|m| self.targetextents.get(*m)?.get("target")?.as_i64());
        let busy: Vec<String> = targets.filter_map(|t| self.target_in_use(t)).collect();
        if !busy.is_empty() && !force {
            let verb = if busy.len() == 1 { "is" } else { "are" };
            return Err(Failure::fault(format!("Associated target(s) {} {verb} in use.", busy.join(","))));
        }
        if remove && text(&extent, "type") == "FILE" {
            self.files.remove(text(&extent, "path"));
        }
        for mapping in mappings {
            self.targetextents.remove(mapping);
        }
        self.extents.remove(id);
        Ok(())
    }

    /// Checks an extent and settles `disk`, `path` and `filesize` by its type.
    fn clean_extent(&self, schema: &str, extent: &mut Map<String, Value>, id: Option<i64>) -> Result<(), Failure> {
        let mut problems = Vec::new();
        let others = || self.extents.iter().filter(move |(other, _)| Some(*other) != id);
        let name = text(extent, "name").to_string();
        if name.contains('"') {
            problems.push(invalid(format!("{schema}.name"), "Double quotes are not allowed"));
        }
        if others().any(|(_, e)| text(e, "name") == name) {
            problems.push(invalid(format!("{schema}.name"), "Extent name must be unique"));
        }
        let serial = text(extent, "serial").to_string();
        if others().any(|(_, e)| text(e, "serial") == serial) {
            problems.push(invalid(format!("{schema}.serial"), "Serial number must be unique"));
        }
        let size = match extent.get("filesize") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => s.clone(),
            _ => "0".to_string(),
        };
        extent.insert("filesize".into(), json!(size));
        if text(extent, "type") == "DISK" {
            let disk = text(extent, "disk").to_string();
            let Some(zvol) = disk.strip_prefix("zvol/") else {
                let message =
                    if disk.is_empty() { "This field is required" } else { "Disk name must start with \"zvol/\"" };
                return Err(Failure::Validation(vec![invalid(format!("{schema}.disk"), message)]));
            };
            if !ZVOLS.contains(&zvol) {
                let message = format!("Device '/dev/{disk}' for volume '{zvol}' does not exist");
                problems.push(invalid(format!("{schema}.disk"), message));
            }
            extent.insert("path".into(), json!(disk));
        } else {
            let path = text(extent, "path").to_string();
            if path.is_empty() {
                return Err(Failure::Validation(vec![invalid(format!("{schema}.path"), "This field is required")]));
            }
            if path.ends_with('/') {
                let message = "You need to specify a filepath not a directory";
                problems.push(invalid(format!("{schema}.path"), message));
            }
            if !crate::sharing::in_pool(&path) {
                problems.push(invalid(format!("{schema}.path"), OUTSIDE_POOLS));
            }
            let blocksize = extent.get("blocksize").and_then(Value::as_u64).unwrap_or(512);
            match size.parse::<u64>() {
                Ok(0) if !self.files.contains(&path) => {
                    let message = "The file must exist if the extent size is set to auto (0)";
                    problems.push(invalid(format!("{schema}.path"), message));
                }
                Ok(bytes) if blocksize > 0 && bytes % blocksize != 0 => {
                    let message = format!("File size ({size}) must be a multiple of block size ({blocksize})");
                    problems.push(invalid(format!("{schema}.filesize"), message));
                }
                _ => {}
            }
            extent.insert("disk".into(), Value::Null);
        }
        check(problems)
    }

    // --- LUN mappings ---

    pub(crate) fn targetextent_entries(&self) -> Vec<Value> {
        self.targetextents.iter().map(|(id, row)| Value::Object(with_id(id, row))).collect()
    }

    /// `iscsi.targetextent.create`; a missing `lunid` takes the target's lowest free LUN.
    pub(crate) fn create_targetextent(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let mut mapping =
            object(json!({"target": data.get("target"), "lunid": data.get("lunid"), "extent": data.get("extent")}));
        check(self.mapping_problems("iscsi_targetextent_create", &mut mapping, None))?;
        Ok(self.targetextents.insert(mapping))
    }

    /// `iscsi.targetextent.update`.
    pub(crate) fn update_targetextent(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let mut mapping = self.targetextents.get(id).ok_or_else(|| targetextent_not_found(id))?.clone();
        mapping.extend(changes.into_iter().filter(|(k, _)| ["target", "lunid", "extent"].contains(&k.as_str())));
        check(self.mapping_problems("iscsi_targetextent_update", &mut mapping, Some(id)))?;
        if let Some(row) = self.targetextents.get_mut(id) {
            *row = mapping;
        }
        Ok(())
    }

    /// `iscsi.targetextent.delete`.
    pub(crate) fn delete_targetextent(&mut self, id: i64, force: bool) -> Result<(), Failure> {
        let mapping = self.targetextents.get(id).ok_or_else(|| targetextent_not_found(id))?;
        let target = mapping.get("target").and_then(Value::as_i64).unwrap_or_default();
        if let Some(name) = self.target_in_use(target).filter(|_| !force) {
            return Err(Failure::fault(format!("Associated target {name} is in use.")));
        }
        self.targetextents.remove(id);
        Ok(())
    }

    fn mapping_problems(&self, schema: &str, mapping: &mut Map<String, Value>, id: Option<i64>) -> Vec<Invalid> {
        let int = |m: &Map<String, Value>, key: &str| m.get(key).and_then(Value::as_i64);
        let (target, extent) = (int(mapping, "target").unwrap_or_default(), int(mapping, "extent").unwrap_or_default());
        let others: Vec<&Map<String, Value>> =
            self.targetextents.iter().filter(|(other, _)| Some(*other) != id).map(|(_, m)| m).collect();
        let lunid = int(mapping, "lunid").unwrap_or_else(|| {
            let used: Vec<i64> =
                others.iter().filter(|m| int(m, "target") == Some(target)).filter_map(|m| int(m, "lunid")).collect();
            (0..).find(|lun| !used.contains(lun)).unwrap_or_default()
        });
        mapping.insert("lunid".into(), json!(lunid));
        let mut problems = Vec::new();
        // The middleware leaves unknown ids to its database's foreign keys; these say so plainly.
        if self.targets.get(target).is_none() {
            problems.push(invalid(format!("{schema}.target"), format!("{target} Target not found in database")));
        }
        if self.extents.get(extent).is_none() {
            problems.push(invalid(format!("{schema}.extent"), format!("{extent} Extent not found in database")));
        }
        if !(0..LUN_MAP_SIZE - 1).contains(&lunid) {
            let message = format!("LUN ID must be a positive integer and lower than {}", LUN_MAP_SIZE - 1);
            problems.push(invalid(format!("{schema}.lunid"), message));
        }
        if others.iter().any(|m| int(m, "target") == Some(target) && int(m, "lunid") == Some(lunid)) {
            problems.push(invalid(format!("{schema}.lunid"), "LUN ID is already being used for this target."));
        }
        if others.iter().any(|m| int(m, "extent") == Some(extent)) {
            problems.push(invalid(format!("{schema}.extent"), "Extent is already in use."));
        }
        problems
    }
}

/// Target groups with TrueNAS's per-group defaults filled in.
fn groups(value: Option<&Value>) -> Value {
    let items = value.and_then(Value::as_array).cloned().unwrap_or_default();
    let filled = items.into_iter().map(|g| {
        let g = object(g);
        json!({
            "portal": g.get("portal"),
            "initiator": g.get("initiator").cloned().unwrap_or(Value::Null),
            "authmethod": g.get("authmethod").cloned().unwrap_or(json!("NONE")),
            "auth": g.get("auth").cloned().unwrap_or(Value::Null),
        })
    });
    Value::Array(filled.collect())
}

/// `len` random lowercase hex digits.
fn hex(len: usize) -> String {
    let digits: String = (0..2).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    digits.chars().take(len).collect()
}
