"""A TOML writer for what `Schema.to_dict()` holds: text, numbers, booleans, lists and tables, read back by `Schema.from_file`."""

from __future__ import annotations

import math
import re
from numbers import Integral, Real
from typing import Any, Mapping

from ..errors import DataError

__all__ = ["schema_toml", "toml_text"]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def schema_toml(schema: Any, comment: str | None = None) -> str:
    """The schema as a TOML file `Schema.from_file` reads back equal, opening with `comment` (one line) if given.

    A top-level none that the schema's default gives anyway (e.g. no `positive`) is left out, not written `false`.
    """
    data = schema.to_dict()
    for key in [k for k, v in data.items() if v is None]:
        without = {k: v for k, v in data.items() if k != key}
        if type(schema).from_dict(without) == schema:
            data = without
    return toml_text(data, comment=comment)


def toml_text(data: Mapping[str, Any], comment: str | None = None) -> str:
    """A table as TOML: its plain values first, then a `[key]` section per table and a `[[key]]` one per table of a
    list of tables. Within a section, tables and lists are written inline.

    TOML has no null: a None in a top-level key is written `false` (Schema reads `false` there as none), and a None
    inside a table, an entry's setting left at its default of none, is left out.
    """
    plain: list[str] = []
    sections: list[str] = []
    for key, value in data.items():
        if isinstance(value, Mapping):
            sections.append(f"\n[{_key(key)}]\n" + "".join(_pair(k, v) for k, v in value.items() if v is not None))
        elif _tables(value):
            for entry in value:
                sections.append(f"\n[[{_key(key)}]]\n" + "".join(_pair(k, v) for k, v in entry.items() if v is not None))
        else:
            plain.append(_pair(key, False if value is None else value))
    head = ""
    if comment is not None:
        head = "# " + " ".join(comment.split()) + "\n"
    return head + "".join(plain) + "".join(sections)


def _tables(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def _pair(key: Any, value: Any) -> str:
    return f"{_key(key)} = {_value(value)}\n"


def _key(key: Any) -> str:
    if not isinstance(key, str):
        raise DataError(f"schema: the key {key!r} is not text; a TOML key is text")
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, Integral):
        return str(int(value))
    if isinstance(value, Real):
        number = float(value)
        if math.isnan(number):
            return "nan"
        if math.isinf(number):
            return "inf" if number > 0 else "-inf"
        return repr(number)  # Python's shortest repr is a TOML float: 0.1, 1e-05, 1e+100
    if isinstance(value, Mapping):
        items = [f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None]
        return "{ " + ", ".join(items) + " }" if items else "{}"
    if isinstance(value, (list, tuple)):
        if any(v is None for v in value):
            raise DataError(f"schema: the list {value!r} holds a none, which TOML cannot write; leave it out")
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if value is None:
        raise DataError("schema: a none in a list or table cannot be written as TOML")
    raise DataError(f"schema: {value!r} is not text, a number, a boolean, a list or a table; TOML cannot write it")


def _string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped; any other character as itself (UTF-8)."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        elif 0xD800 <= ord(char) <= 0xDFFF:
            raise DataError(f"schema: the text {text!r} holds a lone surrogate, which UTF-8 cannot write")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
