"""chainrule.linalg's decompositions: eigh, eigvalsh, svd, qr, pinv, matrix_power, spectral norms.

Values equal np.linalg's; gradients equal the closed forms of matrix calculus and central
differences; where a derivative does not exist (repeated eigenvalues or singular values,
rank deficiency, factors with free columns) differentiating raises instead of giving a
number.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule import linalg

RNG = np.random.default_rng(17)
TALL = RNG.uniform(-1, 1, (4, 3))
WIDE = RNG.uniform(-1, 1, (2, 4))
SQUARE = RNG.uniform(-1, 1, (3, 3)) + 2 * np.eye(3)
NONSYMMETRIC = RNG.uniform(-1, 1, (3, 3)) + np.diag([0.0, 4.0, 8.0])  # distinct eigenvalues
NUMERIC = {"rtol": 1e-6, "atol": 1e-8}


def grad_of(f, a):
    x = cr.tensor(a, requires_grad=True)
    f(x).backward()
    return x.grad.data


def check_against_central_differences(f, a):
    np.testing.assert_allclose(grad_of(f, a), cr.numerical_grad(f, a), **NUMERIC)


def weights_like(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


# ------------------------------------------------------------------ eigh and eigvalsh


def test_eigh_returns_numpys_pair_by_name():
    w, v = np.linalg.eigh(NONSYMMETRIC)
    result = linalg.eigh(NONSYMMETRIC)
    np.testing.assert_allclose(result.eigenvalues.data, w, rtol=1e-12)
    np.testing.assert_allclose(result.eigenvectors.data, v, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(
        linalg.eigvalsh(NONSYMMETRIC, UPLO="U").data, np.linalg.eigvalsh(NONSYMMETRIC, "U")
    )


def test_eigenvalue_gradient_of_a_diagonal_matrix_is_the_unit_matrix_e_i_e_i():
    d = np.diag([1.0, 2.0, 3.0])
    jacobian = cr.jacobian(linalg.eigvalsh)(cr.tensor(d)).data
    np.testing.assert_allclose(jacobian, np.eye(3)[:, :, None] * np.eye(3)[:, None, :], atol=1e-14)


@pytest.mark.parametrize("uplo", ["L", "U"])
def test_eigh_gradient_lies_in_the_triangle_numpy_reads(uplo):
    w1, w2 = weights_like(3, 1), weights_like((3, 3), 2)

    def loss(a):
        values, vectors = linalg.eigh(a, UPLO=uplo)
        return cr.sum(values * w1) + cr.sum(vectors * vectors * w2)

    check_against_central_differences(loss, NONSYMMETRIC)
    g = grad_of(loss, NONSYMMETRIC)
    unread = np.triu(g, 1) if uplo == "L" else np.tril(g, -1)
    np.testing.assert_array_equal(unread, 0.0)


def test_eigenvector_gradient_is_v_times_f_circ_vt_g():
    a = (NONSYMMETRIC + NONSYMMETRIC.T) / 2
    w, v = np.linalg.eigh(a)
    g = weights_like((3, 3), 3)
    ours = grad_of(lambda t: cr.sum(linalg.eigh(t).eigenvectors * g), a)
    f = 1 / (w[None, :] - w[:, None] + np.eye(3)) - np.eye(3)
    symmetric = v @ (f * (v.T @ g)) @ v.T  # the gradient in the space of symmetric matrices
    expected = np.tril(symmetric + symmetric.T) - np.diag(np.diag(symmetric))
    np.testing.assert_allclose(ours, expected, rtol=1e-10, atol=1e-12)


def test_eigh_refuses_the_eigenvector_derivative_at_repeated_eigenvalues():
    a = cr.tensor(np.diag([1.0, 1.0, 2.0]), requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="eigenvector derivative does not exist"):
        cr.sum(linalg.eigh(a).eigenvectors).backward()
    with pytest.raises(ValueError, match="repeated eigenvalues.*eigvalsh"):
        cr.jvp(lambda t: linalg.eigh(t).eigenvectors, (cr.tensor(np.eye(2)),), (cr.tensor(np.ones((2, 2))),))


def test_eigvalsh_is_differentiable_at_repeated_eigenvalues():
    a = np.eye(3) * 2.0
    np.testing.assert_allclose(
        grad_of(lambda t: cr.sum(linalg.eigvalsh(t)), a), np.eye(3), atol=1e-14
    )  # ∇ tr A
    np.testing.assert_allclose(linalg.eigvalsh(a).data, [2.0, 2.0, 2.0])


def test_eigvalsh_second_derivative_is_its_perturbation_theory():
    # d²λ_k [E, E] = 2 Σ_{j≠k} (v_jᵀ E v_k)² / (λ_k − λ_j) for a symmetric direction E
    a = np.diag([1.0, 2.0, 4.0]) + 0.1 * (NONSYMMETRIC + NONSYMMETRIC.T)
    e = weights_like((3, 3), 4)
    e = e + e.T
    w, v = np.linalg.eigh(a)
    x = cr.tensor(a, requires_grad=True)
    (g,) = cr.autograd.grad(linalg.eigvalsh(x)[2], x, create_graph=True)
    (h,) = cr.autograd.grad(cr.sum(g * np.tril(e)), x)  # the lower triangle: NumPy's reading of e
    projected = v.T @ e @ v
    expected = 2 * sum(projected[j, 2] ** 2 / (w[2] - w[j]) for j in range(2))
    np.testing.assert_allclose(np.sum(h.data * np.tril(e)), expected, rtol=1e-9)


@pytest.mark.parametrize(
    "loss",
    [
        lambda t: cr.sum(linalg.eigh(t).eigenvectors[:, 0] ** 3),
        lambda t: cr.sum(linalg.svd(t[:, :2], full_matrices=False).U[0] ** 3),
        lambda t: cr.sum(linalg.qr(t).Q[1] ** 3),
        lambda t: cr.sum(linalg.pinv(t[:2]) ** 3),
        lambda t: linalg.norm(t, "nuc") ** 2,
    ],
    ids=["eigh", "svd", "qr", "pinv", "nuc"],
)
def test_second_order_passes_gradcheck(loss):
    assert cr.gradcheck(cr.grad(loss), [cr.tensor(NONSYMMETRIC, requires_grad=True)])


# ------------------------------------------------------------------ svd


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_svd_values_equal_numpys(a):
    u, s, vh = linalg.svd(a, full_matrices=False)
    for ours, theirs in zip((u, s, vh), np.linalg.svd(a, full_matrices=False)):
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(linalg.svd(a, compute_uv=False).data, np.linalg.svd(a, compute_uv=False))


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_svd_gradients_match_central_differences(a):
    m, n = a.shape
    k = min(m, n)
    wu, ws, wv = weights_like((m, k), 5), weights_like(k, 6), weights_like((k, n), 7)

    def loss(t):
        u, s, vh = linalg.svd(t, full_matrices=False)
        # products of a singular vector with its partner's sign: invariant to the sign choice
        return cr.sum((u * u) * wu) + cr.sum(s * ws) + cr.sum((vh * vh) * wv) + cr.sum((u * s) @ vh)

    check_against_central_differences(loss, a)


def test_gradient_of_the_nuclear_norm_is_u_vt():
    u, _, vh = np.linalg.svd(TALL, full_matrices=False)
    np.testing.assert_allclose(grad_of(lambda t: linalg.norm(t, "nuc"), TALL), u @ vh, rtol=1e-10, atol=1e-12)


def test_gradient_of_the_spectral_norm_is_u1_v1t_and_of_ord_minus_2_the_last_pair():
    u, _, vh = np.linalg.svd(TALL, full_matrices=False)
    np.testing.assert_allclose(
        grad_of(lambda t: linalg.norm(t, 2), TALL), np.outer(u[:, 0], vh[0]), atol=1e-12
    )
    np.testing.assert_allclose(
        grad_of(lambda t: linalg.norm(t, -2), TALL), np.outer(u[:, -1], vh[-1]), atol=1e-12
    )


def test_singular_values_alone_are_differentiable_where_they_repeat():
    # ∇ Σ s = U Vᵀ, which for A = Q (orthogonal, all s = 1) is Q itself
    q, _ = np.linalg.qr(SQUARE)
    np.testing.assert_allclose(grad_of(lambda t: cr.sum(linalg.svd(t, compute_uv=False)), q), q, atol=1e-12)


@pytest.mark.parametrize(
    ("a", "reason"),
    [
        (np.diag([2.0, 2.0, 1.0]), "repeated singular values"),
        (np.diag([3.0, 1.0, 0.0]), "zero singular value"),
    ],
)
def test_svd_refuses_singular_vector_derivatives_that_do_not_exist(a, reason):
    x = cr.tensor(a, requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match=reason):
        cr.sum(linalg.svd(x).U).backward()


def test_svd_refuses_a_zero_singular_value_of_a_non_square_matrix_where_u_or_v_is_used():
    a = np.array([[1.0, 2.0], [2.0, 4.0], [0.0, 0.0]])
    x = cr.tensor(a, requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="zero singular value"):
        cr.sum(linalg.svd(x, full_matrices=False).U).backward()
    # the singular values alone: the same gradient as svd(a, compute_uv=False) gives
    cr.sum(linalg.svd(x, full_matrices=False).S).backward()
    values_only = cr.tensor(a, requires_grad=True)
    cr.sum(linalg.svd(values_only, compute_uv=False)).backward()
    np.testing.assert_allclose(x.grad.data, values_only.grad.data, rtol=1e-12)


def test_eigenvalues_of_eigh_alone_are_differentiable_at_repeated_eigenvalues():
    a = np.diag([2.0, 2.0, 1.0])
    x, y = cr.tensor(a, requires_grad=True), cr.tensor(a, requires_grad=True)
    (linalg.eigh(x).eigenvalues * np.array([1.0, 2.0, 3.0])).sum().backward()
    (linalg.eigvalsh(y) * np.array([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_allclose(x.grad.data, y.grad.data, rtol=1e-12)


def test_svd_with_full_matrices_of_a_non_square_matrix_is_refused_only_when_differentiated():
    for ours, theirs in zip(linalg.svd(TALL), np.linalg.svd(TALL)):
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-12, atol=1e-14)
    assert linalg.svd(TALL).U.shape == (4, 4)
    with pytest.raises(ValueError, match="full_matrices=False"):
        linalg.svd(cr.tensor(TALL, requires_grad=True))
    with cr.no_grad():
        linalg.svd(cr.tensor(TALL, requires_grad=True))


def test_hermitian_svd_reads_the_lower_triangle():
    w = weights_like(3, 8)
    check_against_central_differences(lambda t: cr.sum(linalg.svd(t, hermitian=True).S * w), NONSYMMETRIC)
    check_against_central_differences(lambda t: cr.sum(linalg.pinv(t, hermitian=True) * w), NONSYMMETRIC)


# ------------------------------------------------------------------ qr


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_qr_values_equal_numpys(a):
    for ours, theirs in zip(linalg.qr(a), np.linalg.qr(a)):
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(linalg.qr(a, mode="r").data, np.linalg.qr(a, mode="r"), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_qr_gradients_match_central_differences(a):
    q_shape, r_shape = (x.shape for x in np.linalg.qr(a))
    wq, wr = weights_like(q_shape, 9), weights_like(r_shape, 10)
    check_against_central_differences(lambda t: cr.sum(linalg.qr(t).Q * wq) + cr.sum(linalg.qr(t).R * wr), a)


def test_qr_refuses_what_it_cannot_differentiate():
    with pytest.raises(ValueError, match="qr: mode"):
        linalg.qr(TALL, mode="raw")
    q, r = linalg.qr(TALL, mode="complete")  # constants when no derivative is asked for
    np.testing.assert_allclose((q @ r).data, TALL, atol=1e-12)
    with pytest.raises(ValueError, match="complete"):
        linalg.qr(cr.tensor(TALL, requires_grad=True), mode="complete")
    deficient = cr.tensor(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), requires_grad=True)
    with pytest.raises(np.linalg.LinAlgError, match="full column rank"):
        cr.sum(linalg.qr(deficient).Q).backward()


# ------------------------------------------------------------------ pinv


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_pinv_values_and_gradients(a):
    np.testing.assert_allclose(linalg.pinv(a).data, np.linalg.pinv(a), rtol=1e-12)
    w = weights_like(a.T.shape, 11)
    check_against_central_differences(lambda t: cr.sum(linalg.pinv(t) * w), a)


def test_pinv_of_a_square_matrix_has_the_inverse_gradient():
    g = grad_of(lambda t: cr.sum(linalg.pinv(t)), SQUARE)
    inv_t = np.linalg.inv(SQUARE).T
    np.testing.assert_allclose(g, -inv_t @ np.ones((3, 3)) @ inv_t, rtol=1e-10)


def test_pinv_refuses_a_rank_deficient_matrix():
    x = cr.tensor(np.array([[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]]), requires_grad=True)
    np.testing.assert_allclose(linalg.pinv(x).data, np.linalg.pinv(x.data))
    with pytest.raises(np.linalg.LinAlgError, match="full rank"):
        cr.sum(linalg.pinv(x)).backward()


# ------------------------------------------------------------------ matrix_power


@pytest.mark.parametrize("n", [0, 1, 2, 3, 6, -1, -3])
def test_matrix_power_equals_numpys(n):
    np.testing.assert_allclose(
        linalg.matrix_power(SQUARE, n).data, np.linalg.matrix_power(SQUARE, n), rtol=1e-12
    )


def test_gradient_of_the_sum_of_a_square_is_its_product_rule():
    # ∇ Σ(A²) = 1 Aᵀ + Aᵀ 1, 1 the matrix of ones
    ones = np.ones((3, 3))
    expected = ones @ SQUARE.T + SQUARE.T @ ones
    np.testing.assert_allclose(
        grad_of(lambda t: cr.sum(linalg.matrix_power(t, 2)), SQUARE), expected, rtol=1e-12
    )
    check_against_central_differences(lambda t: cr.sum(linalg.matrix_power(t, -3)), SQUARE)


def test_matrix_power_refuses_a_non_integer_exponent_or_matrix():
    with pytest.raises(TypeError, match="matrix_power"):
        linalg.matrix_power(SQUARE, 1.5)
    with pytest.raises(ValueError, match="matrix_power"):
        linalg.matrix_power(TALL, 2)


# ------------------------------------------------------------------ batches
W = np.arange(9.0).reshape(3, 3) / 9


@pytest.mark.parametrize(
    "per_matrix",
    [
        lambda t: cr.sum(linalg.eigh(t).eigenvectors ** 2 * W, axis=(-2, -1)) + linalg.eigvalsh(t)[..., 0],
        lambda t: cr.sum(linalg.svd(t, full_matrices=False).U ** 2 * W, axis=(-2, -1)),
        lambda t: cr.sum(linalg.qr(t).R * W, axis=(-2, -1)),
        lambda t: cr.sum(linalg.pinv(t) * W, axis=(-2, -1)),
        lambda t: linalg.norm(t, "nuc", axis=(-2, -1)) + linalg.norm(t, 2, axis=(-1, -2)),
    ],
    ids=["eigh", "svd", "qr", "pinv", "norms"],
)
def test_a_batch_gives_each_matrix_its_own_gradient(per_matrix):
    stack = RNG.uniform(-1, 1, (2, 3, 3)) + np.diag([0.0, 3.0, 6.0])
    batched = grad_of(lambda t: cr.sum(per_matrix(t)), stack)
    for i in range(2):
        np.testing.assert_allclose(batched[i], grad_of(per_matrix, stack[i]), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------ against torch.linalg


def _torch():
    return pytest.importorskip("torch")


def _compare_with_torch(ours, theirs, a):
    torch = _torch()
    x = torch.tensor(a, requires_grad=True)
    theirs(torch, x).backward()
    np.testing.assert_allclose(grad_of(ours, a), x.grad.numpy(), rtol=1e-9, atol=1e-11)


def test_eigh_gradient_equals_torchs_on_symmetric_matrices():
    b = RNG.uniform(-1, 1, (3, 3)) + np.diag([0.0, 2.0, 4.0])
    w1, w2 = weights_like(3, 12), weights_like((3, 3), 13)

    def ours(t):
        values, vectors = linalg.eigh(t + t.T)
        return cr.sum(values * w1) + cr.sum(vectors**2 * w2)

    def theirs(torch, t):
        values, vectors = torch.linalg.eigh(t + t.T)
        return (values * torch.tensor(w1)).sum() + (vectors**2 * torch.tensor(w2)).sum()

    _compare_with_torch(ours, theirs, b)


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_svd_gradient_equals_torchs(a):
    k = min(a.shape)
    wu, ws, wv = weights_like((a.shape[0], k), 14), weights_like(k, 15), weights_like((k, a.shape[1]), 16)

    def ours(t):
        u, s, vh = linalg.svd(t, full_matrices=False)
        return cr.sum(u**2 * wu) + cr.sum(s * ws) + cr.sum(vh**2 * wv)

    def theirs(torch, t):
        u, s, vh = torch.linalg.svd(t, full_matrices=False)
        return (
            (u**2 * torch.tensor(wu)).sum() + (s * torch.tensor(ws)).sum() + (vh**2 * torch.tensor(wv)).sum()
        )

    _compare_with_torch(ours, theirs, a)


@pytest.mark.parametrize("a", [TALL, SQUARE], ids=["tall", "square"])
def test_qr_gradient_equals_torchs(a):
    wq, wr = weights_like((a.shape[0], a.shape[1]), 17), weights_like((a.shape[1], a.shape[1]), 18)

    def ours(t):
        q, r = linalg.qr(t)
        return cr.sum(q**2 * wq) + cr.sum(r**2 * wr)

    def theirs(torch, t):
        q, r = torch.linalg.qr(t)
        return (q**2 * torch.tensor(wq)).sum() + (r**2 * torch.tensor(wr)).sum()

    _compare_with_torch(ours, theirs, a)


@pytest.mark.parametrize("a", [TALL, WIDE, SQUARE], ids=["tall", "wide", "square"])
def test_pinv_gradient_equals_torchs(a):
    w = weights_like(a.T.shape, 19)
    _compare_with_torch(
        lambda t: cr.sum(linalg.pinv(t) * w),
        lambda torch, t: (torch.linalg.pinv(t) * torch.tensor(w)).sum(),
        a,
    )


@pytest.mark.parametrize("name", ["eigh", "eigvalsh", "svd", "qr", "pinv", "matrix_power"])
def test_a_vector_is_refused_naming_the_op(name):
    args = (2,) if name == "matrix_power" else ()
    with pytest.raises(ValueError, match=name):
        getattr(linalg, name)(np.ones(3), *args)


def test_eigh_refuses_an_unknown_triangle():
    with pytest.raises(ValueError, match="UPLO"):
        linalg.eigh(SQUARE, UPLO="X")
