"""Saving a fitted model as JSON and loading it back, with no pickle: a loaded model predicts bit-identical values."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._atomic import write_text_atomic
from .._data import existing_file
from ..errors import TitanicNNError
from ._fitted import FittedModel

__all__ = ["save_model", "load_model"]


def save_model(fitted: FittedModel, path: str | os.PathLike[str]) -> Path:
    """Write `fitted` to `path` as JSON, atomically: a temporary file in the same folder, then a rename.

    Floats are written with Python's shortest round-tripping repr, so the parameters come back exact.
    """
    path = Path(path)
    if path.is_dir():
        raise TitanicNNError(f"{path}: is a directory; give a file name such as {path / 'model.json'}")
    if not path.parent.exists():
        raise TitanicNNError(f"{path.parent}: no such directory; create it first")
    try:
        text = json.dumps(fitted.to_dict(), indent=1, allow_nan=False)
    except ValueError as exc:
        raise TitanicNNError(f"cannot save {fitted.name!r}: it holds a NaN or infinite number ({exc})") from exc
    write_text_atomic(path, text + "\n")
    return path


def load_model(path: str | os.PathLike[str]) -> FittedModel:
    """Read a model written by `save_model`; a TitanicNNError names what is wrong with any other file."""
    path = existing_file(
        path, what="a saved model's .json file", hint="check the path (save one with save_model or `titanic-nn fit`)"
    )
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise TitanicNNError(f"{path}: is not a text file, so not a saved titanic-nn model") from exc
    except json.JSONDecodeError as exc:
        raise TitanicNNError(f"{path}: is not JSON ({exc.msg} at line {exc.lineno}), so not a saved titanic-nn model") from exc
    try:
        return FittedModel.from_dict(data)
    except TitanicNNError as exc:
        raise TitanicNNError(f"{path}: {exc}") from exc
