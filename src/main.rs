//! The `gkrnet` binary. Exit codes: 0 accepted, 1 proof rejected, 2 bad usage or input.

mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    // stdout closed early (`gkrnet inspect M | head`): print! panics on the broken pipe; end
    // quietly as a C tool killed by SIGPIPE would (exit 141), not with a panic message
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let msg = (payload.downcast_ref::<String>().map(String::as_str))
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
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
