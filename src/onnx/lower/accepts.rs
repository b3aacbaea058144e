//! The `accepts` column of the [registry](super::registry): what a node needs before it is
//! lowered, read from its attributes and its operand kinds (constant, dequantized constant or
//! computed tensor; a constant's dtype and shape; a rank the graph fixes).
//!
//! A check rejects only what its lowering rejects, with the same reason where the lowering has
//! one; the lowering re-checks what only values show (tract's shapes, calibrated scales).
//! `tests/onnx_registry.rs` runs every fixture through both.

use super::linear::window;
use super::operands::{Context, Operand, INDEX_OPERAND, TWO_COMPUTED};
use super::{softmax_reach, Const, Dtype, ImportError, Node};

type Verdict = Result<(), String>;

/// Why an Erf is not lowered.
pub(super) const ERF_ALONE: &str = "Erf outside the Gelu pattern x·½·(1 + erf(x/√2))";
pub(super) const SQRT_ALONE: &str = "Sqrt or Reciprocal outside a layer norm written out \
     (ReduceMean, Sub, Pow 2, ReduceMean, Add ε, Sqrt, Div) or an RMS norm (Pow 2, ReduceMean, \
     Add ε, Sqrt, Reciprocal or Div, Mul)";
const CONSTANTS_ONLY: &str = "an op on constants only";
const NOT_POSITIVE: &str = "a scale that is zero, negative or not finite on a computed tensor";

/// The reason an attribute reader or a shared parser gives.
fn reason(e: ImportError) -> String {
    match e {
        ImportError::Unsupported { reason, .. } | ImportError::Node { reason, .. } => reason,
        e => e.to_string(),
    }
}

/// Input `i` must not be a constant (`why` otherwise).
fn computed(cx: &Context<'_>, n: &Node, i: usize, why: &str) -> Verdict {
    match cx.operand(n, i) {
        Some(o) if o.is_const() => Err(why.to_string()),
        _ => Ok(()),
    }
}

/// What [`Lower::int`](super::Lower) says of a constant where an int8 tensor is needed.
fn int_input(cx: &Context<'_>, n: &Node, i: usize) -> Verdict {
    computed(
        cx,
        n,
        i,
        &format!("input {i} is a constant; gkrnet proves ops on the model input's data"),
    )
}

/// Input `i` as a plain constant; `None` when omitted or never defined (the lowering names it).
fn constant<'g>(cx: &Context<'g>, n: &Node, i: usize) -> Result<Option<&'g Const>, String> {
    match cx.operand(n, i) {
        Some(Operand::Const(c)) => Ok(Some(c)),
        Some(Operand::QConst { .. } | Operand::Computed { .. } | Operand::Index { .. }) => {
            Err(format!("input {i} must be a constant"))
        }
        // shape arithmetic: a constant whose value only the import computes
        Some(Operand::Folded | Operand::Missing) | None => Ok(None),
    }
}

/// Input `i` as a constant scalar (when given).
fn scalar(cx: &Context<'_>, n: &Node, i: usize) -> Result<Option<f64>, String> {
    match constant(cx, n, i)? {
        Some(c) => c
            .scalar()
            .map(Some)
            .ok_or_else(|| format!("input {i} must be a scalar (per-axis not supported)")),
        None => Ok(None),
    }
}

/// A zero point input of a QLinear/Integer op: a constant scalar.
fn zero_point(cx: &Context<'_>, n: &Node, i: usize) -> Verdict {
    if let Some(z) = constant(cx, n, i)? {
        z.scalar().ok_or("a per-axis zero point")?;
    }
    Ok(())
}

