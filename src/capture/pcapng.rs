//! pcapng files: a sequence of blocks, each `type, total length, body, total length again`.
//!
//! Reads Section Header Blocks (either byte order; each new section resets the interface
//! list), Interface Description Blocks (link type, snap length, `if_tsresol` as a power of 10
//! or of 2, `if_tsoffset`), Enhanced, Simple and obsolete Packet Blocks. Each interface keeps
//! its own link type, so one file may mix Ethernet, Linux SLL and raw IP (libpcap refuses
//! that). Every other block (name resolution, statistics, decryption secrets, custom...) is
//! skipped by its length without being buffered.
//!
//! It refuses, as corrupt: lengths that are not a multiple of 4 or disagree with the trailing
//! copy, packets over 256 KiB, packets naming an interface the section never described, and
//! section versions other than 1.x. Used by [`super::file::FileSource`].

use std::io::Read;

use super::file::{
    read_exact, read_up_to, skip, u32_in, Endian, PacketInfo, ReadError, MAX_CAPLEN,
};

const SECTION_HEADER: u32 = 0x0a0d_0d0a;
const INTERFACE_DESCRIPTION: u32 = 1;
/// The obsolete Packet Block, still written by old tools.
const PACKET: u32 = 2;
const SIMPLE_PACKET: u32 = 3;
const ENHANCED_PACKET: u32 = 6;

/// Blocks that tshark 4.0 shows as frames of their own although they hold no packet: systemd
/// journal export, Sysdig events (and events with flags), custom blocks (copyable or not).
/// They are skipped here but still counted, so frame numbers stay tshark's.
const NUMBERED_NON_PACKETS: [u32; 5] = [
    0x0000_0009,
    0x0000_0204,
    0x0000_0208,
    0x0000_0bad,
    0x4000_0bad,
];

const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Block type, total length, and the trailing copy of the total length.
const BLOCK_OVERHEAD: u32 = 12;
/// Overhead plus byte-order magic, version and section length.
const MIN_SECTION_HEADER: u32 = BLOCK_OVERHEAD + 16;
/// Overhead plus link type, reserved and snap length.
const MIN_INTERFACE_DESCRIPTION: u32 = BLOCK_OVERHEAD + 8;
/// Overhead plus interface, timestamp (high, low), captured and original length.
const MIN_PACKET: u32 = BLOCK_OVERHEAD + PACKET_FIXED as u32;
const PACKET_FIXED: usize = 20;
/// Overhead plus original length.
const MIN_SIMPLE_PACKET: u32 = BLOCK_OVERHEAD + 4;
/// Blocks this reader skips may be long (decryption secrets, custom data) but past this a
/// length field is more likely damage than data. Packet blocks are bounded by `MAX_CAPLEN`.
const MAX_SKIPPED_BLOCK: u32 = 16 * 1024 * 1024;
/// More interfaces than this in one section is a hostile file, not a capture.
const MAX_INTERFACES: usize = 65_536;

const OPT_END: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

const NANOS_PER_SEC: u128 = 1_000_000_000;

/// Reader state: byte order and interfaces of the current section.
#[derive(Debug)]
pub(super) struct PcapngReader {
    endian: Endian,
    interfaces: Vec<Interface>,
    /// Frames tshark would number that were skipped since the last `take_unreturned_frames`.
    unreturned_frames: u64,
    /// In-place reading (`walk`): a block too long to hold in a chunk, being skipped.
    skipping: Option<Skip>,
}

/// The longest block `walk` holds whole in a chunk (a packet block of `MAX_CAPLEN` bytes of
/// data fits with room to spare). A longer one is skipped across chunks; of a longer packet
/// block (long options), the packet is held and the rest skipped.
pub(super) const MAX_HELD_BLOCK: usize = MAX_CAPLEN + 64;

/// A block being skipped across chunks by `walk`: the bytes left before its trailer, its
/// length (which the trailer must repeat), and whether tshark numbers it as a frame.
#[derive(Debug, Clone, Copy)]
struct Skip {
    left: u64,
    length: u32,
    numbered: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Interface {
    link_type: u32,
    /// 0 means no limit.
    snaplen: u32,
    clock: Clock,
    /// `if_tsoffset`: seconds added to every timestamp of this interface.
    offset_secs: i64,
}

/// How many nanoseconds one timestamp unit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Clock {
    /// Units that divide a second into a divisor of 10^9 (the usual µs and ns).
    NanosPerUnit(u64),
    /// Finer or binary units: nanoseconds = units * 10^9 / units_per_second.
    UnitsPerSecond(u128),
}

impl Clock {
    /// From the `if_tsresol` byte: high bit clear, 10^-n seconds; set, 2^-n seconds.
    fn from_tsresol(tsresol: u8) -> Clock {
        let exponent = u32::from(tsresol & 0x7f);
        let units_per_second = if tsresol & 0x80 == 0 {
            10u128.checked_pow(exponent)
        } else {
            2u128.checked_pow(exponent)
        };
        match units_per_second {
            Some(units) if NANOS_PER_SEC.checked_rem(units) == Some(0) => {
                let per_unit = NANOS_PER_SEC.checked_div(units).unwrap_or(1);
                Clock::NanosPerUnit(u64::try_from(per_unit).unwrap_or(1))
            }
            Some(units) => Clock::UnitsPerSecond(units),
            // 10^39 and finer: every representable timestamp is below a nanosecond.
            None => Clock::UnitsPerSecond(u128::MAX),
        }
    }

