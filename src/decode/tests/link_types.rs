//! One or more real frames per link type and tunnel, checked against tshark's reading.

use super::fixtures::*;
use super::*;
use crate::decode::{DecodeError, Decoded, Decoder, Transport};

#[test]
fn ethernet_with_three_vlan_tags() {
    let data = hex(QINQINQ_TCP);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 7));
    assert_eq!(meta.src_mac, mac("c8bcc896d2a0"));
    assert_eq!(meta.dst_mac, mac("0010db88d2ef"));
    assert_eq!(meta.vlan, Some(30), "the outermost tag");
    assert_eq!(meta.src_ip.to_string(), "141.142.228.5");
    assert_eq!(meta.dst_ip.to_string(), "192.150.187.43");
    assert_eq!((meta.src_port, meta.dst_port), (59856, 80));
    assert_eq!(
        meta.transport,
        Transport::Tcp {
            seq: 4_263_588_411,
            ack: 2_779_762_239,
            flags: 0x10
        }
    );
    assert_eq!((meta.ip_len, meta.wire_len, meta.ts_nanos), (52, 78, 7));
    assert!(meta.payload.is_empty());
    assert!(!meta.payload_truncated);
}

#[test]
fn snaplen_cut_is_reported_not_refused() {
    let data = hex(QINQINQ_TCP);
    // cut inside the TCP options: ports and flags are still there
    let cut = &data[..26 + 20 + 24];
    let mut decoder = Decoder::new();
    let pkt = RawPacket {
        orig_len: 78,
        ..packet(1, cut, 0)
    };
    let meta = ip_of(&mut decoder, &pkt);
    assert_eq!((meta.src_port, meta.dst_port, meta.ip_len), (59856, 80, 52));
    assert!(meta.payload_truncated);
    assert_eq!(meta.wire_len, 78);
    // UDP payload cut
    let data = hex(RAW_IPV4);
    let meta = ip_of(&mut decoder, &packet(101, &data[..40], 0));
    assert_eq!((meta.payload.len(), meta.payload_truncated), (12, true));
    assert_eq!(meta.ip_len, 57);
}