/// Weights that are dequantized integers: int8 with zero point 0 (a zero point of another
/// length than the scale counts by its first value, as the lowering reads it).
fn symmetric_int8(q: &Const, zero: Option<&Const>, scale_len: usize) -> Verdict {
    let nonzero = match zero {
        Some(z) if z.len() == scale_len => z.data.iter().any(|&v| v != 0.0),
        Some(z) => z.data.first().is_some_and(|&v| v != 0.0),
        None => false,
    };
    if nonzero {
        return Err("weights with a non-zero zero point (symmetric int8 weights only)".into());
    }
    if q.dtype != Dtype::I8 {
        return Err(format!("weights of type {:?} (int8 only)", q.dtype));
    }
    Ok(())
}

/// The weights operand `w` of a dense or conv layer: their dimensions. For a QOperator op,
/// `integer` gives its (scale, zero point) inputs (scale `None`: 1) and the weights are an
/// integer constant.
fn weights<'g>(
    cx: &Context<'g>,
    n: &Node,
    w: usize,
    integer: Option<(Option<usize>, usize)>,
) -> Result<Option<&'g [usize]>, String> {
    if let Some((s, z)) = integer {
        let Some(q) = constant(cx, n, w)? else { return Ok(None) };
        if q.dtype.is_float() {
            return Err("float weights in an integer op".into());
        }
        let scale_len = match s {
            Some(s) => constant(cx, n, s)?.map_or(1, Const::len),
            None => 1,
        };
        let zero = match n.input(z) {
            Some(_) => constant(cx, n, z)?,
            None => None,
        };
        symmetric_int8(q, zero, scale_len)?;
        return Ok(Some(&q.dims));
    }
    match cx.operand(n, w) {
        Some(Operand::Const(c)) if c.dtype.is_float() => Ok(Some(&c.dims)),
        Some(Operand::Const(c)) => {
            Err(format!("weights of type {:?} without a DequantizeLinear", c.dtype))
        }
        Some(Operand::QConst { q, scale_len, zero }) => {
            symmetric_int8(q, zero, scale_len)?;
            Ok(Some(&q.dims))
        }
        Some(Operand::Computed { .. }) => Err(TWO_COMPUTED.into()),
        Some(Operand::Index { .. }) => Err(INDEX_OPERAND.into()),
        Some(Operand::Folded | Operand::Missing) | None => Ok(None),
    }
}

/// A bias input: a constant (plain or dequantized) when given.
fn bias(cx: &Context<'_>, n: &Node, i: usize) -> Verdict {
    match cx.operand(n, i) {
        Some(Operand::Computed { .. }) => Err("a bias that is not a constant".into()),
        _ => Ok(()),
    }
}

/// The scale of a per-channel affine map on a computed tensor: positive and finite.
fn positive(scale: impl IntoIterator<Item = f64>) -> Verdict {
    match scale.into_iter().all(|s| s > 0.0 && s.is_finite()) {
        true => Ok(()),
        false => Err(NOT_POSITIVE.into()),
    }
}

pub(super) fn any(_: &Node, _: &Context<'_>) -> Verdict {
    Ok(())
}

pub(super) fn quantize_linear(n: &Node, cx: &Context<'_>) -> Verdict {
    scalar(cx, n, 1)?;
    if let Some(z) = constant(cx, n, 2)? {
        z.scalar().ok_or("a per-axis zero point")?;
        if !matches!(z.dtype, Dtype::I8 | Dtype::U8) {
            return Err(format!("quantization to {:?} (int8 and uint8 only)", z.dtype));
        }
    }
    computed(cx, n, 0, "a QuantizeLinear of a constant")
}

pub(super) fn dequantize_linear(n: &Node, cx: &Context<'_>) -> Verdict {
    let scale = constant(cx, n, 1)?;
    constant(cx, n, 2)?;
    match cx.operand(n, 0) {
        Some(Operand::Const(c)) if !c.dtype.is_float() => Ok(()),
        Some(Operand::Const(_) | Operand::QConst { .. }) => {
            Err("a DequantizeLinear of something other than an int8 tensor or integer constant"
                .into())
        }
        Some(Operand::Computed { .. }) if scale.is_some_and(|s| s.scalar().is_none()) => {
            Err("a per-axis scale on activations".into())
        }
        _ => Ok(()),
    }
}

