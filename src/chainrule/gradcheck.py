"""Numerical differentiation and gradient checking by central differences.

For a function f and a step h, each partial derivative is estimated as

    ∂f/∂x_j ≈ (f(x + h e_j) - f(x - h e_j)) / 2h,

whose error shrinks like h². ``gradcheck`` compares the whole Jacobian that
chainrule computes (in one batched reverse pass) with this estimate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, TypeAlias

import numpy as np

from . import backends, graph
from .autograd import pull_back, run_backward
from .function import FunctionCtx
from .mode import capture_sites, enable_grad, keep_inputs, no_grad
from .ops.core import pullback
from .ops.xp import rules_namespace
from .tensor import Tensor, TensorLike, as_array
from .transforms import jacobian
from .tree import tree_flatten

__all__ = ["GradcheckError", "check_grads", "gradcheck", "numerical_grad", "numerical_jacobian"]


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its central-difference estimate."""


Disagreement: TypeAlias = "tuple[tuple[int, ...], float, float, float]"
"""The worst element of a check: its index, the analytic and numeric values, the tolerance."""


def _like(original: object, arr: np.ndarray) -> Tensor | np.ndarray:
    """The host array ``arr`` as ``original`` is: a Tensor or an array, on its device."""
    data = original._data if isinstance(original, Tensor) else original
    if backends.is_array(data):
        arr = backends.move(arr, backends.device_of(data))
    return Tensor._make(arr, None) if isinstance(original, Tensor) else arr


def _evaluate(f: Callable[..., Any], inputs: Sequence[Any], i: int, arr: np.ndarray) -> np.ndarray:
    args = list(inputs)
    args[i] = _like(inputs[i], arr)
    return np.array(backends.host(as_array(f(*args), what="numerical differentiation")), dtype=np.float64)


def _central_differences(f: Callable[..., Any], inputs: Sequence[Any], i: int, eps: float) -> np.ndarray:
    """d f(*inputs) / d inputs[i], shaped ``f.shape + inputs[i].shape``."""
    x = np.array(backends.host(as_array(inputs[i])), copy=True, order="C")  # reshape(-1) must view it
    if x.dtype.kind != "f":
        raise TypeError(
            f"numerical differentiation: input {i} has dtype {x.dtype}; "
            "only floating inputs can be differentiated"
        )
    columns: list[np.ndarray] = []
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
    return (
        np.stack(columns, axis=-1).reshape(out_shape + x.shape) if columns else np.zeros(out_shape + x.shape)
    )


def numerical_grad(
    f: Callable[..., Any], *inputs: TensorLike, eps: float = 1e-4
) -> np.ndarray | tuple[np.ndarray, ...]:
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
            raise ValueError(
                f"numerical_grad: f must return a single number, it returned shape "
                f"{d.shape[: d.ndim - np.ndim(inputs[i])]}; use numerical_jacobian"
            )
        grads.append(d)
    return grads[0] if len(grads) == 1 else tuple(grads)


def numerical_jacobian(f: Callable[..., Any], x: TensorLike, eps: float = 1e-4) -> np.ndarray:
    """Central-difference Jacobian of f at x, shaped ``f(x).shape + x.shape``."""
    return _central_differences(f, [x], 0, eps)


