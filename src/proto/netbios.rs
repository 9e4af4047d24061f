//! NetBIOS over TCP/IP names (RFC 1001/1002), the way Windows machines, printers and NAS boxes
//! announce themselves on a LAN: the name service on UDP 137 (queries, registrations and their
//! answers, with the 32-letter first-level encoding of a 16-byte name whose last byte is the
//! service suffix), and the datagram service on UDP 138 as far as the browser announcements it
//! carries (SMB Transaction to `\MAILSLOT\BROWSE` or `\MAILSLOT\LANMAN`: host, domain and local
//! master announcements and election requests, which name the sending server).
//!
//! Names are rendered as tshark 4.0 shows them, so they can be diffed against the corpus ground
//! truth: `WORKGROUP<1d>` (unprintable bytes as `<xx>`, trailing spaces dropped unless the name
//! is all spaces), a scope appended as `.scope`, `Illegal NetBIOS name (...)` for what does not
//! decode, and ` (Server service)`-style suffix descriptions on NB answer records. Where tshark's
//! dissector throws on a malformed message, the entries after that point are not read either.
//!
//! It refuses to: parse NetBIOS sessions (TCP 139), SMB beyond the one Transaction request that
//! carries a mailslot, reassemble fragmented datagrams, or panic.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::dhcp::text::{expand_dns_name, name_step_budget, write_fields_text};
use super::{ProtoError, ProtoResult};

mod browser;

pub use browser::{
    browser_command, browser_server, datagram_type, for_each_datagram_signal, parse_datagram,
    parse_datagram_skipping_names, BrowserServer, Datagram, Mailslot,
};

pub const NAME_SERVICE_PORT: u16 = 137;
pub const DATAGRAM_SERVICE_PORT: u16 = 138;

/// A NetBIOS name: 15 characters (space padded) and the suffix byte naming the service.
pub const NETBIOS_NAME_LEN: usize = 16;
const HEADER_LEN: usize = 12;

/// Resource record types of the name service.
pub mod rtype {
    /// NetBIOS general name service record: flags + IPv4 address per entry.
    pub const NB: u16 = 0x20;
    /// Node status: the names registered by a node, and its MAC ("unit ID").
    pub const NBSTAT: u16 = 0x21;
}

/// Name service opcodes (flags bits 11..14).
pub mod opcode {
    pub const QUERY: u8 = 0;
    pub const REGISTRATION: u8 = 5;
    pub const RELEASE: u8 = 6;
    /// Wait for acknowledgement: its NB data is flags only.
    pub const WACK: u8 = 7;
    pub const REFRESH: u8 = 8;
}

fn need(bytes: &[u8], offset: usize, len: usize) -> ProtoResult<()> {
    match offset.checked_add(len) {
        Some(end) if end <= bytes.len() => Ok(()),
        _ => Err(ProtoError::Incomplete),
    }
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

// ---------------------------------------------------------------------------------------------
// Names

/// Why tshark calls an encoded name illegal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IllegalName {
    /// A first letter of a pair outside `A`..=`Z` (also every tshark placeholder such as
    /// `<Root>`).
    FirstCharacter,
    /// The name ends in the middle of a pair.
    OddLength,
    /// A second letter of a pair outside `A`..=`Z`.
    SecondCharacter,
    /// Fewer than 16 decoded bytes (more are cut to 16 and accepted).
    Length(usize),
}

/// A first-level-encoded name as tshark decodes it. Letters up to `Z` are accepted (not just
/// `A`..=`P`) and combined the way Wireshark's C does, and a name longer than 16 bytes is cut.
#[derive(Clone)]
pub struct NbName {
    decoded: Result<[u8; NETBIOS_NAME_LEN], IllegalName>,
    /// The scope as tshark appends it: from its leading dot, raw bytes.
    scope: [u8; 255],
    scope_len: usize,
}

impl std::fmt::Debug for NbName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut text = String::new();
        self.write_value(&mut text);
        f.debug_tuple("NbName").field(&text).finish()
    }
}

