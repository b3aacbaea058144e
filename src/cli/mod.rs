//! The command line: argument parsing, files, timing and exit codes. Library errors are typed;
//! here they become messages with context (anyhow).

#[cfg(feature = "onnx")]
mod compile;
mod matmul;
mod model;
mod npy;
mod sumcheck;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "gkrnet",
    version,
    about = "Sumcheck/GKR proofs for int8 neural networks and matrix products (sound, not zero-knowledge)"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Proves and verifies Σ_x f₁(x)···f_k(x) over random seeded tables (the protocol every later
    /// proof is built from) and prints the timings.
    /// Prove and verify a built-in quantized model on a seeded input.
    Model(model::Args),
    Sumcheck(sumcheck::Args),
    /// Import an ONNX model (quantizing a float one) into a canonical integer model (.gkrm);
    /// prints its digest and the int8-vs-float accuracy.
    #[cfg(feature = "onnx")]
    Compile(compile::Args),
    /// Outsourced int8 matrix products C = A·B with a proof.
    #[command(subcommand)]
    Matmul(matmul::Command),
}

/// How a command ended, for the exit code.
pub enum Outcome {
    /// Exit 0.
    Accepted,
    /// Exit 1, with the verifier's reason.
    Rejected(String),
}

/// Runs the parsed command. `Err` means bad usage or input (exit 2).
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Model(args) => model::run(args),
        Command::Sumcheck(args) => sumcheck::run(args),
        #[cfg(feature = "onnx")]
        Command::Compile(args) => compile::run(args),
        Command::Matmul(cmd) => matmul::run(cmd),
    }
}

/// Milliseconds since `start`.
pub(crate) fn ms(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}
