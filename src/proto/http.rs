//! HTTP/1.x request heads: the method, the request target, `Host` and `User-Agent`.
//!
//! Used on client bytes of TCP flows (any port) and on UDP datagrams (SSDP speaks HTTP over UDP
//! 1900). It reads only the request line and header names it needs; it never keeps a body and
//! never allocates: every field borrows from the input.

use super::{ProtoError, ProtoResult};

/// Longest request head we wait for; anything longer is not worth buffering.
pub const MAX_HEAD: usize = 8 * 1024;

/// Methods we recognise at the start of a client stream (RFC 9110, WebDAV, SSDP).
const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"PUT",
    b"HEAD",
    b"DELETE",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"REPORT",
    b"SEARCH",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
];

/// The parts of a request head that name where the request goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead<'a> {
    pub method: &'a [u8],
    /// The request target as sent: `/path`, `http://host/path`, `host:port` (CONNECT) or `*`.
    pub target: &'a [u8],
    /// Every `Host` header value, trimmed (a request normally has one).
    pub host: Option<&'a [u8]>,
    pub user_agent: Option<&'a [u8]>,
    /// Bytes of the head including the blank line that ends it.
    pub head_len: usize,
}

impl RequestHead<'_> {
    pub fn is_connect(&self) -> bool {
        self.method == b"CONNECT"
    }

    /// The host named by an absolute-form target (`http://host:port/...`), as proxies receive.
    pub fn absolute_uri_authority(&self) -> Option<&[u8]> {
        let rest = strip_prefix_ignore_case(self.target, b"http://")
            .or_else(|| strip_prefix_ignore_case(self.target, b"https://"))?;
        let end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?' || b == b'#')
            .unwrap_or(rest.len());
        let authority = rest.get(..end)?;
        // Drop userinfo if any.
        let authority = match authority.iter().rposition(|&b| b == b'@') {
            Some(at) => authority.get(at + 1..)?,
            None => authority,
        };
        (!authority.is_empty()).then_some(authority)
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| s.get(prefix.len()..))
        .flatten()
}

/// Cheap test on the first bytes of a stream: could this be an HTTP request line?
/// `Incomplete` means "too short to tell yet".
pub fn maybe_request(prefix: &[u8]) -> ProtoResult<()> {
    // A method is at most 11 bytes: a space further on cannot end one, so a binary segment
    // costs 12 byte checks, not a scan of the whole segment.
    let token_end = prefix.iter().take(12).position(|&b| b == b' ');
    match token_end {
        Some(n) => {
            let token = prefix.get(..n).unwrap_or_default();
            if METHODS.contains(&token) {
                Ok(())
            } else {
                Err(ProtoError::Invalid("not an http method"))
            }
        }
        None => {
            // No space yet: keep waiting only while the bytes are a prefix of some method.
            if prefix.len() < 12 && METHODS.iter().any(|m| m.starts_with(prefix)) {
                Err(ProtoError::Incomplete)
            } else {
                Err(ProtoError::Invalid("not an http method"))
            }
        }
    }
}

/// Parses the request head at the start of `buf`. `Incomplete` until the blank line arrives
/// (or `MAX_HEAD` bytes, after which the head is `Invalid`).
pub fn parse_request_head(buf: &[u8]) -> ProtoResult<RequestHead<'_>> {
    maybe_request(buf)?;
    let window = buf.get(..buf.len().min(MAX_HEAD)).unwrap_or_default();
    // One pass, line end to line end by memchr, up to the blank line (`\n\n` or `\n\r\n`)
    // that ends the head: the first line is the request line, the others header lines.
    let mut request_line = None;
    let mut host = None;
    let mut user_agent = None;
    let mut head_len = None;
    let mut line_start = 0;
    for end in memchr::memchr_iter(b'\n', window) {
        let line = trim_cr(window.get(line_start..end).unwrap_or_default());
        line_start = end + 1;
        if request_line.is_none() {
            request_line = Some(line);
            continue;
        }
        if line.is_empty() {
            head_len = Some(end + 1);
            break;
        }
        note_header(line, &mut host, &mut user_agent);
    }
    let (Some(head_len), Some(request_line)) = (head_len, request_line) else {
        return Err(if buf.len() >= MAX_HEAD {
            ProtoError::Invalid("http head too long")
        } else {
            ProtoError::Incomplete
        });
    };
    let (method, target) = request_line_parts(request_line)?;
    Ok(RequestHead {
        method,
        target,
        host,
        user_agent,
        head_len,
    })
}

