//! End-to-end tests of the QUIC module: the RFC 9001 and RFC 9369 sample packets, the fixture
//! writer read back by the decryptor in every version and shape, and hostile inputs.

use super::*;
use crate::proto::quic::build::build_client_initials;
use crate::proto::quic::wire::hex;
use crate::proto::tls::build::build_client_hello;

/// RFC 9001 Appendix A.2, the protected client Initial (1200 bytes).
pub(crate) const RFC9001_CLIENT_INITIAL: &str = "\
c000000001088394c8f03e5157080000449e7b9aec34d1b1c98dd7689fb8ec11\
d242b123dc9bd8bab936b47d92ec356c0bab7df5976d27cd449f63300099f399\
1c260ec4c60d17b31f8429157bb35a1282a643a8d2262cad67500cadb8e7378c\
8eb7539ec4d4905fed1bee1fc8aafba17c750e2c7ace01e6005f80fcb7df6212\
30c83711b39343fa028cea7f7fb5ff89eac2308249a02252155e2347b63d58c5\
457afd84d05dfffdb20392844ae812154682e9cf012f9021a6f0be17ddd0c208\
4dce25ff9b06cde535d0f920a2db1bf362c23e596d11a4f5a6cf3948838a3aec\
4e15daf8500a6ef69ec4e3feb6b1d98e610ac8b7ec3faf6ad760b7bad1db4ba3\
485e8a94dc250ae3fdb41ed15fb6a8e5eba0fc3dd60bc8e30c5c4287e53805db\
059ae0648db2f64264ed5e39be2e20d82df566da8dd5998ccabdae053060ae6c\
7b4378e846d29f37ed7b4ea9ec5d82e7961b7f25a9323851f681d582363aa5f8\
9937f5a67258bf63ad6f1a0b1d96dbd4faddfcefc5266ba6611722395c906556\
be52afe3f565636ad1b17d508b73d8743eeb524be22b3dcbc2c7468d54119c74\
68449a13d8e3b95811a198f3491de3e7fe942b330407abf82a4ed7c1b311663a\
c69890f4157015853d91e923037c227a33cdd5ec281ca3f79c44546b9d90ca00\
f064c99e3dd97911d39fe9c5d0b23a229a234cb36186c4819e8b9c5927726632\
291d6a418211cc2962e20fe47feb3edf330f2c603a9d48c0fcb5699dbfe58964\
25c5bac4aee82e57a85aaf4e2513e4f05796b07ba2ee47d80506f8d2c25e50fd\
14de71e6c418559302f939b0e1abd576f279c4b2e0feb85c1f28ff18f58891ff\
ef132eef2fa09346aee33c28eb130ff28f5b766953334113211996d20011a198\
e3fc433f9f2541010ae17c1bf202580f6047472fb36857fe843b19f5984009dd\
c324044e847a4f4a0ab34f719595de37252d6235365e9b84392b061085349d73\
203a4a13e96f5432ec0fd4a1ee65accdd5e3904df54c1da510b0ff20dcc0c77f\
cb2c0e0eb605cb0504db87632cf3d8b4dae6e705769d1de354270123cb11450e\
fc60ac47683d7b8d0f811365565fd98c4c8eb936bcab8d069fc33bd801b03ade\
a2e1fbc5aa463d08ca19896d2bf59a071b851e6c239052172f296bfb5e724047\
90a2181014f3b94a4e97d117b438130368cc39dbb2d198065ae3986547926cd2\
162f40a29f0c3c8745c0f50fba3852e566d44575c29d39a03f0cda721984b6f4\
40591f355e12d439ff150aab7613499dbd49adabc8676eef023b15b65bfc5ca0\
6948109f23f350db82123535eb8a7433bdabcb909271a6ecbcb58b936a88cd4e\
8f2e6ff5800175f113253d8fa9ca8885c2f552e657dc603f252e1a8e308f76f0\
be79e2fb8f5d5fbbe2e30ecadd220723c8c0aea8078cdfcb3868263ff8f09400\
54da48781893a7e49ad5aff4af300cd804a6b6279ab3ff3afb64491c85194aab\
760d58a606654f9f4400e8b38591356fbf6425aca26dc85244259ff2b19c41b9\
f96f3ca9ec1dde434da7d2d392b905ddf3d1f9af93d1af5950bd493f5aa731b4\
056df31bd267b6b90a079831aaf579be0a39013137aac6d404f518cfd4684064\
7e78bfe706ca4cf5e9c5453e9f7cfd2b8b4c8d169a44e55c88d4a9a7f9474241\
e221af44860018ab0856972e194cd934";

