//! Layer normalization of an int8 tensor along its last axis, with exactly one witness per input
//! (`paper-notes/layernorm.md` has the uniqueness argument and the error analysis).
//! [`Builder::layer_norm_core`] chains six layers on a [rows, n] tensor x, two of them this
//! file's:
//!
//! 1. S₁ = Σ x along the row ([`super::reduce::ReduceSum`], virtual);
//! 2. S₂ = Σ x² along the row ([`super::axisdot::AxisDot`] of x with itself, virtual);
//! 3. [`NormStats`], committed, one slot per row: the variance term D = n·S₂ − S₁² = n²·Var
//!    (in x's integer steps), D″ = (D + c)·2^14 with the public c = max(1, round(n²·ε/s_x²)),
//!    written D″ = h·4^j + ℓ with a one-hot b over j ∈ [0, J] (so 4^j = Σ b_j·4^j is linear in
//!    committed bits), 0 ≤ ℓ < 4^j (ℓ and 4^j − 1 − ℓ in range-checked 16-bit limbs) and
//!    (h, g) a row of the table g(h) = round(2^23/√h) over h ∈ [2^14, 2^16); the output is
//!    inv = g·2^(J − j) = g·Σ b_j·2^(J − j) ≈ 2^(23 + J)/√D″;
//! 4. S₁ broadcast along the row (virtual);
//! 5. inv broadcast along the row (virtual);
//! 6. [`NormApply`], committed: w = (n·x − S₁)·inv, and, when some γ is negative, o = σ·w with
//!    the public sign σ of each column's γ (so that the requantization's multipliers |γ| are
//!    non-negative).
//!
//! Then (x − μ)/σ_x ≈ w·2^(−16 − J), and the caller requantizes w with the per-column
//! multipliers |γ|·2^(−16 − J)/s_out and offsets β/s_out (an ordinary requantization layer).
//!
//! **Uniqueness.** S₁ and S₂ are pinned by their reductions, so D″ is. D ≥ 0 and c ≥ 1 give
//! D″ ≥ 2^14; the intervals [2^14·4^j, 2^16·4^j) for j = 0, 1, … are disjoint and cover
//! [2^14, ∞), so exactly one j (below the J that bounds D″) admits h ∈ [2^14, 2^16) (the table
//! holds h) and 0 ≤ ℓ < 4^j (the limbs); then h = ⌊D″/4^j⌋ and ℓ are fixed, g by the table, inv
//! and w by their relations. Every value stays far below p/2 (D″ < 2^(16 + 2J) ≤ 2^80).
#![deny(
    clippy::indexing_slicing,
    reason = "audited: index-free (names and limbs are read through get)"
)]

