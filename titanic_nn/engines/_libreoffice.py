"""LibreOffice headless as the independent engine: recalculate workbooks with recalculation forced, save as .xlsx.

A workbook that carries cached values is not recomputed by LibreOffice on load by default, so each run
gets a throwaway profile whose settings say "always recalculate" for .xlsx (and .ods) files. Each run
has its own profile directory, so parallel runs do not share a lock.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Sequence

from ..errors import SpreadsheetEngineError

__all__ = ["INSTALL_HINT", "find_soffice", "recalculate"]

INSTALL_HINT = (
    "install LibreOffice Calc, e.g. `apt-get install -y --no-install-recommends libreoffice-calc-nogui` "
    "(Debian/Ubuntu), or pass soffice=<path to the soffice binary>"
)

# OOXMLRecalcMode / ODFRecalcMode 0 = "always recalculate" when a file is loaded.
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def find_soffice(soffice: str | os.PathLike | None = None) -> str:
    """The soffice binary: the one given, else `soffice` or `libreoffice` on PATH."""
    if soffice is not None:
        found = shutil.which(str(soffice))
        if found is None:
            raise SpreadsheetEngineError(f"LibreOffice not found at {soffice}; {INSTALL_HINT}")
        return found
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    raise SpreadsheetEngineError(f"LibreOffice (soffice) is not installed or not on PATH; {INSTALL_HINT}")


def recalculate(
    paths: Sequence[str | os.PathLike],
    outdir: str | os.PathLike,
    *,
    soffice: str | os.PathLike | None = None,
    timeout: float | None = None,
) -> list[Path]:
    """Open each workbook in LibreOffice, recalculate every formula, and save it as .xlsx in `outdir`.

    One LibreOffice start converts them all (each start costs seconds). Returns the output paths, in order.
    """
    binary = find_soffice(soffice)
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
            copy = scratch_dir / "in" / f"{i:04d}_{source.stem}.xlsx"
            copy.parent.mkdir(exist_ok=True)
            shutil.copyfile(source, copy)
            staged.append(copy)
        converted = scratch_dir / "out"
        command = [
            binary, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--invisible", "--norestore",
            "--nolockcheck", "--nodefault", "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(converted),
            *map(str, staged),
        ]
        env = dict(os.environ, HOME=str(scratch_dir))
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=limit, env=env)
        except subprocess.TimeoutExpired as exc:
            raise SpreadsheetEngineError(
                f"LibreOffice did not finish recalculating {len(sources)} workbook(s) within {limit:.0f} s; "
                "pass a larger timeout or check that soffice runs headless on this machine"
            ) from exc
        except OSError as exc:
            raise SpreadsheetEngineError(f"LibreOffice could not be started ({exc}); {INSTALL_HINT}") from exc
        outputs = []
        for source, copy in zip(sources, staged):
            produced = converted / copy.name
            if result.returncode != 0 or not produced.is_file():
                detail = (result.stderr or result.stdout or "").strip()[-800:]
                raise SpreadsheetEngineError(
                    f"LibreOffice failed to recalculate {source} (exit status {result.returncode}): {detail or 'no output'}"
                )
            target = outdir / f"{source.stem}.recalculated.xlsx"
            if len(sources) > 1:
                target = outdir / f"{copy.stem}.recalculated.xlsx"
            shutil.move(str(produced), target)
            outputs.append(target)
    return outputs
