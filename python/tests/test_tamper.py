"""Tampered, truncated and misapplied proofs: every one raises gkrnet.VerifyError (its subclass
ProofFormatError for bytes that do not decode), never verifies, never crashes the interpreter."""

import numpy as np
import pytest

import gkrnet


def tamper_offsets(n: int, spaced: int = 40, head: int = 64):
    """`spaced` offsets evenly spread over a proof of `n` bytes, and its first `head` bytes."""
    return sorted(set(range(min(head, n))) | {round(i * (n - 1) / (spaced - 1)) for i in range(spaced)})


def flipped(data: bytes, offset: int, mask: int) -> bytes:
    b = bytearray(data)
    b[offset] ^= mask
    return bytes(b)


def assert_every_flip_rejected(key, x, proof: gkrnet.Proof, **verify_kwargs):
    """Flips one byte at each tamper offset (alternately its low bit and its high bit, through
    `verify(…, bytes)` and through `Proof.from_bytes`): each must raise VerifyError."""
    data = proof.to_bytes()
    gkrnet.verify(key, x, proof, **verify_kwargs)  # the untampered proof is accepted
    accepted, kinds = [], set()
    for k, offset in enumerate(tamper_offsets(len(data))):
        bad = flipped(data, offset, 0x01 if k % 2 == 0 else 0x80)
        try:
            if k % 3 == 0:
                gkrnet.verify(key, x, gkrnet.Proof.from_bytes(bad), **verify_kwargs)
            else:
                gkrnet.verify(key, x, bad, **verify_kwargs)
        except gkrnet.VerifyError as e:  # ProofFormatError included
            assert str(e), f"empty message at offset {offset}"
            kinds.add(type(e))
        else:
            accepted.append(offset)
    assert not accepted, f"tampered proofs accepted at offsets {accepted}"
    assert kinds <= {gkrnet.VerifyError, gkrnet.ProofFormatError}


def test_tamper_offsets_cover_head_and_tail():
    offs = tamper_offsets(1000)
    assert offs[:64] == list(range(64)) and offs[-1] == 999 and len(offs) >= 64 + 30


@pytest.mark.parametrize("advice", ["clear", "provable"])
def test_flipped_bytes_of_a_digits_proof_are_rejected(digits_cnn, digits_x, advice):
    x = digits_x[0]
    assert_every_flip_rejected(digits_cnn, x, digits_cnn.prove(x, advice=advice))


def test_flipped_bytes_of_a_lenet_proof_are_rejected(lenet, lenet_x):
    x = lenet_x[0]
    assert_every_flip_rejected(lenet, x, lenet.prove(x))


def test_flipped_bytes_of_a_committed_proof_are_rejected(lenet_commitment, lenet_x, lenet_committed_proof):
    assert_every_flip_rejected(lenet_commitment, lenet_x[0], lenet_committed_proof)


def test_flipped_bytes_of_a_builtin_model_proof_are_rejected():
    model = gkrnet.Model.builtin("mlp-act")
    x = np.random.default_rng(3).integers(-128, 128, size=model.input_shape, dtype=np.int8)
    assert_every_flip_rejected(model, x, model.prove(x))


