//! ONNX graphs with several float inputs: the circuit's one input tensor is their
//! concatenation (each flattened, in graph order, each quantized at its own parameters), and
//! each ONNX input starts as a Take of its slice; the input part table of the model's io says
//! where each sits.
//!
//! Invariant: the verifier binds the whole concatenated int8 input, so a proof for one input
//! is rejected against any other (a change in the second input included); the part table is
//! bound by the model digest. A model with one input keeps its encoding byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

mod common;

use common::model::{honest, prove_and_verify, rejected};
use gkrnet::circuit::{InputPart, InputQuant, Model};
use gkrnet::onnx::{self, ImportOptions, Imported};
use std::path::Path;
use std::process::{Command, Output};

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

/// Calibration samples of the two-input graph: x ([1, 8]) in [0, 1], y ([1, 4]) in [0, 100],
/// each sample their concatenation.
fn samples(count: usize, seed: u64) -> Vec<Vec<f32>> {
    let xs = onnx::random_inputs(8, count, (0.0, 1.0), seed);
    let ys = onnx::random_inputs(4, count, (0.0, 100.0), seed + 1);
    xs.into_iter().zip(ys).map(|(x, y)| x.into_iter().chain(y).collect()).collect()
}

fn write_model(dir: &Path) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("two_inputs.onnx");
    std::fs::write(&p, onnx_gen::encode(&onnx_gen::two_inputs(41))).unwrap();
    p
}

fn import(calibration: &[Vec<f32>]) -> Imported {
    let dir = std::env::temp_dir().join(format!("gkrnet-multi-in-{}", std::process::id()));
    let p = write_model(&dir);
    let opts = ImportOptions { calibration: Some(calibration.to_vec()), ..Default::default() };
    let imported = onnx::import(&p, &opts).unwrap_or_else(|e| panic!("two_inputs: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    imported
}

fn parts(model: &Model) -> Vec<InputPart> {
    match &model.io().expect("an imported model has io").input {
        InputQuant::Parts(p) => p.clone(),
        other => panic!("a single input: {other:?}"),
    }
}

#[test]
fn two_inputs_of_different_ranges_prove_and_agree_with_float() {
    let xs = samples(24, 42);
    let imported = import(&xs);
    let model = &imported.model;
    assert_eq!(model.input_dims, [12]);
    let p = parts(model);
    let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["x", "y"]);
    assert_eq!((p[0].dims.clone(), p[0].offset), (vec![1, 8], 0));
    assert_eq!((p[1].dims.clone(), p[1].offset), (vec![1, 4], 8));
    // each input calibrated on its own slice: y's step is about 100 times x's
    assert!(p[1].q.scale > 50.0 * p[0].q.scale, "{:?} vs {:?}", p[0].q, p[1].q);
    assert_eq!(model.input_parts(), p);
    // the table survives the encoding
    let back = Model::decode(&model.encode()).unwrap();
    assert_eq!((back.io(), back.digest()), (model.io(), model.digest()));
    // each input quantized at its own parameters
    let q = imported.quantize_input(&xs[0]).unwrap();
    for (k, &v) in xs[0].iter().enumerate() {
        let part = if k < 8 { &p[0] } else { &p[1] };
        assert_eq!(q.data[k], part.q.quantize(v as f64), "entry {k}");
    }
    let out_q = imported.output_params();
    for x in &xs {
        let float = imported.reference.output(x).unwrap();
        let w = prove_and_verify(model, &imported.quantize_input(x).unwrap(), "two_inputs");
        let ours = onnx::dequantize_output(model, w.output());
        let worst = float.iter().zip(&ours).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst <= 6.0 * out_q.scale, "|Δ| {worst}, step {}", out_q.scale);
    }
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    assert!(acc.argmax_agreement >= 0.9, "{acc:?}");
}

#[test]
fn a_tampered_proof_and_another_second_input_are_rejected() {
    let xs = samples(16, 43);
    let imported = import(&xs);
    let model = &imported.model;
    let input = imported.quantize_input(&xs[0]).unwrap();
    let proof = honest(model, &input);
    // a flipped byte in the middle of the proof
    let mut bad = proof.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0x01;
    rejected(model, &input, &bad, "a flipped proof byte");
    // the same proof against another second input (one entry of y), and another first one
    for k in [8, 11, 0] {
        let mut other = input.clone();
        other.data[k] = if other.data[k] == 127 { 126 } else { other.data[k] + 1 };
        rejected(model, &other, &proof, &format!("input entry {k} changed"));
    }
}

