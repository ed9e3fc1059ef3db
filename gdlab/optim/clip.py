"""Gradient clipping, as torch.nn.utils.clip_grad_norm_ and clip_grad_value_ (returning new arrays)."""
import numpy as np

from gdlab._validate import as_real, non_negative
from gdlab.optim.optimizer import is_list_of_arrays


def clip_grad_norm(grads, max_norm, norm_type=2.0):
    """Scale all gradients together so that their total norm is at most `max_norm`.

    `grads` is an array or a list of arrays; the total norm is the `norm_type`-norm of all
    their entries together (norm_type=float("inf"): the largest |entry|). Like torch, every
    gradient is multiplied by min(1, max_norm / (total_norm + 1e-6)); the 1e-6 guards against
    dividing by zero. Returns (clipped_grads, total_norm), total_norm measured before clipping;
    the inputs are not modified.
    """
    max_norm = non_negative(max_norm, "max_norm")
    norm_type = as_real(norm_type, "norm_type")
    if not norm_type > 0:
        raise ValueError(f"norm_type must be > 0 or float('inf'), got {norm_type}")
    arrays, many = _arrays(grads)
    with np.errstate(over="ignore", invalid="ignore"):  # an inf or NaN gradient gives an inf or NaN norm, as in torch
        if norm_type == np.inf:
            total_norm = float(np.max([np.max(np.abs(g), initial=0.0) for g in arrays], initial=0.0))
        else:
            total_norm = float(np.linalg.norm([np.linalg.norm(g.reshape(-1), norm_type) for g in arrays], norm_type))
        coefficient = min(max_norm / (total_norm + 1e-6), 1.0)
        clipped = [g * coefficient for g in arrays]
    return (clipped if many else clipped[0]), total_norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient entry into [-clip_value, clip_value]; return new arrays (an array or a list)."""
    clip_value = non_negative(clip_value, "clip_value")
    arrays, many = _arrays(grads)
    clipped = [np.clip(g, -clip_value, clip_value) for g in arrays]
    return clipped if many else clipped[0]


def _arrays(grads):
    many = is_list_of_arrays(grads)
    try:
        arrays = [np.asarray(g, dtype=float) for g in (grads if many else [grads])]
    except (TypeError, ValueError):
        raise TypeError(f"grads must be an array or a list of arrays of numbers, got {type(grads).__name__}") from None
    return arrays, many
