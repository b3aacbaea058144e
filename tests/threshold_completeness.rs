//! Requantization by thresholds ([`gkrnet::circuit::Threshold`]): completeness against the scalar
//! reference (soundness against cheating provers is `threshold_soundness.rs`).
//!
//! y = clamp(⌊V·a/2^k⌉ + z, lo, hi) is a non-decreasing step function of V; its thresholds are
//! t_v = min{V ∈ [−v_max, v_max + 1] : y(V) ≥ v}. The layer's public table holds rows
//! (y, t₁, t₂[, channel]), intervals [t₁, t₂) on which y is constant (whole steps, or pieces of at
//! most 2^16 values with one-limb comparisons when the table stays small); an entry commits y, its
//! row's t₁, t₂ and e₁ = V − t₁, e₂ = t₂ − 1 − V in 16-bit limbs. The tests do not assume how
//! steps are cut: they check the table's properties.
//!
//! **Completeness.** For every layer below: each output entry equals `quant::requantize` and an
//! independent exact rounding (twice the Euclidean remainder against 2^k); each channel's rows
//! partition [−v_max, v_max + 1) in order, y is the row's y at both ends of every row, y changes
//! exactly at the thresholds the test computes by bisection (so v_max, i.e. the builder's exact
//! accumulator bound, is checked too), every row fits the limbs, and no more limbs than 2·v_max + 1
//! needs; every committed (y, t₁, t₂, e₁, e₂) is the row holding V with in-range limbs; the mock
//! prover accepts, the proof verifies and the verified output is the reference's.
//! * every step edge (V = t_v − 2 … t_v + 1 for every threshold within ±(2^31 − 2^17), through an
//!   identity-like dense layer) of per-tensor layers with k = 0, 1, 16, 17, 20, 31, 44, 54, 62;
//!   multipliers near 1 (0.999, 1 − 2^-31), above 1 (empty steps), near 2^-24, 2^-31, 2^-62, 0;
//!   ReLU (lo = z), narrow clamps, lo = hi (also at −128 and 0);
//! * per-channel multipliers (channel = last axis of [batch, features], one shared k): the step
//!   edges of every channel around its own centre; NCHW per-channel on the int8 model input
//!   (every int8 value in every channel, bound 128, so V = −bound); per-tensor on the int8 input;
//!   the builder's `dense` and `conv`, per-tensor and per-channel, ReLU or not, with
//!   `Dense`/`Conv::acc_bound`; `zoo::lenet5` (threshold layers) verifies;
//! * exact ties V·a/2^k = x.5 with x even and odd, positive and negative, at k = 1, 16, 17, 31, 44
//!   and, in sum mode with P up to 3·2^60, k = 61 and 62: half to even, and every tie sits on a
//!   row edge (e₁ = 0 when it rounds up, e₂ = 0 when it rounds down);
//! * accumulators at ±bound (`Dense::acc_bound` reached at both ends: ±(2^31 − 1) and ±1255):
//!   saturation at both clamp ends where the unclamped value passes them, t₁ = −bound at −bound
//!   and t₂ = bound + 1 at +bound;
//! * extremes: declared bounds 0, 127, 2^40 and 2^62 − 1 (four limbs, thresholds ±2^62), bound
//!   2^62 refused; multipliers 0 and 2^31 − 1; lo = hi; sum mode with P within 200 of ±(2^62 − 1);
//! * sum mode: `zoo::add` with different scales and zero points against an independent
//!   computation with `div_pow2_round_half_even` (and within half an output step of the real sum
//!   when unclamped); per-channel and per-tensor inputs with a constant offset and per-element
//!   offsets; per-element multipliers and offsets (average-pooling style, and on accumulators);
//! * 150 random seeded configurations (per-tensor, per-channel, sum mode with one or two inputs of
//!   every multiplier kind and offsets aimed at P-space thresholds; random k, z and clamps).
//!
//! The builder's table budget and its per-channel tables at scale are `threshold_scale.rs`.
//!
//! `GKRNET_TEST_SEED` (an integer) shifts every seed.
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
use common::threshold::*;
use common::{rng, seed_shift};
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    Conv, ConvGeometry, ConvSpec, Dense, DenseSpec, Multiplier, RequantKind, RequantSpec, Scaled,
    Tensor, Threshold,
};
use gkrnet::quant::{div_pow2_round_half_even, FixedPoint};
use rand::seq::SliceRandom;
use rand::Rng;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// 1. per-tensor: every step edge

