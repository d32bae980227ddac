"""Models that rebuild themselves: config(), build, register_module and load_model."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.config import (
    BUILT_IN_MODULES,
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_MODULES,
    parameter_shapes,
)

RNG = np.random.default_rng(0)
SEQUENCE = RNG.normal(size=(2, 5, 3))  # (B, T, F) for every module that reads sequences
STEP = RNG.normal(size=(2, 3))  # (B, F) for the cells and the feed-forward layers
IDS = RNG.integers(0, 7, size=(2, 5))
TARGET_IDS = RNG.integers(0, 9, size=(2, 4))
QUERY = RNG.normal(size=(2, 4, 4))  # (B, Tq, Hq) for the attentions


def _bidirectional(cell: type[mt.RecurrentCell]) -> mt.Bidirectional:
    return mt.Bidirectional(
        mt.Unroll(cell(3, 4, seed=0), return_sequences=False),
        mt.Unroll(cell(3, 4, seed=1), reverse=True, return_sequences=False),
        merge="sum",
    )


# name -> (a model, its input); every built-in class appears, and a stack of every built-in cell
CASES: dict[str, tuple[Callable[[], mt.Module], Any]] = {
    "Dense": (lambda: mt.Dense(3, 4, seed=0), STEP),
    "Dense-no-bias-float64": (lambda: mt.Dense(3, 4, bias=False, seed=0, dtype="float64"), STEP),
    "Embedding": (lambda: mt.Embedding(7, 3, seed=0), IDS),
    "Tanh": (mt.Tanh, STEP),
    "Logistic": (mt.Logistic, STEP),
    "ReLU": (mt.ReLU, STEP),
    "Softmax": (lambda: mt.Softmax(axis=0), STEP),
    "Dropout": (lambda: mt.Dropout(0.3, seed=0), STEP),
    "MeanPool": (mt.MeanPool, SEQUENCE),
    "RNNCell": (lambda: mt.RNNCell(3, 4, nonlinearity="relu", seed=0), STEP),
    "GRUCell": (lambda: mt.GRUCell(3, 4, reset_after=False, gate="hard_sigmoid", seed=0), STEP),
    "LSTMCell": (lambda: mt.LSTMCell(3, 4, forget_bias=1.0, bias=False, seed=0), STEP),
    "Unroll": (
        lambda: mt.Unroll(mt.GRUCell(3, 4, seed=0), bptt_truncate=2, reverse=True),
        SEQUENCE,
    ),
    "Bidirectional": (lambda: _bidirectional(mt.LSTMCell), SEQUENCE),
    "RNN": (lambda: mt.RNN(3, 4, num_layers=2, nonlinearity="relu", seed=0), SEQUENCE),
    "GRU": (lambda: mt.GRU(3, 4, bidirectional=True, dtype="float64", seed=0), SEQUENCE),
    "LSTM": (
        lambda: mt.LSTM(3, 4, num_layers=2, bidirectional=True, dropout=0.2, seed=0),
        SEQUENCE,
    ),
    "Sequential": (
        lambda: mt.Sequential(
            mt.Embedding(7, 3, seed=0),
            mt.LSTM(3, 4, return_sequences=False, seed=1),
            mt.Dense(4, 2, seed=2),
            mt.Softmax(),
        ),
        IDS,
    ),
    "Attention-dot": (lambda: mt.Attention(3, 3), (STEP[:, None, :], SEQUENCE)),
    "Attention-general": (lambda: mt.Attention(4, 3, "general", seed=0), (QUERY, SEQUENCE)),
    "Attention-additive": (
        lambda: mt.Attention(4, 3, "additive", attention_size=6, seed=0, dtype="float64"),
        (QUERY, SEQUENCE),
    ),
    "Seq2Seq": (
        lambda: mt.Seq2Seq(7, 9, 4, 5, num_layers=2, attention="additive", dropout=0.1, seed=0),
        (IDS, TARGET_IDS),
    ),
    "Seq2Seq-irnn-plain": (
        lambda: mt.Seq2Seq(7, 9, 4, 5, cell="irnn", attention=None, seed=0, dtype="float64"),
        (IDS, TARGET_IDS),
    ),
    "Seq2Seq-GRUCell-general": (
        lambda: mt.Seq2Seq(7, 9, 4, 5, cell=mt.GRUCell, attention="general", seed=0),
        (IDS, TARGET_IDS),
    ),
    **{
        f"RecurrentStack-{name}": (
            lambda name=name: mt.RecurrentStack(name, 3, 4, num_layers=2, seed=0),  # type: ignore[misc]
            SEQUENCE,
        )
        for name in ("rnn", "irnn", "gru", "lstm")
    },
}


def shapes(model: mt.Module) -> dict[str, tuple[int, ...]]:
    return {name: value.shape for name, value in model.state_dict().items()}


def test_the_cases_cover_every_built_in_class() -> None:
    covered = {type(factory()).__name__ for factory, _ in CASES.values()}
    assert covered == set(BUILT_IN_MODULES)


@pytest.mark.parametrize("case", CASES)
def test_build_of_a_config_has_the_same_state_dict_keys_and_shapes(case: str) -> None:
    model = CASES[case][0]()
    config = model.config()
    json.dumps(config)  # JSON-able
    rebuilt = mt.build(config)
    assert type(rebuilt) is type(model)
    assert shapes(rebuilt) == shapes(model)
    assert rebuilt.config() == config


@pytest.mark.parametrize("case", CASES)
def test_parameter_shapes_of_a_config_are_those_build_creates(case: str) -> None:
    model = CASES[case][0]()
    assert parameter_shapes(model.config()) == shapes(model)


@pytest.mark.parametrize("case", CASES)
def test_load_model_of_a_saved_model_gives_bitwise_equal_outputs(case: str, tmp_path: Path) -> None:
    factory, x = CASES[case]
    model = factory().eval()
    path = tmp_path / "model.npz"
    mt.save(path, model)
    loaded = mt.load_model(path).eval()
    assert type(loaded) is type(model)
    for name, value in model.state_dict().items():
        assert loaded.state_dict()[name].dtype == value.dtype
    dtype = model.parameters()[0].dtype if model.parameters() else np.float32
    inputs = [
        value if np.issubdtype(value.dtype, np.integer) else value.astype(dtype)
        for value in (x if isinstance(x, tuple) else (x,))
    ]
    expected, got = model(*inputs), loaded(*inputs)
    expected = expected if isinstance(expected, tuple) else (expected,)
    got = got if isinstance(got, tuple) else (got,)
    for ours, theirs in zip(expected, got, strict=True):
        assert np.array_equal(ours, theirs)
        assert ours.dtype == theirs.dtype


def test_a_stack_of_a_registered_cell_name_keeps_its_defaults() -> None:
    stack = mt.RecurrentStack("lstm", 3, 4)
    config = stack.config()
    assert (config["cell_class"], config["forget_bias"]) == ("LSTMCell", 1.0)
    rebuilt = mt.build(config)
    assert isinstance(rebuilt, mt.RecurrentStack)
    cell = rebuilt._cell
    assert isinstance(cell, mt.LSTMCell) and cell.forget_bias == 1.0


# -- what a config may name ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["Trainer", "Module", "Parameter", "os.system", "builtins.eval", "__import__", ""]
)
def test_a_class_that_is_not_built_in_or_registered_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="neither a built-in module class nor a registered one"):
        mt.build({"class": name})


def test_nothing_named_in_a_config_is_imported() -> None:
    assert "antigravity" not in sys.modules
    with pytest.raises(ValueError, match="register_module"):
        mt.build({"class": "antigravity"})
    with pytest.raises(ValueError, match="register_module"):
        mt.build({"class": "Sequential", "modules": [{"class": "antigravity.geohash"}]})
    assert "antigravity" not in sys.modules


class Scaled(mt.Module):
    """A user's module with a config: ``y = factor * dense(x)``."""

    def __init__(self, features: int, factor: float = 2.0) -> None:
        super().__init__()
        self.dense = mt.Dense(features, features, seed=0)
        self.factor = factor

    def forward(self, x: Any) -> Any:
        return self.factor * self.dense(x)

    def config(self) -> dict[str, Any]:
        return {"class": "Scaled", "features": self.dense.in_features, "factor": self.factor}