impl NbName {
    /// Decodes the text of a DNS-encoded name (Wireshark's `get_nbns_name()` after
    /// `get_dns_name()`): pairs of letters up to the first dot (the scope follows) or NUL.
    fn decode(text: &[u8]) -> NbName {
        let mut name = NbName {
            decoded: Err(IllegalName::Length(0)),
            scope: [0; 255],
            scope_len: 0,
        };
        let mut decoded = [0u8; NETBIOS_NAME_LEN];
        let mut count = 0usize;
        let mut pos = 0usize;
        let letter = |c: u8| c.is_ascii_uppercase().then(|| c - b'A');
        loop {
            let first = text.get(pos).copied().unwrap_or(0);
            if first == 0 || first == b'.' {
                break;
            }
            let Some(high) = letter(first) else {
                name.decoded = Err(IllegalName::FirstCharacter);
                return name;
            };
            let second = text.get(pos + 1).copied().unwrap_or(0);
            if second == 0 || second == b'.' {
                name.decoded = Err(IllegalName::OddLength);
                return name;
            }
            let Some(low) = letter(second) else {
                name.decoded = Err(IllegalName::SecondCharacter);
                return name;
            };
            pos += 2;
            // Wireshark shifts a C char: letters past P spill bits, the low one ORs over them.
            if let Some(slot) = decoded.get_mut(count) {
                *slot = high.wrapping_shl(4) | low;
                count += 1;
            }
        }
        if count != NETBIOS_NAME_LEN {
            name.decoded = Err(IllegalName::Length(count));
            return name;
        }
        name.decoded = Ok(decoded);
        if text.get(pos) == Some(&b'.') {
            let scope = text.get(pos..).unwrap_or_default();
            let scope = scope.split(|&b| b == 0).next().unwrap_or_default();
            let len = scope.len().min(name.scope.len());
            if let (Some(slot), Some(bytes)) = (name.scope.get_mut(..len), scope.get(..len)) {
                slot.copy_from_slice(bytes);
                name.scope_len = len;
            }
        }
        name
    }

    /// The 16 decoded bytes (15 characters and the suffix), if the name is legal.
    pub fn netbios_name(&self) -> Option<&[u8; NETBIOS_NAME_LEN]> {
        self.decoded.as_ref().ok()
    }
    /// Why it is not legal.
    pub fn illegal(&self) -> Option<IllegalName> {
        self.decoded.err()
    }
    /// The suffix byte (0x00 workstation, 0x20 server, 0x1d local master browser, ...).
    pub fn name_type(&self) -> Option<u8> {
        self.netbios_name().and_then(|name| name.last().copied())
    }
    /// The scope ID with its leading dot, raw (empty when none).
    pub fn scope(&self) -> &[u8] {
        self.scope.get(..self.scope_len).unwrap_or_default()
    }
    /// Appends tshark's text: `NAME<xx>` plus the scope, or `Illegal NetBIOS name (...)`.
    /// Scope bytes that are not UTF-8 become U+FFFD (tshark prints them raw).
    pub fn write_value(&self, out: &mut String) {
        match &self.decoded {
            Ok(name) => {
                write_netbios_name(name, out);
                out.push_str(&String::from_utf8_lossy(self.scope()));
            }
            Err(IllegalName::FirstCharacter) => out.push_str(
                "Illegal NetBIOS name (1st character not between A and Z in first-level encoding)",
            ),
            Err(IllegalName::OddLength) => {
                out.push_str("Illegal NetBIOS name (odd number of bytes)")
            }
            Err(IllegalName::SecondCharacter) => out.push_str(
                "Illegal NetBIOS name (2nd character not between A and Z in first-level encoding)",
            ),
            Err(IllegalName::Length(len)) => {
                let _ = write!(out, "Illegal NetBIOS name ({len} bytes long)");
            }
        }
    }
}

