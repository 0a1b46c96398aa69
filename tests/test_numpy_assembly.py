"""chainrule.assembly and chainrule.construction: NumPy's shape, assembly and construction
functions, on Tensors.

Each case is one call written once and run twice, on NumPy and on chainrule: the values
must be NumPy's (shape, dtype and numbers), the reverse rule must pass gradcheck, forward
mode must match central differences, and second derivatives must match differences of
the gradient. Then: inputs mixing arrays, lists and Tensors, the index tricks r_ and c_,
refusals (ValueError naming the function and the shapes), and PyTorch's namesakes.
"""

from __future__ import annotations

import inspect
import types
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import assembly, construction

# chainrule's side of each call: the functions of chainrule.assembly and chainrule.construction.
NAMES = sorted(name for module in (assembly, construction) for name in module.__all__)
A = types.SimpleNamespace(
    **{name: getattr(module, name) for module in (assembly, construction) for name in module.__all__}
)

RNG = np.random.default_rng(7)
C1 = [np.array([True, False, True, False]), np.array([True, True, False, False])]
C2 = [np.array([[True, False, False], [False, True, False]]), np.array([False, True, True])]

# (id, input shapes, call(lib, *xs)) with lib = numpy or A (chainrule's functions).
CASES = [
    ("fliplr", [(2, 3)], lambda m, a: m.fliplr(a)),
    ("fliplr-3d", [(2, 3, 2)], lambda m, a: m.fliplr(a)),
    ("flipud-1d", [(4,)], lambda m, a: m.flipud(a)),
    ("flipud-3d", [(3, 2, 2)], lambda m, a: m.flipud(a)),
    *(
        (f"rot90-k{k}-axes{axes}", [(2, 3, 4)], lambda m, a, k=k, axes=axes: m.rot90(a, k, axes))
        for k in (-5, -1, 0, 1, 2, 3, 6)
        for axes in ((0, 1), (1, 0), (2, 0), (-1, -2))
    ),
    *(
        (
            f"rollaxis-{axis}-{start}",
            [(2, 3, 4)],
            lambda m, a, axis=axis, start=start: m.rollaxis(a, axis, start),
        )
        for axis in (0, 1, -1)
        for start in (-3, -1, 0, 1, 2, 3)
    ),
    *(
        (f"atleast_{n}d-{shape}", [shape], lambda m, a, n=n: getattr(m, f"atleast_{n}d")(a))
        for n in (1, 2, 3)
        for shape in ((), (3,), (2, 3), (2, 1, 3), (1, 2, 1, 2))
    ),
    ("atleast_2d-several", [(), (3,), (2, 2)], lambda m, a, b, c: m.atleast_2d(a, b, c)),
    ("atleast_3d-several", [(3,), (2, 2)], lambda m, a, b: m.atleast_3d(a, b)),
    ("vstack-1d", [(3,), (3,)], lambda m, a, b: m.vstack([a, b])),
    ("vstack-mixed", [(2, 3), (3,), (1, 3)], lambda m, a, b, c: m.vstack((a, b, c))),
    ("vstack-one", [(2, 2)], lambda m, a: m.vstack([a])),
    ("vstack-0d", [(), ()], lambda m, a, b: m.vstack([a, b])),
    ("vstack-3d", [(1, 2, 2), (3, 2, 2)], lambda m, a, b: m.vstack([a, b])),
    ("hstack-1d", [(2,), (), (3,)], lambda m, a, b, c: m.hstack([a, b, c])),
    ("hstack-2d", [(2, 1), (2, 3)], lambda m, a, b: m.hstack([a, b])),
    ("hstack-3d", [(2, 1, 2), (2, 2, 2)], lambda m, a, b: m.hstack([a, b])),
    ("dstack-1d", [(2,), (2,)], lambda m, a, b: m.dstack([a, b])),
    ("dstack-2d-3d", [(2, 2), (2, 2, 3)], lambda m, a, b: m.dstack([a, b])),
    ("dstack-0d", [(), ()], lambda m, a, b: m.dstack([a, b])),
    ("column_stack", [(3,), (3, 2), (3,)], lambda m, a, b, c: m.column_stack([a, b, c])),
    ("column_stack-0d", [(), ()], lambda m, a, b: m.column_stack([a, b])),
    ("row_stack", [(3,), (2, 3)], lambda m, a, b: m.vstack([a, b]) if m is np else m.row_stack([a, b])),
    ("append-flat", [(2, 2), (3,)], lambda m, a, b: m.append(a, b)),
    ("append-0d", [(), ()], lambda m, a, b: m.append(a, b)),
    ("append-axis0", [(2, 3), (1, 3)], lambda m, a, b: m.append(a, b, axis=0)),
    ("append-axis-neg", [(2, 1), (2, 2)], lambda m, a, b: m.append(a, b, axis=-1)),
    *(
        (f"array_split-{s}-axis{axis}", [(7, 5)], lambda m, a, s=s, axis=axis: m.array_split(a, s, axis=axis))
        for s in (1, 2, 3, 7, 9, [2, 4], [-2], [3, 1], [0, 10], [], np.array([1, 3]))
        for axis in (0, -1)
    ),
    ("vsplit-2", [(4, 2)], lambda m, a: m.vsplit(a, 2)),
    ("vsplit-at", [(3, 2, 2)], lambda m, a: m.vsplit(a, [1, 2])),
    ("hsplit-1d", [(6,)], lambda m, a: m.hsplit(a, 3)),
    ("hsplit-2d", [(2, 4)], lambda m, a: m.hsplit(a, [1, -1])),
    ("dsplit", [(1, 2, 4)], lambda m, a: m.dsplit(a, 2)),
    ("dsplit-at", [(2, 1, 3)], lambda m, a: m.dsplit(a, [2])),
    ("repeat-flat", [(2, 2)], lambda m, a: m.repeat(a, 2)),
    ("repeat-0d", [()], lambda m, a: m.repeat(a, 3)),
    ("repeat-counts", [(2, 3)], lambda m, a: m.repeat(a, [1, 0, 2], axis=1)),
    ("repeat-axis0", [(3, 2)], lambda m, a: m.repeat(a, 3, axis=0)),
    ("repeat-neg-axis", [(2, 3)], lambda m, a: m.repeat(a, [2], axis=-1)),
    ("repeat-zero", [(2, 3)], lambda m, a: m.repeat(a, 0, axis=0)),
    ("repeat-flat-counts", [(2, 2)], lambda m, a: m.repeat(a, [1, 2, 0, 3])),
    *(
        (f"tile-{shape}-{reps}", [shape], lambda m, a, reps=reps: m.tile(a, reps))
        for shape in ((), (3,), (2, 2))
        for reps in (2, (2,), (1, 3), (2, 1, 2), (0, 2), ())
    ),
    *(
        (f"pad-{mode}-{width}", [(3, 4)], lambda m, a, mode=mode, width=width: m.pad(a, width, mode=mode))
        for mode in ("constant", "edge", "reflect", "symmetric", "wrap")
        for width in (0, 1, (2,), (1, 3), ((0, 2), (3, 1)), ((5, 7), (9, 2)), [[1], [2]])
    ),
    ("pad-1d-reflect-long", [(2,)], lambda m, a: m.pad(a, (5, 6), mode="reflect")),
    ("pad-single-reflect", [(1, 3)], lambda m, a: m.pad(a, 2, mode="reflect")),
    ("pad-3d-wrap", [(2, 2, 3)], lambda m, a: m.pad(a, ((1, 0), (0, 2), (4, 1)), mode="wrap")),
    ("pad-0d", [()], lambda m, a: m.pad(a, 2)),
    (
        "pad-constant-values",
        [(2, 3)],
        lambda m, a: m.pad(a, ((1, 2), (2, 1)), constant_values=((1.0, 2.0), (3.0, 4.0))),
    ),
    ("pad-constant-pair", [(2, 3)], lambda m, a: m.pad(a, 1, constant_values=(-1.0, 5.0))),
    ("pad-empty-axis-constant", [(0, 3)], lambda m, a: m.pad(a, 1)),
    ("select-1d", [(4,), (4,)], lambda m, a, b: m.select(C1, [a, b])),
    ("select-default", [(4,), (4,), ()], lambda m, a, b, d: m.select(C1, [a, b], d)),
    ("select-broadcast", [(2, 3), (3,), (2, 1)], lambda m, a, b, d: m.select(C2, [a, b], default=d)),
    ("select-scalar-default", [(2, 3), (2, 3)], lambda m, a, b: m.select(C2, [a, b], default=-2.5)),
    *(
        (f"diag-{shape}-k{k}", [shape], lambda m, a, k=k: m.diag(a, k))
        for shape in ((3,), (0,), (3, 3), (2, 4), (4, 2))
        for k in (-3, -1, 0, 2, 5)
    ),
    *(
        (f"diagflat-{shape}-k{k}", [shape], lambda m, a, k=k: m.diagflat(a, k))
        for shape in ((), (3,), (2, 2))
        for k in (-1, 0, 2)
    ),
    *(
        (f"kron-{sa}-{sb}", [sa, sb], lambda m, a, b: m.kron(a, b))
        for sa, sb in (
            ((2,), (3,)),
            ((2, 2), (2, 3)),
            ((3,), (2, 2)),
            ((2, 1, 2), (2, 2)),
            ((), (2,)),
            ((2,), ()),
        )
    ),
    *(
        (f"inner-{sa}-{sb}", [sa, sb], lambda m, a, b: m.inner(a, b))
        for sa, sb in (((3,), (3,)), ((2, 3), (4, 3)), ((2, 2, 3), (3,)), ((), (2, 2)), ((2,), ()))
    ),
    ("cross-3", [(3,), (3,)], lambda m, a, b: m.cross(a, b)),
    ("cross-batch", [(4, 3), (3,)], lambda m, a, b: m.cross(a, b)),
    ("cross-broadcast", [(2, 1, 3), (4, 3)], lambda m, a, b: m.cross(a, b)),
    ("cross-axes", [(3, 2), (2, 3)], lambda m, a, b: m.cross(a, b, axisa=0, axisc=0)),
    ("cross-axis", [(3, 2, 1), (3, 2, 4)], lambda m, a, b: m.cross(a, b, axis=0)),
    ("cross-axisc-mid", [(2, 4, 3), (2, 4, 3)], lambda m, a, b: m.cross(a, b, axisc=1)),
    ("linspace", [(), ()], lambda m, a, b: m.linspace(a, b, 5)),
    ("linspace-no-endpoint", [(), ()], lambda m, a, b: m.linspace(a, b, 4, endpoint=False)),
    ("linspace-arrays", [(2,), (3, 1)], lambda m, a, b: m.linspace(a, b, num=3)),
    ("linspace-axis", [(2,), (3, 1)], lambda m, a, b: m.linspace(a, b, num=4, axis=-1)),
    ("linspace-axis1", [(2,), (2,)], lambda m, a, b: m.linspace(a, b, num=3, axis=1)),
    ("linspace-one", [(), ()], lambda m, a, b: m.linspace(a, b, num=1)),
    ("linspace-zero", [(), ()], lambda m, a, b: m.linspace(a, b, num=0)),
    ("linspace-retstep", [(2,), ()], lambda m, a, b: list(m.linspace(a, b, num=5, retstep=True))),
    *(
        (
            f"meshgrid-{indexing}-{'sparse' if sparse else 'dense'}-{len(shapes)}",
            shapes,
            lambda m, *xs, indexing=indexing, sparse=sparse: m.meshgrid(
                *xs, indexing=indexing, sparse=sparse
            ),
        )
        for indexing in ("xy", "ij")
        for sparse in (False, True)
        for shapes in ([(3,)], [(3,), (2,)], [(2,), (3,), (2,)], [(2, 2), ()])
    ),
]
IDS = [case[0] for case in CASES]
DIFFERENTIABLE = [case for case in CASES if not case[0].startswith(("linspace-zero", "pad-empty"))]


