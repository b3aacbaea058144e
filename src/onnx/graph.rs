//! The ONNX graph as the importer reads it: nodes in file order (ONNX requires a topological
//! order), constants decoded from the protobuf ourselves (so that an int8 weight behind a
//! DequantizeLinear stays int8, whatever tract's optimizer later folds), one input and one or
//! more outputs.

use super::ImportError;
use std::collections::HashMap;
use tract_onnx::pb;

/// ONNX element types the importer reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dtype {
    F32,
    F64,
    I8,
    U8,
    I16,
    U16,
    I32,
    I64,
    Bool,
}

impl Dtype {
    fn from_onnx(code: i32) -> Option<Self> {
        Some(match code {
            1 => Dtype::F32,
            2 => Dtype::U8,
            3 => Dtype::I8,
            4 => Dtype::U16,
            5 => Dtype::I16,
            6 => Dtype::I32,
            7 => Dtype::I64,
            9 => Dtype::Bool,
            11 => Dtype::F64,
            _ => return None,
        })
    }

    pub fn is_float(self) -> bool {
        matches!(self, Dtype::F32 | Dtype::F64)
    }
}

/// A constant tensor; every supported type widens exactly to f64.
#[derive(Clone, Debug, PartialEq)]
pub struct Const {
    pub dims: Vec<usize>,
    pub dtype: Dtype,
    pub data: Vec<f64>,
}

impl Const {
    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn scalar(&self) -> Option<f64> {
        (self.data.len() == 1).then(|| self.data[0])
    }
}

/// A node attribute (the kinds the supported ops use).
#[derive(Clone, Debug)]
pub enum Attr {
    Int(i64),
    Ints(Vec<i64>),
    Float(f32),
    Floats(Vec<f32>),
    Str(String),
    Strs(Vec<String>),
    Tensor(Const),
    Other,
}

#[derive(Clone, Debug)]
pub struct Node {
    pub name: String,
    pub op: String,
    pub domain: String,
    pub inputs: Vec<String>,
    pub outputs: Vec<String>,
    pub attrs: HashMap<String, Attr>,
}

/// A dimension of the declared input: fixed, or symbolic (fixed later from the actual input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Dim {
    Fixed(usize),
    Symbol(String),
}

/// One (non-initializer) graph input: a float tensor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphInput {
    pub name: String,
    pub dims: Vec<Dim>,
    /// An integer input (token ids), which only an embedding Gather may read.
    pub integer: bool,
}

#[derive(Clone, Debug)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub consts: HashMap<String, Const>,
    /// The graph inputs, in graph order (at least one, each a float tensor).
    pub inputs: Vec<GraphInput>,
    /// The graph outputs, in graph order (at least one, each a tensor).
    pub outputs: Vec<String>,
    pub opset: i64,
}

impl Node {
    fn error(&self, reason: impl Into<String>) -> ImportError {
        ImportError::Node { op: self.op.clone(), node: self.name.clone(), reason: reason.into() }
    }

    pub fn int(&self, name: &str) -> Result<Option<i64>, ImportError> {
        match self.attrs.get(name) {
            None => Ok(None),
            Some(Attr::Int(v)) => Ok(Some(*v)),
            Some(_) => Err(self.error(format!("attribute {name} is not an integer"))),
        }
    }

