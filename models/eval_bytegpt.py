#!/usr/bin/env python3
"""Compare the proven integer byte-level GPT with the float one (issue 22's accuracy target).

Reads models/bytegpt/ (made by models/make_bytegpt.py). Three parts (--what, default all):

prove     For each calibration it compiles bytegpt.onnx with the gkrnet CLI into a .gkrm, then
          for every held-out window (heldout.npy, 64 bytes each) proves the integer model's
          logits with `gkrnet prove` (the dequantized output of the proof, (q − zero point) ·
          step, read from the JSON that prove prints) and verifies the first --verify proofs
          with `gkrnet verify --expect-digest` (the verified output must equal the proven one).
          The float logits are onnxruntime's (1 thread) on the same ids. Over the windows:
            agreement       next-token top-1 agreement, integer vs float argmax, at all 64
                            positions (ties go to the lowest byte, as in numpy and gkrnet); also
                            where the float top-1 leads its top-2 by ≥ 0.5, and how often the
                            integer top-1 is among the float top 2
            top-1 accuracy  of each against the true next byte (positions 0..62 predict t+1)
            cross-entropy   of each on the true next byte (positions 0..62), as perplexity
                            and bits per byte; the perplexity ratio integer / float; KL
            |Δ logit|       max and mean, against the output's quantization step
layers    The model cut after each of CHECKPOINTS (onnx.utils.extract_model), compiled with
          calibration.npy: `gkrnet compile --inputs heldout.npy` reports the mean and max
          |integer − float| of the cut's output from gkrnet's integer forward pass (the values a
          proof shows); where the error grows.
simulate  A numpy fake-quantization model of the same arithmetic (not gkrnet's integers):
          which quantized group (weights, residual stream, other activations, attention scores,
          attention probabilities, logits) costs the most, and how many bits would reach the
          target.

Calibrations (--calibration, comma-separated; default text,random,text16:13,text64,text256,
heldout):
    text        gkrnet compile --calibration calibration.npy (16 windows of the training text)
    random      gkrnet compile without --calibration: 16 seeded token-id sequences uniform over
                the 256 byte values (gkrnet's default for a model of token ids)
    textN[:S]   N windows of the training text, RandomState(S) (default make_bytegpt's
                SEED_CALIB, whose first 16 windows are calibration.npy)
    heldout     the evaluated windows themselves (an oracle: the best min/max ranges can do)
    PATH.npy    any other int64 [N,64] file of calibration windows

Deterministic: no seeds of its own (gkrnet's proofs are Fiat–Shamir, its default calibration
seeded, onnxruntime single-threaded). Writes --out (default models/bytegpt/results.json: the
figures, no logits) and prints tables. About 2 s per proof on one thread: the default run
(6 calibrations × 64 windows) takes about 15 minutes.

Versions: those of make_bytegpt.py (numpy, onnx, onnxruntime); the gkrnet binary is --gkrnet
(default $GKRNET, else target/release/gkrnet); its --version goes into results.json.

Usage:  python3 models/eval_bytegpt.py [--gkrnet PATH] [--what prove,layers,simulate]
            [--calibration text,random] [--windows 64] [--verify 4] [--threads 1]
            [--work DIR] [--save-logits] [--out FILE]
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {p.returncode}\n{p.stderr}")
    return p.stdout


def float_logits(onnx_path, ids):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"input_ids": ids[i:i + 1]})[0] for i in range(len(ids))])


def log_softmax(x):
    x = x.astype(np.float64)
    m = x.max(-1, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(-1, keepdims=True))


def metrics(q, f, ids, step):
    """q, f: [n, 64, 256] integer (dequantized) and float logits; ids [n, 64]."""
    aq, af = q.argmax(-1), f.argmax(-1)
    top = np.sort(q, -1)
    nxt = ids[:, 1:]
    lq, lf = log_softmax(q[:, :-1]), log_softmax(f[:, :-1])
    ce_q = -np.take_along_axis(lq, nxt[..., None], -1).mean()
    ce_f = -np.take_along_axis(lf, nxt[..., None], -1).mean()
    pf = np.exp(lf)
    d = np.abs(q - f)
    fs = np.sort(f, -1)
    margin = fs[..., -1] - fs[..., -2]  # the float model's top-1 minus top-2 logit
    top2 = np.argsort(f, -1)[..., -2:]
    off = aq != af
    return {
        "positions": int(aq.size),
        "agreement": float((aq == af).mean()),
        "disagreements": int((aq != af).sum()),
        "agreement_0_62": float((aq[:, :-1] == af[:, :-1]).mean()),
        "int_ties_at_max": int((top[..., -1] == top[..., -2]).sum()),
        "int_top1_in_float_top2": float((top2 == aq[..., None]).any(-1).mean()),
        "float_margin_median_where_disagree": float(np.median(margin[off])) if off.any()
        else None,
        "agreement_float_margin_ge_0.5": float((aq == af)[margin >= 0.5].mean()),
        "positions_float_margin_ge_0.5": int((margin >= 0.5).sum()),
        "top1_float": float((af[:, :-1] == nxt).mean()),
        "top1_int": float((aq[:, :-1] == nxt).mean()),
        "ce_float_nats": float(ce_f), "ce_int_nats": float(ce_q),
        "bpb_float": float(ce_f / math.log(2)), "bpb_int": float(ce_q / math.log(2)),
        "ppl_float": float(math.exp(ce_f)), "ppl_int": float(math.exp(ce_q)),
        "ppl_ratio": float(math.exp(ce_q - ce_f)),
        "kl_float_int_nats": float((pf * (lf - lq)).sum(-1).mean()),
        "max_abs_dlogit": float(d.max()), "mean_abs_dlogit": float(d.mean()),
        "output_step": step,
        "float_logit_range": [float(f.min()), float(f.max())],
    }


def calibration_file(a, c, ids, work):
    """The .npy of a calibration name: text (calibration.npy), textN[:SEED] (N windows of the
    training text drawn as make_bytegpt.py draws calibration.npy, whose first 16 they are with
    the default seed), heldout (the evaluated windows themselves: an oracle), or a path."""
    if c == "text":
        return os.path.join(a.dir, "calibration.npy")
    if c == "heldout":
        path = os.path.join(work, "calib_heldout.npy")
        np.save(path, ids)
        return path
    if c.startswith("text"):
        sys.path.insert(0, HERE)
        import make_bytegpt as mb
        n, _, seed = c[4:].partition(":")
        seed = int(seed) if seed else mb.SEED_CALIB
        train = mb.corpus()[0]
        w = mb.windows(train, np.random.RandomState(seed).randint(
            0, len(train) - mb.CTX, size=int(n)), mb.CTX)
        if c == f"text{mb.N_CALIB}" and not np.array_equal(
                w, np.load(os.path.join(a.dir, "calibration.npy"))):
            sys.exit("text16 differs from calibration.npy: another standard library?")
        path = os.path.join(work, f"calib_{c.replace(':', '_')}.npy")
        np.save(path, w)
        return path
    return os.path.abspath(c)


def evaluate(a, name, calib, ids, f, work):
    gkrm = os.path.join(work, f"bytegpt_{name}.gkrm")
    cmd = [a.gkrnet, "--threads", str(a.threads), "compile", os.path.join(a.dir, "bytegpt.onnx"),
           "-o", gkrm, "--inputs", os.path.join(a.dir, "heldout.npy"), "--json"]
    if calib is not None:
        cmd += ["--calibration", calib]
    comp = json.loads(run(cmd))
    digest = comp["digest"]
    print(f"[{name}] compiled: digest {digest[:16]}…, {comp['layers']} layers, "
          f"{comp['gkrm_bytes']:,} bytes", flush=True)
    q = np.zeros_like(f, dtype=np.float64)
    prove_ms, verify_ms, proof_bytes, verified = [], [], [], 0
    step = None
    for i in range(len(ids)):
        x = os.path.join(work, "window.npy")
        p = os.path.join(work, "window.gkr")
        np.save(x, ids[i:i + 1])
        out = json.loads(run([a.gkrnet, "--threads", str(a.threads), "prove", "--model", gkrm,
                              "--input", x, "--proof", p, "--json"]))
        if out["digest"] != digest:
            sys.exit(f"window {i}: prove used digest {out['digest']}, compile gave {digest}")
        q[i] = np.asarray(out["output"], dtype=np.float64).reshape(f.shape[1:])
        prove_ms.append(out.get("prove_ms"))
        proof_bytes.append(os.path.getsize(p))
        if step is None:  # the output's quantization step: value = (int - zero point) · step
            qi = np.asarray(out["output_int"], dtype=np.float64)
            j, k = int(qi.argmin()), int(qi.argmax())
            step = float((out["output"][k] - out["output"][j]) / (qi[k] - qi[j]))
        if i < a.verify:
            v = json.loads(run([a.gkrnet, "--threads", str(a.threads), "verify", "--model", gkrm,
                                "--input", x, "--proof", p, "--expect-digest", digest,
                                "--json"]))
            got = np.asarray(v["output"], dtype=np.float64).reshape(f.shape[1:])
            if v.get("verified") is not True or not np.array_equal(got, q[i]):
                sys.exit(f"window {i}: verified output differs from the proven one")
            verified += 1
            verify_ms.append(v.get("verify_ms"))
        os.remove(p)
        if (i + 1) % 8 == 0:
            print(f"[{name}] proved {i + 1}/{len(ids)}", flush=True)
    m = metrics(q, f, ids, step)
    m.update({"name": name, "calibration": "gkrnet's default: 16 seeded token-id sequences"
              if calib is None else f"{len(np.load(calib))} windows ({name})",
              "digest": digest, "compile": comp, "proved": len(ids), "verified": verified,
              "prove_ms_mean": float(np.mean([t for t in prove_ms if t is not None] or [np.nan])),
              "verify_ms_mean": float(np.mean([t for t in verify_ms if t is not None] or [np.nan])),
              "proof_bytes": int(np.median(proof_bytes))})
    if a.save_logits:
        np.save(os.path.join(work, f"logits_{name}.npy"), q.astype(np.float32))
    return m


# ------------------------------------------------------------------------ where accuracy goes
T = "/gpt2/transformer/"
CHECKPOINTS = [  # (label, ONNX tensor): the residual stream and each block's sublayers
    ("embed (wte+wpe)", T + "Add_output_0"),
    ("h0.ln_1", T + "h.0/ln_1/LayerNormalization_output_0"),
    ("h0.qkv", T + "h.0/attn/c_attn/Gemm_output_0"),
    ("h0.attn·v", T + "h.0/attn/MatMul_1_output_0"),
    ("h0.attn proj", T + "h.0/attn/c_proj/Gemm_output_0"),
    ("h0.resid (attn)", T + "h.0/Add_output_0"),
    ("h0.ln_2", T + "h.0/ln_2/LayerNormalization_output_0"),
    ("h0.fc", T + "h.0/mlp/c_fc/Gemm_output_0"),
    ("h0.gelu", T + "h.0/mlp/act/Mul_3_output_0"),
    ("h0.mlp proj", T + "h.0/mlp/c_proj/Gemm_output_0"),
    ("h0.out", T + "h.0/Add_1_output_0"),
    ("h1.ln_1", T + "h.1/ln_1/LayerNormalization_output_0"),
    ("h1.attn·v", T + "h.1/attn/MatMul_1_output_0"),
    ("h1.resid (attn)", T + "h.1/Add_output_0"),
    ("h1.gelu", T + "h.1/mlp/act/Mul_3_output_0"),
    ("h1.mlp proj", T + "h.1/mlp/c_proj/Gemm_output_0"),
    ("h1.out", T + "h.1/Add_1_output_0"),
    ("ln_f", T + "ln_f/LayerNormalization_output_0"),
    ("logits", "logits"),
]


def float_tensors(onnx_path, ids, names):
    """onnxruntime's float values of the named tensors: {name: [n, ...]}."""
    import onnx
    m = onnx.load(onnx_path)
    have = {o.name for o in m.graph.output}
    for n in names:
        if n not in have:
            m.graph.output.append(onnx.helper.make_empty_tensor_value_info(n))
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    runs = [s.run(names, {"input_ids": ids[i:i + 1]}) for i in range(len(ids))]
    return {n: np.concatenate([r[k] for r in runs]).astype(np.float64)
            for k, n in enumerate(names)}


