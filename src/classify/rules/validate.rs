//! Rule files as written (the shapes serde reads, unknown fields refused) and the checks that
//! turn them into services and lookup indexes: ids, names, data facts, host patterns, address
//! ranges, and the conflicts between them across files.
//!
//! The first problem stops the load with its file, line and column; nothing is skipped or
//! repaired, since a half-loaded catalogue would make a report silently wrong.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::{
    position, Answer, Catalogue, CidrRule, Confidence, DataFacts, HostRule, Kind, RuleError,
    Service, TrainsOnInput, SHARED_INFRASTRUCTURE,
};
use crate::classify::matcher::{Cidr, CidrIndex, HostIndex, Pattern, RuleRef};

// ---- the file format as written ---------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) services: Vec<RawService>,
}

/// An embedded rule file as build.rs compiled it: the file (read from JSON, so without
/// positions) and the line and column of each service id, host pattern and address range, in
/// file order.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Compiled {
    places: Vec<(u32, u32)>,
    file: RawFile,
}

impl Compiled {
    /// The file with its positions put back; `None` when they do not add up (the caller
    /// then reads the YAML).
    pub(super) fn placed(self) -> Option<RawFile> {
        let Compiled { places, mut file } = self;
        let mut places = places.into_iter();
        let mut place = |spanned: &mut Spanned<String>| -> Option<()> {
            let (line, column) = places.next()?;
            let location = location(line, column)?;
            spanned.referenced = location;
            spanned.defined = location;
            Some(())
        };
        for service in &mut file.services {
            place(&mut service.id)?;
            for host in &mut service.hosts {
                place(&mut host.pattern)?;
            }
            for range in &mut service.cidrs {
                place(&mut range.cidr)?;
            }
        }
        places.next().is_none().then_some(file)
    }
}

/// A YAML position (`Location` is only built by its own deserializer).
fn location(line: u32, column: u32) -> Option<serde_saphyr::Location> {
    use serde::de::value::{Error, MapDeserializer};
    let fields = [("line", line), ("column", column)];
    serde_saphyr::Location::deserialize(MapDeserializer::<_, Error>::new(fields.into_iter())).ok()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
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
pub(super) struct Origin {
    pub(super) file: String,
    pub(super) line: Option<usize>,
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
pub(super) struct Builder {
    services: Vec<Service>,
    ids: HashMap<String, Origin>,
    hosts: HostIndex,
    cidrs: CidrIndex,
}

impl Builder {
    pub(super) fn add(&mut self, file: &str, raw: RawService) -> Result<(), RuleError> {
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

    pub(super) fn finish(self) -> Catalogue {
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

fn line_of<T>(spanned: &Spanned<T>) -> Option<usize> {
    position(spanned).0
}
