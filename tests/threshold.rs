//! Requantization by thresholds ([`gkrnet::circuit::Threshold`]): completeness against the scalar
//! reference and soundness against cheating provers.
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
//! **Soundness** (every case asserts the mock prover's first failure and the exact
//! [`VerifyError`]; the cheating prover is `gkr::prove_witness_unchecked`), each on a per-tensor
//! layer with one-limb rows, one with whole steps and two limbs, an empty-step one (a/2^k = 3), a
//! per-channel one and a sum-mode one (`zoo::add`, three limbs):
//! * y ± 1 with the next / previous output value's row and e₁, e₂ recomputed so that every relation
//!   holds (e₁ or e₂ is negative), also y + 1 with its empty step's thresholds:
//!   `Lookup { which: "range", source: LookupImbalance }`;
//! * y ± 1 keeping the true row's t₁, t₂: `Lookup { which: "table", source: LookupImbalance }`;
//! * y kept with another output value's row: e recomputed → range; e kept → table (the mock
//!   prover sees relation 0 first); t₁ + 1 with e₁ − 1, t₂ − 1 with e₂ − 1 and a widened row
//!   (t₁ of the row before), every relation and range holding → table;
//! * an e₁ or e₂ limb edited (its relation broken) → `Layer { layer, source: FinalEvalMismatch }`;
//! * an entry's row taken from another threshold layer's table for the same V (so e valid), and
//!   the two layers' entries swapped (the untagged tuples unchanged: only the layer tag objects)
//!   → table;
//! * per-channel: an entry with another channel's row for the same V, and the two entries
//!   swapped (only the public channel component objects) → table;
//! * 4 000 seeded bit flips (2 000 outside the range multiplicities) of a proof of a model with
//!   three threshold layers (per-channel, per-tensor, add): never accepted, never a panic.
//!
//! The builder's table budget accounts for cut steps (a bug this file found, now fixed: wide
//! layers keep whole steps, so their tables stay at 256 rows).
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

use common::errors::*;
use common::model::*;
use common::oracles::round_half_even;
use common::{rng, seed_shift};

use gkrnet::circuit::zoo::{self, Builder};
use gkrnet::circuit::{
    Conv, ConvGeometry, Dense, Layer, Model, Multiplier, Scaled, Tensor, TensorId, Threshold,
    Witness,
};
use gkrnet::proof::Proof;
use gkrnet::quant::{self, div_pow2_round_half_even, FixedPoint};
use gkrnet::transcript::labels;
use gkrnet::VerifyError;
use rand::seq::SliceRandom;
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// helpers

/// The channel of row-major entry j: the last axis for rank ≤ 2, axis 1 (NCHW) above.
fn channel(dims: &[usize], j: usize) -> usize {
    match dims.len() {
        0 => 0,
        1 | 2 => j % dims[dims.len() - 1],
        _ => (j / dims[2..].iter().product::<usize>()) % dims[1],
    }
}

/// The output side of a requantization: shift, zero point, clamp.
#[derive(Clone, Copy, Debug)]
struct Out {
    k: u32,
    z: i32,
    lo: i32,
    hi: i32,
}

fn out(k: u32, z: i32, lo: i32, hi: i32) -> Out {
    Out { k, z, lo, hi }
}

/// Everything the test knows about a threshold layer it builds.
#[derive(Clone, Debug)]
struct Spec {
    inputs: Vec<Scaled>,
    offset: i128,
    offsets: Vec<i64>,
    out: Out,
    dims: Vec<usize>,
}

impl Spec {
    fn input(
        tensor: TensorId,
        multiplier: Multiplier,
        bound: i128,
        dims: Vec<usize>,
        o: Out,
    ) -> Self {
        Self {
            inputs: vec![Scaled { tensor, multiplier, bound }],
            offset: 0,
            offsets: Vec::new(),
            out: o,
            dims,
        }
    }

    fn layer(&self, kind: &'static str) -> Threshold {
        let Out { k, z, lo, hi } = self.out;
        Threshold::new(
            kind,
            self.inputs.clone(),
            self.offset,
            self.offsets.clone(),
            k,
            z,
            lo,
            hi,
            self.dims.clone(),
        )
        .unwrap_or_else(|e| panic!("{self:?}: {e}"))
    }

    fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// V is the input itself (one input, per-tensor or per-channel, no per-element offsets; a
    /// constant offset is part of the step function).
    fn input_mode(&self) -> bool {
        self.inputs.len() == 1
            && self.offsets.is_empty()
            && !matches!(self.inputs[0].multiplier, Multiplier::Element(_))
    }

    fn per_channel(&self) -> bool {
        self.input_mode() && matches!(self.inputs[0].multiplier, Multiplier::Channel(_))
    }

    /// The multiplier of input i at entry j.
    fn mult(&self, i: usize, j: usize) -> i128 {
        match &self.inputs[i].multiplier {
            Multiplier::Tensor(a) => *a as i128,
            Multiplier::Channel(v) => v[channel(&self.dims, j)] as i128,
            Multiplier::Element(v) => v[j] as i128,
        }
    }

    /// |V| ≤ v_max: the bound in input mode, else |offset| + max |offsets| + Σ max aᵢ·boundᵢ.
    fn v_max(&self) -> i128 {
        if self.input_mode() {
            return self.inputs[0].bound;
        }
        let max_a = |m: &Multiplier| match m {
            Multiplier::Tensor(a) => *a as i128,
            Multiplier::Channel(v) | Multiplier::Element(v) => {
                v.iter().copied().max().unwrap_or(0) as i128
            }
        };
        self.offset.abs()
            + self.offsets.iter().map(|&o| (o as i128).abs()).max().unwrap_or(0)
            + self.inputs.iter().map(|s| max_a(&s.multiplier) * s.bound).sum::<i128>()
    }

    /// Number of step functions (tables): one per channel for a per-channel input mode.
    fn tables(&self) -> usize {
        match (&self.inputs[0].multiplier, self.input_mode()) {
            (Multiplier::Channel(v), true) => v.len(),
            _ => 1,
        }
    }

    /// The table of entry j.
    fn table_of(&self, j: usize) -> usize {
        if self.per_channel() {
            channel(&self.dims, j)
        } else {
            0
        }
    }

    /// The multiplier of table c's step function y(V) = clamp(⌊V·a/2^k⌉ + z): the input's in
    /// input mode, 1 in sum mode (thresholds in P-space).
    fn table_multiplier(&self, c: usize) -> i128 {
        match (&self.inputs[0].multiplier, self.input_mode()) {
            (Multiplier::Tensor(a), true) => *a as i128,
            (Multiplier::Channel(v), true) => v[c] as i128,
            _ => 1,
        }
    }

