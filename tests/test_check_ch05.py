"""gdlab.check.ch05: right answers PASS, untouched tasks TODO, planted mistakes FAIL with their hint."""
import numpy as np
import pytest

from conftest import assert_reports, stub
from gdlab import check, optim
from gdlab.descent import minimize

# ---------------------------------------------------------------------------------------------
# Answers, right and wrong


def adagrad_step(x, g, sum_sq, lr, eps=1e-10, eps_inside=False, power=2, root=True, add_first=True,
                 return_old_sum=False, fixed_eps=None, average=None):
    new_sum = sum_sq + g**power if average is None else average * sum_sq + (1 - average) * g**2
    used = new_sum if add_first else sum_sq
    eps = eps if fixed_eps is None else fixed_eps
    denominator = np.sqrt(used + eps) if eps_inside else (np.sqrt(used) if root else used) + eps
    return x - lr * g / denominator, sum_sq if return_old_sum else new_sum


def adagrad_in_place(x, g, sum_sq, lr, eps=1e-10):
    sum_sq += g**2
    x -= lr * g / (np.sqrt(sum_sq) + eps)
    return x, sum_sq


def adam_step(x, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, correct=(True, True), m_beta=None,
              v_beta=None, t_offset=0, eps_inside=False, sign=-1, return_hats=False, power_of_difference=False,
              return_given=False, numerator_g=False, no_sqrt=False, v_of_abs=False):
    beta1, beta2 = betas
    b1, b2 = m_beta or beta1, v_beta or beta2
    given = (m, v)
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * (np.abs(g) if v_of_abs else g**2)
    t = t + t_offset
    if power_of_difference:
        m_hat, v_hat = m / (1 - beta1) ** t, v / (1 - beta2) ** t
    else:
        m_hat = m / (1 - beta1**t) if correct[0] else m
        v_hat = v / (1 - beta2**t) if correct[1] else v
    root = v_hat if no_sqrt else np.sqrt(v_hat)
    denominator = np.sqrt(v_hat + eps) if eps_inside else root + eps
    x = x + sign * lr * (g if numerator_g else m_hat) / denominator
    if return_given:
        return (x, *given)
    return (x, m_hat, v_hat) if return_hats else (x, m, v)


def adam_paper_ordering(x, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, eps_hat_follows_t=False):
    """The paper's faster ordering: with a constant eps_hat = eps (a different answer), or with
    eps_hat = eps sqrt(1 - beta2^t) (the same algorithm as torch's)."""
    beta1, beta2 = betas
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g**2
    alpha_t = lr * np.sqrt(1 - beta2**t) / (1 - beta1**t)
    eps_hat = eps * np.sqrt(1 - beta2**t) if eps_hat_follows_t else eps
    return x - alpha_t * m / (np.sqrt(v) + eps_hat), m, v


