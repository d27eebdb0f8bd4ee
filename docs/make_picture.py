"""Renders a sheet of a workbook as a person sees it, with LibreOffice: the README's picture of the shipped nnet sheet.

    python docs/make_picture.py [--book workbooks/titanic.xlsx] [--sheet nnet] [--area A1:AH18] [--out docs/workbook.png]

A copy of the workbook holding only the sheet, its print area cut to `--area` on one landscape page
with grid lines and headings, is printed to PDF by LibreOffice headless (a throwaway profile) and the
page turned into PNG by pdftoppm (Debian's poppler-utils).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

import openpyxl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", type=Path, default=Path("workbooks/titanic.xlsx"))
    parser.add_argument("--sheet", default="nnet")
    parser.add_argument("--area", default="A1:AH18")
    parser.add_argument("--out", type=Path, default=Path("docs/workbook.png"))
    parser.add_argument("--dpi", type=int, default=250)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        book = openpyxl.load_workbook(args.book)
        for name in list(book.sheetnames):
            if name != args.sheet:
                del book[name]
        sheet = book[args.sheet]
        sheet.print_area = args.area
        sheet.print_title_rows = None
        sheet.print_options.gridLines = sheet.print_options.headings = True
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = sheet.page_setup.fitToHeight = 1
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
        copy = folder / f"{args.sheet}.xlsx"
        book.save(copy)
        subprocess.run(
            ["soffice", f"-env:UserInstallation={(folder / 'profile').as_uri()}", "--headless", "--convert-to", "pdf",
             "--outdir", str(folder), str(copy)], check=True, capture_output=True, timeout=180,
        )
        pdf = str(folder / f"{args.sheet}.pdf")
        # a grey render first, to find the printed area on the page and crop the picture to it
        subprocess.run(["pdftoppm", "-gray", "-r", str(args.dpi), "-singlefile", pdf, str(folder / "grey")],
                       check=True, capture_output=True, timeout=60)
        left, top, width, height = _ink_box((folder / "grey.pgm").read_bytes(), margin=8)
        subprocess.run(
            ["pdftoppm", "-png", "-r", str(args.dpi), "-singlefile", "-x", str(left), "-y", str(top), "-W", str(width),
             "-H", str(height), pdf, str(folder / "page")], check=True, capture_output=True, timeout=60,
        )
        shutil.copyfile(folder / "page.png", args.out)
    print(f"wrote {args.out}")


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