/// RFC 9001 Appendix A.2, the unprotected CRYPTO frame (before its PADDING).
pub(crate) const RFC9001_CRYPTO_FRAME: &str = "\
060040f1010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868\
04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578\
616d706c652e636f6dff01000100000a00080006001d00170018001000070005\
04616c706e000500050100000000003300260024001d00209370b2c9caa47fba\
baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400\
0d0010000e0403050306030203080408050806002d00020101001c0002400100\
3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000\
75300901100f088394c8f03e51570806048000ffff";

/// RFC 9001 Appendix A.3, the protected server Initial.
pub(crate) const RFC9001_SERVER_INITIAL: &str = "\
cf000000010008f067a5502a4262b5004075c0d95a482cd0991cd25b0aac406a\
5816b6394100f37a1c69797554780bb38cc5a99f5ede4cf73c3ec2493a1839b3\
dbcba3f6ea46c5b7684df3548e7ddeb9c3bf9c73cc3f3bded74b562bfb19fb84\
022f8ef4cdd93795d77d06edbb7aaf2f58891850abbdca3d20398c276456cbc4\
2158407dd074ee";

/// RFC 9369 Appendix A.2, the protected v2 client Initial.
pub(crate) const RFC9369_CLIENT_INITIAL: &str = "\
d76b3343cf088394c8f03e5157080000449ea0c95e82ffe67b6abcdb4298b485\
dd04de806071bf03dceebfa162e75d6c96058bdbfb127cdfcbf903388e99ad04\
9f9a3dd4425ae4d0992cfff18ecf0fdb5a842d09747052f17ac2053d21f57c5d\
250f2c4f0e0202b70785b7946e992e58a59ac52dea6774d4f03b55545243cf1a\
12834e3f249a78d395e0d18f4d766004f1a2674802a747eaa901c3f10cda5500\
cb9122faa9f1df66c392079a1b40f0de1c6054196a11cbea40afb6ef5253cd68\
18f6625efce3b6def6ba7e4b37a40f7732e093daa7d52190935b8da58976ff33\
12ae50b187c1433c0f028edcc4c2838b6a9bfc226ca4b4530e7a4ccee1bfa2a3\
d396ae5a3fb512384b2fdd851f784a65e03f2c4fbe11a53c7777c023462239dd\
6f7521a3f6c7d5dd3ec9b3f233773d4b46d23cc375eb198c63301c21801f6520\
bcfb7966fc49b393f0061d974a2706df8c4a9449f11d7f3d2dcbb90c6b877045\
636e7c0c0fe4eb0f697545460c806910d2c355f1d253bc9d2452aaa549e27a1f\
ac7cf4ed77f322e8fa894b6a83810a34b361901751a6f5eb65a0326e07de7c12\
16ccce2d0193f958bb3850a833f7ae432b65bc5a53975c155aa4bcb4f7b2c4e5\
4df16efaf6ddea94e2c50b4cd1dfe06017e0e9d02900cffe1935e0491d77ffb4\
fdf85290fdd893d577b1131a610ef6a5c32b2ee0293617a37cbb08b847741c3b\
8017c25ca9052ca1079d8b78aebd47876d330a30f6a8c6d61dd1ab5589329de7\
14d19d61370f8149748c72f132f0fc99f34d766c6938597040d8f9e2bb522ff9\
9c63a344d6a2ae8aa8e51b7b90a4a806105fcbca31506c446151adfeceb51b91\
abfe43960977c87471cf9ad4074d30e10d6a7f03c63bd5d4317f68ff325ba3bd\
80bf4dc8b52a0ba031758022eb025cdd770b44d6d6cf0670f4e990b22347a7db\
848265e3e5eb72dfe8299ad7481a408322cac55786e52f633b2fb6b614eaed18\
d703dd84045a274ae8bfa73379661388d6991fe39b0d93debb41700b41f90a15\
c4d526250235ddcd6776fc77bc97e7a417ebcb31600d01e57f32162a8560cacc\
7e27a096d37a1a86952ec71bd89a3e9a30a2a26162984d7740f81193e8238e61\
f6b5b984d4d3dfa033c1bb7e4f0037febf406d91c0dccf32acf423cfa1e70710\
10d3f270121b493ce85054ef58bada42310138fe081adb04e2bd901f2f13458b\
3d6758158197107c14ebb193230cd1157380aa79cae1374a7c1e5bbcb80ee23e\
06ebfde206bfb0fcbc0edc4ebec309661bdd908d532eb0c6adc38b7ca7331dce\
8dfce39ab71e7c32d318d136b6100671a1ae6a6600e3899f31f0eed19e3417d1\
34b90c9058f8632c798d4490da4987307cba922d61c39805d072b589bd52fdf1\
e86215c2d54e6670e07383a27bbffb5addf47d66aa85a0c6f9f32e59d85a44dd\
5d3b22dc2be80919b490437ae4f36a0ae55edf1d0b5cb4e9a3ecabee93dfc6e3\
8d209d0fa6536d27a5d6fbb17641cde27525d61093f1b28072d111b2b4ae5f89\
d5974ee12e5cf7d5da4d6a31123041f33e61407e76cffcdcfd7e19ba58cf4b53\
6f4c4938ae79324dc402894b44faf8afbab35282ab659d13c93f70412e85cb19\
9a37ddec600545473cfb5a05e08d0b209973b2172b4d21fb69745a262ccde96b\
a18b2faa745b6fe189cf772a9f84cbfc";

