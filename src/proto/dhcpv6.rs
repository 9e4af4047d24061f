//! DHCPv6 (RFC 8415) messages from one UDP payload (ports 546/547), relay-forward and
//! relay-reply wrappers included (the relayed message is read from option 9, recursively): the
//! options that tie a device to names and addresses, namely the client DUID (option 1; link-layer
//! DUIDs carry a MAC), IA_NA with its addresses (options 3 and 5) and the client FQDN (option 39,
//! RFC 4704).
//!
//! FQDN names are reported the way tshark 4.0 does, so they can be diffed against the corpus
//! ground truth: one value per root-terminated name with its trailing dot, a single unterminated
//! ("partial") name without one, nothing for a lone top-level label or the root, and Wireshark's
//! quirks kept (a multi-label partial name repeats its first label's bytes; the option is only
//! read in Solicit, Advertise, Request, Renew, Rebind and Reply).
//!
//! It refuses to: guess ports, decode options other than those above (they stay raw bytes),
//! follow relay or sub-option nesting deeper than 32 levels, or panic.

use std::net::Ipv6Addr;

use super::dhcp::write_fields_text;
use super::{ProtoError, ProtoResult};

pub const CLIENT_PORT: u16 = 546;
pub const SERVER_PORT: u16 = 547;

/// Enterprise number whose vendor options tshark decodes its own way (not emulated here).
const CABLELABS: u32 = 4491;

/// Relay wrappers followed before giving up (tshark's own limit is its dissection depth).
const MAX_RELAY_DEPTH: usize = 32;

/// Message types.
pub mod msg_type {
    pub const SOLICIT: u8 = 1;
    pub const ADVERTISE: u8 = 2;
    pub const REQUEST: u8 = 3;
    pub const CONFIRM: u8 = 4;
    pub const RENEW: u8 = 5;
    pub const REBIND: u8 = 6;
    pub const REPLY: u8 = 7;
    pub const RELEASE: u8 = 8;
    pub const DECLINE: u8 = 9;
    pub const RECONFIGURE: u8 = 10;
    pub const INFORMATION_REQUEST: u8 = 11;
    pub const RELAY_FORW: u8 = 12;
    pub const RELAY_REPL: u8 = 13;
}

/// Option codes this module decodes.
pub mod option {
    pub const CLIENTID: u16 = 1;
    pub const SERVERID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IAADDR: u16 = 5;
    pub const ORO: u16 = 6;
    pub const RELAY_MSG: u16 = 9;
    pub const VENDOR_CLASS: u16 = 16;
    pub const VENDOR_OPTS: u16 = 17;
    pub const CLIENT_FQDN: u16 = 39;
}

fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    match bytes.get(offset..offset.checked_add(2)?)? {
        &[a, b] => Some(u16::from_be_bytes([a, b])),
        _ => None,
    }
}

fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let bytes: [u8; 4] = bytes.get(offset..offset.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(bytes))
}

fn ipv6_at(bytes: &[u8], offset: usize) -> Option<Ipv6Addr> {
    let bytes: [u8; 16] = bytes
        .get(offset..offset.checked_add(16)?)?
        .try_into()
        .ok()?;
    Some(Ipv6Addr::from(bytes))
}

/// Relay-forward / relay-reply header fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RelayHeader {
    pub hop_count: u8,
    pub link_address: Ipv6Addr,
    pub peer_address: Ipv6Addr,
}

/// One DHCPv6 message (client/server or relay).
#[derive(Debug, Clone, Copy)]
pub struct Dhcpv6<'a> {
    msg_type: u8,
    transaction_id: u32,
    relay: Option<RelayHeader>,
    options: &'a [u8],
}

