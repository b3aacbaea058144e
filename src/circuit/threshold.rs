//! Requantization by thresholds: y = clamp(round_half_even((V·a + c)/2^k) + z, lo, hi) is a
//! non-decreasing step function of the integer V, so it is determined by the 257 thresholds
//! t_v = min{V : y(V) ≥ v}. The layer commits y and the thresholds T₁ = t_y, T₂ = t_{y+1} of its
//! step, looks up (y, T₁, T₂[, channel]) in the layer's own table (tagged, shared LogUp), and
//! range-checks e₁ = V − T₁ ≥ 0 and e₂ = T₂ − 1 − V ≥ 0. So t_y ≤ V < t_{y+1}: exactly the
//! reference's y, with the rounding (half to even), the clamp and ReLU baked into the public
//! table, which the verifier builds from the model (`paper-notes/requant.md`). Steps are split
//! into pieces [T₁, T₂) of at most 2^16 values when the table stays within [`MAX_CHUNKED_ROWS`]
//! rows, so that e₁, e₂ are below 2^16; a model whose range checks all fit b < 16 bits rebuilds
//! its thresholds with pieces of 2^b ([`Threshold::with_piece_bits`], `Model::range_bits`).
//!
//! * **Input mode** (one input, a per-tensor or per-channel multiplier, at most a constant
//!   offset c): V is the input itself (an accumulator, or average pooling's window sum),
//!   bounded by the layer's worst case B; thresholds per channel. With pieces (every conv, dense
//!   and unpadded average pooling layer of the built-in models), the range checks read V − T₁
//!   and T₂ − 1 − V directly (V's value at the lookup's point goes on to the input's layer): 3
//!   columns, no relations, 2 range lookups and one table lookup per element, instead of 10 or
//!   more lookups for the arithmetic gadget ([`Requant`]).
//! * Input mode without pieces, and **sum mode** (elementwise add, padded average pooling:
//!   several inputs, per-element multipliers or offsets): V = P = Σ aᵢ·xᵢ + c in sum mode,
//!   thresholds in P-space, one table per layer; e₁, e₂ are committed as 16-bit limbs with the
//!   relations V − T₁ − e₁ = 0 and T₂ − 1 − V − e₂ = 0.
//!
//! [`Requant`]: super::Requant
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::encode::{OpEntry, OpRecord};
use super::expr::{Lin, Poly, Var};
use super::requant::{
    channel_of, check_parameters, limbs_for, p_coefficients, p_poly, p_value, split_limbs,
};
use super::{
    Constraints, Layer, LayerSpec, LayerWitness, ModelError, Multiplier, TableLookup, Tensor,
    TensorId,
};
use super::{RequantSpec, LIMB_BITS, MAX_TABLE_ROWS};
use crate::codec::{ByteReader, ByteWriter, Sink};
use crate::quant::div_pow2_round_half_even;

const E1: [&str; 8] = ["e1_0", "e1_1", "e1_2", "e1_3", "e1_4", "e1_5", "e1_6", "e1_7"];
const E2: [&str; 8] = ["e2_0", "e2_1", "e2_2", "e2_3", "e2_4", "e2_5", "e2_6", "e2_7"];

/// Rows beyond which a threshold table keeps whole steps (and multi-limb comparisons) instead
/// of pieces of at most 2^16 values.
pub const MAX_CHUNKED_ROWS: usize = 1 << 12;

/// The record of a [`Threshold`]: the parameters of the requantization it proves, as for the
/// arithmetic gadget ([`super::Requant`]), under their own tag (3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ThresholdSpec(pub RequantSpec);

/// The threshold requantization's line in the registry ([`super::OPS`]).
pub(crate) const OP: OpEntry = OpEntry { tag: 3, kind: "threshold", decode: decode_spec };

fn decode_spec(r: &mut ByteReader<'_>) -> Result<Box<dyn OpRecord>, ModelError> {
    Ok(Box::new(ThresholdSpec(RequantSpec::read_fields(r)?)))
}

