#!/usr/bin/env python3
"""Train a small byte-level GPT on the Python standard library and export it (models/bytegpt/).

The accuracy experiment of issue 22: a GPT-2 that is not trivially bad, whose proven integer
logits are then compared with the float ones by models/eval_bytegpt.py. Not needed by the
crate, its tests or CI. No downloads: the corpus is the source of the Python standard library
that runs this script, present on every machine with Python.

Deterministic: torch.manual_seed before building the model, numpy RandomState streams for the
training windows and for the held-out and calibration windows, single-threaded torch
(torch.use_deterministic_algorithms) and onnxruntime. Rerunning it with the same versions (and
the same standard library) rewrites byte-identical bytegpt.onnx and .npy files; metrics.json
and README.md also hold the training time in seconds, which varies.

Versions used (pip install torch==2.15.0 onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6
transformers==5.25.0; torch from PyPI, the CUDA build, used on CPU only):
    Python 3.11.7, torch 2.15.0+cu132, transformers 5.25.0, onnx 1.23.2, onnxruntime 1.32.0,
    numpy 2.4.6

Usage:  OMP_NUM_THREADS=1 python3 models/make_bytegpt.py [--out models/bytegpt] [--steps 3600]
        (about 6 minutes on one thread of a 2.6 GHz Xeon)

Corpus: every top-level *.py file of sysconfig.get_paths()["stdlib"], sorted by name, read as
bytes. The held-out modules (HELDOUT: the first HELDOUT_COUNT of the candidates that exist) are
left out of training entirely; the others are concatenated in name order into the training text.

Model: transformers.GPT2LMHeadModel(GPT2Config(vocab_size=256, n_embd=128, n_layer=2, n_head=4,
n_positions=64, use_cache=False, attn_implementation="eager", dropout 0 everywhere)), 437,760
parameters (the LM head is tied to the token embedding). Training: STEPS steps of AdamW
(lr LR, betas (0.9, 0.95), weight decay 0.01; 100 warm-up steps, cosine decay to LR/10,
gradient norm clipped at 1), each on BATCH random 65-byte windows of the training text (start
offsets from numpy RandomState(SEED_TRAIN)): the first 64 bytes are the input, the loss is the
cross-entropy of the 64 next bytes.

Writes into --out:
    bytegpt.onnx       torch.onnx.export(dynamo=False, opset_version=17), fixed shape: input
                       `input_ids` int64 [1,64], output `logits` float32 [1,64,256]; the wrapper
                       passes attention_mask=torch.ones_like(input_ids), as gpt2_tiny in
                       make_transformers.py (with None, transformers calls torch.diff, which the
                       legacy exporter cannot export); onnxruntime must agree with torch to 1e-4
    heldout.npy        int64 [64,64]: 64 windows of 64 bytes of the held-out text, start offsets
                       from RandomState(SEED_HELDOUT)
    calibration.npy    int64 [16,64]: 16 windows of the training text, RandomState(SEED_CALIB)
    metrics.json       the float model: bits per byte on heldout.npy (positions 0..62 predicting
                       byte t+1) and on the whole held-out text (consecutive 64-byte windows),
                       the mean training loss of the last 100 steps, steps, seconds, corpus sizes
    README.md          how the files were made, versions, sizes
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import glob
import json
import logging
import math
import platform
import sysconfig
import textwrap
import time
import warnings

import numpy as np
import onnx
import onnxruntime as ort

logging.getLogger().setLevel(logging.ERROR)
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
TOL = 1e-4  # max abs difference allowed between onnxruntime and torch
CTX = 64  # sequence length (n_positions) of the model and of every window
# held-out modules: the first HELDOUT_COUNT of these that the standard library has
HELDOUT = ("difflib", "fractions", "statistics", "textwrap", "calendar", "heapq", "bisect",
           "shlex", "colorsys")
HELDOUT_COUNT = 4
STEPS = 3600
BATCH = 32
LR = 3e-3
WARMUP = 100
SEED_MODEL = 0  # torch.manual_seed before building the model
SEED_TRAIN = 1  # RandomState of the training windows
SEED_HELDOUT = 2  # RandomState of heldout.npy's windows
SEED_CALIB = 3  # RandomState of calibration.npy's windows
N_HELDOUT = 64
N_CALIB = 16


def versions():
    import torch
    import transformers
    return [("Python", platform.python_version()), ("torch", torch.__version__),
            ("transformers", transformers.__version__), ("onnx", onnx.__version__),
            ("onnxruntime", ort.__version__), ("numpy", np.__version__)]


def corpus():
    """(training bytes, held-out bytes, training file names, held-out file names)."""
    stdlib = sysconfig.get_paths()["stdlib"]
    files = sorted(glob.glob(os.path.join(stdlib, "*.py")), key=os.path.basename)
    names = [os.path.basename(f) for f in files]
    held = [m + ".py" for m in HELDOUT if m + ".py" in names][:HELDOUT_COUNT]
    if not held:  # none of the named modules: hold out every 20th file instead
        held = names[10::20]
    train = [n for n in names if n not in held]
    read = lambda n: open(os.path.join(stdlib, n), "rb").read()  # noqa: E731
    train_bytes = b"".join(read(n) for n in train)
    held_bytes = b"".join(read(n) for n in held)
    return (np.frombuffer(train_bytes, dtype=np.uint8), np.frombuffer(held_bytes, dtype=np.uint8),
            train, held)


def windows(text, starts, length):
    return np.stack([text[s:s + length] for s in starts]).astype(np.int64)


def build_model():
    import torch
    import transformers
    torch.manual_seed(SEED_MODEL)
    cfg = transformers.GPT2Config(vocab_size=256, n_embd=128, n_layer=2, n_head=4,
                                  n_positions=CTX, use_cache=False, attn_implementation="eager",
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                  bos_token_id=None, eos_token_id=None)
    cfg._attn_implementation = "eager"  # as in make_transformers.py
    return transformers.GPT2LMHeadModel(cfg)


def bits_per_byte(model, ids, batch=256):
    """Mean cross-entropy (bits) of positions 0..62 of each window predicting byte t+1."""
    import torch
    total, count = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(ids), batch):
            x = torch.from_numpy(ids[i:i + batch])
            logits = model(input_ids=x, use_cache=False).logits[:, :-1]
            nll = torch.nn.functional.cross_entropy(logits.reshape(-1, 256).double(),
                                                    x[:, 1:].reshape(-1), reduction="sum")
            total += float(nll)
            count += x[:, 1:].numel()
    return total / count / math.log(2)


def train(model, text, steps, log_every=200):
    import torch
    opt = torch.optim.AdamW(model.parameters(), lr=LR, betas=(0.9, 0.95), weight_decay=0.01)

    def lr_at(step):
        if step < WARMUP:
            return LR * (step + 1) / WARMUP
        t = (step - WARMUP) / max(1, steps - WARMUP)
        return LR * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t)))

    rs = np.random.RandomState(SEED_TRAIN)
    losses = []
    model.train()
    start = time.time()
    for step in range(steps):
        starts = rs.randint(0, len(text) - CTX - 1, size=BATCH)
        x = torch.from_numpy(windows(text, starts, CTX + 1))
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        logits = model(input_ids=x[:, :-1], use_cache=False).logits
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 256), x[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss))
        if (step + 1) % log_every == 0 or step + 1 == steps:
            recent = np.mean(losses[-log_every:])
            print(f"  step {step + 1}/{steps}: loss {recent:.4f} nats "
                  f"({recent / math.log(2):.3f} bits/byte), {time.time() - start:.0f} s",
                  flush=True)
    model.eval()
    return losses, time.time() - start


def ort_logits(path, ids):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"input_ids": ids[i:i + 1]})[0] for i in range(len(ids))])


def export(model, path, example):
    import torch
    from torch import nn

    class Logits(nn.Module):
        def __init__(self, gpt2):
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, input_ids):
            # an explicit all-ones mask: with attention_mask=None transformers checks
            # position_ids for packed sequences with torch.diff, which the legacy exporter
            # cannot export (aten::diff); the causal mask is the same either way
            return self.gpt2(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                             use_cache=False, return_dict=True).logits

    wrapped = Logits(model).eval()
    with torch.no_grad():
        torch.onnx.export(wrapped, (torch.from_numpy(example),), path, dynamo=False,
                          opset_version=OPSET, input_names=["input_ids"],
                          output_names=["logits"], do_constant_folding=True)
    return wrapped


def write_readme(out, vers, m):
    vline = ", ".join(f"{k} {v}" for k, v in vers)
    sizes = {f: os.path.getsize(os.path.join(out, f))
             for f in ("bytegpt.onnx", "heldout.npy", "calibration.npy")}
    L = ["# models/bytegpt/", "",
         textwrap.fill("A byte-level GPT-2 (2 layers, d = 128, 4 heads, 64 positions, vocabulary "
                       "256 = the byte values) trained for a few minutes on the Python standard "
                       "library's source, for the accuracy experiment of issue 22: how far the "
                       "proven integer model's next-byte predictions are from the float model's. "
                       "Made by `models/make_bytegpt.py`, measured by "
                       "`models/eval_bytegpt.py` (results.json); the write-up is "
                       "`paper-notes/accuracy-gpt.md`. Not used by the crate's tests.", 100), "",
         "    pip install torch==2.15.0 onnx==1.23.2 onnxruntime==1.32.0 numpy==2.4.6 "
         "transformers==5.25.0",
         f"    OMP_NUM_THREADS=1 python3 models/make_bytegpt.py --steps {m['steps']}", "",
         textwrap.fill(f"Versions used: {vline}.", 100), "",
         "## Corpus", "",
         textwrap.fill(f"Every top-level `*.py` file of the standard library "
                       f"(`sysconfig.get_paths()[\"stdlib\"]`, Python {platform.python_version()}"
                       f"), sorted by name: {m['train_files']} training files "
                       f"({m['train_bytes']:,} bytes, concatenated in name order) and "
                       f"{len(m['heldout_files'])} held-out modules never trained on: "
                       + ", ".join(f"`{f}`" for f in m['heldout_files'])
                       + f" ({m['heldout_bytes']:,} bytes). Another Python version has another "
                       "standard library, so another corpus.", 100), "",
         "## Training", "",
         textwrap.fill(f"`torch.manual_seed({SEED_MODEL})`, then "
                       "`GPT2LMHeadModel(GPT2Config(vocab_size=256, n_embd=128, n_layer=2, "
                       "n_head=4, n_positions=64, use_cache=False, attn_implementation=\"eager\", "
                       "resid_pdrop=0, embd_pdrop=0, attn_pdrop=0))`, "
                       f"{m['parameters']:,} parameters (LM head tied to the token embedding). "
                       f"{m['steps']} steps of AdamW (lr {LR}, betas (0.9, 0.95), weight decay "
                       f"0.01, {WARMUP} warm-up steps then cosine decay to lr/10, gradient norm "
                       f"clipped at 1), batch {BATCH} random 65-byte windows "
                       f"(`RandomState({SEED_TRAIN})`), loss the cross-entropy of the 64 next "
                       f"bytes; one thread, {m['seconds']:.0f} s on this machine.", 100), "",
         "## Files", "",
         f"* `bytegpt.onnx` ({sizes['bytegpt.onnx']:,} bytes): `torch.onnx.export(dynamo=False, "
         "opset_version=17)`,",
         "  fixed shapes, input `input_ids` int64 `[1,64]`, output `logits` float32 `[1,64,256]`;",
         "  the wrapper passes `attention_mask=torch.ones_like(input_ids)` (as `gpt2_tiny` in",
         f"  `../transformers/`). onnxruntime agrees with torch to {m['max_abs_ort_vs_torch']:.2e}"
         " on heldout.npy.",
         f"* `heldout.npy` ({sizes['heldout.npy']:,} bytes): int64 `[{N_HELDOUT},64]`, windows of "
         f"the held-out text,",
         f"  starts from `RandomState({SEED_HELDOUT})`.",
         f"* `calibration.npy` ({sizes['calibration.npy']:,} bytes): int64 `[{N_CALIB},64]`, "
         f"windows of the training text,",
         f"  starts from `RandomState({SEED_CALIB})`; `gkrnet compile bytegpt.onnx --calibration "
         "calibration.npy`",
         "  takes it as it is (integer ids).",
         "* `metrics.json`: the float model's figures below, the training time, the versions.",
         "* `results.json`: integer vs float, written by `python3 models/eval_bytegpt.py` (proofs",
         "  of every held-out window under six calibrations, the per-layer errors, a",
         "  fake-quantization study); summarized in `paper-notes/accuracy-gpt.md`.", "",
         "## Float model", "",
         "Bits per byte = mean cross-entropy in bits of positions 0..62 of each 64-byte window",
         "predicting byte t+1:", "",
         f"* held-out, heldout.npy ({N_HELDOUT} windows): {m['heldout_bpb']:.4f} bits/byte",
         f"* held-out, whole text ({m['heldout_all_windows']} consecutive windows): "
         f"{m['heldout_all_bpb']:.4f} bits/byte",
         f"* training, mean loss of the last 100 steps: {m['train_loss_last100']:.4f} nats "
         f"= {m['train_bpb_last100']:.4f} bits/byte (over all 64 positions)",
         f"* training text, {m['train_sample_windows']} seeded windows (positions 0..62): "
         f"{m['train_sample_bpb']:.4f} bits/byte", ""]
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(L))


def main():
    ap = argparse.ArgumentParser(description="Train and export the byte-level GPT fixture.")
    ap.add_argument("--out", default=os.path.join(HERE, "bytegpt"))
    ap.add_argument("--steps", type=int, default=STEPS)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)

    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers), flush=True)
    train_text, held_text, train_files, held_files = corpus()
    print(f"corpus: {len(train_files)} training files, {len(train_text):,} bytes; held out "
          f"{', '.join(held_files)}: {len(held_text):,} bytes", flush=True)

    heldout = windows(held_text, np.random.RandomState(SEED_HELDOUT).randint(
        0, len(held_text) - CTX, size=N_HELDOUT), CTX)
    calib = windows(train_text, np.random.RandomState(SEED_CALIB).randint(
        0, len(train_text) - CTX, size=N_CALIB), CTX)
    n_all = len(held_text) // CTX
    held_all = held_text[:n_all * CTX].reshape(n_all, CTX).astype(np.int64)
    train_sample = windows(train_text, np.random.RandomState(SEED_HELDOUT).randint(
        0, len(train_text) - CTX, size=1024), CTX)

    model = build_model()
    params = sum(p.numel() for p in model.parameters())
    print(f"model: {params:,} parameters; training {a.steps} steps of batch {BATCH}", flush=True)
    losses, seconds = train(model, train_text, a.steps)

    path = os.path.join(a.out, "bytegpt.onnx")
    wrapped = export(model, path, heldout[:1])
    with torch.no_grad():
        ref = wrapped(torch.from_numpy(heldout)).numpy()
    y = ort_logits(path, heldout)
    diff = float(np.abs(y - ref).max())
    if not diff <= TOL:
        raise RuntimeError(f"onnxruntime differs from torch by {diff:.3g} > {TOL}")
    np.save(os.path.join(a.out, "heldout.npy"), heldout)
    np.save(os.path.join(a.out, "calibration.npy"), calib)

    last = float(np.mean(losses[-100:]))
    m = {
        "heldout_bpb": bits_per_byte(model, heldout),
        "heldout_all_bpb": bits_per_byte(model, held_all),
        "heldout_all_windows": n_all,
        "train_sample_bpb": bits_per_byte(model, train_sample),
        "train_sample_windows": len(train_sample),
        "train_loss_last100": last,
        "train_bpb_last100": last / math.log(2),
        "steps": a.steps, "batch": BATCH, "lr": LR, "seconds": round(seconds, 1),
        "parameters": params,
        "train_files": len(train_files), "train_bytes": len(train_text),
        "heldout_files": held_files, "heldout_bytes": len(held_text),
        "max_abs_ort_vs_torch": diff,
        "versions": dict(vers),
    }
    with open(os.path.join(a.out, "metrics.json"), "w") as f:
        json.dump(m, f, indent=1)
        f.write("\n")
    write_readme(a.out, vers, m)
    print(f"float model: held-out {m['heldout_bpb']:.4f} bits/byte (heldout.npy), "
          f"{m['heldout_all_bpb']:.4f} (whole held-out text); training sample "
          f"{m['train_sample_bpb']:.4f}; last-100 train loss {last:.4f} nats; "
          f"{seconds:.0f} s; |ort - torch| {diff:.2e}; "
          f"{os.path.getsize(path):,} bytes onnx", flush=True)


if __name__ == "__main__":
    main()
