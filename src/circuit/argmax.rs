//! The argmax along one axis, the lowest index winning ties, as a proven output (ONNX ArgMax
//! with `select_last_index = 0`; greedy decoding; a classifier's label). The design and the
//! uniqueness argument are in `paper-notes/argmax.md`; [`Builder::argmax`] chains six layers,
//! three of them this file's:
//!
//! 1. [`ArgSelect`]: the committed one-hot selector s (relation s² − s = 0);
//! 2. [`super::prefix::PrefixSum`] of s along the axis: P (virtual);
//! 3. [`super::axisdot::AxisDot`] of s and x: the selected value m per line (virtual);
//! 4. [`super::broadcast::Broadcast`] of m along the axis: M (virtual);
//! 5. [`ArgCheck`]: the committed difference D = M − x − 1 + P, range-checked in 16-bit limbs
//!    (D ≥ 0), and (P − 1)·last = 0 (exactly one bit of s set per line);
//! 6. [`ArgIndex`]: idx = Σ_l l·s[l] along the axis, the model's output (virtual).
//!
//! Before the selected index P = 0, so D ≥ 0 says x[l] ≤ m − 1 (strictly smaller: an earlier tie
//! is refused); from it on P = 1 and D ≥ 0 says x[l] ≤ m. With s one-hot, m = x[idx]: the only
//! witness is the lowest index of the maximum.
//!
//! The scores x must lie in [−2^(bits−1), 2^(bits−1)) (`bits` ≤ [`MAX_BITS`], given by the
//! caller from x's producer: 8 for int8, 32 for accumulators); then 0 ≤ D < 2^bits, which
//! ⌈bits/16⌉ limbs hold. The reference refuses scores outside that range.
#![deny(
    clippy::indexing_slicing,
    reason = "audited: index-free but for the prover-side tables, which say why"
)]

use super::along::{line, num_lines, Along};
use super::axisdot::AxisDot;
use super::broadcast::Broadcast;
use super::encode::{ModelReads, OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::prefix::PrefixSum;
use super::zoo::Builder;
use super::{
    checked_entries, ClaimTarget, Constraints, Layer, LayerSpec, LayerWitness, Layout, ModelError,
    Reduction, Tensor, TensorId, LIMB_BITS,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::error::{ProveError, VerifyError};
use crate::field::Fp;
use crate::sumcheck::EvalClaim;
use crate::transcript::{ProverTranscript, VerifierTranscript};

/// The widest scores the argmax takes (bits of a signed integer).
pub const MAX_BITS: u32 = 62;

/// The axis checks shared by the three layers.
fn check_axis(what: &str, dims: &[usize], axis: usize) -> Result<(), ModelError> {
    checked_entries(dims)?;
    if axis >= dims.len() {
        return Err(ModelError::Shape(format!(
            "{what} along axis {axis} of a tensor of dimensions {dims:?}"
        )));
    }
    Ok(())
}

/// `dims` with `axis` of length 1.
fn reduced(dims: &[usize], axis: usize) -> Vec<usize> {
    dims.iter().enumerate().map(|(a, &d)| if a == axis { 1 } else { d }).collect()
}

/// The one input of dimensions `dims`, or a shape error naming `what`.
fn input<'a>(
    inputs: &[&'a Tensor],
    j: usize,
    dims: &[usize],
    what: &str,
) -> Result<&'a Tensor, ModelError> {
    inputs.get(j).copied().filter(|t| t.dims == dims).ok_or_else(|| {
        ModelError::Shape(format!("{what}: input {j} must have dimensions {dims:?}"))
    })
}

/// s = the one-hot selector of the first maximum of x along `axis`, committed.
#[derive(Clone, Debug)]
pub struct ArgSelect {
    inputs: [TensorId; 1],
    dims: Vec<usize>,
    axis: usize,
}

impl ArgSelect {
    /// # Errors
    /// An axis beyond the rank, or dimensions beyond [`checked_entries`].
    pub fn new(x: TensorId, dims: &[usize], axis: usize) -> Result<Self, ModelError> {
        check_axis("an argmax selector", dims, axis)?;
        Ok(Self { inputs: [x], dims: dims.to_vec(), axis })
    }
}

/// The canonical record of the argmax's layers: the input tensors, the scores' dimensions, the
/// axis and (for [`ArgCheck`]) the scores' bits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgSpec {
    pub part: ArgPart,
    pub inputs: Vec<TensorId>,
    pub dims: Vec<usize>,
    pub axis: usize,
    pub bits: u32,
}

