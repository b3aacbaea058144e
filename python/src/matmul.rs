//! `gkrnet.matmul.prove` / `verify`: a standalone proof that C = A·B for int8 matrices.

use crate::errors;
use crate::pool;
use gkrnet::matmul::{self, gemm, Shape};
use numpy::{PyArray1, PyArrayMethods, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

fn shape_of(a: &PyReadonlyArray2<'_, i8>, b: &PyReadonlyArray2<'_, i8>) -> PyResult<Shape> {
    let (&[m, n], &[n2, k]) = (a.shape(), b.shape()) else {
        return Err(errors::input("A and B must be 2-D"));
    };
    if n != n2 {
        return Err(errors::input(format!("inner dimensions differ: A is {m}×{n}, B is {n2}×{k}")));
    }
    if m == 0 || n == 0 || k == 0 {
        return Err(errors::input(format!("empty matrix product {m}×{n} · {n2}×{k}")));
    }
    if n > matmul::MAX_INNER {
        return Err(errors::input(format!(
            "inner dimension {n} is above 2^17 − 1: int32 results could overflow"
        )));
    }
    Ok(Shape { m, n, k })
}

fn row_major<T: numpy::Element + Copy>(a: &numpy::PyReadonlyArray2<'_, T>) -> Vec<T> {
    a.as_array().iter().copied().collect()
}

/// Computes C = A·B (int8 × int8 → int32, exact) and proves it; returns (C, proof bytes).
#[pyfunction]
#[pyo3(signature = (a, b, threads=None))]
pub fn matmul_prove<'py>(
    py: Python<'py>,
    a: PyReadonlyArray2<'py, i8>,
    b: PyReadonlyArray2<'py, i8>,
    threads: Option<i64>,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyBytes>)> {
    let shape = shape_of(&a, &b)?;
    let (av, bv) = (row_major(&a), row_major(&b));
    let done = pool::run(py, threads, || -> Result<(Vec<i32>, Vec<u8>), String> {
        let c = gemm::gemm_i8(&av, &bv, shape.m, shape.n, shape.k).map_err(|e| e.to_string())?;
        let proof = matmul::prove_bytes(&shape, &av, &bv, &c).map_err(|e| e.to_string())?;
        Ok((c, proof))
    })?;
    let (c, proof) = done.map_err(errors::prove)?;
    let c = PyArray1::from_vec(py, c).reshape([shape.m, shape.k])?.into_any();
    Ok((c, PyBytes::new(py, &proof)))
}

/// Verifies a proof that C = A·B; a rejected proof raises `gkrnet.VerifyError`.
#[pyfunction]
#[pyo3(signature = (a, b, c, proof))]
pub fn matmul_verify(
    py: Python<'_>,
    a: PyReadonlyArray2<'_, i8>,
    b: PyReadonlyArray2<'_, i8>,
    c: PyReadonlyArray2<'_, i32>,
    proof: &[u8],
) -> PyResult<()> {
    let shape = shape_of(&a, &b)?;
    if c.shape() != [shape.m, shape.k] {
        return Err(errors::input(format!(
            "C is {:?}, but A·B is {}×{}",
            c.shape(),
            shape.m,
            shape.k
        )));
    }
    let (av, bv, cv) = (row_major(&a), row_major(&b), row_major(&c));
    let verdict = pool::run(py, None, || matmul::verify_bytes(&shape, &av, &bv, &cv, proof))?;
    verdict.map_err(|e| errors::verify(e.to_string()))
}
