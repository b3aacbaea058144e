//! # gkrnet
//!
//! Sumcheck-based interactive proofs (GKR) that an int8-quantized neural network produced a given
//! output. Proofs are sound but **not zero-knowledge**: they may reveal weights and intermediate
//! values.
//!
//! | module | what it holds |
//! |---|---|
//! | [`field`] | the prime field p = 2^127 − 2^65 + 1, integer embeddings, delayed-reduction dot products |
//! | [`poly`] | multilinear extensions (index bit i = xᵢ), the eq table, univariate round polynomials |
//! | [`transcript`] | the transcript traits, Fiat–Shamir through merlin, a recording wrapper |
//! | [`proof`] | the canonical, versioned proof encoding and its reader |
//! | [`npy`] | the guard on `.npy` headers run before `npyz` reads a file |
//! | [`quant`] | quantized integer arithmetic: fixed-point rescaling, half-to-even requantization |
//! | [`lookup`] | LogUp lookups proved with the fractional-sum GKR circuit |
//! | [`merge`] | several claims on one MLE at different points merged into one |
//! | [`matmul`] | Thaler's matrix-product protocol, the exact int8 GEMM, Freivalds' check |
//! | [`sumcheck`] | prover and verifier for sums of products of multilinear polynomials |
//! | [`error`] | `ProveError`, `VerifyError`, `PcsError` |
//!
//! ```text
//! field ← poly ← sumcheck ← matmul, lookup, merge ← (circuit, gkr: issue 5)
//!   ↑        transcript ← proof
//! quant (integer reference arithmetic, no field)
//! ```
// Lints live in Cargo.toml ([lints]): unsafe code is denied everywhere but in `matmul::gemm`,
// whose calls into tract-linalg's kernels are `unsafe fn`s (each call carries a SAFETY comment);
// unwrap, expect, panic and unchecked indexing are denied in every module.

pub mod circuit;
pub mod codec;
pub mod error;
pub mod field;
pub mod gkr;
pub mod labels;
pub mod lookup;
pub mod matmul;
pub mod merge;
pub mod net;
pub mod npy;
#[cfg(feature = "onnx")]
pub mod onnx;
pub mod pcs;
pub mod poly;
pub mod proof;
pub mod quant;
pub mod sumcheck;
pub mod transcript;

pub use error::{PcsError, ProveError, VerifyError};
pub use field::Fp;
