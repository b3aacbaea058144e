"""The API end to end on the bundled models: compile, the Model's attributes, prove, verify,
the input forms a prover and a verifier accept, and the errors bad arguments raise."""

import re

import numpy as np
import pytest

import gkrnet

HEX64 = re.compile(r"[0-9a-f]{64}")
REPORT_KEYS = {"samples", "max_abs_error", "mean_abs_error", "argmax_agreement", "float_accuracy", "int8_accuracy"}


# --- compile -------------------------------------------------------------------------------


def test_package_exports():
    for name in gkrnet.__all__:
        assert hasattr(gkrnet, name), name
    assert isinstance(gkrnet.__version__, str) and gkrnet.__version__
    assert isinstance(gkrnet.PROTOCOL, str) and gkrnet.PROTOCOL


def test_error_hierarchy():
    assert issubclass(gkrnet.InputError, gkrnet.Error) and issubclass(gkrnet.InputError, ValueError)
    assert issubclass(gkrnet.FormatError, gkrnet.Error) and issubclass(gkrnet.FormatError, ValueError)
    assert issubclass(gkrnet.ProofFormatError, gkrnet.VerifyError)
    for cls in (gkrnet.VerifyError, gkrnet.CompileError, gkrnet.ProveError):
        assert issubclass(cls, gkrnet.Error)
        assert not issubclass(cls, ValueError), cls


def test_compile_from_path_str_path_and_bytes_agree(models_dir, calibration, digits_cnn):
    path = models_dir / "digits_cnn.onnx"
    from_str = gkrnet.compile(str(path), calibration=calibration)
    from_bytes = gkrnet.compile(path.read_bytes(), calibration=calibration)
    assert from_str.digest == digits_cnn.digest
    assert from_bytes.digest == digits_cnn.digest
    assert from_str.to_bytes() == digits_cnn.to_bytes()


def test_digest_is_64_hex_and_stable_across_compiles(models_dir, calibration, digits_cnn):
    assert HEX64.fullmatch(digits_cnn.digest)
    again = gkrnet.compile(models_dir / "digits_cnn.onnx", calibration=calibration)
    assert again.digest == digits_cnn.digest


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["4-D", "2-D", "list"])
def test_calibration_dtype_and_layout_do_not_change_the_model(models_dir, calibration, digits_cnn, dtype, layout):
    cal = calibration.astype(dtype)
    if layout == "2-D":
        cal = cal.reshape(len(cal), -1)
    elif layout == "list":
        cal = cal.tolist()
    model = gkrnet.compile(models_dir / "digits_cnn.onnx", calibration=cal)
    assert model.digest == digits_cnn.digest
    assert model.report["samples"] == len(calibration)


def test_calibration_changes_the_model(models_dir, calibration, digits_cnn):
    default = gkrnet.compile(models_dir / "digits_cnn.onnx")
    few = gkrnet.compile(models_dir / "digits_cnn.onnx", calibration=calibration[:3])
    assert default.digest != digits_cnn.digest
    assert few.digest != digits_cnn.digest
    assert default.report["samples"] == 16
    assert few.report["samples"] == 3
    assert any("16 seeded" in n for n in default.notes), default.notes


def test_compile_samples_sets_the_default_calibration_size(models_dir):
    model = gkrnet.compile(models_dir / "digits_cnn.onnx", samples=5)
    assert model.report["samples"] == 5


def test_compile_with_input_shape(models_dir, calibration, digits_cnn):
    model = gkrnet.compile(models_dir / "digits_cnn.onnx", calibration=calibration, input_shape=[1, 1, 8, 8])
    assert model.input_shape == [1, 1, 8, 8]
    assert model.digest == digits_cnn.digest


def test_compile_with_an_input_shape_the_model_cannot_take(models_dir):
    with pytest.raises(gkrnet.Error, match=r"9, 9"):
        gkrnet.compile(models_dir / "digits_cnn.onnx", input_shape=[1, 1, 9, 9])


def test_model_name(models_dir, calibration, digits_cnn):
    assert digits_cnn.name == "digits_cnn"  # the file's stem
    data = (models_dir / "digits_cnn.onnx").read_bytes()
    assert gkrnet.compile(data, calibration=calibration).name == "model"
    assert gkrnet.compile(data, calibration=calibration, name="digits").name == "digits"