def arrays_for(shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-2.0, 2.0, size=shape) for shape in shapes]


def as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def flat(out) -> cr.Tensor:
    """One Tensor holding every output (several outputs joined, a NumPy float step kept)."""
    parts = [
        cr.reshape(o if isinstance(o, cr.Tensor) else cr.tensor(np.float64(o)), (-1,)) for o in as_list(out)
    ]
    return cr.concatenate(parts) if len(parts) > 1 else parts[0]


def numpy_result(call, arrays):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return call(np, *arrays)


@pytest.mark.parametrize(("name", "shapes", "call"), CASES, ids=IDS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
def test_values_shapes_and_dtypes_are_numpys(name, shapes, call, dtype):
    arrays = [a.astype(dtype) for a in arrays_for(shapes)]
    expected = numpy_result(call, arrays)
    out = call(A, *[cr.tensor(a) for a in arrays])
    assert type(out) is type(expected) or isinstance(out, cr.Tensor)
    outs, refs = as_list(out), as_list(expected)
    assert len(outs) == len(refs)
    for o, e in zip(outs, refs):
        if not isinstance(o, cr.Tensor):  # linspace's step when it is NaN
            np.testing.assert_equal(o, e)
            continue
        e = np.asarray(e)
        assert o.shape == e.shape and o.dtype == e.dtype, (o.shape, e.shape, o.dtype, e.dtype)
        np.testing.assert_allclose(o.data, e, rtol=1e-6 if dtype == np.float32 else 1e-14, atol=0)


@pytest.mark.parametrize(("name", "shapes", "call"), DIFFERENTIABLE, ids=[c[0] for c in DIFFERENTIABLE])
def test_reverse_mode_passes_gradcheck(name, shapes, call):
    xs = [cr.tensor(a, requires_grad=True) for a in arrays_for(shapes, seed=1)]
    assert cr.gradcheck(lambda *xs: flat(call(A, *xs)), xs)


@pytest.mark.parametrize(("name", "shapes", "call"), DIFFERENTIABLE, ids=[c[0] for c in DIFFERENTIABLE])
def test_forward_mode_matches_central_differences(name, shapes, call):
    arrays = arrays_for(shapes, seed=2)
    tangents = arrays_for(shapes, seed=3)
    out, tangent = cr.jvp(lambda *xs: flat(call(A, *xs)), arrays, tangents)
    h = 1e-6
    up = flat(call(A, *[cr.tensor(a + h * t) for a, t in zip(arrays, tangents)]))
    down = flat(call(A, *[cr.tensor(a - h * t) for a, t in zip(arrays, tangents)]))
    assert tangent.shape == out.shape
    np.testing.assert_allclose(tangent.data, (up.data - down.data) / (2 * h), rtol=1e-6, atol=1e-8)


SECOND_ORDER = ["kron-(2,)-(3,)", "inner-(2, 3)-(4, 3)", "cross-batch", "linspace-arrays", "select-default"]
SECOND_ORDER += ["pad-reflect-1", "repeat-counts", "tile-(3,)-(1, 3)", "diag-(3,)-k-1", "rot90-k1-axes(2, 0)"]


@pytest.mark.parametrize("name", SECOND_ORDER)
def test_hessian_of_a_curved_function_of_the_result_matches_differences_of_the_gradient(name):
    """s(v) = Σ w ⊙ sin(f(v)) ⊙ f(v): its Hessian goes through the composite's parts twice."""
    _, shapes, call = next(c for c in CASES if c[0] == name)
    arrays = arrays_for(shapes, seed=4)
    sizes = [a.size for a in arrays]
    v0 = np.concatenate([a.reshape(-1) for a in arrays])
    weights = np.random.default_rng(5).uniform(0.5, 1.5, flat(call(A, *[cr.tensor(a) for a in arrays])).shape)

    def s(v):
        pieces = cr.split(v, list(np.cumsum(sizes)[:-1])) if len(sizes) > 1 else [v]
        y = flat(call(A, *[cr.reshape(p, shape) for p, shape in zip(pieces, shapes)]))
        return cr.sum(cr.sin(y) * y * weights)

    hessian = cr.hessian(s)(v0)
    numeric = cr.numerical_jacobian(cr.grad(s), v0, eps=1e-5)
    np.testing.assert_allclose(hessian.data, numeric, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(hessian.data, hessian.data.T, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "name", ["vstack-mixed", "hstack-1d", "column_stack", "kron-(2, 2)-(2, 3)", "cross-batch", "append-flat"]
)
def test_mixing_arrays_lists_and_tensors_gives_a_tensor_and_grads_reach_only_the_tensors(name):
    _, shapes, call = next(c for c in CASES if c[0] == name)
    arrays = arrays_for(shapes, seed=6)
    x = cr.tensor(arrays[-1], requires_grad=True)
    constants = [arrays[0].tolist(), *arrays[1:-1]]  # a nested list first, then ndarrays
    out = call(A, *constants, x)
    assert isinstance(out, cr.Tensor) and out.requires_grad
    expected = call(np, *arrays)
    np.testing.assert_allclose(out.data, expected, rtol=1e-6, atol=1e-5)  # the list became float32
    w = np.random.default_rng(8).standard_normal(out.shape)
    cr.sum(out * w).backward()
    numeric = cr.numerical_grad(lambda x: cr.sum(call(A, *constants, x) * w), arrays[-1])
    np.testing.assert_allclose(x.grad.data, numeric, rtol=1e-5, atol=1e-6)


def test_functions_of_constants_only_still_return_tensors():
    assert isinstance(A.fliplr(np.ones((2, 2))), cr.Tensor)
    assert all(isinstance(p, cr.Tensor) for p in A.hsplit(np.ones((2, 4)), 2))
    assert isinstance(A.diag([1, 2, 3]), cr.Tensor) and A.diag([1, 2, 3]).dtype.kind == "i"
    assert A.vstack([[1.0, 2.0], [3.0, 4.0]]).dtype == cr.get_default_dtype()
    assert A.linspace(0, 1, 3).dtype == cr.get_default_dtype()
    assert A.repeat(np.arange(3), 2).tolist() == [0, 0, 1, 1, 2, 2]


def test_vstack_of_one_tensor_iterates_its_rows_as_numpy_does():
    x = cr.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    out = A.vstack(x)
    np.testing.assert_array_equal(out.data, np.vstack(np.arange(6.0).reshape(3, 2)))
    cr.sum(out * out).backward()
    np.testing.assert_allclose(x.grad.data, 2 * x.data)


def test_stack_dtype_and_casting_follow_numpy():
    a, b = np.array([1, 2]), np.array([0.5, 1.5])
    out = A.vstack([a, b], dtype=np.float32)
    assert out.dtype == np.float32 and np.array_equal(out.data, np.vstack([a, b], dtype=np.float32))
    with pytest.raises(TypeError, match="hstack: cannot cast float64 to int64"):
        A.hstack([a, b], dtype=np.int64)
    np.testing.assert_array_equal(A.hstack([a, b], dtype=np.int64, casting="unsafe").data, [1, 2, 0, 1])


def test_linspace_gradients_are_the_closed_forms():
    start = cr.tensor(np.array([0.0, 1.0]), requires_grad=True)
    stop = cr.tensor(np.array([2.0, 5.0]), requires_grad=True)
    y = A.linspace(start, stop, num=5, axis=1)
    np.testing.assert_allclose(y.data, np.linspace([0.0, 1.0], [2.0, 5.0], 5, axis=1))
    cr.sum(y * np.arange(5.0)).backward()  # Σᵢ i·(1 − i/4) and Σᵢ i·i/4
    np.testing.assert_allclose(start.grad.data, [sum(i * (1 - i / 4) for i in range(5))] * 2)
    np.testing.assert_allclose(stop.grad.data, [sum(i * i / 4 for i in range(5))] * 2)


def test_linspace_retstep_and_integer_dtype_follow_numpy():
    y, step = A.linspace(cr.tensor(np.float64(1.0)), np.float64(2.0), 5, retstep=True)
    assert isinstance(step, cr.Tensor) and step.item() == 0.25
    _, nan_step = A.linspace(np.float64(1.0), np.float64(2.0), 1, retstep=True)
    assert np.isnan(nan_step)
    for num, endpoint in ((7, True), (6, False)):
        expected = np.linspace(np.float64(-3.0), np.float64(4.0), num, endpoint=endpoint, dtype=np.int64)
        out = A.linspace(np.float64(-3.0), np.float64(4.0), num, endpoint=endpoint, dtype=np.int64)
        assert out.dtype == np.int64 and np.array_equal(out.data, expected)


def test_pad_with_tensor_constants_sends_them_the_gradient_of_their_blocks():
    x = cr.tensor(np.ones((2, 3)), requires_grad=True)
    c = cr.tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    out = A.pad(x, ((1, 2), (2, 1)), constant_values=c)
    np.testing.assert_array_equal(out.data, np.pad(np.ones((2, 3)), ((1, 2), (2, 1)), constant_values=c.data))
    cr.sum(out).backward()
    # The corners hold the later axis's constants: axis 0's blocks are 1 and 2 rows of 3, axis 1's
    # are 2 and 1 columns of 5.
    np.testing.assert_array_equal(c.grad.data, [[3.0, 6.0], [10.0, 5.0]])
    np.testing.assert_array_equal(x.grad.data, np.ones((2, 3)))
    assert cr.gradcheck(lambda x, c: A.pad(x, ((1, 0), (0, 2)), constant_values=c), [x, c])


def test_pad_of_an_integer_array_with_a_float_constant_truncates_as_numpy():
    out = A.pad(np.arange(3), 1, constant_values=1.7)
    np.testing.assert_array_equal(out.data, np.pad(np.arange(3), 1, constant_values=1.7))


def test_cross_of_2_vectors_warns_as_numpy_does_and_has_numpys_values():
    for sa, sb in (((2,), (2,)), ((4, 2), (3,)), ((3,), (2,))):
        a, b = arrays_for([sa, sb], seed=9)
        with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
            out = A.cross(cr.tensor(a, requires_grad=True), b)
        np.testing.assert_allclose(out.data, numpy_result(lambda m, a, b: m.cross(a, b), [a, b]), rtol=1e-14)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            assert cr.gradcheck(lambda a, b: A.cross(a, b), [cr.tensor(a), cr.tensor(b)])


def test_cross_jacobian_is_minus_the_skew_matrix_of_b():
    a, b = np.array([1.0, 2.0, 3.0]), np.array([-1.0, 0.5, 2.0])
    J = cr.jacobian(lambda a: A.cross(a, b))(a)
    skew_b = np.array([[0, -b[2], b[1]], [b[2], 0, -b[0]], [-b[1], b[0], 0]])
    np.testing.assert_allclose(J.data, -skew_b)


def test_select_sends_the_gradient_to_the_first_matching_choice_only():
    a, b = cr.tensor(np.ones(4), requires_grad=True), cr.tensor(np.ones(4), requires_grad=True)
    d = cr.tensor(np.float64(0.0), requires_grad=True)
    cr.sum(A.select(C1, [a, b], d)).backward()
    np.testing.assert_array_equal(a.grad.data, [1, 0, 1, 0])
    np.testing.assert_array_equal(b.grad.data, [0, 1, 0, 0])
    assert d.grad.item() == 1.0


def test_repeat_and_tile_gradients_count_the_copies():
    x = cr.tensor(np.arange(1.0, 4.0), requires_grad=True)
    cr.sum(A.repeat(x, [2, 0, 3])).backward()
    np.testing.assert_array_equal(x.grad.data, [2, 0, 3])
    y = cr.tensor(np.ones((2, 3)), requires_grad=True)
    cr.sum(A.tile(y, (2, 1, 3))).backward()
    np.testing.assert_array_equal(y.grad.data, np.full((2, 3), 6.0))


def test_diag_of_a_vector_and_of_a_matrix_are_each_others_transposes():
    v, u = np.array([1.0, 2.0, 3.0]), np.random.default_rng(1).standard_normal((4, 4))
    _, pull = cr.vjp(lambda v: A.diag(v, 1), v)
    np.testing.assert_allclose(pull(u)[0].data, np.diag(u, 1))
    _, pull = cr.vjp(lambda m: A.diag(m, 1), u)
    np.testing.assert_allclose(pull(v)[0].data, np.diag(v, 1))


def test_meshgrid_returns_a_tuple_and_its_gradients_sum_over_the_other_axes():
    x = cr.tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    y = cr.tensor(np.array([4.0, 5.0]), requires_grad=True)
    X, Y = out = A.meshgrid(x, y)
    assert isinstance(out, tuple) and X.shape == Y.shape == (2, 3)
    cr.sum(X * Y).backward()
    np.testing.assert_allclose(x.grad.data, np.full(3, 9.0))
    np.testing.assert_allclose(y.grad.data, np.full(2, 6.0))
    assert A.meshgrid() == ()


def test_atleast_nd_with_several_inputs_returns_a_tuple_and_with_none_an_empty_one():
    out = A.atleast_1d(1.0, [2.0, 3.0])
    assert isinstance(out, tuple) and [o.shape for o in out] == [(1,), (2,)]
    assert A.atleast_2d() == ()
    x = cr.tensor(np.ones((2, 2)))
    assert A.atleast_2d(x) is x  # NumPy returns an array that already qualifies as it is


def test_negative_axes_equal_their_positive_spellings():
    x = cr.tensor(RNG.standard_normal((2, 3, 4)))
    pairs = [
        (A.rot90(x, 1, (-3, -1)), A.rot90(x, 1, (0, 2))),
        (A.rollaxis(x, -1, -3), A.rollaxis(x, 2, 0)),
        (A.repeat(x, 2, axis=-2), A.repeat(x, 2, axis=1)),
        (A.append(x, x, axis=-3), A.append(x, x, axis=0)),
        (A.cross(x[..., :3], x[..., 1:], axisa=-1), A.cross(x[..., :3], x[..., 1:], axisa=2)),
        (A.linspace(x[0, 0], x[1, 0], 3, axis=-1), A.linspace(x[0, 0], x[1, 0], 3, axis=1)),
    ]
    for left, right in pairs:
        np.testing.assert_array_equal(left.data, right.data)
    for left, right in zip(A.array_split(x, 3, axis=-1), A.array_split(x, 3, axis=2)):
        np.testing.assert_array_equal(left.data, right.data)


def test_gradients_keep_float32():
    x = cr.tensor(RNG.standard_normal((2, 3)).astype(np.float32), requires_grad=True)
    y = cr.sum(A.pad(x, 2, mode="reflect")) + cr.sum(A.kron(x, x)) + cr.sum(A.cross(x, x[::-1]))
    y = y + cr.sum(A.linspace(x[0], x[1], 4)) + cr.sum(A.diag(x, 1)) + cr.sum(A.r_[x[0], 1.5, x[1]])
    y.backward()
    assert x.grad.dtype == np.float32 and x.grad.shape == (2, 3)


# ------------------------------------------------------------------ r_ and c_
R_CASES = [
    ("range", lambda m: m.r_[1:5]),
    ("range-step", lambda m: m.r_[10:1:-3]),
    ("range-linspace", lambda m: m.r_[0:1:5j]),
    ("arrays-and-scalars", lambda m: m.r_[np.array([1.5, 2.5]), 0, 7, np.array([3.0])]),
    ("int-arrays", lambda m: m.r_[np.array([1, 2]), 3, 4:6]),
    ("axis-directive", lambda m: m.r_["-1", np.ones((2, 2)), np.zeros((2, 3))]),
    ("ndmin-directive", lambda m: m.r_["0,2", np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])]),
    ("ndmin-rows", lambda m: m.r_["1,2", np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])]),
    ("trans1d", lambda m: m.r_["1,2,0", np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])]),
    ("trans1d-3d", lambda m: m.r_["0,3,1", np.ones((2, 2)), np.ones((2, 2)) * 2]),
    ("trans1d-negative", lambda m: m.r_["0,3,-2", np.arange(3.0), np.arange(3.0)]),
    ("row", lambda m: np.asarray(m.r_["r", 1:4]) if m is np else m.r_["r", 1:4]),
    (
        "column",
        lambda m: np.asarray(m.r_["c", np.array([1.0, 2.0])]) if m is np else m.r_["c", np.array([1.0, 2.0])],
    ),
    ("c-vectors", lambda m: m.c_[np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])]),
    ("c-matrices", lambda m: m.c_[np.ones((2, 3)), np.zeros((2, 2))]),
    ("c-scalars", lambda m: m.c_[np.array([[1.0, 2.0, 3.0]]), 0, 0, np.array([[4.0, 5.0, 6.0]])]),
    ("c-range", lambda m: m.c_[0:3, np.array([1.0, 2.0, 3.0])]),
    ("0d-array", lambda m: m.r_[np.float64(2.5), np.array(3.0)]),
    ("one-array", lambda m: m.r_[np.array([1.0, 2.0])]),
]


