"""cr.Function: hand-written rules in reverse mode (backward) and forward mode (jvp), with
one or several outputs, at every order.

Specified here: PyTorch's tutorial "Double Backward with Custom Functions" with torch
renamed to cr; forward mode through a Function uses its jvp and nothing else; a forward
returning a tuple gives a tuple, and backward runs once with one gradient per output;
mark_non_differentiable and needs_input_grad as in PyTorch. Expected numbers are closed
forms; ``-m reference`` runs the tutorial in torch beside chainrule.
"""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import chainrule as cr

RNG = np.random.default_rng(0)
X33 = RNG.random((3, 3))  # the tutorial's torch.rand(3, 3, dtype=torch.double)
V3 = np.array([0.3, -1.2, 2.0])


def leaf(values) -> cr.Tensor:
    return cr.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def second_order_check(f, x) -> bool:
    """gradcheck of the first derivative x ↦ uᵀ ∂f/∂x for a fixed u (what PyTorch's
    gradgradcheck checks); the first derivative is computed by a recorded backward."""
    u = cr.tensor(np.random.default_rng(1).standard_normal(f(x).shape))
    return cr.gradcheck(lambda v: cr.vjp(f, v)[1](u)[0], (x,))


def derivatives(lib, f, data, w, v) -> tuple:
    """f(x), the first derivative wᵀ ∂f/∂x and the second vᵀ ∂(wᵀ ∂f/∂x)/∂x, by
    ``lib.autograd.grad`` with create_graph: the same code for chainrule and torch."""
    x = lib.tensor(data, requires_grad=True)
    y = f(x)
    (g,) = lib.autograd.grad(y, x, grad_outputs=lib.tensor(w), create_graph=True)
    (h,) = lib.autograd.grad(g, x, grad_outputs=lib.tensor(v))
    return tuple(np.asarray(t.detach().numpy()) for t in (y, g, h))


# ------------------------------------------------------------------ the tutorial
def tutorial(lib, function_class) -> dict:
    """The tutorial's functions, written once for ``lib`` (cr or torch)."""

    class Square(function_class):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)  # an input: it has a grad_fn when it needs one
            return x**2

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return grad_out * 2 * x

    class Exp(function_class):
        @staticmethod
        def forward(ctx, x):
            result = lib.exp(x)
            ctx.save_for_backward(result)  # an output: backward reads it through the node
            return result

        @staticmethod
        def backward(ctx, grad_out):
            (result,) = ctx.saved_tensors
            return result * grad_out

    class Sinh(function_class):
        @staticmethod
        def forward(ctx, x):
            expx = lib.exp(x)
            expnegx = lib.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            # returned as outputs, the intermediates get a node, so a recorded backward
            # that reads them stays connected to x
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_out_exp, grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            grad_input = grad_out * (expx + expnegx) / 2
            grad_input += grad_out_exp * expx  # zeros in a first backward, not in a second
            grad_input -= grad_out_negexp * expnegx
            return grad_input

    class SinhBad(function_class):
        @staticmethod
        def forward(ctx, x):
            ctx.expx = lib.exp(x)  # intermediates kept on ctx: made without recording
            ctx.expnegx = lib.exp(-x)
            return (ctx.expx - ctx.expnegx) / 2

        @staticmethod
        def backward(ctx, grad_out):
            return grad_out * (ctx.expx + ctx.expnegx) / 2

    class Cube(function_class):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, grad_out):
            (x,) = ctx.saved_tensors
            return CubeBackward.apply(grad_out, x)

    class CubeBackward(function_class):
        """(g, x) ↦ 3x²g, whose own backward is written by hand too."""

        @staticmethod
        def forward(ctx, grad_out, x):
            ctx.save_for_backward(x, grad_out)
            return grad_out * 3 * x**2

        @staticmethod
        def backward(ctx, grad_out):
            x, saved_grad_out = ctx.saved_tensors
            return grad_out * 3 * x**2, grad_out * saved_grad_out * 6 * x

    return {
        "square": Square.apply,
        "exp": Exp.apply,
        "sinh": lambda x: Sinh.apply(x)[0],
        "sinh_bad": SinhBad.apply,
        "cube": Cube.apply,
    }


TUTORIAL = tutorial(cr, cr.Function)

