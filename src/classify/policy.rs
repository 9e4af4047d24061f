//! Site policy (`shadowai.yaml`): which AI services this office approves, tolerates or does
//! not, the admin's device inventory, and what to ignore.
//!
//! Found at `--config PATH`, else `./shadowai.yaml`, else `/etc/shadowai/shadowai.yaml`; having
//! none is fine (every AI service is then `unapproved`). A status is decided by the service id
//! first, then its kind, then `default`. An inventory entry names a device by MAC, else by exact
//! IP, else by the most specific CIDR. Errors name the file, line and column.
//!
//! ```yaml
//! policy:
//!   default: unapproved          # approved | tolerated | unapproved
//!   services: { openai-api: approved, grammarly: tolerated }
//!   kinds: { code: tolerated }
//! inventory:
//!   - { mac: "3c:22:fb:11:22:01", name: Reception PC, owner: Maria, group: front-desk }
//!   - { cidr: 192.168.50.0/24, group: guest-wifi }
//! ignore:
//!   devices: ["192.168.1.1", "00:11:32:aa:bb:01", "10.9.0.0/16"]
//!   hosts: ["*.test-ai.internal"]
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::findings::DeviceKey;
use super::matcher::{Cidr, CidrIndex, HostIndex, Pattern, RuleRef};
use super::rules::{yaml_error, Catalogue, Kind, RuleError, Service};

