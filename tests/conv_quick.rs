#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{ConvGeometry, ConvSpec, Model};
use gkrnet::gkr;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

fn naive(
    x: &[i64],
    dims: [usize; 4],
    z: i64,
    f: usize,
    g: ConvGeometry,
    w: &[i8],
    bias: &[i32],
) -> (Vec<i64>, [usize; 4]) {
    let [n, c, h, wd] = dims;
    let oh = (h + g.pads[0] + g.pads[2] - g.dilation[0] * (g.kernel[0] - 1) - 1) / g.stride[0] + 1;
    let ow = (wd + g.pads[1] + g.pads[3] - g.dilation[1] * (g.kernel[1] - 1) - 1) / g.stride[1] + 1;
    let (cg, fg) = (c / g.groups, f / g.groups);
    let mut out = vec![0i64; n * f * oh * ow];
    for b in 0..n {
        for ff in 0..f {
            for i in 0..oh {
                for j in 0..ow {
                    let grp = ff / fg;
                    let mut acc = bias[ff] as i64;
                    for cc in 0..cg {
                        for a in 0..g.kernel[0] {
                            for d in 0..g.kernel[1] {
                                let hh =
                                    (i * g.stride[0] + a * g.dilation[0]) as i64 - g.pads[0] as i64;
                                let ww =
                                    (j * g.stride[1] + d * g.dilation[1]) as i64 - g.pads[1] as i64;
                                let v = if hh >= 0
                                    && (hh as usize) < h
                                    && ww >= 0
                                    && (ww as usize) < wd
                                {
                                    x[((b * c + grp * cg + cc) * h + hh as usize) * wd
                                        + ww as usize]
                                } else {
                                    z
                                };
                                acc += (v - z)
                                    * w[((ff * cg + cc) * g.kernel[0] + a) * g.kernel[1] + d]
                                        as i64;
                            }
                        }
                    }
                    out[((b * f + ff) * oh + i) * ow + j] = acc;
                }
            }
        }
    }
    (out, [n, f, oh, ow])
}

#[test]
fn random_convs() {
    for seed in 0..60u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let groups = [1, 1, 2, 3][rng.gen_range(0..4)];
        let c = groups * rng.gen_range(1..=3);
        let f = groups * rng.gen_range(1..=3);
        let dims = [rng.gen_range(1..=2), c, rng.gen_range(3..=9), rng.gen_range(3..=9)];
        let k = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let g = ConvGeometry {
            kernel: k,
            stride: [rng.gen_range(1..=3), rng.gen_range(1..=3)],
            dilation: [rng.gen_range(1..=2), rng.gen_range(1..=2)],
            pads: [
                rng.gen_range(0..=2),
                rng.gen_range(0..=2),
                rng.gen_range(0..=2),
                rng.gen_range(0..=2),
            ],
            groups,
        };
        let taps = c / groups * k[0] * k[1];
        let w: Vec<i8> = (0..f * taps).map(|_| rng.gen_range(-127..=127)).collect();
        let bias: Vec<i32> = (0..f).map(|_| rng.gen_range(-1000..=1000)).collect();
        let z = rng.gen_range(-128..=127);
        let mut b = Builder::new(dims.to_vec());
        let Ok(y) = b.conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: z,
                features: f,
                geometry: g,
                output_padding: None,
                weights: w.clone(),
                bias: bias.clone(),
            },
            Rescale { m: &[0.01], zero: 0, relu: false },
        ) else {
            continue;
        };
        let model: Model = b.finish("conv").unwrap();
        let input = zoo::random_input(&model, seed);
        let wit = model.forward(&input).unwrap();
        let (expect, odims) = naive(&input.data, dims, z as i64, f, g, &w, &bias);
        assert_eq!(wit.tensors[y - 1].dims, odims.to_vec(), "seed {seed}");
        assert_eq!(wit.tensors[y - 1].data, expect, "seed {seed} {g:?}");
        model.check(&wit).unwrap();
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
        gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.proof)
            .unwrap_or_else(|e| panic!("seed {seed} {g:?} {dims:?}: {e}"));
    }
}

fn naive_t(
    x: &[i64],
    dims: [usize; 4],
    z: i64,
    f: usize,
    g: ConvGeometry,
    op: [usize; 2],
    w: &[i8],
    bias: &[i32],
) -> (Vec<i64>, [usize; 4]) {
    let [n, c, h, wd] = dims;
    let (s, d, k, p) = (g.stride, g.dilation, g.kernel, g.pads);
    let oh = (h - 1) * s[0] + d[0] * (k[0] - 1) + 1 + op[0] - p[0] - p[2];
    let ow = (wd - 1) * s[1] + d[1] * (k[1] - 1) + 1 + op[1] - p[1] - p[3];
    let (cg, fg) = (c / g.groups, f / g.groups);
    let mut out = vec![0i64; n * f * oh * ow];
    for b in 0..n {
        for ff in 0..f {
            for i in 0..oh {
                for j in 0..ow {
                    out[((b * f + ff) * oh + i) * ow + j] = bias[ff] as i64;
                }
            }
        }
    }
    for b in 0..n {
        for ci in 0..c {
            for ih in 0..h {
                for iw in 0..wd {
                    for f2 in 0..fg {
                        for a in 0..k[0] {
                            for e in 0..k[1] {
                                let grp = ci / cg;
                                let oi = (ih * s[0] + a * d[0]) as i64 - p[0] as i64;
                                let oj = (iw * s[1] + e * d[1]) as i64 - p[1] as i64;
                                if oi < 0 || oj < 0 || oi as usize >= oh || oj as usize >= ow {
                                    continue;
                                }
                                let ff = grp * fg + f2;
                                out[((b * f + ff) * oh + oi as usize) * ow + oj as usize] +=
                                    (x[((b * c + ci) * h + ih) * wd + iw] - z)
                                        * w[((ci * fg + f2) * k[0] + a) * k[1] + e] as i64;
                            }
                        }
                    }
                }
            }
        }
    }
    (out, [n, f, oh, ow])
}

