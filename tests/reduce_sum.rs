//! ReduceSum, the second operator added through the registry (`circuit::OPS`): the sum along
//! any axis (keepdims) proves and verifies the naive sum, alone and on a virtual input, round-
//! trips through the encoding, and a false sum, a proof for another input and flipped bytes are
//! rejected.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::{random_int8_tensor, rng};
use gkrnet::circuit::reduce::{ReduceSum, ReduceSumSpec};
use gkrnet::circuit::{zoo::Builder, LayerSpec, Model, Reduction, Tensor, Wiring};
use gkrnet::error::{ProveError, VerifyError};
use gkrnet::field::Fp;
use gkrnet::gkr::{self, ProveOptions, VerifyOptions};
use gkrnet::sumcheck::EvalClaim;
use gkrnet::transcript::{FiatShamirProver, FiatShamirVerifier};

/// The sum along `axis` by index arithmetic, independent of the layer's loops.
fn naive_sum(x: &Tensor, axis: usize) -> Tensor {
    let dims = &x.dims;
    let mut out_dims = dims.clone();
    out_dims[axis] = 1;
    let mut out = vec![0i64; out_dims.iter().product()];
    for (i, &v) in x.data.iter().enumerate() {
        let (mut rest, mut j, mut stride) = (i, 0, 1);
        for a in (0..dims.len()).rev() {
            let c = rest % dims[a];
            rest /= dims[a];
            j += if a == axis { 0 } else { c * stride };
            stride *= out_dims[a];
        }
        out[j] += v;
    }
    Tensor::new(out_dims, out).unwrap()
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

#[test]
fn sums_along_every_axis_prove_and_verify_the_naive_sum() {
    let mut r = rng(31);
    for (dims, axis) in SHAPES {
        let mut b = Builder::new(dims.to_vec());
        b.push(ReduceSum::new(0, dims, axis).unwrap());
        let model = b.finish("sum").unwrap();
        let input = random_int8_tensor(&mut r, dims);
        let proof = gkr::prove_bytes(&model, &input, &ProveOptions::default()).unwrap();
        assert_eq!(proof.output, naive_sum(&input, axis), "{dims:?} axis {axis}");
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
fn a_sum_of_a_virtual_tensor_reduces_through_it() {
    // input [2, 12] → reshape [2, 3, 4] (virtual) → sum along axis 2 → sum along axis 1
    let mut b = Builder::new(vec![2, 12]);
    let v = b.push(Wiring::reshape(0, &[2, 12], vec![2, 3, 4]).unwrap());
    let s = b.push(ReduceSum::new(v, &[2, 3, 4], 2).unwrap());
    b.push(ReduceSum::new(s, &[2, 3, 1], 1).unwrap());
    let model = b.finish("sum of sums").unwrap();
    let input = random_int8_tensor(&mut rng(32), &[2, 12]);
    let proof = gkr::prove_bytes(&model, &input, &ProveOptions::default()).unwrap();
    let want: Vec<i64> = input.data.chunks(12).map(|row| row.iter().sum()).collect();
    assert_eq!(proof.output.data, want);
    assert_eq!(proof.output.dims, vec![2, 1, 1]);
    gkr::verify_bytes(&model, &input, &VerifyOptions::default(), &proof.proof).unwrap();
}

/// The prover's bytes (or its refusal), and the verifier's verdict when there are bytes.
type RoundTrip = (Result<Vec<u8>, ProveError>, Option<Result<(), VerifyError>>);

/// A claim on the output, proved by the layer alone and checked by its verifier.
fn round_trip(layer: &ReduceSum, x: &Tensor, claim: &EvalClaim) -> RoundTrip {
    let mut p = FiatShamirProver::new("reduce test");
    let proved = layer.prove_output(claim, &[x], &mut p);
    let bytes = p.into_proof().encode();
    if proved.is_err() {
        return (proved.map(|_| bytes), None);
    }
    let mut v = FiatShamirVerifier::new("reduce test", &bytes).unwrap();
    let verified = layer.verify_output(claim, &mut v).map(|claims| {
        for (_, c) in &claims {
            assert_eq!(x.evaluate(&c.point), c.value, "the returned claim on x is true");
        }
    });
    (Ok(bytes), Some(verified))
}

#[test]
fn a_false_sum_is_refused_and_rejected_and_flips_never_pass() {
    let dims = [3usize, 5, 4];
    let layer = ReduceSum::new(0, &dims, 1).unwrap();
    let x = random_int8_tensor(&mut rng(33), &dims);
    let out = naive_sum(&x, 1);
    let point: Vec<Fp> = (0..out.layout().num_vars()).map(|i| Fp::from(7 + i as u64)).collect();
    let honest = EvalClaim { value: out.evaluate(&point), point };
    let (bytes, verdict) = round_trip(&layer, &x, &honest);
    assert_eq!(verdict, Some(Ok(())));
    let bytes = bytes.unwrap();
    // the honest prover will not phrase a false sum
    let false_claim = EvalClaim { value: honest.value + Fp::from(1u64), ..honest.clone() };
    assert!(matches!(round_trip(&layer, &x, &false_claim).0, Err(ProveError::ClaimedSumMismatch)));
    // the honest proof checked against the false claim fails
    let mut v = FiatShamirVerifier::new("reduce test", &bytes).unwrap();
    assert!(layer.verify_output(&false_claim, &mut v).is_err());
    // every flipped byte of the proof: an error or a returned claim that is false, never a panic
    for i in 0..bytes.len() {
        let mut bad = bytes.clone();
        bad[i] ^= 0x10;
        let Ok(mut v) = FiatShamirVerifier::new("reduce test", &bad) else { continue };
        if let Ok(claims) = layer.verify_output(&honest, &mut v) {
            let all_true = claims.iter().all(|(_, c)| x.evaluate(&c.point) == c.value);
            assert!(!all_true || v.finish().is_err(), "flip at byte {i} passed");
        }
    }
}

#[test]
fn the_record_round_trips_and_bad_axes_are_refused() {
    let model = {
        let mut b = Builder::new(vec![2, 3]);
        b.push(ReduceSum::new(0, &[2, 3], 1).unwrap());
        b.finish("sum").unwrap()
    };
    let bytes = model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.digest(), model.digest());
    assert_eq!(back.encode(), bytes);
    let spec = back.layers[0].spec();
    assert_eq!(
        spec.op::<ReduceSumSpec>(),
        Some(&ReduceSumSpec { x: 0, x_dims: vec![2, 3], axis: 1 })
    );
    // another axis is another model
    let mut b = Builder::new(vec![2, 3]);
    b.push(ReduceSum::new(0, &[2, 3], 0).unwrap());
    assert_ne!(b.finish("sum").unwrap().digest(), model.digest());
    assert!(ReduceSum::new(0, &[2, 3], 2).is_err());
    let bad = ReduceSumSpec { x: 0, x_dims: vec![2, 3], axis: 5 };
    assert!(LayerSpec::Op(Box::new(bad)).build().is_err());
}
