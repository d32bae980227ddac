"""``mt.summary``: the table's rows, shapes and counts, and a forward that leaves no trace."""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.cli import main


def _rows(table: str) -> dict[str, list[str]]:
    """Module label (type name in brackets, indentation stripped) -> the other columns."""
    lines = table.splitlines()
    body = lines[2 : lines.index(lines[1], 2)]
    rows = {}
    for line in body:
        label, _, rest = line.strip().partition(")")
        rows[label + ")"] = rest.split()
    return rows


def test_sequential_rows_show_output_shapes_and_subtree_counts():
    model = mt.Sequential(mt.LSTM(2, 8, seed=0), mt.Dense(8, 1, seed=0))
    table = mt.summary(model, input_shape=(4, 10, 2))
    rows = _rows(table)
    lstm_count = 4 * 8 * (2 + 8) + 2 * 4 * 8
    assert rows["(Sequential)"] == ["(4,", "10,", "1)", f"{lstm_count + 9:,}"]
    assert rows["0 (LSTM)"] == ["(4,", "10,", "8)", f"{lstm_count:,}"]
    assert rows["1 (Dense)"] == ["(4,", "10,", "1)", "9"]
    assert rows["0.layer0.cell (LSTMCell)"] == ["-", f"{lstm_count:,}"]
    assert f"Total params: {model.num_parameters():,}" in table
    assert f"Trainable params: {model.num_parameters():,}" in table


def test_without_input_shape_there_is_no_shape_column_and_no_forward():
    model = mt.Sequential(mt.Dense(3, 4), mt.Tanh())
    table = mt.summary(model)
    assert "Output shape" not in table.splitlines()[0]
    assert _rows(table)["0 (Dense)"] == ["16"]


def test_embedding_models_get_integer_input():
    model = mt.Sequential(mt.Embedding(20, 4, seed=0), mt.GRU(4, 6, seed=0))
    rows = _rows(mt.summary(model, (2, 5)))
    assert rows["0 (Embedding)"] == ["(2,", "5,", "4)", "80"]
    assert rows["1 (GRU)"][:3] == ["(2,", "5,", "6)"]


def test_bidirectional_stack_counts_shared_parameters_once():
    stack = mt.LSTM(3, 4, num_layers=2, bidirectional=True, seed=0)
    table = mt.summary(stack, (1, 5, 3))
    assert _rows(table)["(LSTM)"] == ["(1,", "5,", "8)", f"{stack.num_parameters():,}"]
    # the stack's aliased weight_ih_l0 etc. are the cells' own: counted once
    assert stack.num_parameters() == sum(v.size for v in stack.state_dict().values())


def test_tied_weights_count_once_in_the_total():
    dense = mt.Dense(4, 4, seed=0)
    model = mt.Sequential(dense, mt.Tanh(), dense)
    assert f"Total params: {dense.num_parameters()}" in mt.summary(model)


def test_single_cell_shows_its_state_pair():
    table = mt.summary(mt.LSTMCell(3, 4, seed=0), (2, 3))
    assert _rows(table)["(LSTMCell)"][:4] == ["[(2,", "4),", "(2,", "4)]"]


def test_max_depth_hides_nested_rows():
    model = mt.Sequential(mt.LSTM(2, 3, seed=0), mt.Dense(3, 1))
    assert set(_rows(mt.summary(model, max_depth=1))) == {"(Sequential)", "0 (LSTM)", "1 (Dense)"}


def test_forward_on_zeros_leaves_state_training_flag_and_generators_unchanged():
    stack = mt.GRU(2, 3, num_layers=2, dropout=0.5, stateful=True, seed=0)
    model = mt.Sequential(stack, mt.Dropout(0.3, seed=1), mt.Dense(3, 1, seed=0))
    x = np.random.default_rng(0).standard_normal((2, 4, 2)).astype(np.float32)
    model.forward(x)  # carries a state, fills caches
    carried = stack.state.copy()
    before = {id(m): dict(vars(m)) for m in model.modules()}
    dropout_state = model[1].rng.bit_generator.state
    mt.summary(model, (5, 3, 2))
    assert model.training and stack.training
    np.testing.assert_array_equal(stack.state, carried)
    assert {id(m): dict(vars(m)) for m in model.modules()} == before
    assert model[1].rng.bit_generator.state == dropout_state
    # the next training step behaves as without the summary: backward still has its forward
    model.backward(np.ones((2, 4, 1), np.float32))


@pytest.mark.parametrize(
    ("args", "error", "words"),
    [
        ((np.zeros(3),), TypeError, "model must be a Module"),
        ((mt.Dense(2, 2), "2,3"), TypeError, "input_shape must be a tuple"),
        ((mt.Dense(2, 2), (2, 2.5)), TypeError, "input_shape must be a tuple of ints"),
        ((mt.Dense(2, 2), (0, 2)), ValueError, "sizes must be >= 1"),
        ((mt.Dense(2, 2), (4, 3)), ValueError, r"Dense cannot run on input_shape \(4, 3\)"),
    ],
)
def test_bad_arguments_raise_naming_summary(args, error, words):
    with pytest.raises(error, match=words):
        mt.summary(*args)


@pytest.mark.parametrize(
    ("argv", "first_row"),
    [
        (["subtract", "--bits", "2", "--epochs", "1"], "(Sequential)           (1, 2, 1)"),
        (
            ["dinos", "--epochs", "1", "--hidden", "8", "--samples", "0"],
            "(Sequential)",
        ),
    ],
)
def test_applications_print_the_summary_first_with_summary_flag(argv, first_row):
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main([*argv, "--no-progress", "--summary"]) == 0
    lines = out.getvalue().splitlines()
    table_start = next(i for i, line in enumerate(lines) if line.startswith("Module (type)"))
    assert table_start <= 1  # before training starts: at most the data line comes first
    assert lines[table_start + 2].startswith(first_row)
    assert any(line.startswith("Total params: ") for line in lines)


def test_max_depth_must_be_a_non_negative_int():
    with pytest.raises(TypeError, match=r"summary: max_depth must be an int, got 1\.5"):
        mt.summary(mt.Dense(2, 2), max_depth=1.5)
    with pytest.raises(ValueError, match="summary: max_depth must be >= 0, got -1"):
        mt.summary(mt.Dense(2, 2), max_depth=-1)


def test_the_shape_finding_forward_never_touches_the_model():
    model = mt.Sequential(mt.Dense(3, 2, seed=0))
    model.forward(np.ones((4, 3)))
    pending = model[0].backward  # a pending backward keeps its forward's batch of 4
    mt.summary(model, (7, 3))
    assert pending(np.ones((4, 2))).shape == (4, 3)


def test_frozen_parameters_are_counted_as_non_trainable():
    model = mt.Sequential(mt.Embedding(10, 4), mt.LSTM(4, 8), mt.Dense(8, 10))
    model[0].requires_grad_(False)
    footer = mt.summary(model).splitlines()[-3:]
    total = model.num_parameters()
    assert footer == [
        f"Total params: {total:,}",
        f"Trainable params: {total - 40:,}",
        "Non-trainable params: 40",
    ]
