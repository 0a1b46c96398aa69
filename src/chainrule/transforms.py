"""Function transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp,
directional_derivative.

Each takes a function of Tensors and returns a function (or values). The arguments
they differentiate (``argnums``) may be Tensors, NumPy arrays or Python floats; every
other argument reaches f exactly as given (a loop counter, a function, a string). They
return Tensors and compose —
``grad(grad(f))``, ``jacobian(jacobian(f, mode="rev"), mode="fwd")`` — because
every derivative they compute is itself recorded when anything outside can still
differentiate it.

The Jacobian of f: ℝ^{x.shape} → ℝ^{out.shape} is laid out ``out.shape + x.shape``
(numerator layout): ``J[i..., j...] = ∂out[i...]/∂x[j...]``. Reverse mode pushes
all cotangent basis vectors back in one batched pass (cost ∝ output size); forward
mode pushes all tangent basis vectors forward in one batched pass (cost ∝ input
size).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeAlias, TypeVar, cast, overload

import numpy as np

from . import forward, functions, graph, mode
from .autograd import pull_back
from .basis import StackedDiagonal
from .mode import enable_grad
from .tensor import Tensor, TensorLike, as_array

__all__ = ["directional_derivative", "grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp"]

MODES = ("auto", "rev", "fwd")

Argnums: TypeAlias = "int | tuple[int, ...]"
"""Which arguments a transform differentiates: one position, or a tuple of them."""
Derivatives: TypeAlias = "Tensor | tuple[Derivatives, ...]"
"""A derivative, or a tuple of them: one per argument of a tuple ``argnums``, one per output
of an f that returns a tuple (and both, nested, for both)."""
Progress: TypeAlias = "Callable[[int, int], None]"
"""``progress(done, total)``, called after each batch of a Jacobian."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _as_tensor(x: TensorLike, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return Tensor._make(as_array(x, what=what), None)


def _argnums(argnums: Argnums, n_args: int, what: str) -> tuple[int, ...]:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in nums:
        if not isinstance(i, int) or not -n_args <= i < n_args:
            raise ValueError(
                f"{what}: argnums {argnums!r} is out of range for a function called with {n_args} argument(s)"
            )
    return tuple(i % n_args for i in nums)


def _variable(x: Tensor, what: str) -> Tensor:
    """A differentiable stand-in for x that outer transforms still see as x.

    When x already requires grad (an outer reverse transform is watching it) the
    stand-in is an identity op applied to x, so gradients flow on to x; otherwise a
    fresh leaf with x's value and tangents.
    """
    if x.dtype.kind != "f":
        raise TypeError(
            f"{what}: cannot differentiate with respect to an input of dtype {x.dtype}; "
            "use a floating-point tensor"
        )
    if x.requires_grad:
        with enable_grad():
            return functions.reshape(x, x.shape)
    v = Tensor._make(x.data, None)
    v._requires_grad = True
    v._tangents = x._tangents
    return v


def _converted(args: Sequence[Any], argnums: Argnums, what: str) -> tuple[list[Any], tuple[int, ...]]:
    """The arguments with those at ``argnums`` made Tensors; the others stay as given."""
    nums = _argnums(argnums, len(args), what)
    args = list(args)
    for i in nums:
        args[i] = _as_tensor(args[i], what)
    return args, nums


def _prepare(args: Sequence[Any], argnums: Argnums, what: str) -> tuple[list[Any], tuple[int, ...]]:
    """The arguments with those at ``argnums`` replaced by differentiable stand-ins."""
    args, nums = _converted(args, argnums, what)
    for i in nums:
        args[i] = _variable(args[i], what)
    return args, nums


def _retire(args: Sequence[Any], nums: Sequence[int]) -> None:
    """The transform is done: its fresh leaves stop counting as things to differentiate."""
    for i in nums:
        if args[i].grad_fn is None:
            args[i]._requires_grad = False


