"""Neural networks: modules, layers, losses (``cr.nn.functional``) and initializers, with
PyTorch's names, arguments and state-dict keys.

>>> import chainrule as cr
>>> model = cr.nn.Sequential(cr.nn.Linear(2, 4, seed=0), cr.nn.Tanh(), cr.nn.Linear(4, 1, seed=1))
>>> loss = cr.nn.functional.mse_loss(model(cr.ones(3, 2)), cr.zeros(3, 1))
>>> loss.backward()
>>> all(p.grad.shape == p.shape for p in model.parameters())
True
"""

from . import functional, init, utils
from .activation import ELU, GELU, LeakyReLU, LogSoftmax, SiLU, Softmax, Softplus
from .container import ModuleDict, ModuleList, ParameterList, Sequential
from .hooks import RemovableHandle
from .layers import Dropout, Embedding, Flatten, Identity, LayerNorm, Linear, ReLU, Sigmoid, Tanh, Unflatten
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MSELoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter

__all__ = [
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "Dropout",
    "ELU",
    "Embedding",
    "Flatten",
    "GELU",
    "HuberLoss",
    "Identity",
    "KLDivLoss",
    "L1Loss",
    "LayerNorm",
    "LeakyReLU",
    "Linear",
    "LogSoftmax",
    "MSELoss",
    "Module",
    "ModuleDict",
    "ModuleList",
    "NLLLoss",
    "Parameter",
    "ParameterList",
    "ReLU",
    "RemovableHandle",
    "Sequential",
    "SiLU",
    "Sigmoid",
    "SmoothL1Loss",
    "Softmax",
    "Softplus",
    "Tanh",
    "Unflatten",
    "functional",
    "init",
    "utils",
]
