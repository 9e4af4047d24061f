//! The name stage: what devices and resolvers say about names, read in capture order.
//!
//! DNS answers (over UDP and TCP) fill the passive DNS map that names flows; mDNS, LLMNR,
//! DHCP (host name, FQDN, vendor class, leases), DHCPv6 (FQDN, leased addresses), NetBIOS name
//! service and browser announcements, ARP and IPv6 neighbour discovery fill the device table.
//! Each also gives `inspect` its signals. There is one name stage for the whole run, and it
//! sees its packets in capture order; the flow shards look new flows up in its DNS map (or, in
//! a batch run, have it answer their lookups in capture order) and hand it the few answers
//! they find inside flows (DNS over cleartext HTTP/2) through `learn`.

use std::net::IpAddr;

use super::flows::Learned;
use super::route::{DnsFamily, NameWork};
use super::{
    address_answers, direction_key, read_dns, signal, AnswerScratch, AppStream, AppStreams, Budget,
    Cx, SignalSink, Stats,
};
use crate::classify::devices::{DeviceTable, NameSource};
use crate::classify::dnsmap::DnsMap;
use crate::decode::{PacketMeta, Transport};
use crate::flow::SweepClock;
use crate::pipeline::Signal;
use crate::proto::{arp, dhcp, dhcpv6, dns, netbios};

pub(super) use arp::ETHERTYPE_ARP;
const DHCP_PORTS: [u16; 2] = [67, 68];
const DHCPV6_PORTS: [u16; 2] = [546, 547];
const NBNS_PORT: u16 = 137;
const NBDS_PORT: u16 = 138;
const NANOS: u64 = 1_000_000_000;
/// A DNS-over-TCP stream with no segment for this long is dropped (as an idle TCP flow is).
const STREAM_IDLE: u64 = 300 * NANOS;
/// Bytes the DNS-over-TCP streams may hold at once (each up to `APP_STREAM_MAX`): past it a
/// message split over segments is not waited for, and the report counts it.
const DNS_STREAM_BUDGET: usize = 16 << 20;

/// The name-announcing protocols, told apart by port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameService {
    Dhcp,
    Dhcpv6,
    Nbns,
    NetbiosDatagram,
}

/// A DHCP text option as a device's name or vendor class: up to its first NUL
/// (`dhcp::text::until_nul`), as UTF-8 (a name may be).
fn c_string(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(crate::proto::dhcp::text::until_nul(bytes))
}

