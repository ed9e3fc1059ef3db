"""Learning-rate schedules named and behaving like torch.optim.lr_scheduler.

A scheduler changes `optimizer.lr` (and, for one-cycle, `optimizer.momentum` or
`optimizer.betas`), which a gdlab optimizer reads at every step:

    opt = SGD(lr=0.1)
    scheduler = CosineAnnealingLR(opt, T_max=100)   # sets opt.lr to the lr of epoch 0
    for epoch in range(100):
        x = opt.step(x, grad(x))
        scheduler.step()                             # epoch += 1, opt.lr = the next lr

Like torch, StepLR, ExponentialLR, CosineAnnealingLR and LinearLR update recursively,
from the optimizer's current lr (so a change made from outside carries on); their
docstrings give the closed form that recursion follows. The lr sequences equal torch's.
"""
import math
from bisect import bisect_right

from gdlab._validate import as_real, count, fraction, in_unit_interval, non_negative, one_of, positive

__all__ = ["LRScheduler", "StepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR", "LambdaLR",
           "OneCycleLR", "SequentialLR", "SCHEDULES", "make_scheduler"]


def _check_optimizer(optimizer):
    if not isinstance(getattr(optimizer, "lr", None), (int, float)):
        raise TypeError(f"optimizer must be a gdlab optimizer with a number `lr`, got {type(optimizer).__name__}")
    return optimizer


class LRScheduler:
    """Base class: remembers the optimizer's initial lr and sets the lr of epoch 0.

    Subclasses write `get_lr()`, the lr for epoch `self.last_epoch`.
    """

    def __init__(self, optimizer):
        self.optimizer = _check_optimizer(optimizer)
        if not hasattr(optimizer, "initial_lr"):  # the first scheduler on an optimizer records it
            optimizer.initial_lr = optimizer.lr
        self.base_lr = optimizer.initial_lr
        self._restart(optimizer.lr)

    def _restart(self, lr):
        """Start the schedule at epoch 0 from `lr` (SequentialLR switches schedules this way)."""
        self.optimizer.lr = lr
        self.last_epoch = -1
        self.step()

    def step(self):
        """Move to the next epoch and set the optimizer's lr. Call it after `optimizer.step`."""
        self.last_epoch += 1
        self.optimizer.lr = float(self.get_lr())
        self._last_lr = [self.optimizer.lr]

    def get_last_lr(self):
        """The lr set by the latest step, as a list with one entry (torch: one per param group)."""
        return self._last_lr

    def get_lr(self):
        raise NotImplementedError


class StepLR(LRScheduler):
    """lr_t = base_lr * gamma^floor(t / step_size): step decay, as in the ResNet paper (He et al. 2016)."""

    def __init__(self, optimizer, step_size, gamma=0.1):
        self.step_size = count(step_size, "step_size", minimum=1)
        self.gamma = positive(gamma, "gamma")
        super().__init__(optimizer)

    def get_lr(self):
        t, lr = self.last_epoch, self.optimizer.lr
        if t == 0 or t % self.step_size:
            return lr
        return lr * self.gamma


class ExponentialLR(LRScheduler):
    """lr_t = base_lr * gamma^t: exponential decay, every epoch."""

    def __init__(self, optimizer, gamma):
        self.gamma = positive(gamma, "gamma")
        super().__init__(optimizer)

    def get_lr(self):
        if self.last_epoch == 0:
            return self.optimizer.lr
        return self.optimizer.lr * self.gamma


class CosineAnnealingLR(LRScheduler):
    """lr_t = eta_min + (base_lr - eta_min) * (1 + cos(pi t / T_max)) / 2.

    SGDR (Loshchilov & Hutter 2017) without restarts: after T_max the cosine carries on, back up to base_lr at 2 T_max.
    """

    def __init__(self, optimizer, T_max, eta_min=0.0):
        self.T_max = count(T_max, "T_max", minimum=1)
        self.eta_min = non_negative(eta_min, "eta_min")
        super().__init__(optimizer)

    def get_lr(self):
        t, T, lr, eta_min = self.last_epoch, self.T_max, self.optimizer.lr, self.eta_min
        if t == 0:
            return lr
        if (t - 1 - T) % (2 * T) == 0:  # epoch t-1 sat at the trough, where the ratio below is 0/0
            return lr + (self.base_lr - eta_min) * (1 - math.cos(math.pi / T)) / 2
        return (1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta_min) + eta_min


