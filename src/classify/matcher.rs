//! The lookup structures behind the signature catalogue: host patterns and CIDR prefixes.
//!
//! The pattern language and the "most specific wins" rule are documented at the top of
//! `rules.rs`; this file implements them. It knows nothing about services or YAML: entries are
//! opaque [`RuleRef`]s that the catalogue hands in and gets back.
//!
//! The host lookup runs for every flow name and DNS answer, so it uses no regex and never
//! allocates: an upper-case name is lower-cased into a stack buffer, then the name and each of
//! its label suffixes (longest first) is looked up in one hash map. Templated patterns
//! (`bedrock-runtime.+.amazonaws.com`) hang off the slot of their fixed suffix
//! (`amazonaws.com`), so they cost no extra hash lookup and are compared label by label only
//! when that suffix is present. It refuses names longer than a DNS name can be (253 characters)
//! instead of truncating them.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;

/// Longest DNS name in text form, without the trailing dot (RFC 1035: 255 octets on the wire).
pub const MAX_NAME_LEN: usize = 253;

/// Longest label of a DNS name.
const MAX_LABEL_LEN: usize = 63;

/// The label that stands for exactly one label of the looked-up name.
const ANY_LABEL: &str = "+";

/// Where a pattern or prefix came from: the index of its service and of the rule in that service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleRef {
    pub service: usize,
    pub rule: usize,
}

/// The three shapes a host pattern can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PatternForm {
    /// `api.openai.com`: that name only.
    Exact,
    /// `*.openai.com`: the name itself and every name below it.
    Wildcard,
    /// `bedrock-runtime.+.amazonaws.com`: each `+` is exactly one label, the rest is fixed.
    Templated,
}

impl PatternForm {
    /// The form of a pattern in canonical written form (as [`Pattern`] displays it).
    pub fn of(canonical: &str) -> PatternForm {
        if canonical.starts_with("*.") {
            PatternForm::Wildcard
        } else if canonical.split('.').any(|label| label == ANY_LABEL) {
            PatternForm::Templated
        } else {
            PatternForm::Exact
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PatternForm::Exact => "exact",
            PatternForm::Wildcard => "wildcard",
            PatternForm::Templated => "templated",
        }
    }
}

impl fmt::Display for PatternForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A validated host pattern: an exact name, `*.suffix` (the suffix itself and its subdomains),
/// or a name with `+` labels, each standing for exactly one label.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pattern {
    /// Lower-case name without the `*.` and without a trailing dot; may contain `+` labels.
    name: String,
    form: PatternForm,
}

impl Pattern {
    /// Validates and normalises a pattern as written in a rule file.
    ///
    /// Accepted: `name.tld`, `*.name.tld` or a name with whole `+` labels such as
    /// `bedrock-runtime.+.amazonaws.com`; case-insensitive, one trailing dot ignored; labels of
    /// 1 to 63 characters from `a-z 0-9 - _`; at least two labels, so that no pattern can cover
    /// a whole top-level domain. Refused: `*` anywhere but a leading `*.`, `+` inside a label
    /// (`+-aiplatform`), `+` together with `*.`, `+` without at least two fixed labels after its
    /// last occurrence (`bedrock.+.com` would match any domain), empty labels, spaces and other
    /// characters, names longer than 253 characters.
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
        let mut any_labels = 0usize;
        // Fixed labels after the last `+`, counted from the right.
        let mut fixed_tail = 0usize;
        for label in name.split('.') {
            if label.is_empty() {
                return Err("empty label (two dots in a row, or a leading dot)");
            }
            labels = labels.saturating_add(1);
            if label == ANY_LABEL {
                any_labels = any_labels.saturating_add(1);
                fixed_tail = 0;
                continue;
            }
            if label.contains('+') {
                return Err("`+` must be a whole label, as in `bedrock-runtime.+.amazonaws.com`");
            }
            if label.len() > MAX_LABEL_LEN {
                return Err("a label is longer than 63 characters");
            }
            if !is_label(label.as_bytes()) {
                return Err("only letters, digits, `-`, `_` and `.` are allowed in a host name");
            }
            fixed_tail = fixed_tail.saturating_add(1);
        }
        if labels < 2 {
            return Err(
                "needs at least two labels (a pattern may not cover a whole top-level domain)",
            );
        }
        if any_labels > 0 {
            if wildcard {
                return Err("`*.` and `+` cannot be combined in one pattern");
            }
            if fixed_tail < 2 {
                return Err("`+` needs at least two fixed labels after it, \
                     as in `bedrock-runtime.+.amazonaws.com`");
            }
        }
        let form = if wildcard {
            PatternForm::Wildcard
        } else if any_labels > 0 {
            PatternForm::Templated
        } else {
            PatternForm::Exact
        };
        Ok(Pattern {
            name: name.to_ascii_lowercase(),
            form,
        })
    }

    /// The name without `*.`, lower-case; `+` labels are kept.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn form(&self) -> PatternForm {
        self.form
    }

    /// Whether this is a `*.suffix` pattern.
    pub fn is_wildcard(&self) -> bool {
        self.form == PatternForm::Wildcard
    }

    /// Whether this pattern has `+` labels.
    pub fn is_templated(&self) -> bool {
        self.form == PatternForm::Templated
    }

    /// The name from its first fixed label on: `amazonaws.com` for `+.amazonaws.com`, the whole
    /// name otherwise. A pattern whose fixed part is a shared name covers all of that name's
    /// children one level down, so the shared-infrastructure check looks at this.
    pub fn fixed_start(&self) -> &str {
        let mut rest = self.name.as_str();
        while let Some(after) = rest.strip_prefix("+.") {
            rest = after;
        }
        rest
    }
}

