"""``to_dot`` and ``draw``: the graph behind a tensor, as Graphviz DOT text or a picture.

The picture is the computation graph the reverse pass walks: one box per recorded
op, one ellipse per leaf, and an edge from every input to the op that consumes it.
A value used twice leaves two edges — the two paths whose gradients the reverse
pass adds,

    ∂L/∂x = Σ over the consumers c of x of  ∂L/∂c · ∂c/∂x.

Each op shows its public name, its output shape and, when it has at most
:data:`SMALL` elements and is known, its value (an op's output is known when the op
or one of its consumers saved it for the backward pass, or when it is the tensor
drawn). Each leaf shows its shape, its value when small and its ``.grad`` when it has
one. Parameters (``cr.nn.Parameter``) are orange, other leaves that require grad
green, constants grey and faint.

>>> import chainrule as cr
>>> x = cr.tensor(3.0, requires_grad=True)
>>> y = x * x + 1
>>> for line in cr.to_dot(y).splitlines():       # the edges: x feeds mul twice
...     if "->" in line:
...         print(line)
  leaf1 -> op1;
  leaf1 -> op1;
  op1 -> op2;
  const1 -> op2 [color="#c8c8c8", style=dashed];
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import numpy as np

from . import backends
from .graph import Node, topological_order
from .tensor import Tensor

__all__ = ["draw", "to_dot"]

SMALL = 6  # values and gradients with at most this many elements are written out
FORMATS = ("svg", "png", "pdf")

STYLE = {
    "op": 'shape=box, style="rounded,filled", fillcolor="#dbe9f6"',
    "root": 'shape=box, style="rounded,filled,bold", fillcolor="#dbe9f6", penwidth=2',
    "parameter": 'shape=ellipse, style=filled, fillcolor="#fbd9a6"',
    "leaf": 'shape=ellipse, style=filled, fillcolor="#d4edc9"',
    "constant": 'shape=plaintext, fontcolor="#9a9a9a", fontsize=9',
}
CONSTANT_EDGE = ' [color="#c8c8c8", style=dashed]'

INSTALL_PACKAGE = (
    "draw: rendering needs the graphviz Python package, which is not installed. "
    'Install it with: pip install "chainrule[viz]" (it also needs the Graphviz "dot" '
    "program: apt-get install graphviz)"
)
INSTALL_DOT = (
    'draw: rendering needs the Graphviz "dot" program, which is not on PATH. Install it '
    "with: apt-get install graphviz (Debian/Ubuntu), brew install graphviz (macOS) or "
    "conda install graphviz. cr.to_dot(y) gives the DOT text without it."
)


def to_dot(y: Tensor, names: Mapping[Tensor, str] | None = None) -> str:
    """Graphviz DOT text of the graph that computed ``y``.

    ``names`` maps tensors to the labels to show; by default leaves are labelled
    with the names the calling code gave them (``x``, ``W``, and ``model.fc.weight``
    for the parameters of a module ``model``). Node ids are ``op1, op2, ...`` in the
    order the ops ran, ``leaf1, ...`` and ``const1, ...`` in the order they are first
    used, so the same graph always gives the same text.

    >>> import chainrule as cr
    >>> w = cr.nn.Parameter([1.0, 2.0])
    >>> cr.to_dot((w * w).sum()).count("->")                # w twice into mul, mul into sum
    3
    """
    labels = _labels(names)
    return _dot(y, labels)


def draw(y: Tensor, path: str | Path, names: Mapping[Tensor, str] | None = None) -> Path:
    """Render :func:`to_dot` of ``y`` to ``path``; the suffix picks the format (.svg, .png, .pdf).

    Needs the ``graphviz`` Python package (``pip install "chainrule[viz]"``), else
    raises ImportError, and the Graphviz ``dot`` program (``apt-get install
    graphviz``), else raises RuntimeError; each message says what to install.
    Returns the path written.
    """
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise ValueError(
            f"draw: cannot tell the format from {path.name!r}; end the path in "
            + ", ".join(f".{f}" for f in FORMATS)
        )
    labels = _labels(names)
    try:
        import graphviz
    except ImportError:
        raise ImportError(INSTALL_PACKAGE) from None
    if shutil.which("dot") is None:
        raise RuntimeError(INSTALL_DOT)
    path.write_bytes(graphviz.Source(_dot(y, labels)).pipe(format=fmt))
    return path


class _DotWriter:
    """Collects node and edge statements, giving each graph element one stable id."""

    def __init__(self, labels: dict, values: dict) -> None:
        self.labels = labels
        self.values = values
        self.ids: dict = {}
        self.counts = {"op": 0, "leaf": 0, "const": 0}
        self.nodes: list[str] = []
        self.edges: list[str] = []

    def new_id(self, kind: str) -> str:
        self.counts[kind] += 1
        return f"{kind}{self.counts[kind]}"

    def declare(self, ident: str, lines: list[str], style: str, tooltip: str | None = None) -> None:
        extra = f", tooltip={_quote(tooltip)}" if tooltip else ""
        label = _quote("\n".join(lines))
        self.nodes.append(f"  {ident} [label={label}, {style}{extra}];")

    def leaf(self, t: Tensor) -> str:
        """The id of leaf ``t``, declaring it on first use."""
        if t not in self.ids:
            self.ids[t] = self.new_id("leaf")
            kind = "parameter" if _is_parameter(t) else "leaf"
            name = self.labels.get(id(t))
            title = kind if name is None else (f"{name} (parameter)" if kind == "parameter" else name)
            lines = [title, f"shape {t.shape}", *_value_lines(t.data)]
            if t.grad is not None:
                lines.append(_grad_line(t.grad))
            self.declare(self.ids[t], lines, STYLE[kind])
        return self.ids[t]

    def op(self, node: Node, root_name: str | None) -> None:
        """Declare ``node`` and an edge from each of its inputs.

        Ops come in creation order, so an input made by an op is already declared.
        """
        ident = self.new_id("op")
        for position, parent in enumerate(node.parents):
            if parent is None:
                source = self.new_id("const")
                self.declare(source, _constant_lines(node, position, self.labels), STYLE["constant"])
                self.edges.append(f"  {source} -> {ident}{CONSTANT_EDGE};")
            else:
                source = self.ids[parent] if type(parent) is Node else self.leaf(parent)
                self.edges.append(f"  {source} -> {ident};")
        self.ids[node] = ident
        title = node.op.name if root_name is None else f"{node.op.name} → {root_name}"
        lines = [title, f"shape {node.shape}"]
        if node in self.values:
            lines += _value_lines(self.values[node])
        tooltip = f"created at {node.site}" if node.site else None
        self.declare(ident, lines, STYLE["op" if root_name is None else "root"], tooltip)


def _dot(y: Tensor, labels: dict) -> str:
    root = y.grad_fn
    ops = [] if root is None else sorted(topological_order([root]), key=lambda n: n.seq)
    writer = _DotWriter(labels, _known_values(ops, y))
    if root is None:
        writer.leaf(y)
    for node in ops:
        writer.op(node, labels.get(id(y), "output") if node is root else None)
    header = [
        "digraph chainrule {",
        "  rankdir=LR;",
        '  node [fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]
    return "\n".join(header + writer.nodes + writer.edges + ["}"]) + "\n"


def _known_values(ops: list[Node], y: Tensor) -> dict:
    """The output value of each op that is known without recomputing anything: saved by
    the op itself, saved as an input by a consumer, or the drawn tensor's own data."""
    values: dict = {}
    for node in ops:
        if not isinstance(node.saved, tuple):  # freed by backward, or a cr.Function's ctx
            continue
        inputs, out = node.saved
        if out is not None:
            values.setdefault(node, out)
        for parent, x in zip(node.parents, inputs):
            if type(parent) is Node and x is not None and np.shape(x) == parent.shape:
                values.setdefault(parent, x)
    if y.grad_fn is not None:
        values[y.grad_fn] = y.data
    return values