    pub fn ints(&self, name: &str) -> Result<Option<Vec<i64>>, ImportError> {
        match self.attrs.get(name) {
            None => Ok(None),
            Some(Attr::Ints(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.error(format!("attribute {name} is not a list of integers"))),
        }
    }

    pub fn float(&self, name: &str) -> Result<Option<f64>, ImportError> {
        match self.attrs.get(name) {
            None => Ok(None),
            Some(Attr::Float(v)) => Ok(Some(*v as f64)),
            Some(_) => Err(self.error(format!("attribute {name} is not a float"))),
        }
    }

    pub fn string(&self, name: &str) -> Result<Option<String>, ImportError> {
        match self.attrs.get(name) {
            None => Ok(None),
            Some(Attr::Str(v)) => Ok(Some(v.clone())),
            Some(_) => Err(self.error(format!("attribute {name} is not a string"))),
        }
    }

    /// Input `i` when present (ONNX marks an omitted optional input by an empty name).
    pub fn input(&self, i: usize) -> Option<&str> {
        self.inputs.get(i).map(String::as_str).filter(|s| !s.is_empty())
    }
}

/// Decodes a tensor; errors name the tensor and what is unsupported.
pub fn decode_tensor(t: &pb::TensorProto) -> Result<Const, String> {
    let dtype = Dtype::from_onnx(t.data_type).ok_or_else(|| {
        format!("tensor {:?} has an unsupported element type {}", t.name, t.data_type)
    })?;
    if !t.external_data.is_empty() || t.data_location == Some(1) {
        return Err(format!("tensor {:?} keeps its data in an external file", t.name));
    }
    let mut dims = Vec::with_capacity(t.dims.len());
    let mut len: usize = 1;
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| format!("tensor {:?}: dimension {d}", t.name))?;
        len = len
            .checked_mul(d)
            .filter(|&l| l <= 1 << 31)
            .ok_or_else(|| format!("tensor {:?} is too large", t.name))?;
        dims.push(d);
    }
    let raw = &t.raw_data;
    let data: Vec<f64> = if !raw.is_empty() {
        let width = match dtype {
            Dtype::I8 | Dtype::U8 | Dtype::Bool => 1,
            Dtype::I16 | Dtype::U16 => 2,
            Dtype::F32 | Dtype::I32 => 4,
            Dtype::F64 | Dtype::I64 => 8,
        };
        if raw.len() != len * width {
            return Err(format!(
                "tensor {:?}: {} raw bytes for {len} elements of {width} bytes",
                t.name,
                raw.len()
            ));
        }
        let chunks = raw.chunks_exact(width);
        match dtype {
            Dtype::I8 => raw.iter().map(|&b| b as i8 as f64).collect(),
            Dtype::U8 => raw.iter().map(|&b| b as f64).collect(),
            Dtype::Bool => raw.iter().map(|&b| f64::from(b != 0)).collect(),
            Dtype::I16 => chunks.map(|c| i16::from_le_bytes([c[0], c[1]]) as f64).collect(),
            Dtype::U16 => chunks.map(|c| u16::from_le_bytes([c[0], c[1]]) as f64).collect(),
            Dtype::F32 => {
                chunks.map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect()
            }
            Dtype::I32 => {
                chunks.map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64).collect()
            }
            Dtype::F64 => chunks
                .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
            Dtype::I64 => chunks
                .map(|c| {
                    i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64
                })
                .collect(),
        }
    } else {
        match dtype {
            Dtype::F32 => t.float_data.iter().map(|&v| v as f64).collect(),
            Dtype::F64 => t.double_data.clone(),
            Dtype::I64 => t.int64_data.iter().map(|&v| v as f64).collect(),
            // int8, uint8, int16, uint16 and int32 are stored in int32_data, bool as 0/1 there
            Dtype::I8 | Dtype::U8 | Dtype::I16 | Dtype::U16 | Dtype::I32 => {
                t.int32_data.iter().map(|&v| v as f64).collect()
            }
            Dtype::Bool => t.int32_data.iter().map(|&v| f64::from(v != 0)).collect(),
        }
    };
    if data.len() != len {
        return Err(format!("tensor {:?}: {} values for dimensions {dims:?}", t.name, data.len()));
    }
    // −∞ is an attention mask's masked value (PyTorch's causal masks as buffers); a constant
    // that reaches anything but a mask added before a Softmax is refused where it is used (its
    // scale is not finite). NaN and +∞ are refused here.
    if dtype.is_float() && data.iter().any(|v| !v.is_finite() && *v != f64::NEG_INFINITY) {
        return Err(format!("tensor {:?} holds a value that is NaN or +∞", t.name));
    }
    Ok(Const { dims, dtype, data })
}

/// The names of the graph outputs: at least one, each of a tensor type when the graph declares
/// a type.
fn tensor_outputs(outputs: &[pb::ValueInfoProto]) -> Result<Vec<String>, ImportError> {
    if outputs.is_empty() {
        return Err(ImportError::Graph("the graph has no output".into()));
    }
    // tract's `TypeProto` knows tensor types only: a sequence, map or optional type decodes
    // to a type without a value
    if let Some(o) = outputs.iter().find(|o| o.r#type.as_ref().is_some_and(|t| t.value.is_none())) {
        return Err(ImportError::Graph(format!(
            "the output {:?} is not a tensor (a sequence or a map, as ai.onnx.ml's ZipMap \
             writes): gkrnet proves tensor outputs",
            o.name
        )));
    }
    Ok(outputs.iter().map(|o| o.name.clone()).collect())
}

pub(crate) fn decode_attr(a: &pb::AttributeProto) -> Attr {
    // AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, FLOATS 6, INTS 7, STRINGS 8
    match a.r#type {
        1 => Attr::Float(a.f),
        2 => Attr::Int(a.i),
        3 => Attr::Str(String::from_utf8_lossy(&a.s).into_owned()),
        4 => a.t.as_ref().and_then(|t| decode_tensor(t).ok()).map_or(Attr::Other, Attr::Tensor),
        6 => Attr::Floats(a.floats.clone()),
        7 => Attr::Ints(a.ints.clone()),
        8 => {
            Attr::Strs(a.strings.iter().map(|s| String::from_utf8_lossy(s).into_owned()).collect())
        }
        _ => Attr::Other,
    }
}

