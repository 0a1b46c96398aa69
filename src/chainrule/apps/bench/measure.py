"""Timing and memory measurement, used inside a worker process.

Time: ``warmup`` untimed calls, then a calibration call that picks how many calls
make one sample (at least ``min_time`` seconds, so a fast call is not lost in timer
resolution), then ``repeats`` samples. A sample is the mean time of one call over
its calls; the summary is the median with the quartiles and the extremes. The
garbage collector stays on (its cost is part of a library's cost) and runs once
before the first sample.

Memory (Linux): the resident set size (RSS) is read from ``/proc/self/status``:
``VmRSS`` is the current RSS and ``VmHWM`` its high-water mark, which writing ``5``
to ``/proc/self/clear_refs`` resets to the current RSS. So the worker reads VmRSS
(the baseline), resets the mark, runs the call, and reads VmHWM: the peak during
the call. Growth is peak − baseline. Where the reset is not possible, a thread
samples the RSS every 0.2 ms during the call instead (psutil, or /proc) and the
peak is the largest sample; the result names the method used.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import math
import statistics
import threading
import time
from pathlib import Path

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
MAX_CALLS_PER_SAMPLE = 100_000


def summarize(values: list[float]) -> dict:
    """Median, quartiles (inclusive method), min, max and count of ``values``."""
    values = sorted(values)
    if len(values) > 1:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1 = q3 = values[0]
    return {
        "median": statistics.median(values),
        "q1": q1,
        "q3": q3,
        "min": values[0],
        "max": values[-1],
        "n": len(values),
    }


def time_calls(fn, repeats: int, warmup: int, min_time: float) -> dict:
    """Seconds per call of ``fn()``: the summary, the calls per sample and the samples."""
    for _ in range(warmup):
        fn()
    start = time.perf_counter()
    fn()
    single = time.perf_counter() - start
    number = max(1, min(MAX_CALLS_PER_SAMPLE, math.ceil(min_time / max(single, 1e-9))))
    gc.collect()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return {**summarize(samples), "calls_per_sample": number, "warmup": warmup, "samples": samples}


def per_unit(timing: dict, units: int) -> dict:
    """The same timing divided by the units of work in one call (W2: seconds per op)."""
    scaled = {k: v / units for k, v in timing.items() if k in ("median", "q1", "q3", "min", "max")}
    return {**timing, **scaled, "samples": [s / units for s in timing["samples"]]}


# ------------------------------------------------------------------ memory


def _status_bytes(field: str) -> int | None:
    try:
        for line in STATUS.read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        return None
    return None


def current_rss() -> int:
    """The resident set size now, in bytes."""
    rss = _status_bytes("VmRSS")
    if rss is not None:
        return rss
    import psutil  # outside Linux

    return psutil.Process().memory_info().rss


def release_freed_memory() -> None:
    """Collect garbage and hand memory that malloc keeps after frees back to the system,
    so what the set-up freed does not count in the baseline (glibc only)."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakRSS:
    """``with PeakRSS() as m: work()`` → ``m.baseline``, ``m.peak`` (bytes) and ``m.method``."""

    def __enter__(self) -> PeakRSS:
        self.baseline = current_rss()
        self._sampler = None
        try:
            CLEAR_REFS.write_text("5")
            self.method = "VmHWM after reset (/proc/self/clear_refs)"
        except OSError:
            self.method = "RSS sampled every 0.2 ms"
            self._samples = [self.baseline]
            self._stop = threading.Event()
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        return self

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._samples.append(current_rss())
            time.sleep(0.0002)

    def __exit__(self, *exc) -> None:
        if self._sampler is None:
            self.peak = max(_status_bytes("VmHWM") or 0, current_rss())
        else:
            self._stop.set()
            self._sampler.join()
            self.peak = max(self._samples + [current_rss()])
        self.after = current_rss()