    /// V at entry j, from the witness's tensors.
    fn v(&self, w: &Witness, j: usize) -> i128 {
        if self.input_mode() {
            return w.tensors[self.inputs[0].tensor].data[j] as i128;
        }
        let mut p = self.offset + self.offsets.get(j).map_or(0, |&o| o as i128);
        for (i, s) in self.inputs.iter().enumerate() {
            p += self.mult(i, j) * w.tensors[s.tensor].data[j] as i128;
        }
        p
    }

    /// The constant offset inside the step function: input mode's (sum mode's V has it).
    fn step_offset(&self) -> i128 {
        if self.input_mode() {
            self.offset
        } else {
            0
        }
    }

    /// The independent step function.
    fn y_exact(&self, a: i128, v: i128) -> i128 {
        let Out { k, z, lo, hi } = self.out;
        (round_half_even(v * a + self.step_offset(), k) + z as i128).clamp(lo as i128, hi as i128)
    }

    /// The scalar reference `quant::requantize` (of a·V + offset with multiplier 1 when there
    /// is an offset).
    fn y_reference(&self, a: i128, v: i128) -> i128 {
        let Out { k, z, lo, hi } = self.out;
        let (v, a) = match self.step_offset() {
            0 => (v, a),
            off => (v * a + off, 1),
        };
        let v = i64::try_from(v).expect("V fits an i64");
        let m = FixedPoint { a: u32::try_from(a).expect("a < 2^32"), k };
        quant::requantize(v, m, z, lo, hi) as i128
    }

    /// t_v for v ∈ [lo, hi + 1]: the least V in [−v_max, v_max + 1] with y(V) ≥ v (v_max + 1
    /// when there is none), by bisection on the independent step function.
    fn thresholds(&self, a: i128) -> Vec<i128> {
        let vm = self.v_max();
        (self.out.lo..=self.out.hi + 1)
            .map(|v| {
                // y(below) < v and y(at) ≥ v, with y(−v_max − 1) = −∞ and y(v_max + 1) = +∞
                let (mut below, mut at) = (-vm - 1, vm + 1);
                while at - below > 1 {
                    let mid = below + (at - below) / 2;
                    if self.y_exact(a, mid) >= v as i128 {
                        at = mid;
                    } else {
                        below = mid;
                    }
                }
                at
            })
            .collect()
    }

    fn all_thresholds(&self) -> Vec<Vec<i128>> {
        (0..self.tables()).map(|c| self.thresholds(self.table_multiplier(c))).collect()
    }
}

/// One row of a threshold table: y on [t1, t2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    y: i128,
    t1: i128,
    t2: i128,
}

/// The rows of every table (channel) of a threshold layer, after checking them against the
/// step functions: in order they partition [−v_max, v_max + 1) into intervals on which y is the
/// row's y (checked at both ends, y being monotone), they start at every threshold t_v the test
/// computes within (−v_max, v_max] and nowhere else but where a step is cut into pieces, every
/// interval fits the comparison limbs, and per-channel rows carry their channel.
fn check_table(l: &dyn Layer, spec: &Spec, limbs: usize) -> Vec<Vec<Row>> {
    let tl = l.table_lookup().expect("a threshold layer looks its rows up");
    let width = if spec.per_channel() { 4 } else { 3 };
    assert_eq!(tl.columns.len(), width, "{spec:?}: looked-up tuple");
    let vm = spec.v_max();
    let mut tables = vec![Vec::new(); spec.tables()];
    for r in &tl.rows {
        assert_eq!(r.len(), width);
        let c = if width == 4 { r[3] as usize } else { 0 };
        tables[c].push(Row { y: r[0] as i128, t1: r[1] as i128, t2: r[2] as i128 });
    }
    let thresholds = spec.all_thresholds();
    for (c, rows) in tables.iter().enumerate() {
        let a = spec.table_multiplier(c);
        let what = format!("{spec:?}, table {c}");
        assert_eq!(rows.first().map(|r| r.t1), Some(-vm), "{what}: the rows start at −v_max");
        assert_eq!(rows.last().map(|r| r.t2), Some(vm + 1), "{what}: the rows end at v_max + 1");
        assert!(rows.windows(2).all(|w| w[0].t2 == w[1].t1), "{what}: the rows are contiguous");
        for r in rows {
            assert!(r.t1 < r.t2, "{what}: empty row {r:?}");
            assert!(r.t2 - r.t1 <= 1 << (16 * limbs), "{what}: {r:?} wider than {limbs} limbs");
            assert_eq!(spec.y_exact(a, r.t1), r.y, "{what}: y at the start of {r:?}");
            assert_eq!(spec.y_exact(a, r.t2 - 1), r.y, "{what}: y at the end of {r:?}");
        }
        // where y changes: exactly the thresholds within (−v_max, v_max]
        let changes: BTreeSet<i128> =
            rows.windows(2).filter(|w| w[0].y != w[1].y).map(|w| w[1].t1).collect();
        let want: BTreeSet<i128> =
            thresholds[c].iter().copied().filter(|&t| t > -vm && t <= vm).collect();
        assert_eq!(changes, want, "{what}: step boundaries");
    }
    tables
}

/// One checked entry of a threshold layer.
#[derive(Clone, Copy, Debug)]
struct Entry {
    v: i128,
    y: i128,
    t1: i128,
    t2: i128,
}

