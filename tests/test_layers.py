"""The package's layers run one way: each module imports only its own layer and those below.

    array namespace and dtypes → ops → engine → autograd, transforms, tape, function
    → nn, optim → seeing tools (explain, viz, anomaly, gradcheck) → apps

Every import counts, at the top of a module or inside a function. One upward call is
part of the design: ``Tensor.backward`` and the hook methods are the autograd layer's
functions called as methods (as ``torch.Tensor.backward`` calls ``torch.autograd.backward``),
imported when called.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chainrule"

LAYERS = [
    (
        "array namespace and dtypes",
        {"chainrule.dtypes", "chainrule.backends", "chainrule.ops.xp", "chainrule.ops.extras"},
    ),
    ("ops", {"chainrule.ops"}),
    (
        "engine",
        {
            "chainrule.mode",
            "chainrule.graph",
            "chainrule.forward",
            "chainrule.tensor",
            "chainrule.inplace",
            "chainrule.sparse",
            "chainrule.basis",
            "chainrule.debug",
            "chainrule.functions",
            "chainrule.reductions",
            "chainrule.statistics",
            "chainrule.arguments",
            "chainrule.linalg",
            "chainrule.creation",
            "chainrule.tables",
            "chainrule.numpy",
            "chainrule.indexed",
            "chainrule.assembly",
            "chainrule.tree",
            "chainrule.construction",
            "chainrule.spellings",
            "chainrule.torch_methods",
            "chainrule.batching",
            "chainrule.reading",
        },
    ),
    (
        "autograd and transforms",
        {
            "chainrule.autograd",
            "chainrule.transforms",
            "chainrule.transforms_jax",
            "chainrule.vectorize",
            "chainrule.custom",
            "chainrule.tape",
            "chainrule.function",
            "chainrule.hooks",
        },
    ),
    ("nn and optim", {"chainrule.nn", "chainrule.optim", "chainrule.distributed"}),
    ("seeing tools", {"chainrule.explain", "chainrule.viz", "chainrule.anomaly", "chainrule.gradcheck"}),
    ("apps", {"chainrule.apps", "chainrule.__main__"}),
]


UPWARD_CALLS = {("chainrule.tensor", "chainrule.autograd")}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(name: str) -> int | None:
    """The layer of a module (the longest matching prefix), or None for the package root."""
    best, found = -1, None
    for level, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (name == prefix or name.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), level
    return found


def imports_of(path: Path) -> list[str]:
    """Every chainrule module the file imports (absolute names; relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("chainrule")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("chainrule"):
                continue
            # "from . import x" and "from .ops import OPS" may name submodules
            found += [
                f"{target}.{alias.name}"
                if layer_of(f"{target}.{alias.name}") is not None and layer_of(target) is None
                else target
                for alias in node.names
            ]
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def test_every_module_belongs_to_a_layer():
    unplaced = [
        module_name(p) for p in MODULES if module_name(p) != "chainrule" and layer_of(module_name(p)) is None
    ]
    assert unplaced == []


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_a_module_imports_only_its_layer_and_those_below(path):
    name = module_name(path)
    own = layer_of(name)
    if own is None:  # the package root re-exports the public names
        return
    upward = [
        (target, LAYERS[layer_of(target)][0])
        for target in imports_of(path)
        if (layer_of(target) or 0) > own and (name, target) not in UPWARD_CALLS
    ]
    assert upward == [], f"{name} ({LAYERS[own][0]}) imports from a higher layer"


def test_viz_does_not_import_nn():
    assert not [t for t in imports_of(PACKAGE / "viz.py") if t.startswith("chainrule.nn")]


def test_the_engine_does_not_name_the_applications():
    engine = [
        p
        for p in MODULES
        if layer_of(module_name(p)) is not None and layer_of(module_name(p)) < len(LAYERS) - 1
    ]
    apps = ("chainrule.demo", "chainrule.models")
    naming = [module_name(p) for p in engine if any(word in p.read_text(encoding="utf-8") for word in apps)]
    assert naming == []


def test_no_module_imports_another_modules_private_names():
    found = []
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or str(node.module).startswith("chainrule.")):
                found += [
                    f"{module_name(path)}: {alias.name}"
                    for alias in node.names
                    if alias.name.startswith("_") and not alias.name.startswith("__")
                ]
    assert found == []


def test_no_module_edits_sys_path():
    assert [module_name(p) for p in MODULES if "sys.path" in p.read_text(encoding="utf-8")] == []