@pytest.mark.parametrize(("name", "build"), R_CASES, ids=[c[0] for c in R_CASES])
def test_r_and_c_give_numpys_arrays(name, build):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # NumPy's 'r' and 'c' make an np.matrix
        expected = np.asarray(build(np))
    out = build(A)
    assert isinstance(out, cr.Tensor) and out.shape == expected.shape
    np.testing.assert_allclose(out.data, expected, rtol=1e-6)
    # A range of floats has the default dtype, as cr.arange's; arrays keep theirs, as in NumPy.
    assert out.dtype == (cr.get_default_dtype() if name == "range-linspace" else expected.dtype)


def test_r_and_c_send_gradients_to_their_tensors():
    x = cr.tensor(RNG.standard_normal(3), requires_grad=True)
    y = cr.tensor(RNG.standard_normal((3, 2)), requires_grad=True)
    assert cr.gradcheck(lambda x, y: A.c_[x, y, np.ones(3)], [x, y])
    assert cr.gradcheck(lambda x: A.r_["0,2,0", x, 2 * x, 1.5], [x])
    assert cr.gradcheck(lambda x: A.r_[x, 0:3, x[::-1]], [x])
    _, tangent = cr.jvp(lambda x: A.r_[x, 7.0, x], (x.data,), (np.ones(3),))
    np.testing.assert_array_equal(tangent.data, [1, 1, 1, 0, 1, 1, 1])


