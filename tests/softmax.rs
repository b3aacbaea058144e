//! Softmax inside the proof (`circuit::softmax`, `paper-notes/softmax.md`): the argmax's pinned
//! row maximum M, e = E[M − x] by a table lookup, S = Σ e along the axis, and the output
//! q = z + round-half-up(R·e/S) by an exact rounding relation with range-checked remainders.
//! * completeness: the proven output is a naive integer reference's, bit for bit, and within one
//!   step of the float softmax, over shapes, axes, scales, output steps, ties, constant rows and
//!   rows spanning the whole int8 range (d = 255);
//! * soundness, each with its exact error: an output one step off with the remainder adjusted
//!   (a negative remainder no limbs hold → the range lookup); the output changed alone (the
//!   rounding relation at the division layer); an exponential that is not the table's (the table
//!   lookup); d ≠ M − x with a consistent table row (the exponential's relation); a shift that is
//!   not the row maximum (the argmax's range check); byte flips, truncation and extension never
//!   accepted;
//! * the `.gkrm` round trip keeps the digest; bad parameters and hostile records are errors.
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
    cheat, column_mut, flips_never_accepted, never_accepted, prove_and_verify, recompute_after,
    rejected,
};
use common::rng;
use gkrnet::circuit::softmax::{exp_bits_for, exp_table, SoftmaxDiv, SoftmaxExp};
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{Model, Tensor, Witness};
use gkrnet::VerifyError;
use rand::Rng;

/// Layer indices of a model that is one softmax.
const SELECT: usize = 0;
const CHECK: usize = 4;
const EXP: usize = 5;
const DIV: usize = 8;

fn softmax_model(dims: &[usize], axis: usize, scale: f64, steps: i64, zero: i32) -> Model {
    let mut b = Builder::new(dims.to_vec());
    let out = b.softmax(0, axis, scale, steps, zero).unwrap();
    assert_eq!(out, DIV + 1);
    b.finish("softmax").unwrap()
}

/// The row-major indices of each line along `axis`.
fn lines(dims: &[usize], axis: usize) -> Vec<Vec<usize>> {
    let inner: usize = dims[axis + 1..].iter().product();
    let outer: usize = dims[..axis].iter().product();
    let len = dims[axis];
    let mut out = Vec::new();
    for o in 0..outer {
        for i in 0..inner {
            out.push((0..len).map(|l| (o * len + l) * inner + i).collect());
        }
    }
    out
}

/// (integer reference, float softmax·R) of x.
fn naive(x: &Tensor, axis: usize, scale: f64, steps: i64, zero: i32) -> (Vec<i64>, Vec<f64>) {
    let table = exp_table(scale, exp_bits_for(x.dims[axis]));
    let mut q = vec![0i64; x.data.len()];
    let mut f = vec![0f64; x.data.len()];
    for line in lines(&x.dims, axis) {
        let max = line.iter().map(|&i| x.data[i]).max().unwrap();
        let e: Vec<i128> =
            line.iter().map(|&i| table[(max - x.data[i]) as usize] as i128).collect();
        let s: i128 = e.iter().sum();
        let fe: Vec<f64> = line.iter().map(|&i| (scale * (x.data[i] - max) as f64).exp()).collect();
        let fs: f64 = fe.iter().sum();
        for (j, &i) in line.iter().enumerate() {
            // round half up of R·e/S
            let t = (2 * e[j] * steps as i128 + s) / (2 * s);
            q[i] = t as i64 + zero as i64;
            f[i] = fe[j] / fs * steps as f64;
        }
    }
    (q, f)
}

fn random_scores(seed: u64, dims: &[usize]) -> Tensor {
    let mut rng = rng(seed);
    let len = dims.iter().product();
    Tensor::new(dims.to_vec(), (0..len).map(|_| rng.gen_range(-128..=127)).collect()).unwrap()
}

