//! How the prover's advice is bound and opened, behind two small traits so that the driver and
//! the layers never name a scheme.
//!
//! * [`Clear`] sends every column in the proof (compact varints, absorbed) and the verifier checks
//!   an opening by evaluating the column's MLE itself, in O(column length).
//! * [`basefold`] commits all columns as one multilinear table with the Basefold PCS,
//!   records every opening, and at the end reduces them all to one opening of the table.
//!
//! [`AdviceMode`] names the scheme; it is absorbed right after the statement, so a proof made
//! under one scheme (or other PCS parameters) never verifies under another.

pub mod basefold;
pub mod clear;

use crate::circuit::Layout;
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::pcs::basefold::Params;
use crate::transcript::{labels, Label, ProverTranscript, Transcript, VerifierTranscript};
pub use basefold::{CommittedProver, CommittedVerifier};
pub use clear::Clear;

/// The prover's side of an advice commitment.
pub trait AdviceProver {
    /// Binds all columns (each with the label it travels under and its layout, in which it is
    /// zero-padded); called once, before the first challenge.
    fn commit(
        &mut self,
        columns: &[(Label, &Layout, &[i64])],
        t: &mut dyn ProverTranscript,
    ) -> Result<(), ProveError>;
    /// Records that column `id` (in its layout, zero-padded; zero-extended to a longer point)
    /// evaluates to `value` at `point`; the verifier's [`AdviceVerifier::check`] mirrors it.
    fn open(&mut self, id: usize, point: &[Fp], value: Fp, t: &mut dyn ProverTranscript);
    /// Proves every recorded opening; called once, after the last layer.
    fn finish(&mut self, t: &mut dyn ProverTranscript) -> Result<(), ProveError>;
}

/// The verifier's side.
pub trait AdviceVerifier {
    /// Receives the commitment to columns of the given labels and layouts.
    fn receive(
        &mut self,
        columns: &[(Label, Layout)],
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError>;
    /// Checks an opening of column `id` (or records it, to be checked in [`Self::finish`]).
    fn check(
        &mut self,
        id: usize,
        layout: &Layout,
        point: &[Fp],
        value: Fp,
        what: &'static str,
        t: &mut dyn VerifierTranscript,
    ) -> Result<(), VerifyError>;
    /// Checks every recorded opening; called once, after the last layer.
    fn finish(&mut self, t: &mut dyn VerifierTranscript) -> Result<(), VerifyError>;
}

/// Which advice scheme a proof uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AdviceMode {
    /// Advice in the proof, in the clear: the fastest for small models and interactive sessions.
    #[default]
    Clear,
    /// Advice committed with Basefold under these parameters, opened once at the end.
    Committed(Params),
}

impl AdviceMode {
    pub const PROVABLE: AdviceMode = AdviceMode::Committed(Params::PROVABLE);
    pub const CONJECTURED: AdviceMode = AdviceMode::Committed(Params::CONJECTURED);

    /// "clear", "provable", "conjectured", or the parameters.
    pub fn name(&self) -> String {
        match *self {
            AdviceMode::Clear => "clear".into(),
            m if m == Self::PROVABLE => "provable".into(),
            m if m == Self::CONJECTURED => "conjectured".into(),
            AdviceMode::Committed(p) => {
                format!(
                    "committed (rate 2^-{}, {} queries, arity 2^{}, {} bits of grinding)",
                    p.rate_log, p.queries, p.fold_log, p.pow_bits
                )
            }
        }
    }

    /// Whether a verifier that reads the mode from a proof (or a model commitment) accepts it:
    /// the clear mode and the provable parameters always, the conjectured ones only when asked,
    /// any other parameters never. A proof file names its own mode, so without this a prover
    /// could pick parameters as weak as one query.
    ///
    /// # Errors
    /// Why the mode is refused, naming its parameters.
    pub fn accepted(&self, allow_conjectured: bool) -> Result<(), String> {
        let v1 = |p: Params| AdviceMode::Committed(p);
        match *self {
            AdviceMode::Clear => Ok(()),
            m if m == Self::PROVABLE || m == v1(Params::PROVABLE_V1) => Ok(()),
            m if m.is_conjectured() && allow_conjectured => Ok(()),
            m if m.is_conjectured() => {
                Err("conjectured-security PCS parameters; pass --allow-conjectured to accept them"
                    .into())
            }
            m => Err(format!(
                "PCS parameters that are neither the provable nor the conjectured set: {}",
                m.name()
            )),
        }
    }

    /// Whether the mode is the conjectured set (or its pre-grinding version).
    pub fn is_conjectured(&self) -> bool {
        *self == Self::CONJECTURED || *self == AdviceMode::Committed(Params::CONJECTURED_V1)
    }

    /// The mode by its name: "clear", "provable" or "conjectured".
    pub fn from_name(name: &str) -> Option<AdviceMode> {
        match name {
            "clear" => Some(AdviceMode::Clear),
            "provable" => Some(Self::PROVABLE),
            "conjectured" => Some(Self::CONJECTURED),
            _ => None,
        }
    }