/// Appends a 16-byte NetBIOS name as Wireshark's `process_netbios_name()` + `<%02x>` shows it:
/// printable ASCII as is, other bytes as `<xx>`, trailing spaces dropped (all of them kept when
/// the name is nothing but spaces, a Wireshark quirk), then the suffix.
pub fn write_netbios_name(name: &[u8; NETBIOS_NAME_LEN], out: &mut String) {
    let start = out.len();
    let (characters, suffix) = name.split_at(NETBIOS_NAME_LEN - 1);
    for &byte in characters {
        if (0x20..=0x7e).contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "<{byte:02x}>");
        }
    }
    let kept = out
        .get(start..)
        .map_or(0, |text| text.trim_end_matches(' ').len());
    if kept > 0 {
        out.truncate(start + kept);
    }
    let _ = write!(out, "<{:02x}>", suffix.first().copied().unwrap_or_default());
}

/// Wireshark's description of a name suffix (`netbios_name_type_descr()`).
pub fn name_type_description(name_type: Option<u8>) -> &'static str {
    match name_type {
        Some(0x00) | Some(0x02) => "Workstation/Redirector",
        Some(0x01) => "Browser",
        Some(0x03) => "Messenger service/Main name",
        Some(0x05) => "Forwarded name",
        Some(0x06) => "RAS Server service",
        Some(0x1b) => "Domain Master Browser",
        Some(0x1c) => "Domain Controllers",
        Some(0x1d) => "Local Master Browser",
        Some(0x1e) => "Browser Election Service",
        Some(0x1f) => "Net DDE Service",
        Some(0x20) => "Server service",
        Some(0x21) => "RAS client service",
        Some(0x22) => "Exchange Interchange (MSMail Connector)",
        Some(0x23) => "Exchange Store",
        Some(0x24) => "Exchange Directory",
        Some(0x2b) => "Lotus Notes Server service",
        Some(0x30) => "Modem sharing server service",
        Some(0x31) => "Modem sharing client service",
        Some(0x43) => "SMS Clients Remote Control",
        Some(0x44) => "SMS Administrators Remote Control Tool",
        Some(0x45) => "SMS Clients Remote Chat",
        Some(0x46) => "SMS Clients Remote Transfer",
        Some(0x4c) | Some(0x52) => "DEC Pathworks TCP/IP Service on Windows NT",
        Some(0x6a) => "Microsoft Exchange IMC",
        Some(0x87) => "Microsoft Exchange MTA",
        Some(0xbe) => "Network Monitor Agent",
        Some(0xbf) => "Network Monitor Analyzer",
        _ => "Unknown",
    }
}

/// Reads the encoded name at `offset` (compression pointers from `data_offset`): the name and
/// its length in place.
fn read_name(
    bytes: &[u8],
    offset: usize,
    data_offset: usize,
    budget: &mut usize,
) -> ProtoResult<(NbName, usize)> {
    let expanded = expand_dns_name(bytes, offset, 0, data_offset, budget)?;
    Ok((NbName::decode(expanded.c_str()), expanded.consumed))
}

/// The length in place of the encoded name at `offset`, as `read_name` gives it, without
/// decoding it. A name of plain labels that ends inside `bytes` (nearly every one) is walked
/// here, one budget step per label and one for its end as `expand_dns_name` takes them; any
/// other (a pointer, another label type, a name cut short, too few steps left) is left to
/// `expand_dns_name` itself, from the start, so the length, the error and the budget left are
/// always the ones `read_name` gives.
fn name_len(
    bytes: &[u8],
    offset: usize,
    data_offset: usize,
    budget: &mut usize,
) -> ProtoResult<usize> {
    let mut at = offset;
    let mut steps = 0usize;
    loop {
        steps += 1;
        match bytes.get(at) {
            // The end, if the budget has the steps.
            Some(0) if steps <= *budget => {
                *budget -= steps;
                return Ok(at + 1 - offset);
            }
            Some(0) => break,
            // A label: its end is checked by the next length byte's read.
            Some(&len) if len & 0xc0 == 0 => at += 1 + usize::from(len),
            _ => break,
        }
    }
    expand_dns_name(bytes, offset, 0, data_offset, budget).map(|name| name.consumed)
}

