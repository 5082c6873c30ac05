//! The boot pool (`boot.*`): one SSD, or two as a mirror, and its last scan. `boot.attach`
//! mirrors onto an unused disk, `boot.detach` breaks the mirror, `boot.replace` swaps a disk and
//! `boot.scrub` verifies every block. `boot.get_state` answers in the release's pool shape.

use serde_json::{Value, json};

use crate::clock::{date, hours_ago_ms, now_ms};
use crate::failure::{Failure, errno};
use crate::system::boot_env::format_size;
use truenas_api::schema::Release;

const GIB: i64 = 1024 * 1024 * 1024;

/// A scrub or resilver, running or finished.
#[derive(Debug, Clone)]
pub(crate) struct Scan {
    function: &'static str,
    finished: bool,
    start_ms: i64,
    end_ms: Option<i64>,
}

/// The boot pool and the disks that could join it.
#[derive(Debug)]
pub(crate) struct BootPool {
    /// Whole-disk names of the pool's members (`sda`); ZFS uses their third partition.
    pub(crate) disks: Vec<String>,
    /// Disks with nothing on them, free to attach.
    pub(crate) unused: Vec<String>,
    scan: Option<Scan>,
    size: i64,
}

impl Default for BootPool {
    /// One 256 GB NVMe SSD, scrubbed last week; four blank 8 TB disks are unused.
    fn default() -> Self {
        let start = hours_ago_ms(24 * 7);
        BootPool {
            disks: vec!["nvme0n1".into()],
            unused: ["sde", "sdf", "sdg", "sdh"].map(String::from).to_vec(),
            scan: Some(Scan { function: "SCRUB", finished: true, start_ms: start, end_ms: Some(start + 95_000) }),
            size: 237 * GIB,
        }
    }
}

fn partition(disk: &str) -> String {
    if disk.starts_with("nvme") { format!("{disk}p3") } else { format!("{disk}3") }
}

/// A stable pseudo-GUID for a name.
fn guid(name: &str) -> String {
    let sum =
        name.bytes().fold(1_469_598_103_934_665_603_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(1_099_511_628_211));
    (sum % 10_000_000_000_000_000_000).to_string()
}

fn disk_vdev(disk: &str, size: i64, allocated: i64) -> Value {
    let part = partition(disk);
    json!({
        "name": part,
        "type": "DISK",
        "path": format!("/dev/{part}"),
        "guid": guid(&part),
        "status": "ONLINE",
        "stats": {
            "timestamp": now_ms() * 1000, "read_errors": 0, "write_errors": 0, "checksum_errors": 0,
            "ops": [0, 1843, 9312, 0, 0, 0, 0], "bytes": [0, 51_380_224, 403_619_840, 0, 0, 0, 0],
            "size": size, "allocated": allocated, "fragmentation": 3, "self_healed": 0,
            "configured_ashift": 12, "logical_ashift": 9, "physical_ashift": 12,
        },
        "children": [],
        "device": part,
        "disk": disk,
        "unavail_disk": null,
    })
}

impl BootPool {
    pub(crate) fn state(&self, release: Release, allocated: i64) -> Value {
        let free = self.size - allocated;
        let members: Vec<Value> = self.disks.iter().map(|d| disk_vdev(d, self.size, allocated)).collect();
        let data = if members.len() > 1 {
            vec![json!({
                "name": "mirror-0", "type": "MIRROR", "path": null, "guid": guid("mirror-0"), "status": "ONLINE",
                "stats": members.first().map(|m| m["stats"].clone()).unwrap_or(Value::Null),
                "children": members, "device": null, "disk": null, "unavail_disk": null,
            })]
        } else {
            members
        };
        let mut out = json!({
            "name": "boot-pool",
            "status": "ONLINE",
            "path": "/",
            "scan": self.scan.as_ref().map(|s| self.scan_entry(s, allocated)),
            "expand": null,
            "is_upgraded": true,
            "healthy": true,
            "warning": false,
            "status_code": "OK",
            "status_detail": null,
            "size": self.size,
            "allocated": allocated,
            "free": free,
            "freeing": 0,
            "dedup_table_size": 0,
            "dedup_table_quota": "auto",
            "fragmentation": "3",
            "size_str": self.size.to_string(),
            "allocated_str": allocated.to_string(),
            "free_str": free.to_string(),
            "freeing_str": "0",
            "autotrim": {"value": "off", "rawvalue": "off", "parsed": "off", "source": "DEFAULT"},
            "topology": {"data": data, "log": [], "cache": [], "spare": [], "special": [], "dedup": []},
        });
        if release >= Release::V26_0 {
            out["all_sed"] = json!(false);
        }
        out
    }

    fn scan_entry(&self, scan: &Scan, allocated: i64) -> Value {
        let processed = if scan.finished { allocated } else { allocated / 2 };
        json!({
            "function": scan.function,
            "state": if scan.finished { "FINISHED" } else { "SCANNING" },
            "start_time": date(scan.start_ms),
            "end_time": scan.end_ms.map(date),
            "percentage": if scan.finished { 100.0 } else { 50.0 },
            "bytes_to_process": allocated,
            "bytes_processed": processed,
            "bytes_issued": processed,
            "pause": null,
            "errors": 0,
            "total_secs_left": if scan.finished { None } else { Some(40) },
        })
    }