fn per_tensor_configs() -> Vec<(u32, Out)> {
    let fp = |m: f64| FixedPoint::from_real(m).unwrap();
    let mut v = vec![
        (1, out(0, 0, -128, 127)),
        (3, out(0, -5, -128, 127)), // a/2^k = 3: empty steps
        (0, out(0, 17, -128, 127)), // a = 0: constant
        (1, out(1, 0, -128, 127)),
        (3, out(1, -1, -128, 127)),
        (1, out(16, 0, -128, 127)),
        (40_000, out(16, 3, 3, 127)), // ReLU
        (65_537, out(17, -128, -128, 127)),
        ((1 << 31) - 1, out(31, 0, -128, 127)), // 1 − 2^-31
        (1 << 30, out(31, 5, -7, 9)),           // narrow clamp
        (1 << 20, out(44, 0, -128, 127)),       // 2^-24
        ((1 << 20) + 1, out(44, -20, -20, 127)),
        ((1 << 20) - 1, out(44, 127, 127, 127)), // lo = hi
        ((1 << 31) - 1, out(62, 0, -128, 127)),  // 2^-31
        (1, out(62, 0, -128, 127)),              // 2^-62: always z
        (12_345, out(20, -128, -128, -128)),     // lo = hi = −128
        (12_345, out(20, 0, 0, 0)),
    ];
    for m in
        [0.999, 0.999_999_9, 1.5, 2f64.powi(-24), 0.999 * 2f64.powi(-24), 1.0001 * 2f64.powi(-24)]
    {
        let f = fp(m);
        v.push((f.a, out(f.k, 0, -128, 127)));
        v.push((f.a, out(f.k, -30, -30, 127)));
    }
    v
}

#[test]
fn every_step_edge_of_per_tensor_layers_matches_the_scalar_reference() {
    let configs = per_tensor_configs();
    let ks: BTreeSet<u32> = configs.iter().map(|c| c.1.k).collect();
    for k in [0, 1, 16, 17, 31, 44, 54, 62] {
        assert!(ks.contains(&k), "k = {k} not covered");
    }
    let (mut edges, mut mid) = (0, 0);
    for (a, o) in configs {
        let mult = Multiplier::Tensor(a);
        let t = provisional(&mult, o).thresholds(a as i128);
        let mut centres = inside(&t);
        centres.extend([0, WINDOW, -WINDOW]);
        centres.sort();
        centres.dedup();
        let (model, input, spec) = input_mode_model(&[-2, -1, 0, 1], &centres, mult, o);
        let (_, entries) = prove_and_check(&model, &input, &spec);
        // every in-window threshold t_v (v > lo) was hit at V = t_v and V = t_v − 1
        let starts: BTreeSet<i128> = entries.iter().filter(|e| e.v == e.t1).map(|e| e.t1).collect();
        for &t in inside(&t[1..]).iter() {
            assert!(starts.contains(&(t as i128)), "a = {a}, {o:?}: no V = {t}");
        }
        edges += starts.len();
        mid += entries.iter().filter(|e| e.y > o.lo as i128 && e.y < o.hi as i128).count();
    }
    assert!(edges > 2000 && mid > 2000, "{edges} step starts, {mid} unclamped entries");
}

// ---------------------------------------------------------------------------------------------
// 2. per-channel

/// Row offsets and one centre per channel so that the accumulators of channel c hit every
/// in-window threshold of c within ±SPREAD of its centre, and the one before it.
fn per_channel_grid(tables: &[Vec<i128>]) -> (Vec<i64>, Vec<i64>) {
    let mut offs: BTreeSet<i64> = [-1, 0, 1].into();
    let mut centres = Vec::new();
    for t in tables {
        let t = inside(t);
        let centre = match (t.first(), t.last()) {
            (Some(&a), Some(&b)) if b - a <= 2 * (SPREAD - 2) => a + (b - a) / 2,
            (Some(_), Some(_)) => t[t.len() / 2],
            _ => 0,
        };
        for &v in &t {
            if (v - centre).abs() <= SPREAD - 2 {
                offs.extend([v - centre, v - centre - 1]);
            }
        }
        centres.push(centre);
    }
    (offs.into_iter().collect(), centres)
}

fn per_channel_configs() -> Vec<(Vec<u32>, Out)> {
    vec![
        (vec![1, 2, 3, 0], out(0, 0, -128, 127)),
        (vec![1, 3, 5, 255], out(1, -1, -128, 127)),
        (vec![65_535, 40_000, 1 << 16, 1 << 17, 1], out(16, 3, 3, 127)),
        (vec![65_537, 3, 1 << 20], out(17, -128, -128, 127)),
        (vec![(1 << 31) - 1, 1 << 30, (1 << 30) + 1, 1 << 24, 3], out(31, 2, -128, 127)),
        (vec![1 << 20, (1 << 20) + 1, 1 << 30, 1 << 27], out(44, 0, -7, 9)),
        (vec![(1 << 31) - 1, 1, 1 << 30], out(62, 0, -128, 127)),
        (vec![3 << 18, 1 << 19], out(20, 50, 50, 50)),
    ]
}

