"""What a spreadsheet engine is to verify: a program found on PATH that recalculates .xlsx files, forced, into copies."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any, ClassVar, Sequence

from .._plain import cut
from ..errors import SpreadsheetEngineError

__all__ = ["Engine", "SheetValues", "run_engine"]


class SheetValues:
    """An engine's recalculated values held in memory (HyperFormula's), read as a recalculated copy is: by sheet name,
    row by row from row 1, each row a tuple of the cells' values (an error as its text, "#VALUE!")."""

    def __init__(self, sheets: dict[str, list[list[Any]]]) -> None:
        self.sheets = sheets

    @property
    def sheetnames(self) -> list[str]:
        return list(self.sheets)

    def rows(self, name: str, last_row: int | None = None) -> list[tuple[Any, ...]]:
        rows = self.sheets.get(name, [])
        return [tuple(row) for row in (rows if last_row is None else rows[:last_row])]


class Engine:
    """A spreadsheet engine: `name` (as `verify(engines=...)` and `--engine` take it), its binaries, how to install it.

    `recalculate` opens each workbook, recalculates every formula (forced: a file that carries cached
    values is not recomputed by these engines unless told to) and saves it as .xlsx in a folder.
    """

    name: ClassVar[str]
    label: ClassVar[str]  # as messages name it
    binaries: ClassVar[tuple[str, ...]]  # looked up on PATH, in order
    package: ClassVar[str]  # the Debian package

    @property
    def install_hint(self) -> str:
        return f"install it with `apt-get install -y --no-install-recommends {self.package}` (Debian/Ubuntu)"

    def find(self, binary: str | os.PathLike | None = None) -> str:
        """The engine's program: `binary` when given, else the first of `binaries` on PATH."""
        if binary is not None:
            found = shutil.which(str(binary))
            if found is None:
                raise SpreadsheetEngineError(f"{self.label} not found at {binary}; {self.install_hint}")
            return found
        for name in self.binaries:
            found = shutil.which(name)
            if found:
                return found
        raise SpreadsheetEngineError(
            f"{self.label} ({self.binaries[0]}) is not installed or not on PATH; {self.install_hint}"
        )

    def available(self) -> bool:
        return any(shutil.which(name) for name in self.binaries)

    def in_all(self) -> bool:
        """Whether `--engine all` takes (and then requires) this engine."""
        return True

    def recalculate(
        self,
        paths: Sequence[str | os.PathLike],
        outdir: str | os.PathLike,
        *,
        binary: str | os.PathLike | None = None,
        timeout: float | None = None,
    ) -> list[Path]:
        """Recalculate each workbook (forced) and save it as .xlsx in `outdir`; the output paths, in order."""
        raise NotImplementedError

    def values(
        self,
        paths: Sequence[str | os.PathLike],
        outdir: str | os.PathLike,
        *,
        binary: str | os.PathLike | None = None,
        timeout: float | None = None,
    ) -> list[Path | SheetValues]:
        """Each workbook's recalculated values as verify reads them: a recalculated copy (`recalculate`), or an
        engine's values held in memory."""
        return list(self.recalculate(paths, outdir, binary=binary, timeout=timeout))


def run_engine(
    engine: Engine, command: Sequence[str], *, timeout: float, home: Path, what: str, env: dict[str, str] | None = None
) -> None:
    """Run an engine's command with its own HOME and TMPDIR inside `home` (no user profile is read or written, and
    its temporaries, LibreOffice's lu*.tmp, go where the run removes them), or say why it failed."""
    temporary = home / "tmp"
    temporary.mkdir(exist_ok=True)
    env = dict(env if env is not None else os.environ, HOME=str(home), TMPDIR=str(temporary), TMP=str(temporary), TEMP=str(temporary))
    try:
        # a session of its own: on a timeout or an interrupt the engine and every process it started (soffice
        # starts soffice.bin) are killed together, before their scratch folder is removed
        process = subprocess.Popen(
            list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
        )
    except OSError as exc:
        raise SpreadsheetEngineError(f"{engine.label} could not be started ({exc}); {engine.install_hint}") from exc
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill(process)
        raise SpreadsheetEngineError(
            f"{engine.label} did not finish recalculating {what} within {timeout:g} s; give it longer (verify "
            f"--timeout SECONDS, or timeout= in Python) or check that {Path(command[0]).name} runs headless on this machine"
        ) from exc
    except BaseException:
        _kill(process)
        raise
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if result.returncode != 0:
        detail = _error_detail(result.stderr or result.stdout or "")
        raise SpreadsheetEngineError(
            f"{engine.label} failed to recalculate {what} (exit status {result.returncode}): {detail or 'no output'}"
        )


def _error_detail(output: str) -> str:
    """The engine's own words on why it failed, in at most 300 characters: its first line naming an error (Node puts
    "Error: ..." above its stack), else the end of what it printed."""
    lines = output.splitlines()
    named = next((line.strip() for line in lines if re.match(r"\s*[A-Za-z]*Error\b.*:", line)), None) or next(
        (line.strip() for line in lines if re.search(r"\berror\b", line, re.IGNORECASE)), None
    )
    if named:
        return cut(named, 300)
    return " ".join(output.split())[-300:]


def _kill(process: subprocess.Popen) -> None:
    """Kill the engine's whole session and wait for it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except OSError:  # already gone
        pass
    process.communicate()
