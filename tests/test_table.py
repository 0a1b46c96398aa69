"""The derivative table is complete, and its rules stay backend-neutral."""

from __future__ import annotations

import ast
import contextlib
import inspect
import re
import types
from pathlib import Path

import numpy as np
import pytest

import chainrule as cr
import chainrule.functions as F
from chainrule import ops
from chainrule.ops import OPS
from chainrule.ops.xp import EXTRAS, FORWARD_EXTRAS, NAMES, NUMPY, NUMPY_ONLY, STANDARD

from .optable import public_function, samples_of, tensor_module

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
    """Every function or lambda in an ops module that takes an ``xp`` argument: the rules.

    Forwards and their helpers take the namespace first, ``f(xp, ...)``; they are checked
    against the forward lists below instead."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.Lambda)):
            args = [a.arg for a in node.args.args + node.args.kwonlyargs]
            if "xp" in args and args[0] != "xp":
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


# ------------------------------------------------------------------ forwards on the array namespace
FORWARD_NAMES = set(STANDARD) | set(FORWARD_EXTRAS)
TABLE_ROWS = sorted(name for name, op in OPS.items() if op.category != "composite")


def _chains(definition):
    """Each attribute chain on a plain name, whole (``xp.linalg.inv``, not ``xp.linalg``),
    as (the name's node, the name, the dotted path after it)."""
    inner = {node.value for node in ast.walk(definition) if isinstance(node, ast.Attribute)}
    for node in ast.walk(definition):
        if isinstance(node, ast.Attribute) and node not in inner:
            parts = []
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name):
                yield node, node.id, ".".join(reversed(parts))


def _definitions(fn):
    """The AST of a function or lambda, found in its module's source by its first line and
    its parameters (where several lambdas on that line match, all of them)."""
    code = fn.__code__
    tree = ast.parse(inspect.getsource(inspect.getmodule(fn)))
    params = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.Lambda))
        and node.lineno == code.co_firstlineno
        and [a.arg for a in node.args.args + node.args.kwonlyargs] == params
        and (isinstance(node, ast.Lambda) or node.name == code.co_name)
    ]
    assert found, f"no source found for {fn.__qualname__}"
    return found


def _forward_problems(fn, seen):
    """What a forward, or an ops helper it calls, uses beyond the declared names."""
    if fn.__code__ in seen:
        return []
    seen.add(fn.__code__)
    where = f"{fn.__module__}:{fn.__code__.co_firstlineno} {fn.__qualname__}"
    cells = (c.cell_contents for c in fn.__closure__ or ())
    scope = {**fn.__globals__, **dict(zip(fn.__code__.co_freevars, cells))}
    problems = []
    for definition in _definitions(fn):
        bases = set()
        for base_node, base, path in _chains(definition):
            bases.add(base_node)
            if base == "xp" and path not in FORWARD_NAMES:
                problems.append(f"{where}: xp.{path} is neither a standard name nor a declared extra")
            if base in ("np", "numpy") and path not in NUMPY_ONLY:
                problems.append(f"{where}: {base}.{path} is not a declared NumPy-only fast path")
        for node in ast.walk(definition):
            if isinstance(node, ast.Name) and node.id in ("np", "numpy") and node not in bases:
                problems.append(f"{where}: uses the name {node.id}")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                callee = scope.get(node.func.id)
                module = getattr(callee, "__module__", "") or ""
                if not inspect.isfunction(callee) or not module.startswith("chainrule.ops"):
                    continue
                if module == "chainrule.ops.xp":
                    if callee.__name__ not in NUMPY_ONLY:
                        problems.append(f"{where}: calls xp.py's {callee.__name__}, which NUMPY_ONLY lacks")
                else:
                    problems += _forward_problems(callee, seen)
    return problems


@pytest.mark.parametrize("name", TABLE_ROWS)
def test_forward_is_written_against_the_array_namespace(name):
    rule = OPS[name].forward_rule
    if isinstance(rule, str):
        assert rule in FORWARD_NAMES, f"{name}: forward {rule!r} is neither standard nor a declared extra"
        return
    params = list(inspect.signature(rule).parameters)
    assert params and params[0] == "xp", f"{name}: a forward takes the namespace first, got {params}"
    assert _forward_problems(rule, set()) == []


def test_declared_names_are_numpy_functions():
    for path in FORWARD_NAMES:
        target = np
        for part in path.split("."):
            target = getattr(target, part)
        assert callable(target), path
    assert not set(STANDARD) & set(FORWARD_EXTRAS)
    assert all(isinstance(why, str) and why for why in {**FORWARD_EXTRAS, **NUMPY_ONLY}.values())


def test_forward_is_bound_to_numpy_once():
    assert OPS["exp"].forward is np.exp and OPS["add"].forward is np.add
    assert OPS["det"].forward is np.linalg.det and OPS["arcsin"].forward is np.asin
    assert OPS["exp"].forward_rule == "exp" and OPS["exp"].forward_on(np) is np.exp
    assert OPS["sigmoid"].forward.func is OPS["sigmoid"].forward_rule


def _declared_namespace():
    """NumPy seen through the declared names only: a forward that calls anything else fails."""
    top = {path: getattr(np, path) for path in FORWARD_NAMES if "." not in path}
    linalg = {path[7:]: getattr(np.linalg, path[7:]) for path in FORWARD_NAMES if path.startswith("linalg.")}
    top["linalg"] = types.SimpleNamespace(**linalg, LinAlgError=np.linalg.LinAlgError)
    dtype_names = ("bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
    top.update({name: getattr(np, name) for name in (*dtype_names, "float32", "float64")})  # the standard's
    return types.SimpleNamespace(**top)


def _recorded_calls(op, monkeypatch):
    """(arrays, params) of every call of ``op`` while its samples run through the public function."""
    calls = []
    record = tensor_module.record

    def spy(called, args, arrays, params):
        if called is op:
            calls.append((list(arrays), dict(params)))
        return record(called, args, arrays, params)

    monkeypatch.setattr(tensor_module, "record", spy)
    rng = np.random.default_rng(0)
    for sample in samples_of(op):
        arrays = [np.asarray(rng.uniform(*op.domain, size=s)) for s in sample.shapes]
        with contextlib.suppress(ValueError, np.linalg.LinAlgError):
            sample.run(public_function(op), *arrays)
    return calls


@pytest.mark.parametrize("name", TABLE_ROWS)
def test_forward_on_another_namespace_gives_the_numpy_result(name, monkeypatch):
    op = OPS[name]
    calls = _recorded_calls(op, monkeypatch)
    assert calls, f"{name}: no sample reached the op"
    declared = _declared_namespace()
    for arrays, params in calls:
        want = op.forward(*arrays, **params)
        for xp in (np, declared):
            got = op.forward_on(xp)(*arrays, **params)
            assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == np.asarray(want).dtype
            np.testing.assert_array_equal(got, want)
