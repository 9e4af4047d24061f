//! Real frames from the public corpus (`../shared/corpus`), as hex, for the decoder's tests.
//! Taken with `tshark -r FILE -x -Y frame.number==N`; each comment names the file and frame.
#![allow(dead_code)]

/// zeek/vlan-qinqinq.pcap frame 3.
pub(super) const QINQINQ_TCP: &str = "00 10 db 88 d2 ef c8 bc c8 96 d2 a0 81 00 00 1e
    81 00 00 14 81 00 00 0a 08 00 45 00 00 34 cc 9f
    40 00 40 06 80 ce 8d 8e e4 05 c0 96 bb 2b e9 d0
    00 50 fe 21 32 3b a5 af ce 3f 80 10 20 2b 75 3b
    00 00 01 01 08 0a 16 4a dd 66 2f 89 42 59";
/// zeek/linux_dlt_sll2.pcap frame 1.
pub(super) const SLL2_ICMP: &str = "08 00 00 00 00 00 00 01 03 04 00 06 00 00 00 00
    00 00 00 00 45 00 00 54 af 8c 40 00 40 01 07 1a
    c0 00 02 01 c0 00 02 01 08 00 66 b4 00 08 00 01
    e9 bd f9 62 00 00 00 00 e2 4e 0d 00 00 00 00 00
    10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f
    20 21 22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f
    30 31 32 33 34 35 36 37";
/// pcapplusplus/sll.pcap frame 10.
pub(super) const SLL_ARP: &str = "00 04 00 01 00 06 08 00 27 19 1c 78 00 00 08 06
    00 01 08 00 06 04 00 01 08 00 27 19 1c 78 0a 00
    00 08 00 00 00 00 00 00 0a 00 00 8a";
/// pcapplusplus/null_loopback.pcap frame 2.
pub(super) const NULL_UDP: &str = "02 00 00 00 45 00 00 2c c1 69 00 00 40 11 5d c3
    ac 10 01 75 ac 10 01 ff d8 49 21 a4 00 18 17 ae
    42 4a 4e 42 02 01 00 00 00 00 00 00 00 00 00 00";
/// ja4/ipv6.pcapng frame 3.
pub(super) const NULL_IPV6_TCP: &str = "1e 00 00 00 60 02 5b ab 00 14 06 40 20 01 49 98
    ef 83 00 14 80 00 00 00 00 00 10 0d 26 06 47 00
    00 00 00 00 00 00 00 00 68 11 d2 09 fa 22 01 bb
    33 15 2f 2b 60 c8 39 da 50 10 10 00 16 b4 00 00";
/// tcpdump/LINKTYPE_RAW_ipv4.pcap frame 1.
pub(super) const RAW_IPV4: &str = "45 00 00 39 00 01 00 00 40 11 a6 95 c0 a8 01 64
    09 09 09 09 30 39 00 35 00 25 19 76 12 34 01 00
    00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65
    03 63 6f 6d 00 00 01 00 01";
/// tcpdump/LINKTYPE_RAW_ipv6.pcap frame 1.
pub(super) const RAW_IPV6: &str = "60 00 00 00 00 25 11 40 20 01 0d b8 00 00 00 00
    00 00 00 00 00 00 00 01 26 20 00 fe 00 00 00 00
    00 00 00 00 00 00 00 09 30 39 00 35 00 25 98 b3
    12 34 01 00 00 01 00 00 00 00 00 00 07 65 78 61
    6d 70 6c 65 03 63 6f 6d 00 00 01 00 01";
/// tcpdump/LINKTYPE_IPV4.pcap frame 1.
pub(super) const IPV4_DNS: &str = "45 00 00 39 00 01 00 00 40 11 a6 95 c0 a8 01 64
    09 09 09 09 30 39 00 35 00 25 19 76 12 34 01 00
    00 01 00 00 00 00 00 00 07 65 78 61 6d 70 6c 65
    03 63 6f 6d 00 00 01 00 01";
