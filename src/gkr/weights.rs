//! Model commitments: the weights of the large dense layers committed once, so that a verifier
//! holds a 32-byte root instead of the weights.
//!
//! * [`commit_model`] places every dense weight matrix of at least [`MIN_COMMITTED`] padded
//!   entries in one table (as [`super::advice::basefold`] places advice), commits it with
//!   Basefold, and returns the prover's copy of the model (those layers return their claims on W
//!   as [`crate::circuit::ClaimTarget::Weights`] claims) with a [`WeightsProver`] that any
//!   number of proofs share (each records its own openings).
//! * [`ModelCommitment::stripped`] is the verifier's copy: the same layers without their weights
//!   (nothing derived from W stands in: the input zero point is folded into the matrix product's
//!   left operand), which `.gkrc` files carry. Smaller matrices and convolution kernels stay in
//!   it, in the clear.
//! * The statement gains the root and the parameters (absorbed right after the model digest);
//!   every weight claim of the proof is recorded and all are proved by one merged opening after
//!   the advice's.
//!
//! The prover's copy and the stripped model have the same digest (a committed layer encodes
//! without its weights); the key a verifier compares combines it with the parameters and the
//! root ([`super::VerifierKey::digest`]). A verifier trusts a `.gkrc` file as it would trust the
//! model file itself: the root *is* its statement of the weights.

use super::advice::basefold::{CommittedTable, CommittedVerifier, TableOpenings};
use super::advice::AdviceVerifier;
use crate::circuit::{Layer, Layout, Model, ModelError, WeightCommitment};
use crate::error::ProveError;
use crate::error::VerifyError;
use crate::pcs::basefold::Params;
use crate::pcs::Hash;
use crate::sumcheck::EvalClaim;
use crate::transcript::{labels, Transcript};
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// Dense matrices of fewer padded entries stay in the clear (their evaluation costs the verifier
/// less than an opening's share).
pub const MIN_COMMITTED: usize = 1 << 15;

/// What a verifier holds of the committed weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelCommitment {
    pub params: Params,
    pub root: Hash,
}

impl ModelCommitment {
    /// Absorbs the commitment (after the model digest).
    pub(crate) fn absorb(&self, t: &mut impl Transcript) {
        let mut bytes = self.root.to_vec();
        bytes.extend_from_slice(&super::AdviceMode::Committed(self.params).to_bytes());
        t.append_bytes(labels::MODEL_COMMITMENT, &bytes);
    }

    /// The verifier's copy of `model`: the committed layers without their weights.
    ///
    /// # Errors
    /// A layer without a canonical encoding.
    pub fn stripped(model: &Model) -> Result<Model, ModelError> {
        rebuild(model, |w| w.strip_weights())
    }
}

/// The layers whose weights a commitment holds, in order.
pub fn committed_layers(model: &Model) -> Vec<usize> {
    (model.layers.iter().enumerate())
        .filter(|(_, l)| {
            l.weights_committed()
                || l.weight_layout().is_some_and(|w| w.padded_len() >= MIN_COMMITTED)
        })
        .map(|(i, _)| i)
        .collect()
}

/// Rebuilds `model` with the committed layers replaced by `replace`.
fn rebuild(
    model: &Model,
    replace: impl Fn(&dyn WeightCommitment) -> Result<Box<dyn Layer>, ModelError>,
) -> Result<Model, ModelError> {
    let chosen = committed_layers(model);
    let mut layers = Vec::with_capacity(model.layers.len());
    for (i, l) in model.layers.iter().enumerate() {
        let layer = match l.weights() {
            Some(w) if chosen.contains(&i) => replace(w)?,
            None if chosen.contains(&i) => {
                let reason = "its weights cannot be committed".into();
                return Err(ModelError::Layer { layer: i, kind: l.kind(), reason });
            }
            _ => l.spec().build()?,
        };
        layers.push(layer);
    }
    let out = Model::new(model.name.clone(), model.input_dims.clone(), layers)?;
    match model.io() {
        Some(io) => out.with_io(io.clone()),
        None => Ok(out),
    }
}

/// The prover's side of a model commitment: the committed table, reusable across proofs.
#[derive(Debug)]
pub struct WeightsProver {
    pub(crate) commitment: ModelCommitment,
    table: CommittedTable,
    /// The committed layers, in order: a layer's position is its column id.
    pub(crate) layers: Vec<usize>,
    /// Refuse to prove false weight claims (a cheater in the tests proves them anyway).
    strict: bool,
}

impl WeightsProver {
    pub fn commitment(&self) -> ModelCommitment {
        self.commitment
    }

    /// A prover that proves false weight claims instead of refusing them: for soundness tests.
    #[cfg(any(test, feature = "test-util"))]
    pub fn unchecked(mut self) -> Self {
        self.strict = false;
        self
    }

    fn openings(&self) -> TableOpenings<'_> {
        self.table.openings(self.strict)
    }
}

