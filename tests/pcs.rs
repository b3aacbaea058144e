//! The Basefold-style PCS (issue 10): honest openings verify for many seeds and sizes; wrong
//! points and values, tampered paths, leaves, roots and folds, a cheating commit far from the
//! code, a commit whose rows encode another table, too few query answers, other parameters and
//! byte flips are rejected, each with the error that names it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::edit;

use ark_ff::Field;
use gkrnet::error::{PcsError, VerifyError};
use gkrnet::field::{from_i64, Fp};
use gkrnet::pcs::basefold::{self, Commitment, Committed, Params};
use gkrnet::poly::evaluate_padded;
use gkrnet::proof::Proof;
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const P: &str = "gkrnet pcs tests";
const SMALL: Params = Params { rate_log: 2, queries: 20, fold_log: 3, pow_bits: 8 };

fn table(rng: &mut ChaCha20Rng, n: usize) -> Vec<Fp> {
    (0..1usize << n).map(|_| from_i64(rng.gen_range(-128..128))).collect()
}

fn point(rng: &mut ChaCha20Rng, n: usize) -> Vec<Fp> {
    (0..n).map(|_| from_i64(rng.gen_range(-1_000_000..1_000_000))).collect()
}

/// An honest proof: commitments sent, then the opening.
fn prove(polys: &[&Committed], z: &[Fp]) -> Vec<u8> {
    let mut t = FiatShamirProver::new(P);
    for p in polys {
        basefold::send_commitment(&mut t, &p.commitment);
    }
    basefold::open(polys, z, &mut t).unwrap();
    t.into_proof().encode()
}

fn check(
    n: usize,
    count: usize,
    z: &[Fp],
    values: &[Fp],
    params: Params,
    proof: &[u8],
) -> Result<Vec<Commitment>, VerifyError> {
    let mut t = FiatShamirVerifier::new(P, proof)?;
    let cs: Vec<Commitment> =
        (0..count).map(|_| basefold::receive_commitment(&mut t, n)).collect::<Result<_, _>>()?;
    basefold::verify(&cs, z, values, params, &mut t)?;
    t.finish()?;
    Ok(cs)
}

#[test]
fn honest_openings_verify_for_many_seeds_and_sizes() {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let mut runs = 0;
    for seed in 0..200u64 {
        let n = (seed % 13) as usize;
        let count = 1 + (seed % 3) as usize;
        let polys: Vec<Committed> =
            (0..count).map(|_| basefold::commit(table(&mut rng, n), SMALL).unwrap()).collect();
        let refs: Vec<&Committed> = polys.iter().collect();
        let z = point(&mut rng, n);
        let proof = prove(&refs, &z);
        let values: Vec<Fp> = polys.iter().map(|p| p.evaluate(&z)).collect();
        check(n, count, &z, &values, SMALL, &proof).unwrap_or_else(|e| panic!("n {n}: {e}"));
        runs += 1;
    }
    assert_eq!(runs, 200);
}

#[test]
fn large_tables_verify_with_both_parameter_sets() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    // every size between the many-seed test's and the large ones below, both parameter sets
    for n in 13..=19 {
        let params = if n % 2 == 0 { Params::PROVABLE } else { Params::CONJECTURED };
        let t = table(&mut rng, n);
        let c = basefold::commit(t.as_slice(), params).unwrap();
        let z = point(&mut rng, n);
        let proof = prove(&[&c], &z);
        check(n, 1, &z, &[evaluate_padded(&t, &z)], params, &proof).unwrap();
    }
}

/// One honest opening of a table of 2^n values verifies (`benches/pcs.rs` times the same sizes:
/// `cargo bench --bench pcs -- basefold`).
fn honest_large(n: usize, params: Params, seed: u64) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = table(&mut rng, n);
    let z = point(&mut rng, n);
    let y = evaluate_padded(&t, &z);
    let c = basefold::commit(t.as_slice(), params).unwrap();
    let proof = prove(&[&c], &z);
    check(n, 1, &z, &[y], params, &proof).unwrap_or_else(|e| panic!("2^{n} {params:?}: {e}"));
}

#[test]
fn honest_opening_at_2_20_provable() {
    honest_large(20, Params::PROVABLE, 20);
}

