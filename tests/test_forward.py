"""Forward mode: ``cr.jvp`` carries tangents with values, ṫ = J·t, in one pass.

Specified here: jvp against closed forms, against central differences and against
the reverse-mode Jacobian for every op of the derivative table; batched tangents
(leading axes) against separate calls; that forward mode builds no backward graph
for inputs that do not require grad; nested forward levels and forward over reverse.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
import chainrule.graph

from .optable import EXACT, NUMERIC, cases, flat_output, inputs_for, public_function, values

CASES = cases()
IDS = [f"{name}-{i}" for name, i in CASES]


pytestmark = pytest.mark.usefixtures("float64_default")


def rng_for(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def D(f):
    """f' for a scalar function of one scalar, by forward mode."""
    return lambda x: cr.jvp(f, (x,), (1.0,))[1]


# ----------------------------------------------------------- closed forms
@pytest.mark.parametrize(
    ("f", "slope"),
    [
        (cr.sin, np.cos),
        (cr.exp, np.exp),
        (cr.log, lambda x: 1 / x),
        (cr.sqrt, lambda x: 0.5 / np.sqrt(x)),
        (cr.tanh, lambda x: 1 - np.tanh(x) ** 2),
        (lambda x: x**3, lambda x: 3 * x**2),
    ],
    ids=["sin", "exp", "log", "sqrt", "tanh", "cube"],
)
def test_jvp_of_elementwise_function_is_derivative_times_tangent(f, slope):
    x = rng_for(1).uniform(0.3, 2.0, size=(2, 3))
    t = rng_for(2).standard_normal((2, 3))
    out, tangent = cr.jvp(f, (x,), (t,))
    np.testing.assert_allclose(values(out), values(f(cr.tensor(x))), **EXACT)
    np.testing.assert_allclose(values(tangent), slope(x) * t, **EXACT)


def test_jvp_of_W_times_x_is_W_times_tangent():
    W = rng_for(3).standard_normal((4, 3))
    x, t = rng_for(4).standard_normal(3), rng_for(5).standard_normal(3)
    out, tangent = cr.jvp(lambda x: cr.matmul(cr.tensor(W), x), (x,), (t,))
    np.testing.assert_allclose(values(out), W @ x, **EXACT)
    np.testing.assert_allclose(values(tangent), W @ t, **EXACT)


def test_jvp_of_3x2y_and_2x_plus_y8_is_jacobian_times_tangent():
    def f(x, y):
        return cr.stack([3 * x**2 * y, 2 * x + y**8])

    x, y, tx, ty = 1.2, -0.9, 0.4, -2.0
    _, tangent = cr.jvp(f, (x, y), (tx, ty))
    J = np.array([[6 * x * y, 3 * x**2], [2.0, 8 * y**7]])
    np.testing.assert_allclose(values(tangent), J @ [tx, ty], **EXACT)


def test_jvp_with_several_primals_adds_the_partial_products():
    """f = x·y + sin x: ṫ = (y + cos x)·tx + x·ty."""
    x, y = np.array([0.2, 1.4]), np.array([-1.0, 3.0])
    tx, ty = np.array([1.0, -0.5]), np.array([0.25, 2.0])
    _, tangent = cr.jvp(lambda x, y: x * y + cr.sin(x), (x, y), (tx, ty))
    np.testing.assert_allclose(values(tangent), (y + np.cos(x)) * tx + x * ty, **EXACT)


def test_jvp_with_a_zero_tangent_ignores_that_input():
    x, y = np.array([0.2, 1.4]), np.array([-1.0, 3.0])
    _, tangent = cr.jvp(lambda x, y: x * y + cr.sin(x), (x, y), (np.zeros(2), np.ones(2)))
    np.testing.assert_allclose(values(tangent), x, **EXACT)


def test_jvp_of_softmax_is_diag_p_minus_ppT_times_tangent():
    z, t = rng_for(6).standard_normal(5), rng_for(7).standard_normal(5)
    p = np.exp(z - z.max())
    p /= p.sum()
    _, tangent = cr.jvp(lambda z: cr.exp(z - cr.logsumexp(z)), (z,), (t,))
    np.testing.assert_allclose(values(tangent), (np.diag(p) - np.outer(p, p)) @ t, rtol=1e-9, atol=1e-12)


