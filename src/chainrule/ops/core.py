"""The machinery of the derivative table.

Every primitive operation is one :class:`OpDef` in the registry :data:`OPS`. An entry
is declared once, by its mathematical category, and the category's helper derives
both derivative rules from what the entry states:

=========  ==============================  ====================  ======================
category   the entry states                reverse rule (VJP)    forward rule (JVP)
=========  ==============================  ====================  ======================
unary      f and f'(x, y)                  g · f'                t · f'
binary     f and ∂f/∂x, ∂f/∂y              g · ∂x, g · ∂y        tx · ∂x + ty · ∂y
linear     f and its transpose fᵀ          fᵀ(g)                 f(t)
multilinear f and one VJP per input         as stated             Σᵢ f(x₁, …, tᵢ, …, xₙ)
general    VJP and JVP by hand             as stated             as stated
composite  a forward made of other ops     (of its parts)        (of its parts)
=========  ==============================  ====================  ======================

Here g is the upstream gradient (cotangent) of the output ``out = f(x, ...)``, shaped
like ``out``, and t is a tangent shaped like the input. Both may carry extra *leading*
batch axes: a stack of k cotangents has shape ``(k,) + out.shape``. Rules use negative
axes and ``...`` so that one call pushes a whole stack through (one-pass Jacobians).

Rules are written against an array namespace ``xp`` (``numpy``-like, see ``xp.py``).
An ordinary backward pass hands them NumPy and raw arrays; a backward pass with
``create_graph=True`` hands them chainrule's recording namespace and Tensors, so the
rule is itself recorded and can be differentiated again.

Broadcasting is undone in exactly one place, :func:`sum_to`, which the engine calls
on every gradient a rule returns (see :func:`pullback`); no rule calls it.

Forwards are written against an array namespace too
----------------------------------------------------
A row declares its forward in one of two ways, and never calls ``np.`` itself:

- a string: the name of one array-namespace function applied to the arrays, for a row
  that is exactly that function (``unary("exp", "exp", ...)``, ``binary("sub",
  "subtract", ...)``, ``general("det", "linalg.det", ...)``; a dotted name reaches into
  a sub-namespace);
- a function ``forward(xp, *arrays, **params)`` whose first parameter is the namespace
  and which computes only through it::

      def _sigmoid(xp, x):
          e = xp.exp(-xp.abs(x))
          return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))

      unary("sigmoid", _sigmoid, slope=lambda x, y, xp: y * (1 - y), saves="y")

Names are those of the Python array API standard (``xp.concat``, ``xp.permute_dims``,
``xp.pow``, ``xp.acos``, ``xp.linalg.inv``, ``xp.cumulative_sum``: ``STANDARD`` in
``xp.py``), composed where the standard lacks a function but composing costs nothing
(``deg2rad`` is ``x * (pi / 180)``). A NumPy function the standard lacks (``einsum``,
``fmod``, ``nan_to_num``, ...) is used only once declared in ``FORWARD_EXTRAS`` with the
NumPy function it means, so that a later backend knows what to supply. The only NumPy
a forward may reach is listed, with its reason, in ``NUMPY_ONLY`` (a fast path that falls
back to standard calls on any other namespace, an error class it restates). ``prepare``
runs on shapes and parameters and may use NumPy, but computes no part of the output.

:class:`OpDef` binds the declaration once, at registration: ``op.forward`` is the
forward on NumPy (``numpy.exp`` itself for ``"exp"``, ``functools.partial(fn, numpy)``
for a function), so the per-op hot path pays nothing for the namespace, and
``op.forward_on(xp)`` binds the same rule to another namespace (what a backend calls).
``tests/test_table.py`` walks every row and fails on a forward that calls ``np.``
or a name that is neither standard nor a declared extra.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy

from ..backends import dtype_in, host, move
from ..dtypes import numpy_dtype
from .extras import with_extras

OPS: dict[str, OpDef] = {}


@dataclass(frozen=True)
class Sample:
    """Test inputs for an op: argument shapes, keyword parameters, and how to call it.

    ``call(fn, *arrays)`` calls a public function (or its NumPy reference) on the
    sampled arrays; by default ``fn(*arrays, **params)``.
    """

    shapes: tuple
    params: dict = field(default_factory=dict)
    call: Callable | None = None

    def run(self, fn, *arrays):
        if self.call is not None:
            return self.call(fn, *arrays, **self.params)
        return fn(*arrays, **self.params)


def _on_namespace(xp: Any, value: Any, device: Any) -> Any:
    """A parameter made with NumPy as the namespace ``xp`` has it: arrays on ``device``,
    dtypes by name (inside tuples too)."""
    if isinstance(value, numpy.ndarray):
        return xp.asarray(value, device=device)
    if isinstance(value, numpy.dtype):
        return dtype_in(xp, value)
    if isinstance(value, tuple):
        return tuple(_on_namespace(xp, v, device) for v in value)
    return value


def params_on(xp: Any, params: dict[str, Any], device: Any) -> dict[str, Any]:
    """The parameters ``prepare`` made with NumPy (index arrays, masks, dtypes) as the array
    namespace ``xp`` has them, arrays on ``device``: what a forward and the rules read there."""
    return {k: _on_namespace(xp, v, device) for k, v in params.items()}


def bind_forward(rule: str | Callable[..., Any], xp: Any) -> Callable[..., Any]:
    """A row's forward declaration bound to the array namespace ``xp``.

    A string names one function of the namespace (dotted for a sub-namespace), which is
    returned itself; a function ``rule(xp, *arrays, **params)`` gets ``xp`` fixed.

    >>> import numpy as np
    >>> bind_forward("exp", np) is np.exp, bind_forward("linalg.det", np) is np.linalg.det
    (True, True)
    """
    if isinstance(rule, str):
        return functools.reduce(getattr, rule.split("."), xp)
    return functools.partial(rule, xp)


class OpDef:
    """One row of the derivative table.

    ``forward_rule`` is the forward as the row declares it, against an array namespace:
    a string naming one namespace function (``"exp"``, ``"linalg.inv"``), or a function
    ``forward_rule(xp, *arrays, **params)`` that computes only through ``xp`` (see the
    module docstring). ``forward(*arrays, **params)`` is that rule bound to NumPy once,
    at registration (``np.exp`` itself for ``"exp"``): the engine calls it per op.
    ``forward_on(xp)`` binds the same rule to another namespace, as a backend does::

        unary("exp", "exp", slope=lambda x, y, xp: y, saves="y")
        linear("deg2rad", lambda xp, x: x * (math.pi / 180), transpose=...)
        OPS["exp"].forward is numpy.exp; OPS["deg2rad"].forward_on(cupy)(x)

    ``vjp(g, node, xp)`` returns one gradient per input (``None`` where the input
    needs none); ``jvp(tangents, xs, out, params, xp)`` returns the output tangent
    (``tangents[i]`` is ``None`` for an input with zero tangent). ``prepare`` checks
    the inputs and turns user parameters into the canonical ones the rules read.
    A ``floating`` op (exp, division, mean) has a floating result for any input, so
    boolean and integer inputs are converted to the default float before ``forward``.
    An op that ``reads_values`` has a ``prepare`` that reads the inputs' values, not only
    their shapes (sort's permutation, cumprod's check for zeros): vmap runs it example by
    example.

    ``saves`` names the values the row's rule reads, by the names the rule gives them
    (the inputs ``x``, ``y`` or ``xs``; the output ``y`` of a unary op, else ``out``); a
    node saves only those (``saves_inputs``, ``saves_out``). ``sparse_transpose(g,
    **params)`` states the transpose of a row lookup for one cotangent as plain
    ``(rows, values, shape)``: g's values, to be added at those rows of a zero gradient
    of ``shape`` (None for stacked cotangents); the reverse pass keeps it row-sparse.
    """

    __slots__ = (
        "name",
        "category",
        "forward_rule",
        "forward",
        "vjp",
        "jvp",
        "prepare",
        "saves",
        "saves_inputs",
        "saves_out",
        "sparse_transpose",
        "reference",
        "domain",
        "kinks",
        "samples",
        "backward_name",
        "fn",
        "floating",
        "reads_values",
        "_bound",
    )

    name: str
    category: str
    # The functions an op has, the others None: a composite has only ``fn``, the other categories
    # the rules ``forward``, ``vjp`` and ``jvp``; ``prepare`` and ``sparse_transpose`` are per op.
    # The engine calls each only where the op has it. ``forward_rule`` is the declaration
    # (a namespace function's name, or a function of the namespace), ``forward`` it on NumPy.
    forward_rule: str | Callable[..., Any] | None
    forward: Any
    vjp: Any
    jvp: Any
    fn: Any
    prepare: Any
    sparse_transpose: Any
    saves: tuple[str, ...] | None
    saves_inputs: bool
    saves_out: bool
    reference: Callable[..., Any] | None
    domain: tuple[float, float]
    kinks: tuple[float, ...]
    samples: list[Sample] | None
    floating: bool
    reads_values: bool
    backward_name: str

    def __init__(
        self,
        name: str,
        category: str,
        *,
        forward: str | Callable[..., Any] | None = None,
        vjp: Callable[..., Any] | None = None,
        jvp: Callable[..., Any] | None = None,
        prepare: Callable[..., dict[str, Any]] | None = None,
        saves: tuple[str, ...] | None = None,
        saves_inputs: bool = True,
        saves_out: bool = True,
        sparse_transpose: Callable[..., Any] | None = None,
        reference: Callable[..., Any] | None = None,
        domain: tuple[float, float] = (-2.0, 2.0),
        kinks: Iterable[float] = (),
        samples: list[Sample] | None = None,
        fn: Callable[..., Any] | None = None,
        floating: bool = False,
        reads_values: bool = False,
    ) -> None:
        self.name = name
        self.category = category
        self.forward_rule = forward
        self.forward = None if forward is None else bind_forward(forward, numpy)
        self.vjp = vjp
        self.jvp = jvp
        self.prepare = prepare
        self.saves = saves
        self.saves_inputs = saves_inputs
        self.saves_out = saves_out
        self.sparse_transpose = sparse_transpose
        self.reference = self.forward if reference is None else reference
        self.domain = domain
        self.kinks = tuple(kinks)
        self.samples = samples
        self.fn = fn
        self.floating = floating
        self.reads_values = reads_values
        self._bound: dict[int, tuple[Any, Callable[..., Any]]] = {}  # forward_on's, per namespace
        self.backward_name = "".join(p.capitalize() for p in name.split("_")) + "Backward"

    def forward_on(self, xp: Any) -> Callable[..., Any]:
        """The forward bound to the array namespace ``xp``: what a backend (CuPy, or
        array-api-strict) calls instead of ``forward``, which is this for NumPy.

        On another namespace the NumPy extras it lacks are composed from standard
        functions (``extras.py``), and the parameters ``prepare`` made with NumPy (index
        arrays, dtypes) become the namespace's, on the device of the first input."""
        if self.forward_rule is None:
            raise TypeError(f"op {self.name!r} ({self.category}) declares no forward of its own")
        cached = self._bound.get(id(xp))
        if cached is not None and cached[0] is xp:
            return cached[1]
        bound = bind_forward(self.forward_rule, with_extras(xp))
        if xp is numpy:
            return bound

        def on_namespace(*arrays: Any, **params: Any) -> Any:
            device = next((a.device for a in arrays if hasattr(a, "device")), None)
            return bound(*arrays, **params_on(xp, params, device))

        self._bound[id(xp)] = (xp, on_namespace)  # by id: a namespace need not be hashable
        return on_namespace

    def __repr__(self) -> str:
        return f"<op {self.name} ({self.category})>"


