//! What the network says about who a device is: the names it announces (DHCP, DHCPv6, mDNS,
//! LLMNR, NetBIOS) and which addresses belong to which MAC (ARP, DHCP leases, IPv6 neighbour
//! discovery, and the frames themselves).
//!
//! Names are kept per source, a few per source, so a report can show all of them and pick one
//! by a fixed rule (`best_name`). Everything is bounded: a flood of forged announcements fills
//! the table's caps, not memory.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::Serialize;

use crate::flow::{is_station_mac, FxBuild};

/// Where a name came from, in the order `best_name` prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NameSource {
    /// DHCP option 12: the name the device gives itself when it asks for an address.
    DhcpHostname,
    /// DHCP option 81 (client FQDN).
    DhcpFqdn,
    /// DHCPv6 option 39 (client FQDN).
    Dhcpv6Fqdn,
    /// The `.local` name the device answers for in mDNS.
    Mdns,
    /// A NetBIOS name the device registers or announces.
    Netbios,
    /// A name the device answers for in LLMNR.
    Llmnr,
    /// An mDNS service instance the device advertises (`Anna's MacBook` of
    /// `Anna's MacBook._companion-link._tcp.local`).
    MdnsService,
}

impl NameSource {
    pub fn as_str(self) -> &'static str {
        match self {
            NameSource::DhcpHostname => "dhcp_hostname",
            NameSource::DhcpFqdn => "dhcp_fqdn",
            NameSource::Dhcpv6Fqdn => "dhcpv6_fqdn",
            NameSource::Mdns => "mdns",
            NameSource::Netbios => "netbios",
            NameSource::Llmnr => "llmnr",
            NameSource::MdnsService => "mdns_service",
        }
    }
}

/// Names remembered per source and device.
const NAMES_PER_SOURCE: usize = 4;
/// MACs and addresses tracked in all.
const MAX_ENTRIES: usize = 65_536;
/// Longest name kept (DNS names are at most 253 characters).
const MAX_NAME: usize = 253;

/// A device's names, by source. A sorted list rather than a map of sets: a device has one to
/// three names, and the name stage keeps up to 65,536 devices (a map of sets took about 600
/// bytes for one name, this about 60).
#[derive(Debug, Clone, Default)]
pub struct Names {
    /// (source, name), sorted; `NAMES_PER_SOURCE` at most per source.
    entries: Vec<(NameSource, Box<str>)>,
}

impl Names {
    fn add(&mut self, source: NameSource, name: &str) {
        let name = name.trim().trim_end_matches('.');
        if name.is_empty() || name.len() > MAX_NAME {
            return;
        }
        let held = self.entries.iter().filter(|(s, _)| *s == source).count();
        if held >= NAMES_PER_SOURCE {
            return;
        }
        if let Err(at) = self
            .entries
            .binary_search_by(|(s, n)| (*s, &**n).cmp(&(source, name)))
        {
            self.entries.insert(at, (source, name.into()));
        }
    }

    /// The preferred name: the first source in `NameSource` order, the first name in it.
    pub fn best(&self) -> Option<(&str, NameSource)> {
        self.entries
            .first()
            .map(|(source, name)| (&**name, *source))
    }

    pub fn all(&self) -> impl Iterator<Item = (NameSource, &str)> {
        self.entries.iter().map(|(source, name)| (*source, &**name))
    }

