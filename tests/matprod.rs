//! MatProd (the batched matrix product (x − z_x)·(y − z_y) of two computed int8 tensors over
//! their last two axes, y optionally transposed; a virtual output reduced by one degree-3
//! sumcheck over the batch and inner variables):
//! * the layer's sub-protocol reduces a true claim to true claims on x at (r_k, ρ_m, r_b) and on
//!   y at (ρ_n, r_k, r_b) (or (r_k, ρ_n, r_b) transposed), for one matrix, heads, odd lengths on
//!   every axis, K = 1, zero and nonzero zero points; a false claim is refused;
//! * models (branches → MatProd → requantization) prove and verify with outputs equal to a naive
//!   integer reference: QKᵀ and A·V shapes, x·xᵀ of one tensor, the model input as both operands;
//! * soundness: one product entry changed (everything after it recomputed) and proved by a
//!   cheating prover → `Layer { matprod, FinalEvalMismatch }`; the honest prover refuses; x·xᵀ
//!   with final evaluations (a, b) whose product is right but a ≠ x̃(p_x) → caught on x (the
//!   model input); the final evaluations tampered; every field message edited, byte flips,
//!   truncation and extension → never accepted, never a panic;
//! * the `.gkrm` round trip keeps the digest and the proofs; the transposition flag is in the
//!   digest and a flag byte other than 0 or 1 does not decode.
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
use common::model::{branch, flips_never_accepted, honest, never_accepted, recompute_after};
use common::rng;
use gkrnet::circuit::matprod::{MatProd, MatProdSpec};
use gkrnet::circuit::zoo::{self, common_shift, Builder};
use gkrnet::circuit::{ClaimTarget, Layer, Layout, Model, Reduction, Tensor, Witness};
use gkrnet::error::ProveError;
use gkrnet::field::{from_i64, Fp};
use gkrnet::gkr::{self, ProveOptions, VerifyOptions};
use gkrnet::proof::Proof;
use gkrnet::quant::div_pow2_round_half_even;
use gkrnet::sumcheck::{self, prover::ProductSum, EvalClaim};
use gkrnet::transcript::{FiatShamirProver, FiatShamirVerifier, ProverTranscript};
use gkrnet::VerifyError;
use rand::Rng;
use rand_chacha::ChaCha20Rng;

const PROTOCOL: &str = "matprod test";

/// (x dims, y dims, y transposed).
const SHAPES: [(&[usize], &[usize], bool); 8] = [
    (&[3, 5], &[5, 6], false),
    (&[2, 3, 5], &[2, 5, 7], false),
    (&[1, 4, 6, 8], &[1, 4, 6, 8], true),
    (&[1, 3, 5, 3], &[1, 3, 3, 5], false),
    (&[2, 3, 1], &[2, 1, 4], false),
    (&[2, 1, 5], &[2, 1, 5], true),
    (&[1, 1], &[1, 1], false),
    (&[3, 2, 3, 7], &[3, 2, 5, 7], true),
];

const ZEROS: [(i32, i32); 3] = [(0, 0), (-5, 17), (127, -128)];

fn random_tensor(rng: &mut ChaCha20Rng, dims: &[usize]) -> Tensor {
    let len = dims.iter().product();
    Tensor::new(dims.to_vec(), (0..len).map(|_| rng.gen_range(-128..=127)).collect()).unwrap()
}

fn random_point(rng: &mut ChaCha20Rng, n: usize) -> Vec<Fp> {
    (0..n).map(|_| Fp::rand(rng)).collect()
}

