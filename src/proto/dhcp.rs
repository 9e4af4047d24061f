//! DHCPv4 (RFC 2131/2132) and its BOOTP frame (RFC 951), read in place from one UDP payload:
//! the fixed header (op, chaddr, ciaddr/yiaddr, ...), the magic cookie and the options, with
//! option 52 (overload) continuing the options in `sname` and `file`. Accessors cover what names
//! a device: message type (53), requested address (50), host name (12), client FQDN (81, RFC
//! 4702), vendor class (60) and the parameter request list (55, a fingerprint).
//!
//! Values are rendered the way tshark 4.0 shows them, so `shadowai inspect` can be diffed against
//! the corpus ground truth: strings are decoded like Wireshark's `ENC_ASCII` (cut at the first
//! NUL, every byte >= 0x80 becomes U+FFFD), wire-format FQDNs like its `get_dns_name()` +
//! `format_text()`, and where tshark's dissector throws (an option running past the datagram, a
//! broken FQDN label) the options after it are not read either. Without the magic cookie tshark
//! still reads options after the 64-byte BOOTP vendor area (offset 300); so does this module.
//!
//! It refuses to: guess ports (the caller hands it UDP 67/68 payloads), decode option values
//! beyond the ones above (the rest stay raw bytes), reassemble RFC 3396 long options, or panic.

use std::net::Ipv4Addr;

use super::{ProtoError, ProtoResult};

pub(crate) mod text;

pub use text::write_fields_text;
use text::{expand_dns_name, name_step_budget, tshark_ascii};

pub const SERVER_PORT: u16 = 67;
pub const CLIENT_PORT: u16 = 68;

/// Length of the BOOTP header up to the vendor area (op .. file).
pub const BOOTP_HEADER_LEN: usize = 236;
/// RFC 2132 magic cookie that opens the options.
pub const MAGIC_COOKIE: [u8; 4] = [0x63, 0x82, 0x53, 0x63];
const SNAME_RANGE: (usize, usize) = (44, 108);
const FILE_RANGE: (usize, usize) = (108, 236);
/// Where tshark reads options when the cookie is missing: after RFC 951's 64-byte vendor area.
const NO_COOKIE_OPTIONS_OFFSET: usize = BOOTP_HEADER_LEN + 64;

/// Option codes this module decodes.
pub mod code {
    pub const PAD: u8 = 0;
    pub const HOST_NAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const NETWARE_IP: u8 = 63;
    pub const CLIENT_FQDN: u8 = 81;
    pub const END: u8 = 255;
}

/// DHCP message types (option 53).
pub mod message_type {
    pub const DISCOVER: u8 = 1;
    pub const OFFER: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const DECLINE: u8 = 4;
    pub const ACK: u8 = 5;
    pub const NAK: u8 = 6;
    pub const RELEASE: u8 = 7;
    pub const INFORM: u8 = 8;
}

fn u16_at(bytes: &[u8], offset: usize) -> ProtoResult<u16> {
    match bytes.get(offset..offset.saturating_add(2)) {
        Some(&[a, b]) => Ok(u16::from_be_bytes([a, b])),
        _ => Err(ProtoError::Incomplete),
    }
}

fn u32_at(bytes: &[u8], offset: usize) -> ProtoResult<u32> {
    match bytes.get(offset..offset.saturating_add(4)) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(ProtoError::Incomplete),
    }
}

/// One BOOTP/DHCP message: the checked fixed header over the whole payload, plus what tshark's
/// first pass over the options learns (message type, overload).
#[derive(Debug, Clone, Copy)]
pub struct Dhcp<'a> {
    bytes: &'a [u8],
    options_start: usize,
    message_type: Option<u8>,
    overload: u8,
}

/// Checks the 236-byte BOOTP header and makes tshark's first pass over the options. A payload
/// is always a whole datagram, so `Incomplete` means it was cut short.
pub fn parse(udp_payload: &[u8]) -> ProtoResult<Dhcp<'_>> {
    if udp_payload.len() < BOOTP_HEADER_LEN {
        return Err(ProtoError::Incomplete);
    }
    let has_cookie = udp_payload.get(BOOTP_HEADER_LEN..BOOTP_HEADER_LEN + 4) == Some(&MAGIC_COOKIE);
    let options_start = if has_cookie {
        BOOTP_HEADER_LEN + 4
    } else {
        NO_COOKIE_OPTIONS_OFFSET
    };
    let (message_type, overload) = first_pass(udp_payload, options_start)?;
    Ok(Dhcp {
        bytes: udp_payload,
        options_start,
        message_type,
        overload,
    })
}

