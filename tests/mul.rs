//! Mul (the elementwise product (x − z_x)·(y − z_y) of two computed int8 tensors, y broadcast
//! along whole axes; a virtual output reduced by one degree-3 sumcheck):
//! * the layer's sub-protocol reduces a true claim to true claims on x (at r) and y (at r
//!   restricted to the axes y keeps), for same shapes, one and several broadcast axes, axes of
//!   length 1 in both, odd lengths, zero and nonzero zero points; a false claim is refused;
//! * models (branches → Mul → requantization) prove and verify through `gkr::prove_bytes` /
//!   `gkr::verify_bytes` with outputs equal to a naive integer reference (and within 1 of the
//!   float one): same shape, squeeze-excitation gating [1, C, H, W]·[1, C, 1, 1] (conv, global
//!   average pooling, sigmoid), [N, C]·[N, 1], x·x of one tensor (committed, the model input,
//!   virtual), reshaped operands of every broadcast pattern, the arithmetic requantization;
//! * soundness: one product entry changed (everything after it recomputed) and proved by a
//!   cheating Mul prover → `Layer { mul, FinalEvalMismatch }`; the honest layer prover refuses;
//!   x·x with final evaluations (a, b) whose product is right but a ≠ x̃(r) → caught on x, since
//!   both claims are routed (layer level: the verifier returns both, unmerged); every field
//!   message edited, byte flips, truncation and extension → never accepted, never a panic;
//! * the `.gkrm` round trip keeps the digest and the proofs; shapes that do not broadcast are a
//!   `ModelError` naming both shapes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::{Field, One, UniformRand};
use common::cheating;
use common::model::{
    branch, dense_m, flips_never_accepted, honest, never_accepted, recompute_after,
};
use common::{random_i8, rng};
use gkrnet::circuit::zoo::{self, common_shift, Builder, Rescale};
use gkrnet::circuit::{
    ClaimTarget, ConvGeometry, ConvSpec, DenseSpec, Layer, LayerSpec, Layout, Model, ModelError,
    Mul, MulSpec, Reduction, Tensor, Witness,
};
use gkrnet::error::ProveError;
use gkrnet::field::{from_i64, Fp};
use gkrnet::gkr::{self, ProveOptions, VerifyOptions};
use gkrnet::proof::Proof;
use gkrnet::quant::{div_pow2_round_half_even, Activation};
use gkrnet::sumcheck::{self, prover::ProductSum, EvalClaim};
use gkrnet::transcript::{FiatShamirProver, FiatShamirVerifier, ProverTranscript};
use gkrnet::VerifyError;
use rand::Rng;
use rand_chacha::ChaCha20Rng;

const PROTOCOL: &str = "mul test";

/// (x dims, y dims): same shape, one and several broadcast axes, axes of length 1 in both,
/// odd lengths on broadcast axes, y a single entry, no variables at all.
const SHAPES: [(&[usize], &[usize]); 10] = [
    (&[3, 7], &[3, 7]),
    (&[2, 3, 5, 6], &[2, 3, 1, 1]),
    (&[1, 3, 5, 6], &[1, 3, 1, 1]),
    (&[3, 5], &[3, 1]),
    (&[3, 5], &[1, 5]),
    (&[5, 1, 3, 7], &[1, 1, 3, 1]),
    (&[5, 3, 7], &[1, 1, 1]),
    (&[6, 1, 5], &[6, 1, 5]),
    (&[2, 1], &[1, 1]),
    (&[1, 1], &[1, 1]),
];

const ZEROS: [(i32, i32); 3] = [(0, 0), (-5, 17), (127, -128)];

fn random_tensor(rng: &mut ChaCha20Rng, dims: &[usize]) -> Tensor {
    let len = dims.iter().product();
    Tensor::new(dims.to_vec(), (0..len).map(|_| rng.gen_range(-128..=127)).collect()).unwrap()
}

fn random_point(rng: &mut ChaCha20Rng, n: usize) -> Vec<Fp> {
    (0..n).map(|_| Fp::rand(rng)).collect()
}

