"""Checks for exercises/06_schedules_clipping_regularization.ipynb."""
import numpy as np

from gdlab.check.core import Chapter, as_array, call, close, fail, number, show
from gdlab.data import linear_regression, minibatches
from gdlab.models import LinearRegressionObjective, mse_grad
from gdlab.optim import SGD, clip_grad_norm, lr_scheduler


def _scheduled_lrs(make, lr, steps):
    """The lr a gdlab scheduler sets for updates 0 .. steps - 1."""
    opt = SGD(lr=lr)
    scheduler = make(opt)
    lrs = []
    for _ in range(steps):
        lrs.append(opt.lr)
        scheduler.step()
    return np.array(lrs)


def _cosine(t, lr_max, T, lr_min=0.0, half=0.5, pi=np.pi):
    return lr_min + (lr_max - lr_min) * (1 + np.cos(pi * t / T)) * half


def _warmup_cosine(t, lr_max, warmup, total, start_factor, shift=0, decay_from=None, decay_over=None, start=None,
                   ramp=None):
    """Linear warm-up then cosine to 0; the keyword arguments plant the known mistakes."""
    start = start_factor if start is None else start
    t_warm = np.minimum(t + shift, warmup)
    rise = lr_max * (start + (1 - start) * t_warm / (ramp or warmup))
    t_decay = t - (warmup if decay_from is None else decay_from)
    fall = _cosine(t_decay, lr_max, total - warmup if decay_over is None else decay_over)
    return np.where(t < warmup, rise, fall)


def _soft_threshold(z, t):
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def _stop(losses, patience, improves=lambda new, best: new < best, late=0, against_previous=False):
    """(best_epoch, stop_epoch) of early stopping; `improves`, `late` and `against_previous` plant the known
    mistakes (against_previous: an epoch improves when it beats the epoch before it, not the best so far)."""
    best = 0
    for epoch, loss in enumerate(losses):
        if improves(loss, losses[epoch - 1] if against_previous and epoch > 0 else losses[best]):
            best = epoch
        elif epoch - best >= patience + late:
            return best, epoch
    return best, len(losses) - 1


# The problem of chapter 06, section 2: linear regression with features on different scales.
_DATA = linear_regression(n=1000, n_features=5, noise=0.5, seed=0)
_X, _Y = _DATA.X * np.array([1.0, 0.6, 0.35, 0.2, 0.12]), _DATA.y
_OBJECTIVE = LinearRegressionObjective(_X, _Y)
_F_STAR = _OBJECTIVE(_OBJECTIVE.minima[0])
_STEPS, _BATCH = 2000, 10


def _train(lrs, seed):
    """Mini-batch SGD (batch size 10) on the problem of chapter 06 with lr = lrs[t] at update t, from theta = 0.

    Returns the excess loss L(theta) - f* after every epoch (the last one possibly shorter); [-1] is the end.
    """
    rng, theta, t, excess = np.random.default_rng(seed), np.zeros(_X.shape[1] + 1), 0, []
    with np.errstate(all="ignore"):
        while t < len(lrs):
            for X_batch, y_batch in minibatches(_X, _Y, _BATCH, rng):
                if t == len(lrs):
                    break
                dw, db = mse_grad(theta[:-1], theta[-1], X_batch, y_batch)
                theta = theta - lrs[t] * np.append(dw, db)
                t += 1
            excess.append(_OBJECTIVE(theta) - _F_STAR)
        return np.array(excess)


