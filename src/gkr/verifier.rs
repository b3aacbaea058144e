//! The model verifier: one entry point, [`verify`], the driver of [`super::prover`] read from
//! the other side. It holds the model (or a model commitment) and the input, reads the proof,
//! and returns the verified output or an error naming the layer (or lookup) that failed.

use super::advice::AdviceMode;
use super::lookups::{verify_range, verify_table};
use super::phases::{PhaseHook, Phases};
use super::plan::Plan;
use super::routing::verify_virtual;
use super::statement::{receive_advice, verify_statement, PROTOCOL};
use super::weights::ModelCommitment;
use super::zerocheck::verify_relations;
use crate::circuit::{Layout, Model, Tensor};
use crate::error::VerifyError;
use crate::sumcheck::EvalClaim;
use crate::transcript::{labels, FiatShamirVerifier, VerifierTranscript};

/// How to verify: the advice scheme the verifier expects, a timing hook.
#[derive(Clone, Copy, Default)]
pub struct VerifyOptions<'a> {
    /// The advice scheme (the verifier's choice: a proof made under another mode or other
    /// parameters fails).
    pub advice: AdviceMode,
    /// Called with each phase's name and duration ([`super::phases`]).
    pub on_phase: Option<PhaseHook<'a>>,
}

impl std::fmt::Debug for VerifyOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyOptions").field("advice", &self.advice).finish()
    }
}

impl<'a> VerifyOptions<'a> {
    /// The defaults with advice under `advice`.
    pub fn advice(advice: AdviceMode) -> Self {
        Self { advice, on_phase: None }
    }

    pub fn with_phase_hook(self, hook: PhaseHook<'a>) -> Self {
        Self { on_phase: Some(hook), ..self }
    }
}

/// What the verifier holds, borrowed: the model (whole, or stripped of the weights a commitment
/// holds) and the commitment. `&Model` and `&VerifierKey` convert into it.
#[derive(Clone, Copy, Debug)]
pub struct KeyRef<'a> {
    pub model: &'a Model,
    pub commitment: Option<&'a ModelCommitment>,
}

impl<'a> From<&'a Model> for KeyRef<'a> {
    fn from(model: &'a Model) -> Self {
        Self { model, commitment: None }
    }
}

/// Verifies that the key's model maps `input` to some output, over any transcript, and returns
/// that output.
///
/// # Errors
/// Every [`VerifyError`]: malformed messages (with offsets), or a failed check wrapped in
/// [`VerifyError::Layer`], [`VerifyError::Lookup`], [`VerifyError::Output`],
/// [`VerifyError::Input`], [`VerifyError::Advice`] or [`VerifyError::Weights`].
pub fn verify<'k>(
    key: impl Into<KeyRef<'k>>,
    input: &Tensor,
    opts: &VerifyOptions<'_>,
    t: &mut impl VerifierTranscript,
) -> Result<Tensor, VerifyError> {
    let mut phases = Phases::new("verify", opts.on_phase);
    run(key.into(), input, opts, &mut phases, t)
}

/// [`verify`] of an encoded Fiat–Shamir proof, which must be read to its end.
///
/// # Errors
/// As [`verify`], and trailing bytes.
pub fn verify_bytes<'k>(
    key: impl Into<KeyRef<'k>>,
    input: &Tensor,
    opts: &VerifyOptions<'_>,
    proof: &[u8],
) -> Result<Tensor, VerifyError> {
    let mut t = FiatShamirVerifier::new(PROTOCOL, proof)?;
    let out = verify(key, input, opts, &mut t)?;
    t.finish()?;
    Ok(out)
}

/// The driver, phase by phase as the prover's.
fn run(
    key: KeyRef<'_>,
    input: &Tensor,
    opts: &VerifyOptions<'_>,
    phases: &mut Phases<'_>,
    t: &mut dyn VerifierTranscript,
) -> Result<Tensor, VerifyError> {
    let model = key.model;
    phases.start("statement and advice");
    let (output, mut weights) = verify_statement(t, model, input, key.commitment, opts.advice)?;
    let plan = Plan::new(model);
    let mut routes = receive_advice(model, &plan, input, opts.advice, t)?;

    phases.start("lookups");
    let r = t.challenges(labels::GKR_OUTPUT_POINT, Layout::new(&output.dims).num_vars());
    let value = output.evaluate(&r);
    (routes.route(model.layers.len(), EvalClaim { point: r, value }, t))
        .map_err(|e| VerifyError::Output { source: Box::new(e) })?;
    verify_range(model, &plan, &mut routes, t)?;
    verify_table(model, &plan, &mut routes, t)?;

    for (i, layer) in model.layers.iter().enumerate().rev() {
        phases.start(format!("layer {i} ({})", layer.kind()));
        verify_relations(model, &plan, i, &mut routes, t)?;
        if !layer.output_committed() {
            verify_virtual(&mut routes, i, weights.as_mut(), t)?;
        }
    }
    phases.start("open advice");
    (routes.scheme.finish(t)).map_err(|e| VerifyError::Advice { source: Box::new(e) })?;
    if let Some(mut weights) = weights {
        phases.start("open weights");
        weights.finish(t)?;
    }
    phases.end();
    Ok(output)
}
