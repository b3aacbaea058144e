//! Softmax along one axis of an int8 tensor inside the proof, with exactly one witness per input
//! (`paper-notes/softmax.md` has the error analysis and the uniqueness argument).
//! [`Builder::softmax`] chains nine layers, two of them this file's:
//!
//! 1–5. the argmax's selector, prefix sum, selected value m = max along the axis, its broadcast
//!    M and the check that M is the row maximum (`argmax.rs`: the lowest index of the maximum
//!    is the only selector, so M is pinned);
//! 6. [`SoftmaxExp`]: the committed d = M − x and e = E[d], the pair (d, e) looked up in the
//!    layer's table E[d] = round(2^K·exp(−s_x·d)) over d ∈ [0, 255] (int8 scores lie within
//!    255 of their maximum, and the lookup itself pins d to that range);
//! 7–8. Σ = Σ_axis e ([`super::reduce::ReduceSum`], virtual) and its broadcast S (virtual);
//! 9. [`SoftmaxDiv`]: the output q = t + z_out with t = ⌊(2eR + S)/(2S)⌋ = round-half-up(R·e/S),
//!    by the exact rounding relation r = 2eR − (2t − 1)·S with 0 ≤ r ≤ 2S − 1: r and
//!    u = 2S − 1 − r are committed in 16-bit limbs and range-checked, t is range-checked to 16
//!    bits. R = 1/s_out is an integer (the probabilities' step is 1/R), and z_out + R ≤ 127.
//!
//! K = [`exp_bits_for`] L, the most bits with L·2^K ≤ 2^31 (at most 30): 27 for 16 positions,
//! 21 for 1 024. Every value stays far below p/2 (e ≤ 2^K ≤ 2^30, S ≤ L·2^K ≤ 2^31,
//! 2eR < 2^39, |(2t − 1)·S| < 2^48), so the
//! field relation is the integer one, and for given e and S exactly one integer t in [0, 2^16)
//! satisfies it. S ≥ E[0] = 2^K > 0, since the maximum's own term is there; e ≤ S gives t ≤ R.
#![deny(clippy::indexing_slicing, reason = "audited: index-free (the table is read through get)")]

