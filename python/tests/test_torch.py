"""gkrnet.from_torch: a PyTorch module exported through torch.onnx and compiled; proofs of it
verify and predict what the module predicts. Skipped where torch is not installed."""

import numpy as np
import pytest

import gkrnet

torch = pytest.importorskip("torch")
nn = torch.nn

def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def convnet():
    torch.manual_seed(1)
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(4 * 4 * 4, 10),
    )


def example(shape, seed):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g)


@pytest.fixture(scope="module", params=["mlp", "convnet"])
def torch_case(request):
    module, shape = {"mlp": (mlp(), (1, 16)), "convnet": (convnet(), (1, 1, 8, 8))}[request.param]
    x = example(shape, 2)
    model = gkrnet.from_torch(module, x)
    return module, x, model


def test_from_torch_model_attributes(torch_case):
    module, x, model = torch_case
    assert model.kind == "float"
    assert model.input_shape == list(x.shape)
    with torch.no_grad():
        y = module(x)
    assert model.output_shape == list(y.shape)
    assert model.name == "Sequential"
    assert model.parameters == sum(p.numel() for p in module.parameters())
    assert model.report["samples"] == 17  # the example and 16 seeded inputs


def test_from_torch_proof_verifies_and_predicts_the_torch_argmax(torch_case):
    module, x, model = torch_case
    with torch.no_grad():
        y = module(x).numpy()
    proof = model.prove(x)  # a torch tensor is accepted as it is
    v = gkrnet.verify(model, x, proof)
    assert v.predicted == int(np.argmax(y))
    np.testing.assert_array_equal(v.output, model.forward(x))
    np.testing.assert_allclose(v.output, y, atol=0.05 * float(np.ptp(y)) + 1e-3)
    np.testing.assert_allclose(model.float_forward(x.numpy()), y, rtol=1e-4, atol=1e-5)
    # the same input as NumPy verifies the same proof
    assert gkrnet.verify(model, x.numpy(), proof).input_digest == v.input_digest


def test_from_torch_round_trips_through_gkrm(torch_case):
    _, x, model = torch_case
    proof = model.prove(x)
    loaded = gkrnet.Model.from_bytes(model.to_bytes())
    assert loaded.digest == model.digest
    assert gkrnet.verify(loaded, x, proof).predicted == gkrnet.verify(model, x, proof).predicted


def test_from_torch_with_calibration_and_name():
    module = mlp()
    x = example((1, 16), 3)
    calibration = example((32, 16), 4)
    model = gkrnet.from_torch(module, x, calibration=calibration, name="tiny")
    assert model.name == "tiny"
    assert model.report["samples"] == 32
    assert model.digest != gkrnet.from_torch(module, x).digest
    v = gkrnet.verify(model, x, model.prove(x))
    with torch.no_grad():
        assert v.predicted == int(module(x).argmax())


def test_from_torch_restores_training_mode_and_is_deterministic():
    module = convnet()
    module.train()
    x = example((1, 1, 8, 8), 5)
    first = gkrnet.from_torch(module, x)
    assert module.training
    assert gkrnet.from_torch(module, x).digest == first.digest


def test_from_torch_wrong_input_shape_raises_input_error(torch_case):
    _, x, model = torch_case
    with pytest.raises(gkrnet.InputError):
        model.prove(torch.zeros(1, 3))


class TwoInputs(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Linear(8, 4)
        self.b = nn.Linear(6, 4)

    def forward(self, x, y):
        return torch.relu(self.a(x)) + self.b(y)


def test_from_torch_with_two_inputs():
    torch.manual_seed(3)
    module = TwoInputs()
    x, y = example((1, 8), 6), example((1, 6), 7)
    model = gkrnet.from_torch(module, (x, y))
    assert model.inputs == [("input_0", [1, 8]), ("input_1", [1, 6])]
    proof = model.prove((x, y))
    v = gkrnet.verify(model, (x, y), proof)
    with torch.no_grad():
        assert v.predicted == int(module(x, y).argmax())
    # the same input by name, and as one 1-D array of both inputs' values in graph order
    flat = np.concatenate([x.numpy().ravel(), y.numpy().ravel()])
    for same in ({"input_0": x, "input_1": y}, flat, [x.numpy(), y.numpy()]):
        assert gkrnet.verify(model, same, proof).input_digest == v.input_digest
    with pytest.raises(gkrnet.InputError) as e:
        model.prove((y, x))  # swapped: shapes named
    assert "[1, 8]" in str(e.value) and "[1, 6]" in str(e.value)


def test_from_torch_takes_a_nested_list_as_one_input(torch_case):
    # a list is one input (a tuple would be one tensor per input, as torch.onnx reads it)
    module, x, model = torch_case
    from_list = gkrnet.from_torch(module, x.numpy().tolist())
    assert from_list.inputs == model.inputs
    assert from_list.digest == gkrnet.from_torch(module, x.numpy()).digest
