//! Naive references the integration tests check the crate against: integer matrix products,
//! exact rounding, NCHW convolutions, conv-transposes, requantization and pooling, each written
//! as the plainest loop over the definition (independent of the crate's implementation).

use gkrnet::circuit::zoo;
use gkrnet::circuit::ConvGeometry;
use gkrnet::quant::div_pow2_round_half_even;

/// The naive integer product C = A·B (m×n times n×k), i64 accumulation checked into i32.
pub fn naive_matmul(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    let mut c = vec![0i32; m * k];
    for i in 0..m {
        for j in 0..k {
            let s: i64 = (0..n).map(|t| a[i * n + t] as i64 * b[t * k + j] as i64).sum();
            c[i * k + j] = i32::try_from(s).expect("fits i32 for n < 2^17");
        }
    }
    c
}

/// round_half_even(p / 2^k) by exact comparison of twice the Euclidean remainder with 2^k
/// (independent of the crate's implementation).
pub fn round_half_even(p: i128, k: u32) -> i128 {
    let d = 1i128 << k;
    let (q, r2) = (p.div_euclid(d), 2 * p.rem_euclid(d));
    match r2.cmp(&d) {
        std::cmp::Ordering::Greater => q + 1,
        std::cmp::Ordering::Less => q,
        std::cmp::Ordering::Equal => q + (q & 1),
    }
}

// ---------------------------------------------------------------------------------------------
// convolutions

/// A convolution as the naive references read it: an NCHW input of `dims` with zero point `z`,
/// `features` output channels, weights [F, C/groups, KH, KW] (a conv-transpose's are
/// [C, F/groups, KH, KW]) and one bias per feature.
#[derive(Clone, Copy, Debug)]
pub struct ConvParams<'a> {
    pub dims: [usize; 4],
    pub z: i64,
    pub features: usize,
    pub geometry: ConvGeometry,
    pub weights: &'a [i8],
    pub bias: &'a [i32],
}

/// The input index a (non-transposed) tap reads along one axis, if in bounds.
fn tap(o: usize, kk: usize, stride: usize, dil: usize, pad_lo: usize, len: usize) -> Option<usize> {
    let pos = (o * stride + kk * dil) as i64 - pad_lo as i64;
    (pos >= 0 && (pos as usize) < len).then_some(pos as usize)
}

/// Output length of one axis of a convolution or pooling window.
fn out_len(len: usize, k: usize, stride: usize, dil: usize, lo: usize, hi: usize) -> usize {
    (len + lo + hi - dil * (k - 1) - 1) / stride + 1
}

fn out_dims(dims: [usize; 4], f: usize, g: &ConvGeometry) -> [usize; 4] {
    let oh = out_len(dims[2], g.kernel[0], g.stride[0], g.dilation[0], g.pads[0], g.pads[2]);
    let ow = out_len(dims[3], g.kernel[1], g.stride[1], g.dilation[1], g.pads[1], g.pads[3]);
    [dims[0], f, oh, ow]
}

/// acc[n, f, oh, ow] = bias[f] + Σ W[f, c', a, b]·(x̄ − z) where x̄ = `pad` outside the input (the
/// zero point z for the true convolution); returns the accumulators and their dimensions.
pub fn naive_conv(x: &[i64], conv: &ConvParams<'_>, pad: i64) -> (Vec<i64>, [usize; 4]) {
    let ConvParams { dims, z, features: f, geometry: g, weights: w, bias } = *conv;
    let [n, c, h, wd] = dims;
    let od = out_dims(dims, f, &g);
    let [_, _, oh, ow] = od;
    let (cg, fg) = (c / g.groups, f / g.groups);
    let [kh, kw] = g.kernel;
    let mut out = vec![0i64; n * f * oh * ow];
    for b in 0..n {
        for ff in 0..f {
            let grp = ff / fg;
            for i in 0..oh {
                for j in 0..ow {
                    let mut acc = bias[ff] as i64;
                    for cc in 0..cg {
                        for a in 0..kh {
                            for e in 0..kw {
                                let src_h = tap(i, a, g.stride[0], g.dilation[0], g.pads[0], h);
                                let src_w = tap(j, e, g.stride[1], g.dilation[1], g.pads[1], wd);
                                let v = match (src_h, src_w) {
                                    (Some(hh), Some(ww)) => {
                                        x[((b * c + grp * cg + cc) * h + hh) * wd + ww]
                                    }
                                    _ => pad,
                                };
                                acc += (v - z) * w[((ff * cg + cc) * kh + a) * kw + e] as i64;
                            }
                        }
                    }
                    out[((b * f + ff) * oh + i) * ow + j] = acc;
                }
            }
        }
    }
    (out, od)
}

