//! Structural facts of model proofs that the other suites take for granted: the merge of several
//! claims on one virtual tensor and the wiring sumcheck are really exercised (and reject
//! tampering), the built-in models have the layer structure the notes describe, and the encoded
//! proof is what `paper-notes/gkr.md` says dominates it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests and benches fail loudly on broken fixtures"
)]

use gkrnet::circuit::zoo::{self, Builder, Rescale};
use gkrnet::circuit::{
    DenseSpec, Model, Multiplier, Requant, RequantKind, RequantSpec, Var, Wiring,
};
use gkrnet::gkr;
use gkrnet::proof::Proof;
use gkrnet::transcript::{labels, Event, FiatShamirProver, Recording};

fn challenges(model: &Model, seed: u64) -> Vec<&'static str> {
    let input = zoo::random_input(model, seed);
    let w = model.forward(&input).unwrap();
    let mut t = Recording::new(FiatShamirProver::new(gkr::PROTOCOL));
    gkr::prove(model, &w.tensors[0], &gkr::ProveOptions::default().with_witness(&w), &mut t)
        .unwrap();
    t.events
        .iter()
        .filter_map(|e| match e {
            Event::Challenge(l) => Some(*l),
            _ => None,
        })
        .collect()
}

/// dense → two requantizations of the same accumulator → add, then a transpose round trip and a
/// flatten round trip in front of a second dense layer.
fn two_heads_and_wiring() -> Model {
    let mut b = Builder::new(vec![3, 7]);
    let w: Vec<i8> = (0..7 * 5).map(|i| ((i * 37) % 255 - 127) as i8).collect();
    let y1 = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 3,
                weights: w,
                features: 5,
                bias: vec![100, -200, 300, 0, 7],
            },
            Rescale { m: &[0.003], zero: -10, relu: true },
        )
        .unwrap();
    let acc = y1 - 1;
    let (a, k) = zoo::common_shift(&[0.002]).unwrap();
    let spec = RequantSpec::accumulator(acc, b.dims(acc), Multiplier::Tensor(a[0]));
    let y2 = b.push(Requant::new(RequantSpec { k, zero: 5, ..spec }).unwrap());
    let (sum, _, z) = zoo::add(&mut b, (y1, 0.02, -10), (y2, 0.03, 5)).unwrap();
    let t = b.push(Wiring::transpose(sum, &[3, 5], vec![1, 0]).unwrap());
    let back = b.push(Wiring::transpose(t, &[5, 3], vec![1, 0]).unwrap());
    let flat = b.push(Wiring::reshape(back, &[3, 5], vec![15]).unwrap());
    let x = b.push(Wiring::reshape(flat, &[15], vec![3, 5]).unwrap());
    let w2: Vec<i8> = (0..5 * 4).map(|i| ((i * 53) % 255 - 127) as i8).collect();
    b.dense(
        DenseSpec {
            input: x,
            in_dims: b.dims(x),
            input_zero: z,
            weights: w2,
            features: 4,
            bias: vec![1, 2, 3, 4],
        },
        Rescale { m: &[0.004], zero: 0, relu: false },
    )
    .unwrap();
    b.finish("two-heads").unwrap()
}

#[test]
fn two_claims_on_one_accumulator_are_merged_and_wiring_is_proved() {
    let model = two_heads_and_wiring();
    for seed in 0..10 {
        let input = zoo::random_input(&model, seed);
        let proof = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap();
        assert_eq!(
            gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &proof.proof)
                .unwrap(),
            proof.output
        );
    }
    let drawn = challenges(&model, 0);
    assert_eq!(drawn.iter().filter(|&&l| l == labels::MERGE_GAMMA).count(), 1, "{drawn:?}");
    // each wiring sumcheck draws challenges between the zero-checks; four wiring layers, and the
    // proof still verifies only with all of them: tamper every field message
    let input = zoo::random_input(&model, 1);
    let honest = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap().proof;
    let decoded = Proof::decode(&honest).unwrap();
    for j in 0..decoded.messages.len() {
        let mut p = decoded.clone();
        if let Some(v) = p.messages[j].values.first_mut() {
            *v += gkrnet::Fp::from(1u64);
            assert!(
                gkr::verify_bytes(&model, &input, &gkr::VerifyOptions::default(), &p.encode())
                    .is_err(),
                "message {j}"
            );
        }
    }
}

