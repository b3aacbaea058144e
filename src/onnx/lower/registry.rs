//! The one table of ONNX ops gkrnet lowers (tract's `OnnxOpRegister`, as in tract
//! `onnx/src/ops/quant.rs`: `reg.insert("QuantizeLinear", quantize_linear)`).
//!
//! Each [`OpEntry`] names an op (and its domain), the lowering that turns one node into circuit
//! layers, and `accepts`: the check of that node's attributes and operand kinds made before
//! anything runs (see [`super::accepts`]). The import's dispatch, its pre-check and `gkrnet
//! inspect` all read [`REGISTRY`], so the ops listed and the ops lowered cannot disagree. Adding
//! an op is one lowering function and one line here.
//!
//! Operand kinds come from the graph alone ([`super::operands::Context`]): a constant (initializer or Constant
//! node, also through Identity/Dropout), a dequantized integer constant (quantized weights), or
//! a tensor computed from the model input with its rank when the graph fixes it.

use super::accepts;
use super::operands::Context;
use super::{unsupported, Graph, ImportError, Lower, Node};
use crate::quant::Activation;

/// Lowers one node (its inputs already lowered) into circuit layers and values.
pub(super) type LowerFn = fn(&mut Lower<'_>, &Node) -> Result<(), ImportError>;

/// `Err(reason)` when gkrnet cannot lower this node: an attribute or an operand kind (constant or
/// computed, a constant's dtype or shape, a known rank) it does not support.
pub(super) type AcceptsFn = fn(&Node, &Context<'_>) -> Result<(), String>;

/// One supported op.
#[derive(Clone, Copy)]
pub(super) struct OpEntry {
    pub(super) op: &'static str,
    /// [`ONNX`]: the default domain (written "" or "ai.onnx" in files).
    pub(super) domain: &'static str,
    pub(super) lower: LowerFn,
    pub(super) accepts: AcceptsFn,
}

impl std::fmt::Debug for OpEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpEntry({:?}, {:?})", self.domain, self.op)
    }
}

/// The default ONNX domain.
pub(super) const ONNX: &str = "";

const fn onnx(op: &'static str, lower: LowerFn, accepts: AcceptsFn) -> OpEntry {
    OpEntry { op, domain: ONNX, lower, accepts }
}

