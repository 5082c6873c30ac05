//! Network interfaces: the saved configuration `interface.query` lists, the configuration the
//! NICs run, and TrueNAS's staging cycle. Create, update and delete only edit the saved
//! configuration (a snapshot of the last confirmed one is kept); `interface.commit` applies it,
//! and with a check-in timeout it is reverted unless `interface.checkin` confirms it in time;
//! `interface.rollback` restores the snapshot. Validation lives in `interface_checks.rs`, the
//! `interface.query` entries in `interface_entry.rs`.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use crate::failure::{Failure, Invalid, errno};
use crate::network::interface_checks::{check, parse_aliases};

/// What kind of interface it is, as `type` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Physical,
    Bridge,
    Lag,
    Vlan,
}

impl Kind {
    pub(crate) fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "PHYSICAL" => Kind::Physical,
            "BRIDGE" => Kind::Bridge,
            "LINK_AGGREGATION" => Kind::Lag,
            "VLAN" => Kind::Vlan,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Physical => "PHYSICAL",
            Kind::Bridge => "BRIDGE",
            Kind::Lag => "LINK_AGGREGATION",
            Kind::Vlan => "VLAN",
        }
    }

    /// The name prefix TrueNAS requires for a virtual interface.
    pub(crate) fn prefix(self) -> &'static str {
        match self {
            Kind::Physical => "",
            Kind::Bridge => "br",
            Kind::Lag => "bond",
            Kind::Vlan => "vlan",
        }
    }
}

/// A static address of an interface.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Alias {
    pub(crate) address: IpAddr,
    pub(crate) netmask: u8,
}

/// The saved configuration of one interface.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Iface {
    pub(crate) name: String,
    pub(crate) kind: Kind,
    pub(crate) description: String,
    pub(crate) ipv4_dhcp: bool,
    pub(crate) ipv6_auto: bool,
    pub(crate) aliases: Vec<Alias>,
    pub(crate) mtu: Option<i64>,
    pub(crate) bridge_members: Vec<String>,
    pub(crate) stp: bool,
    pub(crate) enable_learning: bool,
    pub(crate) lag_protocol: Option<String>,
    pub(crate) lag_ports: Vec<String>,
    pub(crate) xmit_hash_policy: Option<String>,
    pub(crate) lacpdu_rate: Option<String>,
    pub(crate) vlan_parent: Option<String>,
    pub(crate) vlan_tag: Option<i64>,
    pub(crate) vlan_pcp: Option<i64>,
}

impl Iface {
    /// An interface with TrueNAS's defaults (no address, no DHCP).
    pub(crate) fn new(name: &str, kind: Kind) -> Iface {
        Iface {
            name: name.to_string(),
            kind,
            description: String::new(),
            ipv4_dhcp: false,
            ipv6_auto: false,
            aliases: Vec::new(),
            mtu: None,
            bridge_members: Vec::new(),
            stp: true,
            enable_learning: true,
            lag_protocol: None,
            lag_ports: Vec::new(),
            xmit_hash_policy: None,
            lacpdu_rate: None,
            vlan_parent: None,
            vlan_tag: None,
            vlan_pcp: None,
        }
    }

    /// Merges the fields of a create or update call; fields of other kinds are ignored, as
    /// the middleware stores only what the kind uses. Bad aliases are reported in `problems`.
    pub(crate) fn apply(&mut self, schema: &str, data: &Map<String, Value>, problems: &mut Vec<Invalid>) {
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
        let flag = |key: &str| data.get(key).and_then(Value::as_bool);
        let list = |key: &str| {
            data.get(key)
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
        };
        if let Some(d) = text("description") {
            self.description = d;
        }
        if let Some(v) = flag("ipv4_dhcp") {
            self.ipv4_dhcp = v;
        }
        if let Some(v) = flag("ipv6_auto") {
            self.ipv6_auto = v;
        }
        if let Some(aliases) = data.get("aliases") {
            self.aliases = parse_aliases(schema, aliases, problems);
        }
        if data.contains_key("mtu") {
            self.mtu = data.get("mtu").and_then(Value::as_i64);
        }
        match self.kind {
            Kind::Physical => {}
            Kind::Bridge => {
                self.bridge_members = list("bridge_members").unwrap_or_else(|| self.bridge_members.clone());
                self.stp = flag("stp").unwrap_or(self.stp);
                self.enable_learning = flag("enable_learning").unwrap_or(self.enable_learning);
            }
            Kind::Lag => {
                self.lag_protocol = text("lag_protocol").or_else(|| self.lag_protocol.clone());
                self.lag_ports = list("lag_ports").unwrap_or_else(|| self.lag_ports.clone());
                self.xmit_hash_policy = text("xmit_hash_policy").or_else(|| self.xmit_hash_policy.clone());
                self.lacpdu_rate = text("lacpdu_rate").or_else(|| self.lacpdu_rate.clone());
                let protocol = self.lag_protocol.as_deref();
                if matches!(protocol, Some("LACP" | "LOADBALANCE")) && self.xmit_hash_policy.is_none() {
                    // The middleware's default after its performance team's tests.
                    self.xmit_hash_policy = Some("LAYER2+3".into());
                }
                if protocol == Some("LACP") && self.lacpdu_rate.is_none() {
                    self.lacpdu_rate = Some("SLOW".into());
                }
            }
            Kind::Vlan => {
                self.vlan_parent = text("vlan_parent_interface").or_else(|| self.vlan_parent.clone());
                self.vlan_tag = data.get("vlan_tag").and_then(Value::as_i64).or(self.vlan_tag);
                if data.contains_key("vlan_pcp") {
                    self.vlan_pcp = data.get("vlan_pcp").and_then(Value::as_i64);
                }
            }
        }
    }

