//! Text as tshark 4.0 produces it, shared by the name parsers (DHCP, NetBIOS): Wireshark's
//! `ENC_ASCII` strings, `get_dns_name()` over a message or an option value (the DNS parser has
//! its own reader, shaped by whole-message DNS rules), and the escaping `tshark -T fields`
//! applies when it prints a string.
//!
//! Nothing here decides what is a valid name; it reproduces what tshark shows, quirks included,
//! so the parsers' values can be diffed against the corpus ground truth.

use std::borrow::Cow;
use std::fmt::Write as _;

use crate::proto::{ProtoError, ProtoResult};

// Wireshark's `format_text()`, written for the DNS parser.
pub(crate) use crate::proto::dns::text::write_format_text;

/// A text option up to its first NUL: the end of a C string, which some clients send
/// (Cisco IP phones, Windows CE: "Microsoft Windows CE\0"), and where tshark stops too.
pub(crate) fn until_nul(bytes: &[u8]) -> &[u8] {
    bytes.split(|&b| b == 0).next().unwrap_or_default()
}

/// Wireshark's `ENC_ASCII` string: the bytes up to the first NUL, ASCII kept (control
/// characters included), every other byte one U+FFFD.
pub(crate) fn tshark_ascii(bytes: &[u8]) -> Cow<'_, str> {
    let bytes = until_nul(bytes);
    if bytes.is_ascii() {
        // ASCII is valid UTF-8; the fallback is never taken.
        return String::from_utf8_lossy(bytes);
    }
    Cow::Owned(
        bytes
            .iter()
            .map(|&b| if b < 0x80 { char::from(b) } else { '\u{FFFD}' })
            .collect(),
    )
}

/// Appends `value` as `tshark -T fields` prints a string field: backspace, form feed, newline,
/// carriage return and tab as `\b \f \n \r \t`, everything else (other control characters too)
/// as is.
pub fn write_fields_text(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ => out.push(c),
        }
    }
}

/// Longest name text Wireshark builds (`MAX_DNAME_LEN`, terminating NUL included).
const MAX_DNAME_LEN: usize = 255;
/// Pointers Wireshark follows before calling a name looping.
const MAX_POINTERS: usize = MAX_DNAME_LEN;
/// Name-walk steps a message may spend, per byte (as in `dns.rs`): a hostile message stays
/// linear in its size however its pointers chain.
const STEPS_PER_MESSAGE_BYTE: usize = 32;
const MIN_STEP_BUDGET: usize = 4096;

/// Step budget for walking the names of one message of `len` bytes.
pub(crate) fn name_step_budget(len: usize) -> usize {
    len.saturating_mul(STEPS_PER_MESSAGE_BYTE)
        .saturating_add(MIN_STEP_BUDGET)
}

/// The result of Wireshark 4.0's `get_dns_name()`: the raw text it builds (labels joined by
/// dots, not escaped), or one of its placeholders.
#[derive(Clone)]
pub(crate) struct ExpandedName {
    buf: [u8; MAX_DNAME_LEN],
    /// Bytes written to `buf`.
    written: usize,
    /// Wireshark's `name_len`: the label bytes and dots only (bit-string label text is written
    /// but not counted, a Wireshark quirk that `format_text(name, name_len)` then shows).
    counted: usize,
    pub(crate) placeholder: Option<&'static str>,
    /// Bytes of the name in place (up to its end or first pointer): where the next field is.
    pub(crate) consumed: usize,
}

impl ExpandedName {
    /// The text as a C string: up to the first NUL (or the placeholder).
    pub(crate) fn c_str(&self) -> &[u8] {
        if let Some(text) = self.placeholder {
            return text.as_bytes();
        }
        let written = self.buf.get(..self.written).unwrap_or_default();
        written.split(|&b| b == 0).next().unwrap_or_default()
    }
    /// The `name_len` bytes (what `format_text(name, name_len)` shows).
    pub(crate) fn counted(&self) -> &[u8] {
        self.buf.get(..self.counted).unwrap_or_default()
    }
    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.buf.get_mut(self.written) {
            *slot = byte;
            self.written += 1;
        }
    }
    fn with_placeholder(mut self, text: &'static str) -> Self {
        self.placeholder = Some(text);
        self
    }
}