# ----------------------------------------------------------- every op of the table
def _op_case(name, index, seed=10):
    op, sample, arrays = inputs_for(name, index, np.float64)
    f = lambda *xs: flat_output(sample.run(public_function(op), *xs))
    rng = rng_for(seed)
    tangents = [rng.standard_normal(a.shape) for a in arrays]
    return f, arrays, tangents


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_jvp_equals_reverse_jacobian_times_tangent_for_every_op(name, index):
    f, arrays, tangents = _op_case(name, index)
    out, tangent = cr.jvp(f, arrays, tangents)
    np.testing.assert_allclose(values(out), values(f(*[cr.tensor(a) for a in arrays])), **EXACT)
    argnums = tuple(range(len(arrays)))
    jacobians = cr.jacobian(f, argnums=argnums, mode="rev")(*arrays)
    expected = sum(np.tensordot(values(J), t, axes=t.ndim) for J, t in zip(jacobians, tangents))
    assert tangent.shape == out.shape
    assert tangent.dtype == np.float64
    np.testing.assert_allclose(values(tangent), expected, **EXACT)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_jvp_matches_central_difference_along_the_tangent_for_every_op(name, index):
    f, arrays, tangents = _op_case(name, index)
    h = 1e-6
    up = f(*[cr.tensor(a + h * t) for a, t in zip(arrays, tangents)])
    down = f(*[cr.tensor(a - h * t) for a, t in zip(arrays, tangents)])
    _, tangent = cr.jvp(f, arrays, tangents)
    np.testing.assert_allclose(values(tangent), (values(up) - values(down)) / (2 * h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "index"), CASES, ids=IDS)
def test_jvp_with_batched_tangents_equals_separate_calls_for_every_op(name, index):
    f, arrays, _ = _op_case(name, index)
    rng = rng_for(11)
    stacked = [rng.standard_normal((4,) + a.shape) for a in arrays]
    out, together = cr.jvp(f, arrays, stacked)
    assert together.shape == (4,) + out.shape
    for k in range(4):
        _, alone = cr.jvp(f, arrays, [t[k] for t in stacked])
        np.testing.assert_allclose(values(together)[k], values(alone), **EXACT)


# ----------------------------------------------------------- batched tangents
def test_jvp_with_batched_tangents_equals_separate_calls():
    A = rng_for(12).standard_normal((2, 3))
    f = lambda x: cr.tanh(cr.matmul(cr.tensor(A), x)) * cr.sum(x) + cr.max(x)
    x = rng_for(13).standard_normal(3)
    V = rng_for(14).standard_normal((5, 3))
    out, T = cr.jvp(f, (x,), (V,))
    assert T.shape == (5, 2)
    np.testing.assert_allclose(values(out), values(f(cr.tensor(x))), **EXACT)
    for k in range(5):
        np.testing.assert_allclose(values(T)[k], values(cr.jvp(f, (x,), (V[k],))[1]), **EXACT)


def test_jvp_with_two_batch_axes_equals_separate_calls():
    f = lambda x, y: cr.sin(x) * y + cr.sum(x * x)
    x, y = rng_for(15).standard_normal(3), rng_for(16).standard_normal((2, 3))
    Tx, Ty = rng_for(17).standard_normal((2, 4, 3)), rng_for(18).standard_normal((2, 4, 2, 3))
    _, T = cr.jvp(f, (x, y), (Tx, Ty))
    assert T.shape == (2, 4, 2, 3)
    for i in range(2):
        for k in range(4):
            _, alone = cr.jvp(f, (x, y), (Tx[i, k], Ty[i, k]))
            np.testing.assert_allclose(values(T)[i, k], values(alone), **EXACT)


def test_jvp_with_identity_tangents_gives_the_transposed_jacobian():
    W = rng_for(19).standard_normal((4, 3))
    f = lambda x: cr.exp(cr.matmul(cr.tensor(W), x))
    x = rng_for(20).standard_normal(3)
    _, T = cr.jvp(f, (x,), (np.eye(3),))
    np.testing.assert_allclose(values(T).T, np.exp(W @ x)[:, None] * W, **EXACT)


