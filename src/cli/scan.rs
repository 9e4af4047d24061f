//! `shadowai scan` and `shadowai interfaces` on the command line: the options, the order of
//! the start-up steps, one report per period, exit codes.
//!
//! Start-up order matters. Everything read from disk (rules, site policy, pseudonym key) is
//! read first, then the capture is opened, then root is given up, and only then is the report
//! folder checked, with the rights the reports will be written with. Mistakes an admin can make
//! in the options (`--every` without `--output`, a pattern that names two periods alike) are
//! refused before anything is opened.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use clap::Args;

use super::{emit, load_pseudonymizer, load_rules, FailOn, ListFormat, ReportArgs};
use crate::capture::live::{self, LiveOptions, LiveSource, DEFAULT_SNAPLEN};
use crate::pipeline::{NoSignals, Options, Pipeline};
use crate::report::{self, Format, Input, LiveCapture, Report};
use crate::scan::privilege::{self, Identity};
use crate::scan::schedule::{self, next_boundary, parse_duration};
use crate::scan::{self, Limits, Period};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Interface to capture on (`shadowai interfaces` lists them); default: libpcap's default.
    #[arg(short, long, value_name = "IFACE")]
    pub interface: Option<String>,
    /// Stop after this long (`90s`, `30m`, `8h`, `1d`, `1h30m`); without it, run until stopped.
    #[arg(long, value_name = "TIME", value_parser = positive_duration)]
    pub duration: Option<Duration>,
    /// Stop after this many packets.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub packets: Option<u64>,
    /// Capture filter in tcpdump (BPF) syntax, e.g. 'not host 192.168.1.10'.
    #[arg(long, value_name = "BPF")]
    pub filter: Option<String>,
    /// Bytes kept of each frame (64 to 262144). Byte counts come from the IP headers, so a
    /// small snaplen loses no traffic figures, only names in frames it cuts.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SNAPLEN,
          value_parser = clap::value_parser!(u32).range(64..=262_144))]
    pub snaplen: u32,
    /// Leave the interface out of promiscuous mode (a mirror port delivers everything anyway;
    /// elsewhere only this machine's own traffic and broadcasts are seen).
    #[arg(long)]
    pub no_promisc: bool,
    /// Write one report per period (`1h`, `1d`...) to --output; periods that divide a day end on
    /// the local clock (`1h`: on the hour), others run from the start.
    #[arg(long, value_name = "TIME", value_parser = positive_duration)]
    pub every: Option<Duration>,
    /// Started as root, continue as this user once the capture is open (`root` keeps root).
    #[arg(long, value_name = "USER", default_value = "nobody")]
    pub user: String,
    #[command(flatten)]
    pub report: ReportArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit with code 1 when a report has an unapproved finding (`unapproved`) or any (`any`).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
}

/// The report path for a period starting at `at`.
fn render_path(pattern: &str, at: SystemTime) -> anyhow::Result<PathBuf> {
    schedule::render_path(pattern, at).map_err(|e| anyhow!(e))
}

fn positive_duration(text: &str) -> Result<Duration, String> {
    match parse_duration(text)? {
        d if d.is_zero() => Err(format!("`{text}` is no time at all")),
        d => Ok(d),
    }
}

/// What every report of the run says about the capture.
struct CaptureFacts {
    interface: String,
    link_type: u32,
    filter: Option<String>,
    snaplen: u32,
    promiscuous: bool,
}

pub fn interfaces_cmd(format: ListFormat) -> anyhow::Result<ExitCode> {
    let list = live::interfaces().map_err(|e| anyhow!("{e}"))?;
    emit(None, |out| match format {
        ListFormat::Table => report::interfaces::write_table(&list, out),
        ListFormat::Json => report::interfaces::write_json(&list, out),
    })?;
    Ok(ExitCode::SUCCESS)
}

