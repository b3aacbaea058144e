"""Transformer fixtures through the Python package: a GPT-2 whose input is token ids.

The model's input is the int64 ids; the proof covers their rows of the embedding table, which
`prove`, `forward` and `verify` compute from the ids alike. An id outside the vocabulary is an
InputError naming it.
"""
import numpy as np
import pytest

import gkrnet


def test_gpt2_token_ids_prove_verify_and_track_float(models_dir):
    d = models_dir / "transformers"
    model = gkrnet.compile(d / "gpt2_tiny.onnx")
    ids = np.load(d / "gpt2_tiny_input.npy")
    assert ids.dtype == np.int64 and ids.shape == (1, 32)
    proof = model.prove(ids)
    v = gkrnet.verify(model, ids, proof)
    np.testing.assert_array_equal(v.output, model.forward(ids))
    assert v.digest == model.digest == proof.digest
    # the next token at every position against PyTorch's logits (onnxruntime)
    expected = np.load(d / "gpt2_tiny_expected.npy").reshape(32, 256)
    ours = np.asarray(v.output).reshape(32, 256)
    assert (ours.argmax(axis=1) == expected.argmax(axis=1)).mean() >= 0.9
    # other ids do not verify against this proof
    other = ids.copy()
    other[0, 9] = (other[0, 9] + 1) % 256
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(model, other, proof)
    # an id outside the vocabulary
    bad = ids.copy()
    bad[0, 3] = 300
    with pytest.raises(gkrnet.InputError, match="token id 300"):
        model.prove(bad)


def test_bert_ids_and_attention_mask_by_name_or_in_order(models_dir):
    """A BERT taking ids and an attention mask: both arrays, by name or in graph order."""
    d = models_dir / "transformers"
    model = gkrnet.compile(d / "bert_tiny.onnx")
    ids = np.load(d / "bert_tiny_input.npy")
    mask = np.load(d / "bert_tiny_mask.npy")
    assert [name for name, _ in model.inputs] == ["input_ids", "attention_mask"]
    proof = model.prove({"attention_mask": mask, "input_ids": ids})
    v = gkrnet.verify(model, [ids, mask], proof)
    np.testing.assert_array_equal(v.output, model.forward([ids, mask]))
    expected = np.load(d / "bert_tiny_expected.npy").reshape(-1)
    assert np.abs(np.asarray(v.output).reshape(-1) - expected).mean() < 0.05
    # another mask does not verify against this proof
    other = mask.copy()
    other[0, 0] = 0
    with pytest.raises(gkrnet.VerifyError):
        gkrnet.verify(model, [ids, other], proof)
    bad = mask.copy()
    bad[0, 2] = 2
    with pytest.raises(gkrnet.InputError, match="attention_mask"):
        model.prove([ids, bad])
