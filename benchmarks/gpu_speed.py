"""Matrix-multiply and training-step time by size and precision, on the CPU and on the GPU when there is one.

    python benchmarks/gpu_speed.py                       # sizes 64 ... 8192; the CPU stops at 2048
    python benchmarks/gpu_speed.py --sizes 128 1024 --repeat 5 --threads 1

Prints markdown (machine, versions, date, then two tables) for benchmarks/GPU_RESULTS.md (benchmarks/gpu_check.py
runs it on a GPU machine and writes the file). Every time is the median of --repeat runs after --warmup untimed
ones, read only after the device has finished its queued work (gdlab.torch.time_it synchronizes). The GPU columns:
float32 at PyTorch's default precision ("highest"), float32 as TF32 (set_float32_matmul_precision("high"), Ampere
and newer), float16 and bfloat16 inputs, and float32 with the data copied from CPU memory and back, pageable or
pinned. Without a GPU they read "not yet measured".
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
        bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
        return (f"{props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability {props.major}.{props.minor}, "
                f"CUDA {torch.version.cuda}, bfloat16 in hardware: {bf16}")
    return "Apple GPU (MPS)" if device.type == "mps" else "none (torch.accelerator.is_available() is False)"


def milliseconds(fn, *args, device, warmup, repeat):
    """Median time of fn(*args) in ms, or FAILED when the device cannot run it."""
    try:
        return time_it(fn, *args, device=device, warmup=warmup, repeat=repeat).median * 1e3
    except RuntimeError as error:
        print(f"<!-- {getattr(fn, '__name__', 'a step')} failed on {device}: {str(error).splitlines()[0]} -->")
        return FAILED


def tf32(fn):
    """fn with float32 matrix products allowed to run as TF32."""
    def with_tf32(*args):
        torch.set_float32_matmul_precision("high")
        try:
            return fn(*args)
        finally:
            torch.set_float32_matmul_precision("highest")

    return with_tf32


def matmul_row(n, gpu, cpu_max, warmup, repeat):
    """Times of an n x n product: CPU float32 and bfloat16; GPU float32, TF32, float16, bfloat16, with copies."""
    cpu = torch.device("cpu")
    timing = {"warmup": warmup, "repeat": repeat}
    torch.manual_seed(0)
    a, b = torch.randn(n, n), torch.randn(n, n)
    row = {}
    if n <= cpu_max:
        row["cpu"] = milliseconds(torch.matmul, a, b, device=cpu, **timing)
        row["cpu bf16"] = milliseconds(torch.matmul, a.bfloat16(), b.bfloat16(), device=cpu, **timing)
    if gpu is not None:
        a_gpu, b_gpu = a.to(gpu), b.to(gpu)
        a_pinned, b_pinned = (a.pin_memory(), b.pin_memory()) if gpu.type == "cuda" else (a, b)

        def with_copies(a, b):
            return (a.to(gpu) @ b.to(gpu)).cpu()  # the data starts and ends in CPU memory

        def with_pinned_copies(a, b):
            return (a.to(gpu, non_blocking=True) @ b.to(gpu, non_blocking=True)).cpu()

        row["gpu"] = milliseconds(torch.matmul, a_gpu, b_gpu, device=gpu, **timing)
        row["gpu tf32"] = milliseconds(tf32(torch.matmul), a_gpu, b_gpu, device=gpu, **timing)
        row["gpu fp16"] = milliseconds(torch.matmul, a_gpu.half(), b_gpu.half(), device=gpu, **timing)
        row["gpu bf16"] = milliseconds(torch.matmul, a_gpu.bfloat16(), b_gpu.bfloat16(), device=gpu, **timing)
        row["gpu copies"] = milliseconds(with_copies, a, b, device=gpu, **timing)
        row["gpu pinned"] = milliseconds(with_pinned_copies, a_pinned, b_pinned, device=gpu, **timing)
    return row


def training_step(device, batch, dtype=None):
    """One SGD step of a 784-1024-1024-10 ReLU MLP on a random batch (an MNIST-sized problem); dtype: the autocast
    format (None: float32), with a GradScaler for float16."""
    torch.manual_seed(0)
    model = make_mlp([784, 1024, 1024, 10], activation="relu").to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    X, y = torch.randn(batch, 784, device=device), torch.randint(0, 10, (batch,), device=device)

    def step():
        optimizer.zero_grad()
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            loss = nn.functional.cross_entropy(model(X), y)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()

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
    print(f"- torch {torch.__version__} (float32 matmul precision {torch.get_float32_matmul_precision()!r} except in "
          f"the TF32 column), Python {platform.python_version()}, {platform.system()}")
    print(f"- median of {args.repeat} runs after {args.warmup} warm-up runs, clock read after synchronize")
    print()
    print("Matrix multiply C = A @ B, A and B n x n (2 n^3 flops); times in ms")
    print()
    print("| n | GFLOP | CPU fp32 | CPU bf16 | GPU fp32 | GPU TF32 | GPU fp16 | GPU bf16 | GPU fp32, data from and "
          "back to CPU memory | same, pinned memory | GPU fp32 speed-up over CPU fp32 |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n in args.sizes:
        row = matmul_row(n, gpu, args.cpu_max, **timing)
        cells = [fmt(row.get("cpu"), cpu_missing), fmt(row.get("cpu bf16"), cpu_missing)]
        cells += [fmt(row.get(key)) for key in ("gpu", "gpu tf32", "gpu fp16", "gpu bf16", "gpu copies", "gpu pinned")]
        print(f"| {n} | {2 * n**3 / 1e9:.3g} | {' | '.join(cells)} | {speedup(row.get('cpu'), row.get('gpu'))} |")
    print()
    print("One training step (forward, backward, SGD update) of a 784-1024-1024-10 ReLU MLP; times in ms")
    print()
    print("| batch | CPU fp32 | CPU bf16 autocast | GPU fp32 | GPU fp16 autocast + GradScaler | GPU bf16 autocast | "
          "GPU fp32 speed-up over CPU fp32 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    cpu = torch.device("cpu")
    for batch in args.batches:
        ms = {"cpu": milliseconds(training_step(cpu, batch), device=cpu, **timing),
              "cpu bf16": milliseconds(training_step(cpu, batch, torch.bfloat16), device=cpu, **timing)}
        if gpu is not None:
            ms["gpu"] = milliseconds(training_step(gpu, batch), device=gpu, **timing)
            ms["gpu fp16"] = milliseconds(training_step(gpu, batch, torch.float16), device=gpu, **timing)
            ms["gpu bf16"] = milliseconds(training_step(gpu, batch, torch.bfloat16), device=gpu, **timing)
        cells = [fmt(ms.get(key)) for key in ("cpu", "cpu bf16", "gpu", "gpu fp16", "gpu bf16")]
        print(f"| {batch} | {' | '.join(cells)} | {speedup(ms.get('cpu'), ms.get('gpu'))} |")


if __name__ == "__main__":
    main()
