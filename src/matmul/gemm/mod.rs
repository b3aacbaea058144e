//! Exact int8 matrix products: C = A·B with A (m×n) and B (n×k) int8, C int32, all row-major.
//!
//! * [`gemm_i8_naive`] is the reference triple loop.
//! * [`gemm_i8_portable`] is a blocked, multi-threaded (rayon) product in safe Rust, with
//!   separate paths for matrix–vector (k < 16) and vector–matrix (m < 8) shapes.
//! * [`gemm_i8`] is the entry point. With the `gemm` feature (default) it runs tract-linalg's
//!   int8 kernels, except for the thinnest shapes (k < 3 or m < 5), where the portable paths
//!   measured faster; without the feature, the portable product.
//!
//! Measured on the 2-vCPU Xeon VM (AMX-INT8, AVX-512 VNNI), m = n = k, median wall time of
//! `gemm_i8` over 11 runs / `gemm_i8_portable` over 7 runs, both on 2 threads:
//! 512: 0.7 ms / 4.7 ms; 1024: 2.5 ms / 35 ms; 2048: 16–19 ms / 0.27 s; 4096: 0.16 s / 2.1 s
//! (≈430 against ≈32 GMAC/s at the larger sizes).
//!
//! ## The tract-linalg path
//!
//! tract-linalg's dispatch picks the i8×i8→i32 kernel for the shape; on a CPU with AMX-INT8 that
//! is `avx512amx_mmm_i32_16x16` (TDPBSSD, signed×signed, so no bias correction; its 8×8 sibling
//! for products smaller than one 16×16×64 tile), else the AVX-512 VNNI kernels (VPDPBUSD is
//! unsigned×signed: tract adds 128 to A and subtracts 128·ΣB per column, in wrapping i32, which is
//! still exact). Every runnable i8 kernel on the dev machine was checked bit-exact against the
//! naive product, extremes and n = 2^17 − 1 included.
//!
//! Threads: the product is cut into a grid of row blocks × column blocks (whole 16×16 tiles,
//! about 2 per rayon thread along each axis). The A row blocks and B column blocks are packed in
//! parallel, and every grid cell runs in parallel into its own part of C. This measured faster
//! than tract's own `multithread-mm` executor (2048³: 16–19 ms against 20 ms; 4096³: 0.16 s against
//! 0.25 s), and than one block of rows per chunk with B packed once on one thread (4096³: 0.23 s),
//! because tract's packers are scalar loops (≈30 ms for a 4096×4096 B). Running a kernel is
//! `unsafe` in tract-linalg, hence the `unsafe` blocks in `tract`, each with its SAFETY argument.
//!
//! ## Why the portable product computes in f32 and is still exact
//!
//! On the baseline x86-64 target (SSE2, no `-C target-cpu`), LLVM vectorises an f32
//! multiply–add micro-kernel better than any i16/i32 formulation we tried (≈17 vs ≈6–12 GMAC/s
//! per core). The f32 path is exact because of how the blocks are sized:
//! every product of two int8 values is an integer of magnitude ≤ 2^14. A partial sum of at
//! most `KC` ≤ 1024 such products is an integer of magnitude ≤ 2^24, and f32 represents
//! every integer of magnitude ≤ 2^24 exactly. So no multiplication or addition ever rounds,
//! whatever the summation order, and the conversion of each block sum to i32 is exact. Block sums
//! are then added in i32, which cannot overflow because n < 2^17 gives |C| ≤ (2^17 − 1)·2^14 <
//! 2^31.

/// Largest inner dimension accepted: an i32 sum of n products of two int8 values is exact (no
/// overflow) for n < 2^17, since |a·b| ≤ 2^14.
pub const MAX_INNER_DIM: usize = 1 << 17;

