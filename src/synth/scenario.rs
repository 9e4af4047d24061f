//! Building blocks for scenario captures: a LAN behind a home router (gateway, DNS resolver
//! and DHCP server in one), devices that join over DHCP, look names up and visit sites over
//! TLS or plain HTTP, and one human-readable summary line per flow.
//!
//! Integration tests use it to describe "this device sent this much to that service" in a few
//! lines; [`super::sample`] uses it for the bundled capture. It only arranges the lower-level
//! builders; it refuses to model anything they do not (no QUIC, no mDNS, no NetBIOS yet).

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::arp::{arp_reply, arp_request};
use super::dhcp::{dora, DhcpKind, DhcpMessage, DhcpServer};
use super::dns::{chain_answers, DnsMessage, TYPE_AAAA};
use super::frame::{Endpoint, L2Options};
use super::pcapng::InterfaceDesc;
use super::{http, tls, Endian, Packet, TcpSession, Timeline, UdpFlow, XorShift64};

/// The LAN's router. Frames to the internet are addressed to its MAC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Router {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    /// Its IPv6 address; AAAA lookups of devices with IPv6 go there.
    pub ip6: Option<Ipv6Addr>,
}

/// A device on the LAN.
#[derive(Debug, Clone)]
pub struct Device {
    /// The label used in summaries (and seeds), e.g. "accounts-laptop".
    pub name: String,
    /// DHCP option 12 as the device sends it.
    pub hostname: String,
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub ip6: Option<Ipv6Addr>,
    pub ttl: u8,
    /// DHCP option 60.
    pub vendor_class: Option<String>,
    /// Send DHCP option 81 (Windows' ASCII form) with the host name.
    pub fqdn: bool,
    next_port: u16,
    rng: XorShift64,
}

impl Device {
    /// A device with TTL 64 whose DHCP host name is its name.
    pub fn new(name: &str, mac: [u8; 6], ip: Ipv4Addr) -> Self {
        let mut rng = XorShift64::from_label(name);
        let next_port = rng.range(49_152, 60_000) as u16;
        Device {
            name: name.to_owned(),
            hostname: name.to_owned(),
            mac,
            ip,
            ip6: None,
            ttl: 64,
            vendor_class: None,
            fqdn: false,
            next_port,
            rng,
        }
    }

    /// A Windows PC: TTL 128, vendor class "MSFT 5.0", option 81.
    pub fn windows(mut self) -> Self {
        self.ttl = 128;
        self.vendor_class = Some("MSFT 5.0".to_owned());
        self.fqdn = true;
        self
    }

    pub fn hostname(mut self, hostname: &str) -> Self {
        self.hostname = hostname.to_owned();
        self
    }

    pub fn ipv6(mut self, ip6: Ipv6Addr) -> Self {
        self.ip6 = Some(ip6);
        self
    }

    /// A fresh client endpoint (next ephemeral port) of the same family as `server`.
    fn endpoint_towards(&mut self, server: IpAddr) -> Endpoint {
        self.next_port = self.next_port.checked_add(1).unwrap_or(49_152);
        let source = match (server, self.ip6) {
            (IpAddr::V6(_), Some(ip6)) => IpAddr::V6(ip6),
            _ => IpAddr::V4(self.ip),
        };
        Endpoint::new(self.mac, source, self.next_port).with_ttl(self.ttl)
    }
}

/// A TLS 1.3 visit on port 443: ClientHello (from the project's builder, cut in two segments),
/// server flight, client Finished, then request/response exchanges of filler records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsVisit {
    pub sni: String,
    pub server: IpAddr,
    pub server_ttl: u8,
    pub rtt_ms: u64,
    pub alpn: Vec<String>,
    pub ech_grease: bool,
    /// `(pause before in ms, bytes up, bytes down)` per exchange.
    pub exchanges: Vec<(u64, usize, usize)>,
    /// The capture missed everything before the first exchange (handshake, ClientHello).
    pub handshake_lost: bool,
}

impl TlsVisit {
    /// Chrome or Edge: ALPN h2 and http/1.1, GREASE ECH; 10 ms away, TTL 57 on arrival.
    pub fn chrome(sni: &str, server: IpAddr) -> Self {
        TlsVisit {
            sni: sni.to_owned(),
            server,
            server_ttl: 57,
            rtt_ms: 10,
            alpn: vec!["h2".to_owned(), "http/1.1".to_owned()],
            ech_grease: true,
            exchanges: Vec::new(),
            handshake_lost: false,
        }
    }

    /// Safari: like Chrome without GREASE ECH.
    pub fn safari(sni: &str, server: IpAddr) -> Self {
        TlsVisit {
            ech_grease: false,
            ..TlsVisit::chrome(sni, server)
        }
    }