class LinearLR(LRScheduler):
    """lr_t = base_lr * (start_factor + (end_factor - start_factor) * min(t, total_iters) / total_iters).

    With start_factor < end_factor = 1 this is the linear warm-up of Goyal et al. 2017.
    """

    def __init__(self, optimizer, start_factor=1 / 3, end_factor=1.0, total_iters=5):
        self.start_factor = as_real(start_factor, "start_factor")
        if not 0 < self.start_factor <= 1:
            raise ValueError(f"start_factor must be in (0, 1], got {self.start_factor}")
        self.end_factor = fraction(end_factor, "end_factor")
        self.total_iters = count(total_iters, "total_iters", minimum=1)
        super().__init__(optimizer)

    def get_lr(self):
        t, lr = self.last_epoch, self.optimizer.lr
        a, b, n = self.start_factor, self.end_factor, self.total_iters
        if t == 0:
            return lr * a
        if t > n:
            return lr
        return lr * (1.0 + (b - a) / (n * a + (t - 1) * (b - a)))  # factor(t) / factor(t - 1)


class LambdaLR(LRScheduler):
    """lr_t = base_lr * lr_lambda(t), for any factor function of the epoch."""

    def __init__(self, optimizer, lr_lambda):
        if not callable(lr_lambda):
            raise TypeError(f"lr_lambda must be a function of the epoch, got {type(lr_lambda).__name__}")
        self.lr_lambda = lr_lambda
        super().__init__(optimizer)

    def get_lr(self):
        return self.base_lr * self.lr_lambda(self.last_epoch)


def _anneal_cos(start, end, pct):
    return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    return (end - start) * pct + start


class OneCycleLR(LRScheduler):
    """One-cycle policy (Smith & Topin 2018): lr rises from max_lr / div_factor to max_lr over pct_start
    of the steps, then falls to max_lr / div_factor / final_div_factor; momentum moves the other way,
    between max_momentum and base_momentum (Smith 2018). three_phase=True: up, back down to the start,
    then the final fall, as in the paper. Step it once per batch, at most total_steps times.
    """

    def __init__(self, optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
                 anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95,
                 div_factor=25.0, final_div_factor=1e4, three_phase=False):
        _check_optimizer(optimizer)
        if total_steps is not None:
            self.total_steps = count(total_steps, "total_steps", minimum=1)
        elif epochs is not None and steps_per_epoch is not None:
            self.total_steps = count(epochs, "epochs", minimum=1) * count(steps_per_epoch, "steps_per_epoch", minimum=1)
        else:
            raise ValueError("OneCycleLR needs total_steps, or both epochs and steps_per_epoch")
        pct_start = fraction(pct_start, "pct_start")
        anneal_strategy = one_of(anneal_strategy, "anneal_strategy", ("cos", "linear"))
        self.anneal = _anneal_cos if anneal_strategy == "cos" else _anneal_linear

        self.max_lr = positive(max_lr, "max_lr")
        lr0 = self.max_lr / positive(div_factor, "div_factor")
        self.min_lr = lr0 / positive(final_div_factor, "final_div_factor")
        self.base_momentum = in_unit_interval(base_momentum, "base_momentum")
        self.max_momentum = in_unit_interval(max_momentum, "max_momentum")
        self.cycle_momentum = cycle_momentum
        self.use_beta1 = hasattr(optimizer, "betas")
        if cycle_momentum and not (self.use_beta1 or hasattr(optimizer, "momentum")):
            raise ValueError(f"cycle_momentum=True needs an optimizer with momentum or betas; "
                             f"{type(optimizer).__name__} has neither, so pass cycle_momentum=False")

        # phases: (last step of the phase, lr at its start, lr at its end, momentum at its start, at its end)
        m_lo, m_hi, up_end = self.base_momentum, self.max_momentum, float(pct_start * self.total_steps) - 1
        if three_phase:
            self.phases = [(up_end, lr0, self.max_lr, m_hi, m_lo),
                           (float(2 * pct_start * self.total_steps) - 2, self.max_lr, lr0, m_lo, m_hi),
                           (self.total_steps - 1, lr0, self.min_lr, m_hi, m_hi)]
        else:
            self.phases = [(up_end, lr0, self.max_lr, m_hi, m_lo),
                           (self.total_steps - 1, self.max_lr, self.min_lr, m_lo, m_hi)]
        optimizer.initial_lr = lr0  # torch overwrites it too: the cycle, not the optimizer, sets the start
        super().__init__(optimizer)

    def get_lr(self):
        t = self.last_epoch
        if t > self.total_steps:
            raise ValueError(f"OneCycleLR was stepped {t} times, more than total_steps={self.total_steps}")
        last = len(self.phases) - 1
        i = next(i for i, phase in enumerate(self.phases) if t <= phase[0] or i == last)  # the phase of step t
        phase_start = self.phases[i - 1][0] if i > 0 else 0.0
        phase_end, lr_a, lr_b, m_a, m_b = self.phases[i]
        # a phase can span zero steps (pct_start * total_steps == 1); torch divides by zero there
        pct = (t - phase_start) / (phase_end - phase_start) if phase_end > phase_start else 1.0
        if self.cycle_momentum:
            momentum = self.anneal(m_a, m_b, pct)
            if self.use_beta1:
                self.optimizer.betas = (momentum, *self.optimizer.betas[1:])
            else:
                self.optimizer.momentum = momentum
        return self.anneal(lr_a, lr_b, pct)


