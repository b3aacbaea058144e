//! NumPy in, NumPy out: a model's input from arrays (one per model input, or their
//! concatenation) and its proven output as arrays, shaped and dequantized as the CLI writes them.

use crate::errors;
use gkrnet::circuit::{Model, Tensor};
use gkrnet::onnx;
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};

/// One array given for the input: its shape, its values as float64, and whether its dtype is an
/// integer one (then the values are int8 codes, taken as they are).
#[derive(Debug)]
pub struct Raw {
    pub shape: Vec<usize>,
    pub values: Vec<f64>,
    pub integer: bool,
}

/// The dimensions without leading 1s (a batch of one may be written either way).
fn squeeze(d: &[usize]) -> &[usize] {
    let first = d.iter().position(|&x| x != 1).unwrap_or(d.len());
    d.get(first..).unwrap_or_default()
}

/// `x` as a NumPy array: torch tensors are detached and moved to the CPU first.
fn to_array<'py>(py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Raw> {
    let np = py.import("numpy")?;
    let x = if x.hasattr("detach")? && x.hasattr("cpu")? {
        x.call_method0("detach")?.call_method0("cpu")?.call_method0("numpy")?
    } else {
        x.clone()
    };
    let a = np.call_method1("asarray", (x,))?;
    let kind: String = a.getattr("dtype")?.getattr("kind")?.extract()?;
    let integer = match kind.as_str() {
        "i" | "u" => true,
        "f" => false,
        other => {
            let dtype = a.getattr("dtype")?.str()?.to_string();
            return Err(errors::input(format!(
                "an input array of dtype {dtype} (kind {other:?}): give floats (quantized with \
                 the model's input parameters) or integers (int8 codes)"
            )));
        }
    };
    let kwargs = PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float64")?)?;
    let f = np.call_method("ascontiguousarray", (a,), Some(&kwargs))?;
    let arr: PyReadonlyArrayDyn<'_, f64> = f.extract()?;
    let shape = arr.shape().to_vec();
    let values = arr.as_array().iter().copied().collect();
    Ok(Raw { shape, values, integer })
}

/// `x` (any array-like of numbers) as float64 values and its shape; `what` names it in errors.
pub fn float_array<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, what: &str) -> PyResult<Raw> {
    let raw = to_array(py, x)?;
    if raw.shape.is_empty() && raw.values.len() != 1 {
        return Err(errors::input(format!("{what} is not an array of numbers")));
    }
    Ok(raw)
}

/// The arrays `x` gives for `model`'s inputs: a dict by input name, a list or tuple of arrays
/// (one per input, for a model with several inputs), or one array.
pub fn arrays<'py>(py: Python<'py>, x: &Bound<'py, PyAny>, model: &Model) -> PyResult<Vec<Raw>> {
    let parts = model.input_parts();
    if let Ok(d) = x.cast::<PyDict>() {
        let names: Vec<&str> = parts.iter().map(|p| p.name.as_str()).collect();
        for key in d.keys() {
            let key: String = key.extract()?;
            if !names.contains(&key.as_str()) {
                return Err(errors::input(format!(
                    "no model input is named {key:?}; the inputs are {names:?}"
                )));
            }
        }
        return names
            .iter()
            .map(|n| match d.get_item(n)? {
                Some(v) => to_array(py, &v),
                None => Err(errors::input(format!("the input {n:?} is missing"))),
            })
            .collect();
    }
    let several = parts.len() > 1
        && (x.is_instance_of::<PyList>() || x.is_instance_of::<PyTuple>())
        && x.len()? == parts.len()
        && x.try_iter()?.all(|e| {
            e.is_ok_and(|e| {
                !e.is_instance_of::<pyo3::types::PyFloat>()
                    && !e.is_instance_of::<pyo3::types::PyInt>()
            })
        });
    if several {
        return x.try_iter()?.map(|e| to_array(py, &e?)).collect();
    }
    Ok(vec![to_array(py, x)?])
}

