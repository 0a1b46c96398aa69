"""The Tensor contract: making tensors, their dtypes, attributes, methods and conversions."""

import operator

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr

# ------------------------------------------------------------------ creation

CREATORS = {
    "tensor": lambda **kw: cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], **kw),
    "zeros": lambda **kw: cr.zeros(2, 3, **kw),
    "ones": lambda **kw: cr.ones((2, 3), **kw),
    "full": lambda **kw: cr.full((2, 3), 7.0, **kw),
    "eye": lambda **kw: cr.eye(3, **kw),
    "arange": lambda **kw: cr.arange(0.0, 3.0, 0.5, **kw),
    "zeros_like": lambda **kw: cr.zeros_like(np.ones((2, 3)), **kw),
    "ones_like": lambda **kw: cr.ones_like(np.ones((2, 3)), **kw),
    "randn": lambda **kw: cr.randn(2, 3, seed=0, **kw),
    "rand": lambda **kw: cr.rand(2, 3, seed=0, **kw),
}


@pytest.mark.parametrize("name", sorted(CREATORS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_creation_function_takes_dtype_and_requires_grad(name, dtype):
    t = CREATORS[name](dtype=dtype, requires_grad=True)
    assert isinstance(t, cr.Tensor)
    assert t.dtype == np.dtype(dtype)
    assert t.requires_grad and t.is_leaf and t.grad is None and t.grad_fn is None
    plain = CREATORS[name](dtype=dtype)
    assert not plain.requires_grad


def test_creation_functions_give_the_numbers_numpy_would():
    assert_array_equal(cr.zeros(2, 3).numpy(), np.zeros((2, 3)))
    assert cr.zeros((2, 3)).shape == cr.zeros(2, 3).shape == (2, 3)
    assert_array_equal(cr.ones(4).numpy(), np.ones(4))
    assert_array_equal(cr.full((2, 2), 3.5).numpy(), np.full((2, 2), 3.5))
    assert_array_equal(cr.eye(3).numpy(), np.eye(3))
    assert_array_equal(cr.eye(2, 3).numpy(), np.eye(2, 3))
    assert_array_equal(cr.arange(5).numpy(), np.arange(5))
    assert_array_equal(cr.arange(2, 8, 2).numpy(), [2, 4, 6])
    assert_allclose(cr.arange(0.0, 1.0, 0.25).numpy(), [0.0, 0.25, 0.5, 0.75])
    z = cr.zeros_like(cr.tensor([[1.0, 2.0]]))
    assert z.shape == (1, 2) and z.dtype == np.float32 and not z.numpy().any()
    o = cr.ones_like(np.zeros(3, dtype=np.float64))
    assert o.dtype == np.float64 and o.numpy().tolist() == [1.0, 1.0, 1.0]


def test_creation_dtypes_follow_the_default_and_the_fill_value():
    for t in (
        cr.zeros(2),
        cr.ones(2),
        cr.eye(2),
        cr.full(2, 1.5),
        cr.arange(0.0, 2.0),
        cr.randn(2, seed=0),
        cr.rand(2, seed=0),
    ):
        assert t.dtype == np.float32
    assert cr.full((2,), 3).dtype.kind == "i"
    assert cr.arange(5).dtype.kind == "i"


@pytest.mark.parametrize("make", [cr.randn, cr.rand])
def test_random_functions_are_reproducible_with_a_seed(make):
    a, b = make(3, 4, seed=42), make(3, 4, seed=42)
    assert a.shape == (3, 4)
    assert_array_equal(a.numpy(), b.numpy())
    assert not np.array_equal(a.numpy(), make(3, 4, seed=43).numpy())
    gen = np.random.default_rng(7)
    assert_array_equal(make(5, seed=gen).numpy(), make(5, seed=np.random.default_rng(7)).numpy())


def test_rand_draws_from_the_unit_interval_and_randn_is_standard_normal():
    u = cr.rand(10_000, seed=0, dtype=np.float64).numpy()
    assert u.min() >= 0.0 and u.max() < 1.0 and abs(u.mean() - 0.5) < 0.02
    n = cr.randn(10_000, seed=0, dtype=np.float64).numpy()
    assert abs(n.mean()) < 0.05 and abs(n.std() - 1.0) < 0.05


def test_tensor_copies_its_data():
    a = np.array([1.0, 2.0])
    t = cr.tensor(a)
    a[0] = 99.0
    assert t.tolist() == [1.0, 2.0]
    u = cr.tensor(t)
    u.numpy()[1] = -1.0
    assert t.tolist() == [1.0, 2.0]


def test_tensor_from_a_tensor_is_a_new_leaf():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = cr.tensor(x * 2)
    assert y.is_leaf and not y.requires_grad and y.tolist() == [2.0, 4.0]
    assert cr.tensor(x, requires_grad=True).requires_grad


# ------------------------------------------------------------------ dtypes


def test_python_floats_become_float32_by_default():
    assert cr.get_default_dtype() == np.float32
    assert cr.tensor(1.5).dtype == np.float32
    assert cr.tensor([1.0, 2.0]).dtype == np.float32
    assert cr.tensor([[1, 2.5]]).dtype == np.float32


def test_set_default_dtype_changes_what_python_floats_become():
    cr.set_default_dtype(np.float64)
    try:
        assert cr.get_default_dtype() == np.float64
        assert cr.tensor(1.5).dtype == np.float64
        assert cr.zeros(2).dtype == np.float64
        assert cr.randn(2, seed=0).dtype == np.float64
    finally:
        cr.set_default_dtype(np.float32)
    assert cr.tensor(1.5).dtype == np.float32


def test_set_default_dtype_rejects_non_floating_dtypes():
    with pytest.raises(TypeError):
        cr.set_default_dtype(np.int64)
    assert cr.get_default_dtype() == np.float32


@pytest.mark.parametrize(
    "dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, np.uint8, np.bool_]
)
def test_numpy_arrays_keep_their_dtype(dtype):
    a = np.arange(3).astype(dtype)
    assert cr.tensor(a).dtype == np.dtype(dtype)


def test_python_ints_stay_ints():
    assert cr.tensor(3).dtype.kind == "i"
    assert cr.tensor([1, 2, 3]).dtype.kind == "i"
    assert cr.tensor(True).dtype == np.bool_


def test_dtype_argument_converts():
    t = cr.tensor([1, 2], dtype=np.float64)
    assert t.dtype == np.float64 and t.tolist() == [1.0, 2.0]
    assert cr.tensor([1.7], dtype=np.int32).dtype == np.int32


# ------------------------------------------------------------------ attributes


def test_attributes_describe_the_data():
    data = np.arange(6, dtype=np.float64).reshape(2, 3)
    t = cr.tensor(data)
    assert isinstance(t.data, np.ndarray)
    assert_array_equal(t.data, data)
    assert t.shape == (2, 3) and t.ndim == 2 and t.size == 6 and t.dtype == np.float64
    assert_array_equal(t.T.numpy(), data.T)
    assert t.grad is None and not t.requires_grad and t.grad_fn is None and t.is_leaf


def test_zero_dimensional_tensor_attributes():
    t = cr.tensor(2.5)
    assert t.shape == () and t.ndim == 0 and t.size == 1


def test_results_of_recorded_ops_have_a_grad_fn_and_are_not_leaves():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    assert y.requires_grad and not y.is_leaf and y.grad_fn is not None
    assert "MulBackward" in repr(y.grad_fn)
    with cr.no_grad():
        z = x * 2
    assert not z.requires_grad and z.is_leaf and z.grad_fn is None


def test_grad_is_a_tensor_of_the_tensors_shape_after_backward():
    x = cr.tensor([1.0, 2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    assert isinstance(x.grad, cr.Tensor)
    assert x.grad.shape == x.shape
    assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_transpose_attribute_carries_the_gradient():
    x = cr.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    w = np.array([[1.0, 2.0]])
    (x.T * w).sum().backward()
    assert_allclose(x.grad.numpy(), [[1.0, 1.0, 1.0], [2.0, 2.0, 2.0]])


# ------------------------------------------------------------------ methods


def test_numpy_returns_the_underlying_array():
    t = cr.tensor([1.0, 2.0])
    a = t.numpy()
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert_array_equal(a, [1.0, 2.0])


def test_item_and_tolist():
    assert cr.tensor(3.5).item() == 3.5
    assert cr.tensor([[7]]).item() == 7
    assert isinstance(cr.tensor(2).item(), int)
    assert cr.tensor([[1.0, 2.0], [3.0, 4.0]]).tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(ValueError):
        cr.tensor([1.0, 2.0]).item()


def test_detach_shares_data_but_not_the_graph():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.grad_fn is None
    assert_array_equal(d.numpy(), [3.0, 6.0])
    assert np.shares_memory(d.numpy(), y.numpy())


def test_requires_grad_underscore_sets_the_flag_in_place_and_returns_self():
    t = cr.tensor([1.0, 2.0])
    assert t.requires_grad_() is t and t.requires_grad
    assert t.requires_grad_(False) is t and not t.requires_grad
    t.requires_grad = True
    assert t.requires_grad


def test_elementwise_reduction_and_shape_methods():
    x = cr.tensor(np.arange(6, dtype=np.float64) - 2.0)
    assert_allclose(x.exp().numpy(), np.exp(np.arange(6.0) - 2.0))
    assert_array_equal(x.relu().numpy(), [0, 0, 0, 1, 2, 3])
    m = x.reshape(2, 3)
    assert m.shape == (2, 3)
    assert x.reshape((3, 2)).shape == (3, 2)
    assert_array_equal(m.sum(axis=0).numpy(), [-1.0, 1.0, 3.0])
    assert m.sum().item() == 3.0


def test_methods_are_recorded_and_differentiable():
    x = cr.tensor([[0.0, 1.0, -1.0], [2.0, -2.0, 0.5]], dtype=np.float64, requires_grad=True)
    y = x.exp().sum(axis=0).reshape(3, 1).relu().sum()
    y.backward()
    assert_allclose(x.grad.numpy(), np.exp(x.numpy()))


# ------------------------------------------------------------------ repr


def test_repr_of_a_leaf_that_requires_grad():
    assert repr(cr.tensor([1.0, 2.0], requires_grad=True)) == "tensor([1., 2.], requires_grad=True)"


def test_repr_of_a_recorded_result_names_its_backward_node():
    x = cr.tensor(2.0, requires_grad=True)
    assert repr(x * 3.0) == "tensor(6., grad_fn=<MulBackward>)"


def test_repr_of_a_plain_tensor():
    assert repr(cr.tensor([1.0, 2.0])) == "tensor([1., 2.])"


# ------------------------------------------------------------------ NumPy interplay


def test_np_asarray_gives_the_data():
    t = cr.tensor([[1.0, 2.0]], requires_grad=True)
    a = np.asarray(t)
    assert isinstance(a, np.ndarray) and a.dtype == np.float32
    assert_array_equal(a, [[1.0, 2.0]])
    assert np.asarray(t, dtype=np.float64).dtype == np.float64


ARITHMETIC = [operator.add, operator.sub, operator.mul, operator.truediv, operator.pow]
COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("op", ARITHMETIC, ids=lambda f: f.__name__)
def test_ndarray_on_the_left_of_arithmetic_gives_a_tensor(op):
    a = np.array([1.0, 2.0, 3.0])
    x = cr.tensor([0.5, 1.0, 2.0], dtype=np.float64, requires_grad=True)
    out = op(a, x)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    assert_allclose(out.numpy(), op(a, x.numpy()))


def test_ndarray_on_the_left_of_matmul_gives_a_tensor():
    a = np.arange(6.0).reshape(2, 3)
    x = cr.tensor(np.ones((3, 2)), requires_grad=True)
    out = a @ x
    assert isinstance(out, cr.Tensor)
    assert_allclose(out.numpy(), a @ np.ones((3, 2)))
    out.sum().backward()
    assert_allclose(x.grad.numpy(), np.repeat(a.sum(axis=0)[:, None], 2, axis=1))


@pytest.mark.parametrize("op", COMPARISONS, ids=lambda f: f.__name__)
def test_comparisons_give_boolean_tensors_without_gradient(op):
    a = np.array([1.0, 2.0, 3.0])
    x = cr.tensor([2.0, 2.0, 2.0], requires_grad=True)
    for out in (op(a, x), op(x, a), op(x, 2.0)):
        assert isinstance(out, cr.Tensor)
        assert out.dtype == np.bool_ and not out.requires_grad and out.grad_fn is None
    assert_array_equal(op(a, x).numpy(), op(a, x.numpy()))


def test_gradient_flows_through_a_reflected_operator_with_an_ndarray():
    a = np.array([1.0, 2.0, 3.0])
    x = cr.tensor([4.0, 5.0, 6.0], dtype=np.float64, requires_grad=True)
    (a * x + a / x - a).sum().backward()
    assert_allclose(x.grad.numpy(), a - a / x.numpy() ** 2)


def test_python_scalars_on_either_side():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    assert_allclose((2 - x).numpy(), [1.0, 0.0])
    assert_allclose((2 / x).numpy(), [2.0, 1.0])
    assert_allclose((2**x).numpy(), [2.0, 4.0])
    assert (2.0 * x).dtype == np.float32


# ------------------------------------------------------------------ Python protocols


def test_a_zero_d_integer_tensor_is_an_index():
    t = cr.tensor([10.0, 20.0, 30.0])
    assert t[cr.tensor(1)].item() == 20.0
    assert [5, 6, 7][cr.tensor(2)] == 7
    assert range(10)[cr.tensor(3)] == 3


def test_an_integer_array_tensor_is_an_index():
    t = cr.tensor([10.0, 20.0, 30.0])
    assert t[cr.tensor([2, 0])].tolist() == [30.0, 10.0]


def test_a_float_tensor_is_not_an_index():
    with pytest.raises((TypeError, IndexError)):
        [1, 2, 3][cr.tensor(1.0)]


def test_bool_float_int_of_zero_d_tensors():
    assert bool(cr.tensor(1.0)) is True and bool(cr.tensor(0.0)) is False
    assert float(cr.tensor(2.5)) == 2.5 and isinstance(float(cr.tensor(2)), float)
    assert int(cr.tensor(3.9)) == 3 and isinstance(int(cr.tensor(3.0)), int)
    x = cr.tensor(4.0, requires_grad=True)
    assert float(x * x) == 16.0
    with pytest.raises(ValueError):
        bool(cr.tensor([1.0, 2.0]))


def test_tensors_hash_by_identity():
    a, b = cr.tensor(1.0), cr.tensor(1.0)
    table = {a: "a", b: "b"}
    assert len(table) == 2 and table[a] == "a" and table[b] == "b"
    assert len({a, b, a}) == 2
    assert cr.tensor(1.0) not in table
    assert hash(a) == hash(a)


def test_len_and_iteration_go_over_the_first_axis():
    t = cr.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    assert len(t) == 3
    rows = list(t)
    assert len(rows) == 3 and rows[2].tolist() == [5.0, 6.0]


# ------------------------------------------------------------------ errors


@pytest.mark.parametrize(
    "data",
    ["abc", {"a": 1}, None, np.array([1, "a"], dtype=object), np.array([1.0, 2.0], dtype=object)],
    ids=["str", "dict", "None", "object-mixed", "object-numbers"],
)
def test_unsupported_data_raises_type_error(data):
    with pytest.raises(TypeError):
        cr.tensor(data)


@pytest.mark.parametrize(
    "other",
    ["abc", {"a": 1}, None, np.array([1.0, 2.0], dtype=object)],
    ids=["str", "dict", "None", "object-array"],
)
def test_unsupported_operands_raise_type_error(other):
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(TypeError):
        x + other
    with pytest.raises(TypeError):
        other * x
    with pytest.raises(TypeError):
        cr.sub(x, other)
    assert x.tolist() == [1.0, 2.0] and x.grad is None


def test_unsupported_input_to_a_function_raises_type_error():
    with pytest.raises(TypeError):
        cr.exp("abc")
    with pytest.raises(TypeError):
        cr.sum(None)


def test_assigning_grad_of_the_wrong_shape_raises_value_error():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\)"):
        x.grad = np.zeros(3)
    assert x.grad is None
    x.grad = cr.tensor([0.5, 0.5])
    assert x.grad.tolist() == [0.5, 0.5]
    x.grad = None
    assert x.grad is None


def test_assigning_data_of_the_wrong_shape_raises_value_error():
    x = cr.tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        x.data = np.zeros((2, 2))
    assert x.tolist() == [1.0, 2.0]
    x.data = np.array([3.0, 4.0])
    assert x.tolist() == [3.0, 4.0] and x.dtype == np.float32


def test_requires_grad_on_an_integer_tensor_raises_runtime_error():
    with pytest.raises(RuntimeError):
        cr.tensor([1, 2], requires_grad=True)
    t = cr.tensor([1, 2])
    with pytest.raises(RuntimeError):
        t.requires_grad_()
    with pytest.raises(RuntimeError):
        t.requires_grad = True
    assert not t.requires_grad
    with pytest.raises(RuntimeError):
        cr.arange(3, requires_grad=True)
    with pytest.raises(RuntimeError):
        cr.zeros(2, dtype=np.int64, requires_grad=True)