pub fn scan_cmd(args: ScanArgs) -> anyhow::Result<ExitCode> {
    let pattern = output_pattern(&args)?;
    let (catalogue, policy) = load_rules(&args.report)?;
    let pseudonymizer = load_pseudonymizer(args.report.pseudonymize.as_deref())?;

    let live_options = LiveOptions {
        interface: args.interface.clone(),
        snaplen: args.snaplen,
        promiscuous: !args.no_promisc,
        filter: args.filter.clone(),
    };
    let mut source = LiveSource::open(&live_options).map_err(|e| anyhow!("{e}"))?;
    let identity = privilege::drop_to(&args.user).map_err(|e| anyhow!("{e}"))?;
    if let Some(pattern) = &pattern {
        check_writable(&render_path(pattern, SystemTime::now())?, &identity)?;
    }
    let stop = scan::signals::install().context("installing the Ctrl-C handler")?;
    let facts = CaptureFacts {
        interface: source.interface().to_string(),
        link_type: source.link_type(),
        filter: args.filter.clone(),
        snaplen: args.snaplen,
        promiscuous: !args.no_promisc,
    };
    eprintln!(
        "shadowai: capturing on {} (link type {}, snaplen {}{}{}); {identity}; Ctrl-C or SIGTERM stops and writes the report",
        facts.interface,
        facts.link_type,
        facts.snaplen,
        if facts.promiscuous { ", promiscuous" } else { "" },
        facts
            .filter
            .as_deref()
            .map(|f| format!(", filter `{f}`"))
            .unwrap_or_default(),
    );

    let limits = Limits {
        duration: args.duration,
        packets: args.packets,
        every: args.every,
    };
    let options = Options {
        max_flows: args.report.max_flows,
        // Live packets go one at a time through `Pipeline::process`.
        threads: 1,
        share_shards: None,
        stream_budget: 0,
    };
    let pipeline = Pipeline::with_policy(&catalogue, &policy, options, NoSignals);
    let mut failed_on = false;
    let (_, failures) = scan::run(&mut source, pipeline, limits, &stop, |period| {
        let mut report = period_report(&period, &facts, &catalogue, &policy);
        if let Some(pseudonymizer) = &pseudonymizer {
            pseudonymizer.apply(&mut report);
        }
        failed_on |= args.fail_on.is_some_and(|what| what.matches(&report));
        let path = pattern
            .as_deref()
            .map(|p| render_path(p, period.started))
            .transpose()?;
        if let Some(dir) = path.as_deref().and_then(Path::parent) {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
            }
        }
        emit(path.as_deref(), |out| {
            report::render(&report, args.format, out)
        })?;
        for warning in &report.warnings {
            eprintln!("shadowai: warning: {warning}");
        }
        if let Some(path) = &path {
            eprintln!(
                "shadowai: wrote {}: {} packet(s), {} AI finding(s), period ended by {}",
                path.display(),
                period.packets,
                report.findings.len(),
                period.ended_by.as_str()
            );
        }
        Ok(())
    });
    for failure in &failures {
        eprintln!("shadowai: error: {failure:#}");
    }
    Ok(super::exit_code(!failures.is_empty(), failed_on))
}

/// `--output` as a strftime pattern, checked before anything is opened.
fn output_pattern(args: &ScanArgs) -> anyhow::Result<Option<String>> {
    let Some(output) = &args.report.output else {
        if args.every.is_some() {
            bail!("--every writes one report per period: give --output a path pattern, e.g. --output 'reports/%Y-%m-%d_%H%M.json'");
        }
        return Ok(None);
    };
    let pattern = output
        .to_str()
        .ok_or_else(|| anyhow!("--output {} is not valid UTF-8", output.display()))?
        .to_string();
    let now = SystemTime::now();
    render_path(&pattern, now)?;
    if let Some(every) = args.every {
        // Two whole periods in a row must get two names, or each report would replace the last.
        let second = next_boundary(now, every);
        let third = next_boundary(second, every);
        let (a, b) = (
            render_path(&pattern, second)?,
            render_path(&pattern, third)?,
        );
        if a == b {
            bail!(
                "--output '{pattern}' gives consecutive periods the same name ({}), so each report would replace the one before; add finer time fields, e.g. '%Y-%m-%d_%H%M%S'",
                a.display()
            );
        }
    }
    Ok(Some(pattern))
}

