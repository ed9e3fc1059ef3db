"""The learning-rate explorer (chapter 02): gradient descent's path from a start you can drag, and its loss."""
import ipywidgets as W
import numpy as np

from gdlab import functions
from gdlab.descent import gradient_descent
from gdlab.widgets._explorer import (
    GREY,
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
    pick_objective,
    set_range,
    set_values,
    start_slider,
)

OBJECTIVES = {  # menu label -> (objective, usual start)
    "1-D: f(x) = x²": (functions.Quadratic([[2.0]], name="f(x) = x²"), (2.5,)),
    "2-D: elongated quadratic (k = 10)": (functions.Quadratic(np.diag([1.0, 10.0]), name="elongated quadratic"),
                                          (-2.5, 1.5)),
    "2-D: Rosenbrock": (functions.rosenbrock, (-1.5, 2.0)),
    "2-D: Himmelblau": (functions.himmelblau, (0.0, 0.0)),
}
LOSS_FLOOR = 1e-12  # the lowest f - f* the loss axis shows


def lr_explorer(objective="1-D: f(x) = x²", x0=None, lr=0.1, steps=40):
    """Learning rate vs. what gradient descent does: too small, right, too large, divergent.

    objective: a menu entry, the name of one ("himmelblau"), or any 1-D or 2-D gdlab Objective with known
    minima (it joins the menu); x0: the start point (default: the objective's usual one), also set by dragging
    it on the plot:
        lr_explorer(objective="himmelblau", lr=0.01)   # drag the start across the four basins
    """
    menu, label = pick_objective(OBJECTIVES, objective, x0, dims=(1, 2))
    controls = {
        "objective": W.Dropdown(options=list(menu), value=label, description="objective"),
        "lr": log_slider("lr", 1e-4, 10, 0.1),
        "steps": W.IntSlider(value=40, min=1, max=300, description="steps"),
        "x0": start_slider("start x\u2081"),
        "y0": start_slider("start x\u2082"),
    }
    set_values(controls, lr=lr, steps=steps)
    shown = {}  # the objective drawn now, and what does not change with the other controls

    def show_objective(f, start):
        box = f.domain[: f.dim]
        for name, value, (low, high) in zip(("x0", "y0"), start, box):
            set_range(controls[name], low, high, value)
        controls["y0"].disabled = f.dim == 1
        if f.dim == 1:
            xs = np.linspace(*box[0], 301)
            values = f(xs[None, :])
            top = float(values.max())
            shown["curve"] = Line("f(x)", xs, values, GREY, width=1.2, legend=False)
            shown["path_box"] = (box[0], (min(0.0, float(values.min())) - 0.05 * top, 1.1 * top))
            path_panel = Panel(f"{f.name}: gradient descent", "x", "f(x)", drag="x", legend="upper center")
        else:
            corners = np.array(np.meshgrid(*box)).reshape(2, -1)
            top = float(f(corners).max())
            shown["curve"], shown["path_box"] = None, tuple(box)
            path_panel = Panel(f"{f.name}: gradient descent", "x\u2081", "x\u2082", landscape=landscape(f, tuple(box)),
                               drag="xy", legend="upper center")  # the corners hold Himmelblau's minima
        loss_panel = Panel("Loss per step", "step", "f(x) \u2212 f*", ylog=True, legend=None)
        loss_top = 10 ** np.ceil(np.log10(max(top - f.f_min, 1.0)) + 1)
        shown.update(objective=f, panels=(path_panel, loss_panel), loss_range=(LOSS_FLOOR, loss_top))

    def update():
        f, start = menu[controls["objective"].value]
        if shown.get("objective") is not f:
            show_objective(f, start)
        lr, steps = controls["lr"].value, controls["steps"].value
        x0 = np.array([controls["x0"].value, controls["y0"].value][: f.dim])
        trace = gradient_descent(f, f.grad, x0, lr=lr, steps=steps, tol=1e-10)
        if f.dim == 1:
            path = Line("path", trace.xs[:, 0], trace.losses, VERMILLION, dots=True)
            start_point = (x0[0], trace.losses[0])
        else:
            path, start_point = path_line("path", trace.xs, VERMILLION, dots=True), tuple(x0)
        frames = [Frame(*shown["path_box"], [line for line in (shown["curve"], path) if line], start=start_point),
                  Frame((0, steps), shown["loss_range"], [curve("f(x) \u2212 f*", trace.losses, VERMILLION, f.f_min)])]
        status, tone = describe(trace, f, lr)
        return View(shown["panels"], frames, status, tone, duration=steps)

    return Explorer(controls, update, rows=[["objective", "lr", "steps"], ["x0", "y0"]], start=("x0", "y0"))


def describe(trace, f, lr):
    """The status line: how the run ended (from Trace.status), and lr x L on a quadratic."""
    gap = trace.losses - f.f_min
    if trace.status == "diverged":
        message, tone = f"diverged at step {trace.steps}: try a smaller learning rate", "bad"
    elif trace.status == "converged":
        message, tone = f"converged in {trace.steps} steps (|gradient| below 1e-10)", "good"
    elif gap[-1] > gap[0]:
        message, tone = (f"after {trace.steps} steps f \u2212 f* grew from {gap[0]:.3g} to {gap[-1]:.3g}: "
                         "the steps overshoot; try a smaller learning rate"), "bad"
    else:
        message, tone = f"after {trace.steps} steps: f \u2212 f* = {gap[-1]:.2e}", "neutral"
    if isinstance(f, functions.Quadratic):
        message += f"\nlr \u00d7 L = {lr * f.L:.3g} (stable below 2)"
    return message, tone
