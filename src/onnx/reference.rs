//! tract's float inference of the source model: the reference output for accuracy reports and,
//! with intermediate tensors marked as outputs, calibration ranges and concrete shapes.

use super::{guard, ImportError};
use std::collections::HashMap;
use tract_onnx::prelude::*;

/// An optimized tract plan with fixed input shapes and a list of named outputs: the graph
/// outputs first, then the other tensors asked for. A run takes one flat float vector: the
/// graph inputs, each flattened row-major, concatenated in graph order.
pub struct FloatReference {
    plan: std::sync::Arc<TypedRunnableModel>,
    /// The dimensions of each graph input, in graph order.
    input_dims: Vec<Vec<usize>>,
    /// Whether each graph input is integer (token ids, run as i64).
    integer: Vec<bool>,
    names: Vec<String>,
    /// How many of `names` are graph outputs (the first ones).
    outputs: usize,
}

impl std::fmt::Debug for FloatReference {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FloatReference").field("outputs", &self.names).finish()
    }
}

fn tract_error(e: impl std::fmt::Display) -> ImportError {
    ImportError::Tract(e.to_string())
}

/// Whether each graph input (in graph order, initializers excluded) is int64.
fn integer_inputs(proto: &tract_onnx::pb::ModelProto) -> Vec<bool> {
    let Some(g) = proto.graph.as_ref() else { return Vec::new() };
    let inits: std::collections::HashSet<&str> =
        g.initializer.iter().map(|t| t.name.as_str()).collect();
    g.input
        .iter()
        .filter(|i| !inits.contains(i.name.as_str()))
        .map(|i| {
            let elem = match i.r#type.as_ref().and_then(|t| t.value.as_ref()) {
                Some(tract_onnx::pb::type_proto::Value::TensorType(t)) => t.elem_type,
                _ => 0,
            };
            elem == 7
        })
        .collect()
}

/// One named output of a run: its shape and values (integer tensors widened exactly).
pub type Named = (Vec<usize>, Vec<f64>);

impl FloatReference {
    /// The plan of `proto` on inputs of `input_dims`, computing the tensors `outputs` (the
    /// graph outputs, in order: [`FloatReference::output`] concatenates them) and `names` (the
    /// ones tract knows; [`FloatReference::names`] lists those kept, the outputs first).
    ///
    /// # Errors
    /// No output, an output tract does not name, or tract failing to build the plan.
    pub fn new<S: AsRef<str>>(
        proto: &tract_onnx::pb::ModelProto,
        input_dims: &[usize],
        outputs: &[S],
        names: &[String],
    ) -> Result<Self, ImportError> {
        Self::with_inputs(proto, &[input_dims.to_vec()], outputs, names)
    }

