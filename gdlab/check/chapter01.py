"""Checks for exercises/01_gradients_by_hand.ipynb."""
import numpy as np

from gdlab import gradients
from gdlab.check.core import Chapter, Failed, as_array, call, close, fail, number, show


def _cubic(x):
    return x**3 - 2 * x**2 + 3 * x - 1


def _bumpy(x):
    """f(x) = sum(exp(x)) + x0 * x1^2, the function the finite-difference tasks differentiate."""
    return np.sum(np.exp(x)) + x[0] * x[1] ** 2


def _bumpy_grad(x):
    return np.exp(x) + np.array([x[1] ** 2, 2 * x[0] * x[1], 0.0])


def _raw_feature_regression():
    """Chapter 02's least squares on raw features (x_1 in [0, 1], x_2 in [0, 1000]): loss and gradient in theta."""
    rng = np.random.default_rng(0)
    n = 200
    features = np.column_stack([rng.uniform(0, 1, n), rng.uniform(0, 1000, n)])
    targets = 3.0 * features[:, 0] + 0.002 * features[:, 1] + 1.0 + 0.1 * rng.standard_normal(n)
    Z = np.column_stack([features, np.ones(n)])
    return (lambda theta: np.mean((Z @ theta - targets) ** 2)), (lambda theta: 2 / n * Z.T @ (Z @ theta - targets))