def _transform(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Mark a transform's entry point: the outermost one (in this thread) releases its results."""

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        depth = mode.state().depth
        token = mode.change(depth=depth + 1)
        try:
            result = fn(*args, **kwargs)
        finally:
            mode.restore(token)
        return result if depth else _released(result)

    return run


def _released(value: Any) -> Any:
    """A result, cut from the graph unless something outside the transform can still
    differentiate it (a leaf that requires grad, or a live forward-mode tangent)."""
    if isinstance(value, (tuple, list)):
        return type(value)(_released(v) for v in value)
    if not isinstance(value, Tensor) or value.grad_fn is None or forward.live_tangents(value):
        return value
    _, watched = graph.reaching([value.grad_fn], set())
    return value if watched else value.detach()


@overload
def value_and_grad(f: Callable[..., Any], argnums: int = 0) -> Callable[..., tuple[Tensor, Tensor]]: ...


@overload
def value_and_grad(
    f: Callable[..., Any], argnums: tuple[int, ...]
) -> Callable[..., tuple[Tensor, tuple[Tensor, ...]]]: ...


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0
) -> Callable[..., tuple[Tensor, Tensor | tuple[Tensor, ...]]]:
    """``(f(*args), ∂f/∂args[argnums])`` for a scalar f; the gradient has x's shape.

    >>> import chainrule as cr
    >>> value, slope = cr.value_and_grad(lambda x: x ** 3)(2.0)
    >>> float(value), float(slope)              # x³ and 3x² at 2
    (8.0, 12.0)
    """

    @_transform
    def value_and_gradient(*args: Any) -> tuple[Tensor, Tensor | tuple[Tensor, ...]]:
        variables, nums = _prepare(args, argnums, "grad")
        try:
            with enable_grad():
                out = _as_tensor(f(*variables), "grad")
            if out.size != 1:
                raise TypeError(
                    f"grad: f must return a scalar, it returned shape {out.shape}; "
                    "use cr.jacobian for the full derivative or cr.vjp for a "
                    "vector-Jacobian product"
                )
            grads = pull_back(out, [variables[i] for i in nums], np.ones(out.shape, dtype=out.dtype))
        finally:
            _retire(variables, nums)
        return out, (tuple(grads) if isinstance(argnums, tuple) else grads[0])

    return value_and_gradient


@overload
def grad(f: Callable[..., Any], argnums: int = 0) -> Callable[..., Tensor]: ...


@overload
def grad(f: Callable[..., Any], argnums: tuple[int, ...]) -> Callable[..., tuple[Tensor, ...]]: ...


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Tensor | tuple[Tensor, ...]]:
    """The function x ↦ ∇f(x) of a scalar f (a tuple of gradients for tuple ``argnums``).

    >>> import chainrule as cr
    >>> float(cr.grad(cr.grad(cr.sin))(0.5))    # -sin(0.5)
    -0.4794255495071411
    """

    def gradient(*args: Any) -> Tensor | tuple[Tensor, ...]:
        return value_and_grad(f, argnums)(*args)[1]

    return gradient


@_transform
def vjp(
    f: Callable[..., Any], *primals: TensorLike
) -> tuple[Tensor, Callable[[TensorLike], tuple[Tensor, ...]]]:
    """``(f(*primals), vjp_fn)`` with ``vjp_fn(u) = (uᵀ ∂f/∂primal for each primal)``.

    ``vjp_fn`` may be called many times (the graph is kept) and inside other
    transforms.
    """
    args, nums = _prepare(primals, tuple(range(len(primals))), "vjp")
    try:
        with enable_grad():
            out = _as_tensor(f(*args), "vjp")
    finally:
        _retire(args, nums)

    def vjp_fn(cotangent: TensorLike) -> tuple[Tensor, ...]:
        u = cotangent if isinstance(cotangent, Tensor) else as_array(cotangent, out.dtype, what="vjp")
        if tuple(np.shape(u)) != out.shape:
            raise ValueError(
                f"vjp: the cotangent has shape {tuple(np.shape(u))} but f's output has "
                f"shape {out.shape}; they must be equal"
            )
        return tuple(pull_back(out, [args[i] for i in nums], u))

    return out, _transform(vjp_fn)


@overload
def jvp(
    f: Callable[..., Tensor], primals: Sequence[TensorLike], tangents: Sequence[TensorLike]
) -> tuple[Tensor, Tensor]: ...


@overload
def jvp(
    f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike]
) -> tuple[Derivatives, Derivatives]: ...


