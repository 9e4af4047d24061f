//! SOCKS from the client's side: what a client sends a SOCKS proxy before the tunnelled
//! protocol starts, for SOCKS 4, 4a (the protocol notes of NEC / OpenSSH) and 5 (RFC 1928, with
//! RFC 1929's username and password). Staff reach AI services through such proxies (a local
//! Clash or v2ray "mixed port", an SSH `-D` tunnel, Tor); the request names the destination,
//! and the TLS or HTTP that follows it in the same stream names it better.
//!
//! Only the client's bytes are read, in order; the proxy's answers are not needed: after a
//! SOCKS 5 greeting the client sends either RFC 1929's subnegotiation (first byte 1, only if
//! it offered that method) or its request (first byte 5). Anything else, or a field out of
//! its range, is `Invalid`: a flow is taken for SOCKS only when every byte up to the end of the
//! request fits. GSSAPI negotiation is not followed (`Invalid`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{ProtoError, ProtoResult};

/// A CONNECT request (the client asks the proxy for a TCP connection) and where the tunnelled
/// bytes start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect<'a> {
    /// The destination as a name (SOCKS 4a, SOCKS 5 with address type 3), as sent.
    pub host: Option<&'a [u8]>,
    /// The destination as an address (SOCKS 4, SOCKS 5 with address type 1 or 4).
    pub addr: Option<IpAddr>,
    pub port: u16,
    /// Bytes from the start of the stream to the end of the request: the tunnel starts there.
    pub len: usize,
}

/// What the client's first bytes are, when they are SOCKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request<'a> {
    /// CONNECT: a TCP tunnel follows.
    Connect(Connect<'a>),
    /// BIND or UDP ASSOCIATE: the traffic goes elsewhere; nothing follows in this stream.
    Other,
}

const INCOMPLETE: ProtoResult<Request<'static>> = Err(ProtoError::Incomplete);
const CONNECT: u8 = 1;
const METHOD_USERNAME_PASSWORD: u8 = 2;

/// Reads a SOCKS 4, 4a or 5 client's bytes up to the end of its request.
pub fn parse_client(buf: &[u8]) -> ProtoResult<Request<'_>> {
    match buf.first() {
        None => INCOMPLETE,
        Some(4) => socks4(buf),
        Some(5) => socks5(buf),
        Some(_) => Err(ProtoError::Invalid("not socks")),
    }
}

/// `04 cmd port(2) ip(4) userid 00`, and for 4a (ip 0.0.0.x, x not 0) `host 00` after it.
fn socks4(buf: &[u8]) -> ProtoResult<Request<'_>> {
    let Some(fixed) = buf.get(..8) else {
        return prefix_of_socks4(buf);
    };
    let command = fixed[1];
    if command != CONNECT && command != 2 {
        return Err(ProtoError::Invalid("socks4 command"));
    }
    let port = u16::from_be_bytes([fixed[2], fixed[3]]);
    let ip = Ipv4Addr::new(fixed[4], fixed[5], fixed[6], fixed[7]);
    let (user, after_user) = until_nul(buf, 8)?;
    if !user.iter().all(|&b| b.is_ascii_graphic()) {
        return Err(ProtoError::Invalid("socks4 user id"));
    }
    let socks4a = ip.octets()[..3] == [0, 0, 0] && ip.octets()[3] != 0;
    let (host, len) = if socks4a {
        let (host, end) = until_nul(buf, after_user)?;
        if !is_host(host) {
            return Err(ProtoError::Invalid("socks4a host"));
        }
        (Some(host), end)
    } else {
        (None, after_user)
    };
    if port == 0 {
        return Err(ProtoError::Invalid("socks4 port 0"));
    }
    if command != CONNECT {
        return Ok(Request::Other);
    }
    Ok(Request::Connect(Connect {
        host,
        addr: (!socks4a).then_some(IpAddr::V4(ip)),
        port,
        len,
    }))
}

/// Incomplete while the first bytes can still start a SOCKS 4 request.
fn prefix_of_socks4(buf: &[u8]) -> ProtoResult<Request<'_>> {
    match buf.get(1) {
        Some(&c) if c != CONNECT && c != 2 => Err(ProtoError::Invalid("socks4 command")),
        _ => INCOMPLETE,
    }
}

/// A field of at most 255 bytes ending in a NUL, from `at`: the field and where the next one
/// starts.
fn until_nul(buf: &[u8], at: usize) -> ProtoResult<(&[u8], usize)> {
    let rest = buf.get(at..).unwrap_or_default();
    match rest.iter().take(256).position(|&b| b == 0) {
        Some(n) => Ok((&rest[..n], at + n + 1)),
        None if rest.len() < 256 => Err(ProtoError::Incomplete),
        None => Err(ProtoError::Invalid("socks4 field too long")),
    }
}

