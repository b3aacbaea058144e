//! What `prove`, `verify`, `demo`, `inspect` and `bench` share: loading a model (`.gkrm`, or an
//! ONNX file compiled on the fly), reading an input (`.npy` or ezkl's JSON), writing the proven
//! output, progress spinners, peak memory.

use super::compile::{default_calibration, hex, import_with};
use anyhow::{bail, Context, Result};
use gkrnet::circuit::{InputQuant, Model, OutputPart, OutputQuant, Tensor};
use gkrnet::onnx::{self, Imported};
use std::path::{Path, PathBuf};

/// How to compile an ONNX model on the fly (the `compile` options).
#[derive(clap::Args, Debug, Clone)]
pub struct CompileOptions {
    /// Calibration inputs for a float ONNX model (float .npy, first axis enumerates inputs;
    /// with several model inputs, each row is their concatenation in graph order).
    #[arg(long)]
    pub calibration: Option<PathBuf>,
    /// Range of the seeded calibration inputs when no --calibration is given.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,1",
        num_args = 2,
        allow_negative_numbers = true
    )]
    pub input_range: Vec<f32>,
    /// Number of seeded calibration inputs.
    #[arg(long, default_value_t = 16)]
    pub samples: usize,
    /// Input shape fixing symbolic dimensions (comma-separated); default batch 1.
    #[arg(long, value_delimiter = ',')]
    pub input_shape: Option<Vec<usize>>,
}

/// A loaded model: decoded from a `.gkrm`, or imported from ONNX.
pub enum Loaded {
    Compiled(Box<Model>),
    Imported(Box<Imported>),
}

impl Loaded {
    pub fn model(&self) -> &Model {
        match self {
            Loaded::Compiled(m) => m,
            Loaded::Imported(i) => &i.model,
        }
    }

    pub fn into_model(self) -> Model {
        match self {
            Loaded::Compiled(m) => *m,
            Loaded::Imported(i) => i.model,
        }
    }
}

/// Loads `path`: a `.gkrm` is decoded; anything else is imported as ONNX (its digest and its
/// int8-vs-float accuracy on the calibration inputs printed to stderr unless `quiet`). Symbolic
/// input dimensions are fixed from `input` (the file to be proved) unless --input-shape is given.
pub fn load_model(
    path: &Path,
    options: &CompileOptions,
    input: Option<&Path>,
    quiet: bool,
) -> Result<Loaded> {
    if path.extension().is_some_and(|e| e == "gkrm") {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let model = Model::decode(&bytes)
            .with_context(|| format!("{} is not a valid compiled model", path.display()))?;
        tracing::info!(model = %path.display(), layers = model.layers.len(), "decoded");
        return Ok(Loaded::Compiled(Box::new(model)));
    }
    let &[lo, hi] = options.input_range.as_slice() else { bail!("--input-range takes lo,hi") };
    let spinner = spinner(quiet, &format!("compiling {}", path.display()));
    let mut shape = options.input_shape.clone();
    if let (None, Some(input)) = (&shape, input) {
        let graph = onnx::Graph::from_proto(&onnx::read_proto(path)?)?;
        let symbolic = |i: &onnx::graph::GraphInput| {
            i.dims.iter().any(|d| matches!(d, onnx::graph::Dim::Symbol(_)))
        };
        // one input: its symbolic dimensions from the input's; several take their declared ones
        if graph.inputs.len() == 1 && graph.inputs.iter().any(symbolic) {
            let raw = read_raw_input(input)?;
            shape = Some(raw.dims);
        }
    }
    // without --calibration, a float input to be proven joins the seeded calibration inputs
    let proven: Option<Vec<f32>> = match (&options.calibration, input) {
        (None, Some(p)) => read_raw_input(p)
            .ok()
            .filter(|r| !r.integer)
            .map(|r| r.values.iter().map(|&v| v as f32).collect()),
        _ => None,
    };
    let imported = import_with(
        path,
        shape,
        options.calibration.as_deref(),
        (lo, hi),
        options.samples,
        proven.as_deref(),
    )?;
    spinner.finish_and_clear();
    tracing::info!(
        model = %path.display(),
        kind = ?imported.kind,
        layers = imported.model.layers.len(),
        parameters = imported.parameters,
        "compiled"
    );
    if !quiet {
        eprintln!(
            "compiled {} on the fly: digest {}",
            path.display(),
            hex(&imported.model.digest())
        );
        for note in &imported.notes {
            eprintln!("note: {note}");
        }
        let len = onnx::source_input_len(&imported.model);
        let inputs = match &options.calibration {
            Some(c) => super::compile::read_inputs(c, len)?,
            None if imported.model.io().and_then(|io| io.embedding()).is_some() => {
                onnx::sample_inputs(&imported.model, options.samples.max(1), (lo, hi), 0)
            }
            None => default_calibration(options.samples, (lo, hi), proven.as_deref(), len),
        };
        if options.calibration.is_none() && proven.as_ref().is_some_and(|x| x.len() == len) {
            eprintln!(
                "note: calibrated on the input to be proven and {} seeded inputs over its range \
                 (the digest depends on this input; compile with --calibration for one that \
                 does not)",
                options.samples.max(1)
            );
        }
        let acc = onnx::accuracy(&imported, &inputs, None)?;
        eprintln!(
            "accuracy: int8 vs float on the {} calibration inputs: max |Δ| {:.4}, mean |Δ| {:.4}, argmax agreement {:.2} %",
            acc.samples,
            acc.max_abs_error,
            acc.mean_abs_error,
            acc.argmax_agreement * 100.0
        );
    }
    Ok(Loaded::Imported(Box::new(imported)))
}