/// Which name-announcing protocol a UDP packet speaks, if any (one look at the ports).
pub(super) fn name_service_of(src_port: u16, dst_port: u16) -> Option<NameService> {
    let either = |p: u16| src_port == p || dst_port == p;
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

/// The state of the name stage.
pub(super) struct Names {
    pub(super) dns: DnsMap,
    pub(super) devices: DeviceTable,
    /// DNS over TCP, per direction: keyed by (sender, receiver).
    dns_streams: AppStreams,
    /// Bytes `dns_streams` holds (`AppStream::held`), against `DNS_STREAM_BUDGET` or a test's
    /// own (four times its shards').
    dns_budget: Budget,
    /// When to look for idle DNS-over-TCP streams (the flows' clock, for the same rhythm).
    stream_clock: SweepClock,
    pub(super) stats: Stats,
    /// Scratch text buffer reused for names and signal values.
    text: String,
    answers: AnswerScratch,
}

impl Names {
    /// A name stage whose DNS-over-TCP streams may hold `dns_budget` bytes at once (0:
    /// `DNS_STREAM_BUDGET`).
    pub(super) fn with_stream_budget(dns_budget: usize) -> Names {
        Names {
            dns: DnsMap::default(),
            devices: DeviceTable::default(),
            dns_streams: AppStreams::default(),
            dns_budget: Budget::new(dns_budget, DNS_STREAM_BUDGET),
            stream_clock: SweepClock::default(),
            stats: Stats::default(),
            text: String::new(),
            answers: AnswerScratch::default(),
        }
    }

    /// One IP packet's work for this stage.
    pub(super) fn packet<S: SignalSink>(
        &mut self,
        work: NameWork,
        meta: &PacketMeta<'_>,
        cx: &mut Cx<'_, S>,
    ) {
        match work {
            NameWork::Nothing => {}
            NameWork::Ndp => self.neighbour_discovery(meta),
            NameWork::Dns(family) => self.dns_message(meta, meta.payload, family, cx),
            NameWork::DnsOverTcp => self.dns_over_tcp(meta, cx),
            NameWork::Service(service) => self.name_service(service, meta, cx),
            NameWork::Ssdp => {
                if let Ok(head) = crate::proto::http::parse_request_head(meta.payload) {
                    super::emit_http(cx, meta, &head, &mut self.text);
                }
            }
        }
    }

    /// An address a shard learned from DNS inside a flow.
    pub(super) fn learn(&mut self, learned: Learned) {
        let Learned {
            ts,
            client,
            addr,
            name,
            ..
        } = learned;
        self.dns.insert(client, addr, &name, ts);
    }

    /// One DNS-format message over UDP.
    fn dns_message<S: SignalSink>(
        &mut self,
        meta: &PacketMeta<'_>,
        bytes: &[u8],
        family: DnsFamily,
        cx: &mut Cx<'_, S>,
    ) {
        let Some(message) = read_dns(bytes, family, meta, cx, &mut self.stats, &mut self.text)
        else {
            return;
        };
        match family {
            DnsFamily::Dns | DnsFamily::DnsInBody => {
                // The answer is for the client it is sent to.
                let (client, ts) = (meta.dst_ip, meta.ts_nanos);
                let dns = &mut self.dns;
                address_answers(&message, &mut self.answers, |addr, name| {
                    dns.insert(client, addr, name, ts)
                });
            }
            DnsFamily::Mdns => self.learn_local_names(meta, &message, NameSource::Mdns),
            DnsFamily::Llmnr => self.learn_local_names(meta, &message, NameSource::Llmnr),
        }
    }

    /// One segment of a DNS-over-TCP connection, in either direction: each complete message
    /// in it is read.
    fn dns_over_tcp<S: SignalSink>(&mut self, meta: &PacketMeta<'_>, cx: &mut Cx<'_, S>) {
        let Transport::Tcp { seq, flags, .. } = meta.transport else {
            return;
        };
        self.sweep_streams(meta.ts_nanos);
        const FIN_OR_RST: u8 = 0x01 | 0x04;
        let key = direction_key(meta);
        if meta.payload.is_empty() {
            if flags & FIN_OR_RST != 0 {
                if let Some(stream) = self.dns_streams.remove(&key) {
                    self.dns_budget.release(stream.held());
                }
            }
            return;
        }
        let (mut stream, before) = AppStream::take(&mut self.dns_streams, &key);
        stream.last_ts = meta.ts_nanos;
        stream.append(seq, meta.payload);
        let (messages, used) = dns::tcp_messages(&stream.buf);
        for message in messages {
            self.dns_message(meta, message, DnsFamily::Dns, cx);
        }
        stream.buf.drain(..used.min(stream.buf.len()));
        if flags & FIN_OR_RST != 0 {
            self.dns_budget.release(before);
        } else if self.dns_budget.hold(before, stream.held()) {
            self.dns_streams.insert(key, stream);
        } else {
            // Past the budget: the rest of this direction's message is not waited for.
            self.dns_budget.release(stream.held());
            self.stats.streams_over_budget += 1;
        }
    }

    /// Drops DNS-over-TCP streams idle for `STREAM_IDLE` (looking when `stream_clock` says).
    fn sweep_streams(&mut self, now: u64) {
        if !self.stream_clock.due(now) {
            return;
        }
        let budget = &mut self.dns_budget;
        self.dns_streams.retain(|_, s| {
            let keep = now.saturating_sub(s.last_ts) <= STREAM_IDLE;
            if !keep {
                budget.release(s.held());
            }
            keep
        });
    }

    fn name_service<S: SignalSink>(
        &mut self,
        service: NameService,
        meta: &PacketMeta<'_>,
        cx: &mut Cx<'_, S>,
    ) {
        match service {
            NameService::Dhcp => self.dhcp(meta, cx),
            NameService::Dhcpv6 => self.dhcpv6(meta, cx),
            NameService::Nbns => self.nbns(meta, cx),
            NameService::NetbiosDatagram => self.netbios_datagram(meta, cx),
        }
    }

    fn dhcp<S: SignalSink>(&mut self, meta: &PacketMeta<'_>, cx: &mut Cx<'_, S>) {
        let Ok(message) = dhcp::parse(meta.payload) else {
            return;
        };
        if cx.sink.enabled() {
            let _ = dhcp::for_each_signal(&message, |s, value| {
                signal(cx, meta, s.kind(), value);
            });
        }
        let Some(mac) = message.client_mac() else {
            return;
        };
        if message.is_request() {
            if let Some(name) = message.hostname() {
                let name = c_string(name);
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
                self.devices.learn_vendor_class(mac, &c_string(class));
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

    fn dhcpv6<S: SignalSink>(&mut self, meta: &PacketMeta<'_>, cx: &mut Cx<'_, S>) {
        let Ok(message) = dhcpv6::parse(meta.payload) else {
            return;
        };
        let mut names = Vec::new();
        {
            let enabled = cx.sink.enabled();
            let _ = dhcpv6::for_each_signal(&message, |s, value| {
                if enabled {
                    signal(cx, meta, s.kind(), value);
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

    fn nbns<S: SignalSink>(&mut self, meta: &PacketMeta<'_>, cx: &mut Cx<'_, S>) {
        let Ok(message) = netbios::parse_name_service(meta.payload) else {
            return;
        };
        if cx.sink.enabled() {
            let _ = netbios::for_each_name_service_signal(&message, |s, value| {
                signal(cx, meta, s.kind(), value);
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

    fn netbios_datagram<S: SignalSink>(&mut self, meta: &PacketMeta<'_>, cx: &mut Cx<'_, S>) {
        if cx.sink.enabled() {
            let _ = netbios::for_each_datagram_signal(meta.payload, |s, value| {
                signal(cx, meta, s.kind(), value);
            });
        }
        let Ok(datagram) = netbios::parse_datagram_skipping_names(meta.payload) else {
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

    pub(super) fn arp<S: SignalSink>(
        &mut self,
        src_mac: Option<[u8; 6]>,
        payload: &[u8],
        cx: &mut Cx<'_, S>,
    ) {
        let Ok(message) = arp::parse(payload) else {
            return;
        };
        if cx.sink.enabled() {
            self.text.clear();
            if message.write_value(&mut self.text) {
                cx.sink.signal(&Signal {
                    frame: cx.frame,
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

    fn neighbour_discovery(&mut self, meta: &PacketMeta<'_>) {
        let IpAddr::V6(source) = meta.src_ip else {
            return;
        };
        if let Ok(Some(ndp)) = arp::parse_ndp(meta.payload) {
            if let Some((mac, ip)) = ndp.binding(source) {
                self.devices.bind(mac, IpAddr::V6(ip));
            }
        }
    }

    /// mDNS and LLMNR answers name the device that sends them: its `.local` (or LLMNR) name
    /// and the addresses it answers with.
    fn learn_local_names(
        &mut self,
        meta: &PacketMeta<'_>,
        message: &dns::Message<'_>,
        source: NameSource,
    ) {
        for record in message.answers() {
            let Ok(record) = record else { break };
            let addr = match record.data {
                dns::RData::A(v4) => IpAddr::V4(v4),
                dns::RData::Aaaa(v6) => IpAddr::V6(v6),
                dns::RData::Srv { target, .. } if source == NameSource::Mdns => {
                    self.learn_service_instance(meta, &record.owner, &target);
                    continue;
                }
                _ => continue,
            };
            self.text.clear();
            if record.owner.write_text(&mut self.text).is_err() {
                continue;
            }
            let name = self.text.trim_end_matches('.');
            let name = name.strip_suffix(".local").unwrap_or(name);
            // Answers are about the sender itself (a responder answers for its own names).
            self.devices
                .learn_name(meta.src_mac, Some(addr), source, name);
            if let Some(mac) = meta.src_mac {
                self.devices.bind(mac, addr);
            }
        }
    }

    /// An mDNS SRV answer: `instance._service._proto.local` served by `host.local`. Both name
    /// the sender: the host name as an mDNS name, the instance as a service-instance name.
    fn learn_service_instance(
        &mut self,
        meta: &PacketMeta<'_>,
        owner: &dns::Name<'_>,
        target: &dns::Name<'_>,
    ) {
        self.text.clear();
        if owner.write_text(&mut self.text).is_ok() {
            if let Some((instance, _)) = self.text.split_once("._") {
                self.devices
                    .learn_name(meta.src_mac, None, NameSource::MdnsService, instance);
            }
        }
        self.text.clear();
        if target.write_text(&mut self.text).is_ok() {
            let host = self.text.trim_end_matches('.');
            if let Some(host) = host.strip_suffix(".local") {
                self.devices
                    .learn_name(meta.src_mac, None, NameSource::Mdns, host);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::c_string;

    #[test]
    fn a_dhcp_text_option_ends_at_its_first_nul() {
        assert_eq!(c_string(b"Microsoft Windows CE\0"), "Microsoft Windows CE");
        assert_eq!(c_string(b"desk\0junk"), "desk");
        assert_eq!(c_string(b"\0"), "");
        assert_eq!(c_string("Anna’s iPhone".as_bytes()), "Anna’s iPhone");
        assert_eq!(c_string(b"MSFT 5.0"), "MSFT 5.0");
    }
}