def register(op: OpDef) -> OpDef:
    if op.name in OPS:
        raise ValueError(f"op {op.name!r} is declared twice in the derivative table")
    OPS[op.name] = op
    return op


def _declared_saves(name: str, saves, arguments: tuple[str, ...]) -> tuple[str, ...]:
    """A row's ``saves`` (one name or several) as a tuple, each one an argument of its rule."""
    names = (saves,) if isinstance(saves, str) else tuple(saves)
    unknown = [n for n in names if n not in arguments]
    if unknown:
        raise ValueError(f"op {name!r}: saves names {unknown}, but its rule reads only {arguments}")
    return names


def ndim_of(value) -> int:
    return getattr(value, "ndim", 0)


def values_of(value) -> numpy.ndarray:
    """The values of an array, or of a Tensor (its ``data``), as a NumPy array, for a rule or
    composite that reads them (a NaN mask, a check for a degenerate input); no gradient flows
    through them. Another namespace's array is copied to the host explicitly."""
    return value if isinstance(value, numpy.ndarray) else host(getattr(value, "data", value))


def every_value(value) -> numpy.ndarray:
    """The values of an array or Tensor for a check that must hold for all of them (a
    degenerate input, a zero cotangent); under vmap, every example's, batch axes first.
    The check may read only trailing axes and ``any``/``all`` over the rest."""
    inner = getattr(value, "_inner", None)  # a tensor vmap batches holds its batch there
    return values_of(value) if inner is None else every_value(inner)


