"""Plots for the course: contours with trajectories, loss curves, 1-D paths, surfaces.

Every function draws on `ax` (a new figure when None), titles and labels it,
and returns the axes, so a cell can add to it or end with `;`.
"""
import matplotlib.pyplot as plt
import numpy as np

__all__ = ["grid", "contour", "loss_curves", "path_1d", "surface"]


def grid(f, domain=None, n=200):
    """Evaluate 2-D `f` on an n x n grid over `domain`: returns X, Y, Z."""
    (x_lo, x_hi), (y_lo, y_hi) = (domain or f.domain)[:2]
    X, Y = np.meshgrid(np.linspace(x_lo, x_hi, n), np.linspace(y_lo, y_hi, n))
    return X, Y, f(np.stack([X, Y]))


def _points(trajectory):
    """A Trace or an array of points -> finite (k, 2) array."""
    xs = np.asarray(getattr(trajectory, "xs", trajectory), dtype=float)
    return xs[np.all(np.isfinite(xs), axis=1)]


def _axes(ax, **kw):
    return ax if ax is not None else plt.subplots(figsize=kw.pop("figsize", (6, 4.5)), **kw)[1]


def contour(f, trajectories=(), labels=None, ax=None, domain=None, levels=30, title=None, colorbar=True):
    """Filled log-spaced contours of 2-D `f` with trajectories (Traces or (k, 2) arrays) and minima.

    The colours show log10(f - f_low + delta): f_low is f's lowest value (f.f_min when known, else the lowest on
    the grid) and delta, a thousandth of f's range on the grid, keeps the logarithm finite at the minimum.
    colorbar=False leaves the bar out (e.g. in all but one panel of a row of plots).
    """
    ax = _axes(ax)
    domain = domain or f.domain
    X, Y, Z = grid(f, domain)
    f_star = getattr(f, "f_min", None)
    f_low, name = (Z.min(), "min on grid") if f_star is None else (min(Z.min(), f_star), "f*")
    delta = 1e-3 * (Z.max() - Z.min()) or 1e-12
    log_gap = np.log10(Z - f_low + delta)
    cs = ax.contourf(X, Y, log_gap, levels=levels, cmap="viridis", alpha=0.85)
    ax.contour(X, Y, log_gap, levels=levels, colors="white", linewidths=0.3, alpha=0.5)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, label=f"log10(f - {name} + {delta:.2g})")
    for m in f.minima:
        ax.plot(*m[:2], marker="*", color="gold", markersize=15, markeredgecolor="black", linestyle="none")
    if isinstance(trajectories, np.ndarray) or hasattr(trajectories, "xs"):
        trajectories = [trajectories]
    labels = labels or [None] * len(trajectories)
    for trajectory, label in zip(trajectories, labels):
        xs = _points(trajectory)
        (line,) = ax.plot(xs[:, 0], xs[:, 1], ".-", markersize=3, linewidth=1.2, label=label)
        ax.plot(*xs[0, :2], "o", color=line.get_color(), markeredgecolor="white")
    ax.set_xlim(domain[0])
    ax.set_ylim(domain[1])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_title(title or f"{f.name}: contours and descent paths")
    if any(labels):
        ax.legend(loc="upper right", fontsize=8)
    return ax


def loss_curves(traces, labels=None, ax=None, f_min=None, title="Loss per step", log=True):
    """Loss (or f - f_min when given) per step for each Trace or array of losses."""
    ax = _axes(ax)
    if hasattr(traces, "losses") or isinstance(traces, np.ndarray):
        traces = [traces]
    labels = labels or [None] * len(traces)
    for trace, label in zip(traces, labels):
        losses = np.asarray(getattr(trace, "losses", trace), dtype=float)
        gap = losses - f_min if f_min is not None else losses
        steps = np.arange(len(gap))
        ok = np.isfinite(gap) & ((gap > 0) if log else True)
        ax.plot(steps[ok], gap[ok], label=label)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel("f(x) - f*" if f_min is not None else "loss f(x)")
    ax.set_title(title)
    if any(labels):
        ax.legend()
    ax.grid(True, which="major", alpha=0.3)
    return ax


def path_1d(f, trace, ax=None, domain=None, title=None):
    """A 1-D function with the steps of a descent drawn on it."""
    ax = _axes(ax)
    xs = _points(trace)[:, 0]
    lo, hi = (domain or f.domain)[0]
    grid_x = np.linspace(lo, hi, 400)
    ax.plot(grid_x, f(grid_x[None, :]), color="gray", label="f(x)")
    visible = xs[(xs >= lo) & (xs <= hi)]
    ys = f(visible[None, :])
    ax.plot(visible, ys, "o-", color="tab:red", markersize=4, linewidth=1, label="steps")
    if len(visible):
        ax.plot(visible[0], ys[0], "o", color="black", label="start")
    ax.set_xlim(lo, hi)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.set_title(title or f"{f.name}: {getattr(trace, 'status', 'steps')}")
    ax.legend()
    return ax


def surface(f, ax=None, domain=None, trajectories=(), title=None, n=80):
    """3-D surface of 2-D `f`, optionally with trajectories lifted onto it."""
    if ax is None:
        ax = plt.figure(figsize=(6.5, 5)).add_subplot(projection="3d")
    X, Y, Z = grid(f, domain, n=n)
    ax.plot_surface(X, Y, Z, cmap="viridis", alpha=0.8, linewidth=0, antialiased=True)
    if hasattr(trajectories, "xs"):
        trajectories = [trajectories]
    for trajectory in trajectories:
        xs = _points(trajectory)
        ax.plot(xs[:, 0], xs[:, 1], f(xs.T), "r.-", markersize=3)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_zlabel("f(x)")
    ax.set_title(title or f"{f.name}: surface")
    return ax