/// RFC 9369 Appendix A.3, the protected v2 server Initial.
pub(crate) const RFC9369_SERVER_INITIAL: &str = "\
dc6b3343cf0008f067a5502a4262b5004075d92faaf16f05d8a4398c47089698\
baeea26b91eb761d9b89237bbf87263017915358230035f7fd3945d88965cf17\
f9af6e16886c61bfc703106fbaf3cb4cfa52382dd16a393e42757507698075b2\
c984c707f0a0812d8cd5a6881eaf21ceda98f4bd23f6fe1a3e2c43edd9ce7ca8\
4bed8521e2e140";

const RFC_DCID: [u8; 8] = [0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08];

/// Collects the CRYPTO frames of one datagram.
fn crypto_of(datagram: &[u8]) -> (ProtoResult<InitialInfo<'_>>, Vec<(u64, Vec<u8>)>) {
    let mut frames = Vec::new();
    let mut scratch = Vec::new();
    let info = client_initial_crypto(datagram, &mut scratch, |offset, data| {
        frames.push((offset, data.to_vec()))
    });
    (info, frames)
}

/// Feeds datagrams through the whole client-side pipeline and returns the hello.
fn hello_of(datagrams: &[Vec<u8>]) -> ProtoResult<Hello> {
    let mut assembler = CryptoAssembler::new();
    let mut scratch = Vec::new();
    let mut version = None;
    for datagram in datagrams {
        let info = client_initial_crypto(datagram, &mut scratch, |offset, data| {
            assembler.add(offset, data);
        })?;
        version.get_or_insert(info.version);
    }
    parse_crypto_hello(
        version.ok_or(ProtoError::Incomplete)?,
        assembler.contiguous(),
    )
}

/// The handshake message inside a one-record TLS stream from `build_client_hello`.
fn handshake(sni: &str) -> Vec<u8> {
    build_client_hello(Some(sni), &["h3"], true, 0)[5..].to_vec()
}

#[test]
fn rfc9001_client_initial_decrypts_to_its_crypto_frame() {
    let datagram = hex(RFC9001_CLIENT_INITIAL);
    let (info, frames) = crypto_of(&datagram);
    let info = info.unwrap();
    assert_eq!(info.version, Version::V1);
    assert_eq!(info.dcid, RFC_DCID);
    assert_eq!(info.packet_number, 2);
    assert_eq!(
        (info.initials, info.crypto_frames, info.undecryptable),
        (1, 1, 0)
    );
    let frame = hex(RFC9001_CRYPTO_FRAME);
    // 06 00 40f1: CRYPTO at offset 0, 241 bytes.
    assert_eq!(frames, vec![(0, frame[4..].to_vec())]);
    let hello = parse_crypto_hello(info.version, &frames[0].1).unwrap();
    assert_eq!(hello.sni(), Some("example.com"));
    let Hello::Tls(tls) = hello else {
        panic!("TLS expected")
    };
    assert_eq!(tls.alpn, vec!["alpn".to_string()]);
}

