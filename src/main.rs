//! The `shadowai` binary: parse the command line, run, map errors to exit code 2.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = shadowai::cli::Cli::parse();
    match shadowai::cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("shadowai: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
