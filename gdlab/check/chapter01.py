"""Checks for exercises/01_gradients_by_hand.ipynb."""
import numpy as np

from gdlab import gradients
from gdlab.check.core import Chapter, Failed, show, call, close, fail, number

def _cubic(x):
    return x**3 - 2 * x**2 + 3 * x - 1


def _bumpy(x):
    """f(x) = sum(exp(x)) + x0 * x1^2, the function the finite-difference tasks differentiate."""
    return np.sum(np.exp(x)) + x[0] * x[1] ** 2


def _bumpy_grad(x):
    return np.exp(x) + np.array([x[1] ** 2, 2 * x[0] * x[1], 0.0])


class ch01(Chapter):
    """01 · Gradients by hand."""

    def task1(derivative):
        "the derivative of a cubic"
        xs = np.array([-2.0, -0.5, 0.0, 1.0, 2.5])
        got = [number(call(derivative, x), f"derivative({x:g})") for x in xs]
        close(got, 3 * xs**2 - 4 * xs + 3, "your f'(x) at x = -2, -0.5, 0, 1, 2.5", {
            "the derivative of 2x² is 4x (the power 2 comes down as a factor)": 3 * xs**2 - 2 * xs + 3,
            "the derivative of x³ is 3x² (the power 3 comes down as a factor)": xs**2 - 4 * xs + 3,
            "the derivative of 3x is 3: it is missing": 3 * xs**2 - 4 * xs,
            "the constant -1 has derivative 0: drop it": 3 * xs**2 - 4 * xs + 2,
            "that is f(x) itself, not its derivative": _cubic(xs),
        })
        return "f'(x) = 3x² - 4x + 3 matches at 5 points."

    def task2(quadratic_gradient):
        "the gradient of a quadratic"
        rng = np.random.default_rng(1)
        for d in (2, 3):
            M = rng.normal(size=(d, d))
            A, b, x = M @ M.T + np.eye(d), rng.normal(size=d), rng.normal(size=d)
            close(call(quadratic_gradient, A, b, x), A @ x - b, f"your gradient for a {d}-D quadratic", {
                "forgot the ½: the gradient of ½ xᵀAx is A x (the 2 from the square cancels it)": 2 * A @ x - b,
                "the ½ should cancel: differentiating xᵀAx gives 2 A x, times ½ is A x": 0.5 * A @ x - b,
                "the gradient of -bᵀx is -b, not +b": A @ x + b,
                "the linear term -bᵀx is missing; its gradient is -b": A @ x,
            })
        return "∇f(x) = A x - b, checked on a 2-D and a 3-D quadratic."

    def task3(mse_gradient):
        "the gradient of the mean squared error"
        rng = np.random.default_rng(2)
        n, d = 8, 3
        X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
        r = X @ w - y
        close(call(mse_gradient, X, y, w), 2 / n * X.T @ r, "your gradient", {
            "the 2 from the square is missing: the gradient is (2/n) Xᵀ(Xw - y)": X.T @ r / n,
            "that is the gradient of the sum; the mean divides it by n (the number of rows)": 2 * X.T @ r,
            "the residual is Xw - y; with y - Xw the gradient points the wrong way": -2 / n * X.T @ r,
            "you have one gradient per sample, shape (n, d); average them over the rows": 2 / n * X * r[:, None],
            "those are the n residuals; multiply by Xᵀ to get one entry per weight": 2 / n * r,
        })
        return "(2/n) Xᵀ(Xw - y) matches."

    def task4(central_difference):
        "central differences"
        x, h = np.array([0.5, -1.0, 2.0]), 1e-4
        given = x.copy()
        got = call(central_difference, _bumpy, given, h)
        if not np.allclose(given, x, rtol=1e-12, atol=1e-15):
            fail("your function changed x in place (x_plus = x does not copy); use x_plus = x.copy().")
        unit = np.eye(3) * h
        forward = np.array([(_bumpy(x + e) - _bumpy(x)) / h for e in unit])
        backward = np.array([(_bumpy(x) - _bumpy(x - e)) / h for e in unit])
        central = gradients.numerical_gradient(_bumpy, x, h=h)
        close(got, central, f"your gradient at x = {show(x)} with h = {h:g}", {
            "that is the forward difference (f(x + h) - f(x)) / h; use f(x + h) and f(x - h)": forward,
            "that is the backward difference (f(x) - f(x - h)) / h; use f(x + h) and f(x - h)": backward,
            "divide by 2h: x + h and x - h are 2h apart": 2 * central,
        }, rtol=1e-7, atol=1e-10)
        exact = _bumpy_grad(x)
        errors = [np.linalg.norm(g - exact) / np.linalg.norm(exact) for g in (got, forward)]
        return "matches; relative error against the exact gradient {:.1e}, forward differences {:.1e}.".format(*errors)

    def task5(gradient_check):
        "a gradient check"
        x = np.array([0.5, -1.0, 2.0])
        right = number(call(gradient_check, _bumpy, _bumpy_grad, x.copy()), "the error of the right gradient")
        if not right < 1e-7:
            fail(f"the right gradient gets relative error {right:.2g}; it should be tiny (< 1e-7). "
                 "Compare grad(x) with central_difference(f, x) and divide by the larger norm.")

        def slipped(z):
            return _bumpy_grad(z) * np.array([1.0, -1.0, 1.0])

        g, numeric = slipped(x), gradients.numerical_gradient(_bumpy, x, h=1e-5)
        gap, expected = np.linalg.norm(g - numeric), gradients.gradient_check(_bumpy, slipped, x, h=1e-5)
        bug = close(call(gradient_check, _bumpy, slipped, x.copy()), expected,
                    "the relative error of a gradient with one wrong sign", {
                        "that is the absolute error ||g - g_num||; divide by max(||g||, ||g_num||)": gap,
                        "divide by max(||g||, ||g_num||), not by ||g|| + ||g_num||":
                            gap / (np.linalg.norm(g) + np.linalg.norm(numeric)),
                        "divide by the larger of the two norms, max(||g||, ||g_num||)":
                            gap / min(np.linalg.norm(g), np.linalg.norm(numeric)),
                    }, rtol=1e-4)
        zero_case = "when both gradients are zero the relative error is 0/0: return 0.0 in that case"
        try:
            flat = number(call(gradient_check, lambda z: 3.0, lambda z: np.zeros(3), x.copy()), "your error")
        except Failed as failure:
            fail(f"{failure} ({zero_case}).")
        if flat != 0.0:
            fail(f"{zero_case}; you returned {flat:.3g}.")
        return f"right gradient < 1e-7, a sign slip in one component gives {float(bug):.3f}: the check catches it."

    def task6(best_step):
        "the best step size"
        hs, xs, chosen = 10.0 ** -np.arange(1, 13), np.linspace(0.0, 2.0, 21), []
        for dtype in (np.float64, np.float32):
            def f(z, dtype=dtype):
                return np.exp(np.asarray(z).astype(dtype))

            central = np.array([np.max(abs((f(xs + h) - f(xs - h)) / (2 * h) - np.exp(xs))) for h in hs])
            forward = np.array([np.max(abs((f(xs + h) - f(xs)) / h - np.exp(xs))) for h in hs])
            h = number(call(best_step, f, np.exp, xs.copy(), hs.copy()), f"your best h in {dtype.__name__}")
            match = np.isclose(hs, h, rtol=1e-9, atol=0)
            if not match.any():
                what = "an index: return the step itself, hs[i]" if h in range(len(hs)) else \
                    "not one of hs: return the step h with the smallest error (not the error)"
                fail(f"{h:g} is {what}.")
            chosen.append(h)
            if central[match][0] <= 1.5 * central.min():
                continue
            best = hs[np.argmin(central)]
            if match[-1]:
                fail(f"in {dtype.__name__} the smallest h is not the best: round-off error (about eps/h) grows "
                     f"as h shrinks; measure the error for every h (the best here is {best:.0e}).")
            if match[np.argmin(forward)]:
                fail(f"{h:.0e} is the best step for forward differences; with central differences "
                     f"(f(x + h) - f(x - h)) / 2h the best step in {dtype.__name__} is larger.")
            fail(f"in {dtype.__name__}, h = {h:.0e} has a largest error of {central[match][0]:.1e}, "
                 f"but h = {best:.0e} gives {central.min():.1e}.")
        return f"the bottom of the U is at h = {chosen[0]:.0e} in float64 and h = {chosen[1]:.0e} in float32."