    fn nanos(self, units: u64) -> u128 {
        match self {
            // u64 * u64 and u64 * 10^9 both fit in a u128; the divisor is never 0.
            Clock::NanosPerUnit(per_unit) => u128::from(units).saturating_mul(u128::from(per_unit)),
            Clock::UnitsPerSecond(per_second) => u128::from(units)
                .saturating_mul(NANOS_PER_SEC)
                .checked_div(per_second)
                .unwrap_or(0),
        }
    }
}

impl Interface {
    /// Nanoseconds since the epoch, clamped to what a `u64` holds (years 1970 to 2554).
    #[inline]
    fn timestamp(&self, units: u64) -> u64 {
        if let (Clock::NanosPerUnit(per_unit), 0) = (self.clock, self.offset_secs) {
            // The usual case (µs or ns, no offset), in 64 bits: the same clamp.
            return units.saturating_mul(per_unit);
        }
        let nanos = i128::try_from(self.clock.nanos(units)).unwrap_or(i128::MAX);
        let offset = i128::from(self.offset_secs).saturating_mul(1_000_000_000);
        let total = nanos.saturating_add(offset).max(0);
        u64::try_from(total).unwrap_or(u64::MAX)
    }
}

impl PcapngReader {
    /// Whether the first four bytes are a Section Header Block type (the same in both orders).
    pub(super) fn detect(magic: [u8; 4]) -> bool {
        u32::from_le_bytes(magic) == SECTION_HEADER
    }

    /// Reads the rest of the first Section Header Block (its type was already consumed).
    pub(super) fn open(input: &mut impl Read) -> Result<Self, ReadError> {
        let mut reader = PcapngReader {
            endian: Endian::Little,
            interfaces: Vec::new(),
            unreturned_frames: 0,
            skipping: None,
        };
        let mut length = [0u8; 4];
        read_exact(input, &mut length)?;
        reader.section_header(input, length)?;
        Ok(reader)
    }

    /// How many blocks tshark numbers as frames were skipped since the last call.
    pub(super) fn take_unreturned_frames(&mut self) -> u64 {
        std::mem::take(&mut self.unreturned_frames)
    }

    /// Reads blocks until the next packet, which lands in `packet`; `Ok(None)` when the file
    /// ends between blocks.
    pub(super) fn next(
        &mut self,
        input: &mut impl Read,
        packet: &mut [u8],
    ) -> Result<Option<PacketInfo>, ReadError> {
        loop {
            let mut header = [0u8; 8];
            match read_up_to(input, &mut header)? {
                0 => return Ok(None),
                n if n < header.len() => return Err(ReadError::Truncated),
                _ => {}
            }
            let block_type = self.endian.u32(&header, 0).ok_or(ReadError::Truncated)?;
            if block_type == SECTION_HEADER {
                // Its length can only be read once its byte-order magic is known.
                let length = header.get(4..8).and_then(|l| l.try_into().ok());
                self.section_header(input, length.ok_or(ReadError::Truncated)?)?;
                continue;
            }
            let length = self.endian.u32(&header, 4).ok_or(ReadError::Truncated)?;
            match block_type {
                INTERFACE_DESCRIPTION => self.interface_description(input, packet, length)?,
                ENHANCED_PACKET | PACKET => {
                    return self.packet(input, packet, block_type, length).map(Some)
                }
                SIMPLE_PACKET => return self.simple_packet(input, packet, length).map(Some),
                _ => {
                    check_skipped_block(block_type, length)?;
                    skip(input, u64::from(length.saturating_sub(BLOCK_OVERHEAD)))?;
                    self.trailer(input, length)?;
                    if NUMBERED_NON_PACKETS.contains(&block_type) {
                        self.unreturned_frames = self.unreturned_frames.saturating_add(1);
                    }
                }
            }
        }
    }

    /// A new section: new byte order, no interfaces yet. `raw_length` is still unordered.
    fn section_header(
        &mut self,
        input: &mut impl Read,
        raw_length: [u8; 4],
    ) -> Result<(), ReadError> {
        let mut fixed = [0u8; 8];
        read_exact(input, &mut fixed)?;
        let length = self.begin_section(raw_length, fixed)?;
        // Section length and options are not needed; the 8 bytes after the type were read.
        skip(input, u64::from(length.saturating_sub(BLOCK_OVERHEAD + 8)))?;
        self.trailer(input, length)
    }

