//! Transformer exports from `models/make_transformers.py` (PyTorch 2.15, legacy and current
//! exporters): `torch.nn.TransformerEncoderLayer` (d = 64, 4 heads, ReLU and GELU feed-forward)
//! imports as a float model with attention products of two computed tensors (`matprod`), the
//! softmax and both layer norms inside the proof; its int8 output tracks PyTorch's float output
//! (`*_expected.npy`, onnxruntime) on the fixture's input; it proves and verifies, and a proof of
//! another output is rejected. The same for GPT-2 (its blocks, and on token ids), and for models
//! of ids with attention masks and token types: BERT, GPT-2 with padding, T5 (RMS norms), LLaMA
//! (rotary embeddings) and GPT-Neo (masked_fill masks).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::gkr;
use gkrnet::onnx::{self, dequantize_output, ImportOptions};
use rand::{Rng, SeedableRng};
use std::path::PathBuf;

fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/transformers").join(file)
}

/// Seeded standard-normal calibration inputs (the fixtures' input distribution).
fn normal_inputs(len: usize, count: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    // Box–Muller
    let mut normal = || {
        let (u, v): (f64, f64) = (rng.gen_range(f64::EPSILON..1.0), rng.gen());
        ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
    };
    (0..count).map(|_| (0..len).map(|_| normal()).collect()).collect()
}

#[test]
fn encoder_layers_import_track_float_and_prove() {
    for name in
        ["encoder_layer", "encoder_layer_dynamo", "encoder_layer_gelu", "encoder_layer_gelu_dynamo"]
    {
        let base = name.trim_end_matches("_dynamo");
        let (_, x) = onnx::read_npy(&fixture(&format!("{base}_input.npy"))).unwrap();
        let (_, expected) = onnx::read_npy(&fixture(&format!("{base}_expected.npy"))).unwrap();
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut calibration = normal_inputs(x.len(), 16, 60);
        calibration.push(x.clone());
        let opts = ImportOptions { calibration: Some(calibration), ..Default::default() };
        let imported = onnx::import(&fixture(&format!("{name}.onnx")), &opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds.iter().filter(|&&k| k == "matprod").count(), 2, "{name}: {kinds:?}");
        assert_eq!(kinds.iter().filter(|&&k| k == "softmax-div").count(), 1, "{name}");
        assert_eq!(kinds.iter().filter(|&&k| k == "norm-stats").count(), 2, "{name}");
        let input = imported.quantize_input(&x).unwrap();
        let model = &imported.model;
        let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::default()).unwrap();
        let out = gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &proof.proof)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(out, proof.output);
        // the proven int8 output against PyTorch's float output
        let y = dequantize_output(model, &out);
        assert_eq!(y.len(), expected.len());
        let step = imported.output_params().scale;
        let max = y.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f64, f64::max);
        let mean =
            y.iter().zip(&expected).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64;
        println!(
            "{name}: {} layers, max |Δ| {max:.4}, mean |Δ| {mean:.4}, output step {step:.4}",
            kinds.len()
        );
        assert!(max <= 8.0 * step && mean <= step, "{name}: max {max}, mean {mean}, step {step}");
        // another output is rejected
        let mut bad = proof.proof.clone();
        let at = bad.len() / 2;
        bad[at] ^= 4;
        assert!(gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &bad).is_err());
    }
}

