#!/usr/bin/env python3
"""A zoo of tiny seeded transformer architectures exported to ONNX, for triaging gkrnet's import.

Not needed by the crate, its tests or CI, and it writes nothing into the repository: the files go
to --out (default /work/tzoo). Deterministic: torch.manual_seed(0) before building each model,
numpy RandomState(1) per model's inputs, single-threaded torch and onnxruntime. No downloads:
every Hugging Face model is built from a config object with seeded random weights (never
from_pretrained). The triage itself (prove + verify of every export with the gkrnet binary) is
`--prove BIN`, which writes results.json beside the models; models/transformer_zoo.md reports it.

Versions used (pip install torch==2.15.0 onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2
numpy==2.4.6 transformers==5.25.0; torch from PyPI, the CUDA build, used on CPU only):
    Python 3.11.7, torch 2.15.0+cu132, transformers 5.25.0, onnx 1.23.2, onnxruntime 1.32.0,
    onnxscript 0.7.2, numpy 2.4.6

Usage:
    python3 models/make_transformer_zoo.py [--out /work/tzoo] [--only a,b] [--no-dynamo]
    python3 models/make_transformer_zoo.py [--out /work/tzoo] --prove /tmp/gkrnet-zoo [--only a,b]
    python3 models/make_transformer_zoo.py [--out /work/tzoo] --probe /tmp/gkrnet-zoo [--only a,b]

Every model: eval mode, batch 1, sequence 16, fixed shapes (no dynamic axes), 2 layers, hidden
64-128, 2-4 heads, vocab 512, attn_implementation="eager", use_cache=False, wrapped so that the
graph returns the main output tensor only (last_hidden_state or logits). Inputs (graph order):
    input_ids       int64 [1,16], RandomState(1).randint(3, vocab) (no pad/special ids 0-2)
    attention_mask  int64 [1,16], ones except the last 3 positions 0 (right padding)
    token_type_ids  int64 [1,16], 0 for the first 8 positions, 1 for the last 8 (bert_tt only)
    pixel_values    float32 [1,3,32,32], uniform [-1, 1) (ViT, patch 8: 16 patches + CLS)
    input_features  float32 [1,16,32], standard normal (Whisper encoder, 16 mel bins)
    input / memory  float32 [1,16,64], standard normal (torch.nn modules)

Models (transformers classes built from their config; output kind in brackets):
    bert, bert_cls, bert_tt  BertModel / BertForSequenceClassification(num_labels=3) / BertModel
                        with token_type_ids; hidden 128, 2 heads, intermediate 256 [hidden,
                        logits, hidden]
    distilbert          DistilBertModel, dim 128, 2 heads, hidden_dim 256 [hidden]
    roberta             RobertaModel, as BERT, max_position_embeddings 66 (pad id 1) [hidden]
    albert, electra     AlbertModel / ElectraModel, embedding_size 64, hidden 128 [hidden]
    gpt2                GPT2LMHeadModel, n_embd 128, 4 heads [logits]
    gpt_neo             GPTNeoForCausalLM, hidden 128, 4 heads, layers global + local,
                        window_size 8 [logits]
    opt                 OPTForCausalLM, hidden 128, 4 heads, ffn 256 [logits]
    llama, mistral, qwen2, gemma  *ForCausalLM, hidden 128, 4 heads, 2 KV heads (GQA),
                        intermediate 256; mistral sliding_window 8; gemma head_dim 32 [logits]
    phi                 PhiForCausalLM, hidden 128, 4 heads, partial_rotary_factor 0.5 [logits]
    t5_encoder          T5EncoderModel, d_model 128, d_kv 32, d_ff 256, 4 heads (relu) [hidden]
    vit, vit_cls        ViTModel(add_pooling_layer=False) / ViTForImageClassification(10 labels),
                        32x32, patch 8, hidden 128, 4 heads [hidden, logits]
    whisper_encoder     WhisperEncoder, 16 mel bins, d_model 128, 4 heads,
                        max_source_positions 16 [hidden]
    mha                 torch.nn.MultiheadAttention(64, 4, batch_first=True), self-attention
    tdec_layer          torch.nn.TransformerDecoderLayer(64, 4, dim_feedforward=128, dropout=0,
                        batch_first=True) with a causal tgt_mask buffer; inputs tgt and memory

For every model NAME it writes into --out:
    NAME.onnx            torch.onnx.export(dynamo=False, opset_version=17, constant folding)
    NAME_dynamo.onnx     torch.onnx.export(dynamo=True), reloaded and saved as one file (no
                         external data) without the node metadata pkg.torch.onnx.stack_trace
    NAME_input.npy       the first input (ids, pixels, features or the float input)
    NAME_mask.npy        attention_mask, when the model takes one
    NAME_tt.npy          token_type_ids (bert_tt)
    NAME_memory.npy      the decoder layer's memory (tdec_layer)
    NAME_expected.npy    onnxruntime's output (1 thread) of NAME.onnx on those inputs; each export
                         must agree with torch to 1e-4 (max abs difference) or it is skipped
    manifest.json        per export: model, exporter, graph inputs -> files, output kind
    skipped.txt          exports that failed, with the first line of their error
With --prove BIN: results.json (per export: status, times, proof bytes, accuracy against
NAME_expected.npy, first error line). prove and verify run with --threads 1 and no
--calibration (gkrnet then calibrates on the proven input plus its seeded inputs).
With --probe BIN: each failing model rewritten around its known blockers (see PROBES: exact
rewrites, or input-specific ones that freeze a tensor computed from the integer inputs), saved
to probes/, proved and verified: probes.json (what else blocks it, or how it proves).
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import logging
import platform
import shutil
import subprocess
import sys
import tempfile
import traceback
import warnings

import numpy as np
import onnx
import onnxruntime as ort

logging.getLogger().setLevel(logging.ERROR)
warnings.filterwarnings("ignore")

OPSET = 17
TOL = 1e-4
SEED_MODEL = 0
SEED_INPUT = 1
SEQ = 16
VOCAB = 512
FILE_SUFFIX = {"input_ids": "input", "pixel_values": "input", "input_features": "input",
               "input": "input", "attention_mask": "mask", "token_type_ids": "tt",
               "memory": "memory"}

SKIPPED = []  # (file, error)
MANIFEST = []  # dicts


def versions():
    import onnxscript
    import torch
    import transformers
    return [("Python", platform.python_version()), ("torch", torch.__version__),
            ("transformers", transformers.__version__), ("onnx", onnx.__version__),
            ("onnxruntime", ort.__version__), ("onnxscript", onnxscript.__version__),
            ("numpy", np.__version__)]


# ------------------------------------------------------------------------------------ inputs
def text_inputs(names):
    rs = np.random.RandomState(SEED_INPUT)
    feeds = {"input_ids": rs.randint(3, VOCAB, size=(1, SEQ)).astype(np.int64)}
    if "attention_mask" in names:
        mask = np.ones((1, SEQ), dtype=np.int64)
        mask[:, -3:] = 0
        feeds["attention_mask"] = mask
    if "token_type_ids" in names:
        tt = np.zeros((1, SEQ), dtype=np.int64)
        tt[:, SEQ // 2:] = 1
        feeds["token_type_ids"] = tt
    return feeds


# ------------------------------------------------------------------------------------ models
def specs():
    """[(name, kind, builder)]: builder() -> (module, feeds, out_name, how); kind is 'logits'
    (argmax compared over the last axis) or 'hidden'. Builders run after torch.manual_seed."""
    import torch
    import transformers as T
    from torch import nn

    def eager(cfg):
        cfg._attn_implementation = "eager"
        cfg.use_cache = False
        return cfg

    class HF1(nn.Module):
        def __init__(self, m, attr, kw):
            super().__init__()
            self.m, self.attr, self.kw = m, attr, kw

        def forward(self, a):
            return getattr(self.m(a, return_dict=True, **self.kw), self.attr)

    class HF2(nn.Module):
        def __init__(self, m, attr, kw):
            super().__init__()
            self.m, self.attr, self.kw = m, attr, kw

        def forward(self, input_ids, attention_mask):
            return getattr(self.m(input_ids=input_ids, attention_mask=attention_mask,
                                  return_dict=True, **self.kw), self.attr)

    class HF3(nn.Module):
        def __init__(self, m, attr, kw):
            super().__init__()
            self.m, self.attr, self.kw = m, attr, kw

        def forward(self, input_ids, attention_mask, token_type_ids):
            return getattr(self.m(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids, return_dict=True, **self.kw),
                           self.attr)

    def text(cls, cfg, attr, names=("input_ids", "attention_mask"), kw=None):
        cfg = eager(cfg)
        m = cls(cfg).eval()
        w = {2: HF2, 3: HF3}[len(names)](m, attr, kw or {}).eval()
        how = f"transformers.{cls.__name__}({type(cfg).__name__}(...)) -> {attr}"
        return w, text_inputs(names), attr, how

    enc = dict(vocab_size=VOCAB, hidden_size=128, num_hidden_layers=2, num_attention_heads=2,
               intermediate_size=256, max_position_embeddings=64)
    dec = dict(vocab_size=VOCAB, hidden_size=128, intermediate_size=256, num_hidden_layers=2,
               num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64)
    nocache = {"use_cache": False}

    S = []
    S.append(("bert", "hidden", lambda: text(T.BertModel, T.BertConfig(**enc),
                                             "last_hidden_state")))
    S.append(("bert_cls", "logits", lambda: text(T.BertForSequenceClassification,
                                                 T.BertConfig(num_labels=3, **enc), "logits")))
    S.append(("bert_tt", "hidden", lambda: text(
        T.BertModel, T.BertConfig(**enc), "last_hidden_state",
        names=("input_ids", "attention_mask", "token_type_ids"))))
    S.append(("distilbert", "hidden", lambda: text(
        T.DistilBertModel, T.DistilBertConfig(vocab_size=VOCAB, dim=128, n_layers=2, n_heads=2,
                                              hidden_dim=256, max_position_embeddings=64),
        "last_hidden_state")))
    S.append(("roberta", "hidden", lambda: text(
        T.RobertaModel, T.RobertaConfig(**{**enc, "max_position_embeddings": 66}),
        "last_hidden_state")))
    S.append(("albert", "hidden", lambda: text(
        T.AlbertModel, T.AlbertConfig(embedding_size=64, **enc), "last_hidden_state")))
    S.append(("electra", "hidden", lambda: text(
        T.ElectraModel, T.ElectraConfig(embedding_size=64, **enc), "last_hidden_state")))
    S.append(("gpt2", "logits", lambda: text(
        T.GPT2LMHeadModel, T.GPT2Config(vocab_size=VOCAB, n_embd=128, n_layer=2, n_head=4,
                                        n_positions=64, bos_token_id=1, eos_token_id=2),
        "logits", kw=nocache)))
    S.append(("gpt_neo", "logits", lambda: text(
        T.GPTNeoForCausalLM, T.GPTNeoConfig(vocab_size=VOCAB, hidden_size=128, num_layers=2,
                                            attention_types=[[["global", "local"], 1]],
                                            num_heads=4, intermediate_size=256,
                                            max_position_embeddings=64, window_size=8,
                                            bos_token_id=1, eos_token_id=2),
        "logits", kw=nocache)))
    S.append(("opt", "logits", lambda: text(
        T.OPTForCausalLM, T.OPTConfig(vocab_size=VOCAB, hidden_size=128, num_hidden_layers=2,
                                      ffn_dim=256, num_attention_heads=4,
                                      max_position_embeddings=64, word_embed_proj_dim=128),
        "logits", kw=nocache)))
    S.append(("llama", "logits", lambda: text(T.LlamaForCausalLM, T.LlamaConfig(**dec),
                                              "logits", kw=nocache)))
    S.append(("mistral", "logits", lambda: text(
        T.MistralForCausalLM, T.MistralConfig(sliding_window=8, **dec), "logits", kw=nocache)))
    S.append(("qwen2", "logits", lambda: text(T.Qwen2ForCausalLM, T.Qwen2Config(**dec),
                                              "logits", kw=nocache)))
    S.append(("phi", "logits", lambda: text(
        T.PhiForCausalLM, T.PhiConfig(partial_rotary_factor=0.5,
                                      **{k: v for k, v in dec.items()
                                         if k != "num_key_value_heads"}),
        "logits", kw=nocache)))
    if hasattr(T, "GemmaForCausalLM"):
        S.append(("gemma", "logits", lambda: text(
            T.GemmaForCausalLM, T.GemmaConfig(head_dim=32, **dec), "logits", kw=nocache)))
    S.append(("t5_encoder", "hidden", lambda: text(
        T.T5EncoderModel, T.T5Config(vocab_size=VOCAB, d_model=128, d_kv=32, d_ff=256,
                                     num_layers=2, num_heads=4), "last_hidden_state")))

    def vit(cls, attr, **extra):
        cfg = eager(T.ViTConfig(image_size=32, patch_size=8, num_channels=3, hidden_size=128,
                                num_hidden_layers=2, num_attention_heads=4,
                                intermediate_size=256, **extra))
        m = HF1(cls(cfg).eval(), attr, {}).eval()
        x = np.random.RandomState(SEED_INPUT).uniform(-1, 1, (1, 3, 32, 32)).astype(np.float32)
        return m, {"pixel_values": x}, attr, f"transformers.{cls.__name__}(ViTConfig(...)) -> {attr}"

    S.append(("vit", "hidden", lambda: vit(T.ViTModel, "last_hidden_state",
                                           add_pooling_layer=False)))
    S.append(("vit_cls", "logits", lambda: vit(T.ViTForImageClassification, "logits",
                                               num_labels=10)))

    def whisper():
        from transformers.models.whisper.modeling_whisper import WhisperEncoder
        cfg = eager(T.WhisperConfig(vocab_size=VOCAB, num_mel_bins=16, d_model=128,
                                    encoder_layers=2, encoder_attention_heads=4,
                                    encoder_ffn_dim=256, decoder_layers=2,
                                    decoder_attention_heads=4, decoder_ffn_dim=256,
                                    max_source_positions=16, max_target_positions=16,
                                    pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                    decoder_start_token_id=1))
        m = HF1(WhisperEncoder(cfg).eval(), "last_hidden_state", {}).eval()
        x = np.random.RandomState(SEED_INPUT).standard_normal((1, 16, 32)).astype(np.float32)
        return m, {"input_features": x}, "last_hidden_state", \
            "transformers WhisperEncoder(WhisperConfig(...)) -> last_hidden_state"

    S.append(("whisper_encoder", "hidden", whisper))

    class MHA(nn.Module):
        def __init__(self):
            super().__init__()
            self.mha = nn.MultiheadAttention(64, 4, batch_first=True)

        def forward(self, x):
            return self.mha(x, x, x, need_weights=False)[0]

    def mha():
        x = np.random.RandomState(SEED_INPUT).standard_normal((1, SEQ, 64)).astype(np.float32)
        return MHA().eval(), {"input": x}, "output", \
            "torch.nn.MultiheadAttention(64, 4, batch_first=True), self-attention x,x,x"

    S.append(("mha", "hidden", mha))

    class Dec(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer = nn.TransformerDecoderLayer(d_model=64, nhead=4, dim_feedforward=128,
                                                    dropout=0.0, batch_first=True)
            self.register_buffer("causal", nn.Transformer.generate_square_subsequent_mask(SEQ))

        def forward(self, x, memory):
            return self.layer(x, memory, tgt_mask=self.causal)

    def tdec():
        rs = np.random.RandomState(SEED_INPUT)
        x = rs.standard_normal((1, SEQ, 64)).astype(np.float32)
        mem = rs.standard_normal((1, SEQ, 64)).astype(np.float32)
        return Dec().eval(), {"input": x, "memory": mem}, "output", \
            ("torch.nn.TransformerDecoderLayer(d_model=64, nhead=4, dim_feedforward=128, "
             "dropout=0.0, batch_first=True), causal tgt_mask (a constant buffer)")

    S.append(("tdec_layer", "hidden", tdec))
    return S


# ------------------------------------------------------------------------------ onnx helpers
def ort_run(path, feeds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    return s.run(None, {i.name: feeds[i.name] for i in s.get_inputs()})[0]


def strip_stack_traces(graph):
    for n in graph.node:
        keep = [p for p in n.metadata_props if p.key != "pkg.torch.onnx.stack_trace"]
        if len(keep) != len(n.metadata_props):
            del n.metadata_props[:]
            n.metadata_props.extend(keep)
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                strip_stack_traces(a.g)
            for g in a.graphs:
                strip_stack_traces(g)


def fail(fname, e):
    lines = str(e).strip().splitlines()
    msg = f"{type(e).__name__}: {lines[0] if lines else ''}"
    SKIPPED.append((fname, msg))
    print(f"  {fname}: SKIPPED {msg}", flush=True)
    traceback.print_exc(limit=3, file=sys.stderr)


def record(out_dir, name, exporter, path, feeds, kind, how, diff):
    graph_inputs = [i.name for i in onnx.load(path, load_external_data=False).graph.input]
    MANIFEST.append({"file": os.path.basename(path), "model": name, "exporter": exporter,
                     "kind": kind, "how": how, "max_abs_ort_vs_torch": diff,
                     "inputs": [[n, f"{name}_{FILE_SUFFIX[n]}.npy"] for n in graph_inputs],
                     "expected": f"{name}_expected.npy"})
    print(f"  {os.path.basename(path)}: {os.path.getsize(path)} bytes, inputs {graph_inputs}, "
          f"max |ort - torch| = {diff:.3g}", flush=True)


def export(out_dir, name, kind, builder, dynamo):
    import torch
    torch.manual_seed(SEED_MODEL)
    model, feeds, out_name, how = builder()
    in_names = list(feeds)
    args = tuple(torch.from_numpy(feeds[n]) for n in in_names)
    with torch.no_grad():
        ref = model(*args).numpy()
    for n in in_names:
        np.save(os.path.join(out_dir, f"{name}_{FILE_SUFFIX[n]}.npy"), feeds[n])

    legacy = os.path.join(out_dir, f"{name}.onnx")
    expected = None
    try:
        with torch.no_grad():
            torch.onnx.export(model, args, legacy, dynamo=False, opset_version=OPSET,
                              input_names=in_names, output_names=[out_name],
                              do_constant_folding=True)
        y = ort_run(legacy, feeds)
        diff = float(np.abs(y - ref).max())
        if not diff <= TOL:
            raise RuntimeError(f"onnxruntime differs from torch by {diff:.3g} > {TOL}")
        expected = y
        record(out_dir, name, "legacy", legacy, feeds, kind, how, diff)
    except Exception as e:  # noqa: BLE001
        if os.path.exists(legacy):
            os.remove(legacy)
        fail(f"{name}.onnx", e)
    if expected is None:
        expected = ref  # torch's output when the legacy export failed
    np.save(os.path.join(out_dir, f"{name}_expected.npy"), expected.astype(np.float32))

    if not dynamo:
        return
    dpath = os.path.join(out_dir, f"{name}_dynamo.onnx")
    if os.path.exists(dpath):
        os.remove(dpath)
    tmp = tempfile.mkdtemp(prefix="tzoo_")
    try:
        tpath = os.path.join(tmp, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, args, tpath, dynamo=True, input_names=in_names,
                              output_names=[out_name])
        m = onnx.load(tpath)
        strip_stack_traces(m.graph)
        onnx.save(m, dpath, save_as_external_data=False)
        y = ort_run(dpath, feeds)
        diff = float(np.abs(y - ref).max())
        if not diff <= TOL:
            raise RuntimeError(f"onnxruntime differs from torch by {diff:.3g} > {TOL}")
        record(out_dir, name, "dynamo", dpath, feeds, kind, how, diff)
    except Exception as e:  # noqa: BLE001
        if os.path.exists(dpath):
            os.remove(dpath)
        fail(f"{name}_dynamo.onnx", e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------- prove
def first_error(stderr):
    lines = [l.strip() for l in stderr.splitlines() if l.strip()]
    for l in lines:
        if l.lower().startswith(("error", "fatal")) or "error:" in l.lower():
            return l
    return lines[-1] if lines else ""


def accuracy(out, expected, kind):
    out = np.asarray(out, dtype=np.float64).reshape(expected.shape)
    rng = float(expected.max() - expected.min())
    d = float(np.abs(out - expected).max())
    acc = {"max_abs": d, "range": rng, "rel": d / rng if rng else None}
    if kind == "logits":
        a, b = out.argmax(-1).ravel(), expected.argmax(-1).ravel()
        acc["argmax_agree"] = int((a == b).sum())
        acc["argmax_total"] = int(a.size)
    return acc


def prove_all(out_dir, binary, only, timeout):
    man = json.load(open(os.path.join(out_dir, "manifest.json")))
    res_path = os.path.join(out_dir, "results.json")
    results = json.load(open(res_path)) if os.path.exists(res_path) else {}
    for e in man:
        if only and e["model"] not in only:
            continue
        print(e["file"], flush=True)
        r = {"file": e["file"], "model": e["model"], "exporter": e["exporter"],
             "inputs": [n for n, _ in e["inputs"]]}
        files = [os.path.join(out_dir, f) for _, f in e["inputs"]]
        expected = np.load(os.path.join(out_dir, e["expected"]))
        try:
            r.update(run_gkrnet(binary, os.path.join(out_dir, e["file"]), files, e["kind"],
                                expected, timeout))
        except subprocess.TimeoutExpired:
            r.update(status="prove error", error=f"timeout after {timeout} s")
        print(f"  {r['status']} {r.get('error', '')}"[:300], flush=True)
        results[e["file"]] = r
        with open(res_path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)


# ------------------------------------------------------------------------------------ probes
# What blocks a failing model after its first blocker: the model is rewritten around each known
# blocker (ONNX surgery, gkrnet untouched), then proved and verified. "exact" rewrites compute the
# same function for every input; "input-specific" ones replace a tensor derived from the integer
# inputs by its value on this input (valid for this input only). Only for diagnosis: the rewritten
# graphs go to OUT/probes/, and their results to OUT/probes.json.
PROBES = {
    "bert_tt": ["ttconst"],
    "roberta": ["freezeidx"],
    "opt": ["freezeidx"],
    "gpt_neo": ["where2add", "reassoc"],
    "llama": ["rope", "rms"], "mistral": ["rope", "rms"], "qwen2": ["rope", "rms"],
    "gemma": ["rope", "rms"], "phi": ["rope"], "t5_encoder": ["rms"],
    "vit": ["cat"], "vit_cls": ["cat"], "whisper_encoder": ["conv1d"], "tdec_layer": ["inf"],
}


class Rewriter:
    def __init__(self, model, feeds):
        self.m, self.g, self.feeds, self.n, self.notes = model, model.graph, feeds, 0, []

    def uid(self, s):
        self.n += 1
        return f"probe_{s}_{self.n}"

    def const(self, a, name=None):
        from onnx import numpy_helper
        name = name or self.uid("c")
        self.g.initializer.append(numpy_helper.from_array(np.asarray(a), name))
        return name

    def cval(self, t):
        from onnx import numpy_helper
        for i in self.g.initializer:
            if i.name == t:
                return numpy_helper.to_array(i)
        for n in self.g.node:
            if n.op_type == "Constant" and t in n.output:
                return numpy_helper.to_array(n.attribute[0].t)
        return None

    def prod(self, t):
        for n in self.g.node:
            if t in n.output:
                return n
        return None

    def consumers(self, t):
        return [n for n in self.g.node if t in n.input]

    def depends_on_input(self, t):
        names = {i.name for i in self.g.input}
        stack, seen = [t], set()
        while stack:
            x = stack.pop()
            if x in names:
                return True
            if x in seen:
                continue
            seen.add(x)
            p = self.prod(x)
            if p is not None:
                stack += [i for i in p.input if i]
        return False

    def replace(self, old, new_nodes):
        idx = list(self.g.node).index(old)
        self.g.node.remove(old)
        for k, n in enumerate(new_nodes):
            self.g.node.insert(idx + k, n)

    def evaluate(self, names):
        from onnx import helper, shape_inference
        mi = shape_inference.infer_shapes(self.m)
        types = {v.name: v.type.tensor_type.elem_type
                 for v in list(mi.graph.value_info) + list(mi.graph.input)}
        mm = onnx.ModelProto()
        mm.CopyFrom(self.m)
        for t in names:
            mm.graph.output.append(helper.make_tensor_value_info(
                t, types.get(t, onnx.TensorProto.FLOAT), None))
        s = ort.InferenceSession(mm.SerializeToString(), providers=["CPUExecutionProvider"])
        return s.run(names, {i.name: self.feeds[i.name] for i in s.get_inputs()})

    # -- exact rewrites
    def rope(self):
        """q*cos + rotate_half(q)*sin (rotate_half = Concat(Neg(Slice(q, D/2:)), Slice(q, :D/2)))
        -> Reshape [1,H,L*D], MatMul by the block-diagonal per-position rotation, Reshape."""
        from onnx import helper

        def rot_concat(t):
            p = self.prod(t)
            return p is not None and p.op_type == "Concat" and any(
                self.prod(i) is not None and self.prod(i).op_type == "Neg" for i in p.input)

        for A in [n for n in self.g.node if n.op_type == "Add"]:
            pa, pb = self.prod(A.input[0]), self.prod(A.input[1])
            if not (pa and pb and pa.op_type == "Mul" and pb.op_type == "Mul"):
                continue
            rot = [p for p in (pa, pb) if any(rot_concat(i) for i in p.input)]
            if len(rot) != 1:
                continue
            msin = rot[0]
            mcos = pa if msin is pb else pb
            rc = [i for i in msin.input if rot_concat(i)][0]
            sin_t = [i for i in msin.input if i != rc][0]
            srcs = set()
            for i in self.prod(rc).input:
                q = self.prod(i)
                while q is not None and q.op_type in ("Neg", "Slice"):
                    if q.op_type == "Slice":
                        srcs.add(q.input[0])
                    q = self.prod(q.input[0])
            x = [i for i in mcos.input if i in srcs][0]
            cos_t = [i for i in mcos.input if i != x][0]
            xv, cv, sv = self.evaluate([x, cos_t, sin_t])
            _, H, L, Dh = xv.shape
            cv = np.broadcast_to(cv, xv.shape)[0, 0]
            sv = np.broadcast_to(sv, xv.shape)[0, 0]
            R = np.zeros((Dh, Dh))
            h = Dh // 2
            for j in range(h):
                R[j + h, j] = -1
            for j in range(h, Dh):
                R[j - h, j] = 1
            M = np.zeros((L * Dh, L * Dh), np.float32)
            for l in range(L):
                M[l * Dh:(l + 1) * Dh, l * Dh:(l + 1) * Dh] = np.diag(cv[l]) + R * sv[l][None, :]
            r1, r2 = self.uid("r"), self.uid("r")
            self.replace(A, [
                helper.make_node("Reshape", [x, self.const(np.array([1, H, L * Dh]))], [r1]),
                helper.make_node("MatMul", [r1, self.const(M)], [r2]),
                helper.make_node("Reshape", [r2, self.const(np.array([1, H, L, Dh]))],
                                 list(A.output))])
            self.notes.append(f"exact: RoPE {A.name} on {list(xv.shape)} -> MatMul by a "
                              f"block-diagonal [{L * Dh},{L * Dh}] rotation")

    def rms(self):
        """x * 1/sqrt(mean(x^2) + eps) -> LayerNormalization(x @ [I, -I])[..., :d] (the
        concatenation (x, -x) has mean 0 and variance mean(x^2))."""
        from onnx import helper
        for sq in [n for n in self.g.node if n.op_type == "Sqrt"]:
            add = self.prod(sq.input[0])
            rm = add and self.prod(add.input[0])
            pw = rm and self.prod(rm.input[0])
            if not (add and add.op_type == "Add" and rm and rm.op_type == "ReduceMean"
                    and pw and pw.op_type == "Pow"):
                continue
            eps = float(self.cval(add.input[1]).ravel()[0])
            x = pw.input[0]
            inv = [c for c in self.consumers(sq.output[0]) if c.op_type in ("Reciprocal", "Div")][0]
            mul = [c for c in self.consumers(inv.output[0]) if c.op_type == "Mul"][0]
            d = int(self.evaluate([x])[0].shape[-1])
            cat, ln = self.uid("cat"), self.uid("ln")
            new = [helper.make_node("MatMul", [x, self.const(np.concatenate(
                       [np.eye(d), -np.eye(d)], 1).astype(np.float32))], [cat]),
                   helper.make_node("LayerNormalization",
                                    [cat, self.const(np.ones(2 * d, np.float32)),
                                     self.const(np.zeros(2 * d, np.float32))], [ln],
                                    axis=-1, epsilon=eps),
                   helper.make_node("Slice", [ln, self.const(np.array([0])),
                                              self.const(np.array([d])),
                                              self.const(np.array([-1]))], list(mul.output))]
            self.replace(mul, new)
            self.notes.append(f"exact: RMSNorm {mul.name} -> LayerNormalization of x @ [I,-I], "
                              f"first {d} columns")

    def cat(self):
        """Concat(constant CLS [1,1,d], x [1,L,d], axis 1) -> (x^T @ shift)^T + CLS row."""
        from onnx import helper
        for n in [n for n in self.g.node if n.op_type == "Concat"]:
            if len(n.input) != 2 or self.depends_on_input(n.input[0]) \
                    or not self.depends_on_input(n.input[1]):
                continue
            c, xv = self.evaluate([n.input[0], n.input[1]])
            x = n.input[1]
            _, L, d = xv.shape
            k = c.shape[1]
            S = np.zeros((L, L + k), np.float32)
            S[np.arange(L), np.arange(L) + k] = 1
            C = np.zeros((1, L + k, d), np.float32)
            C[:, :k] = c
            t1, t2, t3 = self.uid("t"), self.uid("t"), self.uid("t")
            self.replace(n, [helper.make_node("Transpose", [x], [t1], perm=[0, 2, 1]),
                             helper.make_node("MatMul", [t1, self.const(S)], [t2]),
                             helper.make_node("Transpose", [t2], [t3], perm=[0, 2, 1]),
                             helper.make_node("Add", [t3, self.const(C)], list(n.output))])
            self.notes.append(f"exact: Concat(constant, x) {n.name} -> shift MatMul + Add "
                              f"constant")

    def conv1d(self):
        """Conv on [N,C,L] -> Unsqueeze to [N,C,1,L], Conv 1xk, Squeeze."""
        from onnx import helper
        for n in [n for n in self.g.node if n.op_type == "Conv"]:
            w = self.cval(n.input[1])
            if w is None or w.ndim != 3:
                continue
            at = {a.name: helper.get_attribute_value(a) for a in n.attribute}
            p = list(at.get("pads", [0, 0]))
            kw = dict(kernel_shape=[1, w.shape[2]], strides=[1] + list(at.get("strides", [1])),
                      dilations=[1] + list(at.get("dilations", [1])), group=at.get("group", 1),
                      pads=[0, p[0], 0, p[1]])
            u, c2 = self.uid("u"), self.uid("c")
            ins = [u, self.const(w[:, :, None, :])] + list(n.input[2:])
            self.replace(n, [
                helper.make_node("Unsqueeze", [n.input[0], self.const(np.array([2]))], [u]),
                helper.make_node("Conv", ins, [c2], **kw),
                helper.make_node("Squeeze", [c2, self.const(np.array([2]))], list(n.output))])
            self.notes.append(f"exact: Conv1d {n.name} -> Conv 1x{w.shape[2]} on an unsqueezed "
                              f"input")

    def where2add(self):
        """Where(constant bool, scores, v) -> Add(scores, constant 0 / v)."""
        from onnx import helper
        for n in [n for n in self.g.node if n.op_type == "Where"]:
            c, v = self.cval(n.input[0]), self.cval(n.input[2])
            if c is None or v is None or self.cval(n.input[1]) is not None:
                continue
            C = np.where(c, np.float32(0), v.astype(np.float32)).astype(np.float32)
            self.replace(n, [helper.make_node("Add", [n.input[1], self.const(C)],
                                              list(n.output))])
            self.notes.append(f"exact: Where(constant {list(c.shape)}, scores, "
                              f"{float(v.ravel()[0]):.3g}) {n.name} -> Add(scores, constant)")

    def reassoc(self):
        """Add(Add(scores, C), M) before a Softmax -> Add(scores, Add(C, M))."""
        from onnx import helper
        for n in [n for n in self.g.node if n.op_type == "Add"]:
            p = self.prod(n.input[0])
            if p is None or p.op_type != "Add" or self.cval(p.input[1]) is None:
                continue
            if not any(c.op_type == "Softmax" for c in self.consumers(n.output[0])):
                continue
            t = self.uid("mask")
            self.g.node.insert(list(self.g.node).index(n),
                               helper.make_node("Add", [p.input[1], n.input[1]], [t]))
            n.input[0], n.input[1] = p.input[0], t
            self.notes.append(f"exact: {n.name}: the constant mask and the input's mask added "
                              f"first, then once to the scores")

    def inf(self):
        """-inf in float initializers -> float32's minimum."""
        from onnx import numpy_helper
        for i in list(self.g.initializer):
            a = numpy_helper.to_array(i)
            if a.dtype.kind == "f" and not np.isfinite(a).all():
                b = np.where(np.isneginf(a), np.finfo(np.float32).min, a).astype(a.dtype)
                i.CopyFrom(numpy_helper.from_array(b, i.name))
                self.notes.append(f"exact: -inf in {i.name} {list(a.shape)} -> float32 min")

    # -- input-specific rewrites
    def ttconst(self):
        v = self.feeds["token_type_ids"]
        self.g.input.remove([i for i in self.g.input if i.name == "token_type_ids"][0])
        self.const(v, "token_type_ids")
        self.notes.append(f"input-specific: token_type_ids -> the constant {v.ravel().tolist()}")

    def freezeidx(self):
        """Index tensors of Gathers from constant tables, computed from the integer inputs
        (not an input themselves) -> their value on this input."""
        names = {i.name for i in self.g.input}

        def reshaped_input(t):  # a graph input seen through shape-only ops
            p = self.prod(t)
            while p is not None and p.op_type in ("Reshape", "Flatten", "Squeeze", "Unsqueeze",
                                                  "Identity", "Cast"):
                t = p.input[0]
                p = self.prod(t)
            return t in names

        idx = []
        for n in self.g.node:
            if n.op_type == "Gather" and self.cval(n.input[0]) is not None \
                    and not reshaped_input(n.input[1]) and self.depends_on_input(n.input[1]):
                idx.append(n.input[1])
        vals = self.evaluate(idx)
        for t, v in zip(idx, vals):
            p = self.prod(t)
            self.g.node.remove(p)
            self.const(v, t)
            self.notes.append(f"input-specific: {t} ({p.op_type} output, {v.dtype} "
                              f"{list(v.shape)}, indexes a constant table) -> its value "
                              f"{v.ravel().tolist()}")

    def prune(self):
        live, keep = {o.name for o in self.g.output}, []
        for n in reversed(list(self.g.node)):
            if any(o in live for o in n.output):
                keep.append(n)
                live.update(n.input)
        del self.g.node[:]
        self.g.node.extend(reversed(keep))
        for i in [i for i in self.g.initializer if i.name not in live]:
            self.g.initializer.remove(i)


