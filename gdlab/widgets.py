"""Interactive explorers: sliders and menus that redraw a figure as you move them.

Each explorer is a function that takes no arguments and returns the ipywidgets
container it shows. Only core ipywidgets are used: the figure is a matplotlib
figure made once, whose artists are updated on every change and rendered to
an `ipywidgets.Image`, so the explorers work in JupyterLab, Colab and VS Code
alike. Each container also carries `.controls` (name -> widget), `.figure` and
`.status` (the message shown on the plot) so tests and curious learners can
drive it from code: `box.controls["lr"].value = 0.5`.
"""
import html
import io

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import LogLocator, MaxNLocator, NullLocator
from matplotlib.transforms import IdentityTransform
from PIL import Image

from gdlab import data, functions, optim
from gdlab.descent import gradient_descent, minimize
from gdlab.optim import lr_scheduler
from gdlab.plots import grid

__all__ = ["lr_explorer", "momentum_explorer", "optimizer_race", "minibatch_explorer", "schedule_explorer"]

GOOD, BAD, NEUTRAL = "#1a7f37", "#cf222e", "#444444"


class _LiveFigure:
    """A figure drawn off-screen and shown as a PNG in an ipywidgets.Image.

    Responsive by blitting: the static part (landscape, axes, labels) is drawn once and kept as a
    bitmap; a change redraws only the artists registered with `animate` on top of it. When an axes'
    limits change, or after `invalidate(ax)`, only that axes' static part is redrawn, once.
    """

    def __init__(self, ncols, figsize=(9.5, 3.9)):
        self.figure = Figure(figsize=figsize, dpi=72)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(1, ncols)
        for ax in self.axes:  # few tick labels: text is most of the time it takes to redraw an axes
            ax.xaxis.set_major_locator(MaxNLocator(5))
            ax.yaxis.set_major_locator(MaxNLocator(5))
        self.image = W.Image(format="png", layout=W.Layout(width="100%", max_width=f"{figsize[0] * 72:.0f}px"))
        self.dynamic = []
        self._blank = Rectangle((0, 0), 0, 0, transform=IdentityTransform(), facecolor="white", edgecolor="none")
        self._blank.set_figure(self.figure)
        self._background, self._dirty = None, set()

    def animate(self, *artists):
        for artist in artists:
            artist.set_animated(True)
        self.dynamic.extend(artists)
        return artists

    def invalidate(self, ax):
        """Redraw the static part of `ax` (its background or labels changed) at the next render."""
        self._dirty.add(ax)

    def render(self):
        canvas, axes = self.figure.canvas, self.figure.axes
        limits = {ax: (ax.get_xlim(), ax.get_ylim()) for ax in axes}
        if self._background is None:
            canvas.draw()
        else:
            canvas.restore_region(self._background)
            self._dirty |= {ax for ax in axes if limits[ax] != self._limits[ax]}
            self._redraw(self._dirty)
        if self._background is None or self._dirty:
            self._background, self._limits, self._dirty = canvas.copy_from_bbox(self.figure.bbox), limits, set()
        for artist in self.dynamic:
            if artist.get_visible():
                artist.axes.draw_artist(artist)
        rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        rgba.convert("RGB").save(buffer, format="png", compress_level=1)
        self.image.value = buffer.getvalue()

    def _redraw(self, dirty):
        """Blank the part of the figure each dirty axes draws in, then draw its static artists there."""
        renderer = self.figure.canvas.get_renderer()
        for ax in dirty:
            for x0, y0, x1, y1 in self._territory(ax):
                self._blank.set_bounds(x0, y0, x1 - x0, y1 - y0)
                self._blank.draw(renderer)
        for ax in dirty:
            ax.draw(renderer)  # animated artists are skipped: they are drawn on top, every time

    def _territory(self, ax):
        """Where `ax` draws, in pixels, for axes side by side: between its top and bottom, from the previous
        axes' right edge to its own (the y tick labels and label sit on the left); above and below (title,
        x tick labels and label, which may stick out sideways), from halfway to one neighbour to halfway to
        the other."""
        axes, (width, height) = self.figure.axes, self.figure.canvas.get_width_height()
        i, box = axes.index(ax), ax.bbox
        left = axes[i - 1].bbox.x1 + 1 if i > 0 else 0
        right = box.x1 + 2 if i + 1 < len(axes) else width
        half_left = (axes[i - 1].bbox.x1 + box.x0) / 2 if i > 0 else 0
        half_right = (box.x1 + axes[i + 1].bbox.x0) / 2 if i + 1 < len(axes) else width
        return [(left, box.y0, right, box.y1 + 1), (half_left, box.y1 + 1, half_right, height),
                (half_left, 0, half_right, box.y0)]