/// tcpdump/LINKTYPE_IPV6.pcap frame 1.
pub(super) const IPV6_DNS: &str = "60 00 00 00 00 25 11 40 20 01 0d b8 00 00 00 00
    00 00 00 00 00 00 00 01 26 20 00 fe 00 00 00 00
    00 00 00 00 00 00 00 09 30 39 00 35 00 25 98 b3
    12 34 01 00 00 01 00 00 00 00 00 00 07 65 78 61
    6d 70 6c 65 03 63 6f 6d 00 00 01 00 01";
/// mercury/quic_ppp.pcap frame 12.
pub(super) const PPP_QUIC: &str = "00 21 45 00 00 3c 00 00 40 00 3f 11 53 9a c1 a7
    00 64 c1 a7 64 64 9e b4 01 bb 00 28 44 a7 42 0c
    52 a8 e1 66 d6 db 3a e1 b5 7c f3 04 48 a1 63 99
    01 fb 34 3c 7b ef 8d e3 31 41 55 24 8f 6b";
/// zeek/pppoe-over-qinq.pcap frame 3.
pub(super) const PPPOE_QINQ: &str = "00 00 00 00 00 01 00 00 00 00 00 00 81 00 0e 78
    81 00 09 aa 88 64 11 00 0f 07 00 2a 00 21 45 00
    00 28 00 00 40 00 3f 06 35 cb 01 01 01 01 02 02
    02 02 4f aa 01 bb d7 a8 41 56 fc 90 a2 ff 50 10
    10 00 8f da 00 00";
/// zeek/nflog-http.pcap frame 13.
pub(super) const NFLOG_TCP: &str = "02 00 00 2a 08 00 01 00 00 00 03 00 05 00 0a 00
    00 00 00 00 08 00 05 00 00 00 00 02 2c 00 09 00
    45 00 00 28 24 7f 40 00 40 06 d4 67 0a 00 02 0f
    5d b8 d8 22 c2 62 00 50 3f 32 bb 22 43 77 82 46
    50 10 7d 78 6d ad 00 00";
/// mercury/geneve.pcap frame 42.
pub(super) const GENEVE_IPV4_TCP: &str = "12 18 70 93 c3 8b 12 95 1b 72 53 9d 08 00 45 00
    00 78 00 00 00 00 ff 11 7d b4 0a 02 14 f4 0a 02
    14 c9 f0 9c 17 c1 00 64 2e 2b 08 00 08 00 00 00
    00 00 01 08 01 02 35 1a 88 b4 ac b3 5a 32 01 08
    02 02 00 00 00 00 00 00 00 00 01 08 03 01 16 53
    aa 8a 45 02 00 34 70 a1 40 00 7f 06 77 74 0a 03
    1e 7a 22 75 c8 ba f9 93 01 bb 2a 23 f7 74 00 00
    00 00 80 c2 f5 07 2d b4 00 00 02 04 20 b5 01 03
    03 08 01 01 04 02";
/// mercury/geneve.pcap frame 1.
pub(super) const GENEVE_ETHERNET_ICMP: &str = "00 1b 21 3c ac 30 00 1b 21 3c ab 64 08 00 45 00
    00 8e df ad 40 00 40 11 32 af 14 00 00 01 14 00
    00 02 31 4a 17 c1 00 7a 00 00 02 40 65 58 00 00
    0a 00 00 00 80 01 00 00 00 0c fe 71 d8 83 72 4f
    b6 9e d2 49 51 48 08 00 45 00 00 54 bd a2 40 00
    40 01 41 04 1e 00 00 01 1e 00 00 02 08 00 2c 54
    29 52 00 17 f1 a2 ce 54 00 00 00 00 17 78 0c 00
    00 00 00 00 10 11 12 13 14 15 16 17 18 19 1a 1b
    1c 1d 1e 1f 20 21 22 23 24 25 26 27 28 29 2a 2b
    2c 2d 2e 2f 30 31 32 33 34 35 36 37";