#[test]
fn softmax_proves_the_integer_reference_within_a_step_of_float() {
    let cases: [(&[usize], usize, f64, i64, i32); 7] = [
        (&[7], 0, 0.05, 255, -128),
        (&[2, 5], 1, 0.2, 255, -128),
        (&[3, 4], 0, 1.0, 100, 0),
        (&[1, 2, 3, 16], 3, 0.08, 255, -128),
        (&[2, 1, 6], 2, 0.5, 127, 0),
        (&[4, 33], 1, 0.03, 200, -100),
        (&[1], 0, 0.1, 255, -128),
    ];
    for (k, &(dims, axis, scale, steps, zero)) in cases.iter().enumerate() {
        let model = softmax_model(dims, axis, scale, steps, zero);
        let what = format!("{dims:?} axis {axis} scale {scale} R {steps}");
        let mut inputs = vec![random_scores(k as u64, dims)];
        // ties, constant rows and rows spanning the whole int8 range
        let len: usize = dims.iter().product();
        inputs.push(Tensor::new(dims.to_vec(), vec![5; len]).unwrap());
        inputs.push(
            Tensor::new(
                dims.to_vec(),
                (0..len).map(|i| if i % 3 == 0 { 127 } else { -128 }).collect(),
            )
            .unwrap(),
        );
        for x in inputs {
            let w = prove_and_verify(&model, &x, &what);
            let (q, f) = naive(&x, axis, scale, steps, zero);
            assert_eq!(w.output().data, q, "{what}");
            for (j, (&qv, &fv)) in q.iter().zip(&f).enumerate() {
                let t = (qv - zero as i64) as f64;
                assert!((t - fv).abs() <= 1.0, "{what}: entry {j}: {t} against float {fv}");
            }
        }
    }
}

#[test]
fn bad_parameters_are_refused() {
    let mut b = Builder::new(vec![2, 5]);
    assert!(b.softmax(0, 2, 0.1, 255, -128).is_err(), "axis beyond the rank");
    assert!(b.softmax(0, 1, 0.1, 256, -128).is_err(), "R > 255");
    assert!(b.softmax(0, 1, 0.1, 0, -128).is_err(), "R = 0");
    assert!(b.softmax(0, 1, 0.1, 255, -127).is_err(), "z + R beyond int8");
    assert!(b.softmax(0, 1, 0.0, 255, -128).is_err(), "scale 0");
    assert!(b.softmax(0, 1, f64::NAN, 255, -128).is_err(), "scale NaN");
    assert_eq!(b.dims(0), vec![2, 5], "nothing pushed on refusal");
    assert!(SoftmaxExp::new([0, 0], &[2], vec![1 << 15; 255]).is_err());
    let mut t = exp_table(0.1, 15);
    t[3] = -1;
    assert!(SoftmaxExp::new([0, 0], &[2], t).is_err());
    let mut t = exp_table(0.1, 15);
    t[0] -= 1;
    assert!(SoftmaxExp::new([0, 0], &[2], t).is_err(), "E[0] must be 2^K");
    assert!(SoftmaxExp::new([0, 0], &[2], exp_table(0.1, 31)).is_ok(), "K capped at 30");
    let mut t = exp_table(0.1, 20);
    t[9] = (1 << 20) + 1;
    assert!(SoftmaxExp::new([0, 0], &[2], t).is_err(), "an entry above E[0]");
    assert!(SoftmaxDiv::new([0, 0], &[2], (0, 15), 255, -128).is_err());
    assert!(SoftmaxDiv::new([0, 0], &[2], ((1 << 16) + 1, 14), 255, -128).is_err());
    assert!(SoftmaxDiv::new([0, 0], &[2], (1024, 22), 255, -128).is_err(), "L·2^K > 2^31");
    assert!(SoftmaxDiv::new([0, 0], &[2], (1024, 21), 255, -128).is_ok());
    assert_eq!([1, 2, 16, 17, 1024, 1 << 16].map(exp_bits_for), [30, 30, 27, 26, 21, 15]);
}

/// A witness with the division's output changed at `at` by `delta`, its remainders recomputed
/// exactly (r = 2eR − (2t − 1)S as the limbs' value, the top limb negative when r < 0).
fn shifted_output(model: &Model, w: &Witness, at: usize, delta: i64, adjust: bool) -> Witness {
    let mut w = w.clone();
    let l = &model.layers[DIV];
    let cols = l.columns().len();
    let limbs = (cols - 1) / 2;
    let (e, s) = (w.tensors[l.inputs()[0]].data[at], w.tensors[l.inputs()[1]].data[at]);
    w.tensors[DIV + 1].data[at] += delta;
    if adjust {
        let spec = l.spec();
        let div = spec.op::<gkrnet::circuit::softmax::SoftmaxDivSpec>().unwrap();
        let t = w.tensors[DIV + 1].data[at] - div.zero as i64;
        let r = 2 * e * div.steps - (2 * t - 1) * s;
        let u = 2 * s - 1 - r;
        for (c0, v) in [(1, r), (1 + limbs, u)] {
            for k in 0..limbs {
                let limb = if k + 1 == limbs { v >> (16 * k) } else { (v >> (16 * k)) & 0xffff };
                column_mut(model, &mut w, DIV, c0 + k)[at] = limb;
            }
        }
    }
    w
}

