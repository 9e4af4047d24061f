//! DNS messages on the wire (RFC 1035): queries and responses with A, AAAA and CNAME answers
//! (CNAME chains included), name compression as real resolvers write it, and the 2-byte
//! length prefix of DNS over TCP.
//!
//! It builds what a stub resolver and a home router send; it refuses names that DNS cannot
//! carry (labels over 63 bytes, names over 255) rather than writing a broken message. No
//! EDNS, no DNSSEC, no authority or additional sections.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::invalid;

pub const TYPE_A: u16 = 1;
pub const TYPE_CNAME: u16 = 5;
pub const TYPE_AAAA: u16 = 28;
pub const TYPE_HTTPS: u16 = 65;
pub const CLASS_IN: u16 = 1;

/// Header flags of a recursive query (RD).
pub const FLAGS_QUERY: u16 = 0x0100;
/// Header flags of a recursive answer (QR, RD, RA; rcode in the low 4 bits).
pub const FLAGS_RESPONSE: u16 = 0x8180;

/// The data of one resource record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RData {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Cname(String),
    /// Any other type, written as given.
    Raw {
        rtype: u16,
        data: Vec<u8>,
    },
}

impl RData {
    fn rtype(&self) -> u16 {
        match self {
            RData::A(_) => TYPE_A,
            RData::Aaaa(_) => TYPE_AAAA,
            RData::Cname(_) => TYPE_CNAME,
            RData::Raw { rtype, .. } => *rtype,
        }
    }
}

/// One answer record (class IN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsRecord {
    pub name: String,
    pub ttl: u32,
    pub data: RData,
}

impl DnsRecord {
    pub fn a(name: &str, ttl: u32, addr: Ipv4Addr) -> Self {
        DnsRecord {
            name: name.to_owned(),
            ttl,
            data: RData::A(addr),
        }
    }

    pub fn aaaa(name: &str, ttl: u32, addr: Ipv6Addr) -> Self {
        DnsRecord {
            name: name.to_owned(),
            ttl,
            data: RData::Aaaa(addr),
        }
    }

    pub fn cname(name: &str, ttl: u32, target: &str) -> Self {
        DnsRecord {
            name: name.to_owned(),
            ttl,
            data: RData::Cname(target.to_owned()),
        }
    }
}

/// Answers for `name` through a chain of CNAMEs to `addrs`: `name → cnames[0] → … →
/// cnames[last]`, then one A or AAAA record per address at the end of the chain.
pub fn chain_answers(name: &str, cnames: &[&str], ttl: u32, addrs: &[IpAddr]) -> Vec<DnsRecord> {
    let mut answers = Vec::new();
    let mut owner = name;
    for target in cnames {
        answers.push(DnsRecord::cname(owner, ttl, target));
        owner = target;
    }
    for addr in addrs {
        answers.push(match addr {
            IpAddr::V4(v4) => DnsRecord::a(owner, ttl, *v4),
            IpAddr::V6(v6) => DnsRecord::aaaa(owner, ttl, *v6),
        });
    }
    answers
}

/// A DNS message with one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsMessage {
    pub id: u16,
    pub flags: u16,
    pub qname: String,
    pub qtype: u16,
    pub answers: Vec<DnsRecord>,
    /// Write repeated names as compression pointers (on by default, as resolvers do).
    pub compress: bool,
}

impl DnsMessage {
    /// A recursive query.
    pub fn query(id: u16, qname: &str, qtype: u16) -> Self {
        DnsMessage {
            id,
            flags: FLAGS_QUERY,
            qname: qname.to_owned(),
            qtype,
            answers: Vec::new(),
            compress: true,
        }
    }

    /// The response to [`query`](Self::query) with the same id and question, no answers yet.
    pub fn response(id: u16, qname: &str, qtype: u16) -> Self {
        DnsMessage {
            flags: FLAGS_RESPONSE,
            ..DnsMessage::query(id, qname, qtype)
        }
    }

    pub fn answer(mut self, record: DnsRecord) -> Self {
        self.answers.push(record);
        self
    }

    pub fn answers(mut self, records: impl IntoIterator<Item = DnsRecord>) -> Self {
        self.answers.extend(records);
        self
    }

    /// Sets the response code (3 = NXDOMAIN).
    pub fn rcode(mut self, rcode: u8) -> Self {
        self.flags = (self.flags & !0x000F) | u16::from(rcode & 0x0F);
        self
    }

