//! Streaming reader for capture files: pcap (µs or ns timestamps, both byte orders, and
//! Kuznetzov's "modified" records), pcapng (every section, every interface with its own link
//! type and clock), either one gzip-compressed, from a path or from stdin (`-`).
//!
//! Memory stays bounded whatever the file size: one 256 KiB read buffer and one reusable
//! 256 KiB packet buffer; nothing is allocated per packet and the file is never read whole.
//! A file can also be read chunk by chunk into the caller's buffers (`read_chunk`, used by the
//! batch reader): pcap records and pcapng blocks are walked where the read put them, with no
//! copy at all.
//! The format comes from the magic bytes only, never from the name (public corpora hold
//! `.pcap` files that are pcapng and the reverse).
//!
//! It refuses to guess. A record longer than 256 KiB (Wireshark's limit too), a block whose
//! lengths disagree, or a packet naming an interface that was never described ends the file
//! with [`CaptureError::Corrupt`]; a file that stops inside a record ends it with
//! [`CaptureError::Truncated`]. Both name the file and the packet number, so the caller can
//! warn and keep what was read. It never looks inside the frames.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use super::pcap::PcapReader;
use super::pcapng::{PcapngReader, MAX_HELD_BLOCK};
use super::RawPacket;

/// Largest captured length accepted for one packet; Wireshark's `WTAP_MAX_PACKET_SIZE_STANDARD`.
/// Anything longer is a corrupt length field, not a packet.
pub(crate) const MAX_CAPLEN: usize = 256 * 1024;

/// Size of the read-ahead buffer between the file (or the gzip decoder) and the parsers.
const READ_BUFFER: usize = 256 * 1024;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Why a capture file could not be opened or read to its end. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    /// The operating system (or the gzip layer, for a non-data fault) refused a read.
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: io::Error,
    },
    /// Zero bytes: not even a file header.
    #[error("{file}: empty input (0 bytes), not a capture file")]
    Empty { file: String },
    /// The first bytes are neither a pcap nor a pcapng magic number.
    #[error("{file}: not a pcap or pcapng capture: it starts with {magic}")]
    NotACapture { file: String, magic: String },
    /// The input ends inside packet `packet` (or inside a header or block just before it);
    /// packets `1..packet` were returned intact.
    #[error("{file}: truncated: the file ends before packet {packet} is complete")]
    Truncated { file: String, packet: u64 },
    /// A length or reference that cannot be right, met while reading packet `packet`;
    /// packets `1..packet` were returned intact.
    #[error("{file}: corrupt at packet {packet}: {reason}")]
    Corrupt {
        file: String,
        packet: u64,
        reason: String,
    },
}

/// A capture file read one packet at a time.
pub struct FileSource {
    name: String,
    format: &'static str,
    input: BufReader<Box<dyn Read + Send>>,
    /// The one packet buffer, `MAX_CAPLEN` long, reused for every packet.
    packet: Vec<u8>,
    /// tshark's number of the last frame read: packets, plus the few non-packet blocks it numbers.
    packets: u64,
    reader: FormatReader,
    /// Set after the end of the file or the first error: the rest of the input is not trusted.
    finished: bool,
    /// Bytes read but not yet used by `read_chunk`: the start of a record or block that did
    /// not fit in the last chunk (at most `CARRY_MAX` bytes).
    carry: Vec<u8>,
    /// A second handle on the file, for reading it at given offsets (`positional`): only for
    /// an uncompressed capture that is a regular file.
    file: Option<File>,
}

/// Reads chunks of a capture file at their offsets, from any thread at once (`pread`), while
/// the `FileSource` walks their records or blocks in order (`FileSource::index_chunk`).
#[derive(Debug)]
pub struct Positional {
    file: File,
    /// Where the first chunk starts: the first byte the source had not read.
    start: u64,
}

