//! Lowering: ONNX nodes → circuit layers.
//!
//! Every ONNX tensor gets a [`Value`]: a constant, a dequantized integer constant, an int8
//! circuit tensor with its (scale, zero point), or a *pending* affine form
//! `real = mult[c]·V + offset[c]`, clamped to [lo, hi], over an accumulator V that is not yet
//! requantized (V = a dense/conv accumulator still to be built, or a sum Σ sᵢ·(xᵢ − zᵢ) of int8
//! tensors). Biases, BatchNormalization, Relu/Clip, Add/Sub/Mul/Div by constants and
//! Dequantize/Quantize pairs only change the form; a pending value becomes one requantization
//! layer where a consumer needs int8 (a matmul/conv input, pooling, wiring, an activation table,
//! a graph output), at the parameters of the next QuantizeLinear when the graph names them
//! (through ops that commute with quantization), else at its calibrated range.
//!
//! This file holds the values and the driver ([`lower`]). Which ops are lowered, by which
//! function, and what each needs of its node is one table, [`registry`] (its checks live in
//! [`accepts`]); the lowering of each kind of op lives in [`patterns`] (fused patterns, BatchNorm
//! folding), [`pending`] (affine forms, requantization, Identity/Cast, Relu/Clip, Mul/Div,
//! BatchNormalization), [`linear`] (dense and convolutions) and [`ops`] (activations, pooling,
//! wiring, Pad, Concat, Add, Softmax).
//!
//! A graph with several outputs is proved as one tensor: each output (at its own quantization,
//! or ArgMax indices) is reshaped to 1-D and the parts are concatenated in graph order; the part
//! table ([`OutputPart`]) in the model's io says how to read them back.
//!
//! A graph with several inputs mirrors it: the circuit's input tensor is 1-D, every input
//! flattened and concatenated in graph order, each quantized at its own parameters; each ONNX
//! input starts as a [`Take`] of its slice, at its own dimensions. The input part table
//! ([`InputPart`]) says where each input sits. One calibration sample is the concatenation of
//! all inputs (graph order); each input is calibrated on its own slice.

use super::graph::{Const, Dtype, Graph, Node};
use super::reference::{FloatReference, Named};
use super::{random_inputs, GraphKind, ImportError, ImportOptions, Imported};
use crate::circuit::requant::channels;
use crate::circuit::take::Take;
use crate::circuit::zoo::{common_shift, Builder};
use crate::circuit::{
    channel_of, ActivationLayer, Concat, Conv, ConvGeometry, Dense, InputPart, InputQuant, IoQuant,
    Multiplier, OutputPart, OutputQuant, QParams, Scaled, TensorId, Wiring,
};
use crate::quant::Activation;
use std::collections::{HashMap, HashSet};

mod accepts;
mod computed;
mod lift;
mod linear;
mod masks;
mod norm;
mod operands;
mod ops;
mod patterns;
mod pending;
mod registry;
mod rotary;
mod tokens;

pub use registry::{support, supported_ops, NodeSupport};

/// A linear layer not yet built (its bias can still absorb per-channel constants).
#[derive(Clone, Debug)]
struct Linear {
    x: TensorId,
    in_dims: Vec<usize>,
    zero: i32,
    weights: Vec<i8>,
    features: usize,
    /// Conv geometry (and output padding for ConvTranspose); `None`: dense.
    conv: Option<(ConvGeometry, Option<[usize; 2]>)>,
}

#[derive(Clone, Debug)]
enum Src {
    Linear(Linear),
    /// Σ sᵢ·(xᵢ − zᵢ) over integer tensors (int8, or the wider sums and products of int8).
    Sum(Vec<Term>),
}

/// One integer tensor of a [`Src::Sum`]: real = scale·(x − zero), |x| ≤ bound.
#[derive(Clone, Copy, Debug)]
struct Term {
    id: TensorId,
    scale: f64,
    zero: i64,
    bound: i128,
}

impl Term {
    /// An int8 tensor with its quantization parameters.
    fn int8(id: TensorId, q: QParams) -> Self {
        Self { id, scale: q.scale, zero: q.zero as i64, bound: 128 }
    }
}

#[derive(Clone, Debug)]
struct Pending {
    src: Src,
    dims: Vec<usize>,
    /// Per channel (length 1: the whole tensor).
    mult: Vec<f64>,
    offset: Vec<f64>,
    lo: f64,
    hi: f64,
}

