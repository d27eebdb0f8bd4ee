"""Every workbook case's zip keeps the rules that Excel enforces and LibreOffice and openpyxl forgive."""

from __future__ import annotations

import posixpath
import re
import xml.etree.ElementTree as ET
import zipfile
from collections import Counter
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable, Iterator

import pytest

import titanic_nn as tn
from titanic_nn import excel

from workbook_cases import lesson_fits, loan_case, notebook_fits, other_fits, tanh_fits

SHIPPED = Path(__file__).resolve().parent.parent / "workbooks" / "titanic.xlsx"
CASES = ["lesson", "others", "notebook", "tanh", "loans", "trained", "shipped"]

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIP_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
TYPES = "{http://schemas.openxmlformats.org/package/2006/content-types}"
CONTENT_TYPES = "[Content_Types].xml"

# CT_Worksheet's xsd:sequence in the transitional schema (ECMA-376 Part 1, sml.xsd); drawingHF is the one
# later editions add. Excel refuses a sheet whose children break this order; LibreOffice and openpyxl do not.
WORKSHEET_CHILDREN = (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetData", "sheetCalcPr", "sheetProtection",
    "protectedRanges", "scenarios", "autoFilter", "sortState", "dataConsolidate", "customSheetViews", "mergeCells",
    "phoneticPr", "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions", "pageMargins",
    "pageSetup", "headerFooter", "rowBreaks", "colBreaks", "customProperties", "cellWatches", "ignoredErrors",
    "smartTags", "drawing", "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst",
)
REPEATABLE = {"cols", "conditionalFormatting"}  # maxOccurs="unbounded"; every other child at most once

_CELL = re.compile(r"([A-Z]{1,3})([1-9][0-9]*)")  # as in an r or ref attribute: never a $
# xsd:double's lexical space less NaN, INF and -INF, which Excel refuses in a <v> (and Python's float() would take,
# with "infinity", "1_000" and surrounding blanks besides)
_NUMBER = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?")


# -- the package, read with zipfile and ElementTree -------------------------------------------------


@dataclass
class Worksheet:
    part: str
    name: str
    root: ET.Element

    def at(self, place: str = "") -> str:
        """How a problem names where it is: the part, the sheet and the cell or row."""
        return f"{self.part} ({self.name}){' ' + place if place else ''}"

    def rows(self) -> list[ET.Element]:
        data = self.root.find(f"{MAIN}sheetData")
        return [] if data is None else data.findall(f"{MAIN}row")

    def cells(self) -> Iterator[ET.Element]:
        for row in self.rows():
            yield from row.findall(f"{MAIN}c")


class Package:
    """An .xlsx's parts as bytes; each XML part is parsed once, when a check first needs it."""

    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts
        self._parsed: dict[str, ET.Element] = {}

    @classmethod
    def read(cls, path: Path) -> Package:
        with zipfile.ZipFile(path) as archive:
            return cls({name: archive.read(name) for name in archive.namelist()})

    def xml(self, name: str) -> ET.Element:
        if name not in self._parsed:
            self._parsed[name] = ET.fromstring(self.parts[name])
        return self._parsed[name]

    @cached_property
    def sheet_parts(self) -> list[tuple[str, str]]:
        """(sheet name, part) in workbook order, each part found through the workbook's relationships."""
        targets = {rel.get("Id"): rel.get("Target") for rel in self.xml("xl/_rels/workbook.xml.rels")}
        sheets = []
        for sheet in self.xml("xl/workbook.xml").iter(f"{MAIN}sheet"):
            target = targets[sheet.get(RELATIONSHIP_ID)]
            part = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
            sheets.append((sheet.get("name"), part))
        return sheets

    @cached_property
    def worksheets(self) -> list[Worksheet]:
        return [Worksheet(part, name, self.xml(part)) for name, part in self.sheet_parts]

    def part_of(self, sheet_name: str) -> str:
        return dict(self.sheet_parts)[sheet_name]


def _position(reference: str | None) -> tuple[int, int] | None:
    """(row, 0-based column) of an A1 reference within Excel's grid; None for anything else."""
    match = _CELL.fullmatch(reference or "")
    if match is None:
        return None
    row, col = int(match.group(2)), excel.column_index(match.group(1))
    return (row, col) if row <= excel.MAX_ROWS and col < excel.MAX_COLUMNS else None