impl OpRecord for ThresholdSpec {
    fn entry(&self) -> &'static OpEntry {
        &OP
    }

    fn encode_fields(&self, w: &mut ByteWriter<&mut dyn Sink>) {
        self.0.write_fields(w);
    }

    fn declared_inputs(&self) -> Vec<(TensorId, Vec<usize>)> {
        self.0.inputs_declared()
    }

    fn summary(&self) -> String {
        self.0.describe()
    }

    fn build(&self) -> Result<Box<dyn Layer>, ModelError> {
        Ok(Box::new(Threshold::new(self.0.clone())?))
    }
}

/// One row of a threshold table: y on the interval [t1, t2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Step {
    y: i64,
    t1: i128,
    t2: i128,
}

/// A threshold requantization; its output is committed.
#[derive(Clone, Debug)]
pub struct Threshold {
    /// The parameters, as a compiled model stores them.
    p: RequantSpec,
    inputs: Vec<TensorId>,
    /// Input mode: V is input 0 and the multiplier is in the table; else V = P.
    input_mode: bool,
    /// |V| ≤ v_max for every input.
    v_max: i128,
    limbs: usize,
    /// Input mode with single-limb comparisons: the range checks read V − T₁ and T₂ − 1 − V
    /// themselves (V is the input), so there are no e columns and no relations.
    direct: bool,
    /// Steps are cut into pieces of at most 2^piece_bits values (when the table stays small).
    piece_bits: u32,
    /// whole[c]: the non-empty steps (y, [t₁, t₂)) of channel c, sorted, partitioning [−v_max,
    /// v_max + 1) (one "channel" in sum mode and for a per-tensor multiplier).
    whole: Vec<Vec<Step>>,
    /// steps[c]: the table rows of channel c: its whole steps, or their pieces.
    steps: Vec<Vec<Step>>,
    names: Vec<&'static str>,
    /// The table's rows, built once from `steps` ([`Threshold::build_rows`]).
    rows: std::sync::Arc<Vec<Vec<i64>>>,
}

impl Threshold {
    /// The layer of `spec` with steps cut into pieces of at most 2^16 values (when the table
    /// stays small); the same parameters as [`super::Requant::new`].
    ///
    /// # Errors
    /// Parameters out of range, |V| that could reach 2^100, or more limbs than supported.
    pub fn new(spec: RequantSpec) -> Result<Self, ModelError> {
        Self::with_piece_bits(spec, LIMB_BITS)
    }

    /// The layer of `spec` with steps cut into pieces of at most 2^piece_bits values (16 by
    /// default; a model whose range checks all fit fewer bits uses a smaller range table,
    /// [`super::Model::range_bits`]).
    ///
    /// # Errors
    /// As [`Threshold::new`], or piece bits outside 1..=16.
    pub fn with_piece_bits(spec: RequantSpec, piece_bits: u32) -> Result<Self, ModelError> {
        if !(1..=LIMB_BITS).contains(&piece_bits) {
            return Err(ModelError::Parameter(format!("pieces of 2^{piece_bits} values")));
        }
        let (input_mode, v_max, whole) = whole_steps(&spec)?;
        Ok(Self::from_steps(spec, input_mode, v_max, whole, piece_bits))
    }

    /// The layer with the whole steps `whole` cut into pieces of at most 2^piece_bits values
    /// when [`chunk`] says so, so that e₁, e₂ are single limbs. O(rows): rebuilding for another
    /// piece width never recomputes thresholds.
    fn from_steps(
        p: RequantSpec,
        input_mode: bool,
        v_max: i128,
        whole: Vec<Vec<Step>>,
        piece_bits: u32,
    ) -> Self {
        let piece = 1u128 << piece_bits;
        let elements: usize = p.dims.iter().product();
        let chunked = chunk(&whole, piece_bits, v_max, input_mode, elements);
        // whole steps are compared in 16-bit limbs, whatever piece width was asked for
        let piece_bits = if chunked { piece_bits } else { LIMB_BITS };
        let steps: Vec<Vec<Step>> = if chunked {
            whole
                .iter()
                .map(|channel| {
                    let mut out = Vec::new();
                    for st in channel {
                        let mut start = st.t1;
                        while start < st.t2 {
                            let end = (start + piece as i128).min(st.t2);
                            out.push(Step { y: st.y, t1: start, t2: end });
                            start = end;
                        }
                    }
                    out
                })
                .collect()
        } else {
            whole.clone()
        };
        // at most 8 limbs: |V| < 2^62 (`whole_steps`)
        let limbs = if chunked { 1 } else { limbs_for(2 * v_max + 1) };
        let direct = input_mode && limbs == 1;
        let mut names = vec!["y", "t1", "t2"];
        if !direct {
            names.extend_from_slice(&E1[..limbs]);
            names.extend_from_slice(&E2[..limbs]);
        }
        let inputs = p.scaled.iter().map(|s| s.tensor).collect();
        let mut t = Self {
            p,
            inputs,
            input_mode,
            v_max,
            limbs,
            direct,
            piece_bits,
            whole,
            steps,
            names,
            rows: Default::default(),
        };
        t.rows = t.build_rows().into();
        t
    }

