//! Requantization with clamp, and the elementwise add of two tensors with different scales.
//!
//! y = clamp(round_half_even(P / 2^k) + z, lo, hi) with P = Σᵢ aᵢ·xᵢ + c:
//! * after a dense layer, P = a·acc (a per tensor or per output channel), ReLU fused as lo = z;
//! * the elementwise add of int8 tensors, P = a₁·(x₁ − z₁) + a₂·(x₂ − z₂), i.e. c = −a₁z₁ − a₂z₂,
//!   where aᵢ/2^k ≈ sᵢ/s_out.
//!
//! Proof (all relations on valid slots, ranges by 16-bit limbs; soundness argument and the
//! trap it avoids in `paper-notes/requant.md`):
//! * q = q_min + par + 2·qh with qh ≥ 0 in limbs, par a bit — q is an integer of its true width,
//!   and par its parity (q_min is even);
//! * P = 2^k·q + rem with rem ∈ [0, 2^k) **exactly** (limbs, and the top limb looked up a second
//!   time shifted to 16 bits), so (q, rem) is the Euclidean division of P;
//! * half to even: b a bit with D = b·(rem + par − H − 1) + (1 − b)·(H − rem − par) ≥ 0,
//!   H = 2^(k−1): b = 1 ⟺ rem + par > H;
//! * clamp: u = q + b + z, bits s_lo (u < lo) and s_hi (u > hi), shown by
//!   e_lo = s_lo·(lo − 1 − u) + (1 − s_lo)·(u − lo) ≥ 0 and its mirror e_hi ≥ 0, then
//!   y = u + s_lo·(lo − u) + s_hi·(hi − u).
//!
//! Widths come from the bound |P| ≤ P_max that the input bounds give (an int32 accumulator is
//! bounded by 2^31, the whole i32 range, so every accumulator the reference can produce is
//! covered); the builder rejects P_max ≥ 2^94, which keeps every relation an integer identity
//! (all quantities below 2^112 ≪ p/2).
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::encode::{ModelReads, OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::{Constraints, Layer, LayerSpec, LayerWitness, ModelError, Tensor, TensorId, LIMB_BITS};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::quant::MAX_SHIFT;

/// What a requantization computes; its name is the layer's kind in errors and `inspect`, and is
/// stored in the model encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RequantKind {
    /// The rescale of one tensor: an accumulator (dense, conv) or an int8 tensor.
    Requant,
    /// The elementwise sum of tensors of different scales.
    Add,
    /// Average pooling: a window sum divided by the window's count.
    AvgPool,
}

impl RequantKind {
    pub const ALL: [RequantKind; 3] =
        [RequantKind::Requant, RequantKind::Add, RequantKind::AvgPool];

    /// The name the layer reports as its kind and the model encoding stores.
    pub fn name(self) -> &'static str {
        match self {
            RequantKind::Requant => "requant",
            RequantKind::Add => "add",
            RequantKind::AvgPool => "avgpool",
        }
    }

    /// The kind of an encoded name.
    pub fn from_name(name: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name().as_bytes() == name)
    }
}

impl std::fmt::Display for RequantKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The parameters of a requantization, for both gadgets ([`Requant`] and
/// [`super::Threshold`]): y = clamp(round_half_even(P / 2^k) + zero, lo, hi) on tensors of
/// dimensions `dims`, with P = Σᵢ aᵢ·xᵢ + offset + offsets[j] over the `scaled` inputs.
/// The constructors take it, and the model encoding stores it field by field: as the record of
/// a [`Requant`] (its [`OpRecord`], tag 2), or wrapped in a [`super::threshold::ThresholdSpec`]
/// (tag 3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequantSpec {
    pub kind: RequantKind,
    pub scaled: Vec<Scaled>,
    /// The constant c added to every element of P.
    pub offset: i128,
    /// Per-element constants added to P (empty: none).
    pub offsets: Vec<i64>,
    /// The shift: P is divided by 2^k.
    pub k: u32,
    /// The output zero point.
    pub zero: i32,
    /// The clamp bounds (a fused ReLU is lo = zero).
    pub lo: i32,
    pub hi: i32,
    /// The dimensions of the inputs and of the output.
    pub dims: Vec<usize>,
}