/// Which of the argmax's own layers a record builds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArgPart {
    Select,
    Check,
    Index,
}

pub(crate) const SELECT: OpEntry = OpEntry { tag: 15, kind: "argselect", decode: decode_select };
pub(crate) const CHECK: OpEntry = OpEntry { tag: 16, kind: "argcheck", decode: decode_check };
pub(crate) const INDEX: OpEntry = OpEntry { tag: 17, kind: "argindex", decode: decode_index };

fn decode_with(part: ArgPart, r: &mut ByteReader<'_>) -> Result<ArgSpec, ModelError> {
    let inputs = r.usizes()?;
    let (dims, axis, bits) = (r.dims()?, r.usize()?, r.u32()?);
    Ok(ArgSpec { part, inputs, dims, axis, bits })
}

fn decode_select(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(decode_with(ArgPart::Select, r)?))
}

fn decode_check(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(decode_with(ArgPart::Check, r)?))
}

fn decode_index(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(decode_with(ArgPart::Index, r)?))
}

impl OpRecord for ArgSpec {
    fn entry(&self) -> &'static OpEntry {
        match self.part {
            ArgPart::Select => &SELECT,
            ArgPart::Check => &CHECK,
            ArgPart::Index => &INDEX,
        }
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usizes(&self.inputs);
        w.usizes(&self.dims);
        w.usize(self.axis);
        w.u32(self.bits);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        self.inputs.iter().map(|&t| (t, self.dims.clone())).collect()
    }

    fn summary(&self) -> String {
        let what = match self.part {
            ArgPart::Select => "selector of the first maximum".to_string(),
            ArgPart::Check => format!("check of {}-bit scores", self.bits),
            ArgPart::Index => "index of the selector".to_string(),
        };
        format!("argmax {what} along axis {} of {:?}", self.axis, self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let (dims, axis, bits) = (&self.dims, self.axis, self.bits);
        match (self.part, self.inputs.as_slice(), bits) {
            (ArgPart::Select, &[x], 0) => Ok(Box::new(ArgSelect::new(x, dims, axis)?)),
            (ArgPart::Check, &[m, x, p], _) => {
                Ok(Box::new(ArgCheck::new([m, x, p], dims, axis, bits)?))
            }
            (ArgPart::Index, &[s], 0) => Ok(Box::new(ArgIndex::new(s, dims, axis)?)),
            _ => Err(ModelError::Parameter(format!(
                "{} with {} inputs and {bits} bits",
                self.entry().kind,
                self.inputs.len()
            ))),
        }
    }
}

impl Layer for ArgSelect {
    fn kind(&self) -> &'static str {
        SELECT.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let (inputs, dims, axis) = (self.inputs.to_vec(), self.dims.clone(), self.axis);
        LayerSpec::Op(Box::new(ArgSpec { part: ArgPart::Select, inputs, dims, axis, bits: 0 }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let x = input(inputs, 0, &self.dims, "an argmax selector")?;
        let mut s = vec![0i64; x.data.len()];
        for j in 0..num_lines(&self.dims, self.axis) {
            // the first maximum: a later entry wins only when strictly larger
            let first = line(&self.dims, self.axis, j)
                .filter_map(|i| x.data.get(i).map(|&v| (i, v)))
                .fold(None, |best: Option<(usize, i64)>, (i, v)| match best {
                    Some((_, b)) if v <= b => best,
                    _ => Some((i, v)),
                });
            if let Some(slot) = first.and_then(|(i, _)| s.get_mut(i)) {
                *slot = 1;
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), s)?, advice: Vec::new() })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for ArgSelect {
    fn columns(&self) -> Vec<&'static str> {
        vec!["s"]
    }

    fn relations(&self) -> Vec<Poly> {
        let s = Lin::var(Var::Col(0));
        vec![s.times(&s).plus_lin(&s.scale(-1))]
    }
}

/// D = M − x − 1 + P ≥ 0 in limbs and (P − 1)·last = 0, committed; inputs [M, x, P].
#[derive(Clone, Debug)]
pub struct ArgCheck {
    inputs: [TensorId; 3],
    dims: Vec<usize>,
    axis: usize,
    bits: u32,
}

