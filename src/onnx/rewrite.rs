//! Ops with no lowering of their own, rewritten into standard ONNX ops on the protobuf before the
//! importer, tract's float reference and `gkrnet inspect` read it:
//! * onnxruntime's com.microsoft QOperator ops (`QLinearAdd`, `QLinearMul`, `QLinearConcat`,
//!   `QLinearSigmoid`, `QLinearLeakyRelu`, `QLinearGlobalAveragePool`, `QLinearAveragePool`,
//!   `QGemm`) become the DequantizeLinear → float op → QuantizeLinear they compute: the QDQ form
//!   the importer already reads, with the node's own scales and zero points. tract does not load
//!   the com.microsoft ops, so the rewrite is also what gives these graphs a float reference.
//! * the ai.onnx.ml ops skl2onnx writes for linear models: `LinearClassifier` (MatMul, Add, the
//!   post-transform, and an ArgMax for the label), `LinearRegressor`, `Normalizer` (L1 of a
//!   softmax, which is the softmax itself), `ZipMap` (the map from labels to probabilities is
//!   left outside the proof: the probabilities are proven as a tensor, in class order),
//!   `ArrayFeatureExtractor` of the class list 0…n−1 (the label is the index itself) or of a
//!   computed tensor's columns (a Gather), and `Scaler` (StandardScaler: a Sub and a Mul).
//! * recurrent layers (`LSTM`, `GRU`, `RNN`) unrolled over the fixed sequence length ([`unroll`],
//!   once the input's dimensions are known): per step and gate a MatMul of the step's input, a
//!   MatMul of the previous hidden state, the bias, the gate's activation table and the
//!   elementwise products of the cell.
//!
//! A node that cannot be rewritten stays as it is; its registry entry refuses it with the same
//! reason ([`check`], [`check_recurrent`]), so `inspect` and the import agree. What the rewrite
//! leaves outside the proof is said in a note ([`NOTE_KEY`] in the model's metadata).

use super::graph::{decode_attr, decode_tensor, Attr, Const, Node};
use super::ImportError;
use std::collections::HashMap;
use tract_onnx::pb;

/// Metadata key of the notes the rewrite leaves for the user.
pub const NOTE_KEY: &str = "gkrnet.note";

/// What the notes of a rewrite say (a float reference of a rewritten graph is marked so).
pub const REWRITTEN: &str = "rewritten into standard ONNX ops";

const ML: &str = "ai.onnx.ml";
const MS: &str = "com.microsoft";

/// Whether `(domain, op)` is rewritten here before import (recurrent layers excluded).
fn rewritten(domain: &str, op: &str) -> bool {
    match domain {
        MS => matches!(
            op,
            "QLinearAdd"
                | "QLinearMul"
                | "QLinearConcat"
                | "QLinearSigmoid"
                | "QLinearLeakyRelu"
                | "QLinearGlobalAveragePool"
                | "QLinearAveragePool"
                | "QGemm"
        ),
        ML => matches!(
            op,
            "LinearClassifier"
                | "LinearRegressor"
                | "Normalizer"
                | "ZipMap"
                | "ArrayFeatureExtractor"
                | "Scaler"
        ),
        _ => false,
    }
}

/// What a rewrite may ask of the graph around a node.
pub trait Env {
    /// The value of a constant tensor (initializer or Constant node).
    fn constant(&self, name: &str) -> Option<Const>;
    /// The node that produces tensor `name`.
    fn producer(&self, name: &str) -> Option<Node>;
}

/// New nodes and initializers replacing one node.
struct Emit {
    prefix: String,
    count: usize,
    nodes: Vec<pb::NodeProto>,
    inits: Vec<pb::TensorProto>,
    notes: Vec<String>,
}

impl Emit {
    fn new(node: &str) -> Self {
        Self {
            prefix: format!("{node}/gkrnet"),
            count: 0,
            nodes: Vec::new(),
            inits: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn fresh(&mut self, what: &str) -> String {
        self.count += 1;
        format!("{}.{what}{}", self.prefix, self.count)
    }

    /// A node writing `output`.
    fn to(&mut self, op: &str, inputs: &[&str], attrs: Vec<pb::AttributeProto>, output: &str) {
        let name = self.fresh(op);
        self.nodes.push(pb::NodeProto {
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.to_string()],
            name,
            op_type: op.to_string(),
            attribute: attrs,
            ..Default::default()
        });
    }

    /// A node writing a fresh tensor, returned.
    fn op(&mut self, op: &str, inputs: &[&str], attrs: Vec<pb::AttributeProto>) -> String {
        let out = self.fresh(&format!("{op}_out"));
        self.to(op, inputs, attrs, &out);
        out
    }

    fn floats(&mut self, dims: &[usize], data: Vec<f32>) -> String {
        let name = self.fresh("const");
        self.inits.push(pb::TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: 1,
            float_data: data,
            name: name.clone(),
            ..Default::default()
        });
        name
    }

    fn ints(&mut self, dims: &[usize], data: Vec<i64>) -> String {
        let name = self.fresh("const");
        self.inits.push(pb::TensorProto {
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: 7,
            int64_data: data,
            name: name.clone(),
            ..Default::default()
        });
        name
    }

    /// DequantizeLinear of `x` (zero point omitted when the node omits it).
    fn dq(&mut self, x: &str, scale: &str, zero: Option<&str>, axis: Option<i64>) -> String {
        let attrs = axis.map(|a| vec![int_attr("axis", a)]).unwrap_or_default();
        match zero {
            Some(z) => self.op("DequantizeLinear", &[x, scale, z], attrs),
            None => self.op("DequantizeLinear", &[x, scale], attrs),
        }
    }

    /// QuantizeLinear of `y` into `output`.
    fn q_to(&mut self, y: &str, scale: &str, zero: Option<&str>, output: &str) {
        match zero {
            Some(z) => self.to("QuantizeLinear", &[y, scale, z], vec![], output),
            None => self.to("QuantizeLinear", &[y, scale], vec![], output),
        }
    }
}

