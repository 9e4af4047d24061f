//! IP fragment reassembly: a bounded table of datagrams in progress, keyed like the receiving
//! host keys them (IPv4: source, destination, identification, protocol; IPv6: source,
//! destination, identification).
//!
//! Fragments may arrive in any order, repeat or overlap: the bytes received first win (a later
//! copy never rewrites data already held), and such fragments are counted. The table is bounded
//! so a flood of fragments that never complete cannot grow it: at most `MAX_DATAGRAMS` in
//! progress (the oldest is evicted to make room), at most `MAX_DATAGRAM_LEN` bytes each, and a
//! datagram whose first fragment is older than `TIMEOUT_NANOS` of capture time is dropped.
//! Checksums are not verified; the transport header is parsed only after reassembly, so a first
//! fragment too short to hold it is fine.

use std::net::IpAddr;

use super::{DecodeError, DecodeStats};

/// Datagrams in progress at once.
pub(crate) const MAX_DATAGRAMS: usize = 256;
/// Largest fragmentable part of a datagram: the 16-bit IP length bounds every real one.
pub(crate) const MAX_DATAGRAM_LEN: u32 = 65_535;
/// Capture time after which an incomplete datagram is given up (Linux's default is 30 s).
pub(crate) const TIMEOUT_NANOS: u64 = 30_000_000_000;
/// Buffers of completed datagrams kept for reuse.
const MAX_POOLED_BUFFERS: usize = 16;

/// Which datagram a fragment belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct FragKey {
    src: IpAddr,
    dst: IpAddr,
    id: u32,
    /// IPv4's protocol; 0 for IPv6, whose key has no protocol.
    protocol: u8,
}

impl FragKey {
    pub(crate) fn new(src: IpAddr, dst: IpAddr, id: u32, protocol: u8) -> Self {
        Self {
            src,
            dst,
            id,
            protocol,
        }
    }
}

/// One fragment as the IP layer saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fragment<'a> {
    /// Byte offset of `data` in the datagram's fragmentable part.
    pub offset: u32,
    pub more: bool,
    pub data: &'a [u8],
    /// The upper-layer protocol this fragment names (IPv6: the fragment header's next header,
    /// which counts only in the first fragment).
    pub protocol: u8,
    /// Bytes of IP headers in front of the fragmentable part.
    pub header_len: u32,
}

/// What the first fragment said about a completed datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reassembled {
    pub protocol: u8,
    pub header_len: u32,
}

#[derive(Debug)]
struct Datagram {
    key: FragKey,
    first_seen_nanos: u64,
    data: Vec<u8>,
    /// Byte ranges held, sorted, disjoint and not touching (`start..end`).
    held: Vec<(u32, u32)>,
    /// Known once the last fragment (more = false) has arrived.
    total_len: Option<u32>,
    first: Option<Reassembled>,
}

/// The reassembly table.
#[derive(Debug, Default)]
pub(crate) struct FragTable {
    datagrams: Vec<Datagram>,
    pool: Vec<Vec<u8>>,
}

