//! TLS ClientHello parser: the server name (SNI), ALPN protocols, ECH presence and the
//! version facts a client announces in the clear when it opens a TLS connection over TCP,
//! or in the CRYPTO stream of a QUIC Initial.
//!
//! It reads only the client's first handshake message, gathering it when it is fragmented
//! over several TLS records, and says `Incomplete` until every byte of it is there. It
//! refuses (`Invalid`): SSLv2-style hellos, anything but a ClientHello, records or hellos
//! larger than TLS allows ([`MAX_RECORD_LEN`], [`MAX_CLIENT_HELLO_LEN`]), so a bogus length
//! never makes the caller wait for megabytes. It does not decode ECH or ESNI payloads
//! (presence only), check key shares, or reject values it does not know: unknown extensions,
//! cipher suites and GREASE values are skipped or kept as data. Nothing after the
//! ClientHello is looked at.

use super::{ProtoError, ProtoResult};

/// ClientHello writer for the project's fixtures (lives in `tls_build.rs`, next to this file).
#[path = "tls_build.rs"]
pub mod build;

/// Largest record payload accepted: 2^14 plaintext plus the 2048 bytes RFC 5246 allows for
/// expansion. A ClientHello record is plaintext, so this is already generous.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;
/// Largest ClientHello handshake message accepted (4-byte header included). Real ones stay
/// under ~12 KiB even with post-quantum key shares; the 24-bit length field allows 16 MiB.
pub const MAX_CLIENT_HELLO_LEN: usize = 64 * 1024;

const RECORD_HEADER_LEN: usize = 5;
const HANDSHAKE_HEADER_LEN: usize = 4;
const CONTENT_TYPE_HANDSHAKE: u8 = 22;
const HANDSHAKE_TYPE_CLIENT_HELLO: u8 = 1;
const RANDOM_LEN: usize = 32;
const SERVER_NAME_TYPE_HOST_NAME: u8 = 0;

/// server_name (RFC 6066).
pub const EXT_SERVER_NAME: u16 = 0x0000;
/// application_layer_protocol_negotiation (RFC 7301).
pub const EXT_ALPN: u16 = 0x0010;
/// supported_versions (RFC 8446).
pub const EXT_SUPPORTED_VERSIONS: u16 = 0x002b;
/// encrypted_client_hello (draft-ietf-tls-esni-13 onwards), real or Chrome's GREASE ECH.
pub const EXT_ECH: u16 = 0xfe0d;
/// encrypted_server_name of the older ESNI drafts (Firefox 2018-2020).
pub const EXT_ESNI: u16 = 0xffce;

/// What a ClientHello says in the clear.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientHello {
    /// First `host_name` entry of the server_name extension; `None` when absent or empty.
    /// Decoded as tshark does: ASCII kept as is (control characters included, escaping is
    /// the printer's job), every byte >= 0x80 becomes U+FFFD (SNI must be ASCII A-labels).
    pub sni: Option<String>,
    /// ALPN protocol names in the client's order, decoded like `sni`.
    pub alpn: Vec<String>,
    /// Extension 0xfe0d present: real ECH or Chrome's GREASE ECH (they look the same).
    /// `sni` is then the outer (public) name.
    pub ech: bool,
    /// Extension 0xffce (draft ESNI) present.
    pub esni: bool,
    /// `legacy_version` of the hello body (0x0303 for TLS 1.2 and 1.3).
    pub legacy_version: u16,
    /// supported_versions list as sent, GREASE values included (filter with [`is_grease`]).
    pub supported_versions: Vec<u16>,
    /// Number of cipher suites offered (GREASE included).
    pub cipher_suites: usize,
    /// Number of extensions (GREASE included).
    pub extensions: usize,
    /// A GREASE value (RFC 8701) appears among cipher suites, extension types or versions.
    pub grease: bool,
}

/// RFC 8701 GREASE value: 0x?a?a with both bytes equal (0x0a0a, 0x1a1a, ... 0xfafa).
pub fn is_grease(value: u16) -> bool {
    let [high, low] = value.to_be_bytes();
    high == low && low & 0x0f == 0x0a
}

/// Cheap check on the first bytes of a stream: can they begin a TLS handshake record carrying
/// a ClientHello? Looks at record header and handshake header only (9 bytes at most); an
/// empty or short prefix that is consistent so far says `true`. When it says `false`,
/// [`parse_client_hello_records`] on this stream will say `Invalid`, so the caller can stop
/// buffering.
pub fn maybe_tls_handshake(prefix: &[u8]) -> bool {
    // No ClientHello fits in 9 bytes, so this never completes (nor allocates): it only says
    // whether the header bytes seen so far are acceptable, with the very same rules.
    let head = prefix
        .get(..RECORD_HEADER_LEN + HANDSHAKE_HEADER_LEN)
        .unwrap_or(prefix);
    !matches!(
        parse_client_hello_records(head),
        Err(ProtoError::Invalid(_))
    )
}

