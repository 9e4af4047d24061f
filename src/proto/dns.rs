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

mod name;
pub(crate) mod text;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use name::read_name;
pub use name::{Labels, Name, NameKind};

use super::{ProtoError, ProtoResult};

/// Length of the fixed header.
pub const HEADER_LEN: usize = 12;

/// Opcode of a dynamic update (RFC 2136): its sections are zones, prerequisites and updates,
/// not questions and answers, so it carries no name signal.
pub const OPCODE_UPDATE: u8 = 5;

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
mod tests;
