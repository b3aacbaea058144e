//! Completeness of convolution and pooling proofs: every honest computation proves and verifies,
//! and the integer reference ([`Model::forward`]) equals an independent naive reference
//! (`common::oracles`), entry by entry. Covered:
//!
//! 1. ≥ 200 seeded random configurations (`random_conv_and_pool_configurations`): convolutions
//!    (stride 1–3, asymmetric padding, dilation 1–2, groups 1/2/3 and depthwise groups = C with a
//!    channel multiplier, 1×1 kernels, odd and one-element spatial sizes, batch 1–2, per-tensor
//!    and per-channel multipliers, fused ReLU), conv-transposes (output_padding, dilation,
//!    groups, cropping pads), max pooling (stride, padding, dilation, up to 16 taps), average
//!    pooling in both `count_include_pad` modes (stride, padding; z_in = 0 where
//!    `count_include_pad` meets padding, see 4) and global average pooling
//!    (kernel = the whole H×W). For each: the conv accumulators against a naive NCHW loop, the
//!    requantized output against `round_half_even(acc·a/2^k) + z` clamped with the (a, k) of
//!    `zoo::common_shift`, max pooling against the max over the in-bounds window elements,
//!    average pooling exactly against a reimplementation with the layer's own (a, k) and within
//!    ±1 of the float average; then `Model::check`, `gkr::prove` and `gkr::verify`, whose
//!    verified output must equal the reference output.
//! 2. The built-in `lenet5` and `cnn-cifar`: their exact layer kinds and shapes (output
//!    [1, 10]), one proof each, verified output = `forward` output.
//! 3. Edge cases: padding with a non-zero input zero point reads the zero point, not 0 (windows
//!    entirely in the padding give exactly the bias); kernels as large as the padded input (a
//!    1×1 output, with and without dilation); strides larger than the kernel (conv, max and
//!    average pooling); one-element tensors ([1, 1, 1, 1] input); a chain conv → max pool →
//!    conv-transpose → average pool → flatten → dense with batch 2 and one accumulator
//!    requantized twice (two claims merged on a virtual conv output), each stage against the
//!    reference.
//! 4. `count_include_pad_padding_is_real_zero`: with `count_include_pad` and a non-zero input
//!    zero point, a padded tap contributes the real value 0 (this found a bug, now fixed, where
//!    it contributed −z_in).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use common::model::prove_and_verify;
use common::oracles::{
    naive_avg_pool, naive_conv, naive_conv_transpose, naive_max_pool, naive_requant, AvgSpec,
    ConvParams,
};
use common::random_int8_tensor;
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    Conv, ConvGeometry, ConvSpec, DenseSpec, Layer, Model, Multiplier, Requant, RequantSpec,
    Tensor, TensorId,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

// ---------------------------------------------------------------------------------------------
// running a case

fn random_weights(rng: &mut ChaCha20Rng, len: usize) -> Vec<i8> {
    let max = [1, 5, 127][rng.gen_range(0..3)];
    (0..len).map(|_| rng.gen_range(-max..=max)).collect()
}

/// The layer of a [`conv_case`]: a conv on an input of `dims` with zero point `z`, or a
/// conv-transpose with output padding `transpose`; the case draws its weights and bias.
#[derive(Clone, Copy, Debug)]
struct ConvCase {
    dims: [usize; 4],
    z: i32,
    features: usize,
    geometry: ConvGeometry,
    transpose: Option<[usize; 2]>,
}

impl ConvCase {
    fn conv(dims: [usize; 4], z: i32, features: usize, geometry: ConvGeometry) -> Self {
        Self { dims, z, features, geometry, transpose: None }
    }

    fn transposed(self, output_padding: [usize; 2]) -> Self {
        Self { transpose: Some(output_padding), ..self }
    }
}

