//! Int8 activation functions as 256-entry tables: y = f[x], proved by a lookup of (x, y) tagged
//! with the layer into the proof's shared activation table.

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    Constraints, Layer, LayerSpec, LayerWitness, ModelError, TableLookup, Tensor, TensorId, Var,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::quant::Activation;

/// The record of an [`ActivationLayer`] (tag 4): the function and its table as computed once (a
/// verifier takes the table from the encoding, never recomputes it).
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationSpec {
    pub input: TensorId,
    pub dims: Vec<usize>,
    pub function: Activation,
    pub table: [i8; 256],
}

/// The activation's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 4, kind: "activation", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (input, dims) = (r.usize()?, r.dims()?);
    let name = r.bytes()?;
    let alpha = f64::from_bits(r.i64()? as u64);
    let mut function = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::Elu { alpha },
        Activation::LeakyRelu { alpha },
        Activation::Silu,
        Activation::HardSwish,
        Activation::HardSigmoid { alpha, beta: 0.0 },
    ]
    .into_iter()
    .find(|f| f.name().as_bytes() == name)
    .ok_or_else(|| r.error("an activation name"))?;
    // HardSigmoid alone carries a second parameter, after α
    if let Activation::HardSigmoid { beta, .. } = &mut function {
        *beta = f64::from_bits(r.i64()? as u64);
    }
    let table: [i8; 256] = r.i8s()?.try_into().map_err(|_| r.error("a 256-entry table"))?;
    Ok(Box::new(ActivationSpec { input, dims, function, table }))
}

impl OpRecord for ActivationSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.input);
        w.usizes(&self.dims);
        w.bytes(self.function.name().as_bytes());
        let alpha = match self.function {
            Activation::Elu { alpha }
            | Activation::LeakyRelu { alpha }
            | Activation::HardSigmoid { alpha, .. } => alpha,
            _ => 0.0,
        };
        w.i64(alpha.to_bits() as i64);
        if let Activation::HardSigmoid { beta, .. } = self.function {
            w.i64(beta.to_bits() as i64);
        }
        w.i8s(&self.table);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.input, self.dims.clone())]
    }

    fn summary(&self) -> String {
        format!("{:?}, 256-entry table", self.function)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self.clone();
        Ok(Box::new(ActivationLayer::from_table(s.input, s.dims, s.function, s.table)))
    }
}

/// y = table[x + 128] elementwise; the output is committed.
#[derive(Clone, Debug)]
pub struct ActivationLayer {
    inputs: [TensorId; 1],
    dims: Vec<usize>,
    function: Activation,
    table: [i8; 256],
}

impl ActivationLayer {
    /// The table of `function` from input scale/zero point to output scale/zero point.
    pub fn new(
        input: TensorId,
        dims: Vec<usize>,
        function: Activation,
        (s_in, z_in): (f64, i32),
        (s_out, z_out): (f64, i32),
    ) -> Result<Self, ModelError> {
        if !(s_in > 0.0 && s_out > 0.0 && s_in.is_finite() && s_out.is_finite()) {
            return Err(ModelError::Parameter(format!("activation scales {s_in}, {s_out}")));
        }
        let table = function.table(s_in, z_in, s_out, z_out);
        Ok(Self { inputs: [input], dims, function, table })
    }

    /// A layer from its table (a compiled model carries the table, never recomputes it).
    pub fn from_table(
        input: TensorId,
        dims: Vec<usize>,
        function: Activation,
        table: [i8; 256],
    ) -> Self {
        Self { inputs: [input], dims, function, table }
    }

    pub fn function(&self) -> Activation {
        self.function
    }

    pub fn table(&self) -> &[i8; 256] {
        &self.table
    }
}

impl Layer for ActivationLayer {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(ActivationSpec {
            input: self.inputs[0],
            dims: self.dims.clone(),
            function: self.function,
            table: self.table,
        }))
    }

    fn kind(&self) -> &'static str {
        self.function.name()
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let x = inputs[0];
        let y = x
            .data
            .iter()
            .map(|&v| match v {
                -128..=127 => Ok(self.table[(v + 128) as usize] as i64),
                _ => Err(ModelError::Shape(format!("{} input {v} is not int8", self.kind()))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), y)?, advice: Vec::new() })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for ActivationLayer {
    fn table_lookup(&self) -> Option<TableLookup> {
        let rows: Vec<Vec<i64>> =
            (-128i64..=127).map(|x| vec![x, self.table[(x + 128) as usize] as i64]).collect();
        Some(TableLookup { columns: vec![Var::In(0), Var::Col(0)], rows: rows.into() })
    }
}