/// A float or integer input array: values and shape.
pub struct RawInput {
    pub dims: Vec<usize>,
    pub values: Vec<f64>,
    pub integer: bool,
    /// The length of each list of a JSON `input_data` (empty for `.npy`).
    pub lists: Vec<usize>,
}

/// Reads an input: `.npy` (integer dtypes are int8 values taken as they are, float dtypes are
/// quantized), or `.json` as ezkl writes it, `{"input_data": [[…]]}` (all-integer literals are
/// taken as int8 values). The values are flattened; `lists` holds the length of each list of
/// `input_data` (ezkl writes one per model input), empty for `.npy`. A comma-separated list of
/// files that does not name a file itself (`a.npy,b.npy`) is one array per model input, their
/// values concatenated (integer only when every file is).
pub fn read_raw_input(path: &Path) -> Result<RawInput> {
    let shown = path.to_string_lossy();
    if !path.exists() && shown.contains(',') {
        let (mut values, mut lists, mut integer) = (Vec::new(), Vec::new(), true);
        for p in shown.split(',') {
            let one = read_raw_input(Path::new(p))?;
            if one.lists.len() > 1 {
                bail!("{p}: a file of a comma-separated input holds one input, it has several");
            }
            integer &= one.integer;
            lists.push(one.values.len());
            values.extend(one.values);
        }
        return Ok(RawInput { dims: vec![values.len()], values, integer, lists });
    }
    if path.extension().is_some_and(|e| e == "json") {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let v: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid JSON", path.display()))?;
        let data = v
            .get("input_data")
            .with_context(|| format!("{}: no \"input_data\" key", path.display()))?;
        let rows: Vec<&serde_json::Value> = match data {
            serde_json::Value::Array(a) if a.iter().all(|r| r.is_array()) => a.iter().collect(),
            serde_json::Value::Array(_) => vec![data],
            _ => bail!("{}: \"input_data\" must be an array of arrays of numbers", path.display()),
        };
        let mut values = Vec::new();
        let mut integer = true;
        let mut lists = Vec::with_capacity(rows.len());
        for row in rows {
            let before = values.len();
            flatten_json(row, &mut values, &mut integer)
                .with_context(|| format!("{}: \"input_data\"", path.display()))?;
            lists.push(values.len() - before);
        }
        return Ok(RawInput { dims: vec![values.len()], values, integer, lists });
    }
    let (dims, values) = onnx::read_npy(path)?;
    let npy = npyz::NpyFile::new(std::io::BufReader::new(std::fs::File::open(path)?))?;
    let integer = match npy.dtype() {
        npyz::DType::Plain(ts) => ts.type_char() != npyz::TypeChar::Float,
        _ => false,
    };
    Ok(RawInput { dims, values, integer, lists: Vec::new() })
}

