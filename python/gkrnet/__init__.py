"""gkrnet: sumcheck/GKR proofs that an int8-quantized neural network produced its output.

    model = gkrnet.compile("model.onnx", calibration=inputs)   # or gkrnet.from_torch(module, x)
    proof = model.prove(x)                                     # a Proof: bytes, no output
    verified = gkrnet.verify(model, x, proof)                  # raises gkrnet.VerifyError
    verified.output, verified.predicted, verified.digest

Proofs are sound but not zero-knowledge: they may reveal the weights and intermediate values.
The interpreter lock is released while compiling, proving and verifying.
"""

from ._errors import (
    CompileError,
    Error,
    FormatError,
    InputError,
    ProofFormatError,
    ProveError,
    VerifyError,
)
from ._native import (
    PROTOCOL,
    Commitment,
    Model,
    Proof,
    Verified,
    __version__,
    commit,
    compile,
    default_calibration,
    verify,
)
from . import matmul
from ._torch import from_torch

__all__ = [
    "PROTOCOL",
    "Commitment",
    "CompileError",
    "Error",
    "FormatError",
    "InputError",
    "Model",
    "Proof",
    "ProofFormatError",
    "ProveError",
    "Verified",
    "VerifyError",
    "__version__",
    "commit",
    "compile",
    "default_calibration",
    "from_torch",
    "matmul",
    "verify",
]
