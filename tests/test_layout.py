"""The package's layout reads as the pipeline: subpackages talk through their `__init__`, no two modules import each
other, every module says in one line what it holds, each package's lazy names come from the modules that define them,
and no code outside nn asks whether a model is an ensemble."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "titanic_nn"


def _modules() -> dict[str, Path]:
    modules = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    return modules


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """The package's modules `name` imports, at the top or inside functions, type-checking imports included."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            elif (node.module or "").startswith("titanic_nn"):
                target = node.module
            else:
                continue
            named = [f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in MODULES]
            found |= set(named) if named else {target}
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("titanic_nn")}
    return {module for module in found if module in MODULES and module != name}


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _private(module: str) -> bool:
    return module.rsplit(".", 1)[-1].startswith("_")


def test_no_module_reaches_into_another_packages_private_module():
    found = []
    for name, targets in IMPORTS.items():
        home = name if MODULES[name].name == "__init__.py" else name.rsplit(".", 1)[0]
        for target in targets:
            parent = target.rsplit(".", 1)[0]
            # the top-level package's own private modules (errors, excel, _data, ...) serve every subpackage
            if _private(target) and parent != home and parent != "titanic_nn":
                found.append(f"{name} -> {target}")
    assert not found, "imports of another package's private module: " + ", ".join(sorted(found))


def test_no_two_modules_import_each_other():
    pairs = sorted({tuple(sorted((a, b))) for a, targets in IMPORTS.items() for b in targets if a in IMPORTS.get(b, ())})
    assert not pairs, f"modules that import each other: {pairs}"


def test_every_module_opens_with_one_line_on_what_it_holds():
    for name, path in MODULES.items():
        docstring = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
        assert docstring and docstring.splitlines()[0].strip(), f"{name} has no docstring"


@pytest.mark.parametrize("package", [name for name, path in MODULES.items() if path.name == "__init__.py"])
def test_each_lazy_name_comes_from_the_module_that_defines_it(package):
    """`_EXPORTS` maps each public name to its module, and the type-checking imports name the same modules."""
    import importlib

    module = importlib.import_module(package)
    exports = getattr(module, "_EXPORTS", None)
    if exports is None:
        return
    tree = ast.parse(MODULES[package].read_text(encoding="utf-8"))
    checked = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for item in ast.walk(node):
                if isinstance(item, ast.ImportFrom):
                    for alias in item.names:
                        checked[alias.name] = "." * item.level + (item.module or "")
    for name, source in exports.items():
        defined = importlib.import_module(source, package)
        assert hasattr(defined, name), f"{package}: {name} is not defined in {source}"
        assert checked.get(name) == source, f"{package}: TYPE_CHECKING imports {name} from {checked.get(name)}, not {source}"


def test_no_code_outside_nn_asks_whether_a_model_is_an_ensemble():
    """A plain model is one member; every reader and writer loops over `model.k` members of `model.member`."""
    asks = re.compile(r"isinstance\([^)]*Ensemble\)|hasattr\([^)]*member|\bEnsemble\b|members_of")
    found = []
    for name, path in MODULES.items():
        if name.startswith("titanic_nn.nn") or name == "titanic_nn":
            continue  # the ensemble's own module, its builders and the public names
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if asks.search(line) and not line.lstrip().startswith("#"):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