fn flatten_json(v: &serde_json::Value, out: &mut Vec<f64>, integer: &mut bool) -> Result<()> {
    match v {
        serde_json::Value::Array(a) => a.iter().try_for_each(|x| flatten_json(x, out, integer)),
        serde_json::Value::Number(n) => {
            *integer &= n.is_i64() || n.is_u64();
            let v = n.as_f64().filter(|v| v.is_finite());
            out.push(v.with_context(|| format!("{n} at index {} is out of range", out.len()))?);
            Ok(())
        }
        other => bail!("{other} is not a number"),
    }
}

/// The model's int8 input from a file; the shape must be the model's (leading 1s aside). A
/// model with several inputs takes a JSON `input_data` of one list per input (graph order),
/// each of its input's length, or one flat list (or a 1-D `.npy`) of their concatenation.
pub fn read_input(path: &Path, model: &Model) -> Result<Tensor> {
    let raw = read_raw_input(path)?;
    let want = &model.input_dims;
    if let Some(e) = model.io().and_then(|io| io.embedding()) {
        // token ids: their rows of the model's embedding table (an id outside it is refused)
        return Ok(Tensor::new(
            want.clone(),
            e.rows(&raw.values).with_context(|| path.display().to_string())?,
        )?);
    }
    let parts = model.input_parts();
    let json = path.extension().is_some_and(|e| e == "json");
    if parts.len() > 1 && raw.lists.len() > 1 {
        if raw.lists.len() != parts.len() {
            let n = raw.lists.len();
            bail!(
                "{}: {}; the model takes {} inputs ({})",
                path.display(),
                if json { format!("\"input_data\" has {n} lists") } else { format!("{n} files") },
                parts.len(),
                parts
                    .iter()
                    .map(|p| format!("{:?} of shape {:?}", p.name, p.dims))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        let list = if json { "\"input_data\" list" } else { "file" };
        for (k, (p, &n)) in parts.iter().zip(&raw.lists).enumerate() {
            if n != p.len() {
                bail!(
                    "{}: {list} {k} has shape [{n}] ({n} values); the model's input {k} {:?} has \
                     shape {:?} ({} values)",
                    path.display(),
                    p.name,
                    p.dims,
                    p.len()
                );
            }
        }
    }
    let squeeze = |d: &[usize]| -> Vec<usize> {
        let first = d.iter().position(|&x| x != 1).unwrap_or(d.len());
        d[first..].to_vec()
    };
    // JSON, or one file per input: the values' count is what must fit
    let json_flat = json || raw.lists.len() > 1;
    let len: usize = want.iter().product();
    let fits =
        if json_flat { raw.values.len() == len } else { squeeze(&raw.dims) == squeeze(want) };
    if !fits {
        bail!(
            "{} has shape {:?} ({} values); the model takes an input of shape {want:?} ({len} values)",
            path.display(),
            raw.dims,
            raw.values.len()
        );
    }
    if raw.integer {
        if let Some(v) = raw.values.iter().find(|v| !(-128.0..=127.0).contains(*v)) {
            bail!("{}: integer input value {v} is not an int8", path.display());
        }
        return Ok(Tensor::new(want.clone(), raw.values.iter().map(|&v| v as i64).collect())?);
    }
    let floats: Vec<f32> = raw.values.iter().map(|&v| v as f32).collect();
    if let Some((i, v)) = raw.values.iter().enumerate().find(|(_, v)| !(**v as f32).is_finite()) {
        bail!("{}: value {v} at index {i} is not a finite float32", path.display());
    }
    Ok(onnx::quantize_input(model, &floats)?)
}

/// The proven output as JSON: integers, dequantized values, the prediction (the first
/// output's); with several outputs also `outputs`, one object per output (name, shape,
/// integers, values, whether they are indices, quantization).
pub fn output_json(model: &Model, out: &Tensor) -> serde_json::Value {
    let real = onnx::dequantize_output(model, out);
    let parts = model.output_parts();
    let predictions: Vec<i64> = parts.first().map_or_else(Vec::new, |p| {
        onnx::predictions(p, &real.get(p.offset..).unwrap_or_default()[..p.len().min(real.len())])
    });
    // one class per row; a single number for a batch of one
    let predicted = match predictions[..] {
        [one] => serde_json::json!(one),
        _ => serde_json::json!(predictions),
    };
    let io = model.io();
    let single = io.and_then(|io| io.single_output());
    let mut v = serde_json::json!({
        "model": model.name,
        "digest": hex(&model.digest()),
        "shape": out.dims,
        "output_int": out.data,
        "output": real,
        "scale": single.map(|q| q.scale),
        "zero_point": single.map(|q| q.zero),
        "softmax_applied": io.is_some_and(|q| q.softmax()),
        "predicted": predicted,
    });
    if let Some(OutputQuant::Parts(parts)) = io.map(|io| &io.output) {
        v["outputs"] = parts.iter().map(|p| part_json(p, out)).collect();
    }
    if let Some(InputQuant::Parts(parts)) = io.map(|io| &io.input) {
        v["inputs"] = parts
            .iter()
            .map(|p| serde_json::json!({"name": p.name, "shape": p.dims, "offset": p.offset}))
            .collect();
    }
    v
}

/// One output of several, as `output_json` lists it (indices read as themselves, integers).
fn part_json(p: &OutputPart, out: &Tensor) -> serde_json::Value {
    let ints = onnx::part_values(p, &out.data);
    let output = if p.index {
        serde_json::json!(ints)
    } else {
        serde_json::json!(onnx::dequantize_part(p, ints))
    };
    serde_json::json!({
        "name": p.name,
        "shape": p.dims,
        "output_int": ints,
        "output": output,
        "index": p.index,
        "scale": p.q.scale,
        "zero_point": p.q.zero,
    })
}

/// `outputs` of [`output_json`] copied into `obj` when the model has several outputs.
pub fn add_outputs(obj: &mut serde_json::Value, out: &serde_json::Value) {
    if !out["outputs"].is_null() {
        obj["outputs"] = out["outputs"].clone();
    }
    if !out["inputs"].is_null() {
        obj["inputs"] = out["inputs"].clone();
    }
}

/// The text lines of a proven output [`output_json`], each starting with `label`: the values
/// and the class, or with several outputs one line per output, by name.
pub fn output_text(label: &str, out: &serde_json::Value) -> Vec<String> {
    let mut lines = Vec::new();
    // a model with several inputs: their names and shapes first
    if let Some(inputs) = out["inputs"].as_array() {
        let named: Vec<String> = inputs
            .iter()
            .map(|p| format!("{} {}", p["name"].as_str().unwrap_or("?"), p["shape"]))
            .collect();
        lines.push(format!("{:<width$}{}", "inputs", named.join(", "), width = label.len() + 1));
    }
    lines.extend(match out["outputs"].as_array() {
        Some(parts) => parts
            .iter()
            .map(|p| format!("{label} {} {}", p["name"].as_str().unwrap_or("?"), p["output"]))
            .collect(),
        None => vec![format!("{label} {} (class {})", out["output"], out["predicted"])],
    });
    lines
}

pub fn write_output(path: &Path, model: &Model, out: &Tensor) -> Result<()> {
    let text = serde_json::to_string_pretty(&output_json(model, out))?;
    std::fs::write(path, text + "\n").with_context(|| format!("cannot write {}", path.display()))
}

/// A spinner on stderr when it is a terminal (hidden otherwise, or with --quiet).
pub fn spinner(quiet: bool, message: &str) -> indicatif::ProgressBar {
    if quiet {
        return indicatif::ProgressBar::hidden();
    }
    let p = indicatif::ProgressBar::new_spinner();
    p.set_message(message.to_string());
    p.enable_steady_tick(std::time::Duration::from_millis(120));
    p
}

/// Peak resident memory of this process in bytes (Linux `VmHWM`), if known.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak resident memory (Linux: write 5 to `/proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The proven output against the float model on the same input (ONNX models with a float
/// input): computed by the prover, not part of the proof.
pub struct InputAccuracy {
    pub max_abs_error: f64,
    /// max |Δ| over the float output's range (max − min; 1 for a constant output).
    pub relative_error: f64,
    pub argmax_agrees: bool,
    pub reference: &'static str,
    /// Per requantization layer that clamped any value of this input: (layer, values at the
    /// int8 limits −128/127 that the layer clamps to, the layer's size).
    pub saturated: Vec<(usize, usize, usize)>,
}

/// The requantization layers of `model` whose outputs on `witness` sit at a clamp bound that
/// is an int8 limit (−128 or 127; a fused ReLU's lower bound is not counted): (layer, count,
/// size). A value there is clamped, or exactly at the end of its calibrated range.
pub fn saturation(model: &Model, witness: &gkrnet::circuit::Witness) -> Vec<(usize, usize, usize)> {
    use gkrnet::circuit::requant::RequantSpec;
    use gkrnet::circuit::threshold::ThresholdSpec;
    let mut out = Vec::new();
    for (i, layer) in model.layers.iter().enumerate() {
        let spec = layer.spec();
        let Some(r) = spec.op::<RequantSpec>().or_else(|| spec.op::<ThresholdSpec>().map(|t| &t.0))
        else {
            continue;
        };
        let Some(t) = witness.tensors.get(i + 1) else { continue };
        let at_limit = |v: i64| (r.hi == 127 && v == 127) || (r.lo == -128 && v == -128);
        let count = t.data.iter().filter(|&&v| at_limit(v)).count();
        if count > 0 {
            out.push((i, count, t.data.len()));
        }
    }
    out
}

impl InputAccuracy {
    /// The report for `input`, or `None` when there is no float model to compare with (a
    /// compiled `.gkrm`, an integer input) or its output does not match in size.
    pub fn of(loaded: &Loaded, input: &Path, proven: &Tensor) -> Result<Option<Self>> {
        let Loaded::Imported(imported) = loaded else { return Ok(None) };
        let raw = read_raw_input(input)?;
        if raw.integer {
            return Ok(None);
        }
        let floats: Vec<f32> = raw.values.iter().map(|&v| v as f32).collect();
        let float = imported.reference.output(&floats)?;
        let ours = onnx::dequantize_output(&imported.model, proven);
        if float.len() != ours.len() || float.is_empty() {
            return Ok(None);
        }
        // part by part: values by their error and argmax, indices exactly
        let c = onnx::OutputComparison::of(&imported.model, &float, &ours)?;
        let range = match c.range {
            Some((lo, hi)) if hi > lo => hi - lo,
            _ => 1.0,
        };
        let q = imported.quantize_input(&floats)?;
        let saturated = saturation(&imported.model, &imported.model.forward(&q)?);
        Ok(Some(Self {
            max_abs_error: c.max_abs_error,
            relative_error: c.max_abs_error / range,
            argmax_agrees: c.agreeing == c.predictions,
            reference: if imported.notes.iter().any(|n| n.contains(onnx::rewrite::REWRITTEN)) {
                "tract's float run, on this input, of the ONNX graph with its non-standard ops \
                 rewritten into standard ones (see the notes)"
            } else {
                "tract's float run of the ONNX graph on this input"
            },
            saturated,
        }))
    }

    /// Whether to warn: above 5 % of the output's range, or another argmax.
    pub fn alarming(&self) -> bool {
        self.relative_error > 0.05 || !self.argmax_agrees
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "proven": false,
            "reference": self.reference,
            "max_abs_error": self.max_abs_error,
            "relative_error": self.relative_error,
            "argmax_agrees": self.argmax_agrees,
            "saturated": self.saturated.iter().map(|&(layer, count, size)| {
                serde_json::json!({"layer": layer, "count": count, "size": size})
            }).collect::<Vec<_>>(),
        })
    }
}