    /// The checks and the state of a new section, from its unordered length and the 8 bytes
    /// after it (byte-order magic, version); returns the block's length.
    fn begin_section(&mut self, raw_length: [u8; 4], fixed: [u8; 8]) -> Result<u32, ReadError> {
        let magic = fixed
            .get(..4)
            .and_then(|m| m.try_into().ok())
            .unwrap_or_default();
        self.endian = if u32::from_le_bytes(magic) == BYTE_ORDER_MAGIC {
            Endian::Little
        } else if u32::from_be_bytes(magic) == BYTE_ORDER_MAGIC {
            Endian::Big
        } else {
            return Err(ReadError::Corrupt(format!(
                "section header byte-order magic is {magic:02x?}, not 1a2b3c4d in either order"
            )));
        };
        self.interfaces.clear();
        let length = self
            .endian
            .u32(&raw_length, 0)
            .ok_or(ReadError::Truncated)?;
        check_length(length, MIN_SECTION_HEADER, "section header block")?;
        let major = self.endian.u16(&fixed, 4).ok_or(ReadError::Truncated)?;
        let minor = self.endian.u16(&fixed, 6).ok_or(ReadError::Truncated)?;
        if major != 1 {
            // A different major version may lay blocks out differently: reading on would
            // produce garbage, as Wireshark also judges.
            return Err(ReadError::Corrupt(format!(
                "pcapng version {major}.{minor} is not supported (only 1.x)"
            )));
        }
        if length > MAX_SKIPPED_BLOCK {
            return Err(ReadError::Corrupt(format!(
                "section header block claims {length} bytes"
            )));
        }
        Ok(length)
    }

    fn interface_description(
        &mut self,
        input: &mut impl Read,
        scratch: &mut [u8],
        length: u32,
    ) -> Result<(), ReadError> {
        let body_len = interface_body_len(length)?;
        let body = scratch
            .get_mut(..body_len)
            .ok_or_else(|| interface_too_long(length))?;
        read_exact(input, body)?;
        self.trailer(input, length)?;
        self.add_interface(body)
    }

