//! ONNX import (issue 7): every model in `models/` imports, its integer reference matches the
//! committed onnxruntime outputs, and it proves and verifies end to end; QOperator models agree
//! with onnxruntime layer by layer; bad files give errors that name the problem; a model changed
//! after proving fails verification; accuracy on the digits test split.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::circuit::{Model, Tensor};
use gkrnet::gkr;
use gkrnet::onnx::{self, dequantize_output, GraphKind, ImportError, ImportOptions, Imported};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn rows(file: &str, width: usize) -> Vec<Vec<f32>> {
    let (_, data) = onnx::read_npy(&models().join(file)).unwrap();
    assert_eq!(data.len() % width, 0, "{file}");
    data.chunks(width).map(|c| c.iter().map(|&v| v as f32).collect()).collect()
}

/// (model, inputs file, input size, calibration file)
const MODELS: [(&str, &str, usize, &str); 9] = [
    ("digits_mlp", "digits_test_inputs.npy", 64, "digits_calibration.npy"),
    ("digits_mlp_qop", "digits_test_inputs.npy", 64, "digits_calibration.npy"),
    ("digits_mlp_qdq", "digits_test_inputs.npy", 64, "digits_calibration.npy"),
    ("digits_cnn", "digits_test_inputs.npy", 64, "digits_calibration.npy"),
    ("digits_cnn_qop", "digits_test_inputs.npy", 64, "digits_calibration.npy"),
    ("digits_cnn_qdq", "digits_test_inputs.npy", 64, "digits_calibration.npy"),
    ("lenet5_seeded", "lenet5_seeded_inputs.npy", 784, "lenet5_seeded_inputs.npy"),
    ("ops_cnn", "ops_cnn_inputs.npy", 64, "ops_cnn_inputs.npy"),
    ("ops_mlp", "ops_mlp_inputs.npy", 64, "ops_mlp_inputs.npy"),
];

fn import(name: &str, calibration: &str, width: usize) -> Imported {
    let opts = ImportOptions { calibration: Some(rows(calibration, width)), ..Default::default() };
    onnx::import(&models().join(format!("{name}.onnx")), &opts)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

#[test]
fn every_model_matches_onnxruntime_and_proves() {
    for (name, inputs, width, calibration) in MODELS {
        let imported = import(name, calibration, width);
        let kind = match name {
            n if n.ends_with("_qop") => GraphKind::QOperator,
            n if n.ends_with("_qdq") => GraphKind::Qdq,
            _ => GraphKind::Float,
        };
        assert_eq!(imported.kind, kind, "{name}");
        let xs = rows(inputs, width);
        let expected = rows(&format!("{name}_expected.npy"), 10);
        let step = imported.output_params().scale;
        let (mut max, mut sum, mut agree) = (0f64, 0f64, 0);
        for (x, e) in xs.iter().zip(&expected) {
            let w = imported.model.forward(&imported.quantize_input(x).unwrap()).unwrap();
            let y = dequantize_output(&imported.model, w.output());
            let e: Vec<f64> = e.iter().map(|&v| v as f64).collect();
            for (a, b) in y.iter().zip(&e) {
                max = max.max((a - b).abs());
                sum += (a - b).abs();
            }
            agree += usize::from(argmax(&y) == argmax(&e));
        }
        let mean = sum / (10 * xs.len()) as f64;
        // within a few output steps of onnxruntime (QDQ runtimes round differently, float
        // models carry the quantization error of every layer)
        let steps = if kind == GraphKind::Float { 8.0 } else { 2.0 };
        assert!(max <= steps * step, "{name}: max |Δ| {max} > {steps} steps of {step}");
        assert!(mean <= 1.5 * step, "{name}: mean |Δ| {mean} > 1.5 steps of {step}");
        assert!(agree + 1 >= xs.len(), "{name}: argmax agrees on {agree}/{}", xs.len());
        // prove and verify end to end on two inputs
        for x in &xs[..2] {
            let input = imported.quantize_input(x).unwrap();
            let proof =
                gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default()).unwrap();
            let out = gkr::verify_bytes(
                &imported.model,
                &input,
                &gkr::VerifyOptions::default(),
                &proof.proof,
            )
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(out, *imported.model.forward(&input).unwrap().output(), "{name}");
        }
    }
}

