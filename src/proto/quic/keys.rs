//! Initial packet protection keys (RFC 9001 §5.2, RFC 9369 §3.3): for each version the salt
//! and the HKDF labels, the key derivation from the client's Destination Connection ID, and
//! the two ciphers built from it: AES-128-ECB for the header protection mask, AES-128-GCM for
//! the payload.
//!
//! Which salt goes with which version follows Wireshark's `packet-quic.c`
//! (`quic_derive_initial_secrets`, `quic_draft_version`), the oracle of the project's corpus:
//! drafts 22 and mvfst 0xfaceb001 share draft-22's salt, drafts 23-28 and mvfst
//! 0xfaceb002/0xfaceb00e draft-23's, drafts 29-32 draft-29's, drafts 33-34 v1's, and Google's
//! Q050, T050 and T051 each have their own. Every other version has no known Initial keys
//! (`None`), and nothing is derived for it, except the versions reserved to force version
//! negotiation (`is_reserved`).
//!
//! A reserved version (0x?a?a?a?a, RFC 9000 §15) has no keys of its own: a client that sends
//! an Initial of one to make the server answer with Version Negotiation still protects it with
//! the keys of a version it speaks. Wireshark assumes draft 29's; the clients in nDPI's and
//! the QUIC interop runner's captures use draft 29's or v1's. Both are tried, in that order
//! (`keys_tried`): a wrong key never passes the AEAD tag, so the one that opens the packet is
//! the client's.

use aes::cipher::{BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use aes_gcm::aead::AeadInOut;
use aes_gcm::Aes128Gcm;
use hkdf::Hkdf;
use sha2::Sha256;

use super::Version;

const SALT_DRAFT_22: [u8; 20] = [
    0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a, 0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd,
    0x7a, 0x02, 0x64, 0x4a,
];
const SALT_DRAFT_23: [u8; 20] = [
    0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7, 0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65,
    0xbe, 0xf9, 0xf5, 0x02,
];
const SALT_DRAFT_29: [u8; 20] = [
    0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97, 0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0,
    0x43, 0x90, 0xa8, 0x99,
];
/// RFC 9001 §5.2 (also drafts 33 and 34).
const SALT_V1: [u8; 20] = [
    0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17, 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad,
    0xcc, 0xbb, 0x7f, 0x0a,
];
/// RFC 9369 §3.3.1.
const SALT_V2: [u8; 20] = [
    0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93, 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb,
    0xf9, 0xbd, 0x2e, 0xd9,
];
const SALT_Q050: [u8; 20] = [
    0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94, 0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0,
    0xd3, 0xb5, 0x6b, 0x45,
];
const SALT_T050: [u8; 20] = [
    0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80, 0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c,
    0x60, 0x48, 0x83, 0x10,
];
const SALT_T051: [u8; 20] = [
    0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50, 0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc,
    0xda, 0x6e, 0x03, 0x3d,
];

/// Wire values of the Google versions with Initial keys.
pub(crate) const GOOGLE_Q050: u32 = u32::from_be_bytes(*b"Q050");
pub(crate) const GOOGLE_T050: u32 = u32::from_be_bytes(*b"T050");
pub(crate) const GOOGLE_T051: u32 = u32::from_be_bytes(*b"T051");

/// AEAD tag length of AES-128-GCM, at the end of every protected payload.
pub const TAG_LEN: usize = 16;
/// Header protection samples 16 bytes starting 4 bytes after the packet number offset.
pub const SAMPLE_LEN: usize = 16;

/// Labels of one version's key derivation.
#[derive(Debug, Clone, Copy)]
struct Labels {
    key: &'static [u8],
    iv: &'static [u8],
    hp: &'static [u8],
}

const LABELS_V1: Labels = Labels {
    key: b"quic key",
    iv: b"quic iv",
    hp: b"quic hp",
};
const LABELS_V2: Labels = Labels {
    key: b"quicv2 key",
    iv: b"quicv2 iv",
    hp: b"quicv2 hp",
};

/// Salt and labels of `version`, or `None` when its Initial keys are unknown.
fn version_secrets(version: Version) -> Option<(&'static [u8; 20], Labels)> {
    let salt = match version {
        Version::V1 => &SALT_V1,
        Version::V2 => return Some((&SALT_V2, LABELS_V2)),
        Version::Draft(22) | Version::Mvfst(0xface_b001) => &SALT_DRAFT_22,
        Version::Draft(23..=28) | Version::Mvfst(0xface_b002 | 0xface_b00e) => &SALT_DRAFT_23,
        Version::Draft(29..=32) => &SALT_DRAFT_29,
        Version::Draft(33 | 34) => &SALT_V1,
        Version::Google(GOOGLE_Q050) => &SALT_Q050,
        Version::Google(GOOGLE_T050) => &SALT_T050,
        Version::Google(GOOGLE_T051) => &SALT_T051,
        _ => return None,
    };
    Some((salt, LABELS_V1))
}

/// Whether `value` is a version reserved to force version negotiation: 0x?a?a?a?a (RFC 9000
/// §15).
pub(crate) fn is_reserved(value: u32) -> bool {
    value & 0x0f0f_0f0f == 0x0a0a_0a0a
}

/// The versions whose Initial keys may protect an Initial of `version`, in the order to try
/// them: the version itself when its keys are known; draft 29's, then v1's, for a reserved
/// version; none for any other.
pub(crate) fn keys_tried(version: Version) -> [Option<Version>; 2] {
    match version {
        _ if version.is_reserved() => [Some(Version::Draft(29)), Some(Version::V1)],
        _ if version_secrets(version).is_some() => [Some(version), None],
        _ => [None, None],
    }
}

/// Whether [`InitialKeys::derive`] may open an Initial of `version`.
pub(crate) fn has_initial_keys(version: Version) -> bool {
    keys_tried(version)[0].is_some()
}

/// Which endpoint's Initial secret: the client's ("client in") or the server's ("server in").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Server,
}