pub(super) fn cast(n: &Node, cx: &Context<'_>) -> Verdict {
    computed(cx, n, 0, "a Cast of a constant")
}

/// MatMul, Gemm, QLinearMatMul, MatMulInteger.
pub(super) fn dense(n: &Node, cx: &Context<'_>) -> Verdict {
    let gemm = n.op == "Gemm";
    if gemm && n.int("transA").map_err(reason)?.unwrap_or(0) != 0 {
        return Err("Gemm with transA = 1".into());
    }
    int_input(cx, n, 0)?;
    if n.op == "MatMul" && matches!(cx.operand(n, 1), Some(Operand::Computed { .. })) {
        // two computed operands: a batched product over the last two axes
        return match (cx.rank(n, 0), cx.rank(n, 1)) {
            (Some(r), _) | (_, Some(r)) if r < 2 => {
                Err(format!("a matrix product of a rank-{r} operand (rank 2 or more each)"))
            }
            _ => Ok(()),
        };
    }
    match cx.rank(n, 0) {
        Some(r) if r < 2 => return Err(format!("a matrix product on a rank-{r} input")),
        Some(r) if r != 2 && n.op == "Gemm" => {
            return Err(format!("a Gemm on a rank-{r} input (rank 2 only)"))
        }
        _ => {}
    }
    let dims = match n.op.as_str() {
        "QLinearMatMul" => {
            scalar(cx, n, 1)?;
            zero_point(cx, n, 2)?;
            let dims = weights(cx, n, 3, Some((Some(4), 5)))?;
            scalar(cx, n, 6)?;
            zero_point(cx, n, 7)?;
            dims
        }
        "MatMulInteger" => {
            zero_point(cx, n, 2)?;
            weights(cx, n, 1, Some((None, 3)))?
        }
        _ => weights(cx, n, 1, None)?,
    };
    if let Some(d) = dims.filter(|d| d.len() != 2) {
        return Err(format!("weights of shape {d:?} (a matrix only)"));
    }
    if gemm {
        let alpha = n.float("alpha").map_err(reason)?.unwrap_or(1.0);
        let quantized = matches!(cx.operand(n, 1), Some(Operand::QConst { .. }));
        // a quantized weight's scale takes alpha only when alpha is positive
        let scales = alpha == 1.0 || alpha > 0.0;
        if quantized && !scales {
            return Err("Gemm alpha on these weights".into());
        }
        n.float("beta").map_err(reason)?;
        bias(cx, n, 2)?;
    }
    Ok(())
}

/// Conv, ConvTranspose, QLinearConv, ConvInteger.
pub(super) fn conv(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    let one_d = cx.rank(n, 0) == Some(3) && n.op == "Conv";
    if let Some(r) = cx.rank(n, 0).filter(|&r| r != 4 && !one_d) {
        return Err(format!(
            "a convolution on a rank-{r} input (NCHW, or [N, C, L] for a float Conv)"
        ));
    }
    let lifted = super::lift::lift_1d(n);
    let n = if one_d { &lifted } else { n };
    let dims = match n.op.as_str() {
        "QLinearConv" => weights(cx, n, 3, Some((Some(4), 5)))?,
        "ConvInteger" => {
            zero_point(cx, n, 2)?;
            weights(cx, n, 1, Some((None, 3)))?
        }
        _ => match cx.operand(n, 1) {
            Some(Operand::Computed { .. }) => return Err("weights that are not constants".into()),
            _ => weights(cx, n, 1, None)?,
        },
    };
    let groups = n.int("group").map_err(reason)?.unwrap_or(1).max(1) as usize;
    match dims {
        Some(&[_, _, kh, kw]) if !one_d => {
            window(n, [kh, kw], groups).map_err(reason)?;
        }
        Some(&[_, _, k]) if one_d => {
            window(n, [1, k], groups).map_err(reason)?;
        }
        Some(d) => {
            return Err(format!("weights of shape {d:?} (2-D kernels, or 1-D on [N, C, L])"))
        }
        None => {}
    }
    match n.op.as_str() {
        "QLinearConv" => {
            scalar(cx, n, 1)?;
            zero_point(cx, n, 2)?;
            scalar(cx, n, 6)?;
            zero_point(cx, n, 7)?;
            constant(cx, n, 8)?;
        }
        "ConvInteger" => {}
        _ => bias(cx, n, 2)?,
    }
    if n.op == "ConvTranspose" {
        if n.ints("output_shape").map_err(reason)?.is_some() {
            return Err("output_shape (give pads and output_padding)".into());
        }
        if let Some(v) = n.ints("output_padding").map_err(reason)? {
            if v.len() != 2 || v.iter().any(|&x| x < 0) {
                return Err(format!("output_padding {v:?}"));
            }
        }
    }
    Ok(())
}

