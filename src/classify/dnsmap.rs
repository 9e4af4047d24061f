//! Passive DNS: which name a client asked for before it connected to an address.
//!
//! Keyed by (client address, server address) so that two devices resolving different names to
//! the same shared CDN address do not name each other's flows. Each key keeps the few most
//! recent names with the time of their first and latest answer, so a flow takes the answer
//! that came before it. (The pipeline looks a flow up when its first packet comes, in capture
//! order: only answers from earlier packets are in the map then.) The map is capped; when
//! full, the oldest half is forgotten.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use crate::flow::FxBuild;

/// Names remembered per (client, server address).
const NAMES_PER_KEY: usize = 4;
pub const DEFAULT_CAPACITY: usize = 262_144;

/// One name a client resolved for one address.
#[derive(Debug, Clone)]
struct Answered {
    /// Capture time of the first answer with this name, and of the latest.
    first_ts: u64,
    last_ts: u64,
    name: Arc<str>,
}

/// The names of one (client, server address).
type Names = Vec<Answered>;

#[derive(Debug)]
pub struct DnsMap {
    entries: HashMap<(IpAddr, IpAddr), Names, FxBuild>,
    capacity: usize,
    pub forgotten: u64,
}

impl Default for DnsMap {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_CAPACITY)
    }
}

impl DnsMap {
    pub fn with_capacity(capacity: usize) -> Self {
        DnsMap {
            entries: HashMap::default(),
            capacity: capacity.max(16),
            forgotten: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records that `client` learned at time `ts` that `name` has address `addr`.
    pub fn insert(&mut self, client: IpAddr, addr: IpAddr, name: &str, ts: u64) {
        if self.entries.len() >= self.capacity && !self.entries.contains_key(&(client, addr)) {
            self.forget_oldest_half();
        }
        let names = self.entries.entry((client, addr)).or_default();
        if let Some(existing) = names.iter_mut().find(|l| &*l.name == name) {
            existing.last_ts = existing.last_ts.max(ts);
            existing.first_ts = existing.first_ts.min(ts);
        } else {
            if names.len() >= NAMES_PER_KEY {
                if let Some(oldest) = names
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, l)| l.last_ts)
                    .map(|(i, _)| i)
                {
                    names.swap_remove(oldest);
                }
            }
            // Allocations only for a name new to this client and address: the name, and the
            // list's room when it is the key's first. Most keys only ever get one, so that
            // room is for one (a push would reserve four: 96 bytes more for each of up to
            // 262,144 keys).
            if names.capacity() == 0 {
                names.reserve_exact(1);
            }
            names.push(Answered {
                first_ts: ts,
                last_ts: ts,
                name: Arc::from(name),
            });
        }
    }

    /// The most recent name `client` resolved to `addr` no later than `ts`.
    pub fn lookup(&self, client: IpAddr, addr: IpAddr, ts: u64) -> Option<Arc<str>> {
        self.entries
            .get(&(client, addr))?
            .iter()
            .filter(|l| l.first_ts <= ts)
            // A repeat of the answer after the flow began does not make it more recent.
            .max_by_key(|l| {
                if l.last_ts <= ts {
                    l.last_ts
                } else {
                    l.first_ts
                }
            })
            .map(|l| l.name.clone())
    }

    fn forget_oldest_half(&mut self) {
        let mut times: Vec<u64> = self
            .entries
            .values()
            .map(|v| v.iter().map(|l| l.last_ts).max().unwrap_or(0))
            .collect();
        let mid = times.len() / 2;
        times.select_nth_unstable(mid);
        let cutoff = times.get(mid).copied().unwrap_or(0);
        let before = self.entries.len();
        self.entries
            .retain(|_, v| v.iter().map(|l| l.last_ts).max().unwrap_or(0) > cutoff);
        self.forgotten += (before - self.entries.len()) as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn earlier_answer_names_flow_per_client() {
        let mut m = DnsMap::default();
        m.insert(ip("10.0.0.1"), ip("1.2.3.4"), "chatgpt.com", 100);
        m.insert(ip("10.0.0.1"), ip("1.2.3.4"), "example.org", 200);
        assert_eq!(m.lookup(ip("10.0.0.1"), ip("1.2.3.4"), 50), None);
        assert_eq!(
            m.lookup(ip("10.0.0.1"), ip("1.2.3.4"), 150).as_deref(),
            Some("chatgpt.com")
        );
        assert_eq!(
            m.lookup(ip("10.0.0.1"), ip("1.2.3.4"), 250).as_deref(),
            Some("example.org")
        );
        assert_eq!(m.lookup(ip("10.0.0.2"), ip("1.2.3.4"), 250), None);
    }

    #[test]
    fn a_repeated_answer_keeps_naming_the_flows_since_the_first() {
        let mut m = DnsMap::default();
        let (client, server) = (ip("10.0.0.1"), ip("1.2.3.4"));
        m.insert(client, server, "chatgpt.com", 100);
        m.insert(client, server, "example.org", 200);
        // The first name answered again at 300: flows between 100 and 200 still take it, and
        // a flow between 200 and 300 takes the name answered at 200, the latest before it.
        m.insert(client, server, "chatgpt.com", 300);
        assert_eq!(
            m.lookup(client, server, 150).as_deref(),
            Some("chatgpt.com")
        );
        assert_eq!(
            m.lookup(client, server, 250).as_deref(),
            Some("example.org")
        );
        assert_eq!(
            m.lookup(client, server, 350).as_deref(),
            Some("chatgpt.com")
        );
    }

    #[test]
    fn capped() {
        let mut m = DnsMap::with_capacity(16);
        for i in 0..100u32 {
            m.insert(
                ip("10.0.0.1"),
                IpAddr::from(i.to_be_bytes()),
                "x",
                u64::from(i),
            );
        }
        assert!(m.len() <= 16);
        assert!(m.forgotten > 0);
        assert!(m
            .lookup(ip("10.0.0.1"), IpAddr::from(99u32.to_be_bytes()), 1000)
            .is_some());
    }
}
