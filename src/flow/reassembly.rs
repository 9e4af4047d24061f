//! In-order reassembly of the first bytes a client sends on a TCP connection.
//!
//! A ClientHello of a modern browser (~1.9 KB with an ML-KEM key share) spans two segments, which
//! may be retransmitted, arrive out of order, or belong to a connection whose SYN was missed. This
//! buffer keeps the contiguous prefix of the client's stream, capped at `MAX_PREFIX` bytes, plus
//! a few segments that arrived ahead of a gap. It exists only until the flow is named.

/// The most client bytes we ever keep for one flow.
pub const MAX_PREFIX: usize = 16 * 1024;
/// Out-of-order segments kept waiting for a gap to fill, per flow.
const MAX_PENDING: usize = 8;

#[derive(Debug, Default)]
pub struct ClientStream {
    /// Sequence number of `contiguous[0]`, once known.
    base: Option<u32>,
    /// True when `base` came from a SYN, so no earlier byte can exist.
    base_from_syn: bool,
    contiguous: Vec<u8>,
    /// Segments beyond a gap: (offset from base, bytes).
    pending: Vec<(u32, Vec<u8>)>,
    restarts: u8,
    /// What `restart` set aside: (sequence number, bytes).
    orphan: Option<(u32, Vec<u8>)>,
}

/// What a new segment did to the contiguous prefix.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// The prefix grew (or was rebuilt): parse it again.
    Grew,
    /// Nothing new in order (duplicate, gap, or cap reached).
    Unchanged,
}

impl ClientStream {
    /// The client's SYN: its sequence number + 1 is the first data byte.
    pub fn on_syn(&mut self, syn_seq: u32) {
        self.anchor(syn_seq.wrapping_add(1));
    }

    /// The sequence number of the client's next new byte is known for sure: from its SYN, the
    /// server's SYN-ACK (ack - 1 is the client's SYN), or a client segment without payload (its
    /// sequence number is where the next data starts; nothing before it is new).
    pub fn anchor(&mut self, first_seq: u32) {
        if self.base.is_none() || !self.base_from_syn && self.contiguous.is_empty() {
            self.base = Some(first_seq);
            self.base_from_syn = true;
            self.adopt_orphan();
        }
    }

    /// Bytes set aside by `restart` come back as a pending segment if they lie ahead of the
    /// new start (they were the middle of a message whose start arrived later).
    fn adopt_orphan(&mut self) {
        let (Some(base), Some((seq, bytes))) = (self.base, self.orphan.take()) else {
            return;
        };
        let offset = seq.wrapping_sub(base) as i32;
        if offset > 0 && (offset as usize) < MAX_PREFIX && self.pending.len() < MAX_PENDING {
            self.pending.push((offset as u32, bytes));
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.contiguous
    }

    /// Heap bytes this stream holds (its buffers' capacities), for a shard's budget.
    pub fn held(&self) -> usize {
        self.contiguous.capacity()
            + segments_held(&self.pending)
            + self.orphan.as_ref().map_or(0, |(_, b)| b.capacity())
    }

    /// True when the stream's first byte is known for sure (its SYN was seen).
    pub fn starts_at_syn(&self) -> bool {
        self.base_from_syn
    }

    /// Forgets everything: the next segment becomes the start. For a flow whose SYN was not
    /// captured and whose first bytes made no sense (a keep-alive probe's stray byte, the
    /// middle of a response), so that a later request or handshake can still be read.
    pub fn restart(&mut self) {
        if let Some(base) = self.base.take() {
            if !self.contiguous.is_empty() {
                self.orphan = Some((base, std::mem::take(&mut self.contiguous)));
            }
        }
        self.pending.clear();
        self.restarts = self.restarts.saturating_add(1);
    }

    /// How many times `restart` was called.
    pub fn restarts(&self) -> u8 {
        self.restarts
    }

    /// True once the prefix reached its cap: a parser still waiting will wait forever.
    pub fn is_full(&self) -> bool {
        self.contiguous.len() >= MAX_PREFIX
    }

    /// Drops the first `n` bytes (a parsed HTTP CONNECT head) so the next protocol in the same
    /// stream starts at offset 0.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.contiguous.len());
        self.contiguous.drain(..n);
        if let Some(base) = self.base.as_mut() {
            *base = base.wrapping_add(n as u32);
        }
        self.base_from_syn = true;
        for (off, _) in self.pending.iter_mut() {
            *off = off.saturating_sub(n as u32);
        }
    }

    /// Adds one client segment with sequence number `seq`.
    pub fn add(&mut self, seq: u32, data: &[u8]) -> Progress {
        if data.is_empty() {
            return Progress::Unchanged;
        }
        let base = match self.base {
            Some(base) => base,
            None => {
                self.base = Some(seq);
                self.adopt_orphan();
                seq
            }
        };
        let offset = seq.wrapping_sub(base) as i32;
        if offset < 0 {
            return self.add_before_base(seq, data);
        }
        self.add_at(offset as u32, data)
    }

    /// A segment that starts before what we took as the first byte. With a SYN that can only be
    /// a retransmission overlapping the start; without one, our guess of the start was wrong
    /// (the first captured segment was not the first sent), so move the base back.
    fn add_before_base(&mut self, seq: u32, data: &[u8]) -> Progress {
        let base = self.base.unwrap_or(seq);
        let behind = base.wrapping_sub(seq) as usize;
        if self.base_from_syn {
            return match data.get(behind..) {
                Some(rest) if !rest.is_empty() => self.add_at(0, rest),
                _ => Progress::Unchanged,
            };
        }
        if behind >= MAX_PREFIX {
            return Progress::Unchanged;
        }
        let old = std::mem::take(&mut self.contiguous);
        for (off, _) in self.pending.iter_mut() {
            *off = off.saturating_add(behind as u32);
        }
        if !old.is_empty() {
            self.pending.push((behind as u32, old));
        }
        self.base = Some(seq);
        self.add_at(0, data)
    }