pub(super) fn batch_norm(n: &Node, cx: &Context<'_>) -> Verdict {
    computed(cx, n, 0, CONSTANTS_ONLY)?;
    let eps = n.float("epsilon").map_err(reason)?.unwrap_or(1e-5);
    let mut p = Vec::with_capacity(4);
    for k in 1..=4 {
        p.push(constant(cx, n, k)?);
    }
    if let [Some(g), Some(_), Some(_), Some(var)] = p[..] {
        if g.len() == var.len() {
            positive(g.data.iter().zip(&var.data).map(|(g, v)| g / (v + eps).sqrt()))?;
        }
    }
    Ok(())
}

/// Add, Sub: a constant shifts a computed tensor; two computed tensors of one shape are summed.
pub(super) fn add(n: &Node, cx: &Context<'_>) -> Verdict {
    let (Some(a), Some(b)) = (cx.operand(n, 0), cx.operand(n, 1)) else { return Ok(()) };
    let sub = n.op == "Sub";
    if b.is_const() || (a.is_const() && !sub) {
        let t = if b.is_const() { a } else { b };
        return if t.is_const() { Err(CONSTANTS_ONLY.into()) } else { Ok(()) };
    }
    if a.is_const() {
        return Err("a constant minus a tensor (negative scale)".into());
    }
    if sub {
        return Err("the difference of two computed tensors".into());
    }
    match (a.rank(), b.rank()) {
        (Some(ra), Some(rb)) if ra != rb => {
            Err(format!("broadcasting a rank-{ra} and a rank-{rb} tensor (equal shapes only)"))
        }
        _ => Ok(()),
    }
}

/// Mul, Div by a constant (positive: it becomes part of a requantization multiplier).
pub(super) fn mul_div(n: &Node, cx: &Context<'_>) -> Verdict {
    let (Some(a), Some(b)) = (cx.operand(n, 0), cx.operand(n, 1)) else { return Ok(()) };
    let div = n.op == "Div";
    let (t, c) = match (a.is_const(), b.is_const()) {
        (true, _) if !div => (b, a),
        (_, true) => (a, b),
        (true, false) => return Err("a division by a computed tensor".into()),
        (false, false) if div => return Err("a division by a computed tensor".into()),
        (false, false) => return Ok(()),
    };
    if t.is_const() {
        return Err(CONSTANTS_ONLY.into());
    }
    if let Operand::Const(c) = c {
        positive(c.data.iter().map(|&v| if div { 1.0 / v } else { v }))?;
    }
    Ok(())
}

/// ReduceSum, ReduceMean: a computed input, constant axes.
pub(super) fn reduce(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    if n.ints("axes").map_err(reason)?.is_none() && n.input(1).is_some() {
        constant(cx, n, 1)?;
    }
    Ok(())
}

/// Expand: a computed tensor, a constant shape (or shape arithmetic).
pub(super) fn expand(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    constant(cx, n, 1)?;
    Ok(())
}

