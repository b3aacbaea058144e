//! A first Basefold-style multilinear PCS (eprint 2023/1705) with Reed–Solomon codes, folding
//! by 2 (arity 2). Groundwork for issue 10: correct and tested, not yet tuned to the size
//! targets (wider folds, WHIR's query schedule) nor wired into the GKR driver — see
//! `paper-notes/pcs.md`.
//!
//! * The table v of f (n variables, index bit i = xᵢ) is read as the coefficients of
//!   P(X) = Σ vᵢ Xⁱ; the commitment is the Merkle root of P's codeword on the radix-2 domain of
//!   size N·2^b. Leaf j of a codeword of length M holds the pair (C[j], C[j + M/2]) — the values at
//!   x and −x.
//! * Opening f(z) = y: a sumcheck of y = Σ_x v(x)·eq(z, x) binding x₀ first. After round k's
//!   challenge r_k the prover folds the table (v'ⱼ = v₂ⱼ + r_k(v₂ⱼ₊₁ − v₂ⱼ)) and the codeword
//!   the same way, C'[j] = (1 − r)·(C[j] + C[j + M/2])/2 + r·(C[j] − C[j + M/2])/(2ωʲ), and sends
//!   the new root before the next challenge. After n rounds the table is the constant f(r); the
//!   verifier checks the sumcheck against f(r)·eq(z, r).
//! * Queries: t positions of the first codeword; at every round the pair holding the position
//!   is opened with its Merkle path and must contain the previous round's fold; the last fold
//!   must equal f(r). A codeword far from the code is caught by each query with probability at
//!   least the proximity parameter (`paper-notes/pcs.md` for the regimes).
//! * Batching: several committed tables with claims at one point are opened as their random
//!   linear combination Σ γⁱfᵢ; the first round opens every table's pair at each position.

use super::code::ReedSolomon;
use super::merkle::{leaf, verify_cap, verify_path_to_cap, Hash, MerkleTree};
use crate::error::{PcsError, ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::eq_evals;
use crate::transcript::{labels, ProverTranscript, Transcript, VerifierTranscript};
use ark_ff::{Field, One, Zero};

/// Code rate, number of queries, and fold arity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// ρ = 2^-rate_log.
    pub rate_log: u32,
    pub queries: usize,
    /// Variables folded per committed codeword: a Merkle leaf holds the 2^fold_log values of
    /// one coset, so one path serves fold_log folds.
    pub fold_log: u32,
}

impl Params {
    /// Provable, unique decoding: ρ = 1/4, δ → 3/8, 148 queries for 100 bits.
    pub const PROVABLE: Params = Params { rate_log: 2, queries: 148, fold_log: 4 };
    /// Conjectured up to capacity: ρ = 1/4, 50 queries for 100 bits.
    pub const CONJECTURED: Params = Params { rate_log: 2, queries: 50, fold_log: 4 };

    /// The height of the Merkle cap sent once per tree (its 2^c nodes are shared by the paths of
    /// all queries): ⌊log₂ queries⌋, at most the tree's depth.
    fn cap(&self, depth: usize) -> usize {
        (usize::BITS - 1 - self.queries.max(1).leading_zeros()).min(depth as u32) as usize
    }

    /// The arity (log) of each committed codeword's folds for n variables: fold_log, the last
    /// one what remains; at least one group (of 0 variables) for a constant.
    fn groups(&self, n: usize) -> Vec<usize> {
        let a = self.fold_log.max(1) as usize;
        let mut g = Vec::new();
        let mut left = n;
        while left > 0 {
            g.push(left.min(a));
            left -= left.min(a);
        }
        if g.is_empty() {
            g.push(0);
        }
        g
    }
}

/// What the verifier holds of a committed table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Commitment {
    pub root: Hash,
    pub num_vars: usize,
}

/// What the prover keeps.
#[derive(Clone, Debug)]
pub struct Committed {
    evals: Vec<Fp>,
    codeword: Vec<Fp>,
    tree: MerkleTree,
    params: Params,
    pub commitment: Commitment,
}

/// The values of leaf j of a codeword whose leaves hold 2^a values: C[j + i·M/2^a].
fn leaf_values(codeword: &[Fp], a: usize, j: usize) -> Vec<Fp> {
    let stride = codeword.len() >> a;
    (0..1usize << a).map(|i| codeword[j + i * stride]).collect()
}

