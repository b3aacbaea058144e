//! The encoded proof: a versioned, canonical stream of labelled prover messages.
//!
//! ```text
//! proof   = magic "GKRN" ‖ version: u16 LE ‖ message*
//! message = tag: u32 LE (FNV-1a of the label) ‖ count: u32 LE ‖ count × field element
//!         | tag: u32 LE ‖ (count | 2^31): u32 LE ‖ count × integer
//!         | tag: u32 LE ‖ (count | 2^30): u32 LE ‖ count × byte
//! field element = 16 bytes, little-endian, canonical (< p)   — ark-serialize's compressed form
//! integer = zigzag LEB128 varint of an i64, shortest form     — bulk advice (int8 tensors, limbs)
//! byte    = one raw byte                                      — hashes (Merkle roots and paths)
//! ```
//! The count's two top bits give the message's kind (00 elements, 10 integers, 01 bytes; 11 is
//! no kind and is rejected), so a count is below 2^30.
//! Nothing else is stored: the statement (shapes, claimed values) is known to the verifier, and
//! every length the verifier reads is compared against the length the statement fixes *before* a
//! single element is read or allocated ([`ProofReader::read`]). A proof whose bytes are not
//! exactly what the verifier consumes is rejected ([`ProofReader::finish`]).

use crate::error::VerifyError;
use crate::field::{Fp, FIELD_BYTES};
use crate::labels::{label_of_tag, label_tag, Label};
use ark_serialize::{
    CanonicalDeserialize, CanonicalSerialize, Compress, SerializationError, Valid, Validate,
};
use std::io::{Read, Write};

pub const MAGIC: [u8; 4] = *b"GKRN";
/// The proof format's version. Version 2: layers whose lookup tables are identical share one
/// block of the table and one tag (`gkr::plan`), so version 1 proofs of such models no longer
/// verify.
pub const VERSION: u16 = 2;
pub const HEADER_BYTES: usize = 6;
/// Bytes in front of each message: tag and count.
pub const FRAME_BYTES: usize = 8;
/// The count's top bit marks a message of integers.
pub const INT_FLAG: u32 = 1 << 31;
/// The count's second bit marks a message of raw bytes.
pub const BYTES_FLAG: u32 = 1 << 30;
/// The count itself: below the two kind bits.
pub const COUNT_MASK: u32 = BYTES_FLAG - 1;
/// The longest varint of an i64.
const MAX_VARINT_BYTES: usize = 10;

/// One prover message: field elements, or (when `ints` is `Some`) integers, or (when `bytes`
/// is `Some`) raw bytes. At most one of `ints` and `bytes` is `Some`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub tag: u32,
    pub values: Vec<Fp>,
    pub ints: Option<Vec<i64>>,
    pub bytes: Option<Vec<u8>>,
}

impl Message {
    pub fn new(label: Label, values: Vec<Fp>) -> Self {
        Self { tag: label_tag(label), values, ints: None, bytes: None }
    }

    pub fn ints(label: Label, ints: Vec<i64>) -> Self {
        Self { tag: label_tag(label), values: Vec::new(), ints: Some(ints), bytes: None }
    }

    pub fn bytes(label: Label, bytes: Vec<u8>) -> Self {
        Self { tag: label_tag(label), values: Vec::new(), ints: None, bytes: Some(bytes) }
    }