#[test]
fn rfc9369_client_initial_decrypts_to_the_same_crypto_frame() {
    let datagram = hex(RFC9369_CLIENT_INITIAL);
    let peeked = peek(&datagram).unwrap();
    assert_eq!(
        (peeked.version, peeked.packet_type),
        (Version::V2, PacketType::Initial)
    );
    assert!(peeked.has_client_hello_candidate());
    let (info, frames) = crypto_of(&datagram);
    assert_eq!(
        info.map(|i| (i.version, i.packet_number)),
        Ok((Version::V2, 2))
    );
    assert_eq!(frames, vec![(0, hex(RFC9001_CRYPTO_FRAME)[4..].to_vec())]);
}

#[test]
fn server_initials_are_not_client_initials() {
    for server in [RFC9001_SERVER_INITIAL, RFC9369_SERVER_INITIAL] {
        let datagram = hex(server);
        assert_eq!(peek(&datagram).unwrap().packet_type, PacketType::Initial);
        let (info, frames) = crypto_of(&datagram);
        assert_eq!(
            info,
            Err(ProtoError::Invalid("Initial packet did not decrypt"))
        );
        assert!(frames.is_empty());
    }
}

#[test]
fn versions_from_the_wire() {
    for (wire, version, text) in [
        (0x0000_0001, Version::V1, "1"),
        (0x6b33_43cf, Version::V2, "2"),
        (0xff00_001d, Version::Draft(29), "draft-29"),
        (0xface_b002, Version::Mvfst(0xface_b002), "mvfst-0xfaceb002"),
        (0x5130_3530, Version::Google(0x5130_3530), "Q050"),
        (0x5430_3531, Version::Google(0x5430_3531), "T051"),
        (0x1a2a_3a4a, Version::Unknown(0x1a2a_3a4a), "0x1a2a3a4a"),
        (0x5130_3a30, Version::Unknown(0x5130_3a30), "0x51303a30"),
    ] {
        assert_eq!(Version::from_wire(wire), version);
        assert_eq!(version.to_wire(), wire);
        assert_eq!(version.to_string(), text);
    }
    assert!(Version::Google(0x5430_3531).crypto_is_tls());
    assert!(!Version::Google(0x5130_3530).crypto_is_tls());
    assert!(Version::Draft(34).has_initial_keys() && !Version::Draft(35).has_initial_keys());
}

#[test]
fn written_initials_read_back_in_every_version() {
    let versions = [
        Version::V1,
        Version::V2,
        Version::Draft(22),
        Version::Draft(23),
        Version::Draft(27),
        Version::Draft(29),
        Version::Draft(32),
        Version::Draft(34),
        Version::Mvfst(0xface_b001),
        Version::Mvfst(0xface_b002),
        Version::Mvfst(0xface_b00e),
        Version::Google(u32::from_be_bytes(*b"T050")),
        Version::Google(u32::from_be_bytes(*b"T051")),
    ];
    let message = handshake("chatgpt.com");
    for version in versions {
        for seed in [None, Some(1), Some(2)] {
            let datagrams =
                build_client_initials(version, &RFC_DCID, b"scid", &message, 1200, seed);
            assert_eq!(datagrams.len(), 2, "{version} {seed:?}");
            assert!(datagrams.iter().all(|d| d.len() == 1200));
            let peeked = peek(&datagrams[0]).unwrap();
            assert_eq!(
                (peeked.version, peeked.dcid, peeked.scid),
                (version, &RFC_DCID[..], &b"scid"[..])
            );
            let hello = hello_of(&datagrams).unwrap();
            assert_eq!(hello.sni(), Some("chatgpt.com"), "{version} {seed:?}");
        }
    }
}

#[test]
fn q050_initials_carry_a_chlo() {
    let mut message = b"CHLO".to_vec();
    message.extend([1, 0, 0, 0]);
    message.extend(b"SNI\0");
    message.extend(11u32.to_le_bytes());
    message.extend(b"example.org");
    let q050 = Version::Google(u32::from_be_bytes(*b"Q050"));
    let datagrams = build_client_initials(q050, &RFC_DCID, b"", &message, 1350, Some(9));
    let hello = hello_of(&datagrams).unwrap();
    assert_eq!(
        hello,
        Hello::Google(Chlo {
            version: q050,
            sni: Some("example.org".into()),
            uaid: None
        })
    );
}

