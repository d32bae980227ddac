"""``interop.save_safetensors``/``load_safetensors``: weights in the file format torch reads.

The torch tests load our file into ``torch.nn`` modules with ``strict=True`` and compare outputs,
and load torch's ``save_file`` output into ours. Skipped where safetensors (or torch) is absent.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn import interop

pytest.importorskip("safetensors")

X = np.random.default_rng(0).standard_normal((3, 6, 4))  # (B, T, F), float64
IDS = np.random.default_rng(1).integers(0, 9, size=(3, 6))


def torch_counterparts() -> list[tuple[str, Any, Any, Any]]:
    """(name, our model, the torch module of the same architecture, its input)."""
    torch = pytest.importorskip("torch")
    nn = torch.nn
    f64 = {"dtype": torch.float64}
    return [
        (
            "LSTM",
            mt.LSTM(4, 5, num_layers=2, bidirectional=True, seed=0, dtype="float64"),
            nn.LSTM(4, 5, num_layers=2, bidirectional=True, batch_first=True, **f64),
            X,
        ),
        ("GRU", mt.GRU(4, 5, seed=0, dtype="float64"), nn.GRU(4, 5, batch_first=True, **f64), X),
        (
            "RNN",
            mt.RNN(4, 5, num_layers=3, nonlinearity="relu", seed=0, dtype="float64"),
            nn.RNN(4, 5, num_layers=3, nonlinearity="relu", batch_first=True, **f64),
            X,
        ),
        ("Linear", mt.Dense(4, 5, seed=0, dtype="float64"), nn.Linear(4, 5, **f64), X),
        ("Embedding", mt.Embedding(9, 4, seed=0, dtype="float64"), nn.Embedding(9, 4, **f64), IDS),
    ]


def _torch_output(module: Any, x: np.ndarray) -> np.ndarray:
    import torch

    with torch.no_grad():
        output = module(torch.from_numpy(x))
    return (output[0] if isinstance(output, tuple) else output).numpy()


@pytest.mark.parametrize("index", range(5))
def test_our_file_loads_into_torch_with_strict_and_gives_our_outputs(
    index: int, tmp_path: Path
) -> None:
    from safetensors.torch import load_file

    name, ours, theirs, x = torch_counterparts()[index]
    path = tmp_path / f"{name}.safetensors"
    interop.save_safetensors(path, ours)
    result = theirs.load_state_dict(load_file(path), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    np.testing.assert_allclose(_torch_output(theirs, x), ours(x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("index", range(5))
def test_torch_save_file_loads_into_ours_and_gives_torch_outputs(
    index: int, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import save_file

    name, ours, theirs, x = torch_counterparts()[index]
    torch.manual_seed(index)
    for parameter in theirs.parameters():  # weights unlike ours, so that the load shows
        torch.nn.init.normal_(parameter)
    path = tmp_path / f"{name}.safetensors"
    save_file({key: value.contiguous() for key, value in theirs.state_dict().items()}, path)
    interop.load_safetensors(path, ours)
    np.testing.assert_allclose(ours(x), _torch_output(theirs, x), rtol=1e-12, atol=1e-12)


def test_a_round_trip_restores_every_weight_bitwise_and_keeps_the_dtype(tmp_path: Path) -> None:
    model = mt.Sequential(mt.Embedding(9, 4, seed=0), mt.GRU(4, 5, seed=1), mt.Dense(5, 9, seed=2))
    path = tmp_path / "model.safetensors"
    interop.save_safetensors(path, model)
    fresh = mt.Sequential(mt.Embedding(9, 4, seed=5), mt.GRU(4, 5, seed=6), mt.Dense(5, 9, seed=7))
    interop.load_safetensors(path, fresh)
    for name, value in model.state_dict().items():
        loaded = fresh.state_dict()[name]
        assert loaded.dtype == np.float32 and np.array_equal(loaded, value), name


def test_a_file_that_does_not_fit_is_refused_and_the_model_keeps_its_weights(
    tmp_path: Path,
) -> None:
    path = tmp_path / "small.safetensors"
    interop.save_safetensors(path, mt.Dense(3, 2, seed=0))
    other = mt.Dense(3, 4, seed=1)
    before = other.state_dict()
    with pytest.raises(ValueError, match="shape"):
        interop.load_safetensors(path, other)
    with pytest.raises(KeyError, match="missing"):
        interop.load_safetensors(path, mt.Sequential(mt.Dense(3, 2)))
    for name, value in before.items():
        assert np.array_equal(other.state_dict()[name], value)


def test_a_damaged_file_is_a_value_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "noise.safetensors"
    path.write_bytes(np.random.default_rng(0).bytes(256))
    with pytest.raises(ValueError, match="not a readable safetensors file"):
        interop.load_safetensors(path, mt.Dense(3, 2))
    with pytest.raises(FileNotFoundError, match="no file"):
        interop.load_safetensors(tmp_path / "none.safetensors", mt.Dense(3, 2))


def test_non_finite_weights_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    model = mt.Dense(3, 2)
    model.weight.data[0, 0] = np.nan
    path = tmp_path / "nan.safetensors"
    with pytest.raises(mt.NonFiniteValueError, match="weight"):
        interop.save_safetensors(path, model)
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_importing_the_package_does_not_import_safetensors() -> None:
    code = "import sys, minitorch_rnn; print('safetensors' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"