@_transform
def jvp(
    f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike]
) -> tuple[Derivatives, Derivatives]:
    """``(f(*primals), J·tangents)`` computed in forward mode (no backward graph).

    Tangents have their primal's shape, or carry leading batch axes (many directions
    at once): ``batch + primal.shape`` gives ``batch + out.shape``.

    >>> import chainrule as cr
    >>> out, t = cr.jvp(cr.sin, (0.0,), (1.0,))
    >>> float(t)                                # cos(0)
    1.0
    """
    xs = [_as_tensor(p, "jvp") for p in primals]
    ts = [_as_tensor(t, "jvp") for t in tangents]
    if len(xs) != len(ts):
        raise ValueError(f"jvp: {len(xs)} primals but {len(ts)} tangents")
    for p, t in zip(xs, ts):
        if p.dtype.kind != "f":
            raise TypeError(
                f"jvp: cannot differentiate with respect to a primal of dtype {p.dtype}; "
                "use a floating-point tensor"
            )
        if t.shape[t.ndim - p.ndim :] != p.shape or t.ndim < p.ndim:
            raise ValueError(
                f"jvp: a tangent of shape {t.shape} does not fit a primal of shape "
                f"{p.shape} (it must be that shape, with optional leading batch axes)"
            )
    batch = ts[0].shape[: ts[0].ndim - xs[0].ndim] if ts else ()
    level = forward.open_level()
    try:
        duals = [_dual(p, t.astype(p.dtype) if t.dtype != p.dtype else t, level) for p, t in zip(xs, ts)]
        result = f(*duals)
        outs = [_as_tensor(o, "jvp") for o in (result if isinstance(result, (tuple, list)) else (result,))]
        found = [(o._tangents or {}).pop(level, None) for o in outs]
    finally:
        forward.close_level(level)
    out_tangents = [
        Tensor._make(np.zeros(batch + o.shape, dtype=o.dtype), None) if t is None else t
        for o, t in zip(outs, found)
    ]
    if isinstance(result, (tuple, list)):
        return tuple(outs), tuple(out_tangents)
    return outs[0], out_tangents[0]


def _dual(p: Tensor, t: Tensor, level: int) -> Tensor:
    """p carrying tangent t at ``level`` (p itself is left untouched)."""
    view = functions.reshape(p, p.shape) if p.requires_grad or p._tangents else Tensor._make(p.data, None)
    view._tangents = {**(view._tangents or {}), level: t}
    return view


def _check_mode(mode: str, chunk_size: object) -> None:
    if mode not in MODES:
        raise ValueError(f"jacobian: mode must be one of {MODES}, got {mode!r}")
    if chunk_size is not None and (
        not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1
    ):
        raise ValueError(f"jacobian: chunk_size must be a positive int or None, got {chunk_size!r}")


def _basis(
    n: int, dtype: np.dtype, start: int, stop: int, shape: tuple[int, ...]
) -> StackedDiagonal | np.ndarray:
    """Rows start..stop of the n×n identity, each reshaped to ``shape`` (all of it is
    kept as its diagonal, see basis.py)."""
    if start == 0 and stop == n > 0:
        return StackedDiagonal.identity(shape, dtype)
    rows = np.zeros((stop - start, n), dtype=dtype)
    rows[np.arange(stop - start), np.arange(start, stop)] = 1
    return rows.reshape((stop - start,) + shape)


def _chunks(n: int, chunk_size: int | None) -> list[tuple[int, int]]:
    step = n if chunk_size is None else chunk_size
    return [(a, min(a + step, n)) for a in range(0, max(n, 1), step)] if n else [(0, 0)]


def _stack_rows(parts: list[Tensor]) -> Tensor:
    return parts[0] if len(parts) == 1 else functions.concatenate(parts, axis=0)


def _to_layout(rows: Tensor, lead: tuple[int, ...], tail: tuple[int, ...]) -> Tensor:
    """Rows of shape (k,) + tail, one per element of ``lead``, as ``lead + tail``."""
    return functions.reshape(rows, lead + tail)