impl RequantSpec {
    /// The requantization of an int32 accumulator (any i32) `acc` with the fixed-point
    /// multiplier a/2^k: kind [`RequantKind::Requant`], no offsets, and k = 0, zero point 0,
    /// clamp [−128, 127] until set (`RequantSpec { k, zero, ..RequantSpec::accumulator(…) }`).
    pub fn accumulator(acc: TensorId, dims: Vec<usize>, multiplier: Multiplier) -> Self {
        let s = Scaled { tensor: acc, multiplier, bound: 1 << 31 };
        Self::unshifted(RequantKind::Requant, vec![s], 0, dims)
    }

    /// The sum of int8 tensors x₁, x₂ given as (tensor, a, zero point): P = a₁(x₁ − z₁) +
    /// a₂(x₂ − z₂), kind [`RequantKind::Add`]; k = 0, zero point 0, clamp [−128, 127] until set.
    pub fn add(x1: (TensorId, u32, i32), x2: (TensorId, u32, i32), dims: Vec<usize>) -> Self {
        let offset = -(x1.1 as i128 * x1.2 as i128) - x2.1 as i128 * x2.2 as i128;
        let s = |(t, a, _): (TensorId, u32, i32)| Scaled {
            tensor: t,
            multiplier: Multiplier::Tensor(a),
            bound: 128,
        };
        Self::unshifted(RequantKind::Add, vec![s(x1), s(x2)], offset, dims)
    }

    fn unshifted(kind: RequantKind, scaled: Vec<Scaled>, offset: i128, dims: Vec<usize>) -> Self {
        let offsets = Vec::new();
        Self { kind, scaled, offset, offsets, k: 0, zero: 0, lo: -128, hi: 127, dims }
    }
}

/// The arithmetic requantization's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 2, kind: "requant", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(RequantSpec::read_fields(r)?))
}

impl RequantSpec {
    /// The fields of a requantization record (after its tag; the same for both gadgets).
    pub(super) fn write_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        w.bytes(self.kind.name().as_bytes());
        w.usize(self.scaled.len());
        for s in &self.scaled {
            w.usize(s.tensor);
            w.i128(s.bound);
            let (tag, v): (u8, Vec<i64>) = match &s.multiplier {
                Multiplier::Tensor(a) => (0, vec![i64::from(*a)]),
                Multiplier::Channel(v) => (1, v.iter().map(|&a| i64::from(a)).collect()),
                Multiplier::Element(v) => (2, v.iter().map(|&a| i64::from(a)).collect()),
                Multiplier::Signed(v) => (3, v.iter().map(|&a| i64::from(a)).collect()),
            };
            w.u8(tag);
            w.usize(v.len());
            v.iter().for_each(|&a| w.i64(a));
        }
        w.i128(self.offset);
        w.usize(self.offsets.len());
        self.offsets.iter().for_each(|&o| w.i64(o));
        w.i64(self.k as i64);
        w.i64(self.zero as i64);
        w.i64(self.lo as i64);
        w.i64(self.hi as i64);
        w.usizes(&self.dims);
    }

    /// Reads [`RequantSpec::write_fields`].
    pub(super) fn read_fields(r: &mut ByteReader<'_>) -> Result<Self, ModelError> {
        let name = r.bytes()?;
        let kind = RequantKind::from_name(name).ok_or_else(|| r.error("a requantization kind"))?;
        let n = r.count(32)?;
        let mut scaled = Vec::with_capacity(n);
        for _ in 0..n {
            let (tensor, bound, mtag) = (r.usize()?, r.i128()?, r.u8()?);
            let len = r.count(8)?;
            let signed = mtag == 3;
            let v = (0..len)
                .map(|_| {
                    r.i64().and_then(|a| {
                        let ok = if signed {
                            i32::try_from(a).is_ok()
                        } else {
                            u32::try_from(a).is_ok()
                        };
                        ok.then_some(a).ok_or_else(|| r.error("a multiplier"))
                    })
                })
                .collect::<Result<Vec<i64>, _>>()?;
            let unsigned = || v.iter().map(|&a| a as u32).collect::<Vec<u32>>();
            let multiplier = match (mtag, v.as_slice()) {
                (0, &[a]) => Multiplier::Tensor(a as u32),
                (1, _) => Multiplier::Channel(unsigned()),
                (2, _) => Multiplier::Element(unsigned()),
                (3, _) => Multiplier::Signed(v.iter().map(|&a| a as i32).collect()),
                _ => return Err(r.error("a multiplier kind").into()),
            };
            scaled.push(Scaled { tensor, multiplier, bound });
        }
        let offset = r.i128()?;
        let len = r.count(8)?;
        let offsets = (0..len).map(|_| r.i64()).collect::<Result<_, _>>()?;
        let k = u32::try_from(r.i64()?).map_err(|_| r.error("a shift"))?;
        let (zero, lo, hi) = (r.i32()?, r.i32()?, r.i32()?);
        Ok(RequantSpec { kind, scaled, offset, offsets, k, zero, lo, hi, dims: r.dims()? })
    }

    /// Every scaled input, of the dimensions `dims`.
    pub(super) fn inputs_declared(&self) -> Vec<(TensorId, Vec<usize>)> {
        self.scaled.iter().map(|s| (s.tensor, self.dims.clone())).collect()
    }

    /// The terms, multipliers, shift, zero point and clamp, as `gkrnet inspect` prints them.
    pub(super) fn describe(&self) -> String {
        let multiplier = |m: &Multiplier| match m {
            Multiplier::Tensor(a) => format!("a={a}"),
            Multiplier::Channel(v) => format!("a per channel ({} values)", v.len()),
            Multiplier::Element(v) => format!("a per element ({} values)", v.len()),
            Multiplier::Signed(v) => format!("a signed per element ({} values)", v.len()),
        };
        format!(
            "{} term(s), {}, k={}, zero point {}, clamp [{}, {}]{}",
            self.scaled.len(),
            self.scaled.iter().map(|s| multiplier(&s.multiplier)).collect::<Vec<_>>().join(" + "),
            self.k,
            self.zero,
            self.lo,
            self.hi,
            if self.offsets.is_empty() && self.offset == 0 { "" } else { ", with offsets" }
        )
    }
}

