"""The base class of gdlab's optimizers.

Every optimizer works the same way, on one array or on a list of arrays:

    opt = Adam(lr=0.01)
    for _ in range(100):
        x = opt.step(x, grad(x))

`step` updates float64 arrays in place (for speed) and returns them; anything
else (a list, an int or float32 array, a read-only or non-contiguous array) is
first copied to a new float64 array, and that copy is returned: always use the
returned value. Hyperparameters are plain attributes named like torch.optim's
(`opt.lr`, `opt.momentum`, `opt.betas`, ...), read at every step, so they can be
changed between steps, as a learning-rate schedule does.
"""
import numpy as np

from gdlab._validate import non_negative

# Update rules run block by block: a few passes over a block of this many elements stay in
# the CPU cache, where whole-array passes would go to main memory (see benchmarks/optimizer_step.py).
BLOCK = 2**15


class Optimizer:
    """Base class. `state[i]` holds the step count and buffers of the i-th parameter array."""

    def __init__(self, lr):
        self.lr = non_negative(lr, "lr")
        self.state = []
        self._scratch = np.empty((3, BLOCK))

    def step(self, params, grads):
        """Update `params` (an array, or a list of arrays) with `grads` of the same shapes; return them.

        float64 arrays are updated in place and returned; anything else is copied to a new
        float64 array, which is returned (a list of arrays for a list or tuple).
        """
        many = is_list_of_arrays(params)
        if many and not isinstance(grads, (list, tuple)):
            raise TypeError(f"grads must be a list of arrays, one per array in params; got {type(grads).__name__}")
        xs, gs = (list(params), list(grads)) if many else ([params], [grads])
        if len(gs) != len(xs):
            raise ValueError(f"grads must have one array per array in params ({len(xs)}), got {len(gs)}")
        if not self.state:
            self.state = [{"step": 0} for _ in xs]
        if len(self.state) != len(xs):
            raise ValueError(f"params has {len(xs)} arrays but this optimizer's state is for "
                             f"{len(self.state)}; call reset() to start afresh")
        for i, state in enumerate(self.state):
            x_name, g_name = (f"params[{i}]", f"grads[{i}]") if many else ("x", "grad")
            xs[i] = x = _float64_array(xs[i], x_name, in_place=True)
            g = _float64_array(gs[i], g_name)
            if g.shape != x.shape:
                raise ValueError(f"{g_name} must have the shape of {x_name}, {x.shape}; got {g.shape}")
            state["step"] += 1
            self._update(x, g, state)
        return xs if many else xs[0]

    def reset(self):
        """Forget the state (step counts, moment estimates): the next step is a first step again."""
        self.state = []

    def _update(self, x, g, state):
        """Apply one step of the update rule to `x` in place; `state["step"]` is already counted."""
        raise NotImplementedError

    def _blocks(self, *arrays, scratch=1):
        """Yield matching flat views of `arrays` (None stays None), block by block, then `scratch` work buffers.

        An update rule loops `for x, g, m, tmp in self._blocks(x, g, m)`: inside, the names
        stand for one block of each array, updated in place.
        """
        flat = [None if a is None else a.reshape(-1) for a in arrays]
        size = flat[0].size
        for start in range(0, size, BLOCK):
            stop = min(start + BLOCK, size)
            views = [None if a is None else a[start:stop] for a in flat]
            yield *views, *(work[: stop - start] for work in self._scratch[:scratch])


def buffer(state, name, like, fill=0.0):
    """`state[name]`, created at first use as an array shaped like `like` filled with `fill` (as torch does)."""
    if name not in state:
        state[name] = np.full_like(like, fill)
    elif state[name].shape != like.shape:
        raise ValueError(f"the parameter's shape changed from {state[name].shape} to {like.shape}; "
                         "call reset() to start afresh")
    return state[name]


def is_list_of_arrays(value):
    """A list or tuple holding NumPy arrays means several arrays; a list of numbers is one array."""
    return isinstance(value, (list, tuple)) and (not value or any(isinstance(v, np.ndarray) for v in value))


def _float64_array(x, name, in_place=False):
    if (isinstance(x, np.ndarray) and x.dtype == np.float64 and x.flags.c_contiguous
            and (x.flags.writeable or not in_place)):
        return x
    try:
        return np.array(x, dtype=float, order="C")
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