def analytic_jacobians(
    f: Callable[..., Any], inputs: Sequence[TensorLike]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """f's value and its Jacobian with respect to each input, by one batched reverse pass
    (on the inputs' device; the results are copied to the host)."""
    leaves = [Tensor._make(backends.copy(as_array(x)), None).requires_grad_(True) for x in inputs]
    out = f(*leaves)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: f must return a Tensor, got {type(out).__name__}")
    m = out.size
    seed = np.eye(m, dtype=backends.numpy_dtype(out.dtype)).reshape((m,) + out.shape)
    rows = pull_back(
        out, leaves, backends.move(seed, out.device), batch_ndim=1, create_graph=False, retain_graph=False
    )
    jacobians = [backends.host(r._data).reshape(out.shape + x.shape) for r, x in zip(rows, leaves)]
    return backends.host(out._data), jacobians


def _worst(analytic: np.ndarray, numeric: np.ndarray, atol: float, rtol: float) -> Disagreement | None:
    """The element where |analytic - numeric| exceeds atol + rtol·|numeric| the most
    (NaN on either side counts as failing), or None when every element agrees."""
    allowed = atol + rtol * np.abs(numeric)
    excess = np.abs(analytic - numeric) - allowed
    excess = np.where(np.isnan(excess), np.inf, excess)
    if not excess.size or excess.max() <= 0:
        return None
    worst = tuple(int(k) for k in np.unravel_index(np.argmax(excess), excess.shape))
    return worst, float(analytic[worst]), float(numeric[worst]), float(allowed[worst])


def _describe(worst: Disagreement, in_ndim: int) -> str:
    index, a, n, allowed = worst
    split = len(index) - in_ndim
    return (
        f"d out{list(index[:split])} / d x{list(index[split:])} is {a:.6g} analytically but "
        f"{n:.6g} by central differences (difference {a - n:.3g}, allowed {allowed:.3g})"
    )


def gradcheck(
    f: Callable[..., Any],
    inputs: Tensor | np.ndarray | Sequence[TensorLike],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    localize: bool = True,
) -> bool:
    """Check every derivative of ``f(*inputs)`` against central differences.

    Each element must satisfy |analytic - numeric| <= atol + rtol·|numeric|.
    Returns True, or raises :class:`GradcheckError` naming the input, the worst
    element and both values. With ``localize`` (the default) a failure is then traced
    to the first op, in forward order, whose own reverse rule disagrees with central
    differences at the inputs it actually received — typically a custom
    :class:`~chainrule.Function` with a wrong ``backward`` — named with its file:line.
    Use float64 inputs: float32 cannot resolve eps = 1e-6.

    >>> import chainrule as cr
    >>> x = cr.tensor([0.5, 1.5], dtype="float64", requires_grad=True)
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, (x,))
    True
    """
    inputs = [inputs] if isinstance(inputs, (Tensor, np.ndarray)) else list(inputs)
    checked = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not checked:
        checked = [i for i, x in enumerate(inputs) if backends.kind(as_array(x).dtype) == "f"]

    def f_of_checked(*xs: Any) -> Any:
        return f(*[xs[checked.index(i)] if i in checked else x for i, x in enumerate(inputs)])

    _, jacobians = analytic_jacobians(f_of_checked, [inputs[i] for i in checked])
    for k, i in enumerate(checked):
        numeric = _central_differences(f, inputs, i, eps)
        worst = _worst(jacobians[k].astype(np.float64), numeric, atol, rtol)
        if worst is not None:
            where = f"gradcheck: input {i} (shape {np.shape(inputs[i])})"
            message = f"{where}: {_describe(worst, np.ndim(inputs[i]))}"
            if localize:
                message += "\n" + _localize(f_of_checked, [inputs[i] for i in checked], eps, atol, rtol)
            raise GradcheckError(message)
    return True


def _localize(
    f: Callable[..., Any], inputs: Sequence[TensorLike], eps: float, atol: float, rtol: float
) -> str:
    """Re-run f recording every op's inputs and site, then check alone the rule of each op
    that its reverse pass visits (an observer notes them), in forward order."""
    leaves = [Tensor._make(backends.copy(as_array(x)), None).requires_grad_(True) for x in inputs]
    with enable_grad(), capture_sites(), keep_inputs():
        out = f(*leaves)
    if not isinstance(out, Tensor) or out.grad_fn is None:
        return "(no recorded op to blame)"
    visited: list[graph.Node] = []
    run_backward(
        (out,),
        (backends.ones_like(out._data),),
        retain_graph=True,
        create_graph=False,
        observers=(lambda node, g, grads: visited.append(node),),
    )
    for node in reversed(visited):  # the pass visits the newest node first
        if node.op.category == "output":  # selects one output of a node checked on its own
            continue
        for k in range(len(node.shape)) if node.multi_output else (None,):
            for i, parent in enumerate(node.parents):
                if parent is None:
                    continue
                analytic, numeric = _rule_against_differences(node, i, eps, k)
                worst = _worst(analytic, numeric, atol, rtol)
                if worst is not None:
                    which = "" if k is None else f" (output {k})"
                    return (
                        f"the first op whose reverse rule disagrees: {node.op.name}{which} at "
                        f"{node.site or '?'}, its input {i}: {_describe(worst, len(parent.shape))}"
                    )
    return "every op's reverse rule agrees at its inputs; the error comes from how they are combined"


def _rule_against_differences(
    node: graph.Node, i: int, eps: float, output: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """∂out/∂input_i of one node by its VJP rule (row by row) and by central differences;
    for a node with several outputs, of its output number ``output``. Both run where the
    node's values are; the comparison reads them on the host."""
    if "fn" in node.params:  # a custom Function: run its forward again
        cls, args, pos = node.params["fn"], list(node.params["args"]), node.params["positions"][i]
        x = args[pos].data
    else:
        xs, _ = node.saved
        x = xs[i]
    xp = backends.namespace_of(x) if backends.is_array(x) else np
    if "fn" in node.params:

        def forward_at(xi: Any) -> Any:
            call = list(args)
            call[pos] = Tensor._make(xi, None)
            with no_grad():
                out = cls.forward(FunctionCtx((False,) * len(call)), *call)
            return out if output is None else out[output]

    else:
        op_forward = node.op.forward if xp is np else node.op.forward_on(xp)

        def forward_at(xi: Any) -> Any:
            call = list(xs)
            call[i] = xi
            return op_forward(*call, **node.params)

    shape, dtype = (node.shape, node.dtype) if output is None else (node.shape[output], node.dtype[output])
    m = math.prod(shape)
    rows: list[np.ndarray] = []
    for k in range(m):
        e_k = np.zeros(m, dtype=backends.numpy_dtype(dtype)).reshape(shape)
        e_k.flat[k] = 1
        e_k = e_k if xp is np else backends.move(e_k, backends.device_of(x))
        seed = e_k if output is None else graph.OutputGrads.one(node, output, e_k)
        g = pullback(node, seed, rules_namespace(xp))[i]
        rows.append(
            np.zeros(node.parents[i].shape) if g is None else np.asarray(backends.host(g), dtype=np.float64)
        )
    analytic = (
        np.stack(rows).reshape(shape + tuple(node.parents[i].shape))
        if rows
        else np.zeros(shape + tuple(node.parents[i].shape))
    )
    wide = np.array(x, dtype=np.float64) if xp is np else backends.astype(x, np.float64)
    numeric = _central_differences(forward_at, [wide], 0, eps)
    return analytic, numeric


MODES = ("fwd", "rev")


def check_grads(
    f: Callable[..., Any],
    args: Sequence[Any],
    order: int = 2,
    modes: Sequence[str] = MODES,
    eps: float | None = None,
    atol: float | None = None,
    rtol: float | None = None,
) -> None:
    """JAX's and autograd's checker: every derivative of ``f(*args)`` up to ``order``, in
    each of ``modes`` (``"fwd"``: forward mode, ``"rev"``: reverse mode), against central
    differences. Raises :class:`GradcheckError` naming the order, the mode, the output
    and argument leaves and the worst element; returns None when all agree.

    ``args`` is a tuple of arguments (Tensors, arrays, floats, or pytrees of them); f may
    return a pytree. Order k checks the Jacobian of each mode's order k-1 derivative
    (``jacobian(f, mode=...)``, the whole Jacobian rather than JAX's random directions)
    against central differences of it. Defaults by dtype: float64 ``eps=1e-6,
    atol=1e-5, rtol=1e-3``; float32 ``eps=1e-3, atol=rtol=1e-2``.

    >>> import chainrule as cr
    >>> cr.check_grads(lambda x: cr.sin(x) * x, (cr.tensor([0.5, 1.5], dtype="float64"),), order=2)
    """
    modes = (modes,) if isinstance(modes, str) else tuple(modes)  # "rev" alone, as JAX takes it
    for m in modes:
        if m not in MODES:
            raise ValueError(f"check_grads: modes must be among {MODES}, got {m!r}")
    if not isinstance(order, int) or order < 1:
        raise ValueError(f"check_grads: order must be a positive int, got {order!r}")
    leaves, in_def = tree_flatten(tuple(args))
    xs = [x if isinstance(x, Tensor) else Tensor._make(as_array(x, what="check_grads"), None) for x in leaves]
    checked = [i for i, x in enumerate(xs) if backends.kind(x.dtype) == "f"]
    if not checked:
        raise ValueError(
            "check_grads: no floating-point argument to check (integer and boolean arguments are not "
            "differentiated); pass the arguments as floats"
        )
    single = any(backends.numpy_dtype(xs[i].dtype) == np.float32 for i in checked)
    eps = (1e-3 if single else 1e-6) if eps is None else eps
    atol = (1e-2 if single else 1e-5) if atol is None else atol
    rtol = (1e-2 if single else 1e-3) if rtol is None else rtol

    def flat_f(*checked_leaves: Any) -> tuple[Any, ...]:
        call = list(xs)
        for i, x in zip(checked, checked_leaves):
            call[i] = x
        return tuple(tree_flatten(f(*in_def.unflatten(iter(call))))[0])

    _check_derivatives(flat_f, [xs[i] for i in checked], order, 1, tuple(modes), eps, atol, rtol)


def _check_derivatives(
    flat_f: Callable[..., tuple[Any, ...]],
    xs: list[Tensor],
    order: int,
    level: int,
    modes: tuple[str, ...],
    eps: float,
    atol: float,
    rtol: float,
) -> None:
    """Check the first derivatives of flat_f (a tuple of leaves) in each mode, then
    recurse on each mode's derivative (its leaves: one block per output and argument)."""
    argnums = tuple(range(len(xs)))
    for m in modes:
        analytic = jacobian(flat_f, argnums, mode=m)(*xs)  # analytic[k][j] = ∂out_k/∂x_j
        for k, row in enumerate(analytic):
            for j, block in enumerate(row):
                numeric = _central_differences(lambda *a, k=k: flat_f(*a)[k], xs, j, eps)
                worst = _worst(np.asarray(backends.host(block._data), dtype=np.float64), numeric, atol, rtol)
                if worst is not None:
                    raise GradcheckError(
                        f"check_grads: the order-{level} derivative in {m} mode, of output leaf {k} "
                        f"with respect to argument leaf {j} (shape {xs[j].shape}): "
                        f"{_describe(worst, xs[j].ndim)}"
                    )
        if level < order:

            def derivative(*a: Any, m: str = m) -> tuple[Any, ...]:
                return tuple(tree_flatten(jacobian(flat_f, argnums, mode=m)(*a))[0])

            _check_derivatives(derivative, xs, order, level + 1, modes, eps, atol, rtol)