fn int_attr(name: &str, v: i64) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 2, i: v, ..Default::default() }
}

fn float_attr(name: &str, v: f32) -> pb::AttributeProto {
    pb::AttributeProto { name: name.into(), r#type: 1, f: v, ..Default::default() }
}

fn copy_attrs(n: &pb::NodeProto, skip: &[&str]) -> Vec<pb::AttributeProto> {
    n.attribute.iter().filter(|a| !skip.contains(&a.name.as_str())).cloned().collect()
}

/// The graph's node `n` as the importer reads it.
fn view(i: usize, n: &pb::NodeProto) -> Node {
    Node {
        name: if n.name.is_empty() { format!("#{i}") } else { n.name.clone() },
        op: n.op_type.clone(),
        domain: n.domain.clone(),
        inputs: n.input.clone(),
        outputs: n.output.clone(),
        attrs: n.attribute.iter().map(|a| (a.name.clone(), decode_attr(a))).collect(),
    }
}

/// Constants and producers of a protobuf graph, decoded on demand.
struct ProtoEnv<'p> {
    tensors: HashMap<&'p str, &'p pb::TensorProto>,
    producers: HashMap<String, Node>,
}

impl<'p> ProtoEnv<'p> {
    fn new(g: &'p pb::GraphProto) -> Self {
        let mut tensors: HashMap<&str, &pb::TensorProto> =
            g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
        for n in g.node.iter().filter(|n| n.op_type == "Constant" && n.domain.is_empty()) {
            let value = n.attribute.iter().find(|a| a.name == "value").and_then(|a| a.t.as_ref());
            if let (Some(t), Some(o)) = (value, n.output.first()) {
                tensors.insert(o.as_str(), t);
            }
        }
        Self { tensors, producers: HashMap::new() }
    }
}

impl Env for ProtoEnv<'_> {
    fn constant(&self, name: &str) -> Option<Const> {
        self.tensors.get(name).and_then(|t| decode_tensor(t).ok())
    }

    fn producer(&self, name: &str) -> Option<Node> {
        self.producers.get(name).cloned()
    }
}

/// Whether [`rewrite`] would change `proto`.
pub fn needed(proto: &pb::ModelProto) -> bool {
    proto.graph.as_ref().is_some_and(|g| g.node.iter().any(|n| rewritten(&n.domain, &n.op_type)))
}

/// Rewrites every com.microsoft and ai.onnx.ml node it can (see the module documentation); a
/// graph without them is left untouched.
pub fn rewrite(proto: &mut pb::ModelProto) -> Result<(), ImportError> {
    if !needed(proto) {
        return Ok(());
    }
    let Some(g) = proto.graph.as_ref() else { return Ok(()) };
    let mut env = ProtoEnv::new(g);
    let (mut nodes, mut inits, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    let mut retype = Vec::new();
    let mut ops: Vec<String> = Vec::new();
    for (i, n) in g.node.iter().enumerate() {
        let v = view(i, n);
        let planned = if rewritten(&n.domain, &n.op_type) { plan(n, &v, &env).ok() } else { None };
        if planned.is_some() && !ops.contains(&n.op_type) {
            ops.push(n.op_type.clone());
        }
        let Some(e) = planned else {
            for o in &n.output {
                env.producers.insert(o.clone(), v.clone());
            }
            nodes.push(n.clone());
            continue;
        };
        if n.op_type == "ZipMap" {
            retype.extend(n.output.iter().cloned());
        }
        for m in &e.nodes {
            let mv = view(0, m);
            for o in &m.output {
                env.producers.insert(o.clone(), mv.clone());
            }
        }
        // a rewritten node's own outputs keep a producer of its kind (Normalizer reads it)
        for o in &n.output {
            env.producers.entry(o.clone()).or_insert_with(|| v.clone());
        }
        nodes.extend(e.nodes);
        inits.extend(e.inits);
        for note in e.notes {
            if !notes.contains(&note) {
                notes.push(note);
            }
        }
    }
    drop(env);
    if !ops.is_empty() {
        let qop = ops.iter().any(|o| o.starts_with("QLinear") || o == "QGemm");
        let how =
            if qop { " (QOperator ops as DequantizeLinear → op → QuantizeLinear)" } else { "" };
        notes.insert(
            0,
            format!(
                "{} {REWRITTEN}{how}; the float reference runs the rewritten graph",
                ops.join(", ")
            ),
        );
    }
    let g = proto.graph.as_mut().ok_or_else(|| ImportError::Graph("no graph".into()))?;
    g.node = nodes;
    g.initializer.extend(inits);
    for out in g.output.iter_mut().filter(|o| retype.contains(&o.name)) {
        out.r#type = Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: 1,
                shape: None,
            })),
            ..Default::default()
        });
    }
    for value in notes {
        proto.metadata_props.push(pb::StringStringEntryProto { key: NOTE_KEY.into(), value });
    }
    if !proto.opset_import.iter().any(|o| o.domain.is_empty() || o.domain == "ai.onnx") {
        proto.opset_import.push(pb::OperatorSetIdProto { domain: String::new(), version: 13 });
    }
    Ok(())
}

/// Why node `n` (a com.microsoft or ai.onnx.ml op) cannot be rewritten, checked on the graph as
/// the importer reads it (the registry's check for these ops).
pub fn check(n: &Node, env: &dyn Env) -> Result<(), String> {
    let proto = pb::NodeProto {
        input: n.inputs.clone(),
        output: n.outputs.clone(),
        name: n.name.clone(),
        op_type: n.op.clone(),
        domain: n.domain.clone(),
        ..Default::default()
    };
    plan(&proto, n, env).map(|_| ())
}

