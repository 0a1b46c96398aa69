"""Pytrees: nested dicts, lists and tuples of tensors, as JAX and TensorFlow take them.

A pytree is a leaf or a container of pytrees. The containers are ``dict`` (and its
subclasses), ``list``, ``tuple`` (namedtuples keep their type) and ``None``, which is a
container with no children (as in JAX: ``tree_flatten([x, None])`` has one leaf).
Everything else is a leaf: a Tensor, an ndarray, a number, a string.

``tree_flatten(tree)`` gives ``(leaves, treedef)``; ``tree_unflatten(treedef, leaves)``
rebuilds the tree. The leaves of a dict come in sorted key order (as in JAX and in
TensorFlow's ``nest``), so two dicts with the same keys flatten alike whatever order
they were written in. Unlike JAX, a rebuilt dict keeps the key order of the dict that was
flattened (JAX returns its keys sorted), so ``cr.grad(loss)({"W": W, "b": b})`` returns
``{"W": dW, "b": db}`` in that order. An ``OrderedDict`` is flattened in its own order,
and keys that cannot be sorted against each other keep insertion order.

>>> leaves, treedef = tree_flatten({"b": [1, 2], "a": (3, None)})
>>> leaves
[3, 1, 2]
>>> treedef
PyTreeDef({'b': [*, *], 'a': (*, None)})
>>> tree_unflatten(treedef, [30, 10, 20])
{'b': [10, 20], 'a': (30, None)}
>>> tree_map(lambda x, y: x + y, [1, (2, 3)], [10, (20, 30)])
[11, (22, 33)]
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["PyTreeDef", "tree_flatten", "tree_leaves", "tree_map", "tree_structure", "tree_unflatten"]

PyTree = Any  # a leaf, or a dict, list, tuple or None holding pytrees


class PyTreeDef:
    """The shape of a pytree without its leaves: what ``tree_unflatten`` fills in.

    ``kind`` is ``"leaf"``, ``"none"``, ``"dict"``, ``"list"`` or ``"tuple"``; ``node_type``
    the container's class (a dict subclass, a namedtuple); ``keys`` a dict's keys in the
    order its leaves are flattened; ``order`` its keys as the dict holds them. Two
    treedefs are equal when they have the same containers, keys and leaves.
    """

    __slots__ = ("children", "keys", "kind", "node_type", "num_leaves", "order", "factory")

    def __init__(
        self,
        kind: str,
        node_type: type | None = None,
        children: tuple[PyTreeDef, ...] = (),
        keys: tuple[Any, ...] = (),
        order: tuple[Any, ...] = (),
        factory: Callable[[], Any] | None = None,
    ) -> None:
        self.kind = kind
        self.node_type = node_type
        self.children = children
        self.keys = keys
        self.order = order
        self.factory = factory  # a defaultdict's default_factory
        self.num_leaves: int = 1 if kind == "leaf" else sum(c.num_leaves for c in children)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PyTreeDef):
            return NotImplemented
        return (
            self.kind == other.kind
            and self.node_type is other.node_type
            and self.keys == other.keys
            and self.children == other.children
        )

    def __hash__(self) -> int:
        return hash((self.kind, self.node_type, self.keys, self.children))

    def __repr__(self) -> str:
        return f"PyTreeDef({self._show()})"

    def _show(self) -> str:
        if self.kind == "leaf":
            return "*"
        if self.kind == "none":
            return "None"
        if self.kind == "dict":
            by_key = dict(zip(self.keys, self.children))
            body = ", ".join(f"{key!r}: {by_key[key]._show()}" for key in self.order)
            name = "" if self.node_type is dict else self.node_type.__name__  # type: ignore[union-attr]
            return f"{name}({{{body}}})" if name else f"{{{body}}}"
        body = ", ".join(c._show() for c in self.children)
        if self.kind == "list":
            return f"[{body}]"
        if self.node_type is not tuple:
            return f"{self.node_type.__name__}({body})"  # type: ignore[union-attr]
        return f"({body},)" if len(self.children) == 1 else f"({body})"

    def flatten_up_to(self, tree: PyTree, what: str = "tree") -> list[Any]:
        """The subtrees of ``tree`` at this treedef's leaves, in flatten order; raises
        ``ValueError`` naming both structures where ``tree`` is nested otherwise
        (``what`` names the tree in that message)."""
        found: list[Any] = []
        self._up_to(tree, found, what)
        return found

    def _up_to(self, tree: PyTree, found: list[Any], what: str) -> None:
        if self.kind == "leaf":
            found.append(tree)
            return
        fits = (
            (self.kind == "none" and tree is None)
            or (self.kind == "dict" and isinstance(tree, dict) and set(tree) == set(self.keys))
            or (
                self.kind in ("list", "tuple")
                and isinstance(tree, list if self.kind == "list" else tuple)
                and len(tree) == len(self.children)
            )
        )
        if not fits:
            raise ValueError(
                f"{what} must have the structure {self!r}, but it is {tree_structure(tree)!r} "
                f"(where {self._show()} was expected it has {_describe(tree)})"
            )
        items = [tree[key] for key in self.keys] if self.kind == "dict" else list(tree or ())
        for child, item in zip(self.children, items):
            child._up_to(item, found, what)

    def unflatten(self, leaves: Iterator[Any]) -> PyTree:
        if self.kind == "leaf":
            return next(leaves)
        if self.kind == "none":
            return None
        if self.kind == "dict":
            by_key = {key: child.unflatten(leaves) for key, child in zip(self.keys, self.children)}
            pairs = [(key, by_key[key]) for key in self.order]
            if self.node_type is defaultdict:
                return defaultdict(self.factory, pairs)
            assert self.node_type is not None, "a dict treedef holds its type"
            return self.node_type(pairs)
        items = [child.unflatten(leaves) for child in self.children]
        if self.kind == "list":
            return items
        if self.node_type is tuple:
            return tuple(items)
        assert self.node_type is not None, "a tuple treedef holds its type"
        if hasattr(self.node_type, "_fields"):  # a namedtuple
            return self.node_type(*items)
        return self.node_type(items)


def _describe(tree: PyTree) -> str:
    if tree is None:
        return "None"
    if isinstance(tree, dict):
        return f"a dict with keys {list(tree)}"
    if isinstance(tree, (list, tuple)):
        return f"a {type(tree).__name__} of {len(tree)}"
    return f"a leaf ({type(tree).__name__})"


def _dict_keys(tree: dict[Any, Any]) -> tuple[Any, ...]:
    """A dict's keys in flatten order: sorted, except an OrderedDict's own order or keys
    that do not sort (mixed types)."""
    if isinstance(tree, OrderedDict):
        return tuple(tree)
    try:
        return tuple(sorted(tree))
    except TypeError:
        return tuple(tree)


def _structure(tree: PyTree, leaves: list[Any]) -> PyTreeDef:
    if tree is None:
        return PyTreeDef("none")
    if isinstance(tree, dict):
        keys = _dict_keys(tree)
        children = tuple(_structure(tree[key], leaves) for key in keys)
        factory = tree.default_factory if isinstance(tree, defaultdict) else None
        return PyTreeDef("dict", type(tree), children, keys, tuple(tree), factory)
    if isinstance(tree, list):
        return PyTreeDef("list", list, tuple(_structure(item, leaves) for item in tree))
    if isinstance(tree, tuple):
        return PyTreeDef("tuple", type(tree), tuple(_structure(item, leaves) for item in tree))
    leaves.append(tree)
    return PyTreeDef("leaf")


def tree_flatten(tree: PyTree) -> tuple[list[Any], PyTreeDef]:
    """``(leaves, treedef)``: the leaves of ``tree`` in order (a dict's in sorted key
    order) and its structure, so that ``tree_unflatten(treedef, leaves)`` rebuilds it.

    >>> tree_flatten([1.0, {"y": 2.0, "x": 3.0}])
    ([1.0, 3.0, 2.0], PyTreeDef([*, {'y': *, 'x': *}]))
    """
    leaves: list[Any] = []
    treedef = _structure(tree, leaves)
    return leaves, treedef


def tree_unflatten(treedef: PyTreeDef, leaves: Any) -> PyTree:
    """The tree of structure ``treedef`` holding ``leaves`` (an iterable, in flatten order).

    >>> tree_unflatten(tree_structure((0, [0, 0])), [1, 2, 3])
    (1, [2, 3])
    """
    if not isinstance(treedef, PyTreeDef):
        raise TypeError(f"tree_unflatten: expected a PyTreeDef, got {type(treedef).__name__}")
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(
            f"tree_unflatten: {treedef!r} has {treedef.num_leaves} leaves, but {len(leaves)} were given"
        )
    return treedef.unflatten(iter(leaves))


def tree_leaves(tree: PyTree) -> list[Any]:
    """The leaves of ``tree`` in flatten order."""
    return tree_flatten(tree)[0]


def tree_structure(tree: PyTree) -> PyTreeDef:
    """The treedef of ``tree``."""
    return tree_flatten(tree)[1]


def tree_map(f: Callable[..., Any], tree: PyTree, *rest: PyTree) -> PyTree:
    """``f`` applied leaf by leaf: ``f(leaf, *corresponding leaves of rest)``, in a tree of
    ``tree``'s structure. Each of ``rest`` must have ``tree``'s structure, or hold a whole
    subtree where ``tree`` has a leaf (that subtree is passed to f as one argument).

    >>> tree_map(lambda x: 2 * x, {"a": 1, "b": [2, None]})
    {'a': 2, 'b': [4, None]}
    """
    leaves, treedef = tree_flatten(tree)
    others = [treedef.flatten_up_to(r, f"tree_map: argument {k + 1}") for k, r in enumerate(rest)]
    return treedef.unflatten(iter([f(*xs) for xs in zip(leaves, *others)]))
