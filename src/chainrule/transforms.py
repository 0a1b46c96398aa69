"""Function transforms: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp,
directional_derivative.

Each takes a function of Tensors and returns a function (or values). The arguments
they differentiate (``argnums``) may be Tensors, NumPy arrays or Python floats, or
pytrees of them (nested dicts, lists and tuples, see :mod:`chainrule.tree`): the
derivative then comes back in the argument's structure, as in JAX —
``grad(loss)({"W": W, "b": b}, x)`` is ``{"W": dW, "b": db}``. Every other argument
reaches f exactly as given (a loop counter, a function, a string). They return Tensors
and compose — ``grad(grad(f))``, ``jacobian(jacobian(f, mode="rev"), mode="fwd")`` —
because every derivative they compute is itself recorded when anything outside can
still differentiate it.

The Jacobian of f: ℝ^{x.shape} → ℝ^{out.shape} is laid out ``out.shape + x.shape``
(numerator layout): ``J[i..., j...] = ∂out[i...]/∂x[j...]``. Reverse mode pushes
all cotangent basis vectors back in one batched pass (cost ∝ output size); forward
mode pushes all tangent basis vectors forward in one batched pass (cost ∝ input
size). For pytrees the blocks nest as in JAX: the outer structure is f's output, the
inner one the argument's (``J[out_leaf][x_leaf]``, with a tuple over ``argnums`` in
between when ``argnums`` is a tuple).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeAlias, TypeVar, cast

import numpy as np

from . import backends, dtypes, forward, functions, graph, mode
from .autograd import pull_back
from .basis import StackedDiagonal
from .mode import enable_grad
from .ops.core import device_of
from .tensor import Tensor, TensorLike, as_array
from .tree import PyTreeDef, tree_flatten, tree_map

__all__ = ["directional_derivative", "grad", "hessian", "hvp", "jacobian", "jvp", "value_and_grad", "vjp"]

MODES = ("auto", "rev", "fwd")

Argnums: TypeAlias = "int | tuple[int, ...]"
"""Which arguments a transform differentiates: one position, or a tuple of them."""
Derivatives: TypeAlias = Any
"""A derivative: a Tensor, or a pytree of them (one per argument of a tuple ``argnums``, one
per leaf of a pytree argument or output, nested as JAX nests them)."""
Progress: TypeAlias = "Callable[[int, int], None]"
"""``progress(done, total)``, called after each batch of a Jacobian."""

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _as_tensor(x: TensorLike, what: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return Tensor._make(as_array(x, what=what), None)


def _elsewhere(t: Tensor) -> Any:
    """The device of t's values when they are another array library's, else None (for a
    tensor vmap batches, that of the batch it holds)."""
    device = device_of(t)
    return None if isinstance(device, str) and device == "cpu" else device


def _filled(like: Tensor, shape: tuple[int, ...], value: float) -> Any:
    """An array of ``shape`` filled with ``value`` in like's dtype, where like's values are:
    a seed, or zeros for an unused input."""
    array = np.full(shape, value, dtype=dtypes.numpy_dtype(like.dtype))
    device = _elsewhere(like)
    return array if device is None else backends.move(array, device)


def _argnums(argnums: Argnums, n_args: int, what: str) -> tuple[int, ...]:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    for i in nums:
        if not isinstance(i, int) or not -n_args <= i < n_args:
            raise ValueError(
                f"{what}: argnums {argnums!r} is out of range for a function called with {n_args} argument(s)"
            )
    return tuple(i % n_args for i in nums)


class _Inputs:
    """The differentiated arguments of one call (those at ``argnums``), flattened to their
    leaves as Tensors: the transforms work on the leaves and give results back nested as
    the arguments are (:meth:`regroup`)."""

    def __init__(self, args: Sequence[Any], argnums: Argnums, what: str) -> None:
        self.args = list(args)
        self.nums = _argnums(argnums, len(self.args), what)
        self.several = isinstance(argnums, tuple)
        self.defs: list[PyTreeDef] = []
        self.leaves: list[Tensor] = []
        for i in self.nums:
            leaves, treedef = tree_flatten(self.args[i])
            self.defs.append(treedef)
            self.leaves += [_as_tensor(x, what) for x in leaves]

    def call(self, f: Callable[..., _R], leaves: Sequence[Any]) -> _R:
        """f called with the leaves in place of the differentiated arguments' leaves."""
        args = list(self.args)
        for i, part in zip(self.nums, self._split(leaves)):
            args[i] = part
        return f(*args)

    def regroup(self, per_leaf: Sequence[Any]) -> Any:
        """One value per leaf, nested as the arguments (a tuple of them for tuple ``argnums``)."""
        trees = self._split(per_leaf)
        return tuple(trees) if self.several else trees[0]

    def _split(self, per_leaf: Sequence[Any]) -> list[Any]:
        trees, k = [], 0
        for treedef in self.defs:
            trees.append(treedef.unflatten(iter(per_leaf[k : k + treedef.num_leaves])))
            k += treedef.num_leaves
        return trees