#[test]
fn a_hello_over_many_small_datagrams_in_any_order() {
    let message = handshake("a-rather-long-name.api.example.com");
    for seed in 0..20u64 {
        let mut datagrams =
            build_client_initials(Version::V1, &RFC_DCID, b"", &message, 300, Some(seed));
        assert!(datagrams.len() >= 7);
        // Reverse or rotate the datagrams too: the network reorders as well.
        if seed % 2 == 0 {
            datagrams.reverse();
        } else {
            let by = seed as usize % datagrams.len();
            datagrams.rotate_left(by);
        }
        let hello = hello_of(&datagrams).unwrap();
        assert_eq!(
            hello.sni(),
            Some("a-rather-long-name.api.example.com"),
            "seed {seed}"
        );
    }
    // One datagram short: incomplete, never wrong.
    let datagrams = build_client_initials(Version::V1, &RFC_DCID, b"", &message, 300, Some(3));
    for missing in 0..datagrams.len() {
        let mut some = datagrams.clone();
        some.remove(missing);
        if let Ok(hello) = hello_of(&some) {
            panic!("complete without datagram {missing}: {hello:?}");
        }
    }
}

#[test]
fn coalesced_initials_with_handshake_and_padding() {
    let message = handshake("coalesced.example");
    let parts = build_client_initials(Version::V1, &RFC_DCID, b"", &message, 1000, Some(5));
    assert!(parts.len() >= 2);
    let mut datagram = parts[0].clone();
    // A Handshake packet (type 2) whose contents stay opaque.
    datagram.extend(hex("e0 00000001 08 0102030405060708 00 14"));
    datagram.extend([0x5a; 20]);
    for part in &parts[1..] {
        datagram.extend(part);
    }
    datagram.extend([0u8; 37]);
    let (info, frames) = crypto_of(&datagram);
    let info = info.unwrap();
    assert_eq!(
        (info.initials, info.skipped, info.undecryptable),
        (parts.len(), 1, 0)
    );
    let mut assembler = CryptoAssembler::new();
    for (offset, data) in &frames {
        assembler.add(*offset, data);
    }
    let hello = parse_crypto_hello(Version::V1, assembler.contiguous()).unwrap();
    assert_eq!(hello.sni(), Some("coalesced.example"));
}

/// Captured on the sender with UDP segmentation offload, a batch of datagrams is one: here
/// Initials, each padded with zeros after its packet to the batch's segment size (as Firefox
/// pads), the hello split between them.
#[test]
fn datagrams_sent_as_one_batch_are_read_one_after_the_other() {
    let message = handshake("batched.example");
    let parts = build_client_initials(Version::V1, &RFC_DCID, b"", &message, 700, Some(9));
    assert!(parts.len() >= 2);
    let segment = parts.iter().map(Vec::len).max().unwrap() + 200;
    let mut batch = Vec::new();
    for part in &parts {
        batch.extend(part);
        batch.resize(batch.len() + segment - part.len(), 0);
    }
    let (info, frames) = crypto_of(&batch);
    assert_eq!(info.unwrap().initials, parts.len());
    let mut assembler = CryptoAssembler::new();
    for (offset, data) in &frames {
        assembler.add(*offset, data);
    }
    let hello = parse_crypto_hello(Version::V1, assembler.contiguous()).unwrap();
    assert_eq!(hello.sni(), Some("batched.example"));
    // One datagram with only zeros after its packet reads as before.
    let mut one = parts[0].clone();
    one.resize(segment, 0);
    assert_eq!(crypto_of(&one).0.unwrap().initials, 1);
    // Another connection's Initial (another DCID) after the padding is not taken.
    let other = build_client_initials(Version::V1, &[7; 8], b"", &message, 700, Some(9));
    let mut mixed = parts[0].clone();
    mixed.resize(segment, 0);
    mixed.extend(&other[1]);
    assert_eq!(crypto_of(&mixed).0.unwrap().initials, 1);
    // A DCID shorter than a client's first may not be searched for.
    let short = build_client_initials(Version::V1, &[7; 4], b"", &message, 700, Some(9));
    let mut batch = short[0].clone();
    batch.resize(segment, 0);
    batch.extend(&short[1]);
    assert_eq!(crypto_of(&batch).0.unwrap().initials, 1);
}

