"""Linear algebra: products linear in each argument, so each states one VJP per input.

matmul and einsum are the primitives; dot, outer and tensordot are made of them.
affine, a linear layer's x Wᵀ + b, is one entry of its own so that a layer is one node.
For out = x @ y with cotangent g: ∂L/∂x = g @ yᵀ and ∂L/∂y = xᵀ @ g, with
1-D operands promoted to a row (x) or a column (y) as ``np.matmul`` does.
"""

from __future__ import annotations

import math
import string
from collections.abc import Sequence

import numpy as np

from .core import Sample, align, composite, device_of, general, multilinear
from .shape import distinct_axes

# ------------------------------------------------------------------ matmul


def _matmul_prepare(x, y):
    sx, sy = np.shape(x), np.shape(y)
    if not sx or not sy:
        raise ValueError(
            f"matmul: operands must have at least one axis, got shapes {sx} and {sy} (use mul for scalars)"
        )
    k2 = sy[-2] if len(sy) > 1 else sy[0]
    if sx[-1] != k2:
        raise ValueError(
            f"matmul: shapes {sx} and {sy} are not aligned: the last axis of the first "
            f"({sx[-1]}) must equal the {'second-to-last' if len(sy) > 1 else 'only'} "
            f"axis of the second ({k2})"
        )
    try:
        np.broadcast_shapes(sx[:-2], sy[:-2])
    except ValueError:
        raise ValueError(f"matmul: the batch axes of shapes {sx} and {sy} do not broadcast") from None
    return {"xnd": len(sx), "ynd": len(sy)}


def _matmul(xp, x, y, xnd, ynd):
    if x.ndim == xnd and y.ndim == ynd:
        return xp.matmul(x, y)
    if ynd == 1 and x.ndim == 2 and (xnd == 2 or y.ndim == 1):
        # Stacked vectors times a plain matrix, or a vector times stacked vectors: one
        # product, (..., k) @ (k, m).
        return xp.matmul(y, xp.matrix_transpose(x))
    # Batched vectors: promote to a row / column explicitly, multiply, drop that axis again.
    if xnd == 1:
        x = x[..., None, :]
    if ynd == 1:
        y = y[..., None]
    r = xp.matmul(x, y)
    if ynd == 1:
        r = r[..., 0]
    if xnd == 1:
        r = r[..., 0, :] if ynd > 1 else r[..., 0]
    return r


def _as_matrices(g, xs, xp, xnd, ynd):
    """A vector x as a row (..., 1, k) and a vector y as a column (..., k, 1), next to its
    own last axis, so that any leading axes (a stacked tangent recorded in forward mode)
    stay leading; g gains the matching axes."""
    x, y = xs
    if ynd == 1:
        y = xp.expand_dims(y, axis=-1)
        g = xp.expand_dims(g, axis=-1)
    if xnd == 1:
        x = xp.expand_dims(x, axis=-2)
        g = xp.expand_dims(g, axis=-2)
    return g, x, y


# With a plain matrix on the other side, stacked cotangents need only one product:
# g (..., n) @ yᵀ for a vector x, and g (..., m) @ x for a vector y.
def _matmul_vjp_x(g, xs, xp, xnd, ynd):
    x, y = xs
    if xnd == 1 and y.ndim == ynd == 2:
        return xp.matmul(g, xp.matrix_transpose(y))
    g, _, y = _as_matrices(g, xs, xp, xnd, ynd)
    gx = xp.matmul(g, xp.matrix_transpose(y))
    return xp.reshape(gx, gx.shape[:-2] + gx.shape[-1:]) if xnd == 1 else gx


def _matmul_vjp_y(g, xs, xp, xnd, ynd):
    x, y = xs
    if ynd == 1 and x.ndim == xnd == 2:
        return xp.matmul(g, x)
    if _column_major(y) and g.ndim == 2 and xnd == 2:
        # y is a transposed matrix (x @ W.T in a linear layer): compute (gᵀx)ᵀ, so that
        # the gradient of W itself comes out row-major, as W is, with no copy.
        return xp.matrix_transpose(xp.matmul(xp.matrix_transpose(g), x))
    g, x, _ = _as_matrices(g, xs, xp, xnd, ynd)
    gy = xp.matmul(xp.matrix_transpose(x), g)
    return xp.reshape(gy, gy.shape[:-1]) if ynd == 1 else gy