impl fmt::Display for Pattern {
    /// The canonical written form: `*.openai.com`, `api.openai.com` or
    /// `bedrock-runtime.+.amazonaws.com`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.form == PatternForm::Wildcard {
            f.write_str("*.")?;
        }
        f.write_str(&self.name)
    }
}

/// A label of 1 to 63 characters from `a-z A-Z 0-9 - _`.
fn is_label(label: &[u8]) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && label
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// A templated pattern, stored under its fixed suffix (the labels after its last `+`).
#[derive(Debug, Clone)]
struct Template {
    /// The labels left of the fixed suffix, right to left; `None` is a `+`. The first is
    /// always `None`.
    labels: Box<[Option<Box<[u8]>>]>,
    at: RuleRef,
}

impl Template {
    /// Whether the part of a looked-up name left of the fixed suffix (without the dot between
    /// them) fits: as many labels, equal where fixed, a plain label where `+`.
    fn matches(&self, prefix: &[u8]) -> bool {
        let mut name_labels = prefix.rsplit(|b| *b == b'.');
        for wanted in self.labels.iter() {
            let Some(label) = name_labels.next() else {
                return false;
            };
            let fits = match wanted {
                Some(fixed) => label == &fixed[..],
                None => is_label(label),
            };
            if !fits {
                return false;
            }
        }
        name_labels.next().is_none()
    }
}

