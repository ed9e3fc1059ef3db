"""gdlab.check: right answers PASS, untouched tasks TODO, and planted mistakes FAIL with the right hint."""
import subprocess
import sys

import numpy as np
import pytest

from gdlab import check


def stub(task):
    def todo(*args, **kwargs):
        raise NotImplementedError(f"Task {task}: replace this line with your code")

    return todo


def assert_reports(capsys, result, status, hint=""):
    lines = capsys.readouterr().out.splitlines()
    assert lines == [str(result)], "a check prints exactly one line"
    assert lines[0].startswith(status + " ") and result.status == status, lines[0]
    assert hint in result.message, f"expected {hint!r} in: {lines[0]}"
    assert "Traceback" not in lines[0]


# ---------------------------------------------------------------------------------------------
# The core


def test_run_reports_pass_fail_todo_and_exceptions_in_one_line(capsys):
    result = check.run("Task 1 · demo", lambda: "all good")
    assert_reports(capsys, result, "PASS", "all good")
    assert result.passed and str(result) == "PASS Task 1 · demo: all good"

    result = check.run("Task 1 · demo", lambda: check.fail("wrong\n  sign"))
    assert_reports(capsys, result, "FAIL", "wrong sign")
    assert not result.passed

    result = check.run("Task 1 · demo", lambda: check.call(stub(1)))
    assert_reports(capsys, result, "TODO", "not implemented yet")

    result = check.run("Task 2 · demo", lambda: check.call(stub(1)))
    assert_reports(capsys, result, "TODO", "this task uses Task 1, which is not implemented yet")

    def broken(x):
        return 1 / x

    result = check.run("Task 1 · demo", lambda: check.call(broken, 0))
    assert_reports(capsys, result, "FAIL", "broken raised ZeroDivisionError: division by zero")


def test_run_turns_an_unusable_answer_into_a_fail(capsys):
    result = check.run("Task 1 · demo", lambda: check.close(["a", "b"], [1.0, 2.0], "your answer"))
    assert_reports(capsys, result, "FAIL", "your answer should be numbers, got a list")
    result = check.run("Task 1 · demo", lambda: check.number({"x": 1}, "your answer") + 1)
    assert_reports(capsys, result, "FAIL", "should be numbers")


@pytest.mark.parametrize("actual, hint", [
    (np.array([1.0, 2.0]), None),
    (np.array([1.0, 2.0 + 1e-12]), None),
    (np.array([-1.0, -2.0]), "wrong sign"),
    (np.array([2.0, 4.0]), "off by a factor of 2 (twice"),
    (np.array([0.5, 1.0]), "off by a factor of 2 (half"),
    (np.array([3.0, 6.0]), "gradients accumulated: call zero_grad"),
    (np.array([[1.0], [2.0]]), "has shape (2, 1), expected (2,): as many numbers, arranged differently"),
    (np.array([1.0, 2.0, 3.0]), "has shape (3,), expected (2,)"),
    (np.array([1.0, np.nan]), "contains NaN or inf"),
    (None, "did you forget `return`?"),
    (np.array([1.0, 2.5]), "is [1, 2.5], expected [1, 2] (relative error 0.19)"),
])
def test_close_names_the_mistake(actual, hint):
    mistakes = {"gradients accumulated: call zero_grad before backward": np.array([3.0, 6.0])}
    if hint is None:
        np.testing.assert_array_equal(check.close(actual, [1.0, 2.0], "g", mistakes), actual)
        return
    with pytest.raises(check._Fail) as failure:
        check.close(actual, [1.0, 2.0], "g", mistakes)
    assert hint in str(failure.value) and str(failure.value).startswith("g")


def test_named_mistakes_come_before_the_generic_ones():
    with pytest.raises(check._Fail, match="forgot the bias correction"):
        check.close([2.0], [1.0], "m", {"forgot the bias correction": [2.0]})


def test_close_accepts_torch_tensors():
    torch = pytest.importorskip("torch")
    check.close(torch.tensor([1.0, 2.0], requires_grad=True) * 1, [1.0, 2.0], "t")


def test_number_wants_one_number():
    assert check.number(np.float64(2.5), "x") == 2.5
    with pytest.raises(check._Fail, match=r"one number, got an array of shape \(1,\)"):
        check.number(np.array([2.5]), "x")