#[test]
fn every_channel_of_per_channel_layers_matches_the_scalar_reference_at_its_step_edges() {
    let mut starts = 0;
    for (a, o) in per_channel_configs() {
        let mult = Multiplier::Channel(a.clone());
        let prov = provisional(&mult, o);
        let tables: Vec<Vec<i128>> = a.iter().map(|&x| prov.thresholds(x as i128)).collect();
        let (offs, centres) = per_channel_grid(&tables);
        let (model, input, spec) = input_mode_model(&offs, &centres, mult, o);
        assert!(spec.per_channel());
        let (_, entries) = prove_and_check(&model, &input, &spec);
        // each channel reached the thresholds near its centre
        for (c, t) in tables.iter().enumerate() {
            let hit: BTreeSet<i128> = entries
                .iter()
                .enumerate()
                .filter(|(j, e)| j % a.len() == c && e.v == e.t1)
                .map(|(_, e)| e.v)
                .collect();
            for &v in &inside(&t[1..]) {
                if (v - centres[c]).abs() <= SPREAD - 2 {
                    assert!(hit.contains(&(v as i128)), "{a:?} {o:?}: channel {c} misses {v}");
                }
            }
            starts += hit.len();
        }
    }
    assert!(starts > 1500, "{starts} step starts hit");
}

#[test]
fn nchw_per_channel_and_per_tensor_on_the_int8_model_input_cover_every_value() {
    let mut r = rng(40);
    // [1, 3, 16, 16]: each channel holds every int8 value once; V = −128 = −bound
    let mut data = Vec::new();
    for _ in 0..3 {
        let mut v: Vec<i64> = (-128..=127).collect();
        v.shuffle(&mut r);
        data.extend(v);
    }
    let nchw = Tensor::new(vec![1, 3, 16, 16], data).unwrap();
    let flat = Tensor::new(vec![2, 128], (-128..=127).collect()).unwrap();
    let cases: Vec<(&Tensor, Multiplier, Out)> = vec![
        (&nchw, Multiplier::Channel(vec![1, 100, 300]), out(7, 0, -128, 127)),
        (&nchw, Multiplier::Channel(vec![1, 0, 2]), out(0, -3, -128, 127)),
        (&nchw, Multiplier::Channel(vec![(1 << 31) - 1, 1 << 30, 1 << 24]), out(31, 9, 9, 127)),
        (&nchw, Multiplier::Channel(vec![1 << 20, 5, 77]), out(44, 0, -128, 127)),
        (&nchw, Multiplier::Tensor(3), out(1, 0, -100, 100)),
        (&flat, Multiplier::Tensor(1), out(0, 0, -128, 127)),
        (&flat, Multiplier::Tensor(1), out(1, 0, -128, 127)),
        (&flat, Multiplier::Tensor(1 << 30), out(31, -128, -128, 127)),
        (&flat, Multiplier::Channel((0..128).map(|c| c * 3 + 1).collect()), out(7, 0, -128, 127)),
    ];
    for (input, mult, o) in cases {
        let mut b = Builder::new(input.dims.clone());
        let spec = Spec::input(0, mult, 128, input.dims.clone(), o);
        b.push(spec.layer(RequantKind::Requant));
        let model = b.finish("threshold-on-input").unwrap();
        let (_, entries) = prove_and_check(&model, input, &spec);
        // V = −128 = −bound starts the lowest row's step: t_lo = −v_max
        assert!(entries.iter().any(|e| e.v == -128 && e.t1 == -128));
        if input.dims.len() == 4 {
            // every int8 value in every channel
            for c in 0..3 {
                let vs: BTreeSet<i128> = (0..768)
                    .filter(|&j| channel(&input.dims, j) == c)
                    .map(|j| entries[j].v)
                    .collect();
                assert_eq!(vs.len(), 256, "channel {c}");
            }
        }
    }
}

