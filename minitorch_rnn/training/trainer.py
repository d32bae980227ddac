"""The Trainer: the mini-batch training loop, evaluation and prediction.

The data go down one path: :mod:`~minitorch_rnn.training.source` makes each batch ``(x, y,
lengths)`` and checks it once; the :mod:`~minitorch_rnn.training.strategy` (in this process by
default) trains on it; the :mod:`~minitorch_rnn.training.metrics` add it up. One training step:

1. ``model.zero_grad()`` (layers accumulate into ``.grad``);
2. ``pred = model.forward(x, lengths=lengths)`` (``model.forward(*x)`` for a tuple of inputs;
   ``lengths`` only to a model whose ``forward`` declares it, see
   :func:`~minitorch_rnn.module.accepts_lengths`);
3. ``loss.forward(pred, y, mask=mask)``: for a padded batch whose prediction has one output per
   input step, the mask ``mask[b, t] = t < lengths[b]`` keeps the padded steps out of the loss and
   the metrics (:func:`~minitorch_rnn.training.strategy.target_mask`);
4. ``model.backward(loss.backward())``;
5. clipping: ``clip_value`` elementwise first, then ``clip_norm`` on the global norm;
6. ``optimizer.step()``.

Steps 2 to 4 are the strategy's. A NaN or infinite prediction, loss or gradient stops training
*before* step 6 with a :class:`NonFiniteError` naming the epoch and batch: the weights are those of
the last good step. Checkpoints and resume live in :mod:`~minitorch_rnn.training.checkpoint`, the
progress display in :mod:`~minitorch_rnn.training.progress`.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .. import init
from ..errors import NonFiniteError, NonFiniteGradientError, NonFiniteInputError
from ..module import Module
from ..optim.clip import clip_grad_norm, clip_grad_value
from ..validation import is_int
from . import checkpoint
from .callback import Callback
from .forward_only import (
    check_fits_model,
    evaluate,
    predict,
    reset_recurrent_state,
    trainer_error,
)
from .history import History
from .metrics import BatchOutcome, EpochMetrics, Metric, grades_predictions, resolve_metrics
from .progress import Progress
from .protocols import Loader, LossLike, MetricSpec, OptimizerLike, ValidationData, require_methods
from .source import Batch, BatchSource, array_or_loader_source, make_batch, validation_source
from .strategy import LocalStrategy, Strategy, target_mask

__all__ = ["DEFAULT_METRICS", "Trainer"]

DEFAULT_METRICS: tuple[str, ...] = ("accuracy",)


class Trainer:
    """Fit a model with a loss and an optimiser; evaluate and predict in batches.

    Parameters
    ----------
    model : Module
        Any module with ``forward``/``backward``, e.g. a :class:`~minitorch_rnn.Sequential`.
    loss : Loss
        ``forward(pred, target, mask=None) -> float`` and ``backward() -> grad``.
    optimizer : Optimizer
        ``step()`` (and ``lr``, logged each epoch, and ``state_dict``/``load_state_dict``, saved
        in checkpoints).
    metrics : sequence
        Names (``"accuracy"``, ``"sequence_accuracy"``, ``"perplexity"``, ``"bits_per_char"``),
        callables ``fn(pred, target, mask) -> float`` or :class:`~.metrics.Metric` objects; see
        :mod:`minitorch_rnn.training.metrics`. The default ``("accuracy",)`` is dropped for a loss
        without classes (``MSELoss``: its ``prediction_rule`` is None); asked for explicitly with
        such a loss it is an error.
    clip_value : float, optional
        Clip every gradient entry to ``[-clip_value, clip_value]`` before each step.
    clip_norm : float, optional
        Rescale the gradients so that their global L2 norm is at most ``clip_norm``.
    callbacks : sequence of Callback
        Called in this order (see :mod:`minitorch_rnn.training.callbacks`).
    seed : int or numpy.random.Generator
        Source of the shuffling: the same seed gives bitwise-identical training (with a model
        whose own randomness, e.g. Dropout's, is seeded too).
    strategy : Strategy, optional
        Where each step's gradients are computed (see :mod:`minitorch_rnn.training.strategy`):
        ``None`` in this process; ``minitorch_rnn.distributed.RayStrategy`` over Ray workers.

    Attributes
    ----------
    history : History
        The per-epoch logs of the latest :meth:`fit`.
    completed_epochs : int
        Epochs completed by the latest :meth:`fit` (including those before a resume).
    stop_training : bool
        Set it to True (from a callback) to end :meth:`fit` after the current epoch.
    rng : numpy.random.Generator
        The shuffling generator (saved in checkpoints).

    Examples
    --------
    >>> import numpy as np, minitorch_rnn as mt
    >>> from minitorch_rnn.training import Trainer
    >>> x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    >>> y = np.array([[0], [1], [1], [0]], dtype=np.float32)
    >>> model = mt.Sequential(mt.Dense(2, 8, seed=0), mt.Tanh(), mt.Dense(8, 1, seed=1),
    ...                       mt.Logistic())
    >>> trainer = Trainer(model, mt.BCELoss(), mt.optim.Adam(model.parameters(), lr=0.05))
    >>> history = trainer.fit(x, y, epochs=300, batch_size=4, progress=False)
    >>> trainer.evaluate(x, y)["accuracy"]
    1.0
    """

    def __init__(
        self,
        model: Module,
        loss: LossLike,
        optimizer: OptimizerLike,
        metrics: Sequence[MetricSpec] = DEFAULT_METRICS,
        clip_value: float | None = None,
        clip_norm: float | None = None,
        callbacks: Iterable[Callback] = (),
        seed: init.Seed = 0,
        strategy: Strategy | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be a Module, got {type(model).__name__}")
        require_methods("Trainer", "loss", loss, ("forward", "backward"))
        require_methods("Trainer", "optimizer", optimizer, ("step",))
        if strategy is not None:
            require_methods(
                "Trainer", "strategy", strategy, ("setup", "forward_backward", "teardown")
            )
        if metrics is DEFAULT_METRICS and not grades_predictions(loss):
            metrics = ()
        resolved = resolve_metrics(metrics, loss)
        clips = {"clip_value": clip_value, "clip_norm": clip_norm}
        for name, value in clips.items():
            if value is not None and not (
                isinstance(value, Real) and math.isfinite(value) and value > 0
            ):
                raise ValueError(
                    f"Trainer: {name} must be a positive number or None, got {value!r}"
                )
        callback_list = list(callbacks)
        for index, callback in enumerate(callback_list):
            if not isinstance(callback, Callback):
                raise TypeError(
                    f"Trainer: callbacks[{index}] must be a Callback, got {type(callback).__name__}"
                )
        self.rng = init.as_generator(seed)
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.metrics: list[Metric] = resolved
        self.clip_value = None if clip_value is None else float(clip_value)
        self.clip_norm = None if clip_norm is None else float(clip_norm)
        self.callbacks = callback_list
        self.strategy: Strategy = LocalStrategy() if strategy is None else strategy
        for callback in callback_list:
            callback.trainer = self
        self.history = History()
        self.completed_epochs = 0
        self.stop_training = False
        # Paths of checkpoints requested during on_epoch_end; None outside that phase.
        self._pending_checkpoints: list[tuple[str, dict[str, Any]]] | None = None

    # -- public API ---------------------------------------------------------------------------

    def fit(
        self,
        x: ArrayLike | Loader,
        y: ArrayLike | None = None,
        epochs: int = 10,
        batch_size: int = 32,
        validation_data: ValidationData | None = None,
        shuffle: bool = True,
        progress: bool = True,
        lengths: ArrayLike | None = None,
        resume_from: str | os.PathLike[str] | None = None,
    ) -> History:
        """Train for ``epochs`` epochs and return the history.

        Parameters
        ----------
        x, y : array_like
            Inputs and targets, sliced into batches along the first axis; or ``x`` a *loader*
            and ``y`` None: any iterable of batches ``(x, y)`` or ``(x, y, lengths)`` that can be
            iterated again each epoch (a list of batches, a
            :class:`~minitorch_rnn.training.data.StreamLoader`, ...). ``x`` may be a tuple of
            arrays with the same first dimension, a model's several inputs (e.g.
            ``(src, tgt_in, src_lengths)``): each is sliced per batch (shuffled together) and the
            model is called as ``model.forward(*x_batch)``. Integer inputs (token ids) are fine:
            no gradient is asked for the data.
        epochs : int
            Index of the last epoch to run (1-based): a fresh fit runs epochs ``1..epochs``; a
            resumed one continues after the checkpoint's epochs up to ``epochs``.
        batch_size : int
            Samples per batch for arrays (the last batch may be smaller).
        validation_data : optional
            ``(x, y)`` or ``(x, y, lengths)`` arrays (``x`` a tuple for several inputs), or a
            loader; evaluated (eval mode) after each epoch, logged as ``val_loss`` and
            ``val_<metric>``. Checked before the first step: arrays and lists of batches by
            running their first sample or batch through copies of the model and the loss.
        shuffle : bool
            Visit array samples in a new random order each epoch (from the Trainer's seed). A
            loader is never shuffled: its order is its own (and carries a stream's state).
        progress : bool
            In a terminal (stderr is a TTY): a tqdm bar per epoch with the running loss and
            metrics. Otherwise (logs, pipes): one plain summary line per epoch on stderr.
            ``False``: print nothing.
        lengths : array_like of int, optional
            ``(N,)`` valid steps of each sample of padded ``x`` (see
            :func:`~minitorch_rnn.training.data.pad_sequences`), a single input; with several
            inputs the lengths are one of them.
        resume_from : str or path-like, optional
            A checkpoint written by :meth:`save_checkpoint` (or ``ModelCheckpoint``): restores the
            weights, optimiser state, history, epoch count and random states, then continues as
            if training had never stopped. All or nothing: if the file does not fit, or a
            callback fails in ``on_train_begin`` or while loading its state, everything restored
            is undone.

        Returns
        -------
        History
            Per-epoch lists: ``loss``, each metric, ``val_loss`` and ``val_<metric>`` (with
            validation data) and ``lr``.

        Raises
        ------
        NonFiniteError
            On a NaN or infinite prediction, loss or gradient, or an optimiser step that would
            make the weights or the optimiser state non-finite (no step is taken for that batch).
        """
        train = array_or_loader_source(x, y, lengths, "Trainer.fit")
        validation = validation_source(validation_data)
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not is_int(value) or value < 1:
                raise ValueError(f"Trainer.fit: {name} must be a positive int, got {value!r}")
        if validation is not None:
            owner = "Trainer.fit (validation_data)"
            check_fits_model(
                self.model, self.loss, validation.first_batch(), train.first_batch(), owner
            )
        self.stop_training = False
        # what every epoch will log, so that callbacks can check their keys before training
        begin_logs = {"log_keys": self._log_keys(validation is not None)}
        if resume_from is None:
            self.history, self.completed_epochs = History(), 0
            self._call("on_train_begin", begin_logs)
        else:
            checkpoint.resume(self, resume_from, lambda: self._call("on_train_begin", begin_logs))
        logs: dict[str, Any] = {}
        display = Progress(bool(progress))
        try:
            self.strategy.setup(self)
            for epoch in range(self.completed_epochs, int(epochs)):
                logs = self._run_epoch(
                    train, validation, epoch, int(epochs), int(batch_size), shuffle, display
                )
                if self.stop_training:
                    break
        finally:
            display.close()
            self.model.train()
            self.strategy.teardown()
        self._call("on_train_end", dict(logs))
        return self.history

    def evaluate(
        self,
        x: ArrayLike | Loader,
        y: ArrayLike | None = None,
        lengths: ArrayLike | None = None,
        batch_size: int = 256,
    ) -> dict[str, float]:
        """Loss and metrics over ``(x, y)`` (or a loader ``x``), in eval mode, without training.

        ``x`` may be a tuple of inputs, as in :meth:`fit`.

        The recurrent state of stateful modules is reset first. Values are accumulated over the
        whole data as in :meth:`fit` (see :mod:`minitorch_rnn.training.metrics`).

        Returns
        -------
        dict
            ``"loss"`` and one entry per metric.
        """
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(
                f"Trainer.evaluate: batch_size must be a positive int, got {batch_size!r}"
            )
        source = array_or_loader_source(x, y, lengths, "Trainer.evaluate")
        return self._evaluate(source, int(batch_size))

    def predict(
        self, x: ArrayLike, lengths: ArrayLike | None = None, batch_size: int = 256
    ) -> np.ndarray:
        """The model's output for ``x``, computed in eval mode in batches and concatenated.

        Parameters
        ----------
        x : array_like or tuple of array_like
            Inputs ``(N, ...)``, or a tuple of them with the same ``N`` (``model.forward(*x)``).
        lengths : array_like of int, optional
            ``(N,)`` valid steps of padded sequences (passed to the model).
        batch_size : int
            Samples per forward pass.

        Returns
        -------
        np.ndarray
            ``(N, ...)``: the outputs of all batches along the first axis.
        """
        if not is_int(batch_size) or batch_size < 1:
            raise ValueError(
                f"Trainer.predict: batch_size must be a positive int, got {batch_size!r}"
            )
        inputs = make_batch(x, None, lengths, "Trainer.predict")
        return predict(self.model, inputs, int(batch_size))

    def save_checkpoint(self, path: str | os.PathLike[str], **meta: Any) -> None:
        """Write everything :meth:`fit` needs to resume exactly to one file.

        The file (see :mod:`minitorch_rnn.training.checkpoint`) holds the weights, the optimiser
        state and, as JSON meta under ``"trainer"``: the number of completed epochs, the history,
        the Trainer's random state, the state of every ``numpy.random.Generator`` held by the
        model's modules (Dropout's masks) and each callback's :meth:`~Callback.state_dict` (e.g. a
        learning-rate scheduler's progress). Any optimiser the Trainer accepts can be saved: an
        :class:`~minitorch_rnn.optim.Optimizer` in the file's optimiser members, another object
        with ``state_dict``/``load_state_dict`` in the meta, one without them not at all.

        Called during ``on_epoch_end`` (as by ``ModelCheckpoint``), the file is written after
        every callback's ``on_epoch_end`` of that epoch has run, so that it holds the complete
        state at the end of the epoch. Checkpoints are meant to be taken between epochs: one
        written in the middle of an epoch resumes at the start of the next.

        ``**meta`` (JSON-serialisable) is stored beside, e.g. what is needed to rebuild the model.
        """
        if self._pending_checkpoints is not None:
            self._pending_checkpoints.append((os.fspath(path), meta))
        else:
            checkpoint.write_checkpoint(self, os.fspath(path), meta)

    # -- the loop -----------------------------------------------------------------------------

    def _run_epoch(
        self,
        train: BatchSource,
        validation: BatchSource | None,
        epoch: int,
        epochs: int,
        batch_size: int,
        shuffle: bool,
        display: Progress,
    ) -> dict[str, Any]:
        reset_recurrent_state(self.model)
        self.model.train()
        self._call("on_epoch_begin", epoch, {})
        lr = self._learning_rate()
        display.start_epoch(epoch, epochs, train.num_batches(batch_size))
        averages = EpochMetrics(self.loss, self.metrics)
        count = 0
        for index, batch in enumerate(train.iterate(batch_size, shuffle, self.rng)):
            self._call("on_batch_begin", index, {"size": len(batch.y)})
            outcome, value = self._train_step(batch, epoch, index)
            averages.update(value, outcome)
            self._call("on_batch_end", index, {"loss": value, "size": outcome.size})
            if display.shows_batches:
                display.batch(averages.results())
            count += 1
            if self.stop_training:
                break  # asked during a batch (Keras's rule): this epoch ends here, validated
        if count == 0:
            raise ValueError(
                f"Trainer.fit: the training data yielded no batches in epoch {epoch + 1}"
            )
        logs: dict[str, Any] = averages.results()
        if validation is not None:
            for key, value in self._evaluate(validation, batch_size).items():
                logs[f"val_{key}"] = value
        if lr is not None:
            logs["lr"] = lr
        self._end_epoch(epoch, logs)
        display.end_epoch(epoch, epochs, logs)
        return logs

    def _end_epoch(self, epoch: int, logs: dict[str, Any]) -> None:
        """``on_epoch_end``, the history, then the checkpoints the callbacks asked for."""
        self._pending_checkpoints = []
        try:
            self._call("on_epoch_end", epoch, logs)
            self.history.append(logs)
            self.completed_epochs = epoch + 1
            pending = self._pending_checkpoints
        finally:
            self._pending_checkpoints = None
        for path, meta in pending:
            checkpoint.write_checkpoint(self, path, meta)

    def _train_step(self, batch: Batch, epoch: int, index: int) -> tuple[BatchOutcome, float]:
        where = f"epoch {epoch + 1}, batch {index + 1}"
        x, y, lengths = batch
        self.model.zero_grad()
        try:
            pred, value = self.strategy.forward_backward(self, x, y, lengths)
            self._check_and_clip_gradients()
            self.optimizer.step()
        except NonFiniteInputError as error:
            self.model.zero_grad()
            raise trainer_error(
                NonFiniteInputError, f"non-finite values (NaN or inf) at {where}: {error}"
            ) from error
        except NonFiniteError as error:
            self.model.zero_grad()
            raise trainer_error(type(error), f"{error} at {where}") from error
        return BatchOutcome(self.loss, pred, y, target_mask(x, pred, lengths)), value

    def _check_and_clip_gradients(self) -> None:
        parameters = list(self.model.named_parameters())
        bad = [name for name, p in parameters if not np.isfinite(p.grad).all()]
        if bad:
            raise NonFiniteGradientError(f"non-finite gradient of {', '.join(bad)}")
        if self.clip_value is not None:
            clip_grad_value([p for _, p in parameters], self.clip_value)
        if self.clip_norm is not None:
            clip_grad_norm([p for _, p in parameters], self.clip_norm)

    def _evaluate(self, source: BatchSource, batch_size: int) -> dict[str, float]:
        return evaluate(self.model, self.loss, self.metrics, source, batch_size)

    # -- helpers ------------------------------------------------------------------------------

    def _log_keys(self, validating: bool) -> list[str]:
        """The keys of every epoch's logs: loss, metrics, their val_ twins, lr."""
        keys = ["loss", *(metric.name for metric in self.metrics)]
        if validating:
            keys += [f"val_{key}" for key in keys]
        return keys + (["lr"] if self._learning_rate() is not None else [])

    def _learning_rate(self) -> float | None:
        lr = getattr(self.optimizer, "lr", None)
        return float(lr) if isinstance(lr, Real) else None

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)
