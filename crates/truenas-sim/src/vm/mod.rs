//! The VM domain: virtual machines and their devices (`vm.*`, `vm.device.*`).
//!
//! State: this file's type and `vm_device` (devices), `vm_seed` (the demo guests).
//! Methods (`*_methods.rs`, registered in `crate::methods`): `vm_methods` (`vm.*`),
//! `vm_device_methods` (`vm.device.*`).
//!
//! Virtual machines: their stored configuration, power state and the transitions TrueNAS
//! allows (create, update, clone, delete, start with the memory check, stop, power off).
//! Devices live in `vm_device.rs`; both share [`VmStore`].

pub(crate) mod vm_device;
pub(crate) mod vm_device_methods;
pub(crate) mod vm_methods;
pub(crate) mod vm_seed;

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::system::host::Host;

const MIB: u64 = 1024 * 1024;

/// The most vCPUs (`vcpus * cores * threads`) a guest may have on this host.
pub(crate) const MAXIMUM_SUPPORTED_VCPUS: i64 = 255;

/// Stored fields of a VM, in the order `vm.query` returns them.
const FIELDS: [&str; 28] = [
    "command_line_args",
    "cpu_mode",
    "cpu_model",
    "name",
    "description",
    "vcpus",
    "cores",
    "threads",
    "cpuset",
    "nodeset",
    "enable_cpu_topology_extension",
    "pin_vcpus",
    "suspend_on_snapshot",
    "trusted_platform_module",
    "memory",
    "min_memory",
    "hyperv_enlightenments",
    "bootloader",
    "bootloader_ovmf",
    "autostart",
    "hide_from_msr",
    "ensure_display_device",
    "time",
    "shutdown_timeout",
    "arch_type",
    "machine_type",
    "uuid",
    "enable_secure_boot",
];

/// Whether a guest runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Power {
    Stopped,
    Running { pid: i64 },
}

/// One VM.
#[derive(Debug, Clone)]
pub(crate) struct Vm {
    pub(crate) id: i64,
    pub(crate) config: Map<String, Value>,
    pub(crate) power: Power,
}

impl Vm {
    pub(crate) fn name(&self) -> &str {
        self.config.get("name").and_then(Value::as_str).unwrap_or_default()
    }

    fn memory_bytes(&self) -> u64 {
        self.config.get("memory").and_then(Value::as_u64).unwrap_or(0) * MIB
    }

    /// What the guest asks the host for: `min_memory` when ballooning, else `memory`.
    fn requested_bytes(&self) -> u64 {
        self.config.get("min_memory").and_then(Value::as_u64).map(|m| m * MIB).unwrap_or_else(|| self.memory_bytes())
    }

    /// The libvirt domain name, as middleware errors spell it.
    fn domain(&self) -> String {
        format!("{}_{}", self.id, self.name())
    }

    pub(crate) fn status(&self) -> Value {
        match self.power {
            Power::Running { pid } => json!({"state": "RUNNING", "pid": pid, "domain_state": "RUNNING"}),
            Power::Stopped => json!({"state": "STOPPED", "pid": null, "domain_state": "SHUTOFF"}),
        }
    }
}

/// One VM device.
#[derive(Debug, Clone)]
pub(crate) struct Device {
    pub(crate) id: i64,
    pub(crate) vm: i64,
    pub(crate) order: i64,
    pub(crate) attributes: Map<String, Value>,
}

impl Device {
    pub(crate) fn dtype(&self) -> &str {
        self.attributes.get("dtype").and_then(Value::as_str).unwrap_or_default()
    }

    pub(crate) fn entry(&self) -> Value {
        json!({"id": self.id, "attributes": self.attributes, "vm": self.vm, "order": self.order})
    }
}

/// Every VM and device of the simulated NAS.
#[derive(Debug)]
pub(crate) struct VmStore {
    pub(crate) vms: BTreeMap<i64, Vm>,
    pub(crate) devices: BTreeMap<i64, Device>,
    next_vm: i64,
    pub(crate) next_device: i64,
    next_pid: i64,
}

impl Default for VmStore {
    fn default() -> Self {
        VmStore { vms: BTreeMap::new(), devices: BTreeMap::new(), next_vm: 1, next_device: 1, next_pid: 4711 }
    }
}

pub(crate) fn vm_not_found(id: i64) -> Failure {
    Failure::not_found(format!("VM {id} does not exist"))
}

impl VmStore {
    pub(crate) fn vm(&self, id: i64) -> Result<&Vm, Failure> {
        self.vms.get(&id).ok_or_else(|| vm_not_found(id))
    }

