"""Input checks shared by every layer, so that errors read the same everywhere.

Each check raises before any state is touched and names the layer, what it expected and what came.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .dtype import FLOAT_DTYPES, get_default_dtype
from .errors import NonFiniteInputError, NonFiniteValueError

_NUMERIC_KINDS = "biuf"


def is_int(value: Any) -> bool:
    """True for a Python or numpy integer; ``bool`` is not an integer here."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_size(value: Any, owner: str, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum``; else raise.

    Sizes (``in_features``, ``hidden_size``, ``num_layers``, ...) must be integers: ``3.7`` is not
    silently truncated and ``True`` is not 1. A non-integer is a ``TypeError``, a too-small
    integer a ``ValueError``; both name the owner and the argument.
    """
    if not is_int(value):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{owner}: {name} must be >= {minimum}, got {value!r}")
    return int(value)


def float_input(
    x: Any,
    layer: str,
    *,
    dtype: np.dtype | None = None,
    name: str = "input",
    check_finite: bool = True,
) -> np.ndarray:
    """Return ``x`` as a float array of ``dtype`` (or its own dtype if float32/float64, or the
    default).

    Booleans and integers are accepted and converted (e.g. bits of the binary-subtraction task);
    anything else (complex, strings, objects) is a ``TypeError``; NaN or inf is a ``ValueError``.
    """
    array = np.asarray(x)
    if array.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"{layer}: {name} must be a real numeric array, got dtype {array.dtype}")
    if dtype is None:
        # float16 and long double are not supported dtypes: they go to the default like integers.
        dtype = array.dtype if array.dtype in FLOAT_DTYPES else get_default_dtype()
    array = array.astype(dtype, copy=False)
    if check_finite and not _all_finite(array):
        raise NonFiniteInputError(f"{layer}: {name} contains NaN or inf")
    return array


# up to this many elements a boolean temporary is cheap and the fastest check (measured: 1.9 us
# against 4.5 us for min/max at 64 elements); above it min/max avoids a temporary of the array's size
_FINITE_TEMPORARY_LIMIT = 1 << 16


def _all_finite(array: np.ndarray) -> bool:
    """Whether a float array holds no NaN or inf, never with a temporary of more than
    ``_FINITE_TEMPORARY_LIMIT`` entries (an eval-mode forward over a long sequence must not need
    one): ``min`` and ``max`` propagate NaN, and an infinity is one of them."""
    if array.size <= _FINITE_TEMPORARY_LIMIT:
        return bool(np.isfinite(array).all())
    return bool(np.isfinite(array.min()) and np.isfinite(array.max()))


def int_input(x: Any, layer: str, *, name: str = "input") -> np.ndarray:
    """Return ``x`` as an int64 array; floats (even integral ones) are a ``TypeError``."""
    array = np.asarray(x)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{layer}: {name} must be an integer array, got dtype {array.dtype}")
    return array.astype(np.int64, copy=False)


def check_lengths(lengths: Any, batch: int, steps: int, owner: str) -> np.ndarray:
    """Validate the valid lengths of a padded batch: ``(batch,)`` integers in ``1..steps``.

    The one home of this check: ``Unroll``, ``MeanPool``, the Trainer's batches and the examples
    all call it, so a bad ``lengths`` reads the same everywhere.

    Returns
    -------
    np.ndarray
        ``lengths`` as int64, shape ``(batch,)``.
    """
    array = int_input(lengths, owner, name="lengths")
    if array.shape != (batch,):
        raise ValueError(
            f"{owner}: lengths must have shape ({batch},) for a batch of {batch}, got {array.shape}"
        )
    if batch and (array.min() < 1 or array.max() > steps):
        raise ValueError(
            f"{owner}: lengths must lie in 1..{steps} (the number of steps), got values in "
            f"{array.min()}..{array.max()}"
        )
    return array


def time_mask(lengths: np.ndarray, steps: int) -> np.ndarray:
    """``mask[b, t] = t < lengths[b]``: True at the valid steps of each sample, ``(B, steps)``."""
    return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]


def check_rank(x: np.ndarray, layer: str, ranks: tuple[int, ...], name: str = "input") -> None:
    """Raise a ``ValueError`` unless ``x.ndim`` is one of ``ranks``."""
    if x.ndim not in ranks:
        wanted = " or ".join(str(r) for r in ranks)
        raise ValueError(f"{layer}: {name} must have {wanted} dimensions, got shape {x.shape}")


def check_min_rank(x: np.ndarray, layer: str, rank: int, name: str = "input") -> None:
    """Raise a ``ValueError`` unless ``x`` has at least ``rank`` dimensions."""
    if x.ndim < rank:
        raise ValueError(
            f"{layer}: {name} must have at least {rank} dimension(s), got shape {x.shape}"
        )


def check_last_dim(x: np.ndarray, layer: str, size: int, name: str = "input") -> None:
    """Raise a ``ValueError`` unless the last axis of ``x`` has ``size`` entries."""
    if x.shape[-1] != size:
        raise ValueError(
            f"{layer}: {name} must have {size} features on its last axis, got shape {x.shape}"
        )


def check_shape(x: np.ndarray, layer: str, shape: tuple[int, ...], name: str) -> None:
    """Raise a ``ValueError`` unless ``x.shape == shape`` exactly (no broadcasting)."""
    if x.shape != tuple(shape):
        raise ValueError(f"{layer}: {name} must have shape {tuple(shape)}, got {x.shape}")


def grad_input(grad: Any, layer: str, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Validate an upstream gradient: a float array of exactly the forward output's shape."""
    array = float_input(grad, layer, dtype=dtype, name="grad_output", check_finite=False)
    check_shape(array, layer, shape, "grad_output")
    return array


