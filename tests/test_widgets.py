"""Drive every explorer without a browser: set controls or drag the start as the browser does, then check that
what the plot is sent equals gdlab's own computation."""
import base64
import json
import shutil
import subprocess
import warnings
from pathlib import Path

import ipywidgets as W
import numpy as np
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.display import display
from IPython.utils.capture import capture_output

from gdlab import data, functions, optim, widgets
from gdlab.descent import gradient_descent, heavy_ball_best, heavy_ball_rate, minibatch_descent, minimize
from gdlab.models import LinearRegressionObjective, mse_grad
from gdlab.optim.lr_scheduler import make_scheduler
from gdlab.widgets import lr, race
from gdlab.widgets._explorer import values_of


def extreme_values(control):
    if isinstance(control, W.SelectionSlider):
        return [values_of(control)[0], values_of(control)[-1]]
    if isinstance(control, W.Dropdown):
        return values_of(control)
    return [control.min, control.max]


def float32(values):
    with np.errstate(over="ignore"):
        return np.asarray(values).astype("<f4")


def decoded(text):
    return np.frombuffer(base64.b64decode(text), dtype="<f4")


def sent_lines(box):
    """label -> (x, y) of every line the browser was sent, decoded."""
    series = [s for panel in box.plot.data["panels"] for s in panel["series"]]
    return {s["label"]: (decoded(s["x"]), decoded(s["y"])) for s in series}


def drag(box, x, y, request=1):
    """What the browser does when the reader drops the start point at (x, y): set the `drag` trait."""
    box.plot.set_state({"drag": [x, y, request]})


def points(line):
    return np.column_stack([line.x, line.y])