use super::axisdot::AxisDot;
use super::broadcast::Broadcast;
use super::encode::{ModelReads, OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::reduce::ReduceSum;
use super::zoo::Builder;
use super::{
    checked_entries, Constraints, Layer, LayerSpec, LayerWitness, ModelError, TableLookup, Tensor,
    TensorId, LIMB_BITS,
};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::field::from_i128;

/// g(h) = round(2^G/√h): G = 23 puts g in (2^15, 2^16] over the table's h.
pub const INV_SQRT_BITS: u32 = 23;
/// D″ = (D + c)·2^PRE_SHIFT, so that D″ ≥ 2^14 whenever D + c ≥ 1.
pub const PRE_SHIFT: u32 = 14;
/// h ranges over [2^14, 2^16).
const H_LO: i64 = 1 << 14;
const H_HI: i64 = 1 << 16;
/// The widest normalized axis: |w|'s bound stays within the requantization's 2^40 inputs.
pub const MAX_AXIS: usize = 1 << 11;
/// The largest ε constant c.
pub const MAX_C: i64 = 1 << 40;

const B_NAMES: [&str; 32] = [
    "b0", "b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "b10", "b11", "b12", "b13", "b14",
    "b15", "b16", "b17", "b18", "b19", "b20", "b21", "b22", "b23", "b24", "b25", "b26", "b27",
    "b28", "b29", "b30", "b31",
];
const L_NAMES: [&str; 4] = ["l0", "l1", "l2", "l3"];
const U_NAMES: [&str; 4] = ["u0", "u1", "u2", "u3"];

/// g(h) = round(2^G/√h) for h ∈ [2^14, 2^16).
pub fn inv_sqrt(h: i64) -> i64 {
    ((1u64 << INV_SQRT_BITS) as f64 / (h as f64).sqrt()).round_ties_even() as i64
}

/// The per-row statistics; see the module docs.
#[derive(Clone, Debug)]
pub struct NormStats {
    /// [S₁, S₂], or [S₂] for an RMS norm
    inputs: Vec<TensorId>,
    dims: Vec<usize>,
    n: usize,
    c: i64,
    /// the largest shift j
    top: u32,
    /// 16-bit limbs of ℓ and of 4^j − 1 − ℓ
    limbs: usize,
}

/// A [`NormStats`]'s record: inputs [S₁, S₂] (per row), the row dimensions, n and c. An RMS
/// norm's (record tag 27) has no S₁ (`s1` is `None`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormStatsSpec {
    pub s1: Option<TensorId>,
    pub s2: TensorId,
    pub dims: Vec<usize>,
    pub n: usize,
    pub c: i64,
}

pub(crate) const STATS: OpEntry = OpEntry { tag: 23, kind: "norm-stats", decode: decode_stats };
/// [`NormStats`] of an RMS norm: D = n·S₂ (no mean).
pub(crate) const RMS_STATS: OpEntry =
    OpEntry { tag: 27, kind: "rms-stats", decode: decode_rms_stats };

fn decode_stats(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    read_stats(r, true)
}

fn decode_rms_stats(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    read_stats(r, false)
}

/// A statistics record's fields, S₁ first when the norm has a mean.
fn read_stats(r: &mut ByteReader<'_>, mean: bool) -> Result<Box<dyn OpRecord>, ModelError> {
    let s1 = if mean { Some(r.usize()?) } else { None };
    Ok(Box::new(NormStatsSpec { s1, s2: r.usize()?, dims: r.dims()?, n: r.usize()?, c: r.i64()? }))
}

impl OpRecord for NormStatsSpec {
    fn entry(&self) -> &'static OpEntry {
        match self.s1 {
            Some(_) => &STATS,
            None => &RMS_STATS,
        }
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        if let Some(s1) = self.s1 {
            w.usize(s1);
        }
        w.usize(self.s2);
        w.usizes(&self.dims);
        w.usize(self.n);
        w.i64(self.c);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        let s1 = self.s1.map(|s1| (s1, self.dims.clone()));
        s1.into_iter().chain([(self.s2, self.dims.clone())]).collect()
    }

    fn summary(&self) -> String {
        let d = if self.s1.is_some() { "n·S₂ − S₁²" } else { "n·S₂" };
        format!("inv = 2^(23+J)/√(({d} + {})·2^14), n = {}, {:?}", self.c, self.n, self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(match self.s1 {
            Some(s1) => NormStats::new([s1, self.s2], &self.dims, self.n, self.c)?,
            None => NormStats::rms(self.s2, &self.dims, self.n, self.c)?,
        }))
    }
}

