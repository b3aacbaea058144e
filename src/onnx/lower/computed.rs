//! Ops on computed tensors built from the registry operators of `circuit::OPS`: the product of
//! two computed tensors (Mul: SiLU, squeeze-excitation gating, x·x), sums and means along axes
//! (ReduceSum, ReduceMean) and ArgMax (the argmax gadget).
//!
//! A product or a sum stays a *pending* form over a wide integer tensor (a [`Term`] with its
//! bound), so that the ops after it (a bias, Relu, a residual Add) fold into the one
//! requantization that follows, as they do after a convolution.

use super::*;
use crate::circuit::broadcast::Broadcast;
use crate::circuit::matprod::MatProd;
use crate::circuit::mul::Mul;
use crate::circuit::reduce::ReduceSum;
use crate::circuit::take::Take;
use crate::circuit::Layer;

/// Axes of rank `rank` from ONNX's (negative counts from the end), sorted, without repeats.
fn normalize_axes(n: &Node, axes: &[i64], rank: usize) -> Result<Vec<usize>, ImportError> {
    let mut out = Vec::with_capacity(axes.len());
    for &a in axes {
        let r = rank as i64;
        if !(-r..r).contains(&a) {
            return Err(node_error(n, format!("axis {a} of a rank-{rank} tensor")));
        }
        out.push(if a < 0 { (a + r) as usize } else { a as usize });
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

impl Lower<'_> {
    /// Mul of two computed tensors: p = (x − z_x)·(y − z_y) as one [`Mul`] layer (the operand
    /// that broadcasts second, at x's rank), pending at scale s_x·s_y.
    pub(super) fn product(&mut self, n: &Node) -> Result<(), ImportError> {
        let (mut x, mut xd, mut xq) = self.int(n, 0)?;
        let (mut y, mut yd, mut yq) = self.int(n, 1)?;
        // the operand with more entries (or the first) is x: y broadcasts to it
        if yd.iter().product::<usize>() > xd.iter().product::<usize>() {
            (x, xd, xq, y, yd, yq) = (y, yd, yq, x, xd, xq);
        }
        if yd.len() < xd.len() {
            // numpy broadcasting aligns the trailing axes: y gains leading axes of length 1
            let mut padded = vec![1; xd.len() - yd.len()];
            padded.extend_from_slice(&yd);
            y = self.b.push(Wiring::reshape(y, &yd, padded.clone())?);
            yd = padded;
        }
        let mul = Mul::new(x, &xd, xq.zero, y, &yd, yq.zero)
            .map_err(|e| unsupported(n, format!("a product of shapes {xd:?} and {yd:?}: {e}")))?;
        let bound = mul.acc_bound();
        let id = self.b.push(mul);
        let term = Term { id, scale: xq.scale * yq.scale, zero: 0, bound };
        self.set_pending(n, term, xd)
    }

    /// Pow with the constant exponent 2: x·x as one [`Mul`] of x with itself, pending at s_x².
    pub(super) fn square(&mut self, n: &Node) -> Result<(), ImportError> {
        let e = self.scalar(n, 1)?;
        if e != 2.0 {
            return Err(unsupported(n, format!("a Pow with exponent {e} (squares only)")));
        }
        let (x, xd, xq) = self.int(n, 0)?;
        let mul = Mul::new(x, &xd, xq.zero, x, &xd, xq.zero)?;
        let bound = mul.acc_bound();
        let id = self.b.push(mul);
        let term = Term { id, scale: xq.scale * xq.scale, zero: 0, bound };
        self.set_pending(n, term, xd)
    }

    /// MatMul of two computed tensors (attention's q·kᵀ and a·v): one [`MatProd`] over the
    /// last two axes, batched over the leading ones (numpy's matmul; a lower-rank operand gains
    /// leading axes of length 1, and the batch axes must then be equal), pending at scale
    /// s_x·s_y.
    pub(super) fn matprod(&mut self, n: &Node) -> Result<(), ImportError> {
        let (mut x, mut xd, xq) = self.int(n, 0)?;
        let (mut y, mut yd, yq) = self.int(n, 1)?;
        if xd.len() < 2 || yd.len() < 2 {
            return Err(unsupported(
                n,
                format!("a matrix product of shapes {xd:?} and {yd:?} (rank 2 or more each)"),
            ));
        }
        let rank = xd.len().max(yd.len());
        for (t, d) in [(&mut x, &mut xd), (&mut y, &mut yd)] {
            if d.len() < rank {
                let mut padded = vec![1; rank - d.len()];
                padded.extend_from_slice(d);
                *t = self.b.push(Wiring::reshape(*t, d, padded.clone())?);
                *d = padded;
            }
        }
        let mp = MatProd::new((x, &xd, xq.zero), (y, &yd, yq.zero), false).map_err(|e| {
            unsupported(n, format!("a matrix product of shapes {xd:?} and {yd:?}: {e}"))
        })?;
        let bound = mp.acc_bound();
        let dims = mp.output_dims().to_vec();
        let id = self.b.push(mp);
        let term = Term { id, scale: xq.scale * yq.scale, zero: 0, bound };
        self.set_pending(n, term, dims)
    }

    /// ReduceSum and ReduceMean: one [`ReduceSum`] layer per reduced axis (and a reshape when
    /// `keepdims` = 0), pending at scale s_x (s_x/K for a mean of K entries) with the zero point
    /// K·z_x folded into the offset.
    pub(super) fn reduce(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let axes = self.reduce_axes(n, dims.len())?;
        let keep = n.int("keepdims")?.unwrap_or(1) != 0;
        if axes.is_empty() {
            // noop_with_empty_axes = 1: the tensor itself
            return self.set(n, Value::Int { id: x, dims, q });
        }
        let mut t = x;
        let mut cur = dims.clone();
        for &a in &axes {
            t = self.b.push(ReduceSum::new(t, &cur, a)?);
            cur[a] = 1;
        }
        let count: usize = axes.iter().map(|&a| dims[a]).product();
        if !keep {
            let squeezed: Vec<usize> = cur
                .iter()
                .enumerate()
                .filter(|(a, _)| !axes.contains(a))
                .map(|(_, &d)| d)
                .collect();
            t = self.b.push(Wiring::reshape(t, &cur, squeezed.clone())?);
            cur = squeezed;
        }
        let mean = n.op == "ReduceMean";
        let scale = if mean { q.scale / count as f64 } else { q.scale };
        let k = count as i64;
        let term = Term { id: t, scale, zero: k * q.zero as i64, bound: 128 * count as i128 };
        self.set_pending(n, term, cur)
    }

    /// The reduced axes: the `axes` attribute (opset < 18) or constant input 1; none given
    /// reduces all of them unless `noop_with_empty_axes`.
    fn reduce_axes(&self, n: &Node, rank: usize) -> Result<Vec<usize>, ImportError> {
        let given = match n.ints("axes")? {
            Some(a) => Some(a),
            None if n.input(1).is_some() => {
                Some(self.constant(n, 1)?.data.iter().map(|&v| v as i64).collect())
            }
            None => None,
        };
        match given {
            Some(a) if !a.is_empty() => normalize_axes(n, &a, rank),
            _ if n.int("noop_with_empty_axes")?.unwrap_or(0) != 0 => Ok(Vec::new()),
            _ => Ok((0..rank).collect()),
        }
    }

    /// ArgMax: the argmax gadget on the int8 tensor (ties to the lowest index, as ONNX's
    /// default), an integer output with scale 1.
    pub(super) fn argmax(&mut self, n: &Node) -> Result<(), ImportError> {
        if n.int("select_last_index")?.unwrap_or(0) != 0 {
            return Err(unsupported(n, "select_last_index = 1 (ties to the highest index)"));
        }
        let (x, dims, _) = self.int(n, 0)?;
        let axis = normalize_axes(n, &[n.int("axis")?.unwrap_or(0)], dims.len())?[0];
        // int8 scores: 8 bits, one limb
        let mut id = self.b.argmax(x, axis, 8)?;
        if n.int("keepdims")?.unwrap_or(1) == 0 {
            let kept = self.b.dims(id);
            let squeezed: Vec<usize> =
                kept.iter().enumerate().filter(|&(a, _)| a != axis).map(|(_, &d)| d).collect();
            id = self.b.push(Wiring::reshape(id, &kept, squeezed)?);
        }
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?;
        let (dims, want) = (self.b.dims(id), self.shape(out)?);
        if dims != want {
            return Err(node_error(
                n,
                format!("gkrnet computes dimensions {dims:?}, tract {want:?}"),
            ));
        }
        self.set(n, Value::Index { id })
    }

    /// Expand of a computed tensor to the output's shape (tract's, the shape input being a
    /// constant or shape arithmetic): a [`Broadcast`] after leading axes of length 1.
    pub(super) fn expand(&mut self, n: &Node) -> Result<(), ImportError> {
        let (mut x, mut dims, q) = self.int(n, 0)?;
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?;
        let want = self.shape(out)?;
        if dims.len() < want.len() {
            let mut padded = vec![1; want.len() - dims.len()];
            padded.extend_from_slice(&dims);
            x = self.b.push(Wiring::reshape(x, &dims, padded.clone())?);
            dims = padded;
        }
        if dims == want {
            return self.set(n, Value::Int { id: x, dims, q });
        }
        let b = Broadcast::new(x, &dims, &want).map_err(|e| unsupported(n, e.to_string()))?;
        let id = self.b.push(b);
        self.set_checked(n, id, q)
    }

    /// Slice (constant starts, ends, axes, steps; attributes before opset 10), Gather along an
    /// axis with constant indices, and Split: one [`Take`] per output, then a reshape where
    /// Gather's indices change the rank. The outputs keep the input's quantization.
    pub(super) fn take(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let per_output: Vec<(usize, Vec<Vec<usize>>)> = match n.op.as_str() {
            "Slice" => vec![(0, self.slice_indices(n, &dims)?)],
            "Gather" => vec![(0, self.gather_indices(n, &dims)?)],
            _ => self.split_indices(n, &dims)?.into_iter().enumerate().collect(),
        };
        for (o, indices) in per_output {
            let Some(out) = n.outputs.get(o).filter(|s| !s.is_empty()) else { continue };
            let unchanged = indices
                .iter()
                .zip(&dims)
                .all(|(l, &d)| l.len() == d && l.iter().enumerate().all(|(i, &v)| i == v));
            let mut id = if unchanged { x } else { self.b.push(Take::new(x, &dims, indices)?) };
            let want = self.shape(out)?;
            let got = self.b.dims(id);
            if got != want {
                if got.iter().product::<usize>() != want.iter().product::<usize>() {
                    return Err(node_error(
                        n,
                        format!("gkrnet computes dimensions {got:?}, tract {want:?}"),
                    ));
                }
                id = self.b.push(Wiring::reshape(id, &got, want.clone())?);
            }
            self.values.insert(out.clone(), Value::Int { id, dims: want, q });
        }
        Ok(())
    }

    /// GatherND (batch_dims 0), GatherElements with constant indices and Tile with constant
    /// repeats: a flat [`Take`], the
    /// source of every output entry listed.
    pub(super) fn take_flat(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let idx = self.constant(n, 1)?;
        let mut strides = vec![1usize; dims.len()];
        for a in (0..dims.len().saturating_sub(1)).rev() {
            strides[a] = strides[a + 1] * dims[a + 1];
        }
        let at = |v: f64, a: usize| -> Result<usize, ImportError> {
            let d = dims[a] as i64;
            let i = if v < 0.0 { v as i64 + d } else { v as i64 };
            usize::try_from(i)
                .ok()
                .filter(|&i| (i as i64) < d)
                .ok_or_else(|| node_error(n, format!("index {v} outside axis {a} of length {d}")))
        };
        let (out_dims, sources) = if n.op == "Tile" {
            // out[c] = x[c mod dims], the output `repeats` times larger along each axis
            if idx.len() != dims.len() || idx.data.iter().any(|r| !(1.0..=4096.0).contains(r)) {
                return Err(node_error(
                    n,
                    format!("repeats {:?} for rank {}", idx.data, dims.len()),
                ));
            }
            let out_dims: Vec<usize> =
                dims.iter().zip(&idx.data).map(|(&d, &r)| d * r as usize).collect();
            let len: usize = out_dims.iter().product();
            let mut sources = Vec::with_capacity(len);
            for e in 0..len {
                let (mut rest, mut src) = (e, 0);
                for a in (0..dims.len()).rev() {
                    src += (rest % out_dims[a]) % dims[a] * strides[a];
                    rest /= out_dims[a];
                }
                sources.push(src);
            }
            (out_dims, sources)
        } else if n.op == "GatherND" {
            if n.int("batch_dims")?.unwrap_or(0) != 0 {
                return Err(unsupported(n, "batch_dims ≠ 0"));
            }
            let (k, lead) = match idx.dims.split_last() {
                Some((&k, lead)) if k >= 1 && k <= dims.len() => (k, lead.to_vec()),
                _ => return Err(node_error(n, format!("indices of shape {:?}", idx.dims))),
            };
            let inner: usize = dims[k..].iter().product();
            let mut sources = Vec::with_capacity(idx.len() / k * inner);
            for tuple in idx.data.chunks(k) {
                let mut base = 0;
                for (a, &v) in tuple.iter().enumerate() {
                    base += at(v, a)? * strides[a];
                }
                sources.extend(base..base + inner);
            }
            (lead.into_iter().chain(dims[k..].iter().copied()).collect::<Vec<_>>(), sources)
        } else {
            let axis = normalize_axes(n, &[n.int("axis")?.unwrap_or(0)], dims.len())?[0];
            if idx.dims.len() != dims.len() {
                return Err(node_error(n, format!("indices of shape {:?}", idx.dims)));
            }
            let mut sources = Vec::with_capacity(idx.len());
            for (e, &v) in idx.data.iter().enumerate() {
                let (mut rest, mut src) = (e, 0);
                for a in (0..dims.len()).rev() {
                    let c = rest % idx.dims[a];
                    rest /= idx.dims[a];
                    let c = if a == axis { at(v, a)? } else { c };
                    if c >= dims[a] {
                        return Err(node_error(n, format!("indices of shape {:?}", idx.dims)));
                    }
                    src += c * strides[a];
                }
                sources.push(src);
            }
            (idx.dims.clone(), sources)
        };
        let id = self.b.push(Take::flat(x, &dims, &out_dims, sources)?);
        self.set_checked(n, id, q)
    }

    /// An integer constant input (or attribute) as i64s.
    fn ints_of(&self, n: &Node, attr: &str, input: usize) -> Result<Option<Vec<i64>>, ImportError> {
        if self.g.opset < 10 || n.input(input).is_none() {
            return n.ints(attr);
        }
        Ok(Some(self.constant(n, input)?.data.iter().map(|&v| v as i64).collect()))
    }

    fn slice_indices(&self, n: &Node, dims: &[usize]) -> Result<Vec<Vec<usize>>, ImportError> {
        let starts = self.ints_of(n, "starts", 1)?.ok_or_else(|| node_error(n, "no starts"))?;
        let ends = self.ints_of(n, "ends", 2)?.ok_or_else(|| node_error(n, "no ends"))?;
        let axes = match self.ints_of(n, "axes", 3)? {
            Some(a) => a,
            None => (0..starts.len() as i64).collect(),
        };
        let steps = match self.ints_of(n, "steps", 4)? {
            Some(s) => s,
            None => vec![1; starts.len()],
        };
        if starts.len() != ends.len() || axes.len() != starts.len() || steps.len() != starts.len() {
            return Err(node_error(n, "starts, ends, axes and steps of different lengths"));
        }
        let mut indices: Vec<Vec<usize>> = dims.iter().map(|&d| (0..d).collect()).collect();
        for (k, &a) in axes.iter().enumerate() {
            let axis = normalize_axes(n, &[a], dims.len())?[0];
            let d = dims[axis] as i64;
            let step = steps[k];
            if step == 0 {
                return Err(node_error(n, "a step of 0"));
            }
            let at = |v: i64| if v < 0 { v + d } else { v };
            let (mut s, mut e) = (at(starts[k]), at(ends[k]));
            if step > 0 {
                (s, e) = (s.clamp(0, d), e.clamp(0, d));
            } else {
                (s, e) = (s.clamp(0, d - 1), e.clamp(-1, d - 1));
            }
            let mut list = Vec::new();
            let mut i = s;
            while (step > 0 && i < e) || (step < 0 && i > e) {
                list.push(i as usize);
                i += step;
            }
            if list.is_empty() {
                return Err(unsupported(n, format!("an empty slice of axis {axis}")));
            }
            indices[axis] = list;
        }
        Ok(indices)
    }

    fn gather_indices(&self, n: &Node, dims: &[usize]) -> Result<Vec<Vec<usize>>, ImportError> {
        let axis = normalize_axes(n, &[n.int("axis")?.unwrap_or(0)], dims.len())?[0];
        let d = dims[axis] as i64;
        let list = self
            .constant(n, 1)?
            .data
            .iter()
            .map(|&v| {
                let i = if v < 0.0 { v as i64 + d } else { v as i64 };
                usize::try_from(i).ok().filter(|&i| (i as i64) < d).ok_or_else(|| {
                    node_error(n, format!("index {v} outside axis {axis} of length {d}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut indices: Vec<Vec<usize>> = dims.iter().map(|&d| (0..d).collect()).collect();
        indices[axis] = list;
        Ok(indices)
    }

    fn split_indices(&self, n: &Node, dims: &[usize]) -> Result<Vec<Vec<Vec<usize>>>, ImportError> {
        let axis = normalize_axes(n, &[n.int("axis")?.unwrap_or(0)], dims.len())?[0];
        let d = dims[axis];
        let outputs = n.outputs.len().max(1);
        let sizes: Vec<usize> = match self.ints_of(n, "split", 1)? {
            Some(s) => s.iter().map(|&v| v.max(0) as usize).collect(),
            None => {
                // equal parts, the last one smaller (opset 18's num_outputs rule)
                let part = d.div_ceil(outputs);
                (0..outputs).map(|i| part.min(d.saturating_sub(i * part))).collect()
            }
        };
        if sizes.iter().sum::<usize>() != d || sizes.len() != outputs {
            return Err(node_error(n, format!("split sizes {sizes:?} of an axis of length {d}")));
        }
        let mut start = 0;
        let mut out = Vec::with_capacity(sizes.len());
        for s in sizes {
            let mut indices: Vec<Vec<usize>> = dims.iter().map(|&d| (0..d).collect()).collect();
            indices[axis] = (start..start + s).collect();
            start += s;
            out.push(indices);
        }
        Ok(out)
    }

    /// A wide integer term as the node's pending value.
    fn set_pending(&mut self, n: &Node, term: Term, dims: Vec<usize>) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?;
        let want = self.shape(out)?;
        if want != dims {
            return Err(node_error(
                n,
                format!("gkrnet computes dimensions {dims:?}, tract {want:?}"),
            ));
        }
        let p = Pending {
            src: Src::Sum(vec![term]),
            dims,
            mult: vec![1.0],
            offset: vec![0.0],
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        self.set(n, Value::Pending(p))
    }
}

impl Lower<'_> {
    /// Where with a constant condition: every output entry is an entry of one branch (numpy
    /// broadcasting), so the output is a flat [`Take`] over the branches flattened and
    /// concatenated at the output's parameters. A computed branch is requantized to them; a
    /// constant scalar branch (PyTorch's `masked_fill`) becomes one int8 entry: a dense layer of
    /// zero weights whose bias is the constant (clamped to the representable range).
    pub(super) fn select(&mut self, n: &Node) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let out_dims = self.shape(&out)?;
        let cond = self.constant(n, 0)?;
        if let Some(done) = self.masked_fill(n, &cond, &out)? {
            return Ok(done);
        }
        let q = self.target_params(&out)?;
        // the first computed branch anchors a constant branch's entry
        let mut anchor = None;
        let mut branches: Vec<(TensorId, Vec<usize>)> = Vec::new();
        let mut constants = Vec::new();
        for i in [1, 2] {
            match self.input(n, i)? {
                Value::Const(c) => {
                    let v = c.scalar().ok_or_else(|| {
                        unsupported(n, format!("input {i} is a constant that is not a scalar"))
                    })?;
                    constants.push((branches.len(), v));
                    branches.push((0, vec![1]));
                }
                Value::QConst { .. } => {
                    return Err(unsupported(n, format!("input {i} is a quantized constant")))
                }
                Value::Index { .. } => return Err(unsupported(n, super::operands::INDEX_OPERAND)),
                v => {
                    let id = match v {
                        Value::Int { id, q: qi, .. } if qi == q => id,
                        v => {
                            let p = self.pending(n, v)?;
                            self.requant(p, q)?
                        }
                    };
                    anchor.get_or_insert(id);
                    branches.push((id, self.b.dims(id)));
                }
            }
        }
        let anchor = anchor.ok_or_else(|| unsupported(n, "two constant branches"))?;
        for (slot, v) in constants {
            let id = self.constant_entry(anchor, v, q)?;
            branches[slot] = (id, vec![1]);
        }
        // flat offsets of the branches in their concatenation
        let mut flat = Vec::new();
        let mut offsets = Vec::new();
        let mut total = 0usize;
        for (id, dims) in &branches {
            let len: usize = dims.iter().product();
            let id = if dims.len() == 1 {
                *id
            } else {
                self.b.push(Wiring::reshape(*id, dims, vec![len])?)
            };
            flat.push((id, vec![len]));
            offsets.push(total);
            total += len;
        }
        let (ids, dims): (Vec<TensorId>, Vec<Vec<usize>>) = flat.into_iter().unzip();
        let both = self.b.push(Concat::new(ids, dims, 0)?);
        let len: usize = out_dims.iter().product();
        let index = |dims: &[usize], e: usize| -> Result<usize, ImportError> {
            broadcast_source(dims, &out_dims, e).ok_or_else(|| {
                node_error(n, format!("{dims:?} does not broadcast to {out_dims:?}"))
            })
        };
        let mut sources = Vec::with_capacity(len);
        for e in 0..len {
            let take_first = cond.data[index(&cond.dims, e)?] != 0.0;
            let b = usize::from(!take_first);
            sources.push(offsets[b] + index(&branches[b].1, e)?);
        }
        let id = self.b.push(Take::flat(both, &[total], &out_dims, sources)?);
        self.set_checked(n, id, q)
    }

    /// One int8 entry holding the real value `v` at parameters `q` (clamped to their range):
    /// a zero-weight dense layer on one entry of `anchor`, its bias the constant.
    /// Where(constant condition, scores, c ≤ −10 000) before a Softmax (directly or through an
    /// Add): PyTorch's `masked_fill` of a causal mask (GPT-Neo, older GPT-2 exports), lowered as
    /// the additive mask it is (`add_mask`: masked probabilities exactly 0). `None`: another
    /// Where.
    fn masked_fill(
        &mut self,
        n: &Node,
        cond: &Const,
        out: &str,
    ) -> Result<Option<()>, ImportError> {
        let softmax = |name: &str| self.g.consumers(name).iter().any(|m| m.op == "Softmax");
        let feeds = softmax(out)
            || self
                .g
                .consumers(out)
                .iter()
                .any(|m| m.op == "Add" && m.outputs.first().is_some_and(|o| softmax(o)));
        let (a, b) = (self.input(n, 1)?, self.input(n, 2)?);
        let scalar = |v: &Value| match v {
            Value::Const(c) => c.scalar().filter(|&x| x <= super::MASKED),
            _ => None,
        };
        let computed = |v: &Value| matches!(v, Value::Int { .. } | Value::Pending(_));
        let (x, keep_when) = match (scalar(&a), scalar(&b)) {
            (None, Some(_)) if computed(&a) => (a, true),
            (Some(_), None) if computed(&b) => (b, false),
            _ => return Ok(None),
        };
        if !feeds {
            return Ok(None);
        }
        let p = self.pending(n, x)?;
        let Some(keep) = self.per_element(&Value::Const(cond.clone()), &p.dims) else {
            return Ok(None);
        };
        // the additive form: 0 where the scores are kept, the float minimum where masked
        let data =
            keep.iter().map(|&c| if (c != 0.0) == keep_when { 0.0 } else { f64::MIN }).collect();
        let c = Const { dims: p.dims.clone(), dtype: Dtype::F64, data };
        self.add_mask(n, p, &Value::Const(c))?;
        Ok(Some(()))
    }

    fn constant_entry(
        &mut self,
        anchor: TensorId,
        v: f64,
        q: QParams,
    ) -> Result<TensorId, ImportError> {
        let dims = self.b.dims(anchor);
        let one = self.b.push(Take::flat(anchor, &dims, &[1, 1], vec![0])?);
        let (lo, hi) = ((-128 - q.zero) as f64 * q.scale, (127 - q.zero) as f64 * q.scale);
        let p = Pending {
            src: Src::Linear(Linear {
                x: one,
                in_dims: vec![1, 1],
                zero: 0,
                weights: vec![0],
                features: 1,
                conv: None,
            }),
            dims: vec![1, 1],
            mult: vec![q.scale],
            offset: vec![v.clamp(lo, hi)],
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        let id = self.requant(p, q)?;
        Ok(self.b.push(Wiring::reshape(id, &[1, 1], vec![1])?))
    }
}

/// The flat index, in a tensor of `dims` broadcast (numpy, aligned right) to `out`, of output
/// entry `e`; `None` when `dims` does not broadcast to `out`.
pub(super) fn broadcast_source(dims: &[usize], out: &[usize], e: usize) -> Option<usize> {
    let lead = out.len().checked_sub(dims.len())?;
    let (mut rest, mut src, mut stride) = (e, 0usize, 1usize);
    for a in (0..out.len()).rev() {
        let c = rest % out[a];
        rest /= out[a];
        if a >= lead {
            let d = dims[a - lead];
            if d != 1 && d != out[a] {
                return None;
            }
            src += if d == 1 { 0 } else { c * stride };
            stride *= d;
        }
    }
    Some(src)
}
