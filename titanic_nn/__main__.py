"""`python -m titanic_nn`: the same as the `titanic-nn` command."""

from .cli import main

raise SystemExit(main())