impl NormStats {
    /// # Errors
    /// n outside 1..=[`MAX_AXIS`], c outside 1..=[`MAX_C`], or dimensions beyond
    /// [`checked_entries`].
    pub fn new(
        inputs: [TensorId; 2],
        dims: &[usize],
        n: usize,
        c: i64,
    ) -> Result<Self, ModelError> {
        checked_entries(dims)?;
        if !(1..=MAX_AXIS).contains(&n) || !(1..=MAX_C).contains(&c) {
            return Err(ModelError::Parameter(format!(
                "a layer norm over {n} entries with ε constant {c} (1 to {MAX_AXIS}, 1 to 2^40)"
            )));
        }
        // D ≤ n·S₂ ≤ n²·2^14 over int8 x, so D″ ≤ (n²·2^14 + c)·2^14
        let max = ((n as i128).pow(2) * (1 << 14) + c as i128) << PRE_SHIFT;
        let mut top = 0u32;
        while (H_HI as i128) << (2 * top) <= max {
            top += 1;
        }
        let limbs = (2 * top as usize).div_ceil(LIMB_BITS as usize).max(1);
        Ok(Self { inputs: inputs.to_vec(), dims: dims.to_vec(), n, c, top, limbs })
    }

    /// The statistics of an RMS norm, D = n·S₂ (no mean): input [S₂].
    ///
    /// # Errors
    /// As [`NormStats::new`].
    pub fn rms(s2: TensorId, dims: &[usize], n: usize, c: i64) -> Result<Self, ModelError> {
        let mut layer = Self::new([s2, s2], dims, n, c)?;
        layer.inputs = vec![s2];
        Ok(layer)
    }

    fn is_rms(&self) -> bool {
        self.inputs.len() == 1
    }

    /// The largest shift J: inv ≤ 2^(16 + J).
    pub fn top(&self) -> u32 {
        self.top
    }

    fn l_cols(&self) -> Vec<usize> {
        let first = 3 + self.top as usize + 1;
        (first..first + self.limbs).collect()
    }

    fn u_cols(&self) -> Vec<usize> {
        let first = 3 + self.top as usize + 1 + self.limbs;
        (first..first + self.limbs).collect()
    }
}

