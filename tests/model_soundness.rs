//! Soundness of whole-model proofs ([`gkr::prove`] / [`gkr::verify`]) against cheating provers.
//!
//! Every cheat is either phrased by the cheating prover [`gkr::prove_witness_unchecked`] (which
//! proves any witness it is given) or made by editing an honest proof, and each test asserts the
//! exact [`VerifyError`] the verifier returns. Covered:
//!
//! 1. the output changed by one LSB with the proof re-made for it (`mlp-act` and random models:
//!    `Layer { last }` / the activation lookup), the output message alone edited (`Output`), a
//!    virtual dense output (`Layer { 0, "dense" }`; the prover cannot phrase a false product);
//! 2. a proof for input A verified against input B (the range LogUp, under other challenges);
//! 3. a proof verified against the same architecture with other weights, one weight changed by
//!    one, or one clamp bound changed by one;
//! 4. every layer of `mlp-act` tampered on its own, the rest of the witness recomputed from it:
//!    requant/add outputs, rounding bits and rem limbs → `Layer { layer: i }`, activations → the
//!    activation lookup, dense accumulators → the mock prover and the matmul sub-prover refuse;
//!    and every field element of every message of an honest proof (plus three integers of every
//!    integer message) tampered one at a time, each caught by a protocol check;
//! 5. the range and the activation multiplicities edited in the proof (the first LogUp fails
//!    under the changed challenges), and the same edits shown to a verifier whose transcript
//!    absorbed the honest column (the multiplicity opening fails);
//! 6. requantization quotient q ± 1 with rem ∓ 2^k (k ∈ {9, 20, 37}, not multiples of 16), every
//!    other column recomputed so that every relation holds (the mock prover reports a range
//!    check only; for q − 1 only the exact top-limb width check): the range lookup rejects;
//! 7. a clamp that passes u through instead of saturating (above hi, below lo): the range lookup;
//! 8. an activation entry satisfied from another layer's table (one entry, and a swap of two
//!    layers' entries that leaves the untagged (x, y) multiset unchanged, so only the layer tag
//!    objects): the activation lookup;
//! 9. ≥ 15 000 seeded single-bit flips (10 000 uniform, plus every byte outside the range
//!    multiplicities), random truncations and appended bytes: never accepted, never a panic;
//! 10. transcript binding: (a) the statement, the output, all advice and the multiplicities are
//!     absorbed before the first challenge, the verifier mirrors the prover event by event, and
//!     every prover message changes the next challenge (a verifier transcript absorbs a tampered
//!     message but hands the protocol the honest one); (b) adaptive provers that pick the output
//!     or an advice column after seeing the challenges: an output y′ ≠ y with ỹ′(r) = ỹ(r), and a
//!     `par` column breaking its bit relation with an unchanged MLE at the zero-check point, are
//!     *accepted* through a transcript that did not absorb them and rejected by the verifier,
//!     which absorbs them and so draws other challenges.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::edit;
use common::errors::*;
use common::model::*;

use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    Dense, DenseSpec, Layout, Model, Multiplier, Requant, RequantSpec, Tensor, Witness,
};
use gkrnet::field::{from_i64, to_u128, Fp, MODULUS};
use gkrnet::gkr;
use gkrnet::proof::Proof;
use gkrnet::transcript::{
    labels, Event, FiatShamirProver, FiatShamirVerifier, Label, Recording, Transcript,
    VerifierTranscript,
};
use gkrnet::VerifyError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

// ---------------------------------------------------------------------------------------------
// helpers

/// Index of the first message with one of these labels and this length.
fn message_index_of(proof: &Proof, labels: &[Label], len: usize) -> usize {
    proof
        .messages
        .iter()
        .position(|m| {
            labels.contains(&m.label()) && m.ints.as_ref().map_or(m.values.len(), Vec::len) == len
        })
        .unwrap_or_else(|| panic!("no message {labels:?} of length {len}"))
}

/// The multiplicities are sent as advice today; `gkr/multiplicities` would do as well.
const MULTIPLICITY_LABELS: [Label; 2] = [labels::GKR_ADVICE, labels::GKR_MULTIPLICITIES];

fn layout_len(model: &Model, layer: usize) -> usize {
    model.layers[layer].output_dims().iter().product()
}

// --- requantization slots ---------------------------------------------------------------------

/// What the test knows about a requantization layer it built: P = a·acc, y = clamp(⌊P/2^k⌉ + z).
#[derive(Clone, Copy, Debug)]
struct Rq {
    a: i128,
    k: u32,
    z: i128,
    lo: i128,
    hi: i128,
    /// q = q_min + par + 2·qh; derived from the honest witness.
    q_min: i128,
}

/// Every committed value of one requantization slot (u = q + b + z is not committed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Slot {
    y: i128,
    par: i128,
    qh: i128,
    rem: i128,
    b: i128,
    d: i128,
    s_lo: i128,
    s_hi: i128,
    e_lo: i128,
    e_hi: i128,
    u: i128,
}

impl Rq {
    /// (q, rem) with P = 2^k·q + rem, 0 ≤ rem < 2^k.
    fn divide(&self, p: i128) -> (i128, i128) {
        (p.div_euclid(1 << self.k), p.rem_euclid(1 << self.k))
    }

    /// The honest formulas applied to any (q, rem): what a cheater who picked (q, rem) commits.
    fn slot(&self, q: i128, rem: i128) -> Slot {
        let par = q.rem_euclid(2);
        let half = if self.k == 0 { 0 } else { 1i128 << (self.k - 1) };
        let b = i128::from(self.k > 0 && rem + par > half);
        let d = if b == 1 { rem + par - half - 1 } else { half - rem - par };
        let u = q + b + self.z;
        let (s_lo, s_hi) = (i128::from(u < self.lo), i128::from(u > self.hi));
        let e_lo = if s_lo == 1 { self.lo - 1 - u } else { u - self.lo };
        let e_hi = if s_hi == 1 { u - self.hi - 1 } else { self.hi - u };
        let qh = (q - self.q_min - par) / 2;
        Slot { y: u.clamp(self.lo, self.hi), par, qh, rem, b, d, s_lo, s_hi, e_lo, e_hi, u }
    }
}

/// "qh1" → ("qh", 1); "s_lo" → ("s_lo", 0).
fn group(name: &str) -> (&str, usize) {
    let stem = name.trim_end_matches(|c: char| c.is_ascii_digit());
    (stem, name[stem.len()..].parse().unwrap_or(0))
}

/// The 16-bit limbs of v, the top limb holding whatever is left (negative, or wider than 16
/// bits, when v does not fit): Σ limbᵢ·2^(16i) = v always, as the relations need.
fn loose_limbs(mut v: i128, n: usize) -> Vec<i128> {
    assert!(n > 0 || v == 0, "no limbs for {v}");
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        if i + 1 == n {
            out.push(v);
        } else {
            out.push(v & 0xffff);
            v >>= 16;
        }
    }
    out
}

