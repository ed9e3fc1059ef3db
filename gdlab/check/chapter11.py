"""Checks for exercises/11_pytorch_on_gpu.ipynb.

No GPU needed, and the same line on every machine: device code is run on the CPU and on PyTorch's
"meta" device (shapes only), timing code against a simulated GPU with its own clock, and precision
on the CPU.
"""
import copy
import itertools
import math
import statistics

import numpy as np

from gdlab.check.core import Chapter, Failed, NotDone, call, close, fail, number


class _FakeGPU:
    """A device that queues work like a GPU, with its own clock in seconds.

    fn() takes LAUNCH seconds of the caller's time and queues a kernel of the next duration; the kernel
    starts when the device is free. sync() waits until the queue is empty.
    """

    LAUNCH = 1e-5

    def __init__(self, durations):
        self.durations = itertools.chain(durations, itertools.repeat(0.020))
        self.now = self.busy_until = 0.0
        self.calls = self.reads = self.syncs = 0

    def fn(self):
        self.calls += 1
        self.busy_until = max(self.now, self.busy_until) + next(self.durations)
        self.now += self.LAUNCH

    def sync(self):
        self.syncs += 1
        self.now = max(self.now, self.busy_until)

    def clock(self):
        self.reads += 1
        return self.now


# Three slow first calls (context creation, kernel selection), then ordinary runs with one hiccup.
_DURATIONS = (0.200, 0.050, 0.030, 0.010, 0.014, 0.250, 0.012, 0.016)


def _timed(warmup, repeat, mistake=None):
    """What honest timing measures on a fresh _FakeGPU, or what it measures with a known `mistake`."""
    gpu = _FakeGPU(_DURATIONS)
    for _ in range(warmup):
        gpu.fn()
    if mistake not in ("no sync", "no sync after warm-up"):
        gpu.sync()
    times = []
    for _ in range(repeat):
        start = gpu.clock()
        if mistake == "sync before fn":
            gpu.sync()
        gpu.fn()
        if mistake not in ("no sync", "launch only", "sync before fn"):
            gpu.sync()
        times.append(gpu.clock() - start)
    summary = {"mean": statistics.mean, "min": min, "total": sum}.get(mistake, statistics.median)
    return summary(times)


def _probe(log):
    """A 2-16-1 tanh network whose forward records where its input and weights are, in `log`."""
    import torch
    from torch import nn

    class Probe(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden, self.out = nn.Linear(2, 16), nn.Linear(16, 1)

        def forward(self, x):
            log.append((x.device.type, self.hidden.weight.device.type))
            return self.out(torch.tanh(self.hidden(x)))

    torch.manual_seed(0)
    return Probe().double()


def _product_error(a, b, dtype, autocast=True, inputs_only=False, relative=True, largest=False):
    import torch

    exact = a.double() @ b.double()
    if inputs_only:
        c = a.to(dtype).double() @ b.to(dtype).double()
    elif autocast:
        with torch.autocast("cpu", dtype=dtype):
            c = a @ b
    else:
        c = a @ b
    if largest:
        return ((c.double() - exact).abs().max() / exact.abs().max()).item()
    error = (c.double() - exact).norm()
    return (error / exact.norm()).item() if relative else error.item()


def _amp_problem():
    """The chapter 10 spirals network (2-32-32-1, tanh) and 256 examples, in float32 on the CPU."""
    import torch

    from gdlab.nn import make_mlp, spirals

    X, y = spirals(256, seed=0)
    torch.manual_seed(0)
    return make_mlp([2, 32, 32, 1]), X, y


def _amp_run(amp_step, steps, init_scale, mistake=None):
    """`steps` calls of amp_step (or of the recipe, with a known `mistake`) with SGD and a fresh GradScaler.

    Returns the flat weights, the values returned, the final scale, and the weights before the first step.
    """
    import torch

    model, X, y = _amp_problem()
    start = torch.cat([p.detach().flatten() for p in model.parameters()])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=init_scale, growth_interval=2)
    step = amp_step or (lambda *args: _amp_recipe(*args, mistake=mistake))
    returned = [call(step, model, X, y, optimizer, scaler) for _ in range(steps)]
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    return weights, returned, scaler.get_scale(), start