impl Positional {
    /// Reads chunk number `index` (of `buf.len()` bytes each, every call the same length) into
    /// `buf`. Fewer bytes than `buf.len()`: the file ended within (or before) the chunk.
    pub(super) fn fetch(&self, index: u64, buf: &mut [u8]) -> io::Result<usize> {
        use std::os::unix::fs::FileExt;
        let offset = index
            .checked_mul(buf.len() as u64)
            .and_then(|o| o.checked_add(self.start))
            .ok_or_else(|| io::Error::other("capture offset overflows"))?;
        let mut filled = 0;
        while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
            match self.file.read_at(rest, offset + filled as u64) {
                Ok(0) => break,
                Ok(n) => filled = filled.saturating_add(n).min(buf.len()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        Ok(filled)
    }
}

/// The room `read_chunk` needs: the largest record or held pcapng block, whole, after any
/// carried bytes.
pub(super) const MIN_CHUNK: usize = 2 * (MAX_CAPLEN + 64);
/// The most bytes `carry` holds: the read-ahead, or the start of a record (a header and
/// `MAX_CAPLEN` bytes) or of a held pcapng block.
pub(super) const CARRY_MAX: usize = if READ_BUFFER > MAX_HELD_BLOCK {
    READ_BUFFER
} else {
    MAX_HELD_BLOCK
};
const _: () = assert!(MAX_HELD_BLOCK >= MAX_CAPLEN + 24 && MIN_CHUNK >= 2 * MAX_HELD_BLOCK);

/// How a chunk ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ChunkEnd {
    /// The chunk is full (what did not fit is carried over to the next one).
    Full,
    /// The file ended cleanly after the chunk's records.
    End,
}

enum FormatReader {
    Pcap(PcapReader),
    Pcapng(PcapngReader),
}

impl FileSource {
    /// Opens a path; "-" means stdin. Format detected from magic bytes, never from the name:
    /// pcap, pcapng, or gzip (1f 8b) wrapping either.
    pub fn open(path: &Path) -> Result<FileSource, CaptureError> {
        if path.as_os_str() == "-" {
            return Self::from_reader("<stdin>".to_string(), Box::new(io::stdin()));
        }
        let name = path.display().to_string();
        match File::open(path) {
            Ok(file) => {
                // Positional reads need a regular file (not a pipe or a device).
                let regular = file.metadata().is_ok_and(|m| m.is_file());
                #[cfg(any(target_os = "linux", target_os = "android"))]
                if regular {
                    // An audit reads each capture once: the kernel need not keep its pages
                    // ahead of the box's own working set, nor mark them on every read (Linux
                    // 6.3 and later; a hint, so a refusal changes nothing).
                    let _ = nix::fcntl::posix_fadvise(
                        &file,
                        0,
                        0,
                        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_NOREUSE,
                    );
                }
                let second = Some(&file)
                    .filter(|_| regular)
                    .and_then(|f| f.try_clone().ok());
                let mut source = Self::from_reader(name, Box::new(file))?;
                // Not through gzip: offsets in the file are not offsets in the capture.
                source.file = second.filter(|_| matches!(source.format, "pcap" | "pcapng"));
                Ok(source)
            }
            Err(source) => Err(CaptureError::Io { file: name, source }),
        }
    }

    /// Reads a capture from any byte stream; `name` is used in error messages only.
    pub fn from_reader(
        name: String,
        reader: Box<dyn Read + Send>,
    ) -> Result<FileSource, CaptureError> {
        let mut input = BufReader::with_capacity(READ_BUFFER, reader);
        let mut magic = [0u8; 4];
        let mut seen = read_magic(&name, &mut input, &mut magic)?;
        let mut gzip = false;
        if magic.starts_with(&GZIP_MAGIC) && seen >= GZIP_MAGIC.len() {
            // Put the bytes already taken back in front of the stream the decoder reads.
            let raw = io::Cursor::new(magic).take(seen as u64).chain(input);
            let decoder: Box<dyn Read + Send> = Box::new(flate2::read::MultiGzDecoder::new(raw));
            input = BufReader::with_capacity(READ_BUFFER, decoder);
            gzip = true;
            seen = read_magic(&name, &mut input, &mut magic)?;
        }
        let opened = if seen < magic.len() {
            None
        } else if let Some(kind) = PcapReader::detect(magic) {
            Some(PcapReader::open(kind, &mut input).map(FormatReader::Pcap))
        } else if PcapngReader::detect(magic) {
            Some(PcapngReader::open(&mut input).map(FormatReader::Pcapng))
        } else {
            None
        };
        let reader = match opened {
            Some(Ok(reader)) => reader,
            Some(Err(err)) => return Err(err.into_capture_error(name, 1)),
            None => {
                let mut shown = describe_magic(magic.get(..seen).unwrap_or_default());
                if gzip {
                    shown.push_str(" once gunzipped");
                }
                return Err(CaptureError::NotACapture {
                    file: name,
                    magic: shown,
                });
            }
        };
        let format = match (&reader, gzip) {
            (FormatReader::Pcap(_), false) => "pcap",
            (FormatReader::Pcap(_), true) => "pcap (gzip)",
            (FormatReader::Pcapng(_), false) => "pcapng",
            (FormatReader::Pcapng(_), true) => "pcapng (gzip)",
        };
        Ok(FileSource {
            name,
            format,
            input,
            packet: vec![0; MAX_CAPLEN],
            packets: 0,
            reader,
            finished: false,
            carry: Vec::new(),
            file: None,
        })
    }

