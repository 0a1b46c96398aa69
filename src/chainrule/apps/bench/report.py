"""From the workers' results to what a reader sees: ratios, markdown tables, the machine.

Every figure shown is a ratio to the hand-written NumPy limit measured in the same
run: ``ratio = median(library) / median(limit)``, and the range after it is the
library's interquartile range over the same denominator, ``(q1, q3) / median(limit)``.
Absolute times and byte counts are kept in the JSON only.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

from chainrule import tables

from .measure import summarize
from .suite import LIBRARIES, LIMIT, MEMORY, WORKLOADS

STATUS_TEXT = {"n/a": "n/a", "error": "error", "mismatch": "**mismatch**"}


def combine(runs: list[dict]) -> dict:
    """One result from several processes of the same (workload, library): the memory
    workload measures once per fresh process. Samples are pooled and summarized again."""
    first = runs[0]
    if len(runs) == 1 or any(r["status"] == "error" for r in runs):
        return next((r for r in runs if r["status"] == "error"), first)
    combined = {**first, "processes": len(runs), "seconds": sum(r["seconds"] for r in runs)}
    combined["status"] = "mismatch" if any(r["status"] == "mismatch" for r in runs) else first["status"]
    cases = []
    for same in zip(*(r["cases"] for r in runs)):
        case = {**same[0], "metrics": {}}
        case["check"] = next((c["check"] for c in same if not c["check"]["passed"]), same[0]["check"])
        for name, metric in same[0]["metrics"].items():
            samples = [s for c in same for s in c["metrics"][name]["samples"]]
            case["metrics"][name] = {**metric, **summarize(samples), "samples": samples}
        cases.append(case)
    combined["cases"] = cases
    return combined


def add_ratios(results: list[dict]) -> None:
    """Give each measured case ``ratios``: metric → {ratio, low, high} against the limit's case."""
    limit = {
        (r["workload"], c["label"]): c for r in results if r["library"] == LIMIT for c in r.get("cases", [])
    }
    for r in results:
        for case in r.get("cases", []):
            base = limit.get((r["workload"], case["label"]))
            if base is None:
                continue
            ratios = {}
            for name, m in case["metrics"].items():
                b = base["metrics"].get(name, {}).get("median")
                if b:
                    ratios[name] = {"ratio": m["median"] / b, "low": m["q1"] / b, "high": m["q3"] / b}
            case["ratios"] = ratios


def format_ratio(r: dict) -> str:
    def number(x: float) -> str:
        return f"{x:.0f}" if x >= 100 else f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 0.1 else f"{x:.3f}"

    return f"{number(r['ratio'])}× ({number(r['low'])}–{number(r['high'])})"


def _rows(workload_keys: list[str], results: list[dict]):
    """(workload, case label, metric) for each row of the main table, in order."""
    for key in workload_keys:
        workload = WORKLOADS[key]
        labels = [
            c["label"]
            for r in results
            if r["workload"] == key and r["library"] == LIMIT
            for c in r.get("cases", [])
        ]
        if not labels:
            labels = [config["label"] for config in workload.full]
        for label in labels:
            for metric in workload.metrics:
                yield workload, label, metric


def _row_name(workload, label: str, metric: str) -> str:
    if workload.kind == MEMORY:
        return f"{workload.key} {workload.short}: {'RSS growth' if metric == 'growth' else 'peak RSS'}"
    return f"{workload.key} {workload.short}" + (f", {label}" if label else "")


def markdown_table(results: list[dict], workload_keys: list[str], libraries: list[str]) -> tuple[str, list]:
    """The main table and its footnotes (mismatches and errors, spelled out)."""
    by_key = {(r["workload"], r["library"]): r for r in results}
    head = ["workload", "target"] + [_column_name(lib) for lib in libraries]
    notes: list[str] = []
    rows = []
    for workload, label, metric in _rows(workload_keys, results):
        target = workload.targets.get(metric)
        rows.append(
            [
                _row_name(workload, label, metric),
                f"≤ {target:g}×" if target is not None else "",
                *(_cell(by_key.get((workload.key, lib)), label, metric, notes) for lib in libraries),
            ]
        )
    return tables.markdown_table(head, rows, align="ll" + "r" * len(libraries)), notes


def _column_name(library: str) -> str:
    return "hand NumPy (limit)" if library == LIMIT else library