def jacobian(
    f: Callable[..., Any],
    argnums: Argnums = 0,
    mode: str = "auto",
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> Callable[..., Derivatives]:
    """The generalized Jacobian of f, shaped ``out.shape + x.shape``.

    ``mode="rev"`` seeds the stacked identity of cotangents and runs ONE backward
    pass; ``"fwd"`` pushes the stacked identity of tangents through ONE forward pass;
    ``"auto"`` uses forward mode when x has fewer elements than the output (and f has
    no custom Function, which only has a reverse rule).
    ``chunk_size`` splits the identity into batches of that many rows to bound memory;
    ``progress(done, total)`` is called after each batch.

    >>> import chainrule as cr
    >>> J = cr.jacobian(lambda v: cr.stack([3 * v[0] ** 2 * v[1], 2 * v[0] + v[1] ** 8]))
    >>> J(cr.tensor([1.0, 2.0])).tolist()       # [[6xy, 3x²], [2, 8y⁷]]
    [[12.0, 3.0], [2.0, 1024.0]]
    """
    _check_mode(mode, chunk_size)

    @_transform
    def jacobian_fn(*args: Any) -> Derivatives:
        tuple_args = isinstance(argnums, tuple)
        if mode == "fwd":
            converted, nums = _converted(args, argnums, "jacobian")
            return _by_output(
                [_forward_jacobian(f, converted, i, chunk_size, progress) for i in nums], tuple_args
            )
        variables, nums = _prepare(args, argnums, "jacobian")
        try:
            with enable_grad():
                out = f(*variables)
            if isinstance(out, (tuple, list)):
                raise TypeError(
                    "jacobian: mode='rev' and 'auto' need f to return one tensor; "
                    "use mode='fwd' for a function that returns several"
                )
            out = _as_tensor(out, "jacobian")
            xs = [variables[i] for i in nums]
            if mode == "auto" and sum(x.size for x in xs) < out.size and not _reverse_only(out, xs):
                result = _by_output(
                    [_forward_jacobian(f, variables, i, chunk_size, progress) for i in nums], tuple_args
                )
            else:
                blocks = _reverse_jacobian(out, xs, chunk_size, progress)
                result = blocks if tuple_args else blocks[0]
        finally:
            _retire(variables, nums)
        return result

    return jacobian_fn


def _reverse_only(out: Tensor, xs: list[Tensor]) -> bool:
    """Whether a custom Function without a forward-mode rule (no ``jvp``) lies on a path
    from the inputs xs to out, so that only reverse mode can differentiate through it."""
    if out.grad_fn is None:
        return False
    on_paths, _ = graph.reaching([out.grad_fn], {x if x.grad_fn is None else x.grad_fn for x in xs})
    return any(node.op.category == "function" and node.op.jvp is None for node in on_paths)


def _by_output(columns: list[Derivatives], tuple_args: bool) -> Derivatives:
    """Forward-mode blocks (one per argument, each a tuple when f returns several
    outputs) arranged as J[output][argument], as for nested derivatives."""
    if not isinstance(columns[0], tuple):
        return tuple(columns) if tuple_args else columns[0]
    if not tuple_args:
        return columns[0]
    return tuple(tuple(column[k] for column in columns) for k in range(len(columns[0])))


def _reverse_jacobian(
    out: Tensor,
    xs: list[Tensor],
    chunk_size: int | None,
    progress: Progress | None,
    create_graph: bool | None = None,
) -> tuple[Tensor, ...]:
    if out.ndim == 0:  # one cotangent: the gradient itself, with no batch axis to fold away
        grads = pull_back(out, xs, np.ones((), dtype=out.dtype), create_graph=create_graph)
        if progress is not None:
            progress(1, 1)
        return tuple(grads)
    m = out.size
    parts: list[list[Tensor]] = [[] for _ in xs]
    spans = _chunks(m, chunk_size)
    for start, stop in spans:
        seed = _basis(m, out.dtype, start, stop, out.shape)
        for k, g in enumerate(pull_back(out, xs, seed, batch_ndim=1, create_graph=create_graph)):
            parts[k].append(g)
        if progress is not None:
            progress(stop, m)
    return tuple(_to_layout(_stack_rows(p), out.shape, x.shape) for p, x in zip(parts, xs))


def _forward_jacobian(
    f: Callable[..., Any], args: Sequence[Any], i: int, chunk_size: int | None, progress: Progress | None
) -> Tensor | tuple[Tensor, ...]:
    """∂f/∂args[i] by forward mode: a Tensor, or a tuple of them when f returns a tuple."""
    x = args[i]
    n = x.size
    rows: list[list[Tensor]] | None = None
    for start, stop in _chunks(n, chunk_size):
        # A stacked diagonal stands in for the dense identity rows (see basis.py).
        tangent = Tensor._make(cast(np.ndarray, _basis(n, x.dtype, start, stop, x.shape)), None)
        with enable_grad():
            out, t = jvp(lambda xi: f(*args[:i], xi, *args[i + 1 :]), (x,), (tangent,))
        outs, ts = (out, t) if isinstance(out, tuple) else ((out,), (t,))
        rows = [[] for _ in outs] if rows is None else rows
        for row, ti in zip(rows, ts):
            row.append(ti)
        if progress is not None:
            progress(stop, n)
    assert rows is not None, "_chunks gives at least one batch"
    jacobians = tuple(  # each row block is (n,) + o.shape; J is o.shape + x.shape
        _to_layout(functions.transpose(functions.reshape(_stack_rows(row), (n, o.size))), o.shape, x.shape)
        for row, o in zip(rows, outs)
    )
    return jacobians if isinstance(out, tuple) else jacobians[0]


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Derivatives]:
    """The second derivatives of f, shaped ``out.shape + x.shape + x.shape``:
    ``H[i..., j..., k...] = ∂²out[i...]/∂x[j...]∂x[k...]`` (``x.shape + x.shape`` for a
    scalar f). For tuple ``argnums`` the blocks come as ``H[a][b] = ∂²f/∂x_a∂x_b``,
    shaped ``out.shape + x_a.shape + x_b.shape``.

    Forward over reverse: the reverse-mode Jacobian of f, differentiated by one batched
    forward pass (``jacobian(jacobian(f, mode="rev"), mode="fwd")``). A custom Function
    without a ``jvp`` stops forward mode; when one lies between x and f's output, the
    Hessian is taken reverse over reverse instead: its ``backward`` is recorded, then
    differentiated by one batched reverse pass per argument.

    >>> import chainrule as cr
    >>> float(cr.hessian(lambda x: x ** 3)(2.0))  # 6x
    12.0
    >>> cr.hessian(lambda x: x ** 3)(cr.tensor([1.0, 2.0])).numpy()[1].tolist()  # 6x₁ e₁e₁ᵀ
    [[0.0, 0.0], [0.0, 12.0]]
    """
    forward_over_reverse = jacobian(jacobian(f, argnums, mode="rev"), argnums, mode="fwd")

    @_transform
    def hessian_fn(*args: Any) -> Derivatives:
        try:
            return forward_over_reverse(*args)
        except RuntimeError as error:  # a Function without jvp refused forward mode, or f failed
            failure = error
        blocks = _reverse_over_reverse(f, args, argnums)
        if blocks is None:  # no such Function on the way: the failure is f's own
            raise failure
        return blocks

    return hessian_fn