def _variable(x: Tensor, what: str) -> Tensor:
    """A differentiable stand-in for x that outer transforms still see as x.

    When x already requires grad (an outer reverse transform is watching it) the
    stand-in is an identity op applied to x, so gradients flow on to x; otherwise a
    fresh leaf with x's value and tangents.
    """
    if dtypes.kind(x.dtype) != "f":
        raise TypeError(
            f"{what}: cannot differentiate with respect to an input of dtype {x.dtype}; "
            "use a floating-point tensor"
        )
    if x.requires_grad:
        with enable_grad():
            return functions.reshape(x, x.shape)
    v = x._leaf_alias()
    v._requires_grad = True
    v._tangents = x._tangents
    return v


def _variables(inputs: _Inputs, what: str) -> list[Tensor]:
    return [_variable(x, what) for x in inputs.leaves]


def _retire(variables: Sequence[Tensor]) -> None:
    """The transform is done: its fresh leaves stop counting as things to differentiate."""
    for v in variables:
        if v.grad_fn is None:
            v._requires_grad = False


def _outputs(value: Any, what: str) -> tuple[list[Tensor], PyTreeDef]:
    """f's output (a pytree) as its leaves, made Tensors, and its structure."""
    leaves, treedef = tree_flatten(value)
    return [_as_tensor(o, what) for o in leaves], treedef


def split_aux(result: Any, has_aux: bool, what: str) -> tuple[Any, Any]:
    """``(value, aux)`` of what f returned: with ``has_aux`` f returns that pair."""
    if not has_aux:
        return result, None
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        raise TypeError(
            f"{what}: with has_aux=True f must return a pair (value, aux), "
            f"it returned {type(result).__name__}"
            + ("" if not isinstance(result, (tuple, list)) else f" of length {len(result)}")
        )
    return result[0], result[1]