    fn add_at(&mut self, offset: u32, data: &[u8]) -> Progress {
        let offset = offset as usize;
        let have = self.contiguous.len();
        if offset > have {
            if offset < MAX_PREFIX && self.pending.len() < MAX_PENDING {
                let keep = data.len().min(MAX_PREFIX - offset);
                let bytes = data.get(..keep).unwrap_or_default().to_vec();
                self.pending.push((offset as u32, bytes));
            }
            return Progress::Unchanged;
        }
        if !self.append_from(offset, data) {
            return Progress::Unchanged;
        }
        self.drain_pending();
        Progress::Grew
    }

    /// Appends the part of `data` (which starts at `offset`) beyond what we have.
    fn append_from(&mut self, offset: usize, data: &[u8]) -> bool {
        let have = self.contiguous.len();
        let skip = have - offset;
        let room = MAX_PREFIX.saturating_sub(have);
        match data.get(skip..) {
            Some(new) if !new.is_empty() && room > 0 => {
                let take = new.len().min(room);
                self.contiguous
                    .extend_from_slice(new.get(..take).unwrap_or_default());
                true
            }
            _ => false,
        }
    }

    fn drain_pending(&mut self) {
        loop {
            let have = self.contiguous.len();
            let Some(pos) = self
                .pending
                .iter()
                .position(|(off, _)| (*off as usize) <= have)
            else {
                return;
            };
            let (off, bytes) = self.pending.swap_remove(pos);
            self.append_from(off as usize, &bytes);
        }
    }
}

/// Heap bytes of a list of numbered byte buffers (segments, HTTP/2 bodies): the list's and
/// each buffer's capacity.
pub fn segments_held(list: &Vec<(u32, Vec<u8>)>) -> usize {
    list.capacity() * std::mem::size_of::<(u32, Vec<u8>)>()
        + list.iter().map(|(_, b)| b.capacity()).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_with_syn() {
        let mut s = ClientStream::default();
        s.on_syn(99);
        assert_eq!(s.add(100, b"hello "), Progress::Grew);
        assert_eq!(s.add(106, b"world"), Progress::Grew);
        assert_eq!(s.bytes(), b"hello world");
    }

    #[test]
    fn retransmission_and_overlap() {
        let mut s = ClientStream::default();
        s.on_syn(0);
        s.add(1, b"abcd");
        assert_eq!(s.add(1, b"abcd"), Progress::Unchanged);
        assert_eq!(s.add(3, b"cdef"), Progress::Grew);
        assert_eq!(s.bytes(), b"abcdef");
        // A retransmission starting before the SYN's first byte is trimmed.
        assert_eq!(s.add(0, b"Xabcdefg"), Progress::Grew);
        assert_eq!(s.bytes(), b"abcdefg");
    }

    #[test]
    fn out_of_order_fills_gap() {
        let mut s = ClientStream::default();
        s.on_syn(1000);
        assert_eq!(s.add(1005, b"56789"), Progress::Unchanged);
        assert_eq!(s.bytes(), b"");
        assert_eq!(s.add(1001, b"1234"), Progress::Grew);
        assert_eq!(s.bytes(), b"123456789");
    }

    #[test]
    fn missing_syn_rebases_on_earlier_segment() {
        let mut s = ClientStream::default();
        // The second segment is the first we see; then the first arrives.
        s.add(5004, b"efgh");
        assert_eq!(s.bytes(), b"efgh");
        assert_eq!(s.add(5000, b"abcd"), Progress::Grew);
        assert_eq!(s.bytes(), b"abcdefgh");
    }

    #[test]
    fn sequence_wraparound() {
        let mut s = ClientStream::default();
        s.on_syn(u32::MAX - 2);
        s.add(u32::MAX - 1, b"ab");
        s.add(0, b"cd");
        assert_eq!(s.bytes(), b"abcd");
    }

    #[test]
    fn consume_moves_the_start() {
        let mut s = ClientStream::default();
        s.on_syn(0);
        s.add(1, b"CONNECT x:443 HTTP/1.1\r\n\r\n");
        s.consume(26);
        assert_eq!(s.bytes(), b"");
        assert_eq!(s.add(27, b"\x16\x03\x01"), Progress::Grew);
        assert_eq!(s.bytes(), b"\x16\x03\x01");
    }

    #[test]
    fn restart_keeps_a_middle_segment_for_later() {
        let mut s = ClientStream::default();
        s.add(104, b"efgh"); // the middle arrives first, makes no sense alone
        s.restart();
        assert_eq!(s.add(100, b"abcd"), Progress::Grew);
        assert_eq!(s.bytes(), b"abcdefgh");
    }

    #[test]
    fn anchor_from_syn_ack_keeps_early_middle_segment() {
        let mut s = ClientStream::default();
        s.anchor(500);
        assert_eq!(s.add(504, b"efgh"), Progress::Unchanged);
        assert_eq!(s.add(500, b"abcd"), Progress::Grew);
        assert_eq!(s.bytes(), b"abcdefgh");
    }

    #[test]
    fn capped() {
        let mut s = ClientStream::default();
        s.on_syn(0);
        let big = vec![7u8; MAX_PREFIX + 100];
        s.add(1, &big);
        assert_eq!(s.bytes().len(), MAX_PREFIX);
        assert_eq!(s.add(1 + MAX_PREFIX as u32, b"x"), Progress::Unchanged);
    }
}