impl FragTable {
    /// Adds a fragment. When it completes its datagram, the datagram's fragmentable part is left
    /// in `out` and what its first fragment said is returned.
    pub(crate) fn insert(
        &mut self,
        key: FragKey,
        fragment: Fragment<'_>,
        now_nanos: u64,
        stats: &mut DecodeStats,
        out: &mut Vec<u8>,
    ) -> Result<Option<Reassembled>, DecodeError> {
        self.expire(now_nanos, stats);
        let data_len = u32::try_from(fragment.data.len()).unwrap_or(u32::MAX);
        let end = fragment.offset.saturating_add(data_len);
        if end > MAX_DATAGRAM_LEN {
            return Err(DecodeError::Malformed("ip fragment too large"));
        }
        let index = match self.datagrams.iter().position(|d| d.key == key) {
            Some(index) => index,
            None => self.start(key, now_nanos, stats),
        };
        stats.fragments += 1;
        let Some(datagram) = self.datagrams.get_mut(index) else {
            return Err(DecodeError::Malformed("ip fragment table"));
        };

        let consistent = match (fragment.more, datagram.total_len) {
            (false, Some(total)) => total == end,
            (false, None) => datagram
                .held
                .last()
                .is_none_or(|&(_, held_end)| held_end <= end),
            (true, Some(total)) => end <= total,
            (true, None) => true,
        };
        if !consistent {
            self.remove(index, stats);
            stats.inconsistent += 1;
            return Err(DecodeError::Malformed("ip fragments disagree on length"));
        }
        if !fragment.more {
            datagram.total_len = Some(end);
        }
        if fragment.offset == 0 && datagram.first.is_none() {
            datagram.first = Some(Reassembled {
                protocol: fragment.protocol,
                header_len: fragment.header_len,
            });
        }
        if datagram.copy_into_holes(fragment.offset, fragment.data) {
            stats.fragments_overlapping += 1;
        }

        let complete = match (datagram.total_len, datagram.first, datagram.held.as_slice()) {
            (Some(total), Some(first), [(0, held_end)]) if *held_end == total => Some(first),
            (Some(0), Some(first), []) => Some(first),
            _ => None,
        };
        let Some(first) = complete else {
            stats.fragments_held += 1;
            return Ok(None);
        };
        let total = datagram.total_len.unwrap_or(0);
        std::mem::swap(out, &mut datagram.data);
        out.truncate(usize::try_from(total).unwrap_or(usize::MAX));
        self.remove(index, stats);
        stats.reassembled += 1;
        Ok(Some(first))
    }

    /// Opens a datagram, evicting the oldest one if the table is full; returns its index.
    fn start(&mut self, key: FragKey, now_nanos: u64, stats: &mut DecodeStats) -> usize {
        if self.datagrams.len() >= MAX_DATAGRAMS {
            let oldest = self
                .datagrams
                .iter()
                .enumerate()
                .min_by_key(|(_, d)| d.first_seen_nanos)
                .map(|(index, _)| index);
            if let Some(oldest) = oldest {
                self.remove(oldest, stats);
                stats.evicted += 1;
            }
        }
        let mut data = self.pool.pop().unwrap_or_default();
        data.clear();
        self.datagrams.push(Datagram {
            key,
            first_seen_nanos: now_nanos,
            data,
            held: Vec::new(),
            total_len: None,
            first: None,
        });
        stats.in_progress = self.datagrams.len() as u64;
        self.datagrams.len() - 1
    }

    /// Drops datagrams whose first fragment is older than the timeout. Capture time can step
    /// backwards (merged files); such a datagram is simply not expired.
    fn expire(&mut self, now_nanos: u64, stats: &mut DecodeStats) {
        let mut index = 0;
        while let Some(datagram) = self.datagrams.get(index) {
            if now_nanos.saturating_sub(datagram.first_seen_nanos) > TIMEOUT_NANOS {
                self.remove(index, stats);
                stats.expired += 1;
            } else {
                index += 1;
            }
        }
    }

    fn remove(&mut self, index: usize, stats: &mut DecodeStats) {
        if index < self.datagrams.len() {
            let datagram = self.datagrams.swap_remove(index);
            if self.pool.len() < MAX_POOLED_BUFFERS {
                self.pool.push(datagram.data);
            }
        }
        stats.in_progress = self.datagrams.len() as u64;
    }
}

impl Datagram {
    /// Copies the parts of `data` (at `offset`) that fall in holes; says whether any part was
    /// already held.
    fn copy_into_holes(&mut self, offset: u32, data: &[u8]) -> bool {
        let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        let end = offset.saturating_add(len);
        if end == offset {
            return false;
        }
        let needed = usize::try_from(end).unwrap_or(usize::MAX);
        if self.data.len() < needed {
            self.data.resize(needed, 0);
        }
        let mut overlapped = false;
        let mut cursor = offset;
        // Walk the held ranges that meet [offset, end) and fill the gaps between them.
        for &(start, stop) in &self.held {
            if stop <= cursor {
                continue;
            }
            if start >= end {
                break;
            }
            if start > cursor {
                fill(&mut self.data, offset, data, cursor, start);
            }
            overlapped = true;
            cursor = cursor.max(stop);
            if cursor >= end {
                break;
            }
        }
        if cursor < end {
            fill(&mut self.data, offset, data, cursor, end);
        }
        self.mark_held(offset, end);
        overlapped
    }

