//! Completeness of the whole-model prover (`gkr::prove` / `gkr::verify`).
//!
//! Every honest inference must verify, and the verified output must be the integer reference
//! (`Model::forward`) bit for bit. Covered here:
//! * hundreds of seeded random models (dense, per-tensor and per-channel multipliers, ReLU,
//!   activations, adds, odd batch sizes and widths), each with two inputs;
//! * the zoo models `mlp-act` (every activation table and chained adds) and `mlp4m`;
//! * requantization extremes against the scalar reference `quant::requantize` and an independent
//!   exact rounding: all −128 / all 127 inputs, accumulators at ±(2^31 − 1) that saturate both
//!   clamp ends, multipliers near 1 and near 2^-24, shifts k = 0 and k = 1, exact ties with even
//!   and odd floors (positive and negative products), P = 0, and a requantization read straight
//!   from the model input;
//! * the elementwise add with different multipliers and zero points against an independent
//!   computation;
//! * every activation table, alone and several in one proof.
//! * shapes: one-entry tensors (no variables), inputs of rank 1, 3 and 4, wide dense layers with
//!   odd widths, layers sharing an input or a table, and a model without layers.
//!
//! `GKRNET_TEST_SEED` (an integer) shifts every seed, to explore other cases.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::model::prove_and_verify;
use common::oracles::round_half_even;
use common::{random_int8_tensor, rng, seed_shift};
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    ActivationLayer, Dense, DenseSpec, Layer, Model, Multiplier, Requant, RequantSpec, Tensor,
    TensorId, Witness,
};
use gkrnet::quant::{self, div_pow2_round_half_even, Activation, FixedPoint};
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;

fn filled(dims: &[usize], v: i64) -> Tensor {
    Tensor::new(dims.to_vec(), vec![v; dims.iter().product()]).unwrap()
}

/// The parameters of one requantization of an accumulator.
#[derive(Clone, Debug)]
struct Rq {
    mult: Multiplier,
    k: u32,
    z: i32,
    lo: i32,
    hi: i32,
}

impl Rq {
    fn tensor(a: u32, k: u32, z: i32, lo: i32, hi: i32) -> Self {
        Self { mult: Multiplier::Tensor(a), k, z, lo, hi }
    }

    fn real(m: f64, z: i32, lo: i32, hi: i32) -> Self {
        let f = FixedPoint::from_real(m).unwrap();
        Self::tensor(f.a, f.k, z, lo, hi)
    }

    /// The requantization of accumulator `acc` with these parameters.
    fn spec(&self, acc: TensorId, dims: Vec<usize>) -> RequantSpec {
        let (k, zero, lo, hi) = (self.k, self.z, self.lo, self.hi);
        RequantSpec { k, zero, lo, hi, ..RequantSpec::accumulator(acc, dims, self.mult.clone()) }
    }

    fn a(&self, channel: usize) -> u32 {
        match &self.mult {
            Multiplier::Tensor(a) => *a,
            Multiplier::Channel(v) => v[channel],
            Multiplier::Element(_) | Multiplier::Signed(_) => {
                unreachable!("these tests use per-tensor or per-channel")
            }
        }
    }
}

/// Asserts that tensor `y` of the witness is the requantization `rq` of tensor `acc`, entry by
/// entry, against `quant::requantize` and the independent rounding.
fn assert_requantized(w: &Witness, acc: TensorId, y: TensorId, rq: &Rq) {
    let (acc, y) = (&w.tensors[acc], &w.tensors[y]);
    assert_eq!(acc.dims, y.dims);
    let last = *acc.dims.last().unwrap();
    for (j, (&p, &out)) in acc.data.iter().zip(&y.data).enumerate() {
        let a = rq.a(j % last);
        let want = quant::requantize(p, FixedPoint { a, k: rq.k }, rq.z, rq.lo, rq.hi);
        assert_eq!(out, want as i64, "entry {j}: acc {p}, {rq:?}");
        let exact = (round_half_even(p as i128 * a as i128, rq.k) + rq.z as i128)
            .clamp(rq.lo as i128, rq.hi as i128);
        assert_eq!(out as i128, exact, "entry {j}: acc {p}, {rq:?} (independent rounding)");
    }
}

/// Proves input → [dense →] requant and checks the requantized entries; `dense` reads tensor 0,
/// without it the requantization reads the model input itself.
fn prove_requant(input: &Tensor, dense: Option<&Dense>, rq: &Rq) -> Witness {
    let mut b = Builder::new(input.dims.clone());
    let acc = match dense {
        Some(d) => b.push(d.clone()),
        None => 0,
    };
    let layer = Requant::new(rq.spec(acc, b.dims(acc))).unwrap_or_else(|e| panic!("{rq:?}: {e}"));
    let y = b.push(layer);
    let model = b.finish("requant-extremes").unwrap();
    let w = prove_and_verify(&model, input, &model.name);
    assert_requantized(&w, acc, y, rq);
    w
}

