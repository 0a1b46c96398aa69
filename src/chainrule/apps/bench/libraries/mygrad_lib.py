"""MyGrad: NumPy-like Tensors with ``.backward()``; parameters are updated through
``.data``. MyGrad has no Jacobian function, so W3 takes one backward pass per output
row, as a user would; it has no second derivatives, so W4 is not run."""

from __future__ import annotations

import mygrad as mg
import numpy as np
from mygrad.nnet.activations import relu
from mygrad.nnet.losses import softmax_crossentropy

from ..problems import layer_outputs, raw_logits, run_chain


def to_numpy(value) -> np.ndarray:
    return np.array(value.data if isinstance(value, mg.Tensor) else value)


def _forward(params, x):
    for W, b in params[:-1]:
        x = relu(mg.matmul(x, W.T) + b)
    W, b = params[-1]
    return mg.matmul(x, W.T) + b


def _layer_outputs(params) -> dict:
    return layer_outputs(params, [(W.grad, b.grad) for W, b in params])


def _mlp_step(p, logits):
    """One SGD step of softmax_crossentropy(logits(params, x)), the update through ``.data``."""
    params = [(mg.tensor(W), mg.tensor(b)) for W, b in p["layers"]]
    x, y, lr = p["x"], p["y"], p["lr"]

    def step():
        loss = softmax_crossentropy(logits(params, x), y)
        loss.backward()
        for W, b in params:
            W.data -= lr * W.grad
            b.data -= lr * b.grad
        return {"loss": loss, **_layer_outputs(params)}

    return step


def mlp_step(p):
    """W1/W7: weights (out, in), x @ W.T + b."""
    return _mlp_step(p, _forward)


def mlp_step_raw(p):
    """W1-raw: weights stored (in, out), x @ W + b."""
    return _mlp_step(p, lambda ps, x: raw_logits(ps, x, relu))


def op_chain(p):
    x0_data, ops = p["x0"], p["ops"]

    def gradient():
        x0 = mg.tensor(x0_data)
        run_chain(x0, ops, mg.sin, mg.tanh, mg.exp).sum().backward()
        return {"grad": x0.grad}

    return gradient


def jacobian(p):
    W, b, x_data = p["W"], p["b"], p["x"]

    def jac():
        rows = []
        for i in range(len(b)):
            x = mg.tensor(x_data)
            mg.tanh(mg.matmul(W, x) + b)[i].backward()
            rows.append(x.grad)
        return {"jacobian": np.stack(rows)}

    return jac


def window_step(p):
    params = {k: mg.tensor(p[k]) for k in ("E", "W", "b", "U", "c")}
    words, y, lr, batch = p["words"], p["y"], p["lr"], len(p["words"])

    def step():
        x = params["E"][words].reshape(batch, -1)
        h = mg.tanh(mg.matmul(x, params["W"].T) + params["b"])
        loss = softmax_crossentropy(mg.matmul(h, params["U"].T) + params["c"], y)
        loss.backward()
        for t in params.values():
            t.data -= lr * t.grad
        return {"loss": loss, **params, **{f"d{k}": t.grad for k, t in params.items()}}

    return step


window_step_dense = window_step
"""W5-dense: ``E[words]``'s gradient is dense in MyGrad, so W5 is written this way already."""


def deep_mlp(p):
    params = [(mg.tensor(W), mg.tensor(b)) for W, b in p["layers"]]
    x = p["x"]

    def forward_backward():
        out = _forward(params, x)
        loss = 0.5 * mg.mean(out * out)
        loss.backward()
        grads = {k: v for k, v in _layer_outputs(params).items() if k.startswith("d")}
        return {"loss": loss, **grads}

    return forward_backward
