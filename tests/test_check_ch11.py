"""gdlab.check.ch11: right answers PASS, planted mistakes FAIL with their hint, stubs say TODO."""
import copy
import statistics
import time

import pytest

torch = pytest.importorskip("torch")
from conftest import assert_reports, stub  # noqa: E402
from gdlab import check  # noqa: E402

torch.set_num_threads(1)
pytestmark = pytest.mark.filterwarnings("ignore:CUDA is not available:UserWarning")  # a planted autocast("cuda")


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


def hard_coded_cuda(model, X, _device):
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


def whole_loop(fn, sync, warmup=3, repeat=10, clock=time.perf_counter, total=False):
    for _ in range(warmup):
        fn()
    sync()
    start = clock()
    for _ in range(repeat):
        fn()
    sync()
    return (clock() - start) / (1 if total else repeat)


def gflops(m, k, n, seconds, flops=lambda m, k, n: 2 * m * k * n, giga=1e9):
    return flops(m, k, n) / seconds / giga


def autocast_error(a, b, dtype, use_autocast=True, relative=True, fixed=None, device_type="cpu", largest=False):
    exact = a.double() @ b.double()
    with torch.autocast(device_type, dtype=fixed or dtype, enabled=use_autocast):
        c = a @ b
    if largest:
        return ((c.double() - exact).abs().max() / exact.abs().max()).item()
    error = (c.double() - exact).norm()
    return (error / exact.norm() if relative else error).item()


def amp_step(model, X, y, optimizer, scaler, dtype=torch.float16, autocast=True, scale=True, scaler_step=True,
             update=True, zero_grad=True, unscale_first=False, returned="loss"):
    if zero_grad:
        optimizer.zero_grad()
    with torch.autocast(X.device.type, dtype=dtype, enabled=autocast):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X), y)
    (scaler.scale(loss) if scale else loss).backward()
    if unscale_first:
        scaler.unscale_(optimizer)
    if scaler_step:
        scaler.step(optimizer)
    else:
        optimizer.step()
    if update:
        scaler.update()
    return {"loss": loss.item(), "tensor": loss, "scaled": scaler.scale(loss).item(), "none": None}[returned]


def amp_step_clipping(model, X, y, optimizer, scaler):
    """The documented variant: unscale_ first, to clip the true gradients, then scaler.step."""
    optimizer.zero_grad()
    with torch.autocast("cpu", dtype=torch.float16):
        loss = torch.nn.BCEWithLogitsLoss()(model(X), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1e9)
    scaler.step(optimizer)
    scaler.update()
    return loss.item()


