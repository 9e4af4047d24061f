//! `proto::quic::build`: writes client Initial datagrams for the project's own fixtures
//! (integration tests, generated captures, benches), protected with the real Initial keys so
//! that the decryptor, tshark and any QUIC stack read them back.
//!
//! Each datagram holds one Initial packet padded with PADDING frames to exactly the size
//! asked (clients pad to at least 1200 bytes, RFC 9000 §14.1). A ClientHello larger than one
//! packet is split over several, and with a shuffle seed it is cut into uneven pieces sent
//! out of order, one piece twice, with PING and PADDING frames between them, the way Chrome
//! scrambles its Initials. Output is deterministic for given inputs.

use super::keys::{InitialKeys, Side, TAG_LEN};
use super::wire::{put_varint, put_varint_len, varint_len};
use super::{packet, Version};

/// Largest datagram written: the Length field is written as a 2-byte varint (up to 16383).
pub const MAX_BUILD_DATAGRAM: usize = 16_000;

/// Client Initial datagrams carrying `client_hello_handshake` (a TLS handshake message, type
/// 1; for Q050, a gQUIC CHLO message) in CRYPTO frames, encrypted with the Initial keys of
/// `version` derived from `dcid`.
///
/// * `max_datagram`: size of every datagram (capped at [`MAX_BUILD_DATAGRAM`]); use 1200 or
///   more for realistic traffic, less to force a ClientHello over several datagrams.
/// * `shuffle_seed`: `None` writes the CRYPTO data in order, one frame per packet; `Some`
///   cuts it into pieces of uneven size, shuffles them over the packets, repeats one, inserts
///   PING and PADDING frames, and picks the packet number length from the seed.
///
/// Empty when the version has no known Initial keys, a connection ID is over 20 bytes, or
/// `max_datagram` cannot hold a header, a one-byte CRYPTO frame and the AEAD tag.
pub fn build_client_initials(
    version: Version,
    dcid: &[u8],
    scid: &[u8],
    client_hello_handshake: &[u8],
    max_datagram: usize,
    shuffle_seed: Option<u64>,
) -> Vec<Vec<u8>> {
    if dcid.len() > packet::MAX_CID_LEN || scid.len() > packet::MAX_CID_LEN {
        return Vec::new();
    }
    let Some(keys) = InitialKeys::derive(version, dcid, Side::Client) else {
        return Vec::new();
    };
    let mut rng = shuffle_seed.map(SplitMix64);
    let mut pn_len = rng.as_mut().map_or(1, |rng| 1 + rng.below(4));
    let max_datagram = max_datagram.min(MAX_BUILD_DATAGRAM);
    let (capacity, packets) = loop {
        let header_len = 1 + 4 + 1 + dcid.len() + 1 + scid.len() + 1 + 2 + pn_len;
        // Room for frames in one packet; the smallest useful frame is a CRYPTO frame of one
        // byte at a 4-byte offset (1 + 4 + 2 + 1), which also covers the header protection
        // sample (16 bytes from the packet number's 4th byte, the tag included).
        let Some(capacity) = max_datagram.checked_sub(header_len + TAG_LEN) else {
            return Vec::new();
        };
        if capacity < 8 {
            return Vec::new();
        }
        let pieces = match rng.as_mut() {
            None => in_order_pieces(client_hello_handshake.len(), capacity),
            Some(rng) => shuffled_pieces(client_hello_handshake.len(), capacity, rng),
        };
        let packets = pack(&pieces, capacity);
        // Packet numbers count from 0 and must fit their encoded length.
        if pn_len >= 4 || packets.len() <= 1 << (8 * pn_len) {
            break (capacity, packets);
        }
        pn_len += 1;
    };
    let frame_types = FrameTypes::of(version);
    packets
        .iter()
        .enumerate()
        .map(|(packet_number, contents)| {
            let mut frames = Vec::with_capacity(capacity);
            for item in contents {
                match *item {
                    Item::Crypto(start, end) => {
                        let data = client_hello_handshake.get(start..end).unwrap_or_default();
                        frames.push(frame_types.crypto);
                        put_varint(&mut frames, start as u64);
                        put_varint(&mut frames, data.len() as u64);
                        frames.extend_from_slice(data);
                    }
                    Item::Ping => frames.push(frame_types.ping),
                    Item::Padding(n) => frames.extend(std::iter::repeat_n(0u8, n)),
                }
            }
            frames.resize(capacity.max(frames.len()), 0);
            seal_initial(&keys, dcid, scid, pn_len, packet_number as u64, &frames)
        })
        .collect()
}

/// Frame type bytes: IETF's, or gQUIC's for Google versions.
struct FrameTypes {
    crypto: u8,
    ping: u8,
}

