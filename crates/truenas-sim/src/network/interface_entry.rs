//! The `interface.query` entry of an interface: its saved settings (the fields of its kind) and
//! `state`, what the kernel reports for the configuration the NICs run. An interface saved but
//! not committed yet does not exist on the system: it is listed with `fake: true`.

use serde_json::{Map, Value, json};

use crate::network::interface::{Iface, Interfaces, Kind};
use crate::network::ipnet::{broadcast, link_local};

impl Interfaces {
    /// The `interface.query` entry of interface `name`.
    pub(crate) fn entry(&self, name: &str) -> Option<Value> {
        let iface = self.saved.get(name)?;
        let mut out = Map::new();
        out.insert("id".into(), json!(iface.name));
        out.insert("name".into(), json!(iface.name));
        out.insert("fake".into(), json!(!self.applied.contains_key(name)));
        out.insert("type".into(), json!(iface.kind.name()));
        out.insert("state".into(), self.live_state(iface));
        let aliases: Vec<Value> = iface
            .aliases
            .iter()
            .map(|a| json!({"type": family(&a.address), "address": a.address.to_string(), "netmask": a.netmask}))
            .collect();
        out.insert("aliases".into(), Value::Array(aliases));
        out.insert("ipv4_dhcp".into(), json!(iface.ipv4_dhcp));
        out.insert("ipv6_auto".into(), json!(iface.ipv6_auto));
        out.insert("description".into(), json!(iface.description));
        out.insert("mtu".into(), json!(iface.mtu));
        match iface.kind {
            Kind::Physical => {}
            Kind::Bridge => {
                out.insert("bridge_members".into(), json!(iface.bridge_members));
                out.insert("enable_learning".into(), json!(iface.enable_learning));
                out.insert("stp".into(), json!(iface.stp));
            }
            Kind::Lag => {
                out.insert("lag_protocol".into(), json!(iface.lag_protocol.clone().unwrap_or_default()));
                out.insert("lag_ports".into(), json!(iface.lag_ports));
                out.insert("xmit_hash_policy".into(), json!(iface.xmit_hash_policy));
                out.insert("lacpdu_rate".into(), json!(iface.lacpdu_rate));
            }
            Kind::Vlan => {
                out.insert("vlan_parent_interface".into(), json!(iface.vlan_parent));
                out.insert("vlan_tag".into(), json!(iface.vlan_tag));
                out.insert("vlan_pcp".into(), json!(iface.vlan_pcp));
            }
        }
        Some(Value::Object(out))
    }

    pub(crate) fn entries(&self) -> Vec<Value> {
        self.saved.keys().filter_map(|name| self.entry(name)).collect()
    }

    /// The MAC the interface shows: its own for a NIC, the parent's for a VLAN, the first
    /// port's for a bond, a locally administered one derived from the name for a bridge.
    pub(crate) fn mac(&self, iface: &Iface) -> String {
        let via = match iface.kind {
            Kind::Physical => Some(iface.name.as_str()),
            Kind::Vlan => iface.vlan_parent.as_deref(),
            Kind::Lag => iface.lag_ports.first().map(String::as_str),
            Kind::Bridge => None,
        };
        if let Some(nic) = via.and_then(|n| self.nic(n)) {
            return nic.mac.clone();
        }
        let sum = iface.name.bytes().fold(0u32, |acc, b| acc.wrapping_mul(31).wrapping_add(u32::from(b)));
        let [_, a, b, c] = sum.to_be_bytes();
        format!("02:a0:98:{a:02x}:{b:02x}:{c:02x}")
    }

    /// The addresses the interface holds while running: its aliases, a DHCP lease if it asks
    /// for one, and its IPv6 link-local address.
    pub(crate) fn running_addresses(&self, iface: &Iface) -> Vec<Value> {
        let mut out: Vec<Value> = iface
            .aliases
            .iter()
            .map(|a| {
                let mut alias =
                    json!({"type": family(&a.address), "address": a.address.to_string(), "netmask": a.netmask});
                if let Some(b) = broadcast(&a.address, a.netmask) {
                    alias["broadcast"] = json!(b.to_string());
                }
                alias
            })
            .collect();
        if iface.ipv4_dhcp && iface.aliases.iter().all(|a| !a.address.is_ipv4()) {
            let lease = 100 + iface.name.bytes().map(u32::from).sum::<u32>() % 100;
            out.push(json!({"type": "INET", "address": format!("192.168.1.{lease}"), "netmask": 24, "broadcast": "192.168.1.255"}));
        }
        if let Some(ll) = link_local(&self.mac(iface)) {
            out.push(json!({"type": "INET6", "address": ll, "netmask": 64}));
        }
        out
    }

    /// `state`: the kernel's view of the applied configuration (a placeholder when not applied).
    fn live_state(&self, saved: &Iface) -> Value {
        let running = self.applied.get(&saved.name);
        let iface = running.unwrap_or(saved);
        let mac = self.mac(iface);
        let speed = match iface.kind {
            Kind::Physical => self.nic(&iface.name).map(|n| n.speed),
            _ => None,
        };
        let up = running.is_some();
        let mut state = json!({
            "name": iface.name,
            "orig_name": iface.name,
            "description": iface.description,
            "mtu": iface.mtu.unwrap_or(1500),
            "cloned": iface.kind != Kind::Physical,
            "flags": if up { json!(["RUNNING", "UP", "BROADCAST", "MULTICAST", "LOWER_UP"]) } else { json!([]) },
            "nd6_flags": [],
            "capabilities": [],
            "link_state": if up { "LINK_STATE_UP" } else { "LINK_STATE_DOWN" },
            "media_type": "Ethernet",
            "media_subtype": if speed.is_some() { "autoselect" } else { "" },
            "active_media_type": "Ethernet",
            "active_media_subtype": speed.map(|s| format!("{s} Twisted Pair")).unwrap_or_default(),
            "supported_media": [],
            "media_options": null,
            "link_address": mac,
            "permanent_link_address": if iface.kind == Kind::Physical { json!(mac) } else { Value::Null },
            "hardware_link_address": mac,
            "rx_queues": if iface.kind == Kind::Physical { 4 } else { 1 },
            "tx_queues": if iface.kind == Kind::Physical { 4 } else { 1 },
            "aliases": if up { json!(self.running_addresses(iface)) } else { json!([]) },
            "vrrp_config": [],
        });
        match iface.kind {
            Kind::Lag => {
                state["protocol"] = json!(iface.lag_protocol);
                state["ports"] = json!(
                    iface
                        .lag_ports
                        .iter()
                        .map(|p| json!({"name": p, "flags": ["ACTIVE", "COLLECTING", "DISTRIBUTING"]}))
                        .collect::<Vec<_>>()
                );
                state["xmit_hash_policy"] = json!(iface.xmit_hash_policy);
                state["lacpdu_rate"] = json!(iface.lacpdu_rate);
            }
            Kind::Vlan => {
                state["parent"] = json!(iface.vlan_parent);
                state["tag"] = json!(iface.vlan_tag);
                state["pcp"] = json!(iface.vlan_pcp);
            }
            Kind::Physical | Kind::Bridge => {}
        }
        state
    }
}

fn family(ip: &std::net::IpAddr) -> &'static str {
    if ip.is_ipv4() { "INET" } else { "INET6" }
}
