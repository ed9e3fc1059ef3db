import math

import numpy as np
import pytest

from gdlab.optim import SGD, Adagrad, Adam, lr_scheduler

torch = pytest.importorskip("torch")
STEPS = 300


def optimizers(kind, lr, p=None):
    """(torch optimizer on `p`, by default a dummy float64 parameter; the same gdlab optimizer)."""
    params = [torch.zeros(1, dtype=torch.float64, requires_grad=True) if p is None else p]
    if kind == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9), SGD(lr, momentum=0.9)
    if kind == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(0.9, 0.999)), Adam(lr, betas=(0.9, 0.999))
    return torch.optim.Adagrad(params, lr=lr), Adagrad(lr)  # neither momentum nor betas


def run_both(make, kind="sgd", lr=0.1, steps=STEPS):
    """Build the same schedule in torch and gdlab, step both in lockstep; return (lr, momentum, beta1) histories."""
    torch_opt, opt = optimizers(kind, lr)
    torch_sched, sched = make(torch.optim.lr_scheduler, torch_opt), make(lr_scheduler, opt)
    group = torch_opt.param_groups[0]
    assert opt.initial_lr == group["initial_lr"]
    want, got = [], []
    for t in range(steps + 1):
        if t > 0:
            torch_opt.step()  # torch warns if its scheduler steps before its optimizer
            torch_sched.step()
            sched.step()
        assert sched.last_epoch == torch_sched.last_epoch and sched.get_last_lr() == [opt.lr]
        want.append([torch_sched.get_last_lr()[0], group.get("momentum", 0), group.get("betas", [0])[0]])
        got.append([opt.lr, getattr(opt, "momentum", 0), getattr(opt, "betas", [0])[0]])
    return np.array(want), np.array(got), (torch_opt, torch_sched), (opt, sched)


def assert_same(make, **kw):
    want, got, *_ = run_both(make, **kw)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    return got


@pytest.mark.parametrize("lr", [0.1, 3e-4])
@pytest.mark.parametrize("step_size", [1, 7, 30])
@pytest.mark.parametrize("gamma", [0.1, 0.5, 0.97])
def test_step_lr_equals_torch(lr, step_size, gamma):
    lrs = assert_same(lambda m, o: m.StepLR(o, step_size=step_size, gamma=gamma), lr=lr)[:, 0]
    assert lrs[0] == lr and lrs[step_size] == pytest.approx(lr * gamma, rel=1e-15)


@pytest.mark.parametrize("gamma", [0.5, 0.9, 0.99, 1.01])
def test_exponential_lr_equals_torch(gamma):
    lrs = assert_same(lambda m, o: m.ExponentialLR(o, gamma=gamma))[:, 0]
    np.testing.assert_allclose(lrs, 0.1 * gamma ** np.arange(STEPS + 1), rtol=1e-12)


@pytest.mark.parametrize("T_max", [1, 10, 100, 299, 1000])
@pytest.mark.parametrize("eta_min", [0.0, 1e-3])
def test_cosine_annealing_lr_equals_torch(T_max, eta_min):
    """300 steps run past T_max for most T_max, through the trough and back up."""
    lrs = assert_same(lambda m, o: m.CosineAnnealingLR(o, T_max=T_max, eta_min=eta_min))[:, 0]
    t = np.arange(STEPS + 1)
    closed_form = eta_min + (0.1 - eta_min) * (1 + np.cos(np.pi * t / T_max)) / 2
    np.testing.assert_allclose(lrs, closed_form, rtol=1e-12, atol=1e-16)


@pytest.mark.parametrize("start_factor", [1 / 3, 0.01, 1.0])
@pytest.mark.parametrize("end_factor", [1.0, 0.5, 0.0])
@pytest.mark.parametrize("total_iters", [1, 5, 40])
def test_linear_lr_equals_torch(start_factor, end_factor, total_iters):
    lrs = assert_same(lambda m, o: m.LinearLR(o, start_factor, end_factor, total_iters))[:, 0]
    assert lrs[0] == pytest.approx(0.1 * start_factor, rel=1e-15)
    assert np.all(lrs[total_iters:] == lrs[-1]) and lrs[-1] == pytest.approx(0.1 * end_factor, abs=1e-15)


@pytest.mark.parametrize("lr_lambda", [lambda t: 0.95**t, lambda t: 1 / (1 + t), lambda t: min(1.0, (t + 1) / 10),
                                       lambda t: math.sin(t) ** 2])
