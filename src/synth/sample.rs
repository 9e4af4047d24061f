//! The bundled sample capture `examples/office-lan.pcapng`: a morning in a small office LAN
//! (192.168.1.0/24, router, DNS and DHCP server at 192.168.1.1), seen on a switch's mirror
//! port from 2026-11-24T08:55:00Z for about three hours.
//!
//! Six devices name themselves over DHCP and visit AI services and ordinary sites over TLS
//! (IPv4 and IPv6) and plain HTTP, each after a DNS lookup. One flow to Copilot lost its
//! handshake at the mirror port, so only the earlier DNS answer can name it. The README's
//! quick start audits this file and a test checks the committed copy equals
//! [`office_lan_sample`]'s output, so any change here means regenerating it with
//! `cargo run --example make-sample`. No byte here comes from a real capture; the server
//! addresses are plausible for each service but not promises about them.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::dns::{TYPE_A, TYPE_AAAA};
use super::scenario::{Device, HttpVisit, Lan, Router, TlsVisit};

pub use super::scenario::{FlowSummary, Sample};

/// 2026-11-24T08:55:00Z, when the capture starts.
pub const SAMPLE_START_NANOS: u64 = 1_795_510_500 * NANOS_PER_SEC;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const MS: u64 = 1_000_000;
const CHROME_MAC_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) \
    AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36";

/// The sample's pcapng bytes. Empty only if a builder rejected the fixed scenario, which the
/// tests rule out; [`office_lan_scenario`] gives the error.
pub fn office_lan_sample() -> Vec<u8> {
    office_lan_scenario()
        .map(|sample| sample.pcapng)
        .unwrap_or_default()
}

