"""Exchange models with PyTorch: ``from_torch`` and ``to_torch``, weights included.

Parameter names and layouts already follow ``torch.nn`` (``Dense.weight`` is ``(out, in)``,
recurrent weights keep PyTorch's gate order, the stacks' ``state_dict`` keys are
``weight_ih_l0``, ``weight_hh_l0_reverse``, ...), so a conversion builds the counterpart module and
copies the ``state_dict`` across, keeping the dtype (float32 or float64).

Counterparts:

| ``torch.nn`` | ``minitorch_rnn`` |
| --- | --- |
| ``Linear`` | ``Dense`` |
| ``Embedding`` | ``Embedding`` |
| ``RNNCell``, ``GRUCell``, ``LSTMCell`` | ``RNNCell``, ``GRUCell``, ``LSTMCell`` |
| ``RNN``, ``GRU``, ``LSTM`` (any layers, bidirectional, dropout) | ``RNN``, ``GRU``, ``LSTM`` |
| ``Tanh``, ``ReLU``, ``Sigmoid``, ``Softmax``, ``Dropout`` | ``Tanh``, ``ReLU``, ``Logistic``, ``Softmax``, ``Dropout`` |
| ``Sequential`` of these | ``Sequential`` of their counterparts |

Layout: minitorch_rnn is batch-first, ``(B, T, F)``. A torch recurrent module with
``batch_first=False`` (torch's default, time-major ``(T, B, F)``) has the same weights but another
input layout, so :func:`from_torch` refuses it unless ``time_major="accept"``; :func:`to_torch`
builds ``batch_first=True`` modules unless told otherwise.

Weights as a file: :func:`save_safetensors` writes a model's ``state_dict`` in the ``safetensors``
format, under the same (PyTorch's) names, so ``torch.nn.LSTM(...).load_state_dict(
safetensors.torch.load_file(path))`` takes a minitorch stack's weights, and
:func:`load_safetensors` reads a file written by torch's ``save_file`` back. The format holds
raw arrays and a JSON header, nothing that runs when it is read.

torch and safetensors are imported inside these functions only: ``import minitorch_rnn`` never
imports them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from .atomic import replace_atomically
from .errors import NonFiniteValueError
from .layers.activations import Logistic, ReLU, Softmax, Tanh
from .layers.dense import Dense
from .layers.dropout import Dropout
from .layers.embedding import Embedding
from .module import Module, Sequential
from .recurrent.cells import GRUCell, LSTMCell, RNNCell
from .recurrent.stacked import GRU, LSTM, RNN, RecurrentStack
from .recurrent.unroll import Unroll

__all__ = ["from_torch", "load_safetensors", "save_safetensors", "to_torch"]

_TIME_MAJOR_CHOICES = ("refuse", "accept")


def _torch() -> Any:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "minitorch_rnn.interop needs PyTorch: pip install 'minitorch_rnn[torch]' "
            "(or pip install torch)"
        ) from None
    return torch


# -- torch -> minitorch_rnn -------------------------------------------------------------------


def from_torch(module: Any, *, time_major: str = "refuse") -> Module:
    """The ``minitorch_rnn`` counterpart of a ``torch.nn`` module, with a copy of its weights.

    Parameters
    ----------
    module : torch.nn.Module
        ``Linear``, ``Embedding``, ``RNNCell``, ``GRUCell``, ``LSTMCell``, ``RNN``, ``GRU``,
        ``LSTM``, ``Tanh``, ``ReLU``, ``Sigmoid``, ``Softmax``, ``Dropout``, or a ``Sequential``
        of them (nested Sequentials too).
    time_major : {"refuse", "accept"}
        What to do with a recurrent module built with ``batch_first=False`` (torch's default):
        ``"refuse"`` raises; ``"accept"`` converts it anyway. The result reads batch-first
        ``(B, T, F)`` input, as everything here does: transpose time-major data first.

    Returns
    -------
    Module
        In training mode if ``module`` was; parameters float32 or float64 as in ``module``.
        Outputs equal torch's up to rounding: for a recurrent stack, ours
        ``out = m.forward(x)`` with ``x (B, T, F)`` matches torch's ``out, h_n = module(x)``
        (batch-first), and ``m.state`` matches ``h_n`` (``(h_n, c_n)`` for LSTM).

    Raises
    ------
    TypeError
        For a module with no counterpart (naming its type), or weights that are neither float32
        nor float64.
    ValueError
        For options without a counterpart (``proj_size``, ``Embedding.max_norm``,
        ``Embedding.padding_idx``, ...) and,
        unless accepted, ``batch_first=False``.

    Examples
    --------
    >>> import torch  # doctest: +SKIP
    >>> ours = mt.interop.from_torch(torch.nn.LSTM(3, 5, batch_first=True))  # doctest: +SKIP
    """
    torch = _torch()
    if time_major not in _TIME_MAJOR_CHOICES:
        raise ValueError(
            f"from_torch: time_major must be one of {_TIME_MAJOR_CHOICES}, got {time_major!r}"
        )
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"from_torch: expected a torch.nn.Module, got {type(module).__name__}")
    converted = _from_torch(torch, module, time_major)
    converted.train(bool(module.training))
    return converted


def _from_torch(torch: Any, module: Any, time_major: str) -> Module:
    nn = torch.nn
    kind = type(module)
    if kind is nn.Sequential:
        return Sequential(*(_from_torch(torch, child, time_major) for child in module))
    if kind is nn.Linear:
        dtype = _numpy_dtype(module.weight, "Linear")
        dense = Dense(module.in_features, module.out_features, bias=module.bias is not None)
        return _loaded(dense.to(dtype), module)
    if kind is nn.Embedding:
        for option, default in (("max_norm", None), ("scale_grad_by_freq", False)):
            if getattr(module, option) != default:
                raise ValueError(
                    f"from_torch: Embedding with {option}={getattr(module, option)!r} "
                    "has no counterpart"
                )
        if module.sparse:
            raise ValueError("from_torch: Embedding with sparse=True has no counterpart")
        if module.padding_idx is not None:
            # torch never trains that row; ours would, so the models would drift apart
            raise ValueError(
                f"from_torch: Embedding with padding_idx={module.padding_idx} has no counterpart "
                "(torch keeps that row frozen; a minitorch_rnn Embedding would train it)"
            )
        dtype = _numpy_dtype(module.weight, "Embedding")
        embedding = Embedding(module.num_embeddings, module.embedding_dim, dtype=dtype)
        return _loaded(embedding, module)
    if kind in (nn.RNNCell, nn.GRUCell, nn.LSTMCell):
        return _cell_from_torch(torch, module)
    if kind in (nn.RNN, nn.GRU, nn.LSTM):
        return _stack_from_torch(torch, module, time_major)
    if kind is nn.Tanh:
        return Tanh()
    if kind is nn.ReLU:
        return ReLU()
    if kind is nn.Sigmoid:
        return Logistic()
    if kind is nn.Softmax:
        if module.dim is None:
            raise ValueError("from_torch: Softmax needs an explicit dim (dim=None is deprecated)")
        return Softmax(axis=module.dim)
    if kind is nn.Dropout:
        return Dropout(module.p)
    raise TypeError(
        f"from_torch: torch.nn.{kind.__name__} has no minitorch_rnn counterpart (supported: "
        "Linear, Embedding, RNN/GRU/LSTM, RNNCell/GRUCell/LSTMCell, Tanh, ReLU, Sigmoid, "
        "Softmax, Dropout and Sequential of these)"
    )


def _cell_from_torch(torch: Any, module: Any) -> Module:
    nn = torch.nn
    name = type(module).__name__
    dtype = _numpy_dtype(module.weight_ih, name)
    sizes = (module.input_size, module.hidden_size)
    bias = module.bias
    cell: Module
    if type(module) is nn.RNNCell:
        cell = RNNCell(*sizes, nonlinearity=module.nonlinearity, bias=bias, dtype=dtype)
    elif type(module) is nn.GRUCell:
        cell = GRUCell(*sizes, bias=bias, dtype=dtype)
    else:
        cell = LSTMCell(*sizes, bias=bias, dtype=dtype)
    return _loaded(cell, module)


def _stack_from_torch(torch: Any, module: Any, time_major: str) -> Module:
    nn = torch.nn
    name = type(module).__name__
    if not module.batch_first and time_major == "refuse":
        raise ValueError(
            f"from_torch: this {name} has batch_first=False (time-major input (T, B, F)), while "
            "minitorch_rnn is batch-first (B, T, F); build it with batch_first=True, or pass "
            "time_major='accept' to convert it anyway and feed the result batch-first input"
        )
    if getattr(module, "proj_size", 0):
        raise ValueError(f"from_torch: {name} with proj_size={module.proj_size} has no counterpart")
    dtype = _numpy_dtype(module.weight_ih_l0, name)
    options: dict[str, Any] = {
        "num_layers": module.num_layers,
        "bidirectional": module.bidirectional,
        "dropout": float(module.dropout),
        "bias": module.bias,
        "dtype": dtype,
    }
    stack: RecurrentStack
    if type(module) is nn.RNN:
        stack = RNN(
            module.input_size, module.hidden_size, nonlinearity=module.nonlinearity, **options
        )
    elif type(module) is nn.GRU:
        stack = GRU(module.input_size, module.hidden_size, **options)
    else:
        stack = LSTM(module.input_size, module.hidden_size, **options)
    return _loaded(stack, module)


def _numpy_dtype(weight: Any, owner: str) -> np.dtype:
    text = str(weight.dtype).removeprefix("torch.")
    if text not in ("float32", "float64"):
        raise TypeError(
            f"from_torch: {owner} weights are {text}; only float32 and float64 convert "
            "(call .float() or .double() first)"
        )
    return np.dtype(text)


def _loaded(ours: Module, theirs: Any) -> Module:
    """``ours`` with every tensor of ``theirs.state_dict()`` copied in (same keys)."""
    state = {key: value.detach().cpu().numpy().copy() for key, value in theirs.state_dict().items()}
    ours.load_state_dict(state)
    return ours


# -- minitorch_rnn -> torch -------------------------------------------------------------------


def to_torch(module: Module, *, batch_first: bool = True) -> Any:
    """The ``torch.nn`` counterpart of a ``minitorch_rnn`` module, with a copy of its weights.

    Parameters
    ----------
    module : Module
        ``Dense``, ``Embedding``, ``RNNCell`` (tanh or relu), ``GRUCell`` (``reset_after=True``),
        ``LSTMCell``, the stacks ``RNN``/``GRU``/``LSTM`` (``return_sequences=True``, not
        stateful), ``Tanh``, ``ReLU``, ``Logistic``, ``Softmax``, ``Dropout``, or a
        ``Sequential`` of them.
    batch_first : bool
        Of the torch recurrent modules built (default True, the layout used here).

    Returns
    -------
    torch.nn.Module
        Tensors of the module's dtype, on the CPU, in training mode if ``module`` was. (A torch
        ``Sequential`` holding a recurrent module cannot run as is, since torch's recurrent
        modules return ``(output, h_n)``; its weights are still all there.)

    Raises
    ------
    TypeError
        For a module with no torch counterpart, naming its type.
    ValueError
        For options torch lacks (a sigmoid RNN, ``reset_after=False``, hard-sigmoid gates, a
        stack with ``return_sequences=False`` or ``stateful=True``).
    """
    torch = _torch()
    if not isinstance(module, Module):
        raise TypeError(f"to_torch: expected a minitorch_rnn Module, got {type(module).__name__}")
    converted = _to_torch(torch, module, bool(batch_first))
    converted.train(bool(module.training))
    return converted


def _to_torch(torch: Any, module: Module, batch_first: bool) -> Any:
    nn = torch.nn
    kind = type(module)
    builders: Mapping[type, Callable[[], Any]] = {
        Tanh: nn.Tanh,
        ReLU: nn.ReLU,
        Logistic: nn.Sigmoid,
    }
    if kind is Sequential:
        assert isinstance(module, Sequential)
        return nn.Sequential(*(_to_torch(torch, child, batch_first) for child in module))
    if kind in builders:
        return builders[kind]()
    if isinstance(module, Softmax) and kind is Softmax:
        return nn.Softmax(dim=module.axis)
    if isinstance(module, Dropout) and kind is Dropout:
        return nn.Dropout(module.p)
    if isinstance(module, Dense) and kind is Dense:
        dtype = _torch_dtype(torch, module)
        linear = nn.Linear(
            module.in_features, module.out_features, bias=module.bias is not None, dtype=dtype
        )
        return _filled(torch, linear, module)
    if isinstance(module, Embedding) and kind is Embedding:
        embedding = nn.Embedding(
            module.num_embeddings, module.embedding_dim, dtype=_torch_dtype(torch, module)
        )
        return _filled(torch, embedding, module)
    if kind in (RNNCell, GRUCell, LSTMCell):
        return _cell_to_torch(torch, module)
    if kind in (RNN, GRU, LSTM):
        assert isinstance(module, RecurrentStack)
        return _stack_to_torch(torch, module, batch_first)
    raise TypeError(
        f"to_torch: {kind.__name__} has no torch.nn counterpart (supported: Dense, Embedding, "
        "RNN/GRU/LSTM, RNNCell/GRUCell/LSTMCell, Tanh, ReLU, Logistic, Softmax, Dropout and "
        "Sequential of these)"
    )


def _check_cell_options(cell: Module, owner: str) -> None:
    """Refuse the cell options torch has no counterpart for."""
    if isinstance(cell, RNNCell) and cell.nonlinearity not in ("tanh", "relu"):
        raise ValueError(
            f"to_torch: {owner} with nonlinearity={cell.nonlinearity!r} is not in torch"
        )
    if isinstance(cell, GRUCell) and not cell.reset_after:
        raise ValueError(f"to_torch: {owner} with reset_after=False is not in torch")
    if getattr(cell, "gate", "sigmoid") != "sigmoid":
        raise ValueError(f"to_torch: {owner} with gate={cell.gate!r} is not in torch")  # type: ignore[attr-defined]


def _cell_to_torch(torch: Any, cell: Module) -> Any:
    nn = torch.nn
    name = type(cell).__name__
    _check_cell_options(cell, name)
    sizes = (cell.input_size, cell.hidden_size)  # type: ignore[attr-defined]
    bias = cell.bias_ih is not None  # type: ignore[attr-defined]
    dtype = _torch_dtype(torch, cell)
    if isinstance(cell, RNNCell):
        theirs = nn.RNNCell(*sizes, bias=bias, nonlinearity=cell.nonlinearity, dtype=dtype)
    elif isinstance(cell, GRUCell):
        theirs = nn.GRUCell(*sizes, bias=bias, dtype=dtype)
    else:
        theirs = nn.LSTMCell(*sizes, bias=bias, dtype=dtype)
    return _filled(torch, theirs, cell)


def _stack_to_torch(torch: Any, stack: RecurrentStack, batch_first: bool) -> Any:
    nn = torch.nn
    name = type(stack).__name__
    unrolls = [module for module in stack.modules() if isinstance(module, Unroll)]
    first_cell = unrolls[0].cell
    _check_cell_options(first_cell, name)
    if not stack.return_sequences:
        raise ValueError(
            f"to_torch: {name} with return_sequences=False has no torch counterpart (torch's "
            "recurrent modules always return every step); convert a return_sequences=True copy"
        )
    if any(unroll.stateful for unroll in unrolls):
        raise ValueError(f"to_torch: a stateful {name} has no torch counterpart")
    options: dict[str, Any] = {
        "num_layers": stack.num_layers,
        "bias": first_cell.bias_ih is not None,
        "batch_first": batch_first,
        "dropout": stack.dropout,
        "bidirectional": stack.num_directions == 2,
        "dtype": _torch_dtype(torch, stack),
    }
    sizes = (stack.input_size, stack.hidden_size)
    if isinstance(stack, RNN):
        assert isinstance(first_cell, RNNCell)
        theirs = nn.RNN(*sizes, nonlinearity=first_cell.nonlinearity, **options)
    elif isinstance(stack, GRU):
        theirs = nn.GRU(*sizes, **options)
    else:
        theirs = nn.LSTM(*sizes, **options)
    return _filled(torch, theirs, stack)


def _torch_dtype(torch: Any, module: Module) -> Any:
    parameters = module.parameters()
    dtype = parameters[0].dtype if parameters else np.dtype(np.float32)
    return torch.float64 if dtype == np.float64 else torch.float32


def _filled(torch: Any, theirs: Any, ours: Module) -> Any:
    """``theirs`` with every array of ``ours.state_dict()`` copied in (same keys)."""
    state = {key: torch.from_numpy(np.array(value)) for key, value in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return theirs


# -- safetensors --------------------------------------------------------------------------------


def _safetensors_numpy() -> Any:
    try:
        import safetensors.numpy
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            "minitorch_rnn.interop needs safetensors for this: pip install "
            "'minitorch_rnn[safetensors]' (or pip install safetensors)"
        ) from None
    return safetensors.numpy


def save_safetensors(path: str | os.PathLike[str], model: Module) -> None:
    """Write ``model.state_dict()`` to a ``safetensors`` file, atomically.

    The names are the ``state_dict``'s, which are PyTorch's (``weight``, ``bias``,
    ``weight_ih_l0``, ``weight_hh_l0_reverse``, ...), so the file loads into the matching
    ``torch.nn`` module with ``strict=True``. The dtype is kept (float32 or float64). Like
    :func:`minitorch_rnn.save`, the file at ``path`` is either the complete new one or, after a
    failure, the previous one untouched.

    Parameters
    ----------
    path : str or path-like
        Where to write (used exactly as given; ``.safetensors`` is the convention).
    model : Module
        Any module.

    Raises
    ------
    TypeError
        If ``model`` is not a Module.
    NonFiniteValueError
        If a weight holds NaN or inf (nothing is written).
    FileNotFoundError
        If the directory of ``path`` does not exist.
    ImportError
        If ``safetensors`` is not installed.
    """
    if not isinstance(model, Module):
        raise TypeError(f"save_safetensors: model must be a Module, got {type(model).__name__}")
    backend = _safetensors_numpy()
    state = {name: np.ascontiguousarray(value) for name, value in model.state_dict().items()}
    non_finite = sorted(name for name, value in state.items() if not np.isfinite(value).all())
    if non_finite:
        raise NonFiniteValueError(
            f"save_safetensors: weights {non_finite} hold NaN or inf; nothing written"
        )
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(
            f"save_safetensors: directory {directory!r} of {path!r} does not exist"
        )
    data = backend.save(state, metadata={"format": "pt"})
    replace_atomically(path, directory, lambda handle: handle.write(data))


def load_safetensors(path: str | os.PathLike[str], model: Module, strict: bool = True) -> None:
    """Load the weights of a ``safetensors`` file into ``model``, all or nothing.

    The file may come from :func:`save_safetensors` or from torch
    (``safetensors.torch.save_file(torch_module.state_dict(), path)``): names are PyTorch's on
    both sides. Values are cast to the parameters' dtypes; shapes, names (with ``strict``) and
    finiteness are checked as :meth:`Module.load_state_dict` checks them, before any weight
    changes.

    Parameters
    ----------
    path : str or path-like
        The file.
    model : Module
        Receives the weights.
    strict : bool
        Missing and unexpected names are errors (as in :meth:`Module.load_state_dict`).

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a readable safetensors file, or its arrays do not fit ``model``.
    KeyError
        Listing missing and unexpected names (``strict``).
    ImportError
        If ``safetensors`` is not installed.
    """
    if not isinstance(model, Module):
        raise TypeError(f"load_safetensors: model must be a Module, got {type(model).__name__}")
    backend = _safetensors_numpy()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_safetensors: no file at {path!r}")
    try:
        state = backend.load_file(path)
    except Exception as error:  # the library raises its own error types for a damaged file
        raise ValueError(
            f"load_safetensors: {path!r} is not a readable safetensors file ({error})"
        ) from error
    model.load_state_dict(state, strict=strict)