#[test]
fn compiled_model_round_trips_with_its_digest() {
    for (name, _, width, calibration) in MODELS {
        let imported = import(name, calibration, width);
        let bytes = imported.model.encode();
        let decoded = Model::decode(&bytes).unwrap();
        assert_eq!(decoded.digest(), imported.model.digest(), "{name}");
        assert_eq!(decoded.io(), imported.model.io(), "{name}");
        assert_eq!(decoded.encode(), bytes, "{name}: canonical");
        // a proof made with the imported model verifies against the decoded one
        let input = imported.quantize_input(&rows(calibration, width)[0]).unwrap();
        let proof =
            gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default()).unwrap();
        gkr::verify_bytes(&decoded, &input, &gkr::VerifyOptions::default(), &proof.proof).unwrap();
        // importing twice with the same calibration gives the same digest
        assert_eq!(import(name, calibration, width).model.digest(), imported.model.digest());
    }
}

#[test]
fn symbolic_batch_is_fixed_from_the_input() {
    let path = models().join("ops_cnn.onnx");
    let xs = rows("ops_cnn_inputs.npy", 64);
    let batch: Vec<f32> = xs[0].iter().chain(&xs[1]).copied().collect();
    let opts = ImportOptions {
        input_dims: Some(vec![2, 1, 8, 8]),
        calibration: Some(vec![batch.clone()]),
        ..Default::default()
    };
    let imported = onnx::import(&path, &opts).unwrap();
    assert_eq!(imported.model.input_dims, vec![2, 1, 8, 8]);
    assert_eq!(imported.model.output_dims(), &[2, 10]);
    let input = imported.quantize_input(&batch).unwrap();
    let proof = gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default()).unwrap();
    gkr::verify_bytes(&imported.model, &input, &gkr::VerifyOptions::default(), &proof.proof)
        .unwrap();
    // batch 1 by default
    let one = onnx::import(&path, &ImportOptions::default()).unwrap();
    assert_eq!(one.model.input_dims, vec![1, 1, 8, 8]);
}

fn import_error(path: &Path, opts: &ImportOptions) -> ImportError {
    onnx::import(path, opts).expect_err("the import must fail")
}

