//! Layer normalization inside the proof (`circuit::layernorm`, `paper-notes/layernorm.md`):
//! S₁ and S₂ by reductions, one inverse-square-root lookup per row on the pinned top bits of
//! D″ = (n·S₂ − S₁² + c)·2^14, w = (n·x − S₁)·inv, and a per-column requantization with γ and β.
//! * completeness: the per-row statistics equal an independent integer computation, and the
//!   output is within one step of the float layer norm, over widths 1 to 768, negative γ, constant
//!   rows (D = 0: only c) and rows spanning the whole int8 range;
//! * soundness, each with its exact error: another shift j (h leaves the table: the table
//!   lookup); h one more with ℓ adjusted (ℓ < 0: the range lookup); two shift bits or none, or a
//!   bit that is not a bit (the statistics' relations); inv or w off by one (their relations); g
//!   off the table (the table lookup); byte flips never accepted;
//! * the `.gkrm` round trip keeps the digest; bad parameters are errors.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

mod common;

use common::errors::{in_layer, in_lookup};
use common::model::{
    cheat, column_mut, flips_never_accepted, honest, prove_and_verify, recompute_after, rejected,
};
use common::rng;
use gkrnet::circuit::layernorm::{epsilon_constant, inv_sqrt, NormApply, NormStats};
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{Model, Tensor, Witness};
use gkrnet::VerifyError;
use rand::Rng;

/// Layer indices of a model that is one layer norm: S₁, S₂, stats, S₁ broadcast, inv broadcast,
/// apply, requantization.
const STATS: usize = 2;
const APPLY: usize = 5;

const EPS: f64 = 1e-5;

struct Case {
    model: Model,
    scale: f64,
    gamma: Vec<f64>,
    beta: Vec<f64>,
    out: (f64, i32),
}

fn case(rows: usize, n: usize, seed: u64, negative: bool) -> Case {
    let mut rng = rng(seed);
    let scale = 0.05;
    let gamma: Vec<f64> = (0..n)
        .map(|i| {
            let g = rng.gen_range(0.5..1.5);
            if negative && i % 3 == 1 {
                -g
            } else {
                g
            }
        })
        .collect();
    let beta: Vec<f64> = (0..n).map(|_| rng.gen_range(-0.3..0.3)).collect();
    let out = (4.0 / 127.0, 3);
    let mut b = Builder::new(vec![rows, n]);
    b.layer_norm((0, scale), EPS, (&gamma, &beta), out).unwrap();
    Case { model: b.finish("layer norm").unwrap(), scale, gamma, beta, out }
}

fn random_x(seed: u64, rows: usize, n: usize) -> Tensor {
    let mut rng = rng(seed);
    Tensor::new(vec![rows, n], (0..rows * n).map(|_| rng.gen_range(-128..=127)).collect()).unwrap()
}

/// inv of one row from its raw values, computed independently of the layer.
fn naive_inv(row: &[i64], c: i64, top: u32) -> i64 {
    let n = row.len() as i128;
    let s1: i128 = row.iter().map(|&v| v as i128).sum();
    let s2: i128 = row.iter().map(|&v| (v as i128).pow(2)).sum();
    let dd = (n * s2 - s1 * s1 + c as i128) * (1 << 14);
    // the one j with D″ / 4^j ∈ [2^14, 2^16)
    let j = (0..=top).find(|&j| (dd >> (2 * j)) < 1 << 16).unwrap();
    assert!(dd >> (2 * j) >= 1 << 14);
    inv_sqrt((dd >> (2 * j)) as i64) << (top - j)
}