// ---------------------------------------------------------------------------------------------
// Name service (UDP 137)

/// One name service message: the header over the whole payload; entries are read lazily.
#[derive(Debug, Clone, Copy)]
pub struct NameService<'a> {
    bytes: &'a [u8],
    id: u16,
    flags: u16,
    counts: [u16; 4],
}

/// Checks the 12-byte header.
pub fn parse_name_service(udp_payload: &[u8]) -> ProtoResult<NameService<'_>> {
    Ok(NameService {
        bytes: udp_payload,
        id: u16_at(udp_payload, 0)?,
        flags: u16_at(udp_payload, 2)?,
        counts: [
            u16_at(udp_payload, 4)?,
            u16_at(udp_payload, 6)?,
            u16_at(udp_payload, 8)?,
            u16_at(udp_payload, 10)?,
        ],
    })
}

impl<'a> NameService<'a> {
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn id(&self) -> u16 {
        self.id
    }
    pub fn flags(&self) -> u16 {
        self.flags
    }
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }
    pub fn is_broadcast(&self) -> bool {
        self.flags & 0x0010 != 0
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }
    /// Questions, answers, authority and additional records, as the header counts them.
    pub fn counts(&self) -> [u16; 4] {
        self.counts
    }

    /// Every question and record in wire order. After an entry tshark throws on (a record whose
    /// data runs past the message, say) the iteration yields that error and stops.
    pub fn entries(&self) -> Entries<'a> {
        Entries {
            bytes: self.bytes,
            opcode: self.opcode(),
            offset: HEADER_LEN,
            remaining: self.counts,
            section: 0,
            pending_error: None,
            budget: name_step_budget(self.bytes.len()),
        }
    }
}

/// Section of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Question,
    Answer,
    Authority,
    Additional,
}

/// A question (type and class only) or a resource record.
#[derive(Debug, Clone)]
pub struct Entry<'a> {
    pub section: Section,
    pub name: NbName,
    pub rtype: u16,
    pub rclass: u16,
    /// Zero for questions.
    pub ttl: u32,
    /// The record data as its length says, cut at the end of the message (empty for questions).
    pub rdata: &'a [u8],
}

impl<'a> Entry<'a> {
    /// tshark's `nbns.name` value: the name, plus ` (<suffix description>)` for NB records.
    pub fn write_value(&self, out: &mut String) {
        self.name.write_value(out);
        if self.section != Section::Question && self.rtype == rtype::NB {
            out.push_str(" (");
            out.push_str(name_type_description(self.name.name_type()));
            out.push(')');
        }
    }

    /// NB record data: (NB flags, address) per complete 6-byte entry.
    pub fn nb_addresses(&self) -> impl Iterator<Item = (u16, Ipv4Addr)> + 'a {
        let data = if self.section != Section::Question && self.rtype == rtype::NB {
            self.rdata
        } else {
            &[]
        };
        data.chunks_exact(6).filter_map(|entry| match entry {
            &[f1, f2, a, b, c, d] => {
                Some((u16::from_be_bytes([f1, f2]), Ipv4Addr::new(a, b, c, d)))
            }
            _ => None,
        })
    }

    /// NBSTAT record data: the node's names (16 bytes each, with their name flags) and its unit
    /// ID (usually the MAC), as far as the data holds them.
    pub fn node_status(&self) -> Option<NodeStatus<'a>> {
        if self.section == Section::Question || self.rtype != rtype::NBSTAT {
            return None;
        }
        let (&count, rest) = self.rdata.split_first()?;
        let names_len = usize::from(count) * 18;
        let names = rest.get(..names_len.min(rest.len())).unwrap_or_default();
        let unit_id = rest
            .get(names_len..names_len + 6)
            .and_then(|id| <[u8; 6]>::try_from(id).ok());
        Some(NodeStatus { names, unit_id })
    }
}