/// Time `minutes:seconds` into the capture.
fn t(minutes: u64, seconds: u64) -> u64 {
    SAMPLE_START_NANOS + (minutes * 60 + seconds) * NANOS_PER_SEC
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// The whole scenario, with a summary of every flow.
pub fn office_lan_scenario() -> io::Result<Sample> {
    let mut lan = Lan::new(Router {
        mac: [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01],
        ip: Ipv4Addr::new(192, 168, 1, 1),
        ip6: Some(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1)),
    });
    let lan_ip = |host| Ipv4Addr::new(192, 168, 1, host);
    let mut reception = Device::new(
        "reception-pc",
        [0x3c, 0x22, 0xfb, 0x11, 0x22, 0x01],
        lan_ip(21),
    )
    .windows();
    let mut accounts = Device::new(
        "accounts-laptop",
        [0x3c, 0x22, 0xfb, 0x11, 0x22, 0x02],
        lan_ip(22),
    )
    .windows();
    let mut design = Device::new(
        "design-mac",
        [0xa4, 0x83, 0xe7, 0x11, 0x22, 0x03],
        lan_ip(23),
    )
    .ipv6(Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 0x23));
    // A private Wi-Fi address: locally administered bit set.
    let mut phone = Device::new("phone", [0xda, 0xa1, 0x19, 0x11, 0x22, 0x04], lan_ip(30))
        .hostname("Annas-iPhone");
    let mut printer = Device::new("printer", [0x00, 0x1b, 0xa9, 0x11, 0x22, 0x05], lan_ip(40))
        .hostname("BRN001BA9112205");

    // 08:55 the printer and the reception PC come up; a quick search.
    lan.join(&printer, t(0, 2))?;
    lan.join(&reception, t(0, 14))?;
    let google = v4(142, 250, 185, 100);
    let done = lan.lookup(
        &mut reception,
        t(0, 31),
        "www.google.com",
        TYPE_A,
        &[],
        &[google],
    )?;
    let visit = TlsVisit::chrome("www.google.com", google)
        .path(12, 118)
        .exchanges(&[(30, 2_400, 17_000), (4_000, 900, 4_500)]);
    lan.tls(&mut reception, done + 3 * MS, &visit)?;

    // 08:57 ChatGPT at reception: a long conversation, ~180 KB up, ~600 KB down.
    let chatgpt = v4(104, 18, 32, 47);
    let cdn = ["chatgpt.com.cdn.cloudflare.net"];
    let done = lan.lookup(
        &mut reception,
        t(2, 5),
        "chatgpt.com",
        TYPE_A,
        &cdn,
        &[chatgpt],
    )?;
    let visit = TlsVisit::chrome("chatgpt.com", chatgpt)
        .path(9, 56)
        .exchanges(&[
            (40, 9_800, 61_000),
            (45_000, 14_500, 48_500),
            (62_000, 21_800, 57_300),
            (38_000, 6_200, 39_900),
            (71_000, 18_300, 66_100),
            (55_000, 25_600, 52_800),
            (49_000, 12_900, 44_200),
            (83_000, 16_700, 58_600),
            (36_000, 8_400, 41_700),
            (67_000, 19_900, 63_400),
            (52_000, 11_100, 35_800),
            (44_000, 12_600, 28_200),
        ]);
    lan.tls(&mut reception, done + 2 * MS, &visit)?;

    // 09:02 the accounts laptop: mail first.
    lan.join(&accounts, t(7, 3))?;
    let outlook = v4(52, 97, 201, 226);
    let acdc = ["outlook.ms-acdc.office.com"];
    let done = lan.lookup(
        &mut accounts,
        t(8, 10),
        "outlook.office365.com",
        TYPE_A,
        &acdc,
        &[outlook],
    )?;
    let visit = TlsVisit::chrome("outlook.office365.com", outlook)
        .path(15, 113)
        .exchanges(&[(20, 3_100, 18_500), (9_000, 2_200, 8_800)]);
    lan.tls(&mut accounts, done + 2 * MS, &visit)?;

    // 09:13 the design Mac, dual stack: Gemini over IPv6.
    lan.join(&design, t(18, 40))?;
    let gemini = IpAddr::V6(Ipv6Addr::new(
        0x2a00, 0x1450, 0x4001, 0x80e, 0, 0, 0, 0x200e,
    ));
    let done = lan.lookup(
        &mut design,
        t(20, 12),
        "gemini.google.com",
        TYPE_AAAA,
        &[],
        &[gemini],
    )?;
    let visit = TlsVisit::chrome("gemini.google.com", gemini)
        .path(13, 118)
        .exchanges(&[(30, 4_200, 21_500), (58_000, 11_800, 16_700)]);
    lan.tls(&mut design, done + 2 * MS, &visit)?;

    // 09:21 accounts: a spreadsheet, about 1.5 MB, sent to the OpenAI API; 40 KB back.
    let openai = v4(162, 159, 140, 245);
    let done = lan.lookup(
        &mut accounts,
        t(26, 30),
        "api.openai.com",
        TYPE_A,
        &[],
        &[openai],
    )?;
    let visit = TlsVisit::chrome("api.openai.com", openai)
        .path(9, 56)
        .exchanges(&[(25, 1_482_000, 27_500), (12_000, 14_300, 12_200)]);
    lan.tls(&mut accounts, done + 2 * MS, &visit)?;

    // 09:29 the phone: Apple, then Perplexity.
    lan.join(&phone, t(34, 8))?;
    let apple = v4(23, 40, 60, 195);
    let akamai = ["www.apple.com.edgekey.net", "e6858.dscx.akamaiedge.net"];
    let done = lan.lookup(
        &mut phone,
        t(34, 50),
        "www.apple.com",
        TYPE_A,
        &akamai,
        &[apple],
    )?;
    let visit = TlsVisit::safari("www.apple.com", apple)
        .path(11, 57)
        .exchange(20, 1_600, 21_000);
    lan.tls(&mut phone, done + 2 * MS, &visit)?;
    let perplexity = v4(104, 18, 26, 48);
    let done = lan.lookup(
        &mut phone,
        t(41, 17),
        "www.perplexity.ai",
        TYPE_A,
        &[],
        &[perplexity],
    )?;
    let visit = TlsVisit::safari("www.perplexity.ai", perplexity)
        .path(10, 56)
        .exchanges(&[(30, 3_300, 21_400), (41_000, 5_100, 14_600)]);
    lan.tls(&mut phone, done + 2 * MS, &visit)?;

    // 09:43 accounts: Claude, ~60 KB up.
    let claude = v4(160, 79, 104, 10);
    let done = lan.lookup(&mut accounts, t(48, 2), "claude.ai", TYPE_A, &[], &[claude])?;
    let visit = TlsVisit::chrome("claude.ai", claude)
        .path(18, 57)
        .exchanges(&[
            (30, 20_400, 11_200),
            (47_000, 22_300, 13_800),
            (61_000, 16_100, 7_900),
        ]);
    lan.tls(&mut accounts, done + 2 * MS, &visit)?;

    // 10:05 a sales laptop joins and uploads a document to Gemini over HTTP/3 (QUIC).
    let mut sales = Device::new(
        "sales-laptop",
        [0x50, 0x7b, 0x9d, 0x11, 0x22, 0x06],
        lan_ip(24),
    )
    .windows();
    lan.join(&sales, t(70, 4))?;
    let gemini_v4 = v4(142, 250, 74, 110);
    let done = lan.lookup(
        &mut sales,
        t(70, 40),
        "gemini.google.com",
        TYPE_A,
        &[],
        &[gemini_v4],
    )?;
    let visit = TlsVisit::chrome("gemini.google.com", gemini_v4)
        .path(12, 118)
        .exchanges(&[(40, 236_000, 18_000), (24_000, 3_500, 61_000)]);
    lan.quic(&mut sales, done + 2 * MS, &visit)?;

    // 09:50 design: Copilot. The mirror port dropped the flow's first packets, handshake and
    // ClientHello included; only the DNS answer just before it can name the server.
    let copilot = v4(13, 107, 5, 80);
    let done = lan.lookup(
        &mut design,
        t(55, 21),
        "copilot.microsoft.com",
        TYPE_A,
        &[],
        &[copilot],
    )?;
    let visit = TlsVisit::chrome("copilot.microsoft.com", copilot)
        .path(16, 113)
        .exchanges(&[(300, 6_200, 18_400), (33_000, 4_100, 12_300)])
        .handshake_lost();
    lan.tls(&mut design, done + 2 * MS, &visit)?;

    // 10:10 design: plain HTTP to example.com.
    let example = v4(23, 192, 228, 80);
    let done = lan.lookup(
        &mut design,
        t(75, 44),
        "example.com",
        TYPE_A,
        &[],
        &[example],
    )?;
    let visit = HttpVisit::get(example, "example.com", "/")
        .user_agent(CHROME_MAC_UA)
        .body_len(1_256);
    lan.http(&mut design, done + MS, &visit)?;

    // 10:30 and 11:50 the printer checks for firmware: DNS and HTTP, nothing AI.
    let vendor = v4(203, 0, 113, 40);
    let host = "firmware.printer-vendor.example";
    for minutes in [95, 175] {
        let done = lan.lookup(&mut printer, t(minutes, 9), host, TYPE_A, &[], &[vendor])?;
        let visit = HttpVisit::get(vendor, host, "/check?model=HL-L2350DW&fw=1.72")
            .user_agent("PrinterFirmwareCheck/1.72")
            .body_len(420);
        lan.http(&mut printer, done + MS, &visit)?;
    }

    lan.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn sample_builds_deterministically_and_stays_small() {
        let first = office_lan_scenario().unwrap();
        let second = office_lan_scenario().unwrap();
        assert_eq!(first, second);
        assert_eq!(office_lan_sample(), first.pcapng);
        assert!(
            first.pcapng.len() < 3_500_000,
            "{} bytes",
            first.pcapng.len()
        );
        // SHB first, little-endian.
        assert_eq!(&first.pcapng[..4], &[0x0A, 0x0D, 0x0D, 0x0A]);
        assert_eq!(&first.pcapng[8..12], &[0x4D, 0x3C, 0x2B, 0x1A]);
    }

    #[test]
    fn sample_holds_the_promised_flows() {
        let sample = office_lan_scenario().unwrap();
        let flow = |device: &str, protocol: &str, name: &str| {
            sample
                .flows
                .iter()
                .find(|f| f.device == device && f.protocol == protocol && f.name == name)
                .unwrap_or_else(|| panic!("no {protocol} flow {device} -> {name}"))
                .clone()
        };
        let chat = flow("reception-pc", "tls", "chatgpt.com");
        assert!((170_000..190_000).contains(&chat.payload_up), "{chat}");
        assert!((580_000..620_000).contains(&chat.payload_down), "{chat}");
        let api = flow("accounts-laptop", "tls", "api.openai.com");
        assert!((1_450_000..1_550_000).contains(&api.payload_up), "{api}");
        assert!((35_000..50_000).contains(&api.payload_down), "{api}");
        let claude = flow("accounts-laptop", "tls", "claude.ai");
        assert!((55_000..65_000).contains(&claude.payload_up), "{claude}");
        let gemini = flow("design-mac", "tls", "gemini.google.com");
        assert!(gemini.client.starts_with("[2001:db8:1::23]"), "{gemini}");
        let copilot = flow("design-mac", "tls", "copilot.microsoft.com");
        assert!(copilot.server.starts_with("13.107.5.80:"), "{copilot}");
        assert!(!copilot.note.is_empty());
        flow("design-mac", "dns", "copilot.microsoft.com");
        flow("design-mac", "http", "example.com");
        flow("phone", "dhcp", "Annas-iPhone");
        flow("phone", "tls", "www.perplexity.ai");
        flow("printer", "http", "firmware.printer-vendor.example");
        let quic = flow("sales-laptop", "quic", "gemini.google.com");
        assert!((230_000..260_000).contains(&quic.payload_up), "{quic}");
        assert!(quic.server.starts_with("142.250.74.110:443"), "{quic}");
        assert!(sample
            .flows
            .iter()
            .filter(|f| f.device == "printer")
            .all(|f| f.protocol != "tls"));
        let frames: usize = sample.flows.iter().map(|f| f.frames).sum();
        assert_eq!(
            sample.frames,
            frames + 2 * 6,
            "flows plus one ARP pair per device"
        );
    }

    #[test]
    fn every_frame_decodes_and_time_only_moves_forward() {
        let sample = office_lan_scenario().unwrap();
        let bytes = &sample.pcapng;
        let mut offset = 0usize;
        let mut last_ts = 0u64;
        let mut packets = 0usize;
        while offset < bytes.len() {
            let block_type = u32::from_le_bytes(bytes[offset..offset + 4].try_into().unwrap());
            let len =
                u32::from_le_bytes(bytes[offset + 4..offset + 8].try_into().unwrap()) as usize;
            if block_type == 6 {
                let body = &bytes[offset + 8..offset + len - 4];
                let high = u32::from_le_bytes(body[4..8].try_into().unwrap());
                let low = u32::from_le_bytes(body[8..12].try_into().unwrap());
                let ts = (u64::from(high) << 32) | u64::from(low);
                assert!(ts >= last_ts, "time went backwards at packet {packets}");
                last_ts = ts;
                let caplen = u32::from_le_bytes(body[12..16].try_into().unwrap()) as usize;
                let frame = &body[20..20 + caplen];
                etherparse::SlicedPacket::from_ethernet(frame)
                    .unwrap_or_else(|e| panic!("packet {packets}: {e}"));
                packets += 1;
            }
            offset += len;
        }
        assert_eq!(packets, sample.frames);
        let start_micros = SAMPLE_START_NANOS / 1_000;
        assert!(
            last_ts > start_micros + 2 * 3_600 * 1_000_000,
            "about three hours"
        );
    }
}
