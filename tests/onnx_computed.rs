//! ONNX ops on computed tensors lowered through the registry operators (issue 19): products
//! of two computed tensors (SiLU, x·x + x, squeeze-excitation gating with broadcast), ReduceMean
//! and ReduceSum (axes as an attribute or an input, keepdims 0 and 1), ArgMax (the argmax
//! gadget, the graph's int64 output) and an Identity-only graph. Each imports, agrees with
//! tract's float run of the graph, proves and verifies, and a changed output is rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]
#![cfg(feature = "onnx")]

use gkrnet::gkr;
use gkrnet::onnx::{self, ImportOptions, Imported};
use tract_onnx::pb;

#[path = "support/onnx_gen.rs"]
mod onnx_gen;

fn import(name: &str, proto: &pb::ModelProto, calibration: &[Vec<f32>]) -> Imported {
    let dir = std::env::temp_dir().join(format!("gkrnet-computed-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{name}.onnx"));
    std::fs::write(&p, onnx_gen::encode(proto)).unwrap();
    let opts = ImportOptions { calibration: Some(calibration.to_vec()), ..Default::default() };
    let imported = onnx::import(&p, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    let _ = std::fs::remove_dir_all(&dir);
    imported
}

/// Proves and verifies `x`; a proof of another output (the last entry changed) is rejected.
fn prove_verify(imported: &Imported, x: &[f32], name: &str) -> Vec<i64> {
    let input = imported.quantize_input(x).unwrap();
    let model = &imported.model;
    let proof = gkr::prove_bytes(model, &input, &gkr::ProveOptions::default()).unwrap();
    let out = gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &proof.proof)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(out, proof.output);
    assert_eq!(&out, model.forward(&input).unwrap().output(), "{name}");
    // the statement's output is the first message after the header: flipping the proof's
    // bytes where the output sits is one of many changes; every one is rejected
    let mut bad = proof.proof.clone();
    let at = bad.len() / 3;
    bad[at] ^= 1;
    assert!(gkr::verify_bytes(model, &input, &gkr::VerifyOptions::default(), &bad).is_err());
    out.data
}

#[test]
fn products_of_computed_tensors_import_agree_with_float_and_prove() {
    // x·x written as Pow(x, 2)
    let mut pow = onnx_gen::products(21);
    let g = pow.graph.as_mut().unwrap();
    g.initializer.push(onnx_gen::tensor("two", &[], &[2.0]));
    let square = g.node.iter_mut().find(|n| n.name == "square").unwrap();
    square.op_type = "Pow".into();
    square.input = vec!["g".into(), "two".into()];
    for (name, proto, len) in [
        ("products", onnx_gen::products(21), 16),
        ("products_pow", pow, 16),
        ("squeeze_excite", onnx_gen::squeeze_excite(22), 3 * 8 * 8),
    ] {
        let xs = onnx::random_inputs(len, 24, (0.0, 1.0), 23);
        let imported = import(name, &proto, &xs);
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert!(kinds.contains(&"mul"), "{name}: {kinds:?}");
        if name == "squeeze_excite" {
            assert!(kinds.contains(&"reducesum"), "{name}: {kinds:?}");
        }
        let acc = onnx::accuracy(&imported, &xs, None).unwrap();
        let step = imported.output_params().scale;
        println!("{name}: {} layers, {acc:?}, output step {step}", kinds.len());
        assert!(acc.max_abs_error <= 8.0 * step, "{name}: {acc:?}");
        for x in &xs[..2] {
            prove_verify(&imported, x, name);
        }
    }
}

/// The squeeze-excitation block with MobileNetV3's gate, HardSigmoid (α = 1/6, β = ½, as
/// PyTorch exports it) and with ONNX's default α = 0.2: a table activation on its own, then a
/// product of two computed tensors.
#[test]
fn a_hard_sigmoid_gate_is_a_table_and_agrees_with_float() {
    for attrs in
        [vec![onnx_gen::attr_float("alpha", 1.0 / 6.0), onnx_gen::attr_float("beta", 0.5)], vec![]]
    {
        let mut proto = onnx_gen::squeeze_excite(24);
        let gate = proto.graph.as_mut().unwrap().node.iter_mut().find(|n| n.name == "gate");
        let gate = gate.unwrap();
        gate.op_type = "HardSigmoid".into();
        gate.attribute = attrs.clone();
        let xs = onnx::random_inputs(3 * 8 * 8, 24, (0.0, 1.0), 25);
        let imported = import("hard_gate", &proto, &xs);
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert!(kinds.contains(&"hard-sigmoid") && kinds.contains(&"mul"), "{kinds:?}");
        let acc = onnx::accuracy(&imported, &xs, None).unwrap();
        let step = imported.output_params().scale;
        println!("hard_gate {}: {acc:?}, output step {step}", attrs.len());
        // α and β survive the model's encoding
        let bytes = imported.model.encode();
        let decoded = gkrnet::circuit::Model::decode(&bytes).unwrap();
        assert_eq!(decoded.digest(), imported.model.digest());
        assert_eq!(decoded.encode(), bytes);
        assert!(acc.max_abs_error <= 8.0 * step, "{acc:?}");
        for x in &xs[..2] {
            prove_verify(&imported, x, "hard_gate");
        }
    }
}

