"""Chapters 11 and 12 on a GPU, and the speed table, in one command; the results go into benchmarks/GPU_RESULTS.md.

On a machine with an NVIDIA GPU, from the repository root (about 4 minutes with one GPU):

    python benchmarks/gpu_check.py --out DIR

1. executes notebooks/11_pytorch_on_gpu.ipynb on the GPU with nbconvert (the executed copy: DIR/11_on_gpu.ipynb)
   and keeps the text of its device-dependent cells (timings, the queue, CUDA events, the crossover);
2. runs chapter 12's script, python -m gdlab.ddp_train, with torchrun: on 1 GPU and on every GPU (nccl, float32),
   on 1, 2, 4 and 8 CPU processes (gloo, float64, as many as there are cores), and the small network on 1 and 2
   CPU processes: the training times, data-parallel speed-ups measured on an idle machine; and the weights of the
   GPU run against the CPU run;
3. runs benchmarks/gpu_speed.py (products in float32, TF32, float16, bfloat16, with copies; training steps);
then writes a dated section naming the device at the top of benchmarks/GPU_RESULTS.md's runs, and a copy of the
file and the log to DIR. Each step has a time limit and a failure is recorded, not fatal.

Needs torch with CUDA, numpy, matplotlib and tqdm, and nbconvert with ipykernel for step 1. A GPU machine that
cannot reach PyPI gets the Jupyter packages as wheels fetched on a machine that can (for its Python version):

    python benchmarks/gpu_check.py --fetch-wheels .whl --python-version 3.12     # where pip reaches PyPI
    python benchmarks/gpu_check.py --wheels .whl --out DIR                        # on the GPU machine

--dry-run runs every step on the CPU with small sizes and writes only to DIR: a test of this script without a GPU.
"""
import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "GPU_RESULTS.md"
CHAPTER_11 = ROOT / "notebooks" / "11_pytorch_on_gpu.ipynb"
NOT_MEASURED = "**GPU: not yet measured.**"
RUNS_HEADING = "## Runs, newest first"
SMALL = ["--sizes", "2", "32", "32", "1", "--examples", "512", "--batch-size", "64", "--epochs", "60"]
JUPYTER = ["nbconvert", "ipykernel"]  # and their dependencies, fetched with them


def log(message, logfile):
    print(message, flush=True)
    with open(logfile, "a", encoding="utf-8") as file:
        file.write(message + "\n")


def run(command, timeout, env, logfile, cwd=ROOT):
    """Run a command; return (ok, output, seconds). A failure or a timeout is logged and returned, never raised."""
    log(f"$ {' '.join(command)}", logfile)
    start = time.perf_counter()
    try:
        done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        ok, output = done.returncode == 0, done.stdout + done.stderr
    except subprocess.TimeoutExpired as timeout_error:
        ok, output = False, f"{timeout_error.stdout or ''}{timeout_error.stderr or ''}\nstopped after {timeout} s"
    seconds = time.perf_counter() - start
    log(output.rstrip() + f"\n({'ok' if ok else 'FAILED'}, {seconds:.1f} s)", logfile)
    return ok, output, seconds


def fenced(text):
    return "```text\n" + text.strip() + "\n```"


def failure(output):
    return "**Failed.** The end of its output:\n\n" + fenced("\n".join(output.strip().splitlines()[-15:]))