    fn per_channel(&self) -> bool {
        self.steps.len() > 1
            || (self.input_mode && matches!(self.p.scaled[0].multiplier, Multiplier::Channel(_)))
    }

    /// The rows of the layer's table: (y, t₁, t₂[, channel]) for each piece [t₁, t₂) of a
    /// non-empty step of y.
    fn build_rows(&self) -> Vec<Vec<i64>> {
        let mut rows = Vec::new();
        for (c, steps) in self.steps.iter().enumerate() {
            for st in steps {
                let mut row = vec![st.y, st.t1 as i64, st.t2 as i64];
                if self.per_channel() {
                    row.push(c as i64);
                }
                rows.push(row);
            }
        }
        rows
    }

    /// V as a polynomial.
    fn v_poly(&self) -> Poly {
        if self.input_mode {
            Lin::var(Var::In(0)).to_poly()
        } else {
            p_poly(&self.p.scaled, self.p.offset, !self.p.offsets.is_empty())
        }
    }
}

/// The least P with round_half_even(P/2^k) ≥ m: m·2^k − 2^(k−1) when that rounds up (m even),
/// else one more.
fn least_p_rounding_to(m: i128, k: u32) -> i128 {
    if k == 0 {
        return m;
    }
    let base = (m << k) - (1i128 << (k - 1));
    if div_pow2_round_half_even(base, k) >= m {
        base
    } else {
        base + 1
    }
}

/// Whether the steps are cut into pieces of 2^piece_bits values (single-limb comparisons):
/// always when the table stays within [`MAX_CHUNKED_ROWS`] rows; for 16-bit pieces also when
/// that costs fewer lookup leaves in all than whole steps (a per-channel table over many
/// channels): pieces + 3 per element (2 range checks, 1 tuple) against whole steps + (1 + 2·limbs)
/// per element, within [`MAX_TABLE_ROWS`]. A function of the parameters alone.
fn chunk(
    whole: &[Vec<Step>],
    piece_bits: u32,
    v_max: i128,
    input_mode: bool,
    elements: usize,
) -> bool {
    let n = pieces(whole, piece_bits);
    if n <= MAX_CHUNKED_ROWS {
        return true;
    }
    if piece_bits != LIMB_BITS || !input_mode || n > MAX_TABLE_ROWS {
        return false;
    }
    let whole_rows: usize = whole.iter().map(Vec::len).sum();
    let limbs = limbs_for(2 * v_max + 1);
    let per_element = |lookups: usize| elements.saturating_mul(lookups);
    n.saturating_add(per_element(3)) <= whole_rows.saturating_add(per_element(1 + 2 * limbs))
}

/// The pieces of at most 2^piece_bits values the steps cut into (saturating).
fn pieces(whole: &[Vec<Step>], piece_bits: u32) -> usize {
    whole.iter().flatten().fold(0usize, |n, st| {
        let k = ((st.t2 - st.t1) as u128).div_ceil(1 << piece_bits);
        n.saturating_add(usize::try_from(k).unwrap_or(usize::MAX))
    })
}