/// mercury/capture2.pcap frame 3379.
pub(super) const PPTP_ICMP: &str = "00 09 e9 55 c0 1c 00 14 00 00 02 00 08 00 45 00
    00 78 18 d8 00 00 40 2f 39 7d 14 00 00 02 14 00
    00 01 30 01 88 0b 00 58 00 18 00 00 00 07 ff 03
    00 21 45 00 00 54 11 01 00 00 40 01 2f 2c 11 01
    01 7a 28 00 00 02 08 00 45 00 18 2b 00 01 00 00
    00 00 53 c6 83 80 00 00 00 00 00 03 04 b7 10 11
    12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f 20 21
    22 23 24 25 26 27 28 29 2a 2b 2c 2d 2e 2f 30 31
    32 33 34 35 36 37";
/// mercury/capture2.pcap frame 3378.
pub(super) const PPTP_ACK: &str = "00 09 e9 55 c0 1c 00 14 00 00 02 00 08 00 45 00
    00 20 18 d7 00 00 40 2f 39 d6 14 00 00 02 14 00
    00 01 20 81 88 0b 00 00 00 18 00 00 00 06";
/// ndpi/zoom.pcap frame 701.
pub(super) const GTP_UDP: &str = "00 00 00 00 00 00 00 01 02 00 00 fa 81 00 4d 42
    81 00 40 71 08 00 45 30 00 91 ca 1b 00 00 ff 11
    b3 13 0a 86 19 43 0a 84 0f b0 08 68 08 68 00 7d
    79 48 30 ff 00 6d 04 98 66 5c 45 00 00 6d f5 eb
    00 00 40 11 1f 7e 0a 8c 75 23 c1 7a 23 ed b2 42
    22 61 00 59 b1 e0 03 00 00 00 12 0f fe 98 d2 00
    27 2e c9 01 05 40 dc 83 25 11 9d d2 eb a2 63 7c
    73 28 f1 e9 f1 3b 45 c4 37 93 cc 84 87 8b 46 9e
    82 5c 26 7a 8b 93 5b 8a 44 61 71 dc 2b 73 a7 75
    54 49 5c 17 1d 51 f9 91 d0 82 55 e2 5b c9 10 8e
    98 0c ac f3 23 91 00";
/// mercury/capture2.pcap frame 3524.
pub(super) const TEREDO_ICMPV6: &str = "d0 7a b5 96 cd 0a 00 14 0b 33 33 27 08 00 45 00
    00 59 31 39 00 00 80 11 3f 5d c0 a8 01 65 9d 38
    6a b8 e9 08 0d d8 00 45 b6 e0 00 01 00 00 12 e3
    1d f1 88 42 08 f2 00 60 00 00 00 00 08 3a ff fe
    80 00 00 00 00 00 00 00 00 ff ff ff ff ff fe ff
    02 00 00 00 00 00 00 00 00 00 00 00 00 00 02 85
    00 7d 38 00 00 00 00";
/// mercury/tls_sgt.pcap frame 1945.
pub(super) const CISCO_METADATA_TCP: &str = "24 2a 04 60 1b 9e 74 a2 e6 25 9a c0 89 09 01 01
    00 01 00 02 08 00 45 00 00 28 0c c8 40 00 7d 06
    a3 d0 0a 01 01 0e 40 64 01 c5 eb 4e 01 bb 33 98
    1b 50 ef b1 eb ac 50 10 01 01 4a 4b 00 00";
/// zeek/ip4-trunc.pcap frame 1.
pub(super) const IP4_TRUNC: &str = "00 10 db 88 d2 ef c8 bc c8 96 d2 a0 08 00 45 00
    00 20 00 01";
/// zeek/ip6-trunc.pcap frame 1.
pub(super) const IP6_TRUNC: &str = "ff ff ff ff ff ff 00 00 00 00 00 00 86 dd 60 00
    00 00 00 14 00 40 20 01 04 f8 00 04 00 07 02 e0
    81 ff fe 52 ff ff 20 01 04 f8 00 04 00 07 02 e0";
