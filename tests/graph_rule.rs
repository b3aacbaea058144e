//! The graph rule (`gkr/routing.rs`): a tensor's claims are reduced only after every consumer
//! has emitted its claims. A virtual accumulator with three consumers gets all their claims
//! merged into one before its matrix product is reduced, once; a consumer whose output nothing
//! reads is still checked. (Two claims at one point, x·x, are kept apart: `tests/mul.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::{random_i8, random_int8_tensor, rng};
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{Dense, DenseSpec, Model, Multiplier, RequantSpec, TensorId};
use gkrnet::gkr::{self, ProveOptions, VerifyOptions, PROTOCOL};
use gkrnet::transcript::{labels, Event, FiatShamirProver, FiatShamirVerifier, Recording};
use gkrnet::VerifyError;

/// input [2, 8] → dense (virtual accumulator) → three requantizations of it → the product of
/// the first two, requantized. The third requantization's output is read by nothing.
fn three_consumers() -> (Model, [TensorId; 3]) {
    let mut r = rng(41);
    let mut b = Builder::new(vec![2, 8]);
    let spec = DenseSpec {
        input: 0,
        in_dims: vec![2, 8],
        input_zero: 0,
        weights: random_i8(&mut r, 8 * 6),
        features: 6,
        bias: vec![0; 6],
    };
    let acc = b.push(Dense::new(spec).unwrap());
    let mut requant = |a: u32| {
        let spec = RequantSpec::accumulator(acc, vec![2, 6], Multiplier::Tensor(a));
        b.requant_layer(RequantSpec { k: 12, ..spec }).unwrap()
    };
    let consumers = [requant(3), requant(5), requant(7)];
    b.mul((consumers[0], 0), (consumers[1], 0), 0.01, 0).unwrap();
    (b.finish("three consumers").unwrap(), consumers)
}

#[test]
fn a_tensor_with_three_consumers_has_all_their_claims_merged_before_its_reduction() {
    let (model, _) = three_consumers();
    let input = random_int8_tensor(&mut rng(42), &[2, 8]);
    let proof = gkr::prove_bytes(&model, &input, &ProveOptions::default()).unwrap();
    let mut v = Recording::new(FiatShamirVerifier::new(PROTOCOL, &proof.proof).unwrap());
    let out = gkr::verify(&model, &input, &VerifyOptions::default(), &mut v).unwrap();
    assert_eq!(out, proof.output);
    let events = &v.events;
    let position = |want: &dyn Fn(&Event) -> bool| -> Vec<usize> {
        events.iter().enumerate().filter(|(_, e)| want(e)).map(|(i, _)| i).collect()
    };
    // the merges: a count, then (point, value) per claim, in contiguous runs of appends
    let merge = position(&|e| *e == Event::Append(labels::MERGE_CLAIMS));
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for m in merge {
        match runs.last_mut() {
            Some(run) if run.last() == Some(&(m - 1)) => run.push(m),
            _ => runs.push(vec![m]),
        }
    }
    // the dense layer comes first, so it is reduced last: the last merge is its accumulator's,
    // after every zero-check of every consumer, and it holds all of their claims
    let last = runs.last().expect("the accumulator's claims are merged");
    let zero_checks =
        position(&|e| matches!(e, Event::Receive(l, _) if *l == labels::GKR_ZC_EVALS));
    assert!(zero_checks.len() >= 3, "the three consumers' zero-checks");
    assert!(zero_checks.iter().all(|&z| z < last[0]), "a consumer's claims came after the merge");
    let claims = (last.len() - 1) / 2;
    assert!(claims >= 3, "{claims} claims merged on the accumulator");
}

#[test]
fn a_consumer_that_nothing_reads_is_still_checked() {
    let (model, consumers) = three_consumers();
    let input = random_int8_tensor(&mut rng(43), &[2, 8]);
    let mut w = model.forward(&input).unwrap();
    let unread = consumers[2];
    let t = &mut w.tensors[unread];
    t.data[0] = if t.data[0] == 127 { 126 } else { t.data[0] + 1 };
    let mut p = FiatShamirProver::new(PROTOCOL);
    let opts = ProveOptions::default().with_witness(&w).unchecked();
    gkr::prove(&model, &input, &opts, &mut p).unwrap();
    let proof = p.into_proof().encode();
    let err = gkr::verify_bytes(&model, &input, &VerifyOptions::default(), &proof).unwrap_err();
    let layer = unread - 1;
    assert!(
        matches!(&err, VerifyError::Layer { layer: l, .. } if *l == layer)
            || matches!(&err, VerifyError::Lookup { .. }),
        "the unread consumer (layer {layer}) is checked: {err}"
    );
}