/// A 2-layer GPT-2 (`transformers.GPT2Model`, d = 128, 4 heads, 64 tokens) on float token
/// embeddings, both exporters: position embeddings (a constant per position), causal masked
/// attention, layer norms and gelu_new inside the proof; the output tracks PyTorch's and proves.
#[test]
fn gpt2_blocks_import_track_float_and_prove() {
    for name in ["gpt2_blocks", "gpt2_blocks_dynamo"] {
        let (_, x) = onnx::read_npy(&fixture("gpt2_blocks_input.npy")).unwrap();
        let (_, expected) = onnx::read_npy(&fixture("gpt2_blocks_expected.npy")).unwrap();
        let x: Vec<f32> = x.iter().map(|&v| v as f32).collect();
        let mut calibration: Vec<Vec<f32>> = normal_inputs(x.len(), 8, 61)
            .into_iter()
            .map(|v| v.into_iter().map(|a| 0.1 * a).collect())
            .collect();
        calibration.push(x.clone());
        let opts = ImportOptions { calibration: Some(calibration), ..Default::default() };
        let imported = onnx::import(&fixture(&format!("{name}.onnx")), &opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds.iter().filter(|&&k| k == "matprod").count(), 4, "{name}: {kinds:?}");
        assert_eq!(kinds.iter().filter(|&&k| k == "norm-stats").count(), 5, "{name}");
        assert_eq!(kinds.iter().filter(|&&k| k == "gelu-tanh").count(), 2, "{name}");
        // the causal mask: half of the scores (above the diagonal) are masked
        let exp = imported.model.layers.iter().find(|l| l.kind() == "softmax-exp").unwrap();
        let spec = exp.spec();
        let keep = &spec.op::<gkrnet::circuit::softmax::SoftmaxExpSpec>().unwrap().keep;
        assert_eq!(keep.iter().filter(|&&k| k == 0).count(), 4 * 64 * 63 / 2, "{name}");
        let input = imported.quantize_input(&x).unwrap();
        let model = &imported.model;
        let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::default()).unwrap();
        let out = gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &proof.proof)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let y = dequantize_output(model, &out);
        let step = imported.output_params().scale;
        let max = y.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f64, f64::max);
        let mean =
            y.iter().zip(&expected).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64;
        println!(
            "{name}: {} layers, max |Δ| {max:.4}, mean |Δ| {mean:.4}, step {step:.4}",
            kinds.len()
        );
        assert!(max <= 8.0 * step && mean <= step, "{name}: max {max}, mean {mean}, step {step}");
    }
}

/// GPT-2 (`transformers.GPT2LMHeadModel`, 2 layers, d = 128, vocabulary 256) on 32 token ids,
/// both exporters: the int64 ids are the input, the proof covers their rows of the int8
/// embedding table, which whoever holds the model computes from the ids; the logits track
/// PyTorch's, the next-token argmax agrees at (nearly) every position, it proves, and an id
/// outside the vocabulary is refused naming it.
#[test]
fn gpt2_from_token_ids_imports_tracks_float_and_proves() {
    let (_, ids) = onnx::read_npy(&fixture("gpt2_tiny_input.npy")).unwrap();
    let (_, expected) = onnx::read_npy(&fixture("gpt2_tiny_expected.npy")).unwrap();
    let ids: Vec<f32> = ids.iter().map(|&v| v as f32).collect();
    assert_eq!(ids.len(), 32);
    for name in ["gpt2_tiny", "gpt2_tiny_dynamo"] {
        let imported = onnx::import(&fixture(&format!("{name}.onnx")), &ImportOptions::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let model = &imported.model;
        let e = model.io().and_then(|io| io.embedding()).expect("a model of token ids");
        assert_eq!((e.vocab, e.width, &e.ids_dims[..]), (256, 128, &[1, 32][..]), "{name}");
        assert_eq!(model.input_dims, vec![1, 32, 128]);
        assert!(imported.notes.iter().any(|n| n.contains("token ids")), "{:?}", imported.notes);
        let input = imported.quantize_input(&ids).unwrap();
        let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::default()).unwrap();
        let out = gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &proof.proof)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let y = dequantize_output(model, &out);
        assert_eq!(y.len(), expected.len());
        let step = imported.output_params().scale;
        let max = y.iter().zip(&expected).map(|(a, b)| (a - b).abs()).fold(0f64, f64::max);
        // the next token at every position: the argmax of the proven logits against PyTorch's
        let argmax = |v: &[f64]| (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b });
        let agree =
            y.chunks(256).zip(expected.chunks(256)).filter(|(a, b)| argmax(a) == argmax(b)).count();
        println!("{name}: max |Δ| {max:.4} (step {step:.4}), next-token agreement {agree}/32");
        assert!(max <= 8.0 * step, "{name}: max {max}, step {step}");
        assert!(agree >= 28, "{name}: {agree} of 32 next tokens agree with PyTorch");
        // an id outside the vocabulary, or not an integer, is refused naming it
        let mut bad = ids.clone();
        bad[5] = 256.0;
        let err = imported.quantize_input(&bad).unwrap_err().to_string();
        assert!(err.contains("token id 256") && err.contains("index 5"), "{err}");
        bad[5] = 2.5;
        assert!(imported.quantize_input(&bad).is_err());
        // the embedding table is in the digest
        let bytes = model.encode();
        let back = gkrnet::circuit::Model::decode(&bytes).unwrap();
        assert_eq!(back.digest(), model.digest());
        assert_eq!(back.io(), model.io());
    }
}

