//! Giving up root once the capture is open, as tcpdump's `-Z` does: the process that parses
//! hostile packets for hours should not be able to do anything root can.
//!
//! Only a process running as root changes user. Started by an ordinary user (with the
//! capture capabilities given to the binary by `setcap`), there is nothing to give up here and
//! the run goes on as that user. The order is the one that cannot be undone half-way:
//! supplementary groups, then the group, then the user; afterwards regaining root must fail,
//! or the run stops.

use std::fmt;

use nix::unistd::{self, Gid, Uid, User};

/// Who the run continues as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Not started as root: nothing was changed.
    Unchanged { uid: u32 },
    /// Started as root and asked to stay root (`--user root`).
    StayedRoot,
    /// Started as root, now this user.
    Dropped { user: String, uid: u32, gid: u32 },
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Identity::Unchanged { uid } => write!(f, "running as uid {uid} (not root: no change)"),
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
