"""The package: `import gdlab` stays light, submodules load on first use, a star import shadows nothing."""
import importlib.util
import subprocess
import sys

import pytest

import gdlab


def run(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()


def test_import_gdlab_is_light():
    heavy = "('matplotlib', 'torch', 'ipywidgets', 'scipy')"
    assert run(f"import sys, gdlab; print(sorted(m for m in {heavy} if m in sys.modules))") == "[]"


def test_star_import_is_light_and_does_not_shadow_torch():
    code = ("import sys; from gdlab import *; "
            "print(sorted(m for m in ('matplotlib', 'torch', 'ipywidgets') if m in sys.modules), 'torch' in dir())")
    assert run(code) == "[] False"
    assert "torch" not in gdlab.__all__ and "optim" in gdlab.__all__


def test_submodules_load_on_first_use():
    assert run("import sys, gdlab; gdlab.plots; print('matplotlib' in sys.modules, gdlab.plots.__name__)") == \
        "True gdlab.plots"
    if importlib.util.find_spec("torch") is not None:  # gdlab.torch needs PyTorch itself
        assert run("import gdlab; from gdlab import torch; print(torch.__name__)") == "gdlab.torch"
    with pytest.raises(AttributeError, match="module 'gdlab' has no attribute 'no_such_module'"):
        gdlab.no_such_module  # noqa: B018 (the attribute access is the test)