fn plan(p: &pb::NodeProto, n: &Node, env: &dyn Env) -> Result<Emit, String> {
    let mut e = Emit::new(&n.name);
    let input = |i: usize| n.input(i).ok_or_else(|| format!("input {i} is missing"));
    let optional = |i: usize| n.input(i);
    let out = n.outputs.first().cloned().unwrap_or_default();
    if out.is_empty() && n.op != "LinearClassifier" {
        return Err("no output".into());
    }
    match (n.domain.as_str(), n.op.as_str()) {
        (MS, "QLinearAdd" | "QLinearMul") => {
            let a = e.dq(input(0)?, input(1)?, optional(2), None);
            let b = e.dq(input(3)?, input(4)?, optional(5), None);
            let op = if n.op == "QLinearAdd" { "Add" } else { "Mul" };
            let y = e.op(op, &[&a, &b], vec![]);
            e.q_to(&y, input(6)?, optional(7), &out);
        }
        (MS, "QLinearSigmoid" | "QLinearLeakyRelu") => {
            let x = e.dq(input(0)?, input(1)?, optional(2), None);
            let y = if n.op == "QLinearSigmoid" {
                e.op("Sigmoid", &[&x], vec![])
            } else {
                let alpha = n.float("alpha").map_err(|e| e.to_string())?.unwrap_or(0.01);
                e.op("LeakyRelu", &[&x], vec![float_attr("alpha", alpha as f32)])
            };
            e.q_to(&y, input(3)?, optional(4), &out);
        }
        (MS, "QLinearGlobalAveragePool" | "QLinearAveragePool") => {
            if n.int("channels_last").map_err(|e| e.to_string())?.unwrap_or(0) != 0 {
                return Err("channels_last = 1 (NCHW only)".into());
            }
            let x = e.dq(input(0)?, input(1)?, optional(2), None);
            let op = n.op.trim_start_matches("QLinear").to_string();
            let y = e.op(&op, &[&x], copy_attrs(p, &["channels_last"]));
            e.q_to(&y, input(3)?, optional(4), &out);
        }
        (MS, "QLinearConcat") => {
            let parts = n.inputs.len().checked_sub(2).filter(|k| k % 3 == 0 && *k > 0);
            let parts = parts.ok_or("inputs are not Y_scale, Y_zero_point and triples")? / 3;
            let mut xs = Vec::with_capacity(parts);
            for k in 0..parts {
                xs.push(e.dq(input(2 + 3 * k)?, input(3 + 3 * k)?, optional(4 + 3 * k), None));
            }
            let refs: Vec<&str> = xs.iter().map(String::as_str).collect();
            let y = e.op("Concat", &refs, copy_attrs(p, &[]));
            e.q_to(&y, input(0)?, optional(1), &out);
        }
        (MS, "QGemm") => qgemm(n, p, env, &mut e, &out)?,
        (ML, "LinearClassifier") => linear_classifier(n, &mut e)?,
        (ML, "LinearRegressor") => {
            let x = input(0)?;
            let targets = n.int("targets").map_err(|e| e.to_string())?.unwrap_or(1);
            let post = n.string("post_transform").map_err(|e| e.to_string())?;
            if post.as_deref().is_some_and(|s| s != "NONE") {
                return Err(format!("post_transform {post:?} (NONE only)"));
            }
            let (w, b) = affine(n, usize::try_from(targets).map_err(|_| "targets < 0")?)?;
            let y = linear(&mut e, x, &w, &b);
            e.to("Identity", &[&y], vec![], &out);
        }
        (ML, "Normalizer") => {
            let norm = n.string("norm").map_err(|e| e.to_string())?.unwrap_or_default();
            let x = input(0)?;
            let softmax = env.producer(x).is_some_and(|s| {
                s.op == "Softmax"
                    || (s.op == "LinearClassifier"
                        && s.string("post_transform").ok().flatten().as_deref() == Some("SOFTMAX"))
            });
            if norm != "L1" || !softmax {
                return Err(format!(
                    "norm {norm:?} of a tensor that is not a softmax (L1 of a softmax only, \
                     which is the softmax itself)"
                ));
            }
            e.to("Identity", &[x], vec![], &out);
        }
        (ML, "ZipMap") => {
            e.to("Identity", &[input(0)?], vec![], &out);
            e.notes.push(format!(
                "ZipMap {:?}: the probabilities are proven as a tensor in class order; the map \
                 from class labels to them is made outside the proof",
                n.name
            ));
        }
        (ML, "ArrayFeatureExtractor") if env.constant(input(0)?).is_none() => {
            // columns of a computed tensor picked by constant indices: a Gather on the last axis
            let idx = env.constant(input(1)?).ok_or("neither input is a constant")?;
            let idx: Vec<i64> = idx.data.iter().map(|&v| v as i64).collect();
            let idx = e.ints(&[idx.len()], idx);
            e.to("Gather", &[input(0)?, &idx], vec![int_attr("axis", -1)], &out);
        }
        (ML, "Scaler") => {
            // (x − offset)·scale, per feature or one value for all
            let floats = |name: &str| match n.attrs.get(name) {
                Some(Attr::Floats(v)) if !v.is_empty() => Ok(v.clone()),
                None => Ok(Vec::new()),
                Some(_) => Err(format!("{name} is not a list of floats")),
            };
            let (offset, scale) = (floats("offset")?, floats("scale")?);
            let mut x = input(0)?.to_string();
            if !offset.is_empty() {
                let c = e.floats(&[offset.len()], offset);
                x = e.op("Sub", &[&x, &c], vec![]);
            }
            let scale = if scale.is_empty() { vec![1.0] } else { scale };
            let c = e.floats(&[scale.len()], scale);
            e.to("Mul", &[&x, &c], vec![], &out);
        }
        (ML, "ArrayFeatureExtractor") => {
            let classes = env.constant(input(0)?).ok_or("input 0 is not a constant")?;
            let identity = classes.dims.len() == 1
                && classes.data.iter().enumerate().all(|(i, &v)| v == i as f64);
            if !identity {
                return Err("a class list that is not 0…n−1 (the label would be a lookup of the \
                            proven index; export the classes as 0…n−1)"
                    .into());
            }
            let shape = e.ints(&[2], vec![1, -1]);
            e.to("Reshape", &[input(1)?, &shape], vec![], &out);
        }
        _ => return Err(format!("{} has no rewrite", n.op)),
    }
    Ok(e)
}

