"""gdlab: the helper package of the gradient descent course.

`import gdlab` loads only NumPy. The modules that need matplotlib, ipywidgets
or torch (plots, widgets, torch) load on first use: `gdlab.plots.contour(...)`.
"""
import importlib

from gdlab import descent, functions, gradients

__version__ = "0.1.0"
__all__ = ["descent", "functions", "gradients", "plots"]

_LAZY = {"plots"}


def __getattr__(name):
    if name in _LAZY:
        return importlib.import_module(f"gdlab.{name}")
    raise AttributeError(f"module 'gdlab' has no attribute {name!r}")