def _column_major(y) -> bool:
    flags = getattr(y, "flags", None)  # ndarrays only: a layout hint, not part of the math
    return flags is not None and y.ndim == 2 and flags.f_contiguous and not flags.c_contiguous


def _matmul_pad(i, xs, out, params):
    """Singleton axes a stacked tangent of input i needs between its stacked axes and the
    input's own axes: as many as the output has leading (batch) axes beyond those of the
    input itself. The output's core is 2-D, 1-D or 0-D as 0, 1 or 2 operands are vectors;
    an input's core is 1-D for a vector, else 2-D. (An input may itself carry leading
    axes: a stacked tangent of an outer forward-mode level.)"""
    nd = params["xnd"] if i == 0 else params["ynd"]
    out_core = (params["xnd"] >= 2) + (params["ynd"] >= 2)
    return (out.ndim - out_core) - (xs[i].ndim - min(nd, 2))


multilinear(
    "matmul",
    _matmul,
    (_matmul_vjp_x, _matmul_vjp_y),
    prepare=_matmul_prepare,
    pad=_matmul_pad,
    reference=np.matmul,
    samples=[
        Sample(((2, 3), (3, 4))),
        Sample(((3,), (3, 4))),
        Sample(((2, 3), (3,))),
        Sample(((3,), (3,))),
        Sample(((2, 2, 3), (3, 4))),
        Sample(((4, 3), (2, 3, 2))),
    ],
)

# ------------------------------------------------------------------ affine (a linear layer)


def _affine_prepare(x, w, b):
    sx, sw, sb = np.shape(x), np.shape(w), np.shape(b)
    if len(sw) != 2 or sb != sw[:1] or not sx or sx[-1] != sw[1]:
        raise ValueError(
            f"affine: x @ Wᵀ + b needs x of shape (..., in), W of shape (out, in) and b "
            f"of shape (out,); got x {sx}, W {sw}, b {sb}"
        )
    return {}


def _affine(xp, x, w, b):
    out = xp.matmul(x, w.T)
    if out.dtype == b.dtype or out.dtype == xp.result_type(out, b):
        out += b  # into the fresh product: one array for the layer's output, not two
        return out
    return out + b


def _affine_vjp(g, xs, out, xp, needs):
    x, w, _ = xs
    # Sums over every example: the examples (all axes of x but the last) are flattened
    # into one, keeping any stacked-cotangent axes in front. ∂b = 1ᵀg is a product too,
    # which BLAS does in one pass (a column sum in NumPy goes row by row).
    if g.ndim == x.ndim == 2:  # a plain batch of examples: already one matrix each
        gm, xm = g, x
    else:
        nb = g.ndim - x.ndim  # the output has as many axes as x
        gm = xp.reshape(g, g.shape[:nb] + (-1, g.shape[-1]))
        xm = xp.reshape(x, (-1, x.shape[-1]))
    gw = xp.matmul(xp.matrix_transpose(gm), xm) if needs[1] else None
    gb = xp.matmul(xp.ones(gm.shape[-2], dtype=g.dtype, device=device_of(g)), gm) if needs[2] else None
    return (xp.matmul(g, w) if needs[0] else None), gw, gb


def _affine_jvp(ts, xs, out, params, xp):
    (x, w, _), (tx, tw, tb) = xs, ts
    terms = []
    if tx is not None:
        terms.append(xp.matmul(tx, xp.matrix_transpose(w)))
    if tw is not None:
        terms.append(xp.matmul(x, xp.matrix_transpose(align(tw, 2, x.ndim, xp))))
    if tb is not None:
        terms.append(align(tb, 1, out.ndim, xp))
    total = terms[0]
    for term in terms[1:]:
        total = total + term
    return total


