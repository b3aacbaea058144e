//! Dense and convolution layers (float, QOperator and integer ops): weights quantized per output
//! feature or taken as int8, biases as real offsets, geometry from the attributes.

use super::operands::TWO_COMPUTED;
use super::pending::dequantize;
use super::*;

impl Lower<'_> {
    /// Weights of a dense/conv layer as int8 with a scale per output feature: a float constant
    /// quantized symmetrically per feature, or a dequantized int8 constant (zero point 0).
    /// `feature(i)`: the output feature of weight i.
    pub(super) fn weights(
        &mut self,
        n: &Node,
        v: Value,
        features: usize,
        feature: impl Fn(usize) -> usize,
        fold: Option<&[f64]>,
    ) -> Result<(Vec<i8>, Vec<f64>), ImportError> {
        match v {
            Value::Const(c) if c.dtype.is_float() => {
                self.parameters += c.len();
                let data: Vec<f64> = match fold {
                    Some(s) => c.data.iter().enumerate().map(|(i, w)| w * s[feature(i)]).collect(),
                    None => c.data,
                };
                let mut max = vec![0f64; features];
                for (i, w) in data.iter().enumerate() {
                    let f = feature(i);
                    max[f] = max[f].max(w.abs());
                }
                // near-dead features share a floor of max/2^9, so every multiplier stays within
                // the common shift's range
                let top = max.iter().copied().fold(0.0, f64::max);
                let scales: Vec<f64> = max
                    .iter()
                    .map(|&m| if top == 0.0 { 1.0 } else { m.max(top / 512.0) / 127.0 })
                    .collect();
                let q = data
                    .iter()
                    .enumerate()
                    .map(|(i, w)| {
                        (w / scales[feature(i)]).round_ties_even().clamp(-127.0, 127.0) as i8
                    })
                    .collect();
                Ok((q, scales))
            }
            Value::QConst { q, scale, zero, axis } => {
                if fold.is_some() {
                    return Err(unsupported(n, "a BatchNormalization after quantized weights"));
                }
                if zero.iter().any(|&z| z != 0.0) {
                    return Err(unsupported(
                        n,
                        "weights with a non-zero zero point (symmetric int8 weights only)",
                    ));
                }
                if q.dtype != Dtype::I8 {
                    return Err(unsupported(
                        n,
                        format!("weights of type {:?} (int8 only)", q.dtype),
                    ));
                }
                self.parameters += q.len();
                let per_feature = if scale.len() == 1 {
                    vec![scale[0]; features]
                } else if scale.len() == features {
                    // the scale axis must be the feature axis
                    let stride: usize = q.dims[axis + 1..].iter().product();
                    let ok = (0..q.len()).all(|i| (i / stride) % scale.len() == feature(i));
                    if !ok {
                        return Err(unsupported(
                            n,
                            "per-axis weight scales on an axis other than the output features",
                        ));
                    }
                    scale
                } else {
                    return Err(unsupported(
                        n,
                        "weight scales neither per tensor nor per output feature",
                    ));
                };
                Ok((q.data.iter().map(|&w| w as i8).collect(), per_feature))
            }
            Value::Const(c) => Err(unsupported(
                n,
                format!("weights of type {:?} without a DequantizeLinear", c.dtype),
            )),
            _ => Err(unsupported(n, "weights that are not constants")),
        }
    }

    /// Bias (plain or dequantized constant) as a real offset per feature.
    pub(super) fn bias(
        &mut self,
        n: &Node,
        i: usize,
        features: usize,
        fold: Option<(&[f64], &[f64])>,
    ) -> Result<Vec<f64>, ImportError> {
        let mut b = match n.input(i) {
            None => vec![0.0; features],
            Some(_) => {
                let v = self.input(n, i)?;
                let c = match v {
                    Value::Const(c) => c,
                    Value::QConst { q, scale, zero, axis } => dequantize(&q, &scale, &zero, axis),
                    _ => return Err(unsupported(n, "a bias that is not a constant")),
                };
                self.parameters += c.len();
                match c.len() {
                    1 => vec![c.data[0]; features],
                    l if l == features => c.data,
                    l => return Err(node_error(n, format!("{l} biases for {features} outputs"))),
                }
            }
        };
        if let Some((scale, shift)) = fold {
            for (f, v) in b.iter_mut().enumerate() {
                *v = *v * scale[f] + shift[f];
            }
        }
        Ok(b)
    }

    pub(super) fn finish_linear(
        &mut self,
        n: &Node,
        lin: Linear,
        mult: Vec<f64>,
        offset: Vec<f64>,
        folded_out: Option<String>,
        requant_to: Option<QParams>,
    ) -> Result<(), ImportError> {
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let mut dims = self.shape(folded_out.as_deref().unwrap_or(&out))?;
        if lin.conv.is_none() && dims.len() > 2 {
            // a rank-3+ product is pending on its [rows, features] matrix (`dense`)
            dims = vec![lin.in_dims.first().copied().unwrap_or(1), lin.features];
        }
        let p = Pending {
            src: Src::Linear(lin),
            dims,
            mult,
            offset,
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        let v = match requant_to {
            Some(q) => {
                let id = self.requant(p, q)?;
                Value::Int { id, dims: self.b.dims(id), q }
            }
            None => Value::Pending(p),
        };
        self.set(n, v.clone())?;
        if let Some(bn) = folded_out {
            self.values.insert(bn, v);
        }
        Ok(())
    }

    /// The weights of a QOperator op: raw integer constant `w` with its scale and zero point
    /// inputs (`s`, `z`; `None`: scale 1, for MatMulInteger/ConvInteger), as a dequantized value.
    pub(super) fn integer_weights(
        &self,
        n: &Node,
        w: usize,
        s: Option<usize>,
        z: Option<usize>,
        axis: usize,
    ) -> Result<Value, ImportError> {
        let q = self.constant(n, w)?;
        if q.dtype.is_float() {
            return Err(node_error(n, "float weights in an integer op"));
        }
        let scale = match s {
            Some(i) => self.constant(n, i)?.data,
            None => vec![1.0],
        };
        let zero = match z.and_then(|i| n.input(i).map(|_| i)) {
            Some(i) => self.constant(n, i)?.data,
            None => vec![0.0],
        };
        let zero = if zero.len() == scale.len() { zero } else { vec![zero[0]; scale.len()] };
        Ok(Value::QConst { q, scale, zero, axis })
    }

    /// MatMul, Gemm, QLinearMatMul, MatMulInteger: a dense layer on a [batch, features] input.
    pub(super) fn dense(&mut self, n: &Node) -> Result<(), ImportError> {
        if n.op == "Gemm" && n.int("transA")?.unwrap_or(0) != 0 {
            return Err(unsupported(n, "Gemm with transA = 1"));
        }
        if n.op == "MatMul" && matches!(self.input(n, 1)?, Value::Int { .. } | Value::Pending(_)) {
            return self.matprod(n);
        }
        let (mut x, mut in_dims, qx) = self.int(n, 0)?;
        let inner = match in_dims.as_slice() {
            [_, inner] => *inner,
            // [B…, K] against a matrix: the product of its [rows, K] matrix, which the pending
            // value keeps until it is requantized (then reshaped back, `materialize`)
            [lead @ .., inner] if n.op != "Gemm" && !lead.is_empty() => {
                let (rows, inner) = (lead.iter().product(), *inner);
                x = self.b.push(Wiring::reshape(x, &in_dims, vec![rows, inner])?);
                in_dims = vec![rows, inner];
                inner
            }
            _ => {
                return Err(unsupported(
                    n,
                    format!(
                        "a matrix product on a rank-{} input {in_dims:?} (rank 2 or more)",
                        in_dims.len()
                    ),
                ))
            }
        };
        // the input's scale and zero point as the op sees them, and its output requantization
        let (sx, requant_to, mut wv) = match n.op.as_str() {
            "QLinearMatMul" => {
                let qa = self.quantize_params_at(n, 1, 2)?;
                if qa.zero != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                let w = self.integer_weights(n, 3, Some(4), Some(5), 1)?;
                (qa.scale, Some(self.quantize_params_at(n, 6, 7)?), w)
            }
            "MatMulInteger" => {
                if n.input(2).is_some() && self.quantize_params_zero(n, 2)? != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                // the int32 product itself: real value = accumulator
                (1.0, None, self.integer_weights(n, 1, None, Some(3), 1)?)
            }
            _ => (qx.scale, None, self.input(n, 1)?),
        };
        let wdims = match &wv {
            Value::Const(c) => c.dims.clone(),
            Value::QConst { q, .. } => q.dims.clone(),
            _ => return Err(unsupported(n, TWO_COMPUTED)),
        };
        let trans_b = n.op == "Gemm" && n.int("transB")?.unwrap_or(0) != 0;
        let &[r, c] = wdims.as_slice() else {
            return Err(unsupported(n, format!("weights of shape {wdims:?} (a matrix only)")));
        };
        let (wi, features) = if trans_b { (c, r) } else { (r, c) };
        if wi != inner {
            return Err(node_error(n, format!("input {in_dims:?} against weights {wdims:?}")));
        }
        if trans_b {
            wv = transpose_value(wv, r, c);
        }
        if n.op == "Gemm" {
            let alpha = n.float("alpha")?.unwrap_or(1.0);
            if alpha != 1.0 {
                wv = scale_value(n, wv, alpha)?;
            }
        }
        let bn = self.folded_batchnorm(n)?;
        let fold = bn.as_ref().map(|(s, t, _)| (s.as_slice(), t.as_slice()));
        let (weights, ws) = self.weights(n, wv, features, |i| i % features, fold.map(|f| f.0))?;
        let offset = if n.op == "Gemm" {
            let beta = n.float("beta")?.unwrap_or(1.0);
            let b: Vec<f64> = self.bias(n, 2, features, None)?.iter().map(|b| b * beta).collect();
            match fold {
                Some((s, t)) => b.iter().enumerate().map(|(f, b)| b * s[f] + t[f]).collect(),
                None => b,
            }
        } else {
            vec![0.0; features]
        };
        let mult: Vec<f64> = ws.iter().map(|s| s * sx).collect();
        let lin = Linear { x, in_dims, zero: qx.zero, weights, features, conv: None };
        self.finish_linear(n, lin, mult, offset, bn.map(|b| b.2), requant_to)
    }

    /// A zero point input as int8 (uint8 shifted by −128).
    pub(super) fn quantize_params_zero(&self, n: &Node, z: usize) -> Result<i32, ImportError> {
        let zc = self.constant(n, z)?;
        let zero = zc.scalar().ok_or_else(|| unsupported(n, "a per-axis zero point"))?;
        Ok(if zc.dtype == Dtype::U8 { zero - 128.0 } else { zero } as i32)
    }

    /// The (scale, zero) given by inputs `s` and `z` of a QLinear op.
    pub(super) fn quantize_params_at(
        &self,
        n: &Node,
        s: usize,
        z: usize,
    ) -> Result<QParams, ImportError> {
        let scale = self.scalar(n, s)?;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(node_error(n, format!("scale {scale}")));
        }
        Ok(QParams { scale, zero: self.quantize_params_zero(n, z)? })
    }

    /// Conv, ConvTranspose, QLinearConv, ConvInteger on NCHW.
    pub(super) fn conv(&mut self, n: &Node) -> Result<(), ImportError> {
        let w_i = if n.op == "QLinearConv" { 3 } else { 1 };
        let name = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        let (x, in_dims, qx, extra) = match self.get(&name, Some(n))? {
            Value::Padded { id, dims, q, pads } => (id, dims, q, pads),
            _ => {
                let (id, dims, q) = self.int(n, 0)?;
                (id, dims, q, [0; 4])
            }
        };
        if in_dims.len() != 4 {
            return Err(unsupported(
                n,
                format!("a convolution on a rank-{} input (2-D, NCHW only)", in_dims.len()),
            ));
        }
        let wv = match n.op.as_str() {
            "QLinearConv" => self.integer_weights(n, 3, Some(4), Some(5), 0)?,
            "ConvInteger" => {
                if n.input(2).is_some() && self.quantize_params_zero(n, 2)? != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                self.integer_weights(n, 1, None, Some(3), 0)?
            }
            _ => self.input(n, w_i)?,
        };
        let wdims = match &wv {
            Value::Const(c) => c.dims.clone(),
            Value::QConst { q, .. } => q.dims.clone(),
            _ => return Err(unsupported(n, "weights that are not constants")),
        };
        let &[w0, w1, kh, kw] = wdims.as_slice() else {
            return Err(unsupported(n, format!("weights of shape {wdims:?} (2-D kernels only)")));
        };
        let groups = n.int("group")?.unwrap_or(1).max(1) as usize;
        // auto_pad reads the size of the input after a Pad node's zeros
        let padded =
            [2, 3].map(|a| in_dims[a].saturating_add(extra[a - 2]).saturating_add(extra[a]));
        let (mut geo, _) = window(n, [kh, kw], groups)?.on(n, padded)?;
        for (p, e) in geo.pads.iter_mut().zip(extra) {
            *p += e;
        }
        let transposed = n.op == "ConvTranspose";
        let features = if transposed { w1 * groups } else { w0 };
        let fg = w1;
        let per = kh * kw;
        let feature = move |i: usize| {
            if transposed {
                // [C, F/g, kh, kw]: group of input channel c, feature within the group
                let c = i / (fg * per);
                let cg = (in_dims_c(c, groups, w0)) * fg;
                cg + (i / per) % fg
            } else {
                i / (w1 * per)
            }
        };
        let bn = self.folded_batchnorm(n)?;
        let (scale, shift, folded) = match &bn {
            Some((s, t, o)) => (Some(s.as_slice()), Some(t.as_slice()), Some(o.clone())),
            None => (None, None, None),
        };
        let (weights, ws) = self.weights(n, wv, features, feature, scale)?;
        let mut sx = qx.scale;
        let mut requant_to = None;
        let bias_input = match n.op.as_str() {
            "QLinearConv" => {
                let qa = self.quantize_params_at(n, 1, 2)?;
                if qa.zero != qx.zero {
                    return Err(node_error(n, "the input zero point differs from the input's"));
                }
                sx = qa.scale;
                requant_to = Some(self.quantize_params_at(n, 6, 7)?);
                8
            }
            "ConvInteger" => {
                sx = 1.0;
                usize::MAX
            }
            _ => 2,
        };
        let mult: Vec<f64> = ws.iter().map(|s| s * sx).collect();
        let offset = if bias_input == usize::MAX {
            vec![0.0; features]
        } else if n.op == "QLinearConv" {
            // int32 bias at scale s_x·s_w
            match n.input(8) {
                None => vec![0.0; features],
                Some(_) => {
                    let b = self.constant(n, 8)?;
                    self.parameters += b.len();
                    if b.len() != features {
                        return Err(node_error(
                            n,
                            format!("{} biases for {features} outputs", b.len()),
                        ));
                    }
                    b.data.iter().zip(&mult).map(|(b, m)| b * m).collect()
                }
            }
        } else {
            self.bias(n, bias_input, features, scale.zip(shift))?
        };
        let output_padding = if transposed {
            if n.ints("output_shape")?.is_some() {
                return Err(unsupported(n, "output_shape (give pads and output_padding)"));
            }
            Some(match n.ints("output_padding")? {
                None => [0, 0],
                Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 0) => {
                    [v[0] as usize, v[1] as usize]
                }
                Some(v) => return Err(unsupported(n, format!("output_padding {v:?}"))),
            })
        } else {
            None
        };
        let lin = Linear {
            x,
            in_dims,
            zero: qx.zero,
            weights,
            features,
            conv: Some((geo, output_padding)),
        };
        self.finish_linear(n, lin, mult, offset, folded, requant_to)
    }
}

