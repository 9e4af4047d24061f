//! Live capture through libpcap (the `pcap` crate): the interface list, opening an interface
//! (snaplen, promiscuous mode, BPF filter, kernel buffer), reading frames with a short timeout so
//! the caller can stop or end a period while the network is quiet, and libpcap's drop counters.
//!
//! The capture is non-blocking and a quiet read waits in `poll(2)`: libpcap's own read timeout
//! cannot be relied on, because with Linux's TPACKET_V3 ring it only starts once a frame has
//! arrived, so a read on a silent link would block for ever and Ctrl-C, `--duration` and
//! `--every` would wait for the next frame.
//!
//! It yields the same `RawPacket`s as a capture file and parses nothing. Errors are turned into
//! what an admin can act on: a missing right names the exact fix, an unknown interface points to
//! `shadowai interfaces`, a bad filter quotes libpcap's complaint.

use std::fmt;
use std::net::IpAddr;
use std::os::fd::AsFd;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use ::pcap::{Active, Capture, Device, Precision};

use super::RawPacket;

/// How long one read waits for traffic before handing control back (stop, period end).
const READ_TIMEOUT_MS: u16 = 250;
/// Kernel buffer for captured frames: a second of a busy gigabit link, so a slow moment in the
/// classifier costs no drops. libpcap's own default is 2 MiB.
const BUFFER_BYTES: i32 = 32 << 20;
/// libpcap's default snapshot length (as tcpdump's).
pub const DEFAULT_SNAPLEN: u32 = 262_144;

#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// None: libpcap's default device.
    pub interface: Option<String>,
    pub snaplen: u32,
    pub promiscuous: bool,
    /// A BPF filter in tcpdump syntax.
    pub filter: Option<String>,
}

#[derive(Debug)]
pub enum LiveError {
    /// No right to capture (not root, no CAP_NET_RAW).
    Permission {
        interface: String,
        detail: String,
    },
    NoSuchInterface {
        interface: String,
        detail: String,
    },
    NoDefaultInterface,
    Filter {
        filter: String,
        detail: String,
    },
    Open {
        interface: String,
        detail: String,
    },
    /// The interface went away or libpcap failed while reading.
    Read {
        interface: String,
        detail: String,
    },
}

impl fmt::Display for LiveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LiveError::Permission { interface, detail } => {
                let exe = std::env::current_exe()
                    .map(|p| p.display().to_string())
                    .unwrap_or_else(|_| "/path/to/shadowai".to_string());
                write!(
                    f,
                    "no permission to capture on {interface} ({detail}).\n\
                     Either run it as root:\n    sudo {exe} scan -i {interface} ...\n\
                     (it drops to the unprivileged user `nobody` once the capture is open; see --user),\n\
                     or give this binary the capture rights once:\n    \
                     sudo setcap cap_net_raw,cap_net_admin=eip {exe}\n\
                     Caveat of setcap: any local user who can run this file can then capture all the traffic \
                     this machine sees; keep it in a folder only the admin can execute from."
                )
            }
            LiveError::NoSuchInterface { interface, detail } => write!(
                f,
                "no capture interface `{interface}` ({detail}); `shadowai interfaces` lists them"
            ),
            LiveError::NoDefaultInterface => write!(
                f,
                "libpcap found no interface to capture on; name one with -i (`shadowai interfaces` lists them)"
            ),
            LiveError::Filter { filter, detail } => {
                write!(f, "capture filter `{filter}` is not valid BPF: {detail}")
            }
            LiveError::Open { interface, detail } => {
                write!(f, "cannot capture on {interface}: {detail}")
            }
            LiveError::Read { interface, detail } => {
                write!(f, "capture on {interface} failed: {detail}")
            }
        }
    }
}

impl std::error::Error for LiveError {}

/// libpcap's counters since the capture was opened (32-bit: they wrap on long runs, so callers
/// take differences with wrapping arithmetic).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    pub received: u32,
    pub dropped_by_kernel: u32,
    pub dropped_by_interface: u32,
}

