//! Requantization by thresholds ([`gkrnet::circuit::Threshold`]): soundness against cheating
//! provers (completeness against the scalar reference is `threshold_completeness.rs`).
//!
//! y = clamp(⌊V·a/2^k⌉ + z, lo, hi) is a non-decreasing step function of V; its thresholds are
//! t_v = min{V ∈ [−v_max, v_max + 1] : y(V) ≥ v}. The layer's public table holds rows
//! (y, t₁, t₂[, channel]), intervals [t₁, t₂) on which y is constant (whole steps, or pieces of at
//! most 2^16 values with one-limb comparisons when the table stays small); an entry commits y, its
//! row's t₁, t₂ and e₁ = V − t₁, e₂ = t₂ − 1 − V in 16-bit limbs. The tests do not assume how
//! steps are cut: they check the table's properties.
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
use common::rng;
use common::threshold::*;
use gkrnet::circuit::zoo::{self, Builder};
use gkrnet::circuit::{ConvGeometry, Model, Multiplier, RequantKind, Tensor, Witness};
use gkrnet::proof::Proof;
use gkrnet::transcript::labels;
use gkrnet::VerifyError;
use rand::Rng;
use std::collections::BTreeSet;

// ---------------------------------------------------------------------------------------------
// 1. helpers

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
}

fn expect(model: &Model, input: &Tensor, cw: &Witness, layer: usize, v: Verdict, what: &str) {
    expect_with(model, input, cw, layer, v, None, what);
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
// 2. wrong steps

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
    let x2 = b.push(branch.layer(RequantKind::Requant));
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
// 3. another layer's or another channel's rows

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
    b.push(a.layer(RequantKind::Requant)); // layer 1
    b.push(bb.layer(RequantKind::Requant)); // layer 2
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
// 4. bytes

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
    let y1 = b.push(
        Spec::input(acc, mult, bound, dims.clone(), out(16, -3, -128, 127))
            .layer(RequantKind::Requant),
    );
    let y2 = b.push(
        Spec::input(acc, Multiplier::Tensor(5_000), bound, dims, out(15, 4, 4, 127))
            .layer(RequantKind::Requant),
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
