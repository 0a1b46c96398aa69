"""Matrix decompositions, the pseudo-inverse and integer matrix powers.

Each decomposition is one ``general`` row computed by one LAPACK call. A row gives one
array, so the factors are stacked along the row axis, and ``chainrule.linalg`` slices
them apart (a factor's gradient reaches the row through that slice):

=========  ===========================  =============================================
row        out (the matrix axes)        the factors
=========  ===========================  =============================================
eigh       [λ; V]       (n + 1, n)      A = V diag(λ) Vᵀ, λ ascending
svd        [U; s; V]    (m + 1 + n, k)  A = U diag(s) Vᵀ, k = min(m, n), s descending
qr         [Q; R]       (m + n, n)      A = Q R, m ≥ n, R upper triangular
=========  ===========================  =============================================

``eigvalsh`` and ``svdvals`` give the values alone, ``pinv`` gives A⁺. The rules are the
identities of matrix calculus (``∘`` is the elementwise product):

- eigh:   with Ȧ = Vᵀ dA V: dλ = diag(Ȧ), dV = V (F ∘ Ȧ), F_ij = 1/(λ_j − λ_i) off the
  diagonal and 0 on it; VJP  Ā = V (diag(λ̄) + F ∘ (Vᵀ V̄)) Vᵀ.
- svd:    with Ṗ = Uᵀ dA V and F_ij = 1/(s_j² − s_i²): ds = diag(Ṗ),
  dU = U (F ∘ (Ṗ S + S Ṗᵀ)) + (I − U Uᵀ) dA V S⁻¹,
  dV = V (F ∘ (S Ṗ + Ṗᵀ S)) + (I − V Vᵀ) dAᵀ U S⁻¹;
  VJP  Ā = U [(J + Jᵀ) S + diag(s̄) + S (K + Kᵀ)] Vᵀ + (I − U Uᵀ) Ū S⁻¹ Vᵀ
  + U S⁻¹ V̄ᵀ (I − V Vᵀ), with J = F ∘ (Uᵀ Ū), K = F ∘ (Vᵀ V̄).
- qr:     with C = Qᵀ dA R⁻¹ and Ω = tril(C, −1) − tril(C, −1)ᵀ (Qᵀ dQ, antisymmetric):
  dR = (C − Ω) R, dQ = dA R⁻¹ − Q (C − Ω);
  VJP  Ā = (Q̄ + Q B) R⁻ᵀ, B = triu(N) + triu(N, 1)ᵀ, N = R̄ Rᵀ − Qᵀ Q̄.
- pinv:   X = A⁺ of a full-rank A: dX = −X dA X + X Xᵀ dAᵀ (I − A X) + (I − X A) dAᵀ Xᵀ X;
  VJP  Ā = −Xᵀ G Xᵀ + (I − A X) Gᵀ X Xᵀ + Xᵀ X Gᵀ (I − X A).
- eigvalsh and svdvals: dλ = diag(Vᵀ dA V), ds = diag(Uᵀ dA V); VJPs V diag(λ̄) Vᵀ and
  U diag(s̄) Vᵀ, the vectors taken from the eigh and svd rows (``xp.apply``), so that under
  ``create_graph`` they are recorded and the second derivative is theirs.

Where the derivative does not exist the rules refuse instead of returning inf or NaN:
eigenvectors at repeated eigenvalues, singular vectors at repeated or zero singular
values (a zero singular value is a kink, like |x| at 0, where a singular vector flips
sign), qr and pinv of a rank-deficient matrix. Those checks read values (the only
Python ``if`` on array values in these rules); the math itself is branch-free.

``eigh``, ``eigvalsh`` and ``svd``/``pinv`` with ``hermitian=True`` read one triangle of A,
as NumPy does, so the matrix they decompose is S(A) = T ∘ A + (T' ∘ A)ᵀ, T the triangle
read (with its diagonal) and T' the same triangle without it. The JVP takes S(dA), and the
VJP applies the adjoint S*(G) = T ∘ G + T' ∘ Gᵀ: the gradient lies in the triangle read.
"""

from __future__ import annotations

import numpy as np

from .core import OPS, Sample, composite, constant_like, device_of, every_value, general
from .xp import numpy_linalg

