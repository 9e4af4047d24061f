//! Whole TCP conversations as a capture point next to the client sees them: three-way
//! handshake, client and server messages cut into segments, delayed ACKs, pacing by link
//! speed and round-trip time, and a FIN (or RST) close.
//!
//! Optional impairments exist for the reassembler's tests: a missing SYN, a capture that
//! misses the start of the flow, a lost client segment, a retransmitted one, two client
//! segments swapped. The model is deliberately simple: no congestion window, no SACK blocks,
//! no window updates, no timestamps option. It refuses to reorder or drop server segments;
//! nothing in the auditor reassembles the server's bytes.

mod impair;
mod plan;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod testkit;

use std::io;

use super::frame::{tcp_frame, Endpoint, IpIdent, L2Options, TcpFields};
use super::{invalid, Packet, XorShift64};
use plan::Segment;

/// Bytes of Ethernet + IPv4 + TCP headers, used only to pace segments on the link.
const HEADER_OVERHEAD: u64 = 54;
/// How long an endpoint takes to answer what it just received (ACK, next request).
const TURNAROUND_NANOS: u64 = 50_000;
/// How long a server takes to start answering a request.
const SERVER_THINK_NANOS: u64 = 1_000_000;
const CLIENT_WINDOW: u16 = 1026; // scaled by 2^8 after the handshake
const SERVER_WINDOW: u16 = 501; // scaled by 2^13 after the handshake

/// How a conversation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Close {
    /// Client FIN, server FIN, client ACK.
    #[default]
    Fin,
    /// Client RST.
    Rst,
    /// No close: the flow is still open when the capture ends.
    Open,
}

#[derive(Debug, Clone)]
enum Step {
    Client { bytes: Vec<u8>, segment_size: usize },
    Server { bytes: Vec<u8>, segment_size: usize },
    Pause(u64),
}

/// A TCP conversation to be generated. Configure with the chained methods, then
/// [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct TcpSession {
    client: Endpoint,
    server: Endpoint,
    l2: L2Options,
    interface: u32,
    start_nanos: u64,
    rtt_nanos: u64,
    up_bits_per_sec: u64,
    down_bits_per_sec: u64,
    segment_size: usize,
    ack_every: usize,
    seed: Option<u64>,
    steps: Vec<Step>,
    close: Close,
    drop_syn: bool,
    drop_before_message: Option<usize>,
    drop_client_segments: Vec<usize>,
    retransmit_client_segments: Vec<usize>,
    swap_client_segments: Vec<(usize, usize)>,
}

/// The frames of a built conversation and what they carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpCapture {
    /// Frames in capture order (impairments applied).
    pub packets: Vec<Packet>,
    /// Time of the last frame (the start time when no frame is left).
    pub end_nanos: u64,
    /// TCP payload bytes from client to server in the captured frames (retransmissions count).
    pub payload_up: u64,
    /// TCP payload bytes from server to client in the captured frames.
    pub payload_down: u64,
    pub client_isn: u32,
    pub server_isn: u32,
}

impl TcpSession {
    /// A conversation from `client` to `server` starting (SYN) at `start_nanos`. Defaults:
    /// 20 ms RTT, 20 Mbit/s up, 100 Mbit/s down, 1460-byte segments, an ACK every second
    /// segment, FIN close, untagged padded frames on interface 0.
    pub fn new(client: Endpoint, server: Endpoint, start_nanos: u64) -> Self {
        TcpSession {
            client,
            server,
            l2: L2Options::default(),
            interface: 0,
            start_nanos,
            rtt_nanos: 20_000_000,
            up_bits_per_sec: 20_000_000,
            down_bits_per_sec: 100_000_000,
            segment_size: 1460,
            ack_every: 2,
            seed: None,
            steps: Vec::new(),
            close: Close::Fin,
            drop_syn: false,
            drop_before_message: None,
            drop_client_segments: Vec::new(),
            retransmit_client_segments: Vec::new(),
            swap_client_segments: Vec::new(),
        }
    }

