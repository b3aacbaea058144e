//! The acceptance policy (`gkr::verify_file`) and what the model digest binds (issue 17, finding 1).
//!
//! Invariant: a verifier accepts a proof only for the key it holds (the model, or the stripped
//! model with a commitment's parameters and root) and, when it names one, only for the digest it
//! expects. The digest is the hash of the canonical encoding, so a key that differs in anything
//! that changes what the model computes has another digest; a prover whose layer shows the
//! honest encoding while computing something else is rejected by the proof itself.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::errors::{is_layer_final_mismatch, is_lookup_final_mismatch};
use gkrnet::circuit::{
    zoo, ClaimTarget, Dense, DenseSpec, Layer, LayerSpec, LayerWitness, Model, ModelError,
    Reduction, Tensor, TensorId, WeightCommitment,
};
use gkrnet::error::{ProveError, VerifyError};
use gkrnet::gkr::file::CommitmentFile;
use gkrnet::gkr::{self, AdviceMode, ModelCommitment, Policy, ProofFile, VerifierKey};
use gkrnet::pcs::basefold::Params;
use gkrnet::sumcheck::EvalClaim;
use gkrnet::transcript::{ProverTranscript, VerifierTranscript};

const P: Params = Params::CONJECTURED;
const ALLOW: Policy = Policy { allow_conjectured: true, expect_digest: None };

/// dense 256→128→256→10 with ReLU; the 128×256 layer (input zero point −128) is committed.
fn mlp() -> Model {
    zoo::mlp("mlp-accept", &[256, 128, 256, 10], 1, 7).expect("model")
}

/// The same model with `bias` added to the biases of dense layer `layer`.
fn with_bias_shift(model: &Model, layer: usize, shift: i32) -> Model {
    let layers: Vec<Box<dyn Layer>> = model
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let mut spec = l.spec();
            if i == layer {
                let dense = spec.op_mut::<DenseSpec>().expect("a dense layer");
                dense.bias.iter_mut().for_each(|b| *b += shift);
            }
            spec.build().expect("build")
        })
        .collect();
    Model::new(model.name.clone(), model.input_dims.clone(), layers).expect("model")
}

/// A committed dense layer (index 2 of `mlp()`: dense, requant, dense, …).
const COMMITTED: usize = 2;

/// An honest proof file for a commitment of `model`, and the verifier's key.
fn committed_proof(model: &Model, input: &Tensor) -> (ProofFile, VerifierKey) {
    let (prover, wp) = gkr::commit_model(model, P).expect("commit");
    let proof = gkr::prove_bytes(
        &prover,
        input,
        &gkr::ProveOptions::advice(AdviceMode::Clear).with_weights(&wp),
    )
    .expect("prove");
    let stripped = ModelCommitment::stripped(&prover).expect("stripped");
    let digest = gkr::committed_digest(&prover.digest(), &wp.commitment());
    let file = ProofFile {
        weights_root: Some(wp.commitment().root),
        ..ProofFile::new(digest, &proof.output, proof.proof)
    };
    (file, VerifierKey::Committed { model: stripped, commitment: wp.commitment() })
}

#[test]
fn honest_proof_files_verify_with_their_digest_root_and_input() {
    let model = mlp();
    let input = zoo::random_input(&model, 1);
    let want = model.forward(&input).unwrap().output().clone();
    // held whole
    let proof = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
    let file = ProofFile::new(model.digest(), &proof.output, proof.proof);
    let key = VerifierKey::Model(model);
    let policy = Policy { expect_digest: Some(key.digest()), ..ALLOW };
    let v = gkr::verify_file(&file, &key, &input, &policy).unwrap();
    assert_eq!((v.output, v.digest, v.root), (want.clone(), key.digest(), None));
    assert_eq!(
        v.input_digest,
        *blake3::hash(&gkrnet::transcript::ints_bytes(&input.data)).as_bytes()
    );
    // from a commitment: the key's digest covers the root
    let model = mlp();
    let (file, key) = committed_proof(&model, &input);
    let policy = Policy { expect_digest: Some(key.digest()), ..ALLOW };
    let v = gkr::verify_file(&file, &key, &input, &policy).unwrap();
    assert_eq!((v.output, v.root), (want, key.commitment().map(|c| c.root)));
    assert_ne!(key.digest(), model.digest());
    assert_ne!(key.digest(), key.model().digest());
}