def no_forward_error(layer: str) -> RuntimeError:
    """The error every ``backward`` raises when there is no matching ``forward``."""
    return RuntimeError(f"{layer}: backward called before forward (no cached forward pass)")


def key_mismatch(expected: Iterable[str], given: Iterable[Any]) -> str | None:
    """``"missing keys [...], unexpected keys [...]"`` for two key sets that differ, else None."""
    expected_set, given_set = set(expected), set(given)
    missing = sorted(expected_set - given_set)
    # key=repr: a non-str key (a mistake) is reported, not a sorting error.
    unexpected = sorted(given_set - expected_set, key=repr)
    if not missing and not unexpected:
        return None
    return f"missing keys {missing}, unexpected keys {unexpected}"


def check_keys(
    owner: str,
    expected: Iterable[str],
    given: Iterable[Any],
    *,
    error: type[Exception] = ValueError,
) -> None:
    """Raise ``error`` naming the missing and unexpected keys of a state dict, if any.

    ``owner`` starts the message, e.g. ``"Adam.load_state_dict"``.
    """
    mismatch = key_mismatch(expected, given)
    if mismatch is not None:
        raise error(f"{owner}: {mismatch}")


def staged_arrays(
    owner: str,
    values: Mapping[str, Any],
    targets: Mapping[str, tuple[tuple[int, ...], np.dtype]],
    *,
    kinds: str = "f",
) -> dict[str, np.ndarray]:
    """Check every ``values[key]`` for ``key`` in ``targets`` and return copies to assign.

    The validate-before-assigning half of every all-or-nothing ``load_state_dict``: each value
    must be an array of dtype kind in ``kinds`` (``"f"``: float; ``"iuf"``: integers too), of
    exactly the target's shape, and finite once cast to the target's dtype (float64 values of
    1e300 overflow a float32 target). Every problem is collected and reported in one
    ``ValueError`` starting with ``owner`` (a :class:`NonFiniteValueError` when every problem is
    a non-finite value); otherwise the values come back cast to the targets' dtypes (copies, so
    that the caller's arrays are never aliased).
    """
    staged: dict[str, np.ndarray] = {}
    problems: list[str] = []
    non_finite = 0
    for key, (shape, dtype) in targets.items():
        value = np.asarray(values[key])
        if value.dtype.kind not in kinds:
            problems.append(f"{key}: expected a float array, got dtype {value.dtype}")
            continue
        if value.shape != shape:
            problems.append(f"{key}: expected shape {shape}, got {value.shape}")
            continue
        # finiteness is checked after the cast, the only place an overflow shows
        with np.errstate(over="ignore"):
            cast = value.astype(dtype, copy=True)
        if np.isfinite(cast).all():
            staged[key] = cast
            continue
        non_finite += 1
        if np.isfinite(value).all():
            problems.append(f"{key}: values overflow {np.dtype(dtype)} (become inf)")
        else:
            problems.append(f"{key}: contains NaN or inf")
    if problems:
        error = NonFiniteValueError if non_finite == len(problems) else ValueError
        raise error(f"{owner}: " + "; ".join(problems))
    return staged


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array`` (no copy), for handing out an array a layer keeps.

    A layer that caches its output for ``backward`` returns it through this view: a caller who
    edits the output in place gets numpy's "read-only" error instead of a silently wrong gradient.
    """
    view = array.view()
    view.flags.writeable = False
    return view


def check_probability(value: Any, owner: str, name: str) -> float:
    """Return ``value`` as a ``float`` if it is a real number in ``[0, 1)``; else raise.

    The range of a dropout rate (1 would drop everything). A non-number is a ``TypeError``, a value
    out of range (or NaN) a ``ValueError``; both name the owner and the argument.
    """
    probability = check_real(value, owner, name)
    if not 0.0 <= probability < 1.0:
        raise ValueError(f"{owner}: {name} must be in [0, 1), got {value!r}")
    return probability


def check_real(value: Any, owner: str, name: str) -> float:
    """Return ``value`` as a finite ``float`` if it is a real number (not a bool); else raise.

    A non-number (including ``bool`` and strings) is a ``TypeError``; NaN or infinity a
    ``ValueError``; both name the owner and the argument.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{owner}: {name} must be a real number, got {value!r}")
    if not np.isfinite(value):
        raise ValueError(f"{owner}: {name} must be finite, got {value!r}")
    return float(value)


def check_flag(value: Any, owner: str, name: str) -> bool:
    """Return ``value`` if it is a ``bool`` (numpy's too); else raise a ``TypeError`` naming the
    owner and the argument (``0``, ``"no"`` or None are not flags)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return bool(value)
