//! Pseudonymised reports that can be shared: MAC addresses, device addresses and the names of
//! devices and people become stable keyed tokens (HMAC-SHA256 under the admin's key,
//! truncated to 64 bits), so the same device keeps the same token across reports made with the
//! same key. AI service names, hostnames and server addresses stay readable: they are the point
//! of the report. `shadowai reveal` maps tokens back, from the devices of a capture, for
//! whoever holds the key.
//!
//! The key file holds at least 16 random bytes; `load_or_create` writes 32 from the operating
//! system's random source (`/dev/urandom`) when the file does not exist, readable by its owner
//! only. Without the key, a token cannot be tied to a device, short of guessing and hashing
//! every candidate value with the key, which is the secret.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::net::IpAddr;
use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::inspect::SignalRow;
use super::Report;

const MIN_KEY_LEN: usize = 16;
/// `inspect` kinds whose value names or addresses a device on the LAN.
const DEVICE_KINDS: &[&str] = &[
    "dhcp_hostname",
    "dhcp_fqdn",
    "dhcp_vendor_class",
    "dhcpv6_fqdn",
    "mdns_query",
    "mdns_answer",
    "llmnr_query",
    "llmnr_answer",
    "nbns_name",
    "netbios_browser",
    "arp",
];
const NEW_KEY_LEN: usize = 32;

pub struct Pseudonymizer {
    key: Vec<u8>,
}

/// What a token stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    Mac,
    Ip,
    Name,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Mac => "mac",
            Kind::Ip => "ip",
            Kind::Name => "name",
        }
    }
}

impl Pseudonymizer {
    pub fn from_key(key: Vec<u8>) -> io::Result<Self> {
        if key.len() < MIN_KEY_LEN {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the key must hold at least {MIN_KEY_LEN} bytes"),
            ));
        }
        Ok(Pseudonymizer { key })
    }

    /// Reads the key file, or creates it with a new random key (mode 0600) when it is missing.
    pub fn load_or_create(path: &Path) -> io::Result<Self> {
        match std::fs::read(path) {
            Ok(key) => Self::from_key(key),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut key = vec![0u8; NEW_KEY_LEN];
                std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                options.open(path)?.write_all(&key)?;
                Self::from_key(key)
            }
            Err(e) => Err(e),
        }
    }

    /// Reads an existing key file (never creates one).
    pub fn load(path: &Path) -> io::Result<Self> {
        Self::from_key(std::fs::read(path)?)
    }

    pub fn token(&self, kind: Kind, value: &str) -> String {
        // HMAC accepts keys of any length; the error arm cannot happen.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.key) else {
            return format!("{}-?", kind.prefix());
        };
        mac.update(kind.prefix().as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        let digest = mac.finalize().into_bytes();
        let mut out = String::with_capacity(24);
        out.push_str(kind.prefix());
        out.push('-');
        for byte in digest.iter().take(8) {
            out.push_str(&format!("{byte:02x}"));
        }
        out
    }

    fn id_token(&self, id: &str) -> String {
        if id.parse::<IpAddr>().is_ok() {
            self.token(Kind::Ip, id)
        } else {
            self.token(Kind::Mac, id)
        }
    }

    /// Replaces every device identity in the report by its token.
    pub fn apply(&self, report: &mut Report) {
        let names = |p: &Self, v: &mut Option<String>| {
            if let Some(name) = v.as_mut() {
                *name = p.token(Kind::Name, name);
            }
        };
        for f in &mut report.findings {
            f.device = self.id_token(&f.device);
            if let Some(mac) = f.device_mac.as_mut() {
                *mac = self.token(Kind::Mac, mac);
            }
            for ip in &mut f.device_ips {
                *ip = self.token(Kind::Ip, ip);
            }
            names(self, &mut f.device_hostname);
            names(self, &mut f.device_label.name);
            names(self, &mut f.device_label.owner);
        }
        for d in &mut report.devices {
            d.id = self.id_token(&d.id);
            if let Some(mac) = d.mac.as_mut() {
                *mac = self.token(Kind::Mac, mac);
            }
            for ip in &mut d.ips {
                *ip = self.token(Kind::Ip, ip);
            }
            names(self, &mut d.hostname);
            names(self, &mut d.label.name);
            names(self, &mut d.label.owner);
            for n in &mut d.names {
                n.name = self.token(Kind::Name, &n.name);
            }
        }
        for router in &mut report.routers {
            let token = self.token(Kind::Mac, router);
            for warning in &mut report.warnings {
                *warning = warning.replace(router.as_str(), &token);
            }
            *router = token;
        }
    }

    /// `inspect` rows: the sender's MAC, addresses that are not public (the LAN's), and the
    /// whole value of the kinds whose value is a device's own name or address.
    pub fn apply_row(&self, row: &mut SignalRow) {
        if DEVICE_KINDS.contains(&row.kind.as_str()) {
            row.value = self.token(Kind::Name, &row.value);
        }
        if let Some(mac) = row.src_mac.as_mut() {
            *mac = self.token(Kind::Mac, mac);
        }
        for ip in [&mut row.src, &mut row.dst].into_iter().flatten() {
            if ip.parse::<IpAddr>().is_ok_and(is_local) {
                *ip = self.token(Kind::Ip, ip);
            }
        }
    }

    /// Token → (kind, value) for every device identity in an unpseudonymised report.
    pub fn reveal_map(&self, report: &Report) -> BTreeMap<String, (Kind, String)> {
        let mut map = BTreeMap::new();
        let mut add = |kind: Kind, value: &str| {
            map.insert(self.token(kind, value), (kind, value.to_string()));
        };
        for d in &report.devices {
            if let Some(mac) = &d.mac {
                add(Kind::Mac, mac);
            }
            for ip in &d.ips {
                add(Kind::Ip, ip);
            }
            for name in d.names.iter().map(|n| n.name.as_str()).chain(
                [&d.hostname, &d.label.name, &d.label.owner]
                    .into_iter()
                    .flatten()
                    .map(String::as_str),
            ) {
                add(Kind::Name, name);
            }
        }
        for router in &report.routers {
            add(Kind::Mac, router);
        }
        map
    }
}