/// The rows × features weights and the intercepts of an ai.onnx.ml linear op with `rows` rows.
fn affine(n: &Node, rows: usize) -> Result<(Vec<Vec<f32>>, Vec<f32>), String> {
    let coefficients = match n.attrs.get("coefficients") {
        Some(Attr::Floats(c)) => c.clone(),
        _ => return Err("no coefficients".into()),
    };
    if rows == 0 || coefficients.is_empty() || coefficients.len() % rows != 0 {
        return Err(format!("{} coefficients for {rows} rows", coefficients.len()));
    }
    let features = coefficients.len() / rows;
    let intercepts = match n.attrs.get("intercepts") {
        Some(Attr::Floats(b)) if b.len() == rows => b.clone(),
        Some(Attr::Floats(b)) => return Err(format!("{} intercepts for {rows} rows", b.len())),
        None => vec![0.0; rows],
        Some(_) => return Err("intercepts are not floats".into()),
    };
    Ok((coefficients.chunks(features).map(<[f32]>::to_vec).collect(), intercepts))
}

/// x·Wᵀ + b for weights `w` (rows × features).
fn linear(e: &mut Emit, x: &str, w: &[Vec<f32>], b: &[f32]) -> String {
    let (rows, features) = (w.len(), w.first().map_or(0, Vec::len));
    let mut wt = Vec::with_capacity(rows * features);
    for f in 0..features {
        wt.extend(w.iter().map(|r| r.get(f).copied().unwrap_or(0.0)));
    }
    let wt = e.floats(&[features, rows], wt);
    let bias = e.floats(&[rows], b.to_vec());
    let xw = e.op("MatMul", &[x, &wt], vec![]);
    e.op("Add", &[&xw, &bias], vec![])
}

/// LinearClassifier: scores x·Wᵀ + b, the post-transform, and the label as their ArgMax.
fn linear_classifier(n: &Node, e: &mut Emit) -> Result<(), String> {
    let x = n.input(0).ok_or("input 0 is missing")?;
    if n.attrs.contains_key("classlabels_strings") {
        return Err("string class labels (export with integer labels 0…n−1)".into());
    }
    let labels = match n.attrs.get("classlabels_ints") {
        Some(Attr::Ints(l)) => l.clone(),
        _ => return Err("no classlabels_ints".into()),
    };
    if labels.iter().enumerate().any(|(i, &l)| l != i as i64) {
        return Err(format!("class labels {labels:?} (0…n−1 only: the label is the index)"));
    }
    let (w, b) = affine(n, labels.len()).map_err(|r| {
        format!(
            "{r} (one row of coefficients per class; a binary model with one row is not supported)"
        )
    })?;
    let post = n.string("post_transform").map_err(|e| e.to_string())?;
    let scores = linear(e, x, &w, &b);
    if let Some(label) = n.outputs.first().filter(|o| !o.is_empty()) {
        let attrs = vec![int_attr("axis", 1), int_attr("keepdims", 0)];
        e.to("ArgMax", &[&scores], attrs, label);
    }
    if let Some(z) = n.outputs.get(1).filter(|o| !o.is_empty()) {
        match post.as_deref().unwrap_or("NONE") {
            "NONE" => e.to("Identity", &[&scores], vec![], z),
            "SOFTMAX" => e.to("Softmax", &[&scores], vec![int_attr("axis", 1)], z),
            "LOGISTIC" => e.to("Sigmoid", &[&scores], vec![], z),
            other => return Err(format!("post_transform {other:?} (NONE, SOFTMAX or LOGISTIC)")),
        }
    }
    Ok(())
}

/// QGemm: dequantized A and B, the int32 bias C at scale a_scale·b_scale, Gemm, and the
/// QuantizeLinear of the output when the node gives its scale.
fn qgemm(
    n: &Node,
    p: &pb::NodeProto,
    env: &dyn Env,
    e: &mut Emit,
    out: &str,
) -> Result<(), String> {
    let input = |i: usize| n.input(i).ok_or_else(|| format!("input {i} is missing"));
    let trans_b = n.int("transB").map_err(|e| e.to_string())?.unwrap_or(0);
    let a_scale = env.constant(input(1)?).and_then(|c| c.scalar());
    let a_scale = a_scale.ok_or("a_scale is not a constant scalar")?;
    let b_scale = env.constant(input(4)?).ok_or("b_scale is not a constant")?;
    let per_channel = b_scale.len() > 1;
    let axis = per_channel.then_some(if trans_b != 0 { 0 } else { 1 });
    let a = e.dq(input(0)?, input(1)?, n.input(2), None);
    let b = e.dq(input(3)?, input(4)?, n.input(5), axis);
    let mut inputs = vec![a, b];
    if let Some(c) = n.input(6) {
        let scale: Vec<f32> = b_scale.data.iter().map(|&s| (s * a_scale) as f32).collect();
        let scale =
            if per_channel { e.floats(&[scale.len()], scale) } else { e.floats(&[], scale) };
        inputs.push(e.dq(c, &scale, None, per_channel.then_some(0)));
    }
    let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let attrs = copy_attrs(p, &[]);
    match n.input(7) {
        Some(y_scale) => {
            let y = e.op("Gemm", &refs, attrs);
            e.q_to(&y, y_scale, n.input(8), out);
        }
        None => e.to("Gemm", &refs, attrs, out),
    }
    Ok(())
}

/// The recurrent ops [`unroll`] expands.
fn is_recurrent(n: &pb::NodeProto) -> bool {
    (n.domain.is_empty() || n.domain == "ai.onnx")
        && matches!(n.op_type.as_str(), "LSTM" | "GRU" | "RNN")
}

