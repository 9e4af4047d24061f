//! `proto::tls::build` (kept in its own file, `tls_build.rs`, to keep `tls.rs` readable):
//! writes realistic TLS ClientHellos for the project's own test fixtures (integration tests,
//! generated captures, benches): a modern browser hello with TLS 1.3 supported_versions,
//! GREASE values, and an X25519 plus X25519MLKEM768 (0x11ec, 1216-byte) key share, so it
//! weighs ~1.8 KB like Chrome's since version 131 (1785 bytes for `chatgpt.com`, h2 +
//! http/1.1 and GREASE ECH).
//!
//! Output is deterministic (the "random" bytes come from a fixed generator seeded by the
//! inputs) so fixtures and snapshots are stable. It is not a TLS client: key shares and the
//! GREASE ECH payload are filler bytes of the right shape, never usable key material.

use super::{EXT_ALPN, EXT_ECH, EXT_SERVER_NAME, EXT_SUPPORTED_VERSIONS, MAX_CLIENT_HELLO_LEN};

/// Longest SNI written (longer input is cut): DNS names stop at 253, this leaves room for
/// oversize-name tests while keeping every length field in range.
pub const MAX_BUILD_SNI_LEN: usize = 4096;
/// ALPN names are cut to 255 bytes (u8 length) and the list stops before 4096 bytes.
const MAX_BUILD_ALPN_LIST_LEN: usize = 4096;
const MAX_RECORD_PAYLOAD: usize = 1 << 14;

const EXT_STATUS_REQUEST: u16 = 0x0005;
const EXT_SUPPORTED_GROUPS: u16 = 0x000a;
const EXT_EC_POINT_FORMATS: u16 = 0x000b;
const EXT_SIGNATURE_ALGORITHMS: u16 = 0x000d;
const EXT_SCT: u16 = 0x0012;
const EXT_PADDING: u16 = 0x0015;
const EXT_EXTENDED_MASTER_SECRET: u16 = 0x0017;
const EXT_COMPRESS_CERTIFICATE: u16 = 0x001b;
const EXT_SESSION_TICKET: u16 = 0x0023;
const EXT_PSK_KEY_EXCHANGE_MODES: u16 = 0x002d;
const EXT_KEY_SHARE: u16 = 0x0033;
const EXT_APPLICATION_SETTINGS: u16 = 0x44cd;
const EXT_RENEGOTIATION_INFO: u16 = 0xff01;

const GROUP_X25519: u16 = 0x001d;
const GROUP_SECP256R1: u16 = 0x0017;
const GROUP_SECP384R1: u16 = 0x0018;
const GROUP_X25519_MLKEM768: u16 = 0x11ec;
/// ML-KEM-768 encapsulation key (1184) followed by the X25519 share (32).
const X25519_MLKEM768_SHARE_LEN: usize = 1184 + 32;

/// Chrome's cipher suites after its GREASE suite.
const CIPHER_SUITES: [u16; 15] = [
    0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c,
    0x009d, 0x002f, 0x0035,
];
const SIGNATURE_ALGORITHMS: [u16; 8] = [
    0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
];

