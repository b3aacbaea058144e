//! ONNX import: float, QOperator and QDQ graphs become a canonical integer [`Model`].
//!
//! * [`graph`] reads the protobuf (through tract-onnx's `pb` types) into nodes and constants.
//!   Constants are decoded here, before any optimizer runs, so the int8 weights behind a QDQ
//!   `DequantizeLinear` stay int8 (tract's decluttering would fold them into f32 constants).
//! * [`reference`] runs the model in tract (typed, decluttered, optimized) for the float
//!   reference output and, with every intermediate tensor marked as an output, for calibration
//!   ranges and concrete shapes.
//! * [`lower`] maps every node to circuit layers through one op registry (op, lowering, and a
//!   check of the node's attributes and operand kinds); an op it does not list, or a node its
//!   check rejects, is an error naming the op type, the node and the reason. [`support`] asks
//!   the same registry per node (what `gkrnet inspect` prints). How float graphs are quantized
//!   is written in `paper-notes/quantization.md`.
//!
//! The result carries the integer model (with its input and output quantization), the names of
//! the ONNX tensors it materializes as int8 (for layer-by-layer comparisons) and the notes the
//! user should see. Prover and verifier share the compiled model (`.gkrm`); the verifier never
//! recomputes float calibration.
#![allow(
    clippy::indexing_slicing,
    reason = "ONNX import (this module and its children): it runs under the import's one panic guard (`guard`), and a verifier reads only .gkrm/.gkrc unless asked to compile"
)]

pub mod external;
pub mod graph;
mod lower;
pub mod reference;
pub mod rewrite;

use crate::circuit::{Model, ModelError, OutputPart, OutputQuant, QParams, Tensor, TensorId};
pub use graph::Graph;
pub use lower::{support, supported_ops, NodeSupport};
pub use reference::FloatReference;
use std::path::Path;
use thiserror::Error;
use tract_onnx::prelude::Framework;

/// Why an ONNX file could not be imported.
#[derive(Debug, Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("{path} is not an ONNX model: {reason}")]
    NotOnnx { path: String, reason: String },
    #[error("unsupported ONNX op {op} (node {node:?}): {reason}")]
    Unsupported { op: String, node: String, reason: String },
    #[error("ONNX node {node:?} ({op}): {reason}")]
    Node { op: String, node: String, reason: String },
    #[error("the ONNX graph: {0}")]
    Graph(String),
    #[error("{path}: {reason}")]
    Input { path: String, reason: String },
    #[error("the model takes an input of shape {expected}, got {got:?}")]
    InputShape { expected: String, got: Vec<usize> },
    #[error("tract could not run the float model: {0}")]
    Tract(String),
    #[error(transparent)]
    Model(#[from] ModelError),
}

/// How a model is imported.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The input shape; symbolic dimensions of the declared input are fixed from it. `None`:
    /// the declared shape with every symbolic dimension 1 (batch 1). A graph with several
    /// inputs takes their declared shapes (symbolic dimensions 1); here it accepts only the
    /// length of their concatenation ([`Graph::input_shapes`]).
    pub input_dims: Option<Vec<usize>>,
    /// Calibration inputs (float, each of the input's size). `None`: `samples` seeded uniform
    /// inputs in `input_range`. With several graph inputs, one sample is their concatenation:
    /// every input flattened row-major, in graph order (the circuit's input, before
    /// quantization).
    pub calibration: Option<Vec<Vec<f32>>>,
    pub input_range: (f32, f32),
    pub samples: usize,
    pub seed: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { input_dims: None, calibration: None, input_range: (0.0, 1.0), samples: 16, seed: 0 }
    }
}

/// What kind of graph the file held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GraphKind {
    /// Float graph, quantized by gkrnet.
    Float,
    /// QOperator (QLinearConv, QLinearMatMul, MatMulInteger, ConvInteger …).
    QOperator,
    /// Quantize/Dequantize pairs around float ops.
    Qdq,
}

/// An imported model.
#[derive(Debug)]
pub struct Imported {
    /// The integer model, with its input/output quantization ([`Model::io`]).
    pub model: Model,
    pub kind: GraphKind,
    /// Weights of the source model (elements of the weight tensors).
    pub parameters: usize,
    /// ONNX tensors of an integer type (QOperator/QDQ graphs) and the circuit tensor that holds
    /// the same int8 values (for layer-by-layer comparisons with onnxruntime).
    pub names: Vec<(String, TensorId)>,
    /// What the user should know (softmax outside the proof, calibration source …).
    pub notes: Vec<String>,
    /// tract's float inference of the source model.
    pub reference: FloatReference,
}