impl OpRecord for RequantSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        self.write_fields(w);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        self.inputs_declared()
    }

    fn summary(&self) -> String {
        self.describe()
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Requant::new(self.clone())?))
    }
}

/// A fixed-point numerator a (< 2^31) for a whole tensor, per channel, or per element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Multiplier {
    Tensor(u32),
    /// One per channel: the last axis of a [batch, features] tensor, axis 1 of NCHW.
    Channel(Vec<u32>),
    /// One per output element (average pooling at borders divides by the in-bounds count).
    Element(Vec<u32>),
    /// One per output element, of either sign, |a| < 2^31 (a rotary embedding's cos and ±sin).
    Signed(Vec<i32>),
}

impl Multiplier {
    /// The largest |a|.
    fn max(&self) -> u32 {
        match self {
            Multiplier::Tensor(a) => *a,
            Multiplier::Channel(v) | Multiplier::Element(v) => v.iter().copied().max().unwrap_or(0),
            Multiplier::Signed(v) => v.iter().map(|a| a.unsigned_abs()).max().unwrap_or(0),
        }
    }

    /// The multiplier of element j of a tensor with the given dimensions.
    pub(crate) fn at(&self, dims: &[usize], j: usize) -> i128 {
        match self {
            Multiplier::Tensor(a) => *a as i128,
            Multiplier::Channel(v) => v[channel_of(dims, j)] as i128,
            Multiplier::Element(v) => v[j] as i128,
            Multiplier::Signed(v) => v[j] as i128,
        }
    }
}

/// The channel of row-major element j: the last axis for rank ≤ 2, axis 1 (NCHW) above.
pub fn channel_of(dims: &[usize], j: usize) -> usize {
    match dims.len() {
        0 => 0,
        1 | 2 => j % dims[dims.len() - 1],
        _ => (j / dims[2..].iter().product::<usize>()) % dims[1],
    }
}

