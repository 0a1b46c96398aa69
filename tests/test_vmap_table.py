"""vmap over every row of the derivative table, against the same op run example by example.

For each op and sample, three examples are drawn (three seeds) and stacked. ``vmap`` of the
op's public function must give the stack of the per-example results, with every input
batched and with only the first batched (the others shared, ``in_axes=None``); and
``vmap(grad)`` of Σ out ⊙ w must give each example's gradient, for the shared inputs too.
No row but those listed in :data:`LOOPED` may fall back to the loop.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import OPS
from chainrule.tensor import BatchedAccess

from .optable import EXACT, cases, flat_output, inputs_for, public_function, samples_of

CASES = cases()
IDS = [f"{name}-{i}" for name, i in CASES]
VARIANTS = [(n, i, False) for n, i in CASES] + [
    (n, i, True) for n, i in CASES if len(samples_of(OPS[n])[i].shapes) > 1
]
VARIANT_IDS = [f"{n}-{i}-{'first-batched' if shared else 'all-batched'}" for n, i, shared in VARIANTS]
EXAMPLES = 3

LOOPED = {name for name, op in OPS.items() if op.reads_values}
"""Rows that run example by example under vmap (a warning names them): their parameters are
made from each example's values. Their derivative under vmap refuses."""
READS_VALUES_IN_SAMPLE = {"where"}
"""Rows whose sample builds an argument from the values of another (where's condition)."""
NAN_AWARE = {"nansum", "nanmean"}
"""Composites that read their input's values for a NaN mask: they refuse under vmap."""


def _examples(name, index):
    drawn = [inputs_for(name, index, np.float64, seed=100 * k) for k in range(EXAMPLES)]
    op, sample = drawn[0][0], drawn[0][1]
    return op, sample, [[d[2][i] for d in drawn] for i in range(len(sample.shapes))]


def _function(op, sample):
    return lambda *xs: flat_output(sample.run(public_function(op), *xs))


def _run_quietly(fn, *args):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = fn(*args)
    looped = [w for w in caught if "no batching rule" in str(w.message)]
    return result, looped


@pytest.mark.parametrize(("name", "index", "shared"), VARIANTS, ids=VARIANT_IDS)
def test_vmap_equals_the_op_example_by_example(name, index, shared):
    op, sample, per_input = _examples(name, index)
    if name in READS_VALUES_IN_SAMPLE:
        pytest.skip("the sample reads values to build an argument (tested by hand)")
    f = _function(op, sample)
    in_axes = tuple(0 if i == 0 or not shared else None for i in range(len(per_input)))
    args = [np.stack(ex) if axis == 0 else ex[0] for ex, axis in zip(per_input, in_axes)]
    if name in NAN_AWARE:
        with pytest.raises(BatchedAccess, match="one value per example"):
            cr.vmap(f, in_axes=in_axes)(*[cr.tensor(a) for a in args])
        return
    out, looped = _run_quietly(cr.vmap(f, in_axes=in_axes), *[cr.tensor(a) for a in args])
    expected = [
        f(*[cr.tensor(ex[k] if axis == 0 else ex[0]) for ex, axis in zip(per_input, in_axes)]).data
        for k in range(EXAMPLES)
    ]
    np.testing.assert_allclose(out.data, np.stack(expected), **EXACT)
    assert out.dtype == expected[0].dtype
    assert not looped or name in LOOPED, f"{name} fell back to the loop: {looped[0].message}"


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_vmap_of_grad_gives_each_examples_gradient(name, index):
    op, sample, per_input = _examples(name, index)
    floats = [i for i, ex in enumerate(per_input) if ex[0].dtype.kind == "f"]
    if not floats or name in READS_VALUES_IN_SAMPLE | NAN_AWARE:
        pytest.skip("no floating input, or not vmapped as sampled (see the forward test)")
    f = _function(op, sample)
    weights = np.random.default_rng(5).standard_normal(f(*[cr.tensor(ex[0]) for ex in per_input]).shape)
    in_axes = tuple(0 if i == 0 else None for i in range(len(per_input)))  # the others shared

    def loss(*xs):
        return cr.sum(f(*xs) * weights)

    argnums = tuple(floats)
    args = [cr.tensor(np.stack(ex) if axis == 0 else ex[0]) for ex, axis in zip(per_input, in_axes)]
    per_example_gradient = cr.vmap(cr.grad(loss, argnums=argnums), in_axes=in_axes)
    if name in LOOPED:
        with pytest.raises(NotImplementedError, match=f"vmap: {name} reads each example's values"):
            _run_quietly(per_example_gradient, *args)
        return
    grads, _ = _run_quietly(per_example_gradient, *args)
    for k in range(EXAMPLES):
        example = [cr.tensor(ex[k] if axis == 0 else ex[0]) for ex, axis in zip(per_input, in_axes)]
        for got, want in zip(grads, cr.grad(loss, argnums=argnums)(*example)):
            np.testing.assert_allclose(got.data[k], want.data, **EXACT)