    pub fn without_compression(mut self) -> Self {
        self.compress = false;
        self
    }

    /// The message as carried in a UDP datagram.
    pub fn to_bytes(&self) -> io::Result<Vec<u8>> {
        let answer_count =
            u16::try_from(self.answers.len()).map_err(|_| invalid("too many DNS answers"))?;
        let mut out = Vec::with_capacity(64);
        out.extend_from_slice(&self.id.to_be_bytes());
        out.extend_from_slice(&self.flags.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
        out.extend_from_slice(&answer_count.to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0]); // NSCOUNT, ARCOUNT
        let mut names = NameTable {
            compress: self.compress,
            suffixes: Vec::new(),
        };
        names.write(&mut out, &self.qname)?;
        out.extend_from_slice(&self.qtype.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        for record in &self.answers {
            names.write(&mut out, &record.name)?;
            out.extend_from_slice(&record.data.rtype().to_be_bytes());
            out.extend_from_slice(&CLASS_IN.to_be_bytes());
            out.extend_from_slice(&record.ttl.to_be_bytes());
            let length_at = out.len();
            out.extend_from_slice(&[0, 0]);
            match &record.data {
                RData::A(addr) => out.extend_from_slice(&addr.octets()),
                RData::Aaaa(addr) => out.extend_from_slice(&addr.octets()),
                RData::Cname(target) => names.write(&mut out, target)?,
                RData::Raw { data, .. } => out.extend_from_slice(data),
            }
            let rdata_len = out.len().saturating_sub(length_at + 2);
            let rdata_len = u16::try_from(rdata_len).map_err(|_| invalid("RDATA over 64 KiB"))?;
            if let Some(slot) = out.get_mut(length_at..length_at + 2) {
                slot.copy_from_slice(&rdata_len.to_be_bytes());
            }
        }
        if out.len() > usize::from(u16::MAX) {
            return Err(invalid("DNS message over 64 KiB"));
        }
        Ok(out)
    }

    /// The message as carried over TCP: a 2-byte length, then the message.
    pub fn to_tcp_bytes(&self) -> io::Result<Vec<u8>> {
        let message = self.to_bytes()?;
        let len = u16::try_from(message.len()).map_err(|_| invalid("DNS message over 64 KiB"))?;
        let mut out = Vec::with_capacity(message.len() + 2);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&message);
        Ok(out)
    }
}

/// `name` in uncompressed wire form (length-prefixed labels, then a zero byte), as other
/// protocols embed DNS names (DHCP option 81, for one).
pub fn wire_name(name: &str) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(name.len() + 2);
    NameTable {
        compress: false,
        suffixes: Vec::new(),
    }
    .write(&mut out, name)?;
    Ok(out)
}

/// Names already written, for compression pointers (RFC 1035 §4.1.4).
struct NameTable {
    compress: bool,
    /// (lower-cased suffix, offset in the message)
    suffixes: Vec<(String, usize)>,
}

