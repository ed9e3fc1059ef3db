"""Drive every explorer without a browser: set controls, check what the figure then shows."""
import warnings

import ipywidgets as W
import numpy as np
import pytest

from gdlab import optim, widgets
from gdlab.descent import gradient_descent, minimize
from gdlab.functions import Quadratic


def line_with_label(figure, label):
    return next(line for ax in figure.axes for line in ax.get_lines() if line.get_label() == label)


def extreme_values(control):
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons)):
        return [o[1] if isinstance(o, tuple) else o for o in control.options]
    if isinstance(control, W.FloatLogSlider):
        return [control.base**control.min, control.base**control.max]
    if isinstance(control, W.Checkbox):
        return [True, False]
    return [control.min, control.max]


@pytest.mark.parametrize("name", widgets.__all__)
def test_every_explorer_builds_with_defaults_and_survives_every_extreme(name):
    box = getattr(widgets, name)()
    assert isinstance(box, W.Box) and box.controls and box.figure.axes
    image = box.children[-1]
    for ax in box.figure.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, control in box.controls.items():
            for value in extreme_values(control):
                control.value = value
                assert not box.status.startswith("cannot draw"), f"{label}={value}: {box.status}"
                assert image.value[:8] == b"\x89PNG\r\n\x1a\n"


def test_lr_explorer_shows_the_gradient_descent_trajectory():
    box = widgets.lr_explorer()
    box.controls["objective"].value = "2-D: elongated quadratic (k = 10)"
    box.controls["lr"].value = 0.05
    box.controls["steps"].value = 30
    q, x0 = widgets._LR_OBJECTIVES["2-D: elongated quadratic (k = 10)"]
    trace = gradient_descent(q, q.grad, x0, lr=0.05, steps=30, tol=1e-10)
    path = line_with_label(box.figure, "path")
    np.testing.assert_array_equal(np.column_stack(path.get_data()), trace.xs)
    assert box.status.startswith("stopped after 30 steps") and "lr x L = 0.5" in box.status


def test_lr_explorer_reports_divergence_on_the_plot():
    box = widgets.lr_explorer()
    box.controls["objective"].value = "1-D: f(x) = x^2"
    box.controls["lr"].value = 1.01  # lr x L = 2.02 > 2: |error| grows 1.02x per step, slowly
    assert box.status.startswith("diverging: f - f* grew") and "try a smaller learning rate" in box.status
    assert box.figure.axes[0].texts[0].get_text() == box.status
    box.controls["lr"].value = 3.0
    assert box.status.startswith("diverged at step") and "try a smaller learning rate" in box.status
    box.controls["lr"].value = 0.99
    assert not box.status.startswith("diverged")


def test_momentum_explorer_matches_sgd_with_momentum_and_the_theoretical_rate():
    box = widgets.momentum_explorer()
    box.controls["kappa"].value = 100
    box.controls["lr"].value = 1.5
    box.controls["momentum"].value = 0.8
    box.controls["steps"].value = 200
    q = Quadratic(np.diag([0.01, 1.0]))
    trace = minimize(q, q.grad, [-2.5, 1.5], optim.SGD(lr=1.5, momentum=0.8), steps=200, tol=0.0)
    path = line_with_label(box.figure, "path")
    np.testing.assert_allclose(np.column_stack(path.get_data()), trace.xs, rtol=0, atol=0)
    slow = line_with_label(box.figure, "direction of the smallest eigenvalue (slow)").get_ydata()
    rate = max(widgets.heavy_ball_rate(1.5, 0.8, lam) for lam in (0.01, 1.0))
    measured = (slow[-1] / slow[100]) ** (1 / 100)
    assert measured == pytest.approx(rate, rel=0.02)
    assert f"rate {rate:.4f}" in box.status


def test_heavy_ball_rate_is_the_textbook_optimum():
    kappa = 100.0
    lr, beta = (2 / (1 + np.sqrt(1 / kappa))) ** 2, ((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1)) ** 2
    rate = max(widgets.heavy_ball_rate(lr, beta, lam) for lam in (1 / kappa, 1.0))
    assert rate == pytest.approx((np.sqrt(kappa) - 1) / (np.sqrt(kappa) + 1), rel=1e-6)
    assert widgets.heavy_ball_rate(1.0, 0.0, 0.5) == pytest.approx(0.5)
