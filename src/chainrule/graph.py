"""The computation graph and the reverse pass (backpropagation).

Each recorded operation leaves a :class:`Node` (a tensor's ``grad_fn``): the op,
its parameters, what its rule needs saved, and one parent per input — the Node
that produced that input, the leaf Tensor itself when the input is a leaf that
requires grad, or ``None`` for constants. Intermediate tensors are not kept; only
what rules read is.

The reverse pass for a root y with seed ḡ = ∂L/∂y (ones for a scalar):

1. visit the nodes in reverse order of creation — a topological order, since every
   node is made after the nodes that produced its inputs — keeping the nodes that
   have received a gradient in a heap (no recursion: a 100,000-op chain is fine);
2. visit each node once with g = the *sum* of the gradients its consumers sent it
   (a value that fans out receives one gradient per use; all its consumers were
   made later, so all have been visited);
3. compute its downstream gradients ``downstream = upstream × local`` as a VJP
   (the op's rule, then ``fit``, which undoes broadcasting — together
   ``ops.pullback``), add them into the pending gradients of its parents, and free
   the pending gradient and saved values.

Gradients reaching leaves are returned to the caller, which adds them into
``.grad``; nothing is written until the whole pass has succeeded.

An op with several outputs (a ``cr.Function`` whose forward returns a tuple) is one
node N whose ``shape`` and ``dtype`` hold one entry per output, and each output
tensor gets a small node of its own with N as its only parent. That node's rule puts
its gradient into the output's slot of an :class:`OutputGrads`; N's consumers' slots
are summed like any gradients, so N is visited once, with

    ḡ = (∂L/∂out₁, …, ∂L/∂outₖ)        (None in the slot of an output no one used).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from heapq import heappop, heappush

from . import debug, mode
from .ops.core import fit
from .sparse import RowSparse

next_seq = itertools.count().__next__  # creation order of nodes: a topological order

# The sequence number (from next_seq) of the latest in-place change of any tensor. A node
# made after it saved values nobody has changed since, so the reverse pass looks closer
# only at nodes older than that.
LAST_CHANGE = [-1]

FREED = (
    "backward: the graph behind this tensor was already freed by an earlier backward(). "
    "Call the first backward(retain_graph=True) to go through the graph again, or "
    "recompute the forward pass."
)


class Node:
    """One recorded operation: the op, its parameters and what its rule needs saved.

    ``shape`` and ``dtype`` are the output's, or tuples with one entry per output for
    an op with several (see :class:`OutputGrads`).

    ``inputs`` holds the op's arguments (Tensors and constants) when it saved their
    values, so the reverse pass can tell whether one was changed in place since (see
    :func:`check_unchanged`); ``stale_output``, set only by an in-place change of the
    output a node saved, holds that output's versions (now, at saving).
    """

    __slots__ = ("op", "params", "parents", "saved", "inputs", "shape", "dtype", "site", "seq",
                 "duals", "stale_output", "__weakref__")

    def __init__(self, op, params, parents, saved, shape, dtype, site=None):
        self.op = op
        self.params = params
        self.parents = parents
        self.saved = saved
        self.inputs = None
        self.shape = shape
        self.dtype = dtype
        self.site = site
        self.seq = next_seq()
        self.duals = None

    @property
    def needs(self) -> tuple:
        """Which inputs need a gradient (those with a parent)."""
        return tuple(p is not None for p in self.parents)

    @property
    def multi_output(self) -> bool:
        """Whether the op has several outputs (``shape`` and ``dtype`` are then tuples)."""
        return type(self.dtype) is tuple

    @property
    def name(self) -> str:
        return self.op.backward_name

    def __repr__(self) -> str:
        return f"<{self.name}>"


class OutputGrads:
    """The gradients for a node with several outputs: one slot per output, None where
    no gradient arrived. Adding two adds slot by slot (two outputs used, or one output
    used twice), the way the reverse pass adds the gradients of a value that fans out.

    ``shape`` and ``dtype`` are the node's own (one entry per output), so the reverse
    pass has nothing to unbroadcast.

    >>> import numpy as np
    >>> first = OutputGrads((np.ones(2), None), ((2,), ()), (np.dtype(float),) * 2)
    >>> second = OutputGrads((None, np.array(3.0)), first.shape, first.dtype)
    >>> (first + second).grads
    (array([1., 1.]), array(3.))
    """

    __slots__ = ("grads", "shape", "dtype")

    def __init__(self, grads: tuple, shape: tuple, dtype: tuple) -> None:
        self.grads = grads
        self.shape = shape
        self.dtype = dtype

    @classmethod
    def one(cls, node: Node, index: int, g) -> OutputGrads:
        """g in the slot of output ``index`` of ``node``, nothing in the others."""
        grads = [None] * len(node.shape)
        grads[index] = g
        return cls(tuple(grads), node.shape, node.dtype)

    def __add__(self, other: OutputGrads) -> OutputGrads:
        grads = tuple(b if a is None else a if b is None else a + b for a, b in zip(self.grads, other.grads))
        return OutputGrads(grads, self.shape, self.dtype)


def check_unchanged(node: Node) -> None:
    """Refuse to run a node's rule when a value it saved was changed in place since.

    Each saved tensor tells its version now and at the node's creation (``_version`` and
    ``_version_at(seq)``); the output's change is marked on the node by the change itself.
    """
    for a in node.inputs or ():
        version_at = getattr(a, "_version_at", None)
        if version_at is not None and a._version != version_at(node.seq):
            raise RuntimeError(_changed_message(node, a.shape, a._version, version_at(node.seq)))
    stale = getattr(node, "stale_output", None)
    if stale is not None:
        raise RuntimeError(_changed_message(node, node.shape, *stale))


def _changed_message(node: Node, shape, now: int, version: int) -> str:
    return (f"one of the tensors needed for the gradient of `{node.op.name}` (shape {tuple(shape)}) "
            f"was changed in place after it was used: version {now}, expected {version}. Change it out "
            "of place (y = y + 1 instead of y += 1), or clone it before the in-place change, or run "
            "backward before the change")


def topological_order(roots: Iterable[Node]) -> list[Node]:
    """Every node reachable from ``roots``, each after all nodes that consume it.

    An iterative depth-first post-order, reversed: no recursion, so graph depth is
    limited only by memory.
    """
    order: list[Node] = []
    seen: set = set()
    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, iter(root.parents))]
        while stack:
            node, parents = stack[-1]
            for p in parents:
                if type(p) is Node and p not in seen:
                    seen.add(p)
                    stack.append((p, iter(p.parents)))
                    break
            else:
                stack.pop()
                order.append(node)
    order.reverse()
    return order


def reaching(roots: Iterable[Node], targets: set) -> tuple[set, bool]:
    """The nodes from which a target (a node or a leaf) can be reached, and whether the
    graph also holds a leaf that requires grad and is not a target."""
    reach: set = set()
    foreign = False
    for node in reversed(topological_order(roots)):  # producers before consumers
        hit = node in targets
        for p in node.parents:
            if type(p) is Node:
                hit = hit or p in reach
            elif p is not None:
                hit = hit or p in targets
                foreign = foreign or (p not in targets and p.requires_grad)
        if hit:
            reach.add(node)
    return reach, foreign


def backward(roots: Sequence[Node], seeds: Sequence, xp, *, retain_graph: bool = False,
             capture: Iterable[Node] = (), batch_ndim: int = 0,
             only: set | None = None) -> tuple[dict, dict]:
    """Run the reverse pass from ``roots`` seeded with ``seeds`` (∂L/∂root each).

    ``xp`` is the array namespace the rules run on: NumPy for an ordinary pass, the
    recording namespace for ``create_graph=True``. Seeds may carry ``batch_ndim``
    leading axes of stacked cotangents. Returns ``(leaf_grads, captured)``: the
    gradient for each leaf reached, and the total gradient arriving at each node
    in ``capture`` (the gradients of non-leaf tensors). With ``only`` (a set of nodes,
    see :func:`reaching`) nodes outside it are not visited.
    """
    pending: dict = {}
    ready: list = []  # (-seq, node): the most recently created node comes out first
    for root, seed in zip(roots, seeds):
        if root in pending:
            pending[root] = pending[root] + seed
        else:
            pending[root] = seed
            heappush(ready, (-root.seq, root))
    capture = set(capture)
    captured: dict = {}
    leaf_grads: dict = {}
    debugging = mode.state().debug
    last_change = LAST_CHANGE
    while ready:
        node = heappop(ready)[1]
        g = pending.pop(node)
        if capture and node in capture:
            captured[node] = g
        if node.saved is None:
            raise RuntimeError(FREED)
        if node.seq < last_change[0]:
            check_unchanged(node)
        grads = node.op.vjp(g, node, xp)
        if debugging:
            debug.on_backward(node, g.grads if type(g) is OutputGrads else (g,), grads)
        if not retain_graph:
            node.saved = None
            node.inputs = None
        for parent, gi in zip(node.parents, grads):
            if gi is None or parent is None:
                continue
            if ((batch_ndim or gi.shape != parent.shape or gi.dtype is not parent.dtype)
                    and type(gi) is not OutputGrads):  # slots that fit their outputs already
                gi = fit(gi, parent, xp, batch_ndim)  # undo broadcasting, keep the input's dtype
            if type(parent) is Node:
                if only is not None and parent not in only:
                    continue
                if type(gi) is RowSparse:  # row-sparse is for a leaf's .grad; rules take arrays
                    gi = gi.numpy()
                previous = pending.get(parent)
                if previous is None:
                    pending[parent] = gi
                    heappush(ready, (-parent.seq, parent))
                else:
                    pending[parent] = previous + gi
            else:
                previous = leaf_grads.get(parent)
                leaf_grads[parent] = gi if previous is None else previous + gi
    return leaf_grads, captured
