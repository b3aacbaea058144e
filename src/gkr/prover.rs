//! The model prover.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use super::advice::{AdviceMode, AdviceProver};
use super::weights::{self, WeightsProver};
use super::{absorb_statement, range_int, tag, Plan, PROTOCOL};
use crate::circuit::expr::combine;
use crate::circuit::layout::dot_ints;
use crate::circuit::{Layer, Layout, Model, Tensor, Var, Witness};
use crate::error::ProveError;
use crate::field::{from_i64, Fp};
use crate::lookup;
use crate::poly::{eq_evals, evaluate_padded};
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, Term};
use crate::transcript::{labels, FiatShamirProver, Label, ProverTranscript};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A proof with the output it proves and where the prover spent its time.
#[derive(Clone, Debug)]
pub struct ModelProof {
    pub output: Tensor,
    pub proof: Vec<u8>,
    /// (phase, time): the integer reference, commitment, lookups, then each layer.
    pub timings: Vec<(String, Duration)>,
}

/// Runs the integer reference and proves it (Fiat–Shamir), advice in the clear.
///
/// # Errors
/// A model error from the reference (input shape, range), or a witness the relations reject.
pub fn prove(model: &Model, input: &Tensor) -> Result<ModelProof, ProveError> {
    prove_mode(model, input, AdviceMode::Clear)
}

/// [`prove`] with the advice bound by `mode`.
///
/// # Errors
/// As [`prove`].
pub fn prove_mode(
    model: &Model,
    input: &Tensor,
    mode: AdviceMode,
) -> Result<ModelProof, ProveError> {
    let start = Instant::now();
    let witness = model.forward(input).map_err(|e| ProveError::Model(e.to_string()))?;
    let mut timings = vec![("integer reference".to_string(), start.elapsed())];
    let mut t = FiatShamirProver::new(PROTOCOL);
    timings.extend(prove_inner(model, &witness, mode, None, &mut t, true)?);
    Ok(ModelProof { output: witness.output().clone(), proof: t.into_proof().encode(), timings })
}

/// [`prove_mode`] for the prover's copy of a committed model ([`super::weights::commit_model`]):
/// claims on the committed weights are opened against `weights`.
///
/// # Errors
/// As [`prove`].
pub fn prove_committed(
    model: &Model,
    input: &Tensor,
    mode: AdviceMode,
    weights: &mut WeightsProver,
) -> Result<ModelProof, ProveError> {
    let start = Instant::now();
    let witness = model.forward(input).map_err(|e| ProveError::Model(e.to_string()))?;
    let mut timings = vec![("integer reference".to_string(), start.elapsed())];
    let mut t = FiatShamirProver::new(PROTOCOL);
    timings.extend(prove_inner(model, &witness, mode, Some(weights), &mut t, true)?);
    Ok(ModelProof { output: witness.output().clone(), proof: t.into_proof().encode(), timings })
}

/// Proves a given witness (the honest one from [`Model::forward`], or a cheater's) over any
/// transcript, advice in the clear. Returns the time of each phase.
pub fn prove_witness(
    model: &Model,
    w: &Witness,
    t: &mut impl ProverTranscript,
) -> Result<Vec<(String, Duration)>, ProveError> {
    prove_inner(model, w, AdviceMode::Clear, None, t, true)
}

/// [`prove_witness`] with the advice bound by `mode`.
pub fn prove_witness_mode(
    model: &Model,
    w: &Witness,
    mode: AdviceMode,
    t: &mut impl ProverTranscript,
) -> Result<Vec<(String, Duration)>, ProveError> {
    prove_inner(model, w, mode, None, t, true)
}

/// A cheating prover for soundness tests: proves whatever witness it is given, as far as the
/// protocol lets it (out-of-range values are left out of the multiplicities, unbalanced lookups
/// and false zero-checks are sent anyway). Sub-protocols whose claims it cannot even phrase (a
/// false matrix product) still return an error.
#[cfg(any(test, feature = "test-util"))]
pub fn prove_witness_unchecked(
    model: &Model,
    w: &Witness,
    t: &mut impl ProverTranscript,
) -> Result<Vec<(String, Duration)>, ProveError> {
    prove_inner(model, w, AdviceMode::Clear, None, t, false)
}

