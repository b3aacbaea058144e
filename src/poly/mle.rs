//! Dense multilinear extensions, and MLE evaluation straight from int8 / int32 data.

use super::{eq_evals, PAR_THRESHOLD};
use crate::field::{dot_i32, dot_i8, Fp};
use rayon::prelude::*;

/// A multilinear polynomial in `num_vars` variables given by its 2^num_vars values on the
/// hypercube, index bit i = xᵢ (see the [module docs](super)).
///
/// ```
/// use gkrnet::field::Fp;
/// use gkrnet::poly::DenseMle;
/// // f(x₀, x₁) with f(0,0) = 1, f(1,0) = 2, f(0,1) = 3, f(1,1) = 4
/// let f = DenseMle::new(vec![Fp::from(1u64), Fp::from(2u64), Fp::from(3u64), Fp::from(4u64)]);
/// assert_eq!(f.evaluate(&[Fp::from(1u64), Fp::from(0u64)]), Fp::from(2u64));
/// assert_eq!(f.evaluate(&[Fp::from(0u64), Fp::from(1u64)]), Fp::from(3u64));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DenseMle {
    num_vars: usize,
    evals: Vec<Fp>,
}

impl DenseMle {
    /// # Panics
    /// If `evals.len()` is not a power of two.
    pub fn new(evals: Vec<Fp>) -> Self {
        assert!(
            evals.len().is_power_of_two(),
            "an MLE table needs a power-of-two length, got {}",
            evals.len()
        );
        let num_vars = evals.len().trailing_zeros() as usize;
        Self { num_vars, evals }
    }

    /// Pads `evals` with zeros to 2^num_vars entries.
    ///
    /// # Panics
    /// If `evals` holds more than 2^num_vars entries.
    pub fn from_padded(mut evals: Vec<Fp>, num_vars: usize) -> Self {
        assert!(
            evals.len() <= 1 << num_vars,
            "{} values do not fit {num_vars} variables",
            evals.len()
        );
        evals.resize(1 << num_vars, Fp::default());
        Self { num_vars, evals }
    }

    pub fn num_vars(&self) -> usize {
        self.num_vars
    }

    pub fn evals(&self) -> &[Fp] {
        &self.evals
    }

    pub fn into_evals(self) -> Vec<Fp> {
        self.evals
    }

    /// ṽ(point) in O(2^n) (2^n multiplications, no allocation beyond two √-size eq tables).
    ///
    /// # Panics
    /// If `point.len() != self.num_vars()`.
    pub fn evaluate(&self, point: &[Fp]) -> Fp {
        evaluate_padded(&self.evals, point)
    }

    /// Σ over the hypercube.
    pub fn sum(&self) -> Fp {
        if self.evals.len() >= PAR_THRESHOLD {
            self.evals.par_iter().sum()
        } else {
            self.evals.iter().sum()
        }
    }

    /// Binds x₀ to `r`: the result has `num_vars − 1` variables and
    /// g(x₁, …) = f(r, x₁, …), i.e. g[i] = f[2i] + r·(f[2i+1] − f[2i]).
    ///
    /// # Panics
    /// If the polynomial has no variable left.
    #[expect(
        clippy::indexing_slicing,
        reason = "prover side, hot (in place): 2i + 1 < 2·half <= evals.len()"
    )]
    pub fn fix_first_var(&mut self, r: Fp) {
        assert!(self.num_vars > 0, "no variable left to bind");
        let half = self.evals.len() / 2;
        if half >= PAR_THRESHOLD {
            let pairs = self.evals.as_chunks::<2>().0;
            self.evals = pairs.par_iter().map(|&[a, b]| a + r * (b - a)).collect();
        } else {
            for i in 0..half {
                let (a, b) = (self.evals[2 * i], self.evals[2 * i + 1]);
                self.evals[i] = a + r * (b - a);
            }
            self.evals.truncate(half);
        }
        self.num_vars -= 1;
    }
}

/// Evaluates the MLE of `values` zero-padded to 2^n entries (n = `point.len()`).
///
/// Splits the point into its low half L and high half H:
/// ṽ(r) = Σ_h eq(r_H, h) · Σ_l eq(r_L, l) · v[h·2^|L| + l], so only two √-size eq tables are built.
///
/// # Panics
/// If `values` holds more than 2^n entries.
pub fn evaluate_padded(values: &[Fp], point: &[Fp]) -> Fp {
    evaluate_split(values, point, |eq, block| eq.iter().zip(block).map(|(e, v)| *e * v).sum())
}

/// The MLE of an int8 vector (zero-padded to 2^n) at `point`, with delayed-reduction dot products and
/// without converting the data to field elements: about one u64 multiply per limb and entry.
///
/// # Panics
/// If `values` holds more than 2^n entries.
pub fn evaluate_i8(values: &[i8], point: &[Fp]) -> Fp {
    evaluate_split(values, point, dot_i8)
}

