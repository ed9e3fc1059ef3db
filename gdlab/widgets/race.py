"""The optimizer race (chapter 05): up to four optimizers from one start you can drag, on a chosen objective."""
import inspect

import ipywidgets as W
import numpy as np

from gdlab import functions, optim
from gdlab.descent import minimize
from gdlab.widgets._explorer import (
    BLUE,
    GREEN,
    PURPLE,
    VERMILLION,
    Explorer,
    Frame,
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
    "Rosenbrock": (functions.rosenbrock, (-1.5, 2.0)),
    "Beale": (functions.beale, (-3.0, -3.0)),
    "Himmelblau": (functions.himmelblau, (0.0, 0.0)),
    "Booth": (functions.booth, (-8.0, 8.0)),
    "elongated quadratic (k = 50)": (functions.Quadratic(np.diag([1.0, 50.0]), name="elongated quadratic"),
                                     (-2.5, 1.5)),
    "Rastrigin": (functions.rastrigin, (3.3, -2.4)),
}
NONE = "(none)"
# Each lane's menu: every gdlab optimizer, and SGD's two momentum forms; beta is the momentum or Adam's beta1.
RACERS = [NONE, "SGD", "SGD + momentum", "Nesterov", *[name for name in optim.OPTIMIZERS if name != "SGD"]]
LANES = [("SGD", 1.5e-3, 0.0), ("SGD + momentum", 1e-3, 0.9), ("Adam", 0.1, 0.9), (NONE, 0.01, 0.9)]
COLOURS = [VERMILLION, BLUE, GREEN, PURPLE]
LOSS_RANGE = (1e-10, 1e6)
SOLVED = 1e-6  # f - f* below which chapter 05's race calls a run solved


def racer(name, lr, beta):
    """The optimizer of a lane's menu entry."""
    if name in ("SGD + momentum", "Nesterov"):
        return optim.SGD(lr=lr, momentum=beta, nesterov=name == "Nesterov" and beta > 0)
    parameters = inspect.signature(optim.OPTIMIZERS[name]).parameters
    if "betas" in parameters:
        return optim.OPTIMIZERS[name](lr=lr, betas=(beta, 0.999))
    if "momentum" in parameters and name != "SGD":
        return optim.OPTIMIZERS[name](lr=lr, momentum=beta)
    return optim.OPTIMIZERS[name](lr=lr)


USES_BETA = {"SGD + momentum", "Nesterov"} | {
    name for name, optimizer in optim.OPTIMIZERS.items()
    if name != "SGD" and {"betas", "momentum"} & set(inspect.signature(optimizer).parameters)}


def lane_controls(i):
    """The menu and sliders of lane i."""
    return {f"optimizer{i}": W.Dropdown(options=RACERS, description=f"optimizer {i}"),
            f"lr{i}": log_slider("lr", 1e-5, 10, 0.01),
            f"beta{i}": W.FloatSlider(min=0.0, max=0.99, step=0.01, description="momentum/\u03b2\u2081")}


def outcome(trace, steps, f_min):
    """How a lane's run of `steps` steps (maybe a prefix of `trace`) ended: its text, and its final f - f*
    (None if it diverged), read from Trace.status."""
    if trace.steps <= steps and trace.status == "diverged":
        return f"diverged at step {trace.steps}", None
    gap = trace.losses[min(steps, trace.steps)] - f_min
    if trace.steps <= steps and trace.status == "converged":
        return f"converged in {trace.steps} steps", gap
    return f"f \u2212 f* = {gap:.1e} after {steps} steps", gap


def standings(finals, steps):
    """The status line from each lane's final f - f* (None for a lane that diverged)."""
    diverged = [lane.split()[0] for lane, gap in finals.items() if gap is None]
    if diverged:
        return f"lane {', '.join(diverged)} diverged: try a smaller lr", "bad"
    if not finals:
        return "pick an optimizer in one of the lanes", "neutral"
    solved = [lane for lane, gap in finals.items() if gap <= SOLVED]
    if len(solved) > 1:  # below SOLVED the order is decided by digits that do not matter
        return f"after {steps} steps, f - f* \u2264 {SOLVED:.0e} in lanes {', '.join(solved)}: a tie", "good"
    return f"lowest f after {steps} steps: {min(finals, key=finals.get)}", "neutral"


