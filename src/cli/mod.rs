//! Command-line definitions (clap derive) and the glue that runs a command: load the rules,
//! run the pipeline over the inputs, render, write, choose the exit code. No business logic.
//!
//! Exit codes: 0 the command ran (warnings, such as a capture cut short, are in the report and on
//! stderr); 1 it ran and `--fail-on` found what it was asked to fail on; 2 an error: bad arguments, a rule file that does not load, an input that could not be
//! opened or is not a capture (the other inputs are still read and reported), or an output that
//! could not be written.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::capture::file::FileSource;
use crate::classify::policy::{Policy, Status};
use crate::classify::rules::Catalogue;
use crate::pipeline::{NoSignals, Options, Pipeline, SignalSink};
use crate::report::inspect::{self, Collect, JsonLines};
use crate::report::pseudonym::Pseudonymizer;
use crate::report::{self, Format, Input, Report};

pub mod scan;

#[derive(Debug, Parser)]
#[command(
    name = "shadowai",
    version,
    about = "Which device sent how much data to which AI service: an audit of packet captures."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit capture files (pcap, pcapng, gzip; `-` for stdin): AI services used, per device.
    Audit(AuditArgs),
    /// Print every name signal (TLS SNI, DNS, HTTP Host) found in capture files, one per line.
    Inspect(InspectArgs),
    /// Every device seen: addresses, announced names, vendor, traffic, AI findings.
    Devices(DevicesArgs),
    /// Capture live on an interface (libpcap) and report AI use, once at the end or every
    /// period (`--every`). Ctrl-C or SIGTERM stops and writes the report; a second one aborts.
    Scan(scan::ScanArgs),
    /// The interfaces `scan` can capture on, with their addresses; the default one first.
    Interfaces {
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
    },
    /// What changed between two JSON reports (`audit` or `scan` `--format json`): new and gone findings,
    /// status changes, new devices.
    Diff(DiffArgs),
    /// Render a saved JSON report (`audit` or `scan` `--format json`) again: as a table, CSV,
    /// JSON or the owner's HTML page (`--format html`).
    Render(RenderArgs),
    /// Map tokens of a pseudonymised report back to MACs, addresses and names.
    Reveal(RevealArgs),
    /// The signature catalogue: list it, check rule files, test a name or address against it.
    #[command(subcommand)]
    Rules(RulesCommand),
}

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List the AI services the catalogue knows.
    List {
        /// Only services of this kind (chat, code, image, audio, video, api, writing, meeting,
        /// search, hub, extension).
        #[arg(long)]
        kind: Option<String>,
        #[arg(long, value_enum, default_value_t = ListFormat::Table)]
        format: ListFormat,
        /// Extra signature folders, as for `audit`.
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
    /// Check rule files: syntax (file:line:column), ids, patterns, sources, conflicts.
    /// Without DIR, the built-in catalogue.
    Check { dir: Option<PathBuf> },
    /// Which service and pattern a hostname or IP address matches, or why none does.
    Test {
        /// A hostname (`api.openai.com`) or an IP address.
        target: String,
        #[arg(long = "rules", value_name = "DIR")]
        rules: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Exit with code 1 when there is an unapproved finding (`unapproved`) or any finding (`any`).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
}

/// What `audit` and `devices` read, and how.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// Capture files to read, in order; `-` reads standard input.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Threads to use (0: one per core). One reads and decodes the capture, the others
    /// follow the flows; the report is the same for any number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub threads: usize,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// How a report is made and where it goes: shared by `audit`, `devices` and `scan`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Write the report to this file (atomically) instead of standard output. For `scan`, a
    /// pattern with strftime fields in local time (`reports/%Y-%m-%d_%H%M.json`), named after
    /// the start of each report's period.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Extra signature folders: their *.yaml files add to the built-in rules (same file name replaces).
    #[arg(long = "rules", value_name = "DIR")]
    pub rules: Vec<PathBuf>,
    /// Most flows held in memory at once; older ones are folded into the findings early.
    #[arg(long, default_value_t = crate::flow::DEFAULT_MAX_FLOWS)]
    pub max_flows: usize,
    /// Site policy file (default: ./shadowai.yaml, else /etc/shadowai/shadowai.yaml, if present).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Replace MACs, device addresses and device/owner names by stable keyed tokens, so the
    /// report can be shared; the key file is created (mode 0600) if missing. See `reveal`.
    #[arg(long, value_name = "KEYFILE")]
    pub pseudonymize: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier report (`audit` or `scan` `--format json`).
    pub old: PathBuf,
    /// The later report.
    pub new: PathBuf,
    #[arg(long, value_enum, default_value_t = ListFormat::Table)]
    pub format: ListFormat,
    /// Exit with code 1 when a finding is new or changed its status and is now unapproved
    /// (`unapproved`), or is new or changed at all (`any`).
    #[arg(long, value_enum, value_name = "WHAT")]
    pub fail_on: Option<FailOn>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    /// The report (`audit` or `scan` `--format json`).
    pub report: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RevealArgs {
    /// The key file the report was pseudonymised with.
    pub keyfile: PathBuf,
    /// Tokens to map back (`mac-…`, `ip-…`, `name-…`).
    #[arg(required = true)]
    pub tokens: Vec<String>,
    /// Captures whose devices the tokens came from.
    #[arg(long = "capture", value_name = "FILE", required = true)]
    pub captures: Vec<PathBuf>,
    /// The site policy the report was made with (inventory names are tokens too).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    #[command(flatten)]
    pub input: InputArgs,
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    Unapproved,
    Any,
}

impl FailOn {
    /// Whether the report holds what `--fail-on` asks to fail on.
    pub fn matches(self, report: &Report) -> bool {
        match self {
            FailOn::Any => !report.findings.is_empty(),
            FailOn::Unapproved => report
                .findings
                .iter()
                .any(|f| f.status == Status::Unapproved),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectFormat {
    Jsonl,
    Table,
}

#[derive(Debug, Args)]
pub struct InspectArgs {
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = InspectFormat::Jsonl)]
    pub format: InspectFormat,
    /// Replace source MACs and LAN addresses by keyed tokens (as for `audit`).
    #[arg(long, value_name = "KEYFILE")]
    pub pseudonymize: Option<PathBuf>,
    /// Write to this file (atomically) instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Audit(args) => audit(args),
        Command::Inspect(args) => inspect_cmd(args),
        Command::Devices(args) => devices_cmd(args),
        Command::Scan(args) => scan::scan_cmd(args),
        Command::Interfaces { format } => scan::interfaces_cmd(format),
        Command::Diff(args) => diff_cmd(args),
        Command::Render(args) => render_cmd(args),
        Command::Reveal(args) => reveal_cmd(args),
        Command::Rules(command) => rules_cmd(command),
    }
}

fn rules_cmd(command: RulesCommand) -> anyhow::Result<ExitCode> {
    let load = |dirs: &[PathBuf]| Catalogue::load(dirs).map_err(|e| anyhow::anyhow!("{e}"));
    match command {
        RulesCommand::List {
            kind,
            format,
            rules,
        } => {
            let catalogue = load(&rules)?;
            if let Some(kind) = &kind {
                if !catalogue.services.iter().any(|s| s.kind.as_str() == kind) {
                    anyhow::bail!("no service of kind `{kind}`");
                }
            }
            let services: Vec<_> = catalogue
                .services
                .iter()
                .filter(|s| kind.as_deref().is_none_or(|k| s.kind.as_str() == k))
                .collect();
            emit(None, |out| match format {
                ListFormat::Table => report::catalogue::write_table(&services, out),
                ListFormat::Json => report::catalogue::write_json(&services, out),
            })?;
        }
        RulesCommand::Check { dir } => {
            let summary = match &dir {
                Some(dir) => Catalogue::check_dir(dir),
                None => Catalogue::check_embedded(),
            }
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let what = dir
                .as_deref()
                .map_or("built-in rules".to_string(), |d| d.display().to_string());
            println!("{what}: ok: {summary}");
        }
        RulesCommand::Test { target, rules } => {
            let catalogue = load(&rules)?;
            // Both explanations escape control characters in what they print.
            match target.parse::<std::net::IpAddr>() {
                Ok(ip) => println!("{}", catalogue.explain_ip(ip)),
                Err(_) => println!("{}", catalogue.explain_host(&target)),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs every input through the pipeline; returns the per-input record, the warnings, and
/// whether any input could not be read at all.
fn read_inputs<S: SignalSink>(
    pipeline: &mut Pipeline<'_, S>,
    files: &[PathBuf],
    mut on_file: impl FnMut(&mut Pipeline<'_, S>, &str),
) -> (Vec<Input>, Vec<String>, bool) {
    let mut inputs = Vec::new();
    let mut warnings = Vec::new();
    let mut failed = false;
    for path in files {
        let display = path.display().to_string();
        let mut source = match FileSource::open(path) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("shadowai: error: {e}");
                failed = true;
                inputs.push(Input {
                    path: display,
                    format: None,
                    packets: 0,
                    complete: false,
                    error: Some(e.to_string()),
                });
                continue;
            }
        };
        on_file(pipeline, &display);
        let result = pipeline.run_file(&mut source);
        let error = result.err().map(|e| {
            let text = e.to_string();
            eprintln!("shadowai: warning: {text}; the report covers the packets before it");
            warnings.push(text.clone());
            text
        });
        inputs.push(Input {
            path: display,
            format: Some(source.format().to_string()),
            packets: source.packets_read(),
            complete: error.is_none(),
            error,
        });
    }
    (inputs, warnings, failed)
}

/// Reads the inputs with the rules and site policy; the report, and whether an input could
/// not be read at all.
fn build_report(input: &InputArgs) -> anyhow::Result<(Report, bool)> {
    let (catalogue, policy) = load_rules(&input.report)?;
    let options = Options {
        max_flows: input.report.max_flows,
        threads: input.threads,
        share_shards: None,
        stream_budget: 0,
    };
    let mut pipeline = Pipeline::with_policy(&catalogue, &policy, options, NoSignals);
    let (inputs, warnings, failed) = read_inputs(&mut pipeline, &input.files, |_, _| {});
    if inputs.iter().all(|i| i.format.is_none()) {
        anyhow::bail!("no input could be read");
    }
    let (outcome, _) = pipeline.finish();
    let mut report = Report::build(&outcome, &catalogue, &policy, inputs, warnings);
    if let Some(pseudonymizer) = load_pseudonymizer(input.report.pseudonymize.as_deref())? {
        pseudonymizer.apply(&mut report);
    }
    Ok((report, failed))
}

/// The catalogue (built-in plus `--rules`) and the site policy.
fn load_rules(args: &ReportArgs) -> anyhow::Result<(Catalogue, Policy)> {
    let catalogue = Catalogue::load(&args.rules).map_err(|e| anyhow::anyhow!("{e}"))?;
    let policy =
        Policy::discover(args.config.as_deref(), &catalogue).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((catalogue, policy))
}

/// The `--pseudonymize` key, created if missing.
fn load_pseudonymizer(keyfile: Option<&Path>) -> anyhow::Result<Option<Pseudonymizer>> {
    keyfile
        .map(|keyfile| {
            Pseudonymizer::load_or_create(keyfile)
                .with_context(|| format!("key file {}", keyfile.display()))
        })
        .transpose()
}

fn reveal_cmd(args: RevealArgs) -> anyhow::Result<ExitCode> {
    let key = Pseudonymizer::load(&args.keyfile)
        .with_context(|| format!("key file {}", args.keyfile.display()))?;
    let input = InputArgs {
        files: args.captures,
        threads: 0,
        report: ReportArgs {
            output: None,
            rules: Vec::new(),
            max_flows: crate::flow::DEFAULT_MAX_FLOWS,
            config: args.config,
            pseudonymize: None,
        },
    };
    let (report, failed) = build_report(&input)?;
    let map = key.reveal_map(&report);
    for token in &args.tokens {
        match map.get(token) {
            Some((_, value)) => println!("{token}\t{}", crate::report::escape::terminal(value)),
            None => println!("{token}\t(not seen in these captures with this key)"),
        }
    }
    Ok(exit_code(failed, false))
}

/// The exit code of a run that wrote its report: 2 when an input or output failed, 1 when
/// `--fail-on` matched, else 0.
fn exit_code(failed: bool, fail_on_matched: bool) -> ExitCode {
    if failed {
        ExitCode::from(2)
    } else if fail_on_matched {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn audit(args: AuditArgs) -> anyhow::Result<ExitCode> {
    let (report, failed) = build_report(&args.input)?;
    emit(args.input.report.output.as_deref(), |out| {
        report::render(&report, args.format, out)
    })?;
    let fail = args.fail_on.is_some_and(|what| what.matches(&report));
    Ok(exit_code(failed, fail))
}

fn diff_cmd(args: DiffArgs) -> anyhow::Result<ExitCode> {
    let load = |path: &Path| report::saved::load(path);
    let (old, new) = (load(&args.old)?, load(&args.new)?);
    let diff = report::diff::diff(&old, &new);
    emit(args.output.as_deref(), |out| match args.format {
        ListFormat::Table => report::diff::write_table(&diff, out),
        ListFormat::Json => report::diff::write_json(&diff, out),
    })?;
    let fail = args.fail_on.is_some_and(|what| match what {
        FailOn::Unapproved => diff.brings(Some(Status::Unapproved.as_str())),
        FailOn::Any => diff.brings(None),
    });
    Ok(exit_code(false, fail))
}

fn render_cmd(args: RenderArgs) -> anyhow::Result<ExitCode> {
    let report = report::saved::read_report(&args.report)?;
    emit(args.output.as_deref(), |out| {
        report::render(&report, args.format, out)
    })?;
    Ok(exit_code(false, false))
}

fn devices_cmd(args: DevicesArgs) -> anyhow::Result<ExitCode> {
    let (report, failed) = build_report(&args.input)?;
    emit(args.input.report.output.as_deref(), |out| {
        report::devices::render(&report, args.format, out)
    })?;
    Ok(exit_code(failed, false))
}

fn inspect_cmd(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let catalogue = Catalogue::from_sources(&[]).map_err(|e| anyhow::anyhow!("{e}"))?;
    let pseudonymizer = match &args.pseudonymize {
        Some(keyfile) => Some(
            Pseudonymizer::load_or_create(keyfile)
                .with_context(|| format!("key file {}", keyfile.display()))?,
        ),
        None => None,
    };
    let options = Options::default();
    let failed = match args.format {
        // Streamed, to standard output or into the temporary file `emit` renames: a month of
        // captures gives millions of lines, which are never all held.
        InspectFormat::Jsonl => {
            let mut failed = false;
            emit(args.output.as_deref(), |out| {
                // Its own buffer, so that serde's many small writes are not each a dynamic
                // call (a quarter of the run on the bench input).
                let mut sink = JsonLines::new(io::BufWriter::new(out));
                sink.pseudonymizer = pseudonymizer;
                let mut pipeline = Pipeline::new(&catalogue, options, sink);
                (_, _, failed) = read_inputs(&mut pipeline, &args.files, |p, name| {
                    p.sink_mut().file = name.to_string();
                });
                let (_, sink) = pipeline.finish();
                sink.finish()
            })?;
            failed
        }
        // A table's columns fit its widest cell, so its rows are all held first.
        InspectFormat::Table => {
            let sink = Collect {
                pseudonymizer,
                ..Collect::default()
            };
            let mut pipeline = Pipeline::new(&catalogue, options, sink);
            let (_, _, failed) = read_inputs(&mut pipeline, &args.files, |p, name| {
                p.sink_mut().file = name.to_string();
            });
            let (_, sink) = pipeline.finish();
            let rows = sink.rows;
            emit(args.output.as_deref(), |out| {
                inspect::write_table(&rows, out)
            })?;
            failed
        }
    };
    Ok(exit_code(failed, false))
}

/// Writes to `path` atomically, or to standard output; a closed pipe on stdout is not an error.
fn emit(
    path: Option<&Path>,
    fill: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    match path {
        Some(path) => report::write_atomically(path, fill)
            .with_context(|| format!("writing {}", path.display())),
        None => {
            let stdout = io::stdout().lock();
            let mut out = io::BufWriter::new(stdout);
            let result = fill(&mut out).and_then(|()| out.flush());
            match result {
                Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
                other => other.context("writing to standard output"),
            }
        }
    }
}
