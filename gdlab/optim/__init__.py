"""NumPy optimizers with torch.optim's names, hyperparameters, defaults and arithmetic.

    from gdlab.optim import Adam
    opt = Adam(lr=0.01)
    x = opt.step(x, grad(x))      # one array, or lists: params = opt.step(params, grads)

`OPTIMIZERS` maps the name of each optimizer to its class. Also learning-rate schedules
(`gdlab.optim.lr_scheduler`, named like torch.optim.lr_scheduler) and gradient clipping
(`clip_grad_norm`, `clip_grad_value`).
"""
from gdlab.optim import lr_scheduler
from gdlab.optim.adadelta import Adadelta
from gdlab.optim.adagrad import Adagrad
from gdlab.optim.adam import Adam, AdamW
from gdlab.optim.clip import clip_grad_norm, clip_grad_value
from gdlab.optim.nadam import NAdam
from gdlab.optim.optimizer import Optimizer
from gdlab.optim.rmsprop import RMSprop
from gdlab.optim.sgd import SGD

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam",
           "clip_grad_norm", "clip_grad_value", "lr_scheduler", "OPTIMIZERS"]



def _optimizers():
    """name -> class of every optimizer in __all__, in its order: what tests, benchmarks and explorers iterate over."""
    named = {name: globals().get(name) for name in __all__}
    return {name: value for name, value in named.items()
            if isinstance(value, type) and issubclass(value, Optimizer) and value is not Optimizer}


OPTIMIZERS = _optimizers()