def run_gkrnet(binary, model, files, kind, expected, timeout):
    """prove + verify; a dict with status, times, bytes, accuracy or the first error line."""
    proof = "/tmp/tzoo_p.gkr"
    if os.path.exists(proof):
        os.remove(proof)
    inputs = ",".join(files)
    r = {}
    p = subprocess.run([binary, "prove", "--model", model, "--input", inputs, "--proof", proof,
                        "--json", "--threads", "1"], capture_output=True, text=True,
                       timeout=timeout)
    if p.returncode != 0:
        err = first_error(p.stderr)
        imp = "importing" in err or "the ONNX graph" in err
        return {"status": "import error" if imp else "prove error", "error": err}
    j = json.loads(p.stdout)
    r.update(prove_ms=j.get("prove_ms"), proof_bytes=j.get("proof_bytes"),
             accuracy=accuracy(j["output"], expected, kind))
    v = subprocess.run([binary, "verify", "--model", model, "--input", inputs, "--proof", proof,
                        "--json", "--threads", "1"], capture_output=True, text=True,
                       timeout=timeout)
    if v.returncode == 0 and json.loads(v.stdout).get("verified"):
        r.update(status="proved+verified", verify_ms=json.loads(v.stdout).get("verify_ms"))
    else:
        r.update(status="verify error", error=first_error(v.stderr))
    return r