/// Greeting `05 n methods(n)`, RFC 1929's `01 ulen user plen password` if it offered it, then
/// the request `05 cmd 00 atyp address port(2)`.
fn socks5(buf: &[u8]) -> ProtoResult<Request<'_>> {
    let Some(&count) = buf.get(1) else {
        return INCOMPLETE;
    };
    if count == 0 {
        return Err(ProtoError::Invalid("socks5 greeting without methods"));
    }
    let methods_end = 2 + usize::from(count);
    let Some(methods) = buf.get(2..methods_end) else {
        return INCOMPLETE;
    };
    // 0xff means "no acceptable method" and is the proxy's to send, never the client's.
    if methods.contains(&0xff) {
        return Err(ProtoError::Invalid("socks5 method"));
    }
    let mut at = methods_end;
    match buf.get(at) {
        None => return INCOMPLETE,
        Some(1) if methods.contains(&METHOD_USERNAME_PASSWORD) => {
            for _ in 0..2 {
                let Some(&len) = buf.get(at + 1) else {
                    return INCOMPLETE;
                };
                at += 1 + usize::from(len);
            }
            at += 1;
        }
        Some(5) => {}
        Some(_) => return Err(ProtoError::Invalid("socks5 after the greeting")),
    }
    let Some(fixed) = buf.get(at..at + 4) else {
        return if buf.len() > at && buf[at] != 5 {
            Err(ProtoError::Invalid("socks5 request version"))
        } else {
            INCOMPLETE
        };
    };
    let (command, reserved, kind) = (fixed[1], fixed[2], fixed[3]);
    if fixed[0] != 5 || !(1..=3).contains(&command) || reserved != 0 {
        return Err(ProtoError::Invalid("socks5 request"));
    }
    at += 4;
    let (host, addr) = match kind {
        1 => {
            let Some(b) = buf.get(at..at + 4) else {
                return INCOMPLETE;
            };
            at += 4;
            (
                None,
                Some(IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3]))),
            )
        }
        3 => {
            let Some(&len) = buf.get(at) else {
                return INCOMPLETE;
            };
            let Some(host) = buf.get(at + 1..at + 1 + usize::from(len)) else {
                return INCOMPLETE;
            };
            if !is_host(host) {
                return Err(ProtoError::Invalid("socks5 host"));
            }
            at += 1 + usize::from(len);
            (Some(host), None)
        }
        4 => {
            let Some(b) = buf
                .get(at..at + 16)
                .and_then(|b| <[u8; 16]>::try_from(b).ok())
            else {
                return INCOMPLETE;
            };
            at += 16;
            (None, Some(IpAddr::V6(Ipv6Addr::from(b))))
        }
        _ => return Err(ProtoError::Invalid("socks5 address type")),
    };
    let Some(port) = buf.get(at..at + 2) else {
        return INCOMPLETE;
    };
    let port = u16::from_be_bytes([port[0], port[1]]);
    if command != CONNECT {
        return Ok(Request::Other);
    }
    Ok(Request::Connect(Connect {
        host,
        addr,
        port,
        len: at + 2,
    }))
}

