"""Model commitments: gkrnet.commit, proving against a commitment, verifying with only the
commitment, and the errors when model, commitment and proof do not belong together."""

import re

import numpy as np
import pytest

import gkrnet

HEX64 = re.compile(r"[0-9a-f]{64}")


def test_commitment_attributes(lenet, lenet_commitment):
    c = lenet_commitment
    assert HEX64.fullmatch(c.digest) and HEX64.fullmatch(c.root)
    assert c.digest != lenet.digest  # it covers the stripped model, the parameters and the root
    assert c.pcs == "provable"
    assert c.can_prove is True
    layers = c.committed_layers
    assert layers and all(isinstance(i, int) and 0 <= i < len(lenet.layers) for i in layers)
    assert all(lenet.layers[i][0] == "dense" for i in layers)
    assert c.digest in repr(c) and c.root in repr(c)


def test_commit_is_deterministic(lenet, lenet_commitment):
    again = gkrnet.commit(lenet, threads=1)
    assert (again.digest, again.root) == (lenet_commitment.digest, lenet_commitment.root)
    assert again.to_bytes() == lenet_commitment.to_bytes()


def test_committed_proof_verifies_with_the_same_output_as_the_plain_one(
    lenet, lenet_commitment, lenet_x, lenet_committed_proof
):
    x = lenet_x[0]
    proof = lenet_committed_proof
    assert proof.digest == lenet_commitment.digest
    assert proof.weights_root == lenet_commitment.root
    committed = gkrnet.verify(lenet_commitment, x, proof)
    plain = gkrnet.verify(lenet, x, lenet.prove(x))
    np.testing.assert_array_equal(committed.output, plain.output)
    np.testing.assert_array_equal(committed.output_int, plain.output_int)
    assert committed.predicted == plain.predicted
    assert committed.input_digest == plain.input_digest
    assert committed.root == lenet_commitment.root
    assert committed.digest == lenet_commitment.digest
    assert plain.root is None


def test_committed_proof_with_provable_advice(lenet, lenet_commitment, lenet_x):
    x = lenet_x[2]
    proof = lenet.prove(x, advice="provable", commitment=lenet_commitment)
    assert proof.advice == "provable"
    v = gkrnet.verify(lenet_commitment, x, proof)
    assert v.mode == "provable" and v.root == lenet_commitment.root
    np.testing.assert_array_equal(v.output, lenet.forward(x))


def test_expect_digest_with_a_commitment(lenet, lenet_commitment, lenet_x, lenet_committed_proof):
    x = lenet_x[0]
    v = gkrnet.verify(lenet_commitment, x, lenet_committed_proof, expect_digest=lenet_commitment.digest)
    assert v.digest == lenet_commitment.digest
    # the model's own digest is not the commitment's
    with pytest.raises(gkrnet.VerifyError, match="digest"):
        gkrnet.verify(lenet_commitment, x, lenet_committed_proof, expect_digest=lenet.digest)


def test_proving_with_the_commitment_of_another_model_raises_prove_error(models_dir, lenet, lenet_x):
    # the same graph calibrated otherwise: the same weights, other scales
    other = gkrnet.compile(models_dir / "lenet5_seeded.onnx")
    assert other.digest != lenet.digest
    for commitment in (gkrnet.commit(other), gkrnet.commit(gkrnet.Model.builtin("lenet5"))):
        with pytest.raises(gkrnet.ProveError, match="another model") as e:
            lenet.prove(lenet_x[0], commitment=commitment)
        # the digests named are the ones the user holds
        assert commitment.digest in str(e.value) and lenet.digest in str(e.value)
        # and a loaded one (no prover's side: the weights are committed again)
        loaded = gkrnet.Commitment.from_bytes(commitment.to_bytes())
        with pytest.raises(gkrnet.ProveError, match="another model"):
            lenet.prove(lenet_x[0], commitment=loaded)


def test_committed_proof_verified_with_the_plain_model_is_rejected(lenet, lenet_x, lenet_committed_proof):
    with pytest.raises(gkrnet.VerifyError, match="commitment"):
        gkrnet.verify(lenet, lenet_x[0], lenet_committed_proof)


def test_plain_proof_verified_with_the_commitment_is_rejected(lenet, lenet_commitment, lenet_x):
    proof = lenet.prove(lenet_x[0])
    with pytest.raises(gkrnet.VerifyError, match="commitment"):
        gkrnet.verify(lenet_commitment, lenet_x[0], proof)


def test_committed_proof_verified_against_another_commitment_is_rejected(models_dir, lenet_x, lenet_committed_proof):
    other = gkrnet.commit(gkrnet.compile(models_dir / "lenet5_seeded.onnx"))
    with pytest.raises(gkrnet.VerifyError, match="digest"):
        gkrnet.verify(other, lenet_x[0], lenet_committed_proof)


def test_commit_of_a_model_without_a_large_dense_matrix_raises_prove_error(digits_cnn):
    with pytest.raises(gkrnet.ProveError, match="no dense matrix"):
        gkrnet.commit(digits_cnn)


def test_conjectured_commitment_needs_allow_conjectured(lenet, lenet_x):
    c = gkrnet.commit(lenet, pcs="conjectured")
    assert c.pcs == "conjectured"
    x = lenet_x[0]
    proof = lenet.prove(x, commitment=c)
    with pytest.raises(gkrnet.VerifyError, match="conjectured"):
        gkrnet.verify(c, x, proof)
    v = gkrnet.verify(c, x, proof, allow_conjectured=True)
    assert v.root == c.root
    np.testing.assert_array_equal(v.output, lenet.forward(x))


@pytest.mark.parametrize("pcs", ["clear", "auto", "nope"])
def test_unknown_pcs_raises_input_error(lenet, pcs):
    with pytest.raises(gkrnet.InputError):
        gkrnet.commit(lenet, pcs=pcs)


def test_commit_with_zero_threads_raises_input_error(lenet):
    with pytest.raises(gkrnet.InputError, match="threads"):
        gkrnet.commit(lenet, threads=0)
