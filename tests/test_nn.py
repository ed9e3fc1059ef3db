import math

import pytest

torch = pytest.importorskip("torch")
from torch.utils.data import DataLoader, TensorDataset

from gdlab.nn import accuracy, layer_grad_norms, make_mlp, spirals, train, train_epoch


def test_spirals_are_reproducible_balanced_and_shaped_for_bce():
    X, y = spirals(300, seed=3)
    X2, y2 = spirals(300, seed=3)
    assert torch.equal(X, X2) and torch.equal(y, y2)
    assert not torch.equal(X, spirals(300, seed=4)[0])
    assert X.shape == (300, 2) and y.shape == (300, 1) and X.dtype == y.dtype == torch.float32
    assert y.sum().item() == 150 and set(y.flatten().tolist()) == {0.0, 1.0}
    assert spirals(10, dtype=torch.float64)[0].dtype == torch.float64


def test_spirals_follow_the_documented_generator():
    X, y = spirals(2000, noise=0.0, turns=1.5, seed=0)
    r = X.double().norm(dim=1)
    assert r.min().item() >= 0.2 and r.max().item() <= 2.0 + 1e-6
    expected = math.pi * 1.5 * r + math.pi * y[:, 0].double()
    assert torch.allclose(X[:, 0].double(), r * torch.cos(expected), atol=1e-5)
    assert torch.allclose(X[:, 1].double(), r * torch.sin(expected), atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 1}, "n must be an integer >= 2"),
    ({"noise": -0.1}, "noise must be >= 0"),
    ({"turns": 0}, "turns must be > 0"),
])
def test_spirals_reject_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        spirals(**kwargs)


def test_make_mlp_layers_and_output_shape():
    torch.manual_seed(0)
    model = make_mlp([2, 8, 5, 1], activation="relu")
    kinds = [type(m).__name__ for m in model]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert [(m.in_features, m.out_features) for m in model[::2]] == [(2, 8), (8, 5), (5, 1)]
    assert model(torch.zeros(7, 2)).shape == (7, 1)


@pytest.mark.parametrize("kwargs, message", [
    ({"sizes": [2]}, "at least an input and an output"),
    ({"sizes": [2, 0, 1]}, r"sizes\[1\] must be an integer >= 1"),
    ({"sizes": [2, 1], "activation": "gelu"}, "activation must be one of"),
    ({"sizes": [2, 1], "init": "zeros"}, "init must be one of"),
])
def test_make_mlp_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        make_mlp(**kwargs)


@pytest.mark.parametrize("activation, init, expected_std", [
    ("tanh", "xavier", 5 / 3 * math.sqrt(2 / (400 + 600))),
    ("sigmoid", "xavier", math.sqrt(2 / (400 + 600))),
    ("relu", "he", math.sqrt(2 / 400)),
    ("tanh", "default", math.sqrt(1 / (3 * 400))),
])
def test_initialisation_has_the_documented_variance(activation, init, expected_std):
    torch.manual_seed(0)
    weight = make_mlp([400, 600], activation, init)[0].weight  # 240,000 draws: std within 1 %
    assert weight.mean().abs().item() < 0.01 * expected_std
    assert weight.std().item() == pytest.approx(expected_std, rel=0.01)


def test_xavier_and_he_zero_the_biases_default_does_not():
    torch.manual_seed(0)
    assert all((make_mlp([3, 4, 2], init=init)[0].bias == 0).all() for init in ("xavier", "he"))
    assert (make_mlp([3, 4, 2])[0].bias != 0).all()


def test_layer_grad_norms_match_each_weight_gradient():
    torch.manual_seed(0)
    model = make_mlp([2, 6, 4, 1])
    with pytest.raises(ValueError, match="backward"):
        layer_grad_norms(model)
    X, y = spirals(32)
    torch.nn.BCEWithLogitsLoss()(model(X), y).backward()
    norms = layer_grad_norms(model)
    assert norms == pytest.approx([math.sqrt((m.weight.grad.double()**2).sum().item()) for m in model[::2]], rel=1e-6)
    assert len(norms) == 3 and all(v > 0 for v in norms)


def test_train_epoch_takes_one_step_per_batch_and_returns_the_mean_loss():
    torch.manual_seed(0)
    X, y = spirals(40, dtype=torch.float64)
    model = make_mlp([2, 3, 1]).double()
    loss_fn = torch.nn.BCEWithLogitsLoss()
    with torch.no_grad():
        first_loss = loss_fn(model(X), y).item()
    before = [p.detach().clone() for p in model.parameters()]
    loss_fn(model(X), y).backward()
    expected = [b - 0.1 * p.grad for b, p in zip(before, model.parameters())]
    loader = DataLoader(TensorDataset(X, y), batch_size=40)
    loss = train_epoch(model, loader, loss_fn, torch.optim.SGD(model.parameters(), lr=0.1))
    assert loss == pytest.approx(first_loss, rel=1e-15)
    for p, e in zip(model.parameters(), expected):
        assert torch.allclose(p, e, rtol=0, atol=1e-15)


