//! Domain names inside a DNS message: reading one in place (following compression pointers),
//! walking its labels again, and rendering it the way tshark 4.0 does.
//!
//! It refuses to follow more than 255 compression pointers in one name, to read past the
//! message or the caller's step budget, or to copy anything before a caller asks for text.

use super::byte_at;
use super::text;
use crate::proto::{ProtoError, ProtoResult};

/// A name whose text is longer than this is shown as `<Name too long>` (255 bytes on the wire).
const MAX_TEXT_LEN: usize = 253;
/// tshark calls a name looping at its 256th compression pointer, whether or not it revisits a
/// byte; a pointer chain this long is never legitimate.
const MAX_POINTERS: usize = 255;
/// Labels plus pointers a `Labels` name can take: 255 pointers and the 127 labels that fit in
/// 253 characters, plus its end.
const MAX_LABELS_NAME_STEPS: usize = MAX_POINTERS + 128;

/// How a name reads, in tshark's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// One or more labels, at most 253 characters with the dots: a usable name.
    Labels,
    /// No label at all (the root, "."); tshark shows `<Root>`.
    Root,
    /// More than 253 characters; tshark shows `<Name too long>`.
    TooLong,
    /// More than 255 compression pointers (a loop); tshark shows
    /// `<Name contains a pointer that loops>`.
    PointerLoop,
    /// An extended label type (RFC 6891 made them obsolete) that cannot be skipped; tshark
    /// shows `<Unknown extended label>` and reads what follows as if the name ended there.
    UnknownExtendedLabel,
}

/// A domain name inside a message: where it starts and how it reads. Its labels are walked
/// again (compression pointers followed) only when asked for.
#[derive(Debug, Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    offset: usize,
    kind: NameKind,
}

/// Reads the name at `start`; returns it with the length of its in-place encoding (up to and
/// including its terminating zero or first pointer), i.e. where the next field begins.
pub(super) fn read_name<'a>(
    msg: &'a [u8],
    start: usize,
    budget: &mut usize,
) -> ProtoResult<(Name<'a>, usize)> {
    let mut offset = start;
    let mut in_place_len: Option<usize> = None;
    let mut pointers = 0usize;
    // Position of the pointer last seen at a power-of-two count (Brent's cycle detection):
    // meeting it again means the walk repeats forever, which tshark ends as a loop anyway.
    let mut checkpoint = usize::MAX;
    let mut labels = 0usize;
    let mut text_len = 0usize;
    loop {
        *budget = budget
            .checked_sub(1)
            .ok_or(ProtoError::Invalid("DNS message needs too many steps"))?;
        let length_byte = byte_at(msg, offset)?;
        let after = offset.saturating_add(1);
        let name = |kind| Name {
            msg,
            offset: start,
            kind,
        };
        match length_byte & 0xc0 {
            0x00 if length_byte == 0 => {
                let kind = match (labels, text_len) {
                    (0, _) => NameKind::Root,
                    (_, len) if len > MAX_TEXT_LEN => NameKind::TooLong,
                    _ => NameKind::Labels,
                };
                return Ok((
                    name(kind),
                    in_place_len.unwrap_or(after.saturating_sub(start)),
                ));
            }
            0x00 => {
                let end = after.saturating_add(usize::from(length_byte));
                if end > msg.len() {
                    return Err(ProtoError::Incomplete);
                }
                let dot = usize::from(labels > 0);
                text_len = text_len.saturating_add(usize::from(length_byte) + dot);
                labels += 1;
                offset = end;
            }
            0x40 => {
                // tshark 4.0 renders names with bit-string labels (0x41) inconsistently and
                // throws on a name that is nothing but an extended label byte; other types end
                // the name with a placeholder and what follows is read as the next field.
                let len = in_place_len.unwrap_or(after.saturating_sub(start));
                if length_byte == 0x41 || len < 2 {
                    return Err(ProtoError::Invalid("DNS extended label"));
                }
                return Ok((name(NameKind::UnknownExtendedLabel), len));
            }
            0x80 => return Err(ProtoError::Invalid("DNS label type 0x80")),
            _ => {
                let low = byte_at(msg, after)?;
                let in_place =
                    *in_place_len.get_or_insert(after.saturating_add(1).saturating_sub(start));
                pointers += 1;
                if pointers > MAX_POINTERS || offset == checkpoint {
                    return Ok((name(NameKind::PointerLoop), in_place));
                }
                if pointers.is_power_of_two() {
                    checkpoint = offset;
                }
                offset = usize::from(u16::from_be_bytes([length_byte & 0x3f, low]));
            }
        }
    }
}