def test_a_new_chapter_registers_its_tasks(capsys):
    class ch99(check.Chapter):
        """99 · Demo."""

        def task1(double):
            "doubling"
            check.close(check.call(double, 3.0), 6.0, "double(3)")
            return "doubles."

    result = ch99.task1(lambda x: 2 * x)
    assert_reports(capsys, result, "PASS", "doubles.")
    assert str(result).startswith("PASS Task 1 · doubling: ")
    assert_reports(capsys, ch99.task1(lambda x: -2 * x), "FAIL", "double(3): wrong sign")
    assert ch99.task1.__doc__ == "doubling"


def test_import_check_is_light():
    code = "import sys, gdlab.check; print([m for m in ('matplotlib', 'torch', 'ipywidgets') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_result_does_not_display_twice_in_a_notebook():
    result = check.Result("PASS", "Task 1 · x", "fine")
    assert result._ipython_display_() is None


# ---------------------------------------------------------------------------------------------
# 01 · Gradients by hand


def central_difference(f, x, h=1e-5):
    g = np.zeros(x.shape)
    for i in range(x.size):
        step = np.zeros(x.shape)
        step[i] = h
        g[i] = (f(x + step) - f(x - step)) / (2 * h)
    return g


def relative_error(g, g_num):
    scale = max(np.linalg.norm(g), np.linalg.norm(g_num))
    return 0.0 if scale == 0 else np.linalg.norm(g - g_num) / scale


