//! Ops on computed tensors built from the registry operators of `circuit::OPS`: the product of
//! two computed tensors (Mul: SiLU, squeeze-excitation gating, x·x), sums and means along axes
//! (ReduceSum, ReduceMean) and ArgMax (the argmax gadget).
//!
//! A product or a sum stays a *pending* form over a wide integer tensor (a [`Term`] with its
//! bound), so that the ops after it (a bias, Relu, a residual Add) fold into the one
//! requantization that follows, as they do after a convolution.

use super::*;
use crate::circuit::broadcast::Broadcast;
use crate::circuit::mul::Mul;
use crate::circuit::reduce::ReduceSum;

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
