//! ONNX graphs with several outputs: each output is proved at its own quantization (or as
//! ArgMax indices), reshaped to 1-D and concatenated in graph order into the circuit's one output
//! tensor, described by the part table of the model's io.
//!
//! Invariant: the proof binds the whole concatenated output, so a changed value in any part is
//! rejected at the concatenation; the part table is bound by the model digest (the encoding).
//! A model with one output keeps its encoding (io flag 1) byte for byte.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

mod common;

use common::cheating::with_cheater;
use common::errors::in_layer;
use common::model::{cheat, prove_and_verify, rejected};
use gkrnet::circuit::{Model, OutputPart, OutputQuant};
use gkrnet::onnx::{self, ImportOptions, Imported};
use gkrnet::sumcheck::EvalClaim;
use gkrnet::VerifyError;
use tract_onnx::pb;

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

fn import(name: &str, proto: &pb::ModelProto, calibration: &[Vec<f32>]) -> Imported {
    let dir = std::env::temp_dir().join(format!("gkrnet-multi-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.onnx"));
    std::fs::write(&p, onnx_gen::encode(proto)).unwrap();
    let opts = ImportOptions { calibration: Some(calibration.to_vec()), ..Default::default() };
    let imported = onnx::import(&p, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    imported
}

fn parts(model: &Model) -> Vec<OutputPart> {
    match &model.io().expect("an imported model has io").output {
        OutputQuant::Parts(p) => p.clone(),
        other => panic!("a single output: {other:?}"),
    }
}

fn argmax(v: &[f64]) -> usize {
    (0..v.len()).fold(0, |b, i| if v[i] > v[b] { i } else { b })
}

/// A changed value in each part of the proven output is rejected at the concatenation (the
/// last layer): the prover of the concatenation sends the honest parts of the claim, which do
/// not add up to the claim on the changed output (the honest prover refuses to phrase it).
fn every_part_tampered_is_rejected(imported: &Imported, x: &[f32], what: &str) {
    let model = &imported.model;
    let input = imported.quantize_input(x).unwrap();
    let honest = model.forward(&input).unwrap();
    let last = model.layers.len() - 1;
    assert_eq!(model.layers[last].kind(), "concat", "{what}");
    let cheater = with_cheater(model, last, |layer| {
        let layer = layer.spec().build().unwrap();
        Box::new(move |claim, inputs, t| {
            let out = layer.forward(inputs).unwrap().output;
            let true_claim =
                EvalClaim { point: claim.point.clone(), value: out.evaluate(&claim.point) };
            layer.prove_output(&true_claim, inputs, t)
        })
    });
    for p in parts(model) {
        for j in [p.offset, p.offset + p.len() - 1] {
            let mut w = honest.clone();
            let v = &mut w.tensors.last_mut().unwrap().data[j];
            *v = if *v == 127 { 126 } else { *v + 1 };
            let e = rejected(model, &input, &cheat(&cheater, &w), &format!("{what}: {}", p.name));
            assert!(
                matches!(
                    in_layer(&e, last, "concat"),
                    Some(VerifyError::EvalMismatch {
                        what: "the concat inputs' parts against the claim on the output",
                        ..
                    })
                ),
                "{what}: part {} entry {j}: {e:?}",
                p.name
            );
        }
    }
}

#[test]
fn two_heads_of_different_scales_prove_and_agree_with_float() {
    let proto = onnx_gen::two_heads(31);
    let xs = onnx::random_inputs(16, 24, (0.0, 1.0), 32);
    let imported = import("two_heads", &proto, &xs);
    let model = &imported.model;
    let p = parts(model);
    let names: Vec<&str> = p.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["small", "big"]);
    assert_eq!((p[0].dims.clone(), p[0].offset), (vec![1, 4], 0));
    assert_eq!((p[1].dims.clone(), p[1].offset), (vec![1, 6], 4));
    assert!(!p[0].index && !p[1].index && !p[0].softmax && !p[1].softmax);
    assert!(p[1].q.scale > 5.0 * p[0].q.scale, "{:?} vs {:?}", p[0].q, p[1].q);
    assert_eq!(model.output_dims(), [10]);
    // each part against tract's float output of the same name, within a few of its own steps
    for x in &xs {
        let float = imported.reference.outputs(x).unwrap();
        let w = prove_and_verify(model, &imported.quantize_input(x).unwrap(), "two_heads");
        for (part, (dims, f)) in p.iter().zip(&float) {
            assert_eq!(dims, &part.dims);
            let ours = onnx::dequantize_part(part, onnx::part_values(part, &w.output().data));
            let worst = f.iter().zip(&ours).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            assert!(
                worst <= 4.0 * part.q.scale,
                "{}: |Δ| {worst}, step {}",
                part.name,
                part.q.scale
            );
        }
    }
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    assert!(acc.max_abs_error <= 4.0 * p[1].q.scale, "{acc:?}");
    every_part_tampered_is_rejected(&imported, &xs[0], "two_heads");
}

