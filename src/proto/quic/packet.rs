//! Long-header packets in a UDP datagram: the header fields (RFC 8999 invariants, RFC 9000
//! §17.2, RFC 9369 §3.2 for v2's packet type bits), the walk over coalesced packets by their
//! Length field, and the removal of Initial packet protection (RFC 9001 §5.3-5.4) into a
//! buffer the caller owns.
//!
//! It refuses: connection IDs over 20 bytes in versions that forbid them, Length fields
//! running past the datagram (`Incomplete`: cut by the snap length, or lying), packets too
//! short to hold a header protection sample. It does not reconstruct packet numbers beyond
//! their truncated value (a client's first Initials are numbered from 0), and it does not
//! look inside short-header packets.

use super::keys::{InitialKeys, SAMPLE_LEN, TAG_LEN};
use super::wire::Reader;
use super::{PacketType, Version};
use crate::proto::{ProtoError, ProtoResult};

/// Largest connection ID of every version this module knows (RFC 9000 §17.2).
pub const MAX_CID_LEN: usize = 20;

/// One long-header packet, borrowed from its datagram; nothing decrypted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LongPacket<'a> {
    pub(crate) version: Version,
    pub(crate) packet_type: PacketType,
    pub(crate) dcid: &'a [u8],
    pub(crate) scid: &'a [u8],
    /// Retry token of an Initial (empty when none).
    pub(crate) token: &'a [u8],
    /// The whole packet: header, protected packet number and payload. For packets without a
    /// Length field (Retry, Version Negotiation, unknown versions) the rest of the datagram.
    pub(crate) bytes: &'a [u8],
    /// Offset of the packet number in `bytes` (0 when the packet has none).
    pub(crate) pn_offset: usize,
}

/// The fields of a long header up to the Source Connection ID: all that [`super::peek`]
/// needs, and all there is for versions whose layout is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    pub(crate) version: Version,
    pub(crate) packet_type: PacketType,
    pub(crate) dcid: &'a [u8],
    pub(crate) scid: &'a [u8],
    /// Offset of the first byte after the Source Connection ID.
    pub(crate) end: usize,
}

/// Reads the start of a long header (RFC 8999 invariants, plus the packet type of versions
/// that RFC 9000's layout covers). A snap length that cuts the packet after the connection
/// IDs does not matter here.
pub(crate) fn parse_header(datagram: &[u8]) -> ProtoResult<Header<'_>> {
    let mut reader = Reader::new(datagram);
    let first = reader.u8()?;
    if first & 0x80 == 0 {
        return Err(ProtoError::Invalid("not a long-header packet"));
    }
    let version = Version::from_wire(reader.u32_be()?);
    if version.is_gquic_cleartext() {
        return Err(ProtoError::Invalid("Google QUIC header before Q050"));
    }
    let dcid_len = usize::from(reader.u8()?);
    let dcid = reader.bytes(dcid_len)?;
    let scid_len = usize::from(reader.u8()?);
    let scid = reader.bytes(scid_len)?;
    let long_cids = dcid_len > MAX_CID_LEN || scid_len > MAX_CID_LEN;
    let packet_type = if version == Version::Unknown(0) {
        PacketType::VersionNegotiation
    } else if !version.has_ietf_long_header() || (version.is_reserved() && long_cids) {
        // Only the invariants are known: no type, no length, nothing after it can be found.
        // (A reserved version is laid out as the version whose keys it uses, whose connection
        // IDs are at most 20 bytes: with longer ones it is some other layout.)
        PacketType::Other
    } else if long_cids {
        return Err(ProtoError::Invalid("connection ID longer than 20 bytes"));
    } else {
        version.long_packet_type(first)
    };
    Ok(Header {
        version,
        packet_type,
        dcid,
        scid,
        end: reader.pos(),
    })
}

/// Reads the long-header packet at the start of `datagram`; returns it and what follows it
/// in the datagram (the next coalesced packet, or padding).
pub(crate) fn parse_long(datagram: &[u8]) -> ProtoResult<(LongPacket<'_>, &[u8])> {
    let header = parse_header(datagram)?;
    let Header {
        version,
        packet_type,
        dcid,
        scid,
        end,
    } = header;
    let mut reader = Reader::new(datagram);
    reader.skip(end)?;
    if !matches!(
        packet_type,
        PacketType::Initial | PacketType::ZeroRtt | PacketType::Handshake
    ) {
        // Retry, Version Negotiation, unknown layouts: no Length, they fill the datagram.
        let packet = LongPacket {
            version,
            packet_type,
            dcid,
            scid,
            token: &[],
            bytes: datagram,
            pn_offset: 0,
        };
        return Ok((packet, &[][..]));
    }
    let mut token: &[u8] = &[];
    if packet_type == PacketType::Initial {
        let token_len = reader.varint()?;
        token = reader.bytes_u64(token_len)?;
    }
    let length = reader.varint()?;
    let pn_offset = reader.pos();
    reader.bytes_u64(length)?;
    let end = reader.pos();
    let bytes = datagram.get(..end).ok_or(ProtoError::Incomplete)?;
    let rest = datagram.get(end..).unwrap_or_default();
    let packet = LongPacket {
        version,
        packet_type,
        dcid,
        scid,
        token,
        bytes,
        pn_offset,
    };
    Ok((packet, rest))
}

