//! QUIC as a passive observer sees it: the client's Initial packets, decrypted with the keys
//! anyone can derive from the packet itself (RFC 9001 §5.2), so that the ClientHello inside
//! names the server of every HTTP/3 flow. Covers QUIC v1, v2 (RFC 9369), IETF drafts 22-34,
//! Facebook's mvfst (0xfaceb001/2/e), Google's Q050, T050 and T051, and the cleartext CHLO of
//! Google QUIC Q039-Q046 (and the older Q025-Q035 found in the wild).
//!
//! The pieces, in the order a caller uses them:
//! * [`peek`]: header check, no crypto, so undecryptable UDP costs a few byte compares;
//! * [`client_initial_crypto`]: decrypts every client Initial coalesced in one datagram and
//!   hands each CRYPTO frame `(offset, data)` to a callback, decrypting into a buffer the
//!   caller owns and reuses (the only allocation, and only when it must grow);
//! * [`CryptoAssembler`]: bounded reassembly of those frames across packets and datagrams;
//! * [`parse_crypto_hello`]: the TLS ClientHello (or Q050's CHLO) in the reassembled bytes;
//! * [`gquic_chlo_sni`]: the SNI of a cleartext Google QUIC CHLO.
//!
//! A caller follows each client-to-server UDP flow with the version and [`InitialKeys`] of
//! its first client Initial, a [`CryptoAssembler`] and a done flag:
//! 1. [`peek`]; a cleartext gQUIC packet goes to [`gquic_chlo_sni`], an Initial on;
//! 2. [`client_initial_crypto`] (keys from the packet's own DCID); if that fails and the
//!    flow has keys, [`client_initial_crypto_with_keys`] with them (a later Initial sent to
//!    the server's connection ID). An Initial that decrypts under a DCID of its own starts
//!    a CRYPTO stream of its own (the client's answer to a Retry, which carries a token, or
//!    a new connection on the same ports): keep its keys, use a fresh assembler;
//! 3. feed each CRYPTO frame to the assembler; when `add` says the prefix grew,
//!    [`parse_crypto_hello`]: a hello ends the flow's search, `Incomplete` waits for more,
//!    `Invalid` gives up;
//! 4. give up on a flow after a few Initials that do not decrypt (a flood of forged
//!    Initials then costs a key derivation and one AES-GCM pass each, ~2 µs).
//!
//! It refuses to: decrypt anything past the Initial packets (no keys exist for them without
//! the endpoints' secrets), look inside short-header packets, follow a connection across a
//! Retry or a change of DCID by itself (the caller keeps that state, see
//! [`client_initial_crypto_with_keys`]), or panic on any input: every length from the wire is
//! checked, a packet cut short is `Incomplete`, a forged one `Invalid`.

mod assembler;
pub mod build;
mod frames;
mod gquic;
mod keys;
mod packet;
mod wire;

pub use assembler::CryptoAssembler;
pub use gquic::{gquic_chlo, gquic_chlo_sni, Chlo};
pub use keys::{InitialKeys, Side};

use super::tls::{self, ClientHello};
use super::{ProtoError, ProtoResult};
use packet::LongPacket;

/// A QUIC version number, sorted into the families whose Initial packets differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// 0x00000001, RFC 9000.
    V1,
    /// 0x6b3343cf, RFC 9369.
    V2,
    /// 0xff0000NN, IETF draft NN.
    Draft(u8),
    /// 0xfaceb0NN, Facebook's mvfst (the whole wire value).
    Mvfst(u32),
    /// Google QUIC: `Q` or `T` and three digits (`Q046` is 0x51303436).
    Google(u32),
    /// Anything else, kept as data (0 is a Version Negotiation packet, 0x?a?a?a?a a greased
    /// version that forces one).
    Unknown(u32),
}

