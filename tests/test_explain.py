"""explain(): the reverse pass replayed step by step, with the notes' numbers."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import topological_order


def notes_example():
    x, y, z = (cr.tensor(v, dtype="float64", requires_grad=True) for v in (1.0, 2.0, 0.0))
    with cr.capture_sites():
        f = (x + y) * cr.maximum(y, z)
    return x, y, z, f


def test_steps_follow_the_reverse_pass_of_the_notes_example():
    x, y, z, f = notes_example()
    trace = cr.explain(f)
    assert [s.op for s in trace.steps] == ["mul", "maximum", "add"]
    mul, maximum, add = trace.steps
    # f = a·m with a = x + y = 3, m = max(y, z) = 2: the multiply switches its inputs.
    assert mul.upstream == 1
    np.testing.assert_allclose([float(mul.local[0]), float(mul.local[1])], [2.0, 3.0])
    np.testing.assert_allclose([float(mul.downstream[0]), float(mul.downstream[1])], [2.0, 3.0])
    # max routes the whole gradient to y (the larger input), none to z.
    np.testing.assert_allclose([float(maximum.local[0]), float(maximum.local[1])], [1.0, 0.0])
    np.testing.assert_allclose([float(maximum.downstream[0]), float(maximum.downstream[1])], [3.0, 0.0])
    # add distributes its upstream gradient unchanged.
    np.testing.assert_allclose([float(add.downstream[0]), float(add.downstream[1])], [2.0, 2.0])


def test_fan_out_sums_the_two_paths_into_y_to_five():
    x, y, z, f = notes_example()
    trace = cr.explain(f)
    assert {k: float(v) for k, v in trace.leaf_gradients.items()} == {"x": 2.0, "y": 5.0, "z": 0.0}
    parts = sorted(float(g) for _, g in trace.leaf_sums["y"])
    assert parts == [2.0, 3.0]
    assert "5" in str(trace) and "summed over 2 uses" in str(trace)


def test_every_step_satisfies_downstream_equals_upstream_times_local():
    rng = np.random.default_rng(0)
    W = cr.tensor(rng.standard_normal((3, 4)), requires_grad=True)
    b = cr.tensor(rng.standard_normal(3), requires_grad=True)
    x = cr.tensor(rng.standard_normal(4), requires_grad=True)
    loss = cr.sum(cr.tanh(W @ x + b) ** 2)
    for step in cr.explain(loss).steps:
        g = np.asarray(step.upstream).reshape(-1)
        for local, down, shape in zip(step.local, step.downstream, step.input_shapes):
            if local is None:
                continue
            np.testing.assert_allclose(
                g @ local.reshape(g.size, -1), np.asarray(down).reshape(-1), rtol=1e-6, atol=1e-6
            )
            assert np.asarray(down).shape == shape


def test_leaf_gradients_equal_backward_and_grad_is_untouched():
    rng = np.random.default_rng(1)
    a = cr.tensor(rng.standard_normal(5), dtype="float64", requires_grad=True)
    out = cr.sum(cr.exp(a) * a)
    trace = cr.explain(out)
    assert a.grad is None
    out.backward()
    np.testing.assert_allclose(trace.leaf_gradients["a"], a.grad.data)


def test_step_count_equals_the_number_of_nodes():
    x, y, z, f = notes_example()
    g = cr.sin(f) * f + cr.exp(x)
    trace = cr.explain(g)
    assert len(trace.steps) == len(topological_order([g.grad_fn]))


def test_sites_point_at_the_line_that_created_each_op():
    x, y, z, f = notes_example()
    line = f"test_explain.py:{notes_example.__code__.co_firstlineno + 3}"
    for step in cr.explain(f).steps:
        assert step.site is not None and step.site.endswith(line)


def test_large_arrays_are_summarised_and_local_jacobians_skipped():
    x = cr.tensor(np.linspace(-1, 1, 100), requires_grad=True)
    trace = cr.explain(cr.sum(cr.sin(x)))
    sin_step = trace.steps[1]
    assert sin_step.local == [None]
    assert "|·|=" in str(trace)


def test_table_markdown_and_html_render():
    *_, f = notes_example()
    trace = cr.explain(f)
    text = str(trace)
    assert text.splitlines()[1].split()[:2] == ["#", "op"]
    assert trace.to_markdown().count("\n| ") >= 6
    assert "<table>" in trace._repr_html_()


def test_gradient_seed_for_a_non_scalar_output_and_its_errors():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * x
    trace = cr.explain(y, gradient=np.array([1.0, -1.0]))
    np.testing.assert_allclose(trace.leaf_gradients["x"], [2.0, -4.0])
    with pytest.raises(RuntimeError):
        cr.explain(y)
    with pytest.raises(ValueError):
        cr.explain(y, gradient=np.ones(3))


class SinCos(cr.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.sin(x), cr.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        (x,) = ctx.saved_tensors
        return g_sin * cr.cos(x) - g_cos * cr.sin(x)


def test_a_custom_function_is_one_step_with_its_name_and_one_upstream_gradient_per_output():
    x = cr.tensor([0.5, 1.0], dtype="float64", requires_grad=True)
    with cr.capture_sites():
        s, c = SinCos.apply(x)
    trace = cr.explain((3 * s + 2 * c).sum())
    function = next(step for step in trace.steps if step.op == "SinCos")
    assert function.node == "SinCosBackward" and function.output_shape == ((2,), (2,))
    here = test_a_custom_function_is_one_step_with_its_name_and_one_upstream_gradient_per_output
    assert function.site.endswith(f"test_explain.py:{here.__code__.co_firstlineno + 3}")
    g_sin, g_cos = function.upstream
    np.testing.assert_array_equal(g_sin, [3.0, 3.0])
    np.testing.assert_array_equal(g_cos, [2.0, 2.0])
    expected = 3 * np.cos([0.5, 1.0]) - 2 * np.sin([0.5, 1.0])
    np.testing.assert_allclose(function.downstream[0], expected)
    np.testing.assert_allclose(trace.leaf_gradients["x"], expected)
    assert [step.op for step in trace.steps][-3:] == ["SinCos[1]", "SinCos[0]", "SinCos"]
    assert "SinCos" in str(trace) and "SinCos" in trace.to_markdown()


def local_cell(trace, op: str) -> str:
    """The printed local Jacobian of the first input of the step ``op``."""
    header, *rows = trace.rows()
    row = next(r for r in rows if r[1] == op)
    return row[header.index("local ∂out/∂in")]


def test_an_elementwise_local_jacobian_prints_as_its_diagonal_matrix():
    x = cr.tensor([1.0, 2.0, 3.0], dtype="float64", requires_grad=True)
    trace = cr.explain(cr.sum(x**2))
    assert local_cell(trace, "pow") == "[[2., 0., 0.],\n [0., 4., 0.],\n [0., 0., 6.]]"  # diag(2x)
    lines = str(trace).splitlines()
    top = next(k for k, line in enumerate(lines) if "[[2., 0., 0.]," in line)
    column = lines[top].index("[[2.")
    assert [line[column : column + 14] for line in lines[top : top + 3]] == [
        "[[2., 0., 0.],",
        " [0., 4., 0.],",
        " [0., 0., 6.]]",
    ]
    assert "[[2., 0., 0.],<br> [0., 4., 0.],<br> [0., 0., 6.]]" in trace.to_markdown()
    assert "<pre>[[2., 0., 0.],\n [0., 4., 0.],\n [0., 0., 6.]]</pre>" in trace._repr_html_()


@pytest.mark.parametrize(("n", "matrix"), [(8, True), (9, False)])
def test_local_jacobians_up_to_8_by_8_are_matrices_and_larger_ones_summaries(n, matrix):
    x = cr.tensor(np.linspace(0.5, 1.0, n), dtype="float64", requires_grad=True)
    trace = cr.explain(cr.sum(cr.exp(x)))
    cell = local_cell(trace, "exp")
    if matrix:
        J = np.array([[float(v) for v in line.strip(" [],").split(",")] for line in cell.splitlines()])
        np.testing.assert_allclose(J, np.diag(np.exp(x.numpy())), atol=5e-5)
        assert local_cell(trace, "sum") == "[" + ", ".join(["1."] * n) + "]"  # a gradient row, 1 × n
    else:
        assert cell.startswith(f"({n}, {n}) |·|=") and "\n" not in cell
        assert local_cell(trace, "sum").startswith(f"({n},) |·|=")


def test_a_local_jacobian_of_a_matrix_input_has_one_column_per_element():
    W = cr.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype="float64", requires_grad=True)
    v = cr.tensor([1.0, 0.0, -1.0], dtype="float64", requires_grad=True)
    cell = local_cell(cr.explain(cr.sum(W @ v)), "matmul")  # ∂(Wv)_i/∂W_jk = δ_ij v_k
    assert cell == "[[ 1.,  0., -1.,  0.,  0.,  0.],\n [ 0.,  0.,  0.,  1.,  0., -1.]]"


def test_an_input_that_is_not_a_tensor_shows_its_name_or_its_value():
    x = cr.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    scale = np.array([3.0, 4.0])
    k = cr.tensor(5.0, dtype="float64")  # a tensor that needs no gradient
    weights = np.arange(8.0)
    y = cr.sum(x * scale * k * 2.0 * np.ones(8)[:2] + cr.sum(weights * x[:1]) + 1.0)
    trace = cr.explain(y)
    constants = [
        name for step in trace.steps for name, shape in zip(step.inputs, step.input_shapes) if shape is None
    ]
    assert sorted(constants) == sorted(
        ["scale = [3., 4.]", "k = 5.", "2.", "[1., 1.]", "weights (8,)", "1."]
    )  # add reads nothing of the 1.0 it adds, but keeps the number to show it
    text = str(trace)
    assert "None" not in text and "scale = [3., 4.]" in text and "k = 5." in text


def test_a_number_added_shows_its_value_though_add_saves_nothing():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    trace = cr.explain(((x + 1.5) * 2).sum())
    add = next(step for step in trace.steps if step.op == "add")
    assert "1.5" in add.inputs
    assert "constant" not in str(trace)


def test_a_boolean_where_condition_is_shown_as_it_is():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    trace = cr.explain(cr.sum(cr.where(np.array([True, False]), 0.0, x)))
    assert "[ True, False]" in str(trace)
    np.testing.assert_array_equal(trace.steps[-1].downstream[-1], [0.0, 1.0])
