"""Trainer with several inputs: ``fit((a, b), y)`` slices every part per batch, shuffled together,
and calls ``model.forward(a_batch, b_batch)``; metrics leave out ``ignore_index`` targets."""

from __future__ import annotations

import numpy as np
import pytest

from minitorch_rnn.layers import Dense, Embedding
from minitorch_rnn.losses import CrossEntropyLoss
from minitorch_rnn.module import Module
from minitorch_rnn.optim import SGD, Adam
from minitorch_rnn.training import Trainer

VOCAB = 5
PAD = -1


class ShiftModel(Module):
    """Two integer inputs: ``ids (B, T)`` and ``shift (B,)``; logits ``(B, T, VOCAB)``.

    ``logits = Dense(tanh(embed_ids(ids) + embed_shift(shift)[:, None]))``: enough to learn
    ``(ids + shift) % VOCAB``, which needs both inputs.
    """

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        self.embed_ids = Embedding(VOCAB, 16, seed=seed)
        self.embed_shift = Embedding(VOCAB, 16, seed=seed + 1)
        self.output = Dense(16, VOCAB, seed=seed + 2)
        self.hidden: np.ndarray | None = None

    def forward(self, ids: np.ndarray, shift: np.ndarray) -> np.ndarray:
        self.hidden = np.tanh(
            self.embed_ids.forward(ids) + self.embed_shift.forward(shift)[:, None, :]
        )
        return self.output.forward(self.hidden)

    def backward(self, grad_output: np.ndarray) -> None:
        assert self.hidden is not None
        grad_sum = self.output.backward(grad_output) * (1 - self.hidden**2)
        self.embed_ids.backward(grad_sum)
        self.embed_shift.backward(grad_sum.sum(axis=1))


def _shift_model(seed: int = 0) -> ShiftModel:
    return ShiftModel(seed)


