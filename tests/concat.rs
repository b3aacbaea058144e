//! Concat (ONNX Concat along one axis, a virtual output proved by part sums and one wiring
//! sumcheck per input):
//! * forward equals a naive reference for ranks 2 and 4, every axis, 2 and 3 inputs;
//! * the layer's sub-protocol is complete on those shapes (claims on each input are true);
//! * models with Concat between other layers prove and verify, also with one tensor appearing
//!   several times among the inputs (committed, virtual — merged — and the model input);
//! * soundness: altered part sums (one, or two with the same total, by editing the proof and by an
//!   adaptive cheating prover), a wrong output, a false virtual output, byte flips;
//! * the `.gkrm` round trip keeps the digest and the proofs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

mod common;

use ark_ff::UniformRand;
use common::model::{cheat, flips_never_accepted, honest, never_accepted, recompute_after};
use common::{edit, random_i8, random_int8_tensor, random_vec, rng};
use gkrnet::circuit::concat::PART_SUMS;
use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    ClaimTarget, Concat, ConcatSpec, ConvGeometry, ConvSpec, DenseSpec, Layer, LayerSpec, Layout,
    Model, Reduction, Tensor, Wiring,
};
use gkrnet::field::Fp;
use gkrnet::gkr;
use gkrnet::poly::eq_evals;
use gkrnet::proof::Proof;
use gkrnet::sumcheck::{self, prover::ProductSum, EvalClaim};
use gkrnet::transcript::{
    label_tag, labels, Event, FiatShamirProver, FiatShamirVerifier, Recording,
};
use gkrnet::VerifyError;
use rand::Rng;
use rand_chacha::ChaCha20Rng;

const PROTOCOL: &str = "concat test";

/// numpy.concatenate, entry by entry: unravel each output index, find its input along the axis.
fn naive_concat(xs: &[Tensor], axis: usize) -> Tensor {
    let rank = xs[0].dims.len();
    let mut dims = xs[0].dims.clone();
    dims[axis] = xs.iter().map(|x| x.dims[axis]).sum();
    let len: usize = dims.iter().product();
    let mut data = Vec::with_capacity(len);
    for i in 0..len {
        let mut idx = vec![0; rank];
        let mut rest = i;
        for a in (0..rank).rev() {
            idx[a] = rest % dims[a];
            rest /= dims[a];
        }
        let mut k = 0;
        while idx[axis] >= xs[k].dims[axis] {
            idx[axis] -= xs[k].dims[axis];
            k += 1;
        }
        let j = idx.iter().zip(&xs[k].dims).fold(0, |acc, (&v, &d)| acc * d + v);
        data.push(xs[k].data[j]);
    }
    Tensor::new(dims, data).unwrap()
}

/// Shapes: ranks 2 and 4 (non-power-of-two dimensions), every axis, 2 and 3 inputs whose axis
/// lengths differ (1 included: an axis without variables).
fn cases() -> Vec<(Vec<Vec<usize>>, usize)> {
    let lengths = [3, 1, 5, 2, 7];
    let mut out = Vec::new();
    for base in [vec![3, 5], vec![2, 3, 1, 5], vec![1, 3, 6, 5]] {
        for axis in 0..base.len() {
            for k in [2, 3] {
                let dims = (0..k)
                    .map(|i| {
                        let mut d = base.clone();
                        d[axis] = lengths[(i + axis) % lengths.len()];
                        d
                    })
                    .collect();
                out.push((dims, axis));
            }
        }
    }
    out
}

#[test]
fn forward_matches_numpy_concatenate() {
    let mut rng = rng(1);
    for (dims, axis) in cases() {
        let c = Concat::new((0..dims.len()).collect(), dims.clone(), axis).unwrap();
        let xs: Vec<Tensor> = dims.iter().map(|d| random_int8_tensor(&mut rng, d)).collect();
        let refs: Vec<&Tensor> = xs.iter().collect();
        let out = c.forward(&refs).unwrap();
        let expect = naive_concat(&xs, axis);
        assert_eq!(c.output_dims(), expect.dims.as_slice(), "{dims:?} axis {axis}");
        assert_eq!(out.output, expect, "{dims:?} axis {axis}");
        assert!(out.advice.is_empty());
        assert!(c.reduction().is_some(), "a virtual output");
        assert_eq!(c.kind(), "concat");
    }
    // the wrong number or shape of tensors is an error, not a panic
    let c = Concat::new(vec![0, 1], vec![vec![2, 3], vec![2, 4]], 1).unwrap();
    let a = random_int8_tensor(&mut rng, &[2, 3]);
    let b = random_int8_tensor(&mut rng, &[2, 3]);
    assert!(c.forward(&[&a, &b]).is_err());
    assert!(c.forward(&[&a]).is_err());
}

