"""``vmap``: a function of one example mapped over a batch, in one pass.

``vmap(f, in_axes, out_axes)(*args)`` is ``stack([f(*args_i) for each example i])``,
computed without the loop: each batched argument reaches f as one example's view of the
whole batch (see :mod:`chainrule.batching`), and every op f runs works on the batch at
once. It composes with the other transforms in both orders: ``vmap(grad(f))`` gives a
gradient per example (per-example gradients of a model's loss, with the parameters shared:
``in_axes=(None, 0, 0)``), ``grad(vmap(f))``, ``jacobian(vmap(f))`` and ``vmap(vmap(f))``
work as they read.

- ``in_axes``: per positional argument, the axis that indexes the examples, or None for an
  argument every example shares; an int or None applies to all arguments; a tuple has one
  entry per argument, each an int, None or a pytree (dict, list, tuple) matching the
  argument's structure down to where it gives an int or None (JAX's prefix rule).
- ``out_axes``: where the batch axis goes in each output leaf (int, None for an output
  that is the same for every example, or a pytree prefix of f's output).
- ``chunk_size``: at most this many examples per pass (bounds memory); the results are
  concatenated.

>>> import chainrule as cr
>>> W = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
>>> xs = cr.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
>>> cr.vmap(lambda W, x: W @ x, in_axes=(None, 0))(W, xs).tolist()   # W @ xᵢ for each row
[[1.0, 3.0], [2.0, 4.0], [3.0, 7.0]]
>>> cr.vmap(cr.grad(lambda w, x: cr.sum(w * x) ** 2), in_axes=(None, 0))(cr.ones(2), xs).tolist()
[[2.0, 0.0], [0.0, 2.0], [4.0, 4.0]]
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from . import functions
from .batching import BatchedTensor, close_level, open_level
from .tensor import Tensor, as_array
from .transforms import transform_entry
from .tree import PyTreeDef, tree_flatten, tree_map, tree_unflatten

__all__ = ["vmap"]

Axes = Any
"""An int, None, or a pytree prefix of the arguments (or outputs) holding ints and Nones."""


class _Axis:
    """A leaf's batch axis while the prefix is expanded (None is a pytree node of its own)."""

    __slots__ = ("axis",)

    def __init__(self, axis: int | None) -> None:
        self.axis = axis


def _leaf_axes(spec: Axes, tree: Any, what: str) -> list[int | None]:
    """The axis of each leaf of ``tree``, in tree_flatten's order, from the prefix ``spec``."""
    return [a.axis for a in tree_flatten(_expand(spec, tree, what))[0]]


def _expand(spec: Axes, tree: Any, what: str) -> Any:
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return tree_map(lambda _: _Axis(spec), tree)
    if isinstance(spec, dict) and isinstance(tree, dict):
        if set(spec) != set(tree):
            raise ValueError(
                f"vmap: {what} has keys {sorted(map(str, spec))}, the value {sorted(map(str, tree))}"
            )
        return {k: _expand(spec[k], tree[k], what) for k in tree}
    if isinstance(spec, (list, tuple)) and isinstance(tree, (list, tuple)) and type(spec) is not dict:
        if len(spec) != len(tree):
            raise ValueError(f"vmap: {what} has {len(spec)} entries where the value has {len(tree)}")
        return [_expand(s, t, what) for s, t in zip(spec, tree)]
    raise ValueError(
        f"vmap: {what} must be an int, None, or a dict, list or tuple matching the value's "
        f"structure; got {type(spec).__name__} for a {type(tree).__name__}"
    )


_UNSET: Any = object()


def _one_spelling(jax_value: Axes, torch_value: Axes, jax_name: str, torch_name: str) -> Axes:
    """The axes given under JAX's name or PyTorch's, never both."""
    if torch_value is _UNSET:
        return jax_value
    if jax_value != 0:
        raise TypeError(f"vmap: give {jax_name} (JAX's name) or {torch_name} (PyTorch's), not both")
    return torch_value


