"""The command line: ``python -m chainrule <command>``, also installed as ``chainrule``.

Each command is one :class:`Command` in :data:`COMMANDS`: a name, a one-line help, a
function that adds its options to its sub-parser and a function that runs it and
returns the exit status. A command's module is imported only when it runs.

    python -m chainrule demo      # the worked examples of backpropagation
    python -m chainrule train mlp-digits --epochs 5     # a model of the notes on real data
    python -m chainrule bench --quick                   # the benchmark suite (bench/)
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from chainrule import __version__


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


def _number(kind: type, minimum, strict: bool = True):
    """An argparse type: a finite ``kind`` above ``minimum`` (or equal to it when not ``strict``).

    ``float`` reads "nan" and "inf" too; neither is a setting (inf > 0 would pass).
    """

    def parse(text: str):
        value = kind(text)
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
        if not (value > minimum if strict else value >= minimum):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {minimum}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _train_arguments(parser: argparse.ArgumentParser) -> None:
    from .models import TASKS

    parser.add_argument("model", choices=list(TASKS), help="which model to train")
    parser.add_argument("--epochs", type=_number(int, 0), help="passes over the training set")
    parser.add_argument("--lr", type=_number(float, 0), help="learning rate")
    parser.add_argument("--batch-size", type=_number(int, 0), help="examples per optimizer step")
    parser.add_argument(
        "--seed", type=_number(int, 0, strict=False), default=0, help="seed of every random draw (default 0)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("out"),
        help="folder for the saved parameters and plots (default ./out)",
    )
    parser.add_argument(
        "--load",
        type=Path,
        metavar="PATH",
        help="evaluate the parameters saved in PATH (an .npz) instead of training",
    )
    parser.add_argument(
        "--entity",
        metavar="TYPE",
        help="window-ner only: the WNUT-16 entity type to find (default geo-loc), or "
        "'all' for an 11-way softmax over O and the 10 types",
    )
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="train data-parallel over the processes of mpiexec (mpiexec -n 4 python -m chainrule "
        "train ... --distributed): each takes an equal share of every batch, whose size must be "
        "a multiple of their number; needs the distributed extra",
    )


def _error(command: str, message: object, status: int) -> int:
    """Print ``message`` as one ``chainrule COMMAND: error:`` line on stderr; return ``status``."""
    print(f"chainrule {command}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return status


# What the BLAS libraries read for their number of threads (OpenBLAS falls back on OMP's).
_BLAS_THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _run_train(args: argparse.Namespace) -> int:
    """Exit 0 when the run finishes, 2 for an ``--out`` it cannot write (a usage error found
    before the data is loaded) or, with ``--distributed``, a ``--batch-size`` the processes
    cannot share equally, 1 for any other reason the run stops.

    With ``--distributed`` every process of ``mpiexec`` runs this; each checks its
    arguments before the first exchange between them, so a bad one stops all of them."""
    from .datasets import MissingData
    from .models import TASKS, run
    from .models.training import TrainingError, UnusableBatchSize, UnusableFolder

    options = {} if args.entity is None else {"entity": args.entity}
    try:
        task = TASKS[args.model].configure(**options)
        group = None
        if args.distributed:
            import chainrule.distributed as dist

            try:
                group = dist.init()
            except ImportError as e:  # no mpi4py: the message names the extra to install
                return _error("train", e, 1)
            if group.size > 1 and group.rank == 0 and not any(map(os.environ.get, _BLAS_THREADS)):
                print(
                    f"chainrule train: note: OMP_NUM_THREADS is not set, so each of the {group.size} "
                    "processes may run one BLAS thread per core, and they slow each other down; "
                    "run mpiexec -x OMP_NUM_THREADS=1 ...",
                    file=sys.stderr,
                )
        run(
            task,
            epochs=args.epochs,
            lr=args.lr,
            batch_size=args.batch_size,
            seed=args.seed,
            out=args.out,
            load=args.load,
            group=group,
        )
    except UnusableFolder as e:
        return _error("train", f"argument --out: {e}", 2)
    except UnusableBatchSize as e:
        return _error("train", f"argument --batch-size: {e}", 2)
    except (MissingData, TrainingError) as e:
        return _error("train", e, 1)
    return 0


def _bench_arguments(parser: argparse.ArgumentParser) -> None:
    from .bench import run

    run.add_arguments(parser)


def _run_bench(args: argparse.Namespace) -> int:
    """The suite's exit status; 2 for a ``--json`` it could not write (checked before the
    long run, not after it)."""
    from .bench import run
    from .models.report import folder_problem

    problem = f"{args.json} is a folder" if args.json.is_dir() else folder_problem(args.json.parent)
    if problem:
        return _error("bench", f"argument --json: {problem}", 2)
    return run.run(args)


COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "the worked examples of backpropagation: each value and gradient that "
        "chainrule computes next to the closed form from the notes",
        _run_demo,
    ),
    Command(
        "train",
        "train one of the notes' models on real data, with a progress bar, a metrics "
        "table, a plot and the saved parameters",
        _run_train,
        _train_arguments,
    ),
    Command(
        "bench",
        "speed and memory against hand-written NumPy and the autodiff libraries "
        "installed (torch, jax, autograd, mygrad), as ratios in a markdown table",
        _run_bench,
        _bench_arguments,
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chainrule", description="chainrule: tensor automatic differentiation on NumPy."
    )
    parser.add_argument("--version", action="version", version=f"chainrule {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="command", required=True)
    for command in COMMANDS:
        sub = commands.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (default: ``sys.argv[1:]``), run the command, return its exit status.

    A usage error exits with status 2 and argparse's one-line message; Ctrl-C exits with
    130 (128 + SIGINT, as shells report it) and one line.
    """
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:
        # The reader went away (``chainrule demo | head``): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        return _error(args.command, "interrupted", 130)