#[test]
fn linux_cooked_captures() {
    let data = hex(SLL2_ICMP);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(276, &data, 0));
    assert_eq!(meta.src_mac, Some([0; 6]));
    assert_eq!(meta.dst_mac, None);
    assert_eq!(meta.src_ip.to_string(), "192.0.2.1");
    assert_eq!(
        (meta.transport, meta.src_port, meta.ip_len),
        (Transport::Icmp, 0, 84)
    );
    assert_eq!(meta.payload.len(), 64);

    let data = hex(SLL_TCP);
    let meta = ip_of(&mut decoder, &packet(113, &data, 0));
    assert_eq!(meta.src_mac, mac("080027191c78"));
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_ip.to_string()),
        (s("10.0.0.8"), s("212.199.202.69"))
    );
    assert_eq!((meta.src_port, meta.dst_port, meta.ip_len), (40800, 80, 52));

    let data = hex(SLL_ARP);
    match decoder.decode(&packet(113, &data, 0)).unwrap() {
        Decoded::NonIp {
            src_mac,
            dst_mac,
            ethertype,
            payload,
        } => {
            assert_eq!(src_mac, mac("080027191c78"));
            assert_eq!(dst_mac, None);
            assert_eq!((ethertype, payload.len()), (0x0806, 28));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bsd_null_loopback() {
    assert_eq!(
        summary(0, NULL_UDP),
        (
            s("172.16.1.117"),
            s("172.16.1.255"),
            55369,
            8612,
            Transport::Udp,
            44,
            16
        )
    );
    let (src, dst, sport, dport, transport, ip_len, _) = summary(0, NULL_IPV6_TCP);
    assert_eq!(
        (src.as_str(), dst.as_str(), sport, dport, ip_len),
        (
            "2001:4998:ef83:14:8000::100d",
            "2606:4700::6811:d209",
            64034,
            443,
            60
        )
    );
    assert!(matches!(
        transport,
        Transport::Tcp {
            seq: 857_026_347,
            ..
        }
    ));
    // OpenBSD DLT_LOOP (108) has the family in network order: the same frame, byte-swapped
    let mut data = hex(NULL_UDP);
    data[..4].copy_from_slice(&[0, 0, 0, 2]);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(108, &data, 0));
    assert_eq!((meta.src_mac, meta.dst_port), (None, 8612));
}

#[test]
fn raw_ip_link_types() {
    let v4 = (
        s("192.168.1.100"),
        s("9.9.9.9"),
        12345,
        53,
        Transport::Udp,
        57,
        29,
    );
    for link_type in [101, 12, 14] {
        assert_eq!(summary(link_type, RAW_IPV4), v4);
    }
    assert_eq!(summary(228, IPV4_DNS), v4);
    let v6 = (
        s("2001:db8::1"),
        s("2620:fe::9"),
        12345,
        53,
        Transport::Udp,
        77,
        29,
    );
    assert_eq!(summary(101, RAW_IPV6), v6);
    assert_eq!(summary(229, IPV6_DNS), v6);
    // 228 does not look at the version: an IPv6 packet there is malformed
    let mut decoder = Decoder::new();
    let data = hex(IPV6_DNS);
    assert_eq!(
        decoder.decode(&packet(228, &data, 0)),
        Err(DecodeError::Malformed("ipv4 bad version"))
    );
}

#[test]
fn ppp_link_types() {
    let expected = (
        s("193.167.0.100"),
        s("193.167.100.100"),
        40628,
        443,
        Transport::Udp,
        60,
        32,
    );
    assert_eq!(summary(9, PPP_QUIC), expected);
    // the same frame in HDLC-like framing (ff 03), as LINKTYPE_PPP and LINKTYPE_PPP_HDLC
    let framed = format!("ff 03 {PPP_QUIC}");
    assert_eq!(summary(9, &framed), expected);
    assert_eq!(summary(50, &framed), expected);
}

#[test]
fn pppoe_over_two_vlan_tags_and_as_link_type() {
    let data = hex(PPPOE_QINQ);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!(meta.src_mac, Some([0; 6]));
    assert_eq!(meta.dst_mac, mac("000000000001"));
    assert_eq!(meta.vlan, Some(0x0e78));
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_ip.to_string()),
        (s("1.1.1.1"), s("2.2.2.2"))
    );
    assert_eq!(
        (meta.src_port, meta.dst_port, meta.ip_len),
        (20394, 443, 40)
    );
    assert!(
        meta.payload.is_empty(),
        "Ethernet padding cut by the IP length"
    );
    // LINKTYPE_PPP_ETHER (51): the same frame from the PPPoE header on
    let meta = ip_of(&mut decoder, &packet(51, &data[22..], 0));
    assert_eq!((meta.src_mac, meta.vlan, meta.dst_port), (None, None, 443));
    // PPPoE discovery is not IP
    let data = hex(PPPOE_DISCOVERY);
    assert!(matches!(
        decoder.decode(&packet(1, &data, 0)),
        Ok(Decoded::NonIp {
            ethertype: 0x8863,
            ..
        })
    ));
}

#[test]
fn nflog() {
    let (src, dst, sport, dport, transport, ip_len, payload) = summary(239, NFLOG_TCP);
    assert_eq!(
        (src.as_str(), dst.as_str(), sport, dport, ip_len, payload),
        ("10.0.2.15", "93.184.216.34", 49762, 80, 40, 0)
    );
    assert!(matches!(
        transport,
        Transport::Tcp {
            seq: 1_060_289_314,
            ack: 1_131_905_606,
            ..
        }
    ));
}

#[test]
fn geneve_inner_ip_and_inner_ethernet() {
    let data = hex(GENEVE_IPV4_TCP);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!(meta.src_mac, mac("12951b72539d"), "outer MAC");
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_ip.to_string()),
        (s("10.3.30.122"), s("34.117.200.186"))
    );
    assert_eq!(
        (meta.src_port, meta.dst_port, meta.ip_len),
        (63891, 443, 52)
    );
    assert_eq!(
        meta.transport,
        Transport::Tcp {
            seq: 707_000_180,
            ack: 0,
            flags: 0xc2
        }
    );
    assert_eq!(meta.wire_len, 134);

    let data = hex(GENEVE_ETHERNET_ICMP);
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!(
        meta.src_mac,
        mac("001b213cab64"),
        "outer, not the inner frame's"
    );
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_ip.to_string()),
        (s("30.0.0.1"), s("30.0.0.2"))
    );
    assert_eq!((meta.transport, meta.ip_len), (Transport::Icmp, 84));
}

/// The router of the frames below.
const ROUTER: [u8; 6] = [0x00, 0x11, 0x32, 0, 0, 0x01];

