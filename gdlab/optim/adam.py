"""Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW."""
import math

import numpy as np

from gdlab._validate import decay_pair, non_negative
from gdlab.optim.optimizer import Optimizer, buffer


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): x -= lr * m_hat / (sqrt(v_hat) + eps).

    m = beta1 m + (1 - beta1) g and v = beta2 v + (1 - beta2) g^2 are moving averages of the
    gradient and of its square; m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t) undo
    their bias towards the zeros they start from. amsgrad=True divides by the largest v so far
    (Reddi et al. 2018). weight_decay adds weight_decay * x to g (an L2 penalty), or with
    decoupled_weight_decay=True shrinks x by lr * weight_decay * x directly, as AdamW does.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 decoupled_weight_decay=False):
        super().__init__(lr)
        self.betas = decay_pair(betas, "betas")
        self.eps = non_negative(eps, "eps")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.amsgrad = bool(amsgrad)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _update(self, x, g, state):
        lr, (beta1, beta2), weight_decay, t = self.lr, self.betas, self.weight_decay, state["step"]
        m, v = buffer(state, "exp_avg", x), buffer(state, "exp_avg_sq", x)
        v_max = buffer(state, "max_exp_avg_sq", x) if self.amsgrad else None
        # The paper's faster ordering (end of its section 2): the bias corrections move into the
        # step size alpha_t and eps_hat, so lr * m_hat / (sqrt(v_hat) + eps) = alpha_t * m / (sqrt(v) + eps_hat).
        alpha_t = lr * math.sqrt(1 - beta2**t) / (1 - beta1**t)
        eps_hat = self.eps * math.sqrt(1 - beta2**t)
        for x, g, m, v, v_max, tmp, tmp2 in self._blocks(x, g, m, v, v_max, scratch=2):
            if weight_decay and self.decoupled_weight_decay:
                x *= 1 - lr * weight_decay  # AdamW: Loshchilov & Hutter 2019
            elif weight_decay:
                g = np.add(g, np.multiply(x, weight_decay, out=tmp), out=tmp)  # g + weight_decay x
            m *= beta1
            m += np.multiply(g, 1 - beta1, out=tmp2)
            v *= beta2
            v += np.multiply(np.square(g, out=tmp2), 1 - beta2, out=tmp2)
            if v_max is not None:
                v = np.maximum(v_max, v, out=v_max)
            denom = np.add(np.sqrt(v, out=tmp2), eps_hat, out=tmp2)
            x -= np.multiply(np.divide(m, denom, out=tmp2), alpha_t, out=tmp2)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): x -= lr * weight_decay * x each step."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