/// Reads the header: 4 bytes (type, transaction ID) or 34 for a relay message.
pub fn parse(udp_payload: &[u8]) -> ProtoResult<Dhcpv6<'_>> {
    let msg_type = *udp_payload.first().ok_or(ProtoError::Incomplete)?;
    if matches!(msg_type, msg_type::RELAY_FORW | msg_type::RELAY_REPL) {
        let relay = RelayHeader {
            hop_count: *udp_payload.get(1).ok_or(ProtoError::Incomplete)?,
            link_address: ipv6_at(udp_payload, 2).ok_or(ProtoError::Incomplete)?,
            peer_address: ipv6_at(udp_payload, 18).ok_or(ProtoError::Incomplete)?,
        };
        return Ok(Dhcpv6 {
            msg_type,
            transaction_id: 0,
            relay: Some(relay),
            options: udp_payload.get(34..).unwrap_or_default(),
        });
    }
    let transaction_id = u32_at(udp_payload, 0).ok_or(ProtoError::Incomplete)? & 0x00ff_ffff;
    Ok(Dhcpv6 {
        msg_type,
        transaction_id,
        relay: None,
        options: udp_payload.get(4..).unwrap_or_default(),
    })
}

impl<'a> Dhcpv6<'a> {
    pub fn msg_type(&self) -> u8 {
        self.msg_type
    }
    /// The 24-bit transaction ID (0 for relay messages).
    pub fn transaction_id(&self) -> u32 {
        self.transaction_id
    }
    pub fn relay(&self) -> Option<&RelayHeader> {
        self.relay.as_ref()
    }
    /// The options in order; one whose length runs past the message ends the iteration with
    /// `Incomplete` (tshark silently stops there).
    pub fn options(&self) -> Options<'a> {
        Options {
            bytes: self.options,
            offset: 0,
        }
    }
    /// The value of the first option `code`, if it comes before any truncated option.
    pub fn option(&self, code: u16) -> Option<&'a [u8]> {
        self.options()
            .map_while(Result::ok)
            .find(|option| option.code == code)
            .map(|option| option.data)
    }
    /// The message inside a relay message's option 9.
    pub fn relayed_message(&self) -> Option<ProtoResult<Dhcpv6<'a>>> {
        self.relay?;
        let data = self.option(option::RELAY_MSG)?;
        Some(parse(data))
    }
    /// Option 1.
    pub fn client_duid(&self) -> Option<Duid<'a>> {
        Duid::parse(self.option(option::CLIENTID)?)
    }
    /// Option 2.
    pub fn server_duid(&self) -> Option<Duid<'a>> {
        Duid::parse(self.option(option::SERVERID)?)
    }
    /// Every IA_NA option (a client may ask for several).
    pub fn ia_na(&self) -> impl Iterator<Item = IaNa<'a>> + 'a {
        self.options()
            .map_while(Result::ok)
            .filter(|option| option.code == option::IA_NA)
            .filter_map(|option| IaNa::parse(option.data))
    }
    /// Option 39, when it has its flags byte.
    pub fn client_fqdn(&self) -> Option<ClientFqdn<'a>> {
        ClientFqdn::parse(self.option(option::CLIENT_FQDN)?)
    }
    /// Whether tshark reads option 39 in this message type (RFC 4704 section 5/6 types only).
    pub fn fqdn_allowed(&self) -> bool {
        fqdn_allowed_in(self.msg_type)
    }
}

/// Client/server message types whose option 39 tshark reads (RFC 4704 sections 5 and 6).
fn fqdn_allowed_in(msg_type: u8) -> bool {
    matches!(
        msg_type,
        msg_type::SOLICIT
            | msg_type::ADVERTISE
            | msg_type::REQUEST
            | msg_type::RENEW
            | msg_type::REBIND
            | msg_type::REPLY
    )
}

/// One option: code and value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dhcpv6Option<'a> {
    pub code: u16,
    pub data: &'a [u8],
}