def _explorer(controls, live, update, status_artist, rows=None, below=()):
    """Wire `update` to every control, draw once, and return the container with its handles.

    rows: the control names of each row of the layout (default: three controls per row);
    below: widgets shown under the figure.
    """
    def on_change(_change=None):
        if busy:  # an update that moves controls itself (new slider ranges) redraws once, at its end
            return
        busy.append(True)
        try:
            message, colour = update()
        except Exception as error:  # an explorer must never print a traceback: show the problem on the plot
            message, colour = f"cannot draw this: {error}", BAD
        finally:
            busy.clear()
        status_artist.set_text(message)
        status_artist.set_color(colour)
        box.status = message
        live.render()

    busy = []
    for control in controls.values():
        control.observe(on_change, names="value")
    names = list(controls)
    rows = rows or [names[i:i + 3] for i in range(0, len(names), 3)]
    box = W.VBox([W.HBox([controls[name] for name in row]) for row in rows] + [live.image, *below])
    box.controls, box.figure, box.status = controls, live.figure, ""
    on_change()
    return box


def _status_text(ax):
    return ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", fontsize=10, fontweight="bold",
                   bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="none"))


def _contour_background(ax, f):
    """The log-scaled landscape of 2-D f as an image (fast to redraw), with its minima."""
    X, Y, Z = grid(f, n=120)
    (x_lo, x_hi), (y_lo, y_hi) = f.domain[:2]
    image = ax.imshow(np.log10(Z - Z.min() + 1e-3 * (Z.max() - Z.min())), extent=(x_lo, x_hi, y_lo, y_hi),
                      origin="lower", aspect="auto", cmap="viridis", interpolation="bilinear")
    stars = ax.plot(*np.array(f.minima)[:, :2].T, "*", color="gold", markersize=13, markeredgecolor="black")
    return [image] + stars