    /// Next packet; Ok(None) at a clean end of file. An Err for a truncated/corrupt file: the caller
    /// records it as a warning (file + packet number) and stops reading this file, keeping what was read.
    /// After an Err every further call returns Ok(None).
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, CaptureError> {
        let mut buf = std::mem::take(&mut self.packet);
        let next = self.next_packet_into(&mut buf);
        self.packet = buf;
        Ok(next?.and_then(|info| {
            Some(RawPacket {
                ts_nanos: info.ts_nanos,
                link_type: info.link_type,
                orig_len: info.orig_len,
                data: self.packet.get(..info.caplen)?,
            })
        }))
    }

    /// `next_packet`, the frame's bytes going to `buf[..caplen]` (`buf` at least
    /// `MAX_CAPLEN` long).
    fn next_packet_into(&mut self, buf: &mut [u8]) -> Result<Option<PacketInfo>, CaptureError> {
        if self.finished {
            return Ok(None);
        }
        // Exactly MAX_CAPLEN, whatever the caller has: the limits on records and blocks are
        // the buffer's length, and must not depend on who reads.
        let buf = match buf.get_mut(..MAX_CAPLEN) {
            Some(buf) => buf,
            None => buf,
        };
        let next = match &mut self.reader {
            FormatReader::Pcap(reader) => reader.next(&mut self.input, buf),
            FormatReader::Pcapng(reader) => reader.next(&mut self.input, buf),
        };
        if let FormatReader::Pcapng(reader) = &mut self.reader {
            self.packets = self.packets.saturating_add(reader.take_unreturned_frames());
        }
        let packet_number = self.packets.saturating_add(1);
        let info = match next {
            Ok(Some(info)) => info,
            Ok(None) => {
                self.finished = true;
                return Ok(None);
            }
            Err(err) => {
                self.finished = true;
                return Err(err.into_capture_error(self.name.clone(), packet_number));
            }
        };
        if info.caplen > buf.len() {
            self.finished = true;
            return Err(CaptureError::Corrupt {
                file: self.name.clone(),
                packet: packet_number,
                reason: format!("captured length {} exceeds the buffer", info.caplen),
            });
        }
        self.packets = packet_number;
        Ok(Some(info))
    }

