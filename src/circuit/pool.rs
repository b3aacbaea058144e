//! Pooling. Every pooling layer reuses proved building blocks:
//! * **average pooling** (and global average pooling) is a depthwise convolution with an all-ones
//!   kernel and padding value 0 — the window sum S, a virtual tensor — followed by a
//!   requantization P = a_pos·(S − z_x·inside_pos) (padding is the real value 0, so only the
//!   in-bounds taps shift by the zero point) with a per-element multiplier a_pos ≈
//!   2^k·s_in/(s_out·divisor_pos): the divisor is the number of in-bounds taps, or the window
//!   size with `count_include_pad`, as in ONNX AveragePool;
//! * **max pooling** gathers each window tap with a one-hot depthwise convolution (padding value
//!   −128, below every int8) into a virtual view V_j, then [`MaxPool`] commits y, one-hot selector
//!   bits s_j and differences d_j = y − V_j, with d_j range-checked (so y ≥ every element) and
//!   Σ s_j·d_j = 0 (so y equals the selected one).
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::{Constraints, Layer, LayerSpec, LayerWitness, ModelError, Tensor, TensorId};
use crate::codec::{ByteReader, ByteWriter, Sink};

/// The record of a [`MaxPool`] (tag 6): the window views and their (the output's) dimensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MaxPoolSpec {
    pub views: Vec<TensorId>,
    pub dims: Vec<usize>,
}

/// Max pooling's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 6, kind: "maxpool", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(MaxPoolSpec { views: r.usizes()?, dims: r.dims()? }))
}

impl OpRecord for MaxPoolSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usizes(&self.views);
        w.usizes(&self.dims);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        self.views.iter().map(|&v| (v, self.dims.clone())).collect()
    }

    fn summary(&self) -> String {
        format!("max of {} views", self.views.len())
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(MaxPool::new(self.views.clone(), self.dims.clone())?))
    }
}

/// y = max_j V_j elementwise over the window views V_0 … V_{K−1} (all of the output's shape).
#[derive(Clone, Debug)]
pub struct MaxPool {
    inputs: Vec<TensorId>,
    dims: Vec<usize>,
    names: Vec<&'static str>,
}

const S: [&str; 16] = [
    "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13", "s14",
    "s15",
];
const D: [&str; 16] = [
    "d0", "d1", "d2", "d3", "d4", "d5", "d6", "d7", "d8", "d9", "d10", "d11", "d12", "d13", "d14",
    "d15",
];

/// The largest window max pooling supports (taps).
pub const MAX_TAPS: usize = 16;

impl MaxPool {
    pub fn new(views: Vec<TensorId>, dims: Vec<usize>) -> Result<Self, ModelError> {
        let k = views.len();
        if k == 0 || k > MAX_TAPS {
            return Err(ModelError::Shape(format!("max pooling over {k} taps (1 to {MAX_TAPS})")));
        }
        let mut names = vec!["y"];
        names.extend_from_slice(&S[..k]);
        names.extend_from_slice(&D[..k]);
        Ok(Self { inputs: views, dims, names })
    }

    fn k(&self) -> usize {
        self.inputs.len()
    }
}

impl Layer for MaxPool {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(MaxPoolSpec { views: self.inputs.clone(), dims: self.dims.clone() }))
    }

    fn kind(&self) -> &'static str {
        "maxpool"
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let k = self.k();
        let len: usize = self.dims.iter().product();
        let mut y = Vec::with_capacity(len);
        let mut advice = vec![Vec::with_capacity(len); 2 * k];
        for j in 0..len {
            let (best, max) =
                (0..k).map(|t| (t, inputs[t].data[j])).fold((0, i64::MIN), |acc, (t, v)| {
                    if v > acc.1 {
                        (t, v)
                    } else {
                        acc
                    }
                });
            y.push(max);
            for t in 0..k {
                advice[t].push(i64::from(t == best));
                advice[k + t].push(max - inputs[t].data[j]);
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), y)?, advice })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for MaxPool {
    fn columns(&self) -> Vec<&'static str> {
        self.names.clone()
    }

    fn relations(&self) -> Vec<Poly> {
        let k = self.k();
        let s = |t: usize| Lin::var(Var::Col(1 + t));
        let d = |t: usize| Lin::var(Var::Col(1 + k + t));
        let y = Lin::var(Var::Col(0));
        let mut out = Vec::new();
        let mut one_hot = Lin::constant(-1);
        let mut selected = Poly::default();
        for t in 0..k {
            out.push(s(t).times(&s(t)).plus_lin(&s(t).scale(-1)));
            // d_t = y − V_t
            out.push(d(t).minus(&y).plus(&Lin::var(Var::In(t))).to_poly());
            one_hot = one_hot.plus(&s(t));
            selected = selected.plus(&s(t).times(&d(t)));
        }
        out.push(one_hot.to_poly());
        out.push(selected);
        out
    }

    fn range_checks(&self) -> Vec<Lin> {
        (0..self.k()).map(|t| Lin::var(Var::Col(1 + self.k() + t))).collect()
    }
}