use super::argmax::{ArgCheck, ArgSelect};
use super::axisdot::AxisDot;
use super::broadcast::Broadcast;
use super::encode::{ModelReads, OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::gate::Gate;
use super::prefix::PrefixSum;
use super::reduce::ReduceSum;
use super::zoo::Builder;
use super::{
    checked_entries, Constraints, Layer, LayerSpec, LayerWitness, ModelError, TableLookup, Tensor,
    TensorId, LIMB_BITS,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use std::sync::Arc;

/// The most bits of the exponential's fixed point E[0] = 2^K.
pub const MAX_EXP_BITS: u32 = 30;
/// The longest softmax axis: S ≤ L·2^K must stay within 2^31 with K ≥ 15.
pub const MAX_AXIS: usize = 1 << 16;

/// The exponential's bits for a softmax over `len` entries: the most with L·2^K ≤ 2^31 (so
/// that 2S fits two 16-bit limbs), at most [`MAX_EXP_BITS`]: 27 for 16 entries, 21 for 1024,
/// 15 for 2^16.
pub fn exp_bits_for(len: usize) -> u32 {
    let log = usize::BITS - len.max(1).saturating_sub(1).leading_zeros();
    31u32.saturating_sub(log).min(MAX_EXP_BITS)
}

/// The exponential's table for scores of scale `scale` with `bits` bits: E[d] =
/// round(2^bits·exp(−scale·d)), d = 0..=255 (non-increasing, E[0] = 2^bits).
pub fn exp_table(scale: f64, bits: u32) -> Vec<i64> {
    let one = (1u64 << bits.min(MAX_EXP_BITS)) as f64;
    (0..256).map(|d| (one * (-scale * d as f64).exp()).round_ties_even() as i64).collect()
}

/// e = E[M − x] elementwise, with d = M − x committed beside it; see the module docs. Under a
/// mask (`keep`, one 0/1 per element; empty: none) e = keep·E[M − x], so a masked position's
/// exponential is exactly 0, with E[M − x] committed as its own column.
#[derive(Clone, Debug)]
pub struct SoftmaxExp {
    /// [x, M], or [x, M, g] under a gate
    inputs: Vec<TensorId>,
    dims: Vec<usize>,
    table: Arc<Vec<i64>>,
    keep: Vec<i8>,
}

/// A [`SoftmaxExp`]'s record: inputs [x, M], dimensions and the 256-entry table (a verifier takes
/// the table from the model, never recomputes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftmaxExpSpec {
    pub x: TensorId,
    pub m: TensorId,
    pub dims: Vec<usize>,
    pub table: Vec<i64>,
    /// One 0/1 per element (empty: no mask).
    pub keep: Vec<i8>,
    /// The 0/1 gate tensor of a mask read from the input (record tag 26, then `keep` is empty).
    pub gate: Option<TensorId>,
}

pub(crate) const EXP: OpEntry = OpEntry { tag: 21, kind: "softmax-exp", decode: decode_exp };
/// [`SoftmaxExp`] under a gate: e = g·E[M − x] with g a tensor of the circuit.
pub(crate) const EXP_GATED: OpEntry =
    OpEntry { tag: 26, kind: "softmax-exp-gated", decode: decode_exp_gated };

fn decode_exp(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (x, m, dims) = (r.usize()?, r.usize()?, r.dims()?);
    let table = read_table(r)?;
    let keep = r.i8s()?;
    Ok(Box::new(SoftmaxExpSpec { x, m, dims, table, keep, gate: None }))
}

fn decode_exp_gated(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    let (x, m, g, dims) = (r.usize()?, r.usize()?, r.usize()?, r.dims()?);
    let table = read_table(r)?;
    Ok(Box::new(SoftmaxExpSpec { x, m, dims, table, keep: Vec::new(), gate: Some(g) }))
}

/// The exponential's 256 entries.
fn read_table(r: &mut ByteReader<'_>) -> Result<Vec<i64>, ModelError> {
    (0..256).map(|_| Ok(r.i64()?)).collect()
}

impl OpRecord for SoftmaxExpSpec {
    fn entry(&self) -> &'static OpEntry {
        match self.gate {
            Some(_) => &EXP_GATED,
            None => &EXP,
        }
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        w.usize(self.m);
        if let Some(g) = self.gate {
            w.usize(g);
        }
        w.usizes(&self.dims);
        for &v in &self.table {
            w.i64(v);
        }
        if self.gate.is_none() {
            w.i8s(&self.keep);
        }
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        let mut out = vec![(self.x, self.dims.clone()), (self.m, self.dims.clone())];
        out.extend(self.gate.map(|g| (g, self.dims.clone())));
        out
    }

    fn summary(&self) -> String {
        let bits = self.table.first().map_or(0, |v| v.trailing_zeros());
        format!("e = E[M − x] (2^{bits}·exp), {:?}", self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self;
        Ok(Box::new(match s.gate {
            Some(g) => SoftmaxExp::gated([s.x, s.m, g], &s.dims, s.table.clone())?,
            None => SoftmaxExp::masked([s.x, s.m], &s.dims, s.table.clone(), s.keep.clone())?,
        }))
    }
}

impl SoftmaxExp {
    /// # Errors
    /// A table of other than 256 entries, entries outside [0, 2^K], or dimensions beyond
    /// [`checked_entries`].
    pub fn new(inputs: [TensorId; 2], dims: &[usize], table: Vec<i64>) -> Result<Self, ModelError> {
        Self::masked(inputs, dims, table, Vec::new())
    }

    /// [`SoftmaxExp::new`] under a mask: `keep` one 0/1 per element, or empty.
    ///
    /// # Errors
    /// As [`SoftmaxExp::new`], or a mask of another length or with values other than 0 and 1.
    pub fn masked(
        inputs: [TensorId; 2],
        dims: &[usize],
        table: Vec<i64>,
        keep: Vec<i8>,
    ) -> Result<Self, ModelError> {
        let len = checked_entries(dims)?;
        if !(keep.is_empty() || (keep.len() == len && keep.iter().all(|k| *k == 0 || *k == 1))) {
            return Err(ModelError::Parameter(format!(
                "a softmax mask of {} entries for {len} (one 0 or 1 each)",
                keep.len()
            )));
        }
        // E[0] = 2^K for some K ≤ MAX_EXP_BITS, every entry in [0, 2^K]
        let one = table.first().copied().unwrap_or(0);
        let power = one > 0 && one.count_ones() == 1 && one <= 1 << MAX_EXP_BITS;
        if table.len() != 256 || !power || table.iter().any(|v| !(0..=one).contains(v)) {
            return Err(ModelError::Parameter(format!(
                "a softmax exponential table of 256 entries in [0, 2^K], the first 2^K with K ≤ \
                 {MAX_EXP_BITS}"
            )));
        }
        Ok(Self { inputs: inputs.to_vec(), dims: dims.to_vec(), table: Arc::new(table), keep })
    }

    /// [`SoftmaxExp::new`] under a gate: inputs [x, M, g], e = g·E[M − x] with g a 0/1 tensor
    /// of the circuit (a mask the model reads from its input).
    ///
    /// # Errors
    /// As [`SoftmaxExp::new`].
    pub fn gated(
        inputs: [TensorId; 3],
        dims: &[usize],
        table: Vec<i64>,
    ) -> Result<Self, ModelError> {
        let [x, m, g] = inputs;
        let mut layer = Self::masked([x, m], dims, table, Vec::new())?;
        layer.inputs.push(g);
        Ok(layer)
    }

    fn gate(&self) -> Option<TensorId> {
        self.inputs.get(2).copied()
    }

    /// Whether e_raw = E[d] is its own column (under a mask or a gate).
    fn raw_column(&self) -> bool {
        !self.keep.is_empty() || self.gate().is_some()
    }
}

impl Layer for SoftmaxExp {
    fn kind(&self) -> &'static str {
        match self.gate() {
            Some(_) => EXP_GATED.kind,
            None => EXP.kind,
        }
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let (x, m) = (self.inputs.first().copied(), self.inputs.get(1).copied());
        LayerSpec::Op(Box::new(SoftmaxExpSpec {
            x: x.unwrap_or_default(),
            m: m.unwrap_or_default(),
            dims: self.dims.clone(),
            table: self.table.to_vec(),
            keep: self.keep.clone(),
            gate: self.gate(),
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let (Some(x), Some(m)) = (inputs.first(), inputs.get(1)) else {
            return Err(ModelError::Shape("softmax-exp takes [x, M] (and a gate)".into()));
        };
        let gate = inputs.get(2);
        if inputs.len() != self.inputs.len()
            || x.dims != self.dims
            || m.dims != self.dims
            || gate.is_some_and(|g| g.dims != self.dims)
        {
            return Err(ModelError::Shape(format!(
                "softmax-exp: inputs of dimensions {:?}",
                self.dims
            )));
        }
        let mut e = Vec::with_capacity(x.data.len());
        let mut d = Vec::with_capacity(x.data.len());
        for (i, (&xv, &mv)) in x.data.iter().zip(&m.data).enumerate() {
            let diff = mv - xv;
            let v =
                usize::try_from(diff).ok().and_then(|j| self.table.get(j)).ok_or_else(|| {
                    ModelError::Shape(format!(
                        "softmax: M − x = {diff} at entry {i} is outside [0, 255]"
                    ))
                })?;
            e.push(*v);
            d.push(diff);
        }
        let keep: Vec<i64> = match gate {
            Some(g) => {
                if let Some((i, v)) = g.data.iter().enumerate().find(|(_, v)| !(0..=1).contains(*v))
                {
                    return Err(ModelError::Parameter(format!(
                        "softmax: the mask holds {v} at entry {i} (0 or 1 only)"
                    )));
                }
                g.data.clone()
            }
            None if self.keep.is_empty() => {
                return Ok(LayerWitness {
                    output: Tensor::new(self.dims.clone(), e)?,
                    advice: vec![d],
                });
            }
            None => self.keep.iter().map(|&k| i64::from(k)).collect(),
        };
        let kept = e.iter().zip(&keep).map(|(&v, &k)| v * k).collect();
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), kept)?, advice: vec![d, e] })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for SoftmaxExp {
    fn columns(&self) -> Vec<&'static str> {
        if self.raw_column() {
            vec!["e", "d", "e_raw"]
        } else {
            vec!["e", "d"]
        }
    }

    fn relations(&self) -> Vec<Poly> {
        // d − (M − x)
        let [d, x, m] = [Var::Col(1), Var::In(0), Var::In(1)].map(Lin::var);
        let mut out = vec![d.minus(&m).plus(&x).to_poly()];
        if self.raw_column() {
            // e − keep·E[d], keep the public mask or the gate tensor
            let keep = if self.gate().is_some() { Var::In(2) } else { Var::Coef(0) };
            let (e, raw) = (Var::Col(0), Var::Col(2));
            let kept = Lin::var(keep).times(&Lin::var(raw)).scale(crate::field::from_i128(-1));
            out.push(Lin::var(e).to_poly().plus(&kept));
        }
        out
    }

    fn coefficients(&self) -> Vec<Vec<i64>> {
        match self.keep.is_empty() {
            true => Vec::new(),
            false => vec![self.keep.iter().map(|&k| i64::from(k)).collect()],
        }
    }

    fn table_lookup(&self) -> Option<TableLookup> {
        let rows: Vec<Vec<i64>> =
            self.table.iter().enumerate().map(|(d, &e)| vec![d as i64, e]).collect();
        let e = if self.raw_column() { Var::Col(2) } else { Var::Col(0) };
        Some(TableLookup { columns: vec![Var::Col(1), e], rows: rows.into() })
    }
}