def test_train_epoch_clips_the_gradient_norm():
    torch.manual_seed(0)
    X, y = spirals(40, dtype=torch.float64)
    model = make_mlp([2, 3, 1], init="xavier").double()
    before = torch.cat([p.detach().flatten() for p in model.parameters()])
    loader = DataLoader(TensorDataset(X, y), batch_size=40)
    optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    train_epoch(model, loader, torch.nn.BCEWithLogitsLoss(), optimizer, max_grad_norm=1e-3)
    after = torch.cat([p.detach().flatten() for p in model.parameters()])
    assert (after - before).norm().item() == pytest.approx(1e-3, rel=1e-4)  # clip_grad_norm_ adds 1e-6 to the norm


def test_train_learns_the_spirals_and_steps_the_scheduler(capsys):
    torch.manual_seed(0)
    X, y = spirals(600, seed=0)
    model = make_mlp([2, 32, 32, 1], init="xavier")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=20, gamma=0.5)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    losses = train(model, loader, torch.nn.BCEWithLogitsLoss(), optimizer, epochs=40, scheduler=scheduler)
    assert len(losses) == 40 and losses[-1] < 0.5 * losses[0]
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.01 / 4)
    assert accuracy(model, *spirals(400, seed=1)) > 0.9
    assert capsys.readouterr().err == ""  # no progress bar unless asked


def test_train_shows_a_progress_bar_when_asked(capsys):
    torch.manual_seed(0)
    model = make_mlp([2, 4, 1])
    loader = DataLoader(TensorDataset(*spirals(20)), batch_size=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    train(model, loader, torch.nn.BCEWithLogitsLoss(), optimizer, epochs=3, progress=True)
    err = capsys.readouterr().err
    assert "training" in err and "3/3" in err and "loss=" in err


def test_train_rejects_zero_epochs():
    model = make_mlp([2, 1])
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        train(model, [], torch.nn.MSELoss(), torch.optim.SGD(model.parameters(), lr=0.1), epochs=0)


def test_accuracy_for_one_logit_and_for_class_scores():
    class Fixed(torch.nn.Module):
        def __init__(self, out):
            super().__init__()
            self.out = out

        def forward(self, X):
            return self.out

    logits, labels = torch.tensor([[2.0], [-1.0], [0.5], [-3.0]]), torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    assert accuracy(Fixed(logits), None, labels) == 0.75
    scores = torch.tensor([[0.1, 0.9, 0.0], [2.0, 0.0, 1.0]])
    assert accuracy(Fixed(scores), None, torch.tensor([1, 2])) == 0.5


def test_accuracy_evaluates_in_eval_mode_and_restores_every_module_mode():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.Tanh(), torch.nn.Dropout(0.5), torch.nn.Linear(64, 1))
    X, y = spirals(200, seed=0)
    model.eval()
    with torch.no_grad():
        expected = ((model(X) > 0).float() == y).sum().item() / len(y)
    model.train()
    model[0].eval()  # a mixed state (as after freezing one layer), dropout on: it must come back as it was
    modes = [m.training for m in model.modules()]
    assert [accuracy(model, X, y) for _ in range(5)] == [expected] * 5  # dropout off: the same answer every time
    assert [m.training for m in model.modules()] == modes
    model.eval()
    assert accuracy(model, X, y) == expected and not model.training


def test_accuracy_restores_the_mode_when_the_model_raises():
    model = torch.nn.Sequential(torch.nn.Linear(3, 1))
    model.train()
    with pytest.raises(RuntimeError):
        accuracy(model, torch.zeros(4, 2), torch.zeros(4, 1))  # wrong input width
    assert model.training


def test_accuracy_makes_no_float64_tensor():
    """MPS has no float64: every tensor accuracy makes stays in float32 or an integer type."""
    from torch.overrides import TorchFunctionMode

    seen = set()

    class Dtypes(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            result = func(*args, **(kwargs or {}))
            for value in result if isinstance(result, (tuple, list)) else (result,):
                if isinstance(value, torch.Tensor):
                    seen.add(value.dtype)
            return result

    torch.manual_seed(0)
    X, y = spirals(50, seed=0)
    for model, labels in ((make_mlp([2, 4, 1]), y), (make_mlp([2, 4, 3]), y[:, 0].long())):
        with Dtypes():
            result = accuracy(model, X, labels)
        assert isinstance(result, float) and 0 <= result <= 1
    assert seen and torch.float64 not in seen, seen


def test_accuracy_accepts_flat_labels_and_rejects_a_wrong_shape():
    class Fixed(torch.nn.Module):
        def forward(self, X):
            return torch.tensor([[2.0], [-1.0], [0.5], [-3.0]])

    assert accuracy(Fixed(), None, torch.tensor([1.0, 0.0, 0.0, 0.0])) == 0.75
    assert accuracy(Fixed(), None, torch.tensor([1, 0, 0, 0])) == 0.75
    expected = r"y must hold one label per example, shape \(4,\) or \(4, 1\), got shape \(3, 1\)"
    with pytest.raises(ValueError, match=expected):
        accuracy(Fixed(), None, torch.zeros(3, 1))
    with pytest.raises(ValueError, match=r"got shape \(1, 4\)"):
        accuracy(Fixed(), None, torch.zeros(1, 4))
