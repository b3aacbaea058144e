//! The model verifier. It holds the model (weights included) and the input, reads the proof, and
//! returns the verified output or an error naming the layer (or lookup) that failed.

use super::advice::{AdviceMode, AdviceVerifier};
use super::weights::ModelCommitment;
use super::{absorb_statement, combine_segments, range_eval, table_segment_value, Plan, PROTOCOL};
use crate::circuit::expr::combine;
use crate::circuit::{Layout, Model, Tensor, Var};
use crate::error::VerifyError;
use crate::field::Fp;
use crate::lookup;
use crate::poly::evaluate_padded;
use crate::sumcheck::{self, EvalClaim, SumcheckClaim};
use crate::transcript::{labels, FiatShamirVerifier, VerifierTranscript};

/// Verifies an encoded proof that `model` maps `input` to some output, and returns that output.
///
/// # Errors
/// Every [`VerifyError`]: malformed bytes (with offsets), or a failed check wrapped in
/// [`VerifyError::Layer`], [`VerifyError::Lookup`], [`VerifyError::Output`] or
/// [`VerifyError::Input`].
pub fn verify(model: &Model, input: &Tensor, proof: &[u8]) -> Result<Tensor, VerifyError> {
    verify_mode(model, input, AdviceMode::Clear, proof)
}

/// [`verify`] for a proof whose advice is bound by `mode` (the verifier's choice: a proof made
/// under another mode or other parameters fails).
///
/// # Errors
/// As [`verify`].
pub fn verify_mode(
    model: &Model,
    input: &Tensor,
    mode: AdviceMode,
    proof: &[u8],
) -> Result<Tensor, VerifyError> {
    let mut t = FiatShamirVerifier::new(PROTOCOL, proof)?;
    let out = verify_inner(model, input, mode, None, &mut t)?;
    t.finish()?;
    Ok(out)
}

/// [`verify_mode`] for a model whose large weight matrices are committed: `model` is the
/// verifier's copy ([`ModelCommitment::stripped`], or a `.gkrc` file's), which need not hold
/// those weights; claims on them are checked against `commitment`.
///
/// # Errors
/// As [`verify`], and [`VerifyError::Weights`] for a failed opening of the weights.
pub fn verify_committed(
    model: &Model,
    input: &Tensor,
    mode: AdviceMode,
    commitment: &ModelCommitment,
    proof: &[u8],
) -> Result<Tensor, VerifyError> {
    let mut t = FiatShamirVerifier::new(PROTOCOL, proof)?;
    let out = verify_inner(model, input, mode, Some(commitment), &mut t)?;
    t.finish()?;
    Ok(out)
}

struct State<'a> {
    model: &'a Model,
    plan: Plan,
    input: &'a Tensor,
    /// Global id of each layer's first column.
    first_col: Vec<usize>,
    pending: Vec<Vec<EvalClaim>>,
    scheme: Box<dyn AdviceVerifier>,
}

fn at_layer(layer: usize, model: &Model) -> impl Fn(VerifyError) -> VerifyError + '_ {
    move |e| match e {
        e @ VerifyError::Layer { .. } => e,
        e => VerifyError::Layer {
            layer,
            kind: model.layers.get(layer).map_or("?", |l| l.kind()),
            source: Box::new(e),
        },
    }
}

impl State<'_> {
    /// Discharges or queues a claim on a tensor.
    fn route(
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
        let l = self
            .model
            .layers
            .get(layer)
            .ok_or(VerifyError::InvalidStatement { reason: "claim on a missing tensor" })?;
        if l.output_committed() {
            let layout = self.plan.layouts.get(layer).cloned().unwrap_or_else(|| Layout::new(&[1]));
            let id = self.first_col.get(layer).copied().unwrap_or(usize::MAX);
            self.scheme
                .check(id, &layout, &claim.point, claim.value, "opening of a committed output", t)
                .map_err(at_layer(layer, self.model))
        } else {
            match self.pending.get_mut(tensor) {
                Some(p) => {
                    p.push(claim);
                    Ok(())
                }
                None => Err(VerifyError::InvalidStatement { reason: "claim on a missing tensor" }),
            }
        }
    }

    fn open_column(
        &mut self,
        layer: usize,
        col: usize,
        point: &[Fp],
        value: Fp,
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError> {
        let l = self
            .model
            .layers
            .get(layer)
            .ok_or(VerifyError::InvalidStatement { reason: "missing layer" })?;
        let what = l.columns().get(col).copied().unwrap_or("column");
        let layout = self.plan.layouts.get(layer).cloned().unwrap_or_else(|| Layout::new(&[1]));
        let id = self.first_col.get(layer).copied().unwrap_or(usize::MAX).saturating_add(col);
        self.scheme.check(id, &layout, point, value, what, t).map_err(at_layer(layer, self.model))
    }
}

