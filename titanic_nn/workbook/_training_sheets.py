"""Training sheets: gradient descent on a model sheet, written in formulas, one block of array formulas per epoch.

For a model sheet `nnet` its training sheet `train_nnet` holds, in orange cells, the learning rate and
the optimiser's settings (`gd_lr`), the weight decay and the schedule's settings where it has them, and the
starting parameters (`gd_start`, laid out like the model sheet's parameter block); then one block per epoch: that
epoch's rate and momentum (a schedule's, from the settings' cells), its parameters, its loss, its gradient
(one array formula per parameter array: `training.loss_and_grad`, the walk of the program Python's
gradient takes, run on nn's Excel backend), the optimiser's new state and the next epoch's parameters. The last
epoch's are `gd_final`, laid out like the model sheet's block, so its values can be pasted there;
`gd_loss` is the loss per epoch, charted. Every cell caches Python's float64 value. An embedding table is a block like
the weights (its rows the levels); the epoch's lookups in it and its gradient are one-hot products (nn's Excel backend).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Sequence

import numpy as np

from .. import excel
from .._constraints import SHEET_EPOCHS, WD
from ..errors import TitanicNNError
from ..nn import ExcelBackend
from ..training import (
    OPTIMIZERS, SCHEDULES, Descent, Epoch, FittedModel, Optimizer, Stepper, as_descent, loss_and_grad, make_optimizer,
    make_schedule, start_seed, trained_wd,
)
from ._cells import Block, Cell, Sheet
from ._layout import FIRST_ROW, HEADER_ROW, ParamBlock

__all__ = [
    "SheetTraining", "TrainingData", "TrainingLayout", "training_layout", "training_sheet", "gradient_formulas",
    "training_data", "training_part", "check_training_sheets", "PREFIX",
]

PREFIX = "train_"
SETTINGS_ROW = 2
REGION_ROW = 5  # the start and final blocks' header row
CHART_ROWS = 16  # the loss chart sits beside the start and final blocks, above the epoch table
MAX_SHEET_CHARS = 31
# A training sheet recalculates every epoch's forward and backward pass over every row: beyond this many
# epochs x rows x parameters (about 50 s of LibreOffice on a 2-core machine, several minutes of
# Gnumeric) it is refused. 300 epochs of the lesson's nets (20 parameters) fit up to 16,666 rows.
MAX_WORK = 100_000_000


@dataclass(frozen=True)
class SheetTraining:
    """How the workbook's training sheets train: `epochs` (fixed when written), the optimiser, its schedule and decay.

    `optimizer` None takes a model's own gradient-descent optimiser and learning rate when it was
    trained by gradient descent, else Adam with lr 0.01; `lr` and `settings` (momentum; beta1, beta2,
    eps; the schedule's div, div_final, pct_start, mom_start, mom_mid, mom_end) override. `schedule` None takes the
    model's own gradient-descent schedule, else "constant"; `wd` None the weight decay the model trained with (by
    either trainer), else none. The sheet's settings and start are input cells: a user changes them and it retrains.
    """

    epochs: int = 300
    optimizer: str | None = None
    lr: float | None = None
    settings: dict[str, float] = field(default_factory=dict)
    schedule: str | None = None
    wd: float | None = None

    def __post_init__(self) -> None:
        SHEET_EPOCHS.check(self.epochs)
        if self.optimizer is not None and self.optimizer not in OPTIMIZERS:
            raise TitanicNNError(f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {self.optimizer!r}")
        if self.schedule is not None and self.schedule not in SCHEDULES:
            raise TitanicNNError(f"schedule must be one of {', '.join(SCHEDULES)}, not {self.schedule!r}")
        if self.wd is not None:
            WD.check(self.wd)

    @staticmethod
    def left_out(model: Any) -> str | None:
        """Why a model gets no training sheet (None: it gets one). A sheet holds one descent of one set of parameters,
        so a model of several members (an ensemble) gets none; its members train in Python."""
        if model.k > 1:
            return "an ensemble (--ensemble) gets none, its members are trained in Python"
        return None

    @classmethod
    def trains(cls, model: Any) -> bool:
        """Whether a model gets a training sheet (`left_out` says why not)."""
        return cls.left_out(model) is None

    def check(self, name: str, n_rows: int, n_params: int, levels: int = 0) -> None:
        """Refuse (never cut short) a training sheet longer to recalculate than a user waits for.

        An embedding table's lookup and its gradient are products of a (rows x levels) one-hot block with the table's
        levels x k entries, counted among the parameters like a weight's; `levels` (all the tables' rows) adds the
        one-hot blocks themselves, each built twice an epoch (for the lookup and for the gradient)."""
        per_row = n_params + 2 * levels
        work = self.epochs * n_rows * per_row
        if work > MAX_WORK:
            lookups = f" (and {levels:,} table rows' one-hot lookups)" if levels else ""
            raise TitanicNNError(
                f"the training sheet of {name} would recalculate {self.epochs:,} epochs x {n_rows:,} rows x {n_params:,} "
                f"parameters{lookups}, {work:,} in all, more than a spreadsheet recalculates in a reasonable time "
                f"({MAX_WORK:,}); write fewer epochs (--sheet-epochs) or none (--sheet-epochs 0)"
            )

    def descent_for(self, fitted: FittedModel) -> Descent:
        """The descent `fitted`'s training sheet writes: these settings over those the model trained with."""
        record = fitted.training if isinstance(fitted.training, dict) else {}
        own = record.get("settings") if isinstance(record.get("settings"), dict) else {}
        trained = own if record.get("method") == "gd" else {}
        optimizer = self._optimizer(trained)
        name = self.schedule or trained.get("schedule") or "constant"
        recorded = trained.get("schedule_settings") if name == trained.get("schedule") else None
        schedule = make_schedule(name, (recorded if isinstance(recorded, dict) else {}) | self.settings)
        # the solver's wd is the same decay in its L2 form: a sheet of a model solved with decay descends with it
        wd = self.wd if self.wd is not None else trained_wd(record)
        return Descent(optimizer, self.epochs, schedule, float(wd))

    def _optimizer(self, trained: dict[str, Any]) -> Optimizer:
        name = self.optimizer or trained.get("optimizer") or "adam"
        same = name == trained.get("optimizer")
        lr = self.lr if self.lr is not None else (trained.get("lr") if same else None)
        settings = {}
        if same:
            betas = trained.get("betas") or (None, trained.get("beta2"))
            settings = {"momentum": trained.get("momentum"), "beta1": betas[0], "beta2": betas[1], "eps": trained.get("eps")}
        return make_optimizer(name, float(lr if lr is not None else 0.01), **(settings | self.settings))


