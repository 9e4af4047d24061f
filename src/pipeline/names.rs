//! Device names and address bindings from the protocols devices use to announce themselves:
//! DHCP (host name, FQDN, vendor class, leases), DHCPv6 (FQDN, leased addresses), NetBIOS
//! name service and browser announcements, ARP and IPv6 neighbour discovery. Each also gives
//! `inspect` its signals.

use std::net::IpAddr;

use super::{signal, SignalSink, State};
use crate::classify::devices::NameSource;
use crate::decode::PacketMeta;
use crate::pipeline::Signal;
use crate::proto::{arp, dhcp, dhcpv6, netbios};

pub(super) use arp::ETHERTYPE_ARP;
const DHCP_PORTS: [u16; 2] = [67, 68];
const DHCPV6_PORTS: [u16; 2] = [546, 547];
const NBNS_PORT: u16 = 137;
const NBDS_PORT: u16 = 138;

/// The name-announcing protocols, told apart by port.
#[derive(Clone, Copy)]
pub(super) enum NameService {
    Dhcp,
    Dhcpv6,
    Nbns,
    NetbiosDatagram,
}

/// Which name-announcing protocol a UDP packet speaks, if any (one look at the ports).
pub(super) fn name_service_of(meta: &PacketMeta<'_>) -> Option<NameService> {
    let either = |p: u16| meta.src_port == p || meta.dst_port == p;
    if DHCP_PORTS.iter().any(|p| either(*p)) {
        Some(NameService::Dhcp)
    } else if DHCPV6_PORTS.iter().any(|p| either(*p)) {
        Some(NameService::Dhcpv6)
    } else if either(NBNS_PORT) {
        Some(NameService::Nbns)
    } else if either(NBDS_PORT) {
        Some(NameService::NetbiosDatagram)
    } else {
        None
    }
}