/// A host name as a proxy would resolve it: letters, digits, `-`, `_` and dots, 1 to 253
/// bytes, or an address written out (which also passes: digits, dots, and for IPv6 hex and
/// colons).
fn is_host(name: &[u8]) -> bool {
    (1..=253).contains(&name.len())
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect(buf: &[u8]) -> Connect<'_> {
        match parse_client(buf) {
            Ok(Request::Connect(c)) => c,
            other => panic!("{buf:x?}: {other:?}"),
        }
    }

    /// Every proper prefix of a request is `Incomplete`.
    fn prefixes_wait(buf: &[u8]) {
        for end in 0..buf.len() {
            assert_eq!(
                parse_client(&buf[..end]),
                Err(ProtoError::Incomplete),
                "{:x?}",
                &buf[..end]
            );
        }
    }

    #[test]
    fn socks5_requests_with_every_address_type_and_with_a_password() {
        let tls = [0x16, 0x03, 0x01];
        // No authentication, a name.
        let mut by_name = vec![5, 1, 0, 5, 1, 0, 3, 11];
        by_name.extend(b"chatgpt.com");
        by_name.extend([0x01, 0xbb]);
        prefixes_wait(&by_name);
        let request_len = by_name.len();
        by_name.extend(tls);
        let c = connect(&by_name);
        assert_eq!(
            (c.host, c.addr, c.port, c.len),
            (Some(&b"chatgpt.com"[..]), None, 443, request_len)
        );
        // Username and password offered and sent; an IPv4 address.
        let mut with_password = vec![5, 2, 0, 2, 1, 5];
        with_password.extend(b"alice");
        with_password.push(6);
        with_password.extend(b"secret");
        with_password.extend([5, 1, 0, 1, 104, 18, 32, 47, 0, 80]);
        prefixes_wait(&with_password);
        let c = connect(&with_password);
        assert_eq!(c.addr, Some(IpAddr::from([104, 18, 32, 47])));
        assert_eq!((c.host, c.port, c.len), (None, 80, with_password.len()));
        // IPv6.
        let mut v6 = vec![5, 1, 0, 5, 1, 0, 4];
        v6.extend([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        v6.extend([0x01, 0xbb]);
        assert_eq!(connect(&v6).addr, Some("2001:db8::1".parse().unwrap()));
        // UDP ASSOCIATE: SOCKS, but nothing tunnelled here.
        let udp = [5, 1, 0, 5, 3, 0, 1, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_client(&udp), Ok(Request::Other));
    }

    #[test]
    fn socks4_and_4a_requests() {
        let mut plain = vec![4, 1, 0, 80, 93, 184, 216, 119];
        plain.extend(b"bob\0");
        prefixes_wait(&plain);
        let c = connect(&plain);
        assert_eq!(c.addr, Some(IpAddr::from([93, 184, 216, 119])));
        assert_eq!((c.host, c.port, c.len), (None, 80, plain.len()));
        let mut named = vec![4, 1, 0x01, 0xbb, 0, 0, 0, 1, 0];
        named.extend(b"api.openai.com\0");
        prefixes_wait(&named);
        let c = connect(&named);
        assert_eq!(
            (c.host, c.addr, c.port),
            (Some(&b"api.openai.com"[..]), None, 443)
        );
        assert_eq!(c.len, named.len());
    }

    #[test]
    fn what_does_not_fit_every_field_is_not_socks() {
        for bytes in [
            &b"GET / HTTP/1.1\r\n"[..],
            &[0x16, 3, 1, 0, 5],
            // SOCKS 5: no methods; the proxy's "no acceptable method"; password not offered;
            // a request with a bad version, command, reserved byte, address type or host.
            &[5, 0],
            &[5, 1, 0xff, 5],
            &[5, 1, 0, 1, 5, 1],
            &[5, 1, 0, 4, 1, 0, 1],
            &[5, 1, 0, 5, 9, 0, 1],
            &[5, 1, 0, 5, 1, 1, 1],
            &[5, 1, 0, 5, 1, 0, 2],
            &[5, 1, 0, 5, 1, 0, 3, 3, b'a', b' ', b'b', 0, 80],
            &[5, 1, 0, 5, 1, 0, 3, 0, 0, 80],
            // SOCKS 4: bad command, port 0, a user id that is not text, a 4a host that is not a name.
            &[4, 7, 0, 80, 1, 2, 3, 4, 0],
            &[4, 1, 0, 0, 1, 2, 3, 4, 0],
            &[4, 1, 0, 80, 1, 2, 3, 4, 0x07, 0],
            &[4, 1, 0, 80, 0, 0, 0, 1, 0, b'a', b'/', 0],
        ] {
            assert!(
                matches!(parse_client(bytes), Err(ProtoError::Invalid(_))),
                "{bytes:x?}: {:?}",
                parse_client(bytes)
            );
        }
        // A user id that never ends.
        let mut long = vec![4, 1, 0, 80, 1, 2, 3, 4];
        long.extend([b'u'; 300]);
        assert!(matches!(parse_client(&long), Err(ProtoError::Invalid(_))));
    }

    #[test]
    fn mutations_never_panic() {
        let mut base = vec![5, 2, 0, 2, 1, 5];
        base.extend(b"alice\x06secret");
        base.extend([5, 1, 0, 3, 11]);
        base.extend(b"chatgpt.com");
        base.extend([0x01, 0xbb, 0x16, 3, 1]);
        for end in 0..=base.len() {
            let _ = parse_client(&base[..end]);
        }
        let mut seed = 0x2545_f491_4f6c_dd1d;
        crate::testkit::mutations(&base, 20_000, 2, &mut seed, |mutated| {
            if let Ok(Request::Connect(c)) = parse_client(mutated) {
                assert!(c.len <= mutated.len());
            }
        });
    }
}