    /// Reads pcap records or pcapng blocks straight into `chunk` (at least `MIN_CHUNK` long)
    /// and calls `each(info, start, frame)` for each packet, whose bytes are
    /// `chunk[start..start + caplen]`: no copy between the read and the caller. A record or
    /// block that does not fit whole is carried to the next call. After an Err (every packet
    /// before the damage was handed over) or the end, every call returns `End`.
    pub(super) fn read_chunk(
        &mut self,
        chunk: &mut [u8],
        mut each: impl FnMut(&PacketInfo, usize, u64),
    ) -> Result<ChunkEnd, CaptureError> {
        if self.finished || chunk.len() < MIN_CHUNK {
            return Ok(ChunkEnd::End);
        }
        self.carry_read_ahead();
        let mut filled = self.carry.len();
        chunk
            .get_mut(..filled)
            .unwrap_or_default()
            .copy_from_slice(&self.carry);
        self.carry.clear();
        let mut pos = 0;
        let mut eof = false;
        loop {
            let walked = walk_any(
                &mut self.reader,
                &mut self.packets,
                chunk,
                pos,
                filled,
                &mut each,
            );
            let need = match walked {
                Ok((at, need)) => {
                    pos = at;
                    need
                }
                Err(err) => return Err(self.chunk_failed(err)),
            };
            let have = filled - pos;
            if eof {
                return self.chunk_ended(have);
            }
            if chunk.len() - pos < need {
                // No room for this record or block here: it starts the next chunk.
                self.carry
                    .extend_from_slice(chunk.get(pos..filled).unwrap_or_default());
                return Ok(ChunkEnd::Full);
            }
            let room = chunk.get_mut(filled..).unwrap_or_default();
            match self.input.get_mut().read(room) {
                Ok(0) => eof = true,
                Ok(n) => filled = filled.saturating_add(n).min(chunk.len()),
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(self.chunk_failed(err.into())),
            }
        }
    }

    /// Hands the file over to positional reading (`Positional::fetch`), when it is an
    /// uncompressed capture that is a regular file; from then on only `index_chunk` reads
    /// from this source.
    pub fn positional(&mut self) -> Option<Positional> {
        if self.finished {
            return None;
        }
        let file = self.file.take()?;
        // The two handles share one file offset: where the reads so far (header detection's
        // read-ahead) stopped. What the read-ahead holds beyond the header is carried.
        let start = io::Seek::stream_position(&mut &file).ok()?;
        self.carry_read_ahead();
        Some(Positional { file, start })
    }

    /// What the header detection read ahead (at most `READ_BUFFER` bytes) goes to `carry`:
    /// chunked reading bypasses the `BufReader`.
    fn carry_read_ahead(&mut self) {
        let held = self.input.buffer().len();
        self.carry.extend_from_slice(self.input.buffer());
        self.input.consume(held);
    }

    /// The records or blocks of a chunk fetched by `Positional::fetch` into `data[head..]`
    /// (`fetched`: what that returned; `head` must be at least `CARRY_MAX`), chunks taken in
    /// file order: the start of a record or block that the last chunk cut is put back before
    /// it, then `each(info, start, frame)` is called as by `read_chunk`. A chunk shorter than
    /// `data[head..]` is the file's end.
    pub(super) fn index_chunk(
        &mut self,
        data: &mut [u8],
        head: usize,
        fetched: io::Result<usize>,
        mut each: impl FnMut(&PacketInfo, usize, u64),
    ) -> Result<ChunkEnd, CaptureError> {
        if self.finished {
            return Ok(ChunkEnd::End);
        }
        let got = match fetched {
            Ok(got) => got,
            Err(err) => return Err(self.chunk_failed(err.into())),
        };
        let start = head.saturating_sub(self.carry.len());
        let Some(room) = data
            .get_mut(start..head)
            .filter(|r| r.len() == self.carry.len())
        else {
            let reason = "record does not fit the read buffer".to_string();
            return Err(self.chunk_failed(ReadError::Corrupt(reason)));
        };
        room.copy_from_slice(&self.carry);
        self.carry.clear();
        let filled = head.saturating_add(got).min(data.len());
        let walked = walk_any(
            &mut self.reader,
            &mut self.packets,
            data,
            start,
            filled,
            &mut each,
        );
        let pos = match walked {
            Ok((pos, _)) => pos,
            Err(err) => return Err(self.chunk_failed(err)),
        };
        if filled < data.len() {
            return self.chunk_ended(filled - pos);
        }
        self.carry
            .extend_from_slice(data.get(pos..filled).unwrap_or_default());
        Ok(ChunkEnd::Full)
    }

    /// Chunk-wise reading stops at `err`, met in the record after the last one handed out.
    fn chunk_failed(&mut self, err: ReadError) -> CaptureError {
        self.finished = true;
        err.into_capture_error(self.name.clone(), self.packets + 1)
    }

