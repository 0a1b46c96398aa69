"""Hooks on the reverse pass: tensor gradient hooks, post-accumulate hooks and callbacks
queued for the end of the pass, each with a handle that removes it (as PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr


def leaf(value) -> cr.Tensor:
    return cr.tensor(value, dtype="float64", requires_grad=True)


# ------------------------------------------------------------------ register_hook


def test_a_leaf_hook_sees_the_total_gradient_before_it_is_accumulated():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append((g.tolist(), x.grad)))
    (x * x + 3 * x).sum().backward()  # 2x + 3, summed over both uses of x
    assert seen == [([5.0, 7.0], None)]
    assert_array_equal(x.grad.numpy(), [5.0, 7.0])


def test_what_a_hook_returns_replaces_the_gradient_and_none_keeps_it():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g * 10)
    x.register_hook(lambda g: None)
    (x * x).sum().backward()
    assert_array_equal(x.grad.numpy(), [20.0, 40.0])


def test_several_hooks_on_one_tensor_run_in_registration_order_each_seeing_the_last_result():
    x = leaf(1.0)
    calls = []
    x.register_hook(lambda g: calls.append(("first", g.item())) or g + 1)
    x.register_hook(lambda g: calls.append(("second", g.item())))
    x.register_hook(lambda g: calls.append(("third", g.item())) or g * 2)
    (x * 3).backward()
    assert calls == [("first", 3.0), ("second", 4.0), ("third", 4.0)]
    assert x.grad.item() == 8.0


def test_a_hook_on_a_computed_tensor_sees_its_gradient_and_changes_what_flows_below():
    x = leaf([1.0, 2.0])
    h = x * 3
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()) or g * 0.5)
    (h * h).sum().backward()  # dy/dh = 2h = 6x; dy/dx = 3 · (6x / 2)
    assert seen == [[6.0, 12.0]]
    assert_array_equal(x.grad.numpy(), [9.0, 18.0])


def test_a_hook_on_a_computed_tensor_outlives_the_tensor():
    x = leaf(2.0)
    h = x * x
    seen = []
    h.register_hook(lambda g: seen.append(g.item()))
    y = cr.sin(h)
    del h  # the node that made h keeps its hooks
    y.backward()
    assert_allclose(seen, [np.cos(4.0)])


def test_a_seeded_leaf_hook_sees_the_sum_of_its_seed_and_the_gradients_through_the_graph():
    b = leaf(2.0)
    seen = []
    b.register_hook(lambda g: seen.append(g.item()))
    cr.autograd.backward([b * 1, b], [np.float64(1.0), np.float64(5.0)])
    assert seen == [6.0] and b.grad.item() == 6.0


def test_removing_a_hook_stops_it_and_removing_twice_is_harmless():
    x = leaf(1.0)
    calls = []
    handle = x.register_hook(lambda g: calls.append(g.item()))
    (x * 2).backward()
    handle.remove()
    handle.remove()
    (x * 2).backward()
    assert calls == [2.0] and x.grad.item() == 4.0


def test_a_handle_used_as_a_context_manager_removes_its_hook_at_the_end_of_the_block():
    x = leaf(1.0)
    calls = []
    with x.register_hook(lambda g: calls.append(g.item())):
        (x * 2).backward()
    (x * 2).backward()
    assert calls == [2.0]


def test_hooks_under_create_graph_see_differentiable_tensors_and_stay_differentiable():
    x = leaf(2.0)
    seen = []
    handle = x.register_hook(lambda g: seen.append(g) or g * x)  # the gradient times x
    (x**3).backward(create_graph=True)  # x.grad = 3x² · x = 3x³
    (g,) = seen
    assert isinstance(g, cr.Tensor) and g.requires_grad and g.item() == 12.0
    assert x.grad.item() == 24.0 and x.grad.requires_grad
    (d,) = cr.autograd.grad(x.grad, x, retain_graph=True)  # d(3x³)/dx = 9x², times x by the hook
    assert d.item() == 72.0
    handle.remove()
    (d,) = cr.autograd.grad(x.grad, x)
    assert d.item() == 36.0


def test_a_hook_that_changes_the_shape_is_refused():
    x = leaf([1.0, 2.0])
    x.register_hook(lambda g: g.sum())
    with pytest.raises(ValueError, match=r"register_hook: the hook returned a gradient of shape \(\)"):
        (x * x).sum().backward()


def test_a_tensor_that_does_not_require_grad_takes_no_hooks():
    c = cr.tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="does not require grad"):
        c.register_hook(lambda g: None)
    with pytest.raises(RuntimeError, match="does not require grad"):
        c.register_post_accumulate_grad_hook(lambda t: None)


# ------------------------------------------------------------------ post-accumulate hooks


def test_post_accumulate_hooks_run_once_per_leaf_in_the_order_the_leaves_finish():
    a, b, c = leaf(1.0), leaf(2.0), leaf(3.0)
    finished = []
    for name, t in (("a", a), ("b", b), ("c", c)):
        t.register_post_accumulate_grad_hook(
            lambda t, name=name: finished.append((name, t.grad.item(), a.grad))
        )
    (a * 2 * b * c).backward()  # the pass meets c first, then b, then a
    assert [(n, g) for n, g, _ in finished] == [("c", 4.0), ("b", 6.0), ("a", 12.0)]
    # c's .grad is final while the pass still has to reach a.
    assert finished[0][2] is None


def test_a_leaf_used_early_and_late_finishes_after_its_earliest_use():
    a, b = leaf(2.0), leaf(5.0)
    finished = []
    a.register_post_accumulate_grad_hook(lambda t: finished.append(("a", t.grad.item())))
    b.register_post_accumulate_grad_hook(lambda t: finished.append(("b", t.grad.item())))
    h = a * 3  # a's first use: the last node the pass visits
    y = h * b * a  # y = 3a²b
    y.backward()
    assert finished == [("b", 12.0), ("a", 60.0)]  # ∂y/∂b = 3a², ∂y/∂a = 6ab


def test_the_gradient_hook_runs_before_accumulation_and_the_post_hook_after():
    x = leaf(1.0)
    events = []
    x.register_post_accumulate_grad_hook(lambda t: events.append(("post", t.grad.item())))
    x.register_hook(lambda g: events.append(("grad", g.item(), x.grad)))
    (x * 4).backward()
    assert events == [("grad", 4.0, None), ("post", 4.0)]
    (x * 4).backward()  # the next pass adds into .grad
    assert events[2:] == [("grad", 4.0, x.grad), ("post", 8.0)]


def test_post_accumulate_hooks_are_for_leaves_only():
    h = leaf(1.0) * 2
    with pytest.raises(RuntimeError, match="only a leaf accumulates .grad"):
        h.register_post_accumulate_grad_hook(lambda t: None)


def test_a_removed_post_accumulate_hook_is_not_called():
    x = leaf(1.0)
    calls = []
    handle = x.register_post_accumulate_grad_hook(lambda t: calls.append(t.grad.item()))
    handle.remove()
    (x * 2).backward()
    assert calls == [] and x.grad.item() == 2.0


def test_a_hook_changing_grad_in_place_does_not_change_gradients_still_on_their_way():
    # As data-parallel training does: halve each .grad in place as soon as it is final.
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    x.register_post_accumulate_grad_hook(lambda t: t.grad.data.__imul__(0.5))
    (x + x * w).sum().backward()  # add passes one gradient to both of its inputs
    assert_array_equal(x.grad.numpy(), [2.0, 2.5])  # (1 + w) / 2
    assert_array_equal(w.grad.numpy(), [1.0, 2.0])  # x, untouched by x's hook


# ------------------------------------------------------------------ callbacks at the end of a pass


def test_a_queued_callback_runs_once_after_every_leaf_is_final():
    a, b = leaf(1.0), leaf(2.0)
    events = []

    def post_a(t):  # a finishes first: it queues the end of the pass
        events.append(("a", t.grad.item()))
        cr.autograd.queue_callback(lambda: events.append(("end", a.grad.item(), b.grad.item())))

    a.register_post_accumulate_grad_hook(post_a)
    b.register_post_accumulate_grad_hook(lambda t: events.append(("b", t.grad.item())))
    (a * b * 3).backward()
    assert events == [("a", 6.0), ("b", 3.0), ("end", 6.0, 3.0)]
    (a * b * 3).backward()  # queued for its own pass only, and again by a
    assert events[3:] == [("a", 12.0), ("b", 6.0), ("end", 12.0, 6.0)]


def test_callbacks_run_in_the_order_queued_and_a_callback_may_queue_another():
    x = leaf(1.0)
    events = []

    def hook(g):
        cr.autograd.queue_callback(
            lambda: events.append(1) or cr.autograd.queue_callback(lambda: events.append(3))
        )
        cr.autograd.queue_callback(lambda: events.append(2))

    x.register_hook(hook)
    (x * 2).backward()
    assert events == [1, 2, 3]


def test_a_removed_callback_does_not_run():
    x = leaf(1.0)
    events = []

    def hook(g):
        cr.autograd.queue_callback(lambda: events.append("kept"))
        cr.autograd.queue_callback(lambda: events.append("removed")).remove()

    x.register_hook(hook)
    (x * 2).backward()
    assert events == ["kept"]


def test_queue_callback_outside_a_pass_raises():
    with pytest.raises(RuntimeError, match="no backward pass is running"):
        cr.autograd.queue_callback(lambda: None)


# ------------------------------------------------------------------ hooks and cr.autograd.grad


def test_autograd_grad_runs_the_hooks_on_its_path_but_no_post_accumulate_hook():
    x, w = leaf([1.0, 2.0]), leaf(3.0)
    log = []
    x.register_hook(lambda g: log.append(("x", g.tolist())) or g * 10)
    w.register_hook(lambda g: log.append(("w", g.item())))
    x.register_post_accumulate_grad_hook(lambda t: log.append(("x post",)))
    z = x * w
    z.register_hook(lambda g: log.append(("z", g.tolist())) or g * 2)
    u = w * 5
    u.register_hook(lambda g: log.append(("u", g.tolist())))  # not on the way to x
    y = (z * z).sum() + u
    (gx,) = cr.autograd.grad(y, x, retain_graph=True)
    # dy/dz = 2z = [6, 12], doubled by z's hook; dy/dx = w · that, times 10 by x's hook.
    assert log == [("z", [6.0, 12.0]), ("x", [36.0, 72.0])]
    assert_array_equal(gx.numpy(), [360.0, 720.0])
    assert x.grad is None and w.grad is None


def test_autograd_grad_with_respect_to_a_computed_tensor_returns_its_hooked_gradient():
    x = leaf([1.0, 2.0])
    z = x * 3
    z.register_hook(lambda g: g * 2)
    (gz,) = cr.autograd.grad((z * z).sum(), z)
    assert_array_equal(gz.numpy(), [12.0, 24.0])  # 2z, doubled


# ------------------------------------------------------------------ the seeing tools watch the same pass


def test_explain_shows_the_gradients_a_hook_changed():
    x = leaf(2.0)
    h = x * 3
    h.register_hook(lambda g: g * 10)
    y = h * h  # dy/dh = 2h = 12, made 120 by the hook
    trace = cr.explain(y, names={x: "x"})
    assert [float(s.upstream) for s in trace.steps] == [1.0, 120.0]
    assert float(trace.leaf_gradients["x"]) == 360.0


@pytest.mark.reference
def test_the_hook_calls_match_pytorch():
    torch = pytest.importorskip("torch")

    def run(lib, make, backward, grad):
        log = []
        x, w = make([1.0, 2.0]), make(3.0)
        x.register_hook(lambda g: log.append(("x", g.tolist())))
        w.register_hook(lambda g: log.append(("w", g.tolist())))
        x.register_post_accumulate_grad_hook(lambda t: log.append(("x post", t.grad.tolist())))
        w.register_post_accumulate_grad_hook(lambda t: log.append(("w post", t.grad.tolist())))
        z = x * w
        z.register_hook(lambda g: log.append(("z", g.tolist())))
        y = (lib.sin(z) * z).sum() + w * w
        grad(y, x)
        backward(y)
        return log

    ours = run(cr, leaf, lambda y: y.backward(), lambda y, x: cr.autograd.grad(y, x, retain_graph=True))
    theirs = run(
        torch,
        lambda v: torch.tensor(v, dtype=torch.float64, requires_grad=True),
        lambda y: y.backward(),
        lambda y, x: torch.autograd.grad(y, x, retain_graph=True),
    )
    assert [entry[0] for entry in ours] == [entry[0] for entry in theirs]
    for (_, a), (_, b) in zip(ours, theirs):
        assert_allclose(a, b, rtol=1e-12)
