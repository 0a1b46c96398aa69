"""float16 and longdouble: every op computes in the input's own precision, and its
gradients and tangents keep that dtype; where NumPy has no loop for a dtype (its linalg on
float16 and longdouble) the op refuses with a TypeError naming itself."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

from .optable import cases, flat_output, inputs_for, public_function

LOW_AND_HIGH = [np.dtype(np.float16), np.dtype(np.longdouble)]


@pytest.mark.parametrize("dtype", LOW_AND_HIGH, ids=str)
@pytest.mark.parametrize("name", sorted({name for name, _ in cases()}))
def test_each_op_keeps_float16_and_longdouble(name, dtype):
    op, sample, arrays = inputs_for(name, 0, np.float64)
    arrays = [a.astype(dtype) for a in arrays]
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]

    def f(*xs):
        return flat_output(sample.run(public_function(op), *xs))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # float16 overflows in some samples, as in NumPy
        try:
            expected = np.asarray(flat_output_of(sample.run(op.reference, *arrays)))
        except TypeError:  # NumPy has no loop for this dtype: chainrule refuses, naming the op
            with pytest.raises(TypeError, match=f"^{op.name}: NumPy cannot compute it on"):
                f(*xs)
            return
        out = f(*xs)
        assert out.dtype == expected.dtype
        eps = float(np.finfo(dtype).eps)  # a few roundings apart at most
        scale = float(np.max(np.abs(expected), initial=1.0))
        np.testing.assert_allclose(out.data, expected, rtol=16 * eps, atol=16 * eps * scale)
        out.backward(np.ones(out.shape, dtype=out.dtype))
        for x in xs:
            assert x.grad.dtype == dtype, f"{name}: gradient of dtype {x.grad.dtype}"
        _, tangent = cr.jvp(f, tuple(xs), tuple(np.ones_like(a) for a in arrays))
        assert tangent.dtype == out.dtype


def flat_output_of(reference):
    if isinstance(reference, (list, tuple)):
        return np.concatenate([np.reshape(r, -1) for r in reference])
    return reference


@pytest.mark.skipif(
    np.finfo(np.longdouble).eps >= np.finfo(np.float64).eps, reason="longdouble is float64 here"
)
def test_longdouble_gradients_carry_its_extra_digits():
    x0 = np.longdouble(1) + np.longdouble(2) ** -60  # 1 in float64
    x = cr.tensor(x0, requires_grad=True)
    (x * x * x).backward()
    assert x.grad.dtype == np.longdouble
    assert x.grad.data == 3 * x0 * x0
    assert float(x.grad.data - 3) > 0  # the 2^-59 digits float64 would drop


def test_float16_gradient_is_computed_in_float16():
    x = cr.tensor(np.array([0.1, 0.2], dtype=np.float16), requires_grad=True)
    cr.exp(x).sum().backward()
    assert x.grad.dtype == np.float16
    np.testing.assert_array_equal(x.grad.data, np.exp(np.array([0.1, 0.2], dtype=np.float16)))


def test_astype_is_differentiable_between_float_types():
    x = cr.tensor(np.array([1.5, -2.0], dtype=np.longdouble), requires_grad=True)
    for dtype in (np.float16, np.float32, np.float64):
        y = x.astype(dtype)
        assert y.dtype == dtype
        (y * y).sum().backward()
        assert x.grad.dtype == np.longdouble
        np.testing.assert_array_equal(x.grad.data, 2 * x.data)
        x.grad = None
