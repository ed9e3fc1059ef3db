"""gdlab: the helper package of the gradient descent course.

`import gdlab` loads only NumPy. Every other submodule loads on first use
(`gdlab.plots.contour(...)` imports matplotlib then), so the heavy ones,
plots and widgets (matplotlib, ipywidgets) and torch, cost nothing until needed.
`from gdlab import *` brings only the NumPy-only submodules; it binds no name `torch`
that would hide PyTorch.
"""
import importlib

from gdlab import descent, functions, gradients

__version__ = "0.1.0"
__all__ = ["check", "data", "descent", "functions", "gradients", "metrics", "models", "optim"]
_HEAVY = ["nn", "plots", "torch", "widgets"]  # import them by name: from gdlab import plots


def __getattr__(name):
    if name in __all__ or name in _HEAVY:
        return importlib.import_module(f"gdlab.{name}")
    raise AttributeError(f"module 'gdlab' has no attribute {name!r}")