/// A conv (or conv-transpose) + requantization; checks accumulators and output.
fn conv_case(rng: &mut ChaCha20Rng, case: ConvCase, what: &str) -> bool {
    let ConvCase { dims, z, features: f, geometry: g, transpose } = case;
    let c = dims[1];
    let taps = c / g.groups * g.kernel[0] * g.kernel[1];
    let w = random_weights(rng, f * taps);
    let bias: Vec<i32> = (0..f).map(|_| rng.gen_range(-5000..=5000)).collect();
    let conv = match transpose {
        None => Conv::new(ConvSpec {
            input: 0,
            in_dims: dims.to_vec(),
            input_zero: z,
            features: f,
            geometry: g,
            output_padding: None,
            weights: w.clone(),
            bias: bias.clone(),
        }),
        Some(op) => Conv::transposed(ConvSpec {
            input: 0,
            in_dims: dims.to_vec(),
            input_zero: z,
            features: f,
            geometry: g,
            output_padding: Some(op),
            weights: w.clone(),
            bias: bias.clone(),
        }),
    };
    let Ok(conv) = conv else { return false };
    let od: [usize; 4] = conv.output_dims().try_into().expect("NCHW");
    let mut b = Builder::new(dims.to_vec());
    let acc = b.push(conv);
    let scale = 127.0 / (3.0 * (taps as f64).sqrt() * 60.0 * 73.0);
    let ms: Vec<f64> = if rng.gen_bool(0.5) {
        vec![scale * rng.gen_range(0.3..3.0)]
    } else {
        (0..f).map(|_| scale * rng.gen_range(0.3..3.0)).collect()
    };
    let (a, k) = zoo::common_shift(&ms).expect("multipliers");
    let z_out = rng.gen_range(-128..=127);
    let relu = rng.gen_bool(0.5);
    let lo = if relu { z_out } else { -128 };
    let mult = if a.len() == 1 { Multiplier::Tensor(a[0]) } else { Multiplier::Channel(a.clone()) };
    let spec = RequantSpec::accumulator(acc, od.to_vec(), mult);
    b.push(Requant::new(RequantSpec { k, zero: z_out, lo, ..spec }).expect("requant"));
    let model = b.finish(what).expect("model");
    let input = random_int8_tensor(rng, &dims);
    let params =
        ConvParams { dims, z: z as i64, features: f, geometry: g, weights: &w, bias: &bias };
    let (expect, edims) = match transpose {
        None => naive_conv(&input.data, &params, z as i64),
        Some(op) => naive_conv_transpose(&input.data, &params, op),
    };
    assert_eq!(od, edims, "{what}: output dimensions");
    let tensors = prove_and_verify(&model, &input, what).tensors;
    assert_eq!(tensors[acc].data, expect, "{what}: accumulators");
    let y = naive_requant(&expect, od, &a, k, z_out as i64, lo as i64);
    assert_eq!(tensors[acc + 1].data, y, "{what}: requantized output");
    true
}

fn max_pool_case(rng: &mut ChaCha20Rng, dims: [usize; 4], g: ConvGeometry, what: &str) -> bool {
    let mut b = Builder::new(dims.to_vec());
    let Ok(y) = b.max_pool(0, g) else { return false };
    let model = b.finish(what).expect("model");
    assert_eq!(model.layers.len(), g.kernel[0] * g.kernel[1] + 1, "{what}: a view per tap");
    assert_eq!(model.layers[y - 1].kind(), "maxpool");
    let input = random_int8_tensor(rng, &dims);
    let (expect, od) = naive_max_pool(&input.data, dims, &g);
    let tensors = prove_and_verify(&model, &input, what).tensors;
    assert_eq!(tensors[y].dims, od.to_vec(), "{what}: output dimensions");
    assert_eq!(tensors[y].data, expect, "{what}: max pooling");
    true
}