def test_jvp_of_function_not_depending_on_input_gives_zero_tangent_of_batch_shape():
    out, tangent = cr.jvp(lambda x: cr.ones((2, 2)) * 3.0, (np.ones(3),), (np.ones((5, 3)),))
    assert tangent.shape == (5, 2, 2) and not values(tangent).any()
    out, tangent = cr.jvp(lambda x, y: x * 2.0, (np.ones(2), np.ones(3)), (np.zeros(2), np.ones(3)))
    assert tangent.shape == (2,) and not values(tangent).any()


# ----------------------------------------------------------- no backward graph
PLAIN_FUNCTIONS = {
    "sin": lambda x: cr.sin(x),
    "matmul-reduce": lambda x: cr.logsumexp(cr.matmul(cr.ones((2, 3)), x) * x[0]),
    "shape-ops": lambda x: cr.concatenate([cr.reshape(x, (3, 1)), cr.expand_dims(x[::-1], 1)], axis=1),
    "max-prod": lambda x: cr.max(x) * cr.prod(x) + cr.var(x),
}


@pytest.mark.parametrize("grad_mode", [True, False], ids=["grad-enabled", "no-grad"])
@pytest.mark.parametrize("name", sorted(PLAIN_FUNCTIONS))
def test_jvp_on_plain_inputs_builds_no_backward_graph(name, grad_mode):
    f = PLAIN_FUNCTIONS[name]
    x = cr.tensor([0.3, -1.2, 0.8])
    with cr.set_grad_enabled(grad_mode):
        out, tangent = cr.jvp(f, (x,), (np.array([1.0, 2.0, -1.0]),))
    for t in (out, tangent):
        assert t.grad_fn is None and not t.requires_grad
    assert not x.requires_grad and x.grad is None


def test_forward_jacobian_on_plain_inputs_runs_no_backward_pass(monkeypatch):
    calls = []
    backward = chainrule.graph.backward
    monkeypatch.setattr(chainrule.graph, "backward", lambda *a, **k: calls.append(1) or backward(*a, **k))
    x = np.array([0.3, -1.2, 0.8])
    J = cr.jacobian(lambda x: cr.sin(x) * cr.sum(x), mode="fwd")(x)
    assert calls == []
    assert J.grad_fn is None and not J.requires_grad
    expected = np.diag(np.cos(x)) * np.sum(x) + np.sin(x)[:, None]
    np.testing.assert_allclose(values(J), expected, **EXACT)


def test_jvp_leaves_its_primal_tensors_without_tangents():
    x = cr.tensor([0.5, 1.5])
    cr.jvp(cr.exp, (x,), (np.array([1.0, 1.0]),))
    _, tangent = cr.jvp(cr.exp, (x,), (np.array([0.0, 2.0]),))
    np.testing.assert_allclose(values(tangent), [0.0, 2 * np.exp(1.5)], **EXACT)
    # an ordinary reverse pass afterwards is not disturbed by forward mode
    assert float(cr.grad(lambda x: cr.sum(x**2))(x)[1]) == pytest.approx(3.0)
    assert not cr.grad(lambda x: cr.sum(x**2))(x).requires_grad


def test_error_inside_jvp_leaves_forward_mode_off():
    def failing(x):
        raise KeyError("inside f")

    with pytest.raises(KeyError):
        cr.jvp(failing, (1.0,), (1.0,))
    # with a forward level left open, this gradient would be recorded
    g = cr.grad(lambda x: x**2)(3.0)
    assert float(g) == 6.0 and not g.requires_grad


def test_jvp_tangent_is_differentiable_when_primal_requires_grad():
    """d/dx [cos(x)·1] = -sin x, by backward through the tangent jvp computed."""
    x = cr.tensor([0.2, 1.0, -0.7], requires_grad=True)
    _, tangent = cr.jvp(cr.sin, (x,), (np.ones(3),))
    np.testing.assert_allclose(values(tangent), np.cos(x.data), **EXACT)
    cr.sum(tangent).backward()
    np.testing.assert_allclose(values(x.grad), -np.sin(x.data), **EXACT)


