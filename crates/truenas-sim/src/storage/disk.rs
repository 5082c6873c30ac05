//! Physical disks (`disk.*`): what `disk.query` reports, the settings `disk.update` changes,
//! temperatures, and whether a disk may be wiped (not while a pool holds it).
//!
//! The demo machine has an NVMe boot drive, four 12 TB drives in the two mirrors of `tank`, and
//! a spare 4 TB drive that no pool uses.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, errno};

/// Fields `disk.update` may change.
const UPDATABLE: [&str; 9] =
    ["number", "lunid", "description", "hddstandby", "advpowermgmt", "bus", "enclosure", "pool", "passwd"];

/// One disk.
#[derive(Debug, Clone)]
pub(crate) struct Disk {
    pub(crate) name: String,
    pub(crate) identifier: String,
    pub(crate) serial: String,
    pub(crate) lunid: Option<String>,
    pub(crate) model: String,
    pub(crate) size: u64,
    /// RPM, `None` for solid state.
    pub(crate) rotationrate: Option<i64>,
    pub(crate) bus: &'static str,
    pub(crate) pool: Option<String>,
    pub(crate) zfs_guid: Option<String>,
    /// Degrees Celsius now, and the drive's critical threshold.
    pub(crate) temperature: Option<i64>,
    pub(crate) critical: Option<i64>,
    /// What `disk.update` changed: description, hddstandby, advpowermgmt, passwd, ...
    pub(crate) settings: Map<String, Value>,
}

impl Disk {
    fn new(name: &str, model: &str, serial: &str, lunid: Option<&str>, size: u64, rpm: Option<i64>) -> Disk {
        let identifier = match lunid {
            Some(l) => format!("{{serial_lunid}}{serial}_{l}"),
            None => format!("{{serial}}{serial}"),
        };
        let mut settings = Map::new();
        settings.insert("description".into(), json!(""));
        settings.insert("hddstandby".into(), json!("ALWAYS ON"));
        settings.insert("advpowermgmt".into(), json!("DISABLED"));
        settings.insert("passwd".into(), json!(""));
        Disk {
            name: name.to_string(),
            identifier,
            serial: serial.to_string(),
            lunid: lunid.map(str::to_string),
            model: model.to_string(),
            size,
            rotationrate: rpm,
            bus: if name.starts_with("nvme") { "NVME" } else { "ATA" },
            pool: None,
            zfs_guid: None,
            temperature: None,
            critical: None,
            settings,
        }
    }

    /// The `disk.query` entry; `pools` joins the pool name, `passwords` shows the SED password.
    pub(crate) fn entry(&self, number: usize, pools: bool, passwords: bool) -> Value {
        let setting = |key: &str| self.settings.get(key).cloned().unwrap_or(Value::Null);
        let nvme = self.bus == "NVME";
        json!({
            "identifier": self.identifier,
            "name": self.name,
            "subsystem": if nvme { "nvme" } else { "scsi" },
            "number": self.settings.get("number").cloned().unwrap_or(json!(number)),
            "serial": self.serial,
            "lunid": self.lunid,
            "size": self.size,
            "description": setting("description"),
            "transfermode": "Auto",
            "hddstandby": setting("hddstandby"),
            "advpowermgmt": setting("advpowermgmt"),
            "expiretime": null,
            "model": self.model,
            "rotationrate": self.rotationrate,
            "type": if self.rotationrate.is_some() { "HDD" } else { "SSD" },
            "zfs_guid": self.zfs_guid,
            "bus": self.bus,
            "devname": self.name,
            "enclosure": self.settings.get("enclosure").cloned().unwrap_or(Value::Null),
            "pool": if pools { json!(self.pool) } else { Value::Null },
            "passwd": if passwords { setting("passwd") } else { json!("") },
            "kmip_uid": null,
        })
    }
}

/// The disks of the simulated NAS, in device order.
#[derive(Debug)]
pub(crate) struct Disks {
    pub(crate) disks: Vec<Disk>,
}

pub(crate) fn disk_not_found(id: &str) -> Failure {
    Failure::not_found(format!("Disk {id} does not exist"))
}

impl Disks {
    pub(crate) fn entries(&self, pools: bool, passwords: bool) -> Vec<Value> {
        self.disks.iter().enumerate().map(|(i, d)| d.entry(i, pools, passwords)).collect()
    }

    pub(crate) fn by_name(&self, name: &str) -> Option<&Disk> {
        let name = name.strip_prefix("/dev/").unwrap_or(name);
        self.disks.iter().find(|d| d.name == name)
    }

    /// `disk.update`: stores the settings it accepts; returns the disk's index.
    pub(crate) fn update(&mut self, id: &str, data: Map<String, Value>) -> Result<usize, Failure> {
        let index = self.disks.iter().position(|d| d.identifier == id).ok_or_else(|| disk_not_found(id))?;
        let disk = self.disks.get_mut(index).ok_or_else(|| disk_not_found(id))?;
        for (key, value) in data {
            if key == "pool" {
                disk.pool = value.as_str().map(str::to_string);
            } else if UPDATABLE.contains(&key.as_str()) {
                disk.settings.insert(key, value);
            }
        }
        Ok(index)
    }

    /// What `disk.wipe` checks before writing: the device exists and no pool holds it (the
    /// middleware's exclusive open fails with these `OSError`s).
    pub(crate) fn check_wipe(&self, dev: &str) -> Result<(), Failure> {
        let path = format!("/dev/{}", dev.strip_prefix("/dev/").unwrap_or(dev));
        match self.by_name(dev) {
            None => Err(Failure::Exception {
                class: "FileNotFoundError",
                reason: format!("[Errno {}] No such file or directory: '{path}'", errno::ENOENT),
            }),
            Some(d) if d.pool.is_some() => Err(Failure::Exception {
                class: "OSError",
                reason: format!("[Errno 16] Device or resource busy: '{path}'"),
            }),
            Some(_) => Ok(()),
        }
    }