pub fn channels(dims: &[usize]) -> usize {
    match dims.len() {
        0 => 1,
        1 | 2 => dims[dims.len() - 1],
        _ => dims[1],
    }
}

/// One input of a requantization: the tensor, its multiplier, and a bound on |x|.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Scaled {
    pub tensor: TensorId,
    pub multiplier: Multiplier,
    pub bound: i128,
}

/// Column indices of the advice.
#[derive(Clone, Debug)]
struct Cols {
    par: usize,
    qh: Vec<usize>,
    rem: Vec<usize>,
    b: Option<usize>,
    d: Vec<usize>,
    s_lo: usize,
    s_hi: usize,
    e_lo: Vec<usize>,
    e_hi: Vec<usize>,
    names: Vec<&'static str>,
}

const QH: [&str; 8] = ["qh0", "qh1", "qh2", "qh3", "qh4", "qh5", "qh6", "qh7"];
const REM: [&str; 4] = ["rem0", "rem1", "rem2", "rem3"];
const D: [&str; 4] = ["d0", "d1", "d2", "d3"];
const ELO: [&str; 8] = ["elo0", "elo1", "elo2", "elo3", "elo4", "elo5", "elo6", "elo7"];
const EHI: [&str; 8] = ["ehi0", "ehi1", "ehi2", "ehi3", "ehi4", "ehi5", "ehi6", "ehi7"];

impl Cols {
    fn new(lq: usize, lr: usize, rounding: bool, le: usize) -> Self {
        let mut names = vec!["y", "par"];
        let mut take = |group: &[&'static str], n: usize| -> Vec<usize> {
            let start = names.len();
            names.extend_from_slice(&group[..n]);
            (start..start + n).collect()
        };
        let qh = take(&QH, lq);
        let rem = take(&REM, lr);
        let b = take(&["b"], usize::from(rounding)).first().copied();
        let d = take(&D, if rounding { lr } else { 0 });
        let s = take(&["s_lo", "s_hi"], 2);
        let e_lo = take(&ELO, le);
        let e_hi = take(&EHI, le);
        Self { par: 1, qh, rem, b, d, s_lo: s[0], s_hi: s[1], e_lo, e_hi, names }
    }
}

/// A requantization (or elementwise add) layer; its output is committed.
#[derive(Clone, Debug)]
pub struct Requant {
    /// The parameters, as a compiled model stores them.
    p: RequantSpec,
    inputs: Vec<TensorId>,
    q_min: i128,
    top_width: u32,
    cols: Cols,
}

/// 16-bit limbs needed for values in [0, max].
pub(crate) fn limbs_for(max: i128) -> usize {
    let bits = 128 - max.max(1).leading_zeros() as usize;
    bits.div_ceil(LIMB_BITS as usize).max(1)
}

/// Pushes the 16-bit limbs of v ≥ 0 onto the columns; false if v does not fit.
pub(crate) fn split_limbs(mut v: i128, out: &mut [Vec<i64>], cols: &[usize]) -> bool {
    let ok = v >= 0 && (v >> (LIMB_BITS as usize * cols.len())) == 0;
    for &c in cols {
        out[c].push((v & 0xffff) as i64);
        v >>= LIMB_BITS;
    }
    ok
}

impl Requant {
    /// # Errors
    /// Parameters out of range (k > 62, zero point or clamp bounds outside int8, lo > hi, a
    /// multiplier ≥ 2^31 or of the wrong length, offsets not one per element) or P_max ≥ 2^94.
    pub fn new(spec: RequantSpec) -> Result<Self, ModelError> {
        let RequantSpec { ref scaled, offset, ref offsets, k, zero, lo, hi, ref dims, .. } = spec;
        let p_max = check_parameters(scaled, offset, offsets, (k, zero, lo, hi), dims, 1 << 40)?;
        if p_max >= 1 << 94 {
            return Err(ModelError::Parameter(format!("|P| can reach {p_max} ≥ 2^94")));
        }
        let two_k = 1i128 << k;
        let mut q_min = -((p_max + two_k - 1) >> k);
        if q_min % 2 != 0 {
            q_min -= 1;
        }
        let q_max = p_max >> k;
        let lq = limbs_for((q_max - q_min) / 2);
        let lr = (k as usize).div_ceil(LIMB_BITS as usize);
        let top_width = k - LIMB_BITS * (lr.max(1) as u32 - 1);
        let (u_min, u_max) = (q_min + zero as i128, q_max + 1 + zero as i128);
        let (lo_, hi_) = (lo as i128, hi as i128);
        let e_max = [lo_ - 1 - u_min, u_max - lo_, u_max - hi_ - 1, hi_ - u_min]
            .into_iter()
            .max()
            .unwrap_or(0);
        let le = limbs_for(e_max);
        let inputs = scaled.iter().map(|s| s.tensor).collect();
        Ok(Self { p: spec, inputs, q_min, top_width, cols: Cols::new(lq, lr, k > 0, le) })
    }

