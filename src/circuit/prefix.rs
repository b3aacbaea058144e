//! The inclusive prefix sum along one axis (ONNX CumSum, neither exclusive nor reversed):
//! out[a, l, b] = Σ_{l' ≤ l} x[a, l', b]. The output is virtual, on x's dimensions; the argmax
//! (`paper-notes/argmax.md`) takes the prefix sums of its one-hot selector.
//!
//! **Proof** of a claim õut(ρ) = v, ρ split into the axis's coordinates ρ_A and the others
//! ρ_K: with L the axis's length and T(l, l') = [l' ≤ l < L] on the padded axis,
//!
//! ```text
//!   v = Σ_b eq(ρ_K, keep(b))·T̃(ρ_A, b_A)·X(b)
//! ```
//! (out is zero on padded slots: T vanishes for l ≥ L and x for padded slots elsewhere). One
//! degree-2 sumcheck ([`Along`] with w(b_A) = T̃(ρ_A, b_A)); the prover's weights are suffix
//! sums of eq(ρ_A, ·) over l < L, and the verifier evaluates T̃(ρ_A, r_A) in O(k) by
//! [`le_weight`], a digit recursion over the bits from the top.
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most 2n/p; a false X(r) is a false claim
//! on x, which x's producer checks.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: the verifier side is index-free; the prover helpers that index say why"
)]

use super::along::{line, num_lines, Along};
use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    checked_entries, ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction,
    Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::eq_evals;
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// out = the inclusive prefix sums of x along `axis`.
#[derive(Clone, Debug)]
pub struct PrefixSum {
    inputs: [TensorId; 1],
    axis: usize,
    along: Along,
}

impl PrefixSum {
    /// The prefix sums of tensor `x` (dimensions `x_dims`) along `axis`.
    ///
    /// # Errors
    /// An axis beyond x's rank, or dimensions beyond [`checked_entries`].
    pub fn new(x: TensorId, x_dims: &[usize], axis: usize) -> Result<Self, ModelError> {
        checked_entries(x_dims)?;
        if axis >= x_dims.len() {
            return Err(ModelError::Shape(format!(
                "a prefix sum along axis {axis} of a tensor of dimensions {x_dims:?}"
            )));
        }
        Ok(Self { inputs: [x], axis, along: Along::new(Layout::new(x_dims), axis) })
    }

    fn len(&self) -> usize {
        self.along.layout().dims().get(self.axis).copied().unwrap_or(1)
    }

    /// The prover's weights T̃(ρ_A, l') = Σ_{l' ≤ l < L} eq(ρ_A, l) over the padded axis.
    #[expect(clippy::indexing_slicing, reason = "prover side: l < L ≤ 2^k = |eq|")]
    fn weights(&self, rho_axis: &[Fp]) -> Vec<Fp> {
        let eq = eq_evals(rho_axis);
        let mut w = vec![Fp::default(); eq.len()];
        let mut acc = Fp::default();
        for l in (0..self.len().min(eq.len())).rev() {
            acc += eq[l];
            w[l] = acc;
        }
        w
    }
}

/// T̃(a, b) = Σ_{l' ≤ l < len} eq(a, l)·eq(b, l') over l, l' ∈ {0,1}^k (bit j is variable j),
/// in O(k): the bits from the top, keeping the weight of the four undecided-or-less states of
/// (l' against l, l against len).
pub fn le_weight(len: usize, a: &[Fp], b: &[Fp]) -> Fp {
    let one = Fp::from(1u64);
    let k = a.len().min(b.len());
    // w[c1][c2]: c1 = 1 once l' < l is decided (0: equal so far), c2 = 1 once l < len is
    let zero = Fp::default();
    let below_len_from_start = k >= usize::BITS as usize || len >= 1 << k;
    let mut w =
        if below_len_from_start { [[zero, one], [zero; 2]] } else { [[one, zero], [zero; 2]] };
    for j in (0..k).rev() {
        let (Some(&aj), Some(&bj)) = (a.get(j), b.get(j)) else { break };
        let len_bit = j < usize::BITS as usize && (len >> j) & 1 == 1;
        let mut next = [[Fp::default(); 2]; 2];
        for l in [false, true] {
            let el = if l { aj } else { one - aj };
            for lp in [false, true] {
                let f = el * if lp { bj } else { one - bj };
                for (c1, row) in w.iter().enumerate() {
                    for (c2, &weight) in row.iter().enumerate() {
                        // l' against l: drop once l' > l is decided
                        let n1 = match (c1, lp, l) {
                            (1, _, _) => 1,
                            (_, false, true) => 1,
                            (_, true, false) => continue,
                            _ => 0,
                        };
                        // l against len: drop once l > len is decided
                        let n2 = match (c2, l, len_bit) {
                            (1, _, _) => 1,
                            (_, false, true) => 1,
                            (_, true, false) => continue,
                            _ => 0,
                        };
                        if let Some(slot) = next.get_mut(n1).and_then(|r| r.get_mut(n2)) {
                            *slot += weight * f;
                        }
                    }
                }
            }
        }
        w = next;
    }
    // accept l' ≤ l (either state) and l < len (decided)
    w.iter().map(|row| row.get(1).copied().unwrap_or_default()).sum()
}