/// q = z + round-half-up(R·e/S) elementwise; see the module docs.
#[derive(Clone, Debug)]
pub struct SoftmaxDiv {
    inputs: [TensorId; 2],
    dims: Vec<usize>,
    /// R = 1/s_out
    steps: i64,
    zero: i32,
    axis_len: usize,
    /// K: e ≤ 2^K
    exp_bits: u32,
    /// 16-bit limbs of r and of u (1 or 2)
    limbs: usize,
}

/// A [`SoftmaxDiv`]'s record: inputs [e, S], dimensions, the axis length (it bounds S), R and
/// the output zero point.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoftmaxDivSpec {
    pub e: TensorId,
    pub s: TensorId,
    pub dims: Vec<usize>,
    pub axis_len: usize,
    pub exp_bits: u32,
    pub steps: i64,
    pub zero: i32,
}

pub(crate) const DIV: OpEntry = OpEntry { tag: 22, kind: "softmax-div", decode: decode_div };

fn decode_div(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(SoftmaxDivSpec {
        e: r.usize()?,
        s: r.usize()?,
        dims: r.dims()?,
        axis_len: r.usize()?,
        exp_bits: r.u32()?,
        steps: r.i64()?,
        zero: r.i32()?,
    }))
}

impl OpRecord for SoftmaxDivSpec {
    fn entry(&self) -> &'static OpEntry {
        &DIV
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.e);
        w.usize(self.s);
        w.usizes(&self.dims);
        w.usize(self.axis_len);
        w.u32(self.exp_bits);
        w.i64(self.steps);
        w.i64(self.zero as i64);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        vec![(self.e, self.dims.clone()), (self.s, self.dims.clone())]
    }

    fn summary(&self) -> String {
        format!("q = {} + round({}·e/S), {:?}", self.zero, self.steps, self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self;
        let (len, bits) = (s.axis_len, s.exp_bits);
        Ok(Box::new(SoftmaxDiv::new([s.e, s.s], &s.dims, (len, bits), s.steps, s.zero)?))
    }
}