/// Whether the graph holds an LSTM, GRU or RNN node.
pub fn recurrent(proto: &pb::ModelProto) -> bool {
    proto.graph.as_ref().is_some_and(|g| g.node.iter().any(is_recurrent))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cell {
    /// Gates i, o, f, c (ONNX order).
    Lstm,
    /// Gates z, r, h.
    Gru {
        linear_before_reset: bool,
    },
    Rnn,
}

impl Cell {
    fn gates(self) -> usize {
        match self {
            Cell::Lstm => 4,
            Cell::Gru { .. } => 3,
            Cell::Rnn => 1,
        }
    }

    /// Activations per direction, and their defaults.
    fn activations(self) -> &'static [&'static str] {
        match self {
            Cell::Lstm => &["Sigmoid", "Tanh", "Tanh"],
            Cell::Gru { .. } => &["Sigmoid", "Tanh"],
            Cell::Rnn => &["Tanh"],
        }
    }
}

/// A recurrent node as the unrolling reads it (everything but the sequence length).
struct Recurrent {
    cell: Cell,
    hidden: usize,
    /// Per direction: whether it runs backwards in time.
    reverse: Vec<bool>,
    /// Batch-major layout (X is [batch, seq, input]).
    batch_major: bool,
    w: Const,
    r: Const,
    b: Option<Const>,
    peepholes: Option<Const>,
    /// Initial hidden and cell states, when given and not zero.
    h0: Option<String>,
    c0: Option<String>,
    /// ONNX op names of the activations, per direction.
    acts: Vec<Vec<String>>,
}

/// Whether tensor `name` is all zeros: a constant, or a zero constant through Expand, Tile,
/// Identity, Cast and reshapes (how exporters write a zero initial state), or ConstantOfShape 0.
fn is_zero(env: &dyn Env, name: &str, depth: usize) -> bool {
    if let Some(c) = env.constant(name) {
        return c.data.iter().all(|&v| v == 0.0);
    }
    let Some(p) = env.producer(name).filter(|_| depth < 16) else { return false };
    match p.op.as_str() {
        "Expand" | "Tile" | "Identity" | "Cast" | "Reshape" | "Unsqueeze" | "Squeeze"
        | "Transpose" | "Flatten" => p.input(0).is_some_and(|x| is_zero(env, x, depth + 1)),
        "ConstantOfShape" => match p.attrs.get("value") {
            None => true,
            Some(Attr::Tensor(c)) => c.data.iter().all(|&v| v == 0.0),
            Some(_) => false,
        },
        _ => false,
    }
}

fn dims_are(c: &Const, want: &[usize], what: &str) -> Result<(), String> {
    if c.dims != want {
        return Err(format!("{what} has dimensions {:?}, expected {want:?}", c.dims));
    }
    Ok(())
}

impl Recurrent {
    fn read(n: &Node, env: &dyn Env) -> Result<Self, String> {
        let text = |e: ImportError| e.to_string();
        let cell = match n.op.as_str() {
            "LSTM" => Cell::Lstm,
            "GRU" => Cell::Gru {
                linear_before_reset: n.int("linear_before_reset").map_err(text)?.unwrap_or(0) != 0,
            },
            "RNN" => Cell::Rnn,
            op => return Err(format!("{op} is not a recurrent op")),
        };
        let hidden = n.int("hidden_size").map_err(text)?.ok_or("no hidden_size")?;
        let hidden = usize::try_from(hidden)
            .ok()
            .filter(|&h| (1..=4096).contains(&h))
            .ok_or(format!("hidden_size {hidden} (1 to 4096)"))?;
        let direction = n.string("direction").map_err(text)?.unwrap_or_else(|| "forward".into());
        let reverse = match direction.as_str() {
            "forward" => vec![false],
            "reverse" => vec![true],
            "bidirectional" => vec![false, true],
            d => return Err(format!("direction {d:?}")),
        };
        let batch_major = match n.int("layout").map_err(text)?.unwrap_or(0) {
            0 => false,
            1 => true,
            l => return Err(format!("layout {l}")),
        };
        if n.attrs.contains_key("clip") {
            return Err("clip (cell clipping) is not supported".into());
        }
        if n.int("input_forget").map_err(text)?.unwrap_or(0) != 0 {
            return Err("input_forget = 1 (coupled input and forget gates)".into());
        }
        if n.attrs.contains_key("activation_alpha") || n.attrs.contains_key("activation_beta") {
            return Err("activation_alpha/activation_beta (parametrized activations)".into());
        }
        let per = cell.activations().len();
        let names: Vec<String> = match n.attrs.get("activations") {
            None => reverse
                .iter()
                .flat_map(|_| cell.activations().iter().map(|s| s.to_string()))
                .collect(),
            Some(Attr::Strs(a)) => a.clone(),
            Some(_) => return Err("activations is not a list of strings".into()),
        };
        if names.len() != per * reverse.len() {
            return Err(format!("{} activations for {} directions", names.len(), reverse.len()));
        }
        let mut acts = Vec::new();
        for chunk in names.chunks(per) {
            let mut dir = Vec::new();
            for a in chunk {
                dir.push(match a.to_ascii_lowercase().as_str() {
                    "sigmoid" => "Sigmoid".to_string(),
                    "tanh" => "Tanh".to_string(),
                    "relu" => "Relu".to_string(),
                    _ => return Err(format!("activation {a:?} (Sigmoid, Tanh or Relu)")),
                });
            }
            acts.push(dir);
        }
        let constant = |i: usize, what: &str| -> Result<Option<Const>, String> {
            match n.input(i) {
                None => Ok(None),
                Some(x) => env.constant(x).map(Some).ok_or(format!("{what} is not a constant")),
            }
        };
        let (dirs, rows) = (reverse.len(), cell.gates() * hidden);
        let w = constant(1, "W")?.ok_or("no W")?;
        let inputs = w.dims.get(2).copied().ok_or("W is not of rank 3")?;
        dims_are(&w, &[dirs, rows, inputs], "W")?;
        let r = constant(2, "R")?.ok_or("no R")?;
        dims_are(&r, &[dirs, rows, hidden], "R")?;
        let b = constant(3, "B")?;
        if let Some(b) = &b {
            dims_are(b, &[dirs, 2 * rows], "B")?;
        }
        if n.input(4).is_some() {
            return Err("sequence_lens (sequences of different lengths)".into());
        }
        let state = |i: usize| n.input(i).filter(|x| !is_zero(env, x, 0)).map(str::to_string);
        let (h0, c0) = (state(5), if cell == Cell::Lstm { state(6) } else { None });
        let peepholes = if cell == Cell::Lstm { constant(7, "P")? } else { None };
        if let Some(p) = &peepholes {
            dims_are(p, &[dirs, 3 * hidden], "P")?;
        }
        Ok(Self { cell, hidden, reverse, batch_major, w, r, b, peepholes, h0, c0, acts })
    }