/// suricata-verify/frag-ip-tcp-syn.pcap frame 1.
pub(super) const TCP_SYN_FRAG_1: &str = "45 00 00 1c 00 01 20 00 40 06 54 d6 01 01 01 01
    02 02 02 02 30 39 1f 90 00 00 00 01";
/// suricata-verify/frag-ip-tcp-syn.pcap frame 2.
pub(super) const TCP_SYN_FRAG_2: &str = "45 00 00 1c 00 01 20 01 40 06 54 d5 01 01 01 01
    02 02 02 02 00 00 00 00 60 02 20 00";
/// suricata-verify/frag-ip-tcp-syn.pcap frame 3.
pub(super) const TCP_SYN_FRAG_3: &str = "45 00 00 1c 00 01 00 02 40 06 74 d4 01 01 01 01
    02 02 02 02 19 0c 00 00 03 03 0e 00";
/// zeek/fragmented-syn.pcap frame 1.
pub(super) const SYN_FRAG_ETH_1: &str = "1e 0b 8b 14 f6 f9 98 ee cb bd 07 fe 08 00 45 00
    00 2c 00 01 20 00 40 06 8e ba c0 a8 01 64 0a 00
    00 05 30 39 00 50 00 00 03 e8 00 00 00 00 a0 02
    20 00 c5 73 00 00 02 04 05 b4";
/// zeek/fragmented-syn.pcap frame 2.
pub(super) const SYN_FRAG_ETH_2: &str = "1e 0b 8b 14 f6 f9 98 ee cb bd 07 fe 08 00 45 00
    00 24 00 01 00 03 40 06 ae bf c0 a8 01 64 0a 00
    00 05 04 02 08 0a 00 bc 61 4e 00 00 00 00 01 03
    03 07";
/// pcapplusplus/ip6_fragments.pcap frame 1.
pub(super) const IP6_FRAG_1: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 80 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 00 01 00 2c 53 23 14 e9
    14 e9 02 e1 f7 7b 00 00 00 00 00 17 00 00 00 0b
    00 01 0b 5f 61 66 70 6f 76 65 72 74 63 70 04 5f
    74 63 70 05 6c 6f 63 61 6c 00 00 0c 80 01 04 5f
    73 6d 62 c0 18 00 0c 80 01 04 5f 72 66 62 c0 18
    00 0c 80 01 06 5f 61 64 69 73 6b c0 18 00 0c 80
    01 08 5f 61 69 72 70 6f 72 74 c0 18 00 0c 80 01
    0d 5f 61 70 70 6c 65 74 76 2d 70 61 69 72 c0 18
    00 0c 80 01 08 5f";
/// pcapplusplus/ip6_fragments.pcap frame 2.
pub(super) const IP6_FRAG_2: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 80 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 00 79 00 2c 53 23 61 70
    70 6c 65 74 76 c0 18 00 0c 80 01 25 5f 30 30 30
    30 30 30 30 30 2d 30 31 33 34 2d 36 39 31 36 2d
    66 66 30 34 2d 38 63 35 64 37 37 64 65 34 32 37
    33 04 5f 73 75 62 0d 5f 68 6f 6d 65 2d 73 68 61
    72 69 6e 67 c0 18 00 0c 80 01 05 5f 64 61 61 70
    c0 18 00 0c 80 01 0d 5f 74 6f 75 63 68 2d 72 65
    6d 6f 74 65 c0 18 00 0c 80 01 05 5f 72 61 6f 70
    c0 18 00 0c 80 01";
/// pcapplusplus/ip6_fragments.pcap frame 3.
pub(super) const IP6_FRAG_3: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 80 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 00 f1 00 2c 53 23 07 5f
    6f 73 78 73 76 72 c0 18 00 0c 80 01 08 52 6f 73
    63 6f 72 69 69 c0 0c 00 ff 80 01 08 52 6f 73 63
    6f 72 69 69 04 5f 66 74 70 c0 18 00 ff 80 01 08
    52 6f 73 63 6f 72 69 69 c0 28 00 ff 80 01 08 52
    6f 73 63 6f 72 69 69 04 5f 73 73 68 c0 18 00 ff
    80 01 08 52 6f 73 63 6f 72 69 69 09 5f 73 66 74
    70 2d 73 73 68 c0 18 00 ff 80 01 0a 43 61 74 73
    20 43 6c 61 77 73";