const R_LIMBS: [&str; 2] = ["r0", "r1"];
const U_LIMBS: [&str; 2] = ["u0", "u1"];

impl SoftmaxDiv {
    /// # Errors
    /// An axis longer than [`MAX_AXIS`] or empty, L·2^K beyond 2^31, R outside 1..=255, or
    /// z + R beyond int8.
    pub fn new(
        inputs: [TensorId; 2],
        dims: &[usize],
        (axis_len, exp_bits): (usize, u32),
        steps: i64,
        zero: i32,
    ) -> Result<Self, ModelError> {
        checked_entries(dims)?;
        if !(1..=MAX_AXIS).contains(&axis_len)
            || exp_bits > MAX_EXP_BITS
            || (axis_len as u128) << exp_bits > 1 << 31
        {
            return Err(ModelError::Shape(format!(
                "a softmax over an axis of {axis_len} entries with exponentials of {exp_bits} bits \
                 (1 to {MAX_AXIS} entries, L·2^K ≤ 2^31)"
            )));
        }
        if !(1..=255).contains(&steps) || zero < -128 || zero as i64 + steps > 127 {
            return Err(ModelError::Parameter(format!(
                "softmax output steps 1/{steps} from zero point {zero}: z + R must stay in int8"
            )));
        }
        // u, r < 2S ≤ 2·L·2^K
        let bound = 2 * axis_len as u128 * (1u128 << exp_bits);
        let limbs = if bound <= 1 << LIMB_BITS { 1 } else { 2 };
        Ok(Self { inputs, dims: dims.to_vec(), steps, zero, axis_len, exp_bits, limbs })
    }
}

