//! The LogUp prover: builds the fraction tree bottom-up, then proves it top-down.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use super::{LookupClaims, LookupStatement};
use crate::error::ProveError;
use crate::field::Fp;
use crate::poly::PAR_THRESHOLD;
use crate::poly::{eq_evals, evaluate_padded};
use crate::sumcheck::{self, SumcheckClaim};
use crate::transcript::{labels, ProverTranscript};
use ark_ff::{AdditiveGroup, Field, One, Zero};
use rayon::prelude::*;
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

/// Σ over `range` of eq_rest[i]·h(X, i) at X = 0, 1, 2 for the tables [p₀, p₁, q₀, q₁] paired
/// at distance `half` (h(X, i) = quad of the tables' lines at X). Without `ONE` the value at
/// X = 1 is left at zero: the caller derives it from the running claim.
fn layer_sums<const ONE: bool>(
    tabs: [&[Fp]; 4],
    eq_rest: &[Fp],
    half: usize,
    lambda: Fp,
    range: std::ops::Range<usize>,
) -> [Fp; 3] {
    let quad = |a: Fp, b: Fp, c: Fp, d: Fp| a * d + c * (b + lambda * d);
    let mut s = [Fp::zero(); 3];
    for i in range {
        let e = eq_rest[i];
        let lo = |t: &[Fp]| t[i];
        let hi = |t: &[Fp]| t[i + half];
        let (a0, b0, c0, d0) = (lo(tabs[0]), lo(tabs[1]), lo(tabs[2]), lo(tabs[3]));
        let (a1, b1, c1, d1) = (hi(tabs[0]), hi(tabs[1]), hi(tabs[2]), hi(tabs[3]));
        s[0] += e * quad(a0, b0, c0, d0);
        if ONE {
            s[1] += e * quad(a1, b1, c1, d1);
        }
        let two = |x0: Fp, x1: Fp| x1.double() - x0;
        s[2] += e * quad(two(a0, a1), two(b0, b1), two(c0, c1), two(d0, d1));
    }
    s
}

/// [`layer_sums`] over 0..half, split across threads when large.
fn layer_sums_par<const ONE: bool>(
    tabs: [&[Fp]; 4],
    eq_rest: &[Fp],
    half: usize,
    lambda: Fp,
) -> [Fp; 3] {
    if half < PAR_THRESHOLD {
        return layer_sums::<ONE>(tabs, eq_rest, half, lambda, 0..half);
    }
    let chunk = half / (8 * rayon::current_num_threads()).max(1);
    (0..half.div_ceil(chunk))
        .into_par_iter()
        .map(|k| {
            layer_sums::<ONE>(tabs, eq_rest, half, lambda, k * chunk..((k + 1) * chunk).min(half))
        })
        .reduce(|| [Fp::zero(); 3], |x, y| [x[0] + y[0], x[1] + y[1], x[2] + y[2]])
}

/// t[i] += c·(t[i + half] − t[i]) for i < half: binds the top variable of `t[..2·half]` in place.
fn fold_in_place(t: &mut [Fp], half: usize, c: Fp) {
    let (lo, hi) = t[..2 * half].split_at_mut(half);
    let f = |(a, b): (&mut Fp, &Fp)| *a += c * (*b - *a);
    if half >= PAR_THRESHOLD {
        lo.par_iter_mut().zip(hi.par_iter()).for_each(f);
    } else {
        lo.iter_mut().zip(hi.iter()).for_each(f);
    }
}

