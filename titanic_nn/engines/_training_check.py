"""The training sheets checked against Python: every epoch's step from the sheet's own parameters, and the trajectory.

Each epoch's loss, gradient, optimiser state and next parameters are compared with Python's step
from the same parameters and state (rtol 1e-9): this holds however chaotic the descent. The whole
trajectory, Python's from the sheet's start and settings, is compared too and reported: it agrees
while the learning rate is a stable one, and drifts apart where tiny differences grow.
"""

from __future__ import annotations

import warnings

from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from ..training import Stepper
from ..workbook import TrainingLayout, WorkbookContents, read_blocks, read_epoch, read_settings, training_layouts, training_part

__all__ = ["TrainingReport", "compare_training_sheets", "number_or_nan"]


@dataclass
class TrainingReport:
    """One training sheet in one engine: the cells of its steps compared, and how far its trajectory strays.

    `trajectory_rel_diff` is the largest relative difference between the sheet's parameters and
    Python's trajectory from the same start; `trajectory_epoch` the first epoch beyond rtol 1e-9
    (None: the whole trajectory agrees).
    """

    sheet: str
    epochs: int
    cells_checked: int = 0
    mismatches: int = 0
    max_abs_diff: float = 0.0
    max_rel_diff: float = 0.0
    first_mismatch: str | None = None
    trajectory_rel_diff: float = 0.0
    trajectory_epoch: int | None = None

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.cells_checked > 0


def compare_training_sheets(contents: WorkbookContents, value_of: Callable[[str], Callable[[int, int], Any]], rtol: float, atol: float) -> list[TrainingReport]:
    """Every training sheet of `contents`, as an engine's copy holds it (`value_of(sheet)(row, col)`)."""
    n_train = int(contents.description["train_rows"])
    reports = []
    for fitted, layout in training_layouts(contents.description, contents.fits, n_train):
        value = value_of(layout.name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unseen levels were reported when the workbook was written
            X = fitted.features.transform(contents.train, training=True)
        X, y = training_part(fitted, X, fitted.features.target(contents.train))
        reports.append(_check(fitted.model, layout, X, y, value, rtol, atol))
    return reports


def _check(model: Any, layout: TrainingLayout, X: np.ndarray, y: np.ndarray, value: Any, rtol: float, atol: float) -> TrainingReport:
    report = TrainingReport(layout.name, layout.epochs)
    try:
        optimizer = read_settings(layout, value)
        start = read_blocks(layout.start, value, layout.name)
    except Exception as exc:  # a cell that is not a number: the sheet cannot be checked
        report.mismatches, report.first_mismatch = 1, str(exc)
        return report
    stepper = Stepper(model, X, y, optimizer)

    def compare(where: str, python: Sequence[np.ndarray], sheet: Sequence[np.ndarray]) -> None:
        for index, (a, b) in enumerate(zip(python, sheet)):
            a, b = np.asarray(a, dtype=np.float64).ravel(), np.asarray(b, dtype=np.float64).ravel()
            diff = np.abs(a - b)
            report.cells_checked += a.size
            if diff.size:
                report.max_abs_diff = max(report.max_abs_diff, float(diff.max()))
                nonzero = a != 0
                if nonzero.any():
                    report.max_rel_diff = max(report.max_rel_diff, float((diff[nonzero] / np.abs(a[nonzero])).max()))
            bad = ~(diff <= atol + rtol * np.abs(a))
            if bad.any():
                report.mismatches += int(bad.sum())
                if report.first_mismatch is None:
                    i = int(np.flatnonzero(bad)[0])
                    report.first_mismatch = f"{layout.name}: {where}, W{index + 1}: Python {a[i]!r}, sheet {b[i]!r}"

    states = stepper.zero_states(start)
    previous_next = start
    trajectory = stepper.run(start, layout.epochs)
    try:
        for number in range(1, layout.epochs + 1):
            params = read_epoch(layout, number, "params", value)
            compare(f"epoch {number}'s parameters (the step before's)", previous_next, params)
            step = stepper.step(number, params, states)
            top, col = layout.loss_cell(number)
            compare(f"epoch {number}'s loss", [np.array([step.loss])], [np.array([number_or_nan(value(top, col))])])
            for what, scheduled in (("rate", step.rate), ("momentum", step.momentum)):
                if what in layout.schedule_cols:
                    found = number_or_nan(value(top, layout.schedule_cols[what]))
                    compare(f"epoch {number}'s {what}", [np.array([scheduled])], [np.array([found])])
            compare(f"epoch {number}'s gradient", step.grads, read_epoch(layout, number, "grads", value))
            sheet_states = [{} for _ in params]
            for name in optimizer.states:
                found = read_epoch(layout, number, name, value)
                compare(f"epoch {number}'s {name}", [s[name] for s in step.states], found)
                for i, array in enumerate(found):
                    sheet_states[i][name] = array
            next_params = read_epoch(layout, number, "next", value)
            compare(f"epoch {number}'s next parameters", step.next_params, next_params)
            _stray(report, number, trajectory[number - 1].next_params, next_params, rtol, atol)
            states, previous_next = sheet_states, next_params
        compare("gd_final (the last epoch's next parameters)", previous_next, read_blocks(layout.final, value, layout.name))
    except Exception as exc:  # a cell that is not a number
        report.mismatches += 1
        report.first_mismatch = report.first_mismatch or str(exc)
    return report


def _stray(report: TrainingReport, number: int, python: Sequence[np.ndarray], sheet: Sequence[np.ndarray], rtol: float, atol: float) -> None:
    """Record how far the sheet's trajectory is from Python's, from the same start."""
    a = np.concatenate([np.ravel(p) for p in python])
    b = np.concatenate([np.ravel(p) for p in sheet])
    diff = np.abs(a - b)
    scale = np.maximum(np.abs(a), 1e-300)
    report.trajectory_rel_diff = max(report.trajectory_rel_diff, float((diff / scale).max()))
    if report.trajectory_epoch is None and not np.all(diff <= atol + rtol * np.abs(a)):
        report.trajectory_epoch = number


def number_or_nan(value: Any) -> float:
    """A cell's number, or NaN where it holds anything else (text, an error, nothing): counted as a disagreement."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return float("nan")
    return float(value)
