//! Phase 5a, prover and verifier side by side: a layer's elementwise relations (polynomials in
//! its columns, inputs and public coefficients that vanish on every valid slot), combined by a
//! random γ and proved by one eq-weighted zero-check sumcheck,
//! Σ_x eq(τ, x)·mask(x)·Σ_r γ^r·R_r(x) = 0. The variables' values at the sumcheck's point are
//! sent (coefficients the verifier evaluates itself) and routed as claims.

use super::context::ProverCtx;
use super::plan::Plan;
use super::routing::{at_layer, ProverRoutes, VerifierRoutes};
use crate::circuit::expr::{combine, Poly};
use crate::circuit::layout::dot_ints;
use crate::circuit::{Layout, Model, Var};
use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, Fp};
use crate::poly::{eq_evals, evaluate_padded};
use crate::sumcheck::prover::ProverOutput;
use crate::sumcheck::{self, prover::ProductSum, SumcheckClaim, Term};
use crate::transcript::{labels, ProverTranscript, VerifierTranscript};

/// Proves layer `i`'s relations (nothing if it has none).
///
/// # Errors
/// A witness that breaks the relations (when strict), or tables of mismatched lengths.
#[expect(clippy::indexing_slicing, reason = "prover side: i is a layer of the model and the plan")]
pub(crate) fn prove_relations(
    ctx: &ProverCtx<'_>,
    i: usize,
    routes: &mut ProverRoutes<'_>,
    t: &mut dyn ProverTranscript,
) -> Result<(), ProveError> {
    let layer = &ctx.model.layers[i];
    let relations = layer.relations();
    if relations.is_empty() {
        return Ok(());
    }
    let layout = &ctx.plan.layouts[i];
    let tau = t.challenges(labels::GKR_ZC_TAU, layout.num_vars());
    let gamma = t.challenge(labels::GKR_ZC_GAMMA);
    let poly = combine(&relations, gamma);
    let vars = poly.vars();
    let tables = Tables::new(ctx, i, &vars);
    let eq = layout.masked_eq_table(&tau);
    let (out, holds, evals) = if poly.degree() == 1 {
        linear(&poly, &vars, eq, &tables, t)?
    } else {
        general(&poly, &vars, eq, tables, t)?
    };
    if ctx.strict && !holds {
        return Err(ProveError::Model(format!(
            "layer {i} ({}): the witness breaks the layer's relations",
            layer.kind()
        )));
    }
    let values: Vec<(Var, Fp)> = vars.iter().copied().zip(evals).collect();
    let sent: Vec<Fp> =
        values.iter().filter(|(v, _)| !matches!(v, Var::Coef(_))).map(|(_, e)| *e).collect();
    t.send(labels::GKR_ZC_EVALS, &sent);
    routes.claim_vars(i, &values, &out.point, t);
    Ok(())
}

/// Each variable of a relation as a table on the padded layout.
struct Tables<'a> {
    ctx: &'a ProverCtx<'a>,
    layer: usize,
    coefs: Vec<Vec<i64>>,
    tables: Vec<Vec<Fp>>,
}

impl<'a> Tables<'a> {
    #[expect(clippy::indexing_slicing, reason = "prover side: variables are the layer's own")]
    fn new(ctx: &'a ProverCtx<'a>, i: usize, vars: &[Var]) -> Self {
        let layer = &ctx.model.layers[i];
        let layout = &ctx.plan.layouts[i];
        let coefs = layer.coefficients();
        let tables = vars
            .iter()
            .map(|v| match *v {
                Var::Col(c) => ctx.padded_cols[i][c].iter().map(|&x| from_i64(x)).collect(),
                Var::In(j) => layout.pad_fp(&ctx.witness.tensors[layer.inputs()[j]].data),
                Var::Coef(k) => layout.pad_fp(&coefs[k]),
            })
            .collect();
        Self { ctx, layer: i, coefs, tables }
    }

    /// The integer values of `v` on the padded layout, dotted with `eq`.
    #[expect(clippy::indexing_slicing, reason = "prover side: variables are the layer's own")]
    fn eval_ints(&self, v: Var, eq: &[Fp]) -> Fp {
        let (ctx, i) = (self.ctx, self.layer);
        let layer = &ctx.model.layers[i];
        let layout = &ctx.plan.layouts[i];
        match v {
            Var::Col(c) => dot_ints(&ctx.padded_cols[i][c], eq),
            Var::In(j) => dot_ints(&layout.pad(&ctx.witness.tensors[layer.inputs()[j]].data), eq),
            Var::Coef(k) => dot_ints(&layout.pad(&self.coefs[k]), eq),
        }
    }
}