/// Why a product could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GemmError {
    /// A slice's length does not match the shape it is supposed to have, or the output would not
    /// fit in memory (`operand` "C").
    #[error("{operand} should be {rows}×{cols} but has {len} elements")]
    ShapeMismatch {
        /// "A", "B" or "C".
        operand: &'static str,
        rows: usize,
        cols: usize,
        len: usize,
    },
    /// n ≥ 2^17: an i32 accumulator of n products of two int8 could overflow.
    #[error("inner dimension n = {n} is too large: int8 products summed in i32 are exact only for n < 2^17")]
    InnerDimensionTooLarge { n: usize },
    /// The optimized backend failed.
    #[error("GEMM backend failed: {0}")]
    Backend(String),
}

/// C = A·B for row-major A (m×n, int8), B (n×k, int8); C is row-major m×k, int32, exact.
/// Errors if n >= 2^17 (an i32 accumulator of n products of two int8 could overflow), or if the
/// slice lengths do not match the shapes.
///
///
/// With the `gemm` feature this runs tract-linalg's kernels (AMX / AVX-512 VNNI where the CPU has
/// them) on rayon's pool; without it, [`gemm_i8_portable`].
pub fn gemm_i8(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Result<Vec<i32>, GemmError> {
    #[cfg(feature = "gemm")]
    {
        let mut c = zero_output(a, b, m, n, k)?;
        if c.is_empty() || n == 0 {
            return Ok(c);
        }
        if k < tract::MIN_COLS || m < tract::MIN_ROWS {
            // Shapes where tract's packing and 16×16 tile padding cost more than the product.
            return gemm_i8_portable(a, b, m, n, k);
        }
        tract::gemm(a, b, m, n, k, &mut c)?;
        Ok(c)
    }
    #[cfg(not(feature = "gemm"))]
    {
        gemm_i8_portable(a, b, m, n, k)
    }
}

/// The plain reference: triple loop with i32 accumulation (used by tests and as a fallback).
pub fn gemm_i8_naive(
    a: &[i8],
    b: &[i8],
    m: usize,
    n: usize,
    k: usize,
) -> Result<Vec<i32>, GemmError> {
    let mut c = zero_output(a, b, m, n, k)?;
    if c.is_empty() || n == 0 {
        return Ok(c);
    }
    for (c_row, a_row) in c.chunks_exact_mut(k).zip(a.chunks_exact(n)) {
        for (&x, b_row) in a_row.iter().zip(b.chunks_exact(k)) {
            let x = i32::from(x);
            for (cij, &y) in c_row.iter_mut().zip(b_row) {
                *cij += x * i32::from(y);
            }
        }
    }
    Ok(c)
}

/// The pure-Rust product: packed, cache-blocked, parallel (rayon) over blocks of rows, or of
/// columns when A has few rows. Exact (see the module documentation for why its f32
/// micro-kernel never rounds). Same contract as [`gemm_i8`].
pub fn gemm_i8_portable(
    a: &[i8],
    b: &[i8],
    m: usize,
    n: usize,
    k: usize,
) -> Result<Vec<i32>, GemmError> {
    let mut c = zero_output(a, b, m, n, k)?;
    if c.is_empty() || n == 0 {
        return Ok(c);
    }
    let threads = rayon::current_num_threads().max(1);
    let parallel = threads > 1 && m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_MACS;
    if k < NARROW_COLS {
        // Matrix–vector shapes: a blocked tile would be mostly padding.
        few_columns(a, b, n, k, &mut c, parallel);
    } else if m < NARROW_ROWS {
        // Vector–matrix shapes: packing B would cost as much as the product.
        few_rows(Operands { a, b, m, n, k }, &mut c, parallel, threads);
    } else {
        blocked_product(Operands { a, b, m, n, k }, &mut c, parallel, threads);
    }
    Ok(c)
}

/// Checks the slices against the shapes and n < 2^17; returns the zeroed m×k output.
fn zero_output(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Result<Vec<i32>, GemmError> {
    let mismatch = |operand, rows, cols, len| GemmError::ShapeMismatch { operand, rows, cols, len };
    if m.checked_mul(n) != Some(a.len()) {
        return Err(mismatch("A", m, n, a.len()));
    }
    if n.checked_mul(k) != Some(b.len()) {
        return Err(mismatch("B", n, k, b.len()));
    }
    if n >= MAX_INNER_DIM {
        return Err(GemmError::InnerDimensionTooLarge { n });
    }
    // m·k can only overflow when n = 0 (otherwise it is at most |A|·|B|).
    let out_len = m.checked_mul(k).ok_or(mismatch("C", m, k, 0))?;
    if out_len > isize::MAX as usize / std::mem::size_of::<i32>() {
        return Err(mismatch("C", m, k, 0));
    }
    Ok(vec![0i32; out_len])
}

mod portable;
#[cfg(feature = "gemm")]
mod tract;

use portable::*;

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn random(rng: &mut ChaCha20Rng, len: usize) -> Vec<i8> {
        (0..len).map(|_| rng.gen::<i8>()).collect()
    }

    type Gemm = fn(&[i8], &[i8], usize, usize, usize) -> Result<Vec<i32>, GemmError>;
    const IMPLS: [(&str, Gemm); 2] = [("gemm_i8", gemm_i8), ("gemm_i8_portable", gemm_i8_portable)];

    fn check_all(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) {
        let want = gemm_i8_naive(a, b, m, n, k).expect("valid shapes");
        assert_eq!(want.len(), m * k);
        for (name, f) in IMPLS {
            let got = f(a, b, m, n, k).expect("valid shapes");
            assert!(got == want, "{name} differs from the naive product at m={m} n={n} k={k}");
        }
    }

    #[test]
    fn naive_small_known_values() {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
        let c = gemm_i8_naive(&[1, 2, 3, 4], &[5, 6, 7, 8], 2, 2, 2).expect("valid shapes");
        assert_eq!(c, vec![19, 22, 43, 50]);
        let c = gemm_i8(&[1, 2, 3, 4], &[5, 6, 7, 8], 2, 2, 2).expect("valid shapes");
        assert_eq!(c, vec![19, 22, 43, 50]);
    }

    #[test]
    fn random_shapes_match_naive() {
        let mut rng = ChaCha20Rng::seed_from_u64(0x6e6d6d);
        let fixed: &[(usize, usize, usize)] = &[
            (1, 1, 1),
            (1, 7, 1),
            (5, 3, 1),
            (1, 3, 5),
            (2, 2, 2),
            (3, 5, 7),
            (4, 12, 12),
            (5, 13, 13),
            (17, 33, 9),
            (64, 64, 64),
            (100, 1, 100),
            (257, 129, 65),
            (65, 129, 257),
            (1, 2000, 1),
            (1, 1500, 300),
            (300, 1500, 1),
            (3, 1025, 700),
            (129, 1537, 31),
            (200, 300, 4200),
            // Large enough to run in parallel on every path: few columns, few rows, blocked.
            (2000, 1000, 3),
            (5000, 700, 1),
            (3, 2000, 1000),
            (1, 1200, 5000),
            (7, 999, 1001),
            (8, 1500, 2000),
            (9, 1100, 8),
        ];
        for &(m, n, k) in fixed {
            let a = random(&mut rng, m * n);
            let b = random(&mut rng, n * k);
            check_all(&a, &b, m, n, k);
        }
        for _ in 0..40 {
            let m = rng.gen_range(1..80);
            let n = rng.gen_range(1..600);
            let k = rng.gen_range(1..80);
            let a = random(&mut rng, m * n);
            let b = random(&mut rng, n * k);
            check_all(&a, &b, m, n, k);
        }
    }

    #[test]
    fn extremes_match_naive() {
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        for &(m, n, k) in &[(1, 1, 1), (9, 1031, 13), (33, 2500, 40), (5, 4000, 3), (40, 3000, 50)]
        {
            for (x, y) in [(-128i8, -128i8), (127, 127), (-128, 127), (127, -128)] {
                check_all(&vec![x; m * n], &vec![y; n * k], m, n, k);
            }
            // Random mixes of only the two extremes.
            let pick = |rng: &mut ChaCha20Rng, len| -> Vec<i8> {
                (0..len).map(|_| if rng.gen::<bool>() { -128 } else { 127 }).collect()
            };
            let (a, b) = (pick(&mut rng, m * n), pick(&mut rng, n * k));
            check_all(&a, &b, m, n, k);
        }
    }

    #[test]
    fn largest_inner_dimension_is_exact() {
        // n = 2^17 − 1, every product (−128)·(−128) = 2^14: C = (2^17 − 1)·2^14, just below 2^31;
        // with (−128)·127 it is −(2^17 − 1)·16256. One shape per portable path (few columns, few
        // rows, blocked), and one the tract path splits across threads.
        let n = MAX_INNER_DIM - 1;
        for (m, k) in [(2, 3), (3, 16), (8, 16), (64, 16)] {
            for (x, y) in [(-128i8, -128i8), (-128, 127)] {
                let (a, b) = (vec![x; m * n], vec![y; n * k]);
                let want = (n as i64 * i64::from(x) * i64::from(y)) as i32;
                for (name, f) in IMPLS {
                    let c = f(&a, &b, m, n, k).expect("n < 2^17 is accepted");
                    assert!(c.iter().all(|&v| v == want), "{name} m={m} k={k} x={x} y={y}");
                }
                assert_eq!(gemm_i8_naive(&a, &b, m, n, k), Ok(vec![want; m * k]));
            }
        }
    }

    #[test]
    fn inner_dimension_too_large() {
        let n = MAX_INNER_DIM;
        let (a, b) = (vec![1i8; n], vec![1i8; n]);
        for f in [gemm_i8, gemm_i8_portable, gemm_i8_naive] {
            assert_eq!(f(&a, &b, 1, n, 1), Err(GemmError::InnerDimensionTooLarge { n }));
        }
    }

    #[test]
    fn shape_mismatch() {
        let a = vec![0i8; 6];
        let b = vec![0i8; 12];
        for f in [gemm_i8, gemm_i8_portable, gemm_i8_naive] {
            assert_eq!(
                f(&a, &b, 2, 4, 4),
                Err(GemmError::ShapeMismatch { operand: "A", rows: 2, cols: 4, len: 6 })
            );
            assert_eq!(
                f(&a, &b, 2, 3, 5),
                Err(GemmError::ShapeMismatch { operand: "B", rows: 3, cols: 5, len: 12 })
            );
            assert!(f(&a, &b, 2, 3, 4).is_ok());
            // A shape whose element count overflows usize.
            assert!(matches!(
                f(&a, &b, usize::MAX, 2, 1),
                Err(GemmError::ShapeMismatch { operand: "A", .. })
            ));
            // n = 0 with an output too large to allocate.
            assert!(matches!(
                f(&[], &[], usize::MAX / 2, 0, 4),
                Err(GemmError::ShapeMismatch { operand: "C", .. })
            ));
        }
    }

    #[test]
    fn empty_dimensions() {
        for f in [gemm_i8, gemm_i8_portable, gemm_i8_naive] {
            // n = 0: C is all zeros.
            assert_eq!(f(&[], &[], 3, 0, 4), Ok(vec![0; 12]));
            assert_eq!(f(&[], &[], 1, 0, 1), Ok(vec![0]));
            // m = 0 or k = 0: C is empty.
            assert_eq!(f(&[], &[1, 2, 3], 0, 3, 1), Ok(vec![]));
            assert_eq!(f(&[1, 2, 3], &[], 1, 3, 0), Ok(vec![]));
            assert_eq!(f(&[], &[], 0, 0, 0), Ok(vec![]));
        }
    }

    /// On a CPU with AMX-INT8 the tract path runs the AMX 16×16 kernel for large products.
    #[cfg(all(feature = "gemm", target_arch = "x86_64"))]
    #[test]
    fn tract_picks_amx_where_available() {
        use tract_linalg::isa::Isa;
        let name = tract::kernel_name(512, 512, 512).expect("tract has an i8 kernel");
        if crate::tract_isa::gemm_isa().has(Isa::X86_64AmxInt8) {
            assert_eq!(name, "avx512amx_mmm_i32_16x16");
        } else {
            assert!(name.contains("i32"), "{name}");
        }
    }
}
