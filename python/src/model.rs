//! `gkrnet.compile`, `gkrnet.Model`, `gkrnet.commit` and `gkrnet.Commitment`.

use crate::errors;
use crate::io::{self, arrays, model_input};
use crate::pool;
use crate::proof::Proof;
use gkrnet::circuit;
use gkrnet::error::hex;
use gkrnet::gkr::file::CommitmentFile;
use gkrnet::gkr::{self, weights, AdviceMode, ModelCommitment, ProofFile, WeightsProver};
use gkrnet::onnx::{self, GraphKind, ImportOptions, Imported};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Where a model came from: decoded from `.gkrm` bytes, or imported from ONNX (which keeps the
/// float reference and the compile-time report).
#[derive(Debug)]
pub(crate) enum Source {
    Compiled(Box<circuit::Model>),
    Imported { imported: Box<Imported>, report: Option<onnx::Accuracy> },
}

impl Source {
    pub(crate) fn model(&self) -> &circuit::Model {
        match self {
            Source::Compiled(m) => m,
            Source::Imported { imported, .. } => &imported.model,
        }
    }
}

/// A compiled (quantized) model: what the prover runs and a verifier checks proofs against.
/// Made by `gkrnet.compile` (from ONNX), `gkrnet.from_torch`, or `Model.load` (a `.gkrm`).
#[pyclass(module = "gkrnet", frozen)]
#[derive(Debug)]
pub struct Model {
    pub(crate) src: Arc<Source>,
}

impl Model {
    pub(crate) fn model(&self) -> &circuit::Model {
        self.src.model()
    }

    fn imported(&self) -> PyResult<&Imported> {
        match &*self.src {
            Source::Imported { imported, .. } => Ok(imported),
            Source::Compiled(_) => Err(errors::input(
                "this model was loaded from its compiled form (.gkrm), which holds no float \
                 model: compile the ONNX file to compare with it",
            )),
        }
    }
}

/// An advice mode by name: "auto" (the library's default), "clear", "provable", "conjectured".
pub(crate) fn advice_mode(name: &str) -> PyResult<AdviceMode> {
    match name {
        "auto" => Ok(AdviceMode::default()),
        other => AdviceMode::from_name(other).ok_or_else(|| {
            errors::input(format!(
                "unknown advice mode {other:?}: \"auto\", \"clear\", \"provable\" or \"conjectured\""
            ))
        }),
    }
}

fn calibration_rows(c: &io::Raw, len: usize) -> PyResult<Vec<Vec<f32>>> {
    let values: Vec<f32> = c.values.iter().map(|&v| v as f32).collect();
    if len == 0 || values.is_empty() || !values.len().is_multiple_of(len) {
        return Err(errors::input(format!(
            "calibration of shape {:?} ({} values) is not a whole number of inputs of {len} \
             values (its first axis enumerates inputs)",
            c.shape,
            values.len()
        )));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(errors::input(format!("calibration value {v} at index {i} is not finite")));
    }
    Ok(values.chunks(len).map(<[f32]>::to_vec).collect())
}

/// Compiles an ONNX model (a path, or the file's bytes) into a quantized `Model`.
///
/// `calibration`: float inputs whose first axis enumerates them (each of the model's input
/// size; with several inputs their concatenation), default `samples` seeded uniform inputs in
/// `input_range`. `input_shape` fixes symbolic dimensions (default batch 1). The report on the
/// calibration inputs is `Model.report`.
#[pyfunction]
#[pyo3(signature = (onnx, calibration=None, input_shape=None, input_range=(0.0, 1.0), samples=16, name=None))]
pub fn compile(
    py: Python<'_>,
    onnx: &Bound<'_, PyAny>,
    calibration: Option<&Bound<'_, PyAny>>,
    input_shape: Option<Vec<usize>>,
    input_range: (f32, f32),
    samples: usize,
    name: Option<String>,
) -> PyResult<Model> {
    enum Given {
        Path(PathBuf),
        Bytes(Vec<u8>),
    }
    let calibration = match calibration {
        Some(c) => Some(io::float_array(py, c, "calibration")?),
        None => None,
    };
    let given = if let Ok(b) = onnx.cast::<PyBytes>() {
        Given::Bytes(b.as_bytes().to_vec())
    } else if let Ok(b) = onnx.cast::<pyo3::types::PyByteArray>() {
        Given::Bytes(b.to_vec())
    } else if let Ok(p) = onnx.extract::<PathBuf>() {
        Given::Path(p)
    } else {
        return Err(errors::input("compile takes the path of an .onnx file or its bytes"));
    };
    let (lo, hi) = input_range;
    if !(lo.is_finite() && hi.is_finite() && lo <= hi) {
        return Err(errors::input(format!("input_range ({lo}, {hi}) is not a finite lo ≤ hi")));
    }
    if samples == 0 || samples > 1 << 16 {
        return Err(errors::input(format!("samples must be between 1 and 65536, got {samples}")));
    }
    let name = name.unwrap_or_else(|| match &given {
        Given::Path(p) => p.file_stem().and_then(|s| s.to_str()).unwrap_or("model").to_string(),
        Given::Bytes(_) => "model".to_string(),
    });
    // the proto first: calibration rows have the model's input size
    let proto = pool::run(py, None, || match &given {
        Given::Path(p) => onnx::read_proto(p),
        Given::Bytes(b) => onnx::parse_proto(b, &name, None),
    })?;
    let proto = proto.map_err(import_error)?;
    let mut options =
        ImportOptions { input_dims: input_shape, input_range, samples, ..Default::default() };
    if let Some(c) = &calibration {
        let graph = onnx::Graph::from_proto(&proto).map_err(|e| errors::compile(e.to_string()))?;
        let dims = match &options.input_dims {
            Some(d) => graph.resolve_input(d).map_err(|e| errors::input(e.to_string()))?,
            None => graph.default_input(),
        };
        options.calibration = Some(calibration_rows(c, dims.iter().product())?);
    }
    let rows = options.calibration.clone();
    let result = pool::run(py, None, move || -> Result<Source, onnx::ImportError> {
        let imported = onnx::import_proto(&proto, &name, &options)?;
        let inputs =
            rows.unwrap_or_else(|| onnx::sample_inputs(&imported.model, samples, (lo, hi), 0));
        // the report is the prover's own comparison: its failure never fails the compile
        let report = onnx::accuracy(&imported, &inputs, None).ok();
        Ok(Source::Imported { imported: Box::new(imported), report })
    })?;
    let src = result.map_err(import_error)?;
    Ok(Model { src: Arc::new(src) })
}

/// The default calibration `gkrnet prove` uses for a model compiled on the fly: `samples` seeded
/// uniform inputs over `input_range` widened to cover `proven`, and `proven` itself.
#[pyfunction]
#[pyo3(signature = (len, proven=None, input_range=(0.0, 1.0), samples=16))]
pub fn default_calibration(
    len: usize,
    proven: Option<Vec<f32>>,
    input_range: (f32, f32),
    samples: usize,
) -> PyResult<Vec<Vec<f32>>> {
    if let Some(p) = proven.as_ref().filter(|p| p.len() != len) {
        return Err(errors::input(format!(
            "the proven input has {} values; the model's input has {len}",
            p.len()
        )));
    }
    Ok(onnx::default_calibration(samples.min(1 << 16), input_range, proven.as_deref(), len))
}

/// An import error as Python sees it: a file that cannot be read is the `OSError` for its
/// kind (`FileNotFoundError` …), anything else a `gkrnet.CompileError`.
fn import_error(e: onnx::ImportError) -> PyErr {
    match e {
        onnx::ImportError::Io { path, source } => errors::io(std::path::Path::new(&path), source),
        e => errors::compile(e.to_string()),
    }
}

fn accuracy_dict<'py>(py: Python<'py>, acc: &onnx::Accuracy) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("samples", acc.samples)?;
    d.set_item("max_abs_error", acc.max_abs_error)?;
    d.set_item("mean_abs_error", acc.mean_abs_error)?;
    d.set_item("argmax_agreement", acc.argmax_agreement)?;
    d.set_item("float_accuracy", acc.accuracy.map(|a| a.0))?;
    d.set_item("int8_accuracy", acc.accuracy.map(|a| a.1))?;
    Ok(d)
}

