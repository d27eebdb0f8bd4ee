"""Saving a fitted model as JSON and loading it back, with no pickle: a loaded model predicts bit-identical values."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from .._atomic import write_text_atomic
from .._files import MAX_TEXT_BYTES, read_regular
from ..errors import DataError, TitanicNNError
from ._fitted import FittedModel

__all__ = ["save_model", "load_model", "parse_json"]


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
    """Read a model written by `save_model`; a TitanicNNError names what is wrong with any other file.

    The file is validated completely before use (`training/_validate.py`): its types, shapes,
    finiteness and version.
    """
    path = Path(path)
    raw = read_regular(
        path, what="a saved model's .json file", limit=MAX_TEXT_BYTES,
        hint="check the path (save one with save_model or `titanic-nn fit`)",
    )
    data = parse_json(raw, str(path), what="a saved titanic-nn model")
    try:
        return FittedModel.from_dict(data)
    except TitanicNNError as exc:
        fix = "" if ";" in str(exc) else "; give a model saved by `titanic-nn fit` or `titanic-nn import`"
        raise type(exc)(f"{path}: {exc}{fix}") from exc


def parse_json(raw: bytes, source: str, *, what: str) -> Any:
    """JSON from a file's bytes, or a DataError naming the file, what is wrong and where: not UTF-8 (the byte and
    its position), not JSON (the line and column), nested too deeply for any file titanic-nn writes."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{source}: is not UTF-8 text (byte 0x{raw[exc.start]:02X} at position {exc.start}), so not {what}; "
            "JSON files are UTF-8: save it as UTF-8"
        ) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(
            f"{source}: is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}), so not {what}"
        ) from exc
    except RecursionError as exc:
        raise DataError(f"{source}: is nested too deeply to be {what}") from exc
