//! Giving up root once the capture is open, as tcpdump's `-Z` does: the process that parses
//! hostile packets for hours should not be able to do anything root can.
//!
//! Only a process running as root changes user. The order is the one that cannot be undone
//! half-way: supplementary groups, then the group, then the user; afterwards regaining root
//! must fail, or the run stops.
//!
//! Started by an ordinary user, the run goes on as that user, but the capture capabilities
//! the binary was given (`setcap cap_net_raw,cap_net_admin=eip`, or inherited as ambient
//! ones) are given up: with `CAP_NET_ADMIN` a compromised parser could rewrite the box's
//! routes and firewall, with `CAP_NET_RAW` forge traffic. The open capture needs neither. All
//! sets are cleared (ambient, effective, permitted, inheritable); afterwards none may be held,
//! or the run stops. Capabilities belong to a thread, and threads started later inherit them:
//! this runs before the run starts any thread.

use std::fmt;

use nix::unistd::{self, Gid, Uid, User};

/// Who the run continues as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Not started as root: the user is the same, and `gave_up` lists the capabilities the
    /// process held and gave up (`cap_net_raw`, ...), none if it held none.
    Unchanged { uid: u32, gave_up: Vec<String> },
    /// Started as root and asked to stay root (`--user root`).
    StayedRoot,
    /// Started as root, now this user.
    Dropped { user: String, uid: u32, gid: u32 },
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Unchanged { uid, gave_up } if gave_up.is_empty() => {
                write!(f, "running as uid {uid} (not root: no change)")
            }
            Identity::Unchanged { uid, gave_up } => write!(
                f,
                "running as uid {uid} (not root); gave up {}",
                gave_up.join(", ")
            ),
            Identity::StayedRoot => write!(f, "running as root (--user root)"),
            Identity::Dropped { user, uid, gid } => {
                write!(f, "dropped root: running as {user} (uid {uid}, gid {gid})")
            }
        }
    }
}

/// Becomes `user` if the process runs as root.
pub fn drop_to(user: &str) -> Result<Identity, String> {
    if !unistd::geteuid().is_root() {
        return Ok(Identity::Unchanged {
            uid: unistd::geteuid().as_raw(),
            gave_up: give_up_capabilities()?,
        });
    }
    let account = User::from_name(user)
        .map_err(|e| format!("cannot look up user `{user}`: {e}"))?
        .ok_or_else(|| {
            format!(
                "no user `{user}` on this machine to drop root to; name one with --user \
                 (a dedicated one: `useradd --system --no-create-home shadowai`)"
            )
        })?;
    if account.uid.is_root() {
        return Ok(Identity::StayedRoot);
    }
    let failed = |step: &str, e: nix::Error| format!("dropping root to `{user}`: {step}: {e}");
    unistd::setgroups(&[account.gid]).map_err(|e| failed("setgroups", e))?;
    unistd::setgid(account.gid).map_err(|e| failed("setgid", e))?;
    unistd::setuid(account.uid).map_err(|e| failed("setuid", e))?;
    if unistd::setuid(Uid::from_raw(0)).is_ok() || unistd::setgid(Gid::from_raw(0)).is_ok() {
        return Err(format!(
            "dropping root to `{user}`: root could be regained afterwards; refusing to go on"
        ));
    }
    Ok(Identity::Dropped {
        user: user.to_string(),
        uid: account.uid.as_raw(),
        gid: account.gid.as_raw(),
    })
}

/// Clears every capability set of this thread, and returns the names of the capabilities it
/// held (the permitted set, which holds the ambient one), sorted. Fails if any is still held
/// afterwards.
fn give_up_capabilities() -> Result<Vec<String>, String> {
    use caps::CapSet;
    let failed = |step: &str, e: caps::errors::CapsError| {
        format!("giving up the capture capabilities: {step}: {e}")
    };
    let held = caps::read(None, CapSet::Permitted).map_err(|e| failed("reading", e))?;
    if held.is_empty() {
        return Ok(Vec::new());
    }
    // Ambient first (each ambient capability must stay permitted and inheritable while it is
    // set), effective before permitted (effective must stay within permitted).
    for set in [
        CapSet::Ambient,
        CapSet::Effective,
        CapSet::Permitted,
        CapSet::Inheritable,
    ] {
        caps::clear(None, set).map_err(|e| failed(&format!("clearing {set:?}"), e))?;
    }
    for set in [CapSet::Effective, CapSet::Permitted] {
        let left = caps::read(None, set).map_err(|e| failed("checking", e))?;
        if !left.is_empty() {
            return Err(format!(
                "giving up the capture capabilities: {} still {set:?} afterwards; refusing to go on",
                names(&left).join(", ")
            ));
        }
    }
    Ok(names(&held))
}

/// `cap_net_raw`, as `setcap` and `getcap` write them, sorted.
fn names(set: &caps::CapsHashSet) -> Vec<String> {
    let mut names: Vec<String> = set.iter().map(|c| c.to_string().to_lowercase()).collect();
    names.sort();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_banner_names_the_capabilities_given_up() {
        let kept = Identity::Unchanged {
            uid: 1000,
            gave_up: Vec::new(),
        };
        assert_eq!(
            kept.to_string(),
            "running as uid 1000 (not root: no change)"
        );
        let gave_up = Identity::Unchanged {
            uid: 1000,
            gave_up: vec!["cap_net_admin".into(), "cap_net_raw".into()],
        };
        assert_eq!(
            gave_up.to_string(),
            "running as uid 1000 (not root); gave up cap_net_admin, cap_net_raw"
        );
        let set: caps::CapsHashSet = [
            caps::Capability::CAP_NET_RAW,
            caps::Capability::CAP_NET_ADMIN,
        ]
        .into_iter()
        .collect();
        assert_eq!(names(&set), ["cap_net_admin", "cap_net_raw"]);
    }
}
