//! The command line: argument parsing, files, timing and exit codes. Library errors are typed;
//! here they become messages with context (anyhow).
#![allow(
    clippy::indexing_slicing,
    reason = "the command line: serde_json values index to Null (never a panic); other indices are into tables the command built itself; every file it reads goes through the library's checked decoders"
)]

#[cfg(feature = "onnx")]
mod bench;
#[cfg(feature = "onnx")]
mod commit;
#[cfg(feature = "onnx")]
mod compile;
#[cfg(feature = "onnx")]
mod demo;
#[cfg(feature = "onnx")]
mod inspect;
#[cfg(feature = "onnx")]
mod load;
mod matmul;
mod model;
mod net;
mod npy;
#[cfg(feature = "onnx")]
mod prove;
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
    #[command(flatten)]
    global: Global,
}

/// Options every command takes.
#[derive(clap::Args, Debug, Clone)]
pub struct Global {
    /// Nothing but the result: no progress, no notes.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Tracing logs on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Worker threads (rayon); default: one per core.
    #[arg(long, global = true)]
    pub threads: Option<usize>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Prove and verify the bundled default model (the digits CNN) on a bundled test digit.
    #[cfg(feature = "onnx")]
    Demo(demo::Args),
    /// Prove a model's output on an input: writes the proof (and the output with --output).
    #[cfg(feature = "onnx")]
    Prove(prove::ProveArgs),
    /// Verify a proof file against a model and an input (exit 1 if rejected).
    #[cfg(feature = "onnx")]
    Verify(prove::VerifyArgs),
    /// Import an ONNX model (quantizing a float one) into a canonical integer model (.gkrm);
    /// prints its digest and the int8-vs-float accuracy.
    #[cfg(feature = "onnx")]
    Compile(compile::Args),
    /// Commit a model's large dense weight matrices (Basefold): writes a model commitment
    /// (.gkrc) that `verify --commitment` checks proofs against without the weights.
    #[cfg(feature = "onnx")]
    Commit(commit::Args),
    /// Show a model's layers and quantization, or a proof file's version, digest and sizes.
    #[cfg(feature = "onnx")]
    Inspect(inspect::Args),
    /// Benchmark every ONNX model of a directory: a markdown table (or JSON) with the machine.
    #[cfg(feature = "onnx")]
    Bench(bench::Args),
    /// Serve interactive proofs of a model over TCP (the client's own challenges, no Fiat–Shamir).
    #[cfg(feature = "onnx")]
    Serve(net::ServeArgs),
    /// Verify a model's output interactively against a `gkrnet serve` server.
    #[cfg(feature = "onnx")]
    Connect(net::ConnectArgs),
    /// Prove and verify a built-in seeded model (mlp4m, mlp-act, lenet5, cnn-cifar).
    Model(model::Args),
    /// Proves and verifies Σ_x f₁(x)···f_k(x) over random seeded tables (the protocol every later
    /// proof is built from) and prints the timings.
    Sumcheck(sumcheck::Args),
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
    let g = cli.global;
    if let Some(n) = g.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .map_err(|e| anyhow::anyhow!("--threads {n}: {e}"))?;
    }
    if g.verbose > 0 && !g.quiet {
        let level = if g.verbose > 1 { tracing::Level::DEBUG } else { tracing::Level::INFO };
        let _ =
            tracing_subscriber::fmt().with_max_level(level).with_writer(std::io::stderr).try_init();
    }
    tracing::info!(threads = rayon::current_num_threads(), "gkrnet {}", env!("CARGO_PKG_VERSION"));
    match cli.command {
        #[cfg(feature = "onnx")]
        Command::Demo(args) => demo::run(args, &g),
        #[cfg(feature = "onnx")]
        Command::Prove(args) => prove::prove(args, &g),
        #[cfg(feature = "onnx")]
        Command::Verify(args) => prove::verify(args, &g),
        #[cfg(feature = "onnx")]
        Command::Compile(args) => compile::run(args),
        #[cfg(feature = "onnx")]
        Command::Commit(args) => commit::run(args, &g),
        #[cfg(feature = "onnx")]
        Command::Inspect(args) => inspect::run(args, &g),
        #[cfg(feature = "onnx")]
        Command::Bench(args) => bench::run(args, &g),
        #[cfg(feature = "onnx")]
        Command::Serve(args) => net::serve(args, &g),
        #[cfg(feature = "onnx")]
        Command::Connect(args) => net::connect(args, &g),
        Command::Model(args) => model::run(args),
        Command::Sumcheck(args) => sumcheck::run(args),
        Command::Matmul(cmd) => matmul::run(cmd, &g),
    }
}

/// Milliseconds since `start`.
pub(crate) fn ms(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// Parses an advice mode name (clear, provable, conjectured).
pub(crate) fn parse_advice(s: &str) -> Result<gkrnet::gkr::AdviceMode, String> {
    gkrnet::gkr::AdviceMode::from_name(s)
        .ok_or_else(|| format!("unknown advice mode {s:?}: clear, provable or conjectured"))
}
