"""``python -m chainrule``: the command line of :mod:`chainrule.apps.cli`."""

from .apps.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
