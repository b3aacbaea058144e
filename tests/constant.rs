//! A constant tensor of the model (`circuit::constant`, tag 29): the class token a Concat puts
//! before computed tokens. It sends nothing; the verifier evaluates its MLE from the record.
//! * completeness: a Concat of a constant row and the input proves, the output is both;
//! * soundness: the honest proof against a model whose constant differs in one value is
//!   rejected at the constant (its evaluation), and the digests differ; byte flips are never
//!   accepted; a record with values of another count is refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail loudly on broken fixtures"
)]

mod common;

use common::errors::in_layer;
use common::model::{
    cheat, flips_never_accepted, honest, prove_and_verify, recompute_after, rejected,
};
use gkrnet::circuit::concat::Concat;
use gkrnet::circuit::constant::Constant;
use gkrnet::circuit::zoo::Builder;
use gkrnet::circuit::{Model, Tensor};
use gkrnet::VerifyError;
use rand::Rng;

fn model(token: &[i8]) -> Model {
    let mut b = Builder::new(vec![1, 4, 8]);
    let c = b.push(Constant::new(&[1, 1, 8], token.to_vec()).unwrap());
    b.push(Concat::new(vec![c, 0], vec![vec![1, 1, 8], vec![1, 4, 8]], 1).unwrap());
    b.finish("class token").unwrap()
}

#[test]
fn a_constant_proves_and_is_the_verifiers_own() {
    let token: Vec<i8> = vec![3, -7, 0, 127, -128, 5, 9, -1];
    let m = model(&token);
    let mut rng = common::rng(95);
    let x =
        Tensor::new(vec![1, 4, 8], (0..32).map(|_| rng.gen_range(-128..=127)).collect()).unwrap();
    let w = prove_and_verify(&m, &x, "class token");
    let out = &w.output().data;
    assert_eq!(out[..8], token.iter().map(|&v| i64::from(v)).collect::<Vec<_>>()[..]);
    assert_eq!(out[8..], x.data[..]);
    // a prover that uses another constant (the output and everything after it consistent with
    // it): the verifier's own evaluation of the constant disagrees
    let mut bad = w.clone();
    bad.tensors[1].data[5] += 1;
    recompute_after(&m, &mut bad, 0);
    let e = rejected(&m, &x, &cheat(&m, &bad), "another constant");
    assert!(
        matches!(
            in_layer(&e, 0, "const"),
            Some(VerifyError::EvalMismatch { what: "a constant tensor", .. })
        ),
        "got {e}"
    );
    // the honest proof against a model with another constant: rejected
    let proof = honest(&m, &x);
    let mut other = token.clone();
    other[5] += 1;
    let m2 = model(&other);
    assert_ne!(m2.digest(), m.digest());
    common::model::never_accepted(&m2, &x, &proof, "another model's constant");
    let flips = common::model::random_flips(96, proof.len(), 200);
    flips_never_accepted(&m, &x, &proof, &flips);
    let bytes = m.encode();
    let back = Model::decode(&bytes).unwrap();
    assert_eq!((back.digest(), back.encode()), (m.digest(), bytes));
    assert!(Constant::new(&[1, 1, 8], vec![0; 7]).is_err(), "another count");
}
