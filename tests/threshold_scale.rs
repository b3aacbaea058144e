//! The builder's choice of requantization gadget by table budget and cost
//! ([`gkrnet::circuit::zoo::Builder::requant_layer`]): a per-tensor threshold table stays within
//! `MAX_THRESHOLD_ROWS` (cut steps counted: a bug `threshold_completeness.rs` once found, now
//! fixed: wide layers keep whole steps, so their tables stay at 256 rows), and a per-channel
//! table over many channels is taken exactly where it costs fewer lookup leaves than the
//! arithmetic gadget, and matches the scalar reference there.
//!
//! `GKRNET_TEST_SEED` (an integer) shifts every seed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::model::prove_and_verify;
use common::rng;
use common::threshold::*;
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{Conv, ConvGeometry, ConvSpec, DenseSpec, Multiplier, Tensor, TensorId};
use rand::Rng;

// ---------------------------------------------------------------------------------------------
// 7. the builder's table budget

/// Dense [1, n] → 1 (weights 127) with a per-tensor threshold requantization: |acc| ≤ 16 256·n.
fn wide_requant(b: &mut Builder, n: usize) -> TensorId {
    b.dense(
        DenseSpec {
            input: 0,
            in_dims: b.dims(0),
            input_zero: 0,
            weights: vec![127; n],
            features: 1,
            bias: vec![0],
        },
        Rescale { m: &[1e-4], zero: 0, relu: false },
    )
    .expect("dense")
}

#[test]
fn builder_threshold_tables_respect_the_builders_row_budget() {
    let n = 15_000;
    let mut b = Builder::new(vec![1, n]);
    let y = wide_requant(&mut b, n);
    let model = b.finish("one-wide").expect("one layer builds");
    let l = model.layers[y - 1].as_ref();
    assert!(l.columns().contains(&"t1"), "the builder chose thresholds");
    let rows = l.table_lookup().unwrap().rows.len();
    assert!(
        rows <= zoo::MAX_THRESHOLD_ROWS,
        "a per-tensor builder layer's threshold table has {rows} rows, above the builder's \
         MAX_THRESHOLD_ROWS = {} (its estimate: 256)",
        zoo::MAX_THRESHOLD_ROWS
    );
    // nine such layers keep whole steps (pieces would need about 7 700 rows each)
    let mut b = Builder::new(vec![1, n]);
    for _ in 0..9 {
        wide_requant(&mut b, n);
    }
    b.finish("nine-wide").unwrap_or_else(|e| panic!("9 builder layers do not build: {e}"));
}

/// A per-channel convolution over 64 channels (one multiplier each, as a per-channel or a float
/// export gives): with 16×16 outputs a channel the builder takes the threshold table (some 260
/// rows a channel, far above `MAX_THRESHOLD_ROWS`, 3 lookups an element), which matches the
/// scalar reference on every element and proves; with one output a channel the table would
/// cost more leaves than the arithmetic gadget, which the builder keeps.
#[test]
fn per_channel_layers_over_many_channels_take_thresholds_where_they_cost_fewer_leaves() {
    let mut r = rng(77);
    for (hw, thresholds) in [(16usize, true), (1, false)] {
        let (c_in, f) = (4, 64);
        let geo = ConvGeometry::square(3, 1, 1);
        let weights: Vec<i8> = (0..f * c_in * 9).map(|_| r.gen_range(-128..=127)).collect();
        let bias: Vec<i32> = (0..f).map(|_| r.gen_range(-3000..=3000)).collect();
        let ms: Vec<f64> = (0..f).map(|c| 0.0004 * (1.0 + c as f64 * 0.05)).collect();
        let (z_in, z_out) = (r.gen_range(-128..=127), r.gen_range(-20..=20));
        let dims = vec![1, c_in, hw, hw];
        let spec = |weights, bias| ConvSpec {
            input: 0,
            in_dims: dims.clone(),
            input_zero: z_in,
            features: f,
            geometry: geo,
            output_padding: None,
            weights,
            bias,
        };
        let conv = Conv::new(spec(weights.clone(), bias.clone())).unwrap();
        let mut b = Builder::new(dims.clone());
        b.conv(spec(weights, bias), Rescale { m: &ms, zero: z_out, relu: false }).expect("conv");
        let model = b.finish("wide-per-channel").unwrap();
        let layer = model.layers[1].as_ref();
        assert_eq!(layer.columns().contains(&"t1"), thresholds, "{hw}×{hw}: {:?}", layer.columns());
        let input = zoo::random_input(&model, r.gen());
        if !thresholds {
            assert!(layer.range_checks().len() >= 10, "{}", layer.range_checks().len());
            prove_and_verify(&model, &input, "one element a channel");
            continue;
        }
        let rows = layer.table_lookup().unwrap().rows.len();
        assert!(rows > zoo::MAX_THRESHOLD_ROWS && rows >= 256 * f, "{rows} rows");
        assert_eq!(layer.range_checks().len(), 2, "single-limb comparisons (pieces)");
        let (a, shift) = zoo::common_shift(&ms).unwrap();
        let spec = Spec::input(
            1,
            Multiplier::Channel(a),
            conv.acc_bound(),
            vec![1, f, hw, hw],
            out(shift, z_out, -128, 127),
        );
        for input in [
            input,
            Tensor::new(dims.clone(), vec![127; c_in * hw * hw]).unwrap(),
            Tensor::new(dims.clone(), vec![-128; c_in * hw * hw]).unwrap(),
        ] {
            prove_and_check(&model, &input, &spec);
        }
    }
}