def _shift_data(samples: int, seed: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """``ids (N, 6)``, ``shift (N,)``, target ``(ids + shift) % VOCAB`` padded with PAD after a
    random length."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, VOCAB, size=(samples, 6))
    shift = rng.integers(0, VOCAB, size=samples)
    target = (ids + shift[:, None]) % VOCAB
    lengths = rng.integers(2, 7, size=samples)
    target[np.arange(6)[None, :] >= lengths[:, None]] = PAD
    return (ids, shift), target


def test_fit_trains_a_two_input_model_and_evaluate_and_predict_take_the_tuple() -> None:
    (ids, shift), y = _shift_data(200, seed=0)
    validation = _shift_data(50, seed=1)
    model = _shift_model()
    trainer = Trainer(
        model,
        CrossEntropyLoss(ignore_index=PAD),
        Adam(model.parameters(), lr=0.05),
        metrics=("accuracy", "sequence_accuracy"),
    )
    history = trainer.fit(
        (ids, shift), y, epochs=40, batch_size=32, validation_data=validation, progress=False
    )
    assert history["loss"][-1] < 0.2 * history["loss"][0]
    assert history["val_accuracy"][-1] == 1.0 and history["val_sequence_accuracy"][-1] == 1.0
    results = trainer.evaluate(*validation)
    assert results["accuracy"] == history["val_accuracy"][-1]
    predictions = trainer.predict((ids, shift), batch_size=7)
    np.testing.assert_allclose(predictions, model.forward(ids, shift), rtol=1e-6)


class _PairSpy(Module):
    """Records the pairs of inputs it is called with; predicts a constant."""

    def __init__(self) -> None:
        super().__init__()
        self.bias = Dense(1, 2, seed=0)
        self.seen: list[tuple[np.ndarray, np.ndarray]] = []

    def forward(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        self.seen.append((first.copy(), second.copy()))
        return self.bias.forward(np.ones((first.shape[0], 1), dtype=np.float32))

    def backward(self, grad_output: np.ndarray) -> None:
        self.bias.backward(grad_output)


def test_the_parts_of_a_tuple_are_shuffled_together_and_every_sample_is_seen_once() -> None:
    first = np.arange(10)[:, None] * np.ones((1, 3), dtype=np.int64)
    second = np.arange(10) * 10.0
    y = np.zeros(10, dtype=np.int64)
    model = _PairSpy()
    trainer = Trainer(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), seed=3)
    trainer.fit((first, second), y, epochs=1, batch_size=4, progress=False)
    assert [len(a) for a, _ in model.seen] == [4, 4, 2]
    rows = np.concatenate([a[:, 0] for a, _ in model.seen])
    assert sorted(rows.tolist()) == list(range(10)) and rows.tolist() != list(range(10))
    for a, b in model.seen:
        np.testing.assert_array_equal(a[:, 0] * 10.0, b)


def test_a_loader_may_yield_tuples_of_inputs() -> None:
    (ids, shift), y = _shift_data(40, seed=2)
    loader = [((ids[i : i + 10], shift[i : i + 10]), y[i : i + 10]) for i in range(0, 40, 10)]
    model = _shift_model()
    trainer = Trainer(model, CrossEntropyLoss(ignore_index=PAD), SGD(model.parameters(), lr=0.1))
    trainer.fit(loader, epochs=1, validation_data=loader, progress=False)
    assert trainer.evaluate(loader)["loss"] == pytest.approx(
        trainer.evaluate((ids, shift), y)["loss"], rel=1e-6
    )


@pytest.mark.parametrize("call", ["fit", "validation_data", "evaluate", "predict"])
def test_a_tuple_whose_parts_differ_in_first_dimension_is_a_value_error_naming_it(
    call: str,
) -> None:
    (ids, shift), y = _shift_data(20, seed=3)
    bad = (ids, shift[:-1])
    model = _shift_model()
    before = model.state_dict()
    trainer = Trainer(model, CrossEntropyLoss(ignore_index=PAD), SGD(model.parameters(), lr=0.1))
    owner = {
        "fit": "Trainer.fit",
        "validation_data": r"Trainer.fit \(validation_data\)",
        "evaluate": "Trainer.evaluate",
        "predict": "Trainer.predict",
    }[call]
    with pytest.raises(ValueError, match=rf"{owner}: every array of the tuple x .* first dim"):
        if call == "fit":
            trainer.fit(bad, y, progress=False)
        elif call == "validation_data":
            trainer.fit((ids, shift), y, validation_data=(bad, y[:-1]), progress=False)
        elif call == "evaluate":
            trainer.evaluate(bad, y)
        else:
            trainer.predict(bad)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


class _FixedPrediction(Module):
    """Returns the logits it was built with, whatever its two inputs."""

    def __init__(self, logits: np.ndarray) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        return self.logits[second]

    def backward(self, grad_output: np.ndarray) -> None:
        return None


def test_metrics_leave_out_ignored_targets_and_sequence_accuracy_needs_every_counted_one() -> None:
    # 3 samples of 4 steps, 3 classes; predicted classes per sample:
    predicted = np.array([[0, 1, 2, 0], [1, 1, 1, 1], [2, 0, 2, 0]])
    target = np.array(
        [
            [0, 1, 2, 1],  # 3 right, the 4th wrong and counted -> sample wrong
            [1, 1, PAD, PAD],  # wrong steps ignored -> sample right
            [2, 0, 1, PAD],  # 2 right, 1 wrong -> sample wrong
        ]
    )
    logits = np.eye(3, dtype=np.float64)[predicted]
    model = _FixedPrediction(logits)
    trainer = Trainer(
        model,
        CrossEntropyLoss(ignore_index=PAD),
        SGD(Dense(1, 1).parameters(), lr=0.1),
        metrics=("accuracy", "sequence_accuracy"),
    )
    results = trainer.evaluate((np.zeros((3, 1)), np.arange(3)), target, batch_size=2)
    counted = target != PAD
    right = (predicted == target) & counted
    assert results["accuracy"] == right.sum() / counted.sum() == 7 / 9
    assert results["sequence_accuracy"] == 1 / 3
