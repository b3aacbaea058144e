//! ONNX external data (issue 19): weights in a file beside the model, as PyTorch's current
//! exporter writes them, import to the same model (same digest) as the self-contained file and
//! prove; a location outside the model's directory, a missing file, a range past the end and a
//! malformed offset are errors naming the tensor, never a read elsewhere or a panic.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::gkr;
use gkrnet::onnx::{self, ImportError, ImportOptions};
use std::path::{Path, PathBuf};
use tract_onnx::pb;

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gkrnet-external-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn entry(key: &str, value: &str) -> pb::StringStringEntryProto {
    pb::StringStringEntryProto { key: key.into(), value: value.into() }
}

/// The model with every initializer's bytes moved to `data` (appended at 64-byte-aligned
/// offsets, as onnx's `save_model(..., save_as_external_data=True)` does), `location` naming it.
fn externalize(proto: &pb::ModelProto, location: &str) -> (pb::ModelProto, Vec<u8>) {
    let mut m = proto.clone();
    let mut data = Vec::new();
    for t in &mut m.graph.as_mut().unwrap().initializer {
        while data.len() % 64 != 0 {
            data.push(0);
        }
        let offset = data.len();
        data.extend_from_slice(&t.raw_data);
        t.external_data = vec![
            entry("location", location),
            entry("offset", &offset.to_string()),
            entry("length", &t.raw_data.len().to_string()),
        ];
        t.raw_data.clear();
        t.data_location = Some(1);
    }
    (m, data)
}

fn write(d: &Path, name: &str, proto: &pb::ModelProto) -> PathBuf {
    let p = d.join(name);
    std::fs::write(&p, onnx_gen::encode(proto)).unwrap();
    p
}

#[test]
fn external_weights_import_to_the_same_model_and_prove() {
    let d = dir("same");
    let proto = onnx_gen::mlp(&[12, 10, 6], 31);
    let inline =
        onnx::import(&write(&d, "inline.onnx", &proto), &ImportOptions::default()).unwrap();
    let (ext, data) = externalize(&proto, "weights.bin");
    std::fs::write(d.join("weights.bin"), &data).unwrap();
    let imported = onnx::import(&write(&d, "ext.onnx", &ext), &ImportOptions::default()).unwrap();
    assert_eq!(imported.model.digest(), inline.model.digest());
    assert_eq!(imported.parameters, inline.parameters);
    let xs = onnx::random_inputs(12, 2, (0.0, 1.0), 5);
    let input = imported.quantize_input(&xs[0]).unwrap();
    let proof = gkr::prove_bytes(&imported.model, &input, &gkr::ProveOptions::default()).unwrap();
    gkr::verify_bytes(&inline.model, &input, &gkr::VerifyOptions::default(), &proof.proof).unwrap();
    // a subdirectory is inside the model's directory
    std::fs::create_dir_all(d.join("sub")).unwrap();
    std::fs::write(d.join("sub/w.bin"), &data).unwrap();
    let (ext, _) = externalize(&proto, "sub/w.bin");
    let sub = onnx::import(&write(&d, "sub.onnx", &ext), &ImportOptions::default()).unwrap();
    assert_eq!(sub.model.digest(), inline.model.digest());
    std::fs::remove_dir_all(&d).ok();
}

fn graph_error(e: ImportError) -> String {
    match e {
        ImportError::Graph(s) => s,
        e => panic!("expected a graph error, got {e}"),
    }
}

#[test]
fn hostile_external_data_is_refused_naming_the_tensor() {
    let d = dir("hostile");
    let proto = onnx_gen::mlp(&[12, 10, 6], 32);
    let (_, data) = externalize(&proto, "w.bin");
    std::fs::write(d.join("w.bin"), &data).unwrap();
    let import = |m: &pb::ModelProto, name: &str| {
        onnx::import(&write(&d, name, m), &ImportOptions::default()).unwrap_err()
    };
    for location in ["../w.bin", "/etc/passwd", "", "./../w.bin"] {
        let (m, _) = externalize(&proto, location);
        let e = graph_error(import(&m, "escape.onnx"));
        assert!(
            e.contains("is not a relative path inside the model's directory"),
            "{location}: {e}"
        );
    }
    // a missing file: an I/O error naming it
    let (m, _) = externalize(&proto, "missing.bin");
    match import(&m, "missing.onnx") {
        ImportError::Io { path, .. } => assert!(path.ends_with("missing.bin"), "{path}"),
        e => panic!("expected an I/O error, got {e}"),
    }
    // a range past the end, and one whose end overflows
    for (offset, length) in
        [(data.len().to_string(), "4".to_string()), ("1".into(), u64::MAX.to_string())]
    {
        let (mut m, _) = externalize(&proto, "w.bin");
        let t = &mut m.graph.as_mut().unwrap().initializer[0];
        t.external_data[1] = entry("offset", &offset);
        t.external_data[2] = entry("length", &length);
        let name = t.name.clone();
        let e = graph_error(import(&m, "past.onnx"));
        assert!(e.contains(&format!("tensor {name:?}")) && e.contains("past the end"), "{e}");
    }
    // an offset that is not a number; no location at all
    let (mut m, _) = externalize(&proto, "w.bin");
    m.graph.as_mut().unwrap().initializer[0].external_data[1] = entry("offset", "-3");
    assert!(graph_error(import(&m, "nan.onnx")).contains("is not a number"));
    let (mut m, _) = externalize(&proto, "w.bin");
    m.graph.as_mut().unwrap().initializer[0].external_data.remove(0);
    assert!(graph_error(import(&m, "noloc.onnx")).contains("without a location"));
    std::fs::remove_dir_all(&d).ok();
}

/// A model given as bytes (the Python package's `compile(bytes)`) imports to the same model as
/// its file; one that keeps weights in external files is refused (bytes have no directory to
/// read them from), never read from the working directory; empty and non-ONNX bytes are refused.
#[test]
fn models_given_as_bytes_import_alike_and_refuse_external_data() {
    let d = dir("bytes");
    let proto = onnx_gen::mlp(&[12, 10, 6], 33);
    let from_file = onnx::import(&write(&d, "m.onnx", &proto), &ImportOptions::default()).unwrap();
    let bytes = onnx_gen::encode(&proto);
    let from_bytes = onnx::import_bytes(&bytes, "m", &ImportOptions::default()).unwrap();
    assert_eq!(from_bytes.model.digest(), from_file.model.digest());
    let (ext, data) = externalize(&proto, "weights.bin");
    std::fs::write(d.join("weights.bin"), &data).unwrap();
    let e =
        onnx::import_bytes(&onnx_gen::encode(&ext), "ext", &ImportOptions::default()).unwrap_err();
    match e {
        ImportError::NotOnnx { path, reason } => {
            assert_eq!(path, "ext");
            assert!(reason.contains("external data"), "{reason}");
        }
        e => panic!("expected NotOnnx, got {e}"),
    }
    for bad in [&b""[..], b"\x08\x07garbage"] {
        let e = onnx::import_bytes(bad, "bad", &ImportOptions::default()).unwrap_err();
        assert!(matches!(e, ImportError::NotOnnx { .. }), "{e}");
    }
    std::fs::remove_dir_all(&d).ok();
}
