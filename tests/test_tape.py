"""GradientTape and Variable (TensorFlow style), against closed forms.

``with cr.GradientTape() as tape: tape.watch(x); y = ...`` records; ``tape.gradient``
and ``tape.jacobian`` run the reverse pass. Specified here: the notes' example,
persistent and non-persistent tapes, nested tapes (second derivatives), Variables,
None for unconnected sources, the structure of the result, output_gradients and
stop_recording; then, as TensorFlow: several tapes over one computation, what a tape
recorded (only its block, only what it watches), reset(), nested dicts/lists/tuples of
targets and sources, and tapes kept per thread.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

from .optable import EXACT, values

pytestmark = pytest.mark.usefixtures("float64_default")


def test_gradient_of_5_dot_x_x_is_10x():
    x = cr.tensor([0.0, 1.0, 2.0, 3.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = 5 * cr.dot(x, x)
    g = tape.gradient(y, x)
    assert isinstance(g, cr.Tensor) and g.shape == x.shape
    np.testing.assert_allclose(values(g), 10 * x.data, **EXACT)


def test_gradient_matches_central_differences():
    X = cr.tensor(np.random.default_rng(0).standard_normal((2, 3)))
    f = lambda X: cr.sum(cr.tanh(X) * X) + cr.logsumexp(X)
    with cr.GradientTape() as tape:
        tape.watch(X)
        y = f(X)
    np.testing.assert_allclose(
        values(tape.gradient(y, X)), cr.numerical_grad(f, X.data), rtol=1e-6, atol=1e-8
    )


def test_non_persistent_tape_answers_one_gradient_then_raises_runtime_error():
    x = cr.tensor([1.0, 2.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = cr.sum(x**3)
    np.testing.assert_allclose(values(tape.gradient(y, x)), 3 * x.data**2, **EXACT)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.jacobian(y, x)


def test_non_persistent_tape_answers_one_jacobian_then_raises_runtime_error():
    x = cr.tensor([1.0, 2.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = x**3
    np.testing.assert_allclose(values(tape.jacobian(y, x)), np.diag(3 * x.data**2), **EXACT)
    with pytest.raises(RuntimeError, match="persistent"):
        tape.gradient(y, x)


def test_persistent_tape_answers_many_gradients_and_jacobians():
    x = cr.tensor([1.0, -2.0])
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(x)
        a = x * x
        b = cr.sum(a * x)
    for _ in range(2):
        np.testing.assert_allclose(values(tape.gradient(a, x)), 2 * x.data, **EXACT)
        np.testing.assert_allclose(values(tape.gradient(b, x)), 3 * x.data**2, **EXACT)
        np.testing.assert_allclose(values(tape.jacobian(a, x)), np.diag(2 * x.data), **EXACT)


def test_nested_tapes_give_second_derivative_of_x_cubed_at_3_as_18():
    x = cr.tensor(3.0)
    with cr.GradientTape() as outer:
        outer.watch(x)
        with cr.GradientTape() as inner:
            inner.watch(x)
            y = x**3
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert float(dy) == pytest.approx(27.0)
    assert float(d2y) == pytest.approx(18.0)


def test_nested_tapes_give_third_derivative_of_sin_as_minus_cos():
    x = cr.tensor(0.7)
    with cr.GradientTape() as t3:
        t3.watch(x)
        with cr.GradientTape() as t2:
            t2.watch(x)
            with cr.GradientTape() as t1:
                t1.watch(x)
                y = cr.sin(x)
            d1 = t1.gradient(y, x)
        d2 = t2.gradient(d1, x)
    d3 = t3.gradient(d2, x)
    assert (float(d1), float(d2), float(d3)) == pytest.approx((np.cos(0.7), -np.sin(0.7), -np.cos(0.7)))


def test_outer_tape_jacobian_of_inner_gradient_is_the_hessian():
    x = cr.tensor([1.0, 2.0, -0.5])
    with cr.GradientTape() as outer:
        outer.watch(x)
        with cr.GradientTape() as inner:
            inner.watch(x)
            y = cr.sum(x**3) + x[0] * x[1]
        g = inner.gradient(y, x)
    H = outer.jacobian(g, x)
    expected = np.diag(6 * x.data) + np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(values(H), expected, **EXACT)


def test_variable_is_watched_without_watch():
    v = cr.Variable([1.0, 2.0, 3.0])
    assert isinstance(v, cr.Tensor) and v.requires_grad
    with cr.GradientTape() as tape:
        y = cr.sum(cr.exp(v))
    np.testing.assert_allclose(values(tape.gradient(y, v)), np.exp(v.data), **EXACT)


def test_non_trainable_variable_is_not_watched():
    v = cr.Variable([1.0, 2.0], trainable=False)
    with cr.GradientTape() as tape:
        y = cr.sum(v * v)
    assert tape.gradient(y, v) is None


def test_variable_assign_replaces_the_value_the_next_tape_sees():
    v = cr.Variable([1.0, 2.0])
    v.assign([3.0, -1.0])
    with cr.GradientTape() as tape:
        y = cr.sum(v**2)
    np.testing.assert_allclose(values(tape.gradient(y, v)), [6.0, -2.0], **EXACT)
    with pytest.raises(ValueError):
        v.assign([1.0, 2.0, 3.0])


def test_gradient_is_none_for_a_source_the_target_does_not_depend_on():
    x, z = cr.tensor([1.0, 2.0]), cr.tensor(4.0)
    with cr.GradientTape(persistent=True) as tape:
        tape.watch([x, z])
        y = cr.sum(x * 3)
        unrelated = z * 2
    assert tape.gradient(y, z) is None
    assert tape.gradient(unrelated, x) is None
    assert tape.gradient(cr.sum(cr.ones(2)), x) is None
    np.testing.assert_allclose(values(tape.gradient(y, x)), [3.0, 3.0], **EXACT)


def test_gradient_is_none_for_an_unwatched_source():
    x, w = cr.tensor([1.0, 2.0]), cr.tensor([5.0, 6.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = cr.sum(x * w)
    gx, gw = tape.gradient(y, [x, w])
    np.testing.assert_allclose(values(gx), w.data, **EXACT)
    assert gw is None


def test_list_of_sources_gives_a_list_of_gradients():
    v, u = cr.Variable([1.0, 2.0]), cr.Variable(3.0)
    w = cr.Variable([7.0])
    with cr.GradientTape() as tape:
        y = cr.sum(v * v) * u
    grads = tape.gradient(y, [v, u, w])
    assert isinstance(grads, list) and len(grads) == 3
    np.testing.assert_allclose(values(grads[0]), 2 * v.data * 3.0, **EXACT)
    assert float(grads[1]) == pytest.approx(5.0)
    assert grads[2] is None


def test_tuple_of_sources_gives_a_tuple_of_gradients():
    v, u = cr.Variable([1.0, 2.0]), cr.Variable(3.0)
    with cr.GradientTape() as tape:
        y = cr.sum(v * u)
    grads = tape.gradient(y, (v, u))
    assert isinstance(grads, tuple) and len(grads) == 2
    np.testing.assert_allclose(values(grads[0]), [3.0, 3.0], **EXACT)
    assert float(grads[1]) == pytest.approx(3.0)


def test_non_scalar_target_gives_the_gradient_of_its_sum():
    v = cr.Variable([1.0, 2.0, 3.0])
    with cr.GradientTape() as tape:
        y = cr.outer(v, v)
    np.testing.assert_allclose(values(tape.gradient(y, v)), 2 * v.data.sum() * np.ones(3), **EXACT)


@pytest.mark.parametrize("as_tensor", [False, True], ids=["ndarray", "tensor"])
def test_output_gradients_weight_the_target(as_tensor):
    v = cr.Variable([1.0, 2.0, 3.0])
    weights = np.array([1.0, -10.0, 0.5])
    with cr.GradientTape() as tape:
        y = v**2
    g = tape.gradient(y, v, output_gradients=cr.tensor(weights) if as_tensor else weights)
    np.testing.assert_allclose(values(g), weights * 2 * v.data, **EXACT)


def test_tape_jacobian_has_target_shape_plus_source_shape():
    """Y = XW: dY_ij / dW_kl = δ_jl X_ik."""
    X = np.random.default_rng(1).standard_normal((2, 3))
    W = cr.Variable(np.random.default_rng(2).standard_normal((3, 4)))
    with cr.GradientTape() as tape:
        Y = cr.matmul(cr.tensor(X), W)
    J = tape.jacobian(Y, W)
    assert J.shape == (2, 4, 3, 4)
    np.testing.assert_allclose(values(J), np.einsum("ik,jl->ijkl", X, np.eye(4)), **EXACT)


def test_tape_jacobian_of_softmax_is_diag_p_minus_ppT():
    z = cr.tensor(np.random.default_rng(3).standard_normal(4))
    with cr.GradientTape() as tape:
        tape.watch(z)
        p = cr.exp(z - cr.logsumexp(z))
    J = tape.jacobian(p, z)
    np.testing.assert_allclose(values(J), np.diag(p.data) - np.outer(p.data, p.data), rtol=1e-9, atol=1e-12)


def test_stop_recording_stops_recording():
    v = cr.Variable([1.0, 2.0])
    with cr.GradientTape(persistent=True) as tape:
        a = v * 2
        with tape.stop_recording():
            b = v * 3
        c = a + b
    assert not b.requires_grad and b.grad_fn is None
    np.testing.assert_allclose(values(tape.gradient(c, v)), [2.0, 2.0], **EXACT)
    assert tape.gradient(b, v) is None


def test_recording_resumes_after_stop_recording():
    v = cr.Variable(2.0)
    with cr.GradientTape() as tape:
        with tape.stop_recording():
            v * 3
        y = v**3
    assert float(tape.gradient(y, v)) == pytest.approx(12.0)


def test_gradient_can_be_asked_inside_the_with_block():
    x = cr.tensor([0.5, 1.5])
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = cr.sum(cr.sin(x))
        g = tape.gradient(y, x)
    np.testing.assert_allclose(values(g), np.cos(x.data), **EXACT)


def test_gradient_of_a_watched_tensor_with_respect_to_itself_is_ones():
    x = cr.tensor([[1.0, 2.0], [3.0, 4.0]])
    with cr.GradientTape() as tape:
        tape.watch(x)
    np.testing.assert_allclose(values(tape.gradient(x, x)), np.ones((2, 2)), **EXACT)


def test_watching_a_list_watches_each_tensor():
    x, y = cr.tensor(2.0), cr.tensor(5.0)
    with cr.GradientTape() as tape:
        tape.watch([x, y])
        z = x * y**2
    gx, gy = tape.gradient(z, [x, y])
    assert (float(gx), float(gy)) == pytest.approx((25.0, 20.0))


def test_watching_something_other_than_a_tensor_raises_type_error():
    with cr.GradientTape() as tape, pytest.raises(TypeError, match="Tensor"):
        tape.watch(np.ones(2))


def test_watch_does_not_leave_a_plain_tensor_requiring_grad_after_the_gradient():
    x = cr.tensor([1.0, 2.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = cr.sum(x * x)
    tape.gradient(y, x)
    assert not x.requires_grad
    assert x.grad is None


def test_tape_records_inside_no_grad():
    x = cr.tensor(2.0)
    with cr.no_grad(), cr.GradientTape() as tape:
        tape.watch(x)
        y = x**2
    assert float(tape.gradient(y, x)) == pytest.approx(4.0)


def test_fresh_tape_per_step_trains_a_variable_by_gradient_descent():
    """Loss Σ v²: the step v ← v - 0.25·2v halves v each time."""
    v = cr.Variable([1.0, -2.0])
    for _ in range(3):
        with cr.GradientTape() as tape:
            loss = cr.sum(v**2)
        v.assign(v.data - 0.25 * values(tape.gradient(loss, v)))
    np.testing.assert_allclose(values(v), [0.125, -0.25], **EXACT)
    assert v.requires_grad


# Several tapes over one computation (TensorFlow's semantics): each tape differentiates
# through what it recorded, and none frees what another can still ask for.


def test_two_non_persistent_tapes_recording_the_same_computation_each_give_2x():
    x = cr.tensor([1.0, -2.0, 3.0])
    with cr.GradientTape() as t1, cr.GradientTape() as t2:
        t1.watch(x)
        t2.watch(x)
        y = x * x
    np.testing.assert_allclose(values(t1.gradient(y, x)), 2 * x.data, **EXACT)
    np.testing.assert_allclose(values(t2.gradient(y, x)), 2 * x.data, **EXACT)


def test_two_tapes_watching_different_sources_each_differentiate_only_their_own():
    """y = sin(x)·z: t1 watches x only, so ∂y/∂x = cos(x)·z and z gets None; t2 the reverse."""
    x, z = cr.tensor([0.5, 1.0]), cr.tensor([2.0, -3.0])
    with cr.GradientTape() as t1, cr.GradientTape() as t2:
        t1.watch(x)
        t2.watch(z)
        y = cr.sin(x) * z
    gx, gz = t1.gradient(y, [x, z])
    np.testing.assert_allclose(values(gx), np.cos(x.data) * z.data, **EXACT)
    assert gz is None
    gx, gz = t2.gradient(y, [x, z])
    assert gx is None
    np.testing.assert_allclose(values(gz), np.sin(x.data), **EXACT)


def test_non_persistent_release_keeps_the_graph_a_persistent_tape_still_needs():
    """y = x·eˣ: dy/dx = (1 + x)·eˣ, asked of the non-persistent tape first."""
    x = cr.tensor([0.0, 1.0, -1.5])
    with cr.GradientTape(persistent=True) as keeper, cr.GradientTape() as once:
        keeper.watch(x)
        once.watch(x)
        y = x * cr.exp(x)
    expected = (1 + x.data) * np.exp(x.data)
    np.testing.assert_allclose(values(once.gradient(y, x)), expected, **EXACT)
    for _ in range(2):
        np.testing.assert_allclose(values(keeper.gradient(y, x)), expected, **EXACT)
    np.testing.assert_allclose(values(keeper.jacobian(y, x)), np.diag(expected), **EXACT)


def test_the_last_non_persistent_tape_to_ask_frees_the_saved_values():
    x = cr.tensor([1.0, 2.0])
    with cr.GradientTape() as t1, cr.GradientTape() as t2:
        t1.watch(x)
        t2.watch(x)
        y = cr.sum(cr.exp(x))
    t1.gradient(y, x)
    t2.gradient(y, x)
    with pytest.raises(RuntimeError, match="freed"):
        y.backward()


def test_a_tape_keeps_watching_a_tensor_another_tape_watched_first_and_left():
    x = cr.tensor(3.0)
    with cr.GradientTape() as outer:
        with cr.GradientTape() as inner:
            inner.watch(x)
            outer.watch(x)
        assert x.requires_grad
        y = x * x
    assert float(outer.gradient(y, x)) == pytest.approx(6.0)
    assert not x.requires_grad


def test_stop_recording_on_one_tape_leaves_the_other_recording():
    x = cr.tensor([1.0, 4.0])
    with cr.GradientTape() as paused, cr.GradientTape() as running:
        paused.watch(x)
        running.watch(x)
        with paused.stop_recording():
            y = x * x
    assert paused.gradient(y, x) is None
    np.testing.assert_allclose(values(running.gradient(y, x)), 2 * x.data, **EXACT)


# What a tape recorded: the operations in its block on what it watches, nothing else.


def test_a_target_computed_after_the_block_has_gradient_none():
    x = cr.tensor(2.0)
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    z = y * 2
    assert tape.gradient(z, x) is None


def test_a_value_computed_before_the_block_is_a_constant_to_the_tape():
    """h = 2v made outside; loss = h·v recorded: d loss/dv = h = 2v, not 4v."""
    v = cr.Variable(3.0)
    h = v * 2
    with cr.GradientTape() as tape:
        loss = h * v
    assert float(tape.gradient(loss, v)) == pytest.approx(6.0)


def test_a_watched_intermediate_computed_before_the_block_gets_its_gradient():
    """h = W·x₀ made outside, watched inside; y = Σh²: ∂y/∂h = 2h, and W is not recorded."""
    W, x0 = cr.Variable([1.0, -2.0]), cr.tensor([3.0, 0.5])
    h = W * x0
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(h)
        y = cr.sum(h * h)
    np.testing.assert_allclose(values(tape.gradient(y, h)), 2 * h.data, **EXACT)
    assert tape.gradient(y, W) is None
    with pytest.raises(RuntimeError, match="separate call"):
        tape.gradient(y, [h, W])


def test_entering_a_tape_inside_its_own_block_raises_value_error():
    tape = cr.GradientTape()
    with tape, pytest.raises(ValueError, match="already recording"), tape:
        pass


def test_stop_recording_outside_the_block_raises_runtime_error():
    tape = cr.GradientTape()
    with pytest.raises(RuntimeError, match="not recording"), tape.stop_recording():
        pass


# reset(): everything recorded is forgotten, as TensorFlow's tape.reset().


def test_reset_forgets_what_was_recorded_and_unwatches_the_watched_tensors():
    x = cr.tensor([1.0, 2.0])
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(x)
        before = x * x
        tape.reset()
        assert not x.requires_grad
        unwatched = x * 5
        tape.watch(x)
        after = x**3
    assert tape.gradient(before, x) is None
    assert tape.gradient(unwatched, x) is None
    np.testing.assert_allclose(values(tape.gradient(after, x)), 3 * x.data**2, **EXACT)
    np.testing.assert_allclose(values(tape.gradient([before, after], x)), 3 * x.data**2, **EXACT)


def test_reset_keeps_only_the_part_recorded_after_it():
    """TensorFlow's example: loss = v², reset, loss += 3v gives d loss/dv = 3."""
    v = cr.Variable(2.0)
    with cr.GradientTape() as tape:
        loss = v * v
        tape.reset()
        loss = loss + 3 * v
    assert float(tape.gradient(loss, v)) == pytest.approx(3.0)


