"""Outsourced int8 matrix products: C = A·B (int8 × int8 → int32, exact) with a sumcheck proof.

    c, proof = gkrnet.matmul.prove(a, b)      # a, b: 2-D int8 arrays
    gkrnet.matmul.verify(a, b, c, proof)      # raises gkrnet.VerifyError if rejected
"""

from typing import Optional, Tuple

import numpy as np

from ._errors import InputError
from ._native import matmul_prove, matmul_verify

__all__ = ["prove", "verify"]


def _int8(name: str, m) -> np.ndarray:
    a = np.asarray(m)
    if a.ndim != 2:
        raise InputError(f"{name} must be 2-D, got shape {a.shape}")
    if a.dtype != np.int8:
        if a.dtype.kind not in "iu" or (a.size and (a.min() < -128 or a.max() > 127)):
            raise InputError(f"{name} must hold int8 values, got dtype {a.dtype}")
        a = a.astype(np.int8)
    return np.ascontiguousarray(a)


def prove(a, b, threads: Optional[int] = None) -> Tuple[np.ndarray, bytes]:
    """Computes C = A·B exactly and proves it; returns (C as int32, the proof's bytes)."""
    return matmul_prove(_int8("A", a), _int8("B", b), threads)


def verify(a, b, c, proof: bytes) -> None:
    """Checks a proof that C = A·B; raises gkrnet.VerifyError when it is rejected."""
    cc = np.asarray(c)
    if cc.dtype != np.int32:
        if cc.dtype.kind not in "iu":
            raise InputError(f"C must hold int32 values, got dtype {cc.dtype}")
        if cc.size and (cc.min() < -(2**31) or cc.max() >= 2**31):
            raise InputError("C must hold int32 values")
        cc = cc.astype(np.int32)
    matmul_verify(_int8("A", a), _int8("B", b), np.ascontiguousarray(cc), bytes(proof))
