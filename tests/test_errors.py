"""Bad input raises a clear exception at the call that caused it, never a wrong number.

ValueError for incompatible shapes (the message names the public op and the shapes),
TypeError for unsupported types, RuntimeError for autograd misuse. A failed call
changes nothing: not the inputs' data, not their ``.grad``.
"""

import contextlib
import operator
import re

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import chainrule as cr


def leaf(*shape):
    n = int(np.prod(shape))
    return cr.tensor(np.arange(1.0, n + 1.0).reshape(shape), requires_grad=True)


@contextlib.contextmanager
def unchanged(*tensors):
    """Assert that the block leaves every tensor's data and grad exactly as they were."""
    before = [(t.numpy().copy(), None if t.grad is None else t.grad.numpy().copy()) for t in tensors]
    yield
    for t, (data, grad) in zip(tensors, before):
        assert_array_equal(t.numpy(), data)
        if grad is None:
            assert t.grad is None
        else:
            assert_array_equal(t.grad.numpy(), grad)


def names(message, *parts):
    """Assert that every part (op names, shapes) appears in the message."""
    for part in parts:
        assert part in message, f"{part!r} not in {message!r}"


# ------------------------------------------------------------------ shapes: binary ops

BINARY = {
    "add": (operator.add, cr.add),
    "sub": (operator.sub, cr.sub),
    "mul": (operator.mul, cr.mul),
    "div": (operator.truediv, cr.div),
    "pow": (operator.pow, cr.pow),
    "maximum": (None, cr.maximum),
    "minimum": (None, cr.minimum),
}


def test_add_of_incompatible_shapes_names_add_and_both_shapes():
    a, b = leaf(2, 3), leaf(4)
    with unchanged(a, b), pytest.raises(ValueError) as info:
        a + b
    names(str(info.value), "add", "(2, 3)", "(4,)")


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_ops_of_incompatible_shapes_name_the_op_and_both_shapes(name):
    operator_form, function_form = BINARY[name]
    a, b = leaf(2, 3), leaf(3, 2)
    forms = [function_form] + ([operator_form] if operator_form else [])
    for f in forms:
        with unchanged(a, b), pytest.raises(ValueError) as info:
            f(a, b)
        names(str(info.value), name, "(2, 3)", "(3, 2)")


def test_ndarray_on_the_left_with_incompatible_shapes():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        np.ones((4,)) * a
    names(str(info.value), "mul", "(4,)", "(2, 3)")


def test_where_with_incompatible_shapes():
    a = leaf(2)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.where(cr.tensor([True, False]), a, cr.ones(3))
    names(str(info.value), "where", "(2,)", "(3,)")


# ------------------------------------------------------------------ shapes: products


def test_matmul_operator_of_misaligned_shapes_names_matmul():
    a, b = leaf(2, 3), leaf(4, 5)
    with unchanged(a, b), pytest.raises(ValueError) as info:
        a @ b
    names(str(info.value), "matmul", "(2, 3)", "(4, 5)")


def test_matmul_function_and_reflected_operator_of_misaligned_shapes():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.matmul(a, cr.ones(4, 5))
    names(str(info.value), "matmul", "(2, 3)", "(4, 5)")
    with unchanged(a), pytest.raises(ValueError) as info:
        np.ones((4, 5)) @ a
    names(str(info.value), "matmul", "(4, 5)", "(2, 3)")


def test_matmul_of_vectors_of_different_lengths():
    a = leaf(3)
    with unchanged(a), pytest.raises(ValueError) as info:
        a @ cr.ones(4)
    names(str(info.value), "matmul", "(3,)", "(4,)")