fn tree_of(codeword: &[Fp], a: usize) -> MerkleTree {
    use rayon::prelude::*;
    let leaves = codeword.len() >> a;
    let hashes: Vec<Hash> = if leaves >= 1 << 10 {
        (0..leaves).into_par_iter().map(|j| leaf(&leaf_values(codeword, a, j))).collect()
    } else {
        (0..leaves).map(|j| leaf(&leaf_values(codeword, a, j))).collect()
    };
    MerkleTree::new(hashes).unwrap_or_else(|| unreachable!("codewords have power-of-two length"))
}

/// Commits a table of 2^n values.
///
/// # Errors
/// A length that is not a power of two, or a codeword beyond the field's FFT domains.
pub fn commit(evals: &[Fp], params: Params) -> Result<Committed, ProveError> {
    let n = evals.len();
    if !n.is_power_of_two() || params.rate_log == 0 {
        return Err(ProveError::InvalidShape {
            reason: format!("a table of {n} values, rate 2^-{}", params.rate_log),
        });
    }
    let code = ReedSolomon::new(n, params.rate_log).ok_or_else(|| ProveError::InvalidShape {
        reason: format!("no FFT domain for {n}·2^{}", params.rate_log),
    })?;
    let codeword = code.encode(evals);
    let tree = tree_of(&codeword, params.groups(n.trailing_zeros() as usize)[0]);
    let commitment = Commitment { root: tree.root(), num_vars: n.trailing_zeros() as usize };
    Ok(Committed { evals: evals.to_vec(), codeword, tree, params, commitment })
}

impl Committed {
    /// The committed table's MLE at `point`.
    pub fn evaluate(&self, point: &[Fp]) -> Fp {
        crate::poly::evaluate_padded(&self.evals, point)
    }
}

/// A cheating commitment for soundness tests: the table is kept for the opening, but the
/// committed word is the codeword changed by `tamper` (so it is no longer a codeword of it).
#[doc(hidden)]
pub fn commit_word_for_tests(
    evals: &[Fp],
    params: Params,
    tamper: impl FnOnce(&mut [Fp]),
) -> Committed {
    let mut c =
        commit(evals, params).unwrap_or_else(|e| unreachable!("test tables are valid: {e}"));
    tamper(&mut c.codeword);
    c.tree = tree_of(&c.codeword, params.groups(c.commitment.num_vars)[0]);
    c.commitment.root = c.tree.root();
    c
}

fn send_hashes(t: &mut impl ProverTranscript, hashes: &[Hash]) {
    t.send_bytes(labels::PCS_HASHES, hashes.as_flattened());
}

fn receive_hashes(t: &mut impl VerifierTranscript, count: usize) -> Result<Vec<Hash>, VerifyError> {
    let bytes = t.receive_bytes(labels::PCS_HASHES, count.saturating_mul(32))?;
    Ok(bytes.chunks_exact(32).map(|c| c.try_into().unwrap_or([0; 32])).collect())
}

/// Sends a commitment (its root) as a prover message.
pub fn send_commitment(t: &mut impl ProverTranscript, c: &Commitment) {
    send_hashes(t, &[c.root]);
}

/// Receives a commitment to a table of `num_vars` variables.
pub fn receive_commitment(
    t: &mut impl VerifierTranscript,
    num_vars: usize,
) -> Result<Commitment, VerifyError> {
    let root = receive_hashes(t, 1)?[0];
    Ok(Commitment { root, num_vars })
}

/// What the parameters message holds, with the names [`PcsError::ParamsMismatch`] gives them.
const PARAM_NAMES: [&str; 5] = ["rate_log", "queries", "fold_log", "num_vars", "tables"];

fn param_words(params: &Params, num_vars: usize, tables: usize) -> [u64; 5] {
    [
        params.rate_log.into(),
        params.queries as u64,
        params.fold_log.into(),
        num_vars as u64,
        tables as u64,
    ]
}

/// The statement both sides absorb after the parameters: the roots, the point and the values.
fn absorb_statement(t: &mut impl Transcript, roots: &[Hash], point: &[Fp], values: &[Fp]) {
    t.append_bytes(labels::PCS_COMMITMENTS, roots.as_flattened());
    t.append_fields(labels::PCS_POINT, point);
    t.append_fields(labels::PCS_VALUES, values);
}