    /// Seeds ISNs, IP identifications and flow labels (default: derived from the endpoints).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    pub fn rtt(mut self, nanos: u64) -> Self {
        self.rtt_nanos = nanos;
        self
    }

    /// Link speeds used to space consecutive segments (0 = back to back).
    pub fn bandwidth(mut self, up_bits_per_sec: u64, down_bits_per_sec: u64) -> Self {
        self.up_bits_per_sec = up_bits_per_sec;
        self.down_bits_per_sec = down_bits_per_sec;
        self
    }

    /// Default segment size (MSS) for messages that do not name one; at least 1.
    pub fn segment_size(mut self, bytes: usize) -> Self {
        self.segment_size = bytes.max(1);
        self
    }

    /// The receiver ACKs every `n`-th data segment and the last of each message; at least 1.
    pub fn ack_every(mut self, n: usize) -> Self {
        self.ack_every = n.max(1);
        self
    }

    pub fn l2(mut self, l2: L2Options) -> Self {
        self.l2 = l2;
        self
    }

    pub fn interface(mut self, interface: u32) -> Self {
        self.interface = interface;
        self
    }

    /// The client sends `bytes` in segments of the default size.
    pub fn client(self, bytes: impl Into<Vec<u8>>) -> Self {
        let size = self.segment_size;
        self.client_segmented(bytes, size)
    }

    /// The client sends `bytes` in segments of `segment_size` bytes (the last may be shorter),
    /// e.g. a ClientHello cut at 1,400 bytes as browsers do.
    pub fn client_segmented(mut self, bytes: impl Into<Vec<u8>>, segment_size: usize) -> Self {
        self.steps.push(Step::Client {
            bytes: bytes.into(),
            segment_size: segment_size.max(1),
        });
        self
    }

    pub fn server(self, bytes: impl Into<Vec<u8>>) -> Self {
        let size = self.segment_size;
        self.server_segmented(bytes, size)
    }

    pub fn server_segmented(mut self, bytes: impl Into<Vec<u8>>, segment_size: usize) -> Self {
        self.steps.push(Step::Server {
            bytes: bytes.into(),
            segment_size: segment_size.max(1),
        });
        self
    }

    /// Nothing happens for `nanos` (the user reads, thinks, types).
    pub fn pause(mut self, nanos: u64) -> Self {
        self.steps.push(Step::Pause(nanos));
        self
    }

    pub fn close(mut self, close: Close) -> Self {
        self.close = close;
        self
    }

    /// The client's SYN is missing from the capture (the rest of the handshake is there).
    pub fn drop_syn(mut self) -> Self {
        self.drop_syn = true;
        self
    }

    /// Everything before message `message` (0-based, counting client and server messages)
    /// is missing, handshake included: a capture that started late, or a mirror port that
    /// dropped the start. ACKs of later messages remain.
    pub fn drop_before_message(mut self, message: usize) -> Self {
        self.drop_before_message = Some(message);
        self
    }

    /// Client data segment `n` (0-based over the whole conversation) is missing. Combine with
    /// [`retransmit_client_segment`](Self::retransmit_client_segment) for "lost, then resent".
    pub fn drop_client_segment(mut self, n: usize) -> Self {
        self.drop_client_segments.push(n);
        self
    }

    /// Client data segment `n` is sent a second time, right after the client's next segment
    /// (1 µs after the original when it is the last one).
    pub fn retransmit_client_segment(mut self, n: usize) -> Self {
        self.retransmit_client_segments.push(n);
        self
    }

    /// Client data segments `a` and `b` trade capture times, so they appear out of order.
    pub fn swap_client_segments(mut self, a: usize, b: usize) -> Self {
        self.swap_client_segments.push((a, b));
        self
    }

    /// Generates the frames.
    pub fn build(&self) -> io::Result<TcpCapture> {
        let mut rng = XorShift64::new(self.seed.unwrap_or_else(|| self.default_seed()));
        let client_isn = rng.next_u32();
        let server_isn = rng.next_u32();
        let mut segments = self.plan(client_isn, server_isn)?;
        self.impair(&mut segments);
        segments.sort_by_key(|segment| segment.ts);
        self.render(segments, &mut rng, client_isn, server_isn)
    }

    fn default_seed(&self) -> u64 {
        XorShift64::from_label(&format!(
            "{}:{}-{}:{}",
            self.client.ip, self.client.port, self.server.ip, self.server.port
        ))
        .next_u64()
    }

    fn render(
        &self,
        segments: Vec<Segment>,
        rng: &mut XorShift64,
        client_isn: u32,
        server_isn: u32,
    ) -> io::Result<TcpCapture> {
        let mut client_ip_id = rng.next_u16();
        let mut server_ip_id = rng.next_u16();
        let client_flow_label = rng.next_u32() & 0x000F_FFFF;
        let server_flow_label = rng.next_u32() & 0x000F_FFFF;
        let mut capture = TcpCapture {
            packets: Vec::with_capacity(segments.len()),
            end_nanos: self.start_nanos,
            payload_up: 0,
            payload_down: 0,
            client_isn,
            server_isn,
        };
        for segment in segments {
            let (src, dst, ident) = if segment.from_client {
                client_ip_id = client_ip_id.wrapping_add(1);
                capture.payload_up += segment.payload.len() as u64;
                let ident = IpIdent {
                    id: client_ip_id,
                    dont_fragment: true,
                    flow_label: client_flow_label,
                };
                (&self.client, &self.server, ident)
            } else {
                server_ip_id = server_ip_id.wrapping_add(1);
                capture.payload_down += segment.payload.len() as u64;
                let ident = IpIdent {
                    id: server_ip_id,
                    dont_fragment: true,
                    flow_label: server_flow_label,
                };
                (&self.server, &self.client, ident)
            };
            // Windows are unscaled in SYNs, scaled afterwards (see the SYN options).
            let window = match (segment.from_client, segment.flags.syn) {
                (true, true) => 64_240,
                (true, false) => CLIENT_WINDOW,
                (false, true) => 65_535,
                (false, false) => SERVER_WINDOW,
            };
            let fields = TcpFields {
                seq: segment.seq,
                ack: segment.ack,
                flags: segment.flags,
                window,
                options: segment.options,
            };
            let data = tcp_frame(src, dst, self.l2, ident, &fields, &segment.payload)?;
            capture.end_nanos = capture.end_nanos.max(segment.ts);
            capture.packets.push(Packet {
                ts_nanos: segment.ts,
                interface: self.interface,
                data,
            });
        }
        Ok(capture)
    }
}

