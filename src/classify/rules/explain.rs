//! Explaining and checking, for people at the command line: why a host name or an address
//! does or does not match a rule (`shadowai rules test`), and whether a folder of rule files
//! loads on its own (`shadowai rules check`).
//!
//! It never changes what matches: a verdict other than `Matched` is a hint for people, not a
//! finding. It is not for the per-packet path, since explaining a name scans the whole
//! catalogue for look-alikes.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;

use super::validate::Origin;
use super::{
    embedded_files, read_rule_file, rule_files_in, write_escaped, Catalogue, HostMatch, IpMatch,
    RuleError, Service, SHARED_INFRASTRUCTURE,
};
use crate::classify::matcher::{PatternForm, MAX_NAME_LEN};

/// Why a host name does or does not match, for `shadowai rules test NAME`
/// ([`Catalogue::explain_host`]). `Display` gives one line for people, with control characters
/// escaped.
#[derive(Debug, Clone)]
pub struct HostExplanation<'a> {
    /// The name as compared: ASCII lower case, one trailing dot removed.
    pub name: String,
    pub verdict: HostVerdict<'a>,
}

/// The outcome of [`Catalogue::explain_host`].
#[derive(Debug, Clone)]
pub enum HostVerdict<'a> {
    /// The most specific matching pattern, and which of the three forms it has.
    Matched {
        hit: HostMatch<'a>,
        form: PatternForm,
    },
    /// Nothing matched, and the name could not be a host name anyway (the reason says why).
    NotAHostName(&'static str),
    /// Nothing matched, and the name is (or is below) an entry of [`SHARED_INFRASTRUCTURE`]:
    /// such names are never a signature on their own.
    SharedInfrastructure { entry: &'static str },
    /// Nothing matched, but the name contains a catalogue name that ends on a label boundary
    /// without being a whole-label suffix (`notopenai.com`, `openai.com.example.net`). A hint
    /// for people, not a finding.
    LookAlike {
        service: &'a Service,
        pattern: &'a str,
    },
    /// No pattern matches.
    NoMatch,
}

/// Why an address does or does not match, for `shadowai rules test IP`
/// ([`Catalogue::explain_ip`]).
#[derive(Debug, Clone)]
pub struct IpExplanation<'a> {
    pub ip: IpAddr,
    pub verdict: IpVerdict<'a>,
}

/// The outcome of [`Catalogue::explain_ip`].
#[derive(Debug, Clone)]
pub enum IpVerdict<'a> {
    /// The most specific published range containing the address.
    Matched(IpMatch<'a>),
    /// Nothing matched, and the address is not a public unicast one (the reason says which
    /// kind), so it can never be an AI service's address.
    NotPublic(&'static str),
    /// No published range contains the address.
    NoMatch,
}

/// What [`Catalogue::check_dir`] found in a folder of rule files that loaded without error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct CheckSummary {
    /// Rule files (`*.yaml`, `*.yml`) read.
    pub files: usize,
    pub services: usize,
    /// Host patterns over all services.
    pub hosts: usize,
    /// Address ranges over all services.
    pub cidrs: usize,
}

impl fmt::Display for CheckSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} files, {} services, {} host patterns, {} cidrs",
            self.files, self.services, self.hosts, self.cidrs
        )
    }
}