/// A 29-byte UDP datagram to the router's DNS port from `device` at 192.168.1.`host`, port
/// 53000, framed with `l2` (the project's writer).
fn dns_query_frame(device: [u8; 6], host: u8, l2: crate::synth::frame::L2Options) -> Vec<u8> {
    use crate::synth::frame::{udp_frame, Endpoint, IpIdent};
    let from = Endpoint::new(device, std::net::IpAddr::from([192, 168, 1, host]), 53_000);
    let to = Endpoint::new(ROUTER, std::net::IpAddr::from([192, 168, 1, 1]), 53);
    udp_frame(&from, &to, l2, IpIdent::default(), &[0x12; 29]).unwrap()
}

/// Checks that `meta` is `dns_query_frame(device, 10, _)` itself, read from inside a tunnel:
/// the device's MACs (not the tunnel's), address, port and payload.
fn assert_relayed_dns_query(meta: &PacketMeta<'_>, device: [u8; 6], case: &dyn std::fmt::Debug) {
    assert_eq!(
        (meta.src_mac, meta.dst_mac),
        (Some(device), Some(ROUTER)),
        "{case:?}"
    );
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_port, meta.payload.len()),
        (s("192.168.1.10"), 53, 29),
        "{case:?}"
    );
}

/// A switch's remote mirror: ERSPAN types I, II and III over GRE (frames the project's writer
/// makes; tshark reads them as ERSPAN with the same inner frame). The mirrored frame's MACs and
/// VLAN are the device's, not the switch's; ARP inside is the network's ARP.
#[test]
fn erspan_reports_the_mirrored_frame_with_its_own_addresses() {
    use crate::synth::frame::L2Options;
    use crate::synth::mirror::{erspan, Erspan, SWITCH};
    let device = [0x3c, 0x22, 0xfb, 0, 0, 0x10];
    let tagged = L2Options {
        vlan: Some(20),
        ..L2Options::default()
    };
    let dns = dns_query_frame(device, 10, tagged);
    let arp = crate::synth::arp::arp_request(
        L2Options::default(),
        device,
        std::net::Ipv4Addr::new(192, 168, 1, 10),
        std::net::Ipv4Addr::new(192, 168, 1, 1),
    )
    .unwrap();
    for kind in [Erspan::TypeI, Erspan::TypeII, Erspan::TypeIII] {
        let data = erspan(&dns, kind, 5, 1).unwrap();
        let mut decoder = Decoder::new();
        let meta = ip_of(&mut decoder, &packet(1, &data, 0));
        assert_relayed_dns_query(&meta, device, &kind);
        assert_eq!(meta.vlan, Some(20), "{kind:?}");
        let data = erspan(&arp, kind, 5, 2).unwrap();
        match decoder.decode(&packet(1, &data, 0)) {
            Ok(Decoded::NonIp {
                src_mac, ethertype, ..
            }) => assert_eq!((src_mac, ethertype), (Some(device), 0x0806), "{kind:?}"),
            other => panic!("{kind:?}: {other:?}"),
        }
    }
    // An ERSPAN II header of another version is not opened: the GRE packet is what is seen.
    let mut data = erspan(&dns, Erspan::TypeII, 5, 1).unwrap();
    data[14 + 20 + 8] = 0x70;
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!(
        (meta.transport, meta.src_mac),
        (Transport::Other(47), Some(SWITCH.0))
    );
}

/// A Wi-Fi access point's CAPWAP data channel to its controller (frames the project's writer
/// makes; tshark reads them as CAPWAP with the station's frame inside, the swapped one with its
/// default "Swap Frame Control", the other with it off): the station's 802.11
/// frame, its frame control as sent or swapped as Cisco sends it, or its Ethernet frame. The
/// station's MACs are the packet's, not the access point's.
#[test]
fn capwap_reports_the_stations_frame_with_its_own_addresses() {
    use crate::synth::frame::L2Options;
    use crate::synth::mirror::{capwap, Capwap, ACCESS_POINT};
    use crate::synth::wifi::ethernet_to_80211;
    let station = [0x1c, 0xab, 0xa7, 0, 0, 0x9d];
    let dns = dns_query_frame(station, 10, L2Options::default());
    let wifi = ethernet_to_80211(&dns, station, ACCESS_POINT.0).unwrap();
    let cases = [
        (Capwap::Native, &wifi),
        (Capwap::NativeSwapped, &wifi),
        (Capwap::Ethernet, &dns),
    ];
    for (kind, frame) in cases {
        let data = capwap(frame, kind).unwrap();
        let mut decoder = Decoder::new();
        let meta = ip_of(&mut decoder, &packet(1, &data, 0));
        assert_relayed_dns_query(&meta, station, &kind);
    }
    // A data channel packet that is not CAPWAP (another preamble) stays the UDP packet seen.
    let mut data = capwap(&wifi, Capwap::Native).unwrap();
    data[14 + 20 + 8] = 0x10;
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!((meta.dst_port, meta.src_mac), (5247, Some(ACCESS_POINT.0)));
}

