"""gdlab.check.ch01: right answers PASS, untouched tasks TODO, and planted mistakes FAIL with the right hint."""
import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check


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


def both_aliases_central_difference(f, x, h=1e-5):
    g = np.zeros(x.shape)
    for i in range(x.size):
        x_plus, x_minus = x, x  # the same array: each nudge is undone by the next
        x_plus[i] += h
        x_minus[i] -= h
        g[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return g


def piled_up_central_difference(f, x, h=1e-5):
    g, x_plus, x_minus = np.zeros(x.shape), x.copy(), x.copy()
    for i in range(x.size):
        x_plus[i] += h
        x_minus[i] -= h
        g[i] = (f(x_plus) - f(x_minus)) / (2 * h)
    return g


def checked_with(denominator):
    def gradient_check(f, grad, x):
        g, g_num = grad(x), central_difference(f, x, 1e-5)
        return np.linalg.norm(g - g_num) / denominator(g, g_num)

    return gradient_check


def checked_norms(difference):
    def gradient_check(f, grad, x):
        g, g_num = grad(x), central_difference(f, x, 1e-5)
        return difference(g, g_num) / max(np.linalg.norm(g), np.linalg.norm(g_num))

    return gradient_check


def relative_errors(g, g_num):
    scale = np.maximum(np.abs(g), np.abs(g_num))
    return np.abs(g - g_num) / np.where(scale > 0, scale, 1.0)


def divided_by(scale):
    def errors(g, g_num):
        s = scale(g, g_num)
        return np.abs(g - g_num) / np.where(s > 0, s, 1.0)

    return errors


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
    ("task2", lambda A, b, x: A * x - b, "FAIL", "the matrix product is A @ x"),
    ("task2", lambda A, b, x: x @ A @ x / 2 - b @ x, "FAIL", "that is f(x) = ½ xᵀAx - bᵀx itself"),
    ("task3", lambda X, y, w: 2 / len(y) * X.T @ (X @ w - y), "PASS", "matches"),
    ("task3", lambda X, y, w: X.T @ (X @ w - y) / len(y), "FAIL", "the 2 from the square is missing"),
    ("task3", lambda X, y, w: 2 * X.T @ (X @ w - y), "FAIL", "the mean divides it by n"),
    ("task3", lambda X, y, w: 2 / len(y) * X.T @ (y - X @ w), "FAIL", "the residual is Xw - y"),
    ("task3", lambda X, y, w: 2 / len(y) * X * (X @ w - y)[:, None], "FAIL", "one gradient per sample"),
    ("task3", lambda X, y, w: X @ (X @ w - y), "FAIL", "shapes that do not fit a matrix product"),
    ("task3", lambda X, y, w: 2 / X.shape[1] * X.T @ (X @ w - y), "FAIL", "not by d, the number of weights"),
    ("task4", central_difference, "PASS", "forward differences"),
    ("task4", lambda f, x, h=1e-5: np.array([(f(x + e) - f(x)) / h for e in np.eye(x.size) * h]), "FAIL",
     "that is the forward difference"),
    ("task4", lambda f, x, h=1e-5: 2 * central_difference(f, x, h), "FAIL", "divide by 2h"),
    ("task4", aliasing_central_difference, "FAIL", "changed x in place"),
    ("task4", both_aliases_central_difference, "FAIL", "x_plus and x_minus are probably the same array"),
    ("task4", piled_up_central_difference, "FAIL", "the nudges pile up"),
    ("task4", lambda f, x, h=1e-5: (f(x + h) - f(x - h)) / (2 * h), "FAIL", "nudges every coordinate at once"),
    ("task5", lambda f, grad, x: relative_error(grad(x), central_difference(f, x, 1e-5)), "PASS", "catches all three"),
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
    ("task5", checked_with(lambda g, g_num: np.linalg.norm(g)), "FAIL", "not by ||g|| alone"),
    ("task5", checked_with(lambda g, g_num: np.linalg.norm(g_num)), "FAIL", "not by ||g_num|| alone"),
    ("task5", checked_with(lambda g, g_num: min(np.linalg.norm(g), np.linalg.norm(g_num))), "FAIL", "not the smaller"),
    ("task5", lambda f, grad, x: np.max(relative_errors(grad(x), central_difference(f, x, 1e-5))), "FAIL",
     "the worst per-component error"),
    ("task5", checked_norms(lambda g, g_num: abs(np.linalg.norm(g) - np.linalg.norm(g_num))), "FAIL",
     "not the difference of the norms"),
    ("task5", checked_norms(lambda g, g_num: np.linalg.norm(g) - np.linalg.norm(g_num)), "FAIL",
     "not the difference of the norms"),
    ("task5", checked_norms(lambda g, g_num: np.abs(g - g_num).max()), "FAIL", "you used the largest entry"),
    ("task5", checked_norms(lambda g, g_num: np.abs(g - g_num).sum() * max(np.linalg.norm(g), np.linalg.norm(g_num))
                            / max(np.abs(g).sum(), np.abs(g_num).sum())), "FAIL", "not the sum of absolute values"),
    ("task5", checked_with(lambda g, g_num: (np.linalg.norm(g) + np.linalg.norm(g_num)) / 2), "FAIL",
     "not by their mean"),
    ("task5", checked_norms(lambda g, g_num: np.linalg.norm(g - g_num) ** 2
                            / max(np.linalg.norm(g), np.linalg.norm(g_num))), "FAIL", "the square of the relative"),
    ("task6", relative_errors, "PASS", "2.0 in its own component"),
    ("task6", divided_by(lambda g, g_num: (np.abs(g) + np.abs(g_num)) / 2), "FAIL", "not by their mean"),
    ("task6", lambda g, g_num: relative_errors(g, g_num) / len(g), "FAIL", "not divided again by the number"),
    ("task6", lambda g, g_num: np.abs(g - g_num) / np.max(np.abs(g), np.abs(g_num)), "FAIL",
     "np.max(a, b) reads b as its axis argument"),
    ("task6", divided_by(np.maximum), "FAIL", "of the absolute values"),
    ("task6", stub(6), "TODO", "not implemented yet"),
    ("task6", lambda g, g_num: np.abs(g - g_num) / max(np.abs(g), np.abs(g_num)), "FAIL", "np.maximum"),
    ("task6", lambda g, g_num: np.linalg.norm(g - g_num) / max(np.linalg.norm(g), np.linalg.norm(g_num)), "FAIL",
     "one per component"),
    ("task6", lambda g, g_num: np.abs(g - g_num) / np.maximum(np.abs(g), np.abs(g_num)), "FAIL", "NaN"),
    ("task6", lambda g, g_num: (g - g_num) / np.maximum(np.maximum(np.abs(g), np.abs(g_num)), 1e-300), "FAIL",
     "take the absolute value"),
    ("task6", lambda g, g_num: np.abs(g - g_num) / max(np.abs(g).max(), np.abs(g_num).max()), "FAIL",
     "not by one maximum over all components"),
    ("task6", divided_by(lambda g, g_num: np.abs(g)), "FAIL", "not by |g_i| alone"),
    ("task6", divided_by(lambda g, g_num: np.abs(g_num)), "FAIL", "not by |g_num,i| alone"),
    ("task6", divided_by(lambda g, g_num: np.abs(g) + np.abs(g_num)), "FAIL", "not by |g_i| + |g_num,i|"),
    ("task6", lambda g, g_num: None, "FAIL", "did you forget `return`"),
    ("task5", lambda f, grad, x: relative_error(grad(x), stub(4)(f, x)), "TODO", "uses Task 4"),
    ("task7", lambda f, df, xs, hs: hs[np.argmin(worst_errors(f, df, xs, hs))], "PASS",
     "h = 1e-05 in float64 and h = 1e-02 in float32"),
    ("task7", lambda f, df, xs, hs: hs.min(), "FAIL", "the smallest h is not the best"),
    ("task7", lambda f, df, xs, hs: hs[np.argmin(worst_errors(f, df, xs, hs, "forward"))], "FAIL",
     "the best step for forward differences"),
    ("task7", lambda f, df, xs, hs: np.argmin(worst_errors(f, df, xs, hs)), "FAIL", "an index: return the step itself"),
    ("task7", lambda f, df, xs, hs: min(worst_errors(f, df, xs, hs)), "FAIL", "not one of hs"),
    ("task7", lambda f, df, xs, hs: hs[0], "FAIL", "has a largest error of"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH01, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH01])
def test_ch01(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch01, task)(answer), status, hint)