/// The method and target of a request line (the version is the last token: some clients put
/// more between target and version, `CONNECT host:25 / HTTP/1.0`, and servers and tshark
/// accept that).
fn request_line_parts(line: &[u8]) -> ProtoResult<(&[u8], &[u8])> {
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let method = parts
        .next()
        .ok_or(ProtoError::Invalid("empty request line"))?;
    let target = parts
        .next()
        .ok_or(ProtoError::Invalid("request line without target"))?;
    let version = parts.next_back().unwrap_or_default();
    if !version.starts_with(b"HTTP/") {
        return Err(ProtoError::Invalid("request line without HTTP version"));
    }
    Ok((method, target))
}

/// Takes a header line's value if it is the first `Host` or `User-Agent`. Only a line that
/// starts like either is searched for its colon: a head's other lines cost one byte check.
fn note_header<'a>(line: &'a [u8], host: &mut Option<&'a [u8]>, user_agent: &mut Option<&'a [u8]>) {
    if !matches!(line.first(), Some(b'h' | b'H' | b'u' | b'U')) {
        return;
    }
    let Some(colon) = memchr::memchr(b':', line) else {
        return;
    };
    let name = line.get(..colon).unwrap_or_default();
    let slot = if name.eq_ignore_ascii_case(b"host") {
        host
    } else if name.eq_ignore_ascii_case(b"user-agent") {
        user_agent
    } else {
        return;
    };
    // A field value may not hold a NUL (RFC 9110 §5.5); one that does ends there, as tshark
    // and C string servers read it (and as DHCP's names are read).
    let value = line.get(colon + 1..).unwrap_or_default();
    let value = memchr::memchr(0, value).map_or(value, |nul| value.get(..nul).unwrap_or_default());
    slot.get_or_insert(trim_ows(value));
}

