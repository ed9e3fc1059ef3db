"""Friendly checks for the exercises: each check prints one line, PASS, FAIL or TODO, then a short hint.

In an exercise notebook, after the learner's function:

    from gdlab import check
    check.ch01.task1(derivative)    # prints "PASS Task 1 · ...: ..." and returns a Result (.status)

TODO means the task still raises NotImplementedError; FAIL names what is wrong (a known mistake
such as a wrong sign or an off-by-one, a wrong shape, or the exception the learner's code raised);
the learner never sees a traceback from inside gdlab.

Adding the checks of another chapter: in gdlab/check/chapterNN.py, write a subclass of Chapter named
chNN whose methods task1, task2, ... each take the learner's function(s). The first docstring line is
the task's title. A method runs learner code only through `call`, compares with `close` (or `fail`s
with a hint), and returns the PASS message:

    class ch99(Chapter):
        "99 · An example."

        def task1(mean_and_spread):
            "the mean and the standard deviation"
            x = np.array([1.0, 2.0, 6.0])
            mean, std = parts(call(mean_and_spread, x), ("mean", "std"), "mean_and_spread(x)")
            close(mean, 3.0, "the mean", {"that is the median": 2.0})
            close(std, np.std(x), "the standard deviation", {"that is the variance": np.var(x)})
            return "mean 3 and standard deviation 2.16."

The helpers, all importable from gdlab.check (or gdlab.check.core):

    call(fn, *args)            run learner code: NotImplementedError -> TODO, any other exception -> FAIL naming it
    close(actual, expected, name, mistakes={hint: wrong value})
                               FAIL unless equal; a known wrong answer (or a wrong sign, a factor of 2) is named
    number(value, name)        one float, or FAIL saying why not
    parts(value, names, name)  the learner's tuple, or FAIL naming the values to return
    fail(message)              FAIL with a hint; it raises Failed, which a check may catch to try another reading
    hint_on(failure, hints)    re-raise a caught Failed from `call` with the hint of a known error message in it
    as_array(value, name)      a float array (tensors accepted), or FAIL ("did you forget `return`?")
    near(a, b)                 same shape and close, without failing
    show(a)                    a short text of a number or an array, for a hint
    run(task, test, *args)     print one PASS / FAIL / TODO line and return the Result (Chapter does this for you)

torch checks import torch inside the method; close() accepts tensors. Each chapter's planted mistakes are
tested in tests/test_check_chNN.py with the helpers of tests/conftest.py.
"""
import importlib
import re

from gdlab.check.core import (
    Chapter,
    Failed,
    NotDone,
    Result,
    as_array,
    call,
    close,
    fail,
    hint_on,
    near,
    number,
    parts,
    run,
    show,
)

__all__ = ["Result", "Chapter", "run", "call", "close", "number", "parts", "fail", "hint_on",
           "as_array", "near", "show", "Failed", "NotDone"]


def __getattr__(name):
    """check.ch01 is the class ch01 of gdlab/check/chapter01.py, imported on first use."""
    if re.fullmatch(r"ch\d\d", name):
        try:
            module = importlib.import_module(f"gdlab.check.chapter{name[2:]}")
        except ModuleNotFoundError:
            raise AttributeError(f"there are no checks for chapter {name[2:]} "
                                 f"(no gdlab/check/chapter{name[2:]}.py)") from None
        return getattr(module, name)
    raise AttributeError(f"module 'gdlab.check' has no attribute {name!r}")
