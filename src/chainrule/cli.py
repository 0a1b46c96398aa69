"""The command line: ``python -m chainrule <command>``, also installed as ``chainrule``.

Each command is one :class:`Command` in :data:`COMMANDS`: a name, a one-line help, a
function that adds its options to its sub-parser and a function that runs it and
returns the exit status. A command's module is imported only when it runs.

    python -m chainrule demo      # the worked examples of backpropagation
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from . import __version__


@dataclass(frozen=True)
class Command:
    """One sub-command: ``run(args)`` returns the process's exit status."""

    name: str
    help: str
    run: Callable[[argparse.Namespace], int]
    add_arguments: Callable[[argparse.ArgumentParser], None] = lambda parser: None


def _run_demo(args: argparse.Namespace) -> int:
    from . import demo

    return demo.main()


COMMANDS: tuple[Command, ...] = (
    Command("demo", "the worked examples of backpropagation: each value and gradient that "
            "chainrule computes next to the closed form from the notes", _run_demo),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule",
        description="chainrule: tensor automatic differentiation on NumPy.")
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return its exit status.

    A usage error exits with status 2 and argparse's one-line message.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (``chainrule demo | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