def test_lambda_lr_equals_torch(lr_lambda):
    assert_same(lambda m, o: m.LambdaLR(o, lr_lambda))


def test_default_hyperparameters_equal_torch():
    assert_same(lambda m, o: m.StepLR(o, 10))
    assert_same(lambda m, o: m.CosineAnnealingLR(o, 50))
    assert_same(lambda m, o: m.LinearLR(o))
    assert_same(lambda m, o: m.OneCycleLR(o, 1.0, total_steps=STEPS))


@pytest.mark.parametrize("kind", ["sgd", "adam"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("anneal_strategy", ["cos", "linear"])
@pytest.mark.parametrize("pct_start", [0.3, 0.25, 0.5, 0.0])
def test_one_cycle_lr_and_momentum_equal_torch(kind, three_phase, anneal_strategy, pct_start):
    def make(m, o):
        return m.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, pct_start=pct_start, anneal_strategy=anneal_strategy,
                            three_phase=three_phase, base_momentum=0.8, max_momentum=0.9)

    want, got, (torch_opt, torch_sched), (opt, sched) = run_both(make, kind=kind)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    lrs, momenta = got[:, 0], got[:, 1 if kind == "sgd" else 2]
    if pct_start > 0:  # pct_start=0 skips the rise (and, with three phases, the peak)
        assert lrs[0] == pytest.approx(0.5 / 25) and momenta[0] == pytest.approx(0.9)
        assert lrs.max() == pytest.approx(0.5, rel=1e-3) and momenta.min() == pytest.approx(0.8, rel=1e-3)
    assert lrs[-2] == pytest.approx(0.5 / 25 / 1e4, rel=1e-3) and momenta[-2] == pytest.approx(0.9)
    if kind == "adam":
        assert opt.betas[1] == 0.999
    # the loop stepped total_steps times; one more is an error in both
    with pytest.raises(ValueError, match="total steps is 300"):
        torch_sched.step()
    with pytest.raises(ValueError, match="total_steps=300"):
        sched.step()


@pytest.mark.parametrize("kind", ["sgd", "adam", "adagrad"])
def test_one_cycle_without_momentum_cycling_and_from_epochs(kind):
    got = assert_same(lambda m, o: m.OneCycleLR(o, 0.2, epochs=6, steps_per_epoch=50, cycle_momentum=False,
                                               div_factor=10.0, final_div_factor=100.0), kind=kind)
    assert np.all(got[:, 1:] == got[0, 1:])  # momentum and betas untouched


@pytest.mark.parametrize("total_steps, pct_start, three_phase", [(10, 0.1, False), (10, 1.0, False),
                                                                  (20, 0.05, True)])
def test_one_cycle_zero_length_phase_where_torch_divides_by_zero(total_steps, pct_start, three_phase):
    """pct_start * total_steps == 1 makes a phase zero steps long: torch 2.13 divides by zero, gdlab ends the phase."""
    torch_opt = optimizers("sgd", 0.1)[0]
    with pytest.raises(ZeroDivisionError):
        sched = torch.optim.lr_scheduler.OneCycleLR(torch_opt, 0.4, total_steps, pct_start=pct_start,
                                                    three_phase=three_phase)
        for _ in range(total_steps):
            torch_opt.step()
            sched.step()
    opt = SGD(0.1, momentum=0.9)
    sched = lr_scheduler.OneCycleLR(opt, 0.4, total_steps, pct_start=pct_start, three_phase=three_phase)
    lrs = [opt.lr]
    for _ in range(total_steps):
        sched.step()
        lrs.append(opt.lr)
    assert max(lrs) == 0.4 and all(np.isfinite(lrs))


def test_one_cycle_drives_the_optimizers_trajectory_like_torch():
    """End to end: gdlab SGD and Adam under one-cycle (momentum, beta1 cycled) follow torch's path on a quadratic."""
    a = np.array([1.0, 10.0, 100.0])
    for kind, max_lr in [("sgd", 0.015), ("adam", 0.1)]:
        p = torch.tensor([1.0, -1.0, 0.5], dtype=torch.float64, requires_grad=True)
        torch_opt, opt = optimizers(kind, 0.1, p)
        torch_sched = torch.optim.lr_scheduler.OneCycleLR(torch_opt, max_lr, total_steps=200)
        sched = lr_scheduler.OneCycleLR(opt, max_lr, total_steps=200)
        x = p.detach().numpy().copy()
        for _ in range(200):
            p.grad = torch.as_tensor(a) * p.detach()
            torch_opt.step()
            torch_sched.step()
            x = opt.step(x, a * x)
            sched.step()
        np.testing.assert_allclose(x, p.detach().numpy(), rtol=1e-12, atol=1e-15)
        assert 0.5 * np.sum(a * x**2) < 1e-4  # from 18.0


SEQUENCES = {
    "warmup_cosine": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.1, total_iters=5), m.CosineAnnealingLR(o, 295)], [5]),
    "warmup_step_exp": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.2, total_iters=10), m.StepLR(o, 20, 0.5), m.ExponentialLR(o, 0.98)], [10, 100]),
    "lambda_then_linear_decay": lambda m, o: m.SequentialLR(
        o, [m.LambdaLR(o, lambda t: (t + 1) / 20), m.LinearLR(o, 1.0, 0.0, total_iters=250)], [20]),
    "milestone_zero": lambda m, o: m.SequentialLR(o, [m.ExponentialLR(o, 0.5), m.CosineAnnealingLR(o, 30)], [0]),
    "one_scheduler": lambda m, o: m.SequentialLR(o, [m.StepLR(o, 3, 0.9)], []),
    "warmup_then_one_cycle": lambda m, o: m.SequentialLR(
        o, [m.LinearLR(o, 0.5, total_iters=3), m.OneCycleLR(o, 0.3, total_steps=400)], [50]),
}


