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

mod recurrent;
pub use recurrent::{check_recurrent, recurrent, unroll};