/// tshark's first pass: the last complete options 53 and 52 of the main area win. A zero-length
/// 52 or 53 makes it read the next byte as the value, and throw (dropping the whole message)
/// when there is none.
fn first_pass(bytes: &[u8], start: usize) -> ProtoResult<(Option<u8>, u8)> {
    let (mut message_type, mut overload) = (None, 0u8);
    let mut offset = start;
    while let Some(&option_code) = bytes.get(offset) {
        match option_code {
            code::PAD => offset = skip_padding(bytes, offset, bytes.len()),
            code::END => break,
            _ => {
                let Some(&len) = bytes.get(offset + 1) else {
                    break;
                };
                let data_start = offset + 2;
                let data_end = data_start + usize::from(len);
                if data_end <= bytes.len() {
                    let value = || bytes.get(data_start).copied().ok_or(ProtoError::Incomplete);
                    match option_code {
                        code::OVERLOAD => overload = value()?,
                        code::MESSAGE_TYPE => message_type = Some(value()?),
                        _ => {}
                    }
                }
                offset = data_end;
            }
        }
    }
    Ok((message_type, overload))
}

/// Offset after a run of pad bytes starting at `offset` (tshark folds a run into one item).
fn skip_padding(bytes: &[u8], offset: usize, end: usize) -> usize {
    let mut next = offset + 1;
    while next < end && bytes.get(next) == Some(&0) {
        next += 1;
    }
    next
}