@pytest.mark.parametrize("name", SEQUENCES)
def test_sequential_lr_equals_torch(name):
    assert_same(SEQUENCES[name])


def test_sequential_lr_epochs_of_its_schedulers_follow_torch():
    torch_opt, opt = optimizers("sgd", 0.1)
    make = SEQUENCES["warmup_step_exp"]
    torch_sched, sched = make(torch.optim.lr_scheduler, torch_opt), make(lr_scheduler, opt)
    for _ in range(120):
        assert [s.last_epoch for s in sched.schedulers] == [s.last_epoch for s in torch_sched._schedulers]
        torch_opt.step()
        torch_sched.step()
        sched.step()
    assert [s.last_epoch for s in sched.schedulers] == [9, 89, 20]


def test_warmup_then_cosine_by_hand():
    """Goyal et al. warm-up to the base lr over 5 epochs, then a cosine from the base lr: the closed forms."""
    lrs = assert_same(SEQUENCES["warmup_cosine"])[:, 0]
    t = np.arange(STEPS + 1)
    warm = 0.1 * (0.1 + 0.9 * t / 5)
    cosine = 0.1 * (1 + np.cos(np.pi * (t - 5) / 295)) / 2
    np.testing.assert_allclose(lrs, np.where(t < 5, warm, cosine), rtol=1e-9, atol=1e-15)


def test_initial_lr_is_remembered_by_the_first_scheduler():
    opt = SGD(0.1)
    lr_scheduler.LinearLR(opt, start_factor=0.5)
    assert opt.lr == 0.05 and opt.initial_lr == 0.1
    decay = lr_scheduler.StepLR(opt, 5)
    assert decay.base_lr == 0.1


def test_external_lr_change_carries_on_like_torch():
    """Recursive schedules continue from whatever lr the optimizer holds, as torch's do."""
    def make(m, o):
        return m.ExponentialLR(o, 0.9)

    torch_opt, opt = optimizers("sgd", 0.1)
    torch_sched, sched = make(torch.optim.lr_scheduler, torch_opt), make(lr_scheduler, opt)
    torch_opt.step()
    torch_opt.param_groups[0]["lr"] = opt.lr = 1.0
    torch_sched.step()
    sched.step()
    assert sched.get_last_lr() == torch_sched.get_last_lr() == [0.9]