fn avg_pool_case(
    rng: &mut ChaCha20Rng,
    dims: [usize; 4],
    g: ConvGeometry,
    spec: AvgSpec,
    what: &str,
) -> bool {
    let mut b = Builder::new(dims.to_vec());
    let Ok(y) = b.avg_pool(
        0,
        (spec.s_in, spec.z_in as i32),
        (spec.s_out, spec.z_out as i32),
        g,
        spec.count_include_pad,
    ) else {
        return false;
    };
    let model = b.finish(what).expect("model");
    assert_eq!(
        model.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(),
        ["conv", "avgpool"],
        "{what}: an all-ones sum and its requantization"
    );
    let input = random_int8_tensor(rng, &dims);
    let (expect, od) = naive_avg_pool(&input.data, dims, &g, spec);
    let tensors = prove_and_verify(&model, &input, what).tensors;
    // the window sum: an all-ones depthwise conv with padding value 0
    let c = dims[1];
    let ones = vec![1i8; c * g.kernel[0] * g.kernel[1]];
    let sum_geo = ConvGeometry { groups: c, ..g };
    let sum_params = ConvParams {
        dims,
        z: 0,
        features: c,
        geometry: sum_geo,
        weights: &ones,
        bias: &vec![0; c],
    };
    let (sum, _) = naive_conv(&input.data, &sum_params, 0);
    assert_eq!(tensors[1].data, sum, "{what}: window sums");
    assert_eq!(tensors[y].dims, od.to_vec(), "{what}: output dimensions");
    assert_eq!(tensors[y].data, expect, "{what}: average pooling");
    true
}

fn random_geometry(
    rng: &mut ChaCha20Rng,
    kmax: usize,
    padmax: usize,
    groups: usize,
) -> ConvGeometry {
    let dil_on = rng.gen_bool(0.35);
    ConvGeometry {
        kernel: [rng.gen_range(1..=kmax), rng.gen_range(1..=kmax)],
        stride: [rng.gen_range(1..=3), rng.gen_range(1..=3)],
        dilation: if dil_on { [rng.gen_range(1..=2), rng.gen_range(1..=2)] } else { [1, 1] },
        pads: [0; 4].map(|_| rng.gen_range(0..=padmax)),
        groups,
    }
}

fn random_spatial(rng: &mut ChaCha20Rng) -> usize {
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 11][rng.gen_range(0..10)]
}

/// Pads below the kernel (each window keeps an in-bounds element).
fn pool_pads(rng: &mut ChaCha20Rng, g: &mut ConvGeometry) {
    let [kh, kw] = g.kernel;
    g.pads =
        [rng.gen_range(0..kh), rng.gen_range(0..kw), rng.gen_range(0..kh), rng.gen_range(0..kw)];
}

