//! A Basefold-style multilinear PCS (eprint 2023/1705) with Reed–Solomon codes, folding
//! 2^fold_log values at a time (arity 16 by default), with the last few variables' table sent in
//! the clear. `paper-notes/pcs.md` has the soundness argument, the parameter sets and the
//! measured costs.
//!
//! * The table v of f (n variables, index bit i = xᵢ) is read as the coefficients of
//!   P(X) = Σ vᵢ Xⁱ, with codewords on the radix-2 domain of size M = 2^n·2^b (rate ρ = 2^-b).
//!   The commitment is the Merkle root of P's word kept as rows ([`encode_rows`]): with a first
//!   group of a folds, P(X) = Σ_l Xˡ·P_l(X^(2^a)), row l is the codeword of P_l (length M/2^a),
//!   and leaf j holds the rows' values at ω^(2^a·j). That leaf is an invertible image of
//!   Basefold's coset leaf (P(ωʲζⁱ))_i, ζ a 2^a-th root of unity, and its a folds are the one
//!   combination Σ_l eq(r, l)·P_l(ω^(2^a·j)). The folded codewords committed later have coset
//!   leaves: leaf j holds C[j + i·M'/2^a], the values at ω'ʲ·ζⁱ.
//! * Opening f(z) = y: a sumcheck of y = Σ_x v(x)·eq(z, x) binding x₀ first. Every round's
//!   challenge r folds the table (v'ⱼ = v₂ⱼ + r(v₂ⱼ₊₁ − v₂ⱼ)) and the codeword
//!   (C'[j] = (1 − r)·(C[j] + C[j + M/2])/2 + r·(C[j] − C[j + M/2])/(2ωʲ), the codeword of the
//!   folded table on the squared domain). After each group of a rounds the prover commits the
//!   folded codeword (one Merkle root). [`Schedule`] fixes the groups; after them the remaining
//!   table of 2^k values ("the final polynomial") is sent in the clear, where its size costs
//!   less than the queries to the codewords that further folds would commit.
//! * The verifier checks the sumcheck's last claim against eq(z, r)·MLE(final)(z's last k
//!   coordinates), then t query positions: at every committed codeword the leaf holding the
//!   position (with its Merkle path) must hold the previous fold, and the last fold must equal
//!   the codeword of the final polynomial (one FFT by the verifier). A committed word far from
//!   the code is caught by each query with probability at least the proximity parameter.
//! * Paths: each tree's top ⌊log₂ t⌋ levels are sent once (a cap), and below it each needed
//!   sibling is sent once for all queries ([`MerkleTree::multi_path`]); each opened leaf is sent
//!   once however many queries land in it.
//! * Batching: several committed tables with claims at one point are opened as their random
//!   linear combination Σ γⁱfᵢ; the first codeword's leaves are opened in every table.
//! * The parameters and the number of tables travel in the proof (a verifier with other ones says
//!   which differ); the roots, the point and the values are absorbed before the first challenge.
//!
//! Files: `params` (the parameter sets and the fold schedule), `grind` (the proof of work
//! before the queries), `open` and `verify`; this one holds the committed word (rows,
//! leaves, folds) and what both sides share.
use super::code::ReedSolomon;
use super::merkle::{leaf, Hash, MerkleTree};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::eq_evals;
use crate::transcript::{labels, ProverTranscript, Transcript, VerifierTranscript};
use ark_ff::{Field, Zero};
use rayon::prelude::*;

mod grind;
mod open;
mod params;
mod verify;

use grind::pow_seed;
pub use grind::{grind, pow_holds};
#[cfg(any(test, feature = "test-util"))]
pub use open::open_tampered_for_tests;
pub use open::{open, open_weighted};
use params::{param_words, PARAM_NAMES};
pub use params::{Params, Schedule};
pub use verify::{verify, verify_weighted};

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
    /// The committed word's rows ([`encode_rows`]).
    rows: Vec<Vec<Fp>>,
    tree: MerkleTree,
    params: Params,
    pub commitment: Commitment,
}