    /// The expression P = Σ aᵢ·xᵢ + c.
    fn p_expr(&self) -> Poly {
        p_poly(&self.p.scaled, self.p.offset, !self.p.offsets.is_empty())
    }
}

/// Checks a requantization's parameters (k ≤ 62; zero point and clamp in int8, lo ≤ hi;
/// offsets one per element and below 2^62; multipliers below 2^31, as many as channels or
/// elements; input bounds within [0, `max_bound`]) and returns P_max = |c| + max|offsets| +
/// Σᵢ max aᵢ·boundᵢ.
pub(crate) fn check_parameters(
    scaled: &[Scaled],
    offset: i128,
    offsets: &[i64],
    (k, zero, lo, hi): (u32, i32, i32, i32),
    dims: &[usize],
    max_bound: i128,
) -> Result<i128, ModelError> {
    let int8 = -128..=127;
    if k > MAX_SHIFT
        || !int8.contains(&zero)
        || !int8.contains(&lo)
        || !int8.contains(&hi)
        || lo > hi
    {
        return Err(ModelError::Parameter(format!(
            "requantization k = {k}, z = {zero}, clamp [{lo}, {hi}]"
        )));
    }
    let len = super::checked_entries(dims)?;
    if !offsets.is_empty() && offsets.len() != len {
        return Err(ModelError::Shape(format!("{} offsets for {len} elements", offsets.len())));
    }
    let max_offset = offsets.iter().map(|&o| (o as i128).abs()).max().unwrap_or(0);
    if max_offset > 1 << 62 {
        return Err(ModelError::Parameter(format!("offset {max_offset} above 2^62")));
    }
    // a hostile model file names any i128 constant: |i128::MIN| and the sums are checked (they
    // would wrap in a release build and let a negative P_max through)
    let overflow = || ModelError::Parameter(format!("|P| overflows i128 (constant {offset})"));
    let mut p_max =
        offset.checked_abs().and_then(|c| c.checked_add(max_offset)).ok_or_else(overflow)?;
    for s in scaled {
        if s.multiplier.max() >= 1 << 31 || !(0..=max_bound).contains(&s.bound) {
            return Err(ModelError::Parameter(format!(
                "multiplier {} or input bound {}",
                s.multiplier.max(),
                s.bound
            )));
        }
        let expected = match &s.multiplier {
            Multiplier::Tensor(_) => None,
            Multiplier::Channel(v) => Some((v.len(), channels(dims))),
            Multiplier::Element(v) => Some((v.len(), len)),
            Multiplier::Signed(v) => Some((v.len(), len)),
        };
        if let Some((got, want)) = expected.filter(|(g, w)| g != w) {
            return Err(ModelError::Shape(format!("{got} multipliers where {want} are needed")));
        }
        p_max = (s.multiplier.max() as i128)
            .checked_mul(s.bound)
            .and_then(|term| p_max.checked_add(term))
            .ok_or_else(overflow)?;
    }
    Ok(p_max)
}

