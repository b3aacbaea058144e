//! PrefixSum, Broadcast and AxisDot, the three virtual operators of the argmax, on their own:
//! along every axis of several shapes (one-entry axes, lengths that are not powers of two) they
//! prove and verify the naive results, on int8 inputs and on virtual ones; a tampered output is
//! refused by the honest prover and rejected with its exact error from a cheating one; flipped
//! bytes are never accepted; the records round-trip and the constructors' refusals hold.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::cheating::{self, along_weights};
use common::errors::in_layer;
use common::model::{
    cheat, flips_never_accepted, honest, prove_and_verify, recompute_after, rejected,
};
use common::{random_int8_tensor, rng};
use gkrnet::circuit::along::Along;
use gkrnet::circuit::axisdot::{AxisDot, AxisDotSpec};
use gkrnet::circuit::broadcast::{Broadcast, BroadcastSpec};
use gkrnet::circuit::prefix::{PrefixSum, PrefixSumSpec};
use gkrnet::circuit::reduce::ReduceSum;
use gkrnet::circuit::{
    zoo::Builder, Layer, LayerSpec, Layout, Model, ModelError, OpRecord, Tensor, Witness,
};
use gkrnet::error::{ProveError, VerifyError};
use gkrnet::gkr::{self, ProveOptions, VerifyOptions};
use gkrnet::sumcheck::EvalClaim;
use gkrnet::transcript::{FiatShamirProver, ProverTranscript};
use rand::Rng;

/// The row-major coordinates of entry `i` of a tensor of dimensions `dims`.
fn coords(mut i: usize, dims: &[usize]) -> Vec<usize> {
    let mut c = vec![0; dims.len()];
    for a in (0..dims.len()).rev() {
        c[a] = i % dims[a];
        i /= dims[a];
    }
    c
}

/// The row-major index of coordinates `c`.
fn index(c: &[usize], dims: &[usize]) -> usize {
    c.iter().zip(dims).fold(0, |acc, (&ci, &d)| acc * d + ci)
}

/// Each entry the sum of the entries at or before it along `axis`, by coordinates.
fn naive_prefix(x: &Tensor, axis: usize) -> Tensor {
    let mut out = vec![0; x.data.len()];
    for (i, o) in out.iter_mut().enumerate() {
        let mut c = coords(i, &x.dims);
        for l in 0..=c[axis] {
            c[axis] = l;
            *o += x.data[index(&c, &x.dims)];
        }
    }
    Tensor::new(x.dims.clone(), out).unwrap()
}

/// Each entry of `out_dims` the entry of x at its coordinates, 0 on x's axes of length 1.
fn naive_broadcast(x: &Tensor, out_dims: &[usize]) -> Tensor {
    let mut out = vec![0; out_dims.iter().product()];
    for (i, o) in out.iter_mut().enumerate() {
        let mut c = coords(i, out_dims);
        c.iter_mut().zip(&x.dims).filter(|(_, &d)| d == 1).for_each(|(c, _)| *c = 0);
        *o = x.data[index(&c, &x.dims)];
    }
    Tensor::new(out_dims.to_vec(), out).unwrap()
}

/// Σ x·y along `axis`, the axis kept with length 1.
fn naive_dot(x: &Tensor, y: &Tensor, axis: usize) -> Tensor {
    let mut out_dims = x.dims.clone();
    out_dims[axis] = 1;
    let mut out = vec![0i64; out_dims.iter().product()];
    for i in 0..x.data.len() {
        let mut c = coords(i, &x.dims);
        c[axis] = 0;
        out[index(&c, &out_dims)] += x.data[i] * y.data[i];
    }
    Tensor::new(out_dims, out).unwrap()
}

/// The sum along `axis`: the dot with all ones.
fn naive_sum(x: &Tensor, axis: usize) -> Tensor {
    naive_dot(x, &Tensor::new(x.dims.clone(), vec![1; x.data.len()]).unwrap(), axis)
}

const SHAPES: [(&[usize], usize); 8] = [
    (&[5], 0),
    (&[3, 5], 1),
    (&[3, 5], 0),
    (&[2, 3, 5, 6], 1),
    (&[2, 3, 5, 6], 3),
    (&[1, 7, 1], 1),
    (&[4, 1, 3], 1),
    (&[6, 10], 1),
];

fn one_layer(dims: &[usize], layer: impl Layer + 'static) -> Model {
    let mut b = Builder::new(dims.to_vec());
    b.push(layer);
    b.finish("axis op").unwrap()
}