#[test]
fn a_datagram_buys_at_most_four_decryptions() {
    let message = handshake("many.example");
    let parts = build_client_initials(Version::V1, &RFC_DCID, b"", &message, 200, None);
    assert!(parts.len() >= 6);
    let datagram: Vec<u8> = parts[..6].concat();
    let (info, frames) = crypto_of(&datagram);
    let info = info.unwrap();
    assert_eq!((info.initials, info.undecryptable), (4, 2));
    assert_eq!(frames.len(), 4);
}

#[test]
fn peek_reads_headers_cut_by_the_snap_length() {
    let datagram = hex(RFC9001_CLIENT_INITIAL);
    let peeked = peek(&datagram[..64]).unwrap();
    assert_eq!((peeked.version, peeked.dcid), (Version::V1, &RFC_DCID[..]));
    assert!(peeked.has_client_hello_candidate());
    assert_eq!(crypto_of(&datagram[..64]).0, Err(ProtoError::Incomplete));
    assert_eq!(peek(&datagram[..13]), None);
}

#[test]
fn later_initials_keyed_by_the_first_dcid() {
    // After the server's Initial, the client's Initials carry the server's connection ID
    // but stay protected with the keys of its first DCID.
    let keys = InitialKeys::derive(Version::V1, &RFC_DCID, Side::Client).unwrap();
    let mut frames = vec![0x06, 0x00, 0x03, 0xaa, 0xbb, 0xcc];
    frames.resize(1100, 0);
    let datagram = build::seal_initial(&keys, b"server-cid", b"", 2, 7, &frames);
    let (info, _) = crypto_of(&datagram);
    assert_eq!(
        info,
        Err(ProtoError::Invalid("Initial packet did not decrypt"))
    );
    let mut scratch = Vec::new();
    let mut seen = Vec::new();
    let info = client_initial_crypto_with_keys(&datagram, &keys, &mut scratch, |o, d| {
        seen.push((o, d.to_vec()))
    })
    .unwrap();
    assert_eq!((info.dcid, info.packet_number), (&b"server-cid"[..], 7));
    assert_eq!(seen, vec![(0, vec![0xaa, 0xbb, 0xcc])]);
    // Keys of another version do not apply.
    let v2 = InitialKeys::derive(Version::V2, &RFC_DCID, Side::Client).unwrap();
    let result = client_initial_crypto_with_keys(&datagram, &v2, &mut scratch, |_, _| {});
    assert!(result.is_err());
}

#[test]
fn reserved_version_initials_open_with_the_keys_their_client_used() {
    // A client forcing version negotiation sends a reserved version (0x?a?a?a?a) but protects
    // the Initial with the keys of a version it speaks: draft 29's or v1's are found by their
    // tag; v2's (another layout of the type bits and other labels) are not tried.
    let hello = handshake("chat.reserved.test");
    let mut frames = vec![0x06, 0x00];
    crate::proto::quic::wire::put_varint(&mut frames, hello.len() as u64);
    frames.extend_from_slice(&hello);
    frames.resize(frames.len().max(1150), 0);
    for value in [0x0a0a_0a0a, 0xbaba_baba] {
        let version = Version::Unknown(value);
        for keys_of in [Version::Draft(29), Version::V1] {
            let keys = InitialKeys::derive_as(version, keys_of, &RFC_DCID, Side::Client).unwrap();
            let datagram = build::seal_initial(&keys, &RFC_DCID, b"", 2, 0, &frames);
            let peeked = peek(&datagram).unwrap();
            assert_eq!(peeked.packet_type, PacketType::Initial);
            assert!(peeked.has_client_hello_candidate());
            let (info, crypto) = crypto_of(&datagram);
            let info = info.unwrap();
            assert_eq!((info.version, info.keys_of), (version, keys_of));
            assert_eq!(crypto, vec![(0, hello.clone())]);
            let hello_back = hello_of(std::slice::from_ref(&datagram)).unwrap();
            assert_eq!(hello_back.sni(), Some("chat.reserved.test"));
            // A later Initial keyed by the first DCID opens with the same keys.
            let later = build::seal_initial(&keys, b"server-cid", b"", 2, 1, &frames);
            let mut scratch = Vec::new();
            let again = client_initial_crypto_with_keys(&later, &keys, &mut scratch, |_, _| {});
            assert_eq!(again.map(|info| info.keys_of), Ok(keys_of));
        }
        let v2 = InitialKeys::derive_as(version, Version::V2, &RFC_DCID, Side::Client).unwrap();
        let datagram = build::seal_initial(&v2, &RFC_DCID, b"", 2, 0, &frames);
        assert_eq!(
            crypto_of(&datagram).0,
            Err(ProtoError::Invalid("Initial packet did not decrypt"))
        );
    }
    // A version that is not reserved and has no keys is not even tried.
    let keys = InitialKeys::derive_as(
        Version::Unknown(0x0a0a_0a0b),
        Version::V1,
        &RFC_DCID,
        Side::Client,
    )
    .unwrap();
    let datagram = build::seal_initial(&keys, &RFC_DCID, b"", 2, 0, &frames);
    assert!(!peek(&datagram).unwrap().has_client_hello_candidate());
    assert_eq!(
        crypto_of(&datagram).0,
        Err(ProtoError::Invalid(
            "no Initial packet of a version with known keys"
        ))
    );
}

