"""Seconds and peak memory to write the lesson's three-model workbook, against a plain openpyxl writer.

    python bench/workbook_write.py [--rows 712 10000 100000] [--repeat 3] [--baseline-max 100000]
                                   [--baseline-repeat 1] [--no-memory]

Rows are the bundled training rows resampled with replacement (their test rows too). Our time is the
median of --repeat runs of tn.write_workbook. The baseline writes the same cells (the same formula
text, no cached values) one by one with openpyxl, in its ordinary mode; it is timed on the same sheet
descriptions, so only the writing differs; it takes minutes at 100,000 rows, so it runs
--baseline-repeat times (default once) at each size up to --baseline-max. The ratio printed is the
baseline's median seconds over ours, at the same size. Peak memory is tracemalloc's (Python
allocations) in a separate run, since tracing slows the writer down. The targets of the benchmark
issue: 100,000 rows in at most 10 s, under 300 MB, at least 2.5x faster than the baseline.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd  # noqa: E402

import titanic_nn as tn  # noqa: E402
from common import median_seconds  # noqa: E402
from titanic_nn.workbook import build_sheets, written_frame  # noqa: E402


def rows_of(train: pd.DataFrame, n: int) -> pd.DataFrame:
    if n <= len(train.dropna(subset=["Age", "Embarked"])):
        return train.dropna(subset=["Age", "Embarked"]).head(n).reset_index(drop=True)
    return train.dropna(subset=["Age", "Embarked"]).sample(n, replace=True, random_state=0).reset_index(drop=True)


def three_models(train: pd.DataFrame) -> list[tn.FittedModel]:
    features = tn.Features().fit(train)
    n = len(features.feature_names_)
    return [
        tn.FittedModel(features, model, model.init(n, seed=i), name)
        for i, (model, name) in enumerate(((tn.Linear(), "linear"), (tn.TwoReLU(), "nnet"), (tn.MatMulNet(), "mmult")))
    ]


def openpyxl_baseline(path: Path, fits: list[tn.FittedModel], train: pd.DataFrame, test: pd.DataFrame) -> None:
    import openpyxl
    from openpyxl.worksheet.formula import ArrayFormula

    from titanic_nn import excel

    features = fits[0].features
    kept = train.loc[features.train_index_]
    frame, filled = written_frame(features, kept, ["Survived"])
    test_frame, test_filled = written_frame(features, test, ["PassengerId"])
    model_sheets, others = build_sheets(fits, frame, filled, test_frame, test_filled, id_column="PassengerId")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for sheet in [m.sheet for m in model_sheets] + others:
        ws = book.create_sheet(sheet.name)
        for column in sheet.columns:
            ws.cell(sheet.first_row - 1, column.col + 1, column.header)
            values = list(column.values)
            for i in range(sheet.n_rows):
                row = sheet.first_row + i
                if column.formula is not None:
                    ws.cell(row, column.col + 1, "=" + column.formula.replace(excel.ROW, str(row + column.shift)))
                elif column.array_formula is not None and i == 0:
                    ws.cell(row, column.col + 1).value = ArrayFormula(column.array_ref, "=" + column.array_formula)
                elif not column.in_array:
                    ws.cell(row, column.col + 1, values[i])
        for single in sheet.cells:
            ws.cell(single.row, single.col + 1, "=" + single.formula if single.formula else single.value)
    book.save(path)


def peak_mb(run) -> float:
    tracemalloc.start()
    run()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[712, 10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs of write_workbook per size (median)")
    parser.add_argument("--baseline-max", type=int, default=100_000, help="skip the (slow) baseline above this")
    parser.add_argument("--baseline-repeat", type=int, default=1, help="runs of the baseline per size (median)")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    train_all, test = tn.load_titanic()
    with tempfile.TemporaryDirectory() as folder:
        for n in args.rows:
            train = rows_of(train_all, n)
            fits = three_models(train)
            target = Path(folder) / f"w{n}.xlsx"
            ours, _ = median_seconds(lambda: tn.write_workbook(target, fits, train, test), args.repeat)
            size = target.stat().st_size / 2**20
            memory = None if args.no_memory else peak_mb(lambda: tn.write_workbook(target, fits, train, test))
            base = None
            if n <= args.baseline_max:
                baseline_path = Path(folder) / f"b{n}.xlsx"
                base, _ = median_seconds(lambda: openpyxl_baseline(baseline_path, fits, train, test), args.baseline_repeat)
                baseline_path.unlink()
            mem = f"{memory:.0f} MB" if memory is not None else "-"
            versus = f"openpyxl {base:.2f} s, ratio {base / ours:.1f}x" if base else "openpyxl -"
            print(f"{n:>8} rows: write_workbook {ours:6.2f} s (median of {args.repeat}), peak {mem}, "
                  f"file {size:.1f} MB; {versus}", flush=True)


if __name__ == "__main__":
    main()
