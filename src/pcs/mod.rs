//! The transparent multilinear polynomial commitment: a Basefold-style PCS
//! ([`basefold`]) over the Merkle tree of blake3 ([`merkle`]) and the Reed–Solomon encoder over
//! gkrnet's field ([`code`]: ark-poly's radix-2 FFT; the field's 2-adicity is 65). The GKR
//! driver's committed-advice mode opens it. The scheme, its parameters, its soundness and its
//! measured costs on this machine are in `paper-notes/pcs.md`.

pub mod basefold;
pub mod code;
pub mod merkle;

pub use code::ReedSolomon;
pub use merkle::{Hash, MerkleTree};
