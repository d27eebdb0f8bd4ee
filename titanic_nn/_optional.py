"""The optional dependency: PyTorch, needed only by gradient descent, imported on first use with a hint when it is missing."""

from __future__ import annotations

import importlib.util
from typing import Any

from .errors import MissingDependencyError

__all__ = ["GD_INSTALL", "import_torch", "torch_installed"]

# How to get gradient descent: the package's extra (the CPU-only build of torch is in the README).
GD_INSTALL = 'pip install "titanic-nn[gd]" (from a checkout: pip install ".[gd]")'


def torch_installed() -> bool:
    """True when torch can be found, without importing it (a check the command line makes before any work)."""
    try:
        return importlib.util.find_spec("torch") is not None
    except (ImportError, ValueError):  # a broken or blocked entry in sys.modules
        return False


def import_torch(purpose: str = "gradient descent") -> Any:
    """The torch module, or a MissingDependencyError in one line naming the install command."""
    try:
        import torch
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs PyTorch, which is not installed; install it with {GD_INSTALL}, or use the "
            "solver (method 'solver', the default), which needs no torch"
        ) from exc
    return torch
