"""Drive every explorer without a browser: set controls, check what the figure then shows."""
import warnings

import ipywidgets as W
import numpy as np
import pytest

from gdlab import data, optim, widgets
from gdlab.descent import gradient_descent, minimize
from gdlab.functions import Quadratic
from gdlab.models import mse_grad
from gdlab.optim import lr_scheduler


def line_with_label(figure, label):
    return next(line for ax in figure.axes for line in ax.get_lines() if line.get_label() == label)


def extreme_values(control):
    if isinstance(control, (W.Dropdown, W.ToggleButtons, W.RadioButtons, W.SelectionSlider)):
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
    image = next(child for child in box.children if isinstance(child, W.Image))
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


def test_optimizer_race_shows_each_lanes_minimize_trajectory_and_reuses_longer_runs():
    box = widgets.optimizer_race()
    box.controls["objective"].value = "Rosenbrock"
    box.controls["optimizer4"].value = "NAdam"
    box.controls["lr4"].value = 0.02
    box.controls["beta4"].value = 0.8
    box.controls["steps"].value = 400
    f = widgets._RACE_OBJECTIVES["Rosenbrock"][0]
    x0 = [box.controls["x0"].value, box.controls["y0"].value]
    trace = minimize(f, f.grad, x0, optim.NAdam(lr=0.02, betas=(0.8, 0.999)), steps=400, tol=1e-10)
    np.testing.assert_array_equal(np.column_stack(line_with_label(box.figure, "path 4").get_data()), trace.xs)
    box.controls["steps"].value = 100  # a prefix of the cached run, equal to a run of 100 steps
    short = minimize(f, f.grad, x0, optim.NAdam(lr=0.02, betas=(0.8, 0.999)), steps=100, tol=1e-10)
    np.testing.assert_array_equal(np.column_stack(line_with_label(box.figure, "path 4").get_data()), short.xs)
    assert f"4 NAdam, lr 2.0e-02, β 0.80: f - f* {short.losses[-1]:.1e}" in box.lanes.value
    box.controls["steps"].value = 600  # longer than the cached run: redone, to the slider's maximum
    longer = minimize(f, f.grad, x0, optim.NAdam(lr=0.02, betas=(0.8, 0.999)), steps=600, tol=1e-10)
    np.testing.assert_array_equal(np.column_stack(line_with_label(box.figure, "path 4").get_data()), longer.xs)
    box.controls["lr1"].value = 10.0
    assert box.status == "lane 1 diverged: try a smaller lr"
    assert "1 SGD, lr 1.0e+01: diverged at step" in box.lanes.value
    box.controls["optimizer1"].value = "(none)"
    assert box.status.startswith("lowest f after 600 steps: ")


def test_optimizer_race_moves_the_start_sliders_into_each_objectives_domain():
    box = widgets.optimizer_race()
    for name, (f, start) in widgets._RACE_OBJECTIVES.items():
        box.controls["objective"].value = name
        for slider, (low, high), value in zip((box.controls["x0"], box.controls["y0"]), f.domain, start):
            assert (slider.min, slider.max, slider.value) == pytest.approx((low, high, value))
        assert not box.status.startswith("cannot draw")


def test_minibatch_explorer_path_is_minibatch_sgd_and_full_batch_is_smooth():
    box = widgets.minibatch_explorer()
    box.controls["batch_size"].value = 20
    box.controls["lr"].value = 0.1
    box.controls["epochs"].value = 3
    box.controls["seed"].value = 4
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    rng, w, b, expected = np.random.default_rng(4), np.zeros(1), 0.0, [[0.0, 0.0]]
    for _ in range(3):
        for Xb, yb in data.minibatches(dataset.X, dataset.y, 20, rng):
            gw, gb = mse_grad(w, b, Xb, yb)
            w, b = w - 0.1 * gw, b - 0.1 * gb
            expected.append([w[0], b])
    np.testing.assert_allclose(np.column_stack(line_with_label(box.figure, "path").get_data()), expected, rtol=1e-12)
    assert box.status.startswith("30 updates of 20 samples")

    def gap_curve():
        return line_with_label(box.figure, "gap").get_ydata()

    box.controls["batch_size"].value = 200  # full batch: plain gradient descent, the gap falls every step
    assert np.all(np.diff(gap_curve()) < 0)
    box.controls["batch_size"].value = 1  # one sample per step: the gap jumps up and down
    assert np.mean(np.diff(gap_curve()) > 0) > 0.3
    box.controls["batch_size"].value = 1
    box.controls["lr"].value = 1.0
    assert box.status.startswith("diverged at update") and "smaller learning rate or a larger batch" in box.status


@pytest.mark.parametrize("schedule", ["step", "cosine", "warm-up + cosine", "one-cycle"])
def test_schedule_explorer_draws_the_gdlab_schedule(schedule):
    box = widgets.schedule_explorer()
    for name, value in {"schedule": schedule, "lr": 0.2, "epochs": 30, "gamma": 0.7, "step_size": 4, "warmup": 6}.items():
        box.controls[name].value = value
    opt = optim.SGD(lr=0.2)
    scheduler = {"step": lambda: lr_scheduler.StepLR(opt, step_size=4, gamma=0.7),
                 "cosine": lambda: lr_scheduler.CosineAnnealingLR(opt, T_max=30),
                 "warm-up + cosine": lambda: lr_scheduler.SequentialLR(opt, [
                     lr_scheduler.LinearLR(opt, start_factor=0.01, total_iters=6),
                     lr_scheduler.CosineAnnealingLR(opt, T_max=24)], milestones=[6]),
                 "one-cycle": lambda: lr_scheduler.OneCycleLR(opt, max_lr=0.2, total_steps=30, pct_start=0.2,
                                                              cycle_momentum=False)}[schedule]()
    expected = []
    for epoch in range(30):
        expected.append(opt.lr)
        if epoch < 29:
            scheduler.step()
    drawn = line_with_label(box.figure, "lr").get_ydata() * 0.2
    np.testing.assert_allclose(drawn, expected, rtol=1e-12)
    assert box.controls["gamma"].disabled == (schedule != "step")
    assert box.status.startswith(f"{schedule}, peak lr 0.200: final gap")


def test_schedule_explorer_beats_the_constant_lr_noise_floor_with_a_decay():
    box = widgets.schedule_explorer()
    box.controls["schedule"].value = "cosine"
    ours = line_with_label(box.figure, "with the schedule").get_ydata()[-1]
    constant = line_with_label(box.figure, "constant lr").get_ydata()[-1]
    assert ours < constant / 3
