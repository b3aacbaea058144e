//! The prover's opening: at a point, or of a weighted sum.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use super::{
    absorb_statement, coset_rows, fold_codeword, fold_rows, fold_table, grind, opened_leaves,
    param_words, pow_seed, query_positions, round_poly, row_leaf, send_hashes, tree_of_rows,
    Committed, Params,
};
use crate::error::ProveError;
use crate::field::Fp;
use crate::pcs::code::ReedSolomon;
use crate::pcs::merkle::{Hash, MerkleTree};
use crate::poly::eq_evals;
use crate::transcript::{labels, ProverTranscript};
use ark_ff::{Field, One, Zero};
use rayon::prelude::*;

/// Opens the committed tables `polys` (same size and parameters) at `point`.
///
/// # Errors
/// Tables of different sizes or parameters, or a point of the wrong length.
pub fn open(
    polys: &[&Committed],
    point: &[Fp],
    t: &mut impl ProverTranscript,
) -> Result<(), ProveError> {
    open_with(polys, Claim::Point(point), t, |_, _| {})
}

/// Proves Σ_x w(x)·fᵢ(x) = valuesᵢ for the committed tables `polys` and a public weight table
/// `weights` (2^n entries) that the caller's transcript already determines: the same protocol
/// as [`open`] with w in place of eq(z, ·), so claims merged into one weighted sum need no
/// sumcheck of their own. The verifier ([`verify_weighted`](super::verify_weighted)) needs w's MLE on the final
/// polynomial's cube.
///
/// # Errors
/// Tables of different sizes or parameters, or weights of the wrong length.
pub fn open_weighted(
    polys: &[&Committed],
    weights: Vec<Fp>,
    values: &[Fp],
    t: &mut impl ProverTranscript,
) -> Result<(), ProveError> {
    open_with(polys, Claim::Weighted(weights, values), t, |_, _| {})
}