fn read_file(path: &std::path::Path) -> PyResult<Vec<u8>> {
    std::fs::read(path).map_err(|e| errors::io(path, e))
}

pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> PyResult<()> {
    std::fs::write(path, bytes).map_err(|e| errors::io(path, e))
}

#[pymethods]
impl Model {
    /// The model digest (64 hex digits): what a verifier compares with the one its owner
    /// published.
    #[getter]
    fn digest(&self) -> String {
        hex(&self.model().digest())
    }

    #[getter]
    fn name(&self) -> String {
        self.model().name.clone()
    }

    /// The circuit's input shape (with several inputs, their concatenation, 1-D).
    #[getter]
    fn input_shape(&self) -> Vec<usize> {
        self.model().input_dims.clone()
    }

    /// The proven output's shape (with several outputs, their concatenation, 1-D).
    #[getter]
    fn output_shape(&self) -> Vec<usize> {
        self.model().output_dims().to_vec()
    }

    /// The model's inputs: (name, shape) in graph order.
    #[getter]
    fn inputs(&self) -> Vec<(String, Vec<usize>)> {
        self.model().input_parts().into_iter().map(|p| (p.name, p.dims)).collect()
    }

    /// The model's outputs: (name, shape) in graph order.
    #[getter]
    fn outputs(&self) -> Vec<(String, Vec<usize>)> {
        self.model().output_parts().into_iter().map(|p| (p.name, p.dims)).collect()
    }

