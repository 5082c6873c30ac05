//! The global network settings (`network.configuration.*`), the running summary
//! (`network.general.summary`) and static routes (`staticroute.*`), with the middleware's
//! checks: nameserver rules, a reachable IPv4 gateway, routes of one address family.

use std::net::IpAddr;

use serde_json::{Map, Value, json};

use crate::failure::{Failure, Invalid};
use crate::network::interface::{Interfaces, invalid};
use crate::network::ipnet::{contains, parse_ip, parse_network};
use crate::table::Table;

const SCHEMA: &str = "network_configuration_update";

/// The stored global settings.
#[derive(Debug, Clone)]
pub(crate) struct NetworkConfig {
    pub(crate) hostname: String,
    pub(crate) domain: String,
    pub(crate) ipv4gateway: String,
    pub(crate) ipv6gateway: String,
    pub(crate) nameservers: [String; 3],
    pub(crate) httpproxy: String,
    pub(crate) hosts: Vec<String>,
    pub(crate) domains: Vec<String>,
    pub(crate) service_announcement: Value,
    pub(crate) activity: Value,
}

/// One static route.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    pub(crate) id: i64,
    pub(crate) destination: String,
    pub(crate) gateway: String,
    pub(crate) description: String,
}

impl Route {
    pub(crate) fn entry(&self) -> Value {
        json!({"destination": self.destination, "gateway": self.gateway, "description": self.description, "id": self.id})
    }
}

/// Global settings and static routes of the simulated NAS.
#[derive(Debug)]
pub(crate) struct Network {
    pub(crate) config: NetworkConfig,
    routes: Table<Route>,
}

pub(crate) fn route_not_found(id: i64) -> Failure {
    Failure::not_found(format!("StaticRoute {id} does not exist"))
}

impl Network {
    /// `network.configuration.config`: the settings, with what is in use under `state`.
    pub(crate) fn config_entry(&self) -> Value {
        let c = &self.config;
        json!({
            "id": 1,
            "hostname": c.hostname,
            "domain": c.domain,
            "ipv4gateway": c.ipv4gateway,
            "ipv6gateway": c.ipv6gateway,
            "nameserver1": c.nameservers[0],
            "nameserver2": c.nameservers[1],
            "nameserver3": c.nameservers[2],
            "httpproxy": c.httpproxy,
            "hosts": c.hosts,
            "domains": c.domains,
            "service_announcement": c.service_announcement,
            "activity": c.activity,
            "hostname_local": c.hostname,
            "state": {
                "ipv4gateway": c.ipv4gateway,
                "ipv6gateway": c.ipv6gateway,
                "nameserver1": c.nameservers[0],
                "nameserver2": c.nameservers[1],
                "nameserver3": c.nameservers[2],
                "hosts": c.hosts,
            },
        })
    }

    /// `network.configuration.update`: validates the merged settings, then stores them.
    pub(crate) fn update(&mut self, data: &Map<String, Value>, interfaces: &Interfaces) -> Result<(), Failure> {
        let mut new = self.config.clone();
        let text = |key: &str| data.get(key).and_then(Value::as_str).map(str::to_string);
        let list = |key: &str| {
            data.get(key)
                .and_then(Value::as_array)
                .map(|l| l.iter().filter_map(Value::as_str).map(str::to_string).collect())
        };
        let fields: [(&str, &mut String); 5] = [
            ("hostname", &mut new.hostname),
            ("domain", &mut new.domain),
            ("ipv4gateway", &mut new.ipv4gateway),
            ("ipv6gateway", &mut new.ipv6gateway),
            ("httpproxy", &mut new.httpproxy),
        ];
        for (key, field) in fields {
            if let Some(v) = text(key) {
                *field = v;
            }
        }
        for (i, slot) in new.nameservers.iter_mut().enumerate() {
            if let Some(v) = text(&format!("nameserver{}", i + 1)) {
                *slot = v;
            }
        }
        new.hosts = list("hosts").unwrap_or(new.hosts);
        new.domains = list("domains").unwrap_or(new.domains);
        for key in ["service_announcement", "activity"] {
            if let Some(Value::Object(changes)) = data.get(key) {
                let target = if key == "activity" { &mut new.activity } else { &mut new.service_announcement };
                if let Value::Object(current) = target {
                    current.extend(changes.clone());
                }
            }
        }
        let problems = check(data, &new, interfaces);
        if !problems.is_empty() {
            return Err(Failure::Validation(problems));
        }
        self.config = new;
        Ok(())
    }

    pub(crate) fn routes(&self) -> Vec<Value> {
        self.routes.values().map(Route::entry).collect()
    }

    pub(crate) fn route(&self, id: i64) -> Result<&Route, Failure> {
        self.routes.get(id)
    }

    /// `staticroute.create`: the destination is stored as its network address.
    pub(crate) fn create_route(&mut self, data: &Map<String, Value>) -> Result<i64, Failure> {
        let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default().to_string();
        let route = checked_route(0, &text("destination"), &text("gateway"), &text("description"))?;
        Ok(self.routes.insert(|id| Route { id, ..route }))
    }

    /// `staticroute.update`: merges the changes, with the create checks.
    pub(crate) fn update_route(&mut self, id: i64, data: &Map<String, Value>) -> Result<(), Failure> {
        let old = self.route(id)?.clone();
        let text = |key: &str, old: &str| data.get(key).and_then(Value::as_str).unwrap_or(old).to_string();
        let route = checked_route(
            id,
            &text("destination", &old.destination),
            &text("gateway", &old.gateway),
            &text("description", &old.description),
        )?;
        *self.routes.get_mut(id)? = route;
        Ok(())
    }

