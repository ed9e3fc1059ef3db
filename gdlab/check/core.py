"""The machinery of the exercise checks: Result, Chapter and the helpers a check is written with."""
import functools
import re
from dataclasses import dataclass
from typing import NoReturn

import numpy as np

__all__ = ["Result", "Chapter", "run", "call", "close", "number", "parts", "fail",
           "as_array", "near", "show", "Failed", "NotDone"]


@dataclass(frozen=True)
class Result:
    """The outcome of one check: status is "PASS", "FAIL" or "TODO"."""

    status: str
    task: str
    message: str

    @property
    def passed(self):
        return self.status == "PASS"

    def __str__(self):
        return f"{self.status} {self.task}: {self.message}"

    def _ipython_display_(self):
        """The line was printed already; show nothing more when a cell ends with a check."""


class Failed(Exception):
    """Raised by fail(): the check reports FAIL with this message. Catch it to try another reading of an answer."""


class NotDone(Exception):
    """Raised when the learner's code raises NotImplementedError: the check reports TODO."""


def fail(message) -> NoReturn:
    """Stop the check and report FAIL with `message` (one line, kind, precise)."""
    raise Failed(message)


def hint_on(failure, hints):
    """Re-raise `failure` (a Failed naming an exception, as `call` raises it) with the hint of the first known
    message in it: hint_on(failure, {"does not require grad": "call .requires_grad_() first"})."""
    for message, hint in hints.items():
        if message in str(failure):
            fail(f"{failure} → {hint}.")
    raise failure


def run(task, test, *args, **kwargs):
    """Run `test(*args, **kwargs)`, print its one-line Result and return it.

    `test` returns the PASS message; fail() gives FAIL; NotImplementedError anywhere gives TODO.
    """
    try:
        status, message = "PASS", test(*args, **kwargs)
    except (NotDone, NotImplementedError) as todo:
        status, message = "TODO", _not_done(task, str(todo))
    except Failed as failure:
        status, message = "FAIL", str(failure)
    except Exception as error:  # a return value the check could not even use
        status, message = "FAIL", f"your answer made the check fail with {_describe(error)}"
    result = Result(status, task, " ".join(message.split()))
    print(result)
    return result


def call(fn, *args, **kwargs):
    """Call the learner's `fn`: NotImplementedError becomes TODO, any other exception a FAIL naming it."""
    try:
        with np.errstate(all="ignore"):  # divergence is reported by the check, not by warnings
            result = fn(*args, **kwargs)
    except NotImplementedError as error:
        raise NotDone(str(error)) from None
    except Exception as error:
        raise Failed(f"{getattr(fn, '__name__', 'your function')} raised {_describe(error)}") from None
    return result


def close(actual, expected, name, mistakes=None, rtol=1e-6, atol=1e-9):
    """FAIL unless `actual` is `expected`; when it matches a known wrong answer, say which.

    mistakes: {hint: wrong value}, looked at before the generic ones (wrong sign, factor of 2).
    Returns `actual` as an array.
    """
    actual = as_array(actual, name)
    expected = np.asarray(expected, dtype=float)
    if actual.shape == expected.shape and np.all(np.isfinite(actual)) and near(actual, expected, rtol, atol):
        return actual
    generic = {"wrong sign: you have minus the right answer": -expected,
               "off by a factor of 2 (twice the right answer)": 2 * expected,
               "off by a factor of 2 (half the right answer)": expected / 2}
    for hint, value in {**(mistakes or {}), **generic}.items():
        wrong = np.asarray(value, dtype=float)
        if wrong.shape == actual.shape and near(actual, wrong, rtol, atol):
            fail(f"{name}: {hint}.")
    if actual.shape != expected.shape:
        fail(f"{name} has shape {actual.shape}, expected {expected.shape}{_shape_hint(actual, expected)}.")
    if not np.all(np.isfinite(actual)):
        fail(f"{name} contains NaN or inf: {show(actual)}.")
    scale = max(np.linalg.norm(actual), np.linalg.norm(expected))
    fail(f"{name} is {show(actual)}, expected {show(expected)} "
         f"(relative error {np.linalg.norm(actual - expected) / scale:.2g}).")


def number(value, name):
    """The learner's answer as a float, or FAIL saying why it is not one number."""
    value = as_array(value, name)
    if value.shape != ():
        fail(f"{name} should be one number, got an array of shape {value.shape}.")
    return float(value)


def parts(value, names, name):
    """The learner's tuple, or FAIL saying which values to return."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = (f"{len(value)} values" if isinstance(value, (tuple, list)) else
               f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else f"a {type(value).__name__}")
        fail(f"{name} should return the {len(names)} values ({', '.join(names)}), got {got}.")
    return value


class Chapter:
    """Base of the per-chapter namespaces: each method taskN(...) of a subclass becomes a check."""

    def __init_subclass__(cls):
        for name, test in list(vars(cls).items()):
            if re.fullmatch(r"task\d+", name):
                setattr(cls, name, staticmethod(_as_check(name, test)))


def _as_check(name, test):
    title = f"Task {name[4:]} · {test.__doc__.splitlines()[0].rstrip('.')}"

    @functools.wraps(test)
    def check(*args, **kwargs):
        return run(title, test, *args, **kwargs)

    return check


def _not_done(task, error_message):
    this = re.match(r"Task (\d+)", task)
    other = re.match(r"Task (\d+)", error_message)
    if other and this and other.group(1) != this.group(1):
        return f"this task uses Task {other.group(1)}, which is not implemented yet: finish it first."
    if other or not error_message:
        return ("not implemented yet: replace `raise NotImplementedError(...)` with your code, "
                "run that cell, then this check again.")
    return f"your code raised NotImplementedError: {error_message}"


def _describe(error):
    text = " ".join(str(error).split())
    return type(error).__name__ + (f": {text[:200]}" if text else "")


def as_array(value, name):
    """The learner's answer as a float array (a torch tensor is detached and copied), or FAIL saying why not."""
    if value is None:
        fail(f"{name} is None: did you forget `return`?")
    if hasattr(value, "detach"):  # a torch tensor
        value = value.detach().cpu().numpy()
    try:
        return np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        fail(f"{name} should be numbers, got a {type(value).__name__}.")


def near(a, b, rtol=1e-6, atol=1e-9):
    """True when `a` and `b` have one shape and agree within the tolerances of close()."""
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _shape_hint(actual, expected):
    if expected.ndim == 0:
        return ": return one number"
    if expected.ndim == 2 and actual.shape == expected.shape[::-1]:
        return ": rows and columns are swapped (transposed)"
    if actual.size == expected.size:
        return ": as many numbers, arranged differently; a column (n, 1) instead of a flat (n,) array?"
    return ""


def show(a):
    """A short text of a number or an array, for a hint: 4 significant digits, at most 6 values."""
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return f"{float(a):.4g}"
    flat = a.ravel()
    body = ", ".join(f"{v:.4g}" for v in flat[:6]) + (", ..." if flat.size > 6 else "")
    return f"[{body}]" + (f" (shape {a.shape})" if a.ndim > 1 else "")
