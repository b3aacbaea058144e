//! Lowering: ONNX nodes → circuit layers.
//!
//! Every ONNX tensor gets a [`Value`]: a constant, a dequantized integer constant, an int8
//! circuit tensor with its (scale, zero point), or a *pending* affine form
//! `real = mult[c]·V + offset[c]`, clamped to [lo, hi], over an accumulator V that is not yet
//! requantized (V = a dense/conv accumulator still to be built, or a sum Σ sᵢ·(xᵢ − zᵢ) of int8
//! tensors). Biases, BatchNormalization, Relu/Clip, Add/Sub/Mul/Div by constants and
//! Dequantize/Quantize pairs only change the form; a pending value becomes one requantization
//! layer where a consumer needs int8 (a matmul/conv input, pooling, wiring, an activation table,
//! the graph output), at the parameters of the next QuantizeLinear when the graph names them
//! (through ops that commute with quantization), else at its calibrated range.

use super::graph::{Const, Dtype, Graph, Node};
use super::reference::{FloatReference, Named};
use super::{random_inputs, GraphKind, ImportError, ImportOptions, Imported};
use crate::circuit::requant::channels;
use crate::circuit::zoo::{common_shift, Builder};
use crate::circuit::{
    channel_of, ActivationLayer, Concat, Conv, ConvGeometry, Dense, IoQuant, Multiplier, QParams,
    Scaled, TensorId, Wiring,
};
use crate::quant::Activation;
use std::collections::{HashMap, HashSet};

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
    /// Σ sᵢ·(xᵢ − zᵢ) over int8 tensors.
    Sum(Vec<(TensorId, QParams)>),
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
}

/// A BatchNormalization folded into the layer before it: per-channel scale and shift, and the
/// name of its output (which takes the layer's value).
type FoldedBatchNorm = (Vec<f64>, Vec<f64>, String);

/// Nodes folded into a pattern: the node that finishes it emits the fused op.
#[derive(Clone, Debug)]
enum Fused {
    /// x·Φ(x) written with Erf.
    Gelu { x: String },
    /// x·HardSigmoid(x) (opset < 14 exports).
    HardSwish { x: String },
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
    names: Vec<(String, TensorId)>,
    /// ONNX tensors of an integer type (what the int8 circuit tensors are compared with).
    integer: HashSet<String>,
    notes: Vec<String>,
    /// The tensor the proof ends on: the graph output, or the input of a final Softmax.
    softmax: Option<String>,
    parameters: usize,
}

fn unsupported(n: &Node, reason: impl Into<String>) -> ImportError {
    ImportError::Unsupported { op: n.op.clone(), node: n.name.clone(), reason: reason.into() }
}

fn node_error(n: &Node, reason: impl Into<String>) -> ImportError {
    ImportError::Node { op: n.op.clone(), node: n.name.clone(), reason: reason.into() }
}

const ONNX_DOMAINS: [&str; 2] = ["", "ai.onnx"];

/// The op types [`Lower::node`] lowers (Erf and HardSigmoid only inside their patterns). Checked
/// before tract sees the graph, so an op tract does not know is still named by gkrnet.
pub(super) const SUPPORTED: [&str; 39] = [
    "Concat",
    "Identity",
    "Dropout",
    "QuantizeLinear",
    "DequantizeLinear",
    "Cast",
    "MatMul",
    "Gemm",
    "QLinearMatMul",
    "MatMulInteger",
    "Conv",
    "ConvTranspose",
    "QLinearConv",
    "ConvInteger",
    "BatchNormalization",
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Clip",
    "Sigmoid",
    "Tanh",
    "HardSwish",
    "Gelu",
    "LeakyRelu",
    "Elu",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "Flatten",
    "Reshape",
    "Squeeze",
    "Unsqueeze",
    "Transpose",
    "Pad",
    "Softmax",
    "Erf",
    "HardSigmoid",
];

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
    input_dims: &[usize],
    options: &ImportOptions,
) -> Result<Imported, ImportError> {
    let kind = if g.nodes.iter().any(|n| n.op.starts_with("QLinear") || n.op.ends_with("Integer")) {
        GraphKind::QOperator
    } else if g.nodes.iter().any(|n| n.op == "QuantizeLinear" || n.op == "DequantizeLinear") {
        GraphKind::Qdq
    } else {
        GraphKind::Float
    };
    for n in &g.nodes {
        if !ONNX_DOMAINS.contains(&n.domain.as_str()) {
            return Err(unsupported(
                n,
                format!("domain {:?} (only the default ONNX domain)", n.domain),
            ));
        }
        if !SUPPORTED.contains(&n.op.as_str()) {
            return Err(unsupported(n, format!("{} has no gkrnet lowering", n.op)));
        }
    }
    // calibration: every tensor a node produces, on the calibration inputs, through tract
    let mut wanted: Vec<String> = vec![g.input.clone()];
    for n in &g.nodes {
        wanted.extend(n.outputs.iter().filter(|o| !o.is_empty()).cloned());
    }
    let calib = FloatReference::new(proto, input_dims, &g.output, &wanted)?;
    let len: usize = input_dims.iter().product();
    let inputs = match &options.calibration {
        Some(c) => c.clone(),
        None => random_inputs(len, options.samples.max(1), options.input_range, options.seed),
    };
    let mut ranges: HashMap<String, (f64, f64)> = HashMap::new();
    let mut shapes: HashMap<String, Vec<usize>> = HashMap::new();
    for x in &inputs {
        if x.len() != len {
            return Err(ImportError::InputShape {
                expected: format!("{input_dims:?}"),
                got: vec![x.len()],
            });
        }
        let run: HashMap<String, Named> = calib.run(x)?;
        for (k, (dims, v)) in run {
            let (lo, hi) = v.iter().fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
            let e = ranges.entry(k.clone()).or_insert((lo, hi));
            *e = (e.0.min(lo), e.1.max(hi));
            shapes.insert(k, dims);
        }
    }
    drop(calib);
    // the input's range is that of the calibration inputs themselves
    let (lo, hi) = inputs
        .iter()
        .flatten()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x as f64), b.max(x as f64)));
    ranges.insert(g.input.clone(), (lo, hi));
    let reference = FloatReference::new(proto, input_dims, &g.output, &[])?;
    let mut l = Lower {
        g,
        b: Builder::new(input_dims.to_vec()),
        values: HashMap::new(),
        ranges,
        shapes,
        fused: HashMap::new(),
        skipped: HashSet::new(),
        names: Vec::new(),
        integer: integer_tensors(g),
        notes: Vec::new(),
        softmax: None,
        parameters: 0,
    };
    l.notes.push(match &options.calibration {
        Some(c) => format!("activation ranges calibrated on {} given inputs", c.len()),
        None => format!(
            "activation ranges calibrated on {} seeded uniform inputs in [{}, {}]",
            inputs.len(),
            options.input_range.0,
            options.input_range.1
        ),
    });
    l.find_patterns()?;
    // the input: at the parameters of the QuantizeLinear that reads it, else calibrated
    let input_q = l.target_params(&g.input)?;
    l.values.insert(g.input.clone(), Value::Int { id: 0, dims: input_dims.to_vec(), q: input_q });
    for (i, n) in g.nodes.iter().enumerate() {
        if l.skipped.contains(&i) {
            continue;
        }
        l.node(i, n)?;
    }
    let last = l.softmax.clone().unwrap_or_else(|| g.output.clone());
    let out = l.get(&last, None)?;
    let (id, q) = l.materialize(&last, out)?;
    if id == 0 {
        return Err(ImportError::Graph("the output is the input: nothing to prove".into()));
    }
    let Lower { b, names, notes, softmax, parameters, .. } = l;
    let model = b.finish(name)?.with_io(IoQuant {
        input: input_q,
        output: q,
        softmax: softmax.is_some(),
    })?;
    Ok(Imported { model, kind, parameters, names, notes, reference })
}