impl Counters {
    /// What happened between `earlier` and `self`.
    pub fn since(self, earlier: Counters) -> Counters {
        Counters {
            received: self.received.wrapping_sub(earlier.received),
            dropped_by_kernel: self
                .dropped_by_kernel
                .wrapping_sub(earlier.dropped_by_kernel),
            dropped_by_interface: self
                .dropped_by_interface
                .wrapping_sub(earlier.dropped_by_interface),
        }
    }
}

pub struct LiveSource {
    capture: Capture<Active>,
    interface: String,
    link_type: u32,
    /// Timestamps come in nanoseconds (else microseconds).
    nanos: bool,
    /// The last read found nothing: the next one first waits for traffic.
    quiet: bool,
}

fn is_permission_error(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    lower.contains("permission") || lower.contains("operation not permitted")
}

fn is_missing_device(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    lower.contains("no such device") || lower.contains("doesn't exist")
}

impl LiveSource {
    pub fn open(options: &LiveOptions) -> Result<LiveSource, LiveError> {
        let interface = match &options.interface {
            Some(name) => name.clone(),
            None => Device::lookup()
                .ok()
                .flatten()
                .map(|d| d.name)
                .ok_or(LiveError::NoDefaultInterface)?,
        };
        let snaplen = i32::try_from(options.snaplen).unwrap_or(i32::MAX);
        let open = |precision: Precision| {
            Capture::from_device(interface.as_str())
                .map(|c| {
                    c.snaplen(snaplen)
                        .promisc(options.promiscuous)
                        .timeout(i32::from(READ_TIMEOUT_MS))
                        .buffer_size(BUFFER_BYTES)
                        .precision(precision)
                })
                .and_then(|c| c.open())
        };
        // Nanosecond timestamps where the kernel offers them; microseconds otherwise.
        let (capture, nanos) = match open(Precision::Nano) {
            Ok(c) => (c, true),
            Err(first) => match open(Precision::Micro) {
                Ok(c) => (c, false),
                Err(_) => return Err(classify_open_error(&interface, &first)),
            },
        };
        let capture = capture.setnonblock().map_err(|e| LiveError::Read {
            interface: interface.clone(),
            detail: e.to_string(),
        })?;
        let mut source = LiveSource {
            link_type: u32::try_from(capture.get_datalink().0).unwrap_or(u32::MAX),
            capture,
            interface,
            nanos,
            quiet: false,
        };
        if let Some(filter) = &options.filter {
            source
                .capture
                .filter(filter, true)
                .map_err(|e| LiveError::Filter {
                    filter: filter.clone(),
                    detail: e.to_string(),
                })?;
        }
        Ok(source)
    }

    pub fn interface(&self) -> &str {
        &self.interface
    }

    pub fn link_type(&self) -> u32 {
        self.link_type
    }

    /// The next frame, or `None` when there is none now. After a `None` the next call first
    /// waits up to the read timeout for traffic, so a caller looping on this function sleeps
    /// while the link is quiet and still looks at its clock and stop flag four times a second.
    pub fn next_packet(&mut self) -> Result<Option<RawPacket<'_>>, LiveError> {
        if std::mem::take(&mut self.quiet) {
            let mut fds = [PollFd::new(self.capture.as_fd(), PollFlags::POLLIN)];
            // A signal (EINTR) or an error only ends the wait early; the read below tells.
            let _ = poll(&mut fds, PollTimeout::from(READ_TIMEOUT_MS));
        }
        match self.capture.next_packet() {
            Ok(packet) => {
                let ts = packet.header.ts;
                let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
                let frac = u64::try_from(ts.tv_usec).unwrap_or(0);
                let frac_nanos = if self.nanos {
                    frac
                } else {
                    frac.saturating_mul(1000)
                };
                Ok(Some(RawPacket {
                    ts_nanos: secs
                        .saturating_mul(1_000_000_000)
                        .saturating_add(frac_nanos),
                    link_type: self.link_type,
                    orig_len: packet.header.len,
                    data: packet.data,
                }))
            }
            Err(::pcap::Error::TimeoutExpired) => {
                self.quiet = true;
                Ok(None)
            }
            Err(e) => Err(LiveError::Read {
                interface: self.interface.clone(),
                detail: e.to_string(),
            }),
        }
    }

    /// libpcap's counters since the capture was opened; `None` where the platform has none.
    pub fn counters(&mut self) -> Option<Counters> {
        self.capture.stats().ok().map(|s| Counters {
            received: s.received,
            dropped_by_kernel: s.dropped,
            dropped_by_interface: s.if_dropped,
        })
    }
}