#[test]
fn random_conv_transposes() {
    use gkrnet::circuit::Conv;
    let mut tried = 0;
    for seed in 0..80u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(1000 + seed);
        let groups = [1, 1, 2][rng.gen_range(0..3)];
        let c = groups * rng.gen_range(1..=3);
        let f = groups * rng.gen_range(1..=3);
        let dims = [rng.gen_range(1..=2), c, rng.gen_range(1..=5), rng.gen_range(1..=5)];
        let k = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let stride = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let dil = [rng.gen_range(1..=2), rng.gen_range(1..=2)];
        let op = [rng.gen_range(0..stride[0].max(dil[0])), rng.gen_range(0..stride[1].max(dil[1]))];
        let g = ConvGeometry {
            kernel: k,
            stride,
            dilation: dil,
            pads: [
                rng.gen_range(0..=1),
                rng.gen_range(0..=1),
                rng.gen_range(0..=1),
                rng.gen_range(0..=1),
            ],
            groups,
        };
        let w: Vec<i8> =
            (0..c * (f / groups) * k[0] * k[1]).map(|_| rng.gen_range(-127..=127)).collect();
        let bias: Vec<i32> = (0..f).map(|_| rng.gen_range(-1000..=1000)).collect();
        let z = rng.gen_range(-128..=127);
        let mut b = Builder::new(dims.to_vec());
        let Ok(conv) = Conv::transposed(ConvSpec {
            input: 0,
            in_dims: dims.to_vec(),
            input_zero: z,
            features: f,
            geometry: g,
            output_padding: Some(op),
            weights: w.clone(),
            bias: bias.clone(),
        }) else {
            continue;
        };
        tried += 1;
        let out_dims = gkrnet::circuit::Layer::output_dims(&conv).to_vec();
        let acc = b.push(conv);
        let (a, kk) = zoo::common_shift(&[0.01]).unwrap();
        let spec = gkrnet::circuit::RequantSpec::accumulator(
            acc,
            out_dims,
            gkrnet::circuit::Multiplier::Tensor(a[0]),
        );
        b.push(
            gkrnet::circuit::Requant::new(gkrnet::circuit::RequantSpec { k: kk, ..spec }).unwrap(),
        );
        let model: Model = b.finish("convT").unwrap();
        let input = zoo::random_input(&model, seed);
        let wit = model.forward(&input).unwrap();
        let (expect, odims) = naive_t(&input.data, dims, z as i64, f, g, op, &w, &bias);
        assert_eq!(wit.tensors[acc].dims, odims.to_vec(), "seed {seed}");
        assert_eq!(wit.tensors[acc].data, expect, "seed {seed} {g:?}");
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
        gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.proof)
            .unwrap_or_else(|e| panic!("seed {seed} {g:?} {dims:?}: {e}"));
    }
    assert!(tried > 40, "{tried}");
}

#[test]
fn pools() {
    for seed in 0..40u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(2000 + seed);
        let dims = vec![
            rng.gen_range(1..=2),
            rng.gen_range(1..=4),
            rng.gen_range(2..=9),
            rng.gen_range(2..=9),
        ];
        let k = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let g = ConvGeometry {
            kernel: k,
            stride: [rng.gen_range(1..=3), rng.gen_range(1..=3)],
            dilation: [1, 1],
            pads: [
                rng.gen_range(0..k[0]),
                rng.gen_range(0..k[1]),
                rng.gen_range(0..k[0]),
                rng.gen_range(0..k[1]),
            ],
            groups: 1,
        };
        let mut b = Builder::new(dims.clone());
        let Ok(y) = (if seed % 2 == 0 {
            b.max_pool(0, g)
        } else {
            b.avg_pool(0, (0.05, 3), (0.05, -2), g, seed % 4 == 1)
        }) else {
            continue;
        };
        let model: Model = b.finish("pool").unwrap();
        let input = zoo::random_input(&model, seed);
        let wit = model.forward(&input).unwrap();
        model.check(&wit).unwrap();
        let _ = y;
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
        gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.proof)
            .unwrap_or_else(|e| panic!("seed {seed} {g:?} {dims:?}: {e}"));
    }
}

#[test]
fn global_average_pooling_averages_each_plane() {
    let dims = vec![2, 3, 5, 7];
    let mut b = Builder::new(dims.clone());
    let y = b.global_avg_pool(0, (0.1, 4), (0.1, -3)).unwrap();
    let model: Model = b.finish("gap").unwrap();
    let input = zoo::random_input(&model, 5);
    let w = model.forward(&input).unwrap();
    assert_eq!(w.tensors[y].dims, vec![2, 3, 1, 1]);
    for (plane, &out) in input.data.chunks(35).zip(&w.tensors[y].data) {
        let mean = plane.iter().map(|&v| (v - 4) as f64).sum::<f64>() / 35.0;
        assert!((out as f64 - (mean - 3.0)).abs() <= 0.5 + 1e-9, "{out} vs {mean}");
    }
    let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
    assert_eq!(
        gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.proof).unwrap(),
        p.output
    );
}