/// How a node gives its padding: explicit `pads`, or ONNX's `auto_pad`, computed from the input
/// size.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AutoPad {
    Explicit,
    Valid,
    SameUpper,
    SameLower,
}

/// The window of a convolution or pooling node from its attributes (2-D): kernel, strides,
/// dilations and explicit pads, with `auto_pad` and `ceil_mode` still to apply to an input
/// size ([`Window::on`]). The registry's check reads the same rules.
#[derive(Clone, Copy, Debug)]
pub(super) struct Window {
    /// The geometry with the explicit pads (zeros under `auto_pad`).
    pub(super) geo: ConvGeometry,
    pub(super) auto: AutoPad,
    /// Pooling's `ceil_mode = 1`.
    pub(super) ceil: bool,
}

/// The window of node `n` for a kernel of `kernel` taps; every attribute is checked here, so
/// [`Window::on`] only fails on what the input size shows.
pub(super) fn window(n: &Node, kernel: [usize; 2], groups: usize) -> Result<Window, ImportError> {
    let pooling = matches!(n.op.as_str(), "MaxPool" | "AveragePool");
    let auto = match n.string("auto_pad")?.as_deref() {
        None | Some("NOTSET") => AutoPad::Explicit,
        Some("VALID") => AutoPad::Valid,
        Some("SAME_UPPER") => AutoPad::SameUpper,
        Some("SAME_LOWER") => AutoPad::SameLower,
        Some(a) => {
            return Err(unsupported(
                n,
                format!("auto_pad {a:?} (NOTSET, VALID, SAME_UPPER or SAME_LOWER)"),
            ))
        }
    };
    if n.op == "ConvTranspose" && matches!(auto, AutoPad::SameUpper | AutoPad::SameLower) {
        return Err(unsupported(n, "auto_pad SAME on ConvTranspose (explicit pads or VALID only)"));
    }
    let ceil = match n.int("ceil_mode")?.unwrap_or(0) {
        0 => false,
        1 if pooling => true,
        1 => return Err(unsupported(n, "ceil_mode = 1 (a pooling attribute)")),
        v => return Err(unsupported(n, format!("ceil_mode = {v} (0 or 1)"))),
    };
    let two = |name: &str, default: usize| -> Result<[usize; 2], ImportError> {
        match n.ints(name)? {
            None => Ok([default; 2]),
            Some(v) if v.len() == 2 && v.iter().all(|&x| x >= 1) => {
                Ok([v[0] as usize, v[1] as usize])
            }
            Some(v) => Err(unsupported(n, format!("{name} {v:?} (two positive values: 2-D only)"))),
        }
    };
    let pads = match n.ints("pads")? {
        None => [0; 4],
        Some(v) if v.len() == 4 && v.iter().all(|&x| x >= 0) => {
            [v[0] as usize, v[1] as usize, v[2] as usize, v[3] as usize]
        }
        Some(v) => return Err(unsupported(n, format!("pads {v:?} (four non-negative values)"))),
    };
    // tract reads explicit pads over auto_pad, onnxruntime the other way round: only pads that
    // say the same as auto_pad (zeros with VALID) are taken
    if auto != AutoPad::Explicit
        && n.ints("pads")?.is_some()
        && !(auto == AutoPad::Valid && pads == [0; 4])
    {
        return Err(unsupported(
            n,
            format!("auto_pad together with explicit pads {pads:?} (one or the other)"),
        ));
    }
    if let Some(k) = n.ints("kernel_shape")? {
        if k.len() != 2 || [k[0] as usize, k[1] as usize] != kernel {
            return Err(node_error(
                n,
                format!("kernel_shape {k:?} against the weights' {kernel:?}"),
            ));
        }
    }
    let geo = ConvGeometry {
        kernel,
        stride: two("strides", 1)?,
        dilation: two("dilations", 1)?,
        pads,
        groups,
    };
    Ok(Window { geo, auto, ceil })
}

