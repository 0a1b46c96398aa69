"""TensorFlow-style gradients: ``GradientTape`` and ``Variable``.

Inside ``with cr.GradientTape() as tape:`` the tape records the operations on what it
watches: tensors passed to ``watch``, trainable Variables (and other tensors that require
grad on their own), and the results of operations it has recorded. Then
``tape.gradient(target, sources)`` runs the reverse pass through those operations only,
as TensorFlow does: an operation made outside the block, before ``reset()``, inside
``stop_recording()`` or on tensors only another tape watches is a constant to this tape,
and a source no recorded operation leads to gets ``None``.

Tapes nest: the gradient an inner tape computes while an outer tape is recording is
itself recorded, so the outer tape can differentiate it again. The tapes recording now
are kept per thread (a ``ContextVar``): a tape open in one thread is not seen by another.

>>> import chainrule as cr
>>> x = cr.tensor(3.0)
>>> with cr.GradientTape() as outer:
...     outer.watch(x)
...     with cr.GradientTape() as inner:
...         inner.watch(x)
...         y = x ** 3
...     dy = inner.gradient(y, x)                # 3x² = 27
>>> float(outer.gradient(dy, x))                 # 6x = 18
18.0
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import numpy as np
import numpy.typing as npt

from . import backends, mode
from .autograd import gradient_tensor
from .autograd import run_backward as _run
from .functions import reshape
from .graph import Node, next_seq, topological_order
from .mode import enable_grad, no_grad
from .ops.core import device_of
from .tensor import Tensor, TensorLike
from .transforms import basis_rows
from .tree import PyTreeDef, tree_flatten

# The tapes recording in this thread (or asyncio task) now, innermost last.
_RECORDING: ContextVar[tuple[GradientTape, ...]] = ContextVar("chainrule_recording_tapes", default=())

Nested = Any  # a Tensor, or a pytree of them: dicts, lists and tuples (see chainrule.tree)


class Variable(Tensor):
    """A trainable tensor: it requires grad, so every tape watches it without ``watch``.

    >>> import chainrule as cr
    >>> v = cr.Variable([1.0, 2.0])
    >>> v.requires_grad
    True
    """

    __slots__ = ()

    def __init__(self, data: TensorLike, dtype: npt.DTypeLike | None = None, trainable: bool = True) -> None:
        super().__init__(data, dtype=dtype, requires_grad=trainable)

    def assign(self, value: TensorLike) -> Variable:
        """Replace the value in place (same shape), as TensorFlow's ``assign``."""
        self.data = value
        return self


