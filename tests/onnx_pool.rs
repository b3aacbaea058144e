//! Pooling and convolution windows as real exports write them: MaxPool and AveragePool with
//! `ceil_mode = 1` (torchvision's squeezenet), `auto_pad` (SAME_UPPER, SAME_LOWER, VALID) on
//! pooling and convolutions, and a final Softmax followed by Identity/Dropout (skl2onnx's
//! classifiers without ZipMap). Each graph imports with tract's dimensions, agrees with tract's
//! float run, proves and verifies; `gkrnet inspect`'s verdict and the import agree on what is
//! refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::gkr;
use gkrnet::onnx::{self, Graph, ImportError, ImportOptions, Imported};
use tract_onnx::pb;

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

use onnx_gen::{attr_int, attr_ints, attr_str, conv_attrs, conv_pool};

/// Every node of `proto` is supported by the registry (what `gkrnet inspect` prints).
fn all_supported(name: &str, proto: &pb::ModelProto) {
    for n in onnx::support(&Graph::from_proto(proto).unwrap()).unwrap() {
        assert_eq!(n.verdict, Ok(()), "{name}: {} ({})", n.node, n.op);
    }
}

fn import(name: &str, proto: &pb::ModelProto, xs: &[Vec<f32>]) -> Imported {
    all_supported(name, proto);
    let opts = ImportOptions { calibration: Some(xs.to_vec()), ..Default::default() };
    onnx::import_proto(proto, name, &opts).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Imports `proto`, checks its output dimensions, its agreement with tract's float run (within
/// `steps` output steps) and proves and verifies one input; a flipped proof byte is rejected.
fn check(name: &str, proto: &pb::ModelProto, len: usize, dims: &[usize], steps: f64) -> Imported {
    let xs = onnx::random_inputs(len, 12, (0.0, 1.0), 31);
    let imported = import(name, proto, &xs);
    assert_eq!(imported.model.output_dims(), dims, "{name}");
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    println!("{name}: {acc:?}, output step {step}");
    assert!(acc.max_abs_error <= steps * step, "{name}: {acc:?}, step {step}");
    let model = &imported.model;
    let input = imported.quantize_input(&xs[0]).unwrap();
    let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::default()).unwrap();
    let out = gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &proof.proof)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(out, proof.output, "{name}");
    assert_eq!(&out, model.forward(&input).unwrap().output(), "{name}");
    let mut bad = proof.proof.clone();
    let at = bad.len() / 3;
    bad[at] ^= 1;
    assert!(gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &bad).is_err());
    imported
}

/// ONNX's output length (the spec's formula, written independently of the lowering): floor or,
/// in ceil mode, ceil((len + lo + hi − span)/s) + 1, less one when the last window would start
/// past the input and its begin padding.
fn out_len(
    len: usize,
    k: usize,
    s: usize,
    d: usize,
    (lo, hi): (usize, usize),
    ceil: bool,
) -> usize {
    let span = (k - 1) * d + 1;
    let room = (len + lo + hi - span) as f64 / s as f64;
    let mut out = if ceil { room.ceil() } else { room.floor() } as usize + 1;
    if ceil && (out - 1) * s >= len + lo {
        out -= 1;
    }
    out
}

/// One pooling window: kernel, stride, dilation, pads (begin, end), the same on both axes.
#[derive(Clone, Copy, Debug)]
struct Win {
    k: usize,
    s: usize,
    d: usize,
    pads: (usize, usize),
}

impl Win {
    fn attrs(self, ceil: bool) -> Vec<pb::AttributeProto> {
        let (lo, hi) = (self.pads.0 as i64, self.pads.1 as i64);
        let mut a = vec![
            attr_ints("kernel_shape", &[self.k as i64; 2]),
            attr_ints("strides", &[self.s as i64; 2]),
            attr_ints("pads", &[lo, lo, hi, hi]),
            attr_int("ceil_mode", i64::from(ceil)),
        ];
        if self.d != 1 {
            a.push(attr_ints("dilations", &[self.d as i64; 2]));
        }
        a
    }