/// out[b, i, j] = Σ_l (x[b, i, l] − z_x)·(y[b, l, j] − z_y) (y[b, j, l] transposed).
fn naive_product(x: &Tensor, zx: i32, y: &Tensor, zy: i32, tr: bool) -> Vec<i64> {
    let r = x.dims.len();
    let (m, k) = (x.dims[r - 2], x.dims[r - 1]);
    let n = if tr { y.dims[r - 2] } else { y.dims[r - 1] };
    let batch = x.data.len() / (m * k);
    let mut out = Vec::new();
    for b in 0..batch {
        for i in 0..m {
            for j in 0..n {
                out.push(
                    (0..k)
                        .map(|l| {
                            let yi = if tr { (b * n + j) * k + l } else { (b * k + l) * n + j };
                            (x.data[(b * m + i) * k + l] - zx as i64) * (y.data[yi] - zy as i64)
                        })
                        .sum(),
                );
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// the layer alone

type Claims = Vec<(ClaimTarget, EvalClaim)>;

fn verify_layer(mp: &MatProd, claim: &EvalClaim, bytes: &[u8]) -> Result<Claims, VerifyError> {
    let mut v = FiatShamirVerifier::new(PROTOCOL, bytes)?;
    let claims = mp.verify_output(claim, &mut v)?;
    v.finish()?;
    Ok(claims)
}

#[test]
fn layer_protocol_reduces_a_true_claim_to_true_input_claims() {
    let mut rng = rng(1);
    for (xd, yd, tr) in SHAPES {
        for (zx, zy) in ZEROS {
            let mp = MatProd::new((1, xd, zx), (2, yd, zy), tr).unwrap();
            let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
            let out = mp.forward(&[&x, &y]).unwrap().output;
            assert_eq!(out.data, naive_product(&x, zx, &y, zy, tr), "{xd:?} {yd:?}");
            let rho = random_point(&mut rng, Layout::new(&out.dims).num_vars());
            let claim = EvalClaim { value: out.evaluate(&rho), point: rho };
            let mut p = FiatShamirProver::new(PROTOCOL);
            let proved = mp.prove_output(&claim, &[&x, &y], &mut p).unwrap();
            let verified = verify_layer(&mp, &claim, &p.into_proof().encode())
                .unwrap_or_else(|e| panic!("{xd:?} {yd:?} {zx} {zy}: {e}"));
            assert_eq!(proved, verified);
            let [(ClaimTarget::Input(0), cx), (ClaimTarget::Input(1), cy)] = verified.as_slice()
            else {
                panic!("claims on input 0 then input 1, got {verified:?}")
            };
            assert_eq!(x.evaluate(&cx.point), cx.value, "{xd:?} {yd:?}: the claim on x");
            assert_eq!(y.evaluate(&cy.point), cy.value, "{xd:?} {yd:?}: the claim on y");
            let false_claim = EvalClaim { value: claim.value + Fp::one(), ..claim.clone() };
            let mut t = FiatShamirProver::new(PROTOCOL);
            assert_eq!(
                mp.prove_output(&false_claim, &[&x, &y], &mut t),
                Err(ProveError::ClaimedSumMismatch)
            );
        }
    }
}

/// What a cheating MatProd prover does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cheat {
    /// the honest protocol, from the public API (must match the layer's own bytes)
    Nothing,
    /// runs the sumcheck on whatever claim it gets (a false one when out was changed)
    FalseSum,
    /// after seeing every challenge, sends X' scaled by c and Y' by 1/c: the product check holds
    ScaledEvals(u64),
}

fn cheating_prove_output(
    mp: &MatProd,
    cheat: Cheat,
    claim: &EvalClaim,
    x: &Tensor,
    y: &Tensor,
    mut t: &mut dyn ProverTranscript,
) -> Claims {
    let [zx, zy] = mp.zeros().map(|z| from_i64(z as i64));
    let poly = ProductSum::product(mp.tables(&claim.point, &x.data, &y.data)).unwrap();
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
    let (px, py) = mp.points(&claim.point, &out.point).unwrap();
    let a = xr + zx * Layout::new(&x.dims).mask_eval(&px);
    let b = yr + zy * Layout::new(&y.dims).mask_eval(&py);
    sumcheck::send_final_evals(&mut t, &[a, b]);
    vec![
        (ClaimTarget::Input(0), EvalClaim { point: px, value: a }),
        (ClaimTarget::Input(1), EvalClaim { point: py, value: b }),
    ]
}

#[test]
fn the_public_api_harness_matches_the_layer_prover_byte_for_byte() {
    let mut rng = rng(2);
    for (xd, yd, tr) in SHAPES {
        let mp = MatProd::new((1, xd, -7), (2, yd, 3), tr).unwrap();
        let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
        let out = mp.forward(&[&x, &y]).unwrap().output;
        let rho = random_point(&mut rng, Layout::new(&out.dims).num_vars());
        let claim = EvalClaim { value: out.evaluate(&rho), point: rho };
        let mut a = FiatShamirProver::new(PROTOCOL);
        let ca = mp.prove_output(&claim, &[&x, &y], &mut a).unwrap();
        let mut b = FiatShamirProver::new(PROTOCOL);
        let cb = cheating_prove_output(&mp, Cheat::Nothing, &claim, &x, &y, &mut b);
        assert_eq!(ca, cb, "{xd:?} {yd:?}");
        assert_eq!(a.into_proof().encode(), b.into_proof().encode(), "{xd:?} {yd:?}");
    }
}

#[test]
fn layer_tampered_or_missing_final_evals_are_rejected() {
    let mut rng = rng(4);
    let (xd, yd) = (&[2, 3, 5][..], &[2, 5, 7][..]);
    let mp = MatProd::new((1, xd, 4), (2, yd, -4), false).unwrap();
    let (x, y) = (random_tensor(&mut rng, xd), random_tensor(&mut rng, yd));
    let out = mp.forward(&[&x, &y]).unwrap().output;
    let rho = random_point(&mut rng, Layout::new(&out.dims).num_vars());
    let claim = EvalClaim { value: out.evaluate(&rho), point: rho };
    let mut t = FiatShamirProver::new(PROTOCOL);
    mp.prove_output(&claim, &[&x, &y], &mut t).unwrap();
    let proof = t.into_proof();
    let last = proof.messages.len() - 1;
    assert_eq!(proof.messages[last].values.len(), 2, "x̃(p_x), ỹ(p_y)");
    for k in 0..2 {
        let mut bad = proof.clone();
        bad.messages[last].values[k] += Fp::one();
        let e = verify_layer(&mp, &claim, &bad.encode()).unwrap_err();
        assert!(matches!(e, VerifyError::FinalEvalMismatch { .. }), "{e}");
    }
    // every round message matters
    for j in 0..last {
        let mut bad = proof.clone();
        bad.messages[j].values[0] += Fp::one();
        assert!(verify_layer(&mp, &claim, &bad.encode()).is_err(), "message {j}");
    }
    // two rounds swapped
    let mut bad = proof.clone();
    bad.messages.swap(0, 1);
    assert!(verify_layer(&mp, &claim, &bad.encode()).is_err());
    for edit in [
        |p: &mut Proof| p.messages.last_mut().unwrap().values.push(Fp::one()),
        |p: &mut Proof| {
            p.messages.last_mut().unwrap().values.pop();
        },
        |p: &mut Proof| drop(p.messages.pop()),
        |p: &mut Proof| drop(p.messages.remove(0)),
    ] {
        let mut bad = proof.clone();
        edit(&mut bad);
        assert!(verify_layer(&mp, &claim, &bad.encode()).is_err());
    }
    // a claim of the wrong number of variables is a statement error, never a panic
    let short = EvalClaim { point: claim.point[1..].to_vec(), value: claim.value };
    let bytes = proof.encode();
    let mut v = FiatShamirVerifier::new(PROTOCOL, &bytes).unwrap();
    assert!(matches!(mp.verify_output(&short, &mut v), Err(VerifyError::InvalidStatement { .. })));
    let mut t = FiatShamirProver::new(PROTOCOL);
    assert!(mp.prove_output(&short, &[&x, &y], &mut t).is_err());
    assert!(mp.prove_output(&claim, &[&x], &mut t).is_err());
    assert!(mp.prove_output(&claim, &[&y, &x], &mut t).is_err());
}

// ---------------------------------------------------------------------------------------------
// models

/// Rescale of a sum of K products of int8 values spread over their range onto int8.
fn product_m(k: usize) -> f64 {
    127.0 / (1.5 * 73.0 * 73.0 * (k as f64).sqrt())
}

struct Case {
    name: String,
    model: Model,
    /// the MatProd layer's index
    layer: usize,
    m: f64,
    zero_out: i32,
}

/// input [1, 4] → two branches reshaped to x and y dims (or one, for x·xᵀ) → MatProd → requant.
fn branch_case(
    xd: &[usize],
    yd: Option<(&[usize], bool)>,
    (zx, zy): (i32, i32),
    seed: u64,
) -> Case {
    let mut rng = rng(seed);
    let mut b = Builder::new(vec![1, 4]);
    let x = branch(&mut b, &mut rng, xd, zx);
    let (y, zy, tr) = match yd {
        Some((yd, tr)) => (branch(&mut b, &mut rng, yd, zy), zy, tr),
        None => (x, zx, true),
    };
    let m = product_m(*xd.last().unwrap());
    let zero_out = 3;
    let out = b.matprod((x, zx), (y, zy), tr, m, zero_out).unwrap();
    let name = format!("matprod {xd:?}·{yd:?} z {zx},{zy}");
    Case { model: b.finish(&name).unwrap(), name, layer: out - 2, m, zero_out }
}

/// The model input [3, 4] times its own transpose.
fn gram_of_input_case() -> Case {
    let mut b = Builder::new(vec![3, 4]);
    let m = product_m(4);
    let out = b.matprod((0, 6), (0, 6), true, m, 1).unwrap();
    let model = b.finish("input gram").unwrap();
    Case { model, name: "input gram".into(), layer: out - 2, m, zero_out: 1 }
}

fn all_cases() -> Vec<Case> {
    let mut cases = Vec::new();
    for (i, (xd, yd, tr)) in SHAPES.iter().enumerate() {
        cases.push(branch_case(xd, Some((yd, *tr)), ZEROS[i % ZEROS.len()], 100 + i as u64));
    }
    cases.push(branch_case(&[2, 5, 3], None, (9, 9), 200));
    cases.push(branch_case(&[1, 2, 4, 8], None, (0, 0), 201));
    cases.push(gram_of_input_case());
    cases
}

fn operands<'a>(case: &Case, w: &'a Witness) -> (&'a Tensor, i32, &'a Tensor, i32, bool) {
    let spec = case.model.layers[case.layer].spec();
    let Some(&MatProdSpec { x, x_zero, y, y_zero, y_transposed, .. }) = spec.op::<MatProdSpec>()
    else {
        panic!("not a matprod: {spec:?}")
    };
    (&w.tensors[x], x_zero, &w.tensors[y], y_zero, y_transposed)
}

#[test]
fn models_with_matprod_prove_and_verify_the_reference_output() {
    for case in all_cases() {
        let Case { model, name, layer, m, zero_out } = &case;
        assert_eq!(model.layers[*layer].kind(), "matprod", "{name}");
        for seed in 0..2 {
            let input = zoo::random_input(model, seed);
            let w = model.forward(&input).unwrap();
            model.check(&w).unwrap();
            let (x, zx, y, zy, tr) = operands(&case, &w);
            let p = naive_product(x, zx, y, zy, tr);
            assert_eq!(w.tensors[layer + 1].data, p, "{name}");
            let (a, k) = common_shift(&[*m]).unwrap();
            let int_ref: Vec<i64> = p
                .iter()
                .map(|&v| {
                    let q = div_pow2_round_half_even(v as i128 * a[0] as i128, k);
                    (q + *zero_out as i128).clamp(-128, 127) as i64
                })
                .collect();
            let proof = gkr::prove_bytes(model, &input, &ProveOptions::default()).unwrap();
            let out = gkr::verify_bytes(model, &input, &VerifyOptions::default(), &proof.proof)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(out, proof.output);
            assert_eq!(out.data, int_ref, "{name}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// soundness in models

fn with_cheater(case: &Case, cheat: Cheat) -> Model {
    cheating::with_cheater(&case.model, case.layer, |l| {
        let s = l.spec().op::<MatProdSpec>().expect("a matprod").clone();
        let mp =
            MatProd::new((s.x, &s.x_dims, s.x_zero), (s.y, &s.y_dims, s.y_zero), s.y_transposed)
                .unwrap();
        Box::new(move |claim: &EvalClaim, inputs: &[&Tensor], t: &mut dyn ProverTranscript| {
            Ok(cheating_prove_output(&mp, cheat, claim, inputs[0], inputs[1], t))
        })
    })
}

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
        [branch_case(&[1, 3, 5, 3], Some((&[1, 3, 3, 5], false)), (4, -6), 7), gram_of_input_case()]
    {
        let input = zoo::random_input(&case.model, 1);
        let w = case.model.forward(&input).unwrap();
        assert_eq!(
            cheat_proof(&case, Cheat::Nothing, &w),
            honest(&case.model, &input),
            "{}",
            case.name
        );
    }
}

#[test]
fn a_changed_product_entry_is_rejected_at_the_matprod_layer() {
    let cases = [
        branch_case(&[2, 3, 5], Some((&[2, 5, 7], false)), (0, 0), 7),
        branch_case(&[1, 4, 6, 8], Some((&[1, 4, 6, 8], true)), (-5, 17), 8),
        branch_case(&[2, 5, 3], None, (9, 9), 9),
    ];
    for case in cases {
        let input = zoo::random_input(&case.model, 2);
        let honest_w = case.model.forward(&input).unwrap();
        let len = honest_w.tensors[case.layer + 1].data.len();
        for j in [0, len / 2, len - 1] {
            let mut w = honest_w.clone();
            w.tensors[case.layer + 1].data[j] += 1;
            recompute_after(&case.model, &mut w, case.layer);
            let mut t = FiatShamirProver::new(gkr::PROTOCOL);
            let opts = ProveOptions::default().with_witness(&w).unchecked();
            assert_eq!(
                gkr::prove(&case.model, &input, &opts, &mut t),
                Err(ProveError::ClaimedSumMismatch),
                "{}",
                case.name
            );
            let e = verify(&case, &input, &cheat_proof(&case, Cheat::FalseSum, &w)).unwrap_err();
            match e {
                VerifyError::Layer { layer, kind: "matprod", source }
                    if layer == case.layer
                        && matches!(*source, VerifyError::FinalEvalMismatch { .. }) => {}
                e => panic!("{} entry {j}: expected the matprod's final check, got {e}", case.name),
            }
        }
    }
}

#[test]
fn adaptive_scaled_final_evals_are_caught_on_the_operands() {
    // x·xᵀ of the model input: the verifier's own evaluation of the input rejects a claim
    let case = gram_of_input_case();
    let input = zoo::random_input(&case.model, 3);
    let w = case.model.forward(&input).unwrap();
    let e = verify(&case, &input, &cheat_proof(&case, Cheat::ScaledEvals(2), &w)).unwrap_err();
    match &e {
        VerifyError::Layer { layer, kind: "matprod", source } if *layer == case.layer => assert!(
            matches!(&**source, VerifyError::Input { source }
                if matches!(**source, VerifyError::EvalMismatch { what: "the input's MLE", .. })),
            "{e}"
        ),
        _ => panic!("expected the input check under the matprod layer, got {e}"),
    }
    // operands from committed requantizations (through reshapes): never accepted
    for case in [
        branch_case(&[2, 3, 5], Some((&[2, 5, 7], false)), (0, 0), 11),
        branch_case(&[2, 5, 3], None, (9, 9), 12),
    ] {
        let input = zoo::random_input(&case.model, 3);
        let w = case.model.forward(&input).unwrap();
        let model = with_cheater(&case, Cheat::ScaledEvals(5));
        let mut t = FiatShamirProver::new(gkr::PROTOCOL);
        let opts = ProveOptions::default().with_witness(&w).unchecked();
        // the reshapes' honest provers cannot phrase the false claims the cheater routes
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
    let case = branch_case(&[1, 3, 5, 3], Some((&[1, 3, 3, 5], false)), (4, -6), 13);
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
}

#[test]
fn gkrm_round_trip_keeps_the_digest_and_the_proofs() {
    for case in all_cases() {
        let Case { model, name, layer, .. } = &case;
        let bytes = model.encode();
        let back = Model::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(back.digest(), model.digest(), "{name}");
        assert_eq!(back.encode(), bytes, "{name}");
        assert_eq!(back.layers[*layer].kind(), "matprod");
        let input = zoo::random_input(model, 5);
        let proof = honest(model, &input);
        assert!(gkr::verify_bytes(&back, &input, &VerifyOptions::default(), &proof).is_ok());
    }
    // the transposition flag is in the digest; a flag byte other than 0/1 does not decode
    let model_with = |tr: bool| {
        let mp = MatProd::new((0, &[3, 3], 0), (0, &[3, 3], 0), tr).unwrap();
        Model::new("d", vec![3, 3], vec![Box::new(mp) as Box<dyn Layer>]).unwrap()
    };
    assert_ne!(model_with(false).digest(), model_with(true).digest());
    let mut bytes = model_with(true).encode();
    let pos = (0..bytes.len())
        .rev()
        .find(|&i| {
            let mut b = bytes.clone();
            b[i] = 0;
            Model::decode(&b).is_ok_and(|m| m.digest() == model_with(false).digest())
        })
        .expect("the flag byte");
    bytes[pos] = 2;
    assert!(Model::decode(&bytes).is_err());
}
