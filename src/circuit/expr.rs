//! Elementwise relations of a layer: polynomials of degree ≤ 2 in the layer's committed columns,
//! its input tensors and public coefficient tables, all on the layer's output layout. The driver
//! proves "C(x) = 0 on every valid slot" for each of them with one eq-weighted sumcheck.

use crate::field::{from_i128, Fp};
use ark_ff::Zero;

/// A variable of an elementwise relation, indexed within its layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Var {
    /// The layer's committed column j.
    Col(usize),
    /// The layer's input tensor i (same dimensions as the output).
    In(usize),
    /// The layer's public coefficient table i (the verifier computes it from the model).
    Coef(usize),
}

/// An affine combination Σ cᵢ·vᵢ + c with integer coefficients.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lin {
    pub terms: Vec<(Var, i128)>,
    pub constant: i128,
}

impl Lin {
    pub fn var(v: Var) -> Self {
        Self { terms: vec![(v, 1)], constant: 0 }
    }

    pub fn constant(c: i128) -> Self {
        Self { terms: Vec::new(), constant: c }
    }

    /// Σ 2^(16t)·limb_t over the given columns.
    pub fn limbs(cols: &[usize]) -> Self {
        Self {
            terms: cols
                .iter()
                .enumerate()
                .map(|(t, &c)| (Var::Col(c), 1i128 << (16 * t)))
                .collect(),
            constant: 0,
        }
    }

    pub fn plus(mut self, other: &Lin) -> Self {
        self.terms.extend_from_slice(&other.terms);
        self.constant += other.constant;
        self
    }

    pub fn minus(self, other: &Lin) -> Self {
        self.plus(&other.scale(-1))
    }

    pub fn scale(&self, c: i128) -> Self {
        Self {
            terms: self.terms.iter().map(|&(v, a)| (v, a * c)).collect(),
            constant: self.constant * c,
        }
    }

    pub fn add_const(mut self, c: i128) -> Self {
        self.constant += c;
        self
    }

    pub fn vars(&self) -> impl Iterator<Item = Var> + '_ {
        self.terms.iter().map(|t| t.0)
    }

    pub fn eval(&self, value: &impl Fn(Var) -> Fp) -> Fp {
        self.terms.iter().map(|&(v, c)| from_i128(c) * value(v)).sum::<Fp>()
            + from_i128(self.constant)
    }

    /// The polynomial self·other.
    pub fn times(&self, other: &Lin) -> Poly {
        let mut p = Poly::default();
        for &(u, a) in &self.terms {
            for &(v, b) in &other.terms {
                p.push(from_i128(a) * from_i128(b), vec![u, v]);
            }
            p.push(from_i128(a) * from_i128(other.constant), vec![u]);
        }
        for &(v, b) in &other.terms {
            p.push(from_i128(self.constant) * from_i128(b), vec![v]);
        }
        p.push(from_i128(self.constant) * from_i128(other.constant), vec![]);
        p
    }

    pub fn to_poly(&self) -> Poly {
        self.times(&Lin::constant(1))
    }
}

/// Σ c·Π vars, each monomial of degree ≤ 2.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Poly {
    pub monomials: Vec<(Fp, Vec<Var>)>,
}

impl Poly {
    fn push(&mut self, c: Fp, mut vars: Vec<Var>) {
        if c.is_zero() {
            return;
        }
        vars.sort();
        match self.monomials.iter_mut().find(|(_, v)| *v == vars) {
            Some((d, _)) => *d += c,
            None => self.monomials.push((c, vars)),
        }
    }

    pub fn plus(mut self, other: &Poly) -> Self {
        for (c, v) in &other.monomials {
            self.push(*c, v.clone());
        }
        self
    }

    pub fn plus_lin(self, other: &Lin) -> Self {
        self.plus(&other.to_poly())
    }

    pub fn scale(mut self, c: Fp) -> Self {
        self.monomials.iter_mut().for_each(|(d, _)| *d *= c);
        self
    }

    pub fn degree(&self) -> usize {
        self.monomials.iter().map(|(_, v)| v.len()).max().unwrap_or(0)
    }

    pub fn eval(&self, value: &impl Fn(Var) -> Fp) -> Fp {
        self.monomials.iter().map(|(c, vars)| vars.iter().fold(*c, |acc, &v| acc * value(v))).sum()
    }

    /// The distinct variables, sorted.
    pub fn vars(&self) -> Vec<Var> {
        let mut vs: Vec<Var> = self.monomials.iter().flat_map(|(_, v)| v.iter().copied()).collect();
        vs.sort();
        vs.dedup();
        vs
    }
}

/// Σ γ^j·C_j: one polynomial for all relations of a layer.
pub fn combine(relations: &[Poly], gamma: Fp) -> Poly {
    let mut power = Fp::from(1u64);
    let mut out = Poly::default();
    for r in relations {
        out = out.plus(&r.clone().scale(power));
        power *= gamma;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_expand_and_evaluate_like_integers() {
        let x = Lin::var(Var::Col(0)).scale(3).add_const(-2); // 3x − 2
        let y = Lin::var(Var::In(1)).plus(&Lin::var(Var::Col(0))); // y + x
        let p = x.times(&y).plus_lin(&Lin::constant(5));
        let value = |v: Var| match v {
            Var::Col(0) => Fp::from(4u64),
            Var::In(1) => -Fp::from(7u64),
            _ => Fp::zero(),
        };
        // (12 − 2)·(−7 + 4) + 5 = −25
        assert_eq!(p.eval(&value), -Fp::from(25u64));
        assert_eq!(p.degree(), 2);
        assert_eq!(p.vars(), vec![Var::Col(0), Var::In(1)]);
        let q = combine(&[p.clone(), Lin::var(Var::Col(0)).to_poly()], Fp::from(10u64));
        assert_eq!(q.eval(&value), -Fp::from(25u64) + Fp::from(40u64));
    }
}