# Values closer than this many ε (times the size and the largest value) count as equal.
_GAP_ULPS = 100


# ------------------------------------------------------------------ shared pieces


def _matrix_shape(name, a):
    shape = np.shape(a)
    if len(shape) < 2:
        raise ValueError(f"{name}: needs matrices in the last two axes, got shape {shape}")
    return shape


def _square_shape(name, a):
    shape = _matrix_shape(name, a)
    if shape[-1] != shape[-2]:
        raise ValueError(f"{name}: needs square matrices in the last two axes, got shape {shape}")
    return shape


def _triangle_masks(n, uplo, dtype):
    """(T, T'): the triangle NumPy reads, with and without its diagonal."""
    keep = np.tril(np.ones((n, n), dtype=dtype)) if uplo == "L" else np.triu(np.ones((n, n), dtype=dtype))
    return keep, keep - np.eye(n, dtype=dtype)


def _uplo(name, uplo):
    side = str(uplo).upper()
    if side not in ("L", "U"):
        raise ValueError(f"{name}: UPLO must be 'L' or 'U', got {uplo!r}")
    return side


def _symmetric(t, keep, strict, xp):
    """S(t): the symmetric matrix NumPy builds from the triangle it reads (t as it is
    when the op reads the whole matrix)."""
    if keep is None:
        return t
    return t * keep + xp.matrix_transpose(t * strict)


def _symmetric_adjoint(g, keep, strict, xp):
    """S*(g) = T ∘ g + T' ∘ gᵀ, the transpose of :func:`_symmetric`."""
    if keep is None:
        return g
    return g * keep + xp.matrix_transpose(g) * strict


def _mm(x, y, xp):
    return xp.matmul(x, y)


def _t(x, xp):
    return xp.matrix_transpose(x)


def _diagonal(x, xp):
    """The diagonal of each (..., n, n) matrix, shape (..., n)."""
    return xp.sum(x * xp.eye(x.shape[-1], dtype=x.dtype, device=device_of(x)), axis=-1)


def _diagonal_matrix(v, xp):
    """diag(v) for each (..., n) vector."""
    return xp.expand_dims(v, axis=-2) * xp.eye(v.shape[-1], dtype=v.dtype, device=device_of(v))


def _reciprocal_gaps(w, xp):
    """F_ij = 1/(w_j − w_i) off the diagonal and 0 on it (w's values distinct)."""
    eye = xp.eye(w.shape[-1], dtype=w.dtype, device=device_of(w))
    return 1 / (xp.expand_dims(w, axis=-2) - xp.expand_dims(w, axis=-1) + eye) - eye


def _too_close(values):
    """(w, tol): the values as an array and, per matrix, the gap below which two count as equal."""
    w = every_value(values)
    scale = np.max(np.abs(w), axis=-1, keepdims=True) if w.shape[-1] else 0.0
    return w, _GAP_ULPS * max(w.shape[-1], 1) * np.finfo(w.dtype).eps * scale


def _closest_pair(values):
    """The two closest values (a ≤ b) when they are equal to within rounding, else None."""
    w, tol = _too_close(values)
    if w.shape[-1] < 2:
        return None
    ordered = np.sort(w, axis=-1)
    gaps = np.diff(ordered, axis=-1)
    if not np.any(gaps <= tol):
        return None
    i = np.unravel_index(np.argmin(gaps - tol), gaps.shape)
    return ordered[i], ordered[i[:-1] + (i[-1] + 1,)]


def _refuse_repeated_eigenvalues(w):
    pair = _closest_pair(w)
    if pair is not None:
        raise np.linalg.LinAlgError(
            f"eigh: the eigenvector derivative does not exist at repeated eigenvalues "
            f"({pair[0]:.6g} and {pair[1]:.6g} are equal to within rounding); use eigvalsh when "
            "only the eigenvalues are needed (their second derivative needs the eigenvectors' "
            "first, so it does not exist there either)"
        )