#[test]
fn a_classifier_proves_its_label_as_the_argmax_of_the_logits() {
    let proto = onnx_gen::mlp_classifier(33);
    let xs = onnx::random_inputs(16, 24, (0.0, 1.0), 34);
    let imported = import("mlp_classifier", &proto, &xs);
    let model = &imported.model;
    let p = parts(model);
    assert_eq!(p[0].name, "label");
    assert!(p[0].index && !p[0].softmax && p[0].dims == [1] && p[0].offset == 0);
    assert_eq!(p[1].name, "probabilities");
    assert!(!p[1].index && p[1].softmax && p[1].dims == [1, 5] && p[1].offset == 1);
    assert!(
        imported.notes.iter().any(|n| n.contains("invariant under softmax")),
        "{:?}",
        imported.notes
    );
    let logits = onnx::FloatReference::new(&proto, &[1, 16], &["logits"], &[]).unwrap();
    let mut agree = 0;
    for x in &xs {
        let w = prove_and_verify(model, &imported.quantize_input(x).unwrap(), "mlp_classifier");
        let out = &w.output().data;
        let label = onnx::part_values(&p[0], out)[0];
        let probabilities = onnx::dequantize_part(&p[1], onnx::part_values(&p[1], out));
        // the proven label is the argmax of the proven probabilities (int8 logits, lowest
        // index on ties), and the float label's wherever the float logits are not near a tie
        assert_eq!(label as usize, argmax(&probabilities));
        let float_logits = logits.output(x).unwrap();
        agree += usize::from(label as usize == argmax(&float_logits));
        let float = imported.reference.outputs(x).unwrap();
        assert_eq!(float[0].1, vec![argmax(&float_logits) as f64], "tract's own label");
        let worst =
            float[1].1.iter().zip(&probabilities).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        assert!(worst < 0.05, "probabilities |Δ| {worst}");
        assert!((probabilities.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    }
    assert!(agree >= xs.len() - 2, "{agree} of {} labels agree with the float argmax", xs.len());
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    assert!(acc.argmax_agreement >= 0.9, "{acc:?}");
    every_part_tampered_is_rejected(&imported, &xs[1], "mlp_classifier");
}

#[test]
fn a_multi_output_model_round_trips_and_its_part_table_is_in_the_digest() {
    let proto = onnx_gen::mlp_classifier(35);
    let xs = onnx::random_inputs(16, 8, (0.0, 1.0), 36);
    let model = import("round_trip", &proto, &xs).model;
    let bytes = model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.encode(), bytes);
    assert_eq!(back.digest(), model.digest());
    assert_eq!(back.io(), model.io());
    let input = onnx::quantize_input(&back, &xs[0]).unwrap();
    assert_eq!(back.forward(&input).unwrap().output(), model.forward(&input).unwrap().output());
    // the same layers with another reading of the output: another digest
    let rebuilt = || {
        let layers = model.layers.iter().map(|l| l.spec().build().unwrap()).collect();
        Model::new(model.name.clone(), model.input_dims.clone(), layers).unwrap()
    };
    let mut io = model.io().unwrap().clone();
    let OutputQuant::Parts(p) = &mut io.output else { unreachable!() };
    p[1].name = "probs".into();
    let renamed = rebuilt().with_io(io.clone()).unwrap();
    assert_ne!(renamed.digest(), model.digest());
    let OutputQuant::Parts(p) = &mut io.output else { unreachable!() };
    p[1].name = "probabilities".into();
    p[1].softmax = false;
    assert_ne!(rebuilt().with_io(io).unwrap().digest(), model.digest());
}

#[test]
fn single_output_models_keep_their_encoding() {
    // digests of models/ fixtures compiled with the default options before several outputs
    // were supported (io flag 1, no part table)
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models");
    for (file, digest) in [
        ("digits_mlp.onnx", "e795cd777e36adf4e3cebf75a90dbb27c336a558a2be8e7eedd060a2c6d2934c"),
        ("ops_mlp.onnx", "b3825ce4da8d7034c61e259a172b75f390a8879ecfe481650443a9782a039db5"),
    ] {
        let imported = onnx::import(&dir.join(file), &ImportOptions::default()).unwrap();
        let hex: String = imported.model.digest().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, digest, "{file}");
        assert!(
            matches!(imported.model.io().unwrap().output, OutputQuant::Single { .. }),
            "{file}"
        );
        assert_eq!(imported.model.output_parts().len(), 1);
    }
}