/// [`verify`] over any transcript (Fiat–Shamir or interactive), advice in the clear.
pub fn verify_with(
    model: &Model,
    input: &Tensor,
    t: &mut impl VerifierTranscript,
) -> Result<Tensor, VerifyError> {
    verify_with_mode(model, input, AdviceMode::Clear, t)
}

/// [`verify_with`] under an advice `mode`.
pub fn verify_with_mode(
    model: &Model,
    input: &Tensor,
    mode: AdviceMode,
    t: &mut impl VerifierTranscript,
) -> Result<Tensor, VerifyError> {
    verify_inner(model, input, mode, None, t)
}

fn verify_inner(
    model: &Model,
    input: &Tensor,
    mode: AdviceMode,
    commitment: Option<&ModelCommitment>,
    mut t: &mut impl VerifierTranscript,
) -> Result<Tensor, VerifyError> {
    if input.dims != model.input_dims || input.data.iter().any(|v| !(-128..=127).contains(v)) {
        return Err(VerifyError::InvalidStatement { reason: "the input does not fit the model" });
    }
    let plan = Plan::new(model);
    let n_layers = model.layers.len();

    // 1–2. statement, output, advice
    absorb_statement(&mut t, model, &input.data);
    let mut weights = match commitment {
        Some(c) => {
            c.absorb(&mut t);
            Some(super::weights::verifier(model, c)?)
        }
        None if model.layers.iter().any(|l| l.weights_committed()) => {
            return Err(VerifyError::InvalidStatement {
                reason: "the model's weights are committed: a model commitment is needed",
            })
        }
        None => None,
    };
    mode.absorb(&mut t);
    let out_dims = model.output_dims().to_vec();
    let out_layout = Layout::new(&out_dims);
    let output =
        Tensor { dims: out_dims, data: t.receive_ints(labels::GKR_OUTPUT, out_layout.len())? };
    let mut lens = Vec::new();
    let mut first_col = Vec::with_capacity(n_layers);
    for (i, l) in model.layers.iter().enumerate() {
        first_col.push(lens.len());
        let layout = plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
        lens.extend(std::iter::repeat_n((labels::GKR_ADVICE, layout), l.columns().len()));
    }
    let range_m_id = lens.len();
    if plan.range_total > 0 {
        lens.push((labels::GKR_MULTIPLICITIES, Layout::new(&[1 << model.range_bits()])));
    }
    let table_m_id = lens.len();
    if plan.table_total > 0 {
        lens.push((labels::GKR_MULTIPLICITIES, Layout::new(&[plan.table_rows])));
    }
    let mut scheme = mode.verifier();
    scheme.receive(&lens, &mut t)?;
    let mut st =
        State { model, plan, input, first_col, pending: vec![Vec::new(); n_layers + 1], scheme };

    // 3. the output
    let r = t.challenges(labels::GKR_OUTPUT_POINT, out_layout.num_vars());
    let value = output.evaluate(&r);
    st.route(n_layers, EvalClaim { point: r, value }, &mut t)
        .map_err(|e| VerifyError::Output { source: Box::new(e) })?;

    // 4. lookups
    if st.plan.range_total > 0 {
        let range_err = |e| VerifyError::Lookup { which: "range", source: Box::new(e) };
        let claims = lookup::verify(&st.plan.range_statement(), &mut t).map_err(range_err)?;
        let mut segment_values = vec![Fp::default(); st.plan.range.len()];
        for i in st.plan.range_layers(model) {
            let vars = st.plan.layouts.get(i).map_or(0, Layout::num_vars);
            let rho = claims
                .point
                .get(..vars)
                .ok_or(VerifyError::InvalidStatement { reason: "lookup point too short" })?
                .to_vec();
            let vars = st.plan.range_vars(model, i);
            let evals = t.receive(labels::GKR_RANGE_EVALS, vars.len())?;
            let layer = model
                .layers
                .get(i)
                .ok_or(VerifyError::InvalidStatement { reason: "missing layer" })?;
            // columns and inputs are sent; public coefficients the verifier evaluates itself
            let layout = st.plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
            let coefs = layer.coefficients();
            let value_of = |v: Var| match v {
                Var::Coef(k) => {
                    coefs.get(k).map_or(Fp::default(), |c| evaluate_padded(&layout.pad_fp(c), &rho))
                }
                _ => vars
                    .iter()
                    .position(|&x| x == v)
                    .and_then(|p| evals.get(p))
                    .copied()
                    .unwrap_or_default(),
            };
            let checks = layer.range_checks();
            let mask = layout.mask_eval(&rho);
            for (s, slot) in st.plan.range.iter().zip(segment_values.iter_mut()) {
                if s.layer == i {
                    *slot = checks
                        .get(s.check)
                        .map_or(Fp::default(), |lin| range_eval(lin, value_of, mask));
                }
            }
            for (&v, &e) in vars.iter().zip(&evals) {
                match v {
                    Var::Col(c) => st.open_column(i, c, &rho, e, &mut t)?,
                    Var::In(j) => {
                        let tensor = layer.inputs().get(j).copied().unwrap_or(usize::MAX);
                        let claim = EvalClaim { point: rho.clone(), value: e };
                        st.route(tensor, claim, &mut t).map_err(at_layer(i, model))?
                    }
                    Var::Coef(_) => {}
                }
            }
        }
        let combined = combine_segments(&st.plan.range, &claims.point, &segment_values);
        if combined != claims.values_eval {
            return Err(range_err(VerifyError::EvalMismatch {
                what: "range-checked values from the layers' columns",
                claimed: claims.values_eval,
                computed: combined,
            }));
        }
        let layout = Layout::new(&[1 << model.range_bits()]);
        st.scheme
            .check(
                range_m_id,
                &layout,
                &claims.multiplicities_point,
                claims.multiplicities_eval,
                "range multiplicities",
                &mut t,
            )
            .map_err(range_err)?;
    }
    if st.plan.table_total > 0 {
        let table_err = |e| VerifyError::Lookup { which: "table", source: Box::new(e) };
        let beta = t.challenge(labels::GKR_BETA);
        let stmt = st.plan.table_statement(model, beta);
        let claims = lookup::verify(&stmt, &mut t).map_err(table_err)?;
        let mut segment_values = vec![Fp::default(); st.plan.table.len()];
        for i in st.plan.table_layers.clone() {
            let layer = model
                .layers
                .get(i)
                .ok_or(VerifyError::InvalidStatement { reason: "missing layer" })?;
            let tl = layer
                .table_lookup()
                .ok_or(VerifyError::InvalidStatement { reason: "missing lookup" })?;
            let layout = st.plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
            let rho = claims
                .point
                .get(..layout.num_vars())
                .ok_or(VerifyError::InvalidStatement { reason: "lookup point too short" })?
                .to_vec();
            let sent: Vec<Var> =
                tl.columns.iter().copied().filter(|v| !matches!(v, Var::Coef(_))).collect();
            let evals = t.receive(labels::GKR_TABLE_EVALS, sent.len())?;
            let coefs = layer.coefficients();
            let mut sent_evals = evals.iter();
            let mut comps = Vec::with_capacity(tl.columns.len());
            for &var in &tl.columns {
                let value = match var {
                    Var::Coef(k) => coefs
                        .get(k)
                        .map_or(Fp::default(), |c| evaluate_padded(&layout.pad_fp(c), &rho)),
                    _ => sent_evals.next().copied().unwrap_or_default(),
                };
                comps.push(value);
                let claim = EvalClaim { point: rho.clone(), value };
                match var {
                    Var::Col(c) => st.open_column(i, c, &rho, value, &mut t)?,
                    Var::In(j) => {
                        let tensor = layer.inputs().get(j).copied().unwrap_or(usize::MAX);
                        st.route(tensor, claim, &mut t).map_err(at_layer(i, model))?
                    }
                    Var::Coef(_) => {}
                }
            }
            let row0 = tl.rows.first().map(Vec::as_slice).unwrap_or_default();
            let value = table_segment_value(&comps, layout.mask_eval(&rho), row0, i, beta);
            for (s, slot) in st.plan.table.iter().zip(segment_values.iter_mut()) {
                if s.layer == i {
                    *slot = value;
                }
            }
        }
        let combined = combine_segments(&st.plan.table, &claims.point, &segment_values);
        if combined != claims.values_eval {
            return Err(table_err(VerifyError::EvalMismatch {
                what: "looked-up tuples from the layers' columns",
                claimed: claims.values_eval,
                computed: combined,
            }));
        }
        let layout = Layout::new(&[st.plan.table_rows]);
        st.scheme
            .check(
                table_m_id,
                &layout,
                &claims.multiplicities_point,
                claims.multiplicities_eval,
                "table multiplicities",
                &mut t,
            )
            .map_err(table_err)?;
    }

    // 5. layers, output to input
    for i in (0..n_layers).rev() {
        let layer =
            model.layers.get(i).ok_or(VerifyError::InvalidStatement { reason: "missing layer" })?;
        let err = at_layer(i, model);
        let relations = layer.relations();
        if !relations.is_empty() {
            let layout = st.plan.layouts.get(i).cloned().unwrap_or_else(|| Layout::new(&[1]));
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
            let sent: Vec<Var> =
                vars.iter().copied().filter(|v| !matches!(v, Var::Coef(_))).collect();
            let evals = t.receive(labels::GKR_ZC_EVALS, sent.len()).map_err(&err)?;
            let coefs = layer.coefficients();
            let value_of = |v: Var| match v {
                Var::Coef(k) => coefs
                    .get(k)
                    .map_or(Fp::default(), |c| evaluate_padded(&layout.pad_fp(c), &eval.point)),
                v => sent
                    .iter()
                    .position(|&u| u == v)
                    .and_then(|p| evals.get(p))
                    .copied()
                    .unwrap_or_default(),
            };
            let got = layout.masked_eq_eval(&tau, &eval.point) * poly.eval(&value_of);
            if got != eval.value {
                return Err(err(VerifyError::FinalEvalMismatch { expected: eval.value, got }));
            }
            for (&v, &e) in sent.iter().zip(&evals) {
                match v {
                    Var::Col(c) => st.open_column(i, c, &eval.point, e, &mut t)?,
                    Var::In(j) => {
                        let tensor = layer.inputs().get(j).copied().unwrap_or(usize::MAX);
                        st.route(tensor, EvalClaim { point: eval.point.clone(), value: e }, &mut t)
                            .map_err(&err)?;
                    }
                    Var::Coef(_) => {}
                }
            }
        }
        if !layer.output_committed() {
            let claims = st.pending.get_mut(i + 1).map(std::mem::take).unwrap_or_default();
            if !claims.is_empty() {
                let claim = match <[EvalClaim; 1]>::try_from(claims) {
                    Ok([c]) => c,
                    Err(claims) => {
                        let nv = st.plan.layouts.get(i).map_or(0, Layout::num_vars);
                        crate::merge::verify(&claims, nv, &mut t).map_err(&err)?
                    }
                };
                for (j, c) in layer.verify_output(&claim, &mut t).map_err(&err)? {
                    if super::weights::is_weights(j) {
                        let (scheme, layers) =
                            weights.as_mut().ok_or(err(VerifyError::InvalidStatement {
                                reason: "weights outside a commitment",
                            }))?;
                        let id = layers.iter().position(|&l| l == i).unwrap_or(usize::MAX);
                        let layout = layer.weight_layout().unwrap_or_else(|| Layout::new(&[1]));
                        scheme
                            .check(id, &layout, &c.point, c.value, "weights", &mut t)
                            .map_err(&err)?;
                        continue;
                    }
                    let tensor = layer.inputs().get(j).copied().unwrap_or(usize::MAX);
                    st.route(tensor, c, &mut t).map_err(&err)?;
                }
            }
        }
    }
    st.scheme.finish(&mut t).map_err(|e| VerifyError::Advice { source: Box::new(e) })?;
    if let Some((mut scheme, _)) = weights {
        scheme.finish(&mut t).map_err(|e| VerifyError::Weights { source: Box::new(e) })?;
    }
    Ok(output)
}