/// A folded codeword whose leaves hold cosets of 2^a values, C[j + i·M/2^a] for leaf j, seen as
/// 2^a rows of M/2^a: leaf j is then the rows' values at j, as in the committed word.
fn coset_rows(codeword: &[Fp], a: usize) -> Vec<&[Fp]> {
    codeword.chunks((codeword.len() >> a).max(1)).collect()
}

/// The word committed for a table v whose first group folds a variables: P(X) = Σ vᵢXⁱ split
/// as Σ_l Xˡ·P_l(X^(2^a)) (l < 2^a, P_l(Y) = Σ_m v[l + 2^a·m]·Yᵐ), row l the codeword of P_l
/// under `code` (length L = M/2^a, on the domain of ω^(2^a)). Leaf j holds (P_l(ω^(2^a·j)))_l,
/// which the coset (P(ωʲζⁱ))_i of an RS codeword of P determines and is determined by (an
/// invertible DFT of size 2^a with twiddles), so the scheme is Basefold's with each first-word
/// leaf re-encoded; its a folds become one eq-combination: P folded by r₀ … r_(a−1) is
/// Σ_l eq(r, l)·P_l. Rows are short FFTs run side by side (cache-friendly), and the word is
/// never interleaved.
#[expect(
    clippy::indexing_slicing,
    reason = "prover only (commit): l < 2^a <= evals.len(), as a schedule's group folds at most num_vars variables"
)]
fn encode_rows(evals: &[Fp], a: usize, code: &ReedSolomon) -> Vec<Vec<Fp>> {
    (0..1usize << a)
        .into_par_iter()
        .map(|l| {
            let mut message = Vec::with_capacity(code.codeword_len());
            message.extend(evals[l..].iter().step_by(1 << a));
            code.encode_owned(message)
        })
        .collect()
}

/// Leaf j of a word kept as rows: the rows' values at j.
#[expect(
    clippy::indexing_slicing,
    reason = "prover only (open): j is an opened leaf, reduced modulo the rows' common length"
)]
fn row_leaf<R: AsRef<[Fp]>>(rows: &[R], j: usize) -> Vec<Fp> {
    rows.iter().map(|r| r.as_ref()[j]).collect()
}

/// The Merkle tree of a word kept as rows (at most 2^8 of them): leaf j holds the rows' values
/// at j.
#[expect(
    clippy::indexing_slicing,
    reason = "prover only (commit, open), hot: j < the rows' common length, and at most 2^8 rows (fold_log <= 8)"
)]
fn tree_of_rows<R: AsRef<[Fp]> + Sync>(rows: &[R]) -> MerkleTree {
    let leaves = rows.first().map_or(0, |r| r.as_ref().len());
    let hash = |j: usize| {
        let mut v = [Fp::zero(); 1 << 8];
        for (x, r) in v.iter_mut().zip(rows) {
            *x = r.as_ref()[j];
        }
        leaf(&v[..rows.len()])
    };
    let hashes: Vec<Hash> = if leaves >= 1 << 10 {
        (0..leaves).into_par_iter().map(hash).collect()
    } else {
        (0..leaves).map(hash).collect()
    };
    MerkleTree::new(hashes).unwrap_or_else(|| unreachable!("codewords have power-of-two length"))
}

/// The first group's fold of the combination Σ gᵢ·Uᵢ of committed words (see [`encode_rows`]):
/// entry j is Σ_l eq(rs, l)·Σᵢ gᵢ·Uᵢ[l][j], the codeword of the folded table at ω^(2^a·j).
fn fold_rows(words: &[(&[Vec<Fp>], Fp)], rs: &[Fp]) -> Vec<Fp> {
    let eq = eq_evals(rs);
    let leaves = words.first().and_then(|w| w.0.first()).map_or(0, Vec::len);
    let mut out = vec![Fp::zero(); leaves];
    for (rows, g) in words {
        for (row, e) in rows.iter().zip(&eq) {
            let c = *g * e;
            out.par_iter_mut().zip(row).with_min_len(1 << 12).for_each(|(o, x)| *o += c * x);
        }
    }
    out
}

