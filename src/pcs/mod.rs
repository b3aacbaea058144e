//! Groundwork for the transparent multilinear polynomial commitment (issue 10): the Merkle tree
//! over blake3 and the Reed–Solomon encoder over gkrnet's field (ark-poly's radix-2 FFT; the
//! field's 2-adicity is 65). The scheme itself (choice, parameters, measured costs of these
//! primitives on this machine) is discussed in `paper-notes/pcs.md`; it is not wired into the
//! GKR driver yet, and nothing here is used by the model proofs.

pub mod basefold;
pub mod code;
pub mod merkle;

pub use code::ReedSolomon;
pub use merkle::{Hash, MerkleTree};
