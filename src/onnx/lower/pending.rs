//! Pending affine forms and their requantization: int8 tensors for consumers that need them,
//! per-channel constants, Quantize/DequantizeLinear, and the ops that only change a form
//! (Identity, Cast, BatchNormalization, Mul/Div by constants, Relu, Clip).

use super::operands::INDEX_OPERAND;
use super::*;
use crate::circuit::{ConvSpec, DenseSpec, RequantKind, RequantSpec};

impl Lower<'_> {
    /// An int8 tensor for a consumer: a pending value is requantized at `target_params(name)`.
    pub(super) fn int(
        &mut self,
        n: &Node,
        i: usize,
    ) -> Result<(TensorId, Vec<usize>, QParams), ImportError> {
        let name =
            n.input(i).ok_or_else(|| node_error(n, format!("missing input {i}")))?.to_string();
        let v = self.get(&name, Some(n))?;
        match v {
            Value::Padded { .. } => {
                Err(unsupported(n, "a Pad that is not followed by a convolution"))
            }
            Value::Const(_) | Value::QConst { .. } => Err(unsupported(
                n,
                format!("input {i} is a constant; gkrnet proves ops on the model input's data"),
            )),
            Value::Index { .. } => Err(unsupported(n, INDEX_OPERAND)),
            v => {
                let (id, q) = self.materialize(&name, v)?;
                Ok((id, self.b.dims(id), q))
            }
        }
    }

    /// Requantizes a value to int8 (a pending one at `target_params(name)`).
    pub(super) fn materialize(
        &mut self,
        name: &str,
        v: Value,
    ) -> Result<(TensorId, QParams), ImportError> {
        match v {
            Value::Int { id, q, .. } => Ok((id, q)),
            // indices are their own values: scale 1, zero point 0
            Value::Index { id, .. } => Ok((id, QParams { scale: 1.0, zero: 0 })),
            Value::Pending(p) => {
                let q = self.target_params(name)?;
                let mut id = self.requant(p, q)?;
                // a dense product over the leading axes of a rank-3+ tensor is built on its
                // [rows, features] matrix: back to the graph's shape once it is int8
                let dims = self.b.dims(id);
                if let Some(want) = self.shapes.get(name).filter(|w| **w != dims).cloned() {
                    id = self.b.push(Wiring::reshape(id, &dims, want)?);
                }
                self.values.insert(name.to_string(), Value::Int { id, dims: self.b.dims(id), q });
                Ok((id, q))
            }
            _ => Err(ImportError::Graph(format!(
                "tensor {name:?} is not a tensor the model computes"
            ))),
        }
    }

    /// One requantization layer: y = clamp(round(real / s) + z, lo, hi) with real the pending
    /// form, multipliers as a/2^k with one shift.
    pub(super) fn requant(&mut self, p: Pending, out: QParams) -> Result<TensorId, ImportError> {
        let c = p.mult.len();
        let len: usize = p.dims.iter().product();
        // one multiplier per element (a constant factor that is neither scalar nor per channel)
        let per_element = c > 1 && c == len && c != channels(&p.dims);
        let ch = |j: usize| match (c, per_element) {
            (1, _) => 0,
            (_, true) => j,
            _ => channel_of(&p.dims, j),
        };
        let clamp = |v: f64, default: i32| -> i32 {
            if v.is_finite() {
                ((v / out.scale).round_ties_even() + out.zero as f64).clamp(-128.0, 127.0) as i32
            } else {
                default
            }
        };
        let (lo, hi) = (clamp(p.lo, -128).max(-128), clamp(p.hi, 127).min(127));
        if lo > hi {
            return Err(ImportError::Graph(format!("an empty clamp [{}, {}]", p.lo, p.hi)));
        }
        match p.src {
            Src::Linear(_) if per_element => Err(ImportError::Graph(
                "per-element multipliers on a dense or convolution accumulator".into(),
            )),
            Src::Linear(lin) => {
                let mut ratios: Vec<f64> = p.mult.iter().map(|m| m / out.scale).collect();
                // per-tensor weight scales arrive repeated per feature: one multiplier then, so
                // the requantization keeps a per-tensor threshold table (3 lookups an element)
                if ratios.windows(2).all(|w| w[0] == w[1]) {
                    ratios.truncate(1);
                }
                check_ratios(&ratios)?;
                let (a, k) = common_shift(&ratios)?;
                // the constant becomes the integer bias: offset/mult in accumulator units
                let bias: Vec<i32> = (0..lin.features)
                    .map(|f| {
                        let j = if c == 1 { 0 } else { f };
                        let b = (p.offset[j.min(p.offset.len() - 1)] / p.mult[j]).round_ties_even();
                        if b.abs() < (1u64 << 30) as f64 {
                            Ok(b as i32)
                        } else {
                            Err(ImportError::Graph(format!("a bias of {b} accumulator units")))
                        }
                    })
                    .collect::<Result<_, _>>()?;
                let (acc, bound) = match lin.conv {
                    None => {
                        let d = Dense::new(DenseSpec {
                            input: lin.x,
                            in_dims: lin.in_dims,
                            input_zero: lin.zero,
                            weights: lin.weights,
                            features: lin.features,
                            bias,
                        })?;
                        let bound = d.acc_bound();
                        (self.b.push(d), bound)
                    }
                    Some((geometry, output_padding)) => {
                        let spec = ConvSpec {
                            input: lin.x,
                            in_dims: lin.in_dims,
                            input_zero: lin.zero,
                            features: lin.features,
                            geometry,
                            output_padding,
                            weights: lin.weights,
                            bias,
                        };
                        let conv = match output_padding {
                            None => Conv::new(spec)?,
                            Some(_) => Conv::transposed(spec)?,
                        };
                        let bound = conv.acc_bound();
                        (self.b.push(conv), bound)
                    }
                };
                let dims = self.b.dims(acc);
                if dims != p.dims {
                    return Err(ImportError::Graph(format!(
                        "a layer computes dimensions {dims:?}, tract {:?}",
                        p.dims
                    )));
                }
                let multiplier =
                    if a.len() == 1 { Multiplier::Tensor(a[0]) } else { Multiplier::Channel(a) };
                let scaled = Scaled { tensor: acc, multiplier, bound };
                Ok(self.b.requant_layer(RequantSpec {
                    kind: RequantKind::Requant,
                    scaled: vec![scaled],
                    offset: 0,
                    offsets: Vec::new(),
                    k,
                    zero: out.zero,
                    lo,
                    hi,
                    dims,
                })?)
            }
            Src::Sum(terms) => {
                // multiplier of term i on channel j: mult[j]·sᵢ/s_out
                let ratios: Vec<Vec<f64>> = terms
                    .iter()
                    .map(|t| p.mult.iter().map(|m| m * t.scale / out.scale).collect())
                    .collect();
                let flat: Vec<f64> = ratios.iter().flatten().copied().collect();
                check_ratios(&flat)?;
                let make = |a: Vec<u32>, k: u32| -> Result<RequantSpec, ImportError> {
                    let a: Vec<Vec<u32>> = a.chunks(c).map(<[u32]>::to_vec).collect();
                    let two_k = 2f64.powi(k as i32);
                    let mut offsets = vec![0i64; len];
                    for (j, o) in offsets.iter_mut().enumerate() {
                        let cj = ch(j);
                        // offsets per channel, or per element after a per-position add
                        let oj = if p.offset.len() == len { j } else { cj.min(p.offset.len() - 1) };
                        let real = (p.offset[oj] / out.scale * two_k).round_ties_even();
                        if real.abs() >= 2f64.powi(61) {
                            return Err(ImportError::Graph(format!("an offset of {real}·2^-{k}")));
                        }
                        let zs: i128 = terms
                            .iter()
                            .zip(&a)
                            .map(|(t, ai)| ai[cj] as i128 * t.zero as i128)
                            .sum();
                        *o = i64::try_from(real as i128 - zs)
                            .ok()
                            .filter(|o| o.abs() < 1 << 61)
                            .ok_or_else(|| {
                                ImportError::Graph(format!("an offset of {real}·2^-{k} − {zs}"))
                            })?;
                    }
                    let scaled: Vec<Scaled> = terms
                        .iter()
                        .zip(a)
                        .map(|(t, ai)| Scaled {
                            tensor: t.id,
                            multiplier: if ai.len() == 1 {
                                Multiplier::Tensor(ai[0])
                            } else if per_element {
                                Multiplier::Element(ai)
                            } else {
                                Multiplier::Channel(ai)
                            },
                            bound: t.bound,
                        })
                        .collect();
                    // a lone tensor with no constant keeps the cheap input mode
                    let offsets =
                        if offsets.iter().all(|&o| o == 0) { Vec::new() } else { offsets };
                    let kind =
                        if terms.len() > 1 { RequantKind::Add } else { RequantKind::Requant };
                    let (offset, zero, dims) = (0, out.zero, p.dims.clone());
                    Ok(RequantSpec { kind, scaled, offset, offsets, k, zero, lo, hi, dims })
                };
                let (a, k) = common_shift(&flat)?;
                let spec = make(a, k)?;
                let spec = if self.b.arithmetic { spec } else { narrow_sum(spec, &flat, make)? };
                Ok(self.b.requant_layer(spec)?)
            }
        }
    }

    /// A pending form of a tensor value (int8 tensors become a one-term sum).
    pub(super) fn pending(&self, n: &Node, v: Value) -> Result<Pending, ImportError> {
        match v {
            Value::Pending(p) => Ok(p),
            Value::Int { id, dims, q } => Ok(Pending {
                src: Src::Sum(vec![Term::int8(id, q)]),
                dims,
                mult: vec![1.0],
                offset: vec![0.0],
                lo: f64::NEG_INFINITY,
                hi: f64::INFINITY,
            }),
            Value::Padded { .. } => {
                Err(unsupported(n, "a Pad that is not followed by a convolution"))
            }
            Value::Const(_) | Value::QConst { .. } => {
                Err(unsupported(n, "an op on constants only"))
            }
            Value::Index { .. } => Err(unsupported(n, INDEX_OPERAND)),
        }
    }

    /// A constant (plain or dequantized) broadcast per channel of `dims`: length 1 or C.
    pub(super) fn per_channel(
        &self,
        n: &Node,
        v: &Value,
        dims: &[usize],
    ) -> Result<Option<Vec<f64>>, ImportError> {
        let c = match v {
            Value::Const(c) => c.clone(),
            Value::QConst { q, scale, zero, axis } => dequantize(q, scale, zero, *axis),
            _ => return Ok(None),
        };
        if c.len() == 1 {
            return Ok(Some(c.data));
        }
        let channels = channels(dims);
        let rank = dims.len();
        // the constant's shape aligned right against the tensor's (numpy broadcasting)
        let lead = rank.checked_sub(c.dims.len());
        let axis = if rank <= 2 { rank.saturating_sub(1) } else { 1 };
        let ok = lead.is_some_and(|lead| {
            c.dims.iter().enumerate().all(|(i, &d)| d == 1 || (i + lead == axis && d == channels))
        });
        if !ok || c.len() != channels {
            return Err(unsupported(
                n,
                format!("a constant of shape {:?} on a tensor {dims:?} (scalars and per-channel constants only)", c.dims),
            ));
        }
        Ok(Some(c.data))
    }

    /// A plain constant broadcast (numpy) to every element of `dims`, when it broadcasts.
    pub(super) fn per_element(&self, v: &Value, dims: &[usize]) -> Option<Vec<f64>> {
        let Value::Const(c) = v else { return None };
        let len: usize = dims.iter().product();
        (0..len)
            .map(|e| super::computed::broadcast_source(&c.dims, dims, e).map(|i| c.data[i]))
            .collect()
    }

    /// Mul/Div of a tensor by a constant of one value per element (a per-position divisor of
    /// an average): the tensor is requantized at once with per-element multipliers.
    fn scale_elements(&mut self, n: &Node, t: Value, c: Vec<f64>) -> Result<(), ImportError> {
        let c: Vec<f64> = if n.op == "Div" { c.iter().map(|v| 1.0 / v).collect() } else { c };
        if c.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
            return Err(unsupported(
                n,
                "a scale that is zero, negative or not finite on a computed tensor",
            ));
        }
        // the tensor is the input that is not the constant
        let i = usize::from(matches!(self.input(n, 0)?, Value::Const(_) | Value::QConst { .. }));
        let x = n.input(i).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        let (id, q) = self.materialize(&x, t)?;
        let dims = self.b.dims(id);
        let p = Pending {
            src: Src::Sum(vec![Term::int8(id, q)]),
            offset: vec![0.0; c.len()],
            mult: c,
            dims: dims.clone(),
            lo: f64::NEG_INFINITY,
            hi: f64::INFINITY,
        };
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q_out = self.target_params(&out)?;
        let id = self.requant(p, q_out)?;
        self.set(n, Value::Int { id, dims, q: q_out })
    }

    /// Add/Sub of a constant of one value per position (numpy broadcasting to the tensor):
    /// the pending form takes per-element offsets (a dense or convolution accumulator is
    /// requantized first, its bias being per feature only).
    pub(super) fn add_elements(
        &mut self,
        n: &Node,
        p: Pending,
        c: &Value,
        sign: f64,
    ) -> Result<(), ImportError> {
        let (mut p, _, values, base) = self.per_element_form(n, p, c, "a per-position constant")?;
        p.offset = base.iter().zip(&values).map(|(b, v)| b + sign * v).collect();
        self.parameters += values.len();
        self.set(n, Value::Pending(p))
    }

    /// What a per-position constant `c` added by `n` to the pending form `p` needs: the form
    /// (a dense or convolution accumulator requantized first: its bias is per feature only),
    /// the computed input's name, the constant broadcast to every element, and the form's
    /// offset of every element.
    fn per_element_form(
        &mut self,
        n: &Node,
        mut p: Pending,
        c: &Value,
        what: &str,
    ) -> Result<(Pending, String, Vec<f64>, Vec<f64>), ImportError> {
        let x = n
            .inputs
            .iter()
            .find(|i| !matches!(self.get(i, Some(n)), Ok(Value::Const(_) | Value::QConst { .. })))
            .ok_or_else(|| node_error(n, "no computed input"))?
            .clone();
        if matches!(p.src, Src::Linear(_)) {
            let (id, q) = self.materialize(&x, Value::Pending(p))?;
            p = self.pending(n, Value::Int { id, dims: self.b.dims(id), q })?;
        }
        let Some(values) = self.per_element(c, &p.dims) else {
            return Err(unsupported(
                n,
                format!("a constant that does not broadcast to the tensor {:?}", p.dims),
            ));
        };
        if p.lo.is_finite() || p.hi.is_finite() {
            return Err(unsupported(n, format!("{what} after a clamp (Relu/Clip)")));
        }
        let len = values.len();
        let base = (0..len)
            .map(|e| match p.offset.len() {
                l if l == len => p.offset[e],
                1 => p.offset[0],
                _ => p.offset[channel_of(&p.dims, e)],
            })
            .collect();
        Ok((p, x, values, base))
    }

    /// Whether the constant `c` added by `n` is an attention mask: some entries at or below
    /// [`MASKED`] (PyTorch's and Hugging Face's −∞, the float minimum, BERT's −10 000), and a
    /// Softmax reads the sum.
    pub(super) fn is_attention_mask(&self, n: &Node, c: &Value, dims: &[usize]) -> bool {
        let feeds_softmax = n
            .outputs
            .first()
            .is_some_and(|o| self.g.consumers(o).iter().any(|m| m.op == "Softmax"));
        feeds_softmax && self.per_element(c, dims).is_some_and(|v| v.iter().any(|&x| x <= MASKED))
    }

    /// Add of a constant attention mask before a Softmax: kept positions add their value (one
    /// per position), masked ones an offset that drives them to the int8 minimum whatever the
    /// scores (−3·max|p| − 1 against the calibrated range), and the Softmax gives them exactly 0
    /// (`circuit::softmax`'s mask). The sum's calibration range is the scores' range shifted by
    /// the kept values (the float run's masked values are not a range).
    pub(super) fn add_mask(&mut self, n: &Node, p: Pending, c: &Value) -> Result<(), ImportError> {
        let (mut p, x, values, base) = self.per_element_form(n, p, c, "an attention mask")?;
        let Src::Sum(terms) = &p.src else {
            return Err(node_error(n, "a mask on a dense accumulator"));
        };
        let mult = p.mult.iter().fold(0f64, |m, v| m.max(v.abs()));
        let reach: f64 = terms.iter().map(|t| mult * t.scale * t.bound as f64).sum::<f64>()
            + p.offset.iter().fold(0f64, |m, v| m.max(v.abs()));
        // a mask added to scores that carry one already (a masked_fill, then a padding mask):
        // both hold
        let before = self.masks.get(&x).filter(|k| k.len() == values.len()).cloned();
        let keep: Vec<i8> = (0..values.len())
            .map(|e| i8::from(values[e] > MASKED && before.as_ref().is_none_or(|k| k[e] == 1)))
            .collect();
        let kept: Vec<f64> = values.iter().copied().filter(|&v| v > MASKED).collect();
        let offset = (0..values.len())
            .map(|e| if keep[e] == 1 { base[e] + values[e] } else { -3.0 * reach - 1.0 })
            .collect();
        p.offset = offset;
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let &(lo, hi) = self
            .ranges
            .get(&x)
            .ok_or_else(|| ImportError::Graph(format!("no calibration range for tensor {x:?}")))?;
        let (kmin, kmax) = kept.iter().fold((0f64, 0f64), |(a, b), &v| (a.min(v), b.max(v)));
        self.ranges.insert(out.clone(), (lo + kmin, hi + kmax));
        self.masks.insert(out, keep);
        self.parameters += values.len();
        self.set(n, Value::Pending(p))
    }

    /// p ← scale·p + shift per channel (scale > 0: a requantization multiplier is positive).
    pub(super) fn affine(
        &self,
        n: &Node,
        p: &mut Pending,
        scale: &[f64],
        shift: &[f64],
    ) -> Result<(), ImportError> {
        if scale.iter().any(|&s| !(s > 0.0 && s.is_finite())) {
            return Err(unsupported(
                n,
                "a scale that is zero, negative or not finite on a computed tensor",
            ));
        }
        let c = scale.len().max(p.mult.len()).max(shift.len());
        let at = |v: &[f64], j: usize| if v.len() == 1 { v[0] } else { v[j] };
        if c > 1 && c != channels(&p.dims) {
            return Err(node_error(n, "per-channel constants of the wrong length"));
        }
        let (mult, mut offset): (Vec<f64>, Vec<f64>) = (0..c)
            .map(|j| {
                (at(&p.mult, j) * at(scale, j), at(&p.offset, j) * at(scale, j) + at(shift, j))
            })
            .unzip();
        let len: usize = p.dims.iter().product();
        if p.offset.len() == len && len > c {
            // per-element offsets (`add_elements`) stay per element
            let ch = |e: usize| if c == 1 { 0 } else { channel_of(&p.dims, e) };
            offset = (0..len).map(|e| p.offset[e] * at(scale, ch(e)) + at(shift, ch(e))).collect();
        }
        // a clamp applies before the affine map: only a common positive scale and shift
        // can carry it over
        if p.lo.is_finite() || p.hi.is_finite() {
            let uniform =
                scale.iter().all(|&s| s == scale[0]) && shift.iter().all(|&s| s == shift[0]);
            if !uniform {
                return Err(unsupported(n, "a per-channel affine map after a clamp (Relu/Clip)"));
            }
            p.lo = p.lo * scale[0] + shift[0];
            p.hi = p.hi * scale[0] + shift[0];
        }
        p.mult = mult;
        p.offset = offset;
        Ok(())
    }

    /// Identity, Dropout: the input's value, unchanged.
    pub(super) fn identity(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        self.set(n, v)
    }

    /// Cast: the circuit's integers keep their values (an int8 or pending tensor only).
    pub(super) fn cast(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        match v {
            Value::Pending(_) | Value::Int { .. } | Value::Index { .. } => self.set(n, v),
            _ => Err(unsupported(n, "a Cast of a constant")),
        }
    }

    /// BatchNormalization (not folded into the layer before it): a per-channel affine map.
    pub(super) fn batch_norm(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        let mut p = self.pending(n, v)?;
        let eps = n.float("epsilon")?.unwrap_or(1e-5);
        let [g, b, m, var] = [1, 2, 3, 4].map(|k| self.constant(n, k));
        let (g, b, m, var) = (g?, b?, m?, var?);
        let c = channels(&p.dims);
        if [&g, &b, &m, &var].iter().any(|t| t.len() != c) {
            return Err(node_error(n, "parameters not one per channel"));
        }
        let scale: Vec<f64> = (0..c).map(|j| g.data[j] / (var.data[j] + eps).sqrt()).collect();
        let shift: Vec<f64> = (0..c).map(|j| b.data[j] - m.data[j] * scale[j]).collect();
        self.affine(n, &mut p, &scale, &shift)?;
        self.set(n, Value::Pending(p))
    }

    /// Mul, Div by a constant (scalar or per channel): a scale of the pending form.
    pub(super) fn mul_div(&mut self, n: &Node) -> Result<(), ImportError> {
        let (a, b) = (self.input(n, 0)?, self.input(n, 1)?);
        let (t, c) = match (&a, &b) {
            (Value::Const(_) | Value::QConst { .. }, _) if n.op == "Mul" => (b.clone(), a.clone()),
            (_, Value::Const(_) | Value::QConst { .. }) => (a.clone(), b.clone()),
            (Value::Const(_) | Value::QConst { .. }, _) => {
                return Err(unsupported(n, "a division by a computed tensor"))
            }
            _ if n.op == "Mul" => return self.product(n),
            _ => return Err(unsupported(n, "a division by a computed tensor")),
        };
        let mut p = self.pending(n, t.clone())?;
        let c = match self.per_channel(n, &c, &p.dims) {
            Ok(c) => c.ok_or_else(|| unsupported(n, "a non-constant factor"))?,
            Err(e) => match self.per_element(&c, &p.dims) {
                Some(full) => return self.scale_elements(n, t, full),
                None => return Err(e),
            },
        };
        let c: Vec<f64> = if n.op == "Div" { c.iter().map(|v| 1.0 / v).collect() } else { c };
        let zero = vec![0.0; c.len()];
        self.affine(n, &mut p, &c, &zero)?;
        self.set(n, Value::Pending(p))
    }

    /// Relu: the clamp's lower end rises to 0.
    pub(super) fn relu(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        let mut p = self.pending(n, v)?;
        p.lo = p.lo.max(0.0);
        p.hi = p.hi.max(p.lo);
        self.set(n, Value::Pending(p))
    }

    /// Clip: the clamp narrows to [min, max] (attributes before opset 11, inputs after).
    pub(super) fn clip(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        let mut p = self.pending(n, v)?;
        let (lo, hi) = if self.g.opset < 11 {
            (n.float("min")?.unwrap_or(f64::NEG_INFINITY), n.float("max")?.unwrap_or(f64::INFINITY))
        } else {
            let lo = if n.input(1).is_some() { self.scalar(n, 1)? } else { f64::NEG_INFINITY };
            let hi = if n.input(2).is_some() { self.scalar(n, 2)? } else { f64::INFINITY };
            (lo, hi)
        };
        p.lo = p.lo.max(lo);
        p.hi = p.hi.min(hi);
        if p.lo > p.hi {
            return Err(node_error(n, format!("min {lo} above max {hi}")));
        }
        self.set(n, Value::Pending(p))
    }

    pub(super) fn quantize(&mut self, n: &Node) -> Result<(), ImportError> {
        let q = self.quantize_params(n)?;
        let name = n.input(0).ok_or_else(|| node_error(n, "missing input"))?.to_string();
        let v = self.get(&name, Some(n))?;
        let v = match v {
            Value::Int { id, dims, q: qi } if qi == q => Value::Int { id, dims, q },
            Value::Int { .. } | Value::Pending(_) => {
                let p = self.pending(n, v)?;
                let id = self.requant(p, q)?;
                Value::Int { id, dims: self.b.dims(id), q }
            }
            _ => return Err(unsupported(n, "a QuantizeLinear of a constant")),
        };
        self.set(n, v)
    }

    pub(super) fn dequantize(&mut self, n: &Node) -> Result<(), ImportError> {
        let v = self.input(n, 0)?;
        let scale = self.constant(n, 1)?;
        let zero = match n.input(2) {
            Some(_) => self.constant(n, 2)?,
            None => Const { dims: vec![], dtype: Dtype::I8, data: vec![0.0] },
        };
        match v {
            Value::Const(c) if !c.dtype.is_float() => {
                let axis = n.int("axis")?.unwrap_or(1);
                let axis = if axis < 0 { axis + c.dims.len() as i64 } else { axis } as usize;
                if scale.len() != 1 && c.dims.get(axis) != Some(&scale.len()) {
                    return Err(node_error(n, "per-axis scale of the wrong length"));
                }
                let zero = if zero.len() == scale.len() {
                    zero.data
                } else {
                    vec![zero.data[0]; scale.len()]
                };
                self.set(n, Value::QConst { q: c, scale: scale.data, zero, axis })
            }
            Value::Int { id, dims, .. } => {
                let s = scale
                    .scalar()
                    .ok_or_else(|| unsupported(n, "a per-axis scale on activations"))?;
                let z = zero.scalar().unwrap_or(0.0);
                let z = if zero.dtype == Dtype::U8 { z - 128.0 } else { z };
                // the int8 values are unchanged; DequantizeLinear only names their scale
                self.set(n, Value::Int { id, dims, q: QParams { scale: s, zero: z as i32 } })
            }
            _ => Err(unsupported(
                n,
                "a DequantizeLinear of something other than an int8 tensor or integer constant",
            )),
        }
    }
}

