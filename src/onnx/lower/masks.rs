//! Attention masks the model reads from an input (a Hugging Face `attention_mask` beside the
//! token ids): the nodes that turn the 0/1 input into the additive float mask are not proved;
//! the verifier holds the input, and the circuit gathers one 0/1 gate per score from it
//! (`circuit::gate`, [`crate::circuit::zoo::Builder::softmax_gated`]).
//!
//! What those nodes compute is found by running them (through tract, on the calibration plan)
//! on probe masks, whatever ops the exporter used (Cast, Unsqueeze, Expand, And, Where, Sub,
//! Mul, …). The form accepted: every element of the additive mask is either always masked
//! (at or below −10 000: a causal mask), never masked with one fixed value, or masked exactly
//! when one position of one mask input is 0. One probe with every mask 1, one with a mask 0,
//! and two per bit of a position's index find each element's position; seeded random masks
//! then check the prediction, so a mask of any other form (an OR, a sum of positions, values
//! that move) is refused with its node, never proved as something else.

use super::*;
use crate::onnx::reference::FloatReference;

/// The nodes that compute from the mask inputs alone, and the tensors they hand to other nodes.
#[derive(Clone, Debug, Default)]
pub(super) struct MaskGraph {
    pub(super) nodes: HashSet<usize>,
    /// Tensors of the mask nodes that other nodes read (each by an Add before a Softmax).
    pub(super) exits: Vec<String>,
}

/// One additive mask tensor: its values with every mask input 1, and for every element the
/// circuit input entry that gates it (a mask value, or the constant 0 or 1 slot).
#[derive(Clone, Debug)]
pub(super) struct DerivedMask {
    pub(super) values: Const,
    pub(super) slots: Vec<usize>,
    /// The circuit input's constant-0 entry (the slot of an always-masked score).
    pub(super) zero: usize,
}

/// The nodes computed from the inputs `masks` (and constants) alone, in graph order. A node
/// that reads one of their tensors beside a tensor computed otherwise must be an Add (the mask
/// added to scores); a graph output computed from a mask is refused.
pub(super) fn subgraph(
    g: &Graph,
    folded: &HashSet<usize>,
    masks: &[String],
) -> Result<MaskGraph, ImportError> {
    let mut out = MaskGraph::default();
    if masks.is_empty() {
        return Ok(out);
    }
    let mut fixed: HashSet<&str> = g.consts.keys().map(String::as_str).collect();
    for &i in folded {
        fixed.extend(g.nodes[i].outputs.iter().map(String::as_str));
    }
    let mut reached: HashSet<&str> = masks.iter().map(String::as_str).collect();
    for (i, n) in g.nodes.iter().enumerate() {
        if folded.contains(&i) {
            continue;
        }
        let inputs: Vec<&str> =
            n.inputs.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
        let read: Vec<&str> = inputs.iter().copied().filter(|s| reached.contains(s)).collect();
        if read.is_empty() {
            continue;
        }
        if inputs.iter().all(|s| reached.contains(s) || fixed.contains(s)) {
            out.nodes.insert(i);
            reached.extend(n.outputs.iter().map(String::as_str).filter(|o| !o.is_empty()));
            continue;
        }
        if n.op != "Add" || read.len() != 1 {
            return Err(unsupported(
                n,
                format!(
                    "the mask input's tensor {:?} read beside computed tensors (an attention \
                     mask is proved when it is added to scores before a Softmax)",
                    read[0]
                ),
            ));
        }
        if masks.iter().any(|m| m == read[0]) {
            return Err(unsupported(
                n,
                "a mask input added to scores as it is (not 0/1 → additive)",
            ));
        }
        if !out.exits.iter().any(|e| e == read[0]) {
            out.exits.push(read[0].to_string());
        }
    }
    if let Some(o) = g.outputs.iter().find(|o| reached.contains(o.as_str())) {
        return Err(ImportError::Graph(format!(
            "the graph output {o:?} is computed from the mask input alone (it is public: nothing \
             to prove)"
        )));
    }
    Ok(out)
}

