//! `gkrnet prove` and `gkrnet verify` on files: a model (`.onnx` compiled on the fly, or `.gkrm`),
//! an input (`.npy` or ezkl JSON), a proof file (`.gkr`), the proven output as JSON.

use super::compile::hex;
use super::load::{load_model, read_input, spinner, write_output, CompileOptions, InputAccuracy};
use super::{ms, Global, Outcome};
use anyhow::{Context, Result};
use gkrnet::gkr::file::CommitmentFile;
use gkrnet::gkr::{self, AdviceMode, Policy, ProofFile, VerifierKey};
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
    /// How the prover's advice travels: "clear" (in the proof), or committed with Basefold and
    /// opened once, under "provable" (unique-decoding) or "conjectured" parameters.
    #[arg(long, default_value = "clear", value_parser = super::parse_advice)]
    advice: AdviceMode,
    /// A model commitment (.gkrc, from `gkrnet commit`) to open the weight claims against; it
    /// must hold --model's weights. The verifier then needs only the commitment.
    #[arg(long)]
    commitment: Option<PathBuf>,
    #[command(flatten)]
    compile: CompileOptions,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Reads a `.gkrc` model commitment.
pub fn read_commitment(path: &std::path::Path) -> Result<CommitmentFile> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    CommitmentFile::decode(&bytes)
        .with_context(|| format!("{} is not a valid model commitment", path.display()))
}

#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The model the proof is checked against: the prover's .gkrm, or an ONNX file compiled here
    /// (its digest must equal the prover's). Not needed with --commitment.
    #[arg(long, required_unless_present = "commitment", conflicts_with = "commitment")]
    model: Option<PathBuf>,
    /// A model commitment (.gkrc): the verifier's whole copy of the model, large weight
    /// matrices replaced by their Basefold root.
    #[arg(long)]
    commitment: Option<PathBuf>,
    /// Accept proofs whose commitments use conjectured (not provable) security parameters.
    #[arg(long)]
    allow_conjectured: bool,
    /// The digest the model (or the model commitment) must have, as its owner published it
    /// (64 hex digits): anything else is rejected (exit 1) before the proof is read.
    #[arg(long, value_parser = parse_digest)]
    expect_digest: Option<[u8; 32]>,
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

pub use gkrnet::error::parse_digest;

pub fn prove(args: ProveArgs, g: &Global) -> Result<Outcome> {
    let loaded = load_model(&args.model, &args.compile, Some(&args.input), g.quiet || args.json)?;
    let model = loaded.model();
    let input = read_input(&args.input, model)?;
    let mut commit_ms = None;
    let committed = match &args.commitment {
        None => None,
        Some(path) => {
            let c = read_commitment(path)?;
            let bar = spinner(g.quiet || args.json, "committing the weights");
            let start = Instant::now();
            let (prover_model, wp) = gkr::commit_model(model, c.commitment.params)?;
            commit_ms = Some(ms(start));
            bar.finish_and_clear();
            if wp.commitment() != c.commitment || prover_model.digest() != c.model.digest() {
                anyhow::bail!(
                    "{} is the commitment of another model (digest {}, root {}); {} has digest \
                     {} and its weights root {}",
                    path.display(),
                    hex(&c.model.digest()),
                    hex(&c.commitment.root),
                    args.model.display(),
                    hex(&model.digest()),
                    hex(&wp.commitment().root)
                );
            }
            Some((prover_model, wp))
        }
    };
    let bar = spinner(g.quiet || args.json, "proving");
    let start = Instant::now();
    let log = gkr::PhaseLog::default();
    let hook = |name: &str, d| log.record(name, d);
    let opts = gkr::ProveOptions::advice(args.advice).with_phase_hook(&hook);
    let proof = match &committed {
        None => gkr::prove_bytes(model, &input, &opts)?,
        Some((m, wp)) => gkr::prove_bytes(m, &input, &opts.with_weights(wp))?,
    };
    let prove_ms = ms(start);
    bar.finish_and_clear();
    for (phase, t) in log.take() {
        tracing::info!(phase = %phase, ms = t.as_secs_f64() * 1e3, "prove phase");
    }
    // the digest a verifier compares: the model's, or the commitment's
    let digest = match &committed {
        None => model.digest(),
        Some((m, wp)) => gkr::committed_digest(&m.digest(), &wp.commitment()),
    };
    let file = ProofFile {
        advice: args.advice,
        weights_root: committed.as_ref().map(|(_, wp)| wp.commitment().root),
        ..ProofFile::new(digest, &proof.output, proof.proof)
    };
    let bytes = file.encode();
    std::fs::write(&args.proof, &bytes)
        .with_context(|| format!("cannot write {}", args.proof.display()))?;
    if let Some(out) = &args.output {
        write_output(out, model, &proof.output)?;
    }
    let out = super::load::output_json(model, &proof.output);
    // the report is the prover's own comparison: its failure never fails the proof
    let accuracy = InputAccuracy::of(&loaded, &args.input, &proof.output).unwrap_or_else(|e| {
        eprintln!("warning: no accuracy report for this input: {e:#}");
        None
    });
    if args.json {
        let mut obj = serde_json::json!({
            "model": model.name,
            "digest": hex(&digest),
            "prove_ms": prove_ms,
            "proof_bytes": bytes.len(),
            "advice": args.advice.name(),
            "commit_weights_ms": commit_ms,
            "output": out["output"],
            "output_int": out["output_int"],
            "predicted": out["predicted"],
            "accuracy": accuracy.as_ref().map(InputAccuracy::json),
        });
        super::load::add_outputs(&mut obj, &out);
        println!("{obj}");
    } else if !g.quiet {
        println!("model   {} (digest {})", model.name, hex(&digest));
        if let Some(c) = commit_ms {
            println!("commit  {c:.2} ms (the weights, once per model)");
        }
        println!("prove   {prove_ms:.2} ms (advice: {})", args.advice.name());
        println!("proof   {} bytes → {}", bytes.len(), args.proof.display());
        for line in super::load::output_text("output ", &out) {
            println!("{line}");
        }
        if let Some(a) = &accuracy {
            println!(
                "accuracy (not proven: the prover's comparison with {}): max |Δ| {:.4}, {:.2} % of the output's range, argmax {}",
                a.reference,
                a.max_abs_error,
                a.relative_error * 100.0,
                if a.argmax_agrees { "agrees" } else { "DIFFERS" }
            );
            let total: usize = a.saturated.iter().map(|s| s.1).sum();
            if total > 0 {
                let worst: Vec<String> = {
                    let mut v = a.saturated.clone();
                    v.sort_by_key(|x| std::cmp::Reverse(x.1));
                    v.iter().take(5).map(|(l, c, n)| format!("layer {l}: {c} of {n}")).collect()
                };
                println!(
                    "clamped (not proven): {total} values at the int8 limits (clamped, or at the end of the calibrated range) in {} requantization layers ({}{})",
                    a.saturated.len(),
                    worst.join(", "),
                    if a.saturated.len() > 5 { ", …" } else { "" }
                );
            }
        }
    }
    if let Some(a) = accuracy.as_ref().filter(|a| a.alarming()) {
        eprintln!(
            "warning: the proven output is far from the float model on this input (max |Δ| {:.4}, {:.1} % of its range, argmax {}); calibrate on inputs like it (--calibration)",
            a.max_abs_error,
            a.relative_error * 100.0,
            if a.argmax_agrees { "agrees" } else { "differs" }
        );
    }
    Ok(Outcome::Accepted)
}