/// The largest ONNX file read: protobuf's 2 GiB message limit.
pub const MAX_ONNX_BYTES: u64 = 2 << 30;

/// Reads an ONNX file: the protobuf (errors for a missing, truncated or non-ONNX file).
pub fn read_proto(path: &Path) -> Result<tract_onnx::pb::ModelProto, ImportError> {
    let shown = path.display().to_string();
    let not_onnx = |reason: String| ImportError::NotOnnx { path: shown.clone(), reason };
    // size pre-check: a protobuf message cannot exceed 2 GiB, so nothing larger is read
    let len = std::fs::metadata(path)
        .map_err(|source| ImportError::Io { path: shown.clone(), source })?
        .len();
    if len > MAX_ONNX_BYTES {
        return Err(not_onnx(format!(
            "{len} bytes, above the 2 GiB a protobuf message can hold (larger models keep \
             their weights in external data files)"
        )));
    }
    let bytes =
        std::fs::read(path).map_err(|source| ImportError::Io { path: shown.clone(), source })?;
    parse_proto(&bytes, &shown, Some(path.parent().unwrap_or(Path::new("."))))
}

/// Decodes an ONNX model from its bytes (`shown` names it in errors) and prepares it as
/// [`read_proto`] does. External data is read from the files beside the model in `dir`; with
/// `dir` `None` (a model given as bytes) a model that keeps its weights outside is refused.
///
/// # Errors
/// As [`read_proto`]; [`ImportError::NotOnnx`] for external data without a directory.
pub fn parse_proto(
    bytes: &[u8],
    shown: &str,
    dir: Option<&Path>,
) -> Result<tract_onnx::pb::ModelProto, ImportError> {
    let not_onnx = |reason: String| ImportError::NotOnnx { path: shown.to_string(), reason };
    if bytes.len() as u64 > MAX_ONNX_BYTES {
        return Err(not_onnx(format!(
            "{} bytes, above the 2 GiB a protobuf message can hold",
            bytes.len()
        )));
    }
    if bytes.is_empty() {
        return Err(not_onnx("the file is empty".into()));
    }
    crate::tract_isa::keep_amx_out_of_tract_runtime();
    let mut proto = guard(|| tract_onnx::onnx().proto_model_for_read(&mut &bytes[..]))
        .map_err(|e| not_onnx(format!("protobuf decoding failed ({e})")))?
        .map_err(|e| not_onnx(format!("protobuf decoding failed ({e:#})")))?;
    if proto.graph.as_ref().is_none_or(|g| g.node.is_empty()) {
        return Err(not_onnx("the protobuf holds no graph nodes".into()));
    }
    match dir {
        // weights in files beside the model (PyTorch's current exporter): read them in
        Some(dir) => external::inline(&mut proto, dir)?,
        None if external::has_external(&proto) => {
            return Err(not_onnx(
                "the model keeps weights in external data files, which a model given as bytes \
                 cannot reach: give the path of the .onnx file instead"
                    .into(),
            ))
        }
        None => {}
    }
    // onnxruntime's QOperator ops and skl2onnx's linear models as standard ops
    rewrite::rewrite(&mut proto)?;
    Ok(proto)
}

/// Imports an ONNX model given as bytes (`name` names the model); as [`import`], but a model
/// with external data files is refused ([`parse_proto`]).
///
/// # Errors
/// As [`import`].
pub fn import_bytes(
    bytes: &[u8],
    name: &str,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let proto = parse_proto(bytes, name, None)?;
    import_proto(&proto, name, options)
}

/// Runs `f`, turning a panic inside a dependency (tract, prost) into an error.
pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into())
    })
}

/// Imports an ONNX file.
pub fn import(path: &Path, options: &ImportOptions) -> Result<Imported, ImportError> {
    let proto = read_proto(path)?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string();
    import_proto(&proto, &name, options)
}

