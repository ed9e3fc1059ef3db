"""Adagrad, as torch.optim.Adagrad."""
import numpy as np

from gdlab._validate import non_negative
from gdlab.optim.optimizer import Optimizer, buffer


class Adagrad(Optimizer):
    """s += g^2; x -= lr_t * g / (sqrt(s) + eps), lr_t = lr / (1 + (t - 1) lr_decay). Duchi et al. 2011.

    Each coordinate's step shrinks with the sum `s` of all its squared gradients so far;
    `s` starts at initial_accumulator_value.
    """

    def __init__(self, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(lr)
        self.lr_decay = non_negative(lr_decay, "lr_decay")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.initial_accumulator_value = non_negative(initial_accumulator_value, "initial_accumulator_value")
        self.eps = non_negative(eps, "eps")

    def _update(self, x, g, state):
        eps, weight_decay = self.eps, self.weight_decay
        lr_t = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        s = buffer(state, "sum", x, fill=self.initial_accumulator_value)
        for x, g, s, tmp, tmp2 in self._blocks(x, g, s, scratch=2):
            if weight_decay:
                g = np.add(g, np.multiply(x, weight_decay, out=tmp), out=tmp)  # g + weight_decay x
            s += np.square(g, out=tmp2)
            std = np.add(np.sqrt(s, out=tmp2), eps, out=tmp2)
            x -= np.multiply(np.divide(g, std, out=tmp2), lr_t, out=tmp2)