/// Writes a slot into every column of a requantization layer.
fn write_slot(model: &Model, w: &mut Witness, layer: usize, j: usize, s: &Slot) {
    let names = model.layers[layer].columns();
    let count = |g: &str| names.iter().filter(|n| group(n).0 == g).count();
    for (c, name) in names.iter().enumerate() {
        let (g, i) = group(name);
        let v = match g {
            "y" => s.y,
            "par" => s.par,
            "b" => s.b,
            "s_lo" => s.s_lo,
            "s_hi" => s.s_hi,
            "qh" => loose_limbs(s.qh, count("qh"))[i],
            "rem" => loose_limbs(s.rem, count("rem"))[i],
            "d" => loose_limbs(s.d, count("d"))[i],
            "elo" => loose_limbs(s.e_lo, count("elo"))[i],
            "ehi" => loose_limbs(s.e_hi, count("ehi"))[i],
            _ => panic!("unknown requantization column {name}"),
        };
        column_mut(model, w, layer, c)[j] = i64::try_from(v).expect("advice fits an i64");
    }
}

/// Reads a limb group of slot j back as an integer.
fn read_group(model: &Model, w: &Witness, layer: usize, j: usize, g: &str) -> i128 {
    let cols = w.columns(model, layer);
    model.layers[layer]
        .columns()
        .iter()
        .enumerate()
        .filter(|(_, n)| group(n).0 == g)
        .map(|(c, n)| (cols[c][j] as i128) << (16 * group(n).1))
        .sum()
}

/// dense [3, 24] → [3, 16] then a requantization with shift k, zero z and clamp [lo, hi] (the
/// output layer, committed). The multiplier a ≈ 2400·2^(k−20) spreads q over about ±60.
fn requant_model(k: u32, z: i32, lo: i32, hi: i32) -> (Model, Rq) {
    requant_model_with(k, z, lo, hi, None)
}

/// [`requant_model`] with weight `tweak` (if any) changed by one.
fn requant_model_with(k: u32, z: i32, lo: i32, hi: i32, tweak: Option<usize>) -> (Model, Rq) {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let (m, n, out) = (3, 24, 16);
    let mut b = Builder::new(vec![m, n]);
    let mut weights: Vec<i8> = (0..n * out).map(|_| rng.gen_range(-127..=127)).collect();
    if let Some(i) = tweak {
        weights[i] = if weights[i] < 127 { weights[i] + 1 } else { 126 };
    }
    let bias = (0..out).map(|_| rng.gen_range(-3000..=3000)).collect();
    let acc = b.push(
        Dense::new(DenseSpec {
            input: 0,
            in_dims: vec![m, n],
            input_zero: 0,
            weights,
            features: out,
            bias,
        })
        .expect("dense"),
    );
    let a = ((2400u64 << k) >> 20).max(1) as u32;
    let spec = RequantSpec::accumulator(acc, vec![m, out], Multiplier::Tensor(a));
    let rq = Requant::new(RequantSpec { k, zero: z, lo, hi, ..spec });
    b.push(rq.expect("requant"));
    let model = b.finish(&format!("requant-k{k}")).expect("model");
    let rq = Rq { a: a as i128, k, z: z as i128, lo: lo as i128, hi: hi as i128, q_min: 0 };
    (model, rq)
}

/// The requant model, an input, its honest witness, the layer's P per slot, and `Rq` with q_min
/// derived from the witness; checks that `write_slot` reproduces the honest witness.
fn requant_setup(k: u32, z: i32, lo: i32, hi: i32) -> (Model, Tensor, Witness, Rq, Vec<i128>) {
    let (model, mut rq) = requant_model(k, z, lo, hi);
    let input = zoo::random_input(&model, 11);
    let w = model.forward(&input).expect("forward");
    let p: Vec<i128> = w.tensors[1].data.iter().map(|&acc| rq.a * acc as i128).collect();
    let (q, _) = rq.divide(p[0]);
    let par = read_group(&model, &w, 1, 0, "par");
    rq.q_min = q - par - 2 * read_group(&model, &w, 1, 0, "qh");
    let mut again = w.clone();
    for (j, &pj) in p.iter().enumerate() {
        let (q, rem) = rq.divide(pj);
        write_slot(&model, &mut again, 1, j, &rq.slot(q, rem));
    }
    assert_eq!(again, w, "k = {k}: the test's slot encoding is the reference's");
    (model, input, w, rq, p)
}

/// Asserts that the mock prover finds only range-check failures in layer `layer` (so every
/// relation holds) and returns the failing check's name.
fn only_range_fails(model: &Model, w: &Witness, layer: usize) -> String {
    let e = model.check(w).expect_err("the mock prover rejects the cheat");
    assert_eq!(e.layer, layer, "{e}");
    assert!(e.what.starts_with("16-bit range check"), "a relation fails, not a range check: {e}");
    e.what
}

// ---------------------------------------------------------------------------------------------
// 1. a wrong output

#[test]
fn output_off_by_one_with_the_proof_remade_is_rejected() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let w = model.forward(&input).expect("forward");
    let last = model.layers.len() - 1;
    assert!(model.layers[last].output_committed());
    for j in [0, 7, 19] {
        let mut cheat_w = w.clone();
        // the output tensor is the committed column y of the last layer: one edit changes both
        let y = &mut cheat_w.tensors[last + 1].data[j];
        *y += if *y < 127 { 1 } else { -1 };
        assert_eq!(cheat_w.columns(&model, last)[0], &cheat_w.output().data[..]);
        let e = rejected(&model, &input, &cheat(&model, &cheat_w), "output ± 1");
        let kind = model.layers[last].kind();
        assert!(is_layer_final_mismatch(&e, last, kind), "output entry {j}: {e:?}");
    }

    // the output message alone, in an honest proof: it no longer matches the committed column
    let proof = honest(&model, &input);
    for j in [0, 19] {
        let bad = edit(&proof, |p| p.messages[0].ints.as_mut().expect("ints")[j] += 1);
        let e = rejected(&model, &input, &bad, "output message ± 1");
        assert!(is_output_opening_mismatch(&e, last), "{e:?}");
    }
}

#[test]
fn output_off_by_one_is_rejected_on_random_models() {
    for seed in 0..12 {
        let model = zoo::random_model(seed).expect("model");
        let input = zoo::random_input(&model, seed);
        let mut w = model.forward(&input).expect("forward");
        let last = model.layers.len() - 1;
        let out = w.tensors.len() - 1;
        let j = seed as usize % w.tensors[out].data.len();
        let y = &mut w.tensors[out].data[j];
        *y += if *y < 127 { 1 } else { -1 };
        let e = rejected(&model, &input, &cheat(&model, &w), "output ± 1");
        let kind = model.layers[last].kind();
        // a threshold requantization's y is pinned by its (y, t₁, t₂) table lookup
        let thresholds = model.layers[last].columns().contains(&"t1");
        let ok = match kind {
            "requant" | "add" if !thresholds => is_layer_final_mismatch(&e, last, kind),
            _ => is_lookup_imbalance(&e, "table"),
        };
        assert!(ok, "{} (last layer {kind}): {e:?}", model.name);
    }
}

