//! The one acceptance policy: what a verifier compares before and after checking a proof file.
//! The CLI, the network client and server, and every other front end call [`verify_file`] (or,
//! for a live session, [`Policy::admit`]); none keeps acceptance logic of its own.
//!
//! A verifier trusts a proof only as far as it trusts its [`VerifierKey`]: the model held whole
//! (its digest is the hash of its canonical encoding, [`Model::digest`]) or a model commitment
//! (the stripped model's digest, the PCS parameters and the root, combined by
//! [`VerifierKey::digest`]). The key's digest is what a user compares with the one the model's
//! owner published (`--expect-digest`); the input always comes from the caller, never from the
//! proof file.

use super::advice::AdviceMode;
use super::file::ProofFile;
use super::weights::ModelCommitment;
use crate::circuit::{Model, Tensor};
use crate::error::VerifyError;

impl<'a> From<&'a VerifierKey> for super::KeyRef<'a> {
    fn from(key: &'a VerifierKey) -> Self {
        Self { model: key.model(), commitment: key.commitment() }
    }
}

/// The domain of a committed model's digest.
const COMMITTED_DOMAIN: &[u8] = b"gkrnet committed model digest v1";

/// What a verifier holds of the model.
#[derive(Debug)]
pub enum VerifierKey {
    /// The whole model (a `.gkrm`, or an ONNX file compiled by the verifier).
    Model(Model),
    /// A model commitment (`.gkrc`): the model with its large weight matrices replaced by a
    /// Basefold root.
    Committed { model: Model, commitment: ModelCommitment },
}

impl VerifierKey {
    /// The model the verifier runs (stripped of committed weights for a commitment).
    pub fn model(&self) -> &Model {
        match self {
            VerifierKey::Model(m) | VerifierKey::Committed { model: m, .. } => m,
        }
    }

    pub fn commitment(&self) -> Option<&ModelCommitment> {
        match self {
            VerifierKey::Model(_) => None,
            VerifierKey::Committed { commitment, .. } => Some(commitment),
        }
    }

    /// The digest that names this key: the model's digest, or for a commitment
    /// blake3(domain ‖ stripped model's digest ‖ PCS parameters ‖ root), so that it changes
    /// with any layer, any parameter of the commitment and the root.
    pub fn digest(&self) -> [u8; 32] {
        super::KeyRef::from(self).digest()
    }
}

impl super::KeyRef<'_> {
    /// [`VerifierKey::digest`] of the key this borrows.
    pub fn digest(&self) -> [u8; 32] {
        match self.commitment {
            None => self.model.digest(),
            Some(c) => committed_digest(&self.model.digest(), c),
        }
    }
}

/// The digest of a committed model from its stripped model's digest (equal to the digest of the
/// prover's copy, [`super::commit_model`]) and the commitment.
pub fn committed_digest(model_digest: &[u8; 32], c: &ModelCommitment) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(COMMITTED_DOMAIN);
    h.update(model_digest);
    h.update(&AdviceMode::Committed(c.params).to_bytes());
    h.update(&c.root);
    *h.finalize().as_bytes()
}

/// What a verifier accepts besides a valid proof.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Accept commitments made under the conjectured (not provable) parameter set.
    pub allow_conjectured: bool,
    /// The digest the verifier expects its key to have (published by the model's owner before
    /// the input was chosen); `None` trusts the key as given.
    pub expect_digest: Option<[u8; 32]>,
}

impl Policy {
    /// Checks the key against the expected digest and the parameters of the advice mode and of
    /// the model commitment against the allow-list ([`AdviceMode::accepted`]).
    ///
    /// # Errors
    /// [`VerifyError::ModelDigestMismatch`], [`VerifyError::RefusedParams`].
    pub fn admit(&self, key: &VerifierKey, advice: AdviceMode) -> Result<(), VerifyError> {
        self.admit_parts(key.digest(), key.commitment(), advice)
    }

    /// [`Policy::admit`] for a key given by its digest and commitment (a live client that holds
    /// its model by reference).
    ///
    /// # Errors
    /// As [`Policy::admit`].
    pub fn admit_parts(
        &self,
        digest: [u8; 32],
        commitment: Option<&ModelCommitment>,
        advice: AdviceMode,
    ) -> Result<(), VerifyError> {
        if let Some(expected) = self.expect_digest {
            if digest != expected {
                return Err(VerifyError::ModelDigestMismatch {
                    what: "the verifier's model",
                    expected,
                    got: digest,
                });
            }
        }
        advice
            .accepted(self.allow_conjectured)
            .map_err(|reason| VerifyError::RefusedParams { what: "the proof's advice", reason })?;
        if let Some(c) = commitment {
            AdviceMode::Committed(c.params).accepted(self.allow_conjectured).map_err(|reason| {
                VerifyError::RefusedParams { what: "the model commitment", reason }
            })?;
        }
        Ok(())
    }
}

/// A verified output and what it was verified against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedOutput {
    pub output: Tensor,
    /// The key's digest ([`VerifierKey::digest`]).
    pub digest: [u8; 32],
    /// The model commitment's root, if the weights were opened against one.
    pub root: Option<[u8; 32]>,
    /// blake3 of the input's int8 values.
    pub input_digest: [u8; 32],
    pub advice: AdviceMode,
}

/// Verifies a proof file against the caller's key and input under `policy`: the key's digest
/// (against the expected one and the file's), the commitment's root, the parameters, the proof
/// itself and the output's shape.
///
/// # Errors
/// [`VerifyError::ModelDigestMismatch`], [`VerifyError::CommitmentMismatch`],
/// [`VerifyError::RefusedParams`], [`VerifyError::OutputShape`], or the proof's own error.
pub fn verify_file<'k>(
    file: &ProofFile,
    key: impl Into<super::KeyRef<'k>>,
    input: &Tensor,
    policy: &Policy,
) -> Result<VerifiedOutput, VerifyError> {
    let key = key.into();
    let digest = key.digest();
    policy.admit_parts(digest, key.commitment, file.advice)?;
    let root = key.commitment.map(|c| c.root);
    if file.weights_root != root {
        return Err(VerifyError::CommitmentMismatch { expected: root, got: file.weights_root });
    }
    if file.digest != digest {
        return Err(VerifyError::ModelDigestMismatch {
            what: "the proof file's model",
            expected: digest,
            got: file.digest,
        });
    }
    let opts = super::VerifyOptions::advice(file.advice);
    let output = super::verify_bytes(key, input, &opts, &file.proof)?;
    if output.dims != file.output_dims {
        return Err(VerifyError::OutputShape {
            expected: output.dims.clone(),
            got: file.output_dims.clone(),
        });
    }
    let input_digest = *blake3::hash(&crate::transcript::ints_bytes(&input.data)).as_bytes();
    Ok(VerifiedOutput { output, digest, root, input_digest, advice: file.advice })
}
