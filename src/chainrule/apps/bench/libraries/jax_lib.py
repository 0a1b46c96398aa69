"""JAX on the CPU, functional as JAX is written: parameters in a pytree, ``jax.grad``,
``jax.jacrev``, ``jax.hessian``; with ``jit=True`` the whole step or transform is
wrapped in ``jax.jit``, without it JAX dispatches op by op.

Every call blocks until its results are ready (JAX computes asynchronously). The
runner limits XLA's threads through ``XLA_FLAGS``. Under ``jit`` compilation happens
in the first call, which the gradient check and the warm-up absorb; W6 compiles
ahead of time so its one measured call is the step alone.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..problems import layer_outputs, raw_logits, run_chain


def to_numpy(value) -> np.ndarray:
    return np.asarray(value)


def _maybe_jit(fn, jit: bool):
    return jax.jit(fn) if jit else fn


def _cross_entropy(logits, y):
    logp = jax.nn.log_softmax(logits, axis=1)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def _forward(layers, x):
    for W, b in layers[:-1]:
        x = jax.nn.relu(x @ W.T + b)
    W, b = layers[-1]
    return x @ W.T + b


def _mlp_step(p, logits, jit: bool):
    """One SGD step of cross_entropy(logits(params, x)), the parameters replaced by the new ones."""
    lr, x, y = p["lr"], jnp.asarray(p["x"]), jnp.asarray(p["y"])

    def train_step(params, x, y):
        loss, grads = jax.value_and_grad(lambda ps: _cross_entropy(logits(ps, x), y))(params)
        params = jax.tree_util.tree_map(lambda w, g: w - lr * g, params, grads)
        return params, loss, grads

    train_step = _maybe_jit(train_step, jit)
    state = {"params": [(jnp.asarray(W), jnp.asarray(b)) for W, b in p["layers"]]}

    def step():
        params, loss, grads = jax.block_until_ready(train_step(state["params"], x, y))
        state["params"] = params
        return {"loss": loss, **layer_outputs(params, grads)}

    return step


def mlp_step(p, jit: bool = False):
    """W1/W7: weights (out, in), x @ W.T + b."""
    return _mlp_step(p, _forward, jit)


def mlp_step_raw(p, jit: bool = False):
    """W1-raw: weights stored (in, out), x @ W + b."""
    return _mlp_step(p, lambda ps, x: raw_logits(ps, x, jax.nn.relu), jit)


def op_chain(p, jit: bool = False):
    ops = p["ops"]
    grad = _maybe_jit(jax.grad(lambda x0: run_chain(x0, ops, jnp.sin, jnp.tanh, jnp.exp).sum()), jit)
    x0 = jnp.asarray(p["x0"])
    return lambda: {"grad": jax.block_until_ready(grad(x0))}


def jacobian(p, jit: bool = False):
    jax.config.update("jax_enable_x64", True)
    W, b, x = (jnp.asarray(p[k]) for k in ("W", "b", "x"))
    jac = _maybe_jit(jax.jacrev(lambda x: jnp.tanh(W @ x + b)), jit)
    return lambda: {"jacobian": jax.block_until_ready(jac(x))}


def hessian(p, jit: bool = False):
    jax.config.update("jax_enable_x64", True)
    A, x = jnp.asarray(p["A"]), jnp.asarray(p["x"])
    hess = _maybe_jit(jax.hessian(lambda x: jax.scipy.special.logsumexp(A @ x)), jit)
    return lambda: {"hessian": jax.block_until_ready(hess(x))}


def window_step(p, jit: bool = False):
    lr, batch = p["lr"], len(p["words"])
    words, y = jnp.asarray(p["words"]), jnp.asarray(p["y"])

    def loss_fn(params, words, y):
        x = params["E"][words].reshape(batch, -1)
        h = jnp.tanh(x @ params["W"].T + params["b"])
        return _cross_entropy(h @ params["U"].T + params["c"], y)

    def train_step(params, words, y):
        loss, grads = jax.value_and_grad(loss_fn)(params, words, y)
        params = jax.tree_util.tree_map(lambda w, g: w - lr * g, params, grads)
        return params, loss, grads

    train_step = _maybe_jit(train_step, jit)
    state = {"params": {k: jnp.asarray(p[k]) for k in ("E", "W", "b", "U", "c")}}

    def step():
        params, loss, grads = jax.block_until_ready(train_step(state["params"], words, y))
        state["params"] = params
        return {"loss": loss, **params, **{f"d{k}": v for k, v in grads.items()}}

    return step


window_step_dense = window_step
"""W5-dense: ``E[words]``'s gradient is dense in JAX, so W5 is written this way already."""


def deep_mlp(p, jit: bool = False):
    x = jnp.asarray(p["x"])
    params = [(jnp.asarray(W), jnp.asarray(b)) for W, b in p["layers"]]

    def loss_fn(params, x):
        out = _forward(params, x)
        return 0.5 * jnp.mean(out * out)

    grad_fn = jax.value_and_grad(loss_fn)
    if jit:
        grad_fn = jax.jit(grad_fn).lower(params, x).compile()

    def forward_backward():
        loss, grads = jax.block_until_ready(grad_fn(params, x))
        out = {"loss": loss}
        for i, (dW, db) in enumerate(grads, 1):
            out.update({f"dW{i}": dW, f"db{i}": db})
        return out

    return forward_backward