impl Catalogue {
    /// Explains how `host` is classified: the matching service and pattern, or why nothing
    /// matches. Meant for `shadowai rules test NAME`; it scans the catalogue for look-alikes,
    /// so it is not for the per-packet path (use [`Catalogue::match_host`] there).
    pub fn explain_host(&self, host: &str) -> HostExplanation<'_> {
        let trimmed = host.strip_suffix('.').unwrap_or(host);
        let name = trimmed.to_ascii_lowercase();
        let verdict = match self.match_host(host) {
            Some(hit) => HostVerdict::Matched {
                form: PatternForm::of(hit.pattern),
                hit,
            },
            None => {
                if let Some(why) = not_a_host_name(&name) {
                    HostVerdict::NotAHostName(why)
                } else if let Some(entry) = shared_entry_for(&name) {
                    HostVerdict::SharedInfrastructure { entry }
                } else if let Some((service, pattern)) = self.look_alike_of(&name) {
                    HostVerdict::LookAlike { service, pattern }
                } else {
                    HostVerdict::NoMatch
                }
            }
        };
        HostExplanation { name, verdict }
    }

    /// Explains how `ip` is classified: the matching service and range, or why nothing
    /// matches. Meant for `shadowai rules test IP`.
    pub fn explain_ip(&self, ip: IpAddr) -> IpExplanation<'_> {
        let verdict = match self.match_ip(ip) {
            Some(hit) => IpVerdict::Matched(hit),
            None => match not_public(ip) {
                Some(kind) => IpVerdict::NotPublic(kind),
                None => IpVerdict::NoMatch,
            },
        };
        IpExplanation { ip, verdict }
    }

    /// Checks a folder of rule files on their own, without the embedded ones (for
    /// `shadowai rules check DIR`): every `*.yaml` / `*.yml` file in it must load, ids and
    /// patterns must be unique among them. A folder without rule files is an error, so a
    /// mistyped path does not pass. Whether the folder also fits together with the embedded
    /// files is what [`Catalogue::load`] checks.
    pub fn check_dir(dir: &Path) -> Result<CheckSummary, RuleError> {
        let mut files = Vec::new();
        for (_, path) in rule_files_in(dir)? {
            let display = path.display().to_string();
            let text = read_rule_file(&path, &display)?;
            files.push((display, text));
        }
        if files.is_empty() {
            return Err(RuleError::new(
                &dir.display().to_string(),
                None,
                None,
                "no rule files (*.yaml, *.yml) in this directory".to_owned(),
            ));
        }
        let catalogue = Catalogue::from_sources(&files)?;
        Ok(catalogue.summary(files.len()))
    }

    /// The same check for the files compiled into the binary (`shadowai rules check` without
    /// a directory).
    pub fn check_embedded() -> Result<CheckSummary, RuleError> {
        let catalogue = Catalogue::embedded_from_yaml()?;
        Ok(catalogue.summary(embedded_files().len()))
    }

    fn summary(&self, files: usize) -> CheckSummary {
        CheckSummary {
            files,
            services: self.services.len(),
            hosts: self.services.iter().map(|s| s.hosts.len()).sum(),
            cidrs: self.services.iter().map(|s| s.cidrs.len()).sum(),
        }
    }

    /// The longest exact or wildcard pattern name that `name` contains ending on a label
    /// boundary, when the label before its top-level domain has at least four characters
    /// (shorter ones such as `x.ai` end too many unrelated names to be a useful hint) and the
    /// pattern's part of the label it starts in is at least half that label: `notopenai.com`
    /// looks like `openai.com`, `visualstudio.com` does not look like `udio.com`.
    fn look_alike_of(&self, name: &str) -> Option<(&Service, &str)> {
        let mut best: Option<(&Service, &str, usize)> = None;
        for service in &self.services {
            for rule in &service.hosts {
                if PatternForm::of(&rule.pattern) == PatternForm::Templated {
                    continue;
                }
                let wanted = rule.pattern.trim_start_matches("*.");
                let domain_label = wanted.rsplit('.').nth(1).unwrap_or("");
                if domain_label.len() < 4 || best.is_some_and(|(_, _, len)| len >= wanted.len()) {
                    continue;
                }
                let first_label = wanted.find('.').unwrap_or(wanted.len());
                let looks_alike = name.match_indices(wanted).any(|(at, _)| {
                    let end = at.saturating_add(wanted.len());
                    let label_start = name.get(..at).and_then(|head| head.rfind('.'));
                    let label_len = at + first_label - label_start.map_or(0, |dot| dot + 1);
                    name.as_bytes().get(end).is_none_or(|b| *b == b'.')
                        && 2 * first_label >= label_len
                });
                if looks_alike {
                    best = Some((service, rule.pattern.as_str(), wanted.len()));
                }
            }
        }
        best.map(|(service, pattern, _)| (service, pattern))
    }
}