/// Imports a decoded ONNX model.
///
/// The one panic boundary of the import: tract can panic on malformed graphs (shape inference,
/// the float reference), so the whole lowering runs under [`guard`] and a panic comes back as
/// [`ImportError::Graph`] naming it, never as an abort of the caller (`read_proto` guards the
/// protobuf decoding the same way).
pub fn import_proto(
    proto: &tract_onnx::pb::ModelProto,
    name: &str,
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    guard(|| {
        let rewritten;
        let proto = if rewrite::needed(proto) {
            let mut copy = proto.clone();
            rewrite::rewrite(&mut copy)?;
            rewritten = copy;
            &rewritten
        } else {
            proto
        };
        let graph = Graph::from_proto(proto)?;
        let input_shapes = graph.input_shapes(options.input_dims.as_deref())?;
        // recurrent layers unrolled over the sequence length these dimensions fix
        let unrolled;
        let (proto, graph) = if rewrite::recurrent(proto) {
            let mut copy = proto.clone();
            rewrite::unroll(&mut copy, &input_shapes)?;
            unrolled = copy;
            (&unrolled, Graph::from_proto(&unrolled)?)
        } else {
            (proto, graph)
        };
        lower::lower(proto, &graph, name, &input_shapes, options)
    })
    .map_err(|panic| {
        ImportError::Graph(format!("the import stopped on a panic inside tract: {panic}"))
    })?
}

impl Imported {
    /// The input quantization (the first input's when the model has several).
    pub fn input_params(&self) -> QParams {
        self.model.io().map_or(QParams::IDENTITY, |io| io.first_input())
    }

    /// The output quantization (the first output's when the model has several).
    pub fn output_params(&self) -> QParams {
        self.model.output_parts().first().map_or(QParams::IDENTITY, |p| p.q)
    }

    /// The int8 input tensor of a float input.
    pub fn quantize_input(&self, x: &[f32]) -> Result<Tensor, ModelError> {
        quantize_input(&self.model, x)
    }
}

/// The int8 input tensor of a float input, with the model's input quantization: with several
/// inputs, `x` is their concatenation (graph order) and each slice is quantized at its own
/// input's parameters; for a model of token ids, `x` holds the ids and the tensor is their
/// embedding rows.
///
/// # Errors
/// A value that is not finite, or `x` not of the input's length.
pub fn quantize_input(model: &Model, x: &[f32]) -> Result<Tensor, ModelError> {
    if let Some((i, v)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(ModelError::Parameter(format!(
            "input value {v} at index {i} is not a finite number"
        )));
    }
    if let Some(e) = model.io().and_then(|io| io.embedding()) {
        // token ids: their rows of the model's embedding table
        let ids: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        return Tensor::new(model.input_dims.clone(), e.rows(&ids)?);
    }
    let parts = model.input_parts();
    let mut data = Vec::with_capacity(x.len());
    for (k, &v) in x.iter().enumerate() {
        // the parts tile the input (checked when the model took its io): k lies in one
        let q = parts.iter().rev().find(|p| p.offset <= k).map_or(QParams::IDENTITY, |p| p.q);
        data.push(q.quantize(v as f64));
    }
    Tensor::new(model.input_dims.clone(), data)
}

/// The real output of an integer output (softmax applied where the source model ended with
/// one): with several outputs, each part dequantized on its own ([`dequantize_part`]), in order.
pub fn dequantize_output(model: &Model, out: &Tensor) -> Vec<f64> {
    let Some(io) = model.io() else {
        return out.data.iter().map(|&v| v as f64).collect();
    };
    match &io.output {
        OutputQuant::Single { q, softmax } => {
            let mut y: Vec<f64> = out.data.iter().map(|&v| q.dequantize(v)).collect();
            if *softmax {
                let rows = out.dims.first().copied().unwrap_or(1).max(1);
                let width = y.len() / rows;
                softmax_rows(&mut y, width);
            }
            y
        }
        OutputQuant::Parts(parts) => {
            parts.iter().flat_map(|p| dequantize_part(p, part_values(p, &out.data))).collect()
        }
    }
}

/// The entries of part `p` in the proven output `data` (fewer when `data` is shorter).
pub fn part_values<'a>(p: &OutputPart, data: &'a [i64]) -> &'a [i64] {
    let end = p.offset.saturating_add(p.len()).min(data.len());
    data.get(p.offset.min(end)..end).unwrap_or_default()
}

