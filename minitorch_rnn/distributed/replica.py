"""A worker's side of data parallelism: a model replica that turns a batch shard into gradients.

:class:`Replica` is a plain class; :class:`~minitorch_rnn.distributed.RayStrategy` runs each
instance as a Ray actor (one process per worker). It never steps an optimiser: every step it
receives the driver's weights, runs forward and backward on its shard with the loss's reduction
set to ``"sum"``, and returns the summed gradients as one flat array with its prediction shard.
"""

from __future__ import annotations

import copy
import os
import time
from typing import Any, NamedTuple

import numpy as np

from ..errors import NonFiniteError
from ..losses import Loss
from ..module import Module
from ..training.forward_only import reset_recurrent_state
from ..training.strategy import forward_backward
from .flat import flat_gradients, load_flat

__all__ = ["Replica", "ShardResult"]


class ShardResult(NamedTuple):
    """A worker's answer for one step.

    ``status`` is ``"ok"``, or the name of the error met before any backward
    (a :class:`~minitorch_rnn.errors.NonFiniteError` subclass, e.g. ``"NonFiniteLossError"``) with its text in ``message``; then
    ``gradients`` and ``pred`` are None.
    """

    status: str
    message: str
    gradients: np.ndarray | None
    pred: np.ndarray | None
    seconds: float


class Replica:
    """One worker's model replica and summed-reduction loss.

    Parameters
    ----------
    model : Module
        A copy of the driver's model (its weights are overwritten every step).
    loss : Loss
        The driver's loss; the replica keeps a copy whose reduction is ``"sum"``.
    rank : int
        The worker's index, ``0 <= rank < num_workers`` (it seeds the worker's random streams).
    """

    def __init__(self, model: Module, loss: Loss, rank: int) -> None:
        # Arrays that arrive through the object store are read-only views of shared memory:
        # a deep copy gives the replica writable weights and buffers of its own.
        self.model = copy.deepcopy(model)
        self.model.train()
        self.loss = copy.copy(loss)
        self.loss.reduction = "sum"
        self.rank = rank
        self.parameters = self.model.parameters()
        # the same names, in the same order, as the driver's generators (the model is a copy)
        self.generators = [generator for _, generator in self.model.named_generators()]

    def pid(self) -> int:
        """The worker's process id (a liveness probe and a name for error messages)."""
        return os.getpid()

    def step(
        self,
        weights: np.ndarray,
        x: Any,
        y: Any,
        lengths: np.ndarray | None,
        epoch_seeds: list[int] | None,
    ) -> ShardResult:
        """Forward and backward of one shard at the given weights.

        ``epoch_seeds`` is given on the first step of an epoch: the replica forgets the carried
        state of stateful recurrent layers, as the Trainer does for its own model, and reseeds
        its i-th random generator with ``[epoch_seeds[i], rank]``.

        Returns
        -------
        ShardResult
            ``gradients`` ``(P,)``: the gradient of the shard's *summed* loss;
            ``pred``: the model's output for the shard.
        """
        start = time.perf_counter()
        if epoch_seeds is not None:
            self._start_epoch(epoch_seeds)
        load_flat(self.parameters, weights)
        self.model.zero_grad()
        try:
            pred, _ = forward_backward(self.model, self.loss, x, y, lengths)
        except NonFiniteError as error:
            return ShardResult(type(error).__name__, str(error), None, None, 0.0)
        gradients = flat_gradients(self.parameters)
        return ShardResult("ok", "", gradients, np.asarray(pred), time.perf_counter() - start)

    def _start_epoch(self, epoch_seeds: list[int]) -> None:
        reset_recurrent_state(self.model)
        for generator, seed in zip(self.generators, epoch_seeds, strict=True):
            fresh = type(generator.bit_generator)(np.random.SeedSequence([seed, self.rank]))
            generator.bit_generator.state = fresh.state
