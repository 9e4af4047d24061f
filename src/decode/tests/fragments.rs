//! Fragment reassembly through the whole decoder: real fragments in every order, a first
//! fragment shorter than the TCP header, IPv6, expiry, fragments inside tunnelled fragments.

use super::fixtures::*;
use super::*;
use crate::decode::{DecodeError, Decoded, Decoder, Transport, MAX_IP_LAYERS};

#[test]
fn tiny_tcp_fragments_in_every_order() {
    let frames = [TCP_SYN_FRAG_1, TCP_SYN_FRAG_2, TCP_SYN_FRAG_3].map(hex);
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    for order in orders {
        let mut decoder = Decoder::new();
        for (step, &index) in order.iter().enumerate() {
            let pkt = packet(228, &frames[index], step as u64);
            let result = decoder.decode(&pkt).unwrap();
            if step < 2 {
                assert_eq!(result, Decoded::FragmentHeld, "order {order:?}");
                continue;
            }
            let Decoded::Ip(meta) = result else {
                panic!("order {order:?}: {result:?}")
            };
            assert_eq!(
                (meta.src_ip.to_string(), meta.dst_ip.to_string()),
                (s("1.1.1.1"), s("2.2.2.2"))
            );
            assert_eq!((meta.src_port, meta.dst_port), (12345, 8080));
            assert_eq!(
                meta.transport,
                Transport::Tcp {
                    seq: 1,
                    ack: 0,
                    flags: 0x02
                }
            );
            assert_eq!((meta.ip_len, meta.payload.len()), (44, 0));
            assert_eq!(meta.wire_len, 28, "the completing frame's");
        }
        let stats = decoder.stats();
        assert_eq!(
            (stats.fragments, stats.fragments_held, stats.reassembled),
            (3, 2, 1)
        );
        assert_eq!(stats.in_progress, 0);
    }
}

#[test]
fn first_fragment_shorter_than_the_tcp_header() {
    // zeek/fragmented-syn.pcap: 24 bytes of a 40-byte TCP header, then the rest
    let first = hex(SYN_FRAG_ETH_1);
    let second = hex(SYN_FRAG_ETH_2);
    let mut decoder = Decoder::new();
    assert_eq!(
        decoder.decode(&packet(1, &first, 0)),
        Ok(Decoded::FragmentHeld)
    );
    let meta = ip_of(&mut decoder, &packet(1, &second, 1));
    assert_eq!((meta.src_port, meta.dst_port, meta.ip_len), (12345, 80, 60));
    assert!(matches!(meta.transport, Transport::Tcp { seq: 1000, .. }));
    assert_eq!(meta.src_mac, mac("98eecbbd07fe"));
}

#[test]
fn ipv6_fragments_out_of_order() {
    let frames = [
        IP6_FRAG_1, IP6_FRAG_2, IP6_FRAG_3, IP6_FRAG_4, IP6_FRAG_5, IP6_FRAG_6, IP6_FRAG_7,
    ]
    .map(hex);
    let mut decoder = Decoder::new();
    // the last fragment first, then the others backwards; the first fragment completes it
    for (step, index) in [6, 5, 4, 3, 2, 1].into_iter().enumerate() {
        let pkt = packet(1, &frames[index], step as u64);
        assert_eq!(decoder.decode(&pkt), Ok(Decoded::FragmentHeld));
    }
    let meta = ip_of(&mut decoder, &packet(1, &frames[0], 9));
    assert_eq!(meta.src_ip.to_string(), "fe80::21f:f3ff:fecd:f617");
    assert_eq!(meta.dst_ip.to_string(), "ff02::fb");
    assert_eq!((meta.src_port, meta.dst_port), (5353, 5353));
    assert_eq!(meta.transport, Transport::Udp);
    // 90 * 8 bytes + the last fragment's 21; the UDP length says 737
    assert_eq!((meta.ip_len, meta.payload.len()), (40 + 741, 729));
    // the reassembled payload starts where the first fragment's UDP payload starts
    let first = &frames[0];
    assert_eq!(
        meta.payload[..16],
        first[14 + 40 + 8 + 8..14 + 40 + 8 + 8 + 16]
    );
    assert_eq!(decoder.stats().reassembled, 1);
}

