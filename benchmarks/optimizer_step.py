"""Time of one optimizer step, gdlab.optim vs torch.optim, side by side in one run.

    python benchmarks/optimizer_step.py [--repeats 30] [--sizes 10000 1000000]

Targets (issue 14):
  1. on a 2-parameter point, what the course runs, an Adam step takes at most 10 us
     (torch.optim.Adam is shown beside it);
  2. at 1e6 float64 parameters every optimizer is within 2x torch's foreach implementation,
     both on one thread (NumPy's elementwise ufuncs are single-threaded). 1e4 is shown too.

gdlab's update rules are the papers' formulas in whole-array NumPy, written to be read: each line
allocates its result, where torch fuses multiply-adds in place (addcmul_, addcdiv_, lerp_). On two
parameters the cost is Python and NumPy call overhead per operation, which torch's dispatcher
has more of. Times are CPU time of this process (time.process_time: on an idle machine, the wall
time of one thread; on a shared one, it leaves out the time spent waiting for a core). Every repeat
runs gdlab and torch in turn (alternating who goes first), so a busy spell slows both alike; the
tables give medians, and each ratio is the median of the paired gdlab/torch ratios. Other work on
the machine still competes for caches and memory bandwidth: re-run it when the machine is quiet.
"""
import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch

from gdlab import optim

SMALL_TARGET_US, LARGE_TARGET_RATIO = 10.0, 2.0
SETTINGS = {"SGD": {"lr": 1e-3, "momentum": 0.9}}  # the rest run with their defaults


def cases():
    """Every optimizer of gdlab.optim.OPTIMIZERS with its torch.optim twin and the settings both use."""
    return {name: (cls, getattr(torch.optim, name), SETTINGS.get(name, {})) for name, cls in optim.OPTIMIZERS.items()}


def gdlab_step(gdlab_class, settings, x, g):
    opt, x = gdlab_class(**settings), x.copy()
    opt.step(x, g)  # the first step makes the state
    return lambda: opt.step(x, g)


def torch_step(torch_class, settings, x, g, **mode):
    p = torch.nn.Parameter(torch.from_numpy(x.copy()))
    p.grad = torch.from_numpy(g.copy())
    opt = torch_class([p], **settings, **mode)
    opt.step()
    return opt.step


def timed(step, calls):
    start = time.process_time()
    for _ in range(calls):
        step()
    return (time.process_time() - start) / calls


def race(steps, repeats, calls):
    """{kind: [seconds per step]} for each kind of `steps`, interleaved and alternating who goes first."""
    times = {kind: [] for kind in steps}
    for repeat in range(repeats):
        for kind in (list(steps) if repeat % 2 else list(steps)[::-1]):
            times[kind].append(timed(steps[kind], calls))
    return times


def paired_ratio(times):
    return statistics.median(a / b for a, b in zip(times["gdlab"], times["torch"]))


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = " load average %.2f %.2f %.2f," % os.getloadavg() if hasattr(os, "getloadavg") else ""
    return f"{cpu}, {os.cpu_count()} cores,{load} {platform.system()}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 1_000_000])
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    print(f"# {time.strftime('%Y-%m-%d %H:%M')}; {machine()}")
    print(f"# Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} (1 thread); "
          f"medians of {args.repeats} interleaved repeats")

    rng = np.random.default_rng(0)
    x, g = np.array([-1.5, 2.0]), np.array([0.3, -0.2])
    print("\n## one step on a 2-parameter point (us), torch.optim with its CPU default")
    print(f"{'optimizer':<10} {'gdlab':>8} {'torch':>8} {'torch/gdlab':>12}")
    adam_us = None
    for name, (gdlab_class, torch_class, settings) in cases().items():
        times = race({"gdlab": gdlab_step(gdlab_class, settings, x, g),
                      "torch": torch_step(torch_class, settings, x, g)}, args.repeats, calls=2000)
        us = {kind: statistics.median(t) * 1e6 for kind, t in times.items()}
        adam_us = us["gdlab"] if name == "Adam" else adam_us
        print(f"{name:<10} {us['gdlab']:>8.2f} {us['torch']:>8.2f} {1 / paired_ratio(times):>12.1f}")

    worst = {}
    for size in args.sizes:
        x, g = rng.standard_normal(size), rng.standard_normal(size)
        print(f"\n## one step on {size:.0e} float64 parameters (ms), torch.optim with foreach=True")
        print(f"{'optimizer':<10} {'gdlab':>9} {'torch':>9} {'gdlab/torch':>12}")
        for name, (gdlab_class, torch_class, settings) in cases().items():
            times = race({"gdlab": gdlab_step(gdlab_class, settings, x, g),
                          "torch": torch_step(torch_class, settings, x, g, foreach=True)},
                         args.repeats, calls=max(1, 20_000 // size))
            ms = {kind: statistics.median(t) * 1e3 for kind, t in times.items()}
            ratio = paired_ratio(times)
            worst[size] = max(worst.get(size, 0.0), ratio)
            print(f"{name:<10} {ms['gdlab']:>9.4f} {ms['torch']:>9.4f} {ratio:>12.2f}")

    print("\n## targets")
    print(f"Adam step on 2 parameters: {adam_us:.2f} us (target <= {SMALL_TARGET_US:g} us): "
          f"{'met' if adam_us <= SMALL_TARGET_US else 'NOT met'}")
    if 1_000_000 in worst:
        ratio = worst[1_000_000]
        print(f"worst gdlab/torch(foreach) at 1e6 parameters: {ratio:.2f} (target <= {LARGE_TARGET_RATIO:g}): "
              f"{'met' if ratio <= LARGE_TARGET_RATIO else 'NOT met'}")


if __name__ == "__main__":
    main()
