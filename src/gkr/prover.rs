//! The model prover: one entry point, [`prove`], whose driver reads phase by phase in parallel
//! with the verifier's ([`super::verifier`]); each phase's prover and verifier sit side by side
//! in their own file (`statement.rs`, `lookups.rs`, `zerocheck.rs`, `routing.rs`).

use super::advice::AdviceMode;
use super::context::ProverCtx;
use super::lookups::{prove_range, prove_table, LookupWitness};
use super::phases::{PhaseHook, Phases};
use super::routing::prove_virtual;
use super::statement::{commit_advice, prove_statement, PROTOCOL};
use super::weights::WeightsProver;
use super::zerocheck::prove_relations;
use crate::circuit::{Layout, Model, Tensor, Witness};
use crate::error::ProveError;
use crate::sumcheck::EvalClaim;
use crate::transcript::{labels, FiatShamirProver, ProverTranscript};

/// How to prove: the advice scheme, committed weights, a precomputed witness, a timing hook.
#[derive(Clone, Copy)]
pub struct ProveOptions<'a> {
    /// How the advice travels (in the clear, or committed with Basefold).
    pub advice: AdviceMode,
    /// The model commitment whose weights the model's committed layers open (the model is then
    /// the prover's copy from [`super::commit_model`]); `None` for weights held in the model.
    pub weights: Option<&'a WeightsProver>,
    /// A witness computed before (the honest one from [`Model::forward`]; a cheater's under
    /// `ProveOptions::unchecked`); `None` runs the integer reference.
    pub witness: Option<&'a Witness>,
    /// Called with each phase's name and duration ([`super::phases`]).
    pub on_phase: Option<PhaseHook<'a>>,
    /// Refuse to prove a witness the relations or the tables reject.
    strict: bool,
}

impl Default for ProveOptions<'_> {
    fn default() -> Self {
        Self {
            advice: AdviceMode::Clear,
            weights: None,
            witness: None,
            on_phase: None,
            strict: true,
        }
    }
}

impl std::fmt::Debug for ProveOptions<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProveOptions")
            .field("advice", &self.advice)
            .field("weights", &self.weights.map(WeightsProver::commitment))
            .field("witness", &self.witness.is_some())
            .field("strict", &self.strict)
            .finish()
    }
}

impl<'a> ProveOptions<'a> {
    /// The defaults with advice under `advice`.
    pub fn advice(advice: AdviceMode) -> Self {
        Self { advice, ..Self::default() }
    }

    pub fn with_weights(self, weights: &'a WeightsProver) -> Self {
        Self { weights: Some(weights), ..self }
    }

    pub fn with_witness(self, witness: &'a Witness) -> Self {
        Self { witness: Some(witness), ..self }
    }

    pub fn with_phase_hook(self, hook: PhaseHook<'a>) -> Self {
        Self { on_phase: Some(hook), ..self }
    }

    /// A cheating prover for soundness tests: proves whatever witness it is given, as far as
    /// the protocol lets it (out-of-range values are left out of the multiplicities, unbalanced
    /// lookups and false zero-checks are sent anyway). Sub-protocols whose claims it cannot
    /// even phrase (a false matrix product) still return an error.
    #[cfg(any(test, feature = "test-util"))]
    pub fn unchecked(self) -> Self {
        Self { strict: false, ..self }
    }
}

/// A Fiat–Shamir proof and the output it proves.
#[derive(Clone, Debug)]
pub struct ModelProof {
    pub output: Tensor,
    pub proof: Vec<u8>,
}

/// Proves that `model` maps `input` to the returned output, over any transcript (Fiat–Shamir,
/// or a live verifier's coins).
///
/// # Errors
/// A model error from the reference (input shape, range), a witness the relations reject (when
/// strict), or a commitment that does not hold the model's committed layers.
pub fn prove(
    model: &Model,
    input: &Tensor,
    opts: &ProveOptions<'_>,
    t: &mut impl ProverTranscript,
) -> Result<Tensor, ProveError> {
    let mut phases = Phases::new("prove", opts.on_phase);
    let computed;
    let witness = match opts.witness {
        Some(w) => w,
        None => {
            phases.start("integer reference");
            computed = model.forward(input).map_err(|e| ProveError::Model(e.to_string()))?;
            &computed
        }
    };
    let n = model.layers.len();
    if witness.tensors.len() != n + 1 || witness.advice.len() != n {
        return Err(invalid("the witness does not match the model"));
    }
    if opts.strict && witness.tensors.first() != Some(input) {
        return Err(invalid("the witness is not of this input"));
    }
    run(model, input, witness, opts, &mut phases, t)?;
    Ok(witness.output().clone())
}