impl Layer for SoftmaxDiv {
    fn kind(&self) -> &'static str {
        DIV.kind
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let [e, s] = self.inputs;
        LayerSpec::Op(Box::new(SoftmaxDivSpec {
            e,
            s,
            dims: self.dims.clone(),
            axis_len: self.axis_len,
            exp_bits: self.exp_bits,
            steps: self.steps,
            zero: self.zero,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let (Some(e), Some(s), 2) = (inputs.first(), inputs.get(1), inputs.len()) else {
            return Err(ModelError::Shape("softmax-div takes [e, S]".into()));
        };
        if e.dims != self.dims || s.dims != self.dims {
            return Err(ModelError::Shape(format!(
                "softmax-div: inputs of dimensions {:?}",
                self.dims
            )));
        }
        let top = 1i128 << (LIMB_BITS as usize * self.limbs);
        let n = e.data.len();
        let mut q = Vec::with_capacity(n);
        let mut advice = vec![Vec::with_capacity(n); 2 * self.limbs];
        for (i, (&ev, &sv)) in e.data.iter().zip(&s.data).enumerate() {
            let (ev, sv, rr) = (ev as i128, sv as i128, self.steps as i128);
            if sv == 0 && ev == 0 {
                return Err(ModelError::Parameter(format!(
                    "softmax: the mask masks every position of the line of entry {i} (its sum \
                     is 0; such a line has no softmax)"
                )));
            }
            if sv <= 0 || ev < 0 || ev > sv {
                return Err(ModelError::Shape(format!(
                    "softmax: e = {ev} against the sum {sv} at entry {i}"
                )));
            }
            let t = (2 * ev * rr + sv).div_euclid(2 * sv);
            let r = 2 * ev * rr - (2 * t - 1) * sv;
            let u = 2 * sv - 1 - r;
            if !(0..top).contains(&r) || !(0..top).contains(&u) {
                return Err(ModelError::Shape(format!(
                    "softmax: the remainder {r} of the sum {sv} at entry {i} does not fit {} limbs",
                    self.limbs
                )));
            }
            q.push((t + self.zero as i128) as i64);
            for (c, v) in [(0, r), (self.limbs, u)] {
                for l in 0..self.limbs {
                    if let Some(col) = advice.get_mut(c + l) {
                        col.push(((v >> (LIMB_BITS as usize * l)) & 0xffff) as i64);
                    }
                }
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), q)?, advice })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for SoftmaxDiv {
    fn columns(&self) -> Vec<&'static str> {
        let l = self.limbs;
        let mut cols = vec!["q"];
        cols.extend(R_LIMBS.iter().take(l));
        cols.extend(U_LIMBS.iter().take(l));
        cols
    }

    fn relations(&self) -> Vec<Poly> {
        let l = self.limbs;
        let r = Lin::limbs(&(1..=l).collect::<Vec<_>>());
        let u = Lin::limbs(&(l + 1..=2 * l).collect::<Vec<_>>());
        let [q, e, s] = [Var::Col(0), Var::In(0), Var::In(1)].map(Lin::var);
        let (rr, z) = (self.steps as i128, self.zero as i128);
        // r − 2R·e + (2q − 2z − 1)·S = 0
        let rounding =
            q.scale(2).add_const(-2 * z - 1).times(&s).plus_lin(&r.clone().minus(&e.scale(2 * rr)));
        // u − (2S − 1 − r) = 0
        let rest = u.minus(&s.scale(2)).add_const(1).plus(&r).to_poly();
        vec![rounding, rest]
    }

    fn range_checks(&self) -> Vec<Lin> {
        // t = q − z, then every limb of r and u
        let t = Lin::var(Var::Col(0)).add_const(-(self.zero as i128));
        std::iter::once(t).chain((1..=2 * self.limbs).map(|c| Lin::var(Var::Col(c)))).collect()
    }
}

impl Builder {
    /// The softmax of int8 tensor `x` (scale `scale`) along `axis` as int8 probabilities
    /// q = z_out + round(R·p), step 1/R: the nine layers of the module docs. Returns q.
    ///
    /// # Errors
    /// An axis beyond x's rank or longer than [`MAX_AXIS`], R outside 1..=255, z_out + R beyond
    /// int8, or a scale that is not positive and finite.
    pub fn softmax(
        &mut self,
        x: TensorId,
        axis: usize,
        scale: f64,
        steps: i64,
        zero_out: i32,
    ) -> Result<TensorId, ModelError> {
        self.softmax_masked(x, axis, (scale, steps, zero_out), Vec::new())
    }