def test_matmul_with_batch_axes_that_do_not_broadcast():
    a = leaf(2, 2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        a @ cr.ones(3, 3, 4)
    names(str(info.value), "matmul", "(2, 2, 3)", "(3, 3, 4)")


def test_matmul_with_a_zero_d_operand():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        a @ cr.tensor(2.0)
    names(str(info.value), "matmul", "(2, 3)", "()")


def test_dot_tensordot_einsum_of_mismatched_shapes_name_the_op():
    a = leaf(2, 3)
    cases = {
        "dot": lambda: cr.dot(a, cr.ones(2, 3)),
        "tensordot": lambda: cr.tensordot(a, cr.ones(2, 3), axes=1),
        "einsum": lambda: cr.einsum("ij,jk->ik", a, cr.ones(4, 5)),
    }
    for name, call in cases.items():
        with unchanged(a), pytest.raises(ValueError) as info:
            call()
        names(str(info.value), name, "(2, 3)")


# ------------------------------------------------------------------ shapes: shape ops


def test_reshape_to_an_incompatible_shape_names_reshape_and_both_shapes():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        a.reshape(4, 2)
    names(str(info.value), "reshape", "(2, 3)", "(4, 2)")
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.reshape(a, (-1, -1))
    names(str(info.value), "reshape", "(2, 3)")


def test_broadcast_to_an_incompatible_shape():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.broadcast_to(a, (3, 3))
    names(str(info.value), "broadcast_to", "(2, 3)", "(3, 3)")


def test_transpose_with_axes_that_are_not_a_permutation():
    a = leaf(2, 3)
    for axes in [(0, 0), (0, 1, 2), (0, 2)]:
        with unchanged(a), pytest.raises(ValueError) as info:
            cr.transpose(a, axes)
        names(str(info.value), "transpose", "(2, 3)")


def test_concatenate_of_mismatched_shapes_names_concatenate_and_both_shapes():
    a, b = leaf(2, 3), leaf(2, 4)
    with unchanged(a, b), pytest.raises(ValueError) as info:
        cr.concatenate([a, b])
    names(str(info.value), "concatenate", "(2, 3)", "(2, 4)")
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.concatenate([a, cr.ones(3)])
    names(str(info.value), "concatenate", "(2, 3)", "(3,)")


def test_concatenate_along_a_missing_axis():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.concatenate([a, a], axis=2)
    names(str(info.value), "concatenate", "(2, 3)")


def test_stack_of_mismatched_shapes_names_stack_and_both_shapes():
    a, b = leaf(2, 3), leaf(3, 2)
    with unchanged(a, b), pytest.raises(ValueError) as info:
        cr.stack([a, b])
    names(str(info.value), "stack", "(2, 3)", "(3, 2)")


def test_stack_along_a_missing_axis_names_stack():
    a = leaf(2)
    with unchanged(a), pytest.raises((ValueError, IndexError)) as info:
        cr.stack([a, a], axis=3)
    names(str(info.value), "stack")


def test_squeeze_of_an_axis_that_is_not_one():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.squeeze(a, axis=0)
    names(str(info.value), "squeeze", "(2, 3)")


def test_squeeze_of_an_axis_out_of_range_raises_instead_of_squeezing_another():
    a = leaf(1, 3, 1)
    with unchanged(a), pytest.raises((ValueError, IndexError)) as info:
        cr.squeeze(a, axis=3)
    names(str(info.value), "squeeze")


def test_swapaxes_with_an_axis_out_of_range_names_swapaxes():
    a = leaf(2, 3)
    for axis2 in (5, -3):
        with unchanged(a), pytest.raises((ValueError, IndexError)) as info:
            cr.swapaxes(a, 0, axis2)
        names(str(info.value), "swapaxes", "(2, 3)")


def test_expand_dims_out_of_range_and_repeated_axes():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.expand_dims(a, 5)
    names(str(info.value), "expand_dims", "(2, 3)")
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.expand_dims(a, (0, 0))
    names(str(info.value), "expand_dims")


def test_split_into_unequal_sections():
    a = leaf(5)
    with unchanged(a), pytest.raises(ValueError) as info:
        cr.split(a, 2)
    names(str(info.value), "split", "5")


def test_split_along_a_missing_axis_names_split():
    a = leaf(2, 4)
    with unchanged(a), pytest.raises((ValueError, IndexError)) as info:
        cr.split(a, 2, axis=2)
    names(str(info.value), "split")


def test_split_at_negative_indices_counts_from_the_end_as_numpy():
    a = cr.arange(6.0)
    parts = cr.split(a, [-2])
    expected = np.split(np.arange(6.0), [-2])
    assert [p.tolist() for p in parts] == [e.tolist() for e in expected]


def test_index_out_of_bounds_raises_index_error_naming_the_shape():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(IndexError) as info:
        a[5]
    names(str(info.value), "(2, 3)")


# ------------------------------------------------------------------ shapes: reductions

REDUCTIONS = {
    "sum": cr.sum,
    "mean": cr.mean,
    "max": cr.max,
    "min": cr.min,
    "prod": cr.prod,
    "logsumexp": cr.logsumexp,
    "var": cr.var,
    "std": cr.std,
}


def test_sum_with_a_bad_axis_names_sum_the_axis_and_the_shape():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        a.sum(axis=2)
    names(str(info.value), "sum", "2", "(2, 3)")
    with unchanged(a), pytest.raises(ValueError) as info:
        a.sum(axis=(0, -3))
    names(str(info.value), "sum", "-3", "(2, 3)")


@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_every_reduction_with_a_bad_axis_names_itself(name):
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        REDUCTIONS[name](a, axis=4)
    message = str(info.value)
    assert re.match(rf"{name}\b", message), message
    names(message, "(2, 3)")


def test_sum_with_a_repeated_axis_raises_as_numpy():
    a = leaf(2, 3)
    with unchanged(a), pytest.raises(ValueError) as info:
        a.sum(axis=(0, 0))
    names(str(info.value), "sum")


def test_reduction_axis_of_the_wrong_type_is_a_type_error():
    a = leaf(2, 3)
    for axis in ("0", 1.0, True):
        with unchanged(a), pytest.raises(TypeError):
            a.sum(axis=axis)


def test_max_of_an_empty_tensor():
    with pytest.raises(ValueError) as info:
        cr.max(cr.zeros(0))
    names(str(info.value), "max", "(0,)")


# ------------------------------------------------------------------ types


@pytest.mark.parametrize(
    "call",
    [
        lambda a: cr.tensor("abc"),
        lambda a: a + "abc",
        lambda a: "abc" * a,
        lambda a: cr.exp("abc"),
        lambda a: cr.matmul(a, "abc"),
        lambda a: cr.concatenate([a, "abc"]),
        lambda a: cr.outer(a, "abc"),
        lambda a: a + {"a": 1},
        lambda a: a * None,
        lambda a: a - np.array(["x", "y", "z"]),
        lambda a: a + np.ones(3, dtype=object),
        lambda a: cr.where(a, a, a),  # the condition must be boolean
        lambda a: (a * 2).backward(gradient="abc"),
    ],
    ids=[
        "tensor",
        "add",
        "rmul",
        "exp",
        "matmul",
        "concatenate",
        "outer",
        "dict",
        "None",
        "str-array",
        "object-array",
        "where-condition",
        "backward-gradient",
    ],
)
def test_unsupported_types_raise_type_error(call):
    a = leaf(3)
    with unchanged(a), pytest.raises(TypeError):
        call(a)


def test_type_errors_of_operators_name_the_op():
    a = leaf(3)
    with pytest.raises(TypeError, match="add"):
        a + "abc"
    with pytest.raises(TypeError, match="mul"):
        a * None


# ------------------------------------------------------------------ autograd misuse


def test_backward_twice_through_a_freed_graph():
    a = leaf(3)
    y = (a * a).sum()
    y.backward()
    with unchanged(a), pytest.raises(RuntimeError, match="retain_graph"):
        y.backward()


def test_backward_of_a_non_scalar_without_gradient():
    a = leaf(3)
    y = a * 2
    with unchanged(a), pytest.raises(RuntimeError) as info:
        y.backward()
    names(str(info.value), "(3,)")


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError):
        cr.ones(3).sum().backward()
    a = leaf(3)
    with cr.no_grad():
        y = (a * 2).sum()
    with unchanged(a), pytest.raises(RuntimeError):
        y.backward()