#[test]
fn peek_tells_what_it_can_without_crypto() {
    assert_eq!(peek(&[]), None);
    assert_eq!(peek(&[0x40; 1200]), None); // short header
    assert_eq!(peek(&[0x00; 1200]), None);
    // Version Negotiation from a server.
    let vn = hex("80 00000000 04 01020304 04 05060708 00000001 6b3343cf");
    let peeked = peek(&vn).unwrap();
    assert_eq!(
        (peeked.version, peeked.packet_type),
        (Version::Unknown(0), PacketType::VersionNegotiation)
    );
    assert!(!peeked.has_client_hello_candidate());
    // A version neither known nor reserved: invariants only.
    let unknown = hex("c0 1a2a3a4b 04 01020304 00 00 41 00");
    let peeked = peek(&unknown).unwrap();
    assert_eq!(peeked.packet_type, PacketType::Other);
    assert!(!peeked.has_client_hello_candidate());
    assert_eq!(
        crypto_of(&unknown).0,
        Err(ProtoError::Invalid(
            "no Initial packet of a version with known keys"
        ))
    );
    // A reserved version that forces negotiation: laid out as RFC 9000's Initial, a candidate
    // (`reserved_version_initials_open_with_the_keys_their_client_used`); one with connection
    // IDs over 20 bytes is invariants only, as RFC 8999 allows.
    let grease = hex("c0 1a2a3a4a 04 01020304 00 00 41 00");
    let peeked = peek(&grease).unwrap();
    assert_eq!(peeked.packet_type, PacketType::Initial);
    assert!(peeked.has_client_hello_candidate());
    let mut long_cid = hex("c0 1a2a3a4a 15");
    long_cid.extend([0u8; 21]);
    long_cid.extend([0, 0, 0]);
    assert_eq!(peek(&long_cid).unwrap().packet_type, PacketType::Other);
    // Retry: the SCID is the DCID of the client's next Initials.
    let retry =
        hex("f0 00000001 00 08 f067a5502a4262b5 746f6b656e 04a265ba2eff4d829058fb3f0f2496ba");
    let peeked = peek(&retry).unwrap();
    assert_eq!(
        (peeked.packet_type, peeked.scid),
        (PacketType::Retry, &hex("f067a5502a4262b5")[..])
    );
    // An Initial of a draft without known keys is still an Initial, just not a candidate.
    let draft21 = hex("c0 ff000015 00 00 00 01 00");
    assert!(!peek(&draft21).unwrap().has_client_hello_candidate());
}

#[test]
fn hostile_datagrams_never_panic() {
    let message = handshake("fuzz.example");
    let mut samples = vec![hex(RFC9001_CLIENT_INITIAL), hex(RFC9369_CLIENT_INITIAL)];
    samples.extend(build_client_initials(
        Version::V1,
        &RFC_DCID,
        b"s",
        &message,
        1200,
        Some(4),
    ));
    samples.extend(build_client_initials(
        Version::Google(u32::from_be_bytes(*b"T051")),
        &RFC_DCID,
        b"",
        &message,
        1200,
        None,
    ));
    let mut scratch = Vec::new();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for sample in &samples {
        // Every truncation (snap length).
        for cut in 0..sample.len() {
            let cut_sample = &sample[..cut];
            let _ = peek(cut_sample);
            let result = client_initial_crypto(cut_sample, &mut scratch, |_, _| {});
            assert!(result.is_err(), "a cut packet decrypted at {cut}");
            let _ = gquic_chlo(cut_sample);
        }
        // Flipped bits anywhere, and lengths forced to extremes.
        for _ in 0..300 {
            let mut damaged = sample.clone();
            let at = (next() % damaged.len() as u64) as usize;
            damaged[at] ^= 1 << (next() % 8);
            if next() % 4 == 0 {
                let at = (next() % 40) as usize;
                if let Some(byte) = damaged.get_mut(at) {
                    *byte = 0xff;
                }
            }
            let _ = peek(&damaged);
            let _ = client_initial_crypto(&damaged, &mut scratch, |_, _| {});
            let _ = gquic_chlo(&damaged);
        }
    }
    // Random bytes that look like long headers.
    for _ in 0..2000 {
        let len = (next() % 1400) as usize;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(first) = bytes.first_mut() {
            *first |= 0x80;
        }
        if bytes.len() > 5 && next() % 2 == 0 {
            bytes[1..5].copy_from_slice(&[0, 0, 0, 1]);
        }
        let _ = peek(&bytes);
        let _ = client_initial_crypto(&bytes, &mut scratch, |_, _| {});
        let _ = gquic_chlo(&bytes);
    }
}

