//! The binary as a user runs it: files in and out, exit codes 0 / 1 / 2, messages that name the
//! problem.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;
#[cfg(feature = "onnx")]
#[path = "support/onnx_gen.rs"]
mod onnx_gen;

use common::oracles::naive_matmul;
use common::*;
use npyz::WriterBuilder;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn gkrnet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gkrnet")).args(args).output().expect("run gkrnet")
}

fn write_npy<T: npyz::AutoSerialize + Copy>(path: &Path, data: &[T], shape: &[u64]) {
    let file = std::fs::File::create(path).unwrap();
    let mut w =
        npyz::WriteOptions::new().default_dtype().shape(shape).writer(file).begin_nd().unwrap();
    w.extend(data.iter().copied()).unwrap();
    w.finish().unwrap();
}

fn read_npy_i32(path: &Path) -> (Vec<i32>, Vec<u64>) {
    let npy = npyz::NpyFile::new(std::fs::File::open(path).unwrap()).unwrap();
    let shape = npy.shape().to_vec();
    (npy.into_vec().unwrap(), shape)
}

/// A scratch directory unique to the test.
fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gkrnet-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `gkrnet matmul prove` on files.
fn prove_files(a: &Path, b: &Path, c_out: &Path, proof: &Path) -> Output {
    gkrnet(&["matmul", "prove", "--a", s(a), "--b", s(b), "--c-out", s(c_out), "--proof", s(proof)])
}

/// `gkrnet matmul verify` on files.
fn verify_files(a: &Path, b: &Path, c: &Path, proof: &Path) -> Output {
    gkrnet(&["matmul", "verify", "--a", s(a), "--b", s(b), "--c", s(c), "--proof", s(proof)])
}

/// Writes A (m×n) and B (n×k) and returns their paths and data.
fn inputs(d: &Path, m: usize, n: usize, k: usize) -> (PathBuf, PathBuf, Vec<i8>, Vec<i8>) {
    let mut rng = rng(99);
    let (a, b) = (random_i8(&mut rng, m * n), random_i8(&mut rng, n * k));
    let (pa, pb) = (d.join("a.npy"), d.join("b.npy"));
    write_npy(&pa, &a, &[m as u64, n as u64]);
    write_npy(&pb, &b, &[n as u64, k as u64]);
    (pa, pb, a, b)
}

#[test]
fn matmul_prove_then_verify_on_files() {
    let d = dir("roundtrip");
    let (m, n, k) = (37, 100, 5);
    let (pa, pb, a, b) = inputs(&d, m, n, k);
    let (pc, pp) = (d.join("c.npy"), d.join("p.bin"));
    let out = prove_files(&pa, &pb, &pc, &pp);
    assert!(out.status.success(), "{}", stderr(&out));
    let (c, shape) = read_npy_i32(&pc);
    assert_eq!(shape, vec![m as u64, k as u64]);
    assert_eq!(c, naive_matmul(&a, &b, m, n, k));
    let out = verify_files(&pa, &pb, &pc, &pp);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("accepted"));

    // a corrupted proof: exit 1 with the reason
    let mut proof = std::fs::read(&pp).unwrap();
    let last = proof.len() - 3;
    proof[last] ^= 0x10;
    std::fs::write(&pp, &proof).unwrap();
    let out = verify_files(&pa, &pb, &pc, &pp);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("proof rejected"), "{}", stderr(&out));

    // a wrong C: exit 1
    let (mut c, _) = read_npy_i32(&pc);
    c[0] += 1;
    write_npy(&pc, &c, &[m as u64, k as u64]);
    let out = verify_files(&pa, &pb, &pc, &pp);
    assert_eq!(out.status.code(), Some(1));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn bad_inputs_exit_2_with_a_message_naming_the_problem() {
    let d = dir("bad");
    let (pa, pb, _, _) = inputs(&d, 4, 6, 3);
    let (pc, pp) = (d.join("c.npy"), d.join("p.bin"));
    // a float matrix
    let pf = d.join("float.npy");
    write_npy(&pf, &[1.0f32; 18], &[6, 3]);
    let out = prove_files(&pa, &pf, &pc, &pp);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("float.npy") && stderr(&out).contains("int8"),
        "{}",
        stderr(&out)
    );
    // mismatched inner dimensions
    let out = prove_files(&pa, &pa, &pc, &pp);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("4×6"), "{}", stderr(&out));
    // a 1-D array
    let pv = d.join("vector.npy");
    write_npy(&pv, &[1i8; 6], &[6]);
    let out = prove_files(&pa, &pv, &pc, &pp);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2-D"), "{}", stderr(&out));
    // a missing file and an unknown flag
    let out = verify_files(Path::new("/nonexistent.npy"), &pb, &pc, &pp);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(gkrnet(&["matmul", "prove", "--bogus"]).status.code(), Some(2));
    // C of the wrong shape on verify
    let out = prove_files(&pa, &pb, &pc, &pp);
    assert!(out.status.success(), "{}", stderr(&out));
    write_npy(&pc, &[0i32; 4], &[2, 2]);
    let out = verify_files(&pa, &pb, &pc, &pp);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("2×2"), "{}", stderr(&out));
    std::fs::remove_dir_all(&d).ok();
}

