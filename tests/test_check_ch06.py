"""gdlab.check.ch06: right answers PASS, planted mistakes FAIL with their hint, stubs say TODO."""
import math

import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check


def cosine(t, lr_max, T_max, lr_min=0.0, shift=0, half=0.5, ignore_min=False, period=None, pi=math.pi):
    if ignore_min:
        return lr_max * (1 + math.cos(math.pi * t / T_max)) / 2
    return lr_min + (lr_max - lr_min) * (1 + math.cos(pi * (t + shift) / (period or T_max))) * half


def warmup(t, lr_max, warmup_steps, total_steps, start_factor=0.1, shift=0, from_zero=False, unshifted=False,
           over_total=False, ramp=None, linear_decay=False):
    if t < warmup_steps:
        start = 0.0 if from_zero else start_factor
        return lr_max * (start + (1 - start) * min(t + shift, warmup_steps) / (ramp or warmup_steps))
    elapsed = t if unshifted else t - warmup_steps
    length = total_steps if over_total else total_steps - warmup_steps
    if linear_decay:
        return lr_max * (1 - elapsed / length)
    return lr_max * (1 + math.cos(math.pi * elapsed / length)) / 2


def clip(g, max_norm):
    norm = np.linalg.norm(g)
    return g * min(1.0, max_norm / norm)


def clip_in_place(g, max_norm):
    norm = np.linalg.norm(g)
    if norm > max_norm:
        g *= max_norm / norm
    return g


def soft(z, t):
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)


def stop_early(val_losses, patience, late=0, ties=False, one_based=False, best_is_stop=False, previous=False,
               end_at_length=False):
    best = 0
    for epoch, loss in enumerate(val_losses):
        reference = val_losses[epoch - 1] if previous and epoch > 0 else val_losses[best]
        if loss < reference or (ties and epoch > 0 and loss == val_losses[best]):
            best = epoch
        elif epoch - best >= patience + late:
            break
    else:
        epoch = len(val_losses) if end_at_length else len(val_losses) - 1
    if best_is_stop:
        best = epoch
    return (best + 1, epoch + 1) if one_based else (best, epoch)


def lookahead(val_losses, patience):
    """Reads the whole list: the global minimum, then patience epochs after it (capped)."""
    best = int(np.argmin(val_losses))
    return best, stop_early(val_losses, patience)[1]


