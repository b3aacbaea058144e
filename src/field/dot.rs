//! Delayed-reduction dot products Σ fᵢ·wᵢ of field elements with small integer weights.
//!
//! Montgomery form is linear: if fᵢ is stored as aᵢ = fᵢ·R mod p, then Σ aᵢ·wᵢ ≡ (Σ fᵢ·wᵢ)·R, so the
//! integer sum of *representations* times weights is the representation of the dot product. We
//! accumulate each 64-bit limb times the weight in a u128 and reduce once per chunk, instead of one
//! Montgomery multiplication per term.
//!
//! Signed weights are shifted to unsigned ones (w + 2^s ≥ 0) so that every product is a single
//! u64 × u64 → u128 multiplication; the shift is removed at the end with the plain limb sums:
//! Σ aᵢ·wᵢ = Σ aᵢ·(wᵢ + 2^s) − 2^s·Σ aᵢ.
//!
//! Overflow budget (limbs < 2^64, chunks of at most `CHUNK` = 2^16 terms):
//! * int8:  limb·(w + 2^7)  < 2^72, summed over 2^16 terms < 2^88; 2^7·Σ limbs < 2^87;
//! * int32: limb·(w + 2^31) < 2^96, summed over 2^16 terms < 2^112; 2^31·Σ limbs < 2^111.
//!
//! Both fit an i128 with room to spare, so no accumulator can wrap whatever the input.
#![allow(
    clippy::indexing_slicing,
    reason = "verifier-reachable, not yet audited (issue 17): indices follow layouts that Model::new and the decoders bound; to be replaced by checked access"
)]

use super::{from_i32, from_i8, from_montgomery_u128, montgomery_limbs, Fp};
use ark_ff::MontFp;
use rayon::prelude::*;

/// Terms per reduction; bounds the accumulators (see the module docs).
const CHUNK: usize = 1 << 16;

/// Below this many terms a dot product runs on one thread (measured: `benches/field.rs`).
const PAR_THRESHOLD: usize = 1 << 15;

const TWO_POW_64: Fp = MontFp!("18446744073709551616");

/// The element whose Montgomery representation is `v mod p`, for a signed `v`.
#[inline]
fn from_signed_montgomery(v: i128) -> Fp {
    if v >= 0 {
        from_montgomery_u128(v as u128)
    } else {
        -from_montgomery_u128(v.unsigned_abs())
    }
}

/// Reduces the four accumulators of one chunk: Σ aᵢ·(wᵢ + 2^shift) per limb and Σ aᵢ per limb.
#[inline]
fn reduce(acc: [u128; 2], sum: [u128; 2], shift: u32) -> Fp {
    let lo = acc[0] as i128 - ((sum[0] as i128) << shift);
    let hi = acc[1] as i128 - ((sum[1] as i128) << shift);
    from_signed_montgomery(lo) + from_signed_montgomery(hi) * TWO_POW_64
}

/// One chunk of at most `CHUNK` terms, with weights shifted by 2^SHIFT into [0, 2^(SHIFT+1)).
#[inline]
fn chunk_kernel<W: Copy + Into<i64>, const SHIFT: u32>(f: &[Fp], w: &[W]) -> Fp {
    debug_assert!(f.len() <= CHUNK && f.len() == w.len());
    let (mut acc, mut sum) = ([0u128; 2], [0u128; 2]);
    for (x, &wi) in f.iter().zip(w) {
        let [l0, l1] = montgomery_limbs(x);
        let u = (wi.into() + (1i64 << SHIFT)) as u64 as u128;
        acc[0] += l0 as u128 * u;
        acc[1] += l1 as u128 * u;
        sum[0] += l0 as u128;
        sum[1] += l1 as u128;
    }
    reduce(acc, sum, SHIFT)
}

fn dot_by_chunks<W: Sync>(f: &[Fp], w: &[W], kernel: fn(&[Fp], &[W]) -> Fp) -> Fp {
    assert_eq!(f.len(), w.len(), "dot product of vectors of different lengths");
    if f.len() < PAR_THRESHOLD {
        f.chunks(CHUNK).zip(w.chunks(CHUNK)).map(|(a, b)| kernel(a, b)).sum()
    } else {
        // Smaller chunks than CHUNK keep both threads busy on mid-sized vectors.
        let chunk = (f.len() / (4 * rayon::current_num_threads())).clamp(1 << 12, CHUNK);
        f.par_chunks(chunk).zip(w.par_chunks(chunk)).map(|(a, b)| kernel(a, b)).sum()
    }
}

/// Σ fᵢ·wᵢ with int8 weights, reduced once per 2^16 terms.
///
/// # Panics
/// If the lengths differ.
pub fn dot_i8(f: &[Fp], w: &[i8]) -> Fp {
    dot_by_chunks(f, w, chunk_kernel::<i8, 7>)
}

/// Σ fᵢ·wᵢ with int32 weights, reduced once per 2^16 terms.
///
/// # Panics
/// If the lengths differ.
pub fn dot_i32(f: &[Fp], w: &[i32]) -> Fp {
    dot_by_chunks(f, w, chunk_kernel::<i32, 31>)
}