def adam_returns_v_m(x, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
    x, m, v = adam_step(x, g, m, v, t, lr, betas, eps)
    return x, v, m


def adamw_step(x, g, m, v, t, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, how="decoupled",
               adam=adam_step):
    if how == "decoupled":
        return adam(x * (1 - lr * weight_decay), g, m, v, t, lr, betas, eps)
    if how == "l2":
        return adam(x, g + weight_decay * x, m, v, t, lr, betas, eps)
    if how == "no lr":
        return adam(x * (1 - weight_decay), g, m, v, t, lr, betas, eps)
    if how == "after":
        x, m, v = adam(x, g, m, v, t, lr, betas, eps)
        return x * (1 - lr * weight_decay), m, v
    if how == "grow":
        return adam(x * (1 + lr * weight_decay), g, m, v, t, lr, betas, eps)
    if how == "both":  # the L2 term and the decoupled decay
        x = x * (1 - lr * weight_decay)
        return adam(x, g + weight_decay * x, m, v, t, lr, betas, eps)
    if how == "both, old x":
        return adam(x * (1 - lr * weight_decay), g + weight_decay * x, m, v, t, lr, betas, eps)
    if how == "twice":
        x, m, v = adam(x * (1 - lr * weight_decay), g, m, v, t, lr, betas, eps)
        return x * (1 - lr * weight_decay), m, v
    return adam(x, g, m, v, t, lr, betas, eps)


def uncorrected(t, beta1=0.9, beta2=0.999):
    return (1 - beta1**t) / np.sqrt(1 - beta2**t)


def finals(f, starts, lrs, steps):
    """Final loss of every (lr, start) run: a table of shape (len(lrs), len(starts)); diverged = inf."""
    table = []
    for lr in lrs:
        row = []
        for x0 in starts:
            trace = minimize(f, f.grad, x0, optim.Adam(lr=lr), steps=steps)
            row.append(np.inf if trace.status == "diverged" else trace.loss)
        table.append(row)
    return np.array(table)


def tuner(statistic=np.median, fixed_steps=None, diverged_as=np.inf, first_only=False, best_of_run=False):
    """best_adam_lr, right or with one of the common mistakes: another statistic over the starts, a fixed number
    of steps ("default": minimize's own), diverged runs dropped (None) or counted as nan, the first start only,
    the best loss along the run instead of the final one."""

    def best_adam_lr(f, starts, lrs, steps):
        summary = []
        for lr in lrs:
            row = []
            for x0 in starts[:1] if first_only else starts:
                budget = {} if fixed_steps == "default" else {"steps": fixed_steps or steps}
                trace = minimize(f, f.grad, x0, optim.Adam(lr=lr), **budget)
                if trace.status != "diverged":
                    row.append(trace.losses.min() if best_of_run else trace.loss)
                elif diverged_as is not None:
                    row.append(diverged_as)
            summary.append(statistic(row))
        return lrs[int(np.argmin(summary))]

    return best_adam_lr


def best_with_one_optimizer(f, starts, lrs, steps):
    """One Adam object for all the starts of an lr: minimize resets it, so this is right too."""
    medians = []
    for lr in lrs:
        optimizer = optim.Adam(lr=lr)
        final = [minimize(f, f.grad, x0, optimizer, steps=steps) for x0 in starts]
        medians.append(np.median([np.inf if t.status == "diverged" else t.loss for t in final]))
    return lrs[int(np.argmin(medians))]


best_by_median = tuner()


def raise_key_error(*args, **kwargs):
    raise KeyError("m")


CH05 = [
    ("task1", adagrad_step, "PASS", "match torch.optim.Adagrad"),
    ("task1", lambda *a: adagrad_step(*a, return_old_sum=True), "FAIL", "return the new sum, sum_sq + g**2"),
    ("task1", lambda *a: adagrad_step(*a, fixed_eps=1e-10), "FAIL", "use the eps you are given"),
    ("task1", lambda *a: adagrad_step(*a, average=0.99), "FAIL", "that is RMSprop's moving average of g²;"),
    ("task1", lambda *a: adagrad_step(*a, average=0.9), "FAIL", "RMSprop's moving average of g² (with α = 0.9)"),
    ("task1", adagrad_in_place, "PASS", "ε matters only"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda *a: adagrad_step(*a, eps_inside=True), "FAIL", "ε goes outside the square root"),
    ("task1", lambda *a: adagrad_step(*a, power=1), "FAIL", "accumulate the squared gradient"),
    ("task1", lambda *a: adagrad_step(*a, root=False), "FAIL", "divide by the square root of the sum"),
    ("task1", lambda *a: adagrad_step(*a, add_first=False), "FAIL", "before you divide by it"),
    ("task1", lambda x, g, s, lr, eps: (x + lr * g / (np.sqrt(s + g**2) + eps), s + g**2), "FAIL", "moved uphill"),
    ("task1", lambda x, g, s, lr, eps: x - lr * g / (np.sqrt(s + g**2) + eps), "FAIL",
     "return the tuple (x, sum_sq) of 2 arrays; got a ndarray"),
    ("task1", raise_key_error, "FAIL", "raised KeyError"),
    ("task2", adam_step, "PASS", "match torch.optim.Adam"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda *a: adam_step(*a, correct=(False, False)), "FAIL", "the bias correction is missing"),
    ("task2", lambda *a: adam_step(*a, correct=(True, False)), "FAIL", "v needs its bias correction too"),
    ("task2", lambda *a: adam_step(*a, correct=(False, True)), "FAIL", "m needs its bias correction too"),
    ("task2", lambda *a: adam_step(*a, v_beta=0.9), "FAIL", "the second moment averages with β2, not β1"),
    ("task2", lambda *a: adam_step(*a, m_beta=0.999), "FAIL", "the first moment averages with β1, not β2"),
    ("task2", lambda *a: adam_step(*a, t_offset=1), "FAIL", "off by one step"),
    ("task2", lambda *a: adam_step(*a, t_offset=-1), "FAIL", "did you use t - 1?"),
    ("task2", lambda *a: adam_step(*a, eps_inside=True), "FAIL", "ε goes outside the square root"),
    ("task2", adam_paper_ordering, "FAIL", "the paper's faster ordering"),
    ("task2", lambda *a: adam_paper_ordering(*a, eps_hat_follows_t=True), "PASS", "match torch.optim.Adam"),
    ("task2", lambda *a: adam_step(*a, return_given=True), "FAIL", "return the new m and v"),
    ("task2", lambda *a: adam_step(*a, numerator_g=True), "FAIL", "the numerator is m_hat"),
    ("task2", lambda *a: adam_step(*a, no_sqrt=True), "FAIL", "divide by the square root of v_hat"),
    ("task2", lambda *a: adam_step(*a, v_of_abs=True), "FAIL", "v averages the squared gradient"),
    ("task2", lambda *a: adam_step(*a, sign=1), "FAIL", "you moved uphill"),
    ("task2", adam_returns_v_m, "FAIL", "return (x, m, v) in this order"),
    ("task2", lambda *a: adam_step(*a, return_hats=True), "FAIL", "not m_hat and v_hat"),
    ("task2", lambda *a: adam_step(*a, power_of_difference=True), "FAIL", "not (1 - β1)**t"),
    ("task3", adamw_step, "PASS", "match torch.optim.AdamW"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda *a: adamw_step(*a, adam=stub(2)), "TODO", "this task uses Task 2"),
    ("task3", lambda *a: adamw_step(*a, how="l2"), "FAIL", "that is Adam with an L2 penalty"),
    ("task3", lambda *a: adamw_step(*a, how="no lr"), "FAIL", "scale the decay by the learning rate"),
    ("task3", lambda *a: adamw_step(*a, how="after"), "FAIL", "decay the point before the step"),
    ("task3", lambda *a: adamw_step(*a, how="none"), "FAIL", "the weight decay is missing"),
    ("task3", lambda *a: adamw_step(*a, how="grow"), "FAIL", "x should shrink"),
    ("task3", lambda *a: adamw_step(*a, how="both"), "FAIL", "the decay is applied twice: you shrank x and also"),
    ("task3", lambda *a: adamw_step(*a, how="both, old x"), "FAIL", "the decay is applied twice: λx was added"),
    ("task3", lambda *a: adamw_step(*a, how="twice"), "FAIL", "the decay is applied twice: shrink x once per step"),
    ("task3", lambda *a: adamw_step(*a, adam=lambda *b: adam_step(*b, correct=(False, False))), "FAIL",
     "make Task 2 pass first"),
    ("task3", lambda *a: adamw_step(*a, adam=lambda *b: adam_step(*b, t_offset=-1)), "FAIL",
     "check that Task 2 passes"),
    ("task4", uncorrected, "PASS", "largest 6.57 lr at t = 12"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: float(uncorrected(np.float64(t), beta1, beta2)), "PASS",
     "too large, not too small"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: 1.0, "FAIL", "that is the corrected length, always 1"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: (1 - beta1**t) / (1 - beta2**t), "FAIL", "v sits under a square root"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: np.sqrt(1 - beta2**t) / (1 - beta1**t), "FAIL", "upside down"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: (1 - beta2**t) / np.sqrt(1 - beta1**t), "FAIL",
     "β1 belongs to m"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: 1 - beta1**t, "FAIL", "v is corrected and m is not"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: 1 / np.sqrt(1 - beta2**t), "FAIL", "m is corrected and v is not"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: uncorrected(t + 1, beta1, beta2), "FAIL", "off by one step"),
    ("task4", lambda t, beta1=0.9, beta2=0.999: np.array([uncorrected(t, beta1, beta2)]), "FAIL",
     "should be one number"),
    ("task5", best_by_median, "PASS", "more than 1000 times higher"),
    ("task5", best_with_one_optimizer, "PASS", "passed over an lr of 10000"),
    ("task5", tuner(diverged_as=1e300), "PASS", "more than 1000 times higher"),  # harmless: a diverged loss is huge
    ("task5", tuner(np.mean), "FAIL", "the smallest mean final loss"),
    ("task5", tuner(np.max), "FAIL", "has the best worst start"),
    ("task5", tuner(np.min), "FAIL", "the single best run"),
    ("task5", tuner(first_only=True), "FAIL", "the best for the first start point only"),
    ("task5", tuner(fixed_steps=100), "FAIL", "is the best median after 100 or 500 steps, but the check asked for 300"),
    ("task5", tuner(fixed_steps=200), "FAIL", "is the best median after 200 steps, but the check asked for 300"),
    ("task5", tuner(fixed_steps=300), "FAIL", "after 200 or 300 steps, but the check asked for 100"),
    ("task5", tuner(fixed_steps="default"), "FAIL", "minimize's default when steps is not passed"),
    ("task5", tuner(diverged_as=None), "FAIL", "a diverged run counts as np.inf"),
    ("task5", tuner(diverged_as=np.nan), "FAIL", "a diverged run counts as np.inf"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda f, starts, lrs, steps: lrs[-1], "FAIL", "the largest in the grid"),
    ("task5", lambda f, starts, lrs, steps: 1e-3, "FAIL", "another lr in lrs has a lower median"),
    ("task5", lambda f, starts, lrs, steps: int(np.argmin(np.median(finals(f, starts, lrs, steps), axis=1))), "FAIL",
     "looks like an index into lrs"),
    ("task5", lambda f, starts, lrs, steps: float(np.min(np.median(finals(f, starts, lrs, steps), axis=1))), "FAIL",
     "is not one of lrs"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH05, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH05])
def test_ch05(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch05, task)(answer), status, hint)


def test_the_uncorrected_steps_are_measured_too_large(capsys):
    result = check.ch05.task4(uncorrected)
    capsys.readouterr()
    assert "β2 = 0.999: first step 3.16 lr, largest 6.57 lr at t = 12" in result.message
    assert "β2 = 0.9999: first step 10.00 lr, largest 20.72 lr at t = 12" in result.message


def test_the_adam_checks_do_not_change_the_callers_arrays(capsys):
    seen = []

    def spy(x, g, m, v, t, lr, betas, eps):
        seen.append((x.copy(), m.copy(), v.copy()))
        return adam_step(x, g, m, v, t, lr, betas, eps)

    assert check.ch05.task2(spy).passed
    capsys.readouterr()
    assert len(seen) == 5
    assert np.array_equal(seen[0][1], np.zeros(3)) and np.array_equal(seen[0][2], np.zeros(3))
