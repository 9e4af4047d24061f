//! DNS messages (RFC 1035) as they travel over UDP and TCP, and the same format for mDNS and
//! LLMNR: the header, the questions, the resource records and the names in them, read in place
//! from the borrowed message. Nothing is copied until a caller asks for a name as text.
//!
//! Names are rendered the way tshark 4.0 renders them (`<Root>`, `<Name too long>`, `<Name
//! contains a pointer that loops>`, `<Unknown extended label>`, Wireshark's escaping of odd
//! bytes) so that `shadowai inspect` can be diffed against tshark's ground truth; where tshark
//! gives up on a message (an exception, "Malformed Packet"), this parser returns an error at the
//! same place, after yielding what tshark showed before it.
//!
//! It refuses to: guess which port carries DNS (the caller decides), decode record data beyond
//! the types that name hosts (A, AAAA, CNAME, PTR, NS, MX, SRV, SVCB, HTTPS; the rest stay raw
//! bytes), follow more than 255 compression pointers in one name, or panic on any input.

mod text;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use super::{ProtoError, ProtoResult};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;

/// Opcode of a dynamic update (RFC 2136): its sections are zones, prerequisites and updates,
/// not questions and answers, so it carries no name signal.
pub const OPCODE_UPDATE: u8 = 5;

/// A name whose text is longer than this is shown as `<Name too long>` (255 bytes on the wire).
const MAX_TEXT_LEN: usize = 253;
/// tshark calls a name looping at its 256th compression pointer, whether or not it revisits a
/// byte; a pointer chain this long is never legitimate.
const MAX_POINTERS: usize = 255;
/// Labels plus pointers a `Labels` name can take: 255 pointers and the 127 labels that fit in
/// 253 characters, plus its end.
const MAX_LABELS_NAME_STEPS: usize = MAX_POINTERS + 128;
/// Labels plus pointers that one pass over a message may read, per message byte. tshark reads
/// a too-long or looping name up to its 256th pointer however many labels that takes (the
/// corpus has a 2.7 kB "name bomb" needing 1,099 steps per name), so a fixed per-name cap
/// would disagree with it; a budget in proportion to the message keeps a hostile message
/// linear in its size instead of (names x pointers x labels).
const STEPS_PER_MESSAGE_BYTE: usize = 32;
const MIN_STEP_BUDGET: usize = 4096;

fn step_budget(msg: &[u8]) -> usize {
    msg.len()
        .saturating_mul(STEPS_PER_MESSAGE_BYTE)
        .saturating_add(MIN_STEP_BUDGET)
}

/// Record types this module decodes.
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const PTR: u16 = 12;
    pub const MX: u16 = 15;
    pub const TXT: u16 = 16;
    pub const AAAA: u16 = 28;
    pub const SRV: u16 = 33;
    pub const SVCB: u16 = 64;
    pub const HTTPS: u16 = 65;
}

fn byte_at(bytes: &[u8], offset: usize) -> ProtoResult<u8> {
    bytes.get(offset).copied().ok_or(ProtoError::Incomplete)
}

fn u16_at(bytes: &[u8], offset: usize) -> ProtoResult<u16> {
    let end = offset.checked_add(2).ok_or(ProtoError::Incomplete)?;
    match bytes.get(offset..end) {
        Some(&[high, low]) => Ok(u16::from_be_bytes([high, low])),
        _ => Err(ProtoError::Incomplete),
    }
}

fn u32_at(bytes: &[u8], offset: usize) -> ProtoResult<u32> {
    let end = offset.checked_add(4).ok_or(ProtoError::Incomplete)?;
    match bytes.get(offset..end) {
        Some(&[a, b, c, d]) => Ok(u32::from_be_bytes([a, b, c, d])),
        _ => Err(ProtoError::Incomplete),
    }
}

/// One DNS message: the parsed header over the whole message bytes.
///
/// A message is always whole (a UDP payload or one TCP length-prefixed unit), so
/// `ProtoError::Incomplete` from anything in here means it was cut short (snap length, a lying
/// count) and no later bytes will complete it.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    bytes: &'a [u8],
    id: u16,
    flags: u16,
    counts: [u16; 4],
}

/// Checks the 12-byte header only; sections are read lazily by the iterators.
pub fn parse(msg: &[u8]) -> ProtoResult<Message<'_>> {
    Ok(Message {
        bytes: msg,
        id: u16_at(msg, 0)?,
        flags: u16_at(msg, 2)?,
        counts: [
            u16_at(msg, 4)?,
            u16_at(msg, 6)?,
            u16_at(msg, 8)?,
            u16_at(msg, 10)?,
        ],
    })
}

impl<'a> Message<'a> {
    /// The whole message, header included (compression pointers count from its first byte).
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }
    pub fn id(&self) -> u16 {
        self.id
    }
    pub fn flags(&self) -> u16 {
        self.flags
    }
    /// QR bit.
    pub fn is_response(&self) -> bool {
        self.flags & 0x8000 != 0
    }
    pub fn opcode(&self) -> u8 {
        ((self.flags >> 11) & 0x0f) as u8
    }
    /// TC bit: a truncated UDP answer; the client retries over TCP.
    pub fn is_truncated(&self) -> bool {
        self.flags & 0x0200 != 0
    }
    pub fn rcode(&self) -> u8 {
        (self.flags & 0x000f) as u8
    }
    pub fn question_count(&self) -> u16 {
        self.counts[0]
    }
    pub fn answer_count(&self) -> u16 {
        self.counts[1]
    }
    pub fn authority_count(&self) -> u16 {
        self.counts[2]
    }
    pub fn additional_count(&self) -> u16 {
        self.counts[3]
    }

    /// The question section, as many entries as the header says; an entry that does not parse
    /// ends the iteration with its error.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.bytes,
            offset: HEADER_LEN,
            remaining: self.question_count(),
            budget: step_budget(self.bytes),
        }
    }

    /// The answer section only (what a passive DNS map wants).
    pub fn answers(&self) -> Records<'a> {
        self.records_of([self.answer_count(), 0, 0])
    }

    /// Answer, authority and additional records in wire order, each tagged with its section
    /// (mDNS puts useful records in the additional section).
    pub fn records(&self) -> Records<'a> {
        self.records_of([
            self.answer_count(),
            self.authority_count(),
            self.additional_count(),
        ])
    }

    fn records_of(&self, remaining: [u16; 3]) -> Records<'a> {
        // The records start after the questions, which have to be walked to be skipped.
        let mut questions = self.questions();
        let mut start = Ok(HEADER_LEN);
        for question in questions.by_ref() {
            if let Err(error) = question {
                start = Err(error);
                break;
            }
        }
        match start {
            Ok(_) => Records {
                msg: self.bytes,
                offset: questions.offset,
                remaining,
                section: 0,
                pending_error: None,
                budget: step_budget(self.bytes),
            },
            Err(error) => Records {
                msg: self.bytes,
                offset: self.bytes.len(),
                remaining: [0; 3],
                section: 0,
                pending_error: Some(error),
                budget: 0,
            },
        }
    }
}

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
fn read_name<'a>(
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