#[test]
fn random_conv_and_pool_configurations() {
    // per kind: tried (valid geometry) cases
    let mut done = [0usize; 6];
    let names = ["conv", "depthwise conv", "conv-transpose", "max pool", "avg pool", "global avg"];
    for seed in 0..300u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(0xc0de_0000 + seed);
        let kind = (seed % 6) as usize;
        let n = rng.gen_range(1..=2);
        let (h, w) = (random_spatial(&mut rng), random_spatial(&mut rng));
        let what = format!("seed {seed} ({})", names[kind]);
        let ok = match kind {
            0 => {
                let groups = [1, 1, 2, 3][rng.gen_range(0..4)];
                let c = groups * rng.gen_range(1..=3);
                let f = groups * rng.gen_range(1..=3);
                let g = random_geometry(&mut rng, 3, 2, groups);
                let z = rng.gen_range(-128..=127);
                conv_case(&mut rng, ConvCase::conv([n, c, h, w], z, f, g), &format!("{what} {g:?}"))
            }
            1 => {
                let c = rng.gen_range(1..=5);
                let f = c * rng.gen_range(1..=2);
                let g = random_geometry(&mut rng, 5, 3, c);
                let z = rng.gen_range(-128..=127);
                conv_case(&mut rng, ConvCase::conv([n, c, h, w], z, f, g), &format!("{what} {g:?}"))
            }
            2 => {
                let groups = [1, 1, 2, 3][rng.gen_range(0..4)];
                let c = groups * rng.gen_range(1..=2);
                let f = groups * rng.gen_range(1..=2);
                let (h, w) = (rng.gen_range(1..=5), rng.gen_range(1..=5));
                let mut g = random_geometry(&mut rng, 3, 1, groups);
                g.pads = [0; 4].map(|_| rng.gen_range(0..=2));
                let op = [
                    rng.gen_range(0..g.stride[0].max(g.dilation[0])),
                    rng.gen_range(0..g.stride[1].max(g.dilation[1])),
                ];
                let z = rng.gen_range(-128..=127);
                let what = format!("{what} {g:?} output_padding {op:?}");
                conv_case(&mut rng, ConvCase::conv([n, c, h, w], z, f, g).transposed(op), &what)
            }
            3 => {
                let c = rng.gen_range(1..=4);
                let mut g = random_geometry(&mut rng, 4, 0, 1);
                if g.kernel[0] * g.kernel[1] > 16 {
                    g.kernel[1] = 16 / g.kernel[0];
                }
                pool_pads(&mut rng, &mut g);
                max_pool_case(&mut rng, [n, c, h, w], g, &format!("{what} {g:?}"))
            }
            4 => {
                let c = rng.gen_range(1..=4);
                let mut g = random_geometry(&mut rng, 3, 0, 1);
                pool_pads(&mut rng, &mut g);
                let count_include_pad = rng.gen_bool(0.5);
                let s_in = rng.gen_range(0.01..0.1);
                let z_in = rng.gen_range(-128..=127);
                let spec = AvgSpec {
                    s_in,
                    z_in,
                    s_out: s_in * rng.gen_range(0.3..2.0),
                    z_out: rng.gen_range(-128..=127),
                    count_include_pad,
                };
                avg_pool_case(&mut rng, [n, c, h, w], g, spec, &format!("{what} {g:?} {spec:?}"))
            }
            _ => {
                let c = rng.gen_range(1..=4);
                let g = ConvGeometry {
                    kernel: [h, w],
                    stride: [1, 1],
                    dilation: [1, 1],
                    pads: [0; 4],
                    groups: 1,
                };
                let s_in = rng.gen_range(0.01..0.1);
                let spec = AvgSpec {
                    s_in,
                    z_in: rng.gen_range(-128..=127),
                    s_out: s_in * rng.gen_range(0.3..2.0),
                    z_out: rng.gen_range(-128..=127),
                    count_include_pad: rng.gen_bool(0.5),
                };
                let dims = [n, c, h, w];
                let what = format!("{what} {dims:?} {spec:?}");
                let ok = avg_pool_case(&mut rng, dims, g, spec, &what);
                assert!(ok, "{what}: global average pooling always has a geometry");
                ok
            }
        };
        done[kind] += usize::from(ok);
    }
    let total: usize = done.iter().sum();
    assert!(total >= 200, "only {total} valid configurations: {done:?}");
    assert!(done.iter().all(|&d| d >= 25), "every kind is exercised: {done:?}");
}

// ---------------------------------------------------------------------------------------------
// built-in models

fn kinds(model: &Model) -> Vec<&'static str> {
    model.layers.iter().map(|l| l.kind()).collect()
}

fn shapes(model: &Model) -> Vec<Vec<usize>> {
    model.layers.iter().map(|l| l.output_dims().to_vec()).collect()
}

#[test]
fn lenet5_proves_and_verifies() {
    let model = zoo::lenet5();
    assert_eq!(model.input_dims, [1, 1, 28, 28]);
    assert_eq!(
        kinds(&model),
        [
            "conv", "requant", "conv", "avgpool", "conv", "requant", "conv", "avgpool", "reshape",
            "dense", "requant", "dense", "requant", "dense", "requant"
        ]
    );
    let s = |v: &[usize]| v.to_vec();
    assert_eq!(
        shapes(&model),
        [
            s(&[1, 6, 28, 28]),
            s(&[1, 6, 28, 28]),
            s(&[1, 6, 14, 14]),
            s(&[1, 6, 14, 14]),
            s(&[1, 16, 10, 10]),
            s(&[1, 16, 10, 10]),
            s(&[1, 16, 5, 5]),
            s(&[1, 16, 5, 5]),
            s(&[1, 400]),
            s(&[1, 120]),
            s(&[1, 120]),
            s(&[1, 84]),
            s(&[1, 84]),
            s(&[1, 10]),
            s(&[1, 10]),
        ]
    );
    assert_eq!(model.output_dims(), [1, 10]);
    let input = zoo::random_input(&model, 28);
    let tensors = prove_and_verify(&model, &input, "lenet5").tensors;
    // the first average pool against the reference (ReLU output, zero point −128, count = 4)
    let spec =
        AvgSpec { s_in: 0.05, z_in: -128, s_out: 0.05, z_out: -128, count_include_pad: false };
    let (pool, _) =
        naive_avg_pool(&tensors[2].data, [1, 6, 28, 28], &ConvGeometry::square(2, 2, 0), spec);
    assert_eq!(tensors[4].data, pool, "lenet5: first average pool");
}

