"""gkrnet.from_torch: a PyTorch module exported through torch.onnx, then compiled."""

import io
from typing import Any, Optional, Sequence

import numpy as np

from ._errors import InputError
from ._native import Model, compile, default_calibration


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def from_torch(
    module: Any,
    example_input: Any,
    calibration: Optional[Any] = None,
    samples: int = 16,
    opset: int = 17,
    name: Optional[str] = None,
) -> Model:
    """Exports `module` with torch.onnx (the TorchScript exporter, `opset`) at the shape of
    `example_input` and compiles it.

    `example_input`: one tensor, or a tuple of tensors for a module with several inputs.
    `calibration`: float inputs whose first axis enumerates them (each the model's input size;
    with several inputs their concatenation). Default: the example input and `samples` seeded
    inputs drawn uniformly over [min(0, example), max(1, example)], as `gkrnet prove` calibrates
    an ONNX model it compiles for an input. PyTorch (and onnx) must be installed.
    """
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("gkrnet.from_torch needs PyTorch: pip install torch onnx") from e
    examples: Sequence[Any] = example_input if isinstance(example_input, (tuple, list)) else (example_input,)
    tensors = tuple(t if isinstance(t, torch.Tensor) else torch.as_tensor(np.asarray(t, dtype=np.float32)) for t in examples)
    if not tensors:
        raise InputError("from_torch needs an example input")
    was_training = module.training
    module.eval()
    buf = io.BytesIO()
    try:
        kwargs = {}
        # the current exporter (dynamo) writes external data and needs onnxscript; the
        # TorchScript exporter writes one self-contained protobuf
        if "dynamo" in torch.onnx.export.__code__.co_varnames:
            kwargs["dynamo"] = False
        with torch.no_grad():
            torch.onnx.export(
                module,
                tensors if len(tensors) > 1 else tensors[0],
                buf,
                opset_version=opset,
                input_names=[f"input_{i}" for i in range(len(tensors))] if len(tensors) > 1 else ["input"],
                **kwargs,
            )
    finally:
        module.train(was_training)
    flat = np.concatenate([_numpy(t).reshape(-1) for t in tensors])
    if calibration is None:
        calibration = np.asarray(default_calibration(flat.size, flat.tolist(), (0.0, 1.0), samples), dtype=np.float64)
    else:
        calibration = np.asarray(_numpy(calibration), dtype=np.float64)
    shape = list(tensors[0].shape) if len(tensors) == 1 else None
    return compile(
        buf.getvalue(),
        calibration=calibration,
        input_shape=shape,
        samples=samples,
        name=name or type(module).__name__,
    )