def _area(reference: str | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The top-left and bottom-right (row, column) of "A1" or "A1:B2"; None when either end is no cell."""
    ends = [_position(end) for end in (reference or "").split(":")]
    if not 1 <= len(ends) <= 2 or None in ends:
        return None
    rows, cols = [row for row, _ in ends], [col for _, col in ends]
    return (min(rows), min(cols)), (max(rows), max(cols))


def _a1(position: tuple[int, int]) -> str:
    return f"{excel.column_letter(position[1])}{position[0]}"


def _formulas(book: Package) -> Iterator[tuple[str, str]]:
    """(where, formula text) of every cell formula and every defined name's formula."""
    for sheet in book.worksheets:
        for cell in sheet.cells():
            formula = cell.find(f"{MAIN}f")
            if formula is not None and formula.text:
                yield sheet.at(cell.get("r")), formula.text
    for name in book.xml("xl/workbook.xml").iter(f"{MAIN}definedName"):
        yield f"xl/workbook.xml name {name.get('name')}", name.text or ""


# -- one check per rule: each returns its problems, naming the part and the cell ------------------------


def check_element_order(book: Package) -> list[str]:
    """A worksheet's child elements in CT_Worksheet's order, each at most once unless repeatable, sheetData present."""
    problems = []
    order = {name: index for index, name in enumerate(WORKSHEET_CHILDREN)}
    for sheet in book.worksheets:
        last = -1
        for child in sheet.root:
            name = child.tag.removeprefix(MAIN)
            if name not in order:
                problems.append(f"{sheet.at()}: <{name}> is no worksheet element")
            elif order[name] < last:
                problems.append(f"{sheet.at()}: <{name}> after <{WORKSHEET_CHILDREN[last]}>")
            elif order[name] == last and name not in REPEATABLE:
                problems.append(f"{sheet.at()}: a second <{name}>")
            else:
                last = order[name]
        if sheet.root.find(f"{MAIN}sheetData") is None:
            problems.append(f"{sheet.at()}: no <sheetData>")
    return problems


def check_row_order(book: Package) -> list[str]:
    """Rows numbered within the sheet, ascending and each once (a row with no r is the one after the last)."""
    problems = []
    for sheet in book.worksheets:
        previous = 0
        for row in sheet.rows():
            text = row.get("r")
            number = previous + 1 if text is None else int(text) if text.isdigit() else None
            if number is None or not 1 <= number <= excel.MAX_ROWS:
                problems.append(f"{sheet.at()}: a row numbered {text!r}")
                continue
            if number == previous:
                problems.append(f"{sheet.at(f'row {number}')}: a second time")
            elif number < previous:
                problems.append(f"{sheet.at(f'row {number}')}: after row {previous}")
            previous = max(previous, number)
    return problems


def check_cell_order(book: Package) -> list[str]:
    """Each cell's r a cell of its own row; cells in column order, each once (a cell with no r follows the last)."""
    problems = []
    for sheet in book.worksheets:
        previous_row = 0
        for row in sheet.rows():
            text = row.get("r")
            number = int(text) if text and text.isdigit() else previous_row + 1
            previous_row, last = number, -1
            for cell in row.findall(f"{MAIN}c"):
                reference = cell.get("r")
                position = (number, last + 1) if reference is None else _position(reference)
                if position is None:
                    problems.append(f"{sheet.at(f'row {number}')}: a cell at {reference!r}")
                    continue
                if position[0] != number:
                    problems.append(f"{sheet.at(reference)}: in row {number}")
                if position[1] == last:
                    problems.append(f"{sheet.at(_a1(position))}: a second time")
                elif position[1] < last:
                    problems.append(f"{sheet.at(_a1(position))}: after {_a1((number, last))}")
                last = max(last, position[1])
    return problems


def check_array_formulas(book: Package) -> list[str]:
    """Each array formula at the top-left of its ref, every cell of the ref present, no other formula inside it."""
    problems = []
    for sheet in book.worksheets:
        present, formulas, arrays = set(), set(), []
        for cell in sheet.cells():
            position = _position(cell.get("r"))
            present.add(position)
            formula = cell.find(f"{MAIN}f")
            if formula is None:
                continue
            formulas.add(position)
            if formula.get("t") == "array":
                ref = formula.get("ref")
                area = _area(ref)
                if area is None:
                    problems.append(f"{sheet.at(cell.get('r'))}: an array formula with the ref {ref!r}")
                elif area[0] != position:
                    problems.append(
                        f"{sheet.at(cell.get('r'))}: an array formula whose ref {ref} starts at {_a1(area[0])}"
                    )
                else:
                    arrays.append((position, ref, area))
        for anchor, ref, ((top, left), (bottom, right)) in arrays:
            for row in range(top, bottom + 1):
                for col in range(left, right + 1):
                    if (row, col) not in present:
                        problems.append(f"{sheet.at(_a1((row, col)))}: missing from the array {ref}")
                    elif (row, col) != anchor and (row, col) in formulas:
                        problems.append(f"{sheet.at(_a1((row, col)))}: a formula inside the array {ref}")
    return problems


def check_style_indexes(book: Package) -> list[str]:
    """Every cell's and row's s, and every column's style, an index into styles.xml's cellXfs."""
    cell_xfs = book.xml("xl/styles.xml").find(f"{MAIN}cellXfs")
    count = 0 if cell_xfs is None else len(cell_xfs.findall(f"{MAIN}xf"))
    problems = []

    def check(where: str, style: str | None) -> None:
        if style is not None and not (style.isdigit() and int(style) < count):
            problems.append(f"{where}: style {style}, but cellXfs has {count}")

    for sheet in book.worksheets:
        for col in sheet.root.iter(f"{MAIN}col"):
            check(sheet.at(f"columns {col.get('min')}-{col.get('max')}"), col.get("style"))
        for row in sheet.rows():
            check(sheet.at(f"row {row.get('r')}"), row.get("s"))
            for cell in row.findall(f"{MAIN}c"):
                check(sheet.at(cell.get("r")), cell.get("s"))
    return problems


def check_content_types(book: Package) -> list[str]:
    """A content type, by Override or by its extension's Default, for every part; no Override for a missing part."""
    types = book.xml(CONTENT_TYPES)
    # OPC compares part names and extensions ignoring case
    defaults = {d.get("Extension").lower() for d in types.iter(f"{TYPES}Default")}
    overrides = {o.get("PartName").lower(): o.get("PartName") for o in types.iter(f"{TYPES}Override")}
    problems = []
    for name in book.parts:
        if name == CONTENT_TYPES or name.endswith("/"):
            continue
        extension = name.rpartition(".")[2].lower() if "." in posixpath.basename(name) else None
        if f"/{name}".lower() not in overrides and extension not in defaults:
            problems.append(f"{name}: no content type (no Override, and no Default for its extension)")
    in_zip = {f"/{name}".lower() for name in book.parts}
    for lowered, part_name in overrides.items():
        if lowered not in in_zip:
            problems.append(f"{CONTENT_TYPES}: an Override for {part_name}, which is not in the zip")
    return problems


def check_defined_names(book: Package) -> list[str]:
    """Defined names unique in their scope, ignoring case as Excel does; every localSheetId one of the sheets."""
    n_sheets = len(book.sheet_parts)
    scopes: Counter[tuple[str | None, str]] = Counter()
    problems = []
    for defined in book.xml("xl/workbook.xml").iter(f"{MAIN}definedName"):
        name, scope = defined.get("name"), defined.get("localSheetId")
        if scope is not None and not (scope.isdigit() and int(scope) < n_sheets):
            problems.append(f"xl/workbook.xml: {name}'s localSheetId {scope} is not one of the {n_sheets} sheets")
        scopes[(scope, name.lower())] += 1
        if scopes[(scope, name.lower())] == 2:
            where = "the workbook's scope" if scope is None else f"the scope of sheet {scope}"
            problems.append(f"xl/workbook.xml: the name {name} more than once in {where}")
    return problems


def check_numeric_values(book: Package) -> list[str]:
    """A number cell's <v> a finite decimal number: no NaN, INF or other text."""
    problems = []
    for sheet in book.worksheets:
        for cell in sheet.cells():
            value = cell.find(f"{MAIN}v")
            if cell.get("t", "n") == "n" and value is not None and not _NUMBER.fullmatch(value.text or ""):
                problems.append(f"{sheet.at(cell.get('r'))}: <v>{value.text}</v> in a number cell")
    return problems


def check_formula_lengths(book: Package) -> list[str]:
    """Every formula, in a cell or a defined name, at most 8,192 characters with its "=" (as excel.checked counts)."""
    return [
        f"{where}: a formula of {len(text) + 1:,} characters, its = counted"
        for where, text in _formulas(book)
        if len(text) + 1 > excel.MAX_FORMULA_CHARS
    ]


def check_functions(book: Package) -> list[str]:
    """Every function a formula calls, cells' and defined names', in excel.FUNCTIONS: none that needs `_xlfn.`."""
    problems = []
    for where, text in _formulas(book):
        unknown = excel.functions_called(text) - excel.FUNCTIONS
        if unknown:
            problems.append(f"{where}: calls {', '.join(sorted(unknown))}, not in excel.FUNCTIONS")
    return problems


def check_no_xlfn_prefix(book: Package) -> list[str]:
    """No `_xlfn.` in any part: Excel's mark of a function newer than Excel 2007, which older readers cannot compute."""
    return [f"{name}: holds _xlfn." for name, data in book.parts.items() if b"_xlfn." in data.lower()]


CHECKS = [
    check_element_order, check_row_order, check_cell_order, check_array_formulas, check_style_indexes,
    check_content_types, check_defined_names, check_numeric_values, check_formula_lengths, check_functions,
    check_no_xlfn_prefix,
]


# -- broken copies: the lesson's workbook with one part rewritten -------------------------------------------


def _sub(pattern: str, replacement: str | Callable[[re.Match], str]) -> Callable[[str], str]:
    """A change replacing the first match of `pattern` (dots match newlines); it fails when nothing matches."""

    def change(xml: str) -> str:
        changed, n = re.subn(pattern, replacement, xml, count=1, flags=re.DOTALL)
        assert n == 1, f"the breaker's pattern {pattern!r} matches nothing"
        return changed

    return change


def _insert_before(closing: str, xml_text: str) -> Callable[[str], str]:
    return _sub(re.escape(closing), lambda _: xml_text + closing)


@dataclass(frozen=True)
class Breaker:
    check: Callable[[Package], list[str]]
    what: str
    part: str  # a sheet's name, or a part's path in the zip
    change: Callable[[str], str]
    expected: str  # a problem the check must report (or the start of one)


def _cell(reference: str) -> str:
    """A cell's whole element (no cell element nests another)."""
    return rf'<c r="{reference}"[^>]*?(?:/>|>.*?</c>)'


BREAKERS = [
    Breaker(check_element_order, "pageMargins before sheetData", "linear",
            _sub(r"(<sheetData>.*</sheetData>)(<pageMargins[^>]*/>)", r"\2\1"),
            "xl/worksheets/sheet2.xml (linear): <sheetData> after <pageMargins>"),
    Breaker(check_element_order, "a second sheetFormatPr", "linear", _sub(r"(<sheetFormatPr[^>]*/>)", r"\1\1"),
            "xl/worksheets/sheet2.xml (linear): a second <sheetFormatPr>"),
    Breaker(check_element_order, "an unknown element", "linear", _insert_before("</worksheet>", "<sheetNotes/>"),
            "xl/worksheets/sheet2.xml (linear): <sheetNotes> is no worksheet element"),
    Breaker(check_row_order, "two rows swapped", "linear",
            _sub(r'(<row r="5".*?</row>)(<row r="6".*?</row>)', r"\2\1"),
            "xl/worksheets/sheet2.xml (linear) row 5: after row 6"),
    Breaker(check_row_order, "a row twice", "linear", _sub(r'(<row r="6".*?</row>)', r"\1\1"),
            "xl/worksheets/sheet2.xml (linear) row 6: a second time"),
    Breaker(check_cell_order, "two cells swapped", "linear", _sub(f"({_cell('A5')})({_cell('B5')})", r"\2\1"),
            "xl/worksheets/sheet2.xml (linear) A5: after B5"),
    Breaker(check_cell_order, "a cell twice", "linear", _sub(f"({_cell('C5')})", r"\1\1"),
            "xl/worksheets/sheet2.xml (linear) C5: a second time"),
    Breaker(check_cell_order, "a cell in another row", "linear", _sub(r'<c r="C5"', '<c r="C6"'),
            "xl/worksheets/sheet2.xml (linear) C6: in row 5"),
    Breaker(check_array_formulas, "the array's ref above its anchor", "mmult",
            _sub(r't="array" ref="Q4:R715"', 't="array" ref="Q3:R715"'),
            "xl/worksheets/sheet4.xml (mmult) Q4: an array formula whose ref Q3:R715 starts at Q3"),
    Breaker(check_array_formulas, "a cell of the array missing", "mmult", _sub(_cell("R5"), ""),
            "xl/worksheets/sheet4.xml (mmult) R5: missing from the array Q4:R715"),
    Breaker(check_array_formulas, "a formula inside the array", "mmult", _sub(r'(<c r="R5"[^>]*>)', r"\1<f>Q5</f>"),
            "xl/worksheets/sheet4.xml (mmult) R5: a formula inside the array Q4:R715"),
    Breaker(check_style_indexes, "a cell style beyond cellXfs", "linear",
            _sub(r'<c r="A3" s="\d+"', '<c r="A3" s="999"'),
            "xl/worksheets/sheet2.xml (linear) A3: style 999, but cellXfs has"),
    Breaker(check_style_indexes, "cellXfs cut to its first xf", "xl/styles.xml",
            _sub(r'<cellXfs count="\d+">(<xf [^>]*/>).*?</cellXfs>', r'<cellXfs count="1">\1</cellXfs>'),
            "xl/worksheets/sheet2.xml (linear) A3: style "),
    Breaker(check_content_types, "no Default for .rels", CONTENT_TYPES, _sub(r'<Default Extension="rels"[^>]*/>', ""),
            "_rels/.rels: no content type (no Override, and no Default for its extension)"),
    Breaker(check_content_types, "an Override for a missing part", CONTENT_TYPES,
            _insert_before("</Types>", '<Override PartName="/xl/calcChain.xml" '
                           'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/>'),
            "[Content_Types].xml: an Override for /xl/calcChain.xml, which is not in the zip"),
    Breaker(check_defined_names, "a name twice in a sheet's scope", "xl/workbook.xml",
            _sub(r'(<definedName name="solver_adj" localSheetId="1"[^>]*>[^<]*</definedName>)', r"\1\1"),
            "xl/workbook.xml: the name solver_adj more than once in the scope of sheet 1"),
    Breaker(check_defined_names, "a name again in other letter case", "xl/workbook.xml",
            _insert_before("</definedNames>",
                           '<definedName name="SOLVER_ADJ" localSheetId="1">linear!$A$4</definedName>'),
            "xl/workbook.xml: the name SOLVER_ADJ more than once in the scope of sheet 1"),
    Breaker(check_defined_names, "a workbook name twice", "xl/workbook.xml",
            _insert_before("</definedNames>",
                           '<definedName name="rate">0.1</definedName><definedName name="Rate">0.2</definedName>'),
            "xl/workbook.xml: the name Rate more than once in the workbook's scope"),
    Breaker(check_defined_names, "a localSheetId beyond the sheets", "xl/workbook.xml",
            _sub(r'(<definedName name="solver_adj") localSheetId="1"', r'\1 localSheetId="99"'),
            "xl/workbook.xml: solver_adj's localSheetId 99 is not one of the"),
    Breaker(check_numeric_values, "NaN cached", "linear", _sub(r'(<c r="R1"[^>]*><f>[^<]*</f><v>)[^<]*', r"\1NaN"),
            "xl/worksheets/sheet2.xml (linear) R1: <v>NaN</v> in a number cell"),
    Breaker(check_numeric_values, "-INF written", "linear", _sub(r'(<c r="E2"[^>]*><v>)[^<]*', r"\1-INF"),
            "xl/worksheets/sheet2.xml (linear) E2: <v>-INF</v> in a number cell"),
    Breaker(check_numeric_values, "a number with a decimal comma", "linear",
            _sub(r'(<c r="R2"[^>]*><f>[^<]*</f><v>)[^<]*', r"\g<1>0,79"),
            "xl/worksheets/sheet2.xml (linear) R2: <v>0,79</v> in a number cell"),
    Breaker(check_formula_lengths, "a formula one character too long", "linear",
            _sub(r'(<c r="R1"[^>]*><f>)[^<]*', r"\g<1>1" + "+1" * 4_095 + "0"),
            "xl/worksheets/sheet2.xml (linear) R1: a formula of 8,193 characters, its = counted"),
    Breaker(check_formula_lengths, "a defined name's formula too long", "xl/workbook.xml",
            _sub(r'(<definedName name="solver_cvg"[^>]*>)[^<]*', r"\g<1>1" + "+1" * 4_095 + "0"),
            "xl/workbook.xml name solver_cvg: a formula of 8,193 characters, its = counted"),
    Breaker(check_functions, "a function newer than Excel 2007", "linear", _sub(r"<f>AVERAGE\(", "<f>CONCAT("),
            "xl/worksheets/sheet2.xml (linear) R1: calls CONCAT, not in excel.FUNCTIONS"),
    Breaker(check_functions, "a defined name calling one", "xl/workbook.xml",
            _sub(r'(<definedName name="solver_cvg"[^>]*>)[^<]*', r"\1_xlfn.STDEV.S(linear!$R$4:$R$715)"),
            "xl/workbook.xml name solver_cvg: calls _xlfn.STDEV.S, not in excel.FUNCTIONS"),
    Breaker(check_no_xlfn_prefix, "_xlfn. in a cell's text", "about", _sub(r"<t>", "<t>_xlfn."),
            "xl/worksheets/sheet1.xml: holds _xlfn."),
]


def _broken_copy(source: Path, target: Path, breaker: Breaker) -> Package:
    """A copy of `source` with one part rewritten by `breaker`, zipped and read back as any workbook is."""
    original = Package.read(source)
    part = breaker.part if breaker.part in original.parts else original.part_of(breaker.part)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in original.parts.items():
            archive.writestr(name, breaker.change(data.decode("utf-8")) if name == part else data)
    return Package.read(target)


# -- tests ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def paths(titanic, tmp_path_factory):
    """Each case's workbook, written once, and the shipped one."""
    train, test = titanic
    folder = tmp_path_factory.mktemp("conformance")
    loans, loan_train, loan_test = loan_case()
    return {
        "lesson": tn.write_workbook(folder / "lesson.xlsx", lesson_fits(train), train, test),
        "others": tn.write_workbook(folder / "others.xlsx", other_fits(train), train, test),
        "notebook": tn.write_workbook(folder / "notebook.xlsx", notebook_fits(train), train, test, submission="mmult"),
        "tanh": tn.write_workbook(folder / "tanh.xlsx", tanh_fits(train), train, test),
        "loans": tn.write_workbook(folder / "loans.xlsx", loans, loan_train, loan_test),
        # training sheets: one array formula per block of every epoch
        "trained": tn.write_workbook(folder / "trained.xlsx", lesson_fits(train), train, test, training=5),
        "shipped": SHIPPED,
    }


@pytest.fixture(scope="module")
def books(paths):
    return {case: Package.read(path) for case, path in paths.items()}


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
@pytest.mark.parametrize("case", CASES)
def test_every_workbook_keeps_the_rule(books, case, check):
    assert check(books[case]) == []


@pytest.mark.parametrize("breaker", BREAKERS, ids=lambda b: f"{b.check.__name__}: {b.what}")
def test_each_check_reports_its_broken_copy(paths, tmp_path, breaker):
    broken = _broken_copy(paths["lesson"], tmp_path / "broken.xlsx", breaker)
    problems = breaker.check(broken)
    assert any(problem.startswith(breaker.expected) for problem in problems), problems


def test_every_check_has_a_broken_copy():
    assert [check for check in CHECKS if check not in {b.check for b in BREAKERS}] == []


@pytest.mark.parametrize("case", CASES)
def test_the_checks_read_every_sheet_of_every_case(books, case):
    book = books[case]
    # every worksheet part is reached through the workbook, so no sheet escapes the checks
    in_zip = sorted(name for name in book.parts if name.startswith("xl/worksheets/sheet"))
    assert sorted(sheet.part for sheet in book.worksheets) == in_zip
    names = [s.name for s in book.worksheets]
    assert names[0] == "about" and names[-1] == "_titanic_nn" and {"test", "submission"} <= set(names)
    assert sum(1 for s in book.worksheets for _ in s.cells()) > (3_000 if case == "loans" else 30_000)
    arrays = [f for s in book.worksheets for f in s.root.iter(f"{MAIN}f") if f.get("t") == "array"]
    # a training sheet: per epoch its loss and, per parameter array, its gradient, Adam's m and v and the next
    # parameters (an epoch's parameters and gd_final's are references to cells, one per cell: no array formula)
    trained = 3 * (5 * (1 + 4))
    shipped = 3 * (300 * (1 + 4))
    expected_arrays = {
        "lesson": 2, "others": 14, "notebook": 2, "tanh": 14, "loans": 0, "trained": 2 + trained, "shipped": 2 + shipped,
    }
    assert len(arrays) == expected_arrays[case]


def test_a_formula_at_excels_limit_passes(paths, tmp_path):
    longest = _sub(r'(<c r="R1"[^>]*><f>)[^<]*', r"\g<1>1" + "+1" * 4_095)  # 8,191 characters and its "="
    at_limit = Breaker(check_formula_lengths, "a formula at the limit", "linear", longest, "")
    assert check_formula_lengths(_broken_copy(paths["lesson"], tmp_path / "limit.xlsx", at_limit)) == []
