//! Google QUIC, the pre-IETF protocol Chrome spoke to Google until 2021: the cleartext CHLO
//! (client hello) of Q025-Q046, whose `SNI` tag names the server, and the gQUIC frames inside
//! the decrypted Initials of Q050, T050 and T051 (a CRYPTO frame carrying a CHLO for Q050, a
//! TLS ClientHello for T05x). Layouts follow Chromium's `quic_framer.cc` as Wireshark's
//! `packet-gquic.c` dissects them:
//!
//! * Q043 and before: public flags (0x01 version, 0x08 8-byte connection ID, 0x30 packet
//!   number length), connection ID, version, packet number, a 12-byte message authentication
//!   hash (the "null encryption"), a private flags byte before Q034, then frames. Integers
//!   are little-endian before Q039, big-endian after.
//! * Q044-Q049: an IETF-looking long header whose one byte holds both connection ID lengths
//!   (4 bits each, 0 or 3 + n), then the packet number, the hash, frames.
//! * A CHLO is a tag-value message: `CHLO`, entry count (u16 LE), 2 bytes padding, entries
//!   of tag (4 bytes) and end offset (u32 LE), then the values.
//!
//! It refuses: packets without a version (a client sends its version until the server
//! answers, and without it the layout is unknown), server packets, encrypted packets,
//! frames it cannot size (it stops there), CHLO messages with over 128 entries (Chromium's
//! own limit) or offsets that go backwards.

use super::frames::FrameCounts;
use super::wire::Reader;
use super::{PacketType, Peek, Version};
use crate::proto::{ProtoError, ProtoResult};

/// Hash of the null-encrypted cleartext packets.
const NULL_HASH_LEN: usize = 12;
/// gQUIC's crypto stream, which carries the CHLO before Q048.
const CRYPTO_STREAM_ID: u64 = 1;
/// Chromium's `kMaxEntries` for one handshake message.
const MAX_CHLO_ENTRIES: usize = 128;

const MESSAGE_CHLO: [u8; 4] = *b"CHLO";
const TAG_SNI: [u8; 4] = *b"SNI\0";
const TAG_UAID: [u8; 4] = *b"UAID";

/// What a gQUIC client hello says in the clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chlo {
    pub version: Version,
    /// The `SNI` tag, decoded as tshark does (ASCII kept, bytes >= 0x80 become U+FFFD).
    pub sni: Option<String>,
    /// The `UAID` tag: Chrome's user agent id (`Chrome/… Windows NT 10.0; Win64; x64`).
    pub uaid: Option<String>,
}

/// A cleartext packet's header, read up to its frames.
struct ClearHeader<'a> {
    version: Version,
    number: u32,
    dcid: &'a [u8],
    scid: &'a [u8],
    pkn_len: usize,
    /// Integers in frames are big-endian from Q039 on.
    big_endian: bool,
    /// The bytes after the header: hash, private flags, frames.
    payload: &'a [u8],
}

