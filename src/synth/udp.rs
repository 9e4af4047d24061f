//! UDP exchanges (DNS, DHCP, anything request/response): one datagram per message, the
//! server's replies one round trip after the client's request.
//!
//! No fragmentation, no loss, no QUIC: a datagram too big for one IP packet is an error.

use std::io;

use super::frame::{udp_frame, Endpoint, IpIdent, L2Options};
use super::{invalid, Packet, XorShift64};

#[derive(Debug, Clone)]
enum Step {
    Client(Vec<u8>),
    Server(Vec<u8>),
    Pause(u64),
}

/// A UDP conversation between two endpoints. Configure, then [`build`](Self::build).
#[derive(Debug, Clone)]
pub struct UdpFlow {
    client: Endpoint,
    server: Endpoint,
    l2: L2Options,
    interface: u32,
    start_nanos: u64,
    rtt_nanos: u64,
    seed: u64,
    steps: Vec<Step>,
}

/// The frames of a built UDP conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdpCapture {
    pub packets: Vec<Packet>,
    /// Time of the last datagram.
    pub end_nanos: u64,
    pub payload_up: u64,
    pub payload_down: u64,
}

impl UdpFlow {
    /// A conversation starting at `start_nanos`, 2 ms round trip (a resolver on the LAN).
    pub fn new(client: Endpoint, server: Endpoint, start_nanos: u64) -> Self {
        UdpFlow {
            client,
            server,
            l2: L2Options::default(),
            interface: 0,
            start_nanos,
            rtt_nanos: 2_000_000,
            seed: u64::from(client.port) << 16 | u64::from(server.port),
            steps: Vec::new(),
        }
    }

    pub fn rtt(mut self, nanos: u64) -> Self {
        self.rtt_nanos = nanos;
        self
    }

    /// Seeds the IPv4 identifications and IPv6 flow labels.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
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

    /// A datagram from the client, sent as soon as the previous step is done.
    pub fn client(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.steps.push(Step::Client(payload.into()));
        self
    }

    /// A datagram from the server, seen one round trip after the client's last datagram
    /// (100 µs after the previous server datagram when several follow each other).
    pub fn server(mut self, payload: impl Into<Vec<u8>>) -> Self {
        self.steps.push(Step::Server(payload.into()));
        self
    }

    pub fn pause(mut self, nanos: u64) -> Self {
        self.steps.push(Step::Pause(nanos));
        self
    }

    pub fn build(&self) -> io::Result<UdpCapture> {
        let mut rng = XorShift64::new(self.seed);
        let mut client_ip_id = rng.next_u16();
        let mut server_ip_id = rng.next_u16();
        let client_flow_label = rng.next_u32() & 0x000F_FFFF;
        let server_flow_label = rng.next_u32() & 0x000F_FFFF;
        let mut capture = UdpCapture {
            packets: Vec::new(),
            end_nanos: self.start_nanos,
            payload_up: 0,
            payload_down: 0,
        };
        let mut now = self.start_nanos;
        let mut previous_was_client = true;
        for step in &self.steps {
            let (src, dst, ident, payload) = match step {
                Step::Pause(nanos) => {
                    now = add(now, *nanos)?;
                    continue;
                }
                Step::Client(payload) => {
                    if !previous_was_client {
                        now = add(now, 100_000)?;
                    }
                    previous_was_client = true;
                    client_ip_id = client_ip_id.wrapping_add(1);
                    capture.payload_up += payload.len() as u64;
                    let ident = IpIdent {
                        id: client_ip_id,
                        dont_fragment: false,
                        flow_label: client_flow_label,
                    };
                    (&self.client, &self.server, ident, payload)
                }
                Step::Server(payload) => {
                    now = add(
                        now,
                        if previous_was_client {
                            self.rtt_nanos
                        } else {
                            100_000
                        },
                    )?;
                    previous_was_client = false;
                    server_ip_id = server_ip_id.wrapping_add(1);
                    capture.payload_down += payload.len() as u64;
                    let ident = IpIdent {
                        id: server_ip_id,
                        dont_fragment: false,
                        flow_label: server_flow_label,
                    };
                    (&self.server, &self.client, ident, payload)
                }
            };
            let data = udp_frame(src, dst, self.l2, ident, payload)?;
            capture.packets.push(Packet {
                ts_nanos: now,
                interface: self.interface,
                data,
            });
            capture.end_nanos = now;
        }
        Ok(capture)
    }
}

fn add(ts: u64, nanos: u64) -> io::Result<u64> {
    ts.checked_add(nanos)
        .ok_or_else(|| invalid("timestamp overflow"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn request_then_reply_one_rtt_later() {
        let client = Endpoint::new([2; 6], Ipv4Addr::new(192, 168, 1, 21), 53000);
        let server = Endpoint::new([4; 6], Ipv4Addr::new(192, 168, 1, 1), 53);
        let capture = UdpFlow::new(client, server, 1_000)
            .client(vec![1; 30])
            .server(vec![2; 80])
            .pause(5_000_000)
            .client(vec![3; 10])
            .build()
            .unwrap();
        let times: Vec<u64> = capture.packets.iter().map(|p| p.ts_nanos).collect();
        // The second request leaves 100 µs after the reply, then the 5 ms pause.
        assert_eq!(times, [1_000, 2_001_000, 7_101_000]);
        assert_eq!((capture.payload_up, capture.payload_down), (40, 80));
        assert_eq!(capture.end_nanos, 7_101_000);
        let reply = &capture.packets[1].data;
        assert_eq!(&reply[..6], &[2; 6], "reply goes to the client's MAC");
        assert_eq!(&reply[34..36], &53u16.to_be_bytes(), "source port");
        assert_eq!(&reply[36..38], &53000u16.to_be_bytes(), "destination port");
        assert_eq!(reply.len(), 14 + 20 + 8 + 80);
        assert_eq!(capture.packets[2].data.len(), 60, "short frame padded");
        assert_eq!(
            capture,
            UdpFlow::new(client, server, 1_000)
                .client(vec![1; 30])
                .server(vec![2; 80])
                .pause(5_000_000)
                .client(vec![3; 10])
                .build()
                .unwrap()
        );
    }
}
