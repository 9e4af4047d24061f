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
    /// The keys of the current CRYPTO stream's DCID, once a later Initial needed them.
    keys: Option<InitialKeys>,
    version: Option<Version>,
    /// The version whose keys opened the stream's first Initial (`version` itself, but for a
    /// reserved version).
    keys_of: Option<Version>,
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
    /// Bytes this flow's state takes in its shard's map (its key, itself, its buffers), for
    /// the shard's reassembly budget.
    pub(super) fn held(&self) -> usize {
        std::mem::size_of::<(std::net::SocketAddr, std::net::SocketAddr, QuicFlow)>()
            + self.dcid.capacity()
            + self.assembler.held()
    }

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
                if self.version.is_none() || new_stream {
                    // The stream's keys are derived when a later Initial needs them: most
                    // hellos are whole in the first, which derived its own.
                    self.keys = None;
                    self.version = Some(info.version);
                    self.keys_of = Some(info.keys_of);
                    self.dcid = info.dcid.to_vec();
                }
                if let Some(fresh) = fresh {
                    self.assembler = fresh;
                }
            }
            Err(_) => {
                // Later client Initials carry the server's connection ID but keep the keys of
                // the first one.
                let (Some(version), Some(keys_of)) = (self.version, self.keys_of) else {
                    return self.failed();
                };
                if self.keys.is_none() {
                    self.keys = InitialKeys::derive_as(version, keys_of, &self.dcid, Side::Client);
                }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::quic::build::{build_client_initials, seal_initial};
    use crate::proto::tls::build::build_client_hello;

    /// A ClientHello over three Initials: the first under the client's own DCID, the others
    /// under the server's connection ID and still the first DCID's keys, as a client sends
    /// them once the server's Initial came. Only the later ones need the flow's keys.
    #[test]
    fn later_initials_open_with_the_first_dcids_keys() {
        let hello = build_client_hello(Some("chat.mistral.ai"), &["h3"], true, 0)[5..].to_vec();
        let dcid = [0x5a; 8];
        let keys = InitialKeys::derive(Version::V1, &dcid, Side::Client).unwrap();
        // The rest of the hello, in two CRYPTO frames, under the server's connection ID.
        let cut = hello.len() / 2;
        let later: Vec<Vec<u8>> = [(cut / 2, cut), (cut, hello.len())]
            .iter()
            .enumerate()
            .map(|(n, &(start, end))| {
                let mut frames = vec![0x06, 0x44, 0x00, 0x44, 0x00];
                frames[1..3].copy_from_slice(&(0x4000 | start as u16).to_be_bytes());
                frames[3..5].copy_from_slice(&(0x4000 | (end - start) as u16).to_be_bytes());
                frames.extend_from_slice(&hello[start..end]);
                frames.resize(1150, 0);
                seal_initial(&keys, b"server-cid", &[], 2, 1 + n as u64, &frames)
            })
            .collect();
        // The first Initial's CRYPTO data up to `cut / 2` only: build it again from a hello
        // cut there (its frames hold the hello's first bytes at the same offsets).
        let head = build_client_initials(Version::V1, &dcid, &[], &hello[..cut / 2], 1200, None);
        assert_eq!(head.len(), 1);
        let mut flow = QuicFlow::default();
        let mut scratch = Vec::new();
        assert!(matches!(
            flow.client_datagram(&head[0], &mut scratch),
            Step::Wait
        ));
        assert!(
            flow.keys.is_none(),
            "no keys derived while the own DCID opens the Initials"
        );
        assert!(matches!(
            flow.client_datagram(&later[0], &mut scratch),
            Step::Wait
        ));
        match flow.client_datagram(&later[1], &mut scratch) {
            Step::Hello(hello) => assert_eq!(hello.sni(), Some("chat.mistral.ai")),
            _ => panic!("no hello"),
        }
    }
}