    /// [`FloatReference::new`] for a graph with several inputs, of dimensions `input_dims` (in
    /// graph order): a run takes their concatenation.
    ///
    /// # Errors
    /// As [`FloatReference::new`].
    pub fn with_inputs<S: AsRef<str>>(
        proto: &tract_onnx::pb::ModelProto,
        input_dims: &[Vec<usize>],
        outputs: &[S],
        names: &[String],
    ) -> Result<Self, ImportError> {
        let outputs: Vec<String> = outputs.iter().map(|o| o.as_ref().to_string()).collect();
        let integer = integer_inputs(proto);
        if outputs.is_empty() {
            return Err(ImportError::Graph("a float reference of no output".into()));
        }
        // tract's runtime must not run its AMX kernels (see `tract_isa`)
        crate::tract_isa::keep_amx_out_of_tract_runtime();
        let build =
            || -> TractResult<(std::sync::Arc<TypedRunnableModel>, Vec<String>)> {
                let mut model = tract_onnx::onnx().model_for_proto_model(proto)?;
                for (i, dims) in input_dims.iter().enumerate() {
                    let dt = match integer.get(i) {
                        Some(true) => i64::datum_type(),
                        _ => f32::datum_type(),
                    };
                    model.set_input_fact(i, InferenceFact::dt_shape(dt, dims))?;
                }
                let mut kept = Vec::with_capacity(outputs.len() + names.len());
                let mut outlets = Vec::with_capacity(outputs.len() + names.len());
                for output in &outputs {
                    outlets.push(model.find_outlet_label(output).ok_or_else(|| {
                        anyhow::anyhow!("the graph output {output:?} has no outlet")
                    })?);
                    kept.push(output.clone());
                }
                for n in names {
                    if kept.contains(n) {
                        continue;
                    }
                    if let Some(o) = model.find_outlet_label(n) {
                        outlets.push(o);
                        kept.push(n.clone());
                    }
                }
                model.select_output_outlets(&outlets)?;
                let plan = model.into_optimized()?.into_runnable()?;
                Ok((plan, kept))
            };
        let (plan, names) =
            guard(build).map_err(tract_error)?.map_err(|e| tract_error(format!("{e:#}")))?;
        Ok(Self { plan, input_dims: input_dims.to_vec(), integer, names, outputs: outputs.len() })
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Every kept output on one float input.
    pub fn run(&self, input: &[f32]) -> Result<HashMap<String, Named>, ImportError> {
        Ok(self.run_typed(input)?.into_iter().map(|(k, (v, _))| (k, v)).collect())
    }

    /// [`FloatReference::run`], each value with whether tract holds it as a float (else an
    /// integer or a boolean, cast to f64 exactly).
    pub fn run_typed(&self, input: &[f32]) -> Result<HashMap<String, (Named, bool)>, ImportError> {
        let lens: Vec<usize> = self.input_dims.iter().map(|d| d.iter().product()).collect();
        if input.len() != lens.iter().sum::<usize>() {
            let expected = match &self.input_dims[..] {
                [one] => format!("{one:?}"),
                several => format!("{several:?} (concatenated)"),
            };
            return Err(ImportError::InputShape { expected, got: vec![input.len()] });
        }
        let run = || -> TractResult<Vec<(Named, bool)>> {
            let mut rest = input;
            let mut xs = TVec::new();
            for (i, (dims, &len)) in self.input_dims.iter().zip(&lens).enumerate() {
                let (x, tail) = rest.split_at(len);
                rest = tail;
                if self.integer.get(i) == Some(&true) {
                    // token ids given as floats: exact integers
                    let ids: Vec<i64> = x.iter().map(|&v| v as i64).collect();
                    let x = tract_ndarray::ArrayD::from_shape_vec(dims.clone(), ids)?;
                    xs.push(Tensor::from(x).into());
                    continue;
                }
                let x = tract_ndarray::ArrayD::from_shape_vec(dims.clone(), x.to_vec())?;
                xs.push(Tensor::from(x).into());
            }
            let outs = self.plan.run(xs)?;
            outs.iter()
                .map(|t| {
                    let float = t.datum_type().is_float();
                    let t = t.cast_to::<f64>()?;
                    let values = t.to_plain_array_view::<f64>()?.iter().copied().collect();
                    Ok(((t.shape().to_vec(), values), float))
                })
                .collect()
        };
        let outs = guard(run).map_err(tract_error)?.map_err(|e| tract_error(format!("{e:#}")))?;
        Ok(self.names.iter().cloned().zip(outs).collect())
    }

    /// The graph outputs on one float input, in graph order, each flattened row-major and all
    /// concatenated (as a model with several outputs proves them).
    pub fn output(&self, input: &[f32]) -> Result<Vec<f64>, ImportError> {
        Ok(self.outputs(input)?.into_iter().flat_map(|(_, v)| v).collect())
    }

    /// Each graph output on one float input, in graph order.
    pub fn outputs(&self, input: &[f32]) -> Result<Vec<Named>, ImportError> {
        let all = self.run(input)?;
        Ok(self
            .names
            .iter()
            .take(self.outputs)
            .map(|n| all.get(n).cloned().unwrap_or_default())
            .collect())
    }
}
