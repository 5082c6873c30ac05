//! System services (`service.*`): which daemons run and which start at boot. `service.control`
//! starts, stops, restarts or reloads one by name; a reboot brings each back to its boot setting.

use serde_json::{Value, json};

use crate::failure::{Failure, errno};

/// The services TrueNAS 25.10 lists, with their boot setting and whether they run.
const SEED: [(&str, bool, bool); 8] = [
    ("cifs", true, true),
    ("ftp", false, false),
    ("iscsitarget", false, false),
    ("nfs", true, true),
    ("nvmet", false, false),
    ("snmp", false, false),
    ("ssh", true, true),
    ("ups", false, false),
];

/// A verb of `service.control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verb {
    Start,
    Stop,
    Restart,
    Reload,
}

impl Verb {
    pub(crate) fn parse(text: &str) -> Option<Verb> {
        Some(match text {
            "START" => Verb::Start,
            "STOP" => Verb::Stop,
            "RESTART" => Verb::Restart,
            "RELOAD" => Verb::Reload,
            _ => return None,
        })
    }
}

/// One service.
#[derive(Debug, Clone)]
pub(crate) struct Service {
    pub(crate) id: i64,
    pub(crate) name: &'static str,
    /// Starts at boot.
    pub(crate) enable: bool,
    /// Process ids while it runs; empty when stopped.
    pids: Vec<i64>,
}

impl Service {
    pub(crate) fn running(&self) -> bool {
        !self.pids.is_empty()
    }

    pub(crate) fn entry(&self) -> Value {
        let state = if self.running() { "RUNNING" } else { "STOPPED" };
        json!({"id": self.id, "service": self.name, "enable": self.enable, "state": state, "pids": self.pids})
    }
}

/// Every service of the simulated NAS.
#[derive(Debug)]
pub(crate) struct ServiceStore {
    services: Vec<Service>,
    next_pid: i64,
}

pub(crate) fn service_not_found(id: i64) -> Failure {
    Failure::not_found(format!("Service {id} does not exist"))
}

fn unknown_service(name: &str) -> Failure {
    Failure::call(errno::ENOENT, format!("Service {name} not found."))
}

impl ServiceStore {
    pub(crate) fn demo() -> ServiceStore {
        let mut store = ServiceStore { services: Vec::new(), next_pid: 1201 };
        for (i, (name, enable, running)) in SEED.into_iter().enumerate() {
            let id = i64::try_from(i).unwrap_or_default() + 1;
            let mut service = Service { id, name, enable, pids: Vec::new() };
            if running {
                service.pids = store.spawn(name);
            }
            store.services.push(service);
        }
        store
    }

    /// New process ids for a starting daemon (SMB runs three processes).
    fn spawn(&mut self, name: &str) -> Vec<i64> {
        let count = if name == "cifs" { 3 } else { 1 };
        let first = self.next_pid;
        self.next_pid += count + 17;
        (first..first + count).collect()
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.services.iter().map(Service::entry).collect()
    }

    pub(crate) fn get(&self, id: i64) -> Result<&Service, Failure> {
        self.services.iter().find(|s| s.id == id).ok_or_else(|| service_not_found(id))
    }

    pub(crate) fn named(&self, name: &str) -> Result<&Service, Failure> {
        self.services.iter().find(|s| s.name == name).ok_or_else(|| unknown_service(name))
    }

    fn position(&self, name: &str) -> Result<usize, Failure> {
        self.services.iter().position(|s| s.name == name).ok_or_else(|| unknown_service(name))
    }

    /// `service.update`: by id or by name; returns the id.
    pub(crate) fn set_enable(&mut self, id_or_name: &Value, enable: bool) -> Result<i64, Failure> {
        let index = match id_or_name {
            Value::String(name) => match name.parse::<i64>() {
                Ok(id) => self.services.iter().position(|s| s.id == id).ok_or_else(|| service_not_found(id))?,
                Err(_) => self.position(name)?,
            },
            other => {
                let id = other.as_i64().unwrap_or(-1);
                self.services.iter().position(|s| s.id == id).ok_or_else(|| service_not_found(id))?
            }
        };
        let service = self.services.get_mut(index).ok_or_else(|| unknown_service("?"))?;
        service.enable = enable;
        Ok(service.id)
    }

    /// Checks that `name` is a service before a control job starts.
    pub(crate) fn require(&self, name: &str) -> Result<(), Failure> {
        self.position(name).map(|_| ())
    }

    /// `service.control`: applies `verb`; the result is whether the service runs afterwards, or
    /// for `STOP` whether it stopped.
    pub(crate) fn control(&mut self, verb: Verb, name: &str) -> Result<bool, Failure> {
        let index = self.position(name)?;
        let running = self.services.get(index).is_some_and(Service::running);
        let pids = match verb {
            Verb::Stop => Vec::new(),
            Verb::Start | Verb::Reload if running => return Ok(true),
            Verb::Start | Verb::Restart | Verb::Reload => self.spawn(name),
        };
        let service = self.services.get_mut(index).ok_or_else(|| unknown_service(name))?;
        service.pids = pids;
        Ok(if verb == Verb::Stop { !service.running() } else { service.running() })
    }

    /// After a reboot each service runs exactly when it is enabled.
    pub(crate) fn boot(&mut self) {
        for i in 0..self.services.len() {
            let Some(service) = self.services.get(i) else { continue };
            let (name, enable) = (service.name, service.enable);
            let pids = if enable { self.spawn(name) } else { Vec::new() };
            if let Some(service) = self.services.get_mut(i) {
                service.pids = pids;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_starts_stops_and_reports_like_the_middleware() {
        let mut s = ServiceStore::demo();
        assert!(!s.named("ftp").unwrap().running());
        assert!(s.control(Verb::Start, "ftp").unwrap());
        assert_eq!(s.named("ftp").unwrap().entry()["state"], "RUNNING");
        let pids = s.named("ftp").unwrap().entry()["pids"].clone();
        assert!(s.control(Verb::Reload, "ftp").unwrap());
        assert_eq!(s.named("ftp").unwrap().entry()["pids"], pids, "reloading keeps the process");
        assert!(s.control(Verb::Restart, "ftp").unwrap());
        assert_ne!(s.named("ftp").unwrap().entry()["pids"], pids, "restarting makes a new process");
        assert!(s.control(Verb::Stop, "ftp").unwrap(), "STOP reports that the service stopped");
        assert_eq!(s.named("ftp").unwrap().entry()["state"], "STOPPED");
        let err = s.control(Verb::Start, "smb").unwrap_err();
        assert_eq!(err.reason(), "[ENOENT] Service smb not found.");
    }

    #[test]
    fn update_takes_ids_and_names_and_a_reboot_follows_the_boot_setting() {
        let mut s = ServiceStore::demo();
        assert_eq!(s.set_enable(&json!("ftp"), true).unwrap(), 2);
        assert_eq!(s.set_enable(&json!(7), false).unwrap(), 7);
        assert_eq!(s.set_enable(&json!("7"), false).unwrap(), 7);
        assert_eq!(s.set_enable(&json!(99), true).unwrap_err(), service_not_found(99));
        s.boot();
        assert!(s.named("ftp").unwrap().running());
        assert!(!s.named("ssh").unwrap().running());
        assert!(s.named("cifs").unwrap().running());
        assert_eq!(s.named("cifs").unwrap().entry()["pids"].as_array().unwrap().len(), 3);
    }
}
