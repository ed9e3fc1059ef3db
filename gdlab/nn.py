"""PyTorch pieces for chapters 10 to 12: a non-linear dataset, an MLP builder, the training loop.

Imported on first use (`gdlab.nn`), so `import gdlab` stays free of torch.
"""
from itertools import pairwise

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from gdlab._validate import count, non_negative, one_of, positive

__all__ = ["accuracy", "layer_grad_norms", "make_mlp", "spirals", "train", "train_epoch"]

ACTIVATIONS = {"tanh": nn.Tanh, "relu": nn.ReLU, "sigmoid": nn.Sigmoid}
INITS = ("default", "xavier", "he")


def spirals(n=400, noise=0.15, turns=1.5, seed=0, dtype=torch.float32):
    """Two interleaved spirals: inputs X of shape (n, 2) and labels y of shape (n, 1), 0. or 1.

    Each point draws a radius r uniform in [0.2, 2] and sits at angle pi*turns*r + pi*label, plus
    Gaussian noise of standard deviation `noise` on each coordinate (inputs have std about 0.9).
    The labels are balanced (n // 2 ones) and in random order. Made with NumPy's generator seeded
    by `seed`, returned as tensors of `dtype`; y has the model output's shape, as BCEWithLogitsLoss
    wants.
    """
    n = count(n, "n", minimum=2)
    noise, turns = non_negative(noise, "noise"), positive(turns, "turns")
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 2)
    r = rng.uniform(0.2, 2.0, n)
    angle = np.pi * turns * r + np.pi * labels
    X = np.stack([r * np.cos(angle), r * np.sin(angle)], axis=1) + rng.normal(0.0, noise, (n, 2))
    return torch.from_numpy(X).to(dtype), torch.from_numpy(labels[:, None]).to(dtype)


def make_mlp(sizes, activation="tanh", init="default"):
    """Linear layers of widths `sizes` (input first, output last) with `activation` between them.

    init="default" keeps PyTorch's weights, uniform with variance 1 / (3 fan_in). "xavier" draws them
    normal with variance gain**2 * 2 / (fan_in + fan_out) (Glorot & Bengio, 2010), with torch's gain
    for the activation (5/3 for tanh, 1 for sigmoid, sqrt(2) for relu); "he" normal with variance
    2 / fan_in (He et al., 2015). Both set the biases to zero. Uses torch's global generator: call
    torch.manual_seed first for a reproducible model.
    """
    sizes = [count(size, f"sizes[{i}]", minimum=1) for i, size in enumerate(sizes)]
    if len(sizes) < 2:
        raise ValueError(f"sizes must list at least an input and an output width, got {sizes}")
    one_of(activation, "activation", tuple(ACTIVATIONS))
    one_of(init, "init", INITS)
    layers = []
    for fan_in, fan_out in pairwise(sizes):
        linear = nn.Linear(fan_in, fan_out)
        if init == "xavier":
            nn.init.xavier_normal_(linear.weight, gain=nn.init.calculate_gain(activation))
        elif init == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
        if init != "default":
            nn.init.zeros_(linear.bias)
        layers += [linear, ACTIVATIONS[activation]()]
    return nn.Sequential(*layers[:-1])


def train_epoch(model, loader, loss_fn, optimizer, max_grad_norm=None):
    """One pass over `loader`, one optimizer step per batch; returns the mean loss over the examples."""
    model.train()
    total, seen = 0.0, 0
    for xb, yb in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        if max_grad_norm is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
        optimizer.step()
        total += loss.item() * len(xb)
        seen += len(xb)
    return total / seen


def train(model, loader, loss_fn, optimizer, epochs, scheduler=None, max_grad_norm=None, progress=False):
    """`epochs` calls of train_epoch, stepping `scheduler` after each; returns the loss per epoch.

    progress=True shows a tqdm progress bar with the latest epoch's loss.
    """
    bar = tqdm(range(count(epochs, "epochs", minimum=1)), desc="training", unit="epoch", disable=not progress)
    losses = []
    for _ in bar:
        losses.append(train_epoch(model, loader, loss_fn, optimizer, max_grad_norm))
        if scheduler is not None:
            scheduler.step()
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
    return losses


@torch.no_grad()
def accuracy(model, X, y):
    """Fraction of examples classified right: logit > 0 for a single output, else the arg max.

    Evaluates as any evaluation should: under torch.no_grad() and in eval mode (dropout off, batch norm
    on its running statistics), then puts every submodule back in the mode it found. Labels y: shape
    (n, 1) or (n,), 0/1 for a single logit, class indices for class scores. Counts on X's device and
    divides on the CPU, so no float64 tensor is made on the device (Apple's MPS has none).
    """
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        logits = model(X)
    finally:
        for module, training in modes:
            module.training = training
    n = len(logits)
    if tuple(y.shape) not in ((n,), (n, 1)):
        raise ValueError(f"y must hold one label per example, shape ({n},) or ({n}, 1), got shape {tuple(y.shape)}")
    labels = y.reshape(n)
    predicted = logits.reshape(n) > 0 if logits.ndim == 1 or logits.shape[1] == 1 else logits.argmax(dim=1)
    return (predicted.to(labels.dtype) == labels).sum().item() / n


def layer_grad_norms(model):
    """Euclidean norm of each Linear layer's weight gradient, input layer first (after backward)."""
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    if not linears or any(m.weight.grad is None for m in linears):
        raise ValueError("model has Linear layers without a gradient: call loss.backward() first")
    return [m.weight.grad.norm().item() for m in linears]