    /// Rows `gate·H … (gate+1)·H` of direction `d` of a [dirs, G·H, K] weight, transposed to [K, H].
    fn gate_weight(&self, e: &mut Emit, m: &Const, d: usize, gate: usize) -> String {
        let (h, k) = (self.hidden, m.dims.get(2).copied().unwrap_or(0));
        let base = (d * self.cell.gates() * h + gate * h) * k;
        let mut t = Vec::with_capacity(k * h);
        for col in 0..k {
            for row in 0..h {
                t.push(m.data.get(base + row * k + col).copied().unwrap_or(0.0) as f32);
            }
        }
        e.floats(&[k, h], t)
    }

    /// Bias of a gate: Wb (+ Rb unless `split`), and Rb alone.
    fn gate_bias(&self, d: usize, gate: usize) -> (Vec<f32>, Vec<f32>) {
        let (h, g) = (self.hidden, self.cell.gates());
        let at =
            |i: usize| self.b.as_ref().and_then(|b| b.data.get(i)).copied().unwrap_or(0.0) as f32;
        let wb = (0..h).map(|j| at(d * 2 * g * h + gate * h + j)).collect();
        let rb = (0..h).map(|j| at(d * 2 * g * h + g * h + gate * h + j)).collect();
        (wb, rb)
    }

    /// Row `d` of a [dirs, B, H] state as [B, H].
    fn state(&self, e: &mut Emit, name: &Option<String>, d: usize) -> Option<String> {
        let name = name.as_ref()?;
        let index = e.ints(&[], vec![d as i64]);
        Some(e.op("Gather", &[name, &index], vec![int_attr("axis", 0)]))
    }
}

/// Unrolls every LSTM, GRU and RNN node over the sequence length of its input at model input
/// dimensions `input_dims` (each graph input's, in graph order; read from tract's run of the
/// graph as given).
pub fn unroll(proto: &mut pb::ModelProto, input_dims: &[Vec<usize>]) -> Result<(), ImportError> {
    if !recurrent(proto) {
        return Ok(());
    }
    let g = proto.graph.as_ref().ok_or_else(|| ImportError::Graph("no graph".into()))?;
    let xs: Vec<String> = g
        .node
        .iter()
        .filter(|n| is_recurrent(n))
        .filter_map(|n| n.input.first().cloned())
        .collect();
    let outputs: Vec<String> = g.output.iter().map(|o| o.name.clone()).collect();
    let mut shapes: HashMap<String, Vec<usize>> = {
        let reference = super::FloatReference::with_inputs(proto, input_dims, &outputs, &xs)?;
        let zeros = vec![0f32; input_dims.iter().map(|d| d.iter().product::<usize>()).sum()];
        reference.run(&zeros)?.into_iter().map(|(k, (dims, _))| (k, dims)).collect()
    };
    // a recurrent layer may read the graph input itself
    let initializers: std::collections::HashSet<&str> =
        g.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs = g.input.iter().filter(|i| !initializers.contains(i.name.as_str()));
    for (i, dims) in inputs.zip(input_dims) {
        shapes.insert(i.name.clone(), dims.clone());
    }
    let mut env = ProtoEnv::new(g);
    for (i, n) in g.node.iter().enumerate() {
        let v = view(i, n);
        for o in &n.output {
            env.producers.insert(o.clone(), v.clone());
        }
    }
    let (mut nodes, mut inits, mut notes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, n) in g.node.iter().enumerate() {
        if !is_recurrent(n) {
            nodes.push(n.clone());
            continue;
        }
        let v = view(i, n);
        let refuse = |reason: String| ImportError::Unsupported {
            op: v.op.clone(),
            node: v.name.clone(),
            reason,
        };
        let spec = Recurrent::read(&v, &env).map_err(refuse)?;
        let x = v.input(0).ok_or_else(|| refuse("no input X".into()))?;
        let dims = shapes.get(x).ok_or_else(|| refuse(format!("no shape for X {x:?}")))?;
        let e = unroll_node(&v, &spec, x, dims).map_err(refuse)?;
        let steps = if spec.batch_major { dims.get(1) } else { dims.first() };
        notes.push(format!(
            "{} {:?} unrolled over {} steps and {REWRITTEN} ({} nodes); the float reference \
             runs the unrolled graph",
            v.op,
            v.name,
            steps.copied().unwrap_or(0),
            e.nodes.len()
        ));
        nodes.extend(e.nodes);
        inits.extend(e.inits);
    }
    drop(env);
    let g = proto.graph.as_mut().ok_or_else(|| ImportError::Graph("no graph".into()))?;
    g.node = nodes;
    g.initializer.extend(inits);
    for value in notes {
        proto.metadata_props.push(pb::StringStringEntryProto { key: NOTE_KEY.into(), value });
    }
    Ok(())
}