def device_of(value) -> Any:
    """The device of an array or Tensor, for an array a rule makes beside it
    (``xp.eye(n, dtype=g.dtype, device=device_of(g))``); under vmap, the examples' device."""
    inner = getattr(value, "_inner", None)  # a tensor vmap batches holds its batch there
    return value.device if inner is None else device_of(inner)


def constant_like(value, a, dtype=None) -> Any:
    """The constant ``value`` (a number or NumPy array) as an array of ``dtype`` (``a``'s by
    default) on ``a``'s device, to mix into a computation on ``a`` (an array or Tensor) where
    a NumPy array would be refused: on NumPy, ``numpy.asarray(value, dtype=a.dtype)`` itself.

    >>> constant_like([1, 2], numpy.zeros(2, numpy.float32))
    array([1., 2.], dtype=float32)
    """
    return move(numpy.asarray(value, dtype=numpy_dtype(a.dtype) if dtype is None else dtype), device_of(a))


# --------------------------------------------------------------------------- helpers
def saved_values(node, xp) -> tuple[tuple, Any]:
    """The inputs and output a node saved, as the namespace ``xp`` wants them.

    For the recording namespace each saved array is re-attached to the node that
    produced it, so a rule that reads ``out`` (like exp's ``g * out``) stays
    differentiable with respect to the op's inputs.
    """
    xs, out = node.saved
    if xp.recording:
        if node.duals is not None:  # forward mode was on: the inputs carry tangents
            args, out_tangents = node.duals
            xs = tuple(None if x is None else a for x, a in zip(xs, args))
            out = None if out is None else xp.wrap(out, node, out_tangents)
        else:
            xs = tuple(None if x is None else xp.wrap(x, p) for x, p in zip(xs, node.parents))
            out = None if out is None else xp.wrap(out, node)
    return xs, out


