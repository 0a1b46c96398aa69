"""einsum's whole grammar: implicit output, ``...`` anywhere, the sublist form, ``optimize=``."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr
from chainrule.graph import topological_order
from chainrule.ops import contraction

RNG = np.random.default_rng(0)
A, B, C = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4)), RNG.standard_normal((4, 5))


@pytest.mark.parametrize(
    "args",
    [
        (A, [0, 1], B, [1, 2], [0, 2]),
        (A, [0, 1], B, [1, 2]),  # implicit output
        (A, [0, 1], [1, 0]),
        (A, [0, 1], [0]),
        (RNG.standard_normal((2, 3, 3)), [Ellipsis, 1, 1], [Ellipsis]),  # a batched trace
        (RNG.standard_normal((2, 3, 4)), [0, Ellipsis, 1], B, [Ellipsis, 2], [Ellipsis, 0, 2]),
        (A, [0, 1], B, [1, 2], C, [2, 3], [0, 3]),
    ],
    ids=lambda a: "x" if isinstance(a, np.ndarray) else str(a),
)
def test_the_sublist_form_gives_numpys_values_and_a_checked_gradient(args):
    expected = np.einsum(*args)
    np.testing.assert_allclose(cr.einsum(*args).data, expected, rtol=1e-12)
    positions = [i for i in range(0, len(args), 2) if isinstance(args[i], np.ndarray)]

    def f(*xs):
        call = list(args)
        for i, x in zip(positions, xs):
            call[i] = x
        return cr.einsum(*call)

    assert cr.gradcheck(f, [cr.tensor(args[i], requires_grad=True) for i in positions])


@pytest.mark.parametrize(
    ("spec", "shapes"),
    [
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
        ("ij,jk,kl", [(2, 3), (3, 4), (4, 5)]),
        ("...ij,jk,k->...i", [(2, 3, 4), (4, 5), (5,)]),
        ("ab,bc,cd,de->ae", [(3, 4), (4, 2), (2, 5), (5, 3)]),
        ("i,i,i->", [(4,), (4,), (4,)]),
    ],
)
@pytest.mark.parametrize("optimize", [True, "greedy", "optimal", "dp", "auto"])
def test_every_path_gives_the_values_and_gradients_of_one_node(spec, shapes, optimize):
    arrays = [RNG.standard_normal(s) for s in shapes]
    whole = [cr.tensor(a, requires_grad=True) for a in arrays]
    paired = [cr.tensor(a, requires_grad=True) for a in arrays]
    y0 = cr.einsum(spec, *whole)
    y1 = cr.einsum(spec, *paired, optimize=optimize)
    np.testing.assert_allclose(y1.data, np.einsum(spec, *arrays), rtol=1e-10)
    nodes = [n for n in topological_order([y1.grad_fn]) if n.op.name == "einsum"]
    assert len(nodes) == len(arrays) - 1  # pairwise: one node per contraction
    w = RNG.standard_normal(y0.shape)
    (y0 * w).sum().backward()
    (y1 * w).sum().backward()
    for x0, x1 in zip(whole, paired):
        np.testing.assert_allclose(x1.grad.data, x0.grad.data, rtol=1e-10, atol=1e-12)


def test_an_explicit_path_is_followed_and_forward_mode_goes_through_it():
    path = ["einsum_path", (0, 2), (0, 1)]
    assert contraction.steps(("ij", "jk", "kl"), "il", [(2, 3), (3, 4), (4, 5)], path) == [
        ((0, 2), "ij,kl->ijkl"),  # an outer product first, as the path says
        ((0, 1), "jk,ijkl->il"),
    ]

    def f(a, b, c):
        return cr.einsum("ij,jk,kl->il", a, b, c, optimize=path)

    jf = cr.jacobian(f, argnums=(0, 1, 2), mode="fwd")(A, B, C)
    jr = cr.jacobian(lambda a, b, c: cr.einsum("ij,jk,kl->il", a, b, c), argnums=(0, 1, 2), mode="rev")(
        A, B, C
    )
    for x, y in zip(jf, jr):
        np.testing.assert_allclose(x.data, y.data, rtol=1e-10, atol=1e-12)


def test_numpys_einsum_on_tensors_takes_the_same_arguments():
    x = cr.tensor(A, requires_grad=True)
    y = np.einsum(x, [0, 1], B, [1, 2], C, [2, 3], [0, 3], optimize="greedy")
    assert isinstance(y, cr.Tensor)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.data, np.ones((2, 5)) @ C.T @ B.T, rtol=1e-12)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: cr.einsum(A, [0, 52]), ValueError, "sublist label"),
        (lambda: cr.einsum(A, [0, "a"]), TypeError, "sublist label"),
        (lambda: cr.einsum(A, 3), TypeError, "list of labels"),
        (lambda: cr.einsum("ij,jk,kl", A, B, C, optimize=[(0, 1)]), ValueError, "einsum_path"),
        (lambda: cr.einsum("ij,jk,kl", A, B, C, optimize=["einsum_path", (0, 1)]), ValueError, "leaves 2"),
        (
            lambda: cr.einsum("ij,jk,kl", A, B, C, optimize=["einsum_path", (0, 5)]),
            ValueError,
            "invalid path",
        ),
        (lambda: cr.einsum("ij,jk,kl", A, B, C, optimize="no-such"), ValueError, "opt_einsum knows"),
        (lambda: cr.einsum("ij,jk,kl", A, B, C, optimize=3), TypeError, "optimize"),
        (lambda: cr.einsum("ij,jk,kl", A, C, B, optimize=True), ValueError, "einsum"),
    ],
)
def test_bad_calls_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_without_opt_einsum_its_strategies_say_what_to_install(monkeypatch):
    monkeypatch.setattr(contraction, "_opt_einsum", lambda: None)
    with pytest.raises(ImportError, match=r"chainrule\[einsum\]"):
        cr.einsum("ij,jk,kl", A, B, C, optimize="dp")
    # True falls back to NumPy's greedy path
    np.testing.assert_allclose(cr.einsum("ij,jk,kl", A, B, C, optimize=True).data, A @ B @ C, rtol=1e-12)