/// Why a recurrent node cannot be unrolled (its registry check).
pub fn check_recurrent(n: &Node, env: &dyn Env) -> Result<(), String> {
    Recurrent::read(n, env).map(|_| ())
}

/// One direction's hidden (and cell) state after each time step, in time order.
struct Run {
    h: Vec<String>,
    c: Vec<String>,
}

fn unroll_node(n: &Node, s: &Recurrent, x: &str, dims: &[usize]) -> Result<Emit, String> {
    let [a, b, inputs] = dims[..] else {
        return Err(format!("X has dimensions {dims:?} (rank 3)"));
    };
    let (steps, _batch) = if s.batch_major { (b, a) } else { (a, b) };
    if Some(&inputs) != s.w.dims.get(2) {
        return Err(format!("X has {inputs} features, W {:?}", s.w.dims));
    }
    if steps == 0 || steps > 4096 {
        return Err(format!("sequence length {steps} (1 to 4096)"));
    }
    let mut e = Emit::new(&n.name);
    let seq_axis = i64::from(s.batch_major);
    let xt: Vec<String> = (0..steps)
        .map(|t| {
            let index = e.ints(&[], vec![t as i64]);
            e.op("Gather", &[x, &index], vec![int_attr("axis", seq_axis)])
        })
        .collect();
    let runs: Vec<Run> = (0..s.reverse.len()).map(|d| direction(&mut e, s, &xt, d)).collect();
    let h = s.hidden as i64;
    // Y: [seq, dirs, batch, H] (layout 0) or [batch, seq, dirs, H]
    if let Some(y) = n.outputs.first().filter(|o| !o.is_empty()) {
        let shape = if s.batch_major { vec![-1, 1, 1, h] } else { vec![1, 1, -1, h] };
        let (time_axis, dir_axis) = if s.batch_major { (1, 2) } else { (0, 1) };
        let per_dir: Vec<String> = runs
            .iter()
            .map(|r| {
                let parts: Vec<String> = r.h.iter().map(|ht| reshape(&mut e, ht, &shape)).collect();
                concat(&mut e, &parts, time_axis)
            })
            .collect();
        let all = concat(&mut e, &per_dir, dir_axis);
        e.to("Identity", &[&all], vec![], y);
    }
    // Y_h, Y_c: [dirs, batch, H] (layout 0) or [batch, dirs, H]
    let shape = if s.batch_major { vec![-1, 1, h] } else { vec![1, -1, h] };
    let axis = i64::from(s.batch_major);
    for (k, cell_state) in [(1usize, false), (2, true)] {
        let Some(out) = n.outputs.get(k).filter(|o| !o.is_empty()) else { continue };
        let mut parts = Vec::new();
        for (r, reverse) in runs.iter().zip(&s.reverse) {
            // the state after the direction's last step
            let seq = if cell_state { &r.c } else { &r.h };
            let state = if *reverse { seq.first() } else { seq.last() };
            let state =
                state.filter(|x| !x.is_empty()).ok_or("Y_c of a cell without a cell state")?;
            parts.push(reshape(&mut e, state, &shape));
        }
        let all = concat(&mut e, &parts, axis);
        e.to("Identity", &[&all], vec![], out);
    }
    Ok(e)
}

/// x ⊙ c for a constant row c of mixed signs, as x·diag(c) (a dense layer: the importer's
/// per-channel multipliers are positive).
fn times_row(e: &mut Emit, x: &str, row: &[f32]) -> String {
    let h = row.len();
    let mut diag = vec![0f32; h * h];
    for (j, &v) in row.iter().enumerate() {
        if let Some(d) = diag.get_mut(j * h + j) {
            *d = v;
        }
    }
    let diag = e.floats(&[h, h], diag);
    e.op("MatMul", &[x, &diag], vec![])
}

fn reshape(e: &mut Emit, x: &str, shape: &[i64]) -> String {
    let s = e.ints(&[shape.len()], shape.to_vec());
    e.op("Reshape", &[x, &s], vec![])
}

fn concat(e: &mut Emit, parts: &[String], axis: i64) -> String {
    match parts {
        [one] => one.clone(),
        _ => {
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            e.op("Concat", &refs, vec![int_attr("axis", axis)])
        }
    }
}

/// −(x·W_zᵀ + h·R_zᵀ + b_z): the GRU's update gate pre-activation negated (weights negated
/// as constants).
fn negated(
    e: &mut Emit,
    s: &Recurrent,
    x: &str,
    h: Option<&String>,
    w: &str,
    r: &str,
    d: usize,
) -> String {
    let neg = |e: &mut Emit, m: &str| -> String {
        let minus = e.floats(&[], vec![-1.0]);
        e.op("Mul", &[m, &minus], vec![])
    };
    let wn = neg(e, w);
    let mut sum = e.op("MatMul", &[x, &wn], vec![]);
    if let Some(hp) = h {
        let rn = neg(e, r);
        let hr = e.op("MatMul", &[hp, &rn], vec![]);
        sum = e.op("Add", &[&sum, &hr], vec![]);
    }
    let (wb, rb) = s.gate_bias(d, 0);
    let bias: Vec<f32> = wb.iter().zip(&rb).map(|(a, b)| -(a + b)).collect();
    let bias = e.floats(&[s.hidden], bias);
    e.op("Add", &[&sum, &bias], vec![])
}