def test_digits_cnn_attributes(digits_cnn):
    m = digits_cnn
    assert m.input_shape == [1, 1, 8, 8]
    assert m.output_shape == [1, 10]
    assert m.inputs == [("input", [1, 1, 8, 8])]
    assert m.outputs == [("output", [1, 10])]
    assert m.kind == "float"
    # Conv 1→8 3×3, Conv 8→16 3×3, Dense 64→10, with biases (models/README.md)
    assert m.parameters == (8 * 9 + 8) + (16 * 8 * 9 + 16) + (64 * 10 + 10)
    assert isinstance(m.notes, list) and all(isinstance(n, str) for n in m.notes)
    layers = m.layers
    assert layers and all(isinstance(k, str) and isinstance(d, list) for k, d in layers)
    kinds = [k for k, _ in layers]
    assert "conv" in kinds and "dense" in kinds
    assert layers[-1][1] == [1, 10]
    assert "digits_cnn" in repr(m) and m.digest in repr(m)


def test_digits_cnn_report(digits_cnn, calibration):
    r = digits_cnn.report
    assert set(r) == REPORT_KEYS
    assert r["samples"] == len(calibration)
    assert 0 <= r["mean_abs_error"] <= r["max_abs_error"] < 1.0
    assert r["argmax_agreement"] == 1.0  # models/README: int8 and float agree on the calibration set
    assert r["float_accuracy"] is None and r["int8_accuracy"] is None  # no labels at compile time


@pytest.mark.parametrize(
    "fixture, kind, input_shape",
    [
        ("digits_cnn", "float", [1, 1, 8, 8]),
        ("digits_mlp", "float", [1, 64]),
        ("digits_cnn_qdq", "qdq", [1, 1, 8, 8]),
        ("digits_cnn_qop", "qoperator", [1, 1, 8, 8]),
        ("lenet", "float", [1, 1, 28, 28]),
    ],
)
def test_model_kinds_and_shapes(request, fixture, kind, input_shape):
    model = request.getfixturevalue(fixture)
    assert model.kind == kind
    assert model.input_shape == input_shape
    assert model.output_shape == [1, 10]
    assert HEX64.fullmatch(model.digest)
    assert set(model.report) == REPORT_KEYS


def test_lenet_parameters(lenet):
    # Conv 6@5×5, Conv 16@6×5×5, 400→120, 120→84, 84→10, with biases
    assert lenet.parameters == 156 + 2416 + 48120 + 10164 + 850


def test_accuracy_with_labels(digits_cnn, digits_x, digits_labels):
    acc = digits_cnn.accuracy(digits_x, digits_labels.tolist())
    assert set(acc) == REPORT_KEYS
    assert acc["samples"] == len(digits_x)
    assert acc["float_accuracy"] >= 0.85 and acc["int8_accuracy"] >= 0.85
    assert acc["argmax_agreement"] >= 0.9


@pytest.mark.parametrize("count", [3, 17])
def test_accuracy_rejects_labels_of_the_wrong_length(digits_cnn, digits_x, digits_labels, count):
    labels = np.resize(digits_labels, count).tolist()
    with pytest.raises(gkrnet.InputError):
        digits_cnn.accuracy(digits_x, labels)


def test_compile_error_names_the_unsupported_op(models_dir):
    with pytest.raises(gkrnet.CompileError, match=r"\bCos\b"):
        gkrnet.compile(models_dir / "unsupported_op.onnx")


def test_compile_error_for_garbage_bytes():
    with pytest.raises(gkrnet.CompileError):
        gkrnet.compile(b"this is not an ONNX protobuf \x07\xff\x00")


def test_compile_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        gkrnet.compile(tmp_path / "missing.onnx")


def test_compile_missing_path_raises_a_gkrnet_or_os_error(tmp_path):
    """Whatever its class, a missing file is reported with its path (not a crash, not success)."""
    with pytest.raises((gkrnet.Error, OSError), match="missing.onnx"):
        gkrnet.compile(tmp_path / "missing.onnx")


def test_compile_rejects_a_non_path_argument():
    with pytest.raises(gkrnet.InputError):
        gkrnet.compile(12345)