def test_reset_lets_a_non_persistent_tape_answer_again():
    x = cr.tensor(2.0)
    with cr.GradientTape() as tape:
        tape.watch(x)
        assert float(tape.gradient(x * x, x)) == pytest.approx(4.0)
        tape.reset()
        tape.watch(x)
        y = x**3
    assert float(tape.gradient(y, x)) == pytest.approx(12.0)


def test_reset_outside_the_block_raises_value_error():
    tape = cr.GradientTape()
    with tape:
        pass
    with pytest.raises(ValueError, match="not recording"):
        tape.reset()


# Nested structures (TensorFlow's nest): dicts, lists and tuples of targets and sources.


def test_nested_sources_give_gradients_nested_the_same_way():
    """y = a·b + c² + 4d: ∂a = b, ∂b = a, ∂c = 2c, ∂d = 4."""
    from collections import namedtuple

    Pair = namedtuple("Pair", "first second")
    a, b, c, d = cr.tensor(2.0), cr.tensor(3.0), cr.tensor(-1.0), cr.tensor(7.0)
    with cr.GradientTape() as tape:
        tape.watch({"ab": [a, b], "cd": Pair(c, d)})
        y = a * b + c * c + 4 * d
    grads = tape.gradient(y, {"w": [a, (b, c)], "u": Pair(d, d)})
    assert list(grads) == ["w", "u"]
    assert isinstance(grads["w"], list) and isinstance(grads["w"][1], tuple)
    assert isinstance(grads["u"], Pair)
    (ga, (gb, gc)), (gd, gd2) = grads["w"], grads["u"]
    assert [float(g) for g in (ga, gb, gc, gd, gd2)] == pytest.approx([3.0, 2.0, -2.0, 4.0, 4.0])