impl<S: SignalSink> State<'_, S> {
    pub(super) fn name_service(&mut self, service: NameService, meta: &PacketMeta<'_>) {
        match service {
            NameService::Dhcp => self.dhcp(meta),
            NameService::Dhcpv6 => self.dhcpv6(meta),
            NameService::Nbns => self.nbns(meta),
            NameService::NetbiosDatagram => self.netbios_datagram(meta),
        }
    }

    fn dhcp(&mut self, meta: &PacketMeta<'_>) {
        let Ok(message) = dhcp::parse(meta.payload) else {
            return;
        };
        if self.sink.enabled() {
            let (sink, frame) = (&mut self.sink, self.frame);
            let _ = dhcp::for_each_signal(&message, |s, value| {
                signal(sink, frame, meta, s.kind(), value);
            });
        }
        let Some(mac) = message.client_mac() else {
            return;
        };
        if message.is_request() {
            if let Some(name) = message.hostname() {
                let name = String::from_utf8_lossy(name);
                self.devices
                    .learn_name(Some(mac), None, NameSource::DhcpHostname, &name);
            }
            if let Some(fqdn) = message.client_fqdn() {
                let mut name = String::new();
                if fqdn.write_value(&mut name).is_ok() {
                    self.devices
                        .learn_name(Some(mac), None, NameSource::DhcpFqdn, &name);
                }
            }
            if let Some(class) = message.vendor_class() {
                self.devices
                    .learn_vendor_class(mac, &String::from_utf8_lossy(class));
            }
        }
        match message.message_type() {
            // The server's ACK and the client's request bind the address to the client.
            Some(dhcp::message_type::ACK) => self.devices.bind(mac, IpAddr::V4(message.yiaddr())),
            Some(dhcp::message_type::REQUEST) => {
                if let Some(ip) = message.requested_ip() {
                    self.devices.bind(mac, IpAddr::V4(ip));
                }
            }
            _ => {}
        }
    }

    fn dhcpv6(&mut self, meta: &PacketMeta<'_>) {
        let Ok(message) = dhcpv6::parse(meta.payload) else {
            return;
        };
        let mut names = Vec::new();
        {
            let enabled = self.sink.enabled();
            let (sink, frame) = (&mut self.sink, self.frame);
            let _ = dhcpv6::for_each_signal(&message, |s, value| {
                if enabled {
                    signal(sink, frame, meta, s.kind(), value);
                }
                if names.len() < 4 {
                    names.push(value.to_string());
                }
            });
        }
        // The client's DUID carries its MAC when it is link-layer based; else the frame's.
        let mac = message
            .client_duid()
            .and_then(|duid| duid.mac())
            .or(meta.src_mac.filter(|_| meta.src_port == 546));
        for name in &names {
            self.devices
                .learn_name(mac, Some(meta.src_ip), NameSource::Dhcpv6Fqdn, name);
        }
        if let Some(mac) = mac {
            for ia in message.ia_na() {
                for address in ia.addresses() {
                    self.devices.bind(mac, IpAddr::V6(address.address));
                }
            }
        }
    }

    fn nbns(&mut self, meta: &PacketMeta<'_>) {
        let Ok(message) = netbios::parse_name_service(meta.payload) else {
            return;
        };
        if self.sink.enabled() {
            let (sink, frame) = (&mut self.sink, self.frame);
            let _ = netbios::for_each_name_service_signal(&message, |s, value| {
                signal(sink, frame, meta, s.kind(), value);
            });
        }
        // Registrations and refreshes (opcodes 5, 8, 9) name the sender: a unique workstation
        // or server name (suffix 00 or 20) bound to an address.
        if message.is_response() || !matches!(message.opcode(), 5 | 8 | 9) {
            return;
        }
        for entry in message.entries() {
            let Ok(entry) = entry else { break };
            let (Some(name), Some(suffix)) = (entry.name.netbios_name(), entry.name.name_type())
            else {
                continue;
            };
            if !matches!(suffix, 0x00 | 0x20) {
                continue;
            }
            let display = netbios::display_name(name);
            let display = display.trim_end();
            for (flags, address) in entry.nb_addresses() {
                // Group names (flag bit 15) are workgroups, not the device.
                if flags & 0x8000 == 0 {
                    self.devices.learn_name(
                        meta.src_mac,
                        Some(IpAddr::V4(address)),
                        NameSource::Netbios,
                        display,
                    );
                }
            }
        }
    }

    fn netbios_datagram(&mut self, meta: &PacketMeta<'_>) {
        if self.sink.enabled() {
            let (sink, frame) = (&mut self.sink, self.frame);
            let _ = netbios::for_each_datagram_signal(meta.payload, |s, value| {
                signal(sink, frame, meta, s.kind(), value);
            });
        }
        let Ok(datagram) = netbios::parse_datagram(meta.payload) else {
            return;
        };
        // Host announcements (command 1) name the sending machine.
        if let Ok(Some(server)) = netbios::browser_server(datagram.user_data) {
            if server.command == 1 && !server.server_name.is_empty() {
                let name = String::from_utf8_lossy(server.server_name);
                self.devices.learn_name(
                    meta.src_mac,
                    Some(IpAddr::V4(datagram.source_ip)),
                    NameSource::Netbios,
                    name.trim_end(),
                );
            }
        }
    }

    pub(super) fn arp(&mut self, src_mac: Option<[u8; 6]>, payload: &[u8]) {
        let Ok(message) = arp::parse(payload) else {
            return;
        };
        if self.sink.enabled() {
            self.text.clear();
            if message.write_value(&mut self.text) {
                self.sink.signal(&Signal {
                    frame: self.frame,
                    kind: "arp",
                    value: &self.text,
                    src_mac,
                    src: None,
                    dst: None,
                    sport: None,
                    dport: None,
                });
            }
        }
        if let Some((mac, ip)) = message.sender_binding() {
            self.devices.bind(mac, IpAddr::V4(ip));
        }
    }

    pub(super) fn neighbour_discovery(&mut self, meta: &PacketMeta<'_>) {
        let IpAddr::V6(source) = meta.src_ip else {
            return;
        };
        if let Ok(Some(ndp)) = arp::parse_ndp(meta.payload) {
            if let Some((mac, ip)) = ndp.binding(source) {
                self.devices.bind(mac, IpAddr::V6(ip));
            }
        }
    }
}