#[test]
fn cnn_cifar_proves_and_verifies() {
    let model = zoo::cnn_cifar();
    assert_eq!(model.input_dims, [1, 3, 32, 32]);
    let mut expect_kinds = vec!["conv", "requant", "conv", "requant"];
    expect_kinds.extend(["conv"; 4]);
    expect_kinds.extend(["maxpool", "conv", "requant", "conv", "requant"]);
    expect_kinds.extend(["conv"; 4]);
    expect_kinds.extend(["maxpool", "reshape", "dense", "requant", "dense", "requant"]);
    assert_eq!(kinds(&model), expect_kinds);
    let mut expect_shapes = vec![vec![1, 32, 32, 32]; 4];
    expect_shapes.extend(vec![vec![1, 32, 16, 16]; 5]);
    expect_shapes.extend(vec![vec![1, 64, 16, 16]; 4]);
    expect_shapes.extend(vec![vec![1, 64, 8, 8]; 5]);
    expect_shapes.extend([vec![1, 4096], vec![1, 48], vec![1, 48], vec![1, 10], vec![1, 10]]);
    assert_eq!(shapes(&model), expect_shapes);
    assert_eq!(model.output_dims(), [1, 10]);
    let input = zoo::random_input(&model, 32);
    let tensors = prove_and_verify(&model, &input, "cnn-cifar").tensors;
    // both max pools against the reference
    let (pool, _) =
        naive_max_pool(&tensors[4].data, [1, 32, 32, 32], &ConvGeometry::square(2, 2, 0));
    assert_eq!(tensors[9].data, pool, "cnn-cifar: first max pool");
    let (pool, _) =
        naive_max_pool(&tensors[13].data, [1, 64, 16, 16], &ConvGeometry::square(2, 2, 0));
    assert_eq!(tensors[18].data, pool, "cnn-cifar: second max pool");
}

// ---------------------------------------------------------------------------------------------
// edge cases

/// A model of one conv followed by a requantization; returns (model, conv output tensor).
fn conv_model(
    dims: [usize; 4],
    z: i32,
    f: usize,
    g: ConvGeometry,
    w: &[i8],
    bias: &[i32],
) -> (Model, TensorId) {
    let mut b = Builder::new(dims.to_vec());
    let y = b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: z,
                features: f,
                geometry: g,
                output_padding: None,
                weights: w.to_vec(),
                bias: bias.to_vec(),
            },
            Rescale { m: &[0.003], zero: 5, relu: false },
        )
        .expect("conv");
    (b.finish("conv").expect("model"), y - 1)
}

#[test]
fn padding_reads_the_input_zero_point() {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    // pads beyond the kernel: whole windows in the padding (rows 0–1 and the last row/column)
    let dims = [2, 3, 4, 5];
    for (z, g) in [
        (77, ConvGeometry { pads: [3, 1, 2, 3], ..ConvGeometry::square(2, 1, 0) }),
        (-128, ConvGeometry { pads: [1, 2, 0, 1], ..ConvGeometry::square(3, 2, 0) }),
        (
            127,
            ConvGeometry { pads: [2, 2, 2, 2], dilation: [2, 1], ..ConvGeometry::square(3, 1, 0) },
        ),
    ] {
        let f = 4;
        let w = random_weights(&mut rng, f * 3 * g.kernel[0] * g.kernel[1]);
        let w: Vec<i8> = w.iter().map(|&v| if v == 0 { 3 } else { v }).collect();
        let bias: Vec<i32> = (0..f).map(|_| rng.gen_range(-5000..=5000)).collect();
        let (model, acc) = conv_model(dims, z, f, g, &w, &bias);
        let input = random_int8_tensor(&mut rng, &dims);
        let tensors = prove_and_verify(&model, &input, &format!("z = {z} {g:?}")).tensors;
        let params =
            ConvParams { dims, z: z as i64, features: f, geometry: g, weights: &w, bias: &bias };
        let (expect, od) = naive_conv(&input.data, &params, z as i64);
        assert_eq!(tensors[acc].dims, od.to_vec());
        assert_eq!(tensors[acc].data, expect, "z = {z}: padding reads z");
        // padding read as 0 would give other accumulators
        let (zero_pad, _) = naive_conv(&input.data, &params, 0);
        assert_ne!(tensors[acc].data, zero_pad, "z = {z}: the test tells the paddings apart");
        // a window entirely in the padding is exactly the bias
        if g.pads[0] > g.dilation[0] * (g.kernel[0] - 1) {
            let [n, _, oh, ow] = od;
            for b in 0..n {
                for (ff, &bf) in bias.iter().enumerate() {
                    let row = &tensors[acc].data[((b * f + ff) * oh) * ow..][..ow];
                    assert!(
                        row.iter().all(|&v| v == bf as i64),
                        "z = {z}: the top row is the bias"
                    );
                }
            }
        }
    }
}