def align(t, core_ndim: int, out_ndim: int, xp):
    """Give a batched tangent the singleton axes broadcasting would add to its input.

    A tangent of shape ``batch + x.shape`` must broadcast against the other operands
    as x did, so ``(k, 5)`` for x of shape (5,) in an output of shape (2, 3, 5)
    becomes ``(k, 1, 1, 5)``.
    """
    pad = out_ndim - core_ndim
    nb = t.ndim - core_ndim
    if pad <= 0 or nb <= 0:
        return t
    return xp.reshape(t, t.shape[:nb] + (1,) * pad + t.shape[nb:])


def sum_to(g, shape: tuple, xp, batch_ndim: int = 0):
    """Sum ``g`` down to ``shape``: the transpose of ``broadcast_to(x, g.shape)``.

    For x of shape S broadcast to shape B, the VJP is the sum of g over the axes
    broadcasting created (leading ones) or stretched (size 1 in S). The first
    ``batch_ndim`` axes of g are stacked cotangents and are kept:
    ``g.shape == batch + B`` becomes ``batch + S``.

    >>> import numpy as np
    >>> sum_to(np.ones((2, 3)), (3,), np).tolist()
    [2.0, 2.0, 2.0]
    """
    target = g.shape[:batch_ndim] + tuple(shape)
    if g.shape == target:
        return g
    lead = g.ndim - len(target)
    axes = tuple(range(batch_ndim, batch_ndim + lead))
    axes += tuple(
        batch_ndim + lead + i for i, n in enumerate(shape) if n == 1 and g.shape[batch_ndim + lead + i] != 1
    )
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    return xp.reshape(g, target)


def pullback(node, g, xp, batch_ndim: int = 0) -> list:
    """Downstream gradients of a node: its VJP, unbroadcast to each input's shape.

    This is "downstream = upstream × local" for one node; the result has one entry
    per input (``None`` where no gradient is needed), each with its input's shape
    (after ``batch_ndim`` leading batch axes) and dtype.
    """
    return [
        None if parent is None or gi is None else fit(gi, parent, xp, batch_ndim)
        for parent, gi in zip(node.parents, node.op.vjp(g, node, xp))
    ]


def fit(gi, parent, xp, batch_ndim: int = 0):
    """A gradient made to match its input: broadcasting undone, the input's dtype."""
    if batch_ndim or gi.shape != parent.shape:
        gi = sum_to(gi, parent.shape, xp, batch_ndim)
    if gi.dtype is not parent.dtype and gi.dtype != parent.dtype:
        gi = xp.astype(gi, parent.dtype)
    return gi


