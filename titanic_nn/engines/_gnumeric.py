"""Gnumeric's ssconvert as an engine: `--recalc` forces the recalculation, the copy is saved as .xlsx.

Without `--recalc` ssconvert keeps every cached value, so it is always given. Gnumeric is a separate
implementation from LibreOffice (its own formula engine, its own .xlsx reader), which is what makes
two engines agreeing with Python a proof rather than an agreement with one implementation.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar, Sequence

from ..errors import SpreadsheetEngineError
from ._engine import Engine, run_engine

__all__ = ["Gnumeric"]


class Gnumeric(Engine):
    name: ClassVar[str] = "gnumeric"
    label: ClassVar[str] = "Gnumeric"
    binaries: ClassVar[tuple[str, ...]] = ("ssconvert",)
    package: ClassVar[str] = "gnumeric"

    def recalculate(
        self,
        paths: Sequence[str | os.PathLike],
        outdir: str | os.PathLike,
        *,
        binary: str | os.PathLike | None = None,
        timeout: float | None = None,
    ) -> list[Path]:
        program = self.find(binary)
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        outputs = []
        with tempfile.TemporaryDirectory(prefix="titanic-nn-gnumeric-") as scratch:
            scratch_dir = Path(scratch)
            for i, path in enumerate(paths):
                source = Path(path).resolve()
                if not source.is_file():
                    raise SpreadsheetEngineError(f"{source}: no such workbook to recalculate")
                copy = scratch_dir / f"{i:04d}.xlsx"  # a plain name: ssconvert reads the type from it
                shutil.copyfile(source, copy)
                target = outdir / f"{i:04d}.{self.name}.xlsx"
                limit = timeout if timeout is not None else 120.0
                command = [program, "--recalc", "--export-type=Gnumeric_Excel:xlsx2", str(copy), str(target)]
                run_engine(self, command, timeout=limit, home=scratch_dir, what=str(source))
                if not target.is_file():
                    raise SpreadsheetEngineError(f"Gnumeric failed to recalculate {source}: it wrote no output")
                outputs.append(target)
        return outputs