/// Private, link-local, loopback and unique-local addresses: the office's own.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_private() || v4.is_link_local() || v4.is_loopback(),
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback() || first & 0xfe00 == 0xfc00 || first & 0xffc0 == 0xfe80
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_stable_keyed_and_typed() {
        let a = Pseudonymizer::from_key(vec![1; 32]).unwrap();
        let b = Pseudonymizer::from_key(vec![2; 32]).unwrap();
        let t = a.token(Kind::Mac, "3c:22:fb:11:22:01");
        assert_eq!(t, a.token(Kind::Mac, "3c:22:fb:11:22:01"));
        assert_ne!(t, b.token(Kind::Mac, "3c:22:fb:11:22:01"));
        assert_ne!(t, a.token(Kind::Name, "3c:22:fb:11:22:01"));
        assert!(t.starts_with("mac-") && t.len() == 4 + 16, "{t}");
        assert!(Pseudonymizer::from_key(vec![1; 8]).is_err());
    }

    #[test]
    fn key_file_is_created_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        let first = Pseudonymizer::load_or_create(&path).unwrap();
        let second = Pseudonymizer::load_or_create(&path).unwrap();
        assert_eq!(
            first.token(Kind::Ip, "10.0.0.1"),
            second.token(Kind::Ip, "10.0.0.1")
        );
        assert_eq!(std::fs::read(&path).unwrap().len(), NEW_KEY_LEN);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "key readable by others: {mode:o}");
        }
    }

    #[test]
    fn local_addresses() {
        for local in [
            "192.168.1.2",
            "10.1.1.1",
            "169.254.0.1",
            "fe80::1",
            "fd00::1",
        ] {
            assert!(is_local(local.parse().unwrap()), "{local}");
        }
        for public in ["104.18.32.47", "2a00:1450::1"] {
            assert!(!is_local(public.parse().unwrap()), "{public}");
        }
    }
}