@dataclass(frozen=True)
class TrainingLayout:
    """Where everything sits on a training sheet (rows 1-based, columns 0-based)."""

    name: str
    model_sheet: str
    descent: Descent  # the optimiser, its schedule over the sheet's epochs and the weight decay
    epochs: int
    settings: dict[str, tuple[int, int]]  # setting name -> its input cell
    start: list[ParamBlock]  # gd_start: like the model sheet's blocks
    final: list[ParamBlock]  # gd_final
    region: tuple[int, int]  # (height, width) of each of those two regions
    table_row: int  # the epoch table's header row
    epoch_rows: int  # rows per epoch block, a blank one included
    groups: tuple[str, ...]  # "params", "grads", the optimiser's states, "next"
    lefts: dict[tuple[str, int], int]  # (group, array) -> the block's left column
    grids: list[tuple[int, int]]  # each array's grid (rows, columns), as on the model sheet
    layouts: list[Any]  # each array's layout, as on the model sheet
    loss_table: int  # the column of the per-epoch loss table (epoch, loss): gd_loss is the second
    schedule_cols: dict[str, int] = field(default_factory=dict)  # "rate", "momentum" -> its column, where scheduled

    EPOCH_COL = 0
    LOSS_COL = 1

    @property
    def optimizer(self) -> Optimizer:
        return self.descent.optimizer

    def rate_ref(self, epoch: int) -> str:
        """The cell holding epoch `epoch`'s learning rate: its own under a schedule, else the lr setting."""
        if "rate" in self.schedule_cols:
            return excel.absolute(self.top(epoch), self.schedule_cols["rate"])
        return self.setting_ref("lr")

    def step_cells(self, epoch: int) -> dict[str, str]:
        """The optimiser's settings as epoch `epoch`'s formulas read them: the epoch's rate and momentum cells in place
        of the learning rate and the setting the schedule moves."""
        cells = {name: self.setting_ref(name) for name in self.settings}
        cells["lr"] = self.rate_ref(epoch)
        if "momentum" in self.schedule_cols:
            cells[self.optimizer.MOMENTUM] = excel.absolute(self.top(epoch), self.schedule_cols["momentum"])
        return cells

    def top(self, epoch: int) -> int:
        """The first row of epoch `epoch`'s block (epochs count from 1)."""
        return self.table_row + 1 + (epoch - 1) * self.epoch_rows

    def block(self, epoch: int, group: str, index: int) -> tuple[int, int, int, int]:
        """(top, left, bottom, right) of array `index`'s block of `group` in epoch `epoch`."""
        rows, cols = self.grids[index]
        top, left = self.top(epoch), self.lefts[(group, index)]
        return top, left, top + rows - 1, left + cols - 1

    def block_ref(self, epoch: int, group: str, index: int) -> str:
        top, left, bottom, right = self.block(epoch, group, index)
        return excel.area(excel.absolute(top, left), excel.absolute(bottom, right))

    def loss_cell(self, epoch: int) -> tuple[int, int]:
        return self.top(epoch), self.LOSS_COL

    def setting_ref(self, name: str) -> str:
        return excel.absolute(*self.settings[name])

    def last_row(self) -> int:
        return max(self.top(self.epochs) + self.epoch_rows - 2, self.table_row + self.epochs)

    def last_col(self) -> int:
        return self.loss_table + 1

    def region_range(self, blocks: Sequence[ParamBlock]) -> str:
        height, width = self.region
        left = blocks[0].label_col
        return excel.area(excel.absolute(REGION_ROW, left), excel.absolute(REGION_ROW + height - 1, left + width - 1))

    def loss_range(self) -> str:
        return excel.area(
            excel.absolute(self.table_row + 1, self.loss_table + 1),
            excel.absolute(self.table_row + self.epochs, self.loss_table + 1),
        )