    fn out(self, len: usize, ceil: bool) -> usize {
        out_len(len, self.k, self.s, self.d, self.pads, ceil)
    }
}

const fn win(k: usize, s: usize, d: usize, pads: (usize, usize)) -> Win {
    Win { k, s, d, pads }
}

/// ONNX max pooling of a [1, c, len, len] int8 tensor to out × out: window o reads positions
/// o·s + t·d − lo (t < k) that fall inside the input.
fn naive_max_pool(x: &[i64], len: usize, w: Win, out: usize) -> Vec<i64> {
    let c = x.len() / (len * len);
    let taps = |o: usize| -> Vec<usize> {
        (0..w.k)
            .filter_map(|t| (o * w.s + t * w.d).checked_sub(w.pads.0).filter(|&p| p < len))
            .collect()
    };
    let mut y = Vec::new();
    for ch in 0..c {
        for i in 0..out {
            for j in 0..out {
                let m = taps(i)
                    .iter()
                    .flat_map(|&r| taps(j).into_iter().map(move |q| x[(ch * len + r) * len + q]))
                    .max();
                y.push(m.expect("every window reads the input"));
            }
        }
    }
    y
}

/// torchvision's MaxPool2d(3, 2, ceil_mode=True) and friends: on 8×8 the ceil mode adds a
/// window (4 outputs, not 3), on 7×7 it does not; with begin padding the last window is dropped
/// when it would start in the end padding; dilated windows too.
#[test]
fn max_pool_in_ceil_mode_matches_tract_and_proves() {
    let cases = [
        (7, win(3, 2, 1, (0, 0))),
        (8, win(3, 2, 1, (0, 0))),
        (7, win(2, 2, 1, (0, 0))),
        (8, win(3, 2, 1, (1, 1))),
        (5, win(2, 2, 1, (1, 1))),
        (8, win(2, 2, 2, (0, 0))),
        (9, win(3, 3, 1, (1, 0))),
    ];
    let mut grown = 0;
    for (i, (len, w)) in cases.into_iter().enumerate() {
        let out = w.out(len, true);
        grown += usize::from(out > w.out(len, false));
        let name = format!("maxpool_ceil_{len}_{w:?}");
        let proto = conv_pool(40 + i as u64, [len, len], "MaxPool", w.attrs(true), [out, out]);
        let imported = check(&name, &proto, 2 * len * len, &[1, 4, out, out], 4.0);
        assert!(imported.model.layers.iter().any(|l| l.kind() == "maxpool"), "{name}");
        // exactly ONNX's windows on the int8 tensor: layers 0 and 1 are the conv and its
        // requantization, so tensor 2 is the pool's input
        let x = onnx::random_inputs(2 * len * len, 1, (0.0, 1.0), 32).remove(0);
        let wit = imported.model.forward(&imported.quantize_input(&x).unwrap()).unwrap();
        assert_eq!(wit.tensors[2].dims, [1, 4, len, len], "{name}");
        assert_eq!(wit.output().data, naive_max_pool(&wit.tensors[2].data, len, w, out), "{name}");
    }
    assert!(grown >= 4, "only {grown} cases where ceil mode adds a window");
    // the rule that drops a window starting in the end padding
    assert_eq!((win(2, 2, 1, (1, 1)).out(5, true), win(2, 2, 1, (1, 1)).out(5, false)), (3, 3));
    assert_eq!(out_len(5, 2, 2, 1, (1, 1), true), 3);
}

/// AveragePool in ceil mode: the overhang past the input and its explicit pads is never
/// counted, with count_include_pad = 0 (taps inside the input) or 1 (taps inside the padded
/// input: the explicit pads count), as in onnxruntime, PyTorch and tract.
#[test]
fn average_pool_in_ceil_mode_leaves_the_overhang_out_of_the_divisor() {
    let cases = [
        (8, win(3, 2, 1, (0, 0))),
        (8, win(3, 2, 1, (1, 1))),
        (7, win(2, 2, 1, (0, 0))),
        (9, win(3, 2, 1, (1, 0))),
    ];
    for (i, (len, w)) in cases.into_iter().enumerate() {
        let out = w.out(len, true);
        assert!(out > w.out(len, false), "{len} {w:?}");
        for include in [0, 1] {
            let name = format!("avgpool_ceil_{len}_{w:?}_include_{include}");
            let mut attrs = w.attrs(true);
            attrs.push(attr_int("count_include_pad", include));
            let proto = conv_pool(60 + i as u64, [len, len], "AveragePool", attrs, [out, out]);
            let imported = check(&name, &proto, 2 * len * len, &[1, 4, out, out], 3.0);
            let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
            assert!(kinds.contains(&"avgpool"), "{name}: {kinds:?}");
        }
    }
}

