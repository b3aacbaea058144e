//! Concatenation of K ≥ 2 int8 tensors of one rank along one axis (ONNX Concat; the caller
//! guarantees that every input has the output's quantization). The output is virtual. The layer
//! assumes no range of its entries, so any integer tensors concatenate: the import joins a
//! graph's several outputs with it, ArgMax indices among them.
//!
//! Input k sits at offset o_k = Σ_{k' < k} d_axis(k') along the axis. In row-major order its
//! element j = (outer, m) (outer: the index over the axes before the concat axis, m < d_axis(k)·tail
//! with tail the product of the axes after it) lands at output position
//! pos_k(j) = outer·(D·tail) + o_k·tail + m, D = Σ_k d_axis(k).
//!
//! **Proof** of a claim õut(r) = v, r on the output's padded layout:
//! 1. the prover sends v_k = Σ_j ĩn_k(j)·w_k(j) for every input k, with
//!    w_k(j) = eq(r, pad_out(pos_k(j))) on input k's padded layout (one message, [`PART_SUMS`],
//!    before any challenge of step 2);
//! 2. the verifier checks Σ_k v_k = v (the output is the disjoint union of the placed inputs, so
//!    õut(r) = Σ_k Σ_j in_k(j)·eq(r, pad_out(pos_k(j))));
//! 3. for each k in order, one degree-2 sumcheck of v_k = Σ_x ĩn_k(x)·w̃_k(x) (as for
//!    [`super::Wiring`]); the prover sends ĩn_k(ρ_k) and w̃_k(ρ_k), the verifier computes
//!    w̃_k(ρ_k) itself and passes on the claim ĩn_k(ρ_k) (input index k).
//!
//! The wiring predicate factors over the axes (eq over the padded layout is a product of eq over
//! each axis' variables, and the placement shifts one axis only):
//! w̃_k(ρ) = Π_a Σ_{i < d_a(k)} eq(r_a, i + [a = axis]·o_k)·eq(ρ_a, i), so the verifier spends
//! O(Σ_a 2^{bits_a}) per input, not O(size).
//!
//! # Soundness
//! Step 2 binds the parts to the claim; each sumcheck binds its part to ĩn_k (error ≤ 2·n_k/p
//! each). A prover that shifts mass between parts (Σ_k v_k unchanged) makes some v_k false, which
//! its sumcheck rejects. The same tensor may appear several times among the inputs: each
//! occurrence yields its own claim and the driver merges or opens them.
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
use crate::transcript::{Label, ProverTranscript, VerifierTranscript};

/// The label of the prover's message [v_0, …, v_{K−1}] (the inputs' parts of the claim).
pub const PART_SUMS: Label = crate::transcript::labels::CONCAT_PART_SUMS;

/// The record of a [`Concat`] (tag 7): concatenation along `axis` of the tensors `inputs`, of
/// dimensions `in_dims`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConcatSpec {
    pub inputs: Vec<TensorId>,
    pub in_dims: Vec<Vec<usize>>,
    pub axis: usize,
}

/// The concatenation's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 7, kind: "concat", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let inputs = r.usizes()?;
    let n = r.count(8)?;
    let in_dims = (0..n).map(|_| r.dims()).collect::<Result<_, _>>()?;
    Ok(Box::new(ConcatSpec { inputs, in_dims, axis: r.usize()? }))
}

impl OpRecord for ConcatSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usizes(&self.inputs);
        w.usize(self.in_dims.len());
        self.in_dims.iter().for_each(|d| w.usizes(d));
        w.usize(self.axis);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        self.inputs.iter().copied().zip(self.in_dims.iter().cloned()).collect()
    }

    /// Empty: `gkrnet inspect` has never printed parameters for a concatenation (its inputs and
    /// output dimensions are on the line already), and its output stays as it was.
    fn summary(&self) -> String {
        format!("{} inputs along axis {}: {:?}", self.inputs.len(), self.axis, self.in_dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self.clone();
        Ok(Box::new(Concat::new(s.inputs, s.in_dims, s.axis)?))
    }
}

/// out = concat(in_0, …, in_{K−1}) along `axis`, row-major as numpy and ONNX.
#[derive(Clone, Debug)]
pub struct Concat {
    inputs: Vec<TensorId>,
    in_layouts: Vec<Layout>,
    out_layout: Layout,
    axis: usize,
    /// Where each input starts along the axis.
    offsets: Vec<usize>,
}