def pushforward(op: OpDef, tangents: Sequence, xs: Sequence, out, params: dict, xp):
    """Output tangent of ``op`` at ``xs``: its JVP, broadcast to ``batch + out.shape``."""
    t = op.jvp(tangents, xs, out, params, xp)
    if t is None:
        return None
    i, lead = next((i, ti) for i, ti in enumerate(tangents) if ti is not None)
    nb = lead.ndim - ndim_of(xs[i])
    target = lead.shape[:nb] + out.shape
    if t.shape != target:
        t = xp.broadcast_to(t, target)
    if t.dtype != out.dtype:
        t = xp.astype(t, out.dtype)
    return t


def _scaling(partial):
    """The map v ↦ v · ∂ for one declared partial (1 and -1 need no multiply)."""
    if callable(partial):
        return lambda v, x, y, out, xp: v * partial(x, y, out, xp)
    if partial == 1:
        return lambda v, x, y, out, xp: v
    if partial == -1:
        return lambda v, x, y, out, xp: -v
    raise ValueError(f"a partial derivative is a function or the constant 1 or -1, got {partial!r}")


# --------------------------------------------------------------------------- categories
def unary(
    name,
    forward,
    slope,
    *,
    saves,
    domain=(-2.0, 2.0),
    kinks=(),
    reference=None,
    prepare=None,
    samples=None,
    floating=True,
) -> OpDef:
    """An elementwise op y = f(x) declared by its derivative ``slope(x, y, xp, **params)``.

    VJP: g · f'(x); JVP: t · f'(x). ``saves`` names what ``slope`` reads, "x", "y" or
    both, and only that is saved. Most are ``floating`` (exp of an integer is a
    float); abs, sign, relu and clip are not.
    """
    saves = _declared_saves(name, saves, ("x", "y"))

    def vjp(g, node, xp):
        (x,), y = saved_values(node, xp) if xp.recording else node.saved
        return (g * slope(x, y, xp, **node.params),)

    def jvp(ts, xs, out, params, xp):
        return ts[0] * slope(xs[0], out, xp, **params)

    return register(
        OpDef(
            name,
            "unary",
            forward=forward,
            vjp=vjp,
            jvp=jvp,
            prepare=prepare,
            saves=saves,
            saves_inputs="x" in saves,
            saves_out="y" in saves,
            reference=reference,
            domain=domain,
            kinks=kinks,
            samples=samples,
            floating=floating,
        )
    )


def binary(
    name,
    forward,
    dx,
    dy,
    *,
    saves,
    domain=(-2.0, 2.0),
    kinks=(),
    reference=None,
    samples=None,
    floating=False,
) -> OpDef:
    """An elementwise op of two broadcast inputs, declared by its two partials.

    ``dx(x, y, out, xp)`` is ∂out/∂x elementwise (or the constant 1 or -1), likewise
    ``dy``. VJP: (g · ∂x, g · ∂y); JVP: tx · ∂x + ty · ∂y. ``saves`` names what the
    partials read among "x", "y" and "out" (the inputs are saved together).
    """
    saves = _declared_saves(name, saves, ("x", "y", "out"))
    times_dx, times_dy = _scaling(dx), _scaling(dy)

    def vjp(g, node, xp):
        (x, y), out = saved_values(node, xp) if xp.recording else node.saved
        px, py = node.parents
        return (
            None if px is None else times_dx(g, x, y, out, xp),
            None if py is None else times_dy(g, x, y, out, xp),
        )

    def jvp(ts, xs, out, params, xp):
        (x, y), (tx, ty) = xs, ts
        terms = [
            times(align(t, ndim_of(v), out.ndim, xp), x, y, out, xp)
            for t, v, times in ((tx, x, times_dx), (ty, y, times_dy))
            if t is not None
        ]
        return terms[0] if len(terms) == 1 else terms[0] + terms[1]

    return register(
        OpDef(
            name,
            "binary",
            forward=forward,
            vjp=vjp,
            jvp=jvp,
            saves=saves,
            saves_inputs="x" in saves or "y" in saves,
            saves_out="out" in saves,
            reference=reference,
            domain=domain,
            kinks=kinks,
            samples=samples,
            floating=floating,
        )
    )


