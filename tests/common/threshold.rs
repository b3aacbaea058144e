//! The threshold layers the tests build, what the tests know about them ([`Spec`]: the step
//! functions and their thresholds, found by bisection), the independent check of a layer's
//! table and committed entries, and seeded random configurations; shared by
//! `threshold_completeness.rs` and `threshold_soundness.rs`.
//!
//! y = clamp(⌊V·a/2^k⌉ + z, lo, hi) is a non-decreasing step function of V; its thresholds are
//! t_v = min{V ∈ [−v_max, v_max + 1] : y(V) ≥ v}. The layer's public table holds rows
//! (y, t₁, t₂[, channel]), intervals [t₁, t₂) on which y is constant (whole steps, or pieces of at
//! most 2^16 values with one-limb comparisons when the table stays small); an entry commits y, its
//! row's t₁, t₂ and e₁ = V − t₁, e₂ = t₂ − 1 − V in 16-bit limbs. The tests do not assume how
//! steps are cut: they check the table's properties.

use super::model::prove_and_verify;
use super::oracles::round_half_even;
use super::rng;
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{
    Dense, DenseSpec, Layer, Model, Multiplier, RequantKind, RequantSpec, Scaled, Tensor, TensorId,
    Threshold, Witness,
};
use gkrnet::quant::{self, FixedPoint};
use rand::Rng;
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeSet;

/// The channel of row-major entry j: the last axis for rank ≤ 2, axis 1 (NCHW) above.
pub fn channel(dims: &[usize], j: usize) -> usize {
    match dims.len() {
        0 => 0,
        1 | 2 => j % dims[dims.len() - 1],
        _ => (j / dims[2..].iter().product::<usize>()) % dims[1],
    }
}

/// The output side of a requantization: shift, zero point, clamp.
#[derive(Clone, Copy, Debug)]
pub struct Out {
    pub k: u32,
    pub z: i32,
    pub lo: i32,
    pub hi: i32,
}

pub fn out(k: u32, z: i32, lo: i32, hi: i32) -> Out {
    Out { k, z, lo, hi }
}

/// Everything the test knows about a threshold layer it builds.
#[derive(Clone, Debug)]
pub struct Spec {
    pub inputs: Vec<Scaled>,
    pub offset: i128,
    pub offsets: Vec<i64>,
    pub out: Out,
    pub dims: Vec<usize>,
}

