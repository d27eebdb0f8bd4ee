"""The bundled Kaggle Titanic files and a CSV reader whose errors say what is wrong and where."""

from __future__ import annotations

import codecs
import csv
import io
import re
import warnings
from importlib import resources
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

from ._files import MAX_TABLE_BYTES, read_regular
from ._plain import cut, names_cut, shown
from .errors import DataError, EncodingGuessWarning

__all__ = [
    "as_numbers", "check_numbers", "unheld_numbers", "LARGEST_NUMBER", "data_path", "load_titanic", "read_csv", "row_place", "line_of", "lines_of", "SourceLines", "LINES",
]

BUNDLED_FILES = ("train.csv", "test.csv", "gender_submission.csv")


def data_path(name: str = "train.csv") -> Path:
    """The path of a bundled file: train.csv, test.csv or gender_submission.csv."""
    if name not in BUNDLED_FILES:
        raise DataError(f"no bundled file {name!r}; the bundled files are {', '.join(BUNDLED_FILES)}")
    path = Path(str(resources.files("titanic_nn") / "bundled" / name))
    if not path.is_file():
        raise DataError(f"the bundled {name} is missing from the installation at {path}; reinstall titanic-nn")
    return path


def load_titanic() -> tuple[pd.DataFrame, pd.DataFrame]:
    """The bundled Kaggle training and test sets as DataFrames: (train, test)."""
    return read_csv(data_path("train.csv")), read_csv(data_path("test.csv"))


def read_csv(
    path: str | Path,
    *,
    required: Iterable[str] = (),
    numeric: Iterable[str] = (),
    text: Iterable[str] = (),
    blanks: Iterable[str] = ("",),
) -> pd.DataFrame:
    """Read a CSV file, with one clear error for each way it can be unusable.

    Only regular files are read, up to 2 GiB. `text` columns are read as the file's text, exactly (ids, levels:
    `001` stays `001`); the others are numbers where every value is one. A cell is blank only when it is
    empty, or one of `blanks` (the schema's blank markers): `NA`, `None` and `null` are text unless named.
    `required` columns must all be present; `numeric` columns that are present must hold numbers or blanks (the
    first bad value is named with its line in the file). The line each row starts on is kept for messages
    (`row_place`).
    """
    path = Path(path)
    raw = read_regular(path, what="a CSV file", limit=MAX_TABLE_BYTES)
    decoded = _decode(path, raw)
    del raw
    if not decoded.strip():
        raise DataError(f"{path}: the file is empty; a CSV needs a header line and at least one data row")
    frame = _parse(path, decoded, text_columns=set(text), blanks=list(blanks))
    _check_field_counts(path, decoded, len(frame.columns))
    frame.attrs[LINES] = SourceLines(_lines(decoded, len(frame)), str(path))
    _check_columns(path, frame, required)
    for column in numeric:
        if column in frame.columns:
            frame[column] = as_numbers(frame[column], source=str(path))
    for column in required:
        check_numbers(frame[column], source=str(path))
    return frame


class SourceLines:
    """The line of the file each row read starts on, by the row's index label as read (0, 1, 2, ...).

    Kept in the frame's `attrs`, which pandas carries through selections and copies (shared, never copied:
    a frame's every operation deep-copies its attrs).
    """

    def __init__(self, lines: np.ndarray | None, path: str | None = None) -> None:
        self.lines = lines
        self.path = path  # the file, as the user named it, for messages

    def __deepcopy__(self, memo: dict) -> "SourceLines":
        return self

    def line(self, label: object) -> int | None:
        if self.lines is None or not isinstance(label, (int, np.integer)) or not 0 <= label < len(self.lines):
            return None
        return int(self.lines[label])


LINES = "titanic_nn.lines"


def source_of(frame: pd.DataFrame | pd.Series) -> str | None:
    """The file `frame` was read from by `read_csv`, as the user named it; None for a frame made otherwise."""
    lines = frame.attrs.get(LINES)
    return lines.path if isinstance(lines, SourceLines) else None


def row_place(frame: pd.DataFrame | pd.Series, position: int) -> str:
    """Where row `position` of `frame` (or of a column) is in its file: "line 12" for rows `read_csv` read
    (selected or not), else "row 3" for a frame indexed 0, 1, 2, ..., else "row with index 7"."""
    label = frame.index[position]
    lines = frame.attrs.get(LINES)
    line = lines.line(label) if isinstance(lines, SourceLines) else None
    if line is not None:
        return f"line {line}"
    index = frame.index
    if isinstance(index, pd.RangeIndex) and index.start == 0 and index.step == 1:
        return f"row {position + 1}"
    return f"row with index {shown(label)}"


def line_of(frame: pd.DataFrame | pd.Series, position: int) -> str:
    """"line N" for row `position` of a frame `read_csv` read; "data row N" when its lines are not known."""
    place = row_place(frame, position)
    return place if place.startswith("line ") else f"data row {position + 1}"