    /// The circuit's layers: (kind, output shape).
    #[getter]
    fn layers(&self) -> Vec<(&'static str, Vec<usize>)> {
        self.model().layers.iter().map(|l| (l.kind(), l.output_dims().to_vec())).collect()
    }

    /// "float", "qoperator" or "qdq" for a model compiled from ONNX; None for a loaded one.
    #[getter]
    fn kind(&self) -> Option<&'static str> {
        match &*self.src {
            Source::Imported { imported, .. } => Some(match imported.kind {
                GraphKind::Float => "float",
                GraphKind::QOperator => "qoperator",
                GraphKind::Qdq => "qdq",
            }),
            Source::Compiled(_) => None,
        }
    }

    /// Weights of the source ONNX model (None for a loaded model).
    #[getter]
    fn parameters(&self) -> Option<usize> {
        match &*self.src {
            Source::Imported { imported, .. } => Some(imported.parameters),
            Source::Compiled(_) => None,
        }
    }

    /// What the import wants the user to know (rewrites, a softmax left outside the proof…).
    #[getter]
    fn notes(&self) -> Vec<String> {
        match &*self.src {
            Source::Imported { imported, .. } => imported.notes.clone(),
            Source::Compiled(_) => Vec::new(),
        }
    }

    /// The compile-time accuracy report, int8 against the float model on the calibration
    /// inputs (keys as `gkrnet compile --json`'s "accuracy"); None for a loaded model.
    #[getter]
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        match &*self.src {
            Source::Imported { report: Some(r), .. } => Ok(Some(accuracy_dict(py, r)?)),
            _ => Ok(None),
        }
    }

    /// The compiled model's canonical bytes (the `.gkrm` format).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.model().encode())
    }

    /// Decodes a compiled model; bytes that are not one raise `gkrnet.FormatError`.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Model> {
        let m = pool::run(py, None, || circuit::Model::decode(&data))?;
        let m = m.map_err(|e| errors::format(format!("not a compiled gkrnet model: {e}")))?;
        Ok(Model { src: Arc::new(Source::Compiled(Box::new(m))) })
    }

    /// Writes the compiled model (`.gkrm`).
    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_file(&path, &self.model().encode())
    }

    /// Reads a compiled model (`.gkrm`).
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Model> {
        let bytes = read_file(&path)?;
        let m = pool::run(py, None, || circuit::Model::decode(&bytes))?;
        let m = m.map_err(|e| {
            errors::format(format!("{} is not a valid compiled model: {e}", path.display()))
        })?;
        Ok(Model { src: Arc::new(Source::Compiled(Box::new(m))) })
    }

    /// A built-in seeded model: "mlp4m" (1024→2048→1024→10, about 4.2 M parameters),
    /// "mlp-act", "lenet5" or "cnn-cifar" (the models of `gkrnet model` and `gkrnet bench`).
    /// Their inputs are int8 codes.
    #[staticmethod]
    fn builtin(name: &str) -> PyResult<Model> {
        use gkrnet::circuit::zoo;
        let m = match name {
            "mlp4m" => zoo::mlp4m(),
            "mlp-act" => zoo::mlp_act(),
            "lenet5" => zoo::lenet5(),
            "cnn-cifar" => zoo::cnn_cifar(),
            other => {
                return Err(errors::input(format!(
                    "unknown built-in model {other:?}: mlp4m, mlp-act, lenet5 or cnn-cifar"
                )))
            }
        };
        Ok(Model { src: Arc::new(Source::Compiled(Box::new(m))) })
    }

    /// The integer model's output on `x`, dequantized (no proof): what a proof of `x` will
    /// show. Several outputs come back as a dict by name.
    fn forward<'py>(&self, py: Python<'py>, x: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let model = self.model();
        let input = model_input(model, &arrays(py, x, model)?)?;
        let w = pool::run(py, None, || model.forward(&input))?;
        let w = w.map_err(|e| errors::input(e.to_string()))?;
        let o = io::outputs(py, model, w.output())?;
        Ok(if model.output_parts().len() > 1 { o.outputs.into_any() } else { o.output })
    }

    /// The float ONNX model's output on `x` (tract's inference of the source graph), for
    /// comparison with `forward` or a verified output. Only for a model compiled from ONNX.
    fn float_forward<'py>(
        &self,
        py: Python<'py>,
        x: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let imported = self.imported()?;
        let model = &imported.model;
        let floats = io::float_input(model, &arrays(py, x, model)?)?;
        let y = pool::run(py, None, || imported.reference.output(&floats))?;
        let y = y.map_err(|e| errors::input(e.to_string()))?;
        let parts = model.output_parts();
        if parts.len() == 1 {
            let dims = parts.first().map(|p| p.dims.clone()).unwrap_or_default();
            return io::shaped(py, y, &dims);
        }
        let d = PyDict::new(py);
        for p in &parts {
            let end = p.offset.saturating_add(p.len()).min(y.len());
            let vals = y.get(p.offset.min(end)..end).unwrap_or_default().to_vec();
            d.set_item(&p.name, io::shaped(py, vals, &p.dims)?)?;
        }
        Ok(d.into_any())
    }

    /// int8 against float on `inputs` (float, first axis enumerates them) and, with `labels`,
    /// both models' accuracy; keys as `Model.report`. Only for a model compiled from ONNX.
    #[pyo3(signature = (inputs, labels=None))]
    fn accuracy<'py>(
        &self,
        py: Python<'py>,
        inputs: &Bound<'py, PyAny>,
        labels: Option<Vec<i64>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let imported = self.imported()?;
        let len = onnx::source_input_len(&imported.model);
        let rows = calibration_rows(&io::float_array(py, inputs, "inputs")?, len)?;
        let acc = pool::run(py, None, || onnx::accuracy(imported, &rows, labels.as_deref()))?;
        accuracy_dict(py, &acc.map_err(|e| errors::input(e.to_string()))?)
    }

    /// Proves the model's inference on `x`; returns the `Proof` (its output is learnt only by
    /// verifying it). `advice`: "auto" (the library's default), "clear", "provable" or
    /// "conjectured". `threads`: the prover's threads (default: all cores). `commitment`: a
    /// `Commitment` of this model, for verifiers that hold only the commitment. The
    /// interpreter lock is released while proving.
    #[pyo3(signature = (x, advice="auto", threads=None, commitment=None))]
    fn prove(
        &self,
        py: Python<'_>,
        x: &Bound<'_, PyAny>,
        advice: &str,
        threads: Option<i64>,
        commitment: Option<PyRef<'_, Commitment>>,
    ) -> PyResult<Proof> {
        let model = self.model();
        let input = model_input(model, &arrays(py, x, model)?)?;
        let advice = advice_mode(advice)?;
        let prover = match &commitment {
            None => None,
            Some(c) => Some(c.prover_for(py, model, threads)?),
        };
        let start = Instant::now();
        let proved = pool::run(py, threads, || {
            let opts = gkr::ProveOptions::advice(advice);
            match &prover {
                None => gkr::prove_bytes(model, &input, &opts),
                Some(p) => gkr::prove_bytes(&p.model, &input, &opts.with_weights(&p.weights)),
            }
        })?;
        let proof = proved.map_err(|e| errors::prove(e.to_string()))?;
        let seconds = start.elapsed().as_secs_f64();
        let digest = match &prover {
            None => model.digest(),
            Some(p) => gkr::committed_digest(&p.model.digest(), &p.weights.commitment()),
        };
        let file = ProofFile {
            advice,
            weights_root: prover.as_ref().map(|p| p.weights.commitment().root),
            ..ProofFile::new(digest, &proof.output, proof.proof)
        };
        Ok(Proof::new(file, Some(seconds)))
    }

    fn __repr__(&self) -> String {
        let m = self.model();
        format!(
            "gkrnet.Model(name={:?}, digest={}, input_shape={:?}, output_shape={:?}, layers={})",
            m.name,
            hex(&m.digest()),
            m.input_dims,
            m.output_dims(),
            m.layers.len()
        )
    }
}

