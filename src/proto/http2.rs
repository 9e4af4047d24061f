//! HTTP/2 frames (RFC 9113 §4.1) of cleartext ("prior knowledge") h2c connections.
//!
//! Only the frame layer: enough to collect DATA bodies per stream, so that DNS over HTTPS sent
//! in clear (a DoH resolver on a LAN, or a test) can be read. Header blocks are not decoded
//! (no HPACK); TLS-protected HTTP/2 never reaches this code.

use super::{ProtoError, ProtoResult};

/// What a client sends first on a prior-knowledge h2c connection.
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
pub const FRAME_HEADER_LEN: usize = 9;
pub const TYPE_DATA: u8 = 0x0;
pub const FLAG_END_STREAM: u8 = 0x1;
const FLAG_PADDED: u8 = 0x8;
/// The largest frame a peer may be allowed to send (2^24 - 1); we accept up to 64 KiB.
const MAX_FRAME: usize = 64 * 1024;

/// Does the stream start with (a prefix of) the h2c preface?
pub fn starts_with_preface(prefix: &[u8]) -> ProtoResult<()> {
    let n = prefix.len().min(PREFACE.len());
    if prefix.get(..n) != PREFACE.get(..n) {
        return Err(ProtoError::Invalid("not an h2c preface"));
    }
    if n < PREFACE.len() {
        return Err(ProtoError::Incomplete);
    }
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    pub kind: u8,
    pub flags: u8,
    pub stream: u32,
    pub payload: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The body bytes of a DATA frame, padding removed.
    pub fn data(&self) -> ProtoResult<&'a [u8]> {
        if self.kind != TYPE_DATA {
            return Err(ProtoError::Invalid("not a DATA frame"));
        }
        if self.flags & FLAG_PADDED == 0 {
            return Ok(self.payload);
        }
        let (&pad, rest) = self
            .payload
            .split_first()
            .ok_or(ProtoError::Invalid("padded DATA frame without pad length"))?;
        let end = rest
            .len()
            .checked_sub(usize::from(pad))
            .ok_or(ProtoError::Invalid("DATA padding longer than frame"))?;
        rest.get(..end)
            .ok_or(ProtoError::Invalid("DATA padding longer than frame"))
    }

    pub fn ends_stream(&self) -> bool {
        self.flags & FLAG_END_STREAM != 0
    }
}

/// The frame at the start of `buf`, and its total length.
pub fn parse_frame(buf: &[u8]) -> ProtoResult<(Frame<'_>, usize)> {
    let header = buf.get(..FRAME_HEADER_LEN).ok_or(ProtoError::Incomplete)?;
    let len = usize::from(header[0]) << 16 | usize::from(header[1]) << 8 | usize::from(header[2]);
    if len > MAX_FRAME {
        return Err(ProtoError::Invalid("http2 frame too long"));
    }
    let stream = u32::from_be_bytes([header[5], header[6], header[7], header[8]]) & 0x7fff_ffff;
    let total = FRAME_HEADER_LEN + len;
    let payload = buf
        .get(FRAME_HEADER_LEN..total)
        .ok_or(ProtoError::Incomplete)?;
    Ok((
        Frame {
            kind: header[3],
            flags: header[4],
            stream,
            payload,
        },
        total,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preface() {
        assert_eq!(
            starts_with_preface(b"PRI * HT"),
            Err(ProtoError::Incomplete)
        );
        assert!(starts_with_preface(PREFACE).is_ok());
        assert!(matches!(
            starts_with_preface(b"GET / HTTP/1.1"),
            Err(ProtoError::Invalid(_))
        ));
    }

    #[test]
    fn frames_and_padding() {
        // SETTINGS (empty), then a padded DATA frame on stream 3 with END_STREAM.
        let mut buf = vec![0, 0, 0, 4, 0, 0, 0, 0, 0];
        buf.extend_from_slice(&[0, 0, 6, 0, 0x9, 0, 0, 0, 3, 2, b'h', b'i', b'!', 0, 0]);
        let (settings, n) = parse_frame(&buf).unwrap();
        assert_eq!((settings.kind, n), (4, 9));
        let (data, m) = parse_frame(&buf[n..]).unwrap();
        assert_eq!(m, 15);
        assert_eq!(data.stream, 3);
        assert!(data.ends_stream());
        assert_eq!(data.data().unwrap(), b"hi!");
        for cut in 0..buf.len() - n {
            assert_eq!(
                parse_frame(&buf[n..n + cut]).map(|_| ()),
                Err(ProtoError::Incomplete)
            );
        }
        let bad_pad = [0, 0, 1, 0, 0x8, 0, 0, 0, 1, 9];
        assert!(parse_frame(&bad_pad).unwrap().0.data().is_err());
        assert!(parse_frame(&[0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
