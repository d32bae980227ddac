"""The Trainer: mini-batch training with metrics, callbacks, progress display and exact resume.

One training step on a batch ``(x, y, lengths)``:

1. ``model.zero_grad()`` (layers accumulate into ``.grad``);
2. ``pred = model.forward(x, lengths=lengths)`` (``lengths`` only to a model whose ``forward``
   declares it, see :func:`~minitorch_rnn.module.accepts_lengths`);
3. ``loss.forward(pred, y, mask=mask)``: for a padded batch whose target has a time axis
   (``y.shape[1] == x.shape[1]``) the mask ``mask[b, t] = t < lengths[b]`` keeps the padded steps
   out of the loss and the metrics;
4. ``model.backward(loss.backward())``;
5. clipping: ``clip_value`` elementwise first, then ``clip_norm`` on the global norm;
6. ``optimizer.step()``.

A NaN or infinite prediction, loss or gradient stops training *before* step 6 with a
:class:`NonFiniteError` naming the epoch and batch: the weights are those of the last good step.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
from tqdm import tqdm

from .. import init, serialization
from ..losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss
from ..module import Module, accepts_lengths
from ..optim.clip import clip_grad_norm, clip_grad_value
from ..validation import NonFiniteInputError
from .callbacks import Callback, History
from .data import Batch, batches, check_lengths, num_batches, time_mask, unpack_batch
from .metrics import BatchOutcome, LossAverage, Metric, resolve_metrics
from .strategy import LocalStrategy, NonFiniteLossError, Strategy

__all__ = ["DEFAULT_METRICS", "NonFiniteError", "Trainer"]

DEFAULT_METRICS: tuple[str, ...] = ("accuracy",)
_CLASSIFICATION_LOSSES = (CrossEntropyLoss, BCELoss, BCEWithLogitsLoss)
_RESUME_VERSION = 1


class NonFiniteError(FloatingPointError):
    """A NaN or infinite prediction, loss or gradient; no optimiser step was taken."""


class Trainer:
    """Fit a model with a loss and an optimiser; evaluate and predict in batches.

    Parameters
    ----------
    model : Module
        Any module with ``forward``/``backward``, e.g. a :class:`~minitorch_rnn.Sequential`.
    loss : Loss
        ``forward(pred, target, mask=None) -> float`` and ``backward() -> grad``.
    optimizer : Optimizer
        ``step()`` (and ``lr``, logged each epoch, and ``state_dict`` for checkpoints).
    metrics : sequence
        Names (``"accuracy"``, ``"sequence_accuracy"``, ``"perplexity"``, ``"bits_per_char"``),
        callables ``fn(pred, target, mask) -> float`` or :class:`~.metrics.Metric` objects; see
        :mod:`minitorch_rnn.training.metrics`. The default ``("accuracy",)`` is dropped for a loss
        without classes (``MSELoss``); asked for explicitly with such a loss it is an error.
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
        loss: Any,
        optimizer: Any,
        metrics: Sequence[Any] = DEFAULT_METRICS,
        clip_value: float | None = None,
        clip_norm: float | None = None,
        callbacks: Iterable[Callback] = (),
        seed: init.Seed = 0,
        strategy: Strategy | None = None,
    ) -> None:
        if not isinstance(model, Module):
            raise TypeError(f"Trainer: model must be a Module, got {type(model).__name__}")
        for role, thing, methods in (
            ("loss", loss, ("forward", "backward")),
            ("optimizer", optimizer, ("step",)),
            ("strategy", strategy, ("setup", "forward_backward", "teardown")),
        ):
            if thing is None and role == "strategy":
                continue
            missing = [name for name in methods if not callable(getattr(thing, name, None))]
            if missing:
                raise TypeError(
                    f"Trainer: {role} must have {' and '.join(methods)} methods, got "
                    f"{type(thing).__name__} without {', '.join(missing)}"
                )
        if metrics is DEFAULT_METRICS and not isinstance(loss, _CLASSIFICATION_LOSSES):
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
        x: Any,
        y: Any = None,
        epochs: int = 10,
        batch_size: int = 32,
        validation_data: Any = None,
        shuffle: bool = True,
        progress: bool = True,
        lengths: Any = None,
        resume_from: str | os.PathLike[str] | None = None,
    ) -> History:
        """Train for ``epochs`` epochs and return the history.

        Parameters
        ----------
        x, y : array_like
            Inputs and targets, sliced into batches along the first axis; or ``x`` a *loader*
            and ``y`` None: any iterable of batches ``(x, y)`` or ``(x, y, lengths)`` that can be
            iterated again each epoch (a list of batches, a
            :class:`~minitorch_rnn.training.data.StreamLoader`, ...).
        epochs : int
            Index of the last epoch to run (1-based): a fresh fit runs epochs ``1..epochs``; a
            resumed one continues after the checkpoint's epochs up to ``epochs``.
        batch_size : int
            Samples per batch for arrays (the last batch may be smaller).
        validation_data : optional
            ``(x, y)`` or ``(x, y, lengths)`` arrays, or a loader; evaluated (eval mode) after
            each epoch, logged as ``val_loss`` and ``val_<metric>``.
        shuffle : bool
            Visit array samples in a new random order each epoch (from the Trainer's seed). A
            loader is never shuffled: its order is its own (and carries a stream's state).
        progress : bool
            In a terminal (stderr is a TTY): a tqdm bar per epoch with the running loss and
            metrics. Otherwise (logs, pipes): one plain summary line per epoch on stderr.
            ``False``: print nothing.
        lengths : array_like of int, optional
            ``(N,)`` valid steps of each sample of padded ``x`` (see
            :func:`~minitorch_rnn.training.data.pad_sequences`).
        resume_from : str or path-like, optional
            A checkpoint written by :meth:`save_checkpoint` (or ``ModelCheckpoint``): restores the
            weights, optimiser state, history, epoch count and random states, then continues as
            if training had never stopped.

        Returns
        -------
        History
            Per-epoch lists: ``loss``, each metric, ``val_loss`` and ``val_<metric>`` (with
            validation data) and ``lr``.

        Raises
        ------
        NonFiniteError
            On a NaN or infinite prediction, loss or gradient (no step is taken for that batch).
        """
        train = self._source(x, y, lengths, "fit")
        validation = self._validation_source(validation_data)
        for name, value in (("epochs", epochs), ("batch_size", batch_size)):
            if not _is_int(value) or value < 1:
                raise ValueError(f"Trainer.fit: {name} must be a positive int, got {value!r}")
        callback_states: list[Any] = []
        rollback: Callable[[], None] | None = None
        if resume_from is not None:
            rollback = self._snapshot()
            callback_states = self._restore(resume_from)
        else:
            self.history = History()
            self.completed_epochs = 0
        self.stop_training = False
        display = _Progress(bool(progress))
        self._call("on_train_begin", {})
        try:
            self._load_callback_states(callback_states)
        except Exception:
            # A resume is all or nothing: undo the restored weights and random states too.
            if rollback is not None:
                rollback()
            raise
        logs: dict[str, Any] = {}
        try:
            self.strategy.setup(self)
            for epoch in range(self.completed_epochs, int(epochs)):
                logs = self._run_epoch(
                    train, validation, epoch, int(epochs), batch_size, shuffle, display
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
        self, x: Any, y: Any = None, lengths: Any = None, batch_size: int = 256
    ) -> dict[str, float]:
        """Loss and metrics over ``(x, y)`` (or a loader ``x``), in eval mode, without training.

        The recurrent state of stateful modules is reset first. Values are accumulated over the
        whole data as in :meth:`fit` (see :mod:`minitorch_rnn.training.metrics`).

        Returns
        -------
        dict
            ``"loss"`` and one entry per metric.
        """
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(
                f"Trainer.evaluate: batch_size must be a positive int, got {batch_size!r}"
            )
        return self._evaluate(self._source(x, y, lengths, "evaluate"), int(batch_size))

    def predict(self, x: Any, lengths: Any = None, batch_size: int = 256) -> np.ndarray:
        """The model's output for ``x``, computed in eval mode in batches and concatenated.

        Parameters
        ----------
        x : array_like
            Inputs ``(N, ...)``.
        lengths : array_like of int, optional
            ``(N,)`` valid steps of padded sequences (passed to the model).
        batch_size : int
            Samples per forward pass.

        Returns
        -------
        np.ndarray
            ``(N, ...)``: the outputs of all batches along the first axis.
        """
        inputs = np.asarray(x)
        if inputs.ndim < 1 or inputs.shape[0] == 0:
            raise ValueError(
                f"Trainer.predict: x must hold at least one sample, got {inputs.shape}"
            )
        if not _is_int(batch_size) or batch_size < 1:
            raise ValueError(
                f"Trainer.predict: batch_size must be a positive int, got {batch_size!r}"
            )
        if lengths is not None:
            lengths = self._checked_lengths(inputs, lengths, "Trainer.predict")
        outputs = []
        with self._eval_mode():
            for x_batch, lengths_batch in batches(inputs, lengths, batch_size=int(batch_size)):
                outputs.append(np.asarray(self._forward(x_batch, lengths_batch)))
        return np.concatenate(outputs, axis=0)

    def save_checkpoint(self, path: str | os.PathLike[str], **meta: Any) -> None:
        """Write everything :meth:`fit` needs to resume exactly to one file.

        The file (see :func:`minitorch_rnn.serialization.save`) holds the weights, the optimiser
        state and, as JSON meta under ``"trainer"``: the number of completed epochs, the history,
        the Trainer's random state, the state of every ``numpy.random.Generator`` held by the
        model's modules (Dropout's masks) and each callback's :meth:`~Callback.state_dict` (e.g. a
        learning-rate scheduler's progress).

        Called during ``on_epoch_end`` (as by ``ModelCheckpoint``), the file is written after
        every callback's ``on_epoch_end`` of that epoch has run, so that it holds the complete
        state at the end of the epoch. Checkpoints are meant to be taken between epochs: one
        written in the middle of an epoch resumes at the start of the next.

        ``**meta`` (JSON-serialisable) is stored beside, e.g. what is needed to rebuild the model.
        """
        if self._pending_checkpoints is not None:
            self._pending_checkpoints.append((os.fspath(path), meta))
        else:
            self._write_checkpoint(os.fspath(path), meta)

    # -- epochs -------------------------------------------------------------------------------

    def _run_epoch(
        self,
        train: _Source,
        validation: _Source | None,
        epoch: int,
        epochs: int,
        batch_size: int,
        shuffle: bool,
        display: _Progress,
    ) -> dict[str, Any]:
        self._reset_recurrent_state()
        self.model.train()
        self._call("on_epoch_begin", epoch, {})
        lr = self._learning_rate()
        display.start_epoch(epoch, epochs, train.num_batches(batch_size))
        loss_average = LossAverage(self.loss)
        for metric in self.metrics:
            metric.reset()
        count = 0
        for index, (x, y, lengths) in enumerate(train.iterate(batch_size, shuffle, self.rng)):
            self._call("on_batch_begin", index, {"size": _batch_size_of(x)})
            outcome, value = self._train_step(x, y, lengths, epoch, index)
            loss_average.update_value(value, outcome)
            for metric in self.metrics:
                metric.update(outcome)
            self._call("on_batch_end", index, {"loss": value, "size": outcome.size})
            if display.mode == "bar":
                display.batch(self._results(loss_average))
            count += 1
        if count == 0:
            raise ValueError(
                f"Trainer.fit: the training data yielded no batches in epoch {epoch + 1}"
            )
        logs: dict[str, Any] = self._results(loss_average)
        if validation is not None:
            for key, value in self._evaluate(validation, batch_size).items():
                logs[f"val_{key}"] = value
        if lr is not None:
            logs["lr"] = lr
        self._pending_checkpoints = []
        try:
            self._call("on_epoch_end", epoch, logs)
            self.history.append(logs)
            self.completed_epochs = epoch + 1
            pending = self._pending_checkpoints
        finally:
            self._pending_checkpoints = None
        for path, meta in pending:
            self._write_checkpoint(path, meta)
        display.end_epoch(epoch, epochs, logs)
        return logs

    def _train_step(
        self, x: Any, y: Any, lengths: np.ndarray | None, epoch: int, index: int
    ) -> tuple[BatchOutcome, float]:
        where = f"epoch {epoch + 1}, batch {index + 1}"
        mask = self._mask(x, y, lengths, "Trainer.fit")
        self.model.zero_grad()
        try:
            pred, value = self.strategy.forward_backward(self, x, y, lengths, mask)
        except NonFiniteLossError as error:
            self.model.zero_grad()
            raise NonFiniteError(
                f"Trainer: {error} at {where}; no optimiser step was taken, the weights are "
                "those of the last good step"
            ) from error
        except NonFiniteInputError as error:
            self.model.zero_grad()
            raise NonFiniteError(
                f"Trainer: non-finite values (NaN or inf) at {where}: {error}; no optimiser step "
                "was taken, the weights are those of the last good step"
            ) from error
        parameters = list(self.model.named_parameters())
        bad = [name for name, p in parameters if not np.isfinite(p.grad).all()]
        if bad:
            self.model.zero_grad()
            raise NonFiniteError(
                f"Trainer: non-finite gradient of {', '.join(bad)} at {where}; no optimiser step "
                "was taken, the weights are those of the last good step"
            )
        if self.clip_value is not None:
            clip_grad_value([p for _, p in parameters], self.clip_value)
        if self.clip_norm is not None:
            clip_grad_norm([p for _, p in parameters], self.clip_norm)
        self.optimizer.step()
        return BatchOutcome(self.loss, pred, y, mask), value

    def _evaluate(self, source: _Source, batch_size: int) -> dict[str, float]:
        loss_average = LossAverage(self.loss)
        for metric in self.metrics:
            metric.reset()
        count = 0
        with self._eval_mode():
            for index, (x, y, lengths) in enumerate(source.iterate(batch_size, False, None)):
                count += 1
                mask = self._mask(x, y, lengths, "Trainer.evaluate")
                pred = self._forward(x, lengths)
                _require_finite_prediction(pred, f"evaluation batch {index + 1}")
                outcome = BatchOutcome(self.loss, pred, y, mask)
                loss_average.update_value(self._loss_value(pred, y, mask), outcome)
                for metric in self.metrics:
                    metric.update(outcome)
        if count == 0:
            raise ValueError("Trainer.evaluate: the data yielded no batches")
        return self._results(loss_average)

    def _results(self, loss_average: LossAverage) -> dict[str, float]:
        results = {"loss": loss_average.result()}
        results.update({metric.name: metric.result() for metric in self.metrics})
        return results

    # -- one batch ----------------------------------------------------------------------------

    def _forward(self, x: Any, lengths: np.ndarray | None) -> Any:
        if lengths is not None and accepts_lengths(self.model):
            return self.model.forward(x, lengths=lengths)
        return self.model.forward(x)

    def _loss_value(self, pred: Any, y: Any, mask: np.ndarray | None) -> float:
        if mask is None:
            return float(self.loss.forward(pred, y))
        return float(self.loss.forward(pred, y, mask=mask))

    def _mask(
        self, x: np.ndarray, y: np.ndarray, lengths: np.ndarray | None, owner: str
    ) -> np.ndarray | None:
        """The ``(B, T)`` time mask of a padded batch whose target has the time axis of ``x``."""
        if lengths is None:
            return None
        lengths = self._checked_lengths(x, lengths, owner)
        steps = x.shape[1]
        if y.ndim >= 2 and y.shape[1] == steps:
            return time_mask(lengths, steps)
        return None

    @staticmethod
    def _checked_lengths(x: np.ndarray, lengths: Any, owner: str) -> np.ndarray:
        if x.ndim < 2:
            raise ValueError(
                f"{owner}: lengths need sequence input of shape (N, T, ...), got x of shape {x.shape}"
            )
        return check_lengths(lengths, x.shape[0], x.shape[1], owner)

    # -- data sources -------------------------------------------------------------------------

    def _source(self, x: Any, y: Any, lengths: Any, method: str) -> _Source:
        owner = f"Trainer.{method}"
        if y is None:
            if lengths is not None:
                raise TypeError(
                    f"{owner}: lengths cannot accompany a loader; yield (x, y, lengths) batches"
                )
            return _Source.from_loader(x, owner)
        inputs, targets = np.asarray(x), np.asarray(y)
        if inputs.ndim < 1 or targets.ndim < 1:
            raise ValueError(
                f"{owner}: x and y need a first (sample) axis, got shapes {inputs.shape} and "
                f"{targets.shape}"
            )
        if inputs.shape[0] != targets.shape[0]:
            raise ValueError(
                f"{owner}: x and y must hold the same number of samples, got {inputs.shape[0]} "
                f"and {targets.shape[0]}"
            )
        if inputs.shape[0] == 0:
            raise ValueError(f"{owner}: x and y are empty")
        checked = None if lengths is None else self._checked_lengths(inputs, lengths, owner)
        return _Source(arrays=(inputs, targets, checked))

    def _validation_source(self, validation_data: Any) -> _Source | None:
        if validation_data is None:
            return None
        if isinstance(validation_data, tuple):
            if len(validation_data) not in (2, 3):
                raise ValueError(
                    "Trainer.fit: validation_data must be (x, y), (x, y, lengths) or a loader, "
                    f"got a tuple of length {len(validation_data)}"
                )
            x, y, *rest = validation_data
            return self._source(x, y, rest[0] if rest else None, "fit (validation_data)")
        return _Source.from_loader(validation_data, "Trainer.fit (validation_data)")

    # -- modes, state, callbacks --------------------------------------------------------------

    @contextlib.contextmanager
    def _eval_mode(self) -> Iterator[None]:
        """Eval mode and fresh recurrent state for other data; the previous mode afterwards."""
        was_training = self.model.training
        self.model.eval()
        self._reset_recurrent_state()
        try:
            yield
        finally:
            self.model.train(was_training)

    def _reset_recurrent_state(self) -> None:
        for module in self.model.modules():
            reset = getattr(module, "reset_state", None)
            if callable(reset):
                reset()

    def _learning_rate(self) -> float | None:
        lr = getattr(self.optimizer, "lr", None)
        return float(lr) if isinstance(lr, Real) else None

    def _call(self, hook: str, *args: Any) -> None:
        for callback in self.callbacks:
            getattr(callback, hook)(*args)

    # -- checkpoints --------------------------------------------------------------------------

    def _module_generators(self) -> dict[str, np.random.Generator]:
        """Every Generator held by a module of the model, by dotted attribute name, once each."""
        found: dict[str, np.random.Generator] = {}
        seen: set[int] = set()
        for module_name, module in self.model.named_modules():
            for attribute, value in vars(module).items():
                if isinstance(value, np.random.Generator) and id(value) not in seen:
                    seen.add(id(value))
                    found[f"{module_name}.{attribute}" if module_name else attribute] = value
        return found

    def _snapshot(self) -> Callable[[], None]:
        """Capture weights, optimiser state, random states and progress; return their undo."""
        weights = self.model.state_dict()
        saver = getattr(self.optimizer, "state_dict", None)
        optimizer_state = saver() if callable(saver) else None
        generators = [self.rng, *self._module_generators().values()]
        random_states = [generator.bit_generator.state for generator in generators]
        history, completed = self.history, self.completed_epochs

        def undo() -> None:
            self.model.load_state_dict(weights)
            if optimizer_state is not None:
                self.optimizer.load_state_dict(optimizer_state)
            for generator, state in zip(generators, random_states, strict=True):
                generator.bit_generator.state = state
            self.history, self.completed_epochs = history, completed

        return undo

    def _write_checkpoint(self, path: str, meta: Mapping[str, Any]) -> None:
        state = {
            "version": _RESUME_VERSION,
            "completed_epochs": self.completed_epochs,
            "history": dict(self.history),
            "rng": self.rng.bit_generator.state,
            "module_rngs": {
                name: generator.bit_generator.state
                for name, generator in self._module_generators().items()
            },
            "callbacks": [
                {"class": type(callback).__name__, "state": callback.state_dict()}
                for callback in self.callbacks
            ],
        }
        serialization.save(path, self.model, self.optimizer, trainer=_to_json(state), **meta)

    def _restore(self, path: str | os.PathLike[str]) -> list[Any]:
        """Restore a :meth:`save_checkpoint` file, all or nothing; return the callback states
        (loaded after ``on_train_begin``, which may reset callbacks)."""
        where = f"Trainer.fit: resume_from={os.fspath(path)!r}"
        raw = serialization.read_meta(path).get("trainer")
        if not isinstance(raw, dict):
            raise ValueError(
                f"{where} holds no trainer state; write resumable checkpoints with "
                "Trainer.save_checkpoint or ModelCheckpoint"
            )
        state = _from_json(raw)
        try:
            completed = state["completed_epochs"]
            history = History(
                {str(k): [float(v) for v in values] for k, values in state["history"].items()}
            )
            rng_state = state["rng"]
            module_states = dict(state["module_rngs"])
            callback_states = list(state["callbacks"])
            for entry in callback_states:
                if not isinstance(entry["class"], str) or not isinstance(entry["state"], dict):
                    raise TypeError(f"callback entry {entry!r}")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise ValueError(f"{where}: malformed trainer state ({error!r})") from error
        if state.get("version") != _RESUME_VERSION or not _is_int(completed) or completed < 0:
            raise ValueError(
                f"{where}: unsupported trainer state (version {state.get('version')!r})"
            )
        generators = self._module_generators()
        if set(module_states) != set(generators):
            raise ValueError(
                f"{where}: the checkpoint has random generators {sorted(module_states)} but the "
                f"model has {sorted(generators)}"
            )
        staged = [(self.rng, rng_state, "trainer rng")] + [
            (generators[name], module_states[name], name) for name in sorted(generators)
        ]
        for generator, saved, name in staged:
            try:
                # A throwaway bit generator of the same kind validates the state without side effects.
                type(generator.bit_generator)().state = saved
            except (TypeError, ValueError, KeyError) as error:
                raise ValueError(f"{where}: invalid random state for {name} ({error})") from error
        serialization.load(path, self.model, self.optimizer)
        for generator, saved, _ in staged:
            generator.bit_generator.state = saved
        self.history = history
        self.completed_epochs = int(completed)
        return callback_states

    def _load_callback_states(self, states: list[Any]) -> None:
        """Give each callback the saved state of the same class at the same occurrence."""
        saved: dict[tuple[str, int], Any] = {}
        occurrences: dict[str, int] = {}
        for entry in states:
            name = str(entry["class"])
            saved[(name, occurrences.get(name, 0))] = entry["state"]
            occurrences[name] = occurrences.get(name, 0) + 1
        occurrences.clear()
        for callback in self.callbacks:
            name = type(callback).__name__
            key = (name, occurrences.get(name, 0))
            occurrences[name] = key[1] + 1
            if saved.get(key):
                callback.load_state_dict(saved[key])


