"""Input checks shared by gdlab: each error names the parameter and what is allowed."""
import math
import numbers

import numpy as np


def as_point(x, name="x0", dim=None, finite=True):
    """Return `x` as a float64 array, or raise an error that names `name`."""
    try:
        arr = np.array(x, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from None
    if arr.ndim == 0:
        raise ValueError(f"{name} must be an array of shape (d,), got a scalar; wrap it: [{arr.item()!r}]")
    if dim is not None and arr.shape[0] != dim:
        raise ValueError(f"{name} must have {dim} coordinates along its first axis, got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite (no NaN or inf), got {arr}")
    return arr


def as_real(value, name):
    """Return `value` as a float, or raise TypeError naming `name`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if math.isnan(value):
        raise ValueError(f"{name} must be a number, got NaN")
    return value


def positive(value, name):
    """`value` > 0 and finite."""
    value = as_real(value, name)
    if not 0 < value < float("inf"):
        raise ValueError(f"{name} must be > 0 and finite, got {value}")
    return value


def non_negative(value, name):
    """`value` >= 0 and finite."""
    value = as_real(value, name)
    if not 0 <= value < float("inf"):
        raise ValueError(f"{name} must be >= 0 and finite, got {value}")
    return value


def in_unit_interval(value, name):
    """0 <= `value` < 1, the range of a decay rate such as momentum's beta."""
    value = as_real(value, name)
    if not 0 <= value < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value


def strictly_between_0_and_1(value, name):
    """0 < `value` < 1, e.g. the Armijo constant c or a line search's shrink factor."""
    value = as_real(value, name)
    if not 0 < value < 1:
        raise ValueError(f"{name} must be in (0, 1), got {value}")
    return value


def count(value, name, minimum=0):
    """An integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def one_of(value, name, allowed):
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def fraction(value, name):
    """0 <= `value` <= 1, e.g. Adadelta's rho or SGD's dampening."""
    value = as_real(value, name)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be in [0, 1], got {value}")
    return value


def decay_pair(value, name):
    """A pair of decay rates such as Adam's betas = (beta1, beta2), each in [0, 1)."""
    expected = f"{name} must be a pair of numbers in [0, 1), e.g. (0.9, 0.999); got {value!r}"
    try:
        first, second = value
    except TypeError:
        raise TypeError(expected) from None
    except ValueError:
        raise ValueError(expected) from None
    return in_unit_interval(first, f"{name}[0]"), in_unit_interval(second, f"{name}[1]")