def transform_entry(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """Mark a transform's entry point: the outermost one (in this thread) releases its results."""

    @functools.wraps(fn)
    def run(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        depth = mode.state().depth
        token = mode.change(depth=depth + 1)
        try:
            result = fn(*args, **kwargs)
        finally:
            mode.restore(token)
        return result if depth else cast(_R, tree_map(_released, result))

    return run


def _released(value: Any) -> Any:
    """A result, cut from the graph unless something outside the transform can still
    differentiate it (a leaf that requires grad, or a live forward-mode tangent)."""
    if not isinstance(value, Tensor) or value.grad_fn is None or forward.live_tangents(value):
        return value
    _, watched = graph.reaching([value.grad_fn], set())
    return value if watched else value.detach()


def value_and_grad(
    f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False
) -> Callable[..., tuple[Any, Derivatives]]:
    """``(f(*args), ∂f/∂args[argnums])`` for a scalar f; the gradient has x's shape (and
    x's structure for a pytree x; a tuple of them for tuple ``argnums``). With
    ``has_aux`` f returns ``(value, aux)`` and the result is ``((value, aux), gradient)``;
    aux is not differentiated.

    >>> import chainrule as cr
    >>> value, slope = cr.value_and_grad(lambda x: x ** 3)(2.0)
    >>> float(value), float(slope)              # x³ and 3x² at 2
    (8.0, 12.0)
    """

    @transform_entry
    def value_and_gradient(*args: Any) -> tuple[Any, Derivatives]:
        inputs = _Inputs(args, argnums, "grad")
        variables = _variables(inputs, "grad")
        try:
            with enable_grad():
                value, aux = split_aux(inputs.call(f, variables), has_aux, "grad")
            if value is None or isinstance(value, (dict, list, tuple)):
                raise TypeError(
                    f"grad: f must return a scalar, it returned {type(value).__name__}"
                    + ("" if has_aux else "; if it returns (value, aux), pass has_aux=True")
                )
            out = _as_tensor(value, "grad")
            if out.size != 1:
                raise TypeError(
                    f"grad: f must return a scalar, it returned shape {out.shape}; "
                    "use cr.jacobian for the full derivative or cr.vjp for a "
                    "vector-Jacobian product"
                )
            grads = pull_back(out, variables, _filled(out, out.shape, 1))
        finally:
            _retire(variables)
        return ((out, aux) if has_aux else out), inputs.regroup(grads)

    return value_and_gradient


def grad(f: Callable[..., Any], argnums: Argnums = 0, has_aux: bool = False) -> Callable[..., Derivatives]:
    """The function x ↦ ∇f(x) of a scalar f (nested as x is; a tuple of gradients for
    tuple ``argnums``). With ``has_aux`` f returns ``(value, aux)`` and the function
    returns ``(gradient, aux)``.

    >>> import chainrule as cr
    >>> float(cr.grad(cr.grad(cr.sin))(0.5))    # -sin(0.5)
    -0.4794255495071411
    >>> cr.grad(lambda p: cr.sum(p["w"] * p["b"]))({"w": 2.0, "b": 3.0})
    {'w': tensor(3.), 'b': tensor(2.)}
    """
    value_and_gradient = value_and_grad(f, argnums, has_aux)

    def gradient(*args: Any) -> Derivatives:
        value, g = value_and_gradient(*args)
        return (g, value[1]) if has_aux else g

    return gradient


@transform_entry
def vjp(f: Callable[..., Any], *primals: Any, has_aux: bool = False) -> tuple[Any, ...]:
    """``(f(*primals), vjp_fn)`` with ``vjp_fn(u) = (uᵀ ∂f/∂primal for each primal)``;
    ``(out, vjp_fn, aux)`` with ``has_aux`` (f returns ``(out, aux)``).

    Primals and f's output may be pytrees; the cotangent u has the output's structure
    and each result the structure of its primal. ``vjp_fn`` may be called many times
    (the graph is kept) and inside other transforms; it makes one reverse pass per
    leaf of the output.

    >>> import chainrule as cr
    >>> out, vjp_fn = cr.vjp(lambda x, y: x * y, 2.0, 5.0)
    >>> vjp_fn(cr.tensor(1.0))                  # (y, x)
    (tensor(5.), tensor(2.))
    """
    inputs = _Inputs(primals, tuple(range(len(primals))), "vjp")
    variables = _variables(inputs, "vjp")
    try:
        with enable_grad():
            value, aux = split_aux(inputs.call(f, variables), has_aux, "vjp")
    finally:
        _retire(variables)
    outs, out_def = _outputs(value, "vjp")

    def vjp_fn(cotangent: Any) -> tuple[Any, ...]:
        total: list[Tensor] | None = None
        for out, u in zip(outs, out_def.flatten_up_to(cotangent, "vjp: the cotangent")):
            u = u if isinstance(u, Tensor) else as_array(u, out.dtype, what="vjp")
            if tuple(np.shape(u)) != out.shape:
                raise ValueError(
                    f"vjp: the cotangent has shape {tuple(np.shape(u))} but f's output has "
                    f"shape {out.shape}; they must be equal"
                )
            grads = pull_back(out, variables, u)
            total = grads if total is None else [a + b for a, b in zip(total, grads)]
        if total is None:  # f has no output leaves
            total = [Tensor._make(_filled(v, v.shape, 0), None) for v in variables]
        return cast("tuple[Any, ...]", inputs.regroup(total))

    result = out_def.unflatten(iter(outs)), transform_entry(vjp_fn)
    return (*result, aux) if has_aux else result


@transform_entry
def jvp(
    f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], has_aux: bool = False
) -> tuple[Any, ...]:
    """``(f(*primals), J·tangents)`` computed in forward mode (no backward graph);
    ``(out, tangent_out, aux)`` with ``has_aux`` (f returns ``(out, aux)``; aux is not
    differentiated).

    ``primals`` is a tuple (or list) of arguments, each a Tensor-like or a pytree of
    them; ``tangents`` has the same structure. Each tangent has its primal's shape, or
    carries leading batch axes (many directions at once): ``batch + primal.shape``
    gives ``batch + out.shape``. The output and its tangent have f's output structure.

    >>> import chainrule as cr
    >>> out, t = cr.jvp(cr.sin, (0.0,), (1.0,))
    >>> float(t)                                # cos(0)
    1.0
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    inputs = _Inputs(primals, tuple(range(len(primals))), "jvp")
    xs = inputs.leaves
    try:
        ts = [_as_tensor(t, "jvp") for t in tree_flatten(primals)[1].flatten_up_to(tangents, "jvp: tangents")]
    except ValueError as error:
        raise ValueError(f"{error}; the tangents must be nested as the primals") from None
    batch = _tangent_batch(xs, ts)
    level = forward.open_level()
    try:
        duals = [_dual(p, t.astype(p.dtype) if t.dtype != p.dtype else t, level) for p, t in zip(xs, ts)]
        value, aux = split_aux(inputs.call(f, duals), has_aux, "jvp")
        outs, out_def = _outputs(value, "jvp")
        found = [(o._tangents or {}).pop(level, None) for o in outs]
        for leaf in tree_flatten(aux)[0]:  # aux keeps no tangent of this (closed) level
            if isinstance(leaf, Tensor) and leaf._tangents:
                leaf._tangents.pop(level, None)
    finally:
        forward.close_level(level)
    out_tangents = [
        Tensor._make(_filled(o, batch + o.shape, 0), None) if t is None else t for o, t in zip(outs, found)
    ]
    result = out_def.unflatten(iter(outs)), out_def.unflatten(iter(out_tangents))
    return (*result, aux) if has_aux else result


def _tangent_batch(xs: Sequence[Tensor], ts: Sequence[Tensor]) -> tuple[int, ...]:
    """The leading batch axes the tangents share (checked against their primals)."""
    batches = set()
    for p, t in zip(xs, ts):
        if dtypes.kind(p.dtype) != "f":
            raise TypeError(
                f"jvp: cannot differentiate with respect to a primal of dtype {p.dtype}; "
                "use a floating-point tensor"
            )
        if t.shape[t.ndim - p.ndim :] != p.shape or t.ndim < p.ndim:
            raise ValueError(
                f"jvp: a tangent of shape {t.shape} does not fit a primal of shape "
                f"{p.shape} (it must be that shape, with optional leading batch axes)"
            )
        batches.add(t.shape[: t.ndim - p.ndim])
    if len(batches) > 1:
        raise ValueError(f"jvp: the tangents carry different batch axes {sorted(batches)}; they must agree")
    return batches.pop() if batches else ()


def _dual(p: Tensor, t: Tensor, level: int) -> Tensor:
    """p carrying tangent t at ``level`` (p itself is left untouched)."""
    view = functions.reshape(p, p.shape) if p.requires_grad or p._tangents else p._leaf_alias()
    view._tangents = {**(view._tangents or {}), level: t}
    return view


def _check_mode(mode: str, chunk_size: object) -> None:
    if mode not in MODES:
        raise ValueError(f"jacobian: mode must be one of {MODES}, got {mode!r}")
    if chunk_size is not None and (
        not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1
    ):
        raise ValueError(f"jacobian: chunk_size must be a positive int or None, got {chunk_size!r}")


def basis_rows(like: Tensor, start: int, stop: int) -> StackedDiagonal | np.ndarray:
    """Rows start..stop of the n×n identity (n = like.size), each reshaped to like's shape,
    in like's dtype: all of it kept as its diagonal on NumPy (see basis.py), else the rows
    themselves where like's values are."""
    n, shape, dtype = like.size, like.shape, dtypes.numpy_dtype(like.dtype)
    device = _elsewhere(like)
    if start == 0 and stop == n > 0 and device is None:
        return StackedDiagonal.identity(shape, dtype)
    rows = np.zeros((stop - start, n), dtype=dtype)
    rows[np.arange(stop - start), np.arange(start, stop)] = 1
    rows = rows.reshape((stop - start,) + shape)
    return rows if device is None else backends.move(rows, device)


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
    has_aux: bool = False,
) -> Callable[..., Derivatives]:
    """The generalized Jacobian of f, shaped ``out.shape + x.shape``.

    ``mode="rev"`` seeds the stacked identity of cotangents and runs ONE backward
    pass (per leaf of a pytree output); ``"fwd"`` pushes the stacked identity of
    tangents through ONE forward pass (per leaf of a pytree argument); ``"auto"`` uses
    forward mode when x has fewer elements than the output (and f has no custom
    Function with only a reverse rule). ``chunk_size`` splits the identity into batches
    of that many rows to bound memory; ``progress(done, total)`` is called after each
    batch of each block. For pytrees the result nests as JAX's ``jacrev``/``jacfwd``:
    ``J[out_leaf][x_leaf]`` in f's output structure, each holding x's structure. With
    ``has_aux`` f returns ``(out, aux)`` and the function returns ``(J, aux)``; aux is
    not differentiated.

    >>> import chainrule as cr
    >>> J = cr.jacobian(lambda v: cr.stack([3 * v[0] ** 2 * v[1], 2 * v[0] + v[1] ** 8]))
    >>> J(cr.tensor([1.0, 2.0])).tolist()       # [[6xy, 3x²], [2, 8y⁷]]
    [[12.0, 3.0], [2.0, 1024.0]]
    """
    _check_mode(mode, chunk_size)

    @transform_entry
    def jacobian_fn(*args: Any) -> Derivatives:
        inputs = _Inputs(args, argnums, "jacobian")
        if mode == "fwd":
            return _with_aux(*_forward_jacobian(f, inputs, chunk_size, progress, has_aux), has_aux)
        variables = _variables(inputs, "jacobian")
        try:
            with enable_grad():
                value, aux = split_aux(inputs.call(f, variables), has_aux, "jacobian")
                outs, out_def = _outputs(value, "jacobian")
            fewer_inputs = sum(x.size for x in variables) < sum(o.size for o in outs)
            if mode == "auto" and fewer_inputs and not any(_reverse_only(o, variables) for o in outs):
                return _with_aux(*_forward_jacobian(f, inputs, chunk_size, progress, has_aux), has_aux)
            blocks = [_reverse_jacobian(o, variables, chunk_size, progress) for o in outs]
        finally:
            _retire(variables)
        return _with_aux(out_def.unflatten(iter([inputs.regroup(row) for row in blocks])), aux, has_aux)

    return jacobian_fn