#[derive(Clone, Debug)]
enum Value {
    Const(Const),
    /// DequantizeLinear of an integer constant: scale/zero per tensor or along `axis`.
    QConst {
        q: Const,
        scale: Vec<f64>,
        zero: Vec<f64>,
        axis: usize,
    },
    Int {
        id: TensorId,
        dims: Vec<usize>,
        q: QParams,
    },
    /// An int8 tensor with zero padding [top, left, bottom, right] still to apply (by a conv).
    Padded {
        id: TensorId,
        dims: Vec<usize>,
        q: QParams,
        pads: [usize; 4],
    },
    Pending(Pending),
    /// Indices (ArgMax's output): integers, not int8; only graph outputs may take them.
    Index {
        id: TensorId,
    },
}

/// A BatchNormalization folded into the layer before it: per-channel scale and shift, and the
/// name of its output (which takes the layer's value).
type FoldedBatchNorm = (Vec<f64>, Vec<f64>, String);

/// Nodes folded into a pattern: the node that finishes it emits the fused op.
#[derive(Clone, Debug)]
enum Fused {
    /// x·Φ(x) written with Erf.
    Gelu { x: String },
    /// ½x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) written out.
    GeluTanh { x: String },
    /// A layer norm written out (ReduceMean, Sub, Pow, ReduceMean, Add ε, Sqrt, Div, then γ and
    /// β as constants when present).
    LayerNorm { x: String, eps: f64, gamma: Option<String>, beta: Option<String>, rms: bool },
    /// x·HardSigmoid(x) (opset < 14 exports).
    HardSwish { x: String },
    /// A rotary position embedding x·cos + rotate_half(x)·sin (`patterns::rotary`): the
    /// constants' names and the nodes of the slices that take the low and the high half.
    Rotary { x: String, cos: String, sin: String, lo: usize, hi: usize },
    /// A BatchNormalization folded into the float weights of the conv/dense layer before it.
    BatchNorm,
}

struct Lower<'g> {
    g: &'g Graph,
    b: Builder,
    values: HashMap<String, Value>,
    ranges: HashMap<String, (f64, f64)>,
    shapes: HashMap<String, Vec<usize>>,
    fused: HashMap<usize, Fused>,
    skipped: HashSet<usize>,
    /// The values of shape arithmetic ([`Graph::folded_nodes`]), evaluated by tract.
    folded: HashMap<String, Const>,
    names: Vec<(String, TensorId)>,
    /// ONNX tensors of an integer type (what the int8 circuit tensors are compared with).
    integer: HashSet<String>,
    notes: Vec<String>,
    /// The graph outputs that end with a final Softmax, each with the Softmax's input: the
    /// tensor the proof covers in its place.
    softmax: HashMap<String, String>,
    /// Tensors with a constant attention mask added (`add_mask`): one 0/1 per element, 0 where
    /// the Softmax that reads the tensor must give exactly 0.
    masks: HashMap<String, Vec<i8>>,
    /// Additive attention masks computed from a mask input (`masks.rs`), by tensor name.
    derived: HashMap<String, masks::DerivedMask>,
    /// Tensors with such a mask added: one circuit input entry per element, the gate of the
    /// Softmax that reads the tensor.
    gates: HashMap<String, Vec<usize>>,
    /// The gate tensors made so far, by their input entries.
    gate_ids: HashMap<Vec<usize>, TensorId>,
    /// The inputs beside token ids, in graph order: 0/1 masks and ids with tables of their own.
    mask_inputs: Vec<crate::circuit::io::MaskInput>,
    /// The embedding Gathers of those side ids.
    side_tables: Vec<patterns::EmbeddingPattern>,
    /// The token ids' embedding, when the input is ids.
    embedding: Option<patterns::EmbeddingPattern>,
    parameters: usize,
}

fn unsupported(n: &Node, reason: impl Into<String>) -> ImportError {
    ImportError::Unsupported { op: n.op.clone(), node: n.name.clone(), reason: reason.into() }
}

fn node_error(n: &Node, reason: impl Into<String>) -> ImportError {
    ImportError::Node { op: n.op.clone(), node: n.name.clone(), reason: reason.into() }
}

/// Constants at or below this are an attention mask's masked positions (`add_mask`).
pub(super) const MASKED: f64 = -1e4;

