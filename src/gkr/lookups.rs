//! Phase 4, prover and verifier side by side: one LogUp for every range check of the proof (one
//! shared table [0, 2^range_bits)), then one LogUp for every table lookup (activations,
//! threshold requantizations: one shared table of every layer's rows, each tuple folded with its
//! layer tag by β). After each, the looked-up values are tied back to the layers' columns and
//! inputs at the lookup's point, and the multiplicities are opened.

use super::context::ProverCtx;
use super::plan::{combine_segments, range_eval, range_int, table_segment_value, tag, Plan};
use super::routing::{ProverRoutes, VerifierRoutes};
use crate::circuit::layout::dot_ints;
use crate::circuit::{Layer, Layout, Model, Var};
use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, Fp};
use crate::lookup::{self, LookupClaims};
use crate::poly::{eq_evals, evaluate_padded};
use crate::transcript::{labels, ProverTranscript, VerifierTranscript};
use std::collections::HashMap;

/// The prover's lookup witness: every range-checked value and looked-up tuple, and the
/// multiplicities of both tables.
pub(crate) struct LookupWitness {
    /// Segment after segment ([`Plan::range`]); −1 marks a value out of range.
    pub range_values: Vec<i64>,
    pub range_m: Vec<i64>,
    /// For each table lookup (in [`Plan::table_layers`] order) the tuples on the padded slots,
    /// flattened: slot j's tuple is `[j·w, (j + 1)·w)` for the lookup's width w.
    pub tuples: Vec<Vec<i64>>,
    pub table_m: Vec<i64>,
}

impl LookupWitness {
    /// # Errors
    /// [`ProveError::NotInTable`] for a value in no table (when strict; a cheater leaves it out
    /// of the multiplicities).
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: slots are checked against the tables' lengths, blocks follow the plan"
    )]
    pub fn new(ctx: &ProverCtx<'_>) -> Result<Self, ProveError> {
        let (model, plan) = (ctx.model, &ctx.plan);
        let range_values = range_values(ctx);
        let mut range_m = vec![0i64; 1 << model.range_bits()];
        for (i, &v) in range_values.iter().enumerate() {
            match usize::try_from(v).ok().filter(|&s| s < range_m.len()) {
                Some(slot) => range_m[slot] += 1,
                None if ctx.strict => return Err(ProveError::NotInTable { index: i }),
                None => {}
            }
        }
        let tuples = table_inputs(ctx);
        let mut table_m = vec![0i64; plan.table_rows];
        for (block, &i) in plan.table_layers.iter().enumerate() {
            let Some(tl) = model.layers[i].table_lookup() else { continue };
            let index: HashMap<&[i64], usize> =
                tl.rows.iter().enumerate().map(|(r, row)| (row.as_slice(), r)).collect();
            for (j, tuple) in tuples[block].chunks(tl.columns.len()).enumerate() {
                match index.get(tuple) {
                    Some(&r) => table_m[plan.table_offsets[block] + r] += 1,
                    None if ctx.strict => return Err(ProveError::NotInTable { index: j }),
                    None => {}
                }
            }
        }
        Ok(Self { range_values, range_m, tuples, table_m })
    }
}

/// Every range-checked value, segment after segment.
#[expect(clippy::indexing_slicing, reason = "prover side: segments follow the plan")]
fn range_values(ctx: &ProverCtx<'_>) -> Vec<i64> {
    let (plan, w) = (&ctx.plan, ctx.witness);
    let mut out = vec![0i64; plan.range_total];
    for s in &plan.range {
        let layer = &ctx.model.layers[s.layer];
        let lin = &layer.range_checks()[s.check];
        let layout = &plan.layouts[s.layer];
        let inputs: Vec<Vec<i64>> = (0..layer.inputs().len())
            .map(|j| {
                let uses = lin.terms.iter().any(|&(v, _)| v == Var::In(j));
                if uses {
                    layout.pad(&w.tensors[layer.inputs()[j]].data)
                } else {
                    Vec::new()
                }
            })
            .collect();
        let uses_coef = lin.terms.iter().any(|&(v, _)| matches!(v, Var::Coef(_)));
        let coefs: Vec<Vec<i64>> = if uses_coef {
            layer.coefficients().iter().map(|c| layout.pad(c)).collect()
        } else {
            Vec::new()
        };
        let value = |v: Var, slot: usize| match v {
            Var::Col(c) => ctx.padded_cols[s.layer][c][slot],
            Var::In(j) => inputs[j][slot],
            Var::Coef(k) => coefs[k][slot],
        };
        for (j, valid) in layout.mask().into_iter().enumerate() {
            // out-of-range values stay visible (−1 is in no table)
            out[s.offset + j] = i64::try_from(range_int(lin, |v| value(v, j), valid)).unwrap_or(-1);
        }
    }
    out
}

