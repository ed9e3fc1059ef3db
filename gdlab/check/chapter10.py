"""Checks for exercises/10_pytorch_training_loop.ipynb.

Every check runs on the CPU in float64 with seeded generators, so its line is the same on any machine.
"""

import numpy as np

from gdlab.check.core import Chapter, Failed, as_array, call, close, fail, hint_on, number, show


def _regression(n, seed=0):
    """A small non-linear regression: X (n, 3), y = sin(x1) + x2 x3 + noise, shape (n, 1), float64."""
    import torch

    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.sin(X[:, :1]) + X[:, 1:2] * X[:, 2:3] + 0.1 * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return X, y


def _step(model, optimizer, xb, yb, mistake=None):
    """The right training step, or one with a known `mistake`; returns the loss."""
    import torch

    if mistake != "no zero_grad":
        optimizer.zero_grad()
    output = model(xb)
    difference = output[:, 0] - yb if mistake == "broadcast" else output - yb  # (batch,) - (batch, 1): (batch, batch)
    errors = difference.abs() if mistake == "abs" else difference**2
    loss = errors.sum() if mistake == "sum" else errors.mean()
    loss = {"root": loss.sqrt(), "half": loss / 2}.get(mistake, loss)
    loss.backward(retain_graph=mistake == "twice")
    if mistake == "twice":
        loss.backward()
    if mistake == "by hand":
        with torch.no_grad():
            for p in model.parameters():
                p -= optimizer.param_groups[0]["lr"] * p.grad
    else:
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
    try:
        losses = [call(step, model, optimizer, xb, yb, **kwargs) for xb, yb in batches]
    except Failed as failure:
        hint_on(failure, {
            "does not require grad": "the loss has no graph to differentiate: was the forward pass run under "
                                     "torch.no_grad()? Compute the loss with gradients on",
            "leaf Variable that requires grad is being used in an in-place operation":
                "an update by hand must not be recorded: optimizer.step() does it for you (under no_grad)",
        })
    return losses, before, _flat(model)


def _losses_after_each_step(batches):
    """The right steps, but each returning the batch's loss measured after its update."""
    import torch

    def step_then_measure(model, optimizer, xb, yb):
        _step(model, optimizer, xb, yb)
        with torch.no_grad():
            return ((model(xb) - yb) ** 2).mean().item()

    return _stepped(step_then_measure, batches)[0]


def _dropout_model():
    """A small regression network with a dropout layer, in eval mode (as after an evaluation).

    Its dropout draws the mask with torch.rand: nn.Dropout's masks for a given seed can differ from one
    CPU to another, and the check's numbers must not.
    """
    import torch
    from torch import nn

    class Dropout(nn.Module):
        def __init__(self, p):
            super().__init__()
            self.p = p

        def forward(self, x):
            if not self.training:
                return x
            return x * (torch.rand(x.shape, dtype=x.dtype) >= self.p) / (1 - self.p)

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 16), nn.Tanh(), Dropout(0.25), nn.Linear(16, 1)).double()
    return model.eval()


def _validation_loss(model, X, y, eval_mode=True):
    import torch

    if eval_mode:
        model.eval()
    with torch.no_grad():
        return ((model(X) - y) ** 2).mean().item()


def _fit(model, loader, optimizer, epochs, X_val, y_val, mistake=None):
    """The right epoch loop, or one with a known `mistake`: (training losses, validation losses), one per epoch."""
    if mistake == "train once":
        model.train()
    train_losses, val_losses = [], []
    for _ in range(epochs):
        if mistake == "validate first":
            val_losses.append(_validation_loss(model, X_val, y_val))
        if mistake not in ("never train", "train once", "train at the end"):
            model.train()
        total, seen, batch_losses = 0.0, 0, []
        for xb, yb in loader:
            loss = _step(model, optimizer, xb, yb)
            total, seen = total + loss * len(xb), seen + len(xb)
            batch_losses.append(loss)
        train_losses.append({"batch mean": np.mean(batch_losses), "sum": sum(batch_losses),
                             "last": batch_losses[-1], "full batches": total / (len(loader) * loader.batch_size),
                             "per batch": total / len(loader)}.get(mistake, total / seen))
        if mistake != "validate first":
            val_losses.append(_validation_loss(model, X_val, y_val, eval_mode=mistake != "no eval"))
        if mistake == "train at the end":
            model.train()
    return train_losses, val_losses


