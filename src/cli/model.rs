//! `gkrnet model`: prove and verify a built-in model on a seeded input, printing the figures.

use super::{ms, Outcome};
use anyhow::{bail, Result};
use gkrnet::circuit::{zoo, Model};
use gkrnet::gkr::{self, AdviceMode, ModelCommitment};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Built-in model: mlp4m (1024→2048→1024→10, ~4.2M parameters), mlp-act, lenet5 or
    /// cnn-cifar.
    #[arg(long, default_value = "mlp4m")]
    name: String,
    /// Seed of the random int8 input.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How the advice travels: clear, provable or conjectured (committed, one opening).
    #[arg(long, default_value = "clear", value_parser = super::parse_advice)]
    advice: AdviceMode,
    /// Commit the large dense weight matrices first (provable or conjectured parameters) and
    /// verify from the commitment alone (a verifier's copy without those weights).
    #[arg(long, value_parser = super::parse_advice)]
    commit_weights: Option<AdviceMode>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

fn builtin(name: &str) -> Result<Model> {
    Ok(match name {
        "mlp4m" => zoo::mlp4m(),
        "mlp-act" => zoo::mlp_act(),
        "lenet5" => zoo::lenet5(),
        "cnn-cifar" => zoo::cnn_cifar(),
        other => bail!("unknown model `{other}` (built-in: mlp4m, mlp-act, lenet5, cnn-cifar)"),
    })
}

/// Peak resident memory of this process in MiB (Linux), if known.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

pub fn run(args: Args) -> Result<Outcome> {
    let model = builtin(&args.name)?;
    let input = zoo::random_input(&model, args.seed);
    let log = gkr::PhaseLog::default();
    let hook = |name: &str, d| log.record(name, d);
    let opts = gkr::ProveOptions::advice(args.advice).with_phase_hook(&hook);
    let verify_opts = gkr::VerifyOptions::advice(args.advice);
    let (proof, prove_ms, verdict, verify_ms, commit_ms) = match args.commit_weights {
        None | Some(AdviceMode::Clear) => {
            let start = Instant::now();
            let proof = gkr::prove_bytes(&model, &input, &opts)?;
            let prove_ms = ms(start);
            let start = Instant::now();
            let verdict = gkr::verify_bytes(&model, &input, &verify_opts, &proof.proof);
            (proof, prove_ms, verdict, ms(start), None)
        }
        Some(AdviceMode::Committed(params)) => {
            let start = Instant::now();
            let (prover_model, wp) = gkr::commit_model(&model, params)?;
            let commit_ms = ms(start);
            let stripped = ModelCommitment::stripped(&model)?;
            let start = Instant::now();
            let proof = gkr::prove_bytes(&prover_model, &input, &opts.with_weights(&wp))?;
            let prove_ms = ms(start);
            let c = wp.commitment();
            let key = gkr::KeyRef { model: &stripped, commitment: Some(&c) };
            let start = Instant::now();
            let verdict = gkr::verify_bytes(key, &input, &verify_opts, &proof.proof);
            (proof, prove_ms, verdict, ms(start), Some(commit_ms))
        }
    };
    let timings = log.take();
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    if args.json {
        let phases: serde_json::Map<String, serde_json::Value> = timings
            .iter()
            .map(|(p, t)| (p.clone(), serde_json::json!(t.as_secs_f64() * 1e3)))
            .collect();
        let obj = serde_json::json!({
            "model": model.name,
            "prove_ms": prove_ms,
            "verify_ms": verify_ms,
            "proof_bytes": proof.proof.len(),
            "advice": args.advice.name(),
            "commit_weights_ms": commit_ms,
            "peak_rss_mib": peak,
            "accepted": verdict.is_ok(),
            "output": proof.output.data,
            "phases_ms": phases,
        });
        println!("{obj}");
    } else {
        println!("model {} (input seed {}), 2 rayon threads by default", model.name, args.seed);
        println!("advice  {}", args.advice.name());
        if let Some(c) = commit_ms {
            println!("commit  {c:>9.2} ms (the weights, once per model; verified without them)");
        }
        for (phase, t) in &timings {
            println!("  prove {phase:<22} {:>9.3} ms", t.as_secs_f64() * 1e3);
        }
        println!("prove   {prove_ms:>9.2} ms");
        println!("verify  {verify_ms:>9.2} ms");
        println!("proof   {} bytes", proof.proof.len());
        println!("peak    {peak:.1} MiB resident");
        println!("output  {:?}", proof.output.data);
    }
    Ok(match verdict {
        Ok(out) if out == proof.output => Outcome::Accepted,
        Ok(_) => Outcome::Rejected("the verified output differs from the prover's".into()),
        Err(e) => Outcome::Rejected(e.to_string()),
    })
}