    /// An Interface Description Block's body (without header and trailer), checked.
    fn add_interface(&mut self, body: &[u8]) -> Result<(), ReadError> {
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(ReadError::Corrupt(format!(
                "more than {MAX_INTERFACES} interfaces in one section"
            )));
        }
        let interface = parse_interface(self.endian, body).ok_or(ReadError::Truncated)?;
        self.interfaces.push(interface);
        Ok(())
    }

    /// Enhanced Packet Block, or the obsolete Packet Block (16-bit interface id, drop count).
    fn packet(
        &mut self,
        input: &mut impl Read,
        packet: &mut [u8],
        block_type: u32,
        length: u32,
    ) -> Result<PacketInfo, ReadError> {
        check_length(length, MIN_PACKET, "packet block")?;
        let mut fixed = [0u8; PACKET_FIXED];
        read_exact(input, &mut fixed)?;
        let (info, caplen) = self.packet_fields(block_type, &fixed)?;
        let room = length.saturating_sub(MIN_PACKET);
        let caplen = self.packet_data(input, packet, caplen, room, length)?;
        Ok(PacketInfo { caplen, ..info })
    }

    /// A packet block's fixed fields (`PACKET_FIXED` bytes after type and length): the
    /// packet (its `caplen` not yet checked, so 0) and the captured length it claims.
    #[inline(always)]
    fn packet_fields(&self, block_type: u32, fixed: &[u8]) -> Result<(PacketInfo, u32), ReadError> {
        let e = self.endian;
        let field = |at| e.u32(fixed, at).ok_or(ReadError::Truncated);
        let interface_id = if block_type == PACKET {
            e.u16(fixed, 0).map(u32::from).ok_or(ReadError::Truncated)?
        } else {
            field(0)?
        };
        let units = (u64::from(field(4)?) << 32) | u64::from(field(8)?);
        let (caplen, orig_len) = (field(12)?, field(16)?);
        let interface = self.interface(interface_id)?;
        let info = PacketInfo {
            ts_nanos: interface.timestamp(units),
            link_type: interface.link_type,
            orig_len,
            caplen: 0,
        };
        Ok((info, caplen))
    }

    /// Simple Packet Block: interface 0, no timestamp (0, as tshark shows none), and a
    /// captured length that is the original length cut to the interface's snap length.
    fn simple_packet(
        &mut self,
        input: &mut impl Read,
        packet: &mut [u8],
        length: u32,
    ) -> Result<PacketInfo, ReadError> {
        check_length(length, MIN_SIMPLE_PACKET, "simple packet block")?;
        let mut fixed = [0u8; 4];
        read_exact(input, &mut fixed)?;
        let (info, caplen) = self.simple_fields(&fixed)?;
        let room = length.saturating_sub(MIN_SIMPLE_PACKET);
        let caplen = self.packet_data(input, packet, caplen, room, length)?;
        Ok(PacketInfo { caplen, ..info })
    }

    /// A Simple Packet Block's original length (4 bytes after type and length): the packet
    /// (`caplen` 0) and the captured length it implies.
    fn simple_fields(&self, fixed: &[u8]) -> Result<(PacketInfo, u32), ReadError> {
        let orig_len = self.endian.u32(fixed, 0).ok_or(ReadError::Truncated)?;
        let interface = self.interface(0)?;
        let caplen = match interface.snaplen {
            0 => orig_len,
            snaplen => orig_len.min(snaplen),
        };
        let info = PacketInfo {
            ts_nanos: 0,
            link_type: interface.link_type,
            orig_len,
            caplen: 0,
        };
        Ok((info, caplen))
    }

    fn interface(&self, id: u32) -> Result<&Interface, ReadError> {
        let index = usize::try_from(id).unwrap_or(usize::MAX);
        self.interfaces.get(index).ok_or_else(|| {
            ReadError::Corrupt(format!(
                "packet names interface {id} but the section describes {} interface(s)",
                self.interfaces.len()
            ))
        })
    }

    /// Reads `caplen` bytes of packet data out of `room` body bytes left in the block, skips
    /// the rest (padding, options) and checks the trailer.
    fn packet_data(
        &self,
        input: &mut impl Read,
        packet: &mut [u8],
        caplen: u32,
        room: u32,
        length: u32,
    ) -> Result<usize, ReadError> {
        let (caplen, rest) = data_and_rest(caplen, room, length)?;
        let data = packet.get_mut(..caplen).ok_or(ReadError::Truncated)?;
        read_exact(input, data)?;
        skip_small(input, rest)?;
        self.trailer(input, length)?;
        Ok(caplen)
    }

    /// The closing copy of the block length must match the opening one.
    fn trailer(&self, input: &mut impl Read, length: u32) -> Result<(), ReadError> {
        let mut trailer = [0u8; 4];
        read_exact(input, &mut trailer)?;
        self.check_trailer(&trailer, length)
    }

    #[inline]
    fn check_trailer(&self, trailer: &[u8], length: u32) -> Result<(), ReadError> {
        let repeated = self.endian.u32(trailer, 0).ok_or(ReadError::Truncated)?;
        if repeated != length {
            return Err(ReadError::Corrupt(format!(
                "block length {length} at its start but {repeated} at its end"
            )));
        }
        Ok(())
    }

    /// Walks the whole blocks in `chunk[pos..filled]` (read in place, not copied), calling
    /// `each(info, start, frame)` for each packet (its bytes are `chunk[start..start + caplen]`,
    /// `packets` counts it, and the non-packet blocks tshark numbers). Returns where the first
    /// block that is not whole starts and the bytes it needs, as `file::walk` does for pcap
    /// records: a block needs at most `MAX_HELD_BLOCK` bytes, longer ones are skipped across
    /// calls. The same blocks, checks and errors as `next`, in the same order; the one
    /// difference: a packet block longer than `MAX_HELD_BLOCK` (over 200 KiB of options)
    /// hands its packet over before its trailer is checked.
    pub(super) fn walk(
        &mut self,
        packets: &mut u64,
        chunk: &[u8],
        mut pos: usize,
        filled: usize,
        each: &mut impl FnMut(&PacketInfo, usize, u64),
    ) -> Result<(usize, usize), ReadError> {
        loop {
            if self.skipping.is_none() {
                pos = self.whole_packets(packets, chunk, pos, filled, each);
            }
            let bytes = chunk.get(pos..filled).unwrap_or_default();
            if let Some(skip) = self.skipping {
                let step = usize::try_from(skip.left).map_or(bytes.len(), |l| l.min(bytes.len()));
                pos += step;
                let left = skip.left - step as u64;
                self.skipping = Some(Skip { left, ..skip });
                let Some(trailer) = bytes.get(step..step + 4).filter(|_| left == 0) else {
                    return Ok((pos, 4));
                };
                self.check_trailer(trailer, skip.length)?;
                self.skipping = None;
                pos += 4;
                if skip.numbered {
                    *packets += 1;
                }
                continue;
            }
            let Some(header) = bytes.get(..8) else {
                return Ok((pos, 8));
            };
            let block_type = self.endian.u32(header, 0).ok_or(ReadError::Truncated)?;
            if block_type == SECTION_HEADER {
                let Some(fixed) = bytes.get(8..16).and_then(|f| <[u8; 8]>::try_from(f).ok()) else {
                    return Ok((pos, 16));
                };
                let raw_length = <[u8; 4]>::try_from(&header[4..8]).unwrap_or_default();
                // Checked and begun again if the block is not whole yet: the same result.
                let length = self.begin_section(raw_length, fixed)?;
                match self.held(bytes, length, 16)? {
                    Held::Whole => pos += length as usize,
                    Held::Skipped => pos += 16,
                    Held::Wait(need) => return Ok((pos, need)),
                }
                continue;
            }
            let length = self.endian.u32(header, 4).ok_or(ReadError::Truncated)?;
            match block_type {
                INTERFACE_DESCRIPTION => {
                    let body_len = interface_body_len(length)?;
                    if body_len > MAX_CAPLEN {
                        return Err(interface_too_long(length));
                    }
                    let Some(block) = bytes.get(..length as usize) else {
                        return Ok((pos, length as usize));
                    };
                    self.check_trailer(&block[block.len() - 4..], length)?;
                    self.add_interface(&block[8..8 + body_len])?;
                    pos += length as usize;
                }
                ENHANCED_PACKET | PACKET | SIMPLE_PACKET => {
                    let (minimum, fixed_len, what) = if block_type == SIMPLE_PACKET {
                        (MIN_SIMPLE_PACKET, 4, "simple packet block")
                    } else {
                        (MIN_PACKET, PACKET_FIXED, "packet block")
                    };
                    check_length(length, minimum, what)?;
                    let Some(fixed) = bytes.get(8..8 + fixed_len) else {
                        return Ok((pos, 8 + fixed_len));
                    };
                    let (info, caplen) = if block_type == SIMPLE_PACKET {
                        self.simple_fields(fixed)?
                    } else {
                        self.packet_fields(block_type, fixed)?
                    };
                    let (caplen, _) = data_and_rest(caplen, length - minimum, length)?;
                    let start = pos + 8 + fixed_len;
                    match self.held(bytes, length, 8 + fixed_len + caplen)? {
                        Held::Wait(need) => return Ok((pos, need)),
                        Held::Whole => pos += length as usize,
                        Held::Skipped => pos = start + caplen,
                    }
                    *packets += 1;
                    each(&PacketInfo { caplen, ..info }, start, *packets);
                }
                _ => {
                    check_skipped_block(block_type, length)?;
                    let numbered = NUMBERED_NON_PACKETS.contains(&block_type);
                    match self.held(bytes, length, 8)? {
                        Held::Wait(need) => return Ok((pos, need)),
                        Held::Whole => {
                            pos += length as usize;
                            if numbered {
                                *packets += 1;
                            }
                        }
                        Held::Skipped => {
                            pos += 8;
                            if let Some(skip) = &mut self.skipping {
                                skip.numbered = numbered;
                            }
                        }
                    }
                }
            }
        }
    }

    /// The common case of `walk`, in a tight loop: the enhanced packet blocks from `pos` on
    /// that are whole in `chunk[..filled]`, pass every check `walk` makes and name an interface
    /// of the section, handed over as `walk` would. Returns where the first other block (or
    /// the first that is not whole) starts, for `walk` to take from there.
    #[inline(always)]
    fn whole_packets(
        &self,
        packets: &mut u64,
        chunk: &[u8],
        pos: usize,
        filled: usize,
        each: &mut impl FnMut(&PacketInfo, usize, u64),
    ) -> usize {
        // The byte order chosen once, not at every field.
        match self.endian {
            Endian::Little => self.whole_packets_in::<false>(packets, chunk, pos, filled, each),
            Endian::Big => self.whole_packets_in::<true>(packets, chunk, pos, filled, each),
        }
    }

    /// `whole_packets` in one byte order (`BIG`: big-endian).
    #[inline(always)]
    fn whole_packets_in<const BIG: bool>(
        &self,
        packets: &mut u64,
        chunk: &[u8],
        mut pos: usize,
        filled: usize,
        each: &mut impl FnMut(&PacketInfo, usize, u64),
    ) -> usize {
        let bytes = chunk.get(..filled).unwrap_or_default();
        // Every field is inside the fixed part, whose length is known: no field fails.
        let field = |fixed: &[u8; 8 + PACKET_FIXED], at| u32_in::<BIG>(fixed, at).unwrap_or(0);
        loop {
            let Some(fixed) = bytes
                .get(pos..pos + 8 + PACKET_FIXED)
                .and_then(|f| <&[u8; 8 + PACKET_FIXED]>::try_from(f).ok())
            else {
                return pos;
            };
            let (length, caplen) = (field(fixed, 4), field(fixed, 20));
            let whole = length as usize;
            if field(fixed, 0) != ENHANCED_PACKET
                || length < MIN_PACKET
                || !length.is_multiple_of(4)
                || whole > MAX_HELD_BLOCK
                || caplen > length - MIN_PACKET
                || caplen as usize > MAX_CAPLEN
            {
                return pos;
            }
            let Some(trailer) = u32_in::<BIG>(bytes, pos + whole - 4) else {
                return pos;
            };
            let Some(interface) = self.interfaces.get(field(fixed, 8) as usize) else {
                return pos;
            };
            if trailer != length {
                return pos;
            }
            let units = (u64::from(field(fixed, 12)) << 32) | u64::from(field(fixed, 16));
            let info = PacketInfo {
                ts_nanos: interface.timestamp(units),
                link_type: interface.link_type,
                orig_len: field(fixed, 24),
                caplen: caplen as usize,
            };
            *packets += 1;
            each(&info, pos + 8 + PACKET_FIXED, *packets);
            pos += whole;
        }
    }

    /// Whether a block of `length` bytes starting `bytes` is held whole (its trailer checked),
    /// still to come (`Wait` with the bytes it needs), or, longer than `MAX_HELD_BLOCK`, to
    /// be skipped after its first `keep` bytes (which must be there; `skipping` is set).
    #[inline]
    fn held(&mut self, bytes: &[u8], length: u32, keep: usize) -> Result<Held, ReadError> {
        let whole = length as usize;
        if whole <= MAX_HELD_BLOCK {
            let Some(block) = bytes.get(..whole) else {
                return Ok(Held::Wait(whole));
            };
            self.check_trailer(&block[whole - 4..], length)?;
            return Ok(Held::Whole);
        }
        if bytes.len() < keep {
            return Ok(Held::Wait(keep));
        }
        self.skipping = Some(Skip {
            left: u64::from(length) - 4 - keep as u64,
            length,
            numbered: false,
        });
        Ok(Held::Skipped)
    }

    /// Whether `walk` stopped inside a block it was skipping (the file must not end there).
    pub(super) fn mid_block(&self) -> bool {
        self.skipping.is_some()
    }
}