    pub(crate) fn delete_route(&mut self, id: i64) -> Result<(), Failure> {
        self.routes.delete(id).map(drop)
    }
}

fn checked_route(id: i64, destination: &str, gateway: &str, description: &str) -> Result<Route, Failure> {
    let schema = "staticroute_create";
    let mut problems = Vec::new();
    let dest = parse_network(destination).map_err(|m| problems.push(invalid(schema, "destination", &m))).ok();
    let gw = parse_ip(gateway).map_err(|m| problems.push(invalid(schema, "gateway", &m))).ok();
    if let (Some((net, _)), Some(gw)) = (&dest, &gw)
        && net.is_ipv4() != gw.is_ipv4()
    {
        problems.push(invalid(schema, "destination", "Destination and gateway address families must match"));
    }
    match (dest, gw) {
        (Some((net, prefix)), Some(gw)) if problems.is_empty() => Ok(Route {
            id,
            destination: format!("{net}/{prefix}"),
            gateway: gw.to_string(),
            description: description.to_string(),
        }),
        _ => Err(Failure::Validation(problems)),
    }
}

/// The middleware's `validate_general_settings`, on the fields the call changes.
fn check(data: &Map<String, Value>, new: &NetworkConfig, interfaces: &Interfaces) -> Vec<Invalid> {
    let mut problems = Vec::new();
    for (i, value) in new.nameservers.iter().enumerate() {
        let key = format!("nameserver{}", i + 1);
        if !data.contains_key(&key) || value.is_empty() {
            continue;
        }
        match parse_ip(value) {
            Err(message) => problems.push(invalid(SCHEMA, &key, &message)),
            Ok(ip) if ip.is_loopback() => problems.push(invalid(SCHEMA, &key, "Loopback is not a valid nameserver")),
            Ok(ip) if ip.is_unspecified() => {
                problems.push(invalid(SCHEMA, &key, "Unspecified addresses are not valid as nameservers"))
            }
            Ok(_) => {}
        }
        for earlier in 1..=i {
            if new.nameservers[earlier - 1].is_empty() {
                // The middleware's own spelling.
                problems.push(invalid(
                    SCHEMA,
                    &key,
                    &format!("Must fill out namserver{earlier} before filling out {key}"),
                ));
            }
        }
    }
    if data.contains_key("ipv4gateway") && !new.ipv4gateway.is_empty() {
        match parse_ip(&new.ipv4gateway) {
            Err(message) => problems.push(invalid(SCHEMA, "ipv4gateway", &message)),
            Ok(gw) if !reachable(interfaces, &gw) => {
                problems.push(invalid(SCHEMA, "ipv4gateway", &format!("Gateway {} is unreachable", new.ipv4gateway)))
            }
            Ok(_) => {}
        }
    }
    problems
}

/// Whether a running interface has an address in the gateway's network.
fn reachable(interfaces: &Interfaces, gateway: &IpAddr) -> bool {
    interfaces.applied.values().flat_map(|i| &i.aliases).any(|a| contains(&a.address, a.netmask, gateway))
        || interfaces.applied.values().any(|i| i.ipv4_dhcp && contains(&IpAddr::from([192, 168, 1, 0]), 24, gateway))
}

/// `network.general.summary`: every running interface's addresses, the default routes and
/// the nameservers in use.
pub(crate) fn summary(network: &Network, interfaces: &Interfaces) -> Value {
    let mut ips = Map::new();
    for iface in interfaces.applied.values() {
        let mut v4 = Vec::new();
        let mut v6 = Vec::new();
        for alias in interfaces.running_addresses(iface) {
            let text = format!("{}/{}", alias["address"].as_str().unwrap_or_default(), alias["netmask"]);
            if alias["type"] == "INET" { v4.push(text) } else { v6.push(text) }
        }
        if !v4.is_empty() || !v6.is_empty() {
            ips.insert(iface.name.clone(), json!({"IPV4": v4, "IPV6": v6}));
        }
    }
    let c = &network.config;
    let routes: Vec<&String> = [&c.ipv4gateway, &c.ipv6gateway].into_iter().filter(|g| !g.is_empty()).collect();
    let nameservers: Vec<&String> = c.nameservers.iter().filter(|n| !n.is_empty()).collect();
    json!({"ips": ips, "default_routes": routes, "nameservers": nameservers})
}

/// The settings of a fresh simulated NAS: `truenas.home.arpa` behind the LAN router, and a
/// route to the WireGuard clients behind the VPN box.
pub(crate) fn demo(hostname: &str) -> Network {
    let config = NetworkConfig {
        hostname: hostname.to_string(),
        domain: "home.arpa".into(),
        ipv4gateway: "192.168.1.1".into(),
        ipv6gateway: String::new(),
        nameservers: ["192.168.1.1".into(), "9.9.9.9".into(), String::new()],
        httpproxy: String::new(),
        hosts: Vec::new(),
        domains: Vec::new(),
        service_announcement: json!({"netbios": false, "mdns": true, "wsd": true}),
        activity: json!({"type": "DENY", "activities": []}),
    };
    let mut routes = Table::new("StaticRoute");
    routes.insert(|id| Route {
        id,
        destination: "10.8.0.0/24".into(),
        gateway: "192.168.1.2".into(),
        description: "WireGuard clients behind the VPN box".into(),
    });
    Network { config, routes }
}

#[cfg(test)]
#[path = "network_config_tests.rs"]
mod tests;