impl Layer for NormStats {
    fn kind(&self) -> &'static str {
        if self.is_rms() {
            RMS_STATS.kind
        } else {
            STATS.kind
        }
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let (s1, s2) = match self.inputs[..] {
            [s1, s2] => (Some(s1), s2),
            [s2] => (None, s2),
            _ => (None, 0),
        };
        LayerSpec::Op(Box::new(NormStatsSpec {
            s1,
            s2,
            dims: self.dims.clone(),
            n: self.n,
            c: self.c,
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let ok = inputs.len() == self.inputs.len() && inputs.iter().all(|t| t.dims == self.dims);
        let (Some(first), Some(s2), true) = (inputs.first(), inputs.last(), ok) else {
            return Err(ModelError::Shape(format!(
                "norm-stats takes [S1, S2] (or [S2]) of dimensions {:?}",
                self.dims
            )));
        };
        let zeros = vec![0i64; s2.data.len()];
        let s1 = if self.is_rms() { &zeros } else { &first.data };
        let rows = s2.data.len();
        let top = self.top as usize;
        let mut inv = Vec::with_capacity(rows);
        // g, h, b_0..b_J, ℓ limbs, u limbs
        let mut advice = vec![Vec::with_capacity(rows); 2 + top + 1 + 2 * self.limbs];
        for (i, (&a, &b)) in s1.iter().zip(&s2.data).enumerate() {
            let d = self.n as i128 * b as i128 - (a as i128).pow(2);
            if d < 0 {
                return Err(ModelError::Shape(format!(
                    "layer norm: n·S2 − S1² = {d} < 0 at row {i}"
                )));
            }
            let dd = (d + self.c as i128) << PRE_SHIFT;
            let j = (0..=top).find(|&j| dd < (H_HI as i128) << (2 * j)).ok_or_else(|| {
                ModelError::Shape(format!("layer norm: D = {d} at row {i} beyond its bound"))
            })?;
            let h = (dd >> (2 * j)) as i64;
            let ell = dd - ((h as i128) << (2 * j));
            let u = (1i128 << (2 * j)) - 1 - ell;
            let g = inv_sqrt(h);
            inv.push(g << (top - j));
            let mut row = vec![g as i128, h as i128];
            row.extend((0..=top).map(|t| i128::from(t == j)));
            for v in [ell, u] {
                row.extend((0..self.limbs).map(|l| (v >> (LIMB_BITS as usize * l)) & 0xffff));
            }
            for (col, v) in advice.iter_mut().zip(row) {
                col.push(v as i64);
            }
        }
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), inv)?, advice })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for NormStats {
    fn columns(&self) -> Vec<&'static str> {
        let mut cols = vec!["inv", "g", "h"];
        cols.extend(B_NAMES.iter().take(self.top as usize + 1));
        cols.extend(L_NAMES.iter().take(self.limbs));
        cols.extend(U_NAMES.iter().take(self.limbs));
        cols
    }

    fn relations(&self) -> Vec<Poly> {
        let top = self.top as usize;
        let bits: Vec<Lin> = (0..=top).map(|t| Lin::var(Var::Col(3 + t))).collect();
        let weighted = |w: &dyn Fn(usize) -> i128| {
            bits.iter().enumerate().fold(Lin::default(), |acc, (t, b)| acc.plus(&b.scale(w(t))))
        };
        let power = weighted(&|t| 1i128 << (2 * t));
        let shift = weighted(&|t| 1i128 << (top - t));
        let ell = Lin::limbs(&self.l_cols());
        let u = Lin::limbs(&self.u_cols());
        let (s1, s2) = match self.is_rms() {
            true => (None, Lin::var(Var::In(0))),
            false => (Some(Lin::var(Var::In(0))), Lin::var(Var::In(1))),
        };
        let [inv, g, h] = [Var::Col(0), Var::Col(1), Var::Col(2)].map(Lin::var);
        let mut out: Vec<Poly> = bits.iter().map(|b| b.times(b).plus_lin(&b.scale(-1))).collect();
        out.push(bits.iter().fold(Lin::constant(-1), |acc, b| acc.plus(b)).to_poly());
        // (n·S₂ − S₁² + c)·2^14 − h·4^j − ℓ = 0
        let pre = 1i128 << PRE_SHIFT;
        let linear = s2.scale(self.n as i128 * pre).add_const(self.c as i128 * pre).minus(&ell);
        let hp = h.times(&power).scale(from_i128(-1)).plus_lin(&linear);
        out.push(match s1 {
            Some(s1) => s1.times(&s1).scale(from_i128(-pre)).plus(&hp),
            None => hp,
        });
        // u = 4^j − 1 − ℓ
        out.push(u.minus(&power).add_const(1).plus(&ell).to_poly());
        // inv = g·2^(J − j)
        out.push(inv.to_poly().plus(&g.times(&shift).scale(from_i128(-1))));
        out
    }

    fn range_checks(&self) -> Vec<Lin> {
        self.l_cols().into_iter().chain(self.u_cols()).map(|c| Lin::var(Var::Col(c))).collect()
    }

    fn table_lookup(&self) -> Option<TableLookup> {
        // the same 49 152 rows for every layer norm: built once per process and shared (the
        // plan finds them equal by pointer, and no caller allocates them again)
        static ROWS: std::sync::OnceLock<std::sync::Arc<Vec<Vec<i64>>>> =
            std::sync::OnceLock::new();
        let rows = ROWS.get_or_init(|| {
            std::sync::Arc::new((H_LO..H_HI).map(|h| vec![h, inv_sqrt(h)]).collect())
        });
        Some(TableLookup { columns: vec![Var::Col(2), Var::Col(1)], rows: rows.clone() })
    }
}

/// w = (n·x − S₁)·inv elementwise, and o = σ·w with public signs when any is negative.
#[derive(Clone, Debug)]
pub struct NormApply {
    /// [x, S₁, inv], or [x, inv] for an RMS norm
    inputs: Vec<TensorId>,
    dims: Vec<usize>,
    n: usize,
    /// The sign of each column (last axis); empty: all positive.
    signs: Vec<i8>,
    /// The largest shift J of the statistics.
    top: u32,
    /// The bound on inv (2^(16 + J)).
    inv_bound: i128,
}

