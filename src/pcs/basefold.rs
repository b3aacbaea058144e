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

use super::code::ReedSolomon;
use super::merkle::MultiPathError;
use super::merkle::{leaf, multi_path_len, verify_cap, verify_multi_path, Hash, MerkleTree};
use crate::error::{PcsError, ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::eq_evals;
use crate::transcript::{labels, ProverTranscript, Transcript, VerifierTranscript};
use ark_ff::{Field, One, Zero};
use rayon::prelude::*;

/// Code rate, number of queries, fold arity and grinding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    /// ρ = 2^-rate_log.
    pub rate_log: u32,
    pub queries: usize,
    /// Variables folded per committed codeword: a Merkle leaf holds the 2^fold_log values of
    /// one coset, so one path serves fold_log folds.
    pub fold_log: u32,
    /// Proof-of-work bits before the queries (grinding, [`grind`]): every new draw of the query
    /// positions costs a prover 2^pow_bits hashes, which stands in for pow_bits bits of the
    /// query error against a Fiat–Shamir prover (0: no proof of work, no message).
    pub pow_bits: u32,
}

impl Params {
    /// Provable, unique decoding: ρ = 1/4, δ → 3/8, 124 queries (2^-84.1) and 16 bits of
    /// grinding for 100 bits.
    pub const PROVABLE: Params = Params { rate_log: 2, queries: 124, fold_log: 4, pow_bits: 16 };
    /// Conjectured up to capacity: ρ = 1/4, 42 queries (2^-84) and 16 bits of grinding.
    pub const CONJECTURED: Params = Params { rate_log: 2, queries: 42, fold_log: 4, pow_bits: 16 };
    /// The provable set of proofs made before grinding (until 2026-12-05): 148 queries,
    /// 2^-100.4 without grinding. Still accepted by verifiers that read the mode from a file.
    pub const PROVABLE_V1: Params = Params { rate_log: 2, queries: 148, fold_log: 4, pow_bits: 0 };
    /// The conjectured set before grinding: 50 queries.
    pub const CONJECTURED_V1: Params =
        Params { rate_log: 2, queries: 50, fold_log: 4, pow_bits: 0 };
    /// The most grinding a verifier accepts (a prover's expected work is 2^pow_bits hashes).
    pub const MAX_POW_BITS: u32 = 32;

    /// The height of the Merkle cap sent once per tree (its 2^c nodes are shared by the paths of
    /// all queries): ⌊log₂ queries⌋, at most the tree's depth.
    fn cap(&self, depth: usize) -> usize {
        (usize::BITS - 1 - self.queries.max(1).leading_zeros()).min(depth as u32) as usize
    }

    /// The groups of folds and the final polynomial's size for a table of n variables: of the
    /// candidates "fold g groups of fold_log (the last one what remains), send the rest in the
    /// clear", the one whose estimated proof is smallest (the fewest groups on a tie). Both sides
    /// compute it from the parameters alone.
    pub fn schedule(&self, n: usize) -> Schedule {
        let a = self.fold_log.max(1) as usize;
        let t = self.queries.max(1);
        let (mut best, mut best_cost) = (Schedule { groups: vec![0], final_vars: n }, u128::MAX);
        for g in 0..=n.div_ceil(a) {
            let mut groups: Vec<usize> = (0..g).map(|i| a.min(n - i * a)).collect();
            let folded: usize = groups.iter().sum();
            if groups.is_empty() {
                groups.push(0);
            }
            // bytes: the final table, then every committed codeword's leaves and paths (an upper
            // bound: every query in its own leaf, no shared siblings), roots and round messages
            let mut cost: u128 = 16 << (n - folded);
            let mut m = n + self.rate_log as usize;
            for &ar in &groups {
                let depth = m - ar;
                let c = self.cap(depth);
                let opened = t.min(1 << depth) as u128;
                cost += opened * (16 << ar) + 32 * ((1 << c) + t as u128 * (depth - c) as u128);
                cost += 40 + 56 * ar as u128;
                m -= ar;
            }
            if cost < best_cost {
                (best, best_cost) = (Schedule { groups, final_vars: n - folded }, cost);
            }
        }
        best
    }
}

/// How an opening of n variables folds: `groups[i]` variables are folded out of committed
/// codeword i (whose leaves hold 2^groups[i] values), and the table of the last `final_vars`
/// variables is sent in the clear. `groups` is `[0]` when nothing is folded: the commitment's
/// leaves then hold single values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Schedule {
    pub groups: Vec<usize>,
    pub final_vars: usize,
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
fn row_leaf<R: AsRef<[Fp]>>(rows: &[R], j: usize) -> Vec<Fp> {
    rows.iter().map(|r| r.as_ref()[j]).collect()
}