#[test]
fn constructor_rejects_inconsistent_shapes() {
    let err = |inputs: Vec<usize>, dims: Vec<Vec<usize>>, axis| {
        Concat::new(inputs, dims, axis).unwrap_err().to_string()
    };
    assert!(err(vec![0], vec![vec![2, 3]], 0).contains("at least 2"));
    assert!(err(vec![0, 1], vec![vec![2, 3], vec![2, 3], vec![2, 3]], 0).contains("lists"));
    assert!(err(vec![0, 1], vec![vec![2, 3], vec![2, 3]], 2).contains("axis 2"));
    assert!(err(vec![0, 1], vec![vec![2, 3], vec![2, 3, 1]], 0).contains("rank"));
    assert!(err(vec![0, 1, 2], vec![vec![2, 3], vec![4, 3], vec![4, 2]], 0).contains("input 2"));
    assert!(err(vec![0, 1], vec![vec![2, 3], vec![2, 0]], 1).contains("empty"));
    // through the encoding as well: decoding builds through the constructor
    let bad = ConcatSpec { inputs: vec![0, 0], in_dims: vec![vec![2, 3], vec![3, 3]], axis: 1 };
    let bad = LayerSpec::Op(Box::new(bad));
    assert!(bad.build().is_err());
}

/// Claims on inputs, by input index.
type InputClaims = Vec<(ClaimTarget, EvalClaim)>;

/// A claim on the output, the honest proof of the layer alone, and the verifier's claims.
fn layer_round_trip(
    c: &Concat,
    xs: &[Tensor],
    claim: &EvalClaim,
) -> (InputClaims, Result<InputClaims, VerifyError>) {
    let refs: Vec<&Tensor> = xs.iter().collect();
    let mut p = FiatShamirProver::new(PROTOCOL);
    let proved = c.prove_output(claim, &refs, &mut p).unwrap();
    let bytes = p.into_proof().encode();
    let mut v = FiatShamirVerifier::new(PROTOCOL, &bytes).unwrap();
    let verified = c.verify_output(claim, &mut v).and_then(|cl| v.finish().map(|_| cl));
    (proved, verified)
}

#[test]
fn layer_protocol_reduces_a_true_claim_to_true_input_claims() {
    let mut rng = rng(2);
    for (dims, axis) in cases() {
        let c = Concat::new((0..dims.len()).collect(), dims.clone(), axis).unwrap();
        let xs: Vec<Tensor> = dims.iter().map(|d| random_int8_tensor(&mut rng, d)).collect();
        let out = naive_concat(&xs, axis);
        let r = random_vec(&mut rng, out.layout().num_vars());
        let claim = EvalClaim { value: out.evaluate(&r), point: r };
        let (proved, verified) = layer_round_trip(&c, &xs, &claim);
        let verified = verified.unwrap_or_else(|e| panic!("{dims:?} axis {axis}: {e}"));
        assert_eq!(proved, verified);
        assert_eq!(
            verified.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            (0..dims.len()).map(ClaimTarget::Input).collect::<Vec<_>>()
        );
        for (k, (_, cl)) in verified.iter().enumerate() {
            assert_eq!(xs[k].evaluate(&cl.point), cl.value, "{dims:?} axis {axis} input {k}");
        }
        // a false claim on the output: the honest prover refuses to phrase it
        let refs: Vec<&Tensor> = xs.iter().collect();
        let false_claim = EvalClaim { value: claim.value + Fp::from(1u64), ..claim.clone() };
        let mut p = FiatShamirProver::new(PROTOCOL);
        assert!(c.prove_output(&false_claim, &refs, &mut p).is_err());
    }
}

