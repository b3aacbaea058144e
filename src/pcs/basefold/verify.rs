//! The verifier of an opening.

use super::{
    absorb_statement, fold_leaf, opened_leaves, param_words, pow_holds, pow_seed, query_positions,
    receive_hashes, Commitment, Params, Schedule, PARAM_NAMES,
};
use crate::error::{PcsError, VerifyError};
use crate::field::Fp;
use crate::pcs::code::ReedSolomon;
use crate::pcs::merkle::MultiPathError;
use crate::pcs::merkle::{leaf, multi_path_len, verify_cap, verify_multi_path, Hash};
use crate::poly::eq_evals;
use crate::transcript::{labels, VerifierTranscript};
use ark_ff::{Field, One, Zero};

/// Verifies an opening of `commitments` at `point` with `values` under `params`.
///
/// # Errors
/// A message of the wrong length or kind (the transcript's errors, with the byte offset), or a
/// [`PcsError`] inside [`VerifyError::Pcs`]: parameters, point or values that do not fit the
/// commitments, an opening made with other parameters, a sumcheck round that does not sum, a
/// Merkle cap or path that does not lead to its root, a fold that does not match, a final
/// polynomial that does not match the sumcheck or the last folds.
pub fn verify(
    commitments: &[Commitment],
    point: &[Fp],
    values: &[Fp],
    params: Params,
    t: &mut impl VerifierTranscript,
) -> Result<(), VerifyError> {
    let n = commitments.first().map_or(0, |c| c.num_vars);
    if !commitments.is_empty() && point.len() != n {
        return Err(PcsError::WrongLength {
            what: "coordinates of the point",
            expected: n,
            got: point.len(),
        }
        .into());
    }
    // eq(z, (r, b)) = eq(z_head, r)·eq(z_tail, b) on the final polynomial's cube
    let tail = |rs: &[Fp]| {
        let (head, tail) = point.split_at(rs.len().min(point.len()));
        let scale = crate::poly::eq_eval(head, rs);
        crate::poly::eq_evals_scaled(tail, scale)
    };
    verify_inner(commitments, Some(point), values, params, t, tail)
}

/// Verifies an opening by [`open_weighted`](super::open_weighted): Σ_x w(x)·fᵢ(x) = valuesᵢ, where `tail(r)` gives
/// w's MLE at (r, b) for every b of the final polynomial's cube (b's bit j is variable
/// r.len() + j), once the folds' challenges r are known.
///
/// # Errors
/// As [`verify`], and weights on the cube of the wrong length.
pub fn verify_weighted(
    commitments: &[Commitment],
    values: &[Fp],
    params: Params,
    t: &mut impl VerifierTranscript,
    tail: impl FnOnce(&[Fp]) -> Vec<Fp>,
) -> Result<(), VerifyError> {
    verify_inner(commitments, None, values, params, t, tail)
}

