"""The README's examples run as written: its Python block verbatim, and its shell commands in order."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def python_blocks() -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", README, re.MULTILINE | re.DOTALL)


@pytest.mark.engines
def test_the_python_api_block_runs_verbatim(tmp_path):
    """Extracted from the README itself, run in an empty folder as a user would paste it."""
    blocks = python_blocks()
    assert len(blocks) == 1, "the README has one Python API block"
    script = tmp_path / "readme_api.py"
    # the block's last expressions are shown in comments as a REPL would print them; print them here
    probe = "\nprint('verify ok:', tn.verify('titanic.xlsx').ok)\nprint('loaded:', nnet)\nprint('fit:', fit)\n"
    script.write_text(blocks[0] + probe, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "verify ok: True" in done.stdout
    # the loaded model prints as one short line, not its parameters and loss history
    printed = {line.split(":", 1)[0]: line for line in done.stdout.splitlines() if ":" in line}
    assert len(printed["loaded"]) < 300 and "FittedModel(name='nnet'" in printed["loaded"]
    assert len(printed["fit"]) < 300 and "FitResult(method='gd'" in printed["fit"]
    assert {p.name for p in tmp_path.iterdir()} >= {"nnet.json", "titanic.xlsx"}


def loans(rows: int, seed: int) -> "pd.DataFrame":
    """A loan table like the README's example: LoanId, Grade A/B/C, Income, Age and a 0/1 Default."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    grade = rng.choice(["A", "B", "C"], size=rows)
    income = np.round(rng.lognormal(10, 0.6, size=rows))
    score = (grade == "C") * 1.2 - np.log10(income + 1) + 4.2 + rng.normal(0, 0.3, size=rows)
    return pd.DataFrame({"LoanId": np.arange(1000, 1000 + rows), "Grade": grade, "Income": income,
                         "Age": rng.integers(18, 70, size=rows), "Default": (score > 0.4).astype(int)})


def test_the_toml_schema_example_gives_no_false_warnings(tmp_path):
    """Grade lists only C: the levels it does not list (A, B, seen hundreds of times) are the reference, not unseen."""
    import warnings

    import titanic_nn as tn

    toml = re.search(r"^```toml\n(.*?)^```", README, re.MULTILINE | re.DOTALL).group(1)
    (tmp_path / "loans.toml").write_text(toml)
    schema = tn.Schema.from_file(tmp_path / "loans.toml")
    train, new = loans(400, 1), loans(50, 2).drop(columns="Default")
    features = tn.Features(schema)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any UnseenLevelWarning fails the test
        X, _ = features.fit_transform(train)
        features.transform(new)
    assert features.references_ == {"Grade": ("A", "B")}
    grade_c = features.feature_names_.index("GradeC")
    assert X[:, grade_c].tolist() == (train["Grade"] == "C").astype(float).tolist()
    odd = new.head(3).assign(Grade=["C", "D", "A"])  # D never seen in training: that one is warned about
    with pytest.warns(tn.UnseenLevelWarning, match=r"column Grade: level\(s\) \['D'\] never seen in training"):
        features.transform(odd)


def indented_block_after(heading: str) -> list[str]:
    """The command lines of the first indented code block after `heading`."""
    text = README[README.index(heading):]
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("    titanic-nn "))
    block = []
    for line in lines[start:]:
        if not line.startswith("    "):
            break
        block.append(line.strip())
    return block


@pytest.mark.engines
def test_the_other_commands_run_as_pasted_after_the_main_job(tmp_path, monkeypatch):
    import io
    import shlex
    from contextlib import redirect_stderr, redirect_stdout

    from titanic_nn.cli import main

    assert "    pip install . && titanic-nn fit\n" in README  # the main job, as Set up gives it
    commands = ["titanic-nn fit", *indented_block_after("## The other commands")]
    assert len(commands) == 6 and all(c.startswith("titanic-nn ") for c in commands)
    monkeypatch.chdir(tmp_path)
    for command in commands:
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            code = main(shlex.split(command)[1:])
        assert code == 0, f"{command}: {err.getvalue()}"
    assert {"submission.csv", "book.xlsx", "two.xlsx", "titanic-nn-out", "imported"} <= {p.name for p in tmp_path.iterdir()}
    assert (tmp_path / "imported" / "submission.csv").read_text().startswith("PassengerId,Survived\n")