class ch06(Chapter):
    """06 · Schedules, clipping and regularisation."""

    def task1(cosine_lr):
        "the cosine schedule"
        lr_max, lr_min, T = 0.1, 0.001, 50
        t = np.arange(T + 1)
        got = [number(call(cosine_lr, int(k), lr_max, T, lr_min), f"cosine_lr({k}, {lr_max}, {T}, {lr_min})")
               for k in t]
        expected = _scheduled_lrs(lambda opt: lr_scheduler.CosineAnnealingLR(opt, T_max=T, eta_min=lr_min),
                                  lr_max, T + 1)
        close(got, expected, f"your lr for t = 0..{T} (lr_max = {lr_max}, T_max = {T}, lr_min = {lr_min})", {
            "off by one update: at t = 0 the lr must be lr_max, and at t = T_max it must be lr_min":
                _cosine(t + 1, lr_max, T, lr_min),
            "off by one update (one late): at t = T_max the lr must be lr_min": _cosine(t - 1, lr_max, T, lr_min),
            "the 1/2 is missing: (1 + cos) runs from 2 to 0, so halve it": _cosine(t, lr_max, T, lr_min, half=1.0),
            "lr_min is ignored: the schedule must end at lr_min, lr_min + (lr_max - lr_min)(1 + cos(πt/T)) / 2":
                _cosine(t, lr_max, T),
            "add lr_min: (lr_max - lr_min)(1 + cos(πt/T)) / 2 runs from lr_max - lr_min down to 0; the schedule "
            "runs from lr_max down to lr_min": _cosine(t, lr_max, T, lr_min) - lr_min,
            "scale the cosine by (lr_max - lr_min), not lr_max: yours starts above lr_max":
                lr_min + _cosine(t, lr_max, T),
            "divide by T_max, not T_max - 1: the cosine reaches its bottom at t = T_max":
                _cosine(t, lr_max, T - 1, lr_min),
            "that is a quarter cosine, cos(πt / 2T): use cos(πt / T) inside (1 + cos) / 2":
                lr_min + (lr_max - lr_min) * np.cos(np.pi * t / (2 * T)),
            "np.cos takes radians: its argument must run from 0 to π, so use π t / T_max, not t / T_max":
                _cosine(t, lr_max, T, lr_min, pi=1.0),
            "upside down: the schedule starts at lr_max and ends at lr_min; yours rises from lr_min to lr_max":
                _cosine(t, lr_min, T, lr_max),
        })
        return (f"equals CosineAnnealingLR(T_max={T}, eta_min={lr_min}) at all {T + 1} updates; halfway, at "
                f"t = {T // 2}, the lr is the mean of lr_max and lr_min, {expected[T // 2]:.4f}.")

    def task2(warmup_cosine_lr):
        "linear warm-up, then cosine decay"
        lr_max, warmup, total, start = 0.2, 10, 60, 0.1
        t = np.arange(total + 1)
        got = [number(call(warmup_cosine_lr, int(k), lr_max, warmup, total, start),
                      f"warmup_cosine_lr({k}, {lr_max}, {warmup}, {total}, {start})") for k in t]
        expected = _scheduled_lrs(lambda opt: lr_scheduler.SequentialLR(
            opt, [lr_scheduler.LinearLR(opt, start_factor=start, total_iters=warmup),
                  lr_scheduler.CosineAnnealingLR(opt, T_max=total - warmup)], milestones=[warmup]), lr_max, total + 1)
        close(got, expected, f"your lr for t = 0..{total} (lr_max = {lr_max}, {warmup} warm-up updates of "
              f"{total}, start_factor = {start})", {
            "the warm-up is one update ahead: at t = 0 the lr is start_factor * lr_max":
                _warmup_cosine(t, lr_max, warmup, total, start, shift=1),
            "the warm-up starts at start_factor * lr_max, not at 0":
                _warmup_cosine(t, lr_max, warmup, total, start, start=0.0),
            "the warm-up reaches lr_max at t = warmup_steps, where the cosine takes over, not one update earlier: "
            "divide t by warmup_steps, not warmup_steps - 1":
                _warmup_cosine(t, lr_max, warmup, total, start, ramp=warmup - 1),
            "the cosine must start at t = warmup_steps: use t - warmup_steps inside it":
                _warmup_cosine(t, lr_max, warmup, total, start, decay_from=0),
            "the decay lasts total_steps - warmup_steps updates, not total_steps":
                _warmup_cosine(t, lr_max, warmup, total, start, decay_over=total),
            "the cosine must start at t = warmup_steps and last total_steps - warmup_steps updates":
                _warmup_cosine(t, lr_max, warmup, total, start, decay_from=0, decay_over=total),
            "the warm-up reaches lr_max at t = warmup_steps, where the cosine takes over: divide t by "
            "warmup_steps, not warmup_steps + 1": _warmup_cosine(t, lr_max, warmup, total, start, ramp=warmup + 1),
            "after the warm-up the decay follows a cosine, (1 + cos(π (t - W) / (T - W))) / 2, not a straight line":
                np.where(t < warmup, _warmup_cosine(t, lr_max, warmup, total, start),
                         lr_max * (1 - (t - warmup) / (total - warmup))),
        })
        return (f"equals SequentialLR([LinearLR(start_factor={start}, total_iters={warmup}), "
                f"CosineAnnealingLR(T_max={total - warmup})], milestones=[{warmup}]) at all {total + 1} updates.")

    def task3(clip_by_norm):
        "clipping by norm"
        cases = [(np.array([30.0, -40.0]), 5.0), (np.array([0.3, -0.4]), 5.0),
                 (np.array([10.0, 20.0, -20.0]), 3.0), (np.array([-2.0, 1.0, 2.0]), 3.0)]
        for g, max_norm in cases:
            given = g.copy()
            norm = np.linalg.norm(g)
            expected = g * min(1.0, max_norm / norm)
            got = call(clip_by_norm, given, max_norm)
            if isinstance(got, (tuple, list)) and len(got) == 2 and np.ndim(got[1]) == 0:
                fail("return only the clipped gradient, one array: gdlab's clip_grad_norm also returns the norm, "
                     "clip_by_norm does not.")
            close(got, expected, f"your clip_by_norm({show(g)}, max_norm={max_norm:g}) (|g| = {norm:g})", {
                "that clips each component into [-max_norm, max_norm] (clipping by value), which turns the "
                "direction; scale the whole vector by max_norm / |g| instead": np.clip(g, -max_norm, max_norm),
                "you divided by the squared norm; scale by max_norm / |g|, with |g| = np.linalg.norm(g)":
                    g * max_norm / norm**2,
                "a gradient already shorter than max_norm must be left unchanged: scale only when |g| > max_norm":
                    g * max_norm / norm,
                "that is the unit vector g / |g|; multiply it by max_norm": g / norm,
                "min and max swapped: long gradients must shrink, short ones stay; use min(1, max_norm / |g|)":
                    g * max(1.0, max_norm / norm),
                "the length of g is its Euclidean norm, np.linalg.norm(g), not the sum of |g_i|":
                    g * min(1.0, max_norm / np.abs(g).sum()),
                "the length of g is its Euclidean norm, np.linalg.norm(g), not its largest |g_i|":
                    g * min(1.0, max_norm / np.abs(g).max()),
            })
            if not np.array_equal(given, g):
                fail("your function changed the caller's gradient in place; return a new array, e.g. g * scale.")
        g, max_norm = cases[0]
        clipped = clip_grad_norm(g, max_norm)[0]
        return (f"agrees with gdlab.optim.clip_grad_norm (up to its 1e-6 guard): [30, -40], norm 50, becomes "
                f"{show(clipped)}, norm {np.linalg.norm(clipped):.4g}, same direction; short gradients stay as "
                "they are.")

    def task4(ista_step):
        "the soft-threshold (L1 proximal) step"
        w = np.array([1.0, -0.5, 0.05, -0.01, 0.0, 2.0, 0.02])
        grad = np.array([0.5, -1.0, 0.1, 0.3, -0.04, -1.0, 1.0])  # the last weight crosses 0 in the gradient step
        lr, lam = 0.1, 0.5
        given_w, given_grad = w.copy(), grad.copy()
        z = w - lr * grad
        expected = _soft_threshold(z, lr * lam)
        got = call(ista_step, given_w, given_grad, lr, lam)
        close(got, expected, f"your ista_step(w, grad, lr={lr}, lam={lam})", {
            "you shrank by lr; the threshold is lr * lam": _soft_threshold(z, lr),
            "you shrank by lam; the threshold is lr * lam": _soft_threshold(z, lam),
            "a weight that would cross 0 must stop at 0 exactly: sign(z) * max(|z| - t, 0), not z - t * sign(z)":
                z - lr * lam * np.sign(z),
            "wrong sign: you pushed the weights away from 0; the soft-threshold moves them toward 0 by lr * lam":
                z + lr * lam * np.sign(z),
            "that is a subgradient step, w - lr (grad + lam sign(w)), which never gives exact zeros; "
            "soft-threshold z = w - lr * grad instead": w - lr * (grad + lam * np.sign(w)),
            "the gradient step goes downhill: z = w - lr * grad": _soft_threshold(w + lr * grad, lr * lam),
            "take the gradient step first, then soft-threshold the result": _soft_threshold(w, lr * lam) - lr * grad,
            "the gradient step is missing: soft-threshold z = w - lr * grad, not w": _soft_threshold(w, lr * lam),
            "the sign is lost: the soft-threshold keeps the sign of z, sign(z) * max(|z| - lr * lam, 0)":
                np.maximum(np.abs(z) - lr * lam, 0.0),
            "take the sign of z = w - lr * grad, the point after the gradient step, not of w: a weight can change "
            "sign in the gradient step (and sign(w) is 0 at w = 0, where ISTA starts)":
                np.sign(w) * np.maximum(np.abs(z) - lr * lam, 0.0),
            "that is a hard threshold: it zeroes the entries with |z| <= lr * lam but leaves the others at z; the "
            "soft-threshold also moves every other entry toward 0 by lr * lam": np.where(np.abs(z) <= lr * lam, 0.0, z),
        })
        if not (np.array_equal(given_w, w) and np.array_equal(given_grad, grad)):
            fail("your function changed w or grad in place; return a new array.")

        rng = np.random.default_rng(0)
        X = rng.standard_normal((50, 20))
        w_true = np.zeros(20)
        w_true[:4] = [3.0, -2.0, 1.5, -1.0]
        y = X @ w_true + 0.5 * rng.standard_normal(50)
        step, lam = 1 / np.linalg.eigvalsh(X.T @ X / 50).max(), 0.1
        ours, theirs = np.zeros(20), np.zeros(20)
        for _ in range(1000):
            ours = _soft_threshold(ours - step * X.T @ (X @ ours - y) / 50, step * lam)
            theirs = as_array(call(ista_step, theirs, X.T @ (X @ theirs - y) / 50, step, lam), "your ISTA iterate")
        close(theirs, ours, "1000 ISTA steps with your ista_step on the lasso problem of chapter 06")
        return (f"1000 ISTA steps with it solve chapter 06's lasso (λ = {lam}): {np.sum(theirs == 0)} of 20 weights "
                "exactly 0, like scikit-learn's Lasso there.")

    def task5(early_stopping):
        "early stopping with patience"
        bumpy = [1.0, 0.8, 0.6, 0.55, 0.57, 0.55, 0.58, 0.6, 0.62, 0.5, 0.7]
        cases = [([1.0, 0.5, 0.7, 0.6, 0.65, 0.62], 2),  # 0.6 beats the epoch before it, not the best: no improvement
                 (bumpy, 3), (bumpy, 6), ([1.0, 0.9, 0.8, 0.7, 0.65], 2), ([0.5, 0.6, 0.7, 0.4], 1)]
        for losses, patience in cases:
            expected = _stop(losses, patience)
            got = call(early_stopping, list(losses), patience)
            if not isinstance(got, (tuple, list)) or len(got) != 2:
                fail(f"early_stopping should return two numbers, (best_epoch, stop_epoch); got {got!r}.")
            got = [number(v, "early_stopping(...)" + f"[{k}]") for k, v in enumerate(got)]
            mistakes = {
                "stopped one epoch late: stop as soon as epoch - best_epoch >= patience":
                    _stop(losses, patience, late=1),
                "stopped one epoch early: stop when `patience` epochs in a row have not improved, "
                "epoch - best_epoch >= patience": _stop(losses, patience, late=-1),
                "an equal loss is not an improvement: update the best only when the loss is strictly lower (<)":
                    _stop(losses, patience, improves=lambda new, best: new <= best),
                "compare each epoch with the best loss so far, not with the epoch before it: a loss that beats "
                "its predecessor but not the best is no improvement": _stop(losses, patience, against_previous=True),
                "epochs are numbered from 0 (the first loss is epoch 0)": [v + 1 for v in expected],
                "you returned the epoch you stopped at as the best; return the best epoch, whose weights early "
                "stopping keeps": [expected[1], expected[1]],
                "that is the lowest loss of the whole list: early stopping cannot see the epochs after it stops":
                    [int(np.argmin(losses)), expected[1]],
                "swapped: return (best_epoch, stop_epoch)": expected[::-1],
            }
            if expected[1] == len(losses) - 1:  # the list ended before patience ran out
                mistakes["when the list ends first, stop_epoch is its last epoch, len(val_losses) - 1, not "
                         "len(val_losses)"] = [expected[0], len(losses)]
            close(got, expected, f"your (best_epoch, stop_epoch) for val_losses = {losses}, patience = {patience}",
                  mistakes)
        return ("best epoch 3, stopped at 6 with patience 3; patience 6 waited long enough to find the lower loss at "
                "epoch 9.")

    def task6(my_schedule):
        "beat the noise floor"
        lrs = np.array([number(call(my_schedule, t, _STEPS), f"my_schedule({t}, {_STEPS})") for t in range(_STEPS)])
        if np.any(lrs < 0) or not np.all(np.isfinite(lrs)):
            fail("every learning rate must be a finite number >= 0.")
        final = float(np.median([_train(lrs, seed)[-1] for seed in range(3)]))
        # A constant step keeps jumping around its noise floor: average it over the last 10 epochs, not one snapshot.
        floor = float(np.mean([_train(np.full(_STEPS, 0.3), seed)[-10:] for seed in range(3)]))
        mu = np.linalg.eigvalsh(_OBJECTIVE.hessian(np.zeros(6))).min()
        summary = (f"sum of lr {lrs.sum():.0f}, last lr {lrs[-1]:.2g}: median final excess loss of 3 seeds "
                   f"{final:.2g} (the noise floor of a constant lr 0.3, averaged over its last 10 epochs: {floor:.1g})")
        if not np.isfinite(final) or final > _OBJECTIVE(np.zeros(6)) - _F_STAR:
            fail(f"your schedule diverged ({summary}); keep the learning rate below 2/L ≈ 0.96, the stability bound.")
        if final > 1e-4:
            if np.ptp(lrs) == 0:
                fail(f"{summary}; a constant learning rate stalls at its noise floor: let it decay toward 0 at "
                     "the end.")
            if np.exp(-2 * mu * lrs.sum()) > 1e-3:
                fail(f"{summary}; your learning rates add up to too little to cross the flat direction "
                     f"(exp(-2 μ Σ lr) = {np.exp(-2 * mu * lrs.sum()):.1g} with μ = {mu:.3f}): keep lr large for "
                     "longer.")
            late = lrs[int(0.8 * len(lrs)):]  # the last 20 % of the updates
            if late.max() >= 10 * lrs[-1]:
                fail(f"{summary}; not yet below 1e-4: your learning rate dropped more than 10 times within the last "
                     "20 % of the updates, too late and too abruptly for the small rates to average out the noise "
                     "that the large ones left. Decay gradually (cosine, linear, or several steps) so that the small "
                     "rates have time to settle.")
            fail(f"{summary}; not yet below 1e-4: end with smaller learning rates.")
        return f"{summary}, about {float(f'{floor / final:.1g}'):.0f} times lower."
