"""One (workload, library) in its own process: check the gradients, then measure.

The runner starts ``python -m chainrule.apps.bench.worker SPEC`` with SPEC a JSON object
(``workload``, ``library``, ``quick``, ``repeats``, ``warmup``, ``min_time``, ``seed``,
``out``) and the thread counts already in the environment; the result is written as
JSON to the file ``out``. For each size configuration of the workload:

1. the hand-written NumPy builder runs once on the seeded problem: the reference;
2. the library's builder runs on a fresh copy of the same problem; its first call's
   outputs are compared with the reference (``problems.compare``). A mismatch is
   reported and nothing is timed;
3. timed workloads: warm-up calls, then the repeats (``measure.time_calls``).
   The memory workload measures the first call itself, in this fresh process, and
   checks its outputs afterwards, so the check does not disturb the measurement.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from . import measure, problems
from .libraries import load
from .suite import LIBRARIES, LIMIT, MEMORY, WORKLOADS


def outputs_as_arrays(module, outputs: dict) -> dict:
    """Copies of the outputs as ndarrays (a later call may change them in place)."""
    convert = getattr(module, "to_numpy", None) or (lambda value: value)
    import numpy as np

    return {name: np.array(convert(value)) for name, value in outputs.items()}


def reference_outputs(workload: str, config: dict, seed: int) -> dict:
    limit = load(LIMIT)
    fn = getattr(limit, WORKLOADS[workload].builder)(problems.problem(workload, config, seed))
    return outputs_as_arrays(limit, fn())


def time_case(workload, library, module, config: dict, spec: dict) -> dict:
    key, seed = workload.key, spec["seed"]
    reference = reference_outputs(key, config, seed)
    fn = getattr(module, workload.builder)(problems.problem(key, config, seed), **library.options)
    check = problems.compare(outputs_as_arrays(module, fn()), reference, workload.dtype, workload.tolerance)
    case = {"label": config["label"], "config": config, "check": check, "metrics": {}}
    if check["passed"]:
        timing = measure.time_calls(fn, spec["repeats"], spec["warmup"], spec["min_time"])
        metric = workload.metrics[0]
        if metric == "time per op":
            timing = measure.per_unit(timing, config["ops"])
        case["metrics"][metric] = {**timing, "unit": "seconds"}
    return case


def memory_case(workload, library, module, config: dict, spec: dict) -> dict:
    key, seed = workload.key, spec["seed"]
    fn = getattr(module, workload.builder)(problems.problem(key, config, seed), **library.options)
    measure.release_freed_memory()
    with measure.PeakRSS() as rss:
        outputs = fn()
    arrays = outputs_as_arrays(module, outputs)
    del outputs, fn
    reference = arrays if library.name == LIMIT else reference_outputs(key, config, seed)
    check = problems.compare(arrays, reference, workload.dtype, workload.tolerance)
    metrics = {
        "growth": rss.peak - rss.baseline,
        "peak": rss.peak,
        "baseline": rss.baseline,
        "retained": rss.after - rss.baseline,
    }
    return {
        "label": config["label"],
        "config": config,
        "check": check,
        "metrics": {
            name: {**measure.summarize([value]), "samples": [value], "unit": "bytes"}
            for name, value in metrics.items()
        },
        "method": rss.method,
    }


def library_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(LIBRARIES[name].imports)
    except PackageNotFoundError:
        return None


def blas_info() -> list[dict]:
    """What threadpoolctl sees loaded: each BLAS/OpenMP library, its kernel and threads."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "prefix", "version", "architecture", "num_threads", "threading_layer")
    return [{k: info.get(k) for k in keys} for info in threadpool_info()]


def run(spec: dict) -> dict:
    workload, library = WORKLOADS[spec["workload"]], LIBRARIES[spec["library"]]
    result: dict[str, Any] = {"workload": workload.key, "library": library.name, "status": "ok", "cases": []}
    start = time.perf_counter()
    try:
        module = load(library.name)
        result["version"] = library_version(library.name)
        measure_case = memory_case if workload.kind == MEMORY else time_case
        for config in workload.configs(spec["quick"]):
            case = measure_case(workload, library, module, config, spec)
            result["cases"].append(case)
            if not case["check"]["passed"]:
                result["status"] = "mismatch"
        result["blas"] = blas_info()
    except Exception as e:  # reported in the table, never hidden
        result["status"] = "error"
        result["error"] = f"{type(e).__name__}: {e}"
        result["traceback"] = traceback.format_exc(limit=-6)
    result["seconds"] = time.perf_counter() - start
    return result


def main(argv: list[str] | None = None) -> int:
    spec = json.loads((argv if argv is not None else sys.argv[1:])[0])
    result = run(spec)
    Path(spec["out"]).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