/// MPLS over Ethernet inside a VLAN (a frame the project's writer makes, read the same by
/// tshark): two labels, the second the bottom of the stack, then IPv4 by its version nibble.
#[test]
fn mpls_labels_then_ip() {
    use crate::synth::frame::{udp_frame, Endpoint, IpIdent, L2Options};
    let from = Endpoint::new(
        [2, 0, 0, 0, 0, 1],
        std::net::IpAddr::from([10, 1, 0, 1]),
        5000,
    );
    let to = Endpoint::new(
        [2, 0, 0, 0, 0, 2],
        std::net::IpAddr::from([10, 2, 0, 1]),
        53,
    );
    let tagged = L2Options {
        vlan: Some(30),
        ..L2Options::default()
    };
    let plain = udp_frame(&from, &to, tagged, IpIdent::default(), &[7; 12]).unwrap();
    // After the VLAN tag: the MPLS EtherType, label 100, label 200 (bottom of stack), TTL 64.
    let labelled = |stack: &[[u8; 4]], rest: &[u8]| {
        let mut frame = plain[..16].to_vec();
        frame.extend([0x88, 0x47]);
        for label in stack {
            frame.extend(label);
        }
        frame.extend(rest);
        frame
    };
    let (upper, bottom) = ([0x00, 0x06, 0x40, 0x40], [0x00, 0x0c, 0x81, 0x40]);
    let data = labelled(&[upper, bottom], &plain[18..]);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!(meta.vlan, Some(30));
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_port, meta.payload.len()),
        (s("10.1.0.1"), 53, 12)
    );
    // A pseudowire (control word, then Ethernet) is not IP; a cut or endless stack is damage.
    let data = labelled(&[bottom], &[0, 0, 0, 0, 2, 0, 0, 0, 0, 3]);
    assert!(matches!(
        decoder.decode(&packet(1, &data, 0)),
        Ok(Decoded::NonIp {
            ethertype: 0x8847,
            ..
        })
    ));
    let data = labelled(&[upper], &[0, 0]);
    assert_eq!(
        decoder.decode(&packet(1, &data, 0)),
        Err(DecodeError::Malformed("mpls label truncated"))
    );
    let data = labelled(&[upper; 9], &plain[18..]);
    assert_eq!(
        decoder.decode(&packet(1, &data, 0)),
        Err(DecodeError::Malformed("too many mpls labels"))
    );
}

#[test]
fn pptp_gre() {
    assert_eq!(
        summary(1, PPTP_ICMP),
        (
            s("17.1.1.122"),
            s("40.0.0.2"),
            0,
            0,
            Transport::Icmp,
            84,
            64
        )
    );
    // an acknowledgement with no PPP inside is the outer GRE packet
    assert_eq!(
        summary(1, PPTP_ACK),
        (
            s("20.0.0.2"),
            s("20.0.0.1"),
            0,
            0,
            Transport::Other(47),
            32,
            12
        )
    );
}

#[test]
fn gtp_u_inside_two_vlan_tags() {
    let data = hex(GTP_UDP);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(1, &data, 0));
    assert_eq!(meta.vlan, Some(0x0d42));
    assert_eq!(
        (meta.src_ip.to_string(), meta.dst_ip.to_string()),
        (s("10.140.117.35"), s("193.122.35.237"))
    );
    assert_eq!((meta.src_port, meta.dst_port), (45634, 8801));
    assert_eq!((meta.ip_len, meta.payload.len()), (109, 81));
}

#[test]
fn teredo() {
    assert_eq!(
        summary(1, TEREDO_ICMPV6),
        (
            s("fe80::ffff:ffff:fffe"),
            s("ff02::2"),
            0,
            0,
            Transport::Icmp,
            48,
            8
        )
    );
}