/// Iterator over options (see `Dhcpv6::options`).
#[derive(Debug, Clone)]
pub struct Options<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> Iterator for Options<'a> {
    type Item = ProtoResult<Dhcpv6Option<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.offset >= self.bytes.len() {
            return None;
        }
        let header = u16_at(self.bytes, self.offset).zip(u16_at(self.bytes, self.offset + 2));
        let data = header.and_then(|(code, len)| {
            let start = self.offset + 4;
            Some((code, self.bytes.get(start..start + usize::from(len))?))
        });
        match data {
            Some((code, data)) => {
                self.offset += 4 + data.len();
                Some(Ok(Dhcpv6Option { code, data }))
            }
            None => {
                self.offset = self.bytes.len();
                Some(Err(ProtoError::Incomplete))
            }
        }
    }
}

/// A DHCP Unique Identifier (RFC 8415 section 11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duid<'a> {
    bytes: &'a [u8],
}

impl<'a> Duid<'a> {
    pub const LLT: u16 = 1;
    pub const EN: u16 = 2;
    pub const LL: u16 = 3;
    pub const UUID: u16 = 4;

    /// `None` when shorter than its type field.
    pub fn parse(bytes: &'a [u8]) -> Option<Self> {
        u16_at(bytes, 0)?;
        Some(Duid { bytes })
    }
    /// The whole DUID (the stable client identity, whatever its type).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn duid_type(&self) -> u16 {
        u16_at(self.bytes, 0).unwrap_or_default()
    }
    /// Hardware type of a link-layer DUID (1 = Ethernet).
    pub fn hardware_type(&self) -> Option<u16> {
        match self.duid_type() {
            Self::LLT | Self::LL => u16_at(self.bytes, 2),
            _ => None,
        }
    }
    /// The link-layer address of a DUID-LLT (after type, hardware type and time) or DUID-LL.
    pub fn link_layer_address(&self) -> Option<&'a [u8]> {
        let start = match self.duid_type() {
            Self::LLT => 8,
            Self::LL => 4,
            _ => return None,
        };
        self.bytes
            .get(start..)
            .filter(|address| !address.is_empty())
    }
    /// The MAC of a link-layer DUID with hardware type Ethernet and a 6-byte address: the
    /// adapter the client first generated its DUID on, which may differ from the one in use.
    pub fn mac(&self) -> Option<[u8; 6]> {
        if self.hardware_type() != Some(1) {
            return None;
        }
        self.link_layer_address()?.try_into().ok()
    }
    /// DUID-LLT time: seconds since 2000-01-01 UTC.
    pub fn time(&self) -> Option<u32> {
        (self.duid_type() == Self::LLT)
            .then(|| u32_at(self.bytes, 4))
            .flatten()
    }
    /// DUID-EN enterprise number.
    pub fn enterprise_number(&self) -> Option<u32> {
        (self.duid_type() == Self::EN)
            .then(|| u32_at(self.bytes, 2))
            .flatten()
    }
}

/// An IA_NA option: identity association for non-temporary addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaNa<'a> {
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    options: &'a [u8],
}

impl<'a> IaNa<'a> {
    /// `None` when shorter than its 12 fixed bytes.
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        Some(IaNa {
            iaid: u32_at(data, 0)?,
            t1: u32_at(data, 4)?,
            t2: u32_at(data, 8)?,
            options: data.get(12..)?,
        })
    }
    /// The IA's own options (IAADDR, status code).
    pub fn options(&self) -> Options<'a> {
        Options {
            bytes: self.options,
            offset: 0,
        }
    }
    /// Its IAADDR options with their full 24 bytes.
    pub fn addresses(&self) -> impl Iterator<Item = IaAddress> + 'a {
        self.options()
            .map_while(Result::ok)
            .filter(|option| option.code == option::IAADDR)
            .filter_map(|option| {
                Some(IaAddress {
                    address: ipv6_at(option.data, 0)?,
                    preferred_lifetime: u32_at(option.data, 16)?,
                    valid_lifetime: u32_at(option.data, 20)?,
                })
            })
    }
}

/// An address of an IA (option 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IaAddress {
    pub address: Ipv6Addr,
    pub preferred_lifetime: u32,
    pub valid_lifetime: u32,
}

