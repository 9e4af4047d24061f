//! Pure parsers over borrowed bytes, one protocol per file. None of them panics: each says
//! `Incomplete` (more bytes of the same stream may complete it) apart from `Invalid` (give up).

/// Why a parser could not return a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtoError {
    /// The bytes so far are a valid prefix; more bytes of the same stream may complete it.
    Incomplete,
    /// The bytes are not this protocol, or are malformed beyond use; the reason is static text.
    Invalid(&'static str),
}

pub type ProtoResult<T> = Result<T, ProtoError>;

pub mod arp;
pub mod dhcp;
pub mod dhcpv6;
pub mod dns;
pub mod http;
pub mod http2;
pub mod netbios;
pub mod quic;
pub mod socks;
pub mod tls;
