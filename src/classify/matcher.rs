//! The lookup structures behind the signature catalogue: host patterns and CIDR prefixes.
//!
//! The pattern language and the "most specific wins" rule are documented at the top of
//! `rules.rs`; this file implements them. It knows nothing about services or YAML: entries are
//! opaque [`RuleRef`]s that the catalogue hands in and gets back.
//!
//! The host lookup runs for every flow name and DNS answer, so it uses no regex and never
//! allocates: an upper-case name is lower-cased into a stack buffer, then the name and each of
//! its label suffixes (longest first) is looked up in one hash map. It refuses names longer
//! than a DNS name can be (253 characters) instead of truncating them.

use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// Longest DNS name in text form, without the trailing dot (RFC 1035: 255 octets on the wire).
pub const MAX_NAME_LEN: usize = 253;

/// Longest label of a DNS name.
const MAX_LABEL_LEN: usize = 63;

/// Where a pattern or prefix came from: the index of its service and of the rule in that service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleRef {
    pub service: usize,
    pub rule: usize,
}

/// A validated host pattern: an exact name, or `*.suffix` (the suffix itself and its subdomains).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// Lower-case name without the `*.` and without a trailing dot.
    name: String,
    wildcard: bool,
}

impl Pattern {
    /// Validates and normalises a pattern as written in a rule file.
    ///
    /// Accepted: `name.tld` or `*.name.tld`, case-insensitive, one trailing dot ignored; labels of
    /// 1 to 63 characters from `a-z 0-9 - _`; at least two labels, so that no pattern can cover
    /// a whole top-level domain. Refused: `*` anywhere but a leading `*.`, empty labels,
    /// spaces and other characters, names longer than 253 characters.
    pub fn parse(raw: &str) -> Result<Pattern, &'static str> {
        if raw.is_empty() {
            return Err("empty pattern");
        }
        let trimmed = raw.strip_suffix('.').unwrap_or(raw);
        let (wildcard, name) = match trimmed.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        if name.contains('*') {
            return Err("`*` is only allowed as a whole first label, as in `*.example.com`");
        }
        if name.is_empty() {
            return Err(if wildcard {
                "no name after `*.`"
            } else {
                "empty pattern"
            });
        }
        if name.len() > MAX_NAME_LEN {
            return Err("longer than 253 characters");
        }
        let mut labels = 0usize;
        for label in name.split('.') {
            if label.is_empty() {
                return Err("empty label (two dots in a row, or a leading dot)");
            }
            if label.len() > MAX_LABEL_LEN {
                return Err("a label is longer than 63 characters");
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            {
                return Err("only letters, digits, `-`, `_` and `.` are allowed in a host name");
            }
            labels = labels.saturating_add(1);
        }
        if labels < 2 {
            return Err(
                "needs at least two labels (a pattern may not cover a whole top-level domain)",
            );
        }
        Ok(Pattern {
            name: name.to_ascii_lowercase(),
            wildcard,
        })
    }

    /// The name without `*.`, lower-case.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether this is a `*.suffix` pattern.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }
}

impl fmt::Display for Pattern {
    /// The canonical written form: `*.openai.com` or `api.openai.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.name)
    }
}

/// The two kinds of rule that can sit on one name.
#[derive(Debug, Default, Clone, Copy)]
struct Slot {
    exact: Option<RuleRef>,
    wildcard: Option<RuleRef>,
}

/// Host patterns keyed by their lower-case name.
#[derive(Debug, Default, Clone)]
pub struct HostIndex {
    names: HashMap<Box<[u8]>, Slot>,
}

impl HostIndex {
    pub fn new() -> HostIndex {
        HostIndex::default()
    }

    /// Adds a pattern. If the same pattern is already present, nothing changes and the rule that
    /// holds it is returned, so the caller can report the conflict with both places.
    pub fn insert(&mut self, pattern: &Pattern, at: RuleRef) -> Result<(), RuleRef> {
        let slot = self
            .names
            .entry(pattern.name.as_bytes().into())
            .or_default();
        let place = if pattern.wildcard {
            &mut slot.wildcard
        } else {
            &mut slot.exact
        };
        match *place {
            Some(existing) => Err(existing),
            None => {
                *place = Some(at);
                Ok(())
            }
        }
    }