impl<'a> Dhcp<'a> {
    /// The whole payload.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub fn op(&self) -> u8 {
        self.byte(0)
    }
    pub fn is_request(&self) -> bool {
        self.op() == 1
    }
    /// ARP hardware type of chaddr (1 = Ethernet).
    pub fn htype(&self) -> u8 {
        self.byte(1)
    }
    pub fn hlen(&self) -> u8 {
        self.byte(2)
    }
    pub fn hops(&self) -> u8 {
        self.byte(3)
    }
    pub fn xid(&self) -> u32 {
        u32_at(self.bytes, 4).unwrap_or_default()
    }
    pub fn secs(&self) -> u16 {
        u16_at(self.bytes, 8).unwrap_or_default()
    }
    pub fn flags(&self) -> u16 {
        u16_at(self.bytes, 10).unwrap_or_default()
    }
    /// Client's current address (renewing clients), `0.0.0.0` otherwise.
    pub fn ciaddr(&self) -> Ipv4Addr {
        self.ipv4(12)
    }
    /// Address the server assigns ("your" address), in offers and acks.
    pub fn yiaddr(&self) -> Ipv4Addr {
        self.ipv4(16)
    }
    pub fn siaddr(&self) -> Ipv4Addr {
        self.ipv4(20)
    }
    /// Relay agent address.
    pub fn giaddr(&self) -> Ipv4Addr {
        self.ipv4(24)
    }
    /// The used part of chaddr: `hlen` bytes, at most the 16 the field holds.
    pub fn chaddr(&self) -> &'a [u8] {
        let len = usize::from(self.hlen()).min(16);
        self.bytes.get(28..28 + len).unwrap_or_default()
    }
    /// The client's MAC when chaddr is an Ethernet/IEEE 802 address (htype 1 or 6, hlen 6).
    pub fn client_mac(&self) -> Option<[u8; 6]> {
        if !matches!(self.htype(), 1 | 6) || self.hlen() != 6 {
            return None;
        }
        self.chaddr().try_into().ok()
    }
    /// Whether the RFC 2132 magic cookie follows the BOOTP header.
    pub fn has_magic_cookie(&self) -> bool {
        self.options_start == BOOTP_HEADER_LEN + 4
    }
    /// Option 53 as tshark's first pass saw it (the last complete one of the main area); `None`
    /// makes this plain BOOTP.
    pub fn message_type(&self) -> Option<u8> {
        self.message_type
    }
    /// Option 52's value from the first pass: bit 0 = `file`, bit 1 = `sname` hold options.
    pub fn overload(&self) -> u8 {
        self.overload
    }

    /// The options in tshark's order: the main area, with the `sname` and then the `file`
    /// options spliced in where the first option 52 stands. Pad and end are not yielded. An
    /// option cut short ends the iteration with `Incomplete`.
    pub fn options(&self) -> Options<'a> {
        Options {
            bytes: self.bytes,
            area: Area::Options,
            offset: self.options_start,
            end: self.bytes.len(),
            main_resume: None,
            queued: [None, None],
            overload_pending: self.overload,
            done: false,
        }
    }

    /// The data of the first option `option_code`, if it comes before any malformed option.
    pub fn option(&self, option_code: u8) -> Option<&'a [u8]> {
        self.options()
            .map_while(Result::ok)
            .find(|option| option.code == option_code)
            .map(|option| option.data)
    }
    /// Option 50.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        let data: [u8; 4] = self.option(code::REQUESTED_IP)?.try_into().ok()?;
        Some(Ipv4Addr::from(data))
    }
    /// Option 12, raw (see `tshark_ascii` for tshark's text).
    pub fn hostname(&self) -> Option<&'a [u8]> {
        self.option(code::HOST_NAME)
    }
    /// Option 60, raw.
    pub fn vendor_class(&self) -> Option<&'a [u8]> {
        self.option(code::VENDOR_CLASS)
    }
    /// Option 55: the requested option codes, in the client's order.
    pub fn parameter_request_list(&self) -> Option<&'a [u8]> {
        self.option(code::PARAMETER_REQUEST_LIST)
    }
    /// Option 61, raw (type byte, then usually a MAC or a DUID).
    pub fn client_id(&self) -> Option<&'a [u8]> {
        self.option(code::CLIENT_ID)
    }
    /// Option 81, when it has its three fixed bytes.
    pub fn client_fqdn(&self) -> Option<ClientFqdn<'a>> {
        ClientFqdn::parse(self.option(code::CLIENT_FQDN)?)
    }

    fn byte(&self, offset: usize) -> u8 {
        self.bytes.get(offset).copied().unwrap_or_default()
    }
    fn ipv4(&self, offset: usize) -> Ipv4Addr {
        Ipv4Addr::from(u32_at(self.bytes, offset).unwrap_or_default())
    }
}

/// Where an option was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Area {
    /// After the cookie (or offset 300 without one).
    Options,
    /// The 64-byte `sname` field, overloaded (option 52 bit 1).
    Sname,
    /// The 128-byte `file` field, overloaded (option 52 bit 0).
    File,
}

/// One option: code and value bytes (the length byte is `data.len()`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    pub code: u8,
    pub data: &'a [u8],
    pub area: Area,
}

/// Iterator over the options (see `Dhcp::options`).
#[derive(Debug, Clone)]
pub struct Options<'a> {
    bytes: &'a [u8],
    area: Area,
    offset: usize,
    end: usize,
    /// Where the main area goes on after the overloaded fields.
    main_resume: Option<usize>,
    queued: [Option<Area>; 2],
    /// tshark splices the overloaded fields in at the first option 52 only while the first
    /// pass found a 52 with value 1..=3; it clears this once they have been read.
    overload_pending: u8,
    done: bool,
}

