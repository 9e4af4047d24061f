//! TLS 1.3 bytes other than the ClientHello: the server's flight (a real ServerHello, a
//! ChangeCipherSpec, then "encrypted" handshake records), the client's Finished flight, and
//! application data, all filler bytes from a fixed-seed generator behind correct record
//! headers (`17 03 03 len`).
//!
//! The ServerHello is well formed because dissectors (and our own parser) read it; everything
//! after it is opaque ciphertext on a real network too. It refuses to build a ClientHello:
//! that is `crate::proto::tls::build::build_client_hello`, the project's single writer.

use super::XorShift64;

pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 0x14;
pub const CONTENT_HANDSHAKE: u8 = 0x16;
pub const CONTENT_APPLICATION_DATA: u8 = 0x17;
/// Largest TLS 1.3 ciphertext fragment: 2^14 plaintext + content type + 16-byte AEAD tag.
pub const MAX_CIPHERTEXT: usize = 16_384 + 1 + 16;
const RECORD_HEADER: usize = 5;
/// TLS_AES_128_GCM_SHA256.
pub const TLS_AES_128_GCM_SHA256: u16 = 0x1301;

/// One record header plus body.
fn record(out: &mut Vec<u8>, content_type: u8, body: &[u8]) {
    out.push(content_type);
    out.extend_from_slice(&[0x03, 0x03]);
    // Bodies here are at most MAX_CIPHERTEXT (or a ServerHello), so they fit a u16.
    out.extend_from_slice(&(body.len().min(usize::from(u16::MAX)) as u16).to_be_bytes());
    out.extend_from_slice(body);
}

/// Records of `content_type` filled with pseudo-random bytes, exactly `total_len` bytes on
/// the wire (headers included) whenever `total_len >= 6`; a smaller request still yields one
/// 6-byte record. Records are full-size except the last ones.
pub fn filler_records(content_type: u8, total_len: usize, rng: &mut XorShift64) -> Vec<u8> {
    let mut out = Vec::with_capacity(total_len.max(RECORD_HEADER + 1));
    let mut remaining = total_len.max(RECORD_HEADER + 1);
    while remaining > 0 {
        let full = RECORD_HEADER + MAX_CIPHERTEXT;
        let this = if remaining <= full {
            remaining
        } else if remaining - full < RECORD_HEADER + 1 {
            // Leave enough for a last record of at least one byte.
            remaining - (RECORD_HEADER + 1)
        } else {
            full
        };
        let body = rng.bytes(this - RECORD_HEADER);
        record(&mut out, content_type, &body);
        remaining -= this;
    }
    out
}

/// Encrypted application data, exactly `total_len` bytes (see [`filler_records`]).
pub fn application_data(total_len: usize, rng: &mut XorShift64) -> Vec<u8> {
    filler_records(CONTENT_APPLICATION_DATA, total_len, rng)
}

/// A TLS 1.3 ServerHello record: random, a 32-byte session id echo, `cipher_suite`, and the
/// supported_versions (TLS 1.3) and key_share (X25519) extensions.
pub fn server_hello(cipher_suite: u16, rng: &mut XorShift64) -> Vec<u8> {
    let mut extensions = Vec::new();
    extensions.extend_from_slice(&[0x00, 0x2b, 0x00, 0x02, 0x03, 0x04]);
    extensions.extend_from_slice(&[0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20]);
    extensions.extend_from_slice(&rng.bytes(32));

    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&rng.bytes(32));
    body.push(32);
    body.extend_from_slice(&rng.bytes(32));
    body.extend_from_slice(&cipher_suite.to_be_bytes());
    body.push(0); // null compression
    body.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
    body.extend_from_slice(&extensions);

    let mut handshake = vec![0x02]; // ServerHello
    handshake.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&body);
    let mut out = Vec::new();
    record(&mut out, CONTENT_HANDSHAKE, &handshake);
    out
}

/// The server's first flight: ServerHello, ChangeCipherSpec, then `encrypted_len` bytes of
/// encrypted handshake records (EncryptedExtensions, Certificate, CertificateVerify, Finished
/// look like application data in TLS 1.3). 4-6 KB is typical with a certificate chain.
pub fn server_flight(encrypted_len: usize, rng: &mut XorShift64) -> Vec<u8> {
    let mut out = server_hello(TLS_AES_128_GCM_SHA256, rng);
    record(&mut out, CONTENT_CHANGE_CIPHER_SPEC, &[1]);
    out.extend_from_slice(&application_data(encrypted_len, rng));
    out
}

/// The client's second flight: ChangeCipherSpec and an encrypted Finished (58 bytes in all
/// with SHA-256).
pub fn client_finished(rng: &mut XorShift64) -> Vec<u8> {
    let mut out = Vec::with_capacity(64);
    record(&mut out, CONTENT_CHANGE_CIPHER_SPEC, &[1]);
    out.extend_from_slice(&application_data(RECORD_HEADER + 53, rng));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Walks a record stream, returning (type, body length) per record; panics on a bad
    /// header or trailing bytes.
    fn walk(mut bytes: &[u8]) -> Vec<(u8, usize)> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            assert_eq!(&bytes[1..3], &[3, 3]);
            let len = usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
            assert!(len <= MAX_CIPHERTEXT && len > 0);
            out.push((bytes[0], len));
            bytes = &bytes[5 + len..];
        }
        out
    }

    #[test]
    fn filler_is_exact_for_every_awkward_length() {
        let mut rng = XorShift64::new(1);
        let full = 5 + MAX_CIPHERTEXT;
        for total in [
            6,
            7,
            100,
            full - 1,
            full,
            full + 1,
            full + 5,
            full + 6,
            2 * full,
            2 * full + 3,
            1_500_000,
        ] {
            let bytes = application_data(total, &mut rng);
            assert_eq!(bytes.len(), total, "total {total}");
            let records = walk(&bytes);
            assert!(records.iter().all(|&(t, _)| t == 0x17));
        }
        assert_eq!(application_data(0, &mut rng).len(), 6);
    }

    #[test]
    fn server_hello_structure() {
        let mut rng = XorShift64::new(2);
        let hello = server_hello(TLS_AES_128_GCM_SHA256, &mut rng);
        assert_eq!(hello.len(), 127);
        assert_eq!(&hello[..5], &[0x16, 3, 3, 0, 122]);
        assert_eq!(&hello[5..9], &[2, 0, 0, 118]);
        assert_eq!(&hello[9..11], &[3, 3]);
        assert_eq!(hello[43], 32, "session id length");
        assert_eq!(&hello[76..79], &[0x13, 0x01, 0], "cipher, compression");
        assert_eq!(&hello[79..81], &[0, 46], "extensions length");
        assert_eq!(&hello[81..87], &[0, 0x2b, 0, 2, 3, 4]);
    }

    #[test]
    fn flights_are_record_streams() {
        let mut rng = XorShift64::new(3);
        let flight = server_flight(4_000, &mut rng);
        let records = walk(&flight);
        assert_eq!(records[0], (0x16, 122));
        assert_eq!(records[1], (0x14, 1));
        assert_eq!(flight.len(), 127 + 6 + 4_000);
        let finished = client_finished(&mut rng);
        assert_eq!(walk(&finished), [(0x14, 1), (0x17, 53)]);
        assert_eq!(finished.len(), 64);
    }
}