/// A [`PrefixSum`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixSumSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub axis: usize,
}

/// The operator's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 12, kind: "prefixsum", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(PrefixSumSpec { x: r.usize()?, x_dims: r.dims()?, axis: r.usize()? }))
}

impl OpRecord for PrefixSumSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usizes(&self.x_dims);
        w.usize(self.axis);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.x_dims.clone())]
    }

    fn summary(&self) -> String {
        format!("prefix sums along axis {} of {:?}", self.axis, self.x_dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(PrefixSum::new(self.x, &self.x_dims, self.axis)?))
    }
}

impl Layer for PrefixSum {
    fn kind(&self) -> &'static str {
        OP.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.along.layout().dims()
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(PrefixSumSpec {
            x: self.inputs[0],
            x_dims: self.along.layout().dims().to_vec(),
            axis: self.axis,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let dims = self.along.layout().dims();
        let x = inputs.first().filter(|x| x.dims == dims).ok_or_else(|| {
            ModelError::Shape(format!("a prefix sum over a tensor of dimensions {dims:?}"))
        })?;
        let mut out = x.data.clone();
        for j in 0..num_lines(dims, self.axis) {
            let mut acc = 0i64;
            for i in line(dims, self.axis, j) {
                let slot = out.get_mut(i).ok_or_else(|| ModelError::Shape("short data".into()))?;
                acc = acc.checked_add(*slot).ok_or_else(|| {
                    ModelError::Shape(format!("the prefix sum overflows at entry {i}"))
                })?;
                *slot = acc;
            }
        }
        Ok(LayerWitness { output: Tensor::new(dims.to_vec(), out)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for PrefixSum {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let x = inputs.first().ok_or(ProveError::InvalidShape { reason: "no input".into() })?;
        let (Some(rho), Some(rho_axis)) =
            (self.along.keep(&claim.point), self.along.axis_point(&claim.point))
        else {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a prefix sum",
                expected: self.along.num_vars(),
                got: claim.point.len(),
            });
        };
        let weights = self.weights(rho_axis);
        let x_table = self.along.layout().pad_fp(&x.data);
        self.along.prove(&rho, &weights, vec![x_table], claim.value, t)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let (Some(rho), Some(rho_axis)) =
            (self.along.keep(&claim.point), self.along.axis_point(&claim.point))
        else {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a prefix sum has the wrong number of variables",
            });
        };
        if claim.point.len() != self.along.num_vars() {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a prefix sum has the wrong number of variables",
            });
        }
        let len = self.len();
        let weight = |r_axis: &[Fp]| le_weight(len, rho_axis, r_axis);
        self.along.verify(&rho, weight, 1, claim.value, t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::evaluate_padded;
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn le_weight_is_the_mle_of_the_bounded_le_predicate() {
        let mut rng = ChaCha20Rng::seed_from_u64(12);
        for k in 0..=5usize {
            let a: Vec<Fp> = (0..k).map(|_| Fp::rand(&mut rng)).collect();
            let b: Vec<Fp> = (0..k).map(|_| Fp::rand(&mut rng)).collect();
            let (ea, eb) = (eq_evals(&a), eq_evals(&b));
            for len in 0..=(1usize << k) + 1 {
                let direct: Fp = (ea.iter().enumerate().take(len))
                    .map(|(l, e)| eb.iter().take(l + 1).map(|f| *e * f).sum::<Fp>())
                    .sum();
                assert_eq!(le_weight(len, &a, &b), direct, "k {k} len {len}");
            }
            // the prover's weights are the same function of b
            let dims = [len_or_one(k)];
            let p = PrefixSum::new(1, &dims, 0).expect("a prefix sum");
            assert_eq!(evaluate_padded(&p.weights(&a), &b), le_weight(dims[0], &a, &b), "k {k}");
        }
    }

    fn len_or_one(k: usize) -> usize {
        ((1usize << k) - (1 << k) / 3).max(1)
    }
}