/// One entry of the question section.
#[derive(Debug, Clone, Copy)]
pub struct Question<'a> {
    pub name: Name<'a>,
    pub qtype: u16,
    /// Raw class; in mDNS the top bit asks for a unicast reply.
    pub qclass: u16,
}

/// Iterator over the question section (see `Message::questions`).
#[derive(Debug, Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    offset: usize,
    remaining: u16,
    /// Name steps left for this pass (see `STEPS_PER_MESSAGE_BYTE`).
    budget: usize,
}

impl Questions<'_> {
    /// Offset just past the last question read so far.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for Questions<'a> {
    type Item = ProtoResult<Question<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let parsed =
            read_name(self.msg, self.offset, &mut self.budget).and_then(|(name, name_len)| {
                let fixed = self.offset.saturating_add(name_len);
                let question = Question {
                    name,
                    qtype: u16_at(self.msg, fixed)?,
                    qclass: u16_at(self.msg, fixed.saturating_add(2))?,
                };
                Ok((question, fixed.saturating_add(4)))
            });
        match parsed {
            Ok((question, next)) => {
                self.offset = next;
                Some(Ok(question))
            }
            Err(error) => {
                self.remaining = 0;
                Some(Err(error))
            }
        }
    }
}

/// The section a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

/// Record data, decoded for the types that name hosts.
#[derive(Debug, Clone, Copy)]
pub enum RData<'a> {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(Name<'a>),
    Ptr(Name<'a>),
    Ns(Name<'a>),
    Mx {
        preference: u16,
        exchange: Name<'a>,
    },
    Srv {
        priority: u16,
        weight: u16,
        port: u16,
        target: Name<'a>,
    },
    /// SVCB or HTTPS (the record's type says which); priority 0 is alias mode.
    Svcb {
        priority: u16,
        target: Name<'a>,
        /// SvcParams, undecoded.
        params: &'a [u8],
    },
    /// A type this module does not decode (TXT, SOA, OPT, ...), raw.
    Other(&'a [u8]),
    /// A decoded type whose data is too short for its fixed fields or whose name does not
    /// parse; raw. tshark shows such a record with empty data.
    Malformed(&'a [u8]),
}

/// One resource record.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    pub section: Section,
    pub owner: Name<'a>,
    pub rtype: u16,
    /// Raw class; in mDNS the top bit is cache-flush.
    pub class: u16,
    pub ttl: u32,
    pub data: RData<'a>,
}

/// Iterator over records (see `Message::answers`, `Message::records`). Yields exactly as many
/// records as the header announces, or stops after the first error.
#[derive(Debug, Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    offset: usize,
    /// Records left in the answer, authority and additional sections.
    remaining: [u16; 3],
    section: usize,
    /// An error to report on the next call: a record whose data overran its length is still
    /// yielded (tshark shows it) but nothing after it is read.
    pending_error: Option<ProtoError>,
    /// Name steps left for this pass (see `STEPS_PER_MESSAGE_BYTE`).
    budget: usize,
}

impl Records<'_> {
    /// Offset just past the last record read so far.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// True when every question and record of `message` parses and the last one ends exactly at
/// the end of the bytes: the test for a DNS message found inside another protocol (a DNS over
/// HTTPS body), where a valid 12-byte header alone proves nothing.
pub fn is_whole_message(message: &Message<'_>) -> bool {
    if message.opcode() != 0 || message.question_count() == 0 {
        return false;
    }
    let mut questions = 0usize;
    for question in message.questions() {
        if question.is_err() {
            return false;
        }
        questions += 1;
    }
    if questions != usize::from(message.question_count()) {
        return false;
    }
    let expected = usize::from(message.answer_count())
        + usize::from(message.authority_count())
        + usize::from(message.additional_count());
    let mut records = message.records();
    let mut count = 0usize;
    for record in records.by_ref() {
        if record.is_err() {
            return false;
        }
        count += 1;
    }
    let end = if expected == 0 {
        // No records: the questions must fill the message.
        let mut qs = message.questions();
        for _ in qs.by_ref() {}
        qs.offset()
    } else {
        records.offset()
    };
    count == expected && end == message.bytes().len()
}

impl<'a> Iterator for Records<'a> {
    type Item = ProtoResult<Record<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(error) = self.pending_error.take() {
            self.remaining = [0; 3];
            return Some(Err(error));
        }
        while self.remaining.get(self.section) == Some(&0) {
            self.section += 1;
        }
        let left = self.remaining.get_mut(self.section)?;
        *left -= 1;
        let section = match self.section {
            0 => Section::Answer,
            1 => Section::Authority,
            _ => Section::Additional,
        };
        match read_record(self.msg, self.offset, section, &mut self.budget) {
            Ok((record, next, stop)) => {
                self.offset = next;
                self.pending_error = stop;
                Some(Ok(record))
            }
            Err(error) => {
                self.remaining = [0; 3];
                Some(Err(error))
            }
        }
    }
}

