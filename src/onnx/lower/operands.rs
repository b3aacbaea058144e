//! What the importer knows of every tensor before lowering, from the graph alone: a constant,
//! a dequantized integer constant (quantized weights), or a tensor computed from the model input
//! with its rank when the graph fixes it. The op checks (`accepts.rs`) and the registry read it;
//! it reads neither (a leaf of `onnx::lower`).

use super::patterns::{find_patterns, Patterns};
use super::{Const, Graph, Node};
use std::collections::{HashMap, HashSet};

/// Why a matrix product of two computed tensors is not lowered.
pub(super) const TWO_COMPUTED: &str =
    "two computed operands (a matrix product needs constant weights)";
/// Why ArgMax's indices cannot feed an op.
pub(super) const INDEX_OPERAND: &str =
    "ArgMax's indices as an operand (they are proved as a graph output only, through \
     Identity, Dropout, Cast and reshapes)";
/// Ops that only reshape their first input (indices pass through them).
pub(super) const RESHAPES: [&str; 4] = ["Reshape", "Flatten", "Squeeze", "Unsqueeze"];

/// What the importer holds for a tensor, as far as the graph says before lowering.
#[derive(Clone, Copy, Debug)]
pub(super) enum Operand<'g> {
    /// An initializer or a Constant node's value (also through Identity and Dropout).
    Const(&'g Const),
    /// DequantizeLinear of an integer constant (quantized weights or biases): the number of
    /// scales, and the zero point when given.
    QConst { q: &'g Const, scale_len: usize, zero: Option<&'g Const> },
    /// A tensor computed from the model input; its rank when the graph fixes it.
    Computed { rank: Option<usize> },
    /// A tensor of shape arithmetic ([`Graph::folded_nodes`]): a constant the import evaluates,
    /// whose value the graph alone does not give.
    Folded,
    /// ArgMax's indices (also through Identity and Cast): only a graph output may take them.
    Index { rank: Option<usize> },
    /// Named by a node but neither a constant nor any node's output.
    Missing,
}

impl Operand<'_> {
    /// A constant at import (plain or dequantized).
    pub(super) fn is_const(&self) -> bool {
        matches!(self, Operand::Const(_) | Operand::QConst { .. } | Operand::Folded)
    }

    pub(super) fn rank(&self) -> Option<usize> {
        match self {
            Operand::Const(c) => Some(c.dims.len()),
            Operand::QConst { q, .. } => Some(q.dims.len()),
            Operand::Computed { rank } | Operand::Index { rank } => *rank,
            Operand::Folded | Operand::Missing => None,
        }
    }
}

/// What the support checks read: the graph, the kind of every tensor, and the patterns.
#[derive(Debug)]
pub(super) struct Context<'g> {
    pub(super) g: &'g Graph,
    operands: HashMap<&'g str, Operand<'g>>,
    pub(super) patterns: Patterns,
    /// The nodes of shape arithmetic, evaluated at import ([`Graph::folded_nodes`]).
    pub(super) folded: HashSet<usize>,
}

impl<'g> Context<'g> {
    pub(super) fn new(g: &'g Graph) -> Self {
        let mut operands: HashMap<&'g str, Operand<'g>> =
            g.consts.iter().map(|(k, c)| (k.as_str(), Operand::Const(c))).collect();
        for input in &g.inputs {
            operands
                .insert(input.name.as_str(), Operand::Computed { rank: Some(input.dims.len()) });
        }
        let folded = g.folded_nodes();
        for (i, n) in g.nodes.iter().enumerate() {
            if folded.contains(&i) {
                operands.extend(n.outputs.iter().map(|o| (o.as_str(), Operand::Folded)));
            } else if let Some(out) = n.outputs.first() {
                let kind = infer(n, &operands, g.opset);
                operands.insert(out.as_str(), kind);
            }
        }
        Context { g, operands, patterns: find_patterns(g), folded }
    }

    /// Input `i` of `n`: `None` when the node omits it.
    pub(super) fn operand(&self, n: &Node, i: usize) -> Option<Operand<'g>> {
        let name = n.input(i)?;
        Some(self.operands.get(name).copied().unwrap_or(Operand::Missing))
    }

    /// The kind of the tensor named `name`, if the graph names it.
    #[cfg(test)]
    pub(super) fn operand_named(&self, name: &str) -> Option<Operand<'g>> {
        self.operands.get(name).copied()
    }

    /// The rank of input `i` of `n` when the graph fixes it.
    pub(super) fn rank(&self, n: &Node, i: usize) -> Option<usize> {
        self.operand(n, i)?.rank()
    }
}