/// The real values of one output part: indices as they are, int8 values dequantized, and a
/// softmax over the last axis when the part's source ends with one.
pub fn dequantize_part(p: &OutputPart, ints: &[i64]) -> Vec<f64> {
    let mut y: Vec<f64> =
        ints.iter().map(|&v| if p.index { v as f64 } else { p.q.dequantize(v) }).collect();
    if p.softmax {
        softmax_rows(&mut y, p.dims.last().copied().unwrap_or(1));
    }
    y
}

/// Softmax of every row of `width` values.
fn softmax_rows(y: &mut [f64], width: usize) {
    for row in y.chunks_mut(width.max(1)) {
        let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = row.iter().map(|v| (v - m).exp()).sum();
        row.iter_mut().for_each(|v| *v = (*v - m).exp() / sum);
    }
}

/// One proven (dequantized) output against the float reference's on the same input, part by
/// part: value parts by their absolute error and their argmax per row, index parts exactly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputComparison {
    /// The largest and the summed |float − proven| over the entries of value parts.
    pub max_abs_error: f64,
    pub sum_abs_error: f64,
    /// Entries of value parts.
    pub values: usize,
    /// The float values' (min, max) over value parts; `None` without value parts.
    pub range: Option<(f64, f64)>,
    /// Predictions compared (rows of value parts, entries of index parts), and how many agree.
    pub predictions: usize,
    pub agreeing: usize,
    /// The first output's prediction per row, (float, proven): the model's answer.
    pub first: Vec<(i64, i64)>,
}

impl OutputComparison {
    /// Compares `float` (the reference's outputs concatenated in graph order) with `ours` (the
    /// model's dequantized output).
    ///
    /// # Errors
    /// Outputs of different lengths.
    pub fn of(model: &Model, float: &[f64], ours: &[f64]) -> Result<Self, ImportError> {
        if float.len() != ours.len() {
            return Err(ImportError::Graph(format!(
                "float output has {} values, the integer model {}",
                float.len(),
                ours.len()
            )));
        }
        let mut c = Self::default();
        for (k, p) in model.output_parts().iter().enumerate() {
            let end = p.offset.saturating_add(p.len()).min(float.len());
            let range = p.offset.min(end)..end;
            let (f, q) = (&float[range.clone()], &ours[range]);
            let predictions = if p.index { c.indices(f, q) } else { c.values(p, f, q) };
            if k == 0 {
                c.first = predictions;
            }
        }
        Ok(c)
    }

    /// An index part: every entry is a prediction, compared exactly.
    fn indices(&mut self, f: &[f64], q: &[f64]) -> Vec<(i64, i64)> {
        let pairs: Vec<(i64, i64)> = f.iter().zip(q).map(|(&a, &b)| (a as i64, b as i64)).collect();
        self.predictions += pairs.len();
        self.agreeing += pairs.iter().filter(|(a, b)| a == b).count();
        pairs
    }

    /// A value part: absolute errors, and the argmax of each row (one row per entry of the
    /// first axis of a tensor of rank 2 or more, else one).
    fn values(&mut self, p: &OutputPart, f: &[f64], q: &[f64]) -> Vec<(i64, i64)> {
        for (a, b) in f.iter().zip(q) {
            let d = (a - b).abs();
            self.max_abs_error = self.max_abs_error.max(d);
            self.sum_abs_error += d;
            self.values += 1;
            let (lo, hi) = self.range.unwrap_or((*a, *a));
            self.range = Some((lo.min(*a), hi.max(*a)));
        }
        let rows = if p.dims.len() >= 2 { p.dims[0].max(1) } else { 1 };
        let width = (f.len() / rows).max(1);
        let pairs: Vec<(i64, i64)> = f
            .chunks(width)
            .zip(q.chunks(width))
            .map(|(a, b)| (argmax(a) as i64, argmax(b) as i64))
            .collect();
        self.predictions += pairs.len();
        self.agreeing += pairs.iter().filter(|(a, b)| a == b).count();
        pairs
    }
}

/// Float model vs integer model on a set of inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Accuracy {
    pub samples: usize,
    pub max_abs_error: f64,
    pub mean_abs_error: f64,
    /// Fraction of rows (a batch has several per input) whose argmax agrees.
    pub argmax_agreement: f64,
    /// With labels: (float accuracy, int8 accuracy).
    pub accuracy: Option<(f64, f64)>,
}