    /// Chunk-wise reading reached the file's end with `rest` bytes of a record left over: a
    /// clean end when there are none, else the file is cut short in that record.
    fn chunk_ended(&mut self, rest: usize) -> Result<ChunkEnd, CaptureError> {
        let mid_block = matches!(&self.reader, FormatReader::Pcapng(r) if r.mid_block());
        if rest == 0 && !mid_block {
            self.finished = true;
            return Ok(ChunkEnd::End);
        }
        Err(self.chunk_failed(ReadError::Truncated))
    }

    /// Number of packets returned so far (= 1-based frame number of the last packet, as tshark counts).
    ///
    /// tshark also numbers a few pcapng blocks that hold no packet (custom, systemd journal,
    /// Sysdig event blocks); they are skipped but counted, so this stays tshark's frame number
    /// and may then exceed the number of packets actually returned.
    pub fn packets_read(&self) -> u64 {
        self.packets
    }

    /// The path as given, or `<stdin>`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// "pcap" or "pcapng", with a " (gzip)" suffix when the file was compressed.
    pub fn format(&self) -> &'static str {
        self.format
    }
}

impl fmt::Debug for FileSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileSource")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("packets_read", &self.packets)
            .finish_non_exhaustive()
    }
}

/// `walk` for either format (pcapng: `PcapngReader::walk`).
fn walk_any(
    reader: &mut FormatReader,
    packets: &mut u64,
    chunk: &[u8],
    pos: usize,
    filled: usize,
    each: &mut impl FnMut(&PacketInfo, usize, u64),
) -> Result<(usize, usize), ReadError> {
    // A pcap file's byte order is chosen here, once per chunk, not at every field.
    match reader {
        FormatReader::Pcap(reader) if reader.big_endian() => {
            walk::<true>(reader, packets, chunk, pos, filled, each)
        }
        FormatReader::Pcap(reader) => walk::<false>(reader, packets, chunk, pos, filled, each),
        FormatReader::Pcapng(reader) => reader.walk(packets, chunk, pos, filled, each),
    }
}

/// Walks the whole pcap records in `chunk[pos..filled]`, calling `each(info, start, frame)`
/// for each (its bytes are `chunk[start..start + caplen]`, `packets` counts it), the file
/// big-endian or not (`BIG`). Returns where the first record that is not whole starts, and
/// the bytes that record needs in all (its header, or its header and bytes once the header is
/// there).
#[inline(always)]
fn walk<const BIG: bool>(
    reader: &PcapReader,
    packets: &mut u64,
    chunk: &[u8],
    mut pos: usize,
    filled: usize,
    each: &mut impl FnMut(&PacketInfo, usize, u64),
) -> Result<(usize, usize), ReadError> {
    let header_len = reader.header_len();
    loop {
        let have = filled.saturating_sub(pos);
        let mut need = header_len;
        if let Some(header) = chunk.get(pos..pos + header_len).filter(|_| have >= need) {
            let info = reader.record_in::<BIG>(header)?;
            need += info.caplen;
            if have >= need {
                *packets += 1;
                each(&info, pos + header_len, *packets);
                pos += need;
                continue;
            }
        }
        return Ok((pos, need));
    }
}

/// Reads the first (up to) 4 bytes; zero bytes is its own error.
fn read_magic(
    name: &str,
    input: &mut impl Read,
    magic: &mut [u8; 4],
) -> Result<usize, CaptureError> {
    match read_up_to(input, magic) {
        Ok(0) => Err(CaptureError::Empty {
            file: name.to_string(),
        }),
        Ok(seen) => Ok(seen),
        Err(err) => Err(err.into_capture_error(name.to_string(), 1)),
    }
}

/// Hex of the first bytes, plus their text when printable (an HTML page or a CSV is then obvious).
fn describe_magic(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let mut shown = hex.join(" ");
    if bytes.len() < 4 {
        shown = format!("{shown} (only {} bytes)", bytes.len());
    } else if bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        shown = format!("{shown} (\"{}\")", String::from_utf8_lossy(bytes));
    }
    shown
}

