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

A leaf's gradient is complete once no node left to visit uses the leaf. The caller
either gets every leaf's total back, or hands the pass a ``finish`` function (as
``backward()`` does, to add it into ``.grad``) that the pass calls with each leaf's
total as soon as it is complete, from the moment the pass meets a hook (PyTorch does so
from the start); before that, finishing leaves at the end instead is invisible to every
hook, costs no count of the leaves' uses, and a pass that fails writes nothing.

Code that watches the pass does not walk the graph again; it is called from this walk:

- a tensor's gradient hooks (``Tensor.register_hook``) see, and may replace, the total
  gradient flowing into it — a computed tensor's are kept on its node, ``Node.hooks``;
- a leaf's post-accumulate hooks see it once its ``.grad`` is final for the pass;
- callbacks queued during a pass (:func:`queue_callback`) run once, at its end;
- observers, given per pass, see each node after its rule: ``explain``,
  ``detect_anomaly`` and localized ``gradcheck`` are observers.

An op with several outputs (a ``cr.Function`` whose forward returns a tuple) is one
node N whose ``shape`` and ``dtype`` hold one entry per output, and each output
tensor gets a small node of its own with N as its only parent. That node's rule puts
its gradient into the output's slot of an :class:`OutputGrads`; N's consumers' slots
are summed like any gradients, so N is visited once, with

    ḡ = (∂L/∂out₁, …, ∂L/∂outₖ)        (None in the slot of an output no one used).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from heapq import heappop, heappush
from typing import Any

import numpy as np

