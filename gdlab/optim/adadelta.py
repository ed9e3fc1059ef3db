"""Adadelta, as torch.optim.Adadelta."""
import numpy as np

from gdlab._validate import fraction, non_negative
from gdlab.optim.optimizer import Optimizer, buffer


class Adadelta(Optimizer):
    """Zeiler 2012: the step has the units of x, RMS[dx] / RMS[g] * g.

    v = rho v + (1 - rho) g^2;  dx = sqrt(u + eps) / sqrt(v + eps) * g;
    u = rho u + (1 - rho) dx^2;  x -= lr * dx.
    The paper has no learning rate (lr=1.0, torch's default, is the paper's algorithm).
    """

    def __init__(self, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0):
        super().__init__(lr)
        self.rho = fraction(rho, "rho")
        self.eps = non_negative(eps, "eps")
        self.weight_decay = non_negative(weight_decay, "weight_decay")

    def _update(self, x, g, state):
        lr, rho, eps, weight_decay = self.lr, self.rho, self.eps, self.weight_decay
        v, u = buffer(state, "square_avg", x), buffer(state, "acc_delta", x)
        for x, g, v, u, tmp, tmp2, dx in self._blocks(x, g, v, u, scratch=3):
            if weight_decay:
                g = np.add(g, np.multiply(x, weight_decay, out=tmp), out=tmp)  # g + weight_decay x
            v *= rho
            v += np.multiply(np.square(g, out=tmp2), 1 - rho, out=tmp2)
            rms_g = np.sqrt(np.add(v, eps, out=tmp2), out=tmp2)
            dx = np.sqrt(np.add(u, eps, out=dx), out=dx)  # RMS[dx] of the previous steps
            dx /= rms_g
            dx *= g
            u *= rho
            u += np.multiply(np.square(dx, out=tmp2), 1 - rho, out=tmp2)
            x -= np.multiply(dx, lr, out=tmp2)