    /// Whether it has a way to get an address (what `interface.commit` requires of one).
    fn addressed(&self) -> bool {
        self.ipv4_dhcp || self.ipv6_auto || !self.aliases.is_empty()
    }
}

/// A physical NIC of the machine.
#[derive(Debug, Clone)]
pub(crate) struct Nic {
    pub(crate) name: String,
    pub(crate) mac: String,
    /// Negotiated speed, as `ethtool` reports it (`2500Mb/s`).
    pub(crate) speed: &'static str,
}

/// A commit waiting for its check-in.
#[derive(Debug, Clone, Copy)]
struct Checkin {
    generation: u64,
    deadline: Instant,
}

/// Every interface of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Interfaces {
    pub(crate) nics: Vec<Nic>,
    /// The saved configuration, by name; physical NICs are always present.
    pub(crate) saved: BTreeMap<String, Iface>,
    /// What the NICs run.
    pub(crate) applied: BTreeMap<String, Iface>,
    /// The last confirmed configuration, kept from the first pending change until a check-in.
    original: Option<BTreeMap<String, Iface>>,
    checkin: Option<Checkin>,
    generation: u64,
}

pub(crate) fn interface_not_found(id: &str) -> Failure {
    Failure::not_found(format!("Interface {id} does not exist"))
}

impl Interfaces {
    /// A configuration where `saved` is what runs, nothing pending.
    pub(crate) fn new(nics: Vec<Nic>, saved: Vec<Iface>) -> Interfaces {
        let saved: BTreeMap<String, Iface> = saved.into_iter().map(|i| (i.name.clone(), i)).collect();
        Interfaces { nics, applied: saved.clone(), saved, original: None, checkin: None, generation: 0 }
    }

    pub(crate) fn get(&self, name: &str) -> Result<&Iface, Failure> {
        self.saved.get(name).ok_or_else(|| interface_not_found(name))
    }

    pub(crate) fn nic(&self, name: &str) -> Option<&Nic> {
        self.nics.iter().find(|n| n.name == name)
    }

    pub(crate) fn has_pending_changes(&self) -> bool {
        self.original.is_some()
    }

    /// Whole seconds left before an unconfirmed commit is reverted, if one waits.
    pub(crate) fn checkin_waiting(&self) -> Option<u64> {
        let left = self.checkin?.deadline.checked_duration_since(Instant::now())?;
        Some(left.as_secs())
    }

    /// Keeps the confirmed configuration before the first pending change.
    fn stage(&mut self) {
        if self.original.is_none() {
            self.original = Some(self.saved.clone());
        }
    }

    /// The first free `<prefix>N`.
    fn next_name(&self, kind: Kind) -> String {
        (0..)
            .map(|n| format!("{}{n}", kind.prefix()))
            .find(|name| !self.saved.contains_key(name))
            .unwrap_or_else(|| kind.prefix().to_string())
    }

