//! The proof file the CLI writes (`.gkr`): the model digest the proof was made for, the int8
//! output it claims, and the proof stream. The digest is only a label for error messages and
//! inspection: the verifier absorbs its own model's digest, so a proof made for another model
//! fails whatever the label says.
//!
//! ```text
//! file = "GKRF" ‖ version u16 ‖ model digest [32] ‖ output rank u8 ‖ dims u32* ‖
//!        proof length u64 ‖ proof (the "GKRN" stream of `crate::proof`)
//! ```

use crate::circuit::Tensor;
use thiserror::Error;

pub const MAGIC: [u8; 4] = *b"GKRF";
pub const VERSION: u16 = 1;

/// A proof as stored on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofFile {
    pub digest: [u8; 32],
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
    pub fn new(digest: [u8; 32], output: &Tensor, proof: Vec<u8>) -> Self {
        Self { digest, output_dims: output.dims.clone(), proof }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(48 + self.proof.len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&self.digest);
        out.push(self.output_dims.len() as u8);
        for &d in &self.output_dims {
            out.extend_from_slice(&(d as u32).to_le_bytes());
        }
        out.extend_from_slice(&(self.proof.len() as u64).to_le_bytes());
        out.extend_from_slice(&self.proof);
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, FileError> {
        let mut at = 0usize;
        let mut take = |n: usize, what: &str| -> Result<&[u8], FileError> {
            let s = bytes.get(at..at + n).ok_or_else(|| FileError {
                offset: at,
                what: format!("truncated: {what} needs {n} bytes, {} left", bytes.len() - at),
            })?;
            at += n;
            Ok(s)
        };
        if take(4, "the magic")? != MAGIC {
            return Err(FileError { offset: 0, what: "not a gkrnet proof (magic GKRF)".into() });
        }
        let v = take(2, "the version")?;
        let version = u16::from_le_bytes([v[0], v[1]]);
        if version != VERSION {
            return Err(FileError {
                offset: 4,
                what: format!("proof file version {version}, this build reads {VERSION}"),
            });
        }
        let mut digest = [0u8; 32];
        digest.copy_from_slice(take(32, "the model digest")?);
        let rank = take(1, "the output rank")?[0] as usize;
        let mut output_dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            let d = take(4, "an output dimension")?;
            output_dims.push(u32::from_le_bytes([d[0], d[1], d[2], d[3]]) as usize);
        }
        let l = take(8, "the proof length")?;
        let len = u64::from_le_bytes(l.try_into().unwrap_or([0; 8]));
        let start = 4 + 2 + 32 + 1 + 4 * rank + 8;
        let left = (bytes.len() - start) as u64;
        if len != left {
            return Err(FileError {
                offset: start - 8,
                what: format!("the proof length says {len} bytes, {left} follow"),
            });
        }
        Ok(Self { digest, output_dims, proof: bytes[start..].to_vec() })
    }
}
