//! The sumcheck prover: linear time, one fused fold-and-evaluate pass per round.
//!
//! Rounds bind the top live variable first, so a table folds in place: f[i] ← f[i] + r·(f[i + h] −
//! f[i]) with h half the live length, and no round allocates. Round j > 0 reads each table at its
//! live size 2^(n−j+1) once: a chunk is folded by r_(j−1) and the round-j evaluations are
//! accumulated from the freshly folded chunk while it is still in cache.
//! Chunks run on rayon above [`PAR_THRESHOLD`]. Products of two and three tables (matrix products,
//! eq-weighted products) have their own unrolled kernels; other sums of products use a general one.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use super::{
    absorb_claim, combine, decompress_round, degree, point_from_challenges, EvalClaim,
    SumcheckClaim, Term, MAX_DEGREE, MAX_NUM_VARS,
};
use crate::error::ProveError;
use crate::field::{Fp, WideAcc};
use crate::poly::{evaluate_padded, PAR_THRESHOLD};
use crate::transcript::{labels, ProverTranscript};
use ark_ff::{AdditiveGroup, Zero};
use rayon::prelude::*;

/// The prover's polynomial g(x) = Σ_t c_t · Π_{j ∈ S_t} f_j(x), every f_j a table of 2^n values.
#[derive(Clone, Debug)]
pub struct ProductSum {
    num_vars: usize,
    tables: Vec<Vec<Fp>>,
    terms: Vec<Term>,
}

impl ProductSum {
    /// # Errors
    /// [`ProveError::InvalidPolynomial`] if the tables are empty, of different or non-power-of-two
    /// lengths, too large, or if a term is empty, names a missing table or the degree is too high.
    pub fn new(tables: Vec<Vec<Fp>>, terms: Vec<Term>) -> Result<Self, ProveError> {
        let invalid =
            |reason: &str| Err(ProveError::InvalidPolynomial { reason: reason.to_string() });
        let Some(len) = tables.first().map(Vec::len) else {
            return invalid("no tables");
        };
        if !len.is_power_of_two() || tables.iter().any(|t| t.len() != len) {
            return invalid("tables must share one power-of-two length");
        }
        let num_vars = len.trailing_zeros() as usize;
        if num_vars > MAX_NUM_VARS {
            return invalid("too many variables");
        }
        if terms.is_empty() || terms.iter().any(|t| t.factors.is_empty()) {
            return invalid("every term needs at least one factor");
        }
        if terms.iter().flat_map(|t| &t.factors).any(|&j| j >= tables.len()) {
            return invalid("a term names a missing table");
        }
        if degree(&terms) > MAX_DEGREE {
            return invalid("degree above MAX_DEGREE");
        }
        Ok(Self { num_vars, tables, terms })
    }

    /// The product of the given tables (one term, coefficient 1).
    pub fn product(tables: Vec<Vec<Fp>>) -> Result<Self, ProveError> {
        let factors = (0..tables.len()).collect();
        Self::new(tables, vec![Term::product(factors)])
    }

    pub fn num_vars(&self) -> usize {
        self.num_vars
    }

    pub fn degree(&self) -> usize {
        degree(&self.terms)
    }

    pub fn terms(&self) -> &[Term] {
        &self.terms
    }

    pub fn tables(&self) -> &[Vec<Fp>] {
        &self.tables
    }

    /// The claim this polynomial's sumcheck proves.
    pub fn claim(&self, claimed_sum: Fp) -> SumcheckClaim {
        SumcheckClaim { num_vars: self.num_vars, degree: self.degree(), claimed_sum }
    }

    /// Σ over the hypercube, term by term (the oracle for tests and the honest claimed sum).
    pub fn sum(&self) -> Fp {
        (0..1usize << self.num_vars)
            .into_par_iter()
            .map(|x| {
                let evals: Vec<Fp> = self.tables.iter().map(|t| t[x]).collect();
                combine(&self.terms, &evals).unwrap_or_default()
            })
            .sum()
    }

