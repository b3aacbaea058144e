//! `gkrnet prove` and `gkrnet verify` on files: a model (`.onnx` compiled on the fly, or `.gkrm`),
//! an input (`.npy` or ezkl JSON), a proof file (`.gkr`), the proven output as JSON.

use super::compile::hex;
use super::load::{load_model, read_input, spinner, write_output, CompileOptions};
use super::{ms, Global, Outcome};
use anyhow::{Context, Result};
use gkrnet::gkr::{self, ProofFile};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct ProveArgs {
    /// The model: an ONNX file (compiled on the fly, digest printed) or a compiled .gkrm.
    #[arg(long)]
    model: PathBuf,
    /// The input: .npy (float: quantized with the model's input parameters; integer: int8 as
    /// is) or ezkl's JSON {"input_data": [[…]]}.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the proven output (JSON: integers and dequantized values).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Where to write the proof.
    #[arg(long)]
    proof: PathBuf,
    #[command(flatten)]
    compile: CompileOptions,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The model the proof is checked against: the prover's .gkrm, or an ONNX file compiled here
    /// (its digest must equal the prover's).
    #[arg(long)]
    model: PathBuf,
    /// The input, as given to the prover.
    #[arg(long)]
    input: PathBuf,
    /// The proof file.
    #[arg(long)]
    proof: PathBuf,
    /// Where to write the verified output (JSON).
    #[arg(long)]
    output: Option<PathBuf>,
    #[command(flatten)]
    compile: CompileOptions,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn prove(args: ProveArgs, g: &Global) -> Result<Outcome> {
    let loaded = load_model(&args.model, &args.compile, Some(&args.input), g.quiet || args.json)?;
    let model = loaded.model();
    let input = read_input(&args.input, model)?;
    let bar = spinner(g.quiet || args.json, "proving");
    let start = Instant::now();
    let proof = gkr::prove(model, &input)?;
    let prove_ms = ms(start);
    bar.finish_and_clear();
    for (phase, t) in &proof.timings {
        tracing::info!(phase = %phase, ms = t.as_secs_f64() * 1e3, "prove phase");
    }
    let file = ProofFile::new(model.digest(), &proof.output, proof.proof);
    let bytes = file.encode();
    std::fs::write(&args.proof, &bytes)
        .with_context(|| format!("cannot write {}", args.proof.display()))?;
    if let Some(out) = &args.output {
        write_output(out, model, &proof.output)?;
    }
    let out = super::load::output_json(model, &proof.output);
    if args.json {
        let obj = serde_json::json!({
            "model": model.name,
            "digest": hex(&model.digest()),
            "prove_ms": prove_ms,
            "proof_bytes": bytes.len(),
            "output": out["output"],
            "output_int": out["output_int"],
            "predicted": out["predicted"],
        });
        println!("{obj}");
    } else if !g.quiet {
        println!("model   {} (digest {})", model.name, hex(&model.digest()));
        println!("prove   {prove_ms:.2} ms");
        println!("proof   {} bytes → {}", bytes.len(), args.proof.display());
        println!("output  {} (class {})", out["output"], out["predicted"]);
    }
    Ok(Outcome::Accepted)
}

pub fn verify(args: VerifyArgs, g: &Global) -> Result<Outcome> {
    let loaded = load_model(&args.model, &args.compile, Some(&args.input), g.quiet || args.json)?;
    let model = loaded.model();
    let input = read_input(&args.input, model)?;
    let bytes = std::fs::read(&args.proof)
        .with_context(|| format!("cannot read {}", args.proof.display()))?;
    let file = match ProofFile::decode(&bytes) {
        Ok(f) => f,
        Err(e) => return Ok(Outcome::Rejected(format!("{}: {e}", args.proof.display()))),
    };
    if file.digest != model.digest() {
        return Ok(Outcome::Rejected(format!(
            "the proof was made for the model with digest {}, but {} has digest {}{}",
            hex(&file.digest),
            args.model.display(),
            hex(&model.digest()),
            if args.model.extension().is_some_and(|e| e == "gkrm") {
                ""
            } else {
                " (an ONNX model compiled on another machine or with other calibration can \
                 differ: verify against the prover's .gkrm)"
            }
        )));
    }
    let bar = spinner(g.quiet || args.json, "verifying");
    let start = Instant::now();
    let verdict = gkr::verify(model, &input, &file.proof);
    let verify_ms = ms(start);
    bar.finish_and_clear();
    tracing::info!(ms = verify_ms, accepted = verdict.is_ok(), "verify");
    let out = match verdict {
        Ok(out) if out.dims == file.output_dims => out,
        Ok(out) => {
            return Ok(Outcome::Rejected(format!(
                "the proof file claims an output of shape {:?}, the proof {:?}",
                file.output_dims, out.dims
            )))
        }
        Err(e) => return Ok(Outcome::Rejected(e.to_string())),
    };
    if let Some(path) = &args.output {
        write_output(path, model, &out)?;
    }
    let o = super::load::output_json(model, &out);
    if args.json {
        let obj = serde_json::json!({
            "model": model.name,
            "digest": hex(&model.digest()),
            "verified": true,
            "verify_ms": verify_ms,
            "proof_bytes": bytes.len(),
            "output": o["output"],
            "output_int": o["output_int"],
            "predicted": o["predicted"],
        });
        println!("{obj}");
    } else if !g.quiet {
        println!("verified {} (digest {}) in {verify_ms:.2} ms", model.name, hex(&model.digest()));
        println!("output   {} (class {})", o["output"], o["predicted"]);
    }
    Ok(Outcome::Accepted)
}