def test_r_with_python_floats_alone_gives_the_default_dtype():
    assert A.r_[1.0, 2.0].dtype == cr.get_default_dtype()
    assert A.r_[1, 2].dtype == np.int64
    assert A.r_[0:1:0.25].dtype == cr.get_default_dtype()
    assert A.r_[cr.tensor(np.array([1.0])), 2.0].dtype == np.float64


# ------------------------------------------------------------------ refusals
REFUSALS = [
    (lambda: A.fliplr(np.ones(3)), ValueError, r"fliplr: .*\(3,\)"),
    (lambda: A.flipud(np.float64(1.0)), ValueError, "flipud: .*0-d"),
    (lambda: A.rot90(np.ones((2, 2)), 1, (0, 0)), ValueError, "rot90: repeated axis"),
    (lambda: A.rot90(np.ones((2, 2)), 1, (0, 1, 2)), ValueError, "rot90: axes must name two"),
    (lambda: A.rot90(np.ones(3)), ValueError, r"rot90: axis 1 is out of range .*\(3,\)"),
    (lambda: A.rot90(np.ones((2, 2)), 1.5), TypeError, "rot90: k must be an integer"),
    (lambda: A.rollaxis(np.ones((2, 3)), 0, 3), ValueError, r"rollaxis: start 3 .*\(2, 3\)"),
    (lambda: A.rollaxis(np.ones((2, 3)), 2), ValueError, "rollaxis: axis 2 is out of range"),
    (lambda: A.vstack([np.ones(2), np.ones(3)]), ValueError, r"vstack: shapes \[\(1, 2\), \(1, 3\)\]"),
    (lambda: A.vstack([]), ValueError, "vstack: needs at least one"),
    (lambda: A.hstack(x for x in [np.ones(2)]), TypeError, "hstack: .*sequence"),
    (lambda: A.dstack([np.ones((2, 2)), np.ones((3, 2))]), ValueError, r"dstack: shapes"),
    (
        lambda: A.column_stack([np.ones(2), np.ones(3)]),
        ValueError,
        r"column_stack: shapes \[\(2, 1\), \(3, 1\)\]",
    ),
    (lambda: A.append(np.ones((2, 2)), np.ones(2), axis=0), ValueError, r"append: .*\(2, 2\), \(2,\)"),
    (lambda: A.append(np.float64(1.0), np.float64(2.0), axis=0), ValueError, "append: .*at least one"),
    (lambda: A.array_split(np.ones(3), 0), ValueError, "array_split: the number of sections must be larger"),
    (lambda: A.array_split(np.float64(1.0), 2), ValueError, "array_split: cannot split a 0-d"),
    (
        lambda: A.array_split(np.ones(3), 2.0),
        TypeError,
        "array_split: the number of sections must be an integer",
    ),
    (lambda: A.vsplit(np.ones(4), 2), ValueError, r"vsplit: .*at least 2 axes, got shape \(4,\)"),
    (
        lambda: A.hsplit(np.ones((2, 3)), 2),
        ValueError,
        "hsplit: 2 sections do not divide an axis of length 3",
    ),
    (lambda: A.hsplit(np.float64(1.0), 2), ValueError, "hsplit: needs a tensor with at least 1 axes"),
    (lambda: A.dsplit(np.ones((2, 2)), 2), ValueError, r"dsplit: .*\(2, 2\)"),
    (lambda: A.repeat(np.ones(3), -1), ValueError, "repeat: repeats may not be negative"),
    (lambda: A.repeat(np.ones(3), [1, 2]), ValueError, r"repeat: 2 repeats do not fit .*\(3,\)"),
    (lambda: A.repeat(np.ones(3), 1.5), TypeError, "repeat: repeats must be integers"),
    (lambda: A.repeat(np.ones(3), 2, axis=1), ValueError, r"repeat: axis 1 is out of range .*\(3,\)"),
    (lambda: A.tile(np.ones(3), (2, -1)), ValueError, "tile: reps may not be negative"),
    (lambda: A.tile(np.ones(3), 1.5), TypeError, "tile: reps must be an integer"),
    (lambda: A.pad(np.ones(3), -1), ValueError, "pad: pad_width may not be negative"),
    (lambda: A.pad(np.ones(3), 1.5), TypeError, "pad: pad_width must be integers"),
    (
        lambda: A.pad(np.ones((2, 2)), ((1, 2), (3, 4), (5, 6))),
        ValueError,
        r"pad: pad_width of shape \(3, 2\)",
    ),
    (lambda: A.pad(np.ones(3), 1, mode="nearest"), ValueError, "pad: mode 'nearest' is not supported"),
    (lambda: A.pad(np.ones(3), 1, mode="mean"), NotImplementedError, "pad: mode 'mean'"),
    (
        lambda: A.pad(np.ones(3), 1, mode="reflect", reflect_type="odd"),
        NotImplementedError,
        "reflect_type 'odd'",
    ),
    (lambda: A.pad(np.ones(3), 1, mode="edge", constant_values=2), ValueError, "constant_values applies"),
    (
        lambda: A.pad(np.ones((0, 2)), 1, mode="wrap"),
        ValueError,
        r"pad: cannot extend the empty axis 0 .*\(0, 2\)",
    ),
    (lambda: A.select([np.array([True])], []), ValueError, "select: 1 conditions but 0 choices"),
    (lambda: A.select([], []), ValueError, "select: needs at least one condition"),
    (lambda: A.select([np.array([1, 0])], [np.ones(2)]), TypeError, "select: condition 0 must be boolean"),
    (
        lambda: A.select([np.array([True, False])], [np.ones(3)]),
        ValueError,
        r"select: shapes \[\(2,\), \(3,\)",
    ),
    (lambda: A.diag(np.ones((2, 2, 2))), ValueError, r"diag: .*\(2, 2, 2\)"),
    (lambda: A.inner(np.ones((2, 3)), np.ones(2)), ValueError, r"inner: shapes \(2, 3\) and \(2,\)"),
    (lambda: A.cross(np.ones(4), np.ones(3)), ValueError, r"cross: .*2 or 3 components, got 4 and 3"),
    (lambda: A.cross(np.ones((2, 3)), np.ones((3, 3))), ValueError, r"cross: shapes \(2, 3\) and \(3, 3\)"),
    (lambda: A.cross(np.ones(3), np.ones(3), axisc=1), ValueError, "cross: axis 1 is out of range"),
    (lambda: A.cross(np.float64(1.0), np.ones(3)), ValueError, r"cross: needs vectors, got shapes \(\)"),
    (lambda: A.linspace(0.0, 1.0, -1), ValueError, "linspace: the number of samples must be non-negative"),
    (lambda: A.linspace(0.0, 1.0, 2.5), TypeError, "linspace: num must be an integer"),
    (
        lambda: A.linspace(np.zeros(2), 1.0, 3, axis=2),
        ValueError,
        r"linspace: axis 2 is out of range .*\(3, 2\)",
    ),
    (lambda: A.meshgrid(np.ones(2), indexing="xz"), ValueError, "meshgrid: indexing must be 'xy' or 'ij'"),
    (lambda: A.r_[np.ones(2), "0,2"], ValueError, "r_: the directive '0,2' must be the first entry"),
    (lambda: A.r_["a,b", np.ones(2)], ValueError, "r_: unknown directive 'a,b'"),
    (lambda: A.r_["1 2; 3 4"], ValueError, "r_: matrix strings"),
    (lambda: A.r_[()], ValueError, "r_: needs at least one entry"),
    (lambda: A.r_[np.ones(2), np.ones((2, 2))], ValueError, r"r_: .*\(2,\), \(2, 2\)"),
    (lambda: A.c_[np.ones(2), np.ones(3)], ValueError, r"c_: shapes \[\(2, 1\), \(3, 1\)\]"),
    (lambda: A.r_[3:], ValueError, "r_: a slice needs a stop"),
    (lambda: A.r_["r", np.ones((2, 2, 2))], ValueError, "r_: the directive 'r' makes a 2-d result"),
]