    /// Five bytes. Clear: all zero. Committed without grinding: 1, rate_log, queries (u16 LE),
    /// fold_log. With grinding: 2, rate_log | fold_log << 4, queries (u16 LE), pow_bits.
    pub fn to_bytes(&self) -> [u8; 5] {
        match *self {
            AdviceMode::Clear => [0; 5],
            AdviceMode::Committed(p) => {
                let q = (p.queries.min(u16::MAX as usize) as u16).to_le_bytes();
                if p.pow_bits == 0 {
                    [1, p.rate_log as u8, q[0], q[1], p.fold_log as u8]
                } else {
                    let packed = (p.rate_log & 15) as u8 | ((p.fold_log & 15) as u8) << 4;
                    [2, packed, q[0], q[1], p.pow_bits.min(255) as u8]
                }
            }
        }
    }

    pub fn from_bytes(b: [u8; 5]) -> Option<AdviceMode> {
        let committed = |rate_log: u8, q: [u8; 2], fold_log: u8, pow_bits: u8| {
            let queries = u16::from_le_bytes(q) as usize;
            let ok = (1..=8).contains(&rate_log) && (1..=8).contains(&fold_log) && queries > 0;
            ok.then_some(AdviceMode::Committed(Params {
                rate_log: rate_log.into(),
                queries,
                fold_log: fold_log.into(),
                pow_bits: pow_bits.into(),
            }))
        };
        match b {
            [0, 0, 0, 0, 0] => Some(AdviceMode::Clear),
            [1, rate_log, q0, q1, fold_log] => committed(rate_log, [q0, q1], fold_log, 0),
            [2, packed, q0, q1, pow_bits @ 1..=32] => {
                committed(packed & 15, [q0, q1], packed >> 4, pow_bits)
            }
            _ => None,
        }
    }

    /// Absorbs the mode and its parameters (before the output and the advice).
    pub fn absorb(&self, t: &mut impl Transcript) {
        t.append_bytes(labels::ADVICE_MODE, &self.to_bytes());
    }

    pub fn prover(&self) -> Box<dyn AdviceProver> {
        match *self {
            AdviceMode::Clear => Box::new(Clear::default()),
            AdviceMode::Committed(p) => Box::new(CommittedProver::new(p)),
        }
    }

    pub fn verifier(&self) -> Box<dyn AdviceVerifier> {
        match *self {
            AdviceMode::Clear => Box::new(Clear::default()),
            AdviceMode::Committed(p) => Box::new(CommittedVerifier::new(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_round_trip_through_their_bytes_and_bad_bytes_are_refused() {
        let with = |queries, pow_bits| {
            AdviceMode::Committed(Params { rate_log: 3, queries, fold_log: 5, pow_bits })
        };
        for m in [
            AdviceMode::Clear,
            AdviceMode::PROVABLE,
            AdviceMode::CONJECTURED,
            with(1, 0),
            with(65535, 0),
            with(7, 1),
            with(300, Params::MAX_POW_BITS),
        ] {
            assert_eq!(AdviceMode::from_bytes(m.to_bytes()), Some(m), "{}", m.name());
        }
        assert_eq!(AdviceMode::PROVABLE.to_bytes(), [2, 2 | 4 << 4, 124, 0, 16]);
        // a verifier reading the mode from a proof: weak or unknown parameters are refused
        assert!(AdviceMode::Clear.accepted(false).is_ok());
        assert!(AdviceMode::PROVABLE.accepted(false).is_ok());
        assert!(AdviceMode::CONJECTURED.accepted(false).unwrap_err().contains("conjectured"));
        assert!(AdviceMode::CONJECTURED.accepted(true).is_ok());
        // the sets of proofs made before grinding (148 and 50 queries) are still accepted
        let v1 = |p: Params| AdviceMode::Committed(p);
        assert!(v1(Params::PROVABLE_V1).accepted(false).is_ok());
        assert!(v1(Params::CONJECTURED_V1).accepted(false).is_err());
        assert!(v1(Params::CONJECTURED_V1).accepted(true).is_ok());
        for weak in [
            with(1, 0),
            with(300, 32),
            v1(Params { queries: 147, ..Params::PROVABLE_V1 }),
            v1(Params { queries: 123, ..Params::PROVABLE }),
            v1(Params { pow_bits: 15, ..Params::PROVABLE }),
        ] {
            assert!(weak.accepted(true).unwrap_err().contains("neither"), "{}", weak.name());
        }
        for bad in [
            [0, 0, 0, 0, 1],
            [1, 0, 20, 0, 4],
            [1, 2, 0, 0, 4],
            [1, 2, 20, 0, 9],
            [2, 2 | 4 << 4, 20, 0, 0],
            [2, 2 | 4 << 4, 20, 0, 33],
            [2, 9 | 4 << 4, 20, 0, 16],
            [2, 2, 20, 0, 16],
            [3, 2, 20, 0, 4],
        ] {
            assert_eq!(AdviceMode::from_bytes(bad), None, "{bad:?}");
        }
    }
}
