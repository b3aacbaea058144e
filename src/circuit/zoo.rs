//! Built-in seeded models: `mlp4m` (the benchmark MLP), `mlp-act` (every activation table and
//! elementwise adds), and random models for tests.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use super::{
    ActivationLayer, Constraints, Conv, ConvGeometry, ConvSpec, Dense, DenseSpec, Layer, MaxPool,
    Model, ModelError, Multiplier, Requant, RequantKind, RequantSpec, Scaled, Tensor, TensorId,
    Threshold, Wiring,
};
use crate::quant::{Activation, FixedPoint};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// Fixed-point numerators with one shared shift for multipliers `ms`: the shift of the largest,
/// so its relative error is below 2^-30 and another's below 2^-31·max/m. Fails when some
/// multiplier's relative error would reach 2^-20 (multipliers more than ~2^10 apart); a zero
/// multiplier is exact (a = 0).
pub fn common_shift(ms: &[f64]) -> Result<(Vec<u32>, u32), ModelError> {
    let max = ms.iter().copied().fold(0.0f64, f64::max);
    let k = FixedPoint::from_real(max).map_err(|e| ModelError::Parameter(e.to_string()))?.k;
    let a = ms
        .iter()
        .map(|&m| {
            if m == 0.0 {
                // exact (a layer norm's γ = 0 column)
                return Ok(0);
            }
            let a = (m * 2f64.powi(k as i32)).round_ties_even();
            let rel = (a / 2f64.powi(k as i32) - m).abs() / m;
            if a < 1.0 || a >= (1u64 << 31) as f64 || rel >= 2f64.powi(-20) {
                Err(ModelError::Parameter(format!(
                    "multiplier {m} has no a/2^{k} within relative error 2^-20 (got {rel:e})"
                )))
            } else {
                Ok(a as u32)
            }
        })
        .collect::<Result<_, _>>()?;
    Ok((a, k))
}

/// The lookup leaves a layer of `elements` elements costs in all: its table's rows, plus its
/// range checks and its tuple (if it looks one up) per element. The measure by which the
/// builder ([`Builder::requant_layer`]) and the importer choose between requantization gadgets.
pub fn lookup_leaves(layer: &dyn Constraints, elements: usize) -> usize {
    let table = layer.table_lookup();
    let per_element = layer.range_checks().len() + usize::from(table.is_some());
    let rows = table.map_or(0, |t| t.rows.len());
    rows.saturating_add(elements.saturating_mul(per_element))
}

/// The requantization that follows a dense or conv layer in [`Builder::dense`] and
/// [`Builder::conv`].
#[derive(Clone, Copy, Debug)]
pub struct Rescale<'a> {
    /// The float rescale s_x·s_w/s_y: one per tensor, or one per output channel.
    pub m: &'a [f64],
    /// The output zero point.
    pub zero: i32,
    /// ReLU fused: the clamp's lower bound is the zero point.
    pub relu: bool,
}

/// The divisor of each window of an average pooling ([`Builder::avg_pool_by`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolDivisor {
    /// The taps inside the input (ONNX `count_include_pad = 0`).
    Inside,
    /// The taps inside the input widened by these pads [top, left, bottom, right], at most the
    /// pooling's own: ONNX `count_include_pad = 1`, where the explicit pads count and a
    /// ceil-mode overhang past them (more end padding in the geometry) does not.
    Within([usize; 4]),
}

/// Builds a model layer by layer, tracking tensor ids and dimensions.
#[derive(Debug)]
pub struct Builder {
    input_dims: Vec<usize>,
    layers: Vec<Box<dyn Layer>>,
    /// Requantize with the arithmetic gadget ([`Requant`]) instead of thresholds
    /// ([`Threshold`], the default, used whenever its table stays small).
    pub arithmetic: bool,
    /// Rows of the lookup tables of the layers pushed so far (the model's shared table).
    table_rows: usize,
}

