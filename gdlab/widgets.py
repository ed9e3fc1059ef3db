"""Interactive explorers: sliders and menus that redraw a figure as you move them.

Each explorer is a function that takes no arguments and returns the ipywidgets
container it shows. Only core ipywidgets are used: the figure is a matplotlib
figure made once, whose artists are updated on every change and rendered to
an `ipywidgets.Image`, so the explorers work in JupyterLab, Colab and VS Code
alike. Each container also carries `.controls` (name -> widget), `.figure` and
`.status` (the message shown on the plot) so tests and curious learners can
drive it from code: `box.controls["lr"].value = 0.5`.
"""
import io

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from gdlab import functions, optim
from gdlab.descent import gradient_descent, minimize
from gdlab.plots import grid

__all__ = ["lr_explorer", "momentum_explorer"]

GOOD, BAD, NEUTRAL = "#1a7f37", "#cf222e", "#444444"


class _LiveFigure:
    """A figure drawn off-screen and shown as a PNG in an ipywidgets.Image.

    Responsive by blitting: the static part (landscape, axes, labels) is drawn once and kept as a
    bitmap; a change redraws only the artists registered with `animate` on top of it. Changing the
    axis limits or calling `invalidate()` redraws everything once.
    """

    def __init__(self, ncols, figsize=(9.5, 3.9)):
        self.figure = Figure(figsize=figsize, dpi=72)
        FigureCanvasAgg(self.figure)
        self.axes = self.figure.subplots(1, ncols)
        self.image = W.Image(format="png", layout=W.Layout(width="100%", max_width=f"{figsize[0] * 72:.0f}px"))
        self.dynamic = []
        self.invalidate()

    def animate(self, *artists):
        for artist in artists:
            artist.set_animated(True)
        self.dynamic.extend(artists)
        return artists

    def invalidate(self):
        self._background, self._limits = None, None

    def render(self):
        canvas = self.figure.canvas
        limits = [(ax.get_xlim(), ax.get_ylim()) for ax in self.figure.axes]
        if self._background is None or limits != self._limits:
            canvas.draw()
            self._background, self._limits = canvas.copy_from_bbox(self.figure.bbox), limits
        else:
            canvas.restore_region(self._background)
        for artist in self.dynamic:
            if artist.get_visible():
                artist.axes.draw_artist(artist)
        rgba = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        rgba.convert("RGB").save(buffer, format="png", compress_level=1)
        self.image.value = buffer.getvalue()


def _explorer(controls, live, update, status_artist):
    """Wire `update` to every control, draw once, and return the container with its handles."""
    def on_change(_change=None):
        try:
            message, colour = update()
        except Exception as error:  # an explorer must never print a traceback: show the problem on the plot
            message, colour = f"cannot draw this: {error}", BAD
        status_artist.set_text(message)
        status_artist.set_color(colour)
        box.status = message
        live.render()

    for control in controls.values():
        control.observe(on_change, names="value")
    rows = [W.HBox(list(controls.values())[i:i + 3]) for i in range(0, len(controls), 3)]
    box = W.VBox(rows + [live.image])
    box.controls, box.figure, box.status = controls, live.figure, ""
    on_change()
    return box


def _status_text(ax):
    return ax.text(0.02, 0.97, "", transform=ax.transAxes, va="top", fontsize=10, fontweight="bold",
                   bbox=dict(boxstyle="round", facecolor="white", alpha=0.85, edgecolor="none"))


def _contour_background(ax, f):
    """The log-scaled landscape of 2-D f as an image (fast to redraw), with its minima."""
    X, Y, Z = grid(f, n=160)
    (x_lo, x_hi), (y_lo, y_hi) = f.domain[:2]
    image = ax.imshow(np.log10(Z - Z.min() + 1e-3 * (Z.max() - Z.min())), extent=(x_lo, x_hi, y_lo, y_hi),
                      origin="lower", aspect="auto", cmap="viridis", interpolation="bilinear")
    stars = ax.plot(*np.array(f.minima)[:, :2].T, "*", color="gold", markersize=13, markeredgecolor="black")
    return [image] + stars


def _finite(xs):
    xs = np.asarray(xs, dtype=float)
    return xs[np.all(np.isfinite(xs.reshape(len(xs), -1)), axis=1)]


def _set_loss_curve(ax, line, losses, floor=0.0):
    """Plot losses - floor on the log axis, dropping non-finite and non-positive values, and rescale."""
    gap = np.asarray(losses, dtype=float) - floor
    steps = np.arange(len(gap))
    keep = np.isfinite(gap) & (gap > 0)
    line.set_data(steps[keep], gap[keep])
    return gap[keep]


def _rescale_log(ax, curves, n_steps):
    """Whole decades around the curves, so that small changes keep the limits (and the fast redraw)."""
    values = np.concatenate([c for c in curves if len(c)] or [np.array([1.0])])
    low = np.floor(np.log10(max(values.min(), 1e-16)))
    high = np.ceil(np.log10(min(values.max(), 1e300)))
    ax.set_xlim(0, max(n_steps, 1))
    ax.set_ylim(10.0 ** (low - 1), 10.0 ** (high + 1))


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
    ax_loss.set_yscale("log")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("f(x) - f*")
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
        live.invalidate()

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
        _set_loss_curve(ax_loss, loss_line, trace.losses, floor=f.f_min)
        ax_loss.set_xlim(0, controls["steps"].value)
        ax_loss.set_ylim(1e-12, 1e4 * (trace.losses[0] - f.f_min))
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
        "lr": W.FloatLogSlider(value=1.0, base=10, min=-3, max=0.5, step=0.02, description="lr", readout_format=".3f"),
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
    ax_error.set_yscale("log")
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
            live.invalidate()
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
