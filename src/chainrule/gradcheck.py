"""Numerical differentiation and gradient checking by central differences.

For a function f and a step h, each partial derivative is estimated as

    ∂f/∂x_j ≈ (f(x + h e_j) - f(x - h e_j)) / 2h,

whose error shrinks like h². ``gradcheck`` compares the whole Jacobian that
chainrule computes (in one batched reverse pass) with this estimate.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import graph
from .ops.xp import NUMPY
from .tensor import Tensor, as_array

__all__ = ["GradcheckError", "gradcheck", "numerical_grad", "numerical_jacobian"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


def _like(original, arr: np.ndarray):
    return Tensor._make(arr, None) if isinstance(original, Tensor) else arr


def _evaluate(f, inputs, i, arr):
    args = list(inputs)
    args[i] = _like(inputs[i], arr)
    return np.array(as_array(f(*args), what="numerical differentiation"), dtype=np.float64)


def _central_differences(f: Callable, inputs: list, i: int, eps: float) -> np.ndarray:
    """d f(*inputs) / d inputs[i], shaped ``f.shape + inputs[i].shape``."""
    x = np.array(as_array(inputs[i]), copy=True)
    if x.dtype.kind != "f":
        raise TypeError(f"numerical differentiation: input {i} has dtype {x.dtype}; "
                        "only floating inputs can be differentiated")
    columns = []
    flat = x.reshape(-1)
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        up = _evaluate(f, inputs, i, x.copy())
        flat[j] = old - eps
        down = _evaluate(f, inputs, i, x.copy())
        flat[j] = old
        columns.append((up - down) / (2 * eps))
    out_shape = columns[0].shape if columns else _evaluate(f, inputs, i, x).shape
    return np.stack(columns, axis=-1).reshape(out_shape + x.shape) if columns else np.zeros(
        out_shape + x.shape)


def numerical_grad(f: Callable, *inputs, eps: float = 1e-4):
    """Central-difference gradient of a scalar ``f(*inputs)``: one ndarray per input.

    >>> import numpy as np, chainrule as cr
    >>> g = cr.numerical_grad(lambda x: (x ** 3).sum(), np.array([1.0, 4.0]))
    >>> np.round(g, 4).tolist()                 # 3x²
    [3.0, 48.0]
    """
    grads = []
    for i in range(len(inputs)):
        d = _central_differences(f, list(inputs), i, eps)
        if d.ndim != np.ndim(inputs[i]):
            raise ValueError(f"numerical_grad: f must return a single number, it returned shape "
                             f"{d.shape[: d.ndim - np.ndim(inputs[i])]}; use numerical_jacobian")
        grads.append(d)
    return grads[0] if len(grads) == 1 else tuple(grads)


def numerical_jacobian(f: Callable, x, eps: float = 1e-4) -> np.ndarray:
    """Central-difference Jacobian of f at x, shaped ``f(x).shape + x.shape``."""
    return _central_differences(f, [x], 0, eps)


def analytic_jacobians(f: Callable, inputs: list) -> tuple[np.ndarray, list]:
    """f's value and its Jacobian with respect to each input, by one batched reverse pass."""
    leaves = [Tensor._make(np.array(as_array(x), copy=True), None).requires_grad_(True) for x in inputs]
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    m = out.size
    jacobians = [np.zeros(out.shape + x.shape, dtype=x.dtype) for x in leaves]
    if out.grad_fn is not None and m:
        seed = np.eye(m, dtype=out.dtype).reshape((m,) + out.shape)
        leaf_grads, _ = graph.backward([out.grad_fn], [seed], NUMPY, batch_ndim=1)
        for k, x in enumerate(leaves):
            if x in leaf_grads:
                jacobians[k] = np.asarray(leaf_grads[x]).reshape(out.shape + x.shape)
    return out.data, jacobians


def gradcheck(f: Callable, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Check every derivative of ``f(*inputs)`` against central differences.

    Each element must satisfy |analytic - numeric| <= atol + rtol·|numeric|.
    Returns True, or raises :class:`GradcheckError` naming the input, the worst
    element and both values. Use float64 inputs: float32 cannot resolve eps = 1e-6.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, (x,))
    True
    """
    inputs = [inputs] if isinstance(inputs, (Tensor, np.ndarray)) else list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        checked = [i for i, x in enumerate(inputs) if as_array(x).dtype.kind == "f"]
    _, jacobians = analytic_jacobians(
        lambda *xs: f(*[xs[checked.index(i)] if i in checked else x for i, x in enumerate(inputs)]),
        [inputs[i] for i in checked])
    for k, i in enumerate(checked):
        analytic = jacobians[k].astype(np.float64)
        numeric = _central_differences(f, inputs, i, eps)
        allowed = atol + rtol * np.abs(numeric)
        excess = np.abs(analytic - numeric) - allowed
        excess = np.where(np.isnan(excess), np.inf, excess)  # nan on either side fails
        if excess.size and excess.max() > 0:
            worst = tuple(int(i) for i in np.unravel_index(np.argmax(excess), excess.shape))
            split = excess.ndim - np.ndim(inputs[i])
            raise GradcheckError(
                f"gradcheck: input {i} (shape {np.shape(inputs[i])}): d out{list(worst[:split])} / "
                f"d x{list(worst[split:])} is {analytic[worst]:.6g} analytically but "
                f"{numeric[worst]:.6g} by central differences (difference "
                f"{analytic[worst] - numeric[worst]:.3g}, allowed {allowed[worst]:.3g})")
    return True
