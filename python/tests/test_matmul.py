"""gkrnet.matmul: C = A·B for int8 matrices, exact int32, with a proof a verifier checks
against A, B and C."""

import numpy as np
import pytest

import gkrnet


def exact(a, b):
    return np.asarray(a, dtype=np.int64) @ np.asarray(b, dtype=np.int64)


def random_int8(rng, shape):
    return rng.integers(-128, 128, size=shape, dtype=np.int8)


@pytest.mark.parametrize("m, n, k", [(1, 1, 1), (3, 5, 7), (16, 32, 8), (2, 64, 33), (64, 64, 64)])
def test_product_is_exact_and_verifies(m, n, k):
    rng = np.random.default_rng(m * 10_000 + n * 100 + k)
    a, b = random_int8(rng, (m, n)), random_int8(rng, (n, k))
    c, proof = gkrnet.matmul.prove(a, b)
    assert isinstance(c, np.ndarray) and c.dtype == np.int32 and c.shape == (m, k)
    np.testing.assert_array_equal(c, exact(a, b))
    assert isinstance(proof, bytes) and proof
    assert gkrnet.matmul.verify(a, b, c, proof) is None


def test_extreme_values_are_exact():
    a = np.full((8, 256), -128, np.int8)
    c, proof = gkrnet.matmul.prove(a, a.T.copy())
    assert int(c[0, 0]) == 256 * 128 * 128
    gkrnet.matmul.verify(a, a.T.copy(), c, proof)
    b = np.full((256, 8), 127, np.int8)
    c, proof = gkrnet.matmul.prove(a, b)
    assert int(c[0, 0]) == -256 * 128 * 127
    gkrnet.matmul.verify(a, b, c, proof)


@pytest.mark.parametrize("threads", [1, 2])
def test_threads_give_the_same_product(threads):
    rng = np.random.default_rng(1)
    a, b = random_int8(rng, (16, 48)), random_int8(rng, (48, 16))
    c, proof = gkrnet.matmul.prove(a, b, threads=threads)
    np.testing.assert_array_equal(c, exact(a, b))
    gkrnet.matmul.verify(a, b, c, proof)


def test_zero_threads_raise_input_error():
    with pytest.raises(gkrnet.InputError, match="threads"):
        gkrnet.matmul.prove(np.ones((2, 2), np.int8), np.ones((2, 2), np.int8), threads=0)


def test_other_integer_dtypes_lists_and_views_are_accepted():
    rng = np.random.default_rng(2)
    a, b = random_int8(rng, (6, 10)), random_int8(rng, (10, 4))
    c, proof = gkrnet.matmul.prove(a.astype(np.int64), b.tolist())
    np.testing.assert_array_equal(c, exact(a, b))
    gkrnet.matmul.verify(a.astype(np.int16), b, c.astype(np.int64), proof)
    # non-contiguous views
    wide = np.repeat(a, 2, axis=1)
    c2, proof2 = gkrnet.matmul.prove(wide[:, ::2], np.asfortranarray(b))
    np.testing.assert_array_equal(c2, c)
    gkrnet.matmul.verify(a, b, c2, proof2)


@pytest.fixture(scope="module")
def product():
    rng = np.random.default_rng(3)
    a, b = random_int8(rng, (12, 20)), random_int8(rng, (20, 9))
    c, proof = gkrnet.matmul.prove(a, b)
    return a, b, c, proof


def test_changed_c_entries_are_rejected(product):
    a, b, c, proof = product
    for (i, j), delta in [((0, 0), 1), ((5, 3), -1), ((11, 8), 1 << 20), ((7, 0), 65536)]:
        bad = c.copy()
        bad[i, j] += delta
        with pytest.raises(gkrnet.VerifyError):
            gkrnet.matmul.verify(a, b, bad, proof)


def test_changed_a_or_b_is_rejected(product):
    a, b, c, proof = product
    a2 = a.copy()
    a2[4, 7] ^= 1
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.matmul.verify(a2, b, c, proof)
    b2 = b.copy()
    b2[19, 8] = -b2[19, 8] if b2[19, 8] not in (0, -128) else 1
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.matmul.verify(a, b2, c, proof)


