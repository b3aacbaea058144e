//! The argmax gadget (`circuit/argmax.rs`, `paper-notes/argmax.md`), built from six registry
//! operators: it proves the lowest index of the maximum along any axis (ties, one-entry axes,
//! lengths that are not powers of two, int32 and 62-bit scores, virtual scores), and every
//! cheat is rejected with its exact error: a wrong index, a later tied index, two bits or none,
//! a selector entry that is not a bit, a negative difference (in one limb and in several),
//! prefix sums or a selected value that do not follow the selector, a wrong output, final
//! evaluations scaled after the challenges, flipped bytes and altered messages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

mod common;

use ark_ff::{Field, One};
use common::cheating::{self, along_weights, ProveFn};
use common::errors::{in_layer, in_lookup};
use common::model::{flips_never_accepted, honest, never_accepted, prove_and_verify, rejected};
use common::{random_int8_tensor, rng};
use gkrnet::circuit::along::Along;
use gkrnet::circuit::argmax::{ArgCheck, ArgPart, ArgSpec};
use gkrnet::circuit::axisdot::AxisDot;
use gkrnet::circuit::reduce::ReduceSum;
use gkrnet::circuit::{
    zoo::Builder, ClaimTarget, Layer, LayerSpec, Layout, Model, ModelError, Tensor, TensorId,
    Witness,
};
use gkrnet::error::ProveError;
use gkrnet::field::Fp;
use gkrnet::gkr::{self, ProveOptions};
use gkrnet::poly::eq_eval;
use gkrnet::proof::Proof;
use gkrnet::sumcheck::prover::{prove_unchecked, ProductSum};
use gkrnet::sumcheck::{send_final_evals, EvalClaim};
use gkrnet::transcript::{FiatShamirProver, ProverTranscript};
use gkrnet::VerifyError;
use rand::Rng;

// layers of a model whose input is the scores
const SELECT: usize = 0;
const PREFIX: usize = 1;
const DOT: usize = 2;
const CHECK: usize = 4;
const INDEX: usize = 5;

fn argmax_model(dims: &[usize], axis: usize, bits: u32) -> Model {
    let mut b = Builder::new(dims.to_vec());
    b.argmax(0, axis, bits).unwrap();
    b.finish("argmax").unwrap()
}

/// The lowest index of the maximum along `axis`, by coordinates.
fn naive_argmax(x: &Tensor, axis: usize) -> Tensor {
    let dims = &x.dims;
    let mut out_dims = dims.clone();
    out_dims[axis] = 1;
    let mut best: Vec<Option<(i64, usize)>> = vec![None; out_dims.iter().product()];
    for (i, &v) in x.data.iter().enumerate() {
        let (mut rest, mut j, mut stride, mut l) = (i, 0, 1, 0);
        for a in (0..dims.len()).rev() {
            let c = rest % dims[a];
            rest /= dims[a];
            if a == axis {
                l = c;
            } else {
                j += c * stride;
            }
            stride *= out_dims[a];
        }
        if best[j].is_none_or(|(b, _)| v > b) {
            best[j] = Some((v, l));
        }
    }
    Tensor::new(out_dims, best.into_iter().map(|b| b.unwrap().1 as i64).collect()).unwrap()
}

fn scores(dims: &[usize], data: Vec<i64>) -> Tensor {
    Tensor::new(dims.to_vec(), data).unwrap()
}