impl Spec {
    pub fn input(
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

    pub fn layer(&self, kind: RequantKind) -> Threshold {
        let Out { k, z, lo, hi } = self.out;
        Threshold::new(RequantSpec {
            kind,
            scaled: self.inputs.clone(),
            offset: self.offset,
            offsets: self.offsets.clone(),
            k,
            zero: z,
            lo,
            hi,
            dims: self.dims.clone(),
        })
        .unwrap_or_else(|e| panic!("{self:?}: {e}"))
    }

    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// V is the input itself (one input, per-tensor or per-channel, no per-element offsets; a
    /// constant offset is part of the step function).
    pub fn input_mode(&self) -> bool {
        self.inputs.len() == 1
            && self.offsets.is_empty()
            && !matches!(self.inputs[0].multiplier, Multiplier::Element(_) | Multiplier::Signed(_))
    }

    pub fn per_channel(&self) -> bool {
        self.input_mode() && matches!(self.inputs[0].multiplier, Multiplier::Channel(_))
    }

    /// The multiplier of input i at entry j.
    pub fn mult(&self, i: usize, j: usize) -> i128 {
        match &self.inputs[i].multiplier {
            Multiplier::Tensor(a) => *a as i128,
            Multiplier::Channel(v) => v[channel(&self.dims, j)] as i128,
            Multiplier::Element(v) => v[j] as i128,
            Multiplier::Signed(v) => v[j] as i128,
        }
    }

    /// |V| ≤ v_max: the bound in input mode, else |offset| + max |offsets| + Σ max aᵢ·boundᵢ.
    pub fn v_max(&self) -> i128 {
        if self.input_mode() {
            return self.inputs[0].bound;
        }
        let max_a = |m: &Multiplier| match m {
            Multiplier::Tensor(a) => *a as i128,
            Multiplier::Channel(v) | Multiplier::Element(v) => {
                v.iter().copied().max().unwrap_or(0) as i128
            }
            Multiplier::Signed(v) => v.iter().map(|a| a.unsigned_abs()).max().unwrap_or(0) as i128,
        };
        self.offset.abs()
            + self.offsets.iter().map(|&o| (o as i128).abs()).max().unwrap_or(0)
            + self.inputs.iter().map(|s| max_a(&s.multiplier) * s.bound).sum::<i128>()
    }

    /// Number of step functions (tables): one per channel for a per-channel input mode.
    pub fn tables(&self) -> usize {
        match (&self.inputs[0].multiplier, self.input_mode()) {
            (Multiplier::Channel(v), true) => v.len(),
            _ => 1,
        }
    }

    /// The table of entry j.
    pub fn table_of(&self, j: usize) -> usize {
        if self.per_channel() {
            channel(&self.dims, j)
        } else {
            0
        }
    }

    /// The multiplier of table c's step function y(V) = clamp(⌊V·a/2^k⌉ + z): the input's in
    /// input mode, 1 in sum mode (thresholds in P-space).
    pub fn table_multiplier(&self, c: usize) -> i128 {
        match (&self.inputs[0].multiplier, self.input_mode()) {
            (Multiplier::Tensor(a), true) => *a as i128,
            (Multiplier::Channel(v), true) => v[c] as i128,
            _ => 1,
        }
    }

    /// V at entry j, from the witness's tensors.
    pub fn v(&self, w: &Witness, j: usize) -> i128 {
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
    pub fn step_offset(&self) -> i128 {
        if self.input_mode() {
            self.offset
        } else {
            0
        }
    }

    /// The independent step function.
    pub fn y_exact(&self, a: i128, v: i128) -> i128 {
        let Out { k, z, lo, hi } = self.out;
        (round_half_even(v * a + self.step_offset(), k) + z as i128).clamp(lo as i128, hi as i128)
    }

    /// The scalar reference `quant::requantize` (of a·V + offset with multiplier 1 when there
    /// is an offset).
    pub fn y_reference(&self, a: i128, v: i128) -> i128 {
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
    pub fn thresholds(&self, a: i128) -> Vec<i128> {
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

    pub fn all_thresholds(&self) -> Vec<Vec<i128>> {
        (0..self.tables()).map(|c| self.thresholds(self.table_multiplier(c))).collect()
    }
}

/// One row of a threshold table: y on [t1, t2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row {
    pub y: i128,
    pub t1: i128,
    pub t2: i128,
}

/// Largest |centre| of [`chosen`]: the dense layer's bias bound 2^31 − 255·382 leaves room.
pub const WINDOW: i64 = (1 << 31) - (1 << 17);
/// Largest |row offset| of [`chosen`]: x₀ + 127·(x₁ + x₂ + x₃) with int8 xᵢ.
pub const SPREAD: i64 = 48_000;
/// `Dense::acc_bound` of [`chosen`] without its bias: 128·(1 + 3·127).
pub const CHOSEN_SPREAD: i128 = 128 * 382;

/// A model input [m, 4] and a dense layer 4 → n (weights 1, 127, 127, 127 in every column,
/// bias `centres`) whose accumulators are acc[r][j] = offs[r] + centres[j].
pub fn chosen(offs: &[i64], centres: &[i64]) -> (Tensor, Dense) {
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
    let dense = Dense::new(DenseSpec {
        input: 0,
        in_dims: vec![m, 4],
        input_zero: 0,
        weights,
        features: n,
        bias,
    })
    .expect("dense");
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
pub fn input_mode_model(
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
    b.push(spec.layer(RequantKind::Requant));
    (b.finish("threshold").expect("model"), input, spec)
}

/// Whether a threshold layer range-checks V − t1 and t2 − 1 − V themselves (no e columns).
pub fn direct(model: &Model, layer: usize) -> bool {
    model.layers[layer].columns().len() == 3
}

/// Limbs per comparison of a threshold layer (1 for a direct one).
pub fn limbs(model: &Model, layer: usize) -> usize {
    if direct(model, layer) {
        return 1;
    }
    (model.layers[layer].columns().len() - 3) / 2
}

// ---------------------------------------------------------------------------------------------
// checking a layer against the step functions

/// The rows of every table (channel) of a threshold layer, after checking them against the
/// step functions: in order they partition [−v_max, v_max + 1) into intervals on which y is the
/// row's y (checked at both ends, y being monotone), they start at every threshold t_v the test
/// computes within (−v_max, v_max] and nowhere else but where a step is cut into pieces, every
/// interval fits the comparison limbs, and per-channel rows carry their channel.
pub fn check_table(l: &dyn Layer, spec: &Spec, limbs: usize) -> Vec<Vec<Row>> {
    let tl = l.table_lookup().expect("a threshold layer looks its rows up");
    let width = if spec.per_channel() { 4 } else { 3 };
    assert_eq!(tl.columns.len(), width, "{spec:?}: looked-up tuple");
    let vm = spec.v_max();
    let mut tables = vec![Vec::new(); spec.tables()];
    for r in tl.rows.iter() {
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
pub struct Entry {
    pub v: i128,
    pub y: i128,
    pub t1: i128,
    pub t2: i128,
}

/// Checks layer `layer` (built from `spec`) on an honest witness: its public table, every
/// output entry against both references, and every committed step and limb.
pub fn check_layer(model: &Model, w: &Witness, layer: usize, spec: &Spec) -> Vec<Entry> {
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

/// Proves the model and checks its last layer against `spec`.
pub fn prove_and_check(model: &Model, input: &Tensor, spec: &Spec) -> (Witness, Vec<Entry>) {
    let w = prove_and_verify(model, input, &model.name);
    let last = model.layers.len() - 1;
    let entries = check_layer(model, &w, last, spec);
    (w, entries)
}

/// Distinct thresholds within ±WINDOW.
pub fn inside(t: &[i128]) -> Vec<i64> {
    let set: BTreeSet<i64> =
        t.iter().filter(|v| v.abs() <= WINDOW as i128).map(|&v| v as i64).collect();
    set.into_iter().collect()
}

/// A provisional spec whose v_max covers every accumulator [`chosen`] can make, to find the
/// thresholds inside the window (they do not depend on v_max).
pub fn provisional(mult: &Multiplier, o: Out) -> Spec {
    Spec::input(1, mult.clone(), WINDOW as i128 + CHOSEN_SPREAD, vec![1, 1], o)
}

// ---------------------------------------------------------------------------------------------
// random configurations

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
pub fn random_config(seed: u64) -> (Model, Tensor, Spec, usize) {
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
    b.push(spec.layer(RequantKind::Add));
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