fn parse_clear_header(datagram: &[u8]) -> ProtoResult<ClearHeader<'_>> {
    let mut reader = Reader::new(datagram);
    let first = reader.u8()?;
    let (version, dcid, scid, pkn_len);
    if first & 0x80 == 0 {
        // Public header, Q043 and before.
        if first & 0x01 == 0 {
            return Err(ProtoError::Invalid("gQUIC packet without its version"));
        }
        if first & 0x02 != 0 {
            return Err(ProtoError::Invalid("gQUIC public reset"));
        }
        if first & 0x08 == 0 {
            return Err(ProtoError::Invalid("gQUIC packet without a connection ID"));
        }
        dcid = reader.bytes(8)?;
        scid = &[][..];
        version = Version::from_wire(reader.u32_be()?);
        pkn_len = match (first >> 4) & 0x03 {
            0 => 1,
            1 => 2,
            2 => 4,
            _ => 6,
        };
    } else {
        // Q044-Q049 long header.
        version = Version::from_wire(reader.u32_be()?);
        if version.long_packet_type(first) != PacketType::Initial {
            return Err(ProtoError::Invalid("gQUIC long header other than Initial"));
        }
        let lengths = reader.u8()?;
        let cid_len = |nibble: u8| {
            if nibble == 0 {
                0
            } else {
                usize::from(nibble) + 3
            }
        };
        dcid = reader.bytes(cid_len(lengths >> 4))?;
        scid = reader.bytes(cid_len(lengths & 0x0f))?;
        pkn_len = usize::from(first & 0x03) + 1;
    }
    let number = match version.google_number() {
        Some(n) if version.is_gquic_cleartext() => n,
        _ => return Err(ProtoError::Invalid("not a cleartext Google QUIC version")),
    };
    // The public header cannot say Q044+, nor the long header Q043-.
    if (first & 0x80 != 0) != (number >= 44) {
        return Err(ProtoError::Invalid(
            "gQUIC header form does not match its version",
        ));
    }
    reader.skip(pkn_len)?;
    Ok(ClearHeader {
        version,
        number,
        dcid,
        scid,
        pkn_len,
        big_endian: number >= 39,
        payload: reader.rest(),
    })
}

/// [`super::peek`] for gQUIC: a cleartext client packet's header.
pub(crate) fn peek(datagram: &[u8]) -> Option<Peek<'_>> {
    let header = parse_clear_header(datagram).ok()?;
    Some(Peek {
        version: header.version,
        packet_type: PacketType::GoogleCleartext,
        dcid: header.dcid,
        scid: header.scid,
    })
}

/// The CHLO in a cleartext Google QUIC packet (Q025-Q046, version carried, first packets of
/// a connection): `Ok(None)` when the packet holds no CHLO (an ACK-only packet, a CHLO that
/// does not start in this packet), `Invalid` when it is not such a packet. The SNI is not
/// checked against anything; a CHLO without SNI (a server reached by address) is `Some` with
/// `sni: None`.
pub fn gquic_chlo(datagram: &[u8]) -> ProtoResult<Option<Chlo>> {
    let header = parse_clear_header(datagram)?;
    let mut reader = Reader::new(header.payload);
    reader.skip(NULL_HASH_LEN)?;
    if header.number < 34 {
        // Private flags: FEC groups and FEC packets (long gone) would change the layout.
        if reader.u8()? & 0x06 != 0 {
            return Ok(None);
        }
    }
    let mut found = None;
    let mut on_stream = |stream_id: u64, data: &[u8]| {
        if found.is_none() && stream_id == CRYPTO_STREAM_ID && data.starts_with(&MESSAGE_CHLO) {
            found = Some(parse_chlo_message(header.version, data));
        }
    };
    // A frame the walk cannot size ends it; a CHLO seen before counts.
    let walked = walk_frames(&mut reader, &header, &mut on_stream);
    match found {
        Some(chlo) => chlo.map(Some),
        None => walked.map(|_| None),
    }
}

/// The SNI tag of the cleartext CHLO in `datagram` (see [`gquic_chlo`]).
pub fn gquic_chlo_sni(datagram: &[u8]) -> ProtoResult<Option<String>> {
    Ok(gquic_chlo(datagram)?.and_then(|chlo| chlo.sni))
}