#[test]
fn argmax_proves_the_lowest_index_of_the_maximum() {
    let mut r = rng(41);
    let (big, small) = (i32::MAX as i64, i32::MIN as i64);
    let top62 = (1i64 << 61) - 1;
    let cases: Vec<(Vec<usize>, usize, u32, Tensor)> = vec![
        (vec![1, 10], 1, 8, random_int8_tensor(&mut r, &[1, 10])),
        (vec![3, 7], 1, 8, random_int8_tensor(&mut r, &[3, 7])),
        (vec![4, 5], 0, 8, random_int8_tensor(&mut r, &[4, 5])),
        (vec![2, 3, 5], 1, 8, random_int8_tensor(&mut r, &[2, 3, 5])),
        (vec![5], 0, 8, random_int8_tensor(&mut r, &[5])),
        (vec![3, 1], 1, 8, random_int8_tensor(&mut r, &[3, 1])),
        (vec![1], 0, 8, scores(&[1], vec![-128])),
        // ties: all equal, two maxima, the maximum first and last
        (vec![6], 0, 8, scores(&[6], vec![7; 6])),
        (vec![7], 0, 8, scores(&[7], vec![1, 2, 9, 3, 9, 9, 0])),
        (vec![2, 5], 1, 8, scores(&[2, 5], vec![127, 3, 127, 2, 1, -5, -6, -7, -8, 127])),
        // int32 extremes: two limbs
        (
            vec![2, 4],
            1,
            32,
            scores(&[2, 4], vec![small, big, big - 1, big, small, small, small, small]),
        ),
        (vec![3], 0, 32, scores(&[3], vec![small + 1, small, big])),
        // 62-bit scores: four limbs
        (vec![4], 0, 62, scores(&[4], vec![-top62 - 1, top62, 0, top62])),
        (
            vec![33],
            0,
            17,
            Tensor::new(vec![33], (0..33).map(|i| (i * 4099) % 65536 - 32768).collect()).unwrap(),
        ),
    ];
    for (dims, axis, bits, x) in cases {
        let what = format!("{dims:?} axis {axis}, {bits} bits, {:?}", x.data);
        let model = argmax_model(&dims, axis, bits);
        let w = if x.to_i8().is_some() {
            prove_and_verify(&model, &x, &what)
        } else {
            wide_check(&model, &x, &what)
        };
        assert_eq!(w.output(), &naive_argmax(&x, axis), "{what}");
    }
}

/// For scores wider than the int8 a model input holds (which `Model::forward` and the verifier
/// refuse): the layers' own forward passes and the mock prover, which checks every relation
/// and range in the field. `wide_scores_from_products_prove_and_verify` proves such scores.
fn wide_check(model: &Model, x: &Tensor, what: &str) -> Witness {
    let mut w = Witness { tensors: vec![x.clone()], advice: Vec::new() };
    for l in &model.layers {
        let ins: Vec<&Tensor> = l.inputs().iter().map(|&t| &w.tensors[t]).collect();
        let lw = l.forward(&ins).unwrap_or_else(|e| panic!("{what}: reference: {e}"));
        w.tensors.push(lw.output);
        w.advice.push(lw.advice);
    }
    model.check(&w).unwrap_or_else(|e| panic!("{what}: mock prover: {e}"));
    w
}

/// Scores as sums of squares of sums of squares … (`levels` times, pairs each time) of an int8
/// input [lines, len, 2, …, 2]: up to 2^15, 2^31, 2^63 after one, two, three levels. Returns the
/// model (argmax along axis 1) and the scores' tensor.
fn squares_model(lines: usize, len: usize, levels: usize, bits: u32) -> (Model, TensorId) {
    let mut dims = vec![lines, len];
    dims.extend(std::iter::repeat_n(2, levels));
    let mut b = Builder::new(dims.clone());
    let mut t = 0;
    for level in 0..levels {
        let axis = dims.len() - 1 - level;
        t = b.push(AxisDot::new(t, t, &dims, axis).unwrap());
        dims[axis] = 1;
    }
    b.argmax(t, 1, bits).unwrap();
    (b.finish("squares-argmax").unwrap(), t)
}