/// Calibrated int8 parameters of a real range (ONNX/onnxruntime MinMax, asymmetric): the range is
/// widened to contain 0, scale = (hi − lo)/255, zero = round(−128 − lo/scale).
pub fn minmax_params(lo: f64, hi: f64) -> QParams {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = if hi - lo > 1e-30 { (hi - lo) / 255.0 } else { 1.0 };
    let zero = (-128.0 - lo / scale).round_ties_even().clamp(-128.0, 127.0) as i32;
    QParams { scale, zero }
}

pub(super) fn lower(
    proto: &tract_onnx::pb::ModelProto,
    g: &Graph,
    name: &str,
    input_shapes: &[Vec<usize>],
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    if input_shapes.len() != g.inputs.len() {
        return Err(ImportError::Graph(format!(
            "{} input shapes for the graph's {} inputs",
            input_shapes.len(),
            g.inputs.len()
        )));
    }
    let input_dims = &super::graph::circuit_input_dims(input_shapes)[..];
    let kind = if g.nodes.iter().any(|n| n.op.starts_with("QLinear") || n.op.ends_with("Integer")) {
        GraphKind::QOperator
    } else if g.nodes.iter().any(|n| n.op == "QuantizeLinear" || n.op == "DequantizeLinear") {
        GraphKind::Qdq
    } else {
        GraphKind::Float
    };
    // before tract sees the graph: every op registered (so an op tract does not know is still
    // named by gkrnet), then every node passing its op's check
    let cx = operands::Context::new(g);
    // token ids: one input, the indices of an embedding Gather; other integer inputs beside
    // them are 0/1 masks (`masks.rs`), whose own nodes are not proved
    // (more integer inputs read by embedding Gathers, BERT's token type ids, are side inputs
    // with tables of their own)
    let embedding = cx.patterns.embeddings.first().cloned();
    let side_tables: Vec<patterns::EmbeddingPattern> =
        cx.patterns.embeddings.iter().skip(1).cloned().collect();
    let is_embedded = |name: &str| cx.patterns.embeddings.iter().any(|e| e.input == name);
    let mask_names: Vec<String> = g
        .inputs
        .iter()
        .filter(|i| i.integer && !is_embedded(&i.name))
        .map(|i| i.name.clone())
        .collect();
    if let (Some(e), Some(other)) = (&embedding, g.inputs.iter().find(|i| !i.integer)) {
        return Err(ImportError::Graph(format!(
            "the float input {:?} beside the token ids {:?}: a model of ids takes ids and 0/1 \
             masks only",
            other.name, e.input
        )));
    }
    if let Some(ids) = mask_names.first() {
        if embedding.is_none() {
            return Err(ImportError::Graph(format!(
                "the int64 input {ids:?} is not read by one Gather of a constant embedding table \
                 (token ids only select embedding rows; other integer inputs are 0/1 masks \
                 beside token ids)"
            )));
        }
    }
    let sub = masks::subgraph(g, &cx.folded, &mask_names)?;
    for (i, n) in g.nodes.iter().enumerate() {
        if !cx.folded.contains(&i) && !sub.nodes.contains(&i) {
            registry::lookup(n).map_err(|reason| unsupported(n, reason))?;
        }
    }
    for (i, n) in g.nodes.iter().enumerate() {
        if !sub.nodes.contains(&i) {
            registry::check(&cx, i, n).map_err(|reason| unsupported(n, reason))?;
        }
    }
    let (patterns, folded_nodes) = (cx.patterns, cx.folded);
    let vocab = match &embedding {
        Some(e) => g.consts.get(&e.table).map_or(1, |c| c.dims[0]),
        None => 0,
    };
    // calibration: every tensor a node produces, on the calibration inputs, through tract
    let mut wanted: Vec<String> = g.inputs.iter().map(|i| i.name.clone()).collect();
    for n in &g.nodes {
        wanted.extend(n.outputs.iter().filter(|o| !o.is_empty()).cloned());
    }
    let calib = FloatReference::with_inputs(proto, input_shapes, &g.outputs, &wanted)?;
    let len: usize = input_dims.iter().product();
    // each graph input's (offset, length) in the source input
    let mut spans = Vec::with_capacity(g.inputs.len());
    for dims in input_shapes {
        let at = spans.last().map_or(0, |&(o, l)| o + l);
        spans.push((at, dims.iter().product::<usize>()));
    }
    let is_mask: Vec<bool> = g.inputs.iter().map(|i| mask_names.contains(&i.name)).collect();
    // each input's vocabulary (0: a mask)
    let vocabs: Vec<usize> = (g.inputs.iter())
        .map(|i| {
            let side = side_tables.iter().find(|e| e.input == i.name);
            match side.and_then(|e| g.consts.get(&e.table)) {
                Some(c) => c.dims.first().copied().unwrap_or(1),
                None if mask_names.contains(&i.name) => 0,
                None => vocab,
            }
        })
        .collect();
    let inputs = match &options.calibration {
        Some(c) => c.clone(),
        // seeded token ids, uniform over their vocabularies; masks all 1
        None if vocab > 0 => random_inputs(len, options.samples.max(1), (0.0, 1.0), options.seed)
            .into_iter()
            .map(|mut x| {
                for (k, &(at, n)) in spans.iter().enumerate() {
                    let v = vocabs[k].max(1);
                    for u in x.iter_mut().skip(at).take(n) {
                        *u = if is_mask[k] {
                            1.0
                        } else {
                            ((*u * v as f32) as usize).min(v - 1) as f32
                        };
                    }
                }
                x
            })
            .collect(),
        None => random_inputs(len, options.samples.max(1), options.input_range, options.seed),
    };
    let mut ranges: HashMap<String, (f64, f64)> = HashMap::new();
    let mut folded: HashMap<String, Const> = HashMap::new();
    let mut shapes: HashMap<String, Vec<usize>> = HashMap::new();
    for x in &inputs {
        if x.len() != len {
            return Err(ImportError::InputShape {
                expected: format!("{input_dims:?}"),
                got: vec![x.len()],
            });
        }
        let run: HashMap<String, (Named, bool)> = calib.run_typed(x)?;
        if folded.is_empty() {
            // shape arithmetic: the same values for every input, read from the first
            for &i in &folded_nodes {
                for o in g.nodes[i].outputs.iter().filter(|o| !o.is_empty()) {
                    let ((dims, data), float) = run.get(o).cloned().ok_or_else(|| {
                        ImportError::Graph(format!("tract computes no value for tensor {o:?}"))
                    })?;
                    let dtype = if float { Dtype::F64 } else { Dtype::I64 };
                    folded.insert(o.clone(), Const { dims, dtype, data });
                }
            }
        }
        for (k, ((dims, v), _)) in run {
            let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            let e = ranges.entry(k.clone()).or_insert((lo, hi));
            *e = (e.0.min(lo), e.1.max(hi));
            shapes.insert(k, dims);
        }
    }
    // the circuit input of ids with masks: rows ‖ masks ‖ 0, 1 (`circuit::io::Embedding`)
    let rows_dims = match &embedding {
        Some(e) => Some(shapes.get(&e.rows).cloned().ok_or_else(|| {
            ImportError::Graph(format!("tract gives no shape for tensor {:?}", e.rows))
        })?),
        None => None,
    };
    let rows_len: usize = rows_dims.as_ref().map_or(0, |d| d.iter().product());
    let mut layout = masks::MaskLayout { masks: Vec::new(), zero: 0, one: 0 };
    let mut mask_inputs = Vec::new();
    let main = embedding.as_ref().map(|e| e.input.clone());
    let mut next = rows_len;
    for (k, input) in g.inputs.iter().enumerate() {
        if Some(&input.name) == main.as_ref() || !input.integer {
            continue;
        }
        let table = match side_tables.iter().find(|e| e.input == input.name) {
            Some(e) => Some(tokens::side_table(g, e)?),
            None => {
                layout.masks.push((spans[k].0, spans[k].1, next));
                None
            }
        };
        let m = crate::circuit::io::MaskInput {
            name: input.name.clone(),
            dims: input_shapes[k].clone(),
            table,
        };
        next += m.entries();
        mask_inputs.push(m);
    }
    layout.zero = next;
    layout.one = layout.zero + 1;
    let derived = match inputs.first() {
        Some(base) if !sub.exits.is_empty() => {
            masks::probe(&calib, &sub, &layout, base, options.seed)?
        }
        _ => HashMap::new(),
    };
    drop(calib);
    // each input's range is that of its slice of the calibration inputs
    let mut offset = 0usize;
    for (input, dims) in g.inputs.iter().zip(input_shapes) {
        let len: usize = dims.iter().product();
        let (lo, hi) = inputs
            .iter()
            .flat_map(|x| x.iter().skip(offset).take(len))
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x as f64), b.max(x as f64)));
        ranges.insert(input.name.clone(), (lo, hi));
        offset += len;
    }
    let reference = FloatReference::with_inputs(proto, input_shapes, &g.outputs, &[])?;
    let mut l = Lower {
        g,
        b: Builder::new(match rows_dims {
            // the circuit's input: the ids' embedding rows (and the masks)
            Some(_) if !mask_inputs.is_empty() => vec![layout.one + 1],
            Some(dims) => dims,
            None => input_dims.to_vec(),
        }),
        values: HashMap::new(),
        ranges,
        shapes,
        fused: patterns.fused,
        skipped: patterns.skipped.union(&folded_nodes).chain(&sub.nodes).copied().collect(),
        folded,
        names: Vec::new(),
        integer: integer_tensors(g),
        notes: Vec::new(),
        softmax: HashMap::new(),
        masks: HashMap::new(),
        derived,
        gates: HashMap::new(),
        gate_ids: HashMap::new(),
        mask_inputs,
        side_tables,
        embedding,
        parameters: 0,
    };
    l.notes.push(match &options.calibration {
        Some(c) => format!("activation ranges calibrated on {} given inputs", c.len()),
        None if vocab > 0 => format!(
            "activation ranges calibrated on {} seeded token-id sequences, uniform over the \
             vocabulary of {vocab}",
            inputs.len()
        ),
        None => format!(
            "activation ranges calibrated on {} seeded uniform inputs in [{}, {}]",
            inputs.len(),
            options.input_range.0,
            options.input_range.1
        ),
    });
    // what the rewrite into standard ops left outside the proof
    l.notes.extend(
        proto
            .metadata_props
            .iter()
            .filter(|p| p.key == super::rewrite::NOTE_KEY)
            .map(|p| p.value.clone()),
    );
    // the input: at the parameters of the QuantizeLinear that reads it, else calibrated
    let input_q = l.inputs(input_shapes)?;
    for (i, n) in g.nodes.iter().enumerate() {
        if l.skipped.contains(&i) {
            continue;
        }
        l.node(i, n)?;
    }
    let proved = g.outputs.iter().map(|o| l.proved_output(o)).collect::<Result<Vec<_>, _>>()?;
    let output = match &proved[..] {
        [one] => {
            if one.id == 0 {
                // an Identity-only graph: one reshape to the same dimensions proves output = input
                l.b.push(Wiring::reshape(0, input_dims, input_dims.to_vec())?);
                l.notes.push("the output is the input: the proof shows exactly that".into());
            }
            OutputQuant::Single { q: one.q, softmax: one.softmax }
        }
        several => OutputQuant::Parts(l.concat_outputs(several)?),
    };
    let Lower { b, names, notes, parameters, .. } = l;
    let model = b.finish(name)?.with_io(IoQuant { input: input_q, output })?;
    Ok(Imported { model, kind, parameters, names, notes, reference })
}