/// Largest per-layer threshold table the builder accepts before falling back to [`Requant`].
pub const MAX_THRESHOLD_ROWS: usize = 1 << 12;

/// Rows of the shared table the builder leaves to later activation tables (64 int8 tables):
/// a threshold requantization that would fill them takes the arithmetic gadget instead, so a
/// model with many requantizations (an unrolled recurrent layer) stays within
/// [`super::MAX_TABLE_ROWS`].
pub const TABLE_RESERVE: usize = 1 << 14;

impl Builder {
    pub fn new(input_dims: Vec<usize>) -> Self {
        Self { input_dims, layers: Vec::new(), arithmetic: false, table_rows: 0 }
    }

    /// The id of the last tensor.
    pub fn last(&self) -> TensorId {
        self.layers.len()
    }

    pub fn dims(&self, t: TensorId) -> Vec<usize> {
        if t == 0 {
            self.input_dims.clone()
        } else {
            self.layers[t - 1].output_dims().to_vec()
        }
    }

    pub fn push(&mut self, layer: impl Layer + 'static) -> TensorId {
        let layer: Box<dyn Layer> = Box::new(layer);
        self.table_rows += layer.table_lookup().map_or(0, |t| t.rows.len());
        self.layers.push(layer);
        self.layers.len()
    }

    /// dense + requantization (`out`).
    pub fn dense(&mut self, spec: DenseSpec, out: Rescale<'_>) -> Result<TensorId, ModelError> {
        let dense = Dense::new(spec)?;
        let (dims, bound) = (dense.output_dims().to_vec(), dense.acc_bound());
        let acc = self.push(dense);
        self.requant(acc, dims, bound, out)
    }

    /// conv + requantization (`out`, per tensor or per channel).
    pub fn conv(&mut self, spec: ConvSpec, out: Rescale<'_>) -> Result<TensorId, ModelError> {
        let conv = Conv::new(spec)?;
        let (dims, bound) = (conv.output_dims().to_vec(), conv.acc_bound());
        let acc = self.push(conv);
        self.requant(acc, dims, bound, out)
    }

    /// Requantization of an accumulator whose every value (for every int8 input) lies within
    /// ±`bound`: the layer's exact worst case, so the advice widths fit that layer.
    fn requant(
        &mut self,
        acc: TensorId,
        dims: Vec<usize>,
        bound: i128,
        out: Rescale<'_>,
    ) -> Result<TensorId, ModelError> {
        let (a, k) = common_shift(out.m)?;
        let multiplier =
            if a.len() == 1 { Multiplier::Tensor(a[0]) } else { Multiplier::Channel(a) };
        let scaled = Scaled { tensor: acc, multiplier, bound };
        let lo = if out.relu { out.zero } else { -128 };
        self.requant_layer(RequantSpec {
            kind: RequantKind::Requant,
            scaled: vec![scaled],
            offset: 0,
            offsets: Vec::new(),
            k,
            zero: out.zero,
            lo,
            hi: 127,
            dims,
        })
    }

    /// A threshold requantization, or the arithmetic gadget: when asked for, when the shared
    /// table would leave less than [`TABLE_RESERVE`] rows, or when the threshold table exceeds
    /// [`MAX_THRESHOLD_ROWS`] and costs more lookup leaves in all than the arithmetic gadget
    /// (its rows plus its lookups per element, against the gadget's range checks per element):
    /// a per-channel table of some 260 rows a channel pays for itself on any layer with a few
    /// hundred elements a channel.
    pub fn requant_layer(&mut self, spec: RequantSpec) -> Result<TensorId, ModelError> {
        if !self.arithmetic {
            match Threshold::new(spec.clone()) {
                Ok(t) => {
                    let rows = t.table_lookup().map_or(0, |tl| tl.rows.len());
                    let fits = self.table_rows + rows <= super::MAX_TABLE_ROWS - TABLE_RESERVE;
                    if fits && (rows <= MAX_THRESHOLD_ROWS || self.cheaper(&t, &spec)?) {
                        return Ok(self.push(t));
                    }
                }
                Err(ModelError::TableRows { .. }) => {}
                // thresholds beyond i64 (a wide accumulator, a layer norm's w): the arithmetic
                // gadget when it takes the layer, else the threshold's reason
                Err(e) => return Requant::new(spec).map(|r| self.push(r)).map_err(|_| e),
            }
        }
        Ok(self.push(Requant::new(spec)?))
    }