#[test]
fn layer_norm_proves_its_statistics_and_tracks_float() {
    for (k, (rows, n, negative)) in
        [(3, 8, false), (5, 64, true), (1, 768, true), (2, 1, false), (4, 37, true)]
            .into_iter()
            .enumerate()
    {
        let c = case(rows, n, 30 + k as u64, negative);
        let what = format!("[{rows}, {n}] negative γ {negative}");
        let mut inputs = vec![random_x(40 + k as u64, rows, n)];
        inputs.push(Tensor::new(vec![rows, n], vec![7; rows * n]).unwrap());
        inputs.push(
            Tensor::new(
                vec![rows, n],
                (0..rows * n).map(|i| if i % 2 == 0 { 127 } else { -128 }).collect(),
            )
            .unwrap(),
        );
        let stats = c.model.layers[STATS].spec();
        let top = {
            let s = stats.op::<gkrnet::circuit::layernorm::NormStatsSpec>().unwrap();
            assert_eq!(s.c, epsilon_constant(n, EPS, c.scale));
            NormStats::new([0, 0], &[rows, 1], n, s.c).unwrap().top()
        };
        for x in inputs {
            let w = prove_and_verify(&c.model, &x, &what);
            let cc = epsilon_constant(n, EPS, c.scale);
            for (r, row) in x.data.chunks(n).enumerate() {
                assert_eq!(w.tensors[STATS + 1].data[r], naive_inv(row, cc, top), "{what} row {r}");
                // the float layer norm, quantized at the output's parameters
                let real: Vec<f64> = row.iter().map(|&v| v as f64 * c.scale).collect();
                let mu = real.iter().sum::<f64>() / n as f64;
                let var = real.iter().map(|v| (v - mu).powi(2)).sum::<f64>() / n as f64;
                for (i, v) in real.iter().enumerate() {
                    let y = c.gamma[i] * (v - mu) / (var + EPS).sqrt() + c.beta[i];
                    let qf = ((y / c.out.0).round() + c.out.1 as f64).clamp(-128.0, 127.0);
                    let q = w.output().data[r * n + i] as f64;
                    assert!(
                        (q - qf).abs() <= 1.0,
                        "{what} row {r} col {i}: {q} against float {qf}"
                    );
                }
            }
        }
    }
}

#[test]
fn bad_parameters_are_refused() {
    assert!(NormStats::new([0, 0], &[2, 1], 8, 0).is_err(), "c = 0");
    assert!(NormStats::new([0, 0], &[2, 1], 0, 1).is_err(), "n = 0");
    assert!(NormStats::new([0, 0], &[2, 1], (1 << 11) + 1, 1).is_err(), "n too large");
    assert!(NormApply::new([0, 0, 0], &[2, 8], 7, 10, vec![]).is_err(), "n ≠ the last axis");
    assert!(NormApply::new([0, 0, 0], &[2, 8], 8, 10, vec![1; 7]).is_err(), "signs' length");
    assert!(NormApply::new([0, 0, 0], &[2, 8], 8, 10, vec![2; 8]).is_err(), "a sign of 2");
    let mut b = Builder::new(vec![2, 8]);
    assert!(b.layer_norm((0, 0.05), EPS, (&[1.0; 7], &[0.0; 8]), (0.03, 0)).is_err());
    let mut b = Builder::new(vec![2, 2, 8]);
    assert!(b.layer_norm_core(0, 1, vec![]).is_err(), "rank 3");
}

/// The statistics' columns (g, h, b_0…b_J, ℓ limbs, u limbs) of row `r` rewritten for the shift
/// `j` and top bits `h`, ℓ = D″ − h·4^j in exact limbs (the top one negative when ℓ < 0).
fn restated(model: &Model, w: &Witness, r: usize, j: usize, h: Option<i64>) -> Witness {
    let mut w = w.clone();
    let l = &model.layers[STATS];
    let cols = l.columns();
    let bits = cols.iter().filter(|c| c.starts_with('b')).count();
    let limbs = cols.iter().filter(|c| c.starts_with('l')).count();
    let top = bits - 1;
    let (s1, s2) =
        (w.tensors[l.inputs()[0]].data[r] as i128, w.tensors[l.inputs()[1]].data[r] as i128);
    let spec = l.spec();
    let s = spec.op::<gkrnet::circuit::layernorm::NormStatsSpec>().unwrap();
    let dd = (s.n as i128 * s2 - s1 * s1 + s.c as i128) << 14;
    // the exact top bits at shift j unless given
    let h = h.unwrap_or((dd >> (2 * j)) as i64);
    let ell = dd - ((h as i128) << (2 * j));
    let u = (1i128 << (2 * j)) - 1 - ell;
    let g = inv_sqrt(h.clamp(1 << 14, (1 << 16) - 1));
    column_mut(model, &mut w, STATS, 1)[r] = g;
    column_mut(model, &mut w, STATS, 2)[r] = h;
    for t in 0..bits {
        column_mut(model, &mut w, STATS, 3 + t)[r] = i64::from(t == j);
    }
    for (first, v) in [(3 + bits, ell), (3 + bits + limbs, u)] {
        for k in 0..limbs {
            let limb = if k + 1 == limbs { v >> (16 * k) } else { (v >> (16 * k)) & 0xffff };
            column_mut(model, &mut w, STATS, first + k)[r] = limb as i64;
        }
    }
    w.tensors[STATS + 1].data[r] = g << (top - j);
    recompute_after(model, &mut w, STATS);
    w
}

