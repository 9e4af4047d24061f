//! The signature catalogue: which host names and address ranges belong to which AI service.
//!
//! Rules live in `rules/*.yaml` (one file per vendor or family), are compiled into the binary by
//! `build.rs`, and can be replaced or extended from directories given at run time
//! ([`Catalogue::load`]). Loading checks everything it can and refuses the whole catalogue on the
//! first problem, naming file, line and column: a half-loaded signature set would make a report
//! silently wrong. It does not fetch anything from the network and does not guess.
//!
//! # Host patterns
//!
//! A pattern has one of three forms:
//!
//! - **Exact**, `api.openai.com`: that name only.
//! - **Wildcard**, `*.openai.com`: `openai.com` itself and every name ending in `.openai.com`.
//!   The `*` stands for zero or more whole labels; it is allowed only as the first label.
//! - **Templated**, `bedrock-runtime.+.amazonaws.com`: each `+` stands for exactly one whole
//!   label of 1–63 characters from `a-z 0-9 - _` (here the region, as in
//!   `bedrock-runtime.us-east-1.amazonaws.com`), every other label is fixed, and the name has
//!   exactly as many labels as the pattern. This is for region- or tenant-templated names. The
//!   rules that keep it safe:
//!   - `+` is a whole label: `+-aiplatform.googleapis.com` and `us-+.example.com` are refused
//!     (a label is never split, so Vertex AI's `us-central1-aiplatform.googleapis.com` regions
//!     are listed one by one instead);
//!   - at least two fixed labels follow the last `+`, so `bedrock.+.com` (any domain) is
//!     refused;
//!   - `+` cannot be combined with `*.`;
//!   - the name from the first fixed label on may not be shared infrastructure, so
//!     `+.amazonaws.com` is refused while `bedrock-runtime.+.amazonaws.com` is allowed and never
//!     makes `*.amazonaws.com` match.
//!
//! There are no regular expressions. Matching is ASCII case-insensitive, and one trailing dot on
//! the queried name (`chatgpt.com.`) is ignored. Suffixes are compared on label boundaries
//! only: `notopenai.com`, `openai.com.example.net` and `chatgpt.com.evil.test` never match.
//!
//! The most specific pattern wins. Two patterns that both match a name are compared label by
//! label from the right (the way DNS delegates); at the first position where they differ, a
//! fixed label beats `+`, and `+` beats the open end of a `*.` pattern. In practice:
//!
//! 1. an exact pattern beats everything on its name;
//! 2. a longer fixed suffix beats a shorter one: with `*.chatgpt.com` (ChatGPT) and
//!    `sora.chatgpt.com` (Sora), `sora.chatgpt.com` is Sora and `www.chatgpt.com` is ChatGPT;
//!    likewise `*.sora.example.com` beats `+.example.com` on `sora.example.com`;
//! 3. on the same fixed suffix a templated pattern beats the wildcard: with `*.example.com`
//!    and `api.+.example.com`, `api.eu.example.com` is the template and `web.eu.example.com`
//!    the wildcard;
//! 4. between two templates, the one with more fixed labels counted from the right wins:
//!    `+.b.example.com` beats `a.+.example.com` on `a.b.example.com`.
//!
//! A pattern needs at least two labels, labels of 1–63 characters from `a-z 0-9 - _` (or `+`),
//! and at most 253 characters. One pattern belongs to one service: the same pattern in two
//! services is an error. Names that carry general, non-AI traffic (`*.google.com`,
//! `*.googleapis.com`, `github.com`, `*.office.com`, CDNs, analytics...) are refused as
//! signatures, see [`SHARED_INFRASTRUCTURE`].
//!
//! # Address ranges
//!
//! `cidrs` hold published ingress ranges (where clients connect to), e.g. `160.79.104.0/23`; the
//! longest matching prefix wins. IPv4 ranges also match IPv4-mapped IPv6 addresses.
//!
//! # Explaining and checking
//!
//! [`Catalogue::explain_host`] and [`Catalogue::explain_ip`] say which rule a name or address
//! hits, or why none does (not a host name, shared infrastructure, look-alike of a catalogue
//! name, or simply unknown); they back `shadowai rules test`. [`Catalogue::check_dir`] checks a
//! folder of rule files on their own and [`Catalogue::check_embedded`] the compiled-in ones;
//! they back `shadowai rules check`.
//!
//! # File format
//!
//! ```yaml
//! services:
//!   - id: openai-api                 # unique across all files, [a-z0-9-]+
//!     name: OpenAI API
//!     vendor: OpenAI
//!     kind: api                      # chat|code|image|audio|video|api|writing|meeting|search|hub|extension
//!     data:
//!       trains_on_consumer_input: "no"      # yes|no|opt-out|unknown
//!       business_tier_without_training: yes # yes|no|unknown
//!       source: https://openai.com/enterprise-privacy   # required unless both are unknown
//!     hosts:
//!       - pattern: api.openai.com
//!         source: github:nullgen-inc/ai-blocklist lists/vendors.json @929593ca
//!         confidence: blocklist      # vendor-doc|blocklist|observed-in-issue|inferred
//!     cidrs:                         # optional
//!       - cidr: 160.79.104.0/23
//!         source: https://platform.claude.com/docs/en/api/ip-addresses
//! ```
//!
//! Unknown fields are errors. A service needs at least one host or CIDR; every host and CIDR
//! needs a non-empty `source`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::{MessageFormatter, Spanned};

use super::matcher::{Cidr, CidrIndex, HostIndex, Pattern, PatternForm, RuleRef, MAX_NAME_LEN};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// The rule files compiled into the binary, as (file name, contents), sorted by file name.
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::EMBEDDED_RULES
}

/// Extra rule files larger than this are refused: a signature file is a few kilobytes, and a
/// mistaken `--rules /` should fail fast instead of reading a disk image.
const MAX_RULE_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Names that carry general, non-AI traffic and may therefore never be a signature, neither as
/// an exact pattern, nor as the suffix of a `*.` pattern, nor as what follows the leading `+`
/// labels of a templated pattern (`+.amazonaws.com`). Subdomains that are AI-specific stay
/// allowed (`gemini.google.com`, `generativelanguage.googleapis.com`, `*.openai.azure.com`).
/// Source: `shared-infra-pitfalls.tsv` of the project's reference notes.
pub const SHARED_INFRASTRUCTURE: &[&str] = &[
    // Google front ends shared by all Google products.
    "google.com",
    "www.google.com",
    "googleapis.com",
    "clients6.google.com",
    "gstatic.com",
    "googleusercontent.com",
    // Microsoft 365, sign-in, Bing and Azure platform suffixes.
    "microsoft.com",
    "office.com",
    "substrate.office.com",
    "office.net",
    "cloud.microsoft",
    "m365.cloud.microsoft",
    "microsoftonline.com",
    "login.microsoftonline.com",
    "graph.microsoft.com",
    "live.com",
    "login.live.com",
    "bing.com",
    "www.bing.com",
    "edgeservices.bing.com",
    "r.bing.com",
    "azure.com",
    "webpubsub.azure.com",
    "windows.net",
    "core.windows.net",
    "blob.core.windows.net",
    "azureedge.net",
    "azurefd.net",
    // GitHub in general (Copilot has its own names), including the tenant sites of GitHub
    // Enterprise Cloud with data residency (`SUBDOMAIN.ghe.com`).
    "github.com",
    "api.github.com",
    "githubusercontent.com",
    "ghe.com",
    // Cloud, CDN and media hosting.
    "amazonaws.com",
    "s3.amazonaws.com",
    "api.aws",
    "cloudfront.net",
    "cloudflare.com",
    "cloudflare.net",
    "challenges.cloudflare.com",
    "akamaihd.net",
    "akamaized.net",
    "fastly.net",
    "imgix.net",
    "cloudinary.com",
    "livekit.cloud",
    // Analytics, feature flags, error reporting, identity, payments, support widgets.
    "sentry.io",
    "ingest.sentry.io",
    "statsig.com",
    "api.statsig.com",
    "statsigapi.net",
    "featuregates.org",
    "featureassets.org",
    "browser-intake-datadoghq.com",
    "auth0.com",
    "arkoselabs.com",
    "intercom.io",
    "intercomcdn.com",
    "stripe.com",
    // Apple relays and social/messaging apps with embedded assistants.
    "apple.com",
    "icloud.com",
    "x.com",
    "facebook.com",
    "instagram.com",
    "whatsapp.net",
    // Hosting of user-built apps.
    "vercel.app",
    "replit.app",
    "replit.dev",
];

