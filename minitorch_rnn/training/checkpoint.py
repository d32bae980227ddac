"""Resumable checkpoints: everything :meth:`Trainer.fit` needs to continue exactly, in one file.

A checkpoint is a :func:`minitorch_rnn.serialization.save` file (weights, and the optimiser's
state when it is an :class:`~minitorch_rnn.optim.Optimizer`) whose JSON meta holds, under
``"trainer"``: the completed epochs, the history, the Trainer's random state, the state of every
``numpy.random.Generator`` held by the model's modules (Dropout's masks), each callback's
:meth:`~minitorch_rnn.training.callbacks.Callback.state_dict` and, for an optimiser of another
class that has ``state_dict``/``load_state_dict``, its state.

This module lives in ``training/`` rather than beside ``serialization.py`` because it knows the
training loop's state (history, callbacks, epochs); the core never imports training.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from .. import serialization
from ..module import Module
from ..optim import Optimizer
from ..validation import is_int
from .callbacks import Callback
from .history import History

__all__ = [
    "RESUME_VERSION",
    "ResumeState",
    "TrainingState",
    "from_json",
    "load_callback_states",
    "read_checkpoint",
    "resume",
    "snapshot",
    "to_json",
    "write_checkpoint",
]

RESUME_VERSION = 1


class TrainingState(Protocol):
    """What a checkpoint saves and restores: the public state of a Trainer."""

    model: Module
    optimizer: Any
    rng: np.random.Generator
    history: History
    completed_epochs: int
    callbacks: list[Callback]


@dataclass
class ResumeState:
    """What :func:`read_checkpoint` restored besides weights, optimiser and random states."""

    history: History
    completed_epochs: int
    callback_states: list[dict[str, Any]]


def _has_state(optimizer: Any) -> bool:
    return callable(getattr(optimizer, "state_dict", None)) and callable(
        getattr(optimizer, "load_state_dict", None)
    )


def snapshot(trainer: TrainingState) -> Callable[[], None]:
    """Capture weights, optimiser state, random states and progress; return their undo.

    Used only around a resume: it runs user code (callbacks' ``on_train_begin`` and
    ``load_state_dict``) after the state is restored, and user code cannot be validated in
    advance, so a failure there is undone from this snapshot.
    """
    weights = trainer.model.state_dict()
    optimizer_state = trainer.optimizer.state_dict() if _has_state(trainer.optimizer) else None
    generators = [trainer.rng, *(generator for _, generator in trainer.model.named_generators())]
    random_states = [generator.bit_generator.state for generator in generators]
    history, completed = trainer.history, trainer.completed_epochs

    def undo() -> None:
        trainer.model.load_state_dict(weights)
        if optimizer_state is not None:
            trainer.optimizer.load_state_dict(optimizer_state)
        for generator, state in zip(generators, random_states, strict=True):
            generator.bit_generator.state = state
        trainer.history, trainer.completed_epochs = history, completed

    return undo


def write_checkpoint(
    trainer: TrainingState, path: str | os.PathLike[str], meta: Mapping[str, Any]
) -> None:
    """Write ``trainer``'s complete state to ``path`` (atomically, see
    :func:`~minitorch_rnn.serialization.save`), with ``meta`` beside it."""
    optimizer = trainer.optimizer
    state: dict[str, Any] = {
        "version": RESUME_VERSION,
        "completed_epochs": trainer.completed_epochs,
        "history": dict(trainer.history),
        "rng": trainer.rng.bit_generator.state,
        "module_rngs": {
            name: generator.bit_generator.state
            for name, generator in trainer.model.named_generators()
        },
        "callbacks": [
            {"class": type(callback).__name__, "state": callback.state_dict()}
            for callback in trainer.callbacks
        ],
    }
    native = isinstance(optimizer, Optimizer)
    if not native and _has_state(optimizer):
        state["optimizer"] = dict(optimizer.state_dict())
    serialization.save(
        path, trainer.model, optimizer if native else None, trainer=to_json(state), **meta
    )


def read_checkpoint(trainer: TrainingState, path: str | os.PathLike[str]) -> ResumeState:
    """Restore weights, optimiser state and random states from a :func:`write_checkpoint` file.

    Everything in the file is checked before the weights, the random states and an
    :class:`~minitorch_rnn.optim.Optimizer`'s state change; the state of an optimiser of another
    class is restored last, by its own ``load_state_dict`` (wrap the call in :func:`snapshot` for
    all or nothing). History, epochs and callback states are returned, not applied.
    """
    where = f"Trainer.fit: resume_from={os.fspath(path)!r}"
    raw = serialization.read_meta(path).get("trainer")
    if not isinstance(raw, dict):
        raise ValueError(
            f"{where} holds no trainer state; write resumable checkpoints with "
            "Trainer.save_checkpoint or ModelCheckpoint"
        )
    state = from_json(raw)
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
    if state.get("version") != RESUME_VERSION or not is_int(completed) or completed < 0:
        raise ValueError(f"{where}: unsupported trainer state (version {state.get('version')!r})")
    optimizer = trainer.optimizer
    native = isinstance(optimizer, Optimizer)
    foreign_state = state.get("optimizer")
    if not native and _has_state(optimizer) and not isinstance(foreign_state, dict):
        raise ValueError(f"{where} holds no state for the {type(optimizer).__name__} optimiser")
    generators = dict(trainer.model.named_generators())
    if set(module_states) != set(generators):
        raise ValueError(
            f"{where}: the checkpoint has random generators {sorted(module_states)} but the "
            f"model has {sorted(generators)}"
        )
    staged = [(trainer.rng, rng_state, "trainer rng")] + [
        (generators[name], module_states[name], name) for name in sorted(generators)
    ]
    for generator, saved, name in staged:
        try:
            # A throwaway bit generator of the same kind validates the state without side effects.
            type(generator.bit_generator)().state = saved
        except (TypeError, ValueError, KeyError) as error:
            raise ValueError(f"{where}: invalid random state for {name} ({error})") from error
    serialization.load(path, trainer.model, optimizer if native else None)
    for generator, saved, _ in staged:
        generator.bit_generator.state = saved
    if not native and isinstance(foreign_state, dict):
        optimizer.load_state_dict(foreign_state)
    return ResumeState(history, int(completed), callback_states)


def resume(
    trainer: TrainingState, path: str | os.PathLike[str], on_restored: Callable[[], None]
) -> None:
    """Restore ``trainer`` from ``path``, call ``on_restored`` (the callbacks'
    ``on_train_begin``, which may reset them), then load the callbacks' saved states.

    All or nothing: if anything fails, the weights, optimiser state, random states, history and
    epoch count are put back as they were.
    """
    undo = snapshot(trainer)
    try:
        resumed = read_checkpoint(trainer, path)
        trainer.history, trainer.completed_epochs = resumed.history, resumed.completed_epochs
        on_restored()
        load_callback_states(trainer.callbacks, resumed.callback_states)
    except BaseException:
        undo()
        raise


def load_callback_states(callbacks: Sequence[Callback], states: list[dict[str, Any]]) -> None:
    """Give each callback the saved state of the same class at the same occurrence."""
    saved: dict[tuple[str, int], Any] = {}
    occurrences: dict[str, int] = {}
    for entry in states:
        name = str(entry["class"])
        saved[(name, occurrences.get(name, 0))] = entry["state"]
        occurrences[name] = occurrences.get(name, 0) + 1
    occurrences.clear()
    for callback in callbacks:
        name = type(callback).__name__
        key = (name, occurrences.get(name, 0))
        occurrences[name] = key[1] + 1
        if saved.get(key):
            callback.load_state_dict(saved[key])


# -- JSON encoding of the resume state ----------------------------------------------------------
# Checkpoint meta must be strict JSON: numpy arrays (e.g. an MT19937 key) and non-finite floats
# (a ReduceLROnPlateau's initial best of inf) are written as tagged objects and read back exactly.

_ARRAY_TAG = "__ndarray__"
_FLOAT_TAG = "__float__"


def to_json(value: Any) -> Any:
    """``value`` as strict JSON: arrays and non-finite floats become tagged objects."""
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return to_json(value.item())
        return {_ARRAY_TAG: to_json(value.tolist()), "dtype": value.dtype.str}
    if isinstance(value, np.generic):
        return to_json(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT_TAG: repr(value)}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"Trainer.save_checkpoint: cannot store a {type(value).__name__} in the meta")


def from_json(value: Any) -> Any:
    """The inverse of :func:`to_json`."""
    if isinstance(value, dict):
        if set(value) == {_FLOAT_TAG}:
            return float(value[_FLOAT_TAG])
        if set(value) == {_ARRAY_TAG, "dtype"}:
            return np.array(from_json(value[_ARRAY_TAG]), dtype=np.dtype(value["dtype"]))
        return {key: from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item) for item in value]
    return value