/// [`prove_witness_unchecked`] with the advice bound by `mode`.
#[cfg(any(test, feature = "test-util"))]
pub fn prove_witness_unchecked_mode(
    model: &Model,
    w: &Witness,
    mode: AdviceMode,
    t: &mut impl ProverTranscript,
) -> Result<Vec<(String, Duration)>, ProveError> {
    prove_inner(model, w, mode, None, t, false)
}

fn prove_inner(
    model: &Model,
    w: &Witness,
    mode: AdviceMode,
    mut weights: Option<&mut WeightsProver>,
    mut t: &mut impl ProverTranscript,
    strict: bool,
) -> Result<Vec<(String, Duration)>, ProveError> {
    let plan = Plan::new(model);
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: String, timings: &mut Vec<(String, Duration)>| {
        timings.push((name, clock.elapsed()));
        clock = Instant::now();
    };
    let n_layers = model.layers.len();
    let invalid = |reason: String| ProveError::InvalidShape { reason };
    if w.tensors.len() != n_layers + 1 || w.advice.len() != n_layers {
        return Err(invalid("the witness does not match the model".into()));
    }

    // 1–2. statement, output, advice, multiplicities
    absorb_statement(&mut t, model, &w.tensors[0].data);
    let committed_layers = model.layers.iter().filter(|l| l.weights_committed()).count();
    match weights.as_deref() {
        Some(wp) if wp.layers.len() == committed_layers => wp.commitment.absorb(&mut t),
        None if committed_layers == 0 => {}
        _ => {
            return Err(invalid("the model's committed layers do not match the commitment".into()))
        }
    }
    mode.absorb(&mut t);
    t.send_ints(labels::GKR_OUTPUT, &w.output().data);
    let padded_cols: Vec<Vec<Vec<i64>>> = (0..n_layers)
        .map(|i| w.columns(model, i).iter().map(|c| plan.layouts[i].pad(c)).collect())
        .collect();
    let range_values: Vec<i64> = range_values(model, &plan, w, &padded_cols);
    let mut range_m = vec![0i64; 1 << model.range_bits()];
    for (i, &v) in range_values.iter().enumerate() {
        match usize::try_from(v).ok().filter(|&s| s < range_m.len()) {
            Some(slot) => range_m[slot] += 1,
            None if strict => return Err(ProveError::NotInTable { index: i }),
            None => {}
        }
    }
    let table = table_inputs(model, &plan, w, &padded_cols);
    let mut table_m = vec![0i64; plan.table_rows];
    for (block, &i) in plan.table_layers.iter().enumerate() {
        let Some(tl) = model.layers[i].table_lookup() else { continue };
        let index: HashMap<&[i64], usize> =
            tl.rows.iter().enumerate().map(|(r, row)| (row.as_slice(), r)).collect();
        for (j, tuple) in table[block].chunks(tl.columns.len()).enumerate() {
            match index.get(tuple) {
                Some(&r) => table_m[plan.table_offsets[block] + r] += 1,
                None if strict => return Err(ProveError::NotInTable { index: j }),
                None => {}
            }
        }
    }
    let mut first_col = Vec::with_capacity(n_layers);
    let mut columns: Vec<(Label, &Layout, &[i64])> = Vec::new();
    for i in 0..n_layers {
        first_col.push(columns.len());
        columns.extend(
            w.columns(model, i).into_iter().map(|c| (labels::GKR_ADVICE, &plan.layouts[i], c)),
        );
    }
    let range_layout = Layout::new(&[range_m.len()]);
    let range_m_id = columns.len();
    if plan.range_total > 0 {
        columns.push((labels::GKR_MULTIPLICITIES, &range_layout, &range_m));
    }
    let table_layout = Layout::new(&[table_m.len()]);
    let table_m_id = columns.len();
    if plan.table_total > 0 {
        columns.push((labels::GKR_MULTIPLICITIES, &table_layout, &table_m));
    }
    let mut scheme = mode.prover();
    scheme.commit(&columns, &mut t)?;
    let mut st = Openings { model, first_col, pending: vec![Vec::new(); n_layers + 1], scheme };
    lap("commit advice".into(), &mut timings);

    // 3. the output
    let out_layout = Layout::new(&w.output().dims);
    let r = t.challenges(labels::GKR_OUTPUT_POINT, out_layout.num_vars());
    let value = w.output().evaluate(&r);
    st.route(n_layers, EvalClaim { point: r, value }, t);

    // 4. lookups
    if plan.range_total > 0 {
        let values: Vec<Fp> = range_values.iter().map(|&v| from_i64(v)).collect();
        let m: Vec<u64> = range_m.iter().map(|&v| v as u64).collect();
        let claims = if strict {
            lookup::prove(&plan.range_statement(), &values, &m, &mut t)?
        } else {
            lookup::prover::prove_unchecked(&plan.range_statement(), &values, &m, &mut t)?
        };
        for i in plan.range_layers(model) {
            let rho = &claims.point[..plan.layouts[i].num_vars()];
            let eq = eq_evals(rho);
            let layer = &model.layers[i];
            let vars = plan.range_vars(model, i);
            let evals: Vec<Fp> = vars
                .iter()
                .map(|&v| match v {
                    Var::Col(c) => dot_ints(&padded_cols[i][c], &eq),
                    Var::In(j) => {
                        dot_ints(&plan.layouts[i].pad(&w.tensors[layer.inputs()[j]].data), &eq)
                    }
                    Var::Coef(_) => Fp::default(),
                })
                .collect();
            t.send(labels::GKR_RANGE_EVALS, &evals);
            for (&v, &e) in vars.iter().zip(&evals) {
                match v {
                    Var::Col(c) => st.open_column(i, c, rho, e, t),
                    Var::In(j) => {
                        let claim = EvalClaim { point: rho.to_vec(), value: e };
                        st.route(layer.inputs()[j], claim, t)
                    }
                    Var::Coef(_) => {}
                }
            }
        }
        st.scheme.open(range_m_id, &claims.multiplicities_point, claims.multiplicities_eval, t);
    }
    if plan.table_total > 0 {
        let beta = t.challenge(labels::GKR_BETA);
        let stmt = plan.table_statement(model, beta);
        let mut values = vec![Fp::default(); plan.table_total];
        for s in &plan.table {
            let block = plan.table_layers.iter().position(|&l| l == s.layer).unwrap_or(0);
            let width = model.layers[s.layer].table_lookup().map_or(1, |tl| tl.columns.len());
            let fold = |tuple: &[i64]| {
                tuple.iter().rev().fold(Fp::from(tag(s.layer)), |acc, &v| acc * beta + from_i64(v))
            };
            for (j, tuple) in table[block].chunks(width).enumerate() {
                values[s.offset + j] = fold(tuple);
            }
        }
        let m: Vec<u64> = table_m.iter().map(|&v| v as u64).collect();
        let claims = if strict {
            lookup::prove(&stmt, &values, &m, &mut t)?
        } else {
            lookup::prover::prove_unchecked(&stmt, &values, &m, &mut t)?
        };
        for (block, &i) in plan.table_layers.iter().enumerate() {
            let layer = &model.layers[i];
            let Some(tl) = layer.table_lookup() else { continue };
            let rho = claims.point[..plan.layouts[i].num_vars()].to_vec();
            let mask = plan.layouts[i].mask();
            let mut evals = Vec::new();
            for (k, &var) in tl.columns.iter().enumerate() {
                if matches!(var, Var::Coef(_)) {
                    continue;
                }
                // the component's own table: zero on padded slots
                let comp: Vec<Fp> = table[block]
                    .chunks(tl.columns.len())
                    .zip(&mask)
                    .map(|(t, &valid)| if valid { from_i64(t[k]) } else { Fp::default() })
                    .collect();
                evals.push((var, evaluate_padded(&comp, &rho)));
            }
            let values: Vec<Fp> = evals.iter().map(|e| e.1).collect();
            t.send(labels::GKR_TABLE_EVALS, &values);
            for (var, value) in evals {
                match var {
                    Var::Col(c) => st.open_column(i, c, &rho, value, t),
                    Var::In(j) => {
                        st.route(layer.inputs()[j], EvalClaim { point: rho.clone(), value }, t)
                    }
                    Var::Coef(_) => {}
                }
            }
        }
        st.scheme.open(table_m_id, &claims.multiplicities_point, claims.multiplicities_eval, t);
    }
    lap("lookups".into(), &mut timings);

    // 5. layers, output to input
    for i in (0..n_layers).rev() {
        let layer = &model.layers[i];
        let ins: Vec<&Tensor> = layer.inputs().iter().map(|&t| &w.tensors[t]).collect();
        let relations = layer.relations();
        if !relations.is_empty() {
            let layout = &plan.layouts[i];
            let tau = t.challenges(labels::GKR_ZC_TAU, layout.num_vars());
            let gamma = t.challenge(labels::GKR_ZC_GAMMA);
            let poly = combine(&relations, gamma);
            let vars = poly.vars();
            let coefs = layer.coefficients();
            let mut tables = vec![layout.masked_eq_table(&tau)];
            for v in &vars {
                tables.push(match *v {
                    Var::Col(c) => to_fp(&padded_cols[i][c]),
                    Var::In(j) => layout.pad_fp(&ins[j].data),
                    Var::Coef(k) => layout.pad_fp(&coefs[k]),
                });
            }
            let (out, holds, var_evals) = if poly.degree() == 1 {
                // linear relations: sum E·L with L = Σ c·v tabulated once (the two-table kernel),
                // then evaluate the variables at the sumcheck point
                let mut l = vec![Fp::default(); layout.padded_len()];
                for (c, vs) in &poly.monomials {
                    match vs.first() {
                        None => l.iter_mut().for_each(|x| *x += c),
                        Some(v) => {
                            let table = &tables[1 + vars.iter().position(|u| u == v).unwrap_or(0)];
                            l.iter_mut().zip(table).for_each(|(x, y)| *x += *c * y);
                        }
                    }
                }
                let e = tables.swap_remove(0);
                let (out, holds) = sumcheck::prover::prove_unchecked(
                    ProductSum::product(vec![e, l])?,
                    Fp::default(),
                    &mut t,
                );
                let eq = eq_evals(&out.point);
                let evals: Vec<Fp> = vars
                    .iter()
                    .map(|v| match *v {
                        Var::Col(c) => dot_ints(&padded_cols[i][c], &eq),
                        Var::In(j) => dot_ints(&layout.pad(&ins[j].data), &eq),
                        Var::Coef(k) => dot_ints(&layout.pad(&coefs[k]), &eq),
                    })
                    .collect();
                (out, holds, evals)
            } else {
                let terms: Vec<Term> = poly
                    .monomials
                    .iter()
                    .map(|(c, vs)| {
                        let mut f = vec![0];
                        f.extend(
                            vs.iter().map(|v| 1 + vars.iter().position(|u| u == v).unwrap_or(0)),
                        );
                        Term::new(*c, f)
                    })
                    .collect();
                let (out, holds) = sumcheck::prover::prove_unchecked(
                    ProductSum::new(tables, terms)?,
                    Fp::default(),
                    &mut t,
                );
                let evals = out.final_evals[1..].to_vec();
                (out, holds, evals)
            };
            if strict && !holds {
                return Err(ProveError::Model(format!(
                    "layer {i} ({}): the witness breaks the layer's relations",
                    layer.kind()
                )));
            }
            let sent: Vec<Fp> = vars
                .iter()
                .zip(&var_evals)
                .filter(|(v, _)| !matches!(v, Var::Coef(_)))
                .map(|(_, e)| *e)
                .collect();
            t.send(labels::GKR_ZC_EVALS, &sent);
            for (v, e) in vars.iter().zip(&var_evals) {
                match *v {
                    Var::Col(c) => st.open_column(i, c, &out.point, *e, t),
                    Var::In(j) => {
                        let claim = EvalClaim { point: out.point.clone(), value: *e };
                        st.route(layer.inputs()[j], claim, t);
                    }
                    Var::Coef(_) => {}
                }
            }
        }
        if !layer.output_committed() {
            let mut claims = std::mem::take(&mut st.pending[i + 1]);
            if let Some(last) = claims.pop() {
                let claim = if claims.is_empty() {
                    last
                } else {
                    claims.push(last);
                    crate::merge::prove(
                        &claims,
                        &plan.layouts[i].pad_fp(&w.tensors[i + 1].data),
                        &mut t,
                    )?
                };
                for (j, c) in layer.prove_output(&claim, &ins, &mut t)? {
                    if weights::is_weights(j) {
                        let wp = weights.as_deref_mut().ok_or_else(|| {
                            invalid(format!("layer {i}: a weight claim without a commitment"))
                        })?;
                        let id = wp.id(i).ok_or_else(|| {
                            invalid(format!("layer {i}: weights outside the commitment"))
                        })?;
                        wp.scheme.open(id, &c.point, c.value, t);
                    } else {
                        st.route(layer.inputs()[j], c, t);
                    }
                }
            }
        }
        lap(format!("layer {i} ({})", layer.kind()), &mut timings);
    }
    st.scheme.finish(t)?;
    lap("open advice".into(), &mut timings);
    if let Some(wp) = weights {
        wp.scheme.finish(t)?;
        lap("open weights".into(), &mut timings);
    }
    Ok(timings)
}