    /// Merges `start..end` into the sorted list of held ranges.
    fn mark_held(&mut self, start: u32, end: u32) {
        let first = self.held.partition_point(|&(_, stop)| stop < start);
        let last = self.held.partition_point(|&(begin, _)| begin <= end);
        let mut merged = (start, end);
        if let Some(touching) = self.held.get(first..last) {
            if let (Some(low), Some(high)) = (touching.first(), touching.last()) {
                merged = (start.min(low.0), end.max(high.1));
            }
        }
        self.held.splice(first..last.max(first), [merged]);
    }
}

/// Copies the datagram bytes `from..to` into `buffer` out of `data`, which starts at `offset`.
fn fill(buffer: &mut [u8], offset: u32, data: &[u8], from: u32, to: u32) {
    let source = from.saturating_sub(offset) as usize..to.saturating_sub(offset) as usize;
    if let (Some(target), Some(source)) =
        (buffer.get_mut(from as usize..to as usize), data.get(source))
    {
        target.copy_from_slice(source);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    fn key(id: u32) -> FragKey {
        FragKey::new(
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            id,
            17,
        )
    }

    fn piece(offset: u32, more: bool, data: &[u8]) -> Fragment<'_> {
        Fragment {
            offset,
            more,
            data,
            protocol: 17,
            header_len: 20,
        }
    }

    struct Harness {
        table: FragTable,
        stats: DecodeStats,
        out: Vec<u8>,
    }

    impl Harness {
        fn new() -> Self {
            Self {
                table: FragTable::default(),
                stats: DecodeStats::default(),
                out: Vec::new(),
            }
        }

        fn add(
            &mut self,
            id: u32,
            offset: u32,
            more: bool,
            data: &[u8],
            now: u64,
        ) -> Result<Option<Reassembled>, DecodeError> {
            self.table.insert(
                key(id),
                piece(offset, more, data),
                now,
                &mut self.stats,
                &mut self.out,
            )
        }
    }

    /// 24 bytes: three 8-byte fragments of recognisable data.
    fn datagram() -> Vec<u8> {
        (0u8..24).collect()
    }

    #[test]
    fn every_arrival_order_reassembles() {
        let whole = datagram();
        let orders = [
            [0, 1, 2],
            [2, 1, 0],
            [1, 0, 2],
            [2, 0, 1],
            [0, 2, 1],
            [1, 2, 0],
        ];
        for order in orders {
            let mut h = Harness::new();
            let mut result = None;
            for (step, &part) in order.iter().enumerate() {
                let offset = part * 8;
                let chunk = &whole[offset as usize..offset as usize + 8];
                result = h.add(7, offset, part != 2, chunk, 0).unwrap();
                assert_eq!(result.is_some(), step == 2, "order {order:?}");
            }
            assert_eq!(
                result,
                Some(Reassembled {
                    protocol: 17,
                    header_len: 20
                })
            );
            assert_eq!(h.out, whole);
            assert_eq!(h.stats.reassembled, 1);
            assert_eq!(h.stats.fragments_held, 2);
            assert_eq!(h.stats.in_progress, 0);
        }
    }

    #[test]
    fn first_bytes_win_on_overlap_and_duplicates_are_counted() {
        let whole = datagram();
        let mut h = Harness::new();
        assert_eq!(h.add(1, 0, true, &whole[..16], 0).unwrap(), None);
        // duplicate of the first fragment with other bytes: ignored
        assert_eq!(h.add(1, 0, true, &[0xff; 8], 0).unwrap(), None);
        // overlaps bytes 8..16 (held) and brings 16..24
        let mut tail = vec![0xee; 8];
        tail.extend_from_slice(&whole[16..]);
        assert!(h.add(1, 8, false, &tail, 0).unwrap().is_some());
        assert_eq!(h.out, whole);
        assert_eq!(h.stats.fragments_overlapping, 2);
    }

    #[test]
    fn gaps_between_held_ranges_are_filled() {
        let whole: Vec<u8> = (0u8..40).collect();
        let mut h = Harness::new();
        h.add(1, 8, true, &whole[8..16], 0).unwrap();
        h.add(1, 24, false, &whole[24..40], 0).unwrap();
        // one fragment spanning both holes and both held ranges
        assert!(h.add(1, 0, true, &whole[..40], 0).unwrap().is_some());
        assert_eq!(h.out, whole);
    }

    #[test]
    fn disagreeing_lengths_drop_the_datagram() {
        let mut h = Harness::new();
        h.add(1, 0, true, &[0; 16], 0).unwrap();
        assert_eq!(
            h.add(1, 8, false, &[0; 4], 0).unwrap_err(),
            DecodeError::Malformed("ip fragments disagree on length")
        );
        assert_eq!(h.stats.inconsistent, 1);
        assert_eq!(h.stats.in_progress, 0);
        h.add(2, 16, false, &[0; 8], 0).unwrap();
        assert!(h.add(2, 24, true, &[0; 8], 0).is_err());
    }

    #[test]
    fn oversized_fragment_is_refused() {
        let mut h = Harness::new();
        assert_eq!(
            h.add(1, 65_528, false, &[0; 8], 0).unwrap_err(),
            DecodeError::Malformed("ip fragment too large")
        );
        assert!(h.add(1, 65_528, false, &[0; 7], 0).unwrap().is_none());
    }

    #[test]
    fn old_datagrams_expire() {
        let mut h = Harness::new();
        h.add(1, 0, true, &[0; 8], 0).unwrap();
        h.add(2, 0, true, &[0; 8], TIMEOUT_NANOS).unwrap();
        // the last piece of datagram 1 arrives too late: 1 is gone, so this one waits alone
        assert_eq!(
            h.add(1, 8, false, &[0; 8], TIMEOUT_NANOS + 1).unwrap(),
            None
        );
        assert_eq!(h.stats.expired, 1);
        assert_eq!(h.stats.in_progress, 2);
        // time going backwards expires nothing
        h.add(3, 0, true, &[0; 8], 5).unwrap();
        assert_eq!(h.stats.expired, 1);
    }

    #[test]
    fn full_table_evicts_the_oldest() {
        let mut h = Harness::new();
        for id in 0..MAX_DATAGRAMS as u32 {
            h.add(id, 0, true, &[0; 8], u64::from(id) + 10).unwrap();
        }
        assert_eq!(h.stats.in_progress, MAX_DATAGRAMS as u64);
        h.add(9999, 0, true, &[0; 8], 1000).unwrap();
        assert_eq!(h.stats.evicted, 1);
        assert_eq!(h.stats.in_progress, MAX_DATAGRAMS as u64);
        // datagram 0 was the oldest: its tail now opens a new entry instead of completing it
        assert_eq!(h.add(0, 8, false, &[0; 8], 1000).unwrap(), None);
        assert_eq!(h.stats.evicted, 2);
        // datagram 2 is still there
        assert!(h.add(2, 8, false, &[0; 8], 1000).unwrap().is_some());
    }

    #[test]
    fn tiny_first_fragment_completes() {
        // the first fragment holds only 8 bytes: not even a full TCP header
        let whole: Vec<u8> = (0u8..48).collect();
        let mut h = Harness::new();
        h.add(5, 8, false, &whole[8..], 0).unwrap();
        assert!(h.add(5, 0, true, &whole[..8], 0).unwrap().is_some());
        assert_eq!(h.out, whole);
    }
}
