//! The sum of a tensor along one axis (ONNX ReduceSum with keepdims): out[a, 0, b] =
//! Σ_l x[a, l, b]. The output is virtual, on x's dimensions with the axis of length 1; the
//! building block of averages, softmax denominators, layer norms and the argmax's index
//! (`paper-notes/argmax.md`).
//!
//! **Proof** of a claim õut(ρ) = v (out's padded layout, zero on padded slots): the axis owns a
//! contiguous range of x's variables (the last axis the lowest, [`Layout::axis_vars`]) and none
//! of out's, so out's variables are x's without that range, and
//!
//! ```text
//!   v = Σ_b E(b)·X(b),   E(b) = eq(ρ, keep(b))
//! ```
//! over x's n variables ([`Along`] with the weight w = 1), keep(b) dropping the axis's bits: x is zero on padded slots, so padded
//! positions of the axis add nothing and a padded slot of out sums only zeros. One degree-2
//! sumcheck; at its end point r the prover sends X(r), the verifier computes E(r) =
//! eq(ρ, keep(r)) itself and returns the claim x̃(r) = X(r).
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most 2n/p; a false X(r) is a false claim
//! on x, which x's producer checks.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: the verifier side is index-free; the prover helper that indexes says why (overrides circuit/mod.rs's not-yet-audited allow)"
)]

use super::along::{ones, Along};
use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    checked_entries, ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction,
    Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// out = Σ over `axis` of x, keeping the axis with length 1.
#[derive(Clone, Debug)]
pub struct ReduceSum {
    inputs: [TensorId; 1],
    axis: usize,
    out_dims: Vec<usize>,
    /// x's layout and the axis.
    along: Along,
}

impl ReduceSum {
    /// The sum of tensor `x` (dimensions `x_dims`) along `axis`.
    ///
    /// # Errors
    /// An axis beyond x's rank, or dimensions beyond [`checked_entries`].
    pub fn new(x: TensorId, x_dims: &[usize], axis: usize) -> Result<Self, ModelError> {
        checked_entries(x_dims)?;
        if axis >= x_dims.len() {
            return Err(ModelError::Shape(format!(
                "a sum along axis {axis} of a tensor of dimensions {x_dims:?}"
            )));
        }
        let along = Along::new(Layout::new(x_dims), axis);
        let out_dims =
            x_dims.iter().enumerate().map(|(a, &d)| if a == axis { 1 } else { d }).collect();
        Ok(Self { inputs: [x], axis, out_dims, along })
    }
}

/// A [`ReduceSum`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReduceSumSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub axis: usize,
}

/// The operator's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 11, kind: "reducesum", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(ReduceSumSpec { x: r.usize()?, x_dims: r.dims()?, axis: r.usize()? }))
}

impl OpRecord for ReduceSumSpec {
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
        format!("sum along axis {} of {:?}", self.axis, self.x_dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(ReduceSum::new(self.x, &self.x_dims, self.axis)?))
    }
}

impl Layer for ReduceSum {
    fn kind(&self) -> &'static str {
        OP.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.out_dims
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(ReduceSumSpec {
            x: self.inputs[0],
            x_dims: self.along.layout().dims().to_vec(),
            axis: self.axis,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let x =
            inputs.first().filter(|x| x.dims == self.along.layout().dims()).ok_or_else(|| {
                ModelError::Shape(format!(
                    "a sum over a tensor of dimensions {:?}",
                    self.along.layout().dims()
                ))
            })?;
        let dims = self.along.layout().dims();
        let len = dims.get(self.axis).copied().unwrap_or(1);
        let inner: usize = dims.iter().skip(self.axis + 1).product();
        let outer: usize = dims.iter().take(self.axis).product();
        let mut out = vec![0i64; outer * inner];
        for (o, block) in x.data.chunks(len * inner).enumerate() {
            for (l, row) in block.chunks(inner).enumerate().take(len) {
                let start = o * inner;
                for (acc, v) in out.iter_mut().skip(start).take(inner).zip(row) {
                    *acc = acc.checked_add(*v).ok_or_else(|| {
                        ModelError::Shape(format!("the sum overflows at row {l}"))
                    })?;
                }
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.out_dims.clone(), out)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for ReduceSum {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let x = inputs.first().ok_or(ProveError::InvalidShape { reason: "no input".into() })?;
        let weights = ones(self.along.axis_num_vars());
        let x_table = self.along.layout().pad_fp(&x.data);
        self.along.prove(&claim.point, &weights, vec![x_table], claim.value, t)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let one = |_: &[Fp]| Fp::from(1u64);
        self.along.verify(&claim.point, one, 1, claim.value, t)
    }
}
