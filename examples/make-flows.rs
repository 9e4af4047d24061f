//! Writes a capture of many concurrent flows, for measuring memory and speed (not a test
//! fixture): N clients each open a TCP connection to a distinct server and send one small
//! segment, all within one second, and none closes. Every 10,000th connection is a TLS
//! ClientHello to an AI service, spread over the whole file, so a report must still show
//! every one of them although most flows are folded early by `--max-flows`.
//!
//! ```text
//! cargo run --release --example make-flows -- /tmp/flows-1m.pcap 1000000
//! /usr/bin/time -v target/release/shadowai audit /tmp/flows-1m.pcap --format json
//! ```

use std::io::BufWriter;
use std::net::{IpAddr, Ipv4Addr};

use anyhow::Context;
use shadowai::proto::tls::build::build_client_hello;
use shadowai::synth::frame::{tcp_frame, Endpoint, IpIdent, L2Options, TcpFields, TcpFlags};
use shadowai::synth::pcap::{PcapFormat, PcapWriter};

const START: u64 = 1_795_510_500_000_000_000;
const AI_HOSTS: [&str; 4] = [
    "chatgpt.com",
    "claude.ai",
    "gemini.google.com",
    "api.openai.com",
];

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = args.next().unwrap_or_else(|| "/tmp/flows.pcap".into());
    let flows: u32 = args
        .next()
        .map(|n| n.parse())
        .transpose()
        .context("flow count")?
        .unwrap_or(1_000_000);
    let file = std::fs::File::create(&path).with_context(|| format!("creating {path}"))?;
    let mut writer = PcapWriter::new(BufWriter::new(file), PcapFormat::default())?;
    let router = [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01];
    let mut ai_flows = 0;
    for i in 0..flows {
        // 64 client hosts, one distinct server address per flow.
        let host = (i % 64) as u8;
        let client = Endpoint::new(
            [0x02, 0, 0, 0, 0, host],
            IpAddr::V4(Ipv4Addr::new(192, 168, 1, 10 + host)),
            (1024 + i % 60_000) as u16,
        );
        let server = Endpoint::new(router, IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)), 443);
        let payload = if i % 10_000 == 0 {
            ai_flows += 1;
            let host = AI_HOSTS[(i / 10_000) as usize % AI_HOSTS.len()];
            build_client_hello(Some(host), &["h2"], false, 0)
        } else {
            vec![0x17, 0x03, 0x03, 0x00, 0x20, 0x42]
        };
        let fields = TcpFields {
            seq: 1_000 + i,
            ack: 1,
            flags: TcpFlags::PSH_ACK,
            window: 64_240,
            options: &[],
        };
        let frame = tcp_frame(
            &client,
            &server,
            L2Options::default(),
            IpIdent::default(),
            &fields,
            &payload,
        )?;
        // All within one second: every flow is live when the last one starts.
        writer.write_packet(
            START + u64::from(i) * 1_000_000_000 / u64::from(flows),
            &frame,
        )?;
    }
    writer.into_inner()?;
    eprintln!("wrote {path}: {flows} flows, {ai_flows} of them TLS to AI services");
    Ok(())
}
