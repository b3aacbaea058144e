//! y = g·x + (1 − g)·f elementwise: an int8 tensor x where the 0/1 gate g is 1, the public fill
//! f where it is 0 ([`Gate`], one committed column and one degree-2 relation, no lookup).
//!
//! The softmax under an attention mask that the model reads from its input
//! ([`Builder::softmax_gated`]) drives masked scores to the int8 minimum with it, so that the
//! row maximum is a kept score. The gate is a tensor of the circuit (a [`super::take::Take`] of
//! the public input), so its claim flows back to the input like any other: the relation pins y
//! for every g and x, and the verifier, who computes the input itself, pins g to the 0/1 mask.
#![deny(clippy::indexing_slicing, reason = "audited: index-free")]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::{
    checked_entries, Constraints, Layer, LayerSpec, LayerWitness, ModelError, Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};

/// y = g ? x : fill; see the module docs.
#[derive(Clone, Debug)]
pub struct Gate {
    inputs: [TensorId; 2],
    dims: Vec<usize>,
    fill: i32,
}

/// A [`Gate`]'s record: inputs [x, g], dimensions and the fill value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateSpec {
    pub x: TensorId,
    pub g: TensorId,
    pub dims: Vec<usize>,
    pub fill: i32,
}

pub(crate) const OP: OpEntry = OpEntry { tag: 25, kind: "gate", decode };

fn decode(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(GateSpec { x: r.usize()?, g: r.usize()?, dims: r.dims()?, fill: r.i32()? }))
}

impl OpRecord for GateSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usize(self.g);
        w.usizes(&self.dims);
        w.i64(i64::from(self.fill));
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.dims.clone()), (self.g, self.dims.clone())]
    }

    fn summary(&self) -> String {
        format!("y = g ? x : {}, {:?}", self.fill, self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Gate::new([self.x, self.g], &self.dims, self.fill)?))
    }
}

impl Gate {
    /// # Errors
    /// A fill outside int8, or dimensions beyond [`checked_entries`].
    pub fn new(inputs: [TensorId; 2], dims: &[usize], fill: i32) -> Result<Self, ModelError> {
        checked_entries(dims)?;
        if !(-128..=127).contains(&fill) {
            return Err(ModelError::Parameter(format!("a gate's fill {fill} outside int8")));
        }
        Ok(Self { inputs, dims: dims.to_vec(), fill })
    }
}

impl Layer for Gate {
    fn kind(&self) -> &'static str {
        OP.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let [x, g] = self.inputs;
        LayerSpec::Op(Box::new(GateSpec { x, g, dims: self.dims.clone(), fill: self.fill }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let (Some(x), Some(g), 2) = (inputs.first(), inputs.get(1), inputs.len()) else {
            return Err(ModelError::Shape("gate takes [x, g]".into()));
        };
        if x.dims != self.dims || g.dims != self.dims {
            return Err(ModelError::Shape(format!("gate: inputs of dimensions {:?}", self.dims)));
        }
        let mut y = Vec::with_capacity(x.data.len());
        for (i, (&xv, &gv)) in x.data.iter().zip(&g.data).enumerate() {
            y.push(match gv {
                1 => xv,
                0 => i64::from(self.fill),
                _ => {
                    return Err(ModelError::Parameter(format!(
                        "gate: the mask holds {gv} at entry {i} (0 or 1 only)"
                    )))
                }
            });
        }
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), y)?, advice: Vec::new() })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for Gate {
    fn relations(&self) -> Vec<Poly> {
        // y − g·x + f·g − f = 0
        let [y, x, g] = [Var::Col(0), Var::In(0), Var::In(1)].map(Lin::var);
        let f = i128::from(self.fill);
        let rest = y.plus(&g.scale(f)).add_const(-f);
        vec![g.times(&x).scale(crate::field::from_i128(-1)).plus_lin(&rest)]
    }
}
