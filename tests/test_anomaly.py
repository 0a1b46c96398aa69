"""detect_anomaly: the first op giving NaN/Inf is named with the user's line."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

THIS_FILE = "test_anomaly.py"


def line_of(fn, offset):
    return f"{THIS_FILE}:{fn.__code__.co_firstlineno + offset}"


def test_where_of_sqrt_at_zero_names_sqrt_in_the_backward_rule():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError) as info:
        y = cr.where(x > 0, cr.sqrt(x), 0.0).sum()
        y.backward()
    message = str(info.value)
    assert message.startswith("sqrt at ")
    assert line_of(test_where_of_sqrt_at_zero_names_sqrt_in_the_backward_rule, 3) in message
    assert "backward rule" in message and "NaN" in message
    assert x.grad is None


def test_log_of_zero_is_caught_in_the_forward_value():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError) as info:
        cr.log(x)
    message = str(info.value)
    assert message.startswith("log at ") and "forward value" in message and "Inf" in message
    assert line_of(test_log_of_zero_is_caught_in_the_forward_value, 3) in message


class NanBackward(cr.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * np.nan


def test_a_custom_function_returning_nan_in_backward_is_named():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError) as info:
        y = NanBackward.apply(x * 3).sum()
        y.backward()
    message = str(info.value)
    assert message.startswith("NanBackward at ")
    assert line_of(test_a_custom_function_returning_nan_in_backward_is_named, 3) in message


def test_nothing_is_raised_outside_the_context():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with np.errstate(all="ignore"):
        y = cr.where(x > 0, cr.sqrt(x), 0.0).sum()
        y.backward()
    assert np.isnan(x.grad.data[0])
    assert cr.log(cr.tensor([0.0])).data[0] == -np.inf


def test_the_context_restores_the_previous_state():
    from chainrule import mode

    with cr.detect_anomaly():
        assert mode.state().detect_anomaly and mode.state().debug
    assert not mode.state().detect_anomaly and not mode.state().debug


def test_finite_inputs_that_stay_finite_pass():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        cr.sum(cr.exp(x) * cr.log(x)).backward()
    assert np.isfinite(x.grad.data).all()


class NumpyLog(cr.Function):
    """(log x, 2 log x) computed in NumPy: a NaN no chainrule op sees being made."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        with np.errstate(all="ignore"):
            return cr.tensor(np.log(x.data)), cr.tensor(2 * np.log(x.data))

    @staticmethod
    def backward(ctx, g_log, g_twice):
        (x,) = ctx.saved_tensors
        return (g_log + 2 * g_twice) / x


def test_a_nan_made_by_a_custom_functions_forward_is_caught_naming_the_function():
    x = cr.tensor([-1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError) as info:
        NumpyLog.apply(x)
    message = str(info.value)
    assert message.startswith("NumpyLog at ") and "forward value (output 0;" in message
    assert "1 NaN" in message
    assert line_of(test_a_nan_made_by_a_custom_functions_forward_is_caught_naming_the_function, 3) in message


def test_a_custom_function_with_two_outputs_passes_when_everything_stays_finite():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        log, twice = NumpyLog.apply(x)
        (log + twice).sum().backward()
    np.testing.assert_allclose(x.grad.data, [3.0, 1.5])


class NumpyRootAndSquare(cr.Function):
    """(√x, x²) with both rules in NumPy: finite at 0, but d√x/dx = 1/(2√x) is not."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.tensor(np.sqrt(x.data)), cr.tensor(x.data**2)

    @staticmethod
    def backward(ctx, g_root, g_square):
        (x,) = ctx.saved_tensors
        with np.errstate(all="ignore"):
            return cr.tensor(g_root.data / (2 * np.sqrt(x.data)) + g_square.data * 2 * x.data)


def test_an_inf_in_the_backward_of_a_two_output_function_names_it():
    x = cr.tensor([0.0, 4.0], requires_grad=True)
    with cr.detect_anomaly(), pytest.raises(cr.AnomalyError) as info:
        root, square = NumpyRootAndSquare.apply(x)
        (root + square).sum().backward()
    message = str(info.value)
    assert message.startswith("NumpyRootAndSquare at ") and "backward rule" in message and "1 Inf" in message
    assert line_of(test_an_inf_in_the_backward_of_a_two_output_function_names_it, 3) in message
    assert x.grad is None
