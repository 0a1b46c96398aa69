"""Localized gradcheck: a failing check names the first op whose rule is wrong."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr


class WrongCube(cr.Function):
    """x³ with the wrong derivative 2x² (should be 3x²)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 2 * x**2


class Cube(WrongCube):
    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


def ten_op_model(cube):
    rng = np.random.default_rng(0)
    W1 = cr.tensor(rng.standard_normal((4, 3)))
    W2 = cr.tensor(rng.standard_normal((2, 4)))

    def model(x):
        h = cr.tanh(W1 @ x)  # 2 ops
        h = h * 0.5 + 0.25  # 2 ops
        h = cube.apply(h)  # the custom op
        h = cr.sin(h)
        h = W2 @ h
        h = cr.exp(h * 0.1)  # 2 ops
        return cr.sum(h * h)  # 2 ops

    return model


def test_a_wrong_backward_inside_a_ten_op_model_is_named_with_its_line():
    x = cr.tensor(np.random.default_rng(1).standard_normal(3), requires_grad=True)
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(ten_op_model(WrongCube), (x,))
    message = str(info.value)
    assert "the first op whose reverse rule disagrees: WrongCube at " in message
    assert f"test_gradcheck_localize.py:{ten_op_model.__code__.co_firstlineno + 8}" in message
    # The culprit's own numbers: 2x² analytically against 3x² numerically, ratio 2/3.
    tail = message.split("WrongCube at", 1)[1]
    analytic = float(tail.split(" is ")[1].split(" analytically")[0])
    numeric = float(tail.split(" but ")[1].split(" by central")[0])
    np.testing.assert_allclose(analytic / numeric, 2 / 3, rtol=1e-4)


def test_the_correct_model_passes():
    x = cr.tensor(np.random.default_rng(1).standard_normal(3), requires_grad=True)
    assert cr.gradcheck(ten_op_model(Cube), (x,))


def test_localize_false_gives_only_the_whole_function_message():
    x = cr.tensor(np.random.default_rng(1).standard_normal(3), requires_grad=True)
    with pytest.raises(cr.GradcheckError) as info:
        cr.gradcheck(ten_op_model(WrongCube), (x,), localize=False)
    assert "reverse rule disagrees" not in str(info.value)
    assert "input 0" in str(info.value)


def test_gradcheck_error_is_an_assertion_error_and_leaves_inputs_untouched():
    data = np.random.default_rng(2).standard_normal(3)
    x = cr.tensor(data, requires_grad=True)
    with pytest.raises(AssertionError):
        cr.gradcheck(ten_op_model(WrongCube), (x,))
    np.testing.assert_array_equal(x.data, data)
    assert x.grad is None


class SinCosWrongCos(cr.Function):
    """(sin x, cos x) whose backward gets cos' wrong: +sin x instead of −sin x."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.sin(x), cr.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * cr.cos(x) + g_cos * cr.sin(x)


def test_a_wrong_rule_for_one_output_of_a_two_output_function_is_named_with_that_output():
    x = cr.tensor(np.array([0.3, -0.7, 1.1]), requires_grad=True)
    with pytest.raises(cr.GradcheckError, match=r"SinCosWrongCos \(output 1\)"):
        cr.gradcheck(lambda v: sum(o.sum() for o in SinCosWrongCos.apply(v)), (x,))