fn trim_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = s {
        s = rest;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_fit_the_token_window() {
        // `maybe_request` looks for the space after the method in the first 12 bytes only.
        assert!(METHODS.iter().all(|m| m.len() < 12));
        let mut long = b"POST /upload HTTP/1.1\r\n".to_vec();
        long.splice(0..0, vec![0u8; 4000]);
        assert!(maybe_request(&long).is_err());
    }

    #[test]
    fn get_with_host() {
        let req = b"GET /index.html HTTP/1.1\r\nhOsT:  www.example.com:8080 \r\nUser-Agent: curl/8\r\n\r\nbody";
        let head = parse_request_head(req).unwrap();
        assert_eq!(head.method, b"GET");
        assert_eq!(head.host, Some(&b"www.example.com:8080"[..]));
        assert_eq!(head.user_agent, Some(&b"curl/8"[..]));
        assert_eq!(head.head_len, req.len() - 4);
        assert_eq!(head.absolute_uri_authority(), None);
    }

    #[test]
    fn a_value_ends_at_a_nul() {
        let req = b"POST /x HTTP/1.1\r\nHost:%s\x002.20.3.5\r\nUser-Agent: a \x00b\r\n\r\n";
        let head = parse_request_head(req).unwrap();
        assert_eq!(head.host, Some(&b"%s"[..]));
        assert_eq!(head.user_agent, Some(&b"a"[..]));
        let empty = parse_request_head(b"GET / HTTP/1.1\r\nHost: \x00x\r\n\r\n").unwrap();
        assert_eq!(empty.host, Some(&b""[..]));
    }

    #[test]
    fn connect_and_absolute_uri() {
        let c = parse_request_head(b"CONNECT api.openai.com:443 HTTP/1.1\r\n\r\n").unwrap();
        assert!(c.is_connect());
        assert_eq!(c.target, b"api.openai.com:443");
        let p = parse_request_head(b"GET http://user@chatgpt.com:80/x?y HTTP/1.0\n\n").unwrap();
        assert_eq!(p.absolute_uri_authority(), Some(&b"chatgpt.com:80"[..]));
        assert_eq!(p.host, None);
    }

    #[test]
    fn extra_token_before_version() {
        let c = parse_request_head(b"CONNECT mail.example.net:25 / HTTP/1.0\r\n\r\n").unwrap();
        assert_eq!(c.target, b"mail.example.net:25");
        assert!(parse_request_head(b"GET / \r\n\r\n").is_err());
    }

    #[test]
    fn ssdp_over_udp() {
        let m =
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n\r\n";
        assert_eq!(
            parse_request_head(m).unwrap().host,
            Some(&b"239.255.255.250:1900"[..])
        );
    }

    #[test]
    fn incomplete_and_invalid() {
        assert_eq!(parse_request_head(b"GE"), Err(ProtoError::Incomplete));
        assert_eq!(
            parse_request_head(b"GET / HTTP/1.1\r\nHost: a"),
            Err(ProtoError::Incomplete)
        );
        assert!(matches!(
            parse_request_head(b"\x16\x03\x01\x02\x00"),
            Err(ProtoError::Invalid(_))
        ));
        assert!(matches!(
            parse_request_head(b"HTTP/1.1 200 OK\r\n\r\n"),
            Err(ProtoError::Invalid(_))
        ));
        let long = [b"GET / HTTP/1.1\r\nX: ".as_slice(), &[b'a'; MAX_HEAD]].concat();
        assert!(matches!(
            parse_request_head(&long),
            Err(ProtoError::Invalid(_))
        ));
    }

    /// The parser as it was before it became one pass (the head's end found first, then its
    /// lines read), kept to check the one pass's lines and end against (the request line and
    /// header lines are read by the same helpers).
    fn two_pass(buf: &[u8]) -> ProtoResult<RequestHead<'_>> {
        maybe_request(buf)?;
        let head_len = match find_head_end(buf) {
            Some(n) => n,
            None if buf.len() >= MAX_HEAD => return Err(ProtoError::Invalid("http head too long")),
            None => return Err(ProtoError::Incomplete),
        };
        let head = buf.get(..head_len).unwrap_or_default();
        // Line ends by memchr; only a line that starts like "host" or "user-agent" is searched for
        // its colon (a head's other lines cost one byte check each).
        let mut line_start = 0;
        let mut lines = memchr::memchr_iter(b'\n', head)
            .chain(std::iter::once(head.len()))
            .map(|end| {
                let line = trim_cr(head.get(line_start..end).unwrap_or_default());
                line_start = end + 1;
                line
            });
        let (method, target) = request_line_parts(lines.next().unwrap_or_default())?;
        let mut host = None;
        let mut user_agent = None;
        for line in lines {
            note_header(line, &mut host, &mut user_agent);
        }
        Ok(RequestHead {
            method,
            target,
            host,
            user_agent,
            head_len,
        })
    }

    /// Index just past the `\r\n\r\n` (or bare `\n\n`) that ends a head.
    fn find_head_end(buf: &[u8]) -> Option<usize> {
        let limit = buf.len().min(MAX_HEAD);
        let window = buf.get(..limit)?;
        // memchr jumps from line end to line end (a byte-by-byte loop was 5% of an audit).
        for i in memchr::memchr_iter(b'\n', window) {
            match window.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') if window.get(i + 2) == Some(&b'\n') => return Some(i + 3),
                _ => {}
            }
        }
        None
    }

    /// The one pass gives what the two passes gave: on every prefix of heads of every shape
    /// (bare and CR line ends, a blank first line, a head at and past `MAX_HEAD`), and on
    /// each of them with any one byte changed to a line end, a CR, a space or a colon.
    #[test]
    fn one_pass_as_two() {
        let pad = vec![b'a'; MAX_HEAD - 40];
        let heads: Vec<Vec<u8>> = vec![
            b"GET /index.html HTTP/1.1\r\nhOsT:  www.example.com:8080 \r\nUser-Agent: curl/8\r\n\r\nbody".to_vec(),
            b"POST http://x.test/ HTTP/1.1\nHost: x.test\nHost: y\nUser-Agent:\n\nrest".to_vec(),
            b"CONNECT mail.example.net:25 / HTTP/1.0\r\n\r\n".to_vec(),
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\n\r\n".to_vec(),
            b"GET / \r\n\r\n".to_vec(),
            b"GET\r\n\r\n\r\n".to_vec(),
            b"GET / HTTP/1.1\r\n\r\r\n\r\n".to_vec(),
            [b"GET / HTTP/1.1\r\nX: ".as_slice(), &pad, b"\r\nHost: h\r\n\r\n"].concat(),
            [b"GET / HTTP/1.1\r\nX: ".as_slice(), &pad, b"\r\n\r\n"].concat(),
        ];
        let mut checked = 0;
        for head in &heads {
            let step = (head.len() / 300).max(1);
            for n in (0..=head.len()).step_by(step).chain([head.len()]) {
                let prefix = &head[..n];
                assert_eq!(parse_request_head(prefix), two_pass(prefix), "{prefix:?}");
                checked += 1;
            }
            let step = (head.len() / 120).max(1);
            for at in (0..head.len()).step_by(step) {
                for b in [b'\n', b'\r', b' ', b':'] {
                    let mut changed = head.clone();
                    changed[at] = b;
                    assert_eq!(
                        parse_request_head(&changed),
                        two_pass(&changed),
                        "{changed:?}"
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 2000);
    }

    #[test]
    fn every_prefix_is_safe() {
        let req = b"POST http://x.test/ HTTP/1.1\r\nHost: x.test\r\nUser-Agent: a\r\n\r\n";
        for n in 0..req.len() {
            let _ = parse_request_head(&req[..n]);
        }
        assert!(parse_request_head(req).is_ok());
    }
}
