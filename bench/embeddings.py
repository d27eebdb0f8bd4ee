"""A categorical column of 500 levels, embedded: the table's width, the workbook's size and each engine's verify time.

    python bench/embeddings.py [--rows 10000] [--levels 500] [--engines libreoffice gnumeric hyperformula]

LibreOffice's own recalculation (calculateAll, its load apart) is measured by bench/lo_recalc.py where the system
Python has python3-uno; each engine's line is its whole run (start, load, recalculate, save) and its comparison.

A seeded generated table: a 500-level column (fastai's rule gives it 52 values), two continuous columns and a binary
target that depends on all three. The tabular model trains on it with the column embedded; the workbook holds the
501 x 52 table once, where dummies would be 499 columns on every row of every sheet.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import titanic_nn as tn  # noqa: E402
from titanic_nn.engines import ENGINES, compare, recalculate  # noqa: E402
from titanic_nn.features import Categorical, Continuous, Schema  # noqa: E402
from titanic_nn.workbook import read_contents  # noqa: E402


def levels_table(rows: int, levels: int, seed: int = 0) -> pd.DataFrame:
    """`rows` rows: Id, Shop (one of `levels` text levels, each with its own effect), Price, Age and a 0/1 Bought."""
    rng = np.random.default_rng(seed)
    names = np.array([f"shop{i:03d}" for i in range(levels)])
    shop = rng.integers(0, levels, rows)
    effect = rng.normal(0.0, 1.0, levels)
    price, age = rng.uniform(1.0, 100.0, rows).round(2), rng.integers(18, 80, rows)
    logit = effect[shop] - 0.02 * (price - 50.0) + 0.03 * (age - 50)
    bought = (rng.uniform(size=rows) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return pd.DataFrame({"Id": np.arange(1, rows + 1), "Shop": names[shop], "Price": price, "Age": age, "Bought": bought})


def schema() -> Schema:
    return Schema(
        target="Bought", id_column="Id", continuous=(Continuous("Price", scale="max"), Continuous("Age", scale="max")),
        categorical=(Categorical("Shop", embed=True),),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--levels", type=int, default=500)
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    parser.add_argument("--save", type=Path, metavar="BOOK.xlsx", help="keep the workbook there")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds each engine may take (default 1800)")
    args = parser.parse_args()
    train = levels_table(args.rows, args.levels)
    test = levels_table(1000, args.levels, seed=1).drop(columns="Bought")
    start = time.perf_counter()
    fitted = tn.train_model(
        train, tn.build_model("tabular", output="sigmoid", loss="logloss"), features=tn.Features(schema()),
        method="gd", epochs=200, lr=0.01, restarts=4,
    )
    fitted.name = "tabular"
    trained = time.perf_counter() - start
    table = fitted.model.arrays(fitted.params)[-1]
    print(f"{args.rows:,} rows, {args.levels} levels: an embedding table of {table.shape[0]} x {table.shape[1]}; "
          f"trained in {trained:.1f} s, valid accuracy {fitted.training['valid_accuracy']:.3f}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        path = tn.write_workbook(Path(folder) / "levels.xlsx", [fitted], train, test)
        print(f"workbook: {path.stat().st_size / 1e6:.1f} MB written in {time.perf_counter() - start:.1f} s", flush=True)
        if args.save is not None:
            args.save.write_bytes(path.read_bytes())
        contents = read_contents(path)
        system_python = shutil.which("python3", path="/usr/bin")
        if "libreoffice" in args.engines and system_python:  # LibreOffice's own recalculation, where python3-uno is
            script = Path(__file__).resolve().parent / "lo_recalc.py"
            done = subprocess.run([system_python, str(script), str(path)], capture_output=True, text=True, timeout=900)
            print(done.stdout.strip() or f"LibreOffice's own recalculation: not measured ({done.stderr.strip()[-200:]})")
        for engine in args.engines:
            start = time.perf_counter()
            (out,) = recalculate([path], Path(folder) / engine, engine=engine, timeout=args.timeout)
            recalc = time.perf_counter() - start
            report = compare(contents, out, engine)
            print(
                f"{engine:<12}: recalculation {recalc:6.2f} s (start, load, recalculate, save); {report.cells_checked} "
                f"cells, ok={report.ok}", flush=True,
            )
            if not report.ok:
                print(str(report))


if __name__ == "__main__":
    main()