/// A [1, n] input and a dense layer (identity weights, bias = acc − x) whose accumulators are
/// exactly `accs` (each within ±(2^31 − 512)).
fn chosen_accumulators(accs: &[i64], rng: &mut ChaCha20Rng) -> (Tensor, Dense) {
    let n = accs.len();
    let input = random_int8_tensor(rng, &[1, n]);
    let mut weights = vec![0i8; n * n];
    for j in 0..n {
        weights[j * n + j] = 1;
    }
    let bias = accs.iter().zip(&input.data).map(|(&a, &x)| i32::try_from(a - x).unwrap()).collect();
    let dense = Dense::new(DenseSpec {
        input: 0,
        in_dims: vec![1, n],
        input_zero: 0,
        weights,
        features: n,
        bias,
    })
    .unwrap();
    let w = dense.forward(&[&input]).unwrap();
    assert_eq!(w.output.data, accs, "the identity dense layer gives the chosen accumulators");
    (input, dense)
}

// ---------------------------------------------------------------------------------------------
// 1. random models

#[test]
fn honest_proofs_of_300_random_models_verify_with_the_reference_output() {
    const MODELS: u64 = 300;
    let shift = seed_shift();
    let mut kinds = BTreeSet::new();
    let (mut per_tensor, mut per_channel, mut batches) = (0, 0, BTreeSet::new());
    let (mut odd_width, mut saturated_hi, mut saturated_lo) = (0, 0, 0);
    for i in 0..MODELS {
        let seed = i.wrapping_add(shift);
        let model = zoo::random_model(seed).unwrap_or_else(|e| panic!("random_model({seed}): {e}"));
        for l in &model.layers {
            kinds.insert(l.kind());
            if l.kind() == "requant" {
                if l.coefficients().is_empty() {
                    per_tensor += 1;
                } else {
                    per_channel += 1;
                }
            }
        }
        batches.insert(model.input_dims[0]);
        odd_width += usize::from(!model.input_dims[1].is_power_of_two());
        for j in 0..2 {
            let input = zoo::random_input(&model, seed.wrapping_mul(1000).wrapping_add(j + 7));
            let w = prove_and_verify(&model, &input, &model.name);
            for t in &w.tensors[1..] {
                if t.to_i8().is_some() {
                    saturated_hi += t.data.iter().filter(|&&v| v == 127).count();
                    saturated_lo += t.data.iter().filter(|&&v| v == -128).count();
                }
            }
        }
    }
    // the generator does reach what this test claims to cover
    for kind in ["dense", "requant", "add"] {
        assert!(kinds.contains(kind), "no {kind} layer in {MODELS} random models");
    }
    for f in zoo::all_activations() {
        assert!(kinds.contains(f.name()), "no {} layer in {MODELS} random models", f.name());
    }
    assert!(
        per_tensor > 0 && per_channel > 0,
        "{per_tensor} per-tensor, {per_channel} per-channel"
    );
    assert_eq!(batches, BTreeSet::from([1, 2, 3]));
    assert!(odd_width > 0 && saturated_hi > 0 && saturated_lo > 0);
}

// ---------------------------------------------------------------------------------------------
// 2. zoo models

#[test]
fn mlp_act_verifies_for_several_inputs() {
    let model = zoo::mlp_act();
    let kinds: BTreeSet<&str> = model.layers.iter().map(|l| l.kind()).collect();
    for f in zoo::all_activations() {
        assert!(kinds.contains(f.name()), "mlp-act lacks {}", f.name());
    }
    assert!(kinds.contains("add"));
    let shift = seed_shift();
    let mut outputs = Vec::new();
    for s in 0..4u64 {
        let input = zoo::random_input(&model, s.wrapping_add(shift));
        outputs.push(prove_and_verify(&model, &input, &model.name).output().clone());
    }
    for v in [-128, 127, 0] {
        outputs.push(
            prove_and_verify(&model, &filled(&model.input_dims, v), &model.name).output().clone(),
        );
    }
    assert_eq!(outputs[0].dims, vec![2, 10]);
    assert!(outputs.windows(2).any(|p| p[0] != p[1]), "every input gave the same output");
}