#[test]
fn an_output_off_by_one_step_is_rejected() {
    for (dims, axis) in [(&[2, 5][..], 1), (&[1, 2, 3, 16], 3)] {
        let model = softmax_model(dims, axis, 0.1, 255, -128);
        let x = random_scores(11, dims);
        let w = model.forward(&x).unwrap();
        // entries whose t lies in [1, R − 1], so that t ± 1 passes its own range check
        let inner: Vec<usize> = (0..w.output().data.len())
            .filter(|&i| (-127..127).contains(&w.output().data[i]))
            .collect();
        assert!(inner.len() >= 2, "{dims:?}: {:?}", w.output().data);
        for (at, delta) in [(inner[0], 1), (inner[1], -1), (inner[inner.len() - 1], 1)] {
            let what = format!("{dims:?} entry {at} {delta:+}");
            // the remainder adjusted: it leaves [0, 2S), which no range-checked limbs hold
            let bad = shifted_output(&model, &w, at, delta, true);
            let e = rejected(&model, &x, &cheat(&model, &bad), &what);
            assert!(in_lookup(&e, "range").is_some(), "{what}: expected the range lookup, got {e}");
            // the output alone: the rounding relation fails at the division
            let bad = shifted_output(&model, &w, at, delta, false);
            let e = rejected(&model, &x, &cheat(&model, &bad), &what);
            assert!(
                matches!(
                    in_layer(&e, DIV, "softmax-div"),
                    Some(VerifyError::FinalEvalMismatch { .. })
                ),
                "{what}: expected the division's relation, got {e}"
            );
        }
    }
}

#[test]
fn an_exponential_off_the_table_or_off_the_maximum_is_rejected() {
    let dims = [3, 6];
    let model = softmax_model(&dims, 1, 0.1, 255, -128);
    let x = random_scores(12, &dims);
    let w = model.forward(&x).unwrap();
    // e + 1 at one entry, everything after it recomputed honestly: (d, e) is no table row
    let mut bad = w.clone();
    bad.tensors[EXP + 1].data[4] += 1;
    recompute_after(&model, &mut bad, EXP);
    let e = rejected(&model, &x, &cheat(&model, &bad), "e + 1");
    assert!(in_lookup(&e, "table").is_some(), "e + 1: expected the table lookup, got {e}");
    // d moved to another row of the table, with its e: d ≠ M − x
    let mut bad = w.clone();
    let table = exp_table(0.1, exp_bits_for(6));
    let d = column_mut(&model, &mut bad, EXP, 1)[4] + 1;
    column_mut(&model, &mut bad, EXP, 1)[4] = d;
    bad.tensors[EXP + 1].data[4] = table[d as usize];
    recompute_after(&model, &mut bad, EXP);
    let e = rejected(&model, &x, &cheat(&model, &bad), "d + 1");
    assert!(
        matches!(in_layer(&e, EXP, "softmax-exp"), Some(VerifyError::FinalEvalMismatch { .. })),
        "d + 1: expected the exponential's relation, got {e}"
    );
    // the shift is another entry than the maximum (row 0's second largest): its argmax check
    // goes negative at the maximum, which no limb holds
    let row: Vec<i64> = x.data[..6].to_vec();
    let mut order: Vec<usize> = (0..6).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(row[i]));
    let second = order[1];
    assert_ne!(row[order[0]], row[second], "a unique maximum in row 0 of this seed");
    {
        let mut bad = w.clone();
        for l in 0..6 {
            bad.tensors[SELECT + 1].data[l] = i64::from(l == second);
        }
        // recompute the argmax's layers, the check with exact (negative) values
        for i in SELECT + 1..model.layers.len() {
            let layer = &model.layers[i];
            let ins: Vec<&Tensor> = layer.inputs().iter().map(|&t| &bad.tensors[t]).collect();
            if i == CHECK {
                let [m, xx, p] = [0, 1, 2].map(|j| ins[j].data.clone());
                bad.tensors[i + 1].data = (0..xx.len()).map(|j| m[j] - xx[j] - 1 + p[j]).collect();
                continue;
            }
            if i == EXP {
                // d = M − x as the relation wants it (negative at the maximum), e from the table
                // where d is a row, else E[0]
                let [xx, m] = [0, 1].map(|j| ins[j].data.clone());
                let table = exp_table(0.1, exp_bits_for(6));
                let d: Vec<i64> = (0..xx.len()).map(|j| m[j] - xx[j]).collect();
                let e = d.iter().map(|&v| table.get(v as usize).copied().unwrap_or(table[0]));
                bad.tensors[i + 1].data = e.collect();
                bad.advice[i] = vec![d];
                continue;
            }
            let lw = layer.forward(&ins).unwrap();
            bad.tensors[i + 1] = lw.output;
            bad.advice[i] = lw.advice;
        }
        let e = rejected(&model, &x, &cheat(&model, &bad), "a shift below the maximum");
        assert!(in_lookup(&e, "range").is_some() || in_lookup(&e, "table").is_some(), "got {e}");
    }
}