/// What a service is, for grouping in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Chat,
    Code,
    Image,
    Audio,
    Video,
    Api,
    Writing,
    Meeting,
    Search,
    Hub,
    Extension,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Chat => "chat",
            Kind::Code => "code",
            Kind::Image => "image",
            Kind::Audio => "audio",
            Kind::Video => "video",
            Kind::Api => "api",
            Kind::Writing => "writing",
            Kind::Meeting => "meeting",
            Kind::Search => "search",
            Kind::Hub => "hub",
            Kind::Extension => "extension",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether the vendor trains on what users of this service type in, by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrainsOnInput {
    Yes,
    No,
    /// Yes by default, with a setting to turn it off.
    OptOut,
    Unknown,
}

/// A yes/no fact that may not be known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Answer {
    Yes,
    No,
    Unknown,
}

impl TrainsOnInput {
    pub fn as_str(self) -> &'static str {
        match self {
            TrainsOnInput::Yes => "yes",
            TrainsOnInput::No => "no",
            TrainsOnInput::OptOut => "opt-out",
            TrainsOnInput::Unknown => "unknown",
        }
    }
}

impl fmt::Display for TrainsOnInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Answer {
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Unknown => "unknown",
        }
    }
}

impl fmt::Display for Answer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a host came to be in the catalogue, strongest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// In the AI vendor's own allow-list, network or API documentation.
    VendorDoc,
    /// In a maintained public domain list.
    Blocklist,
    /// Seen being called in public client code, SDK constants, issue attachments.
    ObservedInIssue,
    /// Only in a third-party catalogue or as a marketing domain: a candidate.
    Inferred,
}

impl Confidence {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidence::VendorDoc => "vendor-doc",
            Confidence::Blocklist => "blocklist",
            Confidence::ObservedInIssue => "observed-in-issue",
            Confidence::Inferred => "inferred",
        }
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is known about the service's handling of user data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataFacts {
    pub trains_on_consumer_input: TrainsOnInput,
    pub business_tier_without_training: Answer,
    /// Where the facts come from; `None` only when both facts are unknown.
    pub source: Option<String>,
}

/// One host pattern of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostRule {
    /// Canonical form: lower case, no trailing dot, e.g. `*.openai.com`.
    pub pattern: String,
    pub source: String,
    pub confidence: Confidence,
    /// Line of the pattern in its file (1-based), when known.
    pub line: Option<usize>,
}

/// One address range of a service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CidrRule {
    /// Canonical form, e.g. `160.79.104.0/23`.
    pub cidr: String,
    pub source: String,
    pub line: Option<usize>,
}

/// An AI service and the names and ranges that identify it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub vendor: String,
    pub kind: Kind,
    pub data: DataFacts,
    pub hosts: Vec<HostRule>,
    pub cidrs: Vec<CidrRule>,
    /// Display name of the file the service came from (`rules/openai.yaml` when embedded).
    pub file: String,
}

/// A host name matched to a service.
#[derive(Debug, Clone, Copy)]
pub struct HostMatch<'a> {
    pub service: &'a Service,
    pub service_index: usize,
    /// The pattern that matched, in canonical form.
    pub pattern: &'a str,
    pub rule: &'a HostRule,
}

/// An address matched to a service.
#[derive(Debug, Clone, Copy)]
pub struct IpMatch<'a> {
    pub service: &'a Service,
    pub service_index: usize,
    /// The prefix that matched, in canonical form.
    pub cidr: &'a str,
    pub rule: &'a CidrRule,
}

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

/// Why the catalogue could not be loaded: the first problem found, with its place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl RuleError {
    fn new(file: &str, line: Option<usize>, column: Option<usize>, message: String) -> RuleError {
        RuleError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    }

    fn at<T>(file: &str, spanned: &Spanned<T>, message: String) -> RuleError {
        let (line, column) = position(spanned);
        RuleError::new(file, line, column, message)
    }
}

impl fmt::Display for RuleError {
    /// `file:line:column: message`, dropping the parts that are not known. File names and
    /// messages may quote rule text, so control characters are escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, &self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        f.write_str(": ")?;
        write_escaped(f, &self.message)
    }
}

impl std::error::Error for RuleError {}

fn write_escaped(f: &mut fmt::Formatter<'_>, text: &str) -> fmt::Result {
    for c in text.chars() {
        if c.is_control() {
            write!(f, "{}", c.escape_default())?;
        } else {
            write!(f, "{c}")?;
        }
    }
    Ok(())
}

/// The loaded, checked catalogue with its lookup indexes.
///
/// `services` is public for reading; the indexes are built once when loading, so changing
/// `services` afterwards does not change what matches.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub services: Vec<Service>,
    hosts: HostIndex,
    cidrs: CidrIndex,
}

impl Catalogue {
    /// The catalogue compiled into the binary.
    pub fn embedded() -> Result<Catalogue, RuleError> {
        let files: Vec<(String, String)> = embedded_files()
            .iter()
            .map(|(name, text)| (embedded_display_name(name), (*text).to_owned()))
            .collect();
        Catalogue::from_sources(&files)
    }

    /// The embedded files, then every `*.yaml` / `*.yml` file in each directory (in file-name
    /// order). A file with the same file name as an embedded one (or one from an earlier
    /// directory) replaces it; other files are added. Unreadable directories or files are errors.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalogue, RuleError> {
        // (file name used for replacing, display name, contents)
        let mut files: Vec<(String, String, Cow<'static, str>)> = embedded_files()
            .iter()
            .map(|(name, text)| {
                (
                    (*name).to_owned(),
                    embedded_display_name(name),
                    Cow::Borrowed(*text),
                )
            })
            .collect();
        for dir in extra_dirs {
            for (file_name, path) in rule_files_in(dir)? {
                let display = path.display().to_string();
                let text = read_rule_file(&path, &display)?;
                match files.iter_mut().find(|(name, _, _)| *name == file_name) {
                    Some(slot) => *slot = (file_name, display, Cow::Owned(text)),
                    None => files.push((file_name, display, Cow::Owned(text))),
                }
            }
        }
        let sources: Vec<(String, String)> = files
            .into_iter()
            .map(|(_, display, text)| (display, text.into_owned()))
            .collect();
        Catalogue::from_sources(&sources)
    }

    /// Builds a catalogue from (display name, YAML text) pairs, checked as a whole.
    pub fn from_sources(files: &[(String, String)]) -> Result<Catalogue, RuleError> {
        let mut builder = Builder::default();
        for (display, text) in files {
            let raw: RawFile = serde_saphyr::from_str(text).map_err(|e| yaml_error(display, &e))?;
            for service in raw.services {
                builder.add(display, service)?;
            }
        }
        Ok(builder.finish())
    }

