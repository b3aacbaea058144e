"""Round trips of every object through bytes and files: Model (.gkrm), Proof (.gkr) and
Commitment (.gkrc); what each keeps, and the errors bad bytes and missing files raise."""

import numpy as np
import pytest

import gkrnet


# --- Model ---------------------------------------------------------------------------------


def assert_same_compiled_model(loaded: gkrnet.Model, original: gkrnet.Model):
    assert loaded.digest == original.digest
    assert loaded.to_bytes() == original.to_bytes()
    for attr in ("name", "input_shape", "output_shape", "inputs", "outputs", "layers"):
        assert getattr(loaded, attr) == getattr(original, attr), attr
    # the compiled form holds no float model and no compile-time report
    assert loaded.kind is None and loaded.parameters is None and loaded.report is None
    assert loaded.notes == []


@pytest.mark.parametrize("fixture", ["digits_cnn", "digits_mlp", "digits_cnn_qdq", "digits_cnn_qop", "lenet"])
def test_model_bytes_round_trip(request, fixture):
    model = request.getfixturevalue(fixture)
    data = model.to_bytes()
    assert isinstance(data, bytes) and data[:4] == b"GKRM"
    loaded = gkrnet.Model.from_bytes(data)
    assert_same_compiled_model(loaded, model)
    assert gkrnet.Model.from_bytes(bytearray(data)).digest == model.digest


def test_builtin_model_bytes_round_trip():
    model = gkrnet.Model.builtin("lenet5")
    assert_same_compiled_model(gkrnet.Model.from_bytes(model.to_bytes()), model)


def test_model_save_load_round_trip(tmp_path, digits_cnn):
    path = tmp_path / "digits.gkrm"
    digits_cnn.save(path)
    assert path.read_bytes() == digits_cnn.to_bytes()
    assert_same_compiled_model(gkrnet.Model.load(path), digits_cnn)
    digits_cnn.save(str(tmp_path / "as_str.gkrm"))  # str paths too
    assert gkrnet.Model.load(str(tmp_path / "as_str.gkrm")).digest == digits_cnn.digest


def test_loaded_model_verifies_and_makes_proofs(tmp_path, digits_cnn, digits_x, digits_proof):
    path = tmp_path / "digits.gkrm"
    digits_cnn.save(path)
    loaded = gkrnet.Model.load(path)
    x = digits_x[0]
    # a proof of the original verifies against the loaded model, and the other way round
    v1 = gkrnet.verify(loaded, x, digits_proof)
    proof = loaded.prove(x)
    assert proof.to_bytes() == digits_proof.to_bytes()
    v2 = gkrnet.verify(digits_cnn, x, proof)
    np.testing.assert_array_equal(v1.output, v2.output)
    np.testing.assert_array_equal(loaded.forward(x), digits_cnn.forward(x))
    # the float reference is not in a .gkrm
    with pytest.raises(gkrnet.InputError, match="gkrm"):
        loaded.float_forward(x)
    with pytest.raises(gkrnet.InputError, match="gkrm"):
        loaded.accuracy(digits_x)


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"GKRM", b"GKRM\xff\xff\xff\xff", b"GKRF" + bytes(100), bytes(range(256)) * 4],
    ids=["empty", "garbage", "magic only", "magic and junk", "proof magic", "noise"],
)
def test_model_from_garbage_bytes_raises_format_error(data):
    with pytest.raises(gkrnet.FormatError) as e:
        gkrnet.Model.from_bytes(data)
    assert isinstance(e.value, ValueError)