/// A [`NormApply`]'s record: inputs [x, S₁ broadcast, inv broadcast], dimensions, n, the
/// largest shift J and the column signs (empty: all positive).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormApplySpec {
    pub x: TensorId,
    /// `None` for an RMS norm (record tag 28): w = n·x·inv.
    pub s1: Option<TensorId>,
    pub inv: TensorId,
    pub dims: Vec<usize>,
    pub n: usize,
    pub top: u32,
    pub signs: Vec<i8>,
}

pub(crate) const APPLY: OpEntry = OpEntry { tag: 24, kind: "norm-apply", decode: decode_apply };
/// [`NormApply`] of an RMS norm: w = n·x·inv.
pub(crate) const RMS_APPLY: OpEntry =
    OpEntry { tag: 28, kind: "rms-apply", decode: decode_rms_apply };

fn decode_rms_apply(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    read_apply(r, false)
}

fn decode_apply(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    read_apply(r, true)
}

/// An application record's fields, S₁ after x when the norm has a mean.
fn read_apply(r: &mut ByteReader<'_>, mean: bool) -> Result<Box<dyn OpRecord>, ModelError> {
    let x = r.usize()?;
    let s1 = if mean { Some(r.usize()?) } else { None };
    Ok(Box::new(NormApplySpec {
        x,
        s1,
        inv: r.usize()?,
        dims: r.dims()?,
        n: r.usize()?,
        top: r.u32()?,
        signs: r.i8s()?,
    }))
}

impl OpRecord for NormApplySpec {
    fn entry(&self) -> &'static OpEntry {
        match self.s1 {
            Some(_) => &APPLY,
            None => &RMS_APPLY,
        }
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.usize(self.x);
        if let Some(s1) = self.s1 {
            w.usize(s1);
        }
        w.usize(self.inv);
        w.usizes(&self.dims);
        w.usize(self.n);
        w.u32(self.top);
        w.i8s(&self.signs);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        let s1 = self.s1.map(|s1| (s1, self.dims.clone()));
        [(self.x, self.dims.clone())]
            .into_iter()
            .chain(s1)
            .chain([(self.inv, self.dims.clone())])
            .collect()
    }

    fn summary(&self) -> String {
        let signed = if self.signs.is_empty() { "" } else { ", signed" };
        let v = if self.s1.is_some() { "(n·x − S₁)" } else { "n·x" };
        format!("w = {v}·inv, n = {}{signed}, {:?}", self.n, self.dims)
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        let s = self;
        let signs = s.signs.clone();
        Ok(Box::new(match s.s1 {
            Some(s1) => NormApply::new([s.x, s1, s.inv], &s.dims, s.n, s.top, signs)?,
            None => NormApply::rms([s.x, s.inv], &s.dims, s.n, s.top, signs)?,
        }))
    }
}

impl NormApply {
    /// # Errors
    /// A last axis other than n, n or J out of range, or signs that are neither empty nor one
    /// ±1 per column.
    pub fn new(
        inputs: [TensorId; 3],
        dims: &[usize],
        n: usize,
        top: u32,
        signs: Vec<i8>,
    ) -> Result<Self, ModelError> {
        checked_entries(dims)?;
        if dims.last() != Some(&n) || !(1..=MAX_AXIS).contains(&n) || top > 31 {
            return Err(ModelError::Shape(format!(
                "a layer norm's application over {n} entries (J = {top}) on {dims:?}"
            )));
        }
        if !(signs.is_empty() || (signs.len() == n && signs.iter().all(|s| *s == 1 || *s == -1))) {
            return Err(ModelError::Parameter("layer norm signs: one ±1 per column".into()));
        }
        let inv_bound = 1i128 << (16 + top);
        Ok(Self { inputs: inputs.to_vec(), dims: dims.to_vec(), n, signs, top, inv_bound })
    }

