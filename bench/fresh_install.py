"""Proof that the main job needs no torch: install titanic-nn into a fresh venv without torch and run `titanic-nn fit`.

    python bench/fresh_install.py [--keep DIR]

It creates a virtual environment with no system packages, installs this checkout with plain
`pip install <checkout>` (no extras, so no torch), checks that torch cannot be imported there, and
runs the README's main-job command, `titanic-nn fit`, which must write the submission and the
workbook; then `titanic-nn fit --method gd`, which must fail in one line naming the install command.
pip reads the package registries it is configured with (it may take a few minutes the first time).
It is a benchmark script, not a test, because it installs packages from the network.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(argv: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in argv], capture_output=True, text=True, **kwargs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build the venv here and keep it (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="titanic-nn-fresh-") as scratch:
        home = args.keep or Path(scratch)
        env_dir, work = home / "venv", home / "work"
        work.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        venv.EnvBuilder(with_pip=True, clear=True, system_site_packages=False).create(env_dir)
        python = env_dir / "bin" / "python"
        installed = run([python, "-m", "pip", "install", "-q", str(ROOT)])
        if installed.returncode != 0:
            print(installed.stderr[-3000:], file=sys.stderr)
            return 1
        print(f"installed titanic-nn without extras in {time.perf_counter() - started:.0f} s")
        probe = run([python, "-c", "import torch"])
        assert probe.returncode != 0, "torch is importable in the fresh venv; it should not be installed"
        print("torch: not installed (import torch fails), as intended")
        listing = run([python, "-m", "pip", "list", "--format=freeze"]).stdout
        assert not any(line.lower().startswith(("torch==", "nvidia-", "triton==")) for line in listing.splitlines())
        script = env_dir / "bin" / "titanic-nn"
        started = time.perf_counter()
        fit = run([script, "fit"], cwd=work)
        print(fit.stdout)
        if fit.returncode != 0:
            print(fit.stderr, file=sys.stderr)
            return 1
        out = work / "titanic-nn-out"
        assert (out / "submission.csv").read_text().startswith("PassengerId,Survived\n")
        assert (out / "titanic.xlsx").is_file()
        print(f"titanic-nn fit without torch: ok in {time.perf_counter() - started:.1f} s")
        gd = run([script, "fit", "--method", "gd", "--out", "gd-out"], cwd=work)
        assert gd.returncode == 1 and gd.stderr.count("\n") == 1 and 'titanic-nn[gd]' in gd.stderr, gd.stderr
        print(f"titanic-nn fit --method gd without torch: exit 1, {gd.stderr.strip()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
