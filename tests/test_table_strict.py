"""The generated table tests run again on another array library: array-api-strict's arrays on
its non-default device ``device1``, which refuses conversion to NumPy (as CuPy's GPU arrays do)
and accepts nothing beyond the array API standard.

Tensors made from those arrays run every op, its reverse pass and its second derivatives
through array-api-strict; each test asserts that the results are strict arrays on ``device1``
(never NumPy arrays) and equal to what NumPy gives. The rules' forward-mode (JVP), adjointness
and stacked checks at the rule level are in ``test_backends.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import backends
from chainrule.ops import OPS

from .optable import TOLERANCE, cases, flat_output, inputs_for, public_function

xs = pytest.importorskip("array_api_strict")
DEVICE = xs.Device("device1")
STRICT = type(xs.asarray(0.0))

CASES = cases()
IDS = [f"{name}-{i}" for name, i in CASES]


def _on_device(a: np.ndarray) -> cr.Tensor:
    return cr.tensor(xs.asarray(a, device=DEVICE), requires_grad=a.dtype.kind == "f")


def _host(t: cr.Tensor) -> np.ndarray:
    assert isinstance(t, cr.Tensor), f"expected a Tensor, got {type(t).__name__}"
    assert type(t._data) is STRICT, f"the result is a {type(t._data).__name__}, not a strict array"
    assert t.device == DEVICE
    return backends.host(t._data)


def _outputs(out):
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_forward_on_device1_matches_numpy(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    want = sample.run(public_function(op), *[cr.tensor(a) for a in arrays])
    got = sample.run(public_function(op), *[_on_device(a) for a in arrays])
    for g, w in zip(_outputs(got), _outputs(want), strict=True):
        assert g.dtype == getattr(xs, w.dtype.name)
        np.testing.assert_allclose(_host(g), w.numpy(), **TOLERANCE[np.dtype(np.float64)])


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_reverse_pass_on_device1_passes_gradcheck_and_matches_numpy(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    leaves = [_on_device(a) for a in arrays]

    def f(*args):
        return flat_output(sample.run(public_function(op), *args))

    assert cr.gradcheck(f, leaves)
    weights = np.random.default_rng(4).standard_normal(f(*[cr.tensor(a) for a in arrays]).shape)
    reference = [cr.tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays]
    cr.sum(f(*reference) * weights).backward()
    cr.sum(f(*leaves) * cr.tensor(xs.asarray(weights, device=DEVICE))).backward()
    for leaf, ref in zip(leaves, reference):
        if ref.requires_grad and ref.grad is not None:
            # a row lookup's gradient is row-sparse on both (RowSparse); compare the dense forms
            got = leaf.grad if isinstance(leaf.grad, cr.Tensor) else leaf.grad.to_dense()
            np.testing.assert_allclose(_host(got), ref.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_second_derivatives_on_device1_match_numpy(name, index):
    """The recorded reverse pass (create_graph) runs on device1 too: a gradient of the
    gradient's projection equals NumPy's."""
    op, sample, arrays = inputs_for(name, index, np.float64)
    rng = np.random.default_rng(5)
    diff = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    weights = rng.standard_normal(flat_output(sample.run(public_function(op), *arrays)).shape)
    directions = [rng.standard_normal(arrays[i].shape) for i in diff]

    def second(make):
        leaves = [make(a) for a in arrays]
        out = cr.sum(flat_output(sample.run(public_function(op), *leaves)) * make(weights))
        grads = cr.autograd.grad(out, [leaves[i] for i in diff], create_graph=True, allow_unused=True)
        total = sum(cr.sum(g * make(r)) for g, r in zip(grads, directions) if g is not None)
        if not isinstance(total, cr.Tensor) or not total.requires_grad:
            return None
        return cr.autograd.grad(total, [leaves[i] for i in diff], allow_unused=True)

    want = second(lambda a: cr.tensor(a, requires_grad=a.dtype.kind == "f"))
    got = second(_on_device)
    if want is None:
        assert got is None
        return
    for g, w in zip(got, want, strict=True):
        assert (g is None) == (w is None)
        if w is not None:
            np.testing.assert_allclose(_host(g), w.numpy(), rtol=1e-9, atol=1e-11)


def test_every_row_is_covered():
    assert {name for name, _ in CASES} == set(OPS)
