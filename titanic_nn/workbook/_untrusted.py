"""Opening an .xlsx that may be hostile: every zip part's expanded size bounded, no DTD in any XML part, no macros.

`read_workbook`, `import` and `verify` read workbooks a person (or anyone) may have edited, so every
workbook, and every copy a spreadsheet engine writes back, is opened here and nowhere else:

- the zip's parts are counted and each part's expanded size is bounded, absolutely and relative to its
  compressed size (a zip bomb is refused before a byte is inflated: zipfile never inflates a part
  beyond the size the archive declares for it);
- every XML part is parsed in full with expat, with document type declarations refused: without a DTD
  there are no entities, so no entity expansion ("billion laughs") and no external entity (XXE), and
  a part that is not well-formed is named before openpyxl reads it;
- macro-enabled content (a VBA project, macro sheets, ActiveX controls) is refused: titanic-nn writes none;

then openpyxl reads the same open file, read-only. Errors are DataErrors naming the file, the part
and the fix.
"""

from __future__ import annotations

import os
import warnings
import zipfile
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterator
from xml.parsers import expat

from .._files import open_regular, size_text
from ..errors import DataError, TitanicNNError

__all__ = [
    "open_workbook", "check_archive", "MAX_PARTS", "MAX_PART_BYTES", "MAX_TOTAL_BYTES", "MAX_RATIO", "READ_ERRORS",
]

MAX_PARTS = 10_000  # a workbook titanic-nn writes has about 20
MAX_PART_BYTES = 4 << 30  # 4 GiB expanded, as Apache POI allows a part (a full-height sheet is ~1 GB)
MAX_TOTAL_BYTES = 16 << 30  # every part together
MAX_FILE_BYTES = 16 << 30  # the .xlsx file itself
# Expanded over compressed size: XML sheets shrink 5 to 20 times; a part above this ratio is a zip
# bomb (Apache POI refuses the same ratio). Parts expanding to under RATIO_FROM bytes are exempt.
MAX_RATIO = 100
RATIO_FROM = 1 << 20
CHUNK = 1 << 20
BOOK_PART, BOOK_RELS, CONTENT_TYPES = "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "[Content_Types].xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
XML_SUFFIXES = (".xml", ".rels", ".vml")
MACRO_PARTS = ("vbaproject.bin", "xl/macrosheets/", "xl/activex/", "xl/dialogsheets/")
MACRO_CONTENT_TYPES = ("macroenabled", "vbaproject", "activex")

# What openpyxl, zipfile and the XML parsers raise on a damaged file, which a reader turns into a DataError.
READ_ERRORS = (
    zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, TypeError,
    LookupError,  # KeyError and IndexError, and the unknown encoding an XML declaration can name
    AttributeError, SyntaxError, expat.ExpatError, UnicodeError, OverflowError, NotImplementedError,
)


def _refuse(path: Path, problem: str) -> DataError:
    return DataError(f"{path}: {problem}")


def check_archive(handle: IO[bytes], path: str | os.PathLike) -> None:
    """Prove the open file `handle` is an .xlsx that can be read safely, or raise a DataError saying why not."""
    path = Path(path)
    fix = "give a workbook written by `titanic-nn fit` or `titanic-nn workbook`, or save it again as .xlsx"
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise _refuse(path, f"is not an .xlsx workbook (not a readable zip archive: {_said(exc)}); {fix}") from exc
    with archive:
        parts = archive.infolist()
        if len(parts) > MAX_PARTS:
            raise _refuse(path, f"holds {len(parts):,} parts, more than the {MAX_PARTS:,} a workbook may have; {fix}")
        total = 0
        for part in parts:
            _checksize_text(path, part, fix)
            total += part.file_size
            if total > MAX_TOTAL_BYTES:
                raise _refuse(
                    path, f"expands to more than {size_text(MAX_TOTAL_BYTES)} in all, more than a workbook may; {fix}"
                )
            lowered = part.filename.lower()
            if any(marker in lowered for marker in MACRO_PARTS):
                raise _refuse(
                    path, f"holds macro-enabled content ({part.filename}); titanic-nn writes none and runs none: {fix} "
                    "(not .xlsm)",
                )
        # the workbook's own parts first, so a sheet's part can then be named by its sheet in a message
        xml = [p for p in parts if p.filename.lower().endswith(XML_SUFFIXES)]
        xml.sort(key=lambda p: p.filename not in (BOOK_PART, BOOK_RELS))
        sheets: dict[str, str] = {}
        for part in xml:
            _check_xml(archive, part, path, fix, sheets.get(part.filename))
            if part.filename == BOOK_RELS:
                sheets = _sheet_parts(archive)
        macro_type = _macro_content_type(archive)
        if macro_type:
            raise _refuse(
                path, f"holds macro-enabled content (the content type {macro_type}); titanic-nn writes none and runs "
                f"none: {fix} (not .xlsm)",
            )