# out = x Wᵀ + b with W (out, in), as a linear layer computes it: one node per layer.
# VJP: ∂x = g W, ∂W = Σ_examples gᵀx, ∂b = Σ_examples g;
# JVP: tx Wᵀ + x tWᵀ + tb.
general(
    "affine",
    _affine,
    _affine_vjp,
    _affine_jvp,
    saves="xs",
    prepare=_affine_prepare,
    reference=lambda x, w, b: x @ w.T + b,
    samples=[Sample(((4, 3), (2, 3), (2,))), Sample(((3,), (2, 3), (2,))), Sample(((2, 4, 3), (5, 3), (5,)))],
)

# ------------------------------------------------------------------ einsum
LETTERS = string.ascii_letters


def _einsum_prepare(*operands, spec):
    """Check ``spec`` against the operands as NumPy does, and name every axis by a letter.

    An ellipsis stands for the same broadcast axes in every term, aligned on the right as
    broadcasting aligns them, wherever it sits in a term. Here those axes get letters no
    term uses, so the canonical spec ``"...ab,...bc->...ac"`` leaves one leading ellipsis
    free for the batch axes of stacked cotangents and tangents.
    """
    if not isinstance(spec, str):
        raise TypeError(f"einsum: subscripts must be a string, got {spec!r}")
    shapes = [np.shape(x) for x in operands]

    def refuse(why):
        return ValueError(f"einsum: {spec!r} with operand shapes {shapes}: {why}")

    lhs, arrow, out = spec.replace(" ", "").partition("->")
    ins: Sequence[str] = lhs.split(",")
    if len(ins) != len(operands):
        raise refuse(f"the subscripts name {len(ins)} operand(s) but {len(operands)} were given")
    for term in (*ins, out):
        if any(c not in LETTERS for c in term.replace("...", "", 1)):
            raise refuse(f"term {term!r} may hold only letters and at most one '...'")
    widths = []  # how many axes the ellipsis of each input term stands for
    for term, shape in zip(ins, shapes):
        named = len(term) - 3 * ("..." in term)
        if len(shape) < named or ("..." not in term and len(shape) != named):
            raise refuse(f"term {term!r} names {named} axes of an operand with {len(shape)}")
        widths.append(len(shape) - named)
    spare = [c for c in LETTERS if c not in lhs + out]
    ellipsis = "".join(spare[: max(widths, default=0)])
    ins = tuple(t.replace("...", ellipsis[len(ellipsis) - w :]) for t, w in zip(ins, widths))
    if arrow:
        out = _einsum_output(lhs, out, ellipsis, refuse)
    else:  # NumPy's implicit output: the ellipsis, then the letters used once, sorted
        out = ellipsis + "".join(sorted(c for c in set(lhs) if c in LETTERS and lhs.count(c) == 1))
    _einsum_sizes(ins, shapes, ellipsis, refuse)
    if len(set("".join(ins))) + max(len(t) - len(set(t)) for t in ins) > len(LETTERS):
        raise refuse(f"more than {len(LETTERS)} subscript letters would be needed")
    return {"spec": ",".join("..." + t for t in ins) + "->..." + out, "ins": ins, "out": out}


def _einsum_output(lhs, out, ellipsis, refuse):
    """An explicit output term, checked, with its ellipsis spelled by the same letters."""
    letters = out.replace("...", "")
    for c in letters:
        if c not in lhs:
            raise refuse(f"output letter {c!r} appears in no input term")
        if letters.count(c) > 1:
            raise refuse(f"output letter {c!r} appears more than once")
    if ellipsis and "..." not in out:
        raise refuse(
            f"the inputs have {len(ellipsis)} axes under '...' but the output has no '...' "
            "to keep them; add '...' to the output, or sum over those axes afterwards"
        )
    return out.replace("...", ellipsis)