/// The thresholds t_v (v = lo ..= hi + 1) of y(V) = clamp(round_half_even(p/2^k) + z, lo, hi)
/// with p = V·a + c (input mode) or p = V (sum mode, `a` = None): t_lo = −v_max, and t_v the
/// least V in [−v_max, v_max] with y(V) ≥ v (v_max + 1 if none). In closed form, O(1) each:
/// for lo < v ≤ hi, y(V) ≥ v ⟺ round_half_even(p/2^k) ≥ v − z ⟺ p ≥ P_v (the clamp is monotone
/// and v inside it) ⟺ V ≥ ⌈(P_v − c)/a⌉.
///
/// `p_least[i]` is P_v for v = lo + 1 + i ([`least_p_rounding_to`], the same for every channel);
/// consecutive P_v differ by 2^k ± 1, so ⌈(P_v − c)/a⌉ follows from the previous quotient and
/// remainder with two divisions per channel in all.
fn channel_thresholds(
    a: Option<i128>,
    offset: i128,
    p_least: &[i128],
    (k, zero, lo, hi): (u32, i32, i32, i32),
    v_max: i128,
    out: &mut Vec<i128>,
) {
    out.clear();
    out.push(-v_max);
    match a {
        None => out.extend(p_least.iter().map(|&p| p.clamp(-v_max, v_max + 1))),
        Some(0) => {
            out.extend(p_least.iter().map(|&p| if offset >= p { -v_max } else { v_max + 1 }))
        }
        Some(a) => {
            // x_v = P_v − c = q·a + r with 0 ≤ r < a; 2^k = big_q·a + big_r
            let (big_q, big_r) = ((1i128 << k).div_euclid(a), (1i128 << k).rem_euclid(a));
            // t_v = −v_max for v ≤ y(−v_max) and v_max + 1 for v > y(v_max): only the values
            // in between cost anything (none for a channel whose y is constant)
            let y = |v: i128| {
                let y = div_pow2_round_half_even(v * a + offset, k) + zero as i128;
                y.clamp(lo as i128, hi as i128)
            };
            let (first, last) = (y(-v_max) - lo as i128, y(v_max) - lo as i128);
            let mut prev = None;
            for (i, &p) in (1..).zip(p_least) {
                if i <= first || i > last {
                    out.push(if i <= first { -v_max } else { v_max + 1 });
                    continue;
                }
                let (q, r) = match prev {
                    None => ((p - offset).div_euclid(a), (p - offset).rem_euclid(a)),
                    Some((q, r, p_prev)) => {
                        // P_v − P_{v−1} = 2^k + δ with |δ| ≤ 1
                        let (mut q, mut r) = (q + big_q, r + big_r + (p - p_prev - (1i128 << k)));
                        while r >= a {
                            r -= a;
                            q += 1;
                        }
                        while r < 0 {
                            r += a;
                            q -= 1;
                        }
                        (q, r)
                    }
                };
                prev = Some((q, r, p));
                // ⌈x/a⌉
                out.push((q + i128::from(r > 0)).clamp(-v_max, v_max + 1));
            }
        }
    }
    out.push(v_max + 1);
}

/// Whether the layer is in input mode, the bound v_max on |V|, and the non-empty steps of each
/// channel. A table of more than [`MAX_TABLE_ROWS`] rows is refused before it is built, from
/// the channel count first (every channel has a step): O(channels · 2^8) work in all.
fn whole_steps(spec: &RequantSpec) -> Result<(bool, i128, Vec<Vec<Step>>), ModelError> {
    let RequantSpec { scaled, offset, offsets, k, zero, lo, hi, dims, .. } = spec;
    let (offset, k, zero, lo, hi) = (*offset, *k, *zero, *lo, *hi);
    let p_max = check_parameters(scaled, offset, offsets, (k, zero, lo, hi), dims, 1 << 62)?;
    let input_mode = scaled.len() == 1
        && offsets.is_empty()
        && !matches!(scaled[0].multiplier, Multiplier::Element(_) | Multiplier::Signed(_));
    let v_max = if input_mode { scaled[0].bound } else { p_max };
    if p_max >= 1 << 94 || v_max >= 1 << 62 {
        return Err(ModelError::Parameter(format!(
            "|V| can reach {v_max} ≥ 2^62 (thresholds are i64 advice)"
        )));
    }
    // the multiplier of each channel (None: V is P itself)
    let multipliers: Vec<Option<i128>> = match (&scaled.first().map(|s| &s.multiplier), input_mode)
    {
        (Some(Multiplier::Channel(v)), true) => v.iter().map(|&a| Some(a as i128)).collect(),
        (Some(Multiplier::Tensor(a)), true) => vec![Some(*a as i128)],
        _ => vec![None],
    };
    let too_many = |rows: usize| ModelError::TableRows { rows, max: MAX_TABLE_ROWS };
    if multipliers.len() > MAX_TABLE_ROWS {
        return Err(too_many(multipliers.len()));
    }
    let p_least: Vec<i128> =
        (lo + 1..=hi).map(|v| least_p_rounding_to(v as i128 - zero as i128, k)).collect();
    let (mut whole, mut rows, mut t) = (Vec::with_capacity(multipliers.len()), 0, Vec::new());
    for (c, &a) in multipliers.iter().enumerate() {
        channel_thresholds(a, offset, &p_least, (k, zero, lo, hi), v_max, &mut t);
        let steps: Vec<Step> = t
            .windows(2)
            .zip(lo as i64..)
            .filter(|(w, _)| w[0] < w[1])
            .map(|(w, y)| Step { y, t1: w[0], t2: w[1] })
            .collect();
        rows += steps.len();
        // every later channel adds a row at least
        if rows + (multipliers.len() - c - 1) > MAX_TABLE_ROWS {
            return Err(too_many(rows + (multipliers.len() - c - 1)));
        }
        whole.push(steps);
    }
    Ok((input_mode, v_max, whole))
}