#[test]
fn honest_opening_at_2_21_conjectured() {
    honest_large(21, Params::CONJECTURED, 21);
}

#[test]
fn honest_opening_at_2_22_provable() {
    honest_large(22, Params::PROVABLE, 22);
}

fn setup(n: usize, seed: u64) -> (Vec<Fp>, Committed, Vec<Fp>, Fp, Vec<u8>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = table(&mut rng, n);
    let c = basefold::commit(t.as_slice(), SMALL).unwrap();
    let z = point(&mut rng, n);
    let y = evaluate_padded(&t, &z);
    let proof = prove(&[&c], &z);
    (t, c, z, y, proof)
}

fn pcs_error(r: Result<Vec<Commitment>, VerifyError>) -> PcsError {
    match r {
        Err(VerifyError::Pcs(e)) => e,
        other => panic!("expected a PCS error, got {other:?}"),
    }
}

#[test]
fn a_wrong_value_is_rejected_at_the_first_round() {
    let (_, _, z, y, proof) = setup(8, 3);
    assert!(check(8, 1, &z, &[y], SMALL, &proof).is_ok());
    assert_eq!(
        pcs_error(check(8, 1, &z, &[y + Fp::from(1u64)], SMALL, &proof)),
        PcsError::RoundSumMismatch { round: 0 }
    );
}

#[test]
fn a_wrong_point_is_rejected_by_the_sumcheck() {
    // the point is absorbed: the round polynomials no longer chain under the new challenges
    let (_, _, z, y, proof) = setup(8, 3);
    let mut z2 = z.clone();
    z2[3] += Fp::from(1u64);
    assert_eq!(
        pcs_error(check(8, 1, &z2, &[y], SMALL, &proof)),
        PcsError::RoundSumMismatch { round: 1 }
    );
}

#[test]
fn differing_parameters_are_named() {
    let (_, _, z, y, proof) = setup(8, 3);
    for (params, what, expected, got) in [
        (Params { queries: 19, ..SMALL }, "queries", 19, 20),
        (Params { queries: 21, ..SMALL }, "queries", 21, 20),
        (Params { rate_log: 1, ..SMALL }, "rate_log", 1, 2),
        (Params { fold_log: 2, ..SMALL }, "fold_log", 2, 3),
        (Params { pow_bits: 7, ..SMALL }, "pow_bits", 7, 8),
        (Params { pow_bits: 0, ..SMALL }, "pow_bits", 0, 8),
    ] {
        assert_eq!(
            pcs_error(check(8, 1, &z, &[y], params, &proof)),
            PcsError::ParamsMismatch { what, expected, got },
            "{params:?}"
        );
    }
    // a table of another size, another number of tables
    assert_eq!(
        pcs_error(check(7, 1, &z[..7], &[y], SMALL, &proof)),
        PcsError::ParamsMismatch { what: "num_vars", expected: 7, got: 8 }
    );
    let (_, _, z2, y2, proof2) = setup(8, 3);
    let mut t = FiatShamirVerifier::new(P, &proof2).unwrap();
    let c = basefold::receive_commitment(&mut t, 8).unwrap();
    assert_eq!(
        basefold::verify(&[c, c], &z2, &[y2, y2], SMALL, &mut t),
        Err(PcsError::ParamsMismatch { what: "tables", expected: 2, got: 1 }.into())
    );
}

