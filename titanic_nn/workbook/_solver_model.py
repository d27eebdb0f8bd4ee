"""Excel Solver's model as the hidden sheet-local defined names Excel itself writes, so its dialog opens filled in."""

from __future__ import annotations

from typing import Any, Sequence

from .. import excel

__all__ = ["MAX_VARIABLES", "SOLVER_OPTIONS", "solver_names", "define_solver_names"]

MAX_VARIABLES = 200  # Excel Solver's limit on variable cells

# The options the lesson workbook stores, as Excel writes them (values without a leading "=").
# typ 2 = minimise; eng 1 = GRG Nonlinear; neg 2 = variables may go negative; num 0 = no constraints.
SOLVER_OPTIONS = (
    ("solver_typ", "2"), ("solver_val", "0"), ("solver_eng", "1"), ("solver_ver", "3"), ("solver_num", "0"),
    ("solver_neg", "2"), ("solver_cvg", "0.0001"), ("solver_drv", "1"), ("solver_est", "1"),
    ("solver_itr", "2147483647"), ("solver_mip", "2147483647"), ("solver_mni", "30"), ("solver_mrt", "0.075"),
    ("solver_msl", "2"), ("solver_nod", "2147483647"), ("solver_nwt", "1"), ("solver_pre", "0.000001"),
    ("solver_rbv", "1"), ("solver_rlx", "2"), ("solver_rsd", "0"), ("solver_scl", "1"), ("solver_sho", "2"),
    ("solver_ssz", "100"), ("solver_tim", "2147483647"), ("solver_tol", "0.01"),
)


def solver_names(sheet: str, objective: str, variables: Sequence[str]) -> list[tuple[str, str]]:
    """(name, value) pairs: the objective cell, the variable ranges and the fixed options."""
    adjustable = ",".join(excel.on_sheet(sheet, r) for r in variables)
    return [("solver_opt", excel.on_sheet(sheet, objective)), ("solver_adj", adjustable), *SOLVER_OPTIONS]


def define_solver_names(workbook: Any, sheet: str, objective: str, variables: Sequence[str]) -> None:
    """Add the names to an XlsxWriter workbook, local to `sheet` and hidden as Excel writes them."""
    for name, value in solver_names(sheet, objective, variables):
        if workbook.define_name(f"{sheet}!{name}", value) != 0:
            raise ValueError(f"XlsxWriter refused the defined name {sheet}!{name}")
        # define_name has no hidden option; its entries are [name, sheet index, value, hidden]
        workbook.defined_names[-1][3] = True