/// Slice, Gather, Split: a computed tensor, constant indices, sizes and axes.
pub(super) fn take(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    for i in 1..n.inputs.len() {
        if matches!(cx.operand(n, i), Some(Operand::Computed { .. } | Operand::Index { .. })) {
            return Err(format!("input {i} (indices, sizes or axes) is not a constant"));
        }
    }
    Ok(())
}

/// Where: a constant condition; branches computed or constant scalars, not both constant.
pub(super) fn select(n: &Node, cx: &Context<'_>) -> Verdict {
    if let Some(Operand::Computed { .. } | Operand::Index { .. }) = cx.operand(n, 0) {
        return Err("a condition computed from the input (constant conditions only)".into());
    }
    for i in [1, 2] {
        if let Some(Operand::Const(c)) = cx.operand(n, i) {
            if c.len() != 1 {
                return Err(format!("input {i} is a constant that is not a scalar"));
            }
        }
    }
    Ok(())
}

/// ArgMax: a computed input, ties to the lowest index; after a final Softmax (through Identity
/// and Dropout), along the Softmax's axis (it reads the Softmax's input).
pub(super) fn argmax(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    if n.int("select_last_index").map_err(reason)?.unwrap_or(0) != 0 {
        return Err("select_last_index = 1 (ties to the highest index)".into());
    }
    let (Some(softmax), Some(rank)) = (softmax_before(cx, n), cx.rank(n, 0)) else {
        return Ok(());
    };
    let rank = rank as i64;
    let softmax_axis = match softmax.int("axis").map_err(reason)? {
        Some(1) => 1,
        None if cx.g.opset < 13 => 1,
        _ => rank - 1,
    };
    let along = n.int("axis").map_err(reason)?.unwrap_or(0);
    if (along + rank) % rank.max(1) != softmax_axis {
        return Err("an ArgMax of a Softmax's output along another axis than the Softmax's".into());
    }
    Ok(())
}

/// The Softmax whose output node `n` reads, through Identity and Dropout nodes.
fn softmax_before<'g>(cx: &Context<'g>, n: &Node) -> Option<&'g Node> {
    let mut cur = n.input(0)?;
    for _ in 0..=cx.g.nodes.len() {
        let p = cx.g.producer(cur)?;
        match p.op.as_str() {
            "Softmax" => return Some(p),
            "Identity" | "Dropout" => cur = p.input(0)?,
            _ => return None,
        }
    }
    None
}

/// Whether node `n` may read its inputs' kinds: ArgMax's indices leave the graph only (through
/// Identity, Dropout or Cast).
pub(super) fn index_operands(n: &Node, cx: &Context<'_>) -> Verdict {
    let passes = matches!(n.op.as_str(), "Identity" | "Dropout" | "Cast")
        || super::operands::RESHAPES.contains(&n.op.as_str());
    let index =
        (0..n.inputs.len()).any(|i| matches!(cx.operand(n, i), Some(Operand::Index { .. })));
    if index && !passes {
        return Err(INDEX_OPERAND.into());
    }
    Ok(())
}

pub(super) fn relu(n: &Node, cx: &Context<'_>) -> Verdict {
    computed(cx, n, 0, CONSTANTS_ONLY)
}

pub(super) fn clip(n: &Node, cx: &Context<'_>) -> Verdict {
    computed(cx, n, 0, CONSTANTS_ONLY)?;
    if cx.g.opset < 11 {
        n.float("min").map_err(reason)?;
        n.float("max").map_err(reason)?;
    } else {
        scalar(cx, n, 1)?;
        scalar(cx, n, 2)?;
    }
    Ok(())
}

/// A table activation (Sigmoid, Tanh, HardSwish; Gelu, LeakyRelu, Elu after their attributes).
pub(super) fn activation(n: &Node, cx: &Context<'_>) -> Verdict {
    computed(cx, n, 0, "an activation of a constant")
}