def _with_aux(jacobians: Derivatives, aux: Any, has_aux: bool) -> Derivatives:
    return (jacobians, aux) if has_aux else jacobians


def _reverse_only(out: Tensor, xs: list[Tensor]) -> bool:
    """Whether a custom Function without a forward-mode rule (no ``jvp``) lies on a path
    from the inputs xs to out, so that only reverse mode can differentiate through it."""
    if out.grad_fn is None:
        return False
    on_paths, _ = graph.reaching([out.grad_fn], {x if x.grad_fn is None else x.grad_fn for x in xs})
    return any(node.op.category == "function" and node.op.jvp is None for node in on_paths)


def _reverse_jacobian(
    out: Tensor,
    xs: list[Tensor],
    chunk_size: int | None,
    progress: Progress | None,
    create_graph: bool | None = None,
) -> tuple[Tensor, ...]:
    if out.ndim == 0:  # one cotangent: the gradient itself, with no batch axis to fold away
        grads = pull_back(out, xs, _filled(out, (), 1), create_graph=create_graph)
        if progress is not None:
            progress(1, 1)
        return tuple(grads)
    m = out.size
    parts: list[list[Tensor]] = [[] for _ in xs]
    spans = _chunks(m, chunk_size)
    for start, stop in spans:
        seed = basis_rows(out, start, stop)
        for k, g in enumerate(pull_back(out, xs, seed, batch_ndim=1, create_graph=create_graph)):
            parts[k].append(g)
        if progress is not None:
            progress(stop, m)
    return tuple(_to_layout(_stack_rows(p), out.shape, x.shape) for p, x in zip(parts, xs))