fn is_relation_failure(e: &VerifyError, layer: usize, kind: &str) -> bool {
    matches!(in_layer(e, layer, kind), Some(VerifyError::FinalEvalMismatch { .. }))
}

#[test]
fn another_shift_or_top_bits_are_rejected() {
    let c = case(3, 16, 50, true);
    let x = random_x(51, 3, 16);
    let w = c.model.forward(&x).unwrap();
    let cols = c.model.layers[STATS].columns();
    let (h, bits) =
        (w.advice[STATS][1].clone(), cols.iter().filter(|c| c.starts_with('b')).count());
    for (r, &hr) in h.iter().enumerate() {
        let j = (0..bits).find(|&t| w.advice[STATS][2 + t][r] == 1).unwrap();
        // the next shift, decomposed exactly: h below 2^14, no table row
        let bad = restated(&c.model, &w, r, j + 1, None);
        let e = rejected(&c.model, &x, &cheat(&c.model, &bad), "j + 1");
        assert!(in_lookup(&e, "table").is_some(), "row {r} j + 1: got {e}");
        // the previous shift: h at or above 2^16, no table row
        assert!(j > 0, "row {r}: these rows' D″ needs a shift");
        {
            let bad = restated(&c.model, &w, r, j - 1, None);
            let e = rejected(&c.model, &x, &cheat(&c.model, &bad), "j − 1");
            assert!(in_lookup(&e, "table").is_some(), "row {r} j − 1: got {e}");
        }
        // h + 1 at the right shift: ℓ < 0, which no limbs hold
        let bad = restated(&c.model, &w, r, j, Some(hr + 1));
        let e = rejected(&c.model, &x, &cheat(&c.model, &bad), "h + 1");
        assert!(in_lookup(&e, "range").is_some(), "row {r} h + 1: got {e}");
    }
}

#[test]
fn shift_bits_inv_and_w_that_break_a_relation_are_rejected() {
    let c = case(2, 8, 52, false);
    let x = random_x(53, 2, 8);
    let w = c.model.forward(&x).unwrap();
    let cols = c.model.layers[STATS].columns();
    let bits = cols.iter().filter(|c| c.starts_with('b')).count();
    let j = (0..bits).find(|&t| w.advice[STATS][2 + t][0] == 1).unwrap();
    // a second bit set, or the one bit cleared, or a bit of 2 (with its neighbour at −1)
    for (name, edit) in [
        ("two bits", vec![(j, 1), ((j + 1) % bits, 1)]),
        ("no bit", vec![(j, 0)]),
        ("a bit of 2", vec![(j, 2), ((j + 1) % bits, -1)]),
    ] {
        let mut bad = w.clone();
        for &(t, v) in &edit {
            column_mut(&c.model, &mut bad, STATS, 3 + t)[0] = v;
        }
        let e = rejected(&c.model, &x, &cheat(&c.model, &bad), name);
        assert!(is_relation_failure(&e, STATS, "norm-stats"), "{name}: got {e}");
    }
    // inv off by one (everything after it recomputed): inv = g·2^(J − j) fails
    let mut bad = w.clone();
    bad.tensors[STATS + 1].data[1] += 1;
    recompute_after(&c.model, &mut bad, STATS);
    let e = rejected(&c.model, &x, &cheat(&c.model, &bad), "inv + 1");
    assert!(is_relation_failure(&e, STATS, "norm-stats"), "inv + 1: got {e}");
    // g off the table, inv consistent with it
    let mut bad = w.clone();
    let top = bits - 1;
    column_mut(&c.model, &mut bad, STATS, 1)[1] += 1;
    let g = bad.advice[STATS][0][1];
    bad.tensors[STATS + 1].data[1] = g << (top - j);
    recompute_after(&c.model, &mut bad, STATS);
    let e = rejected(&c.model, &x, &cheat(&c.model, &bad), "g + 1");
    assert!(in_lookup(&e, "table").is_some(), "g + 1: got {e}");
    // w off by one, the requantization recomputed
    let mut bad = w.clone();
    bad.tensors[APPLY + 1].data[3] += 1;
    recompute_after(&c.model, &mut bad, APPLY);
    let e = rejected(&c.model, &x, &cheat(&c.model, &bad), "w + 1");
    assert!(is_relation_failure(&e, APPLY, "norm-apply"), "w + 1: got {e}");
}