/// Every op gkrnet lowers. Erf is lowered only inside the Gelu pattern (its entry says so), Sqrt
/// only inside a layer norm written out, Pow as a square or inside GELU's tanh form;
/// HardSigmoid inside the HardSwish pattern x·HardSigmoid(x), or alone as a table.
pub(super) static REGISTRY: &[OpEntry] = &[
    onnx("Identity", |l, n| l.identity(n), accepts::any),
    onnx("Dropout", |l, n| l.identity(n), accepts::any),
    onnx("QuantizeLinear", |l, n| l.quantize(n), accepts::quantize_linear),
    onnx("DequantizeLinear", |l, n| l.dequantize(n), accepts::dequantize_linear),
    onnx("Cast", |l, n| l.cast(n), accepts::cast),
    onnx("MatMul", |l, n| l.dense(n), accepts::dense),
    onnx("Gemm", |l, n| l.dense(n), accepts::dense),
    onnx("QLinearMatMul", |l, n| l.dense(n), accepts::dense),
    onnx("MatMulInteger", |l, n| l.dense(n), accepts::dense),
    onnx(
        "Conv",
        |l, n| if l.rank_of(n) == Some(3) { l.conv_1d(n) } else { l.conv(n) },
        accepts::conv,
    ),
    onnx("ConvTranspose", |l, n| l.conv(n), accepts::conv),
    onnx("QLinearConv", |l, n| l.conv(n), accepts::conv),
    onnx("ConvInteger", |l, n| l.conv(n), accepts::conv),
    onnx("BatchNormalization", |l, n| l.batch_norm(n), accepts::batch_norm),
    onnx("Add", |l, n| l.add(n), accepts::add),
    onnx("Sub", |l, n| l.add(n), accepts::add),
    onnx("Mul", |l, n| l.mul_div(n), accepts::mul_div),
    onnx("Div", |l, n| l.mul_div(n), accepts::mul_div),
    onnx("Relu", |l, n| l.relu(n), accepts::relu),
    onnx("Clip", |l, n| l.clip(n), accepts::clip),
    onnx("Sigmoid", |l, n| l.activation(n, Activation::Sigmoid), accepts::activation),
    onnx("Tanh", |l, n| l.activation(n, Activation::Tanh), accepts::activation),
    onnx("HardSwish", |l, n| l.activation(n, Activation::HardSwish), accepts::activation),
    onnx("Gelu", |l, n| l.gelu(n), accepts::gelu),
    onnx("LeakyRelu", |l, n| l.leaky_relu(n), accepts::leaky_relu_elu),
    onnx("Elu", |l, n| l.elu(n), accepts::leaky_relu_elu),
    onnx("MaxPool", |l, n| l.pool_any(n), accepts::pool),
    onnx("AveragePool", |l, n| l.pool_any(n), accepts::pool),
    onnx("GlobalAveragePool", |l, n| l.pool_any(n), accepts::pool),
    onnx("Flatten", |l, n| l.wiring(n), accepts::wiring),
    onnx("Reshape", |l, n| l.wiring(n), accepts::wiring),
    onnx("Squeeze", |l, n| l.wiring(n), accepts::wiring),
    onnx("Unsqueeze", |l, n| l.wiring(n), accepts::wiring),
    onnx("Transpose", |l, n| l.wiring(n), accepts::wiring),
    onnx("Pad", |l, n| l.pad(n), accepts::pad),
    onnx("Softmax", |l, n| l.softmax(n), accepts::softmax),
    onnx("LayerNormalization", |l, n| l.layer_norm(n), accepts::layer_norm),
    onnx("Concat", |l, n| l.concat(n), accepts::concat),
    onnx("ReduceSum", |l, n| l.reduce(n), accepts::reduce),
    onnx("ReduceMean", |l, n| l.reduce(n), accepts::reduce),
    onnx("ArgMax", |l, n| l.argmax(n), accepts::argmax),
    onnx("Expand", |l, n| l.expand(n), accepts::expand),
    onnx("Slice", |l, n| l.take(n), accepts::take),
    onnx("Gather", |l, n| l.take(n), accepts::take),
    onnx("Split", |l, n| l.take(n), accepts::take),
    onnx("GatherND", |l, n| l.take_flat(n), accepts::take),
    onnx("GatherElements", |l, n| l.take_flat(n), accepts::take),
    onnx("Tile", |l, n| l.take_flat(n), accepts::take),
    onnx("Where", |l, n| l.select(n), accepts::select),
    onnx("Erf", |_, n| Err(unsupported(n, accepts::ERF_ALONE)), accepts::erf),
    onnx("Pow", |l, n| l.square(n), accepts::pow),
    onnx("Sqrt", |_, n| Err(unsupported(n, accepts::SQRT_ALONE)), accepts::sqrt),
    onnx("Reciprocal", |_, n| Err(unsupported(n, accepts::SQRT_ALONE)), accepts::sqrt),
    onnx("Neg", |_, n| Err(unsupported(n, accepts::NEG_ALONE)), accepts::neg),
    onnx("HardSigmoid", |l, n| l.hard_sigmoid(n), accepts::hard_sigmoid),
    // rewritten into standard ops before import (`onnx::rewrite`): listed for their checks
    recurrent("LSTM"),
    recurrent("GRU"),
    recurrent("RNN"),
    rewritten("com.microsoft", "QLinearAdd"),
    rewritten("com.microsoft", "QLinearMul"),
    rewritten("com.microsoft", "QLinearConcat"),
    rewritten("com.microsoft", "QLinearSigmoid"),
    rewritten("com.microsoft", "QLinearLeakyRelu"),
    rewritten("com.microsoft", "QLinearGlobalAveragePool"),
    rewritten("com.microsoft", "QLinearAveragePool"),
    rewritten("com.microsoft", "QGemm"),
    rewritten("ai.onnx.ml", "LinearClassifier"),
    rewritten("ai.onnx.ml", "LinearRegressor"),
    rewritten("ai.onnx.ml", "Normalizer"),
    rewritten("ai.onnx.ml", "ZipMap"),
    rewritten("ai.onnx.ml", "ArrayFeatureExtractor"),
    rewritten("ai.onnx.ml", "Scaler"),
];

const fn rewritten(domain: &'static str, op: &'static str) -> OpEntry {
    OpEntry {
        op,
        domain,
        lower: |_, n| Err(unsupported(n, "left by the rewrite into standard ops")),
        accepts: |n, cx| super::super::rewrite::check(n, &GraphEnv(cx.g)),
    }
}

const fn recurrent(op: &'static str) -> OpEntry {
    OpEntry {
        op,
        domain: ONNX,
        lower: |_, n| Err(unsupported(n, "left by the unrolling into standard ops")),
        accepts: |n, cx| super::super::rewrite::check_recurrent(n, &GraphEnv(cx.g)),
    }
}

/// The graph as [`super::super::rewrite::check`] asks about it.
struct GraphEnv<'g>(&'g Graph);

