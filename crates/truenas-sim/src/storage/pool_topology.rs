//! Pool topology: vdev classes, vdevs and their member disks, and the checks `pool.create` and
//! `pool.update` run on a requested topology (widths, one vdev type per class, one log and one
//! cache row, disks that exist and are free).

use serde_json::Value;

use crate::failure::{Failure, Invalid, errno};
use crate::storage::zfs::{check, invalid, new_guid};

/// A disk of the machine, as pools see it.
#[derive(Debug, Clone)]
pub(crate) struct Disk {
    pub(crate) name: String,
    pub(crate) size: u64,
    /// Holds the boot pool, so never offered to data pools.
    pub(crate) boot: bool,
}

/// The vdev classes of a pool, as `topology` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    Data,
    Log,
    Cache,
    Special,
    Dedup,
    Spare,
}

impl Class {
    /// The key of the class in a requested topology (`spares` is a plain disk list).
    pub(crate) fn key(self) -> &'static str {
        match self {
            Class::Data => "data",
            Class::Log => "log",
            Class::Cache => "cache",
            Class::Special => "special",
            Class::Dedup => "dedup",
            Class::Spare => "spares",
        }
    }

    /// The key of the class in a `pool.query` topology.
    pub(crate) fn entry_key(self) -> &'static str {
        match self {
            Class::Spare => "spare",
            other => other.key(),
        }
    }
}

/// The layout of a vdev: a single disk, a mirror, RAIDZ or dRAID with its parity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Disk,
    Mirror,
    Raidz(u8),
    Draid(u8),
}

impl Layout {
    /// The `type` of the vdev in a `pool.query` topology.
    pub(crate) fn entry_type(self) -> &'static str {
        match self {
            Layout::Disk => "DISK",
            Layout::Mirror => "MIRROR",
            Layout::Raidz(_) => "RAIDZ",
            Layout::Draid(_) => "DRAID",
        }
    }
}

/// One disk in a vdev.
#[derive(Debug, Clone)]
pub(crate) struct Member {
    pub(crate) disk: String,
    pub(crate) guid: String,
    pub(crate) partuuid: String,
}

impl Member {
    /// Whether `label` names this member: its guid, disk, partition or partition uuid.
    pub(crate) fn matches(&self, label: &str) -> bool {
        [self.guid.as_str(), self.disk.as_str(), self.partuuid.as_str()].contains(&label)
            || label == format!("{}1", self.disk)
            || label == format!("/dev/disk/by-partuuid/{}", self.partuuid)
    }
}

/// A freshly partitioned disk, as `pool.format_disks` leaves it.
pub(crate) fn new_member(disk: &str) -> Member {
    Member { disk: disk.to_string(), guid: new_guid(), partuuid: uuid::Uuid::new_v4().to_string() }
}

/// A top-level vdev.
#[derive(Debug, Clone)]
pub(crate) struct Vdev {
    pub(crate) layout: Layout,
    pub(crate) guid: String,
    pub(crate) members: Vec<Member>,
}

impl Vdev {
    /// The vdevs one requested row becomes: a STRIPE row is one single-disk vdev per disk.
    pub(crate) fn from_request(kind: &str, disks: &[&str]) -> Vec<Vdev> {
        let grouped =
            |layout| vec![Vdev { layout, guid: new_guid(), members: disks.iter().map(|d| new_member(d)).collect() }];
        match kind {
            "MIRROR" => grouped(Layout::Mirror),
            "RAIDZ1" | "RAIDZ2" | "RAIDZ3" => grouped(Layout::Raidz(parity(kind))),
            "DRAID1" | "DRAID2" | "DRAID3" => grouped(Layout::Draid(parity(kind))),
            _ => disks
                .iter()
                .map(|d| Vdev { layout: Layout::Disk, guid: new_guid(), members: vec![new_member(d)] })
                .collect(),
        }
    }

    /// The row type a client would send to get this vdev (`STRIPE` for a single disk).
    pub(crate) fn request_type(&self) -> String {
        match self.layout {
            Layout::Disk => "STRIPE".to_string(),
            Layout::Mirror => "MIRROR".to_string(),
            Layout::Raidz(p) => format!("RAIDZ{p}"),
            Layout::Draid(p) => format!("DRAID{p}"),
        }
    }

    /// Usable bytes: parity and mirror copies taken off the smallest member.
    pub(crate) fn capacity(&self, disks: &[Disk]) -> u64 {
        let sizes: Vec<u64> =
            self.members.iter().map(|m| disks.iter().find(|d| d.name == m.disk).map_or(0, |d| d.size)).collect();
        let smallest = sizes.iter().copied().min().unwrap_or(0);
        let n = sizes.len() as u64;
        match self.layout {
            Layout::Disk => sizes.iter().sum(),
            Layout::Mirror => smallest,
            Layout::Raidz(p) | Layout::Draid(p) => n.saturating_sub(u64::from(p)) * smallest,
        }
    }
}