def _log_y(ax):
    """A log y axis with a labelled tick every few decades and no minor ticks: half the drawing time."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(numticks=6))
    ax.yaxis.set_minor_locator(NullLocator())


def _finite(xs):
    xs = np.asarray(xs, dtype=float)
    return xs[np.all(np.isfinite(xs.reshape(len(xs), -1)), axis=1)]


def _set_loss_curve(line, losses, floor=0.0):
    """Plot losses - floor on a log axis, dropping non-finite and non-positive values; return what is shown."""
    gap = np.asarray(losses, dtype=float) - floor
    steps = np.arange(len(gap))
    keep = np.isfinite(gap) & (gap > 0)
    line.set_data(steps[keep], gap[keep])
    return gap[keep]


# --- learning-rate explorer ------------------------------------------------------------------

_LR_OBJECTIVES = {
    "1-D: f(x) = x^2": (functions.Quadratic([[2.0]], name="f(x) = x^2"), [2.5]),
    "2-D: elongated quadratic (k = 10)": (functions.Quadratic(np.diag([1.0, 10.0]), name="elongated quadratic"),
                                          [-2.5, 1.5]),
    "2-D: Rosenbrock": (functions.rosenbrock, [-1.5, 2.0]),
    "2-D: Himmelblau": (functions.himmelblau, [0.0, 0.0]),
}


def lr_explorer():
    """Learning rate vs. what gradient descent does: too small, right, too large, divergent."""
    controls = {
        "objective": W.Dropdown(options=list(_LR_OBJECTIVES), description="objective", style={"description_width": "70px"}),
        "lr": W.FloatLogSlider(value=0.1, base=10, min=-4, max=1, step=0.05, description="lr", readout_format=".2e"),
        "steps": W.IntSlider(value=40, min=1, max=300, description="steps"),
    }
    live = _LiveFigure(2)
    ax_path, ax_loss = live.axes
    status = _status_text(ax_path)
    _log_y(ax_loss)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("f(x) - f*")
    ax_loss.set_ylim(1e-12, 1e7)  # the same for every objective: moving a control keeps the fast redraw
    ax_loss.set_title("Loss per step")
    ax_loss.grid(True, alpha=0.3)
    (curve_line,) = ax_path.plot([], [], color="gray")
    (loss_line,) = ax_loss.plot([], [], color="tab:red")
    (path_line,) = ax_path.plot([], [], "o-", color="tab:red", markersize=3, linewidth=1, label="path")
    live.animate(loss_line, path_line, status)
    state = {"objective": None, "background": []}

    def draw_objective(f):
        for artist in state["background"]:
            artist.remove()
        (lo, hi), *rest = f.domain
        if f.dim == 1:
            xs = np.linspace(lo, hi, 300)
            curve_line.set_data(xs, f(xs[None, :]))
            ax_path.set_ylim(-0.5, f(np.array([hi])) * 1.1)
            ax_path.set_xlabel("x")
            ax_path.set_ylabel("f(x)")
            state["background"] = []
        else:
            curve_line.set_data([], [])
            state["background"] = _contour_background(ax_path, f)
            ax_path.set_ylim(rest[0])
            ax_path.set_xlabel("$x_1$")
            ax_path.set_ylabel("$x_2$")
        ax_path.set_xlim(lo, hi)
        ax_path.set_title(f"{f.name}: gradient descent path")
        live.invalidate(ax_path)

    def update():
        f, x0 = _LR_OBJECTIVES[controls["objective"].value]
        if state["objective"] is not f:
            draw_objective(f)
            state["objective"] = f
        lr = controls["lr"].value
        trace = gradient_descent(f, f.grad, x0, lr=lr, steps=controls["steps"].value, tol=1e-10)
        xs = _finite(trace.xs)
        if f.dim == 1:
            path_line.set_data(xs[:, 0], f(xs.T))
        else:
            path_line.set_data(xs[:, 0], xs[:, 1])
        _set_loss_curve(loss_line, trace.losses, floor=f.f_min)
        ax_loss.set_xlim(0, controls["steps"].value)
        message = trace.message.split(", |grad|")[0]
        colour = {"converged": GOOD, "diverged": BAD, "max_steps": NEUTRAL}[trace.status]
        if trace.status == "max_steps" and trace.losses[-1] > trace.losses[0]:
            growth = (trace.losses[-1] - f.f_min) / (trace.losses[0] - f.f_min)
            message = f"diverging: f - f* grew {growth:.3g}x in {trace.steps} steps; try a smaller learning rate"
            colour = BAD
        if isinstance(f, functions.Quadratic):
            message += f"\nlr x L = {lr * f.L:.3g} (stable below 2)"
        return message, colour

    live.figure.tight_layout()
    return _explorer(controls, live, update, status)


# --- momentum explorer -----------------------------------------------------------------------

def heavy_ball_rate(lr, momentum, eigenvalue):
    """Per-step contraction of the error along one eigendirection: the spectral radius of
    [[1 + momentum - lr * eigenvalue, -momentum], [1, 0]] (Polyak 1964; Goh, "Why Momentum Really Works", 2017)."""
    iteration = np.array([[1 + momentum - lr * eigenvalue, -momentum], [1.0, 0.0]])
    return float(np.abs(np.linalg.eigvals(iteration)).max())


def momentum_explorer():
    """Step size and momentum on an ill-conditioned quadratic, error per eigendirection and rate."""
    controls = {
        "lr": W.FloatLogSlider(value=1.0, base=10, min=-3, max=0.7, step=0.02, description="lr", readout_format=".3f"),
        "momentum": W.FloatSlider(value=0.0, min=0.0, max=0.99, step=0.01, description="momentum"),
        "kappa": W.FloatLogSlider(value=100, base=10, min=0, max=3, step=0.05, description="condition k",
                                  readout_format=".0f"),
        "steps": W.IntSlider(value=100, min=5, max=400, description="steps"),
    }
    live = _LiveFigure(2)
    ax_path, ax_error = live.axes
    status = _status_text(ax_path)
    (path_line,) = ax_path.plot([], [], "o-", color="tab:red", markersize=2, linewidth=1, label="path")
    (err_small,) = ax_error.plot([], [], label="direction of the smallest eigenvalue (slow)")
    (err_large,) = ax_error.plot([], [], label="direction of the largest eigenvalue (fast)")
    (envelope,) = ax_error.plot([], [], "k--", linewidth=1, label="theory: rate^k")
    live.animate(path_line, err_small, err_large, envelope, status)
    _log_y(ax_error)
    ax_error.set_xlabel("step k")
    ax_error.set_ylabel("|error component|")
    ax_error.set_title("Error along each eigendirection")
    ax_error.legend(loc="lower left", fontsize=8)
    ax_error.grid(True, alpha=0.3)
    ax_path.set_xlabel("$x_1$ (small eigenvalue)")
    ax_path.set_ylabel("$x_2$ (large eigenvalue)")
    state = {"kappa": None, "background": []}

    def update():
        kappa, lr, beta, steps = (controls[k].value for k in ("kappa", "lr", "momentum", "steps"))
        q = functions.Quadratic(np.diag([1.0 / kappa, 1.0]), name="quadratic")
        if state["kappa"] != kappa:
            for artist in state["background"]:
                artist.remove()
            state["background"], state["kappa"] = _contour_background(ax_path, q), kappa
            ax_path.set_xlim(q.domain[0])
            ax_path.set_ylim(q.domain[1])
            ax_path.set_title(f"Heavy ball on a quadratic with condition number {kappa:.0f}")
            live.invalidate(ax_path)
        x0 = np.array([-2.5, 1.5])
        trace = minimize(q, q.grad, x0, optim.SGD(lr=lr, momentum=beta), steps=steps, tol=0.0)
        xs = _finite(trace.xs)
        path_line.set_data(xs[:, 0], xs[:, 1])
        k = np.arange(len(xs))
        err_small.set_data(k, np.abs(xs[:, 0]))
        err_large.set_data(k, np.abs(xs[:, 1]))
        rate = max(heavy_ball_rate(lr, beta, lam) for lam in q.eigenvalues)
        envelope.set_data(k, np.abs(x0).max() * rate ** k)
        ax_error.set_xlim(0, steps)
        ax_error.set_ylim(1e-12, 1e6)
        best_lr = (2 / (np.sqrt(q.L) + np.sqrt(q.mu))) ** 2
        best_beta = ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
        message = (f"rate {rate:.4f} per step" + (" (> 1: diverges)" if rate > 1 else "")
                   + f"\nbest: lr {best_lr:.3f}, momentum {best_beta:.3f} -> rate {np.sqrt(best_beta):.4f}")
        if trace.status == "diverged":
            message = trace.message.replace("learning rate", "learning rate or momentum") + "\n" + message
        return message, BAD if rate >= 1 else GOOD

    live.figure.tight_layout()
    return _explorer(controls, live, update, status)


# --- optimizer race --------------------------------------------------------------------------

_RACE_OBJECTIVES = {
    "Rosenbrock": (functions.rosenbrock, (-1.5, 2.0)),
    "Beale": (functions.beale, (-3.0, -3.0)),
    "Himmelblau": (functions.himmelblau, (0.0, 0.0)),
    "Booth": (functions.booth, (-8.0, 8.0)),
    "elongated quadratic (k = 50)": (functions.Quadratic(np.diag([1.0, 50.0]), name="elongated quadratic"), (-2.5, 1.5)),
    "Rastrigin": (functions.rastrigin, (3.3, -2.4)),
}

# name -> optimizer built from (lr, beta): beta is the momentum, or Adam's beta1; None leaves a lane empty
_RACERS = {
    "(none)": None,
    "SGD": lambda lr, beta: optim.SGD(lr=lr),
    "SGD + momentum": lambda lr, beta: optim.SGD(lr=lr, momentum=beta),
    "Nesterov": lambda lr, beta: optim.SGD(lr=lr, momentum=beta, nesterov=beta > 0),
    "Adagrad": lambda lr, beta: optim.Adagrad(lr=lr),
    "RMSprop": lambda lr, beta: optim.RMSprop(lr=lr, momentum=beta),
    "Adadelta": lambda lr, beta: optim.Adadelta(lr=lr),
    "Adam": lambda lr, beta: optim.Adam(lr=lr, betas=(beta, 0.999)),
    "AdamW": lambda lr, beta: optim.AdamW(lr=lr, betas=(beta, 0.999)),
    "NAdam": lambda lr, beta: optim.NAdam(lr=lr, betas=(beta, 0.999)),
}
_USES_BETA = {"SGD + momentum", "Nesterov", "RMSprop", "Adam", "AdamW", "NAdam"}
_LANES = [("SGD", 1.5e-3, 0.0), ("SGD + momentum", 1e-3, 0.9), ("Adam", 0.1, 0.9), ("(none)", 0.01, 0.9)]
_LANE_COLOURS = ["tab:red", "tab:orange", "tab:blue", "tab:purple"]


def optimizer_race():
    """Up to four optimizers, each with its own lr and momentum (or beta1), from the same start point.

    The start point is set with the two sliders (a click on the plot needs a non-core widget library).
    """
    controls = {
        "objective": W.Dropdown(options=list(_RACE_OBJECTIVES), description="objective"),
        "steps": W.IntSlider(value=300, min=10, max=1000, step=10, description="steps"),
        "x0": W.FloatSlider(description="start x1", readout_format=".2f"),
        "y0": W.FloatSlider(description="start x2", readout_format=".2f"),
    }
    for i, (name, lr, beta) in enumerate(_LANES, start=1):
        controls[f"optimizer{i}"] = W.Dropdown(options=list(_RACERS), value=name, description=f"optimizer {i}")
        controls[f"lr{i}"] = W.FloatLogSlider(value=lr, base=10, min=-5, max=1, step=0.05, description="lr",
                                              readout_format=".1e")
        controls[f"beta{i}"] = W.FloatSlider(value=beta, min=0.0, max=0.99, step=0.01, description="momentum/β1")
    rows = [["objective", "steps"], ["x0", "y0"]] + [[f"optimizer{i}", f"lr{i}", f"beta{i}"] for i in range(1, 5)]
    live = _LiveFigure(2)
    ax_path, ax_loss = live.axes
    status = _status_text(ax_loss)
    paths = [ax_path.plot([], [], "-", color=c, linewidth=1.5, label=f"path {i}")[0]
             for i, c in enumerate(_LANE_COLOURS, start=1)]
    curves = [ax_loss.plot([], [], color=c)[0] for c in _LANE_COLOURS]
    lanes = W.HTML()  # one line per lane in the lane's colour: the legend, as HTML (text is slow to rasterise)
    (start,) = ax_path.plot([], [], "o", color="white", markeredgecolor="black", markersize=7)
    live.animate(*paths, *curves, start, status)
    ax_path.set_xlabel("$x_1$")
    ax_path.set_ylabel("$x_2$")
    _log_y(ax_loss)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("f(x) - f*")
    ax_loss.set_ylim(1e-10, 1e6)  # fixed for every objective: moving a slider keeps the fast redraw
    ax_loss.set_title("Loss per step")
    ax_loss.grid(True, alpha=0.3)
    state = {"objective": None, "background": [], "runs": {}}

    def run(lane, f, x0, steps, name, lr, beta):
        """The lane's points and losses. A run is redone only when its settings change; one too short for
        `steps` is redone up to the slider's maximum, so that moving `steps` afterwards only slices it."""
        key = (f, tuple(x0), name, lr, beta)
        cached_key, trace = state["runs"].get(lane, (None, None))
        if cached_key != key or (trace.status == "max_steps" and trace.steps < steps):
            budget = steps if cached_key != key else controls["steps"].max
            trace = minimize(f, f.grad, x0, _RACERS[name](lr, beta), steps=budget, tol=1e-10)
            state["runs"][lane] = key, trace
        if trace.steps <= steps:
            return trace.xs, trace.losses, trace.status, trace.message
        return trace.xs[: steps + 1], trace.losses[: steps + 1], "max_steps", ""  # a prefix of a longer run

    def draw_objective(f, x0):
        for artist in state["background"]:
            artist.remove()
        state["background"] = _contour_background(ax_path, f)
        (x_lo, x_hi), (y_lo, y_hi) = f.domain[:2]
        ax_path.set_xlim(x_lo, x_hi)
        ax_path.set_ylim(y_lo, y_hi)
        ax_path.set_title(f"{f.name}: the race")
        for slider, (lo, hi), value in ((controls["x0"], (x_lo, x_hi), x0[0]), (controls["y0"], (y_lo, y_hi), x0[1])):
            slider.min, slider.max = min(lo, slider.min), max(hi, slider.max)  # widen first: min < max always
            slider.value, slider.min, slider.max, slider.step = value, lo, hi, (hi - lo) / 200
        live.invalidate(ax_path)

    def update():
        f, default_start = _RACE_OBJECTIVES[controls["objective"].value]
        if state["objective"] is not f:
            draw_objective(f, default_start)
            state["objective"] = f
        x0, steps = np.array([controls["x0"].value, controls["y0"].value]), controls["steps"].value
        start.set_data([x0[0]], [x0[1]])
        finals, diverged, lines = {}, [], []
        for i, (path, curve, colour) in enumerate(zip(paths, curves, _LANE_COLOURS), start=1):
            name = controls[f"optimizer{i}"].value
            controls[f"beta{i}"].disabled = name not in _USES_BETA
            if _RACERS[name] is None:
                path.set_data([], [])
                curve.set_data([], [])
                continue
            lr, beta = controls[f"lr{i}"].value, controls[f"beta{i}"].value
            xs, losses, outcome, message = run(i, f, x0, steps, name, lr, beta)
            xs = _finite(xs)
            path.set_data(xs[:, 0], xs[:, 1])
            _set_loss_curve(curve, losses, floor=f.f_min)
            result = f"f - f* {losses[-1] - f.f_min:.1e}" if outcome == "max_steps" else message.split(":")[0]
            line = f"{i} {name}, lr {lr:.1e}" + (f", β {beta:.2f}" if name in _USES_BETA else "") + f": {result}"
            lines.append(f'<span style="color:{to_hex(colour)}"><b>{html.escape(line)}</b></span>')
            if outcome == "diverged":
                diverged.append(str(i))
            else:
                finals[f"{i} {name}"] = losses[-1] - f.f_min
        ax_loss.set_xlim(0, steps)
        lanes.value = "<br>".join(lines)
        if diverged:
            return f"lane {', '.join(diverged)} diverged: try a smaller lr", BAD
        if not finals:
            return "pick an optimizer in one of the lanes", NEUTRAL
        leader = min(finals, key=finals.get)
        return f"lowest f after {steps} steps: {leader}", NEUTRAL

    live.figure.tight_layout()
    box = _explorer(controls, live, update, status, rows, below=[lanes])
    box.lanes = lanes
    return box