fn to_fp(v: &[i64]) -> Vec<Fp> {
    v.iter().map(|&x| from_i64(x)).collect()
}

/// The prover's mirror of the verifier's claim routing: claims on committed columns go to the
/// advice scheme in the order the verifier checks them, claims on virtual tensors wait for their
/// layer, claims on the input need nothing.
struct Openings<'a> {
    model: &'a Model,
    /// Global id of each layer's first column.
    first_col: Vec<usize>,
    pending: Vec<Vec<EvalClaim>>,
    scheme: Box<dyn AdviceProver>,
}

impl Openings<'_> {
    fn route(&mut self, tensor: usize, claim: EvalClaim, t: &mut dyn ProverTranscript) {
        if tensor == 0 {
            return;
        }
        if self.model.layers[tensor - 1].output_committed() {
            self.scheme.open(self.first_col[tensor - 1], &claim.point, claim.value, t);
        } else {
            self.pending[tensor].push(claim);
        }
    }

    fn open_column(
        &mut self,
        layer: usize,
        col: usize,
        point: &[Fp],
        value: Fp,
        t: &mut dyn ProverTranscript,
    ) {
        self.scheme.open(self.first_col[layer] + col, point, value, t);
    }
}

/// Every range-checked value, segment after segment.
fn range_values(model: &Model, plan: &Plan, w: &Witness, cols: &[Vec<Vec<i64>>]) -> Vec<i64> {
    let mut out = vec![0i64; plan.range_total];
    for s in &plan.range {
        let layer = &model.layers[s.layer];
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
            Var::Col(c) => cols[s.layer][c][slot],
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

/// For every table lookup, the tuples looked up on the padded slots (row 0 on padded slots),
/// flattened: slot j's tuple is `[j·w, (j + 1)·w)` for the lookup's width w.
fn table_inputs(model: &Model, plan: &Plan, w: &Witness, cols: &[Vec<Vec<i64>>]) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    for &i in &plan.table_layers {
        let layer: &dyn Layer = model.layers[i].as_ref();
        let Some(tl) = layer.table_lookup() else { continue };
        let layout = &plan.layouts[i];
        let coefs = layer.coefficients();
        let comps: Vec<Vec<i64>> = tl
            .columns
            .iter()
            .map(|&v| match v {
                Var::Col(c) => cols[i][c].clone(),
                Var::In(j) => layout.pad(&w.tensors[layer.inputs()[j]].data),
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
