//! `gkrnet.Proof`, `gkrnet.verify` and `gkrnet.Verified`.

use crate::errors;
use crate::io::{self, arrays, model_input};
use crate::model::{write_file, Commitment, Model};
use crate::pool;
use gkrnet::error::hex;
use gkrnet::gkr::{self, KeyRef, Policy, ProofFile};
use pyo3::prelude::*;
use pyo3::types::PyBytes;
use std::path::PathBuf;
use std::time::Instant;

/// A proof of one inference: the proof file a verifier reads (the model's digest, the advice
/// mode, the output's shape and the proof). It exposes no output: only `gkrnet.verify` yields
/// one.
#[pyclass(module = "gkrnet", frozen)]
#[derive(Debug)]
pub struct Proof {
    file: ProofFile,
    bytes: Vec<u8>,
    seconds: Option<f64>,
}

impl Proof {
    pub(crate) fn new(file: ProofFile, seconds: Option<f64>) -> Self {
        let bytes = file.encode();
        Proof { file, bytes, seconds }
    }

    fn decode(data: Vec<u8>, shown: &str) -> PyResult<Proof> {
        match ProofFile::decode(&data) {
            Ok(file) => Ok(Proof { file, bytes: data, seconds: None }),
            Err(e) => Err(errors::proof_format(format!("{shown}: {e}"))),
        }
    }
}

#[pymethods]
impl Proof {
    /// The proof file's bytes (the `.gkr` format the CLI reads and writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.bytes)
    }

    /// Decodes a proof file; bytes that are not one raise `gkrnet.ProofFormatError` (a
    /// `gkrnet.VerifyError`) naming the byte offset.
    #[staticmethod]
    fn from_bytes(data: Vec<u8>) -> PyResult<Proof> {
        Proof::decode(data, "the proof")
    }

    fn save(&self, path: PathBuf) -> PyResult<()> {
        write_file(&path, &self.bytes)
    }

    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<Proof> {
        let data = std::fs::read(&path).map_err(|e| errors::io(&path, e))?;
        Proof::decode(data, &path.display().to_string())
    }

    /// The digest of the model (or commitment) the proof claims to be of (64 hex digits).
    #[getter]
    fn digest(&self) -> String {
        hex(&self.file.digest)
    }

    /// "clear", "provable" or "conjectured".
    #[getter]
    fn advice(&self) -> String {
        self.file.advice.name()
    }

    /// The root of the model commitment the weights were opened against, if any.
    #[getter]
    fn weights_root(&self) -> Option<String> {
        self.file.weights_root.map(|r| hex(&r))
    }

    /// The proof file's size in bytes.
    #[getter]
    fn size(&self) -> usize {
        self.bytes.len()
    }

    /// Seconds the prover took (None for a loaded proof).
    #[getter]
    fn prove_seconds(&self) -> Option<f64> {
        self.seconds
    }

    fn __len__(&self) -> usize {
        self.bytes.len()
    }

    fn __repr__(&self) -> String {
        format!(
            "gkrnet.Proof(digest={}, advice={:?}, size={})",
            hex(&self.file.digest),
            self.file.advice.name(),
            self.bytes.len()
        )
    }
}

/// A verified inference: the output the proof establishes and what it was checked against.
#[pyclass(module = "gkrnet", frozen)]
#[derive(Debug)]
pub struct Verified {
    /// The first (or only) output, dequantized, in its shape (`numpy.ndarray`).
    #[pyo3(get)]
    output: Py<PyAny>,
    /// Every output by name (`dict[str, numpy.ndarray]`).
    #[pyo3(get)]
    outputs: Py<PyAny>,
    /// The proven integers, flat (`numpy.ndarray` of int64).
    #[pyo3(get)]
    output_int: Py<PyAny>,
    /// The first output's class (argmax per row; one int for one row), or its indices.
    #[pyo3(get)]
    predicted: Py<PyAny>,
    /// Whether a softmax of the source model was applied to the output outside the proof.
    #[pyo3(get)]
    softmax_applied: bool,
    /// The verifier key's digest (the model's, or the commitment's), 64 hex digits.
    #[pyo3(get)]
    digest: String,
    /// The commitment's root when the weights were opened against one.
    #[pyo3(get)]
    root: Option<String>,
    /// blake3 of the input's int8 codes (64 hex digits).
    #[pyo3(get)]
    input_digest: String,
    /// The proof's advice mode: "clear", "provable" or "conjectured".
    #[pyo3(get)]
    mode: String,
    /// Seconds the verifier took.
    #[pyo3(get)]
    verify_seconds: f64,
}