def _reverse_over_reverse(f: Callable[..., Any], args: Sequence[Any], argnums: Argnums) -> Derivatives | None:
    """``H[a][b] = ∂(∂out/∂x_a)/∂x_b`` with the first derivatives recorded, then one
    batched reverse Jacobian of each; None unless f's graph holds a custom Function
    without a forward-mode rule (the one case that needs it)."""
    variables, nums = _prepare(args, argnums, "hessian")
    xs = [variables[i] for i in nums]
    try:
        with enable_grad():
            out = f(*variables)
            if isinstance(out, (tuple, list)) or not _reverse_only(out, xs):
                return None
            firsts = _reverse_jacobian(out, xs, None, None, create_graph=True)
            blocks = tuple(_reverse_jacobian(first, xs, None, None) for first in firsts)
    finally:
        _retire(variables, nums)
    return blocks if isinstance(argnums, tuple) else blocks[0][0]


def hvp(f: Callable[..., Any], primals: Sequence[TensorLike], tangents: Sequence[TensorLike]) -> Derivatives:
    """The Hessian-vector product H·v of a scalar f at ``primals``, without forming H:
    forward over reverse, ``jvp(grad(f), primals, tangents)``, at a few times the cost
    of one gradient. ``(H·v)_a = Σ_b ∂²f/∂x_a∂x_b · v_b`` has x_a's shape: one tensor for one
    primal, a tuple of them (one per primal) for several. Tangents may carry leading
    batch axes (several directions at once), as in ``jvp``; a custom Function without a
    ``jvp`` on the way raises, as in ``jvp`` (``hessian`` goes around it).

    >>> import chainrule as cr
    >>> x, v = cr.tensor([1.0, 2.0]), cr.tensor([1.0, 1.0])
    >>> cr.hvp(lambda x: cr.sum(x ** 3), (x,), (v,)).tolist()  # diag(6x)·v
    [6.0, 12.0]
    """
    argnums = tuple(range(len(primals))) if len(primals) > 1 else 0
    return jvp(grad(f, argnums), primals, tangents)[1]


def directional_derivative(f: Callable[[Tensor], Tensor], x: TensorLike, v: TensorLike) -> Tensor:
    """∇f(x)·v/|v|: the slope of a scalar f at x along the direction of v (forward mode)."""
    x = _as_tensor(x, "directional_derivative")
    v = _as_tensor(v, "directional_derivative")
    if v.shape != x.shape:
        raise ValueError(f"directional_derivative: v has shape {v.shape} but x has shape {x.shape}")
    norm = float(np.linalg.norm(v.data))
    if norm == 0:
        raise ValueError("directional_derivative: v must be non-zero (it is normalized to |v| = 1)")
    _, slope = jvp(f, (x,), (v / norm,))
    return slope
