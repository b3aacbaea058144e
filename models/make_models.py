#!/usr/bin/env python3
"""Regenerate every fixture in models/ (ONNX models, test inputs, expected outputs, README figures).

Not needed by the crate, its tests or CI. Deterministic: fixed seeds, single-threaded runs.

Versions used (pip install onnx==1.23.2 onnxruntime==1.32.0 scikit-learn==1.9.1 numpy==2.4.6):
    Python 3.11.7, numpy 2.4.6, scikit-learn 1.9.1 (scipy 1.17.1), onnx 1.23.2, onnxruntime 1.32.0

Usage:  python3 models/make_models.py             (writes into the directory of this script)
        python3 models/make_models.py --only-ops  (only the seeded op-coverage fixtures ops_cnn,
                                                   ops_mlp, unsupported_op and their README section)
        python3 models/make_models.py --only-data (only the unpacked .npy data for the Rust tests:
                                                   digits_{mlp,cnn}_qop_intermediates/, the whole
                                                   test split, the calibration set, README section;
                                                   reads the committed models, rewrites nothing else)
"""
import os

# single-threaded BLAS before numpy loads: reproducible float sums in the numpy CNN training
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import logging
import re
import sys
import tempfile
import warnings

import numpy as np
import onnx
import onnxruntime as ort
import sklearn
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    CalibrationMethod,
    QuantFormat,
    QuantType,
    quantize_static,
)
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 13
IR_VERSION = 8  # what opset 13 shipped with; readable by older loaders too
SPLIT_SEED = 0
MLP_SEED = 0
CNN_SEED = 0
LENET_SEED = 5
OPS_SEED = 7  # op-coverage fixtures (ops_cnn, ops_mlp, unsupported_op)
N_CALIB = 100  # first 100 training images calibrate the static quantizer
N_FIXTURE = 16  # first 16 test images are the saved test inputs

# QOperator: only ops with a standard (ai.onnx) quantized form are quantized (Conv -> QLinearConv,
# MatMul -> QLinearMatMul; Relu is folded into the producer's output range, MaxPool/Flatten run on
# int8 directly). Gemm/Add/AveragePool would become com.microsoft contrib ops (QGemm, QLinearAdd,
# QLinearAveragePool) that tract-onnx does not load, so they stay float between
# DequantizeLinear/QuantizeLinear. QDQ: every op the quantizer supports (all standard ops).
QOP_OPS = ["Conv", "MatMul", "Relu", "MaxPool", "Flatten"]

logging.getLogger().setLevel(logging.ERROR)
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def path(name):
    return os.path.join(HERE, name)


# ----------------------------------------------------------------------------------------- data
def load_data():
    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)  # [0, 1]
    y = d.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=0.2, random_state=SPLIT_SEED, stratify=y
    )
    return x_tr, x_te, y_tr, y_te


# ------------------------------------------------------------------------------ ONNX building
class G:
    """Tiny graph builder: named nodes, float32 initializers."""

    def __init__(self):
        self.nodes, self.inits, self.n = [], [], 0

    def init(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name))
        return name

    def init_i64(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.asarray(arr, dtype=np.int64), name))
        return name

    def op(self, op_type, inputs, name, out=None, **attrs):
        out = out or name + "_out"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    def conv(self, x, w, b, name, pad):
        wi, bi = self.init(name + ".weight", w), self.init(name + ".bias", b)
        k = list(w.shape[2:])
        return self.op("Conv", [x, wi, bi], name, kernel_shape=k, pads=[pad] * 4, strides=[1, 1])

    def dense(self, x, w, b, name, out=None):
        """y = x @ w.T + b with w [out, in] (PyTorch layout): MatMul by w.T, then Add."""
        wi = self.init(name + ".weight", np.ascontiguousarray(w.T))
        bi = self.init(name + ".bias", b)
        h = self.op("MatMul", [x, wi], name + "_matmul")
        return self.op("Add", [h, bi], name + "_add", out=out)

    def model(self, name, in_shape, out_shape, x="input", y="output"):
        graph = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(x, TensorProto.FLOAT, in_shape)],
            [helper.make_tensor_value_info(y, TensorProto.FLOAT, out_shape)],
            self.inits,
        )
        m = helper.make_model(
            graph,
            opset_imports=[helper.make_opsetid("", OPSET)],
            producer_name="gkrnet/models/make_models.py",
        )
        m.ir_version = IR_VERSION
        onnx.checker.check_model(m, full_check=True)
        return m


def mlp_onnx(w1, b1, w2, b2):
    g = G()
    h = g.dense("input", w1, b1, "fc1")
    h = g.op("Relu", [h], "relu1")
    g.dense(h, w2, b2, "fc2", out="output")
    return g.model("digits_mlp", [1, 64], [1, 10])