impl Version {
    /// Sorts a version field read from the wire.
    pub fn from_wire(value: u32) -> Self {
        let bytes = value.to_be_bytes();
        match value {
            0x0000_0001 => Version::V1,
            0x6b33_43cf => Version::V2,
            _ if value >> 8 == 0x00ff_0000 => Version::Draft(bytes[3]),
            _ if value >> 8 == 0x00fa_ceb0 => Version::Mvfst(value),
            _ if matches!(bytes[0], b'Q' | b'T') && bytes[1..].iter().all(u8::is_ascii_digit) => {
                Version::Google(value)
            }
            _ => Version::Unknown(value),
        }
    }

    /// The version field as sent.
    pub fn to_wire(self) -> u32 {
        match self {
            Version::V1 => 0x0000_0001,
            Version::V2 => 0x6b33_43cf,
            Version::Draft(n) => 0xff00_0000 | u32::from(n),
            Version::Mvfst(v) | Version::Google(v) | Version::Unknown(v) => v,
        }
    }

    /// Whether this is a version reserved to force version negotiation (0x?a?a?a?a, RFC 9000
    /// §15).
    pub fn is_reserved(self) -> bool {
        matches!(self, Version::Unknown(value) if keys::is_reserved(value))
    }

    /// Whether the Initial keys of this version are known (see `keys.rs` for the list).
    pub fn has_initial_keys(self) -> bool {
        keys::has_initial_keys(self)
    }

    /// Whether the client's Initial CRYPTO stream carries a TLS ClientHello (every version
    /// with Initial keys but Google's Q050, which carries a gQUIC CHLO message).
    pub fn crypto_is_tls(self) -> bool {
        !matches!(self, Version::Google(v) if v.to_be_bytes()[0] == b'Q')
    }

    /// Google QUIC number (`Q046` is 46; `T051` is 51).
    fn google_number(self) -> Option<u32> {
        let Version::Google(v) = self else {
            return None;
        };
        let [_, digits @ ..] = v.to_be_bytes();
        digits.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    }

    /// Google QUIC before Q050: cleartext handshake, its own header formats.
    fn is_gquic_cleartext(self) -> bool {
        matches!(self, Version::Google(v) if v.to_be_bytes()[0] == b'Q')
            && self.google_number().is_some_and(|n| n < 50)
    }

    /// Long headers of this version follow RFC 9000 §17.2 (length-prefixed connection IDs,
    /// token and Length fields), which every version with Initial keys does, plus drafts and
    /// mvfst versions whose keys are unknown, and the versions reserved to force version
    /// negotiation, whose packets are laid out as the version whose keys they use (draft 29's
    /// or v1's, RFC 9000's layout: see `keys.rs`).
    fn has_ietf_long_header(self) -> bool {
        match self {
            Version::V1 | Version::V2 | Version::Mvfst(_) => true,
            Version::Draft(n) => n >= 22,
            Version::Google(_) => !self.is_gquic_cleartext(),
            Version::Unknown(_) => self.is_reserved(),
        }
    }

    /// Packet type from the two type bits of a long header's first byte (RFC 9000 §17.2;
    /// v2 moved them around, RFC 9369 §3.2).
    fn long_packet_type(self, first: u8) -> PacketType {
        let bits = (first >> 4) & 0x03;
        let bits = if self == Version::V2 {
            bits.wrapping_sub(1) & 0x03
        } else {
            bits
        };
        match bits {
            0b00 => PacketType::Initial,
            0b01 => PacketType::ZeroRtt,
            0b10 => PacketType::Handshake,
            _ => PacketType::Retry,
        }
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            Version::V1 => f.write_str("1"),
            Version::V2 => f.write_str("2"),
            Version::Draft(n) => write!(f, "draft-{n}"),
            Version::Mvfst(v) => write!(f, "mvfst-{v:#010x}"),
            Version::Google(v) => {
                let bytes = v.to_be_bytes();
                f.write_str(std::str::from_utf8(&bytes).unwrap_or("gQUIC"))
            }
            Version::Unknown(v) => write!(f, "{v:#010x}"),
        }
    }
}

