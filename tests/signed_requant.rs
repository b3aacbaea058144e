//! Requantization with signed per-element multipliers (`Multiplier::Signed`, multiplier tag 3):
//! a rotary embedding's y = round((a₁·(x − z) + a₂·(x_π − z))/2^k) + z_out with a₁ ∝ cos and
//! a₂ ∝ ∓sin of either sign, x_π the half swap of x (a Take).
//! * completeness: the proven output equals a scalar reference on every element;
//! * soundness: an output one off (everything after it recomputed) is rejected; the honest proof
//!   against a model with one multiplier's sign flipped is rejected (the digest differs too);
//!   byte flips are never accepted;
//! * the record round-trips; a signed multiplier beyond i32 in a record is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

mod common;

use common::model::{cheat, flips_never_accepted, honest, prove_and_verify, recompute_after};
use gkrnet::circuit::requant::{Multiplier, Scaled};
use gkrnet::circuit::take::Take;
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{Model, RequantKind, RequantSpec, Tensor};
use rand::Rng;

const DIMS: [usize; 2] = [3, 8];
const K: u32 = 20;

fn model(a1: &[i32], a2: &[i32], z: i64) -> Model {
    let len = a1.len();
    let mut b = Builder::new(DIMS.to_vec());
    let perm: Vec<usize> = (0..len).map(|e| e - e % 8 + (e % 8 + 4) % 8).collect();
    let rot = b.push(Take::flat(0, &DIMS, &DIMS, perm).unwrap());
    let offsets = (0..len).map(|e| -(i64::from(a1[e]) + i64::from(a2[e])) * z).collect();
    let scaled = vec![
        Scaled { tensor: 0, multiplier: Multiplier::Signed(a1.to_vec()), bound: 128 },
        Scaled { tensor: rot, multiplier: Multiplier::Signed(a2.to_vec()), bound: 128 },
    ];
    let spec = RequantSpec {
        kind: RequantKind::Add,
        scaled,
        offset: 0,
        offsets,
        k: K,
        zero: 3,
        lo: -128,
        hi: 127,
        dims: DIMS.to_vec(),
    };
    b.requant_layer(spec).unwrap();
    b.finish("signed requant").unwrap()
}

fn multipliers(seed: u64) -> (Vec<i32>, Vec<i32>) {
    let mut rng = common::rng(seed);
    // |a|/2^k up to about 0.7: outputs within int8 for int8 inputs, some clamped
    let mut draw = || (0..24).map(|_| rng.gen_range(-700_000..=700_000)).collect();
    (draw(), draw())
}

#[test]
fn signed_multipliers_prove_and_are_enforced() {
    let z = -5i64;
    let (a1, a2) = multipliers(90);
    let m = model(&a1, &a2, z);
    assert!(m.layers[1].spec().summary().contains("a signed per element"));
    let mut rng = common::rng(91);
    let x =
        Tensor::new(DIMS.to_vec(), (0..24).map(|_| rng.gen_range(-128..=127)).collect()).unwrap();
    let w = prove_and_verify(&m, &x, "signed");
    for e in 0..24 {
        let r = e - e % 8 + (e % 8 + 4) % 8;
        let p = i128::from(a1[e]) * i128::from(x.data[e] - z)
            + i128::from(a2[e]) * i128::from(x.data[r] - z);
        // round half to even of p / 2^k
        let (q, rem) = (p.div_euclid(1 << K), p.rem_euclid(1 << K));
        let half = 1i128 << (K - 1);
        let q = if rem > half || (rem == half && q % 2 != 0) { q + 1 } else { q };
        let want = (q + 3).clamp(-128, 127) as i64;
        assert_eq!(w.output().data[e], want, "element {e}: P = {p}");
    }
    // an output one off, everything after it recomputed
    let mut bad = w.clone();
    let at = (0..24).find(|&e| (-120..120).contains(&w.output().data[e])).unwrap();
    bad.tensors[2].data[at] += 1;
    recompute_after(&m, &mut bad, 1);
    common::model::never_accepted(&m, &x, &cheat(&m, &bad), "output + 1");
    // the honest proof against a model with one sign flipped
    let proof = honest(&m, &x);
    let mut flipped = a2.clone();
    let j = (0..24).find(|&e| flipped[e] != 0).unwrap();
    flipped[j] = -flipped[j];
    let other = model(&a1, &flipped, z);
    assert_ne!(other.digest(), m.digest());
    common::model::never_accepted(&other, &x, &proof, "a flipped sign");
    let flips = common::model::random_flips(92, proof.len(), 200);
    flips_never_accepted(&m, &x, &proof, &flips);
    // the record: round trip; a multiplier beyond i32 refused
    let bytes = m.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!((back.digest(), back.encode()), (m.digest(), bytes.clone()));
    let needle: Vec<u8> = a1[..2].iter().flat_map(|&a| i64::from(a).to_le_bytes()).collect();
    let pos = bytes.windows(16).position(|w| w == needle.as_slice()).expect("the multipliers");
    let mut bad = bytes.clone();
    bad[pos..pos + 8].copy_from_slice(&(1i64 << 40).to_le_bytes());
    assert!(Model::decode(&bad).is_err(), "a signed multiplier beyond i32");
}
