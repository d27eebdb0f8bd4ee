"""The proof at the edges, one parametrised test per class of input: every valid one fits and its workbook verifies in
LibreOffice, Gnumeric and HyperFormula; every other one is refused in one line naming the file and place. Each run
asserts its exit code, its one stderr line, that nothing was written outside --out (HOME and TMPDIR included), that
nothing was left behind and that its inputs are unchanged."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import shlex
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import titanic_nn as tn
from titanic_nn import excel
from titanic_nn._atomic import MARK, TEMP_PREFIX
from titanic_nn.cli import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--restarts", "1", "--sheet-epochs", "3", "--quiet"]
OWN = ["--target", "y", "--id-column", "id"]


# -- running a command and what it must leave ------------------------------------------------------------


def _tree(folder: Path) -> dict[str, tuple[str, str]]:
    """Every entry under `folder`: its kind and, for a file, its bytes' hash; a link's target."""
    found = {}
    if not folder.exists():
        return found
    for path in sorted(folder.rglob("*")):
        mode = os.lstat(path).st_mode
        name = str(path.relative_to(folder))
        if stat.S_ISLNK(mode):
            found[name] = ("link", os.readlink(path))
        elif stat.S_ISREG(mode):
            found[name] = ("file", hashlib.sha256(path.read_bytes()).hexdigest())
        elif stat.S_ISDIR(mode):
            found[name] = ("dir", "")
        else:
            found[name] = ("special", stat.S_IFMT(mode))
    return found


@dataclass
class Run:
    code: int
    out: str
    err: str
    root: Path  # the case's folder: work/ (the inputs, the cwd), home/, tmp/
    before: dict[str, tuple[str, str]]
    after: dict[str, tuple[str, str]]

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def lines(self) -> list[str]:
        return self.err.splitlines()

    def added(self, out: str = "out") -> set[str]:
        """What the run added or changed outside `out` (relative to root)."""
        changed = {n for n in self.after if self.before.get(n) != self.after[n]} | (set(self.before) - set(self.after))
        return {n for n in changed if not (n == f"work/{out}" or n.startswith(f"work/{out}/"))}

    def leftovers(self) -> list[str]:
        return [n for n in self.after if TEMP_PREFIX in n and n not in self.before]


def _run(root: Path, argv: list[Any], monkeypatch: Any) -> Run:
    """main(argv) in-process in root/work, HOME and TMPDIR inside root, with the tree of root before and after."""
    work, home, tmp = root / "work", root / "home", root / "tmp"
    for folder in (work, home, tmp):
        folder.mkdir(exist_ok=True)
    before = {f"{k}": v for k, v in _prefixed(root).items()}
    out, err = io.StringIO(), io.StringIO()
    with monkeypatch.context() as patch:
        patch.chdir(work)
        patch.setenv("HOME", str(home))
        patch.setenv("TMPDIR", str(tmp))
        patch.setattr(tempfile, "tempdir", str(tmp))
        with redirect_stdout(out), redirect_stderr(err):
            code = main([str(a) for a in argv])
    return Run(code, out.getvalue(), err.getvalue(), root, before, _prefixed(root))


def _prefixed(root: Path) -> dict[str, tuple[str, str]]:
    return {f"{name}": entry for name, entry in _tree(root).items()}


def _write(folder: Path, files: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))


def _csv(header: list[str], rows: list[list[Any]]) -> str:
    """CSV text, every field quoted where it must be (RFC 4180), "\\n" line ends."""

    def quoted(value: Any) -> str:
        text = "" if value is None else str(value)
        return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text

    return "\n".join(",".join(quoted(v) for v in row) for row in [header, *rows]) + "\n"


def _table(n: int = 40, *, w: Any = None, x: Any = None, y: Any = None, ids: Any = None, seed: int = 0, **more: Any) -> str:
    """A small table: id, y (0/1), x (a number), w (a level) and any `more` columns; each may be given as a list."""
    rng = np.random.default_rng(seed)
    columns = {
        "id": ids if ids is not None else [str(1000 + i) for i in range(n)],
        "y": y if y is not None else [int(v) for v in (rng.uniform(size=n) > 0.5)],
        "x": x if x is not None else [round(float(v), 3) for v in rng.uniform(1, 50, n)],
        "w": w if w is not None else [["a", "b", "c"][i % 3] for i in range(n)],
        **more,
    }
    header = list(columns)
    return _csv(header, [[columns[h][i % len(columns[h])] for h in header] for i in range(n)])


def _cycle(values: list[Any], n: int = 40) -> list[Any]:
    return [values[i % len(values)] for i in range(n)]


# -- valid inputs: they fit, and every engine recomputes their workbook -------------------------------------


@dataclass
class Valid:
    name: str
    cls: str  # the class of input it stands for
    files: dict[str, Any]
    argv: list[Any]
    book: str = "train.xlsx"
    warning: str | None = None  # the one stderr line it prints
    check: Callable[[Run], None] | None = None


def _schema(**entries: Any) -> str:
    return json.dumps({"target": "y", "id_column": "id", **entries})


def _ids_kept(run: Run) -> None:
    lines = (run.work / "out" / "submission.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in lines[1:6]] == ["001", "1.10", " 5", '"=1+1"', "007"]


def _levels_as_text(run: Run) -> None:
    model = json.loads((run.work / "out" / "linear.json").read_text())
    levels = model["features"]["levels"]["w"]
    assert len(levels) == len(set(levels)) >= 2


def _named_safely(expected: str) -> Callable[[Run], None]:
    def check(run: Run) -> None:
        assert (run.work / "out" / expected).is_file()

    return check


VALID = [
    Valid("levels differing in case", "case", {"train.csv": _table(w=_cycle(["a", "A", "b", "B"])),
                                               "test.csv": _table(12, w=_cycle(["A", "a", "B"], 12))},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          check=_levels_as_text),
    Valid("a target whose positive differs in case", "case",
          {"train.csv": _table(y=_cycle(["yes", "YES", "YES"]))},
          ["fit", "--train", "train.csv", *OWN, "--positive", "yes", "--continuous", "x", "--categorical", "w"]),
    Valid("levels holding quotes, and one beyond a formula's 255-character literal", "quotes and long text",
          {"train.csv": _table(w=_cycle(['q"uote', '""', "L" * 300, "b"])),
           "test.csv": _table(8, w=_cycle(["L" * 300, 'q"uote', "c"], 8))},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          warning="titanic-nn: warning: test.csv: column w: level(s) ['c'] never seen in training; their dummies are all zero "
                  "(line 4 (id '1002'), line 7 (id '1005'))",
          check=_levels_as_text),
    Valid("a target of true and false, as text", "case",
          {"train.csv": _table(y=_cycle(["true", "false", "false"]))},
          ["fit", "--train", "train.csv", *OWN, "--positive", "true", "--continuous", "x", "--categorical", "w"]),
    Valid("levels equal to 15 digits", "15 digits",
          {"train.csv": _table(w=_cycle(["1.0", "1.0000000000000002", "2"])),
           "test.csv": _table(9, w=_cycle(["1.0000000000000002", "1.0", "2"], 9))},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          check=_levels_as_text),
    Valid("a count over texts equal to 15 digits", "15 digits",
          {"train.csv": _table(t=_cycle(["0.3", "0.30000000000000004", "0.3"])),
           "s.json": _schema(continuous=[{"column": "x", "scale": "max"}, {"column": "tc", "scale": "max"},
                                         {"column": "tx", "scale": "max"}],
                             derived=[{"kind": "count", "column": "t", "name": "tc"},
                                      {"kind": "extract", "column": "t", "name": "te", "chars": 6},
                                      {"kind": "count", "column": "te", "name": "tx"}])},
          ["fit", "--train", "train.csv", "--schema", "s.json"]),
    Valid("a sigmoid over raw values of about 5000", "overflow",
          {"train.csv": _table(x=_cycle([-5000.5, 4990.25, -4500, 5000, 120.5, -80])),
           "s.json": _schema(continuous=[{"column": "x"}], categorical=[{"column": "w"}])},
          ["fit", "--train", "train.csv", "--schema", "s.json", "--output", "sigmoid"]),
    Valid("a log of values near -1", "log domain",
          {"train.csv": _table(x=_cycle([-0.5, -0.999, 0, 3.5, 120])),
           "test.csv": _table(6, x=_cycle([-0.9999999, 2.0], 6))},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--log", "x", "--categorical", "w"]),
    Valid("numbers far from 1 in size", "denormal",
          {"train.csv": _table(x=_cycle([3e-300, 1e-200, 2.5e-250, 7e-290]))},
          ["fit", "--train", "train.csv", *OWN, "--continuous", "x", "--categorical", "w"]),
    Valid("two nearly collinear raw columns near 1e6", "cancellation",
          {"train.csv": _table(a=[1e6 + i * 37.25 for i in range(40)], b=[1e6 + i * 37.25 + (i % 7) * 1e-3 for i in range(40)]),
           "s.json": _schema(continuous=[{"column": "a"}, {"column": "b"}], categorical=[{"column": "w"}])},
          ["fit", "--train", "train.csv", "--schema", "s.json"]),
    Valid("levels that look like an escape", "_xHHHH_",
          {"train.csv": _table(w=_cycle(["_x0041_", "A", "_x005F_x0041_", "b"])),
           "test.csv": _table(8, w=_cycle(["A", "_x0041_"], 8))},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          check=_levels_as_text),
    Valid("levels holding a CR or an LF", "CR LF",
          {"train.csv": _table(w=_cycle(["a\rb", "a\nb", "ab", "\rb"])),
           "test.csv": _table(8, w=_cycle(["a\rb", "\rb"], 8), ids=[f"i\r{i}" for i in range(8)])},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          check=_levels_as_text),
    Valid("ids that are text", "ids",
          {"train.csv": _table(), "test.csv": _table(8, ids=["001", "1.10", " 5", "=1+1", "007", "1", "01", "1.1"])},
          ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          warning="titanic-nn: warning: test.csv: 1 value(s) start with =", check=_ids_kept),
    Valid("NA, None and null as levels", "blank markers",
          {"train.csv": _table(w=_cycle(["NA", "None", "null", "b"]))},
          ["fit", "--train", "train.csv", *OWN, "--continuous", "x", "--categorical", "w"], check=_levels_as_text),
    Valid("NA named a blank marker", "blank markers",
          {"train.csv": _table(x=_cycle([1.5, "NA", 3, 4, "NA", 7.25]), w=_cycle(["a", "NA", "b"]))},
          ["fit", "--train", "train.csv", *OWN, "--continuous", "x", "--categorical", "w", "--blank", "NA",
           "--missing", "mode"]),
    Valid("a Windows-1252 file", "encodings",
          {"train.csv": _table(w=_cycle(["Zoë", "Zoe", "Chloé"])).encode("cp1252")},
          ["fit", "--train", "train.csv", *OWN, "--continuous", "x", "--categorical", "w"],
          warning="titanic-nn: warning: train.csv: is not UTF-8 (line 2, byte"),
    Valid("a UTF-8 file with a BOM", "encodings",
          {"train.csv": b"\xef\xbb\xbf" + _table(w=_cycle(["Zoë", "Zoe"])).encode("utf-8")},
          ["fit", "--train", "train.csv", *OWN, "--continuous", "x", "--categorical", "w"]),
    Valid("a hidden file's name", "names", {".hidden.csv": _table()},
          ["fit", "--train", ".hidden.csv", *OWN, "--continuous", "x", "--categorical", "w"], book="hidden.xlsx",
          check=_named_safely("hidden.xlsx")),
    Valid("a name with a colon and a backslash", "names", {"a:b\\c.csv": _table()},
          ["fit", "--train", "a:b\\c.csv", *OWN, "--continuous", "x", "--categorical", "w"], book="a_b_c.xlsx",
          check=_named_safely("a_b_c.xlsx")),
]


def _argv(case: Valid) -> list[Any]:
    return [*case.argv, "--out", "out", *FAST]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory) -> dict[str, Run]:
    """Every valid case run once: its folder, exit code, what it printed and left."""
    runs = {}
    patch = pytest.MonkeyPatch()
    try:
        for case in VALID:
            root = tmp_path_factory.mktemp("valid")
            _write(root / "work", case.files)
            runs[case.name] = _run(root, _argv(case), patch)
    finally:
        patch.undo()
    return runs


@pytest.mark.parametrize("case", VALID, ids=[f"{c.cls}: {c.name}" for c in VALID])
def test_a_valid_input_fits_writing_only_its_outputs(fitted, case):
    run = fitted[case.name]
    assert run.code == 0, run.err
    assert run.lines == ([] if case.warning is None else run.lines[:1]) and len(run.lines) <= 1, run.err
    if case.warning is not None:
        assert run.lines[0].startswith(case.warning), run.err
    assert run.added() == set(), "written outside --out, or an input changed"
    assert run.leftovers() == []
    assert (run.work / "out" / case.book).is_file()
    if case.check is not None:
        case.check(run)


@pytest.fixture(scope="module")
def verified(fitted) -> dict[str, Any]:
    """One verify of every valid case's workbook, each engine started once for all of them."""
    books = [fitted[case.name].work / "out" / case.book for case in VALID]
    from titanic_nn.engines import verify_many

    reports = verify_many(books, engines="all")
    return {case.name: report for case, report in zip(VALID, reports)}