    /// The evaluations f_j(point) of every table.
    pub fn evaluate_tables(&self, point: &[Fp]) -> Vec<Fp> {
        self.tables.iter().map(|t| evaluate_padded(t, point)).collect()
    }
}

/// What the prover holds after the sumcheck: the challenge point and f_j(point) for every table.
/// [`super::send_final_evals`] sends the evaluations when the verifier cannot compute them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProverOutput {
    pub point: Vec<Fp>,
    pub final_evals: Vec<Fp>,
}

impl ProverOutput {
    /// The claim on table j.
    pub fn claim_on(&self, j: usize) -> EvalClaim {
        EvalClaim { point: self.point.clone(), value: self.final_evals[j] }
    }
}

/// Proves Σ_x g(x) = `claimed_sum`.
///
/// # Errors
/// [`ProveError::ClaimedSumMismatch`] if the sum is not `claimed_sum` (detected at the end, at no
/// extra cost: the final evaluations then contradict the rounds).
pub fn prove(
    poly: ProductSum,
    claimed_sum: Fp,
    t: &mut impl ProverTranscript,
) -> Result<ProverOutput, ProveError> {
    let (out, consistent) = prove_unchecked(poly, claimed_sum, t);
    if !consistent {
        return Err(ProveError::ClaimedSumMismatch);
    }
    Ok(out)
}

/// [`prove`] that runs to the end even for a false `claimed_sum` (the second value says whether the
/// claim was true): what a cheating prover sends, for soundness tests.
pub fn prove_unchecked(
    poly: ProductSum,
    claimed_sum: Fp,
    t: &mut impl ProverTranscript,
) -> (ProverOutput, bool) {
    let claim = poly.claim(claimed_sum);
    absorb_claim(t, &claim);
    let ProductSum { num_vars, mut tables, terms } = poly;
    let kernel = Kernel::for_terms(&terms);
    let degree = claim.degree;

    // challenges in round order: r_j binds x_(n−1−j)
    let mut challenges = Vec::with_capacity(num_vars);
    let mut running_sum = claimed_sum;
    let mut len = 1usize << num_vars; // live entries of every table
    for _ in 0..num_vars {
        let acc = match challenges.last() {
            None => eval_pass(&tables, &kernel, &terms, degree),
            Some(&r) => {
                let acc = fold_eval_pass(&mut tables, len, r, &kernel, &terms, degree);
                len /= 2;
                acc
            }
        };
        let msg = round_message(&acc, &terms, degree, &kernel, running_sum);
        t.send(labels::SUMCHECK_ROUND, &msg);
        let r = t.challenge(labels::SUMCHECK_CHALLENGE);
        running_sum = decompress_round(&msg, running_sum).evaluate(&r);
        challenges.push(r);
    }
    let final_evals: Vec<Fp> = match challenges.last() {
        None => tables.iter().map(|t| t[0]).collect(),
        Some(&r) => tables.iter().map(|t| t[0] + r * (t[1] - t[0])).collect(),
    };
    let consistent = combine(&terms, &final_evals) == Some(running_sum);
    (ProverOutput { point: point_from_challenges(challenges), final_evals }, consistent)
}

/// The message [g(0), g(2), …, g(d)] from the per-term accumulators acc[term·d + k].
///
/// The product-of-two kernel accumulates g(0) and the leading coefficient c = g(∞) instead of
/// g(2): with g(1) = running_sum − g(0), g(2) = 2·g(1) − g(0) + 2c for a quadratic g.
fn round_message(
    acc: &[Fp],
    terms: &[Term],
    degree: usize,
    kernel: &Kernel,
    running_sum: Fp,
) -> Vec<Fp> {
    if let Kernel::Product2 { .. } = kernel {
        let coeff = terms[0].coeff;
        let (g0, c) = (coeff * acc[0], coeff * acc[1]);
        let g1 = running_sum - g0;
        return vec![g0, g1.double() - g0 + c.double()];
    }
    (0..degree)
        .map(|k| terms.iter().enumerate().map(|(ti, term)| term.coeff * acc[ti * degree + k]).sum())
        .collect()
}

