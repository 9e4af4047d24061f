//! The deployment examples in `examples/deploy/` are command lines an admin copies as they are:
//! each must still be accepted by today's `shadowai`, with its `%` escapes (cron's `\%`,
//! systemd's `%%`) turning into the strftime fields the report paths need.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, SystemTime};

use clap::Parser;
use shadowai::cli::{Cli, Command};
use shadowai::scan::schedule::render_path;

fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Splits a command line as `sh` would for these examples: blanks, and single quotes.
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '\'' => (quoted, any) = (!quoted, true),
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                }
                any = false;
            }
            c => (word, any) = (word + &c.to_string(), true),
        }
    }
    assert!(!quoted, "unbalanced quote in {line}");
    if any {
        out.push(word);
    }
    out
}

/// Parses `args` (starting with the binary's path) and checks the report path pattern: it
/// has strftime fields, no escape left over, and names two hours apart differently.
fn check_scan(args: &[String]) {
    assert!(args[0].ends_with("/shadowai"), "{args:?}");
    let cli = Cli::try_parse_from(args).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    let Command::Scan(scan) = cli.command else {
        panic!("not a scan: {args:?}")
    };
    assert!(scan.every.is_some() && scan.duration.is_some());
    assert_eq!(scan.user, "shadowai");
    let pattern = scan.report.output.unwrap();
    let pattern = pattern.to_str().unwrap();
    assert!(
        !pattern.contains('\\') && !pattern.contains("%%"),
        "{pattern}"
    );
    let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_510_800);
    let first = render_path(pattern, at).unwrap();
    let second = render_path(pattern, at + Duration::from_secs(3600)).unwrap();
    assert_ne!(first, second, "{pattern}");
    assert!(
        first.starts_with("/var/lib/shadowai/"),
        "{}",
        first.display()
    );
}

#[test]
fn the_crontab_line_is_a_valid_scan() {
    let text = example("crontab");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    // Five time fields, then the command; cron turns `\%` into `%` (a bare `%` would end it).
    let command: Vec<&str> = lines[0].splitn(6, char::is_whitespace).collect();
    let command = command[5].trim_start();
    assert!(
        !command.replace("\\%", "").contains('%'),
        "bare % in {command}"
    );
    check_scan(&words(&command.replace("\\%", "%")));
}

#[test]
fn the_systemd_service_is_a_valid_scan() {
    let text = example("shadowai-scan.service");
    let exec = text
        .replace("\\\n", " ")
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart=").map(str::to_string))
        .expect("an ExecStart line");
    // systemd turns `%%` into `%`; any other `%x` would be a specifier it expands.
    assert!(!exec.replace("%%", "").contains('%'), "bare % in {exec}");
    check_scan(&words(&exec.replace("%%", "%")));
    let timer = example("shadowai-scan.timer");
    assert!(timer.contains("OnCalendar="), "{timer}");
}
