//! Packet sources: capture files (pcap, pcapng, gzip, stdin) and live interfaces (libpcap).
//! A source yields raw frames with their timestamp and link type; it never parses protocols.

/// One captured frame, borrowed from the source's buffer.
#[derive(Debug, Clone, Copy)]
pub struct RawPacket<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// LINKTYPE_* value of the interface this frame was captured on.
    pub link_type: u32,
    /// Length of the frame on the wire (may exceed `data.len()` when the snaplen cut it).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: &'a [u8],
}

pub mod batch;
pub mod file;
pub mod live;
mod pcap;
mod pcapng;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod test_fixtures;
