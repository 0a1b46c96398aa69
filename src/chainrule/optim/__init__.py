"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam, AdamW, RMSprop and Adagrad,
and learning-rate schedules (``optim.lr_scheduler``), as PyTorch defines them.

>>> import chainrule as cr
>>> w = cr.tensor([4.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.25)
>>> (w * w).sum().backward(); opt.step()      # w − 0.25 · 2w
>>> w.tolist()
[2.0]
"""

from . import lr_scheduler
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = ["SGD", "Adagrad", "Adam", "AdamW", "Optimizer", "RMSprop", "lr_scheduler"]
