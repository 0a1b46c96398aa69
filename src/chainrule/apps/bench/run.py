"""Run the benchmark suite: chainrule, the hand-written NumPy limit and every peer installed.

    python -m chainrule bench [--workloads W1,W3] [--libraries chainrule,torch] [--repeats 10]
                              [--rounds 3] [--threads 1] [--quick] [--json out/bench.json]
    python -m chainrule.apps.bench.run ...   # the same runner

Each (workload, library) runs in a fresh subprocess (``worker.py``) with
OMP_NUM_THREADS, MKL_NUM_THREADS and OPENBLAS_NUM_THREADS all set to ``--threads``
(and XLA's thread pool limited to match), so no library gets more cores than
another. The worker first checks that the library's outputs equal the hand-written
NumPy ones on the same seeded inputs; a mismatch is reported in the table instead of
a ratio. Then it times warm-up calls and ``--repeats`` samples (or, for the memory
workload W6, measures one call in each of up to three fresh processes). A timed run
gets ``--rounds`` processes, and a workload's libraries take turns process by process,
so that a machine whose speed drifts during the run meets every library alike; the
samples of a run's processes are pooled.

The table shows each median as a ratio to the hand NumPy median of the same
workload, with the interquartile range; the JSON (``--json``) keeps everything,
absolute times and samples included. The exit status is 1 when a check failed or a
worker broke, 0 otherwise. Progress goes to stderr (a tqdm bar when tqdm is
installed, a line per run otherwise).
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import report
from .suite import LIBRARIES, LIMIT, MEMORY, PEERS, WORKLOADS

WORKER = f"{__package__}.worker"  # the module each fresh process runs (python -m)
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
MEMORY_PROCESSES = 3
DEFAULT_JSON = Path("out") / "bench.json"


def _names(kind: str, known: dict):
    def parse(text: str) -> list[str]:
        names = [n.strip() for n in text.split(",") if n.strip()]
        if not names or names == ["all"]:
            return list(known)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise argparse.ArgumentTypeError(
                f"unknown {kind} {', '.join(unknown)}; choose from {', '.join(known)}"
            )
        return [n for n in known if n in names]  # the suite's order

    parse.__name__ = kind
    return parse


def _positive(kind: type, minimum):
    def parse(text: str):
        value = kind(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {text}")
        return value

    parse.__name__ = kind.__name__
    return parse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The runner's options (also those of ``python -m chainrule bench``)."""
    parser.add_argument(
        "--workloads",
        type=_names("workload", WORKLOADS),
        default=list(WORKLOADS),
        metavar="W1,W2,...",
        help=f"which workloads (default all: {','.join(WORKLOADS)})",
    )
    parser.add_argument(
        "--libraries",
        type=_names("library", LIBRARIES),
        default=list(LIBRARIES),
        metavar="NAME,...",
        help="which libraries, of "
        + ",".join(LIBRARIES)
        + " (default: all that are installed; numpy, the limit, always runs)",
    )
    parser.add_argument(
        "--repeats",
        type=_positive(int, 1),
        default=10,
        help="timed samples per run; the median is reported (default 10)",
    )
    parser.add_argument(
        "--rounds",
        type=_positive(int, 1),
        default=None,
        help="fresh processes per timed (workload, library), run in turns with the other "
        "libraries' so that a machine slowing down or speeding up meets every library "
        "alike; their samples are pooled (default 3, or 1 with --quick)",
    )
    parser.add_argument(
        "--warmup", type=_positive(int, 0), default=3, help="untimed calls before timing (default 3)"
    )
    parser.add_argument(
        "--threads",
        type=_positive(int, 1),
        default=1,
        help="BLAS/OpenMP/XLA threads in every library (default 1)",
    )
    parser.add_argument(
        "--min-time",
        type=_positive(float, 0.0),
        default=None,
        metavar="SECONDS",
        help="shortest sample: fast calls are repeated within one sample (default 0.05, or 0 with --quick)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks that everything runs, times mean nothing"
    )
    parser.add_argument("--seed", type=_positive(int, 0), default=0, help="seed of every input (default 0)")
    parser.add_argument(
        "--timeout",
        type=_positive(float, 1.0),
        default=900.0,
        metavar="SECONDS",
        help="longest one worker may run (default 900)",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=DEFAULT_JSON,
        metavar="PATH",
        help=f"where to write the results (default {DEFAULT_JSON})",
    )


