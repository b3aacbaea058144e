//! The encoded proof: a versioned, canonical stream of labelled prover messages.
//!
//! ```text
//! proof   = magic "GKRN" ‖ version: u16 LE ‖ message*
//! message = tag: u32 LE (FNV-1a of the label) ‖ count: u32 LE ‖ count × field element
//! field element = 16 bytes, little-endian, canonical (< p)   — ark-serialize's compressed form
//! ```
//! Nothing else is stored: the statement (shapes, claimed values) is known to the verifier, and
//! every length the verifier reads is compared against the length the statement fixes *before* a
//! single element is read or allocated ([`ProofReader::read`]). A proof whose bytes are not
//! exactly what the verifier consumes is rejected ([`ProofReader::finish`]).

use crate::error::VerifyError;
use crate::field::{Fp, FIELD_BYTES};
use crate::transcript::{label_of_tag, label_tag, Label};
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Valid, Validate,
};
use std::io::{Read, Write};

pub const MAGIC: [u8; 4] = *b"GKRN";
pub const VERSION: u16 = 1;
pub const HEADER_BYTES: usize = 6;
/// Bytes in front of each message: tag and count.
pub const FRAME_BYTES: usize = 8;

/// One prover message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub tag: u32,
    pub values: Vec<Fp>,
}

impl Message {
    pub fn new(label: Label, values: Vec<Fp>) -> Self {
        Self { tag: label_tag(label), values }
    }

    pub fn label(&self) -> Label {
        label_of_tag(self.tag)
    }
}

/// A whole proof, as the prover wrote it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Proof {
    pub messages: Vec<Message>,
}

impl Proof {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.serialize_compressed(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    pub fn encoded_len(&self) -> usize {
        HEADER_BYTES
            + self
                .messages
                .iter()
                .map(|m| FRAME_BYTES + FIELD_BYTES * m.values.len())
                .sum::<usize>()
    }

    /// Decodes a whole proof without a statement (for inspection); verifiers read through
    /// [`ProofReader`] instead. Allocation grows only with bytes actually present.
    pub fn decode(bytes: &[u8]) -> Result<Self, VerifyError> {
        let mut reader = ProofReader::new(bytes)?;
        let mut messages = Vec::new();
        while reader.remaining() > 0 {
            let offset = reader.offset;
            let (tag, count) = reader.frame("any")?;
            if (count as usize).saturating_mul(FIELD_BYTES) > reader.remaining() {
                return Err(VerifyError::Truncated {
                    offset,
                    label: label_of_tag(tag),
                    needed: (count as usize).saturating_mul(FIELD_BYTES) - reader.remaining(),
                });
            }
            let values = reader.elements(label_of_tag(tag), count as usize)?;
            messages.push(Message { tag, values });
        }
        Ok(Self { messages })
    }
}

impl CanonicalSerialize for Proof {
    fn serialize_with_mode<W: Write>(
        &self,
        mut writer: W,
        compress: Compress,
    ) -> Result<(), SerializationError> {
        writer.write_all(&MAGIC)?;
        writer.write_all(&VERSION.to_le_bytes())?;
        for m in &self.messages {
            let count =
                u32::try_from(m.values.len()).map_err(|_| SerializationError::NotEnoughSpace)?;
            writer.write_all(&m.tag.to_le_bytes())?;
            writer.write_all(&count.to_le_bytes())?;
            for v in &m.values {
                v.serialize_with_mode(&mut writer, compress)?;
            }
        }
        Ok(())
    }

    fn serialized_size(&self, _compress: Compress) -> usize {
        self.encoded_len()
    }
}

impl Valid for Proof {
    fn check(&self) -> Result<(), SerializationError> {
        Ok(())
    }
}

impl CanonicalDeserialize for Proof {
    /// Reads the stream to its end; see [`Proof::decode`].
    fn deserialize_with_mode<R: Read>(
        mut reader: R,
        _: Compress,
        _: Validate,
    ) -> Result<Self, SerializationError> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        Proof::decode(&bytes).map_err(|_| SerializationError::InvalidData)
    }
}

