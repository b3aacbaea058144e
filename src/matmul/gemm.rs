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

use rayon::prelude::*;

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
        let out_len = check_shapes(a, b, m, n, k)?;
        let mut c = vec![0i32; out_len];
        if out_len == 0 || n == 0 {
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
    let out_len = check_shapes(a, b, m, n, k)?;
    let mut c = vec![0i32; out_len];
    if out_len == 0 || n == 0 {
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
    let out_len = check_shapes(a, b, m, n, k)?;
    let mut c = vec![0i32; out_len];
    if out_len == 0 || n == 0 {
        return Ok(c);
    }
    let threads = rayon::current_num_threads().max(1);
    let parallel = threads > 1 && m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_MACS;
    if k < NARROW_COLS {
        // Matrix–vector shapes: a blocked tile would be mostly padding.
        few_columns(a, b, n, k, &mut c, parallel);
    } else if m < NARROW_ROWS {
        // Vector–matrix shapes: packing B would cost as much as the product.
        few_rows(a, b, m, n, k, &mut c, parallel, threads);
    } else {
        blocked_product(a, b, m, n, k, &mut c, parallel, threads);
    }
    Ok(c)
}

/// Checks the slices against the shapes and n < 2^17; returns m·k.
fn check_shapes(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Result<usize, GemmError> {
    let mismatch = |operand, rows, cols, len| GemmError::ShapeMismatch {
        operand,
        rows,
        cols,
        len,
    };
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
    Ok(out_len)
}

// ---------------------------------------------------------------------------------------------
// The blocked product.

/// Rows of the micro-kernel tile.
const MR: usize = 2;
/// Columns of the micro-kernel tile.
const NR: usize = 16;
/// Depth of one K block. Must stay ≤ 1024 for exactness (2^10 · 2^14 = 2^24, see module docs);
/// 512 keeps a B micro-panel (KC·NR f32 = 32 KiB) in L1.
const KC: usize = 512;
/// Upper bound on the rows of A packed per task (MC·KC f32 = 256 KiB, in L2).
const MC_MAX: usize = 128;
/// Columns of B packed at once (KC·NC f32 = 8 MiB at most).
const NC: usize = 4096;
/// Products with fewer columns than this take the dot-product path ([`few_columns`]); the
/// blocked path pads k up to a multiple of NR = 16, and loses to it below that (measured at
/// m = n = 4096: 13 ms at k = 11 against 19 ms at k = 12 and k = 16).
const NARROW_COLS: usize = 16;
/// Products with fewer rows than this take the row-update path ([`few_rows`]).
const NARROW_ROWS: usize = 8;
/// Below this many multiply–adds the product runs on the calling thread only.
const PARALLEL_MIN_MACS: usize = 1 << 20;

const _: () = assert!(
    KC <= 1024,
    "f32 block sums are exact only up to 1024 products"
);

/// C (m×k, row-major, zero on entry) += A·B for row-major A (m×n) and B (n×k); m, n, k ≥ 1.
#[allow(clippy::too_many_arguments)]
fn blocked_product(
    a: &[i8],
    b: &[i8],
    m: usize,
    n: usize,
    k: usize,
    c: &mut [i32],
    parallel: bool,
    threads: usize,
) {
    // Enough row blocks to feed every thread a few times, each a multiple of MR rows.
    let mc = if parallel {
        m.div_ceil(4 * threads)
            .next_multiple_of(MR)
            .clamp(MR, MC_MAX)
    } else {
        m.next_multiple_of(MR).min(MC_MAX)
    };
    let mut b_pack: Vec<f32> = Vec::new();
    for j0 in (0..k).step_by(NC) {
        let nc = NC.min(k - j0);
        let panels = nc.div_ceil(NR);
        for p0 in (0..n).step_by(KC) {
            let kc = KC.min(n - p0);
            b_pack.clear();
            b_pack.resize(panels * kc * NR, 0.0);
            let pack_panel = |(jp, panel): (usize, &mut [f32])| {
                let col0 = j0 + jp * NR;
                pack_b_panel(b, k, p0, kc, col0, (j0 + nc).min(col0 + NR), panel)
            };
            if parallel {
                b_pack
                    .par_chunks_mut(kc * NR)
                    .enumerate()
                    .for_each(pack_panel);
            } else {
                b_pack.chunks_mut(kc * NR).enumerate().for_each(pack_panel);
            }
            let b_pack = &b_pack[..];
            // The A buffer is reused across row blocks: a fresh multi-hundred-KiB allocation per
            // block goes through mmap/munmap, whose TLB shootdowns cost more than the packing.
            let row_block = |a_pack: &mut Vec<f32>, (bi, c_rows): (usize, &mut [i32])| {
                let i0 = bi * mc;
                let rows = c_rows.len() / k;
                a_pack.clear();
                a_pack.resize(rows.div_ceil(MR) * MR * kc, 0.0);
                pack_a_block(a, n, i0, rows, p0, kc, a_pack);
                for (jp, bp) in b_pack.chunks_exact(kc * NR).enumerate() {
                    let col0 = j0 + jp * NR;
                    let cols = NR.min(j0 + nc - col0);
                    for (g, ap) in a_pack.chunks_exact(kc * MR).enumerate() {
                        let tile = micro_kernel(ap, bp);
                        let r0 = g * MR;
                        for (r, tile_row) in tile.iter().enumerate().take(rows - r0) {
                            let c_row = &mut c_rows[(r0 + r) * k + col0..][..cols];
                            // Exact: |v| ≤ 2^24 is an integer (see module docs). The first K
                            // block stores rather than adds, so that the first touch of a fresh
                            // (calloc'd) page of C is a write: a read first maps the shared zero
                            // page and the write after it costs a copy-on-write fault and a TLB
                            // shootdown across threads.
                            if p0 == 0 {
                                for (cij, &v) in c_row.iter_mut().zip(tile_row) {
                                    *cij = v as i32;
                                }
                            } else {
                                for (cij, &v) in c_row.iter_mut().zip(tile_row) {
                                    *cij += v as i32;
                                }
                            }
                        }
                    }
                }
            };
            if parallel {
                c.par_chunks_mut(mc * k)
                    .enumerate()
                    .for_each_init(Vec::new, row_block);
            } else {
                let mut a_pack = Vec::new();
                c.chunks_mut(mc * k)
                    .enumerate()
                    .for_each(|item| row_block(&mut a_pack, item));
            }
        }
    }
}

/// Packs B[p0..p0+kc, col0..col1] (B row-major with k columns) as f32, `panel[p * NR + j]`,
/// zero-padding to NR columns.
fn pack_b_panel(
    b: &[i8],
    k: usize,
    p0: usize,
    kc: usize,
    col0: usize,
    col1: usize,
    panel: &mut [f32],
) {
    for (p, dst) in panel.chunks_exact_mut(NR).enumerate().take(kc) {
        let src = &b[(p0 + p) * k + col0..(p0 + p) * k + col1];
        for (d, &v) in dst.iter_mut().zip(src) {
            *d = f32::from(v);
        }
    }
}

/// Packs A[i0..i0+rows, p0..p0+kc] (A row-major with n columns) as f32 in groups of MR rows,
/// `group[p * MR + r]`, zero-padded to a multiple of MR rows.
fn pack_a_block(a: &[i8], n: usize, i0: usize, rows: usize, p0: usize, kc: usize, out: &mut [f32]) {
    for (g, group) in out.chunks_exact_mut(kc * MR).enumerate() {
        let r0 = g * MR;
        for r in 0..MR.min(rows - r0) {
            let src = &a[(i0 + r0 + r) * n + p0..][..kc];
            for (p, &v) in src.iter().enumerate() {
                group[p * MR + r] = f32::from(v);
            }
        }
    }
}

/// C = A·B when B has fewer than [`NARROW_COLS`] columns: each entry is an i32 dot product of a row
/// of A with a row of Bᵀ (k·n bytes, cache-resident), parallel over blocks of rows.
fn few_columns(a: &[i8], b: &[i8], n: usize, k: usize, c: &mut [i32], parallel: bool) {
    let mut bt = vec![0i8; k * n];
    for (p, b_row) in b.chunks_exact(k).enumerate() {
        for (j, &v) in b_row.iter().enumerate() {
            bt[j * n + p] = v;
        }
    }
    let rows_per_task = 64;
    let task = |(c_rows, a_rows): (&mut [i32], &[i8])| {
        for (c_row, a_row) in c_rows.chunks_exact_mut(k).zip(a_rows.chunks_exact(n)) {
            for (cij, bt_row) in c_row.iter_mut().zip(bt.chunks_exact(n)) {
                *cij = dot_i8(a_row, bt_row);
            }
        }
    };
    if parallel {
        c.par_chunks_mut(rows_per_task * k)
            .zip(a.par_chunks(rows_per_task * n))
            .for_each(task);
    } else {
        task((c, a));
    }
}

/// C = A·B when A has fewer than [`NARROW_ROWS`] rows: B is streamed once, row by row, and each of its
/// rows is added, scaled, into every row of C (i32 arithmetic). Parallel over blocks of columns,
/// each computed into its own buffer and copied into C.
#[allow(clippy::too_many_arguments)]
fn few_rows(
    a: &[i8],
    b: &[i8],
    m: usize,
    n: usize,
    k: usize,
    c: &mut [i32],
    parallel: bool,
    threads: usize,
) {
    // Columns per task: enough tasks to balance the threads, and m·width i32 stays in L2.
    let width = if parallel {
        k.div_ceil(4 * threads).clamp(256, 4096)
    } else {
        k.min(4096)
    };
    let block = |j0: usize| -> Vec<i32> {
        let w = width.min(k - j0);
        let mut acc = vec![0i32; m * w];
        for (p, b_row) in b.chunks_exact(k).enumerate() {
            let b_part = &b_row[j0..j0 + w];
            for (i, acc_row) in acc.chunks_exact_mut(w).enumerate() {
                let x = i32::from(a[i * n + p]);
                if x != 0 {
                    for (s, &y) in acc_row.iter_mut().zip(b_part) {
                        *s += x * i32::from(y);
                    }
                }
            }
        }
        acc
    };
    let blocks: Vec<(usize, Vec<i32>)> = if parallel {
        (0..k)
            .into_par_iter()
            .step_by(width)
            .map(|j0| (j0, block(j0)))
            .collect()
    } else {
        (0..k).step_by(width).map(|j0| (j0, block(j0))).collect()
    };
    for (j0, acc) in blocks {
        let w = width.min(k - j0);
        for (c_row, acc_row) in c.chunks_exact_mut(k).zip(acc.chunks_exact(w)) {
            c_row[j0..j0 + w].copy_from_slice(acc_row);
        }
    }
}

/// Σ x[p]·y[p] in i32 (exact for len < 2^17), written so that LLVM vectorises it.
#[inline]
fn dot_i8(x: &[i8], y: &[i8]) -> i32 {
    let y = &y[..x.len()];
    let (xc, x_tail) = x.as_chunks::<16>();
    let (yc, y_tail) = y.as_chunks::<16>();
    let mut lanes = [0i32; 16];
    for (xs, ys) in xc.iter().zip(yc) {
        for l in 0..16 {
            lanes[l] += i32::from(xs[l]) * i32::from(ys[l]);
        }
    }
    let tail: i32 = x_tail
        .iter()
        .zip(y_tail)
        .map(|(&u, &v)| i32::from(u) * i32::from(v))
        .sum();
    lanes.iter().sum::<i32>() + tail
}

/// The MR×NR tile of (packed A group)·(packed B panel) over their common depth.
#[inline(always)]
fn micro_kernel(ap: &[f32], bp: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0f32; NR]; MR];
    for (x, y) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)) {
        let x: &[f32; MR] = x.try_into().expect("chunks_exact yields MR elements");
        let y: &[f32; NR] = y.try_into().expect("chunks_exact yields NR elements");
        for r in 0..MR {
            for j in 0..NR {
                acc[r][j] += x[r] * y[j];
            }
        }
    }
    acc
}

