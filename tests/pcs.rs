//! The Basefold-style PCS groundwork (issue 10): honest openings verify for many seeds and
//! sizes; wrong points and values, tampered paths, leaves, roots and folds, a cheating commit far
//! from the code, too few query answers, other parameters and byte flips are rejected.

use gkrnet::field::{from_i64, Fp};
use gkrnet::pcs::basefold::{self, Commitment, Committed, Params};
use gkrnet::poly::evaluate_padded;
use gkrnet::proof::Proof;
use gkrnet::transcript::{labels, FiatShamirProver, FiatShamirVerifier};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

const P: &str = "gkrnet pcs tests";
const SMALL: Params = Params { rate_log: 2, queries: 20, fold_log: 3 };

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
) -> Result<Vec<Commitment>, gkrnet::VerifyError> {
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
            (0..count).map(|_| basefold::commit(&table(&mut rng, n), SMALL).unwrap()).collect();
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
    for (n, params) in [(16, Params::PROVABLE), (18, Params::CONJECTURED)] {
        let t = table(&mut rng, n);
        let c = basefold::commit(&t, params).unwrap();
        let z = point(&mut rng, n);
        let proof = prove(&[&c], &z);
        check(n, 1, &z, &[evaluate_padded(&t, &z)], params, &proof).unwrap();
        println!("n = {n}, {params:?}: proof {} bytes", proof.len());
    }
}

fn setup(n: usize, seed: u64) -> (Vec<Fp>, Committed, Vec<Fp>, Fp, Vec<u8>) {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let t = table(&mut rng, n);
    let c = basefold::commit(&t, SMALL).unwrap();
    let z = point(&mut rng, n);
    let y = evaluate_padded(&t, &z);
    let proof = prove(&[&c], &z);
    (t, c, z, y, proof)
}

#[test]
fn wrong_points_values_and_parameters_are_rejected() {
    let (_, _, z, y, proof) = setup(8, 3);
    assert!(check(8, 1, &z, &[y], SMALL, &proof).is_ok());
    assert!(check(8, 1, &z, &[y + Fp::from(1u64)], SMALL, &proof).is_err(), "wrong value");
    let mut z2 = z.clone();
    z2[3] += Fp::from(1u64);
    assert!(check(8, 1, &z2, &[y], SMALL, &proof).is_err(), "wrong point");
    // parameters that differ from the prover's: fewer or more queries, another rate
    for params in [
        Params { rate_log: 2, queries: 19, fold_log: 3 },
        Params { rate_log: 2, queries: 21, fold_log: 3 },
        Params { rate_log: 1, queries: 20, fold_log: 3 },
        Params { rate_log: 2, queries: 20, fold_log: 2 },
    ] {
        assert!(check(8, 1, &z, &[y], params, &proof).is_err(), "{params:?}");
    }
    // a table of another size
    assert!(check(7, 1, &z[..7], &[y], SMALL, &proof).is_err());
}

/// Edits one message of an encoded proof.
fn edit(proof: &[u8], f: impl FnOnce(&mut Proof)) -> Vec<u8> {
    let mut p = Proof::decode(proof).unwrap();
    f(&mut p);
    p.encode()
}

#[test]
fn tampered_roots_paths_leaves_folds_and_answers_are_rejected() {
    let (_, _, z, y, proof) = setup(9, 4);
    let decoded = Proof::decode(&proof).unwrap();
    let tag = |l| gkrnet::transcript::label_tag(l);
    // every element of every message changed by one
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
            assert!(check(9, 1, &z, &[y], SMALL, &bad).is_err(), "message {i} element {j}");
        }
    }
    // too few query answers: the last pairs message cut short
    let last_pairs =
        decoded.messages.iter().rposition(|m| m.tag == tag(labels::PCS_PAIRS)).unwrap();
    let bad = edit(&proof, |p| {
        p.messages[last_pairs].values.truncate(10);
    });
    assert!(check(9, 1, &z, &[y], SMALL, &bad).is_err());
    // a message dropped
    let bad = edit(&proof, |p| {
        p.messages.remove(last_pairs);
    });
    assert!(check(9, 1, &z, &[y], SMALL, &bad).is_err());
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
        assert!(
            check(n, 1, &z, &[evaluate_padded(&t, &z)], SMALL, &proof).is_err(),
            "trial {trial}"
        );
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
    for tamper in [false, true] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tables2, z2) = (tables.clone(), z.clone());
        let server = std::thread::spawn(move || {
            let (s, _) = listener.accept().unwrap();
            let mut p = NetProver::new(BufReader::new(s.try_clone().unwrap()), BufWriter::new(s));
            let mut polys: Vec<Committed> =
                tables2.iter().map(|t| basefold::commit(t, SMALL).unwrap()).collect();
            if tamper {
                // the prover opens another table than the one it committed to
                let mut other = tables2[1].clone();
                other[3] += Fp::from(1u64);
                let root = polys[1].commitment.root;
                polys[1] = basefold::commit(&other, SMALL).unwrap();
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
        let result = (|| -> Result<(), gkrnet::VerifyError> {
            let cs: Vec<Commitment> = (0..2)
                .map(|_| basefold::receive_commitment(&mut v, n))
                .collect::<Result<_, _>>()?;
            basefold::verify(&cs, &z, &values, SMALL, &mut v)
        })();
        assert_eq!(result.is_ok(), !tamper, "{result:?}");
        if !tamper {
            v.expect_end().unwrap();
            assert!(v.stats.challenges > n as u64);
        }
        drop(v);
        server.join().unwrap();
    }
}
