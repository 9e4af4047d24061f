//! Which stages a decoded packet goes to, decided from its transport and ports alone, so the
//! decode side can decide it (on the reader's thread in a batch run) and the stages after it
//! only do their own work.
//!
//! Two stages follow decoding. The name stage (`names.rs`) is one for the whole run and sees
//! its packets in capture order: DNS, mDNS, LLMNR, DHCP, DHCPv6, NetBIOS, SSDP, ARP and
//! neighbour discovery, which teach it the passive DNS map and the device table. The flow stage
//! (`flows.rs`) is split into shards by a hash of the flow's 5-tuple; every TCP and UDP packet
//! is counted in its flow's shard, and flows of other protocols are read there for their name
//! (TLS, HTTP, QUIC).

use super::names::{self, NameService};
use crate::decode::{PacketMeta, Transport};
use crate::flow::{FlowKey, TCP, UDP};

pub(super) const DNS_PORT: u16 = 53;
const MDNS_PORT: u16 = 5353;
const LLMNR_PORT: u16 = 5355;
const SSDP_PORT: u16 = 1900;

/// The protocols that share the DNS message format, each with its own signal kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DnsFamily {
    Dns,
    /// DNS found in another protocol's body (DNS over cleartext HTTP/2).
    DnsInBody,
    Mdns,
    Llmnr,
}

impl DnsFamily {
    pub(super) fn kinds(self) -> (&'static str, &'static str) {
        match self {
            DnsFamily::Dns | DnsFamily::DnsInBody => ("dns_query", "dns_answer"),
            DnsFamily::Mdns => ("mdns_query", "mdns_answer"),
            DnsFamily::Llmnr => ("llmnr_query", "llmnr_answer"),
        }
    }
}

/// What the name stage does with an IP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NameWork {
    Nothing,
    /// ICMPv6 neighbour discovery: MAC ⇄ address bindings.
    Ndp,
    /// A DNS-format message over UDP.
    Dns(DnsFamily),
    /// DNS over TCP: messages reassembled from the segments of both directions.
    DnsOverTcp,
    /// DHCP, DHCPv6, NetBIOS name service or datagrams.
    Service(NameService),
    /// SSDP (HTTP over UDP): signals only.
    Ssdp,
}

/// Where one IP packet goes.
#[derive(Debug, Clone, Copy)]
pub(super) struct Route {
    pub(super) names: NameWork,
    /// The packet's flow, for TCP and UDP.
    pub(super) flow: Option<FlowKey>,
    /// Whether the flow stage reads the payload to name the flow (false for the protocols the
    /// name stage reads: their flows are only counted).
    pub(super) name_flow: bool,
}

impl Route {
    /// A DHCP packet's flow told apart by its ends' MACs where an address is 0.0.0.0
    /// (`FlowKey::with_macs`): every client asking for an address at once sends from
    /// 0.0.0.0:68 to 255.255.255.255:67, and without its MAC each was counted in the first
    /// one's flow. Any other route stays as it is.
    #[inline]
    pub(super) fn unaddressed(
        &mut self,
        macs: impl FnOnce() -> (Option<[u8; 6]>, Option<[u8; 6]>),
    ) {
        if let (NameWork::Service(NameService::Dhcp), Some(key)) = (self.names, self.flow) {
            let (src_mac, dst_mac) = macs();
            self.flow = Some(key.with_macs(src_mac, dst_mac));
        }
    }

    /// Nowhere (a frame without IP).
    pub(super) const NONE: Route = Route {
        names: NameWork::Nothing,
        flow: None,
        name_flow: false,
    };
}

/// Decides where an IP packet goes.
pub(super) fn route(meta: &PacketMeta<'_>) -> Route {
    let mut route = route_of(meta.transport, meta.src_port, meta.dst_port, |protocol| {
        FlowKey::of(protocol, meta)
    });
    route.unaddressed(|| (meta.src_mac, meta.dst_mac));
    route
}

/// `route` from the parts it looks at: the transport (its kind only), the ports, and the
/// flow's key for a protocol number (made only for TCP and UDP).
#[inline(always)]
pub(super) fn route_of(
    transport: Transport,
    src_port: u16,
    dst_port: u16,
    key: impl FnOnce(u8) -> FlowKey,
) -> Route {
    let protocol = match transport {
        Transport::Tcp { .. } => TCP,
        Transport::Udp => UDP,
        Transport::Icmp => {
            return Route {
                names: NameWork::Ndp,
                flow: None,
                name_flow: false,
            }
        }
        Transport::Other(_) => {
            return Route {
                names: NameWork::Nothing,
                flow: None,
                name_flow: false,
            }
        }
    };
    let either = |port: u16| src_port == port || dst_port == port;
    let names = match transport {
        Transport::Udp if either(DNS_PORT) => NameWork::Dns(DnsFamily::Dns),
        Transport::Udp => match names::name_service_of(src_port, dst_port) {
            Some(service) => NameWork::Service(service),
            None if either(MDNS_PORT) => NameWork::Dns(DnsFamily::Mdns),
            None if either(LLMNR_PORT) => NameWork::Dns(DnsFamily::Llmnr),
            None if dst_port == SSDP_PORT => NameWork::Ssdp,
            None => NameWork::Nothing,
        },
        Transport::Tcp { .. } if either(DNS_PORT) => NameWork::DnsOverTcp,
        _ => NameWork::Nothing,
    };
    Route {
        names,
        flow: Some(key(protocol)),
        name_flow: names == NameWork::Nothing,
    }
}