impl Layer for Threshold {
    fn spec(&self) -> LayerSpec {
        LayerSpec::Op(Box::new(ThresholdSpec(self.p.clone())))
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
        let mut cols: Vec<Vec<i64>> = vec![Vec::with_capacity(len); self.names.len()];
        let (e1, e2): (Vec<usize>, Vec<usize>) =
            ((3..3 + self.limbs).collect(), (3 + self.limbs..3 + 2 * self.limbs).collect());
        let err = |e: String| ModelError::Shape(format!("{}: {e}", self.p.kind));
        for j in 0..len {
            let v = if self.input_mode {
                let v = inputs[0].data[j] as i128;
                if v.abs() > self.v_max {
                    return Err(err(format!(
                        "input entry {j} = {v} exceeds the declared bound {}",
                        self.v_max
                    )));
                }
                v
            } else {
                p_value(&self.p.scaled, self.p.offset, &self.p.offsets, &self.p.dims, inputs, j)
                    .map_err(err)?
            };
            let channel = if self.steps.len() > 1 { channel_of(&self.p.dims, j) } else { 0 };
            let steps = &self.steps[channel];
            // the row holding v: t₁ ≤ v < t₂
            let i = steps.partition_point(|st| st.t1 <= v).saturating_sub(1);
            let Step { y, t1, t2 } = steps[i];
            if !(t1 <= v && v < t2) {
                return Err(err(format!("entry {j}: no threshold step holds {v}")));
            }
            cols[0].push(y);
            cols[1].push(t1 as i64);
            cols[2].push(t2 as i64);
            if self.direct {
                // the range checks read V − T₁ and T₂ − 1 − V: below 2^piece_bits within a piece
                if (v - t1) >> self.piece_bits != 0 || (t2 - 1 - v) >> self.piece_bits != 0 {
                    return Err(err(format!("entry {j}: comparison out of its limb")));
                }
            } else if !(split_limbs(v - t1, &mut cols, &e1)
                && split_limbs(t2 - 1 - v, &mut cols, &e2))
            {
                return Err(err(format!("entry {j}: comparison out of its limbs")));
            }
        }
        let y = cols.remove(0);
        Ok(LayerWitness { output: Tensor::new(self.p.dims.clone(), y)?, advice: cols })
    }

    fn constraints(&self) -> Option<&dyn Constraints> {
        Some(self)
    }
}

