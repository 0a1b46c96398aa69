"""chainrule.linalg: values equal np.linalg's, gradients equal the closed forms of matrix calculus."""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import linalg

RNG = np.random.default_rng(3)
A = RNG.uniform(-1, 1, (3, 3)) + 3 * np.eye(3)
STACK = RNG.uniform(-1, 1, (2, 4, 4)) + 3 * np.eye(4)


def grad_of(f, *arrays):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    f(*xs).backward()
    return [x.grad.data for x in xs]


def test_grad_of_log_abs_det_is_the_inverse_transpose():
    (g,) = grad_of(lambda a: cr.sum(linalg.slogdet(a)[1]), STACK)
    np.testing.assert_allclose(g, np.linalg.inv(STACK).swapaxes(-1, -2), rtol=1e-10)


def test_slogdet_returns_numpys_sign_and_log_abs_det():
    m = np.array([[0.0, 2.0], [3.0, 0.0]])
    sign, logabsdet = linalg.slogdet(m)
    np.testing.assert_allclose([sign.data, logabsdet.data], np.linalg.slogdet(m))
    assert not sign.requires_grad


def test_grad_of_det_is_det_times_inverse_transpose():
    (g,) = grad_of(linalg.det, A)
    np.testing.assert_allclose(g, np.linalg.det(A) * np.linalg.inv(A).T, rtol=1e-10)


def test_grad_of_sum_of_inverse_is_minus_inverse_transpose_ones_inverse_transpose():
    (g,) = grad_of(lambda a: cr.sum(linalg.inv(a)), A)
    inv_t = np.linalg.inv(A).T
    np.testing.assert_allclose(g, -inv_t @ np.ones((3, 3)) @ inv_t, rtol=1e-10)


