//! `gkrnet compile M.onnx -o M.gkrm`: import (and quantize) an ONNX model, write the canonical
//! integer model, print its digest and the accuracy of the integer model against tract's float
//! inference.

use super::Outcome;
use anyhow::{bail, Context, Result};
use gkrnet::onnx::{self, ImportOptions, Imported};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The ONNX model (float, QOperator or QDQ).
    model: PathBuf,
    /// Where to write the compiled integer model.
    #[arg(short, long)]
    output: PathBuf,
    /// Calibration inputs: a float .npy whose first axis enumerates inputs (each of the
    /// model's input size; with several model inputs, their concatenation in graph order).
    /// Default: seeded uniform inputs in --input-range.
    #[arg(long)]
    calibration: Option<PathBuf>,
    /// Input shape (comma-separated) fixing symbolic dimensions; default: batch 1.
    #[arg(long, value_delimiter = ',')]
    input_shape: Option<Vec<usize>>,
    /// Range of the seeded calibration inputs.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,1",
        num_args = 2,
        allow_negative_numbers = true
    )]
    input_range: Vec<f32>,
    /// Number of seeded calibration inputs.
    #[arg(long, default_value_t = 16)]
    samples: usize,
    /// Inputs (float .npy, first axis enumerates them) for the accuracy report; default: the
    /// calibration inputs.
    #[arg(long)]
    inputs: Option<PathBuf>,
    /// Labels (integer .npy) of --inputs: adds float and int8 accuracy.
    #[arg(long)]
    labels: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

/// Reads a float .npy of inputs of `len` values each (first axis enumerates them).
pub fn read_inputs(path: &Path, len: usize) -> Result<Vec<Vec<f32>>> {
    let (shape, data) = onnx::read_npy(path)?;
    if len == 0 || data.len() % len != 0 || data.is_empty() {
        bail!(
            "{} has shape {shape:?}: {} values are not a whole number of inputs of {len}",
            path.display(),
            data.len()
        );
    }
    Ok(data.chunks(len).map(|c| c.iter().map(|&v| v as f32).collect()).collect())
}

/// Imports `model` with the options of the command line.
pub fn import(
    model: &Path,
    input_shape: Option<Vec<usize>>,
    calibration: Option<&Path>,
    input_range: (f32, f32),
    samples: usize,
) -> Result<Imported> {
    import_with(model, input_shape, calibration, input_range, samples, None)
}

pub use onnx::default_calibration;

/// [`import`], calibrated by default ([`default_calibration`]) around the input to be proven.
pub fn import_with(
    model: &Path,
    input_shape: Option<Vec<usize>>,
    calibration: Option<&Path>,
    input_range: (f32, f32),
    samples: usize,
    proven: Option<&[f32]>,
) -> Result<Imported> {
    let mut options =
        ImportOptions { input_dims: input_shape, input_range, samples, ..Default::default() };
    if calibration.is_some() || proven.is_some() {
        // calibration inputs have the model's input size: read the graph first
        let proto = onnx::read_proto(model)?;
        let graph = onnx::Graph::from_proto(&proto)?;
        let dims = match &options.input_dims {
            Some(d) => graph.resolve_input(d)?,
            None => graph.default_input(),
        };
        let len: usize = dims.iter().product();
        options.calibration = match (calibration, proven) {
            (Some(c), _) => Some(read_inputs(c, len)?),
            (None, Some(x)) if x.len() == len => {
                Some(default_calibration(samples, input_range, Some(x), len))
            }
            _ => None,
        };
    }
    onnx::import(model, &options).with_context(|| format!("importing {}", model.display()))
}

pub use gkrnet::error::hex;

pub fn run(args: Args) -> Result<Outcome> {
    let &[lo, hi] = args.input_range.as_slice() else { bail!("--input-range takes lo,hi") };
    let start = Instant::now();
    let imported = import(
        &args.model,
        args.input_shape.clone(),
        args.calibration.as_deref(),
        (lo, hi),
        args.samples,
    )?;
    let import_ms = super::ms(start);
    let bytes = imported.model.encode();
    std::fs::write(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    let len = onnx::source_input_len(&imported.model);
    let inputs = match (&args.inputs, &args.calibration) {
        (Some(p), _) | (None, Some(p)) => read_inputs(p, len)?,
        (None, None) => onnx::sample_inputs(&imported.model, args.samples.max(1), (lo, hi), 0),
    };
    let labels = match &args.labels {
        Some(p) => Some(onnx::read_npy(p)?.1.iter().map(|&v| v as i64).collect::<Vec<_>>()),
        None => None,
    };
    let acc = onnx::accuracy(&imported, &inputs, labels.as_deref())?;
    let digest = hex(&imported.model.digest());
    if args.json {
        let obj = serde_json::json!({
            "model": imported.model.name,
            "digest": digest,
            "kind": format!("{:?}", imported.kind),
            "parameters": imported.parameters,
            "layers": imported.model.layers.len(),
            "gkrm_bytes": bytes.len(),
            "import_ms": import_ms,
            "accuracy": report_json(&acc),
            "notes": imported.notes,
        });
        println!("{obj}");
    } else {
        println!(
            "compiled {} ({:?}) → {}",
            args.model.display(),
            imported.kind,
            args.output.display()
        );
        println!("digest  {digest}");
        println!(
            "model   {} layers, {} parameters, {} bytes, imported in {import_ms:.1} ms",
            imported.model.layers.len(),
            imported.parameters,
            bytes.len()
        );
        print_accuracy(&acc);
        for note in &imported.notes {
            println!("note    {note}");
        }
    }
    Ok(Outcome::Accepted)
}

pub fn report_json(acc: &onnx::Accuracy) -> serde_json::Value {
    serde_json::json!({
        "samples": acc.samples,
        "max_abs_error": acc.max_abs_error,
        "mean_abs_error": acc.mean_abs_error,
        "argmax_agreement": acc.argmax_agreement,
        "float_accuracy": acc.accuracy.map(|a| a.0),
        "int8_accuracy": acc.accuracy.map(|a| a.1),
    })
}

pub fn print_accuracy(acc: &onnx::Accuracy) {
    println!(
        "int8 vs float on {} inputs: max |Δ| {:.4}, mean |Δ| {:.4}, argmax agreement {:.2} %",
        acc.samples,
        acc.max_abs_error,
        acc.mean_abs_error,
        acc.argmax_agreement * 100.0
    );
    if let Some((f, q)) = acc.accuracy {
        println!("accuracy: float {:.2} %, int8 {:.2} %", f * 100.0, q * 100.0);
    }
}