#[test]
fn wide_scores_from_products_prove_and_verify() {
    let mut r = rng(44);
    // two levels: scores up to 2·(2·127²)² < 2^31, two limbs; three levels with entries in
    // [−100, 100]: up to 2·(2·(2·100²)²)² < 2^61, four limbs
    for (levels, bits, bound) in [(2, 32, 127), (3, 62, 100)] {
        let (model, scores_t) = squares_model(3, 5, levels, bits);
        let len = model.input_dims.iter().product::<usize>();
        for trial in 0..3 {
            let mut data: Vec<i64> = (0..len).map(|_| r.gen_range(-bound..=bound)).collect();
            if trial == 1 {
                // extremes: every entry ±bound, so every score ties at the top
                data.iter_mut().for_each(|v| *v = if *v < 0 { -bound } else { bound });
            }
            let x = Tensor::new(model.input_dims.clone(), data).unwrap();
            let what = format!("{levels} levels, trial {trial}");
            let w = prove_and_verify(&model, &x, &what);
            let s = &w.tensors[scores_t];
            assert!(s.data.iter().all(|&v| v < 1i64 << (bits - 1)), "{what}");
            if trial == 1 {
                assert!(s.data.iter().all(|&v| v > 1i64 << (bits - 3)), "{what}: {:?}", s.data);
                assert!(w.output().data.iter().all(|&i| i == 0), "{what}: ties go to index 0");
            }
            assert_eq!(w.output(), &naive_argmax(s, 1), "{what}");
        }
    }
}

#[test]
fn the_argmax_of_virtual_scores_reduces_through_them() {
    // scores = the sums of an int8 input [2, 6, 3] along its last axis: [2, 6, 1], argmax along
    // axis 1; x's claims from the dot and the check reduce through the sum
    let mut r = rng(42);
    let mut b = Builder::new(vec![2, 6, 3]);
    let sums = b.push(ReduceSum::new(0, &[2, 6, 3], 2).unwrap());
    b.argmax(sums, 1, 11).unwrap();
    let model = b.finish("sum-argmax").unwrap();
    for _ in 0..3 {
        let input = random_int8_tensor(&mut r, &[2, 6, 3]);
        let w = prove_and_verify(&model, &input, "virtual scores");
        assert_eq!(w.output(), &naive_argmax(&w.tensors[1], 1));
    }
}

#[test]
fn scores_beyond_their_bits_and_bad_parameters_are_refused() {
    let check = ArgCheck::new([1, 2, 3], &[3], 0, 8).unwrap();
    let (m, x, p) =
        (scores(&[3], vec![128; 3]), scores(&[3], vec![1, 128, 0]), scores(&[3], vec![0, 1, 1]));
    let e = check.forward(&[&m, &x, &p]).unwrap_err();
    assert!(e.to_string().contains("score 128 at entry 1 is outside 8 bits"), "{e}");
    let mut b = Builder::new(vec![3, 4]);
    assert!(matches!(b.argmax(0, 2, 8), Err(ModelError::Shape(_))));
    assert!(matches!(b.argmax(0, 1, 0), Err(ModelError::Parameter(_))));
    assert!(matches!(b.argmax(0, 1, 63), Err(ModelError::Parameter(_))));
    // nothing was pushed by the refused calls
    assert_eq!(b.last(), 0);
}

// ---------------------------------------------------------------------------------------------
// cheating witnesses

/// The witness with selector `s`, everything after it recomputed as the honest layers would,
/// but the check's D = M − x − 1 + P kept whatever its sign, split into columns by `limbs`.
fn with_selector(
    model: &Model,
    w: &Witness,
    s: Vec<i64>,
    limbs: fn(i64, usize) -> Vec<i64>,
) -> Witness {
    let mut w = w.clone();
    w.tensors[SELECT + 1].data = s;
    recompute(model, &mut w, SELECT + 1, limbs);
    w
}

/// Recomputes layers `from`… with the forgiving check of [`with_selector`].
fn recompute(model: &Model, w: &mut Witness, from: usize, limbs: fn(i64, usize) -> Vec<i64>) {
    for i in from..model.layers.len() {
        let l = &model.layers[i];
        if i == CHECK {
            let [m, x, p] = [0, 1, 2].map(|j| &w.tensors[l.inputs()[j]].data);
            let d: Vec<i64> = (0..x.len()).map(|e| m[e] - x[e] - 1 + p[e]).collect();
            let cols = l.columns().len() - 1;
            let mut advice = vec![Vec::new(); cols];
            for &v in &d {
                for (c, limb) in advice.iter_mut().zip(limbs(v, cols)) {
                    c.push(limb);
                }
            }
            w.tensors[i + 1].data = d;
            w.advice[i] = advice;
            continue;
        }
        let ins: Vec<&Tensor> = l.inputs().iter().map(|&t| &w.tensors[t]).collect();
        let lw = l.forward(&ins).unwrap();
        w.tensors[i + 1] = lw.output;
        w.advice[i] = lw.advice;
    }
}