    /// Network distance: round trip and the TTL left on the server's packets.
    pub fn path(mut self, rtt_ms: u64, server_ttl: u8) -> Self {
        self.rtt_ms = rtt_ms;
        self.server_ttl = server_ttl;
        self
    }

    pub fn exchange(mut self, pause_ms: u64, up: usize, down: usize) -> Self {
        self.exchanges.push((pause_ms, up, down));
        self
    }

    pub fn exchanges(mut self, exchanges: &[(u64, usize, usize)]) -> Self {
        self.exchanges.extend_from_slice(exchanges);
        self
    }

    pub fn handshake_lost(mut self) -> Self {
        self.handshake_lost = true;
        self
    }
}

/// A plain HTTP GET on port 80 and a 200 response with `body_len` bytes of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpVisit {
    pub server: IpAddr,
    pub host: String,
    pub path: String,
    pub user_agent: String,
    pub body_len: usize,
}

impl HttpVisit {
    pub fn get(server: IpAddr, host: &str, path: &str) -> Self {
        HttpVisit {
            server,
            host: host.to_owned(),
            path: path.to_owned(),
            user_agent: "curl/8.5.0".to_owned(),
            body_len: 512,
        }
    }

    pub fn user_agent(mut self, user_agent: &str) -> Self {
        self.user_agent = user_agent.to_owned();
        self
    }

    pub fn body_len(mut self, body_len: usize) -> Self {
        self.body_len = body_len;
        self
    }
}

/// What a scenario wrote, one line per flow (for people; the capture is the data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowSummary {
    pub device: String,
    pub protocol: &'static str,
    pub client: String,
    pub server: String,
    /// SNI, DNS question, DHCP host name or HTTP Host.
    pub name: String,
    /// Transport payload bytes captured in each direction.
    pub payload_up: u64,
    pub payload_down: u64,
    pub frames: usize,
    pub note: &'static str,
}

impl FlowSummary {
    fn new(
        device: &Device,
        protocol: &'static str,
        client: String,
        server: String,
        name: &str,
    ) -> Self {
        FlowSummary {
            device: device.name.clone(),
            protocol,
            client,
            server,
            name: name.to_owned(),
            payload_up: 0,
            payload_down: 0,
            frames: 0,
            note: "",
        }
    }
}

impl fmt::Display for FlowSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<15} {:<4} {:>24} -> {:<34} {:<31} up {:>7} B down {:>6} B {:>4} frames{}",
            self.device,
            self.protocol,
            self.client,
            self.server,
            self.name,
            self.payload_up,
            self.payload_down,
            self.frames,
            self.note
        )
    }
}

/// A finished scenario: the capture and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub pcapng: Vec<u8>,
    pub flows: Vec<FlowSummary>,
    pub frames: usize,
}

/// A LAN being recorded. Every method adds one flow at time `at` and returns when it ended.
#[derive(Debug, Clone)]
pub struct Lan {
    router: Router,
    timeline: Timeline,
    flows: Vec<FlowSummary>,
}

impl Lan {
    pub fn new(router: Router) -> Self {
        Lan {
            router,
            timeline: Timeline::new(),
            flows: Vec::new(),
        }
    }

    /// The device gets its address over DHCP, then resolves the gateway's MAC over ARP.
    pub fn join(&mut self, device: &Device, at: u64) -> io::Result<u64> {
        let xid = XorShift64::from_label(&device.name).next_u32();
        let mut discover = DhcpMessage::client(DhcpKind::Discover, xid, device.mac)
            .client_id()
            .hostname(&device.hostname);
        if let Some(class) = &device.vendor_class {
            discover = discover.vendor_class(class);
        }
        if device.fqdn {
            discover = discover.client_fqdn_ascii(&device.hostname);
        }
        let discover = discover
            .parameter_request_list(&[1, 3, 6, 15, 31, 33, 43, 44, 46, 47, 119, 121, 249, 252]);
        let server = DhcpServer {
            mac: self.router.mac,
            ip: self.router.ip,
            subnet_mask: Ipv4Addr::new(255, 255, 255, 0),
            lease_secs: 86_400,
        };
        let packets = dora(&discover, &server, device.ip, at)?;
        let mut flow = FlowSummary::new(
            device,
            "dhcp",
            "0.0.0.0:68".into(),
            "255.255.255.255:67".into(),
            &device.hostname,
        );
        for (i, packet) in packets.iter().enumerate() {
            // Ethernet + IPv4 + UDP headers are 42 bytes; DHCP frames are never padded.
            let payload = packet.data.len().saturating_sub(42) as u64;
            if i % 2 == 0 {
                flow.payload_up += payload;
            } else {
                flow.payload_down += payload;
            }
        }
        flow.frames = packets.len();
        self.flows.push(flow);
        let end = packets.last().map_or(at, |packet| packet.ts_nanos);
        self.timeline.extend(packets);
        let l2 = L2Options::default();
        let (router, asked_at) = (self.router, end.saturating_add(10_000_000));
        let request = arp_request(l2, device.mac, device.ip, router.ip)?;
        let reply = arp_reply(l2, router.mac, router.ip, device.mac, device.ip)?;
        let answered_at = asked_at.saturating_add(400_000);
        self.push([packet(asked_at, request), packet(answered_at, reply)]);
        Ok(answered_at)
    }