    /// `boot.get_disks`.
    pub(crate) fn get_disks(&self) -> Value {
        json!(self.disks)
    }

    /// Whether `dev` (disk or partition name) is a member; returns its disk name.
    fn member(&self, dev: &str) -> Option<String> {
        self.disks.iter().find(|d| *d == dev || partition(d) == dev).cloned()
    }

    fn take_unused(&mut self, dev: &str) -> Result<(), Failure> {
        if self.member(dev).is_some() {
            return Err(Failure::call(errno::EINVAL, format!("{dev} is already part of the boot pool")));
        }
        let Some(i) = self.unused.iter().position(|d| d == dev) else {
            return Err(Failure::call(errno::ENOENT, format!("Disk {dev:?} is not an unused disk")));
        };
        self.unused.remove(i);
        Ok(())
    }

    /// `boot.attach` checks and the new member; the caller resilvers.
    pub(crate) fn attach(&mut self, dev: &str) -> Result<(), Failure> {
        if self.disks.len() > 1 {
            return Err(Failure::fault("3-way mirror not supported"));
        }
        self.take_unused(dev)?;
        self.disks.push(dev.to_string());
        Ok(())
    }

    /// `boot.detach`: leaves a single disk at least.
    pub(crate) fn detach(&mut self, dev: &str) -> Result<(), Failure> {
        let Some(disk) = self.member(dev) else {
            return Err(Failure::call(errno::EINVAL, format!("Failed to find vdev for {dev}")));
        };
        if self.disks.len() < 2 {
            return Err(Failure::fault(format!(
                "cannot detach {}: only applicable to mirror and replacing vdevs",
                partition(&disk)
            )));
        }
        self.disks.retain(|d| *d != disk);
        self.unused.push(disk);
        Ok(())
    }

    /// `boot.replace`: `label` (member) gives way to `dev` (unused).
    pub(crate) fn replace(&mut self, label: &str, dev: &str) -> Result<(), Failure> {
        let Some(old) = self.member(label) else {
            return Err(Failure::call(errno::EINVAL, format!("Failed to find vdev for {label}")));
        };
        self.take_unused(dev)?;
        if let Some(slot) = self.disks.iter_mut().find(|d| **d == old) {
            *slot = dev.to_string();
        }
        self.unused.push(old);
        Ok(())
    }

    /// A scan starts (`SCRUB` or `RESILVER`).
    pub(crate) fn start_scan(&mut self, function: &'static str) {
        self.scan = Some(Scan { function, finished: false, start_ms: now_ms(), end_ms: None });
    }

    pub(crate) fn finish_scan(&mut self) {
        if let Some(scan) = self.scan.as_mut() {
            scan.finished = true;
            scan.end_ms = Some(now_ms());
        }
    }

    /// Human size of the pool, for job texts.
    pub(crate) fn size_text(&self) -> String {
        format_size(self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attach_makes_a_mirror_and_detach_breaks_it() {
        let mut p = BootPool::default();
        assert_eq!(p.state(Release::V25_10, GIB)["topology"]["data"][0]["type"], "DISK");
        assert!(p.attach("sdz").unwrap_err().reason().contains("not an unused disk"));
        assert!(p.attach("nvme0n1").unwrap_err().reason().contains("already part of the boot pool"));
        p.attach("sde").unwrap();
        let state = p.state(Release::V25_10, GIB);
        assert_eq!(state["topology"]["data"][0]["type"], "MIRROR");
        assert_eq!(state["topology"]["data"][0]["children"][0]["name"], "nvme0n1p3");
        assert_eq!(state["topology"]["data"][0]["children"][1]["disk"], "sde");
        assert_eq!(p.attach("sdf").unwrap_err().reason(), "[EFAULT] 3-way mirror not supported");
        p.detach("sde3").unwrap();
        assert_eq!(p.get_disks(), json!(["nvme0n1"]));
        assert_eq!(
            p.detach("nvme0n1").unwrap_err().reason(),
            "[EFAULT] cannot detach nvme0n1p3: only applicable to mirror and replacing vdevs"
        );
        assert_eq!(p.detach("sdq").unwrap_err().reason(), "[EINVAL] Failed to find vdev for sdq");
    }

    #[test]
    fn replace_swaps_a_member_for_an_unused_disk() {
        let mut p = BootPool::default();
        p.replace("nvme0n1p3", "sdf").unwrap();
        assert_eq!(p.disks, ["sdf"]);
        assert!(p.unused.contains(&"nvme0n1".to_string()));
    }

    #[test]
    fn the_state_shape_follows_the_release() {
        let mut p = BootPool::default();
        assert!(p.state(Release::V25_10, GIB).get("all_sed").is_none());
        assert_eq!(p.state(Release::V26_0, GIB)["all_sed"], false);
        p.start_scan("SCRUB");
        assert_eq!(p.state(Release::V25_10, GIB)["scan"]["state"], "SCANNING");
        p.finish_scan();
        assert_eq!(p.state(Release::V25_10, GIB)["scan"]["state"], "FINISHED");
    }
}
