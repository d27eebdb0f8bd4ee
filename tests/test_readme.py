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


@pytest.mark.libreoffice
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
