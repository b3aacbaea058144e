//! Int8 activation functions as 256-entry tables: y = f[x], proved by a lookup of (x, y) tagged
//! with the layer into the proof's shared activation table.

use super::{Constraints, Layer, LayerWitness, ModelError, TableLookup, Tensor, TensorId, Var};
use crate::quant::Activation;

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
    fn spec(&self) -> super::LayerSpec {
        super::LayerSpec::Activation {
            input: self.inputs[0],
            dims: self.dims.clone(),
            function: self.function,
            table: self.table,
        }
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
        let rows =
            (-128i64..=127).map(|x| vec![x, self.table[(x + 128) as usize] as i64]).collect();
        Some(TableLookup { columns: vec![Var::In(0), Var::Col(0)], rows })
    }
}
