"""Seconds for tn.verify on the three-model workbook, per engine: the read, the engine's recalculation, the comparison.

    python bench/verify_time.py [--rows 712 10000] [--engines libreoffice gnumeric]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import titanic_nn as tn  # noqa: E402
from titanic_nn.engines import ENGINES, compare, recalculate  # noqa: E402
from titanic_nn.workbook import read_contents  # noqa: E402
from workbook_write import rows_of, three_models  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[712, 10_000])
    parser.add_argument("--engines", nargs="+", choices=list(ENGINES), default=list(ENGINES))
    args = parser.parse_args()
    train_all, test = tn.load_titanic()
    with tempfile.TemporaryDirectory() as folder:
        for n in args.rows:
            train = rows_of(train_all, n)
            path = tn.write_workbook(Path(folder) / f"w{n}.xlsx", three_models(train), train, test)
            for engine in args.engines:
                start = time.perf_counter()
                contents = read_contents(path)
                read = time.perf_counter() - start
                (out,) = recalculate([path], Path(folder) / engine, engine=engine)
                recalc = time.perf_counter() - start - read
                report = compare(contents, out, engine)
                total = time.perf_counter() - start
                print(f"{n:>7} rows, {engine:<11}: verify {total:6.2f} s (read {read:.2f}, recalculation {recalc:.2f}, "
                      f"compare {total - read - recalc:.2f}); {report.cells_checked} cells, ok={report.ok}", flush=True)


if __name__ == "__main__":
    main()