impl NameTable {
    fn write(&mut self, out: &mut Vec<u8>, name: &str) -> io::Result<()> {
        let trimmed = name.strip_suffix('.').unwrap_or(name);
        let labels: Vec<&str> = if trimmed.is_empty() {
            Vec::new()
        } else {
            trimmed.split('.').collect()
        };
        let mut wire_len = 1usize;
        for label in &labels {
            if label.is_empty() || label.len() > 63 {
                return Err(invalid("DNS label empty or over 63 bytes"));
            }
            wire_len += 1 + label.len();
        }
        if wire_len > 255 {
            return Err(invalid("DNS name over 255 bytes"));
        }
        for i in 0..labels.len() {
            let suffix = labels
                .get(i..)
                .unwrap_or_default()
                .join(".")
                .to_ascii_lowercase();
            if self.compress {
                if let Some((_, offset)) = self.suffixes.iter().find(|(known, _)| *known == suffix)
                {
                    // Offsets are kept below 0x4000 when recorded, so this fits 14 bits.
                    let pointer = 0xC000 | (*offset as u16);
                    out.extend_from_slice(&pointer.to_be_bytes());
                    return Ok(());
                }
            }
            if out.len() < 0x4000 {
                self.suffixes.push((suffix, out.len()));
            }
            if let Some(label) = labels.get(i) {
                out.push(label.len() as u8);
                out.extend_from_slice(label.as_bytes());
            }
        }
        out.push(0);
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn query_bytes() {
        let bytes = DnsMessage::query(0x1234, "chatgpt.com", TYPE_A)
            .to_bytes()
            .unwrap();
        let mut want = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(b"\x07chatgpt\x03com\x00");
        want.extend_from_slice(&[0, 1, 0, 1]);
        assert_eq!(bytes, want);
        // A trailing dot is the same name.
        assert_eq!(
            DnsMessage::query(0x1234, "chatgpt.com.", TYPE_A)
                .to_bytes()
                .unwrap(),
            want
        );
    }

    #[test]
    fn cname_chain_response_with_compression() {
        let answers = chain_answers(
            "chatgpt.com",
            &["chatgpt.com.cdn.cloudflare.net"],
            300,
            &[IpAddr::V4(Ipv4Addr::new(104, 18, 32, 47))],
        );
        let bytes = DnsMessage::response(7, "chatgpt.com", TYPE_A)
            .answers(answers)
            .to_bytes()
            .unwrap();
        let mut want = vec![0, 7, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
        want.extend_from_slice(b"\x07chatgpt\x03com\x00\x00\x01\x00\x01"); // question at 12
                                                                           // CNAME: owner is a pointer to the question (12), TTL 300, RDLENGTH 32. The target
                                                                           // shares no suffix with a name already written, so its labels are spelled out.
        want.extend_from_slice(&[0xC0, 12, 0, 5, 0, 1, 0, 0, 1, 44, 0, 32]);
        let cname_at = want.len();
        want.extend_from_slice(b"\x07chatgpt\x03com\x03cdn\x0acloudflare\x03net\x00");
        // A: owner -> pointer to the CNAME target.
        want.extend_from_slice(&[
            0xC0,
            cname_at as u8,
            0,
            1,
            0,
            1,
            0,
            0,
            1,
            44,
            0,
            4,
            104,
            18,
            32,
            47,
        ]);
        assert_eq!(bytes, want);
    }

    #[test]
    fn aaaa_and_suffix_pointer() {
        let addr: Ipv6Addr = "2a00:1450:4001:80e::200e".parse().unwrap();
        let msg = DnsMessage::response(1, "gemini.google.com", TYPE_AAAA)
            .answer(DnsRecord::cname(
                "gemini.google.com",
                60,
                "www3.l.google.com",
            ))
            .answer(DnsRecord::aaaa("www3.l.google.com", 60, addr));
        let bytes = msg.to_bytes().unwrap();
        // The CNAME target ends in "google.com", written once in the question at offset 19.
        let cname_rdata = b"\x04www3\x01l\xC0\x13";
        assert!(bytes.windows(cname_rdata.len()).any(|w| w == cname_rdata));
        assert!(bytes.ends_with(&addr.octets()));
        let plain = msg.clone().without_compression().to_bytes().unwrap();
        assert!(plain.len() > bytes.len());
        assert!(!plain.iter().any(|&b| b >= 0xC0));
    }

    #[test]
    fn wire_name_is_uncompressed() {
        assert_eq!(wire_name("a.bc").unwrap(), b"\x01a\x02bc\x00");
        assert_eq!(wire_name("").unwrap(), [0]);
    }

    #[test]
    fn tcp_framing_and_rcode() {
        let msg = DnsMessage::response(9, "nope.example", TYPE_A).rcode(3);
        let udp = msg.to_bytes().unwrap();
        assert_eq!(&udp[2..4], &[0x81, 0x83]);
        let tcp = msg.to_tcp_bytes().unwrap();
        assert_eq!(&tcp[..2], &(udp.len() as u16).to_be_bytes());
        assert_eq!(&tcp[2..], &udp[..]);
    }

    #[test]
    fn refuses_names_dns_cannot_carry() {
        let long_label = "a".repeat(64);
        assert!(DnsMessage::query(1, &long_label, TYPE_A)
            .to_bytes()
            .is_err());
        assert!(DnsMessage::query(1, "a..b", TYPE_A).to_bytes().is_err());
        let long_name = ["abcdefghi"; 26].join(".");
        assert!(DnsMessage::query(1, &long_name, TYPE_A).to_bytes().is_err());
        assert_eq!(
            DnsMessage::query(1, ".", TYPE_A).to_bytes().unwrap()[12],
            0,
            "root"
        );
    }
}
