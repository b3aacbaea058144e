//! The importer's op registry (issue 18, item 4) answers both "is this node supported" (what
//! `gkrnet inspect` prints) and "lower this node" (the import), so the two cannot disagree:
//! - every node of every fixture that imports is reported supported;
//! - a node the registry rejects fails the import with the same op, node and reason;
//! - a MatMul of two computed tensors (attention's q·kᵀ) is reported supported and imports,
//!   while the MatMuls with constant weights beside it are supported;
//! - every op the registry lists is one the import recognizes, and no other.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::onnx::{self, Graph, ImportError, ImportOptions, NodeSupport};
use std::path::{Path, PathBuf};
use std::process::Command;
use tract_onnx::pb;

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

use onnx_gen::{attr_int, attr_ints, node, tensor, value_info};

fn models() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("gkrnet-registry-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(dir: &Path, name: &str, proto: &pb::ModelProto) -> PathBuf {
    let p = dir.join(format!("{name}.onnx"));
    std::fs::write(&p, onnx_gen::encode(proto)).unwrap();
    p
}

fn support(proto: &pb::ModelProto) -> Vec<NodeSupport> {
    onnx::support(&Graph::from_proto(proto).unwrap()).unwrap()
}

fn verdict<'a>(s: &'a [NodeSupport], node: &str) -> &'a Result<(), String> {
    &s.iter().find(|s| s.node == node).unwrap_or_else(|| panic!("no node {node}")).verdict
}

fn attr_string(name: &str, v: &str) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 3, s: v.into(), ..Default::default() }
}

