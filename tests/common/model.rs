//! Helpers of the whole-model soundness tests: honest and cheating proofs, and witness edits.

use super::random_i8;
use gkrnet::circuit::zoo::{Builder, Rescale};
use gkrnet::circuit::{DenseSpec, Model, Tensor, TensorId, Wiring, Witness};
use gkrnet::gkr::{self, AdviceMode};
use gkrnet::transcript::FiatShamirProver;
use gkrnet::VerifyError;
use rand::Rng;
use rand_chacha::ChaCha20Rng;

/// An honest proof, checked to verify.
pub fn honest(model: &Model, input: &Tensor) -> Vec<u8> {
    let p = gkr::prove_bytes(model, input, &gkr::ProveOptions::default())
        .expect("the honest prover succeeds");
    assert_eq!(
        gkr::verify_bytes(model, input, &gkr::VerifyOptions::default(), &p.proof).as_ref(),
        Ok(&p.output),
        "honest proof"
    );
    p.proof
}

/// Forward, mock prover, proof and verification: the proof's and the verified outputs are the
/// reference's. Returns the honest witness; `what` names the case in failures.
pub fn prove_and_verify(model: &Model, input: &Tensor, what: &str) -> Witness {
    let w = model.forward(input).unwrap_or_else(|e| panic!("{what}: reference: {e}"));
    model.check(&w).unwrap_or_else(|e| panic!("{what}: mock prover: {e}"));
    let p = gkr::prove_bytes(model, input, &gkr::ProveOptions::default())
        .unwrap_or_else(|e| panic!("{what}: prover: {e}"));
    assert_eq!(&p.output, w.output(), "{what}: the proof's output is not the reference's");
    let out = gkr::verify_bytes(model, input, &gkr::VerifyOptions::default(), &p.proof)
        .unwrap_or_else(|e| panic!("{what}: honest proof rejected: {e}"));
    assert_eq!(&out, w.output(), "{what}: the verified output is not the reference's");
    w
}

/// A proof of whatever witness, by the cheating prover.
pub fn cheat(model: &Model, w: &Witness) -> Vec<u8> {
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    gkr::prove(
        model,
        &w.tensors[0],
        &gkr::ProveOptions::default().with_witness(w).unchecked(),
        &mut t,
    )
    .expect("the cheating prover phrases its proof");
    t.into_proof().encode()
}

/// The verifier's error; panics if it accepts.
pub fn rejected(model: &Model, input: &Tensor, proof: &[u8], what: &str) -> VerifyError {
    match gkr::verify_bytes(model, input, &gkr::VerifyOptions::default(), proof) {
        Ok(out) => panic!("{what}: the verifier accepted, output {:?}", out.data),
        Err(e) => e,
    }
}

/// [`cheat`] with the advice handled in `mode`.
pub fn cheat_mode(model: &Model, w: &Witness, mode: AdviceMode) -> Vec<u8> {
    let mut t = FiatShamirProver::new(gkr::PROTOCOL);
    gkr::prove(
        model,
        &w.tensors[0],
        &gkr::ProveOptions::advice(mode).with_witness(w).unchecked(),
        &mut t,
    )
    .expect("the cheater phrases a proof");
    t.into_proof().encode()
}

/// [`rejected`] by the verifier of `mode`.
pub fn rejected_mode(
    model: &Model,
    input: &Tensor,
    proof: &[u8],
    mode: AdviceMode,
    what: &str,
) -> VerifyError {
    match gkr::verify_bytes(model, input, &gkr::VerifyOptions::advice(mode), proof) {
        Ok(out) => panic!("{what}: accepted, output {:?}", out.data),
        Err(e) => e,
    }
}

/// Column `c` (in the order of `Layer::columns`) of layer `layer`.
pub fn column_mut<'a>(
    model: &Model,
    w: &'a mut Witness,
    layer: usize,
    c: usize,
) -> &'a mut Vec<i64> {
    if model.layers[layer].output_committed() {
        if c == 0 {
            &mut w.tensors[layer + 1].data
        } else {
            &mut w.advice[layer][c - 1]
        }
    } else {
        &mut w.advice[layer][c]
    }
}

/// The index of the column named `name` in layer `layer`.
pub fn column_id(model: &Model, layer: usize, name: &str) -> usize {
    model.layers[layer]
        .columns()
        .iter()
        .position(|&n| n == name)
        .unwrap_or_else(|| panic!("layer {layer} has no column {name}"))
}

/// Recomputes every layer after `layer` from the (tampered) tensors, as an honest prover would.
pub fn recompute_after(model: &Model, w: &mut Witness, layer: usize) {
    for i in layer + 1..model.layers.len() {
        let l = &model.layers[i];
        let lw = {
            let ins: Vec<&Tensor> = l.inputs().iter().map(|&t| &w.tensors[t]).collect();
            l.forward(&ins).expect("downstream layers accept the tampered tensor")
        };
        w.tensors[i + 1] = lw.output;
        w.advice[i] = lw.advice;
    }
}

/// Verifies `bytes`: panics if the verifier accepts or panics (never Ok, never a panic).
pub fn never_accepted(model: &Model, input: &Tensor, bytes: &[u8], what: &str) {
    let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gkr::verify_bytes(model, input, &gkr::VerifyOptions::default(), bytes)
    }));
    match run {
        Ok(Ok(_)) => panic!("{what}: accepted"),
        Ok(Err(_)) => {}
        Err(_) => panic!("{what}: the verifier panicked"),
    }
}

/// `count` seeded (byte, bit) flips of a proof of `len` bytes.
pub fn random_flips(seed: u64, len: usize, count: usize) -> Vec<(usize, u8)> {
    use rand::Rng;
    let mut rng = super::rng(seed);
    (0..count).map(|_| (rng.gen_range(0..len), 1u8 << rng.gen_range(0..8))).collect()
}

/// [`never_accepted`] for each (byte, bit) flip of `proof`, on two threads.
pub fn flips_never_accepted(model: &Model, input: &Tensor, proof: &[u8], flips: &[(usize, u8)]) {
    std::thread::scope(|scope| {
        for part in flips.chunks(flips.len().div_ceil(2).max(1)) {
            scope.spawn(move || {
                let mut bytes = proof.to_vec();
                for &(i, bit) in part {
                    bytes[i] ^= bit;
                    never_accepted(model, input, &bytes, &format!("byte {i} ^ {bit:#04x}"));
                    bytes[i] ^= bit;
                }
            });
        }
    });
}

/// Float rescale for a dense accumulator of n int8 products: ±3σ onto the int8 range.
pub fn dense_m(n: usize) -> f64 {
    127.0 / (3.0 * (n as f64).sqrt() * 73.0 * 73.0)
}

/// A dense + requant branch of the [1, 4] input to an int8 tensor of `dims` (reshaped), zero
/// point `z`.
pub fn branch(b: &mut Builder, rng: &mut ChaCha20Rng, dims: &[usize], z: i32) -> TensorId {
    let len: usize = dims.iter().product();
    let bias = (0..len).map(|_| rng.gen_range(-3000..=3000)).collect();
    let flat = b
        .dense(
            DenseSpec {
                input: 0,
                in_dims: b.dims(0),
                input_zero: 0,
                weights: random_i8(rng, 4 * len),
                features: len,
                bias,
            },
            Rescale { m: &[dense_m(4)], zero: z, relu: false },
        )
        .unwrap();
    if dims.len() == 2 && dims[0] == 1 {
        return flat;
    }
    b.push(Wiring::reshape(flat, &[1, len], dims.to_vec()).unwrap())
}