#[test]
fn prefix_sums_along_every_axis_prove_and_verify_the_naive_sums() {
    let mut r = rng(51);
    for (dims, axis) in SHAPES {
        let model = one_layer(dims, PrefixSum::new(0, dims, axis).unwrap());
        let input = random_int8_tensor(&mut r, dims);
        let proof = gkr::prove_bytes(&model, &input, &ProveOptions::default()).unwrap();
        assert_eq!(proof.output, naive_prefix(&input, axis), "{dims:?} axis {axis}");
        let out = gkr::verify_bytes(&model, &input, &VerifyOptions::default(), &proof.proof)
            .unwrap_or_else(|e| panic!("{dims:?} axis {axis}: {e}"));
        assert_eq!(out, proof.output);
        // the proof is of this input only
        let other = random_int8_tensor(&mut r, dims);
        let err = gkr::verify_bytes(&model, &other, &VerifyOptions::default(), &proof.proof);
        assert!(err.is_err(), "{dims:?} axis {axis}: another input accepted");
    }
}

#[test]
fn broadcasts_of_inputs_and_of_virtual_tensors_are_the_naive_broadcasts() {
    let mut r = rng(52);
    let cases: [(&[usize], &[usize]); 6] = [
        (&[1, 5], &[3, 5]),
        (&[3, 1], &[3, 5]),
        (&[1, 1], &[4, 6]),
        (&[2, 1, 3], &[2, 7, 3]),
        (&[1, 1, 1], &[1, 1, 1]),
        (&[5], &[5]),
    ];
    for (x_dims, out_dims) in cases {
        let what = format!("{x_dims:?} → {out_dims:?}");
        let model = one_layer(x_dims, Broadcast::new(0, x_dims, out_dims).unwrap());
        let input = random_int8_tensor(&mut r, x_dims);
        let w = prove_and_verify(&model, &input, &what);
        assert_eq!(w.output(), &naive_broadcast(&input, out_dims), "{what}");
    }
    // virtual inputs: a sum along axis 1 broadcast back, and sums along axes 0 and 2 of a
    // [2, 3, 4] input broadcast back to it
    for (dims, axes) in [(&[3usize, 5][..], &[1usize][..]), (&[2, 3, 4], &[0, 2])] {
        let mut b = Builder::new(dims.to_vec());
        let (mut t, mut sum_dims) = (0, dims.to_vec());
        for &axis in axes {
            t = b.push(ReduceSum::new(t, &sum_dims, axis).unwrap());
            sum_dims[axis] = 1;
        }
        b.push(Broadcast::new(t, &sum_dims, dims).unwrap());
        let model = b.finish("sum-broadcast").unwrap();
        for _ in 0..2 {
            let input = random_int8_tensor(&mut r, dims);
            let w = prove_and_verify(&model, &input, &format!("{dims:?} summed along {axes:?}"));
            let sums = axes.iter().fold(input.clone(), |s, &axis| naive_sum(&s, axis));
            assert_eq!(w.tensors[t], sums);
            assert_eq!(w.output(), &naive_broadcast(&sums, dims));
        }
    }
}

#[test]
fn shapes_that_do_not_broadcast_are_shape_errors_naming_both() {
    let cases: [(&[usize], &[usize]); 5] = [
        (&[3], &[3, 1]),
        (&[1, 5], &[5]),
        (&[2, 5], &[3, 5]),
        (&[3, 5], &[3, 1]),
        (&[2, 1, 3], &[2, 7, 4]),
    ];
    for (x_dims, out_dims) in cases {
        match Broadcast::new(0, x_dims, out_dims) {
            Err(ModelError::Shape(m)) => assert!(
                m.contains(&format!("{x_dims:?}")) && m.contains(&format!("{out_dims:?}")),
                "{x_dims:?} → {out_dims:?}: {m}"
            ),
            other => panic!("{x_dims:?} → {out_dims:?}: {other:?}"),
        }
    }
}