def _refuse_degenerate_singular_values(s):
    pair = _closest_pair(s)
    if pair is not None:
        raise np.linalg.LinAlgError(
            f"svd: the derivative of U and V does not exist at repeated singular values "
            f"({pair[0]:.6g} and {pair[1]:.6g} are equal to within rounding); use "
            "svd(a, compute_uv=False) when only the singular values are needed (their second "
            "derivative needs U's and V's first, so it does not exist there either)"
        )
    w, tol = _too_close(s)
    if w.shape[-1] and np.any(np.min(w, axis=-1, keepdims=True) <= tol):
        raise np.linalg.LinAlgError(
            "svd: the derivative of U and V does not exist at a zero singular value (a singular "
            "value is a kink there, like |x| at 0, and a singular vector flips sign); use "
            "svd(a, compute_uv=False) when only the singular values are needed"
        )


def _refuse_zero_pivot(r):
    """qr: the derivative needs R invertible (A of full column rank)."""
    w, tol = _too_close(np.abs(np.diagonal(every_value(r), axis1=-2, axis2=-1)))
    if w.shape[-1] and np.any(np.min(w, axis=-1, keepdims=True) <= tol):
        raise np.linalg.LinAlgError(
            "qr: the derivative needs a matrix of full column rank; R has a zero on its diagonal"
        )


def _refuse_rank_deficient(a, x):
    """pinv: tr(A A⁺) is the rank of A; the derivative needs it to be min(M, N)."""
    rank = np.einsum("...ij,...ji->...", every_value(a), every_value(x))
    full = min(np.shape(a)[-2:])
    if np.any(rank < full - 0.5):
        raise np.linalg.LinAlgError(
            f"pinv: the derivative of the pseudo-inverse exists only at full rank (A⁺ jumps where "
            f"the rank changes); got a matrix of rank {round(float(np.min(rank)))} < min(M, N) = {full}"
        )


def _shifted(a, offsets):
    """a plus diag(offsets) in the leading square block, in a's dtype: a test sample made
    well separated (it is applied to Tensors and arrays alike)."""
    m, n = a.shape[-2:]
    return a + constant_like(np.eye(m, n) * offsets, a)


def _separated_eigenvalues(a):
    """Symmetric parts with eigenvalues at least 2 apart: the diagonal 0, 8, 16, ... plus
    entries in (−2, 2) (Gershgorin)."""
    return _shifted(a, 8.0 * np.arange(a.shape[-1]))


def _separated_singular_values(a):
    """a / 4 plus 4, 8, 12, ... on the diagonal: singular values apart and away from 0
    (Weyl: a / 4 moves each by at most ‖a / 4‖₂ < 2)."""
    m, n = a.shape[-2:]
    offsets = np.zeros(n)
    offsets[: min(m, n)] = 4.0 * np.arange(min(m, n), 0, -1)
    return _shifted(a / 4, offsets)


def _signed_separated(a):
    """A symmetric sample with eigenvalues near ±8, ±16, ... of mixed signs: distinct
    |λ| away from 0, for the hermitian SVD and pseudo-inverse."""
    n = a.shape[-1]
    return _shifted(a, 8.0 * (np.arange(n) + 1) * (-1.0) ** np.arange(n))


# ------------------------------------------------------------------ eigh and eigvalsh


def _eigh_prepare(name):
    def prepare(a, UPLO="L"):  # noqa: N803 - NumPy's name
        _square_shape(name, a)
        side = _uplo(name, UPLO)
        keep, strict = _triangle_masks(np.shape(a)[-1], side, a.dtype)
        return {"UPLO": side, "keep": keep, "strict": strict}

    return prepare


def _upper_read(xp, fn, a, UPLO, keep, strict):  # noqa: N803
    """``fn(a)`` for the standard's ``linalg.eigh``/``eigvalsh``, which read the lower triangle.
    NumPy reads the upper one itself for ``UPLO="U"`` (with its own eigenvector signs); on
    another namespace that is fn of S(A), the symmetric matrix the upper triangle makes."""
    if UPLO == "L":
        return fn(a)
    if numpy_linalg(xp):
        return fn(a, UPLO=UPLO)
    return fn(_symmetric(a, keep, strict, xp))


def _eigh(xp, a, UPLO, keep, strict):  # noqa: N803
    w, v = _upper_read(xp, xp.linalg.eigh, a, UPLO, keep, strict)
    return xp.concat([xp.expand_dims(w, axis=-2), v], axis=-2)


