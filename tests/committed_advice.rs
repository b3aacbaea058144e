//! Whole-model proofs with committed advice (issue 10): every advice column and both lookups'
//! multiplicities are committed as one Basefold table before the first challenge, every claim on
//! them is recorded, and one merged opening closes the proof (`gkr::committed`).
//!
//! Covered: honest proofs for many random models and the zoo under both parameter sets; a wrong
//! output with the proof remade; every layer of `mlp-act` tampered alone; a rebound input; other
//! weights; a proof verified under another mode or other parameters; byte flips, truncations and
//! appended bytes (never accepted, never a panic). The scheme's own cheaters (false openings,
//! non-zero padding written into the committed table, tampered messages, other parameters) are
//! unit tests in `src/gkr/committed.rs`; the PCS's are in `tests/pcs.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::errors::is_check;
use common::model::{cheat_mode, column_id, column_mut, recompute_after, rejected_mode};
use gkrnet::circuit::{zoo, Witness};
use gkrnet::gkr::{self, AdviceMode};
use gkrnet::transcript::FiatShamirProver;
use gkrnet::VerifyError;
use rand::Rng;

const MODE: AdviceMode = AdviceMode::PROVABLE;

#[test]
fn honest_committed_proofs_verify_for_many_models() {
    for seed in 0..16 {
        let mode = if seed % 2 == 0 { AdviceMode::PROVABLE } else { AdviceMode::CONJECTURED };
        let model = zoo::random_model(seed).expect("a random model");
        let input = zoo::random_input(&model, seed);
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(mode))
            .expect("honest prover");
        let out = gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::advice(mode), &p.proof);
        assert_eq!(out.as_ref(), Ok(&p.output), "{} under {}", model.name, mode.name());
    }
    for model in [zoo::mlp_act(), zoo::lenet5()] {
        let input = zoo::random_input(&model, 3);
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(MODE))
            .expect("honest prover");
        assert_eq!(
            gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::advice(MODE), &p.proof).as_ref(),
            Ok(&p.output)
        );
    }
    // lenet5's advice (2^16 committed entries with the range multiplicities) is large enough
    // that a conjectured-security opening is smaller than sending it
    let model = zoo::lenet5();
    let input = zoo::random_input(&model, 3);
    let committed =
        gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(AdviceMode::CONJECTURED))
            .expect("honest");
    let clear =
        gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).expect("honest prover");
    assert_eq!(clear.output, committed.output);
    assert!(
        committed.proof.len() < clear.proof.len() * 3 / 4,
        "{} vs {}",
        committed.proof.len(),
        clear.proof.len()
    );
}

#[test]
fn output_off_by_one_with_the_proof_remade_is_rejected() {
    for seed in 0..8 {
        let model = zoo::random_model(seed).expect("model");
        let input = zoo::random_input(&model, seed);
        let mut w = model.forward(&input).expect("forward");
        let out = w.tensors.len() - 1;
        let j = seed as usize % w.tensors[out].data.len();
        let y = &mut w.tensors[out].data[j];
        *y += if *y < 127 { 1 } else { -1 };
        let e = rejected_mode(&model, &input, &cheat_mode(&model, &w, MODE), MODE, "output ± 1");
        assert!(is_check(&e), "{}: {e:?}", model.name);
    }
}

#[test]
fn every_layer_of_mlp_act_tampered_alone_is_rejected() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let honest = model.forward(&input).expect("forward");
    let mut checked = 0;
    for (i, layer) in model.layers.iter().enumerate() {
        let len = gkrnet::circuit::Layout::new(layer.output_dims()).len();
        let j = (5 * i + 3) % len;
        let mut edits: Vec<Witness> = Vec::new();
        match layer.kind() {
            "dense" => continue, // a false product cannot be phrased (model_soundness.rs)
            "requant" | "add" => {
                let mut w = honest.clone();
                let y = &mut w.tensors[i + 1].data[j];
                *y += if *y < 127 { 1 } else { -1 };
                recompute_after(&model, &mut w, i);
                edits.push(w);
                for col in ["b", "rem0"] {
                    let mut w = honest.clone();
                    let c = column_id(&model, i, col);
                    let v = &mut column_mut(&model, &mut w, i, c)[j];
                    *v = if col == "b" {
                        *v ^ 1
                    } else if *v > 0 {
                        *v - 1
                    } else {
                        1
                    };
                    edits.push(w);
                }
            }
            _ => {
                let mut w = honest.clone();
                let y = &mut w.tensors[i + 1].data[j];
                *y += if *y < 127 { 1 } else { -1 };
                recompute_after(&model, &mut w, i);
                edits.push(w);
            }
        }
        for w in edits {
            assert!(model.check(&w).is_err());
            let e =
                rejected_mode(&model, &input, &cheat_mode(&model, &w, MODE), MODE, layer.kind());
            assert!(is_check(&e), "layer {i} ({}): {e:?}", layer.kind());
            checked += 1;
        }
    }
    assert!(checked >= 6, "{checked} edits");
}