/// How the cheating prover backs its altered parts.
#[derive(Clone, Copy, PartialEq)]
enum Forge {
    /// the true tables: each sumcheck runs on a false sum
    Nothing,
    /// a wiring table w'_k edited at one entry so that Σ ĩn_k·w'_k is the altered part: every
    /// sumcheck is true, only the verifier's own w̃_k(ρ_k) tells
    Wiring,
}

/// A cheating prover of the layer alone: it sends the parts v_k + delta_k, then runs each
/// sumcheck for its (possibly false) part, adapting to every challenge.
fn cheating_layer_proof(
    c: &Concat,
    xs: &[Tensor],
    claim: &EvalClaim,
    delta: &[Fp],
    forge: Forge,
) -> Vec<u8> {
    // where each input entry lands: concatenate tagged entries
    let tagged: Vec<Tensor> = xs
        .iter()
        .enumerate()
        .map(|(k, x)| {
            Tensor::new(
                x.dims.clone(),
                (0..x.data.len() as i64).map(|j| (k as i64) << 32 | j).collect(),
            )
            .unwrap()
        })
        .collect();
    let refs: Vec<&Tensor> = tagged.iter().collect();
    let placed = c.forward(&refs).unwrap().output;
    let out_layout = Layout::new(c.output_dims());
    let er = eq_evals(&claim.point);
    let mut tables = Vec::new();
    let mut parts = Vec::new();
    for (k, x) in xs.iter().enumerate() {
        let layout = x.layout();
        let mut w = vec![Fp::default(); layout.padded_len()];
        for (i, &tag) in placed.data.iter().enumerate() {
            if tag >> 32 == k as i64 {
                w[layout.pad_index((tag & 0xffff_ffff) as usize)] = er[out_layout.pad_index(i)];
            }
        }
        let xp = layout.pad_fp(&x.data);
        parts.push(xp.iter().zip(&w).map(|(a, b)| *a * b).sum::<Fp>() + delta[k]);
        if forge == Forge::Wiring {
            let j = xp.iter().position(|v| *v != Fp::default()).expect("a nonzero entry");
            w[j] += delta[k] / xp[j];
        }
        tables.push((xp, w));
    }
    let mut t = FiatShamirProver::new(PROTOCOL);
    gkrnet::transcript::ProverTranscript::send(&mut t, PART_SUMS, &parts);
    for ((xp, w), v) in tables.into_iter().zip(&parts) {
        let poly = ProductSum::product(vec![xp, w]).unwrap();
        let (out, _) = sumcheck::prover::prove_unchecked(poly, *v, &mut t);
        sumcheck::send_final_evals(&mut t, &out.final_evals);
    }
    t.into_proof().encode()
}

fn verify_layer(c: &Concat, claim: &EvalClaim, bytes: &[u8]) -> Result<(), VerifyError> {
    let mut v = FiatShamirVerifier::new(PROTOCOL, bytes)?;
    c.verify_output(claim, &mut v)?;
    v.finish()
}

#[test]
fn altered_parts_are_rejected_by_the_sum_or_by_their_sumcheck() {
    let mut rng = rng(3);
    for (dims, axis) in cases() {
        let k = dims.len();
        let c = Concat::new((0..k).collect(), dims.clone(), axis).unwrap();
        let xs: Vec<Tensor> = dims.iter().map(|d| random_int8_tensor(&mut rng, d)).collect();
        let out = naive_concat(&xs, axis);
        let r = random_vec(&mut rng, out.layout().num_vars());
        let claim = EvalClaim { value: out.evaluate(&r), point: r };
        let zero = vec![Fp::default(); k];
        verify_layer(&c, &claim, &cheating_layer_proof(&c, &xs, &claim, &zero, Forge::Nothing))
            .expect("the cheating prover's harness is honest without a shift");
        let delta = Fp::rand(&mut rng);
        for j in 0..k {
            // one part altered: the parts no longer sum to the claim
            let mut d = zero.clone();
            d[j] = delta;
            let e = verify_layer(
                &c,
                &claim,
                &cheating_layer_proof(&c, &xs, &claim, &d, Forge::Nothing),
            )
            .unwrap_err();
            assert!(
                matches!(e, VerifyError::EvalMismatch { what, .. } if what.contains("parts")),
                "{e}"
            );
            // mass moved from part j to part j + 1: the sum holds, part j's sumcheck fails
            let mut d = zero.clone();
            d[j] = delta;
            d[(j + 1) % k] = -delta;
            let e = verify_layer(
                &c,
                &claim,
                &cheating_layer_proof(&c, &xs, &claim, &d, Forge::Nothing),
            )
            .unwrap_err();
            assert!(matches!(e, VerifyError::FinalEvalMismatch { .. }), "{dims:?} {axis} {j}: {e}");
            // the same shift backed by a forged wiring table: the predicate check rejects it
            let proof = cheating_layer_proof(&c, &xs, &claim, &d, Forge::Wiring);
            let e = verify_layer(&c, &claim, &proof).unwrap_err();
            assert!(
                matches!(e, VerifyError::EvalMismatch { what, .. } if what.contains("wiring")),
                "{dims:?} {axis} {j}: {e}"
            );
        }
    }
}

