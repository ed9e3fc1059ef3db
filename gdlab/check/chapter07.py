"""Checks for exercises/07_nonconvex_and_second_order.ipynb."""
import functools

import numpy as np

from gdlab import descent
from gdlab.check.core import Chapter, as_array, call, close, fail, near, number, show
from gdlab.functions import Objective, Quadratic, Rastrigin, beale, himmelblau, rosenbrock, saddle

_KINDS = ("minimum", "maximum", "saddle", "degenerate", "not critical")


def _kind(eigenvalues, gradient_norm=0.0):
    """The right answer of Task 1, from the eigenvalues of the Hessian and the gradient norm."""
    if gradient_norm > 1e-6:
        return "not critical"
    if np.any(np.abs(eigenvalues) <= 1e-8 * max(1.0, np.abs(eigenvalues).max())):
        return "degenerate"
    if np.all(eigenvalues > 0):
        return "minimum"
    return "maximum" if np.all(eigenvalues < 0) else "saddle"


def _himmelblau_critical_points():
    """Himmelblau's 9 critical points, refined by Newton from rounded coordinates."""
    rough = [(3.0, 2.0), (-2.81, 3.13), (-3.78, -3.28), (3.58, -1.85), (-0.27, -0.92),
             (0.09, 2.88), (-3.07, -0.08), (-0.13, -1.95), (3.39, 0.07)]
    return [descent.newton(himmelblau, himmelblau.grad, himmelblau.hessian, p, tol=1e-12).x for p in rough]


def _cases_task1():
    """(where, grad, hessian, x, the right answer) for nine points, each catching a different mistake."""
    mixed = Quadratic([[1.0, 3.0], [3.0, 1.0]], name="x²/2 + y²/2 + 3xy")  # diagonal > 0, eigenvalues 4 and -2

    def flat_grad(p):  # f(x, y) = x² + y⁴: a minimum the second-derivative test cannot see
        return np.array([2 * p[0], 4 * p[1] ** 3])

    def flat_hessian(p):
        return np.array([[2.0, 0.0], [0.0, 12 * p[1] ** 2]])

    cases = [(f"{f.name} at ({x[0]:.4g}, {x[1]:.4g})", f.grad, f.hessian, np.array(x, dtype=float))
             for f, x in [(saddle, (0.0, 0.0)), (saddle, (0.0, 1.0)), (saddle, (0.5, 0.5)), (saddle, (1e-9, 0.0)),
                          (saddle, (5e-5, 0.0)),
                          (himmelblau, _himmelblau_critical_points()[4]), (himmelblau, (1.0, 1.0)),
                          (mixed, (0.0, 0.0))]]
    cases.append(("x² + y⁴ at (0, 0)", flat_grad, flat_hessian, np.zeros(2)))
    return [(where, grad, hessian, x, _kind(np.linalg.eigvalsh(hessian(x)), np.linalg.norm(grad(x))))
            for where, grad, hessian, x in cases]


def _armijo(f, x, g, lr, c, shrink, mistake=None):
    """The step size of Task 3, or the one a learner who makes `mistake` gets."""
    # a learner who ignores an argument uses its default (lr=1.0, c=1e-4, shrink=0.5)
    lr, c, shrink = {"lr ignored": (1.0, c, shrink), "c ignored": (lr, 1e-4, shrink),
                     "shrink ignored": (lr, c, 0.5)}.get(mistake, (lr, c, shrink))
    fx, slope, alpha = f(x), g @ g, lr
    direction = 1.0 if mistake == "uphill" else -1.0
    decrease = {"no c": 0.0, "plus": -c, "norm": c / np.sqrt(slope)}.get(mistake, c)
    if mistake == "by c":
        shrink = c
    if mistake == "late start":
        alpha = lr * shrink

    def holds(a):
        return f(x + direction * a * g) <= fx - decrease * a * slope

    if mistake == "no loop":
        return lr
    if mistake == "once":
        return lr if holds(lr) else lr * shrink
    if mistake == "reversed":
        while holds(alpha) and alpha > 0:
            alpha *= shrink
        return alpha
    while not holds(alpha) and alpha > 0:
        alpha *= shrink
    return alpha


@functools.cache
def _basin_runs(lr, steps):
    """Task 4's start points (53 rows) and gdlab's gradient descent trace from each."""
    axis = np.linspace(-4.5, 4.5, 7)
    starts = np.array([(a, b) for b in axis for a in axis] + [(7.0, 7.0), (6.0, -6.0), (-6.0, 6.0), (0.0, 7.0)])
    return starts, [descent.gradient_descent(himmelblau, himmelblau.grad, s, lr, steps=steps) for s in starts]