def test_nested_targets_give_the_gradient_of_their_sum():
    """x² + x³ + Σx (each summed): 2x + 3x² + 1."""
    x = cr.tensor([1.0, -2.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        targets = {"square": x * x, "rest": [x**3, (cr.sum(x),)]}
    np.testing.assert_allclose(values(tape.gradient(targets, x)), 2 * x.data + 3 * x.data**2 + 1, **EXACT)


def test_output_gradients_nested_as_the_targets_seed_each_target():
    """g₁·x² + sin(x) (seed None means ones): g₁·2x + cos(x)."""
    x = cr.tensor([0.5, 2.0])
    g1 = np.array([3.0, -1.0])
    with cr.GradientTape() as tape:
        tape.watch(x)
        targets = (x * x, {"k": cr.sin(x)})
    g = tape.gradient(targets, [x], output_gradients=(g1, {"k": None}))
    assert isinstance(g, list)
    np.testing.assert_allclose(values(g[0]), g1 * 2 * x.data + np.cos(x.data), **EXACT)


def test_output_gradients_not_matching_the_targets_raise_value_error():
    x = cr.tensor([1.0, 2.0])
    with cr.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(ValueError, match="nested"):
        tape.gradient({"y": y}, x, output_gradients=[np.ones(2)])
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        tape.gradient(y, x, output_gradients=np.ones(3))


def test_a_source_that_is_not_a_tensor_raises_type_error():
    x = cr.tensor(1.0)
    with cr.GradientTape() as tape:
        tape.watch(x)
        y = x * x
    with pytest.raises(TypeError, match="str"):
        tape.gradient(y, {"x": x, "name": "x"})


def test_jacobian_takes_nested_sources():
    """y = x·z (elementwise): ∂y/∂x = diag(z), ∂y/∂z = diag(x)."""
    x, z = cr.tensor([1.0, 2.0]), cr.tensor([3.0, -4.0])
    with cr.GradientTape() as tape:
        tape.watch([x, z])
        y = x * z
    J = tape.jacobian(y, {"x": x, "z": z})
    np.testing.assert_allclose(values(J["x"]), np.diag(z.data), **EXACT)
    np.testing.assert_allclose(values(J["z"]), np.diag(x.data), **EXACT)


# The tapes recording are per thread.


def test_a_tape_open_in_another_thread_is_not_seen_by_this_one():
    """With no other tape in this thread, the gradient is not recorded (not nested)."""
    import threading

    opened, done = threading.Event(), threading.Event()
    other_result = {}

    def other_thread():
        w = cr.tensor(2.0)
        with cr.GradientTape() as tape:
            tape.watch(w)
            opened.set()
            done.wait(10)
            y = w**2
        other_result["grad"] = float(tape.gradient(y, w))

    worker = threading.Thread(target=other_thread)
    worker.start()
    try:
        assert opened.wait(10)
        x = cr.tensor(3.0)
        with cr.GradientTape() as tape:
            tape.watch(x)
            g = tape.gradient(x**3, x)
        assert float(g) == pytest.approx(27.0)
        assert g.grad_fn is None and not g.requires_grad
    finally:
        done.set()
        worker.join(10)
    assert other_result["grad"] == pytest.approx(4.0)