/// Reads the record at `start`: the record, where the next one starts, and the error to stop
/// on after it when its data did not parse or a name in it ran past the data length (tshark
/// shows such a record, then stops).
fn read_record<'a>(
    msg: &'a [u8],
    start: usize,
    section: Section,
    budget: &mut usize,
) -> ProtoResult<(Record<'a>, usize, Option<ProtoError>)> {
    let (owner, name_len) = read_name(msg, start, budget)?;
    let fixed = start.saturating_add(name_len);
    let rtype = u16_at(msg, fixed)?;
    let class = u16_at(msg, fixed.saturating_add(2))?;
    let ttl = u32_at(msg, fixed.saturating_add(4))?;
    let data_len = usize::from(u16_at(msg, fixed.saturating_add(8))?);
    let data_start = fixed.saturating_add(10);
    let data_end = data_start.saturating_add(data_len);
    let rdata = msg
        .get(data_start..data_end)
        .ok_or(ProtoError::Incomplete)?;
    let overrun = ProtoError::Invalid("DNS record data overruns its length");
    let (data, stop) = match read_rdata(msg, rtype, data_start, rdata, budget) {
        Ok((data, name_end)) => (data, (name_end > data_end).then_some(overrun)),
        // Like tshark, the record is still shown (with no data) and the message ends there.
        Err(error) => (RData::Malformed(rdata), Some(error)),
    };
    let record = Record {
        section,
        owner,
        rtype,
        class,
        ttl,
        data,
    };
    Ok((record, data_end, stop))
}

/// Decodes record data. Names are read from the whole message, as tshark reads them, and the
/// end of the last one is returned so the caller can tell an overrun.
fn read_rdata<'a>(
    msg: &'a [u8],
    rtype: u16,
    start: usize,
    rdata: &'a [u8],
    budget: &mut usize,
) -> ProtoResult<(RData<'a>, usize)> {
    let mut name_at = |offset: usize| -> ProtoResult<(Name<'a>, usize)> {
        let offset = start.saturating_add(offset);
        let (name, len) = read_name(msg, offset, budget)?;
        Ok((name, offset.saturating_add(len)))
    };
    let fixed = |len: usize| rdata.len() >= len;
    let data = match rtype {
        rtype::A => match rdata.first_chunk::<4>() {
            Some(&octets) => (RData::A(Ipv4Addr::from(octets)), start),
            None => (RData::Malformed(rdata), start),
        },
        rtype::AAAA => match rdata.first_chunk::<16>() {
            Some(&octets) => (RData::Aaaa(Ipv6Addr::from(octets)), start),
            None => (RData::Malformed(rdata), start),
        },
        rtype::CNAME | rtype::PTR | rtype::NS => {
            let (name, end) = name_at(0)?;
            let data = match rtype {
                rtype::CNAME => RData::Cname(name),
                rtype::PTR => RData::Ptr(name),
                _ => RData::Ns(name),
            };
            (data, end)
        }
        rtype::MX if fixed(2) => {
            let (exchange, end) = name_at(2)?;
            let preference = u16_at(rdata, 0)?;
            (
                RData::Mx {
                    preference,
                    exchange,
                },
                end,
            )
        }
        rtype::SRV if fixed(6) => {
            let (target, end) = name_at(6)?;
            let data = RData::Srv {
                priority: u16_at(rdata, 0)?,
                weight: u16_at(rdata, 2)?,
                port: u16_at(rdata, 4)?,
                target,
            };
            (data, end)
        }
        rtype::SVCB | rtype::HTTPS if fixed(2) => {
            let (target, end) = name_at(2)?;
            let params_start = end.saturating_sub(start).min(rdata.len());
            let data = RData::Svcb {
                priority: u16_at(rdata, 0)?,
                target,
                params: rdata.get(params_start..).unwrap_or_default(),
            };
            (data, end)
        }
        // tshark reads such fields and the name from whatever follows, shows no data and
        // stops: so do we.
        rtype::MX | rtype::SRV | rtype::SVCB | rtype::HTTPS => {
            return Err(ProtoError::Invalid("DNS record data too short"))
        }
        _ => (RData::Other(rdata), start),
    };
    Ok(data)
}

/// The record type as the ground truth writes it: a mnemonic for the types shadowai reports,
/// `TYPE<n>` for every other (SOA is `TYPE6`).
pub fn type_name(rtype: u16) -> Cow<'static, str> {
    let known = match rtype {
        rtype::A => "A",
        rtype::NS => "NS",
        rtype::CNAME => "CNAME",
        rtype::PTR => "PTR",
        rtype::MX => "MX",
        rtype::TXT => "TXT",
        rtype::AAAA => "AAAA",
        rtype::SRV => "SRV",
        rtype::SVCB => "SVCB",
        rtype::HTTPS => "HTTPS",
        other => return Cow::Owned(format!("TYPE{other}")),
    };
    Cow::Borrowed(known)
}

/// Appends the ground truth's answer value: `<owner> <TYPE> <data>`, with data for A, AAAA,
/// CNAME, PTR, NS, MX (exchange), SRV (target) and SVCB/HTTPS (target), empty otherwise (the
/// value then ends with a space).
pub fn write_answer_value(record: &Record<'_>, out: &mut String) -> ProtoResult<()> {
    record.owner.write_text(out)?;
    out.push(' ');
    out.push_str(&type_name(record.rtype));
    out.push(' ');
    match &record.data {
        RData::A(addr) => {
            let _ = write!(out, "{addr}");
        }
        RData::Aaaa(addr) => text::write_ipv6(addr, out),
        RData::Cname(name) | RData::Ptr(name) | RData::Ns(name) => name.write_text(out)?,
        RData::Mx { exchange, .. } => exchange.write_text(out)?,
        RData::Srv { target, .. } | RData::Svcb { target, .. } => target.write_text(out)?,
        RData::Other(_) | RData::Malformed(_) => {}
    }
    Ok(())
}

/// A name signal of one message, as the ground truth lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// A question of a query (QR=0): the value is the name.
    Query,
    /// An answer-section record of a response (QR=1): the value is `write_answer_value`'s.
    Answer,
}

