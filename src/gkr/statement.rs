//! Phases 1–2, prover and verifier side by side: the statement (protocol, model digest, input,
//! the model commitment, the advice mode), the claimed output, then every advice column and both
//! lookups' multiplicities through the advice scheme — all before the first challenge, so no
//! advice can be chosen knowing the point it will be checked at.

use super::advice::AdviceMode;
use super::context::ProverCtx;
use super::lookups::LookupWitness;
use super::plan::Plan;
use super::routing::{ProverRoutes, VerifierRoutes};
use super::weights::{ModelCommitment, WeightChecks};
use crate::circuit::{Layout, Model, Tensor};
use crate::error::{ProveError, VerifyError};
use crate::transcript::{
    append_digest, ints_bytes, labels, Label, ProverTranscript, Transcript, VerifierTranscript,
};

/// The protocol name and version absorbed first.
pub const PROTOCOL: &str = "gkrnet model proof v1";

/// Absorbs the statement: protocol, model digest, input.
pub(crate) fn absorb_statement(t: &mut impl Transcript, model: &Model, input: &[i64]) {
    t.append_bytes(labels::GKR_PROTOCOL, PROTOCOL.as_bytes());
    t.append_bytes(labels::GKR_MODEL, &model.digest());
    append_digest(t, labels::GKR_INPUT, &ints_bytes(input));
}

/// Binds the statement and sends the output.
///
/// # Errors
/// A model whose committed layers do not match the commitment (or its absence).
pub(crate) fn prove_statement(
    mut t: &mut dyn ProverTranscript,
    model: &Model,
    input: &Tensor,
    commitment: Option<(&ModelCommitment, usize)>,
    mode: AdviceMode,
    output: &Tensor,
) -> Result<(), ProveError> {
    absorb_statement(&mut t, model, &input.data);
    let committed_layers = model.layers.iter().filter(|l| l.weights_committed()).count();
    match commitment {
        Some((c, layers)) if layers == committed_layers => c.absorb(&mut t),
        None if committed_layers == 0 => {}
        _ => {
            return Err(ProveError::InvalidShape {
                reason: "the model's committed layers do not match the commitment".into(),
            })
        }
    }
    mode.absorb(&mut t);
    t.send_ints(labels::GKR_OUTPUT, &output.data);
    Ok(())
}

/// The verifier's [`prove_statement`]: returns the claimed output and, for a commitment, the
/// checks of its weights.
///
/// # Errors
/// A model with committed weights and no commitment, a malformed commitment, a short proof.
pub(crate) fn verify_statement(
    mut t: &mut dyn VerifierTranscript,
    model: &Model,
    input: &Tensor,
    commitment: Option<&ModelCommitment>,
    mode: AdviceMode,
) -> Result<(Tensor, Option<WeightChecks>), VerifyError> {
    if input.dims != model.input_dims || input.data.iter().any(|v| !(-128..=127).contains(v)) {
        return Err(VerifyError::InvalidStatement { reason: "the input does not fit the model" });
    }
    absorb_statement(&mut t, model, &input.data);
    let weights = match commitment {
        Some(c) => {
            c.absorb(&mut t);
            Some(WeightChecks::new(model, c)?)
        }
        None if model.layers.iter().any(|l| l.weights_committed()) => {
            return Err(VerifyError::InvalidStatement {
                reason: "the model's weights are committed: a model commitment is needed",
            })
        }
        None => None,
    };
    mode.absorb(&mut t);
    let dims = model.output_dims().to_vec();
    let len = Layout::new(&dims).len();
    let output = Tensor { dims, data: t.receive_ints(labels::GKR_OUTPUT, len)? };
    Ok((output, weights))
}

/// Commits every layer's columns, then the range and table multiplicities, under `mode`.
///
/// # Errors
/// A column of the wrong length, or a table beyond the PCS's domains.
#[expect(clippy::indexing_slicing, reason = "prover side: the plan has one layout per layer")]
pub(crate) fn commit_advice<'a>(
    ctx: &ProverCtx<'a>,
    lookups: &LookupWitness,
    mode: AdviceMode,
    t: &mut dyn ProverTranscript,
) -> Result<ProverRoutes<'a>, ProveError> {
    let (model, plan) = (ctx.model, &ctx.plan);
    let mut first_col = Vec::with_capacity(model.layers.len());
    let mut columns: Vec<(Label, &Layout, &[i64])> = Vec::new();
    for i in 0..model.layers.len() {
        first_col.push(columns.len());
        let layout = &plan.layouts[i];
        columns.extend(
            ctx.witness.columns(model, i).into_iter().map(|c| (labels::GKR_ADVICE, layout, c)),
        );
    }
    let range_layout = Layout::new(&[lookups.range_m.len()]);
    let range_m = columns.len();
    if plan.range_total > 0 {
        columns.push((labels::GKR_MULTIPLICITIES, &range_layout, &lookups.range_m));
    }
    let table_layout = Layout::new(&[lookups.table_m.len()]);
    let table_m = columns.len();
    if plan.table_total > 0 {
        columns.push((labels::GKR_MULTIPLICITIES, &table_layout, &lookups.table_m));
    }
    let mut scheme = mode.prover();
    scheme.commit(&columns, t)?;
    Ok(ProverRoutes::new(model, first_col, [range_m, table_m], scheme))
}

/// The verifier's [`commit_advice`]: receives the commitment (or the columns) of the same
/// layouts.
///
/// # Errors
/// A short or malformed proof, or more advice than the scheme takes.
pub(crate) fn receive_advice<'a>(
    model: &'a Model,
    plan: &'a Plan,
    input: &'a Tensor,
    mode: AdviceMode,
    t: &mut dyn VerifierTranscript,
) -> Result<VerifierRoutes<'a>, VerifyError> {
    let mut columns = Vec::new();
    let mut first_col = Vec::with_capacity(model.layers.len());
    for (i, l) in model.layers.iter().enumerate() {
        first_col.push(columns.len());
        let layout = plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
        columns.extend(std::iter::repeat_n((labels::GKR_ADVICE, layout), l.columns().len()));
    }
    let range_m = columns.len();
    if plan.range_total > 0 {
        columns.push((labels::GKR_MULTIPLICITIES, Layout::new(&[1 << model.range_bits()])));
    }
    let table_m = columns.len();
    if plan.table_total > 0 {
        columns.push((labels::GKR_MULTIPLICITIES, Layout::new(&[plan.table_rows])));
    }
    let mut scheme = mode.verifier();
    scheme.receive(&columns, t)?;
    Ok(VerifierRoutes::new(model, &plan.layouts, input, first_col, [range_m, table_m], scheme))
}