/// Two dense + requant branches of one input (5 and 6 features, one output quantization),
/// concatenated on the feature axis, then a dense + requant. Returns the concat layer's index.
fn branches_model(seed: u64) -> (Model, usize) {
    let mut rng = rng(seed);
    let mut b = Builder::new(vec![2, 6]);
    let m = |n: usize| 127.0 / (3.0 * (n as f64).sqrt() * 73.0 * 73.0);
    let bias =
        |rng: &mut ChaCha20Rng, k: usize| (0..k).map(|_| rng.gen_range(-3000..=3000)).collect();
    let (wa, wb) = (random_i8(&mut rng, 6 * 5), random_i8(&mut rng, 6 * 6));
    let (ba, bb) = (bias(&mut rng, 5), bias(&mut rng, 6));
    let ya = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: wa,
                features: 5,
                bias: ba,
            },
            Rescale { m: &[m(6)], zero: -3, relu: true },
        )
        .unwrap();
    let yb = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: wb,
                features: 6,
                bias: bb,
            },
            Rescale { m: &[m(6)], zero: -3, relu: false },
        )
        .unwrap();
    let cat = b.push(Concat::new(vec![ya, yb], vec![b.dims(ya), b.dims(yb)], 1).unwrap());
    let (w2, b2) = (random_i8(&mut rng, 11 * 4), bias(&mut rng, 4));
    b.dense(
        DenseSpec {
            input: cat,
            in_dims: b.dims(cat),
            input_zero: -3,
            weights: w2,
            features: 4,
            bias: b2,
        },
        Rescale { m: &[m(11)], zero: 0, relu: false },
    )
    .unwrap();
    (b.finish("concat-branches").unwrap(), cat - 1)
}

/// One tensor several times among the inputs: a committed requant output (twice), a virtual
/// transpose round trip (twice: two claims merged), and the model input, on axis 1; then the same
/// concatenated along axis 0 with a 3-input concat. Returns the concat layers' indices.
fn repeated_inputs_model() -> (Model, Vec<usize>) {
    let mut rng = rng(40);
    let mut b = Builder::new(vec![2, 5]);
    let ya = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: random_i8(&mut rng, 25),
                features: 5,
                bias: vec![10; 5],
            },
            Rescale { m: &[0.002], zero: 0, relu: false },
        )
        .unwrap();
    let t = b.push(Wiring::transpose(ya, &[2, 5], vec![1, 0]).unwrap());
    let back = b.push(Wiring::transpose(t, &[5, 2], vec![1, 0]).unwrap());
    let ins = vec![ya, back, 0, back, ya];
    let dims = ins.iter().map(|&x| b.dims(x)).collect();
    let wide = b.push(Concat::new(ins, dims, 1).unwrap());
    let tall = b.push(Concat::new(vec![ya, 0, ya], vec![vec![2, 5]; 3], 0).unwrap());
    let flat = b.push(Wiring::reshape(tall, &[6, 5], vec![2, 15]).unwrap());
    let both = b.push(Concat::new(vec![wide, flat], vec![vec![2, 25], vec![2, 15]], 1).unwrap());
    b.dense(
        DenseSpec {
            input: both,
            in_dims: b.dims(both),
            input_zero: 0,
            weights: random_i8(&mut rng, 40 * 3),
            features: 3,
            bias: vec![0; 3],
        },
        Rescale { m: &[0.0005], zero: 0, relu: false },
    )
    .unwrap();
    (b.finish("concat-repeated").unwrap(), vec![wide - 1, tall - 1, both - 1])
}