/// pcapplusplus/ip6_fragments.pcap frame 4.
pub(super) const IP6_FRAG_4: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 80 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 01 69 00 2c 53 23 c0 bc
    00 ff 80 01 1c 69 54 75 6e 65 73 5f 43 74 72 6c
    5f 38 44 34 36 46 33 33 31 33 46 37 37 35 37 37
    41 05 5f 64 61 63 70 c0 18 00 ff 80 01 0a 43 61
    74 73 20 43 6c 61 77 73 c0 a8 00 ff 80 01 14 35
    30 2d 33 37 2d 37 31 2d 37 32 20 52 6f 73 63 6f
    72 69 69 0c 5f 73 6c 65 65 70 2d 70 72 6f 78 79
    04 5f 75 64 70 c0 1d 00 ff 80 01 08 52 6f 73 63
    6f 72 69 69 c0 1d";
/// pcapplusplus/ip6_fragments.pcap frame 5.
pub(super) const IP6_FRAG_5: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 80 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 01 e1 00 2c 53 23 00 ff
    80 01 c1 cd 00 ff 80 01 c0 f6 00 21 00 01 00 00
    00 78 00 08 00 00 00 00 02 24 c1 cd c1 05 00 21
    00 01 00 00 00 78 00 08 00 00 00 00 00 15 c1 cd
    c1 19 00 21 00 01 00 00 00 78 00 08 00 00 00 00
    01 bd c1 cd c1 28 00 21 00 01 00 00 00 78 00 08
    00 00 00 00 00 16 c1 cd c1 3c 00 21 00 01 00 00
    00 78 00 08 00 00 00 00 00 16 c1 cd c1 55 00 21
    00 01 00 00 00 78";
/// pcapplusplus/ip6_fragments.pcap frame 6.
pub(super) const IP6_FRAG_6: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 80 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 02 59 00 2c 53 23 00 08
    00 00 00 00 0e 69 c1 cd c1 66 00 21 00 01 00 00
    00 78 00 08 00 00 00 00 0e 69 c1 cd c1 8f 00 21
    00 01 00 00 00 78 00 08 00 00 00 00 0e 69 c1 cd
    c1 a0 00 21 00 01 00 00 00 78 00 08 00 00 00 00
    f9 99 c1 cd c1 cd 00 1c 00 01 00 00 00 78 00 10
    fe 80 00 00 00 00 00 00 02 1f f3 ff fe cd f6 17
    c1 cd 00 01 00 01 00 00 00 78 00 04 c0 a8 01 03
    00 00 29 05 a0 00";
/// pcapplusplus/ip6_fragments.pcap frame 7.
pub(super) const IP6_FRAG_7: &str = "33 33 00 00 00 fb 00 1f f3 cd f6 17 86 dd 60 00
    00 00 00 1d 2c ff fe 80 00 00 00 00 00 00 02 1f
    f3 ff fe cd f6 17 ff 02 00 00 00 00 00 00 00 00
    00 00 00 00 00 fb 11 00 02 d0 00 2c 53 23 00 11
    94 00 0c 00 04 00 08 00 0b 00 1f f3 cd f6 17 51
    27 c6 b5";
/// zeek/pppoe.pcap frame 1.
pub(super) const PPPOE_DISCOVERY: &str = "ff ff ff ff ff ff cc 05 0e 88 00 00 88 63 11 09
    00 00 00 0c 01 01 00 00 01 03 00 04 64 13 85 18
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00";
/// mercury/capture2.pcap frame 1849.
pub(super) const ICMP_UNREACHABLE: &str = "00 04 76 96 7b da 00 16 e3 19 27 15 08 00 45 00
    00 38 4c 04 00 00 29 01 36 1f 4a 86 03 72 c0 a8
    01 02 03 01 d8 04 00 00 00 00 45 00 00 3c 6a 82
    40 00 29 06 36 90 c0 a8 01 02 4a 86 a4 79 0c 1a
    0d 46 e0 7c 2b 1d";
