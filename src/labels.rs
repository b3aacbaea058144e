//! Every label of every protocol: the names under which messages are absorbed, and the tag a
//! proof stores in front of each message. A leaf module: the transcript, the proof encoding and
//! every protocol depend on it, it depends on nothing.

/// Labels are static strings; every label a protocol uses is a constant here. Adding a message
/// kind means adding its label here.
pub type Label = &'static str;

/// The protocol name and version, absorbed first by every top-level proof.
pub const PROTOCOL: Label = "gkrnet v1";
pub const SUMCHECK_CLAIM: Label = "sumcheck/claim";
pub const SUMCHECK_ROUND: Label = "sumcheck/round";
pub const SUMCHECK_CHALLENGE: Label = "sumcheck/challenge";
pub const SUMCHECK_FINAL_EVALS: Label = "sumcheck/final-evals";
pub const MATMUL_SHAPE: Label = "matmul/shape";
pub const MATMUL_A: Label = "matmul/a-blake3";
pub const MATMUL_B: Label = "matmul/b-blake3";
pub const MATMUL_C: Label = "matmul/c-blake3";
pub const MATMUL_POINT: Label = "matmul/point";
pub const MERGE_CLAIMS: Label = "merge/claims";
pub const MERGE_GAMMA: Label = "merge/gamma";
pub const LOGUP_ALPHA: Label = "logup/alpha";
pub const LOGUP_ROOT: Label = "logup/root";
pub const LOGUP_LAMBDA: Label = "logup/lambda";
pub const LOGUP_TAU: Label = "logup/tau";
pub const LOGUP_LEAF_EVALS: Label = "logup/leaf-evals";
/// A blake3 digest of a large tensor (see [`crate::transcript::append_digest`]).
pub const TENSOR_DIGEST: Label = "tensor/blake3";
pub const GKR_PROTOCOL: Label = "gkr/protocol";
pub const GKR_MODEL: Label = "gkr/model-blake3";
pub const GKR_INPUT: Label = "gkr/input";
pub const GKR_OUTPUT: Label = "gkr/output";
pub const GKR_ADVICE: Label = "gkr/advice";
pub const GKR_MULTIPLICITIES: Label = "gkr/multiplicities";
pub const GKR_OUTPUT_POINT: Label = "gkr/output-point";
pub const GKR_BETA: Label = "gkr/beta";
pub const GKR_RANGE_EVALS: Label = "gkr/range-evals";
pub const GKR_TABLE_EVALS: Label = "gkr/table-evals";
pub const GKR_ZC_TAU: Label = "gkr/zerocheck-tau";
pub const GKR_ZC_GAMMA: Label = "gkr/zerocheck-gamma";
pub const GKR_ZC_EVALS: Label = "gkr/zerocheck-evals";
pub const CONCAT_PART_SUMS: Label = "concat/part-sums";
/// C of an outsourced product, sent by the server before its proof (interactive sessions).
pub const MATMUL_RESULT: Label = "matmul/c";
/// Which advice scheme a proof uses (clear, or committed with its PCS parameters).
pub const ADVICE_MODE: Label = "advice/mode";
pub const ADVICE_CLAIMS: Label = "advice/claims";
pub const ADVICE_GAMMA: Label = "advice/gamma";
pub const ADVICE_TAU: Label = "advice/tau";
/// The model commitment (root and PCS parameters) a proof's weight claims are opened against.
pub const MODEL_COMMITMENT: Label = "gkr/model-commitment";
pub const PCS_HASHES: Label = "pcs/hashes";
pub const PCS_PARAMS: Label = "pcs/params";
pub const PCS_COMMITMENTS: Label = "pcs/commitments";
pub const PCS_POINT: Label = "pcs/point";
pub const PCS_VALUES: Label = "pcs/values";
pub const PCS_GAMMA: Label = "pcs/gamma";
pub const PCS_ROUND: Label = "pcs/round";
pub const PCS_CHALLENGE: Label = "pcs/challenge";
pub const PCS_FINAL: Label = "pcs/final";
pub const PCS_QUERY: Label = "pcs/query";
pub const PCS_POW_SEED: Label = "pcs/pow-seed";
/// The grinding nonce.
pub const PCS_POW: Label = "pcs/pow";
pub const PCS_PAIRS: Label = "pcs/pairs";

/// All labels that can name a prover message, to name a tag found in a proof.
pub const MESSAGES: &[Label] = &[
    SUMCHECK_ROUND,
    SUMCHECK_FINAL_EVALS,
    LOGUP_ROOT,
    LOGUP_LEAF_EVALS,
    GKR_OUTPUT,
    GKR_ADVICE,
    GKR_MULTIPLICITIES,
    GKR_RANGE_EVALS,
    GKR_TABLE_EVALS,
    GKR_ZC_EVALS,
    CONCAT_PART_SUMS,
    MATMUL_RESULT,
    PCS_HASHES,
    PCS_PARAMS,
    PCS_ROUND,
    PCS_FINAL,
    PCS_POW,
    PCS_PAIRS,
];

/// The 4-byte tag a proof stores in front of each message (FNV-1a of the label).
#[expect(
    clippy::indexing_slicing,
    reason = "i < bytes.len() by the loop condition (a const fn cannot use iterators)"
)]
pub const fn label_tag(label: Label) -> u32 {
    let bytes = label.as_bytes();
    let mut hash: u32 = 0x811c_9dc5;
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u32;
        hash = hash.wrapping_mul(0x0100_0193);
        i += 1;
    }
    hash
}

/// The message label with this tag, or `"unknown"`.
pub fn label_of_tag(tag: u32) -> Label {
    MESSAGES.iter().find(|l| label_tag(l) == tag).copied().unwrap_or("unknown")
}
