//! Cheating provers for one layer of a model: the layer keeps its record, digest, forward pass
//! and verifier, and its reduction's prover is replaced by a closure that may lie. Also the
//! public weights of the sums along an axis (`circuit/along.rs`), so a cheater can run their
//! sumcheck on a false claim.

use ark_ff::One;
use gkrnet::circuit::along::Along;
use gkrnet::circuit::{
    ClaimTarget, Layer, LayerSpec, LayerWitness, Model, ModelError, Reduction, Tensor, TensorId,
};
use gkrnet::error::ProveError;
use gkrnet::field::Fp;
use gkrnet::poly::eq_evals;
use gkrnet::sumcheck::EvalClaim;
use gkrnet::transcript::{ProverTranscript, VerifierTranscript};
use gkrnet::VerifyError;

pub type Claims = Vec<(ClaimTarget, EvalClaim)>;

/// What the cheating prover of a layer does with a claim, the layer's inputs and the transcript.
pub type ProveFn = Box<
    dyn Fn(&EvalClaim, &[&Tensor], &mut dyn ProverTranscript) -> Result<Claims, ProveError>
        + Send
        + Sync,
>;

/// A layer whose reduction's prover is `prove`; everything else is `inner`'s.
pub struct Cheating {
    pub inner: Box<dyn Layer>,
    pub prove: ProveFn,
}

impl std::fmt::Debug for Cheating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cheating({:?})", self.inner)
    }
}

impl Layer for Cheating {
    fn kind(&self) -> &'static str {
        self.inner.kind()
    }
    fn inputs(&self) -> &[TensorId] {
        self.inner.inputs()
    }
    fn output_dims(&self) -> &[usize] {
        self.inner.output_dims()
    }
    fn spec(&self) -> LayerSpec {
        self.inner.spec()
    }
    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        self.inner.forward(inputs)
    }
    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Cheating {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Claims, ProveError> {
        (self.prove)(claim, inputs, t)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Claims, VerifyError> {
        self.inner.verify_output(claim, t)
    }
}

/// `model` with layer `at`'s prover replaced by `make(layer)` (and the same input/output
/// quantization); the digest is checked unchanged.
pub fn with_cheater(model: &Model, at: usize, make: impl Fn(&dyn Layer) -> ProveFn) -> Model {
    let layers = (model.layers.iter().enumerate())
        .map(|(i, l)| {
            let inner = l.spec().build().unwrap();
            if i != at {
                return inner;
            }
            let prove = make(inner.as_ref());
            Box::new(Cheating { inner, prove }) as Box<dyn Layer>
        })
        .collect();
    let mut m = Model::new(&model.name, model.input_dims.clone(), layers).unwrap();
    if let Some(io) = model.io() {
        m = m.with_io(io.clone()).unwrap();
    }
    assert_eq!(m.digest(), model.digest());
    m
}

/// The point ρ and the axis weights of a sum along `along`'s axis (of length `len`) for a claim
/// on the output of a layer of kind `kind`: T̃(ρ_A, ·) for a prefix sum (from the public eq
/// table), the positions for an argmax index, ones otherwise.
pub fn along_weights(kind: &str, along: &Along, len: usize, point: &[Fp]) -> (Vec<Fp>, Vec<Fp>) {
    let k = along.axis_num_vars();
    match kind {
        "prefixsum" => {
            let eq = eq_evals(along.axis_point(point).unwrap());
            let w = (0..1usize << k).map(|lp| eq[lp.min(len)..len].iter().sum()).collect();
            (along.keep(point).unwrap(), w)
        }
        "argindex" => (point.to_vec(), (0..1u64 << k).map(Fp::from).collect()),
        _ => (point.to_vec(), vec![Fp::one(); 1 << k]),
    }
}