    /// The application of an RMS norm, w = n·x·inv: inputs [x, inv broadcast].
    ///
    /// # Errors
    /// As [`NormApply::new`].
    pub fn rms(
        [x, inv]: [TensorId; 2],
        dims: &[usize],
        n: usize,
        top: u32,
        signs: Vec<i8>,
    ) -> Result<Self, ModelError> {
        let mut layer = Self::new([x, inv, inv], dims, n, top, signs)?;
        layer.inputs = vec![x, inv];
        Ok(layer)
    }

    fn is_rms(&self) -> bool {
        self.inputs.len() == 2
    }

    /// max |w| = |n·x − S₁|·inv: Σ_i (n·xᵢ − S₁)² = n·D bounds |n·x − S₁| by √(n·D″)/2^7, and
    /// inv = g·2^(J − j) ≤ (2^23/√h + ½)·2^(J − j) with D″ < (h + 1)·4^j, h ≥ 2^14, so
    /// |w| ≤ √n·(2^(16 + J)·(1 + 2^-15) + 2^J) < (⌊√n⌋ + 1)·(2^(16 + J) + 2^(J + 2))
    /// (`paper-notes/layernorm.md`).
    pub fn bound(&self) -> i128 {
        let root = (self.n as f64).sqrt().floor() as i128 + 1;
        root * (self.inv_bound + (self.inv_bound >> 14))
    }
}

impl Layer for NormApply {
    fn kind(&self) -> &'static str {
        if self.is_rms() {
            RMS_APPLY.kind
        } else {
            APPLY.kind
        }
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.dims
    }

    fn spec(&self) -> LayerSpec {
        let (x, s1, inv) = match self.inputs[..] {
            [x, s1, inv] => (x, Some(s1), inv),
            [x, inv] => (x, None, inv),
            _ => (0, None, 0),
        };
        LayerSpec::Op(Box::new(NormApplySpec {
            x,
            s1,
            inv,
            dims: self.dims.clone(),
            n: self.n,
            top: self.top,
            signs: self.signs.clone(),
        }))
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let ok = inputs.len() == self.inputs.len() && inputs.iter().all(|t| t.dims == self.dims);
        let (Some(x), Some(inv), true) = (inputs.first(), inputs.last(), ok) else {
            return Err(ModelError::Shape(format!(
                "norm-apply takes [x, S1, inv] (or [x, inv]) of dimensions {:?}",
                self.dims
            )));
        };
        let zeros = vec![0i64; x.data.len()];
        let s1 = match inputs.get(1) {
            Some(s1) if !self.is_rms() => &s1.data,
            _ => &zeros,
        };
        let mut w = Vec::with_capacity(x.data.len());
        for (i, ((&xv, &sv), &iv)) in x.data.iter().zip(s1).zip(&inv.data).enumerate() {
            let v = (self.n as i128 * xv as i128 - sv as i128) * iv as i128;
            if v.abs() > self.bound() || !(0..=self.inv_bound).contains(&(iv as i128)) {
                return Err(ModelError::Shape(format!(
                    "layer norm: w = {v} at entry {i} beyond its bound"
                )));
            }
            w.push(v as i64);
        }
        if self.signs.is_empty() {
            return Ok(LayerWitness {
                output: Tensor::new(self.dims.clone(), w)?,
                advice: Vec::new(),
            });
        }
        let o = w
            .iter()
            .enumerate()
            .map(|(i, &v)| v * i64::from(self.signs.get(i % self.n).copied().unwrap_or(1)))
            .collect();
        Ok(LayerWitness { output: Tensor::new(self.dims.clone(), o)?, advice: vec![w] })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for NormApply {
    fn columns(&self) -> Vec<&'static str> {
        if self.signs.is_empty() {
            vec!["w"]
        } else {
            vec!["o", "w"]
        }
    }

    fn relations(&self) -> Vec<Poly> {
        let w = if self.signs.is_empty() { Var::Col(0) } else { Var::Col(1) };
        let (x, inv) = (Lin::var(Var::In(0)), Lin::var(Var::In(self.inputs.len() - 1)));
        let w = Lin::var(w);
        // w − (n·x − S₁)·inv = 0 (no S₁ in an RMS norm)
        let v = match self.is_rms() {
            true => x.scale(self.n as i128),
            false => x.scale(self.n as i128).minus(&Lin::var(Var::In(1))),
        };
        let mut out = vec![w.to_poly().plus(&v.times(&inv).scale(from_i128(-1)))];
        if !self.signs.is_empty() {
            // o − σ·w = 0
            let o = Lin::var(Var::Col(0));
            out.push(o.to_poly().plus(&Lin::var(Var::Coef(0)).times(&w).scale(from_i128(-1))));
        }
        out
    }

    fn coefficients(&self) -> Vec<Vec<i64>> {
        if self.signs.is_empty() {
            return Vec::new();
        }
        let len: usize = self.dims.iter().product();
        vec![(0..len)
            .map(|i| i64::from(self.signs.get(i % self.n).copied().unwrap_or(1)))
            .collect()]
    }
}

