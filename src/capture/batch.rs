//! Reading a capture on its own thread, so that the kernel's copy of file data (most of a
//! single-threaded run's time) overlaps with decoding and classifying.
//!
//! The reader fills batches of packets (one buffer of frame bytes, plus each packet's time,
//! link type, lengths and frame number) and sends them through a bounded channel; emptied
//! batches come back to be refilled, so a run allocates a handful of batches, not one buffer
//! per packet. Order is kept: the consumer sees exactly the packets `FileSource` returns, in
//! the same order, with the same frame numbers.

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

use super::file::{CaptureError, FileSource, MAX_CAPLEN};
use super::RawPacket;

/// Packets per batch at most.
const BATCH_PACKETS: usize = 128;
/// Frame bytes per batch at most (a batch may exceed it by one frame).
const BATCH_BYTES: usize = 128 << 10;
/// Batches in flight between the reader and the consumer.
const IN_FLIGHT: usize = 4;

struct Batch {
    /// Frame bytes: `BATCH_BYTES + MAX_CAPLEN` long, allocated and zeroed once, so the file
    /// reader writes each frame straight into it; `used` bytes hold frames.
    data: Vec<u8>,
    used: usize,
    /// (frame number, ts_nanos, link_type, orig_len, start, end)
    packets: Vec<(u64, u64, u32, u32, usize, usize)>,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            data: vec![0; BATCH_BYTES + MAX_CAPLEN],
            used: 0,
            packets: Vec::with_capacity(BATCH_PACKETS),
        }
    }
}

impl Batch {
    fn clear(&mut self) {
        self.used = 0;
        self.packets.clear();
    }

    fn full(&self) -> bool {
        self.packets.len() >= BATCH_PACKETS || self.used >= BATCH_BYTES
    }
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
        let reader = scope.spawn(move || fill(source, &full_tx, &empty_rx));
        for batch in full_rx.iter() {
            for &(frame, ts_nanos, link_type, orig_len, start, end) in &batch.packets {
                let data = batch.data.get(start..end).unwrap_or_default();
                let packet = RawPacket {
                    ts_nanos,
                    link_type,
                    orig_len,
                    data,
                };
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

fn fill(
    source: &mut FileSource,
    full: &SyncSender<Batch>,
    empty: &Receiver<Batch>,
) -> Result<(), CaptureError> {
    loop {
        let mut batch = empty.try_recv().unwrap_or_default();
        batch.clear();
        let mut end = None;
        while !batch.full() {
            let start = batch.used;
            let room = batch.data.get_mut(start..).unwrap_or_default();
            let info = match source.next_packet_into(room) {
                Ok(Some(info)) => info,
                Ok(None) => {
                    end = Some(Ok(()));
                    break;
                }
                Err(e) => {
                    end = Some(Err(e));
                    break;
                }
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
        if full.send(batch).is_err() {
            // The consumer is gone; nothing more to do.
            return Ok(());
        }
        if let Some(result) = end {
            return result;
        }
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
        let mut source =
            FileSource::from_reader("t".into(), Box::new(std::io::Cursor::new(bytes.to_vec())))
                .unwrap();
        let mut seen = Vec::new();
        let result = for_each_packet(&mut source, |frame, p| {
            seen.push((frame, p.ts_nanos, p.link_type, p.orig_len, p.data.to_vec()));
        });
        (seen, result.err().map(|e| e.to_string()))
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
}
