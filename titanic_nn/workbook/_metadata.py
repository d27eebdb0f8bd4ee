"""The hidden `_titanic_nn` sheet: features, model settings and row counts as JSON, for verify and read-back."""

from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .._plain import json_ready
from ..errors import DataError
from ..training import FittedModel

__all__ = ["FORMAT", "CHUNK_CHARS", "describe", "filled_masks", "to_cells", "from_cells"]

FORMAT = 2  # 2: the Valid column and the train/valid scores moved the parameters one column right
CHUNK_CHARS = 32_000  # under Excel's 32,767 characters per cell
# Training records that differ from run to run or machine to machine: left out so equal inputs give equal bytes.
VOLATILE = ("seconds", "device", "threads")


def describe(
    fits: Sequence[FittedModel],
    n_train: int,
    n_test: int | None,
    submission: str | None,
    id_column: str | None,
    filled: Mapping[str, pd.DataFrame | None] | None = None,
    training: Sequence[tuple[str, str, Any]] = (),
    epochs: int | None = None,
) -> dict[str, Any]:
    """What a reader needs to rebuild the sheets' layout and Python's numbers.

    `filled` gives the training and test sheets' masks of filled cells: their row positions are kept,
    since a filled cell holds a formula (a reference to its fill value) where the others hold values.
    """
    description = {
        "format": FORMAT,
        "features": fits[0].features.to_dict(),
        "models": [
            {
                "name": fit.name,
                "config": fit.model.get_config(),
                "params": [a.tolist() for a in fit.model.arrays(fit.params)],
                "training": json_ready({k: v for k, v in fit.training.items() if k not in VOLATILE}, unknown="skip"),
            }
            for fit in fits
        ],
        "train_rows": n_train,
        "test_rows": n_test,
        "submission": submission,
        "id_column": id_column,
    }
    positions = {
        sheet: {str(c): np.flatnonzero(mask[c].to_numpy()).tolist() for c in mask.columns if mask[c].any()}
        for sheet, mask in (filled or {}).items()
        if mask is not None
    }
    if any(positions.values()):
        description["filled"] = {sheet: cols for sheet, cols in positions.items() if cols}
    if training:
        description["training"] = {
            "epochs": epochs,
            "sheets": [
                {"model": model, "sheet": sheet, "optimizer": optimizer.name, "settings": optimizer.settings()}
                for model, sheet, optimizer in training
            ],
        }
    return description


def filled_masks(description: Mapping[str, Any], columns: Sequence[str], n_rows: Mapping[str, int]) -> dict[str, pd.DataFrame]:
    """The masks `describe` kept, rebuilt: for "train" and "test", True where a cell was filled."""
    kept = description.get("filled") or {}
    masks = {}
    for sheet, n in n_rows.items():
        mask = pd.DataFrame(False, index=range(n), columns=list(columns))
        for column, rows in (kept.get(sheet) or {}).items():
            if column in mask.columns:
                mask.loc[[r for r in rows if 0 <= r < n], column] = True
        masks[sheet] = mask
    return masks


# JSON text in which no run looks like a cell escape ("_xHHHH_"), so every writer and reader keeps it as is
_ESCAPE_LIKE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")


def to_cells(description: dict[str, Any]) -> list[str]:
    text = json.dumps(description, sort_keys=True, separators=(",", ":"), allow_nan=True)
    # "_" is only ever inside a JSON string, where \u005f is the same character
    text = _ESCAPE_LIKE.sub(r"\\u005f", text)
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
