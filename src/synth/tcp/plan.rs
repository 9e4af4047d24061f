//! The conversation as sent: every segment with its time, numbers and role, before any
//! impairment. Timing model: the client's segments are paced by the uplink and ACKed one RTT
//! later; the server's are paced by the downlink and ACKed by the client almost at once; each
//! side answers only after the other's last bytes arrived.

use std::io;

use super::{add, pace, Close, Step, TcpSession, SERVER_THINK_NANOS, TURNAROUND_NANOS};
use crate::synth::frame::{TcpFlags, SYN_OPTIONS_CLIENT, SYN_OPTIONS_SERVER};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tag {
    Syn,
    SynAck,
    HandshakeAck,
    /// A data segment of message `message`; `client_segment` numbers the client's data
    /// segments across the whole conversation.
    Data {
        message: usize,
        client_segment: Option<usize>,
        copy: bool,
    },
    Ack {
        message: usize,
    },
    Close,
}

#[derive(Debug, Clone)]
pub(super) struct Segment {
    pub(super) ts: u64,
    pub(super) from_client: bool,
    pub(super) seq: u32,
    pub(super) ack: u32,
    pub(super) flags: TcpFlags,
    pub(super) options: &'static [u8],
    pub(super) payload: Vec<u8>,
    pub(super) tag: Tag,
}

impl TcpSession {
    /// The whole conversation as it was sent, before impairments.
    pub(super) fn plan(&self, client_isn: u32, server_isn: u32) -> io::Result<Vec<Segment>> {
        let mut wire = Wire {
            out: Vec::new(),
            client_next: client_isn,
            server_next: server_isn,
        };
        let rtt = self.rtt_nanos;
        let start = self.start_nanos;
        wire.send(
            start,
            true,
            TcpFlags::SYN,
            &SYN_OPTIONS_CLIENT,
            &[],
            Tag::Syn,
        );
        let syn_ack = add(start, rtt)?;
        wire.send(
            syn_ack,
            false,
            TcpFlags::SYN_ACK,
            &SYN_OPTIONS_SERVER,
            &[],
            Tag::SynAck,
        );
        let handshake_ack = add(syn_ack, TURNAROUND_NANOS)?;
        wire.send(
            handshake_ack,
            true,
            TcpFlags::ACK,
            &[],
            &[],
            Tag::HandshakeAck,
        );
        let mut now = add(handshake_ack, TURNAROUND_NANOS)?;

        let mut message = 0usize;
        let mut client_segment = 0usize;
        // When the peer's last bytes were seen; the other side cannot answer before that.
        let mut last_client_send: Option<u64> = None;
        let mut last_server_arrival: Option<u64> = None;
        for step in &self.steps {
            let (from_client, bytes, segment_size) = match step {
                Step::Pause(nanos) => {
                    now = add(now, *nanos)?;
                    continue;
                }
                Step::Client {
                    bytes,
                    segment_size,
                } => {
                    if let Some(seen) = last_server_arrival.take() {
                        // After its own ACK of what it just received.
                        now = now.max(add(seen, 2 * TURNAROUND_NANOS)?);
                    }
                    (true, bytes, *segment_size)
                }
                Step::Server {
                    bytes,
                    segment_size,
                } => {
                    if let Some(sent) = last_client_send.take() {
                        now = now.max(add(add(sent, rtt)?, SERVER_THINK_NANOS)?);
                    }
                    (false, bytes, *segment_size)
                }
            };
            // The receiver's ACK: one RTT later at the capture point for the server, almost
            // at once for the client next to it.
            let (ack_delay, bits_per_sec) = if from_client {
                (rtt, self.up_bits_per_sec)
            } else {
                (TURNAROUND_NANOS, self.down_bits_per_sec)
            };
            let chunks: Vec<&[u8]> = bytes.chunks(segment_size).collect();
            for (i, chunk) in chunks.iter().enumerate() {
                let last = i + 1 == chunks.len();
                let flags = if last {
                    TcpFlags::PSH_ACK
                } else {
                    TcpFlags::ACK
                };
                let numbered = from_client.then_some(client_segment);
                let tag = Tag::Data {
                    message,
                    client_segment: numbered,
                    copy: false,
                };
                wire.send(now, from_client, flags, &[], chunk, tag);
                if last || (i + 1) % self.ack_every == 0 {
                    let ack_at = add(now, ack_delay)?;
                    wire.send(
                        ack_at,
                        !from_client,
                        TcpFlags::ACK,
                        &[],
                        &[],
                        Tag::Ack { message },
                    );
                }
                if from_client {
                    client_segment += 1;
                    last_client_send = Some(now);
                } else {
                    last_server_arrival = Some(now);
                }
                now = add(now, pace(chunk.len(), bits_per_sec))?;
            }
            message += 1;
        }

        // The close waits until the last ACK has been sent.
        let quiet = wire
            .out
            .iter()
            .map(|segment| segment.ts)
            .max()
            .unwrap_or(now);
        let close_at = add(now.max(quiet), TURNAROUND_NANOS)?;
        match self.close {
            Close::Open => {}
            Close::Rst => wire.send(close_at, true, TcpFlags::RST_ACK, &[], &[], Tag::Close),
            Close::Fin => {
                wire.send(close_at, true, TcpFlags::FIN_ACK, &[], &[], Tag::Close);
                let server_fin = add(close_at, rtt)?;
                wire.send(server_fin, false, TcpFlags::FIN_ACK, &[], &[], Tag::Close);
                let last_ack = add(server_fin, TURNAROUND_NANOS)?;
                wire.send(last_ack, true, TcpFlags::ACK, &[], &[], Tag::Close);
            }
        }
        Ok(wire.out)
    }
}

/// Segments as sent, with both sides' next sequence numbers.
struct Wire {
    out: Vec<Segment>,
    client_next: u32,
    server_next: u32,
}

impl Wire {
    /// Appends a segment numbered from the sender's state and advances it (SYN and FIN count
    /// as one byte each).
    fn send(
        &mut self,
        ts: u64,
        from_client: bool,
        flags: TcpFlags,
        options: &'static [u8],
        payload: &[u8],
        tag: Tag,
    ) {
        let (seq, ack) = if from_client {
            (self.client_next, self.server_next)
        } else {
            (self.server_next, self.client_next)
        };
        let advance = (payload.len() as u32)
            .wrapping_add(u32::from(flags.syn))
            .wrapping_add(u32::from(flags.fin));
        if from_client {
            self.client_next = self.client_next.wrapping_add(advance);
        } else {
            self.server_next = self.server_next.wrapping_add(advance);
        }
        self.out.push(Segment {
            ts,
            from_client,
            seq,
            ack: if flags.ack { ack } else { 0 },
            flags,
            options,
            payload: payload.to_vec(),
            tag,
        });
    }
}