def _forward_jacobian(
    f: Callable[..., Any],
    inputs: _Inputs,
    chunk_size: int | None,
    progress: Progress | None,
    has_aux: bool = False,
) -> tuple[Derivatives, Any]:
    """``(∂f/∂x, aux)`` by forward mode, one batched jvp per leaf x of the arguments (in
    chunks); aux (None without ``has_aux``) is that of f's first call."""
    leaves = inputs.leaves
    columns: list[list[Tensor]] = []  # columns[j][k] = ∂out_k/∂x_j
    out_def = None
    aux: Any = None
    for j, x in enumerate(leaves):
        n = x.size
        rows: list[list[Tensor]] | None = None
        for start, stop in _chunks(n, chunk_size):
            # A stacked diagonal stands in for the dense identity rows (see basis.py).
            tangent = Tensor._make(cast(np.ndarray, basis_rows(x, start, stop)), None)
            with enable_grad():  # f's (value, aux), aux None without has_aux
                out, t, found = jvp(
                    lambda xj, j=j: split_aux(
                        inputs.call(f, [*leaves[:j], xj, *leaves[j + 1 :]]), has_aux, "jacobian"
                    ),
                    (x,),
                    (tangent,),
                    has_aux=True,
                )
            if out_def is None:
                aux = found
            ts, out_def = tree_flatten(t)
            outs = tree_flatten(out)[0]
            rows = [[] for _ in ts] if rows is None else rows
            for row, tk in zip(rows, ts):
                row.append(tk)
            if progress is not None:
                progress(stop, n)
        assert rows is not None, "_chunks gives at least one batch"
        columns.append(  # each row block is (n,) + o.shape; J is o.shape + x.shape
            [
                _to_layout(
                    functions.transpose(functions.reshape(_stack_rows(row), (n, o.size))), o.shape, x.shape
                )
                for row, o in zip(rows, outs)
            ]
        )
    if out_def is None:  # nothing to differentiate: f's structure with empty blocks
        value, aux = split_aux(inputs.call(f, leaves), has_aux, "jacobian")
        outs, out_def = _outputs(value, "jacobian")
        columns_by_output: list[list[Tensor]] = [[] for _ in outs]
    else:
        columns_by_output = [[column[k] for column in columns] for k in range(out_def.num_leaves)]
    return out_def.unflatten(iter([inputs.regroup(row) for row in columns_by_output])), aux


