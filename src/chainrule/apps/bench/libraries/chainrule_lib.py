"""chainrule, written as its documentation shows a user: Tensors, ``cr.nn``, ``cr.optim``,
``.backward()`` and the transforms ``cr.jacobian`` / ``cr.hessian``; W1-raw with raw ops
and the SGD update by hand under ``cr.no_grad()``."""

from __future__ import annotations

from typing import Any

import numpy as np

import chainrule as cr
import chainrule.nn.functional as F

from ..problems import layer_outputs, raw_logits, run_chain


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


def mlp_step_raw(p):
    """W1-raw: ``x @ W + b``, ``cr.relu``, ``F.cross_entropy``, ``p -= lr * p.grad`` under
    ``cr.no_grad()``, then each ``.grad`` set to None."""
    params = [(cr.tensor(W, requires_grad=True), cr.tensor(b, requires_grad=True)) for W, b in p["layers"]]
    tensors = [t for pair in params for t in pair]
    x, y, lr = cr.tensor(p["x"]), p["y"], p["lr"]

    def step():
        loss = F.cross_entropy(raw_logits(params, x, cr.relu), y)
        loss.backward()
        grads = [(W.grad, b.grad) for W, b in params]
        with cr.no_grad():
            for t in tensors:
                t -= lr * t.grad
        for t in tensors:
            t.grad = None
        return {"loss": loss, **layer_outputs(params, grads)}

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
    """x = the window's word vectors end to end, h = tanh(W x + b), logits = U h + c; the
    embedding's gradient row-sparse when ``sparse`` (W5), dense otherwise (W5-dense)."""

    def __init__(self, p, sparse: bool) -> None:
        super().__init__()
        self.words = cr.nn.Embedding.from_pretrained(p["E"], freeze=False, sparse=sparse)
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


def _window_step(p, sparse: bool):
    model = WindowClassifier(p, sparse)
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


def window_step(p):
    """W5: the embedding with ``sparse=True``; SGD updates only the rows looked up."""
    return _window_step(p, sparse=True)


def window_step_dense(p):
    """W5-dense: the embedding's default dense gradient; SGD updates all of E."""
    return _window_step(p, sparse=False)


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
