//! Patterns found before lowering: Gelu written with Erf or in its tanh form, HardSwish written
//! as HardSigmoid·x,
//! and BatchNormalization folded into the float weights of the layer before it.

use super::*;

/// The nodes a pattern fuses, found from the graph alone (the registry's support check and the
/// lowering both read them).
#[derive(Clone, Debug, Default)]
pub(super) struct Patterns {
    /// The node that finishes a pattern, and the fused op it emits.
    pub(super) fused: HashMap<usize, Fused>,
    /// Nodes inside a pattern (lowered by the node that finishes it).
    pub(super) skipped: HashSet<usize>,
    /// Token-id inputs read by an embedding Gather.
    pub(super) embeddings: Vec<EmbeddingPattern>,
}

/// An int64 input of token ids, through reshapes, read by one Gather of a constant float table
/// [vocab, width] along axis 0: the Gather's output is the circuit's input (`Lower::inputs`).
#[derive(Clone, Debug)]
pub(super) struct EmbeddingPattern {
    pub(super) input: String,
    /// The Gather's output: the embedding rows.
    pub(super) rows: String,
    /// The table's constant.
    pub(super) table: String,
}

/// The embedding Gather that reads integer input `input` through Reshape, Squeeze, Unsqueeze,
/// Flatten, Identity and Cast nodes (each the only reader of its input), with the nodes on the
/// way and the Gather.
fn embedding(g: &Graph, input: &str) -> Option<(EmbeddingPattern, Vec<usize>)> {
    let mut name = input.to_string();
    let mut nodes = Vec::new();
    for _ in 0..=g.nodes.len() {
        let readers: Vec<usize> =
            (0..g.nodes.len()).filter(|&i| g.nodes[i].inputs.contains(&name)).collect();
        let [i] = readers[..] else { return None };
        let n = &g.nodes[i];
        nodes.push(i);
        match n.op.as_str() {
            "Reshape" | "Squeeze" | "Unsqueeze" | "Flatten" | "Identity" | "Cast"
                if n.input(0) == Some(name.as_str()) =>
            {
                name = n.outputs.first()?.clone();
            }
            "Gather" if n.input(1) == Some(name.as_str()) => {
                let table = n.input(0)?;
                let c = g.consts.get(table)?;
                let axis = n.int("axis").ok()?.unwrap_or(0);
                if !c.dtype.is_float() || c.dims.len() != 2 || axis != 0 {
                    return None;
                }
                let rows = n.outputs.first()?.clone();
                let e = EmbeddingPattern { input: input.into(), rows, table: table.into() };
                return Some((e, nodes));
            }
            _ => return None,
        }
    }
    None
}

