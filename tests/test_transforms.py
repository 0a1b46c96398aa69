"""The function transforms against closed forms and central differences.

Every Jacobian is checked in numerator layout, ``J[i..., j...] = d out[i...] / d x[j...]``
with shape ``out.shape + x.shape``: against the notes' closed forms, against
``cr.numerical_jacobian``, and reverse mode against forward mode for every op of the
derivative table. Hessians, directional derivatives, compositions of transforms
(including the perturbation-confusion pitfall), the number of passes a Jacobian
makes, and the errors bad calls raise are specified here too.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import chainrule as cr
import chainrule.forward
import chainrule.graph

from .optable import EXACT, NUMERIC, cases, flat_output, inputs_for, public_function, values

MODES = ("rev", "fwd", "auto")
CASES = cases()
IDS = [f"{name}-{i}" for name, i in CASES]


pytestmark = pytest.mark.usefixtures("float64_default")


def rng_for(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def softmax(z):
    return cr.exp(z - cr.logsumexp(z))


def np_softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# ----------------------------------------------------------- the notes' Jacobians
@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_3x2y_and_2x_plus_y8_is_6xy_3x2_2_8y7(mode):
    def f(v):
        x, y = v[0], v[1]
        return cr.stack([3 * x**2 * y, 2 * x + y**8])

    x, y = 1.3, -0.8
    J = cr.jacobian(f, mode=mode)(np.array([x, y]))
    expected = [[6 * x * y, 3 * x**2], [2.0, 8 * y**7]]
    np.testing.assert_allclose(values(J), expected, **EXACT)
    np.testing.assert_allclose(values(J), cr.numerical_jacobian(f, np.array([x, y])), **NUMERIC)


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_3x2y_and_2x_plus_y8_by_two_scalar_argnums_gives_its_columns(mode):
    def f(x, y):
        return cr.stack([3 * x**2 * y, 2 * x + y**8])

    x, y = 0.7, 1.1
    dx, dy = cr.jacobian(f, argnums=(0, 1), mode=mode)(x, y)
    np.testing.assert_allclose(values(dx), [6 * x * y, 2.0], **EXACT)
    np.testing.assert_allclose(values(dy), [3 * x**2, 8 * y**7], **EXACT)


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_W_times_column_x_is_W(mode):
    W = rng_for(1).standard_normal((4, 3))
    f = lambda x: cr.matmul(cr.tensor(W), x)
    x = rng_for(2).standard_normal(3)
    J = cr.jacobian(f, mode=mode)(x)
    assert J.shape == (4, 3)
    np.testing.assert_allclose(values(J), W, **EXACT)
    np.testing.assert_allclose(values(J), cr.numerical_jacobian(f, x), **NUMERIC)


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_of_row_x_times_W_is_W_transpose(mode):
    """z = xW: d z_j / d x_i = W[i, j], so in numerator layout J = Wᵀ."""
    W = rng_for(3).standard_normal((3, 5))
    f = lambda x: cr.matmul(x, cr.tensor(W))
    x = rng_for(4).standard_normal(3)
    J = cr.jacobian(f, mode=mode)(x)
    assert J.shape == (5, 3)
    np.testing.assert_allclose(values(J), W.T, **EXACT)
    row = x.reshape(1, 3)
    J_row = cr.jacobian(f, mode=mode)(row)
    assert J_row.shape == (1, 5, 1, 3)
    np.testing.assert_allclose(values(J_row)[0, :, 0, :], W.T, **EXACT)
    np.testing.assert_allclose(values(J_row), cr.numerical_jacobian(f, row), **NUMERIC)


ELEMENTWISE = {
    "sin": (cr.sin, np.cos),
    "exp": (cr.exp, np.exp),
    "tanh": (cr.tanh, lambda x: 1 - np.tanh(x) ** 2),
    "sigmoid": (cr.sigmoid, lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2),
    "cube": (lambda x: x**3, lambda x: 3 * x**2),
    "log": (cr.log, lambda x: 1 / x),
}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_jacobian_of_elementwise_function_is_diagonal_of_its_derivative(name, mode):
    f, slope = ELEMENTWISE[name]
    x = rng_for(5).uniform(0.2, 2.0, size=4)
    J = cr.jacobian(f, mode=mode)(x)
    np.testing.assert_allclose(values(J), np.diag(slope(x)), **EXACT)
    np.testing.assert_allclose(values(J), cr.numerical_jacobian(f, x), **NUMERIC)


@pytest.mark.parametrize("mode", MODES)
def test_generalized_jacobian_of_XW_wrt_W_is_delta_jl_X_ik(mode):
    X = rng_for(6).standard_normal((2, 3))
    W = rng_for(7).standard_normal((3, 4))
    f = lambda W: cr.matmul(cr.tensor(X), W)
    J = values(cr.jacobian(f, mode=mode)(W))
    assert J.shape == (2, 4) + (3, 4)  # Y.shape + W.shape
    for i in range(2):
        for j in range(4):
            for k in range(3):
                for l in range(4):
                    assert J[i, j, k, l] == pytest.approx((j == l) * X[i, k], abs=1e-12)
    np.testing.assert_allclose(J, cr.numerical_jacobian(f, W), **NUMERIC)


@pytest.mark.parametrize("mode", MODES)
def test_generalized_jacobian_of_XW_wrt_X_is_delta_ik_W_lj(mode):
    X = rng_for(8).standard_normal((2, 3))
    W = rng_for(9).standard_normal((3, 4))
    J = values(cr.jacobian(cr.matmul, argnums=0, mode=mode)(X, W))
    assert J.shape == (2, 4) + (2, 3)
    expected = np.einsum("ik,lj->ijkl", np.eye(2), W)
    np.testing.assert_allclose(J, expected, **EXACT)


@pytest.mark.parametrize("mode", MODES)
def test_softmax_jacobian_is_diag_p_minus_p_pT(mode):
    z = rng_for(10).standard_normal(5)
    p = np_softmax(z)
    J = cr.jacobian(softmax, mode=mode)(z)
    np.testing.assert_allclose(values(J), np.diag(p) - np.outer(p, p), rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(values(J), cr.numerical_jacobian(softmax, z), **NUMERIC)


# ----------------------------------------------------------- every op of the table
def _op_function(name, index):
    op, sample, arrays = inputs_for(name, index, np.float64)
    f = lambda *xs: flat_output(sample.run(public_function(op), *xs))
    return f, arrays


def _argnums(arrays):
    return tuple(range(len(arrays))) if len(arrays) > 1 else 0


def _as_tuple(result, arrays):
    return result if len(arrays) > 1 else (result,)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_reverse_and_forward_jacobians_agree_for_every_op(name, index):
    f, arrays = _op_function(name, index)
    argnums = _argnums(arrays)
    reference = _as_tuple(cr.jacobian(f, argnums=argnums, mode="rev")(*arrays), arrays)
    for mode, chunk_size in (("fwd", None), ("auto", None), ("rev", 2), ("fwd", 2)):
        other = _as_tuple(cr.jacobian(f, argnums=argnums, mode=mode, chunk_size=chunk_size)(*arrays), arrays)
        assert len(other) == len(reference) == len(arrays)
        for r, o in zip(reference, other):
            assert o.shape == r.shape, f"{mode} chunk_size={chunk_size}: {o.shape} != {r.shape}"
            assert o.dtype == np.float64
            np.testing.assert_allclose(
                values(o), values(r), err_msg=f"{mode} chunk_size={chunk_size}", **EXACT
            )


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_reverse_jacobian_matches_central_differences_for_every_op(name, index):
    f, arrays = _op_function(name, index)
    jacobians = _as_tuple(cr.jacobian(f, argnums=_argnums(arrays), mode="rev")(*arrays), arrays)
    for i, J in enumerate(jacobians):
        along_i = lambda x, i=i: f(*arrays[:i], x, *arrays[i + 1 :])
        numeric = cr.numerical_jacobian(along_i, arrays[i], eps=1e-6)
        assert J.shape == numeric.shape == f(*[cr.tensor(a) for a in arrays]).shape + arrays[i].shape
        np.testing.assert_allclose(values(J), numeric, rtol=1e-5, atol=1e-6)


class PassCounter:
    """Counts backward passes (calls of graph.backward) and forward-mode levels opened."""

    def __init__(self, monkeypatch):
        self.backward = 0
        self.levels = 0
        backward, open_level = chainrule.graph.backward, chainrule.forward.open_level

        def counting_backward(*args, **kwargs):
            self.backward += 1
            return backward(*args, **kwargs)

        def counting_open_level():
            self.levels += 1
            return open_level()

        monkeypatch.setattr(chainrule.graph, "backward", counting_backward)
        monkeypatch.setattr(chainrule.forward, "open_level", counting_open_level)


class CountedCalls:
    def __init__(self, f):
        self.f = f
        self.calls = 0

    def __call__(self, *args):
        self.calls += 1
        return self.f(*args)


def test_auto_mode_uses_forward_mode_when_input_is_smaller_than_output(monkeypatch):
    W = rng_for(11).standard_normal((6, 2))
    f = lambda x: cr.tanh(cr.matmul(cr.tensor(W), x))
    x = rng_for(12).standard_normal(2)
    expected = cr.jacobian(f, mode="rev")(x)
    counter = PassCounter(monkeypatch)
    J = cr.jacobian(f, mode="auto")(x)
    assert counter.backward == 0 and counter.levels == 1
    np.testing.assert_allclose(values(J), values(expected), **EXACT)


@pytest.mark.parametrize(("n_in", "n_out"), [(6, 2), (4, 4)], ids=["more-inputs", "as-many"])
def test_auto_mode_uses_reverse_mode_unless_input_is_smaller_than_output(monkeypatch, n_in, n_out):
    W = rng_for(13).standard_normal((n_out, n_in))
    f = lambda x: cr.tanh(cr.matmul(cr.tensor(W), x))
    x = rng_for(14).standard_normal(n_in)
    expected = cr.jacobian(f, mode="fwd")(x)
    counter = PassCounter(monkeypatch)
    J = cr.jacobian(f, mode="auto")(x)
    assert counter.backward == 1 and counter.levels == 0
    np.testing.assert_allclose(values(J), values(expected), **EXACT)


# ----------------------------------------------------------- passes per Jacobian
def test_reverse_jacobian_makes_exactly_one_backward_pass(monkeypatch):
    W = rng_for(15).standard_normal((7, 4))
    f = CountedCalls(lambda x: cr.sin(cr.matmul(cr.tensor(W), x)) * cr.sum(x**2))
    x = rng_for(16).standard_normal(4)
    counter = PassCounter(monkeypatch)
    J = cr.jacobian(f, mode="rev")(x)
    assert counter.backward == 1
    assert f.calls == 1
    np.testing.assert_allclose(values(J), cr.numerical_jacobian(f.f, x), **NUMERIC)


def test_reverse_jacobian_with_tuple_argnums_makes_one_backward_pass(monkeypatch):
    f = CountedCalls(lambda x, y: cr.outer(cr.sin(x), y) * 2.0)
    x, y = rng_for(17).standard_normal(3), rng_for(18).standard_normal(4)
    counter = PassCounter(monkeypatch)
    Jx, Jy = cr.jacobian(f, argnums=(0, 1), mode="rev")(x, y)
    assert counter.backward == 1 and f.calls == 1
    np.testing.assert_allclose(values(Jx), np.einsum("ik,j->ijk", np.diag(2 * np.cos(x)), y), **EXACT)
    np.testing.assert_allclose(values(Jy), np.einsum("i,jk->ijk", 2 * np.sin(x), np.eye(4)), **EXACT)


@pytest.mark.parametrize("argnums", [0, 1, (0, 1)], ids=str)
def test_forward_jacobian_calls_f_once_per_argnum(monkeypatch, argnums):
    f = CountedCalls(lambda x, y: cr.exp(x) * cr.sum(y**2))
    x, y = rng_for(19).standard_normal(5), rng_for(20).standard_normal(3)
    counter = PassCounter(monkeypatch)
    result = cr.jacobian(f, argnums=argnums, mode="fwd")(x, y)
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    assert f.calls == len(nums)
    assert counter.levels == len(nums)
    assert counter.backward == 0
    expected = {0: np.diag(np.exp(x)) * np.sum(y**2), 1: np.outer(np.exp(x), 2 * y)}
    for i, J in zip(nums, result if isinstance(argnums, tuple) else (result,)):
        np.testing.assert_allclose(values(J), expected[i], **EXACT)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 7, 100])
def test_chunked_reverse_jacobian_makes_ceil_m_over_k_backward_passes(monkeypatch, chunk_size):
    W = rng_for(21).standard_normal((7, 3))
    f = lambda x: cr.sin(cr.matmul(cr.tensor(W), x))
    x = rng_for(22).standard_normal(3)
    whole = cr.jacobian(f, mode="rev")(x)
    counter = PassCounter(monkeypatch)
    J = cr.jacobian(f, mode="rev", chunk_size=chunk_size)(x)
    assert counter.backward == math.ceil(7 / chunk_size)
    np.testing.assert_allclose(values(J), values(whole), **EXACT)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 7, 100])
def test_chunked_forward_jacobian_makes_ceil_n_over_k_forward_passes(monkeypatch, chunk_size):
    W = rng_for(23).standard_normal((3, 7))
    f = CountedCalls(lambda x: cr.sin(cr.matmul(cr.tensor(W), x)))
    x = rng_for(24).standard_normal(7)
    whole = cr.jacobian(f.f, mode="fwd")(x)
    counter = PassCounter(monkeypatch)
    J = cr.jacobian(f, mode="fwd", chunk_size=chunk_size)(x)
    assert f.calls == math.ceil(7 / chunk_size)
    assert counter.levels == math.ceil(7 / chunk_size)
    assert counter.backward == 0
    np.testing.assert_allclose(values(J), values(whole), **EXACT)


# ----------------------------------------------------------- layout, argnums, chunks
SHAPES = [(), (3,), (2, 3), (2, 1, 3)]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("out_shape", SHAPES, ids=str)
@pytest.mark.parametrize("in_shape", SHAPES, ids=str)
def test_jacobian_layout_is_output_shape_plus_input_shape(in_shape, out_shape, mode):
    W = rng_for(25).standard_normal(out_shape + in_shape)
    core = tuple(range(len(out_shape), W.ndim))

    def f(x):
        return cr.sin(cr.tensordot(cr.tensor(W), x, axes=(core, tuple(range(len(in_shape))))))

    x = rng_for(26).standard_normal(in_shape)
    J = cr.jacobian(f, mode=mode)(x)
    assert J.shape == out_shape + in_shape
    # d sin(Σ W[i, j] x[j]) / d x[j] = cos(z[i]) W[i, j]
    z = np.tensordot(W, x, axes=(core, tuple(range(len(in_shape)))))
    expected = np.cos(z).reshape(out_shape + (1,) * len(in_shape)) * W
    np.testing.assert_allclose(values(J), expected, **EXACT)
    np.testing.assert_allclose(values(J), cr.numerical_jacobian(f, x), **NUMERIC)


@pytest.mark.parametrize("mode", MODES)
def test_tuple_argnums_gives_one_jacobian_per_argument_in_argnums_order(mode):
    def f(a, x, B):
        return cr.sum(B * a, axis=0) * cr.exp(x)

    a, x, B = 1.5, rng_for(27).standard_normal(3), rng_for(28).standard_normal((2, 3))
    JB, Ja = cr.jacobian(f, argnums=(2, 0), mode=mode)(a, x, B)
    assert JB.shape == (3, 2, 3) and Ja.shape == (3,)
    np.testing.assert_allclose(values(Ja), B.sum(axis=0) * np.exp(x), **EXACT)
    expected_B = np.einsum("j,jl,k->jkl", a * np.exp(x), np.eye(3), np.ones(2))
    np.testing.assert_allclose(values(JB), expected_B, **EXACT)
    (Jx,) = cr.jacobian(f, argnums=(1,), mode=mode)(a, x, B)
    np.testing.assert_allclose(values(Jx), np.diag(B.sum(axis=0) * a * np.exp(x)), **EXACT)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 6, 50])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_chunked_jacobian_equals_one_pass_and_reports_progress(mode, chunk_size):
    W = rng_for(29).standard_normal((2, 3, 5))
    f = lambda x: cr.tanh(cr.matmul(cr.tensor(W), x)) * x[0]
    x = rng_for(30).standard_normal(5)
    whole = cr.jacobian(f, mode=mode)(x)
    reports = []
    J = cr.jacobian(
        f, mode=mode, chunk_size=chunk_size, progress=lambda done, total: reports.append((done, total))
    )(x)
    np.testing.assert_allclose(values(J), values(whole), **EXACT)
    total = 6 if mode == "rev" else 5  # cotangents for rev (out.size), tangents for fwd (x.size)
    steps = math.ceil(total / chunk_size)
    assert reports == [(min((k + 1) * chunk_size, total), total) for k in range(steps)]


def test_one_pass_jacobian_reports_progress_once():
    reports = []
    cr.jacobian(cr.sin, mode="rev", progress=lambda done, total: reports.append((done, total)))(
        np.ones((2, 2))
    )
    assert reports == [(4, 4)]


@pytest.mark.parametrize("mode", ["backward", "forward", "", None, "REV"])
def test_bad_mode_raises_value_error(mode):
    with pytest.raises(ValueError, match="mode"):
        cr.jacobian(cr.sin, mode=mode)


@pytest.mark.parametrize("chunk_size", [0, -1, 1.5, "2"])
def test_bad_chunk_size_raises_value_error(chunk_size):
    with pytest.raises(ValueError, match="chunk_size"):
        cr.jacobian(cr.sin, chunk_size=chunk_size)


EMPTY = {
    "empty-in-empty-out": (cr.sin, (0,), (0,)),
    "empty-in-full-out": (lambda x: cr.sum(x) * cr.ones(3), (0,), (3,)),
    "full-in-empty-out": (lambda x: x[:0] * 2.0, (3,), (0,)),
    "2d-full-in-empty-out": (lambda x: cr.exp(x[:, 1:1]), (2, 3), (2, 0)),
}


@pytest.mark.parametrize("chunk_size", [None, 2])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", sorted(EMPTY))
def test_jacobian_with_a_size_zero_input_or_output_is_empty(case, mode, chunk_size):
    f, in_shape, out_shape = EMPTY[case]
    J = cr.jacobian(f, mode=mode, chunk_size=chunk_size)(np.ones(in_shape))
    assert J.shape == out_shape + in_shape


# ----------------------------------------------------------- Hessians
def test_hessian_of_quadratic_form_is_A_plus_A_transpose():
    A = rng_for(31).standard_normal((4, 4))
    f = lambda x: cr.dot(x, cr.matmul(cr.tensor(A), x))
    for seed in (32, 33):
        H = cr.hessian(f)(rng_for(seed).standard_normal(4))
        np.testing.assert_allclose(values(H), A + A.T, **EXACT)


def test_hessian_of_logsumexp_Ax_is_AT_diag_p_minus_ppT_A():
    A = rng_for(34).standard_normal((5, 3))
    x = rng_for(35).standard_normal(3)
    f = lambda x: cr.logsumexp(cr.matmul(cr.tensor(A), x))
    p = np_softmax(A @ x)
    expected = A.T @ (np.diag(p) - np.outer(p, p)) @ A
    np.testing.assert_allclose(values(cr.hessian(f)(x)), expected, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("x", [2.0, -0.5, 0.0])
def test_hessian_of_cube_is_6x(x):
    assert float(cr.hessian(lambda x: x**3)(x)) == pytest.approx(6 * x, abs=1e-12)


def test_hessian_of_sum_of_cubes_is_diagonal_6x():
    x = rng_for(36).standard_normal(4)
    H = cr.hessian(lambda x: cr.sum(x**3))(x)
    np.testing.assert_allclose(values(H), np.diag(6 * x), **EXACT)


def test_hessian_of_matrix_input_has_shape_x_shape_twice():
    X = rng_for(37).standard_normal((2, 3))
    H = cr.hessian(lambda X: cr.sum(X**3))(X)
    assert H.shape == (2, 3, 2, 3)
    expected = np.einsum("ij,ik,jl->ijkl", 6 * X, np.eye(2), np.eye(3))
    np.testing.assert_allclose(values(H), expected, **EXACT)


def test_hessian_equals_jacobian_of_grad_and_central_differences_of_grad():
    A = rng_for(38).standard_normal((4, 3))
    f = lambda x: cr.logsumexp(cr.matmul(cr.tensor(A), x)) + cr.sum(cr.sin(x) * x**2)
    x = rng_for(39).standard_normal(3)
    H = values(cr.hessian(f)(x))
    for mode in MODES:
        np.testing.assert_allclose(values(cr.jacobian(cr.grad(f), mode=mode)(x)), H, **EXACT)
    np.testing.assert_allclose(H, cr.numerical_jacobian(cr.grad(f), x), **NUMERIC)
    np.testing.assert_allclose(H, H.T, **EXACT)


def test_hessian_with_respect_to_second_argument():
    a, x = 2.0, np.array([1.0, -2.0])
    H = cr.hessian(lambda a, x: cr.sum(a * x**3), argnums=1)(a, x)
    np.testing.assert_allclose(values(H), np.diag(6 * a * x), **EXACT)


def test_hessian_with_tuple_argnums_gives_blocks_per_pair_of_arguments():
    """As in JAX: H[i][j] = d²f / d args[i] d args[j], shaped args[i].shape + args[j].shape."""
    a, x = 2.0, np.array([1.0, -2.0])
    H = cr.hessian(lambda a, x: cr.sum(a * x**3), argnums=(0, 1))(a, x)
    assert float(H[0][0]) == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(values(H[0][1]), 3 * x**2, **EXACT)
    np.testing.assert_allclose(values(H[1][0]), 3 * x**2, **EXACT)
    np.testing.assert_allclose(values(H[1][1]), np.diag(6 * a * x), **EXACT)


# ----------------------------------------------------------- directional derivative
def _directional_case():
    x = np.array([0.3, -1.2, 2.0])
    v = np.array([1.0, 2.0, -2.0])  # |v| = 3
    f = lambda x: cr.sum(cr.exp(x) * x) + x[0] * x[1]
    return f, x, v


def test_directional_derivative_is_gradient_dot_unit_direction():
    f, x, v = _directional_case()
    gradient = (x + 1) * np.exp(x) + np.array([x[1], x[0], 0.0])
    slope = cr.directional_derivative(f, x, v)
    assert isinstance(slope, cr.Tensor) and slope.shape == ()
    assert float(slope) == pytest.approx(gradient @ v / 3.0, rel=1e-12)
    assert float(slope) == pytest.approx(float(values(cr.grad(f)(x)) @ v) / np.linalg.norm(v), rel=1e-12)


def test_directional_derivative_matches_central_difference_along_unit_direction():
    f, x, v = _directional_case()
    u, h = v / np.linalg.norm(v), 1e-5
    numeric = (float(f(cr.tensor(x + h * u))) - float(f(cr.tensor(x - h * u)))) / (2 * h)
    assert float(cr.directional_derivative(f, x, v)) == pytest.approx(numeric, rel=1e-8)


def test_directional_derivative_does_not_depend_on_length_of_v():
    f, x, v = _directional_case()
    short = float(cr.directional_derivative(f, cr.tensor(x), cr.tensor(v)))
    assert float(cr.directional_derivative(f, x, 0.01 * v)) == pytest.approx(short, rel=1e-12)
    assert float(cr.directional_derivative(f, x, 40.0 * v)) == pytest.approx(short, rel=1e-12)


def test_directional_derivative_along_zero_vector_raises_value_error():
    f, x, _ = _directional_case()
    with pytest.raises(ValueError, match="non-zero"):
        cr.directional_derivative(f, x, np.zeros(3))


def test_directional_derivative_with_v_of_other_shape_raises_value_error():
    f, x, _ = _directional_case()
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        cr.directional_derivative(f, x, np.ones(2))


# ----------------------------------------------------------- composition
def D(f):
    """The derivative of a scalar function of one scalar, by forward mode."""
    return lambda x: cr.jvp(f, (x,), (1.0,))[1]


DERIVATIVES = {"grad": cr.grad, "jvp": D}


@pytest.mark.parametrize("x", [0.0, 0.3, -1.7, 2.5])
def test_third_derivative_of_sin_by_grad_of_grad_of_grad_is_minus_cos(x):
    assert float(cr.grad(cr.grad(cr.grad(cr.sin)))(x)) == pytest.approx(-np.cos(x), abs=1e-12)


@pytest.mark.parametrize("x", [0.3, -1.7])
def test_fourth_derivative_of_sin_mixing_grad_and_jvp_is_sin(x):
    assert float(D(cr.grad(D(cr.grad(cr.sin))))(x)) == pytest.approx(np.sin(x), abs=1e-12)


@pytest.mark.parametrize(("outer", "inner"), [("fwd", "rev"), ("rev", "rev"), ("fwd", "fwd"), ("rev", "fwd")])
def test_jacobian_of_jacobian_equals_hessian(outer, inner):
    A = rng_for(40).standard_normal((4, 3))
    f = lambda x: cr.logsumexp(cr.matmul(cr.tensor(A), x)) + cr.sum(cr.sin(x) * x**2)
    x = rng_for(41).standard_normal(3)
    JJ = cr.jacobian(cr.jacobian(f, mode=inner), mode=outer)(x)
    assert JJ.shape == (3, 3)
    np.testing.assert_allclose(values(JJ), values(cr.hessian(f)(x)), **EXACT)


@pytest.mark.parametrize(("outer", "inner"), [("fwd", "rev"), ("rev", "fwd")])
@pytest.mark.parametrize(("outer_chunk", "inner_chunk"), [(1, 2), (2, 1), (None, 2), (2, None)])
def test_chunked_jacobian_of_chunked_jacobian_equals_hessian(outer, inner, outer_chunk, inner_chunk):
    A = rng_for(51).standard_normal((4, 3))
    f = lambda x: cr.logsumexp(cr.matmul(cr.tensor(A), x)) + cr.sum(cr.sin(x) * x**2)
    x = rng_for(52).standard_normal(3)
    JJ = cr.jacobian(cr.jacobian(f, mode=inner, chunk_size=inner_chunk), mode=outer, chunk_size=outer_chunk)(
        x
    )
    np.testing.assert_allclose(values(JJ), values(cr.hessian(f)(x)), **EXACT)


@pytest.mark.parametrize("chunk_size", [None, 1])
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jvp_and_grad_of_a_jacobian_differentiate_it_again(mode, chunk_size):
    """J(x) = diag(cos x) for sin: along v it changes by diag(-sin x · v); ∇ Σ J = -sin x."""
    x, v = np.array([0.3, 1.2, -0.4]), np.array([1.0, 2.0, 3.0])
    jac = cr.jacobian(cr.sin, mode=mode, chunk_size=chunk_size)
    _, dJ = cr.jvp(jac, (x,), (v,))
    np.testing.assert_allclose(values(dJ), np.diag(-np.sin(x) * v), **EXACT)
    np.testing.assert_allclose(values(cr.grad(lambda x: cr.sum(jac(x)))(x)), -np.sin(x), **EXACT)


def test_hessian_is_differentiable_in_a_closed_over_variable():
    """H(a) = a²·diag(6x) for a²·Σx³: dH/da = 2a·diag(6x)."""
    x = np.array([0.3, 1.2, -0.4])
    H = lambda a: cr.hessian(lambda x: a**2 * cr.sum(x**3))(x)
    _, dH = cr.jvp(H, (2.0,), (1.0,))
    np.testing.assert_allclose(values(dH), np.diag(4 * 6 * x), **EXACT)
    assert float(cr.grad(lambda a: cr.sum(H(a)))(2.0)) == pytest.approx(4 * 6 * x.sum(), rel=1e-12)


def test_grad_of_function_that_calls_jvp_is_hessian_times_direction():
    """g(x) = ∇f(x)·v by jvp; ∇g = H v. For f = Σ x sin x, H = diag(2 cos x - x sin x)."""
    v = np.array([0.5, -1.0, 2.0])
    f = lambda x: cr.sum(x * cr.sin(x))

    def g(x):
        _, tangent = cr.jvp(f, (x,), (v,))
        return tangent

    x = rng_for(42).standard_normal(3)
    expected = (2 * np.cos(x) - x * np.sin(x)) * v
    np.testing.assert_allclose(values(cr.grad(g)(x)), expected, **EXACT)
    np.testing.assert_allclose(values(cr.grad(g)(x)), cr.numerical_grad(g, x), **NUMERIC)


def test_jvp_of_grad_is_hessian_times_tangent():
    A = rng_for(43).standard_normal((4, 3))
    f = lambda x: cr.logsumexp(cr.matmul(cr.tensor(A), x))
    x, v = rng_for(44).standard_normal(3), rng_for(45).standard_normal(3)
    p = np_softmax(A @ x)
    out, hv = cr.jvp(cr.grad(f), (x,), (v,))
    np.testing.assert_allclose(values(out), A.T @ p, **EXACT)
    np.testing.assert_allclose(values(hv), A.T @ (np.diag(p) - np.outer(p, p)) @ A @ v, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("outer", sorted(DERIVATIVES))
@pytest.mark.parametrize("inner", sorted(DERIVATIVES))
def test_nested_derivatives_of_x_times_y_have_no_perturbation_confusion(outer, inner):
    """d/dx [d/dy (x·y) at y = c] = d/dx x = 1: the inner derivative must not see the
    outer perturbation of x."""
    Do, Di = DERIVATIVES[outer], DERIVATIVES[inner]
    a, c = 2.0, 3.0
    assert float(Do(lambda x: Di(lambda y: x * y)(c))(a)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("outer", sorted(DERIVATIVES))
@pytest.mark.parametrize("inner", sorted(DERIVATIVES))
def test_nested_derivatives_of_x_times_d_dy_x_plus_y_have_no_perturbation_confusion(outer, inner):
    """d/dx [x · d/dy (x + y) at y = 1] = d/dx x = 1 (a confused implementation gives 2)."""
    Do, Di = DERIVATIVES[outer], DERIVATIVES[inner]
    assert float(Do(lambda x: x * Di(lambda y: x + y)(1.0))(1.0)) == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize("outer", sorted(DERIVATIVES))
@pytest.mark.parametrize("inner", sorted(DERIVATIVES))
def test_nested_derivatives_give_mixed_partial_4xy_of_xy_squared(outer, inner):
    Do, Di = DERIVATIVES[outer], DERIVATIVES[inner]
    x, y = 2.0, 3.0
    assert float(Do(lambda x: Di(lambda y: (x * y) ** 2)(y))(x)) == pytest.approx(4 * x * y, rel=1e-12)


@pytest.mark.parametrize("levels", ["grad-grad-grad", "grad-jvp-grad", "jvp-grad-jvp", "jvp-jvp-jvp"])
def test_closures_over_outer_variables_at_three_levels(levels):
    """outer(a) = d/db [d/dc sin(a b c) at c = c0] at b = b0, differentiated in a.

    With k = b0 c0 and u = a k: d/dc sin(abc) = ab cos(abc); d/db of that at b0 is
    a cos u - a² k sin u; its derivative in a is (1 - a² k²) cos u - 3 a k sin u.
    """
    d1, d2, d3 = (DERIVATIVES[name] for name in ("grad" if s == "grad" else "jvp" for s in levels.split("-")))
    b0, c0 = 0.7, -1.3

    def outer(a):
        def middle(b):
            return d3(lambda c: cr.sin(a * b * c))(c0)

        return d2(middle)(b0)

    for a in (0.4, 1.1):
        k, u = b0 * c0, a * b0 * c0
        expected = (1 - a * a * k * k) * np.cos(u) - 3 * a * k * np.sin(u)
        assert float(d1(outer)(a)) == pytest.approx(expected, rel=1e-10)


def test_grad_of_closure_over_an_array_outside_all_transforms():
    w = rng_for(46).standard_normal(3)
    f = lambda x: cr.sum(cr.tensor(w) * cr.sin(x))
    gg = cr.grad(lambda s: cr.sum(cr.grad(f)(s * np.ones(3))))
    s = 0.4
    assert float(gg(s)) == pytest.approx(float(np.sum(-w * np.sin(s))), rel=1e-12)


# ----------------------------------------------------------- grad, value_and_grad, vjp
def test_value_and_grad_with_int_argnums_returns_value_and_gradient():
    f = lambda x, y: cr.sum(x**2 * y)
    x, y = np.array([1.0, -2.0, 3.0]), 0.5
    value, gradient = cr.value_and_grad(f)(x, y)
    assert float(value) == pytest.approx(np.sum(x**2) * y)
    np.testing.assert_allclose(values(gradient), 2 * x * y, **EXACT)
    value, gradient = cr.value_and_grad(f, argnums=1)(x, y)
    assert float(value) == pytest.approx(np.sum(x**2) * y)
    assert gradient.shape == () and float(gradient) == pytest.approx(np.sum(x**2))


def test_value_and_grad_with_tuple_argnums_returns_a_tuple_of_gradients():
    f = lambda x, y, z: cr.sum(x * cr.exp(z)) + y**3
    x, y, z = np.array([1.0, 2.0]), 1.5, np.array([0.3, -0.4])
    value, grads = cr.value_and_grad(f, argnums=(2, 0))(x, y, z)
    assert float(value) == pytest.approx(np.sum(x * np.exp(z)) + y**3)
    assert isinstance(grads, tuple) and len(grads) == 2
    np.testing.assert_allclose(values(grads[0]), x * np.exp(z), **EXACT)
    np.testing.assert_allclose(values(grads[1]), np.exp(z), **EXACT)
    (gy,) = cr.value_and_grad(f, argnums=(1,))(x, y, z)[1]
    assert float(gy) == pytest.approx(3 * y**2)


def test_grad_equals_central_differences_and_keeps_the_input_shape():
    f = lambda X: cr.sum(cr.tanh(X) ** 2) * cr.mean(X)
    X = rng_for(47).standard_normal((2, 3))
    g = cr.grad(f)(X)
    assert g.shape == X.shape
    np.testing.assert_allclose(values(g), cr.numerical_grad(f, X), **NUMERIC)


def test_grad_with_negative_argnums_counts_from_the_end():
    f = lambda x, y: x * y**2
    assert float(cr.grad(f, argnums=-1)(3.0, 2.0)) == pytest.approx(12.0)


def test_grad_of_function_returning_one_element_array_keeps_input_shape():
    g = cr.grad(lambda x: cr.reshape(cr.sum(x**2), (1, 1)))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(values(g), [2.0, 4.0], **EXACT)


def _vjp_case():
    A = rng_for(48).standard_normal((2, 3))
    f = lambda x: cr.sin(cr.matmul(cr.tensor(A), x))
    x = rng_for(49).standard_normal(3)
    J = np.cos(A @ x)[:, None] * A
    return f, x, J


def test_vjp_returns_value_and_cotangent_times_jacobian():
    f, x, J = _vjp_case()
    out, vjp_fn = cr.vjp(f, x)
    np.testing.assert_allclose(values(out), values(f(cr.tensor(x))), **EXACT)
    u = np.array([0.7, -1.1])
    (xbar,) = vjp_fn(u)
    np.testing.assert_allclose(values(xbar), u @ J, **EXACT)


def test_vjp_fn_can_be_called_many_times():
    f, x, J = _vjp_case()
    _, vjp_fn = cr.vjp(f, x)
    for u in (np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([2.0, -3.0]), np.array([1.0, 0.0])):
        (xbar,) = vjp_fn(u)
        np.testing.assert_allclose(values(xbar), u @ J, **EXACT)


def test_vjp_fn_inside_another_transform_differentiates_in_the_cotangent():
    """u ↦ Jᵀu is linear: its Jacobian is Jᵀ and ∇_u ⟨Jᵀu, w⟩ = J w."""
    f, x, J = _vjp_case()
    _, vjp_fn = cr.vjp(f, x)
    w = np.array([0.5, 2.0, -1.0])
    u = np.array([0.3, 0.9])
    np.testing.assert_allclose(
        values(cr.grad(lambda u: cr.sum(vjp_fn(u)[0] * cr.tensor(w)))(u)), J @ w, **EXACT
    )
    for mode in MODES:
        np.testing.assert_allclose(values(cr.jacobian(lambda u: vjp_fn(u)[0], mode=mode)(u)), J.T, **EXACT)


def test_vjp_inside_grad_is_differentiable_in_the_outer_variable():
    """h(s) = Σ_i d/dy_i (y_i² s) at y = (1, 2) with cotangent ones = Σ 2 y s = 6 s; h'(s) = 6."""

    def h(s):
        _, vjp_fn = cr.vjp(lambda y: y * y * s, np.array([1.0, 2.0]))
        (g,) = vjp_fn(np.ones(2))
        return cr.sum(g)

    assert float(cr.grad(h)(3.0)) == pytest.approx(6.0)
    assert float(D(h)(3.0)) == pytest.approx(6.0)