def _checksize_text(path: Path, part: zipfile.ZipInfo, fix: str) -> None:
    if part.file_size > MAX_PART_BYTES:
        raise _refuse(
            path, f"part {part.filename} expands to {size_text(part.file_size)}, more than the {size_text(MAX_PART_BYTES)} a "
            f"part may; {fix}",
        )
    if part.file_size >= RATIO_FROM and part.file_size > MAX_RATIO * max(part.compress_size, 1):
        raise _refuse(
            path, f"part {part.filename} expands {part.file_size / max(part.compress_size, 1):,.0f} times "
            f"({size_text(part.compress_size)} to {size_text(part.file_size)}), more than the {MAX_RATIO} times a workbook's "
            f"parts do: it looks like a zip bomb; {fix}",
        )


class _Refused(Exception):
    """Raised inside expat's handlers: the part declares a DTD."""


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name by part name, from workbook.xml and its relationships (both already checked), for messages."""
    import xml.etree.ElementTree as ET

    try:
        book = ET.fromstring(archive.read(BOOK_PART))
        rels = ET.fromstring(archive.read(BOOK_RELS))
    except (KeyError, *READ_ERRORS):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    found = {}
    for sheet in book.iter(f"{{{MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{RELATIONSHIPS}}}id"), "").lstrip("/")
        found[target if target.startswith("xl/") else f"xl/{target}"] = sheet.get("name", "")
    return found


def _macro_content_type(archive: zipfile.ZipFile) -> str | None:
    """The first content type of [Content_Types].xml (already checked) that is macro-enabled, or None."""
    import xml.etree.ElementTree as ET

    try:
        types = ET.fromstring(archive.read(CONTENT_TYPES))
    except (KeyError, *READ_ERRORS):
        return None  # no content types at all: openpyxl refuses such a file
    for entry in types:
        content_type = entry.get("ContentType", "")
        if any(marker in content_type.lower() for marker in MACRO_CONTENT_TYPES):
            return content_type
    return None


def _check_xml(archive: zipfile.ZipFile, part: zipfile.ZipInfo, path: Path, fix: str, sheet: str | None) -> None:
    """Parse one XML part in full with expat, refusing any document type declaration (so any entity)."""
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: Any) -> None:
        raise _Refused()

    name = part.filename if sheet is None else f"{part.filename} (sheet {sheet})"
    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse
    try:
        with archive.open(part) as stream:
            while chunk := stream.read(CHUNK):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _Refused:
        raise _refuse(
            path, f"part {name} carries a document type declaration (<!DOCTYPE ...>), which can define "
            "entities that expand without bound or read other files; Excel, LibreOffice and titanic-nn never write "
            f"one: {fix}",
        ) from None
    except expat.ExpatError as exc:
        raise _refuse(
            path, f"part {name} is not well-formed XML ({expat.ErrorString(exc.code)} at line {exc.lineno}, "
            f"column {exc.offset + 1}); {fix}",
        ) from None
    except LookupError as exc:  # expat's word for an encoding it does not know, e.g. encoding="U-F-8"
        raise _refuse(path, f"part {name} declares an encoding that is not known ({_said(exc)}); {fix}") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
        raise _refuse(path, f"part {name} is damaged ({_said(exc)}); {fix}") from exc


def _said(exc: BaseException) -> str:
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__




@contextmanager
def open_workbook(path: str | os.PathLike, *, formulas: bool = False) -> Iterator[Any]:
    """An openpyxl read-only workbook of `path` (its cached values; with `formulas`, its formulas and values as
    written), checked by `check_archive` first.

    What the `with` block raises while reading a damaged file (openpyxl reads lazily) comes out as a
    DataError naming the file; the project's own errors pass through.
    """
    import openpyxl

    path = Path(path)
    handle = open_regular(path, what="an .xlsx workbook", limit=MAX_FILE_BYTES)
    with handle:
        check_archive(handle, path)
        handle.seek(0)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # openpyxl's notes on other writers' styles and extensions
                book = openpyxl.load_workbook(handle, read_only=True, data_only=not formulas)
        except TitanicNNError:
            raise
        except READ_ERRORS as exc:
            raise DataError(f"{path}: cannot be read as an .xlsx workbook ({_said(exc)}); write the workbook again") from exc
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                yield book
        except TitanicNNError:
            raise
        except READ_ERRORS as exc:
            raise DataError(f"{path}: is damaged: it cannot be read ({_said(exc)}); write the workbook again") from exc
        finally:
            book.close()