/// The fold of the pair (a = C[j], b = C[j + M/2]) at x = ωⱼ with challenge r.
fn fold(a: Fp, b: Fp, x_inv_half: Fp, r: Fp) -> Fp {
    let half = Fp::from(2u64).inverse().unwrap_or_default();
    let even = (a + b) * half;
    let odd = (a - b) * x_inv_half;
    even + r * (odd - even)
}

/// The codeword folded by 2 with challenge r: C'[j] from (C[j], C[j + M/2]) at x = ωʲ, with
/// 1/(2ωʲ) = ½·(ω⁻¹)ʲ (no inversion).
fn fold_codeword(codeword: &[Fp], omega_inv: Fp, r: Fp) -> Vec<Fp> {
    use rayon::prelude::*;
    let half = codeword.len() / 2;
    let two_inv = Fp::from(2u64).inverse().unwrap_or_default();
    const CHUNK: usize = 1 << 12;
    let mut out = vec![Fp::zero(); half];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
        let start = c * CHUNK;
        let mut xi = two_inv * omega_inv.pow([start as u64]);
        for (k, v) in o.iter_mut().enumerate() {
            let j = start + k;
            *v = fold(codeword[j], codeword[j + half], xi, r);
            xi *= omega_inv;
        }
    });
    out
}

/// Folds the 2^a values of a leaf (at x·ζⁱ) with challenges rs[..a] into one value, given
/// x⁻¹ and ζ⁻¹ (1/(2xζⁱ) = ½·x⁻¹·ζ⁻ⁱ: no inversion).
fn fold_leaf(mut v: Vec<Fp>, mut x_inv: Fp, mut zeta_inv: Fp, rs: &[Fp]) -> Fp {
    let two_inv = Fp::from(2u64).inverse().unwrap_or_default();
    for &r in rs {
        let half = v.len() / 2;
        let mut p = two_inv * x_inv;
        for i in 0..half {
            v[i] = fold(v[i], v[i + half], p, r);
            p *= zeta_inv;
        }
        v.truncate(half);
        x_inv.square_in_place();
        zeta_inv.square_in_place();
    }
    v[0]
}

/// The tree's cap, then every query's path up to the cap.
fn capped_paths(
    tree: &MerkleTree,
    positions: &[usize],
    leaves: usize,
    params: Params,
) -> Vec<Hash> {
    let c = params.cap(leaves.trailing_zeros() as usize);
    let mut out: Vec<Hash> = tree.cap(c).unwrap_or_default().to_vec();
    for &q in positions {
        out.extend(tree.path_to_cap(q % leaves, c).unwrap_or_default());
    }
    out
}

/// Opens the committed tables `polys` (same size and parameters) at `point`.
///
/// # Errors
/// Tables of different sizes or parameters, or a point of the wrong length.
pub fn open(
    polys: &[&Committed],
    point: &[Fp],
    t: &mut impl ProverTranscript,
) -> Result<(), ProveError> {
    open_with(polys, point, t, |_, _| {})
}

/// A cheating opening for soundness tests: `tamper(round, codeword)` may change each folded
/// codeword (rounds 1, 2, …) before it is committed, so it no longer holds the previous fold.
#[doc(hidden)]
pub fn open_tampered_for_tests(
    polys: &[&Committed],
    point: &[Fp],
    t: &mut impl ProverTranscript,
    tamper: impl FnMut(usize, &mut [Fp]),
) -> Result<(), ProveError> {
    open_with(polys, point, t, tamper)
}