def test_vjp_with_several_primals_returns_one_cotangent_each():
    f = lambda x, W: cr.matmul(W, x)
    x, W = np.array([1.0, 2.0, 3.0]), rng_for(50).standard_normal((2, 3))
    out, vjp_fn = cr.vjp(f, x, W)
    u = np.array([1.5, -0.5])
    cotangents = vjp_fn(u)
    assert isinstance(cotangents, tuple) and len(cotangents) == 2
    np.testing.assert_allclose(values(cotangents[0]), W.T @ u, **EXACT)
    np.testing.assert_allclose(values(cotangents[1]), np.outer(u, x), **EXACT)


# ----------------------------------------------------------- inputs, outputs, zeros
INPUT_KINDS = {
    "float": lambda v: float(v),
    "ndarray": lambda v: np.asarray(v, dtype=np.float64),
    "tensor": lambda v: cr.tensor(v),
    "tensor-requiring-grad": lambda v: cr.tensor(v, requires_grad=True),
}
TRANSFORMS = {
    "grad": lambda f, x: cr.grad(f)(x),
    "value_and_grad": lambda f, x: cr.value_and_grad(f)(x)[1],
    "vjp": lambda f, x: cr.vjp(f, x)[1](1.0)[0],
    "jvp": lambda f, x: cr.jvp(f, (x,), (1.0,))[1],
    "jacobian-rev": lambda f, x: cr.jacobian(f, mode="rev")(x),
    "jacobian-fwd": lambda f, x: cr.jacobian(f, mode="fwd")(x),
    "jacobian-auto": lambda f, x: cr.jacobian(f)(x),
    "directional_derivative": lambda f, x: cr.directional_derivative(f, x, 1.0),
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@pytest.mark.parametrize("kind", sorted(INPUT_KINDS))
def test_transforms_accept_tensors_arrays_and_floats_and_return_tensors(kind, transform):
    x = INPUT_KINDS[kind](0.8)
    result = TRANSFORMS[transform](lambda x: x**3 + cr.sin(x), x)
    assert isinstance(result, cr.Tensor)
    assert result.shape == ()
    assert float(result) == pytest.approx(3 * 0.8**2 + np.cos(0.8), rel=1e-12)


@pytest.mark.parametrize("kind", sorted(INPUT_KINDS))
def test_hessian_accepts_tensors_arrays_and_floats_and_returns_a_tensor(kind):
    H = cr.hessian(lambda x: x**3 + cr.sin(x))(INPUT_KINDS[kind](0.8))
    assert isinstance(H, cr.Tensor)
    assert float(H) == pytest.approx(6 * 0.8 - np.sin(0.8), rel=1e-12)


def test_transforms_do_not_touch_grad_of_tensor_inputs():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    cr.grad(lambda x: cr.sum(x**2))(x)
    cr.jacobian(lambda x: x**2)(x)
    cr.hessian(lambda x: cr.sum(x**3))(x)
    assert x.grad is None


def test_grad_of_tensor_requiring_grad_is_differentiable_by_backward():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    g = cr.grad(lambda x: cr.sum(x**3))(x)  # 3x²
    cr.sum(g).backward()
    np.testing.assert_allclose(values(x.grad), 6 * x.data, **EXACT)


def test_unused_inputs_get_zeros_not_none():
    f = lambda x, y, z: cr.sum(cr.sin(x)) * 2.0
    x, y, z = np.array([0.1, 0.2]), np.ones((2, 3)), 4.0
    gx, gy, gz = cr.grad(f, argnums=(0, 1, 2))(x, y, z)
    np.testing.assert_allclose(values(gx), 2 * np.cos(x), **EXACT)
    assert isinstance(gy, cr.Tensor) and gy.shape == (2, 3) and not gy.data.any()
    assert isinstance(gz, cr.Tensor) and gz.shape == () and float(gz) == 0.0
    for mode in MODES:
        Jy, Jz = cr.jacobian(lambda x, y, z: cr.sin(x), argnums=(1, 2), mode=mode)(x, y, z)
        assert Jy.shape == (2, 2, 3) and not values(Jy).any()
        assert Jz.shape == (2,) and not values(Jz).any()
    _, vjp_fn = cr.vjp(f, x, y, z)
    cx, cy, cz = vjp_fn(1.0)
    assert cy.shape == (2, 3) and not values(cy).any() and float(cz) == 0.0


def test_jacobian_of_constant_function_is_zeros():
    for mode in MODES:
        J = cr.jacobian(lambda x: cr.ones((2, 2)), mode=mode)(np.ones(3))
        assert J.shape == (2, 2, 3) and not values(J).any()


PLAIN_RESULTS = {
    "grad": lambda: [cr.grad(lambda x: cr.sum(x**3))(np.ones(2))],
    "value_and_grad": lambda: list(cr.value_and_grad(lambda x: cr.sum(x**3))(np.ones(2))),
    "jacobian-rev": lambda: [cr.jacobian(lambda x: x**3, mode="rev")(np.ones(2))],
    "jacobian-fwd": lambda: [cr.jacobian(lambda x: x**3, mode="fwd")(np.ones(2))],
    "jvp": lambda: list(cr.jvp(lambda x: x**3, (np.ones(2),), (np.ones(2),))),
    "grad-of-grad": lambda: [cr.grad(cr.grad(lambda x: x**4))(2.0)],
    "hessian": lambda: [cr.hessian(lambda x: x**3)(2.0)],
    "hessian-of-vector": lambda: [cr.hessian(lambda x: cr.sum(x**3))(np.ones(2))],
    "jvp-of-grad": lambda: list(cr.jvp(cr.grad(lambda x: cr.sum(x**3)), (np.ones(2),), (np.ones(2),))),
    "jacobian-of-grad": lambda: [cr.jacobian(cr.grad(lambda x: cr.sum(x**3)))(np.ones(2))],
    "grad-of-grad-of-grad-closure": lambda: [
        cr.grad(lambda a: cr.grad(lambda b: cr.grad(lambda c: a * b * c * c)(2.0))(0.5))(1.3)
    ],
}


@pytest.mark.parametrize("case", sorted(PLAIN_RESULTS))
def test_results_for_plain_inputs_are_not_attached_to_a_graph(case):
    """Nothing outside a transform can differentiate what it returns for inputs that do
    not require grad, so the results are plain tensors (no grad_fn, no requires_grad)."""
    for t in PLAIN_RESULTS[case]():
        assert isinstance(t, cr.Tensor)
        assert t.grad_fn is None and not t.requires_grad, f"{case}: {t!r}"


# ----------------------------------------------------------- errors
@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad])
def test_grad_of_non_scalar_function_raises_type_error_naming_jacobian_vjp_and_shape(transform):
    with pytest.raises(TypeError) as caught:
        transform(lambda x: x * 2.0)(np.ones((2, 3)))
    message = str(caught.value)
    assert "jacobian" in message and "vjp" in message and "(2, 3)" in message


