"""cr.to_dot and cr.draw: the graph as valid DOT text, and rendered when Graphviz is there."""

from __future__ import annotations

import doctest
import json
import re
import shutil
import sys
import types
from collections import Counter

import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import viz
from chainrule.graph import topological_order

# ------------------------------------------------------------------ a small DOT parser
TOKEN = re.compile(r'\s*(?:("(?:\\.|[^"\\])*")|(->|[{}\[\];,=])|([A-Za-z_][A-Za-z0-9_]*|-?[0-9.]+))')
ESCAPE = re.compile(r"\\(.)")


def tokens(text: str) -> list[str]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = TOKEN.match(text, pos)
        assert m, f"cannot tokenize DOT at {text[pos : pos + 40]!r}"
        out.append(m.group(0).strip())
        pos = m.end()
    return out


def unquote(token: str) -> str:
    if not token.startswith('"'):
        return token
    return ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), token[1:-1])


def parse_dot(text: str) -> tuple[dict, list]:
    """(node id → attributes, [(tail, head, attributes)]) of a flat ``digraph``.

    Fails on unbalanced braces, a statement it does not know, an edge between
    undeclared nodes or a node declared twice.
    """
    toks = tokens(text)
    assert toks[:3] == ["digraph", "chainrule", "{"] and toks[-1] == "}"
    assert toks.count("{") == toks.count("}") == 1
    body, nodes, edges, i = toks[3:-1], {}, [], 0

    def attrs(i: int) -> tuple[dict, int]:
        found: dict = {}
        if i < len(body) and body[i] == "[":
            i += 1
            while body[i] != "]":
                key, eq, value = body[i : i + 3]
                assert eq == "=", f"bad attribute near {body[i : i + 3]}"
                found[key] = unquote(value)
                i += 3
                if body[i] == ",":
                    i += 1
            i += 1
        return found, i

    while i < len(body):
        head = body[i]
        if body[i + 1] == "=":  # graph attribute, e.g. rankdir=LR
            i += 3
        elif head in ("node", "edge", "graph"):
            _, i = attrs(i + 1)
        elif body[i + 1] == "->":
            a, end = attrs(i + 3)
            edges.append((head, body[i + 2], a))
            i = end
        else:
            assert head not in nodes, f"node {head} declared twice"
            nodes[head], i = attrs(i + 1)
        assert body[i] == ";", f"statement not ended by ';' near {body[i - 3 : i + 2]}"
        i += 1
    for tail, target, _ in edges:
        assert tail in nodes and target in nodes, f"edge {tail} -> {target} to an undeclared node"
    return nodes, edges


def kind(node_id: str) -> str:
    return node_id.rstrip("0123456789")


def lines(attrs: dict) -> list[str]:
    return attrs["label"].split("\n")


# ------------------------------------------------------------------ the graphs drawn
def branch_and_max():
    """The notes' f = (x + y)·max(y, z) at (1, 2, 0): y feeds two ops."""
    x, y, z = (cr.tensor(v, dtype="float64", requires_grad=True) for v in (1.0, 2.0, 0.0))
    return (x + y) * cr.maximum(y, z), {x: "x", y: "y", z: "z"}


def two_layer_mlp():
    """Cross-entropy of a 2-layer MLP on a batch of 5: parameters, a constant input."""
    rng = np.random.default_rng(0)
    W1, b1 = cr.nn.Parameter(rng.normal(size=(4, 3))), cr.nn.Parameter(np.zeros(4))
    W2, b2 = cr.nn.Parameter(rng.normal(size=(2, 4))), cr.nn.Parameter(np.zeros(2))
    x = cr.tensor(rng.normal(size=(5, 3)))
    h = cr.relu(F.linear(x, W1, b1))
    loss = F.cross_entropy(F.linear(h, W2, b2), np.array([0, 1, 1, 0, 1]))
    return loss, {W1: "W1", b1: "b1", W2: "W2", b2: "b2", x: "x"}


def op_names(y: cr.Tensor) -> Counter:
    return Counter(node.op.name for node in topological_order([y.grad_fn]))