    /// Whether the threshold layer `t` costs no more lookup leaves than the arithmetic gadget.
    fn cheaper(&self, t: &Threshold, spec: &RequantSpec) -> Result<bool, ModelError> {
        let elements: usize = spec.dims.iter().product();
        let arithmetic = Requant::new(spec.clone())?;
        Ok(lookup_leaves(t, elements) <= lookup_leaves(&arithmetic, elements))
    }

    /// Max pooling: a one-hot depthwise convolution per window tap (padding −128), then
    /// [`MaxPool`] over the views.
    pub fn max_pool(
        &mut self,
        x: TensorId,
        geometry: ConvGeometry,
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        let c = *dims.get(1).ok_or_else(|| ModelError::Shape("max pooling needs NCHW".into()))?;
        let [kh, kw] = geometry.kernel;
        let geo = ConvGeometry { groups: c, ..geometry };
        let mut views = Vec::new();
        let mut out = Vec::new();
        for tap in 0..kh * kw {
            let mut w = vec![0i8; c * kh * kw];
            for f in 0..c {
                w[f * kh * kw + tap] = 1;
            }
            let view = Conv::new(ConvSpec {
                input: x,
                in_dims: dims.clone(),
                input_zero: -128,
                features: c,
                geometry: geo,
                output_padding: None,
                weights: w,
                bias: vec![-128; c],
            })?;
            out = view.output_dims().to_vec();
            views.push(self.push(view));
        }
        Ok(self.push(MaxPool::new(views, out)?))
    }

    /// Average pooling of an int8 tensor (scale s_in, zero z_in) to (s_out, z_out): the window sum
    /// by an all-ones depthwise convolution, then a requantization dividing by the in-bounds count
    /// (or the window size with `count_include_pad`).
    pub fn avg_pool(
        &mut self,
        x: TensorId,
        input: (f64, i32),
        output: (f64, i32),
        geometry: ConvGeometry,
        count_include_pad: bool,
    ) -> Result<TensorId, ModelError> {
        let divisor = if count_include_pad {
            PoolDivisor::Within(geometry.pads)
        } else {
            PoolDivisor::Inside
        };
        self.avg_pool_by(x, input, output, geometry, divisor)
    }