def _values_vjp(left, gw, right, keep, strict, xp):
    """The VJP of eigenvalues (left = right = V) or singular values (U, V) alone:
    S*(L diag(ḡ) Rᵀ), S* the adjoint of reading one triangle (identity when keep is None)."""
    return _symmetric_adjoint(_mm(left * xp.expand_dims(gw, axis=-2), _t(right, xp), xp), keep, strict, xp)


def _zero(g) -> bool:
    """Whether a cotangent is exactly zero (a factor the loss does not use): its values, read
    from a Tensor's ``data`` under ``create_graph``."""
    return not np.any(every_value(g))


def _eigh_vjp(g, xs, out, xp, needs, UPLO, keep, strict):  # noqa: N803
    w, v = out[..., 0, :], out[..., 1:, :]
    if _zero(g[..., 1:, :]):  # only the eigenvalues are used: S*(V diag(ḡ) Vᵀ), fine at repeats
        return (_values_vjp(v, g[..., 0, :], v, keep, strict, xp),)
    _refuse_repeated_eigenvalues(w)
    inner = _diagonal_matrix(g[..., 0, :], xp) + _reciprocal_gaps(w, xp) * _mm(_t(v, xp), g[..., 1:, :], xp)
    return (_symmetric_adjoint(_mm(_mm(v, inner, xp), _t(v, xp), xp), keep, strict, xp),)


def _eigh_jvp(ts, xs, out, params, xp):
    w, v = out[..., 0, :], out[..., 1:, :]
    _refuse_repeated_eigenvalues(w)
    inner = _mm(_mm(_t(v, xp), _symmetric(ts[0], params["keep"], params["strict"], xp), xp), v, xp)
    dv = _mm(v, _reciprocal_gaps(w, xp) * inner, xp)
    return xp.concat([xp.expand_dims(_diagonal(inner, xp), axis=-2), dv], axis=-2)


def _eigh_call(fn, a, **params):
    return list(fn(_separated_eigenvalues(a), **params))


def _eigh_samples(call):
    return [
        Sample(((3, 3),), call=call),
        Sample(((2, 2),), call=call),
        Sample(((2, 3, 3),), call=call),
        Sample(((3, 3),), params={"UPLO": "U"}, call=call),
    ]


general(
    "eigh",
    _eigh,
    _eigh_vjp,
    _eigh_jvp,
    saves="out",
    prepare=_eigh_prepare("eigh"),
    samples=_eigh_samples(_eigh_call),
    floating=True,
    reference=np.linalg.eigh,
)


def _eigvalsh(xp, a, UPLO, keep, strict):  # noqa: N803
    return _upper_read(xp, xp.linalg.eigvalsh, a, UPLO, keep, strict)


def _eigenvectors(a, params, xp):
    return xp.apply(OPS["eigh"], a, **params)[..., 1:, :]


def _eigvalsh_vjp(g, xs, out, xp, needs, UPLO, keep, strict):  # noqa: N803
    v = _eigenvectors(xs[0], {"UPLO": UPLO, "keep": keep, "strict": strict}, xp)
    return (_values_vjp(v, g, v, keep, strict, xp),)


def _eigvalsh_jvp(ts, xs, out, params, xp):
    v = _eigenvectors(xs[0], params, xp)
    return xp.sum(v * _mm(_symmetric(ts[0], params["keep"], params["strict"], xp), v, xp), axis=-2)


def _eigvalsh_call(fn, a, **params):
    return fn(_separated_eigenvalues(a), **params)


general(
    "eigvalsh",
    _eigvalsh,
    _eigvalsh_vjp,
    _eigvalsh_jvp,
    saves="xs",
    prepare=_eigh_prepare("eigvalsh"),
    samples=_eigh_samples(_eigvalsh_call),
    floating=True,
    reference=np.linalg.eigvalsh,
)

# ------------------------------------------------------------------ svd and its values


def _svd_prepare(a, hermitian=False):
    shape = _square_shape("svd", a) if hermitian else _matrix_shape("svd", a)
    keep, strict = _triangle_masks(shape[-1], "L", a.dtype) if hermitian else (None, None)
    return {"rows": shape[-2], "hermitian": bool(hermitian), "keep": keep, "strict": strict}