def training_name(model_sheet: str) -> str:
    name = PREFIX + model_sheet
    if len(name) > MAX_SHEET_CHARS:
        raise TitanicNNError(
            f"model {model_sheet}: its training sheet {name} would need more than Excel's {MAX_SHEET_CHARS} characters; "
            f"name the model with at most {MAX_SHEET_CHARS - len(PREFIX)}, or write no training sheets"
        )
    return name


def training_layout(
    model_sheet: str, blocks: Sequence[ParamBlock], rule: Optimizer | Descent, epochs: int
) -> TrainingLayout:
    """The layout of `model_sheet`'s training sheet, from its parameter blocks; `rule` over `epochs` epochs."""
    descent = replace(as_descent(rule), steps=max(int(epochs), 1))
    blocks = sorted(blocks, key=lambda b: b.index)
    label_col = min(b.label_col for b in blocks)
    width = max(b.right for b in blocks) - label_col + 1
    height = max(b.bottom for b in blocks) - HEADER_ROW + 1
    shift = REGION_ROW - HEADER_ROW
    start = [replace(b, label_col=b.label_col - label_col, header_row=b.header_row + shift) for b in blocks]
    final = [replace(b, label_col=b.label_col - label_col + width + 1, header_row=b.header_row + shift) for b in blocks]
    settings = {}
    col = 0
    for name in descent.settings():
        settings[name] = (SETTINGS_ROW, col + 1)
        col += 2
    groups = ("params", "grads", *descent.states, "next")
    grids = [b.grid_shape for b in blocks]
    scheduled = ("rate", "momentum") if descent.moves_momentum else ("rate",) if descent.schedule.varies else ()
    schedule_cols = {what: TrainingLayout.LOSS_COL + 1 + i for i, what in enumerate(scheduled)}
    lefts, col = {}, TrainingLayout.LOSS_COL + 1 + len(scheduled)
    for group in groups:
        for index in range(len(blocks)):
            lefts[(group, index)] = col
            col += grids[index][1] + 1
    rows = max(g[0] for g in grids)
    layout = TrainingLayout(
        name=training_name(model_sheet), model_sheet=model_sheet, descent=descent, epochs=epochs,
        settings=settings, start=start, final=final, region=(height, width),
        table_row=max(REGION_ROW + height + 1, CHART_ROWS + 2),
        epoch_rows=rows + 1, groups=groups, lefts=lefts, grids=grids, layouts=[b.layout for b in blocks], loss_table=col + 1,
        schedule_cols=schedule_cols,
    )
    if layout.last_row() > excel.MAX_ROWS or layout.last_col() >= excel.MAX_COLUMNS:
        raise TitanicNNError(
            f"the training sheet of {model_sheet} would need {layout.last_row():,} rows and {layout.last_col() + 1:,} "
            f"columns, more than a sheet holds; write fewer epochs (--sheet-epochs) than {epochs:,}"
        )
    return layout