/// The prover's side of a commitment: the model with its committed layers marked, and the
/// committed weights.
#[derive(Debug)]
pub(crate) struct Prover {
    /// The digest of the model committed (before its committed layers were marked).
    pub(crate) source: [u8; 32],
    pub(crate) model: circuit::Model,
    pub(crate) weights: WeightsProver,
}

/// A model commitment (`.gkrc`): the model with its large weight matrices replaced by one
/// Basefold root. A verifier holding only this checks proofs made with it; made by
/// `gkrnet.commit(model)`, which also keeps the prover's side for `Model.prove(commitment=…)`.
#[pyclass(module = "gkrnet", frozen)]
#[derive(Debug)]
pub struct Commitment {
    pub(crate) file: Arc<CommitmentFile>,
    pub(crate) prover: Option<Arc<Prover>>,
}

impl Commitment {
    /// The prover's side for proving `model` against this commitment: the one `commit` kept,
    /// or the weights committed again (then the root must come out the same).
    fn prover_for(
        &self,
        py: Python<'_>,
        model: &circuit::Model,
        threads: Option<i64>,
    ) -> PyResult<Arc<Prover>> {
        if let Some(p) = &self.prover {
            if p.source == model.digest() {
                return Ok(p.clone());
            }
        }
        let params = self.file.commitment.params;
        let made = pool::run(py, threads, || gkr::commit_model(model, params))?;
        let (m, wp) = made.map_err(|e| errors::prove(e.to_string()))?;
        if wp.commitment() != self.file.commitment || m.digest() != self.file.model.digest() {
            return Err(errors::prove(format!(
                "this is the commitment of another model (commitment digest {}, root {}); the \
                 model (digest {}) commits to root {}",
                hex(&self.key_digest()),
                hex(&self.file.commitment.root),
                hex(&model.digest()),
                hex(&wp.commitment().root)
            )));
        }
        Ok(Arc::new(Prover { source: model.digest(), model: m, weights: wp }))
    }