#[test]
fn builtin_models_have_the_documented_structure() {
    let model = zoo::mlp4m();
    let kinds: Vec<&str> = model.layers.iter().map(|l| l.kind()).collect();
    assert_eq!(kinds, ["dense", "requant", "dense", "requant", "dense", "requant"]);
    for l in model.layers.iter().skip(1).step_by(2) {
        // threshold requantization (paper-notes/requant.md): y and its row's thresholds; the
        // two comparisons V − t1 and t2 − 1 − V are range-checked as they are (the table's rows
        // span at most 2^16 accumulator values), so there are no relations
        assert_eq!(l.columns(), ["y", "t1", "t2"]);
        assert!(l.relations().is_empty());
        let checks = l.range_checks();
        assert_eq!(checks.len(), 2);
        assert!(checks.iter().all(|c| c.vars().any(|v| v == Var::In(0))));
        // every row spans at most 2^16 accumulator values, and the rows partition [−B, B]
        let rows = l.table_lookup().unwrap().rows;
        assert!(rows.windows(2).all(|w| w[0][2] == w[1][1] && w[0][0] <= w[1][0]));
        assert!(rows.iter().all(|r| r[2] - r[1] <= 1 << 16 && r[2] > r[1]));
        assert!(rows.iter().map(|r| r[0]).collect::<std::collections::BTreeSet<_>>().len() > 1);
    }
    let act = zoo::mlp_act();
    let kinds: Vec<&str> = act.layers.iter().map(|l| l.kind()).collect();
    // mlp-act keeps the arithmetic gadget: quotient, remainder, rounding and clamp columns
    let requant = act.layers.iter().find(|l| l.kind() == "requant").unwrap();
    for name in ["y", "par", "qh0", "rem0", "b", "d0", "s_lo", "s_hi", "elo0", "ehi0"] {
        assert!(requant.columns().contains(&name), "{name} in {:?}", requant.columns());
    }
    for k in ["sigmoid", "tanh", "gelu", "elu", "leaky-relu", "silu", "hard-swish", "add"] {
        assert!(kinds.contains(&k), "{k} missing from {kinds:?}");
    }
}

#[test]
fn advice_dominates_the_mlp4m_proof() {
    // more than 3/4 of the bytes: the columns in the clear and the range multiplicities
    let model = zoo::mlp4m();
    let input = zoo::random_input(&model, 1);
    let bytes = gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap().proof;
    let proof = Proof::decode(&bytes).unwrap();
    assert_eq!(proof.encode(), bytes);
    let size = |label: &str| -> usize {
        proof
            .messages
            .iter()
            .filter(|m| m.label() == label)
            .map(|m| Proof { messages: vec![m.clone()] }.encode().len() - 6)
            .sum()
    };
    let advice = size(labels::GKR_ADVICE) + size(labels::GKR_MULTIPLICITIES);
    assert!(advice * 4 > bytes.len() * 3, "advice {advice} of {}", bytes.len());
    // the range multiplicities: 2^b varints for the model's range table (mlp4m has no activation
    // table); its thresholds' pieces fit 2^15 values, so b = 15, not 16
    assert_eq!(model.range_bits(), 15);
    let last = proof.messages.iter().find(|m| m.label() == labels::GKR_MULTIPLICITIES).unwrap();
    assert_eq!(last.ints.as_ref().map(Vec::len), Some(1 << 15));
}

/// A layer built for other input dimensions than its input tensor has (as a crafted `.gkrm`
/// could claim) is refused when the model is built, so no verifier evaluates a tensor at a point
/// of the wrong length.
#[test]
fn layers_built_for_other_input_dimensions_are_refused() {
    use gkrnet::circuit::{LayerSpec, Model, WiringSpec};
    let wiring = WiringSpec { input: 0, in_dims: vec![3, 2], out_dims: vec![6], perm: None };
    let wiring = LayerSpec::Op(Box::new(wiring));
    let err = Model::new("x", vec![2, 3], vec![wiring.build().unwrap()]).unwrap_err();
    assert!(err.to_string().contains("dimensions [3, 2]"), "{err}");
    let dense = LayerSpec::Op(Box::new(DenseSpec {
        input: 0,
        in_dims: vec![1, 4],
        input_zero: 0,
        weights: vec![1; 8],
        features: 2,
        bias: vec![0; 2],
    }));
    assert!(Model::new("x", vec![2, 4], vec![dense.build().unwrap()]).is_err());
    assert!(Model::new("x", vec![1, 4], vec![dense.build().unwrap()]).is_ok());
}