const LIMBS: [&str; 4] = ["d0", "d1", "d2", "d3"];

impl ArgCheck {
    /// The check on scores of `bits` bits, inputs [M, x, P] of dimensions `dims`.
    ///
    /// # Errors
    /// An axis beyond the rank, dimensions beyond [`checked_entries`], or `bits` outside
    /// 1..=[`MAX_BITS`].
    pub fn new(
        inputs: [TensorId; 3],
        dims: &[usize],
        axis: usize,
        bits: u32,
    ) -> Result<Self, ModelError> {
        check_axis("an argmax check", dims, axis)?;
        if !(1..=MAX_BITS).contains(&bits) {
            return Err(ModelError::Parameter(format!(
                "an argmax over scores of {bits} bits (1 to {MAX_BITS})"
            )));
        }
        Ok(Self { inputs, dims: dims.to_vec(), axis, bits })
    }

    /// 16-bit limbs of D (one limb: D itself is range-checked).
    fn limbs(&self) -> usize {
        self.bits.div_ceil(LIMB_BITS) as usize
    }
}

impl Layer for ArgCheck {
    fn kind(&self) -> &'static str {
        CHECK.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let (inputs, dims, axis) = (self.inputs.to_vec(), self.dims.clone(), self.axis);
        LayerSpec::Op(Box::new(ArgSpec {
            part: ArgPart::Check,
            inputs,
            dims,
            axis,
            bits: self.bits,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let what = "an argmax check";
        let [m, x, p] = [0, 1, 2].map(|j| input(inputs, j, &self.dims, what));
        let (m, x, p) = (m?, x?, p?);
        let half = 1i64 << (self.bits - 1);
        let limbs = self.limbs();
        let top = 1i128 << (LIMB_BITS as usize * limbs);
        let mut d = Vec::with_capacity(x.data.len());
        let mut advice = vec![Vec::with_capacity(x.data.len()); if limbs > 1 { limbs } else { 0 }];
        for (i, ((&mv, &xv), &pv)) in m.data.iter().zip(&x.data).zip(&p.data).enumerate() {
            if !(-half..half).contains(&xv) {
                return Err(ModelError::Shape(format!(
                    "argmax: score {xv} at entry {i} is outside {} bits",
                    self.bits
                )));
            }
            let diff = mv as i128 - xv as i128 - 1 + pv as i128;
            if !(0..top).contains(&diff) {
                return Err(ModelError::Shape(format!(
                    "argmax: the difference {diff} at entry {i} is outside [0, 2^{})",
                    LIMB_BITS as usize * limbs
                )));
            }
            d.push(diff as i64);
            for (t, col) in advice.iter_mut().enumerate() {
                col.push(((diff >> (LIMB_BITS as usize * t)) & 0xffff) as i64);
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), d)?, advice })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for ArgCheck {
    fn columns(&self) -> Vec<&'static str> {
        let limbs = if self.limbs() > 1 { self.limbs() } else { 0 };
        std::iter::once("d").chain(LIMBS.iter().copied().take(limbs)).collect()
    }

    fn relations(&self) -> Vec<Poly> {
        let [d, m, x, p] = [Var::Col(0), Var::In(0), Var::In(1), Var::In(2)].map(Lin::var);
        // D − (M − x − 1 + P)
        let diff = d.minus(&m).plus(&x).minus(&p).add_const(1);
        let last = p.add_const(-1).times(&Lin::var(Var::Coef(0)));
        let mut out = vec![diff.to_poly(), last];
        if self.limbs() > 1 {
            let cols: Vec<usize> = (1..=self.limbs()).collect();
            out.push(Lin::var(Var::Col(0)).minus(&Lin::limbs(&cols)).to_poly());
        }
        out
    }

    fn coefficients(&self) -> Vec<Vec<i64>> {
        // last[l] = [l = L − 1] along the axis
        let mut last = vec![0i64; Layout::new(&self.dims).len()];
        for j in 0..num_lines(&self.dims, self.axis) {
            if let Some(slot) = line(&self.dims, self.axis, j).last().and_then(|i| last.get_mut(i))
            {
                *slot = 1;
            }
        }
        vec![last]
    }

    fn range_checks(&self) -> Vec<Lin> {
        if self.limbs() > 1 {
            (1..=self.limbs()).map(|c| Lin::var(Var::Col(c))).collect()
        } else {
            vec![Lin::var(Var::Col(0))]
        }
    }
}

/// idx = Σ_l l·s[l] along the axis (virtual): the selected index of a one-hot s.
#[derive(Clone, Debug)]
pub struct ArgIndex {
    inputs: [TensorId; 1],
    axis: usize,
    out_dims: Vec<usize>,
    along: Along,
}

impl ArgIndex {
    /// # Errors
    /// An axis beyond the rank, or dimensions beyond [`checked_entries`].
    pub fn new(s: TensorId, dims: &[usize], axis: usize) -> Result<Self, ModelError> {
        check_axis("an argmax index", dims, axis)?;
        let along = Along::new(Layout::new(dims), axis);
        Ok(Self { inputs: [s], axis, out_dims: reduced(dims, axis), along })
    }
}

/// The position l's MLE at r: Σ_j 2^j·r_j.
fn position_at(r: &[Fp]) -> Fp {
    r.iter().rev().fold(Fp::default(), |acc, &x| acc + acc + x)
}

impl Layer for ArgIndex {
    fn kind(&self) -> &'static str {
        INDEX.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.out_dims
    }

