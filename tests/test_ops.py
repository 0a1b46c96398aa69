"""Tests generated from the derivative table: every op, every sample, both dtypes.

For each op the same properties are checked: its forward against the NumPy
reference, its reverse rule by gradcheck, its forward rule against central
differences, the two rules against each other (⟨u, J·v⟩ = ⟨Jᵀ·u, v⟩), second
derivatives through ``create_graph``, the fast and recorded paths against each
other, and stacked cotangents/tangents against separate ones. Adding an op to the
table adds its tests.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import Node
from chainrule.ops import OPS, pullback, pushforward
from chainrule.ops.xp import NUMPY

from .optable import DTYPES, TOLERANCE, cases, flat_output, inputs_for, primitive_call, public_function

CASES = cases()
IDS = [f"{name}-{i}" for name, i in CASES]
PRIMITIVES = [(n, i) for n, i in CASES if OPS[n].category != "composite"]
PRIMITIVE_IDS = [f"{name}-{i}" for name, i in PRIMITIVES]


def _differentiable(arrays):
    return [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]


def _scalar_function(op, sample, weights):
    """x ↦ Σ out ⊙ w: a scalar whose gradient is the VJP with cotangent w."""

    def f(*xs):
        return cr.sum(flat_output(sample.run(public_function(op), *xs)) * weights)

    return f


def _weights(op, sample, arrays, rng):
    out = flat_output(sample.run(public_function(op), *arrays))
    return rng.standard_normal(out.shape)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f64", "f32"])
@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_forward_matches_numpy_reference(name, index, dtype):
    op, sample, arrays = inputs_for(name, index, dtype)
    out = sample.run(public_function(op), *[cr.tensor(a) for a in arrays])
    expected = sample.run(op.reference, *arrays)
    outs, refs = (out, expected) if isinstance(out, list) else ([out], [expected])
    assert len(outs) == len(refs)
    for o, e in zip(outs, refs):
        assert isinstance(o, cr.Tensor)
        e = np.asarray(e)
        assert o.shape == e.shape
        assert o.dtype == e.dtype, f"{name}: dtype {o.dtype}, NumPy gives {e.dtype}"
        np.testing.assert_allclose(o.data, e, **TOLERANCE[np.dtype(dtype)])


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_reverse_rule_passes_gradcheck(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    xs = [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    assert cr.gradcheck(lambda *xs: flat_output(sample.run(public_function(op), *xs)), xs)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_gradient_keeps_shape_and_float32(name, index):
    op, sample, arrays = inputs_for(name, index, np.float32)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    cr.sum(flat_output(sample.run(public_function(op), *xs))).backward()
    for x in xs:
        assert x.grad is not None and x.grad.shape == x.shape and x.grad.dtype == np.float32


def _node_for(op, arrays, params):
    """A node for ``op`` at ``arrays`` as the engine would record it."""
    out = np.asarray(op.forward(*arrays, **params))
    parents = tuple(cr.tensor(a, requires_grad=True) if a.dtype.kind == "f" else None for a in arrays)
    return Node(op, params, parents, (tuple(arrays), out), out.shape, out.dtype), out


def _tangents(arrays, rng, batch=()):
    return [rng.standard_normal(batch + a.shape) if a.dtype.kind == "f" else None for a in arrays]


@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_forward_rule_matches_central_differences(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    args, params = primitive_call(op, sample, arrays)
    rng = np.random.default_rng(1)
    ts = _tangents(args, rng)
    out = np.asarray(op.forward(*args, **params))
    jv = pushforward(op, ts, args, out, params, NUMPY)
    h = 1e-6
    up = [a + h * t if t is not None else a for a, t in zip(args, ts)]
    down = [a - h * t if t is not None else a for a, t in zip(args, ts)]
    numeric = (np.asarray(op.forward(*up, **params)) - np.asarray(op.forward(*down, **params))) / (2 * h)
    assert jv.shape == out.shape
    np.testing.assert_allclose(jv, numeric, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_reverse_and_forward_rules_agree(name, index):
    """⟨u, J v⟩ = ⟨Jᵀ u, v⟩ for random u and v: the VJP is the transpose of the JVP."""
    op, sample, arrays = inputs_for(name, index, np.float64)
    args, params = primitive_call(op, sample, arrays)
    rng = np.random.default_rng(2)
    node, out = _node_for(op, args, params)
    u = rng.standard_normal(out.shape)
    vs = _tangents(args, rng)
    jv = pushforward(op, vs, args, out, params, NUMPY)
    jtu = pullback(node, u, NUMPY)
    lhs = np.sum(u * jv)
    rhs = sum(np.sum(g * v) for g, v in zip(jtu, vs) if v is not None)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-10)


def _declared_saved(op, args, out):
    """What a node keeps when it keeps only the values its row's ``saves`` names (the rest
    None), by the names the category's rule gives them."""
    names = op.saves
    if op.category == "unary":  # slope(x, y): y is the output
        return (args[0] if "x" in names else None,), out if "y" in names else None
    kept_out = out if "out" in names else None
    if op.category == "binary":  # partials(x, y, out)
        return tuple(a if n in names else None for a, n in zip(args, ("x", "y"))), kept_out
    return (tuple(args) if "xs" in names else (None,) * len(args)), kept_out


