"""Shared fixtures of the gkrnet Python test suite: the bundled models, their inputs, models
compiled once per session, and the CLI binary (for the interoperability tests).

Every compiled model here is immutable (`gkrnet.Model` is frozen), so sharing one across the
session is safe; tests that need a model of their own compile it themselves.
"""

import os
from pathlib import Path

import numpy as np
import pytest

import gkrnet

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


# --- paths and data ------------------------------------------------------------------------


@pytest.fixture(scope="session")
def models_dir() -> Path:
    assert MODELS.is_dir(), f"the bundled models are missing: {MODELS}"
    return MODELS


@pytest.fixture(scope="session")
def calibration(models_dir) -> np.ndarray:
    """100 float32 digits, shape (100, 1, 8, 8): the calibration the bundled models were made with."""
    return np.load(models_dir / "digits_calibration.npy")


@pytest.fixture(scope="session")
def digits_x(models_dir) -> np.ndarray:
    """16 test digits, float32 (16, 1, 8, 8) in [0, 1]."""
    return np.load(models_dir / "digits_test_inputs.npy")


@pytest.fixture(scope="session")
def digits_labels(models_dir) -> np.ndarray:
    return np.load(models_dir / "digits_test_labels.npy")


@pytest.fixture(scope="session")
def lenet_x(models_dir) -> np.ndarray:
    """16 digits upscaled to 28×28, float32 (16, 1, 28, 28)."""
    return np.load(models_dir / "lenet5_seeded_inputs.npy")


# --- compiled models -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def digits_cnn(models_dir, calibration) -> gkrnet.Model:
    return gkrnet.compile(models_dir / "digits_cnn.onnx", calibration=calibration)


@pytest.fixture(scope="session")
def digits_mlp(models_dir, calibration) -> gkrnet.Model:
    return gkrnet.compile(models_dir / "digits_mlp.onnx", calibration=calibration.reshape(len(calibration), 64))


@pytest.fixture(scope="session")
def digits_cnn_qdq(models_dir, calibration) -> gkrnet.Model:
    return gkrnet.compile(models_dir / "digits_cnn_qdq.onnx", calibration=calibration)


@pytest.fixture(scope="session")
def digits_cnn_qop(models_dir, calibration) -> gkrnet.Model:
    return gkrnet.compile(models_dir / "digits_cnn_qop.onnx", calibration=calibration)


@pytest.fixture(scope="session")
def lenet(models_dir, lenet_x) -> gkrnet.Model:
    """lenet5_seeded calibrated on its 16 inputs (the seeded default calibration, uniform noise,
    lets a logit saturate at int8's −128 on digits). Its 400→120 dense matrix is large enough
    for `gkrnet.commit`."""
    return gkrnet.compile(models_dir / "lenet5_seeded.onnx", calibration=lenet_x)


@pytest.fixture(scope="session")
def lenet_commitment(lenet) -> gkrnet.Commitment:
    return gkrnet.commit(lenet)


@pytest.fixture(scope="session")
def digits_proof(digits_cnn, digits_x) -> gkrnet.Proof:
    """A proof of digits_cnn on the first test digit (advice "clear")."""
    return digits_cnn.prove(digits_x[0])


@pytest.fixture(scope="session")
def lenet_committed_proof(lenet, lenet_commitment, lenet_x) -> gkrnet.Proof:
    """A proof of lenet5_seeded on its first input, the weights opened against the commitment."""
    return lenet.prove(lenet_x[0], commitment=lenet_commitment)


# --- the CLI -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cli() -> Path:
    """The gkrnet binary: $GKRNET_CLI (which must exist when set), else target/release/gkrnet."""
    env = os.environ.get("GKRNET_CLI")
    if env:
        path = Path(env)
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.fail(f"GKRNET_CLI={env} is not an executable file")
        return path
    path = REPO / "target" / "release" / "gkrnet"
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.skip(f"no gkrnet CLI: set GKRNET_CLI or build {path} (cargo build --release)")
    return path