#[test]
fn mlp4m_verifies() {
    let model = zoo::mlp4m();
    let params: usize = model
        .layers
        .iter()
        .filter(|l| l.kind() == "dense")
        .map(|l| {
            let (i, o) = (model.dims(l.inputs()[0])[1], l.output_dims()[1]);
            i * o + o
        })
        .sum();
    assert!(params > 4_000_000, "mlp4m has {params} parameters");
    let input = zoo::random_input(&model, 1u64.wrapping_add(seed_shift()));
    let w = prove_and_verify(&model, &input, &model.name);
    assert_eq!(w.output().dims, vec![1, 10]);
}

// ---------------------------------------------------------------------------------------------
// 3. extremes

#[test]
fn random_models_and_mlp_act_verify_on_all_min_and_all_max_inputs() {
    let shift = seed_shift();
    let models = std::iter::once(zoo::mlp_act())
        .chain((0..12u64).map(|s| zoo::random_model(s.wrapping_add(1000 + shift)).unwrap()));
    for model in models {
        for v in [-128, 127] {
            let input = filled(&model.input_dims, v);
            prove_and_verify(&model, &input, &model.name);
        }
    }
}

/// A [2, n] input with zero point −128 into a dense layer of 4 channels whose accumulators reach
/// ±(2^31 − 1): weights all 127, all −127, all −128 (biases at the i32 limit) and all 127 again
/// (bias −255·127·n, so 0 on the all-127 input).
fn saturating_dense(n: usize) -> Dense {
    let top = (1i64 << 31) - 1;
    let b127 = top - 255 * 127 * n as i64;
    let b128 = top - 255 * 128 * n as i64;
    let weights: Vec<i8> = (0..n).flat_map(|_| [127, -127, -128, 127]).collect();
    let bias = vec![b127 as i32, -b127 as i32, -b128 as i32, -255 * 127 * n as i32];
    Dense::new(DenseSpec {
        input: 0,
        in_dims: vec![2, n],
        input_zero: -128,
        weights,
        features: 4,
        bias,
    })
    .unwrap()
}

#[test]
fn accumulators_at_the_i32_limits_saturate_both_clamp_ends() {
    let n = 5;
    let dense = saturating_dense(n);
    let near_one = FixedPoint::from_real(0.999).unwrap();
    let configs = [
        Rq::tensor(near_one.a, near_one.k, 0, -128, 127),
        Rq::tensor(near_one.a, near_one.k, -128, -128, 127), // ReLU fused at the lowest zero
        Rq::tensor(near_one.a, near_one.k, 127, 127, 127),   // lo = hi
        Rq::tensor(near_one.a, near_one.k, 3, -7, 9),        // narrow clamp
        Rq::tensor((1 << 31) - 1, 0, 0, -128, 127),          // largest P: (2^31 − 1)^2
        Rq::tensor(1, 0, -128, -128, 127),
        Rq::tensor((1 << 31) - 1, 31, 5, 5, 127), // just below 1, ReLU
        Rq {
            mult: Multiplier::Channel(vec![(1 << 31) - 1, near_one.a, 1, 1 << 30]),
            k: 31,
            z: -1,
            lo: -128,
            hi: 127,
        },
    ];
    let mut r = rng(30);
    let max_in = filled(&[2, n], 127);
    let inputs = [max_in.clone(), filled(&[2, n], -128), random_int8_tensor(&mut r, &[2, n])];
    let mut saturated = 0;
    for rq in &configs {
        for input in &inputs {
            let w = prove_requant(input, Some(&dense), rq);
            if input == &max_in {
                let top = (1i64 << 31) - 1;
                assert_eq!(&w.tensors[1].data[..4], &[top, -top, -top, 0]);
                for (c, want) in [(0, rq.hi), (1, rq.lo), (2, rq.lo)] {
                    if rq.a(c) as u64 * 2 >= 1 << rq.k {
                        // a/2^k ≥ 1/2: the extreme accumulators saturate
                        assert_eq!(w.tensors[2].data[c], want as i64, "channel {c}, {rq:?}");
                        saturated += 1;
                    }
                }
            }
        }
    }
    // every config but one channel of the last saturates at both ends on the all-127 input
    assert_eq!(saturated, 3 * configs.len() - 1);
}

