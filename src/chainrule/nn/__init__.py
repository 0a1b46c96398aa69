"""Neural networks: modules, layers, losses (``cr.nn.functional``) and initializers.

>>> import chainrule as cr
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 4, seed=0), cr.nn.Tanh(), cr.nn.Linear(4, 1, seed=1))
>>> loss = cr.nn.functional.mse_loss(model(cr.ones(3, 2)), cr.zeros(3, 1))
>>> loss.backward()
>>> all(p.grad.shape == p.shape for p in model.parameters())
True
"""

from . import functional, init, utils
from .layers import Dropout, Embedding, Linear, ReLU, Sequential, Sigmoid, Tanh
from .module import Module, Parameter

__all__ = [
    "Dropout",
    "Embedding",
    "Linear",
    "Module",
    "Parameter",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Tanh",
    "functional",
    "init",
    "utils",
]