fn verify_inner(
    commitments: &[Commitment],
    point: Option<&[Fp]>,
    values: &[Fp],
    params: Params,
    t: &mut impl VerifierTranscript,
    tail: impl FnOnce(&[Fp]) -> Vec<Fp>,
) -> Result<(), VerifyError> {
    let Some(first) = commitments.first() else { return Err(PcsError::NoCommitments.into()) };
    let n = first.num_vars;
    let wrong = |what, expected, got| PcsError::WrongLength { what, expected, got };
    if let Some(c) = commitments.iter().find(|c| c.num_vars != n) {
        return Err(wrong("variables of a batched commitment", n, c.num_vars).into());
    }
    if values.len() != commitments.len() {
        return Err(wrong("values (one per commitment)", commitments.len(), values.len()).into());
    }
    let unsupported = PcsError::UnsupportedParams {
        rate_log: params.rate_log,
        queries: params.queries,
        fold_log: params.fold_log,
        num_vars: n,
    };
    // rate 1 (rate_log 0) makes every word a codeword: the proximity test would be vacuous
    if n > 30
        || params.rate_log == 0
        || params.fold_log == 0
        || params.fold_log > 8
        || params.queries == 0
        || params.pow_bits > Params::MAX_POW_BITS
    {
        return Err(unsupported.into());
    }
    let Some(code) = ReedSolomon::new(1 << n, params.rate_log) else {
        return Err(unsupported.into());
    };
    let words = t.receive_ints(labels::PCS_PARAMS, PARAM_NAMES.len())?;
    let ours = param_words(&params, n, commitments.len());
    for ((what, &expected), &got) in PARAM_NAMES.iter().zip(&ours).zip(&words) {
        if got as u64 != expected || got < 0 {
            return Err(PcsError::ParamsMismatch { what, expected, got }.into());
        }
    }
    let roots: Vec<Hash> = commitments.iter().map(|c| c.root).collect();
    absorb_statement(t, &roots, point, values);
    let gamma = t.challenge(labels::PCS_GAMMA);
    let mut claim = Fp::zero();
    let mut g = Fp::one();
    for v in values {
        claim += g * v;
        g *= gamma;
    }
    let Schedule { groups, final_vars } = params.schedule(n);
    let mut folded_roots = Vec::with_capacity(groups.len());
    let mut rs = Vec::with_capacity(n);
    let two_inv = Fp::from(2u64).inverse().unwrap_or_default();
    for (gi, &a) in groups.iter().enumerate() {
        for _ in 0..a {
            let round = rs.len();
            let gk = t.receive(labels::PCS_ROUND, 3)?;
            let [g0, g1, g2] = gk[..] else { return Err(unsupported.into()) };
            if g0 + g1 != claim {
                return Err(PcsError::RoundSumMismatch { round }.into());
            }
            let r = t.challenge(labels::PCS_CHALLENGE);
            // the quadratic through (0, g0), (1, g1), (2, g2) at r
            let l0 = (r - Fp::one()) * (r - Fp::from(2u64)) * two_inv;
            let l1 = -(r * (r - Fp::from(2u64)));
            let l2 = r * (r - Fp::one()) * two_inv;
            claim = g0 * l0 + g1 * l1 + g2 * l2;
            rs.push(r);
        }
        if gi + 1 < groups.len() {
            folded_roots.extend(receive_hashes(t, 1)?);
        }
    }
    // the final polynomial: the sumcheck's last claim is Σ_b w(r, b)·f(r, b)
    let fin = t.receive(labels::PCS_FINAL, 1 << final_vars)?;
    let w = tail(&rs);
    if w.len() != fin.len() {
        return Err(wrong("weights on the final polynomial's cube", fin.len(), w.len()).into());
    }
    if w.iter().zip(&fin).map(|(a, b)| *a * b).sum::<Fp>() != claim {
        return Err(PcsError::FinalSumMismatch.into());
    }
    if params.pow_bits > 0 {
        let seed = pow_seed(t);
        let nonce = t.receive_ints(labels::PCS_POW, 1)?.first().copied().unwrap_or(-1);
        if !u64::try_from(nonce).is_ok_and(|n| pow_holds(&seed, n, params.pow_bits)) {
            return Err(PcsError::PowMismatch { bits: params.pow_bits }.into());
        }
    }
    let m0 = code.codeword_len();
    let mut positions = query_positions(t, params.queries, m0);
    let omega0_inv = code.point(1).inverse().unwrap_or_default();
    let mut folded: Vec<Fp> = vec![Fp::zero(); params.queries];
    let (mut m, mut done) = (m0, 0usize);
    for (gi, &a) in groups.iter().enumerate() {
        let width = 1usize << a;
        let leaves = m >> a;
        let opened = opened_leaves(&positions, leaves);
        let c = params.cap(leaves.trailing_zeros() as usize);
        let siblings = multi_path_len(leaves, &opened, c);
        // the opened leaves' values, combined over the tables in the first codeword
        let mut combined = vec![Fp::zero(); width * opened.len()];
        let sources: &[Hash] =
            if gi == 0 { &roots } else { folded_roots.get(gi - 1..gi).unwrap_or_default() };
        let mut g = Fp::one();
        for (table, root) in sources.iter().enumerate() {
            let vals = t.receive(labels::PCS_PAIRS, width * opened.len())?;
            let hashes = receive_hashes(t, (1 << c) + siblings)?;
            let (cap, below) = hashes.split_at(1 << c);
            if !verify_cap(root, cap) {
                return Err(PcsError::CapMismatch { round: gi, table }.into());
            }
            let leaf_hashes: Vec<Hash> = vals.chunks(width).map(leaf).collect();
            match verify_multi_path(cap, leaves, &opened, &leaf_hashes, below) {
                Ok(()) => {}
                Err(e) => {
                    // name the first query whose leaf lies under the cap node that fails
                    let under = |q: &usize| match e {
                        MultiPathError::Node(k) => {
                            (q % leaves) >> (leaves.trailing_zeros() as usize - c) == k
                        }
                        MultiPathError::Shape => true,
                    };
                    let query = positions.iter().position(under).unwrap_or_default();
                    return Err(PcsError::PathMismatch { query, round: gi, table }.into());
                }
            }
            combined.iter_mut().zip(&vals).for_each(|(acc, x)| *acc += g * x);
            g *= gamma;
        }
        // the previous codeword's fold of each query sits at slot q / leaves of its leaf
        let slot = |q: usize| opened.binary_search(&(q % leaves)).unwrap_or_default();
        if gi > 0 {
            for (query, (&q, f)) in positions.iter().zip(&folded).enumerate() {
                if combined.get(slot(q) * width + q / leaves) != Some(f) {
                    return Err(PcsError::FoldMismatch { query, round: gi }.into());
                }
            }
        }
        // each opened leaf's fold (the first codeword's leaves hold rows, the others' cosets),
        // then each query's
        let rs_group = rs.get(done..done + a).unwrap_or_default();
        let leaf_folds: Vec<Fp> = if gi == 0 {
            let eq = eq_evals(rs_group);
            combined.chunks(width).map(|v| v.iter().zip(&eq).map(|(x, e)| *x * e).sum()).collect()
        } else {
            let omega_inv = omega0_inv.pow([1u64 << done]);
            let zeta_inv = omega_inv.pow([leaves as u64]);
            opened
                .iter()
                .zip(combined.chunks_mut(width))
                .map(|(&j, v)| fold_leaf(v, omega_inv.pow([j as u64]), zeta_inv, rs_group))
                .collect()
        };
        for (f, q) in folded.iter_mut().zip(positions.iter_mut()) {
            *f = leaf_folds.get(slot(*q)).copied().unwrap_or_default();
            *q %= leaves;
        }
        m >>= a;
        done += a;
    }
    // the last folds against the final polynomial's codeword
    let last = ReedSolomon::new(1 << final_vars, params.rate_log).ok_or(unsupported)?.encode(&fin);
    if let Some(query) = positions.iter().zip(&folded).position(|(q, f)| last.get(*q) != Some(f)) {
        return Err(PcsError::FinalFoldMismatch { query }.into());
    }
    Ok(())
}
