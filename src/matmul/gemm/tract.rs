//! The tract-linalg backend: kernel selection, packing, and running on rayon's pool.
#![allow(
    clippy::indexing_slicing,
    reason = "prover side: the packed panels are sized by the shapes checked in gemm_i8"
)]
#![allow(unsafe_code)]

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

/// gkrnet's own kernel dispatch: tract's, with AMX int8 where the CPU has it (tract's runtime
/// runs without it; see `crate::tract_isa`).
fn dispatch() -> &'static MmmDispatch {
    static DISPATCH: std::sync::OnceLock<MmmDispatch> = std::sync::OnceLock::new();
    DISPATCH.get_or_init(|| MmmDispatch::for_isa(crate::tract_isa::gemm_isa()))
}

/// The i8×i8→i32 kernel tract's dispatch picks for (rows×inner)·(inner×cols), and the index
/// of its i8/i8 packing.
fn pick(rows: usize, inner: usize, cols: usize) -> Result<(Box<dyn MatMatMul>, usize), GemmError> {
    // tract's names: m = rows, k = inner, n = cols.
    let query = Query::plain(DatumType::I32, Some(rows), Some(inner), Some(cols));
    let (mmm, packing, extractor) = dispatch()
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
    if is_a { pack_a.prepare_one(t, 1, 0) } else { pack_b.prepare_one(t, 0, 1) }.map_err(backend)
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
    let rows_per = m.div_ceil(target.min(m.div_ceil(TILE))).next_multiple_of(TILE).min(m);
    let cols_per = k.div_ceil(target.min(k.div_ceil(TILE))).next_multiple_of(TILE).min(k);
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
        let t = tensor_from_rows(b.chunks_exact(k).map(|row| &row[j0..j0 + cols]), inner, cols)?;
        pack(&*mmm, packing, &t, false)
    };
    type Packed = Vec<Box<dyn MMMInputValue>>;
    let (a_packs, b_packs): (Packed, Packed) = if parallel {
        let (a_packs, b_packs) = rayon::join(
            || row_starts.par_iter().map(pack_a).collect::<Result<Packed, _>>(),
            || col_starts.par_iter().map(pack_b).collect::<Result<Packed, _>>(),
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
            cells.into_par_iter().zip(b_packs.par_iter().map(|p| &**p)).try_for_each(cell)
        } else {
            cells.into_iter().zip(b_packs.iter().map(|p| &**p)).try_for_each(cell)
        }
    };
    if parallel {
        c.par_chunks_mut(rows_per * k).zip(a_packs.par_iter().map(|p| &**p)).try_for_each(row_block)
    } else {
        c.chunks_mut(rows_per * k).zip(a_packs.iter().map(|p| &**p)).try_for_each(row_block)
    }
}

/// Name of the kernel `gemm` runs for this shape.
#[cfg(test)]
pub(super) fn kernel_name(m: usize, n: usize, k: usize) -> Result<String, GemmError> {
    Ok(pick(m, n, k)?.0.name().to_string())
}