fn open_with(
    polys: &[&Committed],
    point: &[Fp],
    t: &mut impl ProverTranscript,
    mut tamper: impl FnMut(usize, &mut [Fp]),
) -> Result<(), ProveError> {
    let Some(first) = polys.first() else {
        return Err(ProveError::InvalidShape { reason: "nothing to open".into() });
    };
    let (n, params) = (first.commitment.num_vars, first.params);
    if point.len() != n || polys.iter().any(|p| p.commitment.num_vars != n || p.params != params) {
        return Err(ProveError::InvalidShape {
            reason: "tables, parameters and point must agree".into(),
        });
    }
    let values: Vec<Fp> = polys.iter().map(|p| p.evaluate(point)).collect();
    // the parameters travel in the proof, so a verifier with other ones can say which differ
    let words = param_words(&params, n, polys.len());
    t.send_ints(labels::PCS_PARAMS, &words.map(|w| w as i64));
    let roots: Vec<Hash> = polys.iter().map(|p| p.commitment.root).collect();
    absorb_statement(t, &roots, point, &values);
    let gamma = t.challenge(labels::PCS_GAMMA);
    // the combination Σ γⁱ fᵢ: its table and codeword
    let mut table = vec![Fp::zero(); 1 << n];
    let mut codeword = vec![Fp::zero(); first.codeword.len()];
    let mut g = Fp::one();
    for p in polys {
        table.iter_mut().zip(&p.evals).for_each(|(a, v)| *a += g * v);
        codeword.iter_mut().zip(&p.codeword).for_each(|(a, v)| *a += g * v);
        g *= gamma;
    }
    let mut eq = eq_evals(point);
    let code = ReedSolomon::new(1 << n, params.rate_log)
        .ok_or_else(|| ProveError::InvalidShape { reason: "no FFT domain".into() })?;
    let mut omega_inv = code.point(1).inverse().unwrap_or_default();
    let groups = params.groups(n);
    // the codeword at the start of every group after the first, with its tree
    let mut committed: Vec<(Vec<Fp>, MerkleTree)> = Vec::with_capacity(groups.len());
    for (gi, &a) in groups.iter().enumerate() {
        for _ in 0..a {
            // round polynomial g(X) = Σ_j (v₂ⱼ + X·Δv)(e₂ⱼ + X·Δe) at 0, 1, 2
            let (mut g0, mut g1, mut g2) = (Fp::zero(), Fp::zero(), Fp::zero());
            for j in 0..table.len() / 2 {
                let (v0, v1, e0, e1) = (table[2 * j], table[2 * j + 1], eq[2 * j], eq[2 * j + 1]);
                g0 += v0 * e0;
                g1 += v1 * e1;
                g2 += (v1 + v1 - v0) * (e1 + e1 - e0);
            }
            t.send(labels::PCS_ROUND, &[g0, g1, g2]);
            let r = t.challenge(labels::PCS_CHALLENGE);
            table = (0..table.len() / 2)
                .map(|j| table[2 * j] + r * (table[2 * j + 1] - table[2 * j]))
                .collect();
            eq = (0..eq.len() / 2).map(|j| eq[2 * j] + r * (eq[2 * j + 1] - eq[2 * j])).collect();
            codeword = fold_codeword(&codeword, omega_inv, r);
            omega_inv.square_in_place();
        }
        if let Some(&next) = groups.get(gi + 1) {
            tamper(gi + 1, &mut codeword);
            let tree = tree_of(&codeword, next);
            send_hashes(t, &[tree.root()]);
            committed.push((codeword.clone(), tree));
        }
    }
    // the folded constant f(r) (the last codeword is constant)
    t.send(labels::PCS_FINAL, &[table[0]]);
    // queries: every group's leaf holding the position, with its path
    let m0 = first.codeword.len();
    let positions: Vec<usize> = t
        .challenges(labels::PCS_QUERY, params.queries)
        .iter()
        .map(|c| (crate::field::to_u128(c) as usize) & (m0 - 1))
        .collect();
    let leaves0 = m0 >> groups[0];
    for p in polys {
        let vals: Vec<Fp> = positions
            .iter()
            .flat_map(|&q| leaf_values(&p.codeword, groups[0], q % leaves0))
            .collect();
        t.send(labels::PCS_PAIRS, &vals);
        send_hashes(t, &capped_paths(&p.tree, &positions, leaves0, params));
    }
    for (gi, (cw, tree)) in committed.iter().enumerate() {
        let a = groups[gi + 1];
        let leaves = cw.len() >> a;
        let vals: Vec<Fp> =
            positions.iter().flat_map(|&q| leaf_values(cw, a, q % leaves)).collect();
        t.send(labels::PCS_PAIRS, &vals);
        send_hashes(t, &capped_paths(tree, &positions, leaves, params));
    }
    Ok(())
}

