//! The portable product: packed, cache-blocked f32 micro-kernel (exact, see the parent module).
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: every index is within the sizes of the prover's own witness and tables, checked where they are built"
)]

use rayon::prelude::*;

/// The operands of C = A·B: row-major A (m×n) and B (n×k), shapes already checked.
#[derive(Clone, Copy, Debug)]
pub(super) struct Operands<'a> {
    pub a: &'a [i8],
    pub b: &'a [i8],
    pub m: usize,
    pub n: usize,
    pub k: usize,
}

// ---------------------------------------------------------------------------------------------
// The blocked product.

/// Rows of the micro-kernel tile.
pub(super) const MR: usize = 2;
/// Columns of the micro-kernel tile.
pub(super) const NR: usize = 16;
/// Depth of one K block. Must stay ≤ 1024 for exactness (2^10 · 2^14 = 2^24, see module docs);
/// 512 keeps a B micro-panel (KC·NR f32 = 32 KiB) in L1.
pub(super) const KC: usize = 512;
/// Upper bound on the rows of A packed per task (MC·KC f32 = 256 KiB, in L2).
pub(super) const MC_MAX: usize = 128;
/// Columns of B packed at once (KC·NC f32 = 8 MiB at most).
pub(super) const NC: usize = 4096;
/// Products with fewer columns than this take the dot-product path ([`few_columns`]); the
/// blocked path pads k up to a multiple of NR = 16, and loses to it below that (measured at
/// m = n = 4096: 13 ms at k = 11 against 19 ms at k = 12 and k = 16).
pub(super) const NARROW_COLS: usize = 16;
/// Products with fewer rows than this take the row-update path ([`few_rows`]).
pub(super) const NARROW_ROWS: usize = 8;
/// Below this many multiply–adds the product runs on the calling thread only.
pub(super) const PARALLEL_MIN_MACS: usize = 1 << 20;

const _: () = assert!(KC <= 1024, "f32 block sums are exact only up to 1024 products");

/// C (m×k, row-major, zero on entry) += A·B for row-major A (m×n) and B (n×k); m, n, k ≥ 1.
pub(super) fn blocked_product(ops: Operands<'_>, c: &mut [i32], parallel: bool, threads: usize) {
    let Operands { a, b, m, n, k } = ops;
    // Enough row blocks to feed every thread a few times, each a multiple of MR rows.
    let mc = if parallel {
        m.div_ceil(4 * threads).next_multiple_of(MR).clamp(MR, MC_MAX)
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
                b_pack.par_chunks_mut(kc * NR).enumerate().for_each(pack_panel);
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
                c.par_chunks_mut(mc * k).enumerate().for_each_init(Vec::new, row_block);
            } else {
                let mut a_pack = Vec::new();
                c.chunks_mut(mc * k).enumerate().for_each(|item| row_block(&mut a_pack, item));
            }
        }
    }
}

/// Packs B[p0..p0+kc, col0..col1] (B row-major with k columns) as f32, `panel[p * NR + j]`,
/// zero-padding to NR columns.
pub(super) fn pack_b_panel(
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
pub(super) fn pack_a_block(
    a: &[i8],
    n: usize,
    i0: usize,
    rows: usize,
    p0: usize,
    kc: usize,
    out: &mut [f32],
) {
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
pub(super) fn few_columns(a: &[i8], b: &[i8], n: usize, k: usize, c: &mut [i32], parallel: bool) {
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
        c.par_chunks_mut(rows_per_task * k).zip(a.par_chunks(rows_per_task * n)).for_each(task);
    } else {
        task((c, a));
    }
}

/// C = A·B when A has fewer than [`NARROW_ROWS`] rows: B is streamed once, row by row, and each of its
/// rows is added, scaled, into every row of C (i32 arithmetic). Parallel over blocks of columns,
/// each computed into its own buffer and copied into C.
pub(super) fn few_rows(ops: Operands<'_>, c: &mut [i32], parallel: bool, threads: usize) {
    let Operands { a, b, m, n, k } = ops;
    // Columns per task: enough tasks to balance the threads, and m·width i32 stays in L2.
    let width = if parallel { k.div_ceil(4 * threads).clamp(256, 4096) } else { k.min(4096) };
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
        (0..k).into_par_iter().step_by(width).map(|j0| (j0, block(j0))).collect()
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
pub(super) fn dot_i8(x: &[i8], y: &[i8]) -> i32 {
    let y = &y[..x.len()];
    let (xc, x_tail) = x.as_chunks::<16>();
    let (yc, y_tail) = y.as_chunks::<16>();
    let mut lanes = [0i32; 16];
    for (xs, ys) in xc.iter().zip(yc) {
        for l in 0..16 {
            lanes[l] += i32::from(xs[l]) * i32::from(ys[l]);
        }
    }
    let tail: i32 = x_tail.iter().zip(y_tail).map(|(&u, &v)| i32::from(u) * i32::from(v)).sum();
    lanes.iter().sum::<i32>() + tail
}

/// The MR×NR tile of (packed A group)·(packed B panel) over their common depth.
#[inline(always)]
pub(super) fn micro_kernel(ap: &[f32], bp: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[0f32; NR]; MR];
    for (x, y) in ap.chunks_exact(MR).zip(bp.chunks_exact(NR)) {
        #[expect(clippy::expect_used, reason = "chunks_exact yields chunks of exactly MR, NR")]
        let (x, y): (&[f32; MR], &[f32; NR]) = (
            x.try_into().expect("chunks_exact yields MR elements"),
            y.try_into().expect("chunks_exact yields NR elements"),
        );
        for r in 0..MR {
            for j in 0..NR {
                acc[r][j] += x[r] * y[j];
            }
        }
    }
    acc
}
