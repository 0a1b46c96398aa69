"""Third derivatives, generated from the derivative table.

For every op and each of its small samples, s(v) = Σ w ⊙ sin(op(v)) with all the op's
float inputs packed in one vector v. Its third-derivative tensor T[i, j, k] =
∂³s/∂vᵢ∂vⱼ∂v_k is computed every way a program reaches it — a Jacobian of the Hessian in
reverse and forward mode, the gradient of single Hessian entries, ``backward()`` through
a weighted Hessian, nested Jacobians in chunks of 1, 2 and all rows — and each must
equal the reference: nested reverse Jacobians one row at a time (no stacked tangents or
cotangents anywhere), itself checked against central differences of the Hessian. The
stacked forms push a whole identity of tangents through forward mode and then reverse
mode through those stacked tangents, which is where an op's rule meets inputs with extra
leading axes.
"""

from __future__ import annotations

import functools
import itertools
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import OPS

from .optable import flat_output, inputs_for, public_function, samples_of

LARGEST = 8  # elements of v: T has LARGEST³ entries and the reference LARGEST² passes
TOLERANCE = {"rtol": 1e-8, "atol": 1e-8}


def small_cases():
    """(op, sample index) for each sample with at most LARGEST float inputs, and each op's
    smallest sample when none is that small; composites are made of the others."""
    chosen = []
    for name, op in sorted(OPS.items()):
        sizes = []
        for i in range(len(samples_of(op))):
            _, _, arrays = inputs_for(name, i, np.float64)
            sizes.append(sum(a.size for a in arrays if a.dtype.kind == "f"))
        small = [i for i, n in enumerate(sizes) if 0 < n <= LARGEST]
        chosen += [(name, i) for i in small or [int(np.argmin(sizes))]]
    return chosen


CASES = small_cases()
IDS = [f"{name}-{i}" for name, i in CASES]


@functools.cache
def problem(name: str, index: int):
    """(s, v): the scalar function of the packed inputs and the point v."""
    op, sample, arrays = inputs_for(name, index, np.float64)
    fixed = list(arrays)
    slots = [i for i, a in enumerate(arrays) if a.dtype.kind == "f"]
    shapes = [arrays[i].shape for i in slots]
    v = np.concatenate([arrays[i].reshape(-1) for i in slots])
    rng = np.random.default_rng(11)
    out = flat_output(sample.run(public_function(op), *[cr.tensor(a) for a in arrays]))
    weights = rng.uniform(0.5, 1.5, size=out.shape)

    def s(packed):
        args, start = list(fixed), 0
        for i, shape in zip(slots, shapes):
            size = math.prod(shape)
            args[i] = cr.reshape(packed[start : start + size], shape)
            start += size
        return cr.sum(cr.sin(flat_output(sample.run(public_function(op), *args))) * weights)

    return s, v


@functools.cache
def reference(name: str, index: int) -> np.ndarray:
    """T by nested reverse Jacobians, one row at a time (no stacked tangents)."""
    s, v = problem(name, index)
    third = cr.jacobian(cr.jacobian(cr.grad(s), mode="rev", chunk_size=1), mode="rev", chunk_size=1)
    return third(cr.tensor(v)).numpy()


