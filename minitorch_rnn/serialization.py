"""Checkpoints: a model, optionally its optimiser, and JSON metadata in ONE ``.npz`` file, no pickle.

Layout of the archive (every entry a plain numeric or unicode array, loadable with
``allow_pickle=False``):

- ``model/<parameter name>``: :meth:`Module.state_dict` (dotted names, e.g. ``model/0.weight``);
- ``optimizer/<key>``: :meth:`Optimizer.state_dict` (hyper-parameters, ``step``, ``state.<i>.<name>``),
  present only if an optimiser was saved;
- ``meta``: a 0-d unicode array holding a JSON object: the caller's ``**meta`` plus ``"format"``,
  ``"format_version"``, ``"model_class"`` and, when the model has one, ``"config"`` (its
  :meth:`Module.config`, from which :func:`load_model` rebuilds it).

Path rule: the file is written exactly at the path given. Unlike ``np.savez``, no ``.npz`` suffix is
appended to a name without one (``.npz`` is the convention, not a requirement), so ``load`` finds
the file under the same name that ``save`` was given.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple, Protocol, TypeAlias, runtime_checkable

import numpy as np

from .atomic import write_atomically
from .config import build, check_config, parameter_shapes
from .errors import NonFiniteValueError
from .module import Module, Parameter
from .npz_reader import ArrayHeader, CorruptArchive, LazyArrays, NpzReader

__all__ = [
    "FORMAT_VERSION",
    "MAX_META_CHARS",
    "MAX_META_DEPTH",
    "ArrayInfo",
    "JSONValue",
    "SavableOptimizer",
    "load",
    "load_model",
    "read_headers",
    "read_meta",
    "read_shapes",
    "save",
]

FORMAT_VERSION = 1
_FORMAT_NAME = "minitorch_rnn"
_RESERVED_META = ("format", "format_version", "model_class", "config")
_MODEL_PREFIX = "model/"
_OPTIMIZER_PREFIX = "optimizer/"
_META_KEY = "meta"
_NOT_A_CHECKPOINT = "corrupt or not a minitorch_rnn checkpoint"

# Limits on what a file may declare before anything of it is decompressed: the meta JSON (a 0-d
# unicode array, 4 bytes a character) and its nesting depth, and the hyper-parameter entries of
# an optimiser state (scalars, or a pair such as Adam's betas).
MAX_META_CHARS = 1 << 22
MAX_META_DEPTH = 64
_MAX_HYPER_PARAMETER_SIZE = 16

PathLike: TypeAlias = str | os.PathLike[str]
#: What ``meta`` may hold: JSON values (tuples are accepted too and come back as lists).
JSONValue: TypeAlias = (
    bool
    | int
    | float
    | str
    | list["JSONValue"]
    | tuple["JSONValue", ...]
    | dict[str, "JSONValue"]
    | None
)


class ArrayInfo(NamedTuple):
    """What a checkpoint's array header declares: known without reading the array's data."""

    shape: tuple[int, ...]
    dtype: np.dtype

    def describe(self) -> str:
        return f"{self.dtype} of shape {self.shape}"


@runtime_checkable
class SavableOptimizer(Protocol):
    """What :func:`save` and :func:`load` need of an optimiser (every ``mt.optim`` one has it).

    ``state_dict()`` returns flat arrays whose per-parameter entries are named
    ``state.<parameter index>.<name>`` and have that parameter's shape; ``validate_state_dict``
    raises what ``load_state_dict`` would, changing nothing, so that a checkpoint is checked
    whole before the model or the optimiser changes.
    """

    @property
    def params(self) -> Sequence[Parameter]: ...

    def state_dict(self) -> Mapping[str, np.ndarray]: ...

    def validate_state_dict(self, state: Mapping[str, Any]) -> None: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def save(
    path: PathLike, model: Module, optimizer: SavableOptimizer | None = None, **meta: JSONValue
) -> None:
    """Write ``model`` (and ``optimizer``) weights and ``meta`` to one ``.npz`` file, atomically.

    The archive is written to a temporary file in the same directory, flushed to disk, then renamed
    over ``path``: the file at ``path`` is either the complete new checkpoint or, after any failure,
    the previous one untouched, and no temporary file is left behind. An existing file keeps its
    permission bits; a new one gets the usual ``0o666`` minus the process umask.

    Parameters
    ----------
    path : str or path-like
        Where to write; used exactly as given (no suffix is added). Its directory must exist.
    model : Module
        Saved as :meth:`Module.state_dict`.
    optimizer : SavableOptimizer, optional
        Any ``mt.optim`` optimiser, or an object with the same methods; saved as its
        ``state_dict()`` (everything needed to resume training exactly).
    **meta
        JSON-serialisable values (numbers, strings, bools, None, lists, dicts with str keys), e.g.
        ``epoch=3``; returned by :func:`load`. Tuples come back as lists. The names ``format``,
        ``format_version``, ``model_class`` and ``config`` are reserved.

    Notes
    -----
    When ``model`` has a :meth:`Module.config` (every built-in module does, and containers of
    them), it is stored too, and :func:`load_model` rebuilds the model from the file alone. A
    model with a user's class that has none is saved without it, as before.

    Raises
    ------
    TypeError
        If ``model`` or ``optimizer`` has the wrong type or a ``meta`` value is not
        JSON-serialisable (raised before anything is written).
    ValueError
        If a reserved ``meta`` name is used, or for anything :func:`load` would refuse: a meta
        JSON longer than ``MAX_META_CHARS`` characters (a long training history, say) or nested
        deeper than ``MAX_META_DEPTH``. Raised before the file is touched.
    NonFiniteValueError
        If a weight or an optimiser state entry holds NaN or inf (a ``ValueError`` too).
    FileNotFoundError
        If the directory of ``path`` does not exist.
    """
    if not isinstance(model, Module):
        raise TypeError(f"save: model must be a Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, SavableOptimizer):
        raise TypeError(
            f"save: optimizer must be an Optimizer or None, got {type(optimizer).__name__}"
        )
    path = os.fspath(path)
    # Everything load would refuse is refused here, before the file is touched: an atomic
    # replace must never swap a readable checkpoint for an unreadable one.
    text = _meta_json(model, meta)
    problem = _meta_problem(text)
    if problem is not None:
        raise ValueError(f"save: {problem}; load would refuse the file")
    arrays = {_META_KEY: np.array(text)}
    arrays.update({_MODEL_PREFIX + name: value for name, value in model.state_dict().items()})
    if optimizer is not None:
        state = optimizer.state_dict()
        arrays.update({_OPTIMIZER_PREFIX + key: value for key, value in state.items()})
        infos = {key: ArrayInfo(value.shape, value.dtype) for key, value in state.items()}
        _check_optimizer_headers(infos, optimizer, "save", path)
    for key, value in arrays.items():
        # An object array would be pickled, which load refuses; fail now rather than then.
        if value.dtype.hasobject:
            raise TypeError(f"save: entry {key!r} is an object array, which would need pickle")
    non_finite = [
        key
        for key, value in arrays.items()
        if value.dtype.kind == "f" and not np.isfinite(value).all()
    ]
    if non_finite:
        raise NonFiniteValueError(
            f"save: entries {non_finite} contain NaN or inf, which load refuses; nothing written"
        )
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: directory {directory!r} of {path!r} does not exist")
    write_atomically(path, directory, arrays)


def load(
    path: PathLike, model: Module, optimizer: SavableOptimizer | None = None
) -> dict[str, Any]:
    """Restore ``model`` (and ``optimizer``) in place from a :func:`save` checkpoint; return its meta.

    All or nothing: every check (keys, shapes, dtypes, finiteness, the optimiser's
    hyper-parameters) passes before the model or the optimiser changes; on any error both keep
    their previous values. An optimiser state in the file is ignored (not even read) when
    ``optimizer`` is None.

    A checkpoint is a file someone may hand you, so it is read defensively: the ``.npy`` headers
    of all entries are read first and every name, dtype and shape is checked against what
    ``model`` and ``optimizer`` hold before any array data is decompressed, and no entry is
    decompressed beyond the size its checked header declares (a small file that inflates to
    gigabytes is refused, not inflated). The JSON meta is limited to ``MAX_META_CHARS`` characters
    nested at most ``MAX_META_DEPTH`` deep.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file, exactly as given to :func:`save`.
    model : Module
        Receives the weights (cast to its parameters' dtypes).
    optimizer : SavableOptimizer, optional
        Receives the optimiser state; the file must contain one.

    Returns
    -------
    dict
        The ``meta`` given to :func:`save`, plus ``"format"``, ``"format_version"`` and
        ``"model_class"``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is truncated, corrupt, not an ``.npz``, not a minitorch_rnn checkpoint or
        contains pickled objects (message: "corrupt or not a minitorch_rnn checkpoint"); naming the
        missing, unexpected or mismatched keys otherwise; or if ``optimizer`` is given but the
        file holds no optimiser state. Every problem with the file's content is a ``ValueError``.
    NonFiniteValueError
        If a weight or an optimiser state entry is NaN or inf, or overflows the dtype it is cast
        to (float64 values of 1e300 into a float32 model); a ``ValueError`` too.
    TypeError
        If ``model`` or ``optimizer`` has the wrong type.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load: model must be a Module, got {type(model).__name__}")
    if optimizer is not None and not isinstance(optimizer, SavableOptimizer):
        raise TypeError(
            f"load: optimizer must be an Optimizer or None, got {type(optimizer).__name__}"
        )
    path = _existing_file(path)
    with _reading(path) as archive:
        headers = _array_headers(archive, path)
        meta = _parse_meta(archive, headers, path)
        model_headers, optimizer_headers = _split_headers(headers, path)
        _check_model_headers(model_headers, model, path)
        model_state = {name: archive.read(header) for name, header in model_headers.items()}
        optimizer_state: Mapping[str, np.ndarray] = {}
        if optimizer is not None:
            if not optimizer_headers:
                raise ValueError(
                    f"load: {path!r} holds no optimizer state, but an optimizer was given"
                )
            _check_optimizer_headers(_infos(optimizer_headers), optimizer, "load", path)
            lazy = LazyArrays(archive, optimizer_headers)
            try:
                # The optimiser checks the keys its saved configuration needs before their values:
                # an unexpected entry is refused unread.
                optimizer.validate_state_dict(lazy)
            except CorruptArchive:
                raise
            except (TypeError, ValueError) as error:
                raise _same_kind(error)(
                    f"load: optimizer state in {path!r} does not fit: {error}"
                ) from error
            optimizer_state = {key: lazy[key] for key in lazy}
    # Module.load_state_dict validates everything before it copies; the optimizer state was
    # validated above, so its load below cannot fail once the model has changed.
    try:
        model.load_state_dict(model_state)
    except (TypeError, ValueError) as error:
        raise _same_kind(error)(f"load: model weights in {path!r} do not fit: {error}") from error
    if optimizer is not None:
        optimizer.load_state_dict(optimizer_state)
    return meta


def load_model(path: PathLike) -> Module:
    """Rebuild the model saved at ``path`` from its stored config, and load its weights.

    The file is someone else's, so nothing it names is imported: the config may name only
    built-in classes and those registered with :func:`~minitorch_rnn.register_module`. Every
    size in it is checked against the shapes the weights' headers declare before anything is
    allocated (no weight is read, no module is built, until the config's parameters and the
    file's agree name by name and shape by shape). Then the model is built (float32 or float64,
    as saved) and loaded as :func:`load` does, all or nothing.

    Parameters
    ----------
    path : str or path-like
        A checkpoint written by :func:`save` (or by a training checkpoint callback).

    Returns
    -------
    Module
        The model, in training mode, with the saved weights: its outputs equal the saved
        model's bit for bit.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file holds no config (saved before configs existed, or from a model whose class
        has no ``config()``: rebuild it in code and call :func:`load`, or re-save it), names a
        class that is neither built in nor registered, declares sizes that disagree with its
        weights, or anything :func:`load` refuses.
    TypeError
        If the config has values of the wrong type.
    """
    path = _existing_file(path)
    meta = read_meta(path)
    config = meta.get("config")
    if config is None:
        model_class = meta.get("model_class")
        raise ValueError(
            f"load_model: {path!r} holds no model config: its model, a {model_class!r}, was "
            "saved before configs were stored, or a class in it has no config(). Either rebuild "
            "the model in code and call mt.load(path, model) (then mt.save it again to store "
            f"its config), or give {model_class} a config() method and call "
            f"mt.register_module({model_class}) before load_model"
        )
    weights = read_shapes(path)
    try:
        expected = parameter_shapes(config, max_entries=len(weights))
    except (TypeError, ValueError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"load_model: the config in {path!r} is refused: {error}") from error
    if expected is not None:
        _check_config_shapes(expected, weights, path)
    try:
        model = build(config)
    except (TypeError, ValueError) as error:
        kind = TypeError if isinstance(error, TypeError) else ValueError
        raise kind(f"load_model: the config in {path!r} is refused: {error}") from error
    load(path, model)
    return model


def _check_config_shapes(
    expected: Mapping[str, tuple[int, ...]], weights: Mapping[str, tuple[int, ...]], path: str
) -> None:
    """Refuse a config whose parameters are not exactly the file's weights."""
    missing = sorted(set(expected) - set(weights))
    unexpected = sorted(set(weights) - set(expected))
    wrong = [
        f"{name}: the config makes {expected[name]}, the file holds {weights[name]}"
        for name in expected
        if name in weights and tuple(expected[name]) != tuple(weights[name])
    ]
    if missing or unexpected or wrong:
        problems = []
        if missing:
            problems.append(f"weights missing from the file {missing[:20]}")
        if unexpected:
            problems.append(f"weights the config does not make {unexpected[:20]}")
        problems += wrong[:20]
        raise ValueError(
            f"load_model: the config in {path!r} disagrees with its weights: " + "; ".join(problems)
        )


def read_meta(path: PathLike) -> dict[str, Any]:
    """Return a checkpoint's ``meta`` without reading its weights.

    The meta holds the model's config when it has one (:func:`load_model` rebuilds the model
    from it).
    Only the ``meta`` entry is read (after its header is checked, as in :func:`load`), so damage
    elsewhere in the file is found by :func:`load`. The caller should still check the values it
    uses: they are whatever the file says.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.

    Returns
    -------
    dict
        As returned by :func:`load`.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If it is not a minitorch_rnn checkpoint, or of a newer format version.
    """
    path = _existing_file(path)
    with _reading(path) as archive:
        headers, _ = archive.headers(only=_META_KEY)
        return _parse_meta(archive, headers, path)


def read_shapes(path: PathLike) -> dict[str, tuple[int, ...]]:
    """The shape of every model weight in a checkpoint, read from the array headers only.

    No array data is decompressed, so this is cheap and safe on any file: use it to check sizes
    stored as meta against the weights before building a model of those sizes.

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.

    Returns
    -------
    dict of str to tuple of int
        Parameter name (as in :meth:`Module.state_dict`, e.g. ``"0.weight"``) to shape.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If it is not a minitorch_rnn checkpoint (as :func:`read_meta`).
    """
    headers = read_headers(path)
    return {
        name[len(_MODEL_PREFIX) :]: info.shape
        for name, info in headers.items()
        if name.startswith(_MODEL_PREFIX)
    }


def read_headers(path: PathLike) -> dict[str, ArrayInfo]:
    """Name, shape and dtype of every array in a checkpoint, read from the headers only.

    No array data is decompressed: the cost is bounded by the number of entries, whatever sizes
    they declare. Check the sizes a model would be built with against these before building it
    (:func:`load` compares the model's shapes with them before it reads any weight).

    Parameters
    ----------
    path : str or path-like
        The checkpoint file.

    Returns
    -------
    dict of str to ArrayInfo
        Entry name as stored (``"model/0.weight"``, ``"optimizer/state.0.exp_avg"``; the
        ``meta`` entry is left out) to its declared ``(shape, dtype)``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If it is not a minitorch_rnn checkpoint (as :func:`read_meta`), or an entry is not a
        numeric array.
    """
    path = _existing_file(path)
    with _reading(path) as archive:
        headers = _array_headers(archive, path)
        _parse_meta(archive, headers, path)
        _split_headers(headers, path)
    not_numeric = [
        f"{name}: {header.describe()}"
        for name, header in headers.items()
        if name != _META_KEY and header.dtype.kind not in "biuf"
    ]
    if not_numeric:
        raise ValueError(f"load: {path!r} holds non-numeric arrays: " + "; ".join(not_numeric))
    return {
        name: ArrayInfo(header.shape, header.dtype)
        for name, header in headers.items()
        if name != _META_KEY
    }


# -- writing ------------------------------------------------------------------------------------


def _meta_json(model: Module, meta: Mapping[str, JSONValue]) -> str:
    reserved = sorted(set(meta) & set(_RESERVED_META))
    if reserved:
        raise ValueError(f"save: meta names {reserved} are reserved")
    for key, value in meta.items():
        try:
            json.dumps(value)
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"save: meta[{key!r}] is not JSON-serialisable ({type(value).__name__}): {error}"
            ) from error
    full: dict[str, Any] = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "model_class": type(model).__name__,
        **meta,
    }
    config = _model_config(model)
    if config is not None:
        full["config"] = config
    return json.dumps(full)


