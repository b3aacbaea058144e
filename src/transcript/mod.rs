//! The transcript: how protocol code absorbs messages and draws challenges.
//!
//! Protocol code is written once against three small traits and never names an implementation:
//! * [`Transcript`]: absorb public data both sides hold (statement, digests) and draw challenges;
//! * [`ProverTranscript`]: additionally **send** a prover message;
//! * [`VerifierTranscript`]: additionally **receive** the next prover message, of a length the
//!   verifier fixes from the statement before anything is read.
//!
//! Implementations:
//! * [`FiatShamirProver`] / [`FiatShamirVerifier`]: merlin; send = absorb and append to the proof,
//!   receive = read the next message of the proof and absorb it; a challenge is 64 bytes squeezed
//!   from merlin and reduced mod p;
//! * for the interactive mode ([`crate::net`]): a prover channel where send = write to the socket and a
//!   challenge = read the client's element, and a verifier channel where receive = read from the
//!   socket and a challenge = fresh OS randomness sent to the prover. `verify` asks for every
//!   message and every challenge, so the verifier alone decides when a challenge is issued.
//! * [`Recording`]: wraps any of them and logs every event (tests check the absorb order with it).
//!
//! Every prover message is absorbed by `send`/`receive` themselves, before the caller can draw the
//! next challenge: a protocol cannot forget to absorb what it sends.

mod fiat_shamir;
mod recording;

pub use fiat_shamir::{FiatShamirProver, FiatShamirVerifier, MerlinTranscript};
pub use recording::{Event, Recording};

use crate::error::VerifyError;
use crate::field::Fp;

pub use crate::labels::{self, label_of_tag, label_tag, Label};

/// Absorbing public data and drawing challenges: what both sides do alike.
pub trait Transcript {
    /// Absorbs labelled bytes (merlin frames them with their length).
    fn append_bytes(&mut self, label: Label, bytes: &[u8]);

    /// Absorbs a vector of field elements, framed with its length, in canonical encoding.
    fn append_fields(&mut self, label: Label, xs: &[Fp]);

    /// Draws a challenge: uniform in F_p (64 bytes reduced mod p, or fresh randomness).
    fn challenge(&mut self, label: Label) -> Fp;

    fn append_field(&mut self, label: Label, x: &Fp) {
        self.append_fields(label, std::slice::from_ref(x));
    }

    fn append_u64(&mut self, label: Label, v: u64) {
        self.append_bytes(label, &v.to_le_bytes());
    }

    fn challenges(&mut self, label: Label, n: usize) -> Vec<Fp> {
        (0..n).map(|_| self.challenge(label)).collect()
    }
}

/// The prover's side: it sends messages.
pub trait ProverTranscript: Transcript {
    /// Sends a prover message; it is absorbed before this returns.
    fn send(&mut self, label: Label, msg: &[Fp]);

    /// Sends bulk integers (advice in the clear). The default sends them as field elements;
    /// the Fiat–Shamir transcript writes compact varints and absorbs a blake3 digest.
    fn send_ints(&mut self, label: Label, ints: &[i64]) {
        let msg: Vec<Fp> = ints.iter().map(|&v| crate::field::from_i64(v)).collect();
        self.send(label, &msg);
    }

    /// Sends raw bytes (hashes). The Fiat–Shamir and network transcripts write them as a bytes
    /// message (32 bytes a hash, plus the frame) and absorb exactly these bytes.
    ///
    /// The default packs them into little-endian i64 words (the last one zero-padded) sent with
    /// [`ProverTranscript::send_ints`], which [`VerifierTranscript::receive_bytes`]'s default
    /// unpacks. A wrapper transcript must forward both methods, or it would send the packed form
    /// to a peer that reads the native one; that peer then rejects (never accepts) the message.
    fn send_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.send_ints(label, &bytes_words(bytes));
    }
}

/// The verifier's side: it receives messages whose length it fixes itself.
pub trait VerifierTranscript: Transcript {
    /// Receives the next prover message, which must carry `label` and exactly `len` field elements
    /// (`len` comes from the statement, never from the proof), and absorbs it.
    ///
    /// # Errors
    /// [`VerifyError::UnexpectedMessage`], [`VerifyError::MessageLength`],
    /// [`VerifyError::Truncated`] or [`VerifyError::NonCanonicalField`], with the byte offset.
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError>;