/// Which of two templates under the same fixed suffix is more specific: reading right to left,
/// at the first position where they differ a fixed label beats a `+`. Templates of different
/// lengths, or with different fixed labels at one position, never match the same name; they
/// still get a fixed order so the bucket is sorted deterministically.
fn more_specific_first(a: &Template, b: &Template) -> Ordering {
    for (left, right) in a.labels.iter().zip(b.labels.iter()) {
        let order = match (left, right) {
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (Some(x), Some(y)) => x.cmp(y),
            (None, None) => Ordering::Equal,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    a.labels.len().cmp(&b.labels.len())
}

/// The rules that sit on one name: an exact pattern, a `*.` pattern, and the templated patterns
/// whose fixed suffix is this name (most specific first).
#[derive(Debug, Default, Clone)]
struct Slot {
    exact: Option<RuleRef>,
    wildcard: Option<RuleRef>,
    templates: Vec<Template>,
}

/// Host patterns keyed by their lower-case name (templated ones by their fixed suffix).
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
        if pattern.form == PatternForm::Templated {
            return self.insert_template(pattern, at);
        }
        let slot = self
            .names
            .entry(pattern.name.as_bytes().into())
            .or_default();
        let place = if pattern.form == PatternForm::Wildcard {
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

    fn insert_template(&mut self, pattern: &Pattern, at: RuleRef) -> Result<(), RuleRef> {
        // Split `a.+.c.example.com` into the part up to the last `+` and the fixed suffix.
        let name = pattern.name.as_str();
        let labels: Vec<&str> = name.split('.').collect();
        let last_any = labels
            .iter()
            .rposition(|label| *label == ANY_LABEL)
            .unwrap_or(0);
        let suffix = labels
            .get(last_any.saturating_add(1)..)
            .unwrap_or(&[])
            .join(".");
        let left: Box<[Option<Box<[u8]>>]> = labels
            .get(..=last_any)
            .unwrap_or(&[])
            .iter()
            .rev()
            .map(|label| (*label != ANY_LABEL).then(|| label.as_bytes().into()))
            .collect();
        let template = Template { labels: left, at };
        let slot = self.names.entry(suffix.into_bytes().into()).or_default();
        if let Some(existing) = slot
            .templates
            .iter()
            .find(|known| known.labels == template.labels)
        {
            return Err(existing.at);
        }
        let position = slot
            .templates
            .iter()
            .position(|known| more_specific_first(&template, known) == Ordering::Less)
            .unwrap_or(slot.templates.len());
        slot.templates.insert(position, template);
        Ok(())
    }

    /// Number of patterns in the index.
    pub fn len(&self) -> usize {
        self.names
            .values()
            .map(|slot| {
                usize::from(slot.exact.is_some())
                    + usize::from(slot.wildcard.is_some())
                    + slot.templates.len()
            })
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The most specific pattern matching `host`, if any.
    ///
    /// Case-insensitive (ASCII); one trailing dot is ignored. Patterns are ranked label by label
    /// from the right: at the first position where two matching patterns differ, a fixed label
    /// beats `+`, which beats the open end of a `*.` pattern. So on the full name an exact
    /// pattern beats a wildcard; after that, each ever shorter label suffix is tried with its
    /// templated patterns first, then its wildcard. Empty names and names over 253 characters
    /// match nothing.
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
            let Some(slot) = self.names.get(name.get(at.saturating_add(1)..)?) else {
                continue;
            };
            let prefix = name.get(..at)?;
            if let Some(template) = slot.templates.iter().find(|t| t.matches(prefix)) {
                return Some(template.at);
            }
            if let Some(found) = slot.wildcard {
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
    fn templated_patterns_parse_and_keep_their_form() {
        for (raw, canonical) in [
            (
                "bedrock-runtime.+.amazonaws.com",
                "bedrock-runtime.+.amazonaws.com",
            ),
            (
                "Bedrock-Runtime.+.AmazonAWS.com.",
                "bedrock-runtime.+.amazonaws.com",
            ),
            ("+.example.com", "+.example.com"),
            ("copilot-api.+.ghe.com", "copilot-api.+.ghe.com"),
            ("a.+.b.+.example.com", "a.+.b.+.example.com"),
            ("+.+.example.com", "+.+.example.com"),
        ] {
            let p = Pattern::parse(raw).unwrap();
            assert_eq!(p.to_string(), canonical, "{raw}");
            assert_eq!(p.form(), PatternForm::Templated, "{raw}");
            assert!(p.is_templated() && !p.is_wildcard());
            assert_eq!(PatternForm::of(canonical), PatternForm::Templated);
        }
        assert_eq!(
            Pattern::parse("+.+.amazonaws.com").unwrap().fixed_start(),
            "amazonaws.com"
        );
        assert_eq!(
            Pattern::parse("q.+.amazonaws.com").unwrap().fixed_start(),
            "q.+.amazonaws.com"
        );
        assert_eq!(PatternForm::of("*.openai.com"), PatternForm::Wildcard);
        assert_eq!(PatternForm::of("api.openai.com"), PatternForm::Exact);
        assert_eq!(PatternForm::of("a+b.openai.com"), PatternForm::Exact);
    }

    #[test]
    fn bad_templated_patterns_are_refused() {
        for raw in [
            "+",
            "+.",
            "+.+",
            "+.com",
            "bedrock.+",
            "bedrock.+.com",
            "example.+.com",
            "+.example.+",
            "+-aiplatform.googleapis.com",
            "us-+.aiplatform.googleapis.com",
            "a+.example.com",
            "++.example.com",
            "*.+.example.com",
            "*.bedrock.+.example.com",
            "+*.example.com",
            "bedrock..+.example.com",
        ] {
            assert!(Pattern::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn a_plus_label_matches_exactly_one_label() {
        let index = index(&[("bedrock-runtime.+.amazonaws.com", 1)]);
        for hit in [
            "bedrock-runtime.us-east-1.amazonaws.com",
            "bedrock-runtime.eu-central-1.amazonaws.com",
            "Bedrock-Runtime.US-EAST-1.AmazonAWS.com.",
            "bedrock-runtime.x.amazonaws.com",
        ] {
            assert_eq!(index.lookup(hit), Some(at(1)), "{hit}");
        }
        for miss in [
            "bedrock-runtime.amazonaws.com",
            "bedrock-runtime.us-east-1.amazonaws.com.evil.test",
            "x.bedrock-runtime.us-east-1.amazonaws.com",
            "bedrock-runtime.a.b.amazonaws.com",
            "bedrock-runtime..amazonaws.com",
            "notbedrock-runtime.us-east-1.amazonaws.com",
            "bedrock-runtimex.us-east-1.amazonaws.com",
            "bedrock-runtime.us-east-1.amazonaws.co",
            "bedrock-runtime.us-east-1.notamazonaws.com",
            "bedrock-runtime.us east 1.amazonaws.com",
            "bedrock-runtime.ü.amazonaws.com",
            "s3.us-east-1.amazonaws.com",
            "amazonaws.com",
            "us-east-1.amazonaws.com",
            "",
        ] {
            assert_eq!(index.lookup(miss), None, "{miss:?}");
        }
        let long_label = format!("bedrock-runtime.{}.amazonaws.com", "a".repeat(64));
        assert_eq!(index.lookup(&long_label), None);
        let max_label = format!("bedrock-runtime.{}.amazonaws.com", "a".repeat(63));
        assert_eq!(index.lookup(&max_label), Some(at(1)));
    }

    #[test]
    fn templated_patterns_rank_between_exact_and_wildcard() {
        let index = index(&[
            ("*.example.com", 1),
            ("api.+.example.com", 2),
            ("api.eu.example.com", 3),
            ("*.sora.example.com", 4),
            ("+.example.com", 5),
            ("+.sora.example.com", 6),
        ]);
        // An exact name beats everything.
        assert_eq!(index.lookup("api.eu.example.com"), Some(at(3)));
        // A template beats a wildcard on the same fixed suffix...
        assert_eq!(index.lookup("api.us.example.com"), Some(at(2)));
        assert_eq!(index.lookup("www.example.com"), Some(at(5)));
        assert_eq!(index.lookup("a.sora.example.com"), Some(at(6)));
        // ...but a wildcard with a longer fixed suffix beats a template with a `+` there.
        assert_eq!(index.lookup("sora.example.com"), Some(at(4)));
        assert_eq!(index.lookup("a.b.sora.example.com"), Some(at(4)));
        // Names the templates do not fit fall back to the wildcard.
        assert_eq!(index.lookup("web.us.example.com"), Some(at(1)));
        assert_eq!(index.lookup("a.b.c.example.com"), Some(at(1)));
        assert_eq!(index.lookup("example.com"), Some(at(1)));
    }

    #[test]
    fn between_templates_the_longer_fixed_tail_wins_in_any_insertion_order() {
        let patterns = [
            ("a.+.example.com", 1),
            ("+.b.example.com", 2),
            ("+.+.example.com", 3),
            ("+.+.+.example.com", 4),
        ];
        let mut reversed = patterns;
        reversed.reverse();
        for order in [patterns, reversed] {
            let index = index(&order);
            assert_eq!(index.lookup("a.b.example.com"), Some(at(2)));
            assert_eq!(index.lookup("a.c.example.com"), Some(at(1)));
            assert_eq!(index.lookup("z.c.example.com"), Some(at(3)));
            assert_eq!(index.lookup("z.z.z.example.com"), Some(at(4)));
            assert_eq!(index.lookup("z.example.com"), None);
            assert_eq!(index.len(), 4);
        }
    }

    #[test]
    fn the_same_template_twice_reports_the_first_holder() {
        let mut index = HostIndex::new();
        let p = Pattern::parse("q.+.amazonaws.com").unwrap();
        index.insert(&p, at(1)).unwrap();
        let again = Pattern::parse("Q.+.AMAZONAWS.COM.").unwrap();
        assert_eq!(index.insert(&again, at(2)), Err(at(1)));
        // Another shape on the same suffix is a different pattern.
        index
            .insert(&Pattern::parse("+.q.amazonaws.com").unwrap(), at(3))
            .unwrap();
        index
            .insert(&Pattern::parse("q.amazonaws.com").unwrap(), at(4))
            .unwrap();
        assert_eq!(index.len(), 3);
    }

    #[test]
    fn templated_lookups_of_odd_names_do_not_panic() {
        let index = index(&[
            ("bedrock-runtime.+.amazonaws.com", 1),
            ("+.+.example.com", 2),
            ("*.example.com", 3),
        ]);
        let samples = [
            "Bedrock-Runtime.us-east-1.amazonaws.com.",
            "..example.com",
            "a..b.example.com",
            ".bedrock-runtime.x.amazonaws.com",
        ];
        for sample in samples {
            for len in 0..=sample.len() {
                if let Some(cut) = sample.get(..len) {
                    let _ = index.lookup(cut);
                }
                if let Some(cut) = sample.get(len..) {
                    let _ = index.lookup(cut);
                }
            }
        }
        // Empty labels are not labels: the wildcard catches these instead.
        assert_eq!(index.lookup("..example.com"), Some(at(3)));
        assert_eq!(index.lookup("a..example.com"), Some(at(3)));
        assert_eq!(index.lookup("a.b.example.com"), Some(at(2)));
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