#[test]
fn virtual_dense_output_off_by_one_is_rejected() {
    // a model whose output is a dense layer's int32 accumulator (virtual, proved by matmul)
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let mut b = Builder::new(vec![3, 7]);
    let weights = (0..7 * 5).map(|_| rng.gen_range(-127..=127)).collect();
    let bias = (0..5).map(|_| rng.gen_range(-3000..=3000)).collect();
    b.push(
        Dense::new(DenseSpec {
            input: 0,
            in_dims: vec![3, 7],
            input_zero: 4,
            weights,
            features: 5,
            bias,
        })
        .expect("dense"),
    );
    let model = b.finish("dense-out").expect("model");
    let input = zoo::random_input(&model, 2);
    let proof = honest(&model, &input);
    let mut w = model.forward(&input).expect("forward");
    w.tensors[1].data[4] += 1;
    assert_eq!(model.check(&w).map_err(|e| e.layer), Err(0));
    // the cheating prover cannot phrase a false matrix product
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    assert!(gkr::prove(
        &model,
        &w.tensors[0],
        &gkr::ProveOptions::default().with_witness(&w).unchecked(),
        &mut t
    )
    .is_err());
    // the output message of an honest proof edited: the matmul sumcheck objects
    for j in [0, 4, 14] {
        let bad = edit(&proof, |p| p.messages[0].ints.as_mut().expect("ints")[j] -= 1);
        let e = rejected(&model, &input, &bad, "dense output − 1");
        assert!(is_layer_final_mismatch(&e, 0, "dense"), "{e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2–3. the statement: input and model

#[test]
fn a_proof_for_one_input_does_not_verify_another() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let proof = honest(&model, &input);
    for j in [0, 50, 95] {
        let mut other = input.clone();
        other.data[j] = if other.data[j] == 127 { 126 } else { other.data[j] + 1 };
        let e = rejected(&model, &other, &proof, "rebound input");
        // other challenges from the first one on: the output check still holds (the output is
        // the committed column), the first sub-proof, the range LogUp, fails
        assert!(is_lookup_final_mismatch(&e, "range"), "{e:?}");
    }
    // a cheater who keeps A's whole witness but states input B cannot phrase the matmul
    let mut w = model.forward(&input).expect("forward");
    w.tensors[0].data[0] ^= 1;
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    assert!(gkr::prove(
        &model,
        &w.tensors[0],
        &gkr::ProveOptions::default().with_witness(&w).unchecked(),
        &mut t
    )
    .is_err());
}

#[test]
fn a_proof_for_one_model_does_not_verify_other_weights() {
    // same architecture, other seed: every weight and bias differs
    let a = zoo::mlp("a", &[12, 9, 5], 2, 1).expect("model");
    let b = zoo::mlp("a", &[12, 9, 5], 2, 2).expect("model");
    assert_ne!(a.digest(), b.digest());
    let input = zoo::random_input(&a, 4);
    let proof = honest(&a, &input);
    let e = rejected(&b, &input, &proof, "other weights");
    // the threshold tables of the two models differ in size (their accumulator bounds differ),
    // so the verifier may already stop at the multiplicities' length
    let table_shape = matches!(e, VerifyError::MessageLength { label, .. } if label == labels::GKR_MULTIPLICITIES);
    assert!(is_lookup_final_mismatch(&e, "range") || table_shape, "{e:?}");
    // one weight changed by one; the clamp's lower bound changed by one
    let (base, _) = requant_model(20, 0, -128, 127);
    let input = zoo::random_input(&base, 11);
    let proof = honest(&base, &input);
    for (what, (other, _)) in [
        ("weight 37 + 1", requant_model_with(20, 0, -128, 127, Some(37))),
        ("lo = −127", requant_model(20, 0, -127, 127)),
    ] {
        let e = rejected(&other, &input, &proof, what);
        assert!(is_lookup_final_mismatch(&e, "range"), "{what}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 4. every layer, every message

#[test]
fn every_layer_of_mlp_act_tampered_alone_is_rejected() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let honest_w = model.forward(&input).expect("forward");
    for (i, layer) in model.layers.iter().enumerate() {
        let kind = layer.kind();
        let j = (5 * i + 3) % layout_len(&model, i);
        let mut w = honest_w.clone();
        match kind {
            "dense" => {
                w.tensors[i + 1].data[j] += 1;
                recompute_after(&model, &mut w, i);
                let e = model.check(&w).expect_err("mock prover");
                assert_eq!(e.layer, i, "{e}");
                // a false matrix product cannot even be phrased
                let mut t = FiatShamirProver::new(gkr::PROTOCOL);
                let r = gkr::prove(
                    &model,
                    &w.tensors[0],
                    &gkr::ProveOptions::default().with_witness(&w).unchecked(),
                    &mut t,
                );
                assert!(r.is_err(), "layer {i} ({kind}): the prover phrased a false product");
            }
            "requant" | "add" => {
                // (a) the output ± 1, the rest of the network recomputed from it
                let y = &mut w.tensors[i + 1].data[j];
                *y += if *y < 127 { 1 } else { -1 };
                recompute_after(&model, &mut w, i);
                assert_eq!(model.check(&w).map_err(|e| e.layer), Err(i));
                let e = rejected(&model, &input, &cheat(&model, &w), kind);
                assert!(is_layer_final_mismatch(&e, i, kind), "layer {i} ({kind}) y ± 1: {e:?}");
                // (b) the rounding bit flipped (a bit still, so only relations break)
                let mut w = honest_w.clone();
                let b = column_id(&model, i, "b");
                column_mut(&model, &mut w, i, b)[j] ^= 1;
                assert_eq!(model.check(&w).map_err(|e| e.layer), Err(i));
                let e = rejected(&model, &input, &cheat(&model, &w), kind);
                assert!(
                    is_layer_final_mismatch(&e, i, kind),
                    "layer {i} ({kind}) b flipped: {e:?}"
                );
                // (c) a low rem limb moved within its 16 bits
                let mut w = honest_w.clone();
                let rem0 = column_id(&model, i, "rem0");
                let v = &mut column_mut(&model, &mut w, i, rem0)[j];
                *v = if *v > 0 { *v - 1 } else { 1 };
                assert_eq!(model.check(&w).map_err(|e| e.layer), Err(i));
                let e = rejected(&model, &input, &cheat(&model, &w), kind);
                assert!(is_layer_final_mismatch(&e, i, kind), "layer {i} ({kind}) rem0: {e:?}");
            }
            _ => {
                let table = activation_table(layer.as_ref());
                let x = w.tensors[layer.inputs()[0]].data[j];
                let y = table[(x + 128) as usize] as i64;
                w.tensors[i + 1].data[j] = if y < 127 { y + 1 } else { y - 1 };
                recompute_after(&model, &mut w, i);
                assert_eq!(model.check(&w).map_err(|e| e.layer), Err(i));
                let e = rejected(&model, &input, &cheat(&model, &w), kind);
                assert!(is_lookup_imbalance(&e, "table"), "layer {i} ({kind}): {e:?}");
            }
        }
    }
}

#[test]
fn every_element_of_every_message_tampered_is_rejected() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    let mut rng = ChaCha20Rng::seed_from_u64(44);
    let mut tried = 0;
    for (m, msg) in decoded.messages.iter().enumerate() {
        match &msg.ints {
            // integers: the first, the last and a random one, ± 1
            Some(ints) => {
                let len = ints.len();
                for (k, delta) in [(0, 1), (len - 1, -1), (rng.gen_range(0..len), 1)] {
                    let bad = edit(&proof, |p| {
                        p.messages[m].ints.as_mut().expect("ints")[k] += delta;
                    });
                    let e = rejected(&model, &input, &bad, &format!("message {m} int {k}"));
                    assert!(caught_in_place(msg.label(), &e), "message {m} int {k}: {e:?}");
                    tried += 1;
                }
            }
            None => {
                for k in 0..msg.values.len() {
                    let bad = edit(&proof, |p| p.messages[m].values[k] += Fp::from(1u64));
                    let label = msg.label();
                    let e = rejected(&model, &input, &bad, &format!("message {m} ({label}) {k}"));
                    assert!(caught_in_place(label, &e), "message {m} ({label}) {k}: {e:?}");
                    tried += 1;
                }
            }
        }
    }
    assert!(tried > 1400, "{tried}");
}

// ---------------------------------------------------------------------------------------------
// 5. multiplicities

/// An edit of an integer message.
type Edit = Box<dyn Fn(&mut [i64])>;

/// Edits of a multiplicity column: ± 1 at either end, a count lowered, −1 where nothing is looked
/// up, one lookup moved to an unused entry (the total stays), a count raised by 2^40.
fn multiplicity_edits(counts: &[i64]) -> Vec<Edit> {
    let len = counts.len();
    let busy = counts.iter().position(|&c| c > 0).expect("some entry is looked up");
    let idle = counts.iter().position(|&c| c == 0).expect("some entry is not looked up");
    vec![
        Box::new(|m| m[0] += 1),
        Box::new(move |m| m[len - 1] += 1),
        Box::new(move |m| m[busy] -= 1),
        Box::new(move |m| m[idle] = -1),
        Box::new(move |m| {
            m[busy] -= 1;
            m[idle] += 1;
        }),
        Box::new(move |m| m[busy] += 1 << 40),
    ]
}

/// f(x) at index x + 128 from an activation layer's (x, f(x)) rows.
fn activation_table(layer: &dyn gkrnet::circuit::Layer) -> Vec<i64> {
    let rows = layer.table_lookup().expect("an activation layer").rows;
    rows.iter().map(|r| r[1]).collect()
}

/// The multiplicity columns close the advice: (range, activation) message indices.
fn multiplicity_messages(model: &Model, proof: &Proof) -> (Option<usize>, usize) {
    let activations = model.layers.iter().filter(|l| l.table_lookup().is_some()).count();
    let table = message_index_of(proof, &MULTIPLICITY_LABELS, 256 * activations);
    assert!(!MULTIPLICITY_LABELS.contains(&proof.messages[table + 1].label()));
    let has_range = model.layers.iter().any(|l| !l.range_checks().is_empty());
    let range = has_range.then(|| message_index_of(proof, &MULTIPLICITY_LABELS, 1 << 16));
    if let Some(range) = range {
        assert_eq!(table, range + 1);
    }
    (range, table)
}

#[test]
fn edited_multiplicities_are_rejected() {
    // In the proof bytes: the edited column is absorbed, so every later challenge changes and
    // the first lookup's first layer no longer holds. With range checks, that is the range
    // LogUp (whichever column was edited) ...
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    let (range, table) = multiplicity_messages(&model, &decoded);
    let range = range.expect("mlp-act has range checks");
    for id in [range, table] {
        let counts = decoded.messages[id].ints.as_ref().expect("ints");
        for (k, f) in multiplicity_edits(counts).iter().enumerate() {
            let bad = edit(&proof, |p| f(p.messages[id].ints.as_mut().expect("ints")));
            let e = rejected(&model, &input, &bad, "multiplicities");
            assert!(is_lookup_final_mismatch(&e, "range"), "message {id}, edit {k}: {e:?}");

            // ... and with the transcript kept honest (a verifier transcript that absorbs the
            // honest column but shows the protocol the edited one), the LogUp goes through and
            // the opening of the multiplicities objects
            let shown = Proof::decode(&bad).expect("decodes");
            let run = spy_run(&model, &input, &proof, Some(&shown));
            let which = if id == range { "range" } else { "table" };
            let e = run.result.expect_err("edited multiplicities");
            let opening = |e: &VerifyError| {
                matches!(e, VerifyError::EvalMismatch { what, .. }
                    if *what == format!("{which} multiplicities"))
            };
            assert!(
                in_lookup(&e, which).is_some_and(opening),
                "message {id}, edit {k}, shown: {e:?}"
            );
        }
    }

    // a model with activations only: the activation LogUp is the first to object
    let model = two_tables();
    let input = zoo::random_input(&model, 9);
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    let (range, table) = multiplicity_messages(&model, &decoded);
    assert_eq!(range, None);
    let counts = decoded.messages[table].ints.as_ref().expect("ints");
    for (k, f) in multiplicity_edits(counts).iter().enumerate() {
        let bad = edit(&proof, |p| f(p.messages[table].ints.as_mut().expect("ints")));
        let e = rejected(&model, &input, &bad, "activation multiplicities");
        assert!(is_lookup_final_mismatch(&e, "table"), "edit {k}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. requantization: q ± 1, rem ∓ 2^k

#[test]
fn requant_quotient_off_by_one_is_caught_by_the_range_lookup() {
    for k in [9u32, 20, 37] {
        let (model, input, w, rq, p) = requant_setup(k, 0, -128, 127);
        let range_checks = model.layers[1].range_checks().len();
        let two_k = 1i128 << k;
        let slots: Vec<(i128, i128, Slot)> = p
            .iter()
            .map(|&pj| {
                let (q, rem) = rq.divide(pj);
                (q, rem, rq.slot(q, rem))
            })
            .collect();
        let inner = |s: &Slot| s.u > -127 && s.u < 126;

        // (a) q + 1, rem − 2^k < 0: no limb encoding of rem exists; b = 0, the output goes up by 1
        let j = slots.iter().position(|(_, _, s)| s.b == 0 && inner(s)).expect("a slot");
        let (q, rem, s) = slots[j];
        for encoding in ["top limb negative", "low limb negative"] {
            let mut cw = w.clone();
            let bad = rq.slot(q + 1, rem - two_k);
            assert_eq!((bad.y, bad.b), (s.y + 1, 0));
            write_slot(&model, &mut cw, 1, j, &bad);
            if encoding == "low limb negative" {
                let names = model.layers[1].columns();
                for (c, n) in names.iter().enumerate().filter(|(_, n)| group(n).0 == "rem") {
                    column_mut(&model, &mut cw, 1, c)[j] =
                        if group(n).1 == 0 { (rem - two_k) as i64 } else { 0 };
                }
            }
            assert_eq!(read_group(&model, &cw, 1, j, "rem"), rem - two_k);
            only_range_fails(&model, &cw, 1);
            assert_eq!(cw.output().data[j], w.output().data[j] + 1);
            let e = rejected(&model, &input, &cheat(&model, &cw), "q + 1");
            assert!(is_lookup_imbalance(&e, "range"), "k = {k}, q + 1 ({encoding}): {e:?}");
        }

        // (b) q − 1, rem + 2^k: fits the limbs, not the top limb's exact width; b = 1 → output − 1
        let j = slots.iter().position(|(_, _, s)| s.b == 1 && inner(s)).expect("a slot");
        let (q, rem, s) = slots[j];
        let mut cw = w.clone();
        let bad = rq.slot(q - 1, rem + two_k);
        assert_eq!((bad.y, bad.b), (s.y - 1, 1));
        write_slot(&model, &mut cw, 1, j, &bad);
        let rem_limbs: Vec<i64> = (0..model.layers[1].columns().len())
            .filter(|&c| group(model.layers[1].columns()[c]).0 == "rem")
            .map(|c| cw.columns(&model, 1)[c][j])
            .collect();
        assert!(rem_limbs.iter().all(|l| (0..1 << 16).contains(l)), "{rem_limbs:?}");
        // only the last range check (the top limb shifted to 16 bits) objects
        let what = only_range_fails(&model, &cw, 1);
        assert_eq!(what, format!("16-bit range check {}", range_checks - 1), "k = {k}");
        assert_eq!(cw.output().data[j], w.output().data[j] - 1);
        let e = rejected(&model, &input, &cheat(&model, &cw), "q − 1");
        assert!(is_lookup_imbalance(&e, "range"), "k = {k}, q − 1: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 7. a clamp that does not saturate

#[test]
fn a_clamp_that_passes_the_value_through_is_rejected() {
    let (model, input, w, rq, p) = requant_setup(20, 3, -30, 30);
    let slots: Vec<Slot> = p
        .iter()
        .map(|&pj| {
            let (q, rem) = rq.divide(pj);
            rq.slot(q, rem)
        })
        .collect();
    for above in [true, false] {
        let j = slots
            .iter()
            .position(|s| if above { s.s_hi == 1 } else { s.s_lo == 1 })
            .expect("a saturated slot");
        let mut bad = slots[j];
        bad.y = bad.u;
        if above {
            assert!(bad.u > rq.hi);
            (bad.s_hi, bad.e_hi) = (0, rq.hi - bad.u);
        } else {
            assert!(bad.u < rq.lo);
            (bad.s_lo, bad.e_lo) = (0, bad.u - rq.lo);
        }
        let mut cw = w.clone();
        write_slot(&model, &mut cw, 1, j, &bad);
        only_range_fails(&model, &cw, 1);
        assert_eq!(cw.output().data[j] as i128, bad.u);
        let e = rejected(&model, &input, &cheat(&model, &cw), "clamp passed through");
        assert!(is_lookup_imbalance(&e, "range"), "above = {above}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 8. one layer's entry from another layer's table

/// tanh(x) and sigmoid(x) of the input: two activation tables, nothing else.
fn two_tables() -> Model {
    let fs = zoo::all_activations();
    let mut b = Builder::new(vec![3, 12]);
    let s_in = 4.0 / 128.0;
    zoo::activation(&mut b, 0, fs[1], (s_in, 0)).expect("tanh"); // layer 0: tanh(x)
    zoo::activation(&mut b, 0, fs[0], (s_in, 0)).expect("sigmoid"); // layer 1: sigmoid(x)
    let model = b.finish("two-tables").expect("model");
    assert_eq!((model.layers[0].kind(), model.layers[1].kind()), ("tanh", "sigmoid"));
    model
}

#[test]
fn an_entry_from_another_layers_table_is_rejected() {
    let model = two_tables();
    let tanh = activation_table(model.layers[0].as_ref());
    let sigmoid = activation_table(model.layers[1].as_ref());
    let input = zoo::random_input(&model, 9);
    let w = model.forward(&input).expect("forward");
    honest(&model, &input);
    let j = (0..36)
        .find(|&j| {
            let x = (input.data[j] + 128) as usize;
            tanh[x] != sigmoid[x]
        })
        .expect("the tables differ somewhere");
    let x = (input.data[j] + 128) as usize;

    // the output (sigmoid) entry taken from the tanh table
    let mut cw = w.clone();
    cw.tensors[2].data[j] = tanh[x] as i64;
    let e = model.check(&cw).expect_err("mock prover");
    assert_eq!((e.layer, e.what.as_str()), (1, "table lookup"));
    let err = rejected(&model, &input, &cheat(&model, &cw), "entry from another table");
    assert!(is_lookup_imbalance(&err, "table"), "{err:?}");

    // both layers' entries swapped: the multiset of untagged (x, y) pairs is unchanged, so
    // only the layer tag tells the lookups apart
    let mut cw = w.clone();
    cw.tensors[1].data[j] = sigmoid[x] as i64;
    cw.tensors[2].data[j] = tanh[x] as i64;
    let pairs = |w: &Witness| {
        let mut v: Vec<(i64, i64)> = (1..=2)
            .flat_map(|t| input.data.iter().copied().zip(w.tensors[t].data.iter().copied()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(pairs(&cw), pairs(&w));
    assert!(model.check(&cw).is_err());
    let err = rejected(&model, &input, &cheat(&model, &cw), "swapped tables");
    assert!(is_lookup_imbalance(&err, "table"), "{err:?}");
}

// ---------------------------------------------------------------------------------------------
// 9. bytes

/// dense → requant (ReLU) → SiLU → add → dense → requant: every layer kind, small.
fn small_model() -> Model {
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let mut b = Builder::new(vec![2, 6]);
    let w1 = (0..6 * 5).map(|_| rng.gen_range(-127i8..=127)).collect();
    let bias = (0..5).map(|_| rng.gen_range(-500..=500)).collect();
    let h = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: w1,
                features: 5,
                bias,
            },
            Rescale { m: &[0.004], zero: -128, relu: true },
        )
        .expect("dense");
    let s = 0.05;
    let act = zoo::activation(&mut b, h, zoo::all_activations()[5], (s, -128)).expect("silu");
    let (sum, _, z) = zoo::add(&mut b, (h, s, -128), act).expect("add");
    let w2 = (0..5 * 3).map(|_| rng.gen_range(-127i8..=127)).collect();
    let bias = (0..3).map(|_| rng.gen_range(-500..=500)).collect();
    b.dense(
        DenseSpec {
            input: sum,
            in_dims: b.dims(sum),
            input_zero: z,
            weights: w2,
            features: 3,
            bias,
        },
        Rescale { m: &[0.003], zero: 0, relu: false },
    )
    .expect("dense");
    b.finish("small").expect("model")
}

#[test]
fn flipped_truncated_and_extended_bytes_are_rejected_without_panics() {
    let model = small_model();
    let input = zoo::random_input(&model, 5);
    let proof = honest(&model, &input);
    let n = proof.len();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    // 10 000 uniform positions, plus every byte outside the range multiplicities (whose
    // 65 536 one-byte varints dominate the proof)
    let decoded = Proof::decode(&proof).expect("decodes");
    let range = message_index_of(&decoded, &MULTIPLICITY_LABELS, 1 << 16);
    let before: usize = 6 + decoded.messages[..range]
        .iter()
        .map(|m| Proof { messages: vec![m.clone()] }.encode().len() - 6)
        .sum::<usize>();
    let range_end =
        before + Proof { messages: vec![decoded.messages[range].clone()] }.encode().len() - 6;
    let mut flips: Vec<(usize, u8)> =
        (0..10_000).map(|_| (rng.gen_range(0..n), 1u8 << rng.gen_range(0..8))).collect();
    flips.extend(
        (0..n)
            .filter(|&i| i < before + 8 || i >= range_end)
            .map(|i| (i, 1u8 << rng.gen_range(0..8))),
    );
    assert!(flips.len() > 10_000 + 5_000, "{} flips, proof of {n} bytes", flips.len());

    let check = |bytes: &[u8], what: String| never_accepted(&model, &input, bytes, &what);
    flips_never_accepted(&model, &input, &proof, &flips);

    for _ in 0..300 {
        let len = rng.gen_range(0..n);
        check(&proof[..len], format!("truncated to {len} bytes"));
    }
    for len in [0, 1, 5, 6, 7, n - 1] {
        check(&proof[..len], format!("truncated to {len} bytes"));
    }
    for extra in 1..=40 {
        let mut bytes = proof.clone();
        bytes.extend((0..extra).map(|_| rng.gen::<u8>()));
        let e = gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &bytes)
            .expect_err("appended bytes");
        assert_eq!(e, VerifyError::TrailingBytes { offset: n, remaining: extra }, "+{extra}");
    }
    // a second honest proof appended
    let mut twice = proof.clone();
    twice.extend_from_slice(&proof);
    assert!(matches!(
        gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &twice),
        Err(VerifyError::TrailingBytes { .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// 10. transcript binding

/// A verifier transcript that reads and absorbs the proof it was built on but hands the
/// protocol the messages of `shown` (when given), and logs every challenge.
struct Spy<'a> {
    inner: FiatShamirVerifier<'a>,
    shown: Option<&'a Proof>,
    received: usize,
    challenges: Vec<(Label, Fp)>,
    /// How many challenges were drawn before each message was received.
    before: Vec<usize>,
}

impl<'a> Spy<'a> {
    fn new(absorbed: &'a [u8], shown: Option<&'a Proof>) -> Self {
        let inner = FiatShamirVerifier::new(gkr::PROTOCOL, absorbed).expect("header");
        Self { inner, shown, received: 0, challenges: Vec::new(), before: Vec::new() }
    }

    fn next_shown(&mut self) -> Option<&'a gkrnet::proof::Message> {
        self.before.push(self.challenges.len());
        self.received += 1;
        self.shown.and_then(|p| p.messages.get(self.received - 1))
    }
}

impl Transcript for Spy<'_> {
    fn append_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.inner.append_bytes(label, bytes);
    }

    fn append_fields(&mut self, label: Label, xs: &[Fp]) {
        self.inner.append_fields(label, xs);
    }

    fn challenge(&mut self, label: Label) -> Fp {
        let c = self.inner.challenge(label);
        self.challenges.push((label, c));
        c
    }
}

impl VerifierTranscript for Spy<'_> {
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let got = self.inner.receive(label, len)?;
        Ok(match self.next_shown() {
            Some(m) if m.ints.is_none() && m.values.len() == got.len() => m.values.clone(),
            _ => got,
        })
    }

    fn receive_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        let got = self.inner.receive_ints(label, len)?;
        Ok(match self.next_shown().and_then(|m| m.ints.as_ref()) {
            Some(ints) if ints.len() == got.len() => ints.clone(),
            _ => got,
        })
    }
}

struct Run {
    result: Result<Tensor, VerifyError>,
    challenges: Vec<(Label, Fp)>,
    before: Vec<usize>,
}

/// Runs the verifier over a transcript that absorbs `absorbed` and shows the protocol `shown`.
fn spy_run(model: &Model, input: &Tensor, absorbed: &[u8], shown: Option<&Proof>) -> Run {
    let mut spy = Spy::new(absorbed, shown);
    let result = gkr::verify(model, input, &gkr::VerifyOptions::default(), &mut spy);
    let Spy { inner, challenges, before, .. } = spy;
    let result = result.and_then(|out| inner.finish().map(|()| out));
    Run { result, challenges, before }
}

fn first_challenges(run: &Run, label: Label, from: usize, n: usize) -> Vec<Fp> {
    let start = run.challenges[from..].iter().position(|(l, _)| *l == label).expect(label) + from;
    run.challenges[start..start + n].iter().map(|(_, c)| *c).collect()
}

#[test]
fn statement_output_advice_and_multiplicities_are_absorbed_before_the_first_challenge() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let w = model.forward(&input).expect("forward");
    let mut p = Recording::new(FiatShamirProver::new(gkr::PROTOCOL));
    gkr::prove(&model, &w.tensors[0], &gkr::ProveOptions::default().with_witness(&w), &mut p)
        .expect("honest");
    let proof = p.inner.into_proof().encode();
    let mut v = Recording::new(FiatShamirVerifier::new(gkr::PROTOCOL, &proof).expect("header"));
    gkr::verify(&model, &input, &gkr::VerifyOptions::default(), &mut v).expect("honest");
    v.inner.finish().expect("whole proof read");

    // the advice the statement fixes: every layer's columns, then both multiplicities
    let advice: Vec<usize> = (0..model.layers.len())
        .flat_map(|i| vec![layout_len(&model, i); model.layers[i].columns().len()])
        .collect();
    let activations = model.layers.iter().filter(|l| l.table_lookup().is_some()).count();

    let bound = [labels::GKR_OUTPUT, labels::GKR_ADVICE, labels::GKR_MULTIPLICITIES];
    for (side, log) in [("prover", &p.events), ("verifier", &v.events)] {
        let first = log.iter().position(|e| matches!(e, Event::Challenge(_))).expect("challenge");
        assert_eq!(log[first], Event::Challenge(labels::GKR_OUTPUT_POINT), "{side}");
        let head = &log[..first];
        let at = |e: Event| head.iter().position(|x| *x == e);
        let statement = [labels::GKR_PROTOCOL, labels::GKR_MODEL, labels::GKR_INPUT]
            .map(|l| at(Event::Append(l)).unwrap_or_else(|| panic!("{side}: {l} not absorbed")));
        assert!(statement.windows(2).all(|p| p[0] < p[1]), "{side}: statement order");
        let messages: Vec<(Label, usize)> = head
            .iter()
            .filter_map(|e| match e {
                Event::Send(l, n) | Event::Receive(l, n) => Some((*l, *n)),
                _ => None,
            })
            .collect();
        let out_len = layout_len(&model, model.layers.len() - 1);
        let mut expected = vec![(labels::GKR_OUTPUT, out_len)];
        expected.extend(advice.iter().map(|&n| (labels::GKR_ADVICE, n)));
        let (columns, multiplicities) = messages.split_at(expected.len());
        assert_eq!(columns, expected, "{side}: output and columns before the first challenge");
        let lens: Vec<usize> = multiplicities.iter().map(|&(_, n)| n).collect();
        assert_eq!(lens, [1 << 16, 256 * activations], "{side}: multiplicities");
        assert!(multiplicities.iter().all(|(l, _)| MULTIPLICITY_LABELS.contains(l)), "{side}");
        // the statement comes first
        let first_message =
            head.iter().position(|e| matches!(e, Event::Send(..) | Event::Receive(..)));
        assert!(first_message.is_some_and(|m| statement[2] < m), "{side}: statement after output");
        // and none of them again after it
        let late = log[first..].iter().any(|e| match e {
            Event::Send(l, _) | Event::Receive(l, _) => bound.contains(l),
            Event::Append(l) => {
                [labels::GKR_PROTOCOL, labels::GKR_MODEL, labels::GKR_INPUT].contains(l)
            }
            Event::Challenge(_) => false,
        });
        assert!(!late, "{side}: statement, output or advice after the first challenge");
    }
    // the verifier mirrors the prover, event by event
    let mirrored: Vec<Event> = p
        .events
        .iter()
        .map(|e| match e {
            Event::Send(l, n) => Event::Receive(l, *n),
            e => e.clone(),
        })
        .collect();
    assert_eq!(mirrored, v.events);
}

#[test]
fn every_prover_message_changes_the_next_challenge() {
    // For each message, a verifier transcript absorbs a tampered copy but the protocol is shown
    // the honest one: every check before the next challenge passes as in the honest run, so the
    // next challenge is drawn, and it must differ: the message was absorbed before it.
    for model in [small_model(), zoo::mlp_act()] {
        let input = zoo::random_input(&model, 5);
        let proof = honest(&model, &input);
        let decoded = Proof::decode(&proof).expect("decodes");
        let base = spy_run(&model, &input, &proof, None);
        assert!(base.result.is_ok());
        assert_eq!(base.before.len(), decoded.messages.len());
        let same = spy_run(&model, &input, &proof, Some(&decoded));
        assert_eq!(same.challenges, base.challenges);
        let mut followed = 0;
        for (m, &c) in base.before.iter().enumerate() {
            let bad = edit(&proof, |p| match &mut p.messages[m].ints {
                Some(ints) => ints[0] ^= 1,
                None => p.messages[m].values[0] += Fp::from(1u64),
            });
            let run = spy_run(&model, &input, &bad, Some(&decoded));
            assert_eq!(run.challenges[..c], base.challenges[..c], "message {m}");
            if c < base.challenges.len() {
                assert!(run.challenges.len() > c, "message {m}: the next challenge was not drawn");
                assert_eq!(run.challenges[c].0, base.challenges[c].0);
                assert_ne!(
                    run.challenges[c].1,
                    base.challenges[c].1,
                    "{}: message {m} ({}) is not absorbed before challenge {c} ({})",
                    model.name,
                    decoded.messages[m].label(),
                    base.challenges[c].0
                );
                followed += 1;
            }
        }
        // only the last message (the first dense layer's matmul evaluations) has no challenge
        // after it
        assert_eq!(followed, decoded.messages.len() - 1, "{}", model.name);
        let last = decoded.messages.last().expect("messages").label();
        assert_eq!(last, labels::SUMCHECK_FINAL_EVALS);
    }
}

/// Small (δ₀, δ₁), |δᵢ| < 2^61, with δ₀ ≡ c·δ₁ (mod p), from the extended Euclidean algorithm on
/// (p, c): every remainder rᵢ ≡ tᵢ·c, and rᵢ·|tᵢ₊₁| ≤ p.
fn short_relation(c: Fp) -> Option<(i128, i128)> {
    let bound = 1i128 << 61;
    let (mut r0, mut r1) = (MODULUS as i128, to_u128(&c) as i128);
    let (mut t0, mut t1) = (0i128, 1i128);
    while r1 >= bound {
        let q = r0 / r1;
        (r0, r1) = (r1, r0 - q * r1);
        (t0, t1) = (t1, t0.checked_sub(q.checked_mul(t1)?)?);
    }
    (r1 != 0 && t1.abs() < bound).then_some((r1, t1))
}

/// Coefficients eq(r, j) of each entry in the MLE of a tensor of these dimensions at r.
fn entry_weights(dims: &[usize], r: &[Fp]) -> Vec<Fp> {
    let len: usize = dims.iter().product();
    (0..len)
        .map(|j| {
            let mut unit = vec![0; len];
            unit[j] = 1;
            Tensor { dims: dims.to_vec(), data: unit }.evaluate(r)
        })
        .collect()
}

/// Two entries to change by (δ₀, δ₁) without changing the MLE at r.
fn invisible_change(weights: &[Fp]) -> (usize, usize, i128, i128) {
    for j0 in 0..weights.len() {
        for j1 in j0 + 1..weights.len() {
            // δ₀·e₀ + δ₁·e₁ = 0 ⟸ δ₀ = c·δ₁ with c = −e₁/e₀
            let c = -weights[j1] / weights[j0];
            if let Some((d0, d1)) = short_relation(c) {
                let sum = from_i64(d0 as i64) * weights[j0] + from_i64(d1 as i64) * weights[j1];
                assert_eq!(sum, Fp::from(0u64));
                return (j0, j1, d0, d1);
            }
        }
    }
    panic!("no short relation between any two entries");
}

#[test]
fn an_output_chosen_after_the_output_point_is_rejected() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    let base = spy_run(&model, &input, &proof, None);
    let honest_out = base.result.clone().expect("honest");
    let out_vars = Layout::new(model.output_dims()).num_vars();
    let r = first_challenges(&base, labels::GKR_OUTPUT_POINT, 0, out_vars);

    // y′ ≠ y with ỹ′(r) = ỹ(r) (two entries moved by up to 2^61; outputs are i64 messages)
    let (j0, j1, d0, d1) = invisible_change(&entry_weights(&honest_out.dims, &r));
    let mut forged = honest_out.clone();
    forged.data[j0] += d0 as i64;
    forged.data[j1] += d1 as i64;
    assert_ne!(forged, honest_out);
    assert_eq!(forged.evaluate(&r), honest_out.evaluate(&r));
    let mut shown = decoded.clone();
    shown.messages[0].ints = Some(forged.data.clone());

    // had the output not been absorbed before r, the forged output would be accepted:
    let blind = spy_run(&model, &input, &proof, Some(&shown));
    assert_eq!(blind.result, Ok(forged.clone()), "the forgery is only stopped by absorption");
    // the real verifier absorbs y′, draws r′ ≠ r and rejects
    let bad = shown.encode();
    let real = spy_run(&model, &input, &bad, None);
    let r2 = first_challenges(&real, labels::GKR_OUTPUT_POINT, 0, r.len());
    assert_ne!(r2, r);
    let e = rejected(&model, &input, &bad, "adaptive output");
    assert!(is_output_opening_mismatch(&e, model.layers.len() - 1), "{e:?}");
    assert_eq!(real.result, Err(e));
}

#[test]
fn advice_chosen_after_the_zero_check_point_is_rejected() {
    // The `par` column of the last requantization is opened only at that layer's zero-check
    // point. A prover choosing it after that point could break its bit relation on two entries
    // and keep its MLE there; binding it before every challenge stops this.
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    let base = spy_run(&model, &input, &proof, None);
    let last = model.layers.len() - 1;
    let vars = Layout::new(model.output_dims()).num_vars();
    // layers are proved from the last: its zero-check is the first one
    let gamma = base.challenges.iter().position(|(l, _)| *l == labels::GKR_ZC_GAMMA).expect("γ");
    let mut point = first_challenges(&base, labels::SUMCHECK_CHALLENGE, gamma, vars);
    point.reverse(); // the first round binds the top variable
    let (j0, j1, d0, d1) = invisible_change(&entry_weights(model.output_dims(), &point));

    // the column's message: the output is message 0, then layers' columns in order
    let before: usize = (0..last).map(|i| model.layers[i].columns().len()).sum();
    let par = 1 + before + column_id(&model, last, "par");
    let mut shown = decoded.clone();
    let col = shown.messages[par].ints.as_mut().expect("ints");
    assert!(col.iter().all(|&b| b == 0 || b == 1), "par is a bit column");
    col[j0] += d0 as i64;
    col[j1] += d1 as i64;
    assert!(col[j0] > 1 || col[j0] < 0, "par is no longer a bit");

    let blind = spy_run(&model, &input, &proof, Some(&shown));
    assert!(blind.result.is_ok(), "unbound, the broken column passes: {:?}", blind.result);
    let bad = shown.encode();
    let real = spy_run(&model, &input, &bad, None);
    let differ = real.challenges.iter().zip(&base.challenges).position(|(a, b)| a != b);
    assert_eq!(differ, Some(0), "every challenge from the output point on changes");
    assert_eq!(real.challenges[0].0, labels::GKR_OUTPUT_POINT);
    // the output check still holds (y is unchanged); the range LogUp, made for the old
    // challenges, is the first to fail
    let e = rejected(&model, &input, &bad, "adaptive advice");
    assert!(is_lookup_final_mismatch(&e, "range"), "{e:?}");
}

// ---------------------------------------------------------------------------------------------
// Range checks over inputs, public coefficients and constants

/// y = x (committed), with the range checks y − lower[j] − 1 ∈ [0, 2^16) (a public coefficient
/// table and a negative constant, which counts on valid slots only: padded slots would hold −1)
/// and x + 200 − y ∈ [0, 2^16) (an input).
#[derive(Debug)]
struct Floor {
    inputs: Vec<usize>,
    dims: Vec<usize>,
    lower: Vec<i64>,
}

impl gkrnet::circuit::Layer for Floor {
    fn kind(&self) -> &'static str {
        "floor"
    }

    fn inputs(&self) -> &[usize] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    /// A layer kind of the test's own: its canonical bytes are its lower bounds.
    fn spec(&self) -> gkrnet::circuit::LayerSpec {
        let bytes = self.lower.iter().flat_map(|v| v.to_le_bytes()).collect();
        gkrnet::circuit::LayerSpec::Custom { kind: "floor", bytes }
    }

    fn forward(
        &self,
        inputs: &[&Tensor],
    ) -> Result<gkrnet::circuit::LayerWitness, gkrnet::circuit::ModelError> {
        let output = Tensor::new(self.dims.clone(), inputs[0].data.clone())?;
        Ok(gkrnet::circuit::LayerWitness { output, advice: Vec::new() })
    }

    fn constraints(&self) -> Option<&dyn gkrnet::circuit::Constraints> {
        Some(self)
    }
}

impl gkrnet::circuit::Constraints for Floor {
    fn coefficients(&self) -> Vec<Vec<i64>> {
        vec![self.lower.clone()]
    }

    fn range_checks(&self) -> Vec<gkrnet::circuit::Lin> {
        use gkrnet::circuit::{Lin, Var};
        let (y, x) = (Lin::var(Var::Col(0)), Lin::var(Var::In(0)));
        vec![y.clone().minus(&Lin::var(Var::Coef(0))).add_const(-1), x.minus(&y).add_const(200)]
    }
}

#[test]
fn range_checks_read_coefficients_inputs_and_constants() {
    // dimensions 3×5 (padded 4×8): padded slots must look up 0, not the constant −1
    let dims = vec![3, 5];
    let lower: Vec<i64> = (0..15).map(|j| j * 3 - 20).collect();
    let model = Model::new(
        "floor",
        dims.clone(),
        vec![Box::new(Floor { inputs: vec![0], dims: dims.clone(), lower: lower.clone() })],
    )
    .expect("model");
    let data: Vec<i64> = lower.iter().map(|&l| (l + 7).clamp(-128, 127)).collect();
    let input = Tensor::new(dims.clone(), data).unwrap();
    honest(&model, &input);
    let w = model.forward(&input).unwrap();
    // y on its floor (y − 1 ≥ 0, so only the coefficient term catches it)
    let j = (0..15).find(|&j| lower[j] >= 1).unwrap();
    let mut cw = w.clone();
    cw.tensors[1].data[j] = lower[j];
    assert!(model.check(&cw).unwrap_err().what.starts_with("16-bit range check 0"));
    let e = rejected(&model, &input, &cheat(&model, &cw), "y below its floor");
    assert!(matches!(&e, VerifyError::Lookup { which: "range", .. }), "y below its floor: {e:?}");
    // y more than 200 above x: the input and the constant enter the second check
    let mut cw = w.clone();
    cw.tensors[1].data[j] = input.data[j] + 201;
    assert!(model.check(&cw).unwrap_err().what.starts_with("16-bit range check 1"));
    let e = rejected(&model, &input, &cheat(&model, &cw), "y above x + 200");
    assert!(matches!(&e, VerifyError::Lookup { which: "range", .. }), "y above x + 200: {e:?}");
}
