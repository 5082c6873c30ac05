use super::*;

fn glob(p: &str) -> Glob {
    Glob::new(p).unwrap()
}

#[test]
fn a_star_stays_within_one_segment() {
    let g = glob("tank/apps/*");
    assert!(g.is_match("tank/apps/plex"));
    assert!(g.is_match("tank/apps/"));
    assert!(!g.is_match("tank/apps/plex/config"));
    assert!(!g.is_match("tank/apps"));
    assert!(!g.is_match("xtank/apps/plex"), "anchored at the start");
    assert!(glob("/mnt/*/media").is_match("/mnt/tank/media"));
    assert!(!glob("/mnt/*/media").is_match("/mnt/tank/x/media"));
    assert!(glob("tank/vm-*").is_match("tank/vm-1"));
}

#[test]
fn a_double_star_crosses_segments_only_as_a_whole_segment() {
    let g = glob("tank/scratch/**");
    assert!(g.is_match("tank/scratch/a"));
    assert!(g.is_match("tank/scratch/a/b/c"));
    assert!(!g.is_match("tank/scratch"), "below, not the dataset itself");
    assert!(!g.is_match("tank/scratchy/a"));
    let g = glob("a/**/b");
    for s in ["a/b", "a/x/b", "a/x/y/b"] {
        assert!(g.is_match(s), "{s}");
    }
    assert!(!g.is_match("a/xb"));
    let g = glob("**/snap");
    assert!(g.is_match("snap") && g.is_match("tank/x/snap") && !g.is_match("tank/xsnap"));
    assert!(glob("**").is_match("anything/at/all"));
    assert!(Glob::new("tank/a**").is_err());
    assert!(Glob::new("").is_err());
}

#[test]
fn a_question_mark_is_one_character_and_others_are_literal() {
    let g = glob("tank/vm?");
    assert!(g.is_match("tank/vm1") && !g.is_match("tank/vm12") && !g.is_match("tank/vm/"));
    let g = glob("tank/a.b+(c)[d]");
    assert!(g.is_match("tank/a.b+(c)[d]"));
    assert!(!g.is_match("tank/aXb+(c)[d]"), "regex metacharacters are literal");
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn cidr_contains_addresses_of_its_network_v4_and_v6() {
    let net = Cidr::parse("10.0.0.0/8").unwrap();
    assert!(net.contains(ip("10.1.2.3")));
    assert!(!net.contains(ip("11.0.0.1")));
    assert!(net.contains(ip("::ffff:10.0.0.1")), "an IPv4-mapped address is its IPv4 address");
    assert!(!net.contains(ip("fd00::1")));
    let net = Cidr::parse("fd00::/8").unwrap();
    assert!(net.contains(ip("fd12::1")) && !net.contains(ip("fe80::1")) && !net.contains(ip("10.0.0.1")));
    assert!(Cidr::parse("::ffff:10.0.0.0/104").unwrap().contains(ip("10.0.0.7")));
    let one = Cidr::parse("192.168.1.5").unwrap();
    assert!(one.contains(ip("192.168.1.5")) && !one.contains(ip("192.168.1.6")));
    assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
    assert!(Cidr::parse("::/0").unwrap().contains(ip("2001:db8::1")));
}

#[test]
fn bad_cidrs_say_what_is_wrong() {
    let err = |s: &str| Cidr::parse(s).unwrap_err();
    assert!(err("10.0.0.0/33").contains("0 to 32"), "{}", err("10.0.0.0/33"));
    assert!(err("fd00::/129").contains("0 to 128"));
    assert!(err("10.0.0/8").contains("not an IP address"));
    assert!(err("10.0.0.0/x").contains("prefix length"));
    assert!(err("10.0.0.0/+8").contains("prefix length"));
    assert_eq!(err("10.0.0.1/8"), "invalid CIDR `10.0.0.1/8`: host bits are set; did you mean `10.0.0.0/8`?");
}
