"""Stochastic gradient descent, with momentum and Nesterov momentum, as torch.optim.SGD."""
import numpy as np

from gdlab._validate import fraction, non_negative
from gdlab.optim.optimizer import Optimizer, buffer


class SGD(Optimizer):
    """x -= lr * g; with momentum, b = momentum * b + (1 - dampening) * g and x -= lr * b.

    Heavy-ball momentum (Polyak 1964) in torch's form; nesterov=True uses g + momentum * b
    instead of b, the Nesterov step as rewritten by Sutskever et al. 2013. weight_decay adds
    weight_decay * x to the gradient (an L2 penalty).
    """

    def __init__(self, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False):
        super().__init__(lr)
        self.momentum = non_negative(momentum, "momentum")
        self.dampening = fraction(dampening, "dampening")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.nesterov = bool(nesterov)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise ValueError("nesterov=True needs momentum > 0 and dampening = 0, "
                             f"got momentum={self.momentum}, dampening={self.dampening}")

    def _update(self, x, g, state):
        lr, momentum, dampening, weight_decay = self.lr, self.momentum, self.dampening, self.weight_decay
        first = "momentum_buffer" not in state
        b = buffer(state, "momentum_buffer", x) if momentum else None
        for x, g, b, tmp, tmp2 in self._blocks(x, g, b, scratch=2):
            if weight_decay:
                g = np.add(g, np.multiply(x, weight_decay, out=tmp), out=tmp)  # g + weight_decay x
            d = g
            if momentum:
                if first:
                    b[:] = g  # torch starts the buffer at the first gradient, undamped
                else:
                    b *= momentum
                    b += g if dampening == 0 else np.multiply(g, 1 - dampening, out=tmp2)
                d = np.add(g, np.multiply(b, momentum, out=tmp2), out=tmp2) if self.nesterov else b
            x -= np.multiply(d, lr, out=tmp2)
