//! The operands of the string and address predicate ops that need compiling: `glob` patterns
//! (compiled to an anchored regular expression) and `cidr` networks (std `IpAddr` parsing, v4
//! and v6). Both are checked when the policy loads, so a bad pattern never reaches a decision.

use std::net::IpAddr;

use regex::Regex;

/// A compiled `glob`: `*` matches within one `/`-separated segment, `?` one character other
/// than `/`, and `**`, standing as a whole segment, any number of segments (`a/**/b` matches
/// `a/b` and `a/x/y/b`; `a/**` everything below `a`, not `a` itself). Every other character is
/// literal. The whole value must match.
#[derive(Debug)]
pub(crate) struct Glob(Regex);

impl Glob {
    /// Compiles a pattern, or says why it is not one.
    pub(crate) fn new(pattern: &str) -> Result<Glob, String> {
        if pattern.is_empty() {
            return Err("`glob` needs a non-empty pattern".to_owned());
        }
        let segments: Vec<&str> = pattern.split('/').collect();
        let last = segments.len() - 1;
        let mut re = String::from("^");
        // After a leading `**/`, the next segment starts right away (its `/` is in the group).
        let mut separator_done = false;
        for (i, segment) in segments.iter().enumerate() {
            if *segment == "**" {
                re.push_str(match (i == 0, i == last) {
                    (true, true) => ".*",
                    (true, false) => "(?:.*/)?",
                    (false, true) => "/.*",
                    (false, false) => "(?:/.*)?",
                });
                separator_done = i == 0;
                continue;
            }
            if segment.contains("**") {
                return Err(format!(
                    "invalid glob `{pattern}`: `**` must be a whole segment (`a/**/b`); use `*` within a segment"
                ));
            }
            if i > 0 && !separator_done {
                re.push('/');
            }
            separator_done = false;
            for c in segment.chars() {
                match c {
                    '*' => re.push_str("[^/]*"),
                    '?' => re.push_str("[^/]"),
                    c => re.push_str(&regex::escape(c.encode_utf8(&mut [0; 4]))),
                }
            }
        }
        re.push('$');
        Regex::new(&re).map(Glob).map_err(|_| format!("invalid glob `{pattern}`"))
    }

    /// Whether the whole string matches.
    pub(crate) fn is_match(&self, s: &str) -> bool {
        self.0.is_match(s)
    }
}

/// One network of a `cidr` operand: an address and a prefix length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8` or `fd00::/8`. Host bits must be zero (`10.0.0.1/8` is refused as
    /// a likely typo); a bare address is a network of one.
    pub(crate) fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (text, None),
        };
        let network: IpAddr =
            addr.parse().map_err(|_| format!("invalid CIDR `{text}`: `{addr}` is not an IP address"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => match p.parse::<u8>() {
                Ok(n) if n <= max && !p.starts_with('+') => n,
                _ => return Err(format!("invalid CIDR `{text}`: the prefix length must be 0 to {max}")),
            },
        };
        let cidr = Cidr { network, prefix };
        let masked = cidr.masked(network);
        if masked != network {
            return Err(format!("invalid CIDR `{text}`: host bits are set; did you mean `{masked}/{prefix}`?"));
        }
        Ok(cidr)
    }

    /// Whether `addr` is in the network. An IPv4-mapped IPv6 address (`::ffff:10.0.0.1`) is
    /// its IPv4 address for an IPv4 network, and an IPv4 address its mapped form for an IPv6 one.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        let addr = match (self.network, addr) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
            (_, addr) => addr,
        };
        self.masked(addr) == self.network
    }

    /// `addr` with the bits past the prefix cleared (same family as the network).
    fn masked(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(a) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V4((u32::from(a) & mask).into())
            }
            IpAddr::V6(a) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                IpAddr::V6((u128::from(a) & mask).into())
            }
        }
    }
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