class Unconfigured(mt.Module):
    """A user's module without a config."""

    def __init__(self) -> None:
        super().__init__()
        self.dense = mt.Dense(3, 2, seed=0)

    def forward(self, x: Any) -> Any:
        return self.dense(x)


@pytest.fixture
def scaled_registered() -> Any:
    from minitorch_rnn import config

    assert mt.register_module(Scaled) is Scaled
    yield
    config._REGISTERED.pop("Scaled", None)


def test_a_registered_user_class_round_trips_through_load_model(
    scaled_registered: Any, tmp_path: Path
) -> None:
    model = mt.Sequential(Scaled(3, factor=0.5), mt.Tanh())
    path = tmp_path / "user.npz"
    mt.save(path, model)
    loaded = mt.load_model(path)
    assert isinstance(loaded[0], Scaled) and loaded[0].factor == 0.5
    assert np.array_equal(loaded(STEP.astype(np.float32)), model(STEP.astype(np.float32)))


def test_an_unregistered_user_class_with_a_config_is_saved_and_load_model_names_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "user.npz"
    mt.save(path, Scaled(3))
    assert mt.serialization.read_meta(path)["config"]["class"] == "Scaled"
    with pytest.raises(ValueError, match=r"mt\.register_module\(Scaled\)"):
        mt.load_model(path)