#[test]
fn fragment_running_past_the_last_one_drops_the_datagram() {
    // zeek/fragmented-1.pcap: the last fragment says 164 bytes, then a first fragment brings 304.
    // tshark reassembles 164 bytes anyway (a malformed NTP packet); Linux drops the datagram, and
    // so does this decoder.
    let frames = [OVERLONG_FRAG_1, OVERLONG_FRAG_2, OVERLONG_FRAG_3].map(hex);
    let mut decoder = Decoder::new();
    for frame in &frames[..2] {
        assert_eq!(
            decoder.decode(&packet(1, frame, 0)),
            Ok(Decoded::FragmentHeld)
        );
    }
    assert_eq!(
        decoder.decode(&packet(1, &frames[2], 0)),
        Err(DecodeError::Malformed("ip fragments disagree on length"))
    );
    assert_eq!(decoder.stats().inconsistent, 1);
    assert_eq!(decoder.stats().in_progress, 0);
}

#[test]
fn overlapping_fragments_keep_the_bytes_that_came_first() {
    // zeek/fragmented-4.pcap: fragment 5 (offset 24, 48 bytes) overlaps fragment 3 (offset 48),
    // which arrived earlier; the earlier bytes are kept. (tshark lets the lower offset win and
    // shows fragment 5's bytes there.)
    let frames = [
        OVERLAP_FRAG_2,
        OVERLAP_FRAG_3,
        OVERLAP_FRAG_4,
        OVERLAP_FRAG_5,
    ]
    .map(hex);
    let mut decoder = Decoder::new();
    for frame in &frames[..3] {
        assert_eq!(
            decoder.decode(&packet(1, frame, 0)),
            Ok(Decoded::FragmentHeld)
        );
    }
    let meta = ip_of(&mut decoder, &packet(1, &frames[3], 0));
    assert_eq!(
        (meta.src_port, meta.dst_port, meta.ip_len),
        (7790, 80, 20 + 89)
    );
    assert_eq!(
        meta.payload,
        &b"GET /msadc/..%2f../..%2f../..%2f../winnt/system32/cmd.exe?/c+dir+c:\\\n"[..]
    );
    assert_eq!(decoder.stats().fragments_overlapping, 1);
}

#[test]
fn stale_fragments_expire_on_capture_time() {
    let frames = [IP6_FRAG_1, IP6_FRAG_7].map(hex);
    let mut decoder = Decoder::new();
    assert_eq!(
        decoder.decode(&packet(1, &frames[0], 0)),
        Ok(Decoded::FragmentHeld)
    );
    let late = 31_000_000_000;
    assert_eq!(
        decoder.decode(&packet(1, &frames[1], late)),
        Ok(Decoded::FragmentHeld)
    );
    assert_eq!(decoder.stats().expired, 1);
    assert_eq!(decoder.stats().in_progress, 1);
}

/// A hand-built IPv4 header (no options) in front of `payload`.
fn ipv4(
    protocol: u8,
    id: u16,
    offset_units: u16,
    more: bool,
    last_octet: u8,
    payload: &[u8],
) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let flags = offset_units | if more { 0x2000 } else { 0 };
    let mut packet = vec![0x45, 0];
    packet.extend_from_slice(&total.to_be_bytes());
    packet.extend_from_slice(&id.to_be_bytes());
    packet.extend_from_slice(&flags.to_be_bytes());
    packet.extend_from_slice(&[64, protocol, 0, 0, 10, 0, 0, last_octet, 10, 0, 0, 99]);
    packet.extend_from_slice(payload);
    packet
}