/// ONNX ConvTranspose by scattering every input entry (weights [C, F/groups, KH, KW]), with
/// `output_padding` added to the bottom and right.
pub fn naive_conv_transpose(
    x: &[i64],
    conv: &ConvParams<'_>,
    output_padding: [usize; 2],
) -> (Vec<i64>, [usize; 4]) {
    let ConvParams { dims, z, features: f, geometry: g, weights: w, bias } = *conv;
    let op = output_padding;
    let [n, c, h, wd] = dims;
    let (s, d, k, p) = (g.stride, g.dilation, g.kernel, g.pads);
    let oh = (h - 1) * s[0] + d[0] * (k[0] - 1) + 1 + op[0] - p[0] - p[2];
    let ow = (wd - 1) * s[1] + d[1] * (k[1] - 1) + 1 + op[1] - p[1] - p[3];
    let (cg, fg) = (c / g.groups, f / g.groups);
    let mut out = vec![0i64; n * f * oh * ow];
    for b in 0..n {
        for ff in 0..f {
            out[(b * f + ff) * oh * ow..][..oh * ow].fill(bias[ff] as i64);
        }
        for ci in 0..c {
            let grp = ci / cg;
            for ih in 0..h {
                for iw in 0..wd {
                    let v = x[((b * c + ci) * h + ih) * wd + iw] - z;
                    for f2 in 0..fg {
                        for a in 0..k[0] {
                            for e in 0..k[1] {
                                let oi = (ih * s[0] + a * d[0]) as i64 - p[0] as i64;
                                let oj = (iw * s[1] + e * d[1]) as i64 - p[1] as i64;
                                if oi < 0 || oj < 0 || oi as usize >= oh || oj as usize >= ow {
                                    continue;
                                }
                                let ff = grp * fg + f2;
                                out[((b * f + ff) * oh + oi as usize) * ow + oj as usize] +=
                                    v * w[((ci * fg + f2) * k[0] + a) * k[1] + e] as i64;
                            }
                        }
                    }
                }
            }
        }
    }
    (out, [n, f, oh, ow])
}

/// clamp(round_half_even(acc·a_c / 2^k) + z, lo, 127) with a per channel (axis 1) or per tensor.
pub fn naive_requant(
    acc: &[i64],
    dims: [usize; 4],
    a: &[u32],
    k: u32,
    z: i64,
    lo: i64,
) -> Vec<i64> {
    let plane = dims[2] * dims[3];
    acc.iter()
        .enumerate()
        .map(|(j, &v)| {
            let a = if a.len() == 1 { a[0] } else { a[(j / plane) % dims[1]] };
            let q = div_pow2_round_half_even(v as i128 * a as i128, k) as i64;
            (q + z).clamp(lo, 127)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// pooling

/// The in-bounds window elements of output (b, ch, i, j) of a pooling window.
fn window(
    x: &[i64],
    dims: [usize; 4],
    g: &ConvGeometry,
    b: usize,
    ch: usize,
    i: usize,
    j: usize,
) -> Vec<i64> {
    let [_, c, h, wd] = dims;
    let mut out = Vec::new();
    for a in 0..g.kernel[0] {
        for e in 0..g.kernel[1] {
            if let (Some(hh), Some(ww)) = (
                tap(i, a, g.stride[0], g.dilation[0], g.pads[0], h),
                tap(j, e, g.stride[1], g.dilation[1], g.pads[1], wd),
            ) {
                out.push(x[((b * c + ch) * h + hh) * wd + ww]);
            }
        }
    }
    out
}

/// Max over the in-bounds window elements (−128, the padding value, for a window with none).
pub fn naive_max_pool(x: &[i64], dims: [usize; 4], g: &ConvGeometry) -> (Vec<i64>, [usize; 4]) {
    let od = out_dims(dims, dims[1], g);
    let [n, c, oh, ow] = od;
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for b in 0..n {
        for ch in 0..c {
            for i in 0..oh {
                for j in 0..ow {
                    out.push(window(x, dims, g, b, ch, i, j).into_iter().max().unwrap_or(-128));
                }
            }
        }
    }
    (out, od)
}

/// Quantized average pooling: (s_in, z_in) → (s_out, z_out), padding = real 0.
#[derive(Clone, Copy, Debug)]
pub struct AvgSpec {
    pub s_in: f64,
    pub z_in: i64,
    pub s_out: f64,
    pub z_out: i64,
    pub count_include_pad: bool,
}

/// y = clamp(round_half_even(a_pos·Σ_inbounds (x − z_in) / 2^k) + z_out) where a_pos/2^k ≈
/// s_in/(s_out·count_pos), with the (a, k) of `zoo::common_shift` over the positions (as the layer
/// derives them); also checks the result within ±1 of the float average.
pub fn naive_avg_pool(
    x: &[i64],
    dims: [usize; 4],
    g: &ConvGeometry,
    p: AvgSpec,
) -> (Vec<i64>, [usize; 4]) {
    let od = out_dims(dims, dims[1], g);
    let [n, c, oh, ow] = od;
    let counts: Vec<usize> = (0..oh * ow)
        .map(|pos| {
            if p.count_include_pad {
                g.kernel[0] * g.kernel[1]
            } else {
                window(x, dims, g, 0, 0, pos / ow, pos % ow).len().max(1)
            }
        })
        .collect();
    let ms: Vec<f64> = counts.iter().map(|&cnt| p.s_in / (p.s_out * cnt as f64)).collect();
    let (a, k) = zoo::common_shift(&ms).expect("average-pool multipliers");
    let mut out = Vec::with_capacity(n * c * oh * ow);
    for b in 0..n {
        for ch in 0..c {
            for pos in 0..oh * ow {
                let sum: i64 =
                    window(x, dims, g, b, ch, pos / ow, pos % ow).iter().map(|v| v - p.z_in).sum();
                let q = div_pow2_round_half_even(sum as i128 * a[pos] as i128, k) as i64;
                let y = (q + p.z_out).clamp(-128, 127);
                let float = p.s_in * sum as f64 / (p.s_out * counts[pos] as f64) + p.z_out as f64;
                let float = float.round().clamp(-128.0, 127.0) as i64;
                assert!((y - float).abs() <= 1, "average {y} vs float {float}");
                out.push(y);
            }
        }
    }
    (out, od)
}
