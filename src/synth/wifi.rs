//! Ethernet frames as a Wi-Fi card in monitor mode captures them (LINKTYPE_IEEE802_11_RADIOTAP):
//! a radiotap header, an 802.11 QoS data frame between a station and its access point, the
//! RFC 1042 LLC/SNAP header with the frame's EtherType, the payload, and the frame check
//! sequence (CRC-32), which the radiotap flags say is there.

use std::io;

use super::invalid;

/// LINKTYPE_IEEE802_11_RADIOTAP.
pub const LINKTYPE_IEEE802_11_RADIOTAP: u16 = 127;

/// Radiotap header: version 0, length 9, present = flags only, flags = FCS at the end.
const RADIOTAP: [u8; 9] = [0, 0, 9, 0, 0x02, 0, 0, 0, 0x10];
const SNAP: [u8; 6] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];

/// `frame` (Ethernet II, no tag) carried over Wi-Fi: To DS when its source is `station`
/// (addresses BSSID, SA, DA), else From DS toward the station (DA, BSSID, SA).
pub fn ethernet_to_radiotap(frame: &[u8], station: [u8; 6], bssid: [u8; 6]) -> io::Result<Vec<u8>> {
    let mut wifi = ethernet_to_80211(frame, station, bssid)?;
    let mut crc = flate2::Crc::new();
    crc.update(&wifi);
    wifi.extend(crc.sum().to_le_bytes());
    let mut captured = RADIOTAP.to_vec();
    captured.extend(wifi);
    Ok(captured)
}

/// The 802.11 QoS data frame of `ethernet_to_radiotap`, alone (no radiotap header, no frame
/// check sequence), as an access point relays it in CAPWAP.
pub fn ethernet_to_80211(frame: &[u8], station: [u8; 6], bssid: [u8; 6]) -> io::Result<Vec<u8>> {
    let (Some(dst), Some(src), Some(ethertype), Some(payload)) = (
        frame.get(0..6),
        frame.get(6..12),
        frame.get(12..14),
        frame.get(14..),
    ) else {
        return Err(invalid("an Ethernet frame is at least 14 bytes"));
    };
    if ethertype == [0x81, 0x00] {
        return Err(invalid("a tagged frame has no 802.11 form here"));
    }
    let to_ap = src == station;
    // QoS data; To DS or From DS.
    let mut wifi = vec![0x88, if to_ap { 0x01 } else { 0x02 }, 0, 0];
    let addresses: [&[u8]; 3] = if to_ap {
        [&bssid, src, dst]
    } else {
        [dst, &bssid, src]
    };
    for address in addresses {
        wifi.extend_from_slice(address);
    }
    wifi.extend([0x10, 0x00, 0x00, 0x00]); // sequence control, QoS control
    wifi.extend(SNAP);
    wifi.extend_from_slice(ethertype);
    wifi.extend_from_slice(payload);
    Ok(wifi)
}
