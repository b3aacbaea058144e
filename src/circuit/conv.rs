//! 2-D convolution (NCHW, stride, asymmetric padding, dilation, groups — depthwise included):
//! acc[n, f, oh, ow] = bias[f] + Σ_{c', kh, kw} W[f, c', kh, kw]·(X̄[n, g·C_g + c', h, w] − z_x),
//! h = oh·s_h + kh·d_h − p_top, w = ow·s_w + kw·d_w − p_left, g = f / F_g, where X̄ is the input
//! padded with its zero point z_x (so padding contributes 0, as in the real-valued convolution).
//! The output is a virtual int32 accumulator; a requantization follows.
//!
//! Proof of a claim ãcc(r) = v (`paper-notes/conv.md`):
//! 1. Σ_{g, c', kh, kw} Wt(g, c', kh, kw)·At(g, c', kh, kw) = v − bias term, a degree-2 sumcheck
//!    over the small kernel space, where Wt = Σ_{f'} eq(r_f, g·F_g + f')·W[g·F_g + f', ·] and At is
//!    the im2col matrix of the input contracted with eq(r_n, r_oh, r_ow) on its rows.
//! 2. The weight claim Wt(ρ) is checked by the verifier from the model in O(|W|).
//! 3. The rearrangement is proved, never trusted: Ãt(ρ) − z_x·(padding mass) =
//!    Σ_{n,c,h,w} X(n, c, h, w)·ω(n, c, h, w), a degree-2 sumcheck over the input's layout, where ω
//!    is a product of four one-dimensional factors that the verifier evaluates in
//!    O(N + C + OH·KH + OW·KW).
//!
//! The verifier never redoes the convolution; the prover's extra work is O(|W| + |X| + C·KH·OH·W).
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction, Tensor, TensorId,
    MAX_ENTRIES,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::{from_i64, row_combination_i8, Fp};
use crate::lookup::prefix_indicator;
use crate::matmul::gemm::gemm_i8;
use crate::poly::eq_evals;
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use crate::transcript::{ProverTranscript, VerifierTranscript};
use ark_ff::Zero;

/// Geometry of one spatial axis: out = ⌊(len + pad_lo + pad_hi − dil·(k − 1) − 1)/stride⌋ + 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Axis {
    pub len: usize,
    pub k: usize,
    pub stride: usize,
    pub dil: usize,
    pub pad_lo: usize,
    pub pad_hi: usize,
    /// ConvTranspose: output o reads input (o + pad_lo − kk·dil)/stride when that is an integer
    /// in range; `extra` is ONNX's output_padding.
    pub transposed: bool,
    pub extra: usize,
}

impl Axis {
    /// The output length, in checked arithmetic; `None` when there is no output, or when a
    /// length, kernel, stride, dilation, pad or output padding is 0 where it cannot be or above
    /// [`MAX_ENTRIES`] (so every index computation of [`Axis::source`] stays below 2^58 for
    /// outputs within [`MAX_ENTRIES`]).
    pub fn out(&self) -> Option<usize> {
        let fields =
            [self.len, self.k, self.stride, self.dil, self.pad_lo, self.pad_hi, self.extra];
        if fields.iter().any(|&f| f > MAX_ENTRIES)
            || self.stride == 0
            || self.dil == 0
            || self.k == 0
            || self.len == 0
        {
            return None;
        }
        let span = self.dil.checked_mul(self.k - 1)?.checked_add(1)?;
        let pads = self.pad_lo.checked_add(self.pad_hi)?;
        let out = if self.transposed {
            if self.extra >= self.stride.max(self.dil) {
                return None;
            }
            let full = (self.len - 1).checked_mul(self.stride)?.checked_add(span)?;
            full.checked_add(self.extra)?.checked_sub(pads).filter(|&o| o > 0)?
        } else {
            let padded = self.len.checked_add(pads)?;
            padded.checked_sub(span)? / self.stride + 1
        };
        Some(out)
    }