#[test]
fn matmul_bench_json_is_one_object_with_the_interface_keys() {
    let out = gkrnet(&["matmul", "bench", "--m", "64", "--n", "33", "--k", "1", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.trim().lines().count(), 1);
    let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
    let obj = v.as_object().unwrap();
    let mut keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["freivalds_ms", "gemm_ms", "proof_bytes", "prove_ms", "verify_ms"]);
    assert!(obj["proof_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn sumcheck_command_proves_and_verifies() {
    let out = gkrnet(&["sumcheck", "--num-vars", "10", "--factors", "3", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(gkrnet(&["sumcheck", "--factors", "7"]).status.code(), Some(2));
}

#[test]
fn model_command_proves_and_verifies_a_builtin_model() {
    let out = gkrnet(&["model", "--name", "mlp-act", "--seed", "3", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"], "mlp-act");
    assert_eq!(v["accepted"], true);
    for key in ["prove_ms", "verify_ms", "proof_bytes", "peak_rss_mib"] {
        assert!(v[key].as_f64().is_some_and(|x| x > 0.0), "{key}: {v}");
    }
    assert_eq!(v["output"].as_array().map(Vec::len), Some(20));
    let out = gkrnet(&["model", "--name", "resnet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("unknown model `resnet`"), "{}", stderr(&out));
}

#[cfg(feature = "onnx")]
fn models_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

/// Runs gkrnet, which must exit with `code` and name every one of `needles` on stderr.
#[cfg(feature = "onnx")]
fn fails(args: &[&str], code: i32, needles: &[&str]) -> Output {
    let o = gkrnet(args);
    assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
    for n in needles {
        assert!(stderr(&o).contains(n), "{args:?}: {n:?} missing in {}", stderr(&o));
    }
    o
}

/// `gkrnet compile onnx -o out` (with any extra options), which must succeed.
#[cfg(feature = "onnx")]
fn compile(onnx: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["compile", s(onnx), "-o", s(out)];
    args.extend_from_slice(extra);
    let o = gkrnet(&args);
    assert_eq!(o.status.code(), Some(0), "compile {}: {}", onnx.display(), stderr(&o));
    o
}

/// Starts `gkrnet ARGS` (a server) and waits until `addr` accepts connections.
#[cfg(feature = "onnx")]
fn spawn_server(args: &[&str], addr: &str) -> std::process::Child {
    let child = Command::new(env!("CARGO_BIN_EXE_gkrnet"))
        .args(args)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let up = (0..200).any(|_| {
        std::net::TcpStream::connect(addr).is_ok() || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            false
        }
    });
    assert!(up, "the server never listened on {addr}");
    child
}

#[cfg(feature = "onnx")]
#[test]
fn compile_writes_a_model_whose_digest_it_prints() {
    let d = dir("compile");
    let m = models_dir();
    for (name, calibration) in [
        ("digits_cnn", "digits_calibration.npy"),
        ("digits_mlp_qop", "digits_calibration.npy"),
        ("digits_cnn_qdq", "digits_calibration.npy"),
        ("lenet5_seeded", "lenet5_seeded_inputs.npy"),
        ("ops_cnn", "ops_cnn_inputs.npy"),
    ] {
        let out = d.join(format!("{name}.gkrm"));
        let o = gkrnet(&[
            "compile",
            s(&m.join(format!("{name}.onnx"))),
            "-o",
            s(&out),
            "--calibration",
            s(&m.join(calibration)),
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let model = gkrnet::circuit::Model::decode(&std::fs::read(&out).unwrap()).unwrap();
        let hex: String = model.digest().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(v["digest"], hex.as_str(), "{name}");
        assert!(v["accuracy"]["argmax_agreement"].as_f64().unwrap() >= 0.9, "{name}: {v}");
        assert!(v["parameters"].as_u64().unwrap() > 0);
    }
    // labels add float and int8 accuracy
    let o = gkrnet(&[
        "compile",
        s(&m.join("digits_mlp.onnx")),
        "-o",
        s(&d.join("mlp.gkrm")),
        "--calibration",
        s(&m.join("digits_calibration.npy")),
        "--inputs",
        s(&m.join("digits_test_all_inputs.npy")),
        "--labels",
        s(&m.join("digits_test_all_labels.npy")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("digest") && text.contains("accuracy: float"), "{text}");
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(feature = "onnx")]
#[test]
fn compile_rejects_bad_models_with_exit_2() {
    let d = dir("compile-bad");
    let m = models_dir();
    let out = d.join("x.gkrm");
    fails(&["compile", s(&m.join("unsupported_op.onnx")), "-o", s(&out)], 2, &["Cos", "cos_1"]);
    let junk = d.join("junk.onnx");
    std::fs::write(&junk, b"\x00\x01not onnx at all").unwrap();
    fails(&["compile", s(&junk), "-o", s(&out)], 2, &["not an ONNX model"]);
    let bytes = std::fs::read(m.join("digits_cnn.onnx")).unwrap();
    let cut = d.join("cut.onnx");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    fails(&["compile", s(&cut), "-o", s(&out)], 2, &["not an ONNX model"]);
    fails(
        &["compile", s(&m.join("digits_cnn.onnx")), "-o", s(&out), "--input-shape", "1,1,9,9"],
        2,
        &["1×1×8×8"],
    );
    fails(&["compile", s(&d.join("missing.onnx")), "-o", s(&out)], 2, &["missing.onnx"]);
    assert!(!out.exists(), "no model is written on an error");
    let _ = std::fs::remove_dir_all(&d);
}

/// Writes row `i` of a float .npy of inputs as its own .npy of shape `dims`.
#[cfg(feature = "onnx")]
fn input_row(from: &Path, i: usize, dims: &[u64], to: &Path) {
    let len = dims.iter().product::<u64>() as usize;
    let (_, data) = gkrnet::onnx::read_npy(from).unwrap();
    let row: Vec<f32> = data[i * len..(i + 1) * len].iter().map(|&v| v as f32).collect();
    write_npy(to, &row, dims);
}

#[cfg(feature = "onnx")]
#[test]
fn prove_and_verify_every_model_fixture() {
    let d = dir("prove-verify");
    let m = models_dir();
    let fixtures = [
        ("digits_mlp", "digits_test_inputs.npy", &[1, 64][..]),
        ("digits_mlp_qop", "digits_test_inputs.npy", &[1, 64]),
        ("digits_mlp_qdq", "digits_test_inputs.npy", &[1, 64]),
        ("digits_cnn", "digits_test_inputs.npy", &[1, 1, 8, 8]),
        ("digits_cnn_qop", "digits_test_inputs.npy", &[1, 1, 8, 8]),
        ("digits_cnn_qdq", "digits_test_inputs.npy", &[1, 1, 8, 8]),
        ("lenet5_seeded", "lenet5_seeded_inputs.npy", &[1, 1, 28, 28]),
        ("ops_cnn", "ops_cnn_inputs.npy", &[1, 1, 8, 8]),
        ("ops_mlp", "ops_mlp_inputs.npy", &[1, 64]),
    ];
    for (name, inputs, dims) in fixtures {
        let onnx = m.join(format!("{name}.onnx"));
        let x = d.join(format!("{name}_x.npy"));
        input_row(&m.join(inputs), 1, dims, &x);
        let (proof, out) = (d.join(format!("{name}.gkr")), d.join(format!("{name}_out.json")));
        let calibration = m.join(inputs);
        let o = gkrnet(&[
            "prove",
            "--model",
            s(&onnx),
            "--input",
            s(&x),
            "--proof",
            s(&proof),
            "--output",
            s(&out),
            "--calibration",
            s(&calibration),
        ]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        assert_eq!(v["output"].as_array().unwrap().len(), 10, "{name}");
        assert_eq!(v["output_int"].as_array().unwrap().len(), 10, "{name}");
        // the verifier recompiles the ONNX file with the same calibration: same digest
        let o = gkrnet(&[
            "verify",
            "--model",
            s(&onnx),
            "--input",
            s(&x),
            "--proof",
            s(&proof),
            "--calibration",
            s(&calibration),
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
        let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(r["verified"], true);
        assert_eq!(r["output_int"], v["output_int"], "{name}");
    }
    // a .gkrm on both sides, and ezkl's JSON input
    let gkrm = d.join("cnn.gkrm");
    let o = gkrnet(&[
        "compile",
        s(&m.join("digits_cnn.onnx")),
        "-o",
        s(&gkrm),
        "--calibration",
        s(&m.join("digits_calibration.npy")),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (_, data) = gkrnet::onnx::read_npy(&m.join("digits_test_inputs.npy")).unwrap();
    let json = d.join("x.json");
    std::fs::write(&json, serde_json::json!({"input_data": [data[..64].to_vec()]}).to_string())
        .unwrap();
    let proof = d.join("cnn.gkr");
    let o = gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&json), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&json), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // an integer input is taken as int8 values
    let ints = d.join("x_int.npy");
    write_npy(&ints, &(0..64).map(|i| (i * 3 - 100) as i8).collect::<Vec<_>>(), &[1, 1, 8, 8]);
    let o = gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&ints), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&ints), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // the verifier with another input rejects
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&json), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(feature = "onnx")]
#[test]
fn tampered_proofs_and_other_models_exit_1() {
    let d = dir("tampered");
    let m = models_dir();
    let gkrm = d.join("mlp.gkrm");
    compile(&m.join("digits_mlp_qop.onnx"), &gkrm, &[]);
    let x = d.join("x.npy");
    input_row(&m.join("digits_test_inputs.npy"), 2, &[1, 64], &x);
    let proof = d.join("p.gkr");
    let o = gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let honest = std::fs::read(&proof).unwrap();
    let bad = d.join("bad.gkr");
    for at in [0, 5, 10, 60, honest.len() / 3, honest.len() / 2, honest.len() - 1] {
        let mut b = honest.clone();
        b[at] ^= 0x20;
        std::fs::write(&bad, &b).unwrap();
        let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&bad)]);
        assert_eq!(o.status.code(), Some(1), "byte {at}: {}", stderr(&o));
        assert!(stderr(&o).contains("proof rejected"), "{}", stderr(&o));
    }
    std::fs::write(&bad, &honest[..honest.len() - 9]).unwrap();
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&bad)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // the proof against another model: the digest mismatch is named
    let other = d.join("other.gkrm");
    compile(&m.join("digits_mlp_qdq.onnx"), &other, &[]);
    fails(
        &["verify", "--model", s(&other), "--input", s(&x), "--proof", s(&proof)],
        1,
        &["digest"],
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(feature = "onnx")]
#[test]
fn bad_prove_inputs_exit_2_naming_the_problem() {
    let d = dir("prove-bad");
    let m = models_dir();
    let proof = d.join("p.gkr");
    let x = d.join("x.npy");
    input_row(&m.join("digits_test_inputs.npy"), 0, &[1, 1, 8, 8], &x);
    let cnn = m.join("digits_cnn_qop.onnx");
    // a missing file
    fails(
        &["prove", "--model", s(&cnn), "--input", s(&d.join("nope.npy")), "--proof", s(&proof)],
        2,
        &["nope.npy"],
    );
    // a wrong input shape
    let wrong = d.join("wrong.npy");
    write_npy(&wrong, &[0.5f32; 81], &[1, 1, 9, 9]);
    let o = gkrnet(&["prove", "--model", s(&cnn), "--input", s(&wrong), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("[1, 1, 9, 9]") && stderr(&o).contains("[1, 1, 8, 8]"),
        "{}",
        stderr(&o)
    );
    // a non-ONNX model file
    let junk = d.join("junk.onnx");
    std::fs::write(&junk, b"definitely not a protobuf \xff\xff\xff").unwrap();
    fails(
        &["prove", "--model", s(&junk), "--input", s(&x), "--proof", s(&proof)],
        2,
        &["not an ONNX model"],
    );
    // an unsupported op
    fails(
        &[
            "prove",
            "--model",
            s(&m.join("unsupported_op.onnx")),
            "--input",
            s(&x),
            "--proof",
            s(&proof),
        ],
        2,
        &["Cos", "cos_1"],
    );
    // a missing proof file for verify
    fails(
        &["verify", "--model", s(&cnn), "--input", s(&x), "--proof", s(&d.join("none.gkr"))],
        2,
        &["none.gkr"],
    );
    assert!(!proof.exists());
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(feature = "onnx")]
#[test]
fn demo_json_says_verified() {
    let o = gkrnet(&["demo", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    for key in ["model", "prove_ms", "verify_ms", "proof_bytes", "peak_rss_bytes"] {
        assert!(!v[key].is_null(), "{key} missing in {v}");
    }
    assert!(v["proof_bytes"].as_u64().unwrap() > 0);
    assert_eq!(v["predicted"], v["label"]);
    // text output names the figures
    let o = gkrnet(&["demo", "--index", "3"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    for word in ["model", "predicted", "prove", "verify", "proof", "peak RSS"] {
        assert!(text.contains(word), "{word} missing in {text}");
    }
}

#[cfg(feature = "onnx")]
#[test]
fn bench_json_parses_and_inspect_reads_models_and_proofs() {
    let d = dir("bench");
    let m = models_dir();
    for f in [
        "digits_mlp_qop.onnx",
        "digits_test_inputs.npy",
        "digits_test_labels.npy",
        "digits_calibration.npy",
        "unsupported_op.onnx",
    ] {
        std::fs::copy(m.join(f), d.join(f)).unwrap();
    }
    // a model with its own input as models/make_zoo.py names it, `<model>_input.npy`
    std::fs::copy(m.join("digits_mlp.onnx"), d.join("zoo_mlp.onnx")).unwrap();
    input_row(&m.join("digits_test_inputs.npy"), 3, &[1, 64], &d.join("zoo_mlp_input.npy"));
    let o = gkrnet(&["bench", "--models", s(&d), "--runs", "1", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["runs"], 1);
    assert!(v["machine"]["cpu"].is_string() && v["machine"]["threads"].as_u64().unwrap() >= 1);
    let rows = v["models"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["model"], "digits_mlp_qop");
    assert!(rows[0]["prove_ms"].as_f64().unwrap() > 0.0);
    assert_eq!(rows[1]["model"], "zoo_mlp");
    assert_eq!(rows[1]["accuracy"]["samples"], 1, "its one input, {}", rows[1]);
    // the per-phase breakdown: every layer's sumcheck summed into one entry, the lookups apart
    let phases: Vec<&str> = rows[0]["phases_ms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["phase"].as_str().unwrap())
        .collect();
    for want in ["integer reference", "lookups", "layer sumchecks"] {
        assert!(phases.contains(&want), "{phases:?}");
    }
    assert!(!phases.iter().any(|p| p.starts_with("layer ") && *p != "layer sumchecks"));
    assert_eq!(v["skipped"][0]["model"], "unsupported_op");
    let o = gkrnet(&["bench", "--models", s(&d), "--runs", "1"]);
    assert_eq!(o.status.code(), Some(0));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("| digits_mlp_qop |") && text.contains("| zoo_mlp |"), "{text}");
    assert!(text.contains("Phases of the proof") && text.contains("- zoo_mlp: "), "{text}");
    // inspect: an ONNX file, its compiled model, a proof
    let o = gkrnet(&["inspect", s(&d.join("unsupported_op.onnx"))]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("NOT SUPPORTED"));
    let gkrm = d.join("m.gkrm");
    compile(&d.join("digits_mlp_qop.onnx"), &gkrm, &[]);
    let o = gkrnet(&["inspect", s(&gkrm), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["model"]["layers"].as_array().unwrap().len() >= 4);
    let x = d.join("x.npy");
    input_row(&m.join("digits_test_inputs.npy"), 0, &[1, 64], &x);
    let p = d.join("p.gkr");
    assert_eq!(
        gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&p)]).status.code(),
        Some(0)
    );
    let o = gkrnet(&["inspect", s(&p), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["kind"], "proof");
    let total: u64 =
        v["parts"].as_array().unwrap().iter().map(|p| p["bytes"].as_u64().unwrap()).sum();
    assert!(total > 0 && total < v["bytes"].as_u64().unwrap());
    let _ = std::fs::remove_dir_all(&d);
}

/// A free loopback port (bound, read, released).
#[cfg(feature = "onnx")]
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[cfg(feature = "onnx")]
#[test]
fn serve_and_connect_verify_interactively_and_ctrl_c_stops_the_server() {
    let d = dir("serve");
    let m = models_dir();
    let gkrm = d.join("cnn.gkrm");
    compile(&m.join("digits_cnn_qop.onnx"), &gkrm, &[]);
    let x = d.join("x.npy");
    input_row(&m.join("digits_test_inputs.npy"), 4, &[1, 1, 8, 8], &x);
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = spawn_server(&["serve", "--model", s(&gkrm), "--listen", &addr], &addr);
    let out = d.join("out.json");
    let o = gkrnet(&[
        "connect",
        "--model",
        s(&gkrm),
        "--input",
        s(&x),
        "--server",
        &addr,
        "--output",
        s(&out),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert!(v["round_trips"].as_u64().unwrap() > 10);
    // the same output as the non-interactive proof
    let p = d.join("p.gkr");
    let o2 = gkrnet(&["prove", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&p), "--json"]);
    let v2: serde_json::Value = serde_json::from_slice(&o2.stdout).unwrap();
    assert_eq!(v["output_int"], v2["output_int"]);
    // a client holding another model is refused: exit 2 with the reason
    let other = d.join("other.gkrm");
    compile(&m.join("digits_cnn_qdq.onnx"), &other, &[]);
    fails(&["connect", "--model", s(&other), "--input", s(&x), "--server", &addr], 2, &["digest"]);
    // Ctrl-C: the server stops cleanly and says what it served
    let pid = server.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let status = server.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let mut log = String::new();
    std::io::Read::read_to_string(server.stderr.as_mut().unwrap(), &mut log).unwrap();
    assert!(log.contains("1 sessions proved"), "{log}");
    // nobody listening: exit 2
    let o = gkrnet(&[
        "connect",
        "--model",
        s(&gkrm),
        "--input",
        s(&x),
        "--server",
        &addr,
        "--timeout",
        "2",
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(feature = "onnx")]
#[test]
fn matmul_serve_and_connect() {
    let d = dir("mserve");
    let (a_path, b_path, a, b) = inputs(&d, 33, 70, 21);
    let addr = format!("127.0.0.1:{}", free_port());
    let mut server = spawn_server(&["matmul", "serve", "--listen", &addr, "-q"], &addr);
    let c_out = d.join("c.npy");
    let o = gkrnet(&[
        "matmul",
        "connect",
        "--a",
        s(&a_path),
        "--b",
        s(&b_path),
        "--server",
        &addr,
        "--c-out",
        s(&c_out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let (c, shape) = read_npy_i32(&c_out);
    assert_eq!(shape, vec![33, 21]);
    assert_eq!(c, naive_matmul(&a, &b, 33, 70, 21));
    let _ = Command::new("kill").args(["-INT", &server.id().to_string()]).status();
    assert_eq!(server.wait().unwrap().code(), Some(0));
    let _ = std::fs::remove_dir_all(&d);
}

#[cfg(feature = "onnx")]
#[test]
fn model_commitment_commit_prove_verify_without_the_weights() {
    let d = dir("commitment");
    let m = models_dir();
    let gkrm = d.join("lenet.gkrm");
    compile(&m.join("lenet5_seeded.onnx"), &gkrm, &[]);
    let x = d.join("x.npy");
    input_row(&m.join("lenet5_seeded_inputs.npy"), 0, &[1, 1, 28, 28], &x);
    let gkrc = d.join("lenet.gkrc");
    let o = gkrnet(&["commit", "--model", s(&gkrm), "-o", s(&gkrc), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let c: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(c["pcs"], "provable");
    assert!(c["committed_weights"].as_u64().unwrap() >= 48_000, "{c}");
    assert!(std::fs::metadata(&gkrc).unwrap().len() < std::fs::metadata(&gkrm).unwrap().len());
    let proof = d.join("p.gkr");
    let prove = |advice: &str| {
        let o = gkrnet(&[
            "prove",
            "--model",
            s(&gkrm),
            "--commitment",
            s(&gkrc),
            "--input",
            s(&x),
            "--proof",
            s(&proof),
            "--advice",
            advice,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{advice}: {}", stderr(&o));
        let p: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(p["advice"], advice);
        p
    };
    let p = prove("provable");
    // the verifier holds the commitment only
    let o = gkrnet(&[
        "verify",
        "--commitment",
        s(&gkrc),
        "--input",
        s(&x),
        "--proof",
        s(&proof),
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["verified"], true);
    assert_eq!(v["weights_committed"], true);
    assert_eq!(v["output_int"], p["output_int"]);
    // the digest verify prints is the commitment's (root and parameters included), the one
    // `commit` and `prove` print; --expect-digest compares it
    assert_eq!((&v["digest"], &v["root"]), (&c["digest"], &c["root"]));
    assert_eq!(p["digest"], c["digest"]);
    assert_ne!(c["digest"], c["model_digest"]);
    let expect = |digest: &str| {
        gkrnet(&[
            "verify",
            "--commitment",
            s(&gkrc),
            "--input",
            s(&x),
            "--proof",
            s(&proof),
            "--expect-digest",
            digest,
        ])
    };
    assert_eq!(expect(c["digest"].as_str().unwrap()).status.code(), Some(0));
    let o = expect(c["model_digest"].as_str().unwrap());
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("the verifier expects"), "{}", stderr(&o));
    assert_eq!(expect("12ab").status.code(), Some(2), "a malformed digest is bad usage");
    // with the full model instead, the proof's commitment is named
    fails(
        &["verify", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&proof)],
        1,
        &["--commitment"],
    );
    // conjectured parameters need --allow-conjectured
    prove("conjectured");
    let args = ["verify", "--commitment", s(&gkrc), "--input", s(&x), "--proof", s(&proof)];
    fails(&args, 1, &["conjectured"]);
    let mut allowed = args.to_vec();
    allowed.push("--allow-conjectured");
    assert_eq!(gkrnet(&allowed).status.code(), Some(0));
    // a model commitment naming parameters other than the two sets is refused
    let mut cf = gkrnet::gkr::file::CommitmentFile::decode(&std::fs::read(&gkrc).unwrap()).unwrap();
    cf.commitment.params.queries = 2;
    let weak_c = d.join("weak.gkrc");
    std::fs::write(&weak_c, cf.encode()).unwrap();
    let mut args = allowed.clone();
    args[2] = s(&weak_c);
    fails(&args, 1, &["model commitment", "neither the provable nor the conjectured"]);
    // a committed-advice proof of the full model verifies with --model
    let o = gkrnet(&[
        "prove",
        "--model",
        s(&gkrm),
        "--input",
        s(&x),
        "--proof",
        s(&proof),
        "--advice",
        "provable",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = gkrnet(&["verify", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // a proof file naming weaker parameters than the provable set (one query, no grinding) is
    // refused before it is read, even with --allow-conjectured: a prover may not pick them
    let mut file = gkrnet::gkr::ProofFile::decode(&std::fs::read(&proof).unwrap()).unwrap();
    file.advice = gkrnet::gkr::AdviceMode::Committed(gkrnet::pcs::basefold::Params {
        queries: 1,
        pow_bits: 0,
        ..gkrnet::pcs::basefold::Params::PROVABLE
    });
    let weak = d.join("weak.gkr");
    std::fs::write(&weak, file.encode()).unwrap();
    for extra in [None, Some("--allow-conjectured")] {
        let mut args = vec!["verify", "--model", s(&gkrm), "--input", s(&x), "--proof", s(&weak)];
        args.extend(extra);
        fails(&args, 1, &["neither the provable nor the conjectured", "1 queries"]);
    }
    let o = gkrnet(&["inspect", s(&proof), "--json"]);
    let i: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(i["advice"], "provable");
    let o = gkrnet(&["inspect", s(&gkrc), "--json"]);
    let i: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(i["kind"], "commitment");
    // a damaged commitment file, a commitment of other weights, a model with nothing to commit
    let mut bytes = std::fs::read(&gkrc).unwrap();
    bytes.truncate(40);
    let bad = d.join("bad.gkrc");
    std::fs::write(&bad, &bytes).unwrap();
    fails(
        &["verify", "--commitment", s(&bad), "--input", s(&x), "--proof", s(&proof)],
        2,
        &["bad.gkrc", "byte"],
    );
    let other = d.join("other.gkrm");
    compile(&m.join("lenet5_seeded.onnx"), &other, &["--samples", "3"]);
    fails(
        &[
            "prove",
            "--model",
            s(&other),
            "--commitment",
            s(&gkrc),
            "--input",
            s(&x),
            "--proof",
            s(&proof),
        ],
        2,
        &["commitment of another model"],
    );
    let mlp = d.join("mlp.gkrm");
    compile(&m.join("digits_mlp_qop.onnx"), &mlp, &[]);
    fails(&["commit", "--model", s(&mlp), "-o", s(&bad)], 2, &["no dense matrix"]);
    let _ = std::fs::remove_dir_all(&d);
}

/// A `.npy` file of `descr` whose header declares `shape` (a Python tuple) and holds no data.
#[cfg(feature = "onnx")]
fn npy_header_only(path: &Path, descr: &str, shape: &str) {
    let mut dict = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// Issue 17, "inputs are hostile too": a `.npy` shape whose element count overflows usize, NaN
/// or infinite floats, JSON numbers out of range (of f64, or of float32) and NaN-like strings are
/// input errors (exit 2, the file and the problem named; the library's `read_npy` returns
/// `ImportError::Input`), never a panic.
#[cfg(feature = "onnx")]
#[test]
fn hostile_input_files_exit_2_naming_the_file_and_the_problem() {
    use gkrnet::onnx::{read_npy, ImportError};
    let d = dir("hostile-inputs");
    let gkrm = d.join("cnn.gkrm");
    compile(&models_dir().join("digits_cnn_qop.onnx"), &gkrm, &[]);
    let proof = d.join("p.gkr");
    let prove = |input: &Path, needles: &[&str]| {
        fails(
            &["prove", "--model", s(&gkrm), "--input", s(input), "--proof", s(&proof)],
            2,
            needles,
        );
    };
    let input_error = |path: &Path, reason: &str| match read_npy(path) {
        Err(ImportError::Input { path: p, reason: r }) => {
            assert_eq!((p.as_str(), r.as_str()), (s(path), reason));
        }
        other => panic!("{}: {other:?}", path.display()),
    };
    // a shape of 2^32 · 2^32 · 16 elements: refused from the header, before npyz multiplies it
    let overflow = d.join("overflow.npy");
    npy_header_only(&overflow, "<f4", "(4294967296, 4294967296, 16)");
    let why =
        "shape [4294967296, 4294967296, 16] has more elements than a usize counts (it overflows)";
    input_error(&overflow, why);
    prove(&overflow, &["overflow.npy", why]);
    // so is a 2-D one given to the matrix commands
    let (a, b) = (d.join("a.npy"), d.join("b.npy"));
    npy_header_only(&a, "|i1", "(18446744073709551615, 2)");
    write_npy(&b, &[1i8; 4], &[2, 2]);
    let c = d.join("c.npy");
    let o = prove_files(&a, &b, &c, &proof);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("a.npy") && stderr(&o).contains("overflows"), "{}", stderr(&o));
    // a header whose brackets nest hundreds deep (npyz took tens of seconds on it: found by the
    // input fuzz target): refused from the header at once
    for name in ["npy-header-nested-braces-hang", "npy-header-nested-brackets-hang"] {
        let known = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/known/input").join(name);
        let nested = d.join(format!("{name}.npy"));
        std::fs::write(&nested, &std::fs::read(known).unwrap()[1..]).unwrap();
        prove(&nested, &[name, "nest deeper than 4"]);
    }
    // NaN and infinities
    let nan = d.join("nan.npy");
    let mut x = [0.25f32; 64];
    x[5] = f32::NAN;
    write_npy(&nan, &x, &[1, 1, 8, 8]);
    input_error(&nan, "value NaN at index 5 is not a finite number");
    prove(&nan, &["nan.npy", "value NaN at index 5 is not a finite number"]);
    let inf = d.join("inf.npy");
    let mut x = [0.25f64; 64];
    x[0] = f64::NEG_INFINITY;
    write_npy(&inf, &x, &[1, 1, 8, 8]);
    input_error(&inf, "value -inf at index 0 is not a finite number");
    prove(&inf, &["inf.npy", "value -inf at index 0 is not a finite number"]);
    // JSON: beyond float32, beyond f64, NaN-like strings and tokens
    let json = |name: &str, first: &str| {
        let p = d.join(name);
        let rest = vec!["0.5"; 63].join(", ");
        std::fs::write(&p, format!("{{\"input_data\": [[{first}, {rest}]]}}")).unwrap();
        p
    };
    prove(&json("f32.json", "1e39"), &["f32.json", "at index 0 is not a finite float32"]);
    prove(&json("f64.json", "1e400"), &["f64.json", "is not valid JSON", "out of range"]);
    prove(&json("string.json", "\"NaN\""), &["string.json", "\"NaN\" is not a number"]);
    prove(&json("token.json", "NaN"), &["token.json", "is not valid JSON"]);
    prove(&json("inf.json", "-Infinity"), &["inf.json", "is not valid JSON"]);
    assert!(!proof.exists());
    let _ = std::fs::remove_dir_all(&d);
}

/// The interactive client applies the library's acceptance policy before it connects: a model
/// whose digest is not the expected one is refused (exit 1) without a server.
#[test]
#[cfg(feature = "onnx")]
fn connect_refuses_a_model_with_an_unexpected_digest_before_connecting() {
    let d = dir("connect-digest");
    let m = models_dir();
    let gkrm = d.join("lenet.gkrm");
    compile(&m.join("lenet5_seeded.onnx"), &gkrm, &[]);
    let x = d.join("x.npy");
    input_row(&m.join("lenet5_seeded_inputs.npy"), 0, &[1, 1, 28, 28], &x);
    let zeros = "00".repeat(32);
    let args = ["connect", "--model", s(&gkrm), "--input", s(&x), "--server", "127.0.0.1:9"];
    let mut with = args.to_vec();
    with.extend(["--expect-digest", zeros.as_str()]);
    fails(&with, 1, &["the verifier's model has digest", "the verifier expects 0000"]);
}

#[test]
fn registry_operators_go_through_the_cli_an_argmax_model() {
    // a model built only from registry operators: inspect names their parameters, prove and
    // verify run on files, and the output is the lowest index of each line's maximum
    let d = dir("argmax");
    let mut b = gkrnet::circuit::zoo::Builder::new(vec![2, 5]);
    b.argmax(0, 1, 8).unwrap();
    let m = d.join("argmax.gkrm");
    std::fs::write(&m, b.finish("argmax").unwrap().encode()).unwrap();
    let o = gkrnet(&["inspect", s(&m)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    for line in [
        "argmax selector of the first maximum along axis 1 of [2, 5]",
        "prefix sums along axis 1 of [2, 5]",
        "dot of tensors 1 and 0 along axis 1 of [2, 5]",
        "broadcast [2, 1] → [2, 5]",
        "argmax check of 8-bit scores along axis 1 of [2, 5]",
        "argmax index of the selector along axis 1 of [2, 5]",
    ] {
        assert!(text.contains(line), "inspect lacks {line:?}:\n{text}");
    }
    let (x, p, out) = (d.join("x.npy"), d.join("p.gkr"), d.join("out.npy"));
    write_npy(&x, &[3i8, 9, 9, -4, 0, 7, 7, 1, 8, 8], &[2, 5]);
    let o = gkrnet(&[
        "prove",
        "--model",
        s(&m),
        "--input",
        s(&x),
        "--proof",
        s(&p),
        "--output",
        s(&out),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(v["output_int"], serde_json::json!([1, 3]), "{v}");
    let o = gkrnet(&["verify", "--model", s(&m), "--input", s(&x), "--proof", s(&p)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::remove_dir_all(&d).ok();
}

#[cfg(feature = "onnx")]
#[test]
fn prove_reports_the_proven_inputs_accuracy_and_warns_when_it_is_poor() {
    // calibrated on inputs like the proven one the proven output is close to the float model;
    // calibrated on [0, 1] an input 8 times larger is not, and prove says so
    let d = dir("input-accuracy");
    let m = models_dir();
    let (onnx, x, p) = (m.join("digits_mlp.onnx"), d.join("x.npy"), d.join("p.gkr"));
    input_row(&m.join("digits_test_inputs.npy"), 3, &[1, 64], &x);
    let calibration = m.join("digits_calibration.npy");
    let run = |extra: &[&str]| {
        let mut args = vec!["prove", "--model", s(&onnx), "--input", s(&x), "--proof", s(&p)];
        args.extend_from_slice(extra);
        gkrnet(&args)
    };
    let o = run(&["--calibration", s(&calibration), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let a = &v["accuracy"];
    assert_eq!(a["proven"], false, "{v}");
    assert!(a["relative_error"].as_f64().unwrap() < 0.05, "{a}");
    assert_eq!(a["argmax_agrees"], true, "{a}");
    assert!(!stderr(&o).contains("warning: the proven output is far"), "{}", stderr(&o));
    // inputs far outside the calibrated range: every value scaled by 8, calibrated on [0, 1]
    let (_, row) = gkrnet::onnx::read_npy(&x).unwrap();
    let big: Vec<f32> = row.iter().map(|&v| 8.0 * v as f32).collect();
    write_npy(&x, &big, &[1, 64]);
    // the default calibration takes the proven input in (and says so): no accuracy lost, and
    // verify, compiling the same way, accepts
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("calibrated on the input to be proven"), "{}", stderr(&o));
    assert!(!stderr(&o).contains("warning: the proven output is far"), "{}", stderr(&o));
    let o = run(&["--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["accuracy"]["relative_error"].as_f64().unwrap() < 0.05, "{v}");
    for s in v["accuracy"]["saturated"].as_array().unwrap() {
        assert!(s["count"].as_u64().unwrap() <= s["size"].as_u64().unwrap(), "{s}");
    }
    let o = gkrnet(&["verify", "--model", s(&onnx), "--input", s(&x), "--proof", s(&p)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = run(&["--calibration", s(&calibration)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("accuracy (not proven"), "{text}");
    // the layers that clamped this input are named
    assert!(text.contains("clamped (not proven): ") && text.contains("layer 1: "), "{text}");
    assert!(
        stderr(&o).contains("warning: the proven output is far from the float model"),
        "{}",
        stderr(&o)
    );
    std::fs::remove_dir_all(&d).ok();
}

#[cfg(feature = "onnx")]
#[test]
fn a_model_with_several_outputs_lists_them_in_the_json_and_the_text() {
    // label (ArgMax indices) and probabilities (a softmax outside the proof), as skl2onnx
    // writes an MLPClassifier: prove and verify list both under "outputs", by name
    let d = dir("several-outputs");
    let (onnx, x, p, out) =
        (d.join("clf.onnx"), d.join("x.npy"), d.join("p.gkr"), d.join("out.json"));
    std::fs::write(&onnx, onnx_gen::encode(&onnx_gen::mlp_classifier(41))).unwrap();
    let xs = gkrnet::onnx::random_inputs(16, 1, (0.0, 1.0), 42);
    write_npy(&x, &xs[0], &[1, 16]);
    let prove = |extra: &[&str]| {
        let mut args = vec!["prove", "--model", s(&onnx), "--input", s(&x), "--proof", s(&p)];
        args.extend_from_slice(extra);
        gkrnet(&args)
    };
    let o = prove(&["--output", s(&out), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let parts = v["outputs"].as_array().unwrap_or_else(|| panic!("no outputs: {v}"));
    assert_eq!(parts.len(), 2, "{v}");
    let (label, probs) = (&parts[0], &parts[1]);
    assert_eq!((label["name"].as_str(), label["index"].as_bool()), (Some("label"), Some(true)));
    assert_eq!(label["shape"], serde_json::json!([1]));
    assert_eq!(label["output"], label["output_int"], "indices read as themselves");
    assert_eq!((label["scale"].as_f64(), label["zero_point"].as_i64()), (Some(1.0), Some(0)));
    assert_eq!(probs["name"], "probabilities");
    assert_eq!(
        (probs["index"].as_bool(), probs["shape"].clone()),
        (Some(false), serde_json::json!([1, 5]))
    );
    let pr: Vec<f64> =
        probs["output"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!((pr.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{pr:?}");
    let best = (0..pr.len()).fold(0, |b, i| if pr[i] > pr[b] { i } else { b });
    assert_eq!(label["output_int"], serde_json::json!([best]));
    // the existing keys: the concatenated output, and the first output's prediction
    assert_eq!(v["output_int"].as_array().unwrap().len(), 6, "{v}");
    assert_eq!(v["predicted"], serde_json::json!(best), "{v}");
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(file["outputs"], v["outputs"]);
    assert_eq!((file["scale"].is_null(), file["softmax_applied"].as_bool()), (true, Some(true)));
    let o = gkrnet(&["verify", "--model", s(&onnx), "--input", s(&x), "--proof", s(&p), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!((r["verified"].as_bool(), &r["outputs"]), (Some(true), &v["outputs"]));
    // text: one line per output, by name
    let o = gkrnet(&["verify", "--model", s(&onnx), "--input", s(&x), "--proof", s(&p)]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains(&format!("output   label [{best}")), "{text}");
    assert!(text.contains("output   probabilities ["), "{text}");
    // inspect lists the parts
    let o = gkrnet(&["inspect", s(&onnx), "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let i: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let io = &i["model"]["io"];
    assert_eq!(io["outputs"][0]["name"], "label", "{io}");
    assert_eq!(io["outputs"][1]["offset"], 1, "{io}");
    std::fs::remove_dir_all(&d).ok();
}

/// A model of token ids (the GPT-2 fixture): `prove` and `verify` take the ids as an int64
/// `.npy`, and an id outside the vocabulary is a clear error with a non-zero exit.
#[test]
fn token_ids_prove_and_verify_and_bad_ids_are_errors() {
    let d = dir("token_ids");
    let model =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/transformers/gpt2_tiny.onnx");
    let compiled = d.join("gpt2.gkrm");
    let o = gkrnet(&["compile", s(&model), "--output", s(&compiled)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ids: Vec<i64> = (0..32).map(|i| (i * 37 + 11) % 256).collect();
    let input = d.join("ids.npy");
    write_npy(&input, &ids, &[1, 32]);
    let proof = d.join("p.gkr");
    let o = gkrnet(&["prove", "--model", s(&compiled), "--input", s(&input), "--proof", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o =
        gkrnet(&["verify", "--model", s(&compiled), "--input", s(&input), "--proof", s(&proof)]);
    assert!(o.status.success(), "{}", stderr(&o));
    // other ids do not verify against this proof
    let other = d.join("other.npy");
    let mut changed = ids.clone();
    changed[9] = (changed[9] + 1) % 256;
    write_npy(&other, &changed, &[1, 32]);
    let o =
        gkrnet(&["verify", "--model", s(&compiled), "--input", s(&other), "--proof", s(&proof)]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    // an id outside the vocabulary
    let bad = d.join("bad.npy");
    let mut out_of_range = ids.clone();
    out_of_range[3] = 300;
    write_npy(&bad, &out_of_range, &[1, 32]);
    let o = gkrnet(&["prove", "--model", s(&compiled), "--input", s(&bad), "--proof", s(&proof)]);
    assert!(!o.status.success());
    let e = stderr(&o);
    assert!(e.contains("token id 300") && e.contains("index 3") && e.contains("bad.npy"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