/// A fixture's source input: its files `{base}_{part}.npy` concatenated in graph order (ids,
/// then the mask, then the token types), and its expected output.
fn source(base: &str, parts: &[&str]) -> (Vec<f32>, Vec<f64>) {
    let mut x = Vec::new();
    for part in parts {
        let (_, v) = onnx::read_npy(&fixture(&format!("{base}_{part}.npy"))).unwrap();
        x.extend(v.iter().map(|&v| v as f32));
    }
    let (_, expected) = onnx::read_npy(&fixture(&format!("{base}_expected.npy"))).unwrap();
    (x, expected)
}

/// Imports fixture `name` (the default options unless given).
fn import_fixture(name: &str, opts: Option<&ImportOptions>) -> onnx::Imported {
    let default = ImportOptions::default();
    onnx::import(&fixture(&format!("{name}.onnx")), opts.unwrap_or(&default))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Proves and verifies the imported model on `source`: the int8 input, the proof and the
/// verified output dequantized.
fn prove_dequantized(
    imported: &onnx::Imported,
    source: &[f32],
    name: &str,
) -> (gkrnet::circuit::Tensor, Vec<u8>, Vec<f64>) {
    let model = &imported.model;
    let input = imported.quantize_input(source).unwrap();
    let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::default()).unwrap();
    let out = gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &proof.proof)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let y = dequantize_output(model, &out);
    (input, proof.proof, y)
}

/// max and mean |y − expected|.
fn deviation(y: &[f64], expected: &[f64]) -> (f64, f64) {
    assert_eq!(y.len(), expected.len());
    let max = y.iter().zip(expected).map(|(a, b)| (a - b).abs()).fold(0f64, f64::max);
    let mean = y.iter().zip(expected).map(|(a, b)| (a - b).abs()).sum::<f64>() / y.len() as f64;
    (max, mean)
}

/// Positions whose argmax over `vocab` logits agrees.
fn agreement(y: &[f64], expected: &[f64], vocab: usize) -> usize {
    let argmax = |v: &[f64]| (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b });
    y.chunks(vocab).zip(expected.chunks(vocab)).filter(|(a, b)| argmax(a) == argmax(b)).count()
}

/// The number of layers of `kind`.
fn count(model: &gkrnet::circuit::Model, kind: &str) -> usize {
    model.layers.iter().filter(|l| l.kind() == kind).count()
}

/// A 2-layer BERT (`transformers.BertModel`, hidden 128, 2 heads, 16 tokens) taking token ids and
/// an attention mask, from both exporters: the mask's own nodes (Cast, And, Expand, Where, …)
/// are not proved; the proof's input holds the ids' rows, the mask and the constants 0, 1, and
/// both attention softmaxes gate their scores with the mask (one gate tensor shared). The output
/// tracks PyTorch's under the fixture's mask (its last 4 positions padding); another mask gives
/// another output that tracks the float model too; a proof checked against another mask, and a
/// mask value of 2, are refused.
#[test]
fn bert_with_an_attention_mask_imports_tracks_float_and_proves() {
    let (source, expected) = source("bert_tiny", &["input", "mask"]);
    assert_eq!(source[16..].iter().filter(|&&m| m == 0.0).count(), 4);
    for name in ["bert_tiny", "bert_tiny_dynamo"] {
        let imported = import_fixture(name, None);
        let model = &imported.model;
        let e = model.io().and_then(|io| io.embedding()).expect("a model of token ids");
        assert_eq!((e.masks.len(), e.ids_at, &e.masks[0].name[..]), (1, 0, "attention_mask"));
        assert_eq!(model.input_dims, vec![16 * 128 + 16 + 2]);
        assert_eq!((count(model, "softmax-exp-gated"), count(model, "gate")), (2, 2), "{name}");
        let (_, proof, y) = prove_dequantized(&imported, &source, name);
        let step = imported.output_params().scale;
        let (max, mean) = deviation(&y, &expected);
        println!("{name}: max |Δ| {max:.4}, mean |Δ| {mean:.4}, step {step:.4}");
        assert!(max <= 8.0 * step && mean <= step, "{name}: max {max}, mean {mean}");
        // another mask: another output, which tracks tract's float run on it
        let mut other = source.clone();
        other[16..].iter_mut().enumerate().for_each(|(p, m)| *m = f32::from(p % 3 != 1));
        let (input2, _, y2) = prove_dequantized(&imported, &other, name);
        assert_ne!(y2, y, "{name}: the mask changes the output");
        let (max2, _) = deviation(&y2, &imported.reference.output(&other).unwrap());
        assert!(max2 <= 8.0 * step, "{name}: max {max2} under another mask");
        // the first proof against the second mask: refused
        let opts = gkr::VerifyOptions::default();
        assert!(gkr::verify_bytes(model, &input2, &opts, &proof).is_err(), "{name}");
        // a mask value other than 0 and 1 is refused naming the input
        let mut bad = source.clone();
        bad[20] = 2.0;
        let err = imported.quantize_input(&bad).unwrap_err().to_string();
        assert!(err.contains("attention_mask") && err.contains("holds 2"), "{err}");
        let back = gkrnet::circuit::Model::decode(&model.encode()).unwrap();
        assert_eq!((back.digest(), back.io()), (model.digest(), model.io()));
    }
}