    /// [`Builder::softmax`] under a mask: `keep` one 0/1 per element of x (empty: none); a
    /// masked position's probability is exactly 0. Every line along the axis must keep one
    /// position, and masked scores should be the int8 minimum (so that the row maximum is a
    /// kept score, `paper-notes/softmax.md`).
    ///
    /// # Errors
    /// As [`Builder::softmax`], a mask of the wrong length or a line with every position masked.
    pub fn softmax_masked(
        &mut self,
        x: TensorId,
        axis: usize,
        params: (f64, i64, i32),
        keep: Vec<i8>,
    ) -> Result<TensorId, ModelError> {
        self.softmax_with(x, axis, params, keep, None)
    }

    /// [`Builder::softmax`] under a gate: `gate` a 0/1 tensor of x's dimensions that the circuit
    /// computes (a mask read from the model's input, [`super::take::Take`] of it). Masked
    /// scores are set to −128 first ([`Gate`]), so the row maximum is a kept score, and a masked
    /// position's probability is exactly 0. A line whose every position the gate masks has no
    /// softmax: proving such an input fails (its sum would be 0).
    ///
    /// # Errors
    /// As [`Builder::softmax`], or a gate of other dimensions than x's.
    pub fn softmax_gated(
        &mut self,
        x: TensorId,
        axis: usize,
        params: (f64, i64, i32),
        gate: TensorId,
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        if self.dims(gate) != dims {
            return Err(ModelError::Shape(format!(
                "a softmax gate of dimensions {:?} for scores {dims:?}",
                self.dims(gate)
            )));
        }
        self.softmax_with(x, axis, params, Vec::new(), Some(gate))
    }

    fn softmax_with(
        &mut self,
        x: TensorId,
        axis: usize,
        (scale, steps, zero_out): (f64, i64, i32),
        keep: Vec<i8>,
        gate: Option<TensorId>,
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        let len = dims.get(axis).copied().ok_or_else(|| {
            ModelError::Shape(format!("a softmax along axis {axis} of a tensor {dims:?}"))
        })?;
        if !(scale > 0.0 && scale.is_finite()) {
            return Err(ModelError::Parameter(format!("a softmax of scores of scale {scale}")));
        }
        // validate before pushing anything
        let bits = exp_bits_for(len);
        SoftmaxDiv::new([0, 0], &dims, (len, bits), steps, zero_out)?;
        SoftmaxExp::masked([0, 0], &dims, exp_table(scale, bits), keep.clone())?;
        if !keep.is_empty() {
            let inner: usize = dims.iter().skip(axis + 1).product();
            let lines = keep.len() / len.max(1);
            let empty = (0..lines).any(|j| {
                let (o, i) = (j / inner, j % inner);
                (0..len).all(|l| keep.get((o * len + l) * inner + i) == Some(&0))
            });
            if empty {
                return Err(ModelError::Parameter(
                    "a softmax line with every position masked".into(),
                ));
            }
        }
        let reduced: Vec<usize> =
            dims.iter().enumerate().map(|(a, &d)| if a == axis { 1 } else { d }).collect();
        let x = match gate {
            Some(g) => self.push(Gate::new([x, g], &dims, -128)?),
            None => x,
        };
        let s = self.push(ArgSelect::new(x, &dims, axis)?);
        let p = self.push(PrefixSum::new(s, &dims, axis)?);
        let m = self.push(AxisDot::new(s, x, &dims, axis)?);
        let big_m = self.push(Broadcast::new(m, &reduced, &dims)?);
        self.push(ArgCheck::new([big_m, x, p], &dims, axis, 8)?);
        let table = exp_table(scale, bits);
        let e = self.push(match gate {
            Some(g) => SoftmaxExp::gated([x, big_m, g], &dims, table)?,
            None => SoftmaxExp::masked([x, big_m], &dims, table, keep)?,
        });
        let sum = self.push(ReduceSum::new(e, &dims, axis)?);
        let big_s = self.push(Broadcast::new(sum, &reduced, &dims)?);
        Ok(self.push(SoftmaxDiv::new([e, big_s], &dims, (len, bits), steps, zero_out)?))
    }
}