/// Why `name` (lower case, no trailing dot) cannot be a host name, if it cannot.
fn not_a_host_name(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        return Some("empty name");
    }
    if name.len() > MAX_NAME_LEN {
        return Some("longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Some("an empty label (two dots in a row, or a leading dot)");
        }
        if label.len() > 63 {
            return Some("a label is longer than 63 characters");
        }
        if !label
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Some("characters other than letters, digits, `-`, `_` and `.`");
        }
    }
    None
}

/// The most specific entry of [`SHARED_INFRASTRUCTURE`] that `name` is or lies below.
fn shared_entry_for(name: &str) -> Option<&'static str> {
    SHARED_INFRASTRUCTURE
        .iter()
        .copied()
        .filter(|entry| {
            name == *entry
                || name
                    .strip_suffix(entry)
                    .is_some_and(|head| head.ends_with('.'))
        })
        .max_by_key(|entry| entry.len())
}

/// What kind of non-public address `ip` is, if it is one (IPv4-mapped IPv6 as IPv4).
fn not_public(ip: IpAddr) -> Option<&'static str> {
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            if v4.is_unspecified() {
                Some("the unspecified address")
            } else if v4.is_loopback() {
                Some("a loopback address")
            } else if v4.is_private() {
                Some("a private (RFC 1918) address")
            } else if a == 100 && (64..128).contains(&b) {
                Some("a carrier-grade NAT (RFC 6598) address")
            } else if v4.is_link_local() {
                Some("a link-local address")
            } else if v4.is_multicast() || v4.is_broadcast() {
                Some("a multicast or broadcast address")
            } else if v4.is_documentation() {
                Some("a documentation (RFC 5737) address")
            } else {
                None
            }
        }
        IpAddr::V6(v6) => {
            let [first, second, ..] = v6.segments();
            if v6.is_unspecified() {
                Some("the unspecified address")
            } else if v6.is_loopback() {
                Some("a loopback address")
            } else if v6.is_unique_local() {
                Some("a unique local (fc00::/7) address")
            } else if v6.is_unicast_link_local() {
                Some("a link-local address")
            } else if v6.is_multicast() {
                Some("a multicast address")
            } else if first == 0x2001 && second == 0x0db8 {
                Some("a documentation (2001:db8::/32) address")
            } else {
                None
            }
        }
    }
}

impl fmt::Display for HostExplanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.name)?;
        f.write_str(": ")?;
        match &self.verdict {
            HostVerdict::Matched { hit, form } => {
                let place = Origin {
                    file: hit.service.file.clone(),
                    line: hit.rule.line,
                };
                write!(
                    f,
                    "{} (`{}`, {}), {form} pattern `{}` from {place}, {}; source: ",
                    hit.service.name,
                    hit.service.id,
                    hit.service.kind,
                    hit.pattern,
                    hit.rule.confidence,
                )?;
                write_escaped(f, &hit.rule.source)
            }
            HostVerdict::NotAHostName(why) => {
                write!(f, "no pattern matches; not a host name ({why})")
            }
            HostVerdict::SharedInfrastructure { entry } => write!(
                f,
                "no pattern matches; a shared-infrastructure host (`{entry}`): \
                 never a signature on its own"
            ),
            HostVerdict::LookAlike { service, pattern } => write!(
                f,
                "no pattern matches; look-alike of `{pattern}` ({}), which matches only on \
                 whole labels",
                service.name
            ),
            HostVerdict::NoMatch => f.write_str("no pattern matches"),
        }
    }
}

impl fmt::Display for IpExplanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.ip)?;
        match &self.verdict {
            IpVerdict::Matched(hit) => {
                let place = Origin {
                    file: hit.service.file.clone(),
                    line: hit.rule.line,
                };
                write!(
                    f,
                    "{} (`{}`, {}), range {} from {place}; source: ",
                    hit.service.name, hit.service.id, hit.service.kind, hit.cidr
                )?;
                write_escaped(f, &hit.rule.source)
            }
            IpVerdict::NotPublic(kind) => {
                write!(f, "no range matches; {kind}, never an AI service's address")
            }
            IpVerdict::NoMatch => f.write_str(
                "no range matches (few AI services publish address ranges; most are found by name)",
            ),
        }
    }
}
