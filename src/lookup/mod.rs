//! LogUp lookups proved with the fractional-sum GKR circuit.
//!
//! To show that every value fᵢ (i < N) lies in a table t (j < T) with multiplicities mⱼ, the
//! prover shows, for a random α (Haböck, "Multivariate lookups based on logarithmic derivatives",
//! eprint 2022/1530, Lemma 5):
//!
//! ```text
//!   Σᵢ 1/(α − fᵢ) − Σⱼ mⱼ/(α − tⱼ) = 0
//! ```
//! The sum of fractions is a binary tree of fraction additions, p/q + p'/q' = (p·q' + p'·q)/(q·q'),
//! proved layer by layer from the root to the leaves with one sumcheck per layer (Papini–Haböck,
//! "Improving logarithmic derivative lookups using GKR", eprint 2023/1284, §3):
//!
//! * **Leaves** (2^n of them): index i < N holds (1, α − fᵢ); the table occupies the aligned
//!   segment [o, o + T₂) with T₂ = 2^⌈log₂ T⌉ and o = N rounded up to a multiple of T₂, index
//!   o + j holding (−mⱼ, α − tⱼ) for j < T; every other index holds the neutral (0, 1).
//!   n = ⌈log₂(o + T₂)⌉, so a large lookup into a small table costs about N leaves, not 2N.
//! * **Layer l** has 2^l fractions; entry x adds its children x and x + 2^l of layer l + 1:
//!   p_l(x) = p_(l+1)(x, 0)·q_(l+1)(x, 1) + p_(l+1)(x, 1)·q_(l+1)(x, 0), q_l(x) = q_(l+1)(x, 0)·q_(l+1)(x, 1).
//! * **Root** (layer 0): the prover sends (P, Q); the verifier requires P = 0 and Q ≠ 0.
//! * A claim (r, p̃_l(r), q̃_l(r)) becomes, with a random λ, the degree-3 sumcheck
//!   Σ_x eq(r, x)·[p₀q₁ + p₁q₀ + λ·q₀q₁](x) = p̃_l(r) + λ·q̃_l(r) over l variables; the prover
//!   sends the five factor values at the sumcheck point ρ (eq's is checked by the verifier), and a
//!   random τ restricts the children to one claim at (ρ, τ) on layer l + 1.
//! * At the leaves the prover sends f̃(ρ′) and m̃(ρ′); the verifier evaluates t̃(ρ′) and the
//!   prefix indicators itself and checks the leaf claim. f̃(ρ′) and m̃(ρ′) are returned as claims
//!   for the caller.
//!
//! # Soundness
//! The caller must bind f and m (absorb their digests or commitments) before calling: α, λ and τ
//! are drawn inside, after that. Errors: (N + T)/p for α (the identity of rational functions),
//! plus Σ_l (3l + 1)/p for the layer sumchecks and line restrictions (`paper-notes/soundness.md`).
//!
//! Tuples (c₀, …, c_(w−1)) with a layer tag are folded by the caller into one value
//! Σᵢ βⁱ·cᵢ + β^w·tag (`gkr::fold_row`), β drawn after the tuples are bound.

pub mod prover;
pub mod verifier;

pub use prover::prove;
pub use verifier::verify;

use crate::field::Fp;
use crate::sumcheck::Term;
use ark_ff::{AdditiveGroup, One, Zero};

/// The tables of one layer sumcheck: eq, p₀, p₁, q₀, q₁.
pub(crate) const FACTORS: usize = 5;

/// eq·(p₀q₁ + p₁q₀ + λ·q₀q₁) as sumcheck terms over the tables [eq, p₀, p₁, q₀, q₁].
pub(crate) fn layer_terms(lambda: Fp) -> Vec<Term> {
    vec![
        Term::product(vec![0, 1, 4]),
        Term::product(vec![0, 2, 3]),
        Term::new(lambda, vec![0, 3, 4]),
    ]
}

/// A lookup table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Table {
    /// Arbitrary entries (activation tables, tagged tuples); the verifier evaluates the MLE in
    /// O(T).
    Explicit(Vec<Fp>),
    /// 0, 1, …, 2^bits − 1 (range checks of limbs); its MLE is Σ_b 2^b·x_b, evaluated in O(n).
    Range { bits: u32 },
}

impl Table {
    pub fn len(&self) -> usize {
        match self {
            Table::Explicit(t) => t.len(),
            // a range wider than usize is refused later (MAX_NUM_VARS); never overflow here
            Table::Range { bits } => 1usize.checked_shl(*bits).unwrap_or(usize::MAX),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entries (the prover needs them; a range table is generated).
    pub fn entries(&self) -> std::borrow::Cow<'_, [Fp]> {
        match self {
            Table::Explicit(t) => std::borrow::Cow::Borrowed(t),
            Table::Range { bits } => (0..1u64 << bits).map(Fp::from).collect(),
        }
    }

    /// The MLE of the entries, zero-padded to 2^point.len() entries, at `point`.
    ///
    /// # Panics
    /// If the table has more than 2^point.len() entries.
    pub fn evaluate(&self, point: &[Fp]) -> Fp {
        match self {
            Table::Explicit(t) => crate::poly::evaluate_padded(t, point),
            Table::Range { bits } => {
                let bits = *bits as usize;
                assert!(
                    bits <= point.len(),
                    "a range table of 2^{bits} entries needs {bits} variables"
                );
                let (low, high) = point.split_at(bits);
                let value: Fp = low.iter().rev().fold(Fp::zero(), |acc, x| acc.double() + x);
                high.iter().fold(value, |acc, x| acc * (Fp::one() - x))
            }
        }
    }
}

/// What the verifier knows: the table, and how many values are looked up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupStatement {
    pub num_values: usize,
    pub table: Table,
}

