//! Taking entries along every axis by public index lists (numpy's `take` per axis; ONNX Slice
//! with any starts, ends and steps, Gather with constant indices, Split): out[i_0, …, i_k] =
//! x[idx_0[i_0], …, idx_k[i_k]], so out's axis a has `idx_a.len()` entries, each index < x's
//! length there (repeats and any order allowed); or, for a map that is no such product (ONNX
//! GatherND and GatherElements with constant indices), the source of every output entry listed
//! ([`Take::flat`], its own record). The output is virtual.
//!
//! **Proof**, as a wiring's (`wiring.rs`) but for a map σ that need not be a bijection: a claim
//! õut(r) = v becomes one degree-2 sumcheck v = Σ_j x̃(j)·w(j) over x's padded layout with
//! w(j) = Σ_{i: σ(i) = j} eq(r, pad_out(i)); the prover sends x̃ and w at the end point ρ and the
//! verifier checks w against w̃(ρ) = Σ_i eq(r, pad_out(i))·eq(ρ, pad_in(σ(i))), computed itself
//! in O(|out| + |x|).
//!
//! # Soundness
//! A false v survives the sumcheck with probability at most 2n/p (n = x's variables); a false
//! w(ρ) fails the predicate check; a false x̃(ρ) is a false claim on x, which x's producer checks.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: index-free but for the prover's table, which says why"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::{
    checked_entries, ClaimTarget, Layer, LayerSpec, LayerWitness, Layout, ModelError, Reduction,
    Tensor, TensorId,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::poly::eq_evals;
use crate::sumcheck::{self, prover::ProductSum, EvalClaim, SumcheckClaim, Term};
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// out = x taken along every axis by the index lists, or entry by entry by a list of sources.
#[derive(Clone, Debug)]
pub struct Take {
    inputs: [TensorId; 1],
    in_layout: Layout,
    out_layout: Layout,
    /// One list per axis (empty for a flat map).
    indices: Vec<Vec<usize>>,
    /// x's row-major strides.
    strides: Vec<usize>,
    /// The row-major source of every output entry (ONNX GatherND and GatherElements with
    /// constant indices), when the map is not a product of per-axis lists.
    flat: Option<Vec<usize>>,
}

impl Take {
    /// Tensor `x` (dimensions `x_dims`) taken by one index list per axis.
    ///
    /// # Errors
    /// Another number of lists than axes, an index beyond its axis, an empty list, or
    /// dimensions beyond [`checked_entries`].
    pub fn new(
        x: TensorId,
        x_dims: &[usize],
        indices: Vec<Vec<usize>>,
    ) -> Result<Self, ModelError> {
        checked_entries(x_dims)?;
        if indices.len() != x_dims.len() {
            return Err(ModelError::Shape(format!(
                "{} index lists for a tensor of dimensions {x_dims:?}",
                indices.len()
            )));
        }
        for (a, (list, &d)) in indices.iter().zip(x_dims).enumerate() {
            if list.is_empty() || list.iter().any(|&i| i >= d) {
                return Err(ModelError::Shape(format!(
                    "axis {a} of {x_dims:?}: indices must be 0..{d} and at least one"
                )));
            }
        }
        let out_dims: Vec<usize> = indices.iter().map(Vec::len).collect();
        checked_entries(&out_dims)?;
        let mut strides = vec![1usize; x_dims.len()];
        let mut s = 1;
        for (st, &d) in strides.iter_mut().zip(x_dims).rev() {
            *st = s;
            s *= d;
        }
        Ok(Self {
            inputs: [x],
            in_layout: Layout::new(x_dims),
            out_layout: Layout::new(&out_dims),
            indices,
            strides,
            flat: None,
        })
    }

    /// Output entry i (row-major, dimensions `out_dims`) is x's entry `sources[i]`.
    ///
    /// # Errors
    /// A source beyond x, another number of sources than out's entries, or dimensions beyond
    /// [`checked_entries`].
    pub fn flat(
        x: TensorId,
        x_dims: &[usize],
        out_dims: &[usize],
        sources: Vec<usize>,
    ) -> Result<Self, ModelError> {
        let len = checked_entries(x_dims)?;
        if checked_entries(out_dims)? != sources.len() || sources.iter().any(|&s| s >= len) {
            return Err(ModelError::Shape(format!(
                "{} sources in 0..{len} for an output of dimensions {out_dims:?}",
                sources.len()
            )));
        }
        Ok(Self {
            inputs: [x],
            in_layout: Layout::new(x_dims),
            out_layout: Layout::new(out_dims),
            indices: Vec::new(),
            strides: Vec::new(),
            flat: Some(sources),
        })
    }

    /// σ(i) for every output row-major index i, in order: the input index it reads.
    fn sources(&self) -> Box<dyn Iterator<Item = usize> + '_> {
        if let Some(flat) = &self.flat {
            return Box::new(flat.iter().copied());
        }
        let out = self.out_layout.dims();
        Box::new((0..self.out_layout.len()).map(move |mut i| {
            let mut src = 0;
            for ((&d, list), &stride) in out.iter().zip(&self.indices).zip(&self.strides).rev() {
                src += list.get(i % d).copied().unwrap_or_default() * stride;
                i /= d;
            }
            src
        }))
    }

    /// w̃(ρ) = Σ_i eq(r, pad_out(i))·eq(ρ, pad_in(σ(i))).
    fn predicate(&self, r: &[Fp], rho: &[Fp]) -> Fp {
        let (er, erho) = (eq_evals(r), eq_evals(rho));
        self.sources()
            .enumerate()
            .map(|(i, j)| {
                let a = er.get(self.out_layout.pad_index(i)).copied().unwrap_or_default();
                a * erho.get(self.in_layout.pad_index(j)).copied().unwrap_or_default()
            })
            .sum()
    }
}