impl Concat {
    /// Concatenates `inputs` (of dimensions `in_dims`) along `axis`.
    ///
    /// # Errors
    /// [`ModelError::Shape`] naming the mismatch: fewer than 2 inputs, a dimension list per input
    /// missing, rank 0, an axis beyond the rank, ranks that differ, dimensions that differ outside
    /// the axis, an empty input, or an output too large to index.
    pub fn new(
        inputs: Vec<TensorId>,
        in_dims: Vec<Vec<usize>>,
        axis: usize,
    ) -> Result<Self, ModelError> {
        let shape = |s: String| Err(ModelError::Shape(s));
        if inputs.len() < 2 {
            return shape(format!("concat needs at least 2 inputs, got {}", inputs.len()));
        }
        if in_dims.len() != inputs.len() {
            return shape(format!(
                "concat of {} inputs got {} dimension lists",
                inputs.len(),
                in_dims.len()
            ));
        }
        let first = &in_dims[0];
        let rank = first.len();
        if rank == 0 {
            return shape("concat of rank-0 tensors".into());
        }
        if axis >= rank {
            return shape(format!("concat axis {axis} of rank-{rank} tensors"));
        }
        let mut offsets = Vec::with_capacity(in_dims.len());
        let mut total = 0usize;
        for (k, d) in in_dims.iter().enumerate() {
            if d.len() != rank {
                return shape(format!(
                    "concat input {k} has rank {} ({d:?}), input 0 has rank {rank} ({first:?})",
                    d.len()
                ));
            }
            if let Some(a) = (0..rank).find(|&a| a != axis && d[a] != first[a]) {
                return shape(format!(
                    "concat input {k} has dimensions {d:?}, input 0 {first:?}: they differ on \
                     axis {a}, and only the concat axis {axis} may differ"
                ));
            }
            if d.contains(&0) {
                return shape(format!("concat input {k} of dimensions {d:?} is empty"));
            }
            offsets.push(total);
            total = total
                .checked_add(d[axis])
                .ok_or_else(|| ModelError::Shape("concat axis length overflows".into()))?;
        }
        let mut out_dims = first.clone();
        out_dims[axis] = total;
        if out_dims.iter().try_fold(1usize, |acc, &x| acc.checked_mul(x)).is_none() {
            return shape(format!("concat output {out_dims:?} has too many entries"));
        }
        Ok(Self {
            inputs,
            in_layouts: in_dims.iter().map(|d| Layout::new(d)).collect(),
            out_layout: Layout::new(&out_dims),
            axis,
            offsets,
        })
    }

    pub fn axis(&self) -> usize {
        self.axis
    }

    /// The dimensions of each input.
    pub fn in_dims(&self) -> Vec<Vec<usize>> {
        self.in_layouts.iter().map(|l| l.dims().to_vec()).collect()
    }

    /// Calls `f(j, pos_k(j))` for every row-major index j of input k.
    fn for_each_position(&self, k: usize, mut f: impl FnMut(usize, usize)) {
        let dims = self.out_layout.dims();
        let outer: usize = dims[..self.axis].iter().product();
        let tail: usize = dims[self.axis + 1..].iter().product();
        let block = self.in_layouts[k].dims()[self.axis] * tail;
        let out_block = dims[self.axis] * tail;
        let start = self.offsets[k] * tail;
        for o in 0..outer {
            for m in 0..block {
                f(o * block + m, o * out_block + start + m);
            }
        }
    }

    /// w̃_k(ρ) from the output's per-axis eq tables `out_eqs` (see the module documentation);
    /// `None` if ρ or k does not fit the statement.
    fn wiring_eval(&self, k: usize, out_eqs: &[Vec<Fp>], rho: &[Fp]) -> Option<Fp> {
        let layout = self.in_layouts.get(k)?;
        if rho.len() != layout.num_vars() {
            return None;
        }
        let mut acc = Fp::from(1u64);
        for (a, (&d, e_out)) in layout.dims().iter().zip(out_eqs).enumerate() {
            let e_in = eq_evals(rho.get(layout.axis_vars(a))?);
            let shift = if a == self.axis { *self.offsets.get(k)? } else { 0 };
            acc *= e_out.iter().skip(shift).zip(&e_in).take(d).map(|(x, y)| *x * y).sum::<Fp>();
        }
        Some(acc)
    }