def vmap(
    f: Callable[..., Any],
    in_axes: Axes = 0,
    out_axes: Axes = 0,
    chunk_size: int | None = None,
    *,
    in_dims: Axes = _UNSET,
    out_dims: Axes = _UNSET,
) -> Callable[..., Any]:
    """f mapped over a batch axis of its arguments (see the module docstring).

    The batch is one pass of batched ops wherever each op f runs has a batching rule (every
    op of the table but a few, which run example by example with a warning naming them).
    Inside f a batched argument looks like one example: ``x.shape`` is an example's shape.
    ``in_dims`` and ``out_dims`` are torch.func's names for ``in_axes`` and ``out_axes``.

    >>> import chainrule as cr
    >>> cr.vmap(cr.sum)(cr.tensor([[1.0, 2.0], [3.0, 4.0]])).tolist()
    [3.0, 7.0]
    """
    in_axes = _one_spelling(in_axes, in_dims, "in_axes", "in_dims")
    out_axes = _one_spelling(out_axes, out_dims, "out_axes", "out_dims")
    if chunk_size is not None and (
        not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1
    ):
        raise ValueError(f"vmap: chunk_size must be a positive int or None, got {chunk_size!r}")

    @transform_entry
    @functools.wraps(f)
    def mapped(*args: Any) -> Any:
        spec = tuple(in_axes) if isinstance(in_axes, list) else in_axes
        if isinstance(spec, tuple) and len(spec) != len(args):
            raise ValueError(
                f"vmap: in_axes has {len(spec)} entries but the function was called with "
                f"{len(args)} arguments"
            )
        axes = _leaf_axes(spec, list(args), "in_axes")
        leaves, treedef = tree_flatten(list(args))
        batches = [_batch_first(leaf, axis) for leaf, axis in zip(leaves, axes)]
        sizes = {b.shape[0] for b in batches if b is not None}
        if not sizes:
            raise ValueError(
                "vmap: in_axes maps no argument (every entry is None); give an axis to batch over"
            )
        if len(sizes) > 1:
            found = [(i, b.shape[0]) for i, b in enumerate(batches) if b is not None]
            raise ValueError(f"vmap: the batched arguments have different sizes along their axes: {found}")
        size = sizes.pop()
        if size == 0:
            raise ValueError("vmap: the batch axis has length 0; there is no example to run f on")
        step = size if chunk_size is None else chunk_size
        parts = [
            _run(f, leaves, batches, treedef, start, min(start + step, size))
            for start in range(0, size, step)
        ]
        out_def = parts[0][1]
        out_axes_ = _leaf_axes(out_axes, tree_unflatten(out_def, [object()] * out_def.num_leaves), "out_axes")
        outs = []
        for i, axis in enumerate(out_axes_):
            pieces = [p[0][i] for p in parts]
            if axis is None:
                if any(b for _, _, b in pieces):
                    raise ValueError(
                        "vmap: out_axes is None for an output that differs between examples; give it an axis"
                    )
                outs.append(pieces[0][1])
                continue
            whole = [w for w, _, _ in pieces]
            joined = whole[0] if len(whole) == 1 else functions.concatenate(whole, axis=0)
            outs.append(functions.moveaxis(joined, 0, axis) if axis % joined.ndim else joined)
        return tree_unflatten(out_def, outs)

    return mapped


def _batch_first(leaf: Any, axis: int | None) -> Tensor | None:
    """A batched argument with its batch axis first (None for an unbatched one)."""
    if axis is None:
        return None
    x = leaf if isinstance(leaf, Tensor) else Tensor._make(as_array(leaf, what="vmap"), None)
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"vmap: in_axes gives axis {axis} for an argument of shape {x.shape}")
    return x if axis % x.ndim == 0 else functions.moveaxis(x, axis, 0)


def _run(
    f: Callable[..., Any],
    leaves: list[Any],
    batches: list[Tensor | None],
    treedef: PyTreeDef,
    start: int,
    stop: int,
) -> tuple[list[tuple[Tensor, Any, bool]], PyTreeDef]:
    """f on examples start..stop: per output leaf (the batch, the unbatched value, whether
    it is batched), and the output's structure."""
    level = open_level()
    try:
        whole_range = start == 0 and stop == (next(b for b in batches if b is not None).shape[0])
        args = [
            leaf if b is None else BatchedTensor.of(b if whole_range else b[start:stop], level)
            for leaf, b in zip(leaves, batches)
        ]
        result = f(*tree_unflatten(treedef, args))
        out_leaves, out_def = tree_flatten(result)
        outs = []
        for o in out_leaves:
            if isinstance(o, BatchedTensor) and o._level == level:
                outs.append((o._inner, o, True))
                continue
            value = o if isinstance(o, Tensor) else Tensor._make(as_array(o, what="vmap"), None)
            outs.append((functions.broadcast_to(value, (stop - start, *value.shape)), o, False))
    finally:
        close_level(level)
    return outs, out_def
