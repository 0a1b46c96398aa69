"""Properties over random shapes: broadcasting gradients and the one unbroadcast, sum_to."""

import itertools

import hypothesis.extra.numpy as hnp
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

import chainrule as cr
from chainrule.ops import sum_to

SETTINGS = settings(max_examples=30, deadline=None)

BINARY = {
    "add": cr.add,
    "sub": cr.sub,
    "mul": cr.mul,
    "div": cr.div,
    "pow": cr.pow,
    "maximum": cr.maximum,
    "minimum": cr.minimum,
}

pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=3)


def inputs_for(name, shapes, seed):
    """Two float64 arrays in a safe domain for ``name``.

    div and pow get positive values away from 0; maximum and minimum get values that
    are distinct across both arrays and at least 0.1 apart, so no tie sits within a
    finite-difference step and the derivative is defined everywhere.
    """
    rng = np.random.default_rng(seed)
    sa, sb = shapes
    na, nb = int(np.prod(sa)), int(np.prod(sb))
    if name in ("maximum", "minimum"):
        values = rng.permutation(na + nb) * 0.1 - 1.0
        return values[:na].reshape(sa), values[na:].reshape(sb)
    low = 0.5 if name in ("div", "pow") else -2.0
    return rng.uniform(low, 2.0, sa), rng.uniform(low, 2.0, sb)


@SETTINGS
@given(name=st.sampled_from(sorted(BINARY)), shapes=pairs, seed=st.integers(0, 2**32 - 1))
def test_binary_op_gradients_have_input_shapes_and_match_central_differences(name, shapes, seed):
    op = BINARY[name]
    a, b = inputs_for(name, shapes.input_shapes, seed)
    weights = np.random.default_rng(seed + 1).standard_normal(shapes.result_shape)

    def loss(x, y):
        return (op(x, y) * weights).sum()

    x, y = cr.tensor(a, requires_grad=True), cr.tensor(b, requires_grad=True)
    out = op(x, y)
    assert out.shape == shapes.result_shape
    (out * weights).sum().backward()
    assert x.grad.shape == a.shape and y.grad.shape == b.shape
    assert x.grad.dtype == np.float64 and y.grad.dtype == np.float64
    numeric_a, numeric_b = cr.numerical_grad(loss, a, b, eps=1e-6)
    assert_allclose(x.grad.numpy(), numeric_a, rtol=1e-6, atol=1e-8)
    assert_allclose(y.grad.numpy(), numeric_b, rtol=1e-6, atol=1e-8)


@SETTINGS
@given(name=st.sampled_from(sorted(BINARY)), shapes=pairs, seed=st.integers(0, 2**32 - 1))
def test_float32_gradients_stay_float32_under_broadcasting(name, shapes, seed):
    a, b = inputs_for(name, shapes.input_shapes, seed)
    x = cr.tensor(a.astype(np.float32), requires_grad=True)
    y = cr.tensor(b.astype(np.float32), requires_grad=True)
    BINARY[name](x, y).sum().backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32
    assert x.grad.shape == a.shape and y.grad.shape == b.shape


def loop_sum_to(g, shape):
    """sum_to by its definition: every element of g lands on the element it was broadcast from."""
    out = np.zeros(shape, dtype=g.dtype)
    lead = g.ndim - len(shape)
    for index in itertools.product(*(range(n) for n in g.shape)):
        target = tuple(0 if n == 1 else index[lead + i] for i, n in enumerate(shape))
        out[target] += g[index]
    return out


big_and_small = hnp.mutually_broadcastable_shapes(
    num_shapes=2, min_dims=0, max_dims=4, min_side=0, max_side=3
)


@settings(max_examples=60, deadline=None)
@given(shapes=big_and_small, seed=st.integers(0, 2**32 - 1))
def test_sum_to_equals_summing_over_every_broadcast_copy(shapes, seed):
    small = shapes.input_shapes[0]
    g = np.random.default_rng(seed).standard_normal(shapes.result_shape)
    result = sum_to(g, small, np)
    assert result.shape == small
    assert_allclose(result, loop_sum_to(g, small), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(
    shapes=big_and_small,
    batch=hnp.array_shapes(min_dims=1, max_dims=2, max_side=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_sum_to_keeps_leading_batch_axes(shapes, batch, seed):
    small = shapes.input_shapes[0]
    g = np.random.default_rng(seed).standard_normal(batch + shapes.result_shape)
    result = sum_to(g, small, np, batch_ndim=len(batch))
    assert result.shape == batch + small
    for b in itertools.product(*(range(n) for n in batch)):
        assert_allclose(result[b], loop_sum_to(g[b], small), rtol=1e-12, atol=1e-12)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**32 - 1))
def test_sum_to_is_the_transpose_of_broadcast_to(shape, seed):
    """⟨broadcast_to(x), g⟩ = ⟨x, sum_to(g)⟩ for a shape with extra and stretched axes."""
    rng = np.random.default_rng(seed)
    small = tuple(1 if k % 2 else n for k, n in enumerate(shape))
    big = (2,) + shape
    x = rng.standard_normal(small)
    g = rng.standard_normal(big)
    lhs = np.sum(np.broadcast_to(x, big) * g)
    rhs = np.sum(x * sum_to(g, small, np))
    assert_allclose(lhs, rhs, rtol=1e-10, atol=1e-12)


@SETTINGS
@given(shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), seed=st.integers(0, 2**32 - 1))
def test_reductions_over_random_axes_give_gradients_of_the_input_shape(shape, seed):
    rng = np.random.default_rng(seed)
    axis = tuple(sorted(set(rng.integers(0, len(shape), size=rng.integers(1, len(shape) + 1)).tolist())))
    keepdims = bool(rng.integers(0, 2))
    a = rng.standard_normal(shape)
    for reduce in (cr.sum, cr.mean, cr.logsumexp):
        x = cr.tensor(a, requires_grad=True)
        out = reduce(x, axis=axis, keepdims=keepdims)
        w = rng.standard_normal(out.shape)
        (out * w).sum().backward()
        assert x.grad.shape == shape
        numeric = cr.numerical_grad(
            lambda t, f=reduce, w=w: (f(t, axis=axis, keepdims=keepdims) * w).sum(), a, eps=1e-6
        )
        assert_allclose(x.grad.numpy(), numeric, rtol=1e-6, atol=1e-8)