def test_backward_with_a_gradient_of_the_wrong_shape_is_a_value_error():
    a = leaf(2, 3)
    y = a * 2
    with unchanged(a), pytest.raises(ValueError) as info:
        y.backward(gradient=np.ones((3, 2)))
    names(str(info.value), "(3, 2)", "(2, 3)")


def test_requires_grad_on_an_integer_tensor():
    with pytest.raises(RuntimeError):
        cr.tensor([1, 2, 3], requires_grad=True)
    t = cr.tensor([1, 2, 3])
    with pytest.raises(RuntimeError):
        t.requires_grad_(True)
    assert not t.requires_grad


def test_a_non_leaf_cannot_stop_requiring_grad():
    y = leaf(3) * 2
    with pytest.raises(RuntimeError):
        y.requires_grad_(False)
    assert y.requires_grad


def test_autograd_grad_with_respect_to_a_tensor_that_does_not_require_grad():
    a = leaf(3)
    with pytest.raises(RuntimeError):
        cr.autograd.grad((a * 2).sum(), cr.ones(3))


def test_function_backward_returning_a_gradient_of_the_wrong_shape():
    class Wrong(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            return cr.ones(5)

    a = leaf(3)
    y = Wrong.apply(a).sum()
    with unchanged(a), pytest.raises(ValueError) as info:
        y.backward()
    names(str(info.value), "Wrong", "(5,)", "(3,)")