/// Option 39: flags and a domain name field in DNS wire format (no compression).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    pub flags: u8,
    /// The domain name field as sent.
    pub domain: &'a [u8],
}

impl<'a> ClientFqdn<'a> {
    /// S: the server should update the AAAA record.
    pub const FLAG_S: u8 = 0x01;
    /// O: the server overrode S.
    pub const FLAG_O: u8 = 0x02;
    /// N: no server updates.
    pub const FLAG_N: u8 = 0x04;

    /// `None` for an empty option (tshark calls it malformed and shows no name).
    pub fn parse(data: &'a [u8]) -> Option<Self> {
        let (&flags, domain) = data.split_first()?;
        Some(ClientFqdn { flags, domain })
    }

    /// Calls `emit` with each name tshark shows as `dhcpv6.client_domain`, raw bytes (cut at a
    /// NUL, as tshark's C string is): FQDNs with their trailing dot, or one partial name.
    pub fn for_each_name(&self, mut emit: impl FnMut(&[u8])) {
        let field = self.domain;
        let Some(final_offset) = field.len().checked_sub(1) else {
            return;
        };
        // Wireshark's buffer: 255 bytes of name, with room for its checks to overshoot.
        let mut name = [0u8; 320];
        let mut dpos = 0usize;
        let mut offset = 0usize;
        let mut first_label = 0usize;
        let mut remaining = field.len();
        let mut labels = 0usize;
        let mut fqdn_seen = false;
        let copy = |name: &mut [u8; 320], at: usize, from: usize, len: usize| {
            if let (Some(slot), Some(bytes)) =
                (name.get_mut(at..at + len), field.get(from..from + len))
            {
                slot.copy_from_slice(bytes);
            }
        };
        let c_str =
            |name: &[u8]| -> usize { name.iter().position(|&b| b == 0).unwrap_or(name.len()) };
        while remaining > 0 {
            let Some(&label_len) = field.get(offset) else {
                return;
            };
            let label_len = usize::from(label_len);
            if label_len > 63 {
                // Not DNS-encoded (some Windows versions send plain text here).
                return;
            }
            if dpos == 0 {
                first_label = offset;
            }
            offset += 1;
            remaining -= 1;
            if label_len > remaining || dpos + label_len + 2 > 255 {
                return;
            }
            if label_len == 0 {
                if let Some(slot) = name.get_mut(dpos) {
                    *slot = b'.';
                }
                dpos += 1;
                match labels {
                    // The root alone.
                    0 => return,
                    // A lone top-level label: tshark files it under another field.
                    1 => {}
                    _ => {
                        let text = name.get(..dpos).unwrap_or_default();
                        emit(text.get(..c_str(text)).unwrap_or_default());
                    }
                }
                labels = 0;
                dpos = 0;
                fqdn_seen = true;
                continue;
            }
            if offset + label_len - 1 == final_offset {
                // A partial name ends the field. Wireshark copies from the first label's data,
                // without a dot: a multi-label partial name repeats bytes of its first label.
                copy(&mut name, dpos, first_label + 1, label_len);
                dpos += label_len;
                if !fqdn_seen {
                    let text = name.get(..dpos).unwrap_or_default();
                    emit(text.get(..c_str(text)).unwrap_or_default());
                }
                return;
            }
            if labels > 0 {
                if let Some(slot) = name.get_mut(dpos) {
                    *slot = b'.';
                }
                dpos += 1;
            }
            copy(&mut name, dpos, offset, label_len);
            offset += label_len;
            remaining -= label_len;
            dpos += label_len;
            labels += 1;
        }
    }
}

/// A name signal, as the ground truth lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A name of option 39.
    Fqdn,
}

impl Signal {
    /// The ground truth's `kind` column.
    pub fn kind(self) -> &'static str {
        "dhcpv6_fqdn"
    }
}