class SequentialLR(LRScheduler):
    """Run `schedulers` one after the other, switching at the epochs in `milestones`.

    Each scheduler starts again at its own epoch 0 when its turn comes, e.g. a warm-up then a decay:
    SequentialLR(opt, [LinearLR(opt, 0.1, total_iters=5), CosineAnnealingLR(opt, T_max=95)], milestones=[5]).
    """

    def __init__(self, optimizer, schedulers, milestones):
        self.schedulers, self.milestones = list(schedulers), list(milestones)
        if not self.schedulers:
            raise ValueError("schedulers must hold at least one scheduler")
        if len(self.milestones) != len(self.schedulers) - 1:
            raise ValueError(f"milestones must have len(schedulers) - 1 = {len(self.schedulers) - 1} entries, "
                             f"got {len(self.milestones)}")
        if any(s.optimizer is not optimizer for s in self.schedulers):
            raise ValueError("every scheduler in schedulers must be built on this optimizer")
        self.optimizer = optimizer
        self.last_epoch = 0
        for s in self.schedulers:
            s.last_epoch -= 1  # undo the step each took when it was built; each starts when its turn comes
        scheduler = self.schedulers[bisect_right(self.milestones, 0)]
        scheduler._restart(optimizer.initial_lr)
        self._last_lr = scheduler.get_last_lr()

    def step(self):
        self.last_epoch += 1
        i = bisect_right(self.milestones, self.last_epoch)
        scheduler = self.schedulers[i]
        if i > 0 and self.milestones[i - 1] == self.last_epoch:
            scheduler._restart(scheduler.base_lr)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()


# The course's schedules (chapter 06), each stepped once per epoch: name -> the settings it uses.
SCHEDULES = {"constant": (), "step": ("gamma", "step_size"), "exponential": ("gamma",), "cosine": (),
             "warm-up + cosine": ("warmup",), "one-cycle": ("warmup",)}


def make_scheduler(name, optimizer, epochs, gamma=0.5, step_size=10, warmup=5):
    """The scheduler of the course schedule `name` (a key of SCHEDULES) for `epochs` epochs, on `optimizer`,
    whose lr is the peak. Only the settings SCHEDULES lists for `name` are used; warmup counts epochs."""
    name = one_of(name, "name", tuple(SCHEDULES))
    epochs = count(epochs, "epochs", minimum=2)
    warmup = min(count(warmup, "warmup", minimum=1), epochs - 1)
    if name == "constant":
        return LambdaLR(optimizer, lambda t: 1.0)
    if name == "step":
        return StepLR(optimizer, step_size=step_size, gamma=gamma)
    if name == "exponential":
        return ExponentialLR(optimizer, gamma=gamma)
    if name == "cosine":
        return CosineAnnealingLR(optimizer, T_max=epochs)
    if name == "warm-up + cosine":
        return SequentialLR(optimizer, [LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
                                        CosineAnnealingLR(optimizer, T_max=epochs - warmup)], milestones=[warmup])
    return OneCycleLR(optimizer, max_lr=optimizer.lr, total_steps=epochs, pct_start=warmup / epochs,
                      cycle_momentum=False)
