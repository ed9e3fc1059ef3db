"""Stochastic gradient descent, with momentum and Nesterov momentum, as torch.optim.SGD."""
import numpy as np

from gdlab._validate import fraction, non_negative
from gdlab.optim.optimizer import Optimizer


class SGD(Optimizer):
    """x -= lr * g; with momentum, b = momentum * b + (1 - dampening) * g and x -= lr * b.

    Heavy-ball momentum (Polyak 1964) in torch's form, with the buffer b starting at the first gradient;
    nesterov=True steps along g + momentum * b instead, Nesterov's method as rewritten by Sutskever et al.
    2013. weight_decay adds weight_decay * x to the gradient (an L2 penalty).
    """

    def __init__(self, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(lr, weight_decay)
        self.momentum = non_negative(momentum, "momentum")
        self.dampening = fraction(dampening, "dampening")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={self.momentum}, dampening={self.dampening}")

    def _update(self, x, g, state):
        if not self.momentum:
            x -= self.lr * g
            return
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = np.array(g)  # a copy of the first gradient, undamped, as torch starts
        else:  # b = momentum * b + (1 - dampening) * g, in place: torch's form, and no new array per step
            b = state["momentum_buffer"]
            b *= self.momentum
            b += (1 - self.dampening) * g
        b = state["momentum_buffer"]
        x -= self.lr * (g + self.momentum * b if self.nesterov else b)
