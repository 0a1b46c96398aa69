"""The derivative table on another array namespace: array-api-strict, which refuses anything
beyond the array API standard (NumPy's extras, NumPy arrays among its inputs), with arrays on
its non-default device ``Device("device1")``, which refuses conversion to NumPy (as CuPy's
arrays do).

Every row's forward, bound with ``OpDef.forward_on(array_api_strict)``, gives NumPy's values
on the row's samples; every row's VJP and JVP, run on ``rules_namespace(array_api_strict)``,
give strict arrays with the values of the NumPy rules, for one cotangent or tangent and for
a stack of them. The fallbacks of ``extras.py`` compute NumPy's functions.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from chainrule.graph import Node
from chainrule.ops import OPS, extras, pullback, pushforward
from chainrule.ops.core import _on_namespace
from chainrule.ops.extras import FALLBACKS
from chainrule.ops.xp import NUMPY, rules_namespace

from .optable import cases, inputs_for, primitive_call

xs = pytest.importorskip("array_api_strict")

DEV = xs.Device("device1")
CPU = xs.Device("CPU_DEVICE")
STRICT = rules_namespace(xs)
ROWS = sorted(
    {name for name, _ in cases() if OPS[name].category != "composite" and OPS[name].forward_rule is not None}
)
PRIMITIVES = [(n, i) for n, i in cases() if OPS[n].category != "composite"]
PRIMITIVE_IDS = [f"{name}-{i}" for name, i in PRIMITIVES]


def _on_device(value):
    """A NumPy value (an array, or arrays inside a tuple) as strict arrays on device1."""
    return _on_namespace(xs, value, DEV)


def _host(value):
    """A strict array's values as NumPy, checking that it is a strict array at all."""
    assert isinstance(value, type(xs.asarray(0.0))), f"expected a strict array, got {type(value).__name__}"
    return np.from_dlpack(value.to_device(CPU))


def _calls(name):
    op = OPS[name]
    found = []
    for name_, index in cases():
        if name_ != name:
            continue
        _, sample, arrays = inputs_for(name, index, np.float64)
        try:
            found.append(primitive_call(op, sample, arrays))
        except (ValueError, np.linalg.LinAlgError):
            continue
    return found


@pytest.mark.parametrize("name", ROWS)
def test_every_forward_runs_on_array_api_strict(name):
    op = OPS[name]
    calls = _calls(name)
    assert calls, f"{name}: no sample reached the op"
    for args, params in calls:
        got = op.forward_on(xs)(*[_on_device(a) for a in args], **params)
        assert_allclose(_host(got), op.forward(*args, **params), rtol=1e-12, atol=1e-12, equal_nan=True)


# ------------------------------------------------------------------ the fallbacks of extras.py
SPECIAL = np.array([-5.5, -2.0, -0.0, 0.0, 0.5, 3.0, 7.25, np.inf, -np.inf, np.nan])
ELEMENTWISE = sorted(set(FALLBACKS) - {"einsum", "gradient"})


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_each_elementwise_fallback_computes_numpys_function(name):
    x = np.repeat(SPECIAL, len(SPECIAL))
    y = np.tile(SPECIAL, len(SPECIAL))
    fallback, numpy_fn = FALLBACKS[name], getattr(np, name)
    if name in ("exp2", "rad2deg", "nan_to_num"):
        got, want = fallback(xs, _on_device(SPECIAL)), numpy_fn(SPECIAL)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            got, want = fallback(xs, _on_device(x), _on_device(y)), numpy_fn(x, y)
    if name == "logaddexp2":  # a composition of logaddexp: equal to rounding
        assert_allclose(_host(got), want, rtol=1e-15, atol=0)
    else:
        assert_array_equal(_host(got), want)  # the same values, NaN where NumPy has NaN
        numbers = ~np.isnan(want)
        assert_array_equal(np.signbit(_host(got)[numbers]), np.signbit(want[numbers]))


EINSUMS = [
    ("ij,jk->ik", [(2, 3), (3, 4)]),
    ("ij,jk", [(2, 3), (3, 4)]),
    ("ii->", [(3, 3)]),
    ("ii", [(3, 3)]),
    ("ii->i", [(3, 3)]),
    ("iji->j", [(2, 4, 2)]),
    ("ij->ji", [(2, 3)]),
    ("ij,j,j->i", [(2, 3), (3,), (3,)]),
    ("...ij,...jk->...ik", [(5, 2, 3), (1, 3, 4)]),
    ("i...j,j...->i...", [(2, 4, 3), (3, 4)]),
    ("jk...,lj...->lk...", [(3, 4, 2), (5, 3, 2)]),
    ("ij...,jk...->ik...", [(2, 3, 1), (3, 4, 5)]),
    ("ba...", [(2, 4, 3)]),
    ("i,j", [(3,), (4,)]),
    (",i->i", [(), (3,)]),
    ("bij,bjk,bkl->bil", [(2, 2, 3), (2, 3, 4), (2, 4, 2)]),
    ("ab,ab->", [(2, 3), (2, 3)]),
    ("aab,bc->ac", [(2, 2, 3), (3, 4)]),
]


@pytest.mark.parametrize(("spec", "shapes"), EINSUMS, ids=[spec for spec, _ in EINSUMS])
def test_einsum_fallback_computes_numpys_einsum(spec, shapes):
    rng = np.random.default_rng(0)
    operands = [rng.standard_normal(shape) for shape in shapes]
    got = extras.einsum(xs, spec, *[_on_device(a) for a in operands], optimize=True)
    assert_allclose(_host(got), np.einsum(spec, *operands), rtol=1e-12, atol=1e-12)