impl Constraints for Threshold {
    fn columns(&self) -> Vec<&'static str> {
        self.names.clone()
    }

    fn relations(&self) -> Vec<Poly> {
        if self.direct {
            return Vec::new();
        }
        let col = |c: usize| Lin::var(Var::Col(c));
        let e1 = Lin::limbs(&(3..3 + self.limbs).collect::<Vec<_>>());
        let e2 = Lin::limbs(&(3 + self.limbs..3 + 2 * self.limbs).collect::<Vec<_>>());
        let v = self.v_poly();
        vec![
            // V − T₁ − e₁ = 0
            v.clone().plus_lin(&col(1).plus(&e1).scale(-1)),
            // T₂ − 1 − V − e₂ = 0
            v.scale(-crate::field::Fp::from(1u64)).plus_lin(&col(2).minus(&e2).add_const(-1)),
        ]
    }

    fn coefficients(&self) -> Vec<Vec<i64>> {
        let len: usize = self.p.dims.iter().product();
        if self.input_mode {
            if self.per_channel() {
                return vec![(0..len).map(|j| channel_of(&self.p.dims, j) as i64).collect()];
            }
            return Vec::new();
        }
        p_coefficients(&self.p.scaled, &self.p.offsets, &self.p.dims)
    }

    fn range_bits(&self) -> u32 {
        if self.direct {
            self.piece_bits
        } else {
            LIMB_BITS
        }
    }

    fn with_range_bits(&self, bits: u32) -> Option<Box<dyn Layer>> {
        if !(1..=LIMB_BITS).contains(&bits) {
            return None;
        }
        // whole steps need 16-bit comparisons: decided from the piece count, without a rebuild
        if bits < LIMB_BITS && pieces(&self.whole, bits) > MAX_CHUNKED_ROWS {
            return None;
        }
        let (p, whole) = (self.p.clone(), self.whole.clone());
        let t = Self::from_steps(p, self.input_mode, self.v_max, whole, bits);
        (t.range_bits() <= bits).then(|| Box::new(t) as Box<dyn Layer>)
    }

    fn range_checks(&self) -> Vec<Lin> {
        if self.direct {
            let (v, t1, t2) = (Lin::var(Var::In(0)), Lin::var(Var::Col(1)), Lin::var(Var::Col(2)));
            return vec![v.clone().minus(&t1), t2.minus(&v).add_const(-1)];
        }
        (3..3 + 2 * self.limbs).map(|c| Lin::var(Var::Col(c))).collect()
    }

    fn table_lookup(&self) -> Option<TableLookup> {
        let mut columns = vec![Var::Col(0), Var::Col(1), Var::Col(2)];
        if self.per_channel() {
            columns.push(Var::Coef(0));
        }
        Some(TableLookup { columns, rows: self.rows.clone() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// The thresholds by binary search over V (the definition), as the layer computed them before
    /// the closed form.
    fn naive_thresholds(
        a: Option<i128>,
        offset: i128,
        (k, zero, lo, hi): (u32, i32, i32, i32),
        v_max: i128,
    ) -> Vec<i128> {
        let y = |v: i128| -> i128 {
            let p = a.map_or(v, |a| v * a + offset);
            (div_pow2_round_half_even(p, k) + zero as i128).clamp(lo as i128, hi as i128)
        };
        (lo..=hi + 1)
            .map(|v| {
                if v == lo {
                    return -v_max;
                }
                let (mut a, mut b) = (-v_max, v_max + 1);
                while a < b {
                    let mid = a + (b - a) / 2;
                    if y(mid) >= v as i128 {
                        b = mid;
                    } else {
                        a = mid + 1;
                    }
                }
                a
            })
            .collect()
    }

    #[test]
    fn closed_form_thresholds_match_the_binary_search() {
        let mut rng = ChaCha20Rng::seed_from_u64(170);
        let mut t = Vec::new();
        for case in 0..4000 {
            let k = rng.gen_range(0..=62u32);
            let v_max: i128 = match case % 3 {
                0 => rng.gen_range(0..300),
                1 => 1 << rng.gen_range(0..62),
                _ => rng.gen_range(0..(1i128 << 61)),
            };
            let a = match case % 5 {
                0 => None,
                1 => Some(0),
                2 => Some(rng.gen_range(1..8)),
                _ => Some(rng.gen_range(0..(1i128 << 31))),
            };
            let width = rng.gen_range(0..80);
            let offset = match case % 4 {
                0 => 0,
                _ => rng.gen_range(-(1i128 << width)..=(1i128 << 40)),
            };
            let zero = rng.gen_range(-128..=127);
            let lo = rng.gen_range(-128..=127);
            let hi = rng.gen_range(lo..=127);
            let params = (k, zero, lo, hi);
            let p_least: Vec<i128> =
                (lo + 1..=hi).map(|v| least_p_rounding_to(v as i128 - zero as i128, k)).collect();
            channel_thresholds(a, offset, &p_least, (k, zero, lo, hi), v_max, &mut t);
            assert_eq!(t, naive_thresholds(a, offset, params, v_max), "{a:?} {offset} {params:?}");
        }
    }
}
