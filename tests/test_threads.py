"""Autograd state is per thread, and concurrent backward passes add into .grad exactly."""

import threading

import numpy as np
from numpy.testing import assert_allclose

import chainrule as cr
from chainrule import mode


def run_in_threads(n, target):
    errors = []

    def guarded(i):
        try:
            target(i)
        except BaseException as e:  # noqa: BLE001 - reported to the test's thread below
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def test_concurrent_backward_passes_into_one_leaf_add_exactly():
    x = cr.tensor(np.array(1.0), requires_grad=True)
    start = threading.Barrier(8)

    def passes(i):
        start.wait()
        for _ in range(200):
            (x * 1.0).backward()

    run_in_threads(8, passes)
    assert float(x.grad) == 1600.0
    assert cr.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def without_grad(i):
        with cr.no_grad():
            inside.set()
            checked.wait(timeout=10)
            seen["no_grad thread"] = cr.is_grad_enabled()

    def recording(i):
        inside.wait(timeout=10)
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        seen["recording thread"] = (x * 2).requires_grad
        checked.set()

    run_in_threads(2, lambda i: (without_grad, recording)[i](i))
    assert seen == {"no_grad thread": False, "recording thread": True}
    assert cr.is_grad_enabled()


def test_a_new_thread_starts_with_grad_mode_on_and_no_debug_flags():
    seen = {}
    with cr.no_grad(), cr.detect_anomaly():

        def look(i):
            state = mode.state()
            seen["state"] = (state.grad, state.debug, state.levels, state.depth)

        run_in_threads(1, look)
    assert seen["state"] == (True, False, frozenset(), 0)


def test_forward_mode_levels_of_one_thread_are_not_seen_by_another():
    started = threading.Event()
    finish = threading.Event()
    seen = {}

    def forward_mode(i):
        def f(x):
            started.set()
            finish.wait(timeout=10)
            return x * x

        seen["jvp"] = cr.jvp(f, (cr.tensor(3.0),), (cr.tensor(1.0),))[1]

    def other(i):
        started.wait(timeout=10)
        seen["levels"] = mode.state().levels
        x = cr.tensor(2.0, requires_grad=True)
        seen["grad"] = cr.grad(lambda v: v**3)(x)
        finish.set()

    run_in_threads(2, lambda i: (forward_mode, other)[i](i))
    assert seen["levels"] == frozenset()
    assert float(seen["jvp"]) == 6.0 and float(seen["grad"]) == 12.0


def test_threads_training_their_own_models_agree_with_one_thread():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((16, 3))
    y = X @ np.array([1.0, -1.0, 2.0])

    def train(_):
        w = cr.tensor(np.zeros(3), requires_grad=True)
        for _ in range(30):
            loss = ((cr.tensor(X) @ w - y) ** 2).mean()
            w.grad = None
            loss.backward()
            with cr.no_grad():
                w -= 0.1 * w.grad
        return w.numpy().copy()

    expected = train(None)
    results = {}
    run_in_threads(4, lambda i: results.__setitem__(i, train(i)))
    for w in results.values():
        assert_allclose(w, expected, rtol=0, atol=0)