def cnn_onnx(p):
    g = G()
    h = g.conv("input", p["w1"], p["b1"], "conv1", pad=1)
    h = g.op("Relu", [h], "relu1")
    h = g.op("MaxPool", [h], "maxpool1", kernel_shape=[2, 2], strides=[2, 2])
    h = g.conv(h, p["w2"], p["b2"], "conv2", pad=1)
    h = g.op("Relu", [h], "relu2")
    h = g.op("AveragePool", [h], "avgpool2", kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Flatten", [h], "flatten", axis=1)
    g.dense(h, p["w3"], p["b3"], "fc", out="output")
    return g.model("digits_cnn", [1, 1, 8, 8], [1, 10])


def lenet_onnx(rng):
    def he(shape, fan_in):
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(np.float32)

    def bias(n):
        return rng.normal(0.0, 0.01, size=n).astype(np.float32)

    g = G()
    h = g.conv("input", he((6, 1, 5, 5), 25), bias(6), "conv1", pad=2)
    h = g.op("Relu", [h], "relu1")
    h = g.op("AveragePool", [h], "avgpool1", kernel_shape=[2, 2], strides=[2, 2])
    h = g.conv(h, he((16, 6, 5, 5), 150), bias(16), "conv2", pad=0)
    h = g.op("Relu", [h], "relu2")
    h = g.op("AveragePool", [h], "avgpool2", kernel_shape=[2, 2], strides=[2, 2])
    h = g.op("Flatten", [h], "flatten", axis=1)
    h = g.dense(h, he((120, 400), 400), bias(120), "fc1")
    h = g.op("Relu", [h], "relu3")
    h = g.dense(h, he((84, 120), 120), bias(84), "fc2")
    h = g.op("Relu", [h], "relu4")
    g.dense(h, he((10, 84), 84), bias(10), "fc3", out="output")
    return g.model("lenet5_seeded", [1, 1, 28, 28], [1, 10])


# ------------------------------------------------------------------------------ MLP (sklearn)
def train_mlp(x_tr, y_tr):
    clf = MLPClassifier(
        hidden_layer_sizes=(32,),
        activation="relu",
        solver="adam",
        alpha=1e-4,
        batch_size=32,
        learning_rate_init=1e-3,
        max_iter=200,
        random_state=MLP_SEED,
    )
    clf.fit(x_tr.reshape(len(x_tr), 64), y_tr)
    (w1, w2), (b1, b2) = clf.coefs_, clf.intercepts_  # coefs_ are [in, out]
    return w1.T, b1, w2.T, b2


# --------------------------------------------------------------------------- CNN (numpy, Adam)
def _cols(x, k, pad):
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = h + 2 * pad - k + 1, w + 2 * pad - k + 1
    cols = np.empty((n, c, k, k, ho, wo), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i : i + ho, j : j + wo]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * ho * wo, c * k * k), (ho, wo)


def _conv_fwd(x, w, b, pad):
    k = w.shape[2]
    cols, (ho, wo) = _cols(x, k, pad)
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return out.reshape(x.shape[0], ho, wo, -1).transpose(0, 3, 1, 2), cols