class _Runaway(Exception):
    """Raised when a learner's line search evaluates f without end."""


def _limited(f, limit=10_000):
    """f, raising _Runaway after `limit` calls: a line search whose loop never stops fails instead of hanging."""
    calls = 0

    def limited(x):
        nonlocal calls
        calls += 1
        if calls > limit:
            raise _Runaway(f"f was evaluated {limit:,} times in one line search: your loop never stops. Shrink alpha "
                           "only while f(x - alpha g) > f(x) - c alpha ||g||², a bound that moves with alpha")
        return f(x)

    return limited


def _cases_task3():
    """(f, x, g, lr, c, shrink): each makes some mistake visible."""
    square = Quadratic([[2.0]], name="x²")
    bowl = Quadratic(np.diag([1.0, 2.0]))
    cases = [(square, [1.0], 4.0, 0.3, 0.5), (rosenbrock, [-1.2, 1.0], 1.0, 1e-4, 0.5),
             (bowl, [1.0, 1.0], 0.25, 1e-4, 0.5), (himmelblau, [0.0, 0.0], 1.0, 0.5, 0.3),
             (beale, [1.0, 1.0], 1.0, 1e-4, 0.8), (square, [1.0], 1.2, 0.3, 0.5),
             (square, [1.0], 1.0, 0.9, 0.5),
             (rosenbrock, [0.0, 0.0], 1.0, 0.9, 0.5)]  # alpha 0.03125; 0.0625 with ||g||, 0.125 with c = 1e-4
    return [(f, np.array(x), f.grad(np.array(x)), lr, c, shrink) for f, x, lr, c, shrink in cases]


def _stopped_too_early(cases, got, right):
    """FAIL when some step size is on the ladder lr * shrink^j but the Armijo condition does not hold there yet."""
    for (f, x, g, lr, c, shrink), alpha, alpha_right in zip(cases, got, right):
        halvings = np.log(alpha / lr) / np.log(shrink) if 0 < alpha <= lr else -1.0
        on_ladder = halvings >= 0 and np.isclose(halvings, round(halvings))
        if on_ladder and alpha > alpha_right and f(x - alpha * g) > f(x) - c * alpha * (g @ g):
            fail(f"on {f.name} from {show(x)} you stopped at alpha = {alpha:.4g}, where the Armijo condition "
                 "f(x - alpha g) <= f(x) - c alpha ||g||² does not hold yet: keep shrinking until it holds, however "
                 f"many times that takes (here {round(np.log(alpha_right / lr) / np.log(shrink))} times, no cap).")


@functools.cache
def _rastrigin_success(n, runs=20_000, lr=0.0025, steps=200):
    """The probability that one run (and the best of n runs) of GD on 1-D Rastrigin reaches the global minimum."""
    f = Rastrigin(1)
    x = np.random.default_rng(0).uniform(*f.domain[0], size=(1, runs))
    for _ in range(steps):
        x = x - lr * f.grad(x)
    p = float(np.mean(f(x) < 1e-6))
    return p, 1 - (1 - p) ** n


def _best_point(best_of_restarts, f, n, seed):
    """The learner's best point for n restarts on f with generator `seed`, or FAIL if it cannot be an end point."""
    x = as_array(call(best_of_restarts, f, f.grad, n, np.random.default_rng(seed)), "your best point")
    if x.shape != (1,):
        fail(f"return one point of shape (d,) = (1,), the best end point; got shape {x.shape}.")
    if not np.all(np.isfinite(x)):
        fail(f"your best point is {show(x)}: not finite.")
    if np.linalg.norm(f.grad(x)) > 1e-4:
        fail(f"your point {show(x)} has |grad| = {np.linalg.norm(f.grad(x)):.2g}: it is not the end of a descent. "
             "Run gradient descent from each start and keep the best end point.")
    return x


class _MovedRastrigin(Objective):
    """1-D Rastrigin moved to x = 100: its box f.domain is [94.88, 105.12], its global minimum at x = 100."""

    name = "Rastrigin moved to x = 100"
    dim = 1

    def __init__(self):
        self._base = Rastrigin(1)
        self.minima = [np.array([100.0])]
        self.domain = ((100 - 5.12, 100 + 5.12),)

    def _f(self, x):
        return self._base._f(x - 100)

    def _grad(self, x):
        return self._base._grad(x - 100)

    def _hessian(self, x):
        return self._base._hessian(x - 100)


