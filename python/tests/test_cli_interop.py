"""The Python package and the `gkrnet` CLI read each other's files: a proof made in Python
verifies with the CLI and the other way round; tampered proofs are rejected on both sides;
models and commitments cross over too.

The binary is $GKRNET_CLI, else <repo>/target/release/gkrnet; without either these tests are
skipped (conftest.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import gkrnet


def run(cli, *args, expect=0):
    """Runs the CLI; checks its exit status (0 accepted, 1 rejected, 2 bad input)."""
    r = subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=120)
    assert r.returncode == expect, f"gkrnet {' '.join(map(str, args))}: exit {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def run_json(cli, *args):
    r = run(cli, *args, "--json")
    return json.loads(r.stdout)


@pytest.fixture
def digits_files(tmp_path, digits_cnn, digits_x):
    """digits_cnn saved as .gkrm, its first test digit as .npy."""
    model, x = tmp_path / "digits.gkrm", tmp_path / "x.npy"
    digits_cnn.save(model)
    np.save(x, digits_x[0])
    return model, x


def tampered(path, out):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def test_python_proof_verifies_with_the_cli(cli, tmp_path, digits_files, digits_cnn, digits_x, digits_proof):
    model, x = digits_files
    proof = tmp_path / "p.gkr"
    digits_proof.save(proof)
    v = gkrnet.verify(digits_cnn, digits_x[0], digits_proof)
    out = run_json(cli, "verify", "--model", model, "--input", x, "--proof", proof)
    assert out["verified"] is True
    assert out["output_int"] == v.output_int.tolist()
    assert out["predicted"] == v.predicted
    assert out["digest"] == digits_cnn.digest == v.digest
    assert out["input_digest"] == v.input_digest
    assert out["advice"] == v.mode
    np.testing.assert_allclose(out["output"], v.output.reshape(-1), rtol=1e-12)
    # and with the owner's published digest
    run(cli, "verify", "--model", model, "--input", x, "--proof", proof, "--expect-digest", digits_cnn.digest)


def test_cli_proof_verifies_in_python(cli, tmp_path, digits_files, digits_cnn, digits_x, digits_proof):
    model, x = digits_files
    proof = tmp_path / "cli.gkr"
    out = run_json(cli, "prove", "--model", model, "--input", x, "--proof", proof)
    loaded = gkrnet.Proof.load(proof)
    assert loaded.digest == out["digest"] == digits_cnn.digest
    v = gkrnet.verify(digits_cnn, digits_x[0], loaded)
    assert v.output_int.tolist() == out["output_int"]
    assert v.predicted == out["predicted"]
    # the loaded .gkrm verifies it too, and the CLI's proof is the Python one byte for byte
    assert gkrnet.verify(gkrnet.Model.load(model), digits_x[0], loaded).predicted == v.predicted
    assert loaded.to_bytes() == digits_proof.to_bytes()


def test_cli_proof_of_int8_codes_verifies_in_python(cli, tmp_path, digits_files, digits_cnn):
    model, _ = digits_files
    codes = np.arange(-128, 128, 4, dtype=np.int8).reshape(1, 1, 8, 8)
    x, proof = tmp_path / "codes.npy", tmp_path / "codes.gkr"
    np.save(x, codes)
    out = run_json(cli, "prove", "--model", model, "--input", x, "--proof", proof)
    v = gkrnet.verify(digits_cnn, codes, gkrnet.Proof.load(proof))
    assert v.output_int.tolist() == out["output_int"]


@pytest.mark.parametrize("advice", ["provable", "conjectured"])
def test_python_proof_with_committed_advice_verifies_with_the_cli(cli, tmp_path, digits_files, digits_cnn, digits_x, advice):
    model, x = digits_files
    proof = tmp_path / "p.gkr"
    digits_cnn.prove(digits_x[0], advice=advice).save(proof)
    args = ["verify", "--model", model, "--input", x, "--proof", proof]
    if advice == "conjectured":
        run(cli, *args, expect=1)  # conjectured parameters only when the verifier opts in
        args.append("--allow-conjectured")
    out = run_json(cli, *args)
    assert out["verified"] is True and out["advice"] == advice


def test_tampered_python_proof_is_rejected_by_the_cli(cli, tmp_path, digits_files, digits_proof):
    model, x = digits_files
    good = tmp_path / "p.gkr"
    digits_proof.save(good)
    bad = tampered(good, tmp_path / "bad.gkr")
    run(cli, "verify", "--model", model, "--input", x, "--proof", bad, expect=1)
    cut = tmp_path / "cut.gkr"
    cut.write_bytes(good.read_bytes()[:100])
    run(cli, "verify", "--model", model, "--input", x, "--proof", cut, expect=1)


def test_tampered_cli_proof_is_rejected_in_python(cli, tmp_path, digits_files, digits_cnn, digits_x):
    model, x = digits_files
    good = tmp_path / "cli.gkr"
    run(cli, "prove", "--model", model, "--input", x, "--proof", good, "-q")
    bad = tampered(good, tmp_path / "bad.gkr")
    run(cli, "verify", "--model", model, "--input", x, "--proof", bad, expect=1)
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(digits_cnn, digits_x[0], gkrnet.Proof.load(bad))


def test_cli_rejects_a_python_proof_for_another_input_or_digest(cli, tmp_path, digits_files, digits_x, digits_proof):
    model, _ = digits_files
    proof, other = tmp_path / "p.gkr", tmp_path / "other.npy"
    digits_proof.save(proof)
    np.save(other, digits_x[1])
    run(cli, "verify", "--model", model, "--input", other, "--proof", proof, expect=1)
    x = digits_files[1]
    run(cli, "verify", "--model", model, "--input", x, "--proof", proof, "--expect-digest", "0" * 64, expect=1)


def test_cli_and_python_compile_the_same_model(cli, tmp_path, models_dir, digits_cnn, lenet):
    out = tmp_path / "cli.gkrm"
    run(cli, "compile", models_dir / "digits_cnn.onnx", "-o", out, "--calibration", models_dir / "digits_calibration.npy", "-q")
    assert gkrnet.Model.load(out).digest == digits_cnn.digest
    assert out.read_bytes() == digits_cnn.to_bytes()
    # without calibration both use the same seeded default
    run(cli, "compile", models_dir / "lenet5_seeded.onnx", "-o", out, "-q")
    assert gkrnet.Model.load(out).digest == gkrnet.compile(models_dir / "lenet5_seeded.onnx").digest


def test_python_commitment_verifies_with_the_cli(
    cli, tmp_path, lenet, lenet_commitment, lenet_x, lenet_committed_proof
):
    commitment, x, proof = tmp_path / "lenet.gkrc", tmp_path / "x.npy", tmp_path / "p.gkr"
    lenet_commitment.save(commitment)
    np.save(x, lenet_x[0])
    lenet_committed_proof.save(proof)
    v = gkrnet.verify(lenet_commitment, lenet_x[0], lenet_committed_proof)
    out = run_json(cli, "verify", "--commitment", commitment, "--input", x, "--proof", proof)
    assert out["verified"] is True and out["weights_committed"] is True
    assert out["root"] == lenet_commitment.root == v.root
    assert out["digest"] == lenet_commitment.digest
    assert out["output_int"] == v.output_int.tolist()
    run(cli, "verify", "--commitment", commitment, "--input", x, "--proof", proof, "--expect-digest", lenet_commitment.digest)
    bad = tampered(proof, tmp_path / "bad.gkr")
    run(cli, "verify", "--commitment", commitment, "--input", x, "--proof", bad, expect=1)


def test_cli_commitment_and_committed_proof_work_in_python(cli, tmp_path, lenet, lenet_commitment, lenet_x):
    model, commitment = tmp_path / "lenet.gkrm", tmp_path / "cli.gkrc"
    x, proof = tmp_path / "x.npy", tmp_path / "cli.gkr"
    lenet.save(model)
    np.save(x, lenet_x[3])
    run(cli, "commit", "--model", model, "-o", commitment, "-q")
    loaded = gkrnet.Commitment.load(commitment)
    assert (loaded.digest, loaded.root) == (lenet_commitment.digest, lenet_commitment.root)
    out = run_json(cli, "prove", "--model", model, "--commitment", commitment, "--input", x, "--proof", proof)
    v = gkrnet.verify(loaded, lenet_x[3], gkrnet.Proof.load(proof))
    assert v.root == loaded.root
    assert v.output_int.tolist() == out["output_int"]
    # a proof made in Python against the CLI's commitment verifies with the CLI
    py_proof = tmp_path / "py.gkr"
    lenet.prove(lenet_x[3], commitment=loaded).save(py_proof)
    run(cli, "verify", "--commitment", commitment, "--input", x, "--proof", py_proof)


def test_a_gkrnet_cli_that_does_not_exist_fails_the_tests(tmp_path):
    """GKRNET_CLI set to a missing file is an error, not a reason to skip (conftest.py)."""
    env = dict(os.environ, GKRNET_CLI=str(tmp_path / "no-such-gkrnet"))
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(Path(__file__)),
         "-k", "test_python_proof_verifies_with_the_cli"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path,
    )
    assert r.returncode == 1, r.stdout + r.stderr
    assert "GKRNET_CLI" in r.stdout and "1 error" in r.stdout, r.stdout