def _constant_lines(node: Node, position: int, labels: dict) -> list[str]:
    """A constant input: its value when the op saved it and it is small, else its shape."""
    if isinstance(node.saved, tuple) and node.saved[0][position] is not None:
        saved = node.saved[0][position]
        name = labels.get(id(saved))
        value = _host(saved)
        text = _small_text(value)
        return [
            "constant" if name is None else f"{name} (constant)",
            f"shape {value.shape}" if text is None else text,
        ]
    return ["constant"]


def _host(value) -> np.ndarray:
    """A host copy of a value the graph shows (a Tensor's array, an array, a number)."""
    return backends.host(value._data if isinstance(value, Tensor) else value)


def _small_text(a) -> str | None:
    """``a`` written out (4 significant digits) when it has at most SMALL elements."""
    a = _host(a)
    if a.size > SMALL:
        return None
    if a.ndim == 0:
        return f"{a.item() + 0.0:.4g}" if a.dtype.kind == "f" else str(a.item())  # + 0.0: no -0
    return "[" + ", ".join(cast(str, _small_text(row)) for row in a) + "]"  # rows of a small array are small


def _value_lines(a) -> list[str]:
    text = _small_text(a)
    return [] if text is None else [f"= {text}"]


def _grad_line(g) -> str:
    g = _host(g)
    text = _small_text(g)
    return f"grad = {text}" if text is not None else f"grad ‖·‖ = {np.linalg.norm(g):.4g}"


def _quote(text: str) -> str:
    """``text`` as a DOT double-quoted string: backslashes and quotes escaped, line breaks
    as DOT's centred ``\\n``."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


# Drawing a graph needs only the engine, not chainrule.nn: modules and parameters are
# known by what they are like rather than by their classes.
def _is_parameter(t: Tensor) -> bool:
    """Whether ``t`` is a module parameter: a ``cr.nn.Parameter``, or a subclass of one."""
    return any(cls.__name__ == "Parameter" for cls in type(t).__mro__)


def _named_parameters(value) -> list:
    """The ``(name, tensor)`` pairs of a module (an object with ``named_parameters()``, as
    ``cr.nn.Module``); none for anything else."""
    method = getattr(value, "named_parameters", None)
    if isinstance(value, type) or not callable(method):  # a class has it too, unbound
        return []
    return [(name, p) for name, p in method() if isinstance(p, Tensor)]


def _labels(names: Mapping[Tensor, str] | None) -> dict:
    """id → label: ``names`` over the names that the code calling ``to_dot`` or ``draw``
    gave its tensors, and the parameters of its modules (``model.fc.weight`` for the
    parameter ``fc.weight`` of a module ``model``).

    A tensor that does not require grad reaches the graph only as the array its
    consumer saved, so the id of its data gets the label too.
    """
    frame = sys._getframe(2)
    found: list = []
    for scope in (frame.f_globals, frame.f_locals):
        for name, value in scope.items():
            if isinstance(value, Tensor) and not name.startswith("_"):
                found.append((value, name))
            elif not name.startswith("_"):
                found += [(p, f"{name}.{pname}") for pname, p in _named_parameters(value)]
    found += list((names or {}).items())
    return {key: name for t, name in found for key in (id(t), id(t.data))}