/// Calls `emit` for each client FQDN name as tshark finds them: in the message's options, in
/// the options nested inside IA_NA, IA_TA, IA_PD, IAADDR, IAPREFIX, LQ_QUERY, CLIENT_DATA and
/// the S46 containers, and in relayed messages (option 9, wherever it stands), each name
/// allowed by the type of the message it belongs to. Values are the text tshark prints (`-T
/// fields`; bytes that are not UTF-8 become U+FFFD where tshark prints them raw); empty names
/// are skipped. A truncated option ends its message's walk with `Incomplete` after the names
/// before it (tshark silently stops there), a message cut inside its header is an error.
pub fn for_each_signal(msg: &Dhcpv6<'_>, mut emit: impl FnMut(Signal, &str)) -> ProtoResult<()> {
    let mut walk = Walk {
        emit: &mut emit,
        text: String::new(),
        truncated: false,
    };
    walk.options(msg.options, 0, msg.options.len(), msg.msg_type, 0)?;
    if walk.truncated {
        return Err(ProtoError::Incomplete);
    }
    Ok(())
}

/// Where tshark reads sub-options inside an option's value (and the shortest value it reads
/// them from). S46_RULE and S46_V4V6BIND, whose sub-options follow a variable-length prefix,
/// are not followed.
fn sub_options_offset(code: u16, len: usize) -> Option<usize> {
    let (offset, min_len) = match code {
        option::IA_NA | 25 => (12, 12),
        4 => (4, 4),
        option::IAADDR => (24, 24),
        26 => (25, 25),
        44 => (17, 17),
        45 | 94 | 95 | 96 => (0, 0),
        _ => return None,
    };
    (len >= min_len).then_some(offset)
}

struct Walk<'e, E: FnMut(Signal, &str)> {
    emit: &'e mut E,
    text: String,
    /// Set when a truncated option stopped a walk.
    truncated: bool,
}