impl FrameTypes {
    fn of(version: Version) -> Self {
        match version {
            Version::Google(_) => FrameTypes {
                crypto: 0x08,
                ping: 0x07,
            },
            _ => FrameTypes {
                crypto: 0x06,
                ping: 0x01,
            },
        }
    }
}

/// One protected client Initial packet of `keys`' version holding `frames` (already padded),
/// with the given connection IDs in its header (which need not be the ones the keys came
/// from: a client's later Initials carry the server's connection ID and the first keys).
pub(crate) fn seal_initial(
    keys: &InitialKeys,
    dcid: &[u8],
    scid: &[u8],
    pn_len: usize,
    packet_number: u64,
    frames: &[u8],
) -> Vec<u8> {
    let header = long_header(
        keys.version(),
        dcid,
        scid,
        pn_len,
        packet_number,
        frames.len(),
    );
    packet::seal(keys, &header, pn_len, packet_number, frames)
}

/// One Initial's unprotected header, up to and including the packet number.
fn long_header(
    version: Version,
    dcid: &[u8],
    scid: &[u8],
    pn_len: usize,
    packet_number: u64,
    frames_len: usize,
) -> Vec<u8> {
    let type_bits: u8 = if version == Version::V2 { 0b01 } else { 0b00 };
    let mut header = Vec::with_capacity(64);
    header.push(0xc0 | type_bits << 4 | (pn_len as u8 - 1));
    header.extend_from_slice(&version.to_wire().to_be_bytes());
    header.push(dcid.len() as u8);
    header.extend_from_slice(dcid);
    header.push(scid.len() as u8);
    header.extend_from_slice(scid);
    put_varint(&mut header, 0); // no token
    put_varint_len(&mut header, (pn_len + frames_len + TAG_LEN) as u64, 2);
    let pn_bytes = packet_number.to_be_bytes();
    header.extend_from_slice(pn_bytes.get(8 - pn_len..).unwrap_or_default());
    header
}

/// One thing to write into a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    /// CRYPTO data `start..end` of the handshake message.
    Crypto(usize, usize),
    Ping,
    Padding(usize),
}

impl Item {
    fn len(self) -> usize {
        match self {
            Item::Crypto(start, end) => {
                1 + varint_len(start as u64) + varint_len((end - start) as u64) + (end - start)
            }
            Item::Ping => 1,
            Item::Padding(n) => n,
        }
    }
}

/// Largest CRYPTO payload that fits in `room` bytes of frame at offset `start`.
fn fitting_data(start: usize, room: usize) -> usize {
    let overhead = 1 + varint_len(start as u64) + 2;
    room.saturating_sub(overhead)
}

fn in_order_pieces(total: usize, capacity: usize) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = 0;
    while start < total {
        let len = fitting_data(start, capacity).max(1).min(total - start);
        items.push(Item::Crypto(start, start + len));
        start += len;
    }
    items
}

fn shuffled_pieces(total: usize, capacity: usize, rng: &mut SplitMix64) -> Vec<Item> {
    let mut items = Vec::new();
    let mut start = 0;
    // Chrome's pieces run from a few bytes to a few hundred.
    let largest = fitting_data(start, capacity / 2).clamp(1, 400);
    while start < total {
        let len = (1 + rng.below(largest)).min(total - start);
        items.push(Item::Crypto(start, start + len));
        start += len;
    }
    if let Some(&again) = items.get(rng.below(items.len().max(1))) {
        items.push(again);
    }
    for _ in 0..1 + items.len() / 4 {
        let filler = if rng.below(2) == 0 {
            Item::Ping
        } else {
            Item::Padding(1 + rng.below(8))
        };
        items.push(filler);
    }
    for i in (1..items.len()).rev() {
        items.swap(i, rng.below(i + 1));
    }
    items
}

/// Packs items into packets of `capacity` bytes in order, splitting a CRYPTO piece that does
/// not fit into what fits and the rest (so every byte is sent).
fn pack(items: &[Item], capacity: usize) -> Vec<Vec<Item>> {
    let mut packets: Vec<Vec<Item>> = vec![Vec::new()];
    let mut used = 0;
    let mut queue: std::collections::VecDeque<Item> = items.iter().copied().collect();
    while let Some(item) = queue.pop_front() {
        let room = capacity - used;
        if item.len() <= room {
            if let Some(current) = packets.last_mut() {
                current.push(item);
            }
            used += item.len();
            continue;
        }
        match item {
            Item::Crypto(start, end) if fitting_data(start, room) > 0 => {
                let cut = start + fitting_data(start, room).min(end - start);
                queue.push_front(Item::Crypto(cut, end));
                queue.push_front(Item::Crypto(start, cut));
            }
            // Every item fits an empty packet (capacity >= 8), so this ends.
            _ => {
                packets.push(Vec::new());
                used = 0;
                queue.push_front(item);
            }
        }
    }
    packets
}

/// Deterministic generator (SplitMix64), so fixtures are stable.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform-enough value in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}
