"""Matrix functions: inverse, determinant, log-determinant and linear solves.

Each is a ``general`` row whose rules are the identities of matrix calculus, batched
over leading axes as ``np.linalg`` is (the matrix is the last two axes):

- inv:     d(A⁻¹) = −A⁻¹ dA A⁻¹;          VJP  −A⁻ᵀ G A⁻ᵀ
- det:     d det A = det A · tr(A⁻¹ dA);   VJP  g · det A · A⁻ᵀ
- slogdet: d log|det A| = tr(A⁻¹ dA);     VJP  g · A⁻ᵀ   (the sign has no gradient)
- solve:   x = A⁻¹ b, dx = A⁻¹ (db − dA x); VJP  g_b = A⁻ᵀ g, g_A = −g_b xᵀ
- cholesky: A = L Lᵀ, dL = L Φ(L⁻¹ dA L⁻ᵀ), Φ a triangle (see its row)

The rules take the inverse they need from the ``inv`` row itself (``xp.apply``), so
under ``create_graph`` it is recorded and differentiated like any other value.
"""

from __future__ import annotations

import numpy as np

from .core import OPS, Sample, constant_like, general


def _square_prepare(name):
    def prepare(a):
        shape = np.shape(a)
        if len(shape) < 2 or shape[-1] != shape[-2]:
            raise ValueError(f"{name}: needs square matrices in the last two axes, got shape {shape}")
        return {}

    return prepare


def _well_conditioned(fn, a, *rest, **params):
    """The sampled matrix plus 3·I: far from singular, so every sample is smooth."""
    return fn(a + constant_like(3 * np.eye(a.shape[-1]), a), *rest, **params)


def _square_samples(call=_well_conditioned):
    return [Sample(((3, 3),), call=call), Sample(((1, 1),), call=call), Sample(((2, 3, 3),), call=call)]


def _lift(t, x, core, batch, xp):
    """A (possibly stacked) tangent t of input x, with singleton axes inserted after its
    stacked axes so that x's batch axes reach ``batch`` axes, as the output's have."""
    stacked = t.ndim - x.ndim
    pad = batch - (x.ndim - core)
    if pad <= 0:
        return t
    return xp.reshape(t, t.shape[:stacked] + (1,) * pad + t.shape[stacked:])


def _inverse(a, xp):
    return xp.apply(OPS["inv"], a)


# ------------------------------------------------------------------ inv


def _inv(xp, a):
    try:
        return xp.linalg.inv(a)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"inv: singular matrix of shape {a.shape} has no inverse") from None


general(
    "inv",
    _inv,
    lambda g, xs, out, xp, needs: (
        -xp.matmul(xp.matmul(xp.matrix_transpose(out), g), xp.matrix_transpose(out)),
    ),
    lambda ts, xs, out, params, xp: -xp.matmul(xp.matmul(out, ts[0]), out),
    saves="out",
    prepare=_square_prepare("inv"),
    samples=_square_samples(),
    floating=True,
    reference=np.linalg.inv,
)

# ------------------------------------------------------------------ det


def _det_vjp(g, xs, out, xp, needs):
    scale = xp.expand_dims(xp.expand_dims(g * out, axis=-1), axis=-1)
    return (scale * xp.matrix_transpose(_inverse(xs[0], xp)),)


def _det_jvp(ts, xs, out, params, xp):
    return out * xp.sum(xp.matrix_transpose(_inverse(xs[0], xp)) * ts[0], axis=(-2, -1))


general(
    "det",
    "linalg.det",
    _det_vjp,
    _det_jvp,
    saves=("xs", "out"),
    prepare=_square_prepare("det"),
    samples=_square_samples(),
    floating=True,
    reference=np.linalg.det,
)

# ------------------------------------------------------------------ slogdet (its log|det| part)


def _logabsdet_vjp(g, xs, out, xp, needs):
    scale = xp.expand_dims(xp.expand_dims(g, axis=-1), axis=-1)
    return (scale * xp.matrix_transpose(_inverse(xs[0], xp)),)


def _logabsdet_jvp(ts, xs, out, params, xp):
    return xp.sum(xp.matrix_transpose(_inverse(xs[0], xp)) * ts[0], axis=(-2, -1))


def _logabsdet_call(fn, a):
    return _well_conditioned(fn, a)[1]


general(
    "slogdet",
    lambda xp, a: xp.linalg.slogdet(a)[1],
    _logabsdet_vjp,
    _logabsdet_jvp,
    saves="xs",
    prepare=_square_prepare("slogdet"),
    samples=_square_samples(_logabsdet_call),
    floating=True,
    reference=np.linalg.slogdet,
)

# ------------------------------------------------------------------ solve


