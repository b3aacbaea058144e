//! # gkrnet
//!
//! Sumcheck-based interactive proofs (GKR) that an int8-quantized neural network produced a given
//! output. Proofs are sound but **not zero-knowledge**: they may reveal weights and intermediate
//! values.
//!
//! ## Module map
//!
//! | module | what it holds |
//! |---|---|
//! | [`field`] | the prime field p = 2^127 − 2^65 + 1, integer embeddings, delayed-reduction dot products |
//! | [`poly`] | multilinear extensions (index bit i = xᵢ), the eq table, univariate round polynomials |
//! | [`labels`] | every protocol label and the message tags (a leaf: depends on nothing) |
//! | [`proof`] | the canonical, versioned proof encoding and its reader |
//! | [`transcript`] | the transcript traits, Fiat–Shamir through merlin, a recording wrapper |
//! | [`sumcheck`] | prover and verifier for sums of products of multilinear polynomials |
//! | [`lookup`] | LogUp lookups proved with the fractional-sum GKR circuit |
//! | [`merge`] | several claims on one MLE at different points merged into one |
//! | [`matmul`] | Thaler's matrix-product protocol, the exact int8 GEMM, Freivalds' check |
//! | [`pcs`] | Basefold: a transparent multilinear commitment over blake3 Merkle trees |
//! | [`quant`] | quantized integer arithmetic: fixed-point rescaling, half-to-even requantization |
//! | [`codec`] | bounded byte reader and writer shared by every file and frame format |
//! | [`circuit`] | tensors, layers, each registered with its record in the operator registry `circuit::OPS` (dense, convolution, requantization, activations, pooling, wiring, concatenation; products and dots of computed tensors, sums and prefix sums along an axis, broadcasts, the argmax), the model, its canonical encoding and digest, the integer reference, seeded models |
//! | [`gkr`] | the model proof: one `prove` and one `verify`, split by phase (statement, lookups, zero-check, routing), advice schemes, model commitments, proof files, the acceptance policy |
//! | [`net`] | interactive proofs over TCP: frames, the server and the client |
//! | [`npy`] | the guard on `.npy` headers run before `npyz` reads a file |
//! | `onnx` | ONNX import through tract (feature `onnx`): float, QOperator and QDQ graphs to a [`circuit::Model`] |
//! | [`error`] | `ProveError`, `VerifyError`, `PcsError` |
//!
//! ## Dependencies (an arrow points at what a module uses; there is no cycle)
//!
//! ```text
//! labels ← proof ← transcript
//! field ← poly ← sumcheck ← lookup ← matmul
//!                         ← merge
//!             pcs (field, poly, transcript)
//! quant, codec, npy (no field)
//! circuit (sumcheck, matmul, lookup, quant, codec) ← gkr (circuit, merge, pcs) ← net
//! onnx (circuit, quant, npy)           the binary (cli) uses every public module
//! ```
//!
//! A proof: [`gkr::prove`] runs the integer reference [`circuit::Model::forward`] and proves it
//! over a transcript; [`gkr::verify`] checks it against a [`gkr::VerifierKey`] (the model, or a
//! model commitment) and the input. [`gkr::prove_bytes`] / [`gkr::verify_bytes`] do the same under
//! Fiat–Shamir, and [`gkr::verify_file`] applies the acceptance policy to a proof file.
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
#[cfg(any(feature = "gemm", feature = "onnx"))]
pub mod tract_isa;
pub mod transcript;

pub use error::{PcsError, ProveError, VerifyError};
pub use field::Fp;