@pytest.mark.parametrize(
    "calibration, match",
    [
        (np.zeros((2, 63), np.float32), "calibration"),
        (np.full((2, 64), np.nan, np.float32), "not finite"),
        (np.full((2, 64), "a"), "dtype"),
    ],
)
def test_compile_rejects_bad_calibration(models_dir, calibration, match):
    with pytest.raises(gkrnet.InputError, match=match):
        gkrnet.compile(models_dir / "digits_cnn.onnx", calibration=calibration)


@pytest.mark.parametrize("kwargs", [{"samples": 0}, {"input_range": (1.0, 0.0)}, {"input_range": (0.0, float("inf"))}])
def test_compile_rejects_bad_options(models_dir, kwargs):
    with pytest.raises(gkrnet.InputError):
        gkrnet.compile(models_dir / "digits_cnn.onnx", **kwargs)


def test_default_calibration():
    rows = gkrnet.default_calibration(64, [0.5] * 64, (0.0, 1.0), 4)
    assert len(rows) == 5  # 4 seeded rows and the proven input
    assert all(len(r) == 64 for r in rows)
    assert [0.5] * 64 in [list(r) for r in rows]
    assert rows == gkrnet.default_calibration(64, [0.5] * 64, (0.0, 1.0), 4)  # seeded
    with pytest.raises(gkrnet.InputError, match="63 values"):
        gkrnet.default_calibration(64, [0.5] * 63, (0.0, 1.0), 4)


# --- prove and verify ----------------------------------------------------------------------


def check_verified(model, x, proof):
    """Verifies `proof` and checks the Verified against the model's own forward pass."""
    v = gkrnet.verify(model, x, proof)
    expected = model.forward(x)
    assert isinstance(v.output, np.ndarray) and v.output.shape == tuple(model.output_shape)
    np.testing.assert_array_equal(v.output, expected)  # exactly: the proof is of the integer model
    rows = model.output_shape[0] if len(model.output_shape) >= 2 else 1
    classes = v.output.reshape(rows, -1).argmax(axis=1)
    if rows == 1:
        assert isinstance(v.predicted, int) and v.predicted == int(classes[0])
    else:  # a batch: one class per row
        np.testing.assert_array_equal(v.predicted, classes)
    assert v.outputs.keys() == {name for name, _ in model.outputs}
    np.testing.assert_array_equal(v.outputs[model.outputs[0][0]], v.output)
    assert v.output_int.dtype == np.int64 and v.output_int.shape == (int(np.prod(model.output_shape)),)
    # dequantization is increasing: the integers give the same classes
    np.testing.assert_array_equal(v.output_int.reshape(rows, -1).argmax(axis=1), classes)
    assert v.digest == model.digest == proof.digest
    assert v.root is None
    assert v.mode == proof.advice
    assert HEX64.fullmatch(v.input_digest)
    assert v.softmax_applied is False
    assert v.verify_seconds >= 0
    return v


@pytest.mark.parametrize("fixture", ["digits_cnn", "digits_mlp", "digits_cnn_qdq", "digits_cnn_qop", "lenet"])
def test_prove_verify_bundled_models(request, fixture, digits_x, lenet_x):
    model = request.getfixturevalue(fixture)
    inputs = lenet_x if fixture == "lenet" else digits_x
    for i in (0, 5):
        x = inputs[i].reshape(model.input_shape)
        proof = model.prove(x)
        assert isinstance(proof, gkrnet.Proof)
        v = check_verified(model, x, proof)
        # the float model agrees with the int8 one on these inputs
        f = model.float_forward(x)
        assert f.shape == v.output.shape
        assert int(np.argmax(f)) == v.predicted
        np.testing.assert_allclose(v.output, f, atol=0.1 * float(np.ptp(f)) + 0.05)


def test_forward_matches_float_forward_on_all_test_digits(digits_cnn, digits_x, digits_labels):
    agree = correct = 0
    for x, label in zip(digits_x, digits_labels):
        q, f = digits_cnn.forward(x), digits_cnn.float_forward(x)
        np.testing.assert_allclose(q, f, atol=1.0)
        agree += int(np.argmax(q) == np.argmax(f))
        correct += int(np.argmax(q) == label)
    assert agree == len(digits_x)
    assert correct >= 14  # 96 % test accuracy (models/README.md)