#[test]
fn fragments_inside_fragments() {
    // inner datagram: UDP 1000 -> 53 with 24 bytes of payload, cut into two inner fragments
    let mut udp = vec![0x03, 0xe8, 0x00, 0x35, 0x00, 32, 0, 0];
    udp.extend((0u8..24).map(|n| n + 0x40));
    let inner_1 = ipv4(17, 77, 0, true, 1, &udp[..16]);
    let inner_2 = ipv4(17, 77, 2, false, 1, &udp[16..]);
    // each inner fragment travels in an outer IPv4-in-IPv4 packet, itself cut in two
    let mut decoder = Decoder::new();
    let mut results = Vec::new();
    for (outer_id, inner) in [(500u16, &inner_1), (501, &inner_2)] {
        let head = ipv4(4, outer_id, 0, true, 2, &inner[..16]);
        let tail = ipv4(4, outer_id, 2, false, 2, &inner[16..]);
        results.push(format!(
            "{:?}",
            decoder.decode(&packet(228, &head, 0)).unwrap()
        ));
        match decoder.decode(&packet(228, &tail, 0)).unwrap() {
            Decoded::Ip(meta) => {
                assert_eq!(meta.src_ip.to_string(), "10.0.0.1");
                assert_eq!((meta.src_port, meta.dst_port), (1000, 53));
                assert_eq!(meta.payload, &udp[8..]);
                assert_eq!(meta.ip_len, 20 + 32);
                results.push("ip".into());
            }
            other => results.push(format!("{other:?}")),
        }
    }
    assert_eq!(
        results,
        ["FragmentHeld", "FragmentHeld", "FragmentHeld", "ip"]
    );
    assert_eq!(decoder.stats().reassembled, 3);
}

#[test]
fn tunnel_nesting_is_bounded() {
    let mut packet_bytes = ipv4(17, 1, 0, false, 1, &[0, 1, 0, 2, 0, 8, 0, 0]);
    for depth in 2..=6 {
        packet_bytes = ipv4(4, depth, 0, false, 1, &packet_bytes);
        let mut decoder = Decoder::new();
        let result = decoder.decode(&packet(228, &packet_bytes, 0));
        if usize::from(depth) <= MAX_IP_LAYERS {
            assert!(matches!(result, Ok(Decoded::Ip(meta)) if meta.dst_port == 2));
        } else {
            assert_eq!(
                result,
                Err(DecodeError::Malformed("tunnel nesting too deep"))
            );
        }
    }
}

/// A first fragment cut by the snap length (nDPI's badpackets.pcap: DNS responses of 1,500-byte
/// first fragments captured to 489 bytes) can never be reassembled, but its own headers and
/// captured bytes are read as any cut packet's are; a later fragment cut short is malformed,
/// one captured whole waits in the table.
#[test]
fn first_fragment_cut_by_the_snap_length_is_read_as_far_as_it_goes() {
    let mut udp = vec![0, 53, 0x3f, 0x7a, 0x0d, 0x65, 0, 0];
    udp.extend((0..1000u32).map(|i| i as u8));
    let first = ipv4(17, 0x5151, 0, true, 1, &udp);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(228, &first[..200], 0));
    assert_eq!((meta.src_port, meta.dst_port), (53, 16250));
    assert_eq!(meta.transport, Transport::Udp);
    assert_eq!((meta.ip_len, meta.payload.len()), (1028, 172));
    assert!(meta.payload_truncated);
    assert_eq!(meta.payload, &udp[8..180]);
    let second = ipv4(17, 0x5151, 126, false, 1, &[7; 400]);
    assert_eq!(
        decoder.decode(&packet(228, &second[..200], 1)),
        Err(DecodeError::Malformed("ip fragment truncated"))
    );
    assert_eq!(
        decoder.decode(&packet(228, &second, 2)),
        Ok(Decoded::FragmentHeld)
    );
    assert_eq!(decoder.stats().reassembled, 0);
    // IPv6: the fragment header, then the UDP header of the first of seven fragments.
    let first6 = hex(IP6_FRAG_1);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &first6[..100], 0));
    assert_eq!((meta.src_port, meta.dst_port), (5353, 5353));
    assert_eq!(meta.payload.len(), 100 - 14 - 40 - 8 - 8);
    assert!(meta.payload_truncated);
}