#[test]
fn kernels_as_large_as_the_padded_input() {
    let mut rng = ChaCha20Rng::seed_from_u64(8);
    let dims = [1, 2, 3, 4];
    for g in [
        // padded input 5×6, kernel 5×6
        ConvGeometry { kernel: [5, 6], pads: [1, 0, 1, 2], ..ConvGeometry::square(1, 1, 0) },
        // dilated span 5×7 over the padded 5×7
        ConvGeometry {
            kernel: [3, 4],
            dilation: [2, 2],
            pads: [2, 1, 0, 2],
            ..ConvGeometry::square(1, 1, 0)
        },
        // depthwise, stride 2 (one output anyway)
        ConvGeometry { kernel: [3, 4], groups: 2, ..ConvGeometry::square(1, 2, 0) },
    ] {
        let f = 2;
        let w = random_weights(&mut rng, f * 2 / g.groups * g.kernel[0] * g.kernel[1]);
        let bias = vec![100, -100];
        let z = -3;
        let (model, acc) = conv_model(dims, z, f, g, &w, &bias);
        assert_eq!(model.layers[acc - 1].output_dims(), [1, 2, 1, 1], "{g:?}");
        let input = random_int8_tensor(&mut rng, &dims);
        let tensors = prove_and_verify(&model, &input, &format!("{g:?}")).tensors;
        let params =
            ConvParams { dims, z: z as i64, features: f, geometry: g, weights: &w, bias: &bias };
        let (expect, _) = naive_conv(&input.data, &params, z as i64);
        assert_eq!(tensors[acc].data, expect, "{g:?}");
    }
    // a kernel one larger than the padded input leaves no output
    let g = ConvGeometry { kernel: [6, 4], ..ConvGeometry::square(1, 1, 0) };
    let mut b = Builder::new(dims.to_vec());
    assert!(b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                features: 1,
                geometry: g,
                output_padding: None,
                weights: vec![1; 2 * 24],
                bias: vec![0]
            },
            Rescale { m: &[0.01], zero: 0, relu: false }
        )
        .is_err());
    // max and average pooling over the whole padded input
    let g = ConvGeometry { kernel: [4, 4], pads: [1, 0, 0, 0], ..ConvGeometry::square(1, 1, 0) };
    assert!(max_pool_case(&mut rng, dims, g, "max pool over the padded input"));
    let spec = AvgSpec { s_in: 0.02, z_in: 9, s_out: 0.01, z_out: -4, count_include_pad: false };
    assert!(avg_pool_case(&mut rng, dims, g, spec, "avg pool over the padded input"));
}