/// A full TLS record stream (record header(s) + ClientHello handshake message) as a modern
/// browser sends it.
///
/// * `sni`: server_name extension with this host name (cut to [`MAX_BUILD_SNI_LEN`] bytes);
///   `None` leaves the extension out.
/// * `alpn`: ALPN extension with these names (left out when empty); with `h2` among them an
///   application_settings (ALPS) extension is added as Chrome does.
/// * `ech_grease`: add a GREASE encrypted_client_hello extension (0xfe0d) like Chrome's.
/// * `pad_to`: minimum length of the handshake message (4-byte header included), reached with
///   a padding extension (0x0015); exact when the shortfall is at least 4 bytes, otherwise a
///   few bytes over. 0 or anything below the natural size adds no padding; capped at
///   `MAX_CLIENT_HELLO_LEN`. Messages over 2^14 bytes are split over several records, which
///   is the way to get a fragmented-record fixture.
pub fn build_client_hello(
    sni: Option<&str>,
    alpn: &[&str],
    ech_grease: bool,
    pad_to: usize,
) -> Vec<u8> {
    let mut rng = SplitMix64::seeded(sni.unwrap_or("").as_bytes(), alpn, ech_grease);
    let grease = GreasePicker::new(&mut rng);

    let mut body = Vec::with_capacity(2048);
    put_u16(&mut body, 0x0303);
    body.extend_from_slice(&rng.bytes(32)); // random
    put_vec8(&mut body, |out| out.extend_from_slice(&rng.bytes(32))); // legacy_session_id
    put_vec16(&mut body, |out| {
        put_u16(out, grease.cipher);
        CIPHER_SUITES.iter().for_each(|&suite| put_u16(out, suite));
    });
    put_vec8(&mut body, |out| out.push(0)); // compression: null only

    let mut extensions = Vec::with_capacity(2048);
    put_extension(&mut extensions, grease.first_extension, |_| {});
    if let Some(name) = sni {
        let name = name.as_bytes();
        let name = name.get(..MAX_BUILD_SNI_LEN).unwrap_or(name);
        put_extension(&mut extensions, EXT_SERVER_NAME, |out| {
            put_vec16(out, |list| {
                list.push(0); // host_name
                put_vec16(list, |host| host.extend_from_slice(name));
            });
        });
    }
    put_extension(&mut extensions, EXT_EXTENDED_MASTER_SECRET, |_| {});
    put_extension(&mut extensions, EXT_RENEGOTIATION_INFO, |out| out.push(0));
    put_extension(&mut extensions, EXT_SUPPORTED_GROUPS, |out| {
        put_vec16(out, |list| {
            for group in [
                grease.group,
                GROUP_X25519_MLKEM768,
                GROUP_X25519,
                GROUP_SECP256R1,
                GROUP_SECP384R1,
            ] {
                put_u16(list, group);
            }
        });
    });
    put_extension(&mut extensions, EXT_EC_POINT_FORMATS, |out| {
        put_vec8(out, |list| list.push(0))
    });
    put_extension(&mut extensions, EXT_SESSION_TICKET, |_| {});
    let alpn_names = bounded_alpn(alpn);
    if !alpn_names.is_empty() {
        put_extension(&mut extensions, EXT_ALPN, |out| {
            put_vec16(out, |list| {
                for name in &alpn_names {
                    put_vec8(list, |entry| entry.extend_from_slice(name));
                }
            });
        });
    }
    put_extension(&mut extensions, EXT_STATUS_REQUEST, |out| {
        out.extend_from_slice(&[1, 0, 0, 0, 0]); // ocsp, no responder ids, no extensions
    });
    put_extension(&mut extensions, EXT_SIGNATURE_ALGORITHMS, |out| {
        put_vec16(out, |list| {
            SIGNATURE_ALGORITHMS
                .iter()
                .for_each(|&alg| put_u16(list, alg))
        });
    });
    put_extension(&mut extensions, EXT_SCT, |_| {});
    let mlkem_share = rng.bytes(X25519_MLKEM768_SHARE_LEN);
    let x25519_share = rng.bytes(32);
    put_extension(&mut extensions, EXT_KEY_SHARE, |out| {
        put_vec16(out, |shares| {
            put_u16(shares, grease.group);
            put_vec16(shares, |share| share.push(0));
            put_u16(shares, GROUP_X25519_MLKEM768);
            put_vec16(shares, |share| share.extend_from_slice(&mlkem_share));
            put_u16(shares, GROUP_X25519);
            put_vec16(shares, |share| share.extend_from_slice(&x25519_share));
        });
    });
    put_extension(&mut extensions, EXT_PSK_KEY_EXCHANGE_MODES, |out| {
        put_vec8(out, |list| list.push(1))
    });
    put_extension(&mut extensions, EXT_SUPPORTED_VERSIONS, |out| {
        put_vec8(out, |list| {
            [grease.version, 0x0304, 0x0303]
                .iter()
                .for_each(|&v| put_u16(list, v))
        });
    });
    put_extension(&mut extensions, EXT_COMPRESS_CERTIFICATE, |out| {
        put_vec8(out, |list| put_u16(list, 2))
    });
    if alpn_names.iter().any(|name| name.as_slice() == b"h2") {
        put_extension(&mut extensions, EXT_APPLICATION_SETTINGS, |out| {
            put_vec16(out, |list| {
                put_vec8(list, |name| name.extend_from_slice(b"h2"))
            });
        });
    }
    if ech_grease {
        let enc = rng.bytes(32);
        let payload = rng.bytes(208);
        let config_id = rng.bytes(1);
        put_extension(&mut extensions, EXT_ECH, |out| {
            out.push(0); // outer ClientHello
            put_u16(out, 0x0001); // HKDF-SHA256
            put_u16(out, 0x0001); // AES-128-GCM
            out.extend_from_slice(&config_id);
            put_vec16(out, |field| field.extend_from_slice(&enc));
            put_vec16(out, |field| field.extend_from_slice(&payload));
        });
    }
    put_extension(&mut extensions, grease.last_extension, |out| out.push(0));

    // Handshake header (4) + body + extensions length (2) + extensions.
    let natural_len = 4 + body.len() + 2 + extensions.len();
    let target = pad_to.min(MAX_CLIENT_HELLO_LEN);
    if target > natural_len {
        let room = usize::from(u16::MAX).saturating_sub(extensions.len() + 4);
        let padding = (target - natural_len).saturating_sub(4).min(room);
        put_extension(&mut extensions, EXT_PADDING, |out| {
            out.resize(out.len() + padding, 0)
        });
    }
    put_vec16(&mut body, |out| out.extend_from_slice(&extensions));

    let mut message = Vec::with_capacity(body.len() + 4);
    message.push(1); // client_hello
    message.extend_from_slice(&len_bytes(body.len(), 3));
    message.extend_from_slice(&body);

    let mut stream =
        Vec::with_capacity(message.len() + 5 * (message.len() / MAX_RECORD_PAYLOAD + 1));
    for fragment in message.chunks(MAX_RECORD_PAYLOAD) {
        stream.extend_from_slice(&[22, 3, 1]); // handshake, legacy record version TLS 1.0
        put_u16(
            &mut stream,
            u16::try_from(fragment.len()).unwrap_or(u16::MAX),
        );
        stream.extend_from_slice(fragment);
    }
    stream
}