def _einsum_sizes(ins, shapes, ellipsis, refuse):
    """Each letter labels axes of one size, up to broadcasting of size 1 between operands
    (within one operand a repeated letter takes a diagonal, whose sides must be equal)."""
    sizes: dict[str, int] = {}
    for k, (term, shape) in enumerate(zip(ins, shapes)):
        own: dict[str, int] = {}
        for c, n in zip(term, shape):
            what = "an axis under '...'" if c in ellipsis else f"letter {c!r}"
            if own.setdefault(c, n) != n:
                raise refuse(f"{what} labels axes of sizes {own[c]} and {n} of operand {k}")
            m = sizes.get(c, 1)
            if n != 1 and m not in (1, n):
                raise refuse(f"{what} labels axes of sizes {m} and {n}, which do not broadcast")
            sizes[c] = n if m == 1 else m


def _einsum(xp, *operands, spec, ins, out):
    optimize = len(operands) > 2 or max(math.prod(x.shape) for x in operands) > 4096
    return xp.einsum(spec, *operands, optimize=optimize)


def _einsum_vjp(i):
    """VJP for operand i: contract g with the other operands back onto i's subscripts.

    A subscript that g and the other operands do not carry at operand i's size (one
    summed away in operand i alone, or one they broadcast from size 1) is restored by
    a ones vector; a subscript repeated within operand i (a diagonal or trace) by an
    identity matrix.
    """

    def rule(g, xs, xp, spec, ins, out):
        sizes = dict(zip(ins[i], _named(xs[i].shape, ins[i])))
        others = [j for j in range(len(xs)) if j != i]
        available = set(out).union(*(ins[j] for j in others))
        carried = {c for c, n in zip(out, _named(g.shape, out)) if n != 1}.union(
            *({c for c, n in zip(ins[j], _named(xs[j].shape, ins[j])) if n != 1} for j in others)
        )
        fresh = iter(c for c in LETTERS if c not in set().union(*ins))
        terms, extras, target, seen = [], [], "", set()
        for c in ins[i]:
            if c in seen:
                f = next(fresh)
                terms.append(c + f)
                extras.append(xp.eye(sizes[c], dtype=g.dtype, device=device_of(g)))
                target += f
                continue
            seen.add(c)
            if c not in available or (sizes[c] != 1 and c not in carried):
                terms.append(c)
                extras.append(xp.ones(sizes[c], dtype=g.dtype, device=device_of(g)))
            target += c
        lhs = ",".join(["..." + out] + ["..." + ins[j] for j in others] + terms)
        return xp.einsum(lhs + "->..." + target, g, *(xs[j] for j in others), *extras)

    return rule


def _named(shape, term):
    """The sizes of the axes a term names: the last ones (leading axes are batch axes)."""
    return shape[len(shape) - len(term) :]


def _einsum_pad(i, xs, out, params):
    """Singleton axes a stacked tangent of operand i needs after its stacked axes: as many
    as the output has leading (unnamed) axes beyond those of operand i itself, which an
    operand carries when it is a stacked tangent of an outer forward-mode level."""
    return (out.ndim - len(params["out"])) - (xs[i].ndim - len(params["ins"][i]))


class _EinsumVJPs:
    """One VJP rule per operand, made on demand (einsum takes any number of operands)."""

    def __iter__(self):
        i = 0
        while True:
            yield _einsum_vjp(i)
            i += 1


multilinear(
    "einsum",
    _einsum,
    _EinsumVJPs(),
    prepare=_einsum_prepare,
    pad=_einsum_pad,
    reference=np.einsum,
    samples=[
        Sample(shapes, {"spec": spec}, call=lambda f, *xs, spec: f(spec, *xs))
        for shapes, spec in [
            (((2, 3), (3, 4)), "ij,jk->ik"),
            (((3, 3),), "ii->"),
            (((2, 3),), "ij->j"),
            (((2, 3), (3,), (3,)), "ij,j,j->i"),
            (((4, 2, 3), (3, 2)), "...ij,jk->...ik"),
            (((3,), (4,)), "i,j"),
            (((3, 3), (3,)), "ii,i->i"),
            (((3, 4, 2), (5, 3, 2)), "jk...,lj...->lk..."),
            (((2, 4, 3), (3, 4)), "i...j,j...->i..."),
            (((2, 4, 3),), "ba..."),
            (((2, 3, 1), (3, 4, 5)), "ij...,jk...->ik..."),
            (((3, 3), (1,)), "ii,i->i"),
            (((3,), (1,)), "i,i->"),
        ]
    ],
)