@pytest.mark.parametrize("name", widgets.__all__)
def test_every_explorer_builds_survives_every_extreme_and_sends_what_it_shows(name):
    box = getattr(widgets, name)()
    assert isinstance(box, W.Box) and box.controls and box.plot in box.children
    for panel in box.plot.figure["panels"]:
        assert panel["title"] and panel["xlabel"] and panel["ylabel"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for label, control in box.controls.items():
            for value in extreme_values(control):
                control.value = value
                assert not box.status.startswith("cannot draw"), f"{label}={value}: {box.status}"
                assert box.plot.data["status"] == box.status
                sent = sent_lines(box)
                for line_label, line in box.lines.items():
                    np.testing.assert_array_equal(sent[line_label][0], float32(line.x))
                    np.testing.assert_array_equal(sent[line_label][1], float32(line.y))


def test_lr_explorer_shows_gradient_descent_and_a_drag_recomputes_it():
    box = widgets.lr_explorer(objective="2-D: elongated quadratic (k = 10)", lr=0.05, steps=30)
    q, x0 = lr.OBJECTIVES["2-D: elongated quadratic (k = 10)"]
    trace = gradient_descent(q, q.grad, x0, lr=0.05, steps=30, tol=1e-10)
    np.testing.assert_array_equal(points(box.lines["path"]), trace.xs)
    np.testing.assert_array_equal(box.lines["f(x) \u2212 f*"].y, trace.losses - q.f_min)
    assert box.status.startswith("after 30 steps") and "lr \u00d7 L = 0.5" in box.status
    drag(box, 1.25, -2.0, request=7)
    moved = gradient_descent(q, q.grad, [1.25, -2.0], lr=0.05, steps=30, tol=1e-10)
    np.testing.assert_array_equal(points(box.lines["path"]), moved.xs)
    assert (box.controls["x0"].value, box.controls["y0"].value) == (1.25, -2.0)
    assert box.plot.data["seq"] == 7 and box.plot.data["panels"][0]["start"] == [1.25, -2.0]


def test_lr_explorer_says_how_a_run_ended_from_its_status():
    box = widgets.lr_explorer(steps=20)
    box.controls["lr"].value = 1.2  # lr x L = 2.4 > 2: |error| grows 1.4x per step, not yet a divergence
    assert box.status.startswith("after 20 steps f \u2212 f* grew from 6.25") and "smaller learning rate" in box.status
    assert box.plot.data["status_colour"] == "#a33a00"
    box.controls["lr"].value = 3.0
    assert box.status.startswith("diverged at step") and "try a smaller learning rate" in box.status
    box.controls["lr"].value = 0.5  # lr x L = 1: one step lands on the minimum
    assert box.status.startswith("converged in 1 steps")
    drag(box, -1.5, 0.0)  # in 1-D only x matters: the start is on the curve
    assert box.lines["path"].x[0] == -1.5 and box.lines["path"].y[0] == pytest.approx(2.25)


def test_lr_explorer_on_himmelblau_ends_in_the_basin_the_start_is_dragged_into():
    box = widgets.lr_explorer(objective="himmelblau", lr=0.01, steps=300)
    assert box.controls["objective"].value == "2-D: Himmelblau"
    for start in [(2.0, 1.0), (-2.0, 2.0), (-2.0, -2.0), (2.0, -1.5)]:
        drag(box, *start)
        end = points(box.lines["path"])[-1]
        trace = gradient_descent(functions.himmelblau, functions.himmelblau.grad, start, lr=0.01, steps=300, tol=1e-10)
        np.testing.assert_array_equal(end, trace.x)
        nearest = min(functions.himmelblau.minima, key=lambda m: np.linalg.norm(m - start))
        assert np.linalg.norm(end - nearest) < 1e-4, (start, end)


def test_lr_explorer_takes_an_objective_a_start_and_names_bad_arguments():
    saddle = functions.saddle
    box = widgets.lr_explorer(objective=saddle, x0=(1.0, 0.5))
    assert box.controls["objective"].value == "saddle" and box.lines["path"].x[0] == 1.0
    with pytest.raises(ValueError, match="objective must be one of"):
        widgets.lr_explorer(objective="himmelbau")
    with pytest.raises(ValueError, match="x0 must lie in the plotted box"):
        widgets.lr_explorer(objective="rosenbrock", x0=(5.0, 0.0))
    with pytest.raises(ValueError, match="x0 must have 2 coordinates"):
        widgets.lr_explorer(objective="rosenbrock", x0=(1.0,))
    with pytest.raises(ValueError, match=r"lr must be between 0.0001 and 10"):
        widgets.lr_explorer(lr=100)
    assert widgets.lr_explorer(lr=0.013).controls["lr"].value == 0.012  # the nearest round value of its slider
    with pytest.raises(ValueError, match="must be 1 or 2-D"):
        widgets.lr_explorer(objective=functions.Rosenbrock(3))
    with pytest.raises(ValueError, match="must list its minima"):
        widgets.lr_explorer(objective=functions.Quadratic(np.diag([1.0, -1.0])))


def test_momentum_explorer_matches_heavy_ball_and_its_rate():
    box = widgets.momentum_explorer(lr=1.5, momentum=0.8, kappa=100, steps=200)
    q = functions.Quadratic(np.diag([0.01, 1.0]))
    trace = minimize(q, q.grad, [-2.5, 1.5], optim.SGD(lr=1.5, momentum=0.8), steps=200, tol=0.0)
    np.testing.assert_array_equal(points(box.lines["path"]), trace.xs)
    slow = box.lines["|x\u2081|: slow direction"].y
    rate = max(heavy_ball_rate(1.5, 0.8, lam) for lam in (0.01, 1.0))
    assert (slow[-1] / slow[100]) ** (1 / 100) == pytest.approx(rate, rel=0.02)
    assert f"rate {rate:.4f}" in box.status


def test_momentum_explorer_shows_polyaks_best_pair_for_its_kappa():
    box = widgets.momentum_explorer(kappa=100)
    lr, momentum = heavy_ball_best(1.0, 0.01)
    rate = np.sqrt(momentum)
    assert f"best for \u03ba = 100: lr {lr:.3f}, momentum {momentum:.3f} \u2192 rate {rate:.4f}" in box.status
    assert "lr 3.306, momentum 0.669 \u2192 rate 0.8182" in box.status  # chapter 04, section 4
    box.controls["kappa"].value = 1000
    lr, momentum = heavy_ball_best(1.0, 0.001)
    assert f"best for \u03ba = 1000: lr {lr:.3f}, momentum {momentum:.3f}" in box.status


def test_momentum_explorer_start_on_an_eigenvector_keeps_the_other_error_at_zero():
    box = widgets.momentum_explorer(lr=0.5, momentum=0.5)
    drag(box, -2.0, 0.0)  # on the x1 axis, the eigenvector of the slow direction
    fast = box.lines["|x\u2082|: fast direction"].y
    assert np.all(np.isnan(fast)), "zero error is left out of the log plot: the line vanishes"
    assert np.all(box.lines["|x\u2081|: slow direction"].y > 0)
    assert "on an eigenvector: x\u2082 is 0 and stays 0" in box.status
    guides = box.plot.figure["panels"][0]["guides"]
    assert guides == {"x": [0.0], "y": [0.0], "label": "eigenvectors (the start snaps on)"}


def test_optimizer_race_lanes_are_minimize_runs_reused_for_shorter_races_and_redone_on_a_drag():
    box = widgets.optimizer_race(lanes=[("SGD", 1.5e-3, 0.0), ("NAdam", 0.02, 0.8)], steps=400)
    f = functions.rosenbrock
    full = minimize(f, f.grad, (-1.5, 2.0), optim.NAdam(lr=0.02, betas=(0.8, 0.999)), steps=400, tol=1e-10)
    np.testing.assert_array_equal(points(box.lines["2 NAdam"]), full.xs)
    box.controls["steps"].value = 100  # a prefix of the cached run equals a run of 100 steps
    short = minimize(f, f.grad, (-1.5, 2.0), optim.NAdam(lr=0.02, betas=(0.8, 0.999)), steps=100, tol=1e-10)
    np.testing.assert_array_equal(points(box.lines["2 NAdam"]), short.xs)
    note = f"2 NAdam, lr 2.0e-02, \u03b2 0.80: f \u2212 f* = {short.losses[-1]:.1e} after 100 steps"
    assert (note, race.COLOURS[1]) in box.view.notes
    drag(box, 0.5, -0.5, request=3)
    for lane, optimizer in (("1 SGD", optim.SGD(lr=1.5e-3)), ("2 NAdam", optim.NAdam(lr=0.02, betas=(0.8, 0.999)))):
        moved = minimize(f, f.grad, (0.5, -0.5), optimizer, steps=100, tol=1e-10)
        np.testing.assert_array_equal(points(box.lines[lane]), moved.xs)
    assert box.plot.data["seq"] == 3
    box.controls["lr1"].value = 10.0
    assert box.status == "lane 1 diverged: try a smaller lr"
    assert box.view.notes[0][0].startswith("1 SGD, lr 1.0e+01: diverged at step")
    box.controls["optimizer1"].value = box.controls["optimizer2"].value = "(none)"
    assert box.status == "pick an optimizer in one of the lanes" and not box.lines


def test_optimizer_race_calls_lanes_that_all_solved_the_problem_a_tie():
    assert race.standings({"1 SGD": 0.5, "2 Adam": 0.01}, 200) == ("lowest f after 200 steps: 2 Adam", "neutral")
    finals = {"1 SGD": 3e-7, "2 SGD + momentum": 2.4e-7, "3 Adam": 2e-6}
    status, tone = race.standings(finals, 200)
    assert "lanes 1 SGD, 2 SGD + momentum: a tie" in status and tone == "good"
    box = widgets.optimizer_race(objective="himmelblau", x0=(0.0, 0.0))  # momentum and Adam both end below 1e-6
    assert box.status.endswith("in lanes 2 SGD + momentum, 3 Adam: a tie")


def test_optimizer_race_moves_the_start_sliders_into_each_objectives_domain():
    box = widgets.optimizer_race()
    for name, (f, start) in race.OBJECTIVES.items():
        box.controls["objective"].value = name
        for slider, (low, high), value in zip((box.controls["x0"], box.controls["y0"]), f.domain, start):
            assert (slider.min, slider.max, slider.value) == pytest.approx((low, high, value))
        assert not box.status.startswith("cannot draw")


def test_minibatch_explorer_path_is_minibatch_sgd_and_full_batch_is_smooth():
    box = widgets.minibatch_explorer(batch_size=20, lr=0.1, epochs=3, seed=4)
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    rng, w, b, expected = np.random.default_rng(4), np.zeros(1), 0.0, [[0.0, 0.0]]
    for _ in range(3):
        for Xb, yb in data.minibatches(dataset.X, dataset.y, 20, rng):
            gw, gb = mse_grad(w, b, Xb, yb)
            w, b = w - 0.1 * gw, b - 0.1 * gb
            expected.append([w[0], b])
    np.testing.assert_allclose(points(box.lines["path"]), expected, rtol=1e-12)
    assert box.status.startswith("30 updates of 20 samples")
    box.controls["batch_size"].value = 200  # full batch: plain gradient descent, the gap falls every step
    assert np.all(np.diff(box.lines["gap"].y) < 0)
    box.controls["batch_size"].value = 1  # one sample per step: the gap jumps up and down
    assert np.mean(np.diff(box.lines["gap"].y) > 0) > 0.3
    box.controls["lr"].value = 1.0
    assert box.status.startswith("diverged at update") and "smaller learning rate or a larger batch" in box.status


def test_minibatch_explorer_reuses_a_longer_run_for_fewer_epochs(monkeypatch):
    from gdlab.widgets import minibatch

    calls = []
    monkeypatch.setattr(minibatch, "minibatch_descent", lambda *a, **k: calls.append(1) or minibatch_descent(*a, **k))
    box = widgets.minibatch_explorer(epochs=12)
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    for epochs in (5, 13, 30, 20):  # 13 needs a longer run: it runs to the slider's maximum, 30; then only prefixes
        box.controls["epochs"].value = epochs
        trace = minibatch_descent(dataset.X, dataset.y, optim.SGD(lr=0.05), 10, epochs, seed=0)
        np.testing.assert_array_equal(points(box.lines["path"]), trace.xs)
    assert len(calls) == 2


def test_minibatch_explorer_drag_starts_the_run_there():
    box = widgets.minibatch_explorer(batch_size=20, lr=0.1, epochs=3, seed=4)
    assert box.plot.figure["panels"][0]["drag"] == "xy" and box.plot.data["panels"][0]["start"] == [0.0, 0.0]
    drag(box, 1.25, -1.5, request=5)
    dataset = data.linear_regression(n=200, n_features=1, noise=1.0, seed=0)
    trace = minibatch_descent(dataset.X, dataset.y, optim.SGD(lr=0.1), 20, 3, seed=4, x0=[1.25, -1.5])
    np.testing.assert_array_equal(points(box.lines["path"]), trace.xs)
    gap = trace.losses - LinearRegressionObjective(dataset.X, dataset.y).f_min
    np.testing.assert_array_equal(box.lines["gap"].y, np.where(gap > 0, gap, np.nan))
    assert (box.controls["x0"].value, box.controls["y0"].value) == (1.25, -1.5)
    assert box.plot.data["seq"] == 5 and box.plot.data["panels"][0]["start"] == [1.25, -1.5]
    assert widgets.minibatch_explorer(x0=(0.5, 0.25)).lines["path"].x[0] == 0.5
    with pytest.raises(ValueError, match="x0 must lie in the plotted box"):
        widgets.minibatch_explorer(x0=(5.0, 0.0))


@pytest.mark.skipif(int(W.__version__.split(".")[0]) < 8, reason="ipywidgets 7 sends nothing without a kernel, and "
                                                                   "echoes nothing")
def test_a_drag_sends_the_plot_first_then_the_start_sliders_and_no_echo(monkeypatch):
    box = widgets.momentum_explorer()
    sent = []
    monkeypatch.setattr(W.Widget, "_send", lambda self, msg, buffers=None: sent.append((self, msg["method"])))
    drag(box, -2.0, 0.5)
    assert sent[0] == (box.plot, "update") and {w for w, _ in sent[1:]} == {box.controls["x0"], box.controls["y0"]}
    assert all(method == "update" for _, method in sent), "the drag trait is not echoed to the browser"


def test_a_setting_the_run_ignores_recomputes_nothing(monkeypatch):
    from gdlab.widgets import schedule

    calls = []
    for module, runner in ((schedule, "minibatch_descent"), (race, "minimize")):
        original = getattr(module, runner)
        monkeypatch.setattr(module, runner, lambda *a, original=original, **k: calls.append(1) or original(*a, **k))
    box = widgets.schedule_explorer(schedule="cosine")
    before, shown = len(calls), box.lines["cosine"].y
    box.controls["gamma"].value = 0.9  # cosine has no gamma
    assert len(calls) == before and np.array_equal(box.lines["cosine"].y, shown)
    box = widgets.optimizer_race(lanes=[("SGD", 0.001, 0.0)])
    before = len(calls)
    box.controls["beta1"].value = 0.5  # plain SGD has no momentum
    assert len(calls) == before
    box.controls["lr1"].value = 0.002
    assert len(calls) == before + 1


@pytest.mark.parametrize("schedule", ["step", "cosine", "warm-up + cosine", "one-cycle"])
def test_schedule_explorer_draws_the_gdlab_schedule(schedule):
    box = widgets.schedule_explorer(schedule=schedule, lr=0.2, epochs=30, gamma=0.7, step_size=4, warmup=6)
    optimizer = optim.SGD(lr=0.2)
    scheduler, expected = make_scheduler(schedule, optimizer, 30, gamma=0.7, step_size=4, warmup=6), []
    for _ in range(30):
        expected.append(optimizer.lr)
        scheduler.step()
    np.testing.assert_allclose(box.lines["lr"].y * 0.2, expected, rtol=1e-12)
    assert box.controls["gamma"].disabled == (schedule != "step")
    assert box.status.startswith(f"{schedule}, peak lr 0.200: final gap")


def test_schedule_explorer_beats_the_constant_lr_noise_floor_with_a_decay():
    box = widgets.schedule_explorer()
    assert box.lines["cosine"].y[-1] < box.lines["constant lr"].y[-1] / 3


@pytest.mark.parametrize("name", widgets.__all__)
def test_a_displayed_explorer_carries_a_png_of_its_first_state(name):
    InteractiveShell.instance()
    box = getattr(widgets, name)()
    with capture_output() as captured:
        display(box)
    (output,) = captured.outputs
    assert output.data["application/vnd.jupyter.widget-view+json"]["model_id"] == box.model_id
    png = base64.b64decode(output.data["image/png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1000 and 400 <= height <= 600


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_javascript_is_a_valid_es_module(tmp_path):
    """A syntax error would show up only in a browser: Node.js parses the module here (as an .mjs file)."""
    module = tmp_path / "explorer.mjs"
    shutil.copy(Path(widgets.__file__).with_name("explorer.js"), module)
    checked = subprocess.run(["node", "--check", str(module)], check=False, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


ROOT = Path(__file__).resolve().parents[1]
EXPLORER_CHAPTERS = sorted(ROOT.glob("notebooks/0[2-7]_*.ipynb"))


@pytest.mark.parametrize("chapter", EXPLORER_CHAPTERS, ids=[p.stem[:2] for p in EXPLORER_CHAPTERS])
def test_a_saved_chapter_carries_the_explorer_javascript_gdlab_ships(chapter):
    """JupyterLab draws a notebook's saved widget state before a kernel runs: an explorer saved with an older
    explorer.js would behave differently until the cell is run (re-execute the chapter after editing the JS)."""
    shipped = (ROOT / "gdlab" / "widgets" / "explorer.js").read_text(encoding="utf-8")
    state = json.loads(chapter.read_text(encoding="utf-8"))["metadata"]["widgets"]
    saved = [model["state"]["_esm"] for model in state["application/vnd.jupyter.widget-state+json"]["state"].values()
             if "_esm" in model["state"]]
    assert saved and all(esm == shipped for esm in saved), f"{chapter.name} holds another explorer.js"


def test_the_training_progress_bar_of_chapter_10_draws_with_this_ipywidgets():
    """gdlab.nn.train(progress=True) uses tqdm.auto, which in a notebook kernel is tqdm.notebook's widget bar;
    `make test-colab` runs this with Colab's tqdm and ipywidgets 7.7.1 (chapter 10 itself needs torch)."""
    from tqdm.notebook import tqdm

    InteractiveShell.instance()
    with warnings.catch_warnings(), capture_output() as captured:
        warnings.simplefilter("error")
        bar = tqdm(range(3), desc="training", unit="epoch")
        for _ in bar:
            bar.set_postfix(loss="0.1000")
    (output,) = captured.outputs
    assert "application/vnd.jupyter.widget-view+json" in output.data and not captured.stderr
    progress = bar.container.children[1]
    assert (progress.value, progress.max, progress.bar_style) == (3, 3, "success")
