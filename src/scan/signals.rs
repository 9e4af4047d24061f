//! Ctrl-C and SIGTERM for `scan`: the first asks the capture to stop and write its report; a
//! second one, while that is still going on, ends the process at once (exit status 130 for
//! SIGINT, 143 for SIGTERM, as a shell reports a killed command).

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use signal_hook::consts::{SIGINT, SIGTERM};

/// Installs the handlers; the returned flag turns true on the first SIGINT or SIGTERM.
pub fn install() -> std::io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for (signal, status) in [(SIGINT, 130), (SIGTERM, 143)] {
        // Order matters: the shutdown check runs before the flag is set, so only a signal
        // that finds the flag already set ends the process.
        signal_hook::flag::register_conditional_shutdown(signal, status, Arc::clone(&stop))?;
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}
