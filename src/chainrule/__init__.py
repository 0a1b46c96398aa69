"""chainrule: tensor automatic differentiation on NumPy.

>>> import chainrule as cr
>>> x = cr.tensor([0.0, 1.0, 2.0, 3.0], requires_grad=True)
>>> y = 5 * cr.dot(x, x)
>>> y.backward()
>>> x.grad                                   # d(5 x·x)/dx = 10 x
tensor([ 0., 10., 20., 30.])
"""

from . import autograd, nn, optim
from .anomaly import AnomalyError, detect_anomaly
from .creation import arange, eye, full, ones, ones_like, rand, randn, tensor, zeros, zeros_like
from .dtypes import get_default_dtype, set_default_dtype
from .explain import BackwardTrace, explain
from .function import Function, FunctionCtx
from .functions import (
    abs,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    broadcast_to,
    clip,
    concatenate,
    cos,
    cosh,
    div,
    dot,
    einsum,
    exp,
    expand_dims,
    flatten,
    log,
    log2,
    log10,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    moveaxis,
    mul,
    neg,
    outer,
    pow,
    prod,
    relu,
    reshape,
    sigmoid,
    sin,
    sinh,
    softplus,
    split,
    sqrt,
    squeeze,
    stack,
    std,
    sub,
    sum,
    swapaxes,
    tan,
    tanh,
    tensordot,
    transpose,
    var,
    where,
)
from .gradcheck import GradcheckError, gradcheck, numerical_grad, numerical_jacobian
from .mode import capture_sites, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tape import GradientTape, Variable
from .tensor import Tensor
from .transforms import directional_derivative, grad, hessian, hvp, jacobian, jvp, value_and_grad, vjp
from .viz import draw, to_dot

__version__ = "0.1.0"

__all__ = [
    "AnomalyError", "BackwardTrace", "Function", "FunctionCtx", "GradcheckError", "GradientTape", "Tensor",
    "Variable", "abs", "add", "arange", "arccos", "arccosh", "arcsin", "arcsinh", "arctan", "arctan2",
    "arctanh", "autograd", "broadcast_to", "capture_sites", "clip", "concatenate", "cos", "cosh",
    "detect_anomaly", "directional_derivative", "div", "dot", "draw", "einsum", "enable_grad", "exp",
    "explain", "expand_dims", "eye", "flatten", "full", "get_default_dtype", "grad", "gradcheck", "hessian",
    "hvp", "is_grad_enabled", "jacobian", "jvp", "log", "log10", "log2", "logsumexp", "matmul", "max",
    "maximum", "mean", "min", "minimum", "moveaxis", "mul", "neg", "nn", "no_grad", "numerical_grad",
    "numerical_jacobian", "ones", "ones_like", "optim", "outer", "pow", "prod", "rand", "randn",
    "relu", "reshape", "set_default_dtype", "set_grad_enabled", "sigmoid", "sin", "sinh",
    "softplus", "split", "sqrt", "squeeze", "stack", "std", "sub", "sum", "swapaxes", "tan", "tanh",
    "tensor", "tensordot", "to_dot", "transpose", "value_and_grad", "var", "vjp", "where", "zeros",
    "zeros_like",
]
