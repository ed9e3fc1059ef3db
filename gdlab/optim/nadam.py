"""NAdam, as torch.optim.NAdam."""
import math

import numpy as np

from gdlab._validate import decay_pair, non_negative
from gdlab.optim.optimizer import Optimizer, buffer


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016): the step uses the next momentum's look-ahead.

    With a momentum schedule mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2) and mu_product the
    product of mu_1..mu_t, x -= lr (1 - mu_t) / (1 - mu_product) * g / (sqrt(v_hat) + eps)
                           + lr mu_{t+1} / (1 - mu_product mu_{t+1}) * m / (sqrt(v_hat) + eps),
    with m, v and v_hat as in Adam (torch's form of the paper's update). decoupled_weight_decay=True
    decays x as AdamW does.
    """

    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False):
        super().__init__(lr)
        self.betas = decay_pair(betas, "betas")
        self.eps = non_negative(eps, "eps")
        self.weight_decay = non_negative(weight_decay, "weight_decay")
        self.momentum_decay = non_negative(momentum_decay, "momentum_decay")
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _update(self, x, g, state):
        lr, (beta1, beta2), eps, weight_decay, t = self.lr, self.betas, self.eps, self.weight_decay, state["step"]
        m, v = buffer(state, "exp_avg", x), buffer(state, "exp_avg_sq", x)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
        state["mu_product"] = mu_product = state.get("mu_product", 1.0) * mu
        # As in Adam, sqrt(1 - beta2^t) moves out of v_hat into the step sizes and eps.
        sqrt_bias_correction2 = math.sqrt(1 - beta2**t)
        g_step = lr * (1 - mu) / (1 - mu_product) * sqrt_bias_correction2
        m_step = lr * mu_next / (1 - mu_product * mu_next) * sqrt_bias_correction2
        eps_hat = eps * sqrt_bias_correction2
        for x, g, m, v, tmp, tmp2, tmp3 in self._blocks(x, g, m, v, scratch=3):
            if weight_decay and self.decoupled_weight_decay:
                x *= 1 - lr * weight_decay
            elif weight_decay:
                g = np.add(g, np.multiply(x, weight_decay, out=tmp), out=tmp)  # g + weight_decay x
            m *= beta1
            m += np.multiply(g, 1 - beta1, out=tmp2)
            v *= beta2
            v += np.multiply(np.square(g, out=tmp2), 1 - beta2, out=tmp2)
            denom = np.add(np.sqrt(v, out=tmp3), eps_hat, out=tmp3)
            step = np.multiply(g, g_step, out=tmp2)
            step += np.multiply(m, m_step, out=tmp)  # overwrites g if it is in tmp: no longer needed
            x -= np.divide(step, denom, out=tmp2)