/// tract-linalg backend: kernel selection, packing, and running on rayon's pool.
#[cfg(feature = "gemm")]
#[allow(unsafe_code)]
mod tract {
    use super::GemmError;
    use rayon::prelude::*;
    use tract_data::internal::{DatumType, Tensor};
    use tract_linalg::mmm::{AsInputValue, FusedSpec, MMMInputValue, MatMatMul, Query};
    use tract_linalg::MmmDispatch;

    fn backend(e: impl std::fmt::Display) -> GemmError {
        GemmError::Backend(e.to_string())
    }

    /// Products with fewer columns than this (matrix–vector) go to the portable path: at
    /// m = n = 4096 it measured 1.4 ms against 2.0–6.2 ms here for k = 1, 2.6 against 7 ms for
    /// k = 2, but 3.9 against 2.4 ms for k = 3.
    pub(super) const MIN_COLS: usize = 3;
    /// Products with fewer rows than this go to the portable path, which streams B once instead
    /// of packing it: at n = k = 4096 it takes ≈2.6 ms per row there against ≈12.5 ms here
    /// whatever m ≤ 16 (the packing of B).
    pub(super) const MIN_ROWS: usize = 5;
    /// Below this many multiply–adds one chunk runs on the calling thread.
    const PARALLEL_MIN_MACS: usize = 1 << 22;
    /// Blocks of rows and columns are made of whole 16×16 AMX tiles.
    const TILE: usize = 16;
    /// The inner dimension is padded to a multiple of this (one AMX K step); see `gemm`.
    const K_ALIGN: usize = 64;

