"""How long each notebook takes to run top to bottom, and the memory its kernel needs.

    python benchmarks/notebooks.py [notebooks/NN_name.ipynb ...]     (default: every chapter)
    python benchmarks/notebooks.py --all                              (chapters, exercises and solutions)

Each notebook runs in a fresh kernel (as `make test` does), one at a time, outputs discarded.
Target: no notebook over 30 s on 2 cores.
Peak memory is the largest resident set of the kernel or of any process it started and waited for
(chapter 12's workers). docs/instructor.md quotes these figures.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 30

# Runs in a child process, so that RUSAGE_CHILDREN covers this notebook's kernel only.
RUN_ONE = """
import json, resource, sys, time
import nbformat
from nbclient import NotebookClient
notebook = nbformat.read(sys.argv[1], as_version=4)
start = time.perf_counter()
NotebookClient(notebook, kernel_name="python3", timeout=600, resources={"metadata": {"path": sys.argv[2]}}).execute()
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def measure(path):
    environment = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # the kernel's own inline backend
    result = subprocess.run([sys.executable, "-c", RUN_ONE, str(path), str(path.parent)],
                            capture_output=True, text=True, check=True, env=environment)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(paths):
    import torch

    print(f"# notebook run times: {platform.processor() or platform.machine()}, {_cpus()} CPUs, "
          f"Python {platform.python_version()}, torch {torch.__version__}, {time.strftime('%Y-%m-%d')}")
    print(f"{'notebook':<54} {'seconds':>8} {'peak MiB':>9}")
    seconds = {}
    for path in paths:
        figures = measure(path)
        seconds[path] = figures["seconds"]
        print(f"{path.relative_to(ROOT).as_posix():<54} {figures['seconds']:>8.1f} {figures['peak_mib']:>9.0f}")
    print(f"{'total':<54} {sum(seconds.values()):>8.1f}")
    slowest = max(seconds, key=seconds.get)
    verdict = "met" if seconds[slowest] <= TARGET_SECONDS else "NOT met"
    print(f"slowest: {slowest.relative_to(ROOT).as_posix()} {seconds[slowest]:.1f} s "
          f"(target <= {TARGET_SECONDS} s per notebook): {verdict}")


def _cpus():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="How long each notebook takes to run, and its peak memory.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter")
    parser.add_argument("--all", action="store_true", help="chapters, exercises and solutions")
    args = parser.parse_args()
    folders = ["notebooks", "exercises", "solutions"] if args.all else ["notebooks"]
    main([p.resolve() for p in args.notebooks]
         or [nb for folder in folders for nb in sorted((ROOT / folder).glob("*.ipynb"))])
