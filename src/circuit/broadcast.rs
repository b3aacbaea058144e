//! Broadcasting a tensor along axes of length 1 (ONNX Expand at equal rank): out[i] =
//! x[i with every broadcast axis at 0], x of out's rank with each axis out's length or 1. The
//! output is virtual; the argmax (`paper-notes/argmax.md`) broadcasts each line's selected value
//! along the line.
//!
//! **Proof** of a claim õut(ρ) = v, without any message: every axis owns its own variables (the
//! last axis the lowest, [`Layout`]) and an axis of length 1 owns none, so, with B the axes x
//! broadcasts and ρ_a the coordinates of axis a,
//!
//! ```text
//!   õut(ρ) = x̃(ρ restricted to the other axes)·Π_{a ∈ B} mask̃_{L_a}(ρ_a)
//! ```
//! as polynomials, mask_L(l) = [l < L] on the padded axis (out is zero on padded slots). The
//! claim on x is v divided by the product of masks, which the verifier computes in O(log L) per
//! axis (`lookup::prefix_indicator`); both sides refuse a point where it vanishes.
//!
//! # Soundness
//! The identity holds for every ρ, so the claim on x is true exactly when v is; a point where the
//! product vanishes (probability at most Σ_a log L_a / p over ρ) is refused, never guessed.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: index-free but for the forward pass, which says why"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    checked_entries, ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction,
    Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::lookup::prefix_indicator;
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};
use ark_ff::Field;

/// out = x broadcast along its axes of length 1.
#[derive(Clone, Debug)]
pub struct Broadcast {
    inputs: [TensorId; 1],
    x_dims: Vec<usize>,
    out: Layout,
}

impl Broadcast {
    /// Tensor `x` (dimensions `x_dims`) broadcast to `out_dims`.
    ///
    /// # Errors
    /// Another rank, an axis of x neither out's length nor 1 (naming both shapes), or
    /// dimensions beyond [`checked_entries`].
    pub fn new(x: TensorId, x_dims: &[usize], out_dims: &[usize]) -> Result<Self, ModelError> {
        checked_entries(x_dims)?;
        checked_entries(out_dims)?;
        let fits = x_dims.len() == out_dims.len()
            && x_dims.iter().zip(out_dims).all(|(&a, &b)| a == b || a == 1);
        if !fits {
            return Err(ModelError::Shape(format!(
                "a tensor of dimensions {x_dims:?} does not broadcast to {out_dims:?}"
            )));
        }
        Ok(Self { inputs: [x], x_dims: x_dims.to_vec(), out: Layout::new(out_dims) })
    }

    /// The claim point on x (the coordinates of the axes x keeps) and Π mask̃ over the
    /// broadcast axes, for a point on out's variables.
    fn split(&self, point: &[Fp]) -> Option<(Vec<Fp>, Fp)> {
        if point.len() != self.out.num_vars() {
            return None;
        }
        let (mut kept, mut masks) = (Vec::new(), Fp::from(1u64));
        // lowest variables first: the last axis first
        for (a, (&xd, &od)) in self.x_dims.iter().zip(self.out.dims()).enumerate().rev() {
            let coords = point.get(self.out.axis_vars(a))?;
            if xd == od {
                kept.extend_from_slice(coords);
            } else {
                masks *= prefix_indicator(od, coords);
            }
        }
        Some((kept, masks))
    }

    fn reduce(&self, claim: &EvalClaim) -> Result<EvalClaim, &'static str> {
        let (point, masks) =
            self.split(&claim.point).ok_or("a claim on a broadcast has the wrong variables")?;
        let inv = masks.inverse().ok_or("a broadcast claim at a point where the mask vanishes")?;
        Ok(EvalClaim { point, value: claim.value * inv })
    }
}

/// A [`Broadcast`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub out_dims: Vec<usize>,
}

/// The operator's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 13, kind: "broadcast", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(BroadcastSpec { x: r.usize()?, x_dims: r.dims()?, out_dims: r.dims()? }))
}

impl OpRecord for BroadcastSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usizes(&self.x_dims);
        w.usizes(&self.out_dims);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.x_dims.clone())]
    }

    fn summary(&self) -> String {
        format!("broadcast {:?} → {:?}", self.x_dims, self.out_dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Broadcast::new(self.x, &self.x_dims, &self.out_dims)?))
    }
}

impl Layer for Broadcast {
    fn kind(&self) -> &'static str {
        OP.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.out.dims()
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(BroadcastSpec {
            x: self.inputs[0],
            x_dims: self.x_dims.clone(),
            out_dims: self.out.dims().to_vec(),
        }))
    }

    #[expect(
        clippy::indexing_slicing,
        reason = "each source index is < |x| = Π x_dims, x's dimensions checked above"
    )]
    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let x = inputs.first().filter(|x| x.dims == self.x_dims).ok_or_else(|| {
            ModelError::Shape(format!("a broadcast of a tensor of dimensions {:?}", self.x_dims))
        })?;
        // x's row-major stride per axis, 0 on a broadcast axis
        let mut strides = vec![0usize; self.x_dims.len()];
        let mut s = 1;
        for (a, &d) in self.x_dims.iter().enumerate().rev() {
            strides[a] = if d == self.out.dims()[a] { s } else { 0 };
            s *= d;
        }
        let dims = self.out.dims();
        let mut out = Vec::with_capacity(self.out.len());
        let mut index = vec![0usize; dims.len()];
        for _ in 0..self.out.len() {
            let src: usize = index.iter().zip(&strides).map(|(i, s)| i * s).sum();
            out.push(x.data[src]);
            for a in (0..dims.len()).rev() {
                index[a] += 1;
                if index[a] < dims[a] {
                    break;
                }
                index[a] = 0;
            }
        }
        Ok(LayerWitness { output: Tensor::new(dims.to_vec(), out)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Broadcast {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        _inputs: &[&Tensor],
        _t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let c = self.reduce(claim).map_err(|r| ProveError::InvalidShape { reason: r.into() })?;
        Ok(vec![(ClaimTarget::Input(0), c)])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        _t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let c = self.reduce(claim).map_err(|reason| VerifyError::InvalidStatement { reason })?;
        Ok(vec![(ClaimTarget::Input(0), c)])
    }
}