/// Node status answer data (see `Entry::node_status`).
#[derive(Debug, Clone, Copy)]
pub struct NodeStatus<'a> {
    names: &'a [u8],
    /// The unit ID: the MAC address of the answering node's adapter (Samba sends zeros).
    pub unit_id: Option<[u8; 6]>,
}

impl<'a> NodeStatus<'a> {
    /// (name, name flags) for each complete entry.
    pub fn names(&self) -> impl Iterator<Item = ([u8; NETBIOS_NAME_LEN], u16)> + 'a {
        self.names.chunks_exact(18).filter_map(|entry| {
            let (name, flags) = entry.split_at(NETBIOS_NAME_LEN);
            Some((name.try_into().ok()?, u16_at(flags, 0).ok()?))
        })
    }
}

/// Iterator over the entries (see `NameService::entries`).
#[derive(Debug, Clone)]
pub struct Entries<'a> {
    bytes: &'a [u8],
    opcode: u8,
    offset: usize,
    remaining: [u16; 4],
    section: usize,
    pending_error: Option<ProtoError>,
    budget: usize,
}

impl<'a> Entries<'a> {
    fn read(&mut self, section: Section) -> ProtoResult<Entry<'a>> {
        let bytes = self.bytes;
        let (name, name_len) = read_name(bytes, self.offset, 0, &mut self.budget)?;
        let at = self.offset + name_len;
        // tshark reads type and class (and for records TTL and length) before it adds the name.
        let rtype = u16_at(bytes, at)?;
        let rclass = u16_at(bytes, at + 2)?;
        if section == Section::Question {
            self.offset = at + 4;
            return Ok(Entry {
                section,
                name,
                rtype,
                rclass,
                ttl: 0,
                rdata: &[],
            });
        }
        let ttl = u32_at(bytes, at + 4)?;
        let data_len = u16_at(bytes, at + 8)?;
        let data_start = at + 10;
        // tshark's subtree for the record spans name to data end, and throws if that is past
        // the message, before the name is added.
        need(bytes, data_start, usize::from(data_len))?;
        let rdata_end = (data_start + usize::from(data_len)).min(bytes.len());
        let rdata = bytes.get(data_start..rdata_end).unwrap_or_default();
        match record_data_end(bytes, data_start, data_len, rtype, self.opcode) {
            Ok(end) => self.offset = end,
            Err(error) => self.pending_error = Some(error),
        }
        Ok(Entry {
            section,
            name,
            rtype,
            rclass,
            ttl,
            rdata,
        })
    }
}

/// Where tshark's dissector of this record's data stops, which is where it reads the next
/// record: NB and NBSTAT data are walked field by field (leftover bytes are not skipped),
/// other data by its length. A field past the message is tshark's throw.
fn record_data_end(
    bytes: &[u8],
    start: usize,
    data_len: u16,
    record_type: u16,
    opcode_value: u8,
) -> ProtoResult<usize> {
    let mut cur = start;
    let mut left = data_len;
    let take = |cur: &mut usize, left: &mut u16, len: u16| -> ProtoResult<bool> {
        if *left < len {
            return Ok(false);
        }
        need(bytes, *cur, usize::from(len))?;
        *cur += usize::from(len);
        *left -= len;
        Ok(true)
    };
    match record_type {
        rtype::NB => {
            while left > 0 {
                if opcode_value == opcode::WACK {
                    if !take(&mut cur, &mut left, 2)? {
                        break;
                    }
                } else if !take(&mut cur, &mut left, 2)? || !take(&mut cur, &mut left, 4)? {
                    break;
                }
            }
        }
        rtype::NBSTAT => {
            if left < 1 {
                return Ok(cur);
            }
            // The name count byte is not taken off the length (a Wireshark quirk).
            let mut names = *bytes.get(cur).ok_or(ProtoError::Incomplete)?;
            cur += 1;
            while names != 0 {
                if !take(&mut cur, &mut left, NETBIOS_NAME_LEN as u16)?
                    || !take(&mut cur, &mut left, 2)?
                {
                    return Ok(cur);
                }
                names -= 1;
            }
            const STATISTICS: [u16; 18] = [6, 1, 1, 2, 2, 2, 2, 2, 2, 4, 4, 2, 2, 2, 2, 2, 2, 2];
            for len in STATISTICS {
                if !take(&mut cur, &mut left, len)? {
                    break;
                }
            }
        }
        _ => {
            need(bytes, cur, usize::from(data_len))?;
            cur += usize::from(data_len);
        }
    }
    Ok(cur)
}