impl Graph {
    /// The graph of a decoded model: at least one (non-initializer) input, each a float
    /// tensor (an integer input, such as token ids, is refused naming it), and at least one
    /// output, every output a tensor (a `sequence` or `map` output, as ai.onnx.ml's ZipMap
    /// writes, is refused naming it).
    pub fn from_proto(model: &pb::ModelProto) -> Result<Self, ImportError> {
        let bad = |reason: String| ImportError::Graph(reason);
        let g = model.graph.as_ref().ok_or_else(|| bad("the model has no graph".into()))?;
        let opset = model
            .opset_import
            .iter()
            .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
            .map_or(1, |o| o.version);
        let mut consts = HashMap::new();
        for t in &g.initializer {
            consts.insert(t.name.clone(), decode_tensor(t).map_err(bad)?);
        }
        let inputs: Vec<&pb::ValueInfoProto> =
            g.input.iter().filter(|i| !consts.contains_key(&i.name)).collect();
        if inputs.is_empty() {
            return Err(bad("the graph has no input (every input is an initializer)".into()));
        }
        let outputs = tensor_outputs(&g.output)?;
        let inputs = inputs.into_iter().map(graph_input).collect::<Result<Vec<_>, _>>()?;
        let mut nodes = Vec::with_capacity(g.node.len());
        for (i, n) in g.node.iter().enumerate() {
            let name = if n.name.is_empty() { format!("#{i}") } else { n.name.clone() };
            let node = Node {
                name,
                op: n.op_type.clone(),
                domain: n.domain.clone(),
                inputs: n.input.clone(),
                outputs: n.output.clone(),
                attrs: n.attribute.iter().map(|a| (a.name.clone(), decode_attr(a))).collect(),
            };
            if node.op == "Constant" && (node.domain.is_empty() || node.domain == "ai.onnx") {
                let value = match node.attrs.get("value") {
                    Some(Attr::Tensor(c)) => c.clone(),
                    _ => match (node.attrs.get("value_float"), node.attrs.get("value_int")) {
                        (Some(Attr::Float(v)), _) => {
                            Const { dims: vec![], dtype: Dtype::F32, data: vec![*v as f64] }
                        }
                        (_, Some(Attr::Int(v))) => {
                            Const { dims: vec![], dtype: Dtype::I64, data: vec![*v as f64] }
                        }
                        _ => return Err(node.error("a Constant without a supported value")),
                    },
                };
                let out = node.outputs.first().ok_or_else(|| node.error("no output"))?;
                consts.insert(out.clone(), value);
                continue;
            }
            nodes.push(node);
        }
        Ok(Graph { nodes, consts, inputs, outputs, opset })
    }

    /// The nodes whose outputs depend only on the input's shape and on constants (shape
    /// arithmetic: `Shape`, and every node all of whose inputs are such tensors), which the
    /// import evaluates once (through tract) instead of proving. Quantization nodes stay: a
    /// DequantizeLinear of int8 weights is what keeps them int8. Folding is exact: tract
    /// computes the values, in integers where the graph does.
    pub fn folded_nodes(&self) -> std::collections::HashSet<usize> {
        let mut fixed: std::collections::HashSet<&str> =
            self.consts.keys().map(String::as_str).collect();
        let mut out = std::collections::HashSet::new();
        for (i, n) in self.nodes.iter().enumerate() {
            let inputs: Vec<&str> =
                n.inputs.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
            // quantization nodes keep int8 weights int8; Identity and Dropout of a constant are
            // that constant already (with its dimensions known before import)
            let quant = matches!(
                n.op.as_str(),
                "QuantizeLinear" | "DequantizeLinear" | "Identity" | "Dropout"
            );
            let shape_only = matches!(n.op.as_str(), "Shape" | "Size");
            let all_fixed = !inputs.is_empty() && inputs.iter().all(|x| fixed.contains(x));
            if !quant && (shape_only || all_fixed) && n.outputs.iter().all(|o| !self.is_output(o)) {
                out.insert(i);
                fixed.extend(n.outputs.iter().map(String::as_str).filter(|o| !o.is_empty()));
            }
        }
        out
    }

    /// Whether tensor `name` is one of the graph outputs.
    pub fn is_output(&self, name: &str) -> bool {
        self.outputs.iter().any(|o| o == name)
    }

    /// The nodes that read tensor `name`.
    pub fn consumers(&self, name: &str) -> Vec<&Node> {
        self.nodes.iter().filter(|n| n.inputs.iter().any(|i| i == name)).collect()
    }

