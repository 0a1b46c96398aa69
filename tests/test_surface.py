"""The public surface is declared, and it is the derivative table's.

Every table op has a public function, under its own name, in one of chainrule's public
modules of functions (``functions``, ``reductions``, ``statistics``, ``linalg``, ``assembly``,
``construction``), or is listed below as internal, with where users reach it; every public
function is a table op (or is listed as something else: creation, transforms, checks).
Functions and Tensor methods are written out in their modules, not attached from outside.
"""

from __future__ import annotations

import ast
import importlib
import inspect

import numpy as np
import pytest

import chainrule as cr
import chainrule.assembly as assembly
import chainrule.construction as construction
import chainrule.functions as F
import chainrule.reductions as reductions
import chainrule.statistics as statistics
from chainrule.ops import OPS
from chainrule.tensor import Tensor
from chainrule.torch_methods import TorchMethods

tensor_module = importlib.import_module("chainrule.tensor")

# Public modules of functions, one per table op under the op's own name (each name in one).
FUNCTION_MODULES = (F, reductions, statistics)
# Public modules of NumPy's shape, assembly and construction functions: for each, the ops
# module whose composite rows its functions call (each under the row's own name), the names
# of those rows, and its other public names (an alias, functions returning several arrays
# assembled from rows, the index-trick objects) with the name each alias stands for.
ROW_MODULES = {
    assembly: (
        "chainrule.ops.assembly",
        (
            "append",
            "array_split",
            "atleast_1d",
            "atleast_2d",
            "atleast_3d",
            "column_stack",
            "dsplit",
            "dstack",
            "fliplr",
            "flipud",
            "hsplit",
            "hstack",
            "repeat",
            "rollaxis",
            "rot90",
            "tile",
            "vsplit",
            "vstack",
        ),
        {"row_stack": "vstack"},
    ),
    construction: (
        "chainrule.ops.construction",
        (
            "cross",
            "diag",
            "diagflat",
            "inner",
            "kron",
            "linspace",
            "pad",
            "select",
        ),
        {"meshgrid": None, "logspace": None, "r_": None, "c_": None},
    ),
}
ROW_OPS = {name: module for module, (_, names, _) in ROW_MODULES.items() for name in names}
PUBLIC_MODULES = (*FUNCTION_MODULES, cr.linalg, *ROW_MODULES)

# Table ops without a function in a public module: where users reach each, and why.
INTERNAL_OPS = {
    "getitem": ("chainrule.tensor:Tensor.__getitem__", "indexing is written t[index]"),
    "scatter_add": (None, "the transpose of getitem, applied by its rule"),
    "gather_rows": ("chainrule.nn.functional:embedding", "a sparse embedding's lookup"),
    "scatter_rows": (None, "the transpose of gather_rows, applied by its rule"),
    "affine": ("chainrule.nn.functional:linear", "a linear layer's x Wᵀ + b, one node per layer"),
    "log_softmax": ("chainrule.nn.functional:log_softmax", "a neural-network function"),
    "nll": ("chainrule.nn.functional:nll_loss", "a loss (cross_entropy uses it too)"),
    "nll_transpose": (None, "the transpose of nll, applied by its rule"),
    "permute_along_axis": (None, "a permutation along an axis: the transpose of sort and partition"),
    "svdvals": ("chainrule.linalg:svd", "svd(a, compute_uv=False) and norm's ord 2, -2 and 'nuc'"),
    "normal_cdf": (
        "chainrule.nn.functional:gelu",
        "the normal distribution function Φ that gelu's slope reads",
    ),
    "gelu": ("chainrule.nn.functional:gelu", "a neural-network activation"),
    "silu": ("chainrule.nn.functional:silu", "a neural-network activation"),
    "leaky_relu": ("chainrule.nn.functional:leaky_relu", "a neural-network activation"),
    "elu": ("chainrule.nn.functional:elu", "a neural-network activation"),
    "all_reduce": ("chainrule.distributed:all_reduce", "a collective over the processes of a group"),
    "all_gather": ("chainrule.distributed:all_gather", "a collective over the processes of a group"),
    "all_gather_transpose": (None, "the transpose of all_gather (a reduce-scatter), applied by its rule"),
}