def probe_all(out_dir, binary, only, timeout):
    man = json.load(open(os.path.join(out_dir, "manifest.json")))
    pdir = os.path.join(out_dir, "probes")
    os.makedirs(pdir, exist_ok=True)
    res_path = os.path.join(out_dir, "probes.json")
    results = json.load(open(res_path)) if os.path.exists(res_path) else {}
    for e in man:
        rws = PROBES.get(e["model"])
        if not rws or (only and e["model"] not in only):
            continue
        print(e["file"], "+".join(rws), flush=True)
        feeds = {n: np.load(os.path.join(out_dir, f)) for n, f in e["inputs"]}
        rw = Rewriter(onnx.load(os.path.join(out_dir, e["file"])), feeds)
        for name in rws:
            getattr(rw, name)()
        rw.prune()
        path = os.path.join(pdir, e["file"].replace(".onnx", "__" + "+".join(rws) + ".onnx"))
        onnx.save(rw.m, path)
        names = [i.name for i in rw.g.input]
        files = []
        for n in names:
            f = path.replace(".onnx", f"_{FILE_SUFFIX[n]}.npy")
            np.save(f, feeds[n])
            files.append(f)
        y = ort_run(path, feeds)
        y0 = np.load(os.path.join(out_dir, e["expected"]))
        r = {"file": e["file"], "model": e["model"], "exporter": e["exporter"],
             "rewrites": rws, "notes": rw.notes,
             "max_abs_vs_original_ort": float(np.abs(y - y0).max())}
        r.update(run_gkrnet(binary, path, files, e["kind"], y, timeout))
        print(f"  {r['status']} {r.get('error', '')}"[:300], flush=True)
        results[e["file"]] = r
        with open(res_path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)