def layers(a, calib, ids, work):
    """gkrnet's integer model cut after each checkpoint (onnx.utils.extract_model, same
    calibration, so the same int8 tensors up to the cut): `compile --inputs` gives the mean and
    max |integer − float| of the cut's output (its integer forward pass, the values a proof
    would show) over the held-out windows; the int8 step is estimated as range / 255 of the
    float tensor over the calibration windows."""
    import onnx.utils
    src = os.path.join(a.dir, "bytegpt.onnx")
    names = [n for _, n in CHECKPOINTS]
    cal_ids = np.load(calib).astype(np.int64)
    held = float_tensors(src, ids, names)
    cal = float_tensors(src, cal_ids, names)
    x = os.path.join(work, "heldout.npy")
    np.save(x, ids)
    rows = []
    print(f"[layers] integer forward of the model cut after each checkpoint, calibration "
          f"{os.path.basename(calib)}, {len(ids)} windows", flush=True)
    for label, name in CHECKPOINTS:
        path = src
        if name != "logits":
            path = os.path.join(work, "cut.onnx")
            onnx.utils.extract_model(src, path, ["input_ids"], [name])
        comp = json.loads(run([a.gkrnet, "--threads", str(a.threads), "compile", path, "-o",
                               os.path.join(work, "cut.gkrm"), "--calibration", calib,
                               "--inputs", x, "--json"]))
        acc = comp["accuracy"]
        v, c = held[name], cal[name]
        step = (max(c.max(), 0) - min(c.min(), 0)) / 255
        r = {"label": label, "tensor": name, "mean_abs_err": acc["mean_abs_error"],
             "max_abs_err": acc["max_abs_error"], "mean_abs_float": float(np.abs(v).mean()),
             "rel_mean_err": acc["mean_abs_error"] / float(np.abs(v).mean()),
             "calibrated_range": [float(c.min()), float(c.max())], "step": float(step),
             "mean_err_in_steps": acc["mean_abs_error"] / step}
        rows.append(r)
        print(f"  {label:16s} mean|Δ| {r['mean_abs_err']:.4f} ({100 * r['rel_mean_err']:5.2f} % "
              f"of mean|x| {r['mean_abs_float']:.3f}, {r['mean_err_in_steps']:.2f} steps)  "
              f"max|Δ| {r['max_abs_err']:.3f}  range [{c.min():.2f}, {c.max():.2f}]  "
              f"step ≈ {step:.4f}", flush=True)
    return rows