/// GPT-2 taking ids and an attention mask (right padding, the last 6 positions 0), from both
/// exporters: the causal mask and the padding mask combine in one gate per score (a causal
/// position is gated by the constant 0 entry, a key by its mask value); the logits track
/// PyTorch's, the next token agrees at (nearly) every position, and a left-padded mask, whose
/// first line keeps no position, is refused by the prover saying so.
#[test]
fn gpt2_with_an_attention_mask_combines_causal_and_padding() {
    let (source, expected) = source("gpt2_masked", &["input", "mask"]);
    for name in ["gpt2_masked", "gpt2_masked_dynamo"] {
        let imported = import_fixture(name, None);
        assert_eq!(count(&imported.model, "softmax-exp-gated"), 2, "{name}");
        let (_, _, y) = prove_dequantized(&imported, &source, name);
        let step = imported.output_params().scale;
        let ((max, _), agree) = (deviation(&y, &expected), agreement(&y, &expected, 256));
        println!("{name}: max |Δ| {max:.4} (step {step:.4}), next-token agreement {agree}/32");
        assert!(max <= 8.0 * step && agree >= 28, "{name}: max {max}, {agree} of 32");
        let mut left = source.clone();
        left[32..].iter_mut().enumerate().for_each(|(p, m)| *m = f32::from(p >= 2));
        let input = imported.quantize_input(&left).unwrap();
        let prove = gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default());
        let err = prove.unwrap_err().to_string();
        assert!(err.contains("masks every position"), "{name}: {err}");
    }
}

/// A 2-layer T5 encoder (`transformers.T5EncoderModel`, d = 64, 4 heads) taking ids and an
/// attention mask, from both exporters: its five RMS norms, written out (Pow 2, ReduceMean,
/// Add ε, Sqrt, Div(1, ·) or Reciprocal, Mul x, Mul γ), are each one RMS norm of the layer
/// norm's gadget (their inputs requantized to zero point 0), sharing one inverse-square-root
/// table; the output tracks PyTorch's.
#[test]
fn t5_encoder_with_rms_norms_imports_tracks_float_and_proves() {
    let (source, expected) = source("t5_tiny", &["input", "mask"]);
    // seeded ids with the fixture's mask, and the fixture's own input (random weights give
    // outliers that 16 random sequences may miss: the output would clamp)
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(61);
    let mut calibration: Vec<Vec<f32>> = (0..16)
        .map(|_| {
            let ids = (0..16).map(|_| rng.gen_range(0..256) as f32);
            ids.chain(source[16..].iter().copied()).collect()
        })
        .collect();
    calibration.push(source.clone());
    let opts = ImportOptions { calibration: Some(calibration), ..Default::default() };
    for name in ["t5_tiny", "t5_tiny_dynamo"] {
        let imported = import_fixture(name, Some(&opts));
        let model = &imported.model;
        assert_eq!((count(model, "rms-stats"), count(model, "norm-stats")), (5, 0), "{name}");
        let (_, _, y) = prove_dequantized(&imported, &source, name);
        let step = imported.output_params().scale;
        let (max, mean) = deviation(&y, &expected);
        println!("{name}: max |Δ| {max:.4}, mean |Δ| {mean:.4}, step {step:.4}");
        assert!(max <= 8.0 * step && mean <= step, "{name}: max {max}, mean {mean}");
    }
}

/// A 2-layer LLaMA (`transformers.LlamaForCausalLM`, d = 64, 4 query heads over 2 key/value
/// heads) taking ids and an attention mask, from both exporters: RMS norms, rotary embeddings
/// (one signed requantization of x and its half swap each), grouped keys and values, the
/// SiLU-gated MLP and the causal and padding masks; the logits track PyTorch's and the next
/// token agrees at (nearly) every position.
#[test]
fn llama_with_rotary_embeddings_imports_tracks_float_and_proves() {
    let (source, expected) = source("llama_tiny", &["input", "mask"]);
    for name in ["llama_tiny", "llama_tiny_dynamo"] {
        let imported = import_fixture(name, None);
        let model = &imported.model;
        assert_eq!(count(model, "rms-stats"), 5, "{name}");
        let signed = (model.layers.iter().map(|l| l.spec()))
            .filter(|s| s.summary().contains("a signed per element"))
            .count();
        assert_eq!(signed, 4, "{name}: two rotary embeddings (q, k) per layer");
        let (_, _, y) = prove_dequantized(&imported, &source, name);
        let step = imported.output_params().scale;
        let ((max, _), agree) = (deviation(&y, &expected), agreement(&y, &expected, 256));
        println!("{name}: max |Δ| {max:.4} (step {step:.4}), next-token agreement {agree}/16");
        assert!(max <= 8.0 * step && agree >= 13, "{name}: max {max}, {agree} of 16");
    }
}

