"""Shared fixtures: the bundled data and the lesson's default features; and the rule that only tests marked `engines`
start a spreadsheet engine (LibreOffice, Gnumeric, or Node for HyperFormula)."""

from __future__ import annotations

import os
import stat

import pytest

import titanic_nn as tn

# Every program a spreadsheet engine is started by (titanic_nn.engines.ENGINES' binaries).
ENGINE_PROGRAMS = ("soffice", "libreoffice", "ssconvert", "node", "nodejs")
UNMARKED = 97  # the exit status of a stand-in engine: a test started an engine without the marker


@pytest.fixture(scope="session")
def engine_stand_ins(tmp_path_factory):
    """A folder of stand-ins for the engines' programs, each failing with a message that names the missing marker."""
    folder = tmp_path_factory.mktemp("no-engines")
    for name in ENGINE_PROGRAMS:
        script = folder / name
        script.write_text(
            "#!/bin/sh\necho \"a test not marked 'engines' started the spreadsheet engine $0; mark it "
            f"@pytest.mark.engines\" >&2\nexit {UNMARKED}\n"
        )
        script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return folder


@pytest.fixture(autouse=True)
def only_marked_tests_start_engines(request, engine_stand_ins, monkeypatch):
    """A test without the `engines` marker finds only stand-ins on PATH (its subprocesses too), so one that starts an
    engine fails, and `-m "not engines"` truly leaves every recalculation out."""
    if request.node.get_closest_marker("engines") is None:
        monkeypatch.setenv("PATH", f"{engine_stand_ins}{os.pathsep}{os.environ.get('PATH', '')}")


@pytest.fixture(scope="session")
def titanic():
    """(train, test) DataFrames from the bundled files."""
    return tn.load_titanic()


@pytest.fixture(scope="session")
def lesson_xy(titanic):
    """The lesson workbook's 712 training rows as (features, X, y)."""
    train, _ = titanic
    feats = tn.Features()
    X, y = feats.fit_transform(train)
    return feats, X, y