class _Source:
    """Training or evaluation data: aligned arrays ``(x, y, lengths)`` or a re-iterable loader."""

    def __init__(
        self,
        arrays: tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
        loader: Any = None,
        owner: str = "Trainer",
    ) -> None:
        self.arrays = arrays
        self.loader = loader
        self.owner = owner

    @classmethod
    def from_loader(cls, loader: Any, owner: str) -> _Source:
        if isinstance(loader, (np.ndarray, str, bytes)) or not isinstance(loader, Iterable):
            raise TypeError(
                f"{owner}: expected arrays x and y, or a loader (an iterable of (x, y) or "
                f"(x, y, lengths) batches), got {type(loader).__name__}"
            )
        if iter(loader) is loader:
            raise TypeError(
                f"{owner}: a one-shot iterator ({type(loader).__name__}) cannot be iterated again "
                "each epoch; pass a list of batches or a loader object"
            )
        return cls(loader=loader, owner=owner)

    def num_batches(self, batch_size: int) -> int | None:
        if self.arrays is not None:
            return num_batches(self.arrays[0].shape[0], batch_size)
        return len(self.loader) if hasattr(self.loader, "__len__") else None

    def iterate(
        self, batch_size: int, shuffle: bool, rng: np.random.Generator | None
    ) -> Iterator[Batch]:
        if self.arrays is not None:
            x, y, lengths = self.arrays
            yield from batches(x, y, lengths, batch_size=batch_size, shuffle=shuffle, rng=rng)
        else:
            for position, item in enumerate(self.loader):
                yield unpack_batch(item, position)


