"""The derivative table is complete, and its rules stay backend-neutral."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

import chainrule as cr
import chainrule.functions as F
from chainrule import ops
from chainrule.ops import OPS
from chainrule.ops.xp import EXTRAS, NAMES, NUMPY

API = Path(__file__).resolve().parents[1].parent / "shared" / "API.md"
# The "Operations" section of the contract, for when shared/API.md is not beside the repo.
CONTRACT_OPS = [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "matmul",
    "dot",
    "outer",
    "tensordot",
    "einsum",
    "exp",
    "log",
    "log2",
    "log10",
    "sqrt",
    "abs",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "sigmoid",
    "relu",
    "softplus",
    "maximum",
    "minimum",
    "where",
    "clip",
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "logsumexp",
    "var",
    "std",
    "reshape",
    "transpose",
    "swapaxes",
    "flatten",
    "squeeze",
    "expand_dims",
    "broadcast_to",
    "concatenate",
    "stack",
    "split",
]


def contract_ops() -> list[str]:
    """Op names listed in backticks in the contract's Operations section."""
    if not API.exists():
        return CONTRACT_OPS
    text = API.read_text()
    section = text.split("## Operations", 1)[1].split("\n## ", 1)[0]
    names = []
    for chunk in re.findall(r"`([^`]+)`", section):
        for word in chunk.replace("cr.", "").split():
            if re.fullmatch(r"[a-z_][a-z0-9_]*", word):
                names.append(word)
    return sorted(set(names) & (set(CONTRACT_OPS) | set(OPS)) | set(CONTRACT_OPS))


@pytest.mark.parametrize("name", contract_ops())
def test_every_contract_op_has_a_table_entry_and_a_public_function(name):
    assert name in OPS, f"{name} is named in API.md but has no entry in the derivative table"
    assert callable(getattr(cr, name)), f"cr.{name} is missing"


def test_getitem_is_in_the_table():
    assert "getitem" in OPS and OPS["getitem"].category == "linear"


def _rule_functions(tree):
    """Every function or lambda in an ops module that takes an ``xp`` argument: the rules."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            if "xp" in args:
                yield node


@pytest.mark.parametrize(
    "module",
    [m for m in Path(ops.__file__).parent.glob("*.py") if m.name not in ("__init__.py", "xp.py")],
    ids=lambda p: p.name,
)
def test_rules_call_only_the_array_namespace(module):
    tree = ast.parse(module.read_text())
    allowed = set(NAMES) | set(EXTRAS)
    for rule in _rule_functions(tree):
        for node in ast.walk(rule):
            where = f"{module.name}:{node.lineno}" if hasattr(node, "lineno") else module.name
            if isinstance(node, ast.Name):
                assert node.id != "np", f"{where}: a rule uses np. instead of xp."
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "xp":
                assert node.attr in allowed, f"{where}: xp.{node.attr} is not a declared namespace name"


def test_both_namespaces_offer_every_name():
    for name in NAMES + EXTRAS:
        assert hasattr(NUMPY, name), name
        assert hasattr(F.RECORDING, name), name


def test_categories_are_the_documented_ones():
    allowed = {"unary", "binary", "linear", "multilinear", "general", "composite"}
    assert {op.category for op in OPS.values()} <= allowed
    for op in OPS.values():
        if op.category == "composite":
            assert op.fn is not None and op.vjp is None
        else:
            assert op.vjp is not None and op.jvp is not None and op.forward is not None


def test_nodes_save_only_what_the_rule_reads():
    assert (OPS["relu"].saves_inputs, OPS["relu"].saves_out) == (False, True)
    assert (OPS["exp"].saves_inputs, OPS["exp"].saves_out) == (False, True)
    assert (OPS["sin"].saves_inputs, OPS["sin"].saves_out) == (True, False)
    assert (OPS["add"].saves_inputs, OPS["add"].saves_out) == (False, False)
    assert not OPS["sum"].saves_inputs and not OPS["reshape"].saves_inputs


def test_rules_have_no_module_level_array_state():
    for module in (ops.core, ops.elementwise, ops.arithmetic, ops.reduction, ops.shape, ops.linalg):
        for name, value in vars(module).items():
            assert type(value).__name__ != "ndarray", f"{module.__name__}.{name} is array state"
    assert inspect.ismodule(ops.core)
