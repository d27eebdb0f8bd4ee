"""Atomic output files: written in a temporary folder beside the target, then renamed over it, never over an input.

An output is a regular file or a new path: never a directory, a device, a FIFO, a socket or a link. Every
temporary of a run lives in the output's own folder (or, for a folder still to be made, the nearest one that
exists), in a folder named `.titanic-nn-tmp-<pid>-...` holding our mark (so a writer's own scratch files,
XlsxWriter's parts, go there too, never to $TMPDIR). An error or an interrupt removes them, and the folders an
output needs are made only when it is renamed into place; a run killed outright (SIGKILL, a power cut) leaves
them, and the next run that writes into that folder sweeps those marked as ours whose process is gone.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import signal
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InterruptSignalError, OutputPathError

__all__ = [
    "TEMP_PREFIX",
    "AtomicFiles",
    "make_scratch",
    "sweep_stale",
    "write_failed",
    "atomic_path",
    "check_output_path",
    "check_output_directory",
    "written_this_run",
    "HELD_SIGNALS",
    "interrupt_now",
    "write_bytes_atomic",
    "write_text_atomic",
]

PathLike = str | os.PathLike

# Every temporary of ours starts so, then the writing process's id and a dash: what a sweep recognises.
TEMP_PREFIX = ".titanic-nn-tmp-"
# The file inside each temporary folder that marks it as ours; a sweep removes no folder without it.
MARK = ".titanic-nn-owner"
# The outputs renamed into place by this process (for a message that tells what an interrupted run left).
_COMMITTED: list[Path] = []


def written_this_run(since: int = 0) -> list[Path]:
    """The outputs renamed into place by this process, from position `since` of the record on."""
    return list(_COMMITTED[since:])


def _nearest_existing(path: Path) -> Path:
    """`path` itself or the nearest folder above it that exists."""
    probe = path
    while not os.path.lexists(probe) and probe != probe.parent:
        probe = probe.parent
    return probe


def _kind_problem(path: Path) -> str | None:
    """Why `path` cannot be replaced by an output (None when it does not exist or is a regular file)."""
    from ._files import kind_of

    try:
        mode = os.lstat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):  # a new path (its folder checked next)
        return None
    except OSError as exc:
        return f"cannot be checked ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    return f"is {kind_of(mode)}, not a regular file"


def check_output_path(path: PathLike, inputs: Iterable[PathLike] = (), *, create_folders: bool = False) -> Path:
    """The output path, checked: a regular file or a new path (not a directory, device, FIFO, socket or link), not one
    of `inputs`, in a directory that exists (with `create_folders`, one that can be made when the output is)."""
    path = Path(path)
    if path.is_dir() and not path.is_symlink():
        raise OutputPathError(f"{path}: is a directory; give the path of a file to write")
    problem = _kind_problem(path)
    if problem:
        raise OutputPathError(f"{path}: {problem}; an output is written only to a regular file or a new path")
    for source in inputs:
        if source is not None and _same_file(path, Path(source)):
            raise OutputPathError(
                f"{path}: is an input of this run and would be overwritten; write the output somewhere else"
            )
    parent = path.parent
    if parent.is_dir():
        return path
    existing = _nearest_existing(parent)
    if not create_folders or not existing.is_dir():
        blocked = existing if existing.exists() and not existing.is_dir() else parent
        what = "is not a directory" if blocked.exists() else "does not exist"
        raise OutputPathError(f"{path}: cannot be written because {blocked} {what}; create it or choose another path")
    return path


def check_output_directory(path: PathLike) -> Path:
    """The output directory `path`, checked but not made: a directory, or a path whose folders can be made once
    the outputs are written (a file can be created in the nearest folder that exists)."""
    path = Path(path)
    if os.path.lexists(path) and not path.is_dir():
        raise OutputPathError(f"{path}: is a file, not a directory; give a directory for the outputs")
    existing = _nearest_existing(path)
    if not existing.is_dir():
        raise OutputPathError(f"{path}: cannot be made because {existing} is not a directory; choose another output directory")
    try:
        # Creating a file is the only reliable test: permission bits lie for root and on network mounts.
        probe = existing / _temporary_name()
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        finally:
            _remove(probe)
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


def _temporary_name() -> str:
    return f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(6)}"


def make_scratch(folder: PathLike, register: list[Path]) -> Path:
    """A new private folder of ours inside `folder`, marked as ours, appended to `register` before it exists.

    Registered first, so an interrupt at any moment leaves nothing the caller's cleanup does not know
    of. Stale temporaries of runs that are gone are swept from `folder` first.
    """
    folder = Path(folder)
    sweep_stale(folder)
    scratch = folder / _temporary_name()
    register.append(scratch)
    scratch.mkdir(mode=0o700)
    (scratch / MARK).write_text(_mark_text(scratch.name), encoding="utf-8")
    return scratch


def _mark_text(name: str) -> str:
    return f"titanic-nn temporary folder {name}\n"


def _temporary_beside(path: Path, register: list[Path]) -> Path:
    # In the target's own folder (or the nearest one that exists, when the target's is still to be made), so
    # os.replace is a rename on one filesystem; under the target's own name, for writers that read the type
    # from the suffix.
    try:
        scratch = make_scratch(_nearest_existing(path.parent), register)
    except OSError as exc:
        raise write_failed(path, exc) from exc
    return scratch / path.name


def sweep_stale(folder: PathLike) -> list[Path]:
    """Remove the temporaries a run of ours that is gone left in `folder`; returns what was removed.

    Only a folder (not a link, not a file) named as ours, holding our mark, of a process that is gone: a
    temporary of a process still running (this one included) is left alone, so runs writing into one folder
    at once do not disturb each other, and nothing a user named like ours is touched.
    """
    removed = []
    try:
        entries = list(Path(folder).iterdir())
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(TEMP_PREFIX):
            continue
        pid_text = entry.name[len(TEMP_PREFIX):].split("-", 1)[0]
        if not pid_text.isdigit() or _running(int(pid_text)) or not _marked(entry):
            continue
        _remove(entry)
        removed.append(entry)
    return removed


def _marked(entry: Path) -> bool:
    """Whether `entry` is a real folder holding our mark for its own name."""
    try:
        if not stat.S_ISDIR(os.lstat(entry).st_mode):
            return False
        mark = entry / MARK
        status = os.lstat(mark)
        if not stat.S_ISREG(status.st_mode) or status.st_size > 200:
            return False
        return mark.read_text(encoding="utf-8") == _mark_text(entry.name)
    except (OSError, UnicodeError):
        return False


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (EPERM): running
        return True
    return True


def _remove(path: Path) -> None:
    """Remove a temporary file or folder of ours, whatever is left of it."""
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
    except OSError:  # pragma: no cover - a sweep is best effort; the next run tries again
        pass


# The errors a full or read-only disk gives: the message says so, with the fix.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def write_failed(path: PathLike, exc: BaseException) -> OutputPathError:
    """An OutputPathError for `exc`, raised while writing `path`: the path, what the system said, the fix."""
    reason = getattr(exc, "strerror", None) or " ".join(str(exc).split()) or type(exc).__name__
    code = getattr(exc, "errno", None)
    if code in _NO_SPACE:
        fix = "free some space there or write the outputs elsewhere"
    elif code == errno.EROFS:
        fix = "write the outputs elsewhere"
    else:
        fix = "check that its folder can be written, or write the outputs elsewhere"
    return OutputPathError(f"{path}: cannot be written ({reason}); {fix}")


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


class AtomicFiles:
    """Several outputs staged as temporary files and renamed into place together, or not at all.

    `stage(final)` returns the temporary path to write instead of `final` (in a private folder of ours
    beside it, under the same name); leaving the `with` block normally renames every staged file over
    its target, and any exception (an interrupt too) removes the temporary folders, so an interrupted
    run leaves neither half-written files nor stray temporaries. An OSError raised while writing
    (a full disk) comes out as an OutputPathError naming the output folder and the fix.
    """

    def __init__(self, inputs: Iterable[PathLike] = (), *, create_folders: bool = False) -> None:
        self.inputs = [Path(p) for p in inputs if p is not None]
        self.create_folders = create_folders
        self.staged: list[tuple[Path, Path]] = []
        self.scratch: list[Path] = []

    def stage(self, final: PathLike) -> Path:
        final = check_output_path(final, self.inputs, create_folders=self.create_folders)
        if any(final == target for target, _ in self.staged):
            raise OutputPathError(f"{final}: is written twice in one run")
        temporary = _temporary_beside(final, self.scratch)
        self.staged.append((final, temporary))
        return temporary

    def write_text(self, final: PathLike, text: str, *, encoding: str = "utf-8") -> Path:
        """Stage `final` and write `text` to it; a failure to write names `final`."""
        temporary = self.stage(final)
        try:
            temporary.write_bytes(text.encode(encoding))
        except OSError as exc:
            raise write_failed(final, exc) from exc
        return temporary

    def commit(self) -> list[Path]:
        """Rename every staged file over its target, making the folders they need; returns the targets.

        The renames run with SIGINT, SIGTERM and SIGHUP held back, so a signal lands before the first or after the
        last: all the outputs are in place, or none (and `written_this_run` says which).
        """
        mode = 0o666 & ~_umask()
        for final, temporary in self.staged:
            if not temporary.exists():
                raise OutputPathError(f"{final}: nothing was written to its temporary file {temporary}")
            problem = _kind_problem(final)  # what was checked at the start may have been swapped since
            if problem:
                raise OutputPathError(f"{final}: {problem}; an output is written only to a regular file or a new path")
            try:
                # A writer may have replaced the temporary with a private file of its own (mkstemp's 0600).
                os.chmod(temporary, mode)
                _fsync_file(temporary)
            except OSError as exc:
                raise write_failed(final, exc) from exc
        with _signals_held():
            for final, temporary in self.staged:
                try:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(temporary, final)
                except OSError as exc:
                    raise write_failed(final, exc) from exc
                if not any(part.startswith(TEMP_PREFIX) for part in final.parts):  # a writer's own step inside ours
                    _COMMITTED.append(final)
            for directory in {final.parent for final, _ in self.staged}:
                _fsync_directory(directory)
        written = [final for final, _ in self.staged]
        self.staged = []
        return written

    def discard(self) -> None:
        for scratch in self.scratch:
            _remove(scratch)
        self.staged = []
        self.scratch = []

    def __enter__(self) -> "AtomicFiles":
        return self

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        # what a message names: each temporary as its target, each private folder as the target's folder
        names = {str(temporary): str(final) for final, temporary in self.staged}
        names |= {str(temporary.parent): str(final.parent) for final, temporary in self.staged}
        folders = list(dict.fromkeys(final.parent for final, _ in self.staged))
        try:
            if kind is None:
                self.commit()
        finally:
            self.discard()
        if isinstance(value, OutputPathError):
            text = str(value)
            for temporary in sorted(names, key=len, reverse=True):
                text = text.replace(temporary, names[temporary])
            if text != str(value):
                raise OutputPathError(text) from value
        elif isinstance(value, OSError) and folders:
            # a writer that did not name its file: name the folder it wrote into
            raise write_failed(folders[0], value) from value


# The signals a run cleans up after (the command line turns each into an interrupt), held back during the renames.
HELD_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
# While outputs are renamed into place: how deep the hold is, and the first signal that arrived meanwhile.
_HOLD: dict[str, Any] = {"depth": 0, "pending": None}


def interrupt_now(number: int) -> bool:
    """For a signal handler: True to act on signal `number` now; False while outputs are being renamed into place,
    when the signal is kept and acted on as the renames end (a process-wide signal reaches whichever thread it
    likes, so a thread's signal mask cannot hold it back: the hold is kept here)."""
    if _HOLD["depth"]:
        if _HOLD["pending"] is None:
            _HOLD["pending"] = number
        return False
    return True


@contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT, SIGTERM and SIGHUP back for the block (a handler asks `interrupt_now`); one that arrived meanwhile
    is raised as the block ends, as an InterruptSignalError."""
    _HOLD["depth"] += 1
    try:
        yield
    finally:
        _HOLD["depth"] -= 1
        number, _HOLD["pending"] = (_HOLD["pending"], None) if _HOLD["depth"] == 0 else (None, _HOLD["pending"])
        if number is not None:
            raise InterruptSignalError(number)


@contextmanager
def atomic_path(path: PathLike, *, inputs: Iterable[PathLike] = (), create_folders: bool = False) -> Iterator[Path]:
    """A temporary path to write instead of `path`; renamed over `path` (its folders made, with `create_folders`)
    when the block succeeds."""
    with AtomicFiles(inputs, create_folders=create_folders) as batch:
        yield batch.stage(path)


def write_bytes_atomic(
    path: PathLike, data: bytes, *, inputs: Iterable[PathLike] = (), create_folders: bool = False
) -> Path:
    """Write `data` to `path` atomically; returns the path. A failure to write (a full disk) names `path`."""
    with atomic_path(path, inputs=inputs, create_folders=create_folders) as temporary:
        try:
            temporary.write_bytes(data)
        except OSError as exc:
            raise write_failed(path, exc) from exc
    return Path(path)


def write_text_atomic(
    path: PathLike, text: str, *, inputs: Iterable[PathLike] = (), encoding: str = "utf-8", create_folders: bool = False
) -> Path:
    """Write `text` to `path` atomically (newlines written as given); returns the path."""
    return write_bytes_atomic(path, text.encode(encoding), inputs=inputs, create_folders=create_folders)
