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
        if a.dtype.kind not in "iu":
            raise InputError(f"{name} must hold int8 values, got dtype {a.dtype}")
        if a.size:
            lo, hi = int(a.min()), int(a.max())
            if lo < -128 or hi > 127:
                bad = lo if lo < -128 else hi
                at = np.unravel_index(int(np.argmax(a == bad)), a.shape)
                raise InputError(f"{name}[{', '.join(map(str, at))}] = {bad} is not an int8")
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
        if cc.size and (int(cc.min()) < -(2**31) or int(cc.max()) >= 2**31):
            raise InputError(f"C holds values outside int32 ({int(cc.min())} … {int(cc.max())})")
        cc = cc.astype(np.int32)
    matmul_verify(_int8("A", a), _int8("B", b), np.ascontiguousarray(cc), bytes(proof))