class _Progress:
    """Per-epoch progress: a tqdm bar on a terminal, one summary line per epoch otherwise."""

    def __init__(self, enabled: bool) -> None:
        isatty = getattr(sys.stderr, "isatty", None)
        terminal = bool(isatty()) if callable(isatty) else False
        self.mode = "off" if not enabled else ("bar" if terminal else "line")
        self._bar: Any = None

    def start_epoch(self, epoch: int, epochs: int, total: int | None) -> None:
        if self.mode == "bar":
            self._bar = tqdm(
                total=total,
                desc=f"Epoch {epoch + 1}/{epochs}",
                unit="batch",
                file=sys.stderr,
                leave=True,
                dynamic_ncols=True,
            )

    def batch(self, running: Mapping[str, float]) -> None:
        if self._bar is not None:
            self._bar.set_postfix(_formatted(running), refresh=False)
            self._bar.update(1)

    def end_epoch(self, epoch: int, epochs: int, logs: Mapping[str, float]) -> None:
        if self._bar is not None:
            self._bar.set_postfix(_formatted(logs), refresh=False)
            self.close()
        elif self.mode == "line":
            values = " - ".join(f"{key}: {value}" for key, value in _formatted(logs).items())
            print(f"Epoch {epoch + 1}/{epochs} - {values}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _formatted(values: Mapping[str, float]) -> dict[str, str]:
    return {key: f"{value:.4g}" for key, value in values.items()}


def _require_finite_prediction(pred: Any, where: str) -> None:
    if not np.isfinite(np.asarray(pred)).all():
        raise NonFiniteError(
            f"Trainer: non-finite model output (NaN or inf) at {where}; no optimiser step was "
            "taken, the weights are those of the last good step"
        )


def _batch_size_of(x: Any) -> int:
    shape = np.shape(x)
    return int(shape[0]) if shape else 1


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


# -- JSON encoding of the resume state ----------------------------------------------------------
# Checkpoint meta must be strict JSON: numpy arrays (e.g. an MT19937 key) and non-finite floats
# (a ReduceLROnPlateau's initial best of inf) are written as tagged objects and read back exactly.

_ARRAY_TAG = "__ndarray__"
_FLOAT_TAG = "__float__"


def _to_json(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return _to_json(value.item())
        return {_ARRAY_TAG: _to_json(value.tolist()), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return _to_json(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT_TAG: repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"Trainer.save_checkpoint: cannot store a {type(value).__name__} in the meta")


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_FLOAT_TAG}:
            return float(value[_FLOAT_TAG])
        if set(value) == {_ARRAY_TAG, "dtype"}:
            return np.array(_from_json(value[_ARRAY_TAG]), dtype=np.dtype(value["dtype"]))
        return {key: _from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_from_json(item) for item in value]
    return value
