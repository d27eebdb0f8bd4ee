"""HyperFormula as an engine: the headless formula engine behind Handsontable, run by Node on the workbook's cells.

HyperFormula reads no .xlsx file: titanic-nn's own bounded reader (`workbook.open_workbook`) reads every sheet's
cells (a formula's text, an array formula at its anchor with the rest of its range left empty for the result to
spill into, each value as it is, text marked as text), a small pinned Node script (`hyperformula.js`) builds
HyperFormula 3.5.0 from them and writes back every cell's value, and verify compares those values as it compares a
recalculated copy's. Two settings depart from its defaults, where they depart from Excel: `useArrayArithmetic`
(Excel's element by element arithmetic on ranges inside a formula) and `smartRounding` off (by default it rounds
results to 14 decimal places; Excel keeps the full double).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Sequence

from ..errors import SpreadsheetEngineError
from ._engine import Engine, SheetValues, run_engine

__all__ = ["HyperFormula", "PINNED", "SCRIPT"]

PINNED = "3.5.0"
SCRIPT = Path(__file__).with_name("hyperformula.js")
# A recalculation's output is the engine's own JSON, read up to this size (titanic-nn's largest are a few hundred MB).
MAX_OUTPUT = 2 << 30


class HyperFormula(Engine):
    name: ClassVar[str] = "hyperformula"
    label: ClassVar[str] = "HyperFormula"
    binaries: ClassVar[tuple[str, ...]] = ("node", "nodejs")
    package: ClassVar[str] = "nodejs npm"

    @property
    def install_hint(self) -> str:
        return (
            "install Node (`apt-get install -y --no-install-recommends nodejs npm` on Debian/Ubuntu) and HyperFormula "
            f"in the checkout (`npm install hyperformula@{PINNED}`), or set NODE_PATH to the node_modules folder that "
            "holds it"
        )

    def in_all(self) -> bool:
        """`all` takes HyperFormula where Node is present (then HyperFormula itself must be installed)."""
        return any(shutil.which(name) for name in self.binaries)

    def available(self) -> bool:
        """Node is on PATH and resolves the hyperformula module as the script will (`node_env`)."""
        node = next((found for found in map(shutil.which, self.binaries) if found), None)
        if node is None:
            return False
        try:
            done = subprocess.run(
                [node, "-e", "require.resolve('hyperformula')"], cwd=SCRIPT.parent, capture_output=True, timeout=30,
                env=node_env(),
            )
        except (OSError, subprocess.TimeoutExpired):
            return False
        return done.returncode == 0

    def recalculate(
        self,
        paths: Sequence[str | os.PathLike],
        outdir: str | os.PathLike,
        *,
        binary: str | os.PathLike | None = None,
        timeout: float | None = None,
    ) -> list[Path]:
        """A copy of each workbook holding HyperFormula's values (no formulas: HyperFormula writes no .xlsx), read back
        as the other engines' copies are."""
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        copies = []
        for i, (path, values) in enumerate(zip(paths, self.values(paths, outdir, binary=binary, timeout=timeout))):
            target = outdir / f"{i:04d}.{self.name}.xlsx"
            write_values_copy(Path(path), values, target)
            copies.append(target)
        return copies

    def values(
        self,
        paths: Sequence[str | os.PathLike],
        outdir: str | os.PathLike,
        *,
        binary: str | os.PathLike | None = None,
        timeout: float | None = None,
    ) -> list[SheetValues]:
        from ..workbook import formula_cells

        program = self.find(binary)
        results = []
        with tempfile.TemporaryDirectory(prefix="titanic-nn-hyperformula-") as scratch:
            scratch_dir = Path(scratch)
            for i, path in enumerate(paths):
                source = Path(path)
                given, answer = scratch_dir / f"{i:04d}.in.json", scratch_dir / f"{i:04d}.out.json"
                sheets = formula_cells(source)
                given.write_text(json.dumps({"sheets": sheets}, allow_nan=False), encoding="utf-8")
                limit = timeout if timeout is not None else 120.0
                run_engine(self, [program, str(SCRIPT), str(given), str(answer)], timeout=limit, home=scratch_dir,
                           what=str(source), env=node_env())
                results.append(SheetValues(_read_answer(answer, source)))
        return results


def write_values_copy(source: Path, values: SheetValues, target: Path) -> None:
    """An .xlsx holding an engine's values for every sheet of `source`, in its order, and `source`'s hidden description
    as it is (so the copy reads back as the workbook does)."""
    import xlsxwriter

    from ..workbook import METADATA_SHEET, open_workbook, read_rows

    book = xlsxwriter.Workbook(str(target), {"constant_memory": True, "tmpdir": str(target.parent)})
    try:
        with open_workbook(source) as original:
            for name in original.sheetnames:
                sheet = book.add_worksheet(name)
                rows = read_rows(original, name, source=source) if name == METADATA_SHEET else values.rows(name)
                for r, row in enumerate(rows):
                    for c, value in enumerate(row):
                        if value is None:
                            continue
                        if isinstance(value, str):
                            sheet.write_string(r, c, value)
                        elif isinstance(value, bool):
                            sheet.write_boolean(r, c, value)
                        else:
                            sheet.write_number(r, c, value)
                if name == METADATA_SHEET:
                    sheet.hide()
    finally:
        book.close()


def node_env() -> dict[str, str]:
    """The environment Node runs in: the module is found beside the script (a checkout's node_modules), in
    NODE_PATH, or in the working folder's node_modules (`npm install hyperformula@3.5.0` there)."""
    paths = [p for p in os.environ.get("NODE_PATH", "").split(os.pathsep) if p] + [str(Path.cwd() / "node_modules")]
    return dict(os.environ, NODE_PATH=os.pathsep.join(paths))


def _read_answer(path: Path, source: Path) -> dict[str, list[list[Any]]]:
    if not path.is_file() or path.stat().st_size > MAX_OUTPUT:
        raise SpreadsheetEngineError(f"HyperFormula failed to recalculate {source}: it wrote no usable output")
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("version") != PINNED:
        raise SpreadsheetEngineError(f"HyperFormula {data.get('version')} answered, not the pinned {PINNED}")
    return {
        name: [[value["error"] if isinstance(value, dict) else value for value in row] for row in rows]
        for name, rows in data["sheets"].items()
    }
