"""gkrnet.from_torch: a PyTorch module exported through torch.onnx, then compiled."""

import io
from pathlib import Path
from typing import Any, Optional, Sequence

import numpy as np

from ._errors import InputError
from ._native import Model, compile, default_calibration


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _export(torch: Any, module: Any, args: Any, names: Sequence[str], opset: int) -> Any:
    """The ONNX export of `module`: the TorchScript exporter's self-contained protobuf (bytes)
    where this PyTorch has it and it can trace the module, else the current (dynamo) exporter's
    file in a temporary directory, which may keep weights in external data beside it (a path)."""
    import inspect
    import tempfile
    import warnings

    params = inspect.signature(torch.onnx.export).parameters
    errors = []
    buf = io.BytesIO()
    try:
        kwargs = {"dynamo": False} if "dynamo" in params else {}
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args, buf, opset_version=opset, input_names=list(names), **kwargs)
        return buf.getvalue()
    except Exception as e:  # the tracer cannot follow every module: try the other exporter
        errors.append(f"TorchScript exporter: {e}")
    if "dynamo" not in params:
        raise RuntimeError("torch.onnx.export failed: " + "; ".join(errors))
    out = Path(tempfile.mkdtemp(prefix="gkrnet-torch-")) / "model.onnx"
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, args if isinstance(args, tuple) else (args,), str(out), dynamo=True, input_names=list(names))
    except Exception as e:
        errors.append(f"dynamo exporter: {e}")
        raise RuntimeError("torch.onnx.export failed: " + "; ".join(errors)) from e
    return out


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

    `example_input`: one tensor (or array, or nested list), or a tuple of them for a module
    with several inputs.
    `calibration`: float inputs whose first axis enumerates them (each the model's input size;
    with several inputs their concatenation). Default: the example input and `samples` seeded
    inputs drawn uniformly over [min(0, example), max(1, example)], as `gkrnet prove` calibrates
    an ONNX model it compiles for an input. PyTorch (and onnx) must be installed.
    """
    try:
        import torch
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("gkrnet.from_torch needs PyTorch: pip install torch onnx") from e
    # a tuple is one tensor per input (torch.onnx's convention); anything else is one input
    examples: Sequence[Any] = example_input if isinstance(example_input, tuple) else (example_input,)
    tensors = tuple(t if isinstance(t, torch.Tensor) else torch.as_tensor(np.asarray(t, dtype=np.float32)) for t in examples)
    if not tensors:
        raise InputError("from_torch needs an example input")
    was_training = module.training
    module.eval()
    names = [f"input_{i}" for i in range(len(tensors))] if len(tensors) > 1 else ["input"]
    args = tensors if len(tensors) > 1 else tensors[0]
    try:
        onnx_model = _export(torch, module, args, names, opset)
    finally:
        module.train(was_training)
    flat = np.concatenate([_numpy(t).reshape(-1) for t in tensors])
    if calibration is None:
        calibration = np.asarray(default_calibration(flat.size, flat.tolist(), (0.0, 1.0), samples), dtype=np.float64)
    else:
        calibration = np.asarray(_numpy(calibration), dtype=np.float64)
    shape = list(tensors[0].shape) if len(tensors) == 1 else None
    try:
        return compile(
            onnx_model,
            calibration=calibration,
            input_shape=shape,
            samples=samples,
            name=name or type(module).__name__,
        )
    finally:
        if isinstance(onnx_model, Path):
            import shutil

            shutil.rmtree(onnx_model.parent, ignore_errors=True)