/// NCHW: two conv branches concatenated on channels, the result concatenated with itself on
/// the width, flatten, dense.
fn conv_model() -> (Model, Vec<usize>) {
    let mut rng = rng(50);
    let mut b = Builder::new(vec![1, 2, 5, 5]);
    let g = ConvGeometry::square(3, 1, 1);
    let m = 127.0 / (3.0 * 18f64.sqrt() * 73.0 * 73.0);
    let c1 = b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                features: 3,
                geometry: g,
                output_padding: None,
                weights: random_i8(&mut rng, 3 * 18),
                bias: vec![5; 3],
            },
            Rescale { m: &[m], zero: -128, relu: true },
        )
        .unwrap();
    let c2 = b
        .conv(
            ConvSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                features: 2,
                geometry: g,
                output_padding: None,
                weights: random_i8(&mut rng, 2 * 18),
                bias: vec![-5; 2],
            },
            Rescale { m: &[m], zero: -128, relu: true },
        )
        .unwrap();
    let ch = b.push(Concat::new(vec![c1, c2], vec![b.dims(c1), b.dims(c2)], 1).unwrap());
    let wide = b.push(Concat::new(vec![ch, ch], vec![vec![1, 5, 5, 5]; 2], 3).unwrap());
    let flat = b.flatten(wide).unwrap();
    b.dense(
        DenseSpec {
            input: flat,
            in_dims: b.dims(flat),
            input_zero: -128,
            weights: random_i8(&mut rng, 250 * 4),
            features: 4,
            bias: vec![0; 4],
        },
        Rescale { m: &[0.0003], zero: 0, relu: false },
    )
    .unwrap();
    (b.finish("concat-conv").unwrap(), vec![ch - 1, wide - 1])
}

fn part_sum_messages(proof: &[u8]) -> usize {
    let p = Proof::decode(proof).unwrap();
    p.messages.iter().filter(|m| m.tag == label_tag(PART_SUMS)).count()
}

#[test]
fn models_with_concat_prove_and_verify() {
    for seed in 0..16 {
        let (model, cat) = branches_model(seed);
        assert_eq!(model.layers[cat].kind(), "concat");
        assert_eq!(model.layers[cat].output_dims(), [2, 11]);
        let input = zoo::random_input(&model, seed);
        let w = model.forward(&input).unwrap();
        model.check(&w).unwrap();
        let xs =
            [&w.tensors[model.layers[cat].inputs()[0]], &w.tensors[model.layers[cat].inputs()[1]]];
        assert_eq!(w.tensors[cat + 1], naive_concat(&[xs[0].clone(), xs[1].clone()], 1));
        let proof = honest(&model, &input);
        assert_eq!(part_sum_messages(&proof), 1);
    }
    for (model, cats) in [repeated_inputs_model(), conv_model()] {
        for seed in 0..4 {
            let input = zoo::random_input(&model, seed);
            let w = model.forward(&input).unwrap();
            model.check(&w).unwrap();
            let proof = honest(&model, &input);
            assert_eq!(part_sum_messages(&proof), cats.len(), "{}", model.name);
        }
    }
    // the virtual tensors that appear twice are merged (back in the wide concat; the channel
    // concat in the width concat), each once
    for (model, merges) in [(repeated_inputs_model().0, 1), (conv_model().0, 1)] {
        let input = zoo::random_input(&model, 0);
        let w = model.forward(&input).unwrap();
        let mut t = Recording::new(FiatShamirProver::new(gkr::PROTOCOL));
        gkr::prove(&model, &w.tensors[0], &gkr::ProveOptions::default().with_witness(&w), &mut t)
            .unwrap();
        let drawn = t
            .events
            .iter()
            .filter(|e| matches!(e, Event::Challenge(l) if *l == labels::MERGE_GAMMA))
            .count();
        assert_eq!(drawn, merges, "{}", model.name);
    }
}