    fn spec(&self) -> LayerSpec {
        let (inputs, dims) = (self.inputs.to_vec(), self.along.layout().dims().to_vec());
        LayerSpec::Op(Box::new(ArgSpec {
            part: ArgPart::Index,
            inputs,
            dims,
            axis: self.axis,
            bits: 0,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let dims = self.along.layout().dims();
        let s = input(inputs, 0, dims, "an argmax index")?;
        let mut out = Vec::with_capacity(num_lines(dims, self.axis));
        for j in 0..num_lines(dims, self.axis) {
            let mut acc = 0i64;
            for (l, i) in line(dims, self.axis, j).enumerate() {
                let v = s.data.get(i).copied().unwrap_or_default();
                acc = (l as i64).checked_mul(v).and_then(|p| acc.checked_add(p)).ok_or_else(
                    || ModelError::Shape(format!("argmax: the index sum overflows at line {j}")),
                )?;
            }
            out.push(acc);
        }
        Ok(LayerWitness { output: Tensor::new(self.out_dims.clone(), out)?, advice: Vec::new() })
    }

    fn reduction(&self) -> Option<&dyn Reduction> {
        Some(self)
    }
}

impl Reduction for ArgIndex {
    fn prove_output(
        &self,
        claim: &EvalClaim,
        inputs: &[&Tensor],
        t: &mut dyn ProverTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, ProveError> {
        let s = inputs.first().ok_or(ProveError::InvalidShape { reason: "no input".into() })?;
        let k = self.along.axis_num_vars();
        let positions: Vec<Fp> = (0..1u64 << k).map(Fp::from).collect();
        let table = self.along.layout().pad_fp(&s.data);
        self.along.prove(&claim.point, &positions, vec![table], claim.value, t)
    }

    fn verify_output(
        &self,
        claim: &EvalClaim,
        t: &mut dyn VerifierTranscript,
    ) -> Result<Vec<(ClaimTarget, EvalClaim)>, VerifyError> {
        self.along.verify(&claim.point, position_at, 1, claim.value, t)
    }
}

impl Builder {
    /// The argmax of tensor `x` along `axis`, the lowest index winning ties, for scores of
    /// `bits` bits (signed): the six layers of the module docs. Returns the index tensor (x's
    /// dimensions with the axis of length 1).
    ///
    /// # Errors
    /// An axis beyond x's rank or `bits` outside 1..=[`MAX_BITS`].
    pub fn argmax(&mut self, x: TensorId, axis: usize, bits: u32) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        // validate before pushing anything
        ArgCheck::new([0, 0, 0], &dims, axis, bits)?;
        let s = self.push(ArgSelect::new(x, &dims, axis)?);
        let p = self.push(PrefixSum::new(s, &dims, axis)?);
        let m = self.push(AxisDot::new(s, x, &dims, axis)?);
        let big_m = self.push(Broadcast::new(m, &reduced(&dims, axis), &dims)?);
        self.push(ArgCheck::new([big_m, x, p], &dims, axis, bits)?);
        Ok(self.push(ArgIndex::new(s, &dims, axis)?))
    }
}
