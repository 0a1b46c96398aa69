"""chainrule's applications: programs built on the library, never imported by it.

* ``demo.py``      the worked examples of backpropagation, each next to its closed form
* ``models/``      the models of the notes, trained on real data (``training.py`` is the
                   loop they share; ``report.py`` the tables, plots and saved files)
* ``datasets.py``  loaders for the real data sets the models use (optional extras)
* ``bench/``       the benchmark suite: chainrule beside hand-written NumPy and the peers
* ``cli.py``       ``python -m chainrule demo | train | bench``, also installed as ``chainrule``

They use chainrule as any program would, through ``import chainrule``; nothing in the
engine imports them.
"""