#[test]
fn statements_that_do_not_fit_and_parameters_the_verifier_cannot_run_are_rejected() {
    let (_, _, z, y, proof) = setup(8, 3);
    let c = Commitment { root: [0; 32], num_vars: 8 };
    let verify = |cs: &[Commitment], z: &[Fp], v: &[Fp], params| {
        let mut t = FiatShamirVerifier::new(P, &proof).unwrap();
        basefold::verify(cs, z, v, params, &mut t)
    };
    for params in [
        Params { rate_log: 2, queries: 20, fold_log: 0, pow_bits: 0 },
        Params { rate_log: 2, queries: 20, fold_log: 9, pow_bits: 0 },
        Params { rate_log: 2, queries: 0, fold_log: 3, pow_bits: 0 },
        Params { rate_log: 9, queries: 20, fold_log: 3, pow_bits: 0 },
        Params { pow_bits: Params::MAX_POW_BITS + 1, ..SMALL },
    ] {
        assert!(
            matches!(
                verify(&[c], &z, &[y], params),
                Err(VerifyError::Pcs(PcsError::UnsupportedParams { .. }))
            ),
            "{params:?}"
        );
    }
    assert_eq!(verify(&[], &z, &[], SMALL), Err(PcsError::NoCommitments.into()));
    let wrong = |r| matches!(r, Err(VerifyError::Pcs(PcsError::WrongLength { .. })));
    assert!(wrong(verify(&[c], &z[..7], &[y], SMALL)), "a short point");
    assert!(wrong(verify(&[c], &z, &[y, y], SMALL)), "a value too many");
    let c7 = Commitment { num_vars: 7, ..c };
    assert!(wrong(verify(&[c, c7], &z, &[y, y], SMALL)), "tables of two sizes");
}

/// Issue 17, finding 5: rate 1 (rate_log 0) makes every word a codeword, so the queries would test
/// nothing. The verifier refuses it itself, before reading a message, for plain and weighted
/// openings alike (not only the proof-file decoder).
#[test]
fn rate_one_is_refused_as_a_vacuous_proximity_test() {
    let (_, _, z, y, proof) = setup(8, 3);
    let rate_one = Params { rate_log: 0, ..SMALL };
    let refused =
        PcsError::UnsupportedParams { rate_log: 0, queries: 20, fold_log: 3, num_vars: 8 };
    let mut t = FiatShamirVerifier::new(P, &proof).unwrap();
    let c = basefold::receive_commitment(&mut t, 8).unwrap();
    assert_eq!(basefold::verify(&[c], &z, &[y], rate_one, &mut t), Err(refused.clone().into()));
    let mut t = FiatShamirVerifier::new(P, &proof).unwrap();
    let c = basefold::receive_commitment(&mut t, 8).unwrap();
    let tail = |_: &[Fp]| Vec::new();
    assert_eq!(basefold::verify_weighted(&[c], &[y], rate_one, &mut t, tail), Err(refused.into()));
}

/// The indices of the messages labelled `label`.
fn messages(proof: &[u8], label: &'static str) -> Vec<usize> {
    let tag = gkrnet::transcript::label_tag(label);
    let p = Proof::decode(proof).unwrap();
    (0..p.messages.len()).filter(|&i| p.messages[i].tag == tag).collect()
}

/// The table size of the tamper tests: under SMALL, three committed codewords (folds of 8) and a
/// final polynomial of 2^7 values.
const N: usize = 16;

#[test]
fn the_tamper_tests_fold_three_codewords() {
    let s = SMALL.schedule(N);
    assert_eq!((s.groups, s.final_vars), (vec![3, 3, 3], 7));
}

#[test]
fn every_element_of_every_message_is_checked() {
    let (_, _, z, y, proof) = setup(N, 4);
    let decoded = Proof::decode(&proof).unwrap();
    for (i, m) in decoded.messages.iter().enumerate() {
        let len = m.len();
        for j in [0, len / 2, len.saturating_sub(1)] {
            let bad = edit(&proof, |p| {
                let m = &mut p.messages[i];
                match (&mut m.ints, &mut m.bytes) {
                    (Some(ints), _) => ints[j] = ints[j].wrapping_add(1),
                    (None, Some(bytes)) => bytes[j] ^= 1,
                    (None, None) => m.values[j] += Fp::from(1u64),
                }
            });
            assert!(check(N, 1, &z, &[y], SMALL, &bad).is_err(), "message {i} element {j}");
        }
    }
}

#[test]
fn a_tampered_leaf_is_caught_by_its_path() {
    // each opened leaf is sent once (sorted); a changed value no longer hashes up to its cap node
    let (_, _, z, y, proof) = setup(N, 4);
    let pairs = messages(&proof, labels::PCS_PAIRS);
    assert_eq!(pairs.len(), 3);
    for (round, &m) in pairs.iter().enumerate() {
        let len = Proof::decode(&proof).unwrap().messages[m].values.len();
        for at in [0, len / 2, len - 1] {
            let bad = edit(&proof, |p| p.messages[m].values[at] += Fp::from(1u64));
            let e = pcs_error(check(N, 1, &z, &[y], SMALL, &bad));
            assert!(
                matches!(e, PcsError::PathMismatch { round: r, table: 0, .. } if r == round),
                "round {round}, value {at}: {e:?}"
            );
        }
    }
}

