"""PyTorch helpers for chapter 11: pick a device, time code honestly, seed every generator.

Imported on first use (`gdlab.torch`), so `import gdlab` stays free of torch. Needs torch 2.6 or newer
(torch.accelerator). Nothing here makes a float64 tensor on a device: Apple's GPU (MPS) has none.
"""
import random
import statistics
import time
from dataclasses import dataclass

import numpy as np
import torch

from gdlab._validate import count, one_of

__all__ = ["pick_device", "synchronize", "time_it", "Timing", "seed_everything"]

KINDS = ("cuda", "mps", "cpu")


def _accelerator():
    """The accelerator this PyTorch build can use here (cuda, mps, xpu, ...) as a device, or None."""
    return torch.accelerator.current_accelerator() if torch.accelerator.is_available() else None


def _describe(device):
    if device.type == "cuda":
        return f"the GPU {torch.cuda.get_device_name(device)}"
    if device.type == "mps":
        return "Apple's GPU (MPS)"
    return "the CPU" if device.type == "cpu" else f"the {device.type} device"


def pick_device(prefer=None):
    """The device to compute on: the accelerator PyTorch finds (torch.accelerator: an NVIDIA or AMD GPU as
    "cuda", Apple's GPU as "mps", ...), else the CPU; or `prefer` ("cuda", "mps", "cpu") when given.

    Prints one line saying what it picked and why. Raises ValueError when `prefer` names a device
    that PyTorch cannot use here.
    """
    found = _accelerator()
    if prefer is not None:
        one_of(prefer, "prefer", KINDS)
        if prefer != "cpu" and (found is None or found.type != prefer):
            raise ValueError(f"prefer={prefer!r} but PyTorch finds no {prefer} device here (the accelerator it "
                             f"finds: {found}); use prefer=None to take the best device available")
        device = torch.device(prefer)
        print(f"Using {_describe(device)}, as asked (prefer={prefer!r}).")
        return device
    if found is not None:
        print(f"Using {_describe(found)} (torch.accelerator found {found.type}).")
        return found
    print("No GPU found (torch.accelerator.is_available() is False): using the CPU. Everything in this chapter "
          "still runs.")
    return torch.device("cpu")


def synchronize(device):
    """Wait until the work queued on `device` is done. GPUs run asynchronously; the CPU does not."""
    device = torch.device(device)
    found = _accelerator()
    if found is not None and device.type == found.type:
        torch.accelerator.synchronize(device)


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
