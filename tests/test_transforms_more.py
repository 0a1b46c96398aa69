"""Second derivatives of every shape and the arguments transforms leave alone.

Hessians of vector- and matrix-valued functions (``out.shape + x.shape + x.shape``, as
jax.hessian and torch.func.hessian), Hessian-vector products (forward over reverse,
as the JAX autodiff cookbook defines them), Hessians through a custom Function that
has only a reverse rule, and arguments outside ``argnums`` reaching f exactly as
given — all against closed forms.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from .optable import EXACT, values
from .test_transforms import PassCounter

pytestmark = pytest.mark.usefixtures("float64_default")

RNG = np.random.default_rng(2024)


# ----------------------------------------------------------- Hessians of non-scalar functions
def test_hessian_of_a_vector_function_stacks_the_hessian_of_each_output():
    """f(a, b) = (a²b, sin(a)·b³): H[0] = [[2b, 2a], [2a, 0]],
    H[1] = [[-sin(a)·b³, 3b²·cos a], [3b²·cos a, 6b·sin a]]."""
    a, b = 0.7, -1.3
    f = lambda v: cr.stack([v[0] ** 2 * v[1], cr.sin(v[0]) * v[1] ** 3])
    H = cr.hessian(f)(np.array([a, b]))
    assert H.shape == (2, 2, 2)
    expected = [
        [[2 * b, 2 * a], [2 * a, 0.0]],
        [[-np.sin(a) * b**3, 3 * b**2 * np.cos(a)], [3 * b**2 * np.cos(a), 6 * b * np.sin(a)]],
    ]
    np.testing.assert_allclose(values(H), expected, **EXACT)


def test_hessian_of_an_elementwise_cube_is_6x_on_the_triple_diagonal():
    x = RNG.standard_normal(3)
    H = cr.hessian(lambda x: x**3)(x)
    np.testing.assert_allclose(values(H), np.einsum("i,ij,ik->ijk", 6 * x, np.eye(3), np.eye(3)), **EXACT)


def test_hessian_of_a_matrix_square_has_shape_out_plus_x_plus_x():
    """(XX)_ij = Σ_k X_ik X_kj, so ∂²(XX)_ij / ∂X_ab ∂X_cd = δ_ia δ_bc δ_jd + δ_ic δ_ad δ_jb
    (constant in X)."""
    X = RNG.standard_normal((2, 2))
    H = cr.hessian(lambda X: cr.matmul(X, X))(X)
    assert H.shape == (2, 2, 2, 2, 2, 2)
    d = np.eye(2)
    expected = np.einsum("ia,bc,jd->ijabcd", d, d, d) + np.einsum("ic,ad,jb->ijabcd", d, d, d)
    np.testing.assert_allclose(values(H), expected, **EXACT)


def test_hessian_of_a_one_element_output_keeps_its_axis():
    x = RNG.standard_normal(3)
    H = cr.hessian(lambda x: cr.reshape(cr.sum(x**3), (1,)))(x)
    assert H.shape == (1, 3, 3)
    np.testing.assert_allclose(values(H)[0], np.diag(6 * x), **EXACT)


def test_hessian_of_a_vector_function_with_tuple_argnums_gives_blocks_per_pair():
    """out_i = a·x_i²: ∂²/∂a² = 0, ∂²/∂a∂x_j = 2x_i δ_ij, ∂²/∂x_j∂x_k = 2a δ_ij δ_ik."""
    a, x = 1.5, RNG.standard_normal(3)
    (Haa, Hax), (Hxa, Hxx) = cr.hessian(lambda a, x: a * x**2, argnums=(0, 1))(a, x)
    assert (Haa.shape, Hax.shape, Hxa.shape, Hxx.shape) == ((3,), (3, 3), (3, 3), (3, 3, 3))
    assert not values(Haa).any()
    np.testing.assert_allclose(values(Hax), np.diag(2 * x), **EXACT)
    np.testing.assert_allclose(values(Hxa), np.diag(2 * x), **EXACT)
    np.testing.assert_allclose(values(Hxx), np.einsum("ij,ik->ijk", 2 * a * np.eye(3), np.eye(3)), **EXACT)


def test_hessian_of_a_vector_function_is_one_forward_pass_over_one_reverse_pass(monkeypatch):
    W = RNG.standard_normal((4, 3))
    x = RNG.standard_normal(3)
    counter = PassCounter(monkeypatch)
    H = cr.hessian(lambda x: cr.tanh(cr.matmul(cr.tensor(W), x)))(x)
    assert counter.levels == 1 and counter.backward == 1
    t = np.tanh(W @ x)  # tanh'' = -2 tanh (1 - tanh²)
    np.testing.assert_allclose(values(H), np.einsum("i,ij,ik->ijk", -2 * t * (1 - t**2), W, W), **EXACT)


@pytest.mark.reference
def test_hessian_of_a_vector_function_agrees_with_torch_func():
    torch = pytest.importorskip("torch")
    W, x = RNG.standard_normal((4, 3)), RNG.standard_normal(3)
    ours = cr.hessian(lambda x: cr.sin(cr.matmul(cr.tensor(W), x)) * cr.sum(x**2))(x)
    theirs = torch.func.hessian(lambda x: torch.sin(torch.tensor(W) @ x) * (x**2).sum())(torch.tensor(x))
    np.testing.assert_allclose(values(ours), theirs.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------- Hessian-vector products
def test_hvp_of_sum_x_sin_x_is_diagonal_hessian_times_v():
    """f = Σ x sin x: H = diag(2 cos x - x sin x)."""
    x, v = RNG.standard_normal(4), RNG.standard_normal(4)
    hv = cr.hvp(lambda x: cr.sum(x * cr.sin(x)), (x,), (v,))
    assert isinstance(hv, cr.Tensor) and hv.shape == (4,)
    np.testing.assert_allclose(values(hv), (2 * np.cos(x) - x * np.sin(x)) * v, **EXACT)


def test_hvp_of_logsumexp_Ax_is_AT_diag_p_minus_ppT_A_v():
    A = RNG.standard_normal((5, 3))
    x, v = RNG.standard_normal(3), RNG.standard_normal(3)
    e = np.exp(A @ x - (A @ x).max())
    p = e / e.sum()
    hv = cr.hvp(lambda x: cr.logsumexp(cr.matmul(cr.tensor(A), x)), (x,), (v,))
    np.testing.assert_allclose(values(hv), A.T @ (np.diag(p) - np.outer(p, p)) @ A @ v, rtol=1e-9, atol=1e-12)


def test_hvp_with_several_primals_gives_one_block_row_product_per_primal():
    """f = Σ x²y: H_xx = diag(2y), H_xy = H_yx = diag(2x), H_yy = 0, so
    H·(u, w) = (2y·u + 2x·w, 2x·u)."""
    x, y, u, w = (RNG.standard_normal(3) for _ in range(4))
    hx, hy = cr.hvp(lambda x, y: cr.sum(x**2 * y), (x, y), (u, w))
    np.testing.assert_allclose(values(hx), 2 * y * u + 2 * x * w, **EXACT)
    np.testing.assert_allclose(values(hy), 2 * x * u, **EXACT)


def test_hvp_is_one_forward_pass_over_one_reverse_pass_without_forming_the_hessian(monkeypatch):
    x, v = RNG.standard_normal(50), RNG.standard_normal(50)
    counter = PassCounter(monkeypatch)
    hv = cr.hvp(lambda x: cr.sum(x**4), (x,), (v,))
    assert counter.levels == 1 and counter.backward == 1
    np.testing.assert_allclose(values(hv), 12 * x**2 * v, **EXACT)


def test_hvp_with_batched_tangents_gives_one_product_per_direction():
    x, V = RNG.standard_normal(3), RNG.standard_normal((2, 3))
    HV = cr.hvp(lambda x: cr.sum(x**4), (x,), (V,))
    np.testing.assert_allclose(values(HV), 12 * x**2 * V, **EXACT)


def test_hvp_is_exported():
    assert "hvp" in cr.__all__ and cr.hvp is cr.transforms.hvp


@pytest.mark.reference
def test_hvp_agrees_with_torch_func_jvp_of_grad():
    torch = pytest.importorskip("torch")
    A, x, v = RNG.standard_normal((4, 3)), RNG.standard_normal(3), RNG.standard_normal(3)
    ours = cr.hvp(lambda x: cr.sum(cr.tanh(cr.matmul(cr.tensor(A), x)) ** 2), (x,), (v,))
    f = lambda x: (torch.tanh(torch.tensor(A) @ x) ** 2).sum()
    _, theirs = torch.func.jvp(torch.func.grad(f), (torch.tensor(x),), (torch.tensor(v),))
    np.testing.assert_allclose(values(ours), theirs.numpy(), rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------- arguments outside argnums
EXTRAS = {
    "step": 3,
    "activation": cr.sin,
    "label": "layer-1",
    "ragged": (np.ones(2), np.ones(3)),
    "nothing": None,
    "options": {"scale": 0.5},
    "weights": cr.tensor([1.0, 2.0]),
}


def _with_extras(received: dict):
    """f(step, x, activation, label, ragged, nothing, options, weights) = step·scale·Σ wᵢ·act(xᵢ),
    recording what it was given."""

    def f(step, x, activation, label, ragged, nothing, options, weights):
        received.update(
            step=step,
            activation=activation,
            label=label,
            ragged=ragged,
            nothing=nothing,
            options=options,
            weights=weights,
        )
        assert len(ragged[1]) == 3 and label.startswith("layer")
        return step * options["scale"] * cr.sum(weights * activation(x))

    return f


TRANSFORMS = {  # each at x, with closed form from s = step·scale, w = weights
    "grad": (lambda f, args: cr.grad(f, argnums=1)(*args), lambda x, s, w: s * w * np.cos(x)),
    "value_and_grad": (
        lambda f, args: cr.value_and_grad(f, argnums=1)(*args)[1],
        lambda x, s, w: s * w * np.cos(x),
    ),
    "jacobian-rev": (
        lambda f, args: cr.jacobian(f, argnums=1, mode="rev")(*args),
        lambda x, s, w: s * w * np.cos(x),
    ),
    "jacobian-fwd": (
        lambda f, args: cr.jacobian(f, argnums=1, mode="fwd")(*args),
        lambda x, s, w: s * w * np.cos(x),
    ),
    "jacobian-auto": (lambda f, args: cr.jacobian(f, argnums=1)(*args), lambda x, s, w: s * w * np.cos(x)),
    "hessian": (lambda f, args: cr.hessian(f, argnums=1)(*args), lambda x, s, w: np.diag(-s * w * np.sin(x))),
}


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_arguments_outside_argnums_reach_f_exactly_as_given(transform):
    run, expected = TRANSFORMS[transform]
    received: dict = {}
    x = np.array([0.3, -1.1])
    args = (EXTRAS["step"], x, *(EXTRAS[name] for name in list(EXTRAS)[1:]))
    result = run(_with_extras(received), args)
    for name, given in EXTRAS.items():
        assert received[name] is given, f"{transform}: {name} arrived as {received[name]!r}"
    np.testing.assert_allclose(values(result), expected(x, 3 * 0.5, EXTRAS["weights"].data), **EXACT)


def test_an_int_loop_counter_stays_an_int_for_python_control_flow():
    def f(x, n):
        assert type(n) is int
        for _ in range(n):
            x = cr.sin(x)
        return x

    x = 0.4
    expected = np.cos(x) * np.cos(np.sin(x))  # d/dx sin(sin x)
    assert float(cr.grad(f)(x, 2)) == pytest.approx(expected, rel=1e-12)
    assert float(cr.jacobian(f, mode="fwd")(x, 2)) == pytest.approx(expected, rel=1e-12)


# ----------------------------------------------------------- custom Functions without jvp
class Cube(cr.Function):
    """x³ with a hand-written backward and no forward-mode rule."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