pub(super) fn gelu(n: &Node, cx: &Context<'_>) -> Verdict {
    if n.string("approximate").map_err(reason)?.is_some_and(|a| a != "none" && a != "tanh") {
        return Err("a Gelu approximation other than none and tanh".into());
    }
    activation(n, cx)
}

pub(super) fn leaky_relu_elu(n: &Node, cx: &Context<'_>) -> Verdict {
    n.float("alpha").map_err(reason)?;
    activation(n, cx)
}

/// MaxPool, AveragePool, GlobalAveragePool on NCHW.
pub(super) fn pool(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    let one_d = cx.rank(n, 0) == Some(3);
    if let Some(r) = cx.rank(n, 0).filter(|&r| r != 4 && !one_d) {
        return Err(format!("pooling on a rank-{r} input (NCHW, or [N, C, L])"));
    }
    if n.op == "GlobalAveragePool" {
        return Ok(());
    }
    let lifted = super::lift::lift_1d(n);
    let n = if one_d { &lifted } else { n };
    let k = n.ints("kernel_shape").map_err(reason)?.ok_or("no kernel_shape")?;
    let &[kh, kw] = k.as_slice() else {
        return Err(format!("kernel_shape {k:?} (2-D only)"));
    };
    if kh < 1 || kw < 1 {
        return Err(format!("kernel_shape {k:?}"));
    }
    let geo = window(n, [kh as usize, kw as usize], 1).map_err(reason)?.geo;
    if n.op == "MaxPool" {
        if n.outputs.iter().skip(1).any(|o| !o.is_empty()) {
            return Err("MaxPool's indices output".into());
        }
        if n.int("storage_order").map_err(reason)?.unwrap_or(0) != 0 {
            return Err("storage_order = 1".into());
        }
    } else {
        if geo.dilation != [1, 1] {
            return Err("dilated average pooling".into());
        }
        n.int("count_include_pad").map_err(reason)?;
    }
    Ok(())
}

/// Flatten, Reshape, Squeeze, Unsqueeze, Transpose: wiring of a computed tensor.
pub(super) fn wiring(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    if n.op == "Transpose" {
        n.ints("perm").map_err(reason)?;
    }
    Ok(())
}

/// Pad: zero padding of the spatial axes, read by convolutions only.
pub(super) fn pad(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    let mode = n.string("mode").map_err(reason)?.unwrap_or_else(|| "constant".into());
    if mode != "constant" {
        return Err(format!("mode {mode:?} (constant zero padding only)"));
    }
    let (pads, value) = if cx.g.opset < 11 {
        (n.ints("pads").map_err(reason)?, n.float("value").map_err(reason)?)
    } else {
        let pads = constant(cx, n, 1)?.map(|c| c.data.iter().map(|&v| v as i64).collect());
        (pads, scalar(cx, n, 2)?)
    };
    let value = value.unwrap_or(0.0);
    if value != 0.0 {
        return Err(format!("padding value {value} (zero only)"));
    }
    if let Some(pads) = pads {
        let ok = cx.rank(n, 0).is_none_or(|r| r == 4)
            && pads.len() == 8
            && [0, 1, 4, 5].iter().all(|&i| pads.get(i) == Some(&0))
            && pads.iter().all(|&p| p >= 0);
        if !ok {
            return Err(format!("pads {pads:?} (non-negative, spatial axes of NCHW only)"));
        }
    }
    let consumers = n.outputs.first().map(|o| cx.g.consumers(o)).unwrap_or_default();
    if consumers.is_empty()
        || consumers
            .iter()
            .any(|c| !matches!(c.op.as_str(), "Conv" | "QLinearConv" | "ConvInteger"))
    {
        return Err("a Pad that is not followed by a convolution".into());
    }
    Ok(())
}