/// Fails early, with the fix, when the reports could not be written by whoever the run now is:
/// a report that replaces a file needs a temporary file beside it; one written through (a
/// device, a FIFO: `report::replaceable`) needs the name itself open for writing.
fn check_writable(path: &Path, identity: &Identity) -> anyhow::Result<()> {
    let (who, owner) = match identity {
        Identity::Dropped { user, .. } => (format!("user `{user}`"), user.clone()),
        _ => ("this user".to_string(), "$USER".to_string()),
    };
    let replaced = report::replaceable(path);
    if replaced.is_none() && path.exists() {
        return open_for_writing(path).map_err(|e| {
            anyhow!(
                "cannot write reports to {} as {who} ({e}); give that user write access to \
                 it, or choose another with --output or --user",
                path.display()
            )
        });
    }
    let dir = report::folder_of(replaced.as_deref().unwrap_or(path));
    let probe = std::fs::create_dir_all(dir).and_then(|()| tempfile::tempfile_in(dir).map(drop));
    probe.map_err(|e| {
        anyhow!(
            "cannot write reports into {} as {who} ({e}); give that user the folder \
             (`sudo install -d -o {owner} {}`), or choose another with --output or --user",
            dir.display(),
            dir.display()
        )
    })
}

/// Whether `path` (not a regular file) opens for writing, without changing it and without
/// waiting for a FIFO's reader (a FIFO with none yet is writable all the same).
fn open_for_writing(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path);
    match opened {
        Err(e) if e.raw_os_error() == Some(nix::libc::ENXIO) => Ok(()),
        other => other.map(drop),
    }
}

fn nanos(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

fn period_report(
    period: &Period,
    facts: &CaptureFacts,
    catalogue: &crate::classify::rules::Catalogue,
    policy: &crate::classify::policy::Policy,
) -> Report {
    let input = Input {
        path: format!("live:{}", facts.interface),
        format: Some("live".to_string()),
        packets: period.packets,
        complete: period.error.is_none(),
        error: period.error.clone(),
    };
    let warnings = period
        .error
        .iter()
        .map(|e| format!("{e}; the report covers the packets before it"))
        .collect();
    let counters = period.counters;
    Report::build(&period.outcome, catalogue, policy, vec![input], warnings).with_capture(
        LiveCapture {
            interface: facts.interface.clone(),
            link_type: facts.link_type,
            filter: facts.filter.clone(),
            snaplen: facts.snaplen,
            promiscuous: facts.promiscuous,
            started: report::time::rfc3339(nanos(period.started)),
            ended: report::time::rfc3339(nanos(period.ended)),
            ended_by: period.ended_by.as_str().into(),
            packets_received: counters.map(|c| u64::from(c.received)),
            packets_dropped_by_kernel: counters.map(|c| u64::from(c.dropped_by_kernel)),
            packets_dropped_by_interface: counters.map(|c| u64::from(c.dropped_by_interface)),
        },
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reports_written_through_are_checked_by_their_own_name() {
        let dir = tempfile::tempdir().unwrap();
        let me = Identity::StayedRoot;
        // A FIFO with no reader yet: writable, and the check does not wait for one.
        let fifo = dir.path().join("import.fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.unwrap().success(), "mkfifo (coreutils) is needed");
        check_writable(&fifo, &me).unwrap();
        check_writable(Path::new("/dev/null"), &me).unwrap();
        // A report that replaces a file: its folder is made and tried.
        check_writable(&dir.path().join("reports/monday.json"), &me).unwrap();
        // A folder that cannot be made (a file is in the way) names it.
        std::fs::write(dir.path().join("taken"), "").unwrap();
        let err = check_writable(&dir.path().join("taken/monday.json"), &me).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("cannot write reports into "), "{text}");
        assert!(text.contains("taken"), "{text}");
    }
}