/// What `PcapngReader::held` found.
enum Held {
    Whole,
    Wait(usize),
    Skipped,
}

/// A block this reader skips (any but section, interface and packet blocks) must have a
/// plausible length.
fn check_skipped_block(block_type: u32, length: u32) -> Result<(), ReadError> {
    check_length(length, BLOCK_OVERHEAD, "block")?;
    if length > MAX_SKIPPED_BLOCK {
        return Err(ReadError::Corrupt(format!(
            "block of type {block_type:#x} claims {length} bytes, \
             more than the {MAX_SKIPPED_BLOCK}-byte limit"
        )));
    }
    Ok(())
}

/// The body length of an Interface Description Block of `length` bytes, checked.
fn interface_body_len(length: u32) -> Result<usize, ReadError> {
    check_length(
        length,
        MIN_INTERFACE_DESCRIPTION,
        "interface description block",
    )?;
    Ok(usize::try_from(length.saturating_sub(BLOCK_OVERHEAD)).unwrap_or(usize::MAX))
}

fn interface_too_long(length: u32) -> ReadError {
    ReadError::Corrupt(format!(
        "interface description block claims {length} bytes, more than the \
         {MAX_CAPLEN}-byte limit"
    ))
}

/// The captured length of a packet block's data, checked against `room` (the body bytes left
/// after the fixed fields), and the bytes after it (padding, options).
#[inline]
fn data_and_rest(caplen: u32, room: u32, length: u32) -> Result<(usize, u32), ReadError> {
    let caplen_usize = usize::try_from(caplen).unwrap_or(usize::MAX);
    if caplen_usize > MAX_CAPLEN {
        return Err(ReadError::Corrupt(format!(
            "packet claims {caplen} captured bytes, more than the {MAX_CAPLEN}-byte limit"
        )));
    }
    if caplen > room {
        return Err(ReadError::Corrupt(format!(
            "{caplen} captured bytes do not fit in a block of {length} bytes"
        )));
    }
    let rest = room.saturating_sub(caplen);
    if rest > MAX_SKIPPED_BLOCK {
        return Err(ReadError::Corrupt(format!(
            "packet block claims {length} bytes for {caplen} bytes of data"
        )));
    }
    Ok((caplen_usize, rest))
}

