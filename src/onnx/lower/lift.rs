//! One-dimensional convolutions and pooling (Conv1d, MaxPool1d, AvgPool1d on [N, C, L]: audio
//! and sequence models) as their two-dimensional forms on [N, C, 1, L]: kernels [1, k], strides
//! [1, s], dilations [1, d], pads [0, p₀, 0, p₁]. The input is reshaped (wiring), the node's
//! attributes and the weights lifted, and the result reshaped back to the graph's shape.

use super::*;
use crate::onnx::graph::Attr;

/// `n` with its one-dimensional window attributes lifted to two dimensions.
pub(super) fn lift_1d(n: &Node) -> Node {
    let mut m = n.clone();
    for (key, fill) in [("kernel_shape", 1), ("strides", 1), ("dilations", 1)] {
        if let Some(Attr::Ints(v)) = m.attrs.get(key) {
            if v.len() == 1 {
                m.attrs.insert(key.into(), Attr::Ints(vec![fill, v[0]]));
            }
        }
    }
    if let Some(Attr::Ints(v)) = m.attrs.get("pads") {
        if let &[a, b] = v.as_slice() {
            m.attrs.insert("pads".into(), Attr::Ints(vec![0, a, 0, b]));
        }
    }
    m
}

/// [N, C, L] → [N, C, 1, L].
fn lifted(dims: &[usize]) -> Vec<usize> {
    let mut d = dims.to_vec();
    d.insert(2, 1);
    d
}

impl Lower<'_> {
    /// The rank of node `n`'s first input, when known.
    pub(super) fn rank_of(&self, n: &Node) -> Option<usize> {
        let name = n.input(0)?;
        match self.values.get(name) {
            Some(Value::Int { dims, .. }) => Some(dims.len()),
            Some(Value::Pending(p)) => {
                self.shapes.get(name).map_or(Some(p.dims.len()), |s| Some(s.len()))
            }
            _ => self.shapes.get(name).map(Vec::len),
        }
    }

    /// Pooling on NCHW, or on [N, C, L] through [`Lower::pool_1d`].
    pub(super) fn pool_any(&mut self, n: &Node) -> Result<(), ImportError> {
        match self.rank_of(n) {
            Some(3) => self.pool_1d(n),
            _ => self.pool(n),
        }
    }

    /// A name for a lifted tensor, bound to `v`.
    fn bind_lifted(&mut self, name: &str, v: Value) -> String {
        let lifted = format!("{name}#1d");
        self.values.insert(lifted.clone(), v);
        lifted
    }

    /// A convolution on a rank-3 input: the two-dimensional convolution of the lifted input and
    /// weights; its pending result has the lifted shape, which `materialize` views back.
    pub(super) fn conv_1d(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let x4 = self.b.push(Wiring::reshape(x, &dims, lifted(&dims))?);
        let x_name = n.input(0).unwrap_or_default().to_string();
        let x_name = self.bind_lifted(&x_name, Value::Int { id: x4, dims: lifted(&dims), q });
        let w_name = n.input(1).ok_or_else(|| node_error(n, "no weights"))?.to_string();
        let w = match self.input(n, 1)? {
            Value::Const(c) if c.dims.len() == 3 => {
                Value::Const(Const { dims: lifted(&c.dims), ..c })
            }
            _ => return Err(unsupported(n, "a 1-D convolution whose weights are not [M, C/g, k]")),
        };
        let w_name = self.bind_lifted(&w_name, w);
        let mut m = lift_1d(n);
        m.inputs[0] = x_name;
        m.inputs[1] = w_name;
        self.lifted_output(n, |l| l.conv(&m))
    }

    /// Runs `lower` with `n`'s output shape lifted (the two-dimensional layer checks its output
    /// against it), then views the result back at the graph's shape.
    fn lifted_output(
        &mut self,
        n: &Node,
        lower: impl FnOnce(&mut Self) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let shape = self.shapes.get(&out).cloned();
        if let Some(s) = &shape {
            self.shapes.insert(out.clone(), lifted(s));
        }
        let done = lower(self);
        if let Some(s) = shape {
            self.shapes.insert(out, s);
        }
        done?;
        self.view_back(n)
    }

    /// The value of `n`'s output, of the lifted shape, requantized (when pending) and viewed
    /// back at the graph's shape.
    fn view_back(&mut self, n: &Node) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let (id, q) = match self.get(&out, Some(n))? {
            v @ (Value::Int { .. } | Value::Pending(_)) => self.materialize(&out, v)?,
            _ => return Err(node_error(n, "no tensor")),
        };
        let got = self.b.dims(id);
        if got.len() == 4 {
            let mut back = got.clone();
            back.remove(2);
            let id = self.b.push(Wiring::reshape(id, &got, back.clone())?);
            self.values.insert(out, Value::Int { id, dims: back, q });
        }
        Ok(())
    }

    /// Pooling on a rank-3 input: the two-dimensional pooling of the lifted input, viewed back.
    pub(super) fn pool_1d(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let x4 = self.b.push(Wiring::reshape(x, &dims, lifted(&dims))?);
        let x_name = n.input(0).unwrap_or_default().to_string();
        let x_name = self.bind_lifted(&x_name, Value::Int { id: x4, dims: lifted(&dims), q });
        let mut m = lift_1d(n);
        m.inputs[0] = x_name;
        self.lifted_output(n, |l| l.pool(&m))
    }
}