# f, f' and f'' of each tutorial function, elementwise.
CLOSED_FORMS = {
    "square": (np.square, lambda x: 2 * x, lambda x: 2 + 0 * x),
    "exp": (np.exp, np.exp, np.exp),
    "sinh": (np.sinh, np.cosh, np.sinh),
    "cube": (lambda x: x**3, lambda x: 3 * x**2, lambda x: 6 * x),
}


@pytest.mark.parametrize("name", ["square", "exp", "sinh", "cube"])
def test_tutorial_functions_pass_gradcheck(name):
    assert cr.gradcheck(TUTORIAL[name], (leaf(X33),))


@pytest.mark.parametrize("name", ["square", "exp", "sinh", "cube"])
def test_tutorial_functions_pass_the_second_order_check(name):
    assert second_order_check(TUTORIAL[name], leaf(X33))


@pytest.mark.parametrize("name", ["square", "exp", "sinh", "cube"])
def test_tutorial_functions_give_closed_form_first_and_second_derivatives(name):
    w, v = RNG.standard_normal((2, 3, 3))
    y, g, h = derivatives(cr, TUTORIAL[name], X33, w, v)
    f, df, d2f = CLOSED_FORMS[name]
    assert_allclose(y, f(X33), rtol=1e-12)
    assert_allclose(g, w * df(X33), rtol=1e-12)
    assert_allclose(h, v * w * d2f(X33), rtol=1e-12)


def test_tutorial_sinh_first_derivative_is_cosh_with_unused_outputs_sending_zeros():
    x = leaf(X33)
    TUTORIAL["sinh"](x).sum().backward()
    assert_allclose(x.grad.numpy(), np.cosh(X33), rtol=1e-12)


def test_tutorial_sinh_with_out_of_place_sums_has_the_second_derivative_sinh():
    class Sinh(cr.Function):
        @staticmethod
        def forward(ctx, x):
            expx, expnegx = cr.exp(x), cr.exp(-x)
            ctx.save_for_backward(expx, expnegx)
            return (expx - expnegx) / 2, expx, expnegx

        @staticmethod
        def backward(ctx, grad_out, grad_out_exp, grad_out_negexp):
            expx, expnegx = ctx.saved_tensors
            return grad_out * (expx + expnegx) / 2 + grad_out_exp * expx - grad_out_negexp * expnegx

    x = leaf(X33)
    (g,) = cr.autograd.grad(Sinh.apply(x)[0].sum(), x, create_graph=True)
    (h,) = cr.autograd.grad(g.sum(), x)
    assert_allclose(g.numpy(), np.cosh(X33), rtol=1e-12)
    assert_allclose(h.numpy(), np.sinh(X33), rtol=1e-12)
    assert second_order_check(lambda v: Sinh.apply(v)[0], leaf(X33))


def test_tutorial_sinh_bad_has_a_first_derivative_without_a_graph_as_in_pytorch():
    x = leaf(X33)
    (g,) = cr.autograd.grad(TUTORIAL["sinh_bad"](x).sum(), x, create_graph=True)
    assert_allclose(g.numpy(), np.cosh(X33), rtol=1e-12)
    assert not g.requires_grad  # made from intermediates that were never recorded


def test_tutorial_cube_with_a_backward_function_has_derivatives_12_12_6_at_2():
    x = leaf(2.0)
    (d1,) = cr.autograd.grad(TUTORIAL["cube"](x), x, create_graph=True)
    (d2,) = cr.autograd.grad(d1, x, create_graph=True)
    (d3,) = cr.autograd.grad(d2, x)
    assert (d1.item(), d2.item(), d3.item()) == (12.0, 12.0, 6.0)  # 3x², 6x, 6
    assert d1.grad_fn.name == "CubeBackwardBackward"


@pytest.mark.reference
@pytest.mark.parametrize("name", ["square", "exp", "sinh", "cube"])
def test_tutorial_functions_give_torchs_numbers(name):
    torch = pytest.importorskip("torch")
    w, v = RNG.standard_normal((2, 3, 3))
    expected = derivatives(torch, tutorial(torch, torch.autograd.Function)[name], X33, w, v)
    for ours, theirs in zip(derivatives(cr, TUTORIAL[name], X33, w, v), expected):
        assert_allclose(ours, theirs, rtol=1e-12)


