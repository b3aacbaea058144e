//! Take (`circuit/take.rs`): entries taken along every axis by public index lists (slices with
//! any step, gathers with repeats, splits) prove and verify the naive result on int8 and virtual
//! inputs; a changed output is refused by the honest prover, every altered message and byte
//! flip is rejected, and the record round-trips while bad records are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

mod common;

use ark_ff::One;
use common::model::{flips_never_accepted, honest, never_accepted, prove_and_verify};
use common::{random_int8_tensor, rng};
use gkrnet::circuit::reduce::ReduceSum;
use gkrnet::circuit::take::{Take, TakeSpec};
use gkrnet::circuit::{zoo::Builder, LayerSpec, Model, Tensor};
use gkrnet::error::ProveError;
use gkrnet::field::Fp;
use gkrnet::gkr::{self, ProveOptions};
use gkrnet::proof::Proof;
use gkrnet::transcript::FiatShamirProver;
use rand::Rng;

/// out[i…] = x[idx_0[i_0], …] by coordinates.
fn naive_take(x: &Tensor, indices: &[Vec<usize>]) -> Tensor {
    let out_dims: Vec<usize> = indices.iter().map(Vec::len).collect();
    let len: usize = out_dims.iter().product();
    let data = (0..len)
        .map(|mut i| {
            let mut coords = vec![0; out_dims.len()];
            for a in (0..out_dims.len()).rev() {
                coords[a] = indices[a][i % out_dims[a]];
                i /= out_dims[a];
            }
            let src = coords.iter().zip(&x.dims).fold(0, |acc, (&c, &d)| acc * d + c);
            x.data[src]
        })
        .collect();
    Tensor::new(out_dims, data).unwrap()
}

fn cases() -> Vec<(Vec<usize>, Vec<Vec<usize>>)> {
    vec![
        (vec![6], vec![vec![5, 4, 3, 2, 1, 0]]),
        (vec![3, 5], vec![vec![0, 2], vec![1, 1, 4]]),
        (vec![2, 3, 5], vec![vec![1], vec![0, 1, 2], vec![4, 2, 0]]),
        (vec![4, 4], vec![vec![3, 0, 3], vec![0, 1, 2, 3]]),
        (vec![1, 7], vec![vec![0], vec![6]]),
        (vec![2, 2, 2], vec![vec![0, 1], vec![1, 0], vec![0, 0, 1, 1, 0]]),
    ]
}

fn take_model(dims: &[usize], indices: &[Vec<usize>]) -> Model {
    let mut b = Builder::new(dims.to_vec());
    b.push(Take::new(0, dims, indices.to_vec()).unwrap());
    b.finish("take").unwrap()
}

#[test]
fn takes_prove_and_verify_the_naive_result() {
    let mut r = rng(61);
    for (dims, indices) in cases() {
        let model = take_model(&dims, &indices);
        let x = random_int8_tensor(&mut r, &dims);
        let w = prove_and_verify(&model, &x, &format!("{dims:?} {indices:?}"));
        assert_eq!(w.output(), &naive_take(&x, &indices));
    }
    // a virtual input: the sums of [3, 4, 2] along its last axis, taken
    let mut b = Builder::new(vec![3, 4, 2]);
    let s = b.push(ReduceSum::new(0, &[3, 4, 2], 2).unwrap());
    b.push(Take::new(s, &[3, 4, 1], vec![vec![2, 0], vec![3, 3, 1], vec![0]]).unwrap());
    let model = b.finish("sum-take").unwrap();
    let x = random_int8_tensor(&mut r, &[3, 4, 2]);
    let w = prove_and_verify(&model, &x, "virtual input");
    assert_eq!(w.output(), &naive_take(&w.tensors[1], &[vec![2, 0], vec![3, 3, 1], vec![0]]));
}

#[test]
fn a_changed_output_is_refused_and_altered_messages_and_flips_are_rejected() {
    let mut r = rng(62);
    let (dims, indices) = (vec![4, 4], vec![vec![3, 0, 3], vec![0, 1, 2, 3]]);
    let model = take_model(&dims, &indices);
    let x = random_int8_tensor(&mut r, &dims);
    let mut w = model.forward(&x).unwrap();
    w.tensors[1].data[4] += 1;
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    let opts = ProveOptions::default().with_witness(&w).unchecked();
    assert_eq!(gkr::prove(&model, &x, &opts, &mut t), Err(ProveError::ClaimedSumMismatch));
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
    let flips: Vec<(usize, u8)> =
        (0..200).map(|_| (r.gen_range(0..proof.len()), 1u8 << r.gen_range(0..8))).collect();
    flips_never_accepted(&model, &x, &proof, &flips);
}

#[test]
fn the_record_round_trips_and_bad_records_are_refused() {
    let (dims, indices) = (vec![2, 3, 5], vec![vec![1], vec![0, 1, 2], vec![4, 2, 0]]);
    let model = take_model(&dims, &indices);
    let back = Model::decode(&model.encode()).unwrap();
    assert_eq!(back.digest(), model.digest());
    let spec = back.layers[0].spec();
    assert_eq!(spec.op::<TakeSpec>().unwrap().indices, indices);
    let bad = [
        TakeSpec { x: 0, x_dims: vec![2, 3], indices: vec![vec![0]] },
        TakeSpec { x: 0, x_dims: vec![2, 3], indices: vec![vec![0], vec![3]] },
        TakeSpec { x: 0, x_dims: vec![2, 3], indices: vec![vec![0], vec![]] },
    ];
    for s in bad {
        assert!(LayerSpec::Op(Box::new(s.clone())).build().is_err(), "{s:?}");
    }
}

#[test]
fn a_flat_map_proves_its_sources_and_refuses_bad_ones() {
    let mut r = rng(63);
    // out [2, 3] reads x [4] at 3, 3, 0, 1, 2, 3 (repeats, any order)
    let sources = vec![3, 3, 0, 1, 2, 3];
    let mut b = Builder::new(vec![4]);
    b.push(Take::flat(0, &[4], &[2, 3], sources.clone()).unwrap());
    let model = b.finish("flat").unwrap();
    let x = random_int8_tensor(&mut r, &[4]);
    let w = prove_and_verify(&model, &x, "flat");
    assert_eq!(w.output().data, sources.iter().map(|&s| x.data[s]).collect::<Vec<_>>());
    assert_eq!(Model::decode(&model.encode()).unwrap().digest(), model.digest());
    let mut bad = model.forward(&x).unwrap();
    bad.tensors[1].data[0] += 1;
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    let opts = ProveOptions::default().with_witness(&bad).unchecked();
    assert_eq!(gkr::prove(&model, &x, &opts, &mut t), Err(ProveError::ClaimedSumMismatch));
    assert!(Take::flat(0, &[4], &[2, 3], vec![0, 1, 2, 3, 4, 0]).is_err());
    assert!(Take::flat(0, &[4], &[2, 3], vec![0, 1]).is_err());
}