impl LookupStatement {
    /// log₂ T₂: the variables of the table segment.
    pub fn table_vars(&self) -> usize {
        crate::poly::num_vars_for(self.table.len())
    }

    /// o: where the table segment starts (N rounded up to a multiple of T₂).
    pub fn table_offset(&self) -> usize {
        self.num_values.div_ceil(1 << self.table_vars()) << self.table_vars()
    }

    /// n: the leaves are 2^n fractions.
    pub fn num_vars(&self) -> usize {
        crate::poly::num_vars_for(self.table_offset() + (1 << self.table_vars()))
    }
}

/// The claims a lookup leaves for its caller: f̃(point) (the values zero-padded to 2^n entries)
/// and m̃(multiplicities_point) (the multiplicities zero-padded to T₂ entries; the point is the
/// low log₂ T₂ coordinates of `point`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LookupClaims {
    pub point: Vec<Fp>,
    pub values_eval: Fp,
    pub multiplicities_point: Vec<Fp>,
    pub multiplicities_eval: Fp,
}

/// The MLE of the indicator of [0, len) over n = `point.len()` variables, at `point`, in O(n):
/// Σ over the set bits b of len of (1 − r_b)·Π_{j>b} (r_j if len_j = 1 else 1 − r_j).
pub fn prefix_indicator(len: usize, point: &[Fp]) -> Fp {
    let n = point.len();
    if n < usize::BITS as usize && len >= 1 << n {
        return Fp::one();
    }
    let mut total = Fp::zero();
    let mut above = Fp::one(); // Π over the bits above b of eq(r_j, len_j)
    for (b, &r) in point.iter().enumerate().take(n).rev() {
        if (len >> b) & 1 == 1 {
            total += above * (Fp::one() - r);
            above *= r;
        } else {
            above *= Fp::one() - r;
        }
    }
    total
}

/// The leaf values p̃(ρ), q̃(ρ) from f̃(ρ), m̃(ρ_low), t̃(ρ_low): shared by prover and verifier.
/// With seg = eq(ρ_high, o/T₂) and the prefix indicators of the two regions:
/// p = [i < N] − seg·m, q = α·[i < N] − f + seg·(α·[j < T] − t) + 1 − [i < N] − seg·[j < T].
pub(crate) fn leaf_values(
    stmt: &LookupStatement,
    alpha: Fp,
    rho: &[Fp],
    f: Fp,
    m: Fp,
    t: Fp,
) -> (Fp, Fp) {
    let tv = stmt.table_vars().min(rho.len());
    let (low, high) = rho.split_at(tv);
    let block = stmt.table_offset() >> tv;
    let one = Fp::one();
    let seg: Fp = high
        .iter()
        .enumerate()
        .map(|(b, r)| if (block >> b) & 1 == 1 { *r } else { one - r })
        .product();
    let ind_f = prefix_indicator(stmt.num_values, rho);
    let ind_t = seg * prefix_indicator(stmt.table.len(), low);
    let p = ind_f - seg * m;
    let q = alpha * ind_f - f + alpha * ind_t - seg * t + one - ind_f - ind_t;
    (p, q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::poly::{eq_evals, evaluate_padded};
    use ark_ff::UniformRand;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn range_tables_evaluate_in_closed_form() {
        let mut rng = ChaCha20Rng::seed_from_u64(71);
        for bits in 0..=8u32 {
            for extra in 0..3usize {
                let point: Vec<Fp> =
                    (0..bits as usize + extra).map(|_| Fp::rand(&mut rng)).collect();
                let table = Table::Range { bits };
                assert_eq!(table.evaluate(&point), evaluate_padded(&table.entries(), &point));
            }
        }
    }

    #[test]
    fn prefix_indicator_is_the_mle_of_the_prefix() {
        let mut rng = ChaCha20Rng::seed_from_u64(70);
        for n in 0..=7usize {
            let point: Vec<Fp> = (0..n).map(|_| Fp::rand(&mut rng)).collect();
            let eq = eq_evals(&point);
            for len in 0..=(1usize << n) {
                let direct: Fp = eq[..len].iter().sum();
                assert_eq!(prefix_indicator(len, &point), direct, "n {n} len {len}");
            }
            let ones = vec![Fp::one(); 1 << n];
            assert_eq!(evaluate_padded(&ones, &point), Fp::one());
        }
    }
}