impl Window {
    /// The geometry on an input of spatial size `hw` (H, W): the pads of `auto_pad`, and in ceil
    /// mode extra end padding (bottom, right) so that the floor-mode gadgets compute the
    /// ceil-mode output. Also returns that extra padding per axis (H, W), which an average
    /// pool does not count in its divisor.
    ///
    /// Per axis, with span s_k = (k − 1)·d + 1: SAME gives out = ⌈len/s⌉ and pads
    /// (out − 1)·s + s_k − len split evenly, the odd one at the end (SAME_UPPER) or the
    /// beginning (SAME_LOWER); VALID gives no pads (ceil_mode changes neither, as in the ONNX
    /// spec and tract). Ceil mode with explicit pads: out = ⌈(len + lo + hi − s_k)/s⌉ + 1, less
    /// one when the last window would start past the input and its begin padding.
    pub(super) fn on(
        &self,
        n: &Node,
        hw: [usize; 2],
    ) -> Result<(ConvGeometry, [usize; 2]), ImportError> {
        let mut geo = self.geo;
        let mut overhang = [0; 2];
        for a in 0..2 {
            let (len, k, s, d) = (hw[a], geo.kernel[a], geo.stride[a], geo.dilation[a]);
            let too_big = || {
                let at = format!("{k} taps, stride {s}, dilation {d}, {len} positions");
                node_error(n, format!("a window out of range ({at})"))
            };
            let span = k
                .checked_sub(1)
                .and_then(|k1| k1.checked_mul(d))
                .and_then(|x| x.checked_add(1))
                .ok_or_else(too_big)?;
            let (lo, hi) = match self.auto {
                AutoPad::Explicit => (geo.pads[a], geo.pads[a + 2]),
                AutoPad::Valid => (0, 0),
                AutoPad::SameUpper | AutoPad::SameLower => {
                    let out = len.div_ceil(s);
                    let total = out
                        .saturating_sub(1)
                        .checked_mul(s)
                        .and_then(|x| x.checked_add(span))
                        .ok_or_else(too_big)?
                        .saturating_sub(len);
                    let (small, big) = (total / 2, total - total / 2);
                    if self.auto == AutoPad::SameUpper {
                        (small, big)
                    } else {
                        (big, small)
                    }
                }
            };
            let mut hi = hi;
            if self.ceil && self.auto == AutoPad::Explicit {
                let padded =
                    len.checked_add(lo).and_then(|x| x.checked_add(hi)).ok_or_else(too_big)?;
                let Some(room) = padded.checked_sub(span) else {
                    return Err(node_error(
                        n,
                        format!("a window of {span} positions on a padded length of {padded}"),
                    ));
                };
                let mut out = room.div_ceil(s) + 1;
                // the last window starts inside the input or its begin padding
                let start = |o: usize| (o - 1).checked_mul(s).ok_or_else(too_big);
                if out > 1 && start(out)? >= len.checked_add(lo).ok_or_else(too_big)? {
                    out -= 1;
                }
                let need = start(out)?.checked_add(span).ok_or_else(too_big)?;
                let extra = need.saturating_sub(padded);
                if (padded.max(need) - span) / s + 1 != out {
                    return Err(node_error(
                        n,
                        format!(
                            "ceil_mode = 1 with end padding {hi} that holds a whole window of {span}"
                        ),
                    ));
                }
                hi += extra;
                overhang[a] = extra;
            }
            geo.pads[a] = lo;
            geo.pads[a + 2] = hi;
        }
        Ok((geo, overhang))
    }
}