#[test]
fn tampered_paths_and_caps_are_caught() {
    // a hashes message is the cap (16 nodes: ⌊log₂ 20⌋ = 4 levels) then the shared siblings
    let (_, _, z, y, proof) = setup(N, 4);
    for (round, &m) in messages(&proof, labels::PCS_PAIRS).iter().enumerate() {
        let hashes = m + 1;
        let len = Proof::decode(&proof).unwrap().messages[hashes].len();
        assert!(len > 16 * 32);
        for at in [16 * 32, 16 * 32 + 31, len / 2, len - 1] {
            let bad = edit(&proof, |p| p.messages[hashes].bytes.as_mut().unwrap()[at] ^= 0x10);
            let e = pcs_error(check(N, 1, &z, &[y], SMALL, &bad));
            assert!(
                matches!(e, PcsError::PathMismatch { round: r, table: 0, .. } if r == round),
                "round {round}, byte {at}: {e:?}"
            );
        }
        for at in [0, 40, 16 * 32 - 1] {
            let bad = edit(&proof, |p| p.messages[hashes].bytes.as_mut().unwrap()[at] ^= 1);
            assert_eq!(
                pcs_error(check(N, 1, &z, &[y], SMALL, &bad)),
                PcsError::CapMismatch { round, table: 0 }
            );
        }
    }
}

#[test]
fn a_nonce_without_the_work_is_rejected_and_the_nonce_binds_the_queries() {
    // grinding (8 bits under SMALL): the nonce is checked against a seed drawn after the final
    // polynomial, and absorbed before the query positions
    let (_, _, z, y, proof) = setup(N, 4);
    let pow = messages(&proof, labels::PCS_POW);
    assert_eq!(pow.len(), 1);
    let honest = Proof::decode(&proof).unwrap().messages[pow[0]].ints.clone().unwrap()[0];
    let with_nonce = |n: i64| {
        check(
            N,
            1,
            &z,
            &[y],
            SMALL,
            &edit(&proof, |p| p.messages[pow[0]].ints.as_mut().unwrap()[0] = n),
        )
    };
    // the prover sends the least nonce that works, so every smaller one fails; so does a negative
    for bad in [-1, 0, honest / 2, honest - 1].into_iter().filter(|&b| b < honest) {
        assert_eq!(pcs_error(with_nonce(bad)), PcsError::PowMismatch { bits: 8 }, "nonce {bad}");
    }
    // another nonce that does the work (found by asking the verifier) passes the check, but it
    // draws other query positions, where the honest leaves and paths no longer fit
    let (other, e) = (honest + 1..)
        .map(|n| (n, with_nonce(n).unwrap_err()))
        .find(|(_, e)| !matches!(e, VerifyError::Pcs(PcsError::PowMismatch { .. })))
        .unwrap();
    assert!(
        matches!(e, VerifyError::MessageLength { label: labels::PCS_HASHES, .. })
            || matches!(e, VerifyError::Pcs(PcsError::PathMismatch { .. })),
        "nonce {other}: {e:?}"
    );
}

#[test]
fn grinding_finds_the_least_nonce_with_the_work() {
    for (seed, bits) in [([7u8; 16], 0), ([1u8; 16], 4), ([2u8; 16], 12)] {
        let n = basefold::grind(&seed, bits);
        assert!(basefold::pow_holds(&seed, n, bits));
        assert!((0..n).all(|m| !basefold::pow_holds(&seed, m, bits)), "{bits} bits: {n}");
    }
}

