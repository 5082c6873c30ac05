//! The VMs a fresh simulated NAS has: a running Ubuntu server, a stopped 16 GiB Windows 11
//! desktop that only starts with `overcommit` (the other guests and the ARC hold too much of the
//! 32 GiB host), and a running Home Assistant OS appliance. Built through the same create paths
//! and schema defaults as API calls, so they look exactly like created ones.

use serde_json::{Value, json};

use crate::json::object;

use crate::defaults;
use crate::vm::VmStore;
use truenas_api::schema::Release;

struct SeedVm {
    config: Value,
    running: bool,
    /// `(order, attributes)` per device.
    devices: Vec<(i64, Value)>,
}

fn seeds() -> Vec<SeedVm> {
    vec![
        SeedVm {
            config: json!({
                "name": "ubuntu_server",
                "description": "Ubuntu 24.04 LTS: reverse proxy and monitoring",
                "vcpus": 1, "cores": 2, "threads": 1,
                "memory": 4096,
                "cpu_mode": "HOST-PASSTHROUGH",
                "autostart": true,
                "uuid": "6f1c1e1a-4a1b-4c55-9a57-2f6a1f0e5b01",
            }),
            running: true,
            devices: vec![
                (1000, json!({"dtype": "CDROM", "path": "/mnt/tank/isos/ubuntu-24.04.2-live-server-amd64.iso"})),
                (1001, json!({"dtype": "DISK", "path": "/dev/zvol/tank/vms/ubuntu_server-disk0", "type": "VIRTIO"})),
                (1002, json!({"dtype": "NIC", "type": "VIRTIO", "nic_attach": "br0", "mac": "00:a0:98:3b:12:01"})),
                (1003, json!({"dtype": "DISPLAY", "port": 5900, "web_port": 5901, "bind": "0.0.0.0"})),
            ],
        },
        SeedVm {
            config: json!({
                "name": "windows11",
                "description": "Windows 11 Pro workstation",
                "vcpus": 1, "cores": 4, "threads": 2,
                "memory": 16384,
                "cpu_mode": "HOST-PASSTHROUGH",
                "hyperv_enlightenments": true,
                "trusted_platform_module": true,
                "enable_secure_boot": true,
                "bootloader_ovmf": "OVMF_CODE_4M.secboot.fd",
                "arch_type": "x86_64",
                "machine_type": "pc-q35-6.2",
                "autostart": false,
                "time": "LOCAL",
                "uuid": "0b7e4b52-8f7c-4d1e-b5a4-9c3e2d1f7a02",
            }),
            running: false,
            devices: vec![
                (1000, json!({"dtype": "CDROM", "path": "/mnt/tank/isos/Win11_24H2_English_x64.iso"})),
                (1001, json!({"dtype": "DISK", "path": "/dev/zvol/tank/vms/windows11-disk0", "type": "AHCI"})),
                (1002, json!({"dtype": "NIC", "type": "E1000", "nic_attach": "br0", "mac": "00:a0:98:5d:7e:02"})),
                (1003, json!({"dtype": "DISPLAY", "port": 5902, "web_port": 5903, "resolution": "1920x1080"})),
            ],
        },
        SeedVm {
            config: json!({
                "name": "homeassistant",
                "description": "Home Assistant OS 15.2",
                "vcpus": 2, "cores": 1, "threads": 1,
                "memory": 2048,
                "autostart": true,
                "time": "UTC",
                "uuid": "9d2f5a63-1c0b-4e8f-8b21-5e4d3c2b1a03",
            }),
            running: true,
            devices: vec![
                (1001, json!({"dtype": "DISK", "path": "/dev/zvol/tank/vms/haos-disk0", "type": "VIRTIO"})),
                (1002, json!({"dtype": "NIC", "type": "VIRTIO", "nic_attach": "br0", "mac": "00:a0:98:1a:c4:03"})),
                (1003, json!({"dtype": "DISPLAY", "type": "VNC", "port": 5904, "web_port": 5905})),
            ],
        },
    ]
}

/// Fills `store` with the seed VMs (ids 1, 2, 3).
pub(crate) fn seed(store: &mut VmStore, release: Release) {
    for seed in seeds() {
        let mut config = seed.config;
        defaults::apply(release, "vm.create", 0, &mut config);
        let Ok(id) = store.create(object(config)) else {
            tracing::error!("a seed VM of the simulated NAS was refused");
            continue;
        };
        for (order, mut attributes) in seed.devices {
            if release < Release::V25_10 {
                // Displays were SPICE only before 25.10 added VNC.
                if let Some(a) = attributes.as_object_mut().filter(|a| a["dtype"] == "DISPLAY") {
                    a.shift_remove("type");
                }
            }
            let mut device = json!({"attributes": attributes, "vm": id, "order": order});
            defaults::apply(release, "vm.device.create", 0, &mut device);
            let attributes = device.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default();
            store.insert_device(id, order, attributes);
        }
        if seed.running {
            let _ = store.set_running(id);
        }
    }
}