def _cell(result: dict | None, label: str, metric: str, notes: list) -> str:
    if result is None:
        return ""
    status = result["status"]
    if status in ("n/a", "error"):
        if status == "error":
            note = f"{result['workload']} {result['library']}: {result.get('error', 'failed')}"
            if note not in notes:
                notes.append(note)
            return f"error[{notes.index(note) + 1}]"
        return "n/a"
    case = next((c for c in result["cases"] if c["label"] == label), None)
    if case is None:
        return ""
    if not case["check"]["passed"]:
        failures = "; ".join(case["check"]["failures"][:3])
        check = case["check"]
        note = (
            f"{result['workload']}{' ' + label if label else ''} {result['library']}: outputs differ "
            f"from hand NumPy's (rtol {check['rtol']:g}, atol {check['atol']:g}·max|ref|): {failures}"
        )
        if note not in notes:  # W6 shows one check in two rows
            notes.append(note)
        return f"**mismatch**[{notes.index(note) + 1}]"
    ratio = case.get("ratios", {}).get(metric)
    return format_ratio(ratio) if ratio else "—"


def scaling_table(results: list[dict], libraries: list[str]) -> str:
    """W7: how much each library's step time grows each time batch and width double."""
    rows = []
    header = None
    for lib in libraries:
        result = next((r for r in results if r["workload"] == "W7" and r["library"] == lib), None)
        if result is None or result["status"] != "ok":
            continue
        cases = result["cases"]
        if header is None:
            header = [f"{a['label'][2:]}→{b['label'][2:]}" for a, b in zip(cases, cases[1:])]
        growth = [
            b["metrics"]["time"]["median"] / a["metrics"]["time"]["median"] for a, b in zip(cases, cases[1:])
        ]
        rows.append([_column_name(lib)] + [f"{g:.2f}×" for g in growth])
    if not rows or not header:
        return ""
    return tables.markdown_table(["n (batch = width)", *header], rows, align="l" + "r" * len(header))


def target_summary(results: list[dict]) -> list[str]:
    """One line per chainrule target: the ratio measured against the goal."""
    lines = []
    for r in results:
        if r["library"] != "chainrule":
            continue
        workload = WORKLOADS[r["workload"]]
        for metric, target in workload.targets.items():
            if r["status"] in ("error", "n/a"):
                lines.append(f"{workload.key} {metric}: {r['status']} (target ≤ {target:g}×)")
                continue
            for case in r["cases"]:
                ratio = case.get("ratios", {}).get(metric)
                if not case["check"]["passed"]:
                    lines.append(f"{workload.key} {metric}: gradient mismatch (target ≤ {target:g}×)")
                elif ratio:
                    verdict = "met" if ratio["ratio"] <= target else "missed"
                    lines.append(
                        f"{workload.key} {metric}: {ratio['ratio']:.2f}× against ≤ {target:g}× ({verdict})"
                    )
    return lines


# ------------------------------------------------------------------ the machine


def cpu_model() -> str:
    if shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        match = re.search(r"^Model name:\s*(.+)$", out, re.M)
        if match:
            return match.group(1).strip()
    try:
        with open("/proc/cpuinfo") as f:
            match = re.search(r"^model name\s*:\s*(.+)$", f.read(), re.M)
        if match:
            return match.group(1).strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def machine_info(results: list[dict]) -> dict:
    """CPU, cores, Python, NumPy and the BLAS the limit's worker actually loaded."""
    limit = next((r for r in results if r["library"] == LIMIT and r.get("blas")), None)
    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": _version("numpy"),
        "blas": [b for b in (limit or {}).get("blas", []) if b.get("user_api") == "blas"],
        "environment": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }


def machine_line(machine: dict) -> str:
    blas = (
        ", ".join(
            f"{b['internal_api']} {b['version']} ({b['architecture']} kernel, "
            f"{b['num_threads']} thread{'s' if b['num_threads'] != 1 else ''})"
            for b in machine["blas"]
        )
        or "BLAS unknown (threadpoolctl not installed)"
    )
    return (
        f"{machine['cpu']}, {machine['logical_cpus']} logical CPUs; Python {machine['python']}, "
        f"NumPy {machine['numpy']} with {blas}"
    )


def library_line(libraries: dict) -> str:
    """The installed packages and their versions, each once (torch.func is torch's)."""
    packages: dict[str, str | None] = {}
    for name, info in libraries.items():
        if info["installed"]:
            packages.setdefault(LIBRARIES[name].imports, info["version"] or _version(LIBRARIES[name].imports))
    return ", ".join(f"{package} {v or ''}".strip() for package, v in packages.items())


def legend(workload_keys: list[str]) -> list[str]:
    return [f"{key}: {WORKLOADS[key].title} ({WORKLOADS[key].dtype})" for key in workload_keys]


def library_notes(libraries: list[str]) -> list[str]:
    return [f"{name}: {LIBRARIES[name].note}" for name in libraries if LIBRARIES[name].note]