/// Checks layer `layer` (built from `spec`) on an honest witness: its public table, every
/// output entry against both references, and every committed step and limb.
fn check_layer(model: &Model, w: &Witness, layer: usize, spec: &Spec) -> Vec<Entry> {
    let l = model.layers[layer].as_ref();
    let names = l.columns();
    // input mode with single-limb comparisons range-checks V − t1 and t2 − 1 − V themselves
    let direct = names.len() == 3;
    let limbs = if direct { 1 } else { (names.len() - 3) / 2 };
    let mut want: Vec<String> = ["y", "t1", "t2"].iter().map(|s| s.to_string()).collect();
    if !direct {
        want.extend((0..limbs).map(|i| format!("e1_{i}")));
        want.extend((0..limbs).map(|i| format!("e2_{i}")));
    }
    assert_eq!(names, want, "{spec:?}: the layer's columns");
    assert_eq!(direct, spec.input_mode() && l.relations().is_empty(), "{spec:?}: direct");
    let vm = spec.v_max();
    let need = (2 * vm + 1).max(1);
    assert!(1i128 << (16 * (limbs - 1)) <= need, "{limbs} limbs, more than |V| ≤ {vm} needs");
    let tables = check_table(l, spec, limbs);
    let cols = w.columns(model, layer);
    let limb_value = |from: usize, j: usize| -> i128 {
        (0..limbs)
            .map(|i| {
                let x = cols[from + i][j];
                assert!((0..1 << 16).contains(&x), "entry {j}: limb {x}");
                (x as i128) << (16 * i)
            })
            .sum()
    };
    (0..spec.len())
        .map(|j| {
            let v = spec.v(w, j);
            assert!(v.abs() <= vm, "entry {j}: V = {v} above v_max {vm}");
            let c = spec.table_of(j);
            let a = spec.table_multiplier(c);
            let y = cols[0][j] as i128;
            assert_eq!(y, spec.y_reference(a, v), "entry {j}: V = {v}, a = {a}, {:?}", spec.out);
            assert_eq!(y, spec.y_exact(a, v), "entry {j}: V = {v} (independent rounding)");
            let (t1, t2) = (cols[1][j] as i128, cols[2][j] as i128);
            let row = tables[c][tables[c].partition_point(|r| r.t1 <= v) - 1];
            assert_eq!(Row { y, t1, t2 }, row, "entry {j}: the row holding V = {v}");
            assert!(t1 <= v && v < t2, "entry {j}: {t1} ≤ {v} < {t2}");
            if direct {
                assert!(v - t1 < 1 << 16 && t2 - 1 - v < 1 << 16, "entry {j}: a row over 2^16");
            } else {
                assert_eq!(limb_value(3, j), v - t1, "entry {j}: e1");
                assert_eq!(limb_value(3 + limbs, j), t2 - 1 - v, "entry {j}: e2");
            }
            Entry { v, y, t1, t2 }
        })
        .collect()
}

/// Largest |centre| of [`chosen`]: the dense layer's bias bound 2^31 − 255·382 leaves room.
const WINDOW: i64 = (1 << 31) - (1 << 17);
/// Largest |row offset| of [`chosen`]: x₀ + 127·(x₁ + x₂ + x₃) with int8 xᵢ.
const SPREAD: i64 = 48_000;
/// `Dense::acc_bound` of [`chosen`] without its bias: 128·(1 + 3·127).
const CHOSEN_SPREAD: i128 = 128 * 382;

/// A model input [m, 4] and a dense layer 4 → n (weights 1, 127, 127, 127 in every column,
/// bias `centres`) whose accumulators are acc[r][j] = offs[r] + centres[j].
fn chosen(offs: &[i64], centres: &[i64]) -> (Tensor, Dense) {
    let (m, n) = (offs.len(), centres.len());
    let mut x = Vec::with_capacity(4 * m);
    for &f in offs {
        assert!(f.abs() <= SPREAD, "row offset {f}");
        let q = (f + 63).div_euclid(127);
        let q1 = q.clamp(-128, 127);
        let q2 = (q - q1).clamp(-128, 127);
        x.extend([f - 127 * q, q1, q2, q - q1 - q2]);
    }
    let input = Tensor::new(vec![m, 4], x).unwrap();
    assert!(input.to_i8().is_some());
    let weights: Vec<i8> = (0..4).flat_map(|t| vec![if t == 0 { 1 } else { 127 }; n]).collect();
    let bias = centres.iter().map(|&c| i32::try_from(c).expect("centre fits i32")).collect();
    let dense = Dense::new(0, &[m, 4], 0, weights, n, bias).expect("dense");
    let acc = dense.forward(&[&input]).unwrap().output;
    for (i, &a) in acc.data.iter().enumerate() {
        assert_eq!(a, offs[i / n] + centres[i % n], "chosen accumulator {i}");
    }
    assert_eq!(
        dense.acc_bound(),
        CHOSEN_SPREAD + centres.iter().map(|c| c.abs() as i128).max().unwrap()
    );
    (input, dense)
}

/// input [m, 4] → dense (the chosen accumulators) → threshold on the accumulator (input mode,
/// bound `Dense::acc_bound`).
fn input_mode_model(
    offs: &[i64],
    centres: &[i64],
    mult: Multiplier,
    o: Out,
) -> (Model, Tensor, Spec) {
    let (input, dense) = chosen(offs, centres);
    let mut b = Builder::new(input.dims.clone());
    let bound = dense.acc_bound();
    let acc = b.push(dense);
    let spec = Spec::input(acc, mult, bound, b.dims(acc), o);
    b.push(spec.layer("requant"));
    (b.finish("threshold").expect("model"), input, spec)
}

/// Proves the model and checks its last layer against `spec`.
fn prove_and_check(model: &Model, input: &Tensor, spec: &Spec) -> (Witness, Vec<Entry>) {
    let w = prove_and_verify(model, input, &model.name);
    let last = model.layers.len() - 1;
    let entries = check_layer(model, &w, last, spec);
    (w, entries)
}

/// Distinct thresholds within ±WINDOW.
fn inside(t: &[i128]) -> Vec<i64> {
    let set: BTreeSet<i64> =
        t.iter().filter(|v| v.abs() <= WINDOW as i128).map(|&v| v as i64).collect();
    set.into_iter().collect()
}

/// A provisional spec whose v_max covers every accumulator [`chosen`] can make, to find the
/// thresholds inside the window (they do not depend on v_max).
fn provisional(mult: &Multiplier, o: Out) -> Spec {
    Spec::input(1, mult.clone(), WINDOW as i128 + CHOSEN_SPREAD, vec![1, 1], o)
}

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
        b.push(spec.layer("requant"));
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
            let dense = Dense::new(0, &[3, n], z_in, weights.clone(), k, bias.clone()).unwrap();
            let mut b = Builder::new(vec![3, n]);
            b.dense(0, z_in, weights, k, bias, &ms, z_out, relu).expect("dense");
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
            let conv = Conv::new(0, &dims, z_in, f, geo, weights.clone(), bias.clone()).unwrap();
            let mut b = Builder::new(dims.to_vec());
            b.conv(0, z_in, f, geo, weights, bias, &ms, z_out, relu).expect("conv");
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
        b.push(spec.layer("requant"));
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
        let dense =
            Dense::new(0, &[3, 1], -128, weights, 4, bias.map(|b| b as i32).to_vec()).unwrap();
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
            b.push(spec.layer("requant"));
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
        b.push(spec.layer("requant"));
        let model = b.finish("extreme").unwrap();
        prove_and_check(&model, input, &spec);
        if bound == max {
            assert_eq!(limbs(&model, 0), 4, "|V| < 2^62 takes four limbs");
        }
    }
    // a bound of 2^62 is refused (thresholds are i64 advice), 2^62 − 1 is not
    let s = |bound: i128| Scaled { tensor: 0, multiplier: Multiplier::Tensor(1), bound };
    assert!(Threshold::new("r", vec![s(1 << 62)], 0, Vec::new(), 0, 0, -128, 127, vec![1]).is_err());
    assert!(Threshold::new("r", vec![s(max)], 0, Vec::new(), 0, 0, -128, 127, vec![1]).is_ok());
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
        b.push(spec.layer("sum"));
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
        let x2 = b.push(branch.layer("requant"));
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
        let x2 = b.push(branch.layer("requant"));
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
        b.push(spec.layer("sum"));
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
    b.push(spec.layer("avgpool"));
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
        b.push(spec.layer("sum"));
        let model = b.finish("element-acc").unwrap();
        let (_, entries) = prove_and_check(&model, &input, &spec);
        let mid = entries.iter().filter(|e| e.y > -128 && e.y < 127).count();
        assert!(mid > len / 4, "{mid} of {len} unclamped");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. random configurations

