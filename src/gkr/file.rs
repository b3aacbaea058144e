//! The proof file the CLI writes (`.gkr`): the model digest the proof was made for, the int8
//! output it claims, and the proof stream. The digest is only a label for error messages and
//! inspection: the verifier absorbs its own model's digest, so a proof made for another model
//! fails whatever the label says.
//!
//! ```text
//! file = "GKRF" ‖ version u16 ‖ model digest [32] ‖ advice mode [5] ‖ weights flag u8 ‖
//!        (model commitment root [32] if the flag is 1) ‖ output rank u8 ‖ dims u32* ‖
//!        proof length u64 ‖ proof (the "GKRN" stream of `crate::proof`)
//! ```
//! Version 1 files (no mode, no flag) are read as clear-advice proofs.
//!
//! A model commitment (`.gkrc`, [`CommitmentFile`]) is the verifier's copy of a model whose large
//! weight matrices are committed:
//! ```text
//! file = "GKRC" ‖ version u16 ‖ PCS parameters [5] ‖ root [32] ‖ model length u64 ‖
//!        the stripped model (a ".gkrm" encoding)
//! ```

use super::advice::AdviceMode;
use super::weights::ModelCommitment;
use crate::circuit::{Model, Tensor};
use crate::codec::{ByteReader, ByteWriter, CodecError};
use thiserror::Error;

pub const MAGIC: [u8; 4] = *b"GKRF";
/// Version 2 added the advice mode and the model commitment's root.
pub const VERSION: u16 = 2;

/// A proof as stored on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofFile {
    pub digest: [u8; 32],
    /// How the proof binds its advice (the verifier must use the same mode).
    pub advice: AdviceMode,
    /// The root of the model commitment the proof's weight claims are opened against, if any.
    pub weights_root: Option<[u8; 32]>,
    pub output_dims: Vec<usize>,
    pub proof: Vec<u8>,
}

/// A malformed proof file, with the byte offset.
#[derive(Debug, Error, PartialEq, Eq)]
#[error("malformed proof file at byte {offset}: {what}")]
pub struct FileError {
    pub offset: usize,
    pub what: String,
}