/// Finds Gelu (Erf, tanh), HardSwish (HardSigmoid·x), decomposed layer norms and foldable
/// BatchNormalization patterns. A
/// node whose attributes do not parse is no pattern (its own op then says why it is not lowered).
pub(super) fn find_patterns(g: &Graph) -> Patterns {
    let mut found = Patterns::default();
    for input in g.inputs.iter().filter(|i| i.integer) {
        if let Some((e, nodes)) = embedding(g, &input.name) {
            found.skipped.extend(nodes);
            found.embeddings.push(e);
        }
    }
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
    // … → Add 1 → Mul x → Mul ½ (or Mul(½x, ·)) after node `ei` (Erf or Tanh): the node that
    // finishes the pattern and the nodes inside it
    let tail = |ei: usize, x: &str| -> Option<(usize, Vec<usize>)> {
        let e = &g.nodes[ei];
        let ai = sole(&e.outputs[0])?;
        let a = &g.nodes[ai];
        if a.op != "Add" || !other(a, &e.outputs[0]).is_some_and(|c| const_is(&c, 1.0, 1e-6)) {
            return None;
        }
        let mi = sole(&a.outputs[0])?;
        let m = &g.nodes[mi];
        if m.op != "Mul" {
            return None;
        }
        let with = other(m, &a.outputs[0])?;
        let (last, half) = if with == x {
            let hi = sole(&m.outputs[0])?;
            let h = &g.nodes[hi];
            if h.op != "Mul" || !other(h, &m.outputs[0]).is_some_and(|c| const_is(&c, 0.5, 1e-6)) {
                return None;
            }
            (hi, None)
        } else {
            // Mul(x, ½) computed first
            let hi = index(&with)?;
            let h = &g.nodes[hi];
            if h.op != "Mul" || other(h, x).is_none_or(|c| !const_is(&c, 0.5, 1e-6)) {
                return None;
            }
            (mi, Some(hi))
        };
        let mut parts = vec![ei, ai, mi];
        parts.extend(half);
        parts.retain(|&i| i != last);
        Some((last, parts))
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
                let Some((last, parts)) = tail(ei, &x) else { continue };
                found.skipped.insert(pi);
                found.skipped.extend(parts);
                found.fused.insert(last, Fused::Gelu { x });
            }
            "Tanh" => {
                // Mul(Add(x, Mul(Pow(x, 3), 0.044715)), √(2/π)) → Tanh → the tail: GELU's tanh
                // form (GPT-2's gelu_new); a plain Tanh otherwise
                let Some(u) = e.input(0) else { continue };
                let Some(ui) = index(u).filter(|_| sole(u) == Some(ei)) else { continue };
                let un = &g.nodes[ui];
                if un.op != "Mul" {
                    continue;
                }
                let c = (2.0 / std::f64::consts::PI).sqrt();
                let Some(inner) = un.inputs.iter().find(|i| !const_is(i, c, 1e-4)).cloned() else {
                    continue;
                };
                if other(un, &inner).is_none_or(|k| !const_is(&k, c, 1e-4)) {
                    continue;
                }
                let Some(ii) = index(&inner).filter(|_| sole(&inner) == Some(ui)) else { continue };
                let add = &g.nodes[ii];
                if add.op != "Add" || add.inputs.len() != 2 {
                    continue;
                }
                // one operand is x, the other Mul(Pow(x, 3), 0.044715)
                let cubic = |name: &str, x: &str| -> Option<(usize, usize)> {
                    let mi = index(name).filter(|_| sole(name) == Some(ii))?;
                    let m = &g.nodes[mi];
                    let pw = m.inputs.iter().find(|i| !const_is(i, 0.044715, 1e-6))?.clone();
                    if m.op != "Mul" || other(m, &pw).is_none_or(|k| !const_is(&k, 0.044715, 1e-6))
                    {
                        return None;
                    }
                    let pi = index(&pw).filter(|_| sole(&pw) == Some(mi))?;
                    let p = &g.nodes[pi];
                    let three = p.input(1).is_some_and(|k| const_is(k, 3.0, 1e-9));
                    (p.op == "Pow" && p.input(0) == Some(x) && three).then_some((mi, pi))
                };
                let found_x = [(0, 1), (1, 0)].into_iter().find_map(|(a, b)| {
                    let x = add.inputs[a].clone();
                    cubic(&add.inputs[b], &x).map(|(mi, pi)| (x, mi, pi))
                });
                let Some((x, mi, pi)) = found_x else { continue };
                let Some((last, parts)) = tail(ei, &x) else { continue };
                found.skipped.extend([ui, ii, mi, pi]);
                found.skipped.extend(parts);
                found.fused.insert(last, Fused::GeluTanh { x });
            }
            "HardSigmoid" => {
                let (Ok(alpha), Ok(beta)) = (e.float("alpha"), e.float("beta")) else {
                    continue;
                };
                let (alpha, beta) = (alpha.unwrap_or(0.2), beta.unwrap_or(0.5));
                if (alpha - 1.0 / 6.0).abs() > 1e-6 || (beta - 0.5).abs() > 1e-6 {
                    continue;
                }
                let Some(x) = e.input(0) else { continue };
                let Some(mi) = sole(&e.outputs[0]) else { continue };
                let m = &g.nodes[mi];
                if m.op == "Mul" && other(m, &e.outputs[0]).as_deref() == Some(x) {
                    found.skipped.insert(ei);
                    found.fused.insert(mi, Fused::HardSwish { x: x.to_string() });
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
                    found.fused.insert(ei, Fused::BatchNorm);
                }
            }
            "Neg" => {
                if let Some((last, parts, fused)) = rotary(g, ei, &sole, &index) {
                    found.skipped.extend(parts);
                    found.fused.insert(last, fused);
                }
            }
            "Sqrt" => {
                let norm = decomposed_layer_norm(g, ei, &sole, &index)
                    .or_else(|| decomposed_rms_norm(g, ei, &sole, &index));
                if let Some((last, parts, fused)) = norm {
                    found.skipped.extend(parts);
                    found.fused.insert(last, fused);
                }
            }
            _ => {}
        }
    }
    found
}

