"""PyTorch helpers for chapter 11: pick a device, time code honestly, seed every generator.

Imported on first use (`gdlab.torch`), so `import gdlab` stays free of torch.
"""
import random
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from gdlab._validate import count, one_of

__all__ = ["pick_device", "synchronize", "time_it", "Timing", "seed_everything"]

CHECKS = {"cuda": "torch.cuda.is_available()", "mps": "torch.backends.mps.is_available()"}


def _available(name):
    if name == "cuda":
        return torch.cuda.is_available()
    if name == "mps":
        return torch.backends.mps.is_available()
    return True


def _describe(name):
    if name == "cuda":
        return f"the GPU {torch.cuda.get_device_name()}"
    return "Apple's GPU (MPS)" if name == "mps" else "the CPU"


def pick_device(prefer=None):
    """The device to compute on, cuda > mps > cpu, or `prefer` ("cuda", "mps", "cpu") when given.

    Prints one line saying what it picked and why. Raises ValueError when `prefer` names a device
    that PyTorch cannot use here.
    """
    if prefer is not None:
        one_of(prefer, "prefer", ("cuda", "mps", "cpu"))
        if not _available(prefer):
            raise ValueError(f"prefer={prefer!r} but {CHECKS[prefer]} is False here; "
                             f"use prefer=None to take the best device available")
        print(f"Using {_describe(prefer)}, as asked (prefer={prefer!r}).")
        return torch.device(prefer)
    for name in ("cuda", "mps"):
        if _available(name):
            print(f"Using {_describe(name)} ({CHECKS[name]} is True).")
            return torch.device(name)
    print("No GPU found (torch.cuda.is_available() is False): using the CPU. Everything in this chapter still runs.")
    return torch.device("cpu")


def synchronize(device):
    """Wait until the work queued on `device` is done. GPUs run asynchronously; the CPU does not."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


@dataclass(frozen=True)
class Timing:
    """Wall-clock times of repeated runs, in seconds."""

    times: tuple

    @property
    def median(self):
        return statistics.median(self.times)

    def __str__(self):
        return (f"median {self.median * 1e3:.3f} ms of {len(self.times)} runs "
                f"(min {min(self.times) * 1e3:.3f} ms, max {max(self.times) * 1e3:.3f} ms)")


def time_it(fn, *args, device=None, warmup=3, repeat=10):
    """Time `fn(*args)`: `warmup` untimed calls, then `repeat` timed ones; returns a Timing.

    The clock is read only after synchronize(device), so queued GPU work is counted. device=None
    takes the device of the first tensor in `args` (the CPU if there is none). The median resists
    the odd slow run caused by other programs.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    warmup, repeat = count(warmup, "warmup"), count(repeat, "repeat", minimum=1)
    if device is None:
        device = next((a.device for a in args if isinstance(a, torch.Tensor)), torch.device("cpu"))
    for _ in range(warmup):
        fn(*args)
    synchronize(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(*args)
        synchronize(device)
        times.append(time.perf_counter() - start)
    return Timing(tuple(times))


def seed_everything(seed):
    """Seed Python's `random`, NumPy's global generator and torch's generators on every device."""
    seed = count(seed, "seed")
    if seed >= 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32 - 1] (NumPy's range), got {seed}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds the CPU and every CUDA and MPS device
