"""Checks for exercises/09_pytorch_autograd.ipynb."""
import numpy as np

from gdlab.check.core import Chapter, Failed, as_array, call, close, fail, hint_on, near
from gdlab.data import StandardScaler, linear_regression, purchase
from gdlab.functions import Rosenbrock
from gdlab.models import logistic_grad, mse_grad, mse_loss


def _float32_hint(got, expected, where, advice="Make your tensors float64: torch.tensor(..., dtype=torch.float64)"):
    """FAIL when `got` is right to float32's 7 digits only."""
    if got.shape == expected.shape and not near(got, expected, 1e-9, 1e-12) and near(got, expected, 1e-4, 1e-6):
        fail(f"{where} agrees to about 7 digits only: computed in float32? {advice}.")


def _linear_regression_sgd(X, y, lr, steps, accumulate=False, scale=1.0, bias=True, momentum=0.0, frozen=False):
    """[w, b] after `steps` steps of gradient descent on `scale` times the MSE from zeros.

    accumulate: never zero the gradient. An (n, n) broadcast of X @ w - y is the same descent with every
    target replaced by the mean of y (its gradient is 2/n sum_i x_i (x_i . w + b - mean(y))).
    bias=False: b stays 0 (the optimizer was given w only). momentum: torch's SGD momentum buffer.
    frozen: every step uses the gradient at the start (the loss was computed once, before the loop).
    """
    start = theta = np.zeros(X.shape[1] + 1)
    total = np.zeros(X.shape[1] + 1)
    for _ in range(steps):
        at = start if frozen else theta
        dw, db = mse_grad(at[:-1], at[-1], X, y)
        gradient = scale * np.append(dw, db if bias else 0.0)
        total = total + gradient if accumulate else momentum * total + gradient
        theta = theta - lr * total
    return theta


def _not_a_tuple(got, where):
    """FAIL when the learner returned torch.autograd.grad's one-element tuple instead of the gradient in it."""
    if isinstance(got, tuple) and len(got) == 1:
        fail(f"{where} is a tuple holding one tensor: torch.autograd.grad returns one gradient per input, "
             "as a tuple; unpack it: (g,) = torch.autograd.grad(loss, t).")


def _rosenbrock_t(x):
    return ((1 - x[:-1]) ** 2 + 100.0 * (x[1:] - x[:-1] ** 2) ** 2).sum()