/// The layer norm exporters write without LayerNormalization (opset < 17), found from its
/// Sqrt: mean = ReduceMean(x), d = Sub(x, mean), v = ReduceMean(Pow(d, 2) | Mul(d, d)),
/// Sqrt(Add(v, ε)), Div(d, ·), then optionally Mul by a constant γ and Add a constant β, every
/// mean over the last axis only (keepdims), every intermediate read by the pattern alone.
/// Returns the node that finishes it, the nodes inside it, and the fused op.
fn decomposed_layer_norm(
    g: &Graph,
    si: usize,
    sole: &dyn Fn(&str) -> Option<usize>,
    index: &dyn Fn(&str) -> Option<usize>,
) -> Option<(usize, Vec<usize>, Fused)> {
    let node = |i: usize| g.nodes.get(i);
    let out = |i: usize| node(i).and_then(|n| n.outputs.first()).map(String::as_str);
    let consumers =
        |name: &str| g.nodes.iter().filter(|n| n.inputs.iter().any(|i| i == name)).count();
    let ms = mean_square(g, si, sole, index)?;
    let d = ms.x;
    let di = index(&d)?;
    let sub = node(di)?;
    let (x, mean) = match (sub.op.as_str(), &sub.inputs[..]) {
        ("Sub", [x, m]) => (x.clone(), m.clone()),
        _ => return None,
    };
    let mi = index(&mean).filter(|_| sole(&mean) == Some(di))?;
    if last_axis_mean(g, mi)? != x || consumers(&d) != 2 {
        return None;
    }
    // Div(d, Sqrt(·))
    let qi = sole(out(si)?)?;
    let div = node(qi)?;
    if div.op != "Div" || div.inputs != [d.clone(), out(si)?.to_string()] {
        return None;
    }
    let mut parts = vec![mi, di, ms.pi, ms.vi, ms.ai, si, qi];
    let (gamma, beta, last) = affine_tail(g, qi, &mut parts, sole);
    parts.retain(|&i| i != last);
    Some((last, parts, Fused::LayerNorm { x, eps: ms.eps, gamma, beta, rms: false }))
}

/// The ReduceMean over the last axis (keepdims) that node `i` is: its input.
fn last_axis_mean(g: &Graph, i: usize) -> Option<String> {
    let n = g.nodes.get(i)?;
    let axes = match n.ints("axes").ok()? {
        Some(a) => a,
        None => g.consts.get(n.input(1)?)?.data.iter().map(|&v| v as i64).collect(),
    };
    let keep = n.int("keepdims").ok()?.unwrap_or(1) != 0;
    (n.op == "ReduceMean" && axes == [-1] && keep).then(|| n.inputs[0].clone())
}

/// The mean square under a norm's Sqrt (node `si`): Sqrt(Add(ReduceMean(Pow(x, 2) | Mul(x, x)),
/// ε)) over the last axis, every intermediate read by the next alone.
struct MeanSquare {
    /// The squared tensor.
    x: String,
    eps: f64,
    /// The Pow (or Mul), ReduceMean and Add nodes.
    pi: usize,
    vi: usize,
    ai: usize,
}

