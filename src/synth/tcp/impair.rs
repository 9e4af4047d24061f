//! Impairments for the reassembler's tests: a retransmitted, swapped or lost client segment,
//! a missing SYN, a capture that starts mid-flow. Server segments are never impaired.

use super::plan::{Segment, Tag};
use super::TcpSession;

impl TcpSession {
    /// Applies retransmissions (copies of the originals as sent), then swaps, then drops.
    pub(super) fn impair(&self, segments: &mut Vec<Segment>) {
        for &n in &self.retransmit_client_segments {
            let Some(original) = find_client_segment(segments, n) else {
                continue;
            };
            let Some(mut copy) = segments.get(original).cloned() else {
                continue;
            };
            copy.ts = match find_client_segment(segments, n + 1).and_then(|i| segments.get(i)) {
                Some(next) => next.ts.saturating_add(1_000),
                None => copy.ts.saturating_add(1_000),
            };
            if let Tag::Data { copy: is_copy, .. } = &mut copy.tag {
                *is_copy = true;
            }
            segments.push(copy);
        }
        for &(a, b) in &self.swap_client_segments {
            if let (Some(i), Some(j)) = (
                find_client_segment(segments, a),
                find_client_segment(segments, b),
            ) {
                let ts_i = segments.get(i).map(|s| s.ts);
                let ts_j = segments.get(j).map(|s| s.ts);
                if let (Some(ts_i), Some(ts_j)) = (ts_i, ts_j) {
                    if let Some(s) = segments.get_mut(i) {
                        s.ts = ts_j;
                    }
                    if let Some(s) = segments.get_mut(j) {
                        s.ts = ts_i;
                    }
                }
            }
        }
        segments.retain(|segment| {
            let before_start = match (self.drop_before_message, segment.tag) {
                (None, _) => false,
                (Some(_), Tag::Syn | Tag::SynAck | Tag::HandshakeAck) => true,
                (Some(k), Tag::Data { message, .. } | Tag::Ack { message }) => message < k,
                (Some(_), Tag::Close) => false,
            };
            let dropped = match segment.tag {
                Tag::Syn => self.drop_syn,
                Tag::Data {
                    client_segment: Some(n),
                    copy: false,
                    ..
                } => self.drop_client_segments.contains(&n),
                _ => false,
            };
            !before_start && !dropped
        });
    }
}

/// Index of the original (not a retransmitted copy) client data segment `n`.
fn find_client_segment(segments: &[Segment], n: usize) -> Option<usize> {
    segments.iter().position(|segment| match segment.tag {
        Tag::Data {
            client_segment: Some(k),
            copy: false,
            ..
        } => k == n,
        _ => false,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::testkit::{client, decode, server, Seen};
    use super::super::{Close, TcpSession};

    /// Three client segments of 100 bytes each (0x00.., 0x01.., 0x02..), one server reply.
    fn session() -> TcpSession {
        let bytes: Vec<u8> = (0..300u32).map(|i| (i / 100) as u8).collect();
        TcpSession::new(client(), server(), 0)
            .client_segmented(bytes, 100)
            .server(vec![0xEE; 10])
            .close(Close::Open)
    }

    /// The first payload byte of every client data segment, in capture order.
    fn client_order(session: TcpSession) -> Vec<u8> {
        decode(&session.build().unwrap())
            .iter()
            .filter(|s| s.from_client && !s.payload.is_empty())
            .map(|s| s.payload[0])
            .collect()
    }

    #[test]
    fn untouched_order() {
        assert_eq!(client_order(session()), [0, 1, 2]);
    }

    #[test]
    fn drop_syn_keeps_the_rest_of_the_handshake() {
        let seen = decode(&session().drop_syn().build().unwrap());
        assert!(seen[0].syn && !seen[0].from_client, "SYN-ACK first");
        assert_eq!(seen.iter().filter(|s| s.syn).count(), 1);
    }

    #[test]
    fn drop_before_message_starts_mid_flow() {
        let seen = decode(&session().drop_before_message(1).build().unwrap());
        assert!(!seen.iter().any(|s| s.syn));
        assert!(!seen.iter().any(|s| s.from_client && !s.payload.is_empty()));
        let first: &Seen = &seen[0];
        assert!(!first.from_client && first.payload == vec![0xEE; 10]);
    }

    #[test]
    fn retransmission_follows_the_next_segment() {
        assert_eq!(
            client_order(session().retransmit_client_segment(0)),
            [0, 1, 0, 2]
        );
        assert_eq!(
            client_order(session().retransmit_client_segment(2)),
            [0, 1, 2, 2]
        );
        let capture = session().retransmit_client_segment(0).build().unwrap();
        let seen = decode(&capture);
        let copies: Vec<&Seen> = seen
            .iter()
            .filter(|s| s.from_client && s.payload.first() == Some(&0))
            .collect();
        assert_eq!(copies[0].seq, copies[1].seq, "same sequence number");
        assert_eq!(capture.payload_up, 400, "the copy is counted as captured");
    }

    #[test]
    fn swapped_segments_trade_places() {
        assert_eq!(
            client_order(session().swap_client_segments(0, 1)),
            [1, 0, 2]
        );
        assert_eq!(
            client_order(session().swap_client_segments(0, 2)),
            [2, 1, 0]
        );
        assert_eq!(
            client_order(session().swap_client_segments(0, 9)),
            [0, 1, 2],
            "no such segment"
        );
    }

    #[test]
    fn lost_then_resent() {
        assert_eq!(client_order(session().drop_client_segment(1)), [0, 2]);
        let order = client_order(
            session()
                .drop_client_segment(1)
                .retransmit_client_segment(1),
        );
        assert_eq!(order, [0, 2, 1]);
    }
}