impl<E: FnMut(Signal, &str)> Walk<'_, E> {
    /// The options in `tvb[start..end]` of a message of type `msg_type`; true when a truncated
    /// option (at any nesting level) ended them, which in tshark ends the enclosing loops of
    /// that message too. Offsets are absolute because tshark reads a relayed message's header
    /// from wherever it starts, even past the end of its option.
    fn options(
        &mut self,
        tvb: &[u8],
        start: usize,
        end: usize,
        msg_type: u8,
        depth: usize,
    ) -> ProtoResult<bool> {
        if depth > MAX_RELAY_DEPTH {
            return Err(ProtoError::Invalid("DHCPv6 nesting too deep"));
        }
        let mut offset = start;
        while offset < end {
            let header = u16_at(tvb, offset).zip(u16_at(tvb, offset + 2));
            let Some((code, len)) = header.filter(|(_, len)| end - offset >= 4 + usize::from(*len))
            else {
                self.truncated = true;
                return Ok(true);
            };
            let data_start = offset + 4;
            let data_end = data_start + usize::from(len);
            let data = tvb.get(data_start..data_end).unwrap_or_default();
            match code {
                option::CLIENT_FQDN => {
                    let fqdn = ClientFqdn::parse(data).filter(|_| fqdn_allowed_in(msg_type));
                    if let Some(fqdn) = fqdn {
                        let (emit, text) = (&mut *self.emit, &mut self.text);
                        fqdn.for_each_name(|name| {
                            if !name.is_empty() {
                                text.clear();
                                write_fields_text(&String::from_utf8_lossy(name), text);
                                emit(Signal::Fqdn, text);
                            }
                        });
                    }
                }
                option::RELAY_MSG if len > 0 => {
                    // A message of its own (own end-of-options state); its header is read even
                    // past the option, and only the end of the datagram is a throw.
                    let inner = parse(tvb.get(data_start..).unwrap_or_default())?;
                    let header_len = if inner.relay.is_some() { 34 } else { 4 };
                    self.options(
                        tvb,
                        data_start + header_len,
                        data_end,
                        inner.msg_type,
                        depth + 1,
                    )?;
                }
                option::VENDOR_OPTS if data.len() >= 4 && u32_at(data, 0) != Some(CABLELABS) => {
                    // tshark shows each vendor sub-option as an item, reading on past the
                    // option if its lengths say so, and throws past the datagram.
                    let mut sub = 0usize;
                    while data.len() > 4 + sub {
                        let at = data_start + 4 + sub;
                        let sub_len = u16_at(tvb, at + 2).ok_or(ProtoError::Incomplete)?;
                        let sub_end = at + 4 + usize::from(sub_len);
                        if sub_end > tvb.len() {
                            return Err(ProtoError::Incomplete);
                        }
                        sub += 4 + usize::from(sub_len);
                    }
                }
                _ => {
                    if let Some(sub) = sub_options_offset(code, data.len()) {
                        if self.options(tvb, data_start + sub, data_end, msg_type, depth + 1)? {
                            return Ok(true);
                        }
                    }
                }
            }
            offset = data_end;
        }
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn signals(payload: &[u8]) -> (Vec<String>, ProtoResult<()>) {
        let mut out = Vec::new();
        let result = match parse(payload) {
            Ok(msg) => for_each_signal(&msg, |_, value| out.push(value.to_string())),
            Err(error) => Err(error),
        };
        (out, result)
    }

    fn fqdn_names(domain: &str) -> Vec<String> {
        let mut out = Vec::new();
        let data = hex(&format!("00{domain}"));
        ClientFqdn::parse(&data)
            .unwrap()
            .for_each_name(|name| out.push(String::from_utf8_lossy(name).into_owned()));
        out
    }

    #[test]
    fn fqdn_names_like_tshark() {
        // Values checked with tshark 4.0.17.
        assert_eq!(fqdn_names("03616263"), ["abc"]);
        assert!(fqdn_names("0361626300").is_empty());
        assert!(fqdn_names("036162630003646566").is_empty());
        assert!(fqdn_names("0361626300036465660000").is_empty());
        assert!(fqdn_names("00").is_empty());
        assert!(fqdn_names("").is_empty());
        assert!(fqdn_names("0561626300").is_empty());
        assert_eq!(fqdn_names("03610962"), ["a\tb"]);
        assert_eq!(fqdn_names("0361806203616263 00"), ["a\u{FFFD}b.abc."]);
        assert_eq!(fqdn_names("032e616203646566"), [".ab.ab"]);
        assert!(fqdn_names("03616263c000").is_empty());
        let too_long = format!("{}00", format!("3f{}", "61".repeat(63)).repeat(4));
        assert!(fqdn_names(&too_long).is_empty());
        let longest = format!(
            "{}3d{}00",
            format!("3f{}", "61".repeat(63)).repeat(3),
            "61".repeat(61)
        );
        let expected = format!("{}.{}.", vec!["a".repeat(63); 3].join("."), "a".repeat(61));
        assert_eq!(fqdn_names(&longest), [expected]);
        assert_eq!(fqdn_names("03000000"), [""]);
    }

    /// Frame 1650 of mercury/emix.pcap: a Windows 7 Solicit with a rooted FQDN.
    const EMIX_SOLICIT: &str = "\
        0110c6960008000200000001000e0001000116cee1c852540079b1460003000c0e5254000000000000000000\
        00270023000a57494e444f5753372d3302733405686f77746f0861626172746c6574036e6574000010000e00\
        00013700084d53465420352e30000600080018001700110027";

    /// Frame 4 of tcpdump/dhcpv6-ia-na.pcap: a Reply granting one IA_NA address.
    const TCPDUMP_IA_NA_REPLY: &str = "\
        072ffdd1000300280203040500000e1000001518000500182a0000010001020038e6b22ec440acdf00001194\
        00001c200001000a000300010001020304050002000e000100011846488c001122334455";

    #[test]
    fn emix_solicit() {
        let payload = hex(EMIX_SOLICIT);
        let msg = parse(&payload).unwrap();
        assert_eq!(msg.msg_type(), msg_type::SOLICIT);
        assert_eq!(msg.transaction_id(), 0x10c696);
        let duid = msg.client_duid().unwrap();
        assert_eq!(duid.duid_type(), Duid::LLT);
        assert_eq!(duid.mac(), Some([0x52, 0x54, 0x00, 0x79, 0xb1, 0x46]));
        let ia: Vec<IaNa> = msg.ia_na().collect();
        assert_eq!(ia.len(), 1);
        assert_eq!(ia[0].iaid, 0x0e525400);
        assert_eq!(msg.client_fqdn().unwrap().flags, 0);
        let (found, result) = signals(&payload);
        assert_eq!(result, Ok(()));
        assert_eq!(found, ["WINDOWS7-3.s4.howto.abartlet.net."]);
    }

    #[test]
    fn tcpdump_ia_na_reply() {
        let payload = hex(TCPDUMP_IA_NA_REPLY);
        let msg = parse(&payload).unwrap();
        assert_eq!(msg.msg_type(), msg_type::REPLY);
        let client = msg.client_duid().unwrap();
        assert_eq!(client.duid_type(), Duid::LL);
        assert_eq!(client.mac(), Some([0x00, 0x01, 0x02, 0x03, 0x04, 0x05]));
        let server = msg.server_duid().unwrap();
        assert_eq!(server.duid_type(), Duid::LLT);
        assert_eq!(server.mac(), Some([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]));
        let ia: Vec<IaNa> = msg.ia_na().collect();
        assert_eq!(ia.len(), 1);
        assert_eq!((ia[0].iaid, ia[0].t1, ia[0].t2), (0x02030405, 3600, 5400));
        let addresses: Vec<IaAddress> = ia[0].addresses().collect();
        assert_eq!(
            addresses,
            [IaAddress {
                address: "2a00:1:1:200:38e6:b22e:c440:acdf".parse().unwrap(),
                preferred_lifetime: 4500,
                valid_lifetime: 7200,
            }]
        );
        assert_eq!(signals(&payload), (vec![], Ok(())));
    }

    #[test]
    fn relay_forward_is_followed_and_message_type_gates_fqdn() {
        let inner = hex(EMIX_SOLICIT);
        let mut relay = vec![msg_type::RELAY_FORW, 0];
        relay.extend([0u8; 32]);
        relay.extend(hex("0009"));
        relay.extend((inner.len() as u16).to_be_bytes());
        relay.extend(&inner);
        let (found, result) = signals(&relay);
        assert_eq!(result, Ok(()));
        assert_eq!(found, ["WINDOWS7-3.s4.howto.abartlet.net."]);
        let msg = parse(&relay).unwrap();
        assert!(msg.relay().is_some());
        assert_eq!(
            msg.relayed_message().unwrap().unwrap().msg_type(),
            msg_type::SOLICIT
        );
        // The same option in an Information-request is not read.
        let mut info = inner.clone();
        info[0] = msg_type::INFORMATION_REQUEST;
        assert!(signals(&info).0.is_empty());
    }

    #[test]
    fn every_prefix_and_mutation_is_safe() {
        let inner = hex(EMIX_SOLICIT);
        let mut relay = vec![msg_type::RELAY_FORW, 0];
        relay.extend([0u8; 32]);
        relay.extend(hex("0009"));
        relay.extend((inner.len() as u16).to_be_bytes());
        relay.extend(&inner);
        let inputs = [inner, hex(TCPDUMP_IA_NA_REPLY), relay];
        let mut seed = 0x5851_f42d_4c95_7f2du64;
        for input in inputs {
            for len in 0..=input.len() {
                let _ = signals(&input[..len]);
            }
            crate::testkit::mutations(&input, 3000, 4, &mut seed, |mutated| {
                let _ = signals(mutated);
                if let Ok(msg) = parse(mutated) {
                    let _ = msg
                        .client_duid()
                        .map(|d| (d.mac(), d.time(), d.enterprise_number()));
                    for ia in msg.ia_na() {
                        let _ = ia.addresses().count();
                    }
                }
            });
        }
    }
}