# -- the formulas ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainingData:
    """The model sheet's data a training sheet reads: its input block, target column and Valid column (absolute,
    sheet-qualified) and how many rows they hold. When rows are held out for validation (`held_out`) only the
    rows marked 0 train, as in Python, and moved marks move them."""

    inputs: str
    target: str
    n_rows: int
    marks: str
    held_out: bool = False
    coding: Any = None  # the features' Target: the sheet holds the file's values, the formulas code them
    statistic: str | None = None  # the cell of the target's learned statistic (a regression target's scale)
    outputs: int = 1  # the model values per row: K for several classes, whose coded block `target` is then

    def ones_row(self) -> str:
        """A row of ones, one per data row: the Valid marks (always numbers) times 0, plus 1."""
        return excel.TRANSPOSE(f"0*{self.marks}+1")

    def ones_col(self) -> str:
        """A column of ones, one per data row (an embedded column's one-hot block compares level numbers with it)."""
        return f"(0*{self.marks}+1)"

    def coded_target(self) -> str:
        return self.target if self.coding is None else self.coding.excel_code(self.target, array=True, statistic=self.statistic)

    def count(self) -> str:
        return excel.COUNTIF(self.marks, 0) if self.held_out else str(self.n_rows)

    def weights(self) -> str | None:
        return f"({self.marks}=0)" if self.held_out else None


def training_data(fitted: FittedModel, model_sheet: str, data: Any, n_rows: int, valid_col: int) -> TrainingData:
    """The TrainingData of `fitted`'s model sheet, masked by its Valid marks when its record holds rows out."""
    from ..training import valid_positions
    from ._sheets import VALID_OFFSET, coded_block, target_statistic_ref

    first, last = FIRST_ROW, FIRST_ROW + n_rows - 1

    def column(left: int, right: int) -> str:
        return excel.on_sheet(model_sheet, excel.area(excel.absolute(first, left), excel.absolute(last, right)))

    target_col = data.raw[fitted.features.schema_.target_columns[0]]
    held_out = len(valid_positions(fitted.training, n_rows)) > 0
    statistic = target_statistic_ref(fitted.features, data, model_sheet)
    coded = coded_block(fitted.features, data, valid_col - VALID_OFFSET)
    if coded is not None:  # the model sheet's one-hot block, or several labels' columns, hold the model values
        return TrainingData(
            column(data.first_input, data.last_input), column(*coded), n_rows, column(valid_col, valid_col), held_out,
            None, None, fitted.features.target_.outputs,
        )
    return TrainingData(
        column(data.first_input, data.last_input), column(target_col, target_col), n_rows,
        column(valid_col, valid_col), held_out, fitted.features.target_, statistic,
    )