/// A 2-layer GPT-Neo (global then local attention, window 8) taking ids and an attention mask,
/// from both exporters: its causal and local masks are masked_fill Where nodes (a constant
/// condition, the scores, the float minimum) before the padding mask's Add; both become one
/// gate per score. Every probability above the diagonal, in a padded column, or (local layer)
/// further than the window back is exactly the zero point; the logits track PyTorch's.
#[test]
fn gpt_neo_masked_fill_and_padding_combine() {
    let (source, expected) = source("gpt_neo_tiny", &["input", "mask"]);
    for name in ["gpt_neo_tiny", "gpt_neo_tiny_dynamo"] {
        let imported = import_fixture(name, None);
        let model = &imported.model;
        let (input, _, y) = prove_dequantized(&imported, &source, name);
        let step = imported.output_params().scale;
        let ((max, _), agree) = (deviation(&y, &expected), agreement(&y, &expected, 256));
        println!("{name}: max |Δ| {max:.4} (step {step:.4}), next-token agreement {agree}/16");
        assert!(max <= 8.0 * step && agree >= 13, "{name}: max {max}, {agree} of 16");
        let w = model.forward(&input).unwrap();
        let divs: Vec<usize> = (model.layers.iter().enumerate())
            .filter(|(_, l)| l.kind() == "softmax-div")
            .map(|(i, _)| i)
            .collect();
        assert_eq!(divs.len(), 2, "{name}");
        for (layer, &d) in divs.iter().enumerate() {
            let spec = model.layers[d].spec();
            let zero = spec.op::<gkrnet::circuit::softmax::SoftmaxDivSpec>().unwrap().zero as i64;
            for (i, &q) in w.tensors[d + 1].data.iter().enumerate() {
                let (row, col) = ((i % 256) / 16, i % 16);
                let local = layer == 1 && row >= col + 8;
                if col > row || col >= 13 || local {
                    assert_eq!(q, zero, "{name} layer {layer} entry {i}");
                }
            }
        }
    }
}

/// BERT taking ids, an attention mask and token type ids (Optimum's three inputs), from both
/// exporters: the token type ids select rows of their own table, which the verifier computes
/// like the ids' (io flag 6); the output tracks PyTorch's, other token types give another
/// output, and a type outside the table is refused naming the input.
#[test]
fn bert_with_token_type_ids_imports_tracks_float_and_proves() {
    let (source, expected) = source("bert_types", &["input", "mask", "types"]);
    for name in ["bert_types", "bert_types_dynamo"] {
        let imported = import_fixture(name, None);
        let model = &imported.model;
        let e = model.io().and_then(|io| io.embedding()).expect("a model of token ids");
        assert_eq!(e.masks.len(), 2, "{name}");
        assert!(e.masks[0].table.is_none() && e.masks[1].table.is_some(), "{name}");
        let (_, proof, y) = prove_dequantized(&imported, &source, name);
        let step = imported.output_params().scale;
        let (max, mean) = deviation(&y, &expected);
        println!("{name}: max |Δ| {max:.4}, mean |Δ| {mean:.4}, step {step:.4}");
        assert!(max <= 8.0 * step && mean <= step, "{name}: max {max}, mean {mean}");
        // all of type 0: another proven output, the proof of the first refused for it
        let mut other = source.clone();
        other[32..].iter_mut().for_each(|t| *t = 0.0);
        let input2 = imported.quantize_input(&other).unwrap();
        let y2 = dequantize_output(model, model.forward(&input2).unwrap().output());
        assert_ne!(y2, y, "{name}");
        let opts = gkr::VerifyOptions::default();
        assert!(gkr::verify_bytes(model, &input2, &opts, &proof).is_err(), "{name}");
        let mut bad = source.clone();
        bad[40] = 2.0;
        let err = imported.quantize_input(&bad).unwrap_err().to_string();
        assert!(err.contains("token_type_ids") && err.contains("token id 2"), "{err}");
    }
}
