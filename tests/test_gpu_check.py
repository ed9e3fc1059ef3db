"""benchmarks/gpu_check.py (the one-command GPU check) and what chapter 11 says about its results."""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = importlib.util.spec_from_file_location("gpu_check", ROOT / "benchmarks" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(gpu_check)

RESULTS = f"""# Speed

Intro.

{gpu_check.NOT_MEASURED} No figure here comes from elsewhere.

To measure: python benchmarks/gpu_check.py --out gpu_run

{gpu_check.RUNS_HEADING}

### Run of 2026-11-23: CPU only

old figures
"""


def test_a_gpu_run_goes_first_and_ends_not_yet_measured():
    text = gpu_check.with_run(RESULTS, "### Run of 2027-01-02 on 1 x NVIDIA H200\n\nnew figures\n", on_gpu=True)
    assert gpu_check.NOT_MEASURED not in text and "To measure: python benchmarks/gpu_check.py" in text
    assert text.index("### Run of 2027-01-02") < text.index("### Run of 2026-11-23")
    assert text.count(gpu_check.RUNS_HEADING) == 1 and "old figures" in text


def test_a_run_without_a_gpu_leaves_not_yet_measured():
    text = gpu_check.with_run(RESULTS, "### Run of 2027-01-02 on the CPU (dry run: no GPU)\n", on_gpu=False)
    assert gpu_check.NOT_MEASURED in text and "### Run of 2027-01-02" in text


def test_the_results_file_has_a_place_for_runs():
    assert gpu_check.RUNS_HEADING in gpu_check.RESULTS.read_text(encoding="utf-8")


def test_chapter_11_says_what_the_results_file_holds():
    """Section 6 of chapter 11 says 'Not yet measured on a GPU' exactly as long as GPU_RESULTS.md does."""
    cells = json.loads(gpu_check.CHAPTER_11.read_text(encoding="utf-8"))["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    measured = gpu_check.NOT_MEASURED not in gpu_check.RESULTS.read_text(encoding="utf-8")
    assert ("Not yet measured on a GPU" in text) != measured, (
        "benchmarks/GPU_RESULTS.md and chapter 11's section 6 disagree on whether the course was measured on a GPU")


def test_without_a_gpu_the_check_refuses_unless_dry_run(tmp_path):
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py"), "--out", str(tmp_path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode != 0 and "no CUDA GPU here" in run.stderr and "--dry-run" in run.stderr


def test_out_is_required(tmp_path):
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gpu_check.py")], capture_output=True, text=True,
                         check=False, cwd=tmp_path)
    assert run.returncode == 2 and "--out DIR is required" in run.stderr
