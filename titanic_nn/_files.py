"""Input files read as hostile: only regular files, bounded in size, every error one line naming the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from .errors import DataError

__all__ = ["MAX_TABLE_BYTES", "MAX_TEXT_BYTES", "existing_file", "open_regular", "read_regular", "kind_of", "size_text"]

# A CSV up to 2 GiB (tens of millions of rows); pandas holds several times that in memory.
MAX_TABLE_BYTES = 2 << 30
# A schema or a saved model: far below this, however wide the net.
MAX_TEXT_BYTES = 256 << 20

_KINDS = {
    stat.S_IFDIR: "a directory", stat.S_IFCHR: "a character device", stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link",
}


def kind_of(mode: int) -> str:
    """What a file of this `st_mode` is, in words: "a directory", "a FIFO (named pipe)", "a regular file"."""
    return "a regular file" if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def existing_file(path: str | os.PathLike, *, what: str = "a CSV file", hint: str = "check the path") -> Path:
    """`path` as a Path when it names a regular file (a link to one too); a DataError saying what it is otherwise.

    Nothing is opened: a FIFO would block, a device would never end.
    """
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; {hint}") from None
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}); {hint}") from exc
    if stat.S_ISDIR(mode):
        raise DataError(f"{path}: is a directory; give the path of {what} inside it")
    if not stat.S_ISREG(mode):
        raise DataError(f"{path}: is {kind_of(mode)}, not a regular file; give {what}")
    return path


def open_regular(path: str | os.PathLike, *, what: str, limit: int, hint: str = "check the path") -> BinaryIO:
    """`path` opened for reading, proven a regular file no larger than `limit` bytes once open.

    Opened without blocking (a FIFO swapped in after a check never hangs the run) and checked on the open
    descriptor, so what is read is what was checked.
    """
    path = existing_file(path, what=what, hint=hint)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise DataError(f"{path}: cannot be read ({exc.strerror or exc}); check the path and its permissions") from exc
    try:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise DataError(f"{path}: is {kind_of(status.st_mode)}, not a regular file; give {what}")
        if status.st_size > limit:
            raise DataError(
                f"{path}: is {size_text(status.st_size)}, more than the {size_text(limit)} {what} may be; give a smaller file"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(descriptor, True)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def read_regular(path: str | os.PathLike, *, what: str, limit: int, hint: str = "check the path") -> bytes:
    """The bytes of the regular file `path`, at most `limit` of them (a file that grows while read is refused)."""
    with open_regular(path, what=what, limit=limit, hint=hint) as handle:
        try:
            data = handle.read(limit + 1)
        except OSError as exc:
            raise DataError(f"{path}: cannot be read ({exc.strerror or exc}); check the file") from exc
        except MemoryError:
            raise DataError(f"{path}: is too large to read into memory; give a smaller file") from None
    if len(data) > limit:
        raise DataError(f"{path}: grew past {size_text(limit)} while it was read; give a file that is not being written")
    return data


def size_text(n: int) -> str:
    """A byte count as people read it: 2.0 GiB, 300.0 KiB, 12 bytes."""
    for shift, unit in ((30, "GiB"), (20, "MiB"), (10, "KiB")):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"