    /// [`Builder::avg_pool`] with the divisor of each window given by `divisor`.
    pub fn avg_pool_by(
        &mut self,
        x: TensorId,
        (s_in, z_in): (f64, i32),
        (s_out, z_out): (f64, i32),
        geometry: ConvGeometry,
        divisor: PoolDivisor,
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        let c =
            *dims.get(1).ok_or_else(|| ModelError::Shape("average pooling needs NCHW".into()))?;
        if let PoolDivisor::Within(p) = divisor {
            if p.iter().zip(&geometry.pads).any(|(p, g)| p > g) {
                return Err(ModelError::Parameter(format!(
                    "divisor pads {p:?} beyond the pooling pads {:?}",
                    geometry.pads
                )));
            }
        }
        let [kh, kw] = geometry.kernel;
        let geo = ConvGeometry { groups: c, ..geometry };
        let sum = Conv::new(ConvSpec {
            input: x,
            in_dims: dims,
            input_zero: 0,
            features: c,
            geometry: geo,
            output_padding: None,
            weights: vec![1; c * kh * kw],
            bias: vec![0; c],
        })?;
        let axes = sum.axes();
        let out = sum.output_dims().to_vec();
        let s = self.push(sum);
        let [_, _, oh, ow] = out[..] else { unreachable!("conv outputs are NCHW") };
        // taps inside the input: padding is the real value 0 (the zero point), so only they
        // enter S − z_in·inside; the divisor is the window size with `count_include_pad`
        let inside = |i: usize, j: usize| -> usize {
            let rows = (0..kh).filter(|&a| axes[0].source(i, a).is_some()).count();
            let cols = (0..kw).filter(|&b| axes[1].source(j, b).is_some()).count();
            rows * cols
        };
        // taps inside the input widened by the counted pads `p` (the geometry's own pads or
        // fewer, so every window has at least the taps inside the input)
        let within = |p: [usize; 4], i: usize, j: usize| -> usize {
            let count = |a: usize, o: usize| {
                let ax = &axes[a];
                let (lo, hi) = (ax.pad_lo - p[a], ax.pad_lo + ax.len + p[a + 2]);
                (0..ax.k).filter(|&t| (lo..hi).contains(&(o * ax.stride + t * ax.dil))).count()
            };
            count(0, i) * count(1, j)
        };
        let counts: Vec<usize> = (0..oh * ow).map(|p| inside(p / ow, p % ow)).collect();
        let divisors: Vec<usize> = match divisor {
            PoolDivisor::Inside => counts.iter().map(|&n| n.max(1)).collect(),
            PoolDivisor::Within(p) => {
                (0..oh * ow).map(|q| within(p, q / ow, q % ow).max(1)).collect()
            }
        };
        let ms: Vec<f64> = divisors.iter().map(|&n| s_in / (s_out * n as f64)).collect();
        let (a, k) = common_shift(&ms)?;
        let len: usize = out.iter().product();
        let per_elem: Vec<u32> = (0..len).map(|j| a[j % (oh * ow)]).collect();
        let offsets: Vec<i64> = (0..len)
            .map(|j| -(a[j % (oh * ow)] as i64) * z_in as i64 * counts[j % (oh * ow)] as i64)
            .collect();
        let bound = 128 * (kh * kw) as i128;
        // every window alike (no padding taps, or count_include_pad with z_in = 0): one
        // multiplier and one offset, so the thresholds are over the window sum itself
        if let (Some(&a0), Some(&o0)) = (per_elem.first(), offsets.first()) {
            if per_elem.iter().all(|&m| m == a0) && offsets.iter().all(|&o| o == o0) {
                let scaled = Scaled { tensor: s, multiplier: Multiplier::Tensor(a0), bound };
                return self.requant_layer(RequantSpec {
                    kind: RequantKind::AvgPool,
                    scaled: vec![scaled],
                    offset: o0.into(),
                    offsets: vec![],
                    k,
                    zero: z_out,
                    lo: -128,
                    hi: 127,
                    dims: out,
                });
            }
        }
        let scaled = Scaled { tensor: s, multiplier: Multiplier::Element(per_elem), bound };
        self.requant_layer(RequantSpec {
            kind: RequantKind::AvgPool,
            scaled: vec![scaled],
            offset: 0,
            offsets,
            k,
            zero: z_out,
            lo: -128,
            hi: 127,
            dims: out,
        })
    }

    /// Global average pooling: the average over each whole H × W plane ([N, C, 1, 1]).
    pub fn global_avg_pool(
        &mut self,
        x: TensorId,
        input: (f64, i32),
        output: (f64, i32),
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        let &[_, _, h, w] = dims.as_slice() else {
            return Err(ModelError::Shape(format!(
                "global average pooling needs NCHW, got {dims:?}"
            )));
        };
        let geometry = ConvGeometry {
            kernel: [h, w],
            stride: [1, 1],
            dilation: [1, 1],
            pads: [0; 4],
            groups: 1,
        };
        self.avg_pool(x, input, output, geometry, false)
    }

