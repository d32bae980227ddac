"""``mt.summary``: a Keras-style table of a model's modules, output shapes and parameter counts."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .layers.embedding import Embedding
from .module import Module, Sequential, StateSnapshot
from .validation import is_int

__all__ = ["summary"]

_HEADERS = ("Module (type)", "Output shape", "Params")


def summary(
    model: Module,
    input_shape: Sequence[int] | None = None,
    *,
    dtype: DTypeLike | None = None,
    max_depth: int | None = None,
) -> str:
    """A table of every module of ``model`` with its parameter count and, optionally, output shape.

    Each row is one module, indented under its parent (dotted names as in
    :meth:`Module.named_modules`); its count is the number of scalars in the parameters of its
    whole subtree, each shared (tied) parameter counted once. The footer gives the total, which
    is ``model.num_parameters()``. Every parameter of this framework is trainable.

    Parameters
    ----------
    model : Module
        Any module: a layer, a cell, a stack, ``Bidirectional``, a ``Sequential``, a user model.
    input_shape : sequence of int, optional
        The full input shape *including the batch*, e.g. ``(32, 50, 2)`` for ``(B, T, F)``. When
        given, one forward pass on zeros of that shape, in eval mode, finds each module's output
        shape. It leaves the model exactly as it was: training flags, carried (stateful) states,
        caches and the random generators of Dropout layers are restored afterwards.
    dtype : dtype, optional
        Of the zero input: by default int64 when the model starts with an :class:`Embedding`
        (token ids), else the dtype of the model's parameters.
    max_depth : int, optional
        Show modules down to this nesting depth only (0: the model alone); counts are unchanged.

    Returns
    -------
    str
        The table, ready to print.

    Raises
    ------
    TypeError
        If ``model`` is not a Module or ``input_shape`` is not a sequence of ints.
    ValueError
        If a size is below 1, or the forward pass on that shape fails (the message says why).

    Examples
    --------
    >>> import minitorch_rnn as mt
    >>> model = mt.Sequential(mt.LSTM(2, 8, seed=0), mt.Dense(8, 1, seed=0))
    >>> print(mt.summary(model, input_shape=(4, 10, 2)))
    Module (type)                    Output shape   Params
    ======================================================
    (Sequential)                     (4, 10, 1)        393
      0 (LSTM)                       (4, 10, 8)        384
        0.layer0 (Unroll)            (4, 10, 8)        384
          0.layer0.cell (LSTMCell)   -                 384
      1 (Dense)                      (4, 10, 1)          9
    ======================================================
    Total params: 393
    Trainable params: 393
    Non-trainable params: 0
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a Module, got {type(model).__name__}")
    if max_depth is not None and (not is_int(max_depth) or max_depth < 0):
        raise ValueError(f"summary: max_depth must be an int >= 0 or None, got {max_depth!r}")
    shapes: dict[int, str] = {}
    if input_shape is not None:
        shapes = _output_shapes(model, _checked_shape(input_shape), dtype)
    rows = []
    for name, module in model.named_modules():
        depth = 0 if not name else name.count(".") + 1
        if max_depth is not None and depth > max_depth:
            continue
        label = "  " * depth + (f"{name} " if name else "") + f"({type(module).__name__})"
        count = sum(parameter.size for parameter in module.parameters())
        rows.append((label, shapes.get(id(module), "-"), f"{count:,}"))
    if input_shape is None:
        rows = [(label, count) for label, _, count in rows]  # type: ignore[misc]
    return _table(rows, model.num_parameters(), with_shapes=input_shape is not None)


def _checked_shape(input_shape: Any) -> tuple[int, ...]:
    if isinstance(input_shape, (str, bytes)) or not isinstance(input_shape, Sequence):
        raise TypeError(
            f"summary: input_shape must be a tuple of ints such as (B, T, F), got {input_shape!r}"
        )
    if not input_shape or not all(is_int(size) for size in input_shape):
        raise TypeError(f"summary: input_shape must be a tuple of ints, got {input_shape!r}")
    if any(size < 1 for size in input_shape):
        raise ValueError(f"summary: input_shape sizes must be >= 1, got {tuple(input_shape)}")
    return tuple(int(size) for size in input_shape)


def _first_leaf(model: Module) -> Module:
    """The module that receives the input first (the head of nested Sequentials)."""
    while isinstance(model, Sequential) and len(model):
        model = model[0]
    return model


def _input_dtype(model: Module, dtype: DTypeLike | None) -> np.dtype:
    if dtype is not None:
        return np.dtype(dtype)
    if isinstance(_first_leaf(model), Embedding):
        return np.dtype(np.int64)
    parameters = model.parameters()
    return parameters[0].dtype if parameters else np.dtype(np.float64)


def _output_shapes(
    model: Module, input_shape: tuple[int, ...], dtype: DTypeLike | None
) -> dict[int, str]:
    """``id(module) -> formatted output shape`` of one eval-mode forward on zeros, undone after."""
    inputs = np.zeros(input_shape, dtype=_input_dtype(model, dtype))
    shapes: dict[int, str] = {}
    snapshot = StateSnapshot(model)  # also removes the recording wrappers below when restored
    try:
        model.eval()
        for module in model.modules():
            reset_state = getattr(module, "reset_state", None)
            if callable(reset_state):
                reset_state()  # a carried state may have another batch size
            object.__setattr__(module, "forward", _recording(module.forward, module, shapes))
        try:
            model.forward(inputs)
        except Exception as error:
            raise ValueError(
                f"summary: {type(model).__name__} cannot run on input_shape {input_shape} "
                f"({type(error).__name__}: {error})"
            ) from error
    finally:
        snapshot.restore()
    return shapes


def _recording(
    forward: Callable[..., Any], module: Module, shapes: dict[int, str]
) -> Callable[..., Any]:
    @functools.wraps(forward)  # keeps the signature, which Sequential inspects for ``lengths``
    def record(*args: Any, **kwargs: Any) -> Any:
        output = forward(*args, **kwargs)
        shapes[id(module)] = _shape_text(output)
        return output

    return record


def _shape_text(output: Any) -> str:
    """``(4, 10, 8)``; tuples (an LSTM cell's ``(h, c)``) as ``[(4, 8), (4, 8)]``."""
    if isinstance(output, (tuple, list)):
        return "[" + ", ".join(_shape_text(part) for part in output) + "]"
    return str(tuple(int(size) for size in np.shape(output)))


def _table(rows: list[Any], total: int, *, with_shapes: bool) -> str:
    headers = _HEADERS if with_shapes else (_HEADERS[0], _HEADERS[2])
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        # names and shapes left-aligned, counts right-aligned
        parts = [cell.ljust(width) for cell, width in zip(cells[:-1], widths[:-1], strict=True)]
        return "   ".join([*parts, cells[-1].rjust(widths[-1])])

    rule = "=" * len(line(headers))
    body = [line(headers), rule, *(line(row) for row in rows), rule]
    body += [f"Total params: {total:,}", f"Trainable params: {total:,}", "Non-trainable params: 0"]
    return "\n".join(body)