#[test]
fn builder_dense_and_conv_use_thresholds_with_their_exact_accumulator_bounds() {
    let mut r = rng(41);
    for per_channel in [false, true] {
        for relu in [false, true] {
            // dense [3, 10] → 6
            let (n, k) = (10, 6);
            let z_in = r.gen_range(-128..=127);
            let weights: Vec<i8> = (0..n * k).map(|_| r.gen_range(-128..=127)).collect();
            let bias: Vec<i32> = (0..k).map(|_| r.gen_range(-5000..=5000)).collect();
            let ms: Vec<f64> = if per_channel {
                (0..k).map(|c| 0.0004 * (1.0 + c as f64 * 0.3)).collect()
            } else {
                vec![0.0006]
            };
            let z_out = r.gen_range(-128..=0);
            let dense = Dense::new(DenseSpec {
                input: 0,
                in_dims: vec![3, n],
                input_zero: z_in,
                weights: weights.clone(),
                features: k,
                bias: bias.clone(),
            })
            .unwrap();
            let mut b = Builder::new(vec![3, n]);
            b.dense(
                DenseSpec {
                    input: 0,
                    in_dims: b.dims(0),
                    input_zero: z_in,
                    weights,
                    features: k,
                    bias,
                },
                Rescale { m: &ms, zero: z_out, relu },
            )
            .expect("dense");
            let model = b.finish("builder-dense").unwrap();
            let (a, shift) = zoo::common_shift(&ms).unwrap();
            let mult = if per_channel { Multiplier::Channel(a) } else { Multiplier::Tensor(a[0]) };
            let lo = if relu { z_out } else { -128 };
            let spec =
                Spec::input(1, mult, dense.acc_bound(), vec![3, k], out(shift, z_out, lo, 127));
            for input in [
                zoo::random_input(&model, r.gen()),
                Tensor::new(vec![3, n], vec![127; 3 * n]).unwrap(),
                Tensor::new(vec![3, n], vec![-128; 3 * n]).unwrap(),
            ] {
                prove_and_check(&model, &input, &spec);
            }

            // conv [1, 2, 5, 5] → 4 features, 3×3, pad 1
            let (c_in, f) = (2, 4);
            let geo = ConvGeometry::square(3, 1, 1);
            let weights: Vec<i8> = (0..f * c_in * 9).map(|_| r.gen_range(-128..=127)).collect();
            let bias: Vec<i32> = (0..f).map(|_| r.gen_range(-3000..=3000)).collect();
            let ms: Vec<f64> = if per_channel {
                (0..f).map(|c| 0.0005 / (1.0 + c as f64)).collect()
            } else {
                vec![0.0003]
            };
            let dims = [1, c_in, 5, 5];
            let conv = Conv::new(ConvSpec {
                input: 0,
                in_dims: dims.to_vec(),
                input_zero: z_in,
                features: f,
                geometry: geo,
                output_padding: None,
                weights: weights.clone(),
                bias: bias.clone(),
            })
            .unwrap();
            let mut b = Builder::new(dims.to_vec());
            b.conv(
                ConvSpec {
                    input: 0,
                    in_dims: b.dims(0),
                    input_zero: z_in,
                    features: f,
                    geometry: geo,
                    output_padding: None,
                    weights,
                    bias,
                },
                Rescale { m: &ms, zero: z_out, relu },
            )
            .expect("conv");
            let model = b.finish("builder-conv").unwrap();
            let (a, shift) = zoo::common_shift(&ms).unwrap();
            let mult = if per_channel { Multiplier::Channel(a) } else { Multiplier::Tensor(a[0]) };
            let spec = Spec::input(
                1,
                mult,
                conv.acc_bound(),
                vec![1, f, 5, 5],
                out(shift, z_out, lo, 127),
            );
            for input in [
                zoo::random_input(&model, r.gen()),
                Tensor::new(dims.to_vec(), vec![127; 50]).unwrap(),
                Tensor::new(dims.to_vec(), vec![-128; 50]).unwrap(),
            ] {
                prove_and_check(&model, &input, &spec);
            }
        }
    }
    // the zoo's threshold models
    let model = zoo::lenet5();
    let thresholds = model.layers.iter().filter(|l| l.columns().contains(&"t1")).count();
    assert!(thresholds >= 3, "lenet5 has {thresholds} threshold layers");
    prove_and_verify(
        &model,
        &zoo::random_input(&model, 3u64.wrapping_add(seed_shift())),
        &model.name,
    );
}

// ---------------------------------------------------------------------------------------------
// 3. ties

