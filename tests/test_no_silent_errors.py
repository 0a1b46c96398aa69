"""Cases that once gave a plausible wrong number: each is now right (as PyTorch or NumPy)
or refused with an exception that says what to do."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr
from chainrule.basis import StackedDiagonal


# ------------------------------------------------------------------ dtypes
def test_an_explicit_float64_dtype_never_goes_through_float32():
    assert cr.tensor(0.1, dtype="float64").item() == 0.1
    assert cr.tensor([0.1, 0.7], dtype=np.float64).tolist() == [0.1, 0.7]
    assert cr.tensor(np.float32(0.1), dtype="float64").item() == float(np.float32(0.1))


@pytest.mark.parametrize(
    "make",
    [
        lambda: cr.tensor(1 + 2j),
        lambda: cr.tensor(np.array([1j, 2.0])),
        lambda: cr.tensor([1.0], dtype=np.complex128),
        lambda: cr.exp(np.array([1j])),
        lambda: cr.tensor([1.0]) + 1j,
        lambda: cr.tensor([1.0]) * np.array([1 + 1j]),
    ],
    ids=["scalar", "array", "dtype", "function", "python-operand", "ndarray-operand"],
)
def test_complex_input_is_refused_until_complex_support_exists(make):
    with pytest.raises(TypeError, match="complex"):
        make()


@pytest.mark.parametrize("data", [np.array(["a", "b"]), np.array([1.0, None], dtype=object), "1.0", [b"x"]])
def test_strings_and_objects_are_refused(data):
    with pytest.raises(TypeError):
        cr.tensor(data)


def test_sigmoid_of_unsigned_integers_is_computed_in_the_default_float():
    out = cr.sigmoid(cr.tensor(np.array([0, 1, 2], dtype=np.uint8)))
    assert out.dtype == cr.get_default_dtype()
    assert_allclose(out.numpy(), [0.5, 0.7310586, 0.8807971], rtol=1e-6)


@pytest.mark.parametrize(
    "fn",
    [
        cr.exp,
        cr.sqrt,
        cr.sin,
        cr.tanh,
        cr.softplus,
        lambda t: cr.mean(t),
        lambda t: t / 2,
        lambda t: cr.logsumexp(t),
    ],
)
@pytest.mark.parametrize("dtype", [np.uint8, np.bool_, np.int8, np.int64])
def test_integer_and_bool_inputs_of_floating_ops_become_the_default_float(fn, dtype):
    values = np.array([0, 1, 1], dtype=dtype)
    out = fn(cr.tensor(values))
    assert out.dtype == cr.get_default_dtype()
    expected = np.asarray(fn(cr.tensor(values.astype(np.float64))).numpy())
    assert_allclose(out.numpy(), expected, rtol=1e-6)


def test_ops_that_keep_integers_still_do():
    t = cr.tensor(np.array([-1, 2], dtype=np.int64))
    assert cr.abs(t).dtype == np.int64 and (t + 1).dtype == np.int64 and cr.relu(t).dtype == np.int64


# ------------------------------------------------------------------ several outputs
def test_backward_of_several_tensors_sums_their_gradients():
    x = cr.tensor(2.0, dtype=np.float64, requires_grad=True)
    cr.autograd.backward([x**2, 5 * x])
    assert float(x.grad) == 9.0  # 2x + 5 at x = 2, as torch.autograd.backward


def test_backward_of_several_tensors_takes_one_seed_each():
    x = cr.tensor([1.0, 2.0], dtype=np.float64, requires_grad=True)
    cr.autograd.backward([x * 3, x.sum()], [np.array([1.0, 10.0]), None])
    assert_array_equal(x.grad.numpy(), [4.0, 31.0])


def test_a_seed_list_of_the_wrong_length_is_refused():
    x = cr.tensor(2.0, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad_outputs has 1 entries but outputs has 2"):
        cr.autograd.grad([x**2, x * 3], x, grad_outputs=[cr.tensor(1.0)])
    with pytest.raises(RuntimeError, match="grad_tensors has 2 entries but tensors has 1"):
        cr.autograd.backward([x**2], [None, None])
    assert x.grad is None


# ------------------------------------------------------------------ custom Functions
class Outer(cr.Function):
    """x ↦ x xᵀ: the output (n, n) has another shape than the input (n,)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.tensor(np.outer(x.data, x.data))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return cr.matmul(g + cr.transpose(g), x)


def outer_jacobian(x):
    """d(x_i x_j)/dx_k = δ_ik x_j + x_i δ_jk."""
    n = x.size
    eye = np.eye(n)
    return np.einsum("ik,j->ijk", eye, x) + np.einsum("i,jk->ijk", x, eye)


X = np.array([1.0, 2.0, 3.0])


def test_a_function_that_changes_the_shape_passes_gradcheck():
    assert cr.gradcheck(Outer.apply, (cr.tensor(X, requires_grad=True),))