impl super::super::rewrite::Env for GraphEnv<'_> {
    fn constant(&self, name: &str) -> Option<super::super::graph::Const> {
        self.0.consts.get(name).cloned()
    }

    fn producer(&self, name: &str) -> Option<Node> {
        self.0.producer(name).cloned()
    }
}

/// Whether a file's domain string names the registry domain `domain`.
fn same_domain(domain: &str, file: &str) -> bool {
    match domain {
        ONNX => file.is_empty() || file == "ai.onnx",
        d => d == file,
    }
}

/// The registry entry of a node's op, or why there is none.
pub(super) fn lookup(n: &Node) -> Result<&'static OpEntry, String> {
    if !REGISTRY.iter().any(|e| same_domain(e.domain, &n.domain)) {
        return Err(format!(
            "domain {:?} (the default ONNX domain, and some com.microsoft and ai.onnx.ml ops)",
            n.domain
        ));
    }
    REGISTRY
        .iter()
        .find(|e| e.op == n.op && same_domain(e.domain, &n.domain))
        .ok_or_else(|| format!("{} has no gkrnet lowering", n.op))
}

/// Whether node `i` (`n`) is lowered: its op is registered, and it is part of a pattern or
/// passes its op's check.
pub(super) fn check(cx: &Context<'_>, i: usize, n: &Node) -> Result<(), String> {
    if cx.folded.contains(&i) {
        // shape arithmetic: evaluated at import, whatever its op
        return Ok(());
    }
    let entry = lookup(n)?;
    if cx.patterns.skipped.contains(&i) || cx.patterns.fused.contains_key(&i) {
        return Ok(());
    }
    // the op's own check first: its reason is the more specific one
    (entry.accepts)(n, cx)?;
    accepts::index_operands(n, cx)
}

/// gkrnet's verdict on one node of a graph.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeSupport {
    pub node: String,
    pub op: String,
    pub domain: String,
    /// `Err(reason)`: why gkrnet does not lower this node (an unknown op, or an attribute or
    /// operand kind its op does not support).
    pub verdict: Result<(), String>,
}

/// One verdict per node of `graph`, in node order, from the op registry: an op is supported at
/// a node when it is registered and the node passes its check (or is part of a pattern).
///
/// # Errors
/// [`ImportError::Graph`] when the check stops on a panic (a malformed graph).
pub fn support(graph: &Graph) -> Result<Vec<NodeSupport>, ImportError> {
    super::super::guard(|| {
        let cx = Context::new(graph);
        // the nodes computed from mask inputs alone are not proved (`masks.rs`): supported
        let ids = cx.patterns.embeddings.first().map(|e| e.input.as_str());
        let masks: Vec<String> = (graph.inputs.iter())
            .filter(|i| i.integer && Some(i.name.as_str()) != ids)
            .map(|i| i.name.clone())
            .collect();
        let public =
            super::masks::subgraph(graph, &cx.folded, &masks).map(|m| m.nodes).unwrap_or_default();
        graph
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| NodeSupport {
                node: n.name.clone(),
                op: n.op.clone(),
                domain: n.domain.clone(),
                verdict: if public.contains(&i) { Ok(()) } else { check(&cx, i, n) },
            })
            .collect()
    })
    .map_err(|panic| ImportError::Graph(format!("the support check stopped on a panic: {panic}")))
}

