//! Soundness of convolution and pooling proofs against cheating provers. Each test asserts the
//! exact [`VerifyError`] (or prover / mock-prover error) and prints it on failure. Covered:
//!
//! 1. A rearrangement that reads the wrong input positions: a lying conv layer that shows the
//!    verifier the honest geometry (same model digest) but computes and proves its accumulators
//!    with the top and bottom pads swapped, so every output reads rows shifted by two. With input
//!    zero point 0 the proof runs through to the im2col wiring check (`Layer { 0, "conv",
//!    EvalMismatch { "the im2col wiring of the convolution" } }`); with z ≠ 0 the padding mass
//!    differs too and the wiring sumcheck's final check fails first. The same wiring check
//!    rejects an honest proof whose wiring final evaluations [x, ω] are edited to [c·x, ω/c]
//!    (product kept); ω edited alone fails the sumcheck's final check. The kernel-point weights
//!    check likewise rejects [c·Wt, At/c]. Random convs and conv-transposes (groups, stride,
//!    dilation, batch) with the lying prover swapping top↔bottom and left↔right pads: rejected
//!    at the wiring check (z = 0) or the wiring sumcheck (z ≠ 0).
//! 2. A requantization input that is not the true accumulator (one entry +1, the requantization
//!    recomputed from it): `Model::check` names the conv, the cheating prover's conv sub-prover
//!    refuses (`ProveError::ClaimedSumMismatch`).
//! 3. A shifted padding value: a proof for the model with input zero point z verified against
//!    the same model with z + 1 (another digest, so other challenges: the range LogUp's sumcheck
//!    fails, `Lookup { "range", FinalEvalMismatch }`); a lying conv that pads with 0 instead of z
//!    behind the honest digest (the wiring sumcheck's padding mass: `Layer { 0, "conv",
//!    FinalEvalMismatch }`); and a witness whose accumulators are computed with padding 0 (built
//!    here): `Model::check` and the sub-prover refuse.
//! 4. A max that is not the maximum: y = a smaller window element with a one-hot selector on it
//!    and d_j = y − V_j recomputed (d of the true max is negative): the mock prover reports the
//!    range check, the verifier the range LogUp (`Lookup { "range", LookupImbalance }`).
//! 5. A max that is ≥ every element but none of them: y = max + 1 with every d_j ≥ 1, the selector
//!    on the true max (Σ s·d ≠ 0) or no selector at all (Σ s ≠ 1): `Layer { maxpool,
//!    FinalEvalMismatch }` from the zero-check.
//! 6. A tampered pooling sum: the average pool's output ± 1 re-proved by the cheating prover
//!    (`Layer { 1, "avgpool", FinalEvalMismatch }`); the window sum raised just enough to move the
//!    average by one, the requantization recomputed (`Model::check` names the sum conv, the
//!    sub-prover refuses with `ClaimedSumMismatch`); every field element of the all-ones sum
//!    conv's messages + 1 (`Layer { 0, "conv", FinalEvalMismatch }`) and its weight / wiring
//!    pairs rescaled (the kernel-point weights check / the wiring check).
//! 7. 10 000 seeded single-bit flips of an encoded CNN proof (conv, requant, max pool, average
//!    pool, flatten, dense; 6 000 of them outside the 65 536 range multiplicities that dominate
//!    the bytes), truncations and appended bytes: never accepted, never a panic (`catch_unwind`).
//! 8. Every field element of every message of that proof + 1, and the first, last and a random
//!    integer of every integer message ± 1, one at a time: each rejected by a protocol check.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]
mod common;

use common::errors::*;
use common::model::*;
use common::oracles::{naive_conv, ConvParams};
use common::{edit, random_int8_tensor};

use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    ClaimTarget, Conv, ConvGeometry, ConvSpec, DenseSpec, Layer, LayerSpec, LayerWitness, Model,
    ModelError, Multiplier, Reduction, Requant, RequantSpec, Tensor, TensorId, Witness,
};
use gkrnet::error::ProveError;
use gkrnet::field::Fp;
use gkrnet::gkr;
use gkrnet::proof::Proof;
use gkrnet::sumcheck::EvalClaim;
use gkrnet::transcript::{labels, FiatShamirProver, Label, ProverTranscript, VerifierTranscript};
use gkrnet::VerifyError;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

