"""``generate.sample``: token-by-token generation from a recurrent language model."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import minitorch_rnn as mt
from minitorch_rnn.generate import next_token_distribution, sample

VOCABULARY = 7


def language_model(seed: int = 0, cell: str = "gru") -> mt.Sequential:
    """``Embedding(7, 4) -> Unroll(cell(4, 8)) -> Dense(8, 7)``, float64."""
    rng = np.random.default_rng(seed)
    cells = {"gru": mt.GRUCell, "lstm": mt.LSTMCell, "rnn": mt.RNNCell}
    return mt.Sequential(
        mt.Embedding(VOCABULARY, 4, seed=rng, dtype=np.float64),
        mt.Unroll(cells[cell](4, 8, seed=rng, dtype=np.float64)),
        mt.Dense(8, VOCABULARY, seed=rng, dtype=np.float64),
    )


def greedy_by_full_passes(model: mt.Module, prompt: list[int], length: int) -> list[int]:
    """Argmax decoding the slow way: rerun the whole prefix for every new token."""
    probe = copy.deepcopy(model).eval()
    ids = list(prompt)
    for _ in range(length):
        logits = probe.forward(np.array([ids], dtype=np.int64))
        ids.append(int(np.argmax(logits[0, -1])))
    return ids[len(prompt) :]


def test_same_seed_gives_the_same_ids() -> None:
    model = language_model()
    first = sample(model, [0, 3], 20, rng=5)
    second = sample(model, [0, 3], 20, rng=np.random.default_rng(5))
    assert first.dtype == np.int64 and first.shape == (20,)
    np.testing.assert_array_equal(first, second)
    assert ((first >= 0) & (first < VOCABULARY)).all()


def test_another_seed_gives_other_ids() -> None:
    model = language_model()
    assert not np.array_equal(sample(model, [1], 30, rng=1), sample(model, [1], 30, rng=2))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_top_k_one_is_greedy_decoding(cell: str) -> None:
    model = language_model(seed=3, cell=cell)
    prompt = [2, 5, 1]
    expected = greedy_by_full_passes(model, prompt, 15)
    for seed in (0, 1):
        np.testing.assert_array_equal(sample(model, prompt, 15, top_k=1, rng=seed), expected)


def test_stepping_through_a_stacked_stateful_model_equals_full_passes() -> None:
    rng = np.random.default_rng(4)
    model = mt.Sequential(
        mt.Embedding(VOCABULARY, 4, seed=rng, dtype=np.float64),
        mt.LSTM(4, 6, num_layers=2, seed=rng, dtype=np.float64),
        mt.Dense(6, VOCABULARY, seed=rng, dtype=np.float64),
    )
    expected = greedy_by_full_passes(model, [0], 12)
    np.testing.assert_array_equal(sample(model, [0], 12, top_k=1), expected)


def test_stop_id_ends_the_sample_and_is_left_out() -> None:
    model = language_model()
    free = sample(model, [0], 40, rng=9)
    # the token that shows up last for the first time: a stop id with a long prefix before it
    _, first_occurrences = np.unique(free, return_index=True)
    first = int(first_occurrences.max())
    stop_id = int(free[first])
    assert first > 0
    stopped = sample(model, [0], 40, rng=9, stop_id=stop_id)
    np.testing.assert_array_equal(stopped, free[:first])
    assert stop_id not in stopped


def test_length_zero_gives_an_empty_sample() -> None:
    result = sample(language_model(), [0], 0)
    assert result.shape == (0,) and result.dtype == np.int64


@pytest.mark.parametrize("temperature", [0.0, -1.0])
def test_temperature_must_be_positive(temperature: float) -> None:
    with pytest.raises(ValueError, match="temperature must be > 0"):
        sample(language_model(), [0], 5, temperature=temperature)


@pytest.mark.parametrize(
    "start_ids, message",
    [([], "non-empty"), ([[0, 1]], "1-D"), ([0.5], "ints")],
    ids=["empty", "2-D", "floats"],
)
def test_start_ids_must_be_a_non_empty_list_of_ints(start_ids: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sample(language_model(), start_ids, 5)  # type: ignore[arg-type]


def test_top_k_and_length_must_be_valid() -> None:
    with pytest.raises(ValueError, match="top_k must be >= 1"):
        sample(language_model(), [0], 5, top_k=0)
    with pytest.raises(ValueError, match="length must be >= 0"):
        sample(language_model(), [0], -1)


def test_model_without_an_unroll_is_a_value_error() -> None:
    model = mt.Sequential(mt.Embedding(VOCABULARY, 4, seed=0), mt.Dense(4, VOCABULARY, seed=0))
    with pytest.raises(ValueError, match="no Unroll"):
        sample(model, [0], 5)


def test_model_reading_backwards_is_a_value_error() -> None:
    rng = np.random.default_rng(0)
    model = mt.Sequential(
        mt.Embedding(VOCABULARY, 4, seed=rng),
        mt.Unroll(mt.GRUCell(4, 8, seed=rng), reverse=True),
        mt.Dense(8, VOCABULARY, seed=rng),
    )
    with pytest.raises(ValueError, match="backwards"):
        sample(model, [0], 5)


def test_stateful_flags_states_and_training_mode_are_restored() -> None:
    model = language_model()
    unroll = next(m for m in model.modules() if isinstance(m, mt.Unroll))
    unroll.stateful = True
    model.train()
    model.forward(np.array([[1, 2, 3], [4, 5, 6]]))
    carried = unroll.state
    sample(model, [0], 10, rng=0)
    assert unroll.stateful is True
    assert unroll.state is carried
    assert model.training and all(m.training for m in model.modules())


def test_non_stateful_model_stays_non_stateful_and_in_eval_mode() -> None:
    model = language_model().eval()
    unroll = next(m for m in model.modules() if isinstance(m, mt.Unroll))
    sample(model, [0], 10, rng=0)
    assert unroll.stateful is False and unroll.state is None
    assert not any(m.training for m in model.modules())


def test_flags_are_restored_when_generation_fails_midway() -> None:
    model = language_model().train()
    unroll = next(m for m in model.modules() if isinstance(m, mt.Unroll))
    with pytest.raises(ValueError, match="Embedding"):
        sample(model, [VOCABULARY + 3], 5)  # an id the embedding does not have
    assert unroll.stateful is False and unroll.state is None and model.training


def test_sampling_does_not_disturb_a_carried_stream() -> None:
    model = language_model()
    unroll = next(m for m in model.modules() if isinstance(m, mt.Unroll))
    unroll.stateful = True
    reference = copy.deepcopy(model)
    chunks = [np.array([[1, 2]]), np.array([[3, 4]])]
    model.forward(chunks[0])
    reference.forward(chunks[0])
    sample(model, [0], 8, rng=0)
    np.testing.assert_allclose(model.forward(chunks[1]), reference.forward(chunks[1]), rtol=1e-12)


def test_a_stacked_layer_reports_its_carried_state_after_sampling() -> None:
    stack = mt.GRU(4, 6, num_layers=2, stateful=True, seed=0, dtype=np.float64)
    model = mt.Sequential(
        mt.Embedding(VOCABULARY, 4, seed=0, dtype=np.float64),
        stack,
        mt.Dense(6, VOCABULARY, seed=0, dtype=np.float64),
    )
    model.forward(np.array([[1, 2], [3, 4], [5, 6]]))
    carried = stack.state.copy()
    sample(model, [0], 4, rng=0)
    assert stack.state.shape == carried.shape
    np.testing.assert_array_equal(stack.state, carried)


def test_next_token_distribution_with_temperature_and_top_k() -> None:
    logits = np.array([2.0, 1.0, 0.0, -1.0])
    np.testing.assert_allclose(next_token_distribution(logits).sum(), 1.0)
    cold = next_token_distribution(logits, temperature=0.1)
    assert cold[0] > 0.99
    hot = next_token_distribution(logits, temperature=100.0)
    np.testing.assert_allclose(hot, 0.25, atol=0.01)
    top_two = next_token_distribution(logits, top_k=2)
    assert not top_two[2:].any()
    np.testing.assert_allclose(top_two[:2], [np.e / (np.e + 1), 1 / (np.e + 1)])


@pytest.mark.parametrize(
    "arguments, error, message",
    [
        ({"temperature": float("nan")}, ValueError, "sample: temperature must be finite"),
        ({"temperature": float("inf")}, ValueError, "sample: temperature must be finite"),
        ({"temperature": "hot"}, TypeError, "sample: temperature must be a real number"),
        ({"top_k": 2.5}, TypeError, "sample: top_k must be an int"),
        ({"top_k": True}, TypeError, "sample: top_k must be an int"),
        ({"length": 2.5}, TypeError, "sample: length must be an int"),
        ({"stop_id": 0.5}, TypeError, "sample: stop_id must be an int or None"),
    ],
    ids=["nan", "inf", "string", "float-top-k", "bool-top-k", "float-length", "float-stop"],
)
def test_bad_sampling_arguments_are_rejected_naming_sample_and_the_argument(
    arguments: dict[str, object], error: type[Exception], message: str
) -> None:
    options: dict[str, object] = {"length": 5, **arguments}
    with pytest.raises(error, match=message):
        sample(language_model(), [0], **options)  # type: ignore[arg-type]


def test_a_model_returning_one_vector_per_sequence_is_a_clear_value_error() -> None:
    model = mt.Sequential(
        mt.Embedding(5, 3, seed=0),
        mt.Unroll(mt.GRUCell(3, 4, seed=0), return_sequences=False),
        mt.Dense(4, 5, seed=0),
    )
    with pytest.raises(
        ValueError, match=r"sample: the model must return logits of shape \(B, T, V\)"
    ):
        sample(model, [0], 3)