/// The prediction of one output from its real values: indices as they are, else the argmax of
/// each row (lowest index on ties; a row per entry of the first axis of a tensor of rank 2 or
/// more, else one). What the CLI and the Python package report as "predicted".
pub fn predictions(p: &OutputPart, real: &[f64]) -> Vec<i64> {
    if p.index {
        return real.iter().map(|&v| v as i64).collect();
    }
    let rows = if p.dims.len() >= 2 { p.dims.first().copied().unwrap_or(1).max(1) } else { 1 };
    let width = (real.len() / rows).max(1);
    real.chunks(width).map(|r| argmax(r) as i64).collect()
}

fn argmax(row: &[f64]) -> usize {
    row.iter()
        .enumerate()
        .fold((0, f64::NEG_INFINITY), |(bi, bv), (i, &v)| if v > bv { (i, v) } else { (bi, bv) })
        .0
}

/// Compares tract's float outputs with the dequantized integer output on `inputs`, part by part
/// ([`OutputComparison`]; index parts count in the argmax agreement), and the first output's
/// prediction with `labels` when given.
pub fn accuracy(
    imported: &Imported,
    inputs: &[Vec<f32>],
    labels: Option<&[i64]>,
) -> Result<Accuracy, ImportError> {
    let (mut max, mut sum, mut count, mut agree, mut predictions) = (0f64, 0f64, 0, 0, 0);
    let (mut right_f, mut right_q, mut rows) = (0usize, 0usize, 0usize);
    for x in inputs {
        let float = imported.reference.output(x)?;
        let q = imported.quantize_input(x)?;
        let w = imported.model.forward(&q)?;
        let ours = dequantize_output(&imported.model, w.output());
        let c = OutputComparison::of(&imported.model, &float, &ours)?;
        max = max.max(c.max_abs_error);
        sum += c.sum_abs_error;
        count += c.values;
        agree += c.agreeing;
        predictions += c.predictions;
        // one prediction per row of a batch; labels enumerate rows of all inputs in order
        for (f, q) in c.first {
            if let Some(l) = labels.and_then(|l| l.get(rows)) {
                right_f += usize::from(f == *l);
                right_q += usize::from(q == *l);
            }
            rows += 1;
        }
    }
    if let Some(l) = labels.filter(|l| l.len() != rows) {
        return Err(ImportError::Graph(format!(
            "{} labels for {rows} predictions ({} inputs): one label per row of each input",
            l.len(),
            inputs.len()
        )));
    }
    let n = rows.max(1) as f64;
    Ok(Accuracy {
        samples: inputs.len(),
        max_abs_error: max,
        mean_abs_error: sum / count.max(1) as f64,
        argmax_agreement: agree as f64 / predictions.max(1) as f64,
        accuracy: labels.map(|_| (right_f as f64 / n, right_q as f64 / n)),
    })
}

/// The default calibration of a model compiled on the fly to prove `proven`: `samples` seeded
/// uniform inputs over `range` widened to the proven input's own range, and the proven input
/// itself, so that no activation of the proven input lies outside its calibrated range (the
/// digest then depends on the input; `--calibration` gives one that does not).
pub fn default_calibration(
    samples: usize,
    range: (f32, f32),
    proven: Option<&[f32]>,
    len: usize,
) -> Vec<Vec<f32>> {
    let proven = proven.filter(|x| x.len() == len && !x.is_empty());
    let range =
        proven.map_or(range, |x| x.iter().fold(range, |(lo, hi), &v| (lo.min(v), hi.max(v))));
    let mut inputs = random_inputs(len, samples.max(1), range, 0);
    inputs.extend(proven.map(<[f32]>::to_vec));
    inputs
}

/// The values one source input of `model` takes: the token ids' count for a model of ids (its
/// input tensor holds their embedding rows), else the input tensor's entries.
pub fn source_input_len(model: &Model) -> usize {
    match model.io().and_then(|io| io.embedding()) {
        Some(e) => e.source_len(),
        None => model.input_dims.iter().product(),
    }
}

