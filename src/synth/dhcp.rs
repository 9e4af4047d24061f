//! DHCPv4 messages on the wire (RFC 2131/2132) and the DISCOVER-OFFER-REQUEST-ACK exchange
//! that names a device: host name (option 12), vendor class (60), client FQDN (81, RFC 4702,
//! wire or legacy ASCII form), requested address (50), server identifier (54) and the
//! server's lease options.
//!
//! It writes what clients and a home router send; it refuses options over 255 bytes (no RFC
//! 3396 splitting) and does not model relays, DHCPv6 or lease renewal timers.

use std::io;
use std::net::Ipv4Addr;

use super::dns::wire_name;
use super::frame::{udp_frame, Endpoint, IpIdent, L2Options, BROADCAST_MAC};
use super::{invalid, Packet, XorShift64};

pub const OPT_SUBNET_MASK: u8 = 1;
pub const OPT_ROUTER: u8 = 3;
pub const OPT_DNS_SERVERS: u8 = 6;
pub const OPT_HOSTNAME: u8 = 12;
pub const OPT_REQUESTED_IP: u8 = 50;
pub const OPT_LEASE_TIME: u8 = 51;
pub const OPT_MESSAGE_TYPE: u8 = 53;
pub const OPT_SERVER_ID: u8 = 54;
pub const OPT_PARAMETER_REQUEST_LIST: u8 = 55;
pub const OPT_VENDOR_CLASS: u8 = 60;
pub const OPT_CLIENT_ID: u8 = 61;
pub const OPT_CLIENT_FQDN: u8 = 81;
const OPT_END: u8 = 255;
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// BOOTP's minimum message size; clients pad to it.
const MIN_MESSAGE_LEN: usize = 300;

/// DHCP message type (option 53).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DhcpKind {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

/// One DHCP message. Option 53 is always written first, then `options` in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpMessage {
    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub op: u8,
    pub kind: DhcpKind,
    pub xid: u32,
    pub secs: u16,
    pub broadcast: bool,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 6],
    pub options: Vec<(u8, Vec<u8>)>,
}

impl DhcpMessage {
    /// A client message (DISCOVER, REQUEST, ...) from `mac`.
    pub fn client(kind: DhcpKind, xid: u32, mac: [u8; 6]) -> Self {
        DhcpMessage {
            op: 1,
            kind,
            xid,
            secs: 0,
            broadcast: false,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr: mac,
            options: Vec::new(),
        }
    }

    /// The server's reply to `request`: same xid, hardware address, flags and relay; the
    /// offered address in `yiaddr`; the server identifier (54) as first option.
    pub fn reply(
        request: &DhcpMessage,
        kind: DhcpKind,
        yiaddr: Ipv4Addr,
        server: Ipv4Addr,
    ) -> Self {
        DhcpMessage {
            op: 2,
            kind,
            yiaddr,
            secs: 0,
            options: Vec::new(),
            ..request.clone()
        }
        .option(OPT_SERVER_ID, server.octets())
    }

    /// Any option, written as given (code 0 and 255 are framing and should not be used).
    pub fn option(mut self, code: u8, data: impl Into<Vec<u8>>) -> Self {
        self.options.push((code, data.into()));
        self
    }

    pub fn hostname(self, name: &str) -> Self {
        self.option(OPT_HOSTNAME, name.as_bytes())
    }

    pub fn vendor_class(self, class: &str) -> Self {
        self.option(OPT_VENDOR_CLASS, class.as_bytes())
    }

    /// Option 81 in canonical wire form (flags S|E: "server, update the A record; name is
    /// DNS-encoded"), as ISC dhclient and systemd-networkd send it.
    pub fn client_fqdn(self, name: &str) -> io::Result<Self> {
        let mut data = vec![0x05, 0, 0];
        data.extend_from_slice(&wire_name(name)?);
        Ok(self.option(OPT_CLIENT_FQDN, data))
    }

    /// Option 81 in the deprecated ASCII form (flags 0), as Windows sends it.
    pub fn client_fqdn_ascii(self, name: &str) -> Self {
        let mut data = vec![0, 0, 0];
        data.extend_from_slice(name.as_bytes());
        self.option(OPT_CLIENT_FQDN, data)
    }

    pub fn requested_ip(self, addr: Ipv4Addr) -> Self {
        self.option(OPT_REQUESTED_IP, addr.octets())
    }

    pub fn server_id(self, addr: Ipv4Addr) -> Self {
        self.option(OPT_SERVER_ID, addr.octets())
    }

