//! Reading a capture in batches: one buffer of frame bytes, plus each packet's time, link
//! type, lengths and frame number. Batches are reused, so a run allocates a handful of them,
//! not one buffer per packet, and order is kept: the packets of a run of batches are exactly
//! those `FileSource` returns, in the same order, with the same frame numbers.
//!
//! Three ways to fill one: `fill` reads on from where the last batch ended (any input);
//! `fetch` reads chunk number k of a regular pcap file at its offset (`pread`), so several
//! threads can read at once, and `index` then walks the chunks' records in order; and
//! `for_each_packet` fills batches on a second thread and hands the packets over one by one.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::file::{
    CaptureError, ChunkEnd, FileSource, PacketInfo, Positional, CARRY_MAX, MAX_CAPLEN, MIN_CHUNK,
};
use super::RawPacket;

/// Bytes of one batch's buffer. A pcap file is read into it in place, records and all; for
/// other formats it holds up to `BATCH_BYTES` of frames plus one more.
const CHUNK: usize = 1 << 20;
/// Packets per batch at most, when frames are copied in one by one (pcapng).
const BATCH_PACKETS: usize = 4096;
/// Frame bytes per batch at most when copied in (a batch may exceed it by one frame).
const BATCH_BYTES: usize = CHUNK - MAX_CAPLEN;
const _: () = assert!(CHUNK >= MIN_CHUNK && BATCH_BYTES >= MAX_CAPLEN);
/// Room before a fetched chunk (`fetch`) for the start of a record the last chunk cut.
const HEAD: usize = CARRY_MAX;
/// Batches in flight between the reader and the consumer.
const IN_FLIGHT: usize = 4;

/// A packet of a batch: (frame number, ts_nanos, link_type, orig_len, start, end).
type PacketRow = (u64, u64, u32, u32, usize, usize);

/// Packets read from a capture, in order: one buffer of frame bytes (a pcap file's records
/// read in place, or frames copied in one by one), plus each packet's frame number, time,
/// link type, lengths and place in the buffer. Reused from batch to batch.
pub struct Batch {
    /// `HEAD + CHUNK` bytes, allocated and zeroed once, so the file reader writes each frame
    /// (or a pcap file's records) straight into it; `used` bytes hold frames. A fetched chunk
    /// (`fetch`) lands after `HEAD`.
    data: Vec<u8>,
    used: usize,
    packets: Vec<PacketRow>,
    /// What the last `fetch` read, until `index` walks it.
    fetched: Option<std::io::Result<usize>>,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            data: vec![0; HEAD + CHUNK],
            used: 0,
            packets: Vec::with_capacity(BATCH_PACKETS),
            fetched: None,
        }
    }
}

impl Batch {
    fn clear(&mut self) {
        self.used = 0;
        self.packets.clear();
        self.fetched = None;
    }

    fn full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.used >= BATCH_BYTES
    }

    /// The frame number of the `index`th packet.
    pub fn frame(&self, index: usize) -> Option<u64> {
        self.packets.get(index).map(|p| p.0)
    }

    /// Whether the last `fetch` came back short of a whole chunk (the file ends in it), or
    /// failed: no chunk after it is worth fetching.
    pub fn fetched_short(&self) -> bool {
        !matches!(self.fetched, Some(Ok(n)) if n == CHUNK)
    }

    /// The whole buffer the packets' bytes are in (`packets` hands out slices of it).
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The packets, in file order, each with its 1-based frame number in the file.
    pub fn packets(&self) -> impl Iterator<Item = (u64, RawPacket<'_>)> + '_ {
        self.packets.iter().map(move |row| self.row(row))
    }

    /// The `index`th packet, with its frame number.
    pub fn packet(&self, index: usize) -> Option<(u64, RawPacket<'_>)> {
        self.packets.get(index).map(|row| self.row(row))
    }

    fn row(
        &self,
        &(frame, ts_nanos, link_type, orig_len, start, end): &PacketRow,
    ) -> (u64, RawPacket<'_>) {
        let packet = RawPacket {
            ts_nanos,
            link_type,
            orig_len,
            data: self.data.get(start..end).unwrap_or_default(),
        };
        (frame, packet)
    }
}