fn mean_square(
    g: &Graph,
    si: usize,
    sole: &dyn Fn(&str) -> Option<usize>,
    index: &dyn Fn(&str) -> Option<usize>,
) -> Option<MeanSquare> {
    let scalar = |name: &str| g.consts.get(name).and_then(Const::scalar);
    let ve = g.nodes.get(si)?.input(0)?;
    let ai = index(ve).filter(|_| sole(ve) == Some(si))?;
    let add = g.nodes.get(ai)?;
    let (v, eps) = match (&add.inputs[..], add.op.as_str()) {
        ([a, b], "Add") => match (scalar(a), scalar(b)) {
            (None, Some(e)) => (a.clone(), e),
            (Some(e), None) => (b.clone(), e),
            _ => return None,
        },
        _ => return None,
    };
    let vi = index(&v).filter(|_| sole(&v) == Some(ai))?;
    let p = last_axis_mean(g, vi)?;
    let pi = index(&p).filter(|_| sole(&p) == Some(vi))?;
    let pw = g.nodes.get(pi)?;
    let x = match (pw.op.as_str(), &pw.inputs[..]) {
        ("Pow", [x, two]) if scalar(two) == Some(2.0) => x.clone(),
        ("Mul", [a, b]) if a == b => a.clone(),
        _ => return None,
    };
    Some(MeanSquare { x, eps, pi, vi, ai })
}

/// After node `last`: optionally Mul by a constant γ, then Add a constant β (constants on either
/// side), each the sole reader of the one before; the nodes passed go to `parts`. Returns γ, β
/// and the last node.
fn affine_tail(
    g: &Graph,
    mut last: usize,
    parts: &mut Vec<usize>,
    sole: &dyn Fn(&str) -> Option<usize>,
) -> (Option<String>, Option<String>, usize) {
    let out = |i: usize| g.nodes.get(i).and_then(|n| n.outputs.first()).map(String::as_str);
    let mut step = |op: &str| -> Option<String> {
        let ci = sole(out(last)?)?;
        let c = g.nodes.get(ci)?;
        if c.op != op || c.inputs.len() != 2 {
            return None;
        }
        let other = c.inputs.iter().find(|i| i.as_str() != out(last).unwrap_or_default())?;
        g.consts.contains_key(other).then(|| {
            parts.push(last);
            last = ci;
            other.clone()
        })
    };
    let gamma = step("Mul");
    let beta = step("Add");
    (gamma, beta, last)
}

/// A rotary position embedding (LLaMA's `q·cos + rotate_half(q)·sin`), found from its Neg:
/// Add(Mul(x, cos), Mul(Concat(Neg(Slice(x)), Slice(x)), sin)) with each Mul's operands in
/// either order and every intermediate read by the pattern alone. The slices' bounds (the two
/// halves of the last axis) and the constant cos and sin are checked when it is lowered.
fn rotary(
    g: &Graph,
    ni: usize,
    sole: &dyn Fn(&str) -> Option<usize>,
    index: &dyn Fn(&str) -> Option<usize>,
) -> Option<(usize, Vec<usize>, Fused)> {
    let node = |i: usize| g.nodes.get(i);
    let out = |i: usize| node(i).and_then(|n| n.outputs.first()).map(String::as_str);
    let neg = node(ni)?;
    let hi_out = neg.input(0)?;
    let hi = index(hi_out).filter(|_| sole(hi_out) == Some(ni))?;
    let ci = sole(out(ni)?)?;
    let cat = node(ci)?;
    if cat.op != "Concat" || cat.inputs.len() != 2 || cat.input(0) != out(ni) {
        return None;
    }
    let lo_out = cat.input(1)?;
    let lo = index(lo_out).filter(|_| sole(lo_out) == Some(ci))?;
    let (slo, shi) = (node(lo)?, node(hi)?);
    let x = slo.input(0)?;
    if slo.op != "Slice" || shi.op != "Slice" || shi.input(0) != Some(x) {
        return None;
    }
    let other = |m: &Node, one: &str| -> Option<String> {
        match &m.inputs[..] {
            [a, b] if a == one => Some(b.clone()),
            [a, b] if b == one => Some(a.clone()),
            _ => None,
        }
    };
    let m2i = sole(out(ci)?)?;
    let m2 = node(m2i)?;
    let sin = other(m2, out(ci)?).filter(|_| m2.op == "Mul")?;
    let ai = sole(out(m2i)?)?;
    let add = node(ai)?;
    let m1_out = other(add, out(m2i)?).filter(|_| add.op == "Add")?;
    let m1i = index(&m1_out).filter(|_| sole(&m1_out) == Some(ai))?;
    let m1 = node(m1i)?;
    let cos = other(m1, x).filter(|_| m1.op == "Mul")?;
    let fused = Fused::Rotary { x: x.to_string(), cos, sin, lo, hi };
    Some((ai, vec![lo, hi, ni, ci, m2i, m1i], fused))
}