class ch09(Chapter):
    """09 · PyTorch autograd."""

    def task1(autograd_gradient):
        "a gradient by autograd"
        import torch
        import torch.nn.functional as F

        people = purchase(n=200, seed=3)
        X, y = StandardScaler().fit_transform(people.X), people.y.astype(float)
        X_t, y_t = torch.tensor(X), torch.tensor(y)

        def logistic_loss(t):
            return F.binary_cross_entropy_with_logits(X_t.to(t) @ t[:-1] + t[-1], y_t.to(t))

        A = np.array([[3.0, 1.0], [1.0, 2.0]])
        b = np.array([1.0, -1.0])

        def quadratic(t):
            return 0.5 * t @ torch.tensor(A).to(t) @ t - torch.tensor(b).to(t) @ t

        w, bias = np.array([0.4, -0.2, 0.3]), -0.5
        cases = [("the logistic loss of chapter 08", logistic_loss, np.append(w, bias),
                  np.append(*logistic_grad(w, bias, X, y))),
                 ("the quadratic ½xᵀAx - bᵀx", quadratic, np.array([2.0, -1.0]), A @ np.array([2.0, -1.0]) - b)]
        for name, f, theta, expected in cases:
            given = theta.copy()
            try:
                got = call(autograd_gradient, f, given)
            except Failed as failure:
                hint_on(failure, {
                    "does not require grad": "autograd has nothing to differentiate: make the tensor with "
                                             "requires_grad=True, then call backward() on the loss",
                    "Can't call numpy() on Tensor that requires grad": "use t.grad, or t.detach().numpy()",
                })
            where = f"your gradient of {name}"
            _not_a_tuple(got, where)
            if got is None:
                fail(f"{where} is None: t.grad stays None until loss.backward() has run (or `return` is missing).")
            got = as_array(got, where)
            if got.shape == ():
                fail(f"{where} is one number: that is the loss f(t); return its gradient, t.grad.")
            _float32_hint(got, expected, where)
            close(got, expected, where, {
                "you returned the point theta itself; the gradient is in t.grad after f(t).backward()": theta,
                "twice the gradient: backward() ran twice and .grad added up the two results": 2 * expected,
            }, rtol=1e-10, atol=1e-12)
            if not np.array_equal(given, theta):
                fail("your function changed the caller's theta in place: torch.from_numpy shares its memory; "
                     "use torch.tensor(theta, ...), which copies.")
        return "autograd equals the analytic gradients of the logistic loss and of a quadratic to 10 digits and more."

    def task2(fit_linear):
        "a training loop that clears its gradients"
        import torch

        data = linear_regression(n=50, n_features=2, seed=1)
        lr, steps = 0.05, 20

        def descend(steps, accumulate=False):
            return _linear_regression_sgd(data.X, data.y, lr, steps, accumulate)

        right = descend(steps)
        try:
            got = call(fit_linear, torch.tensor(data.X), torch.tensor(data.y), lr, steps)
        except Failed as failure:
            if "does not require grad" in str(failure):
                try:  # one step works when w and b required grad at first: the update made the new ones
                    call(fit_linear, torch.tensor(data.X), torch.tensor(data.y), lr, 1)
                except Failed:
                    pass
                else:
                    fail(f"{failure} → one step works, the second does not: `w = w - lr * w.grad` under "
                         "torch.no_grad() makes a new tensor that does not require grad, so the next loss has no "
                         "graph to w; update in place, `w -= lr * w.grad` (under no_grad), or call optimizer.step().")
            hint_on(failure, {
                "same dtype": "X and y are float64: create w and b with dtype=torch.float64 too",
                "does not require grad": "create w and b with requires_grad=True",
                "leaf Variable that requires grad is being used in an in-place operation":
                    "an update by hand must not be recorded: do it inside `with torch.no_grad():`, or call "
                    "optimizer.step(), which does",
                "'NoneType'": "a .grad was None: w = w - lr * w.grad makes a new tensor, not a leaf, whose .grad "
                              "autograd never fills; update in place under torch.no_grad(), w -= lr * w.grad, or "
                              "use optimizer.step()",
            })
        if not (isinstance(got, (tuple, list)) and len(got) == 2):
            fail("return the pair w, b (two tensors), as in `return w, b`.")
        theta = np.append(as_array(got[0], "your w").ravel(), as_array(got[1], "your b").ravel())
        _float32_hint(theta, right, "your [w, b]")
        close(theta, right, f"your [w, b] after {steps} steps (lr = {lr})", {
            "gradients accumulated: call optimizer.zero_grad() (or set .grad to None) before every backward()":
                descend(steps, accumulate=True),
            "your parameters never moved: zero_grad() between backward() and step() wipes the gradient "
            "before it is used; call it before backward()": np.zeros_like(right),
            f"one step short: make exactly steps = {steps} updates": descend(steps - 1),
            f"one step too many: make exactly steps = {steps} updates": descend(steps + 1),
            "X @ w and y have different shapes ((n, 1) and (n,), or the reverse), so X @ w + b - y broadcast to "
            "an (n, n) matrix that compares every prediction with every target; keep both flat: "
            "w = torch.zeros(d), and y as given": _linear_regression_sgd(data.X, np.full_like(data.y, data.y.mean()),
                                                                            lr, steps),
            f"the squared errors are summed, not averaged: each step is n = {len(data.y)} times too large; "
            "use .mean()": _linear_regression_sgd(data.X, data.y, lr, steps, scale=len(data.y)),
            "b never moved: give the optimizer every parameter, torch.optim.SGD([w, b], lr=lr)":
                _linear_regression_sgd(data.X, data.y, lr, steps, bias=False),
            "that is SGD with momentum 0.9; this task uses plain SGD, torch.optim.SGD([w, b], lr=lr)":
                _linear_regression_sgd(data.X, data.y, lr, steps, momentum=0.9),
            "every step used the gradient at the start: the loss was computed once, before the loop; compute it "
            "inside the loop, from the current w and b":
                _linear_regression_sgd(data.X, data.y, lr, steps, frozen=True),
        }, rtol=1e-9, atol=1e-12)
        bug = descend(steps, accumulate=True)
        losses = [mse_loss(t[:-1], t[-1], data.X, data.y) for t in (np.zeros(3), right, bug)]
        return (f"the MSE goes from {losses[0]:.4f} to {losses[1]:.4f} in {steps} steps; "
                f"without zero_grad the same loop would end at {losses[2]:.4f}.")

    def task3(hessian_vector_product):
        "a Hessian-vector product by double backward"
        import torch

        rosenbrock = Rosenbrock(dim=4)
        x, v = np.array([-1.2, 1.0, 0.5, -0.3]), np.array([1.0, -2.0, 0.5, 3.0])
        H = rosenbrock.hessian(x)
        try:
            got = call(hessian_vector_product, _rosenbrock_t, torch.tensor(x), torch.tensor(v))
        except Failed as failure:
            hint_on(failure, {"does not require grad": "the gradient carries no graph to differentiate: compute it "
                                                        "with create_graph=True, from an x with requires_grad=True"})
        _not_a_tuple(got, "your H v")
        if isinstance(got, tuple) and len(got) == 2:
            fail("your H v is a pair: torch.autograd.functional.hvp(f, x, v) returns (f(x), H v); return the second, "
                 "hvp(f, x, v)[1].")
        got = as_array(got, "your H v")
        if got.shape == ():
            fail("your H v is one number: that is the directional derivative ∇f(x)·v; differentiate it with "
                 "respect to x once more.")
        if got.shape == H.shape:
            fail("your H v has shape (4, 4): that is the Hessian itself; return its product with v, "
                 "without building the matrix.")
        _float32_hint(got, H @ v, "your H v")
        close(got, H @ v, "your H v for Rosenbrock (d = 4)", {
            "that is the gradient ∇f(x), not H v: differentiate ∇f(x)·v once more": rosenbrock.grad(x),
            "that is ∇f(x) + H v: two backward() calls added up in x.grad; use torch.autograd.grad, "
            "which returns the gradients instead": rosenbrock.grad(x) + H @ v,
            "that is (H 1) * v, the row sums of H times v entry by entry; differentiate the number ∇f(x)·v, "
            "(g * v).sum(), instead of g.sum()": H.sum(axis=1) * v,
        }, rtol=1e-10, atol=1e-10)
        return "H v equals the explicit Hessian of Rosenbrock times v to 10 digits and more, without building H."

    def task4(LogCosh):
        "a custom backward, checked by gradcheck"
        import torch

        x = np.array([-1.5, -0.3, 0.2, 0.8, 2.0])
        u = np.array([0.5, -1.0, 2.0, 1.5, -0.7])  # grad_output: the gradient of sum(u * y)

        def backward_pass(x, u):
            x = torch.tensor(x, requires_grad=True)
            (g,) = torch.autograd.grad(LogCosh.apply(x), x, grad_outputs=torch.tensor(u))
            return g

        backward_pass.__name__ = "LogCosh.backward"
        t = np.tanh(x)
        got = as_array(call(backward_pass, x, u), "the gradient of sum(u · LogCosh(x))")
        _float32_hint(got, u * t, "the gradient of sum(u · LogCosh(x))",
                      "x and grad_output are float64: compute the backward from them, without .float() or a "
                      "float32 tensor of your own")
        close(got, u * t, "the gradient of sum(u · LogCosh(x)) for a non-uniform u", {
            "multiply by grad_output (the chain rule); with y.sum() the bug hides, because grad_output is all ones": t,
            "1 - tanh(x)² is the derivative of tanh; the derivative of log(cosh(x)) is tanh(x)": u * (1 - t**2),
            "that is log(cosh(x)), the forward output; backward returns grad_output times its derivative":
                u * np.log(np.cosh(x)),
            "divide sinh(x) by cosh(x), not the other way round": u / t,
            "grad_output and tanh(x) multiply entry by entry; do not sum tanh(x)": u * t.sum(),
            "grad_output and tanh(x) multiply entry by entry; do not sum grad_output": u.sum() * t,
            "sign(x) is the derivative of |x|; log(cosh(x)) is its smooth version, with derivative tanh(x)":
                u * np.sign(x),
        }, rtol=1e-10, atol=1e-12)
        passed = call(torch.autograd.gradcheck, LogCosh.apply, (torch.tensor(x, requires_grad=True),),
                      raise_exception=False)
        if not passed:
            fail("the gradient above is right, but torch.autograd.gradcheck fails: does forward compute "
                 "log(cosh(x)) in float64?")
        return "backward returns grad_output · tanh(x); torch.autograd.gradcheck passes in float64."

    def task5(Value):
        "a new operation for the Value class"
        import torch

        def value_pow(base, k):
            return base**k

        for x0, k in ((1.7, 3), (0.8, -1), (2.5, 0.5)):
            x = call(Value, x0)
            y = call(value_pow, x, k)
            if not isinstance(y, Value):
                fail(f"x ** {k} should return a new Value (the result and how it was made), got a {type(y).__name__}.")
            close(y.data, x0**k, f"the value of x ** {k} at x = {x0}")
            try:
                call(y.backward)
            except Failed as failure:
                hint_on(failure, {
                    "'float' object is not iterable": "local_grads must be a tuple, one local derivative per parent: "
                    "(k * self.data ** (k - 1),), with the comma; (a) without a comma is just a",
                    "'int' object is not iterable": "local_grads must be a tuple, one local derivative per parent: "
                    "(k * self.data ** (k - 1),), with the comma; (a) without a comma is just a",
                    "'Value' object is not iterable": "parents must be a tuple: (self,), with the comma; (self) "
                    "without a comma is just self",
                    "object has no attribute 'parents'": "k is a constant, not a Value: the only parent is self, "
                    "(self,), with one local derivative",
                })
            close(x.grad, k * x0 ** (k - 1), f"d(x ** {k})/dx at x = {x0}", {
                "the exponent drops by one: the derivative of x^k is k x^(k-1), you have k x^k": k * x0**k,
                "the factor k is missing: the derivative of x^k is k x^(k-1)": x0 ** (k - 1),
                "that is x^k, the value; the local gradient is its derivative k x^(k-1)": x0**k,
                "twice the derivative: did your power set self.grad? backward() adds the local derivative times the "
                "output's grad; the operation only records the local derivative": 2 * k * x0 ** (k - 1),
                "x.grad stayed 0: the new Value must remember its parent and the local gradient, "
                "Value(data, (self,), (local,))": 0.0,
            })

        def expression(a, b, c):
            return (a * b + c) ** 2 / b + a**0.5

        start = {"a": 1.5, "b": -0.7, "c": 0.4}
        values = {name: call(Value, v) for name, v in start.items()}
        call(call(expression, **values).backward)
        tensors = {name: torch.tensor(v, dtype=torch.float64, requires_grad=True) for name, v in start.items()}
        expression(**tensors).backward()
        close([v.grad for v in values.values()], [t.grad.item() for t in tensors.values()],
              "your gradients of (ab + c)² / b + √a with respect to a, b, c (torch's are the reference)")
        return "d(x^k)/dx = k x^(k-1) for k = 3, -1 and 0.5, and (ab + c)² / b + √a gets torch's gradients."