@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_reverse_rule_reads_only_what_its_row_declares_saved(name, index):
    """A row's ``saves`` covers what its rule reads: the VJP with nothing else saved is the
    VJP with everything saved."""
    op, sample, arrays = inputs_for(name, index, np.float64)
    args, params = primitive_call(op, sample, arrays)
    node, out = _node_for(op, args, params)
    u = np.random.default_rng(6).standard_normal(out.shape)
    with_everything = pullback(node, u, NUMPY)
    node.saved = _declared_saved(op, args, out)
    for declared, full in zip(pullback(node, u, NUMPY), with_everything):
        if full is not None:
            np.testing.assert_array_equal(np.asarray(declared), np.asarray(full))


@pytest.mark.parametrize(("name", "index"), PRIMITIVES, ids=PRIMITIVE_IDS)
def test_stacked_cotangents_and_tangents_equal_separate_ones(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    args, params = primitive_call(op, sample, arrays)
    rng = np.random.default_rng(3)
    node, out = _node_for(op, args, params)
    stacked = rng.standard_normal((4,) + out.shape)
    together = pullback(node, stacked, NUMPY, batch_ndim=1)
    for k in range(4):
        alone = pullback(node, stacked[k], NUMPY)
        for a, b in zip(together, alone):
            if b is not None:
                np.testing.assert_allclose(a[k], b, rtol=1e-12, atol=1e-12)
    ts = _tangents(args, rng, batch=(4,))
    together = pushforward(op, ts, args, out, params, NUMPY)
    assert together.shape == (4,) + out.shape
    for k in range(4):
        alone = pushforward(op, [None if t is None else t[k] for t in ts], args, out, params, NUMPY)
        np.testing.assert_allclose(together[k], alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_recorded_path_equals_fast_path(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    f = _scalar_function(op, sample, _weights(op, sample, arrays, np.random.default_rng(4)))
    fast = [cr.tensor(a, requires_grad=True) for a in arrays if a.dtype.kind == "f"]
    recorded = [cr.tensor(a, requires_grad=True) for a in arrays if a.dtype.kind == "f"]
    f(*fast).backward()
    f(*recorded).backward(create_graph=True)
    for a, b in zip(fast, recorded):
        np.testing.assert_allclose(a.grad.data, b.grad.data, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_second_derivative_through_create_graph(name, index):
    """The Hessian-vector product from differentiating the recorded gradient agrees with
    central differences of the (first-order) gradient."""
    op, sample, arrays = inputs_for(name, index, np.float64)
    rng = np.random.default_rng(5)
    f = _scalar_function(op, sample, _weights(op, sample, arrays, rng))
    diff = _differentiable(arrays)
    directions = [rng.standard_normal(arrays[i].shape) for i in diff]

    def directional_gradient(*xs, create_graph=False):
        leaves = [cr.tensor(x, requires_grad=True) if i in diff else x for i, x in enumerate(xs)]
        grads = cr.autograd.grad(
            f(*leaves), [leaves[i] for i in diff], create_graph=create_graph, allow_unused=True
        )
        total = 0.0
        for g, r in zip(grads, directions):
            if g is not None:
                total = total + cr.sum(g * r)
        return total, leaves

    total, leaves = directional_gradient(*arrays, create_graph=True)
    if not isinstance(total, cr.Tensor) or not total.requires_grad:
        hvp = [np.zeros(arrays[i].shape) for i in diff]  # the gradient is constant
    else:
        grads = cr.autograd.grad(total, [leaves[i] for i in diff], allow_unused=True)
        hvp = [np.zeros(arrays[i].shape) if g is None else g.data for i, g in zip(diff, grads)]
    for k, i in enumerate(diff):

        def along(x, i=i):
            xs = list(arrays)
            xs[i] = np.asarray(x)
            t, _ = directional_gradient(*xs)
            return np.asarray(t.data if isinstance(t, cr.Tensor) else t)

        numeric = cr.numerical_grad(along, arrays[i], eps=1e-5)
        np.testing.assert_allclose(hvp[k], numeric, rtol=1e-4, atol=1e-5)
