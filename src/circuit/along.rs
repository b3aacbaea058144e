//! Weighted sums along one axis, the reduction shared by [`super::reduce::ReduceSum`],
//! [`super::prefix::PrefixSum`], [`super::axisdot::AxisDot`] and the argmax's index
//! ([`super::argmax::ArgIndex`]).
//!
//! For a layout of n variables with an axis owning the variable range A (k variables; the last
//! axis the lowest, [`Layout::axis_vars`]) and a point ρ on the other n − k variables, each of
//! these operators proves a claim of the form
//!
//! ```text
//!   v = Σ_b E(b)·F_1(b)···F_f(b),   E(b) = eq(ρ, keep(b))·w(b_A)
//! ```
//! over the layout's padded hypercube, keep(b) dropping b's bits in A, w a public weight along
//! the axis and F_j padded tables of their inputs. One sumcheck of degree f + 1; at its end point
//! r the prover sends F_j(r), and the verifier computes E(r) = eq(ρ, keep(r))·w̃(r_A) itself:
//! w̃ must be computable in O(k) (all ones for a plain sum, the ≤ predicate for a prefix sum,
//! the position for an index), which is why each operator passes its own `w̃`.
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most (f + 1)·n/p; the F_j(r) sent are
//! claims on the factors' tensors, which their producers check.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: the verifier side is index-free; the prover helper that indexes says why"
)]

use super::{ClaimTarget, Layout};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::{eq_eval, eq_evals};
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use crate::transcript::{ProverTranscript, VerifierTranscript};
use std::ops::Range;

/// One axis of a layout, as the weighted sums along it see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Along {
    layout: Layout,
    vars: Range<usize>,
}

impl Along {
    /// Axis `axis` of `layout` (the caller checks `axis` < the rank).
    pub fn new(layout: Layout, axis: usize) -> Self {
        let vars = layout.axis_vars(axis);
        Self { layout, vars }
    }

    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Variables of the layout.
    pub fn num_vars(&self) -> usize {
        self.layout.num_vars()
    }

    /// Variables of the axis.
    pub fn axis_num_vars(&self) -> usize {
        self.vars.len()
    }

    /// The point without the axis's coordinates (`None` if it is shorter than the layout's).
    pub fn keep(&self, point: &[Fp]) -> Option<Vec<Fp>> {
        let (low, rest) = point.split_at_checked(self.vars.start)?;
        let high = rest.get(self.vars.len()..)?;
        Some(low.iter().chain(high).copied().collect())
    }