#[pymethods]
impl Verified {
    fn __repr__(&self, py: Python<'_>) -> String {
        format!(
            "gkrnet.Verified(digest={}, mode={:?}, predicted={}, output={})",
            self.digest,
            self.mode,
            self.predicted.bind(py),
            self.output.bind(py)
        )
    }
}

/// Verifies `proof` of the inference on `x` against `key`: a `Model` (the verifier holds the
/// weights) or a `Commitment`. Returns `Verified`; a rejected proof raises `gkrnet.VerifyError`
/// with the library's reason, a bad input `gkrnet.InputError`. `expect_digest` (64 hex digits)
/// is the digest the model's owner published; `allow_conjectured` accepts conjectured-security
/// commitment parameters. Runs the library's one acceptance policy, with the interpreter lock
/// released.
#[pyfunction]
#[pyo3(signature = (key, x, proof, expect_digest=None, allow_conjectured=false, threads=None))]
pub fn verify(
    py: Python<'_>,
    key: &Bound<'_, PyAny>,
    x: &Bound<'_, PyAny>,
    proof: &Bound<'_, PyAny>,
    expect_digest: Option<&str>,
    allow_conjectured: bool,
    threads: Option<i64>,
) -> PyResult<Verified> {
    let proof: PyRef<'_, Proof> = match proof.cast::<Proof>() {
        Ok(p) => p.borrow(),
        Err(_) => {
            // bytes, bytearray, memoryview: anything `bytes()` takes as a buffer
            let is_buffer = proof.is_instance_of::<PyBytes>()
                || proof.is_instance_of::<pyo3::types::PyByteArray>()
                || proof.is_instance_of::<pyo3::types::PyMemoryView>();
            if !is_buffer {
                return Err(errors::input("proof must be a gkrnet.Proof or its bytes"));
            }
            let b = py.import("builtins")?.getattr("bytes")?.call1((proof,))?;
            let data = b.cast::<PyBytes>().map_err(PyErr::from)?.as_bytes().to_vec();
            Bound::new(py, Proof::decode(data, "the proof")?)?.borrow()
        }
    };
    let expect_digest = match expect_digest {
        None => None,
        Some(s) => Some(gkrnet::error::parse_digest(s).map_err(errors::input)?),
    };
    let (model_ref, commitment_ref);
    let keyref: KeyRef<'_> = if let Ok(m) = key.cast::<Model>() {
        model_ref = m.borrow();
        KeyRef::from(model_ref.model())
    } else if let Ok(c) = key.cast::<Commitment>() {
        commitment_ref = c.borrow();
        KeyRef {
            model: &commitment_ref.file.model,
            commitment: Some(&commitment_ref.file.commitment),
        }
    } else {
        return Err(errors::input("key must be a gkrnet.Model or a gkrnet.Commitment"));
    };
    let model = keyref.model;
    let input = model_input(model, &arrays(py, x, model)?)?;
    let policy = Policy { allow_conjectured, expect_digest };
    let start = Instant::now();
    let file = &proof.file;
    let verdict = pool::run(py, threads, || gkr::verify_file(file, keyref, &input, &policy))?;
    let verify_seconds = start.elapsed().as_secs_f64();
    let v = verdict.map_err(|e| {
        // the CLI's hints, in the API's words
        let hint = match &e {
            gkrnet::VerifyError::CommitmentMismatch { expected: None, got: Some(_) } => {
                " (verify with the gkrnet.Commitment the proof was made with)"
            }
            gkrnet::VerifyError::CommitmentMismatch { expected: Some(_), got: None } => {
                " (verify with the gkrnet.Model)"
            }
            _ => "",
        };
        // the policy's reasons name the CLI's flag; here it is an argument
        let reason = e.to_string().replace("--allow-conjectured", "allow_conjectured=True");
        errors::verify(format!("{reason}{hint}"))
    })?;
    let o = io::outputs(py, model, &v.output)?;
    let softmax_applied = model.output_parts().iter().any(|p| p.softmax);
    Ok(Verified {
        output: o.output.unbind(),
        outputs: o.outputs.into_any().unbind(),
        output_int: o.output_int.unbind(),
        predicted: o.predicted.unbind(),
        softmax_applied,
        digest: hex(&v.digest),
        root: v.root.map(|r| hex(&r)),
        input_digest: hex(&v.input_digest),
        mode: v.advice.name(),
        verify_seconds,
    })
}