/// Rows per task of [`row_combination_i8`]; bounds each task's column accumulators
/// (rows · 2^72 < 2^128 needs rows < 2^56; we stay far below).
const ROWS_PER_TASK: usize = 1 << 8;

/// Σᵢ wᵢ·M[i][·] for a row-major `rows × cols` int8 matrix M: one field element per column,
/// computed with delayed reduction (every column keeps two u128 limb accumulators; the shift
/// correction 2^7·Σ wᵢ is shared by all columns). This is the MLE of M restricted to a row point
/// when `w` is an eq table: about two u64 multiplies per entry, one reduction per column.
///
/// # Panics
/// If `m.len() != rows · cols` or `w.len() < rows`.
pub fn row_combination_i8(m: &[i8], rows: usize, cols: usize, w: &[Fp]) -> Vec<Fp> {
    assert_eq!(Some(m.len()), rows.checked_mul(cols), "matrix data does not match its shape");
    assert!(w.len() >= rows, "fewer weights than rows");
    if cols == 0 {
        return Vec::new();
    }
    // each task: a band of rows → per-column accumulators and the band's Σ w limbs
    let task = |band: usize| {
        let (start, end) = (band * ROWS_PER_TASK, ((band + 1) * ROWS_PER_TASK).min(rows));
        let mut acc = vec![[0u128; 2]; cols];
        let mut sum = [0u128; 2];
        for x in &w[start..end] {
            let [l0, l1] = montgomery_limbs(x);
            sum[0] += l0 as u128;
            sum[1] += l1 as u128;
        }
        // four rows per sweep: each accumulator is loaded and stored once per four products
        let mut i = start;
        while i + 4 <= end {
            let l: [[u64; 2]; 4] = std::array::from_fn(|t| montgomery_limbs(&w[i + t]));
            let r: [&[i8]; 4] = std::array::from_fn(|t| &m[(i + t) * cols..(i + t + 1) * cols]);
            for (j, a) in acc.iter_mut().enumerate() {
                let u: [u128; 4] = std::array::from_fn(|t| (r[t][j] as i16 + 128) as u128);
                a[0] += l[0][0] as u128 * u[0]
                    + l[1][0] as u128 * u[1]
                    + l[2][0] as u128 * u[2]
                    + l[3][0] as u128 * u[3];
                a[1] += l[0][1] as u128 * u[0]
                    + l[1][1] as u128 * u[1]
                    + l[2][1] as u128 * u[2]
                    + l[3][1] as u128 * u[3];
            }
            i += 4;
        }
        for i in i..end {
            let [l0, l1] = montgomery_limbs(&w[i]);
            let row = &m[i * cols..(i + 1) * cols];
            for (a, &x) in acc.iter_mut().zip(row) {
                let u = (x as i16 + 128) as u128;
                a[0] += l0 as u128 * u;
                a[1] += l1 as u128 * u;
            }
        }
        (acc, sum)
    };
    let merge = |(mut a, mut s): (Vec<[u128; 2]>, [u128; 2]),
                 (b, t): (Vec<[u128; 2]>, [u128; 2])| {
        for (x, y) in a.iter_mut().zip(b) {
            x[0] += y[0];
            x[1] += y[1];
        }
        s[0] += t[0];
        s[1] += t[1];
        (a, s)
    };
    let bands = rows.div_ceil(ROWS_PER_TASK);
    let (acc, sum) = if rows * cols < PAR_THRESHOLD {
        (0..bands).map(task).fold((vec![[0u128; 2]; cols], [0; 2]), merge)
    } else {
        (0..bands).into_par_iter().map(task).reduce(|| (vec![[0u128; 2]; cols], [0; 2]), merge)
    };
    // rows < 2^56, so every accumulator stays below 2^128 and the i128 differences in `reduce`
    // cannot overflow
    acc.into_iter().map(|a| reduce(a, sum, 7)).collect()
}

/// M·w for a row-major `rows × cols` int8 matrix: each row dotted with w[..cols].
///
/// # Panics
/// If `m.len() != rows · cols` or `w.len() < cols`.
pub fn column_combination_i8(m: &[i8], rows: usize, cols: usize, w: &[Fp]) -> Vec<Fp> {
    column_combination::<i8, 7>(m, rows, cols, w, dot_i8)
}

/// M·w for a row-major `rows × cols` int32 matrix; see [`column_combination_i8`].
pub fn column_combination_i32(m: &[i32], rows: usize, cols: usize, w: &[Fp]) -> Vec<Fp> {
    column_combination::<i32, 31>(m, rows, cols, w, dot_i32)
}

