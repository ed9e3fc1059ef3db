"""gdlab.check.ch09: right answers PASS, untouched tasks TODO, planted autograd mistakes FAIL with their hint."""
import pytest

from conftest import assert_reports, stub
from gdlab import check

torch = pytest.importorskip("torch")


# ---------------------------------------------------------------------------------------------
# Task 1 · a gradient by autograd


def autograd_gradient(f, theta, dtype=torch.float64):
    t = torch.tensor(theta, dtype=dtype, requires_grad=True)
    f(t).backward()
    return t.grad


def forgot_requires_grad(f, theta):
    t = torch.tensor(theta, dtype=torch.float64)
    f(t).backward()
    return t.grad


def returns_the_tensor(f, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    f(t).backward()
    return t


def returns_the_loss(f, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    loss = f(t)
    loss.backward()
    return loss


def backward_twice(f, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    f(t).backward()
    f(t).backward()
    return t.grad


def grad_before_backward(f, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    g = t.grad
    f(t).backward()
    return g


def numpy_without_detach(f, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    f(t).backward()
    return t.numpy()


def returns_the_tuple_of_autograd_grad(f, theta):
    t = torch.tensor(theta, dtype=torch.float64, requires_grad=True)
    return torch.autograd.grad(f(t), t)


def shares_memory(f, theta):
    t = torch.from_numpy(theta).requires_grad_(True)
    f(t).backward()
    with torch.no_grad():
        t -= 0.1 * t.grad  # one gradient step, which writes into the caller's array
    return t.grad


# ---------------------------------------------------------------------------------------------
# Task 2 · a training loop that clears its gradients


def fit_linear(X, y, lr, steps, clear="before", extra_steps=0, dtype=torch.float64, w_shape=None, column_y=False,
               reduce=torch.mean):
    w = torch.zeros(w_shape or X.shape[1], dtype=dtype, requires_grad=True)
    b = torch.zeros(1, dtype=dtype, requires_grad=True)
    X, y = X.to(dtype), y.to(dtype)
    if column_y:
        y = y[:, None]
    optimizer = torch.optim.SGD([w, b], lr=lr)
    for _ in range(steps + extra_steps):
        if clear == "before":
            optimizer.zero_grad()
        loss = reduce((X @ w + b - y) ** 2)
        loss.backward()
        if clear == "between":
            optimizer.zero_grad()
        optimizer.step()
    return w, b


def fit_linear_by_hand(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros((), dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        ((X @ w + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w -= lr * w.grad
            b -= lr * b.grad
        w.grad, b.grad = None, None
    return w, b


def fit_linear_update_recorded(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        ((X @ w + b - y) ** 2).mean().backward()
        w -= lr * w.grad  # not under torch.no_grad()
        b -= lr * b.grad
        w.grad, b.grad = None, None
    return w, b


def fit_linear_rebinding(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        ((X @ w + b - y) ** 2).mean().backward()
        w = w - lr * w.grad  # a new tensor, not a leaf: its .grad stays None
        b = b - lr * b.grad
    return w, b


def fit_linear_rebinding_under_no_grad(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    for _ in range(steps):
        ((X @ w + b - y) ** 2).mean().backward()
        with torch.no_grad():
            w = w - lr * w.grad  # a new tensor, made under no_grad: it does not require grad
            b = b - lr * b.grad
    return w, b


def fit_linear_optimizer_without_b(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr)
    for _ in range(steps):
        optimizer.zero_grad()
        ((X @ w + b - y) ** 2).mean().backward()
        optimizer.step()
    return w, b


def fit_linear_with_momentum(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=lr, momentum=0.9)
    for _ in range(steps):
        optimizer.zero_grad()
        ((X @ w + b - y) ** 2).mean().backward()
        optimizer.step()
    return w, b


def fit_linear_loss_before_the_loop(X, y, lr, steps):
    w = torch.zeros(X.shape[1], dtype=torch.float64, requires_grad=True)
    b = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w, b], lr=lr)
    loss = ((X @ w + b - y) ** 2).mean()
    for _ in range(steps):
        optimizer.zero_grad()
        loss.backward(retain_graph=True)
        optimizer.step()
    return w, b


def fit_linear_float32_weights(X, y, lr, steps):
    w = torch.zeros(X.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    ((X @ w + b - y) ** 2).mean().backward()
    return w, b


def fit_linear_without_requires_grad(X, y, lr, steps):
    w, b = torch.zeros(X.shape[1], dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
    ((X @ w + b - y) ** 2).mean().backward()
    return w, b


def fit_linear_returns_one_tensor(X, y, lr, steps):
    w, b = fit_linear(X, y, lr, steps)
    return torch.cat([w, b])


# ---------------------------------------------------------------------------------------------
# Task 3 · a Hessian-vector product


def hvp(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(g @ v, x)
    return hv


def hvp_without_create_graph(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x)
    (hv,) = torch.autograd.grad(g @ v, x)
    return hv


def hvp_returns_the_gradient(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x)
    return g


def hvp_returns_the_directional_derivative(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x)
    return g @ v


def hvp_with_two_backwards(f, x, v):
    x = x.detach().requires_grad_(True)
    f(x).backward(create_graph=True)
    (x.grad @ v).backward()
    return x.grad


def hvp_builds_the_hessian(f, x, v):
    return torch.autograd.functional.hessian(f, x)


def hvp_returns_the_tuple(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    return torch.autograd.grad(g @ v, x)


def hvp_by_grad_outputs(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (hv,) = torch.autograd.grad(g, x, grad_outputs=v)  # v^T H = (H v)^T: H is symmetric
    return hv


def hvp_by_functional(f, x, v):
    return torch.autograd.functional.hvp(f, x, v)


def hvp_row_sums_times_v(f, x, v):
    x = x.detach().requires_grad_(True)
    (g,) = torch.autograd.grad(f(x), x, create_graph=True)
    (h1,) = torch.autograd.grad(g.sum(), x)
    return h1 * v


def hvp_in_float32(f, x, v):
    return hvp(f, x.float(), v.float())


# ---------------------------------------------------------------------------------------------
# Task 4 · a custom backward


def log_cosh(local_derivative):
    """A LogCosh autograd.Function whose backward returns local_derivative(x, grad_output)."""

    class LogCosh(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return torch.log(torch.cosh(x))

        @staticmethod
        def backward(ctx, grad_output):
            (x,) = ctx.saved_tensors
            return local_derivative(x, grad_output)

    return LogCosh


def unfinished_backward(x, grad_output):
    raise NotImplementedError("Task 4: replace this line with your code")


# ---------------------------------------------------------------------------------------------
# Task 5 · a new operation for the Value class


def value_class(pow_rule):
    """The exercise's Value class with __pow__ = pow_rule(self, k) -> (data, local gradient) or raising."""

    class Value:
        def __init__(self, data, parents=(), local_grads=()):
            self.data, self.grad = float(data), 0.0
            self.parents, self.local_grads = parents, local_grads

        def __add__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return Value(self.data + other.data, (self, other), (1.0, 1.0))

        def __mul__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return Value(self.data * other.data, (self, other), (other.data, self.data))

        __radd__, __rmul__ = __add__, __mul__

        def __truediv__(self, other):
            other = other if isinstance(other, Value) else Value(other)
            return self * other**-1

        def __pow__(self, k):
            data, local = pow_rule(self.data, k)
            return Value(data, (self,), (local,))

        def backward(self):
            order, seen = [], set()

            def visit(v):
                if v not in seen:
                    seen.add(v)
                    for parent in v.parents:
                        visit(parent)
                    order.append(v)

            visit(self)
            self.grad = 1.0
            for v in reversed(order):
                for parent, local in zip(v.parents, v.local_grads):
                    parent.grad += local * v.grad

    return Value


def forgetful_value_class():
    Value = value_class(lambda x, k: (x**k, k * x ** (k - 1)))
    Value.__pow__ = lambda self, k: Value(self.data**k)
    return Value


def pow_returning_a_float():
    Value = value_class(lambda x, k: (x**k, k * x ** (k - 1)))
    Value.__pow__ = lambda self, k: self.data**k
    return Value


def value_class_with_pow(make_pow):
    """The exercise's Value class with __pow__ = make_pow(Value)."""
    Value = value_class(lambda x, k: (x**k, k * x ** (k - 1)))
    Value.__pow__ = make_pow(Value)
    return Value


def pow_without_comma_in_local_grads(Value):
    return lambda self, k: Value(self.data**k, (self,), (k * self.data ** (k - 1)))  # a float, not a tuple


def pow_without_comma_in_parents(Value):
    return lambda self, k: Value(self.data**k, (self), (k * self.data ** (k - 1),))  # (self) is self: no comma


def pow_with_k_as_parent(Value):
    return lambda self, k: Value(self.data**k, (self, k), (k * self.data ** (k - 1),))


def pow_setting_grad(Value):
    def power(self, k):
        self.grad = k * self.data ** (k - 1)  # backward adds the local derivative again
        return Value(self.data**k, (self,), (k * self.data ** (k - 1),))

    return power


def raise_todo(x, k):
    raise NotImplementedError("Task 5: replace this line with your code")


CH09 = [
    ("task1", autograd_gradient, "PASS", "to 10 digits and more"),
    ("task1", lambda f, theta: autograd_gradient(f, theta).numpy(), "PASS", "equals the analytic gradients"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", forgot_requires_grad, "FAIL", "make the tensor with requires_grad=True"),
    ("task1", returns_the_tensor, "FAIL", "you returned the point theta itself"),
    ("task1", returns_the_loss, "FAIL", "that is the loss f(t); return its gradient"),
    ("task1", lambda f, theta: autograd_gradient(f, theta, torch.float32), "FAIL", "computed in float32?"),
    ("task1", backward_twice, "FAIL", "backward() ran twice"),
    ("task1", grad_before_backward, "FAIL", "t.grad stays None until loss.backward()"),
    ("task1", numpy_without_detach, "FAIL", "use t.grad, or t.detach().numpy()"),
    ("task1", shares_memory, "FAIL", "changed the caller's theta in place"),
    ("task1", returns_the_tuple_of_autograd_grad, "FAIL", "unpack it: (g,) = torch.autograd.grad(loss, t)"),
    ("task1", lambda f, theta: -autograd_gradient(f, theta), "FAIL", "wrong sign"),
    ("task2", fit_linear, "PASS", "without zero_grad the same loop would end at"),
    ("task2", fit_linear_by_hand, "PASS", "the MSE goes from 8.2442 to 0.4623 in 20 steps"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, clear="never"), "FAIL",
     "gradients accumulated: call optimizer.zero_grad()"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, clear="between"), "FAIL",
     "your parameters never moved: zero_grad() between backward() and step()"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, extra_steps=-1), "FAIL", "one step short"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, extra_steps=1), "FAIL", "one step too many"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, dtype=torch.float32), "FAIL",
     "agrees to about 7 digits only"),
    ("task2", fit_linear_float32_weights, "FAIL", "create w and b with dtype=torch.float64 too"),
    ("task2", fit_linear_returns_one_tensor, "FAIL", "return the pair w, b"),
    ("task2", fit_linear_without_requires_grad, "FAIL", "create w and b with requires_grad=True"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, w_shape=(X.shape[1], 1)), "FAIL",
     "broadcast to an (n, n) matrix"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, column_y=True), "FAIL",
     "broadcast to an (n, n) matrix"),
    ("task2", lambda X, y, lr, steps: fit_linear(X, y, lr, steps, reduce=torch.sum), "FAIL",
     "summed, not averaged: each step is n = 50 times too large"),
    ("task2", fit_linear_update_recorded, "FAIL", "do it inside `with torch.no_grad():`"),
    ("task2", fit_linear_rebinding, "FAIL", "w = w - lr * w.grad makes a new tensor, not a leaf"),
    ("task2", fit_linear_rebinding_under_no_grad, "FAIL", "one step works, the second does not"),
    ("task2", fit_linear_optimizer_without_b, "FAIL", "b never moved"),
    ("task2", fit_linear_with_momentum, "FAIL", "this task uses plain SGD"),
    ("task2", fit_linear_loss_before_the_loop, "FAIL", "the loss was computed once, before the loop"),
    ("task3", hvp, "PASS", "without building H"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", hvp_without_create_graph, "FAIL", "compute it with create_graph=True"),
    ("task3", hvp_returns_the_gradient, "FAIL", "that is the gradient ∇f(x), not H v"),
    ("task3", hvp_returns_the_directional_derivative, "FAIL", "that is the directional derivative"),
    ("task3", hvp_with_two_backwards, "FAIL", "two backward() calls added up in x.grad"),
    ("task3", hvp_builds_the_hessian, "FAIL", "that is the Hessian itself"),
    ("task3", hvp_in_float32, "FAIL", "computed in float32?"),
    ("task3", hvp_by_grad_outputs, "PASS", "without building H"),
    ("task3", hvp_returns_the_tuple, "FAIL", "torch.autograd.grad returns one gradient per input"),
    ("task3", lambda f, x, v: -hvp(f, x, v), "FAIL", "wrong sign"),
    ("task3", hvp_by_functional, "FAIL", "returns (f(x), H v); return the second"),
    ("task3", lambda f, x, v: hvp_by_functional(f, x, v)[1], "PASS", "without building H"),
    ("task3", hvp_row_sums_times_v, "FAIL", "that is (H 1) * v"),
    ("task4", log_cosh(lambda x, g: g * torch.tanh(x)), "PASS", "gradcheck passes in float64"),
    ("task4", log_cosh(lambda x, g: g * torch.sinh(x) / torch.cosh(x)), "PASS", "grad_output · tanh(x)"),
    ("task4", log_cosh(lambda x, g: (g * torch.tanh(x),)), "PASS", "gradcheck passes in float64"),
    ("task4", log_cosh(unfinished_backward), "TODO", "not implemented yet"),
    ("task4", log_cosh(lambda x, g: torch.tanh(x)), "FAIL", "multiply by grad_output (the chain rule)"),
    ("task4", log_cosh(lambda x, g: -g * torch.tanh(x)), "FAIL", "wrong sign"),
    ("task4", log_cosh(lambda x, g: g * (1 - torch.tanh(x) ** 2)), "FAIL", "1 - tanh(x)² is the derivative of tanh"),
    ("task4", log_cosh(lambda x, g: g * torch.log(torch.cosh(x))), "FAIL", "that is log(cosh(x)), the forward output"),
    ("task4", log_cosh(lambda x, g: g / torch.tanh(x)), "FAIL", "divide sinh(x) by cosh(x)"),
    ("task4", log_cosh(lambda x, g: (g * torch.tanh(x))[:2]), "FAIL", "LogCosh.backward raised RuntimeError"),
    ("task4", log_cosh(lambda x, g: g * torch.tanh(x).float()), "FAIL", "without .float()"),
    ("task4", log_cosh(lambda x, g: g * torch.tanh(x).sum()), "FAIL", "do not sum tanh(x)"),
    ("task4", log_cosh(lambda x, g: g.sum() * torch.tanh(x)), "FAIL", "do not sum grad_output"),
    ("task4", log_cosh(lambda x, g: g * torch.sign(x)), "FAIL", "sign(x) is the derivative of |x|"),
    ("task5", value_class(lambda x, k: (x**k, k * x ** (k - 1))), "PASS", "gets torch's gradients"),
    ("task5", value_class(raise_todo), "TODO", "not implemented yet"),
    ("task5", value_class(lambda x, k: (x**k, k * x**k)), "FAIL", "the exponent drops by one"),
    ("task5", value_class(lambda x, k: (x**k, x ** (k - 1))), "FAIL", "the factor k is missing"),
    ("task5", value_class(lambda x, k: (x**k, x**k)), "FAIL", "that is x^k, the value"),
    ("task5", value_class(lambda x, k: (x**k, -k * x ** (k - 1))), "FAIL", "wrong sign"),
    ("task5", value_class(lambda x, k: (k * x ** (k - 1), k * x ** (k - 1))), "FAIL", "the value of x ** 3"),
    ("task5", forgetful_value_class(), "FAIL", "x.grad stayed 0"),
    ("task5", pow_returning_a_float(), "FAIL", "should return a new Value"),
    ("task5", value_class_with_pow(pow_without_comma_in_local_grads), "FAIL", "local_grads must be a tuple"),
    ("task5", value_class_with_pow(pow_without_comma_in_parents), "FAIL", "parents must be a tuple: (self,)"),
    ("task5", value_class_with_pow(pow_with_k_as_parent), "FAIL", "k is a constant, not a Value"),
    ("task5", value_class_with_pow(pow_setting_grad), "FAIL", "did your power set self.grad?"),
]


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf Tensor")
@pytest.mark.parametrize("task, answer, status, hint", CH09, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH09])
def test_ch09(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch09, task)(answer), status, hint)


def test_a_wrong_composite_gradient_is_caught_even_when_the_power_is_right(capsys):
    """A Value class whose power is right but whose multiplication forgets a parent's contribution."""
    Value = value_class(lambda x, k: (x**k, k * x ** (k - 1)))
    Value.__mul__ = lambda self, other: Value(self.data * (other.data if isinstance(other, Value) else other),
                                              (self,), (other.data if isinstance(other, Value) else other,))
    result = check.ch09.task5(Value)
    assert_reports(capsys, result, "FAIL", "your gradients of (ab + c)² / b + √a")
