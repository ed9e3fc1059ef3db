"""The momentum explorer (chapter 04): heavy ball on an ill-conditioned quadratic, the error along each
eigendirection, the rate theory predicts, and Polyak's best pair."""
import functools
import math

import ipywidgets as W
import numpy as np

from gdlab import functions, optim
from gdlab.descent import heavy_ball_best, heavy_ball_rate, minimize
from gdlab.widgets._explorer import (
    BLUE,
    INK,
    VERMILLION,
    Explorer,
    Frame,
    Line,
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

BOX = ((-3.0, 3.0), (-3.0, 3.0))
ERROR_RANGE = (1e-12, 1e6)


@functools.lru_cache(maxsize=64)
def quadratic(kappa):
    """f(x) = (x1^2 / kappa + x2^2) / 2: eigenvalues 1/kappa (along x1) and 1 (along x2), minimum at 0."""
    return functions.Quadratic(np.diag([1.0 / kappa, 1.0]), name=f"quadratic, condition number {kappa:.0f}")


def momentum_explorer(lr=1.0, momentum=0.0, kappa=100, steps=100, x0=(-2.5, 1.5)):
    """Learning rate and momentum of heavy ball on f(x) = (x1^2 / kappa + x2^2) / 2: the path, the error along
    each eigendirection, the rate theory predicts and the best (lr, momentum) for this kappa. Drag the start onto
    an axis (an eigenvector; it snaps there) and the error along the other direction is zero from the start: it
    vanishes from the right plot."""
    controls = {
        "lr": log_slider("lr", 1e-3, 5, 1.0),
        "momentum": W.FloatSlider(value=0.0, min=0.0, max=0.99, step=0.01, description="momentum"),
        "kappa": log_slider("condition \u03ba", 1, 1000, 100),
        "steps": W.IntSlider(value=100, min=5, max=400, description="steps"),
        "x0": start_slider("start x\u2081"),
        "y0": start_slider("start x\u2082"),
    }
    set_values(controls, lr=lr, momentum=momentum, kappa=kappa, steps=steps)
    for name, value, (low, high) in zip(("x0", "y0"), start_in(x0, BOX), BOX):
        set_range(controls[name], low, high, value)
    panels = {}  # kappa -> the two panels

    def update():
        lr, beta, kappa, steps = (controls[k].value for k in ("lr", "momentum", "kappa", "steps"))
        q = quadratic(kappa)
        if kappa not in panels:
            panels[kappa] = (
                Panel(f"Heavy ball, condition number \u03ba = {kappa:.0f}", "x\u2081 (eigenvalue 1/\u03ba: slow)",
                      "x\u2082 (eigenvalue 1: fast)", landscape=landscape(q, BOX), drag="xy",
                      guides=((0.0,), (0.0,), "eigenvectors (the start snaps on)")),
                Panel("Error along each eigendirection", "step k", "|error component|", ylog=True,
                      legend="lower left"))
        start = np.array([controls["x0"].value, controls["y0"].value])
        trace = minimize(q, q.grad, start, optim.SGD(lr=lr, momentum=beta), steps=steps, tol=None)
        rate = max(heavy_ball_rate(lr, beta, eigenvalue) for eigenvalue in q.eigenvalues)
        k = np.arange(len(trace.xs), dtype=float)
        with np.errstate(over="ignore"):
            theory = np.abs(start).max() * rate**k
        frames = [Frame(*BOX, [path_line("path", trace.xs, VERMILLION, dots=True, width=1.2)], start=tuple(start)),
                  Frame((0, steps), ERROR_RANGE, [
                      curve("|x\u2081|: slow direction", np.abs(trace.xs[:, 0]), BLUE, width=2),
                      curve("|x\u2082|: fast direction", np.abs(trace.xs[:, 1]), VERMILLION, width=2),
                      Line("theory: rate\u1d4f", k, theory, INK, width=1, dash=(6, 4), time_is_x=True)])]
        message = f"rate {rate:.4f} per step: the error shrinks by this factor each step"
        if rate >= 1:
            message = f"rate {rate:.4f} per step (\u2265 1): the error does not shrink"
        best_lr, best_momentum = heavy_ball_best(q.L, q.mu)
        message += (f"\nbest for \u03ba = {kappa:.0f}: lr {best_lr:.3f}, momentum {best_momentum:.3f} "
                    f"\u2192 rate {math.sqrt(best_momentum):.4f}")
        if trace.status == "diverged":
            message = f"diverged at step {trace.steps}: try a smaller learning rate or momentum\n" + message
        vanished = [name for name, value in zip(("x\u2082", "x\u2081"), start[::-1]) if value == 0]
        if vanished:
            message += f"\nthe start is on an eigenvector: {vanished[0]} is 0 and stays 0"
        return View(panels[kappa], frames, message, "bad" if rate >= 1 else "good", duration=steps)

    return Explorer(controls, update, rows=[["lr", "momentum"], ["kappa", "steps"], ["x0", "y0"]], start=("x0", "y0"))