/// Parses the ClientHello at the start of a client's TCP byte stream: one or more TLS records
/// (content type 22) carrying the handshake message, which may be fragmented over several
/// records. `Incomplete` when more bytes are needed, `Invalid` when this is not a TLS
/// ClientHello. Bytes after the ClientHello are ignored.
pub fn parse_client_hello_records(stream: &[u8]) -> ProtoResult<ClientHello> {
    match locate(stream)? {
        Located::Contiguous(msg) => parse_client_hello_handshake(msg),
        // The one allocation besides the result: only once every fragment is there.
        Located::Fragmented(msg_len) => parse_client_hello_handshake(&gather(stream, msg_len)),
    }
}

/// Parses a handshake message (type 1, 24-bit length, body), as found in QUIC CRYPTO data.
/// `Incomplete` when `msg` is a prefix of one; bytes after the message are ignored.
pub fn parse_client_hello_handshake(msg: &[u8]) -> ProtoResult<ClientHello> {
    let header = msg.get(..HANDSHAKE_HEADER_LEN).unwrap_or(msg);
    let msg_len = check_handshake_header(header)?.ok_or(ProtoError::Incomplete)?;
    let body = msg
        .get(HANDSHAKE_HEADER_LEN..msg_len)
        .ok_or(ProtoError::Incomplete)?;
    parse_body(body)
}

/// Where the handshake message sits in the record stream.
enum Located<'a> {
    /// Wholly inside the first record (the usual case): parse it in place.
    Contiguous(&'a [u8]),
    /// Spread over records; its full length (header included), all of it present.
    Fragmented(usize),
}

/// Walks the records without copying, validating each header and the handshake header as
/// soon as its bytes show up, until the whole message is present.
fn locate(stream: &[u8]) -> ProtoResult<Located<'_>> {
    let mut rest = stream;
    let mut first_record = true;
    let mut hs_header = [0u8; HANDSHAKE_HEADER_LEN];
    let mut hs_seen = 0usize; // handshake bytes found in the records walked so far
    loop {
        let record_len = check_record_header(rest.get(..RECORD_HEADER_LEN).unwrap_or(rest))?
            .ok_or(ProtoError::Incomplete)?;
        let payload_so_far = rest.get(RECORD_HEADER_LEN..).unwrap_or_default();
        let payload = payload_so_far.get(..record_len).unwrap_or(payload_so_far);

        for (slot, &byte) in hs_header.iter_mut().skip(hs_seen).zip(payload) {
            *slot = byte;
        }
        hs_seen = hs_seen.saturating_add(payload.len());
        let header_bytes = hs_header.get(..hs_seen).unwrap_or(&hs_header);
        if let Some(msg_len) = check_handshake_header(header_bytes)? {
            if hs_seen >= msg_len {
                return Ok(match payload.get(..msg_len) {
                    Some(msg) if first_record => Located::Contiguous(msg),
                    _ => Located::Fragmented(msg_len),
                });
            }
        }
        if payload.len() < record_len {
            return Err(ProtoError::Incomplete);
        }
        rest = payload_so_far.get(record_len..).unwrap_or_default();
        first_record = false;
    }
}

/// Concatenates the handshake bytes of the records (already checked by [`locate`]).
fn gather(stream: &[u8], msg_len: usize) -> Vec<u8> {
    let mut msg = Vec::with_capacity(msg_len);
    let mut rest = stream;
    while msg.len() < msg_len {
        let Some((header, after)) = rest.split_at_checked(RECORD_HEADER_LEN) else {
            break;
        };
        let record_len = match header {
            [_, _, _, high, low] => usize::from(u16::from_be_bytes([*high, *low])),
            _ => break,
        };
        let payload = after.get(..record_len).unwrap_or(after);
        let wanted = msg_len.saturating_sub(msg.len());
        msg.extend_from_slice(payload.get(..wanted).unwrap_or(payload));
        rest = after.get(record_len..).unwrap_or_default();
    }
    msg
}

/// Checks the bytes present of a record header (0 to 5 of them); returns the payload length
/// once all 5 are there.
fn check_record_header(header: &[u8]) -> ProtoResult<Option<usize>> {
    if let Some(&content_type) = header.first() {
        if content_type != CONTENT_TYPE_HANDSHAKE {
            // Also catches SSLv2-style hellos (first byte has the high bit set).
            return Err(ProtoError::Invalid("not a TLS handshake record"));
        }
    }
    if let Some(&major) = header.get(1) {
        // Any minor version: the record version is frozen legacy data, and 0x16 0x03 plus
        // the handshake checks are already specific enough.
        if major != 3 {
            return Err(ProtoError::Invalid("record version is not 3.x"));
        }
    }
    let [_, _, _, high, low] = header else {
        return Ok(None);
    };
    match usize::from(u16::from_be_bytes([*high, *low])) {
        // RFC 5246 6.2.1 / RFC 8446 5.1: handshake fragments are never empty; refusing them
        // also means every record brings the hello one byte closer.
        0 => Err(ProtoError::Invalid("empty handshake record")),
        len if len > MAX_RECORD_LEN => Err(ProtoError::Invalid("record longer than TLS allows")),
        len => Ok(Some(len)),
    }
}