/// The model's int8 input from the arrays: each array's shape must be its input's (leading 1s
/// aside), or a single 1-D array holds every input's values concatenated in graph order. Float
/// arrays are quantized with the model's input parameters; integer arrays are int8 codes. A
/// model of token ids takes one array of ids.
pub fn model_input(model: &Model, raws: &[Raw]) -> Result<Tensor, PyErr> {
    let want = &model.input_dims;
    if let Some(e) = model.io().and_then(|io| io.embedding()) {
        // token ids (and masks, in graph order): their rows of the model's embedding table
        let values: Vec<f64> = raws.iter().flat_map(|r| r.values.iter().copied()).collect();
        let rows = e.rows(&values).map_err(|err| errors::input(err.to_string()))?;
        return Tensor::new(want.clone(), rows).map_err(|err| errors::input(err.to_string()));
    }
    let parts = model.input_parts();
    let len: usize = want.iter().product();
    let shapes =
        || parts.iter().map(|p| format!("{:?} of shape {:?}", p.name, p.dims)).collect::<Vec<_>>();
    match raws {
        [one] if parts.len() > 1 => {
            if one.shape.len() != 1 || one.values.len() != len {
                return Err(errors::input(format!(
                    "an input of shape {:?}: the model takes {} inputs ({}); give one array \
                     per input, or one 1-D array of their {len} values concatenated",
                    one.shape,
                    parts.len(),
                    shapes().join(", ")
                )));
            }
        }
        [one] => {
            if squeeze(&one.shape) != squeeze(want) {
                return Err(errors::input(format!(
                    "an input of shape {:?} ({} values); the model takes an input of shape \
                     {want:?} ({len} values)",
                    one.shape,
                    one.values.len()
                )));
            }
        }
        many => {
            if many.len() != parts.len() {
                return Err(errors::input(format!(
                    "{} arrays; the model takes {} inputs ({})",
                    many.len(),
                    parts.len(),
                    shapes().join(", ")
                )));
            }
            for (k, (p, r)) in parts.iter().zip(many).enumerate() {
                if squeeze(&r.shape) != squeeze(&p.dims) {
                    return Err(errors::input(format!(
                        "input {k} ({:?}) has shape {:?} ({} values); the model's input {:?} \
                         has shape {:?} ({} values)",
                        p.name,
                        r.shape,
                        r.values.len(),
                        p.name,
                        p.dims,
                        p.len()
                    )));
                }
            }
        }
    }
    let integer = raws.iter().all(|r| r.integer);
    let values: Vec<f64> = raws.iter().flat_map(|r| r.values.iter().copied()).collect();
    if integer {
        if let Some((i, v)) =
            values.iter().enumerate().find(|(_, v)| !(-128.0..=127.0).contains(*v))
        {
            return Err(errors::input(format!(
                "integer input value {v} at index {i} is not an int8 (integer arrays are the \
                 model's int8 codes; give floats to have them quantized)"
            )));
        }
        let data = values.iter().map(|&v| v as i64).collect();
        return Tensor::new(want.clone(), data).map_err(|e| errors::input(e.to_string()));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !(**v as f32).is_finite()) {
        return Err(errors::input(format!("input value {v} at index {i} is not a finite float32")));
    }
    let floats: Vec<f32> = values.iter().map(|&v| v as f32).collect();
    onnx::quantize_input(model, &floats).map_err(|e| errors::input(e.to_string()))
}

/// The float values of the model's input (the circuit's input, before quantization): what the
/// float reference runs on. Integer arrays are refused: the reference takes floats.
pub fn float_input(model: &Model, raws: &[Raw]) -> Result<Vec<f32>, PyErr> {
    if raws.iter().any(|r| r.integer) {
        return Err(errors::input(
            "the float model runs on float inputs; an integer array gives int8 codes",
        ));
    }
    model_input(model, raws)?;
    Ok(raws.iter().flat_map(|r| r.values.iter().map(|&v| v as f32)).collect())
}

/// An array of `values` with `dims`.
pub fn shaped<'py, T: numpy::Element>(
    py: Python<'py>,
    values: Vec<T>,
    dims: &[usize],
) -> PyResult<Bound<'py, PyAny>> {
    let flat = PyArray1::from_vec(py, values);
    Ok(flat.reshape(dims.to_vec())?.into_any())
}

/// The proven output as the CLI reports it: `output` (the first output, dequantized, in its
/// shape), `outputs` (every output by name), `output_int` (the proven integers, flat), and
/// `predicted` (the first output's class per row, or its indices).
pub struct Outputs<'py> {
    pub output: Bound<'py, PyAny>,
    pub outputs: Bound<'py, PyDict>,
    pub output_int: Bound<'py, PyAny>,
    pub predicted: Bound<'py, PyAny>,
}

pub fn outputs<'py>(py: Python<'py>, model: &Model, out: &Tensor) -> PyResult<Outputs<'py>> {
    let parts = model.output_parts();
    let dict = PyDict::new(py);
    let mut first: Option<Bound<'py, PyAny>> = None;
    let mut predicted: Vec<i64> = Vec::new();
    for (k, p) in parts.iter().enumerate() {
        let ints = onnx::part_values(p, &out.data);
        let real = onnx::dequantize_part(p, ints);
        if k == 0 {
            predicted = onnx::predictions(p, &real);
        }
        let arr =
            if p.index { shaped(py, ints.to_vec(), &p.dims)? } else { shaped(py, real, &p.dims)? };
        if k == 0 {
            first = Some(arr.clone());
        }
        dict.set_item(&p.name, arr)?;
    }
    let output = match first {
        Some(a) => a,
        None => shaped(py, Vec::<f64>::new(), &[0])?,
    };
    let output_int = PyArray1::from_vec(py, out.data.clone()).into_any();
    let predicted = match predicted[..] {
        [one] => one.into_pyobject(py)?.into_any(),
        _ => PyArray1::from_vec(py, predicted).into_any(),
    };
    Ok(Outputs { output, outputs: dict, output_int, predicted })
}