#[test]
fn argmax_is_proved_as_the_graph_output() {
    let proto = onnx_gen::argmax_head(24);
    let xs = onnx::random_inputs(16, 24, (0.0, 1.0), 25);
    let imported = import("argmax_head", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert!(kinds.contains(&"argcheck"), "{kinds:?}");
    // the proven index is the lowest index of the int8 logits' maximum, and matches tract's
    // float argmax wherever the float logits are not within two int8 steps of each other
    let reference = onnx::FloatReference::new(&proto, &[1, 16], &["logits"], &[]).unwrap();
    let logits: Vec<Vec<f64>> = xs.iter().map(|x| reference.output(x).unwrap()).collect();
    let mut agree = 0;
    for (x, float_logits) in xs.iter().zip(&logits) {
        let idx = prove_verify(&imported, x, "argmax_head");
        assert_eq!(idx.len(), 1);
        let best = (0..10).fold(0, |b, i| if float_logits[i] > float_logits[b] { i } else { b });
        agree += usize::from(idx[0] as usize == best);
    }
    assert!(agree >= xs.len() - 2, "{agree} of {} agree with the float argmax", xs.len());
    // the dequantized output is the index itself
    let w = imported.model.forward(&imported.quantize_input(&xs[0]).unwrap()).unwrap();
    assert_eq!(
        onnx::dequantize_output(&imported.model, w.output()),
        vec![w.output().data[0] as f64]
    );
}

/// Multi-head attention with and without its softmax, and with a causal mask: dense products of
/// rank-3 tokens, q·kᵀ and a·v as batched products of two computed rank-4 tensors (`matprod`),
/// the softmax inside the proof (masked positions exactly 0), transposes and reshapes of heads,
/// a residual add. The causal mask's initializer holds the float minimum, or −∞ (as PyTorch's
/// mask buffers).
#[test]
fn attention_of_computed_tensors_proves_and_agrees_with_float() {
    let cases = [(false, false, f32::MIN), (true, false, f32::MIN), (true, true, f32::MIN)];
    for (softmax, causal, fill) in cases.into_iter().chain([(true, true, f32::NEG_INFINITY)]) {
        let name = format!("attention_heads softmax {softmax} causal {causal} fill {fill}");
        let proto = onnx_gen::attention_heads_masked(27, softmax, causal, fill);
        let xs = onnx::random_inputs(48, 24, (-1.0, 1.0), 28);
        let imported = import("attention_heads", &proto, &xs);
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds.iter().filter(|&&k| k == "matprod").count(), 2, "{kinds:?}");
        assert_eq!(kinds.iter().filter(|&&k| k == "dense").count(), 4, "{kinds:?}");
        assert_eq!(kinds.contains(&"softmax-div"), softmax, "{kinds:?}");
        let acc = onnx::accuracy(&imported, &xs, None).unwrap();
        let step = imported.output_params().scale;
        println!("{name}: {} layers, {acc:?}, output step {step}", kinds.len());
        assert!(acc.max_abs_error <= 8.0 * step, "{name}: {acc:?}");
        assert_eq!(imported.model.output_dims(), &[1, 6, 8]);
        for x in &xs[..2] {
            prove_verify(&imported, x, &name);
        }
        if causal {
            // the probabilities above the diagonal are exactly 0: the proven softmax output is
            // the int8 zero point there
            let w = imported.model.forward(&imported.quantize_input(&xs[0]).unwrap()).unwrap();
            let div = kinds.iter().position(|&k| k == "softmax-div").unwrap();
            let spec = imported.model.layers[div].spec();
            let zero = spec.op::<gkrnet::circuit::softmax::SoftmaxDivSpec>().unwrap().zero;
            let probs = &w.tensors[div + 1].data;
            assert_eq!(probs.len(), 2 * 36);
            for (i, &q) in probs.iter().enumerate() {
                let (row, col) = ((i % 36) / 6, i % 6);
                if col > row {
                    assert_eq!(q, zero as i64, "entry {i}");
                }
            }
            assert!(probs.iter().any(|&q| q > zero as i64 + 10));
        }
    }
}