    /// Receives what [`ProverTranscript::send_ints`] sent; every integer must be an i64.
    fn receive_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        self.receive(label, len)?
            .iter()
            .map(|x| {
                crate::field::to_i64(x).ok_or(VerifyError::InvalidStatement {
                    reason: "an advice value is not an i64",
                })
            })
            .collect()
    }

    /// Receives what [`ProverTranscript::send_bytes`] sent: exactly `len` bytes (`len` from the
    /// statement), absorbed as sent.
    ///
    /// # Errors
    /// As [`VerifierTranscript::receive`]; the default (packed words) also rejects padding bytes
    /// that are not zero, so each byte string has one encoding.
    fn receive_bytes(&mut self, label: Label, len: usize) -> Result<Vec<u8>, VerifyError> {
        let words = self.receive_ints(label, len.div_ceil(8))?;
        words_bytes(&words, len).ok_or(VerifyError::InvalidStatement {
            reason: "a packed bytes message is not padded with zeros",
        })
    }
}

/// `bytes` as little-endian i64 words, the last one zero-padded (the default bytes message).
pub fn bytes_words(bytes: &[u8]) -> Vec<i64> {
    bytes
        .chunks(8)
        .map(|c| {
            let mut w = [0u8; 8];
            w.iter_mut().zip(c).for_each(|(o, b)| *o = *b);
            i64::from_le_bytes(w)
        })
        .collect()
}

/// The first `len` bytes of little-endian words, or `None` if a byte past `len` is not zero.
pub fn words_bytes(words: &[i64], len: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    if out.len() < len || out.get(len..).is_some_and(|pad| pad.iter().any(|&b| b != 0)) {
        return None;
    }
    out.truncate(len);
    Some(out)
}

impl<T: Transcript + ?Sized> Transcript for &mut T {
    fn append_bytes(&mut self, label: Label, bytes: &[u8]) {
        (**self).append_bytes(label, bytes);
    }

    fn append_fields(&mut self, label: Label, xs: &[Fp]) {
        (**self).append_fields(label, xs);
    }

    fn challenge(&mut self, label: Label) -> Fp {
        (**self).challenge(label)
    }
}

impl<T: ProverTranscript + ?Sized> ProverTranscript for &mut T {
    fn send(&mut self, label: Label, msg: &[Fp]) {
        (**self).send(label, msg);
    }

    fn send_ints(&mut self, label: Label, ints: &[i64]) {
        (**self).send_ints(label, ints);
    }

    fn send_bytes(&mut self, label: Label, bytes: &[u8]) {
        (**self).send_bytes(label, bytes);
    }
}

impl<T: VerifierTranscript + ?Sized> VerifierTranscript for &mut T {
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        (**self).receive(label, len)
    }

    fn receive_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        (**self).receive_ints(label, len)
    }

    fn receive_bytes(&mut self, label: Label, len: usize) -> Result<Vec<u8>, VerifyError> {
        (**self).receive_bytes(label, len)
    }
}

/// The bytes absorbed for bulk integers: little-endian i64s.
pub fn ints_bytes(ints: &[i64]) -> Vec<u8> {
    ints.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Absorbs a large byte tensor through its blake3 digest (multi-threaded above 128 KiB), together
/// with its length: feeding megabytes through merlin's STROBE would cost more than the proof. The
/// verifier recomputes the digest from the data it holds.
pub fn append_digest(t: &mut impl Transcript, label: Label, data: &[u8]) {
    let digest = if data.len() >= 1 << 17 {
        blake3::Hasher::new().update_rayon(data).finalize()
    } else {
        blake3::hash(data)
    };
    t.append_u64(labels::TENSOR_DIGEST, data.len() as u64);
    t.append_bytes(label, digest.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_tags_are_distinct() {
        for (i, a) in labels::MESSAGES.iter().enumerate() {
            assert_eq!(label_of_tag(label_tag(a)), *a);
            for b in &labels::MESSAGES[i + 1..] {
                assert_ne!(label_tag(a), label_tag(b));
            }
        }
        assert_eq!(label_of_tag(0), "unknown");
    }

    #[test]
    fn packed_bytes_round_trip_and_reject_nonzero_padding() {
        for len in [0usize, 1, 7, 8, 9, 32, 33] {
            let bytes: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37) ^ 0xa5).collect();
            let words = bytes_words(&bytes);
            assert_eq!(words.len(), len.div_ceil(8));
            assert_eq!(words_bytes(&words, len), Some(bytes));
        }
        assert_eq!(words_bytes(&[0x0100], 1), None);
        assert_eq!(words_bytes(&[1], 9), None);
    }
}