    /// The input position that output o reads through tap kk, if there is one.
    pub fn source(&self, o: usize, kk: usize) -> Option<usize> {
        let tap = kk.checked_mul(self.dil)?;
        if self.transposed {
            let num = o.checked_add(self.pad_lo)?.checked_sub(tap)?;
            return num
                .checked_rem(self.stride)
                .filter(|&r| r == 0)
                .map(|_| num / self.stride)
                .filter(|&i| i < self.len);
        }
        o.checked_mul(self.stride)?
            .checked_add(tap)?
            .checked_sub(self.pad_lo)
            .filter(|&h| h < self.len)
    }

    /// For eq tables e_out (output positions) and e_k (taps): H(h) = Σ_{o, kk ↦ h} e_out[o]·e_k[kk]
    /// for every input position h, the total Σ_{o, kk} e_out[o]·e_k[kk], and Σ_h H(h).
    pub fn weights(&self, e_out: &[Fp], e_k: &[Fp]) -> (Vec<Fp>, Fp, Fp) {
        let out = self.out().unwrap_or(0);
        let mut h = vec![Fp::zero(); self.len];
        let mut total = Fp::zero();
        for (o, eo) in e_out.iter().enumerate().take(out) {
            for (kk, ek) in e_k.iter().enumerate().take(self.k) {
                let w = *eo * ek;
                total += w;
                if let Some(src) = self.source(o, kk) {
                    h[src] += w;
                }
            }
        }
        let inside = h.iter().sum();
        (h, total, inside)
    }
}

/// Splits a point of a layout with the given axis bit counts (last axis lowest) into per-axis
/// eq tables, first axis first.
pub(crate) fn axis_eqs(layout: &Layout, point: &[Fp]) -> Vec<Vec<Fp>> {
    (0..layout.dims().len()).map(|a| eq_evals(&point[layout.axis_vars(a)])).collect()
}

/// Σ_{i < len} a[i]·b[i].
pub(crate) fn dot(a: &[Fp], b: &[Fp], len: usize) -> Fp {
    a.iter().zip(b).take(len).map(|(x, y)| *x * y).sum()
}

/// A convolution layer; see the module documentation.
#[derive(Clone, Debug)]
pub struct Conv {
    inputs: [TensorId; 1],
    /// [N, C, H, W]
    in_dims: [usize; 4],
    out: [usize; 4],
    groups: usize,
    h: Axis,
    w: Axis,
    /// [F, C/groups, KH, KW]
    weights: Vec<i8>,
    bias: Vec<i32>,
    input_zero: i32,
    bias_eff: Vec<i64>,
}

/// Geometry of a convolution: kernel, strides, dilations, pads [top, left, bottom, right].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeometry {
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub dilation: [usize; 2],
    pub pads: [usize; 4],
    pub groups: usize,
}

impl ConvGeometry {
    pub fn square(k: usize, stride: usize, pad: usize) -> Self {
        Self { kernel: [k, k], stride: [stride; 2], dilation: [1; 2], pads: [pad; 4], groups: 1 }
    }
}

/// The parameters of a convolution on the NCHW int8 tensor `input`, or with `output_padding` of
/// a transposed convolution (ONNX ConvTranspose): weights in the internal [F, C/groups, KH, KW]
/// layout, bias [F]. [`Conv::new`] takes it, and the model encoding stores it (its
/// [`OpRecord`], tag 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConvSpec {
    pub input: TensorId,
    /// [N, C, H, W]
    pub in_dims: Vec<usize>,
    pub input_zero: i32,
    pub features: usize,
    pub geometry: ConvGeometry,
    /// `Some` for a transposed convolution: its output padding per spatial axis.
    pub output_padding: Option<[usize; 2]>,
    pub weights: Vec<i8>,
    pub bias: Vec<i32>,
}

/// The convolution's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 1, kind: "conv", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (input, in_dims, input_zero, features) = (r.usize()?, r.dims()?, r.i32()?, r.usize()?);
    let kernel = r.sizes::<2>()?;
    let stride = r.sizes::<2>()?;
    let dilation = r.sizes::<2>()?;
    let pads = r.sizes::<4>()?;
    let groups = r.usize()?;
    let op = r.usizes()?;
    let output_padding = match op.as_slice() {
        [] => None,
        &[a, b] => Some([a, b]),
        _ => return Err(r.error("an output padding pair").into()),
    };
    Ok(Box::new(ConvSpec {
        input,
        in_dims,
        input_zero,
        features,
        geometry: ConvGeometry { kernel, stride, dilation, pads, groups },
        output_padding,
        weights: r.i8s()?,
        bias: r.i32s()?,
    }))
}