/// ALPN names as written: each cut to 255 bytes, the list stopped before it gets too long.
fn bounded_alpn(alpn: &[&str]) -> Vec<Vec<u8>> {
    let mut total = 0usize;
    let mut names = Vec::new();
    for name in alpn {
        let bytes = name.as_bytes();
        let bytes = bytes.get(..255).unwrap_or(bytes);
        total += 1 + bytes.len();
        if total > MAX_BUILD_ALPN_LIST_LEN {
            break;
        }
        names.push(bytes.to_vec());
    }
    names
}

fn put_u16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_be_bytes());
}

/// The low `width` bytes of `len`, big-endian (lengths here are bounded by construction).
fn len_bytes(len: usize, width: usize) -> Vec<u8> {
    let bytes = (len as u64).to_be_bytes();
    bytes
        .get(8usize.saturating_sub(width)..)
        .unwrap_or(&bytes)
        .to_vec()
}

/// Writes what `fill` produces behind a length prefix of `width` bytes.
fn put_prefixed(out: &mut Vec<u8>, width: usize, fill: impl FnOnce(&mut Vec<u8>)) {
    let start = out.len();
    out.resize(start + width, 0);
    fill(out);
    let len = out.len() - start - width;
    let prefix = len_bytes(len, width);
    if let Some(slot) = out.get_mut(start..start + width) {
        slot.copy_from_slice(&prefix);
    }
}

fn put_vec8(out: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) {
    put_prefixed(out, 1, fill);
}

fn put_vec16(out: &mut Vec<u8>, fill: impl FnOnce(&mut Vec<u8>)) {
    put_prefixed(out, 2, fill);
}

fn put_extension(out: &mut Vec<u8>, ext_type: u16, fill: impl FnOnce(&mut Vec<u8>)) {
    put_u16(out, ext_type);
    put_vec16(out, fill);
}

/// GREASE values (RFC 8701) for each place Chrome puts one; the two extensions differ as
/// duplicate extension types are illegal.
struct GreasePicker {
    cipher: u16,
    first_extension: u16,
    last_extension: u16,
    group: u16,
    version: u16,
}

impl GreasePicker {
    fn new(rng: &mut SplitMix64) -> Self {
        let mut pick = || {
            let nibble = (rng.next() % 16) as u16;
            (nibble << 12) | 0x0a00 | (nibble << 4) | 0x0a
        };
        let cipher = pick();
        let first_extension = pick();
        let mut last_extension = pick();
        if last_extension == first_extension {
            last_extension ^= 0x1010;
        }
        GreasePicker {
            cipher,
            first_extension,
            last_extension,
            group: pick(),
            version: pick(),
        }
    }
}

/// Small deterministic generator (SplitMix64) so fixtures are reproducible without a crate.
struct SplitMix64(u64);