/// Whether the bytes after the last coalesced packet are worth another look: a datagram is
/// often filled up with zeros (or other bytes that cannot start a long header) after its
/// packets, which is padding, not a packet.
pub(crate) fn may_start_long_packet(rest: &[u8]) -> bool {
    rest.first().is_some_and(|&first| first & 0x80 != 0)
}

/// A decrypted Initial: its packet number and where its frames lie in the scratch buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Opened {
    pub(crate) packet_number: u64,
    /// Range of the plaintext frames in the scratch buffer.
    pub(crate) frames: std::ops::Range<usize>,
}

/// Removes header protection and decrypts `packet` (an Initial, 0-RTT or Handshake packet)
/// with `keys`, into `scratch` (cleared first; its allocation is reused). On success the
/// frames are `scratch[opened.frames]`. `Invalid` when the tag does not match: the wrong
/// keys (another DCID, the other endpoint's packet) or a damaged packet.
pub(crate) fn open(
    packet: &LongPacket<'_>,
    keys: &InitialKeys,
    scratch: &mut Vec<u8>,
) -> ProtoResult<Opened> {
    let bytes = packet.bytes;
    let pn_offset = packet.pn_offset;
    let sample_start = pn_offset.checked_add(4).ok_or(ProtoError::Incomplete)?;
    let sample: [u8; SAMPLE_LEN] = bytes
        .get(sample_start..sample_start + SAMPLE_LEN)
        .and_then(|s| s.try_into().ok())
        .ok_or(ProtoError::Invalid(
            "packet too short for a header protection sample",
        ))?;
    let mask = keys.header_mask(&sample);
    let [mask_first, mask_pn @ ..] = mask;
    scratch.clear();
    scratch.extend_from_slice(bytes);
    let first = scratch.first_mut().ok_or(ProtoError::Incomplete)?;
    // Long headers protect the low four bits: reserved bits and packet number length.
    *first ^= mask_first & 0x0f;
    let pn_len = usize::from(*first & 0x03) + 1;
    let pn_bytes = scratch
        .get_mut(pn_offset..pn_offset + pn_len)
        .ok_or(ProtoError::Incomplete)?;
    let mut packet_number = 0u64;
    for (byte, mask) in pn_bytes.iter_mut().zip(mask_pn) {
        *byte ^= mask;
        packet_number = (packet_number << 8) | u64::from(*byte);
    }
    let header_len = pn_offset + pn_len;
    if scratch.len() < header_len + TAG_LEN {
        return Err(ProtoError::Invalid("packet shorter than its AEAD tag"));
    }
    let (header, payload) = scratch.split_at_mut(header_len);
    if !keys.open(packet_number, header, payload) {
        return Err(ProtoError::Invalid("Initial packet did not decrypt"));
    }
    Ok(Opened {
        packet_number,
        frames: header_len..scratch.len() - TAG_LEN,
    })
}

