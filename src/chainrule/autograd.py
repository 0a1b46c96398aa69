"""Entry points of the reverse pass: ``backward`` (into ``.grad``) and ``grad`` (returned).

Both seed the engine in :mod:`chainrule.graph`. With ``create_graph=True`` the rules
run on the recording namespace, so the gradients they produce are themselves
differentiable (higher-order derivatives).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import graph, mode
from .functions import RECORDING
from .mode import set_grad_enabled
from .ops.xp import NUMPY
from .tensor import Tensor, as_array

__all__ = ["backward", "grad"]


def _seed(t: Tensor, gradient, create_graph: bool, what: str):
    if not isinstance(t, Tensor):
        raise TypeError(f"{what}: expected a Tensor, got {type(t).__name__}")
    if not t.requires_grad:
        raise RuntimeError(f"{what}: this tensor does not require grad and has no grad_fn; "
                           "make its inputs with requires_grad=True (and outside no_grad())")
    if gradient is None:
        if t.size != 1:
            raise RuntimeError(f"{what}: a gradient can be created implicitly only for a tensor with "
                               f"one element, this one has shape {t.shape}; pass gradient= of that "
                               "shape (for example cr.ones_like(y))")
        seed = np.ones(t.shape, dtype=t.dtype)
    else:
        seed = as_array(gradient, what=what)
        if seed.shape != t.shape:
            raise ValueError(f"{what}: gradient has shape {seed.shape} but the tensor has shape "
                             f"{t.shape}; they must be equal")
        seed = seed.astype(t.dtype, copy=True)  # never the caller's array: it may end up in .grad
    if create_graph:
        return gradient if isinstance(gradient, Tensor) else Tensor._make(seed, None)
    return seed


def _run(tensors, seeds, retain_graph, create_graph, capture=(), batch_ndim=0, only=None):
    roots = [t._node for t in tensors if t._node is not None]
    root_seeds = [s for t, s in zip(tensors, seeds) if t._node is not None]
    with set_grad_enabled(create_graph):
        leaf_grads, captured = graph.backward(
            roots, root_seeds, RECORDING if create_graph else NUMPY,
            retain_graph=create_graph if retain_graph is None else retain_graph, capture=capture,
            batch_ndim=batch_ndim, only=only)
        for t, s in zip(tensors, seeds):
            if t._node is None:  # a leaf differentiated with respect to itself
                leaf_grads[t] = s if t not in leaf_grads else leaf_grads[t] + s
    return leaf_grads, captured


def pull_back(output: Tensor, inputs: Sequence[Tensor], seed, *, batch_ndim: int = 0,
              create_graph: bool | None = None, retain_graph: bool = True) -> list:
    """Seedᵀ · ∂output/∂input for each input, in one reverse pass; zeros where unused.

    ``seed`` has shape ``batch + output.shape``: a stack of cotangents pushed back
    together (a whole Jacobian at once). Only the part of the graph that leads to
    ``inputs`` is visited. The pass is recorded (``create_graph``) when something
    outside could still differentiate the result: a tangent of forward mode, or a
    leaf that requires grad other than ``inputs``; pass it to force either way.
    """
    batch = tuple(seed.shape if hasattr(seed, "shape") else np.shape(seed))[:batch_ndim]
    if output._node is None:
        return [Tensor._make(np.zeros(batch + x.shape, dtype=x.dtype), None) if x is not output
                else _as_tensor(seed) for x in inputs]
    targets = {x._node if x._node is not None else x for x in inputs}
    only, foreign = graph.reaching([output._node], targets)
    if create_graph is None:
        create_graph = foreign or bool(mode.state().levels) or (
            isinstance(seed, Tensor) and (seed.requires_grad or seed._tangents is not None))
    seed = _as_tensor(seed) if create_graph else seed.data if isinstance(seed, Tensor) else seed
    leaf_grads, captured = _run((output,), (seed,), retain_graph, create_graph,
                                capture=[x._node for x in inputs if x._node is not None],
                                batch_ndim=batch_ndim, only=only)
    grads = []
    for x in inputs:
        g = captured.get(x._node) if x._node is not None else leaf_grads.get(x)
        if g is None:
            g = np.zeros(batch + x.shape, dtype=x.dtype)
        grads.append(g if isinstance(g, Tensor) else Tensor._make(np.asarray(g), None))
    return grads


def _as_tensor(value) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor._make(np.asarray(value), None)


def backward(tensors: Tensor | Sequence[Tensor], grad_tensors=None,
             retain_graph: bool | None = None, create_graph: bool = False) -> None:
    """Accumulate Σ_k ∂tensors[k]/∂leaf · grad_tensors[k] into ``leaf.grad``: one reverse
    pass for all of ``tensors`` (their gradients add up where their graphs meet).

    >>> import chainrule as cr
    >>> x = cr.tensor(3.0, requires_grad=True)
    >>> cr.autograd.backward([x ** 2, 5 * x]); x.grad      # 2x + 5
    tensor(11.)
    """
    tensors, grad_tensors = _paired(tensors, grad_tensors, "backward", "tensors", "grad_tensors")
    seeds = [_seed(t, g, create_graph, "backward") for t, g in zip(tensors, grad_tensors)]
    leaf_grads, _ = _run(tensors, seeds, retain_graph, create_graph)
    owners = [id(o) if (o := _owner(g)) is not None else None for g in leaf_grads.values()]
    for (leaf, g), owner in zip(leaf_grads.items(), owners):
        # A buffer this pass made for this leaf alone becomes its .grad without a copy.
        leaf._accumulate(g, owned=owner is not None and owners.count(owner) == 1)


def _paired(tensors, seeds, what: str, name: str, seeds_name: str) -> tuple[tuple, tuple]:
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
        raise RuntimeError(f"{what}: {seeds_name} has {len(seeds)} entries but {name} has {len(tensors)}; "
                           f"give one per tensor of {name} (None for a one-element tensor)")
    return tensors, seeds


def _owner(g):
    """The array that owns g's memory, when g is a writeable ndarray (else None)."""
    if type(g) is not np.ndarray or not g.flags.writeable:
        return None
    while isinstance(g.base, np.ndarray):
        g = g.base
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple:
    """∂outputs/∂inputs · grad_outputs for each input, as a tuple; ``.grad`` is not touched.

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
            raise RuntimeError(f"grad: input {i} does not require grad; only tensors with "
                               "requires_grad=True can be differentiated with respect to")
    seeds = [_seed(t, g, create_graph, "grad") for t, g in zip(outputs, grad_outputs)]
    leaf_grads, captured = _run(outputs, seeds, retain_graph, create_graph,
                                capture=[x._node for x in inputs if x._node is not None])
    result = []
    for i, x in enumerate(inputs):
        g = captured.get(x._node) if x._node is not None else leaf_grads.get(x)
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: input {i} (shape {x.shape}) was not used to compute the "
                               "outputs; pass allow_unused=True to get None for it")
        if g is not None and not isinstance(g, Tensor):
            g = Tensor._make(np.asarray(g), None)
        result.append(g)
    return tuple(result)
