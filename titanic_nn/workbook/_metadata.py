"""The hidden `_titanic_nn` sheet: features, model settings and row counts as JSON, for verify and read-back."""

from __future__ import annotations

import json
from typing import Any, Sequence

import numpy as np

from .errors import DataError
from .fitted import FittedModel

__all__ = ["FORMAT", "CHUNK_CHARS", "describe", "to_cells", "from_cells"]

FORMAT = 1
CHUNK_CHARS = 32_000  # under Excel's 32,767 characters per cell
# Training records that differ from run to run or machine to machine: left out so equal inputs give equal bytes.
VOLATILE = ("seconds", "device")


def _plain(value: Any) -> Any:
    """JSON-able copy: arrays as lists, numpy scalars as numbers; anything else unknown is left out."""
    if isinstance(value, dict):
        return {str(k): v for k, v in ((k, _plain(v)) for k, v in value.items()) if v is not _SKIP}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return _SKIP


_SKIP = object()


def describe(
    fits: Sequence[FittedModel], n_train: int, n_test: int | None, submission: str | None, id_column: str | None
) -> dict[str, Any]:
    """What a reader needs to rebuild the sheets' layout and Python's numbers."""
    return {
        "format": FORMAT,
        "features": fits[0].features.to_dict(),
        "models": [
            {
                "name": fit.name,
                "config": fit.model.get_config(),
                "params": [a.tolist() for a in fit.model.arrays(fit.params)],
                "training": _plain({k: v for k, v in fit.training.items() if k not in VOLATILE}),
            }
            for fit in fits
        ],
        "train_rows": n_train,
        "test_rows": n_test,
        "submission": submission,
        "id_column": id_column,
    }


def to_cells(description: dict[str, Any]) -> list[str]:
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return [text[i : i + CHUNK_CHARS] for i in range(0, len(text), CHUNK_CHARS)]


def from_cells(cells: Sequence[Any], source: str) -> dict[str, Any]:
    text = "".join(str(c) for c in cells if c is not None)
    try:
        description = json.loads(text)
    except ValueError as exc:
        raise DataError(f"{source}: the hidden _titanic_nn sheet is damaged ({exc}); write the workbook again") from exc
    if description.get("format") != FORMAT:
        raise DataError(f"{source}: written by another titanic-nn version (format {description.get('format')!r})")
    return description
