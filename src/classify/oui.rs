//! The IEEE's MAC prefix registry (MA-S, MA-M, MA-L, CID and IAB, from the `oui-data` crate):
//! which organisation a MAC address's prefix was registered to. The tables are built by
//! `build.rs` as two plain files compiled in, so starting the program patches no pointers for
//! them (the crate's own table cost 3–4 ms at every start).

/// Sorted 16-byte records: key (number of hex digits << 40 | the prefix), then the offset and
/// length of the organisation's name in `NAMES`, all little-endian.
static RECORDS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/oui_records.bin"));
static NAMES: &str = include_str!(concat!(env!("OUT_DIR"), "/oui_names.txt"));
const RECORD: usize = 16;

/// The organisation of the longest registered prefix of `mac`: 36 bits (MA-S, IAB), then 28
/// (MA-M), then 24 (MA-L, CID), as `oui_data::lookup` tries them.
pub fn organization(mac: [u8; 6]) -> Option<&'static str> {
    let [a, b, c, d, e, f] = mac;
    let value = u64::from_be_bytes([0, 0, a, b, c, d, e, f]);
    [9u64, 7, 6]
        .into_iter()
        .find_map(|digits| find(digits << 40 | value >> (48 - 4 * digits)))
}

/// The name of the record whose key is `key`, by binary search.
fn find(key: u64) -> Option<&'static str> {
    let (records, _) = RECORDS.as_chunks::<RECORD>();
    let at = records.binary_search_by_key(&key, |r| fields(r).0).ok()?;
    let (offset, len) = fields(records.get(at)?).1;
    NAMES.get(offset as usize..offset as usize + len as usize)
}

/// A record's key, and its name's offset and length.
fn fields(record: &[u8; RECORD]) -> (u64, (u32, u32)) {
    let [k0, k1, k2, k3, k4, k5, k6, k7, o0, o1, o2, o3, l0, l1, l2, l3] = *record;
    let key = u64::from_le_bytes([k0, k1, k2, k3, k4, k5, k6, k7]);
    let offset = u32::from_le_bytes([o0, o1, o2, o3]);
    let len = u32::from_le_bytes([l0, l1, l2, l3]);
    (key, (offset, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crate_answer(mac: [u8; 6]) -> Option<&'static str> {
        let text: String = mac.iter().map(|b| format!("{b:02X}")).collect();
        oui_data::lookup(&text).map(|r| r.organization())
    }

    #[test]
    fn every_registered_prefix_answers_as_the_crate_does() {
        let mut checked = 0;
        for (prefix, _) in oui_data::OUI_ENTRIES.entries() {
            // The prefix's first and last address (zeros, then ones, after it).
            for fill in ['0', 'F'] {
                let mut text = prefix.to_string();
                while text.len() < 12 {
                    text.push(fill);
                }
                let value = u64::from_str_radix(&text, 16).unwrap();
                let mac: [u8; 6] = value.to_be_bytes()[2..].try_into().unwrap();
                assert_eq!(organization(mac), crate_answer(mac), "{text}");
                checked += 1;
            }
        }
        assert!(checked > 60_000, "{checked}");
    }

    #[test]
    fn unregistered_and_spread_addresses_answer_as_the_crate_does() {
        // A walk over the whole address space with a large odd step.
        let mut value: u64 = 0;
        for _ in 0..20_000 {
            value = (value + 0x0000_9e37_79b9_7f4b) & 0xffff_ffff_ffff;
            let mac: [u8; 6] = value.to_be_bytes()[2..].try_into().unwrap();
            assert_eq!(organization(mac), crate_answer(mac), "{value:012x}");
        }
        assert_eq!(organization([0, 0, 0, 1, 2, 3]), Some("XEROX CORPORATION"));
        assert_eq!(
            organization([0x8c, 0x1f, 0x64, 0xaf, 0xa0, 0x00]),
            Some("DATA ELECTRONIC DEVICES, INC")
        );
    }
}
