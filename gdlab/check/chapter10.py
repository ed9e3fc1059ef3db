"""Checks for exercises/10_pytorch_training_loop.ipynb.

Every check runs on the CPU in float64 with seeded generators, so its line is the same on any machine.
"""

import numpy as np

from gdlab.check.core import Chapter, as_array, show, call, close, fail, number


def _regression(n, seed=0):
    """A small non-linear regression: X (n, 3), y = sin(x1) + x2 x3 + noise, shape (n, 1), float64."""
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3] + 0.1 * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return X, y


def _step(model, optimizer, xb, yb, mistake=None):
    """The right training step, or one with a known `mistake`; returns the loss."""
    if mistake != "no zero_grad":
        optimizer.zero_grad()
    squared = (model(xb) - yb) ** 2
    loss = squared.sum() if mistake == "sum" else squared.mean()
    loss.backward()
    optimizer.step()
    return loss.item()


def _flat(model):
    import torch

    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _stepped(step, batches, **kwargs):
    """A fresh model and SGD, then `step` on each batch: (losses, parameters before, parameters after)."""
    import torch

    from gdlab.nn import make_mlp

    torch.manual_seed(0)
    model = make_mlp([3, 16, 1]).double()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    before = _flat(model).clone()
    losses = [call(step, model, optimizer, xb, yb, **kwargs) for xb, yb in batches]
    return losses, before, _flat(model)


def _dropout_model():
    import torch
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), nn.Dropout(0.25), nn.Linear(16, 1)).double()
    return model.eval()  # as it is after an evaluation


def _fit(model, loader, optimizer, epochs, mistake=None):
    """The right epoch loop (per-epoch mean loss over the examples), or one with a known `mistake`."""
    if mistake != "eval":
        model.train()
    losses = []
    for _ in range(epochs):
        total, seen, batch_losses = 0.0, 0, []
        for xb, yb in loader:
            loss = _step(model, optimizer, xb, yb)
            total, seen = total + loss * len(xb), seen + len(xb)
            batch_losses.append(loss)
        losses.append({"batch mean": np.mean(batch_losses), "sum": sum(batch_losses),
                       "last": batch_losses[-1]}.get(mistake, total / seen))
    return losses


