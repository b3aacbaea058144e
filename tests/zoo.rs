//! The committed third-party zoo (`models/zoo/`, made by `models/make_zoo.py`, see
//! `models/README.md`): torchvision networks exported by PyTorch and quantized by onnxruntime
//! (QOperator with com.microsoft ops, and QDQ), PyTorch's current exporter with external data,
//! LSTM and GRU, and scikit-learn models through skl2onnx (label and probabilities). Each model imports as a user would
//! bring it (its own input as the calibration set), proves and verifies, a changed proof is
//! rejected, and the proven output is compared with onnxruntime's committed output: an int8
//! graph's within one output step everywhere, a float graph's within 5 % of the output's range
//! with the same argmax wherever the top two differ by more than a step.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::gkr;
use gkrnet::onnx::{self, ImportOptions};
use std::path::PathBuf;

fn zoo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/zoo")
}

/// (model, input file, whether the graph is int8)
const MODELS: &[(&str, &str, bool)] = &[
    ("mobilenet_v2_qop", "mobilenet_v2", true),
    ("mnasnet0_5_qdq", "mnasnet0_5", true),
    ("shufflenet_v2_x0_5_qop", "shufflenet_v2_x0_5", true),
    ("squeezenet1_1_qop", "squeezenet1_1", true),
    ("squeezenet1_1_dynamo", "squeezenet1_1", false),
    ("mlp_silu", "mlp_silu", false),
    ("mlp_silu_dynamo", "mlp_silu", false),
    ("se_block", "se_block", false),
    ("lstm", "lstm", false),
    ("lstm_dynamo", "lstm", false),
    ("gru", "gru", false),
    ("gru_dynamo", "gru", false),
    ("linreg", "linreg", false),
    // label and probabilities (the ZipMap's map left outside the proof)
    ("logreg", "logreg", false),
    ("logreg_nozipmap", "logreg", false),
    ("mlpclf", "mlpclf", false),
    ("mlpclf_nozipmap", "mlpclf", false),
];

/// Imports, proves, verifies and rejects a changed proof; returns the proven output
/// (dequantized), onnxruntime's, and the output step.
fn prove(model: &str, input: &str) -> (Vec<f64>, Vec<f64>, f64) {
    let (dims, x) = onnx::read_npy(&zoo().join(format!("{input}_input.npy"))).unwrap();
    let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
    let options = ImportOptions {
        input_dims: Some(dims),
        calibration: Some(vec![x.clone()]),
        ..Default::default()
    };
    let imported = onnx::import(&zoo().join(format!("{model}.onnx")), &options)
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    let q = imported.quantize_input(&x).unwrap();
    let m = &imported.model;
    let proof = gkr::prove_bytes(m, &q, &gkr::ProveOptions::default()).unwrap();
    let out = gkr::verify_bytes(m, &q, &gkr::VerifyOptions::default(), &proof.proof)
        .unwrap_or_else(|e| panic!("{model}: {e}"));
    for at in [proof.proof.len() / 2, proof.proof.len() - 1] {
        let mut bad = proof.proof.clone();
        bad[at] ^= 0x10;
        assert!(
            gkr::verify_bytes(m, &q, &gkr::VerifyOptions::default(), &bad).is_err(),
            "{model}: a proof changed at byte {at} was accepted"
        );
    }
    let ours = onnx::dequantize_output(m, &out);
    let (_, expected) = onnx::read_npy(&zoo().join(format!("{model}_expected.npy"))).unwrap();
    (ours, expected, imported.output_params().scale)
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

#[test]
fn every_zoo_model_proves_verifies_and_agrees_with_onnxruntime() {
    for &(model, input, int8) in MODELS {
        let (mut ours, expected, step) = prove(model, input);
        if ours.len() == expected.len() + 1 {
            // a classifier: the label, then the probabilities onnxruntime's file holds
            let label = ours.remove(0);
            assert_eq!(label, argmax(&expected) as f64, "{model}: the proven label");
        }
        assert_eq!(ours.len(), expected.len(), "{model}");
        let diff: Vec<f64> = ours.iter().zip(&expected).map(|(a, b)| (a - b).abs()).collect();
        let max = diff.iter().copied().fold(0.0, f64::max);
        let (lo, hi) =
            expected.iter().fold((f64::MAX, f64::MIN), |(l, h), &v| (l.min(v), h.max(v)));
        let range = (hi - lo).max(step);
        if int8 {
            // the same int8 graph as onnxruntime's: within one output step everywhere
            let off = diff.iter().filter(|&&d| d > step * 1.001).count();
            println!(
                "{model}: {} outputs, max |Δ| {max:.3e}, step {step:.3e}, {off} beyond a step",
                ours.len()
            );
            assert_eq!(off, 0, "{model}: {off} outputs beyond one step (max |Δ| {max})");
        } else {
            let relative = max / range;
            println!(
                "{model}: {} outputs, max |Δ| {max:.4} ({:.2} % of the range)",
                ours.len(),
                100.0 * relative
            );
            assert!(relative < 0.05, "{model}: max |Δ| {max} on a range of {range}");
        }
        let best = argmax(&expected);
        let runner_up = (0..expected.len())
            .filter(|&i| i != best)
            .map(|i| expected[i])
            .fold(f64::MIN, f64::max);
        if expected.len() > 1 && expected[best] - runner_up > 2.0 * step {
            assert_eq!(argmax(&ours), best, "{model}: argmax");
        }
    }
}