# --- mini-batch explorer ---------------------------------------------------------------------

def minibatch_sgd(X, y, batch_size, lr, epochs, seed=0):
    """Mini-batch SGD on the MSE of a linear model theta = [w, b], from zero.

    Returns the parameters after every update (row 0: the start) and the loss of every batch;
    stops early once the parameters blow up (norm above 1e8).
    """
    Z = np.column_stack([X, np.ones(len(y))])
    rng = np.random.default_rng(seed)
    theta = np.zeros(Z.shape[1])
    thetas, batch_losses = [theta], []
    for _ in range(epochs):
        for Zb, yb in data.minibatches(Z, y, batch_size, rng):
            residual = Zb @ theta - yb
            batch_losses.append(residual @ residual / len(yb))
            theta = theta - lr * 2 / len(yb) * (Zb.T @ residual)
            thetas.append(theta)
            if not np.linalg.norm(theta) < 1e8:
                return np.array(thetas), np.array(batch_losses)
    return np.array(thetas), np.array(batch_losses)


def _full_losses(thetas, Z, y):
    """The MSE on all the data at each row of thetas, vectorised."""
    with np.errstate(over="ignore", invalid="ignore"):
        residuals = thetas @ Z.T - y
        return np.mean(residuals**2, axis=1)


def _least_squares(X, y):
    """The MSE as a Quadratic in theta = [w, b] (up to a constant), its minimiser and minimum."""
    Z = np.column_stack([X, np.ones(len(y))])
    q = functions.Quadratic(2 * Z.T @ Z / len(y), 2 * Z.T @ y / len(y), name="MSE of a line")
    return Z, q, _full_losses(q.minima[0][None, :], Z, y)[0]


