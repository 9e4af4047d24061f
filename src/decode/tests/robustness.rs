//! No input may panic the decoder: every prefix of every real frame, and random mutations of
//! them fed through one long-lived decoder (so the fragment table churns too).

use super::fixtures::*;
use super::*;
use crate::capture::RawPacket;
use crate::decode::{frag, Decoded, Decoder};

/// Every fixture with the link type it was captured on.
fn all_fixtures() -> Vec<(u32, Vec<u8>)> {
    let ethernet = [
        QINQINQ_TCP,
        PPPOE_QINQ,
        PPPOE_DISCOVERY,
        GENEVE_IPV4_TCP,
        GENEVE_ETHERNET_ICMP,
        PPTP_ICMP,
        PPTP_ACK,
        GTP_UDP,
        TEREDO_ICMPV6,
        CISCO_METADATA_TCP,
        ICMP_UNREACHABLE,
        IP4_TRUNC,
        IP6_TRUNC,
        SYN_FRAG_ETH_1,
        SYN_FRAG_ETH_2,
        IP6_FRAG_1,
        IP6_FRAG_7,
        OVERLONG_FRAG_1,
        OVERLONG_FRAG_3,
        OVERLAP_FRAG_2,
        OVERLAP_FRAG_5,
    ];
    let mut all: Vec<(u32, Vec<u8>)> = ethernet.iter().map(|text| (1, hex(text))).collect();
    for (link_type, text) in [
        (276, SLL2_ICMP),
        (113, SLL_ARP),
        (113, SLL_TCP),
        (0, NULL_UDP),
        (0, NULL_IPV6_TCP),
        (101, RAW_IPV4),
        (101, RAW_IPV6),
        (228, IPV4_DNS),
        (229, IPV6_DNS),
        (9, PPP_QUIC),
        (239, NFLOG_TCP),
        (228, TCP_SYN_FRAG_1),
        (228, TCP_SYN_FRAG_3),
    ] {
        all.push((link_type, hex(text)));
    }
    let pppoe = hex(PPPOE_QINQ);
    all.push((51, pppoe[22..].to_vec()));
    all.push((50, hex(&format!("ff 03 {PPP_QUIC}"))));
    all
}

#[test]
fn every_prefix_of_every_frame() {
    let mut decoder = Decoder::new();
    for (link_type, data) in all_fixtures() {
        for cut in 0..=data.len() {
            let pkt = RawPacket {
                orig_len: data.len() as u32,
                ..packet(link_type, &data[..cut], cut as u64)
            };
            if let Ok(Decoded::Ip(meta)) = decoder.decode(&pkt) {
                assert!(meta.payload.len() <= cut);
            }
        }
    }
}

/// xorshift64*: a small deterministic generator, so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: usize) -> usize {
        (self.next() % bound.max(1) as u64) as usize
    }
}

#[test]
fn random_mutations_never_panic() {
    let fixtures = all_fixtures();
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    // one long-lived decoder, so mutated fragments also churn the reassembly table
    let mut decoder = Decoder::new();
    let mut outcomes = [0usize; 3];
    for round in 0..60_000u64 {
        let (link_type, original) = &fixtures[rng.below(fixtures.len())];
        let mut data = original.clone();
        for _ in 0..=rng.below(4) {
            let at = rng.below(data.len());
            match rng.below(3) {
                0 => data[at] ^= 1 << rng.below(8),
                1 => data[at] = rng.next() as u8,
                _ => data[at] = [0x00, 0xff, 0x45, 0x60, 0x2c, 0x11][rng.below(6)],
            }
        }
        if rng.below(4) == 0 {
            data.truncate(rng.below(data.len() + 1));
        }
        let pkt = packet(*link_type, &data, round * 1_000_000);
        let index = match decoder.decode(&pkt) {
            Ok(Decoded::Ip(meta)) => {
                assert!(meta.payload.len() <= 65_535);
                0
            }
            Ok(_) => 1,
            Err(_) => 2,
        };
        outcomes[index] += 1;
    }
    // the mutations reach all outcomes, i.e. they exercise more than the first check
    assert!(outcomes.iter().all(|&count| count > 1000), "{outcomes:?}");
    assert!(decoder.stats().in_progress <= frag::MAX_DATAGRAMS as u64);
}