/// For every table lookup, the tuples looked up on the padded slots (row 0 on padded slots).
#[expect(clippy::indexing_slicing, reason = "prover side: layers and columns follow the plan")]
fn table_inputs(ctx: &ProverCtx<'_>) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    for &i in &ctx.plan.table_layers {
        let layer: &dyn Layer = ctx.model.layers[i].as_ref();
        let Some(tl) = layer.table_lookup() else { continue };
        let layout = &ctx.plan.layouts[i];
        let coefs = layer.coefficients();
        let comps: Vec<Vec<i64>> = tl
            .columns
            .iter()
            .map(|&v| match v {
                Var::Col(c) => ctx.padded_cols[i][c].clone(),
                Var::In(j) => layout.pad(&ctx.witness.tensors[layer.inputs()[j]].data),
                Var::Coef(k) => layout.pad(&coefs[k]),
            })
            .collect();
        let mask = layout.mask();
        let mut tuples = Vec::with_capacity(layout.padded_len() * comps.len());
        for (j, &valid) in mask.iter().enumerate() {
            if valid {
                tuples.extend(comps.iter().map(|c| c[j]));
            } else {
                tuples.extend_from_slice(&tl.rows[0]);
            }
        }
        out.push(tuples);
    }
    out
}

/// Runs a LogUp (strict, or as a cheater would).
fn logup(
    ctx: &ProverCtx<'_>,
    stmt: &lookup::LookupStatement,
    values: &[Fp],
    m: &[i64],
    mut t: &mut dyn ProverTranscript,
) -> Result<LookupClaims, ProveError> {
    let m: Vec<u64> = m.iter().map(|&v| v as u64).collect();
    if ctx.strict {
        lookup::prove(stmt, values, &m, &mut t)
    } else {
        lookup::prover::prove_unchecked(stmt, values, &m, &mut t)
    }
}

/// The range lookup, and each range-checked layer's columns and inputs at its point.
///
/// # Errors
/// A failed LogUp.
#[expect(clippy::indexing_slicing, reason = "prover side: layers and columns follow the plan")]
pub(crate) fn prove_range(
    ctx: &ProverCtx<'_>,
    lw: &LookupWitness,
    routes: &mut ProverRoutes<'_>,
    t: &mut dyn ProverTranscript,
) -> Result<(), ProveError> {
    let plan = &ctx.plan;
    if plan.range_total == 0 {
        return Ok(());
    }
    let values: Vec<Fp> = lw.range_values.iter().map(|&v| from_i64(v)).collect();
    let claims = logup(ctx, &plan.range_statement(), &values, &lw.range_m, t)?;
    for i in plan.range_layers(ctx.model) {
        let rho = &claims.point[..plan.layouts[i].num_vars()];
        let eq = eq_evals(rho);
        let layer = &ctx.model.layers[i];
        let vars = plan.range_vars(ctx.model, i);
        let evals: Vec<(Var, Fp)> = vars
            .iter()
            .map(|&v| {
                let e = match v {
                    Var::Col(c) => dot_ints(&ctx.padded_cols[i][c], &eq),
                    Var::In(j) => dot_ints(
                        &plan.layouts[i].pad(&ctx.witness.tensors[layer.inputs()[j]].data),
                        &eq,
                    ),
                    Var::Coef(_) => Fp::default(),
                };
                (v, e)
            })
            .collect();
        let sent: Vec<Fp> = evals.iter().map(|e| e.1).collect();
        t.send(labels::GKR_RANGE_EVALS, &sent);
        routes.claim_vars(i, &evals, rho, t);
    }
    let id = routes.multiplicities[0];
    routes.scheme.open(id, &claims.multiplicities_point, claims.multiplicities_eval, t);
    Ok(())
}