def _svd(xp, a, rows, hermitian, keep, strict):
    """The standard's ``linalg.svd``. ``hermitian=True`` computes it as NumPy does, from the
    eigenvalues λ and vectors of the lower triangle: s = |λ| descending, U the vectors in
    that order, V = U · sign(λ)."""
    if not hermitian:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        return xp.concat([u, xp.expand_dims(s, axis=-2), xp.matrix_transpose(vh)], axis=-2)
    w, u = xp.linalg.eigh(a)
    order = xp.flip(xp.argsort(xp.abs(w), axis=-1), axis=-1)
    w = xp.take_along_axis(w, order, axis=-1)
    u = xp.take_along_axis(u, xp.broadcast_to(xp.expand_dims(order, axis=-2), u.shape), axis=-1)
    v = u * xp.expand_dims(xp.copysign(xp.ones_like(w), w), axis=-2)
    return xp.concat([u, xp.expand_dims(xp.abs(w), axis=-2), v], axis=-2)


def _svd_factors(out, rows):
    return out[..., :rows, :], out[..., rows, :], out[..., rows + 1 :, :]


def _svd_vjp(g, xs, out, xp, needs, rows, hermitian, keep, strict):
    u, s, v = _svd_factors(out, rows)
    gu, gs, gv = _svd_factors(g, rows)
    if _zero(gu) and _zero(gv):  # only the singular values are used: U diag(s̄) Vᵀ, fine anywhere
        return (_values_vjp(u, gs, v, keep, strict, xp),)
    _refuse_degenerate_singular_values(s)
    f = _reciprocal_gaps(s * s, xp)
    j = f * _mm(_t(u, xp), gu, xp)
    k = f * _mm(_t(v, xp), gv, xp)
    columns = xp.expand_dims(s, axis=-2)  # X * columns is X S
    inner = (
        (j + _t(j, xp)) * columns + _diagonal_matrix(gs, xp) + xp.expand_dims(s, axis=-1) * (k + _t(k, xp))
    )
    ga = _mm(_mm(u, inner, xp), _t(v, xp), xp)
    if u.shape[-2] > u.shape[-1]:  # U has fewer columns than rows: the part of Ū outside them
        ga = ga + _mm((gu - _mm(u, _mm(_t(u, xp), gu, xp), xp)) / columns, _t(v, xp), xp)
    if v.shape[-2] > v.shape[-1]:
        ga = ga + _mm(u, _t((gv - _mm(v, _mm(_t(v, xp), gv, xp), xp)) / columns, xp), xp)
    return (_symmetric_adjoint(ga, keep, strict, xp),)


def _svd_jvp(ts, xs, out, params, xp):
    u, s, v = _svd_factors(out, params["rows"])
    _refuse_degenerate_singular_values(s)
    t = _symmetric(ts[0], params["keep"], params["strict"], xp)
    f = _reciprocal_gaps(s * s, xp)
    dp = _mm(_mm(_t(u, xp), t, xp), v, xp)
    columns = xp.expand_dims(s, axis=-2)
    dp_s, s_dp = dp * columns, xp.expand_dims(s, axis=-1) * dp
    du = _mm(u, f * (dp_s + _t(dp_s, xp)), xp)
    dv = _mm(v, f * (s_dp + _t(s_dp, xp)), xp)
    if u.shape[-2] > u.shape[-1]:
        du = du + (_mm(t, v, xp) - _mm(u, dp, xp)) / columns
    if v.shape[-2] > v.shape[-1]:
        dv = dv + (_mm(_t(t, xp), u, xp) - _mm(v, _t(dp, xp), xp)) / columns
    return xp.concat([du, xp.expand_dims(_diagonal(dp, xp), axis=-2), dv], axis=-2)


def _svd_call(fn, a, **params):
    a = _signed_separated(a) if params.get("hermitian") else _separated_singular_values(a)
    return list(fn(a, full_matrices=False, **params))


_SVD_SHAPES = [(3, 3), (4, 2), (2, 3), (2, 3, 2), (1, 1)]

general(
    "svd",
    _svd,
    _svd_vjp,
    _svd_jvp,
    saves="out",
    prepare=_svd_prepare,
    samples=[Sample((shape,), call=_svd_call) for shape in _SVD_SHAPES]
    + [Sample(((3, 3),), params={"hermitian": True}, call=_svd_call)],
    floating=True,
    reference=np.linalg.svd,
)