    /// Flatten [N, …] to [N, rest] (a reshape wiring).
    pub fn flatten(&mut self, x: TensorId) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        let n = dims.first().copied().unwrap_or(1);
        let rest = dims.iter().skip(1).product();
        Ok(self.push(Wiring::reshape(x, &dims, vec![n, rest])?))
    }

    pub fn finish(self, name: &str) -> Result<Model, ModelError> {
        Model::new(name, self.input_dims, self.layers)
    }
}

fn random_i8(rng: &mut ChaCha20Rng, len: usize, max: i8) -> Vec<i8> {
    (0..len).map(|_| rng.gen_range(-max..=max)).collect()
}

/// A random int8 input for a model.
pub fn random_input(model: &Model, seed: u64) -> Tensor {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let len = model.input_dims.iter().product();
    Tensor {
        dims: model.input_dims.clone(),
        data: (0..len).map(|_| rng.gen_range(-128..=127)).collect(),
    }
}

/// A seeded MLP with ReLU between layers; `widths` = [input, hidden…, output].
pub fn mlp(name: &str, widths: &[usize], batch: usize, seed: u64) -> Result<Model, ModelError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let mut b = Builder::new(vec![batch, widths[0]]);
    let mut x = 0;
    let mut zero = 0;
    for (i, w) in widths.windows(2).enumerate() {
        let (n, k) = (w[0], w[1]);
        let weights = random_i8(&mut rng, n * k, 127);
        let bias: Vec<i32> = (0..k).map(|_| rng.gen_range(-5000..=5000)).collect();
        // acc ≈ √n·σ_w·σ_x with σ ≈ 73; map ±3σ onto the int8 range
        let m = 127.0 / (3.0 * (n as f64).sqrt() * 73.0 * 73.0);
        let last = i + 2 == widths.len();
        let zero_out = if last { 0 } else { -128 };
        let spec = DenseSpec {
            input: x,
            in_dims: b.dims(x),
            input_zero: zero,
            weights,
            features: k,
            bias,
        };
        x = b.dense(spec, Rescale { m: &[m], zero: zero_out, relu: !last })?;
        zero = zero_out;
    }
    b.finish(name)
}

/// mlp4m: dense 1024→2048→1024→10 with ReLU, about 4.2M parameters, batch 1.
pub fn mlp4m() -> Model {
    mlp("mlp4m", &[1024, 2048, 1024, 10], 1, 4).unwrap_or_else(|e| unreachable!("mlp4m: {e}"))
}

/// Float rescale for an accumulator of `taps` products of int8 uniforms: maps ±3σ to the int8 range.
fn rescale(taps: usize, w_sigma: f64) -> f64 {
    127.0 / (3.0 * (taps as f64).sqrt() * w_sigma * 73.0)
}

/// LeNet-5 on [1, 1, 28, 28]: conv 6@5×5 (pad 2) → ReLU → avgpool 2 → conv 16@5×5 → ReLU →
/// avgpool 2 → flatten 400 → dense 120 → ReLU → dense 84 → ReLU → dense 10. 61 706 parameters.
pub fn lenet5() -> Model {
    let build = || -> Result<Model, ModelError> {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        let mut b = Builder::new(vec![1, 1, 28, 28]);
        let mut x = 0;
        let mut z = 0;
        let mut s = 1.0 / 128.0;
        for (c_in, c_out, pad) in [(1usize, 6usize, 2usize), (6, 16, 0)] {
            let taps = c_in * 25;
            let w = random_i8(&mut rng, c_out * taps, 127);
            let bias = (0..c_out).map(|_| rng.gen_range(-3000..=3000)).collect();
            let spec = ConvSpec {
                input: x,
                in_dims: b.dims(x),
                input_zero: z,
                features: c_out,
                geometry: ConvGeometry::square(5, 1, pad),
                output_padding: None,
                weights: w,
                bias,
            };
            x = b.conv(spec, Rescale { m: &[rescale(taps, 73.0)], zero: -128, relu: true })?;
            z = -128;
            s = 0.05;
            x = b.avg_pool(x, (s, z), (s, z), ConvGeometry::square(2, 2, 0), false)?;
        }
        let _ = s;
        x = b.flatten(x)?;
        for (n, k, last) in [(400, 120, false), (120, 84, false), (84, 10, true)] {
            let w = random_i8(&mut rng, n * k, 127);
            let bias = (0..k).map(|_| rng.gen_range(-3000..=3000)).collect();
            let zero_out = if last { 0 } else { -128 };
            let spec = DenseSpec {
                input: x,
                in_dims: b.dims(x),
                input_zero: z,
                weights: w,
                features: k,
                bias,
            };
            x = b.dense(spec, Rescale { m: &[rescale(n, 73.0)], zero: zero_out, relu: !last })?;
            z = zero_out;
        }
        b.finish("lenet5")
    };
    build().unwrap_or_else(|e| unreachable!("lenet5: {e}"))
}