/// The sumcheck of one fraction layer: Σ_x eq(r, x)·(p₀q₁ + p₁q₀ + λ·q₀q₁)(x) = `claim`, the
/// polynomial of [`layer_terms`] over the tables [eq, p₀, p₁, q₀, q₁] (halves of the child layer),
/// with the same transcript as `sumcheck::prove` on it. The eq factor is never tabulated or
/// folded: binding the top variable x_m first, eq(r, x) = scale·eq(r_m, X)·eq(r[..m], x_rest), so
/// each round sums s(X) = Σ eq(r[..m], x_rest)·h(X, x_rest) at X = 0, 2 (h is quadratic; s(1)
/// follows from the running claim, g(0) + g(1) = claim) and sends g(X) = scale·eq(r_m, X)·s(X)
/// at 0, 2, 3. The child's tables are folded in place (the layer is consumed), and eq(r[..m], ·)
/// is built once and summed down one variable per round. Returns the point and the five
/// evaluations.
///
/// [`layer_terms`]: super::layer_terms
fn prove_layer(
    child: Layer,
    r: &[Fp],
    lambda: Fp,
    claim: Fp,
    t: &mut impl ProverTranscript,
) -> (Vec<Fp>, Vec<Fp>) {
    let l = r.len();
    let h = 1usize << l;
    sumcheck::absorb_claim(t, &SumcheckClaim { num_vars: l, degree: 3, claimed_sum: claim });
    let Layer { mut p, mut q } = child;
    let (p0, p1) = p.split_at_mut(h);
    let (q0, q1) = q.split_at_mut(h);
    let mut tabs: [&mut [Fp]; 4] = [p0, p1, q0, q1];
    let mut eq_rest = eq_evals(&r[..l.saturating_sub(1)]);
    let mut running = claim;
    let mut scale = Fp::one();
    let mut challenges = Vec::with_capacity(l);
    let one = Fp::one();
    for round in 0..l {
        let m = l - 1 - round;
        let half = h >> (round + 1);
        let rm = r[m];
        let view: [&[Fp]; 4] = [&*tabs[0], &*tabs[1], &*tabs[2], &*tabs[3]];
        let [s0, _, s2] = layer_sums_par::<false>(view, &eq_rest[..half], half, lambda);
        // g(0) + g(1) = running with g(X) = scale·eq(r_m, X)·s(X); should scale·r_m vanish
        // (probability about l/p), s(1) is summed instead
        let s1 = match (scale * rm).inverse() {
            Some(inv) => (running - scale * (one - rm) * s0) * inv,
            None => layer_sums_par::<true>(view, &eq_rest[..half], half, lambda)[1],
        };
        // s is quadratic: s(3) = s(0) − 3·s(1) + 3·s(2)
        let s3 = s0 + (s2 - s1).double() + (s2 - s1);
        let msg = [
            scale * (one - rm) * s0,
            scale * (rm.double() + rm - one) * s2,
            scale * (rm.double().double() + rm - one.double()) * s3,
        ];
        t.send(labels::SUMCHECK_ROUND, &msg);
        let c = t.challenge(labels::SUMCHECK_CHALLENGE);
        running = sumcheck::decompress_round(&msg, running).evaluate(&c);
        scale *= (one - rm) * (one - c) + rm * c;
        challenges.push(c);
        for tab in tabs.iter_mut() {
            fold_in_place(tab, half, c);
        }
        // eq(r[..m − 1], x) = eq(r[..m], (x, 0)) + eq(r[..m], (x, 1))
        if half > 1 {
            let (lo, hi) = eq_rest[..half].split_at_mut(half / 2);
            let add = |(a, b): (&mut Fp, &Fp)| *a += b;
            if lo.len() >= PAR_THRESHOLD {
                lo.par_iter_mut().zip(hi.par_iter()).for_each(add);
            } else {
                lo.iter_mut().zip(hi.iter()).for_each(add);
            }
        }
    }
    let last: [Fp; 4] = [tabs[0][0], tabs[1][0], tabs[2][0], tabs[3][0]];
    let quad = |a: Fp, b: Fp, c: Fp, d: Fp| a * d + c * (b + lambda * d);
    debug_assert_eq!(scale * quad(last[0], last[1], last[2], last[3]), running);
    let _ = running;
    (sumcheck::point_from_challenges(challenges), vec![scale, last[0], last[1], last[2], last[3]])
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
    let offset = stmt.table_offset();
    let alpha = t.challenge(labels::LOGUP_ALPHA);

    // leaves: (1, α − fᵢ) | (−mⱼ, α − tⱼ), neutral (0, 1) on padded slots. They are never held
    // with the layers above them: the first layer is built from them on the fly, and they are
    // rebuilt for the last layer's sumcheck, once every layer above has been consumed (the
    // tree's peak memory halves: about 32 bytes a leaf instead of 64)
    let entries = stmt.table.entries();
    let leaf = |i: usize| -> (Fp, Fp) {
        if let Some(f) = values.get(i) {
            (Fp::one(), alpha - f)
        } else if let Some((tj, mj)) =
            i.checked_sub(offset).and_then(|j| Some((entries.get(j)?, multiplicities.get(j)?)))
        {
            (-Fp::from(*mj), alpha - tj)
        } else {
            (Fp::zero(), Fp::one())
        }
    };
    let leaves = || {
        let (p, q): (Vec<Fp>, Vec<Fp>) = (0..1usize << n).into_par_iter().map(leaf).unzip();
        Layer { p, q }
    };
    // layers[0] = the leaves' parents (the leaves themselves for a single leaf), last = root
    let mut layers = Vec::new();
    if n == 0 {
        layers.push(leaves());
    } else {
        let h = 1usize << (n - 1);
        let node = |x: usize| {
            let ((p0, q0), (p1, q1)) = (leaf(x), leaf(x + h));
            (p0 * q1 + p1 * q0, q0 * q1)
        };
        let (p, q): (Vec<Fp>, Vec<Fp>) = if h >= PAR_THRESHOLD {
            (0..h).into_par_iter().map(node).unzip()
        } else {
            (0..h).map(node).unzip()
        };
        layers.push(Layer { p, q });
    }
    while let Some(child) = layers.last().filter(|l| l.p.len() > 1) {
        let h = child.p.len() / 2;
        let node = |x: usize| {
            (child.p[x] * child.q[x + h] + child.p[x + h] * child.q[x], child.q[x] * child.q[x + h])
        };
        let (p, q): (Vec<Fp>, Vec<Fp>) = if h >= PAR_THRESHOLD {
            (0..h).into_par_iter().map(node).unzip()
        } else {
            (0..h).map(node).unzip()
        };
        layers.push(Layer { p, q });
    }
    #[expect(clippy::expect_used, reason = "the loop above pushes at least the leaf layer")]
    let root = layers.pop().expect("the tree has a root");
    let (p_root, q_root) = (root.p[0], root.q[0]);
    if strict && (!p_root.is_zero() || q_root.is_zero()) {
        return Err(ProveError::LookupImbalance);
    }
    t.send(labels::LOGUP_ROOT, &[p_root, q_root]);

    let (mut r, mut vp, mut vq) = (Vec::new(), p_root, q_root);
    // the layers top-down, then (below the leaves' parents) the leaves, rebuilt
    let mut rebuilt = n > 0;
    while let Some(child) = layers.pop().or_else(|| std::mem::take(&mut rebuilt).then(leaves)) {
        let lambda = t.challenge(labels::LOGUP_LAMBDA);
        let (point, e) = prove_layer(child, &r, lambda, vp + lambda * vq, t);
        sumcheck::send_final_evals(t, &e);
        let tau = t.challenge(labels::LOGUP_TAU);
        vp = e[1] + tau * (e[2] - e[1]);
        vq = e[3] + tau * (e[4] - e[3]);
        r = point;
        r.push(tau);
    }
    let rho = r;
    let low = rho[..stmt.table_vars()].to_vec();
    let m_field: Vec<Fp> = multiplicities.iter().map(|m| Fp::from(*m)).collect();
    let (values_eval, multiplicities_eval) =
        (evaluate_padded(values, &rho), evaluate_padded(&m_field, &low));
    t.send(labels::LOGUP_LEAF_EVALS, &[values_eval, multiplicities_eval]);
    Ok(LookupClaims { point: rho, values_eval, multiplicities_point: low, multiplicities_eval })
}
