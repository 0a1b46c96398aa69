"""Entry points of the reverse pass: ``backward`` (into ``.grad``) and ``grad`` (returned),
and the hooks that watch it.

Both seed the engine in :mod:`chainrule.graph` through :func:`run_backward`. With
``create_graph=True`` the rules run on the recording namespace, so the gradients they
produce are themselves differentiable (higher-order derivatives).

Hooks, as in PyTorch (each registration returns a handle whose ``remove()`` undoes it):

- ``t.register_hook(fn)``: ``fn(grad)`` sees the total gradient flowing into ``t`` (a
  leaf or a computed tensor) in each pass and may return a replacement;
- ``leaf.register_post_accumulate_grad_hook(fn)``: ``fn(leaf)`` runs once the leaf's
  ``.grad`` is final for the pass, while the pass goes on with the rest of the graph;
- :func:`queue_callback` (called from a hook): ``fn()`` runs once when the pass ends.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, 2.0], requires_grad=True)
>>> handle = w.register_hook(lambda g: g * 10)        # scale w's gradient
>>> (w * w).sum().backward(); w.grad
tensor([20., 40.])
>>> handle.remove()
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, cast

import numpy as np

from . import backends, debug, graph, mode
from .graph import HookHandle, Node, queue_callback
from .mode import set_grad_enabled
from .ops.xp import NUMPY, rules_namespace
from .sparse import RowSparse
from .tensor import RECORDING, Tensor, TensorLike, as_array

__all__ = ["HookHandle", "backward", "grad", "queue_callback"]

Gradient: TypeAlias = "np.ndarray | Tensor | RowSparse"
"""A gradient as the reverse pass holds it: an array, a Tensor when the pass is recorded, or
the rows a sparse embedding's lookup touched."""
Seeds: TypeAlias = "Tensor | np.ndarray | float | Sequence[TensorLike | None] | None"
"""The seeds of a pass from several tensors: one per tensor (None: ones for a one-element
tensor), or one seed alone for a single tensor."""


def make_seed(t: Tensor, gradient: TensorLike | None, create_graph: bool, what: str) -> Any:
    """The seed ∂L/∂t of a reverse pass from ``t``: ones for a one-element ``t``, else
    ``gradient`` checked against t's shape and copied (it may end up in ``.grad``); a
    Tensor when the pass is recorded. ``what`` names the caller in errors.

    >>> import chainrule as cr
    >>> make_seed(cr.tensor(2.0, requires_grad=True) * 3, None, False, "backward")
    array(1., dtype=float32)
    """
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(t).__name__}")
    if not t.requires_grad:
        raise RuntimeError(
            f"{what}: this tensor does not require grad and has no grad_fn; "
            "make its inputs with requires_grad=True (and outside no_grad())"
        )
    if gradient is None:
        if t.size != 1:
            raise RuntimeError(
                f"{what}: a gradient can be created implicitly only for a tensor with "
                f"one element, this one has shape {t.shape}; pass gradient= of that "
                "shape (for example cr.ones_like(y))"
            )
        seed: np.ndarray = backends.ones_like(t._data)
    else:
        seed = as_array(gradient, what=what)
        if seed.shape != t.shape:
            raise ValueError(
                f"{what}: gradient has shape {seed.shape} but the tensor has shape "
                f"{t.shape}; they must be equal"
            )
        if type(seed) is np.ndarray and type(t._data) is np.ndarray:
            seed = seed.astype(t.dtype, copy=True)  # never the caller's array: it may end up in .grad
        else:
            backends.same_place([t._data, seed], what)
            seed = cast(np.ndarray, backends.namespace_of(seed).astype(seed, t.dtype, copy=True))
    if create_graph:
        return gradient if isinstance(gradient, Tensor) else Tensor._make(seed, None)
    return seed