def _amp_recipe(model, X, y, optimizer, scaler, mistake=None):
    """The AMP recipe, or the recipe with a known mistake."""
    import torch

    if mistake != "no zero_grad":
        optimizer.zero_grad()
    dtype = torch.bfloat16 if mistake == "bfloat16" else torch.float16
    with torch.autocast(X.device.type, dtype=dtype, enabled=mistake != "no autocast"):
        loss = torch.nn.functional.binary_cross_entropy_with_logits(model(X), y)
    scaler.scale(loss).backward()
    if mistake == "no skip":  # unscale, then step whatever the gradients hold
        scaler.unscale_(optimizer)
        optimizer.step()
    else:
        scaler.step(optimizer)
    scaler.update()
    return (scaler.scale(loss) if mistake == "scaled loss" else loss).item()


_AMP_ERRORS = {  # what GradScaler raises when a step of the recipe is missing
    "_scale is None": "backward the scaled loss, scaler.scale(loss).backward(): scaler.step can only unscale "
                      "gradients that were scaled",
    "No inf checks were recorded": "step with scaler.step(optimizer), not optimizer.step(): it divides the gradients "
                                   "by the scale and skips the step if one of them is inf or NaN",
    "step() has already been called since the last update()": "call scaler.update() after scaler.step(optimizer), "
                                                              "once per step: it adjusts the scale",
}


_HARD_CODED = "your function asked for CUDA: use the `device` it is given, never a hard-coded 'cuda'."


def _run_on(forward_on, model, X, device, log):
    """forward_on(copy of model, copy of X, device); a failure is explained from where the probe saw its input."""
    import torch

    log.clear()
    try:
        return call(forward_on, copy.deepcopy(model), X.clone(), torch.device(device))
    except (Failed, NotDone) as error:
        if "cuda" in str(error).lower():
            fail(_HARD_CODED)
        if device == "cpu":
            raise
        seen = log[0] if log else None
        if seen == ("cpu", device):
            fail(f"on the {device} device the data stayed on the CPU: X.to(device) returns a copy on the device "
                 "and leaves X where it was, so keep the copy: X = X.to(device).")
        if seen == (device, "cpu"):
            fail(f"on the {device} device the model stayed on the CPU: move it with model.to(device).")
        if seen == (device, device):
            fail(f"the output was computed on the {device} device, then you copied it off (.cpu(), .numpy(), "
                 ".item()); return it where it was computed, on `device`.")
        raise Failed(str(error)) from None