def lines_of(frame: pd.DataFrame | pd.Series, positions: Iterable[int]) -> str:
    """Where several rows are: "lines 5, 9" for rows read from a file, else each as `line_of` names it."""
    places = [line_of(frame, int(p)) for p in positions]
    if len(places) > 1 and all(p.startswith("line ") for p in places):
        return "lines " + ", ".join(p[len("line "):] for p in places)
    return ", ".join(places)


def _lines(text: str, rows: int) -> np.ndarray | None:
    """The line each of the `rows` records starts on (the header is line 1): one record per line unless a quoted
    field holds a line break or a blank line is skipped, when the csv module counts them."""
    breaks = text.count("\n")
    if breaks == rows + (1 if text.endswith("\n") else 0) and "\r" not in text.replace("\r\n", ""):
        return np.arange(2, rows + 2, dtype=np.int64)
    starts = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        next(reader)
        last = reader.line_num
        for record in reader:
            if record:
                starts.append(last + 1)
            last = reader.line_num
    except (csv.Error, StopIteration):
        return None
    return np.asarray(starts, dtype=np.int64) if len(starts) == rows else None


# Two to four bytes of valid UTF-8 beyond ASCII: text meant as UTF-8, where a Windows-1252 file holds none.
_UTF8_SEQUENCE = re.compile(
    rb"[\xC2-\xDF][\x80-\xBF]|\xE0[\xA0-\xBF][\x80-\xBF]|[\xE1-\xEC\xEE\xEF][\x80-\xBF]{2}|\xED[\x80-\x9F][\x80-\xBF]"
    rb"|\xF0[\x90-\xBF][\x80-\xBF]{2}|[\xF1-\xF3][\x80-\xBF]{3}|\xF4[\x80-\x8F][\x80-\xBF]{2}"
)