def main():
    ap = argparse.ArgumentParser(description="Export a zoo of tiny transformers to ONNX.")
    ap.add_argument("--out", default="/work/tzoo")
    ap.add_argument("--only", default="", help="comma-separated model names")
    ap.add_argument("--no-dynamo", action="store_true")
    ap.add_argument("--prove", metavar="BIN", help="prove+verify every export with this gkrnet")
    ap.add_argument("--probe", metavar="BIN", help="rewrite each failing model around its known "
                    "blockers (PROBES), then prove+verify it with this gkrnet")
    ap.add_argument("--timeout", type=int, default=1800)
    a = ap.parse_args()
    only = [s for s in a.only.split(",") if s]
    os.makedirs(a.out, exist_ok=True)
    if a.prove:
        prove_all(a.out, a.prove, only, a.timeout)
        return
    if a.probe:
        probe_all(a.out, a.probe, only, a.timeout)
        return

    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    torch.backends.mha.set_fastpath_enabled(False)

    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers), flush=True)
    man_path = os.path.join(a.out, "manifest.json")
    if only and os.path.exists(man_path):  # keep the other models' entries
        MANIFEST.extend(m for m in json.load(open(man_path)) if m["model"] not in only)
    sk_path = os.path.join(a.out, "skipped.txt")
    if only and os.path.exists(sk_path):
        for line in open(sk_path):
            f, _, msg = line.rstrip("\n").partition("\t")
            if f.replace("_dynamo", "").removesuffix(".onnx") not in only:
                SKIPPED.append((f, msg))
    for name, kind, builder in specs():
        if only and name not in only:
            continue
        print(name, flush=True)
        try:
            export(a.out, name, kind, builder, not a.no_dynamo)
        except Exception as e:  # noqa: BLE001 - building or running torch failed
            fail(f"{name}.onnx", e)
    order = {name: k for k, (name, _, _) in enumerate(specs())}
    MANIFEST.sort(key=lambda e: (order.get(e["model"], 99), e["exporter"] != "legacy"))
    with open(man_path, "w") as f:
        json.dump(MANIFEST, f, indent=1)
    with open(sk_path, "w") as f:
        for n, m in SKIPPED:
            f.write(f"{n}\t{m}\n")
    with open(os.path.join(a.out, "versions.txt"), "w") as f:
        f.write(", ".join(f"{k} {v}" for k, v in vers) + "\n")
    print(f"{len(MANIFEST)} exported, {len(SKIPPED)} skipped" +
          "".join(f"\n  {n}: {m}" for n, m in SKIPPED))


if __name__ == "__main__":
    main()