#[test]
fn bad_files_give_errors_that_name_the_problem() {
    let dir = std::env::temp_dir().join(format!("gkrnet-onnx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = ImportOptions::default();
    // an unsupported op: its type and node name
    let e = import_error(&models().join("unsupported_op.onnx"), &opts);
    assert!(
        matches!(&e, ImportError::Unsupported { op, node, .. } if op == "Cos" && node == "cos_1"),
        "{e}"
    );
    assert!(e.to_string().contains("Cos") && e.to_string().contains("cos_1"));
    // truncated files, at many lengths
    let bytes = std::fs::read(models().join("digits_cnn.onnx")).unwrap();
    for cut in [0, 1, 10, 100, bytes.len() / 3, bytes.len() / 2, bytes.len() - 7] {
        let p = dir.join(format!("cut{cut}.onnx"));
        std::fs::write(&p, &bytes[..cut]).unwrap();
        let e = import_error(&p, &opts);
        assert!(
            matches!(e, ImportError::NotOnnx { .. } | ImportError::Graph(_)),
            "cut at {cut}: {e}"
        );
    }
    // not an ONNX file at all
    let p = dir.join("notes.onnx");
    std::fs::write(&p, b"these are not the protobufs you are looking for\n").unwrap();
    let e = import_error(&p, &opts);
    assert!(matches!(e, ImportError::NotOnnx { .. }), "{e}");
    assert!(e.to_string().contains("not an ONNX model"));
    // an input whose shape differs from the model's
    let wrong = ImportOptions { input_dims: Some(vec![1, 1, 9, 9]), ..Default::default() };
    let e = import_error(&models().join("digits_cnn.onnx"), &wrong);
    assert!(matches!(&e, ImportError::InputShape { got, .. } if got == &[1, 1, 9, 9]), "{e}");
    assert!(e.to_string().contains("1×1×8×8"), "{e}");
    // an op tract does not know either: still named by gkrnet
    let mut proto = onnx_gen::residual(1);
    proto.graph.as_mut().unwrap().node[2].op_type = "FooBar".into();
    let p = dir.join("foobar.onnx");
    std::fs::write(&p, onnx_gen::encode(&proto)).unwrap();
    let e = import_error(&p, &opts);
    assert!(
        matches!(&e, ImportError::Unsupported { op, node, .. } if op == "FooBar" && node == "relu1"),
        "{e}"
    );
    // a missing file
    let e = import_error(&dir.join("missing.onnx"), &opts);
    assert!(matches!(e, ImportError::Io { .. }), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn random_byte_flips_of_an_onnx_file_never_panic() {
    use rand::{Rng, SeedableRng};
    let dir = std::env::temp_dir().join(format!("gkrnet-flip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bytes = std::fs::read(models().join("digits_mlp_qop.onnx")).unwrap();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let opts = ImportOptions { samples: 2, ..Default::default() };
    for i in 0..40 {
        let mut b = bytes.clone();
        for _ in 0..rng.gen_range(1..4) {
            let at = rng.gen_range(0..b.len());
            b[at] ^= rng.gen_range(1..=255u8);
        }
        let p = dir.join(format!("flip{i}.onnx"));
        std::fs::write(&p, &b).unwrap();
        // an error or a model, never a panic (a flip inside a weight still gives a valid file)
        let _ = onnx::import(&p, &opts);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Finds `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn a_weight_changed_after_proving_fails_verification() {
    let path = models().join("digits_cnn_qop.onnx");
    let xs = rows("digits_calibration.npy", 64);
    let opts = ImportOptions { calibration: Some(xs.clone()), ..Default::default() };
    let honest = onnx::import(&path, &opts).unwrap();
    let input = honest.quantize_input(&xs[0]).unwrap();
    let proof = gkr::prove_bytes(&honest.model, &input, &gkr::ProveOptions::default()).unwrap();
    gkr::verify_bytes(&honest.model, &input, &gkr::VerifyOptions::default(), &proof.proof).unwrap();
    // change one int8 weight of the dense layer in the file
    let proto = onnx::read_proto(&path).unwrap();
    let w = proto
        .graph
        .as_ref()
        .unwrap()
        .initializer
        .iter()
        .find(|t| t.name == "fc.weight_quantized")
        .unwrap();
    let mut bytes = std::fs::read(&path).unwrap();
    let at = find(&bytes, &w.raw_data).unwrap() + 17;
    bytes[at] = bytes[at].wrapping_add(1);
    let dir = std::env::temp_dir().join(format!("gkrnet-tamper-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("tampered.onnx");
    std::fs::write(&p, &bytes).unwrap();
    let tampered = onnx::import(&p, &opts).unwrap();
    assert_ne!(tampered.model.digest(), honest.model.digest());
    assert!(gkr::verify_bytes(
        &tampered.model,
        &input,
        &gkr::VerifyOptions::default(),
        &proof.proof
    )
    .is_err());
    // and a float model: one weight set to 3.0
    let path = models().join("digits_mlp.onnx");
    let honest = onnx::import(&path, &opts).unwrap();
    let input = honest.quantize_input(&xs[1]).unwrap();
    let proof = gkr::prove_bytes(&honest.model, &input, &gkr::ProveOptions::default()).unwrap();
    let proto = onnx::read_proto(&path).unwrap();
    let w = &proto.graph.as_ref().unwrap().initializer[0];
    let mut bytes = std::fs::read(&path).unwrap();
    let at = find(&bytes, &w.raw_data).unwrap() + 4 * 5;
    bytes[at..at + 4].copy_from_slice(&3.0f32.to_le_bytes());
    std::fs::write(&p, &bytes).unwrap();
    let tampered = onnx::import(&p, &opts).unwrap();
    assert_ne!(tampered.model.digest(), honest.model.digest());
    assert!(gkr::verify_bytes(
        &tampered.model,
        &input,
        &gkr::VerifyOptions::default(),
        &proof.proof
    )
    .is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

/// onnxruntime's per-node outputs of a QOperator model on the first test input.
fn intermediates(model: &str) -> HashMap<String, Vec<f64>> {
    let dir = models().join(format!("{model}_intermediates"));
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "npy"))
        .map(|p| {
            let name = p.file_stem().unwrap().to_string_lossy().into_owned();
            (name, onnx::read_npy(&p).unwrap().1)
        })
        .collect()
}

/// Layer by layer: every int8 tensor the model names is computed from onnxruntime's own values
/// of its inputs and compared with onnxruntime's value; then onnxruntime's value replaces ours.
#[test]
fn qoperator_models_agree_with_onnxruntime_layer_by_layer() {
    for model in ["digits_mlp_qop", "digits_cnn_qop"] {
        let imported = import(model, "digits_calibration.npy", 64);
        let ort = intermediates(model);
        let names: HashMap<usize, &str> =
            imported.names.iter().map(|(n, t)| (*t, n.as_str())).collect();
        assert!(names.contains_key(&0), "{model}: the quantized input is named");
        let m = &imported.model;
        let ort_of = |t: usize| -> Option<Tensor> {
            let v = ort.get(*names.get(&t)?)?;
            Some(Tensor::new(m.dims(t).to_vec(), v.iter().map(|&x| x as i64).collect()).unwrap())
        };
        let input = ort_of(0).expect("onnxruntime's quantized input");
        let (mut compared, mut equal, mut off_by_one) = (0usize, 0usize, 0usize);
        let mut tensors = vec![input];
        let mut layers_checked = 0;
        for (i, l) in m.layers.iter().enumerate() {
            let ins: Vec<&Tensor> = l.inputs().iter().map(|&t| &tensors[t]).collect();
            let ours = l.forward(&ins).unwrap().output;
            let t = i + 1;
            match ort_of(t) {
                Some(theirs) => {
                    layers_checked += 1;
                    for (a, b) in ours.data.iter().zip(&theirs.data) {
                        compared += 1;
                        match (a - b).abs() {
                            0 => equal += 1,
                            1 => off_by_one += 1,
                            d => panic!("{model}: tensor {:?} differs by {d} LSB", names[&t]),
                        }
                    }
                    tensors.push(theirs);
                }
                None => tensors.push(ours),
            }
        }
        assert!(layers_checked >= 3, "{model}: only {layers_checked} tensors compared");
        let rate = equal as f64 / compared as f64;
        println!(
            "{model}: {layers_checked} tensors, {compared} values: {equal} identical, {off_by_one} 1 LSB apart ({:.3} %)",
            100.0 * rate
        );
        assert!(rate >= 0.99, "{model}: only {:.3} % identical", 100.0 * rate);
        // end to end: our own tensors all the way from onnxruntime's quantized input
        let w = m.forward(&tensors[0]).unwrap();
        let (mut same, mut total) = (0usize, 0usize);
        for (&t, name) in &names {
            let theirs = ort_of(t).unwrap();
            total += theirs.data.len();
            same += w.tensors[t].data.iter().zip(&theirs.data).filter(|(a, b)| a == b).count();
            assert!(
                w.tensors[t].data.iter().zip(&theirs.data).all(|(a, b)| (a - b).abs() <= 1),
                "{model}: {name} more than 1 LSB from onnxruntime end to end"
            );
        }
        println!("{model} end to end: {same}/{total} values identical");
        assert!(same as f64 >= 0.99 * total as f64);
    }
}

/// End to end against onnxruntime's int8 outputs on the whole test split, and test accuracy
/// within 1 point of float.
#[test]
fn digits_accuracy_within_one_point_of_float() {
    let xs = rows("digits_test_all_inputs.npy", 64);
    let (_, labels) = onnx::read_npy(&models().join("digits_test_all_labels.npy")).unwrap();
    let labels: Vec<i64> = labels.iter().map(|&v| v as i64).collect();
    assert_eq!(xs.len(), 360);
    for model in [
        "digits_mlp",
        "digits_mlp_qop",
        "digits_mlp_qdq",
        "digits_cnn",
        "digits_cnn_qop",
        "digits_cnn_qdq",
    ] {
        let imported = import(model, "digits_calibration.npy", 64);
        let acc = onnx::accuracy(&imported, &xs, Some(&labels)).unwrap();
        let (float, int8) = acc.accuracy.unwrap();
        println!("{model}: {acc:?}");
        assert!(int8 >= float - 0.01, "{model}: int8 {int8} vs float {float}");
        assert!(acc.argmax_agreement >= 0.98, "{model}: {acc:?}");
        // one label per prediction: fewer or more is an error, never a silent accuracy
        for wrong in [&labels[..3], &[labels.as_slice(), &[0]].concat()[..]] {
            let e = onnx::accuracy(&imported, &xs, Some(wrong)).unwrap_err().to_string();
            assert!(e.contains(&format!("{} labels for 360 predictions", wrong.len())), "{e}");
        }
    }
}

#[test]
fn a_generated_float_mlp_imports_and_proves() {
    let dir = std::env::temp_dir().join(format!("gkrnet-gen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("mlp.onnx");
    std::fs::write(&p, onnx_gen::encode(&onnx_gen::mlp(&[48, 40, 24, 10], 3))).unwrap();
    let imported = onnx::import(&p, &ImportOptions::default()).unwrap();
    assert_eq!(imported.parameters, 48 * 40 + 40 + 40 * 24 + 24 + 24 * 10 + 10);
    let xs = onnx::random_inputs(48, 32, (0.0, 1.0), 99);
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    assert!(acc.argmax_agreement >= 0.9, "{acc:?}");
    let input = imported.quantize_input(&xs[0]).unwrap();
    let proof = gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default()).unwrap();
    gkr::verify_bytes(&imported.model, &input, &gkr::VerifyOptions::default(), &proof.proof)
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

fn generated(name: &str, proto: &tract_onnx::pb::ModelProto, calibration: &[Vec<f32>]) -> Imported {
    let dir = std::env::temp_dir().join(format!("gkrnet-gen-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.onnx"));
    std::fs::write(&p, onnx_gen::encode(proto)).unwrap();
    let opts = ImportOptions { calibration: Some(calibration.to_vec()), ..Default::default() };
    let imported = onnx::import(&p, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    imported
}

/// An Add of two computed tensors (a residual connection), MatMulInteger/ConvInteger with Cast
/// and constant scales, and Concat on channels and features: against tract's float run, and
/// proved.
#[test]
fn residual_adds_integer_ops_and_concats_import_and_prove() {
    for (name, proto, len) in [
        ("residual", onnx_gen::residual(5), 16),
        ("integer_ops", onnx_gen::integer_ops(6), 16),
        ("concat", onnx_gen::concat(7), 36),
    ] {
        // calibrated on the inputs compared (no clamping from ranges never seen)
        let xs = onnx::random_inputs(len, 24, (0.0, 1.0), 11);
        let imported = generated(name, &proto, &xs);
        let acc = onnx::accuracy(&imported, &xs, None).unwrap();
        let step = imported.output_params().scale;
        println!("{name}: {} layers, {acc:?}, output step {step}", imported.model.layers.len());
        assert!(acc.max_abs_error <= 8.0 * step, "{name}: {acc:?}");
        for x in &xs[..3] {
            let input = imported.quantize_input(x).unwrap();
            let proof =
                gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default()).unwrap();
            gkr::verify_bytes(
                &imported.model,
                &input,
                &gkr::VerifyOptions::default(),
                &proof.proof,
            )
            .unwrap();
        }
    }
}