# ------------------------------------------------------------------ composites


def _tensordot_axes(a_shape, b_shape, axes):
    """The summed axes of a and of b, as two lists of non-negative ints, checked as NumPy does.

    An int N pairs the last N axes of a with the first N of b; a pair of sequences (or of
    ints) pairs ``axes[0][k]`` with ``axes[1][k]``.
    """
    where = f"tensordot of shapes {a_shape} and {b_shape}"
    if isinstance(axes, (int, np.integer)):
        if not 0 <= axes <= min(len(a_shape), len(b_shape)):
            raise ValueError(
                f"{where}: axes={axes} must be between 0 and {min(len(a_shape), len(b_shape))} "
                "(the number of trailing axes of a summed with leading axes of b)"
            )
        axes = (range(len(a_shape) - axes, len(a_shape)), range(axes))
    if not isinstance(axes, (tuple, list)) or len(axes) != 2:
        raise TypeError(f"{where}: axes must be an int or a pair (axes of a, axes of b), got {axes!r}")
    ax_a, ax_b = (distinct_axes(where, ax, len(shape), shape) for ax, shape in zip(axes, (a_shape, b_shape)))
    if len(ax_a) != len(ax_b):
        raise ValueError(f"{where}: axes {axes!r} name {len(ax_a)} axes of a but {len(ax_b)} of b")
    for i, j in zip(ax_a, ax_b):
        if a_shape[i] != b_shape[j]:
            raise ValueError(
                f"{where}: axis {i} of a (size {a_shape[i]}) and axis {j} of b "
                f"(size {b_shape[j]}) are summed together but differ in size"
            )
    return ax_a, ax_b


def _tensordot_spec(a_shape, b_shape, axes):
    ax_a, ax_b = _tensordot_axes(a_shape, b_shape, axes)
    la = LETTERS[: len(a_shape)]
    free = iter(LETTERS[len(a_shape) :])
    lb = "".join(la[ax_a[ax_b.index(j)]] if j in ax_b else next(free) for j in range(len(b_shape)))
    out = "".join(c for i, c in enumerate(la) if i not in ax_a) + "".join(
        c for j, c in enumerate(lb) if j not in ax_b
    )
    return f"{la},{lb}->{out}"


def _tensordot(lib, a, b, axes=2):
    return lib.einsum(_tensordot_spec(a.shape, b.shape, axes), a, b)


def _dot(lib, a, b):
    sa, sb = a.shape, b.shape
    if not sa or not sb:
        return lib.multiply(a, b)
    k = sb[-2] if len(sb) > 1 else sb[0]
    if sa[-1] != k:
        raise ValueError(
            f"dot: shapes {sa} and {sb} are not aligned: {sa[-1]} (last axis of the "
            f"first) != {k} ({'second-to-last' if len(sb) > 1 else 'only'} axis of the second)"
        )
    if len(sa) <= 2 and len(sb) <= 2:
        return lib.matmul(a, b)
    return _tensordot(lib, a, b, axes=([len(sa) - 1], [max(len(sb) - 2, 0)]))


def _outer(lib, a, b):
    return lib.reshape(a, (-1, 1)) * lib.reshape(b, (1, -1))


composite(
    "tensordot",
    _tensordot,
    reference=np.tensordot,
    samples=[
        Sample(((2, 3), (3, 4)), {"axes": 1}),
        Sample(((2, 3, 4), (3, 4, 5))),
        Sample(((2, 3), (3, 2)), {"axes": ([0, 1], [1, 0])}),
    ],
)
composite(
    "dot",
    _dot,
    reference=np.dot,
    samples=[
        Sample(((3,), (3,))),
        Sample(((2, 3), (3, 4))),
        Sample(((), (3,))),
        Sample(((2, 2, 3), (4, 3, 2))),
    ],
)
composite("outer", _outer, reference=np.outer, samples=[Sample(((3,), (4,))), Sample(((2, 2), (3,)))])