def _svdvals(xp, a, rows, hermitian, keep, strict):
    """The standard's ``linalg.svdvals``; for a hermitian matrix, its eigenvalues' magnitudes
    in descending order (NumPy's ``svd(..., hermitian=True)`` computes them so)."""
    if hermitian:
        return xp.flip(xp.sort(xp.abs(xp.linalg.eigvalsh(a)), axis=-1), axis=-1)
    return xp.linalg.svdvals(a)


def _singular_vectors(a, params, xp):
    u, _, v = _svd_factors(xp.apply(OPS["svd"], a, **params), params["rows"])
    return u, v


def _svdvals_vjp(g, xs, out, xp, needs, **params):
    u, v = _singular_vectors(xs[0], params, xp)
    return (_values_vjp(u, g, v, params["keep"], params["strict"], xp),)


def _svdvals_jvp(ts, xs, out, params, xp):
    u, v = _singular_vectors(xs[0], params, xp)
    return xp.sum(u * _mm(_symmetric(ts[0], params["keep"], params["strict"], xp), v, xp), axis=-2)


def _svdvals_call(fn, a, **params):
    return fn(_signed_separated(a) if params.get("hermitian") else _separated_singular_values(a), **params)


def _svdvals_reference(a, hermitian=False):
    return np.linalg.svd(a, compute_uv=False, hermitian=hermitian)


general(
    "svdvals",
    _svdvals,
    _svdvals_vjp,
    _svdvals_jvp,
    saves="xs",
    prepare=_svd_prepare,
    samples=[Sample((shape,), call=_svdvals_call) for shape in _SVD_SHAPES]
    + [Sample(((3, 3),), params={"hermitian": True}, call=_svdvals_call)],
    floating=True,
    reference=_svdvals_reference,
)

# ------------------------------------------------------------------ qr (reduced, m ≥ n)


def _qr_prepare(a):
    shape = _matrix_shape("qr", a)
    m, n = shape[-2:]
    if m < n:
        raise ValueError(f"qr: the qr row needs M ≥ N (tall or square), got shape {shape}")
    upper = np.triu(np.ones((n, n), dtype=a.dtype))
    above = upper - np.eye(n, dtype=a.dtype)
    return {"rows": m, "upper": upper, "above": above, "below": above.T.copy()}


def _qr(xp, a, rows, upper, above, below):
    q, r = xp.linalg.qr(a)
    return xp.concat([q, r], axis=-2)


def _qr_factors(out, rows, xp):
    q, r = out[..., :rows, :], out[..., rows:, :]
    _refuse_zero_pivot(r)
    return q, r, xp.apply(OPS["inv"], r)


def _qr_vjp(g, xs, out, xp, needs, rows, upper, above, below):
    q, r, r_inv = _qr_factors(out, rows, xp)
    gq, gr = g[..., :rows, :], g[..., rows:, :]
    n = _mm(gr, _t(r, xp), xp) - _mm(_t(q, xp), gq, xp)
    b = n * upper + _t(n * above, xp)
    return (_mm(gq + _mm(q, b, xp), _t(r_inv, xp), xp),)


def _qr_jvp(ts, xs, out, params, xp):
    q, r, r_inv = _qr_factors(out, params["rows"], xp)
    t_r_inv = _mm(ts[0], r_inv, xp)
    c = _mm(_t(q, xp), t_r_inv, xp)
    low = c * params["below"]
    x = c - low + _t(low, xp)  # C − Ω: the upper triangle of C plus tril(C, −1)ᵀ
    return xp.concat([t_r_inv - _mm(q, x, xp), _mm(x, r, xp)], axis=-2)


def _qr_call(fn, a, **params):
    return list(fn(_shifted(a, 3.0), **params))


general(
    "qr",
    _qr,
    _qr_vjp,
    _qr_jvp,
    saves="out",
    prepare=_qr_prepare,
    samples=[Sample((shape,), call=_qr_call) for shape in [(3, 3), (4, 2), (2, 4, 3), (2, 2), (2, 3)]],
    floating=True,
    reference=np.linalg.qr,
)

# ------------------------------------------------------------------ pinv