def test_proof_exposes_no_output(digits_proof, digits_cnn):
    for attr in ("output", "outputs", "output_int", "predicted"):
        assert not hasattr(digits_proof, attr), attr
    assert digits_proof.digest == digits_cnn.digest
    assert digits_proof.advice == "clear"
    assert digits_proof.weights_root is None
    assert digits_proof.size == len(digits_proof) == len(digits_proof.to_bytes())
    assert digits_proof.prove_seconds is not None and digits_proof.prove_seconds > 0
    assert "gkrnet.Proof" in repr(digits_proof)


def test_prover_is_deterministic(digits_cnn, digits_x, digits_proof):
    assert digits_cnn.prove(digits_x[0]).to_bytes() == digits_proof.to_bytes()


def _input_forms(x):
    """The same digit written the ways a caller may write it."""
    return {
        "float32 (1,1,8,8)": x.astype(np.float32),
        "float64 (1,1,8,8)": x.astype(np.float64),
        "float32 (1,8,8)": x.astype(np.float32).reshape(1, 8, 8),
        "float64 (8,8)": x.astype(np.float64).reshape(8, 8),
        "nested list (1,1,8,8)": x.tolist(),
        "nested list (1,8,8)": x.reshape(1, 8, 8).tolist(),
        "fortran order": np.asfortranarray(x.reshape(8, 8)),
        "strided view": np.repeat(x.reshape(8, 8), 2, axis=1)[:, ::2],
    }


def test_input_forms_all_prove_and_verify_the_same_output(digits_cnn, digits_x, digits_proof):
    x = digits_x[0]
    reference = gkrnet.verify(digits_cnn, x, digits_proof)
    for label, form in _input_forms(x).items():
        proof = digits_cnn.prove(form)
        v = gkrnet.verify(digits_cnn, form, proof)
        np.testing.assert_array_equal(v.output_int, reference.output_int, err_msg=label)
        assert v.input_digest == reference.input_digest, label
        # the proof of one form verifies with any other: they quantize to the same codes
        assert gkrnet.verify(digits_cnn, x, proof).input_digest == reference.input_digest, label
        assert gkrnet.verify(digits_cnn, form, digits_proof).input_digest == reference.input_digest, label


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64])
def test_integer_inputs_are_int8_codes(digits_cnn, dtype):
    codes = np.arange(-128, 128, 4).reshape(1, 1, 8, 8)
    x = codes.astype(dtype)
    proof = digits_cnn.prove(x)
    v = check_verified(digits_cnn, x, proof)
    # every integer dtype holding the same values is the same input
    assert v.input_digest == gkrnet.verify(digits_cnn, codes.astype(np.int8), proof).input_digest
    assert gkrnet.verify(digits_cnn, codes.tolist(), proof).input_digest == v.input_digest


def test_int8_extremes_are_accepted(digits_cnn):
    for value in (-128, 127):
        x = np.full((1, 1, 8, 8), value, dtype=np.int64)
        check_verified(digits_cnn, x, digits_cnn.prove(x))


def test_float_forward_refuses_integer_codes(digits_cnn):
    with pytest.raises(gkrnet.InputError):
        digits_cnn.float_forward(np.zeros((1, 1, 8, 8), np.int8))


@pytest.mark.parametrize("advice", ["clear", "provable", "conjectured", "auto"])
def test_advice_modes(digits_cnn, digits_x, digits_proof, advice):
    x = digits_x[0]
    proof = digits_cnn.prove(x, advice=advice)
    if advice == "auto":
        assert proof.advice in ("clear", "provable", "conjectured")
    else:
        assert proof.advice == advice
    if proof.advice == "conjectured":
        # conjectured-security parameters are accepted only when the verifier opts in
        with pytest.raises(gkrnet.VerifyError, match="conjectured"):
            gkrnet.verify(digits_cnn, x, proof)
        # the reason names the Python argument, not the CLI's flag
        with pytest.raises(gkrnet.VerifyError, match=r"allow_conjectured=True") as e:
            gkrnet.verify(digits_cnn, x, proof)
        assert "--allow-conjectured" not in str(e.value)
        v = gkrnet.verify(digits_cnn, x, proof, allow_conjectured=True)
        assert v.mode == "conjectured"
    else:
        v = check_verified(digits_cnn, x, proof)
    np.testing.assert_array_equal(v.output_int, gkrnet.verify(digits_cnn, x, digits_proof).output_int)