impl OpRecord for ConvSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        let g = &self.geometry;
        w.usize(self.input);
        w.usizes(&self.in_dims);
        w.i64(self.input_zero as i64);
        w.usize(self.features);
        w.usizes(&g.kernel);
        w.usizes(&g.stride);
        w.usizes(&g.dilation);
        w.usizes(&g.pads);
        w.usize(g.groups);
        w.usizes(self.output_padding.as_ref().map_or(&[][..], |p| &p[..]));
        w.i8s(&self.weights);
        w.i32s(&self.bias);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.input, self.in_dims.clone())]
    }

    fn summary(&self) -> String {
        let g = &self.geometry;
        format!(
            "{} filters {}×{}, stride {:?}, dilation {:?}, pads {:?}, groups {}{}, input zero \
             point {}",
            self.features,
            g.kernel[0],
            g.kernel[1],
            g.stride,
            g.dilation,
            g.pads,
            g.groups,
            if self.output_padding.is_some() { ", transposed" } else { "" },
            self.input_zero
        )
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Conv::new(self.clone())?))
    }
}

impl Conv {
    /// # Errors
    /// Shapes that do not fit, groups that do not divide C and F, an empty output, or weights
    /// and bias whose accumulator could leave the i32 range (255·Σ|w| + |bias| ≥ 2^31 for a filter).
    pub fn new(spec: ConvSpec) -> Result<Self, ModelError> {
        let ConvSpec {
            input,
            in_dims,
            input_zero,
            features,
            geometry,
            output_padding: transposed,
            weights,
            bias,
        } = spec;
        let in_dims = in_dims.as_slice();
        let &[n, c, hh, ww] = in_dims else {
            return Err(ModelError::Shape(format!(
                "conv input must be [N, C, H, W], got {in_dims:?}"
            )));
        };
        super::checked_entries(in_dims)?;
        let ConvGeometry { kernel, stride, dilation, pads, groups } = geometry;
        if groups == 0
            || !c.is_multiple_of(groups)
            || !features.is_multiple_of(groups)
            || features == 0
        {
            return Err(ModelError::Shape(format!(
                "groups {groups} must divide the input channels {c} and the features {features}"
            )));
        }
        let extra = transposed.unwrap_or([0, 0]);
        let sizes = kernel.iter().chain(&stride).chain(&dilation).chain(&pads).chain(&extra);
        if sizes.copied().any(|v| v > MAX_ENTRIES) {
            return Err(ModelError::Shape(format!(
                "conv geometry {geometry:?}, output padding {extra:?}: kernel, strides, \
                 dilations, pads and output padding must be at most 2^28"
            )));
        }
        let h = Axis {
            transposed: transposed.is_some(),
            extra: extra[0],
            len: hh,
            k: kernel[0],
            stride: stride[0],
            dil: dilation[0],
            pad_lo: pads[0],
            pad_hi: pads[2],
        };
        let w = Axis {
            transposed: transposed.is_some(),
            extra: extra[1],
            len: ww,
            k: kernel[1],
            stride: stride[1],
            dil: dilation[1],
            pad_lo: pads[1],
            pad_hi: pads[3],
        };
        let (Some(oh), Some(ow)) = (h.out(), w.out()) else {
            return Err(ModelError::Shape(format!(
                "conv geometry {geometry:?} leaves no output for {in_dims:?}"
            )));
        };
        super::checked_entries(&[n, features, oh, ow])?;
        let taps = (c / groups).checked_mul(kernel[0]).and_then(|t| t.checked_mul(kernel[1]));
        let expected = taps.and_then(|t| t.checked_mul(features));
        let Some(taps) = taps.filter(|_| expected == Some(weights.len()) && bias.len() == features)
        else {
            return Err(ModelError::Shape(format!(
                "conv weights: {} (expected {features}·{taps:?}), bias {} (expected {features})",
                weights.len(),
                bias.len()
            )));
        };
        if !(-128..=127).contains(&input_zero) {
            return Err(ModelError::Parameter(format!("input zero point {input_zero}")));
        }
        let mut bias_eff = Vec::with_capacity(features);
        for (f, row) in weights.chunks(taps).enumerate() {
            let sum: i64 = row.iter().map(|&v| v as i64).sum();
            let abs: i64 = row.iter().map(|&v| (v as i64).abs()).sum();
            if 255 * abs + (bias[f] as i64).abs() >= 1 << 31 {
                return Err(ModelError::Parameter(format!(
                    "filter {f}: 255·Σ|w| + |bias| can overflow the i32 accumulator"
                )));
            }
            bias_eff.push(bias[f] as i64 - input_zero as i64 * sum);
        }
        Ok(Self {
            inputs: [input],
            in_dims: [n, c, hh, ww],
            out: [n, features, oh, ow],
            groups,
            h,
            w,
            weights,
            bias,
            input_zero,
            bias_eff,
        })
    }

