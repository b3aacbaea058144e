#!/usr/bin/env python3
"""Export the GPT-2 small architecture (12 layers, 12 heads, d = 768, vocabulary 50 257, 124 M
parameters) with seeded random weights, for benchmarks (issue 23). Not needed by the crate, its
tests or CI, and too large for the repository: it writes into --out (default /work/gpt2s).

No download is possible here, so the weights are transformers' own seeded initialisation
(torch.manual_seed(0)); timing does not depend on their values. Deterministic: rerunning it
rewrites byte-identical files.

Versions used: as models/make_transformers.py (torch 2.15.0, transformers 5.25.0, onnx 1.23.2,
onnxruntime 1.32.0, numpy 2.4.6).

Usage:  python3 models/make_gpt2_small.py [--out DIR] [--tokens 32] [--layers 12]

Writes, for T tokens and L layers (name gpt2_small_tT, or gpt2_Ll_tT when L ≠ 12):
    NAME.onnx           GPT2LMHeadModel(GPT2Config(n_layer=L, use_cache=False,
                        attn_implementation="eager")) wrapped to return the logits only, with
                        attention_mask=torch.ones_like(input_ids); torch.onnx.export(dynamo=False,
                        opset_version=17), input `input_ids` int64 [1,T], output `logits`
                        [1,T,50257]; weights inside the file when under 2 GB
    NAME_input.npy      seeded token ids (numpy RandomState(1), uniform in [0, 50257))
    NAME_expected.npy   onnxruntime's logits (1 thread) on that input, which must agree with
                        torch to 1e-3
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import warnings

import numpy as np

warnings.filterwarnings("ignore")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="/work/gpt2s")
    ap.add_argument("--tokens", type=int, default=32)
    ap.add_argument("--layers", type=int, default=12)
    a = ap.parse_args()

    import onnxruntime as ort
    import torch
    import transformers
    from torch import nn

    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    name = (f"gpt2_small_t{a.tokens}" if a.layers == 12 else f"gpt2_l{a.layers}_t{a.tokens}")

    class Logits(nn.Module):
        def __init__(self, gpt2):
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, input_ids):
            return self.gpt2(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                             use_cache=False, return_dict=True).logits

    torch.manual_seed(0)
    cfg = transformers.GPT2Config(n_layer=a.layers, use_cache=False,
                                  attn_implementation="eager")
    cfg._attn_implementation = "eager"
    m = Logits(transformers.GPT2LMHeadModel(cfg)).eval()
    ids = np.random.RandomState(1).randint(0, cfg.vocab_size, size=(1, a.tokens)).astype(np.int64)
    path = os.path.join(a.out, f"{name}.onnx")
    with torch.no_grad():
        ref = m(torch.from_numpy(ids)).numpy()
        torch.onnx.export(m, (torch.from_numpy(ids),), path, dynamo=False, opset_version=17,
                          input_names=["input_ids"], output_names=["logits"],
                          do_constant_folding=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    y = s.run(None, {"input_ids": ids})[0]
    diff = float(np.abs(y - ref).max())
    if not diff <= 1e-3:
        raise SystemExit(f"onnxruntime differs from torch by {diff:.3g}")
    np.save(os.path.join(a.out, f"{name}_input.npy"), ids)
    np.save(os.path.join(a.out, f"{name}_expected.npy"), y)
    params = sum(p.numel() for p in m.parameters())
    print(f"{path}: {os.path.getsize(path)} bytes, {params} parameters, "
          f"max |ort - torch| = {diff:.3g}")


if __name__ == "__main__":
    main()