/// Constants of one value per position added to computed tensors (position embeddings): after
/// a dense product of rank-3 tokens (its accumulator requantized first), after a scale, on the
/// model input, and subtracted.
#[test]
fn per_position_constants_add_and_agree_with_float() {
    let proto = onnx_gen::position_embedding(29);
    let xs = onnx::random_inputs(40, 24, (-1.0, 1.0), 30);
    let imported = import("position_embedding", &proto, &xs);
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    println!("position_embedding: {acc:?}, output step {step}");
    assert!(acc.max_abs_error <= 4.0 * step, "{acc:?}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "position_embedding");
    }
}

/// GELU's tanh form written out (GPT-2's gelu_new) is one table activation, distinct from the
/// erf form, and agrees with float.
#[test]
fn gelu_tanh_form_is_one_table_and_agrees_with_float() {
    for half_first in [true, false] {
        let proto = onnx_gen::gelu_tanh_mlp(31, half_first);
        let xs = onnx::random_inputs(16, 24, (-1.0, 1.0), 32);
        let imported = import("gelu_tanh", &proto, &xs);
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert!(kinds.contains(&"gelu-tanh"), "{kinds:?}");
        assert!(!kinds.contains(&"mul") && !kinds.contains(&"tanh"), "{kinds:?}");
        let acc = onnx::accuracy(&imported, &xs, None).unwrap();
        let step = imported.output_params().scale;
        println!("gelu_tanh half_first {half_first}: {acc:?}, output step {step}");
        assert!(acc.max_abs_error <= 4.0 * step, "{acc:?}");
        prove_verify(&imported, &xs[0], "gelu_tanh");
    }
}