#[test]
fn multipliers_near_one_and_near_2_pow_minus_24_match_the_scalar_reference() {
    let (n, k_out) = (7, 5);
    let mut r = rng(31);
    let weights: Vec<i8> = (0..n * k_out).map(|_| r.gen_range(-128..=127)).collect();
    // biases as large as the i32 accumulator allows, so acc·2^-24 spans the int8 range
    let room = (1i64 << 31) - 1 - 255 * 128 * n as i64;
    let bias: Vec<i32> = (0..k_out).map(|_| r.gen_range(-room..=room) as i32).collect();
    let dense = Dense::new(DenseSpec {
        input: 0,
        in_dims: vec![3, n],
        input_zero: r.gen_range(-128..=127),
        weights,
        features: k_out,
        bias,
    })
    .unwrap();
    let fp = |m: f64| FixedPoint::from_real(m).unwrap();
    let mut configs = Vec::new();
    for m in [0.999, 0.999_999_9, 2f64.powi(-24), 1.000_1 * 2f64.powi(-24), 0.999 * 2f64.powi(-24)]
    {
        let f = fp(m);
        configs.push(Rq::tensor(f.a, f.k, 0, -128, 127));
        configs.push(Rq::tensor(f.a, f.k, -20, -20, 127));
    }
    configs.extend([
        Rq::tensor((1 << 31) - 1, 31, 0, -128, 127), // 1 − 2^-31
        Rq::tensor(1, 24, 7, -128, 127),             // exactly 2^-24
        Rq::tensor((1 << 31) - 1, 55, 0, -128, 127), // just below 2^-24
        Rq::tensor(1, 62, 0, -128, 127),             // the smallest multiplier, k = MAX_SHIFT
        Rq {
            // near 1 and 2^-24 side by side in one tensor (shared k)
            mult: Multiplier::Channel(vec![(1 << 31) - 1, 1 << 7, 1, 1 << 30, 2_000_000_000]),
            k: 31,
            z: 2,
            lo: -128,
            hi: 127,
        },
    ]);
    let inputs = [random_int8_tensor(&mut r, &[3, n]), random_int8_tensor(&mut r, &[3, n])];
    let (mut mid, mut tiny_nonzero) = (0, 0);
    for rq in &configs {
        for input in &inputs {
            let w = prove_requant(input, Some(&dense), rq);
            let y = &w.tensors[2].data;
            mid += y.iter().filter(|&&v| v > rq.lo as i64 && v < rq.hi as i64).count();
            if rq.k >= 50 {
                tiny_nonzero += y.iter().filter(|&&v| v != rq.z as i64).count();
            }
        }
    }
    // not everything saturated, and the tiny multipliers moved some outputs off the zero point
    assert!(mid > 0 && tiny_nonzero > 0, "{mid} unclamped, {tiny_nonzero} tiny-multiplier outputs");
}

#[test]
fn shifts_k0_and_k1_match_the_scalar_reference() {
    let mut r = rng(32);
    let mut accs: Vec<i64> = (-40..=40).collect();
    accs.extend([-300, -129, -128, 127, 128, 255, 256, 1000, -1001, 1 << 20, -(1 << 30)]);
    let (input, dense) = chosen_accumulators(&accs, &mut r);
    let configs = [
        Rq::tensor(1, 0, 0, -128, 127),
        Rq::tensor(1, 0, 10, -128, 127),
        Rq::tensor(3, 0, -5, -5, 127),
        Rq::tensor(0, 0, 17, -128, 127),
        Rq::tensor(1, 1, 0, -128, 127), // every odd acc is a tie
        Rq::tensor(3, 1, -1, -128, 127),
        Rq::tensor(1, 1, 0, 0, 127),
        Rq::tensor((1 << 31) - 1, 1, 0, -128, 127),
    ];
    for rq in &configs {
        prove_requant(&input, Some(&dense), rq);
    }
    // k = 1: x.5 goes to the even neighbour, also for negative products
    let w = prove_requant(&input, Some(&dense), &Rq::tensor(1, 1, 0, -128, 127));
    let y = |acc: i64| w.tensors[2].data[accs.iter().position(|&a| a == acc).unwrap()];
    for (acc, want) in [(1, 0), (3, 2), (5, 2), (7, 4), (-1, 0), (-3, -2), (-5, -2), (-7, -4)] {
        assert_eq!(y(acc), want, "round_half_even({acc} / 2)");
    }
    // the requantization may read the model input directly (int8 accumulators)
    let x = Tensor::new(vec![2, 128], (-128..128).collect()).unwrap();
    for rq in [
        Rq::tensor(1, 0, 0, -128, 127),
        Rq::tensor(1, 1, 0, -128, 127),
        Rq::tensor(5, 1, -3, -128, 127),
        Rq::tensor(1 << 30, 31, 0, -128, 127),
        Rq {
            mult: Multiplier::Channel((0..128).map(|c| c * 3 + 1).collect()),
            k: 7,
            z: 0,
            lo: -128,
            hi: 127,
        },
    ] {
        prove_requant(&x, None, &rq);
    }
}

/// Accumulators whose products a·acc are exact ties of P / 2^k (found among `candidates`).
fn ties(a: u32, k: u32, candidates: impl IntoIterator<Item = i64>) -> Vec<i64> {
    let d = 1i128 << k;
    candidates.into_iter().filter(|&acc| (acc as i128 * a as i128).rem_euclid(d) == d / 2).collect()
}

