//! gkrnet's Python bindings, the extension module `gkrnet._native` (the package `gkrnet` in
//! `python/gkrnet` re-exports it and adds what is plain Python: the exceptions, `from_torch`).
//!
//! Every call goes into the library in-process: the arrays are copied out of NumPy while the
//! interpreter lock is held, then the lock is released while the library compiles, proves or
//! verifies, on a thread pool of the bindings' own that is rebuilt after `fork` (`pool`).
//! Acceptance is the library's one policy, `gkr::verify_file`.

use pyo3::prelude::*;

mod errors;
mod io;
mod matmul;
mod model;
mod pool;
mod proof;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::Model>()?;
    m.add_class::<model::Commitment>()?;
    m.add_class::<proof::Proof>()?;
    m.add_class::<proof::Verified>()?;
    m.add_function(wrap_pyfunction!(model::compile, m)?)?;
    m.add_function(wrap_pyfunction!(model::commit, m)?)?;
    m.add_function(wrap_pyfunction!(model::default_calibration, m)?)?;
    m.add_function(wrap_pyfunction!(proof::verify, m)?)?;
    m.add_function(wrap_pyfunction!(matmul::matmul_prove, m)?)?;
    m.add_function(wrap_pyfunction!(matmul::matmul_verify, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add("PROTOCOL", gkrnet::gkr::PROTOCOL)?;
    Ok(())
}