impl<'a> Iterator for Entries<'a> {
    type Item = ProtoResult<Entry<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.pending_error.take() {
            self.remaining = [0; 4];
            return Some(Err(error));
        }
        loop {
            let remaining = self.remaining.get_mut(self.section)?;
            if *remaining > 0 {
                *remaining -= 1;
                break;
            }
            self.section += 1;
        }
        let section = match self.section {
            0 => Section::Question,
            1 => Section::Answer,
            2 => Section::Authority,
            _ => Section::Additional,
        };
        let entry = self.read(section);
        if entry.is_err() {
            self.remaining = [0; 4];
        }
        Some(entry)
    }
}

// ---------------------------------------------------------------------------------------------
// Signals

/// A name signal, as the ground truth lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A name of a name service question or record (`nbns.name`).
    NbnsName,
    /// The server (or workgroup) named by a browser message (`browser.server`).
    BrowserServer,
}

impl Signal {
    /// The ground truth's `kind` column.
    pub fn kind(self) -> &'static str {
        match self {
            Signal::NbnsName => "nbns_name",
            Signal::BrowserServer => "netbios_browser",
        }
    }
}

/// Calls `emit` for each question and record name in wire order, with the text tshark prints
/// (`-T fields`). On a malformed message the names before the fault are emitted and the fault
/// is returned.
pub fn for_each_name_service_signal(
    msg: &NameService<'_>,
    mut emit: impl FnMut(Signal, &str),
) -> ProtoResult<()> {
    let mut value = String::new();
    let mut text = String::new();
    for entry in msg.entries() {
        value.clear();
        entry?.write_value(&mut value);
        text.clear();
        write_fields_text(&value, &mut text);
        emit(Signal::NbnsName, &text);
    }
    Ok(())
}