def _fit_run(fit, epochs, *mistake):
    """`fit` (the learner's, or _fit with a `mistake`) on a fresh model in eval mode: what it returns."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    model = _dropout_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loader = DataLoader(TensorDataset(*_regression(56, seed=1)), batch_size=16, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    X_val, y_val = _regression(24, seed=2)
    torch.manual_seed(1)  # dropout draws from the global generator
    return call(fit, model, loader, optimizer, epochs, X_val, y_val, *mistake)


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
        if any(callable(loss) for loss in losses):
            fail("training_step returned loss.item, the method itself: call it, loss.item() (with the parentheses), "
                 "to get the number.")
        tensors = [loss for loss in losses if isinstance(loss, torch.Tensor)]
        if any(loss.requires_grad for loss in tensors):
            fail("you returned the loss tensor; return loss.item(), a Python float: the tensor holds on to the "
                 "batch's whole graph (and its memory) for as long as it is kept.")
        if tensors:
            fail("you returned a tensor (detached); this task asks for loss.item(), a Python float. (On a GPU, "
                 ".item() waits for the device at every step; keeping detached losses and reading them later "
                 "avoids that wait: chapter 11.)")
        right_losses, _, right = _stepped(_step, batches)
        if torch.equal(after, before):
            fail("the parameters did not move: optimizer.step() found no gradients. The order is zero_grad(), "
                 "forward, loss, backward(), step(): step() after backward(), and zero_grad() before "
                 "backward(), never between backward() and step().")
        close(after, right, "the parameters after 3 steps (SGD, momentum 0.9)", {
            "gradients accumulated from one call to the next: call optimizer.zero_grad() before loss.backward()":
                _stepped(_step, batches, mistake="no zero_grad")[2],
            "the loss is summed over the batch, not averaged: each step is 8 times (the batch size) too "
            "large; take the mean": _stepped(_step, batches, mistake="sum")[2],
            "the output has shape (batch,) and the target (batch, 1) (or the reverse), so their difference "
            "broadcast to a (batch, batch) matrix: keep both (batch, 1), as model(xb) and yb come":
                _stepped(_step, batches, mistake="broadcast")[2],
            "that is the mean absolute error; the task's loss is the mean squared error":
                _stepped(_step, batches, mistake="abs")[2],
            "you updated the parameters by hand, a plain SGD step; optimizer.step() applies the optimizer's own "
            "rule (here with momentum 0.9)": _stepped(_step, batches, mistake="by hand")[2],
            "that is the root of the mean squared error; the task's loss is the mean squared error itself":
                _stepped(_step, batches, mistake="root")[2],
            "that is half the mean squared error; the task's loss has no ½":
                _stepped(_step, batches, mistake="half")[2],
            "backward() ran twice on the same loss, so the gradients doubled: call it once per step":
                _stepped(_step, batches, mistake="twice")[2],
        })
        close(losses, right_losses, "the losses you returned", {
            "those are the losses after the step; return the loss the step was computed from, the one you called "
            "backward() on": _losses_after_each_step(batches),
        })
        return (f"3 steps match torch's reference; the batch losses were "
                f"{', '.join(f'{loss:.4f}' for loss in right_losses)}.")

    def task2(fit):
        "a training loop with validation"
        import torch

        epochs = 4
        got = _fit_run(fit, epochs)
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            fail(f"return two lists, each with one number per epoch ({epochs}): (training losses, validation losses).")
        if any(isinstance(v, torch.Tensor) and v.requires_grad for part in got for v in part):
            fail("your losses are tensors that carry a graph: compute the validation loss under torch.no_grad(), "
                 "and return Python floats (loss.item()).")
        train, val = as_array(got[0], "your training losses"), as_array(got[1], "your validation losses")
        if train.shape == (4 * epochs,):
            fail(f"you returned {train.size} training losses, one per batch; return one per epoch ({epochs}): the "
                 "mean loss over the epoch's examples.")
        for count, hint in ((epochs - 1, "one epoch short"), (epochs + 1, "one epoch too many")):
            if train.shape == (count,):
                fail(f"{hint}: `for epoch in range(epochs)` runs exactly `epochs` times.")
        if val.shape != (epochs,):
            fail(f"your validation losses have shape {val.shape}: one per epoch ({epochs}), measured on (X_val, "
                 "y_val) after the epoch's training.")

        def run(*mistake):
            return np.concatenate(_fit_run(_fit, epochs, *mistake))

        right = run()
        close(np.concatenate([train, val]), right, f"your (training losses, validation losses) for epochs = {epochs}", {
            "the model trained in evaluation mode, so dropout was off (it arrived in evaluation mode, as after an "
            "evaluation): call model.train() at the start of every epoch": run("never train"),
            "only the first epoch trained with dropout on: model.eval() for the validation loss stays in force "
            "until you switch back, so call model.train() at the start of every epoch, not once before the loop":
                run("train once"),
            "the validation loss was measured in training mode, with dropout on: call model.eval() before "
            "measuring it (and model.train() at the start of the next epoch)": run("no eval"),
            "you measured the validation loss before the epoch's training; measure it after, so that it describes "
            "the model the epoch produced": run("validate first"),
            "the training loss is the mean of the batch losses, where the last batch (8 examples) weighs as much "
            "as a full one (16); add loss * len(xb) and divide by the number of examples": run("batch mean"),
            "the training loss is the sum of the batch losses; average over the epoch's examples": run("sum"),
            "the training loss is that of each epoch's last batch; average over all the epoch's examples":
                run("last"),
            "the first epoch trained in evaluation mode, dropout off (the model arrived in evaluation mode): call "
            "model.train() at the start of every epoch, not at its end": run("train at the end"),
            "you divided by len(loader) * batch_size = 4 * 16 = 64, but the last batch holds only 8 examples: "
            "divide by the number of examples seen, 56": run("full batches"),
            "you divided the sum of loss * len(xb) by the number of batches; divide by the number of examples":
                run("per batch"),
        })
        return (f"{epochs} epochs of 4 batches (16, 16, 16, 8), dropout on for training and off for validation: "
                f"training losses {', '.join(f'{v:.4f}' for v in right[:epochs])}; validation losses "
                f"{', '.join(f'{v:.4f}' for v in right[epochs:])}.")

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
            "that is Xavier's std: the pair is (He, Xavier), in this order": g * np.sqrt(2 / (fan_in + fan_out)),
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
            "multiply by the gain, not by its square (the variance has gain², the std gain)":
                g**2 * np.sqrt(2 / (fan_in + fan_out)),
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
        try:
            got = call(gradient_norms, network(), loss_fn, X, y)
        except Failed as failure:
            none_grad = ("a weight's .grad is None: call loss.backward() before reading the gradients, and "
                         "model.zero_grad() before backward(), not after (it sets them to None)")
            hint_on(failure, {"'NoneType' object has no attribute": none_grad, "not NoneType": none_grad})
        stale = network()
        loss_fn(stale(X), y).backward()
        model = network()
        model.zero_grad()
        loss_fn(model(X), y).backward()
        linears = _linears(model)
        right = np.array([m.weight.grad.norm().item() for m in linears])
        held = network()  # the model as the function got it: its gradients are those of the old batch
        got = close(got, right, "your norms, input layer first", {
            "gradients accumulated on top of the old ones the model held: call model.zero_grad() first":
                [m.weight.grad.norm().item() for m in _linears(stale)],
            "those are the gradients the model already held, from an earlier batch: compute the loss of (X, y) and "
            "call backward() on it (after model.zero_grad())": [m.weight.grad.norm().item() for m in _linears(held)],
            "those are the mean absolute entries of the gradients; take the Euclidean norm, weight.grad.norm()":
                [m.weight.grad.abs().mean().item() for m in linears],
            "that lists every parameter, biases included; one norm per Linear layer: its weight gradient":
                [p.grad.norm().item() for p in model.parameters()],
            "the order is reversed: layer 1 is the one next to the input (model.modules() gives them in order)":
                right[::-1],
            "those are squared norms; take the square root (tensor.norm())": right**2,
            "those are the norms of the weights; take the norms of their gradients, weight.grad":
                [m.weight.norm().item() for m in linears],
        }, rtol=1e-6, atol=0)
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
        bad_acc = _train_and_test(bad)[1]
        return (f"your network learns: test accuracy above 0.8 after 30 epochs (its exact value differs from one "
                f"machine to another: deep training is chaotic), with a layer 1 / layer 11 gradient ratio of "
                f"{norms[0] / norms[-1]:.2f} at initialisation; the network with the tiny weights reached a test "
                f"accuracy of {bad_acc:.3f}.")
