//! Freivalds' check (1977): the classic O(n²) randomized test of C = A·B that a client could run
//! instead of checking a proof. It is the baseline `gkrnet matmul bench` compares the verifier to.
//!
//! For a uniformly random x ∈ F_q^k with q = 2^61 − 1, C ≠ A·B implies (C − A·B)·x ≠ 0 except with
//! probability at most 1/q = 2^-61 (a non-zero row of C − A·B is a non-zero linear form in x).
//! Cost: one pass over each of A, B and C, i.e. mn + nk + mk multiply-adds, with i128
//! accumulators reduced once per row.

use rand::Rng;
use rayon::prelude::*;

/// The Mersenne prime 2^61 − 1.
pub const Q: u64 = (1 << 61) - 1;

/// x mod q for a non-negative x < 2^122 (two Mersenne folds).
#[inline]
fn reduce(x: u128) -> u64 {
    let folded = (x & Q as u128) + (x >> 61); // < 2^62
    let folded = (folded & Q as u128) + (folded >> 61); // < 2^61 + 2
    let r = folded as u64;
    if r >= Q {
        r - Q
    } else {
        r
    }
}

/// A signed i128 accumulator reduced to [0, q).
#[inline]
fn reduce_signed(x: i128) -> u64 {
    let r = reduce(x.unsigned_abs());
    if x < 0 && r != 0 {
        Q - r
    } else {
        r
    }
}

/// M·x mod q for a row-major rows×cols matrix of small integers and x ∈ [0, q)^cols.
/// Each term is below 2^31·2^61 = 2^92, so up to 2^35 terms fit an i128 without overflow.
fn mat_vec<T: Copy + Into<i64> + Sync>(m: &[T], rows: usize, cols: usize, x: &[u64]) -> Vec<u64> {
    debug_assert_eq!(m.len(), rows * cols);
    if cols == 0 {
        return vec![0; rows];
    }
    m.par_chunks(cols)
        .map(|row| {
            // four independent accumulators break the add-with-carry dependency chain
            let mut acc = [0i128; 4];
            // x has cols entries, a row at most cols
            let x = x.get(..row.len()).unwrap_or(x);
            let ((row_body, row_tail), (x_body, x_tail)) =
                (row.as_chunks::<4>(), x.as_chunks::<4>());
            for (r, v) in row_body.iter().zip(x_body) {
                for ((a, &r), &v) in acc.iter_mut().zip(r).zip(v) {
                    *a += r.into() as i128 * v as i128;
                }
            }
            for ((a, &r), &v) in acc.iter_mut().zip(row_tail).zip(x_tail) {
                *a += r.into() as i128 * v as i128;
            }
            reduce_signed(acc.iter().sum())
        })
        .collect()
}

/// Checks C = A·B with one random vector (error ≤ 2^-61). `true` if the check passes.
///
/// # Panics
/// If the data does not match the shapes (the caller validates them).
pub fn check(
    a: &[i8],
    b: &[i8],
    c: &[i32],
    m: usize,
    n: usize,
    k: usize,
    rng: &mut impl Rng,
) -> bool {
    assert!(
        a.len() == m * n && b.len() == n * k && c.len() == m * k,
        "shapes do not match the data"
    );
    let x: Vec<u64> = (0..k).map(|_| rng.gen_range(0..Q)).collect();
    let bx = mat_vec(b, n, k, &x); // n values in [0, q)
    let abx = mat_vec(a, m, n, &bx);
    let cx = mat_vec(c, m, k, &x);
    abx == cx
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn accepts_true_products_and_rejects_false_ones() {
        let mut rng = ChaCha20Rng::seed_from_u64(40);
        for &(m, n, k) in &[(1usize, 1usize, 1usize), (5, 7, 3), (33, 17, 1), (16, 64, 16)] {
            let a: Vec<i8> = (0..m * n).map(|_| rng.gen()).collect();
            let b: Vec<i8> = (0..n * k).map(|_| rng.gen()).collect();
            let mut c = vec![0i32; m * k];
            for i in 0..m {
                for j in 0..k {
                    c[i * k + j] = (0..n).map(|t| a[i * n + t] as i32 * b[t * k + j] as i32).sum();
                }
            }
            assert!(check(&a, &b, &c, m, n, k, &mut rng));
            for pos in [0, m * k - 1] {
                let mut bad = c.clone();
                bad[pos] -= 1;
                assert!(!check(&a, &b, &bad, m, n, k, &mut rng));
            }
        }
    }

    #[test]
    fn reduction_is_exact_at_the_edges() {
        assert_eq!(reduce(Q as u128), 0);
        assert_eq!(reduce(Q as u128 * Q as u128), 0);
        assert_eq!(reduce_signed(-1), Q - 1);
        assert_eq!(reduce_signed(-(Q as i128)), 0);
        assert_eq!(reduce(((1u128 << 122) - 1) % (Q as u128)), reduce((1u128 << 122) - 1));
    }
}
