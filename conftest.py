"""Collection rule for `pytest --nbval ... notebooks exercises solutions`: where PyTorch is not installed (the
other-Python runs of `make test-pythons`), the notebooks that need it are left out, and the header says which."""
import importlib.util
import json
import re

HAS_TORCH = importlib.util.find_spec("torch") is not None
NEEDS_TORCH = re.compile(r"^(import torch\b|from torch\b|(from|import) gdlab\.(torch|nn)\b|from gdlab import .*\b(torch|nn)\b)", re.M)
left_out = []


def needs_torch(notebook):
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return any(NEEDS_TORCH.search("".join(cell["source"])) for cell in cells if cell["cell_type"] == "code")


def pytest_ignore_collect(collection_path, config):
    if collection_path.suffix == ".ipynb" and not HAS_TORCH and needs_torch(collection_path):
        left_out.append(collection_path.name)
        return True
    return None


def pytest_terminal_summary(terminalreporter):
    if left_out:
        names = ", ".join(sorted(set(left_out)))
        terminalreporter.write_line(f"PyTorch is not installed: left out {len(set(left_out))} notebooks that need it ({names})")