impl SplitMix64 {
    fn seeded(sni: &[u8], alpn: &[&str], ech_grease: bool) -> Self {
        // FNV-1a over the inputs: different fixtures get different bytes, the same one the same.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        let alpn_bytes = alpn
            .iter()
            .flat_map(|name| name.as_bytes().iter().chain(&[0u8]));
        for &byte in sni
            .iter()
            .chain(&[0xff])
            .chain(alpn_bytes)
            .chain(&[u8::from(ech_grease)])
        {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        SplitMix64(hash)
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n + 8);
        while out.len() < n {
            out.extend_from_slice(&self.next().to_le_bytes());
        }
        out.truncate(n);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::super::{
        is_grease, parse_client_hello_handshake, parse_client_hello_records, ClientHello,
    };
    use super::*;

    fn parse(stream: &[u8]) -> ClientHello {
        parse_client_hello_records(stream).unwrap()
    }

    #[test]
    fn parser_reads_what_the_builder_writes() {
        let stream = build_client_hello(Some("chatgpt.com"), &["h2", "http/1.1"], true, 0);
        let hello = parse(&stream);
        assert_eq!(hello.sni.as_deref(), Some("chatgpt.com"));
        assert_eq!(hello.alpn, ["h2", "http/1.1"]);
        assert!(hello.ech && hello.grease && !hello.esni);
        assert_eq!(hello.legacy_version, 0x0303);
        let versions: Vec<u16> = hello
            .supported_versions
            .iter()
            .copied()
            .filter(|&v| !is_grease(v))
            .collect();
        assert_eq!(versions, [0x0304, 0x0303]);
        assert_eq!(hello.cipher_suites, 16);
        assert_eq!(hello.extensions, 18);
        // One record, Chrome-sized thanks to the 1216-byte hybrid key share.
        assert_eq!(
            usize::from(u16::from_be_bytes([stream[3], stream[4]])) + 5,
            stream.len()
        );
        assert!((1700..2100).contains(&stream.len()), "{}", stream.len());
        assert_eq!(parse_client_hello_handshake(&stream[5..]).unwrap(), hello);
    }

    #[test]
    fn key_share_carries_the_mlkem_hybrid() {
        let stream = build_client_hello(None, &[], false, 0);
        let share_header = [0x11, 0xec, 0x04, 0xc0]; // group 0x11ec, 1216 bytes
        assert!(stream.windows(4).any(|w| w == share_header));
        let hello = parse(&stream);
        assert_eq!((hello.sni, hello.alpn.len(), hello.ech), (None, 0, false));
    }

    #[test]
    fn padding_reaches_the_requested_length() {
        let natural = build_client_hello(Some("a.example"), &["h2"], false, 0).len() - 5;
        for pad_to in [natural + 4, natural + 100, 4000] {
            let stream = build_client_hello(Some("a.example"), &["h2"], false, pad_to);
            assert_eq!(stream.len() - 5, pad_to);
            assert_eq!(parse(&stream).sni.as_deref(), Some("a.example"));
        }
        // A shortfall under 4 bytes overshoots by what an empty padding extension costs.
        let near = build_client_hello(Some("a.example"), &["h2"], false, natural + 1);
        assert_eq!(near.len() - 5, natural + 4);
        assert_eq!(
            build_client_hello(Some("a.example"), &["h2"], false, 100).len() - 5,
            natural
        );
    }

    #[test]
    fn large_hellos_are_split_over_records() {
        let stream = build_client_hello(Some("big.example"), &["h2"], true, 40_000);
        assert_eq!(stream.len(), 40_000 + 3 * 5);
        let hello = parse(&stream);
        assert_eq!(hello.sni.as_deref(), Some("big.example"));
        assert!(hello.ech);
        let capped = build_client_hello(Some("max.example"), &[], false, usize::MAX);
        assert_eq!(parse(&capped).sni.as_deref(), Some("max.example"));
    }

    #[test]
    fn output_is_deterministic_and_input_dependent() {
        let a = build_client_hello(Some("a.example"), &["h2"], true, 0);
        assert_eq!(a, build_client_hello(Some("a.example"), &["h2"], true, 0));
        assert_ne!(
            a[11..43],
            build_client_hello(Some("b.example"), &["h2"], true, 0)[11..43]
        );
    }

    #[test]
    fn oversize_inputs_are_cut_not_broken() {
        let long_name = "a".repeat(10_000);
        let long_alpn = "p".repeat(300);
        let many: Vec<&str> = std::iter::repeat_n(long_alpn.as_str(), 40).collect();
        let hello = parse(&build_client_hello(Some(&long_name), &many, true, 0));
        assert_eq!(hello.sni.map(|name| name.len()), Some(MAX_BUILD_SNI_LEN));
        assert!(hello.alpn.iter().all(|name| name.len() == 255));
        assert_eq!(hello.alpn.len(), MAX_BUILD_ALPN_LIST_LEN / 256);
    }
}