# Public functions of chainrule that are not table ops, by what they are.
NOT_OPS = {
    "shape, assembly and grids made of rows, and row_stack (vstack's second name)": {
        "meshgrid",
        "logspace",
        "row_stack",
    },
    "creation": {
        "tensor",
        "zeros",
        "ones",
        "full",
        "eye",
        "arange",
        "zeros_like",
        "ones_like",
        "randn",
        "rand",
        "empty",
        "empty_like",
        "full_like",
        "randint",
        "normal",
        "manual_seed",
    },
    "default dtype": {"get_default_dtype", "set_default_dtype"},
    "grad mode": {"is_grad_enabled"},
    "transforms": {
        "grad",
        "value_and_grad",
        "vjp",
        "jvp",
        "jacobian",
        "hessian",
        "hvp",
        "directional_derivative",
        "jacfwd",
        "vmap",
        "jacrev",
        "elementwise_grad",
        "linearize",
        "stop_gradient",
        "tree_map",
        "tree_flatten",
        "tree_unflatten",
    },
    "gradient checks": {"gradcheck", "check_grads", "numerical_grad", "numerical_jacobian"},
    "seeing the chain rule": {"explain", "to_dot", "draw"},
    "integer results (no gradient)": {"argmax", "argmin", "argsort"},
}

# Public functions that are NumPy's second names for a table op's function: the same object.
ALIASES = {
    "degrees": "rad2deg",
    "radians": "deg2rad",
    "remainder": "mod",
    "amax": "max",
    "amin": "min",
    "ravel": "flatten",
}

# Tensor methods that apply a table op (elementwise, reductions, shape, products).
OP_METHODS = (
    "exp",
    "expm1",
    "log",
    "log1p",
    "log2",
    "log10",
    "sqrt",
    "abs",
    "sign",
    "sin",
    "cos",
    "tan",
    "arcsin",
    "arccos",
    "arctan",
    "sinh",
    "cosh",
    "tanh",
    "arcsinh",
    "arccosh",
    "arctanh",
    "sigmoid",
    "relu",
    "softplus",
    "clip",
    "sum",
    "mean",
    "max",
    "min",
    "prod",
    "logsumexp",
    "var",
    "std",
    "reshape",
    "transpose",
    "swapaxes",
    "flatten",
    "squeeze",
    "expand_dims",
    "broadcast_to",
    "astype",
    "dot",
    "matmul",
)
UNARY_METHODS = [name for name in OP_METHODS if OPS[name].category == "unary" and name != "clip"]

# Tensor methods under PyTorch's names, inherited from TorchMethods (torch_methods.py): each a
# thin call of a method above or of a public function.
TORCH_METHODS = (
    "view",
    "unsqueeze",
    "permute",
    "expand",
    "expand_as",
    "repeat",
    "t",
    "clone",
    "contiguous",
    "to",
    "type_as",
    "float",
    "double",
    "half",
    "numel",
    "dim",
    "new_zeros",
    "new_ones",
    "pow",
    "clamp",
    "clamp_min",
    "clamp_max",
    "masked_fill",
    "where",
    "exp_",
    "norm",
    "mm",
    "bmm",
    "mv",
    "outer",
)


def _defined_functions(module) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_")
    }


def _resolve(entry: str):
    module, _, path = entry.partition(":")
    found = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part)
    return found


def _public_names(modules=PUBLIC_MODULES) -> set[str]:
    return {name for module in modules for name in module.__all__}


def _home(name: str):
    """The one public module that defines ``name`` (none re-exports another's)."""
    homes = [module for module in PUBLIC_MODULES if name in module.__all__]
    assert len(homes) == 1, f"{name} is public in {[m.__name__ for m in homes]}"
    return homes[0]


def test_every_table_op_has_a_public_function_or_is_listed_internal():
    public = _public_names()
    missing = sorted(name for name in OPS if name not in public and name not in INTERNAL_OPS)
    modules = ", ".join(m.__name__ for m in PUBLIC_MODULES)
    assert missing == [], f"table ops with no function in {modules}: {missing}"


def test_the_internal_list_names_only_internal_ops_and_where_users_reach_them():
    public = _public_names()
    for name, (entry, _) in INTERNAL_OPS.items():
        assert name in OPS, f"{name} is listed internal but is no table op"
        assert name not in public, f"{name} is listed internal but has a public function"
        if entry is not None:
            assert callable(_resolve(entry)), entry


def test_each_public_name_lives_in_one_public_module():
    for name in _public_names():
        _home(name)


def test_every_public_function_is_a_table_op_or_listed():
    functions = {
        name for name in cr.__all__ if callable(getattr(cr, name)) and not isinstance(getattr(cr, name), type)
    }
    listed = set().union(*NOT_OPS.values())
    assert sorted(functions - set(OPS) - listed - set(ALIASES)) == []
    assert sorted(listed - functions) == [], "NOT_OPS names something chainrule does not export"
    assert sorted(_public_names(FUNCTION_MODULES) - set(OPS) - set(ALIASES) - listed) == []


