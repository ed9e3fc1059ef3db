"""Time of one optimizer step on 1e6 float64 parameters: gdlab.optim vs torch.optim, one thread.

    python benchmarks/optimizer_step.py [--repeats 50] [--size 1000000] [--hot]

Target: gdlab / torch(foreach=True) <= 1.2 for every optimizer. torch runs with one thread
(NumPy's elementwise ufuncs are single-threaded), and torch's fused CPU kernels, where
this torch has them, are shown for reference. Every repeat runs every optimizer, gdlab and
torch in turn (alternating who goes first), so a busy spell on a shared machine slows them
alike; the table gives medians, and the ratio is the median of the paired gdlab/torch ratios.
Between two steps of one optimizer the others run, as other work runs between two training
steps, so its arrays are no longer in the cache. --hot instead runs each optimizer's repeats
back to back, leaving its arrays in the last-level cache: torch's whole-array passes gain
the most from that, and the ratios come out higher, RMSprop's close to the 1.2 target.

Why gdlab can keep up: NumPy has no fused multiply-add (torch's addcmul_, addcdiv_, lerp_),
so an update rule takes more passes over the data than torch's; gdlab runs them block by
block (gdlab/optim/optimizer.py, BLOCK) so that all but the first stay in the CPU cache.
What limits it: NumPy's float64 sqrt (and square) are built for the SSE baseline only (the
header prints the dispatch), measured 1.7 to 2.7 times slower in cache than torch's AVX-512 sqrt;
RMSprop, the rule with the fewest other passes to hide it, has the highest ratio.
"""
import argparse
import platform
import statistics
import time

import numpy as np
import torch

from gdlab import optim

CASES = {  # name: (gdlab optimizer, torch optimizer class, shared hyperparameters)
    "SGD momentum": (optim.SGD, torch.optim.SGD, {"lr": 1e-3, "momentum": 0.9}),
    "Adam": (optim.Adam, torch.optim.Adam, {}),
    "AdamW": (optim.AdamW, torch.optim.AdamW, {}),
    "NAdam": (optim.NAdam, torch.optim.NAdam, {}),
    "RMSprop": (optim.RMSprop, torch.optim.RMSprop, {}),
    "Adagrad": (optim.Adagrad, torch.optim.Adagrad, {}),
    "Adadelta": (optim.Adadelta, torch.optim.Adadelta, {}),
}


def gdlab_step(gdlab_class, hyper, x, g):
    opt, x = gdlab_class(**hyper), x.copy()
    opt.step(x, g)  # the first step allocates the state
    return lambda: opt.step(x, g)


def torch_step(torch_class, hyper, x, g, **mode):
    """A torch step function on a copy of x with gradient g, or None if `mode` is unsupported."""
    p = torch.nn.Parameter(torch.from_numpy(x.copy()))
    p.grad = torch.from_numpy(g.copy())
    try:
        opt = torch_class([p], **hyper, **mode)
        opt.step()
    except (RuntimeError, TypeError, ValueError):
        return None
    return opt.step


def sqrt_dispatch():
    try:
        from numpy.lib.introspect import opt_func_info  # NumPy >= 2.0
    except ImportError:
        return "unknown (NumPy < 2.0)"
    return opt_func_info(func_name="^sqrt$", signature="float64")["sqrt"]["dd"]["current"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--hot", action="store_true", help="time each optimizer's repeats back to back")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    x0, g = rng.standard_normal(args.size), rng.standard_normal(args.size)
    steps = {name: {"gdlab": gdlab_step(gdlab_class, hyper, x0, g),
                    "foreach": torch_step(torch_class, hyper, x0, g, foreach=True),
                    "fused": torch_step(torch_class, hyper, x0, g, fused=True)}
             for name, (gdlab_class, torch_class, hyper) in CASES.items()}
    times = {name: {kind: [] for kind, step in kinds.items() if step is not None} for name, kinds in steps.items()}
    if args.hot:  # each optimizer's repeats back to back: its arrays stay in the last-level cache
        order = [(name, repeat) for name in times for repeat in range(args.repeats)]
    else:  # every optimizer in every repeat: a busy spell slows them all, other arrays evict theirs
        order = [(name, repeat) for repeat in range(args.repeats) for name in times]
    for name, repeat in order:
        kinds = times[name]
        for kind in (list(kinds) if repeat % 2 else reversed(kinds)):  # alternate who goes first
            start = time.perf_counter()
            steps[name][kind]()
            kinds[kind].append(time.perf_counter() - start)

    print(f"# one step on {args.size:.0e} float64 parameters, median of {args.repeats} "
          f"({'hot: repeats back to back' if args.hot else 'optimizers interleaved'}); numpy {np.__version__}, "
          f"torch {torch.__version__} (1 thread); {platform.machine()}, {time.strftime('%Y-%m-%d')}")
    print(f"# numpy float64 sqrt runs on: {sqrt_dispatch()}")
    print(f"{'optimizer':<14} {'gdlab ms':>9} {'torch foreach ms':>17} {'ratio':>6} {'torch fused ms':>15}")
    worst = 0.0
    for name, kinds in times.items():
        ms = {kind: statistics.median(t) * 1e3 for kind, t in kinds.items()}
        ratio = statistics.median(a / b for a, b in zip(kinds["gdlab"], kinds["foreach"]))  # paired in time
        worst = max(worst, ratio)
        fused = f"{ms['fused']:.2f}" if "fused" in ms else "n/a"
        print(f"{name:<14} {ms['gdlab']:>9.2f} {ms['foreach']:>17.2f} {ratio:>6.2f} {fused:>15}")
    print(f"worst ratio {worst:.2f} (target <= 1.2): {'met' if worst <= 1.2 else 'NOT met'}")


if __name__ == "__main__":
    main()