def minibatch_explorer():
    """Batch size, learning rate and epochs of mini-batch SGD on a linear regression: watch the noise."""
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    Z, q, best = _least_squares(dataset.X, dataset.y)
    controls = {
        "batch_size": W.SelectionSlider(options=[1, 2, 5, 10, 20, 50, 100, 200], value=10, description="batch size"),
        "lr": W.FloatLogSlider(value=0.05, base=10, min=-3, max=0, step=0.05, description="lr", readout_format=".3f"),
        "epochs": W.IntSlider(value=10, min=1, max=30, description="epochs"),
        "seed": W.IntSlider(value=0, min=0, max=9, description="shuffle seed"),
    }
    live = _LiveFigure(2)
    ax_path, ax_loss = live.axes
    status = _status_text(ax_loss)
    _contour_background(ax_path, q)
    corners = np.array([np.zeros(2), q.minima[0]])
    ax_path.set_xlim(corners[:, 0].min() - 0.7, corners[:, 0].max() + 0.7)
    ax_path.set_ylim(corners[:, 1].min() - 0.7, corners[:, 1].max() + 0.7)
    ax_path.set_xlabel("weight w")
    ax_path.set_ylabel("bias b")
    ax_path.set_title("(w, b) after each update, from (0, 0)")
    (path_line,) = ax_path.plot([], [], "-", color="tab:red", linewidth=0.8, label="path")
    (gap_line,) = ax_loss.plot([], [], color="tab:red", linewidth=1, label="gap")
    live.animate(path_line, gap_line, status)
    _log_y(ax_loss)
    ax_loss.set_ylim(1e-7, 10 * (_full_losses(np.zeros((1, 2)), Z, dataset.y)[0] - best))
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("MSE on all the data - least-squares MSE")
    ax_loss.set_title("Loss after each update")
    ax_loss.grid(True, alpha=0.3)
    n = len(dataset.y)

    def update():
        batch_size, lr, epochs = (controls[k].value for k in ("batch_size", "lr", "epochs"))
        thetas, _ = minibatch_sgd(dataset.X, dataset.y, batch_size, lr, epochs, controls["seed"].value)
        updates_per_epoch = -(-n // batch_size)
        epoch_of = np.arange(len(thetas)) / updates_per_epoch
        path = _finite(thetas)
        path_line.set_data(path[:, 0], path[:, 1])
        gaps = _full_losses(thetas, Z, dataset.y) - best
        keep = np.isfinite(gaps) & (gaps > 0)
        gap_line.set_data(epoch_of[keep], gaps[keep])
        ax_loss.set_xlim(0, epochs)
        if len(thetas) < epochs * updates_per_epoch + 1 or not np.isfinite(gaps[-1]):
            return (f"diverged at update {len(thetas) - 1} (epoch {int(epoch_of[-1]) + 1}): "
                    "try a smaller learning rate or a larger batch"), BAD
        tail = gaps[-updates_per_epoch:]
        return (f"{len(thetas) - 1} updates of {batch_size} samples\n"
                f"last epoch: gap between {tail.min():.1e} and {tail.max():.1e}"), NEUTRAL

    live.figure.tight_layout()
    return _explorer(controls, live, update, status)


# --- schedule explorer -----------------------------------------------------------------------

def _schedule(name, optimizer, epochs, gamma, step_size, warmup):
    """The gdlab.optim.lr_scheduler behind each choice of the schedule explorer, stepped once per epoch."""
    warmup = min(warmup, epochs - 1)
    if name == "constant":
        return lr_scheduler.LambdaLR(optimizer, lambda t: 1.0)
    if name == "step":
        return lr_scheduler.StepLR(optimizer, step_size=step_size, gamma=gamma)
    if name == "exponential":
        return lr_scheduler.ExponentialLR(optimizer, gamma=gamma)
    if name == "cosine":
        return lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "warm-up + cosine":
        return lr_scheduler.SequentialLR(optimizer, [
            lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
            lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs - warmup)], milestones=[warmup])
    if name == "one-cycle":
        return lr_scheduler.OneCycleLR(optimizer, max_lr=optimizer.lr, total_steps=epochs,
                                       pct_start=warmup / epochs, cycle_momentum=False)
    raise ValueError(f"schedule must be one of {list(_SCHEDULE_PARAMETERS)}, got {name!r}")


