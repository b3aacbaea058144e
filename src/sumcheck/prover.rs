//! The sumcheck prover: linear time, one fused fold-and-evaluate pass per round.
//!
//! Round i > 0 reads each table at its current size 2^(n−i+1) once: a chunk of it is folded by
//! r_(i−1) (f'[k] = f[2k] + r·(f[2k+1] − f[2k])) into the other half of a ping-pong buffer, and the
//! round-i evaluations are accumulated from the freshly folded chunk while it is still in cache.
//! Chunks run on rayon above [`PAR_THRESHOLD`]. Products of two and three tables (matrix products,
//! eq-weighted products) have their own unrolled kernels; other sums of products use a general one.

use super::{
    absorb_claim, combine, decompress_round, degree, EvalClaim, SumcheckClaim, Term, MAX_DEGREE,
    MAX_NUM_VARS,
};
use crate::error::ProveError;
use crate::field::Fp;
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
        let invalid = |reason: &str| {
            Err(ProveError::InvalidPolynomial {
                reason: reason.to_string(),
            })
        };
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
        if terms
            .iter()
            .flat_map(|t| &t.factors)
            .any(|&j| j >= tables.len())
        {
            return invalid("a term names a missing table");
        }
        if degree(&terms) > MAX_DEGREE {
            return invalid("degree above MAX_DEGREE");
        }
        Ok(Self {
            num_vars,
            tables,
            terms,
        })
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
        SumcheckClaim {
            num_vars: self.num_vars,
            degree: self.degree(),
            claimed_sum,
        }
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
        self.tables
            .iter()
            .map(|t| evaluate_padded(t, point))
            .collect()
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
        EvalClaim {
            point: self.point.clone(),
            value: self.final_evals[j],
        }
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
    let claim = poly.claim(claimed_sum);
    absorb_claim(t, &claim);
    let ProductSum {
        num_vars,
        tables: mut a,
        terms,
    } = poly;
    let kernel = Kernel::for_terms(&terms);
    let degree = claim.degree;

    let mut point = Vec::with_capacity(num_vars);
    let mut running_sum = claimed_sum;
    let final_evals: Vec<Fp> = if num_vars == 0 {
        a.iter().map(|t| t[0]).collect()
    } else {
        // ping-pong buffers: a (the caller's tables) and b; the live half alternates
        let mut b: Vec<Vec<Fp>> = a
            .iter()
            .map(|_| vec![Fp::zero(); 1 << (num_vars - 1)])
            .collect();
        let mut len = 1usize << num_vars;
        let mut live_in_a = true;
        for round in 0..num_vars {
            let acc = if round == 0 {
                let views: Vec<&[Fp]> = a.iter().map(|t| &t[..len]).collect();
                eval_pass(&views, &kernel, &terms, degree)
            } else {
                let r = point[round - 1];
                let (src, dst) = if live_in_a {
                    (&a, &mut b)
                } else {
                    (&b, &mut a)
                };
                let acc = fold_eval_pass(src, dst, len, r, Some((&kernel, &terms[..], degree)));
                len /= 2;
                live_in_a = !live_in_a;
                acc
            };
            let msg = round_message(&acc, &terms, degree);
            t.send(labels::SUMCHECK_ROUND, &msg);
            let r = t.challenge(labels::SUMCHECK_CHALLENGE);
            running_sum = decompress_round(&msg, running_sum).evaluate(&r);
            point.push(r);
        }
        let r = point[num_vars - 1];
        let live = if live_in_a { &a } else { &b };
        live.iter().map(|t| t[0] + r * (t[1] - t[0])).collect()
    };
    if combine(&terms, &final_evals) != Some(running_sum) {
        return Err(ProveError::ClaimedSumMismatch);
    }
    Ok(ProverOutput { point, final_evals })
}

