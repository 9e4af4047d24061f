//! The frames of a decrypted Initial packet (RFC 9000 §12.4, §19): CRYPTO frames are handed
//! on with their stream offset, PADDING, PING, ACK and CONNECTION_CLOSE are stepped over. Any
//! other frame type is not allowed in an Initial, so the walk stops there with `Invalid`
//! (the CRYPTO frames before it have been handed on: they were authenticated like the rest).

use super::wire::Reader;
use crate::proto::{ProtoError, ProtoResult};

const PADDING: u64 = 0x00;
const PING: u64 = 0x01;
const ACK: u64 = 0x02;
const ACK_ECN: u64 = 0x03;
const CRYPTO: u64 = 0x06;
const CONNECTION_CLOSE: u64 = 0x1c;

/// What one packet's frames held.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FrameCounts {
    pub(crate) crypto: usize,
    pub(crate) crypto_bytes: usize,
}

/// Walks the frames of an Initial packet's plaintext, calling `on_crypto(offset, data)` for
/// each CRYPTO frame in the order they appear.
pub(crate) fn walk_initial_frames(
    plaintext: &[u8],
    on_crypto: &mut dyn FnMut(u64, &[u8]),
) -> ProtoResult<FrameCounts> {
    let mut reader = Reader::new(plaintext);
    let mut counts = FrameCounts::default();
    while !reader.is_empty() {
        match reader.varint()? {
            PADDING => {
                // Runs of hundreds of zero bytes are the rule; skip them in one go.
                let zeros = reader.rest().iter().take_while(|&&b| b == 0).count();
                reader.skip(zeros)?;
            }
            PING => {}
            frame @ (ACK | ACK_ECN) => skip_ack(&mut reader, frame == ACK_ECN)?,
            CRYPTO => {
                let offset = reader.varint()?;
                let len = reader.varint()?;
                let data = reader.bytes_u64(len)?;
                if offset.checked_add(len).is_none_or(|end| end >= 1 << 62) {
                    return Err(ProtoError::Invalid("CRYPTO frame past 2^62"));
                }
                on_crypto(offset, data);
                counts.crypto += 1;
                counts.crypto_bytes += data.len();
            }
            CONNECTION_CLOSE => {
                reader.varint()?; // error code
                reader.varint()?; // frame type
                let reason_len = reader.varint()?;
                reader.bytes_u64(reason_len)?;
            }
            _ => return Err(ProtoError::Invalid("frame type not allowed in an Initial")),
        }
    }
    Ok(counts)
}

/// Steps over an ACK frame's body (RFC 9000 §19.3). Each range takes at least two bytes, so a
/// forged range count runs out of bytes long before it runs out of iterations.
fn skip_ack(reader: &mut Reader<'_>, ecn: bool) -> ProtoResult<()> {
    reader.varint()?; // largest acknowledged
    reader.varint()?; // ACK delay
    let ranges = reader.varint()?;
    reader.varint()?; // first ACK range
    for _ in 0..ranges {
        if reader.is_empty() {
            return Err(ProtoError::Incomplete);
        }
        reader.varint()?; // gap
        reader.varint()?; // ACK range length
    }
    if ecn {
        for _ in 0..3 {
            reader.varint()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::quic::wire::hex;

    fn crypto_frames(plaintext: &[u8]) -> (Vec<(u64, Vec<u8>)>, ProtoResult<FrameCounts>) {
        let mut frames = Vec::new();
        let result = walk_initial_frames(plaintext, &mut |offset, data| {
            frames.push((offset, data.to_vec()))
        });
        (frames, result)
    }

    #[test]
    fn crypto_frames_between_padding_ping_and_acks() {
        let plaintext = hex(
            "01 0000 06 00 03 aabbcc 02 05 00 01 00 0101 03 07 00 00 00 01 02 03 \
             06 4005 02 dddd 1c 00 00 02 6f6b 000000",
        );
        let (frames, counts) = crypto_frames(&plaintext);
        assert_eq!(frames, vec![(0, hex("aabbcc")), (5, hex("dddd"))]);
        assert_eq!(
            counts,
            Ok(FrameCounts {
                crypto: 2,
                crypto_bytes: 5
            })
        );
    }

    #[test]
    fn disallowed_frames_stop_the_walk_after_what_came_before() {
        // CRYPTO, then a STREAM frame (0x08), which an Initial may not carry.
        let plaintext = hex("06 00 01 aa 08 00 01 bb");
        let (frames, result) = crypto_frames(&plaintext);
        assert_eq!(frames, vec![(0, hex("aa"))]);
        assert_eq!(
            result,
            Err(ProtoError::Invalid("frame type not allowed in an Initial"))
        );
    }

    #[test]
    fn truncated_frames_are_incomplete_at_every_cut() {
        let plaintext = hex("02 05 00 01 00 0101 06 00 03 aabbcc 1c 00 00 02 6f6b");
        for cut in 1..plaintext.len() {
            let (_, result) = crypto_frames(&plaintext[..cut]);
            if let Err(err) = result {
                assert_eq!(err, ProtoError::Incomplete, "cut {cut}");
            }
        }
        // A huge ACK range count with no bytes behind it.
        let (_, result) = crypto_frames(&hex("02 00 00 bfffffffffffffff 00"));
        assert_eq!(result, Err(ProtoError::Incomplete));
        // Offset + length past 2^62.
        let (_, result) = crypto_frames(&hex("06 ffffffffffffffff 01 aa"));
        assert_eq!(result, Err(ProtoError::Invalid("CRYPTO frame past 2^62")));
    }
}