#[test]
fn strides_larger_than_the_kernel() {
    let mut rng = ChaCha20Rng::seed_from_u64(9);
    let dims = [2, 2, 8, 7];
    for (i, g) in [
        ConvGeometry { stride: [3, 3], ..ConvGeometry::square(1, 1, 0) },
        ConvGeometry { stride: [3, 2], pads: [1, 0, 0, 1], ..ConvGeometry::square(2, 1, 0) },
        ConvGeometry { stride: [4, 3], dilation: [2, 1], ..ConvGeometry::square(2, 1, 0) },
    ]
    .into_iter()
    .enumerate()
    {
        let z = [0, 12, -100][i];
        assert!(conv_case(&mut rng, ConvCase::conv(dims, z, 3, g), &format!("conv {g:?}")));
        // inputs the stride skips do not matter
        assert!(max_pool_case(&mut rng, dims, ConvGeometry { pads: [0; 4], ..g }, "max pool"));
        let spec =
            AvgSpec { s_in: 0.03, z_in: z as i64, s_out: 0.02, z_out: 1, count_include_pad: false };
        assert!(avg_pool_case(&mut rng, dims, ConvGeometry { pads: [0; 4], ..g }, spec, "avg"));
    }
    // conv-transpose with a stride above the kernel: gaps hold the bias
    let g = ConvGeometry { stride: [3, 3], ..ConvGeometry::square(2, 1, 0) };
    let case = ConvCase::conv([1, 2, 3, 3], 4, 2, g).transposed([2, 1]);
    assert!(conv_case(&mut rng, case, "conv-transpose stride 3"));
}

#[test]
fn one_element_tensors() {
    let mut rng = ChaCha20Rng::seed_from_u64(10);
    let dims = [1, 1, 1, 1];
    let conv = |z, f, g| ConvCase::conv(dims, z, f, g);
    assert!(conv_case(&mut rng, conv(3, 1, ConvGeometry::square(1, 1, 0)), "1×1 conv"));
    assert!(conv_case(&mut rng, conv(-7, 2, ConvGeometry::square(3, 1, 1)), "3×3 pad 1"));
    let transposed = conv(0, 1, ConvGeometry::square(2, 2, 0)).transposed([1, 1]);
    assert!(conv_case(&mut rng, transposed, "convT"));
    assert!(max_pool_case(&mut rng, dims, ConvGeometry::square(1, 1, 0), "1-tap max pool"));
    assert!(max_pool_case(&mut rng, [1, 3, 2, 1], ConvGeometry::square(1, 1, 0), "1-tap, C = 3"));
    let spec = AvgSpec { s_in: 0.05, z_in: -20, s_out: 0.05, z_out: 30, count_include_pad: true };
    assert!(avg_pool_case(&mut rng, dims, ConvGeometry::square(1, 1, 0), spec, "global 1×1"));
}