pub(super) fn check_ratios(r: &[f64]) -> Result<(), ImportError> {
    match r.iter().find(|&&v| !(v > 0.0 && v.is_finite())) {
        Some(v) => Err(ImportError::Graph(format!(
            "a requantization multiplier {v} (positive scales only)"
        ))),
        None => Ok(()),
    }
}

pub(super) fn dequantize(q: &Const, scale: &[f64], zero: &[f64], axis: usize) -> Const {
    let stride: usize = q.dims.get(axis + 1..).map_or(1, |d| d.iter().product());
    let data = q
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let j = if scale.len() == 1 { 0 } else { (i / stride.max(1)) % scale.len() };
            scale[j] * (v - zero[j])
        })
        .collect();
    Const { dims: q.dims.clone(), dtype: Dtype::F64, data }
}

/// Relative precision a sum's multipliers keep when [`narrow_sum`] lowers their shift.
const SUM_MIN_PRECISION: f64 = 1.0 / (1u64 << 18) as f64;

/// A sum-mode requantization (an elementwise add, or a tensor with per-element constants)
/// compares P = Σ aᵢ·xᵢ + c against thresholds in P-space, steps 2^k wide: at the full 31-bit
/// precision of its multipliers (k ≈ 30) the comparisons take three 16-bit limbs each, 7 lookups
/// an element. With a smaller k (the largest whose multipliers all stay within relative error
/// 2^-18 of `ratios`, so P/2^k stays within 2^-18·Σ mᵢ·|xᵢ − zᵢ| of its real value: about 2^-9
/// of an output step for two int8 inputs of the output's scale) the steps are cut into pieces
/// of 2^16 values and the comparisons are single limbs: 3 lookups an element, for more table
/// rows. Returns `spec` unchanged when it is already single-limb, when no such k exists, or when
/// the pieces cost more lookup leaves than the limbs they save (a small layer); a function of
/// the parameters alone.
fn narrow_sum(
    spec: RequantSpec,
    ratios: &[f64],
    make: impl Fn(Vec<u32>, u32) -> Result<RequantSpec, ImportError>,
) -> Result<RequantSpec, ImportError> {
    use crate::circuit::{zoo::lookup_leaves, Constraints, Threshold};
    // (range checks per element, lookup leaves in all)
    let cost = |s: &RequantSpec| {
        let elements = s.dims.iter().product::<usize>();
        Threshold::new(s.clone())
            .ok()
            .map(|t| (t.range_checks().len(), lookup_leaves(&t, elements)))
    };
    let Some((checks, before)) = cost(&spec) else { return Ok(spec) };
    if checks <= 2 {
        return Ok(spec);
    }
    for k in (0..spec.k).rev() {
        let two_k = 2f64.powi(k as i32);
        let a: Option<Vec<u32>> = ratios
            .iter()
            .map(|&m| {
                let a = (m * two_k).round_ties_even();
                let ok = a >= 1.0 && (a / two_k - m).abs() <= m * SUM_MIN_PRECISION;
                ok.then_some(a as u32)
            })
            .collect();
        let Some(a) = a else { break };
        let candidate = make(a, k)?;
        match cost(&candidate) {
            // the most precise single-limb k, if its pieces cost less than the limbs saved
            Some((checks, after)) if checks <= 2 => {
                return Ok(if after < before { candidate } else { spec });
            }
            _ => {}
        }
    }
    Ok(spec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::{Constraints, Threshold};
    use crate::quant::div_pow2_round_half_even;

    fn add_spec(a: &[u32], k: u32, dims: &[usize]) -> RequantSpec {
        let s = |t, a| Scaled { tensor: t, multiplier: Multiplier::Tensor(a), bound: 128 };
        RequantSpec {
            kind: RequantKind::Add,
            scaled: vec![s(1, a[0]), s(2, a[1])],
            offset: 0,
            offsets: Vec::new(),
            k,
            zero: 3,
            lo: -128,
            hi: 127,
            dims: dims.to_vec(),
        }
    }

    #[test]
    fn a_large_add_narrows_to_single_limb_comparisons_within_its_precision() {
        // no exact half-step ties (0.9 and 0.6 would have thousands, rounded either way by any
        // approximation of the multipliers)
        let ratios = [0.913_7, 0.607_3];
        let (a, k) = common_shift(&ratios).unwrap();
        for (dims, narrows) in [(vec![1, 64, 32, 32], true), (vec![1, 8], false)] {
            let make = |a: Vec<u32>, k| Ok(add_spec(&a, k, &dims));
            let full = make(a.clone(), k).unwrap();
            assert_eq!(Threshold::new(full.clone()).unwrap().range_checks().len(), 6);
            let got = narrow_sum(full.clone(), &ratios, make).unwrap();
            if !narrows {
                // 8 elements: the pieces would cost more than the limbs they save
                assert_eq!(got, full);
                continue;
            }
            assert!(got.k < full.k, "k = {}", got.k);
            assert_eq!(Threshold::new(got.clone()).unwrap().range_checks().len(), 2);
            let two_k = 2f64.powi(got.k as i32);
            let an: Vec<i128> = got
                .scaled
                .iter()
                .zip(ratios)
                .map(|(s, m)| {
                    let Multiplier::Tensor(a) = s.multiplier else { panic!("per tensor") };
                    assert!((a as f64 / two_k - m).abs() <= m * SUM_MIN_PRECISION);
                    a as i128
                })
                .collect();
            // against real arithmetic on every pair of int8 inputs: a different rounding only
            // within the precision bound of a half-step boundary
            let mut differ = 0;
            for x1 in -128i128..=127 {
                for x2 in -128i128..=127 {
                    let y = div_pow2_round_half_even(an[0] * x1 + an[1] * x2, got.k);
                    let exact = ratios[0] * x1 as f64 + ratios[1] * x2 as f64;
                    if y != exact.round_ties_even() as i128 {
                        differ += 1;
                        let bound = SUM_MIN_PRECISION
                            * (ratios[0] * x1.abs() as f64 + ratios[1] * x2.abs() as f64);
                        let to_boundary = (exact - exact.floor() - 0.5).abs();
                        assert!(to_boundary <= bound + 1e-12, "{x1}, {x2}: {exact} → {y}");
                    }
                }
            }
            assert!(differ < 256, "{differ} of 65 536 pairs round differently");
        }
    }
}