def aliasing_central_difference(f, x, h=1e-5):
    g = np.zeros(x.shape)
    for i in range(x.size):
        x_plus, x_minus = x, x.copy()
        x_plus[i] += h
        x_minus[i] -= h
        g[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return g


def worst_errors(f, df, xs, hs, method="central"):
    if method == "forward":
        return [np.max(np.abs((f(xs + h) - f(xs)) / h - df(xs))) for h in hs]
    return [np.max(np.abs((f(xs + h) - f(xs - h)) / (2 * h) - df(xs))) for h in hs]


def raise_value_error(*args):
    raise ValueError("boom")


CH01 = [
    ("task1", lambda x: 3 * x**2 - 4 * x + 3, "PASS", "matches at 5 points"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda x: 3 * x**2 - 2 * x + 3, "FAIL", "the derivative of 2x² is 4x"),
    ("task1", lambda x: x**2 - 4 * x + 3, "FAIL", "the derivative of x³ is 3x²"),
    ("task1", lambda x: -(3 * x**2 - 4 * x + 3), "FAIL", "wrong sign"),
    ("task1", lambda x: x**3 - 2 * x**2 + 3 * x - 1, "FAIL", "that is f(x) itself"),
    ("task1", lambda x: None, "FAIL", "did you forget `return`?"),
    ("task1", lambda x: np.array([3 * x**2 - 4 * x + 3]), "FAIL", "should be one number"),
    ("task1", raise_value_error, "FAIL", "raised ValueError: boom"),
    ("task2", lambda A, b, x: A @ x - b, "PASS", "A x - b"),
    ("task2", lambda A, b, x: A @ x @ A - b, "FAIL", "expected"),
    ("task2", lambda A, b, x: 2 * A @ x - b, "FAIL", "forgot the ½"),
    ("task2", lambda A, b, x: A @ x + b, "FAIL", "the gradient of -bᵀx is -b"),
    ("task2", lambda A, b, x: (A @ x - b)[:, None], "FAIL", "has shape (2, 1), expected (2,)"),
    ("task3", lambda X, y, w: 2 / len(y) * X.T @ (X @ w - y), "PASS", "matches"),
    ("task3", lambda X, y, w: X.T @ (X @ w - y) / len(y), "FAIL", "the 2 from the square is missing"),
    ("task3", lambda X, y, w: 2 * X.T @ (X @ w - y), "FAIL", "the mean divides it by n"),
    ("task3", lambda X, y, w: 2 / len(y) * X.T @ (y - X @ w), "FAIL", "the residual is Xw - y"),
    ("task3", lambda X, y, w: 2 / len(y) * X * (X @ w - y)[:, None], "FAIL", "one gradient per sample"),
    ("task3", lambda X, y, w: X @ (X @ w - y), "FAIL", "raised ValueError: matmul"),
    ("task4", central_difference, "PASS", "forward differences"),
    ("task4", lambda f, x, h=1e-5: np.array([(f(x + e) - f(x)) / h for e in np.eye(x.size) * h]), "FAIL",
     "that is the forward difference"),
    ("task4", lambda f, x, h=1e-5: 2 * central_difference(f, x, h), "FAIL", "divide by 2h"),
    ("task4", aliasing_central_difference, "FAIL", "changed x in place"),
    ("task5", lambda f, grad, x: relative_error(grad(x), central_difference(f, x, 1e-5)), "PASS", "catches it"),
    ("task5", lambda f, grad, x: np.linalg.norm(grad(x) - central_difference(f, x, 1e-5)), "FAIL",
     "that is the absolute error"),
    ("task5", lambda f, grad, x: np.linalg.norm(grad(x) - central_difference(f, x, 1e-5))
     / (np.linalg.norm(grad(x)) + np.linalg.norm(central_difference(f, x, 1e-5))), "FAIL", "not by ||g|| + ||g_num||"),
    ("task5", lambda f, grad, x: np.linalg.norm(grad(x) - central_difference(f, x, 1e-5))
     / max(np.linalg.norm(grad(x)), np.linalg.norm(central_difference(f, x, 1e-5))), "FAIL", "return 0.0"),
    ("task5", lambda f, grad, x: float(np.linalg.norm(grad(x) - central_difference(f, x, 1e-5)))
     / float(max(np.linalg.norm(grad(x)), np.linalg.norm(central_difference(f, x, 1e-5)))), "FAIL",
     "ZeroDivisionError"),
    ("task5", lambda f, grad, x: grad(x) - central_difference(f, x, 1e-5), "FAIL", "should be one number"),
    ("task5", lambda f, grad, x: relative_error(grad(x), stub(4)(f, x)), "TODO", "uses Task 4"),
    ("task6", lambda f, df, xs, hs: hs[np.argmin(worst_errors(f, df, xs, hs))], "PASS",
     "h = 1e-05 in float64 and h = 1e-02 in float32"),
    ("task6", lambda f, df, xs, hs: hs.min(), "FAIL", "the smallest h is not the best"),
    ("task6", lambda f, df, xs, hs: hs[np.argmin(worst_errors(f, df, xs, hs, "forward"))], "FAIL",
     "the best step for forward differences"),
    ("task6", lambda f, df, xs, hs: np.argmin(worst_errors(f, df, xs, hs)), "FAIL", "an index: return the step itself"),
    ("task6", lambda f, df, xs, hs: min(worst_errors(f, df, xs, hs)), "FAIL", "not one of hs"),
    ("task6", lambda f, df, xs, hs: hs[0], "FAIL", "has a largest error of"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH01, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH01])
def test_ch01(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch01, task)(answer), status, hint)


# ---------------------------------------------------------------------------------------------
# 02 · Gradient descent


def descend(grad, x0, lr, steps, first=0, sign=-1):
    x = np.array(x0, dtype=float)
    xs = [x]
    for _ in range(steps):
        x = x + sign * lr * grad(x)
        xs.append(x)
    return np.array(xs[first:])


def appends_the_same_array(grad, x0, lr, steps):
    x, xs = np.array(x0, dtype=float), []
    xs.append(x)
    for _ in range(steps):
        x -= lr * grad(x)
        xs.append(x)
    return np.array(xs)


def moves_x0_in_place(grad, x0, lr, steps):
    x, xs = x0, [x0.copy()]
    for _ in range(steps):
        x -= lr * grad(x)
        xs.append(x.copy())
    return np.array(xs)


def steps_to_tolerance(grad, x0, lr, tol=1e-6, max_steps=10_000, offset=0, give_up=None):
    x = np.array(x0, dtype=float)
    for k in range(max_steps + 1):
        g = grad(x)
        if not np.isfinite(np.linalg.norm(g)):
            return give_up
        if np.linalg.norm(g) <= tol:
            return k + offset
        x = x - lr * g
    return give_up


def fastest(lrs, steps):
    return min((s, lr) for s, lr in zip(steps, lrs) if s is not None)[1]