def test_truncated_proofs_are_rejected(digits_cnn, digits_x, digits_proof):
    data = digits_proof.to_bytes()
    n = len(data)
    for cut in sorted({0, 1, 3, 4, 5, 6, 20, 37, 38, 53, 54, 64, n // 3, n // 2, n - 64, n - 1}):
        with pytest.raises(gkrnet.VerifyError):
            gkrnet.verify(digits_cnn, digits_x[0], data[:cut])
        with pytest.raises(gkrnet.ProofFormatError, match="byte"):
            gkrnet.Proof.from_bytes(data[:cut])


def test_proof_with_trailing_bytes_is_rejected(digits_cnn, digits_x, digits_proof):
    for tail in (b"\x00", b"GKRF", bytes(1000)):
        with pytest.raises(gkrnet.VerifyError):
            gkrnet.verify(digits_cnn, digits_x[0], digits_proof.to_bytes() + tail)


def test_truncated_proof_files_are_rejected_on_load(tmp_path, digits_proof):
    path = tmp_path / "cut.gkr"
    path.write_bytes(digits_proof.to_bytes()[: len(digits_proof) // 2])
    with pytest.raises(gkrnet.ProofFormatError, match="cut.gkr"):
        gkrnet.Proof.load(path)


def test_proof_verified_with_a_different_input_is_rejected(digits_cnn, digits_x, digits_proof):
    for i in (1, 2, 15):
        with pytest.raises(gkrnet.VerifyError):
            gkrnet.verify(digits_cnn, digits_x[i], digits_proof)


def test_proof_verified_with_one_changed_pixel_is_rejected(digits_cnn, digits_x, digits_proof):
    x = digits_x[0].copy()
    x[0, 0, 0] = 1.0 - x[0, 0, 0]  # 0 → 1: another int8 code
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(digits_cnn, x, digits_proof)
    codes = np.zeros((1, 1, 8, 8), np.int8)
    proof = digits_cnn.prove(codes)
    codes[0, 0, 7, 7] = 1
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(digits_cnn, codes, proof)


@pytest.mark.parametrize("other", ["digits_cnn_qdq", "digits_cnn_qop", "digits_cnn_default_calibration"])
def test_proof_of_one_model_verified_against_another_is_rejected(request, models_dir, digits_x, digits_proof, other):
    if other == "digits_cnn_default_calibration":
        model_b = gkrnet.compile(models_dir / "digits_cnn.onnx")  # same graph, other scales
    else:
        model_b = request.getfixturevalue(other)
    assert model_b.digest != digits_proof.digest
    with pytest.raises(gkrnet.VerifyError, match="digest"):
        gkrnet.verify(model_b, digits_x[0], digits_proof)


def test_proof_relabelled_with_another_models_digest_is_rejected(digits_cnn_qdq, digits_x, digits_proof):
    """The proof file names its model's digest (after the magic and the version); writing model
    B's digest there must not make a proof of model A pass as one of B."""
    data = digits_proof.to_bytes()
    own = bytes.fromhex(digits_proof.digest)
    at = data.find(own)
    assert at >= 0, "the proof file holds its model's digest"
    relabelled = data[:at] + bytes.fromhex(digits_cnn_qdq.digest) + data[at + 32 :]
    assert gkrnet.Proof.from_bytes(relabelled).digest == digits_cnn_qdq.digest
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(digits_cnn_qdq, digits_x[0], relabelled)


def test_expect_digest_of_another_model_is_rejected(digits_cnn, digits_cnn_qdq, digits_x, digits_proof):
    with pytest.raises(gkrnet.VerifyError, match="digest") as e:
        gkrnet.verify(digits_cnn, digits_x[0], digits_proof, expect_digest=digits_cnn_qdq.digest)
    assert digits_cnn_qdq.digest in str(e.value)


def test_proof_of_a_model_verified_against_a_model_of_another_shape(digits_mlp, digits_x, digits_proof):
    """The MLP takes [1, 64]: the input is refused first (InputError), not the proof accepted."""
    with pytest.raises(gkrnet.InputError):
        gkrnet.verify(digits_mlp, digits_x[0], digits_proof)
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(digits_mlp, digits_x[0].reshape(1, 64), digits_proof)


def test_committed_proof_with_a_different_input_is_rejected(lenet_commitment, lenet_x, lenet_committed_proof):
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(lenet_commitment, lenet_x[1], lenet_committed_proof)


def test_dense_sweep_of_flipped_bytes_is_rejected(digits_cnn, digits_x, digits_proof):
    """A denser sweep than the others (500 offsets) on one proof: cheap, and it reaches every
    section of the file (header, output, layer proofs, lookups)."""
    data = digits_proof.to_bytes()
    accepted = []
    for k, offset in enumerate(tamper_offsets(len(data), spaced=500, head=0)):
        try:
            gkrnet.verify(digits_cnn, digits_x[0], flipped(data, offset, 1 << (k % 8)))
        except gkrnet.VerifyError:
            continue
        accepted.append(offset)
    assert not accepted, f"tampered proofs accepted at offsets {accepted}"
