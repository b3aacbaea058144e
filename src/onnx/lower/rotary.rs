//! Rotary position embeddings (LLaMA, Mistral, Qwen2, Gemma, Phi): y = x·cos + rotate_half(x)·sin
//! with rotate_half(x) = Concat(−x[…, h:], x[…, :h]) over the last axis of length 2h, and cos,
//! sin constants (positions are fixed with the sequence length). Proved as one requantization
//! of two terms with signed per-element multipliers (`circuit::requant`, `Multiplier::Signed`):
//! P = a₁(e)·(x(e) − z) + a₂(e)·(x(π(e)) − z), π the half swap (a `Take` of x), a₁ ∝ cos and
//! a₂ ∝ ∓sin (− on the first half, where the negated high half lands).

use super::*;
use crate::circuit::requant::{Multiplier, Scaled};
use crate::circuit::{RequantKind, RequantSpec};

impl Lower<'_> {
    /// The rotary embedding the Add `n` finishes (`patterns::rotary`).
    pub(super) fn rotary(
        &mut self,
        n: &Node,
        x: &str,
        [cos, sin]: [&str; 2],
        [lo, hi]: [usize; 2],
    ) -> Result<(), ImportError> {
        let v = self.get(x, Some(n))?;
        if !matches!(v, Value::Int { .. } | Value::Pending(_)) {
            return Err(unsupported(n, "a rotary embedding of a tensor that is not computed"));
        }
        let (id, q) = self.materialize(x, v)?;
        let dims = self.b.dims(id);
        let d = dims.last().copied().unwrap_or(0);
        if d < 2 || d % 2 != 0 {
            return Err(unsupported(n, format!("a rotary embedding over a last axis of {d}")));
        }
        let h = d / 2;
        for (i, (start, end)) in [(lo, (0, h)), (hi, (h, d))] {
            self.half_slice(n, i, dims.len(), start, end)?;
        }
        let constant = |l: &Self, name: &str| -> Result<Vec<f64>, ImportError> {
            let c = l.get(name, Some(n))?;
            l.per_element(&c, &dims).ok_or_else(|| {
                unsupported(
                    n,
                    format!(
                        "a rotary embedding whose {name:?} is not a constant broadcasting to \
                         {dims:?}"
                    ),
                )
            })
        };
        let (c, s) = (constant(self, cos)?, constant(self, sin)?);
        let out = n.outputs.first().ok_or_else(|| node_error(n, "no output"))?.clone();
        let q_out = self.target_params(&out)?;
        let len = c.len();
        let ratio = q.scale / q_out.scale;
        let m1: Vec<f64> = c.iter().map(|v| v * ratio).collect();
        let m2: Vec<f64> =
            (0..len).map(|e| if e % d < h { -s[e] * ratio } else { s[e] * ratio }).collect();
        // one shift for all, that of the largest |m| (< 2^31 at it); each a = round(m·2^k),
        // so every term's error is within 2^-31 of the largest (cos and sin cross 0: a
        // relative bound per multiplier, as `common_shift` keeps, cannot hold near 0)
        let max = m1.iter().chain(&m2).fold(0f64, |a, v| a.max(v.abs()));
        let (_, k) = common_shift(&[max])?;
        let signed = |m: &[f64]| -> Vec<i32> {
            m.iter().map(|v| (v * (k as f64).exp2()).round_ties_even() as i32).collect()
        };
        let (a1, a2) = (signed(&m1), signed(&m2));
        let perm: Vec<usize> = (0..len).map(|e| e - e % d + (e % d + h) % d).collect();
        let rot = self.b.push(Take::flat(id, &dims, &dims, perm)?);
        let z = i64::from(q.zero);
        let offsets: Vec<i64> =
            (0..len).map(|e| -(i64::from(a1[e]) + i64::from(a2[e])) * z).collect();
        let scaled = vec![
            Scaled { tensor: id, multiplier: Multiplier::Signed(a1), bound: 128 },
            Scaled { tensor: rot, multiplier: Multiplier::Signed(a2), bound: 128 },
        ];
        let spec = RequantSpec {
            kind: RequantKind::Add,
            scaled,
            offset: 0,
            offsets,
            k,
            zero: q_out.zero,
            lo: -128,
            hi: 127,
            dims,
        };
        let y = self.b.requant_layer(spec)?;
        self.parameters += 2 * len;
        self.set_checked(n, y, q_out)
    }

    /// Checks that Slice node `i` takes [start, end) of the last axis (step 1; an end at or past
    /// the axis' length for the high half).
    fn half_slice(
        &self,
        n: &Node,
        i: usize,
        rank: usize,
        start: usize,
        end: usize,
    ) -> Result<(), ImportError> {
        let s = &self.g.nodes[i];
        let ints = |k: usize| -> Option<Vec<i64>> {
            match self.get(s.input(k)?, Some(s)).ok()? {
                Value::Const(c) => Some(c.data.iter().map(|&v| v as i64).collect()),
                _ => None,
            }
        };
        let last = rank as i64 - 1;
        let axis_ok = match ints(3) {
            Some(a) => a == [-1] || a == [last],
            None => rank == 1,
        };
        let step_ok = ints(4).is_none_or(|st| st == [1]);
        let (st, en) = (ints(1), ints(2));
        // the high half may end anywhere past the axis (INT_MAX), the low one exactly at h
        let high = start > 0;
        let end_ok = |e: &[i64]| match e {
            [e] => *e == end as i64 || (high && *e >= end as i64),
            _ => false,
        };
        let bounds_ok = st == Some(vec![start as i64]) && en.is_some_and(|e| end_ok(&e));
        if !(axis_ok && step_ok && bounds_ok) {
            return Err(unsupported(
                n,
                format!(
                    "a rotary embedding whose Slice {:?} is not [{start}, {end}) of the last axis",
                    s.name
                ),
            ));
        }
        Ok(())
    }
}
