"""Imports on first use: the package's public names, and numpy for modules the command line's --help loads."""

from __future__ import annotations

import importlib
import types
from typing import Any, Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for a package whose names (name -> its module, relative) load on first use."""

    def __getattr__(name: str) -> Any:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name], package), name)
        importlib.import_module(package).__dict__[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__


class _LazyModule(types.ModuleType):
    """A stand-in for a module that imports it when an attribute is first read, then keeps each attribute."""

    def __getattr__(self, name: str) -> Any:
        value = getattr(importlib.import_module(self.__name__), name)
        setattr(self, name, value)  # later reads are plain attribute lookups
        return value


# The model ops and models build their programs without numpy, so the command line can list the model
# kinds in its --help without loading it; they use numpy through this when they compute.
numpy: Any = _LazyModule("numpy")
# The same for pandas, for the modules --help loads (the target kinds its --task lists).
pandas: Any = _LazyModule("pandas")