/// How filling a batch ended.
#[derive(Debug)]
pub enum Fill {
    /// The batch is full and the file goes on.
    More,
    /// The file ended, cleanly or not, after the packets in the batch (perhaps none).
    End(Result<(), CaptureError>),
}

/// Reads `source` to its end on a second thread, calling `each(frame, packet)` on this one for
/// every packet in order. A truncated or damaged file returns its error after every packet
/// before the damage was handed over.
pub fn for_each_packet(
    source: &mut FileSource,
    mut each: impl FnMut(u64, &RawPacket<'_>),
) -> Result<(), CaptureError> {
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || read_ahead(source, &full_tx, &empty_rx));
        for batch in full_rx.iter() {
            for (frame, packet) in batch.packets() {
                each(frame, &packet);
            }
            // The reader may have finished: a batch nobody will refill is simply dropped.
            let _ = empty_tx.try_send(batch);
        }
        // A panic in the reader is a bug: let it surface as one.
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// The reading thread of `for_each_packet`: fills batches (recycled through `empty`) and sends
/// them on until the file ends.
fn read_ahead(
    source: &mut FileSource,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> Result<(), CaptureError> {
    loop {
        let mut batch = empty.try_recv().unwrap_or_default();
        let filled = fill(source, &mut batch);
        if full.send(batch).is_err() {
            // The consumer is gone; nothing more to do.
            return Ok(());
        }
        if let Fill::End(result) = filled {
            return result;
        }
    }
}

/// Empties `batch` and fills it with the next packets of `source`.
pub fn fill(source: &mut FileSource, batch: &mut Batch) -> Fill {
    batch.clear();
    if source.reads_in_place() {
        return fill_in_place(source, batch);
    }
    while !batch.full() {
        let start = batch.used;
        let room = batch.data.get_mut(start..).unwrap_or_default();
        let info = match source.next_packet_into(room) {
            Ok(Some(info)) => info,
            Ok(None) => return Fill::End(Ok(())),
            Err(e) => return Fill::End(Err(e)),
        };
        batch.used = start + info.caplen;
        // After the packet is returned, the count is its frame number (custom pcapng
        // blocks that tshark numbers are counted too).
        let frame = source.packets_read();
        batch.packets.push((
            frame,
            info.ts_nanos,
            info.link_type,
            info.orig_len,
            start,
            batch.used,
        ));
    }
    Fill::More
}

/// `fill` for a pcap file: a chunk of the file is read into the batch's buffer, and the
/// packets point into it.
fn fill_in_place(source: &mut FileSource, batch: &mut Batch) -> Fill {
    let Batch { data, packets, .. } = batch;
    let result = source.read_chunk(data, |info, start, frame| {
        push_record(packets, info, start, frame);
    });
    chunk_fill(result)
}

/// Empties `batch` and reads chunk number `chunk` of a pcap file into it, at its offset, on
/// any thread (chunks may be fetched at once and out of order); `index` then takes the
/// batches in chunk order.
pub fn fetch(positional: &Positional, chunk: u64, batch: &mut Batch) {
    batch.clear();
    let room = batch.data.get_mut(HEAD..).unwrap_or_default();
    batch.fetched = Some(positional.fetch(chunk, room));
}

/// The packets of a fetched batch (`fetch`), batches taken in chunk order: what `fill` gives
/// for the same part of the file.
pub fn index(source: &mut FileSource, batch: &mut Batch) -> Fill {
    let Batch {
        data,
        packets,
        fetched,
        ..
    } = batch;
    let fetched = fetched.take().unwrap_or(Ok(0));
    let result = source.index_chunk(data, HEAD, fetched, |info, start, frame| {
        push_record(packets, info, start, frame);
    });
    chunk_fill(result)
}

/// Notes a packet read in place: its frame number, time, link type, lengths and bytes.
fn push_record(packets: &mut Vec<PacketRow>, info: &PacketInfo, start: usize, frame: u64) {
    let end = start + info.caplen;
    packets.push((
        frame,
        info.ts_nanos,
        info.link_type,
        info.orig_len,
        start,
        end,
    ));
}

/// How a batch read chunk-wise ended.
fn chunk_fill(result: Result<ChunkEnd, CaptureError>) -> Fill {
    match result {
        Ok(ChunkEnd::Full) => Fill::More,
        Ok(ChunkEnd::End) => Fill::End(Ok(())),
        Err(e) => Fill::End(Err(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::pcap::{pcap_bytes, PcapFormat};

    /// (frame, ts, link type, orig len, bytes) of every packet, read directly.
    type Seen = Vec<(u64, u64, u32, u32, Vec<u8>)>;

    fn direct(bytes: &[u8]) -> (Seen, Option<String>) {
        let mut source =
            FileSource::from_reader("t".into(), Box::new(std::io::Cursor::new(bytes.to_vec())))
                .unwrap();
        let mut seen = Vec::new();
        loop {
            match source.next_packet() {
                Ok(Some(p)) => {
                    let row = (0, p.ts_nanos, p.link_type, p.orig_len, p.data.to_vec());
                    seen.push(row);
                    seen.last_mut().unwrap().0 = source.packets_read();
                }
                Ok(None) => return (seen, None),
                Err(e) => return (seen, Some(e.to_string())),
            }
        }
    }

    fn batched(bytes: &[u8]) -> (Seen, Option<String>) {
        batched_from(Box::new(std::io::Cursor::new(bytes.to_vec())))
    }

    fn batched_from(input: Box<dyn std::io::Read + Send>) -> (Seen, Option<String>) {
        let mut source = FileSource::from_reader("t".into(), input).unwrap();
        let mut seen = Vec::new();
        let result = for_each_packet(&mut source, |frame, p| {
            seen.push((frame, p.ts_nanos, p.link_type, p.orig_len, p.data.to_vec()));
        });
        (seen, result.err().map(|e| e.to_string()))
    }

    /// Reads a pcap file through `fetch` and `index`, fetching each pair of chunks in reverse
    /// order (as threads may), and indexing them in order.
    fn fetched(bytes: &[u8]) -> (Seen, Option<String>) {
        let file = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(file.path(), bytes).unwrap();
        let mut source = FileSource::open(file.path()).unwrap();
        let positional = source.positional().expect("a pcap file reads positionally");
        let mut seen = Vec::new();
        let mut batches = [Batch::default(), Batch::default()];
        for pair in 0u64.. {
            fetch(&positional, 2 * pair + 1, &mut batches[1]);
            fetch(&positional, 2 * pair, &mut batches[0]);
            for batch in &mut batches {
                let filled = index(&mut source, batch);
                for (frame, p) in batch.packets() {
                    seen.push((frame, p.ts_nanos, p.link_type, p.orig_len, p.data.to_vec()));
                }
                if let Fill::End(result) = filled {
                    let error = result.err().map(|e| e.to_string());
                    let name = file.path().display().to_string();
                    return (seen, error.map(|e| e.replace(&name, "t")));
                }
            }
        }
        unreachable!()
    }

    #[test]
    fn same_packets_in_the_same_order_across_many_batches() {
        // Sizes chosen so batches end on both limits.
        let frames: Vec<Vec<u8>> = (0..3_000u32)
            .map(|i| vec![(i % 251) as u8; 60 + (i as usize * 37) % 1_400])
            .collect();
        let bytes = pcap_bytes(
            PcapFormat::default(),
            frames
                .iter()
                .enumerate()
                .map(|(i, f)| (1_000_000_000 + i as u64 * 1_000, f.as_slice())),
        )
        .unwrap();
        let (want, want_err) = direct(&bytes);
        let (got, got_err) = batched(&bytes);
        assert_eq!(want.len(), 3_000);
        assert_eq!(got, want);
        assert_eq!((got_err, want_err), (None, None));
        // Cut inside the last record: every packet before it, then the same error.
        let cut = &bytes[..bytes.len() - 10];
        let (want, want_err) = direct(cut);
        let (got, got_err) = batched(cut);
        assert_eq!(got, want);
        assert_eq!(got.len(), 2_999);
        assert!(want_err
            .as_deref()
            .is_some_and(|e| e.contains("packet 3000")));
        assert_eq!(got_err, want_err);
    }

    /// A reader that hands out at most `step` bytes a call, like a pipe.
    struct Dribble {
        bytes: std::io::Cursor<Vec<u8>>,
        step: usize,
    }

    impl std::io::Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = buf.len().min(self.step);
            self.bytes.read(&mut buf[..n])
        }
    }

    #[test]
    fn in_place_reading_matches_record_by_record_reading_for_every_pcap_flavour() {
        use crate::capture::test_fixtures::{gzip, pcap};
        // Lengths from empty to the 256 KiB limit, so records straddle every chunk boundary
        // and the largest one must be carried whole into the next chunk.
        let frames: Vec<Vec<u8>> = (0..700usize)
            .map(|i| match i % 97 {
                0 => vec![i as u8; MAX_CAPLEN],
                1 => Vec::new(),
                k => vec![i as u8; 14 + k * 131],
            })
            .collect();
        let records: Vec<(u32, u32, u32, &[u8])> = frames
            .iter()
            .enumerate()
            .map(|(i, f)| (i as u32, 7 * i as u32, f.len() as u32 + 3, f.as_slice()))
            .collect();
        // Microseconds and nanoseconds, both byte orders, and Kuznetzov's modified records.
        for (big, magic) in [
            (false, 0xa1b2_c3d4),
            (true, 0xa1b2_c3d4),
            (false, 0xa1b2_3c4d),
            (true, 0xa1b2_cd34),
        ] {
            let bytes = pcap(big, magic, 1, &records);
            let (want, want_err) = direct(&bytes);
            assert_eq!(want.len(), frames.len());
            assert_eq!(want_err, None);
            assert_eq!(batched(&bytes), (want.clone(), None), "{magic:x} big={big}");
            // The same through gzip, and through a reader that returns a few bytes a call.
            assert_eq!(batched(&gzip(&bytes)), (want.clone(), None));
            let dribble = Dribble {
                bytes: std::io::Cursor::new(bytes.clone()),
                step: 4093,
            };
            assert_eq!(batched_from(Box::new(dribble)), (want.clone(), None));
            // Fetched at chunk offsets, whole and cut at every kind of place.
            assert_eq!(fetched(&bytes), (want, None));
            for cut in [
                bytes.len() - 1,
                bytes.len() - 1_000,
                HEAD + CHUNK,
                CHUNK - 3,
                30,
                24,
            ] {
                assert_eq!(
                    fetched(&bytes[..cut]),
                    direct(&bytes[..cut]),
                    "cut at {cut}"
                );
            }
            // A corrupt length mid-file: every packet before it, then the same error.
            let mut corrupt = bytes.clone();
            let at = 24
                + (16 + if magic == 0xa1b2_cd34 { 8 } else { 0 }) * 5
                + frames[..5].iter().map(Vec::len).sum::<usize>();
            corrupt[at + 8..at + 12].copy_from_slice(&[0x7f; 4]);
            let (want, want_err) = direct(&corrupt);
            assert_eq!(want.len(), 5);
            assert!(want_err.as_deref().is_some_and(|e| e.contains("packet 6")));
            assert_eq!(batched(&corrupt), (want.clone(), want_err.clone()));
            assert_eq!(fetched(&corrupt), (want, want_err));
        }
    }
}