/// Calls `emit` for each name signal of the message in order, by tshark's rules: questions of
/// queries, answer records of responses, nothing for dynamic updates. On a malformed message
/// the signals before the fault are emitted and the fault is returned.
pub fn for_each_signal(msg: &Message<'_>, mut emit: impl FnMut(Signal, &str)) -> ProtoResult<()> {
    if msg.opcode() == OPCODE_UPDATE {
        return Ok(());
    }
    let mut value = String::new();
    if msg.is_response() {
        for record in msg.answers() {
            value.clear();
            write_answer_value(&record?, &mut value)?;
            emit(Signal::Answer, &value);
        }
    } else {
        for question in msg.questions() {
            value.clear();
            question?.name.write_text(&mut value)?;
            emit(Signal::Query, &value);
        }
    }
    Ok(())
}

/// DNS over TCP (RFC 1035 4.2.2, also LLMNR and mDNS over TCP): splits one direction's byte
/// stream into its 2-byte-length-prefixed messages. Returns the complete messages (without
/// their prefixes) and how many bytes they used, so the caller keeps the rest for when the next
/// segment arrives.
pub fn tcp_messages(stream: &[u8]) -> (TcpMessages<'_>, usize) {
    let mut consumed = 0;
    while let Some(next) = next_tcp_message(stream, consumed) {
        consumed = next.1;
    }
    let complete = stream.get(..consumed).unwrap_or_default();
    (TcpMessages { rest: complete }, consumed)
}

/// The message starting at `offset` and where the next one starts, if it is complete.
fn next_tcp_message(stream: &[u8], offset: usize) -> Option<(&[u8], usize)> {
    let len = usize::from(u16_at(stream, offset).ok()?);
    let start = offset.checked_add(2)?;
    let end = start.checked_add(len)?;
    Some((stream.get(start..end)?, end))
}