/// The kind of node `n`'s first output.
fn infer<'g>(n: &Node, known: &HashMap<&'g str, Operand<'g>>, opset: i64) -> Operand<'g> {
    let at = |i: usize| n.input(i).map(|x| known.get(x).copied().unwrap_or(Operand::Missing));
    let rank = |i: usize| at(i).and_then(|o| o.rank());
    match (n.op.as_str(), at(0)) {
        ("Identity" | "Dropout", Some(c)) if c.is_const() => return c,
        ("Identity" | "Dropout" | "Cast", Some(i @ Operand::Index { .. })) => return i,
        ("DequantizeLinear", Some(Operand::Const(q))) if !q.dtype.is_float() => {
            let constant = |i: usize| match at(i) {
                Some(Operand::Const(c)) => Some(c),
                _ => None,
            };
            let scale_len = constant(1).map_or(1, Const::len);
            return Operand::QConst { q, scale_len, zero: constant(2) };
        }
        _ => {}
    }
    let both = |a: usize, b: usize| match (rank(a), rank(b)) {
        (Some(ra), Some(rb)) if ra >= 2 && rb >= 2 => Some(ra.max(rb)),
        _ => None,
    };
    let axes = || -> Option<usize> {
        if opset < 13 {
            n.ints("axes").ok().flatten().map(|a| a.len())
        } else {
            match at(1) {
                Some(Operand::Const(c)) => Some(c.len()),
                _ => None,
            }
        }
    };
    let rank = match n.op.as_str() {
        "Identity" | "Dropout" | "Cast" | "QuantizeLinear" | "DequantizeLinear" | "Relu"
        | "Clip" | "Sigmoid" | "Tanh" | "HardSwish" | "Gelu" | "LeakyRelu" | "Elu" | "Erf"
        | "Pow" | "HardSigmoid" | "Softmax" | "LayerNormalization" | "BatchNormalization"
        | "MaxPool" | "AveragePool" | "GlobalAveragePool" | "Transpose" | "Pad" | "Conv"
        | "ConvTranspose" | "QLinearConv" | "ConvInteger" | "Concat" => rank(0),
        // numpy broadcasting: the larger rank
        "Add" | "Sub" | "Mul" | "Div" => {
            (0..n.inputs.len()).map(rank).try_fold(0, |m, r| r.map(|r| m.max(r)))
        }
        "Gemm" | "Flatten" => Some(2),
        "MatMul" | "MatMulInteger" => both(0, 1),
        "QLinearMatMul" => both(0, 3),
        "Reshape" => match at(1) {
            Some(Operand::Const(shape)) => Some(shape.len()),
            _ => None,
        },
        "Unsqueeze" => rank(0).zip(axes()).map(|(r, a)| r + a),
        "Slice" | "Split" | "Tile" => rank(0),
        "Where" => (0..n.inputs.len()).map(rank).try_fold(0, |m, r| r.map(|r| m.max(r))),
        "Gather" => match (rank(0), at(1)) {
            (Some(r), Some(Operand::Const(c))) => (r + c.dims.len()).checked_sub(1),
            _ => None,
        },
        "Expand" => match (rank(0), at(1)) {
            (Some(r), Some(Operand::Const(c))) => Some(r.max(c.len())),
            _ => None,
        },
        "ArgMax" => {
            let drop = usize::from(n.int("keepdims").ok().flatten() == Some(0));
            return Operand::Index { rank: rank(0).and_then(|r| r.checked_sub(drop)) };
        }
        "ReduceSum" | "ReduceMean" if n.int("keepdims").ok().flatten() == Some(0) => {
            let axes = n.ints("axes").ok().flatten().map(|a| a.len()).or_else(|| match at(1) {
                Some(Operand::Const(c)) => Some(c.len()),
                _ => None,
            });
            rank(0).zip(axes).and_then(|(r, a)| r.checked_sub(a))
        }
        "ReduceSum" | "ReduceMean" => rank(0),
        "Squeeze" => rank(0).zip(axes()).and_then(|(r, a)| r.checked_sub(a)),
        _ => None,
    };
    // indices keep their kind through reshapes
    if RESHAPES.contains(&n.op.as_str()) && matches!(at(0), Some(Operand::Index { .. })) {
        return Operand::Index { rank };
    }
    Operand::Computed { rank }
}