def _pinv_prepare(a, rcond=None, hermitian=False):
    shape = _square_shape("pinv", a) if hermitian else _matrix_shape("pinv", a)
    keep, strict = _triangle_masks(shape[-1], "L", a.dtype) if hermitian else (None, None)
    return {"rcond": rcond, "hermitian": bool(hermitian), "keep": keep, "strict": strict}


def _pinv(xp, a, rcond, hermitian, keep, strict):
    """The standard's ``linalg.pinv`` (its ``rtol`` is NumPy's ``rcond``). ``hermitian=True``
    reads the lower triangle: NumPy's keyword on NumPy, elsewhere the pseudo-inverse of S(A),
    the same matrix (unique, so equal to rounding)."""
    if not hermitian:
        return xp.linalg.pinv(a, rtol=rcond)
    if numpy_linalg(xp):
        return xp.linalg.pinv(a, rtol=rcond, hermitian=True)
    return xp.linalg.pinv(_symmetric(a, keep, strict, xp), rtol=rcond)


def _pinv_terms(xs, out, params, xp):
    """(A, X): the matrix NumPy inverts and X = A⁺, after checking that A has full rank."""
    a = _symmetric(xs[0], params["keep"], params["strict"], xp)
    _refuse_rank_deficient(a, out)
    return a, out


def _pinv_vjp(g, xs, out, xp, needs, **params):
    a, x = _pinv_terms(xs, out, params, xp)
    g_t = _t(g, xp)
    right = _mm(_mm(g_t, x, xp), _t(x, xp), xp)  # Gᵀ X Xᵀ
    left = _mm(_mm(_t(x, xp), x, xp), g_t, xp)  # Xᵀ X Gᵀ
    ga = (
        -_mm(_mm(_t(x, xp), g, xp), _t(x, xp), xp)
        + right
        - _mm(a, _mm(x, right, xp), xp)
        + left
        - _mm(_mm(left, x, xp), a, xp)
    )
    return (_symmetric_adjoint(ga, params["keep"], params["strict"], xp),)


def _pinv_jvp(ts, xs, out, params, xp):
    a, x = _pinv_terms(xs, out, params, xp)
    t_t = _t(_symmetric(ts[0], params["keep"], params["strict"], xp), xp)
    after = _mm(_mm(x, _t(x, xp), xp), t_t, xp)  # X Xᵀ dAᵀ
    before = _mm(t_t, _mm(_t(x, xp), x, xp), xp)  # dAᵀ Xᵀ X
    return (
        -_mm(_mm(x, _t(t_t, xp), xp), x, xp)
        + after
        - _mm(_mm(after, a, xp), x, xp)
        + before
        - _mm(x, _mm(a, before, xp), xp)
    )


def _pinv_call(fn, a, **params):
    return fn(_signed_separated(a) if params.get("hermitian") else _separated_singular_values(a), **params)


general(
    "pinv",
    _pinv,
    _pinv_vjp,
    _pinv_jvp,
    saves=("xs", "out"),
    prepare=_pinv_prepare,
    samples=[Sample((shape,), call=_pinv_call) for shape in [(3, 3), (4, 2), (2, 3), (2, 3, 2)]]
    + [Sample(((3, 3),), params={"hermitian": True}, call=_pinv_call)],
    floating=True,
    reference=np.linalg.pinv,
)

# ------------------------------------------------------------------ matrix_power


def _matrix_power(lib, a, n):
    """Aⁿ by repeated squaring (A⁻¹ first for n < 0); A⁰ = I is a constant."""
    if n == 0:
        return lib.broadcast_to(lib.eye(a.shape[-1], dtype=a.dtype), a.shape)
    if n < 0:
        a, n = lib.apply(OPS["inv"], a), -n
    result = None
    while n:
        if n & 1:
            result = a if result is None else lib.matmul(result, a)
        n >>= 1
        if n:
            a = lib.matmul(a, a)
    return result


def _invertible(fn, a, **params):
    return fn(_shifted(a, 3.0), **params)


composite(
    "matrix_power",
    _matrix_power,
    reference=np.linalg.matrix_power,
    samples=[
        Sample(((3, 3),), params={"n": 3}),
        Sample(((2, 2),), params={"n": 2}),
        Sample(((2, 3, 3),), params={"n": 5}),
        Sample(((3, 3),), params={"n": -2}, call=_invertible),
        Sample(((2, 2),), params={"n": 1}),
    ],
)