/// Where a format reader stopped; the file name and packet number are added by [`FileSource`].
#[derive(Debug)]
pub(super) enum ReadError {
    Truncated,
    Corrupt(String),
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(err: io::Error) -> Self {
        match err.kind() {
            // The gzip decoder says a stream cut short this way.
            io::ErrorKind::UnexpectedEof => ReadError::Truncated,
            // The gzip decoder's word for damaged compressed data (bad header, bad deflate, CRC).
            io::ErrorKind::InvalidInput | io::ErrorKind::InvalidData => {
                ReadError::Corrupt(format!("gzip: {err}"))
            }
            _ => ReadError::Io(err),
        }
    }
}

impl ReadError {
    fn into_capture_error(self, file: String, packet: u64) -> CaptureError {
        match self {
            ReadError::Truncated => CaptureError::Truncated { file, packet },
            ReadError::Corrupt(reason) => CaptureError::Corrupt {
                file,
                packet,
                reason,
            },
            ReadError::Io(source) => CaptureError::Io { file, source },
        }
    }
}

/// What a format reader found: the packet's bytes are `packet[..caplen]` of the shared buffer.
#[derive(Debug, Clone, Copy)]
pub(super) struct PacketInfo {
    pub(super) ts_nanos: u64,
    pub(super) link_type: u32,
    pub(super) orig_len: u32,
    pub(super) caplen: usize,
}

/// Byte order of a pcap file or of one pcapng section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Endian {
    Little,
    Big,
}

/// The `u32` at `at` in one byte order (`BIG`: big-endian), for loops that choose the order
/// once rather than at every field (`Endian::u32` chooses it per call).
#[inline(always)]
pub(super) fn u32_in<const BIG: bool>(bytes: &[u8], at: usize) -> Option<u32> {
    let raw = Endian::bytes(bytes, at)?;
    Some(if BIG {
        u32::from_be_bytes(raw)
    } else {
        u32::from_le_bytes(raw)
    })
}

impl Endian {
    fn bytes<const N: usize>(bytes: &[u8], at: usize) -> Option<[u8; N]> {
        bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    pub(super) fn u16(self, bytes: &[u8], at: usize) -> Option<u16> {
        let raw = Self::bytes(bytes, at)?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(raw),
            Endian::Big => u16::from_be_bytes(raw),
        })
    }

    pub(super) fn u32(self, bytes: &[u8], at: usize) -> Option<u32> {
        match self {
            Endian::Little => u32_in::<false>(bytes, at),
            Endian::Big => u32_in::<true>(bytes, at),
        }
    }

    pub(super) fn i64(self, bytes: &[u8], at: usize) -> Option<i64> {
        let raw = Self::bytes(bytes, at)?;
        Some(match self {
            Endian::Little => i64::from_le_bytes(raw),
            Endian::Big => i64::from_be_bytes(raw),
        })
    }
}

