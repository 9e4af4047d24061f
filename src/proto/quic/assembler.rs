//! Reassembly of the client's Initial CRYPTO stream from its frames, which arrive in any
//! order, duplicated, overlapping, spread over packets and datagrams (Chrome cuts its
//! ClientHello into many small frames and shuffles them on purpose). Only the first
//! [`CryptoAssembler::DEFAULT_LIMIT`] bytes (or the limit given) are kept: enough for any real
//! ClientHello, small enough that a flood of Initials cannot make a flow grow.
//!
//! Where frames overlap, the bytes that arrived first stay (as in TCP reassembly); a later
//! frame only fills holes.

/// Bounded reassembly of CRYPTO stream offsets `0..limit`. One per flow; the buffer is
/// allocated on the first byte kept and never grows past the limit.
#[derive(Debug, Clone)]
pub struct CryptoAssembler {
    limit: usize,
    data: Vec<u8>,
    /// Received ranges beyond the contiguous prefix, sorted, disjoint, not touching.
    pending: Vec<(usize, usize)>,
    /// Length of the prefix `0..contiguous` that has no hole.
    contiguous: usize,
    /// Some frame reached past the limit.
    truncated: bool,
}

impl Default for CryptoAssembler {
    fn default() -> Self {
        Self::new()
    }
}

impl CryptoAssembler {
    /// Default bound: 16 KiB. Chrome's ClientHello with an ML-KEM key share is ~1.8 KiB and
    /// the largest in the corpus under 3 KiB; TLS 1.3 allows more, nobody sends it.
    pub const DEFAULT_LIMIT: usize = 16 * 1024;
    /// Holes tracked at once; more fragments than this out of order is an attack, not a
    /// client, and further out-of-order frames are dropped (in-order ones still count).
    const MAX_PENDING: usize = 256;
    /// The first allocation, for the first frame's end at most this far.
    const FIRST_ALLOCATION: usize = 4096;

    /// Heap bytes held (the buffers' capacities).
    pub fn held(&self) -> usize {
        self.data.capacity() + self.pending.capacity() * std::mem::size_of::<(usize, usize)>()
    }

    /// An empty assembler bounded at [`Self::DEFAULT_LIMIT`].
    pub fn new() -> Self {
        Self::with_limit(Self::DEFAULT_LIMIT)
    }

    /// An empty assembler keeping stream offsets `0..limit`.
    pub fn with_limit(limit: usize) -> Self {
        CryptoAssembler {
            limit,
            data: Vec::new(),
            pending: Vec::new(),
            contiguous: 0,
            truncated: false,
        }
    }

    /// Adds the bytes of one CRYPTO frame at stream `offset`. Returns whether the contiguous
    /// prefix grew (the caller re-parses only then). Bytes at or past the limit are dropped
    /// and noted ([`Self::truncated`]).
    pub fn add(&mut self, offset: u64, data: &[u8]) -> bool {
        let Ok(start) = usize::try_from(offset) else {
            self.truncated |= !data.is_empty();
            return false;
        };
        let end = start.saturating_add(data.len());
        if end > self.limit {
            self.truncated = true;
        }
        let end = end.min(self.limit);
        if start >= end {
            return false;
        }
        if self.data.len() < end {
            if self.data.capacity() == 0 {
                // Room for a whole ClientHello at once (Chrome's is ~1.8 KiB), not the limit:
                // a capture of many flows waiting for their next Initial holds one each.
                self.data
                    .reserve_exact(end.max(Self::FIRST_ALLOCATION).min(self.limit));
            }
            self.data.resize(end, 0);
        }
        let before = self.contiguous;
        if start <= self.contiguous {
            // Extends (or repeats) the prefix: write only what is new.
            if end > self.contiguous {
                self.copy_new(start, end, data);
                self.contiguous = end;
            }
        } else {
            self.insert_pending(start, end, data);
        }
        // Pending ranges that the prefix now reaches join it.
        while let Some(&(pending_start, pending_end)) = self.pending.first() {
            if pending_start > self.contiguous {
                break;
            }
            self.contiguous = self.contiguous.max(pending_end);
            self.pending.remove(0);
        }
        self.contiguous > before
    }

    /// The reassembled stream from offset 0 up to the first hole.
    pub fn contiguous(&self) -> &[u8] {
        self.data.get(..self.contiguous).unwrap_or_default()
    }

    /// Some frame reached past the limit (the ClientHello may be cut).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// No byte received yet.
    pub fn is_empty(&self) -> bool {
        self.contiguous == 0 && self.pending.is_empty()
    }

    /// Forgets everything (after a Retry, the client's CRYPTO stream starts over).
    pub fn clear(&mut self) {
        self.data.clear();
        self.pending.clear();
        self.contiguous = 0;
        self.truncated = false;
    }

    /// Copies `data` (which starts at stream offset `start`) for the part of `start..end` at or
    /// past the contiguous prefix and outside pending ranges: earlier bytes win.
    fn copy_new(&mut self, start: usize, end: usize, data: &[u8]) {
        let from = start.max(self.contiguous);
        let mut cursor = from;
        for &(pending_start, pending_end) in &self.pending {
            if pending_end <= cursor {
                continue;
            }
            if pending_start >= end {
                break;
            }
            if pending_start > cursor {
                copy_range(&mut self.data, data, start, cursor, pending_start);
            }
            cursor = cursor.max(pending_end);
        }
        if cursor < end {
            copy_range(&mut self.data, data, start, cursor, end);
        }
    }