    /// Option 61 as type 1 (Ethernet) followed by `chaddr`.
    pub fn client_id(self) -> Self {
        let mut data = vec![1];
        data.extend_from_slice(&self.chaddr);
        self.option(OPT_CLIENT_ID, data)
    }

    pub fn parameter_request_list(self, codes: &[u8]) -> Self {
        self.option(OPT_PARAMETER_REQUEST_LIST, codes)
    }

    /// The options of a home router's OFFER/ACK: mask, router, DNS server, lease time.
    pub fn lease(self, server: &DhcpServer) -> Self {
        self.option(OPT_LEASE_TIME, server.lease_secs.to_be_bytes())
            .option(OPT_SUBNET_MASK, server.subnet_mask.octets())
            .option(OPT_ROUTER, server.ip.octets())
            .option(OPT_DNS_SERVERS, server.ip.octets())
    }

    /// The BOOTP message with options, padded to 300 bytes as clients send it.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(MIN_MESSAGE_LEN);
        out.extend_from_slice(&[self.op, 1, 6, 0]); // htype Ethernet, hlen 6, hops 0
        out.extend_from_slice(&self.xid.to_be_bytes());
        out.extend_from_slice(&self.secs.to_be_bytes());
        out.extend_from_slice(&(if self.broadcast { 0x8000u16 } else { 0 }).to_be_bytes());
        for addr in [self.ciaddr, self.yiaddr, self.siaddr, self.giaddr] {
            out.extend_from_slice(&addr.octets());
        }
        out.extend_from_slice(&self.chaddr);
        out.resize(out.len() + 10 + 64 + 128, 0); // chaddr padding, sname, file
        out.extend_from_slice(&MAGIC_COOKIE);
        out.extend_from_slice(&[OPT_MESSAGE_TYPE, 1, self.kind as u8]);
        for (code, data) in &self.options {
            let len =
                u8::try_from(data.len()).map_err(|_| invalid("DHCP option over 255 bytes"))?;
            out.push(*code);
            out.push(len);
            out.extend_from_slice(data);
        }
        out.push(OPT_END);
        if out.len() < MIN_MESSAGE_LEN {
            out.resize(MIN_MESSAGE_LEN, 0);
        }
        Ok(out)
    }
}

/// The DHCP server (a home router: also gateway and DNS resolver).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpServer {
    pub mac: [u8; 6],
    pub ip: Ipv4Addr,
    pub subnet_mask: Ipv4Addr,
    pub lease_secs: u32,
}

/// A full DISCOVER → OFFER → REQUEST → ACK exchange starting at `start_nanos`, 2 ms apart.
/// `discover` carries the client's identity options (12, 60, 61, 81, 55, ...); the REQUEST
/// repeats them after options 50 and 54. Client frames are broadcast from 0.0.0.0; server
/// frames are broadcast when the client set the broadcast flag, unicast to the offered
/// address otherwise.
pub fn dora(
    discover: &DhcpMessage,
    server: &DhcpServer,
    offered: Ipv4Addr,
    start_nanos: u64,
) -> io::Result<Vec<Packet>> {
    let offer = DhcpMessage::reply(discover, DhcpKind::Offer, offered, server.ip).lease(server);
    let mut request = DhcpMessage {
        kind: DhcpKind::Request,
        options: Vec::new(),
        ..discover.clone()
    }
    .requested_ip(offered)
    .server_id(server.ip);
    request.options.extend(discover.options.iter().cloned());
    let ack = DhcpMessage::reply(&request, DhcpKind::Ack, offered, server.ip).lease(server);

    let client = Endpoint::new(discover.chaddr, Ipv4Addr::UNSPECIFIED, 68);
    let everyone = Endpoint::new(BROADCAST_MAC, Ipv4Addr::BROADCAST, 67);
    let from_server = Endpoint::new(server.mac, server.ip, 67);
    let to_client = if discover.broadcast {
        Endpoint::new(BROADCAST_MAC, Ipv4Addr::BROADCAST, 68)
    } else {
        Endpoint::new(discover.chaddr, offered, 68)
    };
    let mut rng = XorShift64::new(u64::from(discover.xid));
    let mut packets = Vec::with_capacity(4);
    let exchange = [
        (&client, &everyone, &request_as(discover)),
        (&from_server, &to_client, &offer),
        (&client, &everyone, &request),
        (&from_server, &to_client, &ack),
    ];
    for (i, (src, dst, message)) in exchange.into_iter().enumerate() {
        let ident = IpIdent {
            id: rng.next_u16(),
            ..IpIdent::default()
        };
        let data = udp_frame(src, dst, L2Options::default(), ident, &message.to_bytes()?)?;
        let offset = 2_000_000u64.saturating_mul(i as u64);
        packets.push(Packet {
            ts_nanos: start_nanos.saturating_add(offset),
            interface: 0,
            data,
        });
    }
    Ok(packets)
}