    /// ONNX ConvTranspose, with `spec.weights` in ONNX's [C, F/groups, KH, KW] layout (permuted
    /// here to the internal one) and `spec.output_padding` [0, 0] when `None`. Output o reads
    /// input (o + pad − kk·dil)/stride through tap kk when that is an integer in range, and the
    /// input's zero point otherwise (contributing 0), so the proof is the convolution's with
    /// another index map.
    ///
    /// # Errors
    /// As [`Conv::new`], or weights of the wrong length.
    pub fn transposed(spec: ConvSpec) -> Result<Self, ModelError> {
        let c = spec.in_dims.get(1).copied().unwrap_or(0);
        let g = spec.geometry.groups.max(1);
        let [kh, kw] = spec.geometry.kernel;
        let (cg, fg) = (c / g, spec.features / g);
        let weights = &spec.weights;
        let expected = c.checked_mul(fg).and_then(|n| n.checked_mul(kh)?.checked_mul(kw));
        if expected != Some(weights.len()) {
            return Err(ModelError::Shape(format!(
                "conv-transpose weights: {} (expected {c}·{fg}·{kh}·{kw})",
                weights.len()
            )));
        }
        // [C, F_g, KH, KW] → [F, C_g, KH, KW]
        let mut w = vec![0i8; weights.len()];
        for ci in 0..c {
            for f in 0..fg {
                for t in 0..kh * kw {
                    let (grp, cc) = (ci / cg.max(1), ci % cg.max(1));
                    w[((grp * fg + f) * cg + cc) * kh * kw + t] =
                        weights[(ci * fg + f) * kh * kw + t];
                }
            }
        }
        let output_padding = Some(spec.output_padding.unwrap_or([0, 0]));
        Self::new(ConvSpec { weights: w, output_padding, ..spec })
    }

    /// max over filters of |acc|'s worst case over all int8 inputs:
    /// max(127 − z_x, 128 + z_x)·Σ|W[f]| + |bias_f| (padding reads z_x and contributes 0).
    pub fn acc_bound(&self) -> i128 {
        let spread = (127 - self.input_zero).max(128 + self.input_zero) as i128;
        self.weights
            .chunks(self.taps())
            .zip(&self.bias)
            .map(|(row, &b)| {
                spread * row.iter().map(|&w| (w as i128).abs()).sum::<i128>() + (b as i128).abs()
            })
            .max()
            .unwrap_or(0)
    }

    /// The two spatial axes (rows, columns).
    pub fn axes(&self) -> [Axis; 2] {
        [self.h, self.w]
    }

    fn taps(&self) -> usize {
        self.in_dims[1] / self.groups * self.h.k * self.w.k
    }

    /// The kernel-space layout [G, C_g, KH, KW] of the inner sumcheck.
    fn inner_layout(&self) -> Layout {
        Layout::new(&[self.groups, self.in_dims[1] / self.groups, self.h.k, self.w.k])
    }

    fn out_layout(&self) -> Layout {
        Layout::new(&self.out)
    }

    fn in_layout(&self) -> Layout {
        Layout::new(&self.in_dims)
    }