// ---------------------------------------------------------------------------------------------
// helpers

/// What the cheating prover says when it cannot phrase a proof of `w`.
fn cheat_refused(model: &Model, w: &Witness) -> ProveError {
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    match gkr::prove(
        model,
        &w.tensors[0],
        &gkr::ProveOptions::default().with_witness(w).unchecked(),
        &mut t,
    ) {
        Ok(_) => panic!("the cheating prover phrased a proof of a false virtual output"),
        Err(e) => e,
    }
}

const WIRING: &str = "the im2col wiring of the convolution";
const WEIGHTS: &str = "the convolution weights at the kernel point";

/// A seeded int8 input (the seed is not shifted by `GKRNET_TEST_SEED`).
fn random_input(dims: &[usize], seed: u64) -> Tensor {
    random_int8_tensor(&mut ChaCha20Rng::seed_from_u64(seed), dims)
}

fn random_weights(rng: &mut ChaCha20Rng, len: usize) -> Vec<i8> {
    (0..len).map(|_| rng.gen_range(-127..=127)).collect()
}

/// A conv layer that shows the verifier one convolution (its digest, its checks) but computes
/// and proves another: the prover of a wrong rearrangement or a wrong padding value.
#[derive(Debug)]
struct Liar {
    shown: Conv,
    used: Conv,
}

impl Layer for Liar {
    fn kind(&self) -> &'static str {
        self.shown.kind()
    }

    fn inputs(&self) -> &[TensorId] {
        self.shown.inputs()
    }

    fn output_dims(&self) -> &[usize] {
        self.shown.output_dims()
    }

    /// The honest layer's encoding, so the liar's model has the honest digest.
    fn spec(&self) -> LayerSpec {
        self.shown.spec()
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        self.used.forward(inputs)
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Liar {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        self.used.prove_output(claim, inputs, t)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        self.shown.verify_output(claim, t)
    }
}

/// conv (3 features, 3×3) + requantization on [1, 2, 5, 6]: the conv is layer 0.
struct ConvSetup {
    dims: [usize; 4],
    z: i32,
    g: ConvGeometry,
    w: Vec<i8>,
    bias: Vec<i32>,
    input: Tensor,
}

const F: usize = 3;

impl ConvSetup {
    fn new(z: i32, pads: [usize; 4]) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(40 + z.unsigned_abs() as u64);
        let dims = [1, 2, 5, 6];
        let g = ConvGeometry { pads, ..ConvGeometry::square(3, 1, 0) };
        let w = random_weights(&mut rng, F * 2 * 9);
        let bias = (0..F).map(|_| rng.gen_range(-3000..=3000)).collect();
        Self { dims, z, g, w, bias, input: random_input(&dims, 41) }
    }

    /// The true convolution, as the naive reference reads it.
    fn params(&self) -> ConvParams<'_> {
        ConvParams {
            dims: self.dims,
            z: self.z as i64,
            features: F,
            geometry: self.g,
            weights: &self.w,
            bias: &self.bias,
        }
    }

    fn conv(&self, z: i32, g: ConvGeometry, bias: Vec<i32>) -> Conv {
        Conv::new(ConvSpec {
            input: 0,
            in_dims: self.dims.to_vec(),
            input_zero: z,
            features: F,
            geometry: g,
            output_padding: None,
            weights: self.w.clone(),
            bias,
        })
        .expect("conv")
    }

    fn requant(&self, od: &[usize]) -> Requant {
        let (a, k) = zoo::common_shift(&[0.0007]).expect("shift");
        let spec = RequantSpec::accumulator(1, od.to_vec(), Multiplier::Tensor(a[0]));
        Requant::new(RequantSpec { k, zero: 4, ..spec }).expect("requant")
    }

    /// conv(z, pads) + requant.
    fn model(&self, z: i32) -> Model {
        let conv = self.conv(z, self.g, self.bias.clone());
        let rq = self.requant(conv.output_dims());
        Model::new("conv", self.dims.to_vec(), vec![Box::new(conv), Box::new(rq)]).expect("model")
    }

    /// The honest model's digest, with a conv that computes `used`.
    fn liar_model(&self, used: Conv) -> Model {
        let shown = self.conv(self.z, self.g, self.bias.clone());
        assert_eq!(shown.output_dims(), used.output_dims());
        let rq = self.requant(shown.output_dims());
        let model = Model::new(
            "conv",
            self.dims.to_vec(),
            vec![Box::new(Liar { shown, used }), Box::new(rq)],
        )
        .expect("model");
        assert_eq!(model.digest(), self.model(self.z).digest(), "the liar hides behind the digest");
        model
    }
}

