"""gdlab.plots: each plot draws what it is given, labels its axes, and skips what a log axis cannot show."""
import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from gdlab import plots  # noqa: E402
from gdlab.descent import gradient_descent  # noqa: E402
from gdlab.functions import Quadratic, himmelblau, rosenbrock  # noqa: E402


def test_contour_draws_every_trajectory_and_labels_axes():
    a = gradient_descent(himmelblau, himmelblau.grad, [0.0, 0.0], lr=0.01, steps=50)
    b = gradient_descent(himmelblau, himmelblau.grad, [-1.0, -1.0], lr=0.01, steps=50)
    ax = plots.contour(himmelblau, [a, b], labels=["a", "b"])
    lines = [line for line in ax.get_lines() if line.get_label() in ("a", "b")]
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert (lines[0].get_xydata() == a.xs).all()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_loss_curves_skip_non_finite_values():
    losses = np.array([4.0, 2.0, np.nan, 1.0, np.inf, 0.5, -np.inf])
    ax = plots.loss_curves(losses)
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 1, 3, 5])
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), [4.0, 2.0, 1.0, 0.5])


def test_loss_curves_on_a_log_axis_skip_gaps_at_or_below_zero():
    trace = gradient_descent(rosenbrock, rosenbrock.grad, [1.0, 1.0], lr=0.1, steps=3)  # starts at the minimum
    ax = plots.loss_curves([np.array([3.0, 0.0, -1.0, 2.0]), trace], labels=["losses", "at the minimum"], f_min=1.0)
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [0, 3])  # gaps 2, -1, -2, 1
    assert len(ax.get_lines()[1].get_xdata()) == 0  # f - f* = -1 everywhere
    linear = plots.loss_curves(np.array([3.0, 0.0, -1.0, np.nan]), log=False)
    np.testing.assert_array_equal(linear.get_lines()[0].get_xdata(), [0, 1, 2])
    assert linear.get_yscale() == "linear"


def test_path_1d_and_surface():
    q = Quadratic([[2.0]])
    trace = gradient_descent(q, q.grad, [2.0], lr=0.3, steps=10)
    ax = plots.path_1d(q, trace)
    assert ax.get_xlabel() == "x" and ax.get_title()
    np.testing.assert_allclose(ax.get_lines()[1].get_xdata(), trace.xs[:, 0])
    descent = gradient_descent(himmelblau, himmelblau.grad, [0.0, 0.0], lr=0.01, steps=20)
    ax3 = plots.surface(himmelblau, trajectories=descent)
    assert ax3.get_zlabel() == "f(x)" and len(ax3.get_lines()) == 1


def test_contour_colorbar_names_what_it_plots():
    ax = plots.contour(rosenbrock)
    bar = ax.figure.axes[-1]
    assert bar is not ax and bar.get_ylabel().startswith("log10(f - f* + ")
    delta = float(bar.get_ylabel().split("+ ")[1].rstrip(")"))
    low, _ = bar.get_ylim()
    assert abs(low - np.log10(delta)) < 0.5  # the darkest colour is the minimum, f - f* = 0
    ax = plots.contour(rosenbrock, colorbar=False)
    assert ax.figure.axes == [ax]