/// A weighted opening of one table under SMALL: Σ w·t for a random w, and w's MLE on the final
/// cube for the verifier.
fn weighted(n: usize, seed: u64) -> (Vec<Fp>, Fp, Vec<u8>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = table(&mut rng, n);
    let c = basefold::commit(t.as_slice(), SMALL).unwrap();
    let w: Vec<Fp> = (0..1usize << n).map(|_| Fp::from(rng.gen::<u64>())).collect();
    let sum: Fp = w.iter().zip(&t).map(|(a, b)| *a * b).sum();
    let mut tr = FiatShamirProver::new(P);
    basefold::send_commitment(&mut tr, &c.commitment);
    basefold::open_weighted(&[&c], w.clone(), &[sum], &mut tr).unwrap();
    (w, sum, tr.into_proof().encode())
}

/// w's MLE at (r, b) for every b of the cube left after r.
fn cube(w: &[Fp], r: &[Fp]) -> Vec<Fp> {
    let n = w.len().trailing_zeros() as usize;
    (0..1usize << (n - r.len()))
        .map(|b| {
            let x: Vec<Fp> = r
                .iter()
                .copied()
                .chain((0..n - r.len()).map(|j| Fp::from(((b >> j) & 1) as u64)))
                .collect();
            evaluate_padded(w, &x)
        })
        .collect()
}

fn check_weighted(n: usize, w: &[Fp], sum: Fp, proof: &[u8]) -> Result<(), VerifyError> {
    let mut t = FiatShamirVerifier::new(P, proof)?;
    let c = basefold::receive_commitment(&mut t, n)?;
    basefold::verify_weighted(&[c], &[sum], SMALL, &mut t, |r| cube(w, r))?;
    t.finish()
}

#[test]
fn weighted_openings_verify_and_a_wrong_sum_or_weight_is_rejected() {
    for (n, seed) in [(0, 1), (3, 2), (9, 3), (N, 4)] {
        let (w, sum, proof) = weighted(n, seed);
        check_weighted(n, &w, sum, &proof).unwrap_or_else(|e| panic!("n {n}: {e}"));
        if n == 0 {
            continue;
        }
        // a wrong sum: the first round no longer sums to it
        let e = check_weighted(n, &w, sum + Fp::from(1u64), &proof).unwrap_err();
        assert_eq!(e, PcsError::RoundSumMismatch { round: 0 }.into(), "n {n}");
        // the verifier's weights differ in one entry: the final check fails
        let mut w2 = w.clone();
        w2[w.len() - 1] += Fp::from(1u64);
        let e = check_weighted(n, &w2, sum, &proof).unwrap_err();
        assert_eq!(e, PcsError::FinalSumMismatch.into(), "n {n}");
        // weights on a cube of the wrong size
        let mut t = FiatShamirVerifier::new(P, &proof).unwrap();
        let c = basefold::receive_commitment(&mut t, n).unwrap();
        let e = basefold::verify_weighted(&[c], &[sum], SMALL, &mut t, |_| vec![Fp::from(1u64)]);
        if SMALL.schedule(n).final_vars > 0 {
            assert!(matches!(e, Err(VerifyError::Pcs(PcsError::WrongLength { .. }))), "{e:?}");
        }
    }
    // every element of every message is checked
    let (w, sum, proof) = weighted(N, 4);
    let decoded = Proof::decode(&proof).unwrap();
    for (i, m) in decoded.messages.iter().enumerate() {
        let bad = edit(&proof, |p| {
            let m = &mut p.messages[i];
            match (&mut m.ints, &mut m.bytes) {
                (Some(ints), _) => ints[0] = ints[0].wrapping_add(1),
                (None, Some(bytes)) => bytes[0] ^= 1,
                (None, None) => m.values[0] += Fp::from(1u64),
            }
        });
        assert!(check_weighted(N, &w, sum, &bad).is_err(), "message {i} ({})", m.label());
    }
}

#[test]
fn a_path_error_names_the_query_under_the_failing_cap_node() {
    // a single opened leaf per tree (one query): the error names query 0 in every codeword
    let one = Params { rate_log: 2, queries: 1, fold_log: 3, pow_bits: 0 };
    let mut rng = ChaCha20Rng::seed_from_u64(12);
    let t = table(&mut rng, 12);
    let c = basefold::commit(t.as_slice(), one).unwrap();
    let z = point(&mut rng, 12);
    let y = evaluate_padded(&t, &z);
    let proof = prove(&[&c], &z);
    for (round, &m) in messages(&proof, labels::PCS_PAIRS).iter().enumerate() {
        let bad = edit(&proof, |p| p.messages[m].values[0] += Fp::from(1u64));
        assert_eq!(
            pcs_error(check(12, 1, &z, &[y], one, &bad)),
            PcsError::PathMismatch { query: 0, round, table: 0 }
        );
    }
}