const SHORT: VerifyError = VerifyError::InvalidStatement { reason: "lookup point too short" };
const MISSING: VerifyError = VerifyError::InvalidStatement { reason: "missing layer" };

/// The public coefficient table `k` at `point`, evaluated by the verifier.
fn coefficient(coefs: &[Vec<i64>], layout: &Layout, k: usize, point: &[Fp]) -> Fp {
    coefs.get(k).map_or(Fp::default(), |c| evaluate_padded(&layout.pad_fp(c), point))
}

/// The verifier's [`prove_range`].
///
/// # Errors
/// A failed LogUp ([`VerifyError::Lookup`]), values that do not match the layers' columns, or a
/// failed opening.
pub(crate) fn verify_range(
    model: &Model,
    plan: &Plan,
    routes: &mut VerifierRoutes<'_>,
    mut t: &mut dyn VerifierTranscript,
) -> Result<(), VerifyError> {
    if plan.range_total == 0 {
        return Ok(());
    }
    let range_err = |e| VerifyError::Lookup { which: "range", source: Box::new(e) };
    let claims = lookup::verify(&plan.range_statement(), &mut t).map_err(range_err)?;
    let mut segment_values = vec![Fp::default(); plan.range.len()];
    for i in plan.range_layers(model) {
        let layout = plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
        let rho = claims.point.get(..layout.num_vars()).ok_or(SHORT)?.to_vec();
        let vars = plan.range_vars(model, i);
        let evals = t.receive(labels::GKR_RANGE_EVALS, vars.len())?;
        let layer = model.layers.get(i).ok_or(MISSING)?;
        // columns and inputs are sent; public coefficients the verifier evaluates itself
        let coefs = layer.coefficients();
        let value_of = |v: Var| match v {
            Var::Coef(k) => coefficient(&coefs, &layout, k, &rho),
            _ => (vars.iter().position(|&x| x == v).and_then(|p| evals.get(p)))
                .copied()
                .unwrap_or_default(),
        };
        let checks = layer.range_checks();
        let mask = layout.mask_eval(&rho);
        for (s, slot) in plan.range.iter().zip(segment_values.iter_mut()) {
            if s.layer == i {
                *slot = checks
                    .get(s.check)
                    .map_or(Fp::default(), |lin| range_eval(lin, value_of, mask));
            }
        }
        let sent: Vec<(Var, Fp)> = vars.iter().copied().zip(evals.iter().copied()).collect();
        routes.claim_vars(i, &sent, &rho, t)?;
    }
    let combined = combine_segments(&plan.range, &claims.point, &segment_values);
    if combined != claims.values_eval {
        return Err(range_err(VerifyError::EvalMismatch {
            what: "range-checked values from the layers' columns",
            claimed: claims.values_eval,
            computed: combined,
        }));
    }
    let layout = Layout::new(&[1 << model.range_bits()]);
    let (point, value) = (&claims.multiplicities_point, claims.multiplicities_eval);
    let id = routes.multiplicities[0];
    (routes.scheme.check(id, &layout, point, value, "range multiplicities", t)).map_err(range_err)
}