/// The Merkle tree of a word kept as rows (at most 2^8 of them): leaf j holds the rows' values
/// at j.
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
    let a0 = params.schedule(num_vars).groups[0];
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
#[doc(hidden)]
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

/// What the parameters message holds, with the names [`PcsError::ParamsMismatch`] gives them.
const PARAM_NAMES: [&str; 6] =
    ["rate_log", "queries", "fold_log", "pow_bits", "num_vars", "tables"];

fn param_words(params: &Params, num_vars: usize, tables: usize) -> [u64; 6] {
    [
        params.rate_log.into(),
        params.queries as u64,
        params.fold_log.into(),
        params.pow_bits.into(),
        num_vars as u64,
        tables as u64,
    ]
}

/// The key of the grinding hash (its own domain: never a Merkle leaf or node).
const POW_KEY: [u8; 32] = *b"gkrnet basefold grinding, v1....";

/// Whether blake3_key(seed ‖ nonce) ends in at least `bits` zero bits (read little-endian).
pub fn pow_holds(seed: &[u8; 16], nonce: u64, bits: u32) -> bool {
    let mut msg = [0u8; 24];
    msg[..16].copy_from_slice(seed);
    msg[16..].copy_from_slice(&nonce.to_le_bytes());
    let h = blake3::keyed_hash(&POW_KEY, &msg);
    let mut low = [0u8; 8];
    low.copy_from_slice(&h.as_bytes()[..8]);
    u64::from_le_bytes(low).trailing_zeros() >= bits
}

/// The least nonce with [`pow_holds`], searched in parallel batches (so the proof does not
/// depend on the thread count). Expected work 2^bits hashes.
pub fn grind(seed: &[u8; 16], bits: u32) -> u64 {
    const BATCH: u64 = 1 << 13;
    (0u64..)
        .find_map(|b| {
            (b * BATCH..(b + 1) * BATCH).into_par_iter().find_first(|&n| pow_holds(seed, n, bits))
        })
        .unwrap_or_default()
}

/// The grinding seed: a challenge drawn after the final polynomial, as 16 bytes.
fn pow_seed(t: &mut impl Transcript) -> [u8; 16] {
    crate::field::to_u128(&t.challenge(labels::PCS_POW_SEED)).to_le_bytes()
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
    let mut len = v.len();
    for &r in rs {
        let half = len / 2;
        let mut p = two_inv * x_inv;
        for i in 0..half {
            v[i] = fold(v[i], v[i + half], p, r, two_inv);
            p *= zeta_inv;
        }
        len = half;
        x_inv.square_in_place();
        zeta_inv.square_in_place();
    }
    v.first().copied().unwrap_or_default()
}

/// A committed codeword after the first (its leaves hold cosets) folded a times with challenges
/// rs: C'[j] is the fold of leaf j, so the result has M/2^a entries. `omega_inv` is ω⁻¹ for the
/// codeword's domain.
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
    let term = |(v, e): (&[Fp], &[Fp])| {
        let (v0, v1, e0, e1) = (v[0], v[1], e[0], e[1]);
        [v0 * e0, v1 * e1, (v1 + v1 - v0) * (e1 + e1 - e0)]
    };
    let add = |a: [Fp; 3], b: [Fp; 3]| [a[0] + b[0], a[1] + b[1], a[2] + b[2]];
    let zero = [Fp::zero(); 3];
    if table.len() >= 1 << 12 {
        table.par_chunks(2).zip(eq.par_chunks(2)).map(term).reduce(|| zero, add)
    } else {
        table.chunks(2).zip(eq.chunks(2)).map(term).fold(zero, add)
    }
}

/// v'ⱼ = v₂ⱼ + r(v₂ⱼ₊₁ − v₂ⱼ).
fn fold_table(v: &[Fp], r: Fp) -> Vec<Fp> {
    let f = |p: &[Fp]| p[0] + r * (p[1] - p[0]);
    if v.len() >= 1 << 12 {
        v.par_chunks(2).map(f).collect()
    } else {
        v.chunks(2).map(f).collect()
    }
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
    open_with(polys, Claim::Point(point), t, |_, _| {})
}

/// Proves Σ_x w(x)·fᵢ(x) = valuesᵢ for the committed tables `polys` and a public weight table
/// `weights` (2^n entries) that the caller's transcript already determines: the same protocol
/// as [`open`] with w in place of eq(z, ·), so claims merged into one weighted sum need no
/// sumcheck of their own. The verifier ([`verify_weighted`]) needs w's MLE on the final
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
#[doc(hidden)]
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

/// Verifies an opening by [`open_weighted`]: Σ_x w(x)·fᵢ(x) = valuesᵢ, where `tail(r)` gives
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
    if n > 30
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
            for (query, &q) in positions.iter().enumerate() {
                if combined.get(slot(q) * width + q / leaves) != Some(&folded[query]) {
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