_SCHEDULE_PARAMETERS = {"constant": (), "step": ("gamma", "step_size"), "exponential": ("gamma",),
                        "cosine": (), "warm-up + cosine": ("warmup",), "one-cycle": ("warmup",)}


def train_with_schedule(X, y, schedule, lr, epochs, gamma=0.5, step_size=10, warmup=5, batch_size=20, seed=0):
    """SGD with a schedule on the MSE of a linear model: the lr of each epoch and the loss after it."""
    Z = np.column_stack([X, np.ones(len(y))])
    rng = np.random.default_rng(seed)
    optimizer = optim.SGD(lr=lr)
    scheduler = _schedule(schedule, optimizer, epochs, gamma, step_size, warmup)
    theta, lrs, losses = np.zeros(Z.shape[1]), [], []
    for _ in range(epochs):
        lrs.append(optimizer.lr)
        for Zb, yb in data.minibatches(Z, y, batch_size, rng):
            theta = optimizer.step(theta, 2 / len(yb) * Zb.T @ (Zb @ theta - yb))
        losses.append(_full_losses(theta[None, :], Z, y)[0])
        if not np.isfinite(losses[-1]) or losses[-1] > 1e12:
            break
        if len(lrs) < epochs:
            scheduler.step()
    return np.array(lrs), np.array(losses)


