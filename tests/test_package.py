import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import gdlab  # noqa: E402
from gdlab import plots  # noqa: E402
from gdlab.descent import gradient_descent  # noqa: E402
from gdlab.functions import Quadratic, himmelblau, rosenbrock  # noqa: E402


def test_import_gdlab_is_light():
    code = "import sys, gdlab; print(sorted(m for m in ('matplotlib', 'torch', 'ipywidgets', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_submodules_load_on_first_use():
    assert gdlab.plots is plots
    try:
        gdlab.no_such_module
    except AttributeError as error:
        assert "no_such_module" in str(error)
    else:
        raise AssertionError("expected AttributeError")


def test_contour_draws_every_trajectory_and_labels_axes():
    a = gradient_descent(himmelblau, himmelblau.grad, [0.0, 0.0], lr=0.01, steps=50)
    b = gradient_descent(himmelblau, himmelblau.grad, [-1.0, -1.0], lr=0.01, steps=50)
    ax = plots.contour(himmelblau, [a, b], labels=["a", "b"])
    lines = [line for line in ax.get_lines() if line.get_label() in ("a", "b")]
    assert [line.get_label() for line in lines] == ["a", "b"]
    assert (lines[0].get_xydata() == a.xs).all()
    assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()


def test_loss_curves_skip_non_finite_values():
    trace = gradient_descent(rosenbrock, rosenbrock.grad, [-1.0, 1.0], lr=0.1, steps=100)
    assert trace.status == "diverged"
    ax = plots.loss_curves(trace)
    assert ax.get_yscale() == "log"
    assert len(ax.get_lines()[0].get_xdata()) <= len(trace.losses)


def test_path_1d_and_surface():
    q = Quadratic([[2.0]])
    trace = gradient_descent(q, q.grad, [2.0], lr=0.3, steps=10)
    ax = plots.path_1d(q, trace)
    assert ax.get_xlabel() == "x" and ax.get_title()
    descent = gradient_descent(himmelblau, himmelblau.grad, [0.0, 0.0], lr=0.01, steps=20)
    ax3 = plots.surface(himmelblau, trajectories=descent)
    assert ax3.get_zlabel() == "f(x)" and len(ax3.get_lines()) == 1