// ---------------------------------------------------------------------------------------------
// 1. the rearrangement

#[test]
fn a_rearrangement_reading_the_wrong_rows_is_rejected() {
    for z in [0, -9] {
        // shown: pads top 2, bottom 0; used: top 0, bottom 2 (same output shape, rows shifted)
        let s = ConvSetup::new(z, [2, 1, 0, 1]);
        let shifted = ConvGeometry { pads: [0, 1, 2, 1], ..s.g };
        let liar = s.liar_model(s.conv(z, shifted, s.bias.clone()));
        let w = liar.forward(&s.input).expect("forward");
        let (shifted_acc, _) =
            naive_conv(&s.input.data, &ConvParams { geometry: shifted, ..s.params() }, z as i64);
        assert_eq!(w.tensors[1].data, shifted_acc, "the liar reads the shifted rows");
        let (true_acc, _) = naive_conv(&s.input.data, &s.params(), z as i64);
        assert_ne!(shifted_acc, true_acc);
        let proof = gkr::prove_bytes(&liar, &s.input, &gkr::ProveOptions::default())
            .expect("the liar proves its own computation")
            .proof;
        let e = rejected(&s.model(z), &s.input, &proof, "wrong rows");
        if z == 0 {
            // everything holds up to the wiring predicate the verifier computes itself
            assert!(is_layer_eval_mismatch(&e, 0, "conv", WIRING), "z = 0: {e:?}");
        } else {
            // the padding mass differs as well: the wiring sumcheck's claimed sum is off
            assert!(is_layer_final_mismatch(&e, 0, "conv"), "z = {z}: {e:?}");
        }
    }
}

/// Random convs and conv-transposes (groups, stride, dilation, batch) whose lying prover swaps
/// the pads top↔bottom and left↔right (same output shape, other input positions).
#[test]
fn random_wrong_rearrangements_are_rejected() {
    let mut tried = [0usize; 2];
    for seed in 0..40u64 {
        let mut rng = ChaCha20Rng::seed_from_u64(80 + seed);
        let transposed = seed % 2 == 1;
        let groups = rng.gen_range(1..=2);
        let (c, f) = (groups * rng.gen_range(1..=2), groups * rng.gen_range(1..=2));
        let dims = [rng.gen_range(1..=2), c, rng.gen_range(2..=6), rng.gen_range(2..=6)];
        let kernel = [rng.gen_range(1..=3), rng.gen_range(1..=3)];
        let pads = [0; 4].map(|_| rng.gen_range(0..=2));
        let g = ConvGeometry {
            kernel,
            stride: [rng.gen_range(1..=2), rng.gen_range(1..=2)],
            dilation: [rng.gen_range(1..=2), rng.gen_range(1..=2)],
            pads,
            groups,
        };
        let swapped = ConvGeometry { pads: [pads[2], pads[3], pads[0], pads[1]], ..g };
        let z = if seed % 4 < 2 { 0 } else { rng.gen_range(-128..=127) };
        let w = random_weights(&mut rng, c * f / groups * kernel[0] * kernel[1]);
        let bias: Vec<i32> = (0..f).map(|_| rng.gen_range(-1000..=1000)).collect();
        let make = |g: ConvGeometry| {
            if transposed {
                Conv::transposed(ConvSpec {
                    input: 0,
                    in_dims: dims.to_vec(),
                    input_zero: z,
                    features: f,
                    geometry: g,
                    output_padding: Some([0, 0]),
                    weights: w.clone(),
                    bias: bias.clone(),
                })
            } else {
                Conv::new(ConvSpec {
                    input: 0,
                    in_dims: dims.to_vec(),
                    input_zero: z,
                    features: f,
                    geometry: g,
                    output_padding: None,
                    weights: w.clone(),
                    bias: bias.clone(),
                })
            }
        };
        let (Ok(shown), Ok(used)) = (make(g), make(swapped)) else { continue };
        assert_eq!(shown.output_dims(), used.output_dims());
        let (a, k) = zoo::common_shift(&[0.003]).expect("shift");
        let spec =
            RequantSpec::accumulator(1, shown.output_dims().to_vec(), Multiplier::Tensor(a[0]));
        let rq = Requant::new(RequantSpec { k, ..spec }).expect("requant");
        let model =
            Model::new("conv", dims.to_vec(), vec![Box::new(shown.clone()), Box::new(rq.clone())])
                .expect("model");
        let liar =
            Model::new("conv", dims.to_vec(), vec![Box::new(Liar { shown, used }), Box::new(rq)])
                .expect("model");
        assert_eq!(model.digest(), liar.digest());
        let input = random_input(&dims, 90 + seed);
        let acc = |m: &Model| m.forward(&input).expect("forward").tensors[1].data.clone();
        if acc(&model) == acc(&liar) {
            continue; // the swap reads the same entries here
        }
        let proof = gkr::prove_bytes(&liar, &input, &gkr::ProveOptions::default())
            .expect("the liar proves its own computation")
            .proof;
        let kind = if transposed { "conv-transpose" } else { "conv" };
        let e = rejected(&model, &input, &proof, &format!("seed {seed}"));
        let wiring = is_layer_eval_mismatch(&e, 0, kind, WIRING);
        // with z ≠ 0 the padding mass usually differs and the wiring sumcheck fails first
        let ok = wiring || (z != 0 && is_layer_final_mismatch(&e, 0, kind));
        assert!(ok, "seed {seed} {g:?} z = {z}: {e:?}");
        tried[usize::from(transposed)] += 1;
    }
    assert!(tried.iter().all(|&t| t >= 8), "{tried:?}");
}

