//! IEEE 802.11 (Wi-Fi) link layers: LINKTYPE_IEEE802_11 (105), and the same frames behind a
//! radiotap header (LINKTYPE_IEEE802_11_RADIOTAP, 127, what a card in monitor mode gives) or a
//! PPI header (LINKTYPE_PPI, 192, whose own field names the link type after it).
//!
//! Only data frames carry IP: an RFC 1042 (or bridge-tunnel) LLC/SNAP header names the
//! EtherType, which then goes on as Ethernet's does. What cannot be read is reported as a
//! non-IP frame, counted and never guessed at: management and control frames, data frames
//! without data (Null), protected (encrypted) frames, A-MSDU aggregates, mesh data and plain
//! 802.2 LLC. The frame check sequence, when the capture kept it, trails the payload, where
//! the IP header's own length leaves it out (as it leaves out Ethernet padding). Padding after
//! the 802.11 header (radiotap's "data pad" flag) is skipped.
//!
//! The MAC addresses reported are the frame's source and destination stations (SA and DA,
//! found by the frame's To DS and From DS bits); the access point (BSSID) and a WDS frame's
//! transmitter and receiver are relays, not the devices the traffic belongs to.

use super::link::{by_ethertype, ethernet, LinkFrame, Net};
use super::DecodeError;

const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_IEEE802_11: u32 = 105;

/// LLC/SNAP headers whose last two bytes are an EtherType: RFC 1042 and 802.1H (bridge
/// tunnel), as `AA AA 03` and an OUI.
const SNAP_RFC1042: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
const SNAP_BRIDGE_TUNNEL: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8];

/// Radiotap's flags field: padding between the 802.11 header and the payload.
const RADIOTAP_FLAG_DATAPAD: u8 = 0x20;
/// Present bitmasks chained after the first one (bit 31 of each says another follows); more
/// than this is not a real header.
const MAX_PRESENT_WORDS: usize = 8;

/// A frame that is not IP and not worth more: counted as a non-IP frame.
fn not_ip<'a>(src_mac: Option<[u8; 6]>, dst_mac: Option<[u8; 6]>) -> LinkFrame<'a> {
    LinkFrame {
        src_mac,
        dst_mac,
        vlan: None,
        net: Net::Other {
            ethertype: 0,
            payload: &[],
        },
    }
}

/// LINKTYPE_IEEE802_11: the 802.11 frame alone.
pub(crate) fn ieee80211(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    frame(data, false, false)
}

/// A station's 802.11 frame as its access point relays it to a controller (CAPWAP's native
/// frame format). Cisco's access points send the frame control's two bytes swapped (which
/// Wireshark undoes by default); others do not. A frame relayed from or to a station has To DS
/// or From DS set, which puts a 1 in the protocol version bits when the bytes are swapped: the
/// order whose frame control reads as a version-0 data frame is taken, the one as sent first.
pub(crate) fn relayed(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let data_frame = |fc0: u8| fc0 & 0x03 == 0 && (fc0 >> 2) & 0x03 == 2;
    let swapped = match data {
        [fc0, fc1, ..] => !data_frame(*fc0) && data_frame(*fc1),
        _ => false,
    };
    frame(data, false, swapped)
}

/// LINKTYPE_IEEE802_11_RADIOTAP: a radiotap header (version 0, its length little-endian in
/// bytes 2..4), then the 802.11 frame.
pub(crate) fn radiotap(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let truncated = DecodeError::Malformed("radiotap header truncated");
    let header: [u8; 4] = super::array(data, 0).ok_or(truncated)?;
    if header[0] != 0 {
        return Err(DecodeError::Malformed("radiotap version not 0"));
    }
    let length = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let fields = data
        .get(..length)
        .filter(|_| length >= 8)
        .ok_or(truncated)?;
    let datapad = radiotap_flags(fields).is_some_and(|f| f & RADIOTAP_FLAG_DATAPAD != 0);
    frame(data.get(length..).unwrap_or_default(), datapad, false)
}

/// The flags field of a radiotap header (`header`: the whole header), if present: the fields
/// follow the present bitmasks, TSFT (8 bytes, aligned to 8) first, then flags (1 byte).
fn radiotap_flags(header: &[u8]) -> Option<u8> {
    let word = |at: usize| super::le32(header, at);
    let present = word(4)?;
    let mut at = 8;
    let mut last = present;
    for _ in 0..MAX_PRESENT_WORDS {
        if last & 0x8000_0000 == 0 {
            break;
        }
        last = word(at)?;
        at += 4;
    }
    if present & 0x2 == 0 {
        return None;
    }
    if present & 0x1 != 0 {
        at = at.next_multiple_of(8) + 8;
    }
    header.get(at).copied()
}