#[test]
fn byte_flips_are_never_accepted_and_the_record_round_trips() {
    let model = softmax_model(&[2, 5], 1, 0.2, 255, -128);
    let x = random_scores(13, &[2, 5]);
    let proof = common::model::honest(&model, &x);
    let mut rng = rng(14);
    let flips: Vec<(usize, u8)> =
        (0..400).map(|_| (rng.gen_range(0..proof.len()), 1u8 << rng.gen_range(0..8))).collect();
    flips_never_accepted(&model, &x, &proof, &flips);
    for cut in [0, proof.len() / 2, proof.len() - 1] {
        never_accepted(&model, &x, &proof[..cut], &format!("cut at {cut}"));
    }
    let mut longer = proof.clone();
    longer.extend_from_slice(&proof[..64]);
    never_accepted(&model, &x, &longer, "extended");
    // the record: digest kept, parameters in the digest, the table from the record
    let bytes = model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!(back.digest(), model.digest());
    assert_eq!(back.encode(), bytes);
    assert!(gkrnet::gkr::verify_bytes(&back, &x, &gkrnet::gkr::VerifyOptions::default(), &proof)
        .is_ok());
    for other in [
        softmax_model(&[2, 5], 1, 0.21, 255, -128),
        softmax_model(&[2, 5], 1, 0.2, 254, -128),
        softmax_model(&[2, 5], 1, 0.2, 200, -128),
    ] {
        assert_ne!(other.digest(), model.digest());
    }
    // a table entry above 2^K in the record: refused at decoding, never a panic
    let spec = model.layers[EXP].spec();
    let table = &spec.op::<gkrnet::circuit::softmax::SoftmaxExpSpec>().unwrap().table;
    let mut needle = Vec::new();
    for v in table {
        needle.extend_from_slice(&v.to_le_bytes());
    }
    let pos = bytes
        .windows(needle.len())
        .position(|w| w == needle.as_slice())
        .expect("the table's bytes");
    let mut bad = bytes.clone();
    bad[pos + 8..pos + 16].copy_from_slice(&(1i64 << 40).to_le_bytes());
    assert!(Model::decode(&bad).is_err());
}