/// Commits a table of 2^n values.
///
/// # Errors
/// A length that is not a power of two, or a codeword beyond the field's FFT domains.
pub fn commit(evals: impl Into<Vec<Fp>>, params: Params) -> Result<Committed, ProveError> {
    let evals = evals.into();
    let n = evals.len();
    if !n.is_power_of_two() || params.rate_log == 0 || params.fold_log > 8 {
        return Err(ProveError::InvalidShape {
            reason: format!(
                "a table of {n} values, rate 2^-{}, folds of 2^{}",
                params.rate_log, params.fold_log
            ),
        });
    }
    let num_vars = n.trailing_zeros() as usize;
    let a0 = params.schedule(num_vars).groups.first().copied().unwrap_or_default();
    // the rows' code: messages of n / 2^a0 symbols on the domain of ω^(2^a0), of size M / 2^a0
    let code = ReedSolomon::new(n >> a0, params.rate_log).ok_or_else(|| {
        ProveError::InvalidShape { reason: format!("no FFT domain for {n}·2^{}", params.rate_log) }
    })?;
    let rows = encode_rows(&evals, a0, &code);
    let tree = tree_of_rows(&rows);
    let commitment = Commitment { root: tree.root(), num_vars };
    Ok(Committed { evals, rows, tree, params, commitment })
}

impl Committed {
    /// The committed table.
    pub fn table(&self) -> &[Fp] {
        &self.evals
    }

    /// The committed table's MLE at `point`.
    pub fn evaluate(&self, point: &[Fp]) -> Fp {
        crate::poly::evaluate_padded(&self.evals, point)
    }
}

/// A cheating commitment for soundness tests: the table is kept for the opening, but the
/// committed word (its rows one after another) is changed by `tamper`, so it no longer encodes
/// the table.
#[cfg(any(test, feature = "test-util"))]
pub fn commit_word_for_tests(
    evals: &[Fp],
    params: Params,
    tamper: impl FnOnce(&mut [Fp]),
) -> Committed {
    let mut c =
        commit(evals, params).unwrap_or_else(|e| unreachable!("test tables are valid: {e}"));
    let len = c.rows.first().map_or(0, Vec::len);
    let mut word = c.rows.concat();
    tamper(&mut word);
    c.rows = word.chunks(len.max(1)).map(<[Fp]>::to_vec).collect();
    c.tree = tree_of_rows(&c.rows);
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
    let root = receive_hashes(t, 1)?.first().copied().unwrap_or_default();
    Ok(Commitment { root, num_vars })
}

/// The statement both sides absorb after the parameters: the roots, the point (a weighted
/// opening's weights are fixed by the caller's transcript instead) and the values.
fn absorb_statement(t: &mut impl Transcript, roots: &[Hash], point: Option<&[Fp]>, values: &[Fp]) {
    t.append_bytes(labels::PCS_COMMITMENTS, roots.as_flattened());
    match point {
        Some(point) => t.append_fields(labels::PCS_POINT, point),
        None => t.append_bytes(labels::PCS_POINT, b"weighted"),
    }
    t.append_fields(labels::PCS_VALUES, values);
}

/// The query positions in the first codeword (of length m0, a power of two).
fn query_positions(t: &mut impl Transcript, queries: usize, m0: usize) -> Vec<usize> {
    t.challenges(labels::PCS_QUERY, queries)
        .iter()
        .map(|c| (crate::field::to_u128(c) as usize) & (m0 - 1))
        .collect()
}

/// The leaves holding `positions` in a codeword of `leaves` leaves: sorted, each once.
fn opened_leaves(positions: &[usize], leaves: usize) -> Vec<usize> {
    let mut l: Vec<usize> = positions.iter().map(|q| q % leaves).collect();
    l.sort_unstable();
    l.dedup();
    l
}

/// The fold of the pair (a = C[j], b = C[j + M/2]) at x = ωʲ with challenge r, given ½x⁻¹.
fn fold(a: Fp, b: Fp, x_inv_half: Fp, r: Fp, half: Fp) -> Fp {
    let even = (a + b) * half;
    let odd = (a - b) * x_inv_half;
    even + r * (odd - even)
}