#[test]
fn range_tables_are_as_narrow_as_the_models_range_checks_allow() {
    use gkrnet::circuit::MAX_TABLE_ROWS;
    // lenet5 and mlp4m: every range check is a direct threshold comparison, so the range table
    // narrows until a layer's pieces would overflow its table budget; mlp-act's arithmetic
    // gadget keeps 16-bit limbs
    for (model, narrow) in [(zoo::lenet5(), true), (zoo::mlp4m(), true), (zoo::mlp_act(), false)] {
        let bits = model.range_bits();
        assert_eq!(bits < 16, narrow, "{}: {bits}", model.name);
        for l in model.layers.iter().filter(|l| !l.range_checks().is_empty()) {
            assert!(l.range_bits() <= bits, "{}: {}", model.name, l.kind());
            if let Some(t) = l.table_lookup().filter(|_| l.columns() == ["y", "t1", "t2"]) {
                // a direct threshold's pieces fit the range table
                assert!(t.rows.iter().all(|r| r[2] - r[1] <= 1 << bits), "{}", model.name);
            }
        }
        let rows: usize =
            model.layers.iter().filter_map(|l| l.table_lookup()).map(|t| t.rows.len()).sum();
        assert!(rows <= MAX_TABLE_ROWS);
        // the honest comparisons fit the table, and the widest needs its top bit
        let w = model.forward(&zoo::random_input(&model, 1)).unwrap();
        if narrow {
            let widest = (0..model.layers.len())
                .filter(|&i| model.layers[i].columns() == ["y", "t1", "t2"])
                .flat_map(|i| {
                    let v = w.tensors[model.layers[i].inputs()[0]].data.clone();
                    let cols = w.columns(&model, i);
                    let (t1, t2) = (cols[1].to_vec(), cols[2].to_vec());
                    (0..v.len()).map(move |j| (v[j] - t1[j]).max(t2[j] - 1 - v[j]))
                })
                .max()
                .unwrap();
            assert!(widest < 1 << bits && widest >= 1 << (bits - 1), "{}: {widest}", model.name);
        }
        // the decoded model chooses the same table
        let back = Model::decode(&model.encode()).unwrap();
        assert_eq!((back.range_bits(), back.digest()), (bits, model.digest()), "{}", model.name);
        // the clear proof carries 2^bits range multiplicities
        let input = zoo::random_input(&model, 2);
        let proof = Proof::decode(
            &gkr::prove_bytes(&model, &input, &gkr::ProveOptions::default()).unwrap().proof,
        )
        .unwrap();
        let m = proof.messages.iter().find(|m| m.label() == labels::GKR_MULTIPLICITIES).unwrap();
        assert_eq!(m.ints.as_ref().map(Vec::len), Some(1 << bits), "{}", model.name);
    }
}

/// Issue 17, finding 5: a model file names any i128 constant c; |c| + max|offsets| + Σ aᵢ·boundᵢ
/// is computed with checked operations, so i128::MIN (whose |·| wraps to itself in a release
/// build) or a sum past i128::MAX is an error, not a negative P_max that passes the 2^94 bound.
#[test]
fn requantization_constants_that_overflow_i128_are_rejected() {
    use gkrnet::circuit::{ModelError, Scaled, Threshold};
    let acc = |bound| Scaled { tensor: 0, multiplier: Multiplier::Tensor(3), bound };
    let overflow = |c: i128| ModelError::Parameter(format!("|P| overflows i128 (constant {c})"));
    for (offset, offsets) in
        [(i128::MIN, vec![]), (i128::MAX, vec![1i64 << 62; 4]), (i128::MAX - 5, vec![])]
    {
        let spec = RequantSpec {
            kind: RequantKind::Requant,
            scaled: vec![acc(1 << 31)],
            offset,
            offsets,
            k: 4,
            zero: 0,
            lo: -128,
            hi: 127,
            dims: vec![4],
        };
        let requant = Requant::new(spec.clone());
        assert_eq!(requant.err(), Some(overflow(offset)), "requant, c = {offset}");
        let threshold = Threshold::new(spec);
        assert_eq!(threshold.err(), Some(overflow(offset)), "threshold, c = {offset}");
    }
    // in range: the usual bound error, not an overflow
    let spec = RequantSpec::accumulator(0, vec![4], Multiplier::Tensor(3));
    let big = Requant::new(RequantSpec { offset: 1 << 100, k: 4, ..spec });
    assert!(matches!(big, Err(ModelError::Parameter(m)) if m.contains("2^94")));
}