/// numpy broadcasting of y to x's dimensions, then (x − z_x)·(y − z_y).
fn naive_product(x: &Tensor, zx: i32, y: &Tensor, zy: i32) -> Vec<i64> {
    (0..x.data.len())
        .map(|i| {
            let (mut rest, mut j, mut stride) = (i, 0, 1);
            for (&dx, &dy) in x.dims.iter().zip(&y.dims).rev() {
                let c = rest % dx;
                rest /= dx;
                j += if dy == 1 { 0 } else { c } * stride;
                stride *= dy;
            }
            (x.data[i] - zx as i64) * (y.data[j] - zy as i64)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// the layer alone

type Claims = Vec<(ClaimTarget, EvalClaim)>;

/// The honest proof of the layer alone for `claim`, and the verifier's claims.
fn layer_round_trip(
    mul: &Mul,
    x: &Tensor,
    y: &Tensor,
    claim: &EvalClaim,
) -> (Claims, Result<Claims, VerifyError>) {
    let mut p = FiatShamirProver::new(PROTOCOL);
    let proved = mul.prove_output(claim, &[x, y], &mut p).unwrap();
    let bytes = p.into_proof().encode();
    (proved, verify_layer(mul, claim, &bytes))
}

fn verify_layer(mul: &Mul, claim: &EvalClaim, bytes: &[u8]) -> Result<Claims, VerifyError> {
    let mut v = FiatShamirVerifier::new(PROTOCOL, bytes)?;
    let claims = mul.verify_output(claim, &mut v)?;
    v.finish()?;
    Ok(claims)
}

#[test]
fn layer_protocol_reduces_a_true_claim_to_true_input_claims() {
    let mut rng = rng(1);
    for (xd, yd) in SHAPES {
        for (zx, zy) in ZEROS {
            let mul = Mul::new(1, xd, zx, 2, yd, zy).unwrap();
            let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
            let p = mul.forward(&[&x, &y]).unwrap().output;
            assert_eq!(p.data, naive_product(&x, zx, &y, zy), "{xd:?} {yd:?}");
            assert_eq!(p.dims, xd);
            let r = random_point(&mut rng, Layout::new(xd).num_vars());
            let claim = EvalClaim { value: p.evaluate(&r), point: r };
            let (proved, verified) = layer_round_trip(&mul, &x, &y, &claim);
            let verified = verified.unwrap_or_else(|e| panic!("{xd:?} {yd:?} {zx} {zy}: {e}"));
            assert_eq!(proved, verified);
            let [(ClaimTarget::Input(0), cx), (ClaimTarget::Input(1), cy)] = verified.as_slice()
            else {
                panic!("claims on input 0 then input 1, got {verified:?}")
            };
            assert_eq!(x.evaluate(&cx.point), cx.value, "{xd:?} {yd:?}: the claim on x");
            assert_eq!(cy.point.len(), Layout::new(yd).num_vars());
            assert_eq!(Some(cy.point.clone()), mul.restrict(&cx.point));
            assert_eq!(y.evaluate(&cy.point), cy.value, "{xd:?} {yd:?}: the claim on y");
            // a false claim: the honest prover refuses to phrase it
            let false_claim = EvalClaim { value: claim.value + Fp::one(), ..claim.clone() };
            let mut t = FiatShamirProver::new(PROTOCOL);
            assert_eq!(
                mul.prove_output(&false_claim, &[&x, &y], &mut t),
                Err(ProveError::ClaimedSumMismatch)
            );
        }
    }
}

#[test]
fn restriction_keeps_the_variables_of_the_kept_axes_lowest_first() {
    // x [5, 1, 3, 7] has variables: axis 3 → 0..3, axis 2 → 3..5, axis 1 → none, axis 0 → 5..8;
    // y [1, 1, 3, 1] keeps axis 2 (and axis 1, which has no variables)
    let mul = Mul::new(1, &[5, 1, 3, 7], 0, 2, &[1, 1, 3, 1], 0).unwrap();
    let r: Vec<Fp> = (0..8u64).map(Fp::from).collect();
    assert_eq!(mul.restrict(&r), Some(vec![Fp::from(3u64), Fp::from(4u64)]));
    // y [2, 3, 1, 1] of x [2, 3, 5, 6]: W → 0..3, H → 3..6, C → 6..8, N → 8..9
    let mul = Mul::new(1, &[2, 3, 5, 6], 0, 2, &[2, 3, 1, 1], 0).unwrap();
    let r: Vec<Fp> = (0..9u64).map(Fp::from).collect();
    assert_eq!(mul.restrict(&r), Some((6..9u64).map(Fp::from).collect()));
    assert_eq!(mul.restrict(&r[..8]), None);
    // [3, 5]·[1, 5] keeps the column variables; [3, 5]·[3, 1] the row variables
    let r: Vec<Fp> = (0..5u64).map(Fp::from).collect();
    let cols = Mul::new(1, &[3, 5], 0, 2, &[1, 5], 0).unwrap();
    assert_eq!(cols.restrict(&r), Some(r[..3].to_vec()));
    let rows = Mul::new(1, &[3, 5], 0, 2, &[3, 1], 0).unwrap();
    assert_eq!(rows.restrict(&r), Some(r[3..].to_vec()));
    // everything broadcast: ỹ is the constant y[0]
    let all = Mul::new(1, &[5, 3, 7], 0, 2, &[1, 1, 1], 0).unwrap();
    assert_eq!(all.restrict(&r[..]).map(|p| p.len()), Some(0));
}

/// The prover's three tables for a claim at ρ: E = eq(ρ, ·)·mask, X − z_x, Y − z_y with
/// Y(b) = ỹ(restrict(b)) on x's whole hypercube, built from the public API only.
fn tables(mul: &Mul, x: &Tensor, y: &Tensor, rho: &[Fp]) -> Vec<Vec<Fp>> {
    let [zx, zy] = mul.zeros().map(|z| from_i64(z as i64));
    let xl = Layout::new(mul.x_dims());
    let n = xl.num_vars();
    let e = xl.masked_eq_table(rho);
    let xs = xl.pad_fp(&x.data).into_iter().map(|v| v - zx).collect();
    let ys = (0..1usize << n)
        .map(|b| {
            let bits: Vec<Fp> = (0..n).map(|i| Fp::from(((b >> i) & 1) as u64)).collect();
            y.evaluate(&mul.restrict(&bits).unwrap()) - zy
        })
        .collect();
    vec![e, xs, ys]
}

/// What a cheating Mul prover does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cheat {
    /// the honest protocol (built from the public API: it must match the layer's own bytes)
    Nothing,
    /// runs the sumcheck on whatever claim it gets (a false one when p was changed)
    FalseSum,
    /// sends (c·(X(r) − z_x) + z_x, (Y(r) − z_y)/c + z_y): the product check still holds
    ScaledEvals(u64),
}

/// The cheating prover's side of the layer: the sumcheck of the claim (true or not), then the
/// final evaluations it chooses; returns the claims it would route.
fn cheating_prove_output(
    mul: &Mul,
    cheat: Cheat,
    claim: &EvalClaim,
    x: &Tensor,
    y: &Tensor,
    mut t: &mut dyn ProverTranscript,
) -> Claims {
    let [zx, zy] = mul.zeros().map(|z| from_i64(z as i64));
    let poly = ProductSum::product(tables(mul, x, y, &claim.point)).unwrap();
    let (out, consistent) = sumcheck::prover::prove_unchecked(poly, claim.value, &mut t);
    assert!(consistent || cheat == Cheat::FalseSum, "{cheat:?} on a false claim");
    let (xr, yr) = (out.final_evals[1], out.final_evals[2]);
    let (xr, yr) = match cheat {
        Cheat::ScaledEvals(c) => {
            let c = Fp::from(c);
            (c * xr, yr * c.inverse().unwrap())
        }
        _ => (xr, yr),
    };
    let (a, b) = (xr + zx, yr + zy);
    sumcheck::send_final_evals(&mut t, &[a, b]);
    let y_point = mul.restrict(&out.point).unwrap();
    vec![
        (ClaimTarget::Input(0), EvalClaim { point: out.point, value: a }),
        (ClaimTarget::Input(1), EvalClaim { point: y_point, value: b }),
    ]
}

#[test]
fn the_public_api_harness_matches_the_layer_prover_byte_for_byte() {
    let mut rng = rng(2);
    for (xd, yd) in SHAPES {
        let mul = Mul::new(1, xd, -7, 2, yd, 3).unwrap();
        let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
        let p = mul.forward(&[&x, &y]).unwrap().output;
        let r = random_point(&mut rng, Layout::new(xd).num_vars());
        let claim = EvalClaim { value: p.evaluate(&r), point: r };
        let mut a = FiatShamirProver::new(PROTOCOL);
        let ca = mul.prove_output(&claim, &[&x, &y], &mut a).unwrap();
        let mut b = FiatShamirProver::new(PROTOCOL);
        let cb = cheating_prove_output(&mul, Cheat::Nothing, &claim, &x, &y, &mut b);
        assert_eq!(ca, cb, "{xd:?} {yd:?}");
        assert_eq!(a.into_proof().encode(), b.into_proof().encode(), "{xd:?} {yd:?}");
    }
}

#[test]
fn layer_x_times_x_with_scaled_final_evals_passes_the_layer_with_two_distinct_claims() {
    let mut rng = rng(3);
    for dims in [&[3, 7][..], &[2, 3, 5, 6], &[1, 1]] {
        for z in [0, -9] {
            let mul = Mul::new(1, dims, z, 1, dims, z).unwrap();
            let x = random_tensor(&mut rng, dims);
            let p = mul.forward(&[&x, &x]).unwrap().output;
            let r = random_point(&mut rng, Layout::new(dims).num_vars());
            let claim = EvalClaim { value: p.evaluate(&r), point: r };
            let mut t = FiatShamirProver::new(PROTOCOL);
            let sent = cheating_prove_output(&mul, Cheat::ScaledEvals(2), &claim, &x, &x, &mut t);
            let bytes = t.into_proof().encode();
            // the layer alone cannot tell: (a − z)(b − z) is the honest product
            let claims = verify_layer(&mul, &claim, &bytes).unwrap();
            assert_eq!(claims, sent);
            let [(ClaimTarget::Input(0), ca), (ClaimTarget::Input(1), cb)] = claims.as_slice()
            else {
                panic!("two claims, got {claims:?}")
            };
            // both claims are returned, at one point, with their own values: the model driver
            // routes both to x (never deduplicated), and each is checked there
            assert_eq!(ca.point, cb.point);
            let honest = x.evaluate(&ca.point);
            let zf = from_i64(z as i64);
            assert_ne!(ca.value, honest, "{dims:?}");
            assert_ne!(cb.value, honest, "{dims:?}");
            assert_ne!(ca.value, cb.value);
            assert_eq!((ca.value - zf) * (cb.value - zf), (honest - zf) * (honest - zf));
        }
    }
}

#[test]
fn layer_tampered_or_missing_final_evals_are_rejected() {
    let mut rng = rng(4);
    let (xd, yd) = (&[2, 3, 5, 6][..], &[2, 3, 1, 1][..]);
    let mul = Mul::new(1, xd, 4, 2, yd, -4).unwrap();
    let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
    let p = mul.forward(&[&x, &y]).unwrap().output;
    let r = random_point(&mut rng, Layout::new(xd).num_vars());
    let claim = EvalClaim { value: p.evaluate(&r), point: r };
    let mut t = FiatShamirProver::new(PROTOCOL);
    mul.prove_output(&claim, &[&x, &y], &mut t).unwrap();
    let proof = t.into_proof();
    let last = proof.messages.len() - 1;
    assert_eq!(proof.messages[last].values.len(), 2, "X(r), Y(r)");
    for k in 0..2 {
        let mut bad = proof.clone();
        bad.messages[last].values[k] += Fp::one();
        let e = verify_layer(&mul, &claim, &bad.encode()).unwrap_err();
        assert!(matches!(e, VerifyError::FinalEvalMismatch { .. }), "{e}");
    }
    // one evaluation too many or too few, or none
    let mut bad = proof.clone();
    bad.messages[last].values.push(Fp::one());
    assert!(verify_layer(&mul, &claim, &bad.encode()).is_err());
    let mut bad = proof.clone();
    bad.messages[last].values.pop();
    assert!(verify_layer(&mul, &claim, &bad.encode()).is_err());
    let mut bad = proof.clone();
    bad.messages.pop();
    assert!(verify_layer(&mul, &claim, &bad.encode()).is_err());
    // a claim of the wrong number of variables is a statement error, never a panic
    let short = EvalClaim { point: claim.point[1..].to_vec(), value: claim.value };
    let bytes = proof.encode();
    let mut v = FiatShamirVerifier::new(PROTOCOL, &bytes).unwrap();
    assert!(matches!(mul.verify_output(&short, &mut v), Err(VerifyError::InvalidStatement { .. })));
    let mut t = FiatShamirProver::new(PROTOCOL);
    assert!(mul.prove_output(&short, &[&x, &y], &mut t).is_err());
    assert!(mul.prove_output(&claim, &[&x], &mut t).is_err());
    assert!(mul.prove_output(&claim, &[&y, &x], &mut t).is_err());
}

// ---------------------------------------------------------------------------------------------
// models

/// Rescale of a product of two int8 tensors spread over their range: ±3σ (σ ≈ 73²/2) to int8.
const PRODUCT_M: f64 = 127.0 / (1.5 * 73.0 * 73.0);

/// A model with one Mul and what the reference needs.
struct Case {
    name: String,
    model: Model,
    /// the Mul layer's index
    mul: usize,
    m: f64,
    zero_out: i32,
}

/// input [1, 4] → two branches reshaped to x and y dims (or one, for x·x) → Mul → requant.
fn reshaped_case(xd: &[usize], yd: Option<&[usize]>, (zx, zy): (i32, i32), seed: u64) -> Case {
    let mut rng = rng(seed);
    let mut b = Builder::new(vec![1, 4]);
    let x = branch(&mut b, &mut rng, xd, zx);
    let (y, zy) = match yd {
        Some(yd) => (branch(&mut b, &mut rng, yd, zy), zy),
        None => (x, zx),
    };
    let zero_out = 3;
    let out = b.mul((x, zx), (y, zy), PRODUCT_M, zero_out).unwrap();
    let name = format!("mul {xd:?}·{yd:?} z {zx},{zy}");
    Case { model: b.finish(&name).unwrap(), name, mul: out - 2, m: PRODUCT_M, zero_out }
}

/// Squeeze-excitation gating: conv → x [1, 3, 5, 6]; global average pooling → [1, 3, 1, 1];
/// sigmoid → y; x·y → requant.
fn gating_case(zx: i32, arithmetic: bool) -> Case {
    let mut rng = rng(20);
    let mut b = Builder::new(vec![1, 2, 5, 6]);
    b.arithmetic = arithmetic;
    let g = ConvGeometry::square(3, 1, 1);
    let m = 127.0 / (3.0 * 18f64.sqrt() * 73.0 * 73.0);
    let s_x = 0.05;
    let x = b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                features: 3,
                geometry: g,
                output_padding: None,
                weights: random_i8(&mut rng, 3 * 18),
                bias: vec![7, -7, 0],
            },
            Rescale { m: &[m], zero: zx, relu: false },
        )
        .unwrap();
    let (s_g, z_g) = (0.04, 1);
    let pooled = b.global_avg_pool(x, (s_x, zx), (s_g, z_g)).unwrap();
    let (y, s_y, z_y) = zoo::activation(&mut b, pooled, Activation::Sigmoid, (s_g, z_g)).unwrap();
    let (s_out, zero_out) = (0.02, -2);
    let m = s_x * s_y / s_out;
    let out = b.mul((x, zx), (y, z_y), m, zero_out).unwrap();
    let name = format!("gating z {zx} arithmetic {arithmetic}");
    Case { model: b.finish(&name).unwrap(), name, mul: out - 2, m, zero_out }
}

