//! Writes a capture of many concurrent flows, for measuring memory and speed (not a test
//! fixture): N connections, each to a distinct server, send one small segment, all within one
//! second, and none closes. Every AI_EVERY-th connection (default 10,000) is a TLS ClientHello
//! to an AI service, spread over the whole file, so a report must still show every one of them
//! although most flows are folded early by `--max-flows`. The connections come from CLIENTS
//! hosts (default 64, each with its own MAC), or with CLIENTS 0 each from its own address
//! behind one router's MAC (a mirror port that sees a routed network: more clients than the
//! report keeps apart).
//!
//! ```text
//! cargo run --release --example make-flows -- /tmp/flows-1m.pcap 1000000 [CLIENTS [AI_EVERY]]
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
    // The next argument as a number, or `default` when there is none.
    let mut number = |what: &'static str, default: u32| -> anyhow::Result<u32> {
        Ok(args
            .next()
            .map(|n| n.parse())
            .transpose()
            .context(what)?
            .unwrap_or(default))
    };
    let flows = number("flow count", 1_000_000)?;
    let clients = number("client count", 64)?;
    let ai_every = number("AI_EVERY", 10_000)?.max(1);
    let file = std::fs::File::create(&path).with_context(|| format!("creating {path}"))?;
    let mut writer = PcapWriter::new(BufWriter::new(file), PcapFormat::default())?;
    let router = [0x00, 0x11, 0x32, 0xaa, 0xbb, 0x01];
    let mut ai_flows = 0;
    for i in 0..flows {
        // CLIENTS client hosts (or one address per flow behind the router), one distinct
        // server address per flow.
        let port = (1024 + i % 60_000) as u16;
        let client = match clients {
            0 => Endpoint::new(router, IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)), port),
            n => {
                let host = i % n;
                let [_, _, high, low] = host.to_be_bytes();
                Endpoint::new(
                    [0x02, 0, 0, 0, high, low],
                    IpAddr::V4(Ipv4Addr::from(0xc0a8_010a + host)),
                    port,
                )
            }
        };
        let server = Endpoint::new(router, IpAddr::V4(Ipv4Addr::from(0x0b00_0000 + i)), 443);
        let payload = if i % ai_every == 0 {
            ai_flows += 1;
            let host = AI_HOSTS[(i / ai_every) as usize % AI_HOSTS.len()];
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