@pytest.mark.parametrize("mode", ["rev", "auto"])
def test_jacobian_through_a_function_that_changes_the_shape(mode):
    J = cr.jacobian(Outer.apply, mode=mode)(cr.tensor(X))
    assert_allclose(J.numpy(), outer_jacobian(X))


def test_jacobian_of_the_gradient_through_a_function_that_changes_the_shape():
    # f = Σ x xᵀ = (Σx)², ∇f = 2 Σx · 1, its Jacobian 2 · 11ᵀ
    H = cr.jacobian(cr.grad(lambda v: Outer.apply(v).sum()))(cr.tensor(X))
    assert_allclose(H.numpy(), np.full((3, 3), 2.0))


def test_forward_mode_through_a_function_is_refused_naming_it():
    with pytest.raises(RuntimeError, match="Outer: forward mode"):
        cr.jvp(Outer.apply, (cr.tensor(X),), (cr.tensor(np.ones(3)),))
    with pytest.raises(RuntimeError, match="Outer: forward mode"):
        cr.jacobian(Outer.apply, mode="fwd")(cr.tensor(X))


# ------------------------------------------------------------------ the stacked-identity fast path
@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_a_jacobian_seeded_with_the_stacked_identity_differentiates_again(mode):
    W = np.arange(6.0).reshape(2, 3) / 5

    def loss(v):
        return cr.sum(cr.sin(cr.jacobian(lambda u: cr.tanh(cr.matmul(u, W.T)), mode=mode)(v)))

    x = np.array([1.0, 2.0, 0.5])
    assert_allclose(cr.grad(loss)(cr.tensor(x)).numpy(), cr.numerical_grad(loss, x), rtol=1e-6, atol=1e-8)


def test_the_stacked_identity_answers_any_array_method_with_the_dense_values():
    D = StackedDiagonal(np.array([1.0, 2.0, 3.0]), (3,))
    dense = np.diag([1.0, 2.0, 3.0])
    assert_array_equal(D.swapaxes(-1, -2), dense.T)
    assert_array_equal(D.transpose(), dense.T)
    assert_array_equal(D.cumsum(axis=0), dense.cumsum(axis=0))


# ------------------------------------------------------------------ printing
def test_format_of_a_one_element_tensor_formats_its_number():
    t = cr.tensor(3.14159)
    assert format(t, ".4f") == "3.1416"
    assert f"{t:.2e}" == "3.14e+00"
    assert f"{cr.tensor([2.5])}" == str(cr.tensor([2.5]))


def test_format_spec_of_a_tensor_with_several_elements_is_refused():
    with pytest.raises(TypeError, match="one-element"):
        format(cr.tensor([1.0, 2.0]), ".2f")


# ------------------------------------------------------------------ gradients
def test_an_integer_gradient_is_refused():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError, match="int64"):
        x.grad = np.array([1, 2])
    assert x.grad is None


def test_a_sparse_lookup_of_a_computed_table_sends_a_dense_gradient_upstream():
    import chainrule.nn.functional as F

    W = cr.tensor(np.arange(15.0).reshape(5, 3), requires_grad=True)
    F.embedding(np.array([1, 2, 1]), W * 2, sparse=True).sum().backward()
    expected = np.zeros((5, 3))
    expected[1], expected[2] = 4.0, 2.0  # row 1 looked up twice, each through ×2
    assert_array_equal(np.asarray(W.grad), expected)


def test_central_differences_of_a_transposed_array_perturb_the_array_itself():
    a = np.arange(6.0).reshape(2, 3).T  # Fortran-ordered: a copy keeps that order
    np.testing.assert_allclose(cr.numerical_grad(lambda x: cr.sum(x * x), a), 2 * a, rtol=1e-6)
    assert cr.gradcheck(lambda x: cr.sum(x * x), (cr.tensor(a, requires_grad=True),))


def test_round_refuses_fractional_decimals_as_numpy_does():
    with pytest.raises(TypeError, match="round: decimals must be an integer"):
        cr.round(cr.tensor([1.25]), 1.5)


def test_norm_keeps_float32_and_gives_float64_for_integers_as_numpy():
    x = np.array([[1.0, 0.0, 2.0]], dtype=np.float32)
    for ord_ in (0, 1, 2, None):
        assert cr.linalg.norm(cr.tensor(x), ord_, axis=1).dtype == np.linalg.norm(x, ord_, axis=1).dtype
    n = cr.linalg.norm(cr.tensor([3, 4]), 1)
    assert n.dtype == np.float64 and n.item() == 7.0


def test_division_by_a_python_zero_differentiates_to_infinity_as_numpy():
    x = cr.tensor([1.0, -2.0], requires_grad=True)
    with np.errstate(divide="ignore"):
        cr.sum(x / 0.0).backward()
    assert_array_equal(x.grad.data, [np.inf, np.inf])
