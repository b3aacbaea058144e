#!/usr/bin/env python3
"""Generate a zoo of ordinary third-party ONNX models for triaging `gkrnet` (not fixtures: the
zoo goes OUTSIDE the repo, default /work/zoo).

Not needed by the crate, its tests or CI. Deterministic: fixed seeds (torch.manual_seed and
numpy RandomState per model), single-threaded torch and onnxruntime.

Versions used (pip install torch==2.15.0 torchvision==0.29.2 onnx==1.23.2 onnxruntime==1.32.0
onnxscript==0.7.2 scikit-learn==1.9.1 skl2onnx==1.20.0 numpy==2.4.6; torch from PyPI, the
CUDA build, used on CPU only, because the CPU-only index was not reachable):
    Python 3.11.7, numpy 2.4.6, torch 2.15.0, torchvision 0.29.2, onnx 1.23.2, onnx-ir 1.1.0,
    onnxscript 0.7.2, onnxruntime 1.32.0, scikit-learn 1.9.1 (scipy 1.17.1), skl2onnx 1.20.0

Usage:  python3 models/make_zoo.py [--out /work/zoo] [--no-dynamo] [--only NAME[,NAME...]]
        python3 models/make_zoo.py --bn-recalibrate --out /work/zoo_bnrc
            (only the torchvision models with BatchNorm, same names, but with BatchNorm running
            statistics from 8 seeded batches: with weights=None BatchNorm is the identity and
            mobilenet_v2, mnasnet0_5, efficientnet_b0 outputs vanish, ~1e-9, 5e-8, 4e-14)

For every model NAME it writes into --out:
    NAME.onnx           the model
    NAME_input.npy      one float32 sample, batch 1 (seeded standard normal for the torch
                        models; a real test digit scaled to [0, 1] for the scikit-learn ones)
    NAME_input.json     the same sample, ezkl style: {"input_data": [[flat list]]}
    NAME_expected.npy   onnxruntime's output for it (the first output; for the scikit-learn
                        classifiers the probabilities, a ZipMap's list of dicts turned into an
                        array in class order)
Models:
    torchvision (weights=None, seeded, eval, 1x3x64x64): resnet18, mobilenet_v2, efficientnet_b0,
        squeezenet1_1, shufflenet_v2_x0_5, mnasnet0_5, vgg11, each as
        NAME.onnx         torch.onnx.export(dynamo=False, opset 17)
        NAME_dynamo.onnx  torch.onnx.export(dynamo=True) (may come with NAME_dynamo.onnx.data)
        NAME_qdq.onnx     quantize_static(NAME.onnx, QuantFormat.QDQ, per-tensor int8,
                          MinMax calibration on 8 seeded standard-normal inputs)
        NAME_qop.onnx     the same with QuantFormat.QOperator
        (if the legacy export fails, as vgg11's adaptive_avg_pool2d 2x2 -> 7x7 does, the
        quantized models are made from NAME_dynamo.onnx instead)
    small torch (legacy and dynamo exports): mlp_silu (64 -> 32 SiLU -> 10),
        se_block (x * sigmoid(fc(relu(fc(mean_hw(x))))), x 1x8x8x8), lstm and gru (batch first,
        seq len 5, 4 features, hidden 8, followed by Linear(8, 3) on the last step)
    scikit-learn on load_digits via skl2onnx (input 1x64 float): logreg, logreg_nozipmap,
        mlpclf, mlpclf_nozipmap (zipmap=False option), linreg (LinearRegression on the label)
A model that fails to export is skipped and listed, with its error, in skipped.txt. When
quantize_static fails on the exported model as is, it is retried once on the model after
onnxruntime.quantization.shape_inference.quant_pre_process (noted as NOTE in skipped.txt).
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import logging
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np
import onnx
import onnxruntime as ort

logging.getLogger().setLevel(logging.ERROR)
warnings.filterwarnings("ignore")

OPSET = 17
IMG = (1, 3, 64, 64)
N_CALIB = 8
TV_MODELS = ["resnet18", "mobilenet_v2", "efficientnet_b0", "squeezenet1_1",
             "shufflenet_v2_x0_5", "mnasnet0_5", "vgg11"]
SEED_MODEL = 0  # torch.manual_seed before building each model
SEED_INPUT = 1  # numpy seed of each model's sample input
SEED_CALIB = 2  # numpy seed of the 8 quantization calibration inputs
SEED_SKL = 0
SEED_BN = 3  # numpy seed of the --bn-recalibrate batch
N_BN = 8

SKIPPED = []  # (name, error): not written
NOTES = []  # (name, note): written after a workaround
PER_CHANNEL = False  # --per-channel: also write <name>_qdq_pc.onnx (per-channel weight scales)


def ort_session(p):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    return ort.InferenceSession(p, so, providers=["CPUExecutionProvider"])


def run_ort(p, x):
    s = ort_session(p)
    outs = s.run(None, {s.get_inputs()[0].name: x})
    return outs


def as_array(out):
    """First output of a model; a ZipMap (list of {class: prob}) becomes an array."""
    if isinstance(out, list) and out and isinstance(out[0], dict):
        keys = sorted(out[0])
        return np.array([[d[k] for k in keys] for d in out], dtype=np.float32)
    return np.asarray(out)


def write_io(out_dir, name, x, expected):
    np.save(os.path.join(out_dir, f"{name}_input.npy"), x)
    with open(os.path.join(out_dir, f"{name}_input.json"), "w") as f:
        json.dump({"input_data": [x.reshape(-1).astype(float).tolist()]}, f)
    np.save(os.path.join(out_dir, f"{name}_expected.npy"), expected)


def attempt(name, fn):
    t = time.time()
    try:
        fn()
        print(f"  {name}: ok ({time.time() - t:.1f} s)", flush=True)
        return True
    except Exception as e:  # noqa: BLE001 - any export failure is recorded, not fatal
        msg = f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"
        SKIPPED.append((name, msg))
        print(f"  {name}: SKIPPED {msg}", flush=True)
        traceback.print_exc(limit=3, file=sys.stderr)
        return False


# -------------------------------------------------------------------------------- torch part
def torch_export(out_dir, name, model, x, dynamo):
    import torch

    model.eval()
    xt = torch.from_numpy(x)
    with torch.no_grad():
        ref = model(xt).numpy()
    legacy = os.path.join(out_dir, f"{name}.onnx")

    def legacy_export():
        torch.onnx.export(model, (xt,), legacy, dynamo=False, opset_version=OPSET,
                          input_names=["input"], output_names=["output"])
        y = run_ort(legacy, x)[0]
        if not np.allclose(y, ref, rtol=1e-3, atol=1e-4):
            raise RuntimeError(f"onnxruntime differs from torch by {np.abs(y - ref).max()}")
        write_io(out_dir, name, x, y)

    ok = attempt(name, legacy_export)

    if dynamo:
        dname = f"{name}_dynamo"
        dpath = os.path.join(out_dir, f"{dname}.onnx")

        def dynamo_export():
            for p in (dpath, dpath + ".data"):
                if os.path.exists(p):
                    os.remove(p)
            prog = torch.onnx.export(model, (xt,), dpath, dynamo=True,
                                     input_names=["input"], output_names=["output"])
            del prog
            y = run_ort(dpath, x)[0]
            write_io(out_dir, dname, x, y)

        if attempt(dname, dynamo_export) and not ok:
            return dname
    return name if ok else None


def quantize(out_dir, name, x, src_name):
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    calib = np.random.RandomState(SEED_CALIB).standard_normal((N_CALIB,) + x.shape[1:]) \
        .astype(np.float32)
    src = os.path.join(out_dir, f"{src_name}.onnx")
    if src_name != name:
        NOTES.append((name, f"the legacy export failed: {name}_qdq/_qop quantize {src_name}.onnx"))
    in_name = ort_session(src).get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{in_name: calib[i:i + 1]} for i in range(N_CALIB)])

        def get_next(self):
            return next(self.it, None)

    variants = [("qdq", QuantFormat.QDQ, False), ("qop", QuantFormat.QOperator, False)]
    if PER_CHANNEL:
        variants.append(("qdq_pc", QuantFormat.QDQ, True))
    for tag, fmt, per_channel in variants:
        qname = f"{name}_{tag}"
        qpath = os.path.join(out_dir, f"{qname}.onnx")

        def q():
            with tempfile.TemporaryDirectory() as td:  # the quantizer's augmented model
                cwd = os.getcwd()
                os.chdir(td)
                try:
                    def run(model_in):
                        quantize_static(model_in, qpath, Reader(), quant_format=fmt,
                                        per_channel=per_channel, activation_type=QuantType.QInt8,
                                        weight_type=QuantType.QInt8)
                    try:
                        run(src)
                    except Exception as e:  # noqa: BLE001
                        # what a user does next, as the quantizer's warning advises: pre-process
                        # (shape inference, graph optimization; here it also un-shares the
                        # legacy exporter's deduplicated Conv bias initializers)
                        NOTES.append((qname, f"direct quantize_static failed "
                                      f"({type(e).__name__}: {e}); retried after "
                                      f"quant_pre_process"))
                        pre = os.path.join(td, "pre.onnx")
                        quant_pre_process(src, pre)
                        run(pre)
                finally:
                    os.chdir(cwd)
            write_io(out_dir, qname, x, as_array(run_ort(qpath, x)[0]))

        attempt(qname, q)


def recalibrate_bn(model):
    """BatchNorm running statistics from 8 seeded batches (train mode, cumulative average).

    With weights=None every BatchNorm holds mean 0, var 1, so in eval mode it is the identity
    and activations shrink layer after layer: the exported mobilenet_v2, mnasnet0_5 and
    efficientnet_b0 give outputs of about 1e-9, 5e-8 and 4e-14. Afterwards every BatchNorm
    output has about unit variance, as in a trained network. Returns False if there is no BN.
    """
    import torch

    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return False
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    x = np.random.RandomState(SEED_BN).standard_normal((N_BN,) + IMG[1:]).astype(np.float32)
    model.train()
    with torch.no_grad():
        model(torch.from_numpy(x))
    model.eval()
    return True


def torchvision_models(out_dir, dynamo, only, bn_recal):
    import torch
    import torchvision

    # any other torchvision classifier named in --only (resnet50 for issue 21's benchmarks)
    extra = sorted(n for n in only if n not in TV_MODELS and hasattr(torchvision.models, n))
    for name in TV_MODELS + extra:
        if only and name not in only:
            continue
        torch.manual_seed(SEED_MODEL)
        model = getattr(torchvision.models, name)(weights=None).eval()
        if bn_recal and not recalibrate_bn(model):
            print(f"  {name}: no BatchNorm, not written with --bn-recalibrate", flush=True)
            continue
        x = np.random.RandomState(SEED_INPUT).standard_normal(IMG).astype(np.float32)
        src_name = torch_export(out_dir, name, model, x, dynamo)
        if src_name:
            quantize(out_dir, name, x, src_name)


def small_torch_models(out_dir, dynamo, only):
    import torch
    from torch import nn

    class MlpSilu(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.act, self.fc2 = nn.Linear(64, 32), nn.SiLU(), nn.Linear(32, 10)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class SeBlock(nn.Module):
        def __init__(self, c=8, r=2):
            super().__init__()
            self.fc1, self.fc2 = nn.Linear(c, c // r), nn.Linear(c // r, c)

        def forward(self, x):
            s = x.mean(dim=(2, 3))
            s = torch.sigmoid(self.fc2(torch.relu(self.fc1(s))))
            return x * s[:, :, None, None]

    class Rnn(nn.Module):
        def __init__(self, cell):
            super().__init__()
            self.rnn = cell(input_size=4, hidden_size=8, batch_first=True)
            self.head = nn.Linear(8, 3)

        def forward(self, x):
            y, _ = self.rnn(x)
            return self.head(y[:, -1])

    specs = [
        ("mlp_silu", MlpSilu, (1, 64)),
        ("se_block", SeBlock, (1, 8, 8, 8)),
        ("lstm", lambda: Rnn(nn.LSTM), (1, 5, 4)),
        ("gru", lambda: Rnn(nn.GRU), (1, 5, 4)),
    ]
    for name, make, shape in specs:
        if only and name not in only:
            continue
        torch.manual_seed(SEED_MODEL)
        model = make().eval()
        x = np.random.RandomState(SEED_INPUT).standard_normal(shape).astype(np.float32)
        torch_export(out_dir, name, model, x, dynamo)


# ------------------------------------------------------------------------------ sklearn part
def sklearn_models(out_dir, only):
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LinearRegression, LogisticRegression
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    d = load_digits()
    x = (d.data / 16.0).astype(np.float32)
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, _ = train_test_split(x, y, test_size=0.2, random_state=SEED_SKL,
                                           stratify=y)
    sample = x_te[:1].copy()

    fits = {
        "logreg": lambda: LogisticRegression(max_iter=500).fit(x_tr, y_tr),
        "mlpclf": lambda: MLPClassifier(hidden_layer_sizes=(32,), max_iter=300,
                                        random_state=SEED_SKL).fit(x_tr, y_tr),
        "linreg": lambda: LinearRegression().fit(x_tr, y_tr.astype(np.float32)),
    }
    for base, fit in fits.items():
        variants = [(base, None)]
        if base != "linreg":
            variants.append((f"{base}_nozipmap", "nozipmap"))
        model = None
        for name, var in variants:
            if only and name not in only:
                continue
            if model is None:
                model = fit()

            def export(name=name, var=var, model=model):
                opts = {id(model): {"zipmap": False}} if var else None
                onx = to_onnx(model, x_tr[:1], options=opts)
                # skl2onnx lists the opset imports in set order (varies with PYTHONHASHSEED)
                imports = sorted(onx.opset_import, key=lambda o: o.domain)
                del onx.opset_import[:]
                onx.opset_import.extend(imports)
                p = os.path.join(out_dir, f"{name}.onnx")
                onnx.save(onx, p)
                outs = run_ort(p, sample)
                write_io(out_dir, name, sample, as_array(outs[-1]))

            attempt(name, export)


def main():
    ap = argparse.ArgumentParser(description="Generate the ONNX triage zoo.")
    ap.add_argument("--out", default="/work/zoo")
    ap.add_argument("--no-dynamo", action="store_true", help="skip the dynamo=True exports")
    ap.add_argument("--only", default="",
                    help="comma-separated base names; a torchvision classifier not in the "
                         "default list (e.g. resnet50) may be named too")
    ap.add_argument("--image-size", type=int, default=64,
                    help="height and width of the torchvision models' input (224 for the "
                         "full-size benchmarks of issue 21; use another --out)")
    ap.add_argument("--per-channel", action="store_true",
                    help="also write <name>_qdq_pc.onnx, quantized with one weight scale per "
                         "output channel (onnxruntime per_channel=True)")
    ap.add_argument("--bn-recalibrate", action="store_true",
                    help="only the torchvision models that have BatchNorm, with BatchNorm "
                         "statistics from 8 seeded batches (use another --out)")
    a = ap.parse_args()
    global IMG, PER_CHANNEL
    IMG = (1, 3, a.image_size, a.image_size)
    PER_CHANNEL = a.per_channel
    os.makedirs(a.out, exist_ok=True)
    only = set(filter(None, a.only.split(",")))

    import torch
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    print("torchvision models", flush=True)
    torchvision_models(a.out, not a.no_dynamo, only, a.bn_recalibrate)
    if not a.bn_recalibrate:
        print("small torch models", flush=True)
        small_torch_models(a.out, not a.no_dynamo, only)
        print("scikit-learn models", flush=True)
        sklearn_models(a.out, only)

    with open(os.path.join(a.out, "skipped.txt"), "w") as f:
        for name, msg in SKIPPED:
            f.write(f"{name}\t{msg}\n")
        for name, msg in NOTES:
            f.write(f"{name}\tNOTE {msg}\n")
    print(f"{len(SKIPPED)} skipped" + "".join(f"\n  {n}: {m}" for n, m in SKIPPED))
    print(f"{len(NOTES)} notes" + "".join(f"\n  {n}: {m}" for n, m in NOTES))


if __name__ == "__main__":
    main()
