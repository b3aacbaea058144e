//! Fiat–Shamir through merlin (STROBE-128).

use super::{append_digest, Label, ProverTranscript, Transcript, VerifierTranscript};
use crate::error::VerifyError;
use crate::field::{from_uniform_bytes, to_canonical_bytes, Fp, FIELD_BYTES};
use crate::proof::{encode_ints, Message, Proof, ProofReader};

/// merlin as a [`Transcript`]: absorbs and squeezes, records nothing.
pub struct MerlinTranscript(merlin::Transcript);

impl std::fmt::Debug for MerlinTranscript {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MerlinTranscript { .. }")
    }
}

impl MerlinTranscript {
    /// A fresh transcript bound to a protocol label (merlin's domain separator).
    pub fn new(protocol: Label) -> Self {
        Self(merlin::Transcript::new(protocol.as_bytes()))
    }
}

impl Transcript for MerlinTranscript {
    fn append_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.0.append_message(label.as_bytes(), bytes);
    }

    fn append_fields(&mut self, label: Label, xs: &[Fp]) {
        let mut bytes = Vec::with_capacity(8 + FIELD_BYTES * xs.len());
        bytes.extend_from_slice(&(xs.len() as u64).to_le_bytes());
        for x in xs {
            bytes.extend_from_slice(&to_canonical_bytes(x));
        }
        self.0.append_message(label.as_bytes(), &bytes);
    }

    fn challenge(&mut self, label: Label) -> Fp {
        let mut bytes = [0u8; 64];
        self.0.challenge_bytes(label.as_bytes(), &mut bytes);
        from_uniform_bytes(&bytes)
    }
}

/// The prover's Fiat–Shamir transcript: `send` absorbs the message and appends it to the proof.
#[derive(Debug)]
pub struct FiatShamirProver {
    transcript: MerlinTranscript,
    proof: Proof,
}

impl FiatShamirProver {
    pub fn new(protocol: Label) -> Self {
        Self { transcript: MerlinTranscript::new(protocol), proof: Proof::default() }
    }

    pub fn into_proof(self) -> Proof {
        self.proof
    }
}

impl Transcript for FiatShamirProver {
    fn append_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.transcript.append_bytes(label, bytes);
    }

    fn append_fields(&mut self, label: Label, xs: &[Fp]) {
        self.transcript.append_fields(label, xs);
    }

    fn challenge(&mut self, label: Label) -> Fp {
        self.transcript.challenge(label)
    }
}

impl ProverTranscript for FiatShamirProver {
    fn send(&mut self, label: Label, msg: &[Fp]) {
        self.transcript.append_fields(label, msg);
        self.proof.messages.push(Message::new(label, msg.to_vec()));
    }

    fn send_ints(&mut self, label: Label, ints: &[i64]) {
        // the canonical varint bytes (what the verifier reads) are digested, not 8 bytes a value
        append_digest(&mut self.transcript, label, &encode_ints(ints));
        self.proof.messages.push(Message::ints(label, ints.to_vec()));
    }

    fn send_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.transcript.append_bytes(label, bytes);
        self.proof.messages.push(Message::bytes(label, bytes.to_vec()));
    }
}

/// The verifier's Fiat–Shamir transcript: `receive` reads the next message of the encoded proof
/// and absorbs it exactly as the prover did.
#[derive(Debug)]
pub struct FiatShamirVerifier<'a> {
    transcript: MerlinTranscript,
    reader: ProofReader<'a>,
}

impl<'a> FiatShamirVerifier<'a> {
    /// Checks the proof's header.
    pub fn new(protocol: Label, proof: &'a [u8]) -> Result<Self, VerifyError> {
        Ok(Self { transcript: MerlinTranscript::new(protocol), reader: ProofReader::new(proof)? })
    }

    /// Succeeds only if the verifier consumed the whole proof.
    pub fn finish(self) -> Result<(), VerifyError> {
        self.reader.finish()
    }
}

impl Transcript for FiatShamirVerifier<'_> {
    fn append_bytes(&mut self, label: Label, bytes: &[u8]) {
        self.transcript.append_bytes(label, bytes);
    }

    fn append_fields(&mut self, label: Label, xs: &[Fp]) {
        self.transcript.append_fields(label, xs);
    }

    fn challenge(&mut self, label: Label) -> Fp {
        self.transcript.challenge(label)
    }
}

