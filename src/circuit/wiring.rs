//! Reshape, flatten and transpose: output[i] = input[π(i)] for a fixed bijection π of row-major
//! indices. The output is virtual; a claim õut(r) = v becomes one degree-2 sumcheck
//! v = Σ_j ĩn(j)·w(j) with w(j) = eq(r, pad_out(π⁻¹(j))) on the input's padded layout, and the
//! verifier computes w̃(ρ) = Σ_i eq(r, pad_out(i))·eq(ρ, pad_in(π(i))) itself in O(size).
//! Padding of the two layouts may differ (each axis is padded on its own), which is why the
//! relabelling is proved instead of assumed.
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction, Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::eq_evals;
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// The record of a [`Wiring`] (tag 5): a reshape (no permutation) or a transpose.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WiringSpec {
    pub input: TensorId,
    pub in_dims: Vec<usize>,
    pub out_dims: Vec<usize>,
    /// `Some` for a transpose: output dims[d] = input dims[perm[d]].
    pub perm: Option<Vec<usize>>,
}

/// The wiring's line in the registry ([`super::OPS`]); its records' kinds are "reshape" and
/// "transpose".
pub(crate) const OP: OpEntry = OpEntry { tag: 5, kind: "wiring", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (input, in_dims, out_dims) = (r.usize()?, r.dims()?, r.dims()?);
    // a flag other than 0 or 1 decodes as 0 and is refused as not canonical
    let has_perm = r.u8()? == 1;
    let perm = r.usizes()?;
    Ok(Box::new(WiringSpec { input, in_dims, out_dims, perm: has_perm.then_some(perm) }))
}

impl OpRecord for WiringSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn kind(&self) -> &'static str {
        if self.perm.is_some() {
            "transpose"
        } else {
            "reshape"
        }
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.input);
        w.usizes(&self.in_dims);
        w.usizes(&self.out_dims);
        w.u8(self.perm.is_some() as u8);
        w.usizes(self.perm.as_deref().unwrap_or_default());
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.input, self.in_dims.clone())]
    }

    fn summary(&self) -> String {
        match &self.perm {
            Some(p) => format!("transpose {:?} by {p:?}", self.in_dims),
            None => format!("reshape from {:?}", self.in_dims),
        }
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self.clone();
        Ok(Box::new(match s.perm {
            None => Wiring::reshape(s.input, &s.in_dims, s.out_dims)?,
            Some(perm) => Wiring::transpose(s.input, &s.in_dims, perm)?,
        }))
    }
}

/// A reshape (π = identity on row-major indices) or an axis permutation.
#[derive(Clone, Debug)]
pub struct Wiring {
    kind: &'static str,
    inputs: [TensorId; 1],
    in_layout: Layout,
    out_layout: Layout,
    /// The axis permutation (empty for a reshape) and the input's row-major strides: π is
    /// computed entry by entry ([`Wiring::sources`]), so building a layer costs O(rank).
    perm: Vec<usize>,
    in_strides: Vec<usize>,
}

impl Wiring {
    /// Same entries in the same row-major order, new dimensions (flatten is a reshape).
    ///
    /// # Errors
    /// Dimensions beyond [`super::checked_entries`], or of different entry counts.
    pub fn reshape(
        input: TensorId,
        in_dims: &[usize],
        out_dims: Vec<usize>,
    ) -> Result<Self, ModelError> {
        if super::checked_entries(in_dims)? != super::checked_entries(&out_dims)? {
            return Err(ModelError::Shape(format!("cannot reshape {in_dims:?} to {out_dims:?}")));
        }
        Ok(Self {
            kind: "reshape",
            inputs: [input],
            in_layout: Layout::new(in_dims),
            out_layout: Layout::new(&out_dims),
            perm: Vec::new(),
            in_strides: Vec::new(),
        })
    }

    /// output dims[d] = input dims[perm[d]] (ONNX Transpose).
    ///
    /// # Errors
    /// Dimensions beyond [`super::checked_entries`], or `perm` not a permutation of the axes.
    pub fn transpose(
        input: TensorId,
        in_dims: &[usize],
        perm: Vec<usize>,
    ) -> Result<Self, ModelError> {
        super::checked_entries(in_dims)?;
        let r = in_dims.len();
        let mut seen = vec![false; r];
        if perm.len() != r || perm.iter().any(|&p| p >= r || std::mem::replace(&mut seen[p], true))
        {
            return Err(ModelError::Shape(format!("{perm:?} is not a permutation of {r} axes")));
        }
        let out_dims: Vec<usize> = perm.iter().map(|&p| in_dims[p]).collect();
        // products of suffixes of dimensions with at most 2^28 entries: no overflow
        let mut in_strides = vec![1usize; r];
        for a in (0..r.saturating_sub(1)).rev() {
            in_strides[a] = in_strides[a + 1] * in_dims[a + 1];
        }
        Ok(Self {
            kind: "transpose",
            inputs: [input],
            in_layout: Layout::new(in_dims),
            out_layout: Layout::new(&out_dims),
            perm,
            in_strides,
        })
    }