/// Where the mask inputs sit: in the source input (graph order, what tract runs) and in the
/// circuit's input tensor.
pub(super) struct MaskLayout {
    /// (offset in the source input, length, first entry in the circuit input) per mask input.
    pub(super) masks: Vec<(usize, usize, usize)>,
    /// The circuit input's constant 0 and 1 entries.
    pub(super) zero: usize,
    pub(super) one: usize,
}

fn is_masked(v: f64) -> bool {
    v <= super::MASKED
}

/// Each exit's values and gates ([`DerivedMask`]), found by running the graph on probe masks
/// around `base` (a valid source input whose ids stay as they are).
pub(super) fn probe(
    calib: &FloatReference,
    sub: &MaskGraph,
    layout: &MaskLayout,
    base: &[f32],
    seed: u64,
) -> Result<HashMap<String, DerivedMask>, ImportError> {
    let run = |x: &[f32]| -> Result<Vec<crate::onnx::reference::Named>, ImportError> {
        let out = calib.run(x)?;
        sub.exits
            .iter()
            .map(|t| {
                out.get(t).cloned().ok_or_else(|| {
                    ImportError::Graph(format!("tract computes no value for the mask {t:?}"))
                })
            })
            .collect()
    };
    // every mask 1 but mask k, which is m(position)
    let with = |k: usize, m: &dyn Fn(usize) -> bool| -> Vec<f32> {
        let mut x = base.to_vec();
        for (j, &(offset, len, _)) in layout.masks.iter().enumerate() {
            for p in 0..len {
                x[offset + p] = if j != k || m(p) { 1.0 } else { 0.0 };
            }
        }
        x
    };
    let ones = run(&with(usize::MAX, &|_| true))?;
    // per exit and element: (mask input, position) it depends on
    let mut dep: Vec<Vec<Option<(usize, usize)>>> =
        ones.iter().map(|(_, v)| vec![None; v.len()]).collect();
    let not_one = |t: usize, e: usize| {
        ImportError::Graph(format!(
            "the tensor {:?} computed from the integer inputs beside the token ids is not an \
             attention mask at entry {e}: each score must be kept, masked (≤ −10 000), or \
             masked exactly where one mask value is 0 (integer inputs other than one input of \
             token ids and 0/1 attention masks, such as token type ids, are not supported)",
            sub.exits[t]
        ))
    };
    for (k, &(_, len, _)) in layout.masks.iter().enumerate() {
        let bits = usize::BITS - len.max(2).saturating_sub(1).leading_zeros();
        let zeros = run(&with(k, &|_| false))?;
        let mut probes = Vec::with_capacity(bits as usize);
        for b in 0..bits {
            let set = run(&with(k, &|p| (p >> b) & 1 == 0))?;
            let clear = run(&with(k, &|p| (p >> b) & 1 == 1))?;
            probes.push((set, clear));
        }
        for (t, (_, v)) in ones.iter().enumerate() {
            for e in 0..v.len() {
                if is_masked(v[e]) || !is_masked(zeros[t].1[e]) {
                    continue;
                }
                let mut p = 0usize;
                for (b, (set, clear)) in probes.iter().enumerate() {
                    match (is_masked(set[t].1[e]), is_masked(clear[t].1[e])) {
                        (true, false) => p |= 1 << b,
                        (false, true) => {}
                        _ => return Err(not_one(t, e)),
                    }
                }
                if p >= len || dep[t][e].is_some() {
                    return Err(not_one(t, e));
                }
                dep[t][e] = Some((k, p));
            }
        }
    }
    // seeded random masks: the prediction must hold, kept values must not move
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    for _ in 0..3 {
        let masks: Vec<Vec<bool>> =
            layout.masks.iter().map(|&(_, len, _)| (0..len).map(|_| rng.gen()).collect()).collect();
        let mut x = base.to_vec();
        for (m, &(offset, _, _)) in masks.iter().zip(&layout.masks) {
            for (p, &keep) in m.iter().enumerate() {
                x[offset + p] = if keep { 1.0 } else { 0.0 };
            }
        }
        for (t, (_, v)) in run(&x)?.iter().enumerate() {
            for e in 0..v.len() {
                let one = ones[t].1[e];
                let masked = is_masked(one) || dep[t][e].is_some_and(|(k, p)| !masks[k][p]);
                let same = (v[e] - one).abs() <= 1e-6 * one.abs().max(1.0);
                if masked != is_masked(v[e]) || (!masked && !same) {
                    return Err(not_one(t, e));
                }
            }
        }
    }
    let mut out = HashMap::new();
    for (t, (dims, values)) in ones.into_iter().enumerate() {
        let slots = (0..values.len())
            .map(|e| match dep[t][e] {
                _ if is_masked(values[e]) => layout.zero,
                Some((k, p)) => layout.masks[k].2 + p,
                None => layout.one,
            })
            .collect();
        let values = Const { dims, dtype: Dtype::F64, data: values };
        out.insert(sub.exits[t].clone(), DerivedMask { values, slots, zero: layout.zero });
    }
    Ok(out)
}

