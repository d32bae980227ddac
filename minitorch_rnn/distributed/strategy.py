r"""Synchronous data parallelism on Ray: one step over several workers equals one step in-process.

How one training step runs (the Trainer around it is unchanged: it zeroes the gradients before,
refuses non-finite gradients, clips and steps the optimiser after, all on the driver):

1. the driver flattens its weights into one array and puts it in Ray's object store once
   (``ray.put``); every worker reads that same object;
2. the batch is split along its first axis into ``num_workers`` contiguous shards (sizes differ by
   at most one; a worker with an empty shard sits the step out);
3. worker :math:`k` loads the weights, runs forward and backward on its shard with the loss's
   reduction set to ``"sum"``, and returns its summed gradient :math:`G_k` (one flat array) and its
   prediction shard;
4. the driver concatenates the predictions, computes the loss on the whole batch with the
   Trainer's own loss (so the loss value, :class:`~minitorch_rnn.training.metrics.BatchOutcome`
   and the metrics are those of the whole batch) and reads the number :math:`D` that loss divided
   its sum by (:meth:`~minitorch_rnn.Loss.divisor`: the counted elements for ``"mean"``, masks and
   ``ignore_index`` included, the batch size for ``"batch_mean"``, 1 for ``"sum"``);
5. every parameter's gradient becomes :math:`\frac{1}{D}\sum_k G_k`: backward is linear in the
   gradient of the loss, so this is the whole batch's gradient up to floating-point rounding.

Why the optimiser stays on the driver: the bytes are the same either way. Workers must send their
gradients (``num_workers`` × P values up) and receive either the new weights or the combined
gradient (P values down, one shared object); keeping optimisers on the workers saves nothing and
would duplicate clipping, learning-rate schedules, the non-finite check and the optimiser state in
checkpoints on every worker. With the optimiser on the driver, the Trainer, its callbacks,
checkpoints and exact resume work unchanged and every replica trivially uses the same weights.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .. import errors
from ..losses import Loss
from ..module import Parameter
from ..training.strategy import masked_loss
from ..validation import check_size
from .connect import connect
from .flat import add_flat_gradients, check_parameters, flat_weights
from .replica import Replica, ShardResult

# A worker reports the error it met by class name; the driver raises the same class.
_NON_FINITE_BY_NAME: dict[str, type[errors.NonFiniteError]] = {
    name: getattr(errors, name) for name in errors.__all__
}

if TYPE_CHECKING:
    from ..training.trainer import Trainer

__all__ = ["RayStrategy", "StepStats", "WorkerError", "shard_bounds"]

_OWNER = "RayStrategy"


class WorkerError(RuntimeError):
    """A worker died (or did not answer in time) during a step; no optimiser step was taken."""


class StepStats(NamedTuple):
    """What the last step moved and how long it took (see :attr:`RayStrategy.last_step`).

    Attributes
    ----------
    weight_bytes : int
        The flat weights put once in the object store (read by every worker; across machines,
        fetched once per node).
    gradient_bytes : int
        The flat gradients returned, one array per working worker.
    data_bytes : int
        The batch shards sent and the prediction shards returned.
    seconds : float
        Wall time of the step on the driver (split, send, wait, combine).
    worker_seconds : float
        The longest time a worker spent computing its shard; ``seconds - worker_seconds`` is the
        step's overhead.
    """

    weight_bytes: int
    gradient_bytes: int
    data_bytes: int
    seconds: float
    worker_seconds: float


def shard_bounds(batch: int, parts: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]``: ``parts`` contiguous slices of ``range(batch)`` whose sizes
    differ by at most one (the first ones larger), empty slices included."""
    base, extra = divmod(batch, parts)
    bounds, start = [], 0
    for part in range(parts):
        stop = start + base + (1 if part < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


class RayStrategy:
    """Compute each step's gradients over ``num_workers`` Ray workers holding model replicas.

    Pass it to :class:`~minitorch_rnn.Trainer` (``strategy=RayStrategy(2)``); everything else
    about training stays the same. One step equals the in-process step on the whole batch
    (padding masks, ``ignore_index``, uneven splits and every reduction included), up to
    floating-point rounding: in float64 the weights agree to about 1e-12 after many steps.

    Parameters
    ----------
    num_workers : int
        Worker processes (Ray actors), each holding a replica of the model.
    address : str, optional
        ``None``: use the Ray this process is connected to, else do what ``ray.init()`` does
        (join ``RAY_ADDRESS`` or a ``ray start`` cluster of this machine, else start a local
        Ray with every CPU of this machine). ``"local"``: always a local Ray. An address
        (``"auto"``, ``"HOST:6379"``) joins a running cluster.
    cpus_per_worker : float
        CPUs Ray reserves for each worker (it also sets the worker's BLAS threads to that).
    timeout : float, optional
        Seconds a step may take before it is abandoned with :class:`WorkerError` (a hung
        worker); ``None`` waits as long as it takes. A worker that *dies* is detected by Ray
        within seconds either way.
    startup_timeout : float
        Seconds the workers may take to start (e.g. while the cluster lacks free CPUs).

    Attributes
    ----------
    workers : list
        The Ray actor handles, during :meth:`~minitorch_rnn.Trainer.fit` only.
    last_step : StepStats or None
        Bytes and times of the latest step.

    Notes
    -----
    *Dropout and other randomness.* A replica's random generators are not the driver's: on the
    first step of each epoch the driver draws one integer from each of its model's generators and
    worker ``k`` reseeds its copy from ``[integer, k]``. The masks of a worker are therefore
    independent of the other workers' and reproducible for a given seed and number of workers
    (and across a resume, since the driver's generators are saved in checkpoints), but they
    differ from the masks of an in-process run. The equality with in-process training holds for
    models without training-time randomness (or ``Dropout(p=0)``).

    *Stateful recurrent layers* (truncated BPTT over streams) work: the split is the same every
    step, so each worker carries the state of its own rows; the workers forget it at the start of
    each epoch, as the Trainer does.

    *Failure.* If a worker dies (its process or node is lost, or ``ray.kill``), ``fit`` ends with
    a :class:`WorkerError` naming the worker, the epoch and the batch; the driver's model keeps
    the weights of the last completed step, and checkpoints already written stay valid.
    """

    def __init__(
        self,
        num_workers: int = 2,
        address: str | None = None,
        *,
        cpus_per_worker: float = 1.0,
        timeout: float | None = None,
        startup_timeout: float = 120.0,
    ) -> None:
        if address is not None and not isinstance(address, str):
            raise TypeError(f"{_OWNER}: address must be a str or None, got {address!r}")
        for name, value in (
            ("cpus_per_worker", cpus_per_worker),
            ("timeout", timeout),
            ("startup_timeout", startup_timeout),
        ):
            if value is None and name == "timeout":
                continue
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                raise TypeError(f"{_OWNER}: {name} must be a number, got {value!r}")
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"{_OWNER}: {name} must be a positive number, got {value!r}")
        self.num_workers = check_size(num_workers, _OWNER, "num_workers")
        self.address = address
        self.cpus_per_worker = float(cpus_per_worker)
        self.timeout = None if timeout is None else float(timeout)
        self.startup_timeout = float(startup_timeout)
        self.workers: list[Any] = []
        self.last_step: StepStats | None = None
        self._pids: list[int] = []
        self._parameters: list[Parameter] = []
        self._epoch: int | None = None
        self._batch_index = 0
        self._epoch_seeds: list[int] = []
        self._needs_epoch_start: list[bool] = []

    def __repr__(self) -> str:
        return f"RayStrategy(num_workers={self.num_workers}, address={self.address!r})"

    # -- the Strategy protocol ----------------------------------------------------------------

    def setup(self, trainer: Trainer) -> None:
        """Connect to Ray and start the workers, each with a copy of the model (sent once)."""
        _checked_loss(trainer)
        self._parameters = check_parameters(trainer.model, _OWNER)
        ray = connect(self.address, _OWNER)
        available = float(ray.cluster_resources().get("CPU", 0.0))
        needed = self.num_workers * self.cpus_per_worker
        if needed > available:
            raise RuntimeError(
                f"{_OWNER}: {self.num_workers} workers of {self.cpus_per_worker:g} CPU need "
                f"{needed:g} CPUs, the Ray cluster has {available:g}"
            )
        actor = ray.remote(num_cpus=self.cpus_per_worker, max_restarts=0)(Replica)
        model = ray.put(trainer.model)
        self.workers = [actor.remote(model, trainer.loss, rank) for rank in range(self.num_workers)]
        try:
            self._pids = ray.get(
                [worker.pid.remote() for worker in self.workers], timeout=self.startup_timeout
            )
        except ray.exceptions.GetTimeoutError:
            self.teardown()
            raise WorkerError(
                f"{_OWNER}: the {self.num_workers} workers did not start within "
                f"{self.startup_timeout:g} s (not enough free CPUs in the cluster?)"
            ) from None
        except ray.exceptions.RayError as error:
            # e.g. a node without the project installed cannot unpickle the replica
            self.teardown()
            raise WorkerError(
                f"{_OWNER}: a worker failed to start: {_first_line(error)} (is minitorch_rnn "
                "installed, at the same version, on every node?)"
            ) from error
        self._epoch = None
        self.last_step = None

    def forward_backward(
        self,
        trainer: Trainer,
        x: Any,
        y: Any,
        lengths: np.ndarray | None,
    ) -> tuple[Any, float]:
        """Split the batch over the workers and leave the whole batch's gradient in ``.grad``."""
        if not self.workers:
            raise RuntimeError(f"{_OWNER}: forward_backward called outside fit (no workers)")
        import ray

        start = time.perf_counter()
        self._track_epoch(trainer)
        x, y = np.asarray(x), np.asarray(y)
        batch = _first_axis(x, "x")
        if _first_axis(y, "y") != batch:
            raise ValueError(
                f"{_OWNER}: x and y must hold the same number of samples, got {batch} and "
                f"{y.shape[0]}"
            )
        weights = flat_weights(self._parameters)
        weights_ref = ray.put(weights)
        ranks, refs, data_bytes = [], [], 0
        for rank, (low, high) in enumerate(shard_bounds(batch, self.num_workers)):
            if low == high:
                continue
            shard = (
                x[low:high],
                y[low:high],
                None if lengths is None else lengths[low:high],
            )
            data_bytes += sum(int(part.nbytes) for part in shard if part is not None)
            seeds = self._epoch_seeds if self._needs_epoch_start[rank] else None
            self._needs_epoch_start[rank] = False
            refs.append(self.workers[rank].step.remote(weights_ref, *shard, seeds))
            ranks.append(rank)
        results = self._gather(ray, ranks, refs)
        gradients, preds = [], []
        for result in results:
            if result.gradients is None or result.pred is None:
                kind = _NON_FINITE_BY_NAME.get(result.status, errors.NonFiniteError)
                raise kind(result.message)
            gradients.append(result.gradients)
            preds.append(result.pred)
        pred = np.concatenate(preds, axis=0)
        loss = _checked_loss(trainer)
        value = masked_loss(loss, x, pred, y, lengths)
        if not math.isfinite(value):
            raise errors.NonFiniteLossError(f"non-finite loss ({value})")
        total = gradients[0].copy()
        for gradient in gradients[1:]:
            total += gradient
        total /= total.dtype.type(loss.divisor())
        add_flat_gradients(self._parameters, total)
        self.last_step = StepStats(
            weight_bytes=int(weights.nbytes),
            gradient_bytes=sum(int(gradient.nbytes) for gradient in gradients),
            data_bytes=data_bytes + sum(int(shard.nbytes) for shard in preds),
            seconds=time.perf_counter() - start,
            worker_seconds=max(result.seconds for result in results),
        )
        self._batch_index += 1
        return pred, value

    def teardown(self) -> None:
        """Kill the workers (the Ray instance itself stays up)."""
        if self.workers:
            import ray

            for worker in self.workers:
                ray.kill(worker)
        self.workers = []

    # -- helpers ------------------------------------------------------------------------------

    def _track_epoch(self, trainer: Trainer) -> None:
        """On the first step of an epoch, draw the epoch's seeds and flag every worker."""
        epoch = trainer.completed_epochs
        if epoch == self._epoch:
            return
        self._epoch, self._batch_index = epoch, 0
        self._epoch_seeds = [
            int(generator.integers(2**63)) for _, generator in trainer.model.named_generators()
        ]
        self._needs_epoch_start = [True] * self.num_workers

    def _gather(self, ray: Any, ranks: list[int], refs: list[Any]) -> list[ShardResult]:
        """Every worker's result, or a WorkerError naming the first one that failed."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        results = []
        for rank, ref in zip(ranks, refs, strict=True):
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            try:
                results.append(ray.get(ref, timeout=remaining))
            except ray.exceptions.RayTaskError as error:
                raise _worker_exception(error, self._failure(rank, "raised", "see above")) from None
            except ray.exceptions.RayActorError as error:
                raise WorkerError(self._failure(rank, "died", _first_line(error))) from error
            except ray.exceptions.GetTimeoutError as error:
                reason = f"no answer within timeout={self.timeout:g} s"
                raise WorkerError(self._failure(rank, "did not answer", reason)) from error
        return results

    def _failure(self, rank: int, what: str, reason: str) -> str:
        epoch = (self._epoch or 0) + 1
        return (
            f"{_OWNER}: worker {rank} of {self.num_workers} (pid {self._pids[rank]}) {what} at "
            f"epoch {epoch}, batch {self._batch_index + 1}: {reason}; no optimiser step was "
            "taken, the model keeps the weights of the last completed step"
        )


def _checked_loss(trainer: Trainer) -> Loss:
    if not isinstance(trainer.loss, Loss):
        raise TypeError(
            f"{_OWNER}: the loss must be a minitorch_rnn Loss (its reduction is what the "
            f"workers' gradients are combined by), got {type(trainer.loss).__name__}"
        )
    return trainer.loss


def _first_axis(array: np.ndarray, name: str) -> int:
    if array.ndim < 1:
        raise ValueError(f"{_OWNER}: {name} needs a first (sample) axis to split, got a scalar")
    return int(array.shape[0])


def _worker_exception(error: Any, where: str) -> BaseException:
    """The exception a worker raised, as the worker raised it (its class and message first),
    with a note saying where; Ray's wrapper, with its remote traceback, is left out."""
    cause = getattr(error, "cause", None)
    if not isinstance(cause, Exception):
        return WorkerError(f"{where.replace('see above', _first_line(error))}")
    # what add_note does (Python 3.11+), spelled so that 3.10 accepts it too
    notes = [*getattr(cause, "__notes__", []), where.replace(": see above", "")]
    setattr(cause, "__notes__", notes)  # noqa: B010
    return cause


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__