def _fit_run(fit, epochs, *mistake):
    """`fit` (the learner's, or _fit with a `mistake`) on a fresh model in eval mode: its per-epoch losses."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    model = _dropout_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(*_regression(56, seed=1)), batch_size=16, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)  # dropout draws from the global generator
    return call(fit, model, loader, optimizer, epochs, *mistake)


def _linears(model):
    from torch import nn

    return [m for m in model.modules() if isinstance(m, nn.Linear)]


def _init_normal_(model, std):
    from torch import nn

    for layer in _linears(model):
        nn.init.normal_(layer.weight, 0.0, std)
        nn.init.zeros_(layer.bias)
    return model


def _deep_tanh(fix=None):
    """The 11-layer tanh network with tiny N(0, 0.05^2) weights, then `fix` (the learner's) applied to it."""
    import torch

    from gdlab.nn import make_mlp

    torch.manual_seed(0)
    model = _init_normal_(make_mlp([2] + [32] * 10 + [1], "tanh").double(), 0.05)
    if fix is not None:
        torch.manual_seed(1)
        call(fix, model)
    return model


def _grad_norms_at_init(model):
    import torch

    from gdlab.nn import layer_grad_norms, spirals

    X, y = spirals(512, seed=0, dtype=torch.float64)
    model.zero_grad()
    torch.nn.BCEWithLogitsLoss()(model(X), y).backward()
    return layer_grad_norms(model)


def _train_and_test(model):
    """Test accuracy after 30 epochs of SGD (lr 0.01, momentum 0.9, batches of 32) on 512 spiral points."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    from gdlab.nn import accuracy, spirals, train

    X, y = spirals(512, seed=0, dtype=torch.float64)
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    losses = train(model, loader, torch.nn.BCEWithLogitsLoss(), optimizer, 30)
    return losses[-1], accuracy(model, *spirals(400, seed=1, dtype=torch.float64))


def _pair(answer, shape, gain):
    """The learner's (He std, Xavier std) as two floats, or FAIL saying what came back instead."""
    where = f"init_stds(weight of shape {tuple(shape)}, gain={gain:.4g})"
    if not (isinstance(answer, (list, tuple)) and len(answer) == 2):
        fail(f"{where} should return a pair of numbers, (He std, Xavier std); got {show(as_array(answer, where))}.")
    return tuple(number(value, f"{where}[{i}]") for i, value in enumerate(answer))


class ch10(Chapter):
    """10 · The PyTorch training loop."""

    def task1(training_step):
        "the training step"
        import torch

        X, y = _regression(24)
        batches = [(X[i:i + 8], y[i:i + 8]) for i in range(0, 24, 8)]
        losses, before, after = _stepped(training_step, batches)
        if any(loss is None for loss in losses):
            fail("training_step returned None: did you forget `return loss.item()`?")
        if any(isinstance(loss, torch.Tensor) for loss in losses):
            fail("you returned the loss tensor; return loss.item(), a Python float: a tensor keeps its whole "
                 "graph alive, and on a GPU reading it later waits for the device.")
        right_losses, _, right = _stepped(_step, batches)
        if torch.equal(after, before):
            fail("the parameters did not move: optimizer.step() needs the gradients, so call it after "
                 "loss.backward() (and after zero_grad(), not before it).")
        close(after, right, "the parameters after 3 steps (SGD, momentum 0.9)", {
            "gradients accumulated from one call to the next: call optimizer.zero_grad() before loss.backward()":
                _stepped(_step, batches, mistake="no zero_grad")[2],
            "the loss is summed over the batch, not averaged: each step is 8 times (the batch size) too "
            "large; take the mean": _stepped(_step, batches, mistake="sum")[2],
        })
        close(losses, right_losses, "the losses you returned")
        return (f"3 steps match torch's reference; the batch losses were "
                f"{', '.join(f'{loss:.4f}' for loss in right_losses)}.")

    def task2(fit):
        "a training loop over epochs"
        epochs = 4
        got = as_array(_fit_run(fit, epochs), "your per-epoch losses")
        right = _fit_run(_fit, epochs)
        if got.shape == (4 * epochs,):
            fail(f"you returned {got.size} numbers, one per batch; return one per epoch ({epochs}): the mean "
                 "loss over the epoch's examples.")
        close(got, right, f"your losses for epochs = {epochs}", {
            "the model was left in eval mode (as after an evaluation), so dropout was off: call model.train() "
            "at the start of fit": _fit_run(_fit, epochs, "eval"),
            "one epoch short: `for epoch in range(epochs)` runs exactly `epochs` times":
                _fit_run(_fit, epochs - 1),
            "one epoch too many: `for epoch in range(epochs)` runs exactly `epochs` times":
                _fit_run(_fit, epochs + 1),
            "that is the mean of the batch losses, where the last batch (8 examples) weighs as much as a full "
            "one (16); add loss * len(xb) and divide by the number of examples": _fit_run(_fit, epochs, "batch mean"),
            "that is the sum of the batch losses; average over the epoch's examples":
                _fit_run(_fit, epochs, "sum"),
            "that is the loss of each epoch's last batch; average over all the epoch's examples":
                _fit_run(_fit, epochs, "last"),
        })
        losses = ", ".join(f"{v:.4f}" for v in right)
        return f"{epochs} epochs of 4 batches (16, 16, 16, 8), dropout on: losses {losses}."

    def task3(init_stds):
        "He and Xavier initialisation"
        import torch

        shapes, g = [(32, 2), (64, 128), (10, 300)], np.array([1.0, 5 / 3, 2**0.5])
        fan_out, fan_in = np.array(shapes, dtype=float).T
        pairs = [_pair(call(init_stds, torch.zeros(shape), gain), shape, gain) for shape, gain in zip(shapes, g)]
        he, xavier = zip(*pairs)
        close(he, np.sqrt(2 / fan_in), "your He std for weights of shape (32, 2), (64, 128), (10, 300)", {
            "a Linear weight has shape (fan_out, fan_in): fan_in is weight.shape[1]": np.sqrt(2 / fan_out),
            "the 2 is missing: ReLU zeroes half of its inputs, so He doubles the variance, std = sqrt(2 / fan_in)":
                np.sqrt(1 / fan_in),
            "that is the variance 2 / fan_in; the std is its square root": 2 / fan_in,
            "fan_in is the number of inputs of one unit, weight.shape[1], not the number of weights":
                np.sqrt(2 / (fan_in * fan_out)),
            "He's std has no gain in this task: sqrt(2 / fan_in)": g * np.sqrt(2 / fan_in),
        })
        close(xavier, g * np.sqrt(2 / (fan_in + fan_out)), "your Xavier std for gains 1, 5/3, sqrt(2)", {
            "the 2 is missing: std = gain * sqrt(2 / (fan_in + fan_out))": g * np.sqrt(1 / (fan_in + fan_out)),
            "multiply by the gain": np.sqrt(2 / (fan_in + fan_out)),
            "that is the variance; the std is its square root": g**2 * 2 / (fan_in + fan_out),
            "that is the bound a of the uniform version U(-a, a); the normal one has std a / sqrt(3)":
                g * np.sqrt(6 / (fan_in + fan_out)),
            "that is LeCun's sqrt(1 / fan_in); Xavier averages the two fans: sqrt(2 / (fan_in + fan_out))":
                g * np.sqrt(1 / fan_in),
            "that is He's sqrt(2 / fan_in); Xavier uses both fans: sqrt(2 / (fan_in + fan_out))":
                g * np.sqrt(2 / fan_in),
        })
        torch.manual_seed(0)
        weight = torch.nn.init.kaiming_normal_(torch.empty(256, 512, dtype=torch.float64))
        drawn, yours = weight.std().item(), _pair(call(init_stds, weight), weight.shape, 1.0)[0]
        rms = {}
        for name, std in (("He", _pair(call(init_stds, torch.zeros(256, 256)), (256, 256), 1.0)[0]),
                          ("LeCun", 256**-0.5)):
            torch.manual_seed(0)
            x = torch.randn(256, 256, dtype=torch.float64)
            for _ in range(20):
                x = torch.relu(x @ (std * torch.randn(256, 256, dtype=torch.float64)))
            rms[name] = x.pow(2).mean().sqrt().item()
        return (f"torch's kaiming_normal_ on a 256 x 512 weight drew std {drawn:.4f}, your formula says {yours:.4f}. "
                f"Through 20 ReLU layers of 256 units, inputs of RMS 1 come out with RMS {rms['He']:.2f} with He, "
                f"{rms['LeCun']:.1e} with sqrt(1 / fan_in).")

    def task4(gradient_norms):
        "gradient norms per layer"
        import torch

        from gdlab.nn import make_mlp, spirals

        def network():
            torch.manual_seed(0)
            model = make_mlp([2] + [16] * 6 + [1], "sigmoid").double()
            torch.nn.BCEWithLogitsLoss()(model(X_old), y_old).backward()  # stale gradients, from another batch
            return model

        X, y = spirals(128, seed=2, dtype=torch.float64)
        X_old, y_old = spirals(64, seed=5, dtype=torch.float64)
        loss_fn = torch.nn.BCEWithLogitsLoss()
        got = call(gradient_norms, network(), loss_fn, X, y)
        stale = network()
        loss_fn(stale(X), y).backward()
        model = network()
        model.zero_grad()
        loss_fn(model(X), y).backward()
        linears = _linears(model)
        right = np.array([m.weight.grad.norm().item() for m in linears])
        got = close(got, right, "your norms, input layer first", {
            "gradients accumulated on top of the old ones the model held: call model.zero_grad() first":
                [m.weight.grad.norm().item() for m in _linears(stale)],
            "that lists every parameter, biases included; one norm per Linear layer: its weight gradient":
                [p.grad.norm().item() for p in model.parameters()],
            "the order is reversed: layer 1 is the one next to the input (model.modules() gives them in order)":
                right[::-1],
            "those are squared norms; take the square root (tensor.norm())": right**2,
            "those are the norms of the weights; take the norms of their gradients, weight.grad":
                [m.weight.norm().item() for m in linears],
        })
        return (f"{len(right)} layers; layer 1 gets {right[0] / right[-1]:.1e} of the last layer's gradient: "
                "it vanishes on its way back through 6 sigmoid layers.")

    def task5(fix_init):
        "make a deep tanh network train"
        import torch

        bad = _deep_tanh()
        model = _deep_tanh(fix_init)
        weights = [m.weight for m in _linears(model)]
        if all(torch.equal(w, v) for w, v in zip(weights, (m.weight for m in _linears(bad)))):
            fail("the weights are unchanged: overwrite them in place, for every nn.Linear layer, with "
                 "torch.nn.init (the check ignores what you return).")
        if not all(torch.isfinite(w).all() for w in weights):
            fail("some weights are NaN or inf after your init.")
        hidden = weights[1:-1]
        if all(torch.equal(w, w[:1].expand_as(w)) for w in hidden):
            fail("every unit of a hidden layer starts with the same weights (all zeros or a constant), so they "
                 "all get the same gradient and stay identical: draw random weights to break the symmetry.")
        norms = _grad_norms_at_init(model)
        loss, acc = _train_and_test(model)
        if not np.isfinite(loss):
            fail(f"training diverged (loss {loss}); the weights are far too large.")
        if acc < 0.8:
            first, last = norms[0], norms[-1]
            if first > 10 * last:
                why = (f"the gradients explode: layer 1 gets {first / last:.0e} times the gradient of layer 11; "
                       "try smaller weights")
            elif first < 1e-3:
                why = f"the gradients still vanish: layer 1 gets a gradient of norm {first:.1e}; try larger weights"
            else:
                why = (f"the gradients reach every layer (layer 1: {first:.1e}, layer 11: {last:.1e}) but the "
                       "network learns slowly: the signal still shrinks through the tanh layers, which torch's "
                       "gain for tanh, 5/3, compensates (nn.init.calculate_gain)")
            fail(f"after 30 epochs your network has a test accuracy of {acc:.3f} (0.5 is chance, 0.8 passes): {why}.")
        bad_loss, bad_acc = _train_and_test(bad)
        return (f"test accuracy {acc:.3f} after 30 epochs (loss {loss:.4f}), layer 1 / layer 11 gradient "
                f"{norms[0] / norms[-1]:.2f}; with the tiny weights it was {bad_acc:.3f} (loss {bad_loss:.4f}).")
