"""LibreOffice headless as an engine: recalculation forced by a throwaway profile, macros off, saved as .xlsx.

A workbook that carries cached values is not recomputed by LibreOffice on load by default, so each run
gets a throwaway profile whose settings say "always recalculate" for .xlsx (and .ods) files, and
never run a macro. Each run has its own profile directory, so parallel runs do not share a lock. One
LibreOffice start converts every workbook of a run (each start costs seconds).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import ClassVar, Sequence

from ..errors import SpreadsheetEngineError
from ._engine import Engine, run_engine

__all__ = ["LibreOffice", "RECALC_ALWAYS"]

# OOXMLRecalcMode / ODFRecalcMode 0 = "always recalculate" when a file is loaded. MacroSecurityLevel 3
# ("very high": only macros from trusted locations, of which there are none) and DisableMacrosExecution
# keep any macro a hostile workbook carries from running.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="MacroSecurityLevel" oor:op="fuse"><value>3</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Security/Scripting"><prop oor:name="DisableMacrosExecution" oor:op="fuse"><value>true</value></prop></item>
</oor:items>
"""


class LibreOffice(Engine):
    name: ClassVar[str] = "libreoffice"
    label: ClassVar[str] = "LibreOffice"
    binaries: ClassVar[tuple[str, ...]] = ("soffice", "libreoffice")
    package: ClassVar[str] = "libreoffice-calc-nogui"

    def recalculate(
        self,
        paths: Sequence[str | os.PathLike],
        outdir: str | os.PathLike,
        *,
        binary: str | os.PathLike | None = None,
        timeout: float | None = None,
    ) -> list[Path]:
        program = self.find(binary)
        sources = [Path(p).resolve() for p in paths]
        for source in sources:
            if not source.is_file():
                raise SpreadsheetEngineError(f"{source}: no such workbook to recalculate")
        outdir = Path(outdir)
        outdir.mkdir(parents=True, exist_ok=True)
        limit = timeout if timeout is not None else 120 + 30 * len(sources)
        with tempfile.TemporaryDirectory(prefix="titanic-nn-lo-") as scratch:
            scratch_dir = Path(scratch)
            profile = scratch_dir / "profile"
            (profile / "user").mkdir(parents=True)
            (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
            # distinct names: LibreOffice names each output after its input
            staged = []
            for i, source in enumerate(sources):
                copy = scratch_dir / "in" / f"{i:04d}.xlsx"
                copy.parent.mkdir(exist_ok=True)
                shutil.copyfile(source, copy)
                staged.append(copy)
            converted = scratch_dir / "out"
            command = [
                program, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
                "--nolockcheck", "--nodefault", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir",
                str(converted), *map(str, staged),
            ]
            what = f"{len(sources)} workbook(s)" if len(sources) > 1 else str(sources[0])
            run_engine(self, command, timeout=limit, home=scratch_dir, what=what)
            outputs = []
            for source, copy in zip(sources, staged):
                produced = converted / copy.name
                if not produced.is_file():
                    raise SpreadsheetEngineError(f"LibreOffice failed to recalculate {source}: it wrote no output")
                target = outdir / f"{copy.stem}.{self.name}.xlsx"
                shutil.move(str(produced), target)
                outputs.append(target)
        return outputs
