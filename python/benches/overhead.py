"""What the Python layer costs next to the CLI, on the bundled digits CNN.

    python python/benches/overhead.py [runs]

Prints medians over `runs` (default 21) of: `import gkrnet` in a fresh interpreter; a Python
`Model.prove` / `gkrnet.verify` call (wall time, and the part spent outside the library's own
prove/verify timers); and the CLI's `gkrnet prove` / `gkrnet verify` of the same compiled model
and input (process wall time, and the prove/verify time the CLI reports).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import gkrnet

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"
CLI = Path(os.environ.get("GKRNET_CLI", ROOT / "target" / "release" / "gkrnet"))


def median_ms(xs):
    return statistics.median(xs) * 1e3


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    imports = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", "import time; t = time.perf_counter(); import gkrnet; print(time.perf_counter() - t)"],
            check=True, capture_output=True, text=True,
        )
        imports.append(float(out.stdout))
    print(f"import gkrnet (fresh interpreter, numpy included): median {median_ms(imports):.1f} ms over {runs} runs")

    model = gkrnet.compile(MODELS / "digits_cnn.onnx", calibration=np.load(MODELS / "digits_calibration.npy"))
    x = np.load(MODELS / "digits_test_inputs.npy")[0]
    prove_wall, prove_lib, verify_wall, verify_lib = [], [], [], []
    for _ in range(runs):
        t = time.perf_counter()
        proof = model.prove(x)
        prove_wall.append(time.perf_counter() - t)
        prove_lib.append(proof.prove_seconds)
        t = time.perf_counter()
        v = gkrnet.verify(model, x, proof)
        verify_wall.append(time.perf_counter() - t)
        verify_lib.append(v.verify_seconds)
    print(
        f"Python  prove  median {median_ms(prove_wall):.2f} ms (library {median_ms(prove_lib):.2f} ms, "
        f"outside it {median_ms([w - l for w, l in zip(prove_wall, prove_lib)]):.3f} ms)"
    )
    print(
        f"Python  verify median {median_ms(verify_wall):.2f} ms (library {median_ms(verify_lib):.2f} ms, "
        f"outside it {median_ms([w - l for w, l in zip(verify_wall, verify_lib)]):.3f} ms)"
    )
    if not CLI.exists():
        print(f"no CLI at {CLI}: build it with cargo build --release (or set GKRNET_CLI)")
        return
    with tempfile.TemporaryDirectory() as d:
        d = Path(d)
        model.save(d / "m.gkrm")
        np.save(d / "x.npy", x)
        cli_prove, cli_prove_ms, cli_verify, cli_verify_ms = [], [], [], []
        for _ in range(runs):
            t = time.perf_counter()
            out = subprocess.run(
                [CLI, "prove", "--model", d / "m.gkrm", "--input", d / "x.npy", "--proof", d / "p.gkr", "--json"],
                check=True, capture_output=True, text=True,
            )
            cli_prove.append(time.perf_counter() - t)
            cli_prove_ms.append(json.loads(out.stdout)["prove_ms"] / 1e3)
            t = time.perf_counter()
            out = subprocess.run(
                [CLI, "verify", "--model", d / "m.gkrm", "--input", d / "x.npy", "--proof", d / "p.gkr", "--json"],
                check=True, capture_output=True, text=True,
            )
            cli_verify.append(time.perf_counter() - t)
            cli_verify_ms.append(json.loads(out.stdout)["verify_ms"] / 1e3)
    print(f"CLI     prove  median {median_ms(cli_prove):.2f} ms per process (prove {median_ms(cli_prove_ms):.2f} ms)")
    print(f"CLI     verify median {median_ms(cli_verify):.2f} ms per process (verify {median_ms(cli_verify_ms):.2f} ms)")


if __name__ == "__main__":
    main()
