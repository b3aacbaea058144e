//! Where claims go, prover and verifier side by side.
//!
//! A claim on a tensor is discharged at once or queued:
//! * on the model input: the verifier evaluates the input's MLE itself;
//! * on a committed output, or on any committed column: an opening of the advice scheme;
//! * on a virtual output (dense, convolution, concatenation, wiring): queued until its layer is
//!   reached, then all its claims are merged into one and reduced by the layer to claims on its
//!   inputs or its committed weights ([`prove_virtual`], [`verify_virtual`]).
//!
//! **The graph rule.** Layers are visited from the output back, so every consumer of a tensor
//! has emitted its claims before the tensor's own layer reduces them: a tensor with several
//! consumers gets one merged claim, and two claims at one point (`x·x`) are both kept and
//! checked, never deduplicated.

use super::advice::{AdviceProver, AdviceVerifier};
use super::weights::{WeightChecks, WeightOpenings};
use crate::circuit::{ClaimTarget, Layout, Model, Tensor, Var};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// The prover's routes: the mirror of [`VerifierRoutes`], so that openings are recorded in the
/// order the verifier checks them.
pub(crate) struct ProverRoutes<'a> {
    pub model: &'a Model,
    /// Global id of each layer's first column.
    pub first_col: Vec<usize>,
    /// Global ids of the range and the table multiplicities.
    pub multiplicities: [usize; 2],
    pending: Vec<Vec<EvalClaim>>,
    pub scheme: Box<dyn AdviceProver>,
}

impl<'a> ProverRoutes<'a> {
    pub fn new(
        model: &'a Model,
        first_col: Vec<usize>,
        multiplicities: [usize; 2],
        scheme: Box<dyn AdviceProver>,
    ) -> Self {
        let pending = vec![Vec::new(); model.layers.len() + 1];
        Self { model, first_col, multiplicities, pending, scheme }
    }

    /// Opens or queues a claim on a tensor (nothing to do for the input).
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: tensors are the model's own (checked by Model::new), first_col has one entry per layer"
    )]
    pub fn route(&mut self, tensor: usize, claim: EvalClaim, t: &mut dyn ProverTranscript) {
        if tensor == 0 {
            return;
        }
        if self.model.layers[tensor - 1].output_committed() {
            self.scheme.open(self.first_col[tensor - 1], &claim.point, claim.value, t);
        } else {
            self.pending[tensor].push(claim);
        }
    }

    /// Opens column `col` of layer `layer`.
    #[expect(clippy::indexing_slicing, reason = "prover side: first_col has one entry per layer")]
    pub fn open_column(
        &mut self,
        layer: usize,
        col: usize,
        point: &[Fp],
        value: Fp,
        t: &mut dyn ProverTranscript,
    ) {
        self.scheme.open(self.first_col[layer] + col, point, value, t);
    }

    /// Routes the values of a layer's variables at one point: columns are opened, inputs routed,
    /// public coefficients need nothing.
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: Var::In indices are checked by Model::new"
    )]
    pub fn claim_vars(
        &mut self,
        layer: usize,
        values: &[(Var, Fp)],
        point: &[Fp],
        t: &mut dyn ProverTranscript,
    ) {
        for &(v, value) in values {
            match v {
                Var::Col(c) => self.open_column(layer, c, point, value, t),
                Var::In(j) => {
                    let tensor = self.model.layers[layer].inputs()[j];
                    self.route(tensor, EvalClaim { point: point.to_vec(), value }, t);
                }
                Var::Coef(_) => {}
            }
        }
    }

    /// The claims queued on a tensor, taken.
    pub fn take_pending(&mut self, tensor: usize) -> Vec<EvalClaim> {
        self.pending.get_mut(tensor).map(std::mem::take).unwrap_or_default()
    }
}

/// Reduces the claims queued on layer `i`'s virtual output (merged first if several) to claims
/// on its inputs and weights, and routes those.
///
/// # Errors
/// A failed sub-protocol, or a weight claim without a model commitment.
#[expect(
    clippy::indexing_slicing,
    reason = "prover side: i is a layer of the model, its inputs are tensors of the witness"
)]
pub(crate) fn prove_virtual(
    routes: &mut ProverRoutes<'_>,
    tensors: &[Tensor],
    layout: &Layout,
    i: usize,
    mut weights: Option<&mut WeightOpenings<'_>>,
    mut t: &mut dyn ProverTranscript,
) -> Result<(), ProveError> {
    let layer = &routes.model.layers[i];
    let mut claims = routes.take_pending(i + 1);
    let Some(last) = claims.pop() else { return Ok(()) };
    let claim = if claims.is_empty() {
        last
    } else {
        claims.push(last);
        crate::merge::prove(&claims, &layout.pad_fp(&tensors[i + 1].data), &mut t)?
    };
    let ins: Vec<&Tensor> = layer.inputs().iter().map(|&x| &tensors[x]).collect();
    for (target, c) in layer.prove_output(&claim, &ins, t)? {
        match target {
            ClaimTarget::Input(j) => {
                let tensor = *layer.inputs().get(j).ok_or_else(|| ProveError::InvalidShape {
                    reason: format!("layer {i}: a claim on missing input {j}"),
                })?;
                routes.route(tensor, c, t);
            }
            ClaimTarget::Weights => {
                let weights = weights.as_deref_mut().ok_or_else(|| ProveError::InvalidShape {
                    reason: format!("layer {i}: a weight claim without a model commitment"),
                })?;
                weights.open(i, &c)?;
            }
        }
    }
    Ok(())
}

