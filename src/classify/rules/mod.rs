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
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_saphyr::{MessageFormatter, Spanned};

use super::matcher::{CidrIndex, HostIndex};

mod explain;
mod validate;

pub use explain::{CheckSummary, HostExplanation, HostVerdict, IpExplanation, IpVerdict};
use validate::{Builder, Compiled, RawFile};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded_rules.rs"));
}

/// The rule files compiled into the binary, as (file name, contents), sorted by file name.
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    embedded::EMBEDDED_RULES
}

/// A rule file to load: its name in messages, its YAML, and for an embedded file the compiled
/// form build.rs made of it (read instead of the YAML when it loads; see build.rs).
struct Source<'a> {
    display: String,
    yaml: Cow<'a, str>,
    compiled: Option<&'static str>,
}

impl Source<'_> {
    /// The embedded files, in file-name order.
    fn embedded() -> impl Iterator<Item = (&'static str, Source<'static>)> {
        let compiled = embedded::EMBEDDED_COMPILED.iter().copied();
        embedded_files()
            .iter()
            .zip(compiled.chain(std::iter::repeat(None)))
            .map(|(&(name, text), compiled)| {
                let source = Source {
                    display: embedded_display_name(name),
                    yaml: Cow::Borrowed(text),
                    compiled,
                };
                (name, source)
            })
    }

    /// The compiled form when there is one, `compiled` is set and it loads; else the YAML.
    fn parse(&self, compiled: bool) -> Result<RawFile, RuleError> {
        let file = self
            .compiled
            .filter(|_| compiled)
            .and_then(|json| serde_json::from_str::<Compiled>(json).ok())
            .and_then(Compiled::placed);
        match file {
            Some(file) => Ok(file),
            None => serde_saphyr::from_str(&self.yaml).map_err(|e| yaml_error(&self.display, &e)),
        }
    }
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
        Catalogue::embedded_read(true)
    }

    /// The catalogue compiled into the binary, read from the YAML alone (what
    /// `shadowai rules check` checks, and what the compiled form must give).
    pub fn embedded_from_yaml() -> Result<Catalogue, RuleError> {
        Catalogue::embedded_read(false)
    }

    /// The embedded files, from their compiled forms when `compiled` is set.
    fn embedded_read(compiled: bool) -> Result<Catalogue, RuleError> {
        let sources: Vec<Source<'_>> = Source::embedded().map(|(_, source)| source).collect();
        Catalogue::build(&sources, compiled)
    }

    /// The embedded files, then every `*.yaml` / `*.yml` file in each directory (in file-name
    /// order). A file with the same file name as an embedded one (or one from an earlier
    /// directory) replaces it; other files are added. Unreadable directories or files are errors.
    pub fn load(extra_dirs: &[PathBuf]) -> Result<Catalogue, RuleError> {
        // (file name used for replacing, the file)
        let mut files: Vec<(String, Source<'static>)> = Source::embedded()
            .map(|(name, source)| (name.to_owned(), source))
            .collect();
        for dir in extra_dirs {
            for (file_name, path) in rule_files_in(dir)? {
                let display = path.display().to_string();
                let text = read_rule_file(&path, &display)?;
                let source = Source {
                    display,
                    yaml: Cow::Owned(text),
                    compiled: None,
                };
                match files.iter_mut().find(|(name, _)| *name == file_name) {
                    Some(slot) => *slot = (file_name, source),
                    None => files.push((file_name, source)),
                }
            }
        }
        let sources: Vec<Source<'_>> = files.into_iter().map(|(_, source)| source).collect();
        Catalogue::build(&sources, true)
    }

    /// Builds a catalogue from (display name, YAML text) pairs, checked as a whole.
    pub fn from_sources(files: &[(String, String)]) -> Result<Catalogue, RuleError> {
        let sources: Vec<Source<'_>> = files
            .iter()
            .map(|(display, text)| Source {
                display: display.clone(),
                yaml: Cow::Borrowed(text),
                compiled: None,
            })
            .collect();
        Catalogue::build(&sources, false)
    }

    /// Builds a catalogue from `sources`, read from their compiled forms where there are
    /// some and `compiled` is set, else from their YAML.
    fn build(sources: &[Source<'_>], compiled: bool) -> Result<Catalogue, RuleError> {
        // Parsing YAML is nearly all of a load, and files parse apart: on all cores when any
        // file is read as YAML (compiled ones read faster than the threads would start).
        // Checked and indexed in file order, so the first error reported and the catalogue
        // built are the same as one file after the other.
        use rayon::prelude::*;
        let parse = |source: &Source<'_>| source.parse(compiled);
        let parsed: Vec<Result<RawFile, RuleError>> =
            if compiled && sources.iter().all(|s| s.compiled.is_some()) {
                sources.iter().map(parse).collect()
            } else {
                sources.par_iter().map(parse).collect()
            };
        let mut builder = Builder::default();
        for (source, raw) in sources.iter().zip(parsed) {
            for service in raw?.services {
                builder.add(&source.display, service)?;
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

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests;