def step_decay(t, total_steps):
    return 0.3 * 0.2 ** (4 * t // total_steps)


CH06 = [
    ("task1", cosine, "PASS", "equals CosineAnnealingLR(T_max=50, eta_min=0.001) at all 51 updates"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: lr_min + (lr_max - lr_min) * (1 + np.cos(np.pi * t / T_max)) / 2,
     "PASS", "halfway"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda *a: cosine(*a, shift=1), "FAIL", "off by one update: at t = 0 the lr must be lr_max"),
    ("task1", lambda *a: cosine(*a, shift=-1), "FAIL", "off by one update (one late)"),
    ("task1", lambda *a: cosine(*a, half=1.0), "FAIL", "the 1/2 is missing"),
    ("task1", lambda *a: cosine(*a, ignore_min=True), "FAIL", "lr_min is ignored"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: cosine(t, lr_max, T_max, lr_min) - lr_min, "FAIL", "add lr_min"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: lr_min + cosine(t, lr_max, T_max), "FAIL",
     "scale the cosine by (lr_max - lr_min)"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: cosine(t, lr_max, T_max, lr_min, period=T_max - 1), "FAIL",
     "divide by T_max, not T_max - 1"),
    ("task1", lambda *a: cosine(*a, pi=1.0), "FAIL", "np.cos takes radians"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: cosine(t, lr_min, T_max, lr_max), "FAIL", "upside down"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: [cosine(t, lr_max, T_max, lr_min)], "FAIL",
     "should be one number"),
    ("task1", lambda t, lr_max, T_max, lr_min=0.0: 1 / 0, "FAIL", "raised ZeroDivisionError"),
    ("task2", warmup, "PASS", "equals SequentialLR([LinearLR(start_factor=0.1, total_iters=10), "
                              "CosineAnnealingLR(T_max=50)], milestones=[10]) at all 61 updates"),
    ("task2", lambda t, *a: stub(1)(t), "TODO", "this task uses Task 1"),
    ("task2", lambda *a: warmup(*a, shift=1), "FAIL", "the warm-up is one update ahead"),
    ("task2", lambda *a: warmup(*a, from_zero=True), "FAIL", "starts at start_factor * lr_max, not at 0"),
    ("task2", lambda *a: warmup(*a, unshifted=True), "FAIL", "use t - warmup_steps inside it"),
    ("task2", lambda t, lr_max, w, total, s=0.1: warmup(t, lr_max, w, total, s, ramp=w - 1), "FAIL",
     "not warmup_steps - 1"),
    ("task2", lambda *a: warmup(*a, over_total=True), "FAIL", "lasts total_steps - warmup_steps updates"),
    ("task2", lambda t, lr_max, w, total, s=0.1: warmup(t, lr_max, w, total, s, ramp=w + 1), "FAIL",
     "not warmup_steps + 1"),
    ("task2", lambda *a: warmup(*a, linear_decay=True), "FAIL", "not a straight line"),
    ("task2", lambda *a: warmup(*a, unshifted=True, over_total=True), "FAIL",
     "must start at t = warmup_steps and last total_steps - warmup_steps"),
    ("task3", clip, "PASS", "[30, -40], norm 50, becomes [3, -4], norm 5, same direction"),
    ("task3", lambda g, max_norm: clip(g, max_norm) * (1 - 1e-9), "PASS", "same direction"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda g, max_norm: np.clip(g, -max_norm, max_norm), "FAIL", "(clipping by value), which turns"),
    ("task3", lambda g, max_norm: g * max_norm / np.linalg.norm(g) ** 2, "FAIL", "divided by the squared norm"),
    ("task3", lambda g, max_norm: g * max_norm / np.linalg.norm(g), "FAIL",
     "already shorter than max_norm must be left unchanged"),
    ("task3", lambda g, max_norm: g / np.linalg.norm(g), "FAIL", "the unit vector"),
    ("task3", lambda g, max_norm: g * max(1.0, max_norm / np.linalg.norm(g)), "FAIL", "min and max swapped"),
    ("task3", clip_in_place, "FAIL", "changed the caller's gradient in place"),
    ("task3", lambda g, max_norm: g * min(1.0, max_norm / np.abs(g).sum()), "FAIL", "not the sum of |g_i|"),
    ("task3", lambda g, max_norm: g * min(1.0, max_norm / np.abs(g).max()), "FAIL", "not its largest |g_i|"),
    ("task3", lambda g, max_norm: (clip(g, max_norm), float(np.linalg.norm(g))), "FAIL",
     "return only the clipped gradient"),
    ("task4", lambda w, grad, lr, lam: soft(w - lr * grad, lr * lam), "PASS", "13 of 20 weights exactly 0"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda w, grad, lr, lam: soft(w - lr * grad, lr), "FAIL", "you shrank by lr; the threshold is lr * lam"),
    ("task4", lambda w, grad, lr, lam: soft(w - lr * grad, lam), "FAIL", "you shrank by lam"),
    ("task4", lambda w, grad, lr, lam: (w - lr * grad) - lr * lam * np.sign(w - lr * grad), "FAIL",
     "must stop at 0 exactly"),
    ("task4", lambda w, grad, lr, lam: (w - lr * grad) + lr * lam * np.sign(w - lr * grad), "FAIL",
     "pushed the weights away from 0"),
    ("task4", lambda w, grad, lr, lam: -soft(w - lr * grad, lr * lam), "FAIL", "wrong sign"),
    ("task4", lambda w, grad, lr, lam: w - lr * (grad + lam * np.sign(w)), "FAIL", "that is a subgradient step"),
    ("task4", lambda w, grad, lr, lam: soft(w + lr * grad, lr * lam), "FAIL", "the gradient step goes downhill"),
    ("task4", lambda w, grad, lr, lam: soft(w, lr * lam) - lr * grad, "FAIL", "take the gradient step first"),
    ("task4", lambda w, grad, lr, lam: soft(w, lr * lam), "FAIL", "the gradient step is missing"),
    ("task4", lambda w, grad, lr, lam: np.maximum(np.abs(w - lr * grad) - lr * lam, 0.0), "FAIL", "the sign is lost"),
    ("task4", lambda w, grad, lr, lam: np.sign(w) * np.maximum(np.abs(w - lr * grad) - lr * lam, 0.0), "FAIL",
     "take the sign of z = w - lr * grad"),
    ("task4", lambda w, grad, lr, lam: np.where(np.abs(w - lr * grad) <= lr * lam, 0.0, w - lr * grad), "FAIL",
     "that is a hard threshold"),
    ("task5", stop_early, "PASS", "patience 6 waited long enough to find the lower loss at epoch 9"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda *a: stop_early(*a, late=1), "FAIL", "stopped one epoch late"),
    ("task5", lambda *a: stop_early(*a, late=-1), "FAIL", "stopped one epoch early"),
    ("task5", lambda *a: stop_early(*a, ties=True), "FAIL", "an equal loss is not an improvement"),
    ("task5", lambda *a: stop_early(*a, previous=True), "FAIL", "compare each epoch with the best loss so far"),
    ("task5", lambda *a: stop_early(*a, end_at_length=True), "FAIL", "not len(val_losses)"),
    ("task5", lambda *a: stop_early(*a, one_based=True), "FAIL", "epochs are numbered from 0"),
    ("task5", lambda *a: stop_early(*a, best_is_stop=True), "FAIL",
     "you returned the epoch you stopped at as the best"),
    ("task5", lookahead, "FAIL", "early stopping cannot see the epochs after it stops"),
    ("task5", lambda *a: stop_early(*a)[::-1], "FAIL", "swapped: return (best_epoch, stop_epoch)"),
    ("task5", lambda *a: stop_early(*a)[0], "FAIL", "should return two numbers, (best_epoch, stop_epoch)"),
    ("task6", lambda t, total_steps: cosine(t, 0.3, total_steps), "PASS", "times lower"),
    ("task6", step_decay, "PASS", "times lower"),
    ("task6", lambda t, total_steps: stub(1)(t), "TODO", "this task uses Task 1"),
    ("task6", lambda t, total_steps: 0.3, "FAIL", "a constant learning rate stalls at its noise floor"),
    ("task6", lambda t, total_steps: 0.3 * 0.99**t, "FAIL", "add up to too little to cross the flat direction"),
    ("task6", lambda t, total_steps: 1.5 * (1 - t / total_steps), "FAIL", "your schedule diverged"),
    ("task6", lambda t, total_steps: 0.3 if t < total_steps - 100 else 0.05, "FAIL", "end with smaller learning rates"),
    ("task6", lambda t, total_steps: 0.3 if t < total_steps - 100 else 0.003, "FAIL", "dropped more than 10 times"),
    ("task6", lambda t, total_steps: 0.3 if t < total_steps - 300 else 1e-4, "FAIL", "too late and too abruptly"),
    ("task6", lambda t, total_steps: cosine(t, 0.3, total_steps, 0.03), "FAIL", "end with smaller learning rates"),
    ("task6", lambda t, total_steps: -0.1, "FAIL", "finite number >= 0"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH06, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH06])
def test_ch06(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch06, task)(answer), status, hint)


def test_the_noise_floor_message_reports_measured_losses(capsys):
    result = check.ch06.task6(lambda t, total_steps: cosine(t, 0.3, total_steps))
    capsys.readouterr()
    assert ("sum of lr 300, last lr 1.9e-07: median final excess loss of 3 seeds 7.5e-06 (the noise floor of a "
            "constant lr 0.3, averaged over its last 10 epochs: 0.02), about 2000 times lower.") in result.message
