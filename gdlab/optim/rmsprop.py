"""RMSprop, plain or centered, with optional momentum, as torch.optim.RMSprop."""
import numpy as np

from gdlab._validate import non_negative
from gdlab.optim.optimizer import Optimizer, buffer


class RMSprop(Optimizer):
    """v = alpha v + (1 - alpha) g^2; x -= lr * g / (sqrt(v) + eps). Hinton, lecture 6e (2012).

    centered=True divides by an estimate of the gradient's standard deviation instead,
    sqrt(v - g_avg^2) with g_avg = alpha g_avg + (1 - alpha) g (Graves 2013).
    momentum > 0 accumulates b = momentum b + g / (sqrt(v) + eps) and steps x -= lr * b.
    """

    def __init__(self, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False):
        super().__init__(lr)
        self.alpha = non_negative(alpha, "alpha")
        self.eps = non_negative(eps, "eps")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.momentum = non_negative(momentum, "momentum")
        self.centered = bool(centered)

    def _update(self, x, g, state):
        lr, alpha, eps, weight_decay, momentum = self.lr, self.alpha, self.eps, self.weight_decay, self.momentum
        v = buffer(state, "square_avg", x)
        g_avg = buffer(state, "grad_avg", x) if self.centered else None
        b = buffer(state, "momentum_buffer", x) if momentum > 0 else None
        for x, g, v, g_avg, b, tmp, tmp2 in self._blocks(x, g, v, g_avg, b, scratch=2):
            if weight_decay:
                g = np.add(g, np.multiply(x, weight_decay, out=tmp), out=tmp)  # g + weight_decay x
            v *= alpha
            v += np.multiply(np.square(g, out=tmp2), 1 - alpha, out=tmp2)
            if g_avg is not None:
                g_avg *= alpha
                g_avg += np.multiply(g, 1 - alpha, out=tmp2)
                avg = np.sqrt(np.subtract(v, np.square(g_avg, out=tmp2), out=tmp2), out=tmp2)
            else:
                avg = np.sqrt(v, out=tmp2)
            avg += eps
            if b is not None:
                b *= momentum
                b += np.divide(g, avg, out=tmp2)
                x -= np.multiply(b, lr, out=tmp2)
            else:
                x -= np.multiply(np.divide(g, avg, out=tmp2), lr, out=tmp2)