/// The proof with the part sums of the first concat message edited.
fn edit_parts(proof: &[u8], f: impl FnOnce(&mut Vec<Fp>)) -> Vec<u8> {
    edit(proof, |p| {
        let m = p.messages.iter_mut().find(|m| m.tag == label_tag(PART_SUMS)).unwrap();
        f(&mut m.values);
    })
}

fn at_layer(e: VerifyError, layer: usize) -> VerifyError {
    match e {
        VerifyError::Layer { layer: l, kind, source } => {
            assert_eq!((l, kind), (layer, "concat"), "{source}");
            *source
        }
        e => panic!("expected an error at the concat layer {layer}, got {e}"),
    }
}

#[test]
fn tampered_part_sums_are_rejected_at_the_concat_layer() {
    let (model, cat) = branches_model(7);
    let input = zoo::random_input(&model, 7);
    let proof = honest(&model, &input);
    let one = Fp::from(1u64);
    for k in 0..2 {
        let bad = edit_parts(&proof, |v| v[k] += one);
        let e = at_layer(
            gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &bad).unwrap_err(),
            cat,
        );
        assert!(
            matches!(e, VerifyError::EvalMismatch { what, .. } if what.contains("parts")),
            "{e}"
        );
    }
    // the same total: only the sub-sumchecks can tell
    for delta in [one, Fp::from(12345u64), -one] {
        let bad = edit_parts(&proof, |v| {
            v[0] += delta;
            v[1] -= delta;
        });
        let e = at_layer(
            gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &bad).unwrap_err(),
            cat,
        );
        assert!(matches!(e, VerifyError::FinalEvalMismatch { .. }), "{e}");
    }
    // a part too many or too few
    let longer = edit_parts(&proof, |v| v.push(one));
    assert!(gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &longer).is_err());
    let shorter = edit_parts(&proof, |v| {
        v.pop();
    });
    assert!(gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &shorter).is_err());
    // every field message of the concat's sub-proofs matters (and everything else too)
    let decoded = Proof::decode(&proof).unwrap();
    for j in 0..decoded.messages.len() {
        if decoded.messages[j].values.is_empty() {
            continue;
        }
        let mut p = decoded.clone();
        p.messages[j].values[0] += one;
        assert!(
            gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.encode()).is_err(),
            "message {j}"
        );
    }
}

#[test]
fn a_wrong_output_or_a_false_concat_is_rejected() {
    let (model, cat) = branches_model(8);
    let input = zoo::random_input(&model, 8);
    let honest_w = model.forward(&input).unwrap();
    // one output value changed, proved by the cheating prover
    let mut w = honest_w.clone();
    let out = &mut w.tensors.last_mut().unwrap().data;
    out[3] = if out[3] == 127 { 126 } else { out[3] + 1 };
    let e = common::model::rejected(&model, &input, &cheat(&model, &w), "a changed output");
    assert!(!matches!(e, VerifyError::InvalidStatement { .. }), "{e}");
    // the concat's (virtual) output changed and everything after recomputed from it: its
    // claim no longer splits into the inputs' parts, which no prover can phrase
    for j in [0, 5, 21] {
        let mut w = honest_w.clone();
        let v = &mut w.tensors[cat + 1].data[j];
        *v = if *v == 127 { -128 } else { *v + 1 };
        recompute_after(&model, &mut w, cat);
        let mut t = FiatShamirProver::new(gkr::PROTOCOL);
        if gkr::prove(
            &model,
            &w.tensors[0],
            &gkr::ProveOptions::default().with_witness(&w).unchecked(),
            &mut t,
        )
        .is_ok()
        {
            never_accepted(&model, &input, &t.into_proof().encode(), "a false concat");
        }
    }
    // a branch changed (its requantization is then false) and the rest recomputed
    let mut w = honest_w.clone();
    let ya = model.layers[cat].inputs()[0];
    w.tensors[ya].data[1] ^= 1;
    recompute_after(&model, &mut w, ya - 1);
    common::model::rejected(&model, &input, &cheat(&model, &w), "a changed branch");
}