/// auto_pad: the pads come from the input size (SAME: out = ⌈len/s⌉, the odd pad at the end
/// for SAME_UPPER, at the beginning for SAME_LOWER; VALID: none), on pooling (ceil_mode
/// changes nothing there) and on convolutions.
#[test]
fn auto_pad_gives_pads_from_the_input_size() {
    let pool = |k: i64, s: i64, auto: &str, extra: Vec<pb::AttributeProto>| {
        let mut a = vec![
            attr_ints("kernel_shape", &[k, k]),
            attr_ints("strides", &[s, s]),
            attr_str("auto_pad", auto),
        ];
        a.extend(extra);
        a
    };
    let cases: Vec<(&str, &str, usize, Vec<pb::AttributeProto>, usize)> = vec![
        ("max_same_upper", "MaxPool", 8, pool(3, 2, "SAME_UPPER", vec![]), 4),
        ("max_same_lower", "MaxPool", 8, pool(3, 2, "SAME_LOWER", vec![]), 4),
        (
            "max_same_upper_ceil",
            "MaxPool",
            7,
            pool(2, 2, "SAME_UPPER", vec![attr_int("ceil_mode", 1)]),
            4,
        ),
        ("max_valid", "MaxPool", 8, pool(3, 2, "VALID", vec![]), 3),
        ("max_valid_ceil", "MaxPool", 8, pool(3, 2, "VALID", vec![attr_int("ceil_mode", 1)]), 3),
        ("avg_same_upper", "AveragePool", 8, pool(3, 2, "SAME_UPPER", vec![]), 4),
        (
            "avg_same_lower_include",
            "AveragePool",
            7,
            pool(2, 2, "SAME_LOWER", vec![attr_int("count_include_pad", 1)]),
            4,
        ),
        ("avg_notset", "AveragePool", 8, pool(2, 2, "NOTSET", vec![]), 4),
    ];
    for (i, (name, op, len, attrs, out)) in cases.into_iter().enumerate() {
        let proto = conv_pool(80 + i as u64, [len, len], op, attrs, [out, out]);
        check(name, &proto, 2 * len * len, &[1, 4, out, out], 3.0);
    }
    let conv = |k: i64, s: i64, auto: &str| {
        vec![
            attr_ints("kernel_shape", &[k, k]),
            attr_ints("strides", &[s, s]),
            attr_str("auto_pad", auto),
        ]
    };
    let convs: Vec<(&str, usize, usize, Vec<pb::AttributeProto>, usize)> = vec![
        ("conv_same_upper_s2", 8, 3, conv(3, 2, "SAME_UPPER"), 4),
        ("conv_same_lower_s1", 7, 2, conv(2, 1, "SAME_LOWER"), 7),
        ("conv_same_upper_s1", 6, 3, conv(3, 1, "SAME_UPPER"), 6),
        ("conv_valid", 8, 3, conv(3, 2, "VALID"), 3),
    ];
    for (i, (name, len, k, attrs, out)) in convs.into_iter().enumerate() {
        let proto = conv_attrs(90 + i as u64, [len, len], [k, k], attrs, [out, out]);
        let imported = check(name, &proto, 2 * len * len, &[1, 3, out, out], 3.0);
        assert!(imported.model.layers.iter().any(|l| l.kind() == "conv"), "{name}");
    }
}