    /// π(i) for every output row-major index i, in order: the input index it reads.
    fn sources(&self) -> impl Iterator<Item = usize> + '_ {
        let out = self.out_layout.dims();
        (0..self.out_layout.len()).map(move |mut i| {
            if self.perm.is_empty() {
                return i;
            }
            let mut src = 0;
            for d in (0..out.len()).rev() {
                src += (i % out[d]) * self.in_strides[self.perm[d]];
                i /= out[d];
            }
            src
        })
    }

    /// w̃(ρ) = Σ_i eq(r, pad_out(i))·eq(ρ, pad_in(π(i))).
    fn wiring_eval(&self, r: &[Fp], rho: &[Fp]) -> Fp {
        let (er, erho) = (eq_evals(r), eq_evals(rho));
        self.sources()
            .enumerate()
            .map(|(i, j)| er[self.out_layout.pad_index(i)] * erho[self.in_layout.pad_index(j)])
            .sum()
    }

    fn check_claim(&self, claim: &EvalClaim) -> bool {
        claim.point.len() == self.out_layout.num_vars()
    }
}

impl Layer for Wiring {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(WiringSpec {
            input: self.inputs[0],
            in_dims: self.in_layout.dims().to_vec(),
            out_dims: self.out_layout.dims().to_vec(),
            perm: (self.kind == "transpose").then(|| self.perm.clone()),
        }))
    }

    fn kind(&self) -> &'static str {
        self.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.out_layout.dims()
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let data = self.sources().map(|j| inputs[0].data[j]).collect();
        Ok(LayerWitness {
            output: Tensor::new(self.out_layout.dims().to_vec(), data)?,
            advice: Vec::new(),
        })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Wiring {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        if !self.check_claim(claim) {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a wiring output",
                expected: self.out_layout.num_vars(),
                got: claim.point.len(),
            });
        }
        let er = eq_evals(&claim.point);
        let mut w = vec![Fp::default(); self.in_layout.padded_len()];
        for (i, j) in self.sources().enumerate() {
            w[self.in_layout.pad_index(j)] = er[self.out_layout.pad_index(i)];
        }
        let x = self.in_layout.pad_fp(&inputs[0].data);
        let out = sumcheck::prove(ProductSum::product(vec![x, w])?, claim.value, &mut t)?;
        sumcheck::send_final_evals(&mut t, &out.final_evals);
        Ok(vec![(ClaimTarget::Input(0), EvalClaim { point: out.point, value: out.final_evals[0] })])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        if !self.check_claim(claim) {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a wiring output has the wrong number of variables",
            });
        }
        let sc = SumcheckClaim {
            num_vars: self.in_layout.num_vars(),
            degree: 2,
            claimed_sum: claim.value,
        };
        let eval = sumcheck::verify(&sc, &mut t)?;
        let evals = sumcheck::verify_final_evals(&[Term::product(vec![0, 1])], 2, &eval, &mut t)?;
        let [x, w] = evals.as_slice() else {
            return Err(VerifyError::InvalidStatement {
                reason: "two factor evaluations expected",
            });
        };
        w.check(self.wiring_eval(&claim.point, &eval.point), "the wiring predicate")?;
        Ok(vec![(ClaimTarget::Input(0), x.clone())])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_moves_entries_like_onnx() {
        // [2, 3, 4] with perm [2, 0, 1] → [4, 2, 3]; out[a][b][c] = in[b][c][a]
        let w = Wiring::transpose(0, &[2, 3, 4], vec![2, 0, 1]).unwrap();
        let input = Tensor::new(vec![2, 3, 4], (0..24).collect()).unwrap();
        let out = w.forward(&[&input]).unwrap().output;
        assert_eq!(out.dims, vec![4, 2, 3]);
        for a in 0..4 {
            for b in 0..2 {
                for c in 0..3 {
                    assert_eq!(out.data[a * 6 + b * 3 + c], input.data[b * 12 + c * 4 + a]);
                }
            }
        }
        assert!(Wiring::transpose(0, &[2, 3], vec![0, 0]).is_err());
        assert!(Wiring::reshape(0, &[2, 3], vec![5]).is_err());
    }
}
