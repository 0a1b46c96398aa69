"""chainrule, written as its documentation shows a user: Tensors, ``cr.nn``, ``cr.optim``,
``.backward()`` and the transforms ``cr.jacobian`` / ``cr.hessian``."""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

from ..problems import layer_outputs, run_chain


def to_numpy(value) -> np.ndarray:
    return np.asarray(value)


def _perceptron(layers) -> cr.nn.Sequential:
    """Linear layers holding ``layers`` (pairs of weight (out, in) and bias) with a ReLU between each two."""
    modules = []
    for W, _ in layers:
        modules += [cr.nn.Linear(W.shape[1], W.shape[0], seed=0), cr.nn.ReLU()]
    model = cr.nn.Sequential(*modules[:-1])
    model.load_state_dict(
        {
            f"{2 * i}.{name}": value
            for i, (W, b) in enumerate(layers)
            for name, value in (("weight", W), ("bias", b))
        }
    )
    return model


def _linears(model) -> list:
    """The model's Linear layers, first to last (found once, outside the timed step)."""
    return [m for m in model if isinstance(m, cr.nn.Linear)]


def _layer_outputs(linears) -> dict:
    return layer_outputs(
        [(m.weight, m.bias) for m in linears], [(m.weight.grad, m.bias.grad) for m in linears]
    )


def mlp_step(p):
    model = _perceptron(p["layers"])
    linears = _linears(model)
    opt = cr.optim.SGD(model.parameters(), lr=p["lr"])
    x, y = cr.tensor(p["x"]), p["y"]

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return {"loss": loss, **_layer_outputs(linears)}

    return step


def op_chain(p):
    x0_data, ops = p["x0"], p["ops"]

    def gradient():
        x0 = cr.tensor(x0_data, requires_grad=True)
        run_chain(x0, ops, cr.sin, cr.tanh, cr.exp).sum().backward()
        return {"grad": x0.grad}

    return gradient


def jacobian(p, mode: str = "auto"):
    W, b, x = cr.tensor(p["W"]), cr.tensor(p["b"]), cr.tensor(p["x"])
    jac = cr.jacobian(lambda x: cr.tanh(W @ x + b), mode=mode)
    return lambda: {"jacobian": jac(x)}


def hessian(p):
    A, x = cr.tensor(p["A"]), cr.tensor(p["x"])
    hess = cr.hessian(lambda x: cr.logsumexp(A @ x))
    return lambda: {"hessian": hess(x)}


class WindowClassifier(cr.nn.Module):
    """x = the window's word vectors end to end, h = tanh(W x + b), logits = U h + c."""

    def __init__(self, p) -> None:
        super().__init__()
        self.words = cr.nn.Embedding.from_pretrained(p["E"], freeze=False, sparse=True)
        self.hidden = cr.nn.Linear(p["W"].shape[1], p["W"].shape[0], seed=0)
        self.out = cr.nn.Linear(p["U"].shape[1], p["U"].shape[0], seed=0)
        self.load_state_dict(
            {
                "words.weight": p["E"],
                "hidden.weight": p["W"],
                "hidden.bias": p["b"],
                "out.weight": p["U"],
                "out.bias": p["c"],
            }
        )

    def forward(self, words):
        x = self.words(words).reshape(len(words), -1)
        return self.out(cr.tanh(self.hidden(x)))


def window_step(p):
    model = WindowClassifier(p)
    opt = cr.optim.SGD(model.parameters(), lr=p["lr"])
    words, y = p["words"], p["y"]
    params: dict[str, Any] = {
        "E": model.words.weight,
        "W": model.hidden.weight,
        "b": model.hidden.bias,
        "U": model.out.weight,
        "c": model.out.bias,
    }

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(words), y)
        loss.backward()
        opt.step()
        return {"loss": loss, **params, **{f"d{k}": v.grad for k, v in params.items()}}

    return step


def deep_mlp(p):
    model = _perceptron(p["layers"])
    linears = _linears(model)
    x = cr.tensor(p["x"])

    def forward_backward():
        out = model(x)
        loss = 0.5 * (out * out).mean()
        loss.backward()
        grads = {k: v for k, v in _layer_outputs(linears).items() if k.startswith("d")}
        return {"loss": loss, **grads}

    return forward_backward