GRADIENTS = [
    ((5,), (), {}),
    ((5,), (0.5,), {"edge_order": 2}),
    ((3, 4), (), {}),
    ((3, 4), (2.0,), {"axis": 0}),
    ((4, 3), (np.array([0.0, 0.5, 2.0]),), {"axis": -1}),
    ((3, 2, 5), (2.0, np.array([0.0, 1.0, 1.5, 3.0, 3.25])), {"axis": (0, 2), "edge_order": 2}),
    ((2, 3), (np.array([1.0, 1.5]), np.array([0.0, 2.0, 2.5])), {}),
]


@pytest.mark.parametrize(("shape", "spacings", "params"), GRADIENTS)
def test_gradient_fallback_computes_numpys_gradient(shape, spacings, params):
    f = np.random.default_rng(1).standard_normal(shape)
    got = extras.gradient(xs, _on_device(f), *[_on_device(h) for h in spacings], **params)
    want = np.gradient(f, *spacings, **params)
    for g, w in zip(got, want) if isinstance(want, tuple) else [(got, want)]:
        assert_allclose(_host(g), w, rtol=1e-12, atol=1e-12)


INDICES = [  # (the indexed array's shape, the index)
    ((4, 3), 1),
    ((4, 3), (slice(1, 3), -1)),
    ((4, 3), (None, slice(None, None, -2))),
    ((4, 3), np.array([0, 2, 0])),
    ((4, 3), (Ellipsis, None, np.array([[1, 1], [0, 2]]))),
    ((2, 3, 4), (np.array([0, 1, 1]), slice(None), np.array([3, 0, -1]))),
    ((2, 3, 4), (slice(None), np.array([[0], [2]]), np.array([1, 3]))),
    ((2, 3, 4), (np.array([1, 0]), 2)),
    ((2, 3, 4), (0, slice(None), np.array([2, 2]))),
    ((3, 4), np.array([[True, False, True, False], [False, False, True, True], [True] * 4])),
]


@pytest.mark.parametrize(("shape", "index"), INDICES, ids=[str(i) for i in range(len(INDICES))])
def test_indexing_fallbacks_compute_numpys_indexing_and_add_at(shape, index):
    x = np.random.default_rng(2).standard_normal(shape)
    assert_array_equal(_host(extras.indexed(xs, _on_device(x), _on_device(index))), x[index])
    values = np.random.default_rng(3).standard_normal(x[index].shape)
    want = np.zeros_like(x)
    np.add.at(want, index, values)
    z = xs.zeros(shape, dtype=xs.float64, device=DEV)
    assert_allclose(
        _host(extras.add_at(xs, z, _on_device(index), _on_device(values))), want, rtol=1e-15, atol=0
    )


# ------------------------------------------------------------------ rules on array-api-strict
def _both_nodes(name, index):
    """The op's node on NumPy and on strict device1 (float64 inputs, canonical params), each
    with its arguments, output and params."""
    op, sample, arrays = inputs_for(name, index, np.float64)
    args, params = primitive_call(op, sample, arrays)
    out = np.asarray(op.forward(*args, **params))
    s_args = [_on_device(a) for a in args]
    s_params = {k: _on_device(v) for k, v in params.items()}
    s_out = op.forward_on(xs)(*s_args, **params)
    need = [a.dtype.kind == "f" for a in args]
    node = Node(
        op,
        params,
        tuple(a if n else None for a, n in zip(args, need)),
        (tuple(args), out),
        out.shape,
        out.dtype,
    )
    s_parents = tuple(a if n else None for a, n in zip(s_args, need))
    s_node = Node(op, s_params, s_parents, (tuple(s_args), s_out), s_out.shape, s_out.dtype)
    return op, (node, args, out, params), (s_node, s_args, s_out, s_params)


def _close(got, want):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        assert (a is None) == (b is None)
        if b is not None:
            assert_allclose(_host(a), b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("batch", [(), (4,)], ids=["one", "stacked"])
@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_vjp_runs_on_array_api_strict(name, index, batch):
    _, (node, _, out, _), (s_node, _, _, _) = _both_nodes(name, index)
    g = np.random.default_rng(3).standard_normal(batch + out.shape)
    want = pullback(node, g, NUMPY, batch_ndim=len(batch))
    _close(pullback(s_node, _on_device(g), STRICT, batch_ndim=len(batch)), want)


@pytest.mark.parametrize("batch", [(), (4,)], ids=["one", "stacked"])
@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_jvp_runs_on_array_api_strict(name, index, batch):
    op, (_, args, out, params), (_, s_args, s_out, s_params) = _both_nodes(name, index)
    rng = np.random.default_rng(4)
    ts = [rng.standard_normal(batch + a.shape) if a.dtype.kind == "f" else None for a in args]
    want = pushforward(op, ts, args, out, params, NUMPY)
    s_ts = [None if t is None else _on_device(t) for t in ts]
    _close([pushforward(op, s_ts, s_args, s_out, s_params, STRICT)], [want])


@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_vjp_and_jvp_are_adjoint_on_array_api_strict(name, index):
    """⟨u, J v⟩ = ⟨Jᵀ u, v⟩ with both products computed on device1 alone."""
    op, _, (s_node, s_args, s_out, s_params) = _both_nodes(name, index)
    rng = np.random.default_rng(2)
    u = _on_device(rng.standard_normal(s_out.shape))
    vs = [
        _on_device(rng.standard_normal(a.shape)) if xs.isdtype(a.dtype, "real floating") else None
        for a in s_args
    ]
    jv = pushforward(op, vs, s_args, s_out, s_params, STRICT)
    jtu = pullback(s_node, u, STRICT)
    lhs = float(_host(xs.sum(u * jv)))
    rhs = sum(float(_host(xs.sum(g * v))) for g, v in zip(jtu, vs) if v is not None and g is not None)
    assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)
