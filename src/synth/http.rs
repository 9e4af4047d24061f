//! Plain HTTP/1.1 messages: a GET with Host and User-Agent, a response with Content-Length,
//! and printable filler bodies.
//!
//! Enough for the auditor's Host and User-Agent extraction and for a dissector to read the
//! messages; no chunked encoding, no compression, no HTTP/2.

use super::XorShift64;

/// A GET request with the headers a browser or device always sends.
pub fn get_request(host: &str, path: &str, user_agent: &str) -> Vec<u8> {
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\nAccept: */*\r\n\
         Accept-Encoding: identity\r\nConnection: keep-alive\r\n\r\n"
    )
    .into_bytes()
}

/// A response whose Content-Length is the body's length.
pub fn response(status: u16, reason: &str, content_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cache-Control: max-age=604800\r\nConnection: keep-alive\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// `len` bytes of printable text (lower-case words and spaces, a newline now and then).
pub fn text_body(len: usize, rng: &mut XorShift64) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz     \n";
    rng.bytes(len)
        .into_iter()
        .map(|byte| {
            let index = usize::from(byte) % ALPHABET.len();
            ALPHABET.get(index).copied().unwrap_or(b' ')
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn request_has_host_and_user_agent() {
        let request = get_request("example.com", "/", "curl/8.5.0");
        let text = String::from_utf8(request).unwrap();
        assert!(
            text.starts_with("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.5.0\r\n")
        );
        assert!(text.ends_with("\r\n\r\n"));
    }

    #[test]
    fn response_length_matches_body() {
        let mut rng = XorShift64::new(5);
        let body = text_body(1234, &mut rng);
        assert!(body
            .iter()
            .all(|b| b.is_ascii_lowercase() || *b == b' ' || *b == b'\n'));
        let bytes = response(200, "OK", "text/html", &body);
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.contains("Content-Length: 1234\r\n"));
        let head_end = text.find("\r\n\r\n").unwrap() + 4;
        assert_eq!(bytes.len() - head_end, 1234);
    }
}