/// The attack of finding 1: a `.gkrc` with the honest weights (the honest root) but another
/// dense layer's affine part (before: its stored column sums, which the digest did not cover).
/// Its key has another digest, so a verifier that expects the honest one rejects it, and a
/// proof made for it is rejected under the honest key.
#[test]
fn a_commitment_with_the_honest_root_but_another_bias_has_another_digest() {
    let honest = mlp();
    let input = zoo::random_input(&honest, 2);
    let (honest_file, honest_key) = committed_proof(&honest, &input);
    let forged = with_bias_shift(&honest, COMMITTED, 3000);
    let (forged_file, forged_key) = committed_proof(&forged, &input);
    assert_eq!(forged_key.commitment(), honest_key.commitment(), "same weights, same root");
    assert_ne!(
        forged.forward(&input).unwrap().output(),
        honest.forward(&input).unwrap().output(),
        "the forged bias changes the output"
    );
    // the forged key against the honest digest
    let policy = Policy { expect_digest: Some(honest_key.digest()), ..ALLOW };
    assert_eq!(
        gkr::verify_file(&forged_file, &forged_key, &input, &policy),
        Err(VerifyError::ModelDigestMismatch {
            what: "the verifier's model",
            expected: honest_key.digest(),
            got: forged_key.digest(),
        })
    );
    // the forged proof under the honest key: by its label, and by the proof itself
    assert_eq!(
        gkr::verify_file(&forged_file, &honest_key, &input, &ALLOW),
        Err(VerifyError::ModelDigestMismatch {
            what: "the proof file's model",
            expected: honest_key.digest(),
            got: forged_key.digest(),
        })
    );
    let relabelled = ProofFile { digest: honest_key.digest(), ..forged_file };
    let err = gkr::verify_file(&relabelled, &honest_key, &input, &ALLOW).unwrap_err();
    assert!(is_lookup_final_mismatch(&err, "range"), "rejected by the proof: {err}");
    assert!(gkr::verify_file(&honest_file, &honest_key, &input, &ALLOW).is_ok());
}

/// A dense layer that shows the honest encoding (so its model has the honest digest) while it
/// computes with another bias, proving what it computes.
#[derive(Debug)]
struct Liar {
    shown: Dense,
    used: Dense,
}

impl Layer for Liar {
    fn kind(&self) -> &'static str {
        self.shown.kind()
    }
    fn inputs(&self) -> &[TensorId] {
        self.shown.inputs()
    }
    fn output_dims(&self) -> &[usize] {
        self.shown.output_dims()
    }
    fn spec(&self) -> LayerSpec {
        self.shown.spec()
    }
    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        self.used.forward(inputs)
    }
    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
    fn weights(&self) -> Option<&dyn WeightCommitment> {
        Some(self)
    }
}

impl WeightCommitment for Liar {
    fn weight_layout(&self) -> gkrnet::circuit::Layout {
        self.shown.weight_layout()
    }
    fn weight_entries(&self) -> Option<&[i8]> {
        self.shown.weight_entries()
    }
    fn committed(&self) -> bool {
        self.shown.committed()
    }
    fn commit_weights(&self) -> Box<dyn Layer> {
        Box::new(Liar {
            shown: self.shown.with_committed_weights(),
            used: self.used.with_committed_weights(),
        })
    }
    fn strip_weights(&self) -> Result<Box<dyn Layer>, ModelError> {
        self.shown.strip_weights()
    }
}

impl Reduction for Liar {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        self.used.prove_output(claim, inputs, t)
    }
    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        self.shown.verify_output(claim, t)
    }
}

/// `model` with dense layer `layer` replaced by a liar that adds `shift` to every bias.
fn liar_model(model: &Model, layer: usize, shift: i32) -> Model {
    let forged = with_bias_shift(model, layer, shift);
    let layers: Vec<Box<dyn Layer>> = model
        .layers
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let spec = l.spec();
            if i != layer {
                return spec.build().expect("build");
            }
            let dense = |s: LayerSpec| {
                Dense::new(s.op::<DenseSpec>().expect("a dense layer").clone()).expect("dense")
            };
            Box::new(Liar { shown: dense(spec), used: dense(forged.layers[i].spec()) })
                as Box<dyn Layer>
        })
        .collect();
    Model::new(model.name.clone(), model.input_dims.clone(), layers).expect("model")
}

#[test]
fn a_liar_layer_showing_the_honest_encoding_is_rejected_with_the_model_and_the_commitment() {
    let honest = mlp();
    let input = zoo::random_input(&honest, 3);
    let liar = liar_model(&honest, COMMITTED, 3000);
    assert_eq!(liar.digest(), honest.digest(), "the liar hides behind the digest");
    assert_ne!(liar.forward(&input).unwrap().output(), honest.forward(&input).unwrap().output());
    // --model: the liar's proof, labelled with the honest digest
    let proof = gkr::prove_bytes(&liar, &input, &gkr::ProveOptions::default())
        .expect("the liar proves what it computes");
    let file = ProofFile::new(honest.digest(), &proof.output, proof.proof);
    let key = VerifierKey::Model(honest);
    let policy = Policy { expect_digest: Some(key.digest()), ..ALLOW };
    let err = gkr::verify_file(&file, &key, &input, &policy).unwrap_err();
    let dense_rejects = |e: &VerifyError| is_layer_final_mismatch(e, 2, "dense");
    assert!(dense_rejects(&err), "--model: {err}");
    // --commitment: the liar commits the honest weights (the honest root) and proves
    let (honest_file, honest_key) = committed_proof(key.model(), &input);
    let (liar_file, liar_key) = committed_proof(&liar, &input);
    assert_eq!(liar_key.digest(), honest_key.digest(), "the liar's commitment looks honest");
    assert_ne!(liar_file.proof, honest_file.proof);
    let policy = Policy { expect_digest: Some(honest_key.digest()), ..ALLOW };
    let err = gkr::verify_file(&liar_file, &honest_key, &input, &policy).unwrap_err();
    assert!(dense_rejects(&err), "--commitment: {err}");
}