impl Lower<'_> {
    /// Add of scores and a mask read from the input ([`DerivedMask`]): as a constant mask
    /// (`add_mask`: values added, always-masked positions driven to −128), and the gate of every
    /// score kept for its Softmax.
    pub(super) fn add_gated_mask(&mut self, n: &Node, mask: &str) -> Result<(), ImportError> {
        let d = self
            .derived
            .get(mask)
            .cloned()
            .ok_or_else(|| node_error(n, format!("no mask values for {mask:?}")))?;
        let feeds_softmax = n
            .outputs
            .first()
            .is_some_and(|o| self.g.consumers(o).iter().any(|m| m.op == "Softmax"));
        if !feeds_softmax {
            return Err(unsupported(n, "an attention mask added to a tensor no Softmax reads"));
        }
        let scores = n.inputs.iter().find(|i| *i != mask).cloned().unwrap_or_default();
        let t = self.get(&scores, Some(n))?;
        let p = self.pending(n, t)?;
        let dims = p.dims.clone();
        let slots = Const {
            dims: d.values.dims.clone(),
            dtype: Dtype::F64,
            data: d.slots.iter().map(|&s| s as f64).collect(),
        };
        let slots = self.per_element(&Value::Const(slots), &dims).ok_or_else(|| {
            unsupported(
                n,
                format!("a mask {:?} that does not broadcast to {dims:?}", d.values.dims),
            )
        })?;
        // scores masked already (a masked_fill before this Add): the constant 0 entry there
        let before = self.masks.get(&scores).filter(|k| k.len() == slots.len()).cloned();
        self.add_mask(n, p, &Value::Const(d.values))?;
        let out = n.outputs.first().cloned().unwrap_or_default();
        let slots = slots
            .iter()
            .enumerate()
            .map(|(e, &s)| match &before {
                Some(k) if k[e] == 0 => d.zero,
                _ => s as usize,
            })
            .collect();
        self.gates.insert(out, slots);
        Ok(())
    }

    /// The gate tensor of `slots` (one circuit input entry per element of `dims`): a Take of the
    /// input, shared by every Softmax with the same mask.
    pub(super) fn gate(
        &mut self,
        dims: &[usize],
        slots: Vec<usize>,
    ) -> Result<TensorId, ImportError> {
        if let Some(&id) = self.gate_ids.get(&slots) {
            if self.b.dims(id) == dims {
                return Ok(id);
            }
        }
        let input = self.b.dims(0);
        let id = self.b.push(Take::flat(0, &input, dims, slots.clone())?);
        self.gate_ids.insert(slots, id);
        Ok(id)
    }
}