/// Index of the last message with this label.
fn last_index(proof: &Proof, label: Label) -> usize {
    proof.messages.iter().rposition(|m| m.label() == label).expect("a message with the label")
}

#[test]
fn edited_wiring_and_weight_evaluations_are_rejected() {
    let s = ConvSetup::new(-9, [2, 1, 0, 1]);
    let model = s.model(s.z);
    let proof = honest(&model, &s.input);
    let decoded = Proof::decode(&proof).expect("decodes");
    // the conv is layer 0, proved last: its wiring final evaluations [x, ω] end the proof, the
    // kernel sumcheck's [Wt, At] are the previous final evaluations
    let wiring = last_index(&decoded, labels::SUMCHECK_FINAL_EVALS);
    assert_eq!(wiring, decoded.messages.len() - 1);
    let kernel = decoded.messages[..wiring]
        .iter()
        .rposition(|m| m.label() == labels::SUMCHECK_FINAL_EVALS)
        .expect("the kernel sumcheck");
    let c = Fp::from(3u64);
    let rescale = |m: usize| {
        edit(&proof, |p| {
            let v = &mut p.messages[m].values;
            assert_eq!(v.len(), 2);
            v[0] *= c;
            v[1] /= c;
        })
    };
    // ω of another wiring with x adjusted so that x·ω still closes the sumcheck
    let e = rejected(&model, &s.input, &rescale(wiring), "[c·x, ω/c]");
    assert!(is_layer_eval_mismatch(&e, 0, "conv", WIRING), "{e:?}");
    let e = rejected(&model, &s.input, &rescale(kernel), "[c·Wt, At/c]");
    assert!(is_layer_eval_mismatch(&e, 0, "conv", WEIGHTS), "{e:?}");
    for (m, k) in [(wiring, 0), (wiring, 1), (kernel, 0), (kernel, 1)] {
        let bad = edit(&proof, |p| p.messages[m].values[k] += Fp::from(1u64));
        let e = rejected(&model, &s.input, &bad, "one evaluation + 1");
        assert!(is_layer_final_mismatch(&e, 0, "conv"), "message {m} [{k}]: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. a requantization input that is not the accumulator

#[test]
fn a_requant_input_other_than_the_accumulator_is_refused() {
    let s = ConvSetup::new(-9, [2, 1, 0, 1]);
    let model = s.model(s.z);
    let mut w = model.forward(&s.input).expect("forward");
    let j = 7;
    w.tensors[1].data[j] += 1;
    recompute_after(&model, &mut w, 0);
    let e = model.check(&w).expect_err("the mock prover recomputes the accumulator");
    assert_eq!((e.layer, e.kind, e.index), (0, "conv", j), "{e}");
    assert_eq!(e.what, "the virtual output differs from its inputs' product", "{e}");
    let e = cheat_refused(&model, &w);
    assert_eq!(e, ProveError::ClaimedSumMismatch, "{e}");
}

// ---------------------------------------------------------------------------------------------
// 3. the padding value

#[test]
fn a_shifted_padding_value_is_rejected() {
    let s = ConvSetup::new(-9, [2, 1, 0, 1]);
    let model = s.model(s.z);
    let proof = honest(&model, &s.input);

    // (a) verified against the same model with z + 1
    let shifted = s.model(s.z + 1);
    assert_ne!(model.digest(), shifted.digest());
    let e = rejected(&shifted, &s.input, &proof, "z + 1");
    assert!(is_lookup_final_mismatch(&e, "range"), "z + 1: {e:?}");

    // (b) a prover padding with 0 behind the honest digest: a conv with zero point 0 and the
    // bias moved by −z·Σw gives bias + Σ w·(x̄ − z) with x̄ = 0 in the padding
    let bias0: Vec<i32> =
        s.w.chunks(2 * 9)
            .zip(&s.bias)
            .map(|(row, &b)| b - s.z * row.iter().map(|&v| v as i32).sum::<i32>())
            .collect();
    let liar = s.liar_model(s.conv(0, s.g, bias0));
    let (zero_pad, _) = naive_conv(&s.input.data, &s.params(), 0);
    let lw = liar.forward(&s.input).expect("forward");
    assert_eq!(lw.tensors[1].data, zero_pad, "the liar pads with 0");
    let proof = gkr::prove_bytes(&liar, &s.input, &gkr::ProveOptions::default())
        .expect("the liar proves its own computation")
        .proof;
    let e = rejected(&model, &s.input, &proof, "padding 0");
    assert!(is_layer_final_mismatch(&e, 0, "conv"), "padding 0: {e:?}");

    // (c) the witness computed with padding 0, built here
    let mut w = model.forward(&s.input).expect("forward");
    let first =
        (0..zero_pad.len()).find(|&j| zero_pad[j] != w.tensors[1].data[j]).expect("differs");
    w.tensors[1].data = zero_pad;
    recompute_after(&model, &mut w, 0);
    let e = model.check(&w).expect_err("padding 0");
    assert_eq!((e.layer, e.kind, e.index), (0, "conv", first), "{e}");
    assert_eq!(e.what, "the virtual output differs from its inputs' product", "{e}");
    let e = cheat_refused(&model, &w);
    assert_eq!(e, ProveError::ClaimedSumMismatch, "{e}");
}

// ---------------------------------------------------------------------------------------------
// 4–5. max pooling

/// max_pool 2×2 stride 2 with padding on [1, 2, 5, 5]: layers 0–3 are the one-hot views, 4 the
/// MaxPool.
fn max_pool_setup() -> (Model, Tensor, Witness) {
    let dims = [1, 2, 5, 5];
    let mut b = Builder::new(dims.to_vec());
    let g = ConvGeometry { pads: [1, 0, 0, 1], ..ConvGeometry::square(2, 2, 0) };
    let y = b.max_pool(0, g).expect("max pool");
    assert_eq!(y, 5);
    let model = b.finish("maxpool").expect("model");
    assert_eq!(model.layers[4].kind(), "maxpool");
    let input = random_input(&dims, 50);
    let w = model.forward(&input).expect("forward");
    (model, input, w)
}

const POOL: usize = 4;
const TAPS: usize = 4;

/// Writes y, selectors and differences of entry j of the MaxPool layer.
fn write_max(model: &Model, w: &mut Witness, j: usize, y: i64, selected: Option<usize>) {
    for t in 0..TAPS {
        let v = w.tensors[t + 1].data[j];
        column_mut(model, w, POOL, column_id(model, POOL, &format!("s{t}")))[j] =
            i64::from(selected == Some(t));
        column_mut(model, w, POOL, column_id(model, POOL, &format!("d{t}")))[j] = y - v;
    }
    column_mut(model, w, POOL, column_id(model, POOL, "y"))[j] = y;
}

/// The window of entry j: the views' values.
fn window(w: &Witness, j: usize) -> Vec<i64> {
    (0..TAPS).map(|t| w.tensors[t + 1].data[j]).collect()
}

#[test]
fn a_max_that_is_not_the_maximum_is_rejected() {
    let (model, input, honest_w) = max_pool_setup();
    honest(&model, &input);
    // an entry whose window has a strictly smaller element
    let (j, small, top) = (0..honest_w.tensors[5].data.len())
        .find_map(|j| {
            let v = window(&honest_w, j);
            let max = *v.iter().max().expect("taps");
            let t = (0..TAPS).find(|&t| v[t] < max && v[t] > -128)?;
            Some((j, t, v.iter().position(|&x| x == max).expect("max")))
        })
        .expect("a window with two values");
    let mut w = honest_w.clone();
    let y = window(&w, j)[small];
    write_max(&model, &mut w, j, y, Some(small));
    assert!(y < window(&w, j)[top], "d{top} = y − max is negative");
    // every relation holds; only the range check of the true max's difference fails
    let e = model.check(&w).expect_err("negative difference");
    assert_eq!((e.layer, e.kind, e.index), (POOL, "maxpool", j), "{e}");
    assert_eq!(e.what, format!("16-bit range check {top}"), "{e}");
    let e = rejected(&model, &input, &cheat(&model, &w), "y = a smaller element");
    assert!(is_lookup_imbalance(&e, "range"), "{e:?}");
}

#[test]
fn a_max_above_every_element_but_none_of_them_is_rejected() {
    let (model, input, honest_w) = max_pool_setup();
    let j = (0..honest_w.tensors[5].data.len())
        .find(|&j| honest_w.tensors[5].data[j] < 127)
        .expect("an entry below 127");
    let v = window(&honest_w, j);
    let max = *v.iter().max().expect("taps");
    let top = v.iter().position(|&x| x == max).expect("max");
    let k = TAPS;
    // the selector on the true max (Σ s·d = 1), or no selector (Σ s = 0): every d ≥ 1, in range
    for (selected, relation) in [(Some(top), 2 * k + 1), (None, 2 * k)] {
        let mut w = honest_w.clone();
        write_max(&model, &mut w, j, max + 1, selected);
        let e = model.check(&w).expect_err("y = max + 1");
        assert_eq!((e.layer, e.kind, e.index), (POOL, "maxpool", j), "{e}");
        assert_eq!(e.what, format!("relation {relation}"), "{selected:?}: {e}");
        let e = rejected(&model, &input, &cheat(&model, &w), "y = max + 1");
        assert!(is_layer_final_mismatch(&e, POOL, "maxpool"), "{selected:?}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 6. average pooling

/// avg_pool 3×3 stride 2 pad 1 (in-bounds count) on [1, 2, 5, 5]: layer 0 is the all-ones sum
/// conv, layer 1 the requantization ("avgpool").
fn avg_pool_setup() -> (Model, Tensor) {
    let dims = [1, 2, 5, 5];
    let mut b = Builder::new(dims.to_vec());
    b.avg_pool(0, (0.05, 3), (0.04, -2), ConvGeometry::square(3, 2, 1), false).expect("avg");
    let model = b.finish("avgpool").expect("model");
    assert_eq!(model.layers.iter().map(|l| l.kind()).collect::<Vec<_>>(), ["conv", "avgpool"]);
    (model, random_input(&dims, 60))
}

#[test]
fn a_tampered_pooling_output_is_rejected() {
    let (model, input) = avg_pool_setup();
    let honest_w = model.forward(&input).expect("forward");
    for (j, delta) in [(0, 1), (5, -1), (17, 1)] {
        let mut w = honest_w.clone();
        w.tensors[2].data[j] += delta;
        let e = model.check(&w).expect_err("output ± 1");
        assert_eq!((e.layer, e.kind, e.index), (1, "avgpool", j), "{e}");
        // the builder's average pooling requantizes by thresholds: y with its row's thresholds
        // is no longer a row of the layer's table (the arithmetic gadget fails a relation)
        let thresholds = model.layers[1].columns().contains(&"t1");
        let expected = if thresholds { "table lookup" } else { "relation" };
        assert!(e.what.starts_with(expected), "{e}");
        let e = rejected(&model, &input, &cheat(&model, &w), "avg output ± 1");
        let table = is_lookup_imbalance(&e, "table");
        let ok = if thresholds { table } else { is_layer_final_mismatch(&e, 1, "avgpool") };
        assert!(ok, "{e:?}");
    }
}

#[test]
fn a_tampered_pooling_sum_is_refused() {
    let (model, input) = avg_pool_setup();
    let mut w = model.forward(&input).expect("forward");
    let j = 4;
    let before = w.tensors[2].data[j];
    // enough to move the average by one: 2^k/a ≈ count·s_out/s_in
    let mut delta = 0;
    while w.tensors[2].data[j] == before {
        delta += 1;
        w.tensors[1].data[j] += 1;
        recompute_after(&model, &mut w, 0);
    }
    assert!(delta > 0 && (w.tensors[2].data[j] - before).abs() == 1);
    let e = model.check(&w).expect_err("sum + δ");
    assert_eq!((e.layer, e.kind, e.index), (0, "conv", j), "{e}");
    let e = cheat_refused(&model, &w);
    assert_eq!(e, ProveError::ClaimedSumMismatch, "{e}");
}

#[test]
fn tampered_messages_of_the_pooling_sum_are_rejected() {
    let (model, input) = avg_pool_setup();
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    // the sum conv (layer 0) is proved last: every message after the requantization's
    // zero-check evaluations
    let first = last_index(&decoded, labels::GKR_ZC_EVALS) + 1;
    let conv_msgs = &decoded.messages[first..];
    let finals: Vec<usize> = (first..decoded.messages.len())
        .filter(|&m| decoded.messages[m].label() == labels::SUMCHECK_FINAL_EVALS)
        .collect();
    assert_eq!(finals.len(), 2, "kernel and wiring sumchecks");
    assert!(conv_msgs
        .iter()
        .all(|m| [labels::SUMCHECK_ROUND, labels::SUMCHECK_FINAL_EVALS].contains(&m.label())));
    let mut tried = 0;
    for m in first..decoded.messages.len() {
        for k in 0..decoded.messages[m].values.len() {
            let bad = edit(&proof, |p| p.messages[m].values[k] += Fp::from(1u64));
            let e = rejected(&model, &input, &bad, "sum conv message");
            assert!(is_layer_final_mismatch(&e, 0, "conv"), "message {m} [{k}]: {e:?}");
            tried += 1;
        }
    }
    assert!(tried >= 10, "{tried} field elements");
    for (m, what) in [(finals[0], WEIGHTS), (finals[1], WIRING)] {
        let bad = edit(&proof, |p| {
            p.messages[m].values[0] *= Fp::from(5u64);
            p.messages[m].values[1] /= Fp::from(5u64);
        });
        let e = rejected(&model, &input, &bad, what);
        assert!(is_layer_eval_mismatch(&e, 0, "conv", what), "{what}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// 7–8. bytes and messages of a small CNN proof

/// [1, 2, 6, 6] → conv 3@3×3 (asymmetric padding, z = −3) → requant ReLU → max pool 2×2 →
/// global average pool → flatten → dense 3 → requant.
fn small_cnn() -> (Model, Tensor) {
    let mut rng = ChaCha20Rng::seed_from_u64(70);
    let dims = [1, 2, 6, 6];
    let mut b = Builder::new(dims.to_vec());
    let g = ConvGeometry { pads: [1, 0, 1, 2], ..ConvGeometry::square(3, 1, 0) };
    let w = random_weights(&mut rng, 3 * 2 * 9);
    let bias = (0..3).map(|_| rng.gen_range(-2000..=2000)).collect();
    let x = b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: -3,
                features: 3,
                geometry: g,
                output_padding: None,
                weights: w,
                bias,
            },
            Rescale { m: &[0.002], zero: -128, relu: true },
        )
        .expect("conv");
    let x = b
        .max_pool(x, ConvGeometry { pads: [0, 1, 0, 1], ..ConvGeometry::square(2, 2, 0) })
        .expect("max pool");
    let [_, _, h, wd] = b.dims(x)[..] else { unreachable!() };
    let global = ConvGeometry { kernel: [h, wd], ..ConvGeometry::square(1, 1, 0) };
    let x = b.avg_pool(x, (0.05, -128), (0.03, -100), global, false).expect("avg pool");
    let x = b.flatten(x).expect("flatten");
    let w = random_weights(&mut rng, 3 * 3);
    b.dense(
        DenseSpec {
            input: x,
            in_dims: b.dims(x),
            input_zero: -100,
            weights: w,
            features: 3,
            bias: vec![10, 20, 30],
        },
        Rescale { m: &[0.01], zero: 0, relu: false },
    )
    .expect("dense");
    let model = b.finish("small-cnn").expect("model");
    let kinds: Vec<&str> = model.layers.iter().map(|l| l.kind()).collect();
    assert_eq!(
        kinds,
        [
            "conv", "requant", "conv", "conv", "conv", "conv", "maxpool", "conv", "avgpool",
            "reshape", "dense", "requant"
        ]
    );
    (model, random_input(&dims, 71))
}

#[test]
fn every_element_of_every_message_of_a_cnn_proof_tampered_is_rejected() {
    let (model, input) = small_cnn();
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).expect("decodes");
    let mut rng = ChaCha20Rng::seed_from_u64(72);
    let mut edits: Vec<(usize, usize, i64)> = Vec::new();
    for (m, msg) in decoded.messages.iter().enumerate() {
        match &msg.ints {
            // integers: the first, the last and a random one, ± 1
            Some(ints) => {
                let len = ints.len();
                edits.extend([(m, 0, 1), (m, len - 1, -1), (m, rng.gen_range(0..len), 1)]);
            }
            None => edits.extend((0..msg.values.len()).map(|k| (m, k, 0))),
        }
    }
    let fields = edits.iter().filter(|e| e.2 == 0).count();
    assert!(fields > 300, "{fields} field elements");
    let run = |part: &[(usize, usize, i64)]| {
        for &(m, k, delta) in part {
            let label = decoded.messages[m].label();
            let bad = edit(&proof, |p| match p.messages[m].ints.as_mut() {
                Some(ints) => ints[k] += delta,
                None => p.messages[m].values[k] += Fp::from(1u64),
            });
            let e = rejected(&model, &input, &bad, &format!("message {m} ({label}) [{k}]"));
            assert!(caught_in_place(label, &e), "message {m} ({label}) [{k}]: {e:?}");
        }
    };
    std::thread::scope(|scope| {
        for part in edits.chunks(edits.len().div_ceil(2)) {
            scope.spawn(|| run(part));
        }
    });
}

#[test]
fn flipped_truncated_and_extended_bytes_of_a_cnn_proof_are_rejected_without_panics() {
    let (model, input) = small_cnn();
    let proof = honest(&model, &input);
    let n = proof.len();
    let decoded = Proof::decode(&proof).expect("decodes");
    // byte range of the range multiplicities (65 536 varints dominate the proof)
    let frame = |m: &gkrnet::proof::Message| Proof { messages: vec![m.clone()] }.encode().len() - 6;
    let range = decoded
        .messages
        .iter()
        .position(|m| m.ints.as_ref().is_some_and(|v| v.len() == 1 << 16))
        .expect("range multiplicities");
    let before: usize = 6 + decoded.messages[..range].iter().map(frame).sum::<usize>();
    let range_end = before + frame(&decoded.messages[range]);
    let mut rng = ChaCha20Rng::seed_from_u64(73);
    // 10 000 distinct seeded (position, bit) flips: 4 000 uniform over the proof, 6 000 uniform
    // over the bytes outside the range multiplicities (header, frames, advice, every protocol
    // message)
    let outside: Vec<usize> = (0..n).filter(|&i| i < before + 8 || i >= range_end).collect();
    let mut flips = std::collections::BTreeSet::new();
    while flips.len() < 10_000 {
        let i = if flips.len() < 4_000 {
            rng.gen_range(0..n)
        } else {
            outside[rng.gen_range(0..outside.len())]
        };
        flips.insert((i, 1u8 << rng.gen_range(0..8)));
    }
    let flips: Vec<(usize, u8)> = flips.into_iter().collect();
    let check = |bytes: &[u8], what: String| never_accepted(&model, &input, bytes, &what);
    flips_never_accepted(&model, &input, &proof, &flips);
    for _ in 0..200 {
        let len = rng.gen_range(0..n);
        check(&proof[..len], format!("truncated to {len} bytes"));
    }
    for extra in [1, 8, 33] {
        let mut bytes = proof.clone();
        bytes.extend((0..extra).map(|_| rng.gen::<u8>()));
        let e = gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &bytes)
            .expect_err("appended bytes");
        assert_eq!(e, VerifyError::TrailingBytes { offset: n, remaining: extra }, "+{extra}");
    }
}