def _per_component(numerator, scale):
    """numerator / scale entry by entry, 0 where the scale is 0."""
    return numerator / np.where(scale > 0, scale, 1.0)


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
                "A * x multiplies entry by entry (broadcasting gives a (d, d) array); the matrix product is A @ x":
                    A * x - b,
                "that is f(x) = ½ xᵀAx - bᵀx itself, one number; return its gradient, a vector of shape (d,)":
                    0.5 * x @ A @ x - b @ x,
            })
        return "∇f(x) = A x - b, checked on a 2-D and a 3-D quadratic."

    def task3(mse_gradient):
        "the gradient of the mean squared error"
        rng = np.random.default_rng(2)
        n, d = 8, 3
        X, y, w = rng.normal(size=(n, d)), rng.normal(size=n), rng.normal(size=d)
        r = X @ w - y
        try:
            got = call(mse_gradient, X, y, w)
        except Failed as failure:
            if "matmul" in str(failure):
                fail(f"{str(failure).split(':')[0]} (shapes that do not fit a matrix product): X has shape (n, d) = "
                     f"{X.shape} and the residual X @ w - y shape (n,), so the gradient is Xᵀ r, X.T @ residual, "
                     "one entry per weight.")
            raise
        close(got, 2 / n * X.T @ r, "your gradient", {
            "the 2 from the square is missing: the gradient is (2/n) Xᵀ(Xw - y)": X.T @ r / n,
            "that is the gradient of the sum; the mean divides it by n (the number of rows)": 2 * X.T @ r,
            "divide by n, the number of rows (samples), not by d, the number of weights": 2 / d * X.T @ r,
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
        x_plus, x_minus, piled_up = x.copy(), x.copy(), []
        for i in range(3):  # one copy for all coordinates: each nudge stays in place for the next ones
            x_plus[i] += h
            x_minus[i] -= h
            piled_up.append((_bumpy(x_plus) - _bumpy(x_minus)) / (2 * h))
        if np.array_equal(as_array(got, "your gradient"), np.zeros(3)):
            fail("your gradient is all zeros: f(x_plus) and f(x_minus) were equal, so x_plus and x_minus are "
                 "probably the same array (x_plus = x does not copy: nudging one nudges the other, and x itself). "
                 "Use x_plus = x.copy() and x_minus = x.copy().")
        close(got, central, f"your gradient at x = {show(x)} with h = {h:g}", {
            "that is the forward difference (f(x + h) - f(x)) / h; use f(x + h) and f(x - h)": forward,
            "that is the backward difference (f(x) - f(x - h)) / h; use f(x + h) and f(x - h)": backward,
            "divide by 2h: x + h and x - h are 2h apart": 2 * central,
            "one number: x + h nudges every coordinate at once; nudge coordinate i alone (x + h e_i) and fill "
            "entry i of the gradient": (_bumpy(x + h) - _bumpy(x - h)) / (2 * h),
            "the nudges pile up: for entry i, x_plus and x_minus must differ from x in coordinate i only; make "
            "fresh copies inside the loop (or undo each nudge)": piled_up,
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
                 "Compare grad(x) with central_difference(f, x, 1e-5) and divide by the larger norm.")
        numeric = gradients.numerical_gradient(_bumpy, x, h=1e-5)
        factors = (np.array([1.0, -1.0, 1.0]), 2.0, 0.5)  # one wrong sign, twice too large, half the right size
        got, gaps, norms, other_norms = [], [], [], []
        for factor in factors:
            def buggy(z, factor=factor):
                return _bumpy_grad(z) * factor

            got.append(number(call(gradient_check, _bumpy, buggy, x.copy()), "your relative error of a wrong gradient"))
            gaps.append(np.linalg.norm(buggy(x) - numeric))
            norms.append((np.linalg.norm(buggy(x)), np.linalg.norm(numeric)))
            other_norms.append([np.linalg.norm(v, order) for order in (np.inf, 1)
                                for v in (buggy(x) - numeric, buggy(x), numeric)])
        gaps, (norm_g, norm_num) = np.array(gaps), np.array(norms).T
        largest, largest_g, largest_num, l1, l1_g, l1_num = np.array(other_norms).T
        per_component = [np.max(np.abs(_bumpy_grad(x) * f - numeric) / np.maximum(np.abs(_bumpy_grad(x) * f),
                                                                                 np.abs(numeric))) for f in factors]
        name = "your relative errors of three wrong gradients (one wrong sign, twice too large, half the size)"
        found = close(got, gaps / np.maximum(norm_g, norm_num), name, {
            "that is the absolute error ||g - g_num||; divide by max(||g||, ||g_num||)": gaps,
            "divide by max(||g||, ||g_num||), not by ||g|| + ||g_num||": gaps / (norm_g + norm_num),
            "divide by the larger of the two norms, max(||g||, ||g_num||), not the smaller":
                gaps / np.minimum(norm_g, norm_num),
            "divide by max(||g||, ||g_num||), not by ||g|| alone: a gradient that is too small would look worse "
            "than it is": gaps / norm_g,
            "divide by max(||g||, ||g_num||), not by ||g_num|| alone: a gradient that is too large would look "
            "better than it is": gaps / norm_num,
            "that is the worst per-component error (Task 6); here divide the norm of the difference by the "
            "larger norm": per_component,
            "take the norm of the difference, ||g - g_num||, not the difference of the norms: a wrong sign leaves "
            "the norm unchanged, so | ||g|| - ||g_num|| | cannot see it":
                np.abs(norm_g - norm_num) / np.maximum(norm_g, norm_num),
            "take the norm of the difference, ||g - g_num||, not the difference of the norms ||g|| - ||g_num||: "
            "a wrong sign leaves the norm unchanged": (norm_g - norm_num) / np.maximum(norm_g, norm_num),
            "divide by the larger of the two norms, max(||g||, ||g_num||), not by their mean":
                gaps / ((norm_g + norm_num) / 2),
            "that is the square of the relative error; take the norms themselves, not their squares":
                (gaps / np.maximum(norm_g, norm_num)) ** 2,
            "||.|| is the Euclidean norm, np.linalg.norm: you used the largest entry of |g - g_num|":
                largest / np.maximum(norm_g, norm_num),
            "||.|| is the Euclidean norm, np.linalg.norm, not the largest absolute entry":
                largest / np.maximum(largest_g, largest_num),
            "||.|| is the Euclidean norm, np.linalg.norm, not the sum of absolute values":
                l1 / np.maximum(l1_g, l1_num),
        }, rtol=1e-4)
        zero_case = "when both gradients are zero the relative error is 0/0: return 0.0 in that case"
        try:
            flat = number(call(gradient_check, lambda z: 3.0, lambda z: np.zeros(3), x.copy()), "your error")
        except Failed as failure:
            fail(f"{failure} ({zero_case}).")
        if flat != 0.0:
            fail(f"{zero_case}; you returned {flat:.3g}.")
        return ("right gradient < 1e-7; one wrong sign gives {:.3f}, twice too large {:.3f}, half the size {:.3f}: "
                "the check catches all three.".format(*map(float, found)))

    def task6(relative_errors):
        "a gradient check per component"
        loss, grad = _raw_feature_regression()
        theta = np.zeros(3)
        flipped = grad(theta) * np.array([1.0, 1.0, -1.0])  # the bias gradient with the wrong sign
        cases = {"on chapter 01's flipped bias gradient": (flipped, gradients.numerical_gradient(loss, theta)),
                 "for g = [2, 1, 0, -3, -1] and g_num = [1, 2, 0, 3, -2]": (np.array([2.0, 1.0, 0.0, -3.0, -1.0]),
                                                                            np.array([1.0, 2.0, 0.0, 3.0, -2.0]))}
        results = []
        for where, (g, g_num) in cases.items():
            name = f"relative_errors(g, g_num) {where}"
            gap, size_g, size_num = np.abs(g - g_num), np.abs(g), np.abs(g_num)

            try:
                got = as_array(call(relative_errors, g.copy(), g_num.copy()), name)
            except Failed as failure:
                if "ambiguous" in str(failure):
                    fail(f"{failure}: Python's max compares whole arrays; np.maximum(np.abs(g), np.abs(g_num)) "
                         "takes the larger entry component by component.")
                if "only integer scalar arrays" in str(failure):
                    fail(f"{failure}: np.max(a, b) reads b as its axis argument (np.max takes the largest entry of "
                         "one array); np.maximum(a, b) takes the larger of two arrays, component by component.")
                raise
            if got.shape == ():
                fail(f"{name} is one number ({float(got):.3g}); return one per component, an array of shape "
                     f"{g.shape}: np.abs and np.maximum work entry by entry, np.linalg.norm and max do not.")
            if got.shape == g.shape and np.isnan(got).any():
                fail(f"{name} contains NaN where both entries are 0 (0/0): return 0 there.")
            results.append(close(got, _per_component(gap, np.maximum(size_g, size_num)), name, {
                "take the absolute value of the difference, |g_i - g_num,i|":
                    _per_component(g - g_num, np.maximum(size_g, size_num)),
                "divide each component by its own scale, max(|g_i|, |g_num,i|), not by one maximum over all "
                "components": gap / max(size_g.max(), size_num.max()),
                "divide by max(|g_i|, |g_num,i|), not by |g_i| alone": _per_component(gap, size_g),
                "divide by max(|g_i|, |g_num,i|), not by |g_num,i| alone": _per_component(gap, size_num),
                "divide by max(|g_i|, |g_num,i|), not by |g_i| + |g_num,i|": _per_component(gap, size_g + size_num),
                "the scale is max(|g_i|, |g_num,i|), of the absolute values: np.maximum(g, g_num) is negative where "
                "both entries are": _per_component(gap, np.maximum(g, g_num)),
                "divide by max(|g_i|, |g_num,i|), not by their mean": _per_component(gap, (size_g + size_num) / 2),
                "one relative error per component, not divided again by the number of components":
                    _per_component(gap, np.maximum(size_g, size_num)) / g.size,
            }))
        whole = gradients.gradient_check(loss, lambda t: grad(t) * np.array([1.0, 1.0, -1.0]), theta)
        return (f"the flipped bias gradient scores only {whole:.1e} as a whole vector, but {results[0][2]:.1f} "
                "in its own component: the per-component check finds the bug and where it is.")

    def task7(best_step):
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