def linear(
    name,
    forward,
    transpose,
    *,
    prepare=None,
    reference=None,
    domain=(-2.0, 2.0),
    samples=None,
    variadic=False,
    floating=False,
    sparse_transpose=None,
    reads_values=False,
) -> OpDef:
    """An op linear in its inputs, declared by its transpose.

    ``forward`` (a namespace function's name, or ``forward(xp, *xs, **params)``) must
    accept inputs with extra leading batch axes (it is applied to tangents too);
    ``transpose(g, xp, **params)`` is the VJP (a tuple for a ``variadic`` op, one
    gradient per input). JVP: f(t). A transpose reads no
    saved value, so the node saves nothing. ``sparse_transpose``: see :class:`OpDef`.
    """

    def vjp(g, node, xp):
        r = transpose(g, xp, **node.params)
        return r if variadic else (r,)

    def jvp(ts, xs, out, params, xp):
        if variadic and any(t is None for t in ts):
            lead = next((t, x) for t, x in zip(ts, xs) if t is not None)
            batch = lead[0].shape[: lead[0].ndim - lead[1].ndim]
            ts = [
                xp.zeros(batch + x.shape, dtype=out.dtype, device=device_of(out)) if t is None else t
                for t, x in zip(ts, xs)
            ]
        return xp.apply(op, *ts, **params)

    op = register(
        OpDef(
            name,
            "linear",
            forward=forward,
            vjp=vjp,
            jvp=jvp,
            prepare=prepare,
            saves=(),
            saves_inputs=False,
            saves_out=False,
            sparse_transpose=sparse_transpose,
            reference=reference,
            domain=domain,
            samples=samples,
            floating=floating,
            reads_values=reads_values,
        )
    )
    return op


def multilinear(
    name, forward, vjps, *, prepare=None, pad=None, reference=None, domain=(-2.0, 2.0), samples=None
) -> OpDef:
    """An op linear in each input separately (matmul, einsum), declared by its VJPs.

    ``vjps[i](g, xs, xp, **params)`` is the VJP for input i (so the node saves the
    inputs ``xs``). JVP by the product
    rule: Σᵢ f(x₁, …, tᵢ, …, xₙ), each batched tangent first given the singleton
    axes ``pad(i, xs, out, params)`` (default: as for broadcasting) says.
    """

    def vjp(g, node, xp):
        xs, _ = saved_values(node, xp)
        return tuple(rule(g, xs, xp, **node.params) if need else None for rule, need in zip(vjps, node.needs))

    def jvp(ts, xs, out, params, xp):
        total = None
        for i, t in enumerate(ts):
            if t is None:
                continue
            core = ndim_of(xs[i])
            extra = pad(i, xs, out, params) if pad else out.ndim - core
            t = align(t, core, core + extra, xp)
            args = list(xs)
            args[i] = t
            term = xp.apply(op, *args, **params)
            total = term if total is None else total + term
        return total

    op = register(
        OpDef(
            name,
            "multilinear",
            forward=forward,
            vjp=vjp,
            jvp=jvp,
            prepare=prepare,
            saves=("xs",),
            saves_inputs=True,
            saves_out=False,
            reference=reference,
            domain=domain,
            samples=samples,
        )
    )
    return op


def general(
    name,
    forward,
    vjp,
    jvp,
    *,
    saves,
    prepare=None,
    reference=None,
    domain=(-2.0, 2.0),
    kinks=(),
    samples=None,
    floating=False,
    reads_values=False,
) -> OpDef:
    """An op whose VJP ``vjp(g, xs, out, xp, needs, **params)`` and JVP are written by hand.

    ``saves`` names what the VJP reads: the inputs "xs", the output "out", or both.
    """
    saves = _declared_saves(name, saves, ("xs", "out"))

    def node_vjp(g, node, xp):
        xs, out = saved_values(node, xp)
        return vjp(g, xs, out, xp, node.needs, **node.params)

    return register(
        OpDef(
            name,
            "general",
            forward=forward,
            vjp=node_vjp,
            jvp=jvp,
            prepare=prepare,
            saves=saves,
            saves_inputs="xs" in saves,
            saves_out="out" in saves,
            reference=reference,
            domain=domain,
            kinks=kinks,
            samples=samples,
            floating=floating,
            reads_values=reads_values,
        )
    )


def composite(name, fn, *, reference, domain=(-2.0, 2.0), kinks=(), samples=None) -> OpDef:
    """An op made of other ops: ``fn(lib, *args, **params)``. Its derivatives are theirs.

    ``lib`` is an array namespace: chainrule's recording namespace, on which each part
    is recorded (NumPy's own functions have the same names).
    """
    return register(
        OpDef(
            name,
            "composite",
            fn=fn,
            reference=reference,
            domain=domain,
            kinks=kinks,
            samples=samples,
        )
    )
