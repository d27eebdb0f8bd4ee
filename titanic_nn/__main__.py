"""`python -m titanic_nn`: the same as the `titanic-nn` command."""

from ._entry import run

raise SystemExit(run())