/// Padding is 0-3 bytes after every packet: read it through a stack buffer rather than the
/// generic copy loop.
fn skip_small(input: &mut impl Read, count: u32) -> Result<(), ReadError> {
    let mut scratch = [0u8; 64];
    match scratch.get_mut(..usize::try_from(count).unwrap_or(usize::MAX)) {
        Some(bytes) => read_exact(input, bytes),
        None => skip(input, u64::from(count)),
    }
}

fn check_length(length: u32, minimum: u32, what: &str) -> Result<(), ReadError> {
    if length < minimum {
        return Err(ReadError::Corrupt(format!(
            "{what} claims {length} bytes, less than its minimum of {minimum}"
        )));
    }
    if !length.is_multiple_of(4) {
        return Err(ReadError::Corrupt(format!(
            "{what} claims {length} bytes, not a multiple of 4"
        )));
    }
    Ok(())
}

/// Link type, snap length and clock from an Interface Description Block body (without the
/// block header and trailer). Options past a malformed one are ignored, not fatal: the
/// defaults (microseconds, no offset) are what a reader without options would use anyway.
fn parse_interface(endian: Endian, body: &[u8]) -> Option<Interface> {
    let link_type = u32::from(endian.u16(body, 0)?);
    let snaplen = endian.u32(body, 4)?;
    let mut interface = Interface {
        link_type,
        snaplen,
        clock: Clock::from_tsresol(6),
        offset_secs: 0,
    };
    let mut options = body.get(8..).unwrap_or_default();
    while let (Some(code), Some(len)) = (endian.u16(options, 0), endian.u16(options, 2)) {
        if code == OPT_END {
            break;
        }
        let len = usize::from(len);
        let Some(value) = options.get(4..4usize.saturating_add(len)) else {
            break;
        };
        match (code, value) {
            (OPT_IF_TSRESOL, [tsresol]) => interface.clock = Clock::from_tsresol(*tsresol),
            (OPT_IF_TSOFFSET, _) if len == 8 => {
                interface.offset_secs = endian.i64(value, 0).unwrap_or(0);
            }
            _ => {}
        }
        // Values are padded to 4 bytes; len <= 65535, so none of this can overflow.
        let padded = len.saturating_add(3) & !3;
        options = options.get(padded.saturating_add(4)..).unwrap_or_default();
    }
    Some(interface)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::file::CaptureError;
    use crate::capture::test_fixtures::{
        check_every_prefix, expected_sample_pcapng, read_all, read_bytes, sample_pcapng, source,
        Ng, FRAME_A,
    };

    #[test]
    fn pcapng_sections_interfaces_and_block_kinds() {
        let ng = sample_pcapng();
        let mut source = source(&ng.bytes).expect("pcapng");
        assert_eq!(source.format(), "pcapng");
        let (packets, err) = read_all(&mut source);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(packets, expected_sample_pcapng());
        // The custom block is frame 3, as tshark numbers it.
        assert_eq!(source.packets_read(), 6);
        // Fused: the end stays the end.
        assert!(matches!(source.next_packet(), Ok(None)));
    }

    #[test]
    fn simple_packet_is_cut_to_the_snap_length() {
        let mut ng = Ng::new(true);
        ng.idb(1, 8, &[]).spb(60, &FRAME_A[..8]);
        let (packets, err) = read_bytes(&ng.bytes).expect("pcapng");
        assert!(err.is_none(), "{err:?}");
        assert_eq!(
            (packets[0].orig_len, packets[0].data.as_slice()),
            (60, &FRAME_A[..8])
        );
        // Original length larger than the block holds, with no snap length to explain it.
        let mut ng = Ng::new(false);
        ng.idb(1, 0, &[]).spb(60, FRAME_A);
        let (_, err) = read_bytes(&ng.bytes).expect("pcapng");
        assert!(
            matches!(err, Some(CaptureError::Corrupt { packet: 1, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn a_new_section_forgets_its_interfaces() {
        let mut ng = Ng::new(false);
        ng.idb(1, 0, &[])
            .idb(1, 0, &[])
            .epb(1, 0, 5, b"abcde")
            .section(false)
            .idb(1, 0, &[]);
        ng.epb(1, 0, 5, b"abcde");
        let (packets, err) = read_bytes(&ng.bytes).expect("pcapng");
        assert_eq!(packets.len(), 1);
        let err = err.expect("unknown interface");
        assert!(
            matches!(err, CaptureError::Corrupt { packet: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("interface 1"), "{err}");
        // No interface at all.
        let mut ng = Ng::new(false);
        ng.spb(5, b"abcde");
        let (_, err) = read_bytes(&ng.bytes).expect("pcapng");
        assert!(
            matches!(err, Some(CaptureError::Corrupt { packet: 1, .. })),
            "{err:?}"
        );
    }

    /// Damage the last block of the sample at a given offset from its start.
    fn damaged_sample(offset_in_last_block: usize, value: u32, big: bool) -> Vec<u8> {
        let ng = sample_pcapng();
        let start = ng.block_ends[ng.block_ends.len() - 2];
        let mut bytes = ng.bytes.clone();
        let raw = if big {
            value.to_be_bytes()
        } else {
            value.to_le_bytes()
        };
        bytes[start + offset_in_last_block..start + offset_in_last_block + 4].copy_from_slice(&raw);
        bytes
    }

    #[test]
    fn pcapng_length_faults_are_corrupt() {
        let cases = [
            (4, 34, "not a multiple of 4"),
            (4, 8, "less than its minimum"),
            (20, 300_000, "more than the 262144-byte limit"),
            (20, 64, "do not fit"),
            (8, 9, "interface 9"),
        ];
        for (offset, value, reason) in cases {
            let (packets, err) = read_bytes(&damaged_sample(offset, value, true)).expect("pcapng");
            assert_eq!(packets.len(), 4, "{reason}");
            let err = err.expect(reason);
            assert!(
                matches!(err, CaptureError::Corrupt { packet: 6, .. }),
                "{err}"
            );
            assert!(err.to_string().contains(reason), "{err}");
        }
        // A block length running past the end of the file reads as a cut file.
        let (packets, err) = read_bytes(&damaged_sample(4, 1024, true)).expect("pcapng");
        assert_eq!(packets.len(), 4);
        assert!(
            matches!(err, Some(CaptureError::Truncated { packet: 6, .. })),
            "{err:?}"
        );
        // The trailing length differs from the leading one.
        let mut bytes = sample_pcapng().bytes;
        let end = bytes.len();
        bytes[end - 1] ^= 4;
        let (packets, err) = read_bytes(&bytes).expect("pcapng");
        assert_eq!(packets.len(), 4);
        assert!(err.expect("trailer").to_string().contains("at its end"));
    }

    #[test]
    fn pcapng_section_faults_are_corrupt() {
        let ng = sample_pcapng();
        // Second section header: byte-order magic, then major version.
        let second = ng.block_ends[9];
        let mut bad_magic = ng.bytes.clone();
        bad_magic[second + 8] = 0x99;
        let (packets, err) = read_bytes(&bad_magic).expect("pcapng");
        assert_eq!(packets.len(), 4);
        assert!(err.expect("bom").to_string().contains("byte-order magic"));
        let mut version_2 = ng.bytes.clone();
        version_2[second + 13] = 2;
        let (_, err) = read_bytes(&version_2).expect("pcapng");
        assert!(err.expect("version").to_string().contains("version 2.0"));
        // The same in the first section is reported when opening.
        let mut first = ng.bytes.clone();
        first[9] = 0x99;
        let err = source(&first).expect_err("bad first section");
        assert!(
            matches!(err, CaptureError::Corrupt { packet: 1, .. }),
            "{err}"
        );
        // A skipped block claiming 1 GiB.
        let mut huge = ng.bytes.clone();
        let nrb = ng.block_ends[3];
        huge[nrb + 4..nrb + 8].copy_from_slice(&(1u32 << 30).to_le_bytes());
        let (packets, err) = read_bytes(&huge).expect("pcapng");
        assert_eq!(packets.len(), 1);
        assert!(
            matches!(err, Some(CaptureError::Corrupt { packet: 2, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn every_prefix_of_a_pcapng() {
        let ng = sample_pcapng();
        check_every_prefix(
            &ng.bytes,
            ng.block_ends[0],
            &ng.block_ends,
            &ng.packet_ends,
            &ng.frame_ends,
        );
    }

    #[test]
    fn clock_from_tsresol() {
        assert_eq!(Clock::from_tsresol(6), Clock::NanosPerUnit(1_000));
        assert_eq!(Clock::from_tsresol(9), Clock::NanosPerUnit(1));
        assert_eq!(Clock::from_tsresol(0), Clock::NanosPerUnit(1_000_000_000));
        assert_eq!(
            Clock::from_tsresol(12),
            Clock::UnitsPerSecond(1_000_000_000_000)
        );
        assert_eq!(
            Clock::from_tsresol(0x80 | 3),
            Clock::NanosPerUnit(125_000_000)
        );
        assert_eq!(
            Clock::from_tsresol(0x80 | 20),
            Clock::UnitsPerSecond(1 << 20)
        );
        // 10^127 does not fit: every timestamp is then below a nanosecond.
        assert_eq!(Clock::from_tsresol(0x7f).nanos(u64::MAX), 0);
        assert_eq!(Clock::from_tsresol(0xff).nanos(u64::MAX), 0);
        // 2^-20 s units: 1.5 s is 1_572_864 units.
        assert_eq!(
            Clock::from_tsresol(0x80 | 20).nanos(1_572_864),
            1_500_000_000
        );
        assert_eq!(
            Clock::from_tsresol(12).nanos(1_234_567_891_999),
            1_234_567_891
        );
        assert_eq!(
            Clock::from_tsresol(0).nanos(u64::MAX),
            u128::from(u64::MAX) * 1_000_000_000
        );
    }

    #[test]
    fn timestamps_clamp_instead_of_overflowing() {
        let mut interface = Interface {
            link_type: 1,
            snaplen: 0,
            clock: Clock::from_tsresol(0),
            offset_secs: 0,
        };
        assert_eq!(interface.timestamp(u64::MAX), u64::MAX);
        interface.offset_secs = -10;
        assert_eq!(interface.timestamp(3), 0);
        assert_eq!(interface.timestamp(11), 1_000_000_000);
        interface.offset_secs = i64::MAX;
        assert_eq!(interface.timestamp(0), u64::MAX);
    }

    /// IDB body of zeek/pcapng-multi-interface.pcapng interface 0 (file offset 0x88): Ethernet,
    /// snaplen 262144, if_name "eth0", if_tsresol 9, if_os "Linux 6.8.0-90-generic", end.
    const MULTI_INTERFACE_IDB0: [u8; 56] = [
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00, 0x02, 0x00, 0x04, 0x00, 0x65, 0x74, 0x68,
        0x30, 0x09, 0x00, 0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x16, 0x00, 0x4c, 0x69,
        0x6e, 0x75, 0x78, 0x20, 0x36, 0x2e, 0x38, 0x2e, 0x30, 0x2d, 0x39, 0x30, 0x2d, 0x67, 0x65,
        0x6e, 0x65, 0x72, 0x69, 0x63, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn parses_interface_options() {
        let interface = parse_interface(Endian::Little, &MULTI_INTERFACE_IDB0).expect("idb");
        assert_eq!(interface.link_type, 1);
        assert_eq!(interface.snaplen, 262_144);
        assert_eq!(interface.clock, Clock::NanosPerUnit(1));
        assert_eq!(interface.offset_secs, 0);
        for end in 0..MULTI_INTERFACE_IDB0.len() {
            let cut = MULTI_INTERFACE_IDB0.get(..end).expect("prefix");
            let _ = parse_interface(Endian::Little, cut);
            let _ = parse_interface(Endian::Big, cut);
        }
    }

    #[test]
    fn parses_tsoffset_and_stops_at_a_malformed_option() {
        let body = [
            0x00, 0x71, 0x00, 0x00, 0x00, 0x00, 0xff,
            0xff, // link type 113 (SLL), snaplen 65535
            0x00, 0x0e, 0x00, 0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xfe, // offset -2 s
            0x00, 0x09, 0x00, 0x01, 0x83, 0x00, 0x00, 0x00, // if_tsresol 2^-3
            0x00, 0x09, 0x00, 0x09, 0x06, // if_tsresol again, length running past the end
        ];
        let interface = parse_interface(Endian::Big, &body).expect("idb");
        assert_eq!((interface.link_type, interface.snaplen), (113, 65_535));
        assert_eq!(interface.offset_secs, -2);
        assert_eq!(interface.clock, Clock::NanosPerUnit(125_000_000));
        assert_eq!(interface.timestamp(24), 1_000_000_000);
    }

    #[test]
    fn length_checks() {
        assert!(check_length(12, 12, "block").is_ok());
        assert!(matches!(
            check_length(8, 12, "block"),
            Err(ReadError::Corrupt(_))
        ));
        assert!(matches!(
            check_length(14, 12, "block"),
            Err(ReadError::Corrupt(_))
        ));
    }
}