# ------------------------------------------------------------------ structure
def test_every_op_and_leaf_is_one_node_and_every_edge_joins_declared_nodes():
    f, leaves = branch_and_max()
    nodes, edges = parse_dot(cr.to_dot(f, names=leaves))
    ops = {n: a for n, a in nodes.items() if kind(n) == "op"}
    assert Counter(lines(a)[0].split(" → ")[0] for a in ops.values()) == op_names(f)
    assert sum(kind(n) == "leaf" for n in nodes) == len(leaves)
    assert len(nodes) == len(ops) + len(leaves)  # no constants here
    # x → add, y → add, y → maximum, z → maximum, add → mul, maximum → mul
    assert len(edges) == 6
    assert Counter(kind(t) + "→" + kind(h) for t, h, _ in edges) == {"leaf→op": 4, "op→op": 2}


def test_the_mlp_graph_holds_every_op_its_parameters_and_its_constants():
    loss, names = two_layer_mlp()
    nodes, edges = parse_dot(cr.to_dot(loss, names=names))
    ops = [a for n, a in nodes.items() if kind(n) == "op"]
    assert Counter(lines(a)[0].split(" → ")[0] for a in ops) == op_names(loss)
    assert {"affine", "relu", "log_softmax", "nll"} <= set(op_names(loss))
    leaves = [a for n, a in nodes.items() if kind(n) == "leaf"]
    assert sorted(lines(a)[0] for a in leaves) == [
        "W1 (parameter)",
        "W2 (parameter)",
        "b1 (parameter)",
        "b2 (parameter)",
    ]
    constants = [a for n, a in nodes.items() if kind(n) == "const"]
    assert "x (constant)" in [lines(a)[0] for a in constants]
    assert all(a["fontcolor"] == "#9a9a9a" for a in constants)  # faint
    assert all(a["style"] == "dashed" for t, _, a in edges if kind(t) == "const")
    assert len(edges) == sum(len(node.parents) for node in topological_order([loss.grad_fn]))


def test_parameters_plain_leaves_and_ops_are_styled_apart():
    w = cr.nn.Parameter([1.0, 2.0])
    x = cr.tensor([3.0, 4.0], requires_grad=True)
    nodes, _ = parse_dot(cr.to_dot(cr.dot(w, x)))
    styles = {lines(a)[0]: (a["shape"], a["fillcolor"]) for a in nodes.values()}
    assert len(set(styles.values())) == 3
    assert styles["w (parameter)"][0] == styles["x"][0] == "ellipse"
    assert styles["matmul → output"][0] == "box"  # dot is matmul's 1-D case


def test_ids_are_stable_and_valid_dot_identifiers():
    f, _ = branch_and_max()
    text = cr.to_dot(f)
    assert text == cr.to_dot(f)
    nodes, _ = parse_dot(text)
    assert sorted(nodes) == ["leaf1", "leaf2", "leaf3", "op1", "op2", "op3"]


def test_ops_show_their_shape_and_their_value_when_known():
    f, names = branch_and_max()
    by_title = {lines(a)[0]: lines(a)[1:] for a in parse_dot(cr.to_dot(f, names=names))[0].values()}
    assert by_title["add"] == ["shape ()", "= 3"]  # saved by mul as its input
    assert by_title["maximum"] == ["shape ()", "= 2"]  # saved by maximum itself
    assert by_title["mul → f"] == ["shape ()", "= 6"]  # the tensor drawn
    assert by_title["y"] == ["shape ()", "= 2"]


def test_values_that_were_not_kept_are_not_shown():
    x = cr.tensor(3.0, requires_grad=True)
    y = cr.sin(x) + 1  # add keeps no values; sin keeps its input x only
    by_title = {lines(a)[0]: lines(a)[1:] for a in parse_dot(cr.to_dot(y))[0].values()}
    assert by_title["sin"] == ["shape ()"]
    assert by_title["add → y"] == ["shape ()", f"= {np.sin(3.0) + 1:.4g}"]


def test_large_values_are_left_out_and_large_gradients_summarized_by_their_norm():
    W = cr.nn.Parameter(np.ones((3, 4)))
    loss = (W * 2.0).sum()
    loss.backward()
    label = lines(parse_dot(cr.to_dot(loss))[0]["leaf1"])
    assert label == ["W (parameter)", "shape (3, 4)", "grad ‖·‖ = 6.928"]  # √(12 · 2²)


def test_gradients_appear_after_backward():
    f, names = branch_and_max()
    before = parse_dot(cr.to_dot(f, names=names))[0]
    assert not any("grad" in a["label"] for a in before.values())
    f.backward()
    after = parse_dot(cr.to_dot(f, names=names))[0]
    grads = {lines(a)[0]: lines(a)[-1] for n, a in after.items() if kind(n) == "leaf"}
    assert grads == {"x": "grad = 2", "y": "grad = 5", "z": "grad = 0"}
    # backward freed the saved values, so only the drawn tensor's value is still known
    ops = {lines(a)[0]: lines(a)[1:] for n, a in after.items() if kind(n) == "op"}
    assert ops == {"add": ["shape ()"], "maximum": ["shape ()"], "mul → f": ["shape ()", "= 6"]}