/// A causal mask on [2, 4, 4] scores (row i keeps columns ≤ i) with masked scores at the int8
/// minimum (scale 0.02, so that E[255] > 0 and ignoring the mask would matter): masked probabilities are exactly the zero point, kept ones the softmax of the kept
/// scores; an exponential left at its table value at a masked position is rejected at the
/// exponential's relation; bad masks are refused.
#[test]
fn a_mask_gives_exact_zeros_and_is_enforced() {
    let dims = [2, 4, 4];
    let keep: Vec<i8> = (0..32).map(|i| i8::from((i % 4) <= (i / 4) % 4)).collect();
    let mut b = Builder::new(dims.to_vec());
    b.softmax_masked(0, 2, (0.02, 255, -128), keep.clone()).unwrap();
    let model = b.finish("masked softmax").unwrap();
    let mut x = random_scores(15, &dims);
    for (v, &k) in x.data.iter_mut().zip(&keep) {
        if k == 0 {
            *v = -128;
        }
    }
    let w = prove_and_verify(&model, &x, "masked");
    let table = exp_table(0.02, exp_bits_for(4));
    for (line, row) in x.data.chunks(4).enumerate() {
        let kept: Vec<usize> = (0..4).filter(|&l| keep[line * 4 + l] == 1).collect();
        let max = kept.iter().map(|&l| row[l]).max().unwrap();
        let s: i128 = kept.iter().map(|&l| table[(max - row[l]) as usize] as i128).sum();
        for l in 0..4 {
            let q = w.output().data[line * 4 + l];
            if keep[line * 4 + l] == 0 {
                assert_eq!(q, -128, "line {line} col {l}");
            } else {
                let e = table[(max - row[l]) as usize] as i128;
                assert_eq!(q as i128, (2 * e * 255 + s) / (2 * s) - 128, "line {line} col {l}");
            }
        }
    }
    // a masked position's exponential at its table value (the mask ignored)
    let mut bad = w.clone();
    let at = keep.iter().position(|&k| k == 0).unwrap();
    let raw = column_mut(&model, &mut bad, EXP, 2)[at];
    assert!(raw > 0);
    bad.tensors[EXP + 1].data[at] = raw;
    recompute_after(&model, &mut bad, EXP);
    let e = rejected(&model, &x, &cheat(&model, &bad), "masked e");
    assert!(
        matches!(in_layer(&e, EXP, "softmax-exp"), Some(VerifyError::FinalEvalMismatch { .. })),
        "masked e: expected the exponential's relation, got {e}"
    );
    // the mask is in the digest; bad masks are refused
    let mut b = Builder::new(dims.to_vec());
    b.softmax(0, 2, 0.02, 255, -128).unwrap();
    assert_ne!(b.finish("unmasked").unwrap().digest(), model.digest());
    let mut b = Builder::new(dims.to_vec());
    assert!(b.softmax_masked(0, 2, (0.02, 255, -128), vec![1; 31]).is_err(), "length");
    assert!(b.softmax_masked(0, 2, (0.02, 255, -128), vec![2; 32]).is_err(), "not 0/1");
    let mut empty_line = vec![1i8; 32];
    empty_line[4..8].fill(0);
    assert!(b.softmax_masked(0, 2, (0.02, 255, -128), empty_line).is_err(), "a masked line");
    assert_eq!(b.dims(0), dims.to_vec(), "nothing pushed on refusal");
}

/// Long lines (L = 1 024, as GPT-2's context): the exponential's K = 21 bits keep the output
/// within one step of float, also on the worst case of 15 bits (one score 127, the rest −128, at
/// a scale where 2^15·exp(−255s) rounds up from 0.506: 4.04 steps off with K = 15,
/// `paper-notes/softmax.md`).
#[test]
fn long_lines_stay_within_a_step_of_float() {
    let len = 1024;
    let scale = 0.999 * 16.0 * std::f64::consts::LN_2 / 255.0;
    let model = softmax_model(&[2, len], 1, scale, 255, -128);
    let mut data: Vec<i64> = (0..len).map(|l| if l == 7 { 127 } else { -128 }).collect();
    data.extend(random_scores(16, &[len]).data);
    let x = Tensor::new(vec![2, len], data).unwrap();
    let w = prove_and_verify(&model, &x, "L = 1024");
    let (q, f) = naive(&x, 1, scale, 255, -128);
    assert_eq!(w.output().data, q);
    let worst =
        q.iter().zip(&f).map(|(&qv, &fv)| ((qv + 128) as f64 - fv).abs()).fold(0f64, f64::max);
    println!("L = 1024: worst |t − R·p| = {worst:.4}");
    assert!(worst <= 1.0, "{worst}");
}

/// The gated model of [`a_gate_read_from_the_input_masks_exactly`]: input = 32 scores [2, 4, 4]
/// ‖ a padding mask of 4 ‖ the constants 0 and 1; the gate keeps (line, j) when j ≤ i (causal)
/// and the mask keeps j.
fn gated_model() -> Model {
    let mut b = Builder::new(vec![38]);
    let x =
        b.push(gkrnet::circuit::take::Take::flat(0, &[38], &[2, 4, 4], (0..32).collect()).unwrap());
    let sources = (0..32).map(|k| if k % 4 <= (k / 4) % 4 { 32 + k % 4 } else { 36 }).collect();
    let g = b.push(gkrnet::circuit::take::Take::flat(0, &[38], &[2, 4, 4], sources).unwrap());
    b.softmax_gated(x, 2, (0.02, 255, -128), g).unwrap();
    b.finish("gated softmax").unwrap()
}

