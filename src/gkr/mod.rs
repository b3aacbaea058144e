//! The GKR driver: proves a whole model, layer by layer from the claimed output back to the input.
//!
//! Transcript order (prover and verifier alike):
//! 1. protocol name and version, the model digest (the hash of its canonical encoding), the input
//!    (blake3 digest), a model commitment's root and parameters, the advice mode;
//! 2. the claimed output, then **all advice** of every layer (committed outputs, quotients, limbs,
//!    bits) and both lookups' multiplicities, through the [`advice`] scheme — before any
//!    challenge, so no advice can be chosen knowing the point it will be checked at;
//! 3. a random point on the output, checked against the committed (or reduced) output;
//! 4. one LogUp for every 16-bit range check of the proof (one shared table), then one LogUp for
//!    every table lookup (activations, threshold requantizations: one shared table of every
//!    layer's rows, each tuple folded with its layer tag by β);
//! 5. layers in reverse: each layer's elementwise relations by one eq-weighted zero-check
//!    sumcheck, each virtual output (dense) by its own sub-protocol; claims on committed tensors
//!    are openings, claims on the input are checked against it, several claims on one virtual
//!    tensor are merged by sumcheck;
//! 6. the advice's openings, then the committed weights' (one batched Basefold opening each).
//!
//! Files, one per phase, each with its prover and verifier side by side: `statement.rs` (1–2),
//! `lookups.rs` (4), `zerocheck.rs` (5, relations), `routing.rs` (where claims go, virtual outputs);
//! [`prover`] and [`verifier`] are the two drivers, `plan.rs` what both derive from the model,
//! [`phases`] the per-phase tracing spans and timing hook.

pub mod accept;
pub mod advice;
mod context;
pub mod file;
mod lookups;
pub mod phases;
mod plan;
pub mod prover;
mod routing;
mod statement;
pub mod verifier;
pub mod weights;
mod zerocheck;

pub use accept::{committed_digest, verify_file, Policy, VerifiedOutput, VerifierKey};
pub use advice::AdviceMode;
pub use file::ProofFile;
pub use phases::{PhaseHook, PhaseLog};
pub use prover::{prove, prove_bytes, ModelProof, ProveOptions};
pub use statement::PROTOCOL;
pub use verifier::{verify, verify_bytes, KeyRef, VerifyOptions};
pub use weights::{commit_model, ModelCommitment, WeightsProver};