def test_a_user_class_without_config_saves_as_before_and_load_model_says_it_needs_the_class(
    tmp_path: Path,
) -> None:
    path = tmp_path / "plain.npz"
    model = mt.Sequential(Unconfigured(), mt.Tanh())
    mt.save(path, model)
    assert "config" not in mt.serialization.read_meta(path)
    fresh = mt.Sequential(Unconfigured(), mt.Tanh())
    mt.load(path, fresh)  # the weights load into a model rebuilt in code, as before
    with pytest.raises(ValueError, match=r"holds no model config.*register_module") as error:
        mt.load_model(path)
    assert "Sequential" in str(error.value) and "mt.load(path, model)" in str(error.value)


def test_register_module_refuses_a_non_module_and_a_built_in_name() -> None:
    with pytest.raises(TypeError, match="register_module: expected a subclass of Module"):
        mt.register_module(dict)  # type: ignore[arg-type]

    class Dense(mt.Module):  # shadows a built-in name
        pass

    with pytest.raises(ValueError, match="'Dense' is the name of a built-in class"):
        mt.register_module(Dense)
    assert BUILT_IN_MODULES["Dense"] is mt.Dense


# -- hostile configs ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "config, error, fragment",
    [
        ([{"class": "Dense"}], TypeError, "a config must be a dict"),
        ({"in_features": 3}, ValueError, "with a 'class' entry"),
        ({"class": 5}, TypeError, "'class' must be a class name"),
        ({"class": "Dense", "in_features": "3", "out_features": 2}, TypeError, "in_features"),
        ({"class": "Dense", "in_features": 3, "out_features": 0}, ValueError, ">= 1"),
        ({"class": "Dense", "in_features": 3, "out_features": 2, "colour": 1}, TypeError, "colour"),
        (
            {"class": "Dense", "in_features": 3, "out_features": 2, "dtype": "int8"},
            TypeError,
            "dtype",
        ),
        (
            {"class": "Sequential", "modules": {"class": "Tanh"}},
            TypeError,
            "'modules' must be a list",
        ),
        ({"class": "Sequential", "modules": [3]}, TypeError, "argument 0 must be a Module"),
        (
            {"class": "Unroll", "cell": {"class": "Dense", "in_features": 1, "out_features": 1}},
            TypeError,
            "RecurrentCell",
        ),
        (
            {"class": "RecurrentStack", "cell_class": "Dense", "input_size": 2, "hidden_size": 2},
            TypeError,
            "cell_class",
        ),
        ({"class": "Tanh", "x": {1, 2}}, TypeError, "JSON values"),
        ({"class": "Tanh", 3: 1}, TypeError, "keys must be strings"),
    ],
)
def test_a_malformed_config_is_refused_with_a_clear_error(
    config: Any, error: type[Exception], fragment: str
) -> None:
    with pytest.raises(error, match="build: .*" + fragment.replace("(", r"\(").replace(")", r"\)")):
        mt.build(config)


def test_a_config_nested_too_deep_is_refused_before_anything_is_built() -> None:
    config: dict[str, Any] = {"class": "Tanh"}
    for _ in range(MAX_CONFIG_DEPTH):
        config = {"class": "Sequential", "modules": [config]}
    with pytest.raises(ValueError, match=f"nested deeper than {MAX_CONFIG_DEPTH} levels"):
        mt.build(config)
    deep: Any = {"class": "Tanh"}
    for _ in range(100_000):  # far beyond Python's recursion limit: checked iteratively
        deep = [deep]
    with pytest.raises(ValueError, match="nested deeper"):
        mt.build({"class": "Sequential", "modules": deep})


def test_a_config_of_too_many_modules_is_refused_before_any_is_built() -> None:
    many = [{"class": "Tanh"}] * MAX_CONFIG_MODULES  # with the Sequential: one too many
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=f"more than {MAX_CONFIG_MODULES} modules"):
            mt.build({"class": "Sequential", "modules": many})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2**20
    assert len(mt.build({"class": "Sequential", "modules": many[1:]})) == MAX_CONFIG_MODULES - 1