def _model_config(model: Module) -> dict[str, Any] | None:
    """``model.config()``, or None for a model (or a part of it) whose class has none."""
    try:
        config = model.config()
    except NotImplementedError:
        return None
    try:
        check_config(config, known_classes=False)  # the loading program may register a class
        json.dumps(config)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"save: {type(model).__name__}.config() is not a JSON config that build accepts: "
            f"{error}"
        ) from error
    return config


# -- reading ------------------------------------------------------------------------------------


def _existing_file(path: PathLike) -> str:
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load: no checkpoint file at {path!r}")
    return path


@contextlib.contextmanager
def _reading(path: str) -> Iterator[NpzReader]:
    """Open ``path``; any damage found while it is read is reported in one message."""
    try:
        with NpzReader(path) as archive:
            yield archive
    except CorruptArchive as error:
        raise ValueError(f"load: {path!r} is {_NOT_A_CHECKPOINT} ({error})") from error


def _array_headers(archive: NpzReader, path: str) -> dict[str, ArrayHeader]:
    headers, others = archive.headers()
    if others:
        raise ValueError(f"load: {path!r} has unexpected entries {sorted(others)}")
    return headers


def _json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in JSON ``text`` (string contents do not count).

    Linear in the length of ``text``, whatever it holds (a backtracking regular expression over
    strings of escaped quotes is quadratic). Quotes, backslashes and brackets are single ASCII
    bytes, never part of a multi-byte UTF-8 character, so the bytes can be scanned directly.
    """
    code = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    index = np.arange(code.size)
    backslash = code == ord("\\")
    # A quote is escaped when an odd run of backslashes ends just before it.
    last_other = np.maximum.accumulate(np.where(backslash, -1, index))
    run_before = np.concatenate(([0], (index - last_other)[:-1]))
    delimiter = (code == ord('"')) & (run_before % 2 == 0)
    outside = np.cumsum(delimiter) % 2 == 0
    step = np.isin(code, (ord("["), ord("{"))).astype(np.int64) - np.isin(
        code, (ord("]"), ord("}"))
    )
    return int(np.cumsum(step * outside).max(initial=0))


def _meta_problem(text: str) -> str | None:
    """Why :func:`load` refuses meta JSON ``text`` (too long, nested too deep), or None."""
    if len(text) > MAX_META_CHARS:
        return f"'meta' of {len(text)} characters (at most {MAX_META_CHARS})"
    depth = _json_depth(text)
    if depth > MAX_META_DEPTH:
        return f"'meta' JSON nested {depth} levels deep (at most {MAX_META_DEPTH})"
    return None


def _same_kind(error: BaseException) -> type[ValueError]:
    """The class to re-raise ``error`` as with more context: a non-finite value stays one."""
    return NonFiniteValueError if isinstance(error, NonFiniteValueError) else ValueError


def _parse_meta(
    archive: NpzReader, headers: Mapping[str, ArrayHeader], path: str
) -> dict[str, Any]:
    header = headers.get(_META_KEY)
    problem = None
    meta: Any = None
    if header is None:
        problem = "no 'meta' entry"
    elif header.shape != () or header.dtype.kind != "U":
        problem = f"'meta' entry of dtype {header.dtype} and shape {header.shape}"
    elif header.dtype.itemsize // 4 > MAX_META_CHARS:
        problem = f"'meta' of {header.dtype.itemsize // 4} characters (at most {MAX_META_CHARS})"
    else:
        text = str(archive.read(header)[()])
        problem = _meta_problem(text)
        if problem is None:
            try:
                meta = json.loads(text)
            except (ValueError, RecursionError):
                problem = "'meta' entry is not JSON"
    if problem is None and (not isinstance(meta, dict) or meta.get("format") != _FORMAT_NAME):
        problem = "'meta' does not name the minitorch_rnn format"
    if problem is not None:
        raise ValueError(f"load: {path!r} is {_NOT_A_CHECKPOINT} ({problem})")
    version = meta.get("format_version")
    if not isinstance(version, int) or not 1 <= version <= FORMAT_VERSION:
        raise ValueError(
            f"load: {path!r} has checkpoint format version {version!r}; this minitorch_rnn reads "
            f"versions 1 to {FORMAT_VERSION}"
        )
    return meta


def _split_headers(
    headers: Mapping[str, ArrayHeader], path: str
) -> tuple[dict[str, ArrayHeader], dict[str, ArrayHeader]]:
    model_headers: dict[str, ArrayHeader] = {}
    optimizer_headers: dict[str, ArrayHeader] = {}
    unexpected: list[str] = []
    for key, header in headers.items():
        if key.startswith(_MODEL_PREFIX):
            model_headers[key[len(_MODEL_PREFIX) :]] = header
        elif key.startswith(_OPTIMIZER_PREFIX):
            optimizer_headers[key[len(_OPTIMIZER_PREFIX) :]] = header
        elif key != _META_KEY:
            unexpected.append(key)
    if unexpected:
        raise ValueError(f"load: {path!r} has unexpected entries {sorted(unexpected)}")
    return model_headers, optimizer_headers


def _infos(headers: Mapping[str, ArrayHeader]) -> dict[str, ArrayInfo]:
    return {key: ArrayInfo(header.shape, header.dtype) for key, header in headers.items()}


def _shape_problems(
    infos: Mapping[str, ArrayInfo], expected: Mapping[str, tuple[int, ...]]
) -> list[str]:
    """Each entry that is not a real numeric array of its expected shape."""
    return [
        f"{key}: expected shape {expected[key]}, file declares {info.describe()}"
        for key, info in infos.items()
        if info.shape != expected[key] or info.dtype.kind not in "biuf"
    ]


def _check_model_headers(headers: Mapping[str, ArrayHeader], model: Module, path: str) -> None:
    shapes = {name: param.shape for name, param in model.named_parameters()}
    missing = sorted(set(shapes) - set(headers))
    unexpected = sorted(set(headers) - set(shapes))
    if missing or unexpected:
        raise ValueError(
            f"load: model weights in {path!r} do not match {type(model).__name__}: missing keys "
            f"{missing}, unexpected keys {unexpected}"
        )
    problems = _shape_problems(_infos(headers), shapes)
    if problems:
        raise ValueError(
            f"load: model weights in {path!r} do not fit {type(model).__name__}: "
            + "; ".join(problems)
        )


def _check_optimizer_headers(
    infos: Mapping[str, ArrayInfo], optimizer: SavableOptimizer, owner: str, path: str
) -> None:
    """Bound every optimiser entry before it is read (``owner`` "load") or written ("save"):
    hyper-parameters are small, and state ``state.<i>.<name>`` has the shape of parameter ``i``."""
    expected: dict[str, tuple[int, ...]] = {}
    unexpected: list[str] = []
    for key, info in infos.items():
        index, _, name = key.removeprefix("state.").partition(".")
        if "." not in key and math.prod(info.shape) <= _MAX_HYPER_PARAMETER_SIZE:
            expected[key] = info.shape
        elif key.startswith("state.") and index.isdigit() and name:
            if int(index) < len(optimizer.params):
                expected[key] = optimizer.params[int(index)].shape
            else:
                unexpected.append(key)
        else:
            unexpected.append(key)
    problems = [f"unexpected entries {sorted(unexpected)}"] if unexpected else []
    problems += _shape_problems({key: infos[key] for key in expected}, expected)
    if problems:
        raise ValueError(
            f"{owner}: optimizer state in {path!r} does not fit {type(optimizer).__name__}: "
            + "; ".join(problems)
        )