def installed(name: str) -> bool:
    return importlib.util.find_spec(LIBRARIES[name].imports) is not None


def worker_environment(threads: int) -> dict:
    env = dict(os.environ)
    env.update({var: str(threads) for var in THREAD_VARIABLES})
    eigen = "false" if threads == 1 else "true"
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + f" --xla_cpu_multi_thread_eigen={eigen}"
        f" intra_op_parallelism_threads={threads}"
    ).strip()
    env["JAX_PLATFORMS"] = "cpu"
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def plan(args) -> tuple[list[tuple[str, str]], list[dict], list[str]]:
    """The (workload, library) runs, the rows that need no run (n/a), and the library columns."""
    libraries = [name for name in LIBRARIES if name == LIMIT or name in args.libraries]
    libraries = [name for name in libraries if installed(name)]
    runs, skipped = [], []
    for key in args.workloads:
        for name in libraries:
            reason = LIBRARIES[name].reason_to_skip(key)
            if reason:
                skipped.append(
                    {"workload": key, "library": name, "status": "n/a", "reason": reason, "cases": []}
                )
            else:
                runs.append((key, name))
    columns = [name for name in libraries if any(name == lib for _, lib in runs)]
    return runs, skipped, columns


def run_worker(key: str, name: str, args, env: dict) -> dict:
    """One fresh process for (workload ``key``, library ``name``); its result dict."""
    with tempfile.TemporaryDirectory(prefix="chainrule-bench-") as tmp:
        out = Path(tmp) / "result.json"
        spec = {
            "workload": key,
            "library": name,
            "quick": args.quick,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "min_time": args.min_time,
            "seed": args.seed,
            "out": str(out),
        }
        failed = {"workload": key, "library": name, "status": "error", "cases": []}
        try:
            proc = subprocess.run(
                [sys.executable, "-m", WORKER, json.dumps(spec)],
                env=env,
                capture_output=True,
                text=True,
                timeout=args.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return {**failed, "error": f"timed out after {args.timeout:g} s"}
        if out.exists():
            return json.loads(out.read_text())
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        return {
            **failed,
            "error": f"worker exited with status {proc.returncode}: {tail[0]}",
            "stderr": proc.stderr[-4000:],
        }


class Progress:
    """A tqdm bar on stderr when tqdm is installed, else one line per finished run."""

    def __init__(self, total: int) -> None:
        self.total, self.count = total, 0
        try:
            from tqdm import tqdm
        except ImportError:
            self.bar = None
        else:
            self.bar = tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)

    def start(self, label: str) -> None:
        if self.bar is not None:
            self.bar.set_description(label)

    def done(self, label: str, status: str, seconds: float) -> None:
        self.count += 1
        if self.bar is not None:
            self.bar.update(1)
        else:
            print(
                f"[{self.count:>3}/{self.total}] {label}: {status} ({seconds:.1f} s)",
                file=sys.stderr,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def measure_all(runs: list[tuple[str, str]], args) -> list[dict]:
    """Every run in its processes: each workload's libraries take turns, process by process
    (numpy, chainrule, torch, numpy, chainrule, torch, ...), and each run's outcomes are combined."""
    env = worker_environment(args.threads)
    processes = {
        key: (min(MEMORY_PROCESSES, args.repeats) if WORKLOADS[key].kind == MEMORY else args.rounds)
        for key, _ in runs
    }
    turns = [
        (key, name)
        for workload in dict.fromkeys(key for key, _ in runs)
        for turn in range(processes[workload])
        for key, name in runs
        if key == workload
    ]
    progress = Progress(len(turns))
    outcomes: dict = {run: [] for run in runs}
    try:
        for key, name in turns:
            label = f"{key} {name}"
            progress.start(label)
            start = time.perf_counter()
            outcomes[key, name].append(run_worker(key, name, args, env))
            progress.done(label, outcomes[key, name][-1]["status"], time.perf_counter() - start)
    finally:
        progress.close()
    return [report.combine(outcomes[run]) for run in runs]


def library_versions(results: list[dict]) -> dict:
    versions = {r["library"]: r.get("version") for r in results if r.get("version")}
    return {
        name: {"installed": installed(name), "version": versions.get(name), "note": LIBRARIES[name].note}
        for name in LIBRARIES
    }


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def render(document: dict) -> str:
    """The text printed at the end: header, table, footnotes, W7 growth, targets."""
    config, libraries = document["config"], document["libraries"]
    lines = [
        f"chainrule benchmarks: ratios to hand-written NumPy (median, with the interquartile range); "
        f"{_count(config['threads'], 'thread')}, {_count(config['repeats'], 'repeat')} after "
        f"{config['warmup']} warm-up call{'s' if config['warmup'] != 1 else ''} in each of "
        f"{config['rounds']} process{'es' if config['rounds'] != 1 else ''} per library, taking turns"
        + (", QUICK sizes: the ratios mean nothing" if config["quick"] else ""),
        f"machine: {report.machine_line(document['machine'])}",
        f"libraries: {report.library_line(libraries)}",
    ]
    missing = [name for name in PEERS if not libraries[name]["installed"]]
    if missing:
        lines.append(f"not installed: {', '.join(missing)} (pip install 'chainrule[bench]')")
    forced = {k: v for k, v in document["machine"]["environment"].items() if v}
    if forced:
        lines.append(
            "warning: " + ", ".join(f"{k}={v}" for k, v in forced.items()) + " is set and may "
            "slow NumPy's BLAS; see README (Performance)"
        )
    lines += ["", document["table"]]
    lines += [f"[{i}] {note}" for i, note in enumerate(document["notes"], 1)]
    if document["scaling"]:
        lines += [
            "",
            "W7: step time growth each time batch and width double (compute alone: 4× to 8×)",
            "",
            document["scaling"],
        ]
    lines += ["", *report.legend(config["workloads"]), *report.library_notes(document["columns"])]
    if document["targets"]:
        lines += [
            "",
            "chainrule against its targets (for information):",
            *(f"  {line}" for line in document["targets"]),
        ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run what ``args`` selects, print the report, write the JSON; the exit status."""
    if args.min_time is None:
        args.min_time = 0.0 if args.quick else 0.05
    if args.rounds is None:
        args.rounds = 1 if args.quick else 3
    runs, skipped, columns = plan(args)
    started = datetime.datetime.now(datetime.timezone.utc)
    results = measure_all(runs, args)
    results += skipped
    report.add_ratios(results)
    order = {(k, n): i for i, (k, n) in enumerate((k, n) for k in WORKLOADS for n in LIBRARIES)}
    results.sort(key=lambda r: order[(r["workload"], r["library"])])
    table, notes = report.markdown_table(results, args.workloads, columns)
    document = {
        "suite": "chainrule benchmarks",
        "started": started.isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "config": {
            "workloads": args.workloads,
            "libraries": columns,
            "repeats": args.repeats,
            "rounds": args.rounds,
            "warmup": args.warmup,
            "threads": args.threads,
            "min_time": args.min_time,
            "quick": args.quick,
            "seed": args.seed,
            "thread_variables": list(THREAD_VARIABLES),
        },
        "machine": report.machine_info(results),
        "libraries": library_versions(results),
        "columns": columns,
        "table": table,
        "notes": notes,
        "scaling": report.scaling_table(results, columns) if "W7" in args.workloads else "",
        "targets": report.target_summary(results),
        "results": results,
    }
    print(render(document), flush=True)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(document, indent=1, ensure_ascii=False) + "\n")
    print(f"\nresults written to {args.json}")
    return 1 if any(r["status"] in ("mismatch", "error") for r in results) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m chainrule.apps.bench.run", description=__doc__.splitlines()[0]
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