#[test]
fn exact_ties_round_half_to_even_and_sit_on_step_edges() {
    let odd = |range: std::ops::RangeInclusive<i64>, shift: u32| {
        range.filter(|v| v & 1 == 1).map(move |v| v << shift).collect::<Vec<_>>()
    };
    // (a, k, V): a·V ≡ 2^(k−1) mod 2^k
    let cases: Vec<(u32, u32, Vec<i64>)> = vec![
        (1, 1, odd(-9..=9, 0)),
        (3, 1, odd(-9..=9, 0)),
        (1, 16, odd(-15..=15, 15)),
        (3, 16, odd(-15..=15, 15)),
        (1 << 16, 17, odd(-11..=11, 0)),
        (1 << 30, 31, odd(-199..=199, 0)),
        (3 << 29, 31, odd(-41..=41, 1)),
        (1 << 20, 44, odd(-255..=255, 23)),
        (5 << 18, 44, odd(-63..=63, 25)),
    ];
    let mut seen = BTreeSet::new();
    for (a, k, vs) in cases {
        let o = out(k, 0, -128, 127);
        let (model, input, spec) = input_mode_model(&[-1, 0, 1], &vs, Multiplier::Tensor(a), o);
        let (_, entries) = prove_and_check(&model, &input, &spec);
        let n = vs.len();
        for (c, &v) in vs.iter().enumerate() {
            let e = entries[n + c]; // row offset 0
            assert_eq!(e.v, v as i128);
            let p = v as i128 * a as i128;
            assert_eq!(p.rem_euclid(1 << k), 1 << (k - 1), "{v}·{a} is a tie of 2^{k}");
            let x = p.div_euclid(1 << k);
            let even = x + (x & 1);
            assert_eq!(e.y, even.clamp(-128, 127), "{v}·{a} / 2^{k} = {x}.5 rounds to {even}");
            if (-127..=127).contains(&even) {
                // rounding up starts a step, rounding down ends one
                if x & 1 == 1 {
                    assert_eq!(e.t1, e.v, "{v}·{a} / 2^{k}: e1 = 0");
                } else {
                    assert_eq!(e.t2 - 1, e.v, "{v}·{a} / 2^{k}: e2 = 0");
                }
                seen.insert((k, x & 1, v < 0));
            }
        }
    }
    // sum mode: P = x + offsets[j] chosen exactly, up to 3·2^60, for k = 61 and 62
    for k in [61u32, 62] {
        let h = 1i64 << (k - 1);
        let mut targets = vec![h, -h, h + 1, h - 1, -h + 1, -h - 1, 0, 1, -1];
        if k == 61 {
            targets.extend([3 * h, -3 * h, 3 * h - 1, -3 * h + 1]);
        }
        let n = targets.len();
        let x: Vec<i64> = (0..n as i64).map(|i| i * 29 % 256 - 128).collect();
        let input = Tensor::new(vec![1, n], x.clone()).unwrap();
        let spec = Spec {
            inputs: vec![Scaled { tensor: 0, multiplier: Multiplier::Tensor(1), bound: 128 }],
            offset: 0,
            offsets: targets.iter().zip(&x).map(|(t, x)| t - x).collect(),
            out: out(k, 3, -128, 127),
            dims: vec![1, n],
        };
        assert!(!spec.input_mode());
        let mut b = Builder::new(vec![1, n]);
        b.push(spec.layer(RequantKind::Requant));
        let model = b.finish("ties-sum").unwrap();
        let (_, entries) = prove_and_check(&model, &input, &spec);
        for (e, &t) in entries.iter().zip(&targets) {
            assert_eq!(e.v, t as i128);
            let x = (t as i128).div_euclid(1 << k);
            let q = if (t as i128).rem_euclid(1 << k) == 1 << (k - 1) {
                // a tie: half to even, on a step edge
                seen.insert((k, x & 1, t < 0));
                if x & 1 == 1 {
                    assert_eq!(e.t1, e.v, "P = {t}: e1 = 0");
                } else {
                    assert_eq!(e.t2 - 1, e.v, "P = {t}: e2 = 0");
                }
                x + (x & 1)
            } else {
                round_half_even(t as i128, k)
            };
            assert_eq!(e.y, q + 3, "P = {t}, k = {k}");
        }
    }
    assert!(seen.len() >= 20, "tie kinds seen: {seen:?}");
}

// ---------------------------------------------------------------------------------------------
// 4. accumulators at ±bound

#[test]
fn accumulators_at_plus_and_minus_the_bound_saturate_both_clamp_ends() {
    let fp = |m: f64| FixedPoint::from_real(m).unwrap();
    let near_one = fp(0.999);
    let tiny = fp(2f64.powi(-24));
    for big in [(1i64 << 31) - 256, 1000] {
        // input [3, 1], zero point −128, weights [1, −1, 1, −1]: at x = 127 the first two
        // accumulators are +bound and −bound (bound = 255 + big)
        let bias = [big, -big, 0, 7];
        let weights = vec![1i8, -1, 1, -1];
        let dense = Dense::new(DenseSpec {
            input: 0,
            in_dims: vec![3, 1],
            input_zero: -128,
            weights,
            features: 4,
            bias: bias.map(|b| b as i32).to_vec(),
        })
        .unwrap();
        let bound = dense.acc_bound();
        assert_eq!(bound, 255 + big as i128);
        let input = Tensor::new(vec![3, 1], vec![127, -128, 0]).unwrap();
        let configs = [
            (Multiplier::Tensor(near_one.a), out(near_one.k, 0, -128, 127)),
            (Multiplier::Tensor(near_one.a), out(near_one.k, -128, -128, 127)), // ReLU, z = −128
            (Multiplier::Tensor(near_one.a), out(near_one.k, 3, 3, 127)),       // ReLU
            (Multiplier::Tensor(near_one.a), out(near_one.k, 127, 127, 127)),   // lo = hi
            (Multiplier::Tensor(near_one.a), out(near_one.k, 3, -7, 9)),        // narrow
            (Multiplier::Tensor(tiny.a), out(tiny.k, 0, -128, 127)),
            (Multiplier::Tensor((1 << 31) - 1), out(62, 0, -128, 127)),
            (Multiplier::Tensor(1), out(0, -128, -128, 127)),
            (Multiplier::Channel(vec![(1 << 31) - 1, 1 << 30, 1, 5]), out(31, -1, -128, 127)),
        ];
        let mut saturated = 0;
        for (mult, o) in configs {
            let mut b = Builder::new(vec![3, 1]);
            let acc = b.push(dense.clone());
            let spec = Spec::input(acc, mult, bound, vec![3, 4], o);
            b.push(spec.layer(RequantKind::Requant));
            let model = b.finish("plus-minus-bound").unwrap();
            let (w, entries) = prove_and_check(&model, &input, &spec);
            assert_eq!(&w.tensors[1].data[..2], &[bound as i64, -bound as i64]);
            for (c, sign, want) in [(0, 1, o.hi), (1, -1, o.lo)] {
                let a = spec.table_multiplier(spec.table_of(c));
                let e = entries[c];
                assert_eq!(e.v, sign * bound);
                // the unclamped value at ±bound
                let u = round_half_even(sign * bound * a, o.k) + o.z as i128;
                if sign * (u - want as i128) >= 0 {
                    // saturated: the end row's edge, e2 = 0 at +bound, e1 = 0 at −bound
                    assert_eq!(e.y, want as i128, "channel {c}, {o:?}");
                    if c == 0 {
                        assert_eq!(e.t2, bound + 1, "+bound: e2 = 0");
                    } else {
                        assert_eq!(e.t1, -bound, "−bound: e1 = 0");
                    }
                    saturated += 1;
                }
            }
        }
        assert!(saturated >= 12, "{saturated} saturated ends (bound {bound})");
    }
}