def test_a_value_used_twice_by_one_op_gives_two_edges():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    _, edges = parse_dot(cr.to_dot(x * x))
    assert [(t, h) for t, h, _ in edges] == [("leaf1", "op1"), ("leaf1", "op1")]


def test_labels_are_escaped():
    x = cr.tensor(1.0, requires_grad=True)
    name = 'a "quoted" \\ name\n-> { } ;'
    nodes, edges = parse_dot(cr.to_dot(x * 2, names={x: name}))
    assert lines(nodes["leaf1"])[:2] == ['a "quoted" \\ name', "-> { } ;"]
    assert len(edges) == 2


def test_a_leaf_alone_is_one_node():
    x = cr.tensor([[1.0, 2.0]], requires_grad=True)
    x.grad = np.array([[0.5, -1.0]])
    nodes, edges = parse_dot(cr.to_dot(x))
    assert edges == [] and list(nodes) == ["leaf1"]
    assert lines(nodes["leaf1"]) == ["x", "shape (1, 2)", "= [[1, 2]]", "grad = [[0.5, -1]]"]


def test_module_parameters_are_named_by_their_path_in_the_module():
    model = cr.nn.Sequential(cr.nn.Linear(3, 2), cr.nn.Tanh())
    out = model(cr.ones((1, 3))).sum()
    titles = [lines(a)[0] for n, a in parse_dot(cr.to_dot(out))[0].items() if kind(n) == "leaf"]
    assert sorted(titles) == ["model.0.bias (parameter)", "model.0.weight (parameter)"]


def test_a_custom_function_is_drawn_with_its_class_name():
    class Twice(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return g * 2

    x = cr.tensor([1.0, 2.0], requires_grad=True)
    nodes, edges = parse_dot(cr.to_dot(Twice.apply(x).sum()))
    assert [lines(a)[0] for n, a in nodes.items() if kind(n) == "op"] == ["Twice", "sum → output"]
    assert len(edges) == 2


def test_module_examples_run():
    assert doctest.testmod(viz).failed == 0


# ------------------------------------------------------------------ Graphviz itself
def test_graphviz_reads_the_dot_text():
    graphviz = pytest.importorskip("graphviz")
    loss, names = two_layer_mlp()
    text = cr.to_dot(loss, names=names)
    source = graphviz.Source(text)
    if shutil.which("dot") is None:
        pytest.skip("the Graphviz dot program is not installed")
    layout = json.loads(source.pipe(format="json"))
    nodes, edges = parse_dot(text)
    assert sorted(o["name"] for o in layout["objects"]) == sorted(nodes)
    assert len(layout["edges"]) == len(edges)


def test_draw_without_the_graphviz_package_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", None)  # makes `import graphviz` fail
    f, _ = branch_and_max()
    with pytest.raises(ImportError, match=re.escape('pip install "chainrule[viz]"')):
        cr.draw(f, tmp_path / "f.svg")
    assert not (tmp_path / "f.svg").exists()


def test_draw_without_the_dot_program_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "graphviz", types.ModuleType("graphviz"))
    monkeypatch.setattr(shutil, "which", lambda *args, **kwargs: None)
    f, _ = branch_and_max()
    with pytest.raises(RuntimeError, match="apt-get install graphviz"):
        cr.draw(f, tmp_path / "f.svg")
    assert not (tmp_path / "f.svg").exists()


def test_draw_needs_a_known_suffix(tmp_path):
    f, _ = branch_and_max()
    with pytest.raises(ValueError, match=r"\.svg"):
        cr.draw(f, tmp_path / "f.txt")


@pytest.mark.skipif(shutil.which("dot") is None, reason="the Graphviz dot program is not installed")
@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<svg"), (".png", b"\x89PNG")])
def test_draw_writes_the_picture(tmp_path, suffix, magic):
    pytest.importorskip("graphviz")
    loss, _ = two_layer_mlp()
    path = cr.draw(loss, tmp_path / f"mlp{suffix}")
    assert path == tmp_path / f"mlp{suffix}"
    assert magic in path.read_bytes()[:400]