#[test]
fn dots_of_virtual_tensors_and_squares_are_the_naive_dots() {
    let mut r = rng(53);
    for (dims, axis) in [(&[3usize, 5][..], 1), (&[3, 5], 0), (&[2, 3, 5], 1), (&[4, 1, 6], 2)] {
        let other = (axis + 1) % dims.len();
        let x = random_int8_tensor(&mut r, dims);
        let (pa, po) = (naive_prefix(&x, axis), naive_prefix(&x, other));
        // (x, y) of the dot: two prefix sums, the input and a prefix sum, the input twice
        for (case, want) in [
            (0, naive_dot(&pa, &po, axis)),
            (1, naive_dot(&x, &pa, axis)),
            (2, naive_dot(&x, &x, axis)),
        ] {
            let mut b = Builder::new(dims.to_vec());
            let (xt, yt) = match case {
                0 => (
                    b.push(PrefixSum::new(0, dims, axis).unwrap()),
                    b.push(PrefixSum::new(0, dims, other).unwrap()),
                ),
                1 => (0, b.push(PrefixSum::new(0, dims, axis).unwrap())),
                _ => (0, 0),
            };
            b.push(AxisDot::new(xt, yt, dims, axis).unwrap());
            let model = b.finish("dot").unwrap();
            let w = prove_and_verify(&model, &x, &format!("{dims:?} axis {axis} case {case}"));
            assert_eq!(w.output(), &want, "{dims:?} axis {axis} case {case}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// soundness

/// `model` with layer `at` (a PrefixSum or AxisDot along `axis` of `dims`) proving by running its
/// sumcheck on whatever claim it gets (same digest).
fn with_cheater(model: &Model, at: usize, dims: &[usize], axis: usize) -> Model {
    let dims = dims.to_vec();
    cheating::with_cheater(model, at, |l| {
        let (kind, dims) = (l.kind(), dims.clone());
        Box::new(move |claim: &EvalClaim, inputs: &[&Tensor], t: &mut dyn ProverTranscript| {
            let along = Along::new(Layout::new(&dims), axis);
            let factors = inputs.iter().map(|x| along.layout().pad_fp(&x.data)).collect();
            let (rho, weights) = along_weights(kind, &along, dims[axis], &claim.point);
            along.prove_unchecked(&rho, &weights, factors, claim.value, t)
        })
    })
}

/// `model`'s prover handed `w` unchecked: the proof, or its refusal.
fn prove_witness(model: &Model, w: &Witness) -> Result<Vec<u8>, ProveError> {
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    let opts = ProveOptions::default().with_witness(w).unchecked();
    gkr::prove(model, &w.tensors[0], &opts, &mut t)?;
    Ok(t.into_proof().encode())
}

/// The honest witness with entry `j` of layer `layer`'s output raised by 1 and every later layer
/// recomputed from it: the output it claims differs from the honest one.
fn tampered(model: &Model, input: &Tensor, layer: usize, j: usize) -> Witness {
    let mut w = model.forward(input).unwrap();
    let honest_out = w.output().clone();
    w.tensors[layer + 1].data[j] += 1;
    recompute_after(model, &mut w, layer);
    assert_ne!(w.output(), &honest_out, "the tampered entry changes the output");
    w
}

fn random_flips(seed: u64, proof: &[u8]) -> Vec<(usize, u8)> {
    let mut r = rng(seed);
    (0..200).map(|_| (r.gen_range(0..proof.len()), 1u8 << r.gen_range(0..8))).collect()
}

#[test]
fn a_false_prefix_sum_or_dot_is_refused_and_its_sumcheck_rejects_it() {
    let dims = [3usize, 5];
    let x = random_int8_tensor(&mut rng(54), &dims);
    // layer 0 the op under test, layer 1 a consumer whose own claim stays true
    let prefix = {
        let mut b = Builder::new(dims.to_vec());
        let p = b.push(PrefixSum::new(0, &dims, 1).unwrap());
        b.push(ReduceSum::new(p, &dims, 0).unwrap());
        (b.finish("prefix-sum").unwrap(), 1, "prefixsum", 7)
    };
    let dot = {
        let mut b = Builder::new(dims.to_vec());
        let d = b.push(AxisDot::new(0, 0, &dims, 1).unwrap());
        b.push(Broadcast::new(d, &[3, 1], &dims).unwrap());
        (b.finish("dot-broadcast").unwrap(), 1, "axisdot", 1)
    };
    for (seed, (model, axis, kind, j)) in [(55, prefix), (56, dot)] {
        let w = tampered(&model, &x, 0, j);
        assert_eq!(prove_witness(&model, &w), Err(ProveError::ClaimedSumMismatch), "{kind}");
        // run anyway, the layer's own sumcheck on the false claim fails its final check
        let proof = prove_witness(&with_cheater(&model, 0, &dims, axis), &w).unwrap();
        let e = rejected(&model, &x, &proof, kind);
        assert!(
            matches!(in_layer(&e, 0, kind), Some(VerifyError::FinalEvalMismatch { .. })),
            "{kind}: {e}"
        );
        let proof = honest(&model, &x);
        flips_never_accepted(&model, &x, &proof, &random_flips(seed, &proof));
    }
}

#[test]
fn a_false_broadcast_maps_to_a_false_claim_on_its_input() {
    // layer 0 broadcasts the input [3, 1] to [3, 5], layer 1 takes prefix sums of it
    let (x_dims, dims) = ([3usize, 1], [3usize, 5]);
    let mut b = Builder::new(x_dims.to_vec());
    let t = b.push(Broadcast::new(0, &x_dims, &dims).unwrap());
    b.push(PrefixSum::new(t, &dims, 1).unwrap());
    let model = b.finish("broadcast-prefix").unwrap();
    let x = random_int8_tensor(&mut rng(57), &x_dims);
    let w = tampered(&model, &x, 0, 6);
    // the broadcast sends nothing: the prover maps the (true) prefix sum's claim on the tampered
    // tensor to v / Π mask on the input, which the verifier evaluates itself and finds false
    let e = rejected(&model, &x, &cheat(&model, &w), "broadcast");
    assert!(
        matches!(
            in_layer(&e, 0, "broadcast"),
            Some(VerifyError::Input { source })
                if matches!(**source, VerifyError::EvalMismatch { what: "the input's MLE", .. })
        ),
        "{e}"
    );
    let proof = honest(&model, &x);
    flips_never_accepted(&model, &x, &proof, &random_flips(58, &proof));
    // on a virtual input the false claim reaches the sum's sumcheck: the prover refuses it
    let mut b = Builder::new(dims.to_vec());
    let s = b.push(ReduceSum::new(0, &dims, 1).unwrap());
    let t = b.push(Broadcast::new(s, &x_dims, &dims).unwrap());
    b.push(PrefixSum::new(t, &dims, 1).unwrap());
    let model = b.finish("sum-broadcast-prefix").unwrap();
    let x = random_int8_tensor(&mut rng(59), &dims);
    let w = tampered(&model, &x, 1, 6);
    assert_eq!(prove_witness(&model, &w), Err(ProveError::ClaimedSumMismatch));
}

// ---------------------------------------------------------------------------------------------
// encoding

#[test]
fn the_records_round_trip_and_refused_records_do_not_build() {
    // the three ops in one model: the dot of the prefix sums with the broadcast row sums
    let dims = [3usize, 5];
    let mut b = Builder::new(dims.to_vec());
    let p = b.push(PrefixSum::new(0, &dims, 1).unwrap());
    let s = b.push(ReduceSum::new(0, &dims, 1).unwrap());
    let t = b.push(Broadcast::new(s, &[3, 1], &dims).unwrap());
    b.push(AxisDot::new(p, t, &dims, 1).unwrap());
    let model = b.finish("all three").unwrap();
    let bytes = model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.digest(), model.digest());
    assert_eq!(back.encode(), bytes);
    assert_eq!(
        back.layers[0].spec().op::<PrefixSumSpec>(),
        Some(&PrefixSumSpec { x: 0, x_dims: dims.to_vec(), axis: 1 })
    );
    assert_eq!(
        back.layers[2].spec().op::<BroadcastSpec>(),
        Some(&BroadcastSpec { x: 2, x_dims: vec![3, 1], out_dims: dims.to_vec() })
    );
    assert_eq!(
        back.layers[3].spec().op::<AxisDotSpec>(),
        Some(&AxisDotSpec { x: 1, y: 3, dims: dims.to_vec(), axis: 1 })
    );
    let x = random_int8_tensor(&mut rng(60), &dims);
    let proof = honest(&model, &x);
    let out = gkr::verify_bytes(&back, &x, &VerifyOptions::default(), &proof).unwrap();
    let sums = naive_broadcast(&naive_sum(&x, 1), &dims);
    assert_eq!(out, naive_dot(&naive_prefix(&x, 1), &sums, 1));
    // another axis is another model
    let other = one_layer(&dims, PrefixSum::new(0, &dims, 0).unwrap());
    assert_ne!(other.digest(), one_layer(&dims, PrefixSum::new(0, &dims, 1).unwrap()).digest());
    // records the constructors refuse: an axis beyond the rank, dimensions that do not broadcast
    assert!(PrefixSum::new(0, &[2, 3], 2).is_err());
    assert!(AxisDot::new(0, 0, &[2, 3], 2).is_err());
    let bad: [Box<dyn OpRecord>; 5] = [
        Box::new(PrefixSumSpec { x: 0, x_dims: vec![2, 3], axis: 2 }),
        Box::new(AxisDotSpec { x: 0, y: 0, dims: vec![2, 3], axis: 7 }),
        Box::new(BroadcastSpec { x: 0, x_dims: vec![2, 3], out_dims: vec![3, 3] }),
        Box::new(BroadcastSpec { x: 0, x_dims: vec![3], out_dims: vec![1, 3] }),
        Box::new(BroadcastSpec { x: 0, x_dims: vec![2, 3], out_dims: vec![2, 1] }),
    ];
    for spec in bad {
        let what = format!("{spec:?}");
        assert!(LayerSpec::Op(spec).build().is_err(), "{what}");
    }
}
