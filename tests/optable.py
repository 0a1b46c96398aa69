"""Test inputs drawn from the derivative table: every op × its samples × dtypes.

Each table entry names its domain (and kinks to keep away from) and its samples
(argument shapes and parameters); categories without explicit samples get the
standard grid: 0-d, (3,), (2, 3), and for two inputs the broadcast pairs
(3, 1)·(1, 4) and (5,)·(2, 3, 5).
"""

from __future__ import annotations

import contextlib
import importlib

import numpy as np

import chainrule as cr
import chainrule.assembly as assembly
import chainrule.construction as construction
import chainrule.functions as F
import chainrule.reductions as reductions
import chainrule.statistics as statistics
from chainrule.ops import OPS, Sample
from chainrule.tensor import apply

tensor_module = importlib.import_module("chainrule.tensor")

UNARY_GRID = [Sample(((),)), Sample(((3,),)), Sample(((2, 3),))]
BINARY_GRID = [
    Sample(((), ())),
    Sample(((3,), (3,))),
    Sample(((2, 3), (2, 3))),
    Sample(((3, 1), (1, 4))),
    Sample(((5,), (2, 3, 5))),
    Sample(((2, 3), ())),
]
DTYPES = (np.float64, np.float32)
TOLERANCE = {  # forward values against the NumPy reference
    np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-12},
    np.dtype(np.float32): {"rtol": 2e-5, "atol": 1e-6},
}


def samples_of(op) -> list[Sample]:
    if op.samples is not None:
        return list(op.samples)
    return BINARY_GRID if op.category == "binary" else UNARY_GRID


# chainrule's public modules of functions, each table op's function under the op's name.
PUBLIC_MODULES = (F, reductions, statistics, cr.linalg, assembly, construction)


def public_function(op):
    """The function users call for ``op`` (internal ops are applied directly)."""
    for module in PUBLIC_MODULES:
        if op.name in module.__all__:
            return getattr(module, op.name)
    return lambda *xs, **params: apply(op, *xs, **params)


def draw(op, shape, dtype, rng) -> np.ndarray:
    """Values in the op's domain, at least 0.1 away from each kink."""
    lo, hi = op.domain
    x = rng.uniform(lo, hi, size=shape)
    for _ in range(100):
        near = np.zeros(np.shape(x), dtype=bool)
        for k in op.kinks:
            near |= np.abs(x - k) < 0.1
        if not near.any():
            break
        x = np.where(near, rng.uniform(lo, hi, size=shape), x)
    return np.asarray(x, dtype=dtype)


def cases():
    """(op name, sample index) for every table entry and each of its samples."""
    return [(name, i) for name, op in sorted(OPS.items()) for i in range(len(samples_of(op)))]


def inputs_for(name, index, dtype, seed=0):
    op = OPS[name]
    sample = samples_of(op)[index]
    rng = np.random.default_rng(seed + 7 * index)
    return op, sample, [draw(op, s, dtype, rng) for s in sample.shapes]


def flat_output(out) -> cr.Tensor:
    """One tensor from an op's output (split returns a list)."""
    if isinstance(out, list):
        return cr.concatenate([cr.reshape(o, (-1,)) for o in out])
    return out


@contextlib.contextmanager
def recorded_calls():
    """Log every (op, arrays, canonical params) the public API records."""
    calls = []
    original = tensor_module.record

    def logging_record(op, args, arrays, params):
        calls.append((op, list(arrays), dict(params)))
        return original(op, args, arrays, params)

    tensor_module.record = logging_record
    try:
        yield calls
    finally:
        tensor_module.record = original


def primitive_call(op, sample, arrays):
    """The arrays and canonical params with which ``op`` itself is applied for a sample."""
    with recorded_calls() as calls:
        sample.run(public_function(op), *[cr.tensor(a) for a in arrays])
    for called, args, params in calls:
        if called is op:
            return args, params
    raise AssertionError(f"{op.name} was not applied by its public function")


EXACT = {"rtol": 1e-10, "atol": 1e-12}  # two computations of the same exact quantity
NUMERIC = {"rtol": 1e-6, "atol": 1e-8}  # against central differences


def values(t) -> np.ndarray:
    """The data of a Tensor, checking that a transform returned a Tensor at all."""
    assert isinstance(t, cr.Tensor), f"expected a Tensor, got {type(t).__name__}"
    return t.data