    /// The service whose most specific host pattern matches `host` (see the module docs).
    pub fn match_host(&self, host: &str) -> Option<HostMatch<'_>> {
        let found = self.hosts.lookup(host)?;
        let service = self.services.get(found.service)?;
        let rule = service.hosts.get(found.rule)?;
        Some(HostMatch {
            service,
            service_index: found.service,
            pattern: &rule.pattern,
            rule,
        })
    }

    /// The service whose most specific CIDR contains `ip`.
    pub fn match_ip(&self, ip: IpAddr) -> Option<IpMatch<'_>> {
        let found = self.cidrs.lookup(ip)?;
        let service = self.services.get(found.service)?;
        let rule = service.cidrs.get(found.rule)?;
        Some(IpMatch {
            service,
            service_index: found.service,
            cidr: &rule.cidr,
            rule,
        })
    }

    /// The service with this id.
    pub fn service(&self, id: &str) -> Option<&Service> {
        self.services.iter().find(|service| service.id == id)
    }

    /// Number of host patterns over all services.
    pub fn host_pattern_count(&self) -> usize {
        self.hosts.len()
    }

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
        let catalogue = Catalogue::embedded()?;
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
    /// (shorter ones such as `x.ai` end too many unrelated names to be a useful hint).
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
                let ends_on_boundary = name.match_indices(wanted).any(|(at, _)| {
                    let end = at.saturating_add(wanted.len());
                    name.as_bytes().get(end).is_none_or(|b| *b == b'.')
                });
                if ends_on_boundary {
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

fn embedded_display_name(file_name: &str) -> String {
    format!("rules/{file_name}")
}

/// The `*.yaml` / `*.yml` regular files of `dir` as (file name, path), sorted by file name.
fn rule_files_in(dir: &Path) -> Result<Vec<(String, PathBuf)>, RuleError> {
    let dir_error = |e: std::io::Error| {
        RuleError::new(
            &dir.display().to_string(),
            None,
            None,
            format!("cannot read rules directory: {e}"),
        )
    };
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(dir_error)? {
        let path = entry.map_err(dir_error)?.path();
        let is_yaml = path
            .extension()
            .and_then(|ext| ext.to_str())
            .is_some_and(|ext| ext.eq_ignore_ascii_case("yaml") || ext.eq_ignore_ascii_case("yml"));
        if !is_yaml || !path.is_file() {
            continue;
        }
        let Some(file_name) = path.file_name().and_then(|name| name.to_str()) else {
            return Err(RuleError::new(
                &path.display().to_string(),
                None,
                None,
                "rule file name is not valid UTF-8".to_owned(),
            ));
        };
        found.push((file_name.to_owned(), path.clone()));
    }
    found.sort();
    Ok(found)
}

fn read_rule_file(path: &Path, display: &str) -> Result<String, RuleError> {
    let fail = |message: String| RuleError::new(display, None, None, message);
    let size = std::fs::metadata(path)
        .map_err(|e| fail(format!("cannot read: {e}")))?
        .len();
    if size > MAX_RULE_FILE_BYTES {
        return Err(fail(format!(
            "file is {size} bytes; rule files are limited to {MAX_RULE_FILE_BYTES}"
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "not valid UTF-8 (first bad byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

pub(crate) fn yaml_error(file: &str, err: &serde_saphyr::Error) -> RuleError {
    // The default Display adds a source snippet over several lines; keep the bare message and
    // carry the position in our own fields.
    let message = serde_saphyr::DefaultMessageFormatter
        .format_message(err.without_snippet())
        .into_owned();
    let (line, column) = match err.location() {
        Some(location) if location.line() > 0 => (
            usize::try_from(location.line()).ok(),
            usize::try_from(location.column()).ok().filter(|c| *c > 0),
        ),
        _ => (None, None),
    };
    RuleError::new(file, line, column, message)
}

fn position<T>(spanned: &Spanned<T>) -> (Option<usize>, Option<usize>) {
    let location = spanned.referenced;
    if location.line() == 0 {
        return (None, None);
    }
    (
        usize::try_from(location.line()).ok(),
        usize::try_from(location.column()).ok().filter(|c| *c > 0),
    )
}

fn line_of<T>(spanned: &Spanned<T>) -> Option<usize> {
    position(spanned).0
}

// ---- the file format as written ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    services: Vec<RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: Spanned<String>,
    name: Spanned<String>,
    vendor: Spanned<String>,
    kind: Kind,
    data: RawData,
    #[serde(default)]
    hosts: Vec<RawHost>,
    #[serde(default)]
    cidrs: Vec<RawCidr>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawData {
    trains_on_consumer_input: Spanned<TrainsOnInput>,
    business_tier_without_training: Answer,
    #[serde(default)]
    source: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHost {
    pattern: Spanned<String>,
    source: Spanned<String>,
    confidence: Confidence,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCidr {
    cidr: Spanned<String>,
    source: Spanned<String>,
}

// ---- checking and indexing --------------------------------------------------------------------

/// Where something was defined, for "already defined at" messages.
#[derive(Debug, Clone)]
struct Origin {
    file: String,
    line: Option<usize>,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file),
            None => f.write_str(&self.file),
        }
    }
}

#[derive(Default)]
struct Builder {
    services: Vec<Service>,
    ids: HashMap<String, Origin>,
    hosts: HostIndex,
    cidrs: CidrIndex,
}

impl Builder {
    fn add(&mut self, file: &str, raw: RawService) -> Result<(), RuleError> {
        let service_index = self.services.len();
        let id = check_id(file, &raw.id)?;
        if let Some(first) = self.ids.get(&id) {
            return Err(RuleError::at(
                file,
                &raw.id,
                format!("duplicate service id `{id}` (first defined at {first})"),
            ));
        }
        let name = non_empty(file, &raw.name, "name")?;
        let vendor = non_empty(file, &raw.vendor, "vendor")?;
        if raw.hosts.is_empty() && raw.cidrs.is_empty() {
            return Err(RuleError::at(
                file,
                &raw.id,
                format!("service `{id}` has no hosts and no cidrs, so it can never match"),
            ));
        }
        let data = check_data(file, &id, raw.data)?;

        let mut hosts = Vec::with_capacity(raw.hosts.len());
        for (rule_index, host) in raw.hosts.into_iter().enumerate() {
            let pattern = Pattern::parse(&host.pattern.value).map_err(|why| {
                RuleError::at(
                    file,
                    &host.pattern,
                    format!("invalid host pattern `{}`: {why}", host.pattern.value),
                )
            })?;
            if SHARED_INFRASTRUCTURE.contains(&pattern.fixed_start()) {
                return Err(RuleError::at(
                    file,
                    &host.pattern,
                    format!(
                        "host pattern `{pattern}` covers shared, non-AI infrastructure; \
                         list only the AI-specific names below it"
                    ),
                ));
            }
            let source = non_empty(file, &host.source, "source")?;
            let here = RuleRef {
                service: service_index,
                rule: rule_index,
            };
            if let Err(holder) = self.hosts.insert(&pattern, here) {
                return Err(RuleError::at(
                    file,
                    &host.pattern,
                    format!(
                        "host pattern `{pattern}` is already claimed by {}",
                        self.describe_host_holder(holder, &id, &hosts, file)
                    ),
                ));
            }
            hosts.push(HostRule {
                pattern: pattern.to_string(),
                source,
                confidence: host.confidence,
                line: line_of(&host.pattern),
            });
        }

        let mut cidrs = Vec::with_capacity(raw.cidrs.len());
        for (rule_index, range) in raw.cidrs.into_iter().enumerate() {
            let cidr = Cidr::parse(&range.cidr.value).map_err(|why| {
                RuleError::at(
                    file,
                    &range.cidr,
                    format!("invalid cidr `{}`: {why}", range.cidr.value),
                )
            })?;
            let source = non_empty(file, &range.source, "source")?;
            let here = RuleRef {
                service: service_index,
                rule: rule_index,
            };
            if let Err(holder) = self.cidrs.insert(cidr, here) {
                let owner = match self.services.get(holder.service) {
                    Some(other) => format!("service `{}` ({})", other.id, other.file),
                    None => format!("an earlier entry of service `{id}`"),
                };
                return Err(RuleError::at(
                    file,
                    &range.cidr,
                    format!("cidr `{cidr}` is already claimed by {owner}"),
                ));
            }
            cidrs.push(CidrRule {
                cidr: cidr.to_string(),
                source,
                line: line_of(&range.cidr),
            });
        }

        self.ids.insert(
            id.clone(),
            Origin {
                file: file.to_owned(),
                line: line_of(&raw.id),
            },
        );
        self.services.push(Service {
            id,
            name,
            vendor,
            kind: raw.kind,
            data,
            hosts,
            cidrs,
            file: file.to_owned(),
        });
        Ok(())
    }

    /// "service `x` (file:line)" for the rule that already holds a pattern; the holder may be
    /// the service being added, whose rules are not in `self.services` yet.
    fn describe_host_holder(
        &self,
        holder: RuleRef,
        current_id: &str,
        current_hosts: &[HostRule],
        current_file: &str,
    ) -> String {
        let (id, file, line) = match self.services.get(holder.service) {
            Some(other) => (
                other.id.as_str(),
                other.file.as_str(),
                other.hosts.get(holder.rule).and_then(|rule| rule.line),
            ),
            None => (
                current_id,
                current_file,
                current_hosts.get(holder.rule).and_then(|rule| rule.line),
            ),
        };
        let origin = Origin {
            file: file.to_owned(),
            line,
        };
        format!("service `{id}` ({origin})")
    }

    fn finish(self) -> Catalogue {
        Catalogue {
            services: self.services,
            hosts: self.hosts,
            cidrs: self.cidrs,
        }
    }
}

fn check_id(file: &str, id: &Spanned<String>) -> Result<String, RuleError> {
    let text = id.value.as_str();
    let valid = !text.is_empty()
        && text.len() <= 64
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-');
    if valid {
        Ok(text.to_owned())
    } else {
        Err(RuleError::at(
            file,
            id,
            format!(
                "invalid service id `{text}`: use 1-64 characters from a-z, 0-9 and `-`, \
                 not starting or ending with `-`"
            ),
        ))
    }
}

fn non_empty(file: &str, value: &Spanned<String>, field: &str) -> Result<String, RuleError> {
    let text = value.value.trim();
    if text.is_empty() {
        Err(RuleError::at(file, value, format!("`{field}` is empty")))
    } else {
        Ok(text.to_owned())
    }
}

fn check_data(file: &str, id: &str, raw: RawData) -> Result<DataFacts, RuleError> {
    let trains = raw.trains_on_consumer_input.value;
    let business = raw.business_tier_without_training;
    let source = match &raw.source {
        Some(source) => Some(non_empty(file, source, "data.source")?),
        None => None,
    };
    let all_unknown = trains == TrainsOnInput::Unknown && business == Answer::Unknown;
    if source.is_none() && !all_unknown {
        return Err(RuleError::at(
            file,
            &raw.trains_on_consumer_input,
            format!("service `{id}` states data facts without a `source` for them"),
        ));
    }
    Ok(DataFacts {
        trains_on_consumer_input: trains,
        business_tier_without_training: business,
        source,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn embedded() -> Catalogue {
        Catalogue::embedded().unwrap_or_else(|e| panic!("embedded rules do not load: {e}"))
    }

    fn matched_id(catalogue: &Catalogue, host: &str) -> Option<String> {
        catalogue.match_host(host).map(|m| m.service.id.clone())
    }

    /// A name a pattern matches: the wildcard's own name, `+` labels filled in.
    fn example_name(pattern: &str) -> String {
        pattern
            .trim_start_matches("*.")
            .split('.')
            .map(|label| if label == "+" { "example-1" } else { label })
            .collect::<Vec<_>>()
            .join(".")
    }

    fn one(text: &str) -> Result<Catalogue, RuleError> {
        Catalogue::from_sources(&[("test.yaml".to_owned(), text.to_owned())])
    }

    const MINIMAL: &str = "\
services:
  - id: example-chat
    name: Example Chat
    vendor: Example
    kind: chat
    data:
      trains_on_consumer_input: unknown
      business_tier_without_training: unknown
    hosts:
      - pattern: chat.example.com
        source: https://example.com/docs
        confidence: vendor-doc
";

    #[test]
    fn every_embedded_file_loads_and_contributes() {
        let catalogue = embedded();
        assert!(!embedded_files().is_empty());
        for (name, _) in embedded_files() {
            let display = embedded_display_name(name);
            assert!(
                catalogue.services.iter().any(|s| s.file == display),
                "{name} contributes no service"
            );
        }
        assert!(
            catalogue.services.len() >= 150,
            "only {} services",
            catalogue.services.len()
        );
        let extensions = catalogue
            .services
            .iter()
            .filter(|s| s.kind == Kind::Extension)
            .count();
        assert!(extensions >= 20, "only {extensions} browser extensions");
        let names: Vec<&str> = embedded_files().iter().map(|(name, _)| *name).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted, "build.rs must embed files in sorted order");
        for required in [
            "openai.yaml",
            "anthropic.yaml",
            "google.yaml",
            "microsoft.yaml",
        ] {
            assert!(names.contains(&required), "{required} missing");
        }
    }

    #[test]
    fn embedded_ids_are_unique_and_every_rule_has_a_source() {
        let catalogue = embedded();
        let mut ids = HashSet::new();
        let mut patterns = HashSet::new();
        for service in &catalogue.services {
            assert!(
                ids.insert(service.id.as_str()),
                "duplicate id {}",
                service.id
            );
            assert!(!service.hosts.is_empty() || !service.cidrs.is_empty());
            for host in &service.hosts {
                assert!(
                    !host.source.trim().is_empty(),
                    "{}: no source",
                    host.pattern
                );
                assert!(host.line.is_some());
                assert!(patterns.insert(host.pattern.as_str()), "{}", host.pattern);
                let parsed = Pattern::parse(&host.pattern).unwrap();
                assert_eq!(parsed.to_string(), host.pattern, "stored in canonical form");
                assert!(
                    !SHARED_INFRASTRUCTURE.contains(&parsed.fixed_start()),
                    "{} is shared infrastructure",
                    host.pattern
                );
            }
            for range in &service.cidrs {
                assert!(!range.source.trim().is_empty());
            }
            let facts = &service.data;
            if facts.trains_on_consumer_input != TrainsOnInput::Unknown
                || facts.business_tier_without_training != Answer::Unknown
            {
                assert!(
                    facts.source.is_some(),
                    "{}: facts without source",
                    service.id
                );
            }
        }
        assert_eq!(catalogue.host_pattern_count(), patterns.len());
    }

    #[test]
    fn every_embedded_pattern_matches_its_own_name_and_no_look_alike() {
        let catalogue = embedded();
        for service in &catalogue.services {
            for host in &service.hosts {
                let name = example_name(&host.pattern);
                let name = name.as_str();
                let hit = catalogue
                    .match_host(name)
                    .unwrap_or_else(|| panic!("{name} does not match"));
                // The bare name belongs to this pattern unless an exact rule elsewhere is more
                // specific for it.
                if hit.service.id != service.id {
                    assert!(
                        host.pattern.starts_with("*.") && !hit.pattern.starts_with("*."),
                        "{name}: {} instead of {}",
                        hit.service.id,
                        service.id
                    );
                }
                // Changing the end of the name must leave the catalogue entirely.
                for look_alike in [
                    format!("{name}.example.net"),
                    format!("{name}-evil.test"),
                    format!("{name}x"),
                ] {
                    assert_eq!(
                        matched_id(&catalogue, &look_alike),
                        None,
                        "{look_alike} matched"
                    );
                }
                // An extra label in front is a different name for exact and templated
                // patterns (a wildcard on a parent may still claim it).
                if !host.pattern.starts_with("*.") {
                    let deeper = format!("x.{name}");
                    if let Some(other) = catalogue.match_host(&deeper) {
                        assert_ne!(other.pattern, host.pattern, "{deeper}");
                    }
                }
                // Gluing text to the front must not match this pattern; a wildcard on a
                // parent (`*.qwen.ai` for `notchat.qwen.ai`) legitimately may.
                let glued = format!("not{name}");
                if let Some(other) = catalogue.match_host(&glued) {
                    assert_ne!(other.pattern, host.pattern, "{glued}");
                    let suffix = other.pattern.trim_start_matches("*.");
                    assert!(
                        other.pattern.starts_with("*.") && glued.ends_with(&format!(".{suffix}")),
                        "{glued} matched {}",
                        other.pattern
                    );
                }
            }
        }
    }

    #[test]
    fn consumer_api_and_business_hosts_are_told_apart() {
        let catalogue = embedded();
        for (host, want) in [
            ("chatgpt.com", "openai-chatgpt"),
            ("ab.chatgpt.com", "openai-chatgpt"),
            ("chat.openai.com", "openai-chatgpt"),
            ("api.openai.com", "openai-api"),
            ("platform.openai.com", "openai-api"),
            ("sora.chatgpt.com", "openai-sora"),
            ("claude.ai", "anthropic-claude"),
            ("api.anthropic.com", "anthropic-api"),
            ("statsig.anthropic.com", "anthropic-claude-code"),
            ("gemini.google.com", "google-gemini"),
            ("generativelanguage.googleapis.com", "google-gemini-api"),
            (
                "alkali.generativelanguage.googleapis.com",
                "google-gemini-api",
            ),
            ("aiplatform.googleapis.com", "google-vertex-ai"),
            ("copilot.microsoft.com", "microsoft-copilot"),
            ("copilot.cloud.microsoft", "microsoft-365-copilot"),
            ("myres.openai.azure.com", "microsoft-azure-openai"),
            ("api.githubcopilot.com", "github-copilot"),
            (
                "api.individual.githubcopilot.com",
                "github-copilot-individual",
            ),
            ("api.business.githubcopilot.com", "github-copilot-business"),
            (
                "api.enterprise.githubcopilot.com",
                "github-copilot-enterprise",
            ),
            ("www.perplexity.ai", "perplexity"),
            ("api.perplexity.ai", "perplexity-api"),
            ("chat.deepseek.com", "deepseek-chat"),
            ("api.deepseek.com", "deepseek-api"),
            ("chat.mistral.ai", "mistral-le-chat"),
            ("api.mistral.ai", "mistral-api"),
            ("grok.com", "xai-grok"),
            ("api.x.ai", "xai-api"),
            ("www.meta.ai", "meta-ai"),
            ("poe.com", "poe"),
            ("character.ai", "character-ai"),
            ("huggingface.co", "huggingface-hub"),
            ("api2.cursor.sh", "cursor"),
            ("www.midjourney.com", "midjourney"),
            ("cdn.midjourney.com", "midjourney-media"),
            ("capi.grammarly.com", "grammarly"),
            ("api-free.deepl.com", "deepl-api-free"),
        ] {
            assert_eq!(
                matched_id(&catalogue, host).as_deref(),
                Some(want),
                "{host}"
            );
        }
    }

    #[test]
    fn shared_infrastructure_never_matches() {
        let catalogue = embedded();
        for host in [
            "www.google.com",
            "google.com",
            "accounts.google.com",
            "mail.google.com",
            "docs.google.com",
            "www.gstatic.com",
            "fonts.googleapis.com",
            "storage.googleapis.com",
            "waa-pa.clients6.google.com",
            "geller-pa.googleapis.com",
            "proactivebackend-pa.googleapis.com",
            "github.com",
            "api.github.com",
            "raw.githubusercontent.com",
            "objects.githubusercontent.com",
            "default.exp-tas.com",
            "www.microsoft.com",
            "login.microsoftonline.com",
            "graph.microsoft.com",
            "outlook.office.com",
            "substrate.office.com",
            "m365.cloud.microsoft",
            "teams.cloud.microsoft",
            "www.bing.com",
            "edgeservices.bing.com",
            "login.live.com",
            "sentry.io",
            "o33249.ingest.sentry.io",
            "api.statsig.com",
            "events.statsigapi.net",
            "cdn.auth0.com",
            "challenges.cloudflare.com",
            "browser-intake-datadoghq.com",
            "host.livekit.cloud",
            "x.webpubsub.azure.com",
            "example.blob.core.windows.net",
            "s3.amazonaws.com",
            "sts.us-east-1.amazonaws.com",
            "apple-relay.cloudflare.com",
            "apple-relay.apple.com",
            "pplx-res.cloudinary.com",
            "openaicom.imgix.net",
            "x.com",
            "www.facebook.com",
            "duckduckgo.com",
            "sourcegraph.com",
            "myapp.windsurf.build",
            "myapp.replit.app",
            "myapp.vercel.app",
            "www.adobe.com",
            "www.notion.so",
            "zoom.us",
        ] {
            assert_eq!(matched_id(&catalogue, host), None, "{host} must not match");
        }
    }

    #[test]
    fn case_and_trailing_dot() {
        let catalogue = embedded();
        assert_eq!(
            matched_id(&catalogue, "ChatGPT.COM.").as_deref(),
            Some("openai-chatgpt")
        );
        assert_eq!(
            matched_id(&catalogue, "API.OpenAI.com").as_deref(),
            Some("openai-api")
        );
        assert_eq!(
            matched_id(&catalogue, "Gemini.Google.Com.").as_deref(),
            Some("google-gemini")
        );
        assert_eq!(matched_id(&catalogue, "chatgpt.com.evil.test"), None);
        assert_eq!(matched_id(&catalogue, "notopenai.com"), None);
        assert_eq!(matched_id(&catalogue, "openai.com.example.net"), None);
    }

    #[test]
    fn most_specific_pattern_wins_in_a_catalogue() {
        let text = "\
services:
  - id: portal
    name: Portal
    vendor: Googlish
    kind: search
    data: {trains_on_consumer_input: unknown, business_tier_without_training: unknown}
    hosts:
      - {pattern: '*.googlish.test', source: test, confidence: inferred}
  - id: assistant
    name: Assistant
    vendor: Googlish
    kind: chat
    data: {trains_on_consumer_input: opt-out, business_tier_without_training: yes, source: test}
    hosts:
      - {pattern: gemini.googlish.test, source: test, confidence: blocklist}
      - {pattern: '*.labs.googlish.test', source: test, confidence: blocklist}
";
        let catalogue = one(text).unwrap();
        let hit = catalogue.match_host("gemini.googlish.test").unwrap();
        assert_eq!(hit.service.id, "assistant");
        assert_eq!(hit.pattern, "gemini.googlish.test");
        assert_eq!(hit.service_index, 1);
        assert_eq!(hit.rule.confidence, Confidence::Blocklist);
        assert_eq!(
            catalogue
                .match_host("www.googlish.test")
                .unwrap()
                .service
                .id,
            "portal"
        );
        assert_eq!(
            catalogue
                .match_host("x.gemini.googlish.test")
                .unwrap()
                .pattern,
            "*.googlish.test"
        );
        assert_eq!(
            catalogue
                .match_host("a.labs.googlish.test")
                .unwrap()
                .service
                .id,
            "assistant"
        );
    }

    #[test]
    fn minimal_file_loads_with_positions() {
        let catalogue = one(MINIMAL).unwrap();
        let service = catalogue.service("example-chat").unwrap();
        assert_eq!(service.kind, Kind::Chat);
        assert_eq!(service.file, "test.yaml");
        assert_eq!(service.hosts[0].line, Some(10));
        assert_eq!(service.data.source, None);
        assert!(catalogue.match_host("chat.example.com").is_some());
    }

    fn error_of(text: &str) -> RuleError {
        match one(text) {
            Ok(_) => panic!("expected an error for:\n{text}"),
            Err(e) => e,
        }
    }

    #[test]
    fn yaml_errors_name_file_line_and_column() {
        // Unknown field.
        let e = error_of(&MINIMAL.replace("    kind: chat\n", "    kind: chat\n    colour: red\n"));
        assert_eq!(
            (e.file.as_str(), e.line, e.column),
            ("test.yaml", Some(6), Some(5))
        );
        assert!(e.message.contains("unknown field `colour`"), "{e}");
        assert_eq!(
            e.to_string(),
            format!("test.yaml:6:5: {}", e.message),
            "Display is file:line:column: message"
        );
        // Invalid enum value.
        let e = error_of(&MINIMAL.replace("kind: chat", "kind: chatbot"));
        assert_eq!((e.line, e.column), (Some(5), Some(11)));
        assert!(e.message.contains("chatbot"), "{e}");
        let e = error_of(&MINIMAL.replace("confidence: vendor-doc", "confidence: high"));
        assert_eq!((e.line, e.column), (Some(12), Some(21)));
        // Syntax error.
        let e = error_of(&MINIMAL.replace("    hosts:\n", "    hosts: [\n"));
        assert_eq!(e.file, "test.yaml");
        assert!(e.line.is_some() && e.column.is_some(), "{e:?}");
        // Duplicate key.
        let e = error_of(&MINIMAL.replace(
            "    vendor: Example\n",
            "    vendor: Example\n    vendor: Other\n",
        ));
        assert_eq!((e.line, e.column), (Some(5), Some(5)));
        // Missing field.
        let e = error_of(&MINIMAL.replace("        confidence: vendor-doc\n", ""));
        assert!(e.message.contains("missing field `confidence`"), "{e}");
        assert!(matches!(e.line, Some(10..=11)), "{e}");
        // Empty file.
        let e = error_of("");
        assert_eq!(e.file, "test.yaml");
    }

    #[test]
    fn bad_patterns_are_reported_at_their_position() {
        for bad in [
            "'*'",
            "a*b.example.com",
            "a..example.com",
            "'chat example.com'",
            "'*.com'",
            "''",
        ] {
            let e =
                error_of(&MINIMAL.replace("pattern: chat.example.com", &format!("pattern: {bad}")));
            assert_eq!((e.line, e.column), (Some(10), Some(18)), "{bad}: {e}");
            assert!(e.message.contains("invalid host pattern"), "{bad}: {e}");
        }
        let e =
            error_of(&MINIMAL.replace("pattern: chat.example.com", "pattern: '*.googleapis.com'"));
        assert!(e.message.contains("shared, non-AI"), "{e}");
        let e = error_of(&MINIMAL.replace("pattern: chat.example.com", "pattern: GitHub.com."));
        assert!(e.message.contains("shared, non-AI"), "{e}");
    }

    #[test]
    fn semantic_errors_name_file_and_line() {
        // Empty source.
        let e = error_of(&MINIMAL.replace("source: https://example.com/docs", "source: ''"));
        assert_eq!((e.line, e.column), (Some(11), Some(17)));
        assert!(e.message.contains("`source` is empty"), "{e}");
        // Bad id.
        let e = error_of(&MINIMAL.replace("id: example-chat", "id: Example_Chat"));
        assert_eq!((e.line, e.column), (Some(2), Some(9)));
        // No hosts.
        let text = MINIMAL.split("    hosts:\n").next().unwrap();
        let e = error_of(text);
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("can never match"), "{e}");
        // Data facts without source.
        let e = error_of(&MINIMAL.replace(
            "trains_on_consumer_input: unknown",
            "trains_on_consumer_input: opt-out",
        ));
        assert_eq!(e.line, Some(7));
        assert!(e.message.contains("without a `source`"), "{e}");
    }

    #[test]
    fn cross_file_conflicts_name_both_places() {
        let second = MINIMAL.replace("name: Example Chat", "name: Again");
        let e = Catalogue::from_sources(&[
            ("a.yaml".to_owned(), MINIMAL.to_owned()),
            ("b.yaml".to_owned(), second),
        ])
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("b.yaml", Some(2)));
        assert!(
            e.message.contains("duplicate service id `example-chat`"),
            "{e}"
        );
        assert!(e.message.contains("a.yaml:2"), "{e}");

        let other = MINIMAL
            .replace("id: example-chat", "id: other-chat")
            .replace("pattern: chat.example.com", "pattern: Chat.Example.com.");
        let e = Catalogue::from_sources(&[
            ("a.yaml".to_owned(), MINIMAL.to_owned()),
            ("b.yaml".to_owned(), other),
        ])
        .unwrap_err();
        assert_eq!(
            (e.file.as_str(), e.line, e.column),
            ("b.yaml", Some(10), Some(18))
        );
        assert!(
            e.message
                .contains("already claimed by service `example-chat` (a.yaml:10)"),
            "{e}"
        );

        // Twice in one service.
        let twice = MINIMAL.to_owned()
            + "      - pattern: chat.example.com\n        source: x\n        confidence: inferred\n";
        let e = error_of(&twice);
        assert_eq!(e.line, Some(13));
        assert!(e.message.contains("`example-chat` (test.yaml:10)"), "{e}");
    }

    const WITH_CIDRS: &str = "\
services:
  - id: example-api
    name: Example API
    vendor: Example
    kind: api
    data: {trains_on_consumer_input: 'no', business_tier_without_training: 'yes', source: x}
    cidrs:
      - cidr: 160.79.104.0/23
        source: https://example.com/ip-ranges
      - cidr: 2607:6bc0::/48
        source: https://example.com/ip-ranges
  - id: example-wide
    name: Example wide
    vendor: Example
    kind: hub
    data: {trains_on_consumer_input: unknown, business_tier_without_training: unknown}
    cidrs:
      - {cidr: 160.79.104.0/21, source: x}
";

    #[test]
    fn cidr_matching_v4_and_v6() {
        let catalogue = one(WITH_CIDRS).unwrap();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let hit = catalogue.match_ip(ip("160.79.105.7")).unwrap();
        assert_eq!(
            (hit.service.id.as_str(), hit.cidr),
            ("example-api", "160.79.104.0/23")
        );
        assert_eq!(hit.service_index, 0);
        assert_eq!(
            catalogue.match_ip(ip("160.79.110.1")).unwrap().service.id,
            "example-wide"
        );
        assert_eq!(
            catalogue.match_ip(ip("2607:6bc0::42")).unwrap().cidr,
            "2607:6bc0::/48"
        );
        assert_eq!(
            catalogue
                .match_ip(ip("::ffff:160.79.104.1"))
                .unwrap()
                .service
                .id,
            "example-api"
        );
        assert!(catalogue.match_ip(ip("160.79.112.1")).is_none());
        assert!(catalogue.match_ip(ip("2607:6bc1::1")).is_none());
        assert!(catalogue.match_host("example.com").is_none());
    }

    #[test]
    fn cidr_errors() {
        let e = error_of(&WITH_CIDRS.replace("160.79.104.0/23", "160.79.105.0/23"));
        assert_eq!((e.line, e.column), (Some(8), Some(15)));
        assert!(e.message.contains("host bits"), "{e}");
        let e = error_of(&WITH_CIDRS.replace("2607:6bc0::/48", "2607:zz::/48"));
        assert_eq!(e.line, Some(10));
        let e = error_of(&WITH_CIDRS.replace("160.79.104.0/21", "160.79.104.0/23"));
        assert_eq!(e.line, Some(18));
        assert!(
            e.message
                .contains("already claimed by service `example-api`"),
            "{e}"
        );
    }

    #[test]
    fn embedded_anthropic_ranges_match() {
        let catalogue = embedded();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(
            catalogue.match_ip(ip("160.79.104.1")).unwrap().service.id,
            "anthropic-api"
        );
        assert_eq!(
            catalogue.match_ip(ip("2607:6bc0::1")).unwrap().service.id,
            "anthropic-api"
        );
        assert!(catalogue.match_ip(ip("8.8.8.8")).is_none());
    }

    #[test]
    fn error_display_drops_unknown_parts_and_escapes_control_characters() {
        let e = RuleError::new("x.yaml", None, None, "bad\nthing".to_owned());
        assert_eq!(e.to_string(), "x.yaml: bad\\nthing");
        let e = RuleError::new("x.yaml", Some(3), None, "m".to_owned());
        assert_eq!(e.to_string(), "x.yaml:3: m");
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            let path = std::env::temp_dir()
                .join(format!("shadowai-rules-test-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&path);
            std::fs::create_dir_all(&path).unwrap();
            TempDir(path)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn load_replaces_same_named_files_and_adds_others() {
        let dir = TempDir::new("load");
        let replacement = MINIMAL
            .replace("example-chat", "local-openai")
            .replace("chat.example.com", "api.openai.com");
        std::fs::write(dir.0.join("openai.yaml"), replacement).unwrap();
        std::fs::write(dir.0.join("local.yml"), MINIMAL).unwrap();
        std::fs::write(dir.0.join("notes.txt"), "not yaml: [").unwrap();
        let catalogue = Catalogue::load(std::slice::from_ref(&dir.0)).unwrap();
        assert!(catalogue.service("openai-chatgpt").is_none());
        assert_eq!(
            matched_id(&catalogue, "api.openai.com").as_deref(),
            Some("local-openai")
        );
        assert_eq!(matched_id(&catalogue, "chatgpt.com"), None);
        assert_eq!(
            matched_id(&catalogue, "chat.example.com").as_deref(),
            Some("example-chat")
        );
        assert!(catalogue.service("anthropic-claude").is_some());
        let local = catalogue.service("example-chat").unwrap();
        assert!(local.file.ends_with("local.yml"), "{}", local.file);
    }

    #[test]
    fn load_reports_broken_and_missing_files() {
        let dir = TempDir::new("broken");
        std::fs::write(dir.0.join("zz.yaml"), "services:\n  - id: [\n").unwrap();
        let e = Catalogue::load(std::slice::from_ref(&dir.0)).unwrap_err();
        assert!(e.file.ends_with("zz.yaml"), "{e}");
        assert!(e.line.is_some());

        let missing = dir.0.join("does-not-exist");
        let e = Catalogue::load(&[missing]).unwrap_err();
        assert!(e.message.contains("cannot read rules directory"), "{e}");
    }

    #[test]
    fn templated_hosts_match_real_names_only() {
        let catalogue = embedded();
        for (host, want, pattern) in [
            (
                "bedrock-runtime.us-east-1.amazonaws.com",
                "aws-bedrock",
                "bedrock-runtime.+.amazonaws.com",
            ),
            (
                "bedrock-runtime.eu-central-1.amazonaws.com",
                "aws-bedrock",
                "bedrock-runtime.+.amazonaws.com",
            ),
            (
                "bedrock.ap-southeast-2.amazonaws.com",
                "aws-bedrock",
                "bedrock.+.amazonaws.com",
            ),
            (
                "bedrock-fips.us-gov-west-1.amazonaws.com",
                "aws-bedrock",
                "bedrock-fips.+.amazonaws.com",
            ),
            (
                "Bedrock-Agent-Runtime.EU-WEST-3.amazonaws.com.",
                "aws-bedrock",
                "bedrock-agent-runtime.+.amazonaws.com",
            ),
            (
                "q.us-west-2.amazonaws.com",
                "amazon-q-developer",
                "q.+.amazonaws.com",
            ),
            (
                "q.us-east-1.amazonaws.com",
                "amazon-q-developer",
                "q.us-east-1.amazonaws.com",
            ),
            (
                "copilot-api.acme.ghe.com",
                "github-copilot-ghe",
                "copilot-api.+.ghe.com",
            ),
            (
                "copilot-proxy.acme-eu.ghe.com",
                "github-copilot-ghe",
                "copilot-proxy.+.ghe.com",
            ),
            (
                "aws-external-anthropic.us-east-1.api.aws",
                "anthropic-api",
                "aws-external-anthropic.+.api.aws",
            ),
            (
                "us-central1-aiplatform.googleapis.com",
                "google-vertex-ai",
                "us-central1-aiplatform.googleapis.com",
            ),
            (
                "europe-west4-aiplatform.googleapis.com",
                "google-vertex-ai",
                "europe-west4-aiplatform.googleapis.com",
            ),
            (
                "aiplatform.googleapis.com",
                "google-vertex-ai",
                "aiplatform.googleapis.com",
            ),
            (
                "myres.openai.azure.com",
                "microsoft-azure-openai",
                "*.openai.azure.com",
            ),
        ] {
            let hit = catalogue
                .match_host(host)
                .unwrap_or_else(|| panic!("{host} does not match"));
            assert_eq!(
                (hit.service.id.as_str(), hit.pattern),
                (want, pattern),
                "{host}"
            );
        }
        for host in [
            // Look-alikes of the templates.
            "bedrock-runtime.us-east-1.amazonaws.com.evil.test",
            "x.bedrock-runtime.us-east-1.amazonaws.com",
            "bedrock-runtime.amazonaws.com",
            "bedrock-runtime.us-east-1.a.amazonaws.com",
            "notbedrock-runtime.us-east-1.amazonaws.com",
            "bedrock-runtime.us-east-1.amazonaws.co",
            "q.amazonaws.com",
            "copilot-api.ghe.com",
            "x.copilot-api.acme.ghe.com",
            "aws-external-anthropic.api.aws",
            "x.us-central1-aiplatform.googleapis.com",
            "us-central1-aiplatform.googleapis.com.evil.test",
            // The rest of AWS, Google APIs and GitHub Enterprise stays unmatched.
            "amazonaws.com",
            "s3.us-east-1.amazonaws.com",
            "ec2.eu-central-1.amazonaws.com",
            "sts.amazonaws.com",
            "runtime.sagemaker.us-east-1.amazonaws.com",
            "acme.ghe.com",
            "api.acme.ghe.com",
            "ghe.com",
            "storage.googleapis.com",
            "us-central1-run.googleapis.com",
            "europe-west99-aiplatform.googleapis.com",
            "myapp.webpubsub.azure.com",
            "runtime.us-east-1.api.aws",
        ] {
            assert_eq!(matched_id(&catalogue, host), None, "{host} must not match");
        }
    }

    #[test]
    fn look_alikes_never_match() {
        let catalogue = embedded();
        for host in [
            "notopenai.com",
            "openai.com.example.net",
            "chatgpt.com.evil.test",
            "chatgpt.co",
            "claude.ai.evil.test",
            "notclaude.ai",
            "gemini.google.com.evil.test",
            "api.openai.com-evil.test",
            "githubcopilot.com.evil.test",
            "extensions.aitopia.ai.evil.test",
            "chathub.gg.example.net",
        ] {
            assert_eq!(matched_id(&catalogue, host), None, "{host} must not match");
        }
    }

    #[test]
    fn templated_patterns_on_shared_names_are_refused() {
        for bad in [
            "'+.amazonaws.com'",
            "'+.+.googleapis.com'",
            "'+.ghe.com'",
            "'+.s3.amazonaws.com'",
            "'+.webpubsub.azure.com'",
        ] {
            let e =
                error_of(&MINIMAL.replace("pattern: chat.example.com", &format!("pattern: {bad}")));
            assert!(e.message.contains("shared, non-AI"), "{bad}: {e}");
            assert_eq!((e.line, e.column), (Some(10), Some(18)), "{bad}: {e}");
        }
        for bad in [
            "'+-aiplatform.googleapis.com'",
            "'*.+.example.com'",
            "bedrock.+.com",
        ] {
            let e =
                error_of(&MINIMAL.replace("pattern: chat.example.com", &format!("pattern: {bad}")));
            assert!(e.message.contains("invalid host pattern"), "{bad}: {e}");
        }
        let ok = one(&MINIMAL.replace(
            "pattern: chat.example.com",
            "pattern: Bedrock.+.AmazonAWS.com.",
        ))
        .unwrap();
        let service = ok.service("example-chat").unwrap();
        assert_eq!(service.hosts[0].pattern, "bedrock.+.amazonaws.com");
        assert!(ok.match_host("bedrock.us-east-1.amazonaws.com").is_some());
        assert!(ok.match_host("s3.us-east-1.amazonaws.com").is_none());
    }

    #[test]
    fn explain_host_gives_the_rule_or_the_reason() {
        let catalogue = embedded();
        let e = catalogue.explain_host("API.OpenAI.com.");
        assert_eq!(e.name, "api.openai.com");
        match &e.verdict {
            HostVerdict::Matched { hit, form } => {
                assert_eq!(hit.service.id, "openai-api");
                assert_eq!(*form, PatternForm::Exact);
            }
            other => panic!("{other:?}"),
        }
        let text = e.to_string();
        assert!(
            text.starts_with("api.openai.com: OpenAI API (`openai-api`, api), exact pattern `api.openai.com` from rules/openai.yaml:"),
            "{text}"
        );
        assert!(text.contains("source: "), "{text}");

        let e = catalogue.explain_host("bedrock-runtime.us-east-1.amazonaws.com");
        assert!(
            matches!(&e.verdict, HostVerdict::Matched { hit, form: PatternForm::Templated }
                if hit.pattern == "bedrock-runtime.+.amazonaws.com"),
            "{e}"
        );
        let e = catalogue.explain_host("www.chatgpt.com");
        assert!(
            matches!(
                &e.verdict,
                HostVerdict::Matched {
                    form: PatternForm::Wildcard,
                    ..
                }
            ),
            "{e}"
        );

        let e = catalogue.explain_host("fonts.googleapis.com");
        assert!(
            matches!(
                e.verdict,
                HostVerdict::SharedInfrastructure {
                    entry: "googleapis.com"
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string().contains(
                "a shared-infrastructure host (`googleapis.com`): never a signature on its own"
            ),
            "{e}"
        );
        let e = catalogue.explain_host("acct.blob.core.windows.net");
        assert!(
            matches!(
                e.verdict,
                HostVerdict::SharedInfrastructure {
                    entry: "blob.core.windows.net"
                }
            ),
            "{e}"
        );
        let e = catalogue.explain_host("github.com");
        assert!(
            matches!(
                e.verdict,
                HostVerdict::SharedInfrastructure {
                    entry: "github.com"
                }
            ),
            "{e}"
        );

        for (host, want_service, want_pattern) in [
            ("notopenai.com", "openai-chatgpt", "*.openai.com"),
            ("openai.com.example.net", "openai-chatgpt", "*.openai.com"),
            ("chatgpt.com.evil.test", "openai-chatgpt", "chatgpt.com"),
            ("api.openai.com.evil.test", "openai-api", "api.openai.com"),
        ] {
            let e = catalogue.explain_host(host);
            match &e.verdict {
                HostVerdict::LookAlike { service, pattern } => {
                    assert_eq!(
                        (service.id.as_str(), *pattern),
                        (want_service, want_pattern)
                    );
                }
                other => panic!("{host}: {other:?}"),
            }
            assert!(e.to_string().contains("look-alike of"), "{e}");
        }
        // Short names such as `c.ai` are no hint: they end too many unrelated names.
        for host in ["magic.ai", "example.org", "openai.community.example"] {
            let e = catalogue.explain_host(host);
            assert!(matches!(e.verdict, HostVerdict::NoMatch), "{host}: {e}");
            assert_eq!(e.to_string(), format!("{host}: no pattern matches"));
        }

        for (host, why) in [
            ("", "empty name"),
            (".", "empty name"),
            (
                "a..b.com",
                "an empty label (two dots in a row, or a leading dot)",
            ),
            (
                "bad name.com",
                "characters other than letters, digits, `-`, `_` and `.`",
            ),
        ] {
            let e = catalogue.explain_host(host);
            assert!(
                matches!(e.verdict, HostVerdict::NotAHostName(reason) if reason == why),
                "{host:?}: {e}"
            );
        }
        let long = format!("{}.com", "a".repeat(260));
        assert!(matches!(
            catalogue.explain_host(&long).verdict,
            HostVerdict::NotAHostName("longer than 253 characters")
        ));
        let e = catalogue.explain_host("evil\n\u{1b}[31m.com");
        let text = e.to_string();
        assert!(!text.contains('\n') && !text.contains('\u{1b}'), "{text:?}");
        // A malformed name below an AI name still matches, as in a capture.
        assert!(matches!(
            catalogue.explain_host("ü.openai.com").verdict,
            HostVerdict::Matched { .. }
        ));
    }

    #[test]
    fn explain_ip_gives_the_range_or_the_reason() {
        let catalogue = embedded();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        for address in ["160.79.104.1", "::ffff:160.79.105.2", "2607:6bc0::7"] {
            let e = catalogue.explain_ip(ip(address));
            match &e.verdict {
                IpVerdict::Matched(hit) => assert_eq!(hit.service.id, "anthropic-api"),
                other => panic!("{address}: {other:?}"),
            }
            assert!(
                e.to_string()
                    .contains("Anthropic API (`anthropic-api`, api), range "),
                "{e}"
            );
        }
        for (address, kind) in [
            ("10.1.2.3", "a private (RFC 1918) address"),
            ("192.168.0.10", "a private (RFC 1918) address"),
            ("::ffff:172.16.0.1", "a private (RFC 1918) address"),
            ("127.0.0.1", "a loopback address"),
            ("100.64.0.1", "a carrier-grade NAT (RFC 6598) address"),
            ("169.254.1.1", "a link-local address"),
            ("224.0.0.251", "a multicast or broadcast address"),
            ("255.255.255.255", "a multicast or broadcast address"),
            ("192.0.2.1", "a documentation (RFC 5737) address"),
            ("0.0.0.0", "the unspecified address"),
            ("::1", "a loopback address"),
            ("::", "the unspecified address"),
            ("fd12:3456::1", "a unique local (fc00::/7) address"),
            ("fe80::1", "a link-local address"),
            ("ff02::fb", "a multicast address"),
            ("2001:db8::1", "a documentation (2001:db8::/32) address"),
        ] {
            let e = catalogue.explain_ip(ip(address));
            assert!(
                matches!(e.verdict, IpVerdict::NotPublic(k) if k == kind),
                "{address}: {e}"
            );
            assert!(
                e.to_string().contains("never an AI service's address"),
                "{e}"
            );
        }
        for address in ["8.8.8.8", "100.128.0.1", "2606:4700::1"] {
            let e = catalogue.explain_ip(ip(address));
            assert!(matches!(e.verdict, IpVerdict::NoMatch), "{address}: {e}");
            assert!(e
                .to_string()
                .starts_with(&format!("{address}: no range matches")));
        }
    }

    #[test]
    fn check_dir_validates_a_folder_on_its_own() {
        let dir = TempDir::new("check");
        std::fs::write(dir.0.join("a.yaml"), MINIMAL).unwrap();
        std::fs::write(dir.0.join("b.yml"), WITH_CIDRS).unwrap();
        std::fs::write(dir.0.join("notes.txt"), "not yaml: [").unwrap();
        let summary = Catalogue::check_dir(&dir.0).unwrap();
        assert_eq!(
            summary,
            CheckSummary {
                files: 2,
                services: 3,
                hosts: 1,
                cidrs: 3
            }
        );
        assert_eq!(
            summary.to_string(),
            "2 files, 3 services, 1 host patterns, 3 cidrs"
        );

        // On its own: a name the embedded catalogue also has is fine here...
        let clash = MINIMAL.replace("chat.example.com", "api.openai.com");
        std::fs::write(dir.0.join("a.yaml"), &clash).unwrap();
        assert!(Catalogue::check_dir(&dir.0).is_ok());
        // ...while loading it next to the embedded files refuses it.
        let e = Catalogue::load(std::slice::from_ref(&dir.0)).unwrap_err();
        assert!(
            e.message
                .contains("already claimed by service `openai-api`"),
            "{e}"
        );

        // A conflict between the folder's own files, with file and line.
        std::fs::write(dir.0.join("c.yaml"), MINIMAL).unwrap();
        let e = Catalogue::check_dir(&dir.0).unwrap_err();
        assert!(e.file.ends_with("c.yaml"), "{e}");
        assert_eq!(e.line, Some(2));
        assert!(
            e.message.contains("duplicate service id `example-chat`"),
            "{e}"
        );
        std::fs::remove_file(dir.0.join("c.yaml")).unwrap();

        std::fs::write(dir.0.join("zz.yaml"), "services:\n  - id: [\n").unwrap();
        let e = Catalogue::check_dir(&dir.0).unwrap_err();
        assert!(e.file.ends_with("zz.yaml") && e.line.is_some(), "{e}");

        let empty = TempDir::new("check-empty");
        std::fs::write(empty.0.join("README"), "no rules here").unwrap();
        let e = Catalogue::check_dir(&empty.0).unwrap_err();
        assert!(e.message.contains("no rule files"), "{e}");
        let e = Catalogue::check_dir(&empty.0.join("missing")).unwrap_err();
        assert!(e.message.contains("cannot read rules directory"), "{e}");
    }

    #[test]
    fn check_of_the_shipped_folder_equals_the_embedded_check() {
        let built_in = Catalogue::check_embedded().unwrap();
        let shipped =
            Catalogue::check_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
        assert_eq!(shipped, built_in);
        assert_eq!(built_in.files, embedded_files().len());
        assert!(built_in.services >= 150, "{built_in}");
        assert_eq!(built_in.hosts, embedded().host_pattern_count());
    }
}