/// Fills `buf` as far as the input goes; a count short of `buf.len()` means the input ended.
pub(super) fn read_up_to(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, ReadError> {
    let mut filled = 0;
    while let Some(rest) = buf.get_mut(filled..).filter(|rest| !rest.is_empty()) {
        match input.read(rest) {
            Ok(0) => break,
            // `min` guards against a reader that claims more than it was given.
            Ok(n) => filled = filled.saturating_add(n).min(buf.len()),
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(filled)
}

/// Fills `buf` completely, or says the input was cut short.
pub(super) fn read_exact(input: &mut impl Read, buf: &mut [u8]) -> Result<(), ReadError> {
    if read_up_to(input, buf)? < buf.len() {
        Err(ReadError::Truncated)
    } else {
        Ok(())
    }
}

/// Discards `count` bytes without buffering them.
pub(super) fn skip(input: &mut impl Read, count: u64) -> Result<(), ReadError> {
    let skipped = io::copy(&mut input.by_ref().take(count), &mut io::sink())?;
    if skipped < count {
        Err(ReadError::Truncated)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Behaviour of the whole reader: errors, gzip, hostile input. Format details are tested
    //! beside each format (`pcap.rs`, `pcapng.rs`), the public corpus in `corpus_tests.rs`.

    use super::*;
    use crate::capture::test_fixtures::{
        damaged, expected_sample_pcapng, gzip, pcap, read_all, read_bytes, sample_pcap,
        sample_pcapng, source, xorshift, Ng, FRAME_A,
    };

    #[test]
    fn empty_and_foreign_inputs() {
        let err = source(b"").expect_err("empty");
        assert!(matches!(err, CaptureError::Empty { .. }));
        assert_eq!(
            err.to_string(),
            "test.bin: empty input (0 bytes), not a capture file"
        );
        let err = source(b"<html><body>").expect_err("html");
        assert!(matches!(err, CaptureError::NotACapture { .. }));
        assert!(err.to_string().contains("3c 68 74 6d (\"<htm\")"), "{err}");
        let err = source(b"\xd4\xc3").expect_err("two bytes");
        assert!(err.to_string().contains("d4 c3 (only 2 bytes)"), "{err}");
        let err = gzip_source(b"not a capture").expect_err("gzip text");
        assert!(err.to_string().contains("once gunzipped"), "{err}");
        let err = gzip_source(b"").expect_err("gzip of nothing");
        assert!(matches!(err, CaptureError::Empty { .. }), "{err}");
    }

    #[test]
    fn header_only_files_are_empty_captures() {
        let only_header = pcap(true, 0xa1b2_3c4d, 1, &[]);
        let (packets, err) = read_bytes(&only_header).expect("pcap header");
        assert!(packets.is_empty() && err.is_none());
        let ng = Ng::new(true);
        let (packets, err) = read_bytes(&ng.bytes).expect("pcapng header");
        assert!(packets.is_empty() && err.is_none());
    }

    #[test]
    fn missing_file_names_the_path() {
        let err = FileSource::open(Path::new("/nonexistent/x.pcap")).expect_err("missing");
        assert!(matches!(err, CaptureError::Io { .. }));
        assert!(
            err.to_string()
                .starts_with("/nonexistent/x.pcap: cannot read"),
            "{err}"
        );
        // A directory opens on Unix but cannot be read.
        let err = FileSource::open(&std::env::temp_dir()).expect_err("directory");
        assert!(matches!(err, CaptureError::Io { .. }), "{err}");
    }

    #[test]
    fn random_mutations_never_panic() {
        let samples = [
            sample_pcap(),
            sample_pcapng().bytes,
            pcap(true, 0xa1b2_cd34, 1, &[(1, 1, 9, FRAME_A)]),
        ];
        let mut state = 0x9e37_79b9_7f4a_7c15;
        for sample in &samples {
            for _ in 0..3_000 {
                let bytes = damaged(sample, &mut state);
                if let Ok(mut source) = source(&bytes) {
                    let _ = read_all(&mut source);
                }
            }
        }
    }

    fn gzip_source(bytes: &[u8]) -> Result<FileSource, CaptureError> {
        source(&gzip(bytes))
    }

    #[test]
    fn gzip_wraps_either_format() {
        let mut source = gzip_source(&sample_pcapng().bytes).expect("gzip pcapng");
        assert_eq!(source.format(), "pcapng (gzip)");
        let (packets, err) = read_all(&mut source);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(packets, expected_sample_pcapng());
        let mut source = gzip_source(&sample_pcap()).expect("gzip pcap");
        assert_eq!(source.format(), "pcap (gzip)");
        assert_eq!(read_all(&mut source).0.len(), 3);
    }

    #[test]
    fn cut_or_damaged_gzip_is_an_error_not_a_panic() {
        let compressed = gzip(&sample_pcapng().bytes);
        for len in 0..compressed.len() {
            if let Ok(mut source) = source(&compressed[..len]) {
                let (packets, err) = read_all(&mut source);
                assert!(packets.len() <= 5);
                assert!(
                    matches!(
                        err,
                        Some(CaptureError::Truncated { .. } | CaptureError::Corrupt { .. })
                    ),
                    "prefix {len}: {err:?}"
                );
            }
        }
        let mut state = 7;
        for _ in 0..500 {
            let mut bytes = compressed.clone();
            let at = 10 + (xorshift(&mut state) % (bytes.len() as u64 - 10)) as usize;
            bytes[at] ^= 1 << (xorshift(&mut state) % 8);
            if let Ok(mut source) = source(&bytes) {
                let _ = read_all(&mut source);
            }
        }
    }
}