/// Linear relations: Σ E·L with L = Σ c·v tabulated once (the two-table kernel), then the
/// variables evaluated at the sumcheck's point.
#[expect(clippy::indexing_slicing, reason = "prover side: one table per variable")]
fn linear(
    poly: &Poly,
    vars: &[Var],
    eq: Vec<Fp>,
    tables: &Tables<'_>,
    mut t: &mut dyn ProverTranscript,
) -> Result<(ProverOutput, bool, Vec<Fp>), ProveError> {
    let mut l = vec![Fp::default(); eq.len()];
    for (c, vs) in &poly.monomials {
        match vs.first() {
            None => l.iter_mut().for_each(|x| *x += c),
            Some(v) => {
                let table = &tables.tables[vars.iter().position(|u| u == v).unwrap_or(0)];
                l.iter_mut().zip(table).for_each(|(x, y)| *x += *c * y);
            }
        }
    }
    let (out, holds) =
        sumcheck::prover::prove_unchecked(ProductSum::product(vec![eq, l])?, Fp::default(), &mut t);
    let point_eq = eq_evals(&out.point);
    let evals = vars.iter().map(|&v| tables.eval_ints(v, &point_eq)).collect();
    Ok((out, holds, evals))
}

/// Relations of higher degree: the general product-sum sumcheck over eq and every variable.
fn general(
    poly: &Poly,
    vars: &[Var],
    eq: Vec<Fp>,
    tables: Tables<'_>,
    mut t: &mut dyn ProverTranscript,
) -> Result<(ProverOutput, bool, Vec<Fp>), ProveError> {
    let terms: Vec<Term> = poly
        .monomials
        .iter()
        .map(|(c, vs)| {
            let mut f = vec![0];
            f.extend(vs.iter().map(|v| 1 + vars.iter().position(|u| u == v).unwrap_or(0)));
            Term::new(*c, f)
        })
        .collect();
    let mut all = vec![eq];
    all.extend(tables.tables);
    let (out, holds) =
        sumcheck::prover::prove_unchecked(ProductSum::new(all, terms)?, Fp::default(), &mut t);
    let evals = out.final_evals.get(1..).unwrap_or_default().to_vec();
    Ok((out, holds, evals))
}

/// The verifier's [`prove_relations`].
///
/// # Errors
/// A failed sumcheck, a final evaluation that does not match the relations at the sent values
/// ([`VerifyError::FinalEvalMismatch`] in the layer), or a failed opening.
pub(crate) fn verify_relations(
    model: &Model,
    plan: &Plan,
    i: usize,
    routes: &mut VerifierRoutes<'_>,
    mut t: &mut dyn VerifierTranscript,
) -> Result<(), VerifyError> {
    let layer =
        model.layers.get(i).ok_or(VerifyError::InvalidStatement { reason: "missing layer" })?;
    let err = at_layer(i, model);
    let relations = layer.relations();
    if relations.is_empty() {
        return Ok(());
    }
    let layout = plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
    let tau = t.challenges(labels::GKR_ZC_TAU, layout.num_vars());
    let gamma = t.challenge(labels::GKR_ZC_GAMMA);
    let poly = combine(&relations, gamma);
    let vars = poly.vars();
    let claim = SumcheckClaim {
        num_vars: layout.num_vars(),
        degree: 1 + poly.degree(),
        claimed_sum: Fp::default(),
    };
    let eval = sumcheck::verify(&claim, &mut t).map_err(&err)?;
    let sent: Vec<Var> = vars.iter().copied().filter(|v| !matches!(v, Var::Coef(_))).collect();
    let evals = t.receive(labels::GKR_ZC_EVALS, sent.len()).map_err(&err)?;
    let coefs = layer.coefficients();
    let value_of = |v: Var| match v {
        Var::Coef(k) => {
            coefs.get(k).map_or(Fp::default(), |c| evaluate_padded(&layout.pad_fp(c), &eval.point))
        }
        v => (sent.iter().position(|&u| u == v).and_then(|p| evals.get(p)))
            .copied()
            .unwrap_or_default(),
    };
    let got = layout.masked_eq_eval(&tau, &eval.point) * poly.eval(&value_of);
    if got != eval.value {
        return Err(err(VerifyError::FinalEvalMismatch { expected: eval.value, got }));
    }
    let values: Vec<(Var, Fp)> = sent.into_iter().zip(evals).collect();
    routes.claim_vars(i, &values, &eval.point, t).map_err(&err)
}