def simulate(a, calib, ids, f):
    """A numpy model of the int8 arithmetic, to ask which quantization costs the most (it is
    not gkrnet's integer model, only fake quantization in float): weights per output channel
    symmetric, activations per tensor asymmetric over the calibration windows' min/max,
    attention scores before the softmax likewise, attention probabilities at 1/255, logits
    like any activation. Each group at 8 bits alone, all but one, then wider integers."""
    import onnx
    import onnx.numpy_helper as nh
    W = {t.name: nh.to_array(t).astype(np.float64)
         for t in onnx.load(os.path.join(a.dir, "bytegpt.onnx")).graph.initializer}
    P = "gpt2.transformer."
    n_ctx, heads, dh = ids.shape[1], 4, 32
    causal = np.tril(np.ones((n_ctx, n_ctx), bool))
    lm_head = [v for k, v in W.items() if not k.startswith(P)][0]  # the tied wte, transposed

    def ln(x, g, b):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-5) * g + b

    def gelu(x):
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))

    def qw(w, bits, axis=0):
        m = 2 ** (bits - 1) - 1
        s = np.abs(w).max(axis, keepdims=True) / m
        s[s == 0] = 1
        return np.round(w / s).clip(-m, m) * s

    def fq(x, r, bits):
        n = 2 ** bits
        lo, hi = min(r[0], 0), max(r[1], 0)
        s = (hi - lo) / (n - 1) or 1.0
        z = np.round(-n // 2 - lo / s)
        return (np.clip(np.round(x / s) + z, -n // 2, n // 2 - 1) - z) * s

    def forward(x, bits, ranges=None, rec=None):
        """bits: {group: bits} for the quantized groups; rec collects (min, max) per tensor."""
        def Q(name, v, group, where=None):
            if rec is not None:
                vv = v[where] if where is not None else v
                r = rec.setdefault(name, [np.inf, -np.inf])
                r[0], r[1] = min(r[0], vv.min()), max(r[1], vv.max())
            return fq(v, ranges[name], bits[group]) if group in bits and ranges else v

        wb = bits.get("weights")
        w = (lambda n: qw(W[P + n], wb)) if wb else (lambda n: W[P + n])
        wte = W[P + "wte.weight"]
        if wb:
            wte = qw(wte, wb, None)  # the embedding table: one scale
        h = Q("embed", wte[x] + W[P + "wpe.weight"][None], "resid")
        for l in range(2):
            p = f"h.{l}."
            a_ = Q(p + "ln1", ln(h, W[P + p + "ln_1.weight"], W[P + p + "ln_1.bias"]), "acts")
            qkv = Q(p + "qkv", a_ @ w(p + "attn.c_attn.weight") + W[P + p + "attn.c_attn.bias"],
                    "acts")
            q, k, v = (t.reshape(len(x), n_ctx, heads, dh).transpose(0, 2, 1, 3)
                       for t in np.split(qkv, 3, -1))
            sc = q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh)
            sc = Q(p + "scores", sc, "scores", np.broadcast_to(causal, sc.shape))
            sc = np.where(causal, sc, -np.inf)
            e = np.exp(sc - sc.max(-1, keepdims=True))
            pr = e / e.sum(-1, keepdims=True)
            if "probs" in bits:
                levels = 2 ** bits["probs"] - 1
                pr = np.round(pr * levels) / levels
            o = (pr @ v).transpose(0, 2, 1, 3).reshape(len(x), n_ctx, heads * dh)
            o = Q(p + "attnv", o, "acts")
            o = Q(p + "aproj", o @ w(p + "attn.c_proj.weight") + W[P + p + "attn.c_proj.bias"],
                  "acts")
            h = Q(p + "resid1", h + o, "resid")
            a_ = Q(p + "ln2", ln(h, W[P + p + "ln_2.weight"], W[P + p + "ln_2.bias"]), "acts")
            fc = Q(p + "fc", a_ @ w(p + "mlp.c_fc.weight") + W[P + p + "mlp.c_fc.bias"], "acts")
            g = Q(p + "gelu", gelu(fc), "acts")
            m = Q(p + "mproj", g @ w(p + "mlp.c_proj.weight") + W[P + p + "mlp.c_proj.bias"],
                  "acts")
            h = Q(p + "out", h + m, "resid")
        a_ = Q("lnf", ln(h, W[P + "ln_f.weight"], W[P + "ln_f.bias"]), "acts")
        return Q("logits", a_ @ (qw(lm_head, wb) if wb else lm_head), "logits")

    rec = {}
    forward(np.load(calib).astype(np.int64), {}, None, rec)
    ranges = {k: tuple(v) for k, v in rec.items()}
    check = float(np.abs(forward(ids, {}) - f).max())
    af = f.argmax(-1)
    lf = log_softmax(f[:, :-1])
    ce_f = -np.take_along_axis(lf, ids[:, 1:, None], -1).mean()
    groups = ["weights", "resid", "acts", "scores", "probs", "logits"]
    rows = []

    def row(label, bits):
        q = forward(ids, bits, ranges)
        ce_q = -np.take_along_axis(log_softmax(q[:, :-1]), ids[:, 1:, None], -1).mean()
        r = {"label": label, "bits": bits, "agreement": float((q.argmax(-1) == af).mean()),
             "ppl_ratio": float(math.exp(ce_q - ce_f)),
             "mean_abs_dlogit": float(np.abs(q - f).mean())}
        rows.append(r)
        print(f"  {label:44s} agreement {100 * r['agreement']:6.2f} %  perplexity "
              f"{100 * (r['ppl_ratio'] - 1):+6.2f} %  mean|Δ logit| {r['mean_abs_dlogit']:.4f}",
              flush=True)

    print(f"[simulate] fake quantization in numpy, ranges from {os.path.basename(calib)}; "
          f"float forward = onnxruntime to {check:.1e}", flush=True)
    for g in groups:
        row(f"only {g} at 8 bits", {g: 8})
    row("all at 8 bits", {g: 8 for g in groups})
    for g in groups:
        row(f"all at 8 bits but {g} float", {h: 8 for h in groups if h != g})
    for b in (9, 10, 11, 12, 16):
        row(f"all at {b} bits", {g: b for g in groups})
    row("scores, logits, residual at 16, rest at 8",
        {**{g: 8 for g in groups}, "scores": 16, "logits": 16, "resid": 16})
    return {"float_check_max_abs": check, "groups": groups,
            "ranges": {k: [float(v[0]), float(v[1])] for k, v in ranges.items()}, "rows": rows}


def table(res):
    rows = [("calibration", lambda m: m["name"]),
            ("top-1 agreement int vs float", lambda m: f"{100 * m['agreement']:.2f} % "
             f"({m['positions'] - m['disagreements']}/{m['positions']})"),
            ("  where float margin ≥ 0.5",
             lambda m: f"{100 * m['agreement_float_margin_ge_0.5']:.2f} % "
             f"of {m['positions_float_margin_ge_0.5']}"),
            ("int top-1 in float top-2", lambda m: f"{100 * m['int_top1_in_float_top2']:.2f} %"),
            ("top-1 acc. float / int", lambda m: f"{100 * m['top1_float']:.2f} / "
             f"{100 * m['top1_int']:.2f} %"),
            ("bits/byte float / int", lambda m: f"{m['bpb_float']:.4f} / {m['bpb_int']:.4f}"),
            ("perplexity float / int", lambda m: f"{m['ppl_float']:.4f} / {m['ppl_int']:.4f}"),
            ("perplexity int / float - 1", lambda m: f"{100 * (m['ppl_ratio'] - 1):+.2f} %"),
            ("KL(float || int) per byte", lambda m: f"{m['kl_float_int_nats']:.4f} nats"),
            ("max / mean |Δ logit|", lambda m: f"{m['max_abs_dlogit']:.3f} / "
             f"{m['mean_abs_dlogit']:.4f}"),
            ("output step", lambda m: f"{m['output_step']:.4f}"),
            ("tied integer maxima", lambda m: str(m["int_ties_at_max"])),
            ("proved / verified", lambda m: f"{m['proved']} / {m['verified']}"),
            ("prove / verify ms", lambda m: f"{m['prove_ms_mean']:.0f} / "
             f"{m['verify_ms_mean']:.0f}")]
    w = max(len(r[0]) for r in rows)
    cols = [[f(m) for _, f in rows] for m in res]
    cw = [max(len(c) for c in col) for col in cols]
    for i, (label, _) in enumerate(rows):
        print(f"{label:<{w}}  " + "  ".join(f"{col[i]:<{cw[j]}}" for j, col in enumerate(cols)))


def main():
    ap = argparse.ArgumentParser(description="Proven integer vs float byte-level GPT.")
    ap.add_argument("--dir", default=os.path.join(HERE, "bytegpt"))
    ap.add_argument("--gkrnet", default=os.environ.get(
        "GKRNET", os.path.join(ROOT, "target", "release", "gkrnet")))
    ap.add_argument("--calibration", default="text,random,text16:13,text64,text256,heldout",
                    help="comma-separated: text, random, textN[:SEED], heldout, or .npy files "
                         "of int64 windows (the first two are the comparison asked for)")
    ap.add_argument("--what", default="prove,layers,simulate",
                    help="comma-separated: prove (the proven comparison), layers, simulate")
    ap.add_argument("--windows", type=int, default=64, help="first N windows of heldout.npy")
    ap.add_argument("--verify", type=int, default=4, help="verify the first N proofs")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--work", default=None, help="directory for .gkrm and proofs (default tmp)")
    ap.add_argument("--save-logits", action="store_true", help="keep logits_NAME.npy in --work")
    ap.add_argument("--out", default=None, help="default: DIR/results.json")
    a = ap.parse_args()
    out = a.out or os.path.join(a.dir, "results.json")
    work = a.work or tempfile.mkdtemp(prefix="eval_bytegpt_")
    os.makedirs(work, exist_ok=True)
    what = a.what.split(",")
    text_calib = os.path.join(a.dir, "calibration.npy")

    ids = np.load(os.path.join(a.dir, "heldout.npy"))[:a.windows].astype(np.int64)
    f = float_logits(os.path.join(a.dir, "bytegpt.onnx"), ids).astype(np.float64)
    version = run([a.gkrnet, "--version"]).strip()
    print(f"{version}; {len(ids)} held-out windows of {ids.shape[1]} bytes; work dir {work}",
          flush=True)
    doc = {"gkrnet": version, "windows": len(ids), "window_bytes": int(ids.shape[1]),
           "threads": a.threads,
           "note": "compile.accuracy.argmax_agreement is gkrnet compile's figure: one argmax per "
                   "window over the flattened [1,64,256] logits, not per position; the "
                   "per-position figure is 'agreement'"}
    if "prove" in what:
        res = []
        for c in a.calibration.split(","):
            start = time.time()
            if c == "random":
                m = evaluate(a, "random", None, ids, f, work)
            else:
                m = evaluate(a, c if c in ("text", "heldout") or c.startswith("text")
                             else os.path.splitext(os.path.basename(c))[0],
                             calibration_file(a, c, ids, work), ids, f, work)
            m["seconds"] = round(time.time() - start, 1)
            res.append(m)
        table(res)
        doc["results"] = res
    if "layers" in what:
        doc["layers"] = layers(a, text_calib, ids, work)
    if "simulate" in what:
        doc["simulation"] = simulate(a, text_calib, ids, f)
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
