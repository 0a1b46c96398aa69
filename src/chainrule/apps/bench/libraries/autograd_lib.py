"""HIPS autograd: NumPy code through ``autograd.numpy``, differentiated by ``grad``,
``jacobian`` and ``hessian``; parameters are plain ndarrays updated in place."""

from __future__ import annotations

import autograd
import autograd.numpy as anp
import numpy as np
from autograd.scipy.special import logsumexp

from ..problems import layer_outputs, raw_logits, run_chain


def to_numpy(value) -> np.ndarray:
    return np.asarray(value)


def _cross_entropy(logits, y):
    logp = logits - logsumexp(logits, axis=1, keepdims=True)
    return -anp.mean(logp[anp.arange(len(y)), y])


def _relu(z):
    return anp.maximum(z, 0)


def _forward(params, x):
    for W, b in params[:-1]:
        x = _relu(x @ W.T + b)
    W, b = params[-1]
    return x @ W.T + b


def _mlp_step(p, logits):
    """One SGD step of cross_entropy(logits(params, x)), the update in place on the ndarrays."""
    params = [(W.copy(), b.copy()) for W, b in p["layers"]]
    x, y, lr = p["x"], p["y"], p["lr"]
    loss_and_grads = autograd.value_and_grad(lambda ps: _cross_entropy(logits(ps, x), y))

    def step():
        loss, grads = loss_and_grads(params)
        for (W, b), (dW, db) in zip(params, grads):
            W -= lr * dW
            b -= lr * db
        return {"loss": loss, **layer_outputs(params, grads)}

    return step


def mlp_step(p):
    """W1/W7: weights (out, in), x @ W.T + b."""
    return _mlp_step(p, _forward)


def mlp_step_raw(p):
    """W1-raw: weights stored (in, out), x @ W + b."""
    return _mlp_step(p, lambda ps, x: raw_logits(ps, x, _relu))


def op_chain(p):
    ops, x0 = p["ops"], p["x0"]
    gradient = autograd.grad(lambda x0: anp.sum(run_chain(x0, ops, anp.sin, anp.tanh, anp.exp)))
    return lambda: {"grad": gradient(x0)}


def jacobian(p):
    W, b, x = p["W"], p["b"], p["x"]
    jac = autograd.jacobian(lambda x: anp.tanh(W @ x + b))
    return lambda: {"jacobian": jac(x)}


def hessian(p):
    A, x = p["A"], p["x"]
    hess = autograd.hessian(lambda x: logsumexp(A @ x))
    return lambda: {"hessian": hess(x)}


def window_step(p):
    params = {k: p[k].copy() for k in ("E", "W", "b", "U", "c")}
    words, y, lr, batch = p["words"], p["y"], p["lr"], len(p["words"])

    def loss_fn(ps):
        x = ps["E"][words].reshape(batch, -1)
        h = anp.tanh(x @ ps["W"].T + ps["b"])
        return _cross_entropy(h @ ps["U"].T + ps["c"], y)

    loss_and_grads = autograd.value_and_grad(loss_fn)

    def step():
        loss, grads = loss_and_grads(params)
        for k, g in grads.items():
            params[k] -= lr * g
        return {"loss": loss, **params, **{f"d{k}": g for k, g in grads.items()}}

    return step


window_step_dense = window_step
"""W5-dense: ``E[words]``'s gradient is dense in autograd, so W5 is written this way already."""


def deep_mlp(p):
    params, x = p["layers"], p["x"]

    def loss_fn(ps):
        out = _forward(ps, x)
        return 0.5 * anp.mean(out * out)

    loss_and_grads = autograd.value_and_grad(loss_fn)

    def forward_backward():
        loss, grads = loss_and_grads(params)
        out = {"loss": loss}
        for i, (dW, db) in enumerate(grads, 1):
            out.update({f"dW{i}": dW, f"db{i}": db})
        return out

    return forward_backward