#[test]
fn tampered_roots_change_the_challenges() {
    // every root is absorbed before the challenges that follow it, so a changed root is caught by
    // the first sumcheck round whose challenge it changed: the commitment's at round 1 (round 0's
    // sum does not depend on a challenge), the folded codewords' after their groups of 3 rounds
    let (_, _, z, y, proof) = setup(N, 4);
    let roots = messages(&proof, labels::PCS_HASHES);
    let params = messages(&proof, labels::PCS_PARAMS)[0];
    let finale = messages(&proof, labels::PCS_FINAL)[0];
    let in_opening: Vec<usize> =
        roots.iter().copied().filter(|&m| m > params && m < finale).collect();
    assert_eq!(in_opening.len(), 2);
    for (m, round) in [(roots[0], 1), (in_opening[0], 4), (in_opening[1], 7)] {
        let bad = edit(&proof, |p| p.messages[m].bytes.as_mut().unwrap()[31] ^= 0x80);
        assert_eq!(
            pcs_error(check(N, 1, &z, &[y], SMALL, &bad)),
            PcsError::RoundSumMismatch { round },
            "message {m}"
        );
    }
}

#[test]
fn a_root_that_does_not_hold_the_opened_table_is_caught_by_the_cap() {
    // the prover opens another table under the root the verifier holds: the transcripts agree
    // (both absorb that root), the sumcheck holds (for the other table's value), the cap does not
    let (_, c, z, _, _) = setup(N, 4);
    let mut rng = ChaCha20Rng::seed_from_u64(40);
    let mut other = basefold::commit(table(&mut rng, N), SMALL).unwrap();
    other.commitment.root = c.commitment.root;
    let y = other.evaluate(&z);
    let proof = prove(&[&other], &z);
    assert_eq!(
        pcs_error(check(N, 1, &z, &[y], SMALL, &proof)),
        PcsError::CapMismatch { round: 0, table: 0 }
    );
}

#[test]
fn a_folded_codeword_that_does_not_hold_the_fold_is_caught() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let t = table(&mut rng, N);
    let c = basefold::commit(t.as_slice(), SMALL).unwrap();
    let z = point(&mut rng, N);
    for round in [1, 2] {
        let mut tr = FiatShamirProver::new(P);
        basefold::send_commitment(&mut tr, &c.commitment);
        basefold::open_tampered_for_tests(&[&c], &z, &mut tr, |r, cw| {
            if r == round {
                cw.iter_mut().for_each(|v| *v += Fp::from(1u64));
            }
        })
        .unwrap();
        let proof = tr.into_proof().encode();
        assert_eq!(
            pcs_error(check(N, 1, &z, &[evaluate_padded(&t, &z)], SMALL, &proof)),
            PcsError::FoldMismatch { query: 0, round }
        );
    }
}

#[test]
fn a_wrong_final_polynomial_is_caught() {
    let (_, _, z, y, proof) = setup(N, 4);
    let fin = messages(&proof, labels::PCS_FINAL)[0];
    for at in [0, 77, 127] {
        let bad = edit(&proof, |p| p.messages[fin].values[at] += Fp::from(1u64));
        assert_eq!(pcs_error(check(N, 1, &z, &[y], SMALL, &bad)), PcsError::FinalSumMismatch);
    }
}

#[test]
fn too_few_answers_or_a_missing_message_are_caught() {
    let (_, _, z, y, proof) = setup(N, 4);
    let last_pairs = *messages(&proof, labels::PCS_PAIRS).last().unwrap();
    let bad = edit(&proof, |p| p.messages[last_pairs].values.truncate(10));
    assert!(matches!(
        check(N, 1, &z, &[y], SMALL, &bad),
        Err(VerifyError::MessageLength { label: labels::PCS_PAIRS, got: 10, .. })
    ));
    let bad = edit(&proof, |p| {
        p.messages.remove(last_pairs);
    });
    assert!(matches!(
        check(N, 1, &z, &[y], SMALL, &bad),
        Err(VerifyError::UnexpectedMessage { expected: labels::PCS_PAIRS, .. })
    ));
}

