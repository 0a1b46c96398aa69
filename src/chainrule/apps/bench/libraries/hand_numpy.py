"""The limit: each workload's forward and backward written out by hand in NumPy.

No graph, no tape, no wrapper objects: the forward keeps what the backward needs, and
the backward applies each derivative in reverse, as a person writes it on paper. Every
other library's ratio is taken against these functions, and their outputs are the
reference the gradient check compares with.

Each builder takes a problem (``problems.py``) and returns a function of no arguments
that does one unit of work and returns its outputs by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..problems import layer_outputs


def relu(z):
    return np.maximum(z, 0)


def softmax_cross_entropy(logits, y):
    """Mean cross-entropy of softmax(logits) against labels y, and its gradient (ŷ − onehot)/N."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    total = exp.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    loss = np.mean(np.log(total[:, 0]) - shifted[rows, y])
    g = exp / total
    g[rows, y] -= 1
    return loss, g / len(y)


def _mlp_step(p, in_out: bool):
    """ReLU MLP, softmax cross-entropy, one SGD step; each weight stored (in, out) when
    ``in_out`` (z = h W + b), else (out, in) (z = h Wᵀ + b). Every product is one BLAS
    call on the stored layout, and each gradient is formed in the layout of its weight."""
    layers = [(W.copy(), b.copy()) for W, b in p["layers"]]
    x, y, lr = p["x"], p["y"], p["lr"]
    last = len(layers) - 1

    def step():
        hs, zs = [x], []
        for i, (W, b) in enumerate(layers):
            z = hs[-1] @ (W if in_out else W.T) + b
            zs.append(z)
            hs.append(z if i == last else relu(z))
        loss, g = softmax_cross_entropy(hs[-1], y)
        grads: list[Any] = [None] * len(layers)
        for i in range(last, -1, -1):
            if i != last:
                g = g * (zs[i] > 0)
            W = layers[i][0]
            grads[i] = (hs[i].T @ g if in_out else g.T @ hs[i], g.sum(axis=0))
            if i:
                g = g @ (W.T if in_out else W)
        for (W, b), (dW, db) in zip(layers, grads):
            W -= lr * dW
            b -= lr * db
        return {"loss": loss, **layer_outputs(layers, grads)}

    return step


def mlp_step(p):
    """W1/W7: the MLP step with weights (out, in), as nn.Linear stores them."""
    return _mlp_step(p, in_out=False)


def mlp_step_raw(p):
    """W1-raw: the same step with weights stored (in, out), z = h W + b."""
    return _mlp_step(p, in_out=True)


def op_chain(p):
    """W2: d/dx0 of sum(chain(x0)): keep what each derivative needs, then walk back."""
    x0, ops = p["x0"].copy(), p["ops"]

    def gradient():
        saved: list[Any] = []  # per op, what its derivative reads (None: nothing)
        x = x0
        for op in ops:
            if op == "add_input":
                x = x + x0
                saved.append(None)
            elif op == "half":
                x = x * 0.5
                saved.append(None)
            elif op == "sin":
                saved.append(x)  # sin' = cos(input)
                x = np.sin(x)
            elif op == "tanh":
                x = np.tanh(x)
                saved.append(x)  # tanh' = 1 - output²
            elif op == "exp":
                x = np.exp(x)
                saved.append(x)  # exp' = output
            else:
                x = x * 0.1
                saved.append(None)
        g = np.ones_like(x)
        g_x0 = np.zeros_like(x0)
        for op, s in zip(reversed(ops), reversed(saved)):
            if op == "add_input":
                g_x0 = g_x0 + g
            elif op == "half":
                g = g * 0.5
            elif op == "sin":
                g = g * np.cos(s)
            elif op == "tanh":
                g = g * (1 - s * s)
            elif op == "exp":
                g = g * s
            else:
                g = g * 0.1
        return {"grad": g_x0 + g}

    return gradient


def jacobian(p):
    """W3: d tanh(Wx + b)/dx = (1 − y²)[:, None] · W, the closed form."""
    W, b, x = p["W"].copy(), p["b"].copy(), p["x"].copy()

    def jac():
        y = np.tanh(W @ x + b)
        return {"jacobian": (1 - y * y)[:, None] * W}

    return jac


def hessian(p):
    """W4: the Hessian of logsumexp(Ax) is Aᵀ(diag p − p pᵀ)A with p = softmax(Ax), formed
    as Aᵀ(p ⊙ A) − (Aᵀp)(Aᵀp)ᵀ (p ⊙ A scales row i of A by p_i): one product, no diagonal
    matrix."""
    A, x = p["A"].copy(), p["x"].copy()

    def hess():
        z = A @ x
        q = np.exp(z - z.max())
        q /= q.sum()
        v = q @ A
        H = A.T @ (q[:, None] * A)
        H -= np.outer(v, v)
        return {"hessian": H}

    return hess


def window_step(p):
    """W5 and W5-dense, dense as a user writes it: scatter-add the looked-up rows'
    gradients into a zero matrix of E's shape, update all of E."""
    E, W, b, U, c = (p[k].copy() for k in ("E", "W", "b", "U", "c"))
    words, y, lr = p["words"], p["y"], p["lr"]
    batch, dim = len(words), E.shape[1]

    def step():
        x = E[words].reshape(batch, -1)
        h = np.tanh(x @ W.T + b)
        loss, g = softmax_cross_entropy(h @ U.T + c, y)
        dU, dc = g.T @ h, g.sum(axis=0)
        gz = (g @ U) * (1 - h * h)
        dW, db = gz.T @ x, gz.sum(axis=0)
        dE = np.zeros_like(E)
        np.add.at(dE, words.reshape(-1), (gz @ W).reshape(-1, dim))
        for param, grad in ((E, dE), (W, dW), (b, db), (U, dU), (c, dc)):
            param -= lr * grad
        return {
            "loss": loss,
            "dE": dE,
            "dW": dW,
            "db": db,
            "dU": dU,
            "dc": dc,
            "E": E,
            "W": W,
            "b": b,
            "U": U,
            "c": c,
        }

    return step


window_step_dense = window_step
"""W5-dense: the limit of W5 is dense already, so both variants are timed against the same step."""


def deep_mlp(p):
    """W6: forward and backward of a deep ReLU MLP with loss ½·mean(out²), no update.

    The forward keeps each layer's pre-activation z and output h, as one would first
    write it; the gradients of all layers are alive at the end.
    """
    layers, x = p["layers"], p["x"]
    last = len(layers) - 1

    def forward_backward():
        hs, zs = [x], []
        for i, (W, b) in enumerate(layers):
            z = hs[-1] @ W.T + b
            zs.append(z)
            hs.append(z if i == last else relu(z))
        out = hs[-1]
        loss = 0.5 * np.mean(out * out)
        g = out / out.size
        grads = {}
        for i in range(last, -1, -1):
            if i != last:
                g = g * (zs[i] > 0)
            grads[f"dW{i + 1}"], grads[f"db{i + 1}"] = g.T @ hs[i], g.sum(axis=0)
            if i:
                g = g @ layers[i][0]
        return {"loss": loss, **grads}

    return forward_backward
