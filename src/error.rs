//! Typed errors: [`ProveError`] for what the prover cannot do, [`VerifyError`] for why a proof is
//! rejected (with [`PcsError`] for openings of the polynomial commitment). The verifier reports
//! every failure through [`VerifyError`]; it never panics.

use crate::field::Fp;
use thiserror::Error;

/// Why a proof was rejected. Each variant says where (byte offset, round, message) and why.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum VerifyError {
    // --- the encoded proof ---
    #[error("not a gkrnet proof: the first bytes are not the magic {expected:?}")]
    BadMagic { expected: [u8; 4] },
    #[error("proof format version {got} is not supported (this build reads version {supported})")]
    UnsupportedVersion { got: u16, supported: u16 },
    #[error("proof ends at byte {offset}: message `{label}` needs {needed} more bytes")]
    Truncated { offset: usize, label: &'static str, needed: usize },
    #[error(
        "at byte {offset} the verifier expects message `{expected}` but the proof holds `{found}`"
    )]
    UnexpectedMessage { offset: usize, expected: &'static str, found: &'static str },
    #[error("message `{label}` at byte {offset} has {got} elements (field elements, integers or bytes), the statement allows {expected}")]
    MessageLength { offset: usize, label: &'static str, expected: usize, got: u64 },
    #[error("message at byte {offset} has count word {count:#010x}, whose kind bits name no message kind")]
    UnknownMessageKind { offset: usize, count: u32 },
    #[error("field element at byte {offset} is not canonical (its value is ≥ p)")]
    NonCanonicalField { offset: usize },
    #[error("integer at byte {offset} is not a shortest-form varint of an i64")]
    MalformedInteger { offset: usize },
    #[error("{remaining} bytes follow the end of the proof at byte {offset}")]
    TrailingBytes { offset: usize, remaining: usize },

    // --- sumcheck ---
    #[error("sumcheck claim is malformed: {reason}")]
    InvalidClaim { reason: &'static str },
    #[error("sumcheck proof has {got} rounds, the claim needs {expected}")]
    WrongRoundCount { expected: usize, got: usize },
    #[error("sumcheck proof has more than the {expected} rounds the claim needs")]
    TooManyRounds { expected: usize },
    #[error("sumcheck round {round} has degree {got}, the bound is {max}")]
    DegreeTooHigh { round: usize, got: u64, max: usize },
    #[error("sumcheck final check failed: the round polynomials give {expected}, the claimed evaluations give {got}")]
    FinalEvalMismatch { expected: Fp, got: Fp },

    // --- lookups ---
    #[error("lookup rejected: the fractions do not cancel (a value outside the table or wrong multiplicities)")]
    LookupImbalance,
    #[error("lookup rejected: the root denominator is zero")]
    LookupDegenerate,

    // --- statements ---
    #[error("invalid statement: {reason}")]
    InvalidStatement { reason: &'static str },

    #[error("advice column {id} is opened under a layout other than the one it was bound with")]
    AdviceLayout { id: usize },

    // --- checks the caller of a sub-protocol makes ---
    #[error("{what}: the proof claims {claimed}, the verifier computes {computed}")]
    EvalMismatch { what: &'static str, claimed: Fp, computed: Fp },

    // --- whole-model proofs ---
    #[error("layer {layer} ({kind}): {source}")]
    Layer { layer: usize, kind: &'static str, source: Box<VerifyError> },
    #[error("{which} lookup: {source}")]
    Lookup { which: &'static str, source: Box<VerifyError> },
    #[error("the claimed output does not match the proof: {source}")]
    Output { source: Box<VerifyError> },
    #[error("the model input does not match the proof: {source}")]
    Input { source: Box<VerifyError> },
    #[error("the committed advice: {source}")]
    Advice { source: Box<VerifyError> },
    #[error("the committed weights: {source}")]
    Weights { source: Box<VerifyError> },

    // --- the acceptance policy (`gkr::accept`) ---
    #[error("{what} has digest {}, the verifier expects {}", hex(got), hex(expected))]
    ModelDigestMismatch { what: &'static str, expected: [u8; 32], got: [u8; 32] },
    #[error(
        "the proof opens the weights against {}, the verifier holds {}",
        root_name(got),
        root_name(expected)
    )]
    CommitmentMismatch { expected: Option<[u8; 32]>, got: Option<[u8; 32]> },
    #[error("{what} uses {reason}")]
    RefusedParams { what: &'static str, reason: String },
    #[error("the proof file claims an output of shape {got:?}, the proof proves {expected:?}")]
    OutputShape { expected: Vec<usize>, got: Vec<usize> },

    // Interactive sessions.
    #[error("the connection to the prover: {reason}")]
    Channel { reason: String },

    // --- polynomial commitments ---
    #[error("polynomial commitment: {0}")]
    Pcs(#[from] PcsError),
}

/// Lowercase hex of a digest or root.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A digest written as 64 hex digits (what [`hex`] prints), surrounding spaces allowed.
///
/// # Errors
/// Anything else, quoted.
pub fn parse_digest(s: &str) -> Result<[u8; 32], String> {
    let t = s.trim();
    let bad = || format!("a digest is 64 hex digits, got {t:?}");
    if t.len() != 64 || !t.is_ascii() {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (o, pair) in out.iter_mut().zip(t.as_bytes().chunks(2)) {
        let pair = std::str::from_utf8(pair).map_err(|_| bad())?;
        *o = u8::from_str_radix(pair, 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn root_name(root: &Option<[u8; 32]>) -> String {
    match root {
        Some(r) => format!("the model commitment with root {}", hex(r)),
        None => "the model itself (no commitment)".into(),
    }
}

/// Why an opening of the polynomial commitment (`pcs::basefold`) was rejected. Rounds number the
/// committed codewords of one opening (0 is the committed table's own codeword); queries number
/// the verifier's query positions in the order it drew them; tables number the batched
/// commitments in the order the caller passes them.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PcsError {
    #[error("nothing to open: no commitments")]
    NoCommitments,
    #[error("{what}: expected {expected}, got {got}")]
    WrongLength { what: &'static str, expected: usize, got: usize },
    #[error("the verifier cannot run rate 2^-{rate_log}, {queries} queries, folds of 2^{fold_log} on {num_vars} variables")]
    UnsupportedParams { rate_log: u32, queries: usize, fold_log: u32, num_vars: usize },
    #[error("the opening was made with {what} = {got}, the verifier's is {expected}")]
    ParamsMismatch { what: &'static str, expected: u64, got: i64 },
    #[error("sumcheck round {round} does not sum to the running claim")]
    RoundSumMismatch { round: usize },
    #[error("the Merkle cap of codeword {round} (table {table}) does not hash to its root")]
    CapMismatch { round: usize, table: usize },
    #[error("query {query}: the Merkle path in codeword {round} (table {table}) does not lead to its root")]
    PathMismatch { query: usize, round: usize, table: usize },
    #[error("query {query}: codeword {round} does not hold the fold of codeword {round} - 1")]
    FoldMismatch { query: usize, round: usize },
    #[error("the final polynomial does not give the sumcheck's last claim")]
    FinalSumMismatch,
    #[error("the proof-of-work nonce does not give {bits} zero bits")]
    PowMismatch { bits: u32 },
    #[error("query {query}: the last fold is not the final polynomial's codeword")]
    FinalFoldMismatch { query: usize },
}

/// Why the prover could not produce a proof (bad witness, shapes, parameters).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ProveError {
    #[error("{what}: expected {expected}, got {got}")]
    ShapeMismatch { what: &'static str, expected: usize, got: usize },
    #[error("invalid shape: {reason}")]
    InvalidShape { reason: String },
    #[error("invalid sumcheck polynomial: {reason}")]
    InvalidPolynomial { reason: String },
    #[error("the claimed sum does not equal the sum over the hypercube")]
    ClaimedSumMismatch,
    #[error("looked-up value {index} is not in the table")]
    NotInTable { index: usize },
    #[error("the lookup does not balance: a value outside the table or wrong multiplicities")]
    LookupImbalance,
    #[error("model: {0}")]
    Model(String),
}