fn add(ts: u64, nanos: u64) -> io::Result<u64> {
    ts.checked_add(nanos)
        .ok_or_else(|| invalid("timestamp overflow"))
}

/// Time one segment occupies the link.
fn pace(payload_len: usize, bits_per_sec: u64) -> u64 {
    if bits_per_sec == 0 {
        return 0;
    }
    let bits = (payload_len as u128 + u128::from(HEADER_OVERHEAD)) * 8;
    u64::try_from(bits * 1_000_000_000 / u128::from(bits_per_sec)).unwrap_or(u64::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::testkit::{client, decode, server, Seen};
    use super::*;
    use std::net::Ipv6Addr;

    /// The payload of one direction, concatenated in capture order.
    fn stream(seen: &[Seen], from_client: bool) -> Vec<u8> {
        seen.iter()
            .filter(|s| s.from_client == from_client)
            .flat_map(|s| s.payload.clone())
            .collect()
    }

    #[test]
    fn handshake_data_acks_and_fin_are_numbered_and_timed() {
        let hello: Vec<u8> = (0..1_900u32).map(|i| i as u8).collect();
        let response = vec![0x17; 3_000];
        let capture = TcpSession::new(client(), server(), 1_000_000_000)
            .seed(7)
            .rtt(10_000_000)
            .client_segmented(hello.clone(), 1_400)
            .server(response.clone())
            .build()
            .unwrap();
        let seen = decode(&capture);
        let (c, s) = (capture.client_isn, capture.server_isn);
        assert!(seen[0].syn && seen[0].from_client && seen[0].seq == c);
        assert!(seen[1].syn && !seen[1].from_client && seen[1].seq == s && seen[1].ack == c + 1);
        assert_eq!(seen[1].ts, 1_010_000_000, "SYN-ACK one RTT after the SYN");
        assert!(seen[2].from_client && seen[2].payload.is_empty() && seen[2].ack == s + 1);
        let data: Vec<&Seen> = seen
            .iter()
            .filter(|x| x.from_client && !x.payload.is_empty())
            .collect();
        assert_eq!(data.len(), 2);
        assert_eq!(
            (data[0].seq, data[0].payload.len(), data[0].psh),
            (c + 1, 1_400, false)
        );
        assert_eq!(
            (data[1].seq, data[1].payload.len(), data[1].psh),
            (c + 1_401, 500, true)
        );
        let server_data: Vec<&Seen> = seen
            .iter()
            .filter(|x| !x.from_client && !x.payload.is_empty())
            .collect();
        assert_eq!(server_data.len(), 3, "1460 + 1460 + 80");
        assert_eq!(server_data[0].seq, s + 1);
        assert_eq!(server_data[0].ack, c + 1_901);
        assert!(
            server_data[0].ts >= data[1].ts + 10_000_000,
            "answer after a round trip"
        );
        assert_eq!(stream(&seen, true), hello);
        assert_eq!(stream(&seen, false), response);
        assert_eq!((capture.payload_up, capture.payload_down), (1_900, 3_000));
        // Every data segment is acknowledged.
        let last_client_ack = seen
            .iter()
            .filter(|x| x.from_client)
            .map(|x| x.ack)
            .max()
            .unwrap();
        assert!(last_client_ack >= s + 1 + 3_000);
        // FIN from the client, FIN from the server, final ACK.
        let tail = &seen[seen.len() - 3..];
        assert!(tail[0].fin && tail[0].from_client && tail[0].seq == c + 1_901);
        assert!(tail[1].fin && !tail[1].from_client && tail[1].ack == c + 1_902);
        assert!(!tail[2].fin && tail[2].from_client && tail[2].ack == s + 3_002);
        assert!(seen.windows(2).all(|w| w[0].ts <= w[1].ts));
        assert_eq!(capture.end_nanos, seen.last().unwrap().ts);
    }

    #[test]
    fn close_variants() {
        let base = TcpSession::new(client(), server(), 0).client(vec![1; 10]);
        let rst = decode(&base.clone().close(Close::Rst).build().unwrap());
        assert!(rst.last().unwrap().rst);
        let open = decode(&base.close(Close::Open).build().unwrap());
        assert!(!open.iter().any(|s| s.fin || s.rst));
    }

    #[test]
    fn deterministic_and_seeded() {
        let session = TcpSession::new(client(), server(), 0)
            .client(vec![1; 3_000])
            .server(vec![2; 100]);
        assert_eq!(session.build().unwrap(), session.build().unwrap());
        let other = session.clone().seed(99).build().unwrap();
        assert_ne!(other.client_isn, session.build().unwrap().client_isn);
    }

    #[test]
    fn ipv6_conversation() {
        let c = Endpoint::new(
            [2; 6],
            "2001:db8:1::23".parse::<Ipv6Addr>().unwrap(),
            50_001,
        );
        let s = Endpoint::new(
            [4; 6],
            "2a00:1450:4001:80e::200e".parse::<Ipv6Addr>().unwrap(),
            443,
        );
        let capture = TcpSession::new(c, s, 0)
            .client(vec![9; 2_000])
            .server(vec![8; 50])
            .build()
            .unwrap();
        let seen = decode(&capture);
        assert_eq!(stream(&seen, true), vec![9; 2_000]);
        assert_eq!(stream(&seen, false), vec![8; 50]);
    }

    #[test]
    fn pacing_and_ack_ratio() {
        let capture = TcpSession::new(client(), server(), 0)
            .bandwidth(8_000_000, 0)
            .ack_every(3)
            .client(vec![0; 1_460 * 6])
            .close(Close::Open)
            .build()
            .unwrap();
        let seen = decode(&capture);
        let data: Vec<&Seen> = seen.iter().filter(|x| !x.payload.is_empty()).collect();
        // (1460 + 54) bytes at 1 byte per microsecond.
        assert_eq!(data[1].ts - data[0].ts, 1_514_000);
        let server_acks = seen.iter().filter(|x| !x.from_client && !x.syn).count();
        assert_eq!(server_acks, 2);
    }
}