/// [N, C]·[N, 1] straight from two dense layers (no reshape).
fn rows_case() -> Case {
    let mut rng = rng(21);
    let mut b = Builder::new(vec![3, 6]);
    let bias = |rng: &mut ChaCha20Rng, k| (0..k).map(|_| rng.gen_range(-3000..=3000)).collect();
    let (bx, by) = (bias(&mut rng, 5), bias(&mut rng, 1));
    let x = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: random_i8(&mut rng, 30),
                features: 5,
                bias: bx,
            },
            Rescale { m: &[dense_m(6)], zero: -20, relu: false },
        )
        .unwrap();
    let y = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: random_i8(&mut rng, 6),
                features: 1,
                bias: by,
            },
            Rescale { m: &[dense_m(6)], zero: 11, relu: true },
        )
        .unwrap();
    let out = b.mul((x, -20), (y, 11), PRODUCT_M, 0).unwrap();
    Case {
        model: b.finish("rows").unwrap(),
        name: "rows".into(),
        mul: out - 2,
        m: PRODUCT_M,
        zero_out: 0,
    }
}

/// x·x where x is the model input itself.
fn square_of_input_case() -> Case {
    let mut b = Builder::new(vec![3, 5]);
    let out = b.mul((0, 6), (0, 6), PRODUCT_M, 1).unwrap();
    let model = b.finish("input squared").unwrap();
    Case { model, name: "input squared".into(), mul: out - 2, m: PRODUCT_M, zero_out: 1 }
}

