//! The simulated host: hardware facts for `system.info` and the memory model that decides
//! whether a VM may start (`vm.get_available_memory`, `vm.start` overcommit).
//!
//! The model follows the middleware: 90 % of the memory nobody uses is free for guests;
//! every running guest holds its whole allocation; with `overcommit` the shrinkable part of
//! the ZFS ARC (current size minus its minimum) counts as free too, and starting a guest that
//! needs it shrinks the ARC.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use truenas_api::schema::Release;

const GIB: u64 = 1024 * 1024 * 1024;

/// Hardware and memory of the simulated machine.
#[derive(Debug, Clone)]
pub(crate) struct Host {
    pub(crate) hostname: String,
    pub(crate) physmem: u64,
    /// Memory held by the OS and services, outside guests and the ARC.
    system_used: u64,
    arc: u64,
    arc_min: u64,
    pub(crate) cores: u64,
    booted_at: SystemTime,
}

impl Host {
    /// A 32 GiB, 6-core home server that has been up for a few days.
    pub(crate) fn demo() -> Host {
        let uptime = Duration::from_secs(3 * 86_400 + 4 * 3_600 + 17 * 60);
        Host {
            hostname: "truenas".to_string(),
            physmem: 32 * GIB,
            system_used: 4 * GIB,
            arc: 10 * GIB,
            arc_min: 2 * GIB,
            cores: 12,
            booted_at: SystemTime::now().checked_sub(uptime).unwrap_or(UNIX_EPOCH),
        }
    }

    /// Bytes a new guest may take, given the bytes running guests hold.
    pub(crate) fn available(&self, overcommit: bool, guests: u64) -> u64 {
        let unused = self.physmem.saturating_sub(self.system_used + self.arc + guests);
        let free = unused / 10 * 9;
        if overcommit { free + self.arc.saturating_sub(self.arc_min) } else { free }
    }

    /// Gives `bytes` of the ARC back to guests, never below its minimum.
    pub(crate) fn shrink_arc(&mut self, bytes: u64) {
        self.arc = self.arc.saturating_sub(bytes).max(self.arc_min);
    }

    fn uptime(&self) -> Duration {
        SystemTime::now().duration_since(self.booted_at).unwrap_or_default()
    }

    /// The `system.info` result.
    pub(crate) fn system_info(&self, release: Release) -> Value {
        let date =
            |t: SystemTime| json!({"$date": t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)});
        let uptime = self.uptime();
        let secs = uptime.as_secs();
        let (days, hours, minutes, seconds) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60, secs % 60);
        json!({
            "version": release.system_version(),
            "buildtime": date(self.booted_at.checked_sub(Duration::from_secs(40 * 86_400)).unwrap_or(UNIX_EPOCH)),
            "hostname": self.hostname,
            "physmem": self.physmem,
            "model": "AMD Ryzen 5 5600G with Radeon Graphics",
            "cores": self.cores,
            "physical_cores": self.cores / 2,
            "loadavg": [0.42, 0.37, 0.31],
            "uptime": format!("{days} days, {hours}:{minutes:02}:{seconds:02}.{:06}", uptime.subsec_micros()),
            "uptime_seconds": uptime.as_secs_f64(),
            "system_serial": "To Be Filled By O.E.M.",
            "system_product": "B550M Pro4",
            "system_product_version": "To Be Filled By O.E.M.",
            "license": null,
            "boottime": date(self.booted_at),
            "datetime": date(SystemTime::now()),
            "timezone": "Etc/UTC",
            "system_manufacturer": "ASRock",
            "ecc_memory": true,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overcommit_counts_the_shrinkable_arc() {
        let mut host = Host::demo();
        let guests = 6 * GIB;
        let plain = host.available(false, guests);
        let over = host.available(true, guests);
        assert!(plain < 16 * GIB && plain > 10 * GIB, "{plain}");
        assert_eq!(over - plain, 8 * GIB);
        host.shrink_arc(100 * GIB);
        assert_eq!(host.available(true, guests), host.available(false, guests), "arc at its minimum");
    }

    #[test]
    fn system_info_has_every_schema_field() {
        let info = Host::demo().system_info(Release::V25_10);
        for key in [
            "version",
            "buildtime",
            "hostname",
            "physmem",
            "model",
            "cores",
            "physical_cores",
            "loadavg",
            "uptime",
            "uptime_seconds",
            "system_serial",
            "system_product",
            "system_product_version",
            "license",
            "boottime",
            "datetime",
            "timezone",
            "system_manufacturer",
            "ecc_memory",
        ] {
            assert!(info.get(key).is_some(), "{key}");
        }
        assert_eq!(info["version"], "TrueNAS-25.10.5");
    }
}
