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

import copy
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
    :func:`~minitorch_rnn.serialization.save`), with ``meta`` beside it.

    If writing fails, every callback's :meth:`~Callback.on_checkpoint_error` is called before the
    error is raised."""
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
    try:
        serialization.save(
            path, trainer.model, optimizer if native else None, trainer=to_json(state), **meta
        )
    except BaseException as error:
        for callback in trainer.callbacks:
            callback.on_checkpoint_error(os.fspath(path), error)
        raise


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
    try:
        state = from_json(raw)
    except ValueError as error:
        raise ValueError(f"{where}: malformed trainer state: {error}") from error
    try:
        completed = state["completed_epochs"]
        history = _checked_history(state["history"], completed)
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


def _checked_history(raw: Any, completed: Any) -> History:
    """The saved history: lists of numbers, none longer than the completed epochs."""
    if not isinstance(raw, dict):
        raise TypeError(f"trainer.history must be a dict, got {type(raw).__name__}")
    for key, values in raw.items():
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(f"trainer.history.{key} must be a list of numbers")
        if is_int(completed) and len(values) > completed:
            raise ValueError(
                f"trainer.history.{key} has {len(values)} entries for {completed} completed epochs"
            )
    return History({str(key): [float(v) for v in values] for key, values in raw.items()})


def resume(
    trainer: TrainingState, path: str | os.PathLike[str], on_restored: Callable[[], None]
) -> None:
    """Restore ``trainer`` from ``path``, call ``on_restored`` (the callbacks'
    ``on_train_begin``, which may reset them), then load the callbacks' saved states.

    All or nothing: if anything fails, the weights, optimiser state, random states, history and
    epoch count are put back as they were, and so is every callback's state (through its own
    ``state_dict``/``load_state_dict``): no callback keeps a state loaded for a resume that failed
    in another one.
    """
    undo = snapshot(trainer)
    callback_states = [copy.deepcopy(callback.state_dict()) for callback in trainer.callbacks]
    try:
        resumed = read_checkpoint(trainer, path)
        trainer.history, trainer.completed_epochs = resumed.history, resumed.completed_epochs
        on_restored()
        load_callback_states(trainer.callbacks, resumed.callback_states)
    except BaseException as error:
        _restore_callbacks(trainer.callbacks, callback_states, error)
        undo()
        raise


def _restore_callbacks(
    callbacks: Sequence[Callback], states: list[dict[str, Any]], error: BaseException
) -> None:
    """Put back each callback's state from before a failed resume (in reverse order, before the
    optimiser is restored, since a scheduler's ``load_state_dict`` may set the learning rate)."""
    for index in reversed(range(len(callbacks))):
        if not states[index]:
            continue
        try:
            callbacks[index].load_state_dict(states[index])
        except Exception as restore_error:  # report, but keep the original error
            add_note = getattr(error, "add_note", None)  # Python 3.11+
            if callable(add_note):
                add_note(
                    f"callbacks[{index}] ({type(callbacks[index]).__name__}) could not be put "
                    f"back: {restore_error!r}"
                )


def load_callback_states(callbacks: Sequence[Callback], states: list[dict[str, Any]]) -> None:
    """Give each callback the saved state of the same class at the same occurrence."""
    saved: dict[tuple[str, int], Any] = {}
    occurrences: dict[str, int] = {}
    for entry in states:
        name = str(entry["class"])
        saved[(name, occurrences.get(name, 0))] = entry["state"]
        occurrences[name] = occurrences.get(name, 0) + 1
    occurrences.clear()
    for index, callback in enumerate(callbacks):
        name = type(callback).__name__
        key = (name, occurrences.get(name, 0))
        occurrences[name] = key[1] + 1
        if not saved.get(key):
            continue
        try:
            callback.load_state_dict(saved[key])
        except KeyError as error:
            raise ValueError(
                f"callbacks[{index}] ({name}): the saved state lacks the field {error.args[0]!r}"
            ) from error
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"callbacks[{index}] ({name}): the saved state does not load: {error}"
            ) from error


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


# What an encoded array may be: a plain number type (no strings, objects or sub-arrays, whose
# declared item size could be anything); its element count is bounded by the meta's length.
_ARRAY_KINDS = "biuf"
_MAX_ITEMSIZE = 16
_NON_FINITE = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def from_json(value: Any, where: str = "trainer") -> Any:
    """The inverse of :func:`to_json`; ``where`` names ``value`` in error messages.

    Every tagged value is checked before it is decoded: an array's dtype must be a plain number
    type and its nested lists rectangular lists of numbers, so decoding costs no more memory
    than the JSON text itself; a non-finite float must be ``"inf"``, ``"-inf"`` or ``"nan"``.

    Raises
    ------
    ValueError
        Naming the field (``trainer.callbacks[0].state.best``) that does not decode.
    """
    if isinstance(value, dict):
        if set(value) == {_FLOAT_TAG}:
            text = value[_FLOAT_TAG]
            if not isinstance(text, str) or text not in _NON_FINITE:
                raise ValueError(
                    f"{where}: a non-finite float must be 'inf', '-inf' or 'nan', got {text!r:.80}"
                )
            return _NON_FINITE[text]
        if set(value) == {_ARRAY_TAG, "dtype"}:
            return _decoded_array(value[_ARRAY_TAG], value["dtype"], where)
        return {key: from_json(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [from_json(item, f"{where}[{index}]") for index, item in enumerate(value)]
    return value


def _decoded_array(data: Any, dtype_text: Any, where: str) -> np.ndarray:
    """An encoded array, after its dtype and its nesting are checked."""
    try:
        dtype = np.dtype(dtype_text) if isinstance(dtype_text, str) else None
    except TypeError:
        dtype = None
    if (
        dtype is None
        or dtype.kind not in _ARRAY_KINDS
        or dtype.itemsize > _MAX_ITEMSIZE
        or dtype.shape != ()
        or dtype.names is not None
    ):
        raise ValueError(
            f"{where}: array dtype must be a plain number type (bool, int, uint, float), got "
            f"{dtype_text!r:.80}"
        )
    _check_rectangular(data, where)
    try:
        with np.errstate(over="ignore"):
            array = np.array(data, dtype=dtype)
    except (OverflowError, ValueError, TypeError) as error:
        raise ValueError(f"{where}: array values do not fit dtype {dtype}: {error}") from error
    if dtype.kind == "f" and not np.array_equal(np.isfinite(array), np.isfinite(np.array(data))):
        raise ValueError(f"{where}: array values overflow dtype {dtype}")
    return array


def _check_rectangular(data: Any, where: str) -> None:
    """``data`` must be a number or equally long nested lists of numbers (depth is bounded by
    the meta's nesting limit)."""
    level = [data]
    while level and isinstance(level[0], list):
        length = len(level[0])
        if any(not isinstance(item, list) or len(item) != length for item in level):
            raise ValueError(f"{where}: array data is not a rectangular nested list of numbers")
        level = [item for items in level for item in items]
    if any(isinstance(item, (str, list, dict)) or item is None for item in level):
        raise ValueError(f"{where}: array data is not a rectangular nested list of numbers")