class ch07(Chapter):
    """07 · Non-convex landscapes and second-order methods."""

    def task1(classify):
        "classify a critical point"
        right_so_far = []
        for where, grad, hessian, x, expected in _cases_task1():
            got = call(classify, grad, hessian, x.copy())
            if not isinstance(got, str) or got not in _KINDS:
                fail(f"at {where} you returned {got!r}; return one of the strings {', '.join(map(repr, _KINDS))}.")
            if got == expected:
                right_so_far.append(got)
                continue
            eigenvalues = np.linalg.eigvalsh(hessian(x))
            at = f"at {where} (|grad| = {np.linalg.norm(grad(x)):.2g}, Hessian eigenvalues {show(eigenvalues)})"
            if expected == "not critical":
                small = np.linalg.norm(grad(x)) < 1
                loose = " (a looser tolerance, such as 1e-2, calls this point critical)" if small else ""
                fail(f"{at} you said {got!r}, but the gradient is not zero there: check ||grad(x)|| <= 1e-6 "
                     f"first{loose}; the Hessian test applies only at critical points.")
            if got == "not critical":
                fail(f"{at} you said 'not critical', but |grad| <= 1e-6 there: in floating point the gradient at a "
                     "critical point is zero only up to rounding, so compare ||grad(x)|| with the tolerance 1e-6 "
                     "instead of testing grad(x) == 0.")
            if expected == "degenerate":
                fail(f"{at} you said {got!r}: an eigenvalue is 0, so the second-derivative test is inconclusive; "
                     "return 'degenerate' when some |eigenvalue| is (nearly) zero.")
            if {got, expected} == {"minimum", "maximum"} and got in right_so_far:
                fail(f"{at} you said {got!r}: det(H) > 0 alone cannot tell a minimum (all eigenvalues > 0) from a "
                     "maximum (all < 0); check the sign of every eigenvalue.")
            if {got, expected} == {"minimum", "maximum"}:
                fail(f"{at} you said {got!r}: sign convention swapped. All eigenvalues > 0 means f curves up in "
                     "every direction, a minimum; all < 0, a maximum.")
            diagonal = np.diag(hessian(x))
            if got == _kind(diagonal):
                fail(f"{at} you said {got!r}, which the diagonal {show(diagonal)} suggests; use the eigenvalues "
                     "(np.linalg.eigvalsh(H)), which see the off-diagonal terms too.")
            if got in ("minimum", "maximum") and expected == "saddle" and np.prod(eigenvalues) < 0:
                fail(f"{at} you said {got!r}, but the eigenvalues have both signs: a saddle.")
            fail(f"{at} you said {got!r}, expected {expected!r}.")
        kinds = [call(classify, himmelblau.grad, himmelblau.hessian, p) for p in _himmelblau_critical_points()]
        counts = {kind: kinds.count(kind) for kind in ("minimum", "saddle", "maximum")}
        return (f"{len(right_so_far)} points right; at Himmelblau's 9 critical points your function finds "
                f"{counts['minimum']} minima, {counts['saddle']} saddles and {counts['maximum']} maximum.")

    def task2(newton_step):
        "a Newton step"
        points = [(rosenbrock, [-1.2, 1.0]), (himmelblau, [1.0, 1.0]), (beale, [2.0, 0.2])]
        for f, x0 in points:
            x = np.array(x0)
            g, H = f.grad(x), f.hessian(x)
            right = x - np.linalg.solve(H, g)
            got = call(newton_step, f.grad, f.hessian, x)
            close(got, right, f"your new point from x = {show(x0)} on {f.name}", {
                "you moved by +H⁻¹g: the Newton step is x - H⁻¹ ∇f(x) (solve H d = ∇f, then subtract d)":
                    x + np.linalg.solve(H, g),
                "you divided the gradient by the diagonal of H only; solve the full system H d = ∇f(x) "
                "(np.linalg.solve(H, g))": x - g / np.diag(H),
                "you multiplied the gradient by H; Newton uses its inverse: np.linalg.solve(H, g)": x - H @ g,
                "that is a gradient step with lr = 1; Newton solves with the Hessian first": x - g,
                "you returned the step d = -H⁻¹∇f; return the new point x + d": -np.linalg.solve(H, g),
                "you took half a Newton step (damped, x - H⁻¹∇f / 2); pure Newton takes the whole step":
                    x - np.linalg.solve(H, g) / 2,
            })
            if not np.array_equal(x, x0):
                fail("your function changed the caller's x in place (x -= ...); return x - d instead.")
        q = Quadratic([[4.0, 1.0], [1.0, 3.0]], [1.0, 2.0])
        one = as_array(call(newton_step, q.grad, q.hessian, np.array([5.0, -5.0])), "your step on a quadratic")
        close(one, q.minima[0], "one step from (5, -5) on a quadratic, which should land on its minimiser")
        xs = [np.array([-1.2, 1.0])]
        for _ in range(6):
            xs.append(as_array(call(newton_step, rosenbrock.grad, rosenbrock.hessian, xs[-1]), "your step"))
        close(xs[-1], [1.0, 1.0], "six of your steps from (-1.2, 1) on Rosenbrock", atol=1e-9)
        losses = [rosenbrock(x) for x in xs]
        return (f"one step lands on a quadratic's minimiser; six steps from (-1.2, 1) reach Rosenbrock's minimum "
                f"(1, 1) to within 1e-9, although f rises from {losses[0]:.1f} to {max(losses):.0f} on the way.")

    def task3(armijo_step_size):
        "Armijo backtracking"
        cases = _cases_task3()
        got = []
        for f, x, g, lr, c, shrink in cases:
            answer = call(armijo_step_size, _limited(f), x.copy(), g.copy(), lr, c, shrink)
            if np.shape(answer) == x.shape and near(as_array(answer, "your answer"),
                                                    x - _armijo(f, x, g, lr, c, shrink) * g):
                fail("you returned the new point x - alpha g; return the step size alpha itself (one number).")
            got.append(number(answer, "your step size"))

        def every(mistake=None):
            return [_armijo(f, x, g, lr, c, shrink, mistake) for f, x, g, lr, c, shrink in cases]

        where = f"your step sizes on the {len(cases)} test cases"
        ignored = "your function ignores its argument {0}: it acts as if {0} = {1} whatever value is passed in; use it"
        mistakes = {
            "you returned lr without backtracking: shrink alpha while the Armijo condition FAILS, that is while "
            "f(x - alpha g) > f(x) - c alpha ||g||²": every("no loop"),
            "you shrank at most once (an `if`); keep shrinking (`while`) until the condition holds": every("once"),
            "the loop runs the wrong way round: shrink while f(x - alpha g) > f(x) - c alpha ||g||², stop as soon as "
            "the condition holds": every("reversed"),
            ignored.format("c", "1e-4"): every("c ignored"),
            ignored.format("shrink", "0.5"): every("shrink ignored"),
            ignored.format("lr", "1.0") + " as the first step to try": every("lr ignored"),
            "c is missing: require a decrease of at least c alpha ||g||², not just f(x - alpha g) <= f(x)":
                every("no c"),
            "wrong sign: the condition is f(x - alpha g) <= f(x) - c alpha ||g||² (a guaranteed decrease)":
                every("plus"),
            "use the squared norm ||g||² = g @ g in the condition, not ||g||": every("norm"),
            "the trial point is x - alpha g (downhill), not x + alpha g": every("uphill"),
            "you shrank alpha by c; c sets how much decrease is enough, `shrink` is the factor for alpha":
                every("by c"),
            "you shrank alpha before the first test: try alpha = lr itself first": every("late start"),
        }
        named = [np.array(every()), *map(np.array, mistakes.values())]
        if not any(near(np.array(got), value, rtol=1e-9) for value in named):
            _stopped_too_early(cases, got, every())
        close(got, every(), where, mistakes, rtol=1e-9)
        f, x, g, lr, c, shrink = cases[1]
        return (f"e.g. on Rosenbrock at (-1.2, 1) you accept alpha = {got[1]:.4g} after "
                f"{round(np.log(got[1] / lr) / np.log(shrink))} halvings, where f drops from {f(x):.1f} to "
                f"{f(x - got[1] * g):.2f}.")

    def task4(basin_labels):
        "basins of attraction"
        lr, steps = 0.015, 2000
        starts, traces = _basin_runs(lr, steps)
        minima = np.array(himmelblau.minima)

        def nearest(points):
            return np.linalg.norm(points[:, None, :] - minima[None], axis=2).argmin(axis=1)

        def labels(runs):
            return np.array([nearest(t.x[None])[0] if t.status == "converged" else -1 for t in runs])

        right = labels(traces)
        got = call(basin_labels, himmelblau, himmelblau.grad, starts.copy(), lr, steps)
        what = f"your labels for {len(starts)} starts (lr = {lr}, {steps} steps)"
        got = as_array(got, what)
        if got.shape == right.shape:
            wrong = got != right
            if wrong.any() and np.array_equal(got, labels(_basin_runs(0.01, steps)[1])):
                fail(f"{what}: these are the labels of lr = 0.01, not of the lr passed in ({lr}); pass the lr "
                     "argument on to gradient descent.")
            if np.array_equal(got, nearest(starts)):
                fail(f"{what}: you labelled each start by the minimum nearest to it; run gradient descent and label it "
                     f"by where it ends ({int(np.sum(right != nearest(starts)))} of these starts end elsewhere).")
            if wrong.any() and np.all(right[wrong] == -1):
                fail(f"{what}: {int(wrong.sum())} runs that do not end on a minimum (they bounce around one, or "
                     "diverge) got a minimum's label; give -1 when the end point is not within 1e-6 of a minimum.")
            if np.array_equal(got[right >= 0], right[right >= 0] + 1):
                fail(f"{what}: labels are indices into f.minima, starting at 0 (and -1 for none).")
        close(got, right, what, rtol=0, atol=0)
        elsewhere = int(np.sum((right >= 0) & (right != nearest(starts))))
        status = [t.status for t in traces]
        return (f"of {len(starts)} starts, {int(np.sum(right == nearest(starts)))} end at the minimum nearest to them, "
                f"{elsewhere} at another one, {status.count('max_steps')} bounce around C forever (lr = {lr} > 2/L "
                f"there) and {status.count('diverged')} diverge.")

    def task5(best_of_restarts):
        "random restarts"
        f, n = Rastrigin(1), 30
        p, expected = _rastrigin_success(n)

        singles = [_best_point(best_of_restarts, f, 1, seed) for seed in range(300)]
        for seed in range(3):
            if not np.allclose(_best_point(best_of_restarts, f, 1, seed), singles[seed]):
                fail("the same rng seed gave a different answer: draw every random number from the `rng` argument.")
        if all(np.allclose(single, singles[0]) for single in singles):
            fail("with n = 1, 300 different rng seeds gave the same point: draw the starts from the `rng` argument.")
        single_wins = int(np.sum([f(x) < 1e-6 for x in singles]))
        low, high = 12, 47  # 300 p -+ 3.5 standard deviations: a right answer fails with probability 5e-4
        if not low <= single_wins <= high:
            fail(f"with n = 1 your run reached the global minimum for {single_wins} of 300 seeds; from a start drawn "
                 f"uniformly over f.domain = [-5.12, 5.12] it does so with probability p = {p:.3f}, between {low} and "
                 f"{high} times in 300. Draw each start with rng.uniform over the whole box f.domain: a normal "
                 "distribution around its centre, or a smaller box, puts too many starts near the global minimum.")
        values = np.array([f(_best_point(best_of_restarts, f, n, seed)) for seed in range(100)])
        wins = int(np.sum(values < 1e-6))
        if values.mean() > 15:
            fail(f"your best points have a mean f of {values.mean():.1f}, worse than a single run's: did you keep the "
                 "worst (highest f) instead of the best?")
        if wins < 88:  # expected 100 (1 - (1 - p)^30) = 95.6; fewer than 88 has probability 8e-4
            fail(f"the best of {n} restarts reached the global minimum for only {wins} of 100 seeds; with p = {p:.3f} "
                 f"per run, best of {n} should succeed with probability {expected:.3f} (88 times or more in 100). Run "
                 "all n restarts, each from its own random start, and keep the end point with the lowest f.")
        moved = _MovedRastrigin()
        (box_low, box_high), = moved.domain
        for seed in range(3):
            x = as_array(call(best_of_restarts, moved, moved.grad, n, np.random.default_rng(seed)), "your best point")
            if not box_low <= x.ravel()[0] <= box_high:
                fail(f"on a Rastrigin function moved to the box f.domain = [{box_low:g}, {box_high:g}], your best "
                     f"point is {show(x)}, outside that box: draw the starts uniformly over f.domain (one (low, high) "
                     "pair per coordinate), not over a fixed box.")
        return (f"one run found the global minimum for {single_wins} of 300 seeds (p = {p:.3f} measured per run), "
                f"best of {n} for {wins} of 100 seeds (theory 1 - (1 - p)^{n} = {expected:.3f}).")