@pytest.mark.engines
@pytest.mark.parametrize("case", VALID, ids=[f"{c.cls}: {c.name}" for c in VALID])
def test_a_valid_input_verifies_in_every_engine(verified, case):
    report = verified[case.name]
    assert [r.engine for r in report.engines] == ["libreoffice", "gnumeric", "hyperformula"]
    assert report.ok, str(report)
    assert report.formulas is not None and report.formulas.ok and report.formulas.checked > 0
    for engine in report.engines:
        assert engine.cells_checked > 0 and engine.training and all(t.ok for t in engine.training)


# -- inputs refused: one line naming the file and the place, and nothing written ---------------------------


@dataclass
class Refused:
    name: str
    cls: str
    files: dict[str, Any]
    argv: list[Any]
    message: str  # a regular expression the one stderr line matches
    code: int = 1
    setup: Callable[[Path], None] | None = None


def _fifo(name: str) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        os.mkfifo(work / name)

    return make


def _link(name: str, target: str) -> Callable[[Path], None]:
    def make(work: Path) -> None:
        (work / name).symlink_to(target)

    return make


CSV_OPTIONS = [*OWN, "--continuous", "x", "--categorical", "w"]
MANY_MISSING = _schema(continuous=[{"column": f"c{i}"} for i in range(10_000)])