/// The low 16-bit limbs of v's two's complement: Σ limbs ≠ v when v < 0.
fn wrapped(v: i64, n: usize) -> Vec<i64> {
    (0..n).map(|t| (v >> (16 * t)) & 0xffff).collect()
}

/// Limbs with Σ limbs·2^(16t) = v exactly, the top one negative when v < 0.
fn exact(v: i64, n: usize) -> Vec<i64> {
    let mut out = wrapped(v, n);
    if let Some(top) = out.last_mut() {
        *top = v >> (16 * (n - 1));
    }
    out
}

fn one_hot(len: usize, at: &[usize]) -> Vec<i64> {
    (0..len).map(|l| at.iter().filter(|&&a| a == l).count() as i64).collect()
}

fn cheat(model: &Model, w: &Witness) -> Vec<u8> {
    common::model::cheat(model, w)
}

fn is_range_failure(e: &VerifyError) -> bool {
    in_lookup(e, "range").is_some()
}

fn is_final_mismatch_at(e: &VerifyError, layer: usize, kind: &str) -> bool {
    matches!(in_layer(e, layer, kind), Some(VerifyError::FinalEvalMismatch { .. }))
}

#[test]
fn a_wrong_or_later_tied_index_gives_a_negative_difference_that_no_limbs_hold() {
    // a non-maximum, and the later of two tied maxima (index 4 of [1 2 9 3 9 9 0])
    let x = scores(&[7], vec![1, 2, 9, 3, 9, 9, 0]);
    for (bits, at) in [(8, 0), (8, 4), (8, 5), (32, 4), (32, 6)] {
        let model = argmax_model(&[7], 0, bits);
        let w = model.forward(&x).unwrap();
        let what = format!("{bits} bits, index {at}");
        // limbs that hold D exactly: one limb is D itself, negative; several put it in the top
        let bad = with_selector(&model, &w, one_hot(7, &[at]), exact);
        assert_eq!(bad.output().data, vec![at as i64]);
        let e = rejected(&model, &x, &cheat(&model, &bad), &what);
        assert!(is_range_failure(&e), "{what}: expected the range lookup, got {e}");
        if bits > 16 {
            // limbs in range (two's complement): D ≠ Σ limbs, the check's relation fails
            let bad = with_selector(&model, &w, one_hot(7, &[at]), wrapped);
            let e = rejected(&model, &x, &cheat(&model, &bad), &what);
            assert!(is_final_mismatch_at(&e, CHECK, "argcheck"), "{what}: got {e}");
        }
    }
}

#[test]
fn two_bits_or_none_break_the_last_prefix_sum() {
    // two bits at the two largest entries: m = their sum exceeds every entry, so D ≥ 0 and only
    // (P − 1)·last = 0 fails
    let x = scores(&[2, 4], vec![50, 3, 60, -1, 5, 70, 80, 2]);
    let model = argmax_model(&[2, 4], 1, 9);
    let w = model.forward(&x).unwrap();
    let bad = with_selector(&model, &w, [one_hot(4, &[0, 2]), one_hot(4, &[2])].concat(), exact);
    let e = rejected(&model, &x, &cheat(&model, &bad), "two bits");
    assert!(is_final_mismatch_at(&e, CHECK, "argcheck"), "two bits: {e}");
    // no bit on a line of negative scores: m = 0, P = 0 and D = −x − 1 ≥ 0
    let x = scores(&[2, 3], vec![-5, -3, -9, 4, 1, 2]);
    let model = argmax_model(&[2, 3], 1, 8);
    let w = model.forward(&x).unwrap();
    let bad = with_selector(&model, &w, [vec![0; 3], one_hot(3, &[0])].concat(), exact);
    assert_eq!(bad.output().data, vec![0, 0]);
    let e = rejected(&model, &x, &cheat(&model, &bad), "no bit");
    assert!(is_final_mismatch_at(&e, CHECK, "argcheck"), "no bit: {e}");
}