/// The table lookup, and each looked-up layer's tuple components at its point.
///
/// # Errors
/// A failed LogUp.
#[expect(clippy::indexing_slicing, reason = "prover side: layers and blocks follow the plan")]
pub(crate) fn prove_table(
    ctx: &ProverCtx<'_>,
    lw: &LookupWitness,
    routes: &mut ProverRoutes<'_>,
    t: &mut dyn ProverTranscript,
) -> Result<(), ProveError> {
    let (model, plan) = (ctx.model, &ctx.plan);
    if plan.table_total == 0 {
        return Ok(());
    }
    let beta = t.challenge(labels::GKR_BETA);
    let stmt = plan.table_statement(model, beta);
    let mut values = vec![Fp::default(); plan.table_total];
    for s in &plan.table {
        let block = plan.table_layers.iter().position(|&l| l == s.layer).unwrap_or(0);
        let width = model.layers[s.layer].table_lookup().map_or(1, |tl| tl.columns.len());
        let tag = Fp::from(tag(plan.table_owner(s.layer)));
        let fold = |tuple: &[i64]| tuple.iter().rev().fold(tag, |acc, &v| acc * beta + from_i64(v));
        for (j, tuple) in lw.tuples[block].chunks(width).enumerate() {
            values[s.offset + j] = fold(tuple);
        }
    }
    let claims = logup(ctx, &stmt, &values, &lw.table_m, t)?;
    for (block, &i) in plan.table_layers.iter().enumerate() {
        let Some(tl) = model.layers[i].table_lookup() else { continue };
        let rho = claims.point[..plan.layouts[i].num_vars()].to_vec();
        let mask = plan.layouts[i].mask();
        let mut evals = Vec::new();
        for (k, &var) in tl.columns.iter().enumerate() {
            if matches!(var, Var::Coef(_)) {
                continue;
            }
            // the component's own table: zero on padded slots
            let comp: Vec<Fp> = lw.tuples[block]
                .chunks(tl.columns.len())
                .zip(&mask)
                .map(|(t, &valid)| if valid { from_i64(t[k]) } else { Fp::default() })
                .collect();
            evals.push((var, evaluate_padded(&comp, &rho)));
        }
        let sent: Vec<Fp> = evals.iter().map(|e| e.1).collect();
        t.send(labels::GKR_TABLE_EVALS, &sent);
        routes.claim_vars(i, &evals, &rho, t);
    }
    let id = routes.multiplicities[1];
    routes.scheme.open(id, &claims.multiplicities_point, claims.multiplicities_eval, t);
    Ok(())
}

/// The verifier's [`prove_table`].
///
/// # Errors
/// As [`verify_range`], for the table lookup.
pub(crate) fn verify_table(
    model: &Model,
    plan: &Plan,
    routes: &mut VerifierRoutes<'_>,
    mut t: &mut dyn VerifierTranscript,
) -> Result<(), VerifyError> {
    if plan.table_total == 0 {
        return Ok(());
    }
    let table_err = |e| VerifyError::Lookup { which: "table", source: Box::new(e) };
    let beta = t.challenge(labels::GKR_BETA);
    let stmt = plan.table_statement(model, beta);
    let claims = lookup::verify(&stmt, &mut t).map_err(table_err)?;
    let mut segment_values = vec![Fp::default(); plan.table.len()];
    for &i in &plan.table_layers {
        let layer = model.layers.get(i).ok_or(MISSING)?;
        let tl = (layer.table_lookup())
            .ok_or(VerifyError::InvalidStatement { reason: "missing lookup" })?;
        let layout = plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
        let rho = claims.point.get(..layout.num_vars()).ok_or(SHORT)?.to_vec();
        let sent = tl.columns.iter().filter(|v| !matches!(v, Var::Coef(_))).count();
        let evals = t.receive(labels::GKR_TABLE_EVALS, sent)?;
        let mut sent_evals = evals.iter();
        let coefs = layer.coefficients();
        let comps: Vec<(Var, Fp)> = (tl.columns.iter())
            .map(|&var| match var {
                Var::Coef(k) => (var, coefficient(&coefs, &layout, k, &rho)),
                _ => (var, sent_evals.next().copied().unwrap_or_default()),
            })
            .collect();
        routes.claim_vars(i, &comps, &rho, t)?;
        let values: Vec<Fp> = comps.iter().map(|c| c.1).collect();
        let row0 = tl.rows.first().map(Vec::as_slice).unwrap_or_default();
        let owner = plan.table_owner(i);
        let value = table_segment_value(&values, layout.mask_eval(&rho), row0, owner, beta);
        for (s, slot) in plan.table.iter().zip(segment_values.iter_mut()) {
            if s.layer == i {
                *slot = value;
            }
        }
    }
    let combined = combine_segments(&plan.table, &claims.point, &segment_values);
    if combined != claims.values_eval {
        return Err(table_err(VerifyError::EvalMismatch {
            what: "looked-up tuples from the layers' columns",
            claimed: claims.values_eval,
            computed: combined,
        }));
    }
    let layout = Layout::new(&[plan.table_rows]);
    let (point, value) = (&claims.multiplicities_point, claims.multiplicities_eval);
    let id = routes.multiplicities[1];
    (routes.scheme.check(id, &layout, point, value, "table multiplicities", t)).map_err(table_err)
}