def test_unknown_advice_mode_raises_input_error(digits_cnn, digits_x):
    with pytest.raises(gkrnet.InputError, match="nope"):
        digits_cnn.prove(digits_x[0], advice="nope")


@pytest.mark.parametrize("threads", [1, 2])
def test_threads(digits_cnn, digits_x, digits_proof, threads):
    x = digits_x[3]
    v = check_verified(digits_cnn, x, digits_cnn.prove(x, threads=threads))
    assert gkrnet.verify(digits_cnn, digits_x[0], digits_proof, threads=threads).predicted == 7
    assert v.predicted == int(np.argmax(digits_cnn.forward(x)))


@pytest.mark.parametrize("threads", [0, -1, 100_000])
def test_bad_thread_counts_raise_input_error(digits_cnn, digits_x, digits_proof, threads):
    with pytest.raises(gkrnet.InputError, match="threads"):
        digits_cnn.prove(digits_x[0], threads=threads)
    with pytest.raises(gkrnet.InputError, match="threads"):
        gkrnet.verify(digits_cnn, digits_x[0], digits_proof, threads=threads)


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=["bytes", "bytearray", "memoryview"])
def test_verify_accepts_proof_bytes(digits_cnn, digits_x, digits_proof, wrap):
    v = gkrnet.verify(digits_cnn, digits_x[0], wrap(digits_proof.to_bytes()))
    assert v.predicted == gkrnet.verify(digits_cnn, digits_x[0], digits_proof).predicted


def test_verify_rejects_arguments_of_the_wrong_type(digits_cnn, digits_x, digits_proof):
    with pytest.raises(gkrnet.InputError, match="proof"):
        gkrnet.verify(digits_cnn, digits_x[0], "not a proof")
    with pytest.raises(gkrnet.InputError, match="key"):
        gkrnet.verify("not a model", digits_x[0], digits_proof)


def test_expect_digest_matching_is_accepted(digits_cnn, digits_x, digits_proof):
    v = gkrnet.verify(digits_cnn, digits_x[0], digits_proof, expect_digest=digits_cnn.digest)
    assert v.digest == digits_cnn.digest


def test_expect_digest_not_matching_raises_verify_error(digits_cnn, digits_x, digits_proof):
    other = "0" * 64
    with pytest.raises(gkrnet.VerifyError, match="digest") as e:
        gkrnet.verify(digits_cnn, digits_x[0], digits_proof, expect_digest=other)
    assert other in str(e.value)


@pytest.mark.parametrize("digest", ["", "xyz", "0" * 63, "g" * 64, "é" * 32])
def test_malformed_expect_digest_raises_input_error(digits_cnn, digits_x, digits_proof, digest):
    with pytest.raises(gkrnet.InputError, match="64 hex"):
        gkrnet.verify(digits_cnn, digits_x[0], digits_proof, expect_digest=digest)


def test_dict_input_by_name(digits_cnn, digits_x, digits_proof):
    x = digits_x[0]
    v = gkrnet.verify(digits_cnn, {"input": x}, digits_proof)
    assert v.predicted == 7
    np.testing.assert_array_equal(digits_cnn.forward({"input": x}), digits_cnn.forward(x))
    with pytest.raises(gkrnet.InputError, match="nope"):
        digits_cnn.forward({"nope": x})


# --- built-in models -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["mlp-act", "lenet5"])
def test_builtin_models_prove_int8_inputs(name):
    model = gkrnet.Model.builtin(name)
    assert HEX64.fullmatch(model.digest)
    assert model.kind is None and model.parameters is None and model.report is None
    rng = np.random.default_rng(7)
    x = rng.integers(-128, 128, size=model.input_shape, dtype=np.int8)
    proof = model.prove(x)
    v = check_verified(model, x, proof)
    assert v.digest == model.digest
    with pytest.raises(gkrnet.InputError):
        model.float_forward(x.astype(np.float32))


