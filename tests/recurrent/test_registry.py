"""The cell registry: one map from a name to a cell class and its defaults."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.recurrent import registry


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(registry._CELLS)
    yield
    registry._CELLS.clear()
    registry._CELLS.update(saved)


def test_built_in_names_build_their_cells_with_the_registered_defaults() -> None:
    assert mt.recurrent.cell_names()[:4] == ("rnn", "irnn", "gru", "lstm")
    lstm = mt.recurrent.make_cell("lstm", 3, 4, seed=0)
    assert isinstance(lstm, mt.LSTMCell)
    np.testing.assert_array_equal(lstm.bias_ih.data[4:8], 1.0)  # forget gate: i, f, g, o
    np.testing.assert_array_equal(lstm.bias_hh.data[4:8], 0.0)
    irnn = mt.recurrent.make_cell("irnn", 3, 4, seed=0)
    np.testing.assert_array_equal(irnn.weight_hh.data, np.eye(4))
    assert isinstance(mt.recurrent.make_cell("gru", 3, 4), mt.GRUCell)


def test_the_callers_options_override_the_registered_defaults() -> None:
    lstm = mt.recurrent.make_cell("lstm", 3, 4, forget_bias=0.0, seed=0)
    assert not np.all(lstm.bias_ih.data[4:8] == 1.0)


def test_a_cell_class_is_accepted_as_it_is_without_defaults() -> None:
    cell_class, defaults = mt.recurrent.resolve_cell(mt.LSTMCell)
    assert cell_class is mt.LSTMCell and defaults == {}


def test_a_users_cell_joins_by_name(restore_registry: None) -> None:
    class Mine(mt.RNNCell):
        pass

    mt.recurrent.register_cell("mine", Mine, nonlinearity="relu")
    assert "mine" in mt.recurrent.cell_names()
    cell = mt.recurrent.make_cell("mine", 2, 3, seed=1)
    assert isinstance(cell, Mine) and cell.nonlinearity == "relu"


def test_an_unknown_name_lists_the_registered_ones() -> None:
    with pytest.raises(
        ValueError, match=r"unknown cell 'nope'; choose one of rnn, irnn, gru, lstm"
    ):
        mt.recurrent.make_cell("nope", 2, 3)


@pytest.mark.parametrize("bad", [3, None, object, mt.Dense])
def test_registering_or_resolving_something_that_is_not_a_cell_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="RecurrentCell"):
        mt.recurrent.resolve_cell(bad)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="register_cell"):
        mt.recurrent.register_cell("bad", bad)  # type: ignore[arg-type]