pub fn verify(args: VerifyArgs, g: &Global) -> Result<Outcome> {
    let (key, model_path) = match (&args.commitment, &args.model) {
        (Some(path), _) => (read_commitment(path)?.into_key(), path.clone()),
        (None, Some(path)) => {
            let quiet = g.quiet || args.json;
            let loaded = load_model(path, &args.compile, Some(&args.input), quiet)?;
            (VerifierKey::Model(loaded.into_model()), path.clone())
        }
        (None, None) => anyhow::bail!("give --model or --commitment"),
    };
    let model = key.model();
    let input = read_input(&args.input, model)?;
    let bytes = std::fs::read(&args.proof)
        .with_context(|| format!("cannot read {}", args.proof.display()))?;
    let file = match ProofFile::decode(&bytes) {
        Ok(f) => f,
        Err(e) => return Ok(Outcome::Rejected(format!("{}: {e}", args.proof.display()))),
    };
    let policy =
        Policy { allow_conjectured: args.allow_conjectured, expect_digest: args.expect_digest };
    let bar = spinner(g.quiet || args.json, "verifying");
    let start = Instant::now();
    let verdict = gkr::verify_file(&file, &key, &input, &policy);
    let verify_ms = ms(start);
    bar.finish_and_clear();
    tracing::info!(ms = verify_ms, accepted = verdict.is_ok(), "verify");
    let verified = match verdict {
        Ok(v) => v,
        Err(
            e @ gkrnet::VerifyError::ModelDigestMismatch { what: "the proof file's model", .. },
        ) if !model_path.extension().is_some_and(|e| e == "gkrm" || e == "gkrc") => {
            return Ok(Outcome::Rejected(format!(
                "{e} ({} was compiled here: an ONNX model compiled on another machine or with \
                 other calibration can differ, verify against the prover's .gkrm)",
                model_path.display()
            )))
        }
        Err(e @ gkrnet::VerifyError::CommitmentMismatch { expected, got }) => {
            let hint = match (expected, got) {
                (None, Some(_)) => " (verify with --commitment)",
                (Some(_), None) => " (verify with --model)",
                _ => "",
            };
            return Ok(Outcome::Rejected(format!("{e}{hint}")));
        }
        Err(e) => return Ok(Outcome::Rejected(e.to_string())),
    };
    let out = &verified.output;
    if let Some(path) = &args.output {
        write_output(path, model, out)?;
    }
    let o = super::load::output_json(model, out);
    let digest = hex(&verified.digest);
    if args.json {
        let mut obj = serde_json::json!({
            "model": model.name,
            "digest": digest,
            "root": verified.root.map(|r| hex(&r)),
            "input_digest": hex(&verified.input_digest),
            "verified": true,
            "verify_ms": verify_ms,
            "proof_bytes": bytes.len(),
            "advice": file.advice.name(),
            "weights_committed": verified.root.is_some(),
            "output": o["output"],
            "output_int": o["output_int"],
            "predicted": o["predicted"],
        });
        super::load::add_outputs(&mut obj, &o);
        println!("{obj}");
    } else if !g.quiet {
        println!(
            "verified {} (digest {digest}) in {verify_ms:.2} ms (advice: {})",
            model.name,
            file.advice.name(),
        );
        if let Some(root) = verified.root {
            println!("weights  from the model commitment with root {}", hex(&root));
        }
        for line in super::load::output_text("output  ", &o) {
            println!("{line}");
        }
    }
    Ok(Outcome::Accepted)
}