/// One endpoint's Initial keys for one connection, ready to use: derive once per flow (from
/// the Destination Connection ID of the client's first Initial) and reuse for every packet.
#[derive(Clone)]
pub struct InitialKeys {
    /// The version of the packets these keys open.
    version: Version,
    /// The version whose salt and labels made them: `version` itself, or for a reserved
    /// version the one tried (`keys_tried`).
    keys_of: Version,
    aead: Aes128Gcm,
    iv: [u8; 12],
    hp: Aes128,
}

impl std::fmt::Debug for InitialKeys {
    // Key material stays out of debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InitialKeys")
            .field("version", &self.version)
            .field("keys_of", &self.keys_of)
            .finish_non_exhaustive()
    }
}

/// Raw key material, for tests against the RFC vectors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyMaterial {
    pub(crate) secret: [u8; 32],
    pub(crate) key: [u8; 16],
    pub(crate) iv: [u8; 12],
    pub(crate) hp: [u8; 16],
}

impl InitialKeys {
    /// The Initial keys of `side` for a connection whose client chose `dcid` as Destination
    /// Connection ID (any length: the RFC asks for at least 8 bytes, Wireshark and real
    /// servers take shorter). `None` for a version without known Initial keys; for a reserved
    /// version, the first keys tried (draft 29's, as Wireshark assumes).
    pub fn derive(version: Version, dcid: &[u8], side: Side) -> Option<Self> {
        let [first, _] = keys_tried(version);
        Self::derive_as(version, first?, dcid, side)
    }

    /// The keys of `keys_of` for packets of `version` (one of `keys_tried(version)`; any
    /// version with known keys is accepted).
    pub fn derive_as(version: Version, keys_of: Version, dcid: &[u8], side: Side) -> Option<Self> {
        let material = key_material(keys_of, dcid, side)?;
        Some(InitialKeys {
            version,
            keys_of,
            aead: Aes128Gcm::new(&material.key.into()),
            iv: material.iv,
            hp: Aes128::new(&material.hp.into()),
        })
    }

    /// The version of the packets these keys open.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The version whose salt and labels made these keys (`version()` but for a reserved
    /// version).
    pub fn keys_of(&self) -> Version {
        self.keys_of
    }

    /// The 5-byte header protection mask for a 16-byte `sample` (RFC 9001 §5.4.3).
    pub(crate) fn header_mask(&self, sample: &[u8; SAMPLE_LEN]) -> [u8; 5] {
        let mut block = (*sample).into();
        self.hp.encrypt_block(&mut block);
        let mut mask = [0u8; 5];
        mask.copy_from_slice(block.get(..5).unwrap_or(&[0; 5]));
        mask
    }

    /// Decrypts `payload` (ciphertext followed by the 16-byte tag) in place; on success the
    /// plaintext is `payload[..payload.len() - TAG_LEN]`. `false` when the tag does not match
    /// (wrong keys, a server packet, damage) or the payload is shorter than a tag.
    pub(crate) fn open(&self, packet_number: u64, header: &[u8], payload: &mut [u8]) -> bool {
        let Some(text_len) = payload.len().checked_sub(TAG_LEN) else {
            return false;
        };
        let (text, tag) = payload.split_at_mut(text_len);
        let tag: &[u8; TAG_LEN] = match (&*tag).try_into() {
            Ok(tag) => tag,
            Err(_) => return false,
        };
        let nonce = self.nonce(packet_number);
        self.aead
            .decrypt_inout_detached(&nonce.into(), header, text.into(), &(*tag).into())
            .is_ok()
    }

