//! Synthetic captures: the project's own fixture generator.
//!
//! Integration tests, benches and `cargo run --example make-sample` build their captures here,
//! because public corpus captures must never be copied into the repository. Everything is
//! deterministic: the same calls give the same bytes on every machine, so a committed sample can
//! be compared with freshly generated output.
//!
//! The layers, bottom up: [`rng`] (fixed-seed filler bytes), [`frame`] and [`arp`] (one Ethernet
//! frame with correct lengths and checksums, built by `etherparse`), [`tcp`] and [`udp`] (whole
//! conversations with handshakes, ACKs, pacing and optional impairments), the payload builders
//! [`dns`], [`dhcp`], [`tls`] and [`http`], the [`timeline`] that merges conversations in time
//! order, the file writers [`pcap`] and [`pcapng`] (plus [`gzip`]), the [`scenario`] building
//! blocks (a LAN, its devices, their visits) and the bundled [`sample`].
//!
//! It refuses to be a traffic generator or a parser: nothing here reads packets back, no
//! payload is meaningful beyond what a dissector needs (TLS ciphertext is filler bytes), and
//! nothing is sent on a network. The TLS ClientHello itself is not built here but by
//! `crate::proto::tls::build`, so there is one ClientHello writer in the project.

pub mod arp;
pub mod dhcp;
pub mod dns;
pub mod frame;
pub mod http;
pub mod mirror;
pub mod pcap;
pub mod pcapng;
pub mod pktap;
pub mod rng;
pub mod sample;
pub mod scenario;
pub mod tcp;
pub mod timeline;
pub mod tls;
pub mod udp;
pub mod wifi;

use std::io::{self, Write};

pub use frame::{Endpoint, L2Options};
pub use rng::XorShift64;
pub use tcp::{Close, TcpSession};
pub use timeline::Timeline;
pub use udp::UdpFlow;

/// One generated frame with its capture time and the pcapng interface it was seen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// Index of the pcapng interface (IDB) the frame belongs to; 0 in single-interface files.
    pub interface: u32,
    /// The whole frame, link header included.
    pub data: Vec<u8>,
}

/// Byte order of a capture file's headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Endian {
    #[default]
    Little,
    Big,
}

impl Endian {
    fn u16(self, value: u16) -> [u8; 2] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }

    fn u32(self, value: u32) -> [u8; 4] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }

    fn u64(self, value: u64) -> [u8; 8] {
        match self {
            Endian::Little => value.to_le_bytes(),
            Endian::Big => value.to_be_bytes(),
        }
    }
}

/// Timestamp resolution of a capture file (pcap magic, or pcapng `if_tsresol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsResolution {
    #[default]
    Micro,
    Nano,
}

impl TsResolution {
    /// Units of this resolution per second.
    fn per_second(self) -> u64 {
        match self {
            TsResolution::Micro => 1_000_000,
            TsResolution::Nano => 1_000_000_000,
        }
    }

    /// Converts nanoseconds since the epoch into this resolution's units (truncating).
    fn units(self, ts_nanos: u64) -> u64 {
        match self {
            TsResolution::Micro => ts_nanos / 1_000,
            TsResolution::Nano => ts_nanos,
        }
    }
}

/// LINKTYPE_ETHERNET, the link type of every frame [`frame`] builds.
pub const LINKTYPE_ETHERNET: u16 = 1;
/// LINKTYPE_RAW (raw IPv4/IPv6, no link header), for multi-interface tests.
pub const LINKTYPE_RAW: u16 = 101;
/// LINKTYPE_LINUX_SLL (Linux "cooked" capture v1).
pub const LINKTYPE_LINUX_SLL: u16 = 113;

/// Gzips `bytes` the same way every time: no file name, modification time 0, default level,
/// so a `.pcap.gz` fixture is as reproducible as the capture inside it.
pub fn gzip(bytes: &[u8]) -> io::Result<Vec<u8>> {
    let mut encoder = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::default());
    encoder.write_all(bytes)?;
    encoder.finish()
}

/// An `InvalidInput` error for a request the builders cannot honour (name too long, payload
/// too big for one IP packet, ...).
fn invalid(message: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_deterministic_and_round_trips() {
        use std::io::Read;
        let data = b"shadowai synthetic capture".repeat(50);
        let first = gzip(&data).unwrap();
        assert_eq!(first, gzip(&data).unwrap());
        // Magic, deflate, no flags, mtime 0.
        assert_eq!(&first[..8], &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0]);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&first[..])
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, data);
    }

    #[test]
    fn resolution_units() {
        assert_eq!(TsResolution::Micro.units(1_500_000_999), 1_500_000);
        assert_eq!(TsResolution::Nano.units(1_500_000_999), 1_500_000_999);
        assert_eq!(Endian::Big.u32(1), [0, 0, 0, 1]);
        assert_eq!(Endian::Little.u16(0x0102), [2, 1]);
    }
}