def rewrite_config(source: Path, target: Path, change: Callable[[dict[str, Any]], Any]) -> None:
    """Copy checkpoint ``source`` to ``target``, its stored config passed through ``change``."""
    with zipfile.ZipFile(source) as real, zipfile.ZipFile(target, "w") as out:
        for name in real.namelist():
            data = real.read(name)
            if name == "meta.npy":
                meta = json.loads(str(np.load(io.BytesIO(data))))
                change(meta["config"])
                stored = io.BytesIO()
                np.save(stored, np.array(json.dumps(meta)))
                data = stored.getvalue()
            out.writestr(name, data)


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    return lambda config: config["modules"][1].__setitem__(key, value)


@pytest.mark.parametrize(
    "change, error, fragment",
    [
        (_set("hidden_size", 10**9), ValueError, "disagrees with its weights"),
        (_set("input_size", 10**12), ValueError, "disagrees with its weights"),
        (_set("num_layers", 10**9), ValueError, "declares more than 7 parameters"),
        (_set("bidirectional", True), ValueError, "weights missing from the file"),
        (_set("bias", False), ValueError, "weights the config does not make"),
        (_set("hidden_size", "many"), TypeError, "hidden_size must be an int"),
        (_set("class", "Transformer"), ValueError, "'Transformer' is neither a built-in"),
        (_set("cell_class", "GRUCell"), ValueError, "disagrees with its weights"),
        (lambda config: config.__setitem__("modules", 5), TypeError, "'modules' must be a list"),
    ],
)
def test_load_model_refuses_a_config_that_disagrees_with_the_weights_in_bounded_memory(
    tmp_path: Path, change: Callable[[dict[str, Any]], Any], error: type[Exception], fragment: str
) -> None:
    source, hostile = tmp_path / "source.npz", tmp_path / "hostile.npz"
    mt.save(
        source, mt.Sequential(mt.Embedding(7, 3), mt.RecurrentStack("lstm", 3, 4), mt.Dense(4, 7))
    )
    rewrite_config(source, hostile, change)
    tracemalloc.start()
    try:
        with pytest.raises(error, match=fragment):
            mt.load_model(hostile)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20  # a billion hidden units would be 16 EB; refused after reading headers


def test_load_model_of_a_checkpoint_with_an_optimizer_and_meta_loads_the_model(
    tmp_path: Path,
) -> None:
    model = mt.GRU(3, 4, seed=0)
    optimizer = mt.optim.Adam(model.parameters())
    path = tmp_path / "checkpoint.npz"
    mt.save(path, model, optimizer, epoch=3)
    loaded = mt.load_model(path)
    x = SEQUENCE.astype(np.float32)
    assert np.array_equal(loaded(x), model(x))


def test_load_model_of_a_missing_file_is_a_file_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"none\.npz"):
        mt.load_model(tmp_path / "none.npz")


def test_save_refuses_a_config_that_is_not_json(tmp_path: Path) -> None:
    class Odd(mt.Dense):
        def config(self) -> dict[str, Any]:
            return {"class": "Odd", "when": object()}

    with pytest.raises(TypeError, match=r"save: Odd\.config"):
        mt.save(tmp_path / "odd.npz", Odd(2, 2))
    assert not (tmp_path / "odd.npz").exists()


@pytest.mark.parametrize(
    "key, value, error, fragment",
    [
        ("hidden_size", 10**9, ValueError, "disagrees with its weights"),
        ("src_vocab", 10**12, ValueError, "disagrees with its weights"),
        ("attention", "general", ValueError, "weights the config does not make"),
        ("attention", "cosine", ValueError, "score must be one of"),
        ("cell", "Transformer", ValueError, "'Transformer' is neither a built-in"),
        ("cell", ["lstm"], TypeError, "cell must be a name"),
    ],
)
def test_load_model_refuses_a_seq2seq_config_that_disagrees_with_the_weights(
    tmp_path: Path, key: str, value: Any, error: type[Exception], fragment: str
) -> None:
    source, hostile = tmp_path / "source.npz", tmp_path / "hostile.npz"
    mt.save(source, mt.Seq2Seq(7, 9, 4, 5, attention="additive"))
    rewrite_config(source, hostile, lambda config: config.__setitem__(key, value))
    tracemalloc.start()
    try:
        with pytest.raises(error, match=fragment):
            mt.load_model(hostile)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
