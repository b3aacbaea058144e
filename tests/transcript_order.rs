//! Invariant: every prover message, and the claim, is absorbed before the first challenge that
//! depends on it, and the verifier absorbs the same things in the same order as the prover.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::*;
use gkrnet::sumcheck::{self, Term};
use gkrnet::transcript::{labels, Event, FiatShamirProver, FiatShamirVerifier, Recording};

fn events() -> (Vec<Event>, Vec<Event>) {
    let mut rng = rng(3);
    let poly = random_instance(&mut rng, 5, 3, vec![Term::product(vec![0, 1, 2])]);
    let claimed_sum = poly.sum();
    let claim = poly.claim(claimed_sum);
    let mut p = Recording::new(FiatShamirProver::new(PROTOCOL));
    let out = sumcheck::prove(poly.clone(), claimed_sum, &mut p).unwrap();
    sumcheck::send_final_evals(&mut p, &out.final_evals);
    let proof = p.inner.into_proof().encode();
    let mut v = Recording::new(FiatShamirVerifier::new(PROTOCOL, &proof).unwrap());
    let eval = sumcheck::verify(&claim, &mut v).unwrap();
    sumcheck::verify_final_evals(poly.terms(), 3, &eval, &mut v).unwrap();
    (p.events, v.events)
}

#[test]
fn the_claim_is_absorbed_before_the_first_challenge() {
    let (prover, verifier) = events();
    for log in [&prover, &verifier] {
        let first_challenge = log.iter().position(|e| matches!(e, Event::Challenge(_))).unwrap();
        let claim_appends =
            log.iter().filter(|e| **e == Event::Append(labels::SUMCHECK_CLAIM)).count();
        assert_eq!(claim_appends, 3, "num_vars, degree and claimed sum");
        assert!(
            log[..first_challenge]
                .iter()
                .filter(|e| **e == Event::Append(labels::SUMCHECK_CLAIM))
                .count()
                == 3
        );
    }
}

#[test]
fn each_round_message_precedes_its_challenge_and_nothing_is_sent_twice_per_round() {
    let (prover, _) = events();
    // after the claim: Send(round), Challenge, Send(round), Challenge, …, Send(final evals)
    let body: Vec<&Event> = prover.iter().filter(|e| !matches!(e, Event::Append(_))).collect();
    assert_eq!(body.len(), 2 * 5 + 1);
    for pair in body[..10].chunks(2) {
        assert_eq!(*pair[0], Event::Send(labels::SUMCHECK_ROUND, 3));
        assert_eq!(*pair[1], Event::Challenge(labels::SUMCHECK_CHALLENGE));
    }
    assert_eq!(*body[10], Event::Send(labels::SUMCHECK_FINAL_EVALS, 3));
}

#[test]
fn the_verifier_mirrors_the_prover_event_by_event() {
    let (prover, verifier) = events();
    let mirrored: Vec<Event> = prover
        .into_iter()
        .map(|e| match e {
            Event::Send(l, n) => Event::Receive(l, n),
            e => e,
        })
        .collect();
    assert_eq!(mirrored, verifier);
}