#[test]
fn a_commitment_far_from_the_code_is_caught() {
    // the prover commits to an arbitrary word (not a codeword) and opens honestly from the table
    // it claims; the queries catch the inconsistency
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let n = 8;
    let t = table(&mut rng, n);
    for trial in 0..5 {
        let cheat = basefold::commit_word_for_tests(&t, SMALL, |word| {
            for (i, w) in word.iter_mut().enumerate() {
                if (i + trial) % 3 == 0 {
                    *w += Fp::from(1u64 + i as u64);
                }
            }
        });
        let z = point(&mut rng, n);
        let proof = prove(&[&cheat], &z);
        let e = pcs_error(check(n, 1, &z, &[evaluate_padded(&t, &z)], SMALL, &proof));
        assert!(matches!(e, PcsError::FinalFoldMismatch { .. }), "trial {trial}: {e:?}");
    }
}

#[test]
fn committed_rows_that_encode_another_table_are_caught() {
    // the committed word is kept as 2^a rows (row l encodes P_l, P(X) = Σ Xˡ·P_l(X^(2^a))). A
    // cheater commits a genuine codeword of another table: two rows swapped (the table's entries
    // l0 + 2^a·m and l1 + 2^a·m exchanged), or one row plus the codeword of a random message
    // (entries l1 + 2^a·m changed). It then opens the table it claims at the true value.
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let a = SMALL.schedule(N).groups[0];
    let row_code = gkrnet::pcs::ReedSolomon::new(1 << (N - a), SMALL.rate_log).unwrap();
    let row = row_code.codeword_len();
    for trial in 0..6usize {
        let t = table(&mut rng, N);
        let (l0, l1) = (trial % (1 << a), (trial + 1 + trial / 2) % (1 << a));
        let swapped = basefold::commit_word_for_tests(&t, SMALL, |word| {
            for j in 0..row {
                word.swap(l0 * row + j, l1 * row + j);
            }
        });
        let delta_message = table(&mut rng, N - a);
        let delta = row_code.encode(&delta_message);
        let shifted = basefold::commit_word_for_tests(&t, SMALL, |word| {
            word[l1 * row..(l1 + 1) * row].iter_mut().zip(&delta).for_each(|(w, d)| *w += d);
        });
        // both words are the honest commitments of the other tables
        let mut other = t.clone();
        for m in 0..1usize << (N - a) {
            other.swap(l0 + (m << a), l1 + (m << a));
        }
        assert_eq!(basefold::commit(other, SMALL).unwrap().commitment, swapped.commitment);
        let mut other = t.clone();
        for (m, d) in delta_message.iter().enumerate() {
            other[l1 + (m << a)] += d;
        }
        assert_eq!(basefold::commit(other, SMALL).unwrap().commitment, shifted.commitment);
        let z = point(&mut rng, N);
        let y = evaluate_padded(&t, &z);
        for (what, cheat) in [("rows swapped", &swapped), ("one row shifted", &shifted)] {
            let e = pcs_error(check(N, 1, &z, &[y], SMALL, &prove(&[cheat], &z)));
            assert!(
                matches!(e, PcsError::FoldMismatch { .. } | PcsError::FinalFoldMismatch { .. }),
                "trial {trial}, {what} (rows {l0}, {l1}): {e:?}"
            );
        }
    }
}

