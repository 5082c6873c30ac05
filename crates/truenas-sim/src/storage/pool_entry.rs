//! The `pool.query` entry of a pool: health, space, the last scan and the vdev tree with each
//! member's partition, as `pool.pool_extend` shapes them.

use serde_json::{Map, Value, json};

use crate::storage::pool::{Pool, ScanState};
use crate::storage::pool_topology::{Class, Disk, Layout, Member, Vdev};
use crate::storage::space::Space;
use crate::storage::zfs::date;
use truenas_api::schema::Release;

/// Every `pool.query` entry, by id.
pub(crate) fn entries(space: &Space<'_>, release: Release) -> Vec<Value> {
    space.pools.iter().map(|p| entry(space, p, release)).collect()
}

/// The `pool.query` entry of `pool`.
pub(crate) fn entry(space: &Space<'_>, pool: &Pool, release: Release) -> Value {
    let size = space.pools.size(pool);
    let allocated = space.pool_allocated(pool).min(size);
    let free = size - allocated;
    let autotrim = if pool.autotrim { "on" } else { "off" };
    let source = if pool.autotrim { "LOCAL" } else { "DEFAULT" };
    let mut topology = Map::new();
    for class in [Class::Data, Class::Log, Class::Cache, Class::Spare, Class::Special, Class::Dedup] {
        let vdevs: Vec<Value> = pool
            .vdevs()
            .filter(|(c, _)| *c == class)
            .enumerate()
            .map(|(i, (_, v))| vdev_entry(space.pools.disks(), v, i))
            .collect();
        topology.insert(class.entry_key().to_string(), Value::Array(vdevs));
    }
    let mut entry = json!({
        "id": pool.id,
        "name": pool.name,
        "guid": pool.guid,
        "status": "ONLINE",
        "path": format!("/mnt/{}", pool.name),
        "scan": scan_entry(pool, allocated),
        "expand": null,
        "healthy": true,
        "warning": false,
        "status_code": "OK",
        "status_detail": null,
        "size": size,
        "allocated": allocated,
        "free": free,
        "freeing": 0,
        "dedup_table_size": 0,
        "dedup_table_quota": "auto",
        "fragmentation": (allocated * 100 / size.max(1) / 8).to_string(),
        "size_str": size.to_string(),
        "allocated_str": allocated.to_string(),
        "free_str": free.to_string(),
        "freeing_str": "0",
        "autotrim": {"parsed": autotrim, "rawvalue": autotrim, "source": source, "value": autotrim},
        "topology": topology,
    });
    if release >= Release::V26_0 {
        entry["all_sed"] = json!(false);
    }
    entry
}

fn scan_entry(pool: &Pool, allocated: u64) -> Value {
    let Some(scan) = &pool.scan else { return Value::Null };
    let processed = (allocated as f64 * scan.percentage / 100.0) as u64;
    let state = match scan.state {
        ScanState::Scanning => "SCANNING",
        ScanState::Finished => "FINISHED",
        ScanState::Canceled => "CANCELED",
    };
    let left = (scan.state == ScanState::Scanning).then_some(((100.0 - scan.percentage) * 36.0) as u64);
    json!({
        "function": scan.function,
        "state": state,
        "start_time": date(scan.start),
        "end_time": scan.end.map(date),
        "percentage": scan.percentage,
        "bytes_to_process": allocated,
        "bytes_processed": processed,
        "bytes_issued": processed,
        "pause": scan.pause.map(date),
        "errors": scan.errors,
        "total_secs_left": left,
    })
}

fn vdev_entry(disks: &[Disk], vdev: &Vdev, index: usize) -> Value {
    let size = vdev.capacity(disks);
    if vdev.layout == Layout::Disk
        && let Some(member) = vdev.members.first()
    {
        return member_entry(member, &vdev.guid, size);
    }
    let name = match vdev.layout {
        Layout::Mirror => format!("mirror-{index}"),
        Layout::Raidz(p) => format!("raidz{p}-{index}"),
        Layout::Draid(p) => format!(
            "draid{p}:{}d:{}c:0s-{index}",
            vdev.members.len().saturating_sub(usize::from(p)),
            vdev.members.len()
        ),
        Layout::Disk => format!("disk-{index}"),
    };
    let children: Vec<Value> = vdev
        .members
        .iter()
        .map(|m| {
            let disk = disks.iter().find(|d| d.name == m.disk).map_or(0, |d| d.size);
            member_entry(m, &m.guid, disk)
        })
        .collect();
    json!({
        "name": name,
        "type": vdev.layout.entry_type(),
        "path": null,
        "guid": vdev.guid,
        "status": "ONLINE",
        "stats": stats(size),
        "children": children,
        "unavail_disk": null,
    })
}

fn member_entry(member: &Member, guid: &str, size: u64) -> Value {
    json!({
        "name": member.partuuid,
        "type": "DISK",
        "path": format!("/dev/disk/by-partuuid/{}", member.partuuid),
        "guid": guid,
        "status": "ONLINE",
        "stats": stats(size),
        "children": [],
        "device": format!("{}1", member.disk),
        "disk": member.disk,
        "unavail_disk": null,
    })
}

fn stats(size: u64) -> Value {
    json!({
        "timestamp": 0,
        "read_errors": 0,
        "write_errors": 0,
        "checksum_errors": 0,
        "ops": [0, 0, 0, 0, 0, 0, 0],
        "bytes": [0, 0, 0, 0, 0, 0, 0],
        "size": size,
        "allocated": 0,
        "fragmentation": 0,
        "self_healed": 0,
        "configured_ashift": 12,
        "logical_ashift": 9,
        "physical_ashift": 12,
    })
}