class GradientTape:
    """Records operations on watched tensors for ``gradient`` and ``jacobian``.

    A non-persistent tape answers one ``gradient`` (or ``jacobian``) call; make it with
    ``persistent=True`` to ask several times. ``reset()`` forgets everything recorded.

    >>> import chainrule as cr
    >>> x = cr.tensor([1.0, 2.0])
    >>> with cr.GradientTape() as tape:
    ...     tape.watch(x)
    ...     y = {"square": x * x, "cube": x ** 3}
    >>> tape.gradient(y, {"x": x})                   # 2x + 3x²
    {'x': tensor([ 5., 16.])}
    """

    def __init__(self, persistent: bool = False) -> None:
        self.persistent = persistent
        self._watched: set[Tensor | Node] = set()  # leaf Tensors, and the Nodes of watched intermediates
        self._made_differentiable: list[Tensor] = []  # watched tensors that did not require grad
        self._windows: list[tuple[int, float]] = []  # open intervals of the node sequence recorded
        self._peers: weakref.WeakSet[GradientTape] = weakref.WeakSet()  # tapes recording alongside
        self._used = False
        self._grad_mode: enable_grad | None = None

    def __enter__(self) -> GradientTape:
        self._start_recording()
        self._grad_mode = enable_grad()
        self._grad_mode.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._grad_mode is not None, "__enter__ switched grad mode on"
        self._grad_mode.__exit__(*exc)
        self._stop_recording()
        self._release()  # what happens after the block is not recorded

    def watch(self, tensor: Nested) -> None:
        """Record operations on ``tensor`` (or on each tensor of a nested structure) from now on."""
        for t in tree_flatten(tensor)[0]:
            if not isinstance(t, Tensor):
                raise TypeError(f"GradientTape.watch: expected a Tensor, got {type(t).__name__}")
            if not t.requires_grad:
                t.requires_grad_(True)
                self._made_differentiable.append(t)
            self._watched.add(t if t.grad_fn is None else t.grad_fn)

    @contextmanager
    def stop_recording(self) -> Iterator[None]:
        """Operations inside this block are not recorded by this tape (other tapes go on)."""
        if not self._recording():
            raise RuntimeError(
                "GradientTape.stop_recording: this tape is not recording; "
                "call it inside the tape's `with` block"
            )
        self._stop_recording()
        try:
            # With no tape left recording, nothing needs the graph: skip building it.
            with nullcontext() if _RECORDING.get() else no_grad():
                yield
        finally:
            self._start_recording()

    def reset(self) -> None:
        """Forget everything recorded, as if the block were left and a new tape entered.

        Values computed before ``reset`` are constants to the tape, the tensors it
        watched are no longer watched, and a non-persistent tape may be asked again.

        >>> import chainrule as cr
        >>> v = cr.Variable(2.0)
        >>> with cr.GradientTape() as tape:
        ...     loss = v * v
        ...     tape.reset()
        ...     loss = loss + 3 * v
        >>> float(tape.gradient(loss, v))          # only 3v was recorded
        3.0
        """
        if not self._recording():
            raise ValueError(
                "GradientTape.reset: this tape is not recording; call reset() inside the tape's `with` block"
            )
        self._release()
        self._watched = set()
        self._windows = [(next_seq(), math.inf)]
        self._used = False

    def gradient(self, target: Nested, sources: Nested, output_gradients: Nested = None) -> Nested:
        """Σₖ ∂⟨gₖ, targetₖ⟩/∂source for each source, through the operations this tape recorded.

        ``target`` is a Tensor or a pytree of them (dicts, lists, tuples; see
        :mod:`chainrule.tree`), whose gradients add up; ``output_gradients`` (nested like
        ``target``, None at a leaf meaning ones) holds the seeds gₖ, ones by default, so a
        non-scalar target gives the gradient of its sum. ``sources`` is a Tensor or a
        pytree of them; the result has its structure (dicts in their key order), with
        None where no recorded operation leads from the target to the source.

        >>> import chainrule as cr
        >>> x, z = cr.tensor(2.0), cr.tensor(5.0)
        >>> with cr.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x * z
        >>> tape.gradient(y, [x, z])               # [2xz, None]: z is not watched
        [tensor(20.), None]
        """
        targets, target_def = tree_flatten(target)
        seeds = [None] * len(targets) if output_gradients is None else _seeds(output_gradients, target_def)
        pairs = [(t, _seed(t, g)) for t, g in zip(targets, seeds) if isinstance(t, Tensor)]
        flat_sources, source_def = _checked_sources(sources, "gradient")
        self._check_use("gradient")
        grads = self._pull_back([t for t, _ in pairs], [g for _, g in pairs], flat_sources)
        return source_def.unflatten(iter(grads))

    def jacobian(self, target: Nested, sources: Nested) -> Nested:
        """J[i..., j...] = ∂target[i...]/∂source[j...], shaped ``target.shape + source.shape``,
        for each source (nested as ``sources``; None where unconnected), in one batched pass
        per target. A pytree target gives its structure outside, each leaf holding the
        sources' structure: ``J[target_leaf][source_leaf]`` (None for a leaf that is not a
        Tensor).

        >>> import chainrule as cr
        >>> x = cr.tensor([1.0, 2.0])
        >>> with cr.GradientTape() as tape:
        ...     tape.watch(x)
        ...     y = x * x
        >>> tape.jacobian(y, x)                    # diag(2x)
        tensor([[2., 0.],
                [0., 4.]])
        """
        targets, target_def = tree_flatten(target)
        flat_sources, source_def = _checked_sources(sources, "jacobian")
        self._check_use("jacobian")
        left = sum(isinstance(t, Tensor) for t in targets)  # passes still to run
        blocks = []
        for t in targets:
            if not isinstance(t, Tensor):
                blocks.append(source_def.unflatten(iter([None] * len(flat_sources))))
                continue
            left -= 1
            basis = basis_rows(t, 0, t.size)  # one cotangent per row
            # every pass but the last keeps the saved values: the next one runs through them too
            rows = self._pull_back([t], [basis], flat_sources, batch_ndim=1, retain_graph=left > 0)
            jacobians = [
                None if r is None else reshape(r, t.shape + s.shape) for r, s in zip(rows, flat_sources)
            ]
            blocks.append(source_def.unflatten(iter(jacobians)))
        return target_def.unflatten(iter(blocks))

    def _recording(self) -> bool:
        return any(tape is self for tape in _RECORDING.get())

    def _start_recording(self) -> None:
        recording = _RECORDING.get()
        if self._recording():
            raise ValueError(
                "GradientTape: this tape is already recording; a tape's `with` block "
                "cannot be entered again inside itself"
            )
        for tape in recording:
            tape._peers.add(self)
            self._peers.add(tape)
        self._windows.append((next_seq(), math.inf))
        _RECORDING.set(recording + (self,))

    def _stop_recording(self) -> None:
        start, _ = self._windows[-1]
        self._windows[-1] = (start, next_seq())
        _RECORDING.set(tuple(tape for tape in _RECORDING.get() if tape is not self))

    def _release(self) -> None:
        """Tensors this tape made require grad stop requiring it, except those another tape
        recording in this thread watches too: that tape releases them when it is done."""
        others = [tape for tape in _RECORDING.get() if tape is not self]
        for t in self._made_differentiable:
            heir = next((tape for tape in others if t in tape._watched), None)
            if heir is None:
                t.requires_grad_(False)
            else:
                heir._made_differentiable.append(t)
        self._made_differentiable = []

    def _check_use(self, what: str) -> None:
        if self._used and not self.persistent:
            raise RuntimeError(
                f"GradientTape.{what}: a non-persistent tape can be asked only once; "
                "create it with GradientTape(persistent=True) to ask again"
            )
        self._used = True

    def _pull_back(
        self,
        targets: list[Tensor],
        seeds: list[Any],
        sources: list[Tensor],
        batch_ndim: int = 0,
        retain_graph: bool = False,
    ) -> list[Tensor | None]:
        """Σₖ seedₖᵀ · ∂targetₖ/∂source through recorded operations, per source (None if none)."""
        keys = [s if s.grad_fn is None else s.grad_fn for s in sources]
        roots = [t.grad_fn for t in targets if t.grad_fn is not None]
        visit, known, foreign = self._plan(roots, set(keys))
        live = [(t, s) for t, s in zip(targets, seeds) if t.grad_fn is None or t.grad_fn in visit]
        # Record the pass when its result may be differentiated again: by another tape recording
        # now, by forward mode, through a differentiable seed, or by whatever made a leaf outside
        # the sources require grad (an enclosing transform).
        create_graph = (
            any(tape is not self for tape in _RECORDING.get())
            or foreign
            or bool(mode.state().levels)
            or any(isinstance(s, Tensor) and s.requires_grad for _, s in live)
        )
        # Several tapes may record the same operations, and the pass frees the saved values of
        # the nodes it visits. So it frees them only when no tape that recorded alongside this
        # one can still ask (a persistent tape, or a non-persistent one not asked yet); what is
        # retained goes when Python drops the tensors.
        retain = (
            retain_graph or self.persistent or any(peer.persistent or not peer._used for peer in self._peers)
        )
        leaf_grads, captured = _run(
            tuple(t for t, _ in live),
            tuple(_as_seed(s, create_graph) for _, s in live),
            retain,
            create_graph,
            capture=[k for k in keys if type(k) is Node],
            batch_ndim=batch_ndim,
            only=visit,
        )
        grads = [
            captured.get(k) if isinstance(k, Node) else leaf_grads.get(k) if k in known else None
            for k in keys
        ]
        return [g if g is None or isinstance(g, Tensor) else gradient_tensor(g) for g in grads]

    def _plan(self, roots: list[Node], keys: set[Tensor | Node]) -> tuple[set[Node], set[Tensor], bool]:
        """Which nodes the reverse pass from ``roots`` to the sources ``keys`` visits.

        A node is recorded by this tape when it was made while the tape was recording and
        one of its inputs is watched or recorded by it. The pass visits the recorded nodes
        on a path from a root to a source, and the watched intermediate sources (computed
        before the tape watched them) to read their gradients. Returns those nodes, the
        leaf sources the tape watches, and whether the graph holds a leaf that requires
        grad and is not a source. Raises where a source lies below a watched intermediate
        source, since the pass would push gradient through an unrecorded operation into it.
        """
        by_tapes = {t for tape in _RECORDING.get() for t in tape._made_differentiable}
        watches: Callable[[Tensor], bool] = lambda leaf: (
            leaf in self._watched or (leaf.requires_grad and leaf not in by_tapes)
        )
        order = topological_order(roots)
        recorded: set[Node] = set()
        # recorded nodes from which a source is reached, and watched sources
        reaching: set[Node | Tensor] = set()
        foreign = False
        for node in reversed(order):  # producers before consumers
            fed = reaches = False
            for p in node.parents:
                if type(p) is Node:
                    fed = fed or p in recorded or p in self._watched
                    reaches = reaches or p in reaching
                elif p is not None:
                    fed = fed or watches(p)
                    reaches = reaches or (p in keys and watches(p))
                    foreign = foreign or (p.requires_grad and p not in keys)
            if fed and any(start < node.seq < stop for start, stop in self._windows):
                recorded.add(node)
            if (node in recorded and reaches) or (node in keys and node in self._watched):
                reaching.add(node)
        visit = {root for root in roots if root in reaching}
        below_unrecorded: set[Node | Tensor] = set()
        for node in order:  # consumers before producers
            if node not in visit:
                continue
            unrecorded = node not in recorded or node in below_unrecorded
            for p in node.parents:
                if p is not None and unrecorded:
                    below_unrecorded.add(p)
                if p in reaching:
                    visit.add(p)
        if keys & below_unrecorded:
            raise RuntimeError(
                "GradientTape: a source was computed from a watched intermediate source "
                "outside this tape's recording; ask for the gradient of the "
                "intermediate in a separate call (with GradientTape(persistent=True))"
            )
        known = {k for k in keys if not isinstance(k, Node) and watches(k)}
        return visit, known, foreign


