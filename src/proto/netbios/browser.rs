//! The NetBIOS datagram service (UDP 138) as far as the browser announcements it carries: the
//! datagram header and its two names, then an SMB (v1) Transaction request to the BROWSE or
//! LANMAN mailslot, then the browser command that names a server (host, domain and local master
//! announcements, election requests). tshark's reading of the SMB word and byte counts is
//! followed, wrap-arounds and throws included, so the same messages yield a name.
//!
//! It refuses to: reassemble fragmented datagrams, parse any other SMB command or mailslot, or
//! panic.

use std::net::Ipv4Addr;

use super::super::dhcp::text::{name_step_budget, tshark_ascii, write_fields_text};
use super::super::{ProtoError, ProtoResult};
use super::{name_len, need, read_name, u16_at, u32_at, NbName, Signal};

/// Datagram message types that carry user data (and so SMB).
pub mod datagram_type {
    pub const DIRECT_UNIQUE: u8 = 0x10;
    pub const DIRECT_GROUP: u8 = 0x11;
    pub const BROADCAST: u8 = 0x12;
}

/// One datagram service message.
#[derive(Debug, Clone)]
pub struct Datagram<'a> {
    pub msg_type: u8,
    pub flags: u8,
    pub id: u16,
    pub source_ip: Ipv4Addr,
    pub source_port: u16,
    /// Direct/broadcast datagrams only.
    pub source_name: Option<NbName>,
    pub destination_name: Option<NbName>,
    /// What follows the names (SMB for the browser); empty for other types.
    pub user_data: &'a [u8],
}

/// Reads the 10-byte header and, for direct and broadcast datagrams, the length, offset and the
/// two names (compression pointers counted from each name's own start, as tshark does).
pub fn parse_datagram(udp_payload: &[u8]) -> ProtoResult<Datagram<'_>> {
    read_datagram(udp_payload, true)
}

/// `parse_datagram` without decoding the two names (`source_name` and `destination_name` are
/// `None`): only their lengths are read, to find the user data. It fails exactly when
/// `parse_datagram` does, and finds the same user data.
pub fn parse_datagram_skipping_names(udp_payload: &[u8]) -> ProtoResult<Datagram<'_>> {
    read_datagram(udp_payload, false)
}

fn read_datagram(udp_payload: &[u8], decode_names: bool) -> ProtoResult<Datagram<'_>> {
    let bytes = udp_payload;
    need(bytes, 0, 10)?;
    let mut datagram = Datagram {
        msg_type: bytes.first().copied().unwrap_or_default(),
        flags: bytes.get(1).copied().unwrap_or_default(),
        id: u16_at(bytes, 2)?,
        source_ip: Ipv4Addr::from(u32_at(bytes, 4)?),
        source_port: u16_at(bytes, 8)?,
        source_name: None,
        destination_name: None,
        user_data: &[],
    };
    if matches!(
        datagram.msg_type,
        datagram_type::DIRECT_UNIQUE | datagram_type::DIRECT_GROUP | datagram_type::BROADCAST
    ) {
        need(bytes, 10, 4)?;
        let mut budget = name_step_budget(bytes.len());
        let name_at = |at: usize, budget: &mut usize| {
            if decode_names {
                read_name(bytes, at, at, budget).map(|(name, len)| (Some(name), len))
            } else {
                name_len(bytes, at, at, budget).map(|len| (None, len))
            }
        };
        let (source, source_len) = name_at(14, &mut budget)?;
        let destination_at = 14 + source_len;
        let (destination, destination_len) = name_at(destination_at, &mut budget)?;
        datagram.source_name = source;
        datagram.destination_name = destination;
        datagram.user_data = bytes
            .get(destination_at + destination_len..)
            .unwrap_or_default();
    }
    Ok(datagram)
}

/// Which mailslot a browser message came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mailslot {
    /// `\MAILSLOT\BROWSE` (the CIFS browser protocol).
    Browse,
    /// `\MAILSLOT\LANMAN` (the older LAN Manager announcements).
    Lanman,
}