/// Writes one protected long-header packet (the fixture writer's half of [`open`]): `header`
/// ends with the unprotected packet number of `pn_len` bytes, `frames` is the plaintext.
pub(crate) fn seal(
    keys: &InitialKeys,
    header: &[u8],
    pn_len: usize,
    packet_number: u64,
    frames: &[u8],
) -> Vec<u8> {
    let mut packet = Vec::with_capacity(header.len() + frames.len() + TAG_LEN);
    packet.extend_from_slice(header);
    packet.extend_from_slice(frames);
    let header_len = header.len();
    let (aad, text) = packet.split_at_mut(header_len);
    let tag = keys.seal(packet_number, aad, text);
    packet.extend_from_slice(&tag);
    let pn_offset = header_len.saturating_sub(pn_len);
    let sample: Option<[u8; SAMPLE_LEN]> = packet
        .get(pn_offset + 4..pn_offset + 4 + SAMPLE_LEN)
        .and_then(|s| s.try_into().ok());
    if let Some(sample) = sample {
        let [mask_first, mask_pn @ ..] = keys.header_mask(&sample);
        if let Some(first) = packet.first_mut() {
            *first ^= mask_first & 0x0f;
        }
        if let Some(pn) = packet.get_mut(pn_offset..header_len) {
            pn.iter_mut().zip(mask_pn).for_each(|(b, m)| *b ^= m);
        }
    }
    packet
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::quic::keys::Side;
    use crate::proto::quic::wire::hex;

    const RFC_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    #[test]
    fn header_fields_of_the_rfc9001_client_initial() {
        let datagram = hex(super::super::tests::RFC9001_CLIENT_INITIAL);
        let (packet, rest) = parse_long(&datagram).unwrap();
        assert_eq!(packet.version, Version::V1);
        assert_eq!(packet.packet_type, PacketType::Initial);
        assert_eq!(packet.dcid, RFC_DCID);
        assert_eq!(packet.scid, b"");
        assert_eq!(packet.token, b"");
        assert_eq!(packet.pn_offset, 18);
        assert_eq!(packet.bytes.len(), 1200);
        assert!(rest.is_empty());
    }

    #[test]
    fn rfc9001_server_initial_opens_with_server_keys_only() {
        let datagram = hex(super::super::tests::RFC9001_SERVER_INITIAL);
        let (packet, _) = parse_long(&datagram).unwrap();
        assert_eq!(packet.scid, hex("f067a5502a4262b5"));
        let mut scratch = Vec::new();
        let client = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Client).unwrap();
        assert!(open(&packet, &client, &mut scratch).is_err());
        let server = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Server).unwrap();
        let opened = open(&packet, &server, &mut scratch).unwrap();
        assert_eq!(opened.packet_number, 1);
        let frames = &scratch[opened.frames];
        assert_eq!(&frames[..6], hex("020000000006"));
        assert_eq!(frames.len(), 99);
    }

    #[test]
    fn rfc9369_server_initial_opens() {
        let datagram = hex(super::super::tests::RFC9369_SERVER_INITIAL);
        let (packet, _) = parse_long(&datagram).unwrap();
        assert_eq!(packet.version, Version::V2);
        assert_eq!(packet.packet_type, PacketType::Initial);
        let server = InitialKeys::derive(Version::V2, &RFC_DCID, Side::Server).unwrap();
        let mut scratch = Vec::new();
        let opened = open(&packet, &server, &mut scratch).unwrap();
        assert_eq!(opened.packet_number, 1);
        assert_eq!(&scratch[opened.frames][..6], hex("020000000006"));
    }

    #[test]
    fn v2_packet_types_differ_from_v1() {
        // Same type bits 0b01: 0-RTT in v1, Initial in v2.
        let mut bytes = vec![0xd0, 0, 0, 0, 1, 0, 0, 0, 0x01, 0x00];
        assert_eq!(
            parse_long(&bytes).unwrap().0.packet_type,
            PacketType::ZeroRtt
        );
        bytes[1..5].copy_from_slice(&0x6b33_43cfu32.to_be_bytes());
        // The same bytes in v2: an Initial (no token, a 1-byte Length).
        assert_eq!(
            parse_long(&bytes).unwrap().0.packet_type,
            PacketType::Initial
        );
        bytes[0] = 0xc0; // 0b00 is Retry in v2
        assert_eq!(parse_long(&bytes).unwrap().0.packet_type, PacketType::Retry);
    }

    #[test]
    fn coalesced_packets_are_split_by_length() {
        // Initial (token 0, length 2) then Handshake (length 1) then zero padding.
        let bytes = hex("c0 00000001 01aa 01bb 00 02 1111  e0 00000001 00 00 01 22  0000");
        let (first, rest) = parse_long(&bytes).unwrap();
        assert_eq!(first.packet_type, PacketType::Initial);
        assert_eq!(first.bytes.len(), 13);
        let (second, rest) = parse_long(rest).unwrap();
        assert_eq!(second.packet_type, PacketType::Handshake);
        assert_eq!(second.bytes, hex("e0 00000001 00 00 01 22"));
        assert!(!may_start_long_packet(rest));
    }

    #[test]
    fn lying_lengths_and_long_cids_are_refused() {
        let over = hex("c0 00000001 00 00 00 4002 aabb");
        assert_eq!(
            parse_long(&over[..over.len() - 1]),
            Err(ProtoError::Incomplete)
        );
        assert_eq!(parse_long(&over).map(|p| p.0.bytes.len()), Ok(over.len()));
        let mut too_big = hex("c0 00000001 15");
        too_big.extend([0u8; 21]);
        too_big.extend([0, 0, 0]);
        assert_eq!(
            parse_long(&too_big),
            Err(ProtoError::Invalid("connection ID longer than 20 bytes"))
        );
        // Unknown versions may use longer CIDs (RFC 8999 allows 255), reserved ones too.
        for version in [0x1a2a_3a4bu32, 0x1a2a_3a4a] {
            too_big[1..5].copy_from_slice(&version.to_be_bytes());
            assert_eq!(
                parse_long(&too_big).unwrap().0.packet_type,
                PacketType::Other
            );
        }
    }

    #[test]
    fn every_truncation_of_the_rfc_packet_fails_cleanly() {
        let datagram = hex(super::super::tests::RFC9001_CLIENT_INITIAL);
        let keys = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Client).unwrap();
        let mut scratch = Vec::new();
        for cut in 0..datagram.len() {
            match parse_long(&datagram[..cut]) {
                Ok((packet, _)) => assert!(open(&packet, &keys, &mut scratch).is_err()),
                Err(err) => assert_eq!(err, ProtoError::Incomplete, "cut {cut}"),
            }
        }
    }
}