def test_hessian_through_a_function_without_jvp_is_reverse_over_reverse():
    x = RNG.standard_normal(3)
    H = cr.hessian(lambda x: cr.sum(Cube.apply(x)))(x)
    np.testing.assert_allclose(values(H), np.diag(6 * x), **EXACT)
    H = cr.hessian(Cube.apply)(x)
    np.testing.assert_allclose(values(H), np.einsum("i,ij,ik->ijk", 6 * x, np.eye(3), np.eye(3)), **EXACT)


def test_hessian_of_a_composition_with_a_function_without_jvp():
    """d²/dx² sin(x³) = 6x·cos(x³) - 9x⁴·sin(x³)."""
    x = RNG.standard_normal(3)
    H = cr.hessian(lambda x: cr.sum(cr.sin(Cube.apply(x))))(x)
    np.testing.assert_allclose(values(H), np.diag(6 * x * np.cos(x**3) - 9 * x**4 * np.sin(x**3)), **EXACT)


def test_hessian_blocks_through_a_function_without_jvp():
    """f = a·Σ x³: H_aa = 0, H_ax = H_xa = 3x², H_xx = diag(6a·x)."""
    a, x = 2.0, RNG.standard_normal(3)
    (Haa, Hax), (Hxa, Hxx) = cr.hessian(lambda a, x: a * cr.sum(Cube.apply(x)), argnums=(0, 1))(a, x)
    assert float(Haa) == 0.0
    np.testing.assert_allclose(values(Hax), 3 * x**2, **EXACT)
    np.testing.assert_allclose(values(Hxa), 3 * x**2, **EXACT)
    np.testing.assert_allclose(values(Hxx), np.diag(6 * a * x), **EXACT)