def run_backward(
    tensors: Sequence[Tensor],
    seeds: Sequence[TensorLike],
    retain_graph: bool | None,
    create_graph: bool,
    capture: Iterable[Node] = (),
    batch_ndim: int = 0,
    only: set[Node] | None = None,
    observers: Sequence[Callable[[Node, Any, Any], object]] = (),
    finish: Callable[[Tensor, Gradient, bool], None] | None = None,
) -> tuple[dict[Tensor, Gradient], dict[Node, Gradient]]:
    """One reverse pass from ``tensors`` seeded with ``seeds``: how every part of chainrule
    runs :func:`chainrule.graph.backward` (``backward``, ``grad``, transforms, tapes and the
    tools that watch the pass).

    The rules run on NumPy, or on the recording namespace with grad mode on when
    ``create_graph`` or inside :func:`chainrule.vmap`; the graph is kept when
    ``retain_graph`` (by default when ``create_graph``). While ``detect_anomaly`` is on,
    its check observes every node. The other arguments and the result are graph.backward's.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 3.0], requires_grad=True)
    >>> leaf_grads, _ = run_backward([x * x], [np.ones(2, dtype=np.float32)], None, False)
    >>> leaf_grads[x].tolist()                       # 2x
    [2.0, 6.0]
    """
    roots = [t if t._node is None else t._node for t in tensors]
    state = mode.state()
    if state.detect_anomaly:
        observers = (debug.check_backward, *observers)
    # Inside vmap the saved values may carry its batch axis, which only Tensors' ops can
    # read: the rules run on the recording namespace (and are recorded, for whatever
    # differentiates the batched values from outside).
    create_graph = create_graph or bool(state.batching)
    with set_grad_enabled(create_graph):
        return graph.backward(
            roots,
            seeds,
            RECORDING if create_graph else _rules_namespace(tensors),
            retain_graph=create_graph if retain_graph is None else retain_graph,
            capture=capture,
            batch_ndim=batch_ndim,
            only=only,
            observers=observers,
            finish=finish,
        )


def _rules_namespace(tensors: Sequence[Tensor]) -> Any:
    """The namespace an ordinary pass from ``tensors`` runs the rules on: NumPy's, or that of
    the array library holding their values (all of them on one device)."""
    arrays = [t._data for t in tensors]
    if not any(backends.is_array(a) for a in arrays):
        return NUMPY
    return rules_namespace(backends.same_place(arrays, "backward")[0])


def pull_back(
    output: Tensor,
    inputs: Sequence[Tensor],
    seed: TensorLike,
    *,
    batch_ndim: int = 0,
    create_graph: bool | None = None,
    retain_graph: bool = True,
) -> list[Tensor]:
    """Seedᵀ · ∂output/∂input for each input, in one reverse pass; zeros where unused.

    ``seed`` has shape ``batch + output.shape``: a stack of cotangents pushed back
    together (a whole Jacobian at once). Only the part of the graph that leads to
    ``inputs`` is visited. The pass is recorded (``create_graph``) when something
    outside could still differentiate the result: a tangent of forward mode, or a
    leaf that requires grad other than ``inputs``; pass it to force either way.
    """
    batch = tuple(seed.shape if hasattr(seed, "shape") else np.shape(seed))[:batch_ndim]
    if output._node is None:
        return [Tensor._make(_zeros(batch, x), None) if x is not output else _as_tensor(seed) for x in inputs]
    targets = {x._node if x._node is not None else x for x in inputs}
    only, foreign = graph.reaching([output._node], targets)
    if create_graph is None:
        create_graph = (
            foreign
            or bool(mode.state().levels)
            or bool(mode.state().batching)
            or (isinstance(seed, Tensor) and (seed.requires_grad or seed._tangents is not None))
        )
    seed = _as_tensor(seed) if create_graph else seed.data if isinstance(seed, Tensor) else seed
    leaf_grads, captured = run_backward(
        (output,),
        (seed,),
        retain_graph,
        create_graph,
        capture=[x._node for x in inputs if x._node is not None],
        batch_ndim=batch_ndim,
        only=only,
    )
    grads: list[Tensor] = []
    for x in inputs:
        g = captured.get(x._node) if x._node is not None else leaf_grads.get(x)
        if g is None:
            g = _zeros(batch, x)
        grads.append(g if isinstance(g, Tensor) else gradient_tensor(g))
    return grads


def _zeros(batch: tuple[int, ...], x: Tensor) -> Any:
    """Zeros of shape ``batch + x.shape`` in x's dtype, where x's values are."""
    return backends.zeros(batch + x.shape, x._data)


def gradient_tensor(g: Gradient) -> Tensor:
    """A gradient the pass made as a Tensor (a NumPy scalar as an ndarray, a row-sparse one
    dense, where its values are)."""
    if type(g) is RowSparse:
        return Tensor._make(g.dense(), None)
    return Tensor._make(cast(np.ndarray, g) if backends.is_array(g) else np.asarray(g), None)


def _as_tensor(value: TensorLike) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._make(as_array(value), None)