/// Input-channel group of channel c for ConvTranspose weights [C, F/g, …].
pub(super) fn in_dims_c(c: usize, groups: usize, channels: usize) -> usize {
    c / (channels / groups).max(1)
}

/// A [r, c] constant transposed to [c, r].
pub(super) fn transpose_value(v: Value, r: usize, c: usize) -> Value {
    let t = |k: &Const| Const {
        dims: vec![c, r],
        dtype: k.dtype,
        data: (0..r * c).map(|i| k.data[(i % r) * c + i / r]).collect(),
    };
    match v {
        Value::Const(k) => Value::Const(t(&k)),
        Value::QConst { q, scale, zero, axis } => {
            Value::QConst { q: t(&q), scale, zero, axis: 1 - axis.min(1) }
        }
        other => other,
    }
}

pub(super) fn scale_value(n: &Node, v: Value, s: f64) -> Result<Value, ImportError> {
    match v {
        Value::Const(mut k) => {
            k.data.iter_mut().for_each(|w| *w *= s);
            Ok(Value::Const(k))
        }
        Value::QConst { q, scale, zero, axis } if s > 0.0 => {
            Ok(Value::QConst { q, scale: scale.iter().map(|x| x * s).collect(), zero, axis })
        }
        _ => Err(unsupported(n, "Gemm alpha on these weights")),
    }
}
