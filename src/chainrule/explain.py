"""``explain``: the reverse pass written down step by step, with every number shown.

For each node, in the order backpropagation visits them, a :class:`Step` holds the
upstream gradient g = ∂L/∂out, the local Jacobian ∂out/∂inᵢ of each input (when both
sides are small; printed as its matrix up to 8 × 8, so an elementwise op shows its
diagonal) and the downstream gradient each input receives,

    downstream = upstream × local        (∂L/∂inᵢ = ∂L/∂out · ∂out/∂inᵢ),

and, where a value fans out to several consumers, the gradients that were summed into
its upstream. A ``cr.Function`` with several outputs is one step whose upstream holds
one gradient per output (0 for an output not used), each passed on by a small step
of its own (``SinCos[0]``, ``SinCos[1]``, ...). Nothing is written to any ``.grad``.
The steps are written down by an observer of the reverse pass itself
(:func:`chainrule.graph.backward`), so they are what ``backward()`` computes.
Run the forward pass inside ``with cr.capture_sites():`` to see the file:line that
created each op.

>>> import chainrule as cr
>>> x, y, z = (cr.tensor(v, requires_grad=True) for v in (1.0, 2.0, 0.0))
>>> f = (x + y) * cr.maximum(y, z)
>>> trace = cr.explain(f)
>>> [s.op for s in trace.steps]
['mul', 'maximum', 'add']
>>> {name: g.item() for name, g in sorted(trace.leaf_gradients.items())}
{'x': 2.0, 'y': 5.0, 'z': 0.0}
"""

from __future__ import annotations

import html
import inspect
import math
from dataclasses import dataclass, field

import numpy as np

from . import backends
from .autograd import make_seed, run_backward
from .graph import Node, OutputGrads
from .ops.core import fit, pullback
from .ops.xp import rules_namespace
from .tables import markdown_table, text_table
from .tensor import Tensor

LOCAL_LIMIT = 64  # local Jacobians are kept when input and output have at most this many elements
MATRIX_LIMIT = 8  # and printed as matrices when both have at most this many (up to 8 × 8)
SMALL = 6  # gradients and constants of at most this many elements are written out


@dataclass
class Step:
    """One node of the reverse pass: downstream[i] = upstream × local[i]."""

    number: int
    op: str
    node: str
    site: str | None
    inputs: list[str]  # a leaf's name, "← op" for a computed value, or a constant's name or value
    input_shapes: list[tuple[int, ...] | None]  # None for a constant
    output_shape: tuple
    upstream: np.ndarray | tuple  # a tuple, one gradient per output, for several outputs
    received: list[tuple[str, np.ndarray | tuple]] = field(default_factory=list)
    local: list[np.ndarray | None] = field(default_factory=list)
    downstream: list[np.ndarray | None] = field(default_factory=list)


