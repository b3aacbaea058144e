//! Reading and writing 2-D integer `.npy` files (through `npyz`), with errors that name the file,
//! the dtype and the shape.

use anyhow::{bail, Context, Result};
use npyz::{DType, Order, TypeChar, WriterBuilder};
use std::fs::File;
use std::io::{BufReader, BufWriter};
use std::path::Path;

/// A row-major matrix read from a file.
#[derive(Debug)]
pub struct Matrix<T> {
    pub data: Vec<T>,
    pub rows: usize,
    pub cols: usize,
}

/// Reads a 2-D array of signed integers of `bytes` bytes per entry.
fn read<T: npyz::Deserialize>(path: &Path, bytes: u64, name: &str) -> Result<Matrix<T>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    if let Err(why) = gkrnet::npy::check_shape(path) {
        bail!("{}: {why}", path.display());
    }
    let npy = npyz::NpyFile::new(BufReader::new(file))
        .with_context(|| format!("{} is not a valid .npy file", path.display()))?;
    match npy.dtype() {
        DType::Plain(ts) if ts.type_char() == TypeChar::Int && ts.size_field() == bytes => {}
        DType::Plain(ts) => bail!("{} has dtype {ts}, expected {name}", path.display()),
        other => bail!("{} has a structured dtype {other:?}, expected {name}", path.display()),
    }
    if npy.order() == Order::Fortran {
        bail!(
            "{} is stored in Fortran order; save it with numpy.ascontiguousarray",
            path.display()
        );
    }
    let shape = npy.shape().to_vec();
    let [rows, cols] = shape[..] else {
        bail!(
            "{} has shape {shape:?}: a 2-D matrix is expected (reshape vectors to n×1)",
            path.display()
        );
    };
    let (rows, cols) = (usize::try_from(rows)?, usize::try_from(cols)?);
    let Some(len) = rows.checked_mul(cols) else {
        bail!("{}: shape {rows}×{cols} has more elements than a usize counts", path.display());
    };
    let data: Vec<T> =
        npy.into_vec().with_context(|| format!("cannot read the data of {}", path.display()))?;
    if data.len() != len {
        bail!(
            "{} holds {} entries, its shape {rows}×{cols} needs {len}",
            path.display(),
            data.len()
        );
    }
    Ok(Matrix { data, rows, cols })
}

pub fn read_i8(path: &Path) -> Result<Matrix<i8>> {
    read(path, 1, "int8")
}

pub fn read_i32(path: &Path) -> Result<Matrix<i32>> {
    read(path, 4, "int32")
}

/// Writes a matrix as a 2-D C-ordered array of its element type (int8 → `|i1`, int32 → `<i4`).
pub fn write<T: npyz::AutoSerialize + Copy>(path: &Path, m: &Matrix<T>) -> Result<()> {
    let file = File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = npyz::WriteOptions::new()
        .default_dtype()
        .shape(&[m.rows as u64, m.cols as u64])
        .writer(BufWriter::new(file))
        .begin_nd()
        .with_context(|| format!("cannot write {}", path.display()))?;
    writer.extend(m.data.iter().copied())?;
    writer.finish().with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