    /// Number of patterns in the index.
    pub fn len(&self) -> usize {
        self.names
            .values()
            .map(|slot| usize::from(slot.exact.is_some()) + usize::from(slot.wildcard.is_some()))
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The most specific pattern matching `host`, if any.
    ///
    /// Case-insensitive (ASCII); one trailing dot is ignored. On the full name an exact pattern
    /// beats a wildcard; after that, wildcards are tried on ever shorter label suffixes, so the
    /// longest matching suffix wins. Empty names and names over 253 characters match nothing.
    pub fn lookup(&self, host: &str) -> Option<RuleRef> {
        let raw = host.as_bytes();
        let raw = raw.strip_suffix(b".").unwrap_or(raw);
        if raw.is_empty() || raw.len() > MAX_NAME_LEN {
            return None;
        }
        let mut buf = [0u8; MAX_NAME_LEN];
        let name: &[u8] = if raw.iter().any(u8::is_ascii_uppercase) {
            let lowered = buf.get_mut(..raw.len())?;
            for (dst, src) in lowered.iter_mut().zip(raw) {
                *dst = src.to_ascii_lowercase();
            }
            lowered
        } else {
            raw
        };

        if let Some(slot) = self.names.get(name) {
            if let Some(found) = slot.exact.or(slot.wildcard) {
                return Some(found);
            }
        }
        for (at, &byte) in name.iter().enumerate() {
            if byte != b'.' {
                continue;
            }
            let suffix = name.get(at.saturating_add(1)..)?;
            if let Some(found) = self.names.get(suffix).and_then(|slot| slot.wildcard) {
                return Some(found);
            }
        }
        None
    }
}

/// A validated network prefix, e.g. `160.79.104.0/23` or `2607:6bc0::/48`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    network: IpAddr,
    prefix_len: u8,
}