/// P = c + offsets(x) + Σᵢ aᵢ(x)·xᵢ as a polynomial: per-element offsets are `Coef(0)` when
/// present, then one `Coef` per non-constant multiplier, in order (see [`p_coefficients`]).
pub(crate) fn p_poly(scaled: &[Scaled], offset: i128, has_offsets: bool) -> Poly {
    let mut p = Lin::constant(offset).to_poly();
    let mut coef = 0;
    if has_offsets {
        p = p.plus_lin(&Lin::var(Var::Coef(0)));
        coef = 1;
    }
    for (i, s) in scaled.iter().enumerate() {
        let x = Lin::var(Var::In(i));
        p = match s.multiplier {
            Multiplier::Tensor(a) => p.plus_lin(&x.scale(a as i128)),
            Multiplier::Channel(_) | Multiplier::Element(_) | Multiplier::Signed(_) => {
                coef += 1;
                p.plus(&Lin::var(Var::Coef(coef - 1)).times(&x))
            }
        };
    }
    p
}

/// The public tables [`p_poly`] names, on the output dimensions.
pub(crate) fn p_coefficients(scaled: &[Scaled], offsets: &[i64], dims: &[usize]) -> Vec<Vec<i64>> {
    let len: usize = dims.iter().product();
    let offsets = (!offsets.is_empty()).then(|| offsets.to_vec());
    let multipliers = scaled.iter().filter_map(|s| match &s.multiplier {
        Multiplier::Channel(v) => Some((0..len).map(|j| v[channel_of(dims, j)] as i64).collect()),
        Multiplier::Element(v) => Some(v.iter().map(|&a| a as i64).collect()),
        Multiplier::Signed(v) => Some(v.iter().map(|&a| a as i64).collect()),
        Multiplier::Tensor(_) => None,
    });
    offsets.into_iter().chain(multipliers).collect()
}

/// P at element j (inputs checked against their bounds).
pub(crate) fn p_value(
    scaled: &[Scaled],
    offset: i128,
    offsets: &[i64],
    dims: &[usize],
    inputs: &[&Tensor],
    j: usize,
) -> Result<i128, String> {
    let mut p = offset + offsets.get(j).map_or(0, |&o| o as i128);
    for (s, x) in scaled.iter().zip(inputs) {
        let v = x.data[j] as i128;
        if v.abs() > s.bound {
            return Err(format!("input entry {j} = {v} exceeds the declared bound {}", s.bound));
        }
        p += s.multiplier.at(dims, j) * v;
    }
    Ok(p)
}