#[test]
fn values_chosen_after_the_batching_challenge_are_rejected() {
    // An adaptive cheater learns γ from the honest opening of two tables, then claims false
    // values with the same combination: y₁' + γ·y₂' = y₁ + γ·y₂. The honest proof would verify
    // for them if the values were not absorbed before γ; since they are, γ changes and the
    // combined claim fails at the first round.
    let mut rng = ChaCha20Rng::seed_from_u64(21);
    let n = 10;
    let (t1, t2) = (table(&mut rng, n), table(&mut rng, n));
    let c1 = basefold::commit(t1.as_slice(), SMALL).unwrap();
    let c2 = basefold::commit(t2.as_slice(), SMALL).unwrap();
    let z = point(&mut rng, n);
    let (y1, y2) = (c1.evaluate(&z), c2.evaluate(&z));
    let proof = prove(&[&c1, &c2], &z);
    // the first round's g(0) + g(1) is the combined claim y₁ + γ·y₂, which gives γ away
    let decoded = Proof::decode(&proof).unwrap();
    let first = &decoded.messages[messages(&proof, labels::PCS_ROUND)[0]].values;
    let gamma = (first[0] + first[1] - y1) * y2.inverse().unwrap();
    assert!(check(n, 2, &z, &[y1, y2], SMALL, &proof).is_ok());
    for k in 1..=4u64 {
        let delta = Fp::from(k * 7919);
        let forged = [y1 + gamma * delta, y2 - delta];
        assert_eq!(forged[0] + gamma * forged[1], y1 + gamma * y2);
        let e = pcs_error(check(n, 2, &z, &forged, SMALL, &proof));
        assert!(matches!(e, PcsError::RoundSumMismatch { round: 0 }), "δ = {k}·7919: {e:?}");
    }
}

#[test]
fn random_byte_flips_are_errors_never_panics() {
    let (_, _, z, y, proof) = setup(6, 6);
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    for _ in 0..1500 {
        let mut b = proof.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..b.len());
            b[i] ^= rng.gen_range(1..=255u8);
        }
        assert!(check(6, 1, &z, &[y], SMALL, &b).is_err());
    }
    for cut in [0, 1, 7, proof.len() / 2, proof.len() - 1] {
        assert!(check(6, 1, &z, &[y], SMALL, &proof[..cut]).is_err());
    }
}

/// The same PCS code over the network transcripts: the client's own coins, messages read live.
#[test]
fn openings_verify_interactively_over_tcp() {
    use gkrnet::net::{NetProver, NetVerifier};
    use std::io::{BufReader, BufWriter};
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let n = 10;
    let tables: Vec<Vec<Fp>> = (0..2).map(|_| table(&mut rng, n)).collect();
    let z = point(&mut rng, n);
    let values: Vec<Fp> = tables.iter().map(|t| evaluate_padded(t, &z)).collect();
    // a cheating prover opens another table than the one it committed to, with its true value
    let mut other = tables[1].clone();
    other[3] += Fp::from(1u64);
    for tamper in [false, true] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tables2, z2, other2) = (tables.clone(), z.clone(), other.clone());
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut p = NetProver::new(BufReader::new(s.try_clone().unwrap()), BufWriter::new(s));
            let mut polys: Vec<Committed> =
                tables2.iter().map(|t| basefold::commit(t.as_slice(), SMALL).unwrap()).collect();
            if tamper {
                let root = polys[1].commitment.root;
                polys[1] = basefold::commit(other2.as_slice(), SMALL).unwrap();
                basefold::send_commitment(&mut p, &polys[0].commitment);
                basefold::send_commitment(&mut p, &Commitment { root, num_vars: n });
            } else {
                for c in &polys {
                    basefold::send_commitment(&mut p, &c.commitment);
                }
            }
            let refs: Vec<&Committed> = polys.iter().collect();
            basefold::open(&refs, &z2, &mut p).unwrap();
            let _ = p.finish();
        });
        let stream = std::net::TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut v = NetVerifier::new(stream).unwrap();
        let result = (|| -> Result<(), VerifyError> {
            let cs: Vec<Commitment> = (0..2)
                .map(|_| basefold::receive_commitment(&mut v, n))
                .collect::<Result<_, _>>()?;
            let values =
                if tamper { vec![values[0], evaluate_padded(&other, &z)] } else { values.clone() };
            basefold::verify(&cs, &z, &values, SMALL, &mut v)
        })();
        if tamper {
            // the opened table's codeword is not the one under the committed root
            assert_eq!(result, Err(PcsError::CapMismatch { round: 0, table: 1 }.into()));
        } else {
            result.unwrap();
            v.expect_end().unwrap();
            assert!(v.stats.challenges > n as u64);
        }
        drop(v);
        server.join().unwrap();
    }
}
