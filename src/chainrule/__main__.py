"""``python -m chainrule``: the command line of :mod:`chainrule.cli`."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