/// Walks cleartext gQUIC frames, handing STREAM frame data to `on_stream(stream_id, data)`.
fn walk_frames(
    reader: &mut Reader<'_>,
    header: &ClearHeader<'_>,
    on_stream: &mut dyn FnMut(u64, &[u8]),
) -> ProtoResult<()> {
    while !reader.is_empty() {
        let frame = reader.u8()?;
        match frame {
            0x00 => skip_padding(reader)?,
            0x06 => {
                // STOP_WAITING: entropy byte before Q034, then a packet number delta.
                let entropy = usize::from(header.number < 34);
                reader.skip(entropy + header.pkn_len)?;
            }
            0x07 => {} // PING
            0x40..=0x7f => skip_ack(reader, frame, header.number)?,
            0x80..=0xff => {
                let id_len = usize::from(frame & 0x03) + 1;
                let stream_id = if header.big_endian {
                    reader.uint_be(id_len)?
                } else {
                    reader.uint_le(id_len)?
                };
                let offset_len = match (frame >> 2) & 0x07 {
                    0 => 0,
                    n => usize::from(n) + 1,
                };
                reader.skip(offset_len)?;
                let data = if frame & 0x20 != 0 {
                    let len = if header.big_endian {
                        reader.u16_be()?
                    } else {
                        reader.u16_le()?
                    };
                    reader.bytes(usize::from(len))?
                } else {
                    let rest = reader.rest();
                    reader.skip(rest.len())?;
                    rest
                };
                on_stream(stream_id, data);
            }
            _ => return Err(ProtoError::Invalid("gQUIC frame type not walked")),
        }
    }
    Ok(())
}

/// gQUIC PADDING: zeros up to the end of the packet, or up to the next frame in the versions
/// that allow frames after it.
fn skip_padding(reader: &mut Reader<'_>) -> ProtoResult<()> {
    let zeros = reader.rest().iter().take_while(|&&b| b == 0).count();
    reader.skip(zeros)
}

/// Steps over an ACK frame of the Q034+ layout (`01NULLMM`: N = has blocks, LL = largest
/// acked length, MM = block length length, each 1, 2, 4 or 6 bytes). Older layouts are not
/// walked.
fn skip_ack(reader: &mut Reader<'_>, frame: u8, number: u32) -> ProtoResult<()> {
    if number < 34 {
        return Err(ProtoError::Invalid("gQUIC ACK frame before Q034"));
    }
    let width = |bits: u8| match bits & 0x03 {
        0 => 1,
        1 => 2,
        2 => 4,
        _ => 6,
    };
    let block_len = width(frame);
    reader.skip(width(frame >> 2))?; // largest acked
    reader.skip(2)?; // ack delay
    let blocks = if frame & 0x20 != 0 { reader.u8()? } else { 0 };
    reader.skip(block_len)?; // first block
    for _ in 0..blocks {
        reader.skip(1 + block_len)?; // gap, block length
    }
    let timestamps = reader.u8()?;
    if timestamps > 0 {
        reader.skip(1 + 4)?;
        reader.skip((usize::from(timestamps) - 1) * (1 + 2))?;
    }
    Ok(())
}

/// Walks the frames of a decrypted Q050/T050/T051 Initial: gQUIC frame types, with CRYPTO
/// frames (0x08, varint offset and length) handed to `on_crypto`.
pub(crate) fn walk_google_initial_frames(
    version: Version,
    plaintext: &[u8],
    on_crypto: &mut dyn FnMut(u64, &[u8]),
) -> ProtoResult<FrameCounts> {
    let number = version.google_number().unwrap_or(50);
    let mut reader = Reader::new(plaintext);
    let mut counts = FrameCounts::default();
    while !reader.is_empty() {
        let frame = reader.u8()?;
        match frame {
            0x00 => skip_padding(&mut reader)?,
            0x07 => {}
            0x08 => {
                let offset = reader.varint()?;
                let len = reader.varint()?;
                let data = reader.bytes_u64(len)?;
                if offset.checked_add(len).is_none_or(|end| end >= 1 << 62) {
                    return Err(ProtoError::Invalid("CRYPTO frame past 2^62"));
                }
                on_crypto(offset, data);
                counts.crypto += 1;
                counts.crypto_bytes += data.len();
            }
            0x40..=0x7f => skip_ack(&mut reader, frame, number)?,
            _ => return Err(ProtoError::Invalid("gQUIC frame type not walked")),
        }
    }
    Ok(counts)
}

