"""The table's forwards on another array namespace: array-api-strict, which refuses
anything beyond the array API standard (NumPy's extras, NumPy arrays among its inputs).

Every row's forward, bound with ``OpDef.forward_on(array_api_strict)``, must give NumPy's
values on the row's samples, except the rows listed in :data:`NOT_YET`, each with what it
still needs (the test checks that they do still fail, so the list cannot go stale).
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from chainrule.ops import OPS
from chainrule.ops.extras import FALLBACKS

from .optable import cases, inputs_for, primitive_call

xs = pytest.importorskip("array_api_strict")

NOT_YET = {
    "einsum": "einsum has no fallback composed from standard functions yet",
    "gradient": "numpy.gradient has no fallback yet",
    "scatter_add": "add.at (scatter-add) has no fallback yet",
    "scatter_rows": "add.at (scatter-add) has no fallback yet",
    "nll_transpose": "writes through fancy indexing, which the standard lacks",
    "gather_rows": "takes rows with a 2-d index array; the standard's take wants 1-d",
    "nll": "takes with a 2-d index array; the standard's take wants 1-d",
    "getitem": "NumPy's indexing (a partial multi-axis index, integer arrays) beyond the standard's",
    "eigh": "its UPLO='U' sample passes NumPy's keyword (the standard reads the lower triangle)",
    "eigvalsh": "its UPLO='U' sample passes NumPy's keyword (the standard reads the lower triangle)",
    "pinv": "its hermitian=True sample passes NumPy's keyword, which the standard lacks",
    "svd": "its hermitian=True sample passes NumPy's keyword, which the standard lacks",
    "all_reduce": "MPI exchanges host NumPy arrays; copying another namespace's is not written yet",
    "all_gather": "MPI exchanges host NumPy arrays; copying another namespace's is not written yet",
    "all_gather_transpose": "MPI exchanges host NumPy arrays; copying another namespace's is not written yet",
}

ROWS = sorted(
    {name for name, _ in cases() if OPS[name].category != "composite" and OPS[name].forward_rule is not None}
)


def _numpy(value):
    return np.from_dlpack(value) if hasattr(value, "__dlpack__") else np.asarray(value)


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

    def run_all():
        for args, params in calls:
            strict = [xs.asarray(a) if isinstance(a, np.ndarray) else a for a in args]
            got = op.forward_on(xs)(*strict, **params)
            assert isinstance(got, type(xs.asarray(0.0))), f"{name}: the result is not a strict array"
            want = op.forward(*args, **params)
            assert_allclose(_numpy(got), want, rtol=1e-12, atol=1e-12, equal_nan=True)

    if name in NOT_YET:
        with pytest.raises((AttributeError, TypeError, ValueError, IndexError, AssertionError)):
            run_all()
        return
    run_all()


SPECIAL = np.array([-5.5, -2.0, -0.0, 0.0, 0.5, 3.0, 7.25, np.inf, -np.inf, np.nan])


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_each_fallback_computes_numpys_function(name):
    x = np.repeat(SPECIAL, len(SPECIAL))
    y = np.tile(SPECIAL, len(SPECIAL))
    fallback, numpy_fn = FALLBACKS[name], getattr(np, name)
    if name in ("exp2", "rad2deg", "nan_to_num"):
        got, want = fallback(xs, xs.asarray(SPECIAL)), numpy_fn(SPECIAL)
    else:
        with np.errstate(invalid="ignore", divide="ignore"):
            got, want = fallback(xs, xs.asarray(x), xs.asarray(y)), numpy_fn(x, y)
    if name == "logaddexp2":  # a composition of logaddexp: equal to rounding
        assert_allclose(_numpy(got), want, rtol=1e-15, atol=0)
    else:
        assert_array_equal(_numpy(got), want)  # the same values, NaN where NumPy has NaN
        numbers = ~np.isnan(want)
        assert_array_equal(np.signbit(_numpy(got)[numbers]), np.signbit(want[numbers]))
