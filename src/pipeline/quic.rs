//! Following the client side of a UDP flow through its QUIC Initial packets until the
//! ClientHello (or Google QUIC CHLO) inside names it.
//!
//! Per flow: the keys of its first client Initial, the DCID its CRYPTO stream belongs to, and a
//! bounded CRYPTO assembler. Datagrams that are not QUIC long headers cost one header check
//! (`quic::peek`); a flow gives up after a few Initials that do not decrypt, and is never
//! decrypted again once named.

use crate::proto::quic::{self, CryptoAssembler, Hello, InitialKeys, PacketType, Side, Version};
use crate::proto::ProtoError;

/// Client Initials that may fail to decrypt before the flow is given up.
const MAX_FAILURES: u8 = 4;
/// Client datagrams looked at in all: a ClientHello never needs more Initials than this.
const MAX_DATAGRAMS: u16 = 32;

#[derive(Default)]
pub(super) struct QuicFlow {
    keys: Option<InitialKeys>,
    version: Option<Version>,
    /// The DCID whose keys opened the current CRYPTO stream.
    dcid: Vec<u8>,
    assembler: CryptoAssembler,
    failures: u8,
    datagrams: u16,
}

/// What one client datagram did for the flow.
pub(super) enum Step {
    /// More Initials needed.
    Wait,
    /// The client's hello, complete.
    Hello(Hello),
    /// Undecryptable or malformed beyond hope.
    GiveUp,
}

impl QuicFlow {
    /// One datagram the client sent.
    pub(super) fn client_datagram(&mut self, datagram: &[u8], scratch: &mut Vec<u8>) -> Step {
        self.datagrams += 1;
        if self.datagrams > MAX_DATAGRAMS {
            return Step::GiveUp;
        }
        let Some(peek) = quic::peek(datagram) else {
            return Step::Wait;
        };
        if !peek.has_client_hello_candidate() {
            return Step::Wait;
        }
        if peek.packet_type == PacketType::GoogleCleartext {
            return match quic::gquic_chlo(datagram) {
                Ok(Some(chlo)) => Step::Hello(Hello::Google(chlo)),
                Ok(None) | Err(ProtoError::Incomplete) => Step::Wait,
                Err(ProtoError::Invalid(_)) => self.failed(),
            };
        }
        // A DCID other than the current stream's may start a new CRYPTO stream (the client's
        // Initial after a Retry): collect it apart until it decrypts under its own keys.
        let new_stream = !self.dcid.is_empty() && self.dcid != peek.dcid;
        let mut fresh = new_stream.then(CryptoAssembler::new);
        let mut grew = false;
        let own = {
            let target = fresh.as_mut().unwrap_or(&mut self.assembler);
            quic::client_initial_crypto(datagram, scratch, |offset, data| {
                grew |= target.add(offset, data);
            })
        };
        match own {
            Ok(info) => {
                if self.keys.is_none() || new_stream {
                    self.keys = InitialKeys::derive(info.version, info.dcid, Side::Client);
                    self.version = Some(info.version);
                    self.dcid = info.dcid.to_vec();
                }
                if let Some(fresh) = fresh {
                    self.assembler = fresh;
                }
            }
            Err(_) => {
                // Later client Initials carry the server's connection ID but keep the keys of
                // the first one.
                let Some(keys) = self.keys.as_ref() else {
                    return self.failed();
                };
                let assembler = &mut self.assembler;
                let with_keys =
                    quic::client_initial_crypto_with_keys(datagram, keys, scratch, |o, d| {
                        grew |= assembler.add(o, d);
                    });
                if with_keys.is_err() {
                    return self.failed();
                }
            }
        }
        if !grew {
            return Step::Wait;
        }
        let Some(version) = self.version else {
            return Step::Wait;
        };
        match quic::parse_crypto_hello(version, self.assembler.contiguous()) {
            Ok(hello) => Step::Hello(hello),
            Err(ProtoError::Incomplete) if !self.assembler.truncated() => Step::Wait,
            Err(_) => Step::GiveUp,
        }
    }

    fn failed(&mut self) -> Step {
        self.failures += 1;
        if self.failures >= MAX_FAILURES {
            Step::GiveUp
        } else {
            Step::Wait
        }
    }
}