#[test]
fn byte_flips_truncation_and_extension_are_never_accepted() {
    let (model, _) = branches_model(9);
    let input = zoo::random_input(&model, 9);
    let proof = honest(&model, &input);
    let decoded = Proof::decode(&proof).unwrap();
    let at = decoded.messages.iter().position(|m| m.tag == label_tag(PART_SUMS)).unwrap();
    let offset = |n: usize| Proof { messages: decoded.messages[..n].to_vec() }.encode().len();
    // every byte of the part sums and of the next 6 messages (the first sub-sumcheck), both
    // ends of each byte; then a seeded sample of the whole proof
    let mut flips: Vec<(usize, u8)> =
        (offset(at)..offset(at + 7)).flat_map(|i| [(i, 0x01), (i, 0x80)]).collect();
    let mut rng = rng(9);
    flips.extend((0..400).map(|_| (rng.gen_range(0..proof.len()), 1u8 << rng.gen_range(0..8))));
    flips_never_accepted(&model, &input, &proof, &flips);
    for cut in [offset(at), offset(at) + 9, offset(at + 1) - 1, proof.len() - 1] {
        never_accepted(&model, &input, &proof[..cut], &format!("cut at {cut}"));
    }
    let mut longer = proof.clone();
    longer.extend_from_slice(&proof[offset(at)..offset(at + 1)]);
    never_accepted(&model, &input, &longer, "a repeated part-sums message at the end");
}

#[test]
fn gkrm_round_trip_keeps_the_digest_and_the_proofs() {
    for (model, _) in [branches_model(3), (repeated_inputs_model().0, 0), (conv_model().0, 0)] {
        let bytes = model.encode();
        let back = Model::decode(&bytes).unwrap_or_else(|e| panic!("{}: {e}", model.name));
        assert_eq!(back.digest(), model.digest(), "{}", model.name);
        assert_eq!(back.encode(), bytes, "{}", model.name);
        let input = zoo::random_input(&model, 5);
        assert_eq!(back.forward(&input).unwrap(), model.forward(&input).unwrap());
        let proof = honest(&model, &input);
        assert!(
            gkr::verify_bytes(&back, &input, &gkr::VerifyOptions::default(), &proof).is_ok(),
            "{}",
            model.name
        );
        for (a, b) in model.layers.iter().zip(&back.layers) {
            assert_eq!(a.spec(), b.spec());
        }
    }
    // the encoding covers the input dimensions and the axis: same inputs and output, other
    // split of the axis, other digest
    let a = Concat::new(vec![0, 0], vec![vec![1, 3], vec![1, 5]], 1).unwrap();
    let b = Concat::new(vec![0, 0], vec![vec![1, 5], vec![1, 3]], 1).unwrap();
    assert_eq!(a.output_dims(), b.output_dims());
    assert_ne!(a.spec(), b.spec());
    // …and a model refuses a concat built for other dimensions than its inputs have
    assert!(Model::new("a", vec![1, 8], vec![Box::new(a.clone())]).is_err());
    assert!(Model::new("a", vec![1, 8], vec![Box::new(b.clone())]).is_err());
    let c = Concat::new(vec![0, 0], vec![vec![2, 1], vec![2, 1]], 1).unwrap();
    let d = Concat::new(vec![0, 0], vec![vec![1, 2], vec![1, 2]], 0).unwrap();
    assert_eq!(c.output_dims(), d.output_dims());
    assert_ne!(c.spec(), d.spec());
    // a model whose concat is inconsistent does not decode
    let dense = gkrnet::circuit::Dense::new(DenseSpec {
        input: 0,
        in_dims: vec![1, 3],
        input_zero: 0,
        weights: vec![1; 15],
        features: 5,
        bias: vec![0; 5],
    })
    .unwrap();
    let cat = Concat::new(vec![0, 1], vec![vec![1, 3], vec![1, 5]], 1).unwrap();
    let ma = Model::new("a", vec![1, 3], vec![Box::new(dense), Box::new(cat)]).unwrap();
    let mut bytes = ma.encode();
    let n = bytes.len();
    // the axis is the last u64 before the io flag: axis 1 → 0 leaves dimensions that differ on 1
    assert_eq!(bytes[n - 9], 1);
    bytes[n - 9] = 0;
    assert!(Model::decode(&bytes).is_err());
}
