"""The mini-batch explorer (chapter 03): mini-batch SGD on a linear regression, its path and its noise."""
import itertools

import ipywidgets as W
import numpy as np

from gdlab import data, optim
from gdlab.descent import minibatch_descent
from gdlab.models import LinearRegressionObjective
from gdlab.widgets._explorer import (
    VERMILLION,
    Explorer,
    Frame,
    Panel,
    View,
    curve,
    landscape,
    log_slider,
    path_line,
    set_range,
    set_values,
    start_in,
    start_slider,
)


def minibatch_explorer(batch_size=10, lr=0.05, epochs=10, seed=0, x0=(0.0, 0.0)):
    """Batch size, learning rate and epochs of mini-batch SGD on a linear regression (200 rows, one feature):
    the parameters (w, b) after every update on the contour of the full loss, and that loss per update.
    x0: the start (w, b), also set by dragging it on the plot."""
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    objective = LinearRegressionObjective(dataset.X, dataset.y)
    controls = {
        "batch_size": W.SelectionSlider(options=[1, 2, 5, 10, 20, 50, 100, 200], value=10, description="batch size"),
        "lr": log_slider("lr", 1e-3, 1, 0.05),
        "epochs": W.IntSlider(value=10, min=1, max=30, description="epochs"),
        "seed": W.IntSlider(value=0, min=0, max=9, description="shuffle seed"),
        "x0": start_slider("start w"),
        "y0": start_slider("start b"),
    }
    set_values(controls, batch_size=batch_size, lr=lr, epochs=epochs, seed=seed)
    corners = np.array([np.zeros(2), objective.minima[0]])
    box = tuple((float(low) - 0.7, float(high) + 0.7) for low, high in zip(corners.min(axis=0), corners.max(axis=0)))
    for name, value, (low, high) in zip(("x0", "y0"), start_in(x0, box), box):
        set_range(controls[name], low, high, value)
    corner_gap = max(objective(np.array(corner)) for corner in itertools.product(*box)) - objective.f_min
    panels = (Panel("(w, b) after each update", "weight w", "bias b", landscape=landscape(objective, box), drag="xy"),
              Panel("Loss after each update", "epoch", "MSE on all the data \u2212 least-squares MSE", ylog=True,
                    legend=None))
    runs = {}  # (batch size, lr, seed, start) -> Trace of the longest run so far: a run of fewer epochs is its prefix

    def run(batch_size, lr, epochs, seed, start):
        """A run of at least `epochs` epochs; one that must grow runs to the slider's maximum, so that moving
        `epochs` afterwards only takes a prefix of it."""
        key = (batch_size, lr, seed, start)
        trace = runs.get(key)
        per_epoch = -(-len(dataset.y) // batch_size)
        if trace is None or (trace.status == "max_steps" and trace.steps < epochs * per_epoch):
            if len(runs) > 64:  # keep memory bounded over a long session
                runs.clear()
            longest = epochs if trace is None else controls["epochs"].max
            runs[key] = trace = minibatch_descent(dataset.X, dataset.y, optim.SGD(lr=lr), batch_size, longest, seed,
                                                  x0=start)
        return trace

    def update():
        batch_size, lr, epochs, seed = (controls[k].value for k in ("batch_size", "lr", "epochs", "seed"))
        start = (controls["x0"].value, controls["y0"].value)
        trace = run(batch_size, lr, epochs, seed, start)
        per_epoch = -(-len(dataset.y) // batch_size)
        updates = min(trace.steps, epochs * per_epoch)
        thetas, losses = trace.xs[: updates + 1], trace.losses[: updates + 1]
        frames = [Frame(*box, [path_line("path", thetas, VERMILLION, width=1, dt=1 / per_epoch)], start=start),
                  Frame((0, epochs), (1e-7, 10 * corner_gap), [
                      curve("gap", losses, VERMILLION, objective.f_min, x=np.arange(updates + 1) / per_epoch,
                            width=1.2)])]
        if trace.status == "diverged" and trace.steps <= epochs * per_epoch:
            status = (f"diverged at update {trace.steps} (epoch {(trace.steps - 1) // per_epoch + 1}): "
                      "try a smaller learning rate or a larger batch")
            return View(panels, frames, status, "bad", duration=epochs, time_label="epoch")
        last_epoch = losses[-per_epoch:] - objective.f_min
        status = (f"{updates} updates of {batch_size} samples\n"
                  f"last epoch: gap between {last_epoch.min():.1e} and {last_epoch.max():.1e}")
        return View(panels, frames, status, duration=epochs, time_label="epoch")

    return Explorer(controls, update, rows=[["batch_size", "lr"], ["epochs", "seed"], ["x0", "y0"]], start=("x0", "y0"))