def hessian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Derivatives]:
    """The second derivatives of f, shaped ``out.shape + x.shape + x.shape``:
    ``H[i..., j..., k...] = ∂²out[i...]/∂x[j...]∂x[k...]`` (``x.shape + x.shape`` for a
    scalar f). For tuple ``argnums`` the blocks come as ``H[a][b] = ∂²f/∂x_a∂x_b``,
    shaped ``out.shape + x_a.shape + x_b.shape``; for pytrees they nest as JAX's
    ``jacfwd(jacrev(f))``: f's output structure, then x's, then x's again.

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

    @transform_entry
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
    inputs = _Inputs(args, argnums, "hessian")
    xs = _variables(inputs, "hessian")
    try:
        with enable_grad():
            outs, out_def = _outputs(inputs.call(f, xs), "hessian")
            if not any(_reverse_only(o, xs) for o in outs):
                return None
            firsts = [_reverse_jacobian(o, xs, None, None, create_graph=True) for o in outs]
            blocks = [[_reverse_jacobian(first, xs, None, None) for first in row] for row in firsts]
    finally:
        _retire(xs)
    return out_def.unflatten(iter([inputs.regroup([inputs.regroup(b) for b in row]) for row in blocks]))


def hvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]) -> Derivatives:
    """The Hessian-vector product H·v of a scalar f at ``primals``, without forming H:
    forward over reverse, ``jvp(grad(f), primals, tangents)``, at a few times the cost
    of one gradient. ``(H·v)_a = Σ_b ∂²f/∂x_a∂x_b · v_b`` has x_a's shape: one tensor for one
    primal, a tuple of them (one per primal) for several; pytree primals and tangents
    give it in the primals' structure. Tangents may carry leading
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
    norm = float(np.linalg.norm(backends.host(v._data)))
    if norm == 0:
        raise ValueError("directional_derivative: v must be non-zero (it is normalized to |v| = 1)")
    _, slope = jvp(f, (x,), (v / norm,))
    return cast(Tensor, slope)