/// Seeded inputs for `model`: token ids uniform over the vocabulary for a model of ids (its
/// masks all 1), else uniform values in `range`.
pub fn sample_inputs(model: &Model, count: usize, range: (f32, f32), seed: u64) -> Vec<Vec<f32>> {
    let len = source_input_len(model);
    match model.io().and_then(|io| io.embedding()) {
        Some(e) => {
            // each source value's vocabulary in graph order (0: a mask value, always 1)
            let ids: usize = e.ids_dims.iter().product();
            let mut vocab = Vec::with_capacity(len);
            for (k, m) in e.masks.iter().enumerate() {
                if k == e.ids_at {
                    vocab.extend(std::iter::repeat_n(e.vocab, ids));
                }
                vocab.extend(std::iter::repeat_n(m.table.as_ref().map_or(0, |t| t.vocab), m.len()));
            }
            if e.ids_at >= e.masks.len() {
                vocab.extend(std::iter::repeat_n(e.vocab, ids));
            }
            random_inputs(len, count, (0.0, 1.0), seed)
                .into_iter()
                .map(|x| {
                    let at = |v: usize, u: f32| match v {
                        0 => 1.0,
                        v => ((u * v as f32) as usize).min(v - 1) as f32,
                    };
                    x.iter().zip(&vocab).map(|(&u, &v)| at(v, u)).collect()
                })
                .collect()
        }
        None => random_inputs(len, count, range, seed),
    }
}

/// Seeded uniform inputs of `len` values in `range`.
pub fn random_inputs(len: usize, count: usize, range: (f32, f32), seed: u64) -> Vec<Vec<f32>> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    (0..count).map(|_| (0..len).map(|_| rng.gen_range(range.0..=range.1)).collect()).collect()
}

/// An n-dimensional `.npy` array (float32/64, int8/16/32/64, uint8) as f64, C order.
///
/// # Errors
/// [`ImportError::Io`] when the file cannot be opened; [`ImportError::Input`], naming the file,
/// for a header that is not `.npy`, a shape whose element count overflows, Fortran order, an
/// unsupported dtype, data that does not fill the shape, or a NaN or infinite value.
pub fn read_npy(path: &Path) -> Result<(Vec<usize>, Vec<f64>), ImportError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path)
        .map_err(|source| ImportError::Io { path: shown.clone(), source })?;
    let bad = |reason: String| ImportError::Input { path: shown.clone(), reason };
    crate::npy::check_shape(path).map_err(bad)?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(file))
        .map_err(|e| bad(format!("not a valid .npy file ({e})")))?;
    if npy.order() == npyz::Order::Fortran {
        return Err(bad("stored in Fortran order (save it with numpy.ascontiguousarray)".into()));
    }
    let shape: Vec<usize> = npy.shape().iter().map(|&d| d as usize).collect();
    let npyz::DType::Plain(ts) = npy.dtype() else {
        return Err(bad("a structured dtype".into()));
    };
    let read = |e: std::io::Error| bad(format!("cannot read the data ({e})"));
    let data: Vec<f64> = match (ts.type_char(), ts.size_field()) {
        (npyz::TypeChar::Float, 4) => {
            npy.into_vec::<f32>().map_err(read)?.into_iter().map(f64::from).collect()
        }
        (npyz::TypeChar::Float, 8) => npy.into_vec::<f64>().map_err(read)?,
        (npyz::TypeChar::Int, 1) => {
            npy.into_vec::<i8>().map_err(read)?.into_iter().map(f64::from).collect()
        }
        (npyz::TypeChar::Int, 2) => {
            npy.into_vec::<i16>().map_err(read)?.into_iter().map(f64::from).collect()
        }
        (npyz::TypeChar::Int, 4) => {
            npy.into_vec::<i32>().map_err(read)?.into_iter().map(f64::from).collect()
        }
        (npyz::TypeChar::Int, 8) => {
            npy.into_vec::<i64>().map_err(read)?.into_iter().map(|v| v as f64).collect()
        }
        (npyz::TypeChar::Uint, 1) => {
            npy.into_vec::<u8>().map_err(read)?.into_iter().map(f64::from).collect()
        }
        _ => return Err(bad(format!("dtype {ts} (float32/64, int8–64 or uint8)"))),
    };
    if Some(data.len()) != shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) {
        return Err(bad(format!("{} values for shape {shape:?}", data.len())));
    }
    if let Some((i, v)) = data.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(bad(format!("value {v} at index {i} is not a finite number")));
    }
    Ok((shape, data))
}