impl<'a> Options<'a> {
    /// Moves to the next queued overloaded field, or back to the main area; false at the end.
    fn next_area(&mut self) -> bool {
        for slot in 0..self.queued.len() {
            if let Some(area) = self.queued.get_mut(slot).and_then(Option::take) {
                let (start, end) = match area {
                    Area::Sname => SNAME_RANGE,
                    _ => FILE_RANGE,
                };
                self.area = area;
                self.offset = start;
                self.end = end;
                return true;
            }
        }
        match self.main_resume.take() {
            Some(offset) => {
                self.area = Area::Options;
                self.offset = offset;
                self.end = self.bytes.len();
                true
            }
            None => false,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = ProtoResult<DhcpOption<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if self.offset >= self.end {
                if !self.next_area() {
                    self.done = true;
                }
                continue;
            }
            let option_code = *self.bytes.get(self.offset)?;
            match option_code {
                code::PAD => {
                    self.offset = skip_padding(self.bytes, self.offset, self.end);
                    continue;
                }
                code::END => {
                    // Ends this area only: the main area goes on after the overloaded fields.
                    self.offset = self.end;
                    continue;
                }
                _ => {}
            }
            // An option of an overloaded field may run past the field: tshark reads on into
            // the rest of the datagram, and throws only past its end.
            let data_start = self.offset + 2;
            let data = self
                .bytes
                .get(self.offset + 1)
                .and_then(|&len| self.bytes.get(data_start..data_start + usize::from(len)));
            let Some(data) = data else {
                self.done = true;
                return Some(Err(ProtoError::Incomplete));
            };
            self.offset = data_start + data.len();
            if option_code == code::OVERLOAD
                && self.area == Area::Options
                && (1..=3).contains(&self.overload_pending)
            {
                // A zero-length 52 leaves the state alone (tshark returns before resetting it).
                if let Some(&value) = data.first() {
                    self.queued = [
                        (value & 2 != 0).then_some(Area::Sname),
                        (value & 1 != 0).then_some(Area::File),
                    ];
                    self.overload_pending = 0;
                    self.main_resume = Some(self.offset);
                    self.end = self.offset;
                }
            }
            return Some(Ok(DhcpOption {
                code: option_code,
                data,
                area: self.area,
            }));
        }
        None
    }
}

/// Option 81 (RFC 4702): flags, two obsolete RCODE bytes and the name, in DNS wire format when
/// the E flag is set, ASCII otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    pub flags: u8,
    pub rcode1: u8,
    pub rcode2: u8,
    /// The name bytes as sent (may be empty: the client asks the server for a name).
    pub name: &'a [u8],
}

impl<'a> ClientFqdn<'a> {
    /// S: the server should update the A record.
    pub const FLAG_S: u8 = 0x01;
    /// O: the server overrode the client's S.
    pub const FLAG_O: u8 = 0x02;
    /// E: the name is in DNS wire format.
    pub const FLAG_E: u8 = 0x04;
    /// N: no server updates.
    pub const FLAG_N: u8 = 0x08;

    /// Splits option 81's value; `None` when shorter than its 3 fixed bytes (tshark then shows
    /// no name either).
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        match data {
            [flags, rcode1, rcode2, name @ ..] => Some(ClientFqdn {
                flags: *flags,
                rcode1: *rcode1,
                rcode2: *rcode2,
                name,
            }),
            _ => None,
        }
    }
    pub fn is_wire_format(&self) -> bool {
        self.flags & Self::FLAG_E != 0
    }
    /// Appends tshark's `dhcp.fqdn.name` value (without the `-T fields` escaping). A wire-format
    /// name that tshark throws on is an error, and tshark reads no option after it.
    pub fn write_value(&self, out: &mut String) -> ProtoResult<()> {
        // tshark shows no name at all for an empty one (option length 3).
        if self.name.is_empty() {
            return Ok(());
        }
        if !self.is_wire_format() {
            out.push_str(&tshark_ascii(self.name));
            return Ok(());
        }
        // tshark reads the name from the option's own buffer (flags included), with pointers
        // counted from the name's first byte and no byte read past the option.
        let mut budget = name_step_budget(self.name.len());
        let name = expand_dns_name(self.name, 0, self.name.len(), 0, &mut budget)?;
        match name.placeholder {
            Some(text) => out.push_str(text),
            None => text::write_format_text(name.counted(), out),
        }
        Ok(())
    }
}

/// A name signal of one message, as the ground truth lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Option 12.
    Hostname,
    /// Option 81's name.
    Fqdn,
    /// Option 60.
    VendorClass,
}

impl Signal {
    /// The ground truth's `kind` column.
    pub fn kind(self) -> &'static str {
        match self {
            Signal::Hostname => "dhcp_hostname",
            Signal::Fqdn => "dhcp_fqdn",
            Signal::VendorClass => "dhcp_vendor_class",
        }
    }
}

