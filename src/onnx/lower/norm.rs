//! LayerNormalization (opset 17) over the last axis, proved by `circuit::layernorm`: the input
//! is viewed as its [rows, n] matrix, normalized with the node's epsilon, scaled and shifted by
//! its constant γ and β per column, requantized at the output's parameters and viewed back at
//! the graph's shape.

use super::*;

impl Lower<'_> {
    pub(super) fn layer_norm(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let rank = dims.len() as i64;
        let axis = n.int("axis")?.unwrap_or(-1);
        if rank == 0 || (axis + rank) % rank.max(1) != rank - 1 || !(-rank..rank).contains(&axis) {
            return Err(unsupported(
                n,
                format!(
                    "a LayerNormalization from axis {axis} of shape {dims:?} (the last axis only)"
                ),
            ));
        }
        let eps = n.float("epsilon")?.unwrap_or(1e-5);
        if !(eps >= 0.0 && eps.is_finite()) {
            return Err(node_error(n, format!("epsilon {eps}")));
        }
        let cols = dims.last().copied().unwrap_or(1);
        let per_column = |l: &mut Self, i: usize, default: f64| -> Result<Vec<f64>, ImportError> {
            if n.input(i).is_none() {
                return Ok(vec![default; cols]);
            }
            let c = match l.input(n, i)? {
                Value::Const(c) => c,
                Value::QConst { q, scale, zero, axis } => {
                    pending::dequantize(&q, &scale, &zero, axis)
                }
                _ => return Err(unsupported(n, format!("input {i} is not a constant"))),
            };
            match c.len() {
                1 => Ok(vec![c.data[0]; cols]),
                len if len == cols && c.dims.iter().rev().skip(1).all(|&d| d == 1) => Ok(c.data),
                _ => Err(unsupported(
                    n,
                    format!("input {i} of shape {:?} (one value per column of {cols})", c.dims),
                )),
            }
        };
        let gamma = per_column(self, 1, 1.0)?;
        let beta = per_column(self, 2, 0.0)?;
        self.parameters += 2 * cols;
        let rows = dims.iter().product::<usize>() / cols.max(1);
        let matrix = vec![rows, cols];
        let x2 = if dims == matrix { x } else { self.b.push(Wiring::reshape(x, &dims, matrix)?) };
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q_out = self.target_params(&out)?;
        let id = self
            .b
            .layer_norm((x2, q.scale), eps, (&gamma, &beta), (q_out.scale, q_out.zero))
            .map_err(|e| unsupported(n, format!("a LayerNormalization of shape {dims:?}: {e}")))?;
        let rows_dims = self.b.dims(id);
        let id = if rows_dims == dims {
            id
        } else {
            self.b.push(Wiring::reshape(id, &rows_dims, dims)?)
        };
        self.set_checked(n, id, q_out)
    }
}