    /// One DNS lookup of `qname` answered with `qname → cnames… → addrs`. AAAA lookups of a
    /// device with IPv6 go over IPv6 to the router's IPv6 address, all others over IPv4.
    pub fn lookup(
        &mut self,
        device: &mut Device,
        at: u64,
        qname: &str,
        qtype: u16,
        cnames: &[&str],
        addrs: &[IpAddr],
    ) -> io::Result<u64> {
        let id = device.rng.next_u16();
        let port = device.rng.range(49_152, 65_535) as u16;
        let (source, resolver) = match (qtype, device.ip6, self.router.ip6) {
            (TYPE_AAAA, Some(ip6), Some(router6)) => (IpAddr::V6(ip6), IpAddr::V6(router6)),
            _ => (IpAddr::V4(device.ip), IpAddr::V4(self.router.ip)),
        };
        let response = DnsMessage::response(id, qname, qtype)
            .answers(chain_answers(qname, cnames, 300, addrs));
        let client = Endpoint::new(device.mac, source, port).with_ttl(device.ttl);
        let server = Endpoint::new(self.router.mac, resolver, 53);
        let capture = UdpFlow::new(client, server, at)
            .seed(u64::from(id))
            .client(DnsMessage::query(id, qname, qtype).to_bytes()?)
            .server(response.to_bytes()?)
            .build()?;
        self.flows.push(FlowSummary {
            payload_up: capture.payload_up,
            payload_down: capture.payload_down,
            frames: capture.packets.len(),
            ..FlowSummary::new(device, "dns", socket(&client), socket(&server), qname)
        });
        self.push(capture.packets);
        Ok(capture.end_nanos)
    }

    pub fn tls(&mut self, device: &mut Device, at: u64, visit: &TlsVisit) -> io::Result<u64> {
        let mut rng = XorShift64::from_label(&format!("{}/{}/{at}", device.name, visit.sni));
        let alpn: Vec<&str> = visit.alpn.iter().map(String::as_str).collect();
        let client_hello = crate::proto::tls::build::build_client_hello(
            Some(&visit.sni),
            &alpn,
            visit.ech_grease,
            0,
        );
        // Browsers cut a post-quantum ClientHello at about 1,400 bytes; always two segments.
        let first_segment = match client_hello.len() {
            len if len > 1_400 => 1_400,
            len => len.div_ceil(2).max(1),
        };
        let client = device.endpoint_towards(visit.server);
        let server = Endpoint::new(self.router.mac, visit.server, 443).with_ttl(visit.server_ttl);
        let mut session = TcpSession::new(client, server, at)
            .rtt(visit.rtt_ms.saturating_mul(1_000_000))
            .client_segmented(client_hello, first_segment)
            .server(tls::server_flight(4_300, &mut rng))
            .client(tls::client_finished(&mut rng));
        for &(pause_ms, up, down) in &visit.exchanges {
            session = session
                .pause(pause_ms.saturating_mul(1_000_000))
                .client(tls::application_data(up, &mut rng))
                .server(tls::application_data(down, &mut rng));
        }
        let mut note = "";
        if visit.handshake_lost {
            // Messages 0-2 are ClientHello, server flight, client Finished.
            session = session.drop_before_message(3);
            note = "  (handshake and ClientHello not captured)";
        }
        let capture = session.build()?;
        self.flows.push(FlowSummary {
            payload_up: capture.payload_up,
            payload_down: capture.payload_down,
            frames: capture.packets.len(),
            note,
            ..FlowSummary::new(device, "tls", socket(&client), socket(&server), &visit.sni)
        });
        self.push(capture.packets);
        Ok(capture.end_nanos)
    }

