"""Type stubs of gkrnet's Rust extension (python/src). Arrays are NumPy arrays."""

import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

__version__: str
PROTOCOL: str

ArrayLike = Union[npt.ArrayLike, Any]
#: One array for a single-input model; a sequence (one per input, graph order) or a mapping by
#: input name for a model with several inputs. Float arrays are quantized with the model's input
#: parameters; integer arrays are the int8 codes themselves. torch tensors are accepted.
InputLike = Union[ArrayLike, Sequence[ArrayLike], Mapping[str, ArrayLike]]
PathLike = Union[str, "os.PathLike[str]"]

class Model:
    """A compiled (quantized) model: what the prover runs and a verifier checks proofs against."""

    @property
    def digest(self) -> str:
        """The model digest, 64 hex digits (what a verifier compares with the published one)."""
    @property
    def name(self) -> str: ...
    @property
    def input_shape(self) -> List[int]:
        """The circuit's input shape (several inputs: their concatenation, 1-D)."""
    @property
    def output_shape(self) -> List[int]:
        """The proven output's shape (several outputs: their concatenation, 1-D)."""
    @property
    def inputs(self) -> List[Tuple[str, List[int]]]:
        """(name, shape) of each model input, in graph order."""
    @property
    def outputs(self) -> List[Tuple[str, List[int]]]:
        """(name, shape) of each model output, in graph order."""
    @property
    def layers(self) -> List[Tuple[str, List[int]]]:
        """(kind, output shape) of each circuit layer."""
    @property
    def kind(self) -> Optional[str]:
        """"float", "qoperator" or "qdq" for a model compiled from ONNX; None when loaded."""
    @property
    def parameters(self) -> Optional[int]:
        """Weights of the source ONNX model; None when loaded."""
    @property
    def notes(self) -> List[str]:
        """What the import wants the user to know (rewrites, a softmax outside the proof …)."""
    @property
    def report(self) -> Optional[Dict[str, Any]]:
        """int8 against float on the calibration inputs: samples, max_abs_error,
        mean_abs_error, argmax_agreement, float_accuracy, int8_accuracy. None when loaded."""
    def to_bytes(self) -> bytes:
        """The canonical compiled model (the .gkrm format)."""
    @staticmethod
    def from_bytes(data: bytes) -> "Model":
        """Raises gkrnet.FormatError for bytes that are not a compiled model."""
    def save(self, path: PathLike) -> None: ...
    @staticmethod
    def load(path: PathLike) -> "Model": ...
    @staticmethod
    def builtin(name: str) -> "Model":
        """A seeded built-in model: "mlp4m", "mlp-act", "lenet5" or "cnn-cifar" (int8 inputs)."""
    def forward(self, x: InputLike) -> Union[np.ndarray, Dict[str, np.ndarray]]:
        """The integer model's dequantized output on x, without a proof."""
    def float_forward(self, x: InputLike) -> Union[np.ndarray, Dict[str, np.ndarray]]:
        """The float ONNX model's output on x (models compiled from ONNX only)."""
    def accuracy(self, inputs: ArrayLike, labels: Optional[Sequence[int]] = None) -> Dict[str, Any]:
        """int8 against float on inputs (first axis enumerates them), keys as `report`."""
    def prove(
        self,
        x: InputLike,
        advice: str = "auto",
        threads: Optional[int] = None,
        commitment: Optional["Commitment"] = None,
    ) -> "Proof":
        """Proves the inference on x. advice: "auto" (the library's default, today "clear"),
        "clear", "provable" or "conjectured". threads: default all cores. commitment: prove
        against a model commitment of this model. The interpreter lock is released."""

class Commitment:
    """A model commitment (.gkrc): the model with its large weight matrices replaced by a root."""

    @property
    def digest(self) -> str:
        """The digest verifiers compare: stripped model, PCS parameters and root."""
    @property
    def root(self) -> str: ...
    @property
    def pcs(self) -> str: ...
    @property
    def committed_layers(self) -> List[int]:
        """Indices of the committed layers (empty for a loaded commitment)."""
    @property
    def can_prove(self) -> bool:
        """True when made by gkrnet.commit (holds the prover's side); False when loaded."""
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> "Commitment":
        """Raises gkrnet.FormatError for bytes that are not a commitment."""
    def save(self, path: PathLike) -> None: ...
    @staticmethod
    def load(path: PathLike) -> "Commitment": ...

class Proof:
    """A proof file (.gkr). It exposes no output: only gkrnet.verify yields one."""

    @property
    def digest(self) -> str:
        """The digest of the model (or commitment) the proof claims to be of."""
    @property
    def advice(self) -> str: ...
    @property
    def weights_root(self) -> Optional[str]: ...
    @property
    def size(self) -> int: ...
    @property
    def prove_seconds(self) -> Optional[float]: ...
    def __len__(self) -> int: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(data: bytes) -> "Proof":
        """Raises gkrnet.ProofFormatError (a gkrnet.VerifyError) for bytes that are not a proof."""
    def save(self, path: PathLike) -> None: ...
    @staticmethod
    def load(path: PathLike) -> "Proof": ...

class Verified:
    """A verified inference."""

    output: np.ndarray
    """The first (or only) output, dequantized, in its shape."""
    outputs: Dict[str, np.ndarray]
    """Every output by name."""
    output_int: np.ndarray
    """The proven integers, flat (int64)."""
    predicted: Union[int, np.ndarray]
    """The first output's class (argmax per row, lowest index on ties), or its indices."""
    softmax_applied: bool
    """Whether a final softmax of the source model was applied outside the proof."""
    digest: str
    """The verifier key's digest (the model's or the commitment's)."""
    root: Optional[str]
    input_digest: str
    mode: str
    """The proof's advice mode: "clear", "provable" or "conjectured"."""
    verify_seconds: float

def compile(
    onnx: Union[PathLike, bytes],
    calibration: Optional[ArrayLike] = None,
    input_shape: Optional[Sequence[int]] = None,
    input_range: Tuple[float, float] = (0.0, 1.0),
    samples: int = 16,
    name: Optional[str] = None,
) -> Model:
    """Compiles an ONNX model (path or bytes) into a quantized Model. Raises gkrnet.CompileError
    naming the op, node and shapes it cannot import."""

def commit(model: Model, pcs: str = "provable", threads: Optional[int] = None) -> Commitment:
    """Commits the model's large dense weight matrices with Basefold."""

def verify(
    key: Union[Model, Commitment],
    x: InputLike,
    proof: Union[Proof, bytes],
    expect_digest: Optional[str] = None,
    allow_conjectured: bool = False,
    threads: Optional[int] = None,
) -> Verified:
    """Verifies proof of the inference on x against key; raises gkrnet.VerifyError (the CLI's
    reason) on rejection and gkrnet.InputError on a bad input."""

def default_calibration(
    len: int,
    proven: Optional[Sequence[float]] = None,
    input_range: Tuple[float, float] = (0.0, 1.0),
    samples: int = 16,
) -> List[List[float]]:
    """The calibration `gkrnet prove` uses for an ONNX model compiled for the input `proven`."""

def matmul_prove(a: np.ndarray, b: np.ndarray, threads: Optional[int] = None) -> Tuple[np.ndarray, bytes]: ...
def matmul_verify(a: np.ndarray, b: np.ndarray, c: np.ndarray, proof: bytes) -> None: ...
