"""Prove and verify one handwritten digit with the bundled digits CNN (nothing is trained).

    pip install ./python
    python examples/digits.py [index]

The model is models/digits_cnn.onnx (a float CNN on scikit-learn's 8×8 digits), quantized to int8
on models/digits_calibration.npy; the digit is one of models/digits_test_inputs.npy.
"""

import sys
import time
from pathlib import Path

import numpy as np

import gkrnet

MODELS = Path(__file__).resolve().parents[1] / "models"


def main() -> None:
    index = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    digits = np.load(MODELS / "digits_test_inputs.npy")
    labels = np.load(MODELS / "digits_test_labels.npy")
    if not 0 <= index < len(digits):
        sys.exit(f"index {index} is not in 0..{len(digits) - 1}")
    x, label = digits[index], int(labels[index])

    start = time.perf_counter()
    model = gkrnet.compile(MODELS / "digits_cnn.onnx", calibration=np.load(MODELS / "digits_calibration.npy"))
    compile_ms = (time.perf_counter() - start) * 1e3
    print(f"model    {model.name}: {len(model.layers)} layers, {model.parameters} parameters, compiled in {compile_ms:.1f} ms")
    print(f"digest   {model.digest}")
    report = model.report
    print(
        f"int8     vs float on {report['samples']} calibration inputs: max |Δ| {report['max_abs_error']:.4f}, "
        f"argmax agreement {report['argmax_agreement'] * 100:.1f} %"
    )

    proof = model.prove(x)
    print(f"prove    {proof.prove_seconds * 1e3:.2f} ms, proof {proof.size} bytes (advice: {proof.advice})")

    verified = gkrnet.verify(model, x, proof, expect_digest=model.digest)
    print(f"verify   {verified.verify_seconds * 1e3:.2f} ms: accepted")
    float_out = model.float_forward(x)
    print(f"digit    {label}; proven class {verified.predicted}; float model's class {int(np.argmax(float_out))}")
    print(f"output   {np.array2string(verified.output.ravel(), precision=3, max_line_width=120)}")
    print(f"         max |proven − float| {np.abs(verified.output - float_out).max():.4f} (not proven: the prover's own comparison)")

    tampered = bytearray(proof.to_bytes())
    tampered[len(tampered) // 2] ^= 1
    try:
        gkrnet.verify(model, x, bytes(tampered))
        sys.exit("a tampered proof was accepted")
    except gkrnet.VerifyError as e:
        print(f"tamper   one flipped byte: rejected ({e})")


if __name__ == "__main__":
    main()
