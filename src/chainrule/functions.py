"""Public functions, one per table op, and the namespace recorded rules run on.

Each function takes Tensors, NumPy arrays, Python numbers or nested lists and
returns a Tensor. Elementwise functions, reductions and shape ops are also
Tensor methods (``t.exp()``, ``t.sum(axis=0)``, ``t.reshape(2, 3)``).

>>> import chainrule as cr
>>> x = cr.tensor([0.0, 1.0], requires_grad=True)
>>> y = cr.sum(cr.exp(x))
>>> y.backward(); x.grad          # d/dx Σ exp(x) = exp(x)
tensor([1.      , 2.718282])
"""

from __future__ import annotations

import sys
from types import SimpleNamespace

import numpy as np

from . import forward
from . import tensor as tensor_module
from .graph import Node
from .ops import OPS
from .tensor import Tensor, apply, as_array, record

UNARY = ("exp", "expm1", "log", "log1p", "log2", "log10", "sqrt", "abs", "sign", "sin", "cos", "tan",
         "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arccosh", "arctanh",
         "sigmoid", "relu", "softplus")
BINARY = ("add", "sub", "mul", "div", "pow", "maximum", "minimum")


def _unary_function(name: str):
    op = OPS[name]

    def fn(x) -> Tensor:
        return apply(op, x)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}(x); its derivative is the table entry ops.elementwise.{name}."
    return fn


def _binary_function(name: str):
    op = OPS[name]

    def fn(x1, x2) -> Tensor:
        return apply(op, x1, x2)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Elementwise {name}(x1, x2) with NumPy broadcasting."
    return fn


for _name in UNARY:
    globals()[_name] = _unary_function(_name)
for _name in BINARY:
    globals()[_name] = _binary_function(_name)
multiply = mul  # noqa: F821 - NumPy's name, for the composites, which run on NumPy too


def neg(x) -> Tensor:
    """-x."""
    return apply(OPS["neg"], x)


def clip(a, a_min, a_max) -> Tensor:
    """Limit a to [a_min, a_max] (either may be None); gradient 1 inside, 0 outside."""
    return apply(OPS["clip"], a, a_min=a_min, a_max=a_max)


def where(condition, x, y) -> Tensor:
    """x where condition holds, else y; the gradient flows to the chosen side only."""
    return apply(OPS["where"], condition, x, y)


def astype(x, dtype) -> Tensor:
    """x converted to ``dtype`` (the gradient is converted back)."""
    return apply(OPS["astype"], x, dtype=dtype)