def test_vjp_cotangent_of_wrong_shape_raises_value_error_naming_both_shapes():
    _, vjp_fn = cr.vjp(lambda x: cr.outer(x, x), np.ones(3))
    with pytest.raises(ValueError) as caught:
        vjp_fn(np.ones((3, 4)))
    assert "(3, 4)" in str(caught.value) and "(3, 3)" in str(caught.value)
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 3\)"):
        vjp_fn(np.ones(3))


ARGNUM_USERS = {
    "grad": lambda argnums: cr.grad(lambda x, y: cr.sum(x * y), argnums=argnums),
    "value_and_grad": lambda argnums: cr.value_and_grad(lambda x, y: cr.sum(x * y), argnums=argnums),
    "jacobian-rev": lambda argnums: cr.jacobian(lambda x, y: x * y, argnums=argnums, mode="rev"),
    "jacobian-fwd": lambda argnums: cr.jacobian(lambda x, y: x * y, argnums=argnums, mode="fwd"),
    "jacobian-auto": lambda argnums: cr.jacobian(lambda x, y: x * y, argnums=argnums),
    "hessian": lambda argnums: cr.hessian(lambda x, y: cr.sum(x * y), argnums=argnums),
}


@pytest.mark.parametrize("argnums", [2, -3, (0, 2), (5,)], ids=str)
@pytest.mark.parametrize("transform", sorted(ARGNUM_USERS))
def test_argnums_out_of_range_raises_value_error(transform, argnums):
    fn = ARGNUM_USERS[transform](argnums)
    with pytest.raises(ValueError, match="argnums") as caught:
        fn(np.ones(2), np.ones(2))
    assert "2 argument" in str(caught.value)


@pytest.mark.parametrize("transform", [cr.grad, cr.value_and_grad])
def test_grad_with_respect_to_an_integer_input_raises_type_error(transform):
    with pytest.raises(TypeError, match="int"):
        transform(lambda x: cr.sum(x * 2))(np.array([1, 2]))


@pytest.mark.parametrize("mode", MODES)
def test_jacobian_with_respect_to_an_integer_input_raises_type_error_in_every_mode(mode):
    """Reverse mode refuses an integer input; forward mode must not instead cast the
    tangent basis to integers and return a Jacobian of the wrong dtype."""
    with pytest.raises(TypeError, match="int"):
        cr.jacobian(cr.sin, mode=mode)(np.array([1, 2]))