/// Calls `emit` for each host name, FQDN and vendor class in option order, with the text tshark
/// prints (`-T fields`, see `write_fields_text`). Empty values are skipped (the ground truth has
/// no row for them). On a malformed option the signals before it are emitted and the fault is
/// returned, as tshark stops there too (for the options read here and option 63; a throw in
/// tshark's dissector of another option, say a broken 43 or 125, is not reproduced).
pub fn for_each_signal(msg: &Dhcp<'_>, mut emit: impl FnMut(Signal, &str)) -> ProtoResult<()> {
    let mut value = String::new();
    let mut text = String::new();
    for option in msg.options() {
        let option = option?;
        value.clear();
        let signal = match option.code {
            code::HOST_NAME => {
                value.push_str(&tshark_ascii(option.data));
                Signal::Hostname
            }
            code::VENDOR_CLASS => {
                value.push_str(&tshark_ascii(option.data));
                Signal::VendorClass
            }
            code::NETWARE_IP => {
                // tshark walks these sub-options and throws on one running past the option,
                // reading no later option: a bit flip of 61 or 81 gets here.
                check_netware_ip(option.data)?;
                continue;
            }
            code::CLIENT_FQDN => match ClientFqdn::parse(option.data) {
                Some(fqdn) => {
                    fqdn.write_value(&mut value)?;
                    Signal::Fqdn
                }
                None => continue,
            },
            _ => continue,
        };
        if value.is_empty() {
            continue;
        }
        text.clear();
        write_fields_text(&value, &mut text);
        emit(signal, &text);
    }
    Ok(())
}