/// Commits `model`'s large dense weight matrices. Returns the prover's copy of the model and
/// the committed table.
///
/// # Errors
/// [`ProveError::Model`] if no layer has weights to commit or the model cannot be rebuilt.
pub fn commit_model(model: &Model, params: Params) -> Result<(Model, WeightsProver), ProveError> {
    let layers = committed_layers(model);
    let model_err = |e: String| ProveError::Model(e);
    let mut columns: Vec<(Layout, Vec<i64>)> = Vec::with_capacity(layers.len());
    for &i in &layers {
        let l = model.layers.get(i).ok_or_else(|| model_err(format!("no layer {i}")))?;
        let (Some(layout), Some(w)) = (l.weight_layout(), l.weight_entries()) else {
            return Err(model_err(format!("layer {i} ({}) holds no weights to commit", l.kind())));
        };
        columns.push((layout, w.iter().map(|&v| v as i64).collect()));
    }
    if columns.is_empty() {
        return Err(model_err(format!(
            "{} has no dense matrix of at least {MIN_COMMITTED} padded weights to commit",
            model.name
        )));
    }
    let refs: Vec<(&Layout, &[i64])> = columns.iter().map(|(l, d)| (l, d.as_slice())).collect();
    let table = CommittedTable::new(params, &refs)?;
    let root = table.commitment().root;
    let prover_copy =
        rebuild(model, |w| Ok(w.commit_weights())).map_err(|e| model_err(e.to_string()))?;
    Ok((
        prover_copy,
        WeightsProver { commitment: ModelCommitment { params, root }, table, layers, strict: true },
    ))
}

/// One proof's openings of the committed weights, by layer.
pub(crate) struct WeightOpenings<'a> {
    openings: TableOpenings<'a>,
    layers: &'a [usize],
}

impl WeightOpenings<'_> {
    /// Records the claim on layer `layer`'s weights.
    ///
    /// # Errors
    /// A layer whose weights the commitment does not hold.
    pub fn open(&mut self, layer: usize, claim: &EvalClaim) -> Result<(), ProveError> {
        let id = self.layers.iter().position(|&l| l == layer).ok_or_else(|| {
            ProveError::InvalidShape {
                reason: format!("layer {layer}: weights outside the commitment"),
            }
        })?;
        self.openings.open(id, &claim.point, claim.value);
        Ok(())
    }

    /// Proves every recorded opening (after the advice's).
    ///
    /// # Errors
    /// A false claim (unless unchecked).
    pub fn finish(&mut self, t: &mut dyn ProverTranscript) -> Result<(), ProveError> {
        self.openings.finish(t)
    }
}

impl WeightsProver {
    /// The openings of one proof.
    pub(crate) fn session(&self) -> WeightOpenings<'_> {
        WeightOpenings { openings: self.openings(), layers: &self.layers }
    }
}

/// The verifier's side of a model commitment: the committed layers' weight layouts under the
/// root, and the claims on them.
pub(crate) struct WeightChecks {
    scheme: CommittedVerifier,
    /// The committed layers, in order: a layer's position is its column id.
    layers: Vec<usize>,
}

impl WeightChecks {
    /// The checks for a stripped `model` under `commitment`.
    ///
    /// # Errors
    /// A committed layer without a weight layout, or a table beyond 2^30 entries.
    pub fn new(model: &Model, commitment: &ModelCommitment) -> Result<Self, VerifyError> {
        let committed = model.layers.iter().enumerate().filter(|(_, l)| l.weights_committed());
        let (layers, layouts): (Vec<usize>, Vec<Option<Layout>>) =
            committed.map(|(i, l)| (i, l.weight_layout())).unzip();
        let layouts = layouts.into_iter().collect::<Option<Vec<Layout>>>().ok_or(
            VerifyError::InvalidStatement { reason: "a committed layer without a weight layout" },
        )?;
        let scheme = CommittedVerifier::precommitted(commitment.params, layouts, commitment.root)?;
        Ok(Self { scheme, layers })
    }

    /// Records (to check at the end) a claim on layer `layer`'s weights of layout `layout`.
    ///
    /// # Errors
    /// A layer outside the commitment, or a layout other than the committed one.
    pub fn check(
        &mut self,
        layer: usize,
        layout: Option<Layout>,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        let id = self.layers.iter().position(|&l| l == layer).unwrap_or(usize::MAX);
        let layout = layout.unwrap_or_else(|| Layout::new(&[1]));
        self.scheme.check(id, &layout, &claim.point, claim.value, "weights", t)
    }

    /// Checks every recorded claim (after the advice's).
    ///
    /// # Errors
    /// A failed opening, as [`VerifyError::Weights`].
    pub fn finish(&mut self, t: &mut dyn VerifierTranscript) -> Result<(), VerifyError> {
        self.scheme.finish(t).map_err(|e| VerifyError::Weights { source: Box::new(e) })
    }
}