/// The ops gkrnet lowers, as (domain, op type) in registry order ("" is the default domain).
pub fn supported_ops() -> Vec<(&'static str, &'static str)> {
    REGISTRY.iter().map(|e| (e.domain, e.op)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::operands::Operand;
    use super::super::{Builder, Const, HashSet};
    use super::*;
    use crate::onnx::graph::Dtype;
    use crate::onnx::graph::{Dim, GraphInput};
    use std::collections::HashMap;

    fn node(op: &str, inputs: &[&str], output: &str) -> Node {
        Node {
            name: format!("{op}_node"),
            op: op.into(),
            domain: String::new(),
            inputs: inputs.iter().map(|s| s.to_string()).collect(),
            outputs: vec![output.into()],
            attrs: HashMap::new(),
        }
    }

    fn graph(nodes: Vec<Node>, consts: &[(&str, Const)]) -> Graph {
        Graph {
            nodes,
            consts: consts.iter().map(|(k, c)| (k.to_string(), c.clone())).collect(),
            inputs: vec![GraphInput {
                name: "x".into(),
                dims: vec![Dim::Fixed(1), Dim::Fixed(4)],
                integer: false,
            }],
            outputs: vec!["y".into()],
            opset: 13,
        }
    }

    fn lower(g: &Graph) -> Lower<'_> {
        Lower {
            g,
            b: Builder::new(vec![1, 4]),
            values: HashMap::new(),
            ranges: HashMap::new(),
            shapes: HashMap::new(),
            fused: HashMap::new(),
            skipped: HashSet::new(),
            folded: HashMap::new(),
            names: Vec::new(),
            integer: HashSet::new(),
            notes: Vec::new(),
            softmax: HashMap::new(),
            masks: HashMap::new(),
            derived: HashMap::new(),
            gates: HashMap::new(),
            gate_ids: HashMap::new(),
            mask_inputs: Vec::new(),
            side_tables: Vec::new(),
            embedding: None,
            parameters: 0,
        }
    }

    fn reason(e: ImportError) -> String {
        match e {
            ImportError::Unsupported { reason, .. } | ImportError::Node { reason, .. } => reason,
            e => e.to_string(),
        }
    }

    /// The table is the dispatch: every listed op reaches its own lowering (never the "no
    /// lowering" answer), no op is listed twice, and an op not listed is refused by both the
    /// dispatch and the support check with the same reason.
    #[test]
    fn dispatch_lowers_exactly_the_listed_ops() {
        let mut seen = HashSet::new();
        for e in REGISTRY {
            assert!(seen.insert((e.domain, e.op)), "{} listed twice", e.op);
            let mut n = node(e.op, &[], "y");
            n.domain = e.domain.to_string();
            assert!(std::ptr::eq(lookup(&n).unwrap(), e), "{}", e.op);
            let g = graph(vec![n.clone()], &[]);
            let err = lower(&g).node(0, &n).expect_err("a node without inputs is not lowered");
            let r = reason(err);
            assert!(!r.contains("no gkrnet lowering"), "{}: {r}", e.op);
        }
        assert_eq!(supported_ops().len(), REGISTRY.len());
        for op in ["Cos", "Constant", "Sin", "relu"] {
            let n = node(op, &["x"], "y");
            let g = graph(vec![n.clone()], &[]);
            let want = format!("{op} has no gkrnet lowering");
            assert_eq!(reason(lower(&g).node(0, &n).unwrap_err()), want);
            assert_eq!(check(&Context::new(&g), 0, &n), Err(want));
        }
        // a domain with no listed op at all is named as such; a listed domain names the op
        let mut n = node("Relu", &["x"], "y");
        n.domain = "org.pytorch.aten".into();
        let g = graph(vec![n.clone()], &[]);
        assert!(check(&Context::new(&g), 0, &n).unwrap_err().starts_with("domain"));
        assert!(reason(lower(&g).node(0, &n).unwrap_err()).starts_with("domain"));
        n.domain = "com.microsoft".into();
        let g = graph(vec![n.clone()], &[]);
        assert_eq!(check(&Context::new(&g), 0, &n), Err("Relu has no gkrnet lowering".into()));
    }

    /// Operand kinds before lowering: constants through Identity, dequantized integer
    /// constants, ranks through Reshape, Flatten and broadcasting.
    #[test]
    fn operand_kinds_and_ranks_follow_the_graph() {
        let c = |dims: Vec<usize>, dtype: Dtype| Const {
            data: vec![1.0; dims.iter().product()],
            dims,
            dtype,
        };
        let g = graph(
            vec![
                node("Identity", &["w"], "w_id"),
                node("DequantizeLinear", &["wq", "s"], "w_deq"),
                node("Reshape", &["x", "shape"], "x3"),
                node("Add", &["x3", "b4"], "x4"),
                node("Flatten", &["x4"], "x2"),
                node("Relu", &["x2"], "y"),
            ],
            &[
                ("w", c(vec![4, 4], Dtype::F32)),
                ("wq", c(vec![4, 4], Dtype::I8)),
                ("s", c(vec![4], Dtype::F32)),
                ("shape", c(vec![3], Dtype::I64)),
                ("b4", c(vec![1, 1, 1, 4], Dtype::F32)),
            ],
        );
        let cx = Context::new(&g);
        let kind = |name: &str| cx.operand_named(name).unwrap();
        assert!(matches!(kind("w_id"), Operand::Const(w) if w.dims == [4, 4]));
        assert!(matches!(kind("w_deq"), Operand::QConst { scale_len: 4, zero: None, .. }));
        assert!(matches!(kind("x"), Operand::Computed { rank: Some(2) }));
        assert!(matches!(kind("x3"), Operand::Computed { rank: Some(3) }));
        assert!(matches!(kind("x4"), Operand::Computed { rank: Some(4) }));
        assert!(matches!(kind("x2"), Operand::Computed { rank: Some(2) }));
        let relu = &g.nodes[5];
        assert!(cx.operand(relu, 1).is_none());
        let stray = node("Relu", &["nowhere"], "z");
        assert!(matches!(cx.operand(&stray, 0), Some(Operand::Missing)));
    }
}