#[test]
fn non_tensor_outputs_and_graphs_without_outputs_are_refused_naming_them() {
    let mut proto = onnx_gen::mlp_classifier(37);
    let g = proto.graph.as_mut().unwrap();
    // a ZipMap's sequence of maps decodes to a type without a tensor value
    g.output[1].r#type = Some(pb::TypeProto { value: None, ..Default::default() });
    let e = onnx::Graph::from_proto(&proto).unwrap_err().to_string();
    assert!(e.contains("\"probabilities\"") && e.contains("not a tensor"), "{e}");
    proto.graph.as_mut().unwrap().output.clear();
    let e = onnx::Graph::from_proto(&proto).unwrap_err().to_string();
    assert!(e.contains("no output"), "{e}");
}

#[test]
fn an_argmax_of_a_softmax_must_run_along_its_axis_and_nothing_else_may_read_it() {
    let xs = onnx::random_inputs(16, 4, (0.0, 1.0), 38);
    let import_err = |proto: &pb::ModelProto| {
        let dir = std::env::temp_dir().join(format!("gkrnet-multi-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("bad.onnx");
        std::fs::write(&p, onnx_gen::encode(proto)).unwrap();
        let opts = ImportOptions { calibration: Some(xs.clone()), ..Default::default() };
        let e = onnx::import(&p, &opts).expect_err("a bad classifier imports").to_string();
        let _ = std::fs::remove_dir_all(&dir);
        e
    };
    // the argmax over the batch axis is not invariant under a softmax over the classes
    let mut proto = onnx_gen::mlp_classifier(39);
    let g = proto.graph.as_mut().unwrap();
    let argmax = g.node.iter_mut().find(|n| n.op_type == "ArgMax").unwrap();
    argmax.attribute.iter_mut().find(|a| a.name == "axis").unwrap().i = 0;
    g.output[0] = onnx_gen::value_info("label", &[5]);
    let e = import_err(&proto);
    assert!(e.contains("along another axis than the Softmax's"), "{e}");
    // inspect says the same of that node
    let graph = onnx::Graph::from_proto(&proto).unwrap();
    let verdicts = onnx::support(&graph).unwrap();
    let argmax = verdicts.iter().find(|s| s.op == "ArgMax").unwrap();
    assert!(argmax.verdict.as_ref().is_err_and(|r| r.contains("along another axis")), "{argmax:?}");
    // another reader of the probabilities: the softmax is then proved inside the proof, and
    // that reader gets the probabilities
    let mut proto = onnx_gen::mlp_classifier(39);
    let g = proto.graph.as_mut().unwrap();
    g.node.push(onnx_gen::node("Mul", "square", &["probabilities", "probabilities"], "sq"));
    g.output.push(onnx_gen::value_info("sq", &[1, 5]));
    let graph = onnx::Graph::from_proto(&proto).unwrap();
    let verdicts = onnx::support(&graph).unwrap();
    assert!(verdicts.iter().all(|s| s.verdict.is_ok()), "{verdicts:?}");
}