BAD = [  # (build from an optimizer, error, message); none of these may touch the optimizer
    (lambda o: lr_scheduler.StepLR(o, 0), ValueError, "step_size must be an integer >= 1"),
    (lambda o: lr_scheduler.StepLR(o, 2.5), TypeError, "step_size must be an integer"),
    (lambda o: lr_scheduler.StepLR(o, 5, gamma=0.0), ValueError, "gamma must be > 0"),
    (lambda o: lr_scheduler.ExponentialLR(o, -0.5), ValueError, "gamma must be > 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 0), ValueError, "T_max must be an integer >= 1"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 10, eta_min=-1.0), ValueError, "eta_min must be >= 0"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=0.0), ValueError, r"start_factor must be in \(0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, start_factor=1.5), ValueError, r"start_factor must be in \(0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=-0.1), ValueError, r"end_factor must be in \[0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, end_factor=2.0), ValueError, r"end_factor must be in \[0, 1\]"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), ValueError, "total_iters must be an integer >= 1"),
    (lambda o: lr_scheduler.LambdaLR(o, 0.5), TypeError, "lr_lambda must be a function"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1), ValueError, "needs total_steps, or both epochs and steps_per_epoch"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=3), ValueError, "needs total_steps"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, total_steps=0), ValueError, "total_steps must be an integer >= 1"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=0, steps_per_epoch=5), ValueError, "epochs must be an integer"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, epochs=2, steps_per_epoch=-1), ValueError, "steps_per_epoch must be"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 100, pct_start=1.5), ValueError, r"pct_start must be in \[0, 1\]"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 100, pct_start=-0.1), ValueError, r"pct_start must be in \[0, 1\]"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 100, anneal_strategy="exp"), ValueError,
     "anneal_strategy must be one of 'cos', 'linear'"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.0, 100), ValueError, "max_lr must be > 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 100, max_momentum=1.0), ValueError, r"max_momentum must be in \[0, 1"),
    (lambda o: lr_scheduler.OneCycleLR(o, 0.1, 100, div_factor=0), ValueError, "div_factor must be > 0"),
]


@pytest.mark.parametrize("build, error, message", BAD)
def test_bad_input_names_the_parameter_and_range(build, error, message):
    opt = SGD(0.1, momentum=0.9)
    with pytest.raises(error, match=message):
        build(opt)
    assert opt.lr == 0.1 and opt.momentum == 0.9 and not hasattr(opt, "initial_lr")


@pytest.mark.parametrize("build, error, message", [
    (lambda o: lr_scheduler.OneCycleLR(Adagrad(0.1), 0.1, 100), ValueError, "needs an optimizer with momentum or"),
    (lambda o: lr_scheduler.StepLR(optimizers("sgd", 0.1)[0], 5), TypeError, "optimizer must be a gdlab optimizer"),
    (lambda o: lr_scheduler.OneCycleLR(None, 0.1, 100), TypeError, "optimizer must be a gdlab optimizer"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 5), lr_scheduler.ExponentialLR(o, 0.9)], []),
     ValueError, r"milestones must have len\(schedulers\) - 1 = 1 entries, got 0"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 5)], [3]), ValueError, "milestones must have"),
    (lambda o: lr_scheduler.SequentialLR(o, [], []), ValueError, "at least one scheduler"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(SGD(0.1), 5)], []), ValueError,
     "built on this optimizer"),
])
def test_bad_optimizer_or_composition(build, error, message):
    with pytest.raises(error, match=message):
        build(SGD(0.1, momentum=0.9))


@pytest.mark.parametrize("name", list(lr_scheduler.SCHEDULES))
def test_course_schedules_by_name(name):
    built = {
        "constant": lambda o: lr_scheduler.LambdaLR(o, lambda t: 1.0),
        "step": lambda o: lr_scheduler.StepLR(o, step_size=4, gamma=0.3),
        "exponential": lambda o: lr_scheduler.ExponentialLR(o, gamma=0.3),
        "cosine": lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=12),
        "warm-up + cosine": lambda o: lr_scheduler.SequentialLR(o, [
            lr_scheduler.LinearLR(o, start_factor=0.01, total_iters=3),
            lr_scheduler.CosineAnnealingLR(o, T_max=9)], milestones=[3]),
        "one-cycle": lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.2, total_steps=12, pct_start=3 / 12,
                                                       cycle_momentum=False),
    }[name]
    curves = []
    for make in (built, lambda o: lr_scheduler.make_scheduler(name, o, 12, gamma=0.3, step_size=4, warmup=3)):
        opt = SGD(lr=0.2)
        scheduler, lrs = make(opt), []
        for _ in range(12):
            lrs.append(opt.lr)
            scheduler.step()
        curves.append(lrs)
    assert curves[0] == curves[1]
    assert curves[1][0] <= 0.2 and max(curves[1]) == pytest.approx(0.2)


def test_course_schedule_names_are_checked():
    with pytest.raises(ValueError, match="name must be one of 'constant', 'step'"):
        lr_scheduler.make_scheduler("linear", SGD(lr=0.1), 10)