/// Which evaluation loop a round uses.
#[derive(Clone, Copy, Debug)]
enum Kernel {
    /// one term f_a · f_b (degree 2)
    Product2 { a: usize, b: usize },
    /// one term f_a · f_b · f_c (degree 3)
    Product3 { a: usize, b: usize, c: usize },
    /// anything else
    General,
}

impl Kernel {
    fn for_terms(terms: &[Term]) -> Self {
        match terms {
            [term] => match term.factors[..] {
                [a, b] => Kernel::Product2 { a, b },
                [a, b, c] => Kernel::Product3 { a, b, c },
                _ => Kernel::General,
            },
            _ => Kernel::General,
        }
    }
}

/// Pairs per rayon job: all of them below the threshold, else about eight jobs per thread
/// (table lengths are powers of two).
fn chunk_len(pairs: usize) -> usize {
    if pairs < PAR_THRESHOLD {
        pairs
    } else {
        (pairs / (8 * rayon::current_num_threads())).next_power_of_two().clamp(1 << 10, pairs)
    }
}

/// Runs `job` on chunks 0..pairs/chunk (in parallel when there are several) and sums the
/// accumulators.
fn run_jobs<J: Send>(
    jobs: Vec<J>,
    acc_len: usize,
    job: impl Fn(J) -> Vec<Fp> + Sync + Send,
) -> Vec<Fp> {
    if jobs.len() == 1 {
        jobs.into_iter().map(job).fold(vec![Fp::zero(); acc_len], add_into)
    } else {
        jobs.into_par_iter().map(job).reduce(|| vec![Fp::zero(); acc_len], add_into)
    }
}

/// Round 0: evaluations straight from the caller's tables; pairs are (f[i], f[i + half]).
fn eval_pass(tables: &[Vec<Fp>], kernel: &Kernel, terms: &[Term], degree: usize) -> Vec<Fp> {
    let half = tables[0].len() / 2;
    let chunk = chunk_len(half);
    let jobs: Vec<usize> = (0..half / chunk).collect();
    run_jobs(jobs, terms.len() * degree, |k| {
        let range = k * chunk..(k + 1) * chunk;
        let pairs: Vec<(&[Fp], &[Fp])> = tables
            .iter()
            .map(|t| (&t[range.clone()], &t[half + range.start..half + range.end]))
            .collect();
        let mut acc = vec![Fp::zero(); terms.len() * degree];
        eval_chunk(kernel, terms, degree, &pairs, &mut acc);
        acc
    })
}

/// One chunk of one table in a fused round: the two output halves (folded in place) and the two
/// input halves they fold with.
type FoldChunk<'a> = (&'a mut [Fp], &'a mut [Fp], &'a [Fp], &'a [Fp]);

/// Binds the top live variable of tables[..][..len] to `r` in place
/// (f[i] ← f[i] + r·(f[i + len/2] − f[i])) and accumulates the next round's evaluations over the
/// pairs (f[i], f[i + len/4]) of the folded tables, chunk by chunk while the chunk is in cache.
fn fold_eval_pass(
    tables: &mut [Vec<Fp>],
    len: usize,
    r: Fp,
    kernel: &Kernel,
    terms: &[Term],
    degree: usize,
) -> Vec<Fp> {
    let (half, quarter) = (len / 2, len / 4);
    let chunk = chunk_len(quarter);
    // jobs[k][j]: chunk k of table j, as (A, B, C, D) with A = f[0..q), B = f[q..2q),
    // C = f[2q..3q), D = f[3q..4q): A folds with C, B with D, then (A, B) are the next pairs.
    let mut jobs: Vec<Vec<FoldChunk<'_>>> =
        (0..quarter / chunk).map(|_| Vec::with_capacity(tables.len())).collect();
    for table in tables.iter_mut() {
        let (low, high) = table[..len].split_at_mut(half);
        let (a, b) = low.split_at_mut(quarter);
        let (c, d) = high.split_at(quarter);
        let chunks =
            a.chunks_mut(chunk).zip(b.chunks_mut(chunk)).zip(c.chunks(chunk).zip(d.chunks(chunk)));
        for (k, ((a, b), (c, d))) in chunks.enumerate() {
            jobs[k].push((a, b, c, d));
        }
    }
    run_jobs(jobs, terms.len() * degree, |mut parts| {
        for (a, b, c, d) in parts.iter_mut() {
            fold(a, c, r);
            fold(b, d, r);
        }
        let pairs: Vec<(&[Fp], &[Fp])> =
            parts.iter().map(|(a, b, _, _)| (&a[..], &b[..])).collect();
        let mut acc = vec![Fp::zero(); terms.len() * degree];
        eval_chunk(kernel, terms, degree, &pairs, &mut acc);
        acc
    })
}