def amp_step_no_skip(model, X, y, optimizer, scaler):
    optimizer.zero_grad()
    with torch.autocast("cpu", dtype=torch.float16):
        loss = torch.nn.BCEWithLogitsLoss()(model(X), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    optimizer.step()
    scaler.update()
    return loss.item()


def against_float32(a, b, dtype):
    reference = a @ b
    with torch.autocast("cpu", dtype=dtype):
        c = a @ b
    return (c.float() - reference).norm().item() / reference.norm().item()


def rounds_the_inputs_only(a, b, dtype):
    exact = a.double() @ b.double()
    c = a.to(dtype).double() @ b.to(dtype).double()
    return ((c - exact).norm() / exact.norm()).item()


def raise_value_error(*_args, **_kwargs):
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
    ("task2", whole_loop, "FAIL", "you timed the whole loop and divided by `repeat`: a sound way to time GPU work"),
    ("task2", lambda *a, **k: whole_loop(*a, **k, total=True), "FAIL", "that is the total of the 5 timed runs"),
    ("task2", lambda *a, **k: honest_time(*a, **k, summary=sum), "FAIL", "that is the total of the 5 timed runs"),
    ("task2", lambda *a, **k: 1e3 * honest_time(*a, **k), "FAIL", "that is in milliseconds; return seconds"),
    ("task3", gflops, "PASS", "runs at 102 GFLOP/s"),
    ("task3", stub(3), "TODO", "not implemented yet"),
    ("task3", lambda *a: gflops(*a, flops=lambda m, k, n: m * k * n), "FAIL", "k multiplications AND k additions"),
    ("task3", lambda *a: gflops(*a, flops=lambda m, k, n: m * n * (2 * k - 1)), "FAIL", "that counts k - 1 additions"),
    ("task3", lambda *a: gflops(*a, giga=1), "FAIL", "divide by 1e9 for GFLOP/s"),
    ("task3", lambda *a: gflops(*a, giga=1e6), "FAIL", "giga is 1e9"),
    ("task3", lambda m, k, n, s: 2 * m * k * n * s / 1e9, "FAIL", "divided by the time"),
    ("task3", lambda *a: gflops(*a, flops=lambda m, k, n: 2 * n**3), "FAIL", "the matrices are not square"),
    ("task3", lambda *a: gflops(*a, giga=1e12), "FAIL", "1000 times too small: GFLOP/s divides by 1e9"),
    ("task3", lambda m, k, n, s: gflops(m, k, n, s * 1e3), "FAIL", "`seconds` is already in seconds"),
    ("task3", lambda *a: gflops(*a, giga=2**30), "FAIL", "not 2**30"),
    ("task4", autocast_error, "PASS", "bfloat16 2.9e-03 (its unit round-off 3.9e-03), float16 3.6e-04"),
    ("task4", against_float32, "PASS", "float16's error is 8 times smaller"),
    ("task4", stub(4), "TODO", "not implemented yet"),
    ("task4", lambda *a: autocast_error(*a, use_autocast=False), "FAIL", "the product ran in float32"),
    ("task4", rounds_the_inputs_only, "FAIL", "rounding the inputs only"),
    ("task4", lambda *a: autocast_error(*a, relative=False), "FAIL", "that is the absolute error"),
    ("task4", lambda *a: autocast_error(*a, fixed=torch.bfloat16), "FAIL", "use the `dtype` you are given"),
    ("task4", lambda *a: autocast_error(*a, device_type="cuda"), "FAIL", "an autocast for another device type"),
    ("task4", lambda *a: autocast_error(*a, largest=True), "FAIL", "that compares the largest entries"),
    ("task5", amp_step, "PASS", "the scale grew from 2^16 to 2^19"),
    ("task5", amp_step_clipping, "PASS", "a step whose gradients overflowed at scale 2^30 was skipped"),
    ("task5", lambda *a: amp_step(*a, returned="tensor"), "PASS", "6 float16 steps match the AMP recipe"),
    ("task5", stub(5), "TODO", "not implemented yet"),
    ("task5", lambda *a: amp_step(*a, scale=False), "FAIL", "backward the scaled loss, scaler.scale(loss).backward()"),
    ("task5", lambda *a: amp_step(*a, scaler_step=False), "FAIL",
     "step with scaler.step(optimizer), not optimizer.step()"),
    ("task5", lambda *a: amp_step(*a, update=False), "FAIL", "call scaler.update() after scaler.step(optimizer)"),
    ("task5", amp_step_no_skip, "FAIL", "a step whose scaled gradients overflowed to inf was taken"),
    ("task5", lambda *a: amp_step(*a, autocast=False), "FAIL", "the forward pass ran in float32"),
    ("task5", lambda *a: amp_step(*a, dtype=torch.bfloat16), "FAIL", "that is bfloat16"),
    ("task5", lambda *a: amp_step(*a, zero_grad=False), "FAIL", "the gradients piled up from step to step"),
    ("task5", lambda *a: amp_step(*a, returned="scaled"), "FAIL", "you returned the scaled loss"),
    ("task5", lambda *a: amp_step(*a, returned="none"), "FAIL", "did you forget `return`?"),
]


@pytest.mark.parametrize("task, answer, status, hint", CH11, ids=[f"{t}-{s}-{h[:30]}" for t, _, s, h in CH11])
def test_ch11(task, answer, status, hint, capsys):
    assert_reports(capsys, getattr(check.ch11, task)(answer), status, hint)


def test_the_simulated_gpu_tells_every_timing_mistake_apart():
    from gdlab.check.chapter11 import _timed

    values = [_timed(3, 5, m) for m in (None, "mean", "min", "launch only", "sync before fn", "no sync after warm-up")]
    assert len({round(v, 9) for v in values}) == len(values), values
