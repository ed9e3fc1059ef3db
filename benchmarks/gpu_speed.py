"""Matrix-multiply and training-step time by size, on the CPU and on the GPU when there is one.

    python benchmarks/gpu_speed.py                       # sizes 64 ... 8192; the CPU stops at 2048
    python benchmarks/gpu_speed.py --sizes 128 1024 --repeat 5 --threads 1

Prints markdown (machine, versions, date, then two tables) to paste into benchmarks/GPU_RESULTS.md.
Every time is the median of --repeat runs after --warmup untimed ones, read only after the device
has finished its queued work (gdlab.torch.time_it synchronizes). Run it on a GPU machine to fill the
GPU columns; without a GPU they read "not yet measured".
"""
import argparse
import os
import platform
import time

import torch
from torch import nn

from gdlab.nn import make_mlp
from gdlab.torch import pick_device, time_it

NOT_MEASURED = "not yet measured"
FAILED = "fails"


def cpu_model():
    """The CPU's name, with its bfloat16 instructions if it has any (they decide the CPU bf16 column)."""
    try:
        with open("/proc/cpuinfo") as file:
            cpuinfo = dict(map(str.strip, line.split(":", 1)) for line in file if ":" in line)
    except OSError:
        return platform.processor() or platform.machine()
    name = cpuinfo.get("model name", platform.machine())
    bf16 = [flag for flag in cpuinfo.get("flags", "").split() if "bf16" in flag]
    return f"{name} (bfloat16 instructions: {', '.join(bf16) or 'none'})"


def gpu_model(device):
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        return f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    return "Apple GPU (MPS)" if device.type == "mps" else "none (torch.cuda.is_available() is False)"


def milliseconds(fn, *args, device, warmup, repeat):
    """Median time of fn(*args) in ms, or FAILED when the device cannot run it (bf16 on some GPUs)."""
    try:
        return time_it(fn, *args, device=device, warmup=warmup, repeat=repeat).median * 1e3
    except RuntimeError as error:
        print(f"<!-- {fn.__name__} failed on {device}: {str(error).splitlines()[0]} -->")
        return FAILED


def matmul_row(n, gpu, cpu_max, warmup, repeat):
    """Times of an n x n float32 matmul: CPU fp32 and bf16, GPU fp32, with copies, and bf16."""
    cpu = torch.device("cpu")
    torch.manual_seed(0)
    a, b = torch.randn(n, n), torch.randn(n, n)
    row = {}
    if n <= cpu_max:
        row["cpu"] = milliseconds(torch.matmul, a, b, device=cpu, warmup=warmup, repeat=repeat)
        row["cpu bf16"] = milliseconds(torch.matmul, a.bfloat16(), b.bfloat16(), device=cpu, warmup=warmup, repeat=repeat)
    if gpu is not None:
        a_gpu, b_gpu = a.to(gpu), b.to(gpu)

        def with_copies(a, b):
            return (a.to(gpu) @ b.to(gpu)).cpu()  # the data starts and ends in CPU memory

        row["gpu"] = milliseconds(torch.matmul, a_gpu, b_gpu, device=gpu, warmup=warmup, repeat=repeat)
        row["gpu copies"] = milliseconds(with_copies, a, b, device=gpu, warmup=warmup, repeat=repeat)
        row["gpu bf16"] = milliseconds(torch.matmul, a_gpu.bfloat16(), b_gpu.bfloat16(), device=gpu, warmup=warmup, repeat=repeat)
    return row


def training_step(device, batch, bf16=False):
    """One SGD step of a 784-1024-1024-10 ReLU MLP on a random batch (an MNIST-sized problem)."""
    torch.manual_seed(0)
    model = make_mlp([784, 1024, 1024, 10], activation="relu").to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    X, y = torch.randn(batch, 784, device=device), torch.randint(0, 10, (batch,), device=device)

    def step():
        optimizer.zero_grad()
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = nn.functional.cross_entropy(model(X), y)
        loss.backward()
        optimizer.step()

    return step


def fmt(ms, why_missing=NOT_MEASURED):
    if ms is None:
        return why_missing
    return ms if ms == FAILED else f"{ms:.3f}"


def speedup(slow, fast):
    if fast is None:
        return NOT_MEASURED
    return f"{slow / fast:.1f}x" if isinstance(slow, float) and isinstance(fast, float) else ""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512, 1024, 2048, 4096, 8192])
    parser.add_argument("--cpu-max", type=int, default=2048, help="largest n timed on the CPU")
    parser.add_argument("--batches", type=int, nargs="+", default=[64, 1024], help="training-step batch sizes")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gpu = pick_device()
    gpu = None if gpu.type == "cpu" else gpu
    cpu_missing = f"skipped (n > {args.cpu_max})"
    timing = {"warmup": args.warmup, "repeat": args.repeat}

    print(f"- date: {time.strftime('%Y-%m-%d')}")
    print(f"- CPU: {cpu_model()}, {os.cpu_count()} logical cores; torch threads: {torch.get_num_threads()}")
    if hasattr(os, "getloadavg"):
        print(f"- load average when started (other programs competing for the CPU): {os.getloadavg()[0]:.1f}")
    print(f"- GPU: {gpu_model(gpu or torch.device('cpu'))}")
    print(f"- torch {torch.__version__} (float32 matmul precision {torch.get_float32_matmul_precision()!r}), "
          f"Python {platform.python_version()}, {platform.system()}")
    print(f"- median of {args.repeat} runs after {args.warmup} warm-up runs, clock read after synchronize")
    print()
    print("Matrix multiply C = A @ B, A and B n x n (2 n^3 flops); times in ms")
    print()
    print("| n | GFLOP | CPU fp32 | CPU bf16 | GPU fp32 | GPU fp32, data copied from and back to CPU | GPU bf16 | GPU fp32 speed-up over CPU fp32 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        row = matmul_row(n, gpu, args.cpu_max, **timing)
        cells = [fmt(row.get("cpu"), cpu_missing), fmt(row.get("cpu bf16"), cpu_missing),
                 fmt(row.get("gpu")), fmt(row.get("gpu copies")), fmt(row.get("gpu bf16"))]
        print(f"| {n} | {2 * n**3 / 1e9:.3g} | {' | '.join(cells)} | {speedup(row.get('cpu'), row.get('gpu'))} |")
    print()
    print("One training step (forward, backward, SGD update) of a 784-1024-1024-10 ReLU MLP; times in ms")
    print()
    print("| batch | CPU fp32 | CPU bf16 autocast | GPU fp32 | GPU bf16 autocast | GPU fp32 speed-up over CPU fp32 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for batch in args.batches:
        cpu = torch.device("cpu")
        ms = {"cpu": milliseconds(training_step(cpu, batch), device=cpu, **timing),
              "cpu bf16": milliseconds(training_step(cpu, batch, bf16=True), device=cpu, **timing)}
        if gpu is not None:
            ms["gpu"] = milliseconds(training_step(gpu, batch), device=gpu, **timing)
            ms["gpu bf16"] = milliseconds(training_step(gpu, batch, bf16=True), device=gpu, **timing)
        cells = [fmt(ms.get(key)) for key in ("cpu", "cpu bf16", "gpu", "gpu bf16")]
        print(f"| {batch} | {' | '.join(cells)} | {speedup(ms.get('cpu'), ms.get('gpu'))} |")


if __name__ == "__main__":
    main()