    /// The bias term's MLE at r: Σ_f eq(r_f, f)·bias_eff[f] times the row masks.
    fn bias_eval(&self, e: &[Vec<Fp>], point: &[Fp]) -> Fp {
        let l = self.out_layout();
        let [n, _, oh, ow] = self.out;
        let b: Fp = self.bias_eff.iter().zip(&e[1]).map(|(&v, e)| from_i64(v) * e).sum::<Fp>();
        b * prefix_indicator(n, &point[l.axis_vars(0)])
            * prefix_indicator(oh, &point[l.axis_vars(2)])
            * prefix_indicator(ow, &point[l.axis_vars(3)])
    }

    /// Σ_{f, x} W[f, x]·eq(r_f, f)·eq(ρ_g, g(f))·eq(ρ_x, x): Wt at ρ, from the weights.
    fn weight_eval(&self, e_f: &[Fp], rho: &[Vec<Fp>]) -> Fp {
        let (cg, kh, kw) = (self.in_dims[1] / self.groups, self.h.k, self.w.k);
        let table = self.weight_table(e_f);
        let mut total = Fp::zero();
        for g in 0..self.groups {
            for c in 0..cg {
                for a in 0..kh {
                    for b in 0..kw {
                        let x = ((c * kh) + a) * kw + b;
                        total += table[g * cg * kh * kw + x]
                            * rho[0][g]
                            * rho[1][c]
                            * rho[2][a]
                            * rho[3][b];
                    }
                }
            }
        }
        total
    }

    /// Wt(g, x) = Σ_{f'} eq(r_f, g·F_g + f')·W[g·F_g + f', x], unpadded [G, taps].
    fn weight_table(&self, e_f: &[Fp]) -> Vec<Fp> {
        let taps = self.taps();
        let fg = self.out[1] / self.groups;
        (0..self.groups)
            .flat_map(|g| {
                let rows = &self.weights[g * fg * taps..(g + 1) * fg * taps];
                row_combination_i8(rows, fg, taps, &e_f[g * fg..(g + 1) * fg])
            })
            .collect()
    }

    /// The wiring weight's factors: per-channel γ(c), per-row H(h) with totals, per-column W(w).
    fn wiring(&self, e_out: &[Vec<Fp>], rho: &[Vec<Fp>]) -> Wiring {
        let cg = self.in_dims[1] / self.groups;
        let gamma = (0..self.in_dims[1]).map(|c| rho[0][c / cg] * rho[1][c % cg]).collect();
        let (hh, h_total, h_in) = self.h.weights(&e_out[2], &rho[2]);
        let (ww, w_total, w_in) = self.w.weights(&e_out[3], &rho[3]);
        Wiring { gamma, hh, ww, pad_mass: h_total * w_total - h_in * w_in }
    }
}

/// ω(n, c, h, w) = e_n[n]·γ(c)·H(h)·W(w), and the mass of the padding taps.
struct Wiring {
    gamma: Vec<Fp>,
    hh: Vec<Fp>,
    ww: Vec<Fp>,
    pad_mass: Fp,
}

impl Layer for Conv {
    fn spec(&self) -> LayerSpec {
        let geometry = ConvGeometry {
            kernel: [self.h.k, self.w.k],
            stride: [self.h.stride, self.w.stride],
            dilation: [self.h.dil, self.w.dil],
            pads: [self.h.pad_lo, self.w.pad_lo, self.h.pad_hi, self.w.pad_hi],
            groups: self.groups,
        };
        LayerSpec::Op(Box::new(ConvSpec {
            input: self.inputs[0],
            in_dims: self.in_dims.to_vec(),
            input_zero: self.input_zero,
            features: self.out[1],
            geometry,
            output_padding: self.h.transposed.then_some([self.h.extra, self.w.extra]),
            weights: self.weights.clone(),
            bias: self.bias.clone(),
        }))
    }