impl Layer for Requant {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(self.p.clone()))
    }

    fn kind(&self) -> &'static str {
        self.p.kind.name()
    }

    fn inputs(&self) -> &[TensorId] {
        &self.inputs
    }

    fn output_dims(&self) -> &[usize] {
        &self.p.dims
    }

    fn forward(&self, inputs: &[&Tensor]) -> Result<LayerWitness, ModelError> {
        let len: usize = self.p.dims.iter().product();
        let c = &self.cols;
        let mut cols: Vec<Vec<i64>> = vec![Vec::with_capacity(len); c.names.len()];
        let k = self.p.k;
        let half = if k == 0 { 0 } else { 1i128 << (k - 1) };
        let (z, lo, hi) = (self.p.zero as i128, self.p.lo as i128, self.p.hi as i128);
        for j in 0..len {
            let p =
                p_value(&self.p.scaled, self.p.offset, &self.p.offsets, &self.p.dims, inputs, j)
                    .map_err(|e| ModelError::Shape(format!("{}: {e}", self.p.kind)))?;
            let q = p >> k;
            let rem = p - (q << k);
            let par = q & 1;
            let b = i128::from(k > 0 && rem + par > half);
            let d = if b == 1 { rem + par - half - 1 } else { half - rem - par };
            let u = q + b + z;
            let (s_lo, s_hi) = (u < lo, u > hi);
            let e_lo = if s_lo { lo - 1 - u } else { u - lo };
            let e_hi = if s_hi { u - hi - 1 } else { hi - u };
            cols[0].push(u.clamp(lo, hi) as i64);
            cols[c.par].push(par as i64);
            let qh = (q - self.q_min - par) / 2;
            let mut fits = split_limbs(qh, &mut cols, &c.qh) && split_limbs(rem, &mut cols, &c.rem);
            if let Some(bc) = c.b {
                cols[bc].push(b as i64);
                fits &= split_limbs(d, &mut cols, &c.d);
            }
            cols[c.s_lo].push(s_lo as i64);
            cols[c.s_hi].push(s_hi as i64);
            fits &= split_limbs(e_lo, &mut cols, &c.e_lo) && split_limbs(e_hi, &mut cols, &c.e_hi);
            if !fits {
                // unreachable for inputs within their bounds: the widths come from those bounds
                return Err(ModelError::Shape(format!(
                    "{}: entry {j} (P = {p}) leaves the advice widths",
                    self.p.kind
                )));
            }
        }
        let y = cols.remove(0);
        Ok(LayerWitness { output: Tensor::new(self.p.dims.clone(), y)?, advice: cols })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for Requant {
    fn columns(&self) -> Vec<&'static str> {
        self.cols.names.clone()
    }

    fn relations(&self) -> Vec<Poly> {
        let c = &self.cols;
        let col = |i: usize| Lin::var(Var::Col(i));
        let par = col(c.par);
        let q = par.clone().plus(&Lin::limbs(&c.qh).scale(2)).add_const(self.q_min);
        let rem = Lin::limbs(&c.rem);
        let (z, lo, hi) = (self.p.zero as i128, self.p.lo as i128, self.p.hi as i128);
        let mut out = vec![
            self.p_expr().plus_lin(&q.scale(-(1i128 << self.p.k))).plus_lin(&rem.scale(-1)),
            par.times(&par).plus_lin(&par.scale(-1)),
        ];
        let mut u = q.clone().add_const(z);
        if let Some(bc) = c.b {
            let b = col(bc);
            let h = 1i128 << (self.p.k - 1);
            let w = rem.clone().plus(&par);
            // D − (H − w) − b·(2w − 2H − 1)
            out.push(b.times(&b).plus_lin(&b.scale(-1)));
            out.push(
                b.times(&w.scale(2).add_const(-2 * h - 1))
                    .scale(-crate::field::Fp::from(1u64))
                    .plus_lin(&Lin::limbs(&c.d).minus(&w.scale(-1).add_const(h))),
            );
            u = u.plus(&b);
        }
        let (s_lo, s_hi) = (col(c.s_lo), col(c.s_hi));
        out.push(s_lo.times(&s_lo).plus_lin(&s_lo.scale(-1)));
        out.push(s_hi.times(&s_hi).plus_lin(&s_hi.scale(-1)));
        out.push(s_lo.times(&s_hi));
        let neg = |p: Poly| p.scale(-crate::field::Fp::from(1u64));
        // y − u − s_lo·(lo − u) − s_hi·(hi − u)
        out.push(
            neg(s_lo.times(&u.scale(-1).add_const(lo)))
                .plus(&neg(s_hi.times(&u.scale(-1).add_const(hi))))
                .plus_lin(&col(0).minus(&u)),
        );
        // e_lo − (u − lo) − s_lo·(2lo − 1 − 2u)
        out.push(
            neg(s_lo.times(&u.scale(-2).add_const(2 * lo - 1)))
                .plus_lin(&Lin::limbs(&c.e_lo).minus(&u.clone().add_const(-lo))),
        );
        // e_hi − (hi − u) − s_hi·(2u − 2hi − 1)
        out.push(
            neg(s_hi.times(&u.scale(2).add_const(-2 * hi - 1)))
                .plus_lin(&Lin::limbs(&c.e_hi).minus(&u.scale(-1).add_const(hi))),
        );
        out
    }

    fn coefficients(&self) -> Vec<Vec<i64>> {
        p_coefficients(&self.p.scaled, &self.p.offsets, &self.p.dims)
    }

    fn range_checks(&self) -> Vec<Lin> {
        let c = &self.cols;
        let mut out: Vec<Lin> =
            c.qh.iter()
                .chain(&c.rem)
                .chain(&c.d)
                .chain(&c.e_lo)
                .chain(&c.e_hi)
                .map(|&i| Lin::var(Var::Col(i)))
                .collect();
        if let Some(&top) = c.rem.last() {
            if self.top_width < LIMB_BITS {
                // the top limb of rem is below 2^w exactly: 2^(16−w)·top is below 2^16
                out.push(Lin::var(Var::Col(top)).scale(1 << (LIMB_BITS - self.top_width)));
            }
        }
        out
    }
}