def test_each_alias_is_the_function_it_names():
    for alias, name in ALIASES.items():
        home = next(m for m in FUNCTION_MODULES if alias in m.__all__)
        assert getattr(home, alias) is getattr(home, name) is getattr(cr, alias), alias


def test_chainrule_exports_the_functions_of_its_public_modules():
    for name in set(cr.__all__) & set(OPS):
        assert getattr(cr, name) is getattr(_home(name), name), name


@pytest.mark.parametrize("module", FUNCTION_MODULES, ids=lambda m: m.__name__)
def test_functions_all_lists_exactly_the_functions_written_there(module):
    assert sorted(module.__all__) == sorted(_defined_functions(module))


@pytest.mark.parametrize(
    ("module", "name"),
    [(module, name) for module in FUNCTION_MODULES for name in module.__all__],
    ids=lambda v: v if isinstance(v, str) else v.__name__,
)
def test_each_public_function_has_a_signature_and_a_docstring(module, name):
    fn = getattr(module, name)
    assert fn.__name__ == ALIASES.get(name, name)
    assert fn.__doc__ and fn.__doc__.strip(), f"{name} has no docstring"
    assert inspect.signature(fn).return_annotation in (
        "Tensor",
        "list[Tensor]",
        "Tensor | tuple[Tensor, ...]",  # gradient: one per axis
        "Tensor | tuple[Tensor, Tensor]",  # average(..., returned=True)
    )


@pytest.mark.parametrize("name", OP_METHODS)
def test_each_op_method_is_declared_in_the_tensor_class(name):
    method = vars(Tensor).get(name)
    assert method is not None, f"Tensor.{name} is not written in the class body"
    assert method.__qualname__ == f"Tensor.{name}"
    assert method.__doc__ and method.__doc__.strip()


@pytest.mark.parametrize("name", TORCH_METHODS)
def test_each_torch_method_is_declared_in_the_mixin_and_inherited(name):
    method = vars(TorchMethods).get(name)
    assert method is not None, f"TorchMethods.{name} is not written in the class body"
    assert method.__qualname__ == f"TorchMethods.{name}"
    assert method.__doc__ and method.__doc__.strip()
    assert getattr(Tensor, name) is method and name not in vars(Tensor), f"Tensor.{name} is written twice"


@pytest.mark.parametrize("name", UNARY_METHODS)
def test_elementwise_methods_equal_their_functions(name):
    x = cr.tensor(np.linspace(0.3, 0.7, 5))  # inside every domain, arccosh's shifted below
    if name == "arccosh":
        x = x + 1
    np.testing.assert_array_equal(getattr(x, name)().data, getattr(F, name)(x).data)


def test_methods_with_parameters_equal_their_functions():
    t = cr.tensor(np.arange(24.0).reshape(2, 3, 4) / 7)
    pairs = [
        (t.reshape(6, 4), F.reshape(t, (6, 4))),
        (t.reshape((4, 6)), F.reshape(t, (4, 6))),
        (t.reshape(-1), F.reshape(t, (-1,))),
        (t.transpose(), F.transpose(t)),
        (t.transpose(1, 0, 2), F.transpose(t, (1, 0, 2))),
        (t.transpose((2, 0, 1)), F.transpose(t, (2, 0, 1))),
        (t.var(axis=1, ddof=1), reductions.var(t, axis=1, ddof=1)),
        (t.std(ddof=1), reductions.std(t, ddof=1)),
        (t.max(axis=0, keepdims=True), reductions.max(t, axis=0, keepdims=True)),
        (t.min(axis=(0, 2)), reductions.min(t, axis=(0, 2))),
        (t.sum(axis=-1), reductions.sum(t, axis=-1)),
        (t.mean(keepdims=True), reductions.mean(t, keepdims=True)),
        (t.prod(axis=2), reductions.prod(t, axis=2)),
        (t.logsumexp(axis=1), reductions.logsumexp(t, axis=1)),
        (t.clip(0.5, None), F.clip(t, 0.5, None)),
        (t.swapaxes(0, 2), F.swapaxes(t, 0, 2)),
        (t.flatten(), F.flatten(t)),
        (t[:1].squeeze(axis=0), F.squeeze(t[:1], axis=0)),
        (t.expand_dims((0, -1)), F.expand_dims(t, (0, -1))),
        (t[0, 0].broadcast_to((2, 4)), F.broadcast_to(t[0, 0], (2, 4))),
        (t.astype(np.float32), F.astype(t, np.float32)),
        (t[0].dot([1.0, 2.0, 3.0, 4.0]), F.dot(t[0], [1.0, 2.0, 3.0, 4.0])),
        (t.matmul(np.ones((4, 2))), F.matmul(t, np.ones((4, 2)))),
        (t.sum(dim=1, keepdim=True), reductions.sum(t, axis=1, keepdims=True)),
        (t.mean(dim=(0, 2)), reductions.mean(t, dim=(0, 2))),
        (t.var(dim=1), reductions.var(t, axis=1, ddof=1)),
        (t.std(dim=0, unbiased=False), reductions.std(t, axis=0)),
        (t.max(dim=2).values, reductions.max(t, axis=2)),
        (t.squeeze(dim=0) if t.shape[0] == 1 else t[:1].squeeze(dim=0), F.squeeze(t[:1], axis=0)),
        (t.view(4, 6), t.reshape(4, 6)),
        (t.permute(2, 0, 1), F.transpose(t, (2, 0, 1))),
        (t.transpose(0, 2), F.swapaxes(t, 0, 2)),
        (t.unsqueeze(1), F.expand_dims(t, 1)),
        (t.flatten(1), F.reshape(t, (2, 12))),
    ]
    for method, function in pairs:
        assert method.dtype == function.dtype
        np.testing.assert_array_equal(method.data, function.data)