    fn kind(&self) -> &'static str {
        if self.h.transposed {
            "conv-transpose"
        } else {
            "conv"
        }
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.out
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let x = inputs[0]
            .to_i8()
            .ok_or_else(|| ModelError::Shape("a conv input must be int8".into()))?;
        let [n, c, hh, ww] = self.in_dims;
        let [_, f, oh, ow] = self.out;
        let (g_count, cg, fg, taps) = (self.groups, c / self.groups, f / self.groups, self.taps());
        let z = self.input_zero as i8;
        let rows = n * oh * ow;
        let mut acc = vec![0i64; n * f * oh * ow];
        for g in 0..g_count {
            // im2col of group g: rows (n, oh, ow), columns (c', kh, kw), padding = z
            let mut cols = vec![z; rows * taps];
            for b in 0..n {
                for i in 0..oh {
                    for j in 0..ow {
                        let row = &mut cols[((b * oh + i) * ow + j) * taps..][..taps];
                        for cc in 0..cg {
                            let plane = &x[(b * c + g * cg + cc) * hh * ww..][..hh * ww];
                            for a in 0..self.h.k {
                                let Some(src_h) = self.h.source(i, a) else { continue };
                                for d in 0..self.w.k {
                                    if let Some(src_w) = self.w.source(j, d) {
                                        row[(cc * self.h.k + a) * self.w.k + d] =
                                            plane[src_h * ww + src_w];
                                    }
                                }
                            }
                        }
                    }
                }
            }
            // W_gᵀ: [taps, F_g]
            let wg = &self.weights[g * fg * taps..(g + 1) * fg * taps];
            let mut wt = vec![0i8; taps * fg];
            for ff in 0..fg {
                for t in 0..taps {
                    wt[t * fg + ff] = wg[ff * taps + t];
                }
            }
            let prod = gemm_i8(&cols, &wt, rows, taps, fg)
                .map_err(|e| ModelError::Shape(e.to_string()))?;
            for b in 0..n {
                for ff in 0..fg {
                    let fo = g * fg + ff;
                    for p in 0..oh * ow {
                        acc[(b * f + fo) * oh * ow + p] =
                            prod[(b * oh * ow + p) * fg + ff] as i64 + self.bias_eff[fo];
                    }
                }
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.out.to_vec(), acc)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Conv {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let out_layout = self.out_layout();
        if claim.point.len() != out_layout.num_vars() {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a conv output",
                expected: out_layout.num_vars(),
                got: claim.point.len(),
            });
        }
        let e = axis_eqs(&out_layout, &claim.point);
        let value = claim.value - self.bias_eval(&e, &claim.point);
        let [n, c, hh, ww] = self.in_dims;
        let [_, _, oh, ow] = self.out;
        let (kh, kw) = (self.h.k, self.w.k);
        let inner = self.inner_layout();

        // At: contract the batch, then rows, then columns; a tap outside the input reads z_x
        let e_n: Fp = e[0].iter().take(n).sum();
        let z_mass = from_i64(self.input_zero as i64) * e_n;
        let mut x1 = vec![Fp::zero(); c * hh * ww];
        for (b, e_b) in e[0].iter().take(n).enumerate() {
            let src = &inputs[0].data[b * c * hh * ww..(b + 1) * c * hh * ww];
            for (d, &v) in x1.iter_mut().zip(src) {
                *d += *e_b * from_i64(v);
            }
        }
        let e_oh_sum: Fp = e[2].iter().take(oh).sum();
        // rows(c, a, w) = Σ_i e_oh[i]·X1(c, h(i, a), w), z_mass where h(i, a) is outside
        let mut rows = vec![Fp::zero(); c * kh * ww];
        for cc in 0..c {
            for a in 0..kh {
                let dst = &mut rows[(cc * kh + a) * ww..][..ww];
                let mut outside = Fp::zero();
                for (i, &w) in e[2].iter().enumerate().take(oh) {
                    match self.h.source(i, a) {
                        Some(src_h) => {
                            let src = &x1[(cc * hh + src_h) * ww..][..ww];
                            for (d, s) in dst.iter_mut().zip(src) {
                                *d += w * s;
                            }
                        }
                        None => outside += w,
                    }
                }
                let pad = outside * z_mass;
                dst.iter_mut().for_each(|d| *d += pad);
            }
        }
        let mut at = vec![Fp::zero(); inner.len()];
        for cc in 0..c {
            for a in 0..kh {
                let src = &rows[(cc * kh + a) * ww..][..ww];
                for d in 0..kw {
                    at[(cc * kh + a) * kw + d] = (0..ow)
                        .map(|j| match self.w.source(j, d) {
                            Some(src_w) => e[3][j] * src[src_w],
                            None => e[3][j] * e_oh_sum * z_mass,
                        })
                        .sum();
                }
            }
        }
        let wt = self.weight_table(&e[1]);
        let (wt, at) = (inner.pad(&wt), inner.pad(&at));
        let out = sumcheck::prove(ProductSum::product(vec![wt, at])?, value, &mut t)?;
        sumcheck::send_final_evals(&mut t, &out.final_evals);
        let rho = axis_eqs(&inner, &out.point);