#[test]
fn rebound_input_other_weights_and_other_modes_are_rejected() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 1);
    let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(MODE)).expect("honest");
    let other_input = zoo::random_input(&model, 2);
    let e = rejected_mode(&model, &other_input, &p.proof, MODE, "another input");
    assert!(is_check(&e) || matches!(e, VerifyError::InvalidStatement { .. }), "{e:?}");
    // the same architecture with other weights: another digest, other challenges
    let other = zoo::random_model(1000).expect("model");
    assert!(gkr::verify_bytes(&other, &input, &gkr::VerifyOptions::advice(MODE), &p.proof).is_err());
    // another mode, or other parameters, on the verifier's side
    for mode in [
        AdviceMode::Clear,
        AdviceMode::CONJECTURED,
        AdviceMode::Committed(gkrnet::pcs::basefold::Params {
            queries: 123,
            ..gkrnet::pcs::basefold::Params::PROVABLE
        }),
        AdviceMode::Committed(gkrnet::pcs::basefold::Params {
            pow_bits: 15,
            ..gkrnet::pcs::basefold::Params::PROVABLE
        }),
    ] {
        rejected_mode(&model, &input, &p.proof, mode, &mode.name());
    }
    let clear = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).expect("honest");
    rejected_mode(&model, &input, &clear.proof, MODE, "a clear proof under the committed mode");
}

#[test]
fn flipped_truncated_and_extended_bytes_are_never_accepted() {
    let model = zoo::mlp_act();
    let input = zoo::random_input(&model, 4);
    let proof =
        gkr::prove_bytes(&model, &input, &gkr::ProveOptions::advice(AdviceMode::CONJECTURED))
            .expect("honest")
            .proof;
    let mut rng = common::rng(11);
    let run = |bytes: &[u8]| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            gkr::verify_bytes(
                &model,
                &input,
                &gkr::VerifyOptions::advice(AdviceMode::CONJECTURED),
                bytes,
            )
        }))
    };
    for k in 0..1500 {
        let mut bad = proof.clone();
        let i = rng.gen_range(0..bad.len());
        bad[i] ^= 1 << rng.gen_range(0..8);
        match run(&bad) {
            Ok(Ok(_)) => panic!("flip {k} at byte {i} accepted"),
            Ok(Err(_)) => {}
            Err(_) => panic!("flip {k} at byte {i}: the verifier panicked"),
        }
    }
    for cut in [0, 1, proof.len() / 3, proof.len() - 1] {
        assert!(matches!(run(&proof[..cut]), Ok(Err(_))), "truncated to {cut}");
    }
    let mut longer = proof.clone();
    longer.extend_from_slice(&[0, 1, 2]);
    assert!(matches!(run(&longer), Ok(Err(_))));
}

/// Issue 17, finding 5: both advice verifiers key what they hold about a column by its id; an
/// opening of that id under another layout of the same length (here [2, 3] bound, [3, 2] or [6]
/// asked) is refused by name, never evaluated against the bound layout's padding (the clear
/// verifier's cache of padded columns) or accepted under the asked one.
#[test]
fn an_advice_column_opened_under_another_layout_of_its_length_is_refused() {
    use gkrnet::circuit::Layout;
    use gkrnet::field::Fp;
    use gkrnet::poly::evaluate_padded;
    use gkrnet::transcript::{labels, FiatShamirVerifier};
    let bound = Layout::new(&[2, 3]);
    let data: Vec<i64> = vec![1, -2, 3, 40, 5, 600];
    let point: Vec<Fp> = (0..3).map(|i| Fp::from(7 + i as u64)).collect();
    for mode in [AdviceMode::Clear, AdviceMode::CONJECTURED] {
        let mut t = FiatShamirProver::new("layout test");
        let mut p = mode.prover();
        p.commit(&[(labels::GKR_ADVICE, &bound, &data)], &mut t).unwrap();
        let proof = t.into_proof().encode();
        for asked in [Layout::new(&[3, 2]), Layout::new(&[6])] {
            assert_eq!(asked.len(), bound.len());
            assert_eq!(asked.num_vars(), bound.num_vars());
            let mut t = FiatShamirVerifier::new("layout test", &proof).unwrap();
            let mut v = mode.verifier();
            v.receive(&[(labels::GKR_ADVICE, bound.clone())], &mut t).unwrap();
            let honest = evaluate_padded(&bound.pad_fp(&data), &point);
            let other = evaluate_padded(&asked.pad_fp(&data), &point);
            assert_ne!(honest, other);
            // first under the other layout, then (after an honest opening fills the cache) again
            let asked_first = v.check(0, &asked, &point, other, "test", &mut t);
            assert_eq!(asked_first, Err(VerifyError::AdviceLayout { id: 0 }), "{}", mode.name());
            v.check(0, &bound, &point, honest, "test", &mut t).unwrap();
            let asked_again = v.check(0, &asked, &point, other, "test", &mut t);
            assert_eq!(asked_again, Err(VerifyError::AdviceLayout { id: 0 }), "{}", mode.name());
        }
    }
}