# ------------------------------------------------------------------ several outputs
class SinCos(cr.Function):
    """x ↦ (sin x, cos x), counting backward calls and keeping what backward received."""

    calls: list = []

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        ctx.save_for_forward(x)
        return cr.sin(x), cr.cos(x)

    @staticmethod
    def backward(ctx, g_sin, g_cos):
        SinCos.calls.append((np.array(g_sin.data), np.array(g_cos.data)))
        (x,) = ctx.saved_tensors
        return g_sin * cr.cos(x) - g_cos * cr.sin(x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * cr.cos(x), -t * cr.sin(x)


@pytest.fixture
def sincos_calls():
    SinCos.calls.clear()
    return SinCos.calls


def test_a_function_returning_a_tuple_gives_a_tuple_of_tensors():
    s, c = SinCos.apply(leaf(V3))
    assert_allclose(s.numpy(), np.sin(V3))
    assert_allclose(c.numpy(), np.cos(V3))
    assert s.requires_grad and c.requires_grad and s.grad_fn.name == "SinCosBackward"


def test_backward_runs_once_with_one_gradient_per_output(sincos_calls):
    x = leaf(V3)
    s, c = SinCos.apply(x)
    (2 * s + 3 * c).sum().backward()
    assert len(sincos_calls) == 1
    assert_array_equal(sincos_calls[0][0], [2.0] * 3)
    assert_array_equal(sincos_calls[0][1], [3.0] * 3)
    assert_allclose(x.grad.numpy(), 2 * np.cos(V3) - 3 * np.sin(V3))


def test_an_output_that_is_not_used_sends_zeros_to_backward(sincos_calls):
    x = leaf(V3)
    s, _ = SinCos.apply(x)
    s.sum().backward()
    assert_array_equal(sincos_calls[0][1], np.zeros(3))
    assert_allclose(x.grad.numpy(), np.cos(V3))


def test_an_output_used_twice_sends_the_sum_of_its_gradients():
    x = leaf(V3)
    s, c = SinCos.apply(x)
    (c * 2 + c * 5).sum().backward()
    assert_allclose(x.grad.numpy(), -7 * np.sin(V3))


@pytest.mark.parametrize("mode", ["rev", "fwd"])
def test_jacobian_of_each_output_is_diagonal_cos_and_minus_sin(mode):
    J_sin = cr.jacobian(lambda v: SinCos.apply(v)[0], mode=mode)(cr.tensor(V3))
    J_cos = cr.jacobian(lambda v: SinCos.apply(v)[1], mode=mode)(cr.tensor(V3))
    assert_allclose(J_sin.numpy(), np.diag(np.cos(V3)), atol=1e-15)
    assert_allclose(J_cos.numpy(), np.diag(-np.sin(V3)), atol=1e-15)


def test_jacobian_rev_through_both_outputs_uses_stacked_cotangents(sincos_calls):
    J = cr.jacobian(lambda v: cr.stack(SinCos.apply(v)), mode="rev")(cr.tensor(V3))
    assert J.shape == (2, 3, 3)
    assert_allclose(J.numpy(), np.stack([np.diag(np.cos(V3)), np.diag(-np.sin(V3))]), atol=1e-15)
    assert len(sincos_calls) == 6  # the user's backward sees the 6 cotangents one at a time


def test_double_backward_through_two_outputs_gives_minus_2_sin_2x():
    x = leaf(V3)
    s, c = SinCos.apply(x)
    (g,) = cr.autograd.grad((s * c).sum(), x, create_graph=True)  # sin x cos x = sin(2x)/2
    (h,) = cr.autograd.grad(g.sum(), x)
    assert_allclose(g.numpy(), np.cos(2 * V3), atol=1e-15)
    assert_allclose(h.numpy(), -2 * np.sin(2 * V3), atol=1e-15)


@pytest.mark.parametrize("k", [0, 1])
def test_gradcheck_and_the_second_order_check_pass_through_each_output(k):
    assert cr.gradcheck(lambda v: SinCos.apply(v)[k], (leaf(V3),))
    assert second_order_check(lambda v: SinCos.apply(v)[k], leaf(V3))


def test_backward_through_the_other_output_of_a_freed_graph_raises():
    x = leaf(V3)
    s, c = SinCos.apply(x)
    s.sum().backward()
    with pytest.raises(RuntimeError, match="already freed"):
        c.sum().backward()


def test_hessian_through_two_outputs_with_jvp_is_minus_2_sin_2x_on_the_diagonal():
    H = cr.hessian(lambda v: (SinCos.apply(v)[0] * SinCos.apply(v)[1]).sum())(cr.tensor(V3))
    assert_allclose(H.numpy(), np.diag(-2 * np.sin(2 * V3)), atol=1e-15)


class SortWithIndices(cr.Function):
    """Sorted values and the integer positions they came from."""

    @staticmethod
    def forward(ctx, x):
        order = np.argsort(x.data)
        ctx.order = order
        return cr.tensor(x.data[order]), cr.tensor(order)

    @staticmethod
    def backward(ctx, g_values, g_order):
        assert g_order.dtype.kind == "i" and not g_order.data.any()
        g = np.zeros(g_values.shape)
        g[ctx.order] = g_values.data
        return cr.tensor(g)


def test_an_integer_output_is_not_differentiable_and_sends_zeros():
    x = leaf([3.0, 1.0, 2.0])
    values, order = SortWithIndices.apply(x)
    assert values.requires_grad and not order.requires_grad and order.grad_fn is None
    (values * cr.tensor([1.0, 10.0, 100.0])).sum().backward()
    assert_array_equal(x.grad.numpy(), [100.0, 1.0, 10.0])


class ScaleAndMask(cr.Function):
    """(2x, 1[x > 0]) with the mask, a float, marked non-differentiable."""

    received: list = []

    @staticmethod
    def forward(ctx, x):
        mask = cr.tensor((x.data > 0).astype(x.dtype))
        ctx.mark_non_differentiable(mask)
        return 2 * x, mask

    @staticmethod
    def backward(ctx, g, g_mask):
        ScaleAndMask.received.append(np.array(g_mask.data))
        return 2 * g


def test_an_output_marked_non_differentiable_does_not_require_grad_and_sends_zeros():
    x = leaf([-1.0, 2.0])
    y, mask = ScaleAndMask.apply(x)
    assert y.requires_grad and not mask.requires_grad and mask.grad_fn is None
    assert_array_equal(mask.numpy(), [0.0, 1.0])
    (y * mask).sum().backward()  # the mask acts as a constant
    assert_array_equal(x.grad.numpy(), [0.0, 2.0])
    assert_array_equal(ScaleAndMask.received[-1], [0.0, 0.0])


def test_a_tangent_for_an_output_marked_non_differentiable_is_dropped():
    class Marked(ScaleAndMask):
        @staticmethod
        def jvp(ctx, t):
            return 2 * t, t

    t_scaled, t_mask = cr.jvp(Marked.apply, (cr.tensor([-1.0, 2.0]),), (cr.tensor([1.0, 1.0]),))[1]
    assert_array_equal(t_scaled.numpy(), [2.0, 2.0])
    assert_array_equal(t_mask.numpy(), [0.0, 0.0])


class ProductAndDifference(cr.Function):
    """(a·b·k, a − b) for tensors a, b and a number k; backward returns only what is needed."""

    needs: list = []

    @staticmethod
    def forward(ctx, a, b, k):
        ProductAndDifference.needs.append(ctx.needs_input_grad)
        ctx.save_for_backward(a, b)
        ctx.k = k
        return a * b * k, a - b

    @staticmethod
    def backward(ctx, g_product, g_difference):
        a, b = ctx.saved_tensors
        ga = g_product * b * ctx.k + g_difference if ctx.needs_input_grad[0] else None
        gb = g_product * a * ctx.k - g_difference if ctx.needs_input_grad[1] else None
        return ga, gb, None


def test_needs_input_grad_tells_which_arguments_require_grad():
    a, b = leaf([1.0, 2.0]), cr.tensor([3.0, 5.0], dtype=np.float64)
    product, difference = ProductAndDifference.apply(a, b, 2.0)
    assert ProductAndDifference.needs[-1] == (True, False, False)
    (product + difference).sum().backward()
    assert_array_equal(a.grad.numpy(), [7.0, 11.0])  # 2b + 1
    assert b.grad is None


# ------------------------------------------------------------------ forward mode
class NumpySin(cr.Function):
    """sin computed in NumPy: nothing of the forward is recorded, only the rules are."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return cr.tensor(np.sin(x.data))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * cr.cos(x)


class NumpySinWithJvp(NumpySin):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_forward(x)
        return NumpySin.forward(ctx, x)

    @staticmethod
    def jvp(ctx, t):
        (x,) = ctx.saved_tensors
        return t * cr.cos(x)


@pytest.mark.parametrize(
    "transform",
    [
        lambda f, x: cr.jvp(f, (x,), (cr.ones_like(x),)),
        lambda f, x: cr.jacobian(f, mode="fwd")(x),
    ],
    ids=["jvp", "jacobian-fwd"],
)
def test_forward_mode_through_a_function_without_jvp_raises_naming_it(transform):
    with pytest.raises(RuntimeError, match=r"NumpySin: .*define a static NumpySin\.jvp"):
        transform(NumpySin.apply, cr.tensor(V3))


def test_only_a_function_with_jvp_has_a_forward_rule_in_its_op():
    without = NumpySin.apply(leaf(V3)).grad_fn.op
    with_jvp = NumpySinWithJvp.apply(leaf(V3)).grad_fn.op
    assert without.category == with_jvp.category == "function"
    assert without.jvp is None and with_jvp.jvp is not None


def test_a_numpy_function_with_jvp_gives_jvp_jacobian_and_hessian_in_closed_form():
    x, t = cr.tensor(V3), cr.tensor([1.0, 2.0, 3.0])
    out, tangent = cr.jvp(NumpySinWithJvp.apply, (x,), (t,))
    assert_allclose(out.numpy(), np.sin(V3))
    assert_allclose(tangent.numpy(), np.cos(V3) * [1.0, 2.0, 3.0])
    assert_allclose(cr.jacobian(NumpySinWithJvp.apply, mode="fwd")(x).numpy(), np.diag(np.cos(V3)))
    H = cr.hessian(lambda v: NumpySinWithJvp.apply(v).sum())(x)
    assert_allclose(H.numpy(), np.diag(-np.sin(V3)), atol=1e-15)


class StraightThrough(cr.Function):
    """sign(x) forward, the identity backward: the straight-through estimator. Its
    forward is a table op whose own derivative is 0, which forward mode must not use."""

    @staticmethod
    def forward(ctx, x):
        return x.sign()

    @staticmethod
    def backward(ctx, g):
        return g

    @staticmethod
    def jvp(ctx, t):
        return t


@pytest.mark.parametrize("mode", ["fwd", "rev"])
def test_a_straight_through_estimator_has_the_identity_jacobian_in_both_modes(mode):
    x = cr.tensor([0.5, -2.0, 3.0])
    assert_array_equal(StraightThrough.apply(x).numpy(), [1.0, -1.0, 1.0])
    assert_array_equal(cr.jacobian(StraightThrough.apply, mode=mode)(x).numpy(), np.eye(3))


def test_jvp_of_jvp_through_a_function_gives_the_second_derivative():
    def slope(v):
        return cr.jvp(NumpySinWithJvp.apply, (v,), (cr.ones(3),))[1]

    second = cr.jvp(slope, (cr.tensor(V3),), (cr.ones(3),))[1]
    assert_allclose(second.numpy(), -np.sin(V3))


def test_grad_of_jvp_through_a_function_differentiates_the_jvp_rule():
    slope = lambda v: cr.jvp(NumpySinWithJvp.apply, (v,), (cr.ones(3),))[1].sum()  # noqa: E731
    assert_allclose(cr.grad(slope)(cr.tensor(V3)).numpy(), -np.sin(V3))


class Exp(cr.Function):
    """e^x saving its output for both rules: every derivative is e^x."""

    @staticmethod
    def forward(ctx, x):
        result = cr.exp(x)
        ctx.save_for_backward(result)
        ctx.save_for_forward(result)
        return result

    @staticmethod
    def backward(ctx, g):
        (result,) = ctx.saved_tensors
        return g * result

    @staticmethod
    def jvp(ctx, t):
        (result,) = ctx.saved_tensors
        return t * result


@pytest.mark.parametrize("outer", ["fwd", "rev"])
def test_third_derivative_through_a_function_saving_its_output_is_exp(outer):
    x = np.array([0.1, 0.5])
    third = cr.jacobian(cr.hessian(lambda v: Exp.apply(v).sum()), mode=outer)(cr.tensor(x))
    expected = np.zeros((2, 2, 2))
    expected[[0, 1], [0, 1], [0, 1]] = np.exp(x)
    assert_allclose(third.numpy(), expected, rtol=1e-12)


def test_batched_tangents_through_a_function_equal_separate_jvps():
    x, T = cr.tensor(V3), cr.tensor(RNG.standard_normal((2, 4, 3)))
    _, together = cr.jvp(NumpySinWithJvp.apply, (x,), (T,))
    assert together.shape == (2, 4, 3)
    for i, k in np.ndindex(2, 4):
        alone = cr.jvp(NumpySinWithJvp.apply, (x,), (T[i, k],))[1]
        assert_allclose(together.numpy()[i, k], alone.numpy())


class Scaled(cr.Function):
    """a·b·k for tensors a, b and a number k, keeping the tangents its jvp receives."""

    tangents: list = []

    @staticmethod
    def forward(ctx, a, b, k):
        ctx.save_for_backward(a, b)
        ctx.save_for_forward(a, b)
        ctx.k = k
        return a * b * k

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        return g * b * ctx.k, g * a * ctx.k, None

    @staticmethod
    def jvp(ctx, ta, tb, tk):
        Scaled.tangents.append((ta, tb, tk))
        a, b = ctx.saved_tensors
        return (ta * b + a * tb) * ctx.k


def test_jvp_receives_zeros_for_a_tensor_without_tangent_and_none_for_other_arguments():
    a, b = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 5.0])
    _, tangent = cr.jvp(lambda v: Scaled.apply(v, b, 2.0), (a,), (cr.tensor([1.0, 1.0]),))
    ta, tb, tk = Scaled.tangents[-1]
    assert_array_equal(ta.numpy(), [1.0, 1.0])
    assert_array_equal(tb.numpy(), [0.0, 0.0])
    assert tk is None
    assert_array_equal(tangent.numpy(), [6.0, 10.0])


def test_jacobians_of_two_arguments_agree_in_both_modes_and_the_hessian_is_the_cross_term():
    a, b = cr.tensor([1.0, 2.0]), cr.tensor([3.0, 5.0])
    for mode in ("fwd", "rev"):
        Ja, Jb = cr.jacobian(Scaled.apply, argnums=(0, 1), mode=mode)(a, b, 2.0)
        assert_array_equal(Ja.numpy(), np.diag([6.0, 10.0]))
        assert_array_equal(Jb.numpy(), np.diag([2.0, 4.0]))
    H = cr.hessian(lambda u, v: Scaled.apply(u, v, 2.0).sum(), argnums=(0, 1))(a, b)
    assert_array_equal(
        np.block([[h.numpy() for h in row] for row in H]),
        np.block([[np.zeros((2, 2)), 2 * np.eye(2)], [2 * np.eye(2), np.zeros((2, 2))]]),
    )


def test_saved_tensors_inside_jvp_are_those_saved_for_forward():
    seen = {}

    class Spy(NumpySinWithJvp):
        @staticmethod
        def jvp(ctx, t):
            seen["saved"] = ctx.saved_tensors
            return NumpySinWithJvp.jvp(ctx, t)

    x = cr.tensor(V3)
    cr.jvp(Spy.apply, (x,), (cr.ones(3),))
    assert len(seen["saved"]) == 1 and seen["saved"][0].shape == (3,)


@pytest.mark.parametrize(
    ("tangents", "message"),
    [
        (lambda t: (t, t), r"Bad\.jvp returned 2 tangents but forward returned 1 outputs"),
        (
            lambda t: cr.ones(5),
            r"Bad\.jvp: the tangent for output 0 has shape \(5,\) but must have shape \(3,\)",
        ),
    ],
    ids=["count", "shape"],
)
def test_a_jvp_returning_the_wrong_number_or_shape_of_tangents_raises(tangents, message):
    class Bad(NumpySin):
        @staticmethod
        def jvp(ctx, t):
            return tangents(t)

    with pytest.raises((RuntimeError, ValueError), match=message):
        cr.jvp(Bad.apply, (cr.tensor(V3),), (cr.ones(3),))


def test_a_function_returning_its_argument_leaves_the_argument_untouched():
    class Identity(cr.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return 3 * g  # deliberately not the identity's derivative

        @staticmethod
        def jvp(ctx, t):
            return 3 * t

    x = leaf(V3)
    y = Identity.apply(x)
    assert y is not x and x.grad_fn is None and y.grad_fn.name == "IdentityBackward"
    y.sum().backward()
    assert_array_equal(x.grad.numpy(), [3.0] * 3)
    assert_array_equal(cr.jvp(Identity.apply, (cr.tensor(V3),), (cr.ones(3),))[1].numpy(), [3.0] * 3)


def test_the_docstring_examples_run():
    import doctest

    from chainrule import function, graph

    assert doctest.testmod(function).failed == 0
    assert doctest.testmod(graph).failed == 0