/// The RMS norm exporters write out (LLaMA's, T5's `x·rsqrt(mean(x²) + ε)·γ`), found from its
/// Sqrt: v = ReduceMean(Pow(x, 2) | Mul(x, x)) over the last axis (keepdims), Sqrt(Add(v, ε)),
/// then Div(x, ·), or Div(1, ·) or Reciprocal(·) and a Mul with x, then Casts (to float) and
/// optionally Mul by a constant γ and Add a constant β; every intermediate read by the pattern
/// alone.
fn decomposed_rms_norm(
    g: &Graph,
    si: usize,
    sole: &dyn Fn(&str) -> Option<usize>,
    index: &dyn Fn(&str) -> Option<usize>,
) -> Option<(usize, Vec<usize>, Fused)> {
    let node = |i: usize| g.nodes.get(i);
    let out = |i: usize| node(i).and_then(|n| n.outputs.first()).map(String::as_str);
    let scalar = |name: &str| g.consts.get(name).and_then(Const::scalar);
    let ms = mean_square(g, si, sole, index)?;
    let x = ms.x;
    let mut parts = vec![ms.pi, ms.vi, ms.ai, si];
    let qi = sole(out(si)?)?;
    let q = node(qi)?;
    let is_x = |name: &str| name == x;
    let last = match (q.op.as_str(), &q.inputs[..]) {
        ("Div", [a, _]) if is_x(a) => qi,
        ("Div", [one, _]) | ("Reciprocal", [one])
            if q.op == "Reciprocal" || scalar(one) == Some(1.0) =>
        {
            // r = 1/√(·), then Mul(x, r) or Mul(r, x)
            parts.push(qi);
            let mi = sole(out(qi)?)?;
            let m = node(mi)?;
            let r = out(qi)?;
            let ok = m.op == "Mul"
                && matches!(&m.inputs[..], [a, b] if (is_x(a) && b == r) || (a == r && is_x(b)));
            if !ok {
                return None;
            }
            mi
        }
        _ => return None,
    };
    let mut last = last;
    // Casts to float (LLaMA casts back to its input's dtype)
    while let Some(ci) = out(last).and_then(sole) {
        let c = node(ci)?;
        if c.op != "Cast" || c.int("to").ok()? != Some(1) {
            break;
        }
        parts.push(last);
        last = ci;
    }
    let (gamma, beta, last) = affine_tail(g, last, &mut parts, sole);
    parts.retain(|&i| i != last);
    parts.sort_unstable();
    parts.dedup();
    Some((last, parts, Fused::LayerNorm { x, eps: ms.eps, gamma, beta, rms: true }))
}

impl Lower<'_> {
    /// The BatchNormalization folded after node `n`'s output: per-channel (scale, shift).
    pub(super) fn folded_batchnorm(
        &self,
        n: &Node,
    ) -> Result<Option<FoldedBatchNorm>, ImportError> {
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
}