/// Folds the 2^a values of a leaf (at x·ζⁱ) with challenges rs[..a] into one value, given
/// x⁻¹ and ζ⁻¹ (1/(2xζⁱ) = ½·x⁻¹·ζ⁻ⁱ: no inversion).
fn fold_leaf(v: &mut [Fp], mut x_inv: Fp, mut zeta_inv: Fp, rs: &[Fp]) -> Fp {
    let two_inv = Fp::from(2u64).inverse().unwrap_or_default();
    // the values still unfolded: each round folds the upper half onto the lower
    let mut live: &mut [Fp] = v;
    for &r in rs {
        let half = live.len() / 2;
        let Some((lo, hi)) = std::mem::take(&mut live).split_at_mut_checked(half) else {
            break;
        };
        let mut p = two_inv * x_inv;
        for (a, b) in lo.iter_mut().zip(hi.iter()) {
            *a = fold(*a, *b, p, r, two_inv);
            p *= zeta_inv;
        }
        live = lo;
        x_inv.square_in_place();
        zeta_inv.square_in_place();
    }
    v.first().copied().unwrap_or_default()
}

/// A committed codeword after the first (its leaves hold cosets) folded a times with challenges
/// rs: C'[j] is the fold of leaf j, so the result has M/2^a entries. `omega_inv` is ω⁻¹ for the
/// codeword's domain.
#[expect(
    clippy::indexing_slicing,
    reason = "prover only (open), hot: a <= 8 and j + i·leaves < 2^a·leaves <= word.len()"
)]
fn fold_codeword(word: &[Fp], a: usize, omega_inv: Fp, rs: &[Fp]) -> Vec<Fp> {
    let leaves = word.len() >> a;
    let zeta_inv = omega_inv.pow([leaves as u64]);
    const CHUNK: usize = 1 << 10;
    let mut out = vec![Fp::zero(); leaves];
    out.par_chunks_mut(CHUNK).enumerate().for_each(|(c, o)| {
        let start = c * CHUNK;
        let mut x_inv = omega_inv.pow([start as u64]);
        let mut v = [Fp::zero(); 1 << 8];
        for (k, out) in o.iter_mut().enumerate() {
            let j = start + k;
            let v = &mut v[..1 << a];
            v.iter_mut().enumerate().for_each(|(i, x)| *x = word[j + i * leaves]);
            *out = fold_leaf(v, x_inv, zeta_inv, rs);
            x_inv *= omega_inv;
        }
    });
    out
}

/// One sumcheck round on (table, eq): g(X) = Σ_j (v₂ⱼ + X·Δv)(e₂ⱼ + X·Δe) at 0, 1, 2.
fn round_poly(table: &[Fp], eq: &[Fp]) -> [Fp; 3] {
    let term = |(&[v0, v1], &[e0, e1]): (&[Fp; 2], &[Fp; 2])| {
        [v0 * e0, v1 * e1, (v1 + v1 - v0) * (e1 + e1 - e0)]
    };
    let add = |[a0, a1, a2]: [Fp; 3], [b0, b1, b2]: [Fp; 3]| [a0 + b0, a1 + b1, a2 + b2];
    let zero = [Fp::zero(); 3];
    let (pairs, eq_pairs) = (table.as_chunks::<2>().0, eq.as_chunks::<2>().0);
    if table.len() >= 1 << 12 {
        pairs.par_iter().zip(eq_pairs).map(term).reduce(|| zero, add)
    } else {
        pairs.iter().zip(eq_pairs).map(term).fold(zero, add)
    }
}

/// v'ⱼ = v₂ⱼ + r(v₂ⱼ₊₁ − v₂ⱼ).
fn fold_table(v: &[Fp], r: Fp) -> Vec<Fp> {
    let f = |&[v0, v1]: &[Fp; 2]| v0 + r * (v1 - v0);
    let pairs = v.as_chunks::<2>().0;
    if v.len() >= 1 << 12 {
        pairs.par_iter().map(f).collect()
    } else {
        pairs.iter().map(f).collect()
    }
}