class ch11(Chapter):
    """11 · PyTorch on a GPU."""

    def task1(forward_on):
        "device-agnostic code"
        import torch

        X = torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        log = []
        model = _probe(log)
        with torch.no_grad():
            expected = model(X)
        got = _run_on(forward_on, model, X, "cpu", log)
        close(got, expected, "your output on the CPU")
        out = _run_on(forward_on, model, X, "meta", log)
        if not isinstance(out, torch.Tensor):
            fail(f"on the meta device your function returned a {type(out).__name__}; return the output tensor.")
        if out.device.type == "cuda":
            fail(_HARD_CODED)
        if out.device.type != "meta":
            fail(f"given the meta device, your function returned a tensor on {out.device.type}: move the model "
                 "and the data with .to(device), the device you are given.")
        if tuple(out.shape) != (5, 1):
            fail(f"on the meta device your output has shape {tuple(out.shape)}, expected (5, 1).")
        return ("the same code ran on the CPU (right values) and on the meta device (an output of shape (5, 1) "
                "on meta); given torch.device('cuda') it runs on a GPU.")

    def task2(honest_time):
        "honest timing"
        warmup, repeat = 3, 5
        gpu = _FakeGPU(_DURATIONS)
        got = number(call(honest_time, gpu.fn, gpu.sync, warmup=warmup, repeat=repeat, clock=gpu.clock),
                     "your time")
        if gpu.reads == 0:
            fail("you never read `clock`: time with the clock you are given (start = clock(), ...), not "
                 "time.perf_counter, so that the check can play a GPU.")
        if gpu.calls == repeat:
            fail(f"fn ran {repeat} times, all timed: no warm-up. Run it `warmup` times untimed first; "
                 "first calls are slow (context creation, kernel choice).")
        if gpu.calls != warmup + repeat:
            fail(f"fn ran {gpu.calls} times; with warmup={warmup} and repeat={repeat} it should run "
                 f"{warmup + repeat} times: {warmup} untimed, then {repeat} timed.")
        if gpu.syncs == 0:
            fail("you never called sync(): on a GPU fn() only queues its work, so your clock measured the "
                 f"launch ({_timed(warmup, repeat, 'no sync') * 1e6:.0f} µs), not the work.")
        expected = _timed(warmup, repeat)
        if gpu.reads == 2:  # one clock reading before the loop, one after
            mean = ("you timed the whole loop and divided by `repeat`: a sound way to time GPU work (one "
                    "synchronize for many runs), but it gives the mean, and one slow run (250 ms) drags it up. This "
                    "task asks for the median: read the clock before and after each run")
        else:
            mean = "that is the mean; one slow run (250 ms) drags it up. Take the median (statistics.median)"
        close(got, expected, "your time (in seconds)", {
            mean: _timed(warmup, repeat, "mean"),
            f"that is the total of the {repeat} timed runs; return the median of their times":
                _timed(warmup, repeat, "total"),
            "that is in milliseconds; return seconds (the clock counts seconds)": expected * 1e3,
            "that is the fastest run; take the median (statistics.median)": _timed(warmup, repeat, "min"),
            "you measured the launch only: call sync() after fn() and before reading the clock":
                _timed(warmup, repeat, "launch only"),
            "you waited for the previous run, not for this one: call sync() after fn(), before reading the clock":
                _timed(warmup, repeat, "sync before fn"),
            "the warm-up's queued work was counted in your first timed run: call sync() after the warm-up too":
                _timed(warmup, repeat, "no sync after warm-up"),
        })
        return (f"median {expected * 1e3:.0f} ms on a simulated GPU whose first calls are slow and whose runs "
                f"include a 250 ms hiccup; the mean says {_timed(warmup, repeat, 'mean') * 1e3:.0f} ms, and a "
                f"stopwatch without sync() {_timed(warmup, repeat, 'no sync') * 1e6:.0f} µs.")

    def task3(matmul_gflops):
        "the arithmetic rate of a matrix product"
        cases = np.array([(1024, 1024, 1024, 0.021), (4096, 4096, 4096, 0.001), (128, 784, 1024, 0.0005)])
        m, k, n, seconds = cases.T
        got = [number(call(matmul_gflops, int(a), int(b), int(c), t), f"matmul_gflops({int(a)}, {int(b)}, "
                      f"{int(c)}, {t:g})") for a, b, c, t in cases]
        flops = 2 * m * k * n
        close(got, flops / seconds / 1e9, "your GFLOP/s for (m, k, n) = (1024, 1024, 1024), (4096, 4096, 4096), "
              "(128, 784, 1024)", {
                  "each of the m·n entries needs k multiplications AND k additions: 2·m·k·n operations":
                      m * k * n / seconds / 1e9,
                  "that counts k - 1 additions per entry; benchmarks count k multiply-adds, 2·m·k·n":
                      m * n * (2 * k - 1) / seconds / 1e9,
                  "that is in FLOP/s; divide by 1e9 for GFLOP/s": flops / seconds,
                  "giga is 1e9, not 1e6": flops / seconds / 1e6,
                  "your figure is 1000 times too small: GFLOP/s divides by 1e9 (1e12 gives TFLOP/s), and "
                  "`seconds` is already in seconds": flops / seconds / 1e12,
                  "giga is 1e9 here, not 2**30 (that is gibi, for memory sizes)": flops / seconds / 2**30,
                  "a rate is operations divided by the time": flops * seconds / 1e9,
                  "the matrices are not square: an (m, k) by (k, n) product costs 2·m·k·n, not 2·n³":
                      2 * n**3 / seconds / 1e9,
              })
        return (f"an n = 1024 product in 21 ms runs at {got[0]:.0f} GFLOP/s, a CPU's rate (chapter 11, section 3, "
                f"measures yours); an n = 4096 one in 1 ms would run at {got[1] / 1e3:.0f} TFLOP/s, a rate only "
                "a GPU's tensor cores reach.")

    def task4(autocast_error):
        "the cost of bfloat16, measured"
        import torch

        torch.manual_seed(0)
        a, b = torch.randn(256, 256), torch.randn(256, 256)
        dtypes = (torch.bfloat16, torch.float16)
        got = [number(call(autocast_error, a.clone(), b.clone(), dtype), f"your error in {dtype}") for dtype in dtypes]
        expected = [_product_error(a, b, dtype) for dtype in dtypes]
        close(got, expected, "your relative errors for bfloat16 and float16", {
            "the product ran in float32: compute it inside `with torch.autocast('cpu', dtype=dtype):` (an "
            "autocast for another device type, such as 'cuda', leaves CPU tensors alone)":
                [_product_error(a, b, dtype, autocast=False) for dtype in dtypes],
            "that compares the largest entries; the relative error compares Frobenius norms, "
            "(c - exact).norm() / exact.norm()": [_product_error(a, b, dtype, largest=True) for dtype in dtypes],
            "that is the error of rounding the inputs only; under autocast the product is rounded too":
                [_product_error(a, b, dtype, inputs_only=True) for dtype in dtypes],
            "that is the absolute error ||c - exact||; divide by ||exact||":
                [_product_error(a, b, dtype, relative=False) for dtype in dtypes],
            "both are the bfloat16 error: use the `dtype` you are given":
                [_product_error(a, b, torch.bfloat16)] * 2,
        }, rtol=1e-3, atol=0)
        eps = [torch.finfo(dtype).eps / 2 for dtype in dtypes]
        return (f"bfloat16 {got[0]:.1e} (its unit round-off {eps[0]:.1e}), float16 {got[1]:.1e} ({eps[1]:.1e}): "
                f"float16's error is {got[0] / got[1]:.0f} times smaller, bfloat16 keeps float32's range.")

    def task5(amp_step):
        "a mixed-precision training step"
        import torch

        try:
            overflow, _, overflow_scale, start = _amp_run(amp_step, 1, 2.0**30)
            weights, returned, scale, _ = _amp_run(amp_step, 6, 2.0**16)
        except Failed as error:
            hint = next((hint for text, hint in _AMP_ERRORS.items() if text in str(error)), None)
            if hint:
                fail(f"{error}: {hint}.")
            raise
        if not torch.isfinite(overflow).all():
            fail("a step whose scaled gradients overflowed to inf was taken, and the weights became inf or NaN: let "
                 "scaler.step(optimizer) take the step, since it skips such steps.")
        reference, right_losses, right_scale, _ = _amp_run(None, 6, 2.0**16)
        close(weights, reference, "the weights after 6 steps", {
            "the forward pass ran in float32: run it under torch.autocast(X.device.type, dtype=torch.float16)":
                _amp_run(None, 6, 2.0**16, "no autocast")[0],
            "that is bfloat16: this step is float16's, the format that needs the scaler":
                _amp_run(None, 6, 2.0**16, "bfloat16")[0],
            "the gradients piled up from step to step: call optimizer.zero_grad() first":
                _amp_run(None, 6, 2.0**16, "no zero_grad")[0],
        }, rtol=1e-5, atol=1e-7)
        if not torch.equal(overflow, start) or overflow_scale != 2.0**29:
            fail(f"with the loss scaled by 2^30 every float16 gradient overflows, so the step must be skipped and the "
                 f"scale halved; your step changed the weights or left the scale at {overflow_scale:.0f}.")
        losses = [number(value, "the value your step returned") for value in returned]
        close(losses, right_losses, "the losses your step returned", {
            "you returned the scaled loss: return loss.item(), the loss itself":
                _amp_run(None, 6, 2.0**16, "scaled loss")[1]}, rtol=1e-5)
        if scale != right_scale:
            fail(f"after 6 steps the scale is {scale:.0f}, expected {right_scale:.0f}: call scaler.update() once per "
                 "step.")
        return (f"6 float16 steps match the AMP recipe; the scale grew from 2^16 to 2^{math.log2(right_scale):.0f} "
                "(growth_interval=2 here, 2000 by default), and a step whose gradients overflowed at scale 2^30 was "
                "skipped, the scale halved.")