#[test]
fn extreme_bounds_zero_multipliers_and_collapsed_clamps() {
    // the declared bound is only an upper bound: from 0 (all-zero input) to 2^62 − 1 (four limbs,
    // thresholds at ±2^62 in the i64 advice); multipliers 0 and 2^31 − 1; lo = hi
    let mut r = rng(42);
    let zeros = Tensor::new(vec![2, 8], vec![0; 16]).unwrap();
    let small = Tensor::new(vec![2, 8], (0..16).map(|i| i * 16 - 127).collect()).unwrap();
    let random =
        Tensor::new(vec![2, 8], (0..16).map(|_| r.gen_range(-128..=127)).collect()).unwrap();
    let max = (1i128 << 62) - 1;
    let cases: Vec<(&Tensor, i128, Multiplier, Out)> = vec![
        (&zeros, 0, Multiplier::Tensor(5), out(1, 3, -128, 127)),
        (&zeros, 0, Multiplier::Channel((1..=8).collect()), out(0, -128, -128, 127)),
        (&small, 127, Multiplier::Tensor(1 << 30), out(31, 0, -128, 127)),
        (&random, 1 << 40, Multiplier::Tensor(3), out(0, 0, -128, 127)),
        (&random, max, Multiplier::Tensor((1 << 31) - 1), out(62, 0, -128, 127)),
        (&random, max, Multiplier::Tensor(1), out(0, -1, -128, 127)),
        (&random, max, Multiplier::Tensor(0), out(62, 100, -128, 127)),
        (
            &random,
            max,
            Multiplier::Channel(vec![0, 1, 3, 1 << 30, (1 << 31) - 1, 7, 9, 11]),
            out(7, 0, -5, 5),
        ),
        (&random, max, Multiplier::Tensor(12_345), out(10, 42, 42, 42)),
        (&random, 128, Multiplier::Tensor(0), out(0, -128, -128, -128)),
    ];
    for (input, bound, mult, o) in cases {
        let spec = Spec::input(0, mult, bound, vec![2, 8], o);
        let mut b = Builder::new(vec![2, 8]);
        b.push(spec.layer(RequantKind::Requant));
        let model = b.finish("extreme").unwrap();
        prove_and_check(&model, input, &spec);
        if bound == max {
            assert_eq!(limbs(&model, 0), 4, "|V| < 2^62 takes four limbs");
        }
    }
    // a bound of 2^62 is refused (thresholds are i64 advice), 2^62 − 1 is not
    let s = |bound: i128| RequantSpec {
        scaled: vec![Scaled { tensor: 0, multiplier: Multiplier::Tensor(1), bound }],
        ..RequantSpec::accumulator(0, vec![1], Multiplier::Tensor(1))
    };
    assert!(Threshold::new(s(1 << 62)).is_err());
    assert!(Threshold::new(s(max)).is_ok());
    // sum mode with P within 200 of ±(2^62 − 1)
    let n = 8;
    let x: Vec<i64> = (0..n as i64).map(|i| i * 31 - 128).collect();
    let input = Tensor::new(vec![1, n], x.clone()).unwrap();
    let edge = (1i64 << 62) - 200;
    for k in [0u32, 61, 62] {
        let spec = Spec {
            inputs: vec![Scaled { tensor: 0, multiplier: Multiplier::Tensor(1), bound: 128 }],
            offset: 0,
            offsets: (0..n).map(|j| if j % 2 == 0 { edge } else { -edge } - x[j] / 2).collect(),
            out: out(k, 0, -128, 127),
            dims: vec![1, n],
        };
        assert!(spec.v_max() < 1 << 62);
        let mut b = Builder::new(vec![1, n]);
        b.push(spec.layer(RequantKind::Add));
        let model = b.finish("extreme-sum").unwrap();
        prove_and_check(&model, &input, &spec);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. sum mode

#[test]
fn elementwise_add_with_different_scales_and_zero_points_matches_an_independent_computation() {
    let mut r = rng(50);
    let combos = [
        (0.05, 0, 0.05, 0),
        (0.02, -128, 0.07, 13),
        (0.1, 127, 0.0004, -50),
        (0.003, 5, 0.9, -128),
        (0.011, -7, 0.013, 127),
    ];
    let dims = vec![3, 20];
    let mut unclamped = 0;
    for (s1, z1, s2, z2) in combos {
        // x₁ = the input (s₁, z₁); x₂ = a per-tensor threshold requantization of it to (s₂, z₂)
        let mut b = Builder::new(dims.clone());
        let f = FixedPoint::from_real(s1 / s2).unwrap();
        let branch =
            Spec::input(0, Multiplier::Tensor(f.a), 128, dims.clone(), out(f.k, z2, -128, 127));
        let x2 = b.push(branch.layer(RequantKind::Requant));
        let (sum, s_out, z_out) = zoo::add(&mut b, (0, s1, z1), (x2, s2, z2)).expect("add");
        assert_eq!((s_out, z_out), (s1 + s2, 0));
        let model = b.finish("add").unwrap();
        assert!(model.layers[sum - 1].columns().contains(&"t1"), "add uses thresholds");
        let (a, k) = zoo::common_shift(&[s1 / s_out, s2 / s_out]).unwrap();
        let spec = Spec {
            inputs: vec![
                Scaled { tensor: 0, multiplier: Multiplier::Tensor(a[0]), bound: 128 },
                Scaled { tensor: x2, multiplier: Multiplier::Tensor(a[1]), bound: 128 },
            ],
            offset: -(a[0] as i128 * z1 as i128) - a[1] as i128 * z2 as i128,
            offsets: Vec::new(),
            out: out(k, 0, -128, 127),
            dims: dims.clone(),
        };
        let len = 60;
        let inputs = [
            zoo::random_input(&model, r.gen()),
            zoo::random_input(&model, r.gen()),
            Tensor::new(dims.clone(), vec![-128; len]).unwrap(),
            Tensor::new(dims.clone(), vec![127; len]).unwrap(),
            Tensor::new(dims.clone(), (0..len as i64).map(|i| i * 4 - 120).collect()).unwrap(),
        ];
        for input in &inputs {
            let (w, _) = prove_and_check(&model, input, &spec);
            check_layer(&model, &w, 0, &branch);
            for j in 0..len {
                let (x1, x2) = (w.tensors[0].data[j] as i128, w.tensors[x2].data[j] as i128);
                let p = a[0] as i128 * (x1 - z1 as i128) + a[1] as i128 * (x2 - z2 as i128);
                let want = div_pow2_round_half_even(p, k).clamp(-128, 127);
                assert_eq!(w.tensors[sum].data[j] as i128, want, "entry {j}: {x1}, {x2}");
                // the real sum, within one output step unless clamped
                let real = (x1 - z1 as i128) as f64 * s1 + (x2 - z2 as i128) as f64 * s2;
                if want > -128 && want < 127 {
                    assert!((want as f64 * s_out - real).abs() <= 0.5001 * s_out);
                    unclamped += 1;
                }
            }
        }
    }
    assert!(unclamped > 500, "{unclamped} unclamped sums");
}

#[test]
fn per_channel_and_per_element_multipliers_with_offsets_in_sum_mode() {
    let mut r = rng(51);
    // (a) x₁ per channel, x₂ per tensor, a constant and per-element offsets: [3, 5]
    let dims = vec![3, 5];
    for (k, o) in [(8, out(8, 0, -128, 127)), (12, out(12, -9, -9, 127)), (0, out(0, 1, -50, 60))] {
        let mut b = Builder::new(dims.clone());
        let branch =
            Spec::input(0, Multiplier::Tensor(700), 128, dims.clone(), out(9, -20, -128, 127));
        let x2 = b.push(branch.layer(RequantKind::Requant));
        let spec = Spec {
            inputs: vec![
                Scaled {
                    tensor: 0,
                    multiplier: Multiplier::Channel(vec![1 << k, 3 << k >> 1, 5, 0, 1 << (k + 1)]),
                    bound: 128,
                },
                Scaled { tensor: x2, multiplier: Multiplier::Tensor(77 << (k / 2)), bound: 128 },
            ],
            offset: r.gen_range(-(1i128 << (k + 6))..=1 << (k + 6)),
            offsets: (0..15).map(|_| r.gen_range(-(1i64 << (k + 7))..=1 << (k + 7))).collect(),
            out: o,
            dims: dims.clone(),
        };
        b.push(spec.layer(RequantKind::Add));
        let model = b.finish("sum-channel").unwrap();
        for s in 0..4 {
            let input = zoo::random_input(&model, r.gen::<u64>() ^ s);
            prove_and_check(&model, &input, &spec);
        }
    }
    // (b) average-pooling style: per-element multipliers a_j ≈ 2^k / count_j and offsets
    //     −a_j·z·count_j on the int8 input [1, 2, 3, 3]
    let dims = vec![1, 2, 3, 3];
    let k = 20;
    let counts: Vec<i64> = (0..18).map(|j| [4, 6, 4, 6, 9, 6, 4, 6, 4][j % 9]).collect();
    let a: Vec<u32> = counts.iter().map(|&c| ((1u64 << k) / c as u64) as u32).collect();
    let z_in = -17;
    let spec = Spec {
        inputs: vec![Scaled { tensor: 0, multiplier: Multiplier::Element(a.clone()), bound: 128 }],
        offset: 0,
        offsets: a.iter().zip(&counts).map(|(&a, &c)| -(a as i64) * z_in * c).collect(),
        out: out(k, z_in as i32, -128, 127),
        dims: dims.clone(),
    };
    let mut b = Builder::new(dims.clone());
    b.push(spec.layer(RequantKind::AvgPool));
    let model = b.finish("element").unwrap();
    for s in 0..3 {
        let input = zoo::random_input(&model, s + 70);
        prove_and_check(&model, &input, &spec);
    }
    // (c) per-element multipliers on a dense accumulator (bound acc_bound) with offsets (sum
    //     mode), and a single per-tensor or per-channel input with only a constant offset (input
    //     mode: the offset is inside the step function, the thresholds are over the accumulator)
    let offs: Vec<i64> = (-6..=6).map(|i| i * 3001).collect();
    let centres = [-40_000, 0, 12_345, 99_999];
    let (input, dense) = chosen(&offs, &centres);
    let len = offs.len() * centres.len();
    let elem: Vec<u32> = (0..len).map(|_| r.gen_range(0..1 << 12)).collect();
    for (mult, offset, offsets) in [
        (
            Multiplier::Element(elem),
            0,
            (0..len).map(|_| r.gen_range(-(1 << 28)..1 << 28)).collect(),
        ),
        (Multiplier::Tensor(2000), -12_345_678, Vec::new()),
        (Multiplier::Channel(vec![1000, 2000, 3000, 4000]), 1, Vec::new()),
    ] {
        let mut b = Builder::new(input.dims.clone());
        let acc = b.push(dense.clone());
        let spec = Spec {
            inputs: vec![Scaled { tensor: acc, multiplier: mult, bound: dense.acc_bound() }],
            offset,
            offsets,
            out: out(24, 4, -128, 127),
            dims: b.dims(acc),
        };
        assert_eq!(spec.input_mode(), spec.offsets.is_empty());
        b.push(spec.layer(RequantKind::Add));
        let model = b.finish("element-acc").unwrap();
        let (_, entries) = prove_and_check(&model, &input, &spec);
        let mid = entries.iter().filter(|e| e.y > -128 && e.y < 127).count();
        assert!(mid > len / 4, "{mid} of {len} unclamped");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. random configurations

#[test]
fn random_configurations_match_the_scalar_reference() {
    const CONFIGS: u64 = 150;
    let mut modes = [0usize; 3];
    let (mut starts, mut ends, mut mid, mut k_seen) = (0, 0, 0, BTreeSet::new());
    for seed in 0..CONFIGS {
        let (model, input, spec, mode) = random_config(1000 + seed);
        let (_, entries) = prove_and_check(&model, &input, &spec);
        modes[mode] += 1;
        k_seen.insert(spec.out.k);
        starts += entries.iter().filter(|e| e.v == e.t1).count();
        ends += entries.iter().filter(|e| e.v == e.t2 - 1).count();
        mid += entries
            .iter()
            .filter(|e| e.y > spec.out.lo as i128 && e.y < spec.out.hi as i128)
            .count();
    }
    assert!(modes.iter().all(|&n| n >= 30), "configurations per mode: {modes:?}");
    assert!(k_seen.len() >= 20, "shifts seen: {k_seen:?}");
    assert!(
        starts > 300 && ends > 300 && mid > 500,
        "{starts} starts, {ends} ends, {mid} unclamped"
    );
}
