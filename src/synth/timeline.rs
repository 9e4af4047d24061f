//! Merges the frames of many conversations into one capture in time order, and writes it.
//!
//! Ties keep insertion order (a stable sort), so a scenario is reproducible to the byte. It
//! refuses to invent anything: no frame is added, changed or dropped here.

use std::io;

use super::pcap::{pcap_bytes, PcapFormat};
use super::pcapng::{pcapng_bytes, InterfaceDesc};
use super::{invalid, Endian, Packet};

/// Frames collected from any number of conversations.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timeline {
    packets: Vec<Packet>,
}

impl Timeline {
    pub fn new() -> Self {
        Timeline::default()
    }

    pub fn push(&mut self, packet: Packet) {
        self.packets.push(packet);
    }

    pub fn extend(&mut self, packets: impl IntoIterator<Item = Packet>) {
        self.packets.extend(packets);
    }

    pub fn len(&self) -> usize {
        self.packets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// The frames in capture order.
    pub fn sorted(&self) -> Vec<&Packet> {
        let mut refs: Vec<&Packet> = self.packets.iter().collect();
        refs.sort_by_key(|packet| packet.ts_nanos);
        refs
    }

    /// A pcapng file; `interfaces[i]` describes the interface of packets with `interface == i`.
    pub fn to_pcapng(&self, endian: Endian, interfaces: &[InterfaceDesc]) -> io::Result<Vec<u8>> {
        pcapng_bytes(endian, interfaces, self.sorted())
    }

    /// A pcap file; every packet must be on interface 0, since pcap has one link type.
    pub fn to_pcap(&self, format: PcapFormat) -> io::Result<Vec<u8>> {
        if self.packets.iter().any(|packet| packet.interface != 0) {
            return Err(invalid("pcap holds one interface; use pcapng"));
        }
        pcap_bytes(
            format,
            self.sorted()
                .into_iter()
                .map(|packet| (packet.ts_nanos, packet.data.as_slice())),
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn packet(ts_nanos: u64, tag: u8) -> Packet {
        Packet {
            ts_nanos,
            interface: 0,
            data: vec![tag],
        }
    }

    #[test]
    fn sorts_by_time_and_keeps_ties_in_insertion_order() {
        let mut timeline = Timeline::new();
        timeline.extend([packet(30, 1), packet(10, 2)]);
        timeline.push(packet(30, 3));
        timeline.push(packet(20, 4));
        let order: Vec<u8> = timeline.sorted().iter().map(|p| p.data[0]).collect();
        assert_eq!(order, [2, 4, 1, 3]);
        assert_eq!(timeline.len(), 4);
    }

    #[test]
    fn pcap_refuses_a_second_interface() {
        let mut timeline = Timeline::new();
        timeline.push(packet(1, 1));
        assert!(timeline.to_pcap(PcapFormat::default()).is_ok());
        timeline.push(Packet {
            interface: 1,
            ..packet(2, 2)
        });
        assert!(timeline.to_pcap(PcapFormat::default()).is_err());
        let ifaces = [InterfaceDesc::new(1), InterfaceDesc::new(101)];
        assert!(timeline.to_pcapng(Endian::Little, &ifaces).is_ok());
        assert!(timeline.to_pcapng(Endian::Little, &ifaces[..1]).is_err());
    }
}