def test_the_reference_agrees_with_central_differences_of_the_hessian():
    for name, index in CASES[:: max(1, len(CASES) // 40)]:
        s, v = problem(name, index)
        hessian = lambda x, s=s: cr.jacobian(cr.grad(s), mode="rev", chunk_size=1)(cr.tensor(x)).numpy()
        h = 1e-5
        numeric = np.stack(
            [(hessian(v + h * e) - hessian(v - h * e)) / (2 * h) for e in np.eye(v.size)], axis=-1
        )
        np.testing.assert_allclose(
            reference(name, index), numeric, rtol=1e-5, atol=1e-5, err_msg=f"{name}-{index}"
        )


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_jacobian_of_the_hessian(name, index, mode):
    s, v = problem(name, index)
    third = cr.jacobian(cr.hessian(s), mode=mode)(cr.tensor(v))
    np.testing.assert_allclose(third.numpy(), reference(name, index), **TOLERANCE)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_gradient_of_single_hessian_entries(name, index):
    s, v = problem(name, index)
    n = v.size
    for i, j in {(0, 0), (0, n - 1), (n - 1, n // 2)}:
        row = cr.grad(lambda x, i=i, j=j: cr.hessian(s)(x)[i, j])(cr.tensor(v))
        np.testing.assert_allclose(row.numpy(), reference(name, index)[i, j], **TOLERANCE)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_backward_through_a_weighted_hessian(name, index):
    s, v = problem(name, index)
    weights = np.random.default_rng(3).standard_normal((v.size, v.size))
    x = cr.tensor(v, requires_grad=True)
    (cr.hessian(s)(x) * weights).sum().backward()
    expected = np.einsum("ij,ijk->k", weights, reference(name, index))
    np.testing.assert_allclose(x.grad.numpy(), expected, **TOLERANCE)


@pytest.mark.parametrize("chunks", [(1, 2), (2, 1), (2, 2), (None, 2), (2, None)], ids=str)
@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_chunked_nested_jacobians(name, index, chunks):
    s, v = problem(name, index)
    inner, outer = chunks
    third = cr.jacobian(cr.jacobian(cr.grad(s), mode="fwd", chunk_size=inner), mode="rev", chunk_size=outer)
    np.testing.assert_allclose(third(cr.tensor(v)).numpy(), reference(name, index), **TOLERANCE)


@pytest.mark.reference
@pytest.mark.parametrize("case", ["sum-y0-y1", "quadratic-form-sum"])
def test_third_derivatives_agree_with_torch_func(case):
    torch = pytest.importorskip("torch")
    from torch.func import hessian, jacrev

    M = np.array([[1.0, 0.5, -0.2], [0.3, 2.0, 0.1], [-0.4, 0.2, 1.5]])
    if case == "sum-y0-y1":
        ours = lambda y: y.sum() * y[0] * y[1]
        theirs = lambda y: y.sum() * y[0] * y[1]
    else:
        ours = lambda y: cr.matmul(y, cr.matmul(M, y)) * y.sum()
        theirs = lambda y: (y @ (torch.tensor(M) @ y)) * y.sum()
    v = np.array([1.0, 2.0, -0.5])
    expected = jacrev(hessian(theirs))(torch.tensor(v)).numpy()
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(
            cr.jacobian(cr.hessian(ours), mode=mode)(cr.tensor(v)).numpy(), expected, **TOLERANCE
        )


def test_the_third_derivative_of_sum_times_y0_y1_is_the_closed_form():
    # f = (y0 + y1) y0 y1 = y0² y1 + y0 y1²: f_001 = f_011 = 2 (any order), f_000 = f_111 = 0
    f = lambda y: y.sum() * y[0] * y[1]
    x = cr.tensor(np.array([1.0, 2.0]))
    expected = np.array([[[0.0, 2.0], [2.0, 2.0]], [[2.0, 2.0], [2.0, 0.0]]])
    np.testing.assert_allclose(cr.grad(lambda y: cr.hessian(f)(y)[0, 1])(x).numpy(), [2.0, 2.0])
    np.testing.assert_allclose(cr.jacobian(cr.hessian(f))(x).numpy(), expected)
    y = cr.tensor(np.array([1.0, 2.0]), requires_grad=True)
    cr.hessian(f)(y)[0, 1].backward()
    np.testing.assert_allclose(y.grad.numpy(), [2.0, 2.0])
    third = cr.jacobian(cr.jacobian(cr.grad(f), mode="fwd", chunk_size=2), mode="rev", chunk_size=2)
    np.testing.assert_allclose(third(x).numpy(), expected)


def test_the_third_derivative_of_a_quadratic_form_times_a_sum_is_the_closed_form():
    # f = (yᵀMy)(1ᵀy): with S = M + Mᵀ, ∂³f/∂yᵢ∂yⱼ∂y_k = S_ij + S_ik + S_jk
    M = np.array([[1.0, 0.5, -0.2], [0.3, 2.0, 0.1], [-0.4, 0.2, 1.5]])
    S = M + M.T
    expected = S[:, :, None] + S[:, None, :] + S[None, :, :]
    f = lambda y: cr.matmul(y, cr.matmul(M, y)) * y.sum()
    x = cr.tensor(np.array([1.0, 2.0, -0.5]))
    for mode in ("rev", "fwd"):
        np.testing.assert_allclose(cr.jacobian(cr.hessian(f), mode=mode)(x).numpy(), expected, **TOLERANCE)
    third = cr.jacobian(cr.jacobian(cr.grad(f), mode="fwd", chunk_size=2), mode="rev", chunk_size=2)
    np.testing.assert_allclose(third(x).numpy(), expected, **TOLERANCE)


@pytest.mark.parametrize("modes", list(itertools.product(("fwd", "rev"), repeat=3)), ids="-".join)
def test_every_mix_of_modes_gives_the_same_third_derivative(modes):
    """A one-pass Jacobian's stacked basis saved by a recorded rule meets tensors again at the
    next level; each of the 8 mixes must give torch.func's third derivative."""
    torch = pytest.importorskip("torch")
    from torch.func import jacrev

    x = np.array([0.3, -0.2, 0.7])
    inner, middle, outer = modes
    ours = cr.jacobian(
        cr.jacobian(cr.jacobian(lambda v: cr.sum(cr.sin(v) * v * v), mode=inner), mode=middle), mode=outer
    )(x)
    theirs = jacrev(jacrev(jacrev(lambda v: (torch.sin(v) * v * v).sum())))(torch.tensor(x)).numpy()
    np.testing.assert_allclose(ours.data, theirs, rtol=1e-12, atol=1e-12)