#[test]
fn cisco_metadata_tag() {
    let (src, dst, sport, dport, _, ip_len, _) = summary(1, CISCO_METADATA_TCP);
    assert_eq!(
        (src.as_str(), dst.as_str(), sport, dport, ip_len),
        ("10.1.1.14", "64.100.1.197", 60238, 443, 40)
    );
}

#[test]
fn icmp_errors_report_the_icmp_packet_not_the_quoted_one() {
    // tshark's "innermost" view shows the quoted TCP header here; a flow is the ICMP message.
    assert_eq!(
        summary(1, ICMP_UNREACHABLE),
        (
            s("74.134.3.114"),
            s("192.168.1.2"),
            0,
            0,
            Transport::Icmp,
            56,
            36
        )
    );
}

#[test]
fn truncated_headers_are_counted_errors() {
    let mut decoder = Decoder::new();
    let data = hex(IP4_TRUNC);
    assert_eq!(
        decoder.decode(&packet(1, &data, 0)),
        Err(DecodeError::Malformed("ipv4 header truncated"))
    );
    let data = hex(IP6_TRUNC);
    assert_eq!(
        decoder.decode(&packet(1, &data, 0)),
        Err(DecodeError::Malformed("ipv6 header truncated"))
    );
    assert_eq!(
        decoder.decode(&packet(163, &data, 0)),
        Err(DecodeError::UnsupportedLinkType(163))
    );
}

/// A Mac's `pktap` capture (frames the project's writer makes; tshark reads them as PKTAP with
/// the same inner frame): the header names the frame's own link type, which is read as a
/// capture of that type is. A record that carries no frame is non-IP; a header shorter than
/// 108 bytes (Wireshark's minimum), cut, or naming PKTAP again is refused.
#[test]
fn pktap_reads_the_frame_by_the_link_type_it_names() {
    use crate::synth::frame::L2Options;
    use crate::synth::pktap::{pktap, Process, LINKTYPE_PKTAP};
    let (device, router) = ([0xa4, 0x83, 0xe7, 0, 0, 0x23], ROUTER);
    let frame = dns_query_frame(device, 23, L2Options::default());
    let process = Process {
        interface: "en0",
        pid: 311,
        command: "mDNSResponder",
        outgoing: true,
    };
    let link = u32::from(LINKTYPE_PKTAP);
    let check = |data: &[u8], macs: (Option<[u8; 6]>, Option<[u8; 6]>)| {
        let mut decoder = Decoder::new();
        let meta = ip_of(&mut decoder, &packet(link, data, 0));
        assert_eq!((meta.src_mac, meta.dst_mac), macs);
        assert_eq!(
            (meta.src_ip.to_string(), meta.dst_port, meta.payload.len()),
            (s("192.168.1.23"), 53, 29)
        );
    };
    // Ethernet (Wi-Fi too, on a Mac), a tunnel's raw IP (DLT_RAW, 12), loopback (DLT_NULL).
    let ethernet = pktap(&frame, 1, process).unwrap();
    check(&ethernet, (Some(device), Some(router)));
    check(&pktap(&frame[14..], 12, process).unwrap(), (None, None));
    let mut looped = 2u32.to_le_bytes().to_vec();
    looped.extend_from_slice(&frame[14..]);
    check(&pktap(&looped, 0, process).unwrap(), (None, None));

    // A header longer than 108 bytes (a later macOS): the frame starts where the length says.
    let mut longer = ethernet[..108].to_vec();
    longer[0] = 156;
    longer.resize(156, 0);
    longer.extend_from_slice(&frame);
    check(&longer, (Some(device), Some(router)));

    // Record type 0: nothing follows the header.
    let mut empty = ethernet[..108].to_vec();
    empty[4] = 0;
    assert!(matches!(
        Decoder::new().decode(&packet(link, &empty, 0)),
        Ok(Decoded::NonIp { .. })
    ));

    let mut short = ethernet.clone();
    short[0] = 104;
    let mut nested = ethernet.clone();
    nested[8..10].copy_from_slice(&258u16.to_le_bytes());
    for (data, error) in [
        (
            &ethernet[..100],
            DecodeError::Malformed("pktap header truncated"),
        ),
        (&short[..], DecodeError::Malformed("pktap header too short")),
        (&nested[..], DecodeError::UnsupportedLinkType(258)),
    ] {
        assert_eq!(
            Decoder::new().decode(&packet(link, data, 0)).unwrap_err(),
            error
        );
    }
    for cut in 0..ethernet.len() {
        let _ = Decoder::new().decode(&packet(link, &ethernet[..cut], 0));
    }
}