/// Checks the bytes present of a handshake header (0 to 4 of them); returns the full message
/// length (header included) once all 4 are there.
fn check_handshake_header(header: &[u8]) -> ProtoResult<Option<usize>> {
    if let Some(&msg_type) = header.first() {
        if msg_type != HANDSHAKE_TYPE_CLIENT_HELLO {
            return Err(ProtoError::Invalid(
                "handshake message is not a ClientHello",
            ));
        }
    }
    let [_, b1, b2, b3] = header else {
        return Ok(None);
    };
    let body_len = usize::from(*b1) << 16 | usize::from(*b2) << 8 | usize::from(*b3);
    let msg_len = body_len.saturating_add(HANDSHAKE_HEADER_LEN);
    if msg_len > MAX_CLIENT_HELLO_LEN {
        return Err(ProtoError::Invalid("ClientHello longer than accepted"));
    }
    Ok(Some(msg_len))
}

/// Parses a complete ClientHello body (RFC 8446 4.1.2, RFC 5246 7.4.1.2).
fn parse_body(body: &[u8]) -> ProtoResult<ClientHello> {
    let mut hello = ClientHello::default();
    let mut body = Reader(body);
    hello.legacy_version = body.u16().ok_or(invalid("truncated before random"))?;
    body.take(RANDOM_LEN).ok_or(invalid("truncated random"))?;
    body.vec8()
        .ok_or(invalid("session_id overruns the hello"))?;
    let suites = body
        .vec16()
        .ok_or(invalid("cipher_suites overrun the hello"))?;
    hello.cipher_suites = suites.len() / 2;
    hello.grease |= u16_items(suites).any(is_grease);
    body.vec8()
        .ok_or(invalid("compression_methods overrun the hello"))?;
    if body.0.is_empty() {
        // SSLv3 and early TLS hellos may end here, without an extensions block.
        return Ok(hello);
    }
    let mut extensions = Reader(
        body.vec16()
            .ok_or(invalid("extensions overrun the hello"))?,
    );
    // Bytes after the extensions block are not ours to judge; they are ignored.
    while !extensions.0.is_empty() {
        let ext_type = extensions.u16().ok_or("truncated extension header");
        let data = extensions
            .vec16()
            .ok_or("extension overruns the extensions block");
        let (ext_type, data) = match (ext_type, data) {
            (Ok(ext_type), Ok(data)) => (ext_type, data),
            (Err(reason), _) | (_, Err(reason)) => {
                // A damaged extension ends the walk. A server name read before it is still
                // the one the client asked for (tshark reads such a hello the same way); with
                // none, the hello is invalid.
                return match hello.sni {
                    Some(_) => Ok(hello),
                    None => Err(invalid(reason)),
                };
            }
        };
        hello.extensions = hello.extensions.saturating_add(1);
        hello.grease |= is_grease(ext_type);
        match ext_type {
            EXT_SERVER_NAME if hello.sni.is_none() => hello.sni = first_host_name(data),
            EXT_ALPN if hello.alpn.is_empty() => hello.alpn = alpn_names(data),
            EXT_SUPPORTED_VERSIONS if hello.supported_versions.is_empty() => {
                let versions = Reader(data).vec8().unwrap_or_default();
                hello.supported_versions = u16_items(versions).collect();
                hello.grease |= hello.supported_versions.iter().copied().any(is_grease);
            }
            EXT_ECH => hello.ech = true,
            EXT_ESNI => hello.esni = true,
            // Everything else (GREASE included) is skipped: presence counted, content unread.
            _ => {}
        }
    }
    Ok(hello)
}

fn invalid(reason: &'static str) -> ProtoError {
    ProtoError::Invalid(reason)
}

/// First `host_name` of a server_name extension (RFC 6066 3). A malformed list yields what was
/// complete before the damage: a name is never cut short.
fn first_host_name(data: &[u8]) -> Option<String> {
    let mut list = Reader(Reader(data).vec16()?);
    while !list.0.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == SERVER_NAME_TYPE_HOST_NAME {
            return (!name.is_empty()).then(|| ascii_lossy(name));
        }
    }
    None
}

/// ALPN protocol names (RFC 7301 3.1); stops at the first malformed entry.
fn alpn_names(data: &[u8]) -> Vec<String> {
    let mut list = Reader(Reader(data).vec16().unwrap_or_default());
    let mut names = Vec::new();
    while let Some(name) = list.vec8() {
        names.push(ascii_lossy(name));
    }
    names
}

/// tshark's reading of these fields (ENC_ASCII): ASCII bytes as they are, each other byte
/// U+FFFD, so `café` in UTF-8 reads `caf\u{FFFD}\u{FFFD}`.
fn ascii_lossy(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| {
            if b.is_ascii() {
                char::from(b)
            } else {
                '\u{FFFD}'
            }
        })
        .collect()
}

/// Big-endian u16 values of a list (a trailing odd byte is ignored).
fn u16_items(bytes: &[u8]) -> impl Iterator<Item = u16> + '_ {
    bytes
        .chunks_exact(2)
        .filter_map(|pair| pair.try_into().ok().map(u16::from_be_bytes))
}