    fn merge(&mut self, other: &Names) {
        for (source, name) in other.all() {
            self.add(source, name);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[derive(Debug, Clone, Default)]
pub struct MacFacts {
    pub names: Names,
    /// DHCP option 60, e.g. `MSFT 5.0`, `android-dhcp-14`.
    pub vendor_class: Option<String>,
}

#[derive(Debug, Default, Clone)]
pub struct DeviceTable {
    macs: HashMap<[u8; 6], MacFacts, FxBuild>,
    /// Names learned for an address without a MAC (NetBIOS registrations, mDNS A records of
    /// another host, frames without a link layer).
    ip_names: HashMap<IpAddr, Names, FxBuild>,
    /// The latest MAC seen owning each address.
    owner: HashMap<IpAddr, [u8; 6], FxBuild>,
    pub dropped: u64,
}

/// Locally administered (bit 1 of the first octet): randomised "private" Wi-Fi addresses of
/// phones and laptops, or virtual machines. Such a MAC has no vendor.
pub fn is_locally_administered(mac: [u8; 6]) -> bool {
    mac[0] & 0x02 != 0
}

/// The organisation the IEEE registered the MAC's prefix to (MA-S, MA-M, then MA-L; the
/// registry is compiled in from the `oui-data` crate, nothing is downloaded). `None` for a
/// locally administered (randomised) MAC, whose prefix means nothing.
pub fn vendor(mac: [u8; 6]) -> Option<&'static str> {
    if is_locally_administered(mac) {
        return None;
    }
    super::oui::organization(mac)
}

/// Addresses that never identify a device (unspecified, broadcast, multicast).
fn is_device_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !(v4.is_unspecified() || v4.is_broadcast() || v4.is_multicast()),
        IpAddr::V6(v6) => !(v6.is_unspecified() || v6.is_multicast()),
    }
}

impl DeviceTable {
    fn mac_entry(&mut self, mac: [u8; 6]) -> Option<&mut MacFacts> {
        if !is_station_mac(mac) {
            return None;
        }
        if self.macs.len() >= MAX_ENTRIES && !self.macs.contains_key(&mac) {
            self.dropped += 1;
            return None;
        }
        Some(self.macs.entry(mac).or_default())
    }

    /// `mac` uses `ip` (ARP sender, DHCP lease, NDP advertisement, a frame it sent).
    pub fn bind(&mut self, mac: [u8; 6], ip: IpAddr) {
        if !is_device_address(ip) {
            return;
        }
        if !is_station_mac(mac) {
            return;
        }
        if self.owner.len() < MAX_ENTRIES || self.owner.contains_key(&ip) {
            self.owner.insert(ip, mac);
        } else {
            self.dropped += 1;
        }
    }

    /// A name announced by the device with this MAC and/or address.
    pub fn learn_name(
        &mut self,
        mac: Option<[u8; 6]>,
        ip: Option<IpAddr>,
        source: NameSource,
        name: &str,
    ) {
        if let Some(facts) = mac.and_then(|m| self.mac_entry(m)) {
            facts.names.add(source, name);
            return;
        }
        let Some(ip) = ip.filter(|ip| is_device_address(*ip)) else {
            return;
        };
        if self.ip_names.len() >= MAX_ENTRIES && !self.ip_names.contains_key(&ip) {
            self.dropped += 1;
            return;
        }
        self.ip_names.entry(ip).or_default().add(source, name);
    }

    pub fn learn_vendor_class(&mut self, mac: [u8; 6], class: &str) {
        if let Some(facts) = self.mac_entry(mac) {
            if facts.vendor_class.is_none() && !class.is_empty() && class.len() <= MAX_NAME {
                facts.vendor_class = Some(class.to_string());
            }
        }
    }

    pub fn mac(&self, mac: &[u8; 6]) -> Option<&MacFacts> {
        self.macs.get(mac)
    }

    /// The MAC last seen owning `ip`.
    pub fn owner_of(&self, ip: &IpAddr) -> Option<[u8; 6]> {
        self.owner.get(ip).copied()
    }