def chapter_11(out, env, logfile, timeout):
    """Execute chapter 11; its device-dependent outputs (the cells the tests do not compare) as markdown."""
    executed = out / "11_on_gpu.ipynb"
    ok, output, seconds = run([sys.executable, "-m", "nbconvert", "--to", "notebook", "--execute",
                               f"--ExecutePreprocessor.timeout={timeout}", "--output-dir", str(out),
                               "--output", executed.stem, str(CHAPTER_11)], timeout + 60, env, logfile)
    if not ok:
        return failure(output)
    cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    parts = [f"`jupyter nbconvert --execute notebooks/11_pytorch_on_gpu.ipynb`: ran in {seconds:.0f} s. The outputs of "
             "its device-dependent cells:"]
    for index, cell in enumerate(cells):
        if "nbval-ignore-output" not in cell.get("metadata", {}).get("tags", []):
            continue
        text = "".join("".join(o.get("text", "")) for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        first_line = "".join(cell["source"]).splitlines()[0]
        parts.append(f"Cell {index} (`{first_line}`):\n\n{fenced(text or '(no text output)')}")
    return "\n\n".join(parts + [mixing_error()])


def mixing_error():
    """The error PyTorch gives for an operation on tensors of two devices (chapter 11 shows it with 'meta')."""
    import torch

    if not torch.cuda.is_available():
        return "No GPU: the device-mixing error was not measured."
    try:
        torch.ones(3, device="cuda") + torch.ones(3)
    except RuntimeError as error:
        return "Mixing devices in one operation, on this GPU:\n\n" + fenced(f"RuntimeError: {error}")
    return "Mixing devices in one operation raised no error on this GPU."


def checkpoint_summary(path):
    import numpy as np
    import torch

    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    training = checkpoint["seconds"]["training"]
    return checkpoint, (f"last-epoch mean loss {np.mean(checkpoint['losses'][-8:]):.4f}, training {training:.2f} s "
                        f"({training / len(checkpoint['losses']) * 1e3:.2f} ms per step), start-up "
                        f"{sum(checkpoint['seconds'].values()) - checkpoint['seconds']['training']:.1f} s")


def chapter_12(logfile, gpus, dry_run, scratch):
    """Chapter 12's script: training times on 1 and on every GPU (nccl) and on 1 to 8 CPU processes (gloo), the
    small network's on 1 and 2 CPU processes, and the weights of the GPUs against those of the CPU."""
    from gdlab import ddp_train

    def launch(name, nproc, args):
        path = scratch / f"{name}.pt"
        command = ["--standalone", f"--nproc_per_node={nproc}"]
        log(f"$ torchrun {' '.join(command)} -m gdlab.ddp_train {' '.join(args)} --out {path}", logfile)
        try:
            text = ddp_train.finish(ddp_train.launch(command, [*args, "--out", str(path)]))
        except RuntimeError as error:
            log(str(error), logfile)
            return None, failure(str(error))
        log(text, logfile)
        return checkpoint_summary(path)

    cores = os.cpu_count() or 1
    runs = [] if dry_run else [(k, "GPU", "2-256-256-1", ["--dtype", "float32"]) for k in sorted({1, gpus})]
    runs += [(k, "CPU", "2-256-256-1", ["--device", "cpu"]) for k in (1, 2, 4, 8) if k <= max(cores, 2)]
    runs += [(k, "CPU", "2-32-32-1", ["--device", "cpu", *SMALL]) for k in (1, 2)]
    if dry_run:
        runs = [run for run in runs if run[0] <= 2]
    rows, results = [], {}
    for nproc, where, network, args in runs:
        results[nproc, where, network], text = launch(f"{network}_{where}_{nproc}", nproc, args)
        dtype = "float32" if where == "GPU" else "float64"
        rows.append(f"| {network} | {nproc} process(es), {where}, {dtype} | {text} |")
    table = "| network | processes | result |\n|---|---|---|\n" + "\n".join(rows)
    parts = ["`python -m torch.distributed.run --standalone --nproc_per_node=N -m gdlab.ddp_train ...` (chapter 12's "
             "script: 6 epochs of 8 steps of 512 examples for the 2-256-256-1 network, its default; 60 epochs of 64 "
             "examples for 2-32-32-1). Training times are rank 0's; on the CPU each process has one thread.", table]
    gpu_run, cpu_run = results.get((gpus, "GPU", "2-256-256-1")), results.get((2, "CPU", "2-256-256-1"))
    if gpu_run is not None and cpu_run is not None:
        gap = max((gpu_run["model"][name].double() - w).abs().max().item() for name, w in cpu_run["model"].items())
        parts.append(f"Largest |difference| between the weights of {gpus} GPU(s) in float32 and 2 CPU processes in "
                     f"float64: {gap:.1e}.")
    return "\n\n".join(parts)


def speed(env, logfile, dry_run):
    command = [sys.executable, "benchmarks/gpu_speed.py"]
    if dry_run:
        command += ["--sizes", "64", "256", "--batches", "32", "--repeat", "2", "--warmup", "1"]
    ok, output, _ = run(command, 360, env, logfile)
    if not ok:
        return failure(output)
    return "`" + " ".join(command[1:]) + "`:\n\n" + "\n".join(line for line in output.splitlines()
                                                              if not line.startswith(("Using ", "No GPU found")))


def device_lines(gpus):
    import torch

    lines = [f"- date: {time.strftime('%Y-%m-%d')}",
             f"- torch {torch.__version__}, CUDA {torch.version.cuda}, Python {platform.python_version()}, "
             f"{platform.system()}; {os.cpu_count()} CPU cores"]
    for index in range(gpus):
        props = torch.cuda.get_device_properties(index)
        lines.append(f"- GPU {index}: {props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability "
                     f"{props.major}.{props.minor}")
    smi = shutil.which("nvidia-smi")
    if smi:
        driver = subprocess.run([smi, "--query-gpu=driver_version", "--format=csv,noheader"], capture_output=True,
                                text=True, check=False).stdout.strip().splitlines()
        if driver:
            lines.append(f"- NVIDIA driver {driver[0]}")
    return lines


def with_run(results_text, run_text, on_gpu):
    """GPU_RESULTS.md with `run_text` as its newest run; a run on a GPU removes the 'not yet measured' line."""
    if RUNS_HEADING not in results_text:
        raise SystemExit(f"{RESULTS} has no line {RUNS_HEADING!r}: the new run has no place to go")
    head, runs = results_text.split(RUNS_HEADING, 1)
    if on_gpu:
        head = "".join(line for line in head.splitlines(keepends=True) if not line.startswith(NOT_MEASURED))
    return head + RUNS_HEADING + "\n\n" + run_text.strip() + "\n" + runs


def fetch_wheels(folder, python_version):
    """Download the Jupyter packages (nbconvert, ipykernel and what they need) as wheels for another machine."""
    constraints = Path(tempfile.mkdtemp()) / "constraints.txt"
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines()
    constraints.write_text("\n".join(line for line in lock if line and not line.startswith(("#", "torch=="))) + "\n")
    platforms = [f"--platform={p}" for p in ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
                                             "manylinux2014_x86_64", "manylinux1_x86_64")]
    subprocess.run([sys.executable, "-m", "pip", "download", "--only-binary=:all:", "--implementation=cp",
                    f"--python-version={python_version}", *platforms, "-c", str(constraints), "-d", str(folder),
                    *JUPYTER], check=True)
    print(f"wheels for Python {python_version} in {folder}; on the GPU machine: "
          f"python benchmarks/gpu_check.py --wheels {folder} --out DIR")