/// The printable form of a raw NetBIOS name without its suffix, for device tables: tshark's
/// rendering minus `<xx>` (so `WORKGROUP<1d>` gives `WORKGROUP`).
pub fn display_name(name: &[u8; NETBIOS_NAME_LEN]) -> String {
    let mut text = String::new();
    write_netbios_name(name, &mut text);
    text.truncate(text.len().saturating_sub(4));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn nbns_signals(payload: &[u8]) -> (Vec<String>, ProtoResult<()>) {
        let mut out = Vec::new();
        let result = match parse_name_service(payload) {
            Ok(msg) => for_each_name_service_signal(&msg, |_, value| out.push(value.to_string())),
            Err(error) => Err(error),
        };
        (out, result)
    }

    /// First-level encoding of a 15-character name (space padded) and a suffix, as a label.
    fn encode(name: &[u8], suffix: u8) -> Vec<u8> {
        let mut raw = name.to_vec();
        raw.resize(15, b' ');
        raw.push(suffix);
        let mut out = vec![0x20];
        for b in raw {
            out.push(b'A' + (b >> 4));
            out.push(b'A' + (b & 15));
        }
        out
    }

    fn query(name_label: &[u8], tail: &[u8]) -> Vec<u8> {
        let mut msg = hex("1234 0110 0001 0000 0000 0000");
        msg.extend(name_label);
        msg.extend(tail);
        msg
    }

    /// `name_len` gives the length, the error and the budget left that `read_name` gives,
    /// with every budget from none to more than enough, for plain names, the root, a name cut
    /// short, a pointer and a bit-string label.
    #[test]
    fn name_len_is_read_names_length() {
        let names: [&[u8]; 6] = [
            b"\x20FHEJEOEEEPFHFDDHCNDDCACACACACA\x00rest",
            b"\x00",
            b"\x03abc\x02de\x00",
            b"\x03abc\x02de",
            b"\x03abc\xc0\x00",
            b"\x03abc\x41\x08\xab\x00",
        ];
        for name in names {
            for budget in 0..6 {
                let (mut by_len, mut by_read) = (budget, budget);
                let len = name_len(name, 0, 0, &mut by_len);
                let read = read_name(name, 0, 0, &mut by_read).map(|(_, len)| len);
                assert_eq!(len, read, "{name:02x?} with {budget} steps");
                assert_eq!(by_len, by_read, "{name:02x?} with {budget} steps");
            }
        }
    }

    #[test]
    fn names_like_tshark() {
        // Values checked with tshark 4.0.17.
        let zeros = "<00>".repeat(16);
        let nines = "<99>".repeat(16);
        let cases: Vec<(Vec<u8>, &str)> =
            vec![
            ([encode(b"WORKGROUP", 0x1d), vec![0]].concat(), "WORKGROUP<1d>"),
            ([encode(b"", 0x20), vec![0]].concat(), "               <20>"),
            ([encode(b"A<B\x80\x7f", 0), vec![0]].concat(), "A<B<80><7f><00>"),
            (
                [encode(b"HOST", 0), b"\x05scope\x03com\x00".to_vec()].concat(),
                "HOST<00>.scope.com",
            ),
            ([vec![0x22], vec![b'A'; 34], vec![0]].concat(), &zeros),
            (
                [vec![0x1e], vec![b'A'; 30], vec![0]].concat(),
                "Illegal NetBIOS name (15 bytes long)",
            ),
            ([vec![0x20], vec![b'Z'; 32], vec![0]].concat(), &nines),
            (
                [vec![0x20], vec![b'a'; 32], vec![0]].concat(),
                "Illegal NetBIOS name (1st character not between A and Z in first-level encoding)",
            ),
            (
                vec![0],
                "Illegal NetBIOS name (1st character not between A and Z in first-level encoding)",
            ),
        ];
        for (label, expected) in cases {
            let (found, result) = nbns_signals(&query(&label, &hex("0020 0001")));
            assert_eq!(result, Ok(()), "{expected}");
            assert_eq!(found, [expected.to_string()]);
        }
        // Class missing: tshark throws before adding the name.
        let (found, result) = nbns_signals(&query(&[encode(b"HOST", 0), vec![0]].concat(), &[0]));
        assert!(found.is_empty());
        assert_eq!(result, Err(ProtoError::Incomplete));
    }

    #[test]
    fn answer_records_get_the_suffix_description() {
        let mut msg = hex("1234 8500 0000 0001 0000 0000");
        msg.extend(encode(b"HOST", 0x20));
        msg.extend(hex("00 0020 0001 00000010 0006 0000 0a000001"));
        let (found, result) = nbns_signals(&msg);
        assert_eq!(result, Ok(()));
        assert_eq!(found, ["HOST<20> (Server service)"]);
        let parsed = parse_name_service(&msg).unwrap();
        let entry = parsed.entries().next().unwrap().unwrap();
        assert_eq!(
            entry.nb_addresses().collect::<Vec<_>>(),
            [(0, Ipv4Addr::new(10, 0, 0, 1))]
        );
        // NBSTAT records get no description.
        let mut msg = hex("1234 8500 0000 0001 0000 0000");
        msg.extend(encode(b"HOST", 0x99));
        msg.extend(hex("00 0021 0001 00000010 0000"));
        assert_eq!(nbns_signals(&msg).0, ["HOST<99>"]);
    }

    /// compbench/2009-M57-day11-18-10k.pcap: a query for WORKGROUP<1b>; mercury/emix.pcap frames
    /// 534 (registration with its NB additional record) and 404 (node status query for `*`);
    /// ndpi/ndpi_netbios.pcap frame 55 (node status response).
    const EMIX_REGISTRATION: &str = "\
        f60b29100001000000000001204648454a454f45454550464846444448434e44444341434143414341434143\
        410000200001c00c00200001000493e000060000c0a87a91";
    const EMIX_STATUS_QUERY: &str = "\
        f6030000000100000000000020434b4141414141414141414141414141414141414141414141414141414141\
        410000210001";
    const M57_QUERY: &str = "\
        80e80110000100000000000020464845504643454c4548464345504646464143414341434143414341434142\
        4c0000200001";
    const NDPI_STATUS_RESPONSE: &str = "\
        20a88400000000010000000020434b4141414141414141414141414141414141414141414141414141414141\
        4100002100010000000000770447554e4e4152202020202020202020000400564947494c414e545f47524f55\
        502000840047554e4e4152202020202020202020200400564947494c414e545f47524f5550201e8400001cc4\
        10790f00000000000000000000000000000000000000000000000000000000000000000000000000000000";

    #[test]
    fn corpus_messages() {
        assert_eq!(
            nbns_signals(&hex(M57_QUERY)),
            (vec!["WORKGROUP<1b>".to_string()], Ok(()))
        );
        let registration = hex(EMIX_REGISTRATION);
        assert_eq!(
            nbns_signals(&registration).0,
            ["WINDOWS7-3<20>", "WINDOWS7-3<20> (Server service)"]
        );
        let msg = parse_name_service(&registration).unwrap();
        assert_eq!(msg.opcode(), opcode::REGISTRATION);
        let entries: Vec<Entry> = msg.entries().map(Result::unwrap).collect();
        assert_eq!(entries[1].section, Section::Additional);
        assert_eq!(
            entries[1].nb_addresses().collect::<Vec<_>>(),
            [(0, Ipv4Addr::new(192, 168, 122, 145))]
        );
        assert_eq!(entries[1].name.name_type(), Some(0x20));
        assert_eq!(
            nbns_signals(&hex(EMIX_STATUS_QUERY)).0,
            [format!("*{}", "<00>".repeat(15))]
        );

        let status = hex(NDPI_STATUS_RESPONSE);
        let msg = parse_name_service(&status).unwrap();
        let entry = msg.entries().next().unwrap().unwrap();
        let node = entry.node_status().unwrap();
        assert_eq!(node.unit_id, Some([0x00, 0x1c, 0xc4, 0x10, 0x79, 0x0f]));
        let names: Vec<String> = node.names().map(|(name, _)| display_name(&name)).collect();
        assert_eq!(
            names,
            ["GUNNAR", "VIGILANT_GROUP", "GUNNAR", "VIGILANT_GROUP"]
        );
        assert_eq!(
            nbns_signals(&status),
            (vec![format!("*{}", "<00>".repeat(15))], Ok(()))
        );
    }

    #[test]
    fn every_prefix_and_mutation_is_safe() {
        let mut inputs = vec![
            hex(M57_QUERY),
            hex(EMIX_REGISTRATION),
            hex(NDPI_STATUS_RESPONSE),
        ];
        let mut status = hex("1234 8400 0000 0001 0000 0000");
        status.extend(encode(b"*", 0));
        status.extend(hex("00 0021 0001 00000000 0041 02"));
        status.extend(&encode(b"HOST", 0)[1..17]);
        status.extend(hex("0400"));
        status.extend(&encode(b"WG", 0)[1..17]);
        status.extend(hex("8400 0a0b0c0d0e0f"));
        status.extend([0u8; 20]);
        inputs.push(status);
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for input in inputs {
            for len in 0..=input.len() {
                let _ = nbns_signals(&input[..len]);
            }
            crate::testkit::mutations(&input, 3000, 4, &mut seed, |mutated| {
                let _ = nbns_signals(mutated);
                if let Ok(msg) = parse_name_service(mutated) {
                    for entry in msg.entries().flatten() {
                        let _ = entry.nb_addresses().count();
                        let _ = entry.node_status().map(|s| s.names().count());
                    }
                }
            });
        }
    }
}
