#!/usr/bin/env python3
"""Generate the small transformer fixtures in models/transformers/ (attention blocks exported to ONNX).

Not needed by the crate, its tests or CI. Deterministic: fixed seeds (torch.manual_seed before
building each model, numpy RandomState per input), single-threaded torch and onnxruntime, no
timings or absolute paths written; rerunning it rewrites byte-identical files. No downloads: the
Hugging Face models are built from config objects with seeded random weights.

Versions used (pip install torch==2.15.0 onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2
numpy==2.4.6 transformers==5.25.0; torch from PyPI, the CUDA build, used on CPU only):
    Python 3.11.7, torch 2.15.0+cu132, transformers 5.25.0, onnx 1.23.2, onnx-ir 1.1.0,
    onnxruntime 1.32.0, onnxscript 0.7.2, numpy 2.4.6

Usage:  python3 models/make_transformers.py [--out models/transformers] [--no-dynamo]

Models (eval mode, fixed shapes, batch 1, no dynamic axes):
    encoder_layer       torch.nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128,
                        dropout=0.0, batch_first=True); input `input` float32 [1,16,64];
                        exported with torch.backends.mha.set_fastpath_enabled(False) (the fused
                        fast path op aten::_transformer_encoder_layer_fwd has no ONNX export),
                        in a wrapper with forward(input) alone (the legacy exporter otherwise
                        traces the default is_causal=False into a tensor and fails)
    encoder_layer_gelu  the same with activation="gelu"
    bert_tiny           transformers.BertModel(BertConfig(vocab_size=512, hidden_size=128,
                        num_hidden_layers=2, num_attention_heads=2, intermediate_size=256,
                        max_position_embeddings=64), eager attention); inputs `input_ids` int64
                        [1,16], `attention_mask` int64 [1,16]; output `last_hidden_state` only
    bert_types          the same BertModel also taking `token_type_ids` int64 [1,16] (positions
                        7 on of type 1; NAME_types.npy), as Optimum exports BERT
    gpt2_tiny           transformers.GPT2LMHeadModel(GPT2Config(vocab_size=256, n_embd=128,
                        n_layer=2, n_head=4, n_positions=64, use_cache=False), eager attention);
                        input `input_ids` int64 [1,32]; output `logits` only; the wrapper
                        passes attention_mask=torch.ones_like(input_ids) (with None,
                        transformers calls torch.diff, aten::diff, which the legacy exporter
                        cannot export; the result is the same)
    gpt2_blocks         transformers.GPT2Model of the same config (d = 128, 2 layers, 4 heads) on
                        float token embeddings: input `inputs_embeds` float32 [1,64,128]
                        (seeded standard normal × 0.1), output `last_hidden_state` [1,64,128]
For every model NAME it writes into --out:
    NAME.onnx           torch.onnx.export(dynamo=False, opset_version=17)
    NAME_dynamo.onnx    torch.onnx.export(dynamo=True), reloaded and saved as one file (no
                        external data), without the per-node metadata pkg.torch.onnx.stack_trace
                        (absolute source paths); a failure is recorded in skipped.txt instead
    NAME_input.npy      the seeded input (standard normal float32 for the encoders; token ids
                        uniform in [0, vocab) int64 for bert_tiny and gpt2_tiny)
    gpt2_masked         the same GPT2LMHeadModel (same seed, so the same weights as gpt2_tiny)
                        taking `input_ids` int64 [1,32] and `attention_mask` int64 [1,32]
                        (right padding: the last 6 positions 0); output `logits` only
    t5_tiny             transformers.T5EncoderModel(T5Config(vocab_size=256, d_model=64,
                        d_kv=16, d_ff=128, num_layers=2, num_heads=4)): RMS norms and a relative
                        position bias; inputs `input_ids` and `attention_mask` int64 [1,16] (the
                        last 3 positions 0); output `last_hidden_state` [1,16,64]
    llama_tiny          transformers.LlamaForCausalLM(LlamaConfig(vocab_size=256,
                        hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                        num_attention_heads=4, num_key_value_heads=2)): RMS norms, rotary
                        embeddings, grouped keys and values, SiLU-gated MLP; inputs `input_ids`
                        and `attention_mask` int64 [1,16] (the last 3 positions 0); output
                        `logits` [1,16,256]
    gpt_neo_tiny        transformers.GPTNeoForCausalLM(GPTNeoConfig(vocab_size=256,
                        hidden_size=64, num_layers=2, global then local attention, window 8)):
                        masks as masked_fill Where; inputs ids and mask [1,16] (the last 3
                        positions 0); output `logits` [1,16,256]
    NAME_mask.npy       bert_tiny, gpt2_masked, t5_tiny, llama_tiny and gpt_neo_tiny: the mask,
                        ones except the last 4 (bert_tiny), 6 (gpt2_masked) or 3 positions 0
    NAME_expected.npy   onnxruntime's output (1 thread) of NAME.onnx on that input; it must agree
                        with torch to 1e-4 (max abs difference), as must NAME_dynamo.onnx
    README.md           how each file was made, the versions, op-type counts and I/O shapes
    skipped.txt         failed exports with their error (empty if none)
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import collections
import logging
import platform
import shutil
import sys
import tempfile
import textwrap
import traceback
import warnings

import numpy as np
import onnx
import onnxruntime as ort

logging.getLogger().setLevel(logging.ERROR)
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17
TOL = 1e-4  # max abs difference allowed between onnxruntime and torch
SEED_MODEL = 0  # torch.manual_seed before building each model
SEED_INPUT = 1  # numpy RandomState seed of each model's input

SKIPPED = []  # (file name, error)
SUMMARY = []  # (file name, how made, op counts, inputs, outputs, opsets, max diff)


def versions():
    import onnxscript
    import torch
    import transformers
    return [("Python", platform.python_version()), ("torch", torch.__version__),
            ("transformers", transformers.__version__), ("onnx", onnx.__version__),
            ("onnxruntime", ort.__version__), ("onnxscript", onnxscript.__version__),
            ("numpy", np.__version__)]


# ------------------------------------------------------------------------------------ models
def build_models():
    """[(name, how, module, {input name: array}, output name, dynamo note)] with seeded weights."""
    import torch
    import transformers
    from torch import nn

    models = []

    class Encoder(nn.Module):
        # forward(input) only: the legacy exporter otherwise turns the default is_causal=False
        # of TransformerEncoderLayer.forward into a traced Bool tensor input, which
        # scaled_dot_product_attention rejects ("argument 'is_causal' must be bool")
        def __init__(self, layer):
            super().__init__()
            self.layer = layer

        def forward(self, x):
            return self.layer(x)

    for name, act in (("encoder_layer", "relu"), ("encoder_layer_gelu", "gelu")):
        torch.manual_seed(SEED_MODEL)
        m = Encoder(nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128,
                                               dropout=0.0, activation=act,
                                               batch_first=True)).eval()
        x = np.random.RandomState(SEED_INPUT).standard_normal((1, 16, 64)).astype(np.float32)
        how = (f"torch.nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, "
               f"dropout=0.0, activation=\"{act}\", batch_first=True), eval, "
               f"in a wrapper whose forward(input) calls it with the input alone, exported "
               f"with torch.backends.mha.set_fastpath_enabled(False)")
        models.append((name, how, m, {"input": x}, "output"))

    def eager(cfg):
        # attn_implementation is a config kwarg in recent transformers; force it in any case
        cfg._attn_implementation = "eager"
        return cfg

    class BertLastHidden(nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             return_dict=True).last_hidden_state

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.BertConfig(vocab_size=512, hidden_size=128, num_hidden_layers=2,
                                        num_attention_heads=2, intermediate_size=256,
                                        max_position_embeddings=64,
                                        attn_implementation="eager"))
    m = BertLastHidden(transformers.BertModel(cfg)).eval()
    rs = np.random.RandomState(SEED_INPUT)
    ids = rs.randint(0, cfg.vocab_size, size=(1, 16)).astype(np.int64)
    mask = np.ones((1, 16), dtype=np.int64)
    mask[:, -4:] = 0
    how = ("transformers.BertModel(BertConfig(vocab_size=512, hidden_size=128, "
           "num_hidden_layers=2, num_attention_heads=2, intermediate_size=256, "
           "max_position_embeddings=64, attn_implementation=\"eager\")), eval, wrapped to return "
           "last_hidden_state only")
    models.append(("bert_tiny", how, m, {"input_ids": ids, "attention_mask": mask},
                   "last_hidden_state"))

    class BertTypes(nn.Module):
        def __init__(self, bert):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids, return_dict=True).last_hidden_state

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.BertConfig(vocab_size=512, hidden_size=128, num_hidden_layers=2,
                                        num_attention_heads=2, intermediate_size=256,
                                        max_position_embeddings=64,
                                        attn_implementation="eager"))
    m = BertTypes(transformers.BertModel(cfg)).eval()
    rs = np.random.RandomState(SEED_INPUT)
    ids = rs.randint(0, cfg.vocab_size, size=(1, 16)).astype(np.int64)
    mask = np.ones((1, 16), dtype=np.int64)
    mask[:, -4:] = 0
    types = np.zeros((1, 16), dtype=np.int64)
    types[:, 7:] = 1
    how = ("the bert_tiny BertModel (same seed and weights) taking token_type_ids too (a "
           "sentence pair: positions 7 on of type 1), as Optimum's exports do")
    models.append(("bert_types", how, m,
                   {"input_ids": ids, "attention_mask": mask, "token_type_ids": types},
                   "last_hidden_state"))

    class Gpt2Logits(nn.Module):
        def __init__(self, gpt2):
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, input_ids):
            # an explicit all-ones mask: with attention_mask=None transformers checks
            # position_ids for packed sequences with torch.diff, which the legacy exporter
            # cannot export (aten::diff); the causal mask is the same either way
            return self.gpt2(input_ids=input_ids, attention_mask=torch.ones_like(input_ids),
                             use_cache=False, return_dict=True).logits

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.GPT2Config(vocab_size=256, n_embd=128, n_layer=2, n_head=4,
                                        n_positions=64, use_cache=False,
                                        attn_implementation="eager"))
    m = Gpt2Logits(transformers.GPT2LMHeadModel(cfg)).eval()
    ids = np.random.RandomState(SEED_INPUT).randint(0, cfg.vocab_size,
                                                    size=(1, 32)).astype(np.int64)
    how = ("transformers.GPT2LMHeadModel(GPT2Config(vocab_size=256, n_embd=128, n_layer=2, "
           "n_head=4, n_positions=64, use_cache=False, attn_implementation=\"eager\")), eval, "
           "wrapped to return logits only (no past_key_values) and to pass "
           "attention_mask=torch.ones_like(input_ids)")
    models.append(("gpt2_tiny", how, m, {"input_ids": ids}, "logits"))

    class Gpt2MaskedLogits(nn.Module):
        def __init__(self, gpt2):
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, input_ids, attention_mask):
            return self.gpt2(input_ids=input_ids, attention_mask=attention_mask,
                             use_cache=False, return_dict=True).logits

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.GPT2Config(vocab_size=256, n_embd=128, n_layer=2, n_head=4,
                                        n_positions=64, use_cache=False,
                                        attn_implementation="eager"))
    m = Gpt2MaskedLogits(transformers.GPT2LMHeadModel(cfg)).eval()
    ids = np.random.RandomState(SEED_INPUT).randint(0, cfg.vocab_size,
                                                    size=(1, 32)).astype(np.int64)
    mask = np.ones((1, 32), dtype=np.int64)
    mask[:, -6:] = 0
    how = ("transformers.GPT2LMHeadModel(GPT2Config(vocab_size=256, n_embd=128, n_layer=2, "
           "n_head=4, n_positions=64, use_cache=False, attn_implementation=\"eager\")), eval, "
           "wrapped to return logits only, taking input_ids and attention_mask (the causal "
           "mask and the padding mask combined)")
    models.append(("gpt2_masked", how, m, {"input_ids": ids, "attention_mask": mask},
                   "logits"))

    class T5Hidden(nn.Module):
        def __init__(self, t5):
            super().__init__()
            self.t5 = t5

        def forward(self, input_ids, attention_mask):
            return self.t5(input_ids=input_ids, attention_mask=attention_mask,
                           return_dict=True).last_hidden_state

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.T5Config(vocab_size=256, d_model=64, d_kv=16, d_ff=128,
                                      num_layers=2, num_heads=4))
    m = T5Hidden(transformers.T5EncoderModel(cfg)).eval()
    rs = np.random.RandomState(SEED_INPUT)
    ids = rs.randint(0, cfg.vocab_size, size=(1, 16)).astype(np.int64)
    mask = np.ones((1, 16), dtype=np.int64)
    mask[:, -3:] = 0
    how = ("transformers.T5EncoderModel(T5Config(vocab_size=256, d_model=64, d_kv=16, d_ff=128, "
           "num_layers=2, num_heads=4)), eval, eager attention, wrapped to return "
           "last_hidden_state only (RMS norms, relative position bias)")
    models.append(("t5_tiny", how, m, {"input_ids": ids, "attention_mask": mask},
                   "last_hidden_state"))

    class LlamaLogits(nn.Module):
        def __init__(self, llama):
            super().__init__()
            self.llama = llama

        def forward(self, input_ids, attention_mask):
            return self.llama(input_ids=input_ids, attention_mask=attention_mask,
                              use_cache=False, return_dict=True).logits

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.LlamaConfig(vocab_size=256, hidden_size=64, intermediate_size=128,
                                         num_hidden_layers=2, num_attention_heads=4,
                                         num_key_value_heads=2, max_position_embeddings=64,
                                         use_cache=False, attn_implementation="eager"))
    m = LlamaLogits(transformers.LlamaForCausalLM(cfg)).eval()
    rs = np.random.RandomState(SEED_INPUT)
    ids = rs.randint(0, cfg.vocab_size, size=(1, 16)).astype(np.int64)
    mask = np.ones((1, 16), dtype=np.int64)
    mask[:, -3:] = 0
    how = ("transformers.LlamaForCausalLM(LlamaConfig(vocab_size=256, hidden_size=64, "
           "intermediate_size=128, num_hidden_layers=2, num_attention_heads=4, "
           "num_key_value_heads=2, max_position_embeddings=64, use_cache=False)), eval, eager "
           "attention, wrapped to return logits only (RMS norms, rotary embeddings, grouped "
           "keys and values, SiLU-gated MLP)")
    models.append(("llama_tiny", how, m, {"input_ids": ids, "attention_mask": mask}, "logits"))

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.GPTNeoConfig(vocab_size=256, hidden_size=64, num_layers=2,
                                          attention_types=[[["global", "local"], 1]],
                                          num_heads=4, intermediate_size=128,
                                          max_position_embeddings=64, window_size=8,
                                          use_cache=False, attn_implementation="eager"))
    m = LlamaLogits(transformers.GPTNeoForCausalLM(cfg)).eval()
    rs = np.random.RandomState(SEED_INPUT)
    ids = rs.randint(0, cfg.vocab_size, size=(1, 16)).astype(np.int64)
    mask = np.ones((1, 16), dtype=np.int64)
    mask[:, -3:] = 0
    how = ("transformers.GPTNeoForCausalLM(GPTNeoConfig(vocab_size=256, hidden_size=64, "
           "num_layers=2, attention_types=[[[\"global\", \"local\"], 1]], num_heads=4, "
           "intermediate_size=128, max_position_embeddings=64, window_size=8)), eval, eager "
           "attention, wrapped to return logits only (causal and local masks as masked_fill "
           "Where, then the padding mask)")
    models.append(("gpt_neo_tiny", how, m, {"input_ids": ids, "attention_mask": mask},
                   "logits"))

    class Gpt2Blocks(nn.Module):
        # the decoder's blocks on given token embeddings (float input): GPT-2's position
        # embedding, causal attention, layer norms and gelu_new, without the token lookup
        def __init__(self, gpt2):
            super().__init__()
            self.gpt2 = gpt2

        def forward(self, inputs_embeds):
            ones = torch.ones(inputs_embeds.shape[:2], dtype=torch.int64)
            return self.gpt2(inputs_embeds=inputs_embeds, attention_mask=ones, use_cache=False,
                             return_dict=True).last_hidden_state

    torch.manual_seed(SEED_MODEL)
    cfg = eager(transformers.GPT2Config(vocab_size=256, n_embd=128, n_layer=2, n_head=4,
                                        n_positions=64, use_cache=False,
                                        attn_implementation="eager"))
    m = Gpt2Blocks(transformers.GPT2Model(cfg)).eval()
    x = np.random.RandomState(SEED_INPUT).standard_normal((1, 64, 128)).astype(np.float32)
    x *= 0.1
    how = ("transformers.GPT2Model(GPT2Config(vocab_size=256, n_embd=128, n_layer=2, n_head=4, "
           "n_positions=64, use_cache=False, attn_implementation=\"eager\")), eval, on "
           "inputs_embeds [1,64,128] (seeded normal × 0.1, about the scale of GPT-2's token "
           "embeddings), returning last_hidden_state; an all-ones attention_mask")
    models.append(("gpt2_blocks", how, m, {"inputs_embeds": x}, "last_hidden_state"))
    return models


# ------------------------------------------------------------------------------ onnx helpers
def ort_run(path, feeds):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.log_severity_level = 3
    s = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    names = [i.name for i in s.get_inputs()]
    missing = set(names) - set(feeds)
    if missing:
        raise RuntimeError(f"model inputs {names} not all in the feeds {sorted(feeds)}")
    return s.run(None, {n: feeds[n] for n in names})[0]


def op_counts(model):
    """op_type -> count over the main graph, its subgraphs and local functions."""
    c = collections.Counter()

    def walk(graph):
        for n in graph.node:
            key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
            c[key] += 1
            for a in n.attribute:
                if a.type == onnx.AttributeProto.GRAPH:
                    walk(a.g)
                for g in a.graphs:
                    walk(g)

    walk(model.graph)
    for f in model.functions:
        for n in f.node:
            c[f"{n.domain}.{n.op_type}" if n.domain else n.op_type] += 1
    return c


def io_desc(values):
    out = []
    for v in values:
        t = v.type.tensor_type
        dims = [str(d.dim_value) if d.HasField("dim_value") else (d.dim_param or "?")
                for d in t.shape.dim]
        out.append(f"{v.name}: {onnx.TensorProto.DataType.Name(t.elem_type).lower()} "
                   f"[{','.join(dims)}]")
    return out


def summarize(fname, how, path, diff):
    model = onnx.load(path)
    counts = op_counts(model)
    opsets = ", ".join(f"{o.domain or 'ai.onnx'} {o.version}" for o in model.opset_import)
    if model.functions:
        opsets += f"; {len(model.functions)} local functions"
    ins = io_desc(model.graph.input)
    outs = io_desc(model.graph.output)
    SUMMARY.append((fname, how, counts, ins, outs, opsets, diff))
    print(f"  {fname}: {os.path.getsize(path)} bytes, {sum(counts.values())} nodes, "
          f"max |ort - torch| = {diff:.3g}")
    print("    ops: " + ", ".join(f"{k}: {counts[k]}" for k in sorted(counts)))
    print(f"    inputs: {'; '.join(ins)}   outputs: {'; '.join(outs)}   opset: {opsets}")


def strip_stack_traces(graph):
    """Drop the per-node metadata `pkg.torch.onnx.stack_trace` of a dynamo export: it holds the
    absolute paths of this script and of the installed torch/transformers sources, so the bytes
    would depend on where they live. The other metadata (namespace, fx_node, ...) is kept."""
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
    traceback.print_exc(limit=4, file=sys.stderr)


# ------------------------------------------------------------------------------------ export
def export(out_dir, name, how, model, feeds, out_name, dynamo):
    import torch

    in_names = list(feeds)
    args = tuple(torch.from_numpy(feeds[n]) for n in in_names)
    with torch.no_grad():
        ref = model(*args).numpy()

    np.save(os.path.join(out_dir, f"{name}_input.npy"),
            feeds[in_names[0]])
    if "attention_mask" in feeds:
        np.save(os.path.join(out_dir, f"{name}_mask.npy"), feeds["attention_mask"])
    if "token_type_ids" in feeds:
        np.save(os.path.join(out_dir, f"{name}_types.npy"), feeds["token_type_ids"])

    legacy = os.path.join(out_dir, f"{name}.onnx")
    try:
        with torch.no_grad():
            torch.onnx.export(model, args, legacy, dynamo=False, opset_version=OPSET,
                              input_names=in_names, output_names=[out_name],
                              do_constant_folding=True)
        y = ort_run(legacy, feeds)
        diff = float(np.abs(y - ref).max())
        if not diff <= TOL:
            raise RuntimeError(f"onnxruntime differs from torch by {diff:.3g} > {TOL}")
        np.save(os.path.join(out_dir, f"{name}_expected.npy"), y)
        summarize(f"{name}.onnx", f"{how}; torch.onnx.export(dynamo=False, opset_version={OPSET})",
                  legacy, diff)
    except Exception as e:  # noqa: BLE001 - recorded, not fatal
        fail(f"{name}.onnx", e)

    if not dynamo:
        return
    dpath = os.path.join(out_dir, f"{name}_dynamo.onnx")
    if os.path.exists(dpath):
        os.remove(dpath)
    tmp = tempfile.mkdtemp(prefix="make_transformers_")
    try:
        tpath = os.path.join(tmp, "model.onnx")
        with torch.no_grad():
            torch.onnx.export(model, args, tpath, dynamo=True, input_names=in_names,
                              output_names=[out_name])
        had_data = [f for f in os.listdir(tmp) if f != "model.onnx"]
        m = onnx.load(tpath)  # pulls in any external data
        strip_stack_traces(m.graph)
        onnx.save(m, dpath, save_as_external_data=False)
        y = ort_run(dpath, feeds)
        diff = float(np.abs(y - ref).max())
        if not diff <= TOL:
            raise RuntimeError(f"onnxruntime differs from torch by {diff:.3g} > {TOL}")
        note = "; external data merged into the file" if had_data else ""
        summarize(f"{name}_dynamo.onnx", f"{how}; torch.onnx.export(dynamo=True), reloaded and "
                  f"saved with onnx.save(save_as_external_data=False){note}, node metadata "
                  f"pkg.torch.onnx.stack_trace removed", dpath, diff)
    except Exception as e:  # noqa: BLE001 - recorded, not fatal
        if os.path.exists(dpath):
            os.remove(dpath)
        fail(f"{name}_dynamo.onnx", e)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------------ README
def write_readme(out_dir, vers, dynamo):
    vline = ", ".join(f"{k} {v}" for k, v in vers)
    tver = dict(vers)["transformers"]
    L = ["# models/transformers/", "",
         "Small transformer fixtures (attention, LayerNorm, GELU/ReLU MLPs, embeddings), made by",
         "`models/make_transformers.py` (deterministic: fixed seeds, single-threaded torch and",
         "onnxruntime; rerunning it rewrites byte-identical files with the versions below). No",
         "downloads: the Hugging Face models are built from config objects with seeded random",
         "weights (`torch.manual_seed(0)` before each model).", "",
         f"    pip install torch==2.15.0 onnx==1.23.2 onnxruntime==1.32.0 onnxscript==0.7.2 \\",
         f"        numpy==2.4.6 transformers=={tver}",
         "    OMP_NUM_THREADS=1 python3 models/make_transformers.py" +
         ("" if dynamo else " --no-dynamo"), "",
         textwrap.fill(f"Versions used: {vline}.", 100), "",
         "## Files",
         "* `NAME.onnx`: `torch.onnx.export(model, args, dynamo=False, opset_version=17)`, fixed",
         "  shapes (no dynamic axes), constant folding on.",
         "* `NAME_dynamo.onnx`: `torch.onnx.export(model, args, dynamo=True)` (its default opset),",
         "  loaded with `onnx.load` and saved as a single file (`save_as_external_data=False`),",
         "  after dropping the node metadata `pkg.torch.onnx.stack_trace` (absolute paths of the",
         "  script and of the installed sources; the other exporter metadata is kept).",
         "* `NAME_input.npy`: the input, `numpy.random.RandomState(1)`: standard normal float32",
         "  `[1,16,64]` for the encoder layers; token ids `randint(0, vocab)` int64 for `bert_tiny`",
         "  `[1,16]` and `gpt2_tiny` `[1,32]`. `bert_tiny_mask.npy`: the `attention_mask`, int64",
         "  `[1,16]`, ones except the last 4 positions 0.",
         "* `NAME_expected.npy`: onnxruntime's output (1 thread, CPU) of `NAME.onnx` on that input",
         f"  (float32). Both exports agree with torch to {TOL} (max abs difference, below).",
         "* `skipped.txt`: exports that failed, with their error (empty: none failed).", "",
         "## Models (op-type counts over all nodes, sorted by name; I/O shapes)"]
    for fname, how, counts, ins, outs, opsets, diff in SUMMARY:
        ops = ", ".join(f"{k}:\x00{counts[k]}" for k in sorted(counts))  # no break in 'op: n'
        L += ["", f"### `{fname}`", "", textwrap.fill(how + ".", 100), "",
              f"* inputs: {'; '.join(f'`{s}`' for s in ins)}",
              f"* outputs: {'; '.join(f'`{s}`' for s in outs)}",
              f"* opset: {opsets}; {sum(counts.values())} nodes; max |onnxruntime - torch| = "
              f"{diff:.2e}",
              textwrap.fill(ops, 100, initial_indent="* ops: ",
                            subsequent_indent="  ").replace("\x00", " ")]
    if SKIPPED:
        L += ["", "## Skipped", ""] + [f"* `{n}`: {m}" for n, m in SKIPPED]
    with open(os.path.join(out_dir, "README.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description="Generate the transformer ONNX fixtures.")
    ap.add_argument("--out", default=os.path.join(HERE, "transformers"))
    ap.add_argument("--no-dynamo", action="store_true", help="skip the dynamo=True exports")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)

    import torch
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    torch.use_deterministic_algorithms(True)
    # no fused nn.TransformerEncoderLayer fast path (aten::_transformer_encoder_layer_fwd, which
    # the legacy exporter cannot export): the plain MultiheadAttention/Linear/LayerNorm ops
    torch.backends.mha.set_fastpath_enabled(False)

    vers = versions()
    print("versions: " + ", ".join(f"{k} {v}" for k, v in vers), flush=True)
    for name, how, model, feeds, out_name in build_models():
        print(name, flush=True)
        export(a.out, name, how, model, feeds, out_name, not a.no_dynamo)

    with open(os.path.join(a.out, "skipped.txt"), "w") as f:
        for n, m in SKIPPED:
            f.write(f"{n}\t{m}\n")
    write_readme(a.out, vers, not a.no_dynamo)
    print(f"{len(SKIPPED)} skipped" + "".join(f"\n  {n}: {m}" for n, m in SKIPPED))


if __name__ == "__main__":
    main()
