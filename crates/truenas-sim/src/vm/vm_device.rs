//! VM devices (`vm.device.*`): DISK, CDROM, NIC, DISPLAY, RAW, PCI, USB. Each belongs to one
//! VM, is created with TrueNAS's per-`dtype` defaults, gets a boot order, a MAC or display
//! ports when left out, and cannot be removed from a running guest.

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid, errno};
use crate::vm::{Device, Power, VmStore, random_mac};

/// First port handed out to display devices.
const FIRST_DISPLAY_PORT: i64 = 5900;

pub(crate) fn device_not_found(id: i64) -> Failure {
    Failure::not_found(format!("VMDevice {id} does not exist"))
}

impl VmStore {
    pub(crate) fn device(&self, id: i64) -> Result<&Device, Failure> {
        self.devices.get(&id).ok_or_else(|| device_not_found(id))
    }

    pub(crate) fn device_entries(&self) -> Vec<Value> {
        self.devices.values().map(Device::entry).collect()
    }

    /// Ports already taken by display devices (both the VNC/SPICE and the web port).
    fn used_ports(&self, except: Option<i64>) -> Vec<i64> {
        self.devices
            .values()
            .filter(|d| d.dtype() == "DISPLAY" && Some(d.id) != except)
            .flat_map(|d| ["port", "web_port"].map(|k| d.attributes.get(k).and_then(Value::as_i64)))
            .flatten()
            .collect()
    }

    /// `vm.port_wizard`: the next free display port and web port.
    pub(crate) fn port_wizard(&self) -> (i64, i64) {
        let used = self.used_ports(None);
        let mut free = (FIRST_DISPLAY_PORT..).filter(|p| !used.contains(p));
        let port = free.next().unwrap_or(FIRST_DISPLAY_PORT);
        let web = free.next().unwrap_or(port + 1);
        (port, web)
    }

    /// Stores a device as given; used for seeds and clones, which are already valid.
    pub(crate) fn insert_device(&mut self, vm: i64, order: i64, attributes: Map<String, Value>) -> i64 {
        let id = self.next_device;
        self.next_device += 1;
        self.devices.insert(id, Device { id, vm, order, attributes });
        id
    }

    /// `vm.device.create`, with the schema's defaults already filled into `data`.
    pub(crate) fn create_device(&mut self, data: Map<String, Value>) -> Result<i64, Failure> {
        let vm = data.get("vm").and_then(Value::as_i64).unwrap_or_default();
        let mut attributes = data.get("attributes").and_then(Value::as_object).cloned().unwrap_or_default();
        let mut problems = Vec::new();
        if !self.vms.contains_key(&vm) {
            problems.push(invalid("vm_device_create.vm", format!("VM {vm} does not exist")));
        }
        problems.extend(self.complete_attributes("vm_device_create", &mut attributes, None));
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        let order = match data.get("order").and_then(Value::as_i64) {
            Some(order) => order,
            None => self.next_order(vm, attributes.get("dtype").and_then(Value::as_str).unwrap_or_default()),
        };
        Ok(self.insert_device(vm, order, attributes))
    }

    /// `vm.device.update`: attributes merge into the stored ones; the type cannot change.
    pub(crate) fn update_device(&mut self, id: i64, changes: Map<String, Value>) -> Result<(), Failure> {
        let current = self.device(id)?.clone();
        let mut attributes = current.attributes.clone();
        let mut problems = Vec::new();
        if let Some(new) = changes.get("attributes").and_then(Value::as_object) {
            if new.get("dtype").is_some_and(|t| t.as_str() != Some(current.dtype())) {
                problems.push(invalid("vm_device_update.attributes.dtype", "Device type cannot be changed".into()));
            }
            attributes.extend(new.clone());
        }
        let vm = changes.get("vm").and_then(Value::as_i64).unwrap_or(current.vm);
        if !self.vms.contains_key(&vm) {
            problems.push(invalid("vm_device_update.vm", format!("VM {vm} does not exist")));
        }
        problems.extend(self.complete_attributes("vm_device_update", &mut attributes, Some(id)));
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        let order = changes.get("order").and_then(Value::as_i64).unwrap_or(current.order);
        self.devices.insert(id, Device { id, vm, order, attributes });
        Ok(())
    }

    /// `vm.device.delete`.
    pub(crate) fn delete_device(&mut self, id: i64) -> Result<(), Failure> {
        let device = self.device(id)?;
        if self.vms.get(&device.vm).is_some_and(|vm| vm.power != Power::Stopped) {
            return Err(Failure::fault("Please stop/resume associated VM before deleting VM device."));
        }
        self.devices.remove(&id);
        Ok(())
    }

    /// The display devices of a VM (`vm.get_display_devices`).
    pub(crate) fn display_devices(&self, vm: i64) -> Result<Vec<&Device>, Failure> {
        self.vm(vm)?;
        Ok(self.devices.values().filter(|d| d.vm == vm && d.dtype() == "DISPLAY").collect())
    }

    /// CD-ROMs boot first; every other device goes after the VM's last one.
    fn next_order(&self, vm: i64, dtype: &str) -> i64 {
        if dtype == "CDROM" {
            return 1000;
        }
        self.devices.values().filter(|d| d.vm == vm).map(|d| d.order).max().unwrap_or(1000).max(1000) + 1
    }

    /// Fills what TrueNAS derives (zvol path, MAC, display ports) and reports what is missing.
    fn complete_attributes(&self, schema: &str, attributes: &mut Map<String, Value>, id: Option<i64>) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let missing = |attributes: &Map<String, Value>, key: &str| attributes.get(key).is_none_or(Value::is_null);
        match attributes.get("dtype").and_then(Value::as_str).unwrap_or_default() {
            "DISK" => {
                if attributes.get("create_zvol").and_then(Value::as_bool).unwrap_or(false) {
                    for key in ["zvol_name", "zvol_volsize"] {
                        if missing(attributes, key) {
                            problems.push(invalid(
                                &format!("{schema}.attributes.{key}"),
                                "This field is required when creating a zvol".into(),
                            ));
                        }
                    }
                    if let Some(name) = attributes.get("zvol_name").and_then(Value::as_str) {
                        let path = format!("/dev/zvol/{name}");
                        attributes.insert("path".into(), json!(path));
                    }
                } else if missing(attributes, "path") {
                    problems.push(invalid(&format!("{schema}.attributes.path"), "Disk path is required".into()));
                }
            }
            "NIC" if missing(attributes, "mac") => {
                attributes.insert("mac".into(), json!(random_mac()));
            }
            "DISPLAY" => {
                let used = self.used_ports(id);
                for key in ["port", "web_port"] {
                    if let Some(port) = attributes.get(key).and_then(Value::as_i64)
                        && used.contains(&port)
                    {
                        problems.push(invalid(
                            &format!("{schema}.attributes.{key}"),
                            "Specified display port is already in use".into(),
                        ));
                    }
                }
                let (port, web) = self.port_wizard();
                if missing(attributes, "port") {
                    attributes.insert("port".into(), json!(port));
                }
                if missing(attributes, "web_port") {
                    attributes.insert("web_port".into(), json!(web));
                }
            }
            _ => {}
        }
        problems
    }
}

fn invalid(attribute: &str, message: String) -> Invalid {
    Invalid { attribute: Some(attribute.to_string()), message, errno: errno::EINVAL }
}

#[cfg(test)]
#[path = "vm_device_tests.rs"]
mod tests;