impl Lower<'_> {
    fn get(&self, name: &str, n: Option<&Node>) -> Result<Value, ImportError> {
        if let Some(v) = self.values.get(name) {
            return Ok(v.clone());
        }
        if let Some(c) = self.g.consts.get(name).or_else(|| self.folded.get(name)) {
            return Ok(Value::Const(c.clone()));
        }
        Err(match n {
            Some(n) => node_error(n, format!("input {name:?} is not computed before this node")),
            None => ImportError::Graph(format!("tensor {name:?} is never computed")),
        })
    }

    fn input(&self, n: &Node, i: usize) -> Result<Value, ImportError> {
        let name = n.input(i).ok_or_else(|| node_error(n, format!("missing input {i}")))?;
        self.get(name, Some(n))
    }

    fn constant(&self, n: &Node, i: usize) -> Result<Const, ImportError> {
        match self.input(n, i)? {
            Value::Const(c) => Ok(c),
            _ => Err(unsupported(n, format!("input {i} must be a constant"))),
        }
    }

    fn scalar(&self, n: &Node, i: usize) -> Result<f64, ImportError> {
        self.constant(n, i)?.scalar().ok_or_else(|| {
            unsupported(n, format!("input {i} must be a scalar (per-axis not supported)"))
        })
    }

    fn shape(&self, name: &str) -> Result<Vec<usize>, ImportError> {
        self.shapes
            .get(name)
            .cloned()
            .ok_or_else(|| ImportError::Graph(format!("tract gives no shape for tensor {name:?}")))
    }

    fn set(&mut self, n: &Node, v: Value) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?;
        if let Value::Int { id, .. } = &v {
            if self.integer.contains(out) {
                self.names.push((out.clone(), *id));
            }
        }
        self.values.insert(out.clone(), v);
        Ok(())
    }

    /// Parameters for materializing tensor `name`: those of the QuantizeLinear reached through
    /// ops that commute with quantization, else its calibrated range.
    fn target_params(&self, name: &str) -> Result<QParams, ImportError> {
        let mut cur = name.to_string();
        for _ in 0..self.g.nodes.len() + 1 {
            let consumers = self.g.consumers(&cur);
            let [c] = consumers[..] else { break };
            match c.op.as_str() {
                "QuantizeLinear" if c.input(0) == Some(cur.as_str()) => {
                    return self.quantize_params(c);
                }
                "Flatten" | "Reshape" | "Transpose" | "Identity" | "Dropout" | "Squeeze"
                | "Unsqueeze" | "MaxPool" => match c.outputs.first() {
                    Some(o) => cur = o.clone(),
                    None => break,
                },
                _ => break,
            }
        }
        let &(lo, hi) = self.ranges.get(name).ok_or_else(|| {
            ImportError::Graph(format!("no calibration range for tensor {name:?}"))
        })?;
        Ok(minmax_params(lo, hi))
    }

    /// The (scale, zero point) of a QuantizeLinear node, as int8 (uint8 shifted by −128).
    fn quantize_params(&self, n: &Node) -> Result<QParams, ImportError> {
        let scale = self.scalar(n, 1)?;
        let (zero, dtype) = match n.input(2) {
            Some(_) => {
                let z = self.constant(n, 2)?;
                (z.scalar().ok_or_else(|| unsupported(n, "a per-axis zero point"))?, z.dtype)
            }
            None => (0.0, Dtype::U8),
        };
        let zero = match dtype {
            Dtype::I8 => zero as i32,
            Dtype::U8 => zero as i32 - 128,
            d => {
                return Err(unsupported(n, format!("quantization to {d:?} (int8 and uint8 only)")))
            }
        };
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(node_error(n, format!("scale {scale}")));
        }
        Ok(QParams { scale, zero })
    }

    fn node(&mut self, i: usize, n: &Node) -> Result<(), ImportError> {
        if let Some(f) = self.fused.get(&i).cloned() {
            match f {
                Fused::Gelu { x } => return self.activation_named(n, &x, Activation::Gelu),
                Fused::GeluTanh { x } => return self.activation_named(n, &x, Activation::GeluTanh),
                Fused::LayerNorm { x, eps, gamma, beta, rms } => {
                    return self.layer_norm_of(n, &x, eps, [gamma, beta], rms)
                }
                Fused::Rotary { x, cos, sin, lo, hi } => {
                    return self.rotary(n, &x, [&cos, &sin], [lo, hi])
                }
                Fused::HardSwish { x } => {
                    return self.activation_named(n, &x, Activation::HardSwish)
                }
                Fused::BatchNorm => {
                    // folded into the producer: its value is already this node's output
                    return Ok(());
                }
            }
        }
        let entry = registry::lookup(n).map_err(|reason| unsupported(n, reason))?;
        (entry.lower)(self, n)
    }

    /// Sets an int8 output after checking its dimensions against tract's.
    fn set_checked(&mut self, n: &Node, id: TensorId, q: QParams) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let dims = self.b.dims(id);
        let want = self.shape(&out)?;
        if dims != want {
            return Err(node_error(
                n,
                format!("gkrnet computes dimensions {dims:?}, tract {want:?}"),
            ));
        }
        self.set(n, Value::Int { id, dims, q })
    }
}