def _conv_bwd(dout, x_shape, cols, w, pad):
    n, c, h, wd = x_shape
    f, _, k, _ = w.shape
    ho, wo = dout.shape[2:]
    d = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(0)
    dcols = (d @ w.reshape(f, -1)).reshape(n, ho, wo, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    dxp = np.zeros((n, c, h + 2 * pad, wd + 2 * pad), dtype=dout.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i : i + ho, j : j + wo] += dcols[:, :, i, j]
    return dxp[:, :, pad : pad + h, pad : pad + wd], dw, db


def cnn_forward(p, x, keep=False):
    z1, c1 = _conv_fwd(x, p["w1"], p["b1"], 1)  # [n,8,8,8]
    a1 = np.maximum(z1, 0)
    n = x.shape[0]
    a1r = a1.reshape(n, 8, 4, 2, 4, 2)
    m1 = a1r.max(axis=(3, 5))  # [n,8,4,4]
    z2, c2 = _conv_fwd(m1, p["w2"], p["b2"], 1)  # [n,16,4,4]
    a2 = np.maximum(z2, 0)
    p2 = a2.reshape(n, 16, 2, 2, 2, 2).mean(axis=(3, 5))  # [n,16,2,2]
    f = p2.reshape(n, 64)
    logits = f @ p["w3"].T + p["b3"]
    if keep:
        return logits, (z1, c1, a1r, m1, z2, c2, f)
    return logits


def train_cnn(x_tr, y_tr, epochs=40, batch=32, lr=3e-3):
    rng = np.random.default_rng(CNN_SEED)

    def he(shape, fan_in):
        return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(np.float32)

    p = {
        "w1": he((8, 1, 3, 3), 9), "b1": np.zeros(8, np.float32),
        "w2": he((16, 8, 3, 3), 72), "b2": np.zeros(16, np.float32),
        "w3": he((10, 64), 64), "b3": np.zeros(10, np.float32),
    }
    mom = {k: np.zeros_like(v) for k, v in p.items()}
    vel = {k: np.zeros_like(v) for k, v in p.items()}
    b1, b2, eps, t = 0.9, 0.999, 1e-8, 0
    n = len(x_tr)
    for _ in range(epochs):
        order = rng.permutation(n)
        for s in range(0, n, batch):
            idx = order[s : s + batch]
            x, y = x_tr[idx], y_tr[idx]
            m = len(idx)
            logits, (z1, c1, a1r, m1, z2, c2, f) = cnn_forward(p, x, keep=True)
            e = np.exp(logits - logits.max(1, keepdims=True))
            prob = e / e.sum(1, keepdims=True)
            dlog = prob
            dlog[np.arange(m), y] -= 1.0
            dlog /= m
            g = {"w3": dlog.T @ f, "b3": dlog.sum(0)}
            dp2 = (dlog @ p["w3"]).reshape(m, 16, 2, 1, 2, 1) / 4.0
            da2 = np.broadcast_to(dp2, (m, 16, 2, 2, 2, 2)).reshape(m, 16, 4, 4)
            dz2 = da2 * (z2 > 0)
            dm1, g["w2"], g["b2"] = _conv_bwd(dz2, m1.shape, c2, p["w2"], 1)
            mask = a1r == m1[:, :, :, None, :, None]
            da1 = (mask * dm1[:, :, :, None, :, None]).reshape(m, 8, 8, 8)
            dz1 = da1 * (z1 > 0)
            _, g["w1"], g["b1"] = _conv_bwd(dz1, x.shape, c1, p["w1"], 1)
            t += 1
            for k in p:
                gk = g[k] + (1e-4 * p[k] if k.startswith("w") else 0)
                mom[k] = b1 * mom[k] + (1 - b1) * gk
                vel[k] = b2 * vel[k] + (1 - b2) * gk * gk
                mh, vh = mom[k] / (1 - b1**t), vel[k] / (1 - b2**t)
                p[k] = (p[k] - lr * mh / (np.sqrt(vh) + eps)).astype(np.float32)
    return p


# -------------------------------------------------------------------------- onnxruntime helpers
def session(model_or_path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    src = model_or_path.SerializeToString() if isinstance(model_or_path, onnx.ModelProto) else model_or_path
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def run_all(sess, xs):
    """Batch dimension is fixed at 1: one run per sample. Returns [n, 10] float32."""
    return np.concatenate([sess.run(["output"], {"input": x[None]})[0] for x in xs]).astype(np.float32)


class Reader(CalibrationDataReader):
    def __init__(self, xs):
        self.xs = xs
        self.i = 0

    def get_next(self):
        if self.i >= len(self.xs):
            return None
        self.i += 1
        return {"input": self.xs[self.i - 1][None]}

    def rewind(self):
        self.i = 0


def quantize(float_path, out_path, calib, fmt):
    quantize_static(
        float_path,
        out_path,
        Reader(calib),
        quant_format=fmt,
        op_types_to_quantize=QOP_OPS if fmt == QuantFormat.QOperator else None,
        per_channel=False,
        reduce_range=False,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
    m = onnx.load(out_path)
    m.producer_name = "onnxruntime.quantization (via gkrnet/models/make_models.py)"
    onnx.checker.check_model(m)
    onnx.save(m, out_path)
    return m


def intermediates(model, x):
    """Every node output of `model` on input x (batch 1), plus the input itself, name -> array."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    have = {o.name for o in m.graph.output}
    names = []
    for node in m.graph.node:
        for o in node.output:
            if o and o not in have:
                m.graph.output.append(onnx.ValueInfoProto(name=o))
                have.add(o)
            names.append(o)
    sess = session(m)
    outs = sess.run(names, {"input": x[None]})
    res = {"input": x[None]}
    res.update(dict(zip(names, outs)))
    return res


def op_summary(m):
    ops = []
    for n in m.graph.node:
        t = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
        if t not in ops:
            ops.append(t)
    return ", ".join(ops)


# ------------------------------------------------------------- op-coverage fixtures (seeded)
def _he(rng, shape, fan_in):
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=shape).astype(np.float32)


def _small(rng, n):
    return rng.normal(0.0, 0.01, size=n).astype(np.float32)


def ops_cnn_onnx(rng):
    """[N,1,8,8] -> [N,10]; symbolic batch. Shapes (per sample) in the comments."""
    g = G()
    pads = g.init_i64("pad0.pads", [0, 0, 1, 1, 0, 0, 1, 1])
    pval = g.init("pad0.value", np.float32(0.0))
    h = g.op("Pad", ["input", pads, pval], "pad0", mode="constant")  # [1,10,10]
    w, b = g.init("conv1.weight", _he(rng, (4, 1, 3, 3), 9)), g.init("conv1.bias", _small(rng, 4))
    h = g.op("Conv", [h, w, b], "conv1", kernel_shape=[3, 3], dilations=[2, 2],
             pads=[1, 1, 1, 1], strides=[1, 1])  # [4,8,8]
    bn = [
        g.init("bn1.scale", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
        g.init("bn1.bias", rng.normal(0.0, 0.1, 4).astype(np.float32)),
        g.init("bn1.mean", rng.normal(0.0, 0.1, 4).astype(np.float32)),
        g.init("bn1.var", rng.uniform(0.5, 1.5, 4).astype(np.float32)),
    ]
    h = g.op("BatchNormalization", [h] + bn, "bn1", epsilon=1e-5)
    h = g.op("Relu", [h], "relu1")
    w, b = g.init("conv2.weight", _he(rng, (4, 2, 3, 3), 18)), g.init("conv2.bias", _small(rng, 4))
    h = g.op("Conv", [h, w, b], "conv2", kernel_shape=[3, 3], group=2, strides=[2, 2],
             pads=[1, 1, 1, 1])  # [4,4,4]
    lo, hi = g.init("clip2.min", np.float32(0.0)), g.init("clip2.max", np.float32(6.0))
    h = g.op("Clip", [h, lo, hi], "clip2")
    # ConvTranspose weight [C_in, C_out, kH, kW]; k = stride = 2: each output sees C_in inputs
    w, b = g.init("deconv3.weight", _he(rng, (4, 4, 2, 2), 4)), g.init("deconv3.bias", _small(rng, 4))
    h = g.op("ConvTranspose", [h, w, b], "deconv3", kernel_shape=[2, 2], strides=[2, 2])  # [4,8,8]
    h = g.op("LeakyRelu", [h], "lrelu3", alpha=0.1)
    h = g.op("MaxPool", [h], "maxpool4", kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1])
    h = g.op("AveragePool", [h], "avgpool5", kernel_shape=[2, 2], strides=[2, 2],
             pads=[0, 0, 0, 0])  # [4,4,4]
    w, b = g.init("conv6.weight", _he(rng, (8, 4, 1, 1), 4)), g.init("conv6.bias", _small(rng, 8))
    h = g.op("Conv", [h, w, b], "conv6", kernel_shape=[1, 1])  # [8,4,4]
    h = g.op("Elu", [h], "elu6", alpha=1.0)
    h = g.op("GlobalAveragePool", [h], "gap7")  # [8,1,1]
    h = g.op("Flatten", [h], "flatten7", axis=1)  # [8]
    w, b = g.init("gemm8.weight", _he(rng, (10, 8), 8)), g.init("gemm8.bias", _small(rng, 10))
    h = g.op("Gemm", [h, w, b], "gemm8", transB=1, alpha=1.0, beta=1.0)
    g.op("Softmax", [h], "softmax9", out="output", axis=1)
    return g.model("ops_cnn", ["N", 1, 8, 8], ["N", 10])


def ops_mlp_onnx(rng):
    g = G()
    h = g.op("Sub", ["input", g.init("sub0.b", np.float32(0.5))], "sub0")
    h = g.op("Mul", [h, g.init("mul0.b", np.float32(2.0))], "mul0")  # [-1, 1)
    w, b = g.init("gemm1.weight", _he(rng, (64, 32), 64)), g.init("gemm1.bias", _small(rng, 32))
    h = g.op("Gemm", [h, w, b], "gemm1", transA=0, transB=0, alpha=1.0, beta=1.0)
    h = g.op("Sigmoid", [h], "sig1")
    h = g.op("MatMul", [h, g.init("mm2.weight", _he(rng, (32, 32), 32))], "mm2")
    h = g.op("Add", [h, g.init("add2.bias", _small(rng, 32))], "add2")
    h = g.op("Tanh", [h], "tanh2")
    h = g.op("Reshape", [h, g.init_i64("reshape3.shape", [1, 4, 8])], "reshape3")
    h = g.op("Transpose", [h], "transpose3", perm=[0, 2, 1])
    h = g.op("Reshape", [h, g.init_i64("reshape4.shape", [1, 32])], "reshape4")
    h = g.op("Identity", [h], "id4")
    h = g.op("MatMul", [h, g.init("mm5.weight", _he(rng, (32, 24), 32))], "mm5")
    h = g.op("Add", [h, g.init("add5.bias", _small(rng, 24))], "add5")
    # HardSwish is opset 14: at opset 13 it is x * HardSigmoid(x; alpha 1/6, beta 0.5) (as PyTorch exports it)
    hs = g.op("HardSigmoid", [h], "hswish5_hsig", alpha=1.0 / 6.0, beta=0.5)
    h = g.op("Mul", [h, hs], "hswish5")
    x = g.op("Div", [h, g.init("div5.b", np.float32(2.0))], "div5")
    # Gelu is opset 20: 0.5 * x * (1 + erf(x / sqrt 2))
    h = g.op("Div", [x, g.init("gelu_div.b", np.float32(1.4142135))], "gelu_div")
    h = g.op("Erf", [h], "gelu_erf")
    h = g.op("Add", [h, g.init("gelu_add.b", np.float32(1.0))], "gelu_add")
    h = g.op("Mul", [x, h], "gelu_mul")
    h = g.op("Mul", [h, g.init("gelu_half.b", np.float32(0.5))], "gelu_half")
    h = g.op("MatMul", [h, g.init("mm6.weight", _he(rng, (24, 10), 24))], "mm6")
    g.op("Add", [h, g.init("add6.bias", _small(rng, 10))], "add6", out="output")
    return g.model("ops_mlp", [1, 64], [1, 10])


def unsupported_onnx(rng):
    g = G()
    h = g.op("MatMul", ["input", g.init("mm0.weight", _he(rng, (4, 4), 4))], "mm0")
    g.op("Cos", [h], "cos_1", out="output")
    return g.model("unsupported_op", [1, 4], [1, 4])


def _print_shapes(m):
    inf = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    shapes = {}
    for vi in list(inf.graph.value_info) + list(inf.graph.input) + list(inf.graph.output):
        dims = [d.dim_param or d.dim_value for d in vi.type.tensor_type.shape.dim]
        shapes[vi.name] = "[" + ",".join(str(d) for d in dims) + "]"
    print(f"  {m.graph.name}: input {shapes['input']}")
    for n in m.graph.node:
        print(f"    {n.name:14s} {n.op_type:20s} -> {shapes.get(n.output[0], '?')}")


def _print_ranges(m, xs):
    """min/max of every node output over all of xs (each run as batch 1)."""
    lo, hi = {}, {}
    for x in xs:
        for k, v in intermediates(m, x).items():
            lo[k] = min(lo.get(k, np.inf), float(v.min()))
            hi[k] = max(hi.get(k, -np.inf), float(v.max()))
    print(f"  {m.graph.name} ranges over {len(xs)} inputs:")
    print(f"    {'input':14s} {'':20s} [{lo['input']:+.4f}, {hi['input']:+.4f}]")
    for n in m.graph.node:
        o = n.output[0]
        print(f"    {n.name:14s} {n.op_type:20s} [{lo[o]:+.4f}, {hi[o]:+.4f}]")


OPS_MARK = "## Op-coverage fixtures (seeded, untrained)"
OPS_README = """\
{mark}

Three small float models for the ONNX importer's op coverage, made by `ops_fixtures()` in
`make_models.py` (also alone: `python3 models/make_models.py --only-ops`, which rewrites only these
files and this section). **Seeded, untrained weights** (one numpy `default_rng(7)`, drawn in the
order ops_cnn, ops_mlp, unsupported_op, then the two input sets): He-normal weights
N(0, 2/fan_in), N(0, 0.01) biases; BatchNormalization scale U[0.5, 1.5], bias and mean N(0, 0.1),
var U[0.5, 1.5]. They test shapes and operator import against onnxruntime, not accuracy. Opset 13,
IR version 8, default domain only, float32, every node named. Opset 13 has neither `HardSwish`
(opset 14) nor `Gelu` (opset 20), so they are written as the patterns exporters emit: HardSwish =
`HardSigmoid(alpha 1/6, beta 0.5)` then `Mul` by x (nodes `hswish5_hsig`, `hswish5`), GELU =
`Div` by 1.4142135, `Erf`, `Add` 1, `Mul` by x, `Mul` by 0.5 (nodes `gelu_div` … `gelu_half`).

| file | what |
|---|---|
| `ops_cnn.onnx` | input `input` `[N,1,8,8]` with a **symbolic batch dimension `N`**, output `output` `[N,10]` (softmax probabilities): Pad (constant, pads `[0,0,1,1,0,0,1,1]` and value 0 as initializer inputs) → 10×10, Conv 4@3×3 dilation 2 pad 1 → 8×8, BatchNormalization, Relu, Conv 4@3×3 group 2 stride 2 pad 1 → 4×4, Clip [0, 6] (initializer inputs), ConvTranspose 4@2×2 stride 2 → 8×8, LeakyRelu 0.1, MaxPool 3×3 stride 1 pad 1, AveragePool 2×2 stride 2 → 4×4, Conv 8@1×1, Elu 1.0, GlobalAveragePool, Flatten, Gemm (transB=1, `[10,8]`), Softmax axis 1 |
| `ops_mlp.onnx` | `[1,64]` → `[1,10]`: Sub 0.5, Mul 2, Gemm 64→32 (transB=0, weight `[64,32]`), Sigmoid, MatMul 32→32 + Add, Tanh, Reshape `[1,4,8]`, Transpose `[0,2,1]`, Reshape `[1,32]`, Identity, MatMul 32→24 + Add, HardSwish (pattern), Div 2, GELU (Erf pattern), MatMul 24→10 + Add |
| `unsupported_op.onnx` | `[1,4]` → `[1,4]`: MatMul 4→4, Cos (an op the importer should reject with a clear error); no inputs/expected files |
| `ops_cnn_inputs.npy`, `ops_mlp_inputs.npy` | uniform [0, 1) float32, `[4,1,8,8]` and `[4,64]` |
| `ops_cnn_expected.npy`, `ops_mlp_expected.npy` | onnxruntime (CPU, 1 thread) outputs, each input run as batch 1, float32 `[4,10]` (ops_cnn also checked at batch 4 against these) |

Operators (in order of first use):
* ops_cnn: {ops[ops_cnn]}
* ops_mlp: {ops[ops_mlp]}
* unsupported_op: {ops[unsupported_op]}
"""


def write_ops_readme(section):
    """Replace (or append) the op-coverage section of README.md, keeping the zoo sections
    (written by hand from make_zoo.py's runs) that follow it."""
    with open(path("README.md")) as fh:
        text = fh.read()
    head, _, rest = text.partition("\n" + OPS_MARK)
    k = rest.find("\n## Third-party zoo")
    tail = rest[k:] if k >= 0 else ""
    with open(path("README.md"), "w") as fh:
        fh.write(head.rstrip("\n") + "\n\n" + section + tail)


def ops_fixtures():
    rng = np.random.default_rng(OPS_SEED)
    cnn, mlp, uns = ops_cnn_onnx(rng), ops_mlp_onnx(rng), unsupported_onnx(rng)
    x_cnn = rng.random((4, 1, 8, 8), dtype=np.float32)
    x_mlp = rng.random((4, 64), dtype=np.float32)
    for m in (cnn, mlp, uns):
        for n in m.graph.node:
            assert n.name and n.domain == ""
        assert len({n.name for n in m.graph.node}) == len(m.graph.node)
        onnx.checker.check_model(m, full_check=True)
        onnx.save(m, path(m.graph.name + ".onnx"))
        _print_shapes(m)
    print("op-coverage fixtures, intermediate ranges:")
    for m, xs in ((cnn, x_cnn), (mlp, x_mlp)):
        name = m.graph.name
        out = run_all(session(m), xs)
        np.save(path(name + "_inputs.npy"), xs)
        np.save(path(name + "_expected.npy"), out)
        _print_ranges(m, xs)
        print(f"  {name} expected [{out.min():+.4f}, {out.max():+.4f}]")
    batch = session(cnn).run(["output"], {"input": x_cnn})[0]
    d = float(np.abs(batch - np.load(path("ops_cnn_expected.npy"))).max())
    assert d < 1e-5, d
    print(f"  ops_cnn batch-4 run vs per-sample runs: max |diff| {d:.2e}")
    y = session(uns).run(["output"], {"input": x_mlp[:1, :4]})[0]
    print(f"  unsupported_op runs in onnxruntime: output shape {list(y.shape)}")
    ops = {m.graph.name: op_summary(m) for m in (cnn, mlp, uns)}
    for k, v in ops.items():
        print(f"  {k} ops: {v}")
    write_ops_readme(OPS_README.format(mark=OPS_MARK, ops=ops))


# ------------------------------------------------- unpacked data for the Rust tests (no .npz)
DATA_MARK = "## Unpacked data for the Rust tests"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _file_name(key):
    """Tensor name -> file stem: characters outside [A-Za-z0-9_.-] (and a leading '.') become '_'."""
    stem = _UNSAFE.sub("_", key)
    return "_" + stem[1:] if stem.startswith(".") or not stem else stem


def _read(name):
    with open(path(name), "rb") as fh:
        return fh.read()


def _save(name, arr):
    """np.save of a C-order copy; returns the file size."""
    np.save(path(name), np.ascontiguousarray(arr))
    return os.path.getsize(path(name))


def _same(a, b):
    """Same dtype, shape and bytes (exact, NaN-safe)."""
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def unpack_npz(base):
    """<base>.npz -> <base>/<key>.npy (npz key order, C order, same dtype); names.txt if renamed.

    Returns [(file, key, dtype, shape)]. Stale .npy files and names.txt in the directory go.
    """
    with np.load(path(base + ".npz")) as z:
        arrays = [(k, z[k]) for k in z.files]
    files = [_file_name(k) + ".npy" for k, _ in arrays]
    assert len({f.lower() for f in files}) == len(files), f"{base}: file names collide: {files}"
    renamed = any(f != k + ".npy" for f, (k, _) in zip(files, arrays))
    os.makedirs(path(base), exist_ok=True)
    keep = set(files) | ({"names.txt"} if renamed else set())
    for f in sorted(os.listdir(path(base))):
        if f not in keep and (f.endswith(".npy") or f == "names.txt"):
            os.remove(path(os.path.join(base, f)))
    rows = []
    for f, (k, a) in zip(files, arrays):
        _save(os.path.join(base, f), a)
        back = np.load(path(os.path.join(base, f)))
        assert _same(back, a) and back.flags.c_contiguous, (base, k)
        rows.append((f, k, a.dtype, a.shape))
    if renamed:
        with open(path(os.path.join(base, "names.txt")), "w") as fh:
            fh.write("".join(f"{f}\t{k}\n" for f, k, _, _ in rows))
    return rows


DATA_README = """\
{mark}

The crate reads `.npy` but not `.npz` (a zip archive), so `data_fixtures()` in `make_models.py`
also writes the data below as plain `.npy` files (format 1.0, little-endian, C order). Also alone:
`python3 models/make_models.py --only-data` writes only these files and this section, from the
committed models and `load_digits`, and changes no other file. The `.npz` files stay.

| file | what |
|---|---|
| `digits_{{mlp,cnn}}_qop_intermediates/` | one `<key>.npy` per key of the matching `.npz` (same array, dtype and shape, batch dimension kept); {names}. Checked bit for bit against the `.npz` and against a fresh onnxruntime run of the QOperator model on the first test input |
| `digits_test_all_inputs.npy` | the whole held-out test split (same split and pixels / 16 as above), float32 `[{n_te},1,8,8]`; rows 0–{last} are `digits_test_inputs.npy` bit for bit |
| `digits_test_all_labels.npy` | their labels, int64 `[{n_te}]`; rows 0–{last} are `digits_test_labels.npy` |
| `digits_calibration.npy` | the first {n_calib} training images, float32 `[{n_calib},1,8,8]`: the MinMax calibration set of all four quantized models (reshape to `[{n_calib},64]` for the MLP); re-quantizing the float models with it gives the committed `*_qop.onnx` and `*_qdq.onnx` byte for byte |

Files in node order (name, dtype, shape):
{dirs}
"""


def write_data_readme(section):
    """Put the data section before the op-coverage section (or at the end), replacing an old one."""
    with open(path("README.md")) as fh:
        text = fh.read()
    head, sep, tail = text.partition("\n" + OPS_MARK)
    head = head.split("\n" + DATA_MARK)[0].rstrip("\n") + "\n"
    with open(path("README.md"), "w") as fh:
        fh.write(head + "\n" + section + ("\n" + OPS_MARK + tail if sep else ""))


def data_fixtures():
    x_tr, x_te, _, y_te = load_data()
    n_te = len(y_te)
    xs, ys = np.ascontiguousarray(x_te, np.float32), np.ascontiguousarray(y_te, np.int64)
    assert xs.shape == (n_te, 1, 8, 8) and ys.shape == (n_te,)
    assert _same(xs[:N_FIXTURE], np.load(path("digits_test_inputs.npy"))), "test split differs"
    assert _same(ys[:N_FIXTURE], np.load(path("digits_test_labels.npy"))), "test labels differ"
    sizes = {
        "digits_test_all_inputs.npy": _save("digits_test_all_inputs.npy", xs),
        "digits_test_all_labels.npy": _save("digits_test_all_labels.npy", ys),
    }
    calib = np.ascontiguousarray(x_tr[:N_CALIB], np.float32)
    assert calib.shape == (N_CALIB, 1, 8, 8)
    sizes["digits_calibration.npy"] = _save("digits_calibration.npy", calib)
    # the saved calibration set reproduces the committed quantized models byte for byte
    with tempfile.TemporaryDirectory() as tmp:
        for base, flat in (("digits_mlp", True), ("digits_cnn", False)):
            c = np.load(path("digits_calibration.npy"))
            for suffix, fmt in (("_qop", QuantFormat.QOperator), ("_qdq", QuantFormat.QDQ)):
                out = os.path.join(tmp, base + suffix + ".onnx")
                quantize(path(base + ".onnx"), out, c.reshape(-1, 64) if flat else c, fmt)
                with open(out, "rb") as fh:
                    same = fh.read() == _read(base + suffix + ".onnx")
                assert same, f"calibration set does not reproduce {base}{suffix}.onnx"
    print(f"data: {n_te} test images, {N_CALIB} calibration images (re-quantization matches)")
    dirs, renamed = [], False
    for base, flat in (("digits_mlp", True), ("digits_cnn", False)):
        name = base + "_qop_intermediates"
        rows = unpack_npz(name)
        fresh = intermediates(onnx.load(path(base + "_qop.onnx")), xs[0].reshape(64) if flat else xs[0])
        assert list(fresh) == [k for _, k, _, _ in rows], f"{name}: keys differ from a fresh run"
        for f, k, _, _ in rows:
            assert _same(np.load(path(os.path.join(name, f))), fresh[k]), f"{name}/{f} differs"
        renamed |= any(f != k + ".npy" for f, k, _, _ in rows)
        total = sum(os.path.getsize(path(os.path.join(name, f))) for f, _, _, _ in rows)
        print(f"  {name}/: {len(rows)} files, {total} bytes (matches the .npz and a fresh run)")
        dirs.append(f"* `{name}/`: " + ", ".join(
            f"`{f[:-4]}`" + ("" if f == k + ".npy" else f" (`{k}`)")
            + f" {d} `[{','.join(map(str, s))}]`" for f, k, d, s in rows))
    for k, v in sizes.items():
        print(f"  {k}: {v} bytes")
    names = ("keys with characters outside `[A-Za-z0-9_.-]` have them replaced by `_`, and "
             "`names.txt` (`file<TAB>key` per line) maps the files back" if renamed else
             "file name = key + `.npy` (every key is already a safe file name, so no `names.txt`)")
    write_data_readme(DATA_README.format(mark=DATA_MARK, names=names, n_te=n_te, last=N_FIXTURE - 1,
                                         n_calib=N_CALIB, dirs="\n".join(dirs)))


# --------------------------------------------------------------------------------------- README
README = """\
# models/

Model fixtures for the ONNX import and the quantized-network tests. Everything here is made by
`make_models.py` (deterministic: fixed seeds, single-threaded; rerunning it rewrites byte-identical
files with the versions below). The crate, its tests and CI never run Python.

    pip install onnx==1.23.2 onnxruntime==1.32.0 scikit-learn==1.9.1 numpy==2.4.6
    python3 models/make_models.py

Versions used: {versions} (scipy 1.17.1, protobuf 7.36.2 came along). No torch: the MLP is
trained with scikit-learn, the CNN with a small numpy Adam loop, and the float graphs are written
with the `onnx` helper API.

## Data and input format
* scikit-learn's bundled `load_digits` (1,797 8×8 images, 10 classes), pixels / 16 → float32 in
  [0, 1]; `train_test_split(test_size=0.2, stratify=y, random_state=0)`: {n_tr} train, {n_te} test.
* Every model: one input `input`, float32, batch fixed at 1 — CNN NCHW `[1,1,8,8]`, MLP `[1,64]`
  (the 8×8 image row-major), LeNet `[1,1,28,28]`; one output `output`, float32 `[1,10]`, logits
  (no softmax). Opset 13, IR version 8, default domain only (no com.microsoft ops anywhere).
* Dense layers are written as `MatMul` (weight stored `[in,out]`) + `Add` (bias), not `Gemm`.

## Quantization (`onnxruntime.quantization.quantize_static`)
* Calibration: MinMax over the first 100 training images (a `CalibrationDataReader`).
* Weights: int8 (`QuantType.QInt8`), **per tensor**, symmetric (zero point 0).
  Activations: **int8** (`QuantType.QInt8`), asymmetric (per-tensor scale and zero point).
  `reduce_range=False`. A ReLU right after a quantized op is folded into that op's output range
  (zero point −128, so the int8 clamp is the ReLU): in QOperator after each QLinearConv, in QDQ
  after every Conv and Add; the MLP's ReLU in QOperator stays a float `Relu` (it follows the float
  bias `Add`).
* `*_qop.onnx` (QOperator): `op_types_to_quantize = Conv, MatMul, Relu, MaxPool, Flatten`, i.e.
  only ops with a standard quantized form (QLinearConv with int32 bias, QLinearMatMul; MaxPool and
  Flatten run on int8). Quantizing `Add`/`AveragePool` (or `Gemm`) in this format gives
  com.microsoft ops (QLinearAdd, QLinearAveragePool, QGemm) that tract-onnx 0.23.9 does not load,
  so those stay float32 between DequantizeLinear and QuantizeLinear: the dense biases are float32
  `Add`s after a dequantized QLinearMatMul, and the CNN's average pool is float.
* `*_qdq.onnx` (QDQ): every op the quantizer handles (all ops standard). Conv biases are int32
  (scale = s_in·s_w); the bias of each `Add` is quantized by onnxruntime as an int8 tensor with its
  own scale (that is what it does for a constant `Add` input).

## Files
| file | how it was made |
|---|---|
| `make_models.py` | the generator (also writes this README) |
| `digits_mlp.onnx` | sklearn `MLPClassifier((32,), relu, adam, batch 32, 200 epochs, seed 0)` weights → MatMul+Add 64→32, Relu, MatMul+Add 32→10 |
| `digits_cnn.onnx` | numpy training (Adam lr 3e-3, batch 32, 40 epochs, L2 1e-4, seed 0): Conv 8@3×3 pad 1, Relu, MaxPool 2, Conv 16@3×3 pad 1, Relu, AveragePool 2, Flatten, MatMul+Add 64→10 |
| `digits_{{mlp,cnn}}_qop.onnx` | quantize_static, QOperator, as above |
| `digits_{{mlp,cnn}}_qdq.onnx` | quantize_static, QDQ, as above |
| `lenet5_seeded.onnx` | seeded random weights (numpy `default_rng(5)`, He-normal weights, N(0, 0.01) biases), no training: Conv 6@5×5 pad 2, Relu, AveragePool 2, Conv 16@5×5, Relu, AveragePool 2, Flatten, 400→120, Relu, 120→84, Relu, 84→10 (float only) |
| `digits_test_inputs.npy` | the first 16 test images, float32 `[16,1,8,8]` (reshape to `[16,64]` for the MLP) |
| `digits_test_labels.npy` | their labels, int64 `[16]` |
| `<model>_expected.npy` | onnxruntime (CPU, 1 thread) outputs on those 16 inputs, float32 `[16,10]` (for quantized models the final dequantized float output) |
| `lenet5_seeded_inputs.npy` | the same 16 digits upscaled 3× (nearest) to 24×24 and zero-padded to 28×28, float32 `[16,1,28,28]`; `lenet5_seeded_expected.npy` is on these |
| `digits_{{mlp,cnn}}_qop_intermediates.npz` | every node output of the QOperator model on the first test input (all node outputs added as graph outputs on a copy, one onnxruntime run), key = tensor name as in the model, plus `input`; int8 for quantized tensors, float32 otherwise, batch dimension kept |

## Test accuracy (onnxruntime, whole held-out split of {n_te})
| model | float | int8 QOperator | int8 QDQ |
|---|---|---|---|
| digits_mlp | {acc[digits_mlp]} | {acc[digits_mlp_qop]} | {acc[digits_mlp_qdq]} |
| digits_cnn | {acc[digits_cnn]} | {acc[digits_cnn_qop]} | {acc[digits_cnn_qdq]} |

{agree}

Checked once by hand (not by this script): tract-onnx 0.23.9 loads, optimizes and runs all seven
models; on one probe input the float and QOperator outputs match onnxruntime to ~1e-6, the QDQ
CNN differs in one logit by one output quantization step (0.145), since the runtimes round QDQ
graphs differently. Compare QDQ outputs with a tolerance of a few output steps.

`lenet5_seeded` has random weights: its outputs are for shape and performance figures, not accuracy.

## Test accuracy through gkrnet (the proven integer models, whole held-out split of 360)
Measured by `cargo test --release --test onnx_import digits_accuracy -- --nocapture` (not by
this script): each model imported by gkrnet (float ones quantized by gkrnet itself, calibrated on
`digits_calibration.npy`; see `paper-notes/quantization.md`), run by its integer reference, the
output dequantized, against tract's float inference of the same ONNX file.

| model | float (tract) | int8 (gkrnet) | argmax agreement | max abs error |
|---|---|---|---|---|
| digits_mlp | 0.9639 | 0.9639 | 360/360 | 1.452 |
| digits_mlp_qop | 0.9639 | 0.9639 | 360/360 | 0.130 |
| digits_mlp_qdq | 0.9639 | 0.9639 | 360/360 | 0.000002 |
| digits_cnn | 0.9639 | 0.9611 | 359/360 | 4.841 |
| digits_cnn_qop | 0.9639 | 0.9639 | 360/360 | 0.084 |
| digits_cnn_qdq | 0.9639 | 0.9639 | 360/360 | 0.290 |

For the QOperator and QDQ files "float" is tract's run of the quantized graph, so the errors
there compare two int8 implementations. The large maxima of the float models come from test
logits outside the calibrated output range (clamped), as for onnxruntime's own int8 models.

## Operators (in order of first use)
* digits_mlp: {ops[digits_mlp]}
* digits_mlp_qop: {ops[digits_mlp_qop]}
* digits_mlp_qdq: {ops[digits_mlp_qdq]}
* digits_cnn: {ops[digits_cnn]}
* digits_cnn_qop: {ops[digits_cnn_qop]}
* digits_cnn_qdq: {ops[digits_cnn_qdq]}
* lenet5_seeded: {ops[lenet5_seeded]}
"""


# ----------------------------------------------------------------------------------------- main
def main():
    x_tr, x_te, y_tr, y_te = load_data()
    x16, y16 = x_te[:N_FIXTURE], y_te[:N_FIXTURE]
    np.save(path("digits_test_inputs.npy"), x16.astype(np.float32))
    np.save(path("digits_test_labels.npy"), y16.astype(np.int64))
    calib = x_tr[:N_CALIB]
    print(f"digits: {len(x_tr)} train / {len(x_te)} test, calibration {len(calib)}")

    results, full = {}, {}

    # MLP
    w1, b1, w2, b2 = train_mlp(x_tr, y_tr)
    onnx.save(mlp_onnx(w1, b1, w2, b2), path("digits_mlp.onnx"))
    # CNN
    p = train_cnn(x_tr, y_tr)
    np_acc = float((cnn_forward(p, x_te).argmax(1) == y_te).mean())
    onnx.save(cnn_onnx(p), path("digits_cnn.onnx"))

    for base, flat in (("digits_mlp", True), ("digits_cnn", False)):
        f_path = path(base + ".onnx")
        quantize(f_path, path(base + "_qop.onnx"), calib.reshape(-1, 64) if flat else calib, QuantFormat.QOperator)
        quantize(f_path, path(base + "_qdq.onnx"), calib.reshape(-1, 64) if flat else calib, QuantFormat.QDQ)
        xs_te = x_te.reshape(-1, 64) if flat else x_te
        for suffix in ("", "_qop", "_qdq"):
            name = base + suffix
            sess = session(path(name + ".onnx"))
            out = run_all(sess, xs_te)
            acc = float((out.argmax(1) == y_te).mean())
            full[name] = out
            np.save(path(name + "_expected.npy"), out[:N_FIXTURE])
            results[name] = acc
            print(f"{name:16s} test accuracy {acc:.4f}  ops: {op_summary(onnx.load(path(name + '.onnx')))}")
        q = onnx.load(path(base + "_qop.onnx"))
        inter = intermediates(q, xs_te[0])
        np.savez(path(base + "_qop_intermediates.npz"), **inter)
    print(f"(numpy CNN test accuracy before export {np_acc:.4f})")

    # LeNet-5, seeded weights; inputs: the 16 test digits upscaled 3x (nearest) and padded to 28x28
    lenet = lenet_onnx(np.random.default_rng(LENET_SEED))
    onnx.save(lenet, path("lenet5_seeded.onnx"))
    x28 = np.pad(np.kron(x16, np.ones((1, 1, 3, 3), np.float32)), ((0, 0), (0, 0), (2, 2), (2, 2)))
    np.save(path("lenet5_seeded_inputs.npy"), x28.astype(np.float32))
    np.save(path("lenet5_seeded_expected.npy"), run_all(session(lenet), x28))
    print("lenet5_seeded    ops:", op_summary(lenet))

    # sanity: fixtures agree with the float reference paths
    assert np.allclose(
        np.load(path("digits_cnn_expected.npy")), cnn_forward(p, x16), atol=1e-4
    ), "ONNX CNN differs from the numpy CNN"
    h = np.maximum(x16.reshape(-1, 64) @ w1.T + b1, 0) @ w2.T + b2
    assert np.allclose(np.load(path("digits_mlp_expected.npy")), h, atol=1e-4), "ONNX MLP differs"
    n_te = len(y_te)
    agree = []
    for base in ("digits_mlp", "digits_cnn"):
        for suffix in ("_qop", "_qdq"):
            q, f = full[base + suffix], full[base]
            same = int((q.argmax(1) == f.argmax(1)).sum())
            agree.append(f"{base}{suffix}: same class as float on {same}/{n_te}, "
                         f"max |logit − float logit| {np.abs(q - f).max():.3f}")
    acc = {k: f"{v:.4f} ({round(v * n_te)}/{n_te})" for k, v in results.items()}
    ops = {k: op_summary(onnx.load(path(k + ".onnx"))) for k in results}
    ops["lenet5_seeded"] = op_summary(lenet)
    versions = (
        f"Python {sys.version.split()[0]}, numpy {np.__version__}, scikit-learn {sklearn.__version__}, "
        f"onnx {onnx.__version__}, onnxruntime {ort.__version__}"
    )
    with open(path("README.md"), "w") as fh:
        fh.write(README.format(acc=acc, ops=ops, agree="\n".join("* " + a for a in agree), versions=versions, n_tr=len(y_tr), n_te=n_te))
    for k, v in acc.items():
        print(f"ACC {k} {v}")
    print("versions:", versions)
    data_fixtures()
    ops_fixtures()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="Regenerate the fixtures in models/.")
    only = ap.add_mutually_exclusive_group()
    only.add_argument("--only-ops", action="store_true",
                      help="only the seeded op-coverage fixtures (ops_cnn, ops_mlp, unsupported_op)")
    only.add_argument("--only-data", action="store_true",
                      help="only the unpacked .npy data (intermediates directories, whole test split, "
                           "calibration set), from the committed models")
    args = ap.parse_args()
    if args.only_ops:
        ops_fixtures()
    elif args.only_data:
        data_fixtures()
    else:
        main()