# ----------------------------------------------------------- nesting and forward over reverse
@pytest.mark.parametrize("x", [0.0, 0.4, -2.1])
def test_nested_jvp_gives_second_and_third_derivatives(x):
    assert float(D(D(cr.sin))(x)) == pytest.approx(-np.sin(x), abs=1e-12)
    assert float(D(D(D(cr.sin)))(x)) == pytest.approx(-np.cos(x), abs=1e-12)
    assert float(D(D(D(lambda x: x**4)))(x)) == pytest.approx(24 * x, abs=1e-12)


def test_nested_jvp_has_no_perturbation_confusion():
    """d/dx [d/dy (x·y) at y = c] = 1, and d/dx [x · d/dy (x + y)] = 1."""
    assert float(D(lambda x: D(lambda y: x * y)(3.0))(2.0)) == pytest.approx(1.0, abs=1e-12)
    assert float(D(lambda x: x * D(lambda y: x + y)(1.0))(1.0)) == pytest.approx(1.0, abs=1e-12)


def test_forward_over_reverse_gives_hessian_vector_product():
    """f = Σ x·sin x has H = diag(2 cos x - x sin x); jvp(grad f) along v is H v."""
    x, v = rng_for(21).standard_normal(4), rng_for(22).standard_normal(4)
    f = lambda x: cr.sum(x * cr.sin(x))
    gradient, hv = cr.jvp(cr.grad(f), (x,), (v,))
    np.testing.assert_allclose(values(gradient), np.sin(x) + x * np.cos(x), **EXACT)
    np.testing.assert_allclose(values(hv), (2 * np.cos(x) - x * np.sin(x)) * v, **EXACT)


def test_forward_over_reverse_with_batched_tangents_gives_the_hessian():
    A = rng_for(23).standard_normal((3, 3))
    f = lambda x: cr.dot(x, cr.matmul(cr.tensor(A), x)) + cr.sum(cr.exp(x))
    x = rng_for(24).standard_normal(3)
    _, H = cr.jvp(cr.grad(f), (x,), (np.eye(3),))
    np.testing.assert_allclose(values(H), A + A.T + np.diag(np.exp(x)), **EXACT)
    np.testing.assert_allclose(values(cr.hessian(f)(x)), values(H).T, **EXACT)


def test_forward_over_reverse_hessian_matches_central_differences_of_gradient():
    f = lambda X: cr.sum(cr.tanh(X) * X**2) + cr.logsumexp(X)
    X = rng_for(25).standard_normal((2, 2))
    H = cr.hessian(f)(X)
    assert H.shape == (2, 2, 2, 2)
    np.testing.assert_allclose(values(H), cr.numerical_jacobian(cr.grad(f), X), **NUMERIC)


# ----------------------------------------------------------- dtypes and errors
def test_jvp_tangent_takes_the_dtype_of_its_primal():
    x32 = np.array([0.5, 1.0], dtype=np.float32)
    out, tangent = cr.jvp(cr.sin, (x32,), (np.array([1.0, 2.0]),))
    assert out.dtype == np.float32 and tangent.dtype == np.float32
    np.testing.assert_allclose(values(tangent), np.cos(x32) * [1.0, 2.0], rtol=1e-6)


def test_jvp_with_tangent_of_wrong_shape_raises_value_error_naming_both_shapes():
    with pytest.raises(ValueError, match=r"\(4,\).*\(3,\)"):
        cr.jvp(cr.sin, (np.ones(3),), (np.ones(4),))
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        cr.jvp(cr.sin, (np.ones((2, 3)),), (np.ones((3, 2)),))


def test_jvp_with_a_different_number_of_tangents_raises_value_error():
    with pytest.raises(ValueError, match="tangents"):
        cr.jvp(lambda x, y: x * y, (1.0, 2.0), (1.0,))


def test_jvp_with_an_integer_primal_raises_type_error_instead_of_truncating_the_tangent():
    """A tangent 0.5 cast to the primal's integer dtype would become 0: a wrong number."""
    with pytest.raises(TypeError, match="int"):
        cr.jvp(cr.sin, (1,), (0.5,))
    with pytest.raises(TypeError, match="int"):
        cr.jvp(cr.sin, (np.array([1, 2]),), (np.array([0.5, 0.5]),))


def test_directional_derivative_at_an_integer_point_raises_type_error():
    with pytest.raises(TypeError, match="int"):
        cr.directional_derivative(lambda x: cr.sum(cr.sin(x)), np.array([1, 2]), np.array([1.0, 1.0]))