#[test]
fn an_input_nothing_reads_still_takes_its_slice() {
    let proto = onnx_gen::with_inputs(
        onnx_gen::two_inputs(47),
        &[("x", &[1, 8], 1), ("unused", &[1, 2], 1), ("y", &[1, 4], 1)],
    );
    let dir = std::env::temp_dir().join(format!("gkrnet-multi-in-unused-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("unused.onnx");
    std::fs::write(&p, onnx_gen::encode(&proto)).unwrap();
    let calibration: Vec<Vec<f32>> = samples(8, 48)
        .into_iter()
        .map(|v| v[..8].iter().chain(&[0.5, 0.5]).chain(&v[8..]).copied().collect())
        .collect();
    let opts = ImportOptions { calibration: Some(calibration.clone()), ..Default::default() };
    let imported = onnx::import(&p, &opts).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let offsets: Vec<usize> = parts(&imported.model).iter().map(|p| p.offset).collect();
    assert_eq!(offsets, [0, 8, 10]);
    let input = imported.quantize_input(&calibration[0]).unwrap();
    let proof = honest(&imported.model, &input);
    // the unused slice is bound too
    let mut other = input.clone();
    other.data[9] = if other.data[9] == 127 { 126 } else { other.data[9] + 1 };
    rejected(&imported.model, &other, &proof, "the unused input changed");
}

#[test]
fn an_integer_input_is_refused_naming_it() {
    // int32: not an input type gkrnet imports
    let proto =
        onnx_gen::with_inputs(onnx_gen::two_inputs(44), &[("x", &[1, 8], 1), ("y", &[1, 4], 6)]);
    let e = onnx::Graph::from_proto(&proto).unwrap_err().to_string();
    assert!(e.contains("the input \"y\" has element type 6"), "{e}");
    assert!(e.contains("float inputs and int64"), "{e}");
    // int64 that no embedding Gather reads (token ids only select embedding rows)
    let proto =
        onnx_gen::with_inputs(onnx_gen::two_inputs(44), &[("x", &[1, 8], 1), ("y", &[1, 4], 7)]);
    assert!(onnx::Graph::from_proto(&proto).unwrap().inputs[1].integer);
    let dir = std::env::temp_dir().join(format!("gkrnet-int-input-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("ids.onnx");
    std::fs::write(&p, onnx_gen::encode(&proto)).unwrap();
    let e = onnx::import(&p, &ImportOptions::default()).unwrap_err().to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(e.contains("the int64 input \"y\" is not read by one Gather"), "{e}");
}

#[test]
fn input_shapes_of_several_inputs() {
    let g = onnx::Graph::from_proto(&onnx_gen::two_inputs(45)).unwrap();
    assert_eq!(g.input_shapes(None).unwrap(), [vec![1, 8], vec![1, 4]]);
    assert_eq!(g.default_input(), [12]);
    assert_eq!(g.input_shapes(Some(&[12])).unwrap(), [vec![1, 8], vec![1, 4]]);
    let e = g.input_shapes(Some(&[1, 8])).unwrap_err().to_string();
    assert!(e.contains("\"x\" 1×8, \"y\" 1×4"), "{e}");
}

fn gkrnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gkrnet")).args(args).output().expect("run gkrnet")
}

fn write_npy(path: &Path, data: &[f32], shape: &[u64]) {
    use npyz::WriterBuilder;
    let file = std::fs::File::create(path).unwrap();
    let mut w =
        npyz::WriteOptions::new().default_dtype().shape(shape).writer(file).begin_nd().unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn the_cli_proves_and_verifies_an_ezkl_input_of_two_lists() {
    let dir = std::env::temp_dir().join(format!("gkrnet-multi-in-cli-{}", std::process::id()));
    let onnx_path = write_model(&dir);
    let gkrm = dir.join("two_inputs.gkrm");
    let o = gkrnet(&["compile", s(&onnx_path), "-o", s(&gkrm), "--input-range", "0", "100"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let x = samples(1, 46).remove(0);
    let json = dir.join("in.json");
    let lists = serde_json::json!({"input_data": [x[..8].to_vec(), x[8..].to_vec()]});
    std::fs::write(&json, lists.to_string()).unwrap();
    let proof = dir.join("p.gkr");
    let o = gkrnet(&[
        "prove",
        "--model",
        s(&gkrm),
        "--input",
        s(&json),
        "--proof",
        s(&proof),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["inputs"][0]["name"], "x");
    assert_eq!(v["inputs"][1]["shape"], serde_json::json!([1, 4]));
    assert_eq!(v["output"].as_array().unwrap().len(), 3);
    let o = gkrnet(&[
        "verify",
        "--model",
        s(&gkrm),
        "--input",
        s(&json),
        "--proof",
        s(&proof),
        "--json",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["verified"], true);
    assert_eq!(r["output_int"], v["output_int"]);
    assert_eq!(r["inputs"], v["inputs"]);
    // the text names the inputs
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&json), "--proof", s(&proof)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("x [1,8], y [1,4]"), "{text}");
    // another second input: rejected
    let mut other = x.clone();
    other[9] += 50.0;
    let lists = serde_json::json!({"input_data": [other[..8].to_vec(), other[8..].to_vec()]});
    let json2 = dir.join("other.json");
    std::fs::write(&json2, lists.to_string()).unwrap();
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&json2), "--proof", s(&proof)]);
    assert!(!o.status.success(), "{}", String::from_utf8_lossy(&o.stdout));
    // one .npy per input, comma-separated: the same proof verifies
    let (xa, ya) = (dir.join("x.npy"), dir.join("y.npy"));
    write_npy(&xa, &x[..8], &[1, 8]);
    write_npy(&ya, &x[8..], &[1, 4]);
    let both = format!("{},{}", s(&xa), s(&ya));
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", &both, "--proof", s(&proof)]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let both = format!("{},{}", s(&ya), s(&xa));
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", &both, "--proof", s(&proof)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("file 0 has shape [4]"), "{err}");
    // another number of lists than inputs: an error naming the inputs
    let lists =
        serde_json::json!({"input_data": [x[..4].to_vec(), x[4..8].to_vec(), x[8..].to_vec()]});
    let three = dir.join("three.json");
    std::fs::write(&three, lists.to_string()).unwrap();
    let o = gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&three), "--proof", s(&proof)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success() && err.contains("has 3 lists; the model takes 2 inputs"), "{err}");
    // a list of the wrong length: an error naming the input and both shapes
    let lists = serde_json::json!({"input_data": [x[..8].to_vec(), x[8..11].to_vec()]});
    let bad = dir.join("bad.json");
    std::fs::write(&bad, lists.to_string()).unwrap();
    let o = gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&bad), "--proof", s(&proof)]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{err}");
    assert!(err.contains("\"y\"") && err.contains("[1, 4]") && err.contains("[3]"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