    fn vm_mut(&mut self, id: i64) -> Result<&mut Vm, Failure> {
        self.vms.get_mut(&id).ok_or_else(|| vm_not_found(id))
    }

    /// The `vm.query` entry of one VM.
    pub(crate) fn entry(&self, id: i64) -> Result<Value, Failure> {
        let vm = self.vm(id)?;
        let devices: Vec<&Device> = self.devices.values().filter(|d| d.vm == id).collect();
        let mut out = Map::new();
        for key in FIELDS.iter().filter(|k| **k != "enable_secure_boot") {
            out.insert(key.to_string(), vm.config.get(*key).cloned().unwrap_or(Value::Null));
        }
        out.insert("devices".into(), Value::Array(devices.iter().map(|d| d.entry()).collect()));
        out.insert("display_available".into(), json!(devices.iter().any(|d| d.dtype() == "DISPLAY")));
        out.insert("id".into(), json!(id));
        out.insert("status".into(), vm.status());
        out.insert("enable_secure_boot".into(), vm.config.get("enable_secure_boot").cloned().unwrap_or(json!(false)));
        Ok(Value::Object(out))
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.vms.keys().filter_map(|id| self.entry(*id).ok()).collect()
    }

    /// Bytes held by running guests.
    pub(crate) fn guest_bytes(&self) -> u64 {
        self.vms.values().filter(|vm| vm.power != Power::Stopped).map(Vm::memory_bytes).sum()
    }

    /// Problems with a VM configuration, named after `schema` (`vm_create`, `vm_update`).
    fn check(&self, schema: &str, config: &Map<String, Value>, existing: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let mut add = |field: &str, message: String, errno: i64| {
            problems.push(Invalid { attribute: Some(format!("{schema}.{field}")), message, errno });
        };
        let int = |key: &str| config.get(key).and_then(Value::as_i64);
        let text = |key: &str| config.get(key).and_then(Value::as_str);
        let name = text("name").unwrap_or_default();
        if self.vms.values().any(|vm| vm.name() == name && Some(vm.id) != existing) {
            add("name", "This name already exists.".into(), errno::EEXIST);
        } else if !Regex::new("^[a-zA-Z_0-9]+$").is_ok_and(|re| re.is_match(name)) {
            add("name", "Only alphanumeric characters are allowed.".into(), errno::EINVAL);
        }
        if let (Some(min), Some(max)) = (int("min_memory"), int("memory"))
            && min > max
        {
            add("min_memory", "Minimum memory should not be greater than defined/maximum memory".into(), errno::EINVAL);
        }
        let vcpus = int("vcpus").unwrap_or(1) * int("cores").unwrap_or(1) * int("threads").unwrap_or(1);
        if vcpus > MAXIMUM_SUPPORTED_VCPUS {
            add(
                "vcpus",
                format!(
                    "Maximum {MAXIMUM_SUPPORTED_VCPUS} vcpus are supported.Please ensure the product of \
                     \"{schema}.vcpus\", \"{schema}.cores\" and \"{schema}.threads\" is less than \
                     {MAXIMUM_SUPPORTED_VCPUS}."
                ),
                errno::EINVAL,
            );
        }
        if text("cpu_mode").is_some_and(|m| m != "CUSTOM") && text("cpu_model").is_some() {
            add(
                "cpu_model",
                "This attribute should not be specified when \"cpu_mode\" is not \"CUSTOM\".".into(),
                errno::EINVAL,
            );
        }
        if config.get("pin_vcpus").and_then(Value::as_bool).unwrap_or(false) && text("cpuset").is_none() {
            add("cpuset", format!("Must be specified when \"{schema}.pin_vcpus\" is set."), errno::EINVAL);
        }
        problems
    }

    /// `vm.create`, with the schema's defaults already filled into `config`.
    pub(crate) fn create(&mut self, mut config: Map<String, Value>) -> Result<i64, Failure> {
        let problems = self.check("vm_create", &config, None);
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        if config.get("uuid").is_none_or(Value::is_null) {
            config.insert("uuid".into(), json!(uuid::Uuid::new_v4().to_string()));
        }
        if config.get("bootloader_ovmf").is_none_or(Value::is_null) {
            config.insert("bootloader_ovmf".into(), json!("OVMF_CODE.fd"));
        }
        config.retain(|key, _| FIELDS.contains(&key.as_str()));
        let id = self.next_vm;
        self.next_vm += 1;
        self.vms.insert(id, Vm { id, config, power: Power::Stopped });
        Ok(id)
    }

