"""Optimizers: SGD (momentum, Nesterov, weight decay), Adam and AdamW, as PyTorch defines them.

>>> import chainrule as cr
>>> w = cr.tensor([4.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.25)
>>> (w * w).sum().backward(); opt.step()      # w − 0.25 · 2w
>>> w.tolist()
[2.0]
"""

from .adam import Adam, AdamW
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
