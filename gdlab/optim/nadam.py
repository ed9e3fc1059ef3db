"""NAdam, as torch.optim.NAdam."""
import numpy as np

from gdlab._validate import decay_pair, non_negative
from gdlab.optim.adam import moments
from gdlab.optim.optimizer import Optimizer


class NAdam(Optimizer):
    """Adam with Nesterov momentum (Dozat 2016, Algorithm 2, in torch's form): m_hat looks one step ahead.

    The momentum follows a schedule mu_t = beta1 (1 - 0.96^(t momentum_decay) / 2); with m and v as in Adam,
    m_hat = mu_{t+1} / (1 - mu_1 ... mu_{t+1}) m + (1 - mu_t) / (1 - mu_1 ... mu_t) g, v_hat = v / (1 - beta2^t),
    and x -= lr * m_hat / (sqrt(v_hat) + eps). decoupled_weight_decay=True decays x as AdamW does.
    """

    def __init__(self, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False):
        super().__init__(lr, weight_decay)
        self.betas = decay_pair(betas, "betas")
        self.eps = non_negative(eps, "eps")
        self.momentum_decay = non_negative(momentum_decay, "momentum_decay")
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _update(self, x, g, state):
        (beta1, beta2), t = self.betas, state["step"]
        m, v = moments(state, g, self.betas)
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * self.momentum_decay))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * self.momentum_decay))
        mu_product = state["mu_product"] = state.get("mu_product", 1.0) * mu
        m_hat = mu_next / (1 - mu_product * mu_next) * m + (1 - mu) / (1 - mu_product) * g
        v_hat = v / (1 - beta2**t)
        x -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