/// A layer norm written out (ReduceMean, Sub, Pow 2 or Mul(d, d), ReduceMean, Add ε, Sqrt,
/// Div, with and without γ and β) is one layer norm gadget and agrees with float.
#[test]
fn a_decomposed_layer_norm_is_the_layer_norm_gadget() {
    for (square_mul, affine) in [(false, true), (true, false)] {
        let name = format!("layer_norm_decomposed mul {square_mul} affine {affine}");
        let proto = onnx_gen::layer_norm_decomposed(33, square_mul, affine);
        let xs = onnx::random_inputs(32, 24, (-1.0, 1.0), 34);
        let imported = import("ln_decomposed", &proto, &xs);
        let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
        assert_eq!(kinds.iter().filter(|&&k| k == "norm-stats").count(), 1, "{kinds:?}");
        // the gadget's own S₁ is the only sum, and nothing is squared outside it
        assert_eq!(kinds.iter().filter(|&&k| k == "reducesum").count(), 1, "{kinds:?}");
        assert!(!kinds.contains(&"mul"), "{kinds:?}");
        let acc = onnx::accuracy(&imported, &xs, None).unwrap();
        let step = imported.output_params().scale;
        println!("{name}: {acc:?}, output step {step}");
        assert!(acc.max_abs_error <= 4.0 * step, "{name}: {acc:?}");
        prove_verify(&imported, &xs[0], &name);
    }
    // a Sqrt outside the pattern is refused with why
    let proto = onnx_gen::graph_model(
        "sqrt",
        vec![onnx_gen::node("Sqrt", "sqrt", &["input"], "output")],
        vec![],
        &[1, 4],
        &[1, 4],
    );
    let dir = std::env::temp_dir().join(format!("gkrnet-sqrt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("sqrt.onnx");
    std::fs::write(&p, onnx_gen::encode(&proto)).unwrap();
    let e = onnx::import(&p, &ImportOptions::default()).unwrap_err().to_string();
    assert!(e.contains("Sqrt or Reciprocal outside a layer norm"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn an_identity_only_graph_proves_that_the_output_is_the_input() {
    let xs = onnx::random_inputs(6, 8, (-1.0, 1.0), 26);
    let imported = import("identity", &onnx_gen::identity_only(), &xs);
    assert_eq!(imported.model.layers.len(), 1);
    let out = prove_verify(&imported, &xs[0], "identity");
    assert_eq!(out, imported.quantize_input(&xs[0]).unwrap().data);
}

#[test]
fn shape_arithmetic_is_evaluated_at_import_and_expand_broadcasts() {
    let proto = onnx_gen::shape_arithmetic(27);
    // inspect: the Shape/Gather/Unsqueeze/Concat/ConstantOfShape nodes are supported (folded)
    let graph = onnx::Graph::from_proto(&proto).unwrap();
    for s in onnx::support(&graph).unwrap() {
        assert_eq!(s.verdict, Ok(()), "{} ({})", s.node, s.op);
    }
    let xs = onnx::random_inputs(9, 16, (0.0, 1.0), 28);
    let imported = import("shape_arithmetic", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert!(kinds.contains(&"broadcast"), "{kinds:?}");
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    assert!(acc.max_abs_error <= 8.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "shape_arithmetic");
    }
}

#[test]
fn slices_gathers_and_splits_of_computed_tensors_prove() {
    let proto = onnx_gen::takes(29);
    let xs = onnx::random_inputs(16, 16, (0.0, 1.0), 30);
    let imported = import("takes", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert!(kinds.iter().filter(|&&k| k == "take").count() >= 4, "{kinds:?}");
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    assert!(acc.max_abs_error <= 8.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "takes");
    }
}

#[test]
fn a_mean_of_every_entry_is_a_rank_zero_output() {
    let xs = onnx::random_inputs(6, 16, (0.0, 1.0), 31);
    let imported = import("mean_all", &onnx_gen::mean_all(32), &xs);
    assert_eq!(imported.model.output_dims(), &[] as &[usize]);
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    assert!(acc.max_abs_error <= 2.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        assert_eq!(prove_verify(&imported, x, "mean_all").len(), 1);
    }
}

#[test]
fn gather_nd_and_gather_elements_with_constant_indices_prove() {
    let proto = onnx_gen::gathers(33);
    let xs = onnx::random_inputs(24, 16, (0.0, 1.0), 34);
    let imported = import("gathers", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert_eq!(kinds.iter().filter(|&&k| k == "takeflat").count(), 2, "{kinds:?}");
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    assert!(acc.max_abs_error <= 8.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "gathers");
    }
    // the flat record round-trips with the model's digest
    let back = gkrnet::circuit::Model::decode(&imported.model.encode()).unwrap();
    assert_eq!(back.digest(), imported.model.digest());
}

#[test]
fn tile_of_a_computed_tensor_is_wiring_and_agrees_with_float() {
    let proto = onnx_gen::tile(31);
    let xs = onnx::random_inputs(6, 16, (-1.0, 1.0), 32);
    let imported = import("tile", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert!(kinds.contains(&"takeflat"), "{kinds:?}");
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    assert!(acc.max_abs_error <= 4.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "tile");
    }
}

#[test]
fn where_with_a_constant_condition_selects_and_agrees_with_float() {
    let proto = onnx_gen::select(33);
    let xs = onnx::random_inputs(6, 16, (-1.0, 1.0), 34);
    let imported = import("select", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert!(kinds.contains(&"takeflat") && kinds.contains(&"concat"), "{kinds:?}");
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    println!("select: {acc:?}, step {step}");
    assert!(acc.max_abs_error <= 4.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "select");
    }
    // a condition computed from the input is refused, by inspect and the import alike
    let mut computed = proto.clone();
    computed.graph.as_mut().unwrap().node[3].input[0] = "s".into();
    let graph = onnx::Graph::from_proto(&computed).unwrap();
    let s = onnx::support(&graph).unwrap();
    let v = s.iter().find(|s| s.node == "select").unwrap();
    assert!(v.verdict.as_ref().unwrap_err().contains("constant conditions only"), "{v:?}");
}

#[test]
fn a_division_by_one_constant_per_position_requantizes_per_element() {
    let proto = onnx_gen::per_position(35);
    let xs = onnx::random_inputs(6, 16, (-1.0, 1.0), 36);
    let imported = import("per_position", &proto, &xs);
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    assert!(acc.max_abs_error <= 4.0 * step, "{acc:?}, step {step}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "per_position");
    }
    // a negative divisor is refused
    let mut negative = proto.clone();
    let g = negative.graph.as_mut().unwrap();
    g.initializer[0] = onnx_gen::tensor("divisors", &[2, 3], &[1.0, -2.0, 4.0, 2.0, 1.0, 3.0]);
    let opts = ImportOptions { calibration: Some(xs.clone()), ..Default::default() };
    let e = onnx::import_proto(&negative, "negative", &opts).unwrap_err().to_string();
    assert!(e.contains("negative"), "{e}");
}

/// One-dimensional convolutions and pooling on [N, C, L] (audio and sequence models): each the
/// two-dimensional layer on [N, C, 1, L] between reshapes, with pads, strides, dilations,
/// groups, max and average pooling and a global average; the output tracks tract's float run
/// and proves.
#[test]
fn one_dimensional_convolutions_and_pooling_prove() {
    let proto = onnx_gen::conv_1d(97);
    let xs = onnx::random_inputs(60, 24, (-1.0, 1.0), 98);
    let imported = import("conv_1d", &proto, &xs);
    let kinds: Vec<&str> = imported.model.layers.iter().map(|l| l.kind()).collect();
    assert!(kinds.contains(&"maxpool") && kinds.contains(&"avgpool"), "{kinds:?}");
    assert_eq!(imported.model.output_dims(), &[1, 4, 1]);
    let acc = onnx::accuracy(&imported, &xs, None).unwrap();
    let step = imported.output_params().scale;
    println!("conv_1d: {acc:?}, output step {step}");
    assert!(acc.max_abs_error <= 4.0 * step, "{acc:?}");
    for x in &xs[..2] {
        prove_verify(&imported, x, "conv_1d");
    }
}
