//! Proofs of int8 matrix products C = A·B (Thaler, "Time-Optimal Interactive Proofs for Circuit
//! Evaluation", CRYPTO 2013, §5.1; *Proofs, Arguments, and Zero-Knowledge* §4.4).
//!
//! A is m×n, B is n×k (int8), C is m×k (int32), all row-major. Each axis is zero-padded to a power
//! of two on its own (see [`crate::poly`]'s matrix layout: column variables first), so
//!
//! ```text
//!   C̃(r_row, r_col) = Σ_{j ∈ {0,1}^(log n)} Ã(r_row, j) · B̃(j, r_col)
//! ```
//! holds for every point: a claim on C becomes, after one degree-2 sumcheck over the ⌈log₂ n⌉
//! inner variables, the claims Ã(r_row, ρ) and B̃(ρ, r_col) at the sumcheck's point ρ.
//!
//! * [`prove`] / [`verify`]: that reduction, for a claim on C from anywhere (a GKR layer or the
//!   outsourced-product statement below). The prover folds A and B **straight from int8** into the
//!   two sumcheck tables with delayed-reduction sums: O(mn + nk) work, no field copy of A or B.
//! * [`prove_product`] / [`verify_product`]: the outsourced product. The statement (shapes and
//!   blake3 digests of A, B and C) is absorbed before r_row and r_col are drawn; the verifier
//!   evaluates C̃(r_row, r_col), Ã(r_row, ρ) and B̃(ρ, r_col) itself in O(mn + nk + mk) and never
//!   multiplies the matrices.
//!
//! Soundness: ⌈log₂ n⌉·2/p for the sumcheck (paper-notes/matmul.md); the final claims are
//! checked exactly by a verifier that holds A and B.

pub mod freivalds;
pub mod gemm;
pub mod prover;
pub mod verifier;

pub use prover::{prove, prove_centered, prove_product};
pub use verifier::{verify, verify_product};

use crate::error::VerifyError;
use crate::field::Fp;
use crate::poly::num_vars_for;
use crate::sumcheck::{EvalClaim, Term};
use crate::transcript::{append_digest, labels, FiatShamirProver, FiatShamirVerifier, Transcript};

/// The protocol label of a standalone matrix-product proof (merlin's domain separator).
pub const PROTOCOL: &str = "gkrnet matmul v1";

/// Largest inner dimension: |Σ_{t<n} a_t·b_t| ≤ n·2^14 must fit an i32, so n ≤ 2^17 − 1.
pub const MAX_INNER: usize = (1 << 17) - 1;

/// The shapes of C (m×k) = A (m×n) · B (n×k).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

impl Shape {
    /// Variables of the row axis of A and C.
    pub fn row_vars(&self) -> usize {
        num_vars_for(self.m)
    }

    /// Variables of the inner axis (the sumcheck's variables).
    pub fn inner_vars(&self) -> usize {
        num_vars_for(self.n)
    }

    /// Variables of the column axis of B and C.
    pub fn col_vars(&self) -> usize {
        num_vars_for(self.k)
    }
}

/// A claim C̃(r_row, r_col) = value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProductClaim {
    pub r_row: Vec<Fp>,
    pub r_col: Vec<Fp>,
    pub value: Fp,
}

/// The claims a matrix-product proof leaves: Ã(r_row, ρ) (point `ρ ‖ r_row`) and B̃(ρ, r_col)
/// (point `r_col ‖ ρ`), in the matrix layout of [`crate::poly::evaluate_matrix_i8`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FactorClaims {
    pub a: EvalClaim,
    pub b: EvalClaim,
}

/// The one product term Ã·B̃ of the sumcheck (tables 0 and 1).
pub(crate) fn terms() -> Vec<Term> {
    vec![Term::product(vec![0, 1])]
}

/// The factor claims from the sumcheck point ρ and the two evaluations. Shared by both sides.
pub(crate) fn factor_claims(
    claim: &ProductClaim,
    rho: &[Fp],
    a_value: Fp,
    b_value: Fp,
) -> FactorClaims {
    FactorClaims {
        a: EvalClaim { point: rho.iter().chain(&claim.r_row).copied().collect(), value: a_value },
        b: EvalClaim { point: claim.r_col.iter().chain(rho).copied().collect(), value: b_value },
    }
}

/// Absorbs the statement of an outsourced product: shapes, then the blake3 digests of A, B and C
/// (each with its length). Both sides call this before any challenge.
pub fn absorb_statement(t: &mut impl Transcript, shape: &Shape, a: &[i8], b: &[i8], c: &[i32]) {
    t.append_u64(labels::MATMUL_SHAPE, shape.m as u64);
    t.append_u64(labels::MATMUL_SHAPE, shape.n as u64);
    t.append_u64(labels::MATMUL_SHAPE, shape.k as u64);
    append_digest(t, labels::MATMUL_A, bytemuck::cast_slice(a));
    append_digest(t, labels::MATMUL_B, bytemuck::cast_slice(b));
    append_digest(t, labels::MATMUL_C, &le_bytes_i32(c));
}

/// Draws the point on C: r_col then r_row.
pub(crate) fn draw_point(t: &mut impl Transcript, shape: &Shape) -> (Vec<Fp>, Vec<Fp>) {
    let r_col = t.challenges(labels::MATMUL_POINT, shape.col_vars());
    let r_row = t.challenges(labels::MATMUL_POINT, shape.row_vars());
    (r_row, r_col)
}

/// A standalone proof that C = A·B: the encoded Fiat–Shamir proof under [`PROTOCOL`].
///
/// # Errors
/// As [`prove_product`].
pub fn prove_bytes(
    shape: &Shape,
    a: &[i8],
    b: &[i8],
    c: &[i32],
) -> Result<Vec<u8>, crate::ProveError> {
    let mut t = FiatShamirProver::new(PROTOCOL);
    prove_product(shape, a, b, c, &mut t)?;
    Ok(t.into_proof().encode())
}

/// Verifies a proof made by [`prove_bytes`]; the proof must be consumed to its last byte.
///
/// # Errors
/// Any [`VerifyError`] of [`verify_product`] or of the proof's encoding.
pub fn verify_bytes(
    shape: &Shape,
    a: &[i8],
    b: &[i8],
    c: &[i32],
    proof: &[u8],
) -> Result<(), VerifyError> {
    let mut t = FiatShamirVerifier::new(PROTOCOL, proof)?;
    verify_product(shape, a, b, c, &mut t)?;
    t.finish()
}

/// The little-endian bytes of an int32 tensor: borrowed on little-endian hosts, copied elsewhere.
pub(crate) fn le_bytes_i32(v: &[i32]) -> std::borrow::Cow<'_, [u8]> {
    if cfg!(target_endian = "little") {
        std::borrow::Cow::Borrowed(bytemuck::cast_slice(v))
    } else {
        std::borrow::Cow::Owned(v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}