/// Browser commands that name the sending server.
pub mod browser_command {
    pub const HOST_ANNOUNCEMENT: u8 = 1;
    pub const ELECTION_REQUEST: u8 = 8;
    pub const DOMAIN_ANNOUNCEMENT: u8 = 12;
    pub const LOCAL_MASTER_ANNOUNCEMENT: u8 = 15;
}

/// A browser message carrying a server name (tshark's `browser.server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrowserServer<'a> {
    pub mailslot: Mailslot,
    pub command: u8,
    /// The name bytes, NUL excluded; for a domain announcement this is the workgroup.
    pub server_name: &'a [u8],
    /// OS major/minor version of announcements, where present.
    pub os_version: Option<(u8, u8)>,
    /// Server type bits of announcements (workstation, server, domain controller, ...).
    pub server_type: Option<u32>,
}

impl BrowserServer<'_> {
    /// Appends tshark's `browser.server` value: BROWSE announcements decode the 16-byte field
    /// as code page 437, the rest as `ENC_ASCII` (bytes >= 0x80 become U+FFFD).
    pub fn write_value(&self, out: &mut String) {
        let cp437 = self.mailslot == Mailslot::Browse
            && matches!(
                self.command,
                browser_command::HOST_ANNOUNCEMENT
                    | browser_command::DOMAIN_ANNOUNCEMENT
                    | browser_command::LOCAL_MASTER_ANNOUNCEMENT
            );
        if cp437 {
            out.extend(self.server_name.iter().map(|&b| cp437_char(b)));
        } else {
            out.push_str(&tshark_ascii(self.server_name));
        }
    }
}