@pytest.mark.parametrize(
    ("call", "error", "message"), REFUSALS, ids=[f"refusal-{i}" for i in range(len(REFUSALS))]
)
def test_bad_arguments_are_refused_naming_the_function_and_the_shapes(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_numpy_refuses_what_chainrule_refuses():
    """Where NumPy has the function, each ValueError above is one NumPy raises too (or a
    deprecation, for NumPy's silent cases listed in the module docstring)."""
    numpy_calls = [
        lambda: np.fliplr(np.ones(3)),
        lambda: np.vstack([np.ones(2), np.ones(3)]),
        lambda: np.array_split(np.ones(3), 0),
        lambda: np.hsplit(np.ones((2, 3)), 2),
        lambda: np.repeat(np.ones(3), -1),
        lambda: np.pad(np.ones(3), -1),
        lambda: np.pad(np.ones((0, 2)), 1, mode="wrap"),
        lambda: np.inner(np.ones((2, 3)), np.ones(2)),
        lambda: np.cross(np.ones(4), np.ones(3)),
        lambda: np.linspace(0.0, 1.0, -1),
        lambda: np.select([], []),
    ]
    for call in numpy_calls:
        with pytest.raises(ValueError):
            call()


# ------------------------------------------------------------------ signatures
@pytest.mark.parametrize("name", sorted(set(NAMES) - {"r_", "c_", "row_stack"}))
def test_parameter_names_and_defaults_are_numpys(name):
    ours = inspect.signature(getattr(A, name)).parameters
    try:
        theirs = inspect.signature(getattr(np, name)).parameters
    except ValueError:
        pytest.skip(f"np.{name} has no signature to read")
    skipped = {"device", "kwargs"}  # NumPy's device= (none here yet) and pad's **kwargs, spelled out here
    theirs = {k: p for k, p in theirs.items() if k not in skipped}
    for k, p in theirs.items():
        assert k in ours, f"{name}: NumPy's parameter {k!r} is missing"
        assert ours[k].kind == p.kind, f"{name}: {k} is {ours[k].kind}, NumPy's is {p.kind}"
        if p.default is not inspect.Parameter.empty:
            assert ours[k].default == p.default, f"{name}: {k} defaults to {ours[k].default!r}"


# ------------------------------------------------------------------ PyTorch's namesakes
def _torch():
    return pytest.importorskip("torch")


TORCH_CASES = [
    ("fliplr", [(2, 3)], lambda t, a: t.fliplr(a), lambda a: A.fliplr(a)),
    ("flipud", [(3, 2)], lambda t, a: t.flipud(a), lambda a: A.flipud(a)),
    ("rot90", [(2, 3, 4)], lambda t, a: t.rot90(a, 3, (2, 0)), lambda a: A.rot90(a, 3, (2, 0))),
    ("atleast_3d", [(3,)], lambda t, a: t.atleast_3d(a), lambda a: A.atleast_3d(a)),
    ("vstack", [(3,), (2, 3)], lambda t, a, b: t.vstack([a, b]), lambda a, b: A.vstack([a, b])),
    ("hstack", [(2, 1), (2, 3)], lambda t, a, b: t.hstack([a, b]), lambda a, b: A.hstack([a, b])),
    ("dstack", [(2, 2), (2, 2, 2)], lambda t, a, b: t.dstack([a, b]), lambda a, b: A.dstack([a, b])),
    (
        "column_stack",
        [(3,), (3, 2)],
        lambda t, a, b: t.column_stack([a, b]),
        lambda a, b: A.column_stack([a, b]),
    ),
    (
        "tensor_split",
        [(7, 2)],
        lambda t, a: t.cat(t.tensor_split(a, 3)),
        lambda a: cr.concatenate(A.array_split(a, 3)),
    ),
    (
        "repeat_interleave",
        [(2, 3)],
        lambda t, a: t.repeat_interleave(a, 2, dim=1),
        lambda a: A.repeat(a, 2, axis=1),
    ),
    (
        "repeat_interleave-counts",
        [(3, 2)],
        lambda t, a: t.repeat_interleave(a, t.tensor([1, 0, 3]), dim=0),
        lambda a: A.repeat(a, [1, 0, 3], axis=0),
    ),
    ("tile", [(2, 3)], lambda t, a: t.tile(a, (2, 1, 2)), lambda a: A.tile(a, (2, 1, 2))),
    *(
        (
            f"pad-{mode}",
            [(2, 3, 4)],
            lambda t, a, tm=tm: t.nn.functional.pad(a, (2, 1, 1, 2), mode=tm),
            lambda a, mode=mode: A.pad(a, ((0, 0), (1, 2), (2, 1)), mode=mode),
        )
        for mode, tm in (
            ("constant", "constant"),
            ("reflect", "reflect"),
            ("edge", "replicate"),
            ("wrap", "circular"),
        )
    ),
    ("diag", [(3,)], lambda t, a: t.diag(a, -1), lambda a: A.diag(a, -1)),
    ("diag-matrix", [(3, 4)], lambda t, a: t.diag(a, 1), lambda a: A.diag(a, 1)),
    ("diagflat", [(2, 2)], lambda t, a: t.diagflat(a, 1), lambda a: A.diagflat(a, 1)),
    ("kron", [(2, 2), (3, 2)], lambda t, a, b: t.kron(a, b), lambda a, b: A.kron(a, b)),
    ("inner", [(2, 3), (4, 3)], lambda t, a, b: t.inner(a, b), lambda a, b: A.inner(a, b)),
    ("cross", [(4, 3), (4, 3)], lambda t, a, b: t.linalg.cross(a, b), lambda a, b: A.cross(a, b)),
    (
        "meshgrid",
        [(3,), (2,)],
        lambda t, a, b: t.stack(t.meshgrid(a, b, indexing="xy")),
        lambda a, b: cr.stack(list(A.meshgrid(a, b))),
    ),
]


@pytest.mark.reference
@pytest.mark.parametrize(("name", "shapes", "theirs", "ours"), TORCH_CASES, ids=[c[0] for c in TORCH_CASES])
def test_values_and_gradients_equal_pytorchs(name, shapes, theirs, ours):
    torch = _torch()
    arrays = arrays_for(shapes, seed=12)
    xs = [cr.tensor(a, requires_grad=True) for a in arrays]
    ts = [torch.tensor(a, requires_grad=True) for a in arrays]
    out, expected = ours(*xs), theirs(torch, *ts)
    np.testing.assert_allclose(out.data, expected.detach().numpy(), rtol=1e-14, atol=1e-15)
    w = np.random.default_rng(13).standard_normal(out.shape)
    cr.sum(cr.sin(out) * w).backward()
    (torch.sin(expected) * torch.from_numpy(w)).sum().backward()
    for x, t in zip(xs, ts):
        np.testing.assert_allclose(x.grad.data, t.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.reference
def test_linspace_equals_pytorchs_for_scalar_ends():
    torch = _torch()
    for num in (1, 2, 5, 11):
        ours = A.linspace(cr.tensor(np.float64(-1.5)), np.float64(2.0), num)
        theirs = torch.linspace(-1.5, 2.0, num, dtype=torch.float64)
        np.testing.assert_allclose(ours.data, theirs.numpy(), rtol=1e-14, atol=1e-15)