impl Builder {
    /// The core of a layer norm of the int8 tensor `x` [rows, n] (raw values; its zero point
    /// cancels) with the ε constant `c` (c = max(1, round(n²·ε/s_x²))) and the column signs of
    /// γ (empty: all positive): the six layers of the module docs. Returns (w or o, the real
    /// scale of one unit of w as a multiple of (x − μ)/σ, i.e. 2^(−16 − J), and |w|'s bound).
    ///
    /// # Errors
    /// x not of rank 2, n or c out of range, or signs of the wrong length.
    pub fn layer_norm_core(
        &mut self,
        x: TensorId,
        c: i64,
        signs: Vec<i8>,
    ) -> Result<(TensorId, f64, i128), ModelError> {
        self.norm_core(x, c, signs, false)
    }

    /// [`Builder::layer_norm_core`] of an RMS norm, x/√(mean(x²) + ε) (`rms`: no S₁, no mean
    /// subtracted; x's zero point must be 0), or of a layer norm.
    ///
    /// # Errors
    /// As [`Builder::layer_norm_core`].
    pub fn norm_core(
        &mut self,
        x: TensorId,
        c: i64,
        signs: Vec<i8>,
        rms: bool,
    ) -> Result<(TensorId, f64, i128), ModelError> {
        let dims = self.dims(x);
        let &[rows, n] = dims.as_slice() else {
            return Err(ModelError::Shape(format!(
                "a layer norm on {dims:?} (a [rows, n] matrix)"
            )));
        };
        let reduced = vec![rows, 1];
        // validate before pushing anything
        let stats = NormStats::new([0, 0], &reduced, n, c)?;
        let top = stats.top();
        NormApply::new([0, 0, 0], &dims, n, top, signs.clone())?;
        if rms {
            let s2 = self.push(AxisDot::new(x, x, &dims, 1)?);
            let inv = self.push(NormStats::rms(s2, &reduced, n, c)?);
            let inv_b = self.push(Broadcast::new(inv, &reduced, &dims)?);
            let apply = NormApply::rms([x, inv_b], &dims, n, top, signs)?;
            let bound = apply.bound();
            let w = self.push(apply);
            return Ok((w, (-(16.0 + top as f64)).exp2(), bound));
        }
        let s1 = self.push(ReduceSum::new(x, &dims, 1)?);
        let s2 = self.push(AxisDot::new(x, x, &dims, 1)?);
        let inv = self.push(NormStats::new([s1, s2], &reduced, n, c)?);
        let s1_b = self.push(Broadcast::new(s1, &reduced, &dims)?);
        let inv_b = self.push(Broadcast::new(inv, &reduced, &dims)?);
        let apply = NormApply::new([x, s1_b, inv_b], &dims, n, top, signs)?;
        let bound = apply.bound();
        let w = self.push(apply);
        Ok((w, (-(16.0 + top as f64)).exp2(), bound))
    }
}