fn column_combination<T: Copy + Into<i64> + Sync, const SHIFT: u32>(
    m: &[T],
    rows: usize,
    cols: usize,
    w: &[Fp],
    dot: fn(&[Fp], &[T]) -> Fp,
) -> Vec<Fp> {
    assert_eq!(Some(m.len()), rows.checked_mul(cols), "matrix data does not match its shape");
    assert!(w.len() >= cols, "fewer weights than columns");
    if cols == 0 {
        return vec![Fp::default(); rows];
    }
    let w = &w[..cols];
    if cols > CHUNK {
        return m.par_chunks(cols).map(|row| dot(w, row)).collect();
    }
    // every row meets the same weights: their limb sums (the shift correction) are computed once
    let mut sum = [0u128; 2];
    for x in w {
        let [l0, l1] = montgomery_limbs(x);
        sum[0] += l0 as u128;
        sum[1] += l1 as u128;
    }
    let row_dot = |row: &[T]| {
        let mut acc = [0u128; 2];
        for (x, &v) in w.iter().zip(row) {
            let [l0, l1] = montgomery_limbs(x);
            let u = (v.into() + (1i64 << SHIFT)) as u64 as u128;
            acc[0] += l0 as u128 * u;
            acc[1] += l1 as u128 * u;
        }
        reduce(acc, sum, SHIFT)
    };
    if m.len() < PAR_THRESHOLD {
        m.chunks(cols).map(row_dot).collect()
    } else {
        m.par_chunks(cols).map(row_dot).collect()
    }
}

/// The reference: one field multiplication per term (oracle for tests, baseline for benches).
pub fn dot_i8_naive(f: &[Fp], w: &[i8]) -> Fp {
    assert_eq!(f.len(), w.len(), "dot product of vectors of different lengths");
    f.iter().zip(w).map(|(x, &wi)| *x * from_i8(wi)).sum()
}

/// The reference for int32 weights.
pub fn dot_i32_naive(f: &[Fp], w: &[i32]) -> Fp {
    assert_eq!(f.len(), w.len(), "dot product of vectors of different lengths");
    f.iter().zip(w).map(|(x, &wi)| *x * from_i32(wi)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::UniformRand;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn extreme_field(n: usize) -> Vec<Fp> {
        // the largest representations stress the accumulators
        (0..n).map(|i| -Fp::from(1 + i as u64 % 3)).collect()
    }

    #[test]
    fn delayed_matches_naive_on_random_and_extreme_inputs() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for &n in &[0usize, 1, 2, 3, 17, 1000, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 5] {
            let f: Vec<Fp> = (0..n).map(|_| Fp::rand(&mut rng)).collect();
            let w8: Vec<i8> = (0..n).map(|_| rng.gen()).collect();
            let w32: Vec<i32> = (0..n).map(|_| rng.gen()).collect();
            assert_eq!(dot_i8(&f, &w8), dot_i8_naive(&f, &w8), "n = {n}");
            assert_eq!(dot_i32(&f, &w32), dot_i32_naive(&f, &w32), "n = {n}");
            let big = extreme_field(n);
            let min8 = vec![i8::MIN; n];
            let max8 = vec![i8::MAX; n];
            let min32 = vec![i32::MIN; n];
            let max32 = vec![i32::MAX; n];
            assert_eq!(dot_i8(&big, &min8), dot_i8_naive(&big, &min8));
            assert_eq!(dot_i8(&big, &max8), dot_i8_naive(&big, &max8));
            assert_eq!(dot_i32(&big, &min32), dot_i32_naive(&big, &min32));
            assert_eq!(dot_i32(&big, &max32), dot_i32_naive(&big, &max32));
        }
    }

    #[test]
    fn row_and_column_combinations_match_naive_sums() {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        for &(rows, cols) in
            &[(1usize, 1usize), (3, 5), (300, 7), (7, 300), (600, 130), (1, 70_000)]
        {
            let m8: Vec<i8> = (0..rows * cols).map(|_| rng.gen()).collect();
            let m32: Vec<i32> = (0..rows * cols).map(|_| rng.gen()).collect();
            let wr: Vec<Fp> = (0..rows).map(|_| Fp::rand(&mut rng)).collect();
            let wc: Vec<Fp> = (0..cols).map(|_| Fp::rand(&mut rng)).collect();
            let by_rows = row_combination_i8(&m8, rows, cols, &wr);
            for j in (0..cols).step_by(1 + cols / 17) {
                let column: Vec<i8> = (0..rows).map(|i| m8[i * cols + j]).collect();
                assert_eq!(by_rows[j], dot_i8_naive(&wr, &column));
            }
            let by_cols = column_combination_i8(&m8, rows, cols, &wc);
            let by_cols32 = column_combination_i32(&m32, rows, cols, &wc);
            for i in (0..rows).step_by(1 + rows / 17) {
                assert_eq!(by_cols[i], dot_i8_naive(&wc, &m8[i * cols..(i + 1) * cols]));
                assert_eq!(by_cols32[i], dot_i32_naive(&wc, &m32[i * cols..(i + 1) * cols]));
            }
        }
        // extremes: all −128 and all 127 with the largest representations
        let rows = 1000;
        let big = extreme_field(rows);
        for v in [i8::MIN, i8::MAX] {
            let m = vec![v; rows * 3];
            let expected = dot_i8_naive(&big, &vec![v; rows]);
            assert!(row_combination_i8(&m, rows, 3, &big).iter().all(|x| *x == expected));
        }
    }

    #[test]
    #[should_panic(expected = "different lengths")]
    fn length_mismatch_panics_with_a_message() {
        dot_i8(&[Fp::from(1u64)], &[]);
    }
}