/// LINKTYPE_PPI: a PPI header (version 0, its length and the link type of what follows,
/// little-endian), then an 802.11 or Ethernet frame.
pub(crate) fn ppi(data: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let header: [u8; 8] =
        super::array(data, 0).ok_or(DecodeError::Malformed("ppi header truncated"))?;
    if header[0] != 0 {
        return Err(DecodeError::Malformed("ppi version not 0"));
    }
    let length = usize::from(u16::from_le_bytes([header[2], header[3]]));
    let inner = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
    let rest = data
        .get(length..)
        .filter(|_| length >= 8)
        .ok_or(DecodeError::Malformed("ppi header truncated"))?;
    match inner {
        LINKTYPE_IEEE802_11 => frame(rest, false, false),
        LINKTYPE_ETHERNET => ethernet(rest),
        _ => Err(DecodeError::UnsupportedLinkType(inner)),
    }
}

/// An 802.11 frame; `datapad`: the payload starts at the next multiple of 4 after the header.
fn frame(data: &[u8], datapad: bool, swapped: bool) -> Result<LinkFrame<'_>, DecodeError> {
    let truncated = DecodeError::Malformed("802.11 header truncated");
    let control: [u8; 2] = super::array(data, 0).ok_or(truncated)?;
    let [fc0, fc1] = if swapped {
        [control[1], control[0]]
    } else {
        control
    };
    if fc0 & 0x03 != 0 {
        return Err(DecodeError::Malformed("802.11 protocol version not 0"));
    }
    // Type 2 is data; management (0), control (1) and extension (3) frames carry no IP.
    if (fc0 >> 2) & 0x03 != 2 {
        return Ok(not_ip(None, None));
    }
    let (to_ds, from_ds) = (fc1 & 0x01 != 0, fc1 & 0x02 != 0);
    let (protected, order) = (fc1 & 0x40 != 0, fc1 & 0x80 != 0);
    let subtype = fc0 >> 4;
    let (qos, no_data) = (subtype & 0x8 != 0, subtype & 0x4 != 0);
    // Frame control, duration, three addresses, sequence control; a fourth address between
    // two distribution systems; then QoS control, and HT control after it when Order is set.
    let addresses_end = if to_ds && from_ds { 30 } else { 24 };
    let header_len = match (qos, order) {
        (false, _) => addresses_end,
        (true, false) => addresses_end + 2,
        (true, true) => addresses_end + 6,
    };
    let header = data.get(..header_len).ok_or(truncated)?;
    let address = |n: usize| super::array::<6>(header, 4 + 6 * n);
    let (dst, src) = match (to_ds, from_ds) {
        (false, false) => (address(0), address(1)),
        (true, false) => (address(2), address(1)),
        (false, true) => (address(0), address(2)),
        (true, true) => (address(2), super::array::<6>(header, 24)),
    };
    if no_data || protected {
        return Ok(not_ip(src, dst));
    }
    // QoS control: bit 7 marks an A-MSDU (several subframes), bit 8 mesh control.
    let qos_control = header
        .get(addresses_end..addresses_end + 2)
        .unwrap_or(&[0, 0]);
    if qos && (qos_control[0] & 0x80 != 0 || qos_control[1] & 0x01 != 0) {
        return Ok(not_ip(src, dst));
    }
    let body_start = if datapad {
        header_len.next_multiple_of(4)
    } else {
        header_len
    };
    let body = data.get(body_start..).unwrap_or_default();
    let snap = body.get(..6);
    if snap != Some(&SNAP_RFC1042) && snap != Some(&SNAP_BRIDGE_TUNNEL) {
        return Ok(not_ip(src, dst));
    }
    let ethertype =
        super::be16(body, 6).ok_or(DecodeError::Malformed("802.11 llc/snap header truncated"))?;
    let mut vlan = None;
    let net = by_ethertype(ethertype, body.get(8..).unwrap_or_default(), &mut vlan)?;
    Ok(LinkFrame {
        src_mac: src,
        dst_mac: dst,
        vlan,
        net,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const AP: [u8; 6] = [0x02, 0, 0, 0, 0, 0xaa];
    const STA: [u8; 6] = [0x3c, 0x22, 0xfb, 0, 0, 0x10];
    const GW: [u8; 6] = [0x00, 0x11, 0x32, 0, 0, 0x01];
    const IPV4: &[u8] = &[
        0x45, 0, 0, 20, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];

    /// An 802.11 data frame with `fc` as its frame control, `addresses` in order, then what
    /// `extra` adds to the header, then `body`.
    fn wifi(fc: [u8; 2], addresses: &[[u8; 6]], extra: &[u8], body: &[u8]) -> Vec<u8> {
        let mut frame = fc.to_vec();
        frame.extend([0, 0]);
        for (i, a) in addresses.iter().enumerate() {
            if i == 3 {
                frame.extend([0x10, 0]); // sequence control before the fourth address
            }
            frame.extend(a);
        }
        if addresses.len() == 3 {
            frame.extend([0x10, 0]);
        }
        frame.extend(extra);
        frame.extend(body);
        frame
    }

    fn snap_ipv4() -> Vec<u8> {
        let mut body = SNAP_RFC1042.to_vec();
        body.extend([0x08, 0x00]);
        body.extend(IPV4);
        body
    }

    fn ipv4_of(frame: &LinkFrame<'_>) -> Option<Vec<u8>> {
        match frame.net {
            Net::Ipv4(bytes) => Some(bytes.to_vec()),
            _ => None,
        }
    }

    #[test]
    fn data_frames_give_ip_and_the_stations_whatever_the_ds_bits() {
        let body = snap_ipv4();
        // (frame control, addresses as sent, extra header bytes, source, destination)
        type Case = ([u8; 2], Vec<[u8; 6]>, Vec<u8>, [u8; 6], [u8; 6]);
        let cases: [Case; 6] = [
            // To the AP: BSSID, SA, DA.
            ([0x08, 0x01], vec![AP, STA, GW], vec![], STA, GW),
            // From the AP: DA, BSSID, SA.
            ([0x08, 0x02], vec![STA, AP, GW], vec![], GW, STA),
            // Ad hoc: DA, SA, BSSID.
            ([0x08, 0x00], vec![GW, STA, AP], vec![], STA, GW),
            // WDS: RA, TA, DA, SA.
            ([0x08, 0x03], vec![AP, AP, GW, STA], vec![], STA, GW),
            // QoS data to the AP: two bytes of QoS control.
            ([0x88, 0x01], vec![AP, STA, GW], vec![0x00, 0x00], STA, GW),
            // QoS data with Order set: QoS control and four bytes of HT control.
            (
                [0x88, 0x81],
                vec![AP, STA, GW],
                vec![0, 0, 1, 2, 3, 4],
                STA,
                GW,
            ),
        ];
        for (fc, addresses, extra, src, dst) in cases {
            let data = wifi(fc, &addresses, &extra, &body);
            let frame = ieee80211(&data).unwrap();
            assert_eq!(ipv4_of(&frame).as_deref(), Some(IPV4), "{fc:x?}");
            assert_eq!(
                (frame.src_mac, frame.dst_mac),
                (Some(src), Some(dst)),
                "{fc:x?}"
            );
        }
        // The bridge-tunnel SNAP header too, and a trailing frame check sequence is left for
        // the IP layer to cut (its total length says where the packet ends).
        let mut body = SNAP_BRIDGE_TUNNEL.to_vec();
        body.extend([0x08, 0x00]);
        body.extend(IPV4);
        body.extend([0xde, 0xad, 0xbe, 0xef]);
        let data = wifi([0x08, 0x01], &[AP, STA, GW], &[], &body);
        let frame = ieee80211(&data).unwrap();
        assert_eq!(
            ipv4_of(&frame).map(|b| b[..20].to_vec()).as_deref(),
            Some(IPV4)
        );
    }

    #[test]
    fn what_carries_no_readable_ip_is_a_non_ip_frame() {
        let body = snap_ipv4();
        let non_ip = |data: &[u8]| {
            matches!(
                ieee80211(data),
                Ok(LinkFrame {
                    net: Net::Other { .. },
                    ..
                })
            )
        };
        // Beacon (management), ACK-like control frame, Null data, protected data.
        assert!(non_ip(&wifi([0x80, 0x00], &[AP, AP, AP], &[], &[1, 2, 3])));
        assert!(non_ip(&[0xd4, 0x00, 0, 0, 1, 2, 3, 4, 5, 6]));
        assert!(non_ip(&wifi([0x48, 0x01], &[AP, STA, AP], &[], &[])));
        assert!(non_ip(&wifi([0x08, 0x41], &[AP, STA, GW], &[], &body)));
        // A-MSDU and mesh control in QoS data; plain 802.2 LLC (spanning tree).
        assert!(non_ip(&wifi(
            [0x88, 0x01],
            &[AP, STA, GW],
            &[0x80, 0],
            &body
        )));
        assert!(non_ip(&wifi(
            [0x88, 0x01],
            &[AP, STA, GW],
            &[0x00, 0x01],
            &body
        )));
        let stp = wifi([0x08, 0x01], &[AP, STA, GW], &[], &[0x42, 0x42, 0x03, 0, 0]);
        assert!(non_ip(&stp));
        // An unknown protocol version is damage.
        assert!(ieee80211(&wifi([0x09, 0x01], &[AP, STA, GW], &[], &body)).is_err());
    }

    /// A radiotap header with `present` as its first bitmask and `fields` after the bitmasks.
    fn radiotap_header(present: &[u32], fields: &[u8]) -> Vec<u8> {
        let mut header = vec![0, 0, 0, 0];
        for word in present {
            header.extend(word.to_le_bytes());
        }
        header.extend(fields);
        let len = header.len() as u16;
        header[2..4].copy_from_slice(&len.to_le_bytes());
        header
    }

    #[test]
    fn radiotap_and_ppi_headers_are_skipped_to_the_frame() {
        // A QoS data frame (26-byte header); with the data pad flag, two bytes of padding.
        let qos = wifi([0x88, 0x01], &[AP, STA, GW], &[0, 0], &[]);
        let mut padded = qos.clone();
        padded.extend([0, 0]);
        padded.extend(snap_ipv4());
        let mut unpadded = qos;
        unpadded.extend(snap_ipv4());
        let headers = [
            // No fields at all.
            (radiotap_header(&[0], &[]), false),
            // Flags alone, without and with the data pad.
            (radiotap_header(&[0x2], &[0x10, 0, 0, 0]), false),
            (radiotap_header(&[0x2], &[0x30, 0, 0, 0]), true),
            // TSFT (aligned to 8 after two bitmasks), then flags with the data pad.
            (
                radiotap_header(
                    &[0x8000_0003, 0],
                    &[0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x20, 0, 0, 0],
                ),
                true,
            ),
        ];
        for (header, pad) in headers {
            let mut data = header.clone();
            data.extend(if pad { &padded } else { &unpadded });
            let frame = radiotap(&data).unwrap();
            assert_eq!(ipv4_of(&frame).as_deref(), Some(IPV4), "{header:x?}");
            assert_eq!(frame.src_mac, Some(STA));
        }
        assert!(radiotap(&[1, 0, 8, 0, 0, 0, 0, 0]).is_err());
        assert!(radiotap(&[0, 0, 64, 0, 0, 0, 0, 0]).is_err());

        let ppi = |dlt: u32, rest: &[u8]| {
            let mut data = vec![0, 0, 8, 0];
            data.extend(dlt.to_le_bytes());
            data.extend(rest);
            data
        };
        let frame = ppi(105, &unpadded);
        assert_eq!(ipv4_of(&super::ppi(&frame).unwrap()).as_deref(), Some(IPV4));
        let mut ethernet_frame = GW.to_vec();
        ethernet_frame.extend(STA);
        ethernet_frame.extend([0x08, 0x00]);
        ethernet_frame.extend(IPV4);
        let wrapped = ppi(1, &ethernet_frame);
        let frame = super::ppi(&wrapped).unwrap();
        assert_eq!(frame.src_mac, Some(STA));
        assert!(matches!(
            super::ppi(&ppi(147, &unpadded)),
            Err(DecodeError::UnsupportedLinkType(147))
        ));
    }

    #[test]
    fn every_prefix_and_mutation_decodes_or_fails_cleanly() {
        let mut data = radiotap_header(
            &[0x8000_0003, 0],
            &[0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0x20, 0, 0, 0],
        );
        data.extend(wifi(
            [0x88, 0x83],
            &[AP, AP, GW, STA],
            &[0, 0, 1, 2, 3, 4],
            &[0, 0],
        ));
        data.extend(snap_ipv4());
        for end in 0..=data.len() {
            let _ = radiotap(&data[..end]);
            let _ = ieee80211(&data[..end]);
            let _ = ppi(&data[..end]);
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15;
        crate::testkit::mutations(&data, 20_000, 2, &mut seed, |mutated| {
            let _ = radiotap(mutated);
            let _ = ieee80211(mutated.get(20..).unwrap_or_default());
            let _ = ppi(mutated);
        });
    }
}
