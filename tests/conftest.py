"""Shared fixtures: every test starts and ends with chainrule's global modes at their defaults."""

import pytest

import chainrule as cr
import chainrule.distributed  # noqa: F401 - its collectives are rows of the table the generated tests walk


@pytest.fixture(autouse=True)
def restore_global_modes():
    """Put the default dtype and grad mode back, even when a test fails halfway."""
    dtype, enabled = cr.get_default_dtype(), cr.is_grad_enabled()
    yield
    cr.set_default_dtype(dtype)
    cr.set_grad_enabled(enabled)


@pytest.fixture
def float64_default():
    """Python floats become float64 inside the test (the autouse fixture restores it)."""
    import numpy as np

    cr.set_default_dtype(np.float64)