from .ops.core import OpDef, fit
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
    output a node saved, holds that output's versions (now, at saving). ``hooks`` holds
    the gradient hooks of the tensor the node made (handle → hook), or None.
    """

    __slots__ = (
        "op",
        "params",
        "parents",
        "saved",
        "inputs",
        "shape",
        "dtype",
        "site",
        "seq",
        "duals",
        "hooks",
        "stale_output",
        "__weakref__",
    )

    op: OpDef
    params: dict[str, Any]
    parents: tuple[Any, ...]  # per input: a Node, a leaf Tensor, or None
    saved: Any  # what the rule reads: (inputs, output), or a custom Function's ctx; None once freed
    inputs: tuple[Any, ...] | None
    shape: tuple[Any, ...]  # the output's shape, or one shape per output
    dtype: Any  # the output's np.dtype, or a tuple of one per output
    site: str | None
    seq: int
    duals: tuple[tuple[Any, ...], dict[int, Any]] | None  # (inputs, output tangents) in forward mode
    hooks: dict[HookHandle, Callable[[Any], Any]] | None
    stale_output: tuple[int, int]  # unset until an in-place change of the saved output

    def __init__(
        self,
        op: OpDef,
        params: dict[str, Any],
        parents: tuple[Any, ...],
        saved: Any,
        shape: tuple[Any, ...],
        dtype: Any,
        site: str | None = None,
    ) -> None:
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
        self.hooks = None

    @property
    def needs(self) -> tuple[bool, ...]:
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

    def __init__(
        self, grads: tuple[Any, ...], shape: tuple[tuple[int, ...], ...], dtype: tuple[np.dtype, ...]
    ) -> None:
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
    return (
        f"one of the tensors needed for the gradient of `{node.op.name}` (shape {tuple(shape)}) "
        f"was changed in place after it was used: version {now}, expected {version}. Change it out "
        "of place (y = y + 1 instead of y += 1), or clone it before the in-place change, or run "
        "backward before the change"
    )


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


def row_sparse_vjp(node: Node, g, xp) -> tuple:
    """The VJP of a node whose op states its transpose as the rows it touches
    (``OpDef.sparse_transpose``, a row lookup): the input's gradient as a
    :class:`RowSparse` in an ordinary pass, so a leaf's ``.grad`` holds only those rows.
    A recorded pass (create_graph) and stacked cotangents use the op's dense VJP.
    """
    rows = None if xp.recording else node.op.sparse_transpose(g, **node.params)
    return node.op.vjp(g, node, xp) if rows is None else (RowSparse(*rows),)


class HookHandle:
    """What registering a hook returns: ``remove()`` unregisters the hook (a second call
    does nothing); ``with handle:`` removes it when the block ends.

    Hooks are kept in a dict under their handles, so they run in the order they were
    registered and a handle removes its own without a search.
    """

    __slots__ = ("hooks",)

    def __init__(self, hooks: dict, hook: Callable) -> None:
        self.hooks = hooks
        hooks[self] = hook

    def remove(self) -> None:
        self.hooks.pop(self, None)

    def __enter__(self) -> HookHandle:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


class LeafHooks:
    """A leaf's hooks (its ``_hooks``), each kind a dict handle → hook in registration
    order: ``grad`` see, and may replace, its gradient before it is added into ``.grad``;
    ``accumulated`` see the leaf once its ``.grad`` is final for the pass."""

    __slots__ = ("grad", "accumulated")

    def __init__(self) -> None:
        self.grad: dict = {}
        self.accumulated: dict = {}


def leaf_hooks(leaf) -> LeafHooks:
    """The hooks of a leaf tensor, made on first use (its ``_hooks`` slot is unset until then,
    so leaves that never get one cost nothing)."""
    hooks = getattr(leaf, "_hooks", None)
    if hooks is None:
        hooks = leaf._hooks = LeafHooks()
    return hooks


def run_hooks(hooks: dict, g):
    """``g`` through the gradient hooks ``hooks`` in registration order: each sees what the
    one before left and may return a replacement (None keeps it)."""
    for hook in tuple(hooks.values()):  # a hook may remove itself
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    return g


# The callbacks queued in the pass this context is running (None between passes): a
# context variable, so that each thread queues into its own passes.
_CALLBACKS: ContextVar[dict | None] = ContextVar("chainrule_backward_callbacks", default=None)


def queue_callback(callback: Callable[[], object]) -> HookHandle:
    """Call ``callback()`` once when the reverse pass running now ends, after every leaf's
    ``.grad`` is final: where data-parallel training waits for the gradients its
    post-accumulate hooks started sending while the pass went on.

    Call it from a hook, during a pass (each thread has its own); outside one it raises
    RuntimeError. Callbacks run in the order queued, one queued by a callback runs too,
    and a pass that fails drops them. Also ``cr.autograd.queue_callback``.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0, 2.0], requires_grad=True)
    >>> def sent(leaf):                      # a post-accumulate hook
    ...     cr.autograd.queue_callback(lambda: print("pass done; w.grad =", leaf.grad))
    >>> handle = w.register_post_accumulate_grad_hook(sent)
    >>> (w * w).sum().backward()
    pass done; w.grad = tensor([2., 4.])
    """
    callbacks = _CALLBACKS.get()
    if callbacks is None:
        raise RuntimeError(
            "queue_callback: no backward pass is running in this thread; queue the "
            "callback from a hook (Tensor.register_hook, "
            "register_post_accumulate_grad_hook) while the pass runs"
        )
    return HookHandle(callbacks, callback)


def backward(
    roots: Sequence,
    seeds: Sequence,
    xp,
    *,
    retain_graph: bool = False,
    capture: Iterable[Node] = (),
    batch_ndim: int = 0,
    only: set | None = None,
    observers: Sequence[Callable] = (),
    finish: Callable | None = None,
) -> tuple[dict, dict]:
    """Run the reverse pass from ``roots`` seeded with ``seeds`` (∂L/∂root each).

    A root is a node, or a leaf differentiated with respect to itself. ``xp`` is the
    array namespace the rules run on: NumPy for an ordinary pass, the recording
    namespace for ``create_graph=True``. Seeds may carry ``batch_ndim`` leading axes of
    stacked cotangents. Returns ``(leaf_grads, captured)``: the gradient for each leaf
    reached, and the total gradient arriving at each node in ``capture`` (the gradients
    of non-leaf tensors). With ``only`` (a set of nodes, see :func:`reaching`) nodes
    outside it are not visited.

    A node's gradient hooks run on its total gradient before its rule. Each observer is
    called as ``observe(node, g, grads)`` once the node's rule ran and its gradients
    went on: ``g`` as the rule got it, ``grads`` what the rule returned (one per input,
    before unbroadcasting). With ``finish``, each leaf's total is handed over as
    ``finish(leaf, g, owned)`` instead of returned (``owned``: g is a buffer that
    nothing else holds). Callbacks queued during the pass run at its end.
    """
    callbacks: dict = {}
    token = _CALLBACKS.set(callbacks)
    try:
        result = _walk(
            roots, seeds, xp, retain_graph, set(capture), batch_ndim, only, tuple(observers), finish
        )
        while callbacks:  # a callback may queue another
            callbacks.pop(next(iter(callbacks)))()
    finally:
        _CALLBACKS.reset(token)
    return result


def _walk(
    roots: Sequence,
    seeds: Sequence,
    xp,
    retain_graph: bool,
    capture: set,
    batch_ndim: int,
    only: set | None,
    observers: tuple,
    finish: Callable | None,
) -> tuple[dict, dict]:
    """The reverse pass itself (see :func:`backward`)."""
    pending: dict = {}
    ready: list = []  # (-seq, node): the most recently created node comes out first
    leaf_grads: dict = {}
    for root, seed in zip(roots, seeds):
        if type(root) is not Node:
            previous = leaf_grads.get(root)
            leaf_grads[root] = seed if previous is None else previous + seed
        elif root in pending:
            pending[root] = pending[root] + seed
        else:
            pending[root] = seed
            heappush(ready, (-root.seq, root))
    captured: dict = {}
    finisher = None if finish is None else _Finisher(leaf_grads, finish, ready, only)
    if finisher is not None and any(getattr(leaf, "_hooks", None) is not None for leaf in leaf_grads):
        observers = finisher.start(None, observers)
    last_change = LAST_CHANGE
    while ready:
        node = heappop(ready)[1]
        g = pending.pop(node)
        if node.saved is None:
            raise RuntimeError(FREED)
        if node.seq < last_change[0]:
            check_unchanged(node)
        if node.hooks is not None:
            if finisher is not None and finisher.uses is None:
                observers = finisher.start(node, observers)
            g = run_hooks(node.hooks, g)
        if capture and node in capture:
            captured[node] = g
        grads = node.op.vjp(g, node, xp) if node.op.sparse_transpose is None else row_sparse_vjp(node, g, xp)
        if not retain_graph:
            node.saved = None
            node.inputs = None
        for parent, gi in zip(node.parents, grads):
            if gi is None or parent is None:
                continue
            if (batch_ndim or gi.shape != parent.shape or gi.dtype is not parent.dtype) and type(
                gi
            ) is not OutputGrads:  # slots that fit their outputs already
                gi = fit(gi, parent, xp, batch_ndim)  # undo broadcasting, keep the input's dtype
            if type(parent) is Node:
                if only is not None and parent not in only:
                    continue
                if type(gi) is RowSparse:  # row-sparse is for a leaf's .grad; rules take arrays
                    gi = gi.dense()
                previous = pending.get(parent)
                if previous is None:
                    pending[parent] = gi
                    heappush(ready, (-parent.seq, parent))
                else:
                    pending[parent] = previous + gi
            else:
                previous = leaf_grads.get(parent)
                if previous is not None:  # RowSparse's own + takes a dense array of any library
                    leaf_grads[parent] = gi + previous if type(gi) is RowSparse else previous + gi
                else:
                    leaf_grads[parent] = gi
                    if (
                        finisher is not None
                        and finisher.uses is None
                        and getattr(parent, "_hooks", None) is not None
                    ):
                        observers = finisher.start(node, observers)
        if observers:
            for observe in observers:
                observe(node, g, grads)
    if finish is not None:
        _finish_all(leaf_grads, finish)
    return leaf_grads, captured


class _Finisher:
    """Hands each leaf's total gradient to ``finish`` as soon as no node left to visit
    uses the leaf, from the moment :meth:`start` is called: when the pass meets a hook,
    since only a hook can tell when a leaf finished. Starting costs one walk over the
    nodes left to count their uses of each leaf (PyTorch counts before every pass)."""

    __slots__ = ("leaf_grads", "finish", "ready", "only", "uses")

    def __init__(self, leaf_grads: dict, finish: Callable, ready: list, only: set | None) -> None:
        self.leaf_grads = leaf_grads
        self.finish = finish
        self.ready = ready
        self.only = only
        self.uses: dict | None = None

    def start(self, node: Node | None, observers: tuple) -> tuple:
        """Count the uses of each leaf by ``node`` (the node being visited, if any) and the
        nodes still to visit; finish the leaves with none left; return ``observers``
        with :meth:`visited` added."""
        self.uses = _leaf_uses([n for _, n in self.ready] + ([] if node is None else [node]), self.only)
        for leaf in [leaf for leaf in self.leaf_grads if leaf not in self.uses]:
            self.finish(leaf, self.leaf_grads.pop(leaf), False)
        return (*observers, self.visited)

    def visited(self, node: Node, g, grads) -> None:
        """An observer: count off the node's uses of its leaves, and finish each leaf it
        was the last to use."""
        uses = self.uses
        assert uses is not None, "start() counts the uses before it adds this observer"
        for parent in node.parents:
            if parent is not None and type(parent) is not Node:
                left = uses[parent] - 1
                uses[parent] = left
                if left == 0 and parent in self.leaf_grads:
                    # Not owned: gradients still pending may share its memory.
                    self.finish(parent, self.leaf_grads.pop(parent), False)


def _leaf_uses(starts: list, only: set | None) -> dict:
    """How many times each leaf is an input of a node reachable from ``starts`` (through
    nodes in ``only``, when given)."""
    uses: dict = {}
    seen = set(starts)
    stack = list(seen)
    while stack:
        for parent in stack.pop().parents:
            if type(parent) is Node:
                if parent not in seen and (only is None or parent in only):
                    seen.add(parent)
                    stack.append(parent)
            elif parent is not None:
                uses[parent] = uses.get(parent, 0) + 1
    return uses


def _finish_all(leaf_grads: dict, finish: Callable) -> None:
    """Finish the leaves left at the end of the pass. A buffer the pass made for one of
    them alone is handed over as owned: it may become its ``.grad`` without a copy."""
    owners = [id(o) if (o := _owner(g)) is not None else None for g in leaf_grads.values()]
    for (leaf, g), owner in zip(list(leaf_grads.items()), owners):
        finish(leaf, g, owner is not None and owners.count(owner) == 1)
    leaf_grads.clear()


def _owner(g):
    """The array that owns g's memory, when g is a writeable ndarray (else None)."""
    if type(g) is not np.ndarray or not g.flags.writeable:
        return None
    while isinstance(g.base, np.ndarray):
        g = g.base
    return g