fn random_out(r: &mut ChaCha20Rng, k: u32) -> Out {
    let z = r.gen_range(-128..=127);
    let (lo, hi) = match r.gen_range(0..5) {
        0 | 1 => (-128, 127),
        2 => (z, 127),
        3 => {
            let (a, b) = (r.gen_range(-128..=127), r.gen_range(-128..=127));
            (a.min(b), a.max(b))
        }
        _ => {
            let v = r.gen_range(-128..=127);
            (v, v)
        }
    };
    out(k, z, lo, hi)
}

fn random_a(r: &mut ChaCha20Rng) -> u32 {
    match r.gen_range(0..5) {
        0 => ((1u32 << 31) - 1) >> r.gen_range(0..31),
        1 | 2 => r.gen_range(1..1u32 << 31) >> r.gen_range(0..31),
        3 => 1 << r.gen_range(0..31),
        _ => r.gen_range(0..4),
    }
}

/// A random value whose magnitude is log-uniform up to 2^bits.
fn random_magnitude(r: &mut ChaCha20Rng, bits: u32) -> i64 {
    let b = r.gen_range(0..=bits);
    let v = r.gen_range(0..=(1i64 << b) - 1);
    if r.gen() {
        v
    } else {
        -v
    }
}

/// One random configuration: a model whose last layer is the threshold layer, an input, the
/// spec, and the mode (0 per-tensor, 1 per-channel, 2 sum).
fn random_config(seed: u64) -> (Model, Tensor, Spec, usize) {
    let mut r = rng(seed);
    let k = if r.gen_bool(0.5) {
        [0, 1, 16, 17, 31, 44, 62][r.gen_range(0..7)]
    } else {
        r.gen_range(0..=62)
    };
    let o = random_out(&mut r, k);
    let mode = r.gen_range(0..3);
    let n = r.gen_range(1..=5);
    if mode < 2 {
        let mult = if mode == 0 {
            Multiplier::Tensor(random_a(&mut r))
        } else {
            Multiplier::Channel((0..n).map(|_| random_a(&mut r)).collect())
        };
        let prov = provisional(&mult, o);
        let tables: Vec<Vec<i64>> = (0..prov.tables())
            .map(|c| inside(&prov.thresholds(prov.table_multiplier(c))))
            .collect();
        let centres: Vec<i64> = (0..n)
            .map(|j| {
                let t = &tables[if mode == 1 { j } else { 0 }];
                if !t.is_empty() && r.gen_bool(0.7) {
                    t[r.gen_range(0..t.len())]
                } else {
                    random_magnitude(&mut r, 31).clamp(-WINDOW, WINDOW)
                }
            })
            .collect();
        let mut offs: BTreeSet<i64> = [-1, 0, 1].into();
        let near: Vec<i64> =
            tables[0].iter().map(|t| t - centres[0]).filter(|d| d.abs() < SPREAD - 2).collect();
        for _ in 0..6.min(near.len()) {
            let d = near[r.gen_range(0..near.len())];
            offs.extend([d, d - 1]);
        }
        for _ in 0..3 {
            offs.insert(r.gen_range(-SPREAD..=SPREAD));
        }
        let offs: Vec<i64> = offs.into_iter().collect();
        let (model, input, spec) = input_mode_model(&offs, &centres, mult, o);
        return (model, input, spec, mode);
    }
    // sum mode: one or two dense accumulators of one input, any multiplier kinds, offsets
    let m = r.gen_range(1..=4);
    let offs: Vec<i64> = (0..m).map(|_| r.gen_range(-SPREAD..=SPREAD)).collect();
    let mut b = Builder::new(vec![m, 4]);
    let mut scaled = Vec::new();
    let mut tensors = Vec::new();
    let mut input = None;
    let dims = vec![m, n];
    let len = m * n;
    for _ in 0..r.gen_range(1..=2) {
        let centres: Vec<i64> =
            (0..n).map(|_| random_magnitude(&mut r, 31).clamp(-WINDOW, WINDOW)).collect();
        let (x, dense) = chosen(&offs, &centres);
        tensors.push(dense.forward(&[&x]).unwrap().output);
        input = Some(x);
        let bound = dense.acc_bound();
        let tensor = b.push(dense);
        let cap = ((1i128 << 58) / bound).min((1 << 31) - 1) as u32;
        let kind = r.gen_range(0..3);
        let mut a = || random_a(&mut r).min(cap);
        let multiplier = match kind {
            0 => Multiplier::Tensor(a()),
            1 => Multiplier::Channel((0..n).map(|_| a()).collect()),
            _ => Multiplier::Element((0..len).map(|_| a()).collect()),
        };
        scaled.push(Scaled { tensor, multiplier, bound });
    }
    let input = input.expect("one input at least");
    let offset = if r.gen() { random_magnitude(&mut r, 40) as i128 } else { 0 };
    let mut spec = Spec { inputs: scaled, offset, offsets: Vec::new(), out: o, dims };
    if r.gen_bool(0.6) || spec.input_mode() {
        // per-element offsets placing P on targets: thresholds in P-space (or the value just
        // below one), or random values
        let witness = Witness {
            tensors: std::iter::once(input.clone()).chain(tensors).collect(),
            advice: Vec::new(),
        };
        let mut base = spec.clone();
        base.offsets = vec![0; len];
        let t = inside_p_space(o);
        spec.offsets = (0..len)
            .map(|j| {
                let target = if !t.is_empty() && r.gen_bool(0.8) {
                    t[r.gen_range(0..t.len())] - r.gen_range(0..=1)
                } else {
                    random_magnitude(&mut r, 59)
                };
                i64::try_from(target as i128 - base.v(&witness, j)).unwrap()
            })
            .collect();
    }
    assert!(!spec.input_mode());
    b.push(spec.layer("sum"));
    (b.finish("random-sum").unwrap(), input, spec, 2)
}