/// What kind of packet begins a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    Initial,
    ZeroRtt,
    Handshake,
    /// A server's Retry: the client's next Initials use its Source Connection ID as DCID,
    /// and Initial keys derived from it.
    Retry,
    VersionNegotiation,
    /// A Google QUIC packet (before Q050) that carries its version: the client's first
    /// packets, whose CHLO is cleartext.
    GoogleCleartext,
    /// A long header of a version whose packet layout is unknown.
    Other,
}

/// The header of the first packet in a datagram, borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peek<'a> {
    /// The version field (for gQUIC, the version tag after the connection ID).
    pub version: Version,
    /// Read from the type bits with the version's mapping (v2 differs from v1).
    pub packet_type: PacketType,
    /// Destination Connection ID (for gQUIC Q043 and before, the 8-byte connection ID).
    pub dcid: &'a [u8],
    /// Source Connection ID (empty when absent).
    pub scid: &'a [u8],
}

impl Peek<'_> {
    /// Worth handing to [`client_initial_crypto`] (an Initial of a version with known keys)
    /// or to [`gquic_chlo_sni`] (a cleartext gQUIC packet).
    pub fn has_client_hello_candidate(&self) -> bool {
        match self.packet_type {
            PacketType::Initial => self.version.has_initial_keys(),
            PacketType::GoogleCleartext => true,
            _ => false,
        }
    }
}

/// Header check of a UDP payload, without any crypto: `Some` when it begins with a QUIC long
/// header (any version; the header must parse) or a Google QUIC packet carrying its version;
/// `None` for anything else (short headers included: without state they are opaque). Use
/// [`Peek::has_client_hello_candidate`] to decide whether to decrypt.
pub fn peek(datagram: &[u8]) -> Option<Peek<'_>> {
    if let Some(peek) = gquic::peek(datagram) {
        return Some(peek);
    }
    let header = packet::parse_header(datagram).ok()?;
    Some(Peek {
        version: header.version,
        packet_type: header.packet_type,
        dcid: header.dcid,
        scid: header.scid,
    })
}

/// What [`client_initial_crypto`] found in one datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InitialInfo<'a> {
    /// Version of the first Initial that decrypted.
    pub version: Version,
    /// The version whose keys opened it: `version`, but for a reserved version (see
    /// [`InitialKeys::derive_as`]).
    pub keys_of: Version,
    /// Its Destination Connection ID (the one its keys came from).
    pub dcid: &'a [u8],
    /// Its Source Connection ID.
    pub scid: &'a [u8],
    /// Length of its token: non-zero after a Retry (or with a NEW_TOKEN from an earlier
    /// connection).
    pub token_len: usize,
    /// Its packet number.
    pub packet_number: u64,
    /// Client Initial packets decrypted in the datagram.
    pub initials: usize,
    /// Initial packets whose tag did not match the keys (server Initials, Initials keyed by
    /// another DCID, damage).
    pub undecryptable: usize,
    /// Other long-header packets coalesced with them (0-RTT, Handshake), stepped over.
    pub skipped: usize,
    /// CRYPTO frames handed to the callback.
    pub crypto_frames: usize,
    /// A decrypted Initial held a frame an Initial may not carry, or one cut short: its
    /// frames after that one were not read.
    pub bad_frames: bool,
}

/// Decrypts every client Initial packet coalesced in `datagram` with keys derived from its own
/// Destination Connection ID, and calls `on_crypto(offset, data)` for each CRYPTO frame, in
/// the order they appear (any order of offsets; feed them to a [`CryptoAssembler`]).
/// `scratch` holds each decrypted packet in turn (its allocation is kept for the next call).
///
/// For Q050 the CRYPTO data is gQUIC's: see [`parse_crypto_hello`].
///
/// A client's Initials carry the DCID its keys come from until the server's first Initial
/// arrives; after it they carry the server's connection ID but keep the original keys, so a
/// caller that sees them fail can retry with [`client_initial_crypto_with_keys`] and the keys
/// of the flow's first Initial. After a Retry the keys change for good: the next client
/// Initial carries the Retry's Source Connection ID as DCID (and a token), and its CRYPTO
/// stream starts over (clear the assembler).
///
/// Errors: `Incomplete` when the datagram ends inside a packet (snap length) before any
/// Initial decrypted; `Invalid` when it holds no Initial of a version with known keys, or
/// none decrypted.
pub fn client_initial_crypto<'a>(
    datagram: &'a [u8],
    scratch: &mut Vec<u8>,
    mut on_crypto: impl FnMut(u64, &[u8]),
) -> ProtoResult<InitialInfo<'a>> {
    walk_datagram(datagram, None, scratch, &mut on_crypto)
}