impl<'a> Name<'a> {
    pub fn kind(&self) -> NameKind {
        self.kind
    }

    /// Offset of the name's first byte in the message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// Where the first label of a `Labels` name is, past the compression pointers it starts
    /// with (`None` for any other kind). Two `Labels` names of one message whose labels start
    /// at the same place have the same labels, and so the same text.
    pub fn labels_start(&self) -> Option<usize> {
        if self.kind != NameKind::Labels {
            return None;
        }
        let mut offset = self.offset;
        // A `Labels` name has at most `MAX_POINTERS` pointers.
        for _ in 0..=MAX_POINTERS {
            let byte = byte_at(self.msg, offset).ok()?;
            if byte & 0xc0 != 0xc0 {
                return Some(offset);
            }
            let low = byte_at(self.msg, offset.saturating_add(1)).ok()?;
            offset = usize::from(u16::from_be_bytes([byte & 0x3f, low]));
        }
        None
    }

    /// The labels, raw bytes, in order (compression followed); empty unless the kind is
    /// `Labels`.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            offset: self.offset,
            steps_left: if self.kind == NameKind::Labels {
                MAX_LABELS_NAME_STEPS
            } else {
                0
            },
        }
    }

    /// Appends tshark's text for this name: labels joined by dots and escaped like Wireshark's
    /// `format_text()` (a dot inside a label is not escaped), or one of its placeholders.
    pub fn write_text(&self, out: &mut String) -> ProtoResult<()> {
        let placeholder = match self.kind {
            NameKind::Labels => None,
            NameKind::Root => Some("<Root>"),
            NameKind::TooLong => Some("<Name too long>"),
            NameKind::PointerLoop => Some("<Name contains a pointer that loops>"),
            NameKind::UnknownExtendedLabel => Some("<Unknown extended label>"),
        };
        if let Some(placeholder) = placeholder {
            out.push_str(placeholder);
            return Ok(());
        }
        // The whole name is escaped at once: Wireshark decodes UTF-8 across the dots.
        let mut raw = [0u8; MAX_TEXT_LEN];
        let mut len = 0;
        for label in self.labels() {
            let parts: [&[u8]; 2] = [if len == 0 { b"" } else { b"." }, label];
            for part in parts {
                let end = len + part.len();
                let slot = raw
                    .get_mut(len..end)
                    .ok_or(ProtoError::Invalid("DNS name changed length"))?;
                slot.copy_from_slice(part);
                len = end;
            }
        }
        text::write_format_text(raw.get(..len).unwrap_or_default(), out);
        Ok(())
    }

    /// The text form as a new string (see `write_text`).
    pub fn to_text(&self) -> ProtoResult<String> {
        let mut out = String::new();
        self.write_text(&mut out)?;
        Ok(out)
    }
}

/// Labels of a name (see `Name::labels`).
#[derive(Debug, Clone)]
pub struct Labels<'a> {
    msg: &'a [u8],
    offset: usize,
    steps_left: usize,
}

impl<'a> Iterator for Labels<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        // The name was checked when it was read, so this walk only stops at its end; every
        // read is still checked, and the step budget bounds it like the first walk.
        while self.steps_left > 0 {
            self.steps_left -= 1;
            let length_byte = *self.msg.get(self.offset)?;
            let after = self.offset.saturating_add(1);
            match length_byte & 0xc0 {
                0x00 if length_byte > 0 => {
                    let end = after.saturating_add(usize::from(length_byte));
                    self.offset = end;
                    return self.msg.get(after..end);
                }
                0xc0 => {
                    let low = *self.msg.get(after)?;
                    self.offset = usize::from(u16::from_be_bytes([length_byte & 0x3f, low]));
                }
                _ => break,
            }
        }
        self.steps_left = 0;
        None
    }
}
