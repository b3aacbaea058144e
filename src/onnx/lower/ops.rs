//! Activation tables, pooling, wiring (reshape, transpose), Pad, Concat, Add and the final
//! Softmax.

use super::linear::window;
use super::*;
use crate::circuit::zoo::PoolDivisor;

impl Lower<'_> {
    pub(super) fn activation(&mut self, n: &Node, f: Activation) -> Result<(), ImportError> {
        let x = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        self.activation_named(n, &x, f)
    }

    /// An activation table on tensor `x`, the output named by `n`'s output.
    pub(super) fn activation_named(
        &mut self,
        n: &Node,
        x: &str,
        f: Activation,
    ) -> Result<(), ImportError> {
        let v = self.get(x, Some(n))?;
        let (id, q) = match v {
            Value::Int { id, q, .. } => (id, q),
            Value::Pending(_) => self.materialize(x, v)?,
            _ => return Err(unsupported(n, "an activation of a constant")),
        };
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q_out = self.target_params(&out)?;
        let dims = self.b.dims(id);
        let layer = ActivationLayer::new(
            id,
            dims.clone(),
            f,
            (q.scale, q.zero),
            (q_out.scale, q_out.zero),
        )?;
        let id = self.b.push(layer);
        self.set(n, Value::Int { id, dims, q: q_out })
    }

    /// Gelu: the exact erf form, or its tanh approximation.
    pub(super) fn gelu(&mut self, n: &Node) -> Result<(), ImportError> {
        match n.string("approximate")?.as_deref() {
            None | Some("none") => self.activation(n, Activation::Gelu),
            Some("tanh") => self.activation(n, Activation::GeluTanh),
            Some(a) => Err(unsupported(n, format!("the Gelu approximation {a:?}"))),
        }
    }

    pub(super) fn leaky_relu(&mut self, n: &Node) -> Result<(), ImportError> {
        let alpha = n.float("alpha")?.unwrap_or(0.01);
        self.activation(n, Activation::LeakyRelu { alpha })
    }

    /// HardSigmoid on its own (x·HardSigmoid(x) is the HardSwish pattern): a table.
    pub(super) fn hard_sigmoid(&mut self, n: &Node) -> Result<(), ImportError> {
        let alpha = n.float("alpha")?.unwrap_or(0.2);
        let beta = n.float("beta")?.unwrap_or(0.5);
        self.activation(n, Activation::HardSigmoid { alpha, beta })
    }

    pub(super) fn elu(&mut self, n: &Node) -> Result<(), ImportError> {
        let alpha = n.float("alpha")?.unwrap_or(1.0);
        self.activation(n, Activation::Elu { alpha })
    }

    /// A final Softmax (only Identity and Dropout after it on the way to graph outputs, and
    /// ArgMax nodes along its axis): left outside the proof, which covers its input. The ArgMax
    /// nodes read its input (an argmax is invariant under softmax).
    pub(super) fn softmax(&mut self, n: &Node) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?;
        let g = self.g;
        let Some(reach) = softmax_reach(g, out) else {
            return self.softmax_inside(n);
        };
        let axis = n.int("axis")?;
        if axis.is_some_and(|a| a != -1 && a != 1) {
            return Err(unsupported(n, "a Softmax over an axis other than the last"));
        }
        let x = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        // the proof ends on the Softmax's input: int8 at its own parameters, which the
        // Identity/Dropout nodes and ArgMax nodes after it read in place of the probabilities
        let v = self.get(&x, Some(n))?;
        let (id, q) = self.materialize(&x, v)?;
        let dims = self.b.dims(id);
        let rank = dims.len() as i64;
        let softmax_axis = match axis {
            Some(1) => 1,
            None if g.opset < 13 => 1,
            _ => rank - 1,
        };
        for a in &reach.argmaxes {
            let along = a.int("axis")?.unwrap_or(0);
            if (along + rank) % rank.max(1) != softmax_axis {
                return Err(unsupported(
                    a,
                    "an ArgMax of a Softmax's output along another axis than the Softmax's",
                ));
            }
            self.notes.push(format!(
                "ArgMax node {:?} reads the input of Softmax node {:?}: an argmax is invariant \
                 under softmax",
                a.name, n.name
            ));
        }
        for o in &reach.outputs {
            self.softmax.insert(o.to_string(), x.clone());
        }
        self.values.insert(out.clone(), Value::Int { id, dims, q });
        if !reach.outputs.is_empty() {
            self.notes.push(format!(
                "the final Softmax (node {:?}) is left outside the proof: the proof covers its input, and the softmax is applied to the dequantized output",
                n.name
            ));
        }
        Ok(())
    }

    /// A Softmax inside the proof (`circuit::softmax`) along its axis: int8 probabilities of step
    /// 1/R from zero point z, at the parameters the graph asks for when 1/scale is an integer R
    /// ≤ 255 with z + R ≤ 127 (a calibrated [0, 1] range gives 1/255 from −128), else at
    /// (1/255, −128), which a consumer requantizes as it needs.
    fn softmax_inside(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let rank = dims.len() as i64;
        let axis = n.int("axis")?.unwrap_or(if self.g.opset < 13 { 1 } else { -1 });
        if !(-rank..rank).contains(&axis) || (self.g.opset < 13 && (axis + rank) % rank != rank - 1)
        {
            return Err(unsupported(n, format!("a Softmax along axis {axis} of shape {dims:?}")));
        }
        let axis = ((axis + rank) % rank) as usize;
        let input = n.input(0).unwrap_or_default();
        let keep = self.masks.get(input).cloned().unwrap_or_default();
        let gate = match self.gates.get(input).cloned() {
            Some(slots) => Some(self.gate(&dims, slots)?),
            None => None,
        };
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let want = self.target_params(&out)?;
        let steps = (1.0 / want.scale).round();
        let exact = ((1.0 / want.scale) - steps).abs() <= 1e-9 * steps;
        let (steps, zero) =
            if exact && (1.0..=255.0).contains(&steps) && want.zero as f64 + steps <= 127.0 {
                (steps as i64, want.zero)
            } else {
                (255, -128)
            };
        let params = (q.scale, steps, zero);
        let id = match gate {
            Some(g) => self.b.softmax_gated(x, axis, params, g),
            None => self.b.softmax_masked(x, axis, params, keep),
        }
        .map_err(|e| unsupported(n, format!("a Softmax of shape {dims:?}: {e}")))?;
        self.set_checked(n, id, QParams { scale: 1.0 / steps as f64, zero })
    }

    pub(super) fn pool(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        if dims.len() != 4 {
            return Err(unsupported(
                n,
                format!("pooling on a rank-{} input (2-D, NCHW only)", dims.len()),
            ));
        }
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let id = match n.op.as_str() {
            "GlobalAveragePool" => {
                let q_out = self.target_params(&out)?;
                let id = self.b.global_avg_pool(x, (q.scale, q.zero), (q_out.scale, q_out.zero))?;
                return self.set_checked(n, id, q_out);
            }
            _ => {
                let k = n.ints("kernel_shape")?.ok_or_else(|| node_error(n, "no kernel_shape"))?;
                let &[kh, kw] = k.as_slice() else {
                    return Err(unsupported(n, format!("kernel_shape {k:?} (2-D only)")));
                };
                if kh < 1 || kw < 1 {
                    return Err(node_error(n, format!("kernel_shape {k:?}")));
                }
                let (geo, overhang) =
                    window(n, [kh as usize, kw as usize], 1)?.on(n, [dims[2], dims[3]])?;
                if n.op == "MaxPool" {
                    if n.outputs.iter().skip(1).any(|o| !o.is_empty()) {
                        return Err(unsupported(n, "MaxPool's indices output"));
                    }
                    if n.int("storage_order")?.unwrap_or(0) != 0 {
                        return Err(unsupported(n, "storage_order = 1"));
                    }
                    self.b.max_pool(x, geo)?
                } else {
                    if geo.dilation != [1, 1] {
                        return Err(unsupported(n, "dilated average pooling"));
                    }
                    // count_include_pad counts the explicit (or auto_pad) pads, never the
                    // ceil-mode overhang past them (onnxruntime, PyTorch and tract alike)
                    let divisor = if n.int("count_include_pad")?.unwrap_or(0) != 0 {
                        let [t, l, b, r] = geo.pads;
                        PoolDivisor::Within([t, l, b - overhang[0], r - overhang[1]])
                    } else {
                        PoolDivisor::Inside
                    };
                    let q_out = self.target_params(&out)?;
                    let id = self.b.avg_pool_by(
                        x,
                        (q.scale, q.zero),
                        (q_out.scale, q_out.zero),
                        geo,
                        divisor,
                    )?;
                    return self.set_checked(n, id, q_out);
                }
            }
        };
        self.set_checked(n, id, q)
    }

    pub(super) fn wiring(&mut self, n: &Node) -> Result<(), ImportError> {
        if let Value::Index { id } = self.input(n, 0)? {
            // indices (ArgMax's output) reshaped on their way to the graph output
            if n.op == "Transpose" {
                return Err(unsupported(n, super::operands::INDEX_OPERAND));
            }
            let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
            let (dims, want) = (self.b.dims(id), self.shape(&out)?);
            let id = if want == dims { id } else { self.b.push(Wiring::reshape(id, &dims, want)?) };
            return self.set(n, Value::Index { id });
        }
        let (x, dims, q) = self.int(n, 0)?;
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let want = self.shape(&out)?;
        let id = if n.op == "Transpose" {
            let perm: Vec<usize> = match n.ints("perm")? {
                Some(p) => p.iter().map(|&v| v as usize).collect(),
                None => (0..dims.len()).rev().collect(),
            };
            if perm.iter().enumerate().all(|(i, &p)| i == p) {
                x
            } else {
                self.b.push(Wiring::transpose(x, &dims, perm)?)
            }
        } else if want == dims {
            x
        } else {
            self.b.push(Wiring::reshape(x, &dims, want.clone())?)
        };
        if id == x {
            // a no-op keeps the tensor (and its name)
            return self.set(n, Value::Int { id, dims, q });
        }
        self.set_checked(n, id, q)
    }

    pub(super) fn pad(&mut self, n: &Node) -> Result<(), ImportError> {
        let (x, dims, q) = self.int(n, 0)?;
        let mode = n.string("mode")?.unwrap_or_else(|| "constant".into());
        if mode != "constant" {
            return Err(unsupported(n, format!("mode {mode:?} (constant zero padding only)")));
        }
        let pads: Vec<i64> = if self.g.opset < 11 {
            n.ints("pads")?.ok_or_else(|| node_error(n, "no pads"))?
        } else {
            self.constant(n, 1)?.data.iter().map(|&v| v as i64).collect()
        };
        let value = if self.g.opset < 11 {
            n.float("value")?.unwrap_or(0.0)
        } else if n.input(2).is_some() {
            self.scalar(n, 2)?
        } else {
            0.0
        };
        if value != 0.0 {
            return Err(unsupported(n, format!("padding value {value} (zero only)")));
        }
        // [x1_begin, x2_begin, …, x1_end, x2_end, …] on NCHW: only H and W
        let ok = dims.len() == 4
            && pads.len() == 8
            && [0, 1, 4, 5].iter().all(|&i| pads[i] == 0)
            && pads.iter().all(|&p| p >= 0);
        if !ok {
            return Err(unsupported(
                n,
                format!("pads {pads:?} (non-negative, spatial axes of NCHW only)"),
            ));
        }
        let pads = [pads[2] as usize, pads[3] as usize, pads[6] as usize, pads[7] as usize];
        let out = n.outputs[0].clone();
        let consumers = self.g.consumers(&out);
        if consumers.is_empty()
            || consumers
                .iter()
                .any(|c| !matches!(c.op.as_str(), "Conv" | "QLinearConv" | "ConvInteger"))
        {
            return Err(unsupported(n, "a Pad that is not followed by a convolution"));
        }
        self.set(n, Value::Padded { id: x, dims, q, pads })
    }

    /// Concat: every input requantized to the output's parameters (when not already at them),
    /// a constant input quantized at them (`circuit::constant`), then one concat layer.
    pub(super) fn concat(&mut self, n: &Node) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q = self.target_params(&out)?;
        let mut ids = Vec::new();
        let mut dims = Vec::new();
        for i in 0..n.inputs.len() {
            let v = self.input(n, i)?;
            let id = match v {
                Value::Int { id, q: qi, .. } if qi == q => id,
                Value::Int { .. } | Value::Pending(_) => {
                    let p = self.pending(n, v)?;
                    self.requant(p, q)?
                }
                Value::Const(c) => {
                    let values = c.data.iter().map(|&x| q.quantize(x).clamp(-128, 127) as i8);
                    self.parameters += c.len();
                    self.b.push(crate::circuit::constant::Constant::new(&c.dims, values.collect())?)
                }
                Value::QConst { q: qc, scale, zero, axis } => {
                    let c = pending::dequantize(&qc, &scale, &zero, axis);
                    let values = c.data.iter().map(|&x| q.quantize(x).clamp(-128, 127) as i8);
                    self.parameters += c.len();
                    self.b.push(crate::circuit::constant::Constant::new(&c.dims, values.collect())?)
                }
                _ => return Err(unsupported(n, format!("input {i} is not a computed tensor"))),
            };
            dims.push(self.b.dims(id));
            ids.push(id);
        }
        let rank = dims.first().map_or(0, Vec::len) as i64;
        let axis = n.int("axis")?.ok_or_else(|| node_error(n, "no axis"))?;
        let axis = if axis < 0 { axis + rank } else { axis };
        if !(0..rank).contains(&axis) {
            return Err(node_error(n, format!("axis {axis} on rank {rank}")));
        }
        if ids.len() == 1 {
            return self.set_checked(n, ids[0], q);
        }
        let layer = Concat::new(ids, dims, axis as usize)?;
        let id = self.b.push(layer);
        self.set_checked(n, id, q)
    }

    /// Add/Sub: a constant changes the offset; two tensors make a sum.
    pub(super) fn add(&mut self, n: &Node) -> Result<(), ImportError> {
        if n.op == "Add" {
            if let Some(mask) = n.inputs.iter().find(|i| self.derived.contains_key(*i)).cloned() {
                return self.add_gated_mask(n, &mask);
            }
        }
        let (a, b) = (self.input(n, 0)?, self.input(n, 1)?);
        let is_const = |v: &Value| matches!(v, Value::Const(_) | Value::QConst { .. });
        let sign = if n.op == "Sub" { -1.0 } else { 1.0 };
        if is_const(&b) || (is_const(&a) && n.op == "Add") {
            let (t, c) = if is_const(&b) { (a, b) } else { (b, a) };
            let mut p = self.pending(n, t)?;
            if n.op == "Add" && self.is_attention_mask(n, &c, &p.dims) {
                return self.add_mask(n, p, &c);
            }
            let c = match self.per_channel(n, &c, &p.dims) {
                Ok(c) => c.ok_or_else(|| node_error(n, "no constant"))?,
                // one constant per position (a position embedding, an attention bias)
                Err(_) => return self.add_elements(n, p, &c, sign),
            };
            if c.len() > 1 {
                // a bias vector
                self.parameters += c.len();
            }
            let shift: Vec<f64> = c.iter().map(|v| v * sign).collect();
            self.affine(n, &mut p, &[1.0], &shift)?;
            return self.set(n, Value::Pending(p));
        }
        if is_const(&a) {
            return Err(unsupported(n, "a constant minus a tensor (negative scale)"));
        }
        if n.op == "Sub" {
            return Err(unsupported(n, "the difference of two computed tensors"));
        }
        let (xa, da, qa) = self.int(n, 0)?;
        let (xb, db, qb) = self.int(n, 1)?;
        if da != db {
            return Err(unsupported(
                n,
                format!("broadcasting {da:?} + {db:?} (equal shapes only)"),
            ));
        }
        let p = Pending {
            src: Src::Sum(vec![Term::int8(xa, qa), Term::int8(xb, qb)]),
            dims: da,
            mult: vec![1.0],
            offset: vec![0.0],
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        self.set(n, Value::Pending(p))
    }
}