#[inline]
fn fold(low: &mut [Fp], high: &[Fp], r: Fp) {
    for (l, h) in low.iter_mut().zip(high) {
        *l += r * (*h - *l);
    }
}

fn add_into(mut a: Vec<Fp>, b: Vec<Fp>) -> Vec<Fp> {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// Adds, for every pair (lo[i], hi[i]) of the chunk (the table at x_top = 0 and 1), each term's
/// product at X = 0, 2, …, d to acc[term·d + k].
fn eval_chunk(
    kernel: &Kernel,
    terms: &[Term],
    degree: usize,
    tables: &[(&[Fp], &[Fp])],
    acc: &mut [Fp],
) {
    match *kernel {
        Kernel::Product2 { a, b } => {
            let ((xl, xh), (yl, yh)) = (tables[a], tables[b]);
            // g(0) and the leading coefficient g(∞) = Σ (x₁ − x₀)(y₁ − y₀); `round_message`
            // turns g(∞) into g(2)
            // products are summed unreduced and reduced once per chunk
            let (mut s0, mut s_inf) = (WideAcc::default(), WideAcc::default());
            for (((x0, x1), y0), y1) in xl.iter().zip(xh).zip(yl).zip(yh) {
                s0.add_product(x0, y0);
                s_inf.add_product(&(*x1 - x0), &(*y1 - y0));
            }
            acc[0] += s0.finish();
            acc[1] += s_inf.finish();
        }
        Kernel::Product3 { a, b, c } => {
            let ((xl, xh), (yl, yh), (zl, zh)) = (tables[a], tables[b], tables[c]);
            let (mut s0, mut s2, mut s3) = (Fp::zero(), Fp::zero(), Fp::zero());
            for i in 0..xl.len() {
                let (x0, y0, z0) = (xl[i], yl[i], zl[i]);
                let (dx, dy, dz) = (xh[i] - x0, yh[i] - y0, zh[i] - z0);
                let (x2, y2, z2) = (xh[i] + dx, yh[i] + dy, zh[i] + dz);
                s0 += x0 * y0 * z0;
                s2 += x2 * y2 * z2;
                s3 += (x2 + dx) * (y2 + dy) * (z2 + dz);
            }
            acc[0] += s0;
            acc[1] += s2;
            acc[2] += s3;
        }
        Kernel::General => eval_chunk_general(terms, degree, tables, acc),
    }
}

fn eval_chunk_general(terms: &[Term], degree: usize, tables: &[(&[Fp], &[Fp])], acc: &mut [Fp]) {
    // vals[j·d + k] = f_j at X = point k (0, 2, 3, …, d) for the current pair
    let mut vals = vec![Fp::zero(); tables.len() * degree];
    for i in 0..tables[0].0.len() {
        for (j, (lo, hi)) in tables.iter().enumerate() {
            let (lo, hi) = (lo[i], hi[i]);
            let delta = hi - lo;
            let v = &mut vals[j * degree..(j + 1) * degree];
            v[0] = lo;
            let mut x = hi;
            for slot in v.iter_mut().skip(1) {
                x += delta;
                *slot = x;
            }
        }
        for (ti, term) in terms.iter().enumerate() {
            for k in 0..degree {
                let mut p = vals[term.factors[0] * degree + k];
                for &f in &term.factors[1..] {
                    p *= vals[f * degree + k];
                }
                acc[ti * degree + k] += p;
            }
        }
    }
}