/// cnn-cifar on [1, 3, 32, 32]: conv 32@3×3 → conv 32@3×3 → maxpool 2 → conv 64@3×3 →
/// conv 64@3×3 → maxpool 2 → flatten 4096 → dense 48 → dense 10; every conv pads 1 and is
/// followed by ReLU, and so is the first dense layer. 262 714 parameters.
pub fn cnn_cifar() -> Model {
    let build = || -> Result<Model, ModelError> {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let mut b = Builder::new(vec![1, 3, 32, 32]);
        let mut x = 0;
        let mut z = 0;
        for (i, (c_in, c_out)) in
            [(3usize, 32usize), (32, 32), (32, 64), (64, 64)].into_iter().enumerate()
        {
            let taps = c_in * 9;
            let w = random_i8(&mut rng, c_out * taps, 127);
            let bias = (0..c_out).map(|_| rng.gen_range(-3000..=3000)).collect();
            let spec = ConvSpec {
                input: x,
                in_dims: b.dims(x),
                input_zero: z,
                features: c_out,
                geometry: ConvGeometry::square(3, 1, 1),
                output_padding: None,
                weights: w,
                bias,
            };
            x = b.conv(spec, Rescale { m: &[rescale(taps, 73.0)], zero: -128, relu: true })?;
            z = -128;
            if i % 2 == 1 {
                x = b.max_pool(x, ConvGeometry::square(2, 2, 0))?;
            }
        }
        x = b.flatten(x)?;
        for (n, k, last) in [(4096, 48, false), (48, 10, true)] {
            let w = random_i8(&mut rng, n * k, 127);
            let bias = (0..k).map(|_| rng.gen_range(-3000..=3000)).collect();
            let zero_out = if last { 0 } else { -128 };
            let spec = DenseSpec {
                input: x,
                in_dims: b.dims(x),
                input_zero: z,
                weights: w,
                features: k,
                bias,
            };
            x = b.dense(spec, Rescale { m: &[rescale(n, 73.0)], zero: zero_out, relu: !last })?;
            z = zero_out;
        }
        b.finish("cnn-cifar")
    };
    build().unwrap_or_else(|e| unreachable!("cnn-cifar: {e}"))
}

/// The activations `mlp-act` uses, with their output ranges.
pub fn all_activations() -> Vec<Activation> {
    vec![
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Gelu,
        Activation::Elu { alpha: 1.0 },
        Activation::LeakyRelu { alpha: 0.01 },
        Activation::Silu,
        Activation::HardSwish,
    ]
}

/// Output (scale, zero point) for an activation on inputs of scale `s` (range ±128·s).
fn activation_out(f: Activation, s: f64) -> (f64, i32) {
    let (lo, hi) = (-128..=127).fold((f64::MAX, f64::MIN), |(lo, hi), q| {
        let y = f.apply(q as f64 * s);
        (lo.min(y), hi.max(y))
    });
    let scale = ((hi - lo) / 255.0).max(1e-6);
    let zero = (-128.0 - lo / scale).round().clamp(-128.0, 127.0) as i32;
    (scale, zero)
}