REFUSED = [
    Refused("a counted number column of 17 digits", "15 digits",
            {"train.csv": _table(x=_cycle([0.3, 0.1 + 0.2, 0.5])),
             "s.json": _schema(continuous=[{"column": "x"}, {"column": "xc"}], derived=[{"kind": "count", "column": "x", "name": "xc"}])},
            ["fit", "--train", "train.csv", "--schema", "s.json"],
            r"^titanic-nn: error: .*column x holds 0\.30000000000000004 on line 3 .*more than 15 significant digits.*xc reads it as text"),
    Refused("a target of True, true, FALSE: text, not one boolean", "case",
            {"train.csv": _table(y=_cycle(["True", "true", "FALSE", "false"]))},
            # four texts are several classes unless told binary: the binary rule names the text, not a boolean
            ["fit", "--train", "train.csv", *CSV_OPTIONS, "--task", "binary"],
            r"^titanic-nn: error: train\.csv: target y .*line 2 holds text 'True'; it holds 4 different values"),
    Refused("a continuous column of TRUE and FALSE", "case",
            {"train.csv": _table(x=_cycle(["TRUE", "FALSE", "true"]))},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: column x .*'TRUE'"),
    Refused("the id column as an input", "errors name their place", {"train.csv": _table(), "test.csv": _table(5)},
            ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--continuous", "x", "--categorical", "w,id"],
            r"^titanic-nn: error: schema uses the id column id as an input too; "),
    Refused("a header naming a column twice", "errors name their place", {"train.csv": _table().replace("id,y,x,w", "id,y,x,x", 1)},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: the header names column 'x' 2 times \(fields 3, 4\)"),
    Refused("a row with a field too few", "errors name their place",
            {"train.csv": "id,y,x,w\n1,0,1.5,a\n2,1,2.5\n3,0,4.5,b\n"},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: line 3 has 3 field\(s\), but the header names 4; "),
    Refused("a row with a field too many", "errors name their place",
            {"train.csv": _table().replace("\n1002,", "\n1002,9,", 1)},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: is not valid CSV \(.*line 4, saw 5"),
    Refused("an extract from a number of 17 digits", "15 digits",
            {"train.csv": _table(x=_cycle([0.25, 0.1 + 0.2, 0.5])),
             "s.json": _schema(continuous=[{"column": "x"}], categorical=[{"column": "xe"}],
                               derived=[{"kind": "extract", "column": "x", "name": "xe", "chars": 6}])},
            ["fit", "--train", "train.csv", "--schema", "s.json"],
            r"^titanic-nn: error: .*column x holds 0\.30000000000000004 on line 3 .*more than 15 significant digits.*xe reads it as text"),
    Refused("a join's number equal to 15 digits", "15 digits",
            {"train.csv": _table(x=_cycle([2.0, 2.0000000000000004, 3.0])),
             "s.json": _schema(continuous=[{"column": "x"}, {"column": "jc"}],
                               derived=[{"kind": "join", "columns": ["w"], "name": "j", "where": {"x": 2}},
                                        {"kind": "count", "column": "j", "name": "jc"}])},
            ["fit", "--train", "train.csv", "--schema", "s.json"],
            r"^titanic-nn: error: .*column x holds 2\.0000000000000004 on line 3 .*15 significant digits but not exactly"),
    Refused("a value near float64's largest", "overflow", {"train.csv": _table(x=_cycle([1.5, 1e308, 3]))},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: column x holds 1e\+308 on line 3, beyond ±1e\+100"),
    Refused("a log's argument rounding to 0 in the test file", "log domain",
            {"train.csv": _table(), "test.csv": _table(5, x=_cycle([2.0, -0.9999999999999999], 5))},
            ["fit", "--train", "train.csv", "--test", "test.csv", *OWN, "--log", "x", "--categorical", "w"],
            r"^titanic-nn: error: test\.csv: column x holds -0\.9999999999999999 on line 3, .*at least -1\+1e-12"),
    Refused("a denormal", "denormal", {"train.csv": _table(x=_cycle([1e-320, 2e-320, 1e-320]))},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: column x holds 1e-320 on line 2, a denormal number"),
    Refused("a UTF-8 file with one damaged byte", "encodings",
            {"train.csv": _table(w=_cycle(["Zoë", "b"])).encode("utf-8").replace(b"Zo\xc3\xab", b"Zo\xeb", 1)},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: line 2, byte \d+ \(0xEB\) is not valid UTF-8, though the file is UTF-8 elsewhere"),
    Refused("a level holding CR LF", "CR LF", {"train.csv": _table(w=_cycle(["a", "b\r\nc"]))},
            ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: column w, line 3, holds a CR LF line break, which LibreOffice reads as LF"),
    Refused("an id holding CR LF", "CR LF", {"train.csv": _table(), "test.csv": _table(4, ids=["1", "2\r\n3", "4", "5"])},
            ["fit", "--train", "train.csv", "--test", "test.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: test\.csv: column id, line 3, holds a CR LF line break"),
    Refused("a training file that is a device", "devices and FIFOs", {}, ["fit", "--train", "/dev/zero", *CSV_OPTIONS],
            r"^titanic-nn: error: /dev/zero: is a character device, not a regular file"),
    Refused("a training file that is a FIFO", "devices and FIFOs", {}, ["fit", "--train", "in.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: in\.csv: is a FIFO \(named pipe\), not a regular file", setup=_fifo("in.csv")),
    Refused("a schema that is a device", "devices and FIFOs", {"train.csv": _table()},
            ["fit", "--train", "train.csv", "--schema", "/dev/null"],
            r"^titanic-nn: error: /dev/null: is a character device, not a regular file"),
    Refused("a workbook that is a FIFO", "devices and FIFOs", {}, ["verify", "book.xlsx"],
            r"^titanic-nn: error: book\.xlsx: is a FIFO \(named pipe\), not a regular file", setup=_fifo("book.xlsx")),
    Refused("a submission over a device", "devices and FIFOs", {"test.csv": _table(5)},
            ["predict", "model.json", "--input", "test.csv", "--out", "/dev/null"],
            r"^titanic-nn: error: /dev/null: is a character device, not a regular file; an output is written only to a "
            r"regular file or a new path", setup=lambda work: shutil.copy(_MODEL, work / "model.json")),
    Refused("a submission over a FIFO", "devices and FIFOs", {"test.csv": _table(5)},
            ["predict", "model.json", "--input", "test.csv", "--out", "s.csv"],
            r"^titanic-nn: error: s\.csv: is a FIFO \(named pipe\), not a regular file",
            setup=lambda work: (shutil.copy(_MODEL, work / "model.json"), _fifo("s.csv")(work))),
    Refused("a submission over a link", "devices and FIFOs", {"test.csv": _table(5), "real.csv": "keep\n"},
            ["predict", "model.json", "--input", "test.csv", "--out", "s.csv"],
            r"^titanic-nn: error: s\.csv: is a symbolic link, not a regular file",
            setup=lambda work: (shutil.copy(_MODEL, work / "model.json"), _link("s.csv", "real.csv")(work))),
    Refused("a level too long for a formula", "errors name their place",
            {"train.csv": _table(w=_cycle(["a", "b" * 8_200]))}, ["fit", "--train", "train.csv", *CSV_OPTIONS],
            r"^titanic-nn: error: train\.csv: column w holds a level of 8,200 characters on line 3 \(id '1001'\), too long "
            r"for a formula to compare with"),  # before any training
    Refused("a reference that is Infinity", "errors name their place",
            {"train.csv": _table(), "s.json": '{"target": "y", "id_column": "id", "categorical": [{"column": "w", '
                                              '"reference": Infinity}]}'},
            ["fit", "--train", "train.csv", "--schema", "s.json"],
            r"^titanic-nn: error: s\.json: schema: categorical\[0\]: column w: the reference inf is not a level"),
    Refused("a schema naming 10,000 missing columns", "errors name their place",
            {"train.csv": _table(), "s.json": MANY_MISSING}, ["fit", "--train", "train.csv", "--schema", "s.json"],
            r"^titanic-nn: error: train\.csv: missing columns c0, c1, c2, c3, c4, c5, c6, c7 and 9,992 more; the file has"),
]

_MODEL = None  # a saved model for predict's cases, made once (`model_file`)


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    global _MODEL
    folder = tmp_path_factory.mktemp("model")
    _write(folder / "work", {"train.csv": _table()})
    patch = pytest.MonkeyPatch()
    try:
        run = _run(folder, ["fit", "--train", "train.csv", *CSV_OPTIONS, "--out", "out", *FAST], patch)
    finally:
        patch.undo()
    assert run.code == 0, run.err
    _MODEL = folder / "work" / "out" / "linear.json"
    return _MODEL


@pytest.mark.parametrize("case", REFUSED, ids=[f"{c.cls}: {c.name}" for c in REFUSED])
def test_an_input_is_refused_in_one_line_naming_its_place(model_file, tmp_path, monkeypatch, case):
    _write(tmp_path / "work", case.files)
    if case.setup is not None:
        case.setup(tmp_path / "work")
    device = os.stat("/dev/null")
    run = _run(tmp_path, [*case.argv, *(["--out", "out", "--quiet"] if case.argv[0] == "fit" else [])], monkeypatch)
    assert run.code == case.code, run.err
    assert len(run.lines) == 1 and len(run.lines[0]) < 600, run.err
    assert re.search(case.message, run.lines[0]), run.lines[0]
    assert run.added() == set() and run.leftovers() == []
    assert not (run.work / "out").exists()
    now = os.stat("/dev/null")
    assert stat.S_ISCHR(now.st_mode) and now.st_rdev == device.st_rdev  # the device is still the device


def test_a_name_a_file_cannot_hold_is_made_safe_and_said(tmp_path, monkeypatch):
    _write(tmp_path / "work", {"a:b.csv": _table()})
    run = _run(tmp_path, ["fit", "--train", "a:b.csv", *CSV_OPTIONS, "--out", "out", "--restarts", "1", "--sheet-epochs", "0"],
               monkeypatch)
    assert run.code == 0, run.err
    assert "the workbook is named a_b.xlsx, made from the training file's name a:b.csv" in run.out
    assert (run.work / "out" / "a_b.xlsx").is_file() and run.added() == set()


# -- the sweep removes only what is ours ---------------------------------------------------------------------


def test_the_sweep_removes_only_folders_marked_as_ours(tmp_path, monkeypatch):
    dead = 2**22 + 12345  # above Linux's default pid_max: no process holds it
    work = tmp_path / "work"
    user_folder = work / f"{TEMP_PREFIX}{dead}-mine"
    stale = work / f"{TEMP_PREFIX}{dead}-abcdef"
    test_file = f"{TEMP_PREFIX}{dead}-x.csv"
    _write(work, {"train.csv": _table(), test_file: _table(6)})
    user_folder.mkdir()
    (user_folder / "notes.txt").write_text("mine")
    stale.mkdir()
    (stale / MARK).write_text(f"titanic-nn temporary folder {stale.name}\n")
    (stale / "part.xml").write_text("left by a killed run")
    run = _run(tmp_path, ["fit", "--train", "train.csv", "--test", test_file, *CSV_OPTIONS, "--out", ".", *FAST], monkeypatch)
    assert run.code == 0, run.err
    assert run.lines == []
    assert (user_folder / "notes.txt").read_text() == "mine"  # a folder named like ours, not marked: kept
    assert (work / test_file).is_file()  # a file named like ours: kept (and read)
    assert not stale.exists()  # ours, of a process that is gone: swept
    assert {"train.xlsx", "submission.csv", "linear.json"} <= {p.name for p in work.iterdir()}


# -- formulas: verify and import read what the sheet holds now ----------------------------------------------


@pytest.fixture(scope="module")
def small_book(tmp_path_factory):
    folder = tmp_path_factory.mktemp("book")
    _write(folder / "work", {"train.csv": _table(), "test.csv": _table(6)})
    patch = pytest.MonkeyPatch()
    try:
        run = _run(folder, ["fit", "--train", "train.csv", "--test", "test.csv", *CSV_OPTIONS, "--out", "out", *FAST], patch)
    finally:
        patch.undo()
    assert run.code == 0, run.err
    return folder / "work" / "out" / "train.xlsx"


def _sheet_part(book: Path, sheet: str) -> str:
    with zipfile.ZipFile(book) as archive:
        names = re.findall(r'<sheet name="([^"]+)" sheetId="\d+" r:id="rId(\d+)"', archive.read("xl/workbook.xml").decode())
    index = {name: rid for name, rid in names}[sheet]
    return f"xl/worksheets/sheet{index}.xml"


def _edited(book: Path, target: Path, sheet: str, edit: Callable[[str], str]) -> Path:
    """A copy of `book` whose `sheet` part is `edit`ed (the XML as text)."""
    part = _sheet_part(book, sheet)
    with zipfile.ZipFile(book) as source, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == part:
                changed = edit(data.decode("utf-8"))
                assert changed != data.decode("utf-8"), "the edit changed nothing"
                data = changed.encode("utf-8")
            out.writestr(info, data)
    return target


def _values_for_formulas(column: str) -> Callable[[str], str]:
    """Each formula of `column` replaced by the cached value it holds (a paste of values)."""

    def edit(xml: str) -> str:
        return re.sub(rf'(<c r="{column}\d+"[^>]*?)(?: t="str")?>(?:<f[^>]*>[^<]*</f>|<f[^>]*/>)(<v>[^<]*</v>)', r"\1>\2", xml)

    return edit


def _formula_for_parameter(cell: str, cached: bool = True) -> Callable[[str], str]:
    """The number in `cell` replaced by the formula =0.5+0, with the number as its cached value (or none, as a
    program that saves without calculating leaves it)."""
    value = r"<v>\2</v>" if cached else ""

    def edit(xml: str) -> str:
        return re.sub(rf'<c r="{cell}"([^>]*)><v>([^<]*)</v></c>', rf'<c r="{cell}"\1><f>0.5+0</f>{value}</c>', xml, count=1)

    return edit


FORMULA_CASES = [
    ("Preds replaced by its values", "linear", "verify", None,
     r"^titanic-nn: error: book\.xlsx: \d+ cell\(s\) no longer hold what titanic-nn wrote \(a formula, or a value\), first linear!"),
    ("a feature column replaced by its values", "nnet", "verify", None,
     r"^titanic-nn: error: book\.xlsx: \d+ cell\(s\) no longer hold what titanic-nn wrote \(a formula, or a value\), first nnet!"),
    ("a training step replaced by its values", "train_linear", "verify", None,
     r"^titanic-nn: error: book\.xlsx: \d+ cell\(s\) no longer hold what titanic-nn wrote \(a formula, or a value\), first train_linear!"),
    ("a value cell given a formula", "linear", "verify", None,
     r"^titanic-nn: error: book\.xlsx: 1 cell\(s\) no longer hold what titanic-nn wrote \(a formula, or a value\), first "
     r"linear!\$?[A-Z]+\d+: Python writes no formula there, the workbook =0\.5\+0; "),
    ("a data cell holding a formula", "linear", "import", None,
     r"^titanic-nn: error: book\.xlsx: data cell \(column x\) linear!B4 holds the formula =0\.5\+0, not a value"),
    ("a parameter formula saved without its value", "linear", "import", None,
     r"^titanic-nn: error: book\.xlsx: cell linear!\$?[A-Z]+\d+ holds the formula =0\.5\+0 with no value saved for it "),
    ("a parameter cell holding a formula", "linear", "import", None,
     r"^titanic-nn: error: book\.xlsx: parameter cell linear!\$?[A-Z]+\d+ holds the formula =0\.5\+0, not a number"),
]


def _preds_letter(book: Path, sheet: str, header: str) -> str:
    import openpyxl

    rows = openpyxl.load_workbook(book, read_only=True)[sheet].iter_rows(min_row=3, max_row=3, values_only=True)
    headers = list(next(rows))
    return excel.column_letter(headers.index(header))


@pytest.mark.parametrize("name, sheet, command, _, message", FORMULA_CASES, ids=[c[0] for c in FORMULA_CASES])
def test_formulas_replaced_are_found(small_book, tmp_path, monkeypatch, name, sheet, command, _, message):
    work = tmp_path / "work"
    work.mkdir()
    if name == "a value cell given a formula":  # x's training fill, a number verify does not read back
        edit = _formula_for_parameter(f"{_preds_letter(small_book, sheet, 'x')}2")
    elif name == "a data cell holding a formula":  # a raw number of the data, read back by import
        edit = _formula_for_parameter(f"{_preds_letter(small_book, sheet, 'x')}4")
    elif command == "import":
        edit = _formula_for_parameter(_first_parameter(small_book, sheet), cached="without its value" not in name)
    elif sheet == "train_linear":
        edit = lambda xml: re.sub(r'<f t="array" ref="([A-Z]+\d+:[A-Z]+\d+)">[^<]*</f>', "", xml, count=1)
    else:
        edit = _values_for_formulas(_preds_letter(small_book, sheet, "Preds" if sheet == "linear" else "x_N"))
    _edited(small_book, work / "book.xlsx", sheet, edit)
    argv = ["verify", "book.xlsx"] if command == "verify" else ["import", "book.xlsx", "--out", "out"]
    run = _run(tmp_path, argv, monkeypatch)
    assert run.code == 1, run.out + run.err
    assert len(run.lines) == 1 and re.search(message, run.lines[0]), run.err
    assert run.added() == set() and run.leftovers() == [] and not (work / "out").exists()


def _first_parameter(book: Path, sheet: str) -> str:
    from titanic_nn.workbook import model_layout, read_contents

    contents = read_contents(book)
    fitted = next(f for f in contents.fits if f.name == sheet)
    _, blocks, _ = model_layout(fitted.features, fitted.model, len(contents.train))
    return f"{excel.column_letter(blocks[0].left)}{blocks[0].top}"


# -- HOME: nothing is written there, matplotlib's cache included ----------------------------------------------


def _subprocess_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "MPL"))}
    return env | {
        "HOME": str(root / "home"), "TMPDIR": str(root / "tmp"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }


def test_a_run_that_draws_writes_nothing_under_home(tmp_path):
    pytest.importorskip("matplotlib")
    work, home, tmp = tmp_path / "work", tmp_path / "home", tmp_path / "tmp"
    for folder in (home, tmp):
        folder.mkdir()
    _write(work, {"train.csv": _table()})
    before = _tree(tmp_path)
    done = subprocess.run(
        [sys.executable, "-m", "titanic_nn", "fit", "--train", "train.csv", *CSV_OPTIONS, "--method", "gd", "--epochs", "3",
         "--out", "out", *FAST],
        cwd=work, env=_subprocess_env(tmp_path), capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (work / "out" / "loss.png").is_file()
    after = _tree(tmp_path)
    changed = {n for n in after if before.get(n) != after[n] and not n.startswith("work/out")}
    assert changed == set(), changed  # nothing in HOME (no .config, .cache), TMPDIR, or beside out/
    assert list(home.iterdir()) == [] and list(tmp.iterdir()) == []


# -- signals: each at each phase ------------------------------------------------------------------------------

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]


def _said(number: int, written: str = "no output was written and no temporary file was left") -> str:
    what = "interrupted" if number == signal.SIGINT else f"stopped by {signal.Signals(number).name}"
    return f"titanic-nn: {what}; {written}"


def _catches(pid: int, number: int) -> bool:
    """Whether process `pid` has a handler for signal `number` (its SigCgt mask in /proc)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    caught = int(re.search(r"^SigCgt:\s*([0-9a-f]+)", status, re.M).group(1), 16)
    return bool(caught >> (number - 1) & 1)


@pytest.mark.parametrize("number", SIGNALS, ids=lambda n: signal.Signals(n).name)
def test_a_signal_as_the_program_starts(tmp_path, number):
    """A signal while the command line is still loading: one line, the signal's exit code, never a traceback."""
    _write(tmp_path / "work", {"train.csv": _table()})
    for folder in ("home", "tmp"):
        (tmp_path / folder).mkdir()
    before = _tree(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-c", "from titanic_nn._entry import run; raise SystemExit(run())", "fit", "--train", "train.csv",
         *CSV_OPTIONS, "--out", "out"],
        cwd=tmp_path / "work", env=_subprocess_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    # the moment the entry's handlers are in (the kernel lists the signal as caught), while the command line loads
    while not _catches(process.pid, signal.SIGTERM):  # (Python itself catches SIGINT from its start)
        assert process.poll() is None, process.communicate()
        time.sleep(0.001)
    process.send_signal(number)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + number, err
    assert err.splitlines() == [_said(number)], err
    assert _tree(tmp_path) == before


@pytest.mark.parametrize("number", SIGNALS, ids=lambda n: signal.Signals(n).name)
def test_a_signal_as_the_outputs_are_renamed_into_place_is_told_truly(tmp_path, monkeypatch, number):
    """A signal that lands during the renames is held back until the last: every output is whole, and the message
    names them all (never "no output was written")."""
    import titanic_nn._atomic as atomic

    _write(tmp_path / "work", {"train.csv": _table(), "test.csv": _table(6)})
    real_replace = os.replace
    sent: list[int] = []

    def replace(source: Any, target: Any) -> None:
        if not sent and TEMP_PREFIX not in str(target):  # an output's rename, not a writer's step inside our folder
            sent.append(number)
            os.kill(os.getpid(), number)  # lands between the first rename and the next
        real_replace(source, target)

    monkeypatch.setattr(atomic.os, "replace", replace)
    run = _run(tmp_path, ["fit", "--train", "train.csv", "--test", "test.csv", *CSV_OPTIONS, "--out", "out", *FAST], monkeypatch)
    assert sent and run.code == 128 + number, run.err
    assert len(run.lines) == 1, run.err
    written = sorted(p.name for p in (run.work / "out").iterdir())
    assert written == ["linear.json", "mmult.json", "nnet.json", "schema.toml", "submission.csv", "train.xlsx"]
    assert run.lines[0].startswith(_said(number, "it had written ")) and run.lines[0].endswith("(complete) and nothing else")
    assert all(name in run.lines[0] for name in written)
    assert run.leftovers() == [] and run.added() == set()
    assert tn.read_workbook(run.work / "out" / "train.xlsx")  # whole


ENGINE_NAMES = ["libreoffice", "gnumeric", "hyperformula"]
SHIPPED = ROOT / "workbooks" / "titanic.xlsx"  # big enough that every engine takes seconds over it


@pytest.mark.engines
@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("number", SIGNALS, ids=lambda n: signal.Signals(n).name)
def test_a_signal_during_verify_stops_the_engine_and_removes_its_files(tmp_path, number, engine):
    """verify stopped while an engine recalculates: the engine and its children are gone, and so is every temporary
    (LibreOffice's lu*.tmp folders included): TMPDIR and HOME are empty, the workbook unchanged."""
    for folder in ("home", "tmp"):
        (tmp_path / folder).mkdir()
    shutil.copy(SHIPPED, tmp_path / "book.xlsx")
    before = _tree(tmp_path)
    process = subprocess.Popen(
        [sys.executable, "-m", "titanic_nn", "verify", "book.xlsx", "--engine", engine],
        cwd=tmp_path, env=_subprocess_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )
    started = time.monotonic()
    while not _engine_processes(tmp_path) and time.monotonic() - started < 120:
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    assert _engine_processes(tmp_path), f"{engine} never started"
    time.sleep(0.5 if engine == "libreoffice" else 0.1)  # LibreOffice has made its lu*.tmp folders by then
    assert _engine_processes(tmp_path), f"{engine} finished before the signal"
    process.send_signal(number)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 128 + number, err
    assert err.splitlines() == [_said(number)], err
    time.sleep(0.5)
    assert _engine_processes(tmp_path) == []
    assert list((tmp_path / "tmp").iterdir()) == [] and list((tmp_path / "home").iterdir()) == []
    assert _tree(tmp_path) == before


def _engine_processes(root: Path) -> list[int]:
    """The processes whose command line names a folder under `root`'s TMPDIR: the engines (soffice's profile,
    ssconvert's copy, node's cells all sit in verify's scratch folder there); verify's own command line names none."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if str(root / "tmp") in command:
            found.append(int(entry.name))
    return found


# -- a full $TMPDIR --------------------------------------------------------------------------------------------


def _namespaces() -> bool:
    return bool(shutil.which("unshare")) and subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


@pytest.mark.engines
@pytest.mark.parametrize("engine", ENGINE_NAMES)
@pytest.mark.parametrize("kilobytes", [64, 3000], ids=["the copy fails", "the engine fails"])
def test_a_full_tmpdir_is_named_as_such(tmp_path, engine, kilobytes):
    """verify with $TMPDIR a filesystem too small for the workbook's copy (64 KiB) or for the engine's own files
    (3,000 KiB: the copy fits): one line naming $TMPDIR and the fix, never the workbook as if it were at fault, and
    nothing left there (listed from inside the command, where the small filesystem is mounted)."""
    disk, work = tmp_path / "disk", tmp_path / "work"
    for folder in (disk, work, tmp_path / "home"):
        folder.mkdir()
    shutil.copy(SHIPPED, work / "book.xlsx")
    before = _tree(work)
    env = _subprocess_env(tmp_path) | {"TMPDIR": str(disk)}
    program = " ".join(shlex.quote(str(a)) for a in [sys.executable, "-m", "titanic_nn", "verify", "book.xlsx", "--engine", engine])
    if _namespaces():  # a tmpfs of that size in a mount namespace of the command's own
        mount = f"mount -t tmpfs -o size={kilobytes}k tmpfs {shlex.quote(str(disk))}"
        command = ["unshare", "-rm", "sh", "-c", f"{mount} && {{ {program}; code=$?; ls -A {shlex.quote(str(disk))}; exit $code; }}"]
    else:  # writes beyond the size fail (RLIMIT_FSIZE) where namespaces are not available
        limit = kilobytes * 1024
        command = [sys.executable, "-c", "import resource, signal, os, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
                   f"resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit})); os.execvp('sh', ['sh', '-c', "
                   f"{program + '; code=$?; ls -A ' + shlex.quote(str(disk)) + '; exit $code'!r}])"]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    line = done.stderr.strip()
    assert line.startswith(f"titanic-nn: error: {disk}: "), line
    assert line.endswith("free some space there or point TMPDIR at a folder with room"), line
    assert len(line) < 1000, line
    assert done.stdout.strip() == ""  # nothing left in $TMPDIR
    assert _tree(work) == before and list((tmp_path / "home").iterdir()) == []


@pytest.mark.parametrize("number", SIGNALS, ids=lambda n: signal.Signals(n).name)
def test_a_signal_during_import_leaves_nothing(small_book, tmp_path, monkeypatch, number):
    """import stopped as it reads the workbook: no output, no folder, the signal's code and its line."""
    import titanic_nn.workbook._readback as readback

    real = readback.read_rows

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), number)
        return real(*args, **kwargs)

    monkeypatch.setattr(readback, "read_rows", interrupted)
    (tmp_path / "work").mkdir()
    shutil.copy(small_book, tmp_path / "work" / "book.xlsx")
    run = _run(tmp_path, ["import", "book.xlsx", "--out", "out"], monkeypatch)
    assert run.code == 128 + number and run.lines == [_said(number)], run.err
    assert run.added() == set() and run.leftovers() == []
