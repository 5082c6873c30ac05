//! The middleware's checks on an interface configuration (`interface.create` and `.update`):
//! names, the one-DHCP-interface rule, overlapping networks, and the members of bridges, link
//! aggregations and VLANs, with the middleware's messages.

use std::collections::HashMap;

use serde_json::Value;

use crate::failure::Invalid;
use crate::network::interface::{Alias, Iface, Interfaces, Kind, invalid};
use crate::network::ipnet::{max_prefix, network, parse_ip};

/// Reads `aliases` (`[{type, address, netmask}]`); bad entries are reported and skipped.
pub(crate) fn parse_aliases(schema: &str, aliases: &Value, problems: &mut Vec<Invalid>) -> Vec<Alias> {
    let mut out = Vec::new();
    for (i, alias) in aliases.as_array().into_iter().flatten().enumerate() {
        let address = alias.get("address").and_then(Value::as_str).unwrap_or_default();
        let netmask = alias.get("netmask").and_then(Value::as_i64).unwrap_or(-1);
        match parse_ip(address) {
            Err(message) => problems.push(invalid(schema, &format!("aliases.{i}.address"), &message)),
            Ok(ip) => match u8::try_from(netmask).ok().filter(|m| *m <= max_prefix(&ip)) {
                Some(netmask) => out.push(Alias { address: ip, netmask }),
                None => problems.push(invalid(
                    schema,
                    &format!("aliases.{i}.netmask"),
                    &format!("Netmask must be between 0 and {}", max_prefix(&ip)),
                )),
            },
        }
    }
    out
}

/// Problems with `iface` as the new configuration of interface `existing` (or a new one).
pub(crate) fn check(
    store: &Interfaces,
    schema: &str,
    iface: &Iface,
    existing: Option<&str>,
    name_given: bool,
) -> Vec<Invalid> {
    let mut problems = Vec::new();
    let mut add = |field: &str, message: String| problems.push(invalid(schema, field, &message));
    let others: Vec<&Iface> = store.saved.values().filter(|i| Some(i.name.as_str()) != existing).collect();

    if existing.is_none() {
        if others.iter().any(|i| i.name == iface.name) {
            add("name", "Interface name is already in use.".into());
        } else if name_given && !valid_name(iface.kind, &iface.name) {
            let what = match iface.kind {
                Kind::Bridge => "Bridge",
                Kind::Lag => "Link aggregation",
                Kind::Vlan | Kind::Physical => "VLAN",
            };
            add(
                "name",
                format!("{what} interface must start with \"{}\" followed by an unique number.", iface.kind.prefix()),
            );
        }
    }
    if iface.ipv4_dhcp && others.iter().any(|i| i.ipv4_dhcp) {
        add("ipv4_dhcp", "Only one interface can be used for DHCP.".into());
    }
    if iface.ipv6_auto && others.iter().any(|i| i.ipv6_auto) {
        add("ipv6_auto", "Only one interface can have IPv6 autoconfiguration enabled.".into());
    }
    for (i, alias) in iface.aliases.iter().enumerate() {
        let net = network(&alias.address, alias.netmask);
        let taken = others.iter().flat_map(|o| &o.aliases).any(|a| {
            a.address.is_ipv4() == alias.address.is_ipv4()
                && network(&a.address, alias.netmask.min(a.netmask))
                    == network(&alias.address, alias.netmask.min(a.netmask))
        });
        if taken {
            add(
                &format!("aliases.{i}"),
                format!("The network {net}/{} is already in use by another interface.", alias.netmask),
            );
        }
    }

    // Which interface holds each member, parent or port (this one excluded).
    let mut used: HashMap<&str, &str> = HashMap::new();
    for other in &others {
        for member in other.bridge_members.iter().chain(&other.lag_ports) {
            used.insert(member.as_str(), other.name.as_str());
        }
        if let Some(parent) = &other.vlan_parent {
            used.entry(parent.as_str()).or_insert(other.name.as_str());
        }
    }
    let lag_used = |name: &str| others.iter().find(|o| o.lag_ports.iter().any(|p| p == name)).map(|o| o.name.clone());
    let known = |name: &str| store.saved.contains_key(name) && name != iface.name;
    match iface.kind {
        Kind::Physical => {}
        Kind::Bridge => {
            for (i, member) in iface.bridge_members.iter().enumerate() {
                let field = format!("bridge_members.{i}");
                if !known(member) {
                    add(&field, "Not a valid interface.".into());
                } else if let Some(owner) = used.get(member.as_str()) {
                    add(&field, format!("Interface {member} is currently in use by {owner}."));
                }
            }
        }
        Kind::Lag => {
            if iface.lag_ports.is_empty() {
                add("lag_ports", "This field cannot be empty.".into());
            }
            for (i, port) in iface.lag_ports.iter().enumerate() {
                let field = format!("lag_ports.{i}");
                match store.saved.get(port) {
                    None => add(&field, "Not a valid interface.".into()),
                    Some(p) if p.kind != Kind::Physical || p.name == iface.name => {
                        add(&field, "Only physical interfaces are allowed to be a member of Link Aggregation.".into())
                    }
                    Some(_) => {
                        if let Some(owner) = used.get(port.as_str()) {
                            add(&field, format!("Interface {port} is currently in use by {owner}."));
                        }
                    }
                }
            }
        }
        Kind::Vlan => {
            // The dump declares these bounds as pydantic's `ge`/`le`, which JSON Schema ignores.
            if iface.vlan_tag.is_some_and(|t| !(1..=4094).contains(&t)) {
                add("vlan_tag", "Input should be between 1 and 4094".into());
            }
            if iface.vlan_pcp.is_some_and(|p| !(0..=7).contains(&p)) {
                add("vlan_pcp", "Input should be between 0 and 7".into());
            }
            let field = "vlan_parent_interface";
            match iface.vlan_parent.as_deref().and_then(|p| store.saved.get(p)) {
                None => add(field, "Not a valid interface.".into()),
                Some(parent) => {
                    if let Some(owner) = lag_used(&parent.name) {
                        add(field, format!("Interface {} is currently in use by {owner}.", parent.name));
                    } else if parent.kind == Kind::Bridge {
                        add(field, "Bridge interfaces are not allowed.".into());
                    } else if iface.mtu.is_some_and(|mtu| mtu > parent.mtu.unwrap_or(1500)) {
                        add("mtu", "VLAN MTU cannot be bigger than parent interface.".into());
                    }
                }
            }
        }
    }
    problems
}

/// `brN`, `bondN`, `vlanN`: the kind's prefix and a number.
fn valid_name(kind: Kind, name: &str) -> bool {
    name.strip_prefix(kind.prefix()).is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}