/// Forward-only cursor over a complete message; every read says `None` past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }

    fn u16(&mut self) -> Option<u16> {
        match self.take(2)? {
            [high, low] => Some(u16::from_be_bytes([*high, *low])),
            _ => None,
        }
    }

    /// A vector with a one-byte length prefix.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let len = self.u8()?;
        self.take(usize::from(len))
    }

    /// A vector with a two-byte length prefix.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let len = self.u16()?;
        self.take(usize::from(len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// zeek/chrome-34-google.pcap frame 4: Chrome 34, TLS 1.2, SNI google.de, NPN/ALPN spdy.
    const CHROME34: &str = concat!(
        "16030100cc010000c80303ee181414cc5464d43b1046f68825acf46d92663289d2f905ecfa687e856affaa000028c02b",
        "c02f009ecc14cc13c00ac009c013c014c007c011003300320039009c002f0035000a00050004010000770000000e000c",
        "000009676f6f676c652e6465ff01000100000a00080006001700180019000b0002010000230000337400000010001b00",
        "1906737064792f3308737064792f332e3108687474702f312e3175500000000500050100000000000d00120010040105",
        "0102010403050302030402020200120000",
    );
    /// ndpi/tls_ech.pcapng frame 4: Chrome, real ECH (0xfe0d) with outer SNI, GREASE.
    const ECH: &str = concat!(
        "16030102430100023f03031d2866261a24cc0c15c6deba5b0e971a19a23b72524d3a1ca2acea56d01fdbbe20e09ca0ae",
        "22123a165f0100faf20dfb792cf518b9400a8bb52ef80b3c06059cd90020aaaa130113021303c02bc02fc02cc030cca9",
        "cca8c013c014009c009d002f0035010001d66a6a00000033002b00291a1a000100001d002074494288d7ffc1faa04696",
        "8556f646b024a855feed27c793e8085413aa74113600230000ff01000100002d00020101001b0003020002000a000a00",
        "081a1a001d001700180017000000050005010000000000120000002b000706dada03040303000d001200100403080404",
        "01050308050501080606010010000e000c02683208687474702f312e31000000250023000020706572666f726d616e63",
        "652e72616461722e636c6f7564666c6172652e636f6dfe0d00fa0000010001d800209557c100c71bf776929056d02159",
        "1f6515001dc1df1125b92408d98681a5a16700d00df0970d9f7cb426c059b1e0fe95fd7c22f8a5444d65321496fa8578",
        "1e4c5e31465cc703e3368adc8b46a6aab2d9d2bdee3004e5d5c0898b0355317f3212d160e1e806aa45cc3e0a35150607",
        "18c976025afd3f04b96dbd039a99f4a7d98821a9adaa372829dab7bc9965959a5a8f4ee36506cd1baba08bd2597f4644",
        "03dcfeed9a3c49f2b82e53a5ca8d09ea43158b58c78786a72c6cfabb9999fa31aaae2a2f54142f47befcf542c8053058",
        "4e2583d678322700f69cb23bf6cca0810c3def3ca164d3dfeb617e7b64dbe76e6489c4da000b00020100446900050003",
        "026832fafa000100",
    );
    /// mercury/secp384r1mlkem1024_clienthello.pcap frame 1: TLS 1.3 only, no SNI, key share 0x11ed.
    const MLKEM1024: &str = concat!(
        "16030100900100008c0303d06856c32c67425e38498b22ccfba6e0b143247a47200b1edaf438620a2922150000021302",
        "01000061002b0003020304000a0004000211ed00330013001111ed000801020304050607080202000100002100020000",
        "002d000201010029002b0006000000000000002120000000000000000000000000000000000000000000000000000000",
        "0000000000",
    );
    /// ndpi/tls_esni_sni_both.pcap frames 4+12: draft ESNI (0xffce) and a cleartext SNI.
    const ESNI: &str = concat!(
        "160301027501000271030306a564656b2876dad16d5c40339a325ebc316cd485aa0b8bb66d76f1c0813af710b70b63dd",
        "114e5411e6452f0a0f97560000061303130113020100023200000033003100002e74686573652d6172652d6e6f742d74",
        "68652d64726f6964732d796f7572652d6c6f6f6b696e672d666f722e636f6dffce016e1301001d0020db3df8309b60ee",
        "5190359d24f44d36d9725df0f96fd4c4af8a78d4d0f17668580020bf707e086a555f3e660ec52dac0bcbe8bb5c597b5c",
        "923f26d33c6e9125c6b9bc0124b8845d1a37225d055cb7187b6d7cbd852adfda5269097680cb388af4fc9f5c7bce0377",
        "2d5259820afc2da5c949a663f997d270bbd2525d0d7c4d83e6fa9cfa038c1e78c2c847bb2033853998e7d391737c1cbb",
        "3796a9f7f24d5e88f6c5af94e95d93c2f8a168e73f18d090eab69d7c689afa7ad9bcaafefcf496509dd4dfeb3e96ce33",
        "4f2b00a6c03c1f9c1bf5040ba031e789d03185ddb6bd2d2105a91463519a23caae0295e3f068b701d99b1ab486583c72",
        "54dda07be99d50c23e4681cb62a5faa669adfef76693137788b3c0a5b0eec36e004f8a11e7b5b14dd37f50c1f6f20d68",
        "828620befb7460a5d6910255c126f921fe6b70f2e9c7299683fae6f9d068b139bad1ef709da821642b00fa7fd1bba44e",
        "f6c3dac61043c434224f3e570f62daa4bf000500050100000000000a000a0008001d001700180019000b00020100000d",
        "001800160804040104030805050105030806060106030201020300320012001004010403050105030601060302010203",
        "ff0100010000120000003300260024001d0020ac17ad824f38f7a764641fd5ad82cfc6ba50c2e705867dc469f26bf78c",
        "c27833002b0003020304",
    );
    /// zeek/hrr.pcap frame 4: first hello of a HelloRetryRequest exchange, no SNI.
    const HRR: &str = concat!(
        "16030100e7010000e3030330f1903e37d4f598a70d696a9172b296c96852c9dae4a3c9ca6b49d2021668a1201a6bb836",
        "8add0e28015bd6cced648236f49e2407f19653ac1fdd1ffa48bfaecd000813021303130100ff01000092000b00040300",
        "0102000a00080006001500170018002300000016000000170000000d001e001c040305030603080708080809080a080b",
        "080408050806040105010601002b0003020304002d000201010033003f003d0015003904742beee2f40d71fd7de442c4",
        "829450b081225514e22c5d87b47fc5958bccc7ff69835d7731166b62e92de516b8af90fe45cbb056ce364f40",
    );
    /// compbench/2009-M57-day11-18-10k.pcap frame 664: Windows XP era TLS 1.0 hello without extensions.
    const NO_EXT: &str = concat!(
        "16030100410100003d03014b03bb85faaf48933dd79b06b93c052f06c47777de720d36905b7c57270755480000160004",
        "0005000a000900640062000300060013001200630100",
    );
    /// retina/tls_ciphers.pcap tcp.stream 64: SSLv2-compatible CLIENT-HELLO (tshark counts it as a ClientHello).
    const SSLV2: &str = concat!(
        "80320103030009000000200000040100800000ff4575c2fa383b34ff9c5aa53c27a31188a5cbd9976dd1cbee23124a",
        "ba078bc2f1",
    );

    fn unhex(text: &str) -> Vec<u8> {
        (0..text.len() / 2)
            .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    fn fixtures() -> Vec<(&'static str, Vec<u8>)> {
        [
            ("chrome34", CHROME34),
            ("ech", ECH),
            ("mlkem1024", MLKEM1024),
            ("esni", ESNI),
            ("hrr", HRR),
            ("no_ext", NO_EXT),
        ]
        .into_iter()
        .map(|(name, text)| (name, unhex(text)))
        .collect()
    }

    fn records(payloads: &[&[u8]]) -> Vec<u8> {
        let mut stream = Vec::new();
        for payload in payloads {
            stream.extend_from_slice(&[22, 3, 1]);
            stream.extend_from_slice(&(payload.len() as u16).to_be_bytes());
            stream.extend_from_slice(payload);
        }
        stream
    }

    /// The handshake message of a one-record fixture, re-cut into records of `size` bytes.
    fn refragment(stream: &[u8], size: usize) -> Vec<u8> {
        records(&stream[5..].chunks(size).collect::<Vec<_>>())
    }

    /// A minimal TLS 1.2 hello record carrying these extensions.
    fn hello_with(extensions: &[(u16, Vec<u8>)]) -> Vec<u8> {
        let mut block = Vec::new();
        for (ext_type, data) in extensions {
            block.extend_from_slice(&ext_type.to_be_bytes());
            block.extend_from_slice(&(data.len() as u16).to_be_bytes());
            block.extend_from_slice(data);
        }
        let mut body = vec![3, 3];
        body.extend_from_slice(&[7; 32]);
        body.extend_from_slice(&[0, 0, 2, 0x13, 0x01, 1, 0]);
        body.extend_from_slice(&(block.len() as u16).to_be_bytes());
        body.extend_from_slice(&block);
        let mut msg = vec![1, 0];
        msg.extend_from_slice(&(body.len() as u16).to_be_bytes());
        msg.extend_from_slice(&body);
        records(&[&msg])
    }

    fn server_name(entries: &[(u8, &[u8])]) -> Vec<u8> {
        let mut list = Vec::new();
        for (name_type, name) in entries {
            list.push(*name_type);
            list.extend_from_slice(&(name.len() as u16).to_be_bytes());
            list.extend_from_slice(name);
        }
        let mut data = (list.len() as u16).to_be_bytes().to_vec();
        data.extend_from_slice(&list);
        data
    }

    fn sni_of(stream: &[u8]) -> Option<String> {
        parse_client_hello_records(stream).unwrap().sni
    }

    /// xorshift64*: reproducible mutations without a dependency.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn chrome34_tls12_hello() {
        let hello = parse_client_hello_records(&unhex(CHROME34)).unwrap();
        let expected = ClientHello {
            sni: Some("google.de".into()),
            alpn: vec!["spdy/3".into(), "spdy/3.1".into(), "http/1.1".into()],
            legacy_version: 0x0303,
            cipher_suites: 20,
            extensions: 11,
            ..ClientHello::default()
        };
        assert_eq!(hello, expected);
    }

    #[test]
    fn real_ech_hello_with_grease() {
        let hello = parse_client_hello_records(&unhex(ECH)).unwrap();
        assert_eq!(
            hello.sni.as_deref(),
            Some("performance.radar.cloudflare.com")
        );
        assert!(hello.ech && !hello.esni && hello.grease);
        assert_eq!(hello.alpn, ["h2", "http/1.1"]);
        assert_eq!(hello.supported_versions, [0xdada, 0x0304, 0x0303]);
        assert_eq!((hello.cipher_suites, hello.extensions), (16, 18));
    }

    #[test]
    fn esni_next_to_cleartext_sni() {
        let hello = parse_client_hello_records(&unhex(ESNI)).unwrap();
        assert_eq!(
            hello.sni.as_deref(),
            Some("these-are-not-the-droids-youre-looking-for.com")
        );
        assert!(hello.esni && !hello.ech && !hello.grease);
        assert_eq!(hello.supported_versions, [0x0304]);
        assert_eq!((hello.cipher_suites, hello.extensions), (3, 11));
    }

    #[test]
    fn hellos_without_sni() {
        let mlkem = parse_client_hello_records(&unhex(MLKEM1024)).unwrap();
        assert_eq!(
            (mlkem.sni, mlkem.cipher_suites, mlkem.extensions),
            (None, 1, 6)
        );
        assert_eq!(mlkem.supported_versions, [0x0304]);
        let hrr = parse_client_hello_records(&unhex(HRR)).unwrap();
        assert_eq!((hrr.sni, hrr.cipher_suites, hrr.extensions), (None, 4, 9));
        let old = parse_client_hello_records(&unhex(NO_EXT)).unwrap();
        let expected = ClientHello {
            legacy_version: 0x0301,
            cipher_suites: 11,
            ..ClientHello::default()
        };
        assert_eq!(old, expected);
    }

    #[test]
    fn handshake_entry_reads_the_record_payload() {
        for (name, stream) in fixtures() {
            let from_records = parse_client_hello_records(&stream);
            assert_eq!(
                parse_client_hello_handshake(&stream[5..]),
                from_records,
                "{name}"
            );
            let mut with_tail = stream[5..].to_vec();
            with_tail.extend_from_slice(b"\x02\x00\x00\x00trailing");
            assert_eq!(
                parse_client_hello_handshake(&with_tail),
                from_records,
                "{name}"
            );
        }
    }

    #[test]
    fn every_prefix_is_incomplete() {
        for (name, stream) in fixtures() {
            for cut in 0..stream.len() {
                assert_eq!(
                    parse_client_hello_records(&stream[..cut]),
                    Err(ProtoError::Incomplete),
                    "{name} {cut}"
                );
                assert!(maybe_tls_handshake(&stream[..cut]), "{name} {cut}");
            }
            for cut in 0..stream.len() - 5 {
                let msg = &stream[5..5 + cut];
                assert_eq!(
                    parse_client_hello_handshake(msg),
                    Err(ProtoError::Incomplete),
                    "{name} {cut}"
                );
            }
        }
    }

    #[test]
    fn fragmented_over_records_of_any_size() {
        for (name, stream) in fixtures() {
            let expected = parse_client_hello_records(&stream).unwrap();
            for size in 1..stream.len() - 5 {
                let fragmented = refragment(&stream, size);
                assert_eq!(
                    parse_client_hello_records(&fragmented).as_ref(),
                    Ok(&expected),
                    "{name} {size}"
                );
            }
        }
    }

    #[test]
    fn record_split_at_every_byte_is_incomplete_until_complete() {
        let stream = unhex(CHROME34);
        let expected = parse_client_hello_records(&stream).unwrap();
        let msg = &stream[5..];
        for split in 1..msg.len() {
            let two = records(&[&msg[..split], &msg[split..]]);
            for cut in 0..two.len() {
                assert_eq!(
                    parse_client_hello_records(&two[..cut]),
                    Err(ProtoError::Incomplete),
                    "{split} {cut}"
                );
            }
            assert_eq!(
                parse_client_hello_records(&two).as_ref(),
                Ok(&expected),
                "{split}"
            );
        }
    }

    #[test]
    fn bytes_after_the_hello_are_ignored() {
        let change_cipher_spec = [20, 3, 3, 0, 1, 1];
        for stream in [unhex(ECH), refragment(&unhex(ECH), 100)] {
            let mut longer = stream.clone();
            longer.extend_from_slice(&change_cipher_spec);
            longer.extend_from_slice(&[0xff; 40]);
            assert_eq!(
                parse_client_hello_records(&longer),
                parse_client_hello_records(&stream)
            );
        }
    }

    #[test]
    fn not_tls_is_invalid_from_the_first_byte() {
        let server_hello = [22, 3, 3, 0, 0x3a, 2, 0, 0, 0x36, 3, 3];
        let alert = [21, 3, 3, 0, 2, 2, 40];
        let inputs: [&[u8]; 6] = [
            &unhex(SSLV2),
            b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n",
            b"CONNECT example.com:443 HTTP/1.1\r\n\r\n",
            b"SSH-2.0-OpenSSH_9.6\r\n",
            &server_hello,
            &alert,
        ];
        for input in inputs {
            assert!(!maybe_tls_handshake(input));
            assert!(matches!(
                parse_client_hello_records(input),
                Err(ProtoError::Invalid(_))
            ));
            assert!(matches!(
                parse_client_hello_handshake(input),
                Err(ProtoError::Invalid(_))
            ));
        }
        // SSLv2 is refused on its first byte, before any length is read.
        assert!(!maybe_tls_handshake(&[0x80]));
        assert!(maybe_tls_handshake(&[]) && maybe_tls_handshake(&[22, 3, 1, 2, 0, 1]));
        assert!(matches!(
            parse_client_hello_records(&[0x16, 0x02]),
            Err(ProtoError::Invalid(_))
        ));
    }

    #[test]
    fn bogus_lengths_are_invalid_without_waiting() {
        let invalid = |stream: &[u8]| {
            matches!(
                parse_client_hello_records(stream),
                Err(ProtoError::Invalid(_))
            )
        };
        assert!(invalid(&[22, 3, 1, 0xff, 0xff])); // 64 KiB record
        assert!(invalid(&[22, 3, 1, 0x48, 0x01])); // MAX_RECORD_LEN + 1
        assert!(!invalid(&[22, 3, 1, 0x48, 0x00]));
        assert!(invalid(&[22, 3, 1, 0, 0])); // empty handshake record
        assert!(invalid(&[22, 3, 1, 0, 4, 1, 0x40, 0, 0])); // 4 MiB ClientHello
        assert!(invalid(&[22, 3, 1, 0, 4, 1, 1, 0, 0])); // 64 KiB + 4
        assert!(!invalid(&[22, 3, 1, 0, 4, 1, 0, 0xff, 0xfc])); // exactly 64 KiB
        assert!(matches!(
            parse_client_hello_handshake(&[1, 0x40, 0, 0]),
            Err(ProtoError::Invalid(_))
        ));
    }

    #[test]
    fn inner_lengths_that_overrun_are_invalid() {
        let stream = unhex(CHROME34);
        // Offsets in the record stream: session_id length 43, cipher_suites length 44-45,
        // extensions length 88-89, first extension length 92-93.
        let cases: [(usize, u8, &str); 4] = [
            (43, 0xff, "session_id overruns the hello"),
            (44, 0x01, "cipher_suites overrun the hello"),
            (88, 0xff, "extensions overrun the hello"),
            (92, 0xff, "extension overruns the extensions block"),
        ];
        for (offset, value, reason) in cases {
            let mut bad = stream.clone();
            bad[offset] = value;
            assert_eq!(
                parse_client_hello_records(&bad),
                Err(ProtoError::Invalid(reason)),
                "{offset}"
            );
        }
        // Damage after the server_name extension leaves the name it carries: the length of
        // the session_ticket extension after it (at 133-134) overruns the block.
        let mut late = stream.clone();
        late[133] = 0xff;
        let hello = parse_client_hello_records(&late).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("google.de"));
        assert!(hello.alpn.is_empty());
        // So does an extensions block that ends inside the last extension's header.
        let mut cut = stream.clone();
        cut[89] -= 1;
        let hello = parse_client_hello_records(&cut).unwrap();
        assert_eq!(hello.sni.as_deref(), Some("google.de"));
        assert_eq!(hello.alpn, ["spdy/3", "spdy/3.1", "http/1.1"]);
        // A handshake length shorter than its content cuts a field short.
        let mut short = stream.clone();
        short[8] = 60;
        assert!(matches!(
            parse_client_hello_records(&short),
            Err(ProtoError::Invalid(_))
        ));
    }

    #[test]
    fn other_record_inside_the_hello_is_invalid() {
        let msg = unhex(CHROME34)[5..].to_vec();
        let mut stream = records(&[&msg[..50]]);
        stream.extend_from_slice(&[23, 3, 3, 0, 10]);
        stream.extend_from_slice(&[0; 10]);
        assert_eq!(
            parse_client_hello_records(&stream),
            Err(ProtoError::Invalid("not a TLS handshake record"))
        );
    }

    #[test]
    fn sni_reads_like_tshark() {
        let hello = |name: &[u8]| hello_with(&[(EXT_SERVER_NAME, server_name(&[(0, name)]))]);
        assert_eq!(
            sni_of(&hello("caf\u{e9}.example".as_bytes())).as_deref(),
            Some("caf\u{fffd}\u{fffd}.example")
        );
        assert_eq!(sni_of(&hello(b"ab\xffc")).as_deref(), Some("ab\u{fffd}c"));
        assert_eq!(sni_of(&hello(b"x\x01y\tz")).as_deref(), Some("x\x01y\tz"));
        assert_eq!(sni_of(&hello(b"")), None);
        // First host_name entry, other name types skipped.
        let mixed = server_name(&[(7, b"other"), (0, b"first.example"), (0, b"second.example")]);
        assert_eq!(
            sni_of(&hello_with(&[(EXT_SERVER_NAME, mixed)])).as_deref(),
            Some("first.example")
        );
        // A name cut by a bad list length is not reported half.
        let mut cut = server_name(&[(0, b"cut.example")]);
        cut.truncate(cut.len() - 2);
        assert_eq!(sni_of(&hello_with(&[(EXT_SERVER_NAME, cut)])), None);
        // First server_name extension wins.
        let twice = hello_with(&[
            (EXT_SERVER_NAME, server_name(&[(0, b"a.example")])),
            (EXT_SERVER_NAME, server_name(&[(0, b"b.example")])),
        ]);
        assert_eq!(sni_of(&twice).as_deref(), Some("a.example"));
    }

    #[test]
    fn alpn_stops_at_a_malformed_entry() {
        let data = [0, 9, 2, b'h', b'2', 8, b'h', b't', b't', b'p', b'/', b'1'];
        let hello = parse_client_hello_records(&hello_with(&[(EXT_ALPN, data.to_vec())])).unwrap();
        assert_eq!(hello.alpn, ["h2"]);
    }

    #[test]
    fn unknown_and_grease_extensions_are_skipped() {
        let hello = hello_with(&[
            (0x1a1a, vec![]),
            (0x7777, vec![1, 2, 3]),
            (EXT_ECH, vec![0; 9]),
            (0xfafa, vec![0]),
        ]);
        let hello = parse_client_hello_records(&hello).unwrap();
        assert!(hello.ech && hello.grease);
        assert_eq!(hello.extensions, 4);
    }

    #[test]
    fn grease_values() {
        let all: Vec<u16> = (0..=0xffff).filter(|&v| is_grease(v)).collect();
        assert_eq!(all.len(), 16);
        assert!(all
            .iter()
            .all(|v| v & 0x0f0f == 0x0a0a && v >> 8 == v & 0xff));
        assert!(!is_grease(0x0304) && !is_grease(0x1a2a));
    }

    #[test]
    fn maybe_tls_handshake_never_contradicts_the_parser() {
        let mut rng = Rng(0x5eed);
        for _ in 0..20_000 {
            let mut head: Vec<u8> = (0..12).map(|_| rng.next() as u8).collect();
            // Bias towards plausible headers so the deeper checks are reached.
            if rng.below(2) == 0 {
                head[..3].copy_from_slice(&[22, 3, rng.below(5) as u8]);
                if rng.below(2) == 0 {
                    head[5] = 1;
                }
            }
            let verdict = parse_client_hello_records(&head);
            for len in 0..=head.len() {
                if !maybe_tls_handshake(&head[..len]) {
                    assert!(
                        matches!(verdict, Err(ProtoError::Invalid(_))),
                        "{head:02x?}"
                    );
                }
            }
        }
    }

    #[test]
    fn both_entries_agree_on_mutated_hellos() {
        let mut rng = Rng(0xd1ff);
        let messages: Vec<Vec<u8>> = fixtures()
            .into_iter()
            .map(|(_, s)| s[5..].to_vec())
            .collect();
        for round in 0..6000 {
            let mut msg = messages[round % messages.len()].clone();
            let at = rng.below(msg.len());
            msg[at] = rng.next() as u8;
            if rng.below(4) == 0 {
                msg.truncate(rng.below(msg.len()) + 1);
            }
            let size = 1 + rng.below(msg.len());
            let stream = records(&msg.chunks(size).collect::<Vec<_>>());
            assert_eq!(
                parse_client_hello_records(&stream),
                parse_client_hello_handshake(&msg),
                "{size} {msg:02x?}"
            );
        }
    }

    #[test]
    fn never_panics_on_mutations() {
        let mut rng = Rng(0x00c0_ffee);
        for (_, stream) in fixtures() {
            let streams = [stream.clone(), refragment(&stream, 37)];
            for base in &streams {
                for round in 0..1500 {
                    let mut bytes = base.clone();
                    for _ in 0..1 + rng.below(4) {
                        if bytes.is_empty() {
                            break;
                        }
                        let at = rng.below(bytes.len());
                        match rng.below(4) {
                            0 => bytes[at] = rng.next() as u8,
                            1 => bytes[at] ^= 1 << rng.below(8),
                            2 => bytes[at] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)],
                            _ => bytes.truncate(at),
                        }
                    }
                    let _ = parse_client_hello_records(&bytes);
                    let _ = parse_client_hello_handshake(bytes.get(5..).unwrap_or_default());
                    if round % 50 == 0 {
                        for cut in 0..bytes.len() {
                            let _ = parse_client_hello_records(&bytes[..cut]);
                        }
                    }
                }
            }
        }
        for _ in 0..5000 {
            let len = rng.below(300);
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            if len >= 9 && rng.below(2) == 0 {
                bytes[..6].copy_from_slice(&[22, 3, 1, 0, (len - 5) as u8, 1]);
            }
            let _ = parse_client_hello_records(&bytes);
            let _ = parse_client_hello_handshake(&bytes);
            let _ = maybe_tls_handshake(&bytes);
        }
    }
}
