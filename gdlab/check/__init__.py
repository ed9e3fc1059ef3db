"""Friendly checks for the exercises: each check prints one line, PASS, FAIL or TODO, then a short hint.

In an exercise notebook, after the learner's function:

    from gdlab import check
    check.ch01.task1(derivative)    # prints "PASS Task 1 · ...: ..." and returns a Result (.status)

TODO means the task still raises NotImplementedError; FAIL names what is wrong (a known mistake
such as a wrong sign or an off-by-one, a wrong shape, or the exception the learner's code raised);
the learner never sees a traceback from inside gdlab.

Adding the checks of another chapter: in gdlab/check/chapterNN.py, write a subclass of Chapter named chNN whose methods task1,
task2, ... each take the learner's function(s). The first docstring line is the task's title. A
method runs learner code only through `call`, compares with `close` (or `fail`s with a hint), and
returns the PASS message:

    class ch99(Chapter):
        "99 · An example."

        def task1(mean_and_spread):
            "the mean and the standard deviation"
            x = np.array([1.0, 2.0, 6.0])
            mean, std = parts(call(mean_and_spread, x), ("mean", "std"), "mean_and_spread(x)")
            close(mean, 3.0, "the mean", {"that is the median": 2.0})
            close(std, np.std(x), "the standard deviation", {"that is the variance": np.var(x)})
            return "mean 3 and standard deviation 2.16."

torch checks import torch inside the method; close() accepts tensors.
"""
import importlib
import re

from gdlab.check.core import Chapter, Result, _Fail, call, close, fail, number, parts, run

__all__ = ["Result", "Chapter", "run", "call", "close", "number", "parts", "fail"]


def __getattr__(name):
    """check.ch01 is the class ch01 of gdlab/check/chapter01.py, imported on first use."""
    if re.fullmatch(r"ch\d\d", name):
        try:
            module = importlib.import_module(f"gdlab.check.chapter{name[2:]}")
        except ModuleNotFoundError:
            raise AttributeError(f"there are no checks for chapter {name[2:]} (no gdlab/check/chapter{name[2:]}.py)") from None
        return getattr(module, name)
    raise AttributeError(f"module 'gdlab.check' has no attribute {name!r}")