    pub(crate) fn key_digest(&self) -> [u8; 32] {
        gkr::committed_digest(&self.file.model.digest(), &self.file.commitment)
    }
}

/// Commits the model's large weight matrices with Basefold (`pcs`: "provable" or
/// "conjectured"); returns the `Commitment`, whose digest a verifier compares.
#[pyfunction]
#[pyo3(signature = (model, pcs="provable", threads=None))]
pub fn commit(
    py: Python<'_>,
    model: PyRef<'_, Model>,
    pcs: &str,
    threads: Option<i64>,
) -> PyResult<Commitment> {
    let AdviceMode::Committed(params) = advice_mode(pcs)? else {
        return Err(errors::input(format!(
            "unknown PCS parameters {pcs:?}: \"provable\" or \"conjectured\""
        )));
    };
    let m = model.model();
    let made = pool::run(py, threads, || -> Result<(CommitmentFile, Prover), String> {
        let (pm, wp) = gkr::commit_model(m, params).map_err(|e| e.to_string())?;
        let stripped = ModelCommitment::stripped(&pm).map_err(|e| e.to_string())?;
        let file = CommitmentFile { commitment: wp.commitment(), model: stripped };
        Ok((file, Prover { source: m.digest(), model: pm, weights: wp }))
    })?;
    let (file, prover) = made.map_err(errors::prove)?;
    Ok(Commitment { file: Arc::new(file), prover: Some(Arc::new(prover)) })
}