/// One attention head's scores on 4 tokens of width 8: q = x·Wq, k = x·Wk, s = q·kᵀ (two
/// computed operands), y = s·Wo.
fn attention() -> pb::ModelProto {
    let w = |name: &str, r: usize, c: usize| {
        let data: Vec<f32> = (0..r * c).map(|i| ((i * 7 % 13) as f32 - 6.0) / 10.0).collect();
        tensor(name, &[r, c], &data)
    };
    let mut kt = node("Transpose", "k_t", &["k"], "kt");
    kt.attribute.push(attr_ints("perm", &[1, 0]));
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 13 }],
        producer_name: "gkrnet tests".into(),
        graph: Some(pb::GraphProto {
            name: "attention".into(),
            node: vec![
                node("MatMul", "q_proj", &["input", "wq"], "q"),
                node("MatMul", "k_proj", &["input", "wk"], "k"),
                kt,
                node("MatMul", "scores", &["q", "kt"], "s"),
                node("MatMul", "out_proj", &["s", "wo"], "output"),
            ],
            initializer: vec![w("wq", 8, 8), w("wk", 8, 8), w("wo", 4, 2)],
            input: vec![value_info("input", &[4, 8])],
            output: vec![value_info("output", &[4, 2])],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn gkrnet(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_gkrnet")).args(args).output().expect("run gkrnet")
}

#[test]
fn a_matmul_of_two_computed_tensors_is_supported_and_imports() {
    let d = dir("attention");
    let p = write(&d, "attention", &attention());
    // text: one line per node, every one supported
    let o = gkrnet(&["inspect", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8_lossy(&o.stdout);
    let line = |node: &str| -> String {
        text.lines().find(|l| l.split_whitespace().nth(1) == Some(node)).unwrap().to_string()
    };
    for n in ["q_proj", "k_proj", "k_t", "scores", "out_proj"] {
        assert!(line(n).trim_end().ends_with(" supported"), "{n}: {text}");
    }
    assert!(!text.contains("does not import"), "{text}");
    // JSON: supported, no reason
    let o = gkrnet(&["inspect", p.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let at = |name: &str| nodes.iter().find(|n| n["node"] == name).unwrap().clone();
    assert_eq!(at("scores")["supported"], true);
    assert_eq!(at("scores")["op"], "MatMul");
    assert!(at("scores")["reason"].is_null());
    // the import lowers q·kᵀ to the batched product of two computed tensors
    let imported = onnx::import(&p, &ImportOptions::default()).unwrap();
    assert!(imported.model.layers.iter().any(|l| l.kind() == "matprod"));
    let _ = std::fs::remove_dir_all(&d);
}

/// The check never rejects what the lowering handles: every node of every fixture that
/// imports is supported; the one fixture that does not names its op.
#[test]
fn every_node_of_every_imported_fixture_is_supported() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(models())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "onnx"))
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    for p in &files {
        let proto = onnx::read_proto(p).unwrap();
        let s = support(&proto);
        let name = p.file_stem().unwrap().to_string_lossy();
        if name == "unsupported_op" {
            let cos = verdict(&s, "cos_1").clone().unwrap_err();
            assert!(cos.contains("Cos has no gkrnet lowering"), "{cos}");
            continue;
        }
        for n in &s {
            assert_eq!(n.verdict, Ok(()), "{name}: {} ({})", n.node, n.op);
        }
        onnx::import(p, &ImportOptions { samples: 2, ..Default::default() })
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    for (name, proto) in [
        ("mlp", onnx_gen::mlp(&[16, 12, 10], 1)),
        ("residual", onnx_gen::residual(2)),
        ("integer_ops", onnx_gen::integer_ops(3)),
        ("concat", onnx_gen::concat(4)),
        (
            "maxpool_ceil",
            onnx_gen::conv_pool(
                5,
                [8, 8],
                "MaxPool",
                vec![
                    attr_ints("kernel_shape", &[3, 3]),
                    attr_ints("strides", &[2, 2]),
                    attr_int("ceil_mode", 1),
                ],
                [4, 4],
            ),
        ),
        ("softmax_identity", onnx_gen::softmax_then(6, &["Identity", "Dropout"])),
    ] {
        for n in support(&proto) {
            assert_eq!(n.verdict, Ok(()), "{name}: {} ({})", n.node, n.op);
        }
    }
}

/// A generated graph changed by `edit`, the node the change breaks, and a piece of the reason.
type Case = (&'static str, pb::ModelProto, &'static str, &'static str);

fn edited(mut proto: pb::ModelProto, edit: impl FnOnce(&mut pb::GraphProto)) -> pb::ModelProto {
    edit(proto.graph.as_mut().unwrap());
    proto
}

fn by_name<'a>(g: &'a mut pb::GraphProto, name: &str) -> &'a mut pb::NodeProto {
    g.node.iter_mut().find(|n| n.name == name).unwrap()
}

fn cases() -> Vec<Case> {
    let mlp = || onnx_gen::mlp(&[16, 12, 10], 1);
    vec![
        (
            "unknown op",
            edited(mlp(), |g| by_name(g, "relu0").op_type = "FooBar".into()),
            "relu0",
            "FooBar has no gkrnet lowering",
        ),
        (
            "other domain",
            edited(mlp(), |g| by_name(g, "relu0").domain = "com.example".into()),
            "relu0",
            "domain \"com.example\"",
        ),
        (
            "weights first",
            edited(mlp(), |g| by_name(g, "mm1").input.swap(0, 1)),
            "mm1",
            "input 0 is a constant",
        ),
        (
            "rank-3 Gemm",
            edited(mlp(), |g| {
                g.input[0] = value_info("input", &[1, 1, 16]);
                by_name(g, "mm0").op_type = "Gemm".into();
            }),
            "mm0",
            "a Gemm on a rank-3 input (rank 2 only)",
        ),
        (
            "Gemm transA",
            edited(mlp(), |g| {
                let n = by_name(g, "mm0");
                n.op_type = "Gemm".into();
                n.attribute.push(attr_int("transA", 1));
            }),
            "mm0",
            "Gemm with transA = 1",
        ),
        (
            "difference of computed tensors",
            edited(onnx_gen::residual(2), |g| by_name(g, "skip").op_type = "Sub".into()),
            "skip",
            "the difference of two computed tensors",
        ),
        (
            "quotient of computed tensors",
            edited(onnx_gen::residual(2), |g| by_name(g, "skip").op_type = "Div".into()),
            "skip",
            "a division by a computed tensor",
        ),
        (
            "ArgMax ties to the highest index",
            edited(onnx_gen::argmax_head(3), |g| {
                by_name(g, "label").attribute.push(attr_int("select_last_index", 1))
            }),
            "label",
            "select_last_index = 1 (ties to the highest index)",
        ),
        (
            "ArgMax's indices fed to an op",
            edited(onnx_gen::argmax_head(3), |g| {
                by_name(g, "label").output[0] = "idx".into();
                g.node.push(node("Relu", "after", &["idx"], "output"));
            }),
            "after",
            "ArgMax's indices as an operand (they are proved as a graph output only",
        ),
        (
            "negative scale",
            // the bias vector holds negative values
            edited(mlp(), |g| by_name(g, "add0").op_type = "Mul".into()),
            "add0",
            "a scale that is zero, negative or not finite",
        ),
        (
            "Erf alone",
            edited(mlp(), |g| by_name(g, "relu0").op_type = "Erf".into()),
            "relu0",
            "Erf outside the Gelu pattern",
        ),
        (
            "auto_pad with explicit pads",
            edited(onnx_gen::concat(4), |g| {
                by_name(g, "conv1").attribute.push(attr_string("auto_pad", "SAME_UPPER"));
            }),
            "conv1",
            "auto_pad together with explicit pads [1, 1, 1, 1] (one or the other)",
        ),
        (
            "ceil_mode on a convolution",
            edited(onnx_gen::concat(4), |g| {
                by_name(g, "conv2").attribute.push(attr_int("ceil_mode", 1));
            }),
            "conv2",
            "ceil_mode = 1 (a pooling attribute)",
        ),
        (
            "Softmax in the middle along no axis of its input",
            edited(mlp(), |g| {
                let n = by_name(g, "relu0");
                n.op_type = "Softmax".into();
                n.attribute.push(attr_int("axis", 5));
            }),
            "relu0",
            "a Softmax along axis 5 of a rank-2 tensor",
        ),
    ]
}

/// Inspect's reason and the import's error agree on every rejected node.
#[test]
fn a_rejected_node_fails_the_import_with_the_reason_inspect_gives() {
    let d = dir("cases");
    for (case, proto, node, fragment) in cases() {
        let s = support(&proto);
        let reason = match verdict(&s, node) {
            Err(r) => r.clone(),
            Ok(()) => panic!("{case}: {node} reported supported"),
        };
        assert!(reason.contains(fragment), "{case}: {reason}");
        // the import stops at the first node the registry rejects (unknown ops first)
        let first = s
            .iter()
            .find(|n| n.verdict.as_ref().is_err_and(|r| r.contains("no gkrnet lowering")))
            .or_else(|| s.iter().find(|n| n.verdict.is_err()))
            .unwrap();
        assert_eq!(first.node, node, "{case}");
        let p = write(&d, "case", &proto);
        match onnx::import(&p, &ImportOptions::default()) {
            Err(ImportError::Unsupported { op, node: at, reason: r }) => {
                assert_eq!((op, at.as_str(), r), (first.op.clone(), node, reason), "{case}");
            }
            Err(e) => panic!("{case}: {e}"),
            Ok(_) => panic!("{case}: imported"),
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// The registry's op list is the set of ops the import recognizes: each listed op is looked up
/// (never "has no gkrnet lowering"), no op is listed twice, and an op it does not list is
/// unknown to the import too.
#[test]
fn the_listed_ops_are_the_ops_the_import_recognizes() {
    let ops = onnx::supported_ops();
    let mut seen = std::collections::HashSet::new();
    for &(domain, op) in &ops {
        assert!(seen.insert((domain, op)), "{op} listed twice");
    }
    for op in ["MatMul", "Conv", "QLinearConv", "Softmax", "Erf", "HardSigmoid"] {
        assert!(ops.iter().any(|&(d, o)| d.is_empty() && o == op), "{op}");
    }
    let one_node = |domain: &str, op: &str| {
        edited(onnx_gen::mlp(&[16, 12, 10], 1), |g| {
            let n = by_name(g, "relu0");
            n.op_type = op.into();
            n.domain = domain.into();
        })
    };
    for &(domain, op) in &ops {
        let s = support(&one_node(domain, op));
        if let Err(r) = verdict(&s, "relu0") {
            assert!(!r.contains("no gkrnet lowering") && !r.contains("domain"), "{op}: {r}");
        }
    }
    for op in ["Cos", "Sin", "Einsum", "matmul"] {
        let s = support(&one_node("", op));
        assert_eq!(verdict(&s, "relu0"), &Err(format!("{op} has no gkrnet lowering")));
    }
}
