"""Values made plain: numpy scalars as Python ones, records as JSON-able data, and values as messages show them."""

from __future__ import annotations

from typing import Any

__all__ = ["python_scalar", "json_ready", "shown", "cut", "names_cut"]

# A value in a message is cut to this many characters, so one line stays one readable line.
SHOWN_CHARS = 60


def python_scalar(value: Any) -> Any:
    """A numpy scalar as the Python value it holds; anything else unchanged."""
    if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
        return value.item()
    return value


def json_ready(value: Any, *, unknown: str = "text") -> Any:
    """A JSON-able copy: numpy scalars and arrays as Python values and lists, tuples as lists.

    A value of any other type becomes its text (`unknown="text"`) or is left out of its dict or list
    (`unknown="skip"`).
    """
    value = python_scalar(value)
    if hasattr(value, "tolist"):  # a numpy array
        return value.tolist()
    if isinstance(value, dict):
        pairs = ((str(k), json_ready(v, unknown=unknown)) for k, v in value.items())
        return {k: v for k, v in pairs if v is not _LEFT_OUT}
    if isinstance(value, (list, tuple)):
        return [v for v in (json_ready(v, unknown=unknown) for v in value) if v is not _LEFT_OUT]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value) if unknown == "text" else _LEFT_OUT


_LEFT_OUT = object()


def shown(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A value as a message shows it: 2 for 2.0, -18.7 not np.float64(-18.7), 'text' quoted, long text cut."""
    value = python_scalar(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        value = int(value)
    return cut(repr(value) if isinstance(value, str) else str(value), limit)


def cut(text: str, limit: int = SHOWN_CHARS) -> str:
    """`text` as it is, or cut to about `limit` characters with its length said: "abc... (40000 characters)"."""
    if len(text) > limit:
        text = f"{text[: limit - 12]}... ({len(text)} characters)"
    return text


# A list of names in a message: the first few, then how many more, so 10,000 missing columns stay one short line.
SHOWN_NAMES = 8


def names_cut(names: Any, noun: str | None = None, limit: int = SHOWN_NAMES) -> str:
    """Names as a message lists them: "Age, Fare", "a, b, c, d, e and 9,995 more"; with `noun`, "column Age" or
    "columns Age, Fare" before them. Each name is cut short too."""
    names = [cut(str(name)) for name in names]
    listed = ", ".join(names[:limit]) + (f" and {len(names) - limit:,} more" if len(names) > limit else "")
    if noun is None:
        return listed
    return f"{noun}{'s' if len(names) != 1 else ''} {listed}"
