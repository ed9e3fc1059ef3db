"""gdlab.check.ch11: right answers PASS, planted mistakes FAIL with their hint, stubs say TODO."""
import copy
import statistics
import time

import pytest

torch = pytest.importorskip("torch")
from conftest import assert_reports, stub  # noqa: E402

from gdlab import check  # noqa: E402

torch.set_num_threads(1)


def forward_on(model, X, device, move_model=True, move_data=True, keep_data=True, back=None):
    if move_model:
        model.to(device)
    if move_data:
        moved = X.to(device)
        X = moved if keep_data else X
    out = model(X)
    return getattr(out, back)() if back else out


def copies_the_model(model, X, device):
    return copy.deepcopy(model).to(device)(X.to(device))


def hard_coded_cuda(model, X, device):
    return model.to("cuda")(X.to("cuda"))


def honest_time(fn, sync, warmup=3, repeat=10, clock=time.perf_counter, summary=statistics.median, extra=0,
                sync_after_warmup=True, where="after", own_clock=False):
    clock = time.perf_counter if own_clock else clock
    for _ in range(warmup + extra):
        fn()
    if sync_after_warmup:
        sync()
    times = []
    for _ in range(repeat):
        start = clock()
        if where in ("before", "both"):
            sync()
        fn()
        if where in ("after", "both"):
            sync()
        times.append(clock() - start)
    return summary(times)


def gflops(m, k, n, seconds, flops=lambda m, k, n: 2 * m * k * n, giga=1e9):
    return flops(m, k, n) / seconds / giga


def autocast_error(a, b, dtype, use_autocast=True, relative=True, fixed=None):
    exact = a.double() @ b.double()
    with torch.autocast("cpu", dtype=fixed or dtype, enabled=use_autocast):
        c = a @ b
    error = (c.double() - exact).norm()
    return (error / exact.norm() if relative else error).item()


def against_float32(a, b, dtype):
    reference = a @ b
    with torch.autocast("cpu", dtype=dtype):
        c = a @ b
    return (c.float() - reference).norm().item() / reference.norm().item()


def rounds_the_inputs_only(a, b, dtype):
    exact = a.double() @ b.double()
    c = a.to(dtype).double() @ b.to(dtype).double()
    return ((c - exact).norm() / exact.norm()).item()


def raise_value_error(*args, **kwargs):
    raise ValueError("boom")


CH11 = [
    ("task1", forward_on, "PASS", "given torch.device('cuda') it runs on a GPU"),
    ("task1", copies_the_model, "PASS", "on meta"),
    ("task1", stub(1), "TODO", "not implemented yet"),
    ("task1", lambda *a: forward_on(*a, keep_data=False), "FAIL", "keep the copy: X = X.to(device)"),
    ("task1", lambda *a: forward_on(*a, move_data=False), "FAIL", "the data stayed on the CPU"),
    ("task1", lambda *a: forward_on(*a, move_model=False), "FAIL", "the model stayed on the CPU"),
    ("task1", lambda *a: forward_on(*a, move_model=False, move_data=False), "FAIL",
     "returned a tensor on cpu: move the model and the data"),
    ("task1", lambda *a: forward_on(*a, back="cpu"), "FAIL", "then you copied it off"),
    ("task1", lambda *a: forward_on(*a, back="tolist"), "FAIL", "then you copied it off"),
    ("task1", lambda *a: forward_on(*a, back="sum"), "FAIL", "your output on the CPU has shape ()"),
    ("task1", hard_coded_cuda, "FAIL", "never a hard-coded 'cuda'"),
    ("task1", raise_value_error, "FAIL", "raised ValueError: boom"),
    ("task2", honest_time, "PASS", "median 14 ms on a simulated GPU"),
    ("task2", lambda *a, **k: honest_time(*a, **k, where="both"), "PASS",
     "the mean says 60 ms, and a stopwatch without sync() 10 µs"),
    ("task2", stub(2), "TODO", "not implemented yet"),
    ("task2", lambda *a, **k: honest_time(*a, **k, summary=statistics.mean), "FAIL", "that is the mean"),
    ("task2", lambda *a, **k: honest_time(*a, **k, summary=min), "FAIL", "that is the fastest run"),
    ("task2", lambda *a, **k: honest_time(*a, **k, summary=list), "FAIL", "should be one number"),
    ("task2", lambda fn, sync, warmup=3, **k: honest_time(fn, sync, 0, **k), "FAIL", "no warm-up"),
    ("task2", lambda *a, **k: honest_time(*a, **k, extra=1), "FAIL", "it should run 8 times: 3 untimed"),
    ("task2", lambda *a, **k: honest_time(*a, **k, extra=-1), "FAIL", "it should run 8 times"),
    ("task2", lambda fn, sync, warmup=3, repeat=10, **k: honest_time(fn, sync, warmup, **k), "FAIL",
     "fn ran 13 times"),
    ("task2", lambda *a, **k: honest_time(*a, **k, where="nowhere", sync_after_warmup=False), "FAIL",
     "you never called sync()"),
    ("task2", lambda *a, **k: honest_time(*a, **k, where="nowhere"), "FAIL", "you measured the launch only"),
    ("task2", lambda *a, **k: honest_time(*a, **k, where="before"), "FAIL", "you waited for the previous run"),
    ("task2", lambda *a, **k: honest_time(*a, **k, sync_after_warmup=False), "FAIL",
     "call sync() after the warm-up too"),
    ("task2", lambda *a, **k: honest_time(*a, **k, own_clock=True), "FAIL", "you never read `clock`"),
    ("task3", gflops, "PASS", "runs at 102 GFLOP/s"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda *a: gflops(*a, flops=lambda m, k, n: m * k * n), "FAIL", "k multiplications AND k additions"),
    ("task3", lambda *a: gflops(*a, flops=lambda m, k, n: m * n * (2 * k - 1)), "FAIL", "that counts k - 1 additions"),
    ("task3", lambda *a: gflops(*a, giga=1), "FAIL", "divide by 1e9 for GFLOP/s"),
    ("task3", lambda *a: gflops(*a, giga=1e6), "FAIL", "giga is 1e9"),
    ("task3", lambda m, k, n, s: 2 * m * k * n * s / 1e9, "FAIL", "divided by the time"),
    ("task3", lambda *a: gflops(*a, flops=lambda m, k, n: 2 * n**3), "FAIL", "the matrices are not square"),
    ("task4", autocast_error, "PASS", "bfloat16 2.9e-03 (its unit round-off 3.9e-03), float16 3.6e-04"),
    ("task4", against_float32, "PASS", "float16's error is 8 times smaller"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda *a: autocast_error(*a, use_autocast=False), "FAIL", "the product ran in float32"),
    ("task4", rounds_the_inputs_only, "FAIL", "rounding the inputs only"),
    ("task4", lambda *a: autocast_error(*a, relative=False), "FAIL", "that is the absolute error"),
    ("task4", lambda *a: autocast_error(*a, fixed=torch.bfloat16), "FAIL", "use the `dtype` you are given"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH11, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH11])
def test_ch11(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch11, task)(answer), status, hint)


def test_the_simulated_gpu_tells_every_timing_mistake_apart():
    from gdlab.check.chapter11 import _timed

    values = [_timed(3, 5, m) for m in (None, "mean", "min", "launch only", "sync before fn", "no sync after warm-up")]
    assert len({round(v, 9) for v in values}) == len(values), values
