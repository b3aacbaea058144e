//! `gkrnet demo`: the main job on the bundled default model — the digits CNN (onnxruntime's int8
//! QOperator export, `models/digits_cnn_qop.onnx`) on a bundled test digit: import, prove,
//! verify, and the figures.

use super::compile::{hex, read_inputs};
use super::load::{peak_rss_bytes, spinner};
use super::{ms, Global, Outcome};
use anyhow::{bail, Context, Result};
use gkrnet::gkr;
use gkrnet::onnx::{self, ImportOptions};
use std::path::PathBuf;
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Directory of the bundled models.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/models"))]
    models: PathBuf,
    /// The model file in that directory.
    #[arg(long, default_value = "digits_cnn_qop.onnx")]
    model: String,
    /// Which of the 16 bundled test digits to prove.
    #[arg(long, default_value_t = 0)]
    index: usize,
    /// How the advice travels: clear (in the proof), provable or conjectured (committed with
    /// Basefold, one opening).
    #[arg(long, default_value = "clear", value_parser = super::parse_advice)]
    advice: gkrnet::gkr::AdviceMode,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: Args, g: &Global) -> Result<Outcome> {
    let dir = &args.models;
    let path = dir.join(&args.model);
    let quiet = g.quiet || args.json;
    let inputs = read_inputs(&dir.join("digits_test_inputs.npy"), 64)
        .context("the bundled test digits (run from the repository, or pass --models)")?;
    let labels: Vec<i64> =
        onnx::read_npy(&dir.join("digits_test_labels.npy"))?.1.iter().map(|&v| v as i64).collect();
    let calibration = read_inputs(&dir.join("digits_calibration.npy"), 64)?;
    let (Some(x), Some(&label)) = (inputs.get(args.index), labels.get(args.index)) else {
        bail!("--index {} is beyond the {} bundled test digits", args.index, inputs.len());
    };
    let bar = spinner(quiet, &format!("compiling {}", path.display()));
    let start = Instant::now();
    let options = ImportOptions { calibration: Some(calibration), ..Default::default() };
    let imported =
        onnx::import(&path, &options).with_context(|| format!("importing {}", path.display()))?;
    let import_ms = ms(start);
    let accuracy = onnx::accuracy(&imported, &inputs, Some(&labels))?;
    bar.finish_and_clear();
    let model = &imported.model;
    let input = imported.quantize_input(x)?;
    let bar = spinner(quiet, "proving");
    let start = Instant::now();
    let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::advice(args.advice))?;
    let prove_ms = ms(start);
    bar.set_message("verifying");
    let start = Instant::now();
    let verdict =
        gkr::verify_bytes(model, &input, &gkr::VerifyOptions::advice(args.advice), &proof.proof);
    let verify_ms = ms(start);
    bar.finish_and_clear();
    let peak = peak_rss_bytes().unwrap_or(0);
    let verified = matches!(&verdict, Ok(out) if *out == proof.output);
    let real = onnx::dequantize_output(model, &proof.output);
    let predicted = (0..real.len()).fold(0, |b, i| if real[i] > real[b] { i } else { b });
    if args.json {
        let obj = serde_json::json!({
            "model": model.name,
            "digest": hex(&model.digest()),
            "parameters": imported.parameters,
            "predicted": predicted,
            "label": label,
            "verified": verified,
            "import_ms": import_ms,
            "prove_ms": prove_ms,
            "verify_ms": verify_ms,
            "proof_bytes": proof.proof.len(),
            "advice": args.advice.name(),
            "peak_rss_bytes": peak,
            "accuracy": super::compile::report_json(&accuracy),
        });
        println!("{obj}");
    } else {
        println!(
            "model      {} ({} parameters, {} layers)",
            model.name,
            imported.parameters,
            model.layers.len()
        );
        println!("digest     {}", hex(&model.digest()));
        println!("input      bundled test digit #{} (label {label})", args.index);
        println!(
            "predicted  {predicted} ({})",
            if predicted as i64 == label { "correct" } else { "wrong" }
        );
        println!("prove      {prove_ms:.2} ms");
        println!(
            "verify     {verify_ms:.2} ms ({})",
            if verified { "accepted" } else { "REJECTED" }
        );
        println!("proof      {} bytes (advice: {})", proof.proof.len(), args.advice.name());
        println!("peak RSS   {:.1} MiB", peak as f64 / (1 << 20) as f64);
        print!("accuracy   ");
        super::compile::print_accuracy(&accuracy);
        println!("threads    {}", rayon::current_num_threads());
    }
    Ok(match verdict {
        Ok(_) if verified => Outcome::Accepted,
        Ok(_) => Outcome::Rejected("the verified output differs from the prover's".into()),
        Err(e) => Outcome::Rejected(e.to_string()),
    })
}