def _seed(target: Tensor, gradient: TensorLike | None) -> Any:
    """The output gradient for ``target``: ones where its values are by default, else the
    given array of its shape."""
    if gradient is None:
        return backends.move(
            np.ones(target.shape, dtype=backends.numpy_dtype(target.dtype)), device_of(target)
        )
    seed: Any = (
        gradient if isinstance(gradient, Tensor) or backends.is_array(gradient) else np.asarray(gradient)
    )
    if seed.shape != target.shape:
        raise ValueError(
            f"GradientTape.gradient: an output gradient has shape {seed.shape} but its "
            f"target has shape {target.shape}; they must be equal"
        )
    return seed


def _as_seed(seed: Tensor | np.ndarray, create_graph: bool) -> Tensor | np.ndarray:
    """A Tensor when the pass is recorded, else the bare array."""
    if create_graph:
        return seed if isinstance(seed, Tensor) else gradient_tensor(seed)
    return seed.data if isinstance(seed, Tensor) else seed


def _seeds(output_gradients: Nested, target_def: PyTreeDef) -> list[Any]:
    """The output gradients, one per leaf of the target (whatever sits at a target's leaf)."""
    try:
        return target_def.flatten_up_to(output_gradients, "output_gradients")
    except ValueError as error:
        raise ValueError(
            f"GradientTape.gradient: output_gradients must be nested as the target is: {error}"
        ) from None


def _checked_sources(sources: Nested, what: str) -> tuple[list[Tensor], PyTreeDef]:
    flat, treedef = tree_flatten(sources)
    for s in flat:
        if not isinstance(s, Tensor):
            raise TypeError(
                f"GradientTape.{what}: sources must be Tensors (alone or in nested dicts, "
                f"lists and tuples), got {type(s).__name__}"
            )
    return flat, treedef