    /// The axis's coordinates of a point of the layout's variables.
    pub fn axis_point<'p>(&self, point: &'p [Fp]) -> Option<&'p [Fp]> {
        point.get(self.vars.clone())
    }

    /// E(b) = eq(ρ, keep(b))·w(b_A) over the padded hypercube (`weights` has 2^k entries).
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side: keep(b) < 2^(n − k) = |eq(ρ)| and b_A < 2^k = |w|, checked by the caller"
    )]
    fn e_table(&self, rho: &[Fp], weights: &[Fp]) -> Vec<Fp> {
        let eq = eq_evals(rho);
        let (start, k) = (self.vars.start, self.vars.len());
        let low_mask = (1usize << start) - 1;
        let axis_mask = (1usize << k) - 1;
        (0..self.layout.padded_len())
            .map(|b| {
                eq[(b & low_mask) | ((b >> (start + k)) << start)]
                    * weights[(b >> start) & axis_mask]
            })
            .collect()
    }

    /// Proves Σ_b E(b)·ΠF_j(b) = `value` for ρ = `rho` (n − k coordinates), the axis weights
    /// `weights` (2^k entries) and the factors' padded tables; sends the factors' final
    /// evaluations and returns them as claims at the sumcheck's point on input j of the layer
    /// for factor j (every caller's factors are its inputs, in order).
    ///
    /// # Errors
    /// A point or tables of the wrong length, or a false `value`.
    pub fn prove(
        &self,
        rho: &[Fp],
        weights: &[Fp],
        factors: Vec<Vec<Fp>>,
        value: Fp,
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        self.prove_with(rho, weights, factors, value, t, true)
    }

    /// [`Along::prove`] that runs the sumcheck on a false `value` too: what a cheating prover
    /// sends, for soundness tests.
    ///
    /// # Errors
    /// A point or tables of the wrong length.
    #[cfg(feature = "test-util")]
    pub fn prove_unchecked(
        &self,
        rho: &[Fp],
        weights: &[Fp],
        factors: Vec<Vec<Fp>>,
        value: Fp,
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        self.prove_with(rho, weights, factors, value, t, false)
    }

    fn prove_with(
        &self,
        rho: &[Fp],
        weights: &[Fp],
        factors: Vec<Vec<Fp>>,
        value: Fp,
        mut t: &mut dyn ProverTranscript,
        strict: bool,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let n = self.num_vars();
        if rho.len() + self.vars.len() != n || weights.len() != 1 << self.vars.len() {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a sum along an axis",
                expected: n - self.vars.len(),
                got: rho.len(),
            });
        }
        let mut tables = vec![self.e_table(rho, weights)];
        tables.extend(factors);
        let poly = ProductSum::product(tables)?;
        let out = if strict {
            sumcheck::prove(poly, value, &mut t)?
        } else {
            sumcheck::prover::prove_unchecked(poly, value, &mut t).0
        };
        let evals = out.final_evals.get(1..).unwrap_or_default().to_vec();
        sumcheck::send_final_evals(&mut t, &evals);
        let claim = |value| EvalClaim { point: out.point.clone(), value };
        Ok(evals.into_iter().enumerate().map(|(j, v)| (ClaimTarget::Input(j), claim(v))).collect())
    }

    /// The verifier's side of [`Along::prove`] with `num_factors` factors; `weight_at` is w̃ at
    /// the axis's coordinates of the sumcheck's point. Returns one claim per factor, on input j
    /// for factor j.
    ///
    /// # Errors
    /// A point of the wrong length, the sumcheck's, or final evaluations that do not match.
    pub fn verify(
        &self,
        rho: &[Fp],
        weight_at: impl FnOnce(&[Fp]) -> Fp,
        num_factors: usize,
        value: Fp,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let num_vars = self.num_vars();
        if rho.len() + self.vars.len() != num_vars {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a sum along an axis has the wrong number of variables",
            });
        }
        let sc = SumcheckClaim { num_vars, degree: num_factors + 1, claimed_sum: value };
        let eval = sumcheck::verify(&sc, &mut t)?;
        let (Some(kept), Some(axis)) = (self.keep(&eval.point), self.axis_point(&eval.point))
        else {
            return Err(VerifyError::InvalidStatement {
                reason: "a sumcheck point shorter than the layout's variables",
            });
        };
        let e = eq_eval(rho, &kept) * weight_at(axis);
        let term = Term::new(e, (0..num_factors).collect());
        let claims = sumcheck::verify_final_evals(&[term], num_factors, &eval, &mut t)?;
        Ok(claims.into_iter().enumerate().map(|(j, c)| (ClaimTarget::Input(j), c)).collect())
    }
}

/// The all-ones weights of a plain sum over k variables (w̃ = 1).
pub fn ones(k: usize) -> Vec<Fp> {
    vec![Fp::from(1u64); 1 << k]
}

/// The shape of the lines along `axis` of a row-major tensor: (lines, length, stride).
fn line_shape(dims: &[usize], axis: usize) -> (usize, usize, usize) {
    let len = dims.get(axis).copied().unwrap_or(1);
    let inner: usize = dims.iter().skip(axis + 1).product();
    let outer: usize = dims.iter().take(axis).product();
    (outer * inner, len, inner)
}

/// The number of lines along `axis` (the entries of the tensor with that axis of length 1).
pub fn num_lines(dims: &[usize], axis: usize) -> usize {
    line_shape(dims, axis).0
}

/// The row-major indices of line `j` along `axis`, in axis order: line j is entry j of the
/// tensor with the axis of length 1.
pub fn line(dims: &[usize], axis: usize, j: usize) -> impl Iterator<Item = usize> {
    let (_, len, inner) = line_shape(dims, axis);
    let inner = inner.max(1);
    let base = (j / inner) * len * inner + j % inner;
    (0..len).map(move |l| base + l * inner)
}