    /// `vm.update`: merges `changes` into the stored configuration.
    pub(crate) fn update(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let vm = self.vm(id)?;
        let mut config = vm.config.clone();
        config.extend(changes.into_iter().filter(|(key, _)| FIELDS.contains(&key.as_str())));
        let renamed = config.get("name") != vm.config.get("name");
        if renamed && vm.power != Power::Stopped {
            return Err(Failure::fault("VM name can only be changed when VM is inactive"));
        }
        let problems = self.check("vm_update", &config, Some(id));
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        self.vm_mut(id)?.config = config;
        Ok(())
    }

    /// `vm.delete`: a running guest is powered off first; its devices go with it.
    pub(crate) fn delete(&mut self, id: i64) -> Result<(), Failure> {
        self.vm(id)?;
        self.vms.remove(&id);
        self.devices.retain(|_, d| d.vm != id);
        Ok(())
    }

    /// `vm.start`: refuses a running guest, and a guest the host cannot hold unless `overcommit`.
    pub(crate) fn start(&mut self, id: i64, overcommit: bool, host: &mut Host) -> Result<(), Failure> {
        let guests = self.guest_bytes();
        let vm = self.vm(id)?;
        if vm.power != Power::Stopped {
            return Err(Failure::fault(format!("{} is already running", vm.name())));
        }
        let requested = vm.requested_bytes();
        let available = host.available(false, guests);
        if requested > available {
            if !overcommit {
                return Err(Failure::call(errno::ENOMEM, format!("Cannot guarantee memory for guest {}", vm.name())));
            }
            host.shrink_arc(requested - available);
        }
        self.set_running(id)
    }

    /// Gives a guest a fresh process, as a (re)start does.
    pub(crate) fn set_running(&mut self, id: i64) -> Result<(), Failure> {
        let pid = self.next_pid;
        self.next_pid += 1;
        self.vm_mut(id)?.power = Power::Running { pid };
        Ok(())
    }

    /// What `vm.stop`, `vm.restart` and `vm.poweroff` check first.
    pub(crate) fn require_running(&self, id: i64) -> Result<(), Failure> {
        let vm = self.vm(id)?;
        match vm.power {
            Power::Running { .. } => Ok(()),
            Power::Stopped => Err(Failure::fault(format!("{} domain is not active", vm.domain()))),
        }
    }

    /// The guest is gone (stop finished or power off).
    pub(crate) fn set_stopped(&mut self, id: i64) {
        if let Some(vm) = self.vms.get_mut(&id) {
            vm.power = Power::Stopped;
        }
    }

    /// `vm.poweroff`.
    pub(crate) fn poweroff(&mut self, id: i64) -> Result<(), Failure> {
        self.require_running(id)?;
        self.set_stopped(id);
        Ok(())
    }

    /// The first free `<name>_clone<N>`.
    fn next_clone_name(&self, name: &str) -> String {
        (0..)
            .map(|i| format!("{name}_clone{i}"))
            .find(|candidate| !self.vms.values().any(|vm| vm.name() == candidate))
            .unwrap_or_else(|| format!("{name}_clone"))
    }

    /// `vm.clone`: a stopped copy with new identity, devices copied with fresh MACs, display
    /// ports and zvol clones. Returns the new id.
    pub(crate) fn clone_vm(&mut self, id: i64, name: Option<&str>) -> Result<i64, Failure> {
        let source = self.vm(id)?;
        let name = name.map(str::to_string).unwrap_or_else(|| self.next_clone_name(source.name()));
        let mut config = source.config.clone();
        config.insert("name".into(), json!(name));
        config.insert("uuid".into(), Value::Null);
        let devices: Vec<Device> = self.devices.values().filter(|d| d.vm == id).cloned().collect();
        let new_id = self.create(config)?;
        for device in devices {
            let mut attributes = device.attributes.clone();
            match device.dtype() {
                "NIC" => {
                    attributes.insert("mac".into(), json!(random_mac()));
                }
                "DISPLAY" => {
                    let (port, web) = self.port_wizard();
                    attributes.insert("port".into(), json!(port));
                    attributes.insert("web_port".into(), json!(web));
                }
                "DISK" => {
                    if let Some(path) = attributes.get("path").and_then(Value::as_str)
                        && path.starts_with("/dev/zvol/")
                    {
                        let cloned = format!("{path}_{name}");
                        attributes.insert("path".into(), json!(cloned));
                    }
                }
                _ => {}
            }
            self.insert_device(new_id, device.order, attributes);
        }
        Ok(new_id)
    }
}

/// A MAC in the range TrueNAS gives guests (`00:a0:98:xx:xx:xx`).
pub(crate) fn random_mac() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    format!("00:a0:98:{:02x}:{:02x}:{:02x}", bytes[0], bytes[1], bytes[2])
}

#[cfg(test)]
#[path = "vm_tests.rs"]
mod tests;
