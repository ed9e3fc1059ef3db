"""The schedule explorer (chapter 06): a learning-rate schedule, and the training it gives against a constant lr."""
import ipywidgets as W
import numpy as np

from gdlab import data, optim
from gdlab.descent import minibatch_descent
from gdlab.models import LinearRegressionObjective
from gdlab.optim.lr_scheduler import SCHEDULES, make_scheduler
from gdlab.widgets._explorer import BLUE, GREY, Explorer, Frame, Line, Panel, View, curve, log_slider, set_values

BATCH_SIZE = 20


def schedule_explorer(schedule="cosine", lr=0.1, epochs=40, gamma=0.5, step_size=10, warmup=5):
    """A learning-rate schedule (gdlab.optim.lr_scheduler.make_scheduler) for mini-batch SGD on a linear
    regression (200 rows, one feature, batches of 20): the lr of each epoch, and the loss after it against
    a constant lr at the same peak."""
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    objective = LinearRegressionObjective(dataset.X, dataset.y)
    controls = {
        "schedule": W.Dropdown(options=list(SCHEDULES), value="cosine", description="schedule"),
        "lr": log_slider("lr (peak)", 1e-3, 1, 0.1),
        "epochs": W.IntSlider(value=40, min=5, max=60, description="epochs"),
        "gamma": W.FloatSlider(value=0.5, min=0.05, max=0.99, step=0.01, description="gamma"),
        "step_size": W.IntSlider(value=10, min=1, max=50, description="step_size"),
        "warmup": W.IntSlider(value=5, min=1, max=30, description="warm-up epochs"),
    }
    set_values(controls, schedule=schedule, lr=lr, epochs=epochs, gamma=gamma, step_size=step_size, warmup=warmup)
    per_epoch = -(-len(dataset.y) // BATCH_SIZE)
    start_gap = objective(np.zeros(2)) - objective.f_min
    panels = (Panel("The schedule", "epoch", "learning rate / peak lr", legend=None),
              Panel("Training loss after each epoch", "epoch", "MSE \u2212 least-squares MSE", ylog=True))
    constant_runs = {}  # lr -> Trace at that constant lr, for the most epochs asked: shorter runs are its prefixes
    runs = {}  # (schedule, lr, epochs, the settings it uses) -> Trace: a setting it ignores (gamma for cosine, ...)
    #            changes nothing

    def run(lr, epochs, name=None, **settings):
        """Mini-batch SGD for `epochs` epochs from the peak `lr`, with the schedule `name` (None: constant lr)."""
        optimizer = optim.SGD(lr=lr)
        scheduler = None if name is None else make_scheduler(name, optimizer, epochs, **settings)
        return minibatch_descent(dataset.X, dataset.y, optimizer, BATCH_SIZE, epochs, scheduler=scheduler)

    def update():
        name, lr, epochs = controls["schedule"].value, controls["lr"].value, controls["epochs"].value
        for setting in ("gamma", "step_size", "warmup"):
            controls[setting].disabled = setting not in SCHEDULES[name]
        settings = {k: controls[k].value for k in SCHEDULES[name]}
        optimizer = optim.SGD(lr=lr)
        scheduler, lrs = make_scheduler(name, optimizer, epochs, **settings), []
        for _ in range(epochs):  # the lr of each epoch does not depend on the training
            lrs.append(optimizer.lr)
            scheduler.step()
        key, updates = (name, lr, epochs, *settings.values()), epochs * per_epoch
        if key not in runs:
            if len(runs) > 256:  # keep memory bounded over a long session
                runs.clear()
            runs[key] = run(lr, epochs, name, **settings)
        ours = runs[key]
        constant = constant_runs.get(lr)
        if constant is None or (constant.status == "max_steps" and constant.steps < updates):  # too short
            constant_runs[lr] = constant = run(lr, epochs if constant is None else controls["epochs"].max)
        constant_diverged = constant.status == "diverged" and constant.steps <= updates
        losses, constant_losses = ours.losses[::per_epoch], constant.losses[: updates + 1][::per_epoch]
        frames = [Frame((-0.5, epochs - 0.5), (0, 1.1), [Line("lr", np.arange(epochs, dtype=float),
                                                                np.array(lrs) / lr, BLUE, dots=True)]),
                  Frame((0, epochs), (1e-6, 10 * start_gap), [
                      curve("constant lr", constant_losses, GREY, objective.f_min, dash=(6, 4)),
                      curve(f"{name}", losses, BLUE, objective.f_min, width=2)])]
        if ours.status == "diverged":
            return View(panels, frames, f"{name}: diverged in epoch {(ours.steps - 1) // per_epoch + 1}: "
                        "try a smaller lr", "bad", duration=epochs, time_label="epoch")
        gap, constant_gap = ours.losses[-1] - objective.f_min, constant_losses[-1] - objective.f_min
        versus = "constant lr diverged" if constant_diverged else f"constant lr: {constant_gap:.2e}"
        return View(panels, frames, f"{name}, peak lr {lr:.3f}: final gap {gap:.2e}\n{versus}",
                    "good" if constant_diverged or gap <= constant_gap else "neutral", duration=epochs,
                    time_label="epoch")

    return Explorer(controls, update)
