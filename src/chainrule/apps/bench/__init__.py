"""chainrule's benchmark suite: each workload run by chainrule, by a hand-written NumPy
forward + backward of the same math (the limit) and by every peer that is installed.

    python -m chainrule bench           # or: python -m chainrule.apps.bench.run
    python -m chainrule bench --quick --libraries chainrule,numpy --repeats 1

Where each thing lives:

* ``suite.py``     what is measured: the workloads W1–W7 and the variants W1-raw and
                   W5-dense (sizes, dtype, targets) and the libraries (which workloads
                   each runs). Standard library only, so the command line can list
                   them without importing NumPy.
* ``problems.py``  the seeded inputs of each workload and the gradient check.
* ``libraries/``   one module per library, each with one builder per workload;
                   ``hand_numpy.py`` is the limit every ratio is taken against.
* ``measure.py``   timing (warm-up, calibrated repeats, median and quartiles) and
                   memory (resident set size before and at its peak).
* ``worker.py``    one (workload, library) in a fresh process: check, then measure.
* ``run.py``       the runner: plans the jobs, starts the workers with fixed thread
                   counts, shows progress, prints the table and writes the JSON.
* ``report.py``    ratios, the markdown tables and the machine description.

``overhead.py`` and ``jacobians.py`` are narrower views of W2 and W3/W4 that run in
one process (chainrule's Jacobian modes, file:line capture on and off).
"""