fn classify_open_error(interface: &str, error: &::pcap::Error) -> LiveError {
    let detail = error.to_string();
    let interface = interface.to_string();
    if is_permission_error(&detail) {
        LiveError::Permission { interface, detail }
    } else if is_missing_device(&detail) {
        LiveError::NoSuchInterface { interface, detail }
    } else {
        LiveError::Open { interface, detail }
    }
}

/// One capture device as libpcap lists it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Interface {
    pub name: String,
    pub description: Option<String>,
    /// libpcap's default device (what `scan` uses without -i).
    pub default: bool,
    pub up: bool,
    pub running: bool,
    pub loopback: bool,
    pub wireless: bool,
    /// Addresses with their prefix length (`192.168.1.5/24`).
    pub addresses: Vec<String>,
}

/// The devices libpcap can capture on, default first. Listing needs no privilege.
pub fn interfaces() -> Result<Vec<Interface>, LiveError> {
    let devices = Device::list().map_err(|e| LiveError::Open {
        interface: "(any)".to_string(),
        detail: e.to_string(),
    })?;
    let default = Device::lookup().ok().flatten().map(|d| d.name);
    let mut list: Vec<Interface> = devices
        .into_iter()
        .map(|d| Interface {
            default: default.as_deref() == Some(d.name.as_str()),
            up: d.flags.is_up(),
            running: d.flags.is_running(),
            loopback: d.flags.is_loopback(),
            wireless: d.flags.is_wireless(),
            addresses: d
                .addresses
                .iter()
                .map(|a| match a.netmask.and_then(prefix_len) {
                    Some(len) => format!("{}/{len}", a.addr),
                    None => a.addr.to_string(),
                })
                .collect(),
            description: d.desc,
            name: d.name,
        })
        .collect();
    list.sort_by_key(|i| !i.default);
    Ok(list)
}

/// The prefix length of a contiguous netmask.
fn prefix_len(mask: IpAddr) -> Option<u32> {
    let (ones, bits) = match mask {
        IpAddr::V4(m) => {
            let v = u32::from(m);
            (v.count_ones(), v.leading_ones())
        }
        IpAddr::V6(m) => {
            let v = u128::from(m);
            (v.count_ones(), v.leading_ones())
        }
    };
    (ones == bits).then_some(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_wrap() {
        let earlier = Counters {
            received: u32::MAX - 1,
            dropped_by_kernel: 5,
            dropped_by_interface: 0,
        };
        let now = Counters {
            received: 3,
            dropped_by_kernel: 7,
            dropped_by_interface: 0,
        };
        assert_eq!(
            now.since(earlier),
            Counters {
                received: 5,
                dropped_by_kernel: 2,
                dropped_by_interface: 0
            }
        );
    }

    #[test]
    fn netmask_prefix() {
        assert_eq!(prefix_len("255.255.255.0".parse().unwrap()), Some(24));
        assert_eq!(prefix_len("255.0.255.0".parse().unwrap()), None);
        assert_eq!(
            prefix_len("ffff:ffff:ffff:ffff::".parse().unwrap()),
            Some(64)
        );
    }

    #[test]
    fn open_errors_are_classified() {
        let e = |s: &str| classify_open_error("eth0", &::pcap::Error::PcapError(s.to_string()));
        assert!(matches!(
            e("eth0: You don't have permission to perform this capture on that device (socket: Operation not permitted)"),
            LiveError::Permission { .. }
        ));
        assert!(matches!(
            e("eth0: No such device exists (No such device exists)"),
            LiveError::NoSuchInterface { .. }
        ));
        let text = e("socket: Operation not permitted").to_string();
        assert!(
            text.contains("sudo setcap cap_net_raw,cap_net_admin=eip"),
            "{text}"
        );
        assert!(text.contains("any local user"), "{text}");
    }

    #[test]
    fn interface_list_has_loopback() {
        // Listing needs no privilege; every Linux box has a loopback device.
        let list = interfaces().unwrap();
        assert!(list.iter().any(|i| i.loopback), "{list:?}");
    }
}
