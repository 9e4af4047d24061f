//! Writes a capture of name traffic only, for measuring the name stage's memory and speed (not
//! a test fixture): N packets in turn a DNS answer (a distinct name and address each, to one
//! client), a DHCP REQUEST with a host name from a distinct MAC, and an mDNS answer naming a
//! distinct host from its own MAC and address. Every table the name stage keeps (the DNS map,
//! the devices' names, the address owners) and the report's client endpoints fill past their
//! caps.
//!
//! ```text
//! cargo run --release --example make-names -- /tmp/names-1m.pcap 1000000
//! /usr/bin/time -v target/release/shadowai audit /tmp/names-1m.pcap --format json -o report.json
//! ```

use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};

use anyhow::Context;
use shadowai::synth::dhcp::{DhcpKind, DhcpMessage};
use shadowai::synth::dns::{DnsMessage, DnsRecord};
use shadowai::synth::frame::{udp_frame, Endpoint, IpIdent, L2Options};
use shadowai::synth::pcap::{PcapFormat, PcapWriter};

const START: u64 = 1_795_510_500_000_000_000;
const A: u16 = 1;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "/tmp/names.pcap".into());
    let packets: u32 = args
        .next()
        .map(|n| n.parse())
        .transpose()
        .context("packet count")?
        .unwrap_or(1_000_000);
    let file = std::fs::File::create(&path).with_context(|| format!("creating {path}"))?;
    let mut writer = PcapWriter::new(BufWriter::new(file), PcapFormat::default())?;
    let router = [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01];
    let resolver = Endpoint::new(router, Ipv4Addr::new(192, 168, 1, 1), 53);
    let broadcast = Endpoint::new([0xff; 6], Ipv4Addr::BROADCAST, 67);
    let mdns_group = Endpoint::new(
        [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb],
        Ipv4Addr::new(224, 0, 0, 251),
        5353,
    );
    for i in 0..packets {
        let [_, high, mid, low] = i.to_be_bytes();
        let (src, dst, payload) = match i % 3 {
            0 => {
                let name = format!("h{i}.zone{}.example.com", i % 977);
                let address = Ipv4Addr::from(0x6400_0000 + i);
                let answer = DnsMessage::response(i as u16, &name, A)
                    .answer(DnsRecord::a(&name, 300, address))
                    .to_bytes()?;
                let client = Endpoint::new(
                    [0x3c, 0x22, 0xfb, 0, 0, 1],
                    Ipv4Addr::new(192, 168, 1, 22),
                    (40_000 + i % 20_000) as u16,
                );
                (resolver, client, answer)
            }
            1 => {
                let mac = [0x02, 0xaa, 0, high, mid, low];
                let request = DhcpMessage::client(DhcpKind::Request, i, mac)
                    .hostname(&format!("device-{i}"))
                    .to_bytes()?;
                (
                    Endpoint::new(mac, Ipv4Addr::UNSPECIFIED, 68),
                    broadcast,
                    request,
                )
            }
            _ => {
                let mac = [0x02, 0xbb, 0, high, mid, low];
                let address = Ipv4Addr::from(0x0a00_0000 + i);
                let name = format!("host-{i}.local");
                let announce = DnsMessage::response(0, &name, A)
                    .answer(DnsRecord::a(&name, 120, address))
                    .to_bytes()?;
                (
                    Endpoint::new(mac, IpAddr::V4(address), 5353),
                    mdns_group,
                    announce,
                )
            }
        };
        let frame = udp_frame(
            &src,
            &dst,
            L2Options::default(),
            IpIdent::default(),
            &payload,
        )?;
        writer.write_packet(START + u64::from(i) * 10_000, &frame)?;
    }
    writer.into_inner()?;
    eprintln!("wrote {path}: {packets} name packets");
    Ok(())
}