/// Softmax: inside the proof along one axis, or as the last op of graph outputs left outside
/// it (Identity and Dropout may follow, and ArgMax
/// nodes may read it), over the last axis (left outside the proof).
pub(super) fn softmax(n: &Node, cx: &Context<'_>) -> Verdict {
    let axis = n.int("axis").map_err(reason)?;
    if n.outputs.first().is_none_or(|o| softmax_reach(cx.g, o).is_none()) {
        // inside the proof (`circuit::softmax`): one axis; before opset 13 the op flattens
        // from its axis on, which is one axis only when it is the last
        int_input(cx, n, 0)?;
        if let Some(rank) = cx.rank(n, 0) {
            let r = rank as i64;
            let a = axis.unwrap_or(if cx.g.opset < 13 { 1 } else { -1 });
            if !(-r..r).contains(&a) {
                return Err(format!("a Softmax along axis {a} of a rank-{rank} tensor"));
            }
            if cx.g.opset < 13 && (a + r) % r != r - 1 {
                return Err("a Softmax (opset < 13) that flattens several axes".into());
            }
        }
        return Ok(());
    }
    if axis.is_some_and(|a| a != -1 && a != 1) {
        return Err("a Softmax over an axis other than the last".into());
    }
    Ok(())
}

/// LayerNormalization: a computed input normalized over its last axis, constant scale and bias.
pub(super) fn layer_norm(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    for i in [1, 2] {
        if matches!(cx.operand(n, i), Some(Operand::Computed { .. } | Operand::Index { .. })) {
            return Err(format!("input {i} (scale or bias) is not a constant"));
        }
    }
    let axis = n.int("axis").map_err(reason)?.unwrap_or(-1);
    if let Some(rank) = cx.rank(n, 0) {
        if (axis + rank as i64) != rank as i64 - 1 && axis != rank as i64 - 1 {
            return Err(format!(
                "a LayerNormalization from axis {axis} of a rank-{rank} tensor (the last axis only)"
            ));
        }
    }
    Ok(())
}

/// Concat: computed inputs, and constants beside at least one (ViT's class token).
pub(super) fn concat(n: &Node, cx: &Context<'_>) -> Verdict {
    let constant = |i: usize| cx.operand(n, i).is_some_and(|o| o.is_const());
    if (0..n.inputs.len()).all(constant) {
        return Err(CONSTANTS_ONLY.into());
    }
    n.int("axis").map_err(reason)?.ok_or("no axis")?;
    Ok(())
}

/// Pow: a computed base squared (a constant exponent 2); cubes only inside GELU's tanh form.
pub(super) fn pow(n: &Node, cx: &Context<'_>) -> Verdict {
    int_input(cx, n, 0)?;
    match cx.operand(n, 1) {
        Some(Operand::Const(c)) if c.scalar() == Some(2.0) => Ok(()),
        Some(Operand::Const(c)) => Err(format!(
            "a Pow with exponent {:?} (squares only; a cube only inside GELU's tanh form)",
            c.data
        )),
        _ => Err("a Pow whose exponent is not a constant".into()),
    }
}

pub(super) fn sqrt(_: &Node, _: &Context<'_>) -> Verdict {
    Err(SQRT_ALONE.into())
}

/// Why a Neg is not lowered.
pub(super) const NEG_ALONE: &str = "Neg outside a rotary embedding x·cos + rotate_half(x)·sin \
     (Slice, Neg, Concat, Mul, Add)";

pub(super) fn neg(_: &Node, _: &Context<'_>) -> Verdict {
    Err(NEG_ALONE.into())
}

pub(super) fn erf(_: &Node, _: &Context<'_>) -> Verdict {
    Err(ERF_ALONE.into())
}

/// HardSigmoid alone (the HardSwish pattern is found before): a table activation with finite
/// α and β.
pub(super) fn hard_sigmoid(n: &Node, cx: &Context<'_>) -> Verdict {
    for key in ["alpha", "beta"] {
        if n.float(key).map_err(reason)?.is_some_and(|v| !v.is_finite()) {
            return Err(format!("a HardSigmoid {key} that is not finite"));
        }
    }
    activation(n, cx)
}