#[test]
fn byte_flips_are_never_accepted_and_the_record_round_trips() {
    let c = case(2, 8, 54, true);
    let x = random_x(55, 2, 8);
    let proof = honest(&c.model, &x);
    let mut rng = rng(56);
    let flips: Vec<(usize, u8)> =
        (0..300).map(|_| (rng.gen_range(0..proof.len()), 1u8 << rng.gen_range(0..8))).collect();
    flips_never_accepted(&c.model, &x, &proof, &flips);
    let bytes = c.model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.digest(), c.model.digest());
    assert_eq!(back.encode(), bytes);
    assert!(gkrnet::gkr::verify_bytes(&back, &x, &gkrnet::gkr::VerifyOptions::default(), &proof)
        .is_ok());
    // the signs are in the digest
    assert_ne!(case(2, 8, 54, false).model.digest(), c.model.digest());
}

/// The RMS norm (LLaMA's, T5's): D = n·S₂ with no S₁ (records tags 27 and 28), w = n·x·inv.
/// Its statistics equal an independent computation, its output is within one step of the float
/// RMS norm (zero point 0, widths 8 to 768, negative γ); another shift, h + 1, two shift bits
/// and w + 1 are rejected at their places, byte flips are never accepted and the record round
/// trips (its digest differs from the layer norm's).
#[test]
fn rms_norm_proves_and_is_enforced() {
    // layers: S₂, stats, inv broadcast, apply, requantization
    const RSTATS: usize = 1;
    const RAPPLY: usize = 3;
    for (k, (rows, n, negative)) in
        [(3, 8, false), (2, 64, true), (1, 768, true)].into_iter().enumerate()
    {
        let mut rng = rng(60 + k as u64);
        let scale = 0.04;
        let gamma: Vec<f64> = (0..n)
            .map(|i| rng.gen_range(0.5..1.5) * if negative && i % 4 == 1 { -1.0 } else { 1.0 })
            .collect();
        let zero = vec![0.0; n];
        let out = (3.0 / 127.0, 0);
        let mut b = Builder::new(vec![rows, n]);
        b.rms_norm((0, scale), EPS, (&gamma, &zero), out).unwrap();
        let model = b.finish("rms norm").unwrap();
        let kinds: Vec<&str> = model.layers.iter().map(|l| l.kind()).collect();
        assert_eq!(&kinds[..4], ["axisdot", "rms-stats", "broadcast", "rms-apply"]);
        let what = format!("rms [{rows}, {n}]");
        let x = random_x(70 + k as u64, rows, n);
        let w = prove_and_verify(&model, &x, &what);
        let c = epsilon_constant(n, EPS, scale);
        let top = NormStats::rms(0, &[rows, 1], n, c).unwrap().top();
        for (r, row) in x.data.chunks(n).enumerate() {
            let s2: i128 = row.iter().map(|&v| (v as i128).pow(2)).sum();
            let dd = (n as i128 * s2 + c as i128) << 14;
            let j = (0..=top).find(|&j| (dd >> (2 * j)) < 1 << 16).unwrap();
            let inv = inv_sqrt((dd >> (2 * j)) as i64) << (top - j);
            assert_eq!(w.tensors[RSTATS + 1].data[r], inv, "{what} row {r}");
            let real: Vec<f64> = row.iter().map(|&v| v as f64 * scale).collect();
            let ms = real.iter().map(|v| v * v).sum::<f64>() / n as f64;
            for (i, v) in real.iter().enumerate() {
                let qf = (gamma[i] * v / (ms + EPS).sqrt() / out.0).round().clamp(-128.0, 127.0);
                let q = w.output().data[r * n + i] as f64;
                assert!((q - qf).abs() <= 1.0, "{what} row {r} col {i}: {q} against {qf}");
            }
        }
        if k != 1 {
            continue;
        }
        // tampering: h + 1 at the right shift (ℓ < 0, the range lookup), the next shift (h off
        // the table), two shift bits (the statistics' relation), w + 1 (the application's)
        let cols = model.layers[RSTATS].columns();
        let bits = cols.iter().filter(|c| c.starts_with('b')).count();
        let limbs = cols.iter().filter(|c| c.starts_with('l')).count();
        let j = (0..bits).find(|&t| w.advice[RSTATS][2 + t][0] == 1).unwrap();
        let s2 = w.tensors[model.layers[RSTATS].inputs()[0]].data[0] as i128;
        let dd = (n as i128 * s2 + c as i128) << 14;
        for (name, jj, dh) in [("h + 1", j, 1), ("j + 1", j + 1, 0)] {
            let mut bad = w.clone();
            let h = (dd >> (2 * jj)) as i64 + dh;
            let ell = dd - ((h as i128) << (2 * jj));
            let u = (1i128 << (2 * jj)) - 1 - ell;
            let g = inv_sqrt(h.clamp(1 << 14, (1 << 16) - 1));
            column_mut(&model, &mut bad, RSTATS, 1)[0] = g;
            column_mut(&model, &mut bad, RSTATS, 2)[0] = h;
            for t in 0..bits {
                column_mut(&model, &mut bad, RSTATS, 3 + t)[0] = i64::from(t == jj);
            }
            for (first, v) in [(3 + bits, ell), (3 + bits + limbs, u)] {
                for l in 0..limbs {
                    let limb =
                        if l + 1 == limbs { v >> (16 * l) } else { (v >> (16 * l)) & 0xffff };
                    column_mut(&model, &mut bad, RSTATS, first + l)[0] = limb as i64;
                }
            }
            bad.tensors[RSTATS + 1].data[0] = g << (bits - 1 - jj);
            recompute_after(&model, &mut bad, RSTATS);
            let e = rejected(&model, &x, &cheat(&model, &bad), name);
            let which = if dh == 1 { "range" } else { "table" };
            assert!(in_lookup(&e, which).is_some(), "{name}: expected the {which} lookup, got {e}");
        }
        let mut bad = w.clone();
        column_mut(&model, &mut bad, RSTATS, 3 + (j + 1) % bits)[0] = 1;
        let e = rejected(&model, &x, &cheat(&model, &bad), "two bits");
        assert!(is_relation_failure(&e, RSTATS, "rms-stats"), "two bits: got {e}");
        let mut bad = w.clone();
        bad.tensors[RAPPLY + 1].data[5] += 1;
        recompute_after(&model, &mut bad, RAPPLY);
        let e = rejected(&model, &x, &cheat(&model, &bad), "w + 1");
        assert!(is_relation_failure(&e, RAPPLY, "rms-apply"), "w + 1: got {e}");
        let proof = honest(&model, &x);
        let flips = common::model::random_flips(80, proof.len(), 200);
        flips_never_accepted(&model, &x, &proof, &flips);
        let bytes = model.encode();
        let back = Model::decode(&bytes).unwrap();
        assert_eq!((back.digest(), back.encode()), (model.digest(), bytes));
        let mut b = Builder::new(vec![rows, n]);
        b.layer_norm((0, scale), EPS, (&gamma, &zero), out).unwrap();
        assert_ne!(b.finish("layer norm").unwrap().digest(), model.digest());
    }
}
