//! The dot product of two tensors along one axis: out[a, 0, b] = Σ_l x[a, l, b]·y[a, l, b], x
//! and y of one shape (x and y may be one tensor: a sum of squares). The output is virtual, on
//! x's dimensions with the axis of length 1; the argmax (`paper-notes/argmax.md`) takes the dot
//! of its one-hot selector with the scores, i.e. the selected score. Integers are exact: the
//! reference refuses a dot beyond i64.
//!
//! **Proof** of a claim õut(ρ) = v on out's variables:
//!
//! ```text
//!   v = Σ_b eq(ρ, keep(b))·X(b)·Y(b)
//! ```
//! over x's variables (padded slots of x are zero). One degree-3 sumcheck ([`Along`] with
//! w = 1); at its end point r the prover sends X(r) and Y(r), returned as claims on x and y.
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most 3n/p; false X(r), Y(r) are false
//! claims on x or y, which their producers check (both are routed when x and y are one tensor).
#![deny(clippy::indexing_slicing, reason = "audited: the verifier side is index-free")]

use super::along::{line, num_lines, ones, Along};
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

/// out = Σ over `axis` of x·y, keeping the axis with length 1.
#[derive(Clone, Debug)]
pub struct AxisDot {
    inputs: [TensorId; 2],
    axis: usize,
    out_dims: Vec<usize>,
    along: Along,
}

impl AxisDot {
    /// The dot of tensors `x` and `y` (both of dimensions `dims`) along `axis`.
    ///
    /// # Errors
    /// An axis beyond the rank, or dimensions beyond [`checked_entries`].
    pub fn new(x: TensorId, y: TensorId, dims: &[usize], axis: usize) -> Result<Self, ModelError> {
        checked_entries(dims)?;
        if axis >= dims.len() {
            return Err(ModelError::Shape(format!(
                "a dot along axis {axis} of tensors of dimensions {dims:?}"
            )));
        }
        let out_dims =
            dims.iter().enumerate().map(|(a, &d)| if a == axis { 1 } else { d }).collect();
        Ok(Self { inputs: [x, y], axis, out_dims, along: Along::new(Layout::new(dims), axis) })
    }
}

/// An [`AxisDot`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AxisDotSpec {
    pub x: TensorId,
    pub y: TensorId,
    pub dims: Vec<usize>,
    pub axis: usize,
}

/// The operator's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 14, kind: "axisdot", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(AxisDotSpec { x: r.usize()?, y: r.usize()?, dims: r.dims()?, axis: r.usize()? }))
}

impl OpRecord for AxisDotSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usize(self.y);
        w.usizes(&self.dims);
        w.usize(self.axis);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.dims.clone()), (self.y, self.dims.clone())]
    }

    fn summary(&self) -> String {
        format!(
            "dot of tensors {} and {} along axis {} of {:?}",
            self.x, self.y, self.axis, self.dims
        )
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(AxisDot::new(self.x, self.y, &self.dims, self.axis)?))
    }
}

impl Layer for AxisDot {
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
        let [x, y] = self.inputs;
        let (dims, axis) = (self.along.layout().dims().to_vec(), self.axis);
        LayerSpec::Op(Box::new(AxisDotSpec { x, y, dims, axis }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let dims = self.along.layout().dims();
        let operand = |j: usize| {
            inputs.get(j).filter(|t| t.dims == dims).ok_or_else(|| {
                ModelError::Shape(format!("a dot of two tensors of dimensions {dims:?}"))
            })
        };
        let (x, y) = (operand(0)?, operand(1)?);
        let overflow = || ModelError::Shape("the dot product overflows i64".into());
        let mut out = Vec::with_capacity(num_lines(dims, self.axis));
        for j in 0..num_lines(dims, self.axis) {
            let mut acc = 0i64;
            for i in line(dims, self.axis, j) {
                let (a, b) = (x.data.get(i), y.data.get(i));
                let (Some(&a), Some(&b)) = (a, b) else { return Err(overflow()) };
                acc = a.checked_mul(b).and_then(|p| acc.checked_add(p)).ok_or_else(overflow)?;
            }
            out.push(acc);
        }
        Ok(LayerWitness { output: Tensor::new(self.out_dims.clone(), out)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for AxisDot {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let (Some(x), Some(y)) = (inputs.first(), inputs.get(1)) else {
            return Err(ProveError::InvalidShape { reason: "a dot needs two inputs".into() });
        };
        let layout = self.along.layout();
        let tables = vec![layout.pad_fp(&x.data), layout.pad_fp(&y.data)];
        let weights = ones(self.along.axis_num_vars());
        self.along.prove(&claim.point, &weights, tables, claim.value, t)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let one = |_: &[Fp]| Fp::from(1u64);
        self.along.verify(&claim.point, one, 2, claim.value, t)
    }
}