#[pymethods]
impl Commitment {
    /// The digest verifiers compare (64 hex digits): it covers the stripped model, the PCS
    /// parameters and the root.
    #[getter]
    fn digest(&self) -> String {
        hex(&self.key_digest())
    }

    /// The Basefold root of the committed weights (64 hex digits).
    #[getter]
    fn root(&self) -> String {
        hex(&self.file.commitment.root)
    }

    /// "provable" or "conjectured".
    #[getter]
    fn pcs(&self) -> String {
        AdviceMode::Committed(self.file.commitment.params).name()
    }

    /// The indices of the layers whose weights are committed.
    #[getter]
    fn committed_layers(&self) -> Vec<usize> {
        self.prover.as_ref().map_or_else(Vec::new, |p| weights::committed_layers(&p.model))
    }

    /// Whether this object can prove (made by `commit`) or only verify (loaded).
    #[getter]
    fn can_prove(&self) -> bool {
        self.prover.is_some()
    }

    /// The commitment's bytes (the `.gkrc` format).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.file.encode())
    }

    /// Decodes a commitment; bad bytes raise `gkrnet.FormatError`. A loaded commitment
    /// verifies; proving with it commits the model's weights again.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: Vec<u8>) -> PyResult<Commitment> {
        let f = pool::run(py, None, || CommitmentFile::decode(&data))?;
        let f = f.map_err(|e| errors::format(format!("not a model commitment: {e}")))?;
        Ok(Commitment { file: Arc::new(f), prover: None })
    }

    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_file(&path, &self.file.encode())
    }

    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<Commitment> {
        let bytes = read_file(&path)?;
        let f = pool::run(py, None, || CommitmentFile::decode(&bytes))?;
        let f = f.map_err(|e| {
            errors::format(format!("{} is not a valid model commitment: {e}", path.display()))
        })?;
        Ok(Commitment { file: Arc::new(f), prover: None })
    }

    fn __repr__(&self) -> String {
        format!(
            "gkrnet.Commitment(digest={}, root={}, pcs={:?})",
            hex(&self.key_digest()),
            hex(&self.file.commitment.root),
            AdviceMode::Committed(self.file.commitment.params).name()
        )
    }
}