def test_truncated_model_bytes_raise_format_error(digits_cnn):
    data = digits_cnn.to_bytes()
    for cut in (4, 6, 10, 100, len(data) // 2, len(data) - 1):
        with pytest.raises(gkrnet.FormatError):
            gkrnet.Model.from_bytes(data[:cut])


def test_model_with_flipped_bytes_never_decodes_to_the_same_digest(digits_cnn):
    data = digits_cnn.to_bytes()
    for offset in range(0, len(data), max(1, len(data) // 97)):
        b = bytearray(data)
        b[offset] ^= 0x01
        try:
            m = gkrnet.Model.from_bytes(bytes(b))
        except gkrnet.FormatError:
            continue
        assert m.digest != digits_cnn.digest, offset


def test_model_load_of_garbage_file_raises_format_error_naming_it(tmp_path):
    path = tmp_path / "junk.gkrm"
    path.write_bytes(b"junk")
    with pytest.raises(gkrnet.FormatError, match="junk.gkrm"):
        gkrnet.Model.load(path)


@pytest.mark.parametrize("load", [gkrnet.Model.load, gkrnet.Proof.load, gkrnet.Commitment.load])
def test_load_of_a_missing_file_raises_file_not_found(tmp_path, load):
    with pytest.raises(FileNotFoundError, match="nothing-here"):
        load(tmp_path / "nothing-here")


@pytest.mark.parametrize("save", ["model", "proof", "commitment"])
def test_save_into_a_missing_directory_raises_os_error(tmp_path, save, digits_cnn, digits_proof, lenet_commitment):
    obj = {"model": digits_cnn, "proof": digits_proof, "commitment": lenet_commitment}[save]
    with pytest.raises(FileNotFoundError):
        obj.save(tmp_path / "no" / "such" / "dir" / "file")


# --- Proof ---------------------------------------------------------------------------------


def test_proof_bytes_round_trip(digits_cnn, digits_x, digits_proof):
    data = digits_proof.to_bytes()
    assert isinstance(data, bytes) and data[:4] == b"GKRF"
    loaded = gkrnet.Proof.from_bytes(data)
    assert loaded.to_bytes() == data
    assert (loaded.digest, loaded.advice, loaded.size, loaded.weights_root) == (
        digits_proof.digest,
        digits_proof.advice,
        digits_proof.size,
        digits_proof.weights_root,
    )
    assert loaded.prove_seconds is None
    assert not hasattr(loaded, "output")
    assert gkrnet.verify(digits_cnn, digits_x[0], loaded).predicted == 7


def test_proof_save_load_round_trip(tmp_path, digits_cnn, digits_x, digits_proof):
    path = tmp_path / "digit.gkr"
    digits_proof.save(path)
    assert path.read_bytes() == digits_proof.to_bytes()
    loaded = gkrnet.Proof.load(path)
    assert loaded.to_bytes() == digits_proof.to_bytes()
    assert loaded.digest == digits_proof.digest
    assert gkrnet.verify(digits_cnn, digits_x[0], loaded).predicted == 7


def test_committed_proof_round_trip(tmp_path, lenet_commitment, lenet_x, lenet_committed_proof):
    path = tmp_path / "committed.gkr"
    lenet_committed_proof.save(path)
    loaded = gkrnet.Proof.load(path)
    assert loaded.to_bytes() == lenet_committed_proof.to_bytes()
    assert loaded.weights_root == lenet_commitment.root
    assert gkrnet.verify(lenet_commitment, lenet_x[0], loaded).root == lenet_commitment.root


@pytest.mark.parametrize("data", [b"", b"garbage", b"GKRM" + bytes(64)], ids=["empty", "garbage", "model magic"])
def test_proof_from_garbage_bytes_raises_proof_format_error(data):
    with pytest.raises(gkrnet.ProofFormatError, match="byte"):
        gkrnet.Proof.from_bytes(data)


def test_proof_from_model_bytes_raises_proof_format_error(digits_cnn):
    with pytest.raises(gkrnet.ProofFormatError):
        gkrnet.Proof.from_bytes(digits_cnn.to_bytes())


# --- Commitment ----------------------------------------------------------------------------


def assert_same_commitment(loaded: gkrnet.Commitment, original: gkrnet.Commitment):
    assert loaded.digest == original.digest
    assert loaded.root == original.root
    assert loaded.pcs == original.pcs
    assert loaded.to_bytes() == original.to_bytes()
    assert loaded.can_prove is False


def test_commitment_bytes_round_trip(lenet_commitment):
    data = lenet_commitment.to_bytes()
    assert isinstance(data, bytes) and data[:4] == b"GKRC"
    assert_same_commitment(gkrnet.Commitment.from_bytes(data), lenet_commitment)


def test_commitment_save_load_round_trip(tmp_path, lenet_commitment):
    path = tmp_path / "lenet.gkrc"
    lenet_commitment.save(path)
    assert path.read_bytes() == lenet_commitment.to_bytes()
    assert_same_commitment(gkrnet.Commitment.load(path), lenet_commitment)


def test_loaded_commitment_verifies_a_proof_made_with_the_original(
    tmp_path, lenet, lenet_commitment, lenet_x, lenet_committed_proof
):
    path = tmp_path / "lenet.gkrc"
    lenet_commitment.save(path)
    loaded = gkrnet.Commitment.load(path)
    x = lenet_x[0]
    v = gkrnet.verify(loaded, x, lenet_committed_proof, expect_digest=lenet_commitment.digest)
    assert v.root == lenet_commitment.root and v.digest == lenet_commitment.digest
    np.testing.assert_array_equal(v.output, lenet.forward(x))


def test_proof_made_with_a_loaded_commitment_verifies_with_the_original(
    lenet, lenet_commitment, lenet_x, lenet_committed_proof
):
    """A loaded commitment cannot prove by itself: proving commits the model's weights again and
    must arrive at the same root."""
    loaded = gkrnet.Commitment.from_bytes(lenet_commitment.to_bytes())
    x = lenet_x[0]
    proof = lenet.prove(x, commitment=loaded)
    assert proof.weights_root == lenet_commitment.root
    v = gkrnet.verify(lenet_commitment, x, proof)
    np.testing.assert_array_equal(v.output_int, gkrnet.verify(loaded, x, lenet_committed_proof).output_int)


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage", b"GKRC", b"GKRC" + bytes(40), b"GKRM" + bytes(40)],
    ids=["empty", "garbage", "magic only", "magic and zeros", "model magic"],
)
def test_commitment_from_garbage_bytes_raises_format_error(data):
    with pytest.raises(gkrnet.FormatError) as e:
        gkrnet.Commitment.from_bytes(data)
    assert isinstance(e.value, ValueError)


def test_commitment_from_model_or_truncated_bytes_raises_format_error(lenet, lenet_commitment):
    with pytest.raises(gkrnet.FormatError):
        gkrnet.Commitment.from_bytes(lenet.to_bytes())
    data = lenet_commitment.to_bytes()
    for cut in (4, 40, len(data) // 2, len(data) - 1):
        with pytest.raises(gkrnet.FormatError):
            gkrnet.Commitment.from_bytes(data[:cut])


def test_commitment_load_of_garbage_file_raises_format_error_naming_it(tmp_path):
    path = tmp_path / "junk.gkrc"
    path.write_bytes(b"junk")
    with pytest.raises(gkrnet.FormatError, match="junk.gkrc"):
        gkrnet.Commitment.load(path)