# ------------------------------------------------------------------ reductions
def sum(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - NumPy's name
    """Σ over ``axis``; the gradient copies g back over the summed axes."""
    return apply(OPS["sum"], a, axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    """Σ/N over ``axis``; the gradient is g/N at every element."""
    return apply(OPS["mean"], a, axis=axis, keepdims=keepdims)


def max(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Largest element; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["max"], a, axis=axis, keepdims=keepdims)


def min(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Smallest element; the gradient goes to it (ties share it evenly)."""
    return apply(OPS["min"], a, axis=axis, keepdims=keepdims)


def prod(a, axis=None, keepdims: bool = False) -> Tensor:
    """Π over ``axis``; ∂/∂x_i is the product of the other elements (exact at zeros)."""
    return apply(OPS["prod"], a, axis=axis, keepdims=keepdims)


def logsumexp(a, axis=None, keepdims: bool = False) -> Tensor:
    """log Σ exp(a), computed stably; its gradient is softmax(a)."""
    return apply(OPS["logsumexp"], a, axis=axis, keepdims=keepdims)


def var(a, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """Σ (a - mean)² / (N - ddof)."""
    return OPS["var"].fn(_NS, _tensor_or_array(a), axis=axis, ddof=ddof, keepdims=keepdims)


def std(a, axis=None, ddof: int = 0, keepdims: bool = False) -> Tensor:
    """√var(a); its gradient (a - mean) / ((N - ddof) std) is 0 where std is 0."""
    return apply(OPS["std"], a, axis=axis, ddof=ddof, keepdims=keepdims)


# ------------------------------------------------------------------ shape
def reshape(a, shape) -> Tensor:
    """The same elements in a new shape (one entry may be -1)."""
    return apply(OPS["reshape"], a, shape=shape)


def transpose(a, axes=None) -> Tensor:
    """Permute the axes (reverse them by default)."""
    return apply(OPS["transpose"], a, axes=axes)


def broadcast_to(array, shape) -> Tensor:
    """``array`` repeated to ``shape`` by broadcasting; the gradient sums back."""
    return apply(OPS["broadcast_to"], array, shape=shape)


def concatenate(arrays, axis: int = 0) -> Tensor:
    """Join a sequence of tensors (or arrays) along an existing axis."""
    return apply(OPS["concatenate"], *arrays, axis=axis)


def swapaxes(a, axis1: int, axis2: int) -> Tensor:
    return OPS["swapaxes"].fn(_NS, _tensor_or_array(a), axis1, axis2)


def moveaxis(a, source, destination) -> Tensor:
    """The axes ``source`` moved to ``destination`` (ints or sequences), as ``np.moveaxis``:
    a transpose."""
    return OPS["moveaxis"].fn(_NS, _tensor_or_array(a), source, destination)


def flatten(a) -> Tensor:
    """The elements as a 1-D tensor."""
    return OPS["flatten"].fn(_NS, _tensor_or_array(a))


def squeeze(a, axis=None) -> Tensor:
    """Drop axes of size 1 (all of them, or the ones named)."""
    return OPS["squeeze"].fn(_NS, _tensor_or_array(a), axis=axis)


def expand_dims(a, axis) -> Tensor:
    """Insert axes of size 1 at ``axis`` (an int or a tuple)."""
    return OPS["expand_dims"].fn(_NS, _tensor_or_array(a), axis)


def stack(arrays, axis: int = 0) -> Tensor:
    """Join tensors of one shape along a new axis."""
    return OPS["stack"].fn(_NS, [_tensor_or_array(a) for a in arrays], axis=axis)


def split(ary, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """Split into equal sections or at the given indices along ``axis``, as ``np.split``."""
    return OPS["split"].fn(_NS, _tensor_or_array(ary), indices_or_sections, axis=axis)


# ------------------------------------------------------------------ linear algebra
def matmul(x1, x2) -> Tensor:
    """Matrix product with NumPy's rules (1-D promotion, batched leading axes)."""
    return apply(OPS["matmul"], x1, x2)


def einsum(subscripts: str, *operands) -> Tensor:
    """Einstein summation, as ``np.einsum``: ``einsum("ij,jk->ik", a, b)`` is a @ b; an ellipsis
    may stand anywhere in a term, for the same broadcast axes in each."""
    return apply(OPS["einsum"], *operands, spec=subscripts)


def dot(a, b) -> Tensor:
    """``np.dot``: inner product of vectors, matrix product, or sum over a's last and b's
    second-to-last axis."""
    return OPS["dot"].fn(_NS, _tensor_or_array(a, "dot"), _tensor_or_array(b, "dot"))


def outer(a, b) -> Tensor:
    """Outer product of the flattened inputs: out[i, j] = a[i]·b[j]."""
    return OPS["outer"].fn(_NS, _tensor_or_array(a, "outer"), _tensor_or_array(b, "outer"))


def tensordot(a, b, axes=2) -> Tensor:
    """Sum of products over the given axes, as ``np.tensordot``."""
    a, b = _tensor_or_array(a, "tensordot"), _tensor_or_array(b, "tensordot")
    return OPS["tensordot"].fn(_NS, a, b, axes=axes)


def _tensor_or_array(x, what: str = "tensor"):
    return x if isinstance(x, (Tensor, np.ndarray)) else as_array(x, what=what)


def matrix_transpose(x) -> Tensor:
    return swapaxes(x, -1, -2)


# ------------------------------------------------------------------ the recording namespace
def _wrap(value, parent, tangents=None):
    """A saved array as a Tensor attached to the node (or leaf) that produced it."""
    if type(parent) is Node:
        t = Tensor._make(value, parent)
        t._tangents = tangents
        return t
    return value if parent is None else parent


def _apply_canonical(op, *args, **params):
    arrays = [a._data if isinstance(a, Tensor) else a for a in args]
    return record(op, args, arrays, params)


RECORDING = SimpleNamespace(
    recording=True, wrap=_wrap, apply=_apply_canonical, concat=concatenate,
    permute_dims=transpose, matrix_transpose=matrix_transpose, astype=astype,
    zeros=np.zeros, ones=np.ones, eye=np.eye, zeros_like=np.zeros_like,
    **{name: globals()[name] for name in (
        "abs", "broadcast_to", "cos", "cosh", "einsum", "exp", "expand_dims", "expm1", "log",
        "log1p", "matmul", "mean", "prod", "reshape", "sign", "sin", "sinh", "sqrt", "sum",
        "tanh", "where")},
)
"""Array-API names on Tensors: rules run on this under ``create_graph=True``."""

_NS = sys.modules[__name__]


def _attach_tangents(op, args, out, params) -> None:
    forward.attach_tangents(op, args, out, params, RECORDING)


tensor_module.attach_tangents = _attach_tangents

# ------------------------------------------------------------------ Tensor methods
_METHODS = (*UNARY, "clip", "sum", "mean", "max", "min", "prod", "logsumexp", "var", "std",
            "swapaxes", "flatten", "squeeze", "expand_dims", "broadcast_to", "astype", "dot",
            "matmul")
for _name in _METHODS:
    setattr(Tensor, _name, globals()[_name])


def _reshape_method(self, *shape) -> Tensor:
    """``t.reshape(2, 3)`` or ``t.reshape((2, 3))``."""
    return reshape(self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape)


def _transpose_method(self, *axes) -> Tensor:
    """``t.transpose()`` reverses the axes; ``t.transpose(1, 0, 2)`` permutes them."""
    return transpose(self, (axes[0] if len(axes) == 1 and not isinstance(axes[0], int) else axes) or None)


Tensor.reshape = _reshape_method
Tensor.transpose = _transpose_method