        // the rearrangement: Ãt(ρ) = Σ X·ω + z·pad mass
        let wiring = self.wiring(&e, &rho);
        let in_layout = self.in_layout();
        let mut omega = vec![Fp::zero(); in_layout.len()];
        for b in 0..n {
            for cc in 0..c {
                let bc = e[0][b] * wiring.gamma[cc];
                for i in 0..hh {
                    let bch = bc * wiring.hh[i];
                    for j in 0..ww {
                        omega[((b * c + cc) * hh + i) * ww + j] = bch * wiring.ww[j];
                    }
                }
            }
        }
        let gamma_sum: Fp = wiring.gamma.iter().sum();
        let sum = out.final_evals[1] - z_mass * gamma_sum * wiring.pad_mass;
        let x = in_layout.pad_fp(&inputs[0].data);
        let out2 =
            sumcheck::prove(ProductSum::product(vec![x, in_layout.pad(&omega)])?, sum, &mut t)?;
        sumcheck::send_final_evals(&mut t, &out2.final_evals);
        Ok(vec![(
            ClaimTarget::Input(0),
            EvalClaim { point: out2.point, value: out2.final_evals[0] },
        )])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let out_layout = self.out_layout();
        if claim.point.len() != out_layout.num_vars() {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a conv output has the wrong number of variables",
            });
        }
        let e = axis_eqs(&out_layout, &claim.point);
        let value = claim.value - self.bias_eval(&e, &claim.point);
        let inner = self.inner_layout();
        let product = [Term::product(vec![0, 1])];
        let sc = SumcheckClaim { num_vars: inner.num_vars(), degree: 2, claimed_sum: value };
        let eval = sumcheck::verify(&sc, &mut t)?;
        let evals = sumcheck::verify_final_evals(&product, 2, &eval, &mut t)?;
        let [wt, at] = evals.as_slice() else {
            return Err(VerifyError::InvalidStatement {
                reason: "two factor evaluations expected",
            });
        };
        let rho = axis_eqs(&inner, &eval.point);
        wt.check(self.weight_eval(&e[1], &rho), "the convolution weights at the kernel point")?;

        let [n, c, hh, ww] = self.in_dims;
        let wiring = self.wiring(&e, &rho);
        let e_n: Fp = e[0].iter().take(n).sum();
        let gamma_sum: Fp = wiring.gamma.iter().sum();
        let sum = at.value - from_i64(self.input_zero as i64) * e_n * gamma_sum * wiring.pad_mass;
        let in_layout = self.in_layout();
        let sc = SumcheckClaim { num_vars: in_layout.num_vars(), degree: 2, claimed_sum: sum };
        let eval = sumcheck::verify(&sc, &mut t)?;
        let evals = sumcheck::verify_final_evals(&product, 2, &eval, &mut t)?;
        let [x, omega] = evals.as_slice() else {
            return Err(VerifyError::InvalidStatement {
                reason: "two factor evaluations expected",
            });
        };
        let p = axis_eqs(&in_layout, &eval.point);
        let computed = dot(&e[0], &p[0], n)
            * dot(&wiring.gamma, &p[1], c)
            * dot(&wiring.hh, &p[2], hh)
            * dot(&wiring.ww, &p[3], ww);
        omega.check(computed, "the im2col wiring of the convolution")?;
        Ok(vec![(ClaimTarget::Input(0), x.clone())])
    }
}
