//! Quick seeded checks of convolutions, conv-transposes and pooling: the integer reference
//! against the naive references of `common::oracles`, then the mock prover, a proof and its
//! verification.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::oracles::{naive_conv, naive_conv_transpose, ConvParams};
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{ConvGeometry, ConvSpec, Model};
use gkrnet::gkr;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

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
        let params =
            ConvParams { dims, z: z as i64, features: f, geometry: g, weights: &w, bias: &bias };
        let (expect, odims) = naive_conv(&input.data, &params, z as i64);
        assert_eq!(wit.tensors[y - 1].dims, odims.to_vec(), "seed {seed}");
        assert_eq!(wit.tensors[y - 1].data, expect, "seed {seed} {g:?}");
        model.check(&wit).unwrap();
        let p = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
        gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.proof)
            .unwrap_or_else(|e| panic!("seed {seed} {g:?} {dims:?}: {e}"));
    }
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
        let params =
            ConvParams { dims, z: z as i64, features: f, geometry: g, weights: &w, bias: &bias };
        let (expect, odims) = naive_conv_transpose(&input.data, &params, op);
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
