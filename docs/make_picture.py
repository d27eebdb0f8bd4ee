"""Renders part of a sheet as a person sees it, with LibreOffice: the README's pictures of the shipped workbook.

    python docs/make_picture.py [--book workbooks/titanic.xlsx] [--sheet nnet] [--area A1:AI18] [--out docs/workbook.png]
    python docs/make_picture.py --sheet train_nnet --area A1:AM26 --out docs/training.png

A copy of the workbook is changed in its XML only (so charts and array formulas stay as written): the
sheet's print area cut to `--area` on one landscape page with grid lines and headings. LibreOffice
headless (a throwaway profile) prints it to PDF, and pdftoppm (Debian's poppler-utils) turns the
sheet's page into PNG, cropped to what is printed on it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=Path("workbooks/titanic.xlsx"))
    parser.add_argument("--sheet", default="nnet")
    parser.add_argument("--area", default="A1:AI18")
    parser.add_argument("--out", type=Path, default=Path("docs/workbook.png"))
    parser.add_argument("--dpi", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        whole, before = folder / "picture.xlsx", folder / "before.xlsx"
        _printable(args.book, whole, args.sheet, args.area, keep_after=True)
        _printable(args.book, before, args.sheet, args.area, keep_after=False)
        for book in (whole, before):
            subprocess.run(
                ["soffice", f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
                 "--outdir", str(folder), str(book)], check=True, capture_output=True, timeout=300,
            )
        # LibreOffice prints every sheet, hidden ones too: the sheet's page follows the pages of the sheets before it
        page = str(_pages(folder / "before.pdf") + 1)
        pdf = str(folder / "picture.pdf")
        # a grey render first, to find the printed area on the page and crop the picture to it
        subprocess.run(["pdftoppm", "-gray", "-r", str(args.dpi), "-f", page, "-l", page, "-singlefile", pdf, str(folder / "grey")],
                       check=True, capture_output=True, timeout=60)
        left, top, width, height = _ink_box((folder / "grey.pgm").read_bytes(), margin=8)
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(args.dpi), "-f", page, "-l", page, "-singlefile", "-x", str(left), "-y", str(top),
             "-W", str(width), "-H", str(height), pdf, str(folder / "page")], check=True, capture_output=True, timeout=60,
        )
        shutil.copyfile(folder / "page.png", args.out)
    print(f"wrote {args.out}")


def _pages(pdf: Path) -> int:
    if not pdf.exists():
        return 0  # nothing to print: no sheet before it has content
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))


def _printable(source: Path, target: Path, sheet: str, area: str, keep_after: bool) -> None:
    """A copy in which `sheet` prints `area` on one landscape page; with `keep_after` False, it and every
    sheet after it are emptied, so the copy prints only the pages before the sheet's."""
    with zipfile.ZipFile(source) as old:
        parts = {name: old.read(name) for name in old.namelist()}
    book = parts["xl/workbook.xml"].decode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    names = re.findall(r'<sheet name="([^"]+)"', book)
    index = names.index(sheet)
    if not keep_after:
        for other in names[index:]:
            part_name = _sheet_part(book, rels, other)
            xml = re.sub(r"<sheetData>.*</sheetData>", "<sheetData/>", parts[part_name].decode("utf-8"), flags=re.S)
            parts[part_name] = re.sub(r'<drawing r:id="[^"]+"/>', "", xml).encode("utf-8")
    first, last = area.split(":")
    reference = "$" + re.sub(r"([A-Z]+)(\d+)", r"\1$\2", first) + ":$" + re.sub(r"([A-Z]+)(\d+)", r"\1$\2", last)
    print_area = f'<definedName name="_xlnm.Print_Area" localSheetId="{index}">\'{sheet}\'!{reference}</definedName>'
    book = re.sub(rf'<definedName name="_xlnm\.Print_(?:Area|Titles)" localSheetId="{index}">[^<]*</definedName>', "", book)
    book = book.replace("<definedNames>", "<definedNames>" + print_area, 1) if "<definedNames>" in book else book.replace(
        "</sheets>", f"</sheets><definedNames>{print_area}</definedNames>", 1
    )
    parts["xl/workbook.xml"] = book.encode("utf-8")
    part = _sheet_part(book, rels, sheet)
    xml = parts[part].decode("utf-8")
    xml = re.sub(r"<pageSetup[^>]*/>", '<pageSetup orientation="landscape" fitToWidth="1" fitToHeight="1"/>', xml)
    if "<pageSetup" not in xml:
        xml = xml.replace("</sheetData>", '</sheetData><pageSetup orientation="landscape" fitToWidth="1" fitToHeight="1"/>', 1)
    if "fitToPage" not in xml:
        xml = xml.replace("<dimension", '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr><dimension', 1)
    xml = re.sub(r"<printOptions[^>]*/>", "", xml)
    xml = xml.replace("<pageMargins", '<printOptions headings="1" gridLines="1"/><pageMargins', 1)
    parts[part] = xml.encode("utf-8")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in parts.items():
            new.writestr(name, data)


def _sheet_part(book: str, rels: str, sheet: str) -> str:
    """The zip part of the sheet named `sheet`, through the workbook's relationships."""
    rid = re.findall(r'<sheet name="' + re.escape(sheet) + r'"[^>]*r:id="([^"]+)"', book)[0]
    return "xl/" + re.findall(r'<Relationship Id="' + rid + r'"[^>]*Target="([^"]+)"', rels)[0]


def _ink_box(pgm: bytes, margin: int) -> tuple[int, int, int, int]:
    """(left, top, width, height) of the non-white pixels of a binary (P5) greymap, with a margin."""
    fields, position = [], 0
    while len(fields) < 4:  # magic, width, height, maxval, separated by whitespace
        while pgm[position : position + 1].isspace():
            position += 1
        end = position
        while not pgm[end : end + 1].isspace():
            end += 1
        fields.append(pgm[position:end])
        position = end
    width, height = int(fields[1]), int(fields[2])
    pixels = pgm[position + 1 : position + 1 + width * height]
    rows = [y for y in range(height) if min(pixels[y * width : (y + 1) * width]) < 200]
    columns = [x for x in range(width) if min(pixels[x::width][rows[0] : rows[-1] + 1]) < 200]
    left, top = max(columns[0] - margin, 0), max(rows[0] - margin, 0)
    return left, top, min(columns[-1] + margin, width - 1) - left + 1, min(rows[-1] + margin, height - 1) - top + 1


if __name__ == "__main__":
    main()