impl Cidr {
    /// Parses `address/prefix` (a bare address means a single host). Refuses host bits set after
    /// the prefix (a typo more often than not) and prefixes shorter than /8 (IPv4) or /16 (IPv6),
    /// which would attribute large parts of the Internet to one service.
    pub fn parse(raw: &str) -> Result<Cidr, &'static str> {
        let (addr_text, len_text) = match raw.split_once('/') {
            Some((addr, len)) => (addr, Some(len)),
            None => (raw, None),
        };
        let network: IpAddr = addr_text
            .parse()
            .map_err(|_| "not an IPv4 or IPv6 address before the `/`")?;
        let max_len: u8 = if network.is_ipv4() { 32 } else { 128 };
        let prefix_len = match len_text {
            None => max_len,
            Some(text) => {
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return Err("the prefix length after `/` must be a number");
                }
                text.parse::<u8>()
                    .ok()
                    .filter(|len| *len <= max_len)
                    .ok_or("prefix length too long for this address family")?
            }
        };
        let min_len: u8 = if network.is_ipv4() { 8 } else { 16 };
        if prefix_len < min_len {
            return Err("prefix too short (at least /8 for IPv4 and /16 for IPv6)");
        }
        let cidr = Cidr {
            network,
            prefix_len,
        };
        if cidr.masked_network() != network_bits(network) {
            return Err("host bits are set after the prefix length");
        }
        Ok(cidr)
    }

    pub fn network(&self) -> IpAddr {
        self.network
    }

    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// Whether `ip` lies in this prefix (IPv4 prefixes also match IPv4-mapped IPv6 addresses).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = unmap(ip);
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask32(self.prefix_len);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask128(self.prefix_len);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }

    fn masked_network(&self) -> u128 {
        match self.network {
            IpAddr::V4(net) => u128::from(u32::from(net) & mask32(self.prefix_len)),
            IpAddr::V6(net) => u128::from(net) & mask128(self.prefix_len),
        }
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

fn network_bits(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`, as dual-stack sockets report IPv4 peers) as plain IPv4.
fn unmap(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn mask32(prefix_len: u8) -> u32 {
    // checked_shl(32) is None: a /0 mask is all zeros.
    u32::MAX
        .checked_shl(32u32.saturating_sub(u32::from(prefix_len)))
        .unwrap_or(0)
}

fn mask128(prefix_len: u8) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(u32::from(prefix_len)))
        .unwrap_or(0)
}

/// Network prefixes; the longest matching prefix wins.
#[derive(Debug, Default, Clone)]
pub struct CidrIndex {
    /// Kept sorted by prefix length, longest first, so the first hit is the most specific.
    entries: Vec<(Cidr, RuleRef)>,
}

impl CidrIndex {
    pub fn new() -> CidrIndex {
        CidrIndex::default()
    }

    /// Adds a prefix; the same prefix twice returns the rule that already holds it.
    pub fn insert(&mut self, cidr: Cidr, at: RuleRef) -> Result<(), RuleRef> {
        if let Some((_, existing)) = self.entries.iter().find(|(known, _)| *known == cidr) {
            return Err(*existing);
        }
        // Insert after every entry at least as long: longest first, ties in insertion order.
        let position = self
            .entries
            .iter()
            .position(|(known, _)| known.prefix_len < cidr.prefix_len)
            .unwrap_or(self.entries.len());
        self.entries.insert(position, (cidr, at));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The most specific prefix containing `ip`, if any.
    pub fn lookup(&self, ip: IpAddr) -> Option<RuleRef> {
        self.entries
            .iter()
            .find(|(cidr, _)| cidr.contains(ip))
            .map(|(_, at)| *at)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn at(service: usize) -> RuleRef {
        RuleRef { service, rule: 0 }
    }

    fn index(patterns: &[(&str, usize)]) -> HostIndex {
        let mut index = HostIndex::new();
        for (raw, service) in patterns {
            index
                .insert(&Pattern::parse(raw).unwrap(), at(*service))
                .unwrap();
        }
        index
    }

    #[test]
    fn patterns_are_normalised() {
        let p = Pattern::parse("*.OpenAI.COM.").unwrap();
        assert!(p.is_wildcard());
        assert_eq!(p.name(), "openai.com");
        assert_eq!(p.to_string(), "*.openai.com");
        let p = Pattern::parse("api.openai.com").unwrap();
        assert!(!p.is_wildcard());
        assert_eq!(p.to_string(), "api.openai.com");
        assert!(Pattern::parse("c.ai").is_ok());
        assert!(Pattern::parse("_dmarc.example.com").is_ok());
        assert!(Pattern::parse("xn--bcher-kva.example").is_ok());
    }

    #[test]
    fn bad_patterns_are_refused() {
        for raw in [
            "",
            "*",
            "*.",
            ".",
            "*.com",
            "com",
            "localhost",
            "a*b.com",
            "*a.com",
            "api.*.com",
            "**.example.com",
            "*.*.example.com",
            "a..b.com",
            ".example.com",
            "example.com..",
            "exa mple.com",
            " example.com",
            "example.com ",
            "exa/mple.com",
            "exämple.com",
            "https://example.com",
        ] {
            assert!(Pattern::parse(raw).is_err(), "{raw:?} should be refused");
        }
        let long_label = format!("{}.com", "a".repeat(64));
        assert!(Pattern::parse(&long_label).is_err());
        let long_name = format!("{}com", "abcdefghi.".repeat(26));
        assert!(long_name.len() > MAX_NAME_LEN);
        assert!(Pattern::parse(&long_name).is_err());
    }

    #[test]
    fn wildcard_matches_the_suffix_itself_and_subdomains_on_label_boundaries() {
        let index = index(&[("*.openai.com", 1), ("chatgpt.com", 2)]);
        assert_eq!(index.lookup("openai.com"), Some(at(1)));
        assert_eq!(index.lookup("chat.openai.com"), Some(at(1)));
        assert_eq!(index.lookup("a.b.c.openai.com"), Some(at(1)));
        assert_eq!(index.lookup("chatgpt.com"), Some(at(2)));
        for miss in [
            "notopenai.com",
            "openai.com.example.net",
            "openai.co",
            "penai.com",
            "com",
            "chatgpt.com.evil.test",
            "www.chatgpt.com", // exact pattern: no subdomains
            "xchatgpt.com",
            "",
            ".",
        ] {
            assert_eq!(index.lookup(miss), None, "{miss:?}");
        }
    }

    #[test]
    fn case_and_one_trailing_dot_are_ignored() {
        let index = index(&[("*.openai.com", 1), ("chatgpt.com", 2)]);
        assert_eq!(index.lookup("API.OpenAI.Com"), Some(at(1)));
        assert_eq!(index.lookup("api.openai.com."), Some(at(1)));
        assert_eq!(index.lookup("CHATGPT.COM."), Some(at(2)));
        assert_eq!(index.lookup("chatgpt.com.."), None);
    }

    #[test]
    fn most_specific_pattern_wins() {
        let index = index(&[
            ("*.googlish.test", 1),
            ("gemini.googlish.test", 2),
            ("*.labs.googlish.test", 3),
            ("*.gemini.googlish.test", 4),
        ]);
        assert_eq!(index.lookup("www.googlish.test"), Some(at(1)));
        assert_eq!(index.lookup("googlish.test"), Some(at(1)));
        // An exact name beats a wildcard on the same name...
        assert_eq!(index.lookup("gemini.googlish.test"), Some(at(2)));
        // ...and a longer suffix beats a shorter one.
        assert_eq!(index.lookup("x.gemini.googlish.test"), Some(at(4)));
        assert_eq!(index.lookup("labs.googlish.test"), Some(at(3)));
        assert_eq!(index.lookup("a.b.labs.googlish.test"), Some(at(3)));
        assert_eq!(index.lookup("xlabs.googlish.test"), Some(at(1)));
    }

    #[test]
    fn the_same_pattern_twice_reports_the_first_holder() {
        let mut index = HostIndex::new();
        let p = Pattern::parse("*.example.com").unwrap();
        index.insert(&p, at(1)).unwrap();
        assert_eq!(index.insert(&p, at(2)), Err(at(1)));
        // Exact and wildcard on one name are different patterns.
        index
            .insert(&Pattern::parse("example.com").unwrap(), at(3))
            .unwrap();
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn odd_names_do_not_panic_or_match_wrongly() {
        let index = index(&[("*.openai.com", 1)]);
        let too_long = format!("{}openai.com", "a.".repeat(130));
        assert!(too_long.len() > MAX_NAME_LEN);
        assert_eq!(index.lookup(&too_long), None);
        let just_fits = format!(
            "{}.openai.com",
            "a".repeat(MAX_NAME_LEN - ".openai.com".len())
        );
        assert_eq!(just_fits.len(), MAX_NAME_LEN);
        assert_eq!(index.lookup(&just_fits), Some(at(1)));
        let upper_fits = just_fits.to_ascii_uppercase();
        assert_eq!(index.lookup(&upper_fits), Some(at(1)));
        // Still a subdomain on a label boundary, even if malformed before it.
        assert_eq!(index.lookup("a..openai.com"), Some(at(1)));
        assert_eq!(index.lookup("ü.openai.com"), Some(at(1)));
        assert_eq!(index.lookup("openai.com\0"), None);
        assert_eq!(index.lookup("..."), None);
        for len in 0..40 {
            let name: String = "Ab.c.openai.com.".chars().cycle().take(len).collect();
            let _ = index.lookup(&name);
        }
    }

    #[test]
    fn cidrs_parse_and_refuse_mistakes() {
        let c = Cidr::parse("160.79.104.0/23").unwrap();
        assert_eq!(c.prefix_len(), 23);
        assert_eq!(c.to_string(), "160.79.104.0/23");
        assert_eq!(Cidr::parse("2607:6bc0::/48").unwrap().prefix_len(), 48);
        assert_eq!(Cidr::parse("192.0.2.7").unwrap().prefix_len(), 32);
        assert_eq!(Cidr::parse("2001:db8::1").unwrap().prefix_len(), 128);
        for bad in [
            "",
            "/24",
            "160.79.104.0/",
            "160.79.104.0/33",
            "160.79.104.0/-1",
            "160.79.104.0/+8",
            "160.79.104.0/2x",
            "160.79.105.0/23",
            "0.0.0.0/0",
            "10.0.0.0/7",
            "2607:6bc0::/129",
            "2607:6bc0::1/48",
            "::/0",
            "160.79.104/23",
            "example.com/24",
            "160.79.104.0/23 ",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn cidr_matching_v4_v6_and_most_specific() {
        let mut index = CidrIndex::new();
        index
            .insert(Cidr::parse("160.79.104.0/21").unwrap(), at(1))
            .unwrap();
        index
            .insert(Cidr::parse("160.79.104.0/23").unwrap(), at(2))
            .unwrap();
        index
            .insert(Cidr::parse("2607:6bc0::/48").unwrap(), at(3))
            .unwrap();
        assert_eq!(
            index.insert(Cidr::parse("160.79.104.0/23").unwrap(), at(9)),
            Err(at(2))
        );
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(index.lookup(ip("160.79.104.10")), Some(at(2)));
        assert_eq!(index.lookup(ip("160.79.105.255")), Some(at(2)));
        assert_eq!(index.lookup(ip("160.79.106.1")), Some(at(1)));
        assert_eq!(index.lookup(ip("160.79.111.255")), Some(at(1)));
        assert_eq!(index.lookup(ip("160.79.112.0")), None);
        assert_eq!(index.lookup(ip("160.79.103.255")), None);
        assert_eq!(index.lookup(ip("::ffff:160.79.104.1")), Some(at(2)));
        assert_eq!(index.lookup(ip("2607:6bc0::1")), Some(at(3)));
        assert_eq!(index.lookup(ip("2607:6bc0:0:ffff::1")), Some(at(3)));
        assert_eq!(index.lookup(ip("2607:6bc0:1::1")), None);
        assert_eq!(index.lookup(ip("2607:6bbf:ffff::1")), None);
        // IPv4 compared as IPv6 bits must not collide with an IPv6 prefix.
        assert_eq!(index.lookup(ip("::a04f:6801")), None);
    }

    #[test]
    fn masks_at_the_edges() {
        assert_eq!(mask32(0), 0);
        assert_eq!(mask32(32), u32::MAX);
        assert_eq!(mask32(8), 0xff00_0000);
        assert_eq!(mask128(0), 0);
        assert_eq!(mask128(128), u128::MAX);
    }
}