impl ProofFile {
    /// A clear-advice proof of a model held in full.
    pub fn new(digest: [u8; 32], output: &Tensor, proof: Vec<u8>) -> Self {
        Self {
            digest,
            advice: AdviceMode::Clear,
            weights_root: None,
            output_dims: output.dims.clone(),
            proof,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = ByteWriter(Vec::with_capacity(96 + self.proof.len()));
        w.raw(&MAGIC);
        w.u16(VERSION);
        w.raw(&self.digest);
        w.raw(&self.advice.to_bytes());
        match &self.weights_root {
            None => w.u8(0),
            Some(root) => {
                w.u8(1);
                w.raw(root);
            }
        }
        w.u8(self.output_dims.len() as u8);
        for &d in &self.output_dims {
            w.u32(d as u32);
        }
        w.u64(self.proof.len() as u64);
        w.raw(&self.proof);
        w.0
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, FileError> {
        let mut r = ByteReader::new(bytes);
        if r.array::<4>("the magic").ok() != Some(MAGIC) {
            return Err(FileError { offset: 0, what: "not a gkrnet proof (magic GKRF)".into() });
        }
        let version = r.u16()?;
        if version != 1 && version != VERSION {
            return Err(FileError {
                offset: 4,
                what: format!("proof file version {version}, this build reads 1 and {VERSION}"),
            });
        }
        let digest = r.array::<32>("the model digest")?;
        let (mut advice, mut weights_root) = (AdviceMode::Clear, None);
        if version >= 2 {
            let at = r.offset();
            let m = r.array::<5>("the advice mode")?;
            advice = AdviceMode::from_bytes(m).ok_or_else(|| FileError {
                offset: at,
                what: format!("unknown advice mode {m:?}"),
            })?;
            let at = r.offset();
            match r.u8()? {
                0 => {}
                1 => weights_root = Some(r.array::<32>("the model commitment root")?),
                f => {
                    return Err(FileError {
                        offset: at,
                        what: format!("weights flag {f}, not 0 or 1"),
                    })
                }
            }
        }
        let rank = r.u8()? as usize;
        let output_dims =
            (0..rank).map(|_| r.u32().map(|d| d as usize)).collect::<Result<Vec<_>, _>>()?;
        let at = r.offset();
        let len = r.u64()?;
        let left = r.remaining() as u64;
        if len != left {
            return Err(FileError {
                offset: at,
                what: format!("the proof length says {len} bytes, {left} follow"),
            });
        }
        let proof = r.take(r.remaining(), "the proof")?.to_vec();
        Ok(Self { digest, advice, weights_root, output_dims, proof })
    }
}

impl From<CodecError> for FileError {
    fn from(e: CodecError) -> Self {
        FileError { offset: e.offset, what: format!("truncated or malformed: {}", e.what) }
    }
}

pub const COMMITMENT_MAGIC: [u8; 4] = *b"GKRC";
/// Version 2: the stripped dense layers hold no column sums, hash or bound (tag 9), and the
/// digest a verifier compares covers the stripped model, the parameters and the root.
pub const COMMITMENT_VERSION: u16 = 2;

/// A model commitment as stored on disk: the root and parameters, and the stripped model.
#[derive(Debug)]
pub struct CommitmentFile {
    pub commitment: ModelCommitment,
    pub model: Model,
}

impl CommitmentFile {
    /// The verifier's key this file holds.
    pub fn into_key(self) -> super::VerifierKey {
        super::VerifierKey::Committed { model: self.model, commitment: self.commitment }
    }

    pub fn encode(&self) -> Vec<u8> {
        let model = self.model.encode();
        let mut w = ByteWriter(Vec::with_capacity(51 + model.len()));
        w.raw(&COMMITMENT_MAGIC);
        w.u16(COMMITMENT_VERSION);
        w.raw(&AdviceMode::Committed(self.commitment.params).to_bytes());
        w.raw(&self.commitment.root);
        w.u64(model.len() as u64);
        w.raw(&model);
        w.0
    }

    /// # Errors
    /// A malformed header (with its offset), or a model that does not decode or holds no
    /// committed layer.
    pub fn decode(bytes: &[u8]) -> Result<Self, FileError> {
        let at = |offset: usize, what: String| FileError { offset, what };
        let mut r = ByteReader::new(bytes);
        if r.array::<4>("the magic").ok() != Some(COMMITMENT_MAGIC) {
            return Err(at(0, "not a gkrnet model commitment (magic GKRC)".into()));
        }
        let version = r.u16()?;
        if version != COMMITMENT_VERSION {
            return Err(at(
                4,
                format!("commitment file version {version}, this build reads {COMMITMENT_VERSION}"),
            ));
        }
        let m_at = r.offset();
        let m = r.array::<5>("the parameters")?;
        let params = match AdviceMode::from_bytes(m) {
            Some(AdviceMode::Committed(p)) => p,
            _ => return Err(at(m_at, format!("unknown PCS parameters {m:?}"))),
        };
        let root = r.array::<32>("the root")?;
        let len_at = r.offset();
        let len = r.u64()?;
        let left = r.remaining() as u64;
        if len != left {
            return Err(at(len_at, format!("the model length says {len} bytes, {left} follow")));
        }
        let start = r.offset();
        let body = r.take(r.remaining(), "the model")?;
        let model = Model::decode(body).map_err(|e| at(start, format!("the model: {e}")))?;
        if !model.layers.iter().any(|l| l.weights_committed()) {
            return Err(at(start, "the model has no committed layer".into()));
        }
        Ok(Self { commitment: ModelCommitment { params, root }, model })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::circuit::zoo;
    use crate::pcs::basefold::Params;

    #[test]
    fn proof_files_round_trip_and_version_1_reads_as_clear() {
        let output = Tensor::new(vec![1, 3], vec![1, -2, 3]).unwrap();
        let mut f = ProofFile::new([7; 32], &output, vec![9, 8, 7]);
        assert_eq!(ProofFile::decode(&f.encode()), Ok(f.clone()));
        f.advice = AdviceMode::PROVABLE;
        f.weights_root = Some([3; 32]);
        let bytes = f.encode();
        assert_eq!(ProofFile::decode(&bytes), Ok(f.clone()));
        for cut in 0..bytes.len() {
            assert!(ProofFile::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // version 1: no mode, no flag
        let mut v1 = b"GKRF".to_vec();
        v1.extend_from_slice(&1u16.to_le_bytes());
        v1.extend_from_slice(&[7; 32]);
        v1.push(2);
        for d in [1u32, 3] {
            v1.extend_from_slice(&d.to_le_bytes());
        }
        v1.extend_from_slice(&3u64.to_le_bytes());
        v1.extend_from_slice(&[9, 8, 7]);
        let old = ProofFile::decode(&v1).unwrap();
        assert_eq!(
            (old.advice, old.weights_root, old.proof),
            (AdviceMode::Clear, None, vec![9, 8, 7])
        );
        // an unknown mode is named with its offset
        let mut bad = bytes.clone();
        bad[38] = 9;
        assert_eq!(ProofFile::decode(&bad).map_err(|e| e.offset), Err(38));
    }

    #[test]
    fn commitment_files_round_trip_and_reject_damage() {
        let model = zoo::mlp("m", &[256, 128, 10], 1, 1).unwrap();
        let (prover, wp) = crate::gkr::commit_model(&model, Params::CONJECTURED).unwrap();
        let stripped = ModelCommitment::stripped(&prover).unwrap();
        let file = CommitmentFile { commitment: wp.commitment(), model: stripped };
        let bytes = file.encode();
        let back = CommitmentFile::decode(&bytes).unwrap();
        assert_eq!(back.commitment, wp.commitment());
        // the prover's copy and the stripped one encode (and digest) alike; the full model not
        assert_eq!(back.model.digest(), prover.digest());
        assert_eq!(back.model.encode(), prover.encode());
        assert_ne!(back.model.digest(), model.digest());
        for cut in [0, 3, 5, 10, 42, 50, 51, bytes.len() - 1] {
            assert!(CommitmentFile::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        // the full model is not a commitment
        let mut full = bytes[..43].to_vec();
        let enc = model.encode();
        full.extend_from_slice(&(enc.len() as u64).to_le_bytes());
        full.extend_from_slice(&enc);
        assert!(CommitmentFile::decode(&full).is_err());
    }
}
