//! The LogUp prover: builds the fraction tree bottom-up, then proves it top-down.

use super::{layer_terms, LookupClaims, LookupStatement};
use crate::error::ProveError;
use crate::field::Fp;
use crate::poly::{eq_evals, evaluate_padded};
use crate::sumcheck::{self, prover::ProductSum};
use crate::transcript::{labels, ProverTranscript};
use ark_ff::{One, Zero};
use std::collections::HashMap;

/// How often each table entry occurs among the values.
///
/// # Errors
/// [`ProveError::NotInTable`] naming the first value that is not in the table.
pub fn multiplicities(values: &[Fp], table: &[Fp]) -> Result<Vec<u64>, ProveError> {
    let index: HashMap<Fp, usize> = table.iter().enumerate().map(|(j, t)| (*t, j)).collect();
    let mut m = vec![0u64; table.len()];
    for (i, v) in values.iter().enumerate() {
        let j = index.get(v).ok_or(ProveError::NotInTable { index: i })?;
        m[*j] += 1;
    }
    Ok(m)
}

/// One layer of the tree: numerators and denominators.
struct Layer {
    p: Vec<Fp>,
    q: Vec<Fp>,
}

/// Proves that every value lies in the statement's table with the given multiplicities, and
/// returns the claims on the values' and multiplicities' MLEs that the caller must discharge.
///
/// # Soundness
/// The caller binds `values` and `multiplicities` (digest or commitment absorbed) before this
/// draws α.
///
/// # Errors
/// [`ProveError::ShapeMismatch`] for lengths that differ from the statement,
/// [`ProveError::LookupImbalance`] if the fractions do not cancel (a value outside the table, or
/// wrong multiplicities).
pub fn prove(
    stmt: &LookupStatement,
    values: &[Fp],
    multiplicities: &[u64],
    t: &mut impl ProverTranscript,
) -> Result<LookupClaims, ProveError> {
    prove_inner(stmt, values, multiplicities, t, true)
}

/// [`prove`] that sends an unbalanced tree too (a cheating prover, for soundness tests).
pub fn prove_unchecked(
    stmt: &LookupStatement,
    values: &[Fp],
    multiplicities: &[u64],
    t: &mut impl ProverTranscript,
) -> Result<LookupClaims, ProveError> {
    prove_inner(stmt, values, multiplicities, t, false)
}

fn prove_inner(
    stmt: &LookupStatement,
    values: &[Fp],
    multiplicities: &[u64],
    t: &mut impl ProverTranscript,
    strict: bool,
) -> Result<LookupClaims, ProveError> {
    if values.len() != stmt.num_values {
        return Err(ProveError::ShapeMismatch {
            what: "looked-up values",
            expected: stmt.num_values,
            got: values.len(),
        });
    }
    if multiplicities.len() != stmt.table.len() {
        return Err(ProveError::ShapeMismatch {
            what: "multiplicities",
            expected: stmt.table.len(),
            got: multiplicities.len(),
        });
    }
    let n = stmt.num_vars();
    let half = 1usize << n;
    let alpha = t.challenge(labels::LOGUP_ALPHA);

    // leaves: (1, α − fᵢ) | (−mⱼ, α − tⱼ), neutral (0, 1) on padded slots
    let mut leaves = Layer { p: vec![Fp::zero(); 2 * half], q: vec![Fp::one(); 2 * half] };
    for (i, f) in values.iter().enumerate() {
        leaves.p[i] = Fp::one();
        leaves.q[i] = alpha - f;
    }
    for (j, (tj, mj)) in stmt.table.entries().iter().zip(multiplicities).enumerate() {
        leaves.p[half + j] = -Fp::from(*mj);
        leaves.q[half + j] = alpha - tj;
    }
    // layers[0] = leaves, layers[last] = root
    let mut layers = vec![leaves];
    while let Some(child) = layers.last().filter(|l| l.p.len() > 1) {
        let h = child.p.len() / 2;
        let parent = Layer {
            p: (0..h).map(|x| child.p[x] * child.q[x + h] + child.p[x + h] * child.q[x]).collect(),
            q: (0..h).map(|x| child.q[x] * child.q[x + h]).collect(),
        };
        layers.push(parent);
    }
    let root = layers.pop().expect("the tree has a root");
    let (p_root, q_root) = (root.p[0], root.q[0]);
    if strict && (!p_root.is_zero() || q_root.is_zero()) {
        return Err(ProveError::LookupImbalance);
    }
    t.send(labels::LOGUP_ROOT, &[p_root, q_root]);

    let (mut r, mut vp, mut vq) = (Vec::new(), p_root, q_root);
    while let Some(child) = layers.pop() {
        let lambda = t.challenge(labels::LOGUP_LAMBDA);
        let h = child.p.len() / 2;
        let (p0, p1) = child.p.split_at(h);
        let (q0, q1) = child.q.split_at(h);
        let tables = vec![eq_evals(&r), p0.to_vec(), p1.to_vec(), q0.to_vec(), q1.to_vec()];
        let poly = ProductSum::new(tables, layer_terms(lambda))?;
        let out = sumcheck::prove(poly, vp + lambda * vq, t)?;
        sumcheck::send_final_evals(t, &out.final_evals);
        let tau = t.challenge(labels::LOGUP_TAU);
        let e = &out.final_evals;
        vp = e[1] + tau * (e[2] - e[1]);
        vq = e[3] + tau * (e[4] - e[3]);
        r = out.point;
        r.push(tau);
    }
    let rho = &r[..n];
    let m_field: Vec<Fp> = multiplicities.iter().map(|m| Fp::from(*m)).collect();
    let (values_eval, multiplicities_eval) =
        (evaluate_padded(values, rho), evaluate_padded(&m_field, rho));
    t.send(labels::LOGUP_LEAF_EVALS, &[values_eval, multiplicities_eval]);
    Ok(LookupClaims { point: rho.to_vec(), values_eval, multiplicities_eval })
}
