"""PyTorch on the CPU. Eager mode as its tutorials write it (``nn``, ``optim``,
``.backward()``); W1-raw with raw ops and the SGD update by hand under
``torch.no_grad()``; for W3/W4 eager means ``torch.autograd.functional``, and with
``func=True`` the torch.func transforms (``jacrev``; ``hessian`` = jacfwd of jacrev).

The thread count comes from ``OMP_NUM_THREADS``, which the runner sets; it is also
given to ``torch.set_num_threads`` so that no later default overrides it.
"""

from __future__ import annotations

import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..problems import layer_outputs, raw_logits, run_chain

torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))


def to_numpy(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        if value.is_sparse:
            value = value.to_dense()
        return value.detach().numpy()
    return np.asarray(value)


def _perceptron(layers) -> nn.Sequential:
    modules = []
    for W, b in layers:
        linear = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W))
            linear.bias.copy_(torch.from_numpy(b))
        modules += [linear, nn.ReLU()]
    return nn.Sequential(*modules[:-1])


def _linears(model) -> list:
    """The model's Linear layers, first to last (found once, outside the timed step)."""
    return [m for m in model if isinstance(m, nn.Linear)]


def _layer_outputs(linears) -> dict:
    return layer_outputs(
        [(m.weight, m.bias) for m in linears], [(m.weight.grad, m.bias.grad) for m in linears]
    )


def mlp_step(p, func: bool = False):
    model = _perceptron(p["layers"])
    linears = _linears(model)
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"])
    x, y = torch.from_numpy(p["x"]), torch.from_numpy(p["y"])

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return {"loss": loss, **_layer_outputs(linears)}

    return step


def mlp_step_raw(p, func: bool = False):
    """W1-raw: ``x @ W + b``, ``torch.relu``, ``F.cross_entropy``, ``p -= lr * p.grad``
    under ``torch.no_grad()``, then each ``.grad`` set to None."""
    params = [
        (torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True)) for W, b in p["layers"]
    ]
    tensors = [t for pair in params for t in pair]
    x, y, lr = torch.from_numpy(p["x"]), torch.from_numpy(p["y"]), p["lr"]

    def step():
        loss = F.cross_entropy(raw_logits(params, x, torch.relu), y)
        loss.backward()
        grads = [(W.grad, b.grad) for W, b in params]
        with torch.no_grad():
            for t in tensors:
                t -= lr * t.grad
        for t in tensors:
            t.grad = None
        return {"loss": loss, **layer_outputs(params, grads)}

    return step


def op_chain(p, func: bool = False):
    x0_data, ops = p["x0"], p["ops"]

    def gradient():
        x0 = torch.tensor(x0_data, requires_grad=True)
        run_chain(x0, ops, torch.sin, torch.tanh, torch.exp).sum().backward()
        return {"grad": x0.grad}

    return gradient


def jacobian(p, func: bool = False):
    W, b, x = (torch.from_numpy(p[k]) for k in ("W", "b", "x"))

    def layer(x):
        return torch.tanh(W @ x + b)

    if func:
        jac = torch.func.jacrev(layer)
        return lambda: {"jacobian": jac(x)}
    return lambda: {"jacobian": torch.autograd.functional.jacobian(layer, x)}


def hessian(p, func: bool = False):
    A, x = torch.from_numpy(p["A"]), torch.from_numpy(p["x"])

    def lse(x):
        return torch.logsumexp(A @ x, dim=0)

    if func:
        hess = torch.func.hessian(lse)
        return lambda: {"hessian": hess(x)}
    return lambda: {"hessian": torch.autograd.functional.hessian(lse, x)}


class WindowClassifier(nn.Module):
    """x = the window's word vectors end to end, h = tanh(W x + b), logits = U h + c; the
    embedding's gradient sparse when ``sparse`` (W5), dense otherwise (W5-dense)."""

    def __init__(self, p, sparse: bool) -> None:
        super().__init__()
        self.words = nn.Embedding.from_pretrained(
            torch.from_numpy(p["E"]).clone(), freeze=False, sparse=sparse
        )
        self.hidden = nn.Linear(p["W"].shape[1], p["W"].shape[0])
        self.out = nn.Linear(p["U"].shape[1], p["U"].shape[0])
        with torch.no_grad():
            for param, key in (
                (self.hidden.weight, "W"),
                (self.hidden.bias, "b"),
                (self.out.weight, "U"),
                (self.out.bias, "c"),
            ):
                param.copy_(torch.from_numpy(p[key]))

    def forward(self, words):
        x = self.words(words).reshape(len(words), -1)
        return self.out(torch.tanh(self.hidden(x)))


def _window_step(p, sparse: bool):
    model = WindowClassifier(p, sparse)
    opt = torch.optim.SGD(model.parameters(), lr=p["lr"])
    words, y = torch.from_numpy(p["words"]), torch.from_numpy(p["y"])
    params = {
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


def window_step(p, func: bool = False):
    """W5: ``nn.Embedding(sparse=True)``; SGD updates only the rows looked up."""
    return _window_step(p, sparse=True)


def window_step_dense(p, func: bool = False):
    """W5-dense: the embedding's default dense gradient; SGD updates all of E."""
    return _window_step(p, sparse=False)


def deep_mlp(p, func: bool = False):
    model = _perceptron(p["layers"])
    linears = _linears(model)
    x = torch.from_numpy(p["x"]).clone()

    def forward_backward():
        out = model(x)
        loss = 0.5 * (out * out).mean()
        loss.backward()
        grads = {k: v for k, v in _layer_outputs(linears).items() if k.startswith("d")}
        return {"loss": loss, **grads}

    return forward_backward