/// A [`Take`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakeSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub indices: Vec<Vec<usize>>,
}

/// The operator's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 18, kind: "take", decode: decode_spec };

/// The flat map's line in the registry.
pub(crate) const FLAT: OpEntry = OpEntry { tag: 19, kind: "takeflat", decode: decode_flat };

/// A flat [`Take`]'s canonical record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TakeFlatSpec {
    pub x: TensorId,
    pub x_dims: Vec<usize>,
    pub out_dims: Vec<usize>,
    pub sources: Vec<usize>,
}

fn decode_flat(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (x, x_dims, out_dims) = (r.usize()?, r.dims()?, r.dims()?);
    Ok(Box::new(TakeFlatSpec { x, x_dims, out_dims, sources: r.usizes()? }))
}

impl OpRecord for TakeFlatSpec {
    fn entry(&self) -> &'static OpEntry {
        &FLAT
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usizes(&self.x_dims);
        w.usizes(&self.out_dims);
        w.usizes(&self.sources);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.x_dims.clone())]
    }

    fn summary(&self) -> String {
        format!("take entry by entry {:?} → {:?}", self.x_dims, self.out_dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Take::flat(self.x, &self.x_dims, &self.out_dims, self.sources.clone())?))
    }
}

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (x, x_dims) = (r.usize()?, r.dims()?);
    let axes = r.count(1)?;
    let mut indices = Vec::with_capacity(axes.min(x_dims.len()));
    for _ in 0..axes {
        indices.push(r.usizes()?);
    }
    Ok(Box::new(TakeSpec { x, x_dims, indices }))
}

impl OpRecord for TakeSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usizes(&self.x_dims);
        w.usize(self.indices.len());
        for list in &self.indices {
            w.usizes(list);
        }
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.x, self.x_dims.clone())]
    }

    fn summary(&self) -> String {
        let out: Vec<usize> = self.indices.iter().map(Vec::len).collect();
        format!("take {:?} → {out:?}", self.x_dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Take::new(self.x, &self.x_dims, self.indices.clone())?))
    }
}

impl Layer for Take {
    fn kind(&self) -> &'static str {
        if self.flat.is_some() {
            FLAT.kind
        } else {
            OP.kind
        }
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        self.out_layout.dims()
    }

    fn spec(&self) -> LayerSpec {
        if let Some(sources) = &self.flat {
            return LayerSpec::Op(Box::new(TakeFlatSpec {
                x: self.inputs[0],
                x_dims: self.in_layout.dims().to_vec(),
                out_dims: self.out_layout.dims().to_vec(),
                sources: sources.clone(),
            }));
        }
        LayerSpec::Op(Box::new(TakeSpec {
            x: self.inputs[0],
            x_dims: self.in_layout.dims().to_vec(),
            indices: self.indices.clone(),
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let x = inputs.first().filter(|x| x.dims == self.in_layout.dims()).ok_or_else(|| {
            ModelError::Shape(format!(
                "a take from a tensor of dimensions {:?}",
                self.in_layout.dims()
            ))
        })?;
        let data = self
            .sources()
            .map(|j| x.data.get(j).copied().ok_or_else(|| ModelError::Shape("short data".into())))
            .collect::<Result<_, _>>()?;
        Ok(LayerWitness {
            output: Tensor::new(self.out_layout.dims().to_vec(), data)?,
            advice: Vec::new(),
        })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for Take {
    #[expect(clippy::indexing_slicing, reason = "prover side: padded indices of the two layouts")]
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        mut t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        if claim.point.len() != self.out_layout.num_vars() {
            return Err(ProveError::ShapeMismatch {
                what: "variables of a claim on a take",
                expected: self.out_layout.num_vars(),
                got: claim.point.len(),
            });
        }
        let x = inputs.first().ok_or(ProveError::InvalidShape { reason: "no input".into() })?;
        let er = eq_evals(&claim.point);
        let mut w = vec![Fp::default(); self.in_layout.padded_len()];
        for (i, j) in self.sources().enumerate() {
            w[self.in_layout.pad_index(j)] += er[self.out_layout.pad_index(i)];
        }
        let xs = self.in_layout.pad_fp(&x.data);
        let out = sumcheck::prove(ProductSum::product(vec![xs, w])?, claim.value, &mut t)?;
        sumcheck::send_final_evals(&mut t, &out.final_evals);
        let x_r = out.final_evals.first().copied().unwrap_or_default();
        Ok(vec![(ClaimTarget::Input(0), EvalClaim { point: out.point, value: x_r })])
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        mut t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        if claim.point.len() != self.out_layout.num_vars() {
            return Err(VerifyError::InvalidStatement {
                reason: "a claim on a take has the wrong number of variables",
            });
        }
        let num_vars = self.in_layout.num_vars();
        let sc = SumcheckClaim { num_vars, degree: 2, claimed_sum: claim.value };
        let eval = sumcheck::verify(&sc, &mut t)?;
        let evals = sumcheck::verify_final_evals(&[Term::product(vec![0, 1])], 2, &eval, &mut t)?;
        let [x, w] = evals.as_slice() else {
            return Err(VerifyError::InvalidStatement {
                reason: "two factor evaluations expected",
            });
        };
        w.check(self.predicate(&claim.point, &eval.point), "the take predicate")?;
        Ok(vec![(ClaimTarget::Input(0), x.clone())])
    }
}