    /// `interface.create`: stages a new bridge, link aggregation or VLAN; returns its name.
    pub(crate) fn create(&mut self, data: &Map<String, Value>) -> Result<String, Failure> {
        let schema = "interface_create";
        let kind = data.get("type").and_then(Value::as_str).and_then(Kind::parse).unwrap_or(Kind::Bridge);
        let required: &[&str] = match kind {
            Kind::Lag => &["lag_protocol", "lag_ports"],
            Kind::Vlan => &["vlan_parent_interface", "vlan_tag"],
            Kind::Bridge | Kind::Physical => &[],
        };
        let missing: Vec<Invalid> = required
            .iter()
            .filter(|key| !data.contains_key(**key))
            .map(|key| invalid(schema, key, "This field is required"))
            .collect();
        if !missing.is_empty() {
            return Err(Failure::Validation(missing));
        }
        let name = match data.get("name").and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None if kind == Kind::Vlan => format!("vlan{}", data.get("vlan_tag").and_then(Value::as_i64).unwrap_or(0)),
            None => self.next_name(kind),
        };
        let mut iface = Iface::new(&name, kind);
        let mut problems = Vec::new();
        iface.apply(schema, data, &mut problems);
        problems.extend(check(self, schema, &iface, None, data.contains_key("name")));
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        self.stage();
        self.saved.insert(name.clone(), iface);
        Ok(name)
    }

    /// `interface.update`: stages changed settings of an interface.
    pub(crate) fn update(&mut self, id: &str, data: &Map<String, Value>) -> Result<(), Failure> {
        let schema = "interface_update";
        let mut iface = self.get(id)?.clone();
        let mut problems = Vec::new();
        iface.apply(schema, data, &mut problems);
        problems.extend(check(self, schema, &iface, Some(id), false));
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        self.stage();
        self.saved.insert(id.to_string(), iface);
        Ok(())
    }

    /// `interface.delete`: stages the removal of a virtual interface, or the reset of a physical
    /// NIC to no configuration. Refused while another interface uses it.
    pub(crate) fn delete(&mut self, id: &str) -> Result<(), Failure> {
        let iface = self.get(id)?;
        if let Some(user) = self.saved.values().find(|other| {
            other.bridge_members.iter().any(|m| m == id)
                || other.lag_ports.iter().any(|p| p == id)
                || other.vlan_parent.as_deref() == Some(id)
        }) {
            return Err(Failure::Validation(vec![invalid(
                "interface_delete",
                "id",
                &format!("Interface {id} is in use by {}.", user.name),
            )]));
        }
        let kind = iface.kind;
        self.stage();
        if kind == Kind::Physical {
            self.saved.insert(id.to_string(), Iface::new(id, Kind::Physical));
        } else {
            self.saved.remove(id);
        }
        Ok(())
    }

    /// `interface.commit`: applies the saved configuration. With `rollback` and a timeout,
    /// returns the generation a check-in timer must present to revert it; otherwise the
    /// configuration is confirmed at once.
    pub(crate) fn commit(&mut self, rollback: bool, checkin_timeout: i64) -> Result<Option<u64>, Failure> {
        if !self.saved.values().any(Iface::addressed) {
            return Err(Failure::fault(
                "At least one interface configured with either IPv4 DHCP, IPv6 auto or a static IP is required.",
            ));
        }
        self.applied = self.saved.clone();
        if rollback && checkin_timeout > 0 {
            self.generation += 1;
            let deadline = Instant::now() + Duration::from_secs(checkin_timeout.unsigned_abs());
            self.checkin = Some(Checkin { generation: self.generation, deadline });
            Ok(Some(self.generation))
        } else {
            self.original = None;
            self.checkin = None;
            Ok(None)
        }
    }

    /// `interface.checkin`: keeps what was committed.
    pub(crate) fn checkin(&mut self) {
        self.checkin = None;
        self.original = None;
    }

    /// `interface.rollback`: back to the last confirmed configuration, applied.
    pub(crate) fn rollback(&mut self) {
        self.checkin = None;
        if let Some(original) = self.original.take() {
            self.saved = original;
        }
        self.applied = self.saved.clone();
    }

    /// The check-in timer of commit `generation` ran out: revert, unless a check-in (or
    /// another commit) came first. Returns whether it reverted.
    pub(crate) fn expire(&mut self, generation: u64) -> bool {
        if self.checkin.is_some_and(|c| c.generation == generation) {
            self.rollback();
            true
        } else {
            false
        }
    }
}

pub(crate) fn invalid(schema: &str, field: &str, message: &str) -> Invalid {
    Invalid { attribute: Some(format!("{schema}.{field}")), message: message.to_string(), errno: errno::EINVAL }
}

/// The machine's NICs and network configuration a fresh simulated NAS has: the onboard 2.5 GbE
/// port bridged as `br0` for the LAN and the VMs (192.168.1.50/24), a 10 GbE uplink to the core
/// switch carrying the storage network (10.10.10.2/24, jumbo frames) and a tagged IoT VLAN.
pub(crate) fn demo() -> Interfaces {
    let nics = vec![
        Nic { name: "enp5s0".into(), mac: "a8:a1:59:3c:11:02".into(), speed: "2500Mb/s" },
        Nic { name: "enp6s0".into(), mac: "00:1b:21:8a:4e:10".into(), speed: "10000Mb/s" },
    ];
    let lan = Iface::new("enp5s0", Kind::Physical);
    let mut backup = Iface::new("enp6s0", Kind::Physical);
    backup.description = "10GbE uplink to the core switch (storage network)".into();
    backup.aliases = vec![Alias { address: IpAddr::from([10, 10, 10, 2]), netmask: 24 }];
    backup.mtu = Some(9000);
    let mut bridge = Iface::new("br0", Kind::Bridge);
    bridge.description = "LAN bridge shared with the VMs".into();
    bridge.aliases = vec![Alias { address: IpAddr::from([192, 168, 1, 50]), netmask: 24 }];
    bridge.bridge_members = vec!["enp5s0".into()];
    let mut iot = Iface::new("vlan10", Kind::Vlan);
    iot.description = "IoT devices".into();
    iot.aliases = vec![Alias { address: IpAddr::from([192, 168, 10, 50]), netmask: 24 }];
    iot.vlan_parent = Some("enp6s0".into());
    iot.vlan_tag = Some(10);
    iot.vlan_pcp = Some(0);
    Interfaces::new(nics, vec![lan, backup, bridge, iot])
}

#[cfg(test)]
#[path = "interface_tests.rs"]
mod tests;