/// Builder step: an activation layer on `x` (scale, zero) → (id, scale, zero).
pub fn activation(
    b: &mut Builder,
    x: TensorId,
    f: Activation,
    (s, z): (f64, i32),
) -> Result<(TensorId, f64, i32), ModelError> {
    let (s_out, z_out) = activation_out(f, s);
    let layer = ActivationLayer::new(x, b.dims(x), f, (s, z), (s_out, z_out))?;
    Ok((b.push(layer), s_out, z_out))
}

/// Builder step: x₁ + x₂ with their own scales, requantized to scale s₁ + s₂, zero point 0.
pub fn add(
    b: &mut Builder,
    (x1, s1, z1): (TensorId, f64, i32),
    (x2, s2, z2): (TensorId, f64, i32),
) -> Result<(TensorId, f64, i32), ModelError> {
    let s_out = s1 + s2;
    let (a, k) = common_shift(&[s1 / s_out, s2 / s_out])?;
    let spec = RequantSpec { k, ..RequantSpec::add((x1, a[0], z1), (x2, a[1], z2), b.dims(x1)) };
    let id = if b.arithmetic { b.push(Requant::new(spec)?) } else { b.push(Threshold::new(spec)?) };
    Ok((id, s_out, 0))
}

/// mlp-act: [2, 48] → dense 48→32 → every activation on the hidden tensor → a chain of adds of
/// the branches (each with its own scale) → dense 32→10.
pub fn mlp_act() -> Model {
    let build = || -> Result<Model, ModelError> {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let mut b = Builder::new(vec![2, 48]);
        // mlp-act keeps the arithmetic requantization gadget, so that the built-in models
        // exercise both gadgets (the others use thresholds)
        b.arithmetic = true;
        let w = random_i8(&mut rng, 48 * 32, 127);
        let bias = (0..32).map(|_| rng.gen_range(-2000..=2000)).collect();
        let m = 127.0 / (3.0 * 48f64.sqrt() * 73.0 * 73.0);
        let spec = DenseSpec {
            input: 0,
            in_dims: b.dims(0),
            input_zero: 0,
            weights: w,
            features: 32,
            bias,
        };
        let h = b.dense(spec, Rescale { m: &[m], zero: 0, relu: false })?;
        let s_h = 6.0 / 128.0;
        let mut branches = Vec::new();
        for f in all_activations() {
            branches.push(activation(&mut b, h, f, (s_h, 0))?);
        }
        let mut acc = branches[0];
        for &br in &branches[1..] {
            acc = add(&mut b, acc, br)?;
        }
        let w = random_i8(&mut rng, 32 * 10, 127);
        let bias = (0..10).map(|_| rng.gen_range(-2000..=2000)).collect();
        let m = 127.0 / (3.0 * 32f64.sqrt() * 73.0 * 73.0);
        let spec = DenseSpec {
            input: acc.0,
            in_dims: b.dims(acc.0),
            input_zero: acc.2,
            weights: w,
            features: 10,
            bias,
        };
        b.dense(spec, Rescale { m: &[m], zero: 0, relu: false })?;
        b.finish("mlp-act")
    };
    build().unwrap_or_else(|e| unreachable!("mlp-act: {e}"))
}

