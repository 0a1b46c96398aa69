"""NumPy's reductions and sorting functions, differentiable: gradient, average, ptp, nansum,
nanmean, sort, partition, nan_to_num, real_if_close, and the integer results argmax, argmin
and argsort.

Specified here: the values against NumPy's over many axis/keepdims combinations, the
gradients against closed forms (sort's gradient is the cotangent read at the inverse
permutation; ptp's is +1 at the max and −1 at the min; nanmean's is 1/N at numbers and 0 at
NaNs), the routing of ties and NaNs, refusals of bad arguments with messages naming the
function, and cross-checks against PyTorch where it has the same function.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import chainrule as cr

pytestmark = pytest.mark.usefixtures("float64_default")

AXES_3D = [None, 0, 1, -1, (0, 2), (2, 0, 1)]


def data(shape=(3, 4, 5), seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def with_nans(x, seed=1, share=0.3):
    x = x.copy()
    x[np.random.default_rng(seed).random(x.shape) < share] = np.nan
    return x


def grad_of(f, *xs):
    """The gradient of the scalar f(*xs) with respect to each x, by backward()."""
    leaves = [cr.tensor(x, requires_grad=True) for x in xs]
    f(*leaves).backward()
    grads = [leaf.grad.data for leaf in leaves]
    return grads[0] if len(grads) == 1 else grads


# ------------------------------------------------------------------ values against NumPy
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("axis", AXES_3D)
def test_reductions_match_numpy_for_every_axis_and_keepdims(axis, keepdims):
    x, xn = data(), with_nans(data())
    w = np.random.default_rng(2).uniform(0.5, 2.0, x.shape)
    pairs = [
        (cr.ptp(x, axis=axis, keepdims=keepdims), np.ptp(x, axis=axis, keepdims=keepdims)),
        (cr.nansum(xn, axis=axis, keepdims=keepdims), np.nansum(xn, axis=axis, keepdims=keepdims)),
        (cr.nanmean(xn, axis=axis, keepdims=keepdims), np.nanmean(xn, axis=axis, keepdims=keepdims)),
        (cr.nansum(x, axis=axis, keepdims=keepdims), np.sum(x, axis=axis, keepdims=keepdims)),
        (cr.average(x, axis=axis, keepdims=keepdims), np.average(x, axis=axis, keepdims=keepdims)),
        (
            cr.average(x, axis=axis, weights=w, keepdims=keepdims),
            np.average(x, axis=axis, weights=w, keepdims=keepdims),
        ),
    ]
    for ours, numpys in pairs:
        assert isinstance(ours, cr.Tensor) and ours.shape == np.shape(numpys)
        np.testing.assert_allclose(ours.data, numpys, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("axis", "w_shape"), [(1, (4,)), (-1, (5,)), ((0, 2), (3, 5)), ((2, 0), (5, 3))])
def test_average_with_weights_along_the_named_axes_matches_numpy(axis, w_shape):
    x = data()
    w = np.random.default_rng(3).uniform(0.5, 2.0, w_shape)
    for keepdims in (False, True):
        avg, total = cr.average(x, axis=axis, weights=w, returned=True, keepdims=keepdims)
        ref_avg, ref_total = np.average(x, axis=axis, weights=w, returned=True, keepdims=keepdims)
        np.testing.assert_allclose(avg.data, ref_avg, rtol=1e-12)
        assert total.shape == ref_total.shape
        np.testing.assert_allclose(total.data, ref_total, rtol=1e-12)


def test_average_returned_without_weights_gives_the_count_as_numpy():
    x = data((2, 3))
    avg, count = cr.average(x, axis=0, returned=True)
    np.testing.assert_allclose(count.data, [2.0, 2.0, 2.0])
    assert count.dtype == avg.dtype == np.float64


@pytest.mark.parametrize("axis", [None, 0, 1, -1, 2])
def test_sort_matches_numpy(axis):
    x = data()
    out = cr.sort(x, axis=axis)
    np.testing.assert_array_equal(out.data, np.sort(x, axis=axis))
    np.testing.assert_array_equal(
        cr.sort(x.astype(np.float32), axis=axis).data, np.sort(x.astype(np.float32), axis=axis)
    )


@pytest.mark.parametrize(("kth", "axis"), [(0, -1), (2, 0), (-1, 1), ([0, 3], -1), ((1, 2), 1), (17, None)])
def test_partition_matches_numpy_and_puts_the_kth_element_in_place(kth, axis):
    x = data()
    out = cr.partition(x, kth, axis=axis).data
    np.testing.assert_array_equal(out, np.partition(x, kth, axis=axis))
    ordered = np.sort(x, axis=axis)
    if axis is not None:  # the partitioned axis last
        out, ordered = np.moveaxis(out, axis, -1), np.moveaxis(ordered, axis, -1)
    for k in np.atleast_1d(kth):
        np.testing.assert_array_equal(out[..., k], ordered[..., k])


def test_sort_and_partition_keep_integer_and_float32_dtypes():
    ints = np.array([[3, 1, 2], [0, 5, 4]])
    assert cr.sort(ints).dtype == np.int64 and cr.sort(ints).tolist() == [[1, 2, 3], [0, 4, 5]]
    assert cr.partition(ints, 1, axis=None).data[1] == 1
    f32 = data((4,)).astype(np.float32)
    assert cr.sort(f32).dtype == np.float32 and cr.partition(f32, 2).dtype == np.float32


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize(
    ("spacing", "axis"),
    [
        ((), None),
        ((0.5,), None),
        ((0.5, 2.0, 1.0), None),
        ((0.25,), 1),
        ((np.array([0.0, 1.0, 1.5, 3.0, 3.25]),), -1),
        ((2.0, np.array([0.0, 0.5, 2.0])), (1, 0)),
        ((np.array([0.0, 1.0, 2.0, 3.0]),), 1),  # evenly spaced coordinates
    ],
)
def test_gradient_matches_numpy(spacing, axis, edge_order):
    x = data((3, 4, 5))
    ours = cr.gradient(x, *spacing, axis=axis, edge_order=edge_order)
    ref = np.gradient(x, *spacing, axis=axis, edge_order=edge_order)
    assert type(ours) is type(ref) or (isinstance(ours, cr.Tensor) and isinstance(ref, np.ndarray))
    for o, r in zip(ours, ref) if isinstance(ref, tuple) else [(ours, ref)]:
        np.testing.assert_allclose(o.data, r, rtol=1e-12, atol=1e-12)


def test_gradient_returns_a_tensor_for_one_axis_a_tuple_for_several_and_none_for_0d():
    assert isinstance(cr.gradient(data((5,))), cr.Tensor)
    assert isinstance(cr.gradient(data((3, 4)), axis=(0,)), cr.Tensor)
    parts = cr.gradient(data((3, 4)))
    assert isinstance(parts, tuple) and [p.shape for p in parts] == [(3, 4), (3, 4)]
    assert cr.gradient(np.array(1.0)) == np.gradient(np.array(1.0)) == ()


def test_gradient_of_integers_and_float32_has_numpys_dtype():
    ints = np.array([1, 4, 9, 16])
    assert cr.gradient(ints).dtype == np.gradient(ints).dtype == np.float64
    f32 = data((4,)).astype(np.float32)
    assert cr.gradient(f32, 0.5).dtype == np.float32
    np.testing.assert_allclose(cr.gradient(f32, 0.5).data, np.gradient(f32, 0.5), rtol=1e-6)


def test_nan_to_num_matches_numpy_with_and_without_replacements():
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0])
    np.testing.assert_array_equal(cr.nan_to_num(x).data, np.nan_to_num(x))
    np.testing.assert_array_equal(
        cr.nan_to_num(x, nan=7.0, posinf=8.0, neginf=-8.0).data,
        np.nan_to_num(x, nan=7.0, posinf=8.0, neginf=-8.0),
    )
    ints = np.array([1, 2])
    assert cr.nan_to_num(ints).dtype == np.int64


def test_nan_to_num_refuses_to_replace_in_place_and_leaves_its_input_alone():
    x = np.array([np.nan, 1.0])
    with pytest.raises(TypeError, match="copy=False"):
        cr.nan_to_num(x, copy=False)
    assert np.isnan(x[0])


def test_real_if_close_is_the_identity_on_real_data_and_takes_the_real_part_of_close_complex_data():
    x = data((2, 3))
    np.testing.assert_array_equal(cr.real_if_close(x).data, np.real_if_close(x))
    z = np.array([1.0 + 1e-15j, 2.0 - 1e-16j])
    out = cr.real_if_close(z, tol=1000)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out.data, np.real_if_close(z, tol=1000))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_argmax_and_argmin_match_numpy(axis, keepdims):
    x = data((3, 4))
    for ours, numpys in ((cr.argmax, np.argmax), (cr.argmin, np.argmin)):
        out = ours(x, axis=axis, keepdims=keepdims)
        expected = numpys(x, axis=axis, keepdims=keepdims)
        assert out.dtype.kind == "i" and out.shape == np.shape(expected)
        np.testing.assert_array_equal(out.data, expected)


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argsort_matches_a_stable_numpy_argsort(axis):
    x = np.array([[3.0, 1.0, 3.0, 0.0], [2.0, 2.0, 1.0, 2.0]])
    np.testing.assert_array_equal(cr.argsort(x, axis=axis).data, np.argsort(x, axis=axis, kind="stable"))


def test_integer_results_carry_no_gradient():
    x = cr.tensor(data((3, 4)), requires_grad=True)
    for out in (cr.argmax(x), cr.argmin(x, axis=0), cr.argsort(x)):
        assert out.dtype.kind == "i" and out.grad_fn is None and not out.requires_grad


# ------------------------------------------------------------------ gradients in closed form
@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_the_gradient_of_sort_is_the_cotangent_at_the_inverse_permutation(axis):
    x = data((3, 4, 5))
    out_shape = (x.size,) if axis is None else x.shape
    g = data(out_shape, seed=9)
    gx = grad_of(lambda t: cr.sum(cr.sort(t, axis=axis) * g), x)
    if axis is None:
        expected = np.empty(x.size)
        expected[np.argsort(x, axis=None)] = g
        expected = expected.reshape(x.shape)
    else:
        order = np.argsort(x, axis=axis)
        expected = np.empty_like(x)
        np.put_along_axis(expected, order, g, axis=axis)
    np.testing.assert_array_equal(gx, expected)


def test_the_jacobian_of_sort_is_its_permutation_matrix():
    x = np.array([0.3, -1.0, 2.0, 0.1])
    J = cr.jacobian(cr.sort, mode="rev")(x).data
    np.testing.assert_array_equal(J, np.eye(4)[np.argsort(x)])
    np.testing.assert_array_equal(cr.jacobian(cr.sort, mode="fwd")(x).data, J)


def test_the_gradient_of_partition_is_the_cotangent_at_the_inverse_argpartition():
    x = data((4, 6))
    g = data((4, 6), seed=5)
    gx = grad_of(lambda t: cr.sum(cr.partition(t, (1, 4), axis=1) * g), x)
    expected = np.empty_like(x)
    np.put_along_axis(expected, np.argpartition(x, (1, 4), axis=1), g, axis=1)
    np.testing.assert_array_equal(gx, expected)


def test_sort_routes_ties_in_input_order_and_nans_last():
    x = np.array([1.0, 0.0, 1.0, np.nan, 1.0])
    gx = grad_of(lambda t: cr.sum(cr.sort(t) * cr.tensor([10.0, 20.0, 30.0, 40.0, 50.0])), x)
    # sorted: 0 (from 1), 1 (from 0), 1 (from 2), 1 (from 4), nan (from 3)
    np.testing.assert_array_equal(gx, [20.0, 10.0, 30.0, 50.0, 40.0])
    order = cr.argsort(x).data
    np.testing.assert_array_equal(order, [1, 0, 2, 4, 3])


def test_second_derivatives_through_sort():
    """Σ sort(x)³ has Hessian diag(6x): sorting only relabels the coordinates."""
    x = data((5,))
    H = cr.hessian(lambda t: cr.sum(cr.sort(t) ** 3))(x).data
    np.testing.assert_allclose(H, np.diag(6 * x), rtol=1e-12)


def test_ptp_sends_plus_one_to_the_max_and_minus_one_to_the_min():
    x = data((3, 4))
    gx = grad_of(lambda t: cr.sum(cr.ptp(t, axis=1)), x)
    expected = np.zeros_like(x)
    rows = np.arange(3)
    expected[rows, np.argmax(x, axis=1)] += 1
    expected[rows, np.argmin(x, axis=1)] -= 1
    np.testing.assert_array_equal(gx, expected)


def test_ptp_shares_ties_like_max_and_min_and_is_flat_on_a_constant():
    np.testing.assert_allclose(grad_of(cr.ptp, np.array([2.0, 2.0, 0.0])), [0.5, 0.5, -1.0])
    np.testing.assert_array_equal(grad_of(cr.ptp, np.full(3, 4.0)), [0.0, 0.0, 0.0])


def test_nansum_gradient_is_one_at_numbers_and_zero_at_nans():
    x = with_nans(data((3, 4)))
    gx = grad_of(lambda t: cr.sum(cr.nansum(t, axis=0) * np.arange(1.0, 5.0)), x)
    np.testing.assert_array_equal(gx, np.where(np.isnan(x), 0.0, np.arange(1.0, 5.0)))


def test_nanmean_gradient_is_one_over_the_count_at_numbers_and_zero_at_nans():
    x = with_nans(data((4, 5)), seed=4)
    count = np.sum(~np.isnan(x), axis=1, keepdims=True)
    gx = grad_of(lambda t: cr.sum(cr.nanmean(t, axis=1)), x)
    np.testing.assert_allclose(gx, np.where(np.isnan(x), 0.0, 1.0 / count), rtol=1e-15)


def test_nanmean_of_a_slice_of_nans_is_nan_with_numpys_warning_and_a_zero_gradient():
    x = np.array([[np.nan, np.nan], [1.0, 3.0]])
    leaf = cr.tensor(x, requires_grad=True)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        out = cr.nanmean(leaf, axis=1)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        expected = np.nanmean(x, axis=1)
    np.testing.assert_array_equal(out.data, expected)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no 0/0 or inf · 0 on the way back
        cr.sum(out * cr.tensor([1.0, 1.0])).backward()
    np.testing.assert_array_equal(leaf.grad.data, [[0.0, 0.0], [0.5, 0.5]])


def test_nansum_of_a_slice_of_nans_is_zero():
    out = cr.nansum(np.array([[np.nan, np.nan], [1.0, 3.0]]), axis=1)
    np.testing.assert_array_equal(out.data, [0.0, 4.0])


def test_average_gradients_are_w_over_the_sum_and_the_deviation_over_the_sum():
    a = data((5,))
    w = np.random.default_rng(8).uniform(0.5, 2.0, 5)
    ga, gw = grad_of(lambda a, w: cr.average(a, weights=w), a, w)
    avg = np.sum(a * w) / np.sum(w)
    np.testing.assert_allclose(ga, w / np.sum(w), rtol=1e-12)
    np.testing.assert_allclose(gw, (a - avg) / np.sum(w), rtol=1e-12)


def test_average_second_derivative_in_the_weights_matches_central_differences():
    a, w = data((4,)), np.random.default_rng(1).uniform(0.5, 2.0, 4)
    H = cr.hessian(lambda w: cr.average(a, weights=w))(w).data
    numeric = cr.numerical_jacobian(lambda w: cr.grad(lambda v: cr.average(a, weights=v))(w), w, eps=1e-5)
    np.testing.assert_allclose(H, numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("spacing", [(), (0.5,), (np.array([0.0, 0.3, 1.0, 1.2, 2.0, 3.5]),)])
def test_the_jacobian_of_gradient_is_numpys_difference_matrix(spacing, edge_order):
    """np.gradient applied to the columns of the identity is the matrix D; the reverse and the
    forward Jacobians both equal it."""
    n = 6
    D = np.gradient(np.eye(n), *spacing, axis=0, edge_order=edge_order)
    x = data((n,))
    f = lambda t: cr.gradient(t, *spacing, edge_order=edge_order)
    np.testing.assert_allclose(cr.jacobian(f, mode="rev")(x).data, D, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cr.jacobian(f, mode="fwd")(x).data, D, rtol=1e-12, atol=1e-12)


def test_gradient_of_central_differences_on_the_interior_is_the_transposed_stencil():
    """For Σ g·gradient(f) with unit spacing inside: ∂/∂f_j = (g_{j−1} − g_{j+1}) / 2."""
    g = data((7,), seed=3)
    gf = grad_of(lambda f: cr.sum(cr.gradient(f) * g), data((7,)))
    interior = (g[1:4] - g[3:6]) / 2  # j = 2, 3, 4: neither j−1 nor j+1 is an edge row
    np.testing.assert_allclose(gf[2:5], interior, rtol=1e-14)


def test_gradient_along_several_axes_adds_each_axis_gradient():
    """Σ over both parts of gradient(x, 2.0): each axis contributes the column sums of its D."""
    x = data((3, 4))
    gx = grad_of(lambda t: sum((cr.sum(p) for p in cr.gradient(t, 2.0)), cr.tensor(0.0)), x)
    down = np.gradient(np.eye(3), 2.0, axis=0).sum(axis=0)[:, None]
    across = np.gradient(np.eye(4), 2.0, axis=0).sum(axis=0)[None, :]
    np.testing.assert_allclose(gx, down + across, rtol=1e-14)


def test_nan_to_num_gradient_is_one_where_finite_and_zero_where_replaced():
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0])
    gx = grad_of(lambda t: cr.sum(cr.nan_to_num(t, posinf=5.0, neginf=-5.0) * 3.0), x)
    np.testing.assert_array_equal(gx, [3.0, 0.0, 0.0, 0.0, 3.0])


def test_real_if_close_passes_the_gradient_through_unchanged():
    g = data((2, 3), seed=2)
    np.testing.assert_array_equal(grad_of(lambda t: cr.sum(cr.real_if_close(t) * g), data((2, 3))), g)


def test_jvp_through_sort_and_nanmean_matches_central_differences():
    x, t = with_nans(data((3, 4)), share=0.2), data((3, 4), seed=6)

    def f(v):
        return cr.nanmean(cr.sort(v, axis=1) * np.arange(1.0, 5.0), axis=0)

    _, tangent = cr.jvp(f, (x,), (t,))
    h = 1e-6
    numeric = (f(cr.tensor(x + h * t)).data - f(cr.tensor(x - h * t)).data) / (2 * h)
    np.testing.assert_allclose(tangent.data, numeric, rtol=1e-6, atol=1e-8)


# ------------------------------------------------------------------ refusals
@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda x: cr.sort(x, axis=3), ValueError, "sort: axis 3 is out of range"),
        (lambda x: cr.sort(x, axis=1.0), TypeError, "sort: axis must be an int"),
        (lambda x: cr.sort(np.array(1.0)), ValueError, "sort: axis -1 is out of range"),
        (
            lambda x: cr.partition(x, 5),
            ValueError,
            "partition: kth 5 is out of range for an axis of length 5",
        ),
        (lambda x: cr.partition(x, [0, -6]), ValueError, "partition: kth -6 is out of range"),
        (lambda x: cr.partition(x, 1.5), TypeError, "partition: kth must be an int"),
        (lambda x: cr.partition(x, 0, axis=-4), ValueError, "partition: axis -4 is out of range"),
        (lambda x: cr.ptp(x, axis=3), ValueError, "ptp: axis 3 is out of range"),
        (lambda x: cr.ptp(np.zeros((0, 2))), ValueError, "ptp: cannot reduce an empty tensor"),
        (lambda x: cr.nansum(x, axis=(0, 0)), ValueError, "nansum: repeated axis"),
        (lambda x: cr.nanmean(x, axis=-4), ValueError, "nanmean: axis -4 is out of range"),
        (lambda x: cr.average(x, axis=5), ValueError, "average: axis 5 is out of range"),
        (lambda x: cr.average(x, weights=np.ones(5)), TypeError, "average: weights of shape \\(5,\\) differ"),
        (lambda x: cr.average(x, axis=1, weights=np.ones(5)), ValueError, "do not match axis 1"),
        (lambda x: cr.average(x, axis=(0, 2), weights=np.ones((5, 3))), ValueError, "do not match axis"),
        (lambda x: cr.gradient(x, axis=3), ValueError, "gradient: axis 3 is out of range"),
        (lambda x: cr.gradient(x, 1.0, 2.0), TypeError, "one spacing per axis \\(3\\); got 2"),
        (lambda x: cr.gradient(x, np.ones(4), axis=2), ValueError, "1-D coordinates as long as its axis"),
        (lambda x: cr.gradient(x, np.ones((5, 1)), axis=2), ValueError, "a spacing is a scalar or 1-D"),
        (lambda x: cr.gradient(x, edge_order=3), ValueError, "gradient: edge_order must be 1 or 2"),
        (lambda x: cr.gradient(x[:, :2], axis=1, edge_order=2), ValueError, "needs at least 3"),
        (lambda x: cr.argmax(x, axis=3), ValueError, "argmax: axis 3 is out of range"),
        (
            lambda x: cr.argmin(np.zeros((2, 0)), axis=1),
            ValueError,
            "argmin: cannot choose from an empty axis",
        ),
        (lambda x: cr.argmax(np.zeros(0)), ValueError, "argmax: cannot choose from an empty tensor"),
        (lambda x: cr.argsort(x, axis=-4), ValueError, "argsort: axis -4 is out of range"),
        (
            lambda x: cr.real_if_close(np.array([1.0 + 1e-3j])),
            TypeError,
            "real_if_close: the imaginary parts",
        ),
    ],
)
def test_bad_arguments_are_refused_naming_the_function(call, error, message):
    with pytest.raises(error, match=message):
        call(data((2, 4, 5)))


def test_weights_that_sum_to_zero_raise_zero_division_error_as_numpy():
    x = data((2, 3))
    with pytest.raises(ZeroDivisionError):
        np.average(x, axis=1, weights=[1.0, -1.0, 0.0])
    with pytest.raises(ZeroDivisionError, match="average: the weights sum to zero"):
        cr.average(x, axis=1, weights=[1.0, -1.0, 0.0])


def test_a_spacing_that_requires_grad_is_refused():
    with pytest.raises(TypeError, match="gradient: the spacings are constants"):
        cr.gradient(data((4,)), cr.tensor(0.5, requires_grad=True))


# ------------------------------------------------------------------ against PyTorch
def _torch():
    """PyTorch, imported per test: without it these tests are skipped and the rest still run."""
    return pytest.importorskip("torch")


@pytest.mark.reference
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sort_values_and_gradient_match_torch(dim):
    torch = _torch()
    x, g = data((3, 4, 5)), data((3, 4, 5), seed=4)
    tx = torch.tensor(x, requires_grad=True)
    values, _ = torch.sort(tx, dim=dim, stable=True)
    (values * torch.tensor(g)).sum().backward()
    ours = grad_of(lambda t: cr.sum(cr.sort(t, axis=dim) * g), x)
    np.testing.assert_array_equal(cr.sort(x, axis=dim).data, values.detach().numpy())
    np.testing.assert_array_equal(ours, tx.grad.numpy())


@pytest.mark.reference
@pytest.mark.parametrize(("axis", "keepdims"), [(None, False), (0, False), (1, True), ((0, 2), False)])
def test_nansum_and_nanmean_values_and_gradients_match_torch(axis, keepdims):
    torch = _torch()
    x = with_nans(data((3, 4, 5)), share=0.25)
    for ours, theirs in ((cr.nansum, torch.nansum), (cr.nanmean, torch.nanmean)):
        tx = torch.tensor(x, requires_grad=True)
        dim = () if axis is None else axis
        expected = theirs(tx, dim=dim, keepdim=keepdims) if axis is not None else theirs(tx)
        expected.sum().backward()
        out = ours(x, axis=axis, keepdims=keepdims)
        np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12)
        np.testing.assert_allclose(
            grad_of(lambda t, ours=ours: cr.sum(ours(t, axis=axis, keepdims=keepdims)), x), tx.grad.numpy()
        )


@pytest.mark.reference
@pytest.mark.parametrize("edge_order", [1, 2])
def test_gradient_values_and_gradients_match_torch(edge_order):
    torch = _torch()
    x, g = data((4, 5)), data((4, 5), seed=7)
    tx = torch.tensor(x, requires_grad=True)
    parts = torch.gradient(tx, spacing=0.5, edge_order=edge_order)
    sum((p * torch.tensor(g)).sum() for p in parts).backward()
    ours = cr.gradient(x, 0.5, edge_order=edge_order)
    for o, p in zip(ours, parts):
        np.testing.assert_allclose(o.data, p.detach().numpy(), rtol=1e-12, atol=1e-12)
    gx = grad_of(
        lambda t: sum((cr.sum(p * g) for p in cr.gradient(t, 0.5, edge_order=edge_order)), cr.tensor(0.0)), x
    )
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.reference
def test_nan_to_num_gradient_matches_torch():
    torch = _torch()
    x = np.array([1.5, np.nan, np.inf, -np.inf, -2.0])
    tx = torch.tensor(x, requires_grad=True)
    torch.nan_to_num(tx, posinf=5.0).sum().backward()
    np.testing.assert_array_equal(grad_of(lambda t: cr.sum(cr.nan_to_num(t, posinf=5.0)), x), tx.grad.numpy())