/// What an opening proves: values at a point, or weighted sums.
enum Claim<'a> {
    Point(&'a [Fp]),
    Weighted(Vec<Fp>, &'a [Fp]),
}

/// A cheating opening for soundness tests: `tamper(round, codeword)` may change each folded
/// codeword (rounds 1, 2, …) before it is committed, so it no longer holds the previous fold.
#[cfg(any(test, feature = "test-util"))]
pub fn open_tampered_for_tests(
    polys: &[&Committed],
    point: &[Fp],
    t: &mut impl ProverTranscript,
    tamper: impl FnMut(usize, &mut [Fp]),
) -> Result<(), ProveError> {
    open_with(polys, Claim::Point(point), t, tamper)
}

fn open_with(
    polys: &[&Committed],
    claim: Claim<'_>,
    t: &mut impl ProverTranscript,
    mut tamper: impl FnMut(usize, &mut [Fp]),
) -> Result<(), ProveError> {
    let Some(first) = polys.first() else {
        return Err(ProveError::InvalidShape { reason: "nothing to open".into() });
    };
    let (n, params) = (first.commitment.num_vars, first.params);
    let fits = match &claim {
        Claim::Point(point) => point.len() == n,
        Claim::Weighted(w, values) => w.len() == 1 << n && values.len() == polys.len(),
    };
    if !fits || polys.iter().any(|p| p.commitment.num_vars != n || p.params != params) {
        return Err(ProveError::InvalidShape {
            reason: "tables, parameters and point (or weights) must agree".into(),
        });
    }
    // the parameters travel in the proof, so a verifier with other ones can say which differ
    let words = param_words(&params, n, polys.len());
    t.send_ints(labels::PCS_PARAMS, &words.map(|w| w as i64));
    let roots: Vec<Hash> = polys.iter().map(|p| p.commitment.root).collect();
    let mut eq = match claim {
        Claim::Point(point) => {
            let values: Vec<Fp> = polys.iter().map(|p| p.evaluate(point)).collect();
            absorb_statement(t, &roots, Some(point), &values);
            eq_evals(point)
        }
        Claim::Weighted(w, values) => {
            absorb_statement(t, &roots, None, values);
            w
        }
    };
    let gamma = t.challenge(labels::PCS_GAMMA);
    // the combination Σ γⁱ fᵢ: its table, and the weights of the codewords
    let mut weights = Vec::with_capacity(polys.len());
    let mut g = Fp::one();
    for _ in polys {
        weights.push(g);
        g *= gamma;
    }
    let mut table = if polys.len() == 1 {
        first.evals.clone()
    } else {
        let mut table = vec![Fp::zero(); 1 << n];
        for (p, g) in polys.iter().zip(&weights) {
            table.par_iter_mut().zip(&p.evals).for_each(|(a, v)| *a += *g * v);
        }
        table
    };
    let code = ReedSolomon::new(1 << n, params.rate_log)
        .ok_or_else(|| ProveError::InvalidShape { reason: "no FFT domain".into() })?;
    let mut omega_inv = code.point(1).inverse().unwrap_or_default();
    let schedule = params.schedule(n);
    let groups = &schedule.groups;
    // the codewords committed after the first, with their trees
    let mut committed: Vec<(Vec<Fp>, MerkleTree)> = Vec::with_capacity(groups.len());
    for (gi, &a) in groups.iter().enumerate() {
        let mut rs = Vec::with_capacity(a);
        for _ in 0..a {
            t.send(labels::PCS_ROUND, &round_poly(&table, &eq));
            let r = t.challenge(labels::PCS_CHALLENGE);
            table = fold_table(&table, r);
            eq = fold_table(&eq, r);
            rs.push(r);
        }
        if let Some(&next) = groups.get(gi + 1) {
            let mut codeword = match committed.last() {
                None => {
                    let words: Vec<(&[Vec<Fp>], Fp)> =
                        polys.iter().zip(&weights).map(|(p, g)| (&p.rows[..], *g)).collect();
                    fold_rows(&words, &rs)
                }
                Some((cw, _)) => fold_codeword(cw, a, omega_inv, &rs),
            };
            tamper(gi + 1, &mut codeword);
            let tree = tree_of_rows(&coset_rows(&codeword, next));
            send_hashes(t, &[tree.root()]);
            committed.push((codeword, tree));
        }
        omega_inv = omega_inv.pow([1u64 << a]);
    }
    // the final polynomial: the table of the last final_vars variables
    t.send(labels::PCS_FINAL, &table);
    // grinding: a nonce for a seed drawn now, absorbed before the query positions
    if params.pow_bits > 0 {
        let nonce = grind(&pow_seed(t), params.pow_bits);
        t.send_ints(labels::PCS_POW, &[nonce as i64]);
    }
    // queries: every codeword's leaves holding the positions, each once, with their paths
    let m0 = first.rows.len() * first.rows.first().map_or(0, Vec::len);
    let positions = query_positions(t, params.queries, m0);
    let a0 = groups[0];
    let opened = opened_leaves(&positions, m0 >> a0);
    for p in polys {
        let vals: Vec<Fp> = opened.iter().flat_map(|&j| row_leaf(&p.rows, j)).collect();
        t.send(labels::PCS_PAIRS, &vals);
        send_hashes(t, &capped_multi_path(&p.tree, &opened, params));
    }
    for (gi, (cw, tree)) in committed.iter().enumerate() {
        let a = groups[gi + 1];
        let opened = opened_leaves(&positions, cw.len() >> a);
        let rows = coset_rows(cw, a);
        let vals: Vec<Fp> = opened.iter().flat_map(|&j| row_leaf(&rows, j)).collect();
        t.send(labels::PCS_PAIRS, &vals);
        send_hashes(t, &capped_multi_path(tree, &opened, params));
    }
    Ok(())
}

/// The tree's cap, then the siblings below it that the opened leaves need.
fn capped_multi_path(tree: &MerkleTree, opened: &[usize], params: Params) -> Vec<Hash> {
    let c = params.cap(tree.leaves().trailing_zeros() as usize);
    let mut out: Vec<Hash> = tree.cap(c).unwrap_or_default().to_vec();
    out.extend(tree.multi_path(opened, c).unwrap_or_default());
    out
}