def test_unknown_builtin_model_raises_input_error():
    with pytest.raises(gkrnet.InputError, match="lenet5"):
        gkrnet.Model.builtin("resnet-9000")


# --- bad inputs ----------------------------------------------------------------------------


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


WRONG_SHAPES = [(64,), (1, 64), (2, 1, 8, 8), (1, 1, 8, 8, 1), (1, 1, 9, 9), (8, 9), (0,)]


@pytest.mark.parametrize("shape", WRONG_SHAPES, ids=str)
def test_wrong_shape_raises_input_error_naming_both_shapes(digits_cnn, digits_proof, shape):
    x = np.zeros(shape, np.float32)
    calls = {
        "prove": lambda: digits_cnn.prove(x),
        "verify": lambda: gkrnet.verify(digits_cnn, x, digits_proof),
        "forward": lambda: digits_cnn.forward(x),
        "float_forward": lambda: digits_cnn.float_forward(x),
    }
    for name, call in calls.items():
        with pytest.raises(gkrnet.InputError) as e:
            call()
        assert isinstance(e.value, ValueError), name
        msg = str(e.value)
        assert "[1, 1, 8, 8]" in msg, (name, msg)
        assert _shape_text(shape) in msg, (name, msg)


def test_wrong_shape_for_the_mlp_names_its_shape(digits_mlp, digits_x):
    with pytest.raises(gkrnet.InputError) as e:
        digits_mlp.prove(digits_x[0])  # (1, 8, 8): the MLP takes [1, 64]
    assert "[1, 64]" in str(e.value) and "[1, 8, 8]" in str(e.value)


def test_wrong_shape_of_a_builtin_model():
    model = gkrnet.Model.builtin("lenet5")
    with pytest.raises(gkrnet.InputError) as e:
        model.prove(np.zeros((1, 1, 8, 8), np.int8))
    assert _shape_text(model.input_shape) in str(e.value) and "[1, 1, 8, 8]" in str(e.value)


@pytest.mark.parametrize(
    "x",
    [
        np.full((1, 1, 8, 8), "a"),
        [[["a"] * 8] * 8],
        np.array([None] * 64, dtype=object).reshape(1, 1, 8, 8),
        np.ones((1, 1, 8, 8), dtype=complex),
        None,
    ],
    ids=["str array", "str list", "object", "complex", "None"],
)
def test_non_numeric_input_raises_input_error(digits_cnn, digits_proof, x):
    with pytest.raises(gkrnet.InputError, match="dtype"):
        digits_cnn.prove(x)
    with pytest.raises(gkrnet.InputError, match="dtype"):
        gkrnet.verify(digits_cnn, x, digits_proof)


def test_boolean_input_raises_input_error(digits_cnn, digits_proof):
    x = np.zeros((1, 1, 8, 8), dtype=bool)
    with pytest.raises(gkrnet.InputError, match="bool"):
        digits_cnn.prove(x)
    with pytest.raises(gkrnet.InputError, match="bool"):
        gkrnet.verify(digits_cnn, x, digits_proof)


@pytest.mark.parametrize(
    "value, dtype",
    [(128, np.int64), (-129, np.int64), (200, np.uint8), (1000, np.int16), (2**40, np.int64)],
)
def test_integer_input_outside_int8_raises_input_error(digits_cnn, digits_proof, value, dtype):
    x = np.zeros((1, 1, 8, 8), dtype=dtype)
    x[0, 0, 3, 4] = value
    with pytest.raises(gkrnet.InputError, match=str(value)) as e:
        digits_cnn.prove(x)
    assert "int8" in str(e.value)
    with pytest.raises(gkrnet.InputError, match=str(value)):
        gkrnet.verify(digits_cnn, x, digits_proof)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, 1e39])
def test_non_finite_float_input_raises_input_error(digits_cnn, digits_x, digits_proof, value):
    x = digits_x[0].astype(np.float64)
    x[0, 2, 5] = value
    with pytest.raises(gkrnet.InputError, match="index 21"):
        digits_cnn.prove(x)
    with pytest.raises(gkrnet.InputError, match="finite"):
        gkrnet.verify(digits_cnn, x, digits_proof)
    with pytest.raises(gkrnet.InputError, match="finite"):
        digits_cnn.forward(x)