    /// Every name known for a device with this MAC (if any) and these addresses: the MAC's own,
    /// then those learned for its addresses.
    pub fn names_of(&self, mac: Option<[u8; 6]>, ips: &[IpAddr]) -> Names {
        let mut names = mac
            .and_then(|m| self.macs.get(&m))
            .map(|f| f.names.clone())
            .unwrap_or_default();
        for ip in ips {
            if let Some(more) = self.ip_names.get(ip) {
                names.merge(more);
            }
            // An address whose owner announced names (e.g. behind a capture point without
            // the device's MAC): borrow them.
            if mac.is_none() {
                if let Some(owner) = self.owner.get(ip).and_then(|m| self.macs.get(m)) {
                    names.merge(&owner.names);
                }
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn best_name_follows_source_order() {
        let mut t = DeviceTable::default();
        t.learn_name(
            Some(MAC),
            None,
            NameSource::MdnsService,
            "Reception printer queue",
        );
        assert_eq!(
            t.names_of(Some(MAC), &[]).best(),
            Some(("Reception printer queue", NameSource::MdnsService))
        );
        t.learn_name(Some(MAC), None, NameSource::Netbios, "RECEPTION");
        t.learn_name(Some(MAC), None, NameSource::Mdns, "reception.local");
        assert_eq!(
            t.names_of(Some(MAC), &[]).best(),
            Some(("reception.local", NameSource::Mdns))
        );
        t.learn_name(Some(MAC), None, NameSource::DhcpHostname, "reception-pc");
        assert_eq!(
            t.names_of(Some(MAC), &[]).best(),
            Some(("reception-pc", NameSource::DhcpHostname))
        );
        assert_eq!(t.names_of(Some(MAC), &[]).all().count(), 4);
    }

    #[test]
    fn names_by_address_join_the_device() {
        let mut t = DeviceTable::default();
        t.learn_name(
            None,
            Some(ip("192.168.1.21")),
            NameSource::Netbios,
            "RECEPTION",
        );
        t.bind(MAC, ip("192.168.1.21"));
        let names = t.names_of(Some(MAC), &[ip("192.168.1.21")]);
        assert_eq!(names.best(), Some(("RECEPTION", NameSource::Netbios)));
        // A device known only by address borrows the names of the MAC that owns it.
        t.learn_name(Some(MAC), None, NameSource::DhcpHostname, "reception-pc");
        assert_eq!(
            t.names_of(None, &[ip("192.168.1.21")]).best(),
            Some(("reception-pc", NameSource::DhcpHostname))
        );
        assert_eq!(t.owner_of(&ip("192.168.1.21")), Some(MAC));
    }

    #[test]
    fn ignores_non_device_addresses_and_bounds_names() {
        let mut t = DeviceTable::default();
        t.bind(MAC, ip("0.0.0.0"));
        t.bind(MAC, ip("255.255.255.255"));
        t.bind([0xff; 6], ip("192.168.1.9"));
        for unbound in ["0.0.0.0", "255.255.255.255", "192.168.1.9"] {
            assert_eq!(t.owner_of(&ip(unbound)), None, "{unbound}");
        }
        assert!(t.mac(&[0xff; 6]).is_none());
        // A name sent from a group MAC (anonymised captures rewrite MACs into them) is no MAC's:
        // it goes to the sender's address, as a name with no MAC does.
        let group = [0x33, 0x33, 0x3b, 0xed, 0xcb, 0x6c];
        t.learn_name(Some(group), Some(ip("10.0.0.7")), NameSource::Mdns, "pc7");
        assert!(t.mac(&group).is_none());
        let names = t.names_of(None, &[ip("10.0.0.7")]);
        assert_eq!(names.best(), Some(("pc7", NameSource::Mdns)));
        for i in 0..100 {
            t.learn_name(Some(MAC), None, NameSource::Mdns, &format!("n{i}"));
        }
        assert_eq!(t.mac(&MAC).unwrap().names.all().count(), NAMES_PER_SOURCE);
        t.learn_name(Some(MAC), None, NameSource::Llmnr, &"x".repeat(300));
        assert_eq!(t.mac(&MAC).unwrap().names.all().count(), NAMES_PER_SOURCE);
    }

    #[test]
    fn randomised_macs() {
        assert!(is_locally_administered([0xda, 0xa1, 0x19, 0, 0, 4]));
        assert!(!is_locally_administered(MAC));
    }

    #[test]
    fn vendors_from_the_ieee_registry() {
        assert_eq!(vendor([0, 0, 0, 1, 2, 3]), Some("XEROX CORPORATION"));
        // Raspberry Pi Trading (MA-L b8:27:eb).
        assert!(vendor([0xb8, 0x27, 0xeb, 1, 2, 3]).is_some_and(|v| v.contains("Raspberry")));
        assert_eq!(vendor([0xda, 0xa1, 0x19, 0, 0, 4]), None);
    }
}