def training_part(fitted: FittedModel, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows gradient descent trains on (those not held out for validation), as the sheet selects them."""
    from ..training import valid_positions

    keep = np.ones(len(y), dtype=bool)
    keep[valid_positions(fitted.training, len(y))] = False
    return X[keep], y[keep]


def gradient_formulas(
    fitted: FittedModel, layout: TrainingLayout, epoch: int, data: TrainingData
) -> tuple[str, list[str]]:
    """(the loss's formula, each parameter array's gradient in its block's layout) of epoch `epoch`.

    The program's `loss_and_grad`, the walk Python's gradient takes, run on nn's Excel backend: the model
    sheet's input block, the target column and each array's block as this epoch holds it, so each value
    is an array expression over the rows; a final sigmoid under log loss is computed on the logits, as
    the trainers do.
    """
    model = fitted.model
    shapes = model.shapes(fitted.features.n_features_)
    backend = ExcelBackend(ones_row=data.ones_row(), weights=data.weights(), ones_col=data.ones_col())
    rows = backend.formula(data.count())
    # the model sheet's input block: the features as they are (an embedded column's level number among them), which
    # the program's Embed ops widen to the first weight's rows
    X = backend.formula(data.inputs, (rows, fitted.features.n_features_))
    y = backend.formula(data.coded_target(), (rows,) if data.outputs == 1 else (rows, data.outputs))
    params = [
        backend.formula(block_layout.program(layout.block_ref(epoch, "params", index)), shapes[index])
        for index, block_layout in enumerate(layout.layouts)
    ]
    loss, grads = loss_and_grad(model.program(), model.loss_op, X, y, params, backend)
    blocks = [block_layout.cells(excel.strip_outer(g.text)) for block_layout, g in zip(layout.layouts, grads)]
    return excel.strip_outer(loss.text), blocks


# -- the sheet -------------------------------------------------------------------------------------


@dataclass
class TrainingSheet:
    sheet: Sheet
    layout: TrainingLayout
    names: dict[str, str]  # defined name -> range, local to the sheet


def start_arrays(fitted: FittedModel, n_features: int) -> list[np.ndarray]:
    """The start Python used for the kept start (the solver's or gradient descent's), else seed 0's."""
    record = fitted.training if isinstance(fitted.training, dict) else {}
    settings = record.get("settings") if isinstance(record.get("settings"), dict) else {}
    seed, best = settings.get("seed", 0), record.get("best_start", 0)
    if not isinstance(seed, int) or not isinstance(best, int) or isinstance(seed, bool) or best < 0:
        seed, best = 0, 0
    member = fitted.model.member  # a sheet trains one member: the start its training drew
    return member.arrays(member.init(n_features, seed=start_seed(seed, best)))


def training_sheet(
    fitted: FittedModel,
    model_sheet: str,
    blocks: Sequence[ParamBlock],
    data: TrainingData,
    X: np.ndarray,
    y: np.ndarray,
    training: SheetTraining,
    start: Sequence[np.ndarray] | None = None,
) -> TrainingSheet:
    """`fitted`'s training sheet on the model sheet's rows `data` (X, y: all of them, as Python holds them)."""
    layout = _checked_layout(fitted, model_sheet, blocks, data, training)
    descent = layout.descent
    start = list(start) if start is not None else start_arrays(fitted, X.shape[1])
    X_train, y_train = training_part(fitted, X, y)
    history = Stepper(fitted.model, X_train, y_train, descent).run(start, training.epochs)
    sheet = Sheet(layout.name, FIRST_ROW, 0)
    cells = sheet.cells
    cells.append(Cell(
        1, 0,
        f"{layout.name}: gradient descent on sheet {model_sheet} ({_rule_said(descent)}, {training.epochs} epochs, "
        f"{_rows_said(data, len(y_train))}), every step a formula. Change the orange cells (the settings, the start) and it trains again.",
        style="label",
    ))
    values = descent.settings()
    for name, (row, col) in layout.settings.items():
        cells.append(Cell(row, col - 1, descent.label(name), style="label"))
        cells.append(Cell(row, col, values[name], style="param"))
    final_at = excel.absolute(HEADER_ROW, blocks[0].label_col).replace("$", "")
    cells.append(Cell(
        3, 0,
        f"gd_start (left) is epoch 1's parameters; gd_final (right) the last epoch's. To use them, copy gd_final and "
        f"paste its values at {model_sheet}!{final_at}; Solver still works there.",
        style="note",
    ))
    cells += _region_cells(layout.start, start, "Start: ", values=True)
    cells += _region_cells(layout.final, history[-1].next_params, "Final: ", values=False)
    sheet.blocks += _final_blocks(layout, history[-1])
    table_cells, table_blocks = _epoch_table(fitted, layout, history, data)
    cells += table_cells
    sheet.blocks += table_blocks
    sheet.frozen_columns = 2
    names = {
        "gd_lr": layout.setting_ref("lr"),
        "gd_start": layout.region_range(layout.start),
        "gd_final": layout.region_range(layout.final),
        "gd_loss": layout.loss_range(),
    }
    return TrainingSheet(sheet, layout, names)


def _rule_said(descent: Descent) -> str:
    """The optimiser, and its schedule and weight decay where it has them, as the sheet's title says them."""
    said = [descent.name]
    if descent.schedule.varies:
        said.append(f"{descent.schedule.name} schedule")
    if descent.wd:
        said.append(f"weight decay {descent.wd:g}")
    return ", ".join(said)


def _rows_said(data: TrainingData, n_train: int) -> str:
    if not data.held_out:
        return f"{data.n_rows} rows"
    return f"the {n_train} rows marked Valid 0 of {data.n_rows}"


def _checked_layout(
    fitted: FittedModel, model_sheet: str, blocks: Sequence[ParamBlock], data: TrainingData, training: SheetTraining
) -> TrainingLayout:
    """The training sheet's layout, or a TitanicNNError when it would be too long to recalculate or its
    formulas longer than Excel takes (never a sheet cut short)."""
    layout = training_layout(model_sheet, blocks, training.descent_for(fitted), training.epochs)
    model = fitted.model
    training.check(
        model_sheet, data.n_rows, model.n_params(fitted.features.n_features_), sum(levels for levels, _ in model.member.tables)
    )
    loss_formula, grad_formulas = gradient_formulas(fitted, layout, training.epochs, data)
    for what, formula in [("loss", loss_formula)] + [("gradient", f) for f in grad_formulas]:
        try:
            excel.checked(formula)
        except TitanicNNError as exc:
            raise TitanicNNError(
                f"the training sheet of {model_sheet}: its {what} is a formula of {len(formula):,} characters, more "
                f"than Excel's {excel.MAX_FORMULA_CHARS:,} (each layer repeats the ones below it); write no training "
                "sheets (--sheet-epochs 0) or train a shallower net in the sheet"
            ) from exc
    return layout


def check_training_sheets(fits: Sequence[FittedModel], n_rows: int, training: SheetTraining) -> None:
    """What `write_workbook(training=...)` would refuse about these models' training sheets, before any writing."""
    from ._sheets import VALID_OFFSET, model_layout

    for fitted in (f for f in fits if training.trains(f.model)):
        data, blocks, loss_col = model_layout(fitted.features, fitted.model, n_rows)
        rows = training_data(fitted, fitted.name, data, n_rows, loss_col + VALID_OFFSET)
        _checked_layout(fitted, fitted.name, blocks, rows, training)


def _region_cells(blocks: Sequence[ParamBlock], arrays: Sequence[np.ndarray], title: str, values: bool) -> list[Cell]:
    """Blocks laid out as on the model sheet: titles and labels, and (with `values`) `arrays` in orange cells."""
    from ._sheets import param_cells

    cells = [c for c in param_cells(blocks, arrays) if values or c.style != "param"]
    for cell in cells:
        if cell.row == blocks[0].header_row and cell.col == blocks[0].label_col:
            cell.value = title + str(cell.value)
    return cells


def _final_blocks(layout: TrainingLayout, last: Epoch) -> list[Block]:
    """gd_final's numbers: the last epoch's next parameters, laid out as on the model sheet."""
    return [
        Block(block.top, block.left, block.grid(last.next_params[index]), None, "total",
              copy_of=layout.block(layout.epochs, "next", index)[:2])
        for index, block in enumerate(layout.final)
    ]


def _epoch_table(
    fitted: FittedModel, layout: TrainingLayout, history: Sequence[Epoch], data: TrainingData
) -> tuple[list[Cell], list[Block]]:
    """The epoch table: headers and epoch numbers as cells, every formula a block (one array formula each)."""
    cells = [
        Cell(layout.table_row, layout.EPOCH_COL, "Epoch", style="header"),
        Cell(layout.table_row, layout.LOSS_COL, "Loss", style="header"),
    ]
    descent = layout.descent
    heads = {"rate": "Rate", "momentum": _momentum_label(descent)}
    cells += [Cell(layout.table_row, col, heads[what], style="header") for what, col in layout.schedule_cols.items()]
    titles = {"params": "", "grads": "grad ", "next": "next "}
    for (group, index), left in layout.lefts.items():
        label = titles.get(group, group + " ")
        cells.append(Cell(layout.table_row, left, f"{label}W{index + 1}".strip(), style="header"))
    cells += [
        Cell(layout.table_row, layout.loss_table, "Epoch", style="header"),
        Cell(layout.table_row, layout.loss_table + 1, "Loss", style="header"),
    ]
    blocks: list[Block] = []
    optimizer = layout.optimizer
    setting_refs = {name: layout.setting_ref(name) for name in layout.settings}
    setting_refs["lr"] = layout.setting_ref("lr")
    wd_ref = setting_refs.get("wd")
    masks = fitted.model.decay_masks(fitted.features.n_features_)
    for epoch in history:
        k = epoch.number
        top = layout.top(k)
        cells.append(Cell(top, layout.EPOCH_COL, float(k)))
        number_cell = excel.absolute(top, layout.EPOCH_COL)
        # the schedule's rate and momentum of this epoch, from the settings' cells (so lr reshapes the whole cycle)
        if "rate" in layout.schedule_cols:
            formula = descent.schedule.excel_rate(number_cell, layout.epochs, setting_refs)
            blocks.append(Block(top, layout.schedule_cols["rate"], np.array([[epoch.rate]]), formula, "number"))
        if "momentum" in layout.schedule_cols:
            formula = descent.schedule.excel_momentum(number_cell, layout.epochs, setting_refs)
            blocks.append(Block(top, layout.schedule_cols["momentum"], np.array([[epoch.momentum]]), formula, "number"))
        step_refs = layout.step_cells(k)
        loss_formula, grad_formulas = gradient_formulas(fitted, layout, k, data)
        blocks.append(Block(top, layout.LOSS_COL, np.array([[epoch.loss]]), loss_formula, "number"))
        for index, block in enumerate(layout.start):
            grid = block.grid
            # epoch 1 starts from gd_start; every other epoch from the one before's next parameters
            source = (block.top, block.left) if k == 1 else layout.block(k - 1, "next", index)[:2]
            blocks.append(Block(top, layout.lefts[("params", index)], grid(epoch.params[index]), None, "number", copy_of=source))
            blocks.append(Block(top, layout.lefts[("grads", index)], grid(epoch.grads[index]), grad_formulas[index], "number"))
            grad_ref = layout.block_ref(k, "grads", index)
            old = {name: ("0" if k == 1 else layout.block_ref(k - 1, name, index)) for name in optimizer.states}
            for name, formula in optimizer.excel_states(grad_ref, old, step_refs).items():
                blocks.append(Block(top, layout.lefts[(name, index)], grid(epoch.states[index][name]), formula, "number"))
            new = {name: layout.block_ref(k, name, index) for name in optimizer.states}
            # decoupled weight decay scales the parameters before the optimiser's step, as Python's Descent does
            param = descent.excel_decayed(layout.block_ref(k, "params", index), grid(masks[index]), step_refs["lr"], wd_ref)
            update = optimizer.excel_param(param, grad_ref, new, number_cell, step_refs)
            blocks.append(Block(top, layout.lefts[("next", index)], grid(epoch.next_params[index]), update, "number"))
        row = layout.table_row + k
        cells.append(Cell(row, layout.loss_table, float(k)))
        cells.append(Cell(row, layout.loss_table + 1, epoch.loss, excel.absolute(top, layout.LOSS_COL), style="number"))
    return cells, blocks


def _momentum_label(descent: Descent) -> str:
    """The momentum column's header: the optimiser's own name for the setting the schedule moves."""
    return {"beta1": "Beta1"}.get(descent.optimizer.MOMENTUM or "", "Momentum")