/// [`prove`] under Fiat–Shamir: the encoded proof.
///
/// # Errors
/// As [`prove`].
pub fn prove_bytes(
    model: &Model,
    input: &Tensor,
    opts: &ProveOptions<'_>,
) -> Result<ModelProof, ProveError> {
    let mut t = FiatShamirProver::new(PROTOCOL);
    let output = prove(model, input, opts, &mut t)?;
    Ok(ModelProof { output, proof: t.into_proof().encode() })
}

fn invalid(reason: &str) -> ProveError {
    ProveError::InvalidShape { reason: reason.into() }
}

/// The driver: statement and advice, the output, both lookups, the layers from the output back,
/// then the advice's and the weights' openings.
#[expect(
    clippy::indexing_slicing,
    reason = "prover side: the witness has n + 1 tensors (checked by the caller) and the plan one layout per layer"
)]
fn run(
    model: &Model,
    input: &Tensor,
    w: &Witness,
    opts: &ProveOptions<'_>,
    phases: &mut Phases<'_>,
    t: &mut dyn ProverTranscript,
) -> Result<(), ProveError> {
    phases.start("commit advice");
    let ctx = ProverCtx::new(model, w, opts.strict);
    let commitment = opts.weights.map(|wp| (&wp.commitment, wp.layers.len()));
    prove_statement(t, model, input, commitment, opts.advice, w.output())?;
    let lookups = LookupWitness::new(&ctx)?;
    log_lookup_sizes(model, &ctx.plan);
    let mut routes = commit_advice(&ctx, &lookups, opts.advice, t)?;

    phases.start("lookups");
    let out_layout = Layout::new(&w.output().dims);
    let r = t.challenges(labels::GKR_OUTPUT_POINT, out_layout.num_vars());
    let value = w.output().evaluate(&r);
    routes.route(model.layers.len(), EvalClaim { point: r, value }, t);
    prove_range(&ctx, &lookups, &mut routes, t)?;
    prove_table(&ctx, &lookups, &mut routes, t)?;

    let mut weights = opts.weights.map(WeightsProver::session);
    for (i, layer) in model.layers.iter().enumerate().rev() {
        phases.start(format!("layer {i} ({})", layer.kind()));
        prove_relations(&ctx, i, &mut routes, t)?;
        if !layer.output_committed() {
            prove_virtual(&mut routes, &w.tensors, &ctx.plan.layouts[i], i, weights.as_mut(), t)?;
        }
    }
    phases.start("open advice");
    routes.scheme.finish(t)?;
    if let Some(mut weights) = weights {
        phases.start("open weights");
        weights.finish(t)?;
    }
    phases.end();
    Ok(())
}

/// The lookups' sizes at `-v` (and each layer's at `-vv`), for the phase breakdown: nothing is
/// computed unless the level is on.
#[expect(clippy::indexing_slicing, reason = "the plan has one layout per layer")]
fn log_lookup_sizes(model: &Model, plan: &super::plan::Plan) {
    if tracing::enabled!(tracing::Level::INFO) {
        tracing::info!(
            range_values = plan.range_total,
            range_bits = plan.range_bits,
            table_tuples = plan.table_total,
            table_rows = plan.table_rows,
            "lookups"
        );
    }
    if !tracing::enabled!(tracing::Level::DEBUG) {
        return;
    }
    for (i, l) in model.layers.iter().enumerate() {
        let checks = l.range_checks().len();
        let table = l.table_lookup().map_or(0, |t| t.rows.len());
        if checks > 0 || table > 0 {
            tracing::debug!(
                layer = i,
                kind = l.kind(),
                slots = plan.layouts[i].padded_len(),
                range_checks = checks,
                table_rows = table,
                "lookups of a layer"
            );
        }
    }
}