/// pcapplusplus/sll.pcap frame 102.
pub(super) const SLL_TCP: &str = "00 04 00 01 00 06 08 00 27 19 1c 78 00 00 08 00
    45 00 00 34 13 59 40 00 40 06 7e 56 0a 00 00 08
    d4 c7 ca 45 9f 60 00 50 28 e2 4d 28 45 54 18 d4
    80 10 0c 70 a9 3b 00 00 01 01 08 0a 00 1c 5f 83
    02 7f 16 4c";
/// zeek/fragmented-1.pcap frame 1.
pub(super) const OVERLONG_FRAG_1: &str = "00 60 97 12 2f 58 00 20 af ba 78 65 08 00 45 00
    00 26 00 f2 20 00 40 11 1a f2 a4 01 7b a3 a4 01
    7b 3d 00 7b 00 89 00 12 bf e2 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00";
/// zeek/fragmented-1.pcap frame 2.
pub(super) const OVERLONG_FRAG_2: &str = "00 60 97 12 2f 58 00 20 af ba 78 65 08 00 45 00
    00 88 00 f2 00 06 40 11 3a 8a a4 01 7b a3 a4 01
    7b 3d 00 7b 00 89 00 74 bf 1e 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00";
/// zeek/fragmented-1.pcap frame 3.
pub(super) const OVERLONG_FRAG_3: &str = "00 60 97 12 2f 58 00 20 af ba 78 65 08 00 45 00
    01 44 00 f2 20 00 40 11 19 d4 a4 01 7b a3 a4 01
    7b 3d 00 7b 00 89 01 08 91 ca 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 58 58 58 58 58 58
    58 58 58 58 58 58 58 58 58 58 00 00 00 00 00 00
    00 00 99 11 00 00 00 00 00 00 00 00 00 00 00 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    00 00";
/// zeek/fragmented-4.pcap frame 2.
pub(super) const OVERLAP_FRAG_2: &str = "00 01 30 24 9d 00 00 b0 d0 e4 13 11 08 00 45 10
    00 2c 00 00 20 00 ff 06 e3 0c 80 20 2e 8e 0a 00
    00 01 1e 6e 00 50 00 e0 89 25 00 2d 97 f2 50 00
    ff ff 4f 69 00 00 47 45 54 20";
/// zeek/fragmented-4.pcap frame 3.
pub(super) const OVERLAP_FRAG_3: &str = "00 01 30 24 9d 00 00 b0 d0 e4 13 11 08 00 45 10
    00 2c 00 00 20 06 ff 06 e3 06 80 20 2e 8e 0a 00
    00 01 2e 25 32 66 2e 2e 2f 77 69 6e 6e 74 2f 73
    79 73 74 65 6d 33 32 2f 63 6d";
/// zeek/fragmented-4.pcap frame 4.
pub(super) const OVERLAP_FRAG_4: &str = "00 01 30 24 9d 00 00 b0 d0 e4 13 11 08 00 45 10
    00 25 00 00 00 09 ff 06 03 0b 80 20 2e 8e 0a 00
    00 01 64 2e 65 78 65 3f 2f 63 2b 64 69 72 2b 63
    3a 5c 0a";
/// zeek/fragmented-4.pcap frame 5.
pub(super) const OVERLAP_FRAG_5: &str = "00 01 30 24 9d 00 00 b0 d0 e4 13 11 08 00 45 10
    00 44 00 00 20 03 ff 06 e2 f1 80 20 2e 8e 0a 00
    00 01 2f 6d 73 61 64 63 2f 2e 2e 25 32 66 2e 2e
    2f 2e 2e 25 32 66 2e 2e 2f 2e 52 4b 4e 57 55 72
    64 6f 6f 4d 2b 57 73 6b 4f 32 49 69 41 4c 51 54
    49 00";