@pytest.mark.parametrize("b_shape", [(3,), (3, 2)])
def test_solve_gradients_match_central_differences(b_shape):
    b = RNG.uniform(-1, 1, b_shape)
    w = RNG.uniform(-1, 1, b_shape)

    def loss(a, b):
        return cr.sum(linalg.solve(a, b) * w)

    ga, gb = grad_of(loss, A, b)
    na, nb = cr.numerical_grad(loss, A, b)
    np.testing.assert_allclose(ga, na, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(gb, nb, rtol=1e-6, atol=1e-8)


def test_solve_follows_numpy_2_vector_and_batch_rules():
    b = RNG.uniform(-1, 1, (4,))
    np.testing.assert_allclose(linalg.solve(STACK, b).data, np.linalg.solve(STACK, b), rtol=1e-12)
    assert linalg.solve(STACK, b).shape == (2, 4)


def test_the_inverse_rules_stay_differentiable_for_second_order():
    hessian = cr.hessian(lambda a: linalg.slogdet(a)[1])(cr.tensor(A))
    inv = np.linalg.inv(A)
    # d²/dA² log|det A| [E_ij, E_kl] = −(A⁻¹)_jk (A⁻¹)_li
    expected = -np.einsum("jk,li->ijkl", inv, inv)
    np.testing.assert_allclose(hessian.data, expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("fn", [linalg.inv, lambda a: linalg.solve(a, np.ones(2))])
def test_a_singular_matrix_raises_naming_the_op(fn):
    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        fn(np.array([[1.0, 2.0], [2.0, 4.0]]))


@pytest.mark.parametrize("name", ["inv", "det", "slogdet"])
def test_non_square_input_is_refused_naming_the_op(name):
    with pytest.raises(ValueError, match=name):
        getattr(linalg, name)(np.ones((2, 3)))


VECTOR_ORDS = [None, 2, 1, math.inf, -math.inf, 0, 3, 0.5]
MATRIX_ORDS = [None, "fro", 1, -1, math.inf, -math.inf, 2, -2, "nuc"]


@pytest.mark.parametrize("ord", VECTOR_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_vector_norms_equal_numpys(ord, keepdims):
    x = RNG.uniform(-2, 2, (3, 5))
    for axis in (0, -1):
        got = linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims).data
        np.testing.assert_allclose(got, np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(linalg.norm(x[0], ord=ord).data, np.linalg.norm(x[0], ord=ord), rtol=1e-12)


@pytest.mark.parametrize("ord", MATRIX_ORDS)
@pytest.mark.parametrize("keepdims", [False, True])
def test_matrix_norms_equal_numpys(ord, keepdims):
    x = RNG.uniform(-2, 2, (2, 3, 4))
    for axis in ((1, 2), (2, 0), (-1, -2)):
        got = linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims).data
        np.testing.assert_allclose(got, np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims), rtol=1e-12)
    np.testing.assert_allclose(linalg.norm(x[0], ord=ord).data, np.linalg.norm(x[0], ord=ord), rtol=1e-12)


def test_norm_of_everything_by_default():
    x = RNG.uniform(-2, 2, (2, 3, 4))
    np.testing.assert_allclose(linalg.norm(x).data, np.linalg.norm(x), rtol=1e-12)
    assert linalg.norm(x, keepdims=True).shape == (1, 1, 1)


@pytest.mark.parametrize(
    ("ord", "axis"),
    [
        (None, None),
        (2, 0),
        (1, 0),
        (3, 0),
        ("fro", (0, 1)),
        (math.inf, 0),
        (2, (0, 1)),
        (-2, (1, 0)),
        ("nuc", None),
    ],
)
def test_norm_gradients_match_central_differences(ord, axis):
    x = RNG.uniform(0.2, 1, (3, 3)) * np.where(RNG.uniform(size=(3, 3)) > 0.5, 1, -1)
    (g,) = grad_of(lambda t: cr.sum(linalg.norm(t, ord=ord, axis=axis)), x)
    n = cr.numerical_grad(lambda t: cr.sum(linalg.norm(t, ord=ord, axis=axis)), x)
    np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize(
    ("ord", "axis"), [(None, None), (2, 0), (3, 0), (1, 0), (math.inf, 0), ("fro", (0, 1))]
)
def test_norm_gradient_at_zero_is_zero_not_nan(ord, axis):
    (g,) = grad_of(lambda t: cr.sum(linalg.norm(t, ord=ord, axis=axis)), np.zeros((3, 3)))
    np.testing.assert_array_equal(g, np.zeros((3, 3)))


def test_norm_refuses_what_numpy_refuses_or_chainrule_lacks():
    with pytest.raises(ValueError, match="norm"):
        linalg.norm(np.ones(3), ord="fro")
    with pytest.raises(ValueError, match="norm"):
        linalg.norm(np.ones((2, 2, 2)), ord=1)
    with pytest.raises(ValueError, match="norm"):
        linalg.norm(np.ones((2, 2)), ord="spectral")
    with pytest.raises(ValueError, match="norm"):
        linalg.norm(np.ones((2, 2)), ord=3)


def test_cholesky_factors_and_its_gradient_matches_central_differences():
    b = RNG.uniform(-1, 1, (3, 3))
    w = RNG.uniform(-1, 1, (3, 3))

    def loss(b):
        return cr.sum(linalg.cholesky(b @ b.T + 3 * np.eye(3)) * w)

    spd = b @ b.T + 3 * np.eye(3)
    np.testing.assert_allclose(linalg.cholesky(spd).data, np.linalg.cholesky(spd), rtol=1e-12)
    (g,) = grad_of(loss, b)
    np.testing.assert_allclose(g, cr.numerical_grad(loss, b), rtol=1e-6, atol=1e-8)


def test_cholesky_gradient_lies_in_the_lower_triangle_numpy_reads():
    (g,) = grad_of(lambda a: cr.sum(linalg.cholesky(a)), A @ A.T)
    np.testing.assert_array_equal(np.triu(g, 1), np.zeros((3, 3)))


def test_cholesky_of_an_indefinite_matrix_raises_naming_the_op():
    with pytest.raises(np.linalg.LinAlgError, match="cholesky"):
        linalg.cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))