def backward(
    tensors: Tensor | Sequence[Tensor],
    grad_tensors: Seeds = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
) -> None:
    """Accumulate Σ_k ∂tensors[k]/∂leaf · grad_tensors[k] into ``leaf.grad``: one reverse
    pass for all of ``tensors`` (their gradients add up where their graphs meet).

    Each leaf's gradient goes through its hooks into ``.grad`` when it is complete (see
    :func:`chainrule.graph.backward`); like PyTorch, a pass that fails part-way may
    have written the ``.grad`` of leaves it had finished.

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> cr.autograd.backward([x ** 2, 5 * x]); x.grad      # 2x + 5
    tensor(11.)
    """
    tensors, grad_tensors = _paired(tensors, grad_tensors, "backward", "tensors", "grad_tensors")
    seeds = [make_seed(t, g, create_graph, "backward") for t, g in zip(tensors, grad_tensors)]
    run_backward(tensors, seeds, retain_graph, create_graph, finish=_accumulate)


def _accumulate(leaf: Tensor, g: Gradient, owned: bool) -> None:
    """A leaf's part at the end of its pass: its gradient hooks may replace g, g is added
    into ``.grad`` (``owned``: g may become it without a copy), then its post-accumulate
    hooks see the leaf."""
    hooks = getattr(leaf, "_hooks", None)  # unset on leaves that never had a hook
    if hooks is None:
        leaf._accumulate(g, owned)
        return
    hooked = graph.run_hooks(hooks.grad, g)
    leaf._accumulate(hooked, owned and hooked is g)
    for hook in tuple(hooks.accumulated.values()):
        hook(leaf)


def _paired(
    tensors: Tensor | Sequence[Tensor], seeds: Seeds, what: str, name: str, seeds_name: str
) -> tuple[tuple[Tensor, ...], tuple[TensorLike | None, ...]]:
    """The tensors as a tuple and one seed for each (None: implicit ones), or a RuntimeError
    when the counts differ (a seed is never silently dropped or reused)."""
    tensors = (tensors,) if isinstance(tensors, Tensor) else tuple(tensors)
    if seeds is None:
        seeds = (None,) * len(tensors)
    elif isinstance(seeds, (Tensor, np.ndarray, float, int)):
        seeds = (seeds,)
    else:
        seeds = tuple(seeds)
    if len(seeds) != len(tensors):
        raise RuntimeError(
            f"{what}: {seeds_name} has {len(seeds)} entries but {name} has {len(tensors)}; "
            f"give one per tensor of {name} (None for a one-element tensor)"
        )
    return tensors, seeds


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Seeds = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """∂outputs/∂inputs · grad_outputs for each input, as a tuple; ``.grad`` is not touched.

    As in PyTorch, only the part of the graph that leads to ``inputs`` is visited: the
    gradient hooks of the tensors on it run, and those of a leaf input when its
    gradient is complete; no post-accumulate hook runs, since no ``.grad`` changes.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> y = x ** 3
    >>> (dy,) = cr.autograd.grad(y, x, create_graph=True)
    >>> (d2y,) = cr.autograd.grad(dy, x)
    >>> float(dy), float(d2y)          # 3x² and 6x at x = 2
    (12.0, 12.0)
    """
    outputs, grad_outputs = _paired(outputs, grad_outputs, "grad", "outputs", "grad_outputs")
    inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor) or not x.requires_grad:
            raise RuntimeError(
                f"grad: input {i} does not require grad; only tensors with "
                "requires_grad=True can be differentiated with respect to"
            )
    seeds = [make_seed(t, g, create_graph, "grad") for t, g in zip(outputs, grad_outputs)]
    targets = {x._node if x._node is not None else x for x in inputs}
    only, _ = graph.reaching([t._node for t in outputs if t._node is not None], targets)
    leaf_grads, captured = run_backward(
        outputs,
        seeds,
        retain_graph,
        create_graph,
        capture=[x._node for x in inputs if x._node is not None],
        only=only,
    )
    result: list[Tensor | None] = []
    for i, x in enumerate(inputs):
        g = captured.get(x._node) if x._node is not None else _through_leaf_hooks(x, leaf_grads.get(x))
        if g is None and not allow_unused:
            raise RuntimeError(
                f"grad: input {i} (shape {x.shape}) was not used to compute the "
                "outputs; pass allow_unused=True to get None for it"
            )
        if g is not None and not isinstance(g, Tensor):
            g = gradient_tensor(g)
        result.append(g)
    return tuple(result)


def _through_leaf_hooks(leaf: Tensor, g: Gradient | None) -> Gradient | None:
    """A leaf input's gradient for ``grad``, after the leaf's gradient hooks (None: unused)."""
    hooks = getattr(leaf, "_hooks", None)
    return g if g is None or hooks is None else graph.run_hooks(hooks.grad, g)