/// Wireshark 4.0's `get_dns_name(tvb, start, max_len, data_offset)` over `tvb` (a message or an
/// option value): labels, RFC 2673 bit-string labels, pointers counted from `data_offset`, a
/// `max_len` (0 = none) past which it stops between labels and throws inside one. Its throws are
/// errors here: `Incomplete` for a read past `tvb`, `Invalid` for the rest. `budget` is shared by
/// all names of one message (see `name_step_budget`).
pub(crate) fn expand_dns_name(
    tvb: &[u8],
    start: usize,
    max_len: usize,
    data_offset: usize,
    budget: &mut usize,
) -> ProtoResult<ExpandedName> {
    let byte = |at: usize| tvb.get(at).copied().ok_or(ProtoError::Incomplete);
    // Past `max_len` from the start; offsets before the start (after a pointer) never are.
    let past_max = |at: usize| max_len != 0 && at > start && at - start > max_len - 1;
    let mut name = ExpandedName {
        buf: [0; MAX_DNAME_LEN],
        written: 0,
        counted: 0,
        placeholder: None,
        consumed: 0,
    };
    // Room left, as Wireshark counts it (it can go below zero).
    let mut room = MAX_DNAME_LEN as isize;
    let mut offset = start;
    let mut in_place: Option<usize> = None;
    let mut pointers = 0usize;
    loop {
        *budget = budget
            .checked_sub(1)
            .ok_or(ProtoError::Invalid("DNS name needs too many steps"))?;
        if past_max(offset) {
            break;
        }
        let length_byte = byte(offset)?;
        offset += 1;
        if length_byte == 0 {
            break;
        }
        match length_byte & 0xc0 {
            0x00 => {
                if name.written != 0 {
                    if room > 0 {
                        name.push(b'.');
                        name.counted += 1;
                        room -= 1;
                    }
                } else {
                    room -= 1;
                }
                for _ in 0..length_byte {
                    if past_max(offset) {
                        return Err(ProtoError::Invalid("DNS label past the field"));
                    }
                    if room > 0 {
                        name.push(byte(offset)?);
                        name.counted += 1;
                        room -= 1;
                    }
                    offset += 1;
                }
            }
            0x40 if length_byte & 0x3f == 0x01 => {
                // Bit-string label: `\[x<hex>/<bits>]`, each piece written only if it fits;
                // a piece exactly as long as the room left loses its last byte to snprintf's NUL.
                let bit_count = byte(offset)?;
                offset += 1;
                let label_len = (usize::from(bit_count).max(1) - 1) / 8 + 1;
                let write_piece = |piece: &[u8], name: &mut ExpandedName, room: &mut isize| {
                    if *room <= 0 {
                        return;
                    }
                    let len = piece.len() as isize;
                    if len <= *room {
                        let keep = if len == *room {
                            piece.len() - 1
                        } else {
                            piece.len()
                        };
                        for &b in piece.get(..keep).unwrap_or_default() {
                            name.push(b);
                        }
                        if len == *room {
                            name.push(0);
                        }
                        *room -= len;
                    } else {
                        *room = 0;
                    }
                };
                write_piece(b"\\[x", &mut name, &mut room);
                for _ in 0..label_len {
                    if room > 0 {
                        let mut hex = [0u8; 2];
                        let value = byte(offset)?;
                        let digits = b"0123456789abcdef";
                        hex[0] = digits.get(usize::from(value >> 4)).copied().unwrap_or(b'0');
                        hex[1] = digits.get(usize::from(value & 15)).copied().unwrap_or(b'0');
                        write_piece(&hex, &mut name, &mut room);
                    }
                    offset += 1;
                }
                let mut tail = String::new();
                let _ = write!(tail, "/{bit_count}]");
                write_piece(tail.as_bytes(), &mut name, &mut room);
            }
            0x40 => {
                // Wireshark measures this one from wherever the walk is, pointers or not.
                let consumed = offset as isize - start as isize;
                return get_dns_name_checks(
                    name.with_placeholder("<Unknown extended label>"),
                    consumed,
                );
            }
            0x80 => return Err(ProtoError::Invalid("DNS label type 0x80")),
            _ => {
                let low = byte(offset)?;
                let target = data_offset
                    .saturating_add(usize::from(u16::from_be_bytes([length_byte & 0x3f, low])));
                offset += 1;
                pointers += 1;
                let consumed = *in_place.get_or_insert_with(|| offset.saturating_sub(start));
                if target == offset + 2 || pointers > MAX_POINTERS {
                    let name = name.with_placeholder("<Name contains a pointer that loops>");
                    return get_dns_name_checks(name, consumed as isize);
                }
                offset = target;
            }
        }
    }
    let consumed = in_place.unwrap_or(offset.saturating_sub(start));
    if room <= 0 {
        name = name.with_placeholder("<Name too long>");
    }
    get_dns_name_checks(name, consumed as isize)
}