def schedule_explorer():
    """A learning-rate schedule and its parameters: the lr curve, and the training it gives against a constant lr."""
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    _, _, best = _least_squares(dataset.X, dataset.y)
    controls = {
        "schedule": W.Dropdown(options=list(_SCHEDULE_PARAMETERS), value="cosine", description="schedule"),
        "lr": W.FloatLogSlider(value=0.1, base=10, min=-3, max=0, step=0.05, description="lr (peak)",
                               readout_format=".3f"),
        "epochs": W.IntSlider(value=40, min=5, max=60, description="epochs"),
        "gamma": W.FloatSlider(value=0.5, min=0.05, max=0.99, step=0.01, description="gamma"),
        "step_size": W.IntSlider(value=10, min=1, max=50, description="step_size"),
        "warmup": W.IntSlider(value=5, min=1, max=30, description="warm-up epochs"),
    }
    live = _LiveFigure(2)
    ax_lr, ax_loss = live.axes
    status = _status_text(ax_loss)
    (lr_line,) = ax_lr.plot([], [], "o-", color="tab:blue", markersize=3, label="lr")
    (baseline,) = ax_loss.plot([], [], "--", color="gray", label="constant lr")
    (loss_line,) = ax_loss.plot([], [], color="tab:blue", label="with the schedule")
    live.animate(lr_line, baseline, loss_line, status)
    ax_lr.set_xlabel("epoch")
    ax_lr.set_ylabel("learning rate / peak lr")
    ax_lr.set_ylim(0, 1.1)
    ax_lr.set_title("The schedule")
    ax_lr.grid(True, alpha=0.3)
    _log_y(ax_loss)
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("MSE - least-squares MSE")
    ax_loss.set_ylim(1e-6, 10 * (np.mean(dataset.y**2) - best))  # fixed limits keep the redraw fast
    ax_loss.set_title("Training loss: schedule (solid), constant lr (dashed)", fontsize=10)
    ax_loss.grid(True, alpha=0.3)
    constant_runs = {}

    def update():
        name, lr, epochs = controls["schedule"].value, controls["lr"].value, controls["epochs"].value
        for parameter in ("gamma", "step_size", "warmup"):
            controls[parameter].disabled = parameter not in _SCHEDULE_PARAMETERS[name]
        settings = {k: controls[k].value for k in ("gamma", "step_size", "warmup")}
        lrs, losses = train_with_schedule(dataset.X, dataset.y, name, lr, epochs, **settings)
        if lr not in constant_runs:  # the first epochs of a run do not depend on its length: run the longest once
            constant_runs.clear()
            constant_runs[lr] = train_with_schedule(dataset.X, dataset.y, "constant", lr, controls["epochs"].max)[1]
        constant = constant_runs[lr][:epochs]
        lr_line.set_data(np.arange(len(lrs)), lrs / lr)
        ax_lr.set_xlim(-0.5, epochs - 0.5)
        for line, curve in ((loss_line, losses), (baseline, constant)):
            _set_loss_curve(line, curve, floor=best)
        ax_loss.set_xlim(0, epochs)
        if len(losses) < epochs or not np.isfinite(losses[-1]):
            return f"{name}: diverged in epoch {len(losses)}: try a smaller lr", BAD
        ours, theirs = losses[-1] - best, constant[-1] - best
        versus = f"constant lr: {theirs:.2e}" if len(constant) == epochs else "constant lr diverged"
        return f"{name}, peak lr {lr:.3f}: final gap {ours:.2e}\n{versus}", GOOD if ours <= theirs else NEUTRAL

    live.figure.tight_layout()
    return _explorer(controls, live, update, status)