/// Complete messages of a TCP stream (see `tcp_messages`).
#[derive(Debug, Clone)]
pub struct TcpMessages<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for TcpMessages<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let (message, end) = next_tcp_message(self.rest, 0)?;
        self.rest = self.rest.get(end..).unwrap_or_default();
        Some(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(hex: &str) -> Vec<u8> {
        let digits: Vec<u8> = hex.bytes().filter(u8::is_ascii_hexdigit).collect();
        digits
            .chunks(2)
            .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).expect("ascii"), 16))
            .collect::<Result<_, _>>()
            .expect("test hex")
    }

    /// Hex where `xx*N` stands for N copies of byte xx (for long padded fixtures).
    fn unhex_runs(compact: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for token in compact.split_whitespace() {
            match token.split_once('*') {
                Some((left, count)) => {
                    let bytes = unhex(left);
                    let (last, literal) = bytes.split_last().expect("run byte");
                    out.extend_from_slice(literal);
                    out.extend(std::iter::repeat_n(*last, count.parse().expect("count")));
                }
                None => out.extend(unhex(token)),
            }
        }
        out
    }

    /// The ground truth's rows for one message, as `kind value` lines, and the error if any.
    fn signals(msg: &[u8]) -> (Vec<String>, ProtoResult<()>) {
        let mut rows = Vec::new();
        let result = parse(msg).and_then(|m| {
            for_each_signal(&m, |kind, value| {
                let kind = match kind {
                    Signal::Query => "query",
                    Signal::Answer => "answer",
                };
                rows.push(format!("{kind} {value}"));
            })
        });
        (rows, result)
    }

    fn ok_signals(msg: &[u8]) -> Vec<String> {
        let (rows, result) = signals(msg);
        assert_eq!(result, Ok(()), "{rows:?}");
        rows
    }

    /// Every entry point over `msg`, for the no-panic tests.
    fn exercise(msg: &[u8]) {
        let _ = signals(msg);
        if let Ok(m) = parse(msg) {
            let mut text = String::new();
            for question in m.questions().flatten() {
                let _ = question.name.labels().count();
                let _ = question.name.write_text(&mut text);
            }
            for record in m.records().flatten() {
                let _ = record.owner.labels().count();
                let _ = write_answer_value(&record, &mut text);
            }
        }
        let (messages, used) = tcp_messages(msg);
        assert!(used <= msg.len());
        for message in messages {
            let _ = signals(message);
        }
    }

    // Real messages from the corpus (UDP payloads via `tshark -T fields -e udp.payload`); the
    // expected rows are the ones in the corpus truth for the same frames.

    /// suricata-verify/dns-udp-google.com-a-aaaa-mx.pcap frame 1: query google.com A, EDNS.
    const GOOGLE_A_QUERY: &str =
        "1a2d0120000100000000000106676f6f676c6503636f6d00000100010000291000000000000000";
    /// Same capture, frame 4: the AAAA answer.
    const GOOGLE_AAAA_RESPONSE: &str = "8d708180000100010000000106676f6f676c6503636f6d00001c0001\
        c00c001c00010000012b00102607f8b0400f0801000000000000200e0000290200000000000000";
    /// Same capture, frame 6: five MX answers with compressed exchanges.
    const GOOGLE_MX_RESPONSE: &str = "56168180000100050000000106676f6f676c6503636f6d00000f0001\
        c00c000f000100000257000c000a056173706d78016cc00cc00c000f0001000002570009001404616c7431c0\
        2ac00c000f0001000002570009001e04616c7432c02ac00c000f0001000002570009002804616c7433c02ac0\
        0c000f0001000002570009003204616c7434c02a0000290200000000000000";
    /// zeek/dns-https.pcap frame 2: HTTPS record in service mode with target ".".
    const HTTPS_RESPONSE: &str = "f29f818000010001000000010a636c6f7564666c61726503636f6d0000\
        410001c00c0041000100000081004f000100000100180268330568332d32390568332d32380568332d323702\
        683200040008681084e5681085e500060020260647000000000000000000681084e526064700000000000000\
        0000681085e50000291000000000000000";
    /// zeek/dns-svcb.pcap frame 2.
    const SVCB_RESPONSE: &str = "c96481000001000100000000076578616d706c6503636f6d0000400001076\
        578616d706c6503636f6d0000400001000002580013000003666f6f076578616d706c6503636f6d00";
    /// suricata-verify/20250224-dns-additionals-with-cname.pcap frame 2: a CNAME in the
    /// additional section, which is not an answer.
    const ADDITIONAL_CNAME_RESPONSE: &str =
        "000085800001000100000001076578616d706c6503636f6d000001\
        0001076578616d706c6503636f6d00000100010000012c0004c0a801010773657276696365076578616d706c\
        6503636f6d00000500010000012c001e10696e7465726e616c2d73657276696365076578616d706c65036e65\
        7400";
    /// zeek/dns-invalid-names.pcap frames 1 to 3: name cut short, self pointer, cut short.
    const INVALID_NAMES: [&str; 3] = [
        "222201000001000000000000 0361",
        "222301000001000000000000 c00c00010001",
        "222401000001000000000000 03616263",
    ];
    /// zeek/vector-max-size-crash.pcap frame 1 (UDP 443, found by tshark's DNS heuristic): a
    /// label length byte 0x61 is an unknown extended label type.
    const EXTENDED_LABEL_QUERY: &str = "c610010000010000000000000132 0d616161616161616161\
        2d616161610761616161616161616161610000100001";
    /// ndpi/malformed_dns.pcap frame 2: a "name bomb" CNAME whose pointers re-read long runs of
    /// 63-byte labels (1,099 steps, 65 kB of text); tshark shows `<Name too long>`.
    const NAME_BOMB_RESPONSE: &str =
        "84b4810000020002000000000377777702787403636f6d00000100012241*34 \
        3f000000003f*765 3e3f*62 c0403d3e3f*60 c041c0423b3c3d3e3f*56 \
        c043c044c045c0463738393a3b3c3d3e3f*48 \
        c047c048c049c04ac04bc04cc04dc04e2f303132333435363738393a3b3c3d3e3f*32 \
        c04fc050c051c052c053c054c055c056c057c058c059c05ac05bc05cc05dc05e1f202122232425262728292a\
        2b2c2d2e2f303132333435363738393a3b3c3d3ec05fc060c061c062c063c064c065c066c067c068c069c06a\
        c06bc06cc06dc06ec06fc070c071c072c073c074c075c076c077c078c079c07ac07bc07cc07dc07e00010001\
        c00c0001000100000000000442424242c00c0005000100000000004c034141413f3030303031303030323030\
        31313030313230303231303032323031303130323031313130313132303132313031323230323032313130\
        323132303232313032050000000000c0ff";
    /// tcpdump/dns_tcp.pcap frames 4 and 6: TCP payloads (2-byte length prefix included).
    const TCP_QUERY_SEGMENT: &str = "0038431901200001000000000001037777770774637064756d70036f72\
        670000010001000029100000000000000c000a00088f06be7d691442f0";
    const TCP_RESPONSE_SEGMENT: &str = "00e0431985000001000200020005037777770774637064756d70036f7\
        2670000010001c00c000100010000003c0004c08b2e42c00c000100010000003c0004c6c75868c0100002000\
        1000151800012036e69630973616e64656c6d616e02636100c0100002000100015180001203736e7308636f6\
        f7065726978036e657400c04d000100010000012c0004d157f912c04d001c00010000012c00102607f0b0000\
        f000000000000babef00dc06b0001000100001c200004616b850fc06b001c000100001c20001026003c03000\
        00000f03c91fffe96e8ef0000291000000000000000";

    fn fixtures() -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = [
            GOOGLE_A_QUERY,
            GOOGLE_AAAA_RESPONSE,
            GOOGLE_MX_RESPONSE,
            HTTPS_RESPONSE,
            SVCB_RESPONSE,
            ADDITIONAL_CNAME_RESPONSE,
            EXTENDED_LABEL_QUERY,
            TCP_QUERY_SEGMENT,
            TCP_RESPONSE_SEGMENT,
        ]
        .iter()
        .map(|hex| unhex(hex))
        .collect();
        all.extend(INVALID_NAMES.iter().map(|hex| unhex(hex)));
        all.push(unhex_runs(NAME_BOMB_RESPONSE));
        all
    }

    #[test]
    fn header_fields() {
        let bytes = unhex(GOOGLE_MX_RESPONSE);
        let msg = parse(&bytes).expect("header");
        assert_eq!(msg.id(), 0x5616);
        assert!(msg.is_response() && !msg.is_truncated());
        assert_eq!((msg.opcode(), msg.rcode()), (0, 0));
        assert_eq!(msg.question_count(), 1);
        assert_eq!(msg.answer_count(), 5);
        assert_eq!(msg.additional_count(), 1);
        assert_eq!(parse(&bytes[..11]).err(), Some(ProtoError::Incomplete));
    }

    #[test]
    fn corpus_query_and_answers() {
        assert_eq!(ok_signals(&unhex(GOOGLE_A_QUERY)), ["query google.com"]);
        assert_eq!(
            ok_signals(&unhex(GOOGLE_AAAA_RESPONSE)),
            ["answer google.com AAAA 2607:f8b0:400f:801::200e"]
        );
        assert_eq!(
            ok_signals(&unhex(GOOGLE_MX_RESPONSE)),
            [
                "answer google.com MX aspmx.l.google.com",
                "answer google.com MX alt1.aspmx.l.google.com",
                "answer google.com MX alt2.aspmx.l.google.com",
                "answer google.com MX alt3.aspmx.l.google.com",
                "answer google.com MX alt4.aspmx.l.google.com",
            ]
        );
        assert_eq!(
            ok_signals(&unhex(HTTPS_RESPONSE)),
            ["answer cloudflare.com HTTPS <Root>"]
        );
        assert_eq!(
            ok_signals(&unhex(SVCB_RESPONSE)),
            ["answer example.com SVCB foo.example.com"]
        );
        assert_eq!(
            ok_signals(&unhex(ADDITIONAL_CNAME_RESPONSE)),
            ["answer example.com A 192.168.1.1"]
        );
    }

    #[test]
    fn decoded_record_data() {
        let bytes = unhex(GOOGLE_MX_RESPONSE);
        let msg = parse(&bytes).expect("header");
        let first = msg.answers().next().expect("one").expect("parses");
        assert_eq!(
            (first.section, first.rtype, first.class, first.ttl),
            (Section::Answer, 15, 1, 599)
        );
        let RData::Mx {
            preference,
            exchange,
        } = first.data
        else {
            panic!("MX expected: {first:?}");
        };
        assert_eq!(preference, 10);
        let labels: Vec<&[u8]> = exchange.labels().collect();
        assert_eq!(labels, [&b"aspmx"[..], b"l", b"google", b"com"]);
        // records() goes on into the additional section (the EDNS OPT record, owner root).
        let last = msg.records().last().expect("records").expect("parses");
        assert_eq!((last.section, last.rtype), (Section::Additional, 41));
        assert_eq!(last.owner.kind(), NameKind::Root);

        let bytes = unhex(HTTPS_RESPONSE);
        let msg = parse(&bytes).expect("header");
        let https = msg.answers().next().expect("one").expect("parses");
        let RData::Svcb {
            priority,
            target,
            params,
        } = https.data
        else {
            panic!("SVCB expected: {https:?}");
        };
        assert_eq!(
            (priority, target.kind(), params.len()),
            (1, NameKind::Root, 76)
        );
        assert_eq!(type_name(https.rtype), "HTTPS");

        let bytes = unhex(ADDITIONAL_CNAME_RESPONSE);
        let msg = parse(&bytes).expect("header");
        let sections: Vec<(Section, u16)> = msg
            .records()
            .map(|r| r.map(|r| (r.section, r.rtype)))
            .collect::<Result<_, _>>()
            .expect("parses");
        assert_eq!(sections, [(Section::Answer, 1), (Section::Additional, 5)]);
    }

    #[test]
    fn corpus_invalid_names_like_tshark() {
        let [short, looping, short_too] = INVALID_NAMES.map(unhex);
        assert_eq!(signals(&short), (vec![], Err(ProtoError::Incomplete)));
        assert_eq!(
            ok_signals(&looping),
            ["query <Name contains a pointer that loops>"]
        );
        assert_eq!(signals(&short_too), (vec![], Err(ProtoError::Incomplete)));
        assert_eq!(
            ok_signals(&unhex(EXTENDED_LABEL_QUERY)),
            ["query <Unknown extended label>"]
        );
        let bomb = unhex_runs(NAME_BOMB_RESPONSE);
        assert_eq!(bomb.len(), 1388);
        assert_eq!(
            ok_signals(&bomb),
            [
                "answer www.xt.com A 66.66.66.66",
                "answer www.xt.com CNAME <Name too long>"
            ]
        );
    }

    #[test]
    fn tcp_stream_split() {
        let query = unhex(TCP_QUERY_SEGMENT);
        let (messages, used) = tcp_messages(&query);
        assert_eq!(used, query.len());
        let messages: Vec<&[u8]> = messages.collect();
        assert_eq!(messages.len(), 1);
        assert_eq!(ok_signals(messages[0]), ["query www.tcpdump.org"]);

        // Two messages back to back, the second one cut: only the first is complete.
        let response = unhex(TCP_RESPONSE_SEGMENT);
        let mut stream = query.clone();
        stream.extend_from_slice(&response[..100]);
        let (messages, used) = tcp_messages(&stream);
        assert_eq!((messages.count(), used), (1, query.len()));
        stream.extend_from_slice(&response[100..]);
        let (messages, used) = tcp_messages(&stream[query.len()..]);
        assert_eq!(used, response.len());
        let rows: Vec<String> = messages.flat_map(ok_signals).collect();
        assert_eq!(
            rows,
            [
                "answer www.tcpdump.org A 192.139.46.66",
                "answer www.tcpdump.org A 198.199.88.104"
            ]
        );

        assert_eq!(tcp_messages(&[]).1, 0);
        assert_eq!(tcp_messages(&[0]).1, 0);
        let (mut empty, used) = tcp_messages(&[0, 0, 0]);
        assert_eq!((empty.next(), empty.next(), used), (Some(&[][..]), None, 2));
    }

    #[test]
    fn every_prefix_of_real_messages_is_safe() {
        for message in fixtures() {
            for len in 0..=message.len() {
                exercise(&message[..len]);
            }
        }
    }

    #[test]
    fn random_mutations_are_safe() {
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for message in fixtures() {
            for _ in 0..2000 {
                let mut mutated = message.clone();
                for _ in 0..1 + random() % 4 {
                    let at = (random() as usize) % mutated.len().max(1);
                    let Some(byte) = mutated.get_mut(at) else {
                        break;
                    };
                    *byte = match random() % 3 {
                        0 => random() as u8,
                        1 => [0x00, 0x3f, 0x40, 0x41, 0x80, 0xc0, 0xff][(random() % 7) as usize],
                        _ => 0xc0 | (random() as u8 & 0x3f),
                    };
                }
                exercise(&mutated);
            }
        }
    }

    // Hand-built messages. Expected texts are what tshark 4.0.17 showed for the same bytes.

    fn header(flags: u16, counts: [u16; 4]) -> Vec<u8> {
        let mut out = vec![0x12, 0x34];
        out.extend(flags.to_be_bytes());
        for count in counts {
            out.extend(count.to_be_bytes());
        }
        out
    }

    fn encode(labels: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for label in labels {
            out.push(label.len() as u8);
            out.extend_from_slice(label);
        }
        out.push(0);
        out
    }

    /// A query with one question whose name is `name` (raw bytes, possibly compressed).
    fn query_with(name: &[u8]) -> Vec<u8> {
        let mut msg = header(0x0100, [1, 0, 0, 0]);
        msg.extend_from_slice(name);
        msg.extend([0, 1, 0, 1]);
        msg
    }

    fn query_text(name: &[u8]) -> ProtoResult<String> {
        let msg = query_with(name);
        let msg = parse(&msg)?;
        let question = msg.questions().next().ok_or(ProtoError::Incomplete)??;
        question.name.to_text()
    }

    fn record(owner: &[u8], rtype: u16, data: &[u8]) -> Vec<u8> {
        let mut out = owner.to_vec();
        out.extend(rtype.to_be_bytes());
        out.extend([0, 1, 0, 0, 0, 60]);
        out.extend((data.len() as u16).to_be_bytes());
        out.extend_from_slice(data);
        out
    }

    /// A response to `x.com` (at offset 12, so `c0 0c` points to it) with these answers.
    fn response(answers: &[Vec<u8>]) -> Vec<u8> {
        let mut msg = header(0x8180, [1, answers.len() as u16, 0, 0]);
        msg.extend(encode(&[b"x", b"com"]));
        msg.extend([0, 1, 0, 1]);
        for answer in answers {
            msg.extend_from_slice(answer);
        }
        msg
    }

    const X_COM: &[u8] = &[0xc0, 0x0c];

    #[test]
    fn odd_bytes_in_names() {
        let text = |labels: &[&[u8]]| query_text(&encode(labels)).expect("name");
        assert_eq!(text(&[b"a b", b"com"]), "a b.com");
        assert_eq!(text(&[b"a.b", b"com"]), "a.b.com");
        assert_eq!(text(&[b"WWW", b"Example", b"COM"]), "WWW.Example.COM");
        assert_eq!(text(&[b"caf\xc3\xa9", b"com"]), "caf\u{e9}.com");
        assert_eq!(text(&[b"a\xffb", b"com"]), "a\u{fffd}b.com");
        assert_eq!(text(&[b"a\x01b\x00c\t", b"com"]), "a\\001b\\000c\\t.com");
        assert_eq!(text(&[b"a\\b\"c"]), "a\\b\"c");
        // UTF-8 is decoded across the dot, as Wireshark does.
        assert_eq!(text(&[b"a\xc3", b"\xa9com"]), "a\u{fffd}.\u{fffd}com");
        assert_eq!(query_text(&[0]).expect("root"), "<Root>");
    }

    #[test]
    fn name_length_limit() {
        let label = [b'b'; 63];
        let name_of = |last: usize| {
            let tail = vec![b'd'; last];
            encode(&[&label, &label, &label, &tail])
        };
        // 3 x 63 + 3 dots + 61 = 253 characters: fine; one more is too long.
        assert_eq!(query_text(&name_of(61)).expect("253").len(), 253);
        assert_eq!(query_text(&name_of(62)).expect("254"), "<Name too long>");
        let msg = query_with(&name_of(62));
        let msg = parse(&msg).expect("header");
        let question = msg.questions().next().expect("one").expect("parses");
        assert_eq!(question.name.kind(), NameKind::TooLong);
        assert_eq!(question.name.labels().count(), 0);
    }

    #[test]
    fn compression_pointers() {
        // Self pointer, two pointers pointing at each other, a forward pointer, the header.
        assert_eq!(
            query_text(&[0xc0, 0x0c]).expect("loop"),
            "<Name contains a pointer that loops>"
        );
        let mut two = header(0x0100, [2, 0, 0, 0]);
        two.extend([0xc0, 0x12, 0, 1, 0, 1, 0xc0, 0x0c, 0, 1, 0, 1]);
        assert_eq!(
            ok_signals(&two),
            [
                "query <Name contains a pointer that loops>",
                "query <Name contains a pointer that loops>"
            ]
        );
        let mut forward = header(0x0100, [1, 0, 0, 0]);
        forward.extend([0xc0, 0x12, 0, 1, 0, 1]);
        forward.extend(encode(&[b"fwd", b"com"]));
        assert_eq!(ok_signals(&forward), ["query fwd.com"]);
        // A pointer into the header reads the header: ID 0x1234 starts with an 18-byte label
        // that does not fit; with ID 0 it is the root.
        assert_eq!(query_text(&[0xc0, 0x00]), Err(ProtoError::Incomplete));
        let mut into_id = query_with(&[0xc0, 0x00]);
        into_id[0] = 0;
        assert_eq!(ok_signals(&into_id), ["query <Root>"]);
        assert_eq!(
            query_text(&[0x01, b'a', 0xc0, 0x0c]).expect("loop"),
            "<Name contains a pointer that loops>"
        );
        assert_eq!(query_text(&[0xc0, 0xff]), Err(ProtoError::Incomplete));
    }

    #[test]
    fn pointer_chain_limit() {
        // Question: pointer to the head of a chain of `extra` pointers ending at "z".
        let chain = |extra: usize| {
            let mut msg = header(0x0100, [1, 0, 0, 0]);
            let base = 18;
            let mut body = encode(&[b"z"]);
            let mut previous = base;
            for index in 0..extra {
                body.extend((0xc000 | previous as u16).to_be_bytes());
                previous = base + 3 + 2 * index;
            }
            msg.extend((0xc000 | previous as u16).to_be_bytes());
            msg.extend([0, 1, 0, 1]);
            msg.extend(body);
            msg
        };
        // 255 pointers in all are followed; the 256th is a loop for tshark.
        assert_eq!(ok_signals(&chain(254)), ["query z"]);
        assert_eq!(
            ok_signals(&chain(255)),
            ["query <Name contains a pointer that loops>"]
        );
    }

    #[test]
    fn label_types() {
        assert_eq!(
            query_text(&[0x01, b'a', 0x42, 0, 0, 0, 0]).expect("placeholder"),
            "<Unknown extended label>"
        );
        // Only an extended label byte: tshark throws.
        assert!(matches!(
            query_text(&[0x42, 0, 0, 0, 0]),
            Err(ProtoError::Invalid(_))
        ));
        // Bit-string labels (RFC 2673, obsolete): tshark 4.0 shows garbage; refused.
        assert!(matches!(
            query_text(&[0x01, b'a', 0x41, 0x08, 0xab, 0]),
            Err(ProtoError::Invalid(_))
        ));
        assert!(matches!(
            query_text(&[0x80, 0]),
            Err(ProtoError::Invalid(_))
        ));
        assert_eq!(query_text(&[0x05, b'a', b'b']), Err(ProtoError::Incomplete));
    }

    #[test]
    fn answer_values() {
        let msg = response(&[
            record(X_COM, 5, &encode(&[b"c", b"x", b"com"])),
            record(X_COM, 1, &[1, 2, 3, 4, 5]),
            record(X_COM, 28, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4]),
            record(X_COM, 12, &encode(&[b"p"])),
            record(X_COM, 2, &[0x01, b'n', 0xc0, 0x0c]),
            record(X_COM, 33, &[0, 1, 0, 2, 0, 53, 1, b't', 0]),
            record(X_COM, 16, b"\x03abc"),
            record(X_COM, 6, &[0; 22]),
            record(X_COM, 5, &[0]),
        ]);
        assert_eq!(
            ok_signals(&msg),
            [
                "answer x.com CNAME c.x.com",
                "answer x.com A 1.2.3.4",
                "answer x.com AAAA ::1.2.3.4",
                "answer x.com PTR p",
                "answer x.com NS n.x.com",
                "answer x.com SRV t",
                "answer x.com TXT ",
                "answer x.com TYPE6 ",
                "answer x.com CNAME <Root>",
            ]
        );
    }

    #[test]
    fn malformed_records_like_tshark() {
        // A CNAME whose name (4 bytes) runs past its data length (3): shown, then the end.
        let mut overrun = X_COM.to_vec();
        overrun.extend([0, 5, 0, 1, 0, 0, 0, 60, 0, 3, 0x01, b'c', 0xc0, 0x0c]);
        let msg = response(&[
            record(X_COM, 1, &[1, 1, 1, 1]),
            overrun,
            record(X_COM, 1, &[2, 2, 2, 2]),
        ]);
        let (rows, result) = signals(&msg);
        assert_eq!(
            rows,
            ["answer x.com A 1.1.1.1", "answer x.com CNAME c.x.com"]
        );
        assert!(matches!(result, Err(ProtoError::Invalid(_))));

        // Data length past the end: nothing shown for that record.
        let mut cut = record(X_COM, 1, &[1, 1, 1, 1]);
        cut.truncate(cut.len() - 1);
        let (rows, result) = signals(&response(&[record(X_COM, 1, &[1, 1, 1, 1]), cut]));
        assert_eq!(
            (rows, result),
            (
                vec!["answer x.com A 1.1.1.1".to_string()],
                Err(ProtoError::Incomplete)
            )
        );

        // A name that does not parse, or MX data too short: shown with no data, then the end.
        let (rows, result) = signals(&response(&[
            record(X_COM, 5, &[0x80, 0]),
            record(X_COM, 1, &[1, 1, 1, 1]),
        ]));
        assert_eq!(rows, ["answer x.com CNAME "]);
        assert!(result.is_err());
        let (rows, result) = signals(&response(&[
            record(X_COM, 15, &[0]),
            record(X_COM, 1, &[1, 1, 1, 1]),
        ]));
        assert_eq!(rows, ["answer x.com MX "]);
        assert!(result.is_err());

        // An A record with 3 bytes (tshark reads a 4th from whatever follows): kept raw.
        let msg = response(&[
            record(X_COM, 1, &[1, 2, 3]),
            record(X_COM, 1, &[5, 6, 7, 8]),
        ]);
        assert_eq!(
            ok_signals(&msg),
            ["answer x.com A ", "answer x.com A 5.6.7.8"]
        );

        // More answers announced than present.
        let mut short = response(&[record(X_COM, 1, &[1, 1, 1, 1])]);
        short[7] = 3;
        let (rows, result) = signals(&short);
        assert_eq!((rows.len(), result), (1, Err(ProtoError::Incomplete)));
    }

    #[test]
    fn which_messages_carry_signals() {
        // A query with an answer record: only the question counts.
        let mut query = header(0x0100, [1, 1, 0, 0]);
        query.extend(encode(&[b"x", b"com"]));
        query.extend([0, 1, 0, 1]);
        query.extend(record(X_COM, 1, &[1, 1, 1, 1]));
        assert_eq!(ok_signals(&query), ["query x.com"]);
        // A dynamic update (opcode 5) has zones and updates, not questions and answers.
        query[2] = 0x28;
        assert_eq!(parse(&query).expect("header").opcode(), OPCODE_UPDATE);
        assert!(ok_signals(&query).is_empty());
        // A response without questions still has answers; an error response has none.
        let mut bare = header(0x8180, [0, 1, 0, 0]);
        bare.extend(record(&encode(&[b"y", b"com"]), 1, &[1, 1, 1, 1]));
        assert_eq!(ok_signals(&bare), ["answer y.com A 1.1.1.1"]);
        let mut nxdomain = header(0x8183, [1, 0, 0, 0]);
        nxdomain.extend(encode(&[b"x", b"com"]));
        nxdomain.extend([0, 1, 0, 1]);
        assert_eq!(parse(&nxdomain).expect("header").rcode(), 3);
        assert!(ok_signals(&nxdomain).is_empty());
        // Header only, or a question cut before its type: no rows.
        assert!(ok_signals(&header(0x0100, [0; 4])).is_empty());
        let mut cut = header(0x0100, [1, 0, 0, 0]);
        cut.extend([0xc0, 0x0c]);
        assert_eq!(signals(&cut), (vec![], Err(ProtoError::Incomplete)));
    }

    #[test]
    fn type_names() {
        assert_eq!(type_name(1), "A");
        assert_eq!(type_name(65), "HTTPS");
        assert_eq!(type_name(6), "TYPE6");
        assert_eq!(type_name(65535), "TYPE65535");
        assert!(matches!(type_name(28), Cow::Borrowed("AAAA")));
    }

    #[test]
    fn hostile_message_stays_bounded() {
        // Every question points at a 4,000-label name: each walk is long, so the step budget
        // ends the pass with an error instead of reading names x labels.
        let mut msg = header(0x0100, [0; 4]);
        msg.extend([0x01, b'a'].repeat(4000));
        msg.extend([0, 0, 1, 0, 1]);
        let count = (65_000 - msg.len()) / 6;
        for _ in 0..count {
            msg.extend([0xc0, 0x0c, 0, 1, 0, 1]);
        }
        let total = 1 + count as u16;
        msg[4..6].copy_from_slice(&total.to_be_bytes());
        let parsed = parse(&msg).expect("header");
        let results: Vec<_> = parsed.questions().collect();
        assert!(results.len() < usize::from(total));
        assert!(matches!(results.last(), Some(Err(ProtoError::Invalid(_)))));
        assert!(matches!(results.first(), Some(Ok(q)) if q.name.kind() == NameKind::TooLong));
    }
}