    /// The i8×i8→i32 kernel tract's dispatch picks for (rows×inner)·(inner×cols), and the index
    /// of its i8/i8 packing.
    fn pick(
        rows: usize,
        inner: usize,
        cols: usize,
    ) -> Result<(Box<dyn MatMatMul>, usize), GemmError> {
        // tract's names: m = rows, k = inner, n = cols.
        let query = Query::plain(DatumType::I32, Some(rows), Some(inner), Some(cols));
        let (mmm, packing, extractor) = MmmDispatch::native()
            .pick(&query)
            .ok_or_else(|| backend("tract-linalg has no i8×i8→i32 kernel for this CPU"))?;
        if extractor.is_some() {
            return Err(backend(format!(
                "tract-linalg picked {}, which needs a panel extractor",
                mmm.name()
            )));
        }
        Ok((mmm, packing))
    }

    /// A zero rows×cols int8 tensor whose rows start with the slices of `src` (shorter slices,
    /// or fewer of them, leave zeros).
    fn tensor_from_rows<'r>(
        src: impl Iterator<Item = &'r [i8]>,
        rows: usize,
        cols: usize,
    ) -> Result<Tensor, GemmError> {
        let mut t = Tensor::zero::<i8>(&[rows, cols]).map_err(backend)?;
        {
            let mut plain = t.try_as_plain_ram_mut().map_err(backend)?;
            let dst = plain.as_slice_mut::<i8>().map_err(backend)?;
            for (d, s) in dst.chunks_exact_mut(cols).zip(src) {
                d[..s.len()].copy_from_slice(s);
            }
        }
        Ok(t)
    }

    /// Packs `t` as the kernel's A (rows = m, cols = inner) or B (rows = inner, cols = n).
    fn pack(
        mmm: &dyn MatMatMul,
        packing: usize,
        t: &Tensor,
        is_a: bool,
    ) -> Result<Box<dyn MMMInputValue>, GemmError> {
        let (pack_a, pack_b) = &mmm.packings()[packing];
        if is_a {
            pack_a.prepare_one(t, 1, 0)
        } else {
            pack_b.prepare_one(t, 0, 1)
        }
        .map_err(backend)
    }

    /// Packed A · packed B (rows×cols), stored into `out`: one row-major slice of `cols` values
    /// per row of the product.
    fn run_into(
        mmm: &dyn MatMatMul,
        packing: usize,
        pa: &dyn MMMInputValue,
        pb: &dyn MMMInputValue,
        out: &mut [&mut [i32]],
    ) -> Result<(), GemmError> {
        let rows = out.len();
        let cols = out.first().map_or(0, |row| row.len());
        let mut c = Tensor::zero::<i32>(&[rows, cols]).map_err(backend)?;
        // SAFETY: `c` is a rows×cols i32 tensor that lives until after `run` returns, and the
        // store spec is the kernel's own view of its axes 0 and 1, so the store covers exactly
        // the rows×cols output `run(rows, cols)` writes. `pa` and `pb` were packed by this
        // kernel's `packing` formats from rows×inner and inner×cols matrices (same inner), which
        // is what `AddMatMul { packing }` reads; tract re-checks the formats in debug builds.
        // The inner dimension is a multiple of 64 (see `gemm`), so the AMX kernels' 64-deep
        // tile loads stay inside the packed panels.
        unsafe {
            let store = mmm.c_view(Some(0), Some(1)).wrap(&c.view_mut());
            let ops = [
                FusedSpec::AddMatMul {
                    a: AsInputValue::Borrowed(pa),
                    b: AsInputValue::Borrowed(pb),
                    packing,
                },
                FusedSpec::Store(store),
            ];
            mmm.run(rows, cols, &ops).map_err(backend)?;
        }
        let plain = c.try_as_plain_ram().map_err(backend)?;
        let values = plain.as_slice::<i32>().map_err(backend)?;
        for (dst, src) in out.iter_mut().zip(values.chunks_exact(cols.max(1))) {
            dst.copy_from_slice(src);
        }
        Ok(())
    }

    /// `c` = A·B for row-major A (m×n) and B (n×k); m, n, k ≥ 1, shapes checked, n < 2^17.
    ///
    /// The product is cut into a grid of row blocks × column blocks (whole 16×16 tiles, about
    /// 2 per thread along each axis that is long enough). The A row blocks and the B column blocks
    /// are packed in parallel, then every grid cell runs in parallel and stores its own part of C.
    /// Packing B in parallel matters: tract's packers are scalar loops, ≈30 ms for a 4096×4096 B.
    pub(super) fn gemm(
        a: &[i8],
        b: &[i8],
        m: usize,
        n: usize,
        k: usize,
        c: &mut [i32],
    ) -> Result<(), GemmError> {
        let threads = rayon::current_num_threads().max(1);
        let parallel = threads > 1 && m.saturating_mul(n).saturating_mul(k) >= PARALLEL_MIN_MACS;
        let target = if parallel { 2 * threads } else { 1 };
        let rows_per = m
            .div_ceil(target.min(m.div_ceil(TILE)))
            .next_multiple_of(TILE)
            .min(m);
        let cols_per = k
            .div_ceil(target.min(k.div_ceil(TILE)))
            .next_multiple_of(TILE)
            .min(k);
        // The inner dimension is zero-padded to a multiple of 64 (zero columns of A, zero rows
        // of B: the product is unchanged). tract-linalg 0.23.9's AMX kernels step through K 64
        // at a time and read B panels (`PackedI8K4`, padded only to a multiple of 4) up to 960
        // bytes past their end; past the end of the packed buffer that read segfaults whenever
        // the next page is unmapped (seen in ~3 of 4 runs of the matmul tests). With K a
        // multiple of 64 every panel is exactly as long as the kernel reads.
        let inner = n.next_multiple_of(K_ALIGN);
        let (mmm, packing) = pick(rows_per, inner, cols_per)?;
        let row_starts: Vec<usize> = (0..m).step_by(rows_per).collect();
        let col_starts: Vec<usize> = (0..k).step_by(cols_per).collect();
        let pack_a = |&r0: &usize| {
            let rows = rows_per.min(m - r0);
            let t = tensor_from_rows(a[r0 * n..(r0 + rows) * n].chunks_exact(n), rows, inner)?;
            pack(&*mmm, packing, &t, true)
        };
        let pack_b = |&j0: &usize| {
            let cols = cols_per.min(k - j0);
            let t = tensor_from_rows(
                b.chunks_exact(k).map(|row| &row[j0..j0 + cols]),
                inner,
                cols,
            )?;
            pack(&*mmm, packing, &t, false)
        };
        type Packed = Vec<Box<dyn MMMInputValue>>;
        let (a_packs, b_packs): (Packed, Packed) = if parallel {
            let (a_packs, b_packs) = rayon::join(
                || {
                    row_starts
                        .par_iter()
                        .map(pack_a)
                        .collect::<Result<Packed, _>>()
                },
                || {
                    col_starts
                        .par_iter()
                        .map(pack_b)
                        .collect::<Result<Packed, _>>()
                },
            );
            (a_packs?, b_packs?)
        } else {
            (
                row_starts.iter().map(pack_a).collect::<Result<_, _>>()?,
                col_starts.iter().map(pack_b).collect::<Result<_, _>>()?,
            )
        };
        // One row block of C: split every row at the column-block boundaries, then run the
        // cells of this row block, each storing into its own segments.
        let row_block = |(c_rows, pa): (&mut [i32], &dyn MMMInputValue)| {
            let mut cells: Vec<Vec<&mut [i32]>> = col_starts.iter().map(|_| Vec::new()).collect();
            for c_row in c_rows.chunks_exact_mut(k) {
                let mut rest = c_row;
                for cell in cells.iter_mut() {
                    let (segment, tail) = rest.split_at_mut(cols_per.min(rest.len()));
                    cell.push(segment);
                    rest = tail;
                }
            }
            let cell = |(mut out, pb): (Vec<&mut [i32]>, &dyn MMMInputValue)| {
                run_into(&*mmm, packing, pa, pb, &mut out)
            };
            if parallel {
                cells
                    .into_par_iter()
                    .zip(b_packs.par_iter().map(|p| &**p))
                    .try_for_each(cell)
            } else {
                cells
                    .into_iter()
                    .zip(b_packs.iter().map(|p| &**p))
                    .try_for_each(cell)
            }
        };
        if parallel {
            c.par_chunks_mut(rows_per * k)
                .zip(a_packs.par_iter().map(|p| &**p))
                .try_for_each(row_block)
        } else {
            c.chunks_mut(rows_per * k)
                .zip(a_packs.iter().map(|p| &**p))
                .try_for_each(row_block)
        }
    }

    /// Name of the kernel `gemm` runs for this shape.
    #[cfg(test)]
    pub(super) fn kernel_name(m: usize, n: usize, k: usize) -> Result<String, GemmError> {
        Ok(pick(m, n, k)?.0.name().to_string())
    }
}

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
            assert!(
                got == want,
                "{name} differs from the naive product at m={m} n={n} k={k}"
            );
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
        for &(m, n, k) in &[
            (1, 1, 1),
            (9, 1031, 13),
            (33, 2500, 40),
            (5, 4000, 3),
            (40, 3000, 50),
        ] {
            for (x, y) in [(-128i8, -128i8), (127, 127), (-128, 127), (127, -128)] {
                check_all(&vec![x; m * n], &vec![y; n * k], m, n, k);
            }
            // Random mixes of only the two extremes.
            let pick = |rng: &mut ChaCha20Rng, len| -> Vec<i8> {
                (0..len)
                    .map(|_| if rng.gen::<bool>() { -128 } else { 127 })
                    .collect()
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
                    assert!(
                        c.iter().all(|&v| v == want),
                        "{name} m={m} k={k} x={x} y={y}"
                    );
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
            assert_eq!(
                f(&a, &b, 1, n, 1),
                Err(GemmError::InnerDimensionTooLarge { n })
            );
        }
    }

    #[test]
    fn shape_mismatch() {
        let a = vec![0i8; 6];
        let b = vec![0i8; 12];
        for f in [gemm_i8, gemm_i8_portable, gemm_i8_naive] {
            assert_eq!(
                f(&a, &b, 2, 4, 4),
                Err(GemmError::ShapeMismatch {
                    operand: "A",
                    rows: 2,
                    cols: 4,
                    len: 6
                })
            );
            assert_eq!(
                f(&a, &b, 2, 3, 5),
                Err(GemmError::ShapeMismatch {
                    operand: "B",
                    rows: 3,
                    cols: 5,
                    len: 12
                })
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
        use tract_linalg::isa::{native, Isa};
        let name = tract::kernel_name(512, 512, 512).expect("tract has an i8 kernel");
        if native().has(Isa::X86_64AmxInt8) {
            assert_eq!(name, "avx512amx_mmm_i32_16x16");
        } else {
            assert!(name.contains("i32"), "{name}");
        }
    }
}
