//! Inputs that once crashed a fuzz target (`fuzz/regressions/<target>/`, see `fuzz/README.md`),
//! replayed through the same library calls, and one test per bug they found.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
// Invariant: every file under fuzz/regressions/ is refused (or accepted) without a panic.
//
// The crashes were arithmetic overflows, caught by the fuzz build's debug assertions; under
// `cargo test --release` they would wrap silently, so each also has a direct test that fails
// with a panic in a debug build (`cargo test`) if the fix is undone.

use gkrnet::circuit::conv::{Axis, Conv, ConvGeometry, ConvSpec};
use gkrnet::circuit::dense::{Dense, DenseSpec};
use gkrnet::circuit::{Model, ModelError, Multiplier, Requant, RequantKind, RequantSpec, Scaled};
use std::path::Path;

fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<_> = entries
        .map(|e| {
            let path = e.expect("a readable directory").path();
            let bytes = std::fs::read(&path).expect("a readable regression input");
            (path.display().to_string(), bytes)
        })
        .collect();
    files.sort();
    files
}

#[test]
fn model_regressions_are_refused_without_a_panic() {
    for (name, bytes) in regressions("model") {
        assert!(Model::decode(&bytes).is_err(), "{name} decodes");
    }
}

#[test]
fn commitment_regressions_are_refused_without_a_panic() {
    for (name, bytes) in regressions("commitment") {
        assert!(gkrnet::gkr::file::CommitmentFile::decode(&bytes).is_err(), "{name} decodes");
    }
}

/// `fuzz/regressions/model/dense-weight-count-overflow`: a `.gkrm` whose dense layer declares
/// 2^63 output features over 256 inputs; `n · k` overflowed in `Dense::new`.
#[test]
fn a_dense_layer_whose_weight_count_overflows_is_refused() {
    let dense = Dense::new(DenseSpec {
        input: 0,
        in_dims: vec![1, 256],
        input_zero: 0,
        weights: Vec::new(),
        features: 1 << 63,
        bias: Vec::new(),
    });
    assert!(matches!(dense, Err(ModelError::Shape(_))), "{dense:?}");
}

/// Found reading the code next to the one above: `Conv::transposed` (ONNX ConvTranspose)
/// multiplied channels, features and kernel sizes unchecked.
#[test]
fn a_transposed_conv_whose_weight_count_overflows_is_refused() {
    let geometry = ConvGeometry {
        kernel: [1 << 32, 1 << 32],
        stride: [1; 2],
        dilation: [1; 2],
        pads: [0; 4],
        groups: 1,
    };
    let conv = Conv::transposed(ConvSpec {
        input: 0,
        in_dims: vec![1, 1, 4, 4],
        input_zero: 0,
        features: 1,
        geometry,
        output_padding: Some([0, 0]),
        weights: Vec::new(),
        bias: vec![0],
    });
    assert!(matches!(conv, Err(ModelError::Shape(_))), "{conv:?}");
}

/// `fuzz/regressions/model/requant-offset-i128-min`: a requantization (or threshold) layer whose
/// constant offset is i128::MIN. `offset.abs()` overflowed; in a release build it wrapped to a
/// negative P_max that passed the 2^94 bound. Near i128::MAX, `|c| + max|offsets|` overflowed.
#[test]
fn a_requantization_offset_at_the_i128_limits_is_refused() {
    for offset in [i128::MIN, i128::MIN + 1, i128::MAX] {
        let scaled = vec![Scaled { tensor: 0, multiplier: Multiplier::Tensor(1), bound: 127 }];
        let rq = Requant::new(RequantSpec {
            kind: RequantKind::Requant,
            scaled,
            offset,
            offsets: vec![1],
            k: 8,
            zero: 0,
            lo: -128,
            hi: 127,
            dims: vec![1, 1],
        });
        assert!(matches!(rq, Err(ModelError::Parameter(_))), "offset {offset}: {rq:?}");
    }
}

/// `fuzz/regressions/model/conv-axis-overflow`: a `.gkrm` (transposed) convolution whose
/// geometry overflowed `Axis::out`; in a release build the output length wrapped to a value the
/// layer was built with.
#[test]
fn a_conv_geometry_whose_output_length_overflows_has_no_output() {
    let axis = Axis {
        len: usize::MAX / 2,
        k: 3,
        stride: 4,
        dil: 1,
        pad_lo: 0,
        pad_hi: 0,
        transposed: true,
        extra: 0,
    };
    assert_eq!(axis.out(), None);
    assert_eq!(Axis { transposed: false, pad_lo: usize::MAX, ..axis }.out(), None);
    assert_eq!(Axis { k: usize::MAX, dil: 2, ..axis }.out(), None);
    // an honest axis is unchanged: 28 + 2 − 5 + 1 = 26, and (4 − 1)·2 + 3 − 1 − 1 = 7
    let plain = Axis { len: 28, k: 5, stride: 1, pad_lo: 1, pad_hi: 1, transposed: false, ..axis };
    assert_eq!(plain.out(), Some(26));
    let up = Axis { len: 4, k: 3, stride: 2, pad_lo: 1, pad_hi: 1, ..axis };
    assert_eq!(up.out(), Some(7));
}