def test_consistent_but_different_product_is_rejected(product):
    """A different (A, B, C) that is itself a correct product does not verify with this proof."""
    a, b, c, proof = product
    a2 = a.copy()
    a2[0, 0] = 0 if a2[0, 0] != 0 else 1
    c2 = exact(a2, b).astype(np.int32)
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.matmul.verify(a2, b, c2, proof)


def test_flipped_proof_bytes_are_rejected(product):
    a, b, c, proof = product
    n = len(proof)
    offsets = sorted(set(range(min(16, n))) | {round(i * (n - 1) / 39) for i in range(40)})
    accepted = []
    for k, offset in enumerate(offsets):
        bad = bytearray(proof)
        bad[offset] ^= 1 << (k % 8)
        try:
            gkrnet.matmul.verify(a, b, c, bytes(bad))
        except gkrnet.VerifyError:
            continue
        accepted.append(offset)
    assert not accepted, f"tampered matmul proofs accepted at offsets {accepted}"


def test_truncated_or_extended_proofs_are_rejected(product):
    a, b, c, proof = product
    for bad in (b"", proof[:4], proof[: len(proof) // 2], proof[:-1], proof + b"\x00"):
        with pytest.raises(gkrnet.VerifyError):
            gkrnet.matmul.verify(a, b, c, bad)


def test_proof_of_another_shape_is_rejected(product):
    a, b, c, _ = product
    small = np.ones((2, 2), np.int8)
    _, other = gkrnet.matmul.prove(small, small)
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.matmul.verify(a, b, c, other)


def test_mismatched_inner_dimensions_raise_input_error():
    with pytest.raises(gkrnet.InputError, match="inner") as e:
        gkrnet.matmul.prove(np.ones((3, 4), np.int8), np.ones((5, 2), np.int8))
    assert isinstance(e.value, ValueError)
    with pytest.raises(gkrnet.InputError, match="inner"):
        gkrnet.matmul.verify(np.ones((3, 4), np.int8), np.ones((5, 2), np.int8), np.zeros((3, 2), np.int32), b"")


def test_c_of_the_wrong_shape_raises_input_error(product):
    a, b, c, proof = product
    with pytest.raises(gkrnet.InputError):
        gkrnet.matmul.verify(a, b, c.T.copy(), proof)
    with pytest.raises(gkrnet.InputError):
        gkrnet.matmul.verify(a, b, c[:-1], proof)


@pytest.mark.parametrize("value", [128, -129, 1000])
def test_values_outside_int8_raise_input_error(value):
    big = np.zeros((2, 2), np.int64)
    big[1, 0] = value
    ok = np.ones((2, 2), np.int8)
    # the message names the matrix, the entry and the value
    with pytest.raises(gkrnet.InputError, match=rf"A\[1, 0\] = {value} is not an int8"):
        gkrnet.matmul.prove(big, ok)
    with pytest.raises(gkrnet.InputError, match=rf"B\[1, 0\] = {value} is not an int8"):
        gkrnet.matmul.prove(ok, big)
    with pytest.raises(gkrnet.InputError):
        gkrnet.matmul.verify(big, ok, np.zeros((2, 2), np.int32), b"")


@pytest.mark.parametrize(
    "a",
    [np.ones((2, 2)), np.ones((2, 2), np.float32), np.full((2, 2), "1"), np.ones(4, np.int8), np.ones((1, 2, 2), np.int8)],
    ids=["float64", "float32", "str", "1-D", "3-D"],
)
def test_non_int8_matrices_raise_input_error(a):
    with pytest.raises(gkrnet.InputError):
        gkrnet.matmul.prove(a, np.ones((2, 2), np.int8))


def test_c_outside_int32_or_not_integer_raises_input_error(product):
    a, b, c, proof = product
    with pytest.raises(gkrnet.InputError):
        gkrnet.matmul.verify(a, b, c.astype(np.float64), proof)
    big = c.astype(np.int64)
    big[0, 0] = 2**31
    with pytest.raises(gkrnet.InputError):
        gkrnet.matmul.verify(a, b, big, proof)


def test_empty_matrices_raise_input_error():
    with pytest.raises(gkrnet.InputError, match="empty"):
        gkrnet.matmul.prove(np.zeros((0, 3), np.int8), np.zeros((3, 2), np.int8))
