//! Predicates on the verifier's [`VerifyError`]: which check of which layer or lookup rejected a
//! proof. Soundness tests assert the exact variant through these, so that every file names an
//! error the same way.

use gkrnet::transcript::{labels, Label};
use gkrnet::VerifyError;

/// The source of `Layer { layer, kind, source }` when the layer and its kind are these.
pub fn in_layer<'a>(e: &'a VerifyError, layer: usize, kind: &str) -> Option<&'a VerifyError> {
    match e {
        VerifyError::Layer { layer: l, kind: k, source } if *l == layer && *k == kind => {
            Some(source)
        }
        _ => None,
    }
}

/// The source of `Lookup { which, source }` when the lookup is `which` ("range" or "table").
pub fn in_lookup<'a>(e: &'a VerifyError, which: &str) -> Option<&'a VerifyError> {
    match e {
        VerifyError::Lookup { which: w, source } if *w == which => Some(source),
        _ => None,
    }
}

/// A sumcheck of layer `layer` (of this kind) failed its final check.
pub fn is_layer_final_mismatch(e: &VerifyError, layer: usize, kind: &str) -> bool {
    matches!(in_layer(e, layer, kind), Some(VerifyError::FinalEvalMismatch { .. }))
}

/// Layer `layer` (of this kind) found the evaluation named `what` wrong.
pub fn is_layer_eval_mismatch(e: &VerifyError, layer: usize, kind: &str, what: &str) -> bool {
    matches!(in_layer(e, layer, kind),
        Some(VerifyError::EvalMismatch { what: w, .. }) if *w == what)
}

/// The LogUp `which` does not balance.
pub fn is_lookup_imbalance(e: &VerifyError, which: &str) -> bool {
    in_lookup(e, which) == Some(&VerifyError::LookupImbalance)
}

/// A sumcheck of the LogUp `which` failed its final check.
pub fn is_lookup_final_mismatch(e: &VerifyError, which: &str) -> bool {
    matches!(in_lookup(e, which), Some(VerifyError::FinalEvalMismatch { .. }))
}

/// The claimed output disagrees with the committed output column of layer `layer` at r.
pub fn is_output_opening_mismatch(e: &VerifyError, layer: usize) -> bool {
    let VerifyError::Output { source } = e else { return false };
    let VerifyError::Layer { layer: l, source, .. } = &**source else { return false };
    *l == layer
        && matches!(
            **source,
            VerifyError::EvalMismatch { what: "opening of a committed output", .. }
        )
}

/// A tampered message is caught by a protocol check, in its place: never by the parser, never
/// as an invalid statement.
pub fn caught_in_place(label: Label, e: &VerifyError) -> bool {
    let check = |e: &VerifyError| {
        matches!(
            e,
            VerifyError::FinalEvalMismatch { .. }
                | VerifyError::EvalMismatch { .. }
                | VerifyError::LookupImbalance
        )
    };
    match e {
        VerifyError::Output { .. } => [labels::GKR_OUTPUT, labels::GKR_ADVICE].contains(&label),
        VerifyError::Lookup { source, .. } | VerifyError::Layer { source, .. } => check(source),
        _ => false,
    }
}

/// A protocol check failed (not a parse error of a well-formed proof).
pub fn is_check(e: &VerifyError) -> bool {
    matches!(
        e,
        VerifyError::Layer { .. }
            | VerifyError::Lookup { .. }
            | VerifyError::Output { .. }
            | VerifyError::Input { .. }
            | VerifyError::Advice { .. }
    )
}
