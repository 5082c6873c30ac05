//! IP address arithmetic the network domains share: parsing addresses and `addr/prefix`
//! networks the way Python's `ipaddress` does, masking to a network and containment, with
//! `ipaddress`'s error texts.

use std::net::IpAddr;

/// `address` parsed, or the text Python's `ipaddress.ip_address` raises.
pub(crate) fn parse_ip(address: &str) -> Result<IpAddr, String> {
    address.parse().map_err(|_| format!("'{address}' does not appear to be an IPv4 or IPv6 address"))
}

/// The widest prefix of the address family.
pub(crate) fn max_prefix(ip: &IpAddr) -> u8 {
    if ip.is_ipv4() { 32 } else { 128 }
}

/// The network address of `ip/prefix` (host bits cleared).
pub(crate) fn network(ip: &IpAddr, prefix: u8) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => {
            let bits = u32::from(*v4);
            let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
            IpAddr::V4((bits & mask).into())
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(*v6);
            let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix.min(128))) };
            IpAddr::V6((bits & mask).into())
        }
    }
}

/// Whether `ip` lies in `net/prefix` (same family only).
pub(crate) fn contains(net: &IpAddr, prefix: u8, ip: &IpAddr) -> bool {
    net.is_ipv4() == ip.is_ipv4() && network(net, prefix) == network(ip, prefix)
}

/// A network in CIDR form, `10.8.0.0/24` (a bare address is a host route), normalised to its
/// network address as `ipaddress.ip_network(..., strict=False)` does.
pub(crate) fn parse_network(text: &str) -> Result<(IpAddr, u8), String> {
    let invalid = || format!("'{text}' does not appear to be an IPv4 or IPv6 network");
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let ip: IpAddr = address.parse().map_err(|_| invalid())?;
    let prefix = match prefix {
        Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max_prefix(&ip)).ok_or_else(invalid)?,
        None => max_prefix(&ip),
    };
    Ok((network(&ip, prefix), prefix))
}

/// The IPv4 broadcast address of `ip/prefix`.
pub(crate) fn broadcast(ip: &IpAddr, prefix: u8) -> Option<IpAddr> {
    let IpAddr::V4(v4) = ip else { return None };
    let host_bits = 32 - u32::from(prefix.min(32));
    let mask = if host_bits == 32 { u32::MAX } else { (1u32 << host_bits) - 1 };
    Some(IpAddr::V4((u32::from(*v4) | mask).into()))
}

/// The IPv6 link-local address derived from a MAC (EUI-64), as the kernel assigns it.
pub(crate) fn link_local(mac: &str) -> Option<String> {
    let bytes: Vec<u8> = mac.split(':').map(|b| u8::from_str_radix(b, 16)).collect::<Result<_, _>>().ok()?;
    let [a, b, c, d, e, f] = bytes.as_slice() else { return None };
    let first = a ^ 0x02;
    Some(format!(
        "fe80::{:x}:{:x}:{:x}:{:x}",
        u16::from(first) << 8 | u16::from(*b),
        u16::from(*c) << 8 | 0xff,
        0xfe00 | u16::from(*d),
        u16::from(*e) << 8 | u16::from(*f)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_are_masked_and_compared_within_a_family() {
        assert_eq!(network(&ip("192.168.1.50"), 24), ip("192.168.1.0"));
        assert_eq!(network(&ip("10.1.2.3"), 0), ip("0.0.0.0"));
        assert!(contains(&ip("192.168.1.0"), 24, &ip("192.168.1.1")));
        assert!(!contains(&ip("192.168.1.0"), 24, &ip("192.168.2.1")));
        assert!(!contains(&ip("192.168.1.0"), 24, &ip("::1")));
        assert_eq!(network(&ip("2001:db8::1"), 64), ip("2001:db8::"));
    }

    #[test]
    fn cidr_text_parses_like_ip_network_non_strict() {
        assert_eq!(parse_network("10.8.0.7/24"), Ok((ip("10.8.0.0"), 24)));
        assert_eq!(parse_network("10.8.0.7"), Ok((ip("10.8.0.7"), 32)));
        assert!(parse_network("10.8.0.0/33").is_err());
        assert_eq!(parse_network("nope").unwrap_err(), "'nope' does not appear to be an IPv4 or IPv6 network");
        assert_eq!(parse_ip("1.2.3").unwrap_err(), "'1.2.3' does not appear to be an IPv4 or IPv6 address");
    }

    #[test]
    fn broadcast_and_link_local_follow_the_kernel() {
        assert_eq!(broadcast(&ip("192.168.1.50"), 24), Some(ip("192.168.1.255")));
        assert_eq!(broadcast(&ip("::1"), 64), None);
        assert_eq!(link_local("a8:a1:59:3c:11:02").as_deref(), Some("fe80::aaa1:59ff:fe3c:1102"));
    }
}