/// x·x where x is a committed requantization output.
fn square_of_committed_case() -> Case {
    let mut rng = rng(22);
    let mut b = Builder::new(vec![2, 6]);
    let x = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: random_i8(&mut rng, 42),
                features: 7,
                bias: vec![100; 7],
            },
            Rescale { m: &[dense_m(6)], zero: -3, relu: false },
        )
        .unwrap();
    let out = b.mul((x, -3), (x, -3), PRODUCT_M, 0).unwrap();
    Case {
        model: b.finish("committed squared").unwrap(),
        name: "committed squared".into(),
        mul: out - 2,
        m: PRODUCT_M,
        zero_out: 0,
    }
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, (xd, yd)) in SHAPES.iter().enumerate() {
        let zeros = ZEROS[i % ZEROS.len()];
        cases.push(reshaped_case(xd, Some(yd), zeros, 100 + i as u64));
    }
    cases.push(reshaped_case(&[3, 5], Some(&[3, 5]), (0, 0), 200));
    cases.push(reshaped_case(&[3, 5], None, (9, 9), 201));
    cases.push(reshaped_case(&[2, 3, 5, 6], None, (0, 0), 202));
    cases.extend([gating_case(0, false), gating_case(-30, false), gating_case(12, true)]);
    cases.extend([rows_case(), square_of_input_case(), square_of_committed_case()]);
    cases
}