    /// Records an out-of-order range, copying only the bytes no earlier range holds.
    fn insert_pending(&mut self, start: usize, end: usize, data: &[u8]) {
        let first_touching = self.pending.partition_point(|&(_, e)| e < start);
        let last_touching = self.pending.partition_point(|&(s, _)| s <= end);
        if first_touching == last_touching && self.pending.len() >= Self::MAX_PENDING {
            return;
        }
        // Fill the gaps between the ranges it overlaps.
        let mut cursor = start;
        for &(pending_start, pending_end) in self
            .pending
            .get(first_touching..last_touching)
            .unwrap_or_default()
        {
            if pending_start > cursor {
                copy_range(&mut self.data, data, start, cursor, pending_start.min(end));
            }
            cursor = cursor.max(pending_end);
        }
        if cursor < end {
            copy_range(&mut self.data, data, start, cursor, end);
        }
        let merged_start = self
            .pending
            .get(first_touching)
            .map_or(start, |&(s, _)| s.min(start));
        let merged_end = last_touching
            .checked_sub(1)
            .and_then(|i| self.pending.get(i))
            .filter(|_| last_touching > first_touching)
            .map_or(end, |&(_, e)| e.max(end));
        self.pending
            .splice(first_touching..last_touching, [(merged_start, merged_end)]);
    }
}

/// Copies the part `from..to` of a frame whose data starts at stream offset `start`.
fn copy_range(buffer: &mut [u8], data: &[u8], start: usize, from: usize, to: usize) {
    let source = data.get(from.saturating_sub(start)..to.saturating_sub(start));
    if let (Some(source), Some(target)) = (source, buffer.get_mut(from..to)) {
        target.copy_from_slice(source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_out_of_order_and_duplicates() {
        let mut assembler = CryptoAssembler::new();
        assert!(assembler.is_empty());
        assert!(!assembler.add(4, b"4567"));
        assert_eq!(assembler.contiguous(), b"");
        assert!(!assembler.add(10, b"ab"));
        assert!(!assembler.add(4, b"4567")); // duplicate
        assert!(assembler.add(0, b"0123"));
        assert_eq!(assembler.contiguous(), b"01234567");
        assert!(assembler.add(8, b"89"));
        assert_eq!(assembler.contiguous(), b"0123456789ab");
        assert!(!assembler.add(0, b"0123456789"));
        assert!(!assembler.truncated());
    }

    #[test]
    fn first_bytes_win_over_conflicting_retransmissions() {
        let mut assembler = CryptoAssembler::new();
        assembler.add(2, b"CD");
        assembler.add(0, b"abcdef"); // overlaps the pending "CD"
        assert_eq!(assembler.contiguous(), b"abCDef");
        assembler.add(0, b"XXXXXXXX");
        assert_eq!(assembler.contiguous(), b"abCDefXX");
    }

    #[test]
    fn overlapping_pending_ranges_merge() {
        let mut assembler = CryptoAssembler::new();
        assembler.add(10, b"klm");
        assembler.add(20, b"uvw");
        assembler.add(8, b"IJKLMNOPQRSTUVWXYZ"); // spans both, fills the gaps
        assembler.add(0, b"abcdefgh");
        assert_eq!(assembler.contiguous(), b"abcdefghIJklmNOPQRSTuvwXYZ");
        assert!(assembler.pending.is_empty());
    }

    #[test]
    fn bounded_by_its_limit() {
        let mut assembler = CryptoAssembler::with_limit(8);
        assert!(assembler.add(0, b"0123456789"));
        assert_eq!(assembler.contiguous(), b"01234567");
        assert!(assembler.truncated());
        assert!(!assembler.add(u64::MAX, b"x"));
        assert!(!assembler.add(1 << 40, b"x"));
        assert!(assembler.data.capacity() <= 16);
        assembler.clear();
        assert!(assembler.is_empty() && !assembler.truncated());
    }

    #[test]
    fn too_many_holes_drop_new_out_of_order_frames_only() {
        let mut assembler = CryptoAssembler::new();
        for i in 0..300u64 {
            assembler.add(2 + i * 2, b"x");
        }
        assert_eq!(assembler.pending.len(), CryptoAssembler::MAX_PENDING);
        assert!(assembler.add(0, b"ab"));
        assert_eq!(assembler.contiguous(), b"abx");
    }

    #[test]
    fn any_order_of_small_frames_reassembles() {
        let message: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        // A fixed shuffle of 7-byte pieces, each sent twice.
        let mut pieces: Vec<usize> = (0..message.len()).step_by(7).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in (1..pieces.len()).rev() {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            pieces.swap(i, (state % (i as u64 + 1)) as usize);
        }
        let mut assembler = CryptoAssembler::new();
        for round in 0..2 {
            for &start in &pieces {
                let end = (start + 7 + round).min(message.len());
                assembler.add(start as u64, &message[start..end]);
            }
        }
        assert_eq!(assembler.contiguous(), message.as_slice());
    }
}