@dataclass
class BackwardTrace:
    """The steps of a reverse pass, and the gradient each leaf ends up with."""

    root: str
    seed: np.ndarray
    steps: list[Step]
    leaf_gradients: dict[str, np.ndarray]
    leaf_sums: dict[str, list[tuple[str, np.ndarray]]]

    def rows(self) -> list[list[str]]:
        header = [
            "#",
            "op",
            "created at",
            "out shape",
            "upstream g",
            "input",
            "local ∂out/∂in",
            "downstream = g × local",
        ]
        rows = [header]
        for s in self.steps:
            upstream = _fmt(s.upstream)
            if len(s.received) > 1:
                upstream = " + ".join(_fmt(g) for _, g in s.received) + " = " + upstream
            inputs = zip(s.inputs, s.input_shapes, s.local, s.downstream)
            for i, (name, shape, local, down) in enumerate(inputs):
                first = i == 0
                rows.append(
                    [
                        str(s.number) if first else "",
                        s.op if first else "",
                        _site(s.site) if first else "",
                        str(s.output_shape) if first else "",
                        upstream if first else "",
                        name if shape is None else f"{name} {shape}",
                        "-" if local is None else _jacobian_text(local, s.output_shape),
                        "(no gradient)" if down is None else _fmt(down),
                    ]
                )
        return rows

    def leaf_lines(self) -> list[str]:
        lines = []
        for name, total in self.leaf_gradients.items():
            parts = self.leaf_sums[name]
            summed = " + ".join(_fmt(g) for _, g in parts) + " = " if len(parts) > 1 else ""
            uses = f"   (summed over {len(parts)} uses)" if len(parts) > 1 else ""
            lines.append(f"∂{self.root}/∂{name} = {summed}{_fmt(total)}{uses}")
        return lines

    def __str__(self) -> str:
        header, *rows = self.rows()
        title = f"reverse pass of {self.root}, seeded with ∂{self.root}/∂{self.root} = {_fmt(self.seed)}"
        return "\n".join([title, text_table(header, rows, rule=False), *self.leaf_lines()])

    def to_markdown(self) -> str:
        header, *rows = self.rows()
        out = [f"Reverse pass of `{self.root}` (seed {_fmt(self.seed)})", "", markdown_table(header, rows)]
        return "\n".join(out + [""] + [f"- {line}" for line in self.leaf_lines()])

    def _repr_html_(self) -> str:
        rows = self.rows()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join("<tr>" + "".join(f"<td>{_html_text(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
        leaves = "".join(f"<li>{html.escape(line)}</li>" for line in self.leaf_lines())
        return (
            f"<p>Reverse pass of <code>{html.escape(self.root)}</code></p>"
            f"<table><tr>{head}</tr>{body}</table><ul>{leaves}</ul>"
        )


def _fmt(a: np.ndarray | tuple[np.ndarray | None, ...]) -> str:
    if isinstance(a, tuple):  # one gradient per output
        return "(" + "; ".join("0" if g is None else _fmt(g) for g in a) + ")"
    a = np.asarray(a)
    if a.size <= SMALL:
        return " ".join(_array_text(a).split())
    return f"{a.shape} |·|={np.linalg.norm(a):.4g} min={a.min():.4g} max={a.max():.4g}"


def _array_text(a: np.ndarray) -> str:
    """``a`` to 4 decimals, one line per row of a matrix (+ 0.0 turns -0 into 0); a boolean
    array (a ``where`` condition) as it is."""
    shown = a if a.dtype == bool else np.round(a, 4) + 0.0
    return np.array2string(shown, precision=4, suppress_small=True, separator=", ", max_line_width=10**4)


def _jacobian_text(local: np.ndarray, output_shape: tuple[int, ...]) -> str:
    """A local Jacobian (shaped output + input) written as its matrix, one line per output
    element and one column per input element, when it has at most MATRIX_LIMIT of each;
    for a 0-d output, shaped like the input (a gradient). Larger ones are summarised.

    >>> print(_jacobian_text(np.diag([2.0, 4.0]), (2,)))   # ∂(x²)/∂x at x = (1, 2)
    [[2., 0.],
     [0., 4.]]
    """
    rows = math.prod(output_shape)
    columns = local.size // rows if rows else 0
    if rows > MATRIX_LIMIT or columns > MATRIX_LIMIT:
        return _fmt(local)
    return _array_text(local.reshape(rows, columns) if output_shape else local)


def _html_text(text: str) -> str:
    """A table cell's text as HTML: a cell of several lines (a matrix) keeps its layout."""
    return f"<pre>{html.escape(text)}</pre>" if "\n" in text else html.escape(text)


def _site(site: str | None) -> str:
    if not site:
        return "-"
    path, _, line = site.rpartition(":")
    return f"{path.rsplit('/', 1)[-1]}:{line}"


def _caller_names(frame_depth: int = 2) -> dict[int, str]:
    """Names the caller gave its tensors and arrays, to label leaves (x, y, W ...) and
    constants in the trace. Numbers are shown by value: small ones are shared objects,
    so an id would not say which name was meant."""
    frame = inspect.currentframe()
    for _ in range(frame_depth):
        frame = frame.f_back if frame is not None else None
    names = {}
    if frame is not None:
        for scope in (frame.f_globals, frame.f_locals):
            for name, value in scope.items():
                if isinstance(value, (Tensor, np.ndarray)) and not name.startswith("_"):
                    names[id(value)] = name
    return names


def _value(g):
    """A gradient as the trace shows it: a host copy, or a tuple with one per output."""
    if type(g) is OutputGrads:
        return tuple(None if gi is None else backends.host(gi) for gi in g.grads)
    return backends.host(g)


def _local_jacobians(node: Node, rules, device) -> list:
    """Each input's Jacobian of ``node`` by its rule (on ``rules``, where the values are on
    ``device``), as host arrays; None where it is too large or has no one Jacobian."""
    if isinstance(node.dtype, tuple) or any(type(p) is Node and p.multi_output for p in node.parents):
        return [None] * len(node.parents)  # a gradient per output has no one Jacobian
    m = math.prod(node.shape)
    if m > LOCAL_LIMIT or any(p is not None and math.prod(p.shape) > LOCAL_LIMIT for p in node.parents):
        return [None] * len(node.parents)
    seed = np.eye(m, dtype=backends.numpy_dtype(node.dtype)).reshape((m,) + node.shape)
    try:
        rows = pullback(node, backends.move(seed, device), rules, batch_ndim=1)
    except Exception:  # a custom Function whose backward cannot take stacked cotangents
        return [None] * len(node.parents)
    return [
        None if r is None else backends.host(r).reshape(node.shape + p.shape)
        for r, p in zip(rows, node.parents)
    ]


def explain(y: Tensor, gradient=None, names: dict | None = None) -> BackwardTrace:
    """Run the reverse pass of ``y`` (keeping its graph) and write down every step,
    without touching any ``.grad``.

    ``gradient`` seeds it (ones for a one-element y); ``names`` maps tensors to the
    labels to print (by default the names the calling code gave them).
    """
    labels = _caller_names()
    labels.update({id(t): n for t, n in (names or {}).items()})
    root = labels.get(id(y), "y")
    seed = make_seed(y, gradient, False, "explain")
    recorder = _StepRecorder(labels, backends.device_of(y._data))
    if y.grad_fn is None:
        recorder.leaf_sums[y] = [("seed", backends.host(seed))]
        recorder.leaf_order[y] = 1
    else:
        recorder.received[y.grad_fn] = [("seed", seed)]
        run_backward((y,), (seed,), retain_graph=True, create_graph=False, observers=(recorder,))
    leaf_names = {leaf: labels.get(id(leaf), f"leaf {k}") for leaf, k in recorder.leaf_order.items()}
    totals, sums = {}, {}
    for leaf in recorder.leaf_order:
        parts = recorder.leaf_sums.get(leaf, [])
        if parts:
            totals[leaf_names[leaf]] = np.asarray(sum((p for _, p in parts[1:]), start=parts[0][1]))
            sums[leaf_names[leaf]] = parts
    return BackwardTrace(root, backends.host(seed), recorder.steps, totals, sums)


class _StepRecorder:
    """An observer of the reverse pass: each node it visits becomes a :class:`Step`.

    ``received`` holds, for each node still to visit, the gradients its consumers sent
    (labelled by their steps), in the order the pass adds them up; ``leaf_sums`` the
    same for leaves; ``leaf_order`` numbers the leaves as the steps first meet them. The
    pass runs on ``device``; what a step shows are host copies.
    """

    def __init__(self, labels: dict, device) -> None:
        self.labels = labels
        self.device = device
        self.rules = rules_namespace(backends.namespace_of_device(device))
        self.steps: list[Step] = []
        self.received: dict = {}
        self.leaf_sums: dict = {}
        self.leaf_order: dict = {}

    def __call__(self, node: Node, g, grads) -> None:
        number = len(self.steps) + 1
        downstream = [
            None if p is None or gi is None else fit(gi, p, self.rules) for p, gi in zip(node.parents, grads)
        ]
        inputs = [_input_label(node, k, self.labels, self.leaf_order) for k in range(len(node.parents))]
        received = [(n, _value(r)) for n, r in self.received.pop(node)]
        self.steps.append(
            Step(
                number,
                node.op.name,
                node.name,
                node.site,
                inputs,
                [None if p is None else tuple(p.shape) for p in node.parents],
                node.shape,
                _value(g),
                received,
                _local_jacobians(node, self.rules, self.device),
                [None if d is None else _value(d) for d in downstream],
            )
        )
        for parent, d in zip(node.parents, downstream):
            if d is None:
                continue
            if type(parent) is Node:
                self.received.setdefault(parent, []).append((f"step {number}", d))
            else:
                self.leaf_sums.setdefault(parent, []).append((f"step {number}", backends.host(d)))


def _input_label(node: Node, position: int, labels: dict[int, str], leaf_order: dict) -> str:
    parent = node.parents[position]
    if parent is None:
        return _constant_label(node, position, labels)
    if type(parent) is Node:
        return f"← {parent.op.name}"
    if parent not in leaf_order:  # a dict: membership by identity, never by Tensor ==
        leaf_order[parent] = len(leaf_order) + 1
    return labels.get(id(parent), f"leaf {leaf_order[parent]}")


def _constant_label(node: Node, position: int, labels: dict[int, str]) -> str:
    """An input that needs no gradient (a number, an array, a tensor without requires_grad):
    its name in the calling code and its value when small, from what the op saved.

    An op whose rule never reads that input (add, sub) keeps it only when it was given as
    a number or an array; a tensor it did not read is "constant".
    """
    if not isinstance(node.saved, tuple):  # a cr.Function's ctx
        return "constant"
    given = None if node.inputs is None else node.inputs[position]  # the argument as passed
    saved = node.saved[0][position]
    if saved is None and given is None:
        return "constant"
    value = saved if saved is not None else given
    value = backends.host(value._data if isinstance(value, Tensor) else value)
    name = labels.get(id(given)) if given is not None else None
    if value.size > SMALL:
        return f"{name or 'constant'} {value.shape}"
    return _fmt(value) if name is None else f"{name} = {_fmt(value)}"