def lambda_max_wrong_order(A):
    return 2 / np.linalg.eigvalsh(A)[0]


CH02 = [
    ("task1", descend, "PASS", "10 updates, 11 points, x0 untouched"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps, sign=1), "FAIL", "you moved uphill"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps, first=1), "FAIL", "x0 is missing"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps - 1), "FAIL", "one update short"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps + 1), "FAIL", "one update too many"),
    ("task1", lambda grad, x0, lr, steps: descend(grad, x0, lr, steps)[-1], "FAIL", "only the last point"),
    ("task1", appends_the_same_array, "FAIL", "every row is the same point"),
    ("task1", moves_x0_in_place, "FAIL", "changed the caller's x0 in place"),
    ("task2", steps_to_tolerance, "PASS", "0 at the minimum"),
    ("task2", lambda *a: steps_to_tolerance(*a, offset=1), "FAIL", "one too many; count updates"),
    ("task2", lambda *a: steps_to_tolerance(*a, offset=-1), "FAIL", "one too few"),
    ("task2", lambda *a: steps_to_tolerance(*a, give_up=-1), "FAIL", "so return None"),
    ("task2", lambda grad, x0, lr, tol=1e-6, max_steps=10_000: 23, "FAIL", "expected"),
    ("task3", lambda A: 2 / np.linalg.eigvalsh(A)[-1], "PASS", "lr = 1.01·2/L diverges"),
    ("task3", lambda A: 1 / np.linalg.eigvalsh(A)[-1], "FAIL", "1/L guarantees"),
    ("task3", lambda_max_wrong_order, "FAIL", "that is 2/μ"),
    ("task3", lambda A: 2 / A.diagonal().max(), "FAIL", "not its largest diagonal entry"),
    ("task3", lambda A: np.linalg.eigvalsh(A)[-1], "FAIL", "that is L itself"),
    ("task4", lambda grad, x0, lrs: fastest(lrs, [steps_to_tolerance(grad, x0, lr) for lr in lrs]), "PASS",
     "lr = 0.18 needs"),
    ("task4", lambda grad, x0, lrs: max(lr for lr in lrs if steps_to_tolerance(grad, x0, lr) is not None), "FAIL",
     "the largest that converges but not the fastest"),
    ("task4", lambda grad, x0, lrs: fastest(lrs, [steps_to_tolerance(grad, x0, lr, give_up=0) for lr in lrs]),
     "FAIL", "never reaches the tolerance"),
    ("task4", lambda grad, x0, lrs: min(s for lr in lrs if (s := steps_to_tolerance(grad, x0, lr)) is not None),
     "FAIL", "not one of lrs"),
    ("task4", lambda grad, x0, lrs: fastest(lrs, [stub(2)(grad, x0, lr) for lr in lrs]), "TODO", "uses Task 2"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.std(axis=0), "PASS", "condition number 1.15"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.std(axis=0, ddof=1), "PASS", "standardised: condition number"),
    ("task5", lambda X: (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True), "FAIL", "each row"),
    ("task5", lambda X: X / X.std(axis=0), "FAIL", "subtract the column mean too"),
    ("task5", lambda X: (X - X.mean(axis=0)) / X.var(axis=0), "FAIL", "not the variance"),
    ("task5", lambda X: (X - X.mean()) / X.std(), "FAIL", "per-column statistics"),
    ("task5", lambda X: (X - X.min(axis=0)) / np.ptp(X, axis=0), "FAIL", "min-max scaling"),
    ("task5", lambda X: ((X - X.mean(axis=0)) / X.std(axis=0)).T, "FAIL",
     "has shape (3, 200), expected (200, 3): rows and columns are swapped"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH02, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH02])
def test_ch02(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch02, task)(answer), status, hint)


def test_raw_features_measurably_slow_descent_down(capsys):
    result = check.ch02.task5(lambda X: (X - X.mean(axis=0)) / X.std(axis=0))
    capsys.readouterr()
    assert "raw features: condition number 1.19e+08, GD with lr = 1/L has not converged after 2000 steps" \
        in result.message
    assert "standardised: condition number 1.15, GD with lr = 1/L converges in 7 steps" in result.message