    /// Encrypts `text` in place and returns the tag to append (the fixture writer's half).
    pub(crate) fn seal(&self, packet_number: u64, header: &[u8], text: &mut [u8]) -> [u8; TAG_LEN] {
        let nonce = self.nonce(packet_number);
        match self
            .aead
            .encrypt_inout_detached(&nonce.into(), header, text.into())
        {
            Ok(tag) => tag.into(),
            // Only for plaintexts beyond 2^36 bytes; a datagram never is.
            Err(_) => [0; TAG_LEN],
        }
    }

    /// The per-packet nonce: the IV with the packet number XORed into its low bytes.
    fn nonce(&self, packet_number: u64) -> [u8; 12] {
        let mut nonce = self.iv;
        for (byte, pn) in nonce.iter_mut().skip(4).zip(packet_number.to_be_bytes()) {
            *byte ^= pn;
        }
        nonce
    }
}

/// Initial secret and the key, IV and header protection key drawn from it.
pub(crate) fn key_material(version: Version, dcid: &[u8], side: Side) -> Option<KeyMaterial> {
    let (salt, labels) = version_secrets(version)?;
    let initial = Hkdf::<Sha256>::new(Some(salt), dcid);
    let side_label: &[u8] = match side {
        Side::Client => b"client in",
        Side::Server => b"server in",
    };
    let mut secret = [0u8; 32];
    expand_label(&initial, side_label, &mut secret)?;
    let side_secret = Hkdf::<Sha256>::from_prk(&secret).ok()?;
    let mut material = KeyMaterial {
        secret,
        key: [0; 16],
        iv: [0; 12],
        hp: [0; 16],
    };
    expand_label(&side_secret, labels.key, &mut material.key)?;
    expand_label(&side_secret, labels.iv, &mut material.iv)?;
    expand_label(&side_secret, labels.hp, &mut material.hp)?;
    Some(material)
}

