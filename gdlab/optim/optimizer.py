"""The base class of gdlab's optimizers.

Every optimizer works the same way, on one array or on a list of arrays:

    opt = Adam(lr=0.01)
    for _ in range(100):
        x = opt.step(x, grad(x))

`step` updates float64 arrays in place and returns them; anything else (a list, an int or
float32 array, a read-only or non-contiguous array) is first copied to a new float64 array,
and that copy is returned: always use the returned value. Hyperparameters are plain
attributes named like torch.optim's (`opt.lr`, `opt.momentum`, `opt.betas`, ...), read at
every step, so they can be changed between steps, as a learning-rate schedule does.

A subclass writes only its update rule, `_update(x, g, state)`, in the paper's names;
weight decay is applied here, before it, for all of them.
"""
import numpy as np

from gdlab._validate import non_negative, positive


class Optimizer:
    """Base class. `state[i]` holds the step count and the buffers of the i-th parameter array, under torch's names."""

    decoupled_weight_decay = False

    def __new__(cls, *args, **_settings):
        if args and _looks_like_parameters(args[0]):  # the torch habit Adam([x], lr=0.1) or Adam(model.parameters())
            raise TypeError(f"{cls.__name__} takes no parameters: make it with its settings, {cls.__name__}(lr=0.01), "
                            "and pass the arrays and their gradients to every step, x = opt.step(x, grad(x)) "
                            f"(torch's {cls.__name__}([x], lr=...) holds the parameters instead)")
        return super().__new__(cls)

    def __init__(self, lr, weight_decay=0):
        self.lr = positive(lr, "lr")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.state, self._shapes = [], None  # the shapes of the arrays the state is for, checked at every step

    def step(self, params=None, grads=None):
        """Update `params` (an array, or a list of arrays) with `grads` of the same shapes; return them.

        float64 arrays are updated in place and returned; anything else is copied to a new
        float64 array, which is returned (a list of arrays for a list or tuple).
        """
        if grads is None:
            raise TypeError("step needs the gradient too: x = opt.step(x, grad(x)) (torch's opt.step() reads "
                            "the .grad of its tensors; NumPy arrays carry none)")
        many = is_list_of_arrays(params)
        if many and not isinstance(grads, (list, tuple)):
            raise TypeError(f"grads must be a list of arrays, one per array in params; got {type(grads).__name__}")
        xs, gs = (list(params), list(grads)) if many else ([params], [grads])
        if len(gs) != len(xs):
            raise ValueError(f"grads must have one array per array in params ({len(xs)}), got {len(gs)}")
        for i, (x, g) in enumerate(zip(xs, gs)):
            xs[i] = _float64_array(x, f"params[{i}]" if many else "x", in_place=True)
            gs[i] = _float64_array(g, f"grads[{i}]" if many else "grad")
        shapes = [x.shape for x in xs]
        if not self.state:
            self.state, self._shapes = [{"step": 0} for _ in xs], shapes
        if shapes != self._shapes or [g.shape for g in gs] != shapes:
            self._check_shapes(xs, gs, many)
        for x, g, state in zip(xs, gs, self.state):
            state["step"] += 1
            self._update(x, self._weight_decay(x, g), state)
        return xs if many else xs[0]

    def _check_shapes(self, xs, gs, many):
        """Explain arrays whose shapes differ from each other or from the buffers in the state; or, where the
        state holds no buffers (plain SGD), take the new shapes."""
        if len(self.state) != len(xs):
            raise ValueError(f"params has {len(xs)} arrays but this optimizer's state is for "
                             f"{len(self.state)}; call reset() to start afresh")
        for i, (x, g, state) in enumerate(zip(xs, gs, self.state)):
            if g.shape != x.shape:
                raise ValueError(f"{f'grads[{i}]' if many else 'grad'} must have the shape of "
                                 f"{f'params[{i}]' if many else 'x'}, {x.shape}; got {g.shape}")
            for buffer in state.values():
                if isinstance(buffer, np.ndarray) and buffer.shape != x.shape:
                    raise ValueError(f"the parameter's shape changed from {buffer.shape} to {x.shape}; "
                                     "call reset() to start afresh")
        self._shapes = [x.shape for x in xs]

    def _weight_decay(self, x, g):
        """weight_decay as an L2 penalty, weight_decay/2 |x|^2 added to the loss: its gradient joins g. Or, for
        decoupled_weight_decay (AdamW, Loshchilov & Hutter 2019), x itself shrinks by lr * weight_decay * x
        (torch's form; the paper writes eta_t * lambda * x with eta_t the schedule multiplier)."""
        if not self.weight_decay:
            return g
        if self.decoupled_weight_decay:
            x *= 1 - self.lr * self.weight_decay
            return g
        return g + self.weight_decay * x

    def _update(self, x, g, state):
        """Apply one step of the update rule to `x` in place; `state["step"]` is already counted."""
        raise NotImplementedError

    def reset(self):
        """Forget the state (step counts, moment estimates): the next step is a first step again."""
        self.state = []

    def zero_grad(self):
        raise TypeError("gdlab optimizers keep no gradients, so there is nothing to zero: compute g = grad(x) "
                        "and pass it to each step, x = opt.step(x, g)")


def is_list_of_arrays(value):
    """A list or tuple holding NumPy arrays means several arrays; a list of numbers is one array."""
    return isinstance(value, (list, tuple)) and (not value or any(isinstance(v, np.ndarray) for v in value))


def _looks_like_parameters(value):
    """What torch users pass first: a list of arrays or tensors, an array or tensor, model.parameters()."""
    return (isinstance(value, (list, tuple, np.ndarray)) or hasattr(value, "__next__")
            or hasattr(value, "requires_grad"))


def _float64_array(x, name, in_place=False):
    if (type(x) is np.ndarray and x.dtype == np.float64 and x.flags.c_contiguous
            and (x.flags.writeable or not in_place)):
        return x
    try:
        return np.array(x, dtype=float, order="C")
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
