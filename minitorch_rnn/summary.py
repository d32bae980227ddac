"""``mt.summary``: a Keras-style table of a model's modules, output shapes and parameter counts."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike

from .layers.embedding import Embedding
from .module import Module, Sequential
from .recurrent.unroll import Unroll
from .validation import check_size, is_int

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
    is ``model.num_parameters()``, split into trainable and non-trainable (frozen:
    ``requires_grad=False``, see :meth:`Module.requires_grad_`) parameters.

    Parameters
    ----------
    model : Module
        Any module: a layer, a cell, a stack, ``Bidirectional``, a ``Sequential``, a user model.
    input_shape : sequence of int, optional
        The full input shape *including the batch*, e.g. ``(32, 50, 2)`` for ``(B, T, F)``. When
        given, one forward pass on zeros of that shape, in eval mode, on a copy of the model, finds
        the output shape of the model and of every module of its ``Sequential`` containers
        (modules inside other layers show ``-``). The model itself is not touched.
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
        If ``model`` is not a Module, ``input_shape`` is not a sequence of ints or ``max_depth``
        is not an int.
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
        0.layer0 (Unroll)            -                 384
          0.layer0.cell (LSTMCell)   -                 384
      1 (Dense)                      (4, 10, 1)          9
    ======================================================
    Total params: 393
    Trainable params: 393
    Non-trainable params: 0
    """
    if not isinstance(model, Module):
        raise TypeError(f"summary: model must be a Module, got {type(model).__name__}")
    if max_depth is not None:
        max_depth = check_size(max_depth, "summary", "max_depth", minimum=0)
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
    frozen = sum(parameter.size for parameter in model.parameters() if not parameter.requires_grad)
    return _table(rows, model.num_parameters(), frozen, with_shapes=input_shape is not None)


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
    """``id(module) -> formatted output shape`` of one eval-mode forward on zeros.

    The forward runs on a deep copy of the model, with fresh carried states, so the model itself
    (caches, carried states, random generators, training flags) is never touched. A
    ``Sequential`` is run one child at a time, as its own ``forward`` does, so that each child's
    output is seen; other modules are seen as a whole (rows inside them show ``-``).
    """
    inputs = np.zeros(input_shape, dtype=_input_dtype(model, dtype))
    probe = copy.deepcopy(model)
    probe.eval()
    for module in probe.modules():
        if isinstance(module, Unroll):
            module.reset_state()  # a carried state may have another batch size
    originals = {
        id(copied): id(original)
        for copied, original in zip(probe.modules(), model.modules(), strict=True)
    }
    shapes: dict[int, str] = {}
    try:
        _run_recording(probe, inputs, shapes)
    except Exception as error:
        raise ValueError(
            f"summary: {type(model).__name__} cannot run on input_shape {input_shape} "
            f"({type(error).__name__}: {error})"
        ) from error
    return {originals[key]: text for key, text in shapes.items()}


def _run_recording(module: Module, x: Any, shapes: dict[int, str]) -> Any:
    """``module.forward(x)``, recording the output shape of the module (and of every child of a
    ``Sequential``, recursively) into ``shapes``."""
    if type(module) is Sequential:  # a subclass may run its children its own way
        output = x
        for child in module:
            output = _run_recording(child, output, shapes)
    else:
        output = module.forward(x)
    shapes[id(module)] = _shape_text(output)
    return output


def _shape_text(output: Any) -> str:
    """``(4, 10, 8)``; tuples (an LSTM cell's ``(h, c)``) as ``[(4, 8), (4, 8)]``."""
    if isinstance(output, (tuple, list)):
        return "[" + ", ".join(_shape_text(part) for part in output) + "]"
    return str(tuple(int(size) for size in np.shape(output)))


def _table(rows: list[Any], total: int, frozen: int, *, with_shapes: bool) -> str:
    headers = _HEADERS if with_shapes else (_HEADERS[0], _HEADERS[2])
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        # names and shapes left-aligned, counts right-aligned
        parts = [cell.ljust(width) for cell, width in zip(cells[:-1], widths[:-1], strict=True)]
        return "   ".join([*parts, cells[-1].rjust(widths[-1])])

    rule = "=" * len(line(headers))
    body = [line(headers), rule, *(line(row) for row in rows), rule]
    body += [
        f"Total params: {total:,}",
        f"Trainable params: {total - frozen:,}",
        f"Non-trainable params: {frozen:,}",
    ]
    return "\n".join(body)