def install_wheels(folder, site):
    """Install the wheels of packages this Python lacks into `site`; those it has are left alone (no shadowing)."""
    from importlib.metadata import PackageNotFoundError, version

    def installed(wheel):
        try:
            return bool(version(wheel.name.split("-")[0]))
        except PackageNotFoundError:
            return False

    missing = [str(wheel) for wheel in sorted(Path(folder).glob("*.whl")) if not installed(wheel)]
    if missing:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--no-compile",
                        "--target", str(site), *missing], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="where the executed chapter, the log and a copy of the results go")
    parser.add_argument("--dry-run", action="store_true", help="on the CPU, small sizes, GPU_RESULTS.md untouched")
    parser.add_argument("--wheels", type=Path, help="a folder of wheels to install first (see --fetch-wheels)")
    parser.add_argument("--fetch-wheels", type=Path, help="download the Jupyter wheels into this folder, and stop")
    parser.add_argument("--python-version", default="3.12", help="for --fetch-wheels: the GPU machine's Python")
    args = parser.parse_args()
    if args.fetch_wheels:
        fetch_wheels(args.fetch_wheels, args.python_version)
        return
    if args.out is None:
        parser.error("--out DIR is required: the executed chapter and the log go there")
    sys.path.insert(0, str(ROOT))
    import torch

    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus == 0 and not args.dry_run:
        raise SystemExit("no CUDA GPU here (torch.cuda.is_available() is False): run this on a GPU machine, or "
                         "pass --dry-run to test the script on the CPU")
    args.out.mkdir(parents=True, exist_ok=True)
    logfile = args.out / "gpu_check.log"
    logfile.write_text("", encoding="utf-8")
    scratch = Path(tempfile.mkdtemp(prefix="gpu_check_"))
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    python_path = [str(ROOT)]
    if args.wheels:
        install_wheels(args.wheels, scratch / "site")
        python_path.insert(0, str(scratch / "site"))
        sys.path.insert(0, str(scratch / "site"))
    env["PYTHONPATH"] = os.pathsep.join(python_path + [p for p in [env.get("PYTHONPATH")] if p])
    os.environ["PYTHONPATH"] = env["PYTHONPATH"]  # for the torchrun processes of step 2

    start = time.perf_counter()
    name = "the CPU (dry run: no GPU)" if gpus == 0 else f"{gpus} x {torch.cuda.get_device_name(0)}"
    sections = [f"### Run of {time.strftime('%Y-%m-%d')} on {name}",
                "`python benchmarks/gpu_check.py" + (" --dry-run`" if args.dry_run else "`"),
                "\n".join(device_lines(gpus)),
                "#### Chapter 11, executed on this machine", chapter_11(args.out, env, logfile, 240),
                "#### Chapter 12's training script", chapter_12(logfile, gpus, args.dry_run, scratch),
                "#### benchmarks/gpu_speed.py", speed(env, logfile, args.dry_run)]
    run_text = "\n\n".join(sections) + f"\n\n(The whole check took {time.perf_counter() - start:.0f} s.)\n"
    results = with_run(RESULTS.read_text(encoding="utf-8"), run_text, on_gpu=gpus > 0)
    if not args.dry_run:
        RESULTS.write_text(results, encoding="utf-8")
    (args.out / "GPU_RESULTS.md").write_text(results, encoding="utf-8")
    shutil.rmtree(scratch, ignore_errors=True)
    log(f"results: {args.out / 'GPU_RESULTS.md'}" + ("" if args.dry_run else f" and {RESULTS}"), logfile)
    failed = len(re.findall(r"\*\*Failed\.\*\*", run_text))
    if failed:
        log(f"{failed} step(s) failed: see the log", logfile)
        sys.exit(1)


if __name__ == "__main__":
    main()