impl VerifierTranscript for FiatShamirVerifier<'_> {
    fn receive(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let msg = self.reader.read(label, len)?;
        self.transcript.append_fields(label, &msg);
        Ok(msg)
    }

    fn receive_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        let (ints, bytes) = self.reader.read_ints_raw(label, len)?;
        append_digest(&mut self.transcript, label, bytes);
        Ok(ints)
    }

    fn receive_bytes(&mut self, label: Label, len: usize) -> Result<Vec<u8>, VerifyError> {
        let bytes = self.reader.read_bytes(label, len)?;
        self.transcript.append_bytes(label, bytes);
        Ok(bytes.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::labels;

    #[test]
    fn prover_and_verifier_draw_the_same_challenges() {
        let mut p = FiatShamirProver::new(labels::PROTOCOL);
        p.append_u64(labels::SUMCHECK_CLAIM, 7);
        p.send(labels::SUMCHECK_ROUND, &[Fp::from(3u64)]);
        let c1 = p.challenge(labels::SUMCHECK_CHALLENGE);
        let bytes = p.into_proof().encode();
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &bytes).unwrap();
        v.append_u64(labels::SUMCHECK_CLAIM, 7);
        assert_eq!(v.receive(labels::SUMCHECK_ROUND, 1).unwrap(), vec![Fp::from(3u64)]);
        assert_eq!(v.challenge(labels::SUMCHECK_CHALLENGE), c1);
        v.finish().unwrap();
    }

    #[test]
    fn bytes_messages_are_raw_absorbed_as_sent_and_checked() {
        let hash = [7u8; 32];
        let mut p = FiatShamirProver::new(labels::PROTOCOL);
        p.send_bytes(labels::PCS_HASHES, &hash);
        let c1 = p.challenge(labels::PCS_CHALLENGE);
        let bytes = p.into_proof().encode();
        // a hash costs its 32 bytes and the 8-byte frame
        assert_eq!(bytes.len(), crate::proof::HEADER_BYTES + crate::proof::FRAME_BYTES + 32);
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &bytes).unwrap();
        assert_eq!(v.receive_bytes(labels::PCS_HASHES, 32).unwrap(), hash);
        assert_eq!(v.challenge(labels::PCS_CHALLENGE), c1);
        v.finish().unwrap();
        // the challenge depends on the bytes
        let mut other = bytes.clone();
        *other.last_mut().unwrap() ^= 1;
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &other).unwrap();
        v.receive_bytes(labels::PCS_HASHES, 32).unwrap();
        assert_ne!(v.challenge(labels::PCS_CHALLENGE), c1);
        // another length, another kind, too few bytes: errors with the offset
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &bytes).unwrap();
        assert!(matches!(
            v.receive_bytes(labels::PCS_HASHES, 31),
            Err(VerifyError::MessageLength { offset: 6, expected: 31, got: 32, .. })
        ));
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &bytes).unwrap();
        assert!(matches!(
            v.receive_ints(labels::PCS_HASHES, 32),
            Err(VerifyError::UnexpectedMessage { offset: 6, .. })
        ));
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &bytes).unwrap();
        assert!(matches!(
            v.receive(labels::PCS_HASHES, 32),
            Err(VerifyError::UnexpectedMessage { offset: 6, .. })
        ));
        let mut v = FiatShamirVerifier::new(labels::PROTOCOL, &bytes[..bytes.len() - 1]).unwrap();
        assert!(matches!(
            v.receive_bytes(labels::PCS_HASHES, 32),
            Err(VerifyError::Truncated { offset: 14, needed: 1, .. })
        ));
    }

    #[test]
    fn challenges_depend_on_label_order_and_length_framing() {
        let draw = |f: &dyn Fn(&mut MerlinTranscript)| {
            let mut t = MerlinTranscript::new(labels::PROTOCOL);
            f(&mut t);
            t.challenge(labels::SUMCHECK_CHALLENGE)
        };
        let one = Fp::from(1u64);
        let a = draw(&|t| t.append_fields(labels::SUMCHECK_ROUND, &[one, one]));
        let b = draw(&|t| {
            t.append_fields(labels::SUMCHECK_ROUND, &[one]);
            t.append_fields(labels::SUMCHECK_ROUND, &[one]);
        });
        let c = draw(&|t| t.append_fields(labels::SUMCHECK_FINAL_EVALS, &[one, one]));
        assert_ne!(a, b);
        assert_ne!(a, c);
        let mut other = MerlinTranscript::new("another protocol");
        other.append_fields(labels::SUMCHECK_ROUND, &[one, one]);
        assert_ne!(other.challenge(labels::SUMCHECK_CHALLENGE), a);
    }
}