/// The steps of direction `d`: the state after each time step, in time order.
fn direction(e: &mut Emit, s: &Recurrent, xt: &[String], d: usize) -> Run {
    let gates = s.cell.gates();
    let ws: Vec<String> = (0..gates).map(|k| s.gate_weight(e, &s.w, d, k)).collect();
    let rs: Vec<String> = (0..gates).map(|k| s.gate_weight(e, &s.r, d, k)).collect();
    let acts = s.acts.get(d).cloned().unwrap_or_default();
    let act = |i: usize| acts.get(i).cloned().unwrap_or_else(|| "Tanh".into());
    let mut h = s.state(e, &s.h0, d);
    let mut c = s.state(e, &s.c0, d);
    let order: Vec<usize> = if s.reverse.get(d) == Some(&true) {
        (0..xt.len()).rev().collect()
    } else {
        (0..xt.len()).collect()
    };
    let (mut hs, mut cs) = (vec![String::new(); xt.len()], vec![String::new(); xt.len()]);
    for t in order {
        let x = &xt[t];
        // x·Wₖᵀ (+ h·Rₖᵀ) + bias for gate k; `recurrent_bias`: whether Rb joins the sum
        let pre = |e: &mut Emit, k: usize, with_h: bool, recurrent_bias: bool| -> String {
            let (wb, rb) = s.gate_bias(d, k);
            let bias: Vec<f32> =
                wb.iter().zip(&rb).map(|(a, b)| if recurrent_bias { a + b } else { *a }).collect();
            let mut sum = e.op("MatMul", &[x, &ws[k]], vec![]);
            if let Some(hp) = h.as_ref().filter(|_| with_h) {
                let hr = e.op("MatMul", &[hp, &rs[k]], vec![]);
                sum = e.op("Add", &[&sum, &hr], vec![]);
            }
            let bias = e.floats(&[s.hidden], bias);
            e.op("Add", &[&sum, &bias], vec![])
        };
        match s.cell {
            Cell::Rnn => {
                let a = pre(e, 0, true, true);
                let next = e.op(&act(0), &[&a], vec![]);
                h = Some(next.clone());
                hs[t] = next;
            }
            Cell::Lstm => {
                let peep = |e: &mut Emit, k: usize, a: String, state: &Option<String>| -> String {
                    match (&s.peepholes, state) {
                        (Some(p), Some(cs)) => {
                            let row: Vec<f32> = (0..s.hidden)
                                .map(|j| {
                                    p.data
                                        .get(d * 3 * s.hidden + k * s.hidden + j)
                                        .copied()
                                        .unwrap_or(0.0) as f32
                                })
                                .collect();
                            let m = times_row(e, cs, &row);
                            e.op("Add", &[&a, &m], vec![])
                        }
                        _ => a,
                    }
                };
                // ONNX gate order i, o, f, c; peepholes i, o, f
                let ai = pre(e, 0, true, true);
                let ai = peep(e, 0, ai, &c);
                let af = pre(e, 2, true, true);
                let af = peep(e, 2, af, &c);
                let ac = pre(e, 3, true, true);
                let i = e.op(&act(0), &[&ai], vec![]);
                let f = e.op(&act(0), &[&af], vec![]);
                let g = e.op(&act(1), &[&ac], vec![]);
                let ig = e.op("Mul", &[&i, &g], vec![]);
                let next_c = match &c {
                    Some(cp) => {
                        let fc = e.op("Mul", &[&f, cp], vec![]);
                        e.op("Add", &[&fc, &ig], vec![])
                    }
                    None => ig,
                };
                let ao = pre(e, 1, true, true);
                let ao = peep(e, 1, ao, &Some(next_c.clone()));
                let o = e.op(&act(0), &[&ao], vec![]);
                let hc = e.op(&act(2), &[&next_c], vec![]);
                let next_h = e.op("Mul", &[&o, &hc], vec![]);
                c = Some(next_c.clone());
                h = Some(next_h.clone());
                hs[t] = next_h;
                cs[t] = next_c;
            }
            Cell::Gru { linear_before_reset } => {
                let az = pre(e, 0, true, true);
                let ar = pre(e, 1, true, true);
                let z = e.op(&act(0), &[&az], vec![]);
                let r = e.op(&act(0), &[&ar], vec![]);
                let (_, rbh) = s.gate_bias(d, 2);
                let ah = match (&h, linear_before_reset) {
                    (None, false) => pre(e, 2, false, true),
                    (None, true) => {
                        // r ⊙ (0·Rₕᵀ + Rbₕ)
                        let xa = pre(e, 2, false, false);
                        let m = times_row(e, &r, &rbh);
                        e.op("Add", &[&xa, &m], vec![])
                    }
                    (Some(hp), false) => {
                        let xa = pre(e, 2, false, true);
                        let rh = e.op("Mul", &[&r, hp], vec![]);
                        let m = e.op("MatMul", &[&rh, &rs[2]], vec![]);
                        e.op("Add", &[&xa, &m], vec![])
                    }
                    (Some(hp), true) => {
                        let xa = pre(e, 2, false, false);
                        let hr = e.op("MatMul", &[hp, &rs[2]], vec![]);
                        let rbh = e.floats(&[s.hidden], rbh);
                        let hr = e.op("Add", &[&hr, &rbh], vec![]);
                        let m = e.op("Mul", &[&r, &hr], vec![]);
                        e.op("Add", &[&xa, &m], vec![])
                    }
                };
                let hh = e.op(&act(1), &[&ah], vec![]);
                // (1 − z) ⊙ h̃ + z ⊙ h, with 1 − z = σ(−a_z) when the gate is a sigmoid: the
                // importer adds tensors with positive weights only
                let one_minus_z = if act(0) == "Sigmoid" {
                    let neg = negated(e, s, x, h.as_ref(), &ws[0], &rs[0], d);
                    e.op("Sigmoid", &[&neg], vec![])
                } else {
                    let one = e.floats(&[], vec![1.0]);
                    e.op("Sub", &[&one, &z], vec![])
                };
                let keep = e.op("Mul", &[&one_minus_z, &hh], vec![]);
                let next = match &h {
                    Some(hp) => {
                        let m = e.op("Mul", &[&z, hp], vec![]);
                        e.op("Add", &[&keep, &m], vec![])
                    }
                    None => keep,
                };
                h = Some(next.clone());
                hs[t] = next;
            }
        }
    }
    Run { h: hs, c: cs }
}