#[test]
fn writer_refuses_what_it_cannot_write() {
    let message = handshake("x.example");
    assert!(
        build_client_initials(Version::Unknown(7), &RFC_DCID, b"", &message, 1200, None).is_empty()
    );
    assert!(build_client_initials(Version::V1, &[0; 21], b"", &message, 1200, None).is_empty());
    assert!(build_client_initials(Version::V1, &RFC_DCID, b"", &message, 40, None).is_empty());
    // An empty message still makes one padded Initial.
    let empty = build_client_initials(Version::V1, &RFC_DCID, b"", &[], 1200, None);
    assert_eq!(empty.len(), 1);
    assert_eq!(crypto_of(&empty[0]).0.map(|i| i.crypto_frames), Ok(0));
    // The smallest datagram that works still carries everything, a byte or so at a time.
    let tiny = build_client_initials(Version::V1, &RFC_DCID, b"", &message[..200], 45, Some(1));
    assert!(tiny.len() > 20);
    let mut assembler = CryptoAssembler::new();
    let mut scratch = Vec::new();
    for datagram in &tiny {
        assert_eq!(datagram.len(), 45);
        client_initial_crypto(datagram, &mut scratch, |o, d| {
            assembler.add(o, d);
        })
        .unwrap();
    }
    assert_eq!(assembler.contiguous(), &message[..200]);
    // Over 256 packets: the packet number grows a byte.
    let many = build_client_initials(Version::V1, &RFC_DCID, b"", &message, 45, None);
    assert!(many.len() > 256);
    let last = many.last().unwrap();
    assert_eq!(
        crypto_of(last).0.map(|i| i.packet_number),
        Ok(many.len() as u64 - 1)
    );
}

#[test]
fn random_plaintexts_inside_valid_packets_never_panic() {
    // Authentic packets with arbitrary frames: the frame walkers and the hello parsers get
    // bytes no AEAD check filters out.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut scratch = Vec::new();
    let versions = [
        Version::V1,
        Version::V2,
        Version::Google(u32::from_be_bytes(*b"Q050")),
        Version::Google(u32::from_be_bytes(*b"T051")),
    ];
    for round in 0..400 {
        let version = versions[round % versions.len()];
        let keys = InitialKeys::derive(version, &RFC_DCID, Side::Client).unwrap();
        let len = 20 + (next() % 300) as usize;
        // Mostly frame-like bytes: small type values, CRYPTO headers, varint prefixes.
        let frames: Vec<u8> = (0..len)
            .map(|_| match next() % 6 {
                0 => 0x06,
                1 => 0x08,
                2 => (next() % 4) as u8,
                3 => 0x40 | (next() % 64) as u8,
                _ => next() as u8,
            })
            .collect();
        let datagram = build::seal_initial(
            &keys,
            &RFC_DCID,
            b"",
            1 + round % 4,
            (round % 200) as u64,
            &frames,
        );
        let mut assembler = CryptoAssembler::new();
        let info = client_initial_crypto(&datagram, &mut scratch, |offset, data| {
            assembler.add(offset, data);
        })
        .unwrap();
        assert_eq!(info.initials, 1);
        let _ = parse_crypto_hello(version, assembler.contiguous());
        let _ = gquic::parse_chlo_message(version, &frames);
        let _ = gquic_chlo(&frames);
    }
}
