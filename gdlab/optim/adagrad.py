"""Adagrad, as torch.optim.Adagrad."""
import numpy as np

from gdlab._validate import non_negative
from gdlab.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """s += g^2; x -= lr_t * g / (sqrt(s) + eps), lr_t = lr / (1 + (t - 1) lr_decay). Duchi et al. 2011.

    Each coordinate's step shrinks with the sum `s` of all its squared gradients so far;
    `s` starts at initial_accumulator_value.
    """

    def __init__(self, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10):
        super().__init__(lr, weight_decay)
        self.lr_decay = non_negative(lr_decay, "lr_decay")
        self.initial_accumulator_value = non_negative(initial_accumulator_value, "initial_accumulator_value")
        self.eps = non_negative(eps, "eps")

    def _update(self, x, g, state):
        lr_t = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        s = state["sum"] = state.get("sum", self.initial_accumulator_value) + g**2
        x -= lr_t * g / (np.sqrt(s) + self.eps)