#[test]
fn the_policy_refuses_other_roots_weak_parameters_and_other_output_shapes() {
    let model = mlp();
    let input = zoo::random_input(&model, 4);
    let (file, key) = committed_proof(&model, &input);
    let root = key.commitment().unwrap().root;
    // a file that names another root, or none
    let other = ProofFile { weights_root: Some([7; 32]), ..file.clone() };
    assert_eq!(
        gkr::verify_file(&other, &key, &input, &ALLOW),
        Err(VerifyError::CommitmentMismatch { expected: Some(root), got: Some([7; 32]) })
    );
    let none = ProofFile { weights_root: None, ..file.clone() };
    assert_eq!(
        gkr::verify_file(&none, &key, &input, &ALLOW),
        Err(VerifyError::CommitmentMismatch { expected: Some(root), got: None })
    );
    // conjectured parameters without the flag
    let strict = Policy::default();
    assert!(matches!(
        gkr::verify_file(&file, &key, &input, &strict),
        Err(VerifyError::RefusedParams { what: "the model commitment", .. })
    ));
    // a proof naming one query
    let weak = Params { queries: 1, pow_bits: 0, ..Params::PROVABLE };
    let file_weak = ProofFile { advice: AdviceMode::Committed(weak), ..file.clone() };
    assert!(matches!(
        gkr::verify_file(&file_weak, &key, &input, &ALLOW),
        Err(VerifyError::RefusedParams { what: "the proof's advice", .. })
    ));
    // the file's output shape
    let reshaped = ProofFile { output_dims: vec![10, 1], ..file.clone() };
    assert_eq!(
        gkr::verify_file(&reshaped, &key, &input, &ALLOW),
        Err(VerifyError::OutputShape { expected: vec![1, 10], got: vec![10, 1] })
    );
    // another input: the proof's own error
    let other_input = zoo::random_input(&model, 5);
    assert!(gkr::verify_file(&file, &key, &other_input, &ALLOW).is_err());
    assert!(gkr::verify_file(&file, &key, &input, &ALLOW).is_ok());
}

/// Every byte of a model's or a commitment's encoding is bound: a flipped byte gives a decode
/// error or a model (re-encoding to the flipped bytes) with another digest.
#[test]
fn the_digest_binds_every_byte_of_the_encoding() {
    let honest = mlp();
    let (prover, wp) = gkr::commit_model(&honest, P).unwrap();
    let stripped = ModelCommitment::stripped(&prover).unwrap();
    let file = CommitmentFile { commitment: wp.commitment(), model: stripped };
    let gkrc = file.encode();
    let honest_key = CommitmentFile::decode(&gkrc).unwrap().into_key();
    let name_len = honest.name.len();
    let mut decoded = 0;
    // header, parameters, root, then the stripped model (its name excluded from the digest)
    let name = 51 + 6..51 + 6 + 8 + name_len;
    // every byte of the headers and the first records, a seeded sample of the rest
    let mut rng = common::rng(17);
    let mut positions: Vec<usize> = (0..200).collect();
    positions.extend((0..1500).map(|_| rand::Rng::gen_range(&mut rng, 200..gkrc.len())));
    for i in positions.into_iter().filter(|i| !name.contains(i)) {
        for bit in [0x01u8, 0x80] {
            let mut b = gkrc.clone();
            b[i] ^= bit;
            if let Ok(f) = CommitmentFile::decode(&b) {
                decoded += 1;
                assert!(f.encode() == b, "byte {i}: not canonical");
                assert_ne!(f.into_key().digest(), honest_key.digest(), "byte {i} bit {bit:#x}");
            }
        }
    }
    assert!(decoded > 100, "the flips reach the weights and biases ({decoded} decoded)");
    // a whole model too: a small one, every byte
    let small = zoo::random_model(3).unwrap();
    let bytes = small.encode();
    let body = 6 + 8 + small.name.len();
    for i in body..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 1;
        if let Ok(m) = Model::decode(&b) {
            assert!(m.encode() == b, "byte {i}: not canonical");
            assert_ne!(m.digest(), small.digest(), "byte {i}");
        }
    }
}