#[test]
fn a_selector_entry_that_is_not_a_bit_breaks_the_selector_relation() {
    // s = 2 at index 1 and −1 at index 0 of [−100, 10, 5]: the sum is 1, m = 2·10 + 100 = 120,
    // every D ≥ 0, and the index Σ l·s is 2, not the maximum's 1
    let x = scores(&[3], vec![-100, 10, 5]);
    let model = argmax_model(&[3], 0, 9);
    let w = model.forward(&x).unwrap();
    let bad = with_selector(&model, &w, vec![-1, 2, 0], exact);
    assert_eq!(bad.output().data, vec![2]);
    assert!(bad.tensors[CHECK + 1].data.iter().all(|&d| d >= 0));
    let e = rejected(&model, &x, &cheat(&model, &bad), "s not a bit");
    assert!(is_final_mismatch_at(&e, SELECT, "argselect"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// cheating reductions: a virtual tensor that does not follow its inputs

/// What a cheating reduction does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Cheat {
    /// runs its sumcheck on whatever claim it gets
    FalseSum,
    /// (dot only) sends c·S(r) and X(r)/c: the product check holds, the claims are false
    Scaled(u64),
}

/// The cheating prover of one of the argmax's virtual layers (prefix sum, dot, index) along
/// `axis` of `dims`.
fn cheater(inner: &dyn Layer, dims: &[usize], axis: usize, cheat: Cheat) -> ProveFn {
    let (kind, dims) = (inner.kind(), dims.to_vec());
    Box::new(move |claim: &EvalClaim, inputs: &[&Tensor], mut t: &mut dyn ProverTranscript| {
        let layout = Layout::new(&dims);
        let along = Along::new(layout.clone(), axis);
        let factors: Vec<Vec<Fp>> = inputs.iter().map(|x| layout.pad_fp(&x.data)).collect();
        let (rho, weights) = along_weights(kind, &along, dims[axis], &claim.point);
        let Cheat::Scaled(c) = cheat else {
            return along.prove_unchecked(&rho, &weights, factors, claim.value, t);
        };
        let c = Fp::from(c);
        // the sumcheck as the dot runs it, then final evaluations chosen after its challenges
        let n = layout.num_vars();
        let bits = |b: usize| (0..n).map(|i| Fp::from(((b >> i) & 1) as u64)).collect::<Vec<_>>();
        let e = (0..1usize << n).map(|b| eq_eval(&rho, &along.keep(&bits(b)).unwrap())).collect();
        let mut tables = vec![e];
        tables.extend(factors);
        let (out, _) = prove_unchecked(ProductSum::product(tables).unwrap(), claim.value, &mut t);
        let (a, b) = (c * out.final_evals[1], out.final_evals[2] * c.inverse().unwrap());
        send_final_evals(&mut t, &[a, b]);
        Ok(vec![
            (ClaimTarget::Input(0), EvalClaim { point: out.point.clone(), value: a }),
            (ClaimTarget::Input(1), EvalClaim { point: out.point, value: b }),
        ])
    })
}

/// The model with layer `at`'s prover replaced by a cheater (same digest).
fn with_cheater(model: &Model, dims: &[usize], axis: usize, at: usize, cheat: Cheat) -> Model {
    cheating::with_cheater(model, at, |l| cheater(l, dims, axis, cheat))
}

fn cheat_with(model: &Model, cheater: &Model, w: &Witness) -> VerifyError {
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    let opts = ProveOptions::default().with_witness(w).unchecked();
    gkr::prove(cheater, &w.tensors[0], &opts, &mut t).expect("the cheater phrases a proof");
    rejected(model, &w.tensors[0], &t.into_proof().encode(), "cheater")
}

fn honest_prover_refuses(model: &Model, w: &Witness) {
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    let opts = ProveOptions::default().with_witness(w).unchecked();
    assert_eq!(
        gkr::prove(model, &w.tensors[0], &opts, &mut t),
        Err(ProveError::ClaimedSumMismatch)
    );
}

#[test]
fn the_cheating_harness_is_honest_without_a_cheat() {
    let dims = [2, 5];
    let x = scores(&dims, vec![3, 9, 9, -4, 0, 7, 7, 1, 8, 8]);
    let model = argmax_model(&dims, 1, 8);
    let w = model.forward(&x).unwrap();
    for at in [PREFIX, DOT, INDEX] {
        let cheater = with_cheater(&model, &dims, 1, at, Cheat::FalseSum);
        let mut t = FiatShamirProver::new(gkr::PROTOCOL);
        let opts = ProveOptions::default().with_witness(&w).unchecked();
        gkr::prove(&cheater, &x, &opts, &mut t).unwrap();
        assert_eq!(t.into_proof().encode(), honest(&model, &x), "layer {at}");
    }
}

#[test]
fn prefix_sums_that_do_not_follow_the_selector_are_rejected_at_the_prefix_sum() {
    // s at the later tie (index 2), P the step of the earlier one (index 1): every D ≥ 0 and the
    // last P is 1, so only the prefix sum's reduction can object
    let dims = [5];
    let x = scores(&dims, vec![3, 9, 9, -4, 0]);
    let model = argmax_model(&dims, 0, 8);
    let w = model.forward(&x).unwrap();
    let mut bad = w.clone();
    bad.tensors[SELECT + 1].data = one_hot(5, &[2]);
    bad.tensors[PREFIX + 1].data = vec![0, 1, 1, 1, 1];
    recompute(&model, &mut bad, DOT, exact);
    assert!(bad.tensors[CHECK + 1].data.iter().all(|&d| d >= 0));
    assert_eq!(bad.output().data, vec![2]);
    honest_prover_refuses(&model, &bad);
    let e = cheat_with(&model, &with_cheater(&model, &dims, 0, PREFIX, Cheat::FalseSum), &bad);
    assert!(is_final_mismatch_at(&e, PREFIX, "prefixsum"), "{e}");
}

#[test]
fn a_selected_value_that_is_not_the_selected_entry_is_rejected_at_the_dot() {
    // s at index 0 (not the maximum 40 at index 3), m claimed 40: every D ≥ 0
    let dims = [5];
    let x = scores(&dims, vec![-2, 7, 1, 40, 3]);
    let model = argmax_model(&dims, 0, 8);
    let w = model.forward(&x).unwrap();
    let mut bad = w.clone();
    bad.tensors[SELECT + 1].data = one_hot(5, &[0]);
    recompute(&model, &mut bad, PREFIX, exact);
    bad.tensors[DOT + 1].data = vec![40];
    recompute(&model, &mut bad, DOT + 1, exact);
    assert!(bad.tensors[CHECK + 1].data.iter().all(|&d| d >= 0));
    assert_eq!(bad.output().data, vec![0]);
    honest_prover_refuses(&model, &bad);
    let e = cheat_with(&model, &with_cheater(&model, &dims, 0, DOT, Cheat::FalseSum), &bad);
    assert!(is_final_mismatch_at(&e, DOT, "axisdot"), "{e}");
}

#[test]
fn a_wrong_output_index_is_rejected_at_the_index() {
    let dims = [2, 6];
    let x = scores(&dims, vec![1, 2, 3, 4, 5, 6, 6, 5, 4, 3, 2, 1]);
    let model = argmax_model(&dims, 1, 8);
    let w = model.forward(&x).unwrap();
    assert_eq!(w.output().data, vec![5, 0]);
    let mut bad = w.clone();
    bad.tensors[INDEX + 1].data = vec![5, 1];
    honest_prover_refuses(&model, &bad);
    let e = cheat_with(&model, &with_cheater(&model, &dims, 1, INDEX, Cheat::FalseSum), &bad);
    assert!(is_final_mismatch_at(&e, INDEX, "argindex"), "{e}");
}

#[test]
fn final_evaluations_scaled_after_the_challenges_are_caught_on_the_selector() {
    // the dot sends (c·S(r), X(r)/c): its product check passes, and the false claim on the
    // committed selector fails at its opening
    let dims = [3, 4];
    let x = scores(&dims, vec![5, 1, 9, 2, -3, 8, 8, 0, 4, 4, 4, 4]);
    let model = argmax_model(&dims, 1, 8);
    let w = model.forward(&x).unwrap();
    for c in [3, 7] {
        let e = cheat_with(&model, &with_cheater(&model, &dims, 1, DOT, Cheat::Scaled(c)), &w);
        assert!(
            matches!(
                in_layer(&e, SELECT, "argselect"),
                Some(VerifyError::EvalMismatch { what: "opening of a committed output", .. })
            ),
            "c = {c}: {e}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// bytes

#[test]
fn every_field_message_matters_and_byte_flips_are_never_accepted() {
    let dims = [3, 5];
    let x = scores(&dims, vec![5, 1, 9, 2, 9, -3, 8, 8, 0, 1, 4, 4, 4, 4, 4]);
    for bits in [8, 32] {
        let model = argmax_model(&dims, 1, bits);
        let proof = honest(&model, &x);
        let decoded = Proof::decode(&proof).unwrap();
        for j in 0..decoded.messages.len() {
            if decoded.messages[j].values.is_empty() {
                continue;
            }
            let mut p = decoded.clone();
            p.messages[j].values[0] += Fp::one();
            never_accepted(&model, &x, &p.encode(), &format!("message {j}"));
        }
        let mut r = rng(43);
        let flips: Vec<(usize, u8)> =
            (0..300).map(|_| (r.gen_range(0..proof.len()), 1u8 << r.gen_range(0..8))).collect();
        flips_never_accepted(&model, &x, &proof, &flips);
        for cut in [0, proof.len() / 2, proof.len() - 1] {
            never_accepted(&model, &x, &proof[..cut], &format!("cut at {cut}"));
        }
    }
}

#[test]
fn gkrm_round_trip_keeps_the_digest_and_bad_records_are_refused() {
    let model = argmax_model(&[3, 5], 1, 32);
    let bytes = model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.digest(), model.digest());
    let x = scores(&[3, 5], vec![5, 1, 9, 2, 9, -3, 8, 8, 0, 1, 4, 4, 4, 4, 4]);
    let proof = honest(&model, &x);
    assert_eq!(
        gkr::verify_bytes(&back, &x, &gkr::VerifyOptions::default(), &proof).unwrap().data,
        vec![2, 1, 0]
    );
    // records the constructors refuse: a selector with bits, a check of 0 or 63 bits, a wrong
    // number of inputs
    let bad = [
        ArgSpec { part: ArgPart::Select, inputs: vec![0], dims: vec![3, 5], axis: 1, bits: 8 },
        ArgSpec { part: ArgPart::Check, inputs: vec![0, 0, 0], dims: vec![3, 5], axis: 1, bits: 0 },
        ArgSpec {
            part: ArgPart::Check,
            inputs: vec![0, 0, 0],
            dims: vec![3, 5],
            axis: 1,
            bits: 63,
        },
        ArgSpec { part: ArgPart::Index, inputs: vec![0, 0], dims: vec![3, 5], axis: 1, bits: 0 },
        ArgSpec { part: ArgPart::Index, inputs: vec![0], dims: vec![3, 5], axis: 2, bits: 0 },
    ];
    for spec in bad {
        assert!(LayerSpec::Op(Box::new(spec.clone())).build().is_err(), "{spec:?}");
    }
}