/// Reads prover messages one by one, as the verifier asks for them.
#[derive(Debug)]
pub struct ProofReader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> ProofReader<'a> {
    /// Checks magic and version.
    pub fn new(bytes: &'a [u8]) -> Result<Self, VerifyError> {
        if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
            return Err(VerifyError::BadMagic { expected: MAGIC });
        }
        let version = match bytes.get(MAGIC.len()..HEADER_BYTES) {
            Some(v) => u16::from_le_bytes([v[0], v[1]]),
            None => {
                return Err(VerifyError::Truncated {
                    offset: bytes.len(),
                    label: "header",
                    needed: HEADER_BYTES - bytes.len(),
                })
            }
        };
        if version != VERSION {
            return Err(VerifyError::UnsupportedVersion { got: version, supported: VERSION });
        }
        Ok(Self { bytes, offset: HEADER_BYTES })
    }

    pub fn offset(&self) -> usize {
        self.offset
    }

    pub fn remaining(&self) -> usize {
        self.bytes.len() - self.offset
    }

    /// The next message, which must be `label` with exactly `len` elements.
    pub fn read(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let offset = self.offset;
        let (tag, count) = self.frame(label)?;
        if tag != label_tag(label) {
            return Err(VerifyError::UnexpectedMessage {
                offset,
                expected: label,
                found: label_of_tag(tag),
            });
        }
        if count as usize != len {
            return Err(VerifyError::MessageLength {
                offset,
                label,
                expected: len,
                got: count.into(),
            });
        }
        self.elements(label, len)
    }

    /// Succeeds only if every byte has been read.
    pub fn finish(self) -> Result<(), VerifyError> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(VerifyError::TrailingBytes { offset: self.offset, remaining }),
        }
    }

    fn take(&mut self, label: Label, n: usize) -> Result<&'a [u8], VerifyError> {
        if self.remaining() < n {
            return Err(VerifyError::Truncated {
                offset: self.offset,
                label,
                needed: n - self.remaining(),
            });
        }
        let out = &self.bytes[self.offset..self.offset + n];
        self.offset += n;
        Ok(out)
    }

    fn frame(&mut self, label: Label) -> Result<(u32, u32), VerifyError> {
        let b = self.take(label, FRAME_BYTES)?;
        Ok((
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
            u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
        ))
    }

    fn elements(&mut self, label: Label, len: usize) -> Result<Vec<Fp>, VerifyError> {
        let start = self.offset;
        let bytes = self.take(label, len.saturating_mul(FIELD_BYTES))?;
        bytes
            .chunks_exact(FIELD_BYTES)
            .enumerate()
            .map(|(i, c)| {
                Fp::deserialize_compressed(c)
                    .map_err(|_| VerifyError::NonCanonicalField { offset: start + i * FIELD_BYTES })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::MODULUS;
    use crate::transcript::labels;

    fn sample() -> Proof {
        Proof {
            messages: vec![
                Message::new(labels::SUMCHECK_ROUND, vec![Fp::from(1u64), Fp::from(2u64)]),
                Message::new(labels::SUMCHECK_FINAL_EVALS, vec![-Fp::from(3u64)]),
            ],
        }
    }

    #[test]
    fn encode_decode_round_trip() {
        let p = sample();
        let bytes = p.encode();
        assert_eq!(bytes.len(), p.encoded_len());
        assert_eq!(Proof::decode(&bytes), Ok(p.clone()));
        assert_eq!(Proof::deserialize_compressed(&bytes[..]).unwrap(), p);
        let mut r = ProofReader::new(&bytes).unwrap();
        assert_eq!(r.read(labels::SUMCHECK_ROUND, 2).unwrap(), p.messages[0].values);
        assert_eq!(r.read(labels::SUMCHECK_FINAL_EVALS, 1).unwrap(), p.messages[1].values);
        assert_eq!(r.finish(), Ok(()));
    }

    #[test]
    fn reader_names_each_defect() {
        let bytes = sample().encode();
        let mut r = ProofReader::new(&bytes).unwrap();
        assert_eq!(
            r.read(labels::SUMCHECK_FINAL_EVALS, 2),
            Err(VerifyError::UnexpectedMessage {
                offset: 6,
                expected: labels::SUMCHECK_FINAL_EVALS,
                found: labels::SUMCHECK_ROUND
            })
        );
        let mut r = ProofReader::new(&bytes).unwrap();
        assert_eq!(
            r.read(labels::SUMCHECK_ROUND, 3),
            Err(VerifyError::MessageLength {
                offset: 6,
                label: labels::SUMCHECK_ROUND,
                expected: 3,
                got: 2
            })
        );
        let mut bad = bytes.clone();
        bad[HEADER_BYTES + FRAME_BYTES..HEADER_BYTES + FRAME_BYTES + 16]
            .copy_from_slice(&MODULUS.to_le_bytes());
        let mut r = ProofReader::new(&bad).unwrap();
        assert_eq!(
            r.read(labels::SUMCHECK_ROUND, 2),
            Err(VerifyError::NonCanonicalField { offset: 14 })
        );
        let mut r = ProofReader::new(&bytes[..bytes.len() - 1]).unwrap();
        r.read(labels::SUMCHECK_ROUND, 2).unwrap();
        assert!(matches!(
            r.read(labels::SUMCHECK_FINAL_EVALS, 1),
            Err(VerifyError::Truncated { needed: 1, .. })
        ));
        assert_eq!(
            ProofReader::new(b"GKRM\x01\x00").err(),
            Some(VerifyError::BadMagic { expected: MAGIC })
        );
        assert_eq!(
            ProofReader::new(b"GKRN\x02\x00").err(),
            Some(VerifyError::UnsupportedVersion { got: 2, supported: 1 })
        );
        let mut long = bytes.clone();
        long.push(0);
        let mut r = ProofReader::new(&long).unwrap();
        r.read(labels::SUMCHECK_ROUND, 2).unwrap();
        r.read(labels::SUMCHECK_FINAL_EVALS, 1).unwrap();
        assert_eq!(
            r.finish(),
            Err(VerifyError::TrailingBytes { offset: bytes.len(), remaining: 1 })
        );
    }

    #[test]
    fn decode_does_not_trust_a_huge_count() {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&VERSION.to_le_bytes());
        bytes.extend_from_slice(&label_tag(labels::SUMCHECK_ROUND).to_le_bytes());
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(Proof::decode(&bytes), Err(VerifyError::Truncated { .. })));
    }
}