impl Lower<'_> {
    fn get(&self, name: &str, n: Option<&Node>) -> Result<Value, ImportError> {
        if let Some(v) = self.values.get(name) {
            return Ok(v.clone());
        }
        if let Some(c) = self.g.consts.get(name) {
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

    /// Finds Gelu (Erf), HardSwish (HardSigmoid·x) and foldable BatchNormalization patterns.
    fn find_patterns(&mut self) -> Result<(), ImportError> {
        let g = self.g;
        let index = |name: &str| g.nodes.iter().position(|n| n.outputs.iter().any(|o| o == name));
        let sole = |name: &str| -> Option<usize> {
            let c: Vec<usize> = g
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.inputs.iter().any(|i| i == name))
                .map(|(i, _)| i)
                .collect();
            (c.len() == 1).then(|| c[0])
        };
        let const_is = |name: &str, v: f64, tol: f64| {
            g.consts.get(name).and_then(Const::scalar).is_some_and(|c| (c - v).abs() < tol)
        };
        let other = |n: &Node, name: &str| -> Option<String> {
            match &n.inputs[..] {
                [a, b] if a == name => Some(b.clone()),
                [a, b] if b == name => Some(a.clone()),
                _ => None,
            }
        };
        for (ei, e) in g.nodes.iter().enumerate() {
            match e.op.as_str() {
                "Erf" => {
                    // Div(x, √2) | Mul(x, 1/√2) → Erf → Add 1 → Mul x → Mul ½ (or Mul(½x, ·))
                    let Some(u) = e.input(0) else { continue };
                    let Some(pi) = index(u) else { continue };
                    let p = &g.nodes[pi];
                    let x = match p.op.as_str() {
                        "Div" if p.input(1).is_some_and(|c| const_is(c, 2f64.sqrt(), 1e-3)) => {
                            p.inputs[0].clone()
                        }
                        "Mul" => match other(p, &p.inputs[0]) {
                            Some(c) if const_is(&c, 0.5f64.sqrt(), 1e-3) => p.inputs[0].clone(),
                            _ => continue,
                        },
                        _ => continue,
                    };
                    let Some(ai) = sole(&e.outputs[0]) else { continue };
                    let a = &g.nodes[ai];
                    if a.op != "Add"
                        || !other(a, &e.outputs[0]).is_some_and(|c| const_is(&c, 1.0, 1e-6))
                    {
                        continue;
                    }
                    let Some(mi) = sole(&a.outputs[0]) else { continue };
                    let m = &g.nodes[mi];
                    if m.op != "Mul" {
                        continue;
                    }
                    let Some(with) = other(m, &a.outputs[0]) else { continue };
                    let (last, half) = if with == x {
                        let Some(hi) = sole(&m.outputs[0]) else { continue };
                        let h = &g.nodes[hi];
                        if h.op != "Mul"
                            || !other(h, &m.outputs[0]).is_some_and(|c| const_is(&c, 0.5, 1e-6))
                        {
                            continue;
                        }
                        (hi, None)
                    } else {
                        // Mul(x, ½) computed first
                        let Some(hi) = index(&with) else { continue };
                        let h = &g.nodes[hi];
                        if h.op != "Mul" || other(h, &x).is_none_or(|c| !const_is(&c, 0.5, 1e-6)) {
                            continue;
                        }
                        (mi, Some(hi))
                    };
                    let mut parts = vec![pi, ei, ai, mi];
                    parts.extend(half);
                    parts.retain(|&i| i != last);
                    self.skipped.extend(parts);
                    self.fused.insert(last, Fused::Gelu { x });
                }
                "HardSigmoid" => {
                    let (alpha, beta) =
                        (e.float("alpha")?.unwrap_or(0.2), e.float("beta")?.unwrap_or(0.5));
                    if (alpha - 1.0 / 6.0).abs() > 1e-6 || (beta - 0.5).abs() > 1e-6 {
                        continue;
                    }
                    let Some(x) = e.input(0) else { continue };
                    let Some(mi) = sole(&e.outputs[0]) else { continue };
                    let m = &g.nodes[mi];
                    if m.op == "Mul" && other(m, &e.outputs[0]).as_deref() == Some(x) {
                        self.skipped.insert(ei);
                        self.fused.insert(mi, Fused::HardSwish { x: x.to_string() });
                    }
                }
                "BatchNormalization" => {
                    let Some(x) = e.input(0) else { continue };
                    let Some(pi) = index(x) else { continue };
                    let p = &g.nodes[pi];
                    let folds = matches!(p.op.as_str(), "Conv" | "ConvTranspose" | "Gemm")
                        && sole(x) == Some(ei)
                        && p.input(1)
                            .is_some_and(|w| g.consts.get(w).is_some_and(|c| c.dtype.is_float()))
                        && (1..5).all(|i| e.input(i).is_some_and(|c| g.consts.contains_key(c)));
                    if folds {
                        self.fused.insert(ei, Fused::BatchNorm);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The BatchNormalization folded after node `n`'s output: per-channel (scale, shift).
    fn folded_batchnorm(&self, n: &Node) -> Result<Option<FoldedBatchNorm>, ImportError> {
        let Some(out) = n.outputs.first() else { return Ok(None) };
        let Some((bi, bn)) =
            self.g.nodes.iter().enumerate().find(|(_, m)| m.input(0) == Some(out.as_str()))
        else {
            return Ok(None);
        };
        if !matches!(self.fused.get(&bi), Some(Fused::BatchNorm)) {
            return Ok(None);
        }
        let eps = bn.float("epsilon")?.unwrap_or(1e-5);
        let [gamma, beta, mean, var] = [1, 2, 3, 4].map(|i| self.constant(bn, i));
        let (gamma, beta, mean, var) = (gamma?, beta?, mean?, var?);
        let c = gamma.len();
        if [&beta, &mean, &var].iter().any(|t| t.len() != c) {
            return Err(node_error(bn, "parameters of different lengths"));
        }
        let scale: Vec<f64> = (0..c).map(|i| gamma.data[i] / (var.data[i] + eps).sqrt()).collect();
        let shift: Vec<f64> = (0..c).map(|i| beta.data[i] - mean.data[i] * scale[i]).collect();
        Ok(Some((scale, shift, bn.outputs[0].clone())))
    }

    /// An int8 tensor for a consumer: a pending value is requantized at `target_params(name)`.
    fn int(&mut self, n: &Node, i: usize) -> Result<(TensorId, Vec<usize>, QParams), ImportError> {
        let name =
            n.input(i).ok_or_else(|| node_error(n, format!("missing input {i}")))?.to_string();
        let v = self.get(&name, Some(n))?;
        match v {
            Value::Padded { .. } => {
                Err(unsupported(n, "a Pad that is not followed by a convolution"))
            }
            Value::Const(_) | Value::QConst { .. } => Err(unsupported(
                n,
                format!("input {i} is a constant; gkrnet proves ops on the model input's data"),
            )),
            v => {
                let (id, q) = self.materialize(&name, v)?;
                Ok((id, self.b.dims(id), q))
            }
        }
    }

    /// Requantizes a value to int8 (a pending one at `target_params(name)`).
    fn materialize(&mut self, name: &str, v: Value) -> Result<(TensorId, QParams), ImportError> {
        match v {
            Value::Int { id, q, .. } => Ok((id, q)),
            Value::Pending(p) => {
                let q = self.target_params(name)?;
                let id = self.requant(p, q)?;
                self.values.insert(name.to_string(), Value::Int { id, dims: self.b.dims(id), q });
                Ok((id, q))
            }
            _ => Err(ImportError::Graph(format!(
                "tensor {name:?} is not a tensor the model computes"
            ))),
        }
    }

    /// One requantization layer: y = clamp(round(real / s) + z, lo, hi) with real the pending
    /// form, multipliers as a/2^k with one shift.
    fn requant(&mut self, p: Pending, out: QParams) -> Result<TensorId, ImportError> {
        let c = p.mult.len();
        let ch = |j: usize| if c == 1 { 0 } else { channel_of(&p.dims, j) };
        let clamp = |v: f64, default: i32| -> i32 {
            if v.is_finite() {
                ((v / out.scale).round_ties_even() + out.zero as f64).clamp(-128.0, 127.0) as i32
            } else {
                default
            }
        };
        let (lo, hi) = (clamp(p.lo, -128).max(-128), clamp(p.hi, 127).min(127));
        if lo > hi {
            return Err(ImportError::Graph(format!("an empty clamp [{}, {}]", p.lo, p.hi)));
        }
        let len: usize = p.dims.iter().product();
        match p.src {
            Src::Linear(lin) => {
                let ratios: Vec<f64> = p.mult.iter().map(|m| m / out.scale).collect();
                check_ratios(&ratios)?;
                let (a, k) = common_shift(&ratios)?;
                // the constant becomes the integer bias: offset/mult in accumulator units
                let bias: Vec<i32> = (0..lin.features)
                    .map(|f| {
                        let j = if c == 1 { 0 } else { f };
                        let b = (p.offset[j.min(p.offset.len() - 1)] / p.mult[j]).round_ties_even();
                        if b.abs() < (1u64 << 30) as f64 {
                            Ok(b as i32)
                        } else {
                            Err(ImportError::Graph(format!("a bias of {b} accumulator units")))
                        }
                    })
                    .collect::<Result<_, _>>()?;
                let (acc, bound) = match lin.conv {
                    None => {
                        let d = Dense::new(
                            lin.x,
                            &lin.in_dims,
                            lin.zero,
                            lin.weights,
                            lin.features,
                            bias,
                        )?;
                        let bound = d.acc_bound();
                        (self.b.push(d), bound)
                    }
                    Some((geo, output_padding)) => {
                        let conv = match output_padding {
                            None => Conv::new(
                                lin.x,
                                &lin.in_dims,
                                lin.zero,
                                lin.features,
                                geo,
                                lin.weights,
                                bias,
                            )?,
                            Some(op) => Conv::transposed(
                                lin.x,
                                &lin.in_dims,
                                lin.zero,
                                lin.features,
                                geo,
                                op,
                                lin.weights,
                                bias,
                            )?,
                        };
                        let bound = conv.acc_bound();
                        (self.b.push(conv), bound)
                    }
                };
                let dims = self.b.dims(acc);
                if dims != p.dims {
                    return Err(ImportError::Graph(format!(
                        "a layer computes dimensions {dims:?}, tract {:?}",
                        p.dims
                    )));
                }
                let multiplier =
                    if a.len() == 1 { Multiplier::Tensor(a[0]) } else { Multiplier::Channel(a) };
                let scaled = Scaled { tensor: acc, multiplier, bound };
                Ok(self.b.requant_layer(
                    "requant",
                    vec![scaled],
                    0,
                    Vec::new(),
                    k,
                    (out.zero, lo, hi),
                    dims,
                )?)
            }
            Src::Sum(terms) => {
                // multiplier of term i on channel j: mult[j]·sᵢ/s_out
                let ratios: Vec<Vec<f64>> = terms
                    .iter()
                    .map(|(_, q)| p.mult.iter().map(|m| m * q.scale / out.scale).collect())
                    .collect();
                let flat: Vec<f64> = ratios.iter().flatten().copied().collect();
                check_ratios(&flat)?;
                let (a, k) = common_shift(&flat)?;
                let a: Vec<Vec<u32>> = a.chunks(c).map(<[u32]>::to_vec).collect();
                let two_k = 2f64.powi(k as i32);
                let mut offsets = vec![0i64; len];
                for (j, o) in offsets.iter_mut().enumerate() {
                    let cj = ch(j);
                    let real = (p.offset[cj.min(p.offset.len() - 1)] / out.scale * two_k)
                        .round_ties_even();
                    if real.abs() >= 2f64.powi(61) {
                        return Err(ImportError::Graph(format!("an offset of {real}·2^-{k}")));
                    }
                    let zs: i64 = terms
                        .iter()
                        .zip(&a)
                        .map(|((_, q), ai)| ai[cj] as i64 * q.zero as i64)
                        .sum();
                    *o = real as i64 - zs;
                }
                let scaled: Vec<Scaled> = terms
                    .iter()
                    .zip(a)
                    .map(|((t, _), ai)| Scaled {
                        tensor: *t,
                        multiplier: if ai.len() == 1 {
                            Multiplier::Tensor(ai[0])
                        } else {
                            Multiplier::Channel(ai)
                        },
                        bound: 128,
                    })
                    .collect();
                // a lone tensor with no constant keeps the cheap input mode
                let offsets = if offsets.iter().all(|&o| o == 0) { Vec::new() } else { offsets };
                let kind = if terms.len() > 1 { "add" } else { "requant" };
                Ok(self.b.requant_layer(kind, scaled, 0, offsets, k, (out.zero, lo, hi), p.dims)?)
            }
        }
    }

    /// A pending form of a tensor value (int8 tensors become a one-term sum).
    fn pending(&self, n: &Node, v: Value) -> Result<Pending, ImportError> {
        match v {
            Value::Pending(p) => Ok(p),
            Value::Int { id, dims, q } => Ok(Pending {
                src: Src::Sum(vec![(id, q)]),
                dims,
                mult: vec![1.0],
                offset: vec![0.0],
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            }),
            Value::Padded { .. } => {
                Err(unsupported(n, "a Pad that is not followed by a convolution"))
            }
            Value::Const(_) | Value::QConst { .. } => {
                Err(unsupported(n, "an op on constants only"))
            }
        }
    }

    /// A constant (plain or dequantized) broadcast per channel of `dims`: length 1 or C.
    fn per_channel(
        &self,
        n: &Node,
        v: &Value,
        dims: &[usize],
    ) -> Result<Option<Vec<f64>>, ImportError> {
        let c = match v {
            Value::Const(c) => c.clone(),
            Value::QConst { q, scale, zero, axis } => dequantize(q, scale, zero, *axis),
            _ => return Ok(None),
        };
        if c.len() == 1 {
            return Ok(Some(c.data));
        }
        let channels = channels(dims);
        let rank = dims.len();
        // the constant's shape aligned right against the tensor's (numpy broadcasting)
        let lead = rank.checked_sub(c.dims.len());
        let axis = if rank <= 2 { rank.saturating_sub(1) } else { 1 };
        let ok = lead.is_some_and(|lead| {
            c.dims.iter().enumerate().all(|(i, &d)| d == 1 || (i + lead == axis && d == channels))
        });
        if !ok || c.len() != channels {
            return Err(unsupported(
                n,
                format!("a constant of shape {:?} on a tensor {dims:?} (scalars and per-channel constants only)", c.dims),
            ));
        }
        Ok(Some(c.data))
    }

    fn node(&mut self, i: usize, n: &Node) -> Result<(), ImportError> {
        if let Some(f) = self.fused.get(&i).cloned() {
            match f {
                Fused::Gelu { x } => return self.activation_named(n, &x, Activation::Gelu),
                Fused::HardSwish { x } => {
                    return self.activation_named(n, &x, Activation::HardSwish)
                }
                Fused::BatchNorm => {
                    // folded into the producer: its value is already this node's output
                    return Ok(());
                }
            }
        }
        match n.op.as_str() {
            "Identity" | "Dropout" => {
                let v = self.input(n, 0)?;
                self.set(n, v)
            }
            "QuantizeLinear" => self.quantize(n),
            "DequantizeLinear" => self.dequantize(n),
            "Cast" => {
                let v = self.input(n, 0)?;
                match v {
                    Value::Pending(_) | Value::Int { .. } => self.set(n, v),
                    _ => Err(unsupported(n, "a Cast of a constant")),
                }
            }
            "MatMul" | "Gemm" | "QLinearMatMul" | "MatMulInteger" => self.dense(n),
            "Conv" | "ConvTranspose" | "QLinearConv" | "ConvInteger" => self.conv(n),
            "BatchNormalization" => {
                let v = self.input(n, 0)?;
                let mut p = self.pending(n, v)?;
                let eps = n.float("epsilon")?.unwrap_or(1e-5);
                let [g, b, m, var] = [1, 2, 3, 4].map(|k| self.constant(n, k));
                let (g, b, m, var) = (g?, b?, m?, var?);
                let c = channels(&p.dims);
                if [&g, &b, &m, &var].iter().any(|t| t.len() != c) {
                    return Err(node_error(n, "parameters not one per channel"));
                }
                let scale: Vec<f64> =
                    (0..c).map(|j| g.data[j] / (var.data[j] + eps).sqrt()).collect();
                let shift: Vec<f64> = (0..c).map(|j| b.data[j] - m.data[j] * scale[j]).collect();
                self.affine(n, &mut p, &scale, &shift)?;
                self.set(n, Value::Pending(p))
            }
            "Add" | "Sub" => self.add(n),
            "Mul" | "Div" => {
                let (a, b) = (self.input(n, 0)?, self.input(n, 1)?);
                let (t, c) = match (&a, &b) {
                    (Value::Const(_) | Value::QConst { .. }, _) if n.op == "Mul" => {
                        (b.clone(), a.clone())
                    }
                    (_, Value::Const(_) | Value::QConst { .. }) => (a.clone(), b.clone()),
                    _ => return Err(unsupported(
                        n,
                        "a product of two computed tensors (only the Gelu and HardSwish patterns)",
                    )),
                };
                let mut p = self.pending(n, t)?;
                let c = self
                    .per_channel(n, &c, &p.dims)?
                    .ok_or_else(|| unsupported(n, "a non-constant factor"))?;
                let c: Vec<f64> =
                    if n.op == "Div" { c.iter().map(|v| 1.0 / v).collect() } else { c };
                let zero = vec![0.0; c.len()];
                self.affine(n, &mut p, &c, &zero)?;
                self.set(n, Value::Pending(p))
            }
            "Relu" => {
                let v = self.input(n, 0)?;
                let mut p = self.pending(n, v)?;
                p.lo = p.lo.max(0.0);
                p.hi = p.hi.max(p.lo);
                self.set(n, Value::Pending(p))
            }
            "Clip" => {
                let v = self.input(n, 0)?;
                let mut p = self.pending(n, v)?;
                let (lo, hi) = if self.g.opset < 11 {
                    (
                        n.float("min")?.unwrap_or(f64::NEG_INFINITY),
                        n.float("max")?.unwrap_or(f64::INFINITY),
                    )
                } else {
                    let lo =
                        if n.input(1).is_some() { self.scalar(n, 1)? } else { f64::NEG_INFINITY };
                    let hi = if n.input(2).is_some() { self.scalar(n, 2)? } else { f64::INFINITY };
                    (lo, hi)
                };
                p.lo = p.lo.max(lo);
                p.hi = p.hi.min(hi);
                if p.lo > p.hi {
                    return Err(node_error(n, format!("min {lo} above max {hi}")));
                }
                self.set(n, Value::Pending(p))
            }
            "Sigmoid" => self.activation(n, Activation::Sigmoid),
            "Tanh" => self.activation(n, Activation::Tanh),
            "HardSwish" => self.activation(n, Activation::HardSwish),
            "Gelu" => {
                if n.string("approximate")?.is_some_and(|a| a != "none") {
                    return Err(unsupported(n, "the tanh approximation of Gelu"));
                }
                self.activation(n, Activation::Gelu)
            }
            "LeakyRelu" => {
                let alpha = n.float("alpha")?.unwrap_or(0.01);
                self.activation(n, Activation::LeakyRelu { alpha })
            }
            "Elu" => {
                let alpha = n.float("alpha")?.unwrap_or(1.0);
                self.activation(n, Activation::Elu { alpha })
            }
            "MaxPool" | "AveragePool" | "GlobalAveragePool" => self.pool(n),
            "Flatten" | "Reshape" | "Squeeze" | "Unsqueeze" | "Transpose" => self.wiring(n),
            "Pad" => self.pad(n),
            "Softmax" => {
                let out = n.outputs.first().map(String::as_str);
                if out != Some(self.g.output.as_str()) {
                    return Err(unsupported(n, "a Softmax that is not the last op"));
                }
                if n.int("axis")?.is_some_and(|a| a != -1 && a != 1) {
                    return Err(unsupported(n, "a Softmax over an axis other than the last"));
                }
                let x = n.input(0).ok_or_else(|| node_error(n, "missing input"))?;
                self.softmax = Some(x.to_string());
                self.notes.push(format!(
                    "the final Softmax (node {:?}) is left outside the proof: the proof covers its input, and the softmax is applied to the dequantized output",
                    n.name
                ));
                Ok(())
            }
            "Concat" => self.concat(n),
            "Erf" => Err(unsupported(n, "Erf outside the Gelu pattern x·½·(1 + erf(x/√2))")),
            "HardSigmoid" => {
                Err(unsupported(n, "HardSigmoid outside the HardSwish pattern x·HardSigmoid(x)"))
            }
            other => Err(unsupported(n, format!("{other} has no gkrnet lowering"))),
        }
    }

    /// p ← scale·p + shift per channel (scale > 0: a requantization multiplier is positive).
    fn affine(
        &self,
        n: &Node,
        p: &mut Pending,
        scale: &[f64],
        shift: &[f64],
    ) -> Result<(), ImportError> {
        if scale.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
            return Err(unsupported(
                n,
                "a scale that is zero, negative or not finite on a computed tensor",
            ));
        }
        let c = scale.len().max(p.mult.len()).max(shift.len());
        let at = |v: &[f64], j: usize| if v.len() == 1 { v[0] } else { v[j] };
        if c > 1 && c != channels(&p.dims) {
            return Err(node_error(n, "per-channel constants of the wrong length"));
        }
        let (mult, offset): (Vec<f64>, Vec<f64>) = (0..c)
            .map(|j| {
                (at(&p.mult, j) * at(scale, j), at(&p.offset, j) * at(scale, j) + at(shift, j))
            })
            .unzip();
        // a clamp applies before the affine map: only a common positive scale and shift
        // can carry it over
        if p.lo.is_finite() || p.hi.is_finite() {
            let uniform =
                scale.iter().all(|&s| s == scale[0]) && shift.iter().all(|&s| s == shift[0]);
            if !uniform {
                return Err(unsupported(n, "a per-channel affine map after a clamp (Relu/Clip)"));
            }
            p.lo = p.lo * scale[0] + shift[0];
            p.hi = p.hi * scale[0] + shift[0];
        }
        p.mult = mult;
        p.offset = offset;
        Ok(())
    }

    fn quantize(&mut self, n: &Node) -> Result<(), ImportError> {
        let q = self.quantize_params(n)?;
        let name = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        let v = self.get(&name, Some(n))?;
        let v = match v {
            Value::Int { id, dims, q: qi } if qi == q => Value::Int { id, dims, q },
            Value::Int { .. } | Value::Pending(_) => {
                let p = self.pending(n, v)?;
                let id = self.requant(p, q)?;
                Value::Int { id, dims: self.b.dims(id), q }
            }
            _ => return Err(unsupported(n, "a QuantizeLinear of a constant")),
        };
        self.set(n, v)
    }

    fn dequantize(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        let scale = self.constant(n, 1)?;
        let zero = match n.input(2) {
            Some(_) => self.constant(n, 2)?,
            None => Const { dims: vec![], dtype: Dtype::I8, data: vec![0.0] },
        };
        match v {
            Value::Const(c) if !c.dtype.is_float() => {
                let axis = n.int("axis")?.unwrap_or(1);
                let axis = if axis < 0 { axis + c.dims.len() as i64 } else { axis } as usize;
                if scale.len() != 1 && c.dims.get(axis) != Some(&scale.len()) {
                    return Err(node_error(n, "per-axis scale of the wrong length"));
                }
                let zero = if zero.len() == scale.len() {
                    zero.data
                } else {
                    vec![zero.data[0]; scale.len()]
                };
                self.set(n, Value::QConst { q: c, scale: scale.data, zero, axis })
            }
            Value::Int { id, dims, .. } => {
                let s = scale
                    .scalar()
                    .ok_or_else(|| unsupported(n, "a per-axis scale on activations"))?;
                let z = zero.scalar().unwrap_or(0.0);
                let z = if zero.dtype == Dtype::U8 { z - 128.0 } else { z };
                // the int8 values are unchanged; DequantizeLinear only names their scale
                self.set(n, Value::Int { id, dims, q: QParams { scale: s, zero: z as i32 } })
            }
            _ => Err(unsupported(
                n,
                "a DequantizeLinear of something other than an int8 tensor or integer constant",
            )),
        }
    }

    /// Weights of a dense/conv layer as int8 with a scale per output feature: a float constant
    /// quantized symmetrically per feature, or a dequantized int8 constant (zero point 0).
    /// `feature(i)`: the output feature of weight i.
    fn weights(
        &mut self,
        n: &Node,
        v: Value,
        features: usize,
        feature: impl Fn(usize) -> usize,
        fold: Option<&[f64]>,
    ) -> Result<(Vec<i8>, Vec<f64>), ImportError> {
        match v {
            Value::Const(c) if c.dtype.is_float() => {
                self.parameters += c.len();
                let data: Vec<f64> = match fold {
                    Some(s) => c.data.iter().enumerate().map(|(i, w)| w * s[feature(i)]).collect(),
                    None => c.data,
                };
                let mut max = vec![0f64; features];
                for (i, w) in data.iter().enumerate() {
                    let f = feature(i);
                    max[f] = max[f].max(w.abs());
                }
                // near-dead features share a floor of max/2^9, so every multiplier stays within
                // the common shift's range
                let top = max.iter().copied().fold(0.0, f64::max);
                let scales: Vec<f64> = max
                    .iter()
                    .map(|&m| if top == 0.0 { 1.0 } else { m.max(top / 512.0) / 127.0 })
                    .collect();
                let q = data
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        (w / scales[feature(i)]).round_ties_even().clamp(-127.0, 127.0) as i8
                    })
                    .collect();
                Ok((q, scales))
            }
            Value::QConst { q, scale, zero, axis } => {
                if fold.is_some() {
                    return Err(unsupported(n, "a BatchNormalization after quantized weights"));
                }
                if zero.iter().any(|&z| z != 0.0) {
                    return Err(unsupported(
                        n,
                        "weights with a non-zero zero point (symmetric int8 weights only)",
                    ));
                }
                if q.dtype != Dtype::I8 {
                    return Err(unsupported(
                        n,
                        format!("weights of type {:?} (int8 only)", q.dtype),
                    ));
                }
                self.parameters += q.len();
                let per_feature = if scale.len() == 1 {
                    vec![scale[0]; features]
                } else if scale.len() == features {
                    // the scale axis must be the feature axis
                    let stride: usize = q.dims[axis + 1..].iter().product();
                    let ok = (0..q.len()).all(|i| (i / stride) % scale.len() == feature(i));
                    if !ok {
                        return Err(unsupported(
                            n,
                            "per-axis weight scales on an axis other than the output features",
                        ));
                    }
                    scale
                } else {
                    return Err(unsupported(
                        n,
                        "weight scales neither per tensor nor per output feature",
                    ));
                };
                Ok((q.data.iter().map(|&w| w as i8).collect(), per_feature))
            }
            _ => Err(unsupported(n, "weights that are not constants")),
        }
    }

    /// Bias (plain or dequantized constant) as a real offset per feature.
    fn bias(
        &mut self,
        n: &Node,
        i: usize,
        features: usize,
        fold: Option<(&[f64], &[f64])>,
    ) -> Result<Vec<f64>, ImportError> {
        let mut b = match n.input(i) {
            None => vec![0.0; features],
            Some(_) => {
                let v = self.input(n, i)?;
                let c = match v {
                    Value::Const(c) => c,
                    Value::QConst { q, scale, zero, axis } => dequantize(&q, &scale, &zero, axis),
                    _ => return Err(unsupported(n, "a bias that is not a constant")),
                };
                self.parameters += c.len();
                match c.len() {
                    1 => vec![c.data[0]; features],
                    l if l == features => c.data,
                    l => return Err(node_error(n, format!("{l} biases for {features} outputs"))),
                }
            }
        };
        if let Some((scale, shift)) = fold {
            for (f, v) in b.iter_mut().enumerate() {
                *v = *v * scale[f] + shift[f];
            }
        }
        Ok(b)
    }

    fn finish_linear(
        &mut self,
        n: &Node,
        lin: Linear,
        mult: Vec<f64>,
        offset: Vec<f64>,
        folded_out: Option<String>,
        requant_to: Option<QParams>,
    ) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let dims = self.shape(folded_out.as_deref().unwrap_or(&out))?;
        let p = Pending {
            src: Src::Linear(lin),
            dims,
            mult,
            offset,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        let v = match requant_to {
            Some(q) => {
                let id = self.requant(p, q)?;
                Value::Int { id, dims: self.b.dims(id), q }
            }
            None => Value::Pending(p),
        };
        self.set(n, v.clone())?;
        if let Some(bn) = folded_out {
            self.values.insert(bn, v);
        }
        Ok(())
    }

    /// The weights of a QOperator op: raw integer constant `w` with its scale and zero point
    /// inputs (`s`, `z`; `None`: scale 1, for MatMulInteger/ConvInteger), as a dequantized value.
    fn integer_weights(
        &self,
        n: &Node,
        w: usize,
        s: Option<usize>,
        z: Option<usize>,
        axis: usize,
    ) -> Result<Value, ImportError> {
        let q = self.constant(n, w)?;
        if q.dtype.is_float() {
            return Err(node_error(n, "float weights in an integer op"));
        }
        let scale = match s {
            Some(i) => self.constant(n, i)?.data,
            None => vec![1.0],
        };
        let zero = match z.and_then(|i| n.input(i).map(|_| i)) {
            Some(i) => self.constant(n, i)?.data,
            None => vec![0.0],
        };
        let zero = if zero.len() == scale.len() { zero } else { vec![zero[0]; scale.len()] };
        Ok(Value::QConst { q, scale, zero, axis })
    }

    /// MatMul, Gemm, QLinearMatMul, MatMulInteger: a dense layer on a [batch, features] input.
    fn dense(&mut self, n: &Node) -> Result<(), ImportError> {
        if n.op == "Gemm" && n.int("transA")?.unwrap_or(0) != 0 {
            return Err(unsupported(n, "Gemm with transA = 1"));
        }
        let (x, in_dims, qx) = self.int(n, 0)?;
        let &[_, inner] = in_dims.as_slice() else {
            return Err(unsupported(
                n,
                format!(
                    "a matrix product on a rank-{} input {in_dims:?} (rank 2 only)",
                    in_dims.len()
                ),
            ));
        };
        // the input's scale and zero point as the op sees them, and its output requantization
        let (sx, requant_to, mut wv) = match n.op.as_str() {
            "QLinearMatMul" => {
                let qa = self.quantize_params_at(n, 1, 2)?;
                if qa.zero != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                let w = self.integer_weights(n, 3, Some(4), Some(5), 1)?;
                (qa.scale, Some(self.quantize_params_at(n, 6, 7)?), w)
            }
            "MatMulInteger" => {
                if n.input(2).is_some() && self.quantize_params_zero(n, 2)? != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                // the int32 product itself: real value = accumulator
                (1.0, None, self.integer_weights(n, 1, None, Some(3), 1)?)
            }
            _ => (qx.scale, None, self.input(n, 1)?),
        };
        let wdims = match &wv {
            Value::Const(c) => c.dims.clone(),
            Value::QConst { q, .. } => q.dims.clone(),
            _ => return Err(unsupported(n, "a product of two computed tensors")),
        };
        let trans_b = n.op == "Gemm" && n.int("transB")?.unwrap_or(0) != 0;
        let &[r, c] = wdims.as_slice() else {
            return Err(unsupported(n, format!("weights of shape {wdims:?} (a matrix only)")));
        };
        let (wi, features) = if trans_b { (c, r) } else { (r, c) };
        if wi != inner {
            return Err(node_error(n, format!("input {in_dims:?} against weights {wdims:?}")));
        }
        if trans_b {
            wv = transpose_value(wv, r, c);
        }
        if n.op == "Gemm" {
            let alpha = n.float("alpha")?.unwrap_or(1.0);
            if alpha != 1.0 {
                wv = scale_value(n, wv, alpha)?;
            }
        }
        let bn = self.folded_batchnorm(n)?;
        let fold = bn.as_ref().map(|(s, t, _)| (s.as_slice(), t.as_slice()));
        let (weights, ws) = self.weights(n, wv, features, |i| i % features, fold.map(|f| f.0))?;
        let offset = if n.op == "Gemm" {
            let beta = n.float("beta")?.unwrap_or(1.0);
            let b: Vec<f64> = self.bias(n, 2, features, None)?.iter().map(|b| b * beta).collect();
            match fold {
                Some((s, t)) => b.iter().enumerate().map(|(f, b)| b * s[f] + t[f]).collect(),
                None => b,
            }
        } else {
            vec![0.0; features]
        };
        let mult: Vec<f64> = ws.iter().map(|s| s * sx).collect();
        let lin = Linear { x, in_dims, zero: qx.zero, weights, features, conv: None };
        self.finish_linear(n, lin, mult, offset, bn.map(|b| b.2), requant_to)
    }

    /// A zero point input as int8 (uint8 shifted by −128).
    fn quantize_params_zero(&self, n: &Node, z: usize) -> Result<i32, ImportError> {
        let zc = self.constant(n, z)?;
        let zero = zc.scalar().ok_or_else(|| unsupported(n, "a per-axis zero point"))?;
        Ok(if zc.dtype == Dtype::U8 { zero - 128.0 } else { zero } as i32)
    }

    /// The (scale, zero) given by inputs `s` and `z` of a QLinear op.
    fn quantize_params_at(&self, n: &Node, s: usize, z: usize) -> Result<QParams, ImportError> {
        let scale = self.scalar(n, s)?;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(node_error(n, format!("scale {scale}")));
        }
        Ok(QParams { scale, zero: self.quantize_params_zero(n, z)? })
    }

    fn geometry(
        &self,
        n: &Node,
        kernel: [usize; 2],
        groups: usize,
    ) -> Result<ConvGeometry, ImportError> {
        if n.string("auto_pad")?.is_some_and(|a| a != "NOTSET") {
            return Err(unsupported(n, "auto_pad (explicit pads only)"));
        }
        if n.int("ceil_mode")?.unwrap_or(0) != 0 {
            return Err(unsupported(n, "ceil_mode = 1"));
        }
        let two = |name: &str, default: usize| -> Result<[usize; 2], ImportError> {
            match n.ints(name)? {
                None => Ok([default; 2]),
                Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => {
                    Ok([v[0] as usize, v[1] as usize])
                }
                Some(v) => {
                    Err(unsupported(n, format!("{name} {v:?} (two positive values: 2-D only)")))
                }
            }
        };
        let pads = match n.ints("pads")? {
            None => [0; 4],
            Some(v) if v.len() == 4 && v.iter().all(|&x| x >= 0) => {
                [v[0] as usize, v[1] as usize, v[2] as usize, v[3] as usize]
            }
            Some(v) => {
                return Err(unsupported(n, format!("pads {v:?} (four non-negative values)")))
            }
        };
        if let Some(k) = n.ints("kernel_shape")? {
            if k.len() != 2 || [k[0] as usize, k[1] as usize] != kernel {
                return Err(node_error(
                    n,
                    format!("kernel_shape {k:?} against the weights' {kernel:?}"),
                ));
            }
        }
        Ok(ConvGeometry {
            kernel,
            stride: two("strides", 1)?,
            dilation: two("dilations", 1)?,
            pads,
            groups,
        })
    }

    /// Conv, ConvTranspose, QLinearConv, ConvInteger on NCHW.
    fn conv(&mut self, n: &Node) -> Result<(), ImportError> {
        let w_i = if n.op == "QLinearConv" { 3 } else { 1 };
        let name = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        let (x, in_dims, qx, extra) = match self.get(&name, Some(n))? {
            Value::Padded { id, dims, q, pads } => (id, dims, q, pads),
            _ => {
                let (id, dims, q) = self.int(n, 0)?;
                (id, dims, q, [0; 4])
            }
        };
        if in_dims.len() != 4 {
            return Err(unsupported(
                n,
                format!("a convolution on a rank-{} input (2-D, NCHW only)", in_dims.len()),
            ));
        }
        let wv = match n.op.as_str() {
            "QLinearConv" => self.integer_weights(n, 3, Some(4), Some(5), 0)?,
            "ConvInteger" => {
                if n.input(2).is_some() && self.quantize_params_zero(n, 2)? != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                self.integer_weights(n, 1, None, Some(3), 0)?
            }
            _ => self.input(n, w_i)?,
        };
        let wdims = match &wv {
            Value::Const(c) => c.dims.clone(),
            Value::QConst { q, .. } => q.dims.clone(),
            _ => return Err(unsupported(n, "weights that are not constants")),
        };
        let &[w0, w1, kh, kw] = wdims.as_slice() else {
            return Err(unsupported(n, format!("weights of shape {wdims:?} (2-D kernels only)")));
        };
        let groups = n.int("group")?.unwrap_or(1).max(1) as usize;
        let mut geo = self.geometry(n, [kh, kw], groups)?;
        for (p, e) in geo.pads.iter_mut().zip(extra) {
            *p += e;
        }
        let transposed = n.op == "ConvTranspose";
        let features = if transposed { w1 * groups } else { w0 };
        let fg = w1;
        let per = kh * kw;
        let feature = move |i: usize| {
            if transposed {
                // [C, F/g, kh, kw]: group of input channel c, feature within the group
                let c = i / (fg * per);
                let cg = (in_dims_c(c, groups, w0)) * fg;
                cg + (i / per) % fg
            } else {
                i / (w1 * per)
            }
        };
        let bn = self.folded_batchnorm(n)?;
        let (scale, shift, folded) = match &bn {
            Some((s, t, o)) => (Some(s.as_slice()), Some(t.as_slice()), Some(o.clone())),
            None => (None, None, None),
        };
        let (weights, ws) = self.weights(n, wv, features, feature, scale)?;
        let mut sx = qx.scale;
        let mut requant_to = None;
        let bias_input = match n.op.as_str() {
            "QLinearConv" => {
                let qa = self.quantize_params_at(n, 1, 2)?;
                if qa.zero != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                sx = qa.scale;
                requant_to = Some(self.quantize_params_at(n, 6, 7)?);
                8
            }
            "ConvInteger" => {
                sx = 1.0;
                usize::MAX
            }
            _ => 2,
        };
        let mult: Vec<f64> = ws.iter().map(|s| s * sx).collect();
        let offset = if bias_input == usize::MAX {
            vec![0.0; features]
        } else if n.op == "QLinearConv" {
            // int32 bias at scale s_x·s_w
            match n.input(8) {
                None => vec![0.0; features],
                Some(_) => {
                    let b = self.constant(n, 8)?;
                    self.parameters += b.len();
                    if b.len() != features {
                        return Err(node_error(
                            n,
                            format!("{} biases for {features} outputs", b.len()),
                        ));
                    }
                    b.data.iter().zip(&mult).map(|(b, m)| b * m).collect()
                }
            }
        } else {
            self.bias(n, bias_input, features, scale.zip(shift))?
        };
        let output_padding = if transposed {
            if n.ints("output_shape")?.is_some() {
                return Err(unsupported(n, "output_shape (give pads and output_padding)"));
            }
            Some(match n.ints("output_padding")? {
                None => [0, 0],
                Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 0) => {
                    [v[0] as usize, v[1] as usize]
                }
                Some(v) => return Err(unsupported(n, format!("output_padding {v:?}"))),
            })
        } else {
            None
        };
        let lin = Linear {
            x,
            in_dims,
            zero: qx.zero,
            weights,
            features,
            conv: Some((geo, output_padding)),
        };
        self.finish_linear(n, lin, mult, offset, folded, requant_to)
    }

    fn activation(&mut self, n: &Node, f: Activation) -> Result<(), ImportError> {
        let x = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        self.activation_named(n, &x, f)
    }

    /// An activation table on tensor `x`, the output named by `n`'s output.
    fn activation_named(&mut self, n: &Node, x: &str, f: Activation) -> Result<(), ImportError> {
        let v = self.get(x, Some(n))?;
        let (id, q) = match v {
            Value::Int { id, q, .. } => (id, q),
            Value::Pending(_) => self.materialize(x, v)?,
            _ => return Err(unsupported(n, "an activation of a constant")),
        };
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q_out = self.target_params(&out)?;
        let dims = self.b.dims(id);
        let layer = ActivationLayer::new(
            id,
            dims.clone(),
            f,
            (q.scale, q.zero),
            (q_out.scale, q_out.zero),
        )?;
        let id = self.b.push(layer);
        self.set(n, Value::Int { id, dims, q: q_out })
    }

    fn pool(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        if dims.len() != 4 {
            return Err(unsupported(
                n,
                format!("pooling on a rank-{} input (2-D, NCHW only)", dims.len()),
            ));
        }
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let id = match n.op.as_str() {
            "GlobalAveragePool" => {
                let q_out = self.target_params(&out)?;
                let id = self.b.global_avg_pool(x, (q.scale, q.zero), (q_out.scale, q_out.zero))?;
                return self.set_checked(n, id, q_out);
            }
            _ => {
                let k = n.ints("kernel_shape")?.ok_or_else(|| node_error(n, "no kernel_shape"))?;
                let &[kh, kw] = k.as_slice() else {
                    return Err(unsupported(n, format!("kernel_shape {k:?} (2-D only)")));
                };
                if kh < 1 || kw < 1 {
                    return Err(node_error(n, format!("kernel_shape {k:?}")));
                }
                let geo = self.geometry(n, [kh as usize, kw as usize], 1)?;
                if n.op == "MaxPool" {
                    if n.outputs.iter().skip(1).any(|o| !o.is_empty()) {
                        return Err(unsupported(n, "MaxPool's indices output"));
                    }
                    if n.int("storage_order")?.unwrap_or(0) != 0 {
                        return Err(unsupported(n, "storage_order = 1"));
                    }
                    self.b.max_pool(x, geo)?
                } else {
                    if geo.dilation != [1, 1] {
                        return Err(unsupported(n, "dilated average pooling"));
                    }
                    let include = n.int("count_include_pad")?.unwrap_or(0) != 0;
                    let q_out = self.target_params(&out)?;
                    let id = self.b.avg_pool(
                        x,
                        (q.scale, q.zero),
                        (q_out.scale, q_out.zero),
                        geo,
                        include,
                    )?;
                    return self.set_checked(n, id, q_out);
                }
            }
        };
        self.set_checked(n, id, q)
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

    fn wiring(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let want = self.shape(&out)?;
        let id = if n.op == "Transpose" {
            let perm: Vec<usize> = match n.ints("perm")? {
                Some(p) => p.iter().map(|&v| v as usize).collect(),
                None => (0..dims.len()).rev().collect(),
            };
            if perm.iter().enumerate().all(|(i, &p)| i == p) {
                x
            } else {
                self.b.push(Wiring::transpose(x, &dims, perm)?)
            }
        } else if want == dims {
            x
        } else {
            self.b.push(Wiring::reshape(x, &dims, want.clone())?)
        };
        if id == x {
            // a no-op keeps the tensor (and its name)
            return self.set(n, Value::Int { id, dims, q });
        }
        self.set_checked(n, id, q)
    }

    fn pad(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let mode = n.string("mode")?.unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            return Err(unsupported(n, format!("mode {mode:?} (constant zero padding only)")));
        }
        let pads: Vec<i64> = if self.g.opset < 11 {
            n.ints("pads")?.ok_or_else(|| node_error(n, "no pads"))?
        } else {
            self.constant(n, 1)?.data.iter().map(|&v| v as i64).collect()
        };
        let value = if self.g.opset < 11 {
            n.float("value")?.unwrap_or(0.0)
        } else if n.input(2).is_some() {
            self.scalar(n, 2)?
        } else {
            0.0
        };
        if value != 0.0 {
            return Err(unsupported(n, format!("padding value {value} (zero only)")));
        }
        // [x1_begin, x2_begin, …, x1_end, x2_end, …] on NCHW: only H and W
        let ok = dims.len() == 4
            && pads.len() == 8
            && [0, 1, 4, 5].iter().all(|&i| pads[i] == 0)
            && pads.iter().all(|&p| p >= 0);
        if !ok {
            return Err(unsupported(
                n,
                format!("pads {pads:?} (non-negative, spatial axes of NCHW only)"),
            ));
        }
        let pads = [pads[2] as usize, pads[3] as usize, pads[6] as usize, pads[7] as usize];
        let out = n.outputs[0].clone();
        let consumers = self.g.consumers(&out);
        if consumers.is_empty()
            || consumers
                .iter()
                .any(|c| !matches!(c.op.as_str(), "Conv" | "QLinearConv" | "ConvInteger"))
        {
            return Err(unsupported(n, "a Pad that is not followed by a convolution"));
        }
        self.set(n, Value::Padded { id: x, dims, q, pads })
    }

    /// Concat: every input requantized to the output's parameters (when not already at them),
    /// then one concat layer.
    fn concat(&mut self, n: &Node) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q = self.target_params(&out)?;
        let mut ids = Vec::new();
        let mut dims = Vec::new();
        for i in 0..n.inputs.len() {
            let v = self.input(n, i)?;
            let id = match v {
                Value::Int { id, q: qi, .. } if qi == q => id,
                Value::Int { .. } | Value::Pending(_) => {
                    let p = self.pending(n, v)?;
                    self.requant(p, q)?
                }
                _ => return Err(unsupported(n, format!("input {i} is not a computed tensor"))),
            };
            dims.push(self.b.dims(id));
            ids.push(id);
        }
        let rank = dims.first().map_or(0, Vec::len) as i64;
        let axis = n.int("axis")?.ok_or_else(|| node_error(n, "no axis"))?;
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&axis) {
            return Err(node_error(n, format!("axis {axis} on rank {rank}")));
        }
        if ids.len() == 1 {
            return self.set_checked(n, ids[0], q);
        }
        let layer = Concat::new(ids, dims, axis as usize)?;
        let id = self.b.push(layer);
        self.set_checked(n, id, q)
    }

    /// Add/Sub: a constant changes the offset; two tensors make a sum.
    fn add(&mut self, n: &Node) -> Result<(), ImportError> {
        let (a, b) = (self.input(n, 0)?, self.input(n, 1)?);
        let is_const = |v: &Value| matches!(v, Value::Const(_) | Value::QConst { .. });
        let sign = if n.op == "Sub" { -1.0 } else { 1.0 };
        if is_const(&b) || (is_const(&a) && n.op == "Add") {
            let (t, c) = if is_const(&b) { (a, b) } else { (b, a) };
            let mut p = self.pending(n, t)?;
            let c =
                self.per_channel(n, &c, &p.dims)?.ok_or_else(|| node_error(n, "no constant"))?;
            if c.len() > 1 {
                // a bias vector
                self.parameters += c.len();
            }
            let shift: Vec<f64> = c.iter().map(|v| v * sign).collect();
            self.affine(n, &mut p, &[1.0], &shift)?;
            return self.set(n, Value::Pending(p));
        }
        if is_const(&a) {
            return Err(unsupported(n, "a constant minus a tensor (negative scale)"));
        }
        if n.op == "Sub" {
            return Err(unsupported(n, "the difference of two computed tensors"));
        }
        let (xa, da, qa) = self.int(n, 0)?;
        let (xb, db, qb) = self.int(n, 1)?;
        if da != db {
            return Err(unsupported(
                n,
                format!("broadcasting {da:?} + {db:?} (equal shapes only)"),
            ));
        }
        let p = Pending {
            src: Src::Sum(vec![(xa, qa), (xb, qb)]),
            dims: da,
            mult: vec![1.0],
            offset: vec![0.0],
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        self.set(n, Value::Pending(p))
    }
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

/// Input-channel group of channel c for ConvTranspose weights [C, F/g, …].
fn in_dims_c(c: usize, groups: usize, channels: usize) -> usize {
    c / (channels / groups).max(1)
}

fn check_ratios(r: &[f64]) -> Result<(), ImportError> {
    match r.iter().find(|&&v| !(v > 0.0 && v.is_finite())) {
        Some(v) => Err(ImportError::Graph(format!(
            "a requantization multiplier {v} (positive scales only)"
        ))),
        None => Ok(()),
    }
}

fn dequantize(q: &Const, scale: &[f64], zero: &[f64], axis: usize) -> Const {
    let stride: usize = q.dims.get(axis + 1..).map_or(1, |d| d.iter().product());
    let data = q
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let j = if scale.len() == 1 { 0 } else { (i / stride.max(1)) % scale.len() };
            scale[j] * (v - zero[j])
        })
        .collect();
    Const { dims: q.dims.clone(), dtype: Dtype::F64, data }
}

/// A [r, c] constant transposed to [c, r].
fn transpose_value(v: Value, r: usize, c: usize) -> Value {
    let t = |k: &Const| Const {
        dims: vec![c, r],
        dtype: k.dtype,
        data: (0..r * c).map(|i| k.data[(i % r) * c + i / r]).collect(),
    };
    match v {
        Value::Const(k) => Value::Const(t(&k)),
        Value::QConst { q, scale, zero, axis } => {
            Value::QConst { q: t(&q), scale, zero, axis: 1 - axis.min(1) }
        }
        other => other,
    }
}

fn scale_value(n: &Node, v: Value, s: f64) -> Result<Value, ImportError> {
    match v {
        Value::Const(mut k) => {
            k.data.iter_mut().for_each(|w| *w *= s);
            Ok(Value::Const(k))
        }
        Value::QConst { q, scale, zero, axis } if s > 0.0 => {
            Ok(Value::QConst { q, scale: scale.iter().map(|x| x * s).collect(), zero, axis })
        }
        _ => Err(unsupported(n, "Gemm alpha on these weights")),
    }
}