/// What `get_dns_name()` adds to `expand_dns_name()`: an empty text read from at most two bytes
/// is the root; a name shorter than two bytes, or an empty text from more (a pointer to the
/// root, say), is a throw.
fn get_dns_name_checks(mut name: ExpandedName, consumed: isize) -> ProtoResult<ExpandedName> {
    const MIN_DNAME_LEN: isize = 2;
    let empty_text =
        name.placeholder.is_none() && (name.written == 0 || name.buf.first() == Some(&0));
    if empty_text && consumed <= MIN_DNAME_LEN {
        name.placeholder = Some("<Root>");
        name.consumed = usize::try_from(consumed).unwrap_or_default();
        return Ok(name);
    }
    let counted = match name.placeholder {
        Some(text) => text.len(),
        None => name.counted,
    };
    if consumed < MIN_DNAME_LEN || (consumed > MIN_DNAME_LEN && counted == 0) {
        return Err(ProtoError::Invalid("DNS name too short"));
    }
    name.consumed = usize::try_from(consumed).unwrap_or_default();
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testkit::hex;

    #[test]
    fn expand_dns_name_edge_cases() {
        let mut budget = usize::MAX;
        // Pointer chain that never ends: a loop after 255 pointers.
        let looping = hex("c000");
        let name = expand_dns_name(&looping, 0, 0, 0, &mut budget).unwrap();
        assert_eq!(name.c_str(), b"<Name contains a pointer that loops>");
        // Bit-string label: written but not counted.
        let bits = hex("4108aa 0161 00");
        let name = expand_dns_name(&bits, 0, 0, 0, &mut budget).unwrap();
        assert_eq!(name.c_str(), b"\\[xaa/8].a");
        // Only `name_len` bytes are shown, and it counted the dot and label only.
        assert_eq!(name.counted(), b"\\[");
        // A long name becomes <Name too long>.
        let mut long = Vec::new();
        for _ in 0..5 {
            long.push(63);
            long.extend([b'a'; 63]);
        }
        long.push(0);
        let name = expand_dns_name(&long, 0, 0, 0, &mut budget).unwrap();
        assert_eq!(name.c_str(), b"<Name too long>");
        // The budget stops a hostile walk.
        let mut small = 10;
        assert!(expand_dns_name(&looping, 0, 0, 0, &mut small).is_err());
    }

    #[test]
    fn ascii_and_fields_escaping() {
        assert_eq!(tshark_ascii(b"ab\0cd"), "ab");
        assert_eq!(tshark_ascii(b"\xc3\xa9x"), "\u{FFFD}\u{FFFD}x");
        let mut out = String::new();
        write_fields_text("a\tb\n\u{1}\\", &mut out);
        assert_eq!(out, "a\\tb\\n\u{1}\\");
    }
}