def _decode(path: Path, raw: bytes) -> str:
    """UTF-8 (a BOM allowed); Windows-1252, with a warning, for a file holding no UTF-8 at all; else refused,
    naming the line and byte, since decoding a damaged UTF-8 file another way would change every accented line."""
    if b"\x00" in raw[:4096]:
        raise DataError(f"{path}: is a binary file, not CSV text; export the table as CSV first")
    bom = 3 if raw.startswith(codecs.BOM_UTF8) else 0
    try:
        return raw[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        utf8 = exc
        utf8.start += bom
    if _UTF8_SEQUENCE.search(raw) is None:
        try:
            decoded = raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise DataError(
                f"{path}: {_byte_place(raw, exc.start)} is not UTF-8 or Windows-1252 text; save the file as UTF-8"
            ) from exc
        warnings.warn(
            EncodingGuessWarning(
                f"{path}: is not UTF-8 ({_byte_place(raw, utf8.start)}); read as Windows-1252, its only other "
                "encoding; save it as UTF-8 to silence this"
            ),
            stacklevel=3,
        )
        return decoded
    raise DataError(
        f"{path}: {_byte_place(raw, utf8.start)} is not valid UTF-8, though the file is UTF-8 elsewhere; fix that "
        "line or save the file as UTF-8 again"
    ) from utf8


def _byte_place(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line}, byte {column} (0x{raw[offset]:02X})"


def _parse(path: Path, text: str, *, text_columns: set[str] | None = None, blanks: list[str] | None = None) -> pd.DataFrame:
    header = text.lstrip().splitlines()[0]
    if "," not in header:
        raise DataError(
            f"{path}: does not look like CSV: its first line has no comma-separated column names "
            f"(it starts {shown(header[:40])})"
        )
    options = dict(skipinitialspace=False, keep_default_na=False, na_values=blanks or [""])
    try:
        names = pd.read_csv(io.StringIO(text), nrows=0, **options).columns
        header_names = next(csv.reader(io.StringIO(text)), [])
        repeated = sorted({n for n in header_names if header_names.count(n) > 1})
        if repeated:
            positions = [i + 1 for i, n in enumerate(header_names) if n == repeated[0]]
            raise DataError(
                f"{path}: the header names column {shown(repeated[0])} {len(positions)} times (fields "
                f"{', '.join(map(str, positions))}); give each column its own name"
            )
        # low_memory=False: the whole file typed at once, so a column is never typed chunk by chunk (pandas'
        # DtypeWarning) and a value's type does not depend on where in the file it sits
        as_text = {c for c in names if c in (text_columns or ())}
        frame = pd.read_csv(io.StringIO(text), low_memory=False, dtype={c: str for c in as_text}, **options)
        # pandas reads True/TRUE/true (and False...) as one boolean, whatever the case: such a column is the
        # file's text, read again as such
        boolean = {c for c in frame.columns if c not in as_text and _holds_booleans(frame[c])}
        if boolean:
            frame = pd.read_csv(io.StringIO(text), low_memory=False, dtype={c: str for c in as_text | boolean}, **options)
    except pd.errors.ParserError as exc:
        raise DataError(f"{path}: is not valid CSV ({_short(exc)}); check the quoting and field counts") from exc
    except csv.Error as exc:  # pragma: no cover - pandas wraps most of these
        raise DataError(f"{path}: is not valid CSV ({_short(exc)})") from exc
    if frame.empty and len(frame.columns):
        raise DataError(f"{path}: has a header but no data rows; add at least one row")
    unnamed = [c for c in frame.columns if str(c).startswith("Unnamed:")]
    if len(unnamed) == len(frame.columns):
        raise DataError(f"{path}: does not look like CSV: its header names no columns")
    return frame


def _holds_booleans(column: pd.Series) -> bool:
    if pd.api.types.is_bool_dtype(column):
        return True
    return column.dtype == object and bool(column.map(lambda v: isinstance(v, (bool, np.bool_))).any())


def _check_field_counts(path: Path, text: str, fields: int) -> None:
    """Every record has the header's number of fields: pandas refuses a record with more, but reads one with fewer as
    blanks, which would change its values without a word. A DataError names the first such line."""
    if '"' not in text:  # one record a line: count the separators
        for number, line in enumerate(text.split("\n"), start=1):
            line = line.rstrip("\r")
            if number > 1 and line and line.count(",") != fields - 1:
                raise _field_count_error(path, number, line.count(",") + 1, fields)
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        next(reader)
        last = reader.line_num
        for record in reader:
            if record and len(record) != fields:
                raise _field_count_error(path, last + 1, len(record), fields)
            last = reader.line_num
    except (csv.Error, StopIteration):  # pandas read it: its own errors were said
        return


def _field_count_error(path: Path, line: int, found: int, fields: int) -> DataError:
    return DataError(
        f"{path}: line {line} has {found} field(s), but the header names {fields}; give every row one field per column "
        "(an empty field for a blank)"
    )


def _short(exc: Exception) -> str:
    return cut(str(exc).strip().splitlines()[-1].rstrip("."), 200)  # room for the parser's "in line 7, saw 5"


def _check_columns(path: Path, frame: pd.DataFrame, required: Iterable[str]) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing {names_cut(missing, 'column')}; the file has {names_cut(frame.columns)}")


# The numbers a column may hold: beyond 1e100 a square or a sum of products nears float64's 1.8e308 (and
# Excel's 1e308); below the smallest normal number (2.2e-308) the denormals Gnumeric flushes to zero.
LARGEST_NUMBER = 1e100
SMALLEST_NUMBER = float(np.finfo(np.float64).tiny)


def unheld_numbers(magnitude: np.ndarray) -> np.ndarray:
    """True where a number of this magnitude is one some engine holds otherwise than Python: beyond LARGEST_NUMBER
    (infinite included), or a denormal below SMALLEST_NUMBER (NaN, a blank, is held)."""
    with np.errstate(invalid="ignore"):
        return (magnitude > LARGEST_NUMBER) | ((magnitude < SMALLEST_NUMBER) & (magnitude > 0))


def as_numbers(values: pd.Series, *, source: str = "the data") -> pd.Series:
    """The column as numbers, blanks as NaN; a DataError names the first value that is not a number every engine
    holds as Python does (`check_numbers`). Only an empty cell (or a blank marker, read as one) is blank."""
    column = values.name
    if pd.api.types.is_bool_dtype(values):
        return values.astype("float64")
    if pd.api.types.is_numeric_dtype(values):
        return check_numbers(values, source=source)
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        raise DataError(
            f"{source}: column {column} must be numeric, but {line_of(values, position)} holds "
            f"{shown(values.iloc[position])}; fix that value, or name it a blank marker (a schema's blank)"
        )
    return check_numbers(numbers, source=source, shown_as=values)


def check_numbers(values: pd.Series, *, source: str = "the data", shown_as: pd.Series | None = None) -> pd.Series:
    """`values` unchanged when each number in it is one every engine holds as Python does; a DataError names the
    column, the value and its line otherwise: infinite (no cell holds one), beyond ±1e100 (sums of squares
    overflow) or a denormal below 2.2e-308 (which Gnumeric reads as 0)."""
    if pd.api.types.is_bool_dtype(values) or not (pd.api.types.is_numeric_dtype(values) or values.dtype == object):
        return values
    if values.dtype == object:
        numbers = values.map(lambda v: float(v) if isinstance(v, (int, float, np.number)) and not isinstance(v, bool) else 0.0)
        magnitude = np.abs(numbers.to_numpy(dtype=np.float64))
    else:
        with np.errstate(over="ignore"):
            magnitude = np.abs(values.to_numpy(dtype=np.float64, na_value=np.nan))
    bad = unheld_numbers(magnitude)
    if bad.any():
        position = int(bad.argmax())
        value = (shown_as if shown_as is not None else values).iloc[position]
        size = magnitude[position]
        why = (
            "not a finite number" if np.isinf(size)
            else f"beyond ±{LARGEST_NUMBER:g}, where sums of squares overflow" if size > LARGEST_NUMBER
            else "a denormal number below 2.2e-308, which spreadsheet engines hold as 0"
        )
        raise DataError(
            f"{source}: column {values.name} holds {shown(value)} on {line_of(values, position)}, {why}; "
            "rescale the column or blank that value"
        )
    return values