    /// An HTTP/3 visit over QUIC v1 on UDP 443, as Chrome makes it: the ClientHello (with a
    /// post-quantum key share, ~1.8 KB) in client Initials of 1,250 bytes, encrypted with the
    /// real Initial keys; then short-header datagrams of filler, `exchanges` as for TLS.
    pub fn quic(&mut self, device: &mut Device, at: u64, visit: &TlsVisit) -> io::Result<u64> {
        use crate::proto::quic::{build::build_client_initials, Version};
        let mut rng = XorShift64::from_label(&format!("{}/{}/{at}/quic", device.name, visit.sni));
        let records = crate::proto::tls::build::build_client_hello(
            Some(&visit.sni),
            &["h3"],
            visit.ech_grease,
            0,
        );
        // The builder writes TLS records; QUIC carries the bare handshake message.
        let handshake = records.get(5..).unwrap_or_default();
        let dcid = rng.bytes(8);
        let initials = build_client_initials(Version::V1, &dcid, &[], handshake, 1_250, None);
        if initials.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "QUIC Initials could not be built",
            ));
        }
        let client = device.endpoint_towards(visit.server);
        let server = Endpoint::new(self.router.mac, visit.server, 443).with_ttl(visit.server_ttl);
        let mut flow = UdpFlow::new(client, server, at)
            .rtt(visit.rtt_ms.saturating_mul(1_000_000))
            .seed(rng.next_u64());
        for initial in initials {
            flow = flow.client(initial);
        }
        // The server's handshake flight and the client's Finished, as opaque 1-RTT-looking
        // datagrams (random bytes behind a long header would read as malformed packets).
        flow = flow
            .server(short_header_like(1_200, &mut rng))
            .server(short_header_like(1_200, &mut rng))
            .client(short_header_like(90, &mut rng));
        for &(pause_ms, up, down) in &visit.exchanges {
            flow = flow.pause(pause_ms.saturating_mul(1_000_000));
            for chunk in chunks(up, 1_200) {
                flow = flow.client(short_header_like(chunk, &mut rng));
            }
            for chunk in chunks(down, 1_200) {
                flow = flow.server(short_header_like(chunk, &mut rng));
            }
        }
        let capture = flow.build()?;
        self.flows.push(FlowSummary {
            payload_up: capture.payload_up,
            payload_down: capture.payload_down,
            frames: capture.packets.len(),
            ..FlowSummary::new(device, "quic", socket(&client), socket(&server), &visit.sni)
        });
        self.push(capture.packets);
        Ok(capture.end_nanos)
    }

    pub fn http(&mut self, device: &mut Device, at: u64, visit: &HttpVisit) -> io::Result<u64> {
        let mut rng = XorShift64::from_label(&format!("{}/{}/{at}", device.name, visit.host));
        let client = device.endpoint_towards(visit.server);
        let server = Endpoint::new(self.router.mac, visit.server, 80).with_ttl(55);
        let body = http::text_body(visit.body_len, &mut rng);
        let capture = TcpSession::new(client, server, at)
            .client(http::get_request(
                &visit.host,
                &visit.path,
                &visit.user_agent,
            ))
            .server(http::response(200, "OK", "text/html; charset=UTF-8", &body))
            .build()?;
        self.flows.push(FlowSummary {
            payload_up: capture.payload_up,
            payload_down: capture.payload_down,
            frames: capture.packets.len(),
            ..FlowSummary::new(
                device,
                "http",
                socket(&client),
                socket(&server),
                &visit.host,
            )
        });
        self.push(capture.packets);
        Ok(capture.end_nanos)
    }

    /// Adds frames built elsewhere (no summary line).
    pub fn push(&mut self, packets: impl IntoIterator<Item = Packet>) {
        self.timeline.extend(packets);
    }

    pub fn flows(&self) -> &[FlowSummary] {
        &self.flows
    }

    /// The capture: little-endian pcapng, one Ethernet interface "eth1", microseconds.
    pub fn finish(self) -> io::Result<Sample> {
        let interface = InterfaceDesc::new(super::LINKTYPE_ETHERNET)
            .named("eth1")
            .snaplen(262_144);
        Ok(Sample {
            pcapng: self.timeline.to_pcapng(Endian::Little, &[interface])?,
            flows: self.flows,
            frames: self.timeline.len(),
        })
    }
}

/// `len` bytes of filler behind a QUIC short-header first byte, as encrypted 1-RTT looks.
fn short_header_like(len: usize, rng: &mut XorShift64) -> Vec<u8> {
    let mut bytes = rng.bytes(len.max(1));
    bytes[0] = 0x40 | (bytes[0] & 0x1f);
    bytes
}

/// `total` cut into pieces of at most `size`.
fn chunks(total: usize, size: usize) -> impl Iterator<Item = usize> {
    (0..total.div_ceil(size)).map(move |i| size.min(total - i * size))
}

fn socket(endpoint: &Endpoint) -> String {
    match endpoint.ip {
        IpAddr::V4(ip) => format!("{ip}:{}", endpoint.port),
        IpAddr::V6(ip) => format!("[{ip}]:{}", endpoint.port),
    }
}

fn packet(ts_nanos: u64, data: Vec<u8>) -> Packet {
    Packet {
        ts_nanos,
        interface: 0,
        data,
    }
}