ENGINE_MODULES = [
    "chainrule.functions",
    "chainrule.reductions",
    "chainrule.statistics",
    "chainrule.tensor",
    "chainrule.torch_methods",
    "chainrule.spellings",
    "chainrule.forward",
    "chainrule.graph",
    *(
        f"chainrule.ops.{name}"
        for name in (
            "core",
            "elementwise",
            "arithmetic",
            "reduction",
            "shape",
            "linalg",
            "losses",
            "sorting",
            "statistics",
            "xp",
        )
    ),
]


@pytest.mark.parametrize("name", ENGINE_MODULES)
def test_no_module_attaches_names_to_another_object(name):
    """At module level nothing is assigned into a class, a module or ``globals()``, and nothing
    calls ``setattr``: each function and method is written where it lives."""
    for statement in ast.parse(inspect.getsource(importlib.import_module(name))).body:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            continue
        for node in ast.walk(statement):
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                assert not any(isinstance(t, (ast.Attribute, ast.Subscript)) for t in targets), (
                    f"{name}:{node.lineno} assigns into another object"
                )
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in ("setattr", "globals"), f"{name}:{node.lineno}"


def test_forward_mode_runs_on_the_namespace_the_tensor_module_defines():
    assert F.RECORDING is tensor_module.RECORDING
    _, tangent = cr.jvp(lambda x: cr.sin(x) * x, (cr.tensor([0.5, 1.0]),), (cr.tensor([1.0, 0.0]),))
    np.testing.assert_allclose(tangent.data, [np.cos(0.5) * 0.5 + np.sin(0.5), 0.0], rtol=1e-6)


@pytest.mark.parametrize("module", ROW_MODULES, ids=lambda m: m.__name__)
def test_the_rows_of_each_ops_module_are_the_functions_of_its_public_module(module):
    ops_module, names, _ = ROW_MODULES[module]
    declared = {
        name for name, op in OPS.items() if op.category == "composite" and op.fn.__module__ == ops_module
    }
    assert sorted(declared) == sorted(names)
    for name in names:
        assert callable(getattr(module, name)), name
        assert name in module.__all__, name


@pytest.mark.parametrize("module", ROW_MODULES, ids=lambda m: m.__name__)
def test_each_row_module_all_lists_its_rows_and_the_rest(module):
    _, names, others = ROW_MODULES[module]
    assert sorted(module.__all__) == sorted(set(names) | set(others))
    assert sorted(_defined_functions(module)) == sorted(n for n in module.__all__ if n not in ("r_", "c_"))
    for alias, name in others.items():
        if name is not None:
            assert getattr(module, alias) is getattr(module, name), alias


@pytest.mark.parametrize("name", sorted(set(ROW_OPS) | {"meshgrid", "logspace"}))
def test_each_row_function_has_a_docstring_with_an_example_and_a_return_type(name):
    fn = getattr(_home(name), name)
    assert fn.__name__ == name
    assert fn.__doc__ and ">>>" in fn.__doc__, f"{name} has no runnable example"
    assert inspect.signature(fn).return_annotation != inspect.Signature.empty