/// The DISCOVER as sent (its type forced to Discover, whatever the template said).
fn request_as(discover: &DhcpMessage) -> DhcpMessage {
    DhcpMessage {
        kind: DhcpKind::Discover,
        ..discover.clone()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01];

    fn option(message: &[u8], code: u8) -> Option<&[u8]> {
        let mut rest = message.get(240..)?;
        loop {
            match rest {
                [0, tail @ ..] => rest = tail,
                [255, ..] | [] => return None,
                [c, len, tail @ ..] => {
                    let value = tail.get(..usize::from(*len))?;
                    if *c == code {
                        return Some(value);
                    }
                    rest = tail.get(usize::from(*len)..)?;
                }
                [_] => return None,
            }
        }
    }

    #[test]
    fn discover_layout_and_options() {
        let bytes = DhcpMessage::client(DhcpKind::Discover, 0xdeadbeef, MAC)
            .client_id()
            .hostname("reception-pc")
            .vendor_class("MSFT 5.0")
            .client_fqdn_ascii("reception-pc")
            .requested_ip(Ipv4Addr::new(192, 168, 1, 21))
            .to_bytes()
            .unwrap();
        assert_eq!(bytes.len(), 300);
        assert_eq!(&bytes[..8], &[1, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef]);
        assert_eq!(&bytes[28..34], &MAC);
        assert_eq!(&bytes[236..240], &MAGIC_COOKIE);
        assert_eq!(&bytes[240..243], &[53, 1, 1]);
        assert_eq!(option(&bytes, 12), Some(&b"reception-pc"[..]));
        assert_eq!(option(&bytes, 60), Some(&b"MSFT 5.0"[..]));
        assert_eq!(option(&bytes, 81), Some(&b"\0\0\0reception-pc"[..]));
        assert_eq!(option(&bytes, 50), Some(&[192, 168, 1, 21][..]));
        assert_eq!(
            option(&bytes, 61),
            Some(&[1, 0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01][..])
        );
    }

    #[test]
    fn fqdn_wire_form() {
        let bytes = DhcpMessage::client(DhcpKind::Request, 1, MAC)
            .client_fqdn("design-mac.lan")
            .unwrap()
            .to_bytes()
            .unwrap();
        assert_eq!(
            option(&bytes, 81),
            Some(&b"\x05\0\0\x0adesign-mac\x03lan\0"[..])
        );
    }

    #[test]
    fn long_option_is_refused() {
        let message = DhcpMessage::client(DhcpKind::Discover, 1, MAC).hostname(&"x".repeat(256));
        assert!(message.to_bytes().is_err());
    }

    #[test]
    fn dora_exchange() {
        let server = DhcpServer {
            mac: [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01],
            ip: Ipv4Addr::new(192, 168, 1, 1),
            subnet_mask: Ipv4Addr::new(255, 255, 255, 0),
            lease_secs: 86_400,
        };
        let discover = DhcpMessage::client(DhcpKind::Discover, 42, MAC).hostname("reception-pc");
        let offered = Ipv4Addr::new(192, 168, 1, 21);
        let packets = dora(&discover, &server, offered, 1_000).unwrap();
        assert_eq!(packets.len(), 4);
        let kinds: Vec<u8> = packets
            .iter()
            .map(|p| option(&p.data[42..], 53).unwrap()[0])
            .collect();
        assert_eq!(kinds, [1, 2, 3, 5]);
        let offer = &packets[1].data;
        assert_eq!(&offer[..6], &MAC, "unicast to the client");
        assert_eq!(&offer[30..34], &offered.octets(), "IP destination");
        let bootp = &offer[42..];
        assert_eq!(bootp[0], 2);
        assert_eq!(&bootp[16..20], &offered.octets(), "yiaddr");
        assert_eq!(option(bootp, 54), Some(&[192, 168, 1, 1][..]));
        assert_eq!(option(bootp, 51), Some(&86_400u32.to_be_bytes()[..]));
        let request = &packets[2].data[42..];
        assert_eq!(option(request, 50), Some(&offered.octets()[..]));
        assert_eq!(option(request, 12), Some(&b"reception-pc"[..]));
        assert_eq!(&packets[2].data[..6], &BROADCAST_MAC);
        assert_eq!(packets[3].ts_nanos, 6_001_000);
    }
}