/// Where a site looks for its policy when `--config` is not given, in order.
pub const DEFAULT_PATHS: &[&str] = &["shadowai.yaml", "/etc/shadowai/shadowai.yaml"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Listed first: what the admin must look at.
    Unapproved,
    Tolerated,
    Approved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Unapproved => "unapproved",
            Status::Tolerated => "tolerated",
            Status::Approved => "approved",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyFile {
    #[serde(default)]
    policy: PolicySection,
    #[serde(default)]
    inventory: Vec<InventoryEntry>,
    #[serde(default)]
    ignore: IgnoreSection,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicySection {
    default: Option<Status>,
    #[serde(default)]
    services: BTreeMap<String, Status>,
    #[serde(default)]
    kinds: BTreeMap<String, Status>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct IgnoreSection {
    #[serde(default)]
    devices: Vec<String>,
    #[serde(default)]
    hosts: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryEntry {
    mac: Option<String>,
    ip: Option<IpAddr>,
    cidr: Option<String>,
    name: Option<String>,
    owner: Option<String>,
    group: Option<String>,
}

/// What the inventory says about a device (report fields `device_name`, `owner`, `group`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceLabel {
    #[serde(rename = "device_name")]
    pub name: Option<String>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

#[derive(Debug, Default)]
pub struct Policy {
    /// The file it came from, if any.
    pub source: Option<PathBuf>,
    default: Option<Status>,
    services: BTreeMap<String, Status>,
    kinds: Vec<(Kind, Status)>,
    by_mac: BTreeMap<[u8; 6], DeviceLabel>,
    by_ip: BTreeMap<IpAddr, DeviceLabel>,
    by_cidr: CidrIndex,
    cidr_labels: Vec<DeviceLabel>,
    ignored_macs: Vec<[u8; 6]>,
    ignored_ips: CidrIndex,
    ignored_hosts: HostIndex,
}

pub fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for byte in mac.iter_mut() {
        let part = parts.next()?;
        if part.len() != 2 {
            return None;
        }
        *byte = u8::from_str_radix(part, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// An address as a one-address CIDR, or a CIDR as written.
fn parse_cidr_or_ip(text: &str) -> Result<Cidr, &'static str> {
    match text.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => Cidr::parse(&format!("{v4}/32")),
        Ok(IpAddr::V6(v6)) => Cidr::parse(&format!("{v6}/128")),
        Err(_) => Cidr::parse(text),
    }
}

impl Policy {
    /// `--config PATH` when given (it must exist), else the first default path that exists,
    /// else an empty policy.
    pub fn discover(explicit: Option<&Path>, catalogue: &Catalogue) -> Result<Policy, RuleError> {
        if let Some(path) = explicit {
            return Policy::load(path, catalogue);
        }
        for candidate in DEFAULT_PATHS {
            let path = Path::new(candidate);
            if path.is_file() {
                return Policy::load(path, catalogue);
            }
        }
        Ok(Policy::default())
    }

    pub fn load(path: &Path, catalogue: &Catalogue) -> Result<Policy, RuleError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| RuleError {
            file: name.clone(),
            line: None,
            column: None,
            message: format!("cannot read: {e}"),
        })?;
        let mut policy = Policy::parse(&name, &text, catalogue)?;
        policy.source = Some(path.to_path_buf());
        Ok(policy)
    }

    pub fn parse(name: &str, text: &str, catalogue: &Catalogue) -> Result<Policy, RuleError> {
        let error = |message: String| RuleError {
            file: name.to_string(),
            line: None,
            column: None,
            message,
        };
        let file: PolicyFile = if text.trim().is_empty() {
            PolicyFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| yaml_error(name, &e))?
        };
        for id in file.policy.services.keys() {
            if catalogue.service(id).is_none() {
                return Err(error(format!(
                    "policy.services: unknown service id `{id}` (see `shadowai rules list`)"
                )));
            }
        }
        let mut kinds = Vec::new();
        for (kind, status) in file.policy.kinds {
            let parsed: Kind = serde_saphyr::from_str(&kind)
                .map_err(|_| error(format!("policy.kinds: unknown kind `{kind}`")))?;
            kinds.push((parsed, status));
        }
        let mut policy = Policy {
            default: file.policy.default,
            services: file.policy.services,
            kinds,
            ..Policy::default()
        };
        for (n, entry) in file.inventory.into_iter().enumerate() {
            let label = DeviceLabel {
                name: entry.name,
                owner: entry.owner,
                group: entry.group,
            };
            match (entry.mac, entry.ip, entry.cidr) {
                (Some(mac), None, None) => {
                    let mac = parse_mac(&mac).ok_or_else(|| {
                        error(format!("inventory[{n}]: `{mac}` is not a MAC address"))
                    })?;
                    policy.by_mac.insert(mac, label);
                }
                (None, Some(ip), None) => {
                    policy.by_ip.insert(ip, label);
                }
                (None, None, Some(cidr)) => {
                    let parsed = Cidr::parse(&cidr)
                        .map_err(|e| error(format!("inventory[{n}]: `{cidr}`: {e}")))?;
                    let at = RuleRef {
                        service: policy.cidr_labels.len(),
                        rule: 0,
                    };
                    policy
                        .by_cidr
                        .insert(parsed, at)
                        .map_err(|_| error(format!("inventory[{n}]: `{cidr}` listed twice")))?;
                    policy.cidr_labels.push(label);
                }
                _ => {
                    return Err(error(format!(
                        "inventory[{n}]: give exactly one of mac, ip or cidr"
                    )))
                }
            }
        }
        for (n, device) in file.ignore.devices.iter().enumerate() {
            if let Some(mac) = parse_mac(device) {
                policy.ignored_macs.push(mac);
                continue;
            }
            let cidr = parse_cidr_or_ip(device)
                .map_err(|e| error(format!("ignore.devices[{n}]: `{device}`: {e}")))?;
            // Two entries for the same range are harmless; keep the first.
            let _ = policy.ignored_ips.insert(
                cidr,
                RuleRef {
                    service: n,
                    rule: 0,
                },
            );
        }
        for (n, host) in file.ignore.hosts.iter().enumerate() {
            let pattern = Pattern::parse(host)
                .map_err(|e| error(format!("ignore.hosts[{n}]: `{host}`: {e}")))?;
            let _ = policy.ignored_hosts.insert(
                &pattern,
                RuleRef {
                    service: n,
                    rule: 0,
                },
            );
        }
        Ok(policy)
    }

    pub fn status(&self, service: &Service) -> Status {
        self.services
            .get(&service.id)
            .copied()
            .or_else(|| {
                self.kinds
                    .iter()
                    .find(|(kind, _)| *kind == service.kind)
                    .map(|(_, status)| *status)
            })
            .or(self.default)
            .unwrap_or(Status::Unapproved)
    }

    /// The inventory label of a device seen with this key and these addresses.
    pub fn label(&self, key: &DeviceKey, ips: &[IpAddr]) -> Option<&DeviceLabel> {
        if let DeviceKey::Mac(mac) = key {
            if let Some(label) = self.by_mac.get(mac) {
                return Some(label);
            }
        }
        let ips_of_key = match key {
            DeviceKey::Ip(ip) => std::slice::from_ref(ip),
            DeviceKey::Mac(_) => ips,
        };
        ips_of_key
            .iter()
            .find_map(|ip| self.by_ip.get(ip))
            .or_else(|| {
                ips_of_key.iter().find_map(|ip| {
                    let at = self.by_cidr.lookup(*ip)?;
                    self.cidr_labels.get(at.service)
                })
            })
    }

    pub fn ignores_device(&self, key: &DeviceKey, ips: &[IpAddr]) -> bool {
        match key {
            DeviceKey::Mac(mac) if self.ignored_macs.contains(mac) => true,
            DeviceKey::Mac(_) => ips.iter().any(|ip| self.ignored_ips.lookup(*ip).is_some()),
            DeviceKey::Ip(ip) => self.ignored_ips.lookup(*ip).is_some(),
        }
    }

    pub fn ignores_host(&self, host: &str) -> bool {
        self.ignored_hosts.lookup(host).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalogue() -> Catalogue {
        Catalogue::embedded().unwrap()
    }

    const EXAMPLE: &str = "\
policy:
  default: tolerated
  services:
    openai-api: approved
  kinds:
    chat: unapproved
inventory:
  - mac: 3c:22:fb:11:22:01
    name: Reception PC
    owner: Maria
  - ip: 192.168.1.30
    name: Anna's phone
  - cidr: 192.168.50.0/24
    group: guests
ignore:
  devices: [\"00:11:32:aa:bb:01\", \"10.9.0.0/16\", \"192.168.1.99\"]
  hosts: [\"*.lab.example\"]
";

    #[test]
    fn status_by_id_then_kind_then_default() {
        let c = catalogue();
        let p = Policy::parse("t.yaml", EXAMPLE, &c).unwrap();
        assert_eq!(p.status(c.service("openai-api").unwrap()), Status::Approved);
        assert_eq!(
            p.status(c.service("openai-chatgpt").unwrap()),
            Status::Unapproved
        );
        assert_eq!(p.status(c.service("cursor").unwrap()), Status::Tolerated);
        let empty = Policy::default();
        assert_eq!(
            empty.status(c.service("openai-api").unwrap()),
            Status::Unapproved
        );
    }

    #[test]
    fn inventory_and_ignores() {
        let c = catalogue();
        let p = Policy::parse("t.yaml", EXAMPLE, &c).unwrap();
        let mac = DeviceKey::Mac([0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01]);
        assert_eq!(p.label(&mac, &[]).unwrap().owner.as_deref(), Some("Maria"));
        let phone: IpAddr = "192.168.1.30".parse().unwrap();
        let other = DeviceKey::Mac([2, 0, 0, 0, 0, 1]);
        assert_eq!(
            p.label(&other, &[phone]).unwrap().name.as_deref(),
            Some("Anna's phone")
        );
        let guest: IpAddr = "192.168.50.7".parse().unwrap();
        assert_eq!(
            p.label(&DeviceKey::Ip(guest), &[])
                .unwrap()
                .group
                .as_deref(),
            Some("guests")
        );
        assert!(p.ignores_device(&DeviceKey::Mac([0, 0x11, 0x32, 0xaa, 0xbb, 1]), &[]));
        assert!(p.ignores_device(&DeviceKey::Ip("10.9.3.4".parse().unwrap()), &[]));
        assert!(p.ignores_device(&DeviceKey::Ip("192.168.1.99".parse().unwrap()), &[]));
        assert!(!p.ignores_device(&DeviceKey::Ip("192.168.1.98".parse().unwrap()), &[]));
        assert!(p.ignores_host("chat.lab.example"));
        assert!(!p.ignores_host("lab.example.com"));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let c = catalogue();
        let e = Policy::parse("site.yaml", "policy:\n  defualt: approved\n", &c).unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("site.yaml", Some(2)));
        assert!(e.column.is_some());
        let e = Policy::parse("site.yaml", "policy:\n  default: maybe\n", &c).unwrap_err();
        assert_eq!(e.line, Some(2));
        let e = Policy::parse(
            "s.yaml",
            "policy:\n  services: {no-such-ai: approved}\n",
            &c,
        )
        .unwrap_err();
        assert!(e.message.contains("no-such-ai"), "{e}");
        let e = Policy::parse("s.yaml", "inventory:\n  - {mac: zz, name: x}\n", &c).unwrap_err();
        assert!(e.message.contains("MAC"), "{e}");
        assert!(Policy::parse("s.yaml", "", &c).is_ok());
    }

    #[test]
    fn macs() {
        assert_eq!(
            parse_mac("3C-22-fb-11-22-01"),
            Some([0x3c, 0x22, 0xfb, 0x11, 0x22, 1])
        );
        assert_eq!(parse_mac("3c:22:fb:11:22"), None);
        assert_eq!(parse_mac("3c:22:fb:11:22:01:00"), None);
    }
}