/// One graph output as the circuit proves it.
#[derive(Clone, Debug)]
struct Proved {
    name: String,
    id: TensorId,
    q: QParams,
    /// ArgMax indices, not int8.
    index: bool,
    /// The output ends with a Softmax applied outside the proof (`id` is its input).
    softmax: bool,
}

impl Lower<'_> {
    /// Materializes graph output `name`, or the input of its final Softmax.
    fn proved_output(&mut self, name: &str) -> Result<Proved, ImportError> {
        let softmax = self.softmax.get(name).cloned();
        let last = softmax.clone().unwrap_or_else(|| name.to_string());
        let v = self.get(&last, None)?;
        let index = matches!(v, Value::Index { .. });
        let (id, q) = self.materialize(&last, v)?;
        Ok(Proved { name: name.to_string(), id, q, index, softmax: softmax.is_some() })
    }

    /// The one output tensor of several outputs: each reshaped to 1-D (when it is not), all
    /// concatenated in graph order. Returns the part table.
    fn concat_outputs(&mut self, outputs: &[Proved]) -> Result<Vec<OutputPart>, ImportError> {
        let mut parts = Vec::with_capacity(outputs.len());
        let (mut ids, mut in_dims) = (Vec::new(), Vec::new());
        let mut offset = 0usize;
        for p in outputs {
            let dims = self.b.dims(p.id);
            let len = crate::circuit::checked_entries(&dims)?;
            let id = match dims.len() {
                1 => p.id,
                _ => self.b.push(Wiring::reshape(p.id, &dims, vec![len])?),
            };
            ids.push(id);
            in_dims.push(vec![len]);
            parts.push(OutputPart {
                name: p.name.clone(),
                dims,
                q: p.q,
                index: p.index,
                softmax: p.softmax,
                offset,
            });
            offset = offset.checked_add(len).ok_or_else(|| {
                ImportError::Graph("the graph outputs have too many entries".into())
            })?;
        }
        self.b.push(Concat::new(ids, in_dims, 0)?);
        let names: Vec<&str> = outputs.iter().map(|p| p.name.as_str()).collect();
        self.notes.push(format!(
            "the graph's {} outputs ({}) are proved as one tensor: each flattened, concatenated in \
             graph order",
            outputs.len(),
            names.join(", ")
        ));
        Ok(parts)
    }
}