def optimizer_race(objective="Rosenbrock", x0=None, steps=200, lanes=None):
    """Up to four optimizers, each with its own lr and momentum (or beta1), from one start point.

    objective: a menu entry or any 2-D gdlab Objective; x0: the start (drag it on the plot); lanes: up to four
    (optimizer name, lr, beta) triples, e.g. [("Adam", 0.05, 0.9), ("RMSprop", 0.01, 0.0)].
    """
    menu, label = pick_objective(OBJECTIVES, objective, x0)
    lanes = LANES if lanes is None else list(lanes) + [(NONE, 0.01, 0.9)] * (4 - len(lanes))
    if len(lanes) > 4:
        raise ValueError(f"lanes must hold at most 4 (optimizer, lr, beta) triples, got {len(lanes)}")
    controls = {
        "objective": W.Dropdown(options=list(menu), value=label, description="objective"),
        "steps": W.IntSlider(value=200, min=10, max=1000, step=10, description="steps"),
        "x0": start_slider("start x\u2081"),
        "y0": start_slider("start x\u2082"),
    }
    chosen = {"steps": steps}
    for i, lane in enumerate(lanes, start=1):
        controls.update(lane_controls(i))
        try:
            chosen[f"optimizer{i}"], chosen[f"lr{i}"], chosen[f"beta{i}"] = lane
        except (TypeError, ValueError):
            raise ValueError(f"lanes[{i - 1}] must be an (optimizer, lr, beta) triple, got {lane!r}") from None
    set_values(controls, **chosen)
    rows = [["objective", "steps"], ["x0", "y0"]] + [[f"optimizer{i}", f"lr{i}", f"beta{i}"] for i in range(1, 5)]
    shown, runs = {}, {}  # the objective drawn now; (objective, start, lane settings it uses) -> Trace

    def run(f, start, steps, settings):
        """A lane's Trace, computed once per settings (lanes alike share it); one too short for `steps` is redone up
        to the slider's maximum, so that moving `steps` afterwards only takes a prefix of it."""
        name, lr, beta = settings
        key = (f, start, name, lr, beta if name in USES_BETA else None)  # a beta the optimizer ignores changes nothing
        trace = runs.get(key)
        if trace is None or (trace.status == "max_steps" and trace.steps < steps):
            if len(runs) > 256:  # keep memory bounded over a long session
                runs.clear()
            budget = steps if trace is None else controls["steps"].max
            runs[key] = trace = minimize(f, f.grad, start, racer(*settings), steps=budget, tol=1e-10)
        return trace

    def update():
        f, usual_start = menu[controls["objective"].value]
        if shown.get("objective") is not f:
            for name, value, (low, high) in zip(("x0", "y0"), usual_start, f.domain):
                set_range(controls[name], low, high, value)
            shown.update(objective=f, panels=(
                Panel(f"{f.name}: the race", "x\u2081", "x\u2082", landscape=landscape(f, tuple(f.domain[:2])),
                      drag="xy"),
                Panel("Loss per step (colours as on the left)", "step", "f(x) \u2212 f*", ylog=True, legend=None)))
        start, steps = (controls["x0"].value, controls["y0"].value), controls["steps"].value
        paths, curves, notes, finals = [], [], [], {}
        for i, colour in enumerate(COLOURS, start=1):
            name, lr, beta = (controls[f"{k}{i}"].value for k in ("optimizer", "lr", "beta"))
            controls[f"beta{i}"].disabled = name not in USES_BETA
            if name == NONE:
                continue
            trace = run(f, start, steps, (name, lr, beta))
            shown_steps = min(steps, trace.steps)
            xs, losses = trace.xs[: shown_steps + 1], trace.losses[: shown_steps + 1]
            lane = f"{i} {name}"
            paths.append(path_line(lane, xs, colour, width=1.8))
            curves.append(curve(f"{lane}: f \u2212 f*", losses, colour, floor=f.f_min, width=1.8))
            settings = f"lr {lr:.1e}" + (f", \u03b2 {beta:.2f}" if name in USES_BETA else "")
            result, finals[lane] = outcome(trace, steps, f.f_min)
            notes.append((f"{lane}, {settings}: {result}", colour))
        frames = [Frame(*f.domain[:2], paths, start=start), Frame((0, steps), LOSS_RANGE, curves)]
        status, tone = standings(finals, steps)
        return View(shown["panels"], frames, status, tone, notes=notes, duration=steps)

    return Explorer(controls, update, rows=rows, start=("x0", "y0"))
