"""The models of the notes, trained on real data: ``python -m chainrule train NAME``.

:data:`TASKS` maps each command-line name to its :class:`~chainrule.apps.models.training.Task`.
"""

from .mlp import Digits, Fashion
from .relu_neuron import ReLUNeuron
from .training import Task, run
from .window_ner import WindowNER

TASKS: dict[str, Task] = {task.name: task for task in (WindowNER(), Digits(), Fashion(), ReLUNeuron())}

__all__ = ["TASKS", "Task", "run"]