#[test]
fn exact_ties_round_half_to_even_for_positive_and_negative_products() {
    let mut r = rng(33);
    let window = || -150i64..=150;
    let big_odd = |shift: u32| (-255i64..=255).step_by(2).map(move |o| o << shift);
    let cases: Vec<(u32, u32, Vec<i64>)> = vec![
        (1, 1, ties(1, 1, window())),
        (1, 3, ties(1, 3, window())),
        (3, 4, ties(3, 4, window())),
        (5, 6, ties(5, 6, window())),
        (1 << 30, 31, ties(1 << 30, 31, window())),
        (3 << 29, 31, ties(3 << 29, 31, window())),
        (1, 24, ties(1, 24, big_odd(23))), // 2^-24: acc = odd·2^23
        (1 << 7, 31, ties(1 << 7, 31, big_odd(23))),
        (1, 16, ties(1, 16, big_odd(15))), // the remainder fills exactly one 16-bit limb
        (1, 17, ties(1, 17, big_odd(16))),
    ];
    let mut floors = BTreeSet::new();
    for (a, k, tie_accs) in cases {
        assert!(tie_accs.len() >= 4, "a = {a}, k = {k}: too few ties");
        // every tie, its neighbours just off the tie, and P = 0
        let mut accs: Vec<i64> = tie_accs.iter().flat_map(|&t| [t - 1, t, t + 1]).collect();
        accs.push(0);
        accs.sort();
        accs.dedup();
        accs.retain(|&t| t.abs() < (1 << 31) - 512);
        for chunk in accs.chunks(128) {
            let (input, dense) = chosen_accumulators(chunk, &mut r);
            for (z, lo, hi) in [(0, -128, 127), (-100, -128, 127)] {
                let rq = Rq::tensor(a, k, z, lo, hi);
                let w = prove_requant(&input, Some(&dense), &rq);
                for (&acc, &y) in chunk.iter().zip(&w.tensors[2].data) {
                    let p = acc as i128 * a as i128;
                    if tie_accs.contains(&acc) {
                        // y − z is the even one of the two neighbours ⌊P/2^k⌋, ⌊P/2^k⌋ + 1
                        let q = p.div_euclid(1 << k);
                        let want = if q % 2 == 0 { q } else { q + 1 };
                        assert_eq!(y as i128, (want + z as i128).clamp(lo as i128, hi as i128));
                        floors.insert((p > 0, q.rem_euclid(2)));
                    }
                }
            }
        }
    }
    // ties with even and odd floors, for positive and negative products
    assert_eq!(floors.len(), 4, "{floors:?}");
    // hand-checked values: 0.5 → 0, 1.5 → 2, 2.5 → 2, −0.5 → 0, −1.5 → −2, −2.5 → −2
    for (p, want) in [(4, 0), (12, 2), (20, 2), (-4, 0), (-12, -2), (-20, -2), (-5, -1), (-3, 0)] {
        assert_eq!(div_pow2_round_half_even(p, 3), want);
        assert_eq!(round_half_even(p, 3), want);
    }
}

#[test]
fn zero_products_give_the_clamped_zero_point() {
    let mut r = rng(34);
    let accs = [0i64, 0, 5, -5, 1 << 30, -(1 << 30), 123_456_789];
    let (input, dense) = chosen_accumulators(&accs, &mut r);
    for (k, z, lo, hi) in
        [(0, 0, -128, 127), (1, 17, -128, 127), (31, -128, -128, 127), (62, 100, -3, 50)]
    {
        // a = 0: P = 0 everywhere
        let w = prove_requant(&input, Some(&dense), &Rq::tensor(0, k, z, lo, hi));
        assert!(w.tensors[2].data.iter().all(|&y| y == z.clamp(lo, hi) as i64));
        // acc = 0 with a nonzero multiplier
        let w = prove_requant(&input, Some(&dense), &Rq::tensor(12345, k, z, lo, hi));
        assert_eq!(w.tensors[2].data[0], z.clamp(lo, hi) as i64);
    }
    // a zero multiplier on some channels only
    let rq = Rq {
        mult: Multiplier::Channel(vec![0, 1, 0, 3, 0, 1 << 20, 7]),
        k: 2,
        z: -1,
        lo: -128,
        hi: 127,
    };
    prove_requant(&input, Some(&dense), &rq);
}

