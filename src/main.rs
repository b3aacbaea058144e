//! The `gkrnet` binary. Exit codes: 0 accepted, 1 proof rejected, 2 bad usage or input.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(cli::Outcome::Accepted) => ExitCode::SUCCESS,
        Ok(cli::Outcome::Rejected(reason)) => {
            eprintln!("proof rejected: {reason}");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