/// Reads a CHLO tag-value message from its first byte; bytes after it are ignored.
/// `Incomplete` while the entries, or the SNI and UAID values, are not all there yet.
pub(crate) fn parse_chlo_message(version: Version, message: &[u8]) -> ProtoResult<Chlo> {
    let mut reader = Reader::new(message);
    let tag: [u8; 4] = reader.array()?;
    if tag != MESSAGE_CHLO {
        return Err(ProtoError::Invalid("not a gQUIC CHLO message"));
    }
    let entries = usize::from(reader.u16_le()?);
    if entries > MAX_CHLO_ENTRIES {
        return Err(ProtoError::Invalid("gQUIC CHLO with over 128 entries"));
    }
    reader.skip(2)?;
    let table = reader.bytes(entries * 8)?;
    let values = reader.rest();
    let mut chlo = Chlo {
        version,
        sni: None,
        uaid: None,
    };
    let mut start = 0usize;
    for entry in table.chunks_exact(8) {
        let mut entry = Reader::new(entry);
        let tag: [u8; 4] = entry.array()?;
        let end = usize::try_from(entry.u32_le()?).map_err(|_| ProtoError::Incomplete)?;
        if end < start {
            return Err(ProtoError::Invalid("gQUIC CHLO offsets go backwards"));
        }
        let field = match tag {
            TAG_SNI => &mut chlo.sni,
            TAG_UAID => &mut chlo.uaid,
            _ => {
                start = end;
                continue;
            }
        };
        let value = values.get(start..end).ok_or(ProtoError::Incomplete)?;
        *field = Some(ascii_lossy(value));
        start = end;
    }
    Ok(chlo)
}