def test_auto_jacobian_through_a_function_without_jvp_is_reverse_mode(monkeypatch):
    """Fewer inputs than outputs would pick forward mode; the Function allows only reverse:
    J of W·x³ is W·diag(3x²)."""
    W, x = RNG.standard_normal((5, 2)), RNG.standard_normal(2)
    counter = PassCounter(monkeypatch)
    J = cr.jacobian(lambda x: cr.matmul(cr.tensor(W), Cube.apply(x)))(x)
    assert counter.levels == 0
    np.testing.assert_allclose(values(J), W * 3 * x**2, **EXACT)


def test_hessian_is_forward_over_reverse_when_the_function_does_not_depend_on_x(monkeypatch):
    c, x = np.array([1.5, -2.0]), RNG.standard_normal(2)
    counter = PassCounter(monkeypatch)
    H = cr.hessian(lambda x: cr.sum(x**2 * Cube.apply(cr.tensor(c))))(x)
    assert counter.levels == 1
    np.testing.assert_allclose(values(H), np.diag(2 * c**3), **EXACT)


def test_hessian_reraises_the_error_of_f_itself():
    def f(x):
        raise RuntimeError("f failed on its own")

    with pytest.raises(RuntimeError, match="f failed on its own"):
        cr.hessian(f)(np.ones(2))


def test_hvp_through_a_function_without_jvp_raises_instead_of_returning_a_number():
    with pytest.raises(RuntimeError, match="Cube"):
        cr.hvp(lambda x: cr.sum(Cube.apply(x)), (np.ones(2),), (np.ones(2),))