    pub fn producer(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.outputs.iter().any(|o| o == name))
    }

    /// Each input's dimensions: `given` fixes the symbolic dimensions of a graph with one input
    /// ([`Graph::resolve_input`]); `None` sets every symbolic dimension to 1 (batch 1). A graph
    /// with several inputs takes their declared shapes (symbolic dimensions 1), or `given` equal
    /// to the length of their concatenation (the circuit's 1-D input).
    ///
    /// # Errors
    /// [`ImportError::InputShape`] for a `given` shape the inputs do not take.
    pub fn input_shapes(&self, given: Option<&[usize]>) -> Result<Vec<Vec<usize>>, ImportError> {
        let defaults: Vec<Vec<usize>> = self.inputs.iter().map(|i| defaults(&i.dims)).collect();
        match (given, &self.inputs[..]) {
            (None, _) => Ok(defaults),
            (Some(d), [one]) => Ok(vec![resolve(&one.dims, d)?]),
            (Some(d), _) => {
                let total = circuit_input_dims(&defaults);
                if d == total.as_slice() {
                    return Ok(defaults);
                }
                Err(ImportError::InputShape {
                    expected: format!(
                        "{} (the concatenation of the graph's {} inputs {})",
                        total.first().copied().unwrap_or(0),
                        self.inputs.len(),
                        self.inputs
                            .iter()
                            .map(|i| format!("{:?} {}", i.name, shown(&i.dims)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    got: d.to_vec(),
                })
            }
        }
    }

    /// Fixes the declared input dimensions to `dims` (symbolic dimensions take the given size);
    /// the circuit's input dimensions ([`Graph::input_shapes`]).
    pub fn resolve_input(&self, dims: &[usize]) -> Result<Vec<usize>, ImportError> {
        Ok(circuit_input_dims(&self.input_shapes(Some(dims))?))
    }

    /// The circuit's input dimensions with every symbolic one set to 1 (batch 1 by default):
    /// the declared input's, or with several inputs the length of their concatenation.
    pub fn default_input(&self) -> Vec<usize> {
        circuit_input_dims(&self.inputs.iter().map(|i| defaults(&i.dims)).collect::<Vec<_>>())
    }
}

/// The circuit's input dimensions for inputs of `shapes`: the one input's, or the 1-D
/// concatenation of several (each flattened, in graph order).
pub fn circuit_input_dims(shapes: &[Vec<usize>]) -> Vec<usize> {
    match shapes {
        [one] => one.clone(),
        several => vec![several.iter().map(|d| d.iter().product::<usize>()).sum()],
    }
}

fn defaults(dims: &[Dim]) -> Vec<usize> {
    dims.iter()
        .map(|d| match d {
            Dim::Fixed(v) => *v,
            Dim::Symbol(_) => 1,
        })
        .collect()
}

fn shown(dims: &[Dim]) -> String {
    dims.iter()
        .map(|d| match d {
            Dim::Fixed(v) => v.to_string(),
            Dim::Symbol(s) => s.clone(),
        })
        .collect::<Vec<_>>()
        .join("×")
}

/// Declared dimensions `declared` fixed to `dims`.
fn resolve(declared: &[Dim], dims: &[usize]) -> Result<Vec<usize>, ImportError> {
    let mismatch = || ImportError::InputShape { expected: shown(declared), got: dims.to_vec() };
    if dims.len() != declared.len() {
        return Err(mismatch());
    }
    for (d, &g) in declared.iter().zip(dims) {
        if matches!(d, Dim::Fixed(v) if *v != g) || g == 0 {
            return Err(mismatch());
        }
    }
    Ok(dims.to_vec())
}

/// A graph input: a float tensor (or integer token ids) with its declared dimensions.
fn graph_input(input: &pb::ValueInfoProto) -> Result<GraphInput, ImportError> {
    let bad = |reason: String| ImportError::Graph(reason);
    let (shape, integer) = match input.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(pb::type_proto::Value::TensorType(t)) => {
            // float inputs, and int64 token ids (ONNX element type 7)
            let integer = t.elem_type == 7;
            if !integer && Dtype::from_onnx(t.elem_type).is_none_or(|d| !d.is_float()) {
                return Err(bad(format!(
                    "the input {:?} has element type {}; gkrnet imports float inputs and int64 \
                     token ids",
                    input.name, t.elem_type
                )));
            }
            (t.shape.as_ref().map(|s| s.dim.clone()).unwrap_or_default(), integer)
        }
        None => return Err(bad(format!("the input {:?} has no tensor type", input.name))),
    };
    let dims = shape
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.value {
            Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) if *v > 0 => {
                Dim::Fixed(*v as usize)
            }
            Some(pb::tensor_shape_proto::dimension::Value::DimParam(s)) => Dim::Symbol(s.clone()),
            _ => Dim::Symbol(format!("dim{i}")),
        })
        .collect();
    Ok(GraphInput { name: input.name.clone(), dims, integer })
}