/// skl2onnx's MLPClassifier without ZipMap: the probabilities leave through an Identity (and a
/// Dropout may sit there too). The Softmax is the final one, left outside the proof as when it
/// is the last op.
#[test]
fn a_softmax_followed_by_identity_and_dropout_is_the_final_softmax() {
    for tail in [&["Identity"][..], &["Identity", "Dropout"], &["Dropout", "Identity", "Identity"]]
    {
        let name = format!("softmax_then_{}", tail.join("_"));
        let proto = onnx_gen::softmax_then(50, tail);
        let imported = check(&name, &proto, 16, &[1, 10], 8.0);
        assert!(imported.model.io().unwrap().softmax(), "{name}");
        assert!(imported.notes.iter().any(|n| n.contains("final Softmax")), "{name}");
        // the output is a distribution (softmax applied to the dequantized logits)
        let x = onnx::random_inputs(16, 1, (0.0, 1.0), 51).remove(0);
        let w = imported.model.forward(&imported.quantize_input(&x).unwrap()).unwrap();
        let p = onnx::dequantize_output(&imported.model, w.output());
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{name}: {p:?}");
    }
}

fn with_node(
    mut proto: pb::ModelProto,
    name: &str,
    edit: impl FnOnce(&mut pb::NodeProto),
) -> pb::ModelProto {
    let g = proto.graph.as_mut().unwrap();
    edit(g.node.iter_mut().find(|n| n.name == name).unwrap());
    proto
}

/// What stays refused is refused by `gkrnet inspect` and by the import alike, with the same op,
/// node and reason.
#[test]
fn refused_windows_fail_the_import_with_the_reason_inspect_gives() {
    let w = win(3, 2, 1, (0, 0));
    let pool = || conv_pool(70, [8, 8], "MaxPool", w.attrs(true), [4, 4]);
    let cases: Vec<(&str, pb::ModelProto, &str, &str)> = vec![
        (
            "ceil_mode on a convolution",
            with_node(pool(), "conv", |n| n.attribute.push(attr_int("ceil_mode", 1))),
            "conv",
            "ceil_mode = 1 (a pooling attribute)",
        ),
        (
            "ceil_mode 2",
            with_node(pool(), "pool", |n| {
                n.attribute.retain(|a| a.name != "ceil_mode");
                n.attribute.push(attr_int("ceil_mode", 2));
            }),
            "pool",
            "ceil_mode = 2 (0 or 1)",
        ),
        (
            "an unknown auto_pad",
            with_node(pool(), "pool", |n| n.attribute.push(attr_str("auto_pad", "SAME"))),
            "pool",
            "auto_pad \"SAME\" (NOTSET, VALID, SAME_UPPER or SAME_LOWER)",
        ),
        (
            "auto_pad with explicit pads",
            with_node(pool(), "conv", |n| n.attribute.push(attr_str("auto_pad", "SAME_UPPER"))),
            "conv",
            "auto_pad together with explicit pads [1, 1, 1, 1] (one or the other)",
        ),
        (
            "auto_pad SAME on ConvTranspose",
            with_node(pool(), "conv", |n| {
                n.op_type = "ConvTranspose".into();
                n.attribute.retain(|a| a.name != "pads");
                n.attribute.push(attr_str("auto_pad", "SAME_LOWER"));
            }),
            "conv",
            "auto_pad SAME on ConvTranspose (explicit pads or VALID only)",
        ),
    ];
    for (case, proto, node, want) in cases {
        let s = onnx::support(&Graph::from_proto(&proto).unwrap()).unwrap();
        let first = s.iter().find(|n| n.verdict.is_err()).unwrap_or_else(|| panic!("{case}"));
        assert_eq!(
            (first.node.as_str(), first.verdict.clone()),
            (node, Err(want.to_string())),
            "{case}"
        );
        let opts = ImportOptions { samples: 2, ..Default::default() };
        match onnx::import_proto(&proto, "case", &opts) {
            Err(ImportError::Unsupported { op, node: at, reason }) => {
                assert_eq!(
                    (op, at.as_str(), reason.as_str()),
                    (first.op.clone(), node, want),
                    "{case}"
                );
            }
            Err(e) => panic!("{case}: {e}"),
            Ok(_) => panic!("{case}: imported"),
        }
    }
}