def _solve_prepare(a, b):
    sa, sb = np.shape(a), np.shape(b)
    if len(sa) < 2 or sa[-1] != sa[-2]:
        raise ValueError(f"solve: needs square matrices A in the last two axes, got shape {sa}")
    # NumPy 2's rule: a 1-D b is one vector; otherwise b is a stack of (M, K) matrices.
    vector = len(sb) == 1
    rows = sb[0] if vector else (sb[-2] if len(sb) >= 2 else None)
    if rows != sa[-1]:
        raise ValueError(f"solve: A of shape {sa} and b of shape {sb} do not match (b needs {sa[-1]} rows)")
    try:
        np.broadcast_shapes(sa[:-2], () if vector else sb[:-2])
    except ValueError:
        raise ValueError(f"solve: the batch axes of A {sa} and b {sb} do not broadcast") from None
    return {"vector": vector}


def _solve(xp, a, b, vector):
    try:
        if vector:
            return xp.linalg.solve(a, b[..., None])[..., 0]
        return xp.linalg.solve(a, b)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(f"solve: A of shape {a.shape} is singular") from None


def _column(v, xp, vector):
    return xp.expand_dims(v, axis=-1) if vector else v


def _solve_vjp(g, xs, out, xp, needs, vector):
    a = xs[0]
    g_b = xp.matmul(xp.matrix_transpose(_inverse(a, xp)), _column(g, xp, vector))
    g_a = -xp.matmul(g_b, xp.matrix_transpose(_column(out, xp, vector)))
    if vector:
        g_b = xp.reshape(g_b, g_b.shape[:-1])
    return (g_a, g_b)


def _solve_jvp(ts, xs, out, params, xp):
    vector = params["vector"]
    a, b = xs
    x = _column(out, xp, vector)
    batch = x.ndim - 2
    r = None
    if ts[1] is not None:
        r = _lift(_column(ts[1], xp, vector), _column(b, xp, vector), 2, batch, xp)
    if ts[0] is not None:
        d = xp.matmul(_lift(ts[0], a, 2, batch, xp), x)
        r = -d if r is None else r - d
    dx = xp.matmul(_inverse(a, xp), r)
    return xp.reshape(dx, dx.shape[:-1]) if vector else dx


def _well_conditioned_solve(fn, a, b):
    return fn(a + constant_like(3 * np.eye(a.shape[-1]), a), b)


general(
    "solve",
    _solve,
    _solve_vjp,
    _solve_jvp,
    saves=("xs", "out"),
    prepare=_solve_prepare,
    samples=[
        Sample(((3, 3), (3,)), call=_well_conditioned_solve),
        Sample(((3, 3), (3, 2)), call=_well_conditioned_solve),
        Sample(((2, 3, 3), (3,)), call=_well_conditioned_solve),
        Sample(((2, 3, 3), (2, 3, 1)), call=_well_conditioned_solve),
        Sample(((3, 3), (2, 3, 2)), call=_well_conditioned_solve),
    ],
    floating=True,
    reference=np.linalg.solve,
)

# ------------------------------------------------------------------ cholesky
# A = L Lᵀ, and NumPy reads only A's lower triangle: the A it factors is
# S(A) = tril(A) + tril(A, −1)ᵀ. With Φ(X) the lower triangle of X with its diagonal
# halved: dL = L Φ(L⁻¹ S(dA) L⁻ᵀ), whose adjoint is the VJP S*(L⁻ᵀ Φ(Lᵀ G) L⁻¹),
# S*(X) = tril(X + Xᵀ) less X's diagonal once: the gradient lies in the lower triangle.


def _cholesky_prepare(a):
    shape = np.shape(a)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"cholesky: needs square matrices in the last two axes, got shape {shape}")
    n = shape[-1]
    lower = np.tril(np.ones((n, n)))
    return {"lower": lower, "strict": lower - np.eye(n)}


def _cholesky(xp, a, lower, strict):
    try:
        return xp.linalg.cholesky(a)
    except np.linalg.LinAlgError:
        raise np.linalg.LinAlgError(
            f"cholesky: a matrix of shape {a.shape} is not positive definite"
        ) from None


def _cholesky_vjp(g, xs, out, xp, needs, lower, strict):
    inv_l = _inverse(out, xp)
    phi = (lower + strict) / 2
    x = xp.matmul(xp.matmul(xp.matrix_transpose(inv_l), xp.matmul(xp.matrix_transpose(out), g) * phi), inv_l)
    return (x * lower + xp.matrix_transpose(x) * strict,)


def _cholesky_jvp(ts, xs, out, params, xp):
    lower, strict = params["lower"], params["strict"]
    inv_l = _inverse(out, xp)
    t = ts[0] * lower + xp.matrix_transpose(ts[0] * strict)
    inner = xp.matmul(xp.matmul(inv_l, t), xp.matrix_transpose(inv_l))
    return xp.matmul(out, inner * ((lower + strict) / 2))


def _positive_definite(fn, a):
    n = a.shape[-1]
    return fn(a + a.swapaxes(-1, -2) + constant_like((4 * n + 1) * np.eye(n), a))


general(
    "cholesky",
    _cholesky,
    _cholesky_vjp,
    _cholesky_jvp,
    saves="out",
    prepare=_cholesky_prepare,
    samples=_square_samples(_positive_definite),
    floating=True,
    reference=np.linalg.cholesky,
)