/// The P-space thresholds of y(P) = clamp(⌊P/2^k⌉ + z) within ±2^59.
fn inside_p_space(o: Out) -> Vec<i64> {
    // (a per-element offset keeps it in sum mode, where V = P and v_max = |offset|)
    let prov = Spec {
        inputs: vec![Scaled { tensor: 0, multiplier: Multiplier::Tensor(0), bound: 0 }],
        offset: 1 << 61,
        offsets: vec![0],
        out: o,
        dims: vec![1],
    };
    assert_eq!(prov.v_max(), 1 << 61);
    let set: BTreeSet<i64> =
        prov.thresholds(1).into_iter().filter(|t| t.abs() <= 1 << 59).map(|t| t as i64).collect();
    set.into_iter().collect()
}

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

// ---------------------------------------------------------------------------------------------
// 7. soundness: helpers

/// The verdict a cheat must get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// `Lookup { which: "range", LookupImbalance }`; the mock prover: a 16-bit range check.
    Range,
    /// `Lookup { which: "table", LookupImbalance }`; the mock prover: the table lookup.
    Table,
    /// `Layer { layer, FinalEvalMismatch }`; the mock prover: relation r.
    Relation(usize),
}

/// Proves the cheat and asserts the mock prover's first failure (in layer `layer`: the verdict's
/// own check, or `mock_first` when a relation the mock prover checks earlier breaks as well) and
/// the verifier's exact error.
fn expect_with(
    model: &Model,
    input: &Tensor,
    cw: &Witness,
    layer: usize,
    v: Verdict,
    mock_first: Option<&str>,
    what: &str,
) {
    let e = model.check(cw).expect_err(what);
    assert_eq!(e.layer, layer, "{what}: mock prover {e}");
    let mock_ok = match (mock_first, v) {
        (Some(m), _) => e.what == m,
        (None, Verdict::Range) => e.what.starts_with("16-bit range check"),
        (None, Verdict::Table) => e.what == "table lookup",
        (None, Verdict::Relation(r)) => e.what == format!("relation {r}"),
    };
    assert!(mock_ok, "{what}: the mock prover reports {e}, expected {v:?}");
    let err = rejected(model, input, &cheat(model, cw), what);
    let ok = match v {
        Verdict::Range => is_lookup_imbalance(&err, "range"),
        Verdict::Table => is_lookup_imbalance(&err, "table"),
        Verdict::Relation(_) => is_layer_final_mismatch(&err, layer, model.layers[layer].kind()),
    };
    assert!(ok, "{what}: expected {v:?}, the verifier says {err:?} ({err})");
    println!("{what}: {err:?}");
}

fn expect(model: &Model, input: &Tensor, cw: &Witness, layer: usize, v: Verdict, what: &str) {
    expect_with(model, input, cw, layer, v, None, what);
}

/// Whether a threshold layer range-checks V − t1 and t2 − 1 − V themselves (no e columns).
fn direct(model: &Model, layer: usize) -> bool {
    model.layers[layer].columns().len() == 3
}

/// Limbs per comparison of a threshold layer (1 for a direct one).
fn limbs(model: &Model, layer: usize) -> usize {
    if direct(model, layer) {
        return 1;
    }
    (model.layers[layer].columns().len() - 3) / 2
}

/// (y, t1, t2, e1, e2) of entry j; a direct layer's e are V − t1 and t2 − 1 − V.
fn read(model: &Model, w: &Witness, layer: usize, j: usize) -> [i128; 5] {
    let n = limbs(model, layer);
    let cols = w.columns(model, layer);
    let (y, t1, t2) = (cols[0][j] as i128, cols[1][j] as i128, cols[2][j] as i128);
    if direct(model, layer) {
        let v = w.tensors[model.layers[layer].inputs()[0]].data[j] as i128;
        return [y, t1, t2, v - t1, t2 - 1 - v];
    }
    let limbs =
        |from: usize| -> i128 { (0..n).map(|i| (cols[from + i][j] as i128) << (16 * i)).sum() };
    [y, t1, t2, limbs(3), limbs(3 + n)]
}

/// Writes (y, t1, t2, e1, e2) to entry j; each e as 16-bit limbs with the top limb holding the
/// rest (negative, or wider than 16 bits), so Σ limbᵢ·2^(16i) = e and the relations hold. A
/// direct layer has no e columns: its e follow from V and the thresholds written.
fn write(model: &Model, w: &mut Witness, layer: usize, j: usize, s: [i128; 5]) {
    let n = limbs(model, layer);
    let direct = direct(model, layer);
    let mut col = |c: usize, v: i128| {
        let v = i64::try_from(v).expect("fits an i64");
        if c == 0 {
            w.tensors[layer + 1].data[j] = v;
        } else {
            w.advice[layer][c - 1][j] = v;
        }
    };
    col(0, s[0]);
    col(1, s[1]);
    col(2, s[2]);
    if direct {
        return;
    }
    for (from, mut e) in [(3, s[3]), (3 + n, s[4])] {
        for i in 0..n {
            if i + 1 == n {
                col(from + i, e);
            } else {
                col(from + i, e & 0xffff);
                e >>= 16;
            }
        }
    }
}

/// The rows of entry j's table (its channel's for a per-channel layer).
fn rows_of(model: &Model, layer: usize, j: usize) -> Vec<Row> {
    let l = model.layers[layer].as_ref();
    let tl = l.table_lookup().expect("threshold table");
    let c = (tl.columns.len() == 4).then(|| l.coefficients()[0][j]);
    tl.rows
        .iter()
        .filter(|r| c.is_none_or(|c| r[3] == c))
        .map(|r| Row { y: r[0] as i128, t1: r[1] as i128, t2: r[2] as i128 })
        .collect()
}

/// The tuple looked up at entry j, as the table's rows are written.
fn tuple(model: &Model, w: &Witness, layer: usize, j: usize) -> Vec<i64> {
    let l = model.layers[layer].as_ref();
    let s = read(model, w, layer, j);
    let mut t = vec![s[0] as i64, s[1] as i64, s[2] as i64];
    if l.table_lookup().unwrap().columns.len() == 4 {
        t.push(l.coefficients()[0][j]);
    }
    t
}

fn in_table(model: &Model, layer: usize, t: &[i64]) -> bool {
    model.layers[layer].table_lookup().unwrap().rows.iter().any(|r| r == t)
}

// ---------------------------------------------------------------------------------------------
// 8. soundness: wrong steps