/// A random small model for tests: random shapes (batch and widths not powers of two), per-tensor
/// or per-channel multipliers from 2^-24 to near 1, ReLU or not, activations and adds.
pub fn random_model(seed: u64) -> Result<Model, ModelError> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let batch = rng.gen_range(1..=3);
    let width = rng.gen_range(1..=12);
    let mut b = Builder::new(vec![batch, width]);
    b.arithmetic = rng.gen_bool(0.5);
    let (mut x, mut z, mut s) = (0, rng.gen_range(-128..=127), 0.05);
    let mut n = width;
    for _ in 0..rng.gen_range(1..=3) {
        let k = rng.gen_range(1..=12);
        let wmax = if rng.gen_bool(0.2) { 127 } else { rng.gen_range(1..=127) };
        let weights = random_i8(&mut rng, n * k, wmax);
        let bias: Vec<i32> = (0..k).map(|_| rng.gen_range(-100_000..=100_000)).collect();
        // log2 of the rescale: from −24 (everything rounds to the zero point) to ~0 (saturates)
        let exp = rng.gen_range(-24.0..0.0);
        let ms: Vec<f64> = if rng.gen_bool(0.5) {
            vec![2f64.powf(exp)]
        } else {
            (0..k).map(|_| 2f64.powf(exp + rng.gen_range(-2.0..0.0))).collect()
        };
        let zero_out = rng.gen_range(-128..=127);
        let spec =
            DenseSpec { input: x, in_dims: b.dims(x), input_zero: z, weights, features: k, bias };
        x = b.dense(spec, Rescale { m: &ms, zero: zero_out, relu: rng.gen_bool(0.5) })?;
        z = zero_out;
        n = k;
        s = 0.01 + rng.gen_range(0.0..0.05);
        if rng.gen_bool(0.25) {
            // a second requantization of the same accumulator (two claims on it, merged), added
            let acc = x - 1;
            let (a2, k2) = common_shift(&[ms[0] * 0.5])?;
            let z2 = rng.gen_range(-128..=127);
            let spec = RequantSpec::accumulator(acc, b.dims(acc), Multiplier::Tensor(a2[0]));
            let second = Requant::new(RequantSpec { k: k2, zero: z2, ..spec })?;
            let y2 = b.push(second);
            (x, s, z) = add(&mut b, (x, s, z), (y2, s * 0.7, z2))?;
        }
        if rng.gen_bool(0.3) {
            // wiring: a round trip through another padded layout
            let dims = b.dims(x);
            x = if rng.gen_bool(0.5) {
                let flat = b.push(Wiring::reshape(x, &dims, vec![dims.iter().product()])?);
                b.push(Wiring::reshape(flat, &[dims.iter().product()], dims)?)
            } else {
                let t = b.push(Wiring::transpose(x, &dims, vec![1, 0])?);
                let tdims = b.dims(t);
                b.push(Wiring::transpose(t, &tdims, vec![1, 0])?)
            };
        }
        if rng.gen_bool(0.5) {
            let fs = all_activations();
            let f = fs[rng.gen_range(0..fs.len())];
            let (y, s_y, z_y) = activation(&mut b, x, f, (s, z))?;
            if rng.gen_bool(0.5) {
                (x, s, z) = add(&mut b, (x, s, z), (y, s_y, z_y))?;
            } else {
                (x, s, z) = (y, s_y, z_y);
            }
        }
    }
    let _ = s;
    b.finish(&format!("random-{seed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_shift_keeps_every_multiplier_within_2_pow_minus_20() {
        let ms = [0.75, 0.3, 0.001, 2f64.powi(-9)];
        let (a, k) = common_shift(&ms).unwrap();
        for (m, a) in ms.iter().zip(a) {
            assert!((a as f64 / 2f64.powi(k as i32) - m).abs() / m < 2f64.powi(-20));
        }
        assert!(common_shift(&[0.5, 1.37e-7]).is_err());
        assert!(common_shift(&[2f64.powi(-24)]).is_ok());
    }

    #[test]
    fn uint8_tensors_keep_their_real_values() {
        let (t, z) = Tensor::from_u8(vec![3], &[0, 200, 255], 128).unwrap();
        assert_eq!(z, 0);
        assert_eq!(t.data, vec![-128, 72, 127]);
        // (q − z) unchanged: 200 − 128 = 72 − 0
        assert!(Tensor::from_u8(vec![1], &[1], 256).is_err());
    }
}