fn parity(kind: &str) -> u8 {
    kind.chars().last().and_then(|c| c.to_digit(10)).map_or(1, |d| d as u8)
}

/// The fewest disks a row of each type needs.
fn min_disks(kind: &str) -> usize {
    match kind {
        "MIRROR" | "DRAID1" => 2,
        "RAIDZ1" | "DRAID2" => 3,
        "RAIDZ2" | "DRAID3" => 4,
        "RAIDZ3" => 5,
        _ => 1,
    }
}

/// The topology checks of `pool.create` and `pool.update`: `old` holds the class and request
/// type of the pool's vdevs (empty on create), `disks` the machine's disks and `unused` those no
/// pool holds; attributes are prefixed with `schema` (`pool_create`).
pub(crate) fn check_topology(
    schema: &str,
    topology: &Value,
    old: &[(Class, String)],
    disks: &[Disk],
    unused: &[String],
) -> Result<(), Failure> {
    let mut problems = Vec::new();
    for class in [Class::Data, Class::Special, Class::Dedup] {
        let rows = rows(topology, class);
        let existing: Vec<String> = old.iter().filter(|(c, _)| *c == class).map(|(_, t)| t.clone()).collect();
        let mut last: Option<String> = existing.first().cloned();
        for (i, (kind, disks)) in rows.iter().enumerate() {
            let at = format!("{schema}.topology.{}.{i}", class.key());
            let needed = min_disks(kind);
            if disks.len() < needed {
                problems.push(invalid(
                    format!("{at}.disks"),
                    format!("You need at least {needed} disk(s) for this vdev type."),
                    errno::EINVAL,
                ));
            }
            if let Some(previous) = last.as_ref().filter(|p| *p != kind) {
                problems.push(invalid(
                    format!("{at}.type"),
                    format!(
                        "You are not allowed to create a pool with different {} vdev types ({previous} and {kind}).",
                        class.key()
                    ),
                    errno::EINVAL,
                ));
            }
            last = Some(kind.clone());
        }
    }
    for class in [Class::Cache, Class::Log] {
        if rows(topology, class).len() > 1 {
            problems.push(invalid(
                format!("{schema}.topology.{}", class.key()),
                format!("Only one row for the virtual device of type {} is allowed.", class.key()),
                errno::EINVAL,
            ));
        }
    }
    check(problems)?;
    check(disk_availability(schema, &requested_disks(topology), disks, unused))
}

/// What `disk.check_disks_availability` reports for the disks of a request.
fn disk_availability(schema: &str, wanted: &[String], disks: &[Disk], unused: &[String]) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let missing: Vec<&str> =
        wanted.iter().filter(|w| !disks.iter().any(|d| &d.name == *w)).map(String::as_str).collect();
    if !missing.is_empty() {
        problems.push(invalid(
            format!("{schema}.topology"),
            format!("The following disks were not found in system: {}.", missing.join(",")),
            errno::EINVAL,
        ));
    }
    let mut busy: Vec<&str> = Vec::new();
    for (i, w) in wanted.iter().enumerate() {
        let known = disks.iter().any(|d| &d.name == w);
        let twice = wanted[..i].contains(w);
        if known && (twice || !unused.contains(w)) && !busy.contains(&w.as_str()) {
            busy.push(w);
        }
    }
    if !busy.is_empty() {
        problems.push(invalid(
            format!("{schema}.topology"),
            format!("The following disks are already in use: {}.", busy.join(",")),
            errno::EINVAL,
        ));
    }
    problems
}

/// The `(type, disks)` rows of one class of a requested topology.
fn rows(topology: &Value, class: Class) -> Vec<(String, Vec<String>)> {
    let Some(rows) = topology.get(class.key()).and_then(Value::as_array) else { return Vec::new() };
    rows.iter()
        .map(|row| {
            let kind = row.get("type").and_then(Value::as_str).unwrap_or("STRIPE").to_string();
            let disks = row
                .get("disks")
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default();
            (kind, disks)
        })
        .collect()
}

/// Every disk a requested topology names, spares included, in order.
fn requested_disks(topology: &Value) -> Vec<String> {
    let mut all: Vec<String> = [Class::Data, Class::Log, Class::Cache, Class::Special, Class::Dedup]
        .into_iter()
        .flat_map(|class| rows(topology, class).into_iter().flat_map(|(_, disks)| disks))
        .collect();
    if let Some(spares) = topology.get("spares").and_then(Value::as_array) {
        all.extend(spares.iter().filter_map(Value::as_str).map(str::to_string));
    }
    all
}
