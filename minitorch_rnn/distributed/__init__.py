"""Beyond one machine, on Ray: data-parallel training and parallel hyper-parameter sweeps.

Needs the optional extra ``distributed`` (``pip install 'minitorch_rnn[distributed]'``);
``import minitorch_rnn`` never imports this package or Ray.

- :class:`RayStrategy`: ``Trainer(..., strategy=RayStrategy(num_workers=2))`` splits every batch
  over Ray workers and combines their gradients into the step of the whole batch.
- :func:`sweep`: run a training function over a grid of configurations × seeds as parallel
  Ray Tune trials and get one row per trial.

``address=None`` uses the Ray this process is connected to or starts a local one; an address
joins a running cluster (see the "Beyond one machine" page of the documentation).
"""

from .strategy import RayStrategy, StepStats, WorkerError
from .sweep import SweepError, sweep

__all__ = ["RayStrategy", "StepStats", "SweepError", "WorkerError", "sweep"]
