//! A cursor over borrowed bytes for the QUIC and gQUIC readers: fixed-width integers, QUIC
//! variable-length integers (RFC 9000 §16) and byte runs, every read bounds-checked. Running
//! off the end is `Incomplete`: in a datagram that means cut short (snap length, or a length
//! field that lies), which the callers report as such.

use crate::proto::{ProtoError, ProtoResult};

/// Reads forward through `bytes`; `pos` never passes `bytes.len()`.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, pos: 0 }
    }

    /// Bytes consumed so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.pos..).unwrap_or_default()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.bytes.len()
    }

    pub(crate) fn u8(&mut self) -> ProtoResult<u8> {
        let [byte] = self.array::<1>()?;
        Ok(byte)
    }

    pub(crate) fn u16_be(&mut self) -> ProtoResult<u16> {
        Ok(u16::from_be_bytes(self.array()?))
    }

    pub(crate) fn u16_le(&mut self) -> ProtoResult<u16> {
        Ok(u16::from_le_bytes(self.array()?))
    }

    pub(crate) fn u32_be(&mut self) -> ProtoResult<u32> {
        Ok(u32::from_be_bytes(self.array()?))
    }

    pub(crate) fn u32_le(&mut self) -> ProtoResult<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }

    pub(crate) fn array<const N: usize>(&mut self) -> ProtoResult<[u8; N]> {
        let bytes = self.bytes(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    /// The next `len` bytes, borrowed.
    pub(crate) fn bytes(&mut self, len: usize) -> ProtoResult<&'a [u8]> {
        let end = self.pos.checked_add(len).ok_or(ProtoError::Incomplete)?;
        let out = self
            .bytes
            .get(self.pos..end)
            .ok_or(ProtoError::Incomplete)?;
        self.pos = end;
        Ok(out)
    }

    /// The next `len` bytes for a length read from the wire (a u64 that may not fit a usize).
    pub(crate) fn bytes_u64(&mut self, len: u64) -> ProtoResult<&'a [u8]> {
        self.bytes(usize::try_from(len).map_err(|_| ProtoError::Incomplete)?)
    }

    pub(crate) fn skip(&mut self, len: usize) -> ProtoResult<()> {
        self.bytes(len).map(|_| ())
    }

    /// An unsigned big-endian integer of `len` bytes (0..=8), as gQUIC writes offsets and
    /// packet numbers.
    pub(crate) fn uint_be(&mut self, len: usize) -> ProtoResult<u64> {
        let bytes = self.bytes(len)?;
        if len > 8 {
            return Err(ProtoError::Invalid("integer wider than 64 bits"));
        }
        Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// Same as [`Reader::uint_be`], little-endian (gQUIC before Q039).
    pub(crate) fn uint_le(&mut self, len: usize) -> ProtoResult<u64> {
        let bytes = self.bytes(len)?;
        if len > 8 {
            return Err(ProtoError::Invalid("integer wider than 64 bits"));
        }
        Ok(bytes
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// A QUIC variable-length integer: the two high bits of the first byte give its length
    /// (1, 2, 4 or 8 bytes), the rest is the value, big-endian.
    pub(crate) fn varint(&mut self) -> ProtoResult<u64> {
        let first = self.u8()?;
        let extra = (1usize << (first >> 6)) - 1;
        let tail = self.bytes(extra)?;
        Ok(tail
            .iter()
            .fold(u64::from(first & 0x3f), |acc, &b| (acc << 8) | u64::from(b)))
    }
}

/// Appends `value` as a QUIC variable-length integer in its shortest form. Values of 2^62 and
/// more do not exist on the wire; they are written as the largest one (only the fixture writer
/// calls this, with lengths it computed).
pub(crate) fn put_varint(out: &mut Vec<u8>, value: u64) {
    put_varint_len(out, value, varint_len(value));
}

/// Bytes [`put_varint`] takes for `value`.
pub(crate) fn varint_len(value: u64) -> usize {
    match value {
        0..=0x3f => 1,
        0x40..=0x3fff => 2,
        0x4000..=0x3fff_ffff => 4,
        _ => 8,
    }
}

/// Appends `value` as a varint of exactly `len` bytes (1, 2, 4 or 8; a longer form than needed
/// is legal, and a writer that must fix a length field before knowing the value uses one).
pub(crate) fn put_varint_len(out: &mut Vec<u8>, value: u64, len: usize) {
    let value = value.min((1 << 62) - 1);
    let (tag, len) = match len {
        1 => (0x00u64, 1usize),
        2 => (0x40, 2),
        4 => (0x80, 4),
        _ => (0xc0, 8),
    };
    let encoded = value | (tag << ((len - 1) * 8));
    let bytes = encoded.to_be_bytes();
    out.extend_from_slice(bytes.get(8 - len..).unwrap_or_default());
}

/// Hex text (whitespace and quotes ignored) to bytes, for the test fixtures.
#[cfg(test)]
pub(crate) use crate::testkit::hex;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_of_rfc9000_appendix_a1() {
        // RFC 9000 §A.1 sample decodings.
        for (hex_text, value) in [
            ("c2197c5eff14e88c", 151_288_809_941_952_652u64),
            ("9d7f3e7d", 494_878_333),
            ("7bbd", 15_293),
            ("25", 37),
            ("4025", 37),
        ] {
            let bytes = hex(hex_text);
            let mut reader = Reader::new(&bytes);
            assert_eq!(reader.varint(), Ok(value), "{hex_text}");
            assert!(reader.is_empty());
        }
    }

    #[test]
    fn varints_round_trip_and_truncate() {
        for value in [
            0,
            63,
            64,
            16_383,
            16_384,
            (1 << 30) - 1,
            1 << 30,
            (1 << 62) - 1,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, value);
            assert_eq!(out.len(), varint_len(value));
            assert_eq!(Reader::new(&out).varint(), Ok(value));
            for cut in 0..out.len() {
                assert_eq!(
                    Reader::new(&out[..cut]).varint(),
                    Err(ProtoError::Incomplete)
                );
            }
            let mut long = Vec::new();
            put_varint_len(&mut long, value.min(0x3fff_ffff), 4);
            assert_eq!(Reader::new(&long).varint(), Ok(value.min(0x3fff_ffff)));
        }
    }

    #[test]
    fn fixed_width_reads_stop_at_the_end() {
        let mut reader = Reader::new(&[1, 2, 3]);
        assert_eq!(reader.u16_be(), Ok(0x0102));
        assert_eq!(reader.u16_le(), Err(ProtoError::Incomplete));
        assert_eq!(reader.u8(), Ok(3));
        assert_eq!(reader.bytes_u64(u64::MAX), Err(ProtoError::Incomplete));
        assert_eq!(Reader::new(&[1, 2]).uint_le(2), Ok(0x0201));
        assert_eq!(Reader::new(&[1, 2]).uint_be(2), Ok(0x0102));
    }
}