/// The verifier's routes.
pub(crate) struct VerifierRoutes<'a> {
    pub model: &'a Model,
    layouts: &'a [Layout],
    input: &'a Tensor,
    /// Global id of each layer's first column.
    first_col: Vec<usize>,
    /// Global ids of the range and the table multiplicities.
    pub multiplicities: [usize; 2],
    pending: Vec<Vec<EvalClaim>>,
    pub scheme: Box<dyn AdviceVerifier>,
}

/// Wraps an error in the layer it happened at (unless it already names one).
pub(crate) fn at_layer(layer: usize, model: &Model) -> impl Fn(VerifyError) -> VerifyError + '_ {
    move |e| match e {
        e @ VerifyError::Layer { .. } => e,
        e => VerifyError::Layer {
            layer,
            kind: model.layers.get(layer).map_or("?", |l| l.kind()),
            source: Box::new(e),
        },
    }
}

const MISSING: VerifyError = VerifyError::InvalidStatement { reason: "claim on a missing tensor" };

impl<'a> VerifierRoutes<'a> {
    pub fn new(
        model: &'a Model,
        layouts: &'a [Layout],
        input: &'a Tensor,
        first_col: Vec<usize>,
        multiplicities: [usize; 2],
        scheme: Box<dyn AdviceVerifier>,
    ) -> Self {
        let pending = vec![Vec::new(); model.layers.len() + 1];
        Self { model, layouts, input, first_col, multiplicities, pending, scheme }
    }

    fn layout(&self, layer: usize) -> Layout {
        self.layouts.get(layer).cloned().unwrap_or_else(|| Layout::new(&[1]))
    }

    /// Discharges or queues a claim on a tensor.
    pub fn route(
        &mut self,
        tensor: usize,
        claim: EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        if tensor == 0 {
            let computed = self.input.evaluate(&claim.point);
            return claim
                .check(computed, "the input's MLE")
                .map_err(|e| VerifyError::Input { source: Box::new(e) });
        }
        let layer = tensor - 1;
        let l = self.model.layers.get(layer).ok_or(MISSING)?;
        if l.output_committed() {
            let layout = self.layout(layer);
            let id = self.first_col.get(layer).copied().unwrap_or(usize::MAX);
            self.scheme
                .check(id, &layout, &claim.point, claim.value, "opening of a committed output", t)
                .map_err(at_layer(layer, self.model))
        } else {
            self.pending.get_mut(tensor).ok_or(MISSING)?.push(claim);
            Ok(())
        }
    }

    /// Checks an opening of column `col` of layer `layer`.
    pub fn open_column(
        &mut self,
        layer: usize,
        col: usize,
        point: &[Fp],
        value: Fp,
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        let l = self.model.layers.get(layer).ok_or(MISSING)?;
        let what = l.columns().get(col).copied().unwrap_or("column");
        let layout = self.layout(layer);
        let id = self.first_col.get(layer).copied().unwrap_or(usize::MAX).saturating_add(col);
        self.scheme.check(id, &layout, point, value, what, t).map_err(at_layer(layer, self.model))
    }

    /// The verifier's [`ProverRoutes::claim_vars`].
    pub fn claim_vars(
        &mut self,
        layer: usize,
        values: &[(Var, Fp)],
        point: &[Fp],
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        for &(v, value) in values {
            match v {
                Var::Col(c) => self.open_column(layer, c, point, value, t)?,
                Var::In(j) => {
                    let l = self.model.layers.get(layer).ok_or(MISSING)?;
                    let tensor = l.inputs().get(j).copied().unwrap_or(usize::MAX);
                    let claim = EvalClaim { point: point.to_vec(), value };
                    self.route(tensor, claim, t).map_err(at_layer(layer, self.model))?;
                }
                Var::Coef(_) => {}
            }
        }
        Ok(())
    }

    /// The claims queued on a tensor, taken.
    pub fn take_pending(&mut self, tensor: usize) -> Vec<EvalClaim> {
        self.pending.get_mut(tensor).map(std::mem::take).unwrap_or_default()
    }
}

/// The verifier's [`prove_virtual`]; `weights` checks claims on a model commitment's weights.
///
/// # Errors
/// A failed sub-protocol, or a weight claim without a commitment.
pub(crate) fn verify_virtual(
    routes: &mut VerifierRoutes<'_>,
    i: usize,
    mut weights: Option<&mut WeightChecks>,
    mut t: &mut dyn VerifierTranscript,
) -> Result<(), VerifyError> {
    let model = routes.model;
    let err = at_layer(i, model);
    let layer = model.layers.get(i).ok_or(MISSING)?;
    let claims = routes.take_pending(i + 1);
    if claims.is_empty() {
        return Ok(());
    }
    let claim = match <[EvalClaim; 1]>::try_from(claims) {
        Ok([c]) => c,
        Err(claims) => {
            let nv = routes.layouts.get(i).map_or(0, Layout::num_vars);
            crate::merge::verify(&claims, nv, &mut t).map_err(&err)?
        }
    };
    for (target, c) in layer.verify_output(&claim, t).map_err(&err)? {
        match target {
            ClaimTarget::Input(j) => {
                let tensor = layer.inputs().get(j).copied().unwrap_or(usize::MAX);
                routes.route(tensor, c, t).map_err(&err)?;
            }
            ClaimTarget::Weights => {
                let weights = weights.as_deref_mut().ok_or(err(VerifyError::InvalidStatement {
                    reason: "weights outside a commitment",
                }))?;
                weights.check(i, layer.weight_layout(), &c, t).map_err(&err)?;
            }
        }
    }
    Ok(())
}