/// Every wrong-step cheat on entry of threshold layer `layer` (the model's last layer).
fn wrong_steps(name: &str, model: &Model, input: &Tensor, layer: usize) {
    assert_eq!(layer + 1, model.layers.len());
    honest(model, input);
    let w = model.forward(input).expect("forward");
    let len = w.tensors[layer + 1].data.len();
    let lim = limbs(model, layer);
    let what = |case: &str, j: usize| format!("{name} (limbs {lim}), entry {j}: {case}");
    // the rows of entry j's table with a smaller and a larger y than entry j's
    let neighbours = |j: usize| -> (Option<Row>, Option<Row>) {
        let y = read(model, &w, layer, j)[0];
        let rows = rows_of(model, layer, j);
        (rows.iter().rev().find(|r| r.y < y).copied(), rows.iter().find(|r| r.y > y).copied())
    };
    let find = |case: &str, pred: &dyn Fn(usize) -> bool| -> usize {
        (0..len).find(|&j| pred(j)).unwrap_or_else(|| panic!("{name}: no entry for {case}"))
    };
    let both = |j: usize| matches!(neighbours(j), (Some(_), Some(_)));
    let j = find("neighbours", &both);
    let s = read(model, &w, layer, j);
    let v = s[1] + s[3];
    let (below, above) = neighbours(j);
    let (below, above) = (below.unwrap(), above.unwrap());

    // y + 1 (the next output value with a row) with that row's thresholds, e recomputed: e1 < 0
    let mut cw = w.clone();
    write(model, &mut cw, layer, j, [above.y, above.t1, above.t2, v - above.t1, above.t2 - 1 - v]);
    expect(model, input, &cw, layer, Verdict::Range, &what("y up, the next step's row", j));
    // y − 1 with the previous step's (last) row: e2 < 0
    let mut cw = w.clone();
    write(model, &mut cw, layer, j, [below.y, below.t1, below.t2, v - below.t1, below.t2 - 1 - v]);
    expect(model, input, &cw, layer, Verdict::Range, &what("y down, the previous step's row", j));
    // y ± 1 keeping the true row's thresholds (and e): no such row
    for (dy, case) in [(1, "y + 1, true thresholds"), (-1, "y − 1, true thresholds")] {
        let mut cw = w.clone();
        write(model, &mut cw, layer, j, [s[0] + dy, s[1], s[2], s[3], s[4]]);
        assert!(!in_table(model, layer, &tuple(model, &cw, layer, j)));
        expect(model, input, &cw, layer, Verdict::Table, &what(case, j));
    }
    // y kept, another output value's row: e recomputed (negative) or kept (relations broken)
    let mut cw = w.clone();
    write(model, &mut cw, layer, j, [s[0], above.t1, above.t2, v - above.t1, above.t2 - 1 - v]);
    expect(model, input, &cw, layer, Verdict::Range, &what("another row, e recomputed", j));
    if !direct(model, layer) {
        // (a direct layer's e cannot be kept: they are V − t1 and t2 − 1 − V)
        let mut cw = w.clone();
        write(model, &mut cw, layer, j, [s[0], below.t1, below.t2, s[3], s[4]]);
        let case = what("another row, e kept (the table lookup fails first)", j);
        expect_with(model, input, &cw, layer, Verdict::Table, Some("relation 0"), &case);
    }
    // thresholds moved inside the row, e still exact and in range: t1 + 1, t2 − 1
    let j1 = find("e1 ≥ 1", &|j| read(model, &w, layer, j)[3] >= 1);
    let s1 = read(model, &w, layer, j1);
    let mut cw = w.clone();
    write(model, &mut cw, layer, j1, [s1[0], s1[1] + 1, s1[2], s1[3] - 1, s1[4]]);
    expect(model, input, &cw, layer, Verdict::Table, &what("t1 + 1, e1 − 1", j1));
    let j2 = find("e2 ≥ 1", &|j| read(model, &w, layer, j)[4] >= 1);
    let s2 = read(model, &w, layer, j2);
    let mut cw = w.clone();
    write(model, &mut cw, layer, j2, [s2[0], s2[1], s2[2] - 1, s2[3], s2[4] - 1]);
    expect(model, input, &cw, layer, Verdict::Table, &what("t2 − 1, e2 − 1", j2));
    // a widened row: t1 of the row before (e1 still fits its limbs)
    let fits = |j: usize| {
        let s = read(model, &w, layer, j);
        let rows = rows_of(model, layer, j);
        let i = rows.iter().position(|r| r.t1 == s[1]).unwrap();
        i > 0 && s[1] + s[3] - rows[i - 1].t1 < 1 << (16 * lim)
    };
    let jw = find("a widened row that fits", &fits);
    let sw = read(model, &w, layer, jw);
    let rows = rows_of(model, layer, jw);
    let prev = rows[rows.iter().position(|r| r.t1 == sw[1]).unwrap() - 1];
    let mut cw = w.clone();
    write(model, &mut cw, layer, jw, [sw[0], prev.t1, sw[2], sw[1] + sw[3] - prev.t1, sw[4]]);
    assert!(!in_table(model, layer, &tuple(model, &cw, layer, jw)));
    expect(model, input, &cw, layer, Verdict::Table, &what("widened row", jw));
    // a limb edited alone: the comparison's relation breaks (a direct layer has no limbs)
    if direct(model, layer) {
        assert!(model.layers[layer].relations().is_empty());
        return;
    }
    let e1_0 = 3;
    let e2_0 = 3 + lim;
    for (c, r) in [(e1_0, 0), (e2_0, 1)] {
        let jl = find("a limb below 2^16 − 1", &|j| w.advice[layer][c - 1][j] < 0xffff);
        let mut cw = w.clone();
        cw.advice[layer][c - 1][jl] += 1;
        let case = format!("limb {} + 1", model.layers[layer].columns()[c]);
        expect(model, input, &cw, layer, Verdict::Relation(r), &what(&case, jl));
    }
}

/// input → dense (chosen accumulators) → per-tensor threshold, a/2^k ≈ 0.15.
fn per_tensor_model(centres: &[i64]) -> (Model, Tensor) {
    let offs: Vec<i64> = (-3..=3).collect();
    let (model, input, _) =
        input_mode_model(&offs, centres, Multiplier::Tensor(10_000), out(16, 3, -128, 127));
    (model, input)
}