#[test]
fn many_requantizations_of_one_accumulator_in_one_proof() {
    // several committed layers read the same virtual dense output: its claims are merged
    let dense = saturating_dense(3);
    let mut b = Builder::new(vec![2, 3]);
    let acc = b.push(dense);
    let configs = [
        Rq::real(0.999, 0, -128, 127),
        Rq::real(2f64.powi(-24), 0, -128, 127),
        Rq::tensor(1, 0, 0, -128, 127),
        Rq::tensor(1, 1, 4, 4, 127),
        Rq::real(1e-3, -5, -128, 127),
    ];
    let ids: Vec<TensorId> = configs
        .iter()
        .map(|rq| {
            let dims = b.dims(acc);
            b.push(Requant::new(rq.spec(acc, dims)).unwrap())
        })
        .collect();
    let model = b.finish("fan-out").unwrap();
    let mut r = rng(35);
    for input in [filled(&[2, 3], 127), filled(&[2, 3], -128), random_int8_tensor(&mut r, &[2, 3])]
    {
        let w = prove_and_verify(&model, &input, &model.name);
        for (rq, &id) in configs.iter().zip(&ids) {
            assert_requantized(&w, acc, id, rq);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. elementwise add

/// One add: (a₁, z₁), (a₂, z₂), k, z, lo, hi.
type AddParams = ((u32, i32), (u32, i32), u32, i32, i32, i32);

fn check_add(input: &Tensor, params: AddParams, second: &Rq) {
    let ((a1, z1), (a2, z2), k, z, lo, hi) = params;
    let dims = input.dims.clone();
    let mut b = Builder::new(dims.clone());
    // a second int8 tensor: a requantization of the input
    let x2 = b.push(Requant::new(second.spec(0, dims.clone())).unwrap());
    let add = RequantSpec::add((0, a1, z1), (x2, a2, z2), dims);
    let y = b.push(Requant::new(RequantSpec { k, zero: z, lo, hi, ..add }).unwrap());
    let model = b.finish("add").unwrap();
    let w = prove_and_verify(&model, input, &model.name);
    let (x1, x2) = (&w.tensors[0].data, &w.tensors[x2].data);
    for j in 0..x1.len() {
        let p = a1 as i128 * (x1[j] - z1 as i64) as i128 + a2 as i128 * (x2[j] - z2 as i64) as i128;
        let want = (div_pow2_round_half_even(p, k) + z as i128).clamp(lo as i128, hi as i128);
        assert_eq!(
            w.tensors[y].data[j] as i128, want,
            "entry {j}: x1 {}, x2 {}, {params:?}",
            x1[j], x2[j]
        );
        assert_eq!(round_half_even(p, k), div_pow2_round_half_even(p, k));
    }
}

#[test]
fn elementwise_add_with_different_scales_and_zero_points() {
    let mut r = rng(40);
    let dims = [3, 5];
    let inputs = [random_int8_tensor(&mut r, &dims), filled(&dims, -128), filled(&dims, 127)];
    let second = Rq::real(0.37, -9, -128, 127);
    let (a, k) = zoo::common_shift(&[0.02 / 0.07, 0.05 / 0.07]).unwrap();
    let max = (1u32 << 31) - 1;
    let mut params: Vec<AddParams> = vec![
        ((a[0], 0), (a[1], 0), k, 0, -128, 127), // the zoo's own choice
        ((a[0], -128), (a[1], 127), k, 0, -128, 127), // extreme zero points
        ((a[0], 127), (a[1], -128), k, -128, -128, 127),
        ((1, 0), (1, 0), 0, 0, -128, 127), // k = 0: a plain saturating sum
        ((1, 3), (1, -4), 1, 0, -128, 127), // k = 1: ties
        ((1, 0), (3, 0), 2, 5, 5, 127),    // ReLU
        ((max, -128), (max, 127), 0, 0, -128, 127), // the largest P
        ((max, 0), (max, 0), 62, 0, -128, 127), // the largest shift
        ((0, 50), (1 << 30, -3), 31, 1, -128, 127), // one zero multiplier
        ((0, 0), (0, 0), 5, -77, -128, 127), // P = 0
        ((1 << 29, 1), (1 << 29, 2), 30, 0, -2, 2), // narrow clamp
    ];
    for _ in 0..12 {
        let lo = r.gen_range(-128..=127);
        params.push((
            (r.gen_range(0..=max), r.gen_range(-128..=127)),
            (r.gen_range(0..=max), r.gen_range(-128..=127)),
            r.gen_range(0..=40),
            r.gen_range(-128..=127),
            lo,
            r.gen_range(lo..=127),
        ));
    }
    for &p in &params {
        for input in &inputs {
            check_add(input, p, &second);
        }
    }
    // the same tensor twice, and the zoo builder step
    let x = random_int8_tensor(&mut r, &dims);
    let mut b = Builder::new(dims.to_vec());
    let add = RequantSpec::add((0, 3, 4), (0, 5, -6), dims.to_vec());
    let y = b.push(Requant::new(RequantSpec { k: 3, zero: 1, ..add }).unwrap());
    let (z, s_z, z_z) = zoo::add(&mut b, (y, 0.04, 1), (0, 0.01, 0)).unwrap();
    assert!((s_z - 0.05).abs() < 1e-12 && z_z == 0);
    let (a, k) = zoo::common_shift(&[0.04 / 0.05, 0.01 / 0.05]).unwrap();
    let model = b.finish("add-self").unwrap();
    let w = prove_and_verify(&model, &x, &model.name);
    for j in 0..x.data.len() {
        let v = x.data[j] as i128;
        let want = (div_pow2_round_half_even(3 * (v - 4) + 5 * (v + 6), 3) + 1).clamp(-128, 127);
        assert_eq!(w.tensors[y].data[j] as i128, want, "x + x at entry {j}");
        let p = a[0] as i128 * (want - 1) + a[1] as i128 * v;
        let want = div_pow2_round_half_even(p, k).clamp(-128, 127);
        assert_eq!(w.tensors[z].data[j] as i128, want, "zoo::add at entry {j}");
    }
}

// ---------------------------------------------------------------------------------------------
// 5. activations

fn every_int8() -> Tensor {
    // all 256 values, in a scrambled order, on a [2, 128] tensor
    let mut data: Vec<i64> = (-128..128).collect();
    let mut r = rng(50);
    for i in (1..data.len()).rev() {
        data.swap(i, r.gen_range(0..=i));
    }
    Tensor::new(vec![2, 128], data).unwrap()
}

fn activation_functions() -> Vec<Activation> {
    let mut fs = zoo::all_activations();
    fs.extend([Activation::Elu { alpha: 0.3 }, Activation::LeakyRelu { alpha: 0.2 }]);
    fs
}

#[test]
fn every_activation_is_its_table_and_verifies() {
    let x = every_int8();
    let scales = [(0.05, 0, 0.01, -10), (0.1, -20, 0.004, 30), (0.02, 127, 0.05, -128)];
    for f in activation_functions() {
        for (s_in, z_in, s_out, z_out) in scales {
            let layer =
                ActivationLayer::new(0, x.dims.clone(), f, (s_in, z_in), (s_out, z_out)).unwrap();
            let table = *layer.table();
            assert_eq!(table, f.table(s_in, z_in, s_out, z_out));
            let mut b = Builder::new(x.dims.clone());
            b.push(layer);
            let model = b.finish(f.name()).unwrap();
            let w = prove_and_verify(&model, &x, &model.name);
            for (&xi, &yi) in x.data.iter().zip(&w.output().data) {
                assert_eq!(yi, table[(xi + 128) as usize] as i64, "{f:?} at {xi}");
            }
        }
    }
}

#[test]
fn several_activations_share_one_proof() {
    // every function on the input, plus activations of requantized and activated tensors
    let x = every_int8();
    let mut b = Builder::new(x.dims.clone());
    let mut tables = Vec::new();
    for f in activation_functions() {
        let layer = ActivationLayer::new(0, x.dims.clone(), f, (0.04, 3), (0.02, -1)).unwrap();
        tables.push((0, *layer.table()));
        b.push(layer);
    }
    let spec = RequantSpec::accumulator(0, x.dims.clone(), Multiplier::Tensor(3));
    let rq = b.push(Requant::new(RequantSpec { k: 2, zero: 7, ..spec }).unwrap());
    let (s1, _, _) = zoo::activation(&mut b, rq, Activation::Tanh, (0.03, 7)).unwrap();
    let (s2, _, _) = zoo::activation(&mut b, s1, Activation::Silu, (0.01, 0)).unwrap();
    let model = b.finish("activations").unwrap();
    let w = prove_and_verify(&model, &x, &model.name);
    for (i, (input, table)) in tables.iter().enumerate() {
        for (&xi, &yi) in w.tensors[*input].data.iter().zip(&w.tensors[i + 1].data) {
            assert_eq!(yi, table[(xi + 128) as usize] as i64);
        }
    }
    for (id, input) in [(s1, rq), (s2, s1)] {
        let layer = &model.layers[id - 1];
        let rows = layer.table_lookup().unwrap().rows;
        for (&xi, &yi) in w.tensors[input].data.iter().zip(&w.tensors[id].data) {
            assert_eq!(rows[(xi + 128) as usize], vec![xi, yi], "{}", layer.kind());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// shapes

#[test]
fn single_entry_tensors_and_other_ranks_verify() {
    let mut r = rng(60);
    // [1, 1]: every layout has zero variables
    let mut b = Builder::new(vec![1, 1]);
    let acc = b.push(
        Dense::new(DenseSpec {
            input: 0,
            in_dims: vec![1, 1],
            input_zero: 3,
            weights: vec![-77],
            features: 1,
            bias: vec![1234],
        })
        .unwrap(),
    );
    let rq = Rq { mult: Multiplier::Channel(vec![5 << 20]), k: 27, z: 1, lo: -128, hi: 127 };
    let y = b.push(Requant::new(rq.spec(acc, vec![1, 1])).unwrap());
    let (s, _, _) = zoo::activation(&mut b, y, Activation::Gelu, (0.05, 1)).unwrap();
    zoo::add(&mut b, (y, 0.05, 1), (s, 0.03, -4)).unwrap();
    let model = b.finish("one-entry").unwrap();
    for v in [-128, -1, 0, 127] {
        let w = prove_and_verify(&model, &filled(&[1, 1], v), &model.name);
        assert_requantized(&w, acc, y, &rq);
    }
    // elementwise layers on inputs of rank 1, 3 and 4
    for dims in [vec![7], vec![1], vec![2, 3, 5], vec![3, 1, 2, 6]] {
        let mut b = Builder::new(dims.clone());
        let rq = Rq::tensor(3, 2, -7, -128, 127);
        let y = b.push(Requant::new(rq.spec(0, dims.clone())).unwrap());
        let (s, s_s, z_s) = zoo::activation(&mut b, y, Activation::Sigmoid, (0.05, -7)).unwrap();
        zoo::add(&mut b, (0, 0.02, 0), (s, s_s, z_s)).unwrap();
        let model = b.finish("ranks").unwrap();
        for input in [random_int8_tensor(&mut r, &dims), filled(&dims, -128), filled(&dims, 127)] {
            let w = prove_and_verify(&model, &input, &model.name);
            assert_requantized(&w, 0, y, &rq);
        }
    }
}

#[test]
fn wide_dense_layers_with_odd_widths_verify() {
    let mut r = rng(61);
    for (m, n, k) in [(3, 300, 257), (1, 513, 3), (5, 2, 129), (2, 1000, 1)] {
        let mut b = Builder::new(vec![m, n]);
        let weights = (0..n * k).map(|_| r.gen_range(-128..=127)).collect();
        let bias = (0..k).map(|_| r.gen_range(-100_000..=100_000)).collect();
        let ms: Vec<f64> = (0..k).map(|_| r.gen_range(1e-5..1e-3)).collect();
        b.dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: r.gen_range(-128..=127),
                weights,
                features: k,
                bias,
            },
            Rescale { m: &ms, zero: 3, relu: true },
        )
        .unwrap();
        let model = b.finish("wide").unwrap();
        let w = prove_and_verify(&model, &random_int8_tensor(&mut r, &[m, n]), &model.name);
        assert!(
            w.output().data.iter().all(|&y| (3..=127).contains(&y)),
            "ReLU fused at the zero point"
        );
    }
}

#[test]
fn layers_sharing_an_input_and_identical_tables_verify() {
    let mut r = rng(70);
    let dims = [2, 6];
    let mut b = Builder::new(dims.to_vec());
    // two dense layers read the model input (with different zero points), two layers use the
    // same activation table on the same tensor, and an add reads the input and a later tensor
    let weights: Vec<i8> = (0..36).map(|_| r.gen_range(-128..=127)).collect();
    let y1 = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: weights.clone(),
                features: 6,
                bias: vec![0; 6],
            },
            Rescale { m: &[1e-3], zero: 0, relu: false },
        )
        .unwrap();
    let y2 = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 5,
                weights,
                features: 6,
                bias: vec![7; 6],
            },
            Rescale { m: &[2e-3], zero: 0, relu: true },
        )
        .unwrap();
    let (t1, _, _) = zoo::activation(&mut b, y1, Activation::Tanh, (0.05, 0)).unwrap();
    let (t2, _, _) = zoo::activation(&mut b, y1, Activation::Tanh, (0.05, 0)).unwrap();
    let (sum, _, _) = zoo::add(&mut b, (0, 0.02, 0), (y2, 0.04, 0)).unwrap();
    let model = b.finish("shared").unwrap();
    for input in [random_int8_tensor(&mut r, &dims), filled(&dims, -128), filled(&dims, 127)] {
        let w = prove_and_verify(&model, &input, &model.name);
        assert_eq!(w.tensors[t1], w.tensors[t2]);
        assert_eq!(w.tensors[sum].dims, dims.to_vec());
    }
}

#[test]
fn a_model_without_layers_proves_its_input() {
    let x = random_int8_tensor(&mut rng(71), &[2, 6]);
    let model = Model::new("empty", vec![2, 6], Vec::new()).unwrap();
    let w = prove_and_verify(&model, &x, &model.name);
    assert_eq!(w.output(), &x);
}