    /// How many elements, integers or bytes the message holds (its count).
    pub fn len(&self) -> usize {
        match (&self.ints, &self.bytes) {
            (Some(ints), _) => ints.len(),
            (None, Some(bytes)) => bytes.len(),
            (None, None) => self.values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn body_len(&self) -> usize {
        match (&self.ints, &self.bytes) {
            (Some(ints), _) => ints.iter().map(|&v| varint_len(v)).sum(),
            (None, Some(bytes)) => bytes.len(),
            (None, None) => FIELD_BYTES * self.values.len(),
        }
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
        #[expect(clippy::expect_used, reason = "writing to a Vec cannot fail")]
        self.serialize_compressed(&mut out).expect("writing to a Vec cannot fail");
        out
    }

    pub fn encoded_len(&self) -> usize {
        HEADER_BYTES + self.messages.iter().map(|m| FRAME_BYTES + m.body_len()).sum::<usize>()
    }

    /// Decodes a whole proof without a statement (for inspection); verifiers read through
    /// [`ProofReader`] instead. Allocation grows only with bytes actually present.
    pub fn decode(bytes: &[u8]) -> Result<Self, VerifyError> {
        let mut reader = ProofReader::new(bytes)?;
        let mut messages = Vec::new();
        while reader.remaining() > 0 {
            let offset = reader.offset;
            let (tag, count) = reader.frame("any")?;
            let (label, len) = (label_of_tag(tag), (count & COUNT_MASK) as usize);
            match count & !COUNT_MASK {
                INT_FLAG => {
                    let ints = reader.integers(label, len)?;
                    messages.push(Message { tag, ints: Some(ints), ..Message::new(label, vec![]) });
                }
                BYTES_FLAG => {
                    let bytes = reader.take(label, len)?.to_vec();
                    messages.push(Message {
                        tag,
                        bytes: Some(bytes),
                        ..Message::new(label, vec![])
                    });
                }
                0 => {
                    if len.saturating_mul(FIELD_BYTES) > reader.remaining() {
                        return Err(VerifyError::Truncated {
                            offset,
                            label,
                            needed: len.saturating_mul(FIELD_BYTES) - reader.remaining(),
                        });
                    }
                    let values = reader.elements(label, len)?;
                    messages.push(Message { tag, ..Message::new(label, values) });
                }
                _ => return Err(VerifyError::UnknownMessageKind { offset, count }),
            }
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
            let count = u32::try_from(m.len())
                .ok()
                .filter(|&c| c & !COUNT_MASK == 0)
                .ok_or(SerializationError::NotEnoughSpace)?;
            writer.write_all(&m.tag.to_le_bytes())?;
            match (&m.ints, &m.bytes) {
                (Some(ints), _) => {
                    writer.write_all(&(count | INT_FLAG).to_le_bytes())?;
                    let mut buf = Vec::with_capacity(m.body_len());
                    ints.iter().for_each(|&v| write_varint(&mut buf, v));
                    writer.write_all(&buf)?;
                }
                (None, Some(bytes)) => {
                    writer.write_all(&(count | BYTES_FLAG).to_le_bytes())?;
                    writer.write_all(bytes)?;
                }
                (None, None) => {
                    writer.write_all(&count.to_le_bytes())?;
                    for v in &m.values {
                        v.serialize_with_mode(&mut writer, compress)?;
                    }
                }
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
        if bytes.get(..MAGIC.len()) != Some(MAGIC.as_slice()) {
            return Err(VerifyError::BadMagic { expected: MAGIC });
        }
        let version = match bytes.get(MAGIC.len()..HEADER_BYTES) {
            Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
            _ => {
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
        if tag != label_tag(label) || count & !COUNT_MASK != 0 {
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

    /// The next message, which must be `label` with exactly `len` integers.
    pub fn read_ints(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        self.read_ints_raw(label, len).map(|(ints, _)| ints)
    }

    /// [`ProofReader::read_ints`], also returning the message's varint bytes (their shortest
    /// form is enforced, so they are the canonical encoding of the integers).
    pub fn read_ints_raw(
        &mut self,
        label: Label,
        len: usize,
    ) -> Result<(Vec<i64>, &'a [u8]), VerifyError> {
        let offset = self.offset;
        let (tag, count) = self.frame(label)?;
        if tag != label_tag(label) || count & !COUNT_MASK != INT_FLAG {
            return Err(VerifyError::UnexpectedMessage {
                offset,
                expected: label,
                found: label_of_tag(tag),
            });
        }
        let count = count & COUNT_MASK;
        if count as usize != len {
            return Err(VerifyError::MessageLength {
                offset,
                label,
                expected: len,
                got: count.into(),
            });
        }
        let start = self.offset;
        let ints = self.integers(label, len)?;
        #[expect(
            clippy::indexing_slicing,
            reason = "start <= self.offset <= bytes.len(): `integers` only moves the offset forward, over bytes it read through `get`"
        )]
        let raw = &self.bytes[start..self.offset];
        Ok((ints, raw))
    }

    /// The next message, which must be `label` with exactly `len` raw bytes.
    pub fn read_bytes(&mut self, label: Label, len: usize) -> Result<&'a [u8], VerifyError> {
        let offset = self.offset;
        let (tag, count) = self.frame(label)?;
        if tag != label_tag(label) || count & !COUNT_MASK != BYTES_FLAG {
            return Err(VerifyError::UnexpectedMessage {
                offset,
                expected: label,
                found: label_of_tag(tag),
            });
        }
        let count = count & COUNT_MASK;
        if count as usize != len {
            return Err(VerifyError::MessageLength {
                offset,
                label,
                expected: len,
                got: count.into(),
            });
        }
        self.take(label, len)
    }

    /// Succeeds only if every byte has been read.
    pub fn finish(self) -> Result<(), VerifyError> {
        match self.remaining() {
            0 => Ok(()),
            remaining => Err(VerifyError::TrailingBytes { offset: self.offset, remaining }),
        }
    }

    /// The bytes not read yet (`offset <= bytes.len()` always holds).
    fn rest(&self) -> &'a [u8] {
        self.bytes.get(self.offset..).unwrap_or_default()
    }

    fn take(&mut self, label: Label, n: usize) -> Result<&'a [u8], VerifyError> {
        let rest = self.rest();
        let Some((out, _)) = rest.split_at_checked(n) else {
            return Err(VerifyError::Truncated {
                offset: self.offset,
                label,
                needed: n - rest.len(),
            });
        };
        self.offset += n;
        Ok(out)
    }

    fn frame(&mut self, label: Label) -> Result<(u32, u32), VerifyError> {
        let rest = self.rest();
        let Some((&[t0, t1, t2, t3, c0, c1, c2, c3], _)) = rest.split_first_chunk::<FRAME_BYTES>()
        else {
            return Err(VerifyError::Truncated {
                offset: self.offset,
                label,
                needed: FRAME_BYTES - rest.len(),
            });
        };
        self.offset += FRAME_BYTES;
        Ok((u32::from_le_bytes([t0, t1, t2, t3]), u32::from_le_bytes([c0, c1, c2, c3])))
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

    /// `len` varints; allocation grows only with the bytes present.
    fn integers(&mut self, label: Label, len: usize) -> Result<Vec<i64>, VerifyError> {
        if len > self.remaining() {
            return Err(VerifyError::Truncated {
                offset: self.offset,
                label,
                needed: len - self.remaining(),
            });
        }
        let mut out = Vec::with_capacity(len);
        let bytes = self.bytes;
        let mut pos = self.offset;
        for _ in 0..len {
            let start = pos;
            let mut acc: u64 = 0;
            let mut i = 0;
            loop {
                let Some(&byte) = bytes.get(pos) else {
                    self.offset = pos;
                    return Err(VerifyError::Truncated { offset: pos, label, needed: 1 });
                };
                pos += 1;
                // the 10th byte may only carry the top bit of a u64; a final zero byte would be
                // a second encoding of the same value
                if i == MAX_VARINT_BYTES - 1 && byte > 1 || (i > 0 && byte == 0) {
                    self.offset = pos;
                    return Err(VerifyError::MalformedInteger { offset: start });
                }
                acc |= u64::from(byte & 0x7f) << (7 * i);
                i += 1;
                if byte & 0x80 == 0 {
                    break;
                }
            }
            out.push(((acc >> 1) as i64) ^ -((acc & 1) as i64));
        }
        self.offset = pos;
        Ok(out)
    }
}

/// The varint encoding of integers, as it stands in an integer message.
pub fn encode_ints(ints: &[i64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(ints.len() * 2);
    ints.iter().for_each(|&v| write_varint(&mut out, v));
    out
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn varint_len(v: i64) -> usize {
    let bits = 64 - zigzag(v).leading_zeros() as usize;
    bits.div_ceil(7).max(1)
}

fn write_varint(out: &mut Vec<u8>, v: i64) {
    let mut z = zigzag(v);
    while z >= 0x80 {
        out.push((z as u8) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::MODULUS;
    use crate::labels;

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
        for old_or_new in [1u8, 3] {
            assert_eq!(
                ProofReader::new(&[b'G', b'K', b'R', b'N', old_or_new, 0]).err(),
                Some(VerifyError::UnsupportedVersion { got: old_or_new.into(), supported: 2 })
            );
        }
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
    fn integer_messages_round_trip_and_reject_overlong_varints() {
        let ints = vec![0, 1, -1, 63, -64, 64, 300, i64::MAX, i64::MIN, -12345678901];
        let p = Proof {
            messages: vec![
                Message::ints(labels::SUMCHECK_ROUND, ints.clone()),
                Message::new(labels::SUMCHECK_FINAL_EVALS, vec![Fp::from(5u64)]),
            ],
        };
        let bytes = p.encode();
        assert_eq!(bytes.len(), p.encoded_len());
        assert_eq!(Proof::decode(&bytes), Ok(p.clone()));
        let mut r = ProofReader::new(&bytes).unwrap();
        assert!(matches!(
            r.read(labels::SUMCHECK_ROUND, ints.len()),
            Err(VerifyError::UnexpectedMessage { .. })
        ));
        let mut r = ProofReader::new(&bytes).unwrap();
        assert_eq!(r.read_ints(labels::SUMCHECK_ROUND, ints.len()).unwrap(), ints);
        // 0 written as two bytes (0x80 0x00) is not the shortest form
        let one = Proof { messages: vec![Message::ints(labels::SUMCHECK_ROUND, vec![0])] };
        let mut bad = one.encode();
        bad.push(0);
        *bad.last_mut().unwrap() = 0x00;
        bad[HEADER_BYTES + FRAME_BYTES] = 0x80;
        let mut r = ProofReader::new(&bad).unwrap();
        assert_eq!(
            r.read_ints(labels::SUMCHECK_ROUND, 1),
            Err(VerifyError::MalformedInteger { offset: HEADER_BYTES + FRAME_BYTES })
        );
        let mut huge = one.encode();
        huge.truncate(HEADER_BYTES + FRAME_BYTES);
        huge.extend_from_slice(&[0xff; 11]);
        let mut r = ProofReader::new(&huge).unwrap();
        assert!(matches!(
            r.read_ints(labels::SUMCHECK_ROUND, 1),
            Err(VerifyError::MalformedInteger { .. })
        ));
    }

    #[test]
    fn bytes_messages_round_trip_and_reject_other_kinds() {
        let raw: Vec<u8> = (0..40u8).collect();
        let p = Proof {
            messages: vec![
                Message::bytes(labels::PCS_HASHES, raw.clone()),
                Message::bytes(labels::PCS_HASHES, vec![]),
            ],
        };
        let bytes = p.encode();
        assert_eq!(bytes.len(), HEADER_BYTES + 2 * FRAME_BYTES + 40);
        assert_eq!(p.encoded_len(), bytes.len());
        assert_eq!(Proof::decode(&bytes), Ok(p.clone()));
        let mut r = ProofReader::new(&bytes).unwrap();
        assert_eq!(r.read_bytes(labels::PCS_HASHES, 40).unwrap(), &raw[..]);
        assert_eq!(r.read_bytes(labels::PCS_HASHES, 0).unwrap(), &[] as &[u8]);
        assert_eq!(r.finish(), Ok(()));
        let mut r = ProofReader::new(&bytes).unwrap();
        assert!(matches!(
            r.read_ints(labels::PCS_HASHES, 40),
            Err(VerifyError::UnexpectedMessage { offset: HEADER_BYTES, .. })
        ));
        let mut r = ProofReader::new(&bytes).unwrap();
        assert!(matches!(
            r.read_bytes(labels::PCS_PAIRS, 40),
            Err(VerifyError::UnexpectedMessage { offset: HEADER_BYTES, .. })
        ));
        // both kind bits set: no kind
        let mut bad = bytes.clone();
        bad[HEADER_BYTES + 7] |= 0xc0;
        assert_eq!(
            Proof::decode(&bad),
            Err(VerifyError::UnknownMessageKind { offset: HEADER_BYTES, count: 0xc000_0028 })
        );
        let mut r = ProofReader::new(&bad).unwrap();
        assert!(matches!(
            r.read_bytes(labels::PCS_HASHES, 40),
            Err(VerifyError::UnexpectedMessage { offset: HEADER_BYTES, .. })
        ));
        let cut = &bytes[..HEADER_BYTES + FRAME_BYTES + 10];
        assert!(matches!(Proof::decode(cut), Err(VerifyError::Truncated { needed: 30, .. })));
    }

    #[test]
    fn decode_does_not_trust_a_huge_count() {
        let with_count = |count: u32| {
            let mut bytes = MAGIC.to_vec();
            bytes.extend_from_slice(&VERSION.to_le_bytes());
            bytes.extend_from_slice(&label_tag(labels::SUMCHECK_ROUND).to_le_bytes());
            bytes.extend_from_slice(&count.to_le_bytes());
            bytes
        };
        for count in [COUNT_MASK, INT_FLAG | COUNT_MASK, BYTES_FLAG | COUNT_MASK] {
            assert!(matches!(
                Proof::decode(&with_count(count)),
                Err(VerifyError::Truncated { .. })
            ));
        }
        assert_eq!(
            Proof::decode(&with_count(u32::MAX)),
            Err(VerifyError::UnknownMessageKind { offset: HEADER_BYTES, count: u32::MAX })
        );
    }
}