/// The MLE of an int32 vector (zero-padded to 2^n) at `point`; see [`evaluate_i8`].
///
/// # Panics
/// If `values` holds more than 2^n entries.
pub fn evaluate_i32(values: &[i32], point: &[Fp]) -> Fp {
    evaluate_split(values, point, dot_i32)
}

fn evaluate_split<T: Sync>(
    values: &[T],
    point: &[Fp],
    inner: impl Fn(&[Fp], &[T]) -> Fp + Sync,
) -> Fp {
    let num_vars = point.len();
    assert!(
        num_vars < usize::BITS as usize && values.len() <= 1 << num_vars,
        "{} values do not fit {num_vars} variables",
        values.len()
    );
    let low = num_vars.div_ceil(2);
    let (point_lo, point_hi) = point.split_at_checked(low).unwrap_or((point, &[]));
    let (eq_lo, eq_hi) = (eq_evals(point_lo), eq_evals(point_hi));
    #[expect(
        clippy::indexing_slicing,
        reason = "a chunk of 1 << low values is no longer than eq_lo (2^low entries)"
    )]
    let block = |(vals, e): (&[T], &Fp)| *e * inner(&eq_lo[..vals.len()], vals);
    // an entry costs one multiplication or less (1 ns for int8): parallel pays off later than
    // for a fold
    if values.len() >= 4 * PAR_THRESHOLD {
        values.par_chunks(1 << low).zip(eq_hi.par_iter()).map(block).sum()
    } else {
        values.chunks(1 << low).zip(eq_hi.iter()).map(block).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{from_i32, from_i8};
    use ark_ff::{One, UniformRand, Zero};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    /// Textbook MLE evaluation: Σ_b v[b] · Πᵢ (bᵢ·rᵢ + (1 − bᵢ)(1 − rᵢ)), term by term.
    fn naive_eval(values: &[Fp], point: &[Fp]) -> Fp {
        let mut total = Fp::zero();
        for (b, v) in values.iter().enumerate() {
            let mut w = Fp::one();
            for (i, r) in point.iter().enumerate() {
                w *= if (b >> i) & 1 == 1 { *r } else { Fp::one() - r };
            }
            total += w * v;
        }
        total
    }

    #[test]
    fn evaluations_agree_with_the_naive_formula() {
        let mut rng = ChaCha20Rng::seed_from_u64(5);
        for num_vars in 0..=14 {
            for len in [0, 1, (1usize << num_vars) / 2 + 1, 1 << num_vars] {
                let len = len.min(1 << num_vars);
                let v8: Vec<i8> = (0..len).map(|_| rng.gen()).collect();
                let v32: Vec<i32> = (0..len).map(|_| rng.gen()).collect();
                let f: Vec<Fp> = (0..len).map(|_| Fp::rand(&mut rng)).collect();
                let r: Vec<Fp> = (0..num_vars).map(|_| Fp::rand(&mut rng)).collect();
                let f8: Vec<Fp> = v8.iter().map(|&x| from_i8(x)).collect();
                let f32: Vec<Fp> = v32.iter().map(|&x| from_i32(x)).collect();
                let expected = naive_eval(&f, &r);
                assert_eq!(evaluate_padded(&f, &r), expected);
                assert_eq!(evaluate_i8(&v8, &r), naive_eval(&f8, &r));
                assert_eq!(evaluate_i32(&v32, &r), naive_eval(&f32, &r));
                assert_eq!(DenseMle::from_padded(f, num_vars).evaluate(&r), expected);
            }
        }
    }

    #[test]
    fn binding_variables_one_by_one_is_evaluation() {
        let mut rng = ChaCha20Rng::seed_from_u64(6);
        for num_vars in [1usize, 3, 12, 14] {
            let evals: Vec<Fp> = (0..1 << num_vars).map(|_| Fp::rand(&mut rng)).collect();
            let r: Vec<Fp> = (0..num_vars).map(|_| Fp::rand(&mut rng)).collect();
            let mut f = DenseMle::new(evals.clone());
            let sum: Fp = evals.iter().sum();
            assert_eq!(f.sum(), sum);
            for ri in &r {
                f.fix_first_var(*ri);
            }
            assert_eq!(f.num_vars(), 0);
            assert_eq!(f.evals()[0], naive_eval(&evals, &r));
        }
    }

    #[test]
    #[should_panic(expected = "power-of-two")]
    fn non_power_of_two_table_is_refused() {
        DenseMle::new(vec![Fp::zero(); 3]);
    }

    #[test]
    #[should_panic(expected = "do not fit")]
    fn too_many_values_for_the_point_are_refused() {
        evaluate_i8(&[1, 2, 3], &[Fp::zero()]);
    }
}