/// The ε constant of a layer norm over n entries of scale `scale`: max(1, round(n²·ε/s²)),
/// capped at [`MAX_C`].
pub fn epsilon_constant(n: usize, eps: f64, scale: f64) -> i64 {
    let c = (n as f64).powi(2) * eps / (scale * scale);
    if c.is_finite() {
        c.round().clamp(1.0, MAX_C as f64) as i64
    } else {
        MAX_C
    }
}

impl Builder {
    /// The layer norm y = γ·(x − μ)/√(Var + ε) + β of the int8 tensor `x` [rows, n] of scale
    /// `scale`, requantized to int8 at (s_out, z_out): [`Builder::layer_norm_core`] and a
    /// requantization of w with the per-column multipliers |γ|·2^(−16 − J)/s_out and offsets
    /// β/s_out. Returns the int8 tensor.
    ///
    /// # Errors
    /// As [`Builder::layer_norm_core`]; γ or β not one per column, or multipliers too far apart
    /// for one shift.
    pub fn layer_norm(
        &mut self,
        x: (TensorId, f64),
        eps: f64,
        params: (&[f64], &[f64]),
        out: (f64, i32),
    ) -> Result<TensorId, ModelError> {
        self.norm(x, eps, params, out, false)
    }

    /// The RMS norm y = γ·x/√(mean(x²) + ε) + β of the int8 tensor `x` [rows, n] of scale
    /// `scale` **and zero point 0**, requantized to int8 at (s_out, z_out), as
    /// [`Builder::layer_norm`] (LLaMA's and T5's norm; β is 0 there).
    ///
    /// # Errors
    /// As [`Builder::layer_norm`].
    pub fn rms_norm(
        &mut self,
        x: (TensorId, f64),
        eps: f64,
        params: (&[f64], &[f64]),
        out: (f64, i32),
    ) -> Result<TensorId, ModelError> {
        self.norm(x, eps, params, out, true)
    }

    fn norm(
        &mut self,
        (x, scale): (TensorId, f64),
        eps: f64,
        (gamma, beta): (&[f64], &[f64]),
        (s_out, z_out): (f64, i32),
        rms: bool,
    ) -> Result<TensorId, ModelError> {
        let dims = self.dims(x);
        let n = dims.last().copied().unwrap_or(0);
        if gamma.len() != n || beta.len() != n {
            return Err(ModelError::Parameter(format!(
                "a layer norm over {n} columns with {} scales and {} biases",
                gamma.len(),
                beta.len()
            )));
        }
        let signs: Vec<i8> = match gamma.iter().any(|g| *g < 0.0) {
            true => gamma.iter().map(|g| if *g < 0.0 { -1 } else { 1 }).collect(),
            false => Vec::new(),
        };
        let (w, unit, bound) = self.norm_core(x, epsilon_constant(n, eps, scale), signs, rms)?;
        let ratios: Vec<f64> = gamma.iter().map(|g| g.abs() * unit / s_out).collect();
        let (a, k) = super::zoo::common_shift(&ratios)?;
        let two_k = (k as f64).exp2();
        let offsets = (0..dims.iter().product::<usize>())
            .map(|i| {
                let b = beta.get(i % n).copied().unwrap_or(0.0) / s_out * two_k;
                if b.abs() < (1u64 << 61) as f64 {
                    Ok(b.round_ties_even() as i64)
                } else {
                    Err(ModelError::Parameter(format!("a layer norm bias of {b}·2^-{k}")))
                }
            })
            .collect::<Result<Vec<i64>, _>>()?;
        let scaled = super::Scaled { tensor: w, multiplier: super::Multiplier::Channel(a), bound };
        self.requant_layer(super::RequantSpec {
            kind: super::RequantKind::Requant,
            scaled: vec![scaled],
            offset: 0,
            offsets,
            k,
            zero: z_out,
            lo: -128,
            hi: 127,
            dims,
        })
    }
}
