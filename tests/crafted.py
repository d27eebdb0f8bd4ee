"""Crafted workbooks for the hostile-input tests: a valid workbook's zip parts rewritten, its metadata replaced."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
import zlib
from pathlib import Path
from typing import Any, Callable
from xml.sax.saxutils import escape

CHUNK = 32_000


def parts(path: Path) -> dict[str, bytes]:
    """Every part of the zip, by name, in the archive's order."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_parts(path: Path, contents: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return path


def sheet_part(contents: dict[str, bytes], sheet: str) -> str:
    """The part name of the sheet called `sheet` (through workbook.xml and its relationships)."""
    book = contents["xl/workbook.xml"].decode()
    found = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', book)
    assert found, sheet
    rels = contents["xl/_rels/workbook.xml.rels"].decode()
    target = re.search(rf'<Relationship Id="{found.group(1)}"[^>]*Target="([^"]+)"', rels)
    if target is None:  # attributes in the other order
        target = re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{found.group(1)}"', rels)
    name = target.group(1).lstrip("/")
    return name if name.startswith("xl/") else f"xl/{name}"


def metadata_sheet(text: str) -> bytes:
    """The hidden sheet's XML holding `text` in chunks, as inline strings in column A."""
    rows = "".join(
        f'<row r="{i + 1}"><c r="A{i + 1}" t="inlineStr"><is><t xml:space="preserve">{escape(text[k:k + CHUNK])}</t></is></c></row>'
        for i, k in enumerate(range(0, max(len(text), 1), CHUNK))
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def with_metadata(source: Path, target: Path, change: Callable[[Any], Any] | str) -> Path:
    """A copy of `source` whose hidden sheet holds `change(description)` as JSON, or the text `change` itself."""
    from titanic_nn.workbook import read_contents

    contents = parts(source)
    if isinstance(change, str):
        text = change
    else:
        description = json.loads(json.dumps(read_contents(source).description))
        changed = change(description)
        text = json.dumps(description if changed is None else changed)
    contents[sheet_part(contents, "_titanic_nn")] = metadata_sheet(text)
    return write_parts(target, contents)


def with_part(source: Path, target: Path, name: str, change: Callable[[bytes], bytes] | bytes) -> Path:
    """A copy of `source` with part `name` replaced (or added), or changed by `change(old bytes)`."""
    contents = parts(source)
    contents[name] = change if isinstance(change, bytes) else change(contents.get(name, b""))
    return write_parts(target, contents)


def with_sheet(source: Path, target: Path, sheet: str, change: Callable[[bytes], bytes]) -> Path:
    contents = parts(source)
    return with_part(source, target, sheet_part(contents, sheet), change)


def without_sheet(source: Path, target: Path, sheet: str) -> Path:
    """A copy of `source` with sheet `sheet` gone: its entry in workbook.xml, its relationship and its part."""
    contents = parts(source)
    part = sheet_part(contents, sheet)
    book = contents["xl/workbook.xml"].decode()
    book = re.sub(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*/>', "", book)
    book = re.sub(r"<definedNames>.*</definedNames>", "", book, flags=re.S)  # names may point at the sheet
    contents["xl/workbook.xml"] = book.encode()
    del contents[part]
    return write_parts(target, contents)


DTD_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>\n'
)
DTD_XXE = '<?xml version="1.0"?>\n<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'


def with_dtd(xml: bytes, dtd: str, entity: str) -> bytes:
    """The part with a DTD before its root and `entity` referenced in its first inline string or value."""
    body = re.sub(rb"^<\?xml[^>]*\?>\s*", b"", xml)
    body = re.sub(rb"<v>[^<]*</v>", f"<v>&{entity};</v>".encode(), body, count=1)
    return dtd.encode() + body


def with_bomb(source: Path, target: Path, name: str = "xl/media/bomb.xml", mebibytes: int = 2048) -> Path:
    """A copy of `source` with a part that expands to `mebibytes` MiB of spaces from about 1 KB each: an honest
    zip bomb (its sizes and CRC are true), built in a second.

    Each MiB deflates to the same independent block (the dictionary reset after it), so the block is
    computed once and written `mebibytes` times; zipfile still computes the true CRC of what it stands for.
    """
    shutil.copy(source, target)
    chunk = b" " * (1 << 20)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = deflate.compress(chunk) + deflate.flush(zlib.Z_FULL_FLUSH)

    class Repeating:
        def compress(self, data: bytes) -> bytes:
            assert data is chunk
            return block

        def flush(self) -> bytes:
            return zlib.compressobj(9, zlib.DEFLATED, -15).flush()

    with zipfile.ZipFile(target, "a", zipfile.ZIP_DEFLATED) as archive:
        with archive.open(name, "w", force_zip64=True) as out:
            out._compressor = Repeating()
            for _ in range(mebibytes):
                out.write(chunk)
    return target
