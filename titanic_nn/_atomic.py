"""Atomic output files: written to a temporary file beside the target, then renamed over it, never over an input."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

from .errors import OutputPathError

__all__ = [
    "AtomicFiles",
    "atomic_path",
    "check_output_path",
    "ensure_directory",
    "write_bytes_atomic",
    "write_text_atomic",
]

PathLike = str | os.PathLike


def check_output_path(path: PathLike, inputs: Iterable[PathLike] = ()) -> Path:
    """The output path, checked: not a directory, not one of `inputs`, and in a directory that exists."""
    path = Path(path)
    if path.is_dir():
        raise OutputPathError(f"{path}: is a directory; give the path of a file to write")
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise OutputPathError(
                f"{path}: is an input of this run and would be overwritten; write the output somewhere else"
            )
    parent = path.parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise OutputPathError(f"{path}: cannot be written because {parent} {what}; create it or choose another path")
    return path


def ensure_directory(path: PathLike) -> Path:
    """Create the output directory `path` (and its parents) and prove a file can be created in it."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"{path}: is a file, not a directory; give a directory for the outputs")
    try:
        path.mkdir(parents=True, exist_ok=True)
        # Creating a file is the only reliable test: permission bits lie for root and on network mounts.
        with tempfile.NamedTemporaryFile(dir=path, prefix=".titanic-nn-probe-"):
            pass
    except OSError as exc:
        raise OutputPathError(
            f"{path}: cannot write there ({exc.strerror or exc}); choose another output directory"
        ) from exc
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def _temporary_beside(path: Path) -> Path:
    # Same directory, so os.replace is a rename on one filesystem; same suffix, for writers that check it.
    try:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}")
    except OSError as exc:
        raise OutputPathError(f"{path}: cannot be written ({exc.strerror or exc}); choose another path") from exc
    os.close(handle)
    # mkstemp makes the file private (0600); an output should get the usual mode, as open() would give it.
    os.chmod(name, 0o666 & ~_umask())
    return Path(name)


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


def _fsync_file(path: Path) -> None:
    with open(path, "rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(handle)
    except OSError:  # pragma: no cover - some filesystems refuse directory fsync
        pass
    finally:
        os.close(handle)


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


class AtomicFiles:
    """Several outputs staged as temporary files and renamed into place together, or not at all.

    `stage(final)` returns the temporary path to write instead of `final`; leaving the `with` block
    normally renames every staged file over its target, and any exception (KeyboardInterrupt too)
    deletes them, so an interrupted run leaves neither half-written files nor stray temporaries.
    """

    def __init__(self, inputs: Iterable[PathLike] = ()) -> None:
        self.inputs = [Path(p) for p in inputs if p is not None]
        self.staged: list[tuple[Path, Path]] = []

    def stage(self, final: PathLike) -> Path:
        final = check_output_path(final, self.inputs)
        if any(final == target for target, _ in self.staged):
            raise OutputPathError(f"{final}: is written twice in one run")
        temporary = _temporary_beside(final)
        self.staged.append((final, temporary))
        return temporary

    def commit(self) -> list[Path]:
        """Rename every staged file over its target; returns the targets."""
        mode = 0o666 & ~_umask()
        for final, temporary in self.staged:
            if not temporary.exists():
                raise OutputPathError(f"{final}: nothing was written to its temporary file {temporary}")
            # A writer may have replaced the temporary with a private file of its own (mkstemp's 0600).
            os.chmod(temporary, mode)
            _fsync_file(temporary)
        for final, temporary in self.staged:
            os.replace(temporary, final)
        for directory in {final.parent for final, _ in self.staged}:
            _fsync_directory(directory)
        written = [final for final, _ in self.staged]
        self.staged = []
        return written

    def discard(self) -> None:
        for _, temporary in self.staged:
            _discard(temporary)
        self.staged = []

    def __enter__(self) -> "AtomicFiles":
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if kind is None:
            try:
                self.commit()
            finally:
                self.discard()
        else:
            self.discard()


@contextmanager
def atomic_path(path: PathLike, *, inputs: Iterable[PathLike] = ()) -> Iterator[Path]:
    """A temporary path to write instead of `path`; renamed over `path` when the block succeeds."""
    with AtomicFiles(inputs) as batch:
        yield batch.stage(path)


def write_bytes_atomic(path: PathLike, data: bytes, *, inputs: Iterable[PathLike] = ()) -> Path:
    """Write `data` to `path` atomically; returns the path."""
    with atomic_path(path, inputs=inputs) as temporary:
        temporary.write_bytes(data)
    return Path(path)


def write_text_atomic(
    path: PathLike, text: str, *, inputs: Iterable[PathLike] = (), encoding: str = "utf-8"
) -> Path:
    """Write `text` to `path` atomically (newlines written as given); returns the path."""
    return write_bytes_atomic(path, text.encode(encoding), inputs=inputs)