/// The Mul's operands and zero points in a witness.
fn operands<'a>(case: &Case, w: &'a Witness) -> (&'a Tensor, i32, &'a Tensor, i32) {
    let spec = case.model.layers[case.mul].spec();
    let Some(&MulSpec { x, x_zero, y, y_zero, .. }) = spec.op::<MulSpec>() else {
        panic!("not a mul: {spec:?}")
    };
    (&w.tensors[x], x_zero, &w.tensors[y], y_zero)
}

#[test]
fn models_with_mul_prove_and_verify_the_reference_output() {
    for case in all_cases() {
        let Case { model, name, mul, m, zero_out } = &case;
        assert_eq!(model.layers[*mul].kind(), "mul", "{name}");
        assert!(model.layers[*mul].reduction().is_some());
        for seed in 0..2 {
            let input = zoo::random_input(model, seed);
            let w = model.forward(&input).unwrap();
            model.check(&w).unwrap();
            let (x, zx, y, zy) = operands(&case, &w);
            let p = naive_product(x, zx, y, zy);
            assert_eq!(w.tensors[mul + 1].data, p, "{name}");
            // the integer reference: the requantization of p with the fixed-point a/2^k
            let (a, k) = common_shift(&[*m]).unwrap();
            let int_ref: Vec<i64> = p
                .iter()
                .map(|&v| {
                    let q = div_pow2_round_half_even(v as i128 * a[0] as i128, k);
                    (q + *zero_out as i128).clamp(-128, 127) as i64
                })
                .collect();
            // …and within one step of the float one
            for (&v, &q) in p.iter().zip(&int_ref) {
                let f = ((v as f64 * m).round_ties_even() + *zero_out as f64).clamp(-128.0, 127.0);
                assert!((f - q as f64).abs() <= 1.0, "{name}: {v}·{m} → {q}, float {f}");
            }
            let proof = gkr::prove_bytes(model, &input, &ProveOptions::default()).unwrap();
            let out = gkr::verify_bytes(model, &input, &VerifyOptions::default(), &proof.proof)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(out, proof.output);
            assert_eq!(out.data, int_ref, "{name}");
            assert_eq!(&out, w.output());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// soundness in models

/// The model with its Mul's prover replaced by a cheater (same digest).
fn with_cheater(case: &Case, cheat: Cheat) -> Model {
    cheating::with_cheater(&case.model, case.mul, |l| {
        let s = l.spec().op::<MulSpec>().expect("a mul").clone();
        let mul = Mul::new(s.x, &s.x_dims, s.x_zero, s.y, &s.y_dims, s.y_zero).unwrap();
        Box::new(move |claim: &EvalClaim, inputs: &[&Tensor], t: &mut dyn ProverTranscript| {
            Ok(cheating_prove_output(&mul, cheat, claim, inputs[0], inputs[1], t))
        })
    })
}

/// Proves `w` with the cheating Mul prover, unchecked.
fn cheat_proof(case: &Case, cheat: Cheat, w: &Witness) -> Vec<u8> {
    let model = with_cheater(case, cheat);
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    gkr::prove(&model, &w.tensors[0], &ProveOptions::default().with_witness(w).unchecked(), &mut t)
        .expect("the cheating prover phrases its proof");
    t.into_proof().encode()
}

fn verify(case: &Case, input: &Tensor, proof: &[u8]) -> Result<Tensor, VerifyError> {
    gkr::verify_bytes(&case.model, input, &VerifyOptions::default(), proof)
}

#[test]
fn the_cheating_harness_is_honest_without_a_cheat() {
    for case in
        [gating_case(-30, false), reshaped_case(&[5, 1, 3, 7], Some(&[1, 1, 3, 1]), (4, -6), 7)]
    {
        let input = zoo::random_input(&case.model, 1);
        let w = case.model.forward(&input).unwrap();
        let proof = cheat_proof(&case, Cheat::Nothing, &w);
        assert_eq!(proof, honest(&case.model, &input), "{}", case.name);
    }
}

#[test]
fn a_changed_product_entry_is_rejected_at_the_mul_layer() {
    let cases = [
        gating_case(-30, false),
        gating_case(12, true),
        rows_case(),
        reshaped_case(&[5, 1, 3, 7], Some(&[1, 1, 3, 1]), (4, -6), 7),
        reshaped_case(&[3, 5], None, (9, 9), 8),
    ];
    for case in cases {
        let input = zoo::random_input(&case.model, 2);
        let honest_w = case.model.forward(&input).unwrap();
        let len = honest_w.tensors[case.mul + 1].data.len();
        for j in [0, len / 2, len - 1] {
            let mut w = honest_w.clone();
            w.tensors[case.mul + 1].data[j] += 1;
            recompute_after(&case.model, &mut w, case.mul);
            // the honest layer prover cannot phrase the false product
            let mut t = FiatShamirProver::new(gkr::PROTOCOL);
            let opts = ProveOptions::default().with_witness(&w).unchecked();
            assert_eq!(
                gkr::prove(&case.model, &input, &opts, &mut t),
                Err(ProveError::ClaimedSumMismatch),
                "{}",
                case.name
            );
            // the cheater runs the sumcheck anyway: the final product check fails at the Mul
            let e = verify(&case, &input, &cheat_proof(&case, Cheat::FalseSum, &w)).unwrap_err();
            match e {
                VerifyError::Layer { layer, kind: "mul", source }
                    if layer == case.mul
                        && matches!(*source, VerifyError::FinalEvalMismatch { .. }) => {}
                e => panic!("{} entry {j}: expected the mul's final check, got {e}", case.name),
            }
        }
    }
}

#[test]
fn x_times_x_with_scaled_final_evals_is_caught_on_x() {
    // x the model input: the verifier's own evaluation of the input rejects the first claim
    let case = square_of_input_case();
    let input = zoo::random_input(&case.model, 3);
    let w = case.model.forward(&input).unwrap();
    let e = verify(&case, &input, &cheat_proof(&case, Cheat::ScaledEvals(2), &w)).unwrap_err();
    match &e {
        VerifyError::Layer { layer, kind: "mul", source } if *layer == case.mul => assert!(
            matches!(&**source, VerifyError::Input { source }
                if matches!(**source, VerifyError::EvalMismatch { what: "the input's MLE", .. })),
            "{e}"
        ),
        _ => panic!("expected the input check under the mul layer, got {e}"),
    }
    // x a committed requantization output: its opening rejects
    let case = square_of_committed_case();
    let input = zoo::random_input(&case.model, 3);
    let w = case.model.forward(&input).unwrap();
    let x = case.model.layers[case.mul].inputs()[0];
    let e = verify(&case, &input, &cheat_proof(&case, Cheat::ScaledEvals(3), &w)).unwrap_err();
    match &e {
        VerifyError::Layer { layer, source, .. } if *layer == x - 1 => assert!(
            matches!(
                **source,
                VerifyError::EvalMismatch { what: "opening of a committed output", .. }
            ),
            "{e}"
        ),
        _ => panic!("expected the opening of layer {} (x), got {e}", x - 1),
    }
    // x virtual (a reshape): its two claims at r (values a ≠ b) are merged before the
    // reshape's own sumcheck; the merged claim is false, which no merge prover can phrase
    for dims in [&[3, 5][..], &[2, 3, 5, 6]] {
        let case = reshaped_case(dims, None, (9, 9), 9);
        let input = zoo::random_input(&case.model, 3);
        let w = case.model.forward(&input).unwrap();
        let model = with_cheater(&case, Cheat::ScaledEvals(5));
        let mut t = FiatShamirProver::new(gkr::PROTOCOL);
        let opts = ProveOptions::default().with_witness(&w).unchecked();
        assert_eq!(
            gkr::prove(&model, &input, &opts, &mut t),
            Err(ProveError::ClaimedSumMismatch),
            "{}",
            case.name
        );
    }
}

#[test]
fn every_field_message_matters_and_byte_flips_are_never_accepted() {
    let case = gating_case(-30, false);
    let input = zoo::random_input(&case.model, 4);
    let proof = honest(&case.model, &input);
    let decoded = Proof::decode(&proof).unwrap();
    for j in 0..decoded.messages.len() {
        if decoded.messages[j].values.is_empty() {
            continue;
        }
        let mut p = decoded.clone();
        p.messages[j].values[0] += Fp::one();
        assert!(verify(&case, &input, &p.encode()).is_err(), "message {j}");
    }
    let mut rng = rng(4);
    let flips: Vec<(usize, u8)> =
        (0..600).map(|_| (rng.gen_range(0..proof.len()), 1u8 << rng.gen_range(0..8))).collect();
    flips_never_accepted(&case.model, &input, &proof, &flips);
    for cut in [0, 1, proof.len() / 3, proof.len() / 2, proof.len() - 1] {
        never_accepted(&case.model, &input, &proof[..cut], &format!("cut at {cut}"));
    }
    let mut longer = proof.clone();
    longer.extend_from_slice(&proof[proof.len() / 2..]);
    never_accepted(&case.model, &input, &longer, "extended");
    // a mul with zero (x)-variables: the same on a tiny model
    let case = reshaped_case(&[1, 1], Some(&[1, 1]), (127, -128), 10);
    let input = zoo::random_input(&case.model, 4);
    let proof = honest(&case.model, &input);
    let flips: Vec<(usize, u8)> = (0..proof.len()).map(|i| (i, 1u8 << (i % 8))).collect();
    flips_never_accepted(&case.model, &input, &proof, &flips);
}

#[test]
fn gkrm_round_trip_keeps_the_digest_and_the_proofs() {
    for case in all_cases() {
        let Case { model, name, mul, .. } = &case;
        let bytes = model.encode();
        let back = Model::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.digest(), model.digest(), "{name}");
        assert_eq!(back.encode(), bytes, "{name}");
        assert_eq!(back.layers[*mul].kind(), "mul");
        for (a, b) in model.layers.iter().zip(&back.layers) {
            assert_eq!(a.spec(), b.spec());
        }
        let input = zoo::random_input(model, 5);
        assert_eq!(back.forward(&input).unwrap(), model.forward(&input).unwrap());
        let proof = honest(model, &input);
        assert!(
            gkr::verify_bytes(&back, &input, &VerifyOptions::default(), &proof).is_ok(),
            "{name}"
        );
    }
    // the zero points and the shapes are in the digest
    let a = Mul::new(0, &[2, 3], 0, 0, &[2, 3], 0).unwrap();
    let b = Mul::new(0, &[2, 3], 1, 0, &[2, 3], 0).unwrap();
    let digest =
        |m: Mul| Model::new("d", vec![2, 3], vec![Box::new(m) as Box<dyn Layer>]).unwrap().digest();
    assert_ne!(digest(a.clone()), digest(b));
    assert_ne!(a.spec(), Mul::new(0, &[2, 3], 0, 0, &[2, 3], 1).unwrap().spec());
    // a record built for other dimensions than its inputs have does not decode, nor build
    let model = Model::new("d", vec![2, 3], vec![Box::new(a) as Box<dyn Layer>]).unwrap();
    let mut bytes = model.encode();
    let good = Model::decode(&bytes).unwrap();
    assert_eq!(good.digest(), model.digest());
    let pos = bytes.len() - 1 - 8 - 8; // y_dims' last entry: the io flag, y_zero, then it
    assert_eq!(bytes[pos], 3);
    bytes[pos] = 2;
    assert!(Model::decode(&bytes).is_err());
    let bad = MulSpec { x: 0, x_dims: vec![2, 3], x_zero: 0, y: 0, y_dims: vec![3], y_zero: 0 };
    assert!(LayerSpec::Op(Box::new(bad)).build().is_err());
}

#[test]
fn shapes_that_do_not_broadcast_are_model_errors_naming_both() {
    let mut rng = rng(6);
    let mut b = Builder::new(vec![1, 4]);
    let x = branch(&mut b, &mut rng, &[3, 5], 0);
    let y = branch(&mut b, &mut rng, &[3, 4], 0);
    let z = branch(&mut b, &mut rng, &[1, 3, 5], 0);
    for (a, c) in [(x, y), (x, z), (y, x)] {
        let e = b.mul((a, 0), (c, 0), PRODUCT_M, 0).unwrap_err();
        let (da, dc) = (b.dims(a), b.dims(c));
        assert!(matches!(e, ModelError::Shape(_)), "{e}");
        let s = e.to_string();
        assert!(s.contains(&format!("{da:?}")) && s.contains(&format!("{dc:?}")), "{s}");
    }
    // y bigger than x on an axis: x [3, 1] · y [3, 5] is not a broadcast of y
    let e = Mul::new(1, &[3, 1], 0, 2, &[3, 5], 0).unwrap_err().to_string();
    assert!(e.contains("[3, 1]") && e.contains("[3, 5]"), "{e}");
}

#[test]
fn bounds_fit_the_requantization() {
    for (zx, zy) in [(0, 0), (-128, -128), (127, 127), (127, -128)] {
        let mul = Mul::new(1, &[2], zx, 2, &[2], zy).unwrap();
        let worst = [-128i64, 127]
            .iter()
            .flat_map(|&x| [-128i64, 127].map(|y| ((x - zx as i64) * (y - zy as i64)).abs()))
            .max()
            .unwrap();
        assert_eq!(mul.acc_bound(), worst as i128);
        assert!(mul.acc_bound() <= 1 << 16);
    }
    // |p| = 255² exactly (x = −128, z = 127) proves through both requantizations
    for arithmetic in [false, true] {
        let mut b = Builder::new(vec![2, 2]);
        b.arithmetic = arithmetic;
        b.mul((0, 127), (0, 127), 1.0 / 600.0, 0).unwrap();
        let model = b.finish("extremes").unwrap();
        let input = Tensor::new(vec![2, 2], vec![-128, 127, -128, 0]).unwrap();
        let w = model.forward(&input).unwrap();
        assert_eq!(w.tensors[1].data, vec![65025, 0, 65025, 16129]);
        honest(&model, &input);
        assert_eq!(w.output().data, vec![108, 0, 108, 27]);
    }
}