/// HKDF-Expand-Label of TLS 1.3 (RFC 8446 §7.1) with an empty context, as QUIC uses it.
fn expand_label(prk: &Hkdf<Sha256>, label: &[u8], out: &mut [u8]) -> Option<()> {
    const PREFIX: &[u8] = b"tls13 ";
    // u16 length, u8 label length, "tls13 " + label, u8 context length (0). The longest label
    // here is 10 bytes, so 3 + 6 + 10 + 1 fits easily.
    let mut info = [0u8; 32];
    let out_len = u16::try_from(out.len()).ok()?;
    let label_len = u8::try_from(PREFIX.len() + label.len()).ok()?;
    let total = 4 + usize::from(label_len);
    let info = info.get_mut(..total)?;
    info.get_mut(..2)?.copy_from_slice(&out_len.to_be_bytes());
    *info.get_mut(2)? = label_len;
    info.get_mut(3..3 + PREFIX.len())?.copy_from_slice(PREFIX);
    info.get_mut(3 + PREFIX.len()..total - 1)?
        .copy_from_slice(label);
    prk.expand(info, out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::quic::wire::hex;

    const RFC_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

    fn material(version: Version, side: Side) -> KeyMaterial {
        key_material(version, &RFC_DCID, side).unwrap()
    }

    #[test]
    fn rfc9001_a1_keys() {
        let client = material(Version::V1, Side::Client);
        assert_eq!(
            client.secret.to_vec(),
            hex("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea")
        );
        assert_eq!(client.key.to_vec(), hex("1f369613dd76d5467730efcbe3b1a22d"));
        assert_eq!(client.iv.to_vec(), hex("fa044b2f42a3fd3b46fb255c"));
        assert_eq!(client.hp.to_vec(), hex("9f50449e04a0e810283a1e9933adedd2"));
        let server = material(Version::V1, Side::Server);
        assert_eq!(
            server.secret.to_vec(),
            hex("3c199828fd139efd216c155ad844cc81fb82fa8d7446fa7d78be803acdda951b")
        );
        assert_eq!(server.key.to_vec(), hex("cf3a5331653c364c88f0f379b6067e37"));
        assert_eq!(server.iv.to_vec(), hex("0ac1493ca1905853b0bba03e"));
        assert_eq!(server.hp.to_vec(), hex("c206b8d9b9f0f37644430b490eeaa314"));
    }

    #[test]
    fn rfc9001_a2_header_protection_mask() {
        let keys = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Client).unwrap();
        let sample: [u8; 16] = hex("d1b1c98dd7689fb8ec11d242b123dc9b").try_into().unwrap();
        assert_eq!(keys.header_mask(&sample).to_vec(), hex("437b9aec36"));
        let server = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Server).unwrap();
        let sample: [u8; 16] = hex("2cd0991cd25b0aac406a5816b6394100").try_into().unwrap();
        assert_eq!(server.header_mask(&sample).to_vec(), hex("2ec0d8356a"));
    }

    #[test]
    fn rfc9369_a1_keys() {
        let client = material(Version::V2, Side::Client);
        assert_eq!(
            client.secret.to_vec(),
            hex("14ec9d6eb9fd7af83bf5a668bc17a7e283766aade7ecd0891f70f9ff7f4bf47b")
        );
        assert_eq!(client.key.to_vec(), hex("8b1a0bc121284290a29e0971b5cd045d"));
        assert_eq!(client.iv.to_vec(), hex("91f73e2351d8fa91660e909f"));
        assert_eq!(client.hp.to_vec(), hex("45b95e15235d6f45a6b19cbcb0294ba9"));
        let server = material(Version::V2, Side::Server);
        assert_eq!(
            server.secret.to_vec(),
            hex("0263db1782731bf4588e7e4d93b7463907cb8cd8200b5da55a8bd488eafc37c1")
        );
        assert_eq!(server.key.to_vec(), hex("82db637861d55e1d011f19ea71d5d2a7"));
        assert_eq!(server.iv.to_vec(), hex("dd13c276499c0249d3310652"));
        assert_eq!(server.hp.to_vec(), hex("edf6d05c83121201b436e16877593c3a"));
    }

    #[test]
    fn salts_follow_wireshark_per_version() {
        let secret = |version| material(version, Side::Client).secret;
        // Same salt, same secret; a different salt, a different one.
        assert_eq!(
            secret(Version::Draft(22)),
            secret(Version::Mvfst(0xface_b001))
        );
        assert_eq!(secret(Version::Draft(23)), secret(Version::Draft(28)));
        assert_eq!(
            secret(Version::Draft(27)),
            secret(Version::Mvfst(0xface_b002))
        );
        assert_eq!(
            secret(Version::Draft(27)),
            secret(Version::Mvfst(0xface_b00e))
        );
        assert_eq!(secret(Version::Draft(29)), secret(Version::Draft(32)));
        assert_eq!(secret(Version::Draft(33)), secret(Version::V1));
        assert_eq!(secret(Version::Draft(34)), secret(Version::V1));
        let distinct = [
            secret(Version::Draft(22)),
            secret(Version::Draft(23)),
            secret(Version::Draft(29)),
            secret(Version::V1),
            secret(Version::V2),
            secret(Version::Google(GOOGLE_Q050)),
            secret(Version::Google(GOOGLE_T050)),
            secret(Version::Google(GOOGLE_T051)),
        ];
        for (i, a) in distinct.iter().enumerate() {
            for b in distinct.iter().skip(i + 1) {
                assert_ne!(a, b);
            }
        }
        for version in [
            Version::Draft(21),
            Version::Draft(35),
            Version::Mvfst(0xface_b003),
            Version::Google(u32::from_be_bytes(*b"Q046")),
            Version::Unknown(0x1a2a_3a4b),
            Version::Unknown(0x0a0a_0a1b),
        ] {
            assert!(InitialKeys::derive(version, &RFC_DCID, Side::Client).is_none());
        }
    }

    #[test]
    fn reserved_versions_try_draft_29_then_v1_keys() {
        for value in [0x0a0a_0a0a, 0x1a2a_3a4a, 0xbaba_baba, 0xfafa_fafa] {
            let version = Version::Unknown(value);
            assert!(is_reserved(value) && has_initial_keys(version));
            assert_eq!(
                keys_tried(version),
                [Some(Version::Draft(29)), Some(Version::V1)]
            );
            let keys = InitialKeys::derive(version, &RFC_DCID, Side::Client).unwrap();
            assert_eq!(
                (keys.version(), keys.keys_of()),
                (version, Version::Draft(29))
            );
            let draft = key_material(Version::Draft(29), &RFC_DCID, Side::Client).unwrap();
            assert_eq!(key_material(version, &RFC_DCID, Side::Client), None);
            assert_eq!(keys.iv, draft.iv);
        }
        for value in [0x0a0a_0a0b, 0x0000_0000, 0xa0a0_a0a0] {
            assert!(!is_reserved(value));
            assert_eq!(keys_tried(Version::Unknown(value)), [None, None]);
        }
        assert_eq!(keys_tried(Version::V2), [Some(Version::V2), None]);
    }

    #[test]
    fn open_refuses_short_or_forged_payloads() {
        let keys = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Client).unwrap();
        assert!(!keys.open(0, b"", &mut [0u8; 15]));
        let mut text = *b"hello";
        let tag = keys.seal(7, b"hdr", &mut text);
        let mut payload = [text.as_slice(), tag.as_slice()].concat();
        assert!(keys.open(7, b"hdr", &mut payload.clone()));
        assert!(!keys.open(8, b"hdr", &mut payload.clone()));
        assert!(!keys.open(7, b"hdx", &mut payload.clone()));
        payload[0] ^= 1;
        assert!(!keys.open(7, b"hdr", &mut payload));
    }
}