/// The browser message in a datagram's user data, if it is an SMB Transaction request to the
/// BROWSE or LANMAN mailslot carrying a command that names a server. `Ok(None)` for any other
/// SMB or non-SMB data; an error where tshark would throw before showing the name.
pub fn browser_server(user_data: &[u8]) -> ProtoResult<Option<BrowserServer<'_>>> {
    let Some((mailslot, data)) = mailslot_data(user_data)? else {
        return Ok(None);
    };
    let command = *data.first().ok_or(ProtoError::Incomplete)?;
    let stringz = |from: usize| -> ProtoResult<&[u8]> {
        let rest = data.get(from..).ok_or(ProtoError::Incomplete)?;
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ProtoError::Incomplete)?;
        Ok(rest.get(..len).unwrap_or_default())
    };
    let le32 = |from: usize| -> Option<u32> {
        let bytes: [u8; 4] = data.get(from..from + 4)?.try_into().ok()?;
        Some(u32::from_le_bytes(bytes))
    };
    let version = |from: usize| Some((*data.get(from)?, *data.get(from + 1)?));
    let server = match (mailslot, command) {
        (
            Mailslot::Browse,
            browser_command::HOST_ANNOUNCEMENT
            | browser_command::DOMAIN_ANNOUNCEMENT
            | browser_command::LOCAL_MASTER_ANNOUNCEMENT,
        ) => {
            // command, update count, periodicity (4), then a 16-byte NUL-padded name.
            let field = data.get(6..22).ok_or(ProtoError::Incomplete)?;
            BrowserServer {
                mailslot,
                command,
                server_name: field.split(|&b| b == 0).next().unwrap_or_default(),
                os_version: version(22),
                server_type: le32(24),
            }
        }
        (Mailslot::Browse, browser_command::ELECTION_REQUEST) => {
            // command, version, criteria (4), uptime (4), reserved (4), NUL-terminated name.
            need(data, 0, 10)?;
            BrowserServer {
                mailslot,
                command,
                server_name: stringz(14)?,
                os_version: None,
                server_type: None,
            }
        }
        (
            Mailslot::Lanman,
            browser_command::HOST_ANNOUNCEMENT
            | browser_command::DOMAIN_ANNOUNCEMENT
            | browser_command::LOCAL_MASTER_ANNOUNCEMENT,
        ) => {
            // command, update count, server type (4), OS major/minor, periodicity (2), name.
            need(data, 0, 10)?;
            BrowserServer {
                mailslot,
                command,
                server_name: stringz(10)?,
                os_version: version(6),
                server_type: le32(2),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(server))
}

/// SMB (v1) Transaction request to `\MAILSLOT\BROWSE*` or `\MAILSLOT\LANMAN*`: the mailslot and
/// its data bytes, following tshark's reading of the word and byte counts.
fn mailslot_data(smb: &[u8]) -> ProtoResult<Option<(Mailslot, &[u8])>> {
    const SMB_COM_TRANSACTION: u8 = 0x25;
    if smb.get(..4) != Some(b"\xffSMB") {
        return Ok(None);
    }
    need(smb, 0, 33)?;
    let command = smb.get(4).copied().unwrap_or_default();
    let flags = smb.get(9).copied().unwrap_or_default();
    let unicode = u16::from_le_bytes([
        smb.get(10).copied().unwrap_or_default(),
        smb.get(11).copied().unwrap_or_default(),
    ]) & 0x8000
        != 0;
    let word_count = smb.get(32).copied().unwrap_or_default();
    // Responses, secondary requests (8 words) and empty word blocks carry no mailslot name.
    if command != SMB_COM_TRANSACTION || flags & 0x80 != 0 || word_count == 8 || word_count == 0 {
        return Ok(None);
    }
    let le16 = |at: usize| -> ProtoResult<u16> {
        match smb.get(at..at + 2) {
            Some(&[a, b]) => Ok(u16::from_le_bytes([a, b])),
            _ => Err(ProtoError::Incomplete),
        }
    };
    let param_count = le16(51)?;
    let param_offset = le16(53)?;
    let data_count = le16(55)?;
    let data_offset = le16(57)?;
    let setup_count = *smb.get(59).ok_or(ProtoError::Incomplete)?;
    need(smb, 60, 1)?;
    let setup_start = 61usize;
    let mut offset = setup_start + usize::from(setup_count) * 2;
    let mut byte_count = le16(offset)?;
    offset += 2;
    if byte_count == 0 {
        return Ok(None);
    }
    // The transaction name, NUL-terminated (UTF-16LE after a pad byte to even offsets).
    let mut name = [0u8; 64];
    let mut name_len = 0usize;
    let name_size;
    if unicode {
        if offset % 2 == 1 {
            offset += 1;
            byte_count -= 1;
            if byte_count == 0 {
                return Ok(None);
            }
        }
        let mut at = offset;
        loop {
            let unit = match smb.get(at..at + 2) {
                Some(&[a, b]) => u16::from_le_bytes([a, b]),
                _ => return Err(ProtoError::Incomplete),
            };
            at += 2;
            if unit == 0 {
                break;
            }
            if let Some(slot) = name.get_mut(name_len) {
                *slot = u8::try_from(unit).unwrap_or(b'?');
                name_len += 1;
            }
        }
        name_size = at - offset;
    } else {
        let rest = smb.get(offset..).ok_or(ProtoError::Incomplete)?;
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(ProtoError::Incomplete)?;
        for (slot, &b) in name.iter_mut().zip(rest.get(..len).unwrap_or_default()) {
            *slot = b;
            name_len += 1;
        }
        name_size = len + 1;
    }
    let name = name.get(..name_len).unwrap_or_default();
    let mailslot = match name.strip_prefix(b"\\MAILSLOT\\") {
        Some(rest) if rest.starts_with(b"BROWSE") => Mailslot::Browse,
        Some(rest) if rest.starts_with(b"LANMAN") => Mailslot::Lanman,
        _ => return Ok(None),
    };
    // tshark walks padding, parameters and data against the byte count and gives up on the
    // transaction when the count is short.
    fn count_bytes(offset: &mut usize, byte_count: &mut u16, len: usize) {
        *offset += len;
        // A 16-bit C counter: a name longer than the byte count wraps it around, and tshark
        // then finds plenty of bytes for the data.
        *byte_count = byte_count.wrapping_sub(len as u16);
    }
    count_bytes(&mut offset, &mut byte_count, name_size);
    if usize::from(param_offset) > offset {
        let pad = (usize::from(param_offset) - offset).min(usize::from(byte_count));
        // tshark shows the padding as an item, which throws past the message.
        need(smb, offset, pad)?;
        count_bytes(&mut offset, &mut byte_count, pad);
    }
    if param_count > 0 {
        if byte_count < param_count {
            return Ok(None);
        }
        count_bytes(&mut offset, &mut byte_count, usize::from(param_count));
    }
    if usize::from(data_offset) > offset {
        let pad = (usize::from(data_offset) - offset).min(usize::from(byte_count));
        need(smb, offset, pad)?;
        count_bytes(&mut offset, &mut byte_count, pad);
    }
    if data_count == 0 || byte_count < data_count {
        return Ok(None);
    }
    // The mailslot header (opcode, priority, class in the setup words) must be whole when
    // there are setup words at all.
    if setup_count != 0 && setup_count < 3 {
        return Err(ProtoError::Invalid("SMB mailslot setup words missing"));
    }
    let data_start = usize::from(data_offset);
    if data_start > smb.len() {
        return Err(ProtoError::Incomplete);
    }
    let data_end = (data_start + usize::from(data_count)).min(smb.len());
    Ok(Some((
        mailslot,
        smb.get(data_start..data_end).unwrap_or_default(),
    )))
}

/// Code page 437 as Wireshark maps it: ASCII below 0x80, its table above.
fn cp437_char(byte: u8) -> char {
    const HIGH: [u16; 128] = [
        0x00c7, 0x00fc, 0x00e9, 0x00e2, 0x00e4, 0x00e0, 0x00e5, 0x00e7, 0x00ea, 0x00eb, 0x00e8,
        0x00ef, 0x00ee, 0x00ec, 0x00c4, 0x00c5, 0x00c9, 0x00e6, 0x00c6, 0x00f4, 0x00f6, 0x00f2,
        0x00fb, 0x00f9, 0x00ff, 0x00d6, 0x00dc, 0x00a2, 0x00a3, 0x00a5, 0x20a7, 0x0192, 0x00e1,
        0x00ed, 0x00f3, 0x00fa, 0x00f1, 0x00d1, 0x00aa, 0x00ba, 0x00bf, 0x2310, 0x00ac, 0x00bd,
        0x00bc, 0x00a1, 0x00ab, 0x00bb, 0x2591, 0x2592, 0x2593, 0x2502, 0x2524, 0x2561, 0x2562,
        0x2556, 0x2555, 0x2563, 0x2551, 0x2557, 0x255d, 0x255c, 0x255b, 0x2510, 0x2514, 0x2534,
        0x252c, 0x251c, 0x2500, 0x253c, 0x255e, 0x255f, 0x255a, 0x2554, 0x2569, 0x2566, 0x2560,
        0x2550, 0x256c, 0x2567, 0x2568, 0x2564, 0x2565, 0x2559, 0x2558, 0x2552, 0x2553, 0x256b,
        0x256a, 0x2518, 0x250c, 0x2588, 0x2584, 0x258c, 0x2590, 0x2580, 0x03b1, 0x00df, 0x0393,
        0x03c0, 0x03a3, 0x03c3, 0x00b5, 0x03c4, 0x03a6, 0x0398, 0x03a9, 0x03b4, 0x221e, 0x03c6,
        0x03b5, 0x2229, 0x2261, 0x00b1, 0x2265, 0x2264, 0x2320, 0x2321, 0x00f7, 0x2248, 0x00b0,
        0x2219, 0x00b7, 0x221a, 0x207f, 0x00b2, 0x25a0, 0x00a0,
    ];
    if byte < 0x80 {
        return char::from(byte);
    }
    HIGH.get(usize::from(byte - 0x80))
        .and_then(|&code| char::from_u32(u32::from(code)))
        .unwrap_or('\u{FFFD}')
}

/// Calls `emit` with the browser server name of a datagram service payload, if it carries one
/// (an empty name is skipped: the ground truth has no row for it).
pub fn for_each_datagram_signal(
    udp_payload: &[u8],
    mut emit: impl FnMut(Signal, &str),
) -> ProtoResult<()> {
    let datagram = parse_datagram(udp_payload)?;
    if let Some(server) = browser_server(datagram.user_data)? {
        let mut value = String::new();
        server.write_value(&mut value);
        if !value.is_empty() {
            let mut text = String::new();
            write_fields_text(&value, &mut text);
            emit(Signal::BrowserServer, &text);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    fn browser_signals(payload: &[u8]) -> (Vec<String>, ProtoResult<()>) {
        let mut out = Vec::new();
        let result = for_each_datagram_signal(payload, |_, value| out.push(value.to_string()));
        (out, result)
    }

    /// mercury/emix.pcap frames 614 (host announcement), 1883 (election request) and 1936
    /// (domain announcement), UDP payloads.
    const EMIX_HOST_ANNOUNCEMENT: &str = "\
        1102f613c0a87a91008a00bb0000204648454a454f45454550464846444448434e4444434143414341434143\
        4143410020464845504643454c45484643455046464641434143414341434143414341424e00ff534d422500\
        000000000000000000000000000000000000000000000000000011000021000000000000000000e803000000\
        000000000021005600030001000000020032005c4d41494c534c4f545c42524f575345000100005307005749\
        4e444f5753372d330000000000000601031001000f0155aa00";
    const EMIX_ELECTION: &str = "\
        1102f1d4c0a87a91008a00b30000204648454a454f45454550464846444448434e4444434143414341434143\
        414141002046444445434e454945504648464545504341434143414341434143414341424f00ff534d422500\
        000000000000000000000000000000000000000000000000000011000019000000000000000000e803000000\
        00000000001900560003000100010002002a005c4d41494c534c4f545c42524f575345000801200f01102967\
        00000000000057494e444f5753372d3300";
    const EMIX_DOMAIN_ANNOUNCEMENT: &str = "\
        1102f1dfc0a87a91008a00c50000204648454a454f45454550464846444448434e4444434143414341434143\
        41414100204142414346504650454e4644454346434550464846444546465046504143414200ff534d422500\
        00000000000000000000000000000000000000000000000000001100002b000000000000000000e803000000\
        00000000002b00560003000100010002003c005c4d41494c534c4f545c42524f575345000c0060ea00005334\
        2d484f57544f0000000000000000030a00100080fe07000057494e444f5753372d3300";

    #[test]
    fn emix_browser_messages() {
        let payload = hex(EMIX_HOST_ANNOUNCEMENT);
        let datagram = parse_datagram(&payload).unwrap();
        assert_eq!(datagram.msg_type, datagram_type::DIRECT_GROUP);
        assert_eq!(datagram.source_ip, Ipv4Addr::new(192, 168, 122, 145));
        let mut source = String::new();
        datagram
            .source_name
            .as_ref()
            .unwrap()
            .write_value(&mut source);
        assert_eq!(source, "WINDOWS7-3<20>");
        let server = browser_server(datagram.user_data).unwrap().unwrap();
        assert_eq!(server.mailslot, Mailslot::Browse);
        assert_eq!(server.command, browser_command::HOST_ANNOUNCEMENT);
        assert_eq!(server.server_name, b"WINDOWS7-3");
        assert_eq!(server.os_version, Some((6, 1)));
        assert_eq!(
            browser_signals(&payload),
            (vec!["WINDOWS7-3".to_string()], Ok(()))
        );

        let election = hex(EMIX_ELECTION);
        let datagram = parse_datagram(&election).unwrap();
        let server = browser_server(datagram.user_data).unwrap().unwrap();
        assert_eq!(server.command, browser_command::ELECTION_REQUEST);
        assert_eq!(browser_signals(&election).0, ["WINDOWS7-3"]);

        let domain = hex(EMIX_DOMAIN_ANNOUNCEMENT);
        assert_eq!(browser_signals(&domain).0, ["S4-HOWTO"]);
    }

    #[test]
    fn lanman_and_cp437() {
        // The host announcement with its mailslot renamed to LANMAN and a LANMAN body: command,
        // update count, server type, OS version, periodicity, NUL-terminated name (synthetic:
        // the corpus has no LANMAN announcement).
        let mut payload = hex(EMIX_HOST_ANNOUNCEMENT);
        let at = payload.windows(6).position(|w| w == b"BROWSE").unwrap();
        payload[at..at + 6].copy_from_slice(b"LANMAN");
        let data_at = at + 7;
        let body = hex("01 00 03000000 0600 b400 4c414e00");
        payload.truncate(data_at);
        payload.extend(&body);
        let smb = payload.windows(4).position(|w| w == b"\xffSMB").unwrap();
        // data count (at SMB offset 55) and byte count follow the new body.
        payload[smb + 55..smb + 57].copy_from_slice(&(body.len() as u16).to_le_bytes());
        let server = browser_server(parse_datagram(&payload).unwrap().user_data)
            .unwrap()
            .unwrap();
        assert_eq!(server.mailslot, Mailslot::Lanman);
        assert_eq!(server.server_name, b"LAN");
        assert_eq!(server.os_version, Some((6, 0)));
        // BROWSE announcement names are code page 437: 0x80 is a C cedilla.
        let mut payload = hex(EMIX_HOST_ANNOUNCEMENT);
        let name_at = payload
            .windows(10)
            .position(|w| w == b"WINDOWS7-3")
            .unwrap();
        payload[name_at] = 0x80;
        assert_eq!(browser_signals(&payload).0, ["\u{c7}INDOWS7-3"]);
    }

    /// Skipping the names finds what reading them finds: the same user data, or an error
    /// when reading fails, on every prefix of the three datagrams, on each with bytes changed
    /// (names cut, pointers, other label types), and on names with pointers and bit strings.
    #[test]
    fn skipping_the_names_reads_the_same_as_decoding_them() {
        let same = |payload: &[u8]| {
            let read = parse_datagram(payload);
            let skipped = parse_datagram_skipping_names(payload);
            match (&read, &skipped) {
                (Ok(read), Ok(skipped)) => {
                    assert_eq!(read.user_data, skipped.user_data, "{payload:02x?}");
                    assert_eq!(read.source_ip, skipped.source_ip);
                    assert_eq!(read.msg_type, skipped.msg_type);
                    assert!(skipped.source_name.is_none() && skipped.destination_name.is_none());
                }
                (Err(_), Err(_)) => {}
                _ => panic!("{read:?} against {skipped:?} for {payload:02x?}"),
            }
            read.is_ok()
        };
        let inputs = [
            hex(EMIX_HOST_ANNOUNCEMENT),
            hex(EMIX_ELECTION),
            hex(EMIX_DOMAIN_ANNOUNCEMENT),
        ];
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let (mut ok, mut failed) = (0, 0);
        for input in &inputs {
            for len in 0..=input.len() {
                same(&input[..len]);
            }
            // Changes only in the names (from byte 14 on, the source name's length byte).
            let names_end = 14 + 34 + 34;
            for _ in 0..4000 {
                let mut mutated = input.clone();
                for _ in 0..2 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = 14 + (seed as usize) % (names_end - 14);
                    mutated[at] = match seed >> 60 {
                        0..=3 => 0xc0 | (seed >> 40) as u8 & 0x3f,
                        4 => 0x41,
                        5 => 0x80,
                        6..=8 => (seed >> 32) as u8 & 0x3f,
                        9 => 0,
                        _ => (seed >> 32) as u8,
                    };
                }
                if same(&mutated) {
                    ok += 1;
                } else {
                    failed += 1;
                }
            }
        }
        // The changes make both kinds of outcome, many times.
        assert!(ok > 1000 && failed > 500, "{ok} read, {failed} refused");
        // A destination name that is a pointer back to the source name, and one with a
        // bit-string label.
        let mut pointer = inputs[0][..14 + 34].to_vec();
        pointer.extend([0xc0, 0x00]);
        pointer.extend(&inputs[0][14 + 68..]);
        assert!(same(&pointer));
        let mut bits = inputs[0][..14 + 34].to_vec();
        bits.extend([0x41, 0x08, 0xab, 0x00]);
        bits.extend(&inputs[0][14 + 68..]);
        same(&bits);
    }

    #[test]
    fn every_prefix_and_mutation_is_safe() {
        let inputs = [
            hex(EMIX_HOST_ANNOUNCEMENT),
            hex(EMIX_ELECTION),
            hex(EMIX_DOMAIN_ANNOUNCEMENT),
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for input in inputs {
            for len in 0..=input.len() {
                let _ = browser_signals(&input[..len]);
            }
            crate::testkit::mutations(&input, 3000, 4, &mut seed, |mutated| {
                let _ = browser_signals(mutated);
            });
        }
    }
}