fn gated_input(scores: &Tensor, mask: [i64; 4]) -> Tensor {
    let mut data = scores.data.clone();
    data.extend(mask);
    data.extend([0, 1]);
    Tensor::new(vec![38], data).unwrap()
}

/// A mask read from the input ([`Builder::softmax_gated`]): masked scores (here large, so that
/// ignoring the gate would move the maximum) give exactly the zero point, kept ones the softmax
/// of the kept scores, under two masks with one model. Rejected, each at its exact place: a
/// masked exponential left at its table value (the exponential's relation), the gate's output
/// left at the score (the gate's relation), the proof checked against another mask (the
/// input's claim); a mask value of 2 and a line masked whole are refused by the prover.
#[test]
fn a_gate_read_from_the_input_masks_exactly() {
    const GATE: usize = 2;
    const GEXP: usize = 8;
    let model = gated_model();
    assert_eq!(model.layers[GATE].kind(), "gate");
    assert_eq!(model.layers[GEXP].kind(), "softmax-exp-gated");
    let mut scores = random_scores(17, &[2, 4, 4]);
    let table = exp_table(0.02, exp_bits_for(4));
    for mask in [[1, 1, 1, 0], [1, 0, 1, 1]] {
        let keep = |k: usize| k % 4 <= (k / 4) % 4 && mask[k % 4] == 1;
        for (k, v) in scores.data.iter_mut().enumerate() {
            if !keep(k) {
                *v = 120;
            }
        }
        let x = gated_input(&scores, mask);
        let w = prove_and_verify(&model, &x, &format!("mask {mask:?}"));
        for (line, row) in scores.data.chunks(4).enumerate() {
            let kept: Vec<usize> = (0..4).filter(|&l| keep(line * 4 + l)).collect();
            let max = kept.iter().map(|&l| row[l]).max().unwrap();
            let s: i128 = kept.iter().map(|&l| table[(max - row[l]) as usize] as i128).sum();
            for l in 0..4 {
                let q = w.output().data[line * 4 + l];
                if !keep(line * 4 + l) {
                    assert_eq!(q, -128, "{mask:?} line {line} col {l}");
                } else {
                    let e = table[(max - row[l]) as usize] as i128;
                    let want = (2 * e * 255 + s) / (2 * s) - 128;
                    assert_eq!(q as i128, want, "{mask:?} line {line} col {l}");
                }
            }
        }
        let at = (0..32).find(|&k| !keep(k)).unwrap();
        // a masked position's exponential at its table value
        let mut bad = w.clone();
        let raw = column_mut(&model, &mut bad, GEXP, 2)[at];
        assert!(raw > 0);
        bad.tensors[GEXP + 1].data[at] = raw;
        recompute_after(&model, &mut bad, GEXP);
        let e = rejected(&model, &x, &cheat(&model, &bad), "masked e");
        assert!(
            matches!(
                in_layer(&e, GEXP, "softmax-exp-gated"),
                Some(VerifyError::FinalEvalMismatch { .. })
            ),
            "masked e: expected the exponential's relation, got {e}"
        );
        // the gate's output left at the score (everything after it honest on that)
        let mut bad = w.clone();
        bad.tensors[GATE + 1].data[at] = scores.data[at];
        recompute_after(&model, &mut bad, GATE);
        let e = rejected(&model, &x, &cheat(&model, &bad), "ungated score");
        assert!(
            matches!(in_layer(&e, GATE, "gate"), Some(VerifyError::FinalEvalMismatch { .. })),
            "ungated score: expected the gate's relation, got {e}"
        );
        // the honest proof against another mask: the verifier's own input disagrees
        let proof = common::model::honest(&model, &x);
        let other = gated_input(&scores, [1, 1, 1, 1]);
        never_accepted(&model, &other, &proof, "another mask");
    }
    let x = gated_input(&scores, [1, 2, 1, 1]);
    let err = model.forward(&x).unwrap_err().to_string();
    assert!(err.contains("0 or 1"), "{err}");
    let x = gated_input(&scores, [0, 1, 1, 1]);
    let err = model.forward(&x).unwrap_err().to_string();
    assert!(err.contains("masks every position"), "line 0 keeps nothing: {err}");
    let bytes = model.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!((back.digest(), back.encode()), (model.digest(), bytes));
}