/// Same as [`client_initial_crypto`] with keys the caller derived (and cached) with
/// [`InitialKeys::derive`]: the flow's first Initial DCID, or a Retry's Source Connection ID.
/// Initials of another version than the keys' are skipped as undecryptable.
pub fn client_initial_crypto_with_keys<'a>(
    datagram: &'a [u8],
    keys: &InitialKeys,
    scratch: &mut Vec<u8>,
    mut on_crypto: impl FnMut(u64, &[u8]),
) -> ProtoResult<InitialInfo<'a>> {
    walk_datagram(datagram, Some(keys), scratch, &mut on_crypto)
}

/// Initial packets one datagram may make us try to decrypt. Real clients coalesce one (the
/// corpus never shows two), and a sender's batch recorded as one datagram holds Firefox's two;
/// a forged datagram packed with tiny Initials under different DCIDs would otherwise buy a key
/// derivation per 40 bytes.
const MAX_INITIALS_PER_DATAGRAM: usize = 4;

fn walk_datagram<'a>(
    datagram: &'a [u8],
    given_keys: Option<&InitialKeys>,
    scratch: &mut Vec<u8>,
    on_crypto: &mut dyn FnMut(u64, &[u8]),
) -> ProtoResult<InitialInfo<'a>> {
    let mut info: Option<InitialInfo<'a>> = None;
    let mut derived: Option<(Version, &'a [u8], InitialKeys)> = None;
    let (mut undecryptable, mut skipped, mut attempts) = (0, 0, 0);
    let mut truncated = false;
    let mut rest = datagram;
    // The first long packet's version, DCID length and DCID, as on the wire.
    let mut first_header: Option<&'a [u8]> = None;
    loop {
        if !packet::may_start_long_packet(rest) {
            // Past the packets and any padding after them, another datagram of the same
            // connection, when the capture was taken on the sender and the kernel segments UDP
            // itself (GSO): it records the datagrams it sends at once as one.
            match first_header.and_then(|header| next_datagram_at(rest, header)) {
                Some(at) => rest = &rest[at..],
                None => break,
            }
        }
        let (packet, after) = match packet::parse_long(rest) {
            Ok(parsed) => parsed,
            Err(err) => {
                truncated = err == ProtoError::Incomplete;
                break;
            }
        };
        if first_header.is_none() {
            first_header = rest.get(1..6 + packet.dcid.len());
        }
        rest = after;
        if packet.packet_type != PacketType::Initial {
            skipped += usize::from(matches!(
                packet.packet_type,
                PacketType::ZeroRtt | PacketType::Handshake
            ));
            continue;
        }
        attempts += 1;
        if attempts > MAX_INITIALS_PER_DATAGRAM {
            undecryptable += 1;
            continue;
        }
        let opened = match given_keys {
            Some(keys) if keys.version() == packet.version => {
                packet::open(&packet, keys, scratch).map(|opened| (opened, keys.keys_of()))
            }
            Some(_) => {
                undecryptable += 1;
                continue;
            }
            None => {
                // The keys of the packet's own version; for a reserved version, each version
                // whose keys it may use, until one opens it.
                let mut opened = None;
                for keys_of in keys::keys_tried(packet.version).into_iter().flatten() {
                    let reuse = matches!(&derived, Some((v, dcid, keys))
                        if *v == packet.version && *dcid == packet.dcid && keys.keys_of() == keys_of);
                    if !reuse {
                        let keys = InitialKeys::derive_as(
                            packet.version,
                            keys_of,
                            packet.dcid,
                            Side::Client,
                        );
                        derived = keys.map(|keys| (packet.version, packet.dcid, keys));
                    }
                    let Some((_, _, keys)) = &derived else {
                        continue;
                    };
                    let attempt =
                        packet::open(&packet, keys, scratch).map(|opened| (opened, keys_of));
                    let done = attempt.is_ok();
                    opened = Some(attempt);
                    if done {
                        break;
                    }
                }
                match opened {
                    Some(opened) => opened,
                    None => continue,
                }
            }
        };
        let Ok((opened, keys_of)) = opened else {
            undecryptable += 1;
            continue;
        };
        let frames = scratch.get(opened.frames.clone()).unwrap_or_default();
        let walked = match packet.version {
            Version::Google(_) => {
                gquic::walk_google_initial_frames(packet.version, frames, on_crypto)
            }
            _ => frames::walk_initial_frames(frames, on_crypto),
        };
        let entry = info.get_or_insert_with(|| first_info(&packet, opened.packet_number, keys_of));
        entry.initials += 1;
        match walked {
            Ok(counts) => entry.crypto_frames += counts.crypto,
            Err(_) => entry.bad_frames = true,
        }
    }
    match info {
        Some(mut info) => {
            info.undecryptable = undecryptable;
            info.skipped = skipped;
            Ok(info)
        }
        None if undecryptable > 0 => Err(ProtoError::Invalid("Initial packet did not decrypt")),
        None if truncated => Err(ProtoError::Incomplete),
        None => Err(ProtoError::Invalid(
            "no Initial packet of a version with known keys",
        )),
    }
}