/// Option 63 (NetWare/IP) sub-options as tshark walks them: a code without a length byte ends
/// the walk, a value past the option is a throw.
fn check_netware_ip(data: &[u8]) -> ProtoResult<()> {
    let mut offset = 0;
    while offset < data.len() {
        let Some(&len) = data.get(offset + 1) else {
            return Ok(());
        };
        offset += 2 + usize::from(len);
        if offset > data.len() {
            return Err(ProtoError::Invalid(
                "DHCP NetWare/IP sub-option past its option",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn signals(payload: &[u8]) -> (Vec<(&'static str, String)>, ProtoResult<()>) {
        let mut out = Vec::new();
        let result = match parse(payload) {
            Ok(msg) => for_each_signal(&msg, |signal, value| {
                out.push((signal.kind(), value.to_string()))
            }),
            Err(error) => Err(error),
        };
        (out, result)
    }

    /// A BOOTREQUEST from 02:00:00:00:00:01 with the cookie and the given option bytes.
    fn request(options: &str) -> Vec<u8> {
        let mut msg = hex("01 01 06 00 12345678 0000 0000");
        msg.extend([0u8; 16]);
        msg.extend(hex("020000000001"));
        msg.extend([0u8; 10 + 64 + 128]);
        msg.extend(MAGIC_COOKIE);
        msg.extend(hex(options));
        msg
    }

    /// Frame 5 of compbench/2009-M57-day11-18-10k.pcap: a Windows XP DHCPREQUEST.
    const M57_REQUEST: &str = "\
        0101060055e11f8000000000c0a80166000000000000000000000000000bdb6358a600000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        00000000000000000000000000000000638253633501033d0701000bdb6358a60c066d35372d6a6f510a0000\
        006d35372d6a6f2e3c084d53465420352e30370b010f03062c2e2f1f21f92b2b03dc0100ff";

    /// Frame 4 of suricata-verify/dhcp-option-52-overload_input.pcap: an OFFER whose option 52
    /// puts DNS server, router and domain name into `sname`.
    const SURICATA_OVERLOAD_ACK: &str = "\
        0201060024593b3e00000000000000000a6400320a6400020000000092dda48d5fde00000000000000000000\
        06040a64000203040a6400020f096576696c2e636f7270ff0000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        000000000000000000000000000000006382536335010236040a64000233040000012c0104ffffff00340102\
        ff";

    /// Frame 2 of zeek/dhcp_bad_cookie_option_retention.pcap: option bytes where the cookie
    /// belongs, which tshark does not read as options.
    const ZEEK_NO_COOKIE: &str = "\
        0101060000002000000080000000000000000000000000000000000000112233445500000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        0000000000000000000000000000000000000000000000000000000000000000000000000000000000000000\
        000000000000000000000000000000000000000000000000350101ff";

    #[test]
    fn m57_request() {
        let payload = hex(M57_REQUEST);
        let msg = parse(&payload).unwrap();
        assert!(msg.is_request());
        assert!(msg.has_magic_cookie());
        assert_eq!(msg.message_type(), Some(message_type::REQUEST));
        assert_eq!(msg.client_mac(), Some([0x00, 0x0b, 0xdb, 0x63, 0x58, 0xa6]));
        assert_eq!(msg.ciaddr(), Ipv4Addr::new(192, 168, 1, 102));
        assert_eq!(msg.requested_ip(), None);
        assert_eq!(
            msg.client_id(),
            Some(&[1, 0x00, 0x0b, 0xdb, 0x63, 0x58, 0xa6][..])
        );
        assert_eq!(msg.vendor_class(), Some(&b"MSFT 5.0"[..]));
        assert_eq!(
            msg.parameter_request_list(),
            Some(&[1, 15, 3, 6, 44, 46, 47, 31, 33, 249, 43][..])
        );
        let fqdn = msg.client_fqdn().unwrap();
        assert!(!fqdn.is_wire_format());
        assert_eq!((fqdn.flags, fqdn.rcode1, fqdn.rcode2), (0, 0, 0));
        let (found, result) = signals(&payload);
        assert_eq!(result, Ok(()));
        assert_eq!(
            found,
            [
                ("dhcp_hostname", "m57-jo".to_string()),
                ("dhcp_fqdn", "m57-jo.".to_string()),
                ("dhcp_vendor_class", "MSFT 5.0".to_string()),
            ]
        );
    }

    #[test]
    fn suricata_overload_into_sname() {
        let payload = hex(SURICATA_OVERLOAD_ACK);
        let msg = parse(&payload).unwrap();
        assert_eq!(msg.message_type(), Some(message_type::OFFER));
        assert_eq!(msg.overload(), 2);
        assert_eq!(msg.yiaddr(), Ipv4Addr::new(10, 100, 0, 50));
        let options: Vec<(u8, Area)> = msg
            .options()
            .map(|o| o.map(|o| (o.code, o.area)).unwrap())
            .collect();
        assert_eq!(
            options,
            [
                (53, Area::Options),
                (54, Area::Options),
                (51, Area::Options),
                (1, Area::Options),
                (52, Area::Options),
                (6, Area::Sname),
                (3, Area::Sname),
                (15, Area::Sname),
            ]
        );
        assert_eq!(msg.option(15), Some(&b"evil.corp"[..]));
    }

    #[test]
    fn zeek_missing_cookie() {
        let payload = hex(ZEEK_NO_COOKIE);
        let msg = parse(&payload).unwrap();
        assert!(!msg.has_magic_cookie());
        assert_eq!(msg.message_type(), None);
        assert_eq!(msg.options().count(), 0);
        assert_eq!(msg.client_mac(), Some([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
    }

    #[test]
    fn strings_like_tshark() {
        // NUL ends the string, bytes >= 0x80 are U+FFFD each, tab is escaped, 0x01 is kept.
        let (found, _) = signals(&request("0c0461620063 3c04c3a96180 0c0461096201 ff"));
        assert_eq!(
            found,
            [
                ("dhcp_hostname", "ab".to_string()),
                ("dhcp_vendor_class", "\u{FFFD}\u{FFFD}a\u{FFFD}".to_string()),
                ("dhcp_hostname", "a\\tb\u{1}".to_string()),
            ]
        );
    }

    #[test]
    fn wire_format_fqdn_like_tshark() {
        // Values checked with tshark 4.0.17 (see the module notes).
        let cases: &[(&str, &str)] = &[
            ("0400000361626303646566", "abc.def"),
            ("040000036162630364656600", "abc.def"),
            ("04000003612e620364656600", "a.b.def"),
            ("0400000361096200", "a\\tb"),
            ("04000003610962c000", "<Name contains a pointer that loops>"),
            ("04000003616263c003", "<Unknown extended label>"),
            ("04000000", "<Root>"),
            ("040000037e7f800000", "~\\177\u{FFFD}"),
            ("04000001200120012000", " . . "),
        ];
        for (fqdn, expected) in cases {
            let (found, result) = signals(&request(&format!("51{:02x}{fqdn}ff", fqdn.len() / 2)));
            assert_eq!(result, Ok(()), "{fqdn}");
            assert_eq!(found, [("dhcp_fqdn", expected.to_string())], "{fqdn}");
        }
        // An empty wire-format name (option length 3) shows nothing and stops nothing.
        let (found, result) = signals(&request("5103040000 3c026364 ff"));
        assert_eq!(result, Ok(()));
        assert_eq!(found, [("dhcp_vendor_class", "cd".to_string())]);
        // tshark throws on these and reads no further option.
        for fqdn in [
            "0400000561",
            "04000003616263c0",
            "04000040",
            "040000c0",
            "0400000161c00300",
        ] {
            let (found, result) = signals(&request(&format!(
                "51{:02x}{fqdn} 0c026162 ff",
                fqdn.len() / 2
            )));
            assert!(result.is_err(), "{fqdn}");
            assert!(found.is_empty(), "{fqdn}");
        }
    }

    #[test]
    fn overload_reads_sname_then_file() {
        let mut msg = request("3501 01 3401 03 0c026d61 ff");
        // sname holds the vendor class, file a host name.
        msg[44..44 + 6].copy_from_slice(&hex("3c0278 79 ff 00"));
        msg[108..108 + 5].copy_from_slice(&hex("0c02 6669 ff"));
        let (found, result) = signals(&msg);
        assert_eq!(result, Ok(()));
        assert_eq!(
            found,
            [
                ("dhcp_vendor_class", "xy".to_string()),
                ("dhcp_hostname", "fi".to_string()),
                ("dhcp_hostname", "ma".to_string()),
            ]
        );
        let areas: Vec<Area> = parse(&msg)
            .unwrap()
            .options()
            .map(|o| o.unwrap().area)
            .collect();
        assert_eq!(
            areas,
            [
                Area::Options,
                Area::Options,
                Area::Sname,
                Area::File,
                Area::Options
            ]
        );
    }

    #[test]
    fn truncated_option_stops_after_earlier_ones() {
        let (found, result) = signals(&request("0c026162 3c"));
        assert_eq!(found, [("dhcp_hostname", "ab".to_string())]);
        assert_eq!(result, Err(ProtoError::Incomplete));
        // A NetWare/IP sub-option running past option 63 makes tshark stop reading options.
        let (found, result) = signals(&request("0c026162 3f03 0105aa 3c026364 ff"));
        assert_eq!(found, [("dhcp_hostname", "ab".to_string())]);
        assert!(result.is_err());
        // A zero-length 53 at the very end makes tshark's first pass throw: nothing at all.
        assert!(parse(&request("0c026162 3500")).is_err());
    }

    #[test]
    fn no_cookie_reads_options_after_the_vendor_area() {
        let mut msg = request("");
        msg.truncate(BOOTP_HEADER_LEN);
        msg.extend([0u8; 64]);
        msg.extend(hex("0c026869ff"));
        let parsed = parse(&msg).unwrap();
        assert!(!parsed.has_magic_cookie());
        assert_eq!(parsed.hostname(), Some(&b"hi"[..]));
    }

    #[test]
    fn every_prefix_and_mutation_is_safe() {
        let mut inputs = vec![hex(M57_REQUEST), hex(SURICATA_OVERLOAD_ACK)];
        let mut overloaded = request("3501013401030c026d61 5104 04000000 ff");
        overloaded[44..50].copy_from_slice(&hex("510504000001"));
        inputs.push(overloaded);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for input in inputs {
            for len in 0..=input.len() {
                let _ = signals(&input[..len]);
            }
            crate::testkit::mutations(&input, 3000, 4, &mut seed, |mutated| {
                let _ = signals(mutated);
                if let Ok(msg) = parse(mutated) {
                    let _ = (msg.client_fqdn(), msg.requested_ip(), msg.client_mac());
                }
            });
        }
    }
}
