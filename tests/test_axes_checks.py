"""No silent wrong numbers: axes are checked, einsum's ellipsis goes anywhere, NaN and
constant inputs get PyTorch's gradients.

An op given axes or subscripts NumPy refuses raises (naming the op and the shapes)
instead of computing something plausible; what NumPy accepts gives NumPy's values.
Expected numbers come from NumPy, closed forms or central differences; the tests marked
``reference`` also compare with PyTorch when it is installed.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr

NAN = np.nan


def leaf(*shape):
    n = int(np.prod(shape))
    return cr.tensor(np.arange(1.0, n + 1.0).reshape(shape), dtype=np.float64, requires_grad=True)


def message_names(info, *parts):
    for part in parts:
        assert part in str(info.value), f"{part!r} not in {str(info.value)!r}"


# ------------------------------------------------------------------ tensordot
A, B = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)


@pytest.mark.parametrize("axes", [3, 5], ids=["3", "5"])
def test_tensordot_refuses_an_int_axes_larger_than_either_ndim(axes):
    with pytest.raises(ValueError) as info:
        cr.tensordot(cr.tensor(A), cr.tensor(B), axes=axes)
    message_names(info, "tensordot", "(2, 3)", "(3, 4)")
    with pytest.raises(IndexError):
        np.tensordot(A, B, axes=axes)


def test_tensordot_refuses_a_negative_int_axes_instead_of_an_outer_product():
    with pytest.raises(ValueError) as info:
        cr.tensordot(cr.tensor(A), cr.tensor(B), axes=-1)
    message_names(info, "tensordot", "(2, 3)", "(3, 4)", "axes=-1")


def test_tensordot_refuses_axis_lists_of_different_lengths():
    with pytest.raises(ValueError) as info:
        cr.tensordot(cr.tensor(A), cr.tensor(B), axes=([0, 1], [0]))
    message_names(info, "tensordot", "(2, 3)", "(3, 4)", "2 axes of a but 1 of b")


@pytest.mark.parametrize(
    "axes", [([2], [0]), ([-3], [0]), ([1], [-3]), ([1], [2])], ids=["a-2", "a-minus-3", "b-minus-3", "b-2"]
)
def test_tensordot_refuses_an_axis_out_of_range_even_one_that_would_wrap(axes):
    with pytest.raises(ValueError) as info:
        cr.tensordot(cr.tensor(A), cr.tensor(B), axes=axes)
    message_names(info, "tensordot", "(2, 3)", "(3, 4)", "out of range")
    with pytest.raises(IndexError):
        np.tensordot(A, B, axes=axes)


@pytest.mark.parametrize("axes", [([1, 1], [0, 0]), ([0, 0], [0, 1])], ids=["both", "a-only"])
def test_tensordot_refuses_a_repeated_axis(axes):
    square = np.ones((3, 3))
    with pytest.raises(ValueError) as info:
        cr.tensordot(cr.tensor(square), cr.tensor(square), axes=axes)
    message_names(info, "tensordot", "(3, 3)", "repeated axis")
    with pytest.raises(ValueError, match="duplicate"):
        np.tensordot(square, square, axes=axes)


def test_tensordot_refuses_summed_axes_of_different_sizes():
    with pytest.raises(ValueError) as info:
        cr.tensordot(cr.tensor(A), cr.tensor(B), axes=([0], [0]))
    message_names(info, "tensordot", "(2, 3)", "(3, 4)", "size 2", "size 3")


@pytest.mark.parametrize("axes", [1.5, ([1.0], [0]), (1, 0, 1)], ids=["float", "float-axis", "triple"])
def test_tensordot_axes_of_the_wrong_type_are_a_type_error(axes):
    with pytest.raises(TypeError) as info:
        cr.tensordot(cr.tensor(A), cr.tensor(B), axes=axes)
    message_names(info, "tensordot")


@pytest.mark.parametrize(
    "axes",
    [0, 1, ([1], [0]), (1, 0), ([-1], [-2]), ((0, 1), (1, 0))],
    ids=["0", "1", "lists", "ints", "negative", "two-pairs"],
)
def test_tensordot_accepts_what_numpy_accepts_with_numpys_values(axes):
    b = B if axes != ((0, 1), (1, 0)) else np.arange(6.0).reshape(3, 2)
    out = cr.tensordot(cr.tensor(A), cr.tensor(b), axes=axes)
    assert_allclose(out.data, np.tensordot(A, b, axes=axes))


# ------------------------------------------------------------------ transpose, moveaxis, squeeze
X = np.arange(24.0).reshape(2, 3, 4)


@pytest.mark.parametrize(
    ("axes", "what"),
    [
        ((0, 0, 1), "repeated axis"),
        ((0, 1), "name 2 axes"),
        ((0, 1, 3), "out of range"),
        ((0, 1, -4), "out of range"),
    ],
    ids=["repeated", "too-few", "too-large", "too-negative"],
)
def test_transpose_refuses_axes_that_are_not_a_permutation_and_says_why(axes, what):
    with pytest.raises(ValueError) as info:
        cr.transpose(cr.tensor(X), axes)
    message_names(info, "transpose", "(2, 3, 4)", what)


def test_transpose_refuses_a_float_axis_as_numpy_does():
    with pytest.raises(TypeError) as info:
        cr.transpose(cr.tensor(X), (1.0, 0, 2))
    message_names(info, "transpose")
    with pytest.raises(TypeError):
        np.transpose(X, (1.0, 0, 2))


def test_swapaxes_refuses_an_axis_out_of_range():
    with pytest.raises(ValueError) as info:
        cr.swapaxes(cr.tensor(X), 0, -4)
    message_names(info, "swapaxes", "(2, 3, 4)")


@pytest.mark.parametrize(
    ("source", "destination"), [(0, -1), (-1, 0), ((0, 1), (2, 0)), ([2, 0], [0, 1]), ((), ())]
)
def test_moveaxis_gives_numpys_values_and_moves_the_gradient_back(source, destination):
    x = cr.tensor(X, requires_grad=True)
    out = cr.moveaxis(x, source, destination)
    expected = np.moveaxis(X, source, destination)
    assert_array_equal(out.data, expected)
    weights = np.arange(X.size, dtype=float).reshape(expected.shape)
    cr.sum(out * weights).backward()
    # The gradient is the weights moved back: the inverse permutation.
    assert_array_equal(x.grad.data, np.moveaxis(weights, destination, source))


@pytest.mark.parametrize(
    ("source", "destination", "what"),
    [
        (3, 0, "out of range"),
        (0, -4, "out of range"),
        ((0, 0), (1, 2), "repeated axis"),
        ((0, 1), (2,), "as many axes"),
    ],
    ids=["source-range", "destination-range", "repeated", "count"],
)
def test_moveaxis_refuses_bad_axes_as_numpy_does(source, destination, what):
    with pytest.raises(ValueError) as info:
        cr.moveaxis(cr.tensor(X), source, destination)
    message_names(info, "moveaxis", "(2, 3, 4)", what)
    with pytest.raises(ValueError):
        np.moveaxis(X, source, destination)


def test_moveaxis_is_exported_by_chainrule():
    assert "moveaxis" in cr.__all__ and cr.moveaxis is cr.functions.moveaxis


def test_squeeze_refuses_a_repeated_axis():
    with pytest.raises(ValueError) as info:
        cr.squeeze(cr.ones((1, 3)), (0, 0))
    message_names(info, "squeeze", "(1, 3)", "repeated axis")
    with pytest.raises(ValueError):
        np.squeeze(np.ones((1, 3)), (0, 0))


def test_squeeze_refuses_an_axis_whose_size_is_not_one():
    with pytest.raises(ValueError) as info:
        cr.squeeze(cr.ones((1, 3)), (0, 1))
    message_names(info, "squeeze", "(1, 3)", "size 1")
    with pytest.raises(ValueError):
        np.squeeze(np.ones((1, 3)), (0, 1))


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "prod", "logsumexp", "var", "std"])
def test_reductions_refuse_repeated_and_out_of_range_axes(name):
    fn = getattr(cr, name)
    for axis, what in [((0, -3), "repeated axis"), (3, "out of range"), ((0, -4), "out of range")]:
        with pytest.raises(ValueError) as info:
            fn(cr.tensor(X), axis=axis)
        message_names(info, name, what)
    with pytest.raises(TypeError):
        fn(cr.tensor(X), axis=1.0)


# ------------------------------------------------------------------ einsum: checks
def _einsum_refuses(spec, *shapes, what):
    with pytest.raises(ValueError) as info:
        cr.einsum(spec, *[cr.ones(s) for s in shapes])
    message_names(info, "einsum", spec, *(str(s) for s in shapes), what)
    with pytest.raises(ValueError):
        np.einsum(spec, *[np.ones(s) for s in shapes])


@pytest.mark.parametrize(
    ("spec", "shapes", "what"),
    [
        ("ij,jk->ik", [(2, 3)], "name 2 operand(s) but 1"),
        ("ij,jk->ik", [(2, 3), (3, 4), (4,)], "name 2 operand(s) but 3"),
        ("ijk,jk->ik", [(2, 3), (3, 4)], "names 3 axes of an operand with 2"),
        ("i,jk->ik", [(2, 3), (3, 4)], "names 1 axes of an operand with 2"),
        ("ij,ik->jk", [(2, 3), (3, 4)], "letter 'i' labels axes of sizes 2 and 3"),
        ("ii->i", [(2, 3)], "letter 'i' labels axes of sizes 2 and 3 of operand 0"),
        ("...i,...i->...", [(5, 3), (4, 3)], "under '...' labels axes of sizes 5 and 4"),
        ("ij,jk->iz", [(2, 3), (3, 4)], "output letter 'z' appears in no input"),
        ("ij,jk->ii", [(2, 3), (3, 4)], "output letter 'i' appears more than once"),
        ("...ij->ij", [(5, 2, 3)], "no '...'"),
        ("i.j->i", [(2, 3)], "at most one '...'"),
        ("i......->i", [(2, 3)], "at most one '...'"),
        ("i1->i", [(2, 3)], "only letters"),
    ],
    ids=[
        "too-few-operands",
        "too-many-operands",
        "long-term",
        "short-term",
        "sizes",
        "diagonal",
        "ellipsis-sizes",
        "unknown-output",
        "repeated-output",
        "dropped-ellipsis",
        "dot",
        "two-ellipses",
        "digit",
    ],
)
def test_einsum_refuses_what_numpy_refuses_naming_the_subscripts_and_shapes(spec, shapes, what):
    _einsum_refuses(spec, *shapes, what=what)


def test_einsum_subscripts_must_be_a_string():
    with pytest.raises(TypeError) as info:
        cr.einsum(["i"], cr.ones(3))
    message_names(info, "einsum")


# ------------------------------------------------------------------ einsum: ellipsis anywhere
ELLIPSIS_CASES = [
    ("jk...,lj...->lk...", [(3, 4, 2), (5, 3, 2)]),
    ("i...j,j...->i...", [(2, 4, 3), (3, 4)]),
    ("i...j,j...", [(2, 4, 3), (3, 4)]),
    ("ba...", [(2, 4, 3)]),
    ("ij...,jk...->ik...", [(2, 3, 1), (3, 4, 5)]),
    ("i...,...->i...", [(2, 3, 4), (4,)]),
    ("ij...->...", [(2, 3)]),
    ("...ii->...i", [(2, 3, 3)]),
    ("ii,i->i", [(3, 3), (1,)]),
    ("i,i->", [(3,), (1,)]),
]
ELLIPSIS_IDS = [spec for spec, _ in ELLIPSIS_CASES[:-2]] + ["broadcast-diagonal", "broadcast-summed"]


def _einsum_operands(shapes):
    rng = np.random.default_rng(len(shapes))
    return [rng.standard_normal(s) for s in shapes]


@pytest.mark.parametrize(("spec", "shapes"), ELLIPSIS_CASES, ids=ELLIPSIS_IDS)
def test_einsum_takes_an_ellipsis_anywhere_with_numpys_values(spec, shapes):
    arrays = _einsum_operands(shapes)
    out = cr.einsum(spec, *[cr.tensor(a) for a in arrays])
    expected = np.einsum(spec, *arrays)
    assert out.shape == expected.shape
    assert_allclose(out.data, expected, rtol=1e-12)


@pytest.mark.parametrize(("spec", "shapes"), ELLIPSIS_CASES, ids=ELLIPSIS_IDS)
def test_einsum_with_an_ellipsis_anywhere_has_the_gradient_and_tangent_of_central_differences(spec, shapes):
    arrays = _einsum_operands(shapes)
    f = lambda *xs: cr.einsum(spec, *xs)  # noqa: E731
    rng = np.random.default_rng(1)
    weights = rng.standard_normal(np.einsum(spec, *arrays).shape)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    cr.sum(f(*xs) * weights).backward()
    numeric = cr.numerical_grad(lambda *a: cr.sum(f(*a) * weights), *arrays, eps=1e-6)
    for x, expected in zip(xs, numeric if isinstance(numeric, tuple) else (numeric,)):
        assert_allclose(x.grad.data, expected, rtol=1e-6, atol=1e-8)
    tangents = [rng.standard_normal(s) for s in shapes]
    _, forward = cr.jvp(f, tuple(arrays), tuple(tangents))
    h = 1e-6
    difference = (
        np.einsum(spec, *[a + h * t for a, t in zip(arrays, tangents)])
        - np.einsum(spec, *[a - h * t for a, t in zip(arrays, tangents)])
    ) / (2 * h)
    assert_allclose(forward.data, difference, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("mode", ["rev", "fwd"])
@pytest.mark.parametrize(("spec", "shapes"), ELLIPSIS_CASES[:3], ids=ELLIPSIS_IDS[:3])
def test_einsum_jacobian_with_a_middle_ellipsis_batches_cotangents_and_tangents(spec, shapes, mode):
    a, b = _einsum_operands(shapes)
    f = lambda x: cr.einsum(spec, x, b)  # noqa: E731
    jac = cr.jacobian(f, mode=mode)(cr.tensor(a))
    assert_allclose(jac.data, cr.numerical_jacobian(f, a, eps=1e-6), rtol=1e-6, atol=1e-8)


def test_einsum_second_derivative_with_a_middle_ellipsis():
    spec = "i...j,j...->i..."
    a, b = _einsum_operands([(2, 4, 3), (3, 4)])
    # The Hessian of Σ out² (forward over reverse) against central differences of the gradient.
    f = lambda x: cr.sum(cr.einsum(spec, x, b) ** 2)  # noqa: E731
    hess = cr.hessian(f)(cr.tensor(a))
    grad_at = lambda x: cr.grad(f)(cr.tensor(x)).data  # noqa: E731
    numeric = cr.numerical_jacobian(lambda x: cr.tensor(grad_at(np.asarray(x))), a, eps=1e-5)
    assert_allclose(hess.data, numeric, rtol=1e-6, atol=1e-7)


# ------------------------------------------------------------------ NaN in max / maximum
def _max_grad(fn, data, **kw):
    x = cr.tensor(np.array(data, dtype=np.float64), requires_grad=True)
    out = fn(x, **kw)
    cr.sum(out).backward()
    return out.data, x.grad.data


@pytest.mark.parametrize(("fn", "np_fn"), [(cr.max, np.max), (cr.min, np.min)], ids=["max", "min"])
def test_max_and_min_propagate_nan_and_route_the_gradient_to_it(fn, np_fn):
    value, grad = _max_grad(fn, [1.0, NAN, 3.0])
    assert_array_equal(value, np_fn([1.0, NAN, 3.0]))
    assert_array_equal(grad, [0.0, 1.0, 0.0])


@pytest.mark.parametrize("fn", [cr.max, cr.min], ids=["max", "min"])
def test_several_nans_share_the_gradient_evenly_as_ties_do(fn):
    _, grad = _max_grad(fn, [1.0, NAN, NAN, 3.0])
    assert_array_equal(grad, [0.0, 0.5, 0.5, 0.0])


def test_max_along_an_axis_with_nan_rows_matches_numpy_and_routes_per_row():
    data = [[1.0, NAN, 3.0], [NAN, NAN, 1.0], [2.0, 5.0, 5.0]]
    value, grad = _max_grad(cr.max, data, axis=1)
    assert_array_equal(value, np.max(data, axis=1))
    assert_array_equal(grad, [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])


def test_max_forward_mode_at_nan_agrees_with_its_reverse_mode():
    x = np.array([1.0, NAN, NAN, 3.0])
    t = np.array([10.0, 100.0, 1000.0, 10000.0])
    out, tangent = cr.jvp(cr.max, (x,), (t,))
    assert np.isnan(out.data)
    assert_allclose(tangent.data, 550.0)  # ⟨∇max, t⟩ with ∇max = (0, ½, ½, 0)


@pytest.mark.parametrize(
    ("fn", "np_fn"), [(cr.maximum, np.maximum), (cr.minimum, np.minimum)], ids=["maximum", "minimum"]
)
def test_maximum_and_minimum_with_nan_give_nan_and_the_whole_gradient_to_both_sides(fn, np_fn):
    x = cr.tensor([NAN, 1.0, NAN, 2.0], dtype=np.float64, requires_grad=True)
    y = cr.tensor([1.0, NAN, NAN, 2.0], dtype=np.float64, requires_grad=True)
    out = fn(x, y)
    assert_array_equal(out.data, np_fn(x.data, y.data))
    cr.sum(out).backward()
    assert_array_equal(x.grad.data, [1.0, 1.0, 1.0, 0.5])
    assert_array_equal(y.grad.data, [1.0, 1.0, 1.0, 0.5])
    _, tangent = cr.jvp(fn, (x.data, y.data), (np.full(4, 10.0), np.full(4, 100.0)))
    assert_array_equal(tangent.data, [110.0, 110.0, 110.0, 55.0])


@pytest.mark.reference
def test_nan_gradients_of_max_and_maximum_agree_with_torch():
    torch = pytest.importorskip("torch")
    data = np.array([1.0, NAN, NAN, 3.0])
    t = torch.tensor(data, requires_grad=True)
    torch.max(t).backward()  # the full reduction: NaNs share the gradient as ties do
    _, ours = _max_grad(cr.max, data)
    assert_array_equal(ours, t.grad.numpy())
    for tx, ty in [(NAN, 1.0), (1.0, NAN), (NAN, NAN)]:
        a = torch.tensor([tx], dtype=torch.float64, requires_grad=True)
        b = torch.tensor([ty], dtype=torch.float64, requires_grad=True)
        torch.maximum(a, b).backward()
        x = cr.tensor([tx], dtype=np.float64, requires_grad=True)
        y = cr.tensor([ty], dtype=np.float64, requires_grad=True)
        cr.sum(cr.maximum(x, y)).backward()
        assert_array_equal(x.grad.data, a.grad.numpy())
        assert_array_equal(y.grad.data, b.grad.numpy())


# ------------------------------------------------------------------ std and var at a constant input
def _std_slope(x, axis, ddof):
    """∂std/∂x = (x - mean) / ((N - ddof) std), 0 where std = 0: the closed form."""
    d = x - np.mean(x, axis=axis, keepdims=True)
    s = np.std(x, axis=axis, ddof=ddof, keepdims=True)
    n = x.size // s.size
    return np.where(s == 0, 0.0, d / ((n - ddof) * np.where(s == 0, 1.0, s)))


@pytest.mark.parametrize("ddof", [0, 1])
@pytest.mark.parametrize("fn", [cr.std, cr.var], ids=["std", "var"])
def test_std_and_var_at_a_constant_input_have_gradient_zero(fn, ddof):
    x = cr.tensor(np.full(3, 2.5), requires_grad=True)
    out = fn(x, ddof=ddof)
    assert out.item() == 0.0
    out.backward()
    assert_array_equal(x.grad.data, np.zeros(3))


@pytest.mark.parametrize("ddof", [0, 1])
def test_std_along_an_axis_with_one_constant_row_has_the_closed_form_gradient(ddof):
    data = np.array([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]])
    x = cr.tensor(data, requires_grad=True)
    out = cr.std(x, axis=1, ddof=ddof)
    assert_allclose(out.data, np.std(data, axis=1, ddof=ddof))
    cr.sum(out).backward()
    assert_allclose(x.grad.data, _std_slope(data, 1, ddof), rtol=1e-12)
    assert_array_equal(x.grad.data[0], 0.0)


def test_std_forward_mode_at_a_constant_input_is_zero():
    _, tangent = cr.jvp(
        lambda x: cr.std(x, axis=1, keepdims=True),
        (np.array([[3.0, 3.0], [1.0, 2.0]]),),
        (np.array([[1.0, 2.0], [1.0, 1.0]]),),
    )
    assert_allclose(tangent.data, [[0.0], [0.0]], atol=1e-15)  # second row: (−½·1 + ½·1)/(2·½)


def test_std_hessian_is_zero_at_a_constant_input_and_matches_differences_elsewhere():
    assert_array_equal(cr.hessian(cr.std)(cr.tensor(np.full(3, 2.5))).data, np.zeros((3, 3)))
    point = np.array([1.0, 2.0, 4.0])
    numeric = cr.numerical_jacobian(lambda x: cr.tensor(_std_slope(np.asarray(x), None, 0)), point, eps=1e-6)
    assert_allclose(cr.hessian(cr.std)(cr.tensor(point)).data, numeric, rtol=1e-6, atol=1e-9)


def test_std_gradient_through_create_graph_stays_differentiable_and_finite_at_a_constant():
    x = cr.tensor(np.full(3, 2.5), requires_grad=True)
    (g,) = cr.autograd.grad(cr.std(x), x, create_graph=True)
    assert_array_equal(g.data, np.zeros(3))
    (gg,) = cr.autograd.grad(cr.sum(g * cr.tensor([1.0, 2.0, 3.0], dtype=np.float64)), x, allow_unused=True)
    assert gg is None or np.array_equal(gg.data, np.zeros(3))


@pytest.mark.reference
@pytest.mark.parametrize(
    ("data", "axis", "ddof"),
    [
        ([2.5, 2.5, 2.5], None, 0),
        ([2.5, 2.5, 2.5], None, 1),
        ([[1.0, 1.0, 1.0], [1.0, 2.0, 4.0]], 1, 1),
        ([[1.0, 1.0], [1.0, 3.0], [1.0, 5.0]], 0, 0),
    ],
    ids=["constant", "constant-ddof1", "axis1-ddof1", "axis0"],
)
def test_std_gradient_agrees_with_torch(data, axis, ddof):
    torch = pytest.importorskip("torch")
    t = torch.tensor(data, dtype=torch.float64, requires_grad=True)
    torch.std(t, dim=axis, correction=ddof).sum().backward()
    x = cr.tensor(np.array(data), requires_grad=True)
    cr.sum(cr.std(x, axis=axis, ddof=ddof)).backward()
    assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-15)