/// Where, in what follows a datagram's last long packet, a long packet starts with `header`
/// (the first packet's version, DCID length and DCID): the next datagram of a sender's GSO
/// batch. Only for a DCID of at least the 8 bytes a client's first DCID has (RFC 9000, 7.2), so
/// that encrypted or padding bytes cannot pass for one.
fn next_datagram_at(rest: &[u8], header: &[u8]) -> Option<usize> {
    if header.len() < 5 + 8 {
        return None;
    }
    let mut from = 1;
    while let Some(found) = memchr::memmem::find(rest.get(from..)?, header) {
        let start = from + found - 1;
        if packet::may_start_long_packet(&rest[start..]) {
            return Some(start);
        }
        from += found + 1;
    }
    None
}

fn first_info<'a>(
    packet: &LongPacket<'a>,
    packet_number: u64,
    keys_of: Version,
) -> InitialInfo<'a> {
    InitialInfo {
        version: packet.version,
        keys_of,
        dcid: packet.dcid,
        scid: packet.scid,
        token_len: packet.token.len(),
        packet_number,
        initials: 0,
        undecryptable: 0,
        skipped: 0,
        crypto_frames: 0,
        bad_frames: false,
    }
}

/// The client's first handshake message, from its Initial CRYPTO stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hello {
    /// A TLS 1.3 ClientHello (every version but Q050).
    Tls(ClientHello),
    /// A gQUIC CHLO message (Q050).
    Google(Chlo),
}

impl Hello {
    /// The server name the client asked for.
    pub fn sni(&self) -> Option<&str> {
        match self {
            Hello::Tls(hello) => hello.sni.as_deref(),
            Hello::Google(chlo) => chlo.sni.as_deref(),
        }
    }
}

/// Parses the reassembled CRYPTO stream (from offset 0, e.g.
/// [`CryptoAssembler::contiguous`]) of a client of `version`. `Incomplete` until the whole
/// message is there.
pub fn parse_crypto_hello(version: Version, stream: &[u8]) -> ProtoResult<Hello> {
    if version.crypto_is_tls() {
        tls::parse_client_hello_handshake(stream).map(Hello::Tls)
    } else {
        gquic::parse_chlo_message(version, stream).map(Hello::Google)
    }
}

#[cfg(test)]
pub(crate) mod tests;