/// Where the output of a final Softmax goes, through Identity and Dropout nodes (each reading
/// the tensor once, as its first input; skl2onnx ends a classifier's probabilities with an
/// Identity): the graph outputs it reaches, and the ArgMax nodes that read it (an argmax is
/// invariant under softmax, so they read the Softmax's input instead).
#[derive(Debug)]
pub(super) struct SoftmaxReach<'g> {
    pub(super) outputs: Vec<&'g str>,
    pub(super) argmaxes: Vec<&'g Node>,
}

/// [`SoftmaxReach`] of tensor `name`; `None` when any other node reads it, or when it reaches
/// no output and no ArgMax (a Softmax that is not the last op).
pub(super) fn softmax_reach<'g>(g: &'g Graph, name: &'g str) -> Option<SoftmaxReach<'g>> {
    let mut reach = SoftmaxReach { outputs: Vec::new(), argmaxes: Vec::new() };
    let mut todo = vec![name];
    // the graph is acyclic when its nodes are in order; the bound guards a malformed one
    for _ in 0..=g.nodes.len() {
        let Some(cur) = todo.pop() else { break };
        if g.is_output(cur) {
            reach.outputs.push(cur);
        }
        for c in g.consumers(cur) {
            let once = c.inputs.iter().filter(|i| *i == cur).count() == 1;
            if !once || c.input(0) != Some(cur) {
                return None;
            }
            match c.op.as_str() {
                "Identity" | "Dropout" => todo.push(c.outputs.first()?),
                "ArgMax" => reach.argmaxes.push(c),
                _ => return None,
            }
        }
    }
    let reached = todo.is_empty() && !(reach.outputs.is_empty() && reach.argmaxes.is_empty());
    reached.then_some(reach)
}

/// The ONNX tensors of an integer type: outputs of QuantizeLinear and the QLinear ops, and of
/// ops that move integers around (pooling, reshapes) applied to them.
fn integer_tensors(g: &Graph) -> HashSet<String> {
    let mut out = HashSet::new();
    for n in &g.nodes {
        let int = match n.op.as_str() {
            "QuantizeLinear" | "QLinearConv" | "QLinearMatMul" => true,
            "MaxPool" | "Flatten" | "Reshape" | "Transpose" | "Identity" | "Squeeze"
            | "Unsqueeze" => n.input(0).is_some_and(|x| out.contains(x)),
            _ => false,
        };
        if int {
            out.extend(n.outputs.iter().take(1).cloned());
        }
    }
    out
}