    fn check_claim(&self, claim: &EvalClaim) -> bool {
        claim.point.len() == self.out_layout.num_vars()
    }
}

impl Layer for Concat {
    fn kind(&self) -> &'static str {
        "concat"
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.out_layout.dims()
    }

    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(ConcatSpec {
            inputs: self.inputs.clone(),
            in_dims: self.in_dims(),
            axis: self.axis,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        if inputs.len() != self.inputs.len() {
            return Err(ModelError::Shape(format!(
                "concat of {} inputs got {} tensors",
                self.inputs.len(),
                inputs.len()
            )));
        }
        for (k, (x, l)) in inputs.iter().zip(&self.in_layouts).enumerate() {
            if x.dims != l.dims() {
                return Err(ModelError::Shape(format!(
                    "concat input {k} should have dimensions {:?}, got {:?}",
                    l.dims(),
                    x.dims
                )));
            }
        }
        let mut data = vec![0i64; self.out_layout.len()];
        for (k, x) in inputs.iter().enumerate() {
            self.for_each_position(k, |j, i| data[i] = x.data[j]);
        }
        Ok(LayerWitness {
            output: Tensor::new(self.out_layout.dims().to_vec(), data)?,
            advice: Vec::new(),
        })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Concat {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        if !self.check_claim(claim) {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a concat output",
                expected: self.out_layout.num_vars(),
                got: claim.point.len(),
            });
        }
        if inputs.len() != self.inputs.len() {
            return Err(ProveError::ShapeMismatch {
                what: "concat input tensors",
                expected: self.inputs.len(),
                got: inputs.len(),
            });
        }
        let er = eq_evals(&claim.point);
        let mut tables = Vec::with_capacity(inputs.len());
        let mut sums = Vec::with_capacity(inputs.len());
        for (k, (x, layout)) in inputs.iter().zip(&self.in_layouts).enumerate() {
            if x.data.len() != layout.len() {
                return Err(ProveError::ShapeMismatch {
                    what: "entries of a concat input",
                    expected: layout.len(),
                    got: x.data.len(),
                });
            }
            let mut w = vec![Fp::default(); layout.padded_len()];
            self.for_each_position(k, |j, i| {
                w[layout.pad_index(j)] = er[self.out_layout.pad_index(i)];
            });
            let x = layout.pad_fp(&x.data);
            sums.push(x.iter().zip(&w).map(|(a, b)| *a * b).sum::<Fp>());
            tables.push((x, w));
        }
        if sums.iter().sum::<Fp>() != claim.value {
            return Err(ProveError::ClaimedSumMismatch);
        }
        t.send(PART_SUMS, &sums);
        let mut claims = Vec::with_capacity(tables.len());
        for (k, ((x, w), v)) in tables.into_iter().zip(sums).enumerate() {
            let out = sumcheck::prove(ProductSum::product(vec![x, w])?, v, &mut t)?;
            sumcheck::send_final_evals(&mut t, &out.final_evals);
            claims.push((
                ClaimTarget::Input(k),
                EvalClaim { point: out.point, value: out.final_evals[0] },
            ));
        }
        Ok(claims)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        let statement = |reason| VerifyError::InvalidStatement { reason };
        if !self.check_claim(claim) {
            return Err(statement("a claim on a concat output has the wrong number of variables"));
        }
        let sums = t.receive(PART_SUMS, self.in_layouts.len())?;
        let total: Fp = sums.iter().sum();
        if total != claim.value {
            return Err(VerifyError::EvalMismatch {
                what: "the concat inputs' parts against the claim on the output",
                claimed: total,
                computed: claim.value,
            });
        }
        let out_eqs = (0..self.out_layout.dims().len())
            .map(|a| claim.point.get(self.out_layout.axis_vars(a)).map(eq_evals))
            .collect::<Option<Vec<_>>>()
            .ok_or(statement("a concat output axis outside the claim's point"))?;
        let mut claims = Vec::with_capacity(sums.len());
        for (k, (layout, &v)) in self.in_layouts.iter().zip(&sums).enumerate() {
            let sc = SumcheckClaim { num_vars: layout.num_vars(), degree: 2, claimed_sum: v };
            let eval = sumcheck::verify(&sc, &mut t)?;
            let evals =
                sumcheck::verify_final_evals(&[Term::product(vec![0, 1])], 2, &eval, &mut t)?;
            let [x, w] = evals.as_slice() else {
                return Err(statement("two factor evaluations expected"));
            };
            let computed = self
                .wiring_eval(k, &out_eqs, &eval.point)
                .ok_or(statement("a concat sumcheck point of the wrong length"))?;
            w.check(computed, "the concat wiring predicate")?;
            claims.push((ClaimTarget::Input(k), x.clone()));
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn concat_places_inputs_like_numpy() {
        // [2, 1, 3] ‖ [2, 2, 3] on axis 1 → [2, 3, 3]
        let c = Concat::new(vec![0, 1], vec![vec![2, 1, 3], vec![2, 2, 3]], 1).unwrap();
        let a = Tensor::new(vec![2, 1, 3], (0..6).collect()).unwrap();
        let b = Tensor::new(vec![2, 2, 3], (100..112).collect()).unwrap();
        let out = c.forward(&[&a, &b]).unwrap().output;
        assert_eq!(out.dims, vec![2, 3, 3]);
        #[rustfmt::skip]
        let expect = vec![
            0, 1, 2, 100, 101, 102, 103, 104, 105,
            3, 4, 5, 106, 107, 108, 109, 110, 111,
        ];
        assert_eq!(out.data, expect);
    }

    #[test]
    fn factored_wiring_predicate_equals_the_sum_over_entries() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        let cases: [(Vec<Vec<usize>>, usize); 4] = [
            (vec![vec![3, 5], vec![3, 2], vec![3, 7]], 1),
            (vec![vec![3, 5], vec![1, 5]], 0),
            (vec![vec![2, 3, 1, 5], vec![2, 3, 2, 5]], 2),
            (vec![vec![1, 1], vec![1, 1], vec![1, 1]], 0),
        ];
        for (dims, axis) in cases {
            let inputs = (0..dims.len()).collect();
            let c = Concat::new(inputs, dims.clone(), axis).unwrap();
            let r: Vec<Fp> = (0..c.out_layout.num_vars()).map(|_| Fp::rand(&mut rng)).collect();
            let er = eq_evals(&r);
            let out_eqs: Vec<Vec<Fp>> =
                (0..dims[0].len()).map(|a| eq_evals(&r[c.out_layout.axis_vars(a)])).collect();
            for (k, layout) in c.in_layouts.iter().enumerate() {
                let rho: Vec<Fp> = (0..layout.num_vars()).map(|_| Fp::rand(&mut rng)).collect();
                let erho = eq_evals(&rho);
                let mut naive = Fp::default();
                c.for_each_position(k, |j, i| {
                    naive += er[c.out_layout.pad_index(i)] * erho[layout.pad_index(j)];
                });
                assert_eq!(c.wiring_eval(k, &out_eqs, &rho), Some(naive), "{dims:?} {axis} {k}");
            }
        }
    }

    #[test]
    fn constructor_names_the_mismatch() {
        let err = |r: Result<Concat, ModelError>| r.unwrap_err().to_string();
        assert!(err(Concat::new(vec![0], vec![vec![2]], 0)).contains("at least 2 inputs"));
        assert!(err(Concat::new(vec![0, 1], vec![vec![2]], 0)).contains("dimension lists"));
        assert!(err(Concat::new(vec![0, 1], vec![vec![2], vec![3]], 1)).contains("axis 1"));
        assert!(err(Concat::new(vec![0, 1], vec![vec![2, 3], vec![3]], 0)).contains("rank"));
        let e = err(Concat::new(vec![0, 1], vec![vec![2, 3], vec![4, 4]], 0));
        assert!(e.contains("differ on axis 1"), "{e}");
        assert!(err(Concat::new(vec![0, 1], vec![vec![2, 3], vec![0, 3]], 0)).contains("empty"));
        assert!(err(Concat::new(vec![0, 1], vec![vec![], vec![]], 0)).contains("rank-0"));
    }
}
