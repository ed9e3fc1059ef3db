"""Adam and AdamW, as torch.optim.Adam and torch.optim.AdamW."""
import numpy as np

from gdlab._validate import decay_pair, non_negative
from gdlab.optim.optimizer import Optimizer


def moments(state, g, betas):
    """The Adam family's moving averages of the gradient and of its square, both starting at 0:
    m = beta1 m + (1 - beta1) g,  v = beta2 v + (1 - beta2) g^2  (Kingma & Ba 2015, Algorithm 1)."""
    beta1, beta2 = betas
    m = state["exp_avg"] = beta1 * state.get("exp_avg", 0.0) + (1 - beta1) * g
    v = state["exp_avg_sq"] = beta2 * state.get("exp_avg_sq", 0.0) + (1 - beta2) * g**2
    return m, v


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1): x -= lr * m_hat / (sqrt(v_hat) + eps).

    m and v (see `moments`) are moving averages of the gradient and of its square;
    m_hat = m / (1 - beta1^t) and v_hat = v / (1 - beta2^t) undo their bias towards the zeros they
    start from. amsgrad=True uses the largest v so far instead of v (Reddi et al. 2018). weight_decay
    adds weight_decay * x to g (an L2 penalty), or with decoupled_weight_decay=True shrinks x by
    lr * weight_decay * x directly, as AdamW does.
    """

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 decoupled_weight_decay=False):
        super().__init__(lr, weight_decay)
        self.betas = decay_pair(betas, "betas")
        self.eps = non_negative(eps, "eps")
        self.amsgrad = bool(amsgrad)
        self.decoupled_weight_decay = bool(decoupled_weight_decay)

    def _update(self, x, g, state):
        (beta1, beta2), t = self.betas, state["step"]
        m, v = moments(state, g, self.betas)
        if self.amsgrad:
            v = state["max_exp_avg_sq"] = np.maximum(state.get("max_exp_avg_sq", 0.0), v)
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        x -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019): x -= lr * weight_decay * x each step.

    torch.optim.AdamW's form: the decay is scaled by lr. The paper's Algorithm 2 scales it by the schedule
    multiplier eta_t alone (x -= eta_t * lambda * x), so its lambda is torch's lr * weight_decay at eta_t = 1."""

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False):
        super().__init__(lr, betas, eps, weight_decay, amsgrad, decoupled_weight_decay=True)