/// Verifies an opening of `commitments` at `point` with `values` under `params`.
///
/// # Errors
/// A message of the wrong length or kind (the transcript's errors, with the byte offset), or a
/// [`PcsError`] inside [`VerifyError::Pcs`]: parameters, point or values that do not fit the
/// commitments, an opening made with other parameters, a sumcheck round that does not sum, a
/// Merkle cap or path that does not lead to its root, a fold that does not match, a final value
/// that does not match the sumcheck or the last folds.
pub fn verify(
    commitments: &[Commitment],
    point: &[Fp],
    values: &[Fp],
    params: Params,
    t: &mut impl VerifierTranscript,
) -> Result<(), VerifyError> {
    let Some(first) = commitments.first() else { return Err(PcsError::NoCommitments.into()) };
    let n = first.num_vars;
    let wrong = |what, expected, got| PcsError::WrongLength { what, expected, got };
    if let Some(c) = commitments.iter().find(|c| c.num_vars != n) {
        return Err(wrong("variables of a batched commitment", n, c.num_vars).into());
    }
    if point.len() != n {
        return Err(wrong("coordinates of the point", n, point.len()).into());
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
    if n > 30 || params.fold_log == 0 || params.fold_log > 8 || params.queries == 0 {
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
    let groups = params.groups(n);
    let mut roots = Vec::with_capacity(groups.len());
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
            roots.extend(receive_hashes(t, 1)?);
        }
    }
    let fin = t.receive(labels::PCS_FINAL, 1)?.first().copied().unwrap_or_default();
    let eq_zr = crate::poly::eq_eval(point, &rs);
    if fin * eq_zr != claim {
        return Err(PcsError::FinalSumMismatch.into());
    }
    let m0 = code.codeword_len();
    let mut positions: Vec<usize> = t
        .challenges(labels::PCS_QUERY, params.queries)
        .iter()
        .map(|c| (crate::field::to_u128(c) as usize) & (m0 - 1))
        .collect();
    let tq = params.queries;
    let omega0_inv = code.point(1).inverse().unwrap_or_default();
    let mut folded: Vec<Fp> = vec![Fp::zero(); tq];
    let (mut m, mut done) = (m0, 0usize);
    for (gi, &a) in groups.iter().enumerate() {
        let width = 1usize << a;
        let leaves = m >> a;
        let depth = leaves.trailing_zeros() as usize;
        let c = params.cap(depth);
        let below = depth - c;
        let omega_inv = omega0_inv.pow([1u64 << done]);
        let zeta_inv = omega_inv.pow([leaves as u64]);
        // the leaf values of every query: combined over the tables in the first group
        let mut leaf_vals: Vec<Vec<Fp>> = vec![vec![Fp::zero(); width]; tq];
        let sources: &[Hash] = if gi == 0 { &roots_of(commitments) } else { &roots[gi - 1..gi] };
        let mut g = Fp::one();
        for (table, root) in sources.iter().enumerate() {
            let vals = t.receive(labels::PCS_PAIRS, width * tq)?;
            let hashes = receive_hashes(t, (1 << c) + tq * below)?;
            let (cap, paths) = hashes.split_at(1 << c);
            if !verify_cap(root, cap) {
                return Err(PcsError::CapMismatch { round: gi, table }.into());
            }
            for (i, (&q, v)) in positions.iter().zip(vals.chunks(width)).enumerate() {
                let path = paths.get(i * below..(i + 1) * below).unwrap_or_default();
                if !verify_path_to_cap(cap, leaves, q % leaves, &leaf(v), path) {
                    return Err(PcsError::PathMismatch { query: i, round: gi, table }.into());
                }
                leaf_vals[i].iter_mut().zip(v).for_each(|(acc, x)| *acc += g * x);
            }
            g *= gamma;
        }
        for (i, q) in positions.iter_mut().enumerate() {
            let j = *q % leaves;
            // the previous group's fold sits at position q = j + i·leaves of this codeword
            if gi > 0 && leaf_vals[i].get(*q / leaves) != Some(&folded[i]) {
                return Err(PcsError::FoldMismatch { query: i, round: gi }.into());
            }
            folded[i] = if a == 0 {
                leaf_vals[i][0]
            } else {
                let x_inv = omega_inv.pow([j as u64]);
                fold_leaf(std::mem::take(&mut leaf_vals[i]), x_inv, zeta_inv, &rs[done..done + a])
            };
            *q = j;
        }
        m >>= a;
        done += a;
    }
    if let Some(query) = folded.iter().position(|f| *f != fin) {
        return Err(PcsError::FinalFoldMismatch { query }.into());
    }
    Ok(())
}

fn roots_of(commitments: &[Commitment]) -> Vec<Hash> {
    commitments.iter().map(|c| c.root).collect()
}
