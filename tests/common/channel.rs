//! An in-process interactive session: the prover's and the verifier's transcripts joined by
//! channels, the verifier drawing its own coins (no Fiat–Shamir), as `gkrnet serve`/`connect`
//! do over TCP.

use gkrnet::error::VerifyError;
use gkrnet::field::Fp;
use gkrnet::transcript::{Label, ProverTranscript, Transcript, VerifierTranscript};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use std::sync::mpsc::{channel, Receiver, Sender};

/// The prover's end: a message is sent; a challenge is whatever the verifier sends back.
pub struct ProverChannel {
    to_verifier: Sender<(Label, Vec<Fp>)>,
    from_verifier: Receiver<Fp>,
}

impl Transcript for ProverChannel {
    fn append_bytes(&mut self, _: Label, _: &[u8]) {}
    fn append_fields(&mut self, _: Label, _: &[Fp]) {}
    fn challenge(&mut self, _: Label) -> Fp {
        // a verifier that stopped (it rejected) sends nothing more; the prover runs to its end
        self.from_verifier.recv().unwrap_or_default()
    }
}

impl ProverTranscript for ProverChannel {
    fn send(&mut self, label: Label, msg: &[Fp]) {
        // a verifier that has already rejected stops listening; the prover then just finishes
        let _ = self.to_verifier.send((label, msg.to_vec()));
    }
}

/// The verifier's end: receives what `verify` asks for, and answers with fresh randomness.
pub struct VerifierChannel {
    from_prover: Receiver<(Label, Vec<Fp>)>,
    to_prover: Sender<Fp>,
    coins: ChaCha20Rng,
}

impl Transcript for VerifierChannel {
    fn append_bytes(&mut self, _: Label, _: &[u8]) {}
    fn append_fields(&mut self, _: Label, _: &[Fp]) {}
    fn challenge(&mut self, _: Label) -> Fp {
        let r = <Fp as ark_ff::UniformRand>::rand(&mut self.coins);
        let _ = self.to_prover.send(r);
        r
    }
}

impl VerifierTranscript for VerifierChannel {
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let (found, msg) = self.from_prover.recv().map_err(|_| VerifyError::Truncated {
            offset: 0,
            label,
            needed: len,
        })?;
        if found != label {
            return Err(VerifyError::UnexpectedMessage { offset: 0, expected: label, found });
        }
        if msg.len() != len {
            return Err(VerifyError::MessageLength {
                offset: 0,
                label,
                expected: len,
                got: msg.len() as u64,
            });
        }
        Ok(msg)
    }
}

/// Both ends of a session whose verifier draws its coins from `seed`.
pub fn pair(seed: u64) -> (ProverChannel, VerifierChannel) {
    let (to_verifier, from_prover) = channel();
    let (to_prover, from_verifier) = channel();
    (
        ProverChannel { to_verifier, from_verifier },
        VerifierChannel { from_prover, to_prover, coins: ChaCha20Rng::seed_from_u64(seed) },
    )
}

/// Runs `prove` on its own thread against `verify` on this one, and returns the verdict (the
/// prover's own result is ignored: a cheater's refusal is irrelevant, the verifier decides).
pub fn session<T: Send>(
    seed: u64,
    prove: impl FnOnce(&mut ProverChannel) -> T + Send,
    verify: impl FnOnce(&mut VerifierChannel) -> Result<gkrnet::circuit::Tensor, VerifyError>,
) -> Result<gkrnet::circuit::Tensor, VerifyError> {
    let (mut p, mut v) = pair(seed);
    std::thread::scope(|s| {
        let prover = s.spawn(move || {
            let _ = prove(&mut p);
        });
        let verdict = verify(&mut v);
        drop(v); // unblock a prover still waiting for a challenge
        let _ = prover.join();
        verdict
    })
}
