"""Collection rule for `pytest --nbval ... notebooks exercises solutions`: where PyTorch is not installed (the
other-Python runs of `make test-pythons`), the notebooks that need it are left out, and the summary says which."""
import importlib.util
import json
import re
from pathlib import Path

HAS_TORCH = importlib.util.find_spec("torch") is not None
NEEDS_TORCH = re.compile(r"^(import torch\b|from torch\b|(from|import) gdlab\.(torch|nn)\b"
                         r"|from gdlab import .*\b(torch|nn)\b)", re.M)


def needs_torch(notebook):
    cells = json.loads(Path(notebook).read_text(encoding="utf-8"))["cells"]
    return any(NEEDS_TORCH.search("".join(cell["source"])) for cell in cells if cell["cell_type"] == "code")


def pytest_ignore_collect(collection_path):
    if collection_path.suffix == ".ipynb" and not HAS_TORCH and needs_torch(collection_path):
        return True
    return None


def pytest_terminal_summary(terminalreporter, config):
    if HAS_TORCH or not config.getoption("nbval", default=False):
        return
    paths = [Path(arg) for arg in config.args]
    notebooks = [nb for p in paths for nb in ([p] if p.suffix == ".ipynb" else sorted(p.rglob("*.ipynb")))]
    left_out = [str(nb) for nb in notebooks if ".ipynb_checkpoints" not in nb.parts and needs_torch(nb)]
    if left_out:
        terminalreporter.write_line(f"PyTorch is not installed: left out {len(left_out)} notebooks that need it: "
                                    + ", ".join(left_out))