/// ASCII as is, every byte >= 0x80 as U+FFFD (tshark's rendering of these string tags).
fn ascii_lossy(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii() {
                char::from(b)
            } else {
                '\u{FFFD}'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::quic::wire::hex;

    /// A CHLO message: SNI `www.example.org`, UAID `Chrome/90`, and a PAD tag before them.
    fn chlo_message() -> Vec<u8> {
        let mut message = b"CHLO".to_vec();
        message.extend([3, 0, 0, 0]);
        message.extend(b"PAD\0");
        message.extend(4u32.to_le_bytes());
        message.extend(b"SNI\0");
        message.extend(19u32.to_le_bytes());
        message.extend(b"UAID");
        message.extend(28u32.to_le_bytes());
        message.extend(b"----www.example.orgChrome/90");
        message
    }

    #[test]
    fn chlo_message_tags() {
        let chlo = parse_chlo_message(Version::Google(0x5130_3530), &chlo_message()).unwrap();
        assert_eq!(chlo.sni.as_deref(), Some("www.example.org"));
        assert_eq!(chlo.uaid.as_deref(), Some("Chrome/90"));
        let message = chlo_message();
        for cut in 0..message.len() {
            assert_eq!(
                parse_chlo_message(Version::Google(0), &message[..cut]),
                Err(ProtoError::Incomplete),
                "cut {cut}"
            );
        }
        let mut backwards = chlo_message();
        backwards[20] = 2; // SNI ends before PAD does
        backwards[12] = 9;
        assert_eq!(
            parse_chlo_message(Version::Google(0), &backwards),
            Err(ProtoError::Invalid("gQUIC CHLO offsets go backwards"))
        );
        let mut many = chlo_message();
        many[4] = 129;
        assert_eq!(
            parse_chlo_message(Version::Google(0), &many),
            Err(ProtoError::Invalid("gQUIC CHLO with over 128 entries"))
        );
        assert_eq!(
            parse_chlo_message(Version::Google(0), b"SHLO\0\0\0\0"),
            Err(ProtoError::Invalid("not a gQUIC CHLO message"))
        );
    }

    /// A Q043 client packet: public header, hash, STREAM frame on stream 1 with the CHLO.
    fn q043_packet(message: &[u8]) -> Vec<u8> {
        let mut packet = hex("0d a4b104dcf2fe28fa 51303433 01");
        packet.extend([0x11; NULL_HASH_LEN]);
        packet.push(0xa0); // STREAM, data length present, no offset, 1-byte id
        packet.push(0x01);
        packet.extend((message.len() as u16).to_be_bytes());
        packet.extend(message);
        packet.extend([0; 20]); // PADDING
        packet
    }

    #[test]
    fn q043_public_header_chlo() {
        let packet = q043_packet(&chlo_message());
        assert_eq!(gquic_chlo_sni(&packet), Ok(Some("www.example.org".into())));
        let peeked = peek(&packet).unwrap();
        assert_eq!(
            peeked.version,
            Version::Google(u32::from_be_bytes(*b"Q043"))
        );
        assert_eq!(peeked.dcid, hex("a4b104dcf2fe28fa"));
        for cut in 0..packet.len() {
            let _ = gquic_chlo(&packet[..cut]);
        }
        // No version flag: no layout.
        let mut no_version = packet.clone();
        no_version[0] = 0x0c;
        assert!(gquic_chlo(&no_version).is_err());
        // An IETF version in a public header is not gQUIC.
        let mut ietf = packet;
        ietf[9..13].copy_from_slice(&[0, 0, 0, 1]);
        assert!(gquic_chlo(&ietf).is_err());
    }

    #[test]
    fn q046_long_header_chlo_after_ack_and_ping() {
        // Long header, Initial, 4-byte packet number, DCID 8 bytes, no SCID.
        let mut packet = hex("c3 51303436 50 eacfe6e706df272d 00000004");
        packet.extend([0x22; NULL_HASH_LEN]);
        packet.extend(hex("40 05 0000 01 00")); // ACK: largest 5, delay, first block, no timestamps
        packet.push(0x07); // PING
        packet.extend(hex("a4 01 0400")); // STREAM id 1, 2-byte offset 0x0400, data length
        let message = chlo_message();
        packet.extend((message.len() as u16).to_be_bytes());
        packet.extend(&message);
        assert_eq!(gquic_chlo_sni(&packet), Ok(Some("www.example.org".into())));
        assert_eq!(peek(&packet).unwrap().dcid, hex("eacfe6e706df272d"));
        // A Q046 version in a public header is refused.
        let mut wrong_form = q043_packet(&message);
        wrong_form[12] = b'6';
        assert!(gquic_chlo(&wrong_form).is_err());
    }

    #[test]
    fn q035_little_endian_and_q025_private_flags() {
        let message = chlo_message();
        let mut q035 = hex("0d 9370e15e7c446d08 51303335 01");
        q035.extend([0x33; NULL_HASH_LEN]);
        q035.extend(hex("a0 01"));
        q035.extend((message.len() as u16).to_le_bytes());
        q035.extend(&message);
        assert_eq!(gquic_chlo_sni(&q035), Ok(Some("www.example.org".into())));
        let mut q025 = hex("0d 49bee2d3f0edccd6 51303235 01");
        q025.extend([0x44; NULL_HASH_LEN]);
        q025.push(0x00); // private flags
        q025.extend(hex("a0 01"));
        q025.extend((message.len() as u16).to_le_bytes());
        q025.extend(&message);
        assert_eq!(gquic_chlo_sni(&q025), Ok(Some("www.example.org".into())));
    }

    #[test]
    fn google_initial_frames() {
        let plaintext = hex("40 01 08c5 01 00  07  08 00 03 aabbcc  08 03 01 dd  0000");
        let mut frames = Vec::new();
        let counts = walk_google_initial_frames(
            Version::Google(u32::from_be_bytes(*b"T051")),
            &plaintext,
            &mut |offset, data| frames.push((offset, data.to_vec())),
        );
        assert_eq!(counts.map(|c| c.crypto), Ok(2));
        assert_eq!(frames, vec![(0, hex("aabbcc")), (3, hex("dd"))]);
        let stream = hex("80 01 aa");
        let result = walk_google_initial_frames(Version::Google(0), &stream, &mut |_, _| {});
        assert!(result.is_err());
    }
}
