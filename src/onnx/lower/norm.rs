//! LayerNormalization (opset 17) over the last axis, and the same written out by older exports
//! (`patterns::decomposed_layer_norm`), proved by `circuit::layernorm`: the input
//! is viewed as its [rows, n] matrix, normalized with the node's epsilon, scaled and shifted by
//! its constant γ and β per column, requantized at the output's parameters and viewed back at
//! the graph's shape.

use super::*;

impl Lower<'_> {
    pub(super) fn layer_norm(&mut self, n: &Node) -> Result<(), ImportError> {
        let dims = self.shape(n.input(0).ok_or_else(|| node_error(n, "missing input"))?)?;
        let rank = dims.len() as i64;
        let axis = n.int("axis")?.unwrap_or(-1);
        if rank == 0 || !(-rank..rank).contains(&axis) || (axis + rank) % rank != rank - 1 {
            return Err(unsupported(
                n,
                format!(
                    "a LayerNormalization from axis {axis} of shape {dims:?} (the last axis only)"
                ),
            ));
        }
        let eps = n.float("epsilon")?.unwrap_or(1e-5);
        let x = n.input(0).unwrap_or_default().to_string();
        let params = [1, 2].map(|i| n.input(i).map(str::to_string));
        self.layer_norm_of(n, &x, eps, params, false)
    }

    /// The layer norm (or with `rms` the RMS norm) of tensor `x` over its last axis with
    /// constant γ and β (input names, or none: 1 and 0), the output named by `n`'s output. An
    /// RMS norm's input is requantized to zero point 0 first (symmetric about its calibrated
    /// range) unless it is there already.
    pub(super) fn layer_norm_of(
        &mut self,
        n: &Node,
        x: &str,
        eps: f64,
        [gamma, beta]: [Option<String>; 2],
        rms: bool,
    ) -> Result<(), ImportError> {
        let v = self.get(x, Some(n))?;
        let (x, q) = match v {
            Value::Int { id, q, .. } if !rms || q.zero == 0 => (id, q),
            Value::Int { .. } | Value::Pending(_) if rms => {
                let &(lo, hi) = self.ranges.get(x).ok_or_else(|| {
                    ImportError::Graph(format!("no calibration range for tensor {x:?}"))
                })?;
                let m = lo.abs().max(hi.abs());
                let q = QParams { scale: if m > 1e-30 { m / 127.0 } else { 1.0 }, zero: 0 };
                let p = self.pending(n, v)?;
                (self.requant(p, q)?, q)
            }
            Value::Pending(_) => self.materialize(x, v)?,
            _ => return Err(unsupported(n, "a layer norm of a constant")),
        };
        let dims = self.b.dims(x);
        if !(eps >= 0.0 && eps.is_finite()) {
            return Err(node_error(n, format!("epsilon {eps}")));
        }
        let cols = dims.last().copied().unwrap_or(1);
        let per_column = |l: &Self,
                          name: &Option<String>,
                          default: f64|
         -> Result<Vec<f64>, ImportError> {
            let Some(name) = name.as_deref().filter(|s| !s.is_empty()) else {
                return Ok(vec![default; cols]);
            };
            let c = match l.get(name, Some(n))? {
                Value::Const(c) => c,
                Value::QConst { q, scale, zero, axis } => {
                    pending::dequantize(&q, &scale, &zero, axis)
                }
                _ => return Err(unsupported(n, format!("{name:?} is not a constant"))),
            };
            match c.len() {
                1 => Ok(vec![c.data[0]; cols]),
                len if len == cols && c.dims.iter().rev().skip(1).all(|&d| d == 1) => Ok(c.data),
                _ => Err(unsupported(
                    n,
                    format!("{name:?} of shape {:?} (one value per column of {cols})", c.dims),
                )),
            }
        };
        let gamma = per_column(self, &gamma, 1.0)?;
        let beta = per_column(self, &beta, 0.0)?;
        self.parameters += 2 * cols;
        let rows = dims.iter().product::<usize>() / cols.max(1);
        let matrix = vec![rows, cols];
        let x2 = if dims == matrix { x } else { self.b.push(Wiring::reshape(x, &dims, matrix)?) };
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q_out = self.target_params(&out)?;
        let params = ((x2, q.scale), eps, (&gamma[..], &beta[..]), (q_out.scale, q_out.zero));
        let id = match rms {
            true => self.b.rms_norm(params.0, params.1, params.2, params.3),
            false => self.b.layer_norm(params.0, params.1, params.2, params.3),
        }
        .map_err(|e| unsupported(n, format!("a layer norm of shape {dims:?}: {e}")))?;
        let rows_dims = self.b.dims(id);
        let id = if rows_dims == dims {
            id
        } else {
            self.b.push(Wiring::reshape(id, &rows_dims, dims)?)
        };
        self.set_checked(n, id, q_out)
    }
}
