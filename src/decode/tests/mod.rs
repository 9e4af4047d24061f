//! Whole-decoder tests on real frames (`fixtures.rs`, taken from the public corpus): one or
//! more per link type and tunnel (`link_types.rs`), fragments (`fragments.rs`), and every prefix
//! of every frame plus random mutations, none of which may panic (`robustness.rs`).
//! Expected values are tshark's (`tshark -T fields -e ip.src ...` on the same frame).

mod fast_path;
mod fixtures;
mod fragments;
mod link_types;
mod robustness;

use super::*;

pub(super) use crate::testkit::hex;

pub(super) fn packet(link_type: u32, data: &[u8], ts_nanos: u64) -> RawPacket<'_> {
    RawPacket {
        ts_nanos,
        link_type,
        orig_len: data.len() as u32,
        data,
    }
}

pub(super) fn ip_of<'a>(decoder: &'a mut Decoder, pkt: &RawPacket<'a>) -> PacketMeta<'a> {
    match decoder.decode(pkt) {
        Ok(Decoded::Ip(meta)) => meta,
        other => panic!("expected an IP packet, got {other:?}"),
    }
}

/// Decodes one frame with a fresh decoder and returns the fields most tests look at.
pub(super) fn summary(
    link_type: u32,
    text: &str,
) -> (String, String, u16, u16, Transport, u32, usize) {
    let data = hex(text);
    let mut decoder = Decoder::new();
    let meta = ip_of(&mut decoder, &packet(link_type, &data, 0));
    (
        meta.src_ip.to_string(),
        meta.dst_ip.to_string(),
        meta.src_port,
        meta.dst_port,
        meta.transport,
        meta.ip_len,
        meta.payload.len(),
    )
}

pub(super) fn mac(text: &str) -> Option<[u8; 6]> {
    let bytes = hex(text);
    bytes.try_into().ok()
}

pub(super) fn s(text: &str) -> String {
    text.to_string()
}
