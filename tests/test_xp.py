"""The NumPy namespace's fast bindings give exactly what NumPy's own functions give."""

from __future__ import annotations

import numpy as np
import pytest

from chainrule.ops.xp import NUMPY, reduce_along

SHAPES = [(), (7,), (256, 5), (3, 4, 2), (2, 0), (4, 17), (1, 16)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("keepdims", [False, True])
def test_reduce_along_equals_the_ufunc_reduction(shape, keepdims):
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    axes = [None, *range(-len(shape), len(shape)), *((a,) for a in range(len(shape)))]
    for axis in axes:
        for ufunc, reference in ((np.add, np.sum), (np.maximum, np.max)):
            if ufunc is np.maximum and x.size == 0:
                continue
            got = reduce_along(ufunc, x, axis, keepdims)
            want = reference(x, axis=axis, keepdims=keepdims)
            assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == want.dtype
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)


def test_fast_bindings_match_numpy():
    x = np.arange(24.0).reshape(2, 3, 4)
    np.testing.assert_array_equal(
        NUMPY.sum(x, axis=(0, 2), keepdims=True), np.sum(x, axis=(0, 2), keepdims=True)
    )
    assert NUMPY.sum(x) == np.sum(x)
    np.testing.assert_array_equal(NUMPY.reshape(x, (4, 6)), np.reshape(x, (4, 6)))
    np.testing.assert_array_equal(NUMPY.matrix_transpose(x), np.matrix_transpose(x))
    with pytest.raises(ValueError):
        NUMPY.matrix_transpose(np.ones(3))