#[test]
fn a_wrong_step_is_rejected_per_tensor() {
    // rows of at most 2^16 values and one limb
    let (model, input) = per_tensor_model(&[-300, -40, 0, 50, 400]);
    assert_eq!(limbs(&model, 1), 1);
    wrong_steps("per-tensor", &model, &input, 1);
    // accumulators up to 2^30: whole steps and two limbs
    let (model, input) = per_tensor_model(&[-300, -40, 0, 50, 400, 1 << 30]);
    assert_eq!(limbs(&model, 1), 2);
    wrong_steps("per-tensor, whole steps", &model, &input, 1);
    // a/2^k = 3: every other output value has an empty step and no row; y + 1 with its
    // (empty) step's thresholds t = V + 1: e1 = −1
    let o = out(0, 0, -128, 127);
    let (model, input, spec) =
        input_mode_model(&[-3, 0, 3], &[-20, 0, 20, 60], Multiplier::Tensor(3), o);
    wrong_steps("empty steps", &model, &input, 1);
    let w = model.forward(&input).unwrap();
    let t = spec.thresholds(3);
    let j = 4;
    let s = read(&model, &w, 1, j);
    let v = s[1] + s[3];
    let y = s[0] + 1;
    let i = (y - o.lo as i128) as usize;
    assert_eq!((t[i], t[i + 1]), (v + 1, v + 1), "y + 1 has an empty step");
    let mut cw = w.clone();
    write(&model, &mut cw, 1, j, [y, t[i], t[i + 1], v - t[i], t[i + 1] - 1 - v]);
    expect(&model, &input, &cw, 1, Verdict::Range, "empty step of y + 1");
}

#[test]
fn a_wrong_step_is_rejected_per_channel_and_in_sum_mode() {
    let o = out(16, 3, -128, 127);
    let mult = Multiplier::Channel(vec![10_000, 12_000, 5_000, 10_000]);
    let offs: Vec<i64> = (-3..=3).collect();
    let (model, input, _) = input_mode_model(&offs, &[-200, -200, 300, 40], mult, o);
    wrong_steps("per-channel", &model, &input, 1);
    // zoo::add of the input and a requantization of it
    let mut b = Builder::new(vec![3, 8]);
    let branch = Spec::input(0, Multiplier::Tensor(900), 128, vec![3, 8], out(10, 7, -128, 127));
    let x2 = b.push(branch.layer("requant"));
    zoo::add(&mut b, (0, 0.02, -5), (x2, 0.03, 7)).expect("add");
    let model = b.finish("add").unwrap();
    let input = zoo::random_input(&model, 61);
    wrong_steps("sum mode (add)", &model, &input, 1);
}

#[test]
fn the_range_values_of_v_and_the_thresholds_are_bound_by_the_lookup() {
    // a direct layer sends t1, t2 and V at the range lookup's point; V's claim goes on to the
    // dense layer. A threshold column changed alone disagrees with the column (clear advice);
    // V changed alone breaks the range lookup's combination
    let (model, input) = per_tensor_model(&[-300, -40, 0, 50, 400]);
    assert!(direct(&model, 1));
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).unwrap();
    let tag = gkrnet::transcript::label_tag(labels::GKR_RANGE_EVALS);
    let at: Vec<usize> =
        (0..decoded.messages.len()).filter(|&m| decoded.messages[m].tag == tag).collect();
    assert_eq!(at.len(), 1);
    assert_eq!(decoded.messages[at[0]].values.len(), 3, "t1, t2 and V");
    let mut columns = BTreeSet::new();
    let mut combinations = 0;
    for k in 0..3 {
        let bad = common::edit(&proof, |p| p.messages[at[0]].values[k] += gkrnet::Fp::from(1u64));
        match rejected(&model, &input, &bad, &format!("range value {k}")) {
            VerifyError::Lookup { which: "range", source }
                if matches!(*source, VerifyError::EvalMismatch { .. }) =>
            {
                combinations += 1
            }
            VerifyError::Layer { layer: 1, source, .. } => match *source {
                VerifyError::EvalMismatch { what, .. } => assert!(columns.insert(what)),
                e => panic!("range value {k}: {e:?}"),
            },
            e => panic!("range value {k}: {e:?}"),
        }
    }
    assert_eq!((columns, combinations), (BTreeSet::from(["t1", "t2"]), 1));
}

#[test]
fn a_wrong_step_is_rejected_in_average_pooling_over_the_window_sum() {
    // 2×2 windows without padding: one multiplier and the one offset −a·z·4, so the thresholds
    // are over the window sum S (|S| ≤ 512) and the range checks read S − t1 and t2 − 1 − S
    let geo = ConvGeometry::square(2, 2, 0);
    let mut b = Builder::new(vec![1, 3, 6, 6]);
    b.avg_pool(0, (0.05, -128), (0.04, -100), geo, false).unwrap();
    let model = b.finish("avgpool").unwrap();
    let layer = model.layers.len() - 1;
    assert!(direct(&model, layer), "{:?}", model.layers[layer].columns());
    assert!(model.layers[layer].relations().is_empty());
    let input = zoo::random_input(&model, 5);
    wrong_steps("avgpool", &model, &input, layer);
    // with padding the border windows divide by fewer taps: per-element multipliers, sum mode
    let padded = ConvGeometry::square(2, 2, 1);
    let mut b = Builder::new(vec![1, 3, 6, 6]);
    b.avg_pool(0, (0.05, -128), (0.04, -100), padded, false).unwrap();
    let model = b.finish("avgpool-padded").unwrap();
    let layer = model.layers.len() - 1;
    assert!(!direct(&model, layer));
    assert!(!model.layers[layer].relations().is_empty());
    let input = zoo::random_input(&model, 6);
    wrong_steps("avgpool, padded", &model, &input, layer);
}

// ---------------------------------------------------------------------------------------------
// 9. soundness: another layer's or another channel's rows

#[test]
fn a_step_from_another_layers_table_is_rejected() {
    // two per-tensor threshold layers on one accumulator, with different parameters
    let offs: Vec<i64> = (-3..=3).collect();
    let (x, dense) = chosen(&offs, &[-300, -40, 0, 50, 400]);
    let mut b = Builder::new(x.dims.clone());
    let bound = dense.acc_bound();
    let acc = b.push(dense);
    let dims = b.dims(acc);
    let a =
        Spec::input(acc, Multiplier::Tensor(10_000), bound, dims.clone(), out(16, 3, -128, 127));
    let bb = Spec::input(acc, Multiplier::Tensor(11_000), bound, dims, out(16, -9, -128, 127));
    b.push(a.layer("requant")); // layer 1
    b.push(bb.layer("requant")); // layer 2
    let model = b.finish("two-tables").unwrap();
    honest(&model, &x);
    let w = model.forward(&x).unwrap();
    let len = w.tensors[2].data.len();
    // an entry whose two tuples differ and each is foreign to the other table
    let j = (0..len)
        .find(|&j| {
            let (ta, tb) = (tuple(&model, &w, 1, j), tuple(&model, &w, 2, j));
            ta != tb && !in_table(&model, 1, &tb) && !in_table(&model, 2, &ta)
        })
        .expect("an entry where the layers' rows differ");
    let (sa, sb) = (read(&model, &w, 1, j), read(&model, &w, 2, j));
    // layer 1 takes layer 2's row for the same V: e valid, relations hold
    let mut cw = w.clone();
    write(&model, &mut cw, 1, j, sb);
    expect(&model, &x, &cw, 1, Verdict::Table, &format!("entry {j}: layer 2's row in layer 1"));
    // both swapped: the multiset of untagged tuples is unchanged, only the layer tag objects
    let mut cw = w.clone();
    write(&model, &mut cw, 1, j, sb);
    write(&model, &mut cw, 2, j, sa);
    let untagged = |w: &Witness| {
        let mut v: Vec<Vec<i64>> = (1..=2)
            .flat_map(|l| (0..len).map(move |j| (l, j)))
            .map(|(l, j)| tuple(&model, w, l, j))
            .collect();
        v.sort();
        v
    };
    assert_eq!(untagged(&cw), untagged(&w));
    expect(&model, &x, &cw, 1, Verdict::Table, &format!("entry {j}: layers' rows swapped"));
}