/// conv → requant ×2 (one accumulator, two claims merged) → add → max pool → conv-transpose →
/// requant → average pool → flatten → dense, batch 2; every stage against the reference.
#[test]
fn a_chain_of_every_cnn_layer() {
    let mut rng = ChaCha20Rng::seed_from_u64(11);
    let dims = [2, 3, 9, 8];
    let mut b = Builder::new(dims.to_vec());
    let g1 = ConvGeometry { pads: [1, 0, 2, 1], ..ConvGeometry::square(3, 1, 0) };
    let w1 = random_weights(&mut rng, 4 * 3 * 9);
    let bias1: Vec<i32> = (0..4).map(|_| rng.gen_range(-2000..=2000)).collect();
    let (z0, z1) = (-5, -128);
    let y1 = b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: z0,
                features: 4,
                geometry: g1,
                output_padding: None,
                weights: w1.clone(),
                bias: bias1.clone(),
            },
            Rescale { m: &[0.002, 0.003, 0.001, 0.004], zero: z1, relu: true },
        )
        .expect("conv");
    let acc1 = y1 - 1;
    let (a2, k2) = zoo::common_shift(&[0.0015]).expect("shift");
    let spec = RequantSpec::accumulator(acc1, b.dims(acc1), Multiplier::Tensor(a2[0]));
    let second = Requant::new(RequantSpec { k: k2, zero: 3, ..spec }).expect("requant");
    let y2 = b.push(second);
    let (sum, _, z_sum) = zoo::add(&mut b, (y1, 0.05, z1), (y2, 0.04, 3)).expect("add");
    let pool = b
        .max_pool(sum, ConvGeometry { pads: [0, 1, 1, 0], ..ConvGeometry::square(2, 2, 0) })
        .expect("max pool");
    let pdims: [usize; 4] = b.dims(pool).try_into().expect("NCHW");
    let gt = ConvGeometry { pads: [1, 0, 0, 1], groups: 2, ..ConvGeometry::square(3, 2, 0) };
    let wt = random_weights(&mut rng, 4 * 9);
    let convt = Conv::transposed(ConvSpec {
        input: pool,
        in_dims: pdims.to_vec(),
        input_zero: z_sum,
        features: 2,
        geometry: gt,
        output_padding: Some([1, 0]),
        weights: wt.clone(),
        bias: vec![7, -7],
    })
    .expect("conv-transpose");
    let tdims: [usize; 4] = convt.output_dims().try_into().expect("NCHW");
    let acct = b.push(convt);
    let (at, kt) = zoo::common_shift(&[0.01]).expect("shift");
    let spec = RequantSpec::accumulator(acct, tdims.to_vec(), Multiplier::Tensor(at[0]));
    let yt = b.push(Requant::new(RequantSpec { k: kt, zero: -2, ..spec }).expect("requant"));
    let ga = ConvGeometry { pads: [1, 1, 0, 0], ..ConvGeometry::square(2, 2, 0) };
    let spec = AvgSpec { s_in: 0.04, z_in: -2, s_out: 0.03, z_out: 6, count_include_pad: false };
    let avg = b.avg_pool(yt, (spec.s_in, -2), (spec.s_out, 6), ga, false).expect("avg pool");
    let flat = b.flatten(avg).expect("flatten");
    let len = b.dims(flat)[1];
    let wd = random_weights(&mut rng, len * 5);
    b.dense(
        DenseSpec {
            input: flat,
            in_dims: b.dims(flat),
            input_zero: 6,
            weights: wd,
            features: 5,
            bias: vec![0; 5],
        },
        Rescale { m: &[0.01], zero: 0, relu: false },
    )
    .expect("dense");
    let model = b.finish("chain").expect("model");
    let input = random_int8_tensor(&mut rng, &dims);
    let t = prove_and_verify(&model, &input, "chain").tensors;

    let conv1 =
        ConvParams { dims, z: z0 as i64, features: 4, geometry: g1, weights: &w1, bias: &bias1 };
    let (acc, _) = naive_conv(&input.data, &conv1, z0 as i64);
    assert_eq!(t[acc1].data, acc, "chain: conv");
    let (pool_ref, _) = naive_max_pool(
        &t[sum].data,
        t[sum].dims.clone().try_into().expect("NCHW"),
        &ConvGeometry { pads: [0, 1, 1, 0], ..ConvGeometry::square(2, 2, 0) },
    );
    assert_eq!(t[pool].data, pool_ref, "chain: max pool");
    let convt = ConvParams {
        dims: pdims,
        z: z_sum as i64,
        features: 2,
        geometry: gt,
        weights: &wt,
        bias: &[7, -7],
    };
    let (acct_ref, _) = naive_conv_transpose(&t[pool].data, &convt, [1, 0]);
    assert_eq!(t[acct].data, acct_ref, "chain: conv-transpose");
    let (avg_ref, _) = naive_avg_pool(&t[yt].data, tdims, &ga, spec);
    assert_eq!(t[avg].data, avg_ref, "chain: average pool");
}

/// ONNX AveragePool (and onnxruntime's QLinearAveragePool) with `count_include_pad` counts the
/// padded taps in the divisor but pads with the real value 0, i.e. the quantized zero point: a
/// padded tap adds x − z_in = 0 to the sum.
#[test]
fn count_include_pad_padding_is_real_zero() {
    let dims = [1, 1, 2, 2];
    let g = ConvGeometry::square(3, 1, 1);
    // all four entries equal the zero point: every real value is 0, so is every average
    let spec = AvgSpec { s_in: 0.1, z_in: 50, s_out: 0.1, z_out: 0, count_include_pad: true };
    let mut b = Builder::new(dims.to_vec());
    let y = b.avg_pool(0, (0.1, 50), (0.1, 0), g, true).expect("avg pool");
    let model = b.finish("avg").expect("model");
    let input = Tensor::new(dims.to_vec(), vec![50; 4]).expect("input");
    let (expect, _) = naive_avg_pool(&input.data, dims, &g, spec);
    assert_eq!(expect, [0, 0, 0, 0]);
    let w = model.forward(&input).expect("forward");
    // today: each window has 5 padded taps → −50·5/9 ≈ −28
    assert_eq!(w.tensors[y].data, expect, "the average of real zeros is the zero point");
}
