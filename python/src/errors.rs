//! The Python exceptions the bindings raise. They are defined in `gkrnet/_errors.py` (so that
//! `InputError` can also be a `ValueError`); this module looks them up by name when raising.

use pyo3::prelude::*;
use pyo3::types::PyType;

/// An exception of `gkrnet._errors` named `kind` carrying `msg` (or, should that module be
/// unreachable, the import error itself).
fn raise(kind: &str, msg: String) -> PyErr {
    Python::attach(|py| {
        let class = py
            .import("gkrnet._errors")
            .and_then(|m| m.getattr(kind))
            .and_then(|c| c.cast_into::<PyType>().map_err(PyErr::from));
        match class {
            Ok(t) => PyErr::from_type(t, msg),
            Err(e) => e,
        }
    })
}

/// A bad argument: a shape, a dtype, a value out of range, an unknown option.
pub fn input(msg: impl Into<String>) -> PyErr {
    raise("InputError", msg.into())
}

/// A proof the verifier rejects, with the library's reason (the CLI's text).
pub fn verify(msg: impl Into<String>) -> PyErr {
    raise("VerifyError", msg.into())
}

/// Proof bytes that do not decode as a proof file (a subclass of `VerifyError`).
pub fn proof_format(msg: impl Into<String>) -> PyErr {
    raise("ProofFormatError", msg.into())
}

/// A model or commitment file that does not decode.
pub fn format(msg: impl Into<String>) -> PyErr {
    raise("FormatError", msg.into())
}

/// An ONNX model that cannot be imported.
pub fn compile(msg: impl Into<String>) -> PyErr {
    raise("CompileError", msg.into())
}

/// The prover failed (a model the prover cannot handle, a commitment of other weights).
pub fn prove(msg: impl Into<String>) -> PyErr {
    raise("ProveError", msg.into())
}

/// An I/O error on `path`, as Python's `OSError` subclass for its kind.
pub fn io(path: &std::path::Path, e: std::io::Error) -> PyErr {
    let msg = format!("{}: {e}", path.display());
    match e.kind() {
        std::io::ErrorKind::NotFound => pyo3::exceptions::PyFileNotFoundError::new_err(msg),
        std::io::ErrorKind::PermissionDenied => pyo3::exceptions::PyPermissionError::new_err(msg),
        _ => pyo3::exceptions::PyOSError::new_err(msg),
    }
}