#[test]
fn a_step_from_another_channels_table_is_rejected() {
    // channels 0 and 1 see the same accumulators with different multipliers
    let offs: Vec<i64> = (-3..=3).collect();
    let mult = Multiplier::Channel(vec![10_000, 13_000, 7_000]);
    let (model, input, _) = input_mode_model(&offs, &[150, 150, -60], mult, out(16, 0, -128, 127));
    honest(&model, &input);
    let w = model.forward(&input).unwrap();
    let n = 3;
    let j = (0..7)
        .map(|r| r * n)
        .find(|&j| read(&model, &w, 1, j)[..3] != read(&model, &w, 1, j + 1)[..3])
        .expect("the channels' rows differ somewhere");
    let (s0, s1) = (read(&model, &w, 1, j), read(&model, &w, 1, j + 1));
    assert_eq!(s0[1] + s0[3], s1[1] + s1[3], "the same V");
    // channel 0's entry with channel 1's row for its V
    let mut cw = w.clone();
    write(&model, &mut cw, 1, j, s1);
    let t = tuple(&model, &cw, 1, j);
    assert!(!in_table(&model, 1, &t), "{t:?} is a row");
    expect(&model, &input, &cw, 1, Verdict::Table, &format!("entry {j}: channel 1's row"));
    // the two entries swapped: only the public channel component objects
    write(&model, &mut cw, 1, j + 1, s0);
    expect(&model, &input, &cw, 1, Verdict::Table, &format!("entries {j}, {}: swapped", j + 1));
}

// ---------------------------------------------------------------------------------------------
// 10. soundness: bytes

#[test]
fn flipped_bits_of_a_threshold_proof_are_rejected_without_panics() {
    // dense → per-channel threshold, per-tensor threshold of the same accumulator → add
    let offs: Vec<i64> = (-2..=2).map(|i| i * 37).collect();
    let (input, dense) = chosen(&offs, &[-500, 0, 700]);
    let mut b = Builder::new(input.dims.clone());
    let bound = dense.acc_bound();
    let acc = b.push(dense);
    let dims = b.dims(acc);
    let mult = Multiplier::Channel(vec![9_000, 14_000, 6_000]);
    let y1 = b
        .push(Spec::input(acc, mult, bound, dims.clone(), out(16, -3, -128, 127)).layer("requant"));
    let y2 = b.push(
        Spec::input(acc, Multiplier::Tensor(5_000), bound, dims, out(15, 4, 4, 127))
            .layer("requant"),
    );
    zoo::add(&mut b, (y1, 0.02, -3), (y2, 0.05, 4)).expect("add");
    let model = b.finish("flips").unwrap();
    let proof = honest(&model, &input);
    let n = proof.len();
    // positions: 2 000 uniform (mostly the range multiplicities, which dominate the proof) and
    // 2 000 outside the range multiplicities
    let decoded = Proof::decode(&proof).expect("decodes");
    let range = decoded
        .messages
        .iter()
        .position(|m| {
            [labels::GKR_ADVICE, labels::GKR_MULTIPLICITIES].contains(&m.label())
                && m.ints.as_ref().is_some_and(|v| v.len() == 1 << 16)
        })
        .expect("the range multiplicities");
    let start = Proof { messages: decoded.messages[..range].to_vec() }.encoded_len();
    let end = Proof { messages: decoded.messages[..=range].to_vec() }.encoded_len();
    assert!(start < end && end <= n);
    let mut r = rng(90);
    let mut flips: Vec<(usize, u8)> =
        (0..2000).map(|_| (r.gen_range(0..n), 1u8 << r.gen_range(0..8))).collect();
    let outside: Vec<usize> = (0..n).filter(|&i| i < start + 8 || i >= end).collect();
    flips.extend(
        (0..2000).map(|_| (outside[r.gen_range(0..outside.len())], 1u8 << r.gen_range(0..8))),
    );
    assert!(flips.len() >= 4000 && outside.len() > 1000, "{} bytes outside", outside.len());
    flips_never_accepted(&model, &input, &proof, &flips);
}

// ---------------------------------------------------------------------------------------------
// 11. the builder's table budget

/// Dense [1, n] → 1 (weights 127) with a per-tensor threshold requantization: |acc| ≤ 16 256·n.
fn wide_requant(b: &mut Builder, n: usize) -> TensorId {
    b.dense(0, 0, vec![127; n], 1, vec![0], &[1e-4], 0, false).expect("dense")
}

#[test]
fn builder_threshold_tables_respect_the_builders_row_budget() {
    let n = 15_000;
    let mut b = Builder::new(vec![1, n]);
    let y = wide_requant(&mut b, n);
    let model = b.finish("one-wide").expect("one layer builds");
    let l = model.layers[y - 1].as_ref();
    assert!(l.columns().contains(&"t1"), "the builder chose thresholds");
    let rows = l.table_lookup().unwrap().rows.len();
    assert!(
        rows <= zoo::MAX_THRESHOLD_ROWS,
        "a per-tensor builder layer's threshold table has {rows} rows, above the builder's \
         MAX_THRESHOLD_ROWS = {} (its estimate: 256)",
        zoo::MAX_THRESHOLD_ROWS
    );
    // nine such layers keep whole steps (pieces would need about 7 700 rows each)
    let mut b = Builder::new(vec![1, n]);
    for _ in 0..9 {
        wide_requant(&mut b, n);
    }
    b.finish("nine-wide").unwrap_or_else(|e| panic!("9 builder layers do not build: {e}"));
}