/// The message [g(0), g(2), …, g(d)] from the per-term accumulators acc[term·d + k].
fn round_message(acc: &[Fp], terms: &[Term], degree: usize) -> Vec<Fp> {
    (0..degree)
        .map(|k| {
            terms
                .iter()
                .enumerate()
                .map(|(ti, term)| term.coeff * acc[ti * degree + k])
                .sum()
        })
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

/// Output entries per rayon job: the whole table below the threshold, else about eight jobs per
/// thread (tables and chunk lengths are powers of two).
fn chunk_len(len: usize) -> usize {
    if len < PAR_THRESHOLD {
        len
    } else {
        (len / (8 * rayon::current_num_threads()))
            .next_power_of_two()
            .clamp(1 << 10, len)
    }
}

type Work<'a> = (&'a Kernel, &'a [Term], usize);

/// Round 0: evaluations straight from the caller's tables.
fn eval_pass(tables: &[&[Fp]], kernel: &Kernel, terms: &[Term], degree: usize) -> Vec<Fp> {
    let len = tables[0].len();
    let chunk = chunk_len(len);
    let job = |k: usize| {
        let views: Vec<&[Fp]> = tables
            .iter()
            .map(|t| &t[k * chunk..(k + 1) * chunk])
            .collect();
        let mut acc = vec![Fp::zero(); terms.len() * degree];
        eval_chunk(kernel, terms, degree, &views, &mut acc);
        acc
    };
    if chunk == len {
        job(0)
    } else {
        (0..len / chunk)
            .into_par_iter()
            .map(job)
            .reduce(|| vec![Fp::zero(); terms.len() * degree], add_into)
    }
}

/// Folds the live tables src[..][..len] by `r` into dst[..][..len/2] and, when `work` is given,
/// accumulates the next round's evaluations from the folded chunks.
fn fold_eval_pass(
    src: &[Vec<Fp>],
    dst: &mut [Vec<Fp>],
    len: usize,
    r: Fp,
    work: Option<Work<'_>>,
) -> Vec<Fp> {
    let out_len = len / 2;
    let chunk = chunk_len(out_len);
    let acc_len = work.map_or(0, |(_, terms, degree)| terms.len() * degree);
    // jobs[k][j] is chunk k of table j's output
    let mut jobs: Vec<Vec<&mut [Fp]>> = (0..out_len / chunk)
        .map(|_| Vec::with_capacity(dst.len()))
        .collect();
    for table in dst.iter_mut() {
        for (k, c) in table[..out_len].chunks_mut(chunk).enumerate() {
            jobs[k].push(c);
        }
    }
    let run = |(k, mut outs): (usize, Vec<&mut [Fp]>)| {
        for (out, table) in outs.iter_mut().zip(src) {
            let input = &table[2 * k * chunk..2 * (k + 1) * chunk];
            for (o, pair) in out.iter_mut().zip(input.chunks_exact(2)) {
                *o = pair[0] + r * (pair[1] - pair[0]);
            }
        }
        let mut acc = vec![Fp::zero(); acc_len];
        if let Some((kernel, terms, degree)) = work {
            let views: Vec<&[Fp]> = outs.iter().map(|o| &o[..]).collect();
            eval_chunk(kernel, terms, degree, &views, &mut acc);
        }
        acc
    };
    if jobs.len() == 1 {
        jobs.into_iter()
            .enumerate()
            .map(run)
            .fold(vec![Fp::zero(); acc_len], add_into)
    } else {
        jobs.into_par_iter()
            .enumerate()
            .map(run)
            .reduce(|| vec![Fp::zero(); acc_len], add_into)
    }
}

fn add_into(mut a: Vec<Fp>, b: Vec<Fp>) -> Vec<Fp> {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
    a
}

/// Adds, for every pair (f[2i], f[2i+1]) of the chunk, each term's product at X = 0, 2, …, d to
/// acc[term·d + k].
fn eval_chunk(kernel: &Kernel, terms: &[Term], degree: usize, tables: &[&[Fp]], acc: &mut [Fp]) {
    match *kernel {
        Kernel::Product2 { a, b } => {
            let (mut s0, mut s2) = (Fp::zero(), Fp::zero());
            for (x, y) in tables[a].chunks_exact(2).zip(tables[b].chunks_exact(2)) {
                s0 += x[0] * y[0];
                s2 += (x[1].double() - x[0]) * (y[1].double() - y[0]);
            }
            acc[0] += s0;
            acc[1] += s2;
        }
        Kernel::Product3 { a, b, c } => {
            let (mut s0, mut s2, mut s3) = (Fp::zero(), Fp::zero(), Fp::zero());
            for ((x, y), z) in tables[a]
                .chunks_exact(2)
                .zip(tables[b].chunks_exact(2))
                .zip(tables[c].chunks_exact(2))
            {
                let (dx, dy, dz) = (x[1] - x[0], y[1] - y[0], z[1] - z[0]);
                let (x2, y2, z2) = (x[1] + dx, y[1] + dy, z[1] + dz);
                s0 += x[0] * y[0] * z[0];
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

fn eval_chunk_general(terms: &[Term], degree: usize, tables: &[&[Fp]], acc: &mut [Fp]) {
    // vals[j·d + k] = f_j at X = point k (0, 2, 3, …, d) for the current pair
    let mut vals = vec![Fp::zero(); tables.len() * degree];
    for i in 0..tables[0].len() / 2 {
        for (j, t) in tables.iter().enumerate() {
            let (lo, hi) = (t[2 * i], t[2 * i + 1]);
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