    /// A finished wipe: the disk carries no pool label any more.
    pub(crate) fn wiped(&mut self, dev: &str) {
        let name = dev.strip_prefix("/dev/").unwrap_or(dev).to_string();
        if let Some(d) = self.disks.iter_mut().find(|d| d.name == name) {
            d.zfs_guid = None;
        }
    }

    /// `disk.temperatures`: each named disk (every disk for `[]`) to its temperature, or to
    /// `[temperature, critical]` with thresholds; unknown names map to null.
    pub(crate) fn temperatures(&self, names: &[String], thresholds: bool) -> Value {
        let mut out: Map<String, Value> = names.iter().map(|n| (n.clone(), Value::Null)).collect();
        for disk in self.disks.iter().filter(|d| names.is_empty() || names.contains(&d.name)) {
            let value = if thresholds { json!([disk.temperature, disk.critical]) } else { json!(disk.temperature) };
            out.insert(disk.name.clone(), value);
        }
        Value::Object(out)
    }
}

/// The disks of a fresh simulated NAS.
pub(crate) fn demo() -> Disks {
    const TB12: u64 = 12_000_138_625_024;
    let mut boot =
        Disk::new("nvme0n1", "Samsung SSD 970 EVO Plus 250GB", "S4EUNX0N812345K", None, 250_059_350_016, None);
    boot.pool = Some("boot-pool".into());
    boot.temperature = Some(41);
    boot.critical = Some(84);
    let tank = [
        ("sda", "WDC WD120EFBX-68B0EN0", "5QGJ8K2B", "50014ee2c0a1b2c3", 34),
        ("sdb", "WDC WD120EFBX-68B0EN0", "5QGJ9M4D", "50014ee2c0a1b2c4", 35),
        ("sdc", "ST12000VN0008-2YS101", "ZRT0AB12", "5000c500d1a2b3c4", 37),
        ("sdd", "ST12000VN0008-2YS101", "ZRT0AB34", "5000c500d1a2b3c5", 38),
    ];
    let mut disks = vec![boot];
    for (i, (name, model, serial, lunid, temp)) in tank.into_iter().enumerate() {
        let mut disk = Disk::new(name, model, serial, Some(lunid), TB12, Some(7200));
        disk.pool = Some("tank".into());
        disk.zfs_guid = Some(format!("{}", 12_917_384_562_734_001_u64 + i as u64 * 7_919));
        disk.temperature = Some(temp);
        disk.critical = Some(65);
        disks.push(disk);
    }
    let mut spare = Disk::new(
        "sde",
        "WDC WD40EFPX-68C6CN0",
        "WD-WX12D34E5678",
        Some("50014ee2d1e2f3a4"),
        4_000_787_030_016,
        Some(5400),
    );
    spare.settings.insert("description".into(), json!("Spare, not in a pool"));
    spare.temperature = Some(31);
    spare.critical = Some(65);
    disks.push(spare);
    Disks { disks }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_follow_serial_and_lunid() {
        let disks = demo();
        assert_eq!(disks.disks[1].identifier, "{serial_lunid}5QGJ8K2B_50014ee2c0a1b2c3");
        assert_eq!(disks.disks[0].identifier, "{serial}S4EUNX0N812345K");
        let mut disks = disks;
        assert_eq!(disks.update("{serial_lunid}ZRT0AB34_5000c500d1a2b3c5", Map::new()), Ok(4));
        assert_eq!(disks.update("sda", Map::new()), Err(disk_not_found("sda")), "by identifier only");
    }

    #[test]
    fn pools_and_passwords_show_only_when_asked() {
        let mut disks = demo();
        let id = disks.disks[1].identifier.clone();
        disks.update(&id, json!({"passwd": "s3cret", "description": "bay 1"}).as_object().unwrap().clone()).unwrap();
        let plain = disks.entries(false, false);
        assert_eq!(plain[1]["pool"], Value::Null);
        assert_eq!(plain[1]["passwd"], "");
        assert_eq!(plain[1]["description"], "bay 1");
        let full = disks.entries(true, true);
        assert_eq!(full[1]["pool"], "tank");
        assert_eq!(full[1]["passwd"], "s3cret");
        assert_eq!(full[5]["pool"], Value::Null, "the spare is in no pool");
    }

    #[test]
    fn only_a_disk_outside_pools_may_be_wiped() {
        let disks = demo();
        assert_eq!(disks.check_wipe("/dev/sde"), Ok(()));
        let busy = disks.check_wipe("sda").unwrap_err();
        assert_eq!(busy.reason(), "[Errno 16] Device or resource busy: '/dev/sda'");
        let missing = disks.check_wipe("sdz").unwrap_err();
        assert_eq!(missing.reason(), "[Errno 2] No such file or directory: '/dev/sdz'");
    }

    #[test]
    fn temperatures_cover_every_disk_or_the_named_ones() {
        let disks = demo();
        assert_eq!(disks.temperatures(&["sda".into(), "sdz".into()], false), json!({"sda": 34, "sdz": null}));
        assert_eq!(disks.temperatures(&["sdd".into()], true), json!({"sdd": [38, 65]}));
        assert_eq!(disks.temperatures(&[], false).as_object().unwrap().len(), 6);
    }
}
