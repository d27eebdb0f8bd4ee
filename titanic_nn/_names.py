"""Names read from files, checked before they become paths: a plain file name joined onto its folder, never anything else."""

from __future__ import annotations

import os
from pathlib import Path

from ._plain import shown
from .errors import DataError

__all__ = ["name_problem", "output_in", "safe_name"]

# A file name's length in bytes that every common filesystem accepts.
MAX_NAME_BYTES = 255


def name_problem(name: object) -> str | None:
    """Why `name` cannot be a file name on its own inside a folder (None when it can).

    A plain name has no separator (so no absolute path and no `..` step), is not `.` or `..`, does not
    start with a dot (a hidden file, like the run's own temporaries) and holds no control character.
    """
    if not isinstance(name, str):
        return f"is a {type(name).__name__}, not text"
    if not name:
        return "is empty"
    if name in (".", ".."):
        return f"is {name!r}, which names a folder"
    separators = {"/", "\\", os.sep, os.altsep or "/", ":"}
    found = sorted(c for c in separators if c in name)
    if found:
        return f"holds {found[0]!r}, which would lead outside the output folder"
    if name.startswith("."):
        return "starts with a dot"
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "holds a control character"
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return f"is longer than {MAX_NAME_BYTES} bytes"
    return None


def output_in(folder: str | os.PathLike, name: str, *, what: str = "an output", source: str | None = None) -> Path:
    """`folder / name`, after proving the path stays directly inside `folder`.

    Every output whose name is not a constant of the program goes through here: `name` must be a plain
    file name (`name_problem`), so no `..`, separator or absolute path read from a file can move it.
    `source` names where the name was read, for the message.
    """
    problem = name_problem(name)
    if problem is not None:
        where = f"{source}: " if source else ""
        raise DataError(
            f"{where}the name {shown(name)} of {what} {problem}, so it cannot be a file name in {folder}; "
            "give a file titanic-nn wrote, or rename it to letters, digits and _"
        )
    folder = Path(folder)
    path = folder / name
    # the check above makes this hold; it is asserted the way the filesystem sees it, links resolved
    if Path(os.path.realpath(path.parent)) != Path(os.path.realpath(folder)):  # pragma: no cover
        raise DataError(f"{path}: is not inside {folder}; choose another output folder")
    return path


def safe_name(stem: str, suffix: str) -> str:
    """A plain file name made from `stem` (a training file's name) and `suffix`: each separator, colon or control
    character becomes "_", a leading dot is dropped, and the whole is cut to fit; "workbook" when nothing is left.
    `name_problem` finds nothing in what it returns."""
    separators = {"/", "\\", os.sep, os.altsep or "/", ":"}
    cleaned = "".join("_" if c in separators or ord(c) < 32 or ord(c) == 127 else c for c in stem).lstrip(".")
    budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    while len(cleaned.encode("utf-8", "surrogatepass")) > budget:
        cleaned = cleaned[:-1]
    name = (cleaned or "workbook") + suffix
    return name if name_problem(name) is None else "workbook" + suffix
