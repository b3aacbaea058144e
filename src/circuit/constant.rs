//! A constant int8 tensor of the model ([`Constant`], tag 29): a Concat's constant operand (ViT's
//! class token). It has no input and sends nothing: the verifier checks a claim on it by
//! evaluating the MLE of its padded layout itself, O(size), from the record the digest binds.
#![deny(clippy::indexing_slicing, reason = "audited: index-free")]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    checked_entries, ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction,
    Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::poly::evaluate_i8;
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// A constant tensor; see the module docs.
#[derive(Clone, Debug)]
pub struct Constant {
    dims: Vec<usize>,
    values: Vec<i8>,
}

/// A [`Constant`]'s record: its dimensions and values (row-major).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConstantSpec {
    pub dims: Vec<usize>,
    pub values: Vec<i8>,
}

pub(crate) const OP: OpEntry = OpEntry { tag: 29, kind: "const", decode };

fn decode(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(ConstantSpec { dims: r.dims()?, values: r.i8s()? }))
}

impl OpRecord for ConstantSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usizes(&self.dims);
        w.i8s(&self.values);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        Vec::new()
    }

    fn summary(&self) -> String {
        format!("a constant of {} int8 values, {:?}", self.values.len(), self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Constant::new(&self.dims, self.values.clone())?))
    }
}

impl Constant {
    /// # Errors
    /// Dimensions beyond [`checked_entries`], or values of another count.
    pub fn new(dims: &[usize], values: Vec<i8>) -> Result<Self, ModelError> {
        if checked_entries(dims)? != values.len() {
            return Err(ModelError::Shape(format!(
                "a constant of dimensions {dims:?} with {} values",
                values.len()
            )));
        }
        Ok(Self { dims: dims.to_vec(), values })
    }

    fn value_at(&self, claim: &EvalClaim) -> Result<crate::field::Fp, String> {
        let layout = Layout::new(&self.dims);
        if claim.point.len() != layout.num_vars() {
            return Err(format!(
                "a claim of {} variables on a constant of {}",
                claim.point.len(),
                layout.num_vars()
            ));
        }
        Ok(evaluate_i8(&layout.pad(&self.values), &claim.point))
    }
}

impl Layer for Constant {
    fn kind(&self) -> &'static str {
        OP.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &[]
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(ConstantSpec {
            dims: self.dims.clone(),
            values: self.values.clone(),
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        if !inputs.is_empty() {
            return Err(ModelError::Shape("a constant takes no input".into()));
        }
        let data = self.values.iter().map(|&v| i64::from(v)).collect();
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), data)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Constant {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        _inputs: &[&Tensor],
        _t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        self.value_at(claim).map_err(|reason| ProveError::InvalidShape { reason })?;
        Ok(Vec::new())
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        _t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let computed = self.value_at(claim).map_err(|_| VerifyError::InvalidStatement {
            reason: "a claim on a constant of other dimensions",
        })?;
        if computed != claim.value {
            return Err(VerifyError::EvalMismatch {
                what: "a constant tensor",
                claimed: claim.value,
                computed,
            });
        }
        Ok(Vec::new())
    }
}
